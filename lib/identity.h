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
#include <jansson.h>
#include "err.h"

#define MX_IDENTITY_PREFIX "mx-identity-v1:"

/* Seal payload under pass: a new string (caller frees), or NULL with e. */
char *mx_identity_seal(const json_t *payload, const char *pass,
    struct mx_err *e);
/* Open a sealed line: the payload (caller's), or NULL with e (MX_LOCAL:
 * malformed, or wrong passphrase). */
json_t *mx_identity_open(const char *line, const char *pass,
    struct mx_err *e);
#endif
