/*
 * fuzz_megolm: Megolm message decoding and decryption, session-key import
 * (v2 signed, v1 export) and unpickling never crash and never overrun.
 * The first input byte picks what the rest is fed to:
 *   0  a message to an inbound session of a fixed outbound session
 *   1  a v2 session key     2  a v1 exported key (then decrypt, export)
 *   3  an inbound pickle    4  an outbound pickle (then encrypt)
 * Sessions are rebuilt for every input, so state never leaks between
 * runs.  What decrypts must fit the input; what unpickles must pickle back
 * to the same bytes.
 * Built with -DFUZZ_MEGOLM_SEEDS, main() writes the seed corpus to argv[1].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "megolm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t skey[MX_MEGOLM_SESSION_KEY_LEN], msg[400];
static size_t msg_n;
static struct mx_buf out_pk, in_pk;

static void
setup(void)
{
	uint8_t r[MX_MEGOLM_RAND_LEN];
	struct mx_megolm_out *o;
	struct mx_megolm_in *in;
	size_t i;

	for (i = 0; i < sizeof r; i++)
		r[i] = (uint8_t)i;
	o = mx_megolm_out_new_rand(r);
	mx_megolm_out_session_key(o, skey);
	mx_megolm_encrypt(o, msg, sizeof msg, &msg_n, "hello", 5, NULL);
	mx_megolm_out_pickle(o, &out_pk);
	in = mx_megolm_in_new(skey, sizeof skey, NULL);
	mx_megolm_in_pickle(in, &in_pk);
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
}

static void
use_in(struct mx_megolm_in *in, const uint8_t *m, size_t n)
{
	uint8_t pt[1024], ex[MX_MEGOLM_EXPORT_LEN];
	uint8_t *buf = malloc(n ? n : 1);
	size_t pl;
	uint32_t idx;

	memcpy(buf, m, n);	/* exact size: ASan sees overruns */
	if (mx_megolm_decrypt(in, pt, sizeof pt, &pl, &idx, buf, n,
	    NULL) == 0 && pl > n)
		abort();
	(void)mx_megolm_in_export(in, mx_megolm_in_first_index(in) + 7, ex,
	    NULL);
	free(buf);
}

static void
repickle(const uint8_t *p, size_t n, int outbound)
{
	struct mx_buf b = MX_BUF_INIT;
	uint8_t m[200];
	size_t ml;

	if (outbound) {
		struct mx_megolm_out *o = mx_megolm_out_unpickle(p, n, NULL);

		if (o == NULL)
			return;
		mx_megolm_out_pickle(o, &b);
		mx_megolm_encrypt(o, m, sizeof m, &ml, "x", 1, NULL);
		mx_megolm_out_free(o);
	} else {
		struct mx_megolm_in *in = mx_megolm_in_unpickle(p, n, NULL);

		if (in == NULL)
			return;
		mx_megolm_in_pickle(in, &b);
		use_in(in, msg, msg_n);
		mx_megolm_in_free(in);
	}
	if (b.len != n || memcmp(b.p, p, n) != 0)
		abort();
	mx_buf_release_wipe(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct mx_megolm_in *in = NULL;
	uint8_t *copy;

	if (!ready) {
		if (mx_crypto_init() < 0)
			abort();
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	copy = malloc(size > 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	switch (data[0]) {
	case 0:
		in = mx_megolm_in_new(skey, sizeof skey, NULL);
		use_in(in, copy, size - 1);
		break;
	case 1:
		in = mx_megolm_in_new(copy, size - 1, NULL);
		break;
	case 2:
		if ((in = mx_megolm_in_import(copy, size - 1, NULL)) != NULL)
			use_in(in, msg, msg_n);
		break;
	case 3:
		repickle(copy, size - 1, 0);
		break;
	case 4:
		repickle(copy, size - 1, 1);
		break;
	}
	mx_megolm_in_free(in);
	free(copy);
	return 0;
}

#ifdef FUZZ_MEGOLM_SEEDS
static void
seed(const char *dir, const char *name, uint8_t kind, const void *p,
    size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		exit(1);
	fputc(kind, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

int
main(int argc, char **argv)
{
	uint8_t ex[MX_MEGOLM_EXPORT_LEN];
	struct mx_megolm_in *in;

	if (argc != 2 || mx_crypto_init() < 0)
		return 2;
	setup();
	in = mx_megolm_in_new(skey, sizeof skey, NULL);
	mx_megolm_in_export(in, 0, ex, NULL);
	seed(argv[1], "message", 0, msg, msg_n);
	seed(argv[1], "session-key", 1, skey, sizeof skey);
	seed(argv[1], "export", 2, ex, sizeof ex);
	seed(argv[1], "inbound-pickle", 3, in_pk.p, in_pk.len);
	seed(argv[1], "outbound-pickle", 4, out_pk.p, out_pk.len);
	mx_megolm_in_free(in);
	return 0;
}
#endif
