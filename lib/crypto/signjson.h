/*
 * signjson: Ed25519 signatures on JSON objects (spec: Appendices,
 * "Signing JSON" and "Checking for a Signature").  The signed bytes are
 * the canonical JSON of the object without its top-level "signatures" and
 * "unsigned"; signatures live at signatures[entity]["ed25519:" key_id] in
 * unpadded base64.
 */
#ifndef MX_SIGNJSON_H
#define MX_SIGNJSON_H

#include <stdint.h>

#include <jansson.h>

#include "crypto.h"
#include "err.h"

/*
 * The bytes a signature covers: canonical JSON of obj minus "signatures"
 * and "unsigned".  obj is not changed.  Returns a new string (caller
 * frees), or NULL with e (MX_LOCAL) when obj is not an object or holds a
 * float or an integer out of range.
 */
char *mx_signjson_signed_bytes(const json_t *obj, struct mx_err *e);

/*
 * Sign obj in place with the Ed25519 signing key sk, adding
 * signatures[entity]["ed25519:" key_id] and keeping every other signature
 * and "unsigned".  key_id is without the "ed25519:" prefix (a device ID or
 * a key's base64); both UTF-8.  0, or -1 with e (MX_LOCAL); obj is
 * unchanged on error.
 */
int mx_signjson_sign(json_t *obj, const char *entity, const char *key_id,
    const uint8_t sk[MX_ED25519_SK_LEN], struct mx_err *e);

/*
 * Check the signature signatures[entity]["ed25519:" key_id] on obj against
 * the public key pub.  0 when present and valid; -1 with e: MX_NO when it
 * is missing, malformed or wrong, MX_LOCAL when obj cannot be
 * canonicalised.
 */
int
mx_signjson_verify(const json_t *obj, const char *entity, const char *key_id,
    const uint8_t pub[MX_ED25519_PUB_LEN], struct mx_err *e);

#endif
