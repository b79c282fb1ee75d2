/*
 * ssss: secret storage (spec: Client-Server API, "Secret storage",
 * m.secret_storage.v1.aes-hmac-sha2); notes in research/crypto.md §7.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "ssss.h"
#include "util.h"
#include "banned.h"

/*
 * Secret storage, "m.secret_storage.v1.aes-hmac-sha2": HKDF-SHA-256 of
 * the key with a zero salt and the secret's name as info gives the AES
 * key then the HMAC key; AES-256-CTR, HMAC-SHA-256 over the ciphertext.
 */
struct ss_keys {
	uint8_t aes[MX_AES_KEY_LEN];
	uint8_t mac[MX_SHA256_LEN];
};

static int
ss_derive(struct ss_keys *k, const uint8_t key[32], const char *name)
{
	return mx_hkdf_sha256((uint8_t *)k, sizeof(*k), NULL, 0, key, 32, name,
	    strlen(name));
}

/* Encrypt n bytes of pt into ct and MAC the ciphertext. */
static int
ss_seal(uint8_t *ct, uint8_t mac[MX_SHA256_LEN], const uint8_t key[32],
    const char *name, const uint8_t iv[MX_AES_IV_LEN], const void *pt,
    size_t n)
{
	struct ss_keys k;
	int r = -1;

	if (ss_derive(&k, key, name) == 0 &&
	    mx_aes256_ctr(ct, k.aes, iv, pt, n) == 0) {
		mx_hmac_sha256(mac, k.mac, sizeof(k.mac), ct, n);
		r = 0;
	}
	mx_wipe(&k, sizeof(k));
	return r;
}

/* Check the MAC of n bytes of ct against want, then decrypt into pt. */
static int
ss_open(uint8_t *pt, const uint8_t key[32], const char *name,
    const uint8_t iv[MX_AES_IV_LEN], const uint8_t want[MX_SHA256_LEN],
    const uint8_t *ct, size_t n)
{
	struct ss_keys k;
	uint8_t mac[MX_SHA256_LEN];
	int r = -1;

	if (ss_derive(&k, key, name) != 0)
		goto out;
	mx_hmac_sha256(mac, k.mac, sizeof(k.mac), ct, n);
	if (mx_ct_eq(mac, want, sizeof(mac)) &&
	    mx_aes256_ctr(pt, k.aes, iv, ct, n) == 0)
		r = 0;
out:
	mx_wipe(&k, sizeof(k));
	return r;
}

json_t *
mx_ssss_encrypt_iv(const uint8_t key[32], const char *name, const char *secret,
    const uint8_t iv[MX_AES_IV_LEN], struct mx_err *e)
{
	size_t n = strlen(secret);
	uint8_t *ct = mx_xmalloc(n + 1), mac[MX_SHA256_LEN];
	char iv64[32], mac64[48], *ct64;
	json_t *o;

	if (ss_seal(ct, mac, key, name, iv, secret, n) != 0) {
		free(ct);
		mx_err_set(e, MX_LOCAL, "secret storage: cannot encrypt");
		return NULL;
	}
	ct64 = mx_b64_encdup(ct, n);
	o = json_pack("{s:s, s:s, s:s}", "iv",
	    mx_b64_enc(iv64, iv, MX_AES_IV_LEN), "ciphertext", ct64, "mac",
	    mx_b64_enc(mac64, mac, sizeof(mac)));
	free(ct64);
	free(ct);
	return o;
}

/* A fresh IV with bit 63 cleared (64- and 128-bit counters agree). */
static void
ss_iv(uint8_t iv[MX_AES_IV_LEN])
{
	mx_random(iv, MX_AES_IV_LEN);
	iv[8] &= 0x7f;
}

json_t *
mx_ssss_encrypt(const uint8_t key[32], const char *name, const char *secret,
    struct mx_err *e)
{
	uint8_t iv[MX_AES_IV_LEN];

	ss_iv(iv);
	return mx_ssss_encrypt_iv(key, name, secret, iv, e);
}

char *
mx_ssss_decrypt(const uint8_t key[32], const char *name, const json_t *enc,
    struct mx_err *e)
{
	uint8_t iv[MX_AES_IV_LEN], want[MX_SHA256_LEN], *ct;
	size_t n = 0;
	char *out = NULL;

	ct = mx_b64_field_dup(enc, "ciphertext", &n);
	if (ct == NULL || mx_b64_field(iv, sizeof(iv), enc, "iv") != 0 ||
	    mx_b64_field(want, sizeof(want), enc, "mac") != 0) {
		mx_err_set(e, MX_LOCAL, "secret storage: malformed secret");
		goto out;
	}
	out = mx_xmalloc(n + 1);
	if (ss_open((uint8_t *)out, key, name, iv, want, ct, n) != 0) {
		mx_err_set(e, MX_LOCAL,
		    "secret storage: wrong key or corrupted secret");
		goto bad;
	}
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL) {
		mx_err_set(e, MX_LOCAL, "secret storage: NUL in secret");
		goto bad;
	}
	goto out;
bad:
	mx_wipe(out, n + 1);
	free(out);
	out = NULL;
out:
	free(ct);
	return out;
}

/* The key check: 32 zero bytes encrypted with the name "" ("Secret
 * storage", "Key storage"). */
static int
ss_check_mac(uint8_t mac[MX_SHA256_LEN], const uint8_t key[32],
    const uint8_t iv[MX_AES_IV_LEN])
{
	static const uint8_t zero[32];
	uint8_t ct[32];

	return ss_seal(ct, mac, key, "", iv, zero, sizeof(zero));
}

json_t *
mx_ssss_key_check_make(const uint8_t key[32], struct mx_err *e)
{
	uint8_t iv[MX_AES_IV_LEN], mac[MX_SHA256_LEN];
	char iv64[32], mac64[48];

	ss_iv(iv);
	if (ss_check_mac(mac, key, iv) != 0) {
		mx_err_set(e, MX_LOCAL,
		    "secret storage: cannot make key check");
		return NULL;
	}
	return json_pack("{s:s, s:s}", "iv", mx_b64_enc(iv64, iv, sizeof(iv)),
	    "mac", mx_b64_enc(mac64, mac, sizeof(mac)));
}

int
mx_ssss_key_check(const uint8_t key[32], const json_t *desc, struct mx_err *e)
{
	uint8_t iv[MX_AES_IV_LEN], want[MX_SHA256_LEN], mac[MX_SHA256_LEN];

	if (!json_is_object(desc))
		return mx_err_set(e, MX_LOCAL,
		    "secret storage: bad key description");
	/* Without iv and mac the description cannot check the key. */
	if (json_object_get(desc, "iv") == NULL &&
	    json_object_get(desc, "mac") == NULL)
		return 0;
	if (mx_b64_field(iv, sizeof(iv), desc, "iv") != 0 ||
	    mx_b64_field(want, sizeof(want), desc, "mac") != 0)
		return mx_err_set(e, MX_LOCAL,
		    "secret storage: bad key check");
	if (ss_check_mac(mac, key, iv) != 0 ||
	    !mx_ct_eq(mac, want, sizeof(mac)))
		return mx_err_set(e, MX_LOCAL, "secret storage: wrong key");
	return 0;
}

int
mx_ssss_passphrase_key(uint8_t *key, size_t len, const char *pass,
    const char *salt, uint32_t iterations, struct mx_err *e)
{
	/* m.pbkdf2: the salt is the string's bytes, not decoded base64.  The
	 * iterations come from account data, which the server can forge:
	 * no more than Element (and a key file of mx) uses. */
	if (iterations == 0 || iterations > MX_SSSS_MAX_ITERATIONS ||
	    len == 0 ||
	    mx_pbkdf2_sha512(key, len, pass, strlen(pass), salt, strlen(salt),
		iterations) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "secret storage: cannot derive key from passphrase");
	return 0;
}
