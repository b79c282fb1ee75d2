/*
 * fuzz_megolm_plain: the plaintext side of Megolm, which fuzz_megolm never
 * reaches (its fuzzed messages stop at the signature).  A fixed outbound
 * session encrypts fuzzed plaintexts; an inbound session made from its
 * session key decrypts them.  The input: one byte of flags (bits 0-1: the
 * index to start at, 0, 1, 255 or 511; bit 2: decrypt backwards; bit 3:
 * each twice; bits 4-7: else start from that message), then up to 8
 * plaintexts separated by NUL bytes (a JSON text has none; the last one
 * keeps any that follow).  Asserted, for every input:
 *   - each message fits mx_megolm_encrypt_len and decrypts, in the order
 *     the flags pick, to its plaintext at its index; decrypting it again
 *     gives the same (Megolm leaves replay detection to the caller);
 *   - a session imported at the last message's index refuses the earlier
 *     ones and is left exactly as it was (its pickle unchanged), and
 *     decrypts the last one;
 *   - what mx then does with the decrypted bytes, which is pure: a
 *     plaintext that parses as JSON (mx_json_parse, as e2ee.c does) is
 *     valid UTF-8 (mx_utf8_valid), and its compact form (what mx-sync
 *     prints) parses back to an equal value.
 * Sessions are rebuilt for every input: nothing leaks between runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "megolm.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 8

/* Outbound pickles of one fixed session at 0, 1, 255 (the counter's
 * low byte about to roll over) and 511. */
static struct mx_buf start[4];

struct msg {
	const uint8_t *pt;
	size_t ptlen;
	uint8_t *m;
	size_t n;
	uint32_t index;
};

/* An assertion that names itself: a crash report says which. */
#define must(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static void
setup(void)
{
	static const uint32_t at[4] = { 0, 1, 255, 511 };
	uint8_t r[MX_MEGOLM_RAND_LEN], m[128];
	struct mx_megolm_out *o;
	size_t i, n;

	must(mx_crypto_init() == 0);
	mx_json_init();
	for (i = 0; i < sizeof r; i++)
		r[i] = (uint8_t)(3 * i + 5);
	o = mx_megolm_out_new_rand(r);
	for (i = 0; i < 4; i++) {
		while (mx_megolm_out_index(o) < at[i])
			must(mx_megolm_encrypt(o, m, sizeof m, &n, "", 0,
			    NULL) == 0);
		start[i] = (struct mx_buf)MX_BUF_INIT;
		mx_megolm_out_pickle(o, &start[i]);
	}
	mx_megolm_out_free(o);
}

/* What mx does with decrypted bytes before printing them. */
static void
as_json(const uint8_t *pt, size_t n)
{
	json_t *v, *v2;
	char *c;

	if ((v = mx_json_parse((const char *)pt, n, NULL)) == NULL)
		return;
	must(mx_utf8_valid((const char *)pt, n));
	must((c = mx_json_compact(v)) != NULL);
	must((v2 = mx_json_parse(c, strlen(c), NULL)) != NULL);
	must(json_equal(v, v2));
	json_decref(v2);
	free(c);
	json_decref(v);
}

static void
decrypt_ok(struct mx_megolm_in *in, const struct msg *g)
{
	uint8_t *pt = malloc(mx_megolm_decrypt_max(g->n) + 1);
	uint32_t idx;
	size_t len;

	must(mx_megolm_decrypt(in, pt, mx_megolm_decrypt_max(g->n), &len,
	    &idx, g->m, g->n, NULL) == 0);
	must(idx == g->index && len == g->ptlen &&
	    memcmp(pt, g->pt, len) == 0);
	free(pt);
}

/* in refuses g and stays as it was. */
static void
decrypt_refused(struct mx_megolm_in *in, const struct msg *g)
{
	struct mx_buf before = MX_BUF_INIT, after = MX_BUF_INIT;
	uint8_t *pt = malloc(g->n + 1);
	uint32_t idx;
	size_t len;

	mx_megolm_in_pickle(in, &before);
	must(mx_megolm_decrypt(in, pt, g->n, &len, &idx, g->m, g->n,
	    NULL) != 0);
	mx_megolm_in_pickle(in, &after);
	must(before.len == after.len && memcmp(before.p, after.p,
	    before.len) == 0);
	mx_buf_release_wipe(&before);
	mx_buf_release_wipe(&after);
	free(pt);
}

/* Split the input into plaintexts at NUL bytes. */
static size_t
split(struct msg *g, const uint8_t *d, size_t size)
{
	const uint8_t *end = d + size, *z;
	size_t k = 0;

	while (k < MAXN) {
		z = k < MAXN - 1 ? memchr(d, 0, (size_t)(end - d)) : NULL;
		g[k].pt = d;
		g[k].ptlen = z ? (size_t)(z - d) : (size_t)(end - d);
		k++;
		if (z == NULL)
			break;
		d = z + 1;
	}
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], ex[MX_MEGOLM_EXPORT_LEN];
	struct mx_megolm_out *o;
	struct mx_megolm_in *in, *late;
	struct msg g[MAXN];
	size_t k, i, j;
	uint8_t flags;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size > 8192)
		return 0;
	flags = data[0];
	k = split(g, data + 1, size - 1);
	must((o = mx_megolm_out_unpickle(start[flags & 3].p,
	    start[flags & 3].len, NULL)) != NULL);
	mx_megolm_out_session_key(o, key);
	must((in = mx_megolm_in_new(key, sizeof key, NULL)) != NULL);
	for (i = 0; i < k; i++) {
		size_t max = mx_megolm_encrypt_len(g[i].ptlen);

		g[i].index = mx_megolm_out_index(o);
		g[i].m = malloc(max);
		must(mx_megolm_encrypt(o, g[i].m, max, &g[i].n, g[i].pt,
		    g[i].ptlen, NULL) == 0 && g[i].n <= max);
		must(mx_megolm_decrypt_max(g[i].n) >= g[i].ptlen);
	}
	/* an order: forwards, backwards, or from a middle one round */
	for (j = 0; j < k; j++) {
		i = (flags & 4) ? k - 1 - j : (j + (flags >> 4)) % k;
		decrypt_ok(in, &g[i]);
		if (flags & 8)
			decrypt_ok(in, &g[i]);
	}
	must(mx_megolm_in_export(in, g[k - 1].index, ex, NULL) == 0);
	must((late = mx_megolm_in_import(ex, sizeof ex, NULL)) != NULL);
	for (i = 0; i + 1 < k; i++)
		decrypt_refused(late, &g[i]);
	decrypt_ok(late, &g[k - 1]);
	for (i = 0; i < k; i++) {
		as_json(g[i].pt, g[i].ptlen);
		free(g[i].m);
	}
	mx_megolm_in_free(late);
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
	return 0;
}
