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

/*
 * UTF-8 as RFC 3629 defines it, decoded the long way (code point, then
 * its range), so that it shares no table with mx_utf8_valid.
 */
static int
utf8_ref(const unsigned char *p, size_t n)
{
	unsigned long cp, min;
	size_t i = 0, j, len;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			len = 2, cp = p[i] & 0x1f, min = 0x80;
		else if ((p[i] & 0xf0) == 0xe0)
			len = 3, cp = p[i] & 0x0f, min = 0x800;
		else if ((p[i] & 0xf8) == 0xf0)
			len = 4, cp = p[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (j = 1; j < len; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* mx_utf8_valid against utf8_ref on every string of 1 and 2 bytes, every
 * 3 bytes that start with a non-ASCII byte, and 4 bytes that start with
 * E0..FF followed by bytes at the edges of the ranges. */
static void
test_utf8_exhaustive(void)
{
	static const unsigned char edge[] = { 0x00, 0x28, 0x7f, 0x80, 0x81,
	    0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff };
	const size_t ne = sizeof(edge);
	unsigned char b[4] = { 0 };
	unsigned long i, bad = 0, tried = 0;
	char first[32] = "";
	size_t n;

	for (n = 1; n <= 4; n++) {
		unsigned long lim = n < 4 ? 1UL << (8 * n) : 32 * ne * ne * ne;

		for (i = 0; i < lim; i++) {
			if (n < 4) {
				b[0] = (unsigned char)i;
				b[1] = (unsigned char)(i >> 8);
				b[2] = (unsigned char)(i >> 16);
				if (n == 3 && b[0] < 0x80)
					continue;
			} else {
				b[0] = (unsigned char)(0xe0 + i / ne / ne / ne);
				b[1] = edge[i / (ne * ne) % ne];
				b[2] = edge[i / ne % ne];
				b[3] = edge[i % ne];
			}
			tried++;
			if (mx_utf8_valid((const char *)b, n) == utf8_ref(b, n))
				continue;
			if (bad++ == 0)
				snprintf(first, sizeof(first), "%02x %02x %02x "
				    "%02x (%zu bytes)", b[0], b[1], b[2], b[3],
				    n);
		}
	}
	ok(bad == 0, "utf8: agrees with a decoder by code point on %lu "
	    "strings of 1 to 4 bytes%s%s", tried, bad ? "; first differs: " :
	    "", first);
}

/* A string literal with its length, NUL bytes included. */
#define U(s, valid, name) { s, sizeof(s) - 1, valid, name }

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n;
		int valid;
		const char *name;
	} t[] = {
		U("", 1, "empty"),
		U("plain ascii", 1, "ASCII"),
		U("\x7f", 1, "DEL"),
		U("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1,
		    "2, 3 and 4 bytes"),
		/* The edges of each length and of each lead byte's range. */
		U("\xc2\x80 \xdf\xbf", 1, "U+0080, U+07FF"),
		U("\xe0\xa0\x80 \xef\xbf\xbf", 1, "U+0800, U+FFFF"),
		U("\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf", 1,
		    "U+D7FF, U+E000, U+10FFFF"),
		U("\xf0\x90\x80\x80 \xf3\xbf\xbf\xbf", 1,
		    "U+10000, U+FFFFF"),
		/* Bytes that never start a character. */
		U("\xff", 0, "FF"),
		U("\xfe", 0, "FE"),
		U("\x80", 0, "a lone continuation byte"),
		U("\xbf", 0, "a lone continuation byte BF"),
		U("a\x80", 0, "a continuation byte after ASCII"),
		U("\xc3\xa9\x80", 0, "a continuation byte too many"),
		U("\xf5\x80\x80\x80", 0, "lead byte F5"),
		U("\xf8\x88\x80\x80\x80", 0, "a 5-byte form"),
		U("\xfc\x84\x80\x80\x80\x80", 0, "a 6-byte form"),
		/* The second byte below 80, above BF, in each length. */
		U("a\xc3\x28", 0, "a bad continuation byte"),
		U("\xc3\xc0", 0, "2nd of 2 above BF"),
		U("\xe2\x28\xa1", 0, "2nd of 3 below 80"),
		U("\xe2\xc0\xa1", 0, "2nd of 3 above BF"),
		U("\xf0\x28\x8c\xbc", 0, "2nd of 4 below 80"),
		U("\xf0\xc0\x8c\xbc", 0, "2nd of 4 above BF"),
		/* The third and fourth bytes (the bug once planted here). */
		U("\xe2\x82\x28", 0, "3rd of 3 below 80 (E2 82 28)"),
		U("\xe2\x82\x7f", 0, "3rd of 3 is 7F"),
		U("\xe2\x82\xc0", 0, "3rd of 3 above BF"),
		U("\xe2\x82\x00", 0, "3rd of 3 is NUL"),
		U("\xf0\x9f\x28\x80", 0, "3rd of 4 below 80"),
		U("\xf0\x9f\xc0\x80", 0, "3rd of 4 above BF"),
		U("\xf0\x9f\x98\x28", 0, "4th of 4 below 80 (F0 9F 98 28)"),
		U("\xf0\x9f\x98\x7f", 0, "4th of 4 is 7F"),
		U("\xf0\x9f\x98\xc0", 0, "4th of 4 above BF"),
		U("\xf0\x9f\x98\x00", 0, "4th of 4 is NUL"),
		U("\xf0\x9f\x98\xf0\x9f\x98\x80", 0,
		    "a new lead byte in place of the 4th"),
		/* Overlong forms. */
		U("\xc0\xaf", 0, "overlong /"),
		U("\xc0\x80", 0, "overlong NUL (C0 80)"),
		U("\xc1\xbf", 0, "overlong U+007F"),
		U("\xe0\x80\xaf", 0, "overlong / in 3 bytes"),
		U("\xe0\x9f\xbf", 0, "overlong U+07FF in 3 bytes"),
		U("\xf0\x80\x80\xaf", 0, "overlong / in 4 bytes"),
		U("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF in 4 bytes"),
		/* Surrogates, and above U+10FFFF. */
		U("\xed\xa0\x80", 0, "surrogate U+D800"),
		U("\xed\xbf\xbf", 0, "surrogate U+DFFF"),
		U("\xed\xa0\xbd\xed\xb8\x80", 0, "a surrogate pair"),
		U("\xf4\x90\x80\x80", 0, "U+110000"),
		U("\xf4\xbf\xbf\xbf", 0, "U+13FFFF"),
		U("\xf7\xbf\xbf\xbf", 0, "U+1FFFFF"),
		/* Cut short at the end of the input, and before ASCII. */
		U("\xc3", 0, "cut after the lead byte"),
		U("\xe2", 0, "cut after a 3-byte lead"),
		U("\xe2\x82", 0, "cut inside a 3-byte form"),
		U("\xf0", 0, "cut after a 4-byte lead"),
		U("\xf0\x9f", 0, "cut after 2 of 4"),
		U("\xf0\x9f\x98", 0, "cut after 3 of 4"),
		U("ok \xf0\x9f\x98", 0, "cut after 3 of 4, after text"),
		U("\xe2\x82 ", 0, "cut inside a 3-byte form, then a space"),
		U("\xf0\x9f\x98 ", 0, "cut after 3 of 4, then a space"),
		/* NUL anywhere. */
		U("a\0b", 0, "a NUL byte"),
		U("\0", 0, "a NUL byte alone"),
		U("\xc3\xa9\0", 0, "a NUL byte after a 2-byte form"),
		U("\xc3\0", 0, "a NUL byte as the 2nd of 2"),
	};
	static const char euro[] = "\xe2\x82\xac", smile[] = "\xf0\x9f\x98\x80";
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(mx_utf8_valid(t[i].s, t[i].n) == t[i].valid,
		    "utf8: %s is %s", t[i].name, t[i].valid ? "valid" :
		    "refused");
	/* n is the end: what lies after it in memory must not complete a
	 * form, nor be read. */
	ok(!mx_utf8_valid(euro, 2) && !mx_utf8_valid(smile, 3) &&
	    !mx_utf8_valid(smile, 1) && mx_utf8_valid(smile, 0),
	    "utf8: a form cut by the length is refused though the bytes "
	    "after it would complete it");
	test_utf8_exhaustive();
}

static void
test_size(void)
{
	long long n = -1;

	ok(mx_parse_size("5000", &n) == 0 && n == 5000, "plain bytes");
	ok(mx_parse_size("20M", &n) == 0 && n == 20LL << 20, "20M");
	ok(mx_parse_size("1GiB", &n) == 0 && n == 1LL << 30, "1GiB");
	ok(mx_parse_size("3K", &n) == 0 && n == 3072, "3K");
	ok(mx_parse_size("", &n) == -1, "empty");
	ok(mx_parse_size("-1", &n) == -1, "negative");
	ok(mx_parse_size("5X", &n) == -1, "unknown unit");
	ok(mx_parse_size("5Mb", &n) == -1, "Mb is not MiB");
	ok(mx_parse_size("99999999999999999999", &n) == -1, "overflow");
	ok(mx_parse_size("2000000G", &n) == -1, "over 2^50");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_buf();
	test_wipe();
	test_utf8();
	test_size();
	return done();
}
