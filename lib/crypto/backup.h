/*
 * backup: server-side key backup (m.megolm_backup.v1.curve25519-aes-sha2)
 * and the recovery-key text form of 32-byte keys (also the keys of secret
 * storage, ssss.h).  Keys are raw 32-byte buffers the
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
#define MX_RECOVERY_KEY_LEN 59 /* 48 base58 chars + 11 spaces */

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

#endif
