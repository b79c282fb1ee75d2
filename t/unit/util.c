/*
 * util: the growable buffer, and that a wiped buffer leaves no copy of its
 * contents in freed memory, however often it grew.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "heap.h"
#include "tap.h"
#include "util.h"

static void
test_buf(void)
{
	struct mx_buf b = MX_BUF_INIT;
	char *s;
	int i;

	mx_buf_adds(&b, "abc");
	mx_buf_add(&b, "", 0);
	mx_buf_addf(&b, "-%d-", 42);
	is_str(b.p, "abc-42-", "add, adds and addf append");
	for (i = 0; i < 1000; i++)
		mx_buf_add(&b, "x", 1);
	ok(b.len == 1007 && b.p[b.len] == '\0' && b.cap > b.len,
	    "1,000 more bytes: length %zu, still NUL-terminated", b.len);
	mx_buf_reset(&b);
	ok(b.len == 0 && b.p[0] == '\0', "reset empties it");
	mx_buf_adds(&b, "kept");
	s = mx_buf_detach(&b);
	is_str(s, "kept", "detach hands the string over");
	ok(b.p == NULL && b.len == 0, "and leaves the buffer empty");
	free(s);
	mx_buf_adds(&b, "/p");
	mx_buf_query(&b, "a", "x y&z");
	mx_buf_query(&b, "skipped", NULL);
	mx_buf_query(&b, "b", "!r:h");
	is_str(b.p, "/p?a=x%20y%26z&b=%21r%3Ah", "query: ? first, then &, "
	    "values encoded, NULL left out");
	mx_buf_release(&b);
}

/*
 * A token arriving in small pieces, as curl hands a body over, moves
 * several times as the buffer grows; after mx_buf_release_wipe no copy of
 * it is left in the heap.
 */
static void
test_wipe(void)
{
	struct mx_buf b = MX_BUF_INIT;
	char secret[2049];
	void *pin[128];
	size_t i;

	randombytes_buf(secret, 2048);
	for (i = 0; i < 2048; i++)
		secret[i] = "abcdefghijklmnopqrstuvwxyz"[(unsigned char)
		    secret[i] % 26];
	secret[2048] = '\0';
	/* Each piece is followed by another allocation, as curl makes
	 * them, so the buffer cannot grow in place. */
	for (i = 0; i < 2048; i += 16) {
		mx_buf_add(&b, secret + i, 16);
		pin[i / 16] = mx_xmalloc(24);
	}
	if (!in_heap(secret + 1024, 64)) {
		/* A sanitizer's allocator keeps its blocks outside [heap]. */
		ok(1, "# SKIP the buffer is not in [heap]");
	} else {
		mx_buf_release_wipe(&b);
		ok(!in_heap(secret + 16, 48) && !in_heap(secret + 1024, 64),
		    "a buffer that grew 5 times, once wiped, leaves no copy "
		    "of any of its contents");
	}
	mx_buf_release_wipe(&b);
	for (i = 0; i < 128; i++)
		free(pin[i]);
	sodium_memzero(secret, sizeof(secret));
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		int valid;
		const char *name;
	} t[] = {
		{ "", 1, "empty" },
		{ "plain ascii", 1, "ASCII" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1,
		    "2, 3 and 4 bytes" },
		{ "\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf", 1,
		    "U+D7FF, U+E000, U+10FFFF" },
		{ "\xff", 0, "FF" },
		{ "\x80", 0, "a lone continuation byte" },
		{ "\xc3", 0, "cut after the lead byte" },
		{ "\xe2\x82", 0, "cut inside a 3-byte form" },
		{ "\xc0\xaf", 0, "overlong /" },
		{ "\xe0\x80\xaf", 0, "overlong / in 3 bytes" },
		{ "\xf0\x80\x80\xaf", 0, "overlong / in 4 bytes" },
		{ "\xed\xa0\x80", 0, "surrogate U+D800" },
		{ "\xf4\x90\x80\x80", 0, "U+110000" },
		{ "\xf5\x80\x80\x80", 0, "lead byte F5" },
		{ "a\xc3\x28", 0, "a bad continuation byte" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(mx_utf8_valid(t[i].s, strlen(t[i].s)) == t[i].valid,
		    "utf8: %s is %s", t[i].name, t[i].valid ? "valid" :
		    "refused");
	ok(!mx_utf8_valid("a\0b", 3), "utf8: a NUL byte is refused");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_buf();
	test_wipe();
	test_utf8();
	return done();
}
