/*
 * b64: RFC 4648 section 10 vectors (unpadded and padded), the URL-safe
 * alphabet, and input that must be refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "tap.h"

static const char *rfc[][3] = {
	{ "", "", "" },
	{ "f", "Zg", "Zg==" },
	{ "fo", "Zm8", "Zm8=" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_rfc(void)
{
	char out[16];
	uint8_t bin[16];
	size_t i, n, len;

	for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		n = strlen(rfc[i][0]);
		ok(mx_b64_enclen(n) == strlen(rfc[i][1]), "enclen %zu", n);
		is_str(mx_b64_enc(out, rfc[i][0], n), rfc[i][1],
		    "RFC 4648 encode unpadded");
		ok(mx_b64_dec(bin, sizeof bin, &len, rfc[i][1],
		    strlen(rfc[i][1])) == 0 && len == n &&
		    memcmp(bin, rfc[i][0], n) == 0, "decode '%s'", rfc[i][1]);
		ok(mx_b64_dec(bin, sizeof bin, &len, rfc[i][2],
		    strlen(rfc[i][2])) == 0 && len == n &&
		    memcmp(bin, rfc[i][0], n) == 0, "decode '%s'", rfc[i][2]);
	}
}

static void
test_url(void)
{
	static const uint8_t b[] = { 0xfb, 0xff, 0xbf, 0x3e };
	char out[16], *s;
	uint8_t bin[8];
	size_t len;

	is_str(mx_b64_enc(out, b, 4), "+/+/Pg", "standard alphabet");
	is_str(mx_b64url_enc(out, b, 4), "-_-_Pg", "url-safe alphabet");
	ok(mx_b64url_dec(bin, sizeof bin, &len, "-_-_Pg", 6) == 0 &&
	    len == 4 && memcmp(bin, b, 4) == 0, "url-safe decode");
	ok(mx_b64url_dec(bin, sizeof bin, &len, "-_-_Pg==", 8) == 0 &&
	    len == 4, "url-safe decode padded");
	ok(mx_b64url_dec(bin, sizeof bin, &len, "+/+/Pg", 6) == -1,
	    "url-safe decoder refuses + and /");
	ok(mx_b64_dec(bin, sizeof bin, &len, "-_-_Pg", 6) == -1,
	    "standard decoder refuses - and _");
	s = mx_b64_encdup(b, 4);
	is_str(s, "+/+/Pg", "encdup");
	free(s);
}

static void
test_bad(void)
{
	static const char *bad[] = {
		"Z", "Zg=", "Zg===", "Zh", "Zm9", "Zm9v!", "Zm 9v", "Zm9v\n",
		"=Zm9", "Zg==Zg", "Zm8==", "\xabm9vYmFy", "Zm9v\xc3\xa9",
	};
	uint8_t bin[16], k[32];
	size_t i, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(mx_b64_dec(bin, sizeof bin, &len, bad[i], strlen(bad[i]))
		    == -1, "refuses bad input %zu", i);
	ok(mx_b64_dec(bin, 5, &len, "Zm9vYmFy", 8) == -1,
	    "refuses too small a buffer");
	ok(mx_b64_dec(bin, sizeof bin, &len, "Zm9v\0Zm9v", 9) == -1,
	    "refuses an embedded NUL");
	ok(mx_b64_dec_exact(k, 32,
	    "JGLn/yafz74HB2AbPLYJWIVGnKAtqECOBf11yyXac2Y") == 0,
	    "dec_exact 32 bytes");
	ok(mx_b64_dec_exact(k, 32, "Zm9vYmFy") == -1,
	    "dec_exact refuses a short key");
	ok(mx_b64_dec_exact(k, 4, "Zm9vYmFy") == -1,
	    "dec_exact refuses a long key");
}

static void
test_roundtrip(void)
{
	uint8_t in[67], back[67];
	char out[100];
	size_t n, len, bad = 0;

	for (n = 0; n <= sizeof in; n++) {
		mx_random(in, n);
		mx_b64_enc(out, in, n);
		if (strlen(out) != mx_b64_enclen(n) ||
		    mx_b64_dec(back, sizeof back, &len, out, strlen(out))
		    != 0 ||
		    len != n || memcmp(in, back, n) != 0)
			bad++;
		mx_b64url_enc(out, in, n);
		if (mx_b64url_dec(back, sizeof back, &len, out, strlen(out))
		    != 0 || len != n || memcmp(in, back, n) != 0)
			bad++;
	}
	ok(bad == 0, "random round trips, lengths 0..67");
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_rfc();
	test_url();
	test_bad();
	test_roundtrip();
	return done();
}
