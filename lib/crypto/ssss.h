/*
 * ssss: secret storage (m.secret_storage.v1.aes-hmac-sha2): secrets such
 * as the cross-signing and backup keys, encrypted under a 32-byte key
 * (a recovery key, backup.h, or a passphrase's).  Keys are raw buffers the
 * caller owns; JSON results are new references the caller owns
 * (json_decref); strings are the caller's to wipe and free().
 */
#ifndef MX_SSSS_H
#define MX_SSSS_H

#include <stdint.h>

#include <jansson.h>

#include "crypto.h"
#include "err.h"

/*
 * Secret storage: encrypt the secret string under the 32-byte key for
 * the secret called name; returns {"iv","ciphertext","mac"} (unpadded
 * base64) or NULL.  _iv takes the IV (tests); it is used as given.
 */
json_t *mx_ssss_encrypt(const uint8_t key[32], const char *name,
    const char *secret, struct mx_err *e);
json_t *mx_ssss_encrypt_iv(const uint8_t key[32], const char *name,
    const char *secret, const uint8_t iv[MX_AES_IV_LEN], struct mx_err *e);
/*
 * Decrypt {"iv","ciphertext","mac"} (borrowed; padded or unpadded base64)
 * after checking the MAC.  Returns the NUL-terminated secret (caller
 * wipes and frees) or NULL; a secret holding NUL is refused.
 */
char *mx_ssss_decrypt(const uint8_t key[32], const char *name,
    const json_t *enc, struct mx_err *e);
/*
 * Key check: the key description's "iv" and "mac" for key (encryption of
 * 32 zero bytes with name "").  _make returns {"iv","mac"} or NULL;
 * _check returns 0 when desc (borrowed) has no iv/mac or they match,
 * -1 otherwise.
 */
json_t *mx_ssss_key_check_make(const uint8_t key[32], struct mx_err *e);
int
mx_ssss_key_check(const uint8_t key[32], const json_t *desc, struct mx_err *e);
/*
 * m.pbkdf2 passphrase: PBKDF2-HMAC-SHA-512(pass, the salt string's bytes,
 * iterations) into len bytes (bits / 8, normally 32).
 */
int mx_ssss_passphrase_key(uint8_t *key, size_t len, const char *pass,
    const char *salt, uint32_t iterations, struct mx_err *e);
/* The most iterations a passphrase's m.pbkdf2 may ask for. */
#define MX_SSSS_MAX_ITERATIONS 500000

#endif
