/* keyexport: round trips, a file written by an independent script
 * (t/unit/data/mkexport.py: hashlib + openssl enc), and refusals. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "json.h"

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

	got = text == NULL ?
	    NULL :
	    mx_keyexport_decrypt(text, strlen(text), "1234", NULL, NULL, &e);
	ok(got != NULL &&
		mx_startswith(got,
		    "[{\"algorithm\":"
		    "\"m.megolm.v1.aes-sha2\",\"room_id\":\"!test:"
		    "localhost\","),
	    "rust-sdk export decrypts");
	ok(got != NULL &&
		strstr(got,
		    "\"session_id\":\"8sdNGgmLft8osylLK9ij3"
		    "IotBLyQQufe/KngiW4Dpq0\"") != NULL,
	    "rust-sdk export session id");
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
	ok(mx_startswith(text, "-----BEGIN MEGOLM SESSION DATA-----\n"),
	    "armour header");
	ok(strstr(text, "\n-----END MEGOLM SESSION DATA-----\n") != NULL,
	    "armour footer");
	got = mx_keyexport_decrypt(text, strlen(text), "pass", NULL, NULL, &e);
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
	ok(text != NULL &&
		strchr(strchr(text, '\n') + 1, '\n') - strchr(text, '\n') ==
		    129,
	    "wrapped at 128 columns");
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
		  "<t/unit/keyexport.tmp 2>/dev/null",
	    "r");
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
		  "-----END MEGOLM SESSION DATA-----\n",
	       "pw") == MX_KEYEXPORT_NOTEXPORT,
	    "too short");
	ok(why_of("-----BEGIN MEGOLM SESSION DATA-----\n", "pw") ==
		MX_KEYEXPORT_NOTEXPORT,
	    "no footer");
	ok(why_of(text, "pw") == MX_KEYEXPORT_OK, "good one passes");
	bad = mx_xstrdup(text);
	body = strchr(bad, '\n') + 1;
	body[1] = 'A'; /* "AQ" -> "AA": version byte 0x00 */
	ok(why_of(bad, "pw") == MX_KEYEXPORT_VERSION, "version refused");
	strcpy(bad, text);
	body[10] = body[10] == 'A' ? 'B' : 'A'; /* in the salt */
	ok(why_of(bad, "pw") == MX_KEYEXPORT_MAC, "changed salt: mac");
	strcpy(bad, text);
	body[strlen(body) - 40] ^= 1;
	ok(why_of(bad, "pw") == MX_KEYEXPORT_MAC ||
		why_of(bad, "pw") == MX_KEYEXPORT_NOTEXPORT,
	    "changed tail");
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
			r == 2,
		    "rounds read without deriving");
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

/* --- streaming (mx_keyexport_in_*) ------------------------------------ */

/* A source over text in memory; pass counts the rewinds, flip (>= 0)
 * changes that byte from the second pass on, reads counts bytes given. */
struct mem {
	const char *p;
	size_t n, pos, reads;
	int pass;
	long flip;
};

static long
mem_read(void *u, char *buf, size_t n)
{
	struct mem *m = u;
	size_t k = m->n - m->pos < n ? m->n - m->pos : n, i;

	memcpy(buf, m->p + m->pos, k);
	for (i = 0; i < k; i++)
		if (m->pass > 1 && (long)(m->pos + i) == m->flip)
			buf[i] = buf[i] == 'A' ? 'B' : 'A';
	m->pos += k;
	m->reads += k;
	return (long)k;
}

static int
mem_rewind(void *u)
{
	struct mem *m = u;

	m->pos = 0;
	m->pass++;
	return 0;
}

static int
collect(void *u, const char *p, size_t n, struct mx_err *e)
{
	(void)e;
	mx_buf_add(u, p, n);
	return 0;
}

/* Head, open, read of text through a mem source; the why of the first
 * failure (MX_KEYEXPORT_OK and *out the plaintext when all passed, -1 for
 * a failed read). */
static int
stream(const char *text, size_t n, const char *pass, long flip,
    struct mx_buf *out, struct mem *m)
{
	struct mx_keyexport_src src = { mem_read, mem_rewind, m };
	enum mx_keyexport_why why = MX_KEYEXPORT_OK;
	struct mx_keyexport_in *in;
	struct mx_err e;
	uint32_t rounds;
	int r;

	*m = (struct mem){ text, n, 0, 0, 0, flip };
	in = mx_keyexport_in_new(&src);
	if (mx_keyexport_in_head(in, &rounds, &why, &e) != 0 ||
	    mx_keyexport_in_open(in, pass, &why, &e) != 0)
		r = why;
	else
		r = mx_keyexport_in_read(in, collect, out, &e) == 0 ?
		    MX_KEYEXPORT_OK :
		    -1;
	mx_keyexport_in_free(in);
	return r;
}

static void
test_stream(void)
{
	const char *json = "[{\"room_id\":\"!r:hs\",\"k\":\"\xc3\xa9\"}]";
	struct mx_buf out = MX_BUF_INIT;
	struct mx_err e;
	struct mem m;
	char *text = mx_keyexport_encrypt(json, strlen(json), "pw", 3, &e);
	size_t n = strlen(text), k, bad = 0;

	ok(stream(text, n, "pw", -1, &out, &m) == MX_KEYEXPORT_OK &&
		out.len == strlen(json) && memcmp(out.p, json, out.len) == 0,
	    "stream: round trip");
	ok(m.pass == 2, "stream: the file read in passes, rewound twice");
	{
		/* As nio writes it: one line, unpadded, no final newline. */
		struct mx_buf one = MX_BUF_INIT;
		const char *p;

		for (p = text; *p != '\0'; p++)
			if (*p != '=' && (*p != '\n' || p[1] == '-'))
				mx_buf_add(&one, p, 1);
		while (one.len > 0 && one.p[one.len - 1] == '\n')
			one.len--;
		mx_buf_reset(&out);
		ok(stream(one.p, one.len, "pw", -1, &out, &m) ==
			    MX_KEYEXPORT_OK &&
			out.len == strlen(json),
		    "stream: one unpadded line, no final newline");
		mx_buf_reset(&out);
		ok(stream(one.p, one.len - 5, "pw", -1, &out, &m) !=
			MX_KEYEXPORT_OK,
		    "stream: the footer cut short refused");
		mx_buf_release(&one);
	}
	mx_buf_reset(&out);
	ok(stream(text, n, "wrong", -1, &out, &m) == MX_KEYEXPORT_MAC &&
		out.len == 0,
	    "stream: wrong passphrase, no plaintext");
	/* Cut anywhere before the footer's first dash: never read as good. */
	for (k = 0; k < n - strlen("-----END MEGOLM SESSION DATA-----\n");
	     k++) {
		mx_buf_reset(&out);
		bad +=
		    stream(text, k, "pw", -1, &out, &m) == MX_KEYEXPORT_OK ||
		    out.len != 0;
	}
	ok(bad == 0, "stream: every truncated file refused, no plaintext");
	mx_buf_reset(&out);
	ok(stream(text, n, "pw", (long)(strchr(text, '\n') - text) + 60, &out,
	       &m) == -1,
	    "stream: a file changed between the passes fails the read");
	mx_buf_release(&out);
	free(text);
}

/* A buffer API file truncated: refused, whatever the cut. */
static void
test_truncated(void)
{
	struct mx_err e;
	char *text = mx_keyexport_encrypt("[{\"a\":1}]", 9, "pw", 2, &e), *cut;
	size_t n = strlen(text), k, bad = 0;
	const char *end = "-----END MEGOLM SESSION DATA-----\n";

	/* The body cut short, the footer kept. */
	for (k = strlen("-----BEGIN MEGOLM SESSION DATA-----\n");
	     k < n - strlen(end) - 1; k++) {
		cut = mx_xasprintf("%.*s\n%s", (int)k, text, end);
		bad += why_of(cut, "pw") == MX_KEYEXPORT_OK;
		free(cut);
	}
	ok(bad == 0, "a body cut anywhere, footer kept: refused");
	free(text);
}

/* A header asking for absurd rounds is refused by in_head, which reads
 * the start of the file only and takes no passphrase: no derivation can
 * have begun. */
static void
test_stream_rounds(void)
{
	struct mx_buf big = MX_BUF_INIT, out = MX_BUF_INIT;
	struct mx_keyexport_src src = { mem_read, mem_rewind, NULL };
	enum mx_keyexport_why why = MX_KEYEXPORT_OK;
	struct mx_keyexport_in *in;
	struct mx_err e;
	struct mem m;
	uint32_t rounds = 0;
	char *text, *body;
	size_t i;

	for (i = 0; i < 100000; i++)
		mx_buf_adds(&big, "0123456789");
	text = mx_keyexport_encrypt(big.p, big.len, "pw", 1, &e);
	body = strchr(text, '\n') + 1;
	memcpy(body + 44, "////", 4); /* rounds 0xffff.... */
	m = (struct mem){ text, strlen(text), 0, 0, 0, -1 };
	src.u = &m;
	in = mx_keyexport_in_new(&src);
	ok(mx_keyexport_in_head(in, &rounds, &why, &e) != 0 &&
		why == MX_KEYEXPORT_ROUNDS_BAD &&
		rounds > MX_KEYEXPORT_MAX_ROUNDS,
	    "stream: absurd rounds refused by the header check");
	ok(m.reads < strlen(text) / 10,
	    "stream: ... after reading the start of the file only");
	mx_keyexport_in_free(in);
	ok(stream(text, strlen(text), "pw", -1, &out, &m) ==
		MX_KEYEXPORT_ROUNDS_BAD,
	    "stream: absurd rounds never opened");
	mx_buf_release(&out);
	mx_buf_release(&big);
	free(text);
}

/* --- 100,000 sessions, streamed ------------------------------------------ */

#define MANY 100000

/* Write an export of MANY session entries to f, itself streamed: AES-CTR
 * and HMAC as the JSON is made, base64 in 96-byte blocks. */
static int
write_many(FILE *f, const char *pass)
{
	uint8_t keys[64], head[37], mac[32], blk[96 * 64], ct[sizeof(blk)];
	char line[44], b64[4 * sizeof(blk) / 3 + 4], entry[1024];
	struct mx_hmac256 h;
	struct mx_aes_ctr *c;
	size_t used = 0, i;

	memset(head, 0, sizeof(head));
	head[0] = 1;
	mx_random(head + 1, 32);
	head[17 + 8] &= 0x7f;
	head[36] = 1; /* one round */
	if (mx_pbkdf2_sha512(keys, 64, pass, strlen(pass), head + 1, 16, 1) !=
		0 ||
	    (c = mx_aes_ctr_new(keys, head + 17)) == NULL)
		return -1;
	mx_hmac256_init(&h, keys + 32, 32);
	mx_hmac256_update(&h, head, sizeof(head));
	fputs("-----BEGIN MEGOLM SESSION DATA-----\n", f);
	memcpy(blk, head, sizeof(head));
	used = sizeof(head);
	for (i = 0; i <= MANY + 1; i++) {
		size_t n, k;
		const char *p;

		memset(line, 'A', 43);
		line[43] = '\0';
		if (i == 0)
			snprintf(entry, sizeof(entry), "[");
		else if (i == MANY + 1)
			snprintf(entry, sizeof(entry), "]");
		else
			snprintf(entry, sizeof(entry),
			    "%s{\"algorithm\":\"m.megolm.v1.aes-sha2\","
			    "\"room_id\":\"!r%zu:hs\",\"sender_key\":\"%s\","
			    "\"session_id\":\"s%zu\",\"session_key\":\"%s%s"
			    "%s%s%s\",\"sender_claimed_keys\":{\"ed25519\":"
			    "\"%s\"},\"forwarding_curve25519_key_chain\":[]}",
			    i > 1 ? "," : "", i % 100, line, i, line, line,
			    line, line, line, line);
		for (p = entry, n = strlen(entry); n > 0; p += k, n -= k) {
			k = sizeof(blk) - used < n ? sizeof(blk) - used : n;
			if (mx_aes_ctr_update(c, ct, p, k) != 0)
				return -1;
			mx_hmac256_update(&h, ct, k);
			memcpy(blk + used, ct, k);
			used += k;
			if (used == sizeof(blk)) {
				mx_b64_enc(b64, blk, used);
				fprintf(f, "%s\n", b64);
				used = 0;
			}
		}
	}
	mx_hmac256_final(&h, mac);
	if (used + sizeof(mac) > sizeof(blk)) {
		mx_b64_enc(b64, blk, used - used % 3);
		fprintf(f, "%s\n", b64);
		memmove(blk, blk + used - used % 3, used % 3);
		used %= 3;
	}
	memcpy(blk + used, mac, sizeof(mac));
	used += sizeof(mac);
	mx_b64_enc(b64, blk, used);
	i = strlen(b64);
	while (i % 4 != 0)
		b64[i++] = '=';
	b64[i] = '\0';
	fprintf(f, "%s\n-----END MEGOLM SESSION DATA-----\n", b64);
	mx_aes_ctr_free(c);
	return fflush(f);
}

struct many {
	struct mx_json_items items;
	size_t n, peak, base;
	int last_ok;
};

static size_t
heap_used(void)
{
	return mallinfo2().uordblks;
}

static int
count_item(void *u, const json_t *item, struct mx_err *e)
{
	struct many *m = u;
	char want[32];

	(void)e;
	m->n++;
	snprintf(want, sizeof(want), "s%zu", m->n);
	m->last_ok = mx_json_str(item, "session_id") != NULL &&
	    strcmp(mx_json_str(item, "session_id"), want) == 0;
	return m->last_ok ? 0 : -1;
}

static int
feed_many(void *u, const char *p, size_t n, struct mx_err *e)
{
	struct many *m = u;
	size_t h = heap_used();

	if (h > m->peak)
		m->peak = h;
	return mx_json_items_feed(&m->items, p, n, count_item, m, e);
}

static long
file_read(void *u, char *buf, size_t n)
{
	return (long)fread(buf, 1, n, u);
}

static int
file_rewind(void *u)
{
	return fseek(u, 0, SEEK_SET);
}

static void
test_many(void)
{
	struct many m = { MX_JSON_ITEMS_INIT, 0, 0, 0, 0 };
	struct mx_keyexport_src src = { file_read, file_rewind, NULL };
	struct mx_keyexport_in *in;
	struct mx_err e;
	uint32_t rounds;
	FILE *f = tmpfile();
	long size;

	if (f == NULL || write_many(f, "many") != 0) {
		ok(0, "100000 sessions: file written");
		return;
	}
	size = ftell(f);
	rewind(f);
	src.u = f;
	m.base = heap_used();
	in = mx_keyexport_in_new(&src);
	ok(mx_keyexport_in_head(in, &rounds, NULL, &e) == 0 && rounds == 1 &&
		mx_keyexport_in_open(in, "many", NULL, &e) == 0 &&
		mx_keyexport_in_read(in, feed_many, &m, &e) == 0 &&
		mx_json_items_end(&m.items, &e) == 0,
	    "100000 sessions (%ld MB of file) streamed", size >> 20);
	ok(m.n == MANY && m.last_ok, "... every one of them, in order");
	/* Whole, the file would take its size twice over (text and JSON
	 * tree); streamed, the heap holds one session at a time. */
	ok(m.peak - m.base < (1u << 20),
	    "... with at most 1 MB of heap in use (%zu kB; file %ld kB)",
	    (m.peak - m.base) >> 10, size >> 10);
	mx_keyexport_in_free(in);
	mx_json_items_release(&m.items);
	fclose(f);
}

/* The JSON list splitter alone: chunks cut anywhere, strings holding
 * brackets, commas and escaped quotes; bad lists refused. */
static int
keep_item(void *u, const json_t *item, struct mx_err *e)
{
	(void)e;
	json_array_append(u, (json_t *)item);
	return 0;
}

static int
items_of(const char *text, size_t chunk, json_t *arr)
{
	struct mx_json_items it = MX_JSON_ITEMS_INIT;
	struct mx_err e;
	size_t i, n = strlen(text), k;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i += k) {
		k = n - i < chunk ? n - i : chunk;
		rc = mx_json_items_feed(&it, text + i, k, keep_item, arr, &e);
	}
	if (rc == 0)
		rc = mx_json_items_end(&it, &e);
	mx_json_items_release(&it);
	return rc;
}

static void
test_items(void)
{
	const char *good =
	    " [ {\"a\":\"],[{\\\"\"} ,{\"b\":[1,{\"c\":\"}\"}]},"
	    "\"s\\\\\" ]\n";
	static const char *const bad[] = { "", "[", "[{}", "[{},]", "[,{}]",
		"[{}{}]", "{}", "[{}] x", "[1]", "[{\"a\":}]" };
	json_t *arr;
	size_t chunk, i, fails = 0;

	for (chunk = 1; chunk <= strlen(good); chunk++) {
		arr = json_array();
		fails += items_of(good, chunk, arr) != 0 ||
		    json_array_size(arr) != 3 ||
		    strcmp(mx_json_str(json_array_get(arr, 0), "a"),
			"],[{\"") != 0 ||
		    strcmp(json_string_value(json_array_get(arr, 2)), "s\\") !=
			0;
		json_decref(arr);
	}
	ok(fails == 0, "items: a list cut in chunks of every size");
	arr = json_array();
	ok(items_of("[]", 1, arr) == 0 && json_array_size(arr) == 0,
	    "items: the empty list");
	for (i = 0, fails = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails += items_of(bad[i], 2, arr) == 0;
	ok(fails == 0, "items: malformed lists refused");
	json_decref(arr);
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
	test_stream();
	test_truncated();
	test_stream_rounds();
	test_items();
	test_many();
	return done();
}
