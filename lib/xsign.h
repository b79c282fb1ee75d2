/*
 * xsign: this account's own cross-signing keys (spec: Client-Server API,
 * "Cross-signing"): the master, self-signing and user-signing Ed25519 key
 * pairs made here, published, and the current device signed with the
 * self-signing key.  The private halves (32-byte seeds) live sealed in
 * the store, namespace "xsign", keys "master", "self_signing",
 * "user_signing"; secret storage may keep them too (import).
 */
#ifndef MX_XSIGN_H
#define MX_XSIGN_H

#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "err.h"

struct mx_e2ee;

/*
 * Make the three key pairs, publish them (POST keys/device_signing/upload)
 * and sign this device with the self-signing key (POST
 * keys/signatures/upload).  Refused (MX_USAGE) when the store holds keys
 * already, or (MX_PERM) when the account has a master key made elsewhere.
 * A server that asks for user-interactive authentication gets the
 * password c->ask gives (MX_USAGE when c->ask is NULL; a refused password
 * is MX_PERM); when publishing fails, the new keys are forgotten.  Our
 * new master key is then pinned and marked verified.
 */
int mx_xsign_setup(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e);
/* Setup's refusals alone, asked of the store and the server; nothing
 * made.  0, or -1 with e as mx_xsign_setup's. */
int mx_xsign_setup_check(struct mx_ctx *c, struct mx_err *e);

/*
 * q, a /keys/query answer (borrowed), publishes a master key of user that
 * signs its self-signing and user-signing keys: 0, else -1 with e
 * (MX_NO).  mx_xsign_keep asks it before it takes any key.
 */
int
mx_xsign_check_published(const json_t *q, const char *user, struct mx_err *e);

/*
 * Take the three private keys from secret storage (spec: "Storage of the
 * cross-signing private keys": secrets m.cross_signing.master,
 * .self_signing, .user_signing), opened with key, the default key key_id's.
 * All three must be there; then they go through mx_xsign_keep.
 */
int mx_xsign_import(struct mx_e2ee *x, struct mx_ctx *c, const char *key_id,
    const uint8_t key[32], struct mx_err *e);

/*
 * Check and keep our cross-signing private keys, got from elsewhere (from
 * names where in errors: "in secret storage", "from device X"): seeds in
 * the order master, self_signing, user_signing, NULL for one not given
 * (borrowed, at least one).  Each must be the private half of the key the
 * server publishes, and the published master key must sign the published
 * self-signing and user-signing keys (MX_NO otherwise, nothing kept); the
 * ones given are kept as setup keeps them, this device is signed with the
 * self-signing key when it is given, and our master key is marked
 * verified (mx_devices_verify_master) when its private half or the
 * self-signing key is given.  The path of import and of
 * the secrets a verified own device sends (gossip.h).
 */
int mx_xsign_keep(struct mx_e2ee *x, struct mx_ctx *c,
    const uint8_t *const seeds[3], const char *from, struct mx_err *e);

/* The private key (32-byte seed) of usage ("master", "self_signing",
 * "user_signing") into seed when this store holds it: 1, else 0 (-1 on a
 * store error).  The caller wipes seed. */
int mx_xsign_seed(struct mx_ctx *c, const char *usage, uint8_t seed[32],
    struct mx_err *e);

/*
 * Store the three private keys this store holds in secret storage (spec:
 * "Storage of the cross-signing private keys"), encrypted under key, the
 * default key key_id's.  -1 with e (MX_USAGE when the store holds none).
 */
int mx_xsign_to_secrets(struct mx_ctx *c, const char *key_id,
    const uint8_t key[32], struct mx_err *e);

/*
 * The same without the refusals: new keys replace the account's (the
 * server asks for the password).  When publishing fails, the keys this
 * store held before are kept.  Our new master key is pinned in place of
 * the old one (mx_devices_accept) and marked verified.
 */
int mx_xsign_reset(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e);

/*
 * The state, as *out (caller's): {"user_id", "master_key" (base64 or
 * null), "published" (the server's master key is ours), "private_keys"
 * (the names held here), "device_signed" (the server's copy of this
 * device carries a valid signature of the published self-signing key)}.
 */
int mx_xsign_status(struct mx_e2ee *x, struct mx_ctx *c, json_t **out,
    struct mx_err *e);

/*
 * After user's master key (base64) was verified: sign it with our
 * user-signing key and upload the signature (POST keys/signatures/upload),
 * so that our other devices, and theirs, see it.  1 when signed, 0 when
 * this store holds no user-signing key, -1 with e (the server's master
 * key of user is not master: MX_NO).
 */
int mx_xsign_sign_user(struct mx_ctx *c, const char *user, const char *master,
    struct mx_err *e);

/*
 * After our own other device (its Ed25519 key ed, base64) was verified:
 * sign its keys with our self-signing key and upload the signature.  1
 * when signed, 0 when this store holds no self-signing key, -1 with e.
 */
int mx_xsign_sign_own_device(struct mx_ctx *c, const char *device,
    const char *ed, struct mx_err *e);

/* Our master public key (base64, 43 characters + NUL) when this store
 * holds the master key: 1, else 0 (-1 on a store error). */
int mx_xsign_master(struct mx_ctx *c, char out[44], struct mx_err *e);

#endif
