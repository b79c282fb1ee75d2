/*
 * identity: a device identity sealed into one line of text, for a CI job
 * that keeps no state between runs (mx-keys export-identity; MX_IDENTITY).
 * The line is "mx-identity-v1:" and unpadded base64 of
 *   ops (u32) | mem KiB (u32) | salt (16) | nonce (24) | ciphertext
 * where the ciphertext is XChaCha20-Poly1305 of the payload JSON under
 * argon2id(passphrase, salt, ops, mem), the header as associated data.
 * The payload: {"homeserver", "user_id", "device_id", "access_token",
 * "account": base64 of the Olm account pickle}.
 */
#ifndef MX_IDENTITY_H
#define MX_IDENTITY_H
#include <stddef.h>
#include <jansson.h>
#include "err.h"
#include "session.h"

#define MX_IDENTITY_PREFIX "mx-identity-v1:"

/* Seal payload under pass: a new string (caller frees), or NULL with e. */
char *
mx_identity_seal(const json_t *payload, const char *pass, struct mx_err *e);
/* Open a sealed line: the payload (caller's), or NULL with e (MX_LOCAL:
 * malformed, or wrong passphrase). */
json_t *mx_identity_open(const char *line, const char *pass, struct mx_err *e);
/*
 * Open a sealed line into the session s (empty before) and the device's
 * Olm account pickle: *account in secure memory (mx_secure_free), *n
 * bytes.  0, or -1 with e (MX_LOCAL: malformed, incomplete, wrong
 * passphrase) and nothing filled.
 */
int mx_identity_session(const char *line, const char *pass,
    struct mx_session *s, char **account, size_t *n, struct mx_err *e);
#endif
