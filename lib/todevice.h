/*
 * todevice: to-device messages, in the clear and through Olm (spec:
 * Client-Server API, "Send-to-Device messaging",
 * "m.olm.v1.curve25519-aes-sha2").  The Olm sessions with each device live
 * sealed in the store, namespace "olm", key the device's Curve25519 key:
 * up to four, the most recently used first.  Each read-modify-write of
 * them is one store transaction, so concurrent processes never reuse a
 * chain key.
 */
#ifndef MX_TODEVICE_H
#define MX_TODEVICE_H

#include <stddef.h>

#include <jansson.h>

#include "account.h"
#include "devices.h"
#include "err.h"

/* A device a message goes to, and whether it could be reached. */
struct mx_todevice_target {
	const struct mx_device *dev; /* borrowed */
	int sent; /* mx_todevice_send_olm: 1 when encrypted for it */
};

/*
 * Send an event of type (content borrowed) Olm-encrypted to the n
 * targets: through the device's newest session, or a new one made from a
 * one-time key claimed for it (its signature checked; spec: "Claiming
 * one-time keys").  A device with neither cannot be reached: its sent
 * stays 0.  One transaction encrypts for all, then one sendToDevice
 * carries them.
 */
int mx_todevice_send_olm(struct mx_e2ee *x, struct mx_todevice_target *t,
    size_t n, const char *type, const json_t *content, struct mx_err *e);

/* Send content (borrowed) of type in the clear to the n targets. */
int
mx_todevice_send_clear(struct mx_e2ee *x, const struct mx_todevice_target *t,
    size_t n, const char *type, const json_t *content, struct mx_err *e);

/*
 * Decrypt the m.room.encrypted to-device content c from sender and check
 * the payload (spec: "Validation of incoming decrypted events"): 0 and
 * *payload (caller's), or -1 with e.  A pre-key message no session
 * matches starts a new session, kept (and its one-time key forgotten)
 * only once the message decrypted.
 */
int mx_todevice_decrypt(struct mx_e2ee *x, const char *sender, const json_t *c,
    json_t **payload, struct mx_err *e);

#endif
