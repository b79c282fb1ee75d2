/*
 * devreport: one device of the audit (devices.h, mx_devices_audit) as
 * mx-keys devices reports it: its fingerprint read out in groups, the word
 * for its trust, whether it still wants verifying, and its JSON line (spec:
 * Client-Server API, "Key management API", "Cross-signing"; Element shows a
 * session key the same way).  Nothing here asks the server or the store.
 *
 * self_user and self_device name the profile's own user and device:
 * self_user is never NULL, self_device may be (not known).  Strings
 * returned are the caller's to free, words are static, and json_t results
 * are new references owned by the caller.
 */
#ifndef MX_DEVREPORT_H
#define MX_DEVREPORT_H

#include <jansson.h>

#include "devices.h"

/* The Ed25519 key ed in groups of four characters separated by blanks, as
 * a session key is read out to be compared (caller frees). */
char *mx_devreport_fingerprint(const char *ed);

/* "forged" for a device whose self-signature fails, else its trust's
 * name (mx_trust_name). */
const char *mx_devreport_trust(const struct mx_device *d);

/* 1 when d is the profile's own device, else 0. */
int mx_devreport_is_self(const struct mx_device *d, const char *self_user,
    const char *self_device);

/* 1 when d is neither verified by us nor cross-signed by a master key we
 * verified (forged devices are neither), and is not our own device. */
int mx_devreport_unverified(const struct mx_device *d, const char *self_user,
    const char *self_device);

/*
 * The device's line: {"user_id","device_id","display_name","curve25519",
 * "ed25519","fingerprint","self_signed","cross_signed","master_key",
 * "master_verified","trust","identity_changed","first_seen"}, with
 * "last_seen_ts" and "last_seen_ip" for a device of our own user when mine
 * (GET /devices's "devices" array, borrowed) is given, and "current": true
 * for our own device.  A value unknown is null.
 */
json_t *mx_devreport_json(const struct mx_device *d, const char *self_user,
    const char *self_device, const json_t *mine);

#endif
