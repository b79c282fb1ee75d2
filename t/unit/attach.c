/* attach: a vector made with `openssl enc -aes-256-ctr` + `openssl dgst`,
 * rust-sdk's real_decrypt vector, round trips in chunks, refusals. */
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "b64.h"
#include "crypto.h"
#include "tap.h"

static const char pt_openssl[] = "Attachments are encrypted with "
    "AES-256-CTR; this text spans several blocks.";
/* openssl enc -aes-256-ctr -K 000102..1f -iv f0e1d2c3b4a596870000..00 */
static const uint8_t ct_openssl[] = {
	0x89, 0x45, 0x56, 0x6f, 0xba, 0x80, 0x45, 0x21, 0x38, 0x75, 0x8b,
	0xd6, 0x4d, 0xa4, 0x95, 0x3f, 0xb0, 0x83, 0xa7, 0xa3, 0xee, 0xf7,
	0x2e, 0x1f, 0xcb, 0xce, 0x33, 0x9c, 0x2b, 0x5e, 0xae, 0x52, 0x29,
	0xca, 0x62, 0x58, 0xf3, 0xfe, 0xf5, 0x1e, 0xa9, 0x55, 0x0b, 0xf2,
	0xae, 0xe6, 0x98, 0xb7, 0x1e, 0x96, 0x33, 0xc8, 0x5f, 0x24, 0x81,
	0x6d, 0x7d, 0x65, 0x63, 0x4e, 0xec, 0x49, 0xad, 0xf3, 0x58, 0x67,
	0x7f, 0x4d, 0x08, 0x90, 0x57, 0xa4, 0x45, 0x80, 0x8f,
};
#define FILE_OPENSSL "{\"v\":\"v2\",\"key\":{\"kty\":\"oct\"," \
	"\"key_ops\":[\"encrypt\",\"decrypt\"],\"alg\":\"A256CTR\"," \
	"\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"ext\":true}," \
	"\"iv\":\"8OHSw7SllocAAAAAAAAAAA\",\"hashes\":{\"sha256\":" \
	"\"utw6JimQLg7Edivo1qHjAAu/XsYSLvvPYKdflMIZsFk\"}}"

/* Decrypt ct (in chunks of step) with the file object text; 0 when the
 * final hash check passes.  The plaintext goes to out. */
static int
dec(const char *filejson, const uint8_t *ct, size_t n, size_t step,
    uint8_t *out)
{
	json_t *file = json_loads(filejson, 0, NULL);
	struct mx_attach *a;
	struct mx_err e;
	size_t i, k;
	int r = -1;

	a = mx_attach_dec_new(file, &e);
	json_decref(file);
	if (a == NULL)
		return -2;
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		if (mx_attach_update(a, out + i, ct + i, k, &e) != 0)
			goto out;
	}
	r = mx_attach_dec_final(a, &e);
out:
	mx_attach_free(a);
	return r;
}

static void
test_openssl(void)
{
	uint8_t key[32], iv[16], out[sizeof(ct_openssl)];
	struct mx_attach *a;
	struct mx_err e;
	json_t *f, *want = json_loads(FILE_OPENSSL, 0, NULL);
	size_t i;

	for (i = 0; i < 32; i++)
		key[i] = i;
	memcpy(iv, "\xf0\xe1\xd2\xc3\xb4\xa5\x96\x87\0\0\0\0\0\0\0\0", 16);
	a = mx_attach_enc_new_with(key, iv);
	for (i = 0; i < sizeof(out); i += 5)
		mx_attach_update(a, out + i, pt_openssl + i,
		    sizeof(out) - i < 5 ? sizeof(out) - i : 5, &e);
	is_mem(out, ct_openssl, sizeof(out), "encrypt = openssl enc");
	f = mx_attach_enc_final(a, &e);
	ok(json_equal(f, want), "file object = openssl's key, iv, hash");
	ok(mx_attach_enc_final(a, &e) == NULL, "second final refused");
	json_decref(f);
	json_decref(want);
	mx_attach_free(a);
	ok(dec(FILE_OPENSSL, ct_openssl, sizeof(out), 7, out) == 0,
	    "openssl vector decrypts");
	is_mem(out, pt_openssl, sizeof(out), "to the plaintext");
}

static void
test_rust_sdk(void)
{
	static const uint8_t ct[] = { 179, 154, 118, 127, 186, 127, 110, 33,
	    203, 33, 33, 134, 67, 100, 173, 46, 235, 27, 215, 172, 36, 26, 75,
	    47, 33, 160 };
	const char *f = "{\"v\":\"v2\",\"key\":{\"kty\":\"oct\",\"key_ops\":"
	    "[\"decrypt\",\"encrypt\"],\"alg\":\"A256CTR\",\"k\":"
	    "\"Voq2nkPme_x8no5-Tjq_laDAdxE6iDbxnlQXxwFPgE4\",\"ext\":true},"
	    "\"iv\":\"i0DovxYdJEcAAAAAAAAAAA\",\"hashes\":{\"sha256\":"
	    "\"ANdt819a8bZl4jKy3Z+jcqtiNICa2y0AW4BBJ/iQRAU\"},"
	    "\"url\":\"mxc://x/y\"}";
	uint8_t out[sizeof(ct) + 1] = { 0 };

	ok(dec(f, ct, sizeof(ct), 100, out) == 0, "rust-sdk vector");
	is_str((char *)out, "It's a secret to everybody", "its plaintext");
}

static void
test_roundtrip(void)
{
	static uint8_t pt[100000], ct[sizeof(pt)], back[sizeof(pt)];
	struct mx_attach *a = mx_attach_enc_new();
	struct mx_err e;
	json_t *f;
	char *s;
	uint8_t iv[16];

	mx_random(pt, sizeof(pt));
	ok(mx_attach_update(a, ct, pt, 33333, &e) == 0 &&
	    mx_attach_update(a, ct + 33333, pt + 33333, sizeof(pt) - 33333,
	    &e) == 0, "encrypt in two chunks");
	f = mx_attach_enc_final(a, &e);
	mx_attach_free(a);
	ok(mx_b64_dec_exact(iv, 16, json_string_value(json_object_get(f,
	    "iv"))) == 0 && memcmp(iv + 8, "\0\0\0\0\0\0\0\0", 8) == 0,
	    "iv: low 8 bytes zero");
	ok(strlen(json_string_value(json_object_get(json_object_get(f, "key"),
	    "k"))) == 43, "k unpadded");
	ok(json_is_true(json_object_get(json_object_get(f, "key"), "ext")),
	    "ext true");
	s = json_dumps(f, 0);
	ok(dec(s, ct, sizeof(ct), 4096, back) == 0, "round trip verifies");
	is_mem(back, pt, sizeof(pt), "round trip plaintext");
	ct[50000] ^= 0x80;
	ok(dec(s, ct, sizeof(ct), 4096, back) == -1, "tampered refused");
	ct[50000] ^= 0x80;
	ok(dec(s, ct, sizeof(ct) - 1, 4096, back) == -1, "truncated refused");
	free(s);
	json_decref(f);
}

/* Replace the first occurrence of from by to in FILE_OPENSSL. */
static int
dec_edited(const char *from, const char *to)
{
	char buf[1024], *p;
	uint8_t out[sizeof(ct_openssl)];

	strcpy(buf, FILE_OPENSSL);
	p = strstr(buf, from);
	if (p == NULL)
		return 99;
	memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	memcpy(p, to, strlen(to));
	return dec(buf, ct_openssl, sizeof(out), 16, out);
}

static void
test_refusals(void)
{
	static const char *bad[][2] = {
		{ "\"v2\"", "\"v1\"" },
		{ "\"v\":\"v2\",", "" },
		{ "\"oct\"", "\"RSA\"" },
		{ "A256CTR", "A128CTR" },
		{ "\"encrypt\",", "" },
		{ "\"decrypt\"", "\"sign\"" },
		{ "[\"encrypt\",\"decrypt\"]", "\"encrypt decrypt\"" },
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh" },
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA" },
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8" },
		{ "\"k\":\"", "\"k\":1,\"x\":\"" },
		{ "8OHSw7SllocAAAAAAAAAAA", "8OHSw7SllocAAAAAAAAA" },
		{ "\"hashes\":{\"sha256\"", "\"hashes\":{\"sha512\"" },
		{ "utw6JimQLg7Edivo1qHjAAu", "vtw6JimQLg7Edivo1qHjAAu" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(dec_edited(bad[i][0], bad[i][1]) < 0, "refused: %s -> %s",
		    bad[i][0], bad[i][1]);
	ok(dec_edited("\"ext\":true", "\"ext\":true,\"x\":0") == 0,
	    "extra JWK fields fine");
	ok(mx_attach_dec_new(NULL, NULL) == NULL, "NULL file refused");
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_openssl();
	test_rust_sdk();
	test_roundtrip();
	test_refusals();
	return done();
}
