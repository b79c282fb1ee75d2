/*
 * fuzz_attach: the input is a "file" object, a newline, then ciphertext.
 * Setting up a decryptor from any JSON never crashes; the stream then runs
 * in uneven chunks and the hash check never passes for a ciphertext that
 * differs from what the encryptor hashed (checked by re-encrypting).
 *
 * What is asserted, for every file object the decryptor accepts:
 *   - re-encrypting the plaintext in one piece with the same key and IV
 *     gives back the input ciphertext byte for byte (CTR, whatever the
 *     chunking), and the encryptor's "file" object carries the same key
 *     and IV and the SHA-256 of that ciphertext;
 *   - the decryptor's verdict is yes exactly when hashes.sha256 equals
 *     that SHA-256 (computed here on its own, in one piece);
 *   - the encryptor's "file" object decrypts its own ciphertext with a yes,
 *     to the same plaintext;
 *   - a second final says no.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run(struct mx_attach *a, uint8_t *out, const uint8_t *in, size_t n)
{
	struct mx_err e;
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = 1 + (in[i] % 61);
		if (k > n - i)
			k = n - i;
		if (mx_attach_update(a, out + i, in + i, k, &e) != 0)
			return -1;
	}
	return 0;
}

/* The key, IV and hash a "file" object names; the decryptor accepted it,
 * so each must decode. */
static void
fields(const json_t *file, uint8_t key[MX_AES_KEY_LEN],
    uint8_t iv[MX_AES_IV_LEN], uint8_t hash[MX_SHA256_LEN])
{
	const char *k = json_string_value(json_object_get(json_object_get(
	    file, "key"), "k"));
	size_t n = 0;

	if (k == NULL || mx_b64url_dec(key, MX_AES_KEY_LEN, &n, k,
	    strlen(k)) != 0 || n != MX_AES_KEY_LEN ||
	    mx_b64_field(iv, MX_AES_IV_LEN, file, "iv") != 0 ||
	    mx_b64_field(hash, MX_SHA256_LEN, json_object_get(file, "hashes"),
	    "sha256") != 0)
		abort();
}

/* Re-encrypt pt (n bytes) with the key and IV of file; the ciphertext
 * must be ct again, and the encryptor's own file object must name the
 * same key and IV, the hash of ct, and decrypt ct to pt with a yes. */
static void
reencrypt(const json_t *file, const uint8_t *pt, const uint8_t *ct,
    size_t n)
{
	uint8_t key[MX_AES_KEY_LEN], iv[MX_AES_IV_LEN], want[MX_SHA256_LEN];
	uint8_t key2[MX_AES_KEY_LEN], iv2[MX_AES_IV_LEN], h2[MX_SHA256_LEN];
	uint8_t h[MX_SHA256_LEN], *ct2 = malloc(n + 1), *pt2 = malloc(n + 1);
	struct mx_attach *a;
	struct mx_err e;
	json_t *f2;

	fields(file, key, iv, want);
	mx_sha256(h, ct, n);
	if ((a = mx_attach_enc_new_with(key, iv)) == NULL ||
	    mx_attach_update(a, ct2, pt, n, &e) != 0 ||
	    (f2 = mx_attach_enc_final(a, &e)) == NULL)
		abort();
	mx_attach_free(a);
	if (memcmp(ct2, ct, n) != 0)
		abort();	/* CTR is its own inverse */
	fields(f2, key2, iv2, h2);
	if (memcmp(key2, key, sizeof key) != 0 ||
	    memcmp(iv2, iv, sizeof iv) != 0 || memcmp(h2, h, sizeof h) != 0)
		abort();
	if ((a = mx_attach_dec_new(f2, &e)) == NULL ||
	    run(a, pt2, ct2, n) != 0 || mx_attach_dec_final(a, &e) != 0 ||
	    memcmp(pt2, pt, n) != 0)
		abort();
	mx_attach_free(a);
	json_decref(f2);
	free(ct2);
	free(pt2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const uint8_t *nl = memchr(data, '\n', size);
	uint8_t key[MX_AES_KEY_LEN], iv[MX_AES_IV_LEN], want[MX_SHA256_LEN];
	uint8_t h[MX_SHA256_LEN];
	struct mx_attach *a;
	struct mx_err e;
	json_t *file;
	uint8_t *pt;
	size_t n;
	int yes;

	if (!init && mx_crypto_init() == 0)
		init = 1;
	if (nl == NULL)
		return 0;
	file = json_loadb((const char *)data, (size_t)(nl - data), 0, NULL);
	n = size - (size_t)(nl + 1 - data);
	if ((a = mx_attach_dec_new(file, &e)) == NULL) {
		json_decref(file);
		return 0;
	}
	pt = malloc(n + 1);
	if (run(a, pt, nl + 1, n) != 0)
		abort();
	yes = mx_attach_dec_final(a, &e) == 0;
	if (mx_attach_dec_final(a, &e) == 0)
		abort();	/* a second final must fail */
	mx_attach_free(a);
	fields(file, key, iv, want);
	mx_sha256(h, nl + 1, n);
	if (yes != (memcmp(h, want, sizeof h) == 0))
		abort();	/* the verdict is the hash comparison */
	reencrypt(file, pt, nl + 1, n);
	json_decref(file);
	free(pt);
	return 0;
}
