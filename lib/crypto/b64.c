/*
 * b64: base64 through libsodium's constant-time codec.  See b64.h.
 * Matrix (spec: Appendices, "Unpadded Base64") writes standard base64
 * without '='; decoders here take either form, and libsodium refuses
 * non-zero trailing bits, so every byte string has one accepted unpadded
 * spelling.
 */
#include <string.h>

#include <sodium.h>

#include "b64.h"
#include "util.h"
#include "banned.h"

size_t
mx_b64_enclen(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

static char *
enc(char *out, const void *in, size_t n, int variant)
{
	sodium_bin2base64(out, mx_b64_enclen(n) + 1, in, n, variant);
	return out;
}

char *
mx_b64_enc(char *out, const void *in, size_t n)
{
	return enc(out, in, n, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

char *
mx_b64url_enc(char *out, const void *in, size_t n)
{
	return enc(out, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *
mx_b64_encdup(const void *in, size_t n)
{
	return mx_b64_enc(mx_xmalloc(mx_b64_enclen(n) + 1), in, n);
}

/*
 * libsodium 1.0.18 maps some bytes >= 0x80 to valid sextets (its
 * constant-time range checks assume 7-bit input), so such input is refused
 * first.  The whole input is scanned without an early exit, so timing does
 * not depend on where the byte is.
 */
static int
ascii(const char *in, size_t n)
{
	unsigned char hi = 0;
	size_t i;

	for (i = 0; i < n; i++)
		hi |= (unsigned char)in[i];
	return (hi & 0x80) == 0;
}

/*
 * A trailing '=' selects libsodium's padded variant, which then insists on
 * correct padding (length a multiple of 4); otherwise the unpadded one.
 * A NULL end pointer makes libsodium fail on anything left unparsed.
 */
static int
dec(uint8_t *out, size_t max, size_t *outlen, const char *in, size_t n,
    int padded, int unpadded)
{
	size_t len = 0;
	int variant = n > 0 && in[n - 1] == '=' ? padded : unpadded;

	if (!ascii(in, n) ||
	    sodium_base642bin(out, max, in, n, NULL, &len, NULL, variant)) {
		if (max > 0)
			sodium_memzero(out, max);
		return -1;
	}
	if (outlen != NULL)
		*outlen = len;
	return 0;
}

int
mx_b64_dec(uint8_t *out, size_t max, size_t *outlen, const char *in, size_t n)
{
	return dec(out, max, outlen, in, n, sodium_base64_VARIANT_ORIGINAL,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int
mx_b64url_dec(uint8_t *out, size_t max, size_t *outlen, const char *in,
    size_t n)
{
	return dec(out, max, outlen, in, n, sodium_base64_VARIANT_URLSAFE,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
mx_b64_dec_exact(uint8_t *out, size_t len, const char *in)
{
	size_t got;

	if (mx_b64_dec(out, len, &got, in, strlen(in)) != 0)
		return -1;
	if (got != len) {
		sodium_memzero(out, len);
		return -1;
	}
	return 0;
}

uint8_t *
mx_b64_field_dup(const json_t *o, const char *k, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, k));
	size_t n, max;
	uint8_t *p;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	max = n / 4 * 3 + 3;
	p = mx_xmalloc(max);
	if (mx_b64_dec(p, max, len, s, n) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

int
mx_b64_field(uint8_t *out, size_t len, const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s == NULL ? -1 : mx_b64_dec_exact(out, len, s);
}
