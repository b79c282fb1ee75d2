/* keyexport: round trips, a file written by an independent script
 * (t/unit/data/mkexport.py: hashlib + openssl enc), and refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "keyexport.h"
#include "util.h"
#include "tap.h"

static char *
slurp(const char *path)
{
	struct mx_buf b = MX_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		mx_buf_add(&b, chunk, n);
	fclose(f);
	return mx_buf_detach(&b);
}

static enum mx_keyexport_why
why_of(const char *text, const char *pass)
{
	enum mx_keyexport_why why = MX_KEYEXPORT_OK;
	struct mx_err e;
	char *out;

	out = mx_keyexport_decrypt(text, strlen(text), pass, NULL, &why, &e);
	free(out);
	return out != NULL ? MX_KEYEXPORT_OK : why;
}

static void
test_vector(void)
{
	char *text = slurp("t/unit/data/export.txt");
	char *want = slurp("t/unit/data/export.json");
	enum mx_keyexport_why why;
	struct mx_err e;
	char *got;
	size_t len = 0;

	ok(text != NULL && want != NULL, "vector files read");
	if (text == NULL || want == NULL)
		return;
	got = mx_keyexport_decrypt(text, strlen(text),
	    "correct horse battery staple", &len, &why, &e);
	is_str(got, want, "independently written export decrypts");
	ok(got != NULL && len == strlen(want), "length reported");
	free(got);
	ok(why_of(text, "wrong") == MX_KEYEXPORT_MAC, "wrong passphrase: mac");
	free(text);
	free(want);
}

/* matrix-rust-sdk's TEST_EXPORT (file_encryption/key_export.rs): one
 * round, unpadded base64 in 71-column lines, passphrase "1234". */
static void
test_rust_sdk(void)
{
	char *text = slurp("t/unit/data/export-rust-sdk.txt"), *got;
	struct mx_err e;

	got = text == NULL ? NULL : mx_keyexport_decrypt(text, strlen(text),
	    "1234", NULL, NULL, &e);
	ok(got != NULL && mx_startswith(got, "[{\"algorithm\":"
	    "\"m.megolm.v1.aes-sha2\",\"room_id\":\"!test:localhost\","),
	    "rust-sdk export decrypts");
	ok(got != NULL && strstr(got, "\"session_id\":\"8sdNGgmLft8osylLK9ij3"
	    "IotBLyQQufe/KngiW4Dpq0\"") != NULL, "rust-sdk export session id");
	free(got);
	free(text);
}

static void
test_roundtrip(void)
{
	const char *json = "[{\"room_id\":\"!r:hs\",\"x\":\"\xc3\xa9\"}]";
	struct mx_err e;
	char *text, *got;
	size_t i, lines = 0;

	text = mx_keyexport_encrypt(json, strlen(json), "pass", 10, &e);
	ok(text != NULL, "encrypt");
	if (text == NULL)
		return;
	ok(mx_startswith(text,
	    "-----BEGIN MEGOLM SESSION DATA-----\n"), "armour header");
	ok(strstr(text, "\n-----END MEGOLM SESSION DATA-----\n") != NULL,
	    "armour footer");
	got = mx_keyexport_decrypt(text, strlen(text), "pass", NULL, NULL,
	    &e);
	is_str(got, json, "round trip");
	free(got);
	for (i = 0; text[i] != '\0'; i++)
		lines += text[i] == '\n';
	ok(lines == 4, "132 base64 chars on two lines");
	free(text);
}

/* A long body wraps; re-wrap it at 7 columns with CRLF and it still reads. */
static void
test_wrap(void)
{
	struct mx_buf in = MX_BUF_INIT, re = MX_BUF_INIT;
	struct mx_err e;
	char *text, *got, *p, *body;
	size_t i, col = 0;

	for (i = 0; i < 200; i++)
		mx_buf_adds(&in, "0123456789");
	text = mx_keyexport_encrypt(in.p, in.len, "p", 1, &e);
	ok(text != NULL && strchr(strchr(text, '\n') + 1, '\n') -
	    strchr(text, '\n') == 129, "wrapped at 128 columns");
	body = strchr(text, '\n') + 1;
	mx_buf_adds(&re, "junk before\n-----BEGIN MEGOLM SESSION DATA-----");
	for (p = body; *p != '-'; p++) {
		if (*p == '\n')
			continue;
		if (col++ % 7 == 0)
			mx_buf_adds(&re, "\r\n ");
		mx_buf_add(&re, p, 1);
	}
	mx_buf_adds(&re, "\r\n-----END MEGOLM SESSION DATA-----");
	got = mx_keyexport_decrypt(re.p, re.len, "p", NULL, NULL, &e);
	is_str(got, in.p, "re-wrapped text with CRLF decrypts");
	free(got);
	free(text);
	mx_buf_release(&in);
	mx_buf_release(&re);
}

/* Our file read by the independent reader t/unit/data/readexport.py. */
static void
test_independent_reader(void)
{
	const char *json = "[{\"session_id\":\"abc\",\"n\":\"\xe2\x82\xac\"}]";
	struct mx_err e;
	char *text, got[256] = "";
	FILE *f;
	size_t n = 0;

	text = mx_keyexport_encrypt(json, strlen(json), "s3cret", 1000, &e);
	f = fopen("t/unit/keyexport.tmp", "w");
	if (text == NULL || f == NULL || fputs(text, f) == EOF) {
		ok(0, "write export for python reader");
		free(text);
		if (f != NULL)
			fclose(f);
		return;
	}
	fclose(f);
	f = popen("python3 t/unit/data/readexport.py s3cret "
	    "<t/unit/keyexport.tmp 2>/dev/null", "r");
	if (f != NULL) {
		n = fread(got, 1, sizeof(got) - 1, f);
		got[n] = '\0';
		pclose(f);
	}
	is_str(got, json, "python3 hashlib + openssl enc read our export");
	remove("t/unit/keyexport.tmp");
	free(text);
}

static void
test_refusals(void)
{
	struct mx_err e;
	char *text = mx_keyexport_encrypt("[]", 2, "pw", 2, &e);
	char *bad, *body;

	ok(why_of("hello", "pw") == MX_KEYEXPORT_NOTEXPORT, "no armour");
	ok(why_of("-----BEGIN MEGOLM SESSION DATA-----\nAAAA\n"
	    "-----END MEGOLM SESSION DATA-----\n", "pw") ==
	    MX_KEYEXPORT_NOTEXPORT, "too short");
	ok(why_of("-----BEGIN MEGOLM SESSION DATA-----\n", "pw") ==
	    MX_KEYEXPORT_NOTEXPORT, "no footer");
	ok(why_of(text, "pw") == MX_KEYEXPORT_OK, "good one passes");
	bad = mx_xstrdup(text);
	body = strchr(bad, '\n') + 1;
	body[1] = 'A';	/* "AQ" -> "AA": version byte 0x00 */
	ok(why_of(bad, "pw") == MX_KEYEXPORT_VERSION, "version refused");
	strcpy(bad, text);
	body[10] = body[10] == 'A' ? 'B' : 'A';	/* in the salt */
	ok(why_of(bad, "pw") == MX_KEYEXPORT_MAC, "changed salt: mac");
	strcpy(bad, text);
	body[strlen(body) - 40] ^= 1;
	ok(why_of(bad, "pw") == MX_KEYEXPORT_MAC ||
	    why_of(bad, "pw") == MX_KEYEXPORT_NOTEXPORT, "changed tail");
	strcpy(bad, text);
	body[3] = '*';
	ok(why_of(bad, "pw") == MX_KEYEXPORT_NOTEXPORT, "bad base64");
	/* rounds field: bytes 33..36 are chars 44..49 of the base64 */
	strcpy(bad, text);
	memcpy(body + 44, "////", 4);
	ok(why_of(bad, "pw") == MX_KEYEXPORT_ROUNDS_BAD, "huge rounds");
	{
		uint32_t r = 0;

		ok(mx_keyexport_rounds(text, strlen(text), &r, &e) == 0 &&
		    r == 2, "rounds read without deriving");
		ok(mx_keyexport_rounds("x", 1, &r, &e) != 0,
		    "rounds: not an export");
	}
	ok(mx_keyexport_encrypt("[]", 2, "pw", 0, &e) == NULL,
	    "zero rounds refused on encrypt");
	ok(mx_keyexport_encrypt("[]", 2, "pw", MX_KEYEXPORT_ROUNDS + 1, &e) ==
		NULL,
	    "more rounds than mx (and Element) write: refused");
	free(bad);
	free(text);
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_vector();
	test_rust_sdk();
	test_roundtrip();
	test_wrap();
	test_refusals();
	test_independent_reader();
	return done();
}
