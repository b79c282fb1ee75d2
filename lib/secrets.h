/*
 * secrets: reading secret storage (spec: Client-Server API, "Secrets",
 * "Key storage", m.secret_storage.v1.aes-hmac-sha2) on the server: the
 * default key's description, the key of a recovery key or a passphrase
 * checked against it, and one secret opened with it.  Used by the key
 * backup (m.megolm_backup.v1) and the cross-signing keys
 * (m.cross_signing.*).  The maths is in ssss.c.
 *
 * json_t results are new references owned by the caller; keys are raw
 * 32-byte buffers the caller owns and wipes.
 */
#ifndef MX_SECRETS_H
#define MX_SECRETS_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "err.h"

/*
 * Secret storage's default key (account data m.secret_storage.default_key,
 * then m.secret_storage.key.<id>): 1 and *key_id (caller frees) and *desc
 * (the key's description, caller's); 0 when the account has none or it is
 * not m.secret_storage.v1.aes-hmac-sha2; -1 with e.
 */
int mx_secrets_default(struct mx_api *a, const char *user, char **key_id,
    json_t **desc, struct mx_err *e);

/*
 * Whether the account has a default key at all, of any algorithm (a
 * pointer of m.secret_storage.default_key): 1, 0, or -1 with e.  A new
 * default key would hide the secrets of the one there.
 */
int
mx_secrets_has_default(struct mx_api *a, const char *user, struct mx_err *e);

/*
 * The secret-storage key of a passphrase, for the key description desc
 * (its m.pbkdf2 "passphrase" object), checked against desc's iv and mac.
 * 0, or -1 with e: MX_NO for a wrong passphrase, MX_LOCAL when desc has no
 * usable passphrase (or asks for more than MX_SSSS_MAX_ITERATIONS rounds:
 * refused before any work).
 */
int mx_secrets_pass_key(const json_t *desc, const char *pass, uint8_t key[32],
    struct mx_err *e);

/* 0 when key is the one desc describes (its iv and mac), else -1 and e
 * (MX_NO). */
int mx_secrets_key_check(const json_t *desc, const uint8_t key[32],
    struct mx_err *e);

/*
 * The default key of user's secret storage from what the person gave:
 * secret, a passphrase when is_pass, else a recovery key (its base58
 * form).  0 with key and *key_id (caller frees); -1 with e: MX_LOCAL when
 * the account has no secret storage, MX_NO when secret is not its key.
 */
int mx_secrets_open(struct mx_api *a, const char *user, const char *secret,
    int is_pass, uint8_t key[32], char **key_id, struct mx_err *e);

/*
 * The secret name (account data of that type, its part encrypted under
 * key_id), opened with key: the unpadded or padded base64 of exactly 32
 * bytes, into out.  what names it in errors ("backup key").  0; -1 with
 * e: MX_NO when key does not open it (MAC), MX_PERM when nothing is
 * stored under key_id, MX_LOCAL when the secret is malformed.
 */
int mx_secrets_get32(struct mx_api *a, const char *user, const char *name,
    const char *what, const char *key_id, const uint8_t key[32],
    uint8_t out[32], struct mx_err *e);

/* Store the 32 bytes v as secret name (unpadded base64), encrypted under
 * key, the key key_id's; the entries of other keys go.  -1 with e. */
int mx_secrets_put32(struct mx_api *a, const char *user, const char *name,
    const char *what, const char *key_id, const uint8_t key[32],
    const uint8_t v[32], struct mx_err *e);

/*
 * A new secret-storage key (spec: "Secret storage", "Key storage"),
 * made here and sent nowhere: 32 random bytes, or, with pass, PBKDF2 of
 * pass with a fresh random salt (the m.pbkdf2 "passphrase" object of
 * the description, MX_SECRETS_ITERATIONS rounds).  0 with key, *key_id (a
 * new random ID, caller frees) and *desc (the description of
 * m.secret_storage.key.<ID>: algorithm, iv and mac of the key check,
 * passphrase; caller's), checked against key before it is returned; -1
 * with e (MX_LOCAL).
 */
int mx_secrets_new_key(const char *pass, uint8_t key[32], char **key_id,
    json_t **desc, struct mx_err *e);
/* The PBKDF2 rounds of a new passphrase: what Element asks for too. */
#define MX_SECRETS_ITERATIONS 500000

/* Publish desc (borrowed) as the description of key key_id (account data
 * m.secret_storage.key.<key_id>).  -1 with e. */
int mx_secrets_put_key(struct mx_api *a, const char *user, const char *key_id,
    const json_t *desc, struct mx_err *e);

/* Make key_id the default key (account data m.secret_storage.default_key),
 * unless the account has gained a default key meanwhile (MX_PERM: another
 * client made secret storage; it stays).  -1 with e. */
int mx_secrets_set_default(struct mx_api *a, const char *user,
    const char *key_id, struct mx_err *e);

#endif
