/*
 * fuzz_keyexport: the export-file reader never crashes or overruns on any
 * text, and what it accepts comes with a consistent length.  Files asking
 * for more than 1000 PBKDF2 rounds are only parsed (mx_keyexport_rounds),
 * not derived, to keep runs fast.  The writer's output of the input bytes
 * must read back to them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "keyexport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct mx_err e;
	enum mx_keyexport_why why;
	char *out, *text;
	size_t len;
	uint32_t rounds;

	if (!init && mx_crypto_init() == 0)
		init = 1;
	out = NULL;
	if (mx_keyexport_rounds((const char *)data, size, &rounds, &e) == 0 &&
	    rounds <= 1000)
		out = mx_keyexport_decrypt((const char *)data, size, "pass",
		    &len, &why, &e);
	if (out != NULL) {
		if (strlen(out) > len || why != MX_KEYEXPORT_OK)
			abort();
		free(out);
	}
	/* The writer: any bytes survive a round trip. */
	if (size < 4096) {
		text = mx_keyexport_encrypt((const char *)data, size, "p", 1,
		    &e);
		out = mx_keyexport_decrypt(text, strlen(text), "p", &len,
		    NULL, &e);
		if (out == NULL || len != size || memcmp(out, data, size) != 0)
			abort();
		free(out);
		free(text);
	}
	return 0;
}
