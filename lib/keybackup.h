/*
 * keybackup: the server-side backup of the user's room keys (spec:
 * Client-Server API, "Server-side key backups",
 * m.megolm_backup.v1.curve25519-aes-sha2) and the way to its key through
 * secret storage (spec: "Secrets", m.secret_storage.v1.aes-hmac-sha2).
 * Everything the server says is checked here: the backup's public key
 * against the key we hold, the signatures on its auth_data, each session
 * against the ID it is filed under.  The maths is in backup.c and ssss.c.
 *
 * json_t results are new references owned by the caller; keys are raw
 * 32-byte buffers the caller owns and wipes.
 */
#ifndef MX_KEYBACKUP_H
#define MX_KEYBACKUP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "devices.h"
#include "err.h"
#include "store.h"

#define MX_KEYBACKUP_ALG "m.megolm_backup.v1.curve25519-aes-sha2"
/* The secret that holds the backup key in secret storage. */
#define MX_KEYBACKUP_SECRET "m.megolm_backup.v1"

/* 1 when priv is the private half of the backup info's (a GET
 * /room_keys/version answer, borrowed) auth_data.public_key, else 0. */
int mx_keybackup_key_matches(const json_t *info, const uint8_t priv[32]);

/*
 * The backup's private key held by this profile, sealed in the store
 * (namespace "keybackup", key "private_key"), so that it can be given to
 * our own verified devices that ask for it (gossip.h).  put keeps priv;
 * get copies it into priv: 1, 0 when none is held, -1 with e.
 */
int mx_keybackup_key_put(struct mx_store *st, const uint8_t priv[32],
    struct mx_err *e);
int
mx_keybackup_key_get(struct mx_store *st, uint8_t priv[32], struct mx_err *e);

/* Secret storage itself (its default key, a passphrase's key): see
 * secrets.h. */

/*
 * The backup key kept in secret storage (account data m.megolm_backup.v1,
 * its part encrypted under key_id), opened with key into priv.  0; -1 with
 * e: MX_NO when key does not open it (MAC), MX_PERM when nothing is
 * stored under key_id, MX_LOCAL when the secret is malformed.
 */
int
mx_keybackup_from_ssss(struct mx_api *a, const char *user, const char *key_id,
    const uint8_t key[32], uint8_t priv[32], struct mx_err *e);

/* Store the backup key priv in secret storage (account data
 * m.megolm_backup.v1), encrypted under key, the key key_id's.  -1 with e. */
int
mx_keybackup_to_ssss(struct mx_api *a, const char *user, const char *key_id,
    const uint8_t key[32], const uint8_t priv[32], struct mx_err *e);

/* Counts of a restore. */
enum {
	MX_KEYBACKUP_NEW,      /* not held before */
	MX_KEYBACKUP_IMPROVED, /* held, now from an earlier index */
	MX_KEYBACKUP_SKIPPED,  /* held already as well or better */
	MX_KEYBACKUP_REJECTED, /* did not decrypt, malformed, or not the
				   session it is filed under */
	MX_KEYBACKUP_NCOUNT
};

/*
 * Keep every session of keys (a GET /room_keys/keys answer, borrowed),
 * decrypted with priv, with provenance MX_INBOUND_BACKUP, in one store
 * transaction.  Each rejected session appends {"room_id","session_id",
 * "reason"} to rejects.  -1 with e, nothing kept, when the store fails.
 */
int mx_keybackup_restore(struct mx_store *st, const json_t *keys,
    const uint8_t priv[32], size_t count[MX_KEYBACKUP_NCOUNT], json_t *rejects,
    struct mx_err *e);

/*
 * The signatures of user on the backup info's auth_data, each judged
 * against l, user's devices (mx_devices_query): an array of
 * {"key":"ed25519:ID","signer":"device"|"master"|"unknown","valid":bool,
 * "trusted":bool}.  A device signature is trusted when valid and the
 * device is verified or cross-signed by a verified master key, or it is
 * this device (own_device, own_ed); a master key's when valid and it is
 * the pinned master key, verified.
 */
json_t *mx_keybackup_signatures(const json_t *info, const char *user,
    const struct mx_devlist *l, const char *own_device, const char *own_ed);

/*
 * Uploading (spec: "Server-side key backups", "Storing keys").  Store rows
 * (public data only):
 *   keybackup/current      {"version","public_key"}: the backup this
 *                          profile uploads its room keys to
 * The sessions not uploaded yet are inbound's queue (mx_inbound_queued).
 */

/*
 * Create a new backup version on the server: a fresh Curve25519 key pair,
 * its auth_data signed by this device (x).  The private key goes to priv,
 * the new version to *version (caller frees); the profile uploads to it
 * from now on, every session held marked to go.  -1 with e.
 */
struct mx_e2ee;
int mx_keybackup_create(struct mx_e2ee *x, uint8_t priv[32], char **version,
    struct mx_err *e);

/*
 * Upload to the backup version (its public key pub64) from now on: the
 * profile's former backup forgotten, every session held marked to go
 * (with !all, not those that came from a backup).  One transaction.
 */
int mx_keybackup_enable(struct mx_store *st, const char *version,
    const char *pub64, int all, struct mx_err *e);
/* 1 when the profile uploads to backup version already, else 0. */
int mx_keybackup_uploads_to(struct mx_store *st, const char *version);

/*
 * Upload the marked sessions to the profile's backup, each from its first
 * known index, encrypted to the backup's public key; *n (may be NULL)
 * how many.  The marks of the sessions uploaded are removed; on failure
 * the rest stay for the next time.  0 when the profile has no backup.
 */
int mx_keybackup_flush(struct mx_api *a, struct mx_store *st, size_t *n,
    struct mx_err *e);

#endif
