/*
 * fuzz_b64: the decoders never overrun and never crash; what they accept
 * re-encodes to the input without its '=' padding (one spelling per byte
 * string), and any bytes survive an encode/decode round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_dec(const char *in, size_t n, int url)
{
	uint8_t *out = malloc(n + 1);
	char *enc;
	size_t len, m = n;

	if ((url ? mx_b64url_dec : mx_b64_dec)(out, n, &len, in, n) == 0) {
		if (len > n)
			abort();
		enc = malloc(mx_b64_enclen(len) + 1);
		(url ? mx_b64url_enc : mx_b64_enc)(enc, out, len);
		while (m > 0 && in[m - 1] == '=')
			m--;
		if (strlen(enc) != m || memcmp(enc, in, m) != 0)
			abort();
		free(enc);
	}
	free(out);
}

static void
check_roundtrip(const uint8_t *data, size_t size)
{
	char *enc = mx_b64_encdup(data, size);
	uint8_t *back = malloc(size + 1);
	size_t len;

	if (mx_b64_dec(back, size, &len, enc, strlen(enc)) != 0 ||
	    len != size || memcmp(back, data, size) != 0)
		abort();
	free(back);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_dec((const char *)data, size, 0);
	check_dec((const char *)data, size, 1);
	check_roundtrip(data, size);
	return 0;
}
