/*
 * attach: encrypted attachments v2.  Spec: Client-Server API, "Sending
 * encrypted attachments"; notes in research/crypto.md §5.  The hash covers
 * the ciphertext only, so the decryptor hashes what it is fed and the
 * caller must not use the plaintext before mx_attach_dec_final says yes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attach.h"
#include "b64.h"
#include "util.h"
#include "banned.h"

struct mx_attach {
	int enc;    /* 1 encryptor, 0 decryptor */
	int failed; /* an update failed: the stream is unusable */
	uint8_t key[MX_AES_KEY_LEN];
	uint8_t iv[MX_AES_IV_LEN];
	uint8_t want[MX_SHA256_LEN]; /* decryptor: hashes.sha256 */
	struct mx_aes_ctr *ctr;
	crypto_hash_sha256_state sha;
};

static struct mx_attach *
attach_new(int enc, const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN])
{
	struct mx_attach *a = mx_xcalloc(1, sizeof(*a));

	a->enc = enc;
	memcpy(a->key, key, sizeof(a->key));
	memcpy(a->iv, iv, sizeof(a->iv));
	a->ctr = mx_aes_ctr_new(a->key, a->iv);
	crypto_hash_sha256_init(&a->sha);
	if (a->ctr == NULL) {
		mx_attach_free(a);
		return NULL;
	}
	return a;
}

struct mx_attach *
mx_attach_enc_new_with(const uint8_t key[MX_AES_KEY_LEN],
    const uint8_t iv[MX_AES_IV_LEN])
{
	return attach_new(1, key, iv);
}

struct mx_attach *
mx_attach_enc_new(void)
{
	uint8_t key[MX_AES_KEY_LEN], iv[MX_AES_IV_LEN];
	struct mx_attach *a;

	mx_random(key, sizeof(key));
	/* 8 random bytes, then the 64-bit block counter starting at 0. */
	mx_random(iv, 8);
	memset(iv + 8, 0, 8);
	a = attach_new(1, key, iv);
	mx_wipe(key, sizeof(key));
	return a;
}

/* 1 when the JSON array arr holds the string s. */
static int
has_op(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
is(const json_t *o, const char *k, const char *want)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL && strcmp(s, want) == 0;
}

/* Check the JWK and decode its key into k. */
static int
jwk_key(uint8_t k[MX_AES_KEY_LEN], const json_t *jwk, struct mx_err *e)
{
	const json_t *ops = json_object_get(jwk, "key_ops");
	const char *s = json_string_value(json_object_get(jwk, "k"));
	size_t len = 0;

	if (!json_is_object(jwk) || !is(jwk, "kty", "oct") ||
	    !is(jwk, "alg", "A256CTR") || !json_is_array(ops) ||
	    !has_op(ops, "encrypt") || !has_op(ops, "decrypt") || s == NULL)
		return mx_err_set(e, MX_LOCAL, "attachment: bad key object");
	if (mx_b64url_dec(k, MX_AES_KEY_LEN, &len, s, strlen(s)) != 0 ||
	    len != MX_AES_KEY_LEN) {
		mx_wipe(k, MX_AES_KEY_LEN);
		return mx_err_set(e, MX_LOCAL, "attachment: bad key");
	}
	return 0;
}

static int
b64_field(uint8_t *out, size_t len, const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s == NULL ? -1 : mx_b64_dec_exact(out, len, s);
}

struct mx_attach *
mx_attach_dec_new(const json_t *file, struct mx_err *e)
{
	uint8_t key[MX_AES_KEY_LEN], iv[MX_AES_IV_LEN], want[MX_SHA256_LEN];
	struct mx_attach *a = NULL;

	if (!json_is_object(file) || !is(file, "v", "v2")) {
		mx_err_set(e, MX_LOCAL, "attachment: not version v2");
		return NULL;
	}
	if (jwk_key(key, json_object_get(file, "key"), e) != 0)
		return NULL;
	if (b64_field(iv, sizeof(iv), file, "iv") != 0)
		mx_err_set(e, MX_LOCAL, "attachment: bad iv");
	else if (b64_field(want, sizeof(want), json_object_get(file, "hashes"),
		     "sha256") != 0)
		mx_err_set(e, MX_LOCAL, "attachment: bad sha256 hash");
	else if ((a = attach_new(0, key, iv)) == NULL)
		mx_err_set(e, MX_LOCAL, "attachment: cipher set-up failed");
	else
		memcpy(a->want, want, sizeof(want));
	mx_wipe(key, sizeof(key));
	return a;
}

int
mx_attach_update(struct mx_attach *a, uint8_t *out, const void *in, size_t n,
    struct mx_err *e)
{
	if (a->failed)
		return mx_err_set(e, MX_LOCAL, "attachment: stream failed");
	if (!a->enc)
		crypto_hash_sha256_update(&a->sha, in, n);
	if (mx_aes_ctr_update(a->ctr, out, in, n) != 0) {
		a->failed = 1;
		return mx_err_set(e, MX_LOCAL, "attachment: cipher failed");
	}
	if (a->enc)
		crypto_hash_sha256_update(&a->sha, out, n);
	return 0;
}

/* {"kty":"oct","key_ops":["encrypt","decrypt"],"alg":"A256CTR","k":..} */
static json_t *
jwk_new(const uint8_t key[MX_AES_KEY_LEN])
{
	char k[64];
	json_t *jwk;

	mx_b64url_enc(k, key, MX_AES_KEY_LEN);
	jwk =
	    json_pack("{s:s, s:[s,s], s:s, s:s, s:b}", "kty", "oct", "key_ops",
		"encrypt", "decrypt", "alg", "A256CTR", "k", k, "ext", 1);
	mx_wipe(k, sizeof(k));
	return jwk;
}

json_t *
mx_attach_enc_final(struct mx_attach *a, struct mx_err *e)
{
	uint8_t h[MX_SHA256_LEN];
	char iv[32], hash[64];

	if (!a->enc || a->failed) {
		mx_err_set(e, MX_LOCAL, "attachment: nothing to finish");
		return NULL;
	}
	crypto_hash_sha256_final(&a->sha, h);
	a->failed = 1; /* one final only */
	mx_b64_enc(iv, a->iv, sizeof(a->iv));
	mx_b64_enc(hash, h, sizeof(h));
	return json_pack("{s:s, s:o, s:s, s:{s:s}}", "v", "v2", "key",
	    jwk_new(a->key), "iv", iv, "hashes", "sha256", hash);
}

int
mx_attach_dec_final(struct mx_attach *a, struct mx_err *e)
{
	uint8_t h[MX_SHA256_LEN];

	if (a->enc || a->failed)
		return mx_err_set(e, MX_LOCAL,
		    "attachment: nothing to finish");
	crypto_hash_sha256_final(&a->sha, h);
	a->failed = 1;
	if (!mx_ct_eq(h, a->want, sizeof(h)))
		return mx_err_set(e, MX_LOCAL,
		    "attachment: hash mismatch, file corrupted or tampered");
	return 0;
}

void
mx_attach_free(struct mx_attach *a)
{
	if (a == NULL)
		return;
	if (a->ctr != NULL)
		mx_aes_ctr_free(a->ctr);
	mx_wipe(a, sizeof(*a));
	free(a);
}

/* Run a over in into out, 64 KiB at a time. */
static int
pump(struct mx_attach *a, FILE *in, FILE *out, struct mx_err *e)
{
	uint8_t *buf = mx_xmalloc(1 << 16);
	size_t n;
	int rc = 0;

	while (rc == 0 && (n = fread(buf, 1, 1 << 16, in)) > 0) {
		rc = mx_attach_update(a, buf, buf, n, e);
		if (rc == 0 && fwrite(buf, 1, n, out) != n)
			rc = mx_err_set(e, MX_LOCAL, "cannot write: %s",
			    strerror(errno));
	}
	if (rc == 0 && ferror(in))
		rc = mx_err_set(e, MX_LOCAL, "cannot read: %s",
		    strerror(errno));
	if (rc == 0 && fflush(out) != 0)
		rc = mx_err_set(e, MX_LOCAL, "cannot write: %s",
		    strerror(errno));
	mx_wipe(buf, 1 << 16);
	free(buf);
	return rc;
}

int
mx_attach_encrypt_stream(FILE *in, FILE *out, json_t **file, struct mx_err *e)
{
	struct mx_attach *a = mx_attach_enc_new();
	int rc;

	*file = NULL;
	if (a == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot set up AES-CTR");
	rc = pump(a, in, out, e);
	if (rc == 0 && (*file = mx_attach_enc_final(a, e)) == NULL)
		rc = -1;
	mx_attach_free(a);
	return rc;
}

int
mx_attach_decrypt_stream(const json_t *file, FILE *in, FILE *out,
    struct mx_err *e)
{
	struct mx_attach *a = mx_attach_dec_new(file, e);
	int rc;

	if (a == NULL)
		return -1;
	rc = pump(a, in, out, e);
	if (rc == 0)
		rc = mx_attach_dec_final(a, e);
	mx_attach_free(a);
	return rc;
}
