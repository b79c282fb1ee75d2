/*
 * backupkey: the account's current server-side key backup and the way to
 * its private key from what a person holds: a recovery key (the backup's
 * own key, or secret storage's) or a passphrase for secret storage (spec:
 * Client-Server API, "Server-side key backups", "Secrets", "Recovery
 * key").  Each key from secret storage is checked to be the current
 * backup's: a server may show another backup than the one it holds the
 * key of.  keybackup.h does the rest (restore, upload).
 *
 * json_t results are new references owned by the caller; keys are raw
 * 32-byte buffers the caller owns and wipes.
 */
#ifndef MX_BACKUPKEY_H
#define MX_BACKUPKEY_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "err.h"

/*
 * The server's current backup (GET /room_keys/version), of the one
 * algorithm there is (MX_KEYBACKUP_ALG): 0 and *info; -1 with e: MX_NO
 * when the account has no backup, MX_TEMP for one without a version,
 * MX_LOCAL for another algorithm, else the request's.
 */
int mx_backupkey_current(struct mx_api *a, json_t **info, struct mx_err *e);

/* 1 when user's account has secret storage (a default key), else 0; a
 * failure counts as none. */
int mx_backupkey_ssss_exists(struct mx_api *a, const char *user);

/* 1 when secret storage's default key holds a backup key, else 0; a
 * failure counts as none. */
int mx_backupkey_in_ssss(struct mx_api *a, const char *user);

/*
 * The private key of the backup info (from mx_backupkey_current, borrowed)
 * into priv, from secret: a passphrase of secret storage when is_pass,
 * else a recovery key's text, the backup's own key or secret storage's.
 * 0; -1 with e: MX_NO when the secret opens neither or the key found is
 * not info's, MX_LOCAL when a passphrase is given and the account has no
 * secret storage, else the request's.
 */
int mx_backupkey_open(struct mx_api *a, const char *user, const json_t *info,
    const char *secret, int is_pass, uint8_t priv[32], struct mx_err *e);

#endif
