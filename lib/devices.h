/*
 * devices: other devices' identity keys, as /keys/query gives them, checked
 * and pinned (spec: Client-Server API, "Tracking the device list for a
 * user", "Cross-signing"; device keys are checked against their own
 * self-signature, self-signing keys against the master key, devices
 * against the self-signing key).  The store (namespace "devices", one JSON
 * row per user, public data only) keeps the pinned keys: a device whose
 * keys ever change is a mismatch and is never used again, and a user's
 * lists are queried again only once /sync says they changed.
 *
 * Strings in struct mx_device are owned by the list (mx_devlist_release).
 */
#ifndef MX_DEVICES_H
#define MX_DEVICES_H
#include <stddef.h>
#include <jansson.h>
#include "api.h"
#include "err.h"
#include "olm.h"
#include "store.h"

/* How far a device is trusted, weakest first (names: mx_trust_name). */
enum mx_trust {
	MX_TRUST_UNKNOWN,      /* "unknown-device": no such device known */
	MX_TRUST_MISMATCH,     /* "mismatch": its keys changed, or they do
				   not match what a message claims */
	MX_TRUST_UNVERIFIED,   /* "unverified": its owner has cross-signing
				   keys but did not sign this device */
	MX_TRUST_TOFU,	       /* "tofu": keys as first seen */
	MX_TRUST_CROSS_SIGNED, /* "cross-signed": signed by its owner, whose
				   master key we verified */
	MX_TRUST_VERIFIED,     /* "verified": verified by us */
};

/* The trust of an event whose Megolm key was imported from a file, not
 * received from a device: no device can be named as its sender. */
#define MX_TRUST_UNAUTHENTICATED_NAME "unauthenticated"

struct mx_device {
	char *user_id, *device_id;
	char *name;		    /* display name or NULL */
	char curve[MX_OLM_KEY_B64]; /* Curve25519, base64 */
	char ed[MX_OLM_KEY_B64];    /* Ed25519, base64 */
	enum mx_trust trust;
	int identity_changed; /* its owner's cross-signing keys are not the
				   pinned ones (mx_devices_accept) */
	int xsigned;	      /* signed by the pinned self-signing key,
				 which the pinned master key signs */
	int forged; /* its self-signature fails: listed by mx_devices_audit
		       only, never pinned, never sent a key */
	int master_verified;	     /* we verified the pinned master key */
	char master[MX_OLM_KEY_B64]; /* owner's pinned master key, or "" */
	char master_seen[MX_OLM_KEY_B64]; /* the other master key the server
					     shows when identity_changed,
					     or "" */
	long long first_seen; /* ms when first pinned here; 0: unknown */
};

struct mx_devlist {
	struct mx_device *v;
	size_t n;
};

const char *mx_trust_name(enum mx_trust t);
void mx_devlist_release(struct mx_devlist *l);

/*
 * Append the current devices of the n users to out, from the store, asking
 * the server (one /keys/query) for the users it does not know or whose
 * lists changed.  A device whose self-signature does not verify is left
 * out (never forged); one whose keys changed is listed with MX_TRUST_MISMATCH.  Errors:
 * as mx_api_call, MX_LOCAL for the store.
 */
int
mx_devices_get(struct mx_api *a, struct mx_store *s, const char *const *users,
    size_t n, struct mx_devlist *out, struct mx_err *e);

/* The same, always asked of the server (an audit's answer, outside the
 * syncs that track changes): users first seen this way stay "untracked",
 * asked again before any key is shared with them. */
int mx_devices_query(struct mx_api *a, struct mx_store *s,
    const char *const *users, size_t n, struct mx_devlist *out,
    struct mx_err *e);

/*
 * The audit's view (mx-keys devices): mx_devices_query, then the devices
 * of the answer whose self-signature fails appended with forged set (they
 * are neither stored nor ever returned by mx_devices_get).  *raw, when raw
 * is not NULL, is the server's whole /keys/query answer (caller's).
 */
int mx_devices_audit(struct mx_api *a, struct mx_store *s,
    const char *const *users, size_t n, struct mx_devlist *out, json_t **raw,
    struct mx_err *e);

/* Apply a /sync answer's device_lists ({"changed":[],"left":[]}, may be
 * NULL): their users' lists are queried again when next needed. */
int mx_devices_changed(struct mx_store *s, const json_t *device_lists,
    struct mx_err *e);

/*
 * The device of user whose Curve25519 key is curve (base64): 1 and *out
 * filled (release with mx_device_release), 0 when there is none, -1 on
 * error.  The user's list is fetched when unknown.
 */
int mx_devices_by_curve(struct mx_api *a, struct mx_store *s, const char *user,
    const char *curve, struct mx_device *out, struct mx_err *e);
void mx_device_release(struct mx_device *d);

/*
 * Mark user's device verified, after checking that its Ed25519 key is ed
 * (the fingerprint compared out of band).  MX_NO when it is not.
 */
int mx_devices_verify(struct mx_api *a, struct mx_store *s, const char *user,
    const char *device_id, const char *ed, struct mx_err *e);

/*
 * Mark user's pinned master key verified, after checking that it is
 * master (base64; the key a SAS MAC proved): their devices its
 * self-signing key signs are then "cross-signed".  MX_NO when the pinned
 * key is another or none.
 */
int mx_devices_verify_master(struct mx_store *s, const char *user,
    const char *master, struct mx_err *e);

/*
 * Accept user's changed cross-signing identity: the keys last seen are
 * pinned in place of the first ones, no longer verified, and the devices
 * judged again at the next query.  1 when there was a change to accept,
 * 0 when there was none.
 */
int mx_devices_accept(struct mx_store *s, const char *user, struct mx_err *e);

/* Pure helper, exported for the unit tests: fold one user's part of a
 * /keys/query answer (q) into the stored record rec (created when NULL);
 * returns the new record. */
json_t *mx_devices_merge(json_t *rec, const char *user, const json_t *q);
#endif
