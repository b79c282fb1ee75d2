/*
 * crypto: the primitives Olm, Megolm, SAS and the key files are built on.
 * Thin wrappers over libsodium (curves, hashes, MACs, randomness, wiping)
 * and OpenSSL EVP (AES-256 only: libsodium has no AES-CBC/CTR, and EVP uses
 * AES-NI in constant time).  HKDF and PBKDF2 are written here on libsodium's
 * HMAC because libsodium 1.0.18 has neither.
 *
 * No function here allocates except mx_aes_ctr_new; callers own every
 * buffer.  Functions returning int give 0 on success, -1 on failure.
 */
#ifndef MX_CRYPTO_H
#define MX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MX_X25519_LEN 32 /* public and private Curve25519 keys */
#define MX_ED25519_PUB_LEN 32
#define MX_ED25519_SEED_LEN 32 /* the private key as stored and pickled */
#define MX_ED25519_SK_LEN 64   /* libsodium's expanded secret key */
#define MX_ED25519_SIG_LEN 64
#define MX_SHA256_LEN 32
#define MX_SHA512_LEN 64
#define MX_AES_KEY_LEN 32
#define MX_AES_IV_LEN 16
#define MX_AES_BLOCK 16

/* Initialise libsodium; call once before anything else.  -1 on failure. */
int mx_crypto_init(void);

/* Fill buf with n bytes from the system CSPRNG. */
void mx_random(void *buf, size_t n);
/* Zero n bytes in a way the compiler cannot drop. */
void mx_wipe(void *p, size_t n);
/* 1 when the n bytes at a and b are equal, 0 otherwise; constant time. */
int mx_ct_eq(const void *a, const void *b, size_t n);

/* Curve25519: a fresh key pair, the public key of a private key, and the
 * shared secret (-1 when the peer key is a low-order point). */
void
mx_x25519_keypair(uint8_t pub[MX_X25519_LEN], uint8_t priv[MX_X25519_LEN]);
void
mx_x25519_pub(uint8_t pub[MX_X25519_LEN], const uint8_t priv[MX_X25519_LEN]);
int mx_x25519(uint8_t shared[MX_X25519_LEN], const uint8_t priv[MX_X25519_LEN],
    const uint8_t peer_pub[MX_X25519_LEN]);

/* Ed25519 from a 32-byte seed: pub and the 64-byte signing key. */
void mx_ed25519_from_seed(uint8_t pub[MX_ED25519_PUB_LEN],
    uint8_t sk[MX_ED25519_SK_LEN], const uint8_t seed[MX_ED25519_SEED_LEN]);
void mx_ed25519_sign(uint8_t sig[MX_ED25519_SIG_LEN], const void *msg,
    size_t n, const uint8_t sk[MX_ED25519_SK_LEN]);
/* 0 when sig is a valid signature of msg by pub, -1 otherwise. */
int mx_ed25519_verify(const uint8_t sig[MX_ED25519_SIG_LEN], const void *msg,
    size_t n, const uint8_t pub[MX_ED25519_PUB_LEN]);

void mx_sha256(uint8_t out[MX_SHA256_LEN], const void *msg, size_t n);
void mx_sha512(uint8_t out[MX_SHA512_LEN], const void *msg, size_t n);
/*
 * Streaming HMAC-SHA-256.  The state is plain memory: copying it after
 * init reuses the keyed state for several messages (HKDF blocks, chain
 * keys).  final wipes it.  SHA-256 itself comes from OpenSSL, which uses
 * the CPU's SHA extensions where there are some (several times faster
 * than libsodium's portable code on the short inputs of Olm and Megolm).
 */
struct mx_hmac256 {
	_Alignas(16) unsigned char in[128], out[128]; /* two SHA-256 states */
};
void mx_hmac256_init(struct mx_hmac256 *h, const void *key, size_t klen);
void mx_hmac256_update(struct mx_hmac256 *h, const void *msg, size_t n);
void mx_hmac256_final(struct mx_hmac256 *h, uint8_t out[MX_SHA256_LEN]);

void mx_hmac_sha256(uint8_t out[MX_SHA256_LEN], const void *key, size_t klen,
    const void *msg, size_t n);
void mx_hmac_sha512(uint8_t out[MX_SHA512_LEN], const void *key, size_t klen,
    const void *msg, size_t n);

/* HKDF-SHA-256 (RFC 5869).  salt may be NULL (then 32 zero bytes).
 * outlen at most 255 * 32. */
int
mx_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
    const void *ikm, size_t ikmlen, const void *info, size_t infolen);

/* PBKDF2-HMAC-SHA-512 (RFC 8018). */
int mx_pbkdf2_sha512(uint8_t *out, size_t outlen, const void *pass,
    size_t passlen, const void *salt, size_t saltlen, uint32_t rounds);

/* AES-256-CBC with PKCS#7 padding.  Encrypt writes n + (16 - n % 16)
 * bytes; mx_aes_cbc_len(n) gives that size.  Decrypt writes at most n
 * bytes and fails on a bad length or bad padding. */
size_t mx_aes_cbc_len(size_t n);
int mx_aes256_cbc_encrypt(uint8_t *out, size_t *outlen,
    const uint8_t key[MX_AES_KEY_LEN], const uint8_t iv[MX_AES_IV_LEN],
    const void *in, size_t n);
int mx_aes256_cbc_decrypt(uint8_t *out, size_t *outlen,
    const uint8_t key[MX_AES_KEY_LEN], const uint8_t iv[MX_AES_IV_LEN],
    const void *in, size_t n);

/* AES-256-CTR, the 16-byte IV being the initial counter block (big-endian
 * increment of the whole block, as the Matrix attachment and key-export
 * formats use).  One shot, and streaming for attachments. */
int mx_aes256_ctr(uint8_t *out, const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN], const void *in, size_t n);
struct mx_aes_ctr;
/* New streaming context (owned by the caller: mx_aes_ctr_free), or NULL. */
struct mx_aes_ctr *mx_aes_ctr_new(const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN]);
int mx_aes_ctr_update(struct mx_aes_ctr *c, uint8_t *out, const void *in,
    size_t n);
void mx_aes_ctr_free(struct mx_aes_ctr *c);

/* Memory for long-lived secrets: sodium_malloc (guard pages, wiped and
 * unmapped by mx_secure_free).  Aborts when out of memory. */
void *mx_secure_alloc(size_t n);
void mx_secure_free(void *p);

#endif
