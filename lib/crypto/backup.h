/*
 * backup: server-side key backup (m.megolm_backup.v1.curve25519-aes-sha2),
 * the recovery-key text form of 32-byte keys, and secret storage
 * (m.secret_storage.v1.aes-hmac-sha2).  Keys are raw 32-byte buffers the
 * caller owns; JSON results are new references the caller owns
 * (json_decref); strings are the caller's to wipe and free().
 */
#ifndef MX_BACKUP_H
#define MX_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto.h"
#include "err.h"

#define MX_BACKUP_KEY_LEN 32
#define MX_RECOVERY_KEY_LEN 59	/* 48 base58 chars + 11 spaces */

/*
 * Encrypt n bytes (the BackedUpSessionData JSON) to the backup public key
 * pub: returns session_data {"ephemeral","ciphertext","mac"} or NULL.
 */
json_t *mx_backup_encrypt(const uint8_t pub[MX_X25519_LEN], const char *in,
    size_t n, struct mx_err *e);
/* The same with a given ephemeral private key (known-answer tests). */
json_t *mx_backup_encrypt_eph(const uint8_t pub[MX_X25519_LEN],
    const uint8_t eph_priv[MX_X25519_LEN], const char *in, size_t n,
    struct mx_err *e);
/*
 * Decrypt session_data (borrowed) with the backup private key.  Returns
 * the plaintext, NUL-terminated, length in *len (may be NULL); caller
 * wipes and frees.  NULL and e set on failure.  The format authenticates
 * nothing (the MAC is of the empty string): treat the result as untrusted.
 */
char *mx_backup_decrypt(const json_t *session_data,
    const uint8_t priv[MX_X25519_LEN], size_t *len, struct mx_err *e);

/*
 * Recovery key text (appendix "Cryptographic key representation"):
 * base58 of 0x8B 0x01 | key | parity, spaces every 4 characters.
 * Encode writes MX_RECOVERY_KEY_LEN + 1 bytes into out.  Decode ignores
 * whitespace and fails on a bad character, length, prefix or parity.
 */
void mx_recovery_key_encode(char out[MX_RECOVERY_KEY_LEN + 1],
    const uint8_t key[MX_BACKUP_KEY_LEN]);
int mx_recovery_key_decode(uint8_t key[MX_BACKUP_KEY_LEN], const char *s,
    struct mx_err *e);

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
int mx_ssss_key_check(const uint8_t key[32], const json_t *desc,
    struct mx_err *e);
/*
 * m.pbkdf2 passphrase: PBKDF2-HMAC-SHA-512(pass, the salt string's bytes,
 * iterations) into len bytes (bits / 8, normally 32).
 */
int mx_ssss_passphrase_key(uint8_t *key, size_t len, const char *pass,
    const char *salt, uint32_t iterations, struct mx_err *e);

#endif
