/*
 * attach: encrypted attachments, version "v2" (Client-Server API,
 * "Sending encrypted attachments").  AES-256-CTR under a random key, the
 * counter block 8 random bytes then 8 zero bytes, and SHA-256 over the
 * ciphertext.  Both directions stream: feed chunks, then finish.  The
 * decryptor's finish checks the hash; until it returns 0 the plaintext
 * written so far must not be trusted (write it to a temporary file and
 * rename only on success).
 */
#ifndef MX_ATTACH_H
#define MX_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "crypto.h"
#include "err.h"

struct mx_attach;

/* A new encryptor with a fresh key and IV; the caller owns it
 * (mx_attach_free), or NULL when the cipher cannot be set up. */
struct mx_attach *mx_attach_enc_new(void);
/* The same with a given key and IV (tests; iv's low 8 bytes should be 0). */
struct mx_attach *mx_attach_enc_new_with(const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN]);

/*
 * A new decryptor from the "file" object of an event (borrowed): checks
 * v == "v2", the JWK (kty oct, alg A256CTR, key_ops with encrypt and
 * decrypt, 32-byte k), a 16-byte iv and a 32-byte hashes.sha256.  The
 * caller owns the result (mx_attach_free); NULL and e set when refused.
 */
struct mx_attach *mx_attach_dec_new(const json_t *file, struct mx_err *e);

/* Process n bytes of in into out (n bytes; out may equal in). -1 on error. */
int mx_attach_update(struct mx_attach *a, uint8_t *out, const void *in,
    size_t n, struct mx_err *e);

/*
 * Encryptor: the "file" object {v, key, iv, hashes} without "url" (the
 * caller adds it after upload); the caller owns it (json_decref).  NULL on
 * error or when a is a decryptor.
 */
json_t *mx_attach_enc_final(struct mx_attach *a, struct mx_err *e);
/* Decryptor: 0 when the ciphertext's SHA-256 matches, -1 otherwise. */
int mx_attach_dec_final(struct mx_attach *a, struct mx_err *e);

/* Wipe and free (NULL is fine). */
void mx_attach_free(struct mx_attach *a);

/*
 * Whole streams: encrypt in (to its end) into out, *file the "file"
 * object without "url" (caller's); decrypt in into out with the "file"
 * object of an event, 0 only when the hash matched (out must then be
 * discarded on -1).  out is flushed.  Errors: MX_LOCAL.
 */
int
mx_attach_encrypt_stream(FILE *in, FILE *out, json_t **file, struct mx_err *e);
int mx_attach_decrypt_stream(const json_t *file, FILE *in, FILE *out,
    struct mx_err *e);

#endif
