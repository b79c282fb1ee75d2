/*
 * crypto: libsodium and OpenSSL EVP wrappers, HKDF (RFC 5869) and PBKDF2
 * (RFC 8018) on libsodium's HMAC.  See crypto.h.
 *
 * Constant time: everything secret goes through libsodium or EVP (AES-NI or
 * OpenSSL's constant-time fallback).  The only code of our own touching
 * secrets is HKDF/PBKDF2, which are fixed sequences of HMAC calls and XORs
 * whose control flow depends on lengths only.
 */
#include <stdlib.h>
#include <string.h>

/* The one-shot and block SHA-256 functions are deprecated in OpenSSL 3 in
 * favour of EVP, whose per-call provider lookups cost more than hashing the
 * few blocks Olm and Megolm hash at a time. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "crypto.h"
#include "banned.h"

int
mx_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
mx_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void
mx_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		sodium_memzero(p, n);
}

int
mx_ct_eq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	return sodium_memcmp(a, b, n) == 0;
}

void
mx_x25519_keypair(uint8_t pub[MX_X25519_LEN], uint8_t priv[MX_X25519_LEN])
{
	randombytes_buf(priv, MX_X25519_LEN);
	crypto_scalarmult_base(pub, priv);
}

void
mx_x25519_pub(uint8_t pub[MX_X25519_LEN], const uint8_t priv[MX_X25519_LEN])
{
	crypto_scalarmult_base(pub, priv);
}

int
mx_x25519(uint8_t shared[MX_X25519_LEN], const uint8_t priv[MX_X25519_LEN],
    const uint8_t peer_pub[MX_X25519_LEN])
{
	/* libsodium refuses an all-zero result (low-order peer point). */
	if (crypto_scalarmult(shared, priv, peer_pub) != 0) {
		sodium_memzero(shared, MX_X25519_LEN);
		return -1;
	}
	return 0;
}

void
mx_ed25519_from_seed(uint8_t pub[MX_ED25519_PUB_LEN],
    uint8_t sk[MX_ED25519_SK_LEN], const uint8_t seed[MX_ED25519_SEED_LEN])
{
	crypto_sign_seed_keypair(pub, sk, seed);
}

void
mx_ed25519_sign(uint8_t sig[MX_ED25519_SIG_LEN], const void *msg, size_t n,
    const uint8_t sk[MX_ED25519_SK_LEN])
{
	crypto_sign_detached(sig, NULL, msg, n, sk);
}

int
mx_ed25519_verify(const uint8_t sig[MX_ED25519_SIG_LEN], const void *msg,
    size_t n, const uint8_t pub[MX_ED25519_PUB_LEN])
{
	return crypto_sign_verify_detached(sig, msg, n, pub) == 0 ? 0 : -1;
}

void
mx_sha256(uint8_t out[MX_SHA256_LEN], const void *msg, size_t n)
{
	SHA256_CTX c;

	/* Not SHA256(): in OpenSSL 3 that one fetches an EVP digest. */
	SHA256_Init(&c);
	SHA256_Update(&c, msg, n);
	SHA256_Final(out, &c);
	sodium_memzero(&c, sizeof c);
}

void
mx_sha512(uint8_t out[MX_SHA512_LEN], const void *msg, size_t n)
{
	crypto_hash_sha512(out, msg, n);
}

_Static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX fits mx_hmac256");

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)), a key longer than a block
 * hashed first. */
void
mx_hmac256_init(struct mx_hmac256 *h, const void *key, size_t klen)
{
	uint8_t k[64], pad[64];
	size_t i;

	memset(k, 0, sizeof k);
	if (klen > sizeof k)
		mx_sha256(k, key, klen);
	else if (klen > 0)
		memcpy(k, key, klen);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init((SHA256_CTX *)h->in);
	SHA256_Update((SHA256_CTX *)h->in, pad, sizeof pad);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init((SHA256_CTX *)h->out);
	SHA256_Update((SHA256_CTX *)h->out, pad, sizeof pad);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
}

void
mx_hmac256_update(struct mx_hmac256 *h, const void *msg, size_t n)
{
	SHA256_Update((SHA256_CTX *)h->in, msg, n);
}

void
mx_hmac256_final(struct mx_hmac256 *h, uint8_t out[MX_SHA256_LEN])
{
	uint8_t inner[MX_SHA256_LEN];

	SHA256_Final(inner, (SHA256_CTX *)h->in);
	SHA256_Update((SHA256_CTX *)h->out, inner, sizeof inner);
	SHA256_Final(out, (SHA256_CTX *)h->out);
	sodium_memzero(inner, sizeof inner);
	sodium_memzero(h, sizeof *h);
}

void
mx_hmac_sha256(uint8_t out[MX_SHA256_LEN], const void *key, size_t klen,
    const void *msg, size_t n)
{
	struct mx_hmac256 h;

	mx_hmac256_init(&h, key, klen);
	mx_hmac256_update(&h, msg, n);
	mx_hmac256_final(&h, out);
}

void
mx_hmac_sha512(uint8_t out[MX_SHA512_LEN], const void *key, size_t klen,
    const void *msg, size_t n)
{
	crypto_auth_hmacsha512_state st;

	crypto_auth_hmacsha512_init(&st, key, klen);
	crypto_auth_hmacsha512_update(&st, msg, n);
	crypto_auth_hmacsha512_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* RFC 5869 section 2.3: T(i) = HMAC(PRK, T(i-1) | info | i). */
static void
hkdf_expand(uint8_t *out, size_t outlen, const uint8_t prk[MX_SHA256_LEN],
    const void *info, size_t infolen)
{
	struct mx_hmac256 key, st;
	uint8_t t[MX_SHA256_LEN];
	size_t done = 0, k;
	unsigned char i;

	/* The keyed state is computed once and copied for every block. */
	mx_hmac256_init(&key, prk, MX_SHA256_LEN);
	for (i = 1; done < outlen; i++) {
		st = key;
		if (i > 1)
			mx_hmac256_update(&st, t, sizeof t);
		mx_hmac256_update(&st, info, infolen);
		mx_hmac256_update(&st, &i, 1);
		mx_hmac256_final(&st, t);
		k = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, k);
		done += k;
	}
	sodium_memzero(&key, sizeof key);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(t, sizeof t);
}

int
mx_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
    const void *ikm, size_t ikmlen, const void *info, size_t infolen)
{
	static const uint8_t zero[MX_SHA256_LEN];
	/* HMAC keyed with the zero salt, which every Olm and Megolm message
	 * key uses: computed once (it is no secret). */
	static struct mx_hmac256 zkey;
	static int zready;
	struct mx_hmac256 st;
	uint8_t prk[MX_SHA256_LEN];

	if (outlen > 255 * MX_SHA256_LEN)
		return -1;
	/* RFC 5869 section 2.2: no salt means HashLen zero bytes. */
	if (salt == NULL) {
		if (!zready) {
			mx_hmac256_init(&zkey, zero, sizeof zero);
			zready = 1;
		}
		st = zkey;
		mx_hmac256_update(&st, ikm, ikmlen);
		mx_hmac256_final(&st, prk);
	} else
		mx_hmac_sha256(prk, salt, saltlen, ikm, ikmlen);
	hkdf_expand(out, outlen, prk, info, infolen);
	sodium_memzero(prk, sizeof prk);
	return 0;
}

/* RFC 8018 section 5.2: F(P, S, c, i) = U_1 ^ U_2 ^ ... ^ U_c. */
static void
pbkdf2_block(uint8_t t[MX_SHA512_LEN], const crypto_auth_hmacsha512_state *key,
    const void *salt, size_t saltlen, uint32_t i, uint32_t rounds)
{
	crypto_auth_hmacsha512_state st;
	uint8_t u[MX_SHA512_LEN], be[4];
	uint32_t r;
	size_t j;

	be[0] = i >> 24;
	be[1] = i >> 16;
	be[2] = i >> 8;
	be[3] = i;
	st = *key;
	crypto_auth_hmacsha512_update(&st, salt, saltlen);
	crypto_auth_hmacsha512_update(&st, be, 4);
	crypto_auth_hmacsha512_final(&st, u);
	memcpy(t, u, sizeof u);
	for (r = 1; r < rounds; r++) {
		st = *key;
		crypto_auth_hmacsha512_update(&st, u, sizeof u);
		crypto_auth_hmacsha512_final(&st, u);
		for (j = 0; j < sizeof u; j++)
			t[j] ^= u[j];
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(u, sizeof u);
}

int
mx_pbkdf2_sha512(uint8_t *out, size_t outlen, const void *pass, size_t passlen,
    const void *salt, size_t saltlen, uint32_t rounds)
{
	crypto_auth_hmacsha512_state key;
	uint8_t t[MX_SHA512_LEN];
	size_t done = 0, k;
	uint32_t i;

	if (rounds == 0 || outlen == 0 || outlen / MX_SHA512_LEN >= UINT32_MAX)
		return -1;
	/* The keyed state is computed once and copied for every HMAC. */
	crypto_auth_hmacsha512_init(&key, pass, passlen);
	for (i = 1; done < outlen; i++) {
		pbkdf2_block(t, &key, salt, saltlen, i, rounds);
		k = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, k);
		done += k;
	}
	sodium_memzero(&key, sizeof key);
	sodium_memzero(t, sizeof t);
	return 0;
}

size_t
mx_aes_cbc_len(size_t n)
{
	return n + (MX_AES_BLOCK - n % MX_AES_BLOCK);
}

/*
 * The ciphers, fetched once: with OpenSSL 3 each EVP_aes_256_*() init
 * otherwise looks the algorithm up in the providers again, which costs
 * more than encrypting a message.
 */
static const EVP_CIPHER *
cipher_of(int ctr)
{
	static EVP_CIPHER *c[2];

	if (c[ctr] == NULL)
		c[ctr] = EVP_CIPHER_fetch(NULL,
		    ctr ? "AES-256-CTR" : "AES-256-CBC", NULL);
	return c[ctr] ? c[ctr] : ctr ? EVP_aes_256_ctr() : EVP_aes_256_cbc();
}

static int
aes_run(const EVP_CIPHER *cipher, int enc, int pad, uint8_t *out,
    size_t *outlen, const uint8_t *key, const uint8_t *iv, const void *in,
    size_t n)
{
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0, rc = -1;

	if (n > INT32_MAX - 2 * MX_AES_BLOCK)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, pad) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &l1, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + l1, &l2) != 1)
		goto out;
	if (outlen != NULL)
		*outlen = (size_t)l1 + (size_t)l2;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
	return rc;
}

int
mx_aes256_cbc_encrypt(uint8_t *out, size_t *outlen,
    const uint8_t key[MX_AES_KEY_LEN], const uint8_t iv[MX_AES_IV_LEN],
    const void *in, size_t n)
{
	return aes_run(cipher_of(0), 1, 1, out, outlen, key, iv, in, n);
}

/*
 * EVP writes the last block into its own buffer and checks the padding
 * there, so out never needs more than n bytes.  A padding failure does
 * leak through the return value: callers authenticate (MAC) the ciphertext
 * before decrypting, as Olm and the key export format both do.
 */
int
mx_aes256_cbc_decrypt(uint8_t *out, size_t *outlen,
    const uint8_t key[MX_AES_KEY_LEN], const uint8_t iv[MX_AES_IV_LEN],
    const void *in, size_t n)
{
	if (n == 0 || n % MX_AES_BLOCK != 0)
		return -1;
	return aes_run(cipher_of(0), 0, 1, out, outlen, key, iv, in, n);
}

int
mx_aes256_ctr(uint8_t *out, const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN], const void *in, size_t n)
{
	struct mx_aes_ctr *c;
	int rc;

	if ((c = mx_aes_ctr_new(key, iv)) == NULL)
		return -1;
	rc = mx_aes_ctr_update(c, out, in, n);
	mx_aes_ctr_free(c);
	return rc;
}

struct mx_aes_ctr {
	EVP_CIPHER_CTX *ctx;
};

struct mx_aes_ctr *
mx_aes_ctr_new(const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN])
{
	struct mx_aes_ctr *c;

	if ((c = malloc(sizeof *c)) == NULL)
		return NULL;
	/* EVP's CTR mode increments the whole 128-bit block big-endian. */
	if ((c->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c->ctx, cipher_of(1), NULL, key, iv) != 1) {
		EVP_CIPHER_CTX_free(c->ctx);
		free(c);
		return NULL;
	}
	return c;
}

int
mx_aes_ctr_update(struct mx_aes_ctr *c, uint8_t *out, const void *in, size_t n)
{
	int l;
	size_t chunk;

	/* EVP takes int lengths: feed large inputs in pieces. */
	while (n > 0) {
		chunk = n > (1u << 30) ? (1u << 30) : n;
		if (EVP_EncryptUpdate(c->ctx, out, &l, in, (int)chunk) != 1 ||
		    (size_t)l != chunk)
			return -1;
		out += chunk;
		in = (const uint8_t *)in + chunk;
		n -= chunk;
	}
	return 0;
}

void
mx_aes_ctr_free(struct mx_aes_ctr *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->ctx);
	free(c);
}

void *
mx_secure_alloc(size_t n)
{
	void *p;

	if ((p = sodium_malloc(n == 0 ? 1 : n)) == NULL)
		abort();
	return p;
}

void
mx_secure_free(void *p)
{
	sodium_free(p);
}
