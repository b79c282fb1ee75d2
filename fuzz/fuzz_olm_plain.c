/*
 * fuzz_olm_plain: the plaintext side of Olm, which fuzz_olm never reaches
 * (its fuzzed messages stop at the MAC).  Alice and Bob, with fixed keys,
 * hold a conversation the input scripts; every message is encrypted with
 * fixed randomness, so a crash replays.  The input is up to 16 messages
 * separated by NUL bytes, each a control byte (NUL or not) then its
 * plaintext:
 *   bit 0  the sender (0 Alice, 1 Bob; the first is always Alice's
 *          pre-key message, which makes Bob's session)
 *   bit 1  held back: delivered after all the others, last held first
 *   bit 2  delivered a second time right after the first
 * Asserted:
 *   - a message delivered when sent decrypts to its plaintext; the first
 *     makes Bob's session and uses up his one-time key;
 *   - a second delivery is refused and leaves the session as it was (its
 *     pickle unchanged), held or not: Olm message keys are used once;
 *   - a held message decrypts to its plaintext when the conversation
 *     changed sender at most 3 times (few enough chains that none is
 *     dropped); otherwise it may be refused, and then leaves the session
 *     as it was;
 *   - each session pickles, unpickles and pickles to the same bytes;
 *   - what mx then does with the decrypted bytes, which is pure: a
 *     plaintext that parses as JSON (mx_json_parse, as e2ee.c does) is
 *     valid UTF-8 (mx_utf8_valid), and its compact form parses back to an
 *     equal value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "olm.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 16

/* An assertion that names itself: a crash report says which. */
#define must(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static struct mx_olm_account *alice;
static struct mx_buf bob_pk;
static uint8_t alice_id[32], bob_id[32], bob_otk[32];

struct msg {
	int from, hold, again, type;
	const uint8_t *pt;
	size_t ptlen, n;
	uint8_t *m;
};

static void
fill(uint8_t *p, uint8_t start, size_t n)
{
	while (n--)
		*p++ = start++;
}

static void
setup(void)
{
	struct mx_olm_account *b;
	struct mx_olm_otk k;
	uint8_t r[64];

	must(mx_crypto_init() == 0);
	mx_json_init();
	fill(r, 1, 64);
	alice = mx_olm_account_new_rand(r);
	fill(r, 0x41, 64);
	b = mx_olm_account_new_rand(r);
	fill(r, 0x81, 32);
	mx_olm_account_generate_otks_rand(b, 1, r);
	must(mx_olm_account_otks(b, &k, 1) == 1);
	memcpy(bob_otk, k.pub, 32);
	mx_olm_account_curve25519(alice, alice_id);
	mx_olm_account_curve25519(b, bob_id);
	mx_olm_account_pickle(b, &bob_pk);
	mx_olm_account_free(b);
}

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

static int
same_pickle(const struct mx_buf *a, const struct mx_buf *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* Decrypt g with s: 1 when it gave g's plaintext, 0 when it was refused
 * and s is unchanged; anything else aborts. */
static int
deliver(struct mx_olm_session *s, const struct msg *g)
{
	struct mx_buf before = MX_BUF_INIT, after = MX_BUF_INIT;
	uint8_t *pt = malloc(g->n + 1);
	size_t len;
	int ok;

	mx_olm_session_pickle(s, &before);
	ok = mx_olm_decrypt(s, g->type, g->m, g->n, pt, g->n, &len,
	    NULL) == 0;
	if (ok) {
		must(len == g->ptlen && memcmp(pt, g->pt, len) == 0);
	} else {
		mx_olm_session_pickle(s, &after);
		must(same_pickle(&before, &after));
	}
	mx_buf_release_wipe(&before);
	mx_buf_release_wipe(&after);
	free(pt);
	return ok;
}

static void
repickle(const struct mx_olm_session *s)
{
	struct mx_buf a = MX_BUF_INIT, b = MX_BUF_INIT;
	struct mx_olm_session *t;

	mx_olm_session_pickle(s, &a);
	must((t = mx_olm_session_unpickle(a.p, a.len, NULL)) != NULL);
	mx_olm_session_pickle(t, &b);
	must(same_pickle(&a, &b));
	mx_olm_session_free(t);
	mx_buf_release_wipe(&a);
	mx_buf_release_wipe(&b);
}

/* Split the input into messages at NUL bytes. */
static size_t
split(struct msg *g, const uint8_t *d, size_t size)
{
	const uint8_t *end = d + size, *z;
	size_t k = 0;

	while (k < MAXN && d < end) {
		z = k < MAXN - 1 ? memchr(d + 1, 0, (size_t)(end - d - 1)) :
		    NULL;
		g[k].from = k > 0 && (d[0] & 1);
		g[k].hold = k > 0 && (d[0] & 2);
		g[k].again = (d[0] & 4) != 0;
		g[k].pt = d + 1;
		g[k].ptlen = (z ? (size_t)(z - d) : (size_t)(end - d)) - 1;
		k++;
		if (z == NULL)
			break;
		d = z + 1;
	}
	return k;
}

static void
encrypt(struct mx_olm_session *s, struct msg *g, size_t i)
{
	size_t max = mx_olm_encrypt_len(s, g->ptlen);
	uint8_t r[MX_SHA256_LEN], seed[2] = { 0x5a, (uint8_t)i };

	/* a ratchet key of its own per message: a reused one would make
	 * the receiver take a new chain for an old one */
	mx_sha256(r, seed, sizeof seed);
	g->m = malloc(max);
	must(mx_olm_encrypt_rand(s, &g->type, g->m, max, &g->n, g->pt,
	    g->ptlen, mx_olm_encrypt_rand_len(s) ? r : NULL, NULL) == 0);
	must(g->n <= max);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct mx_olm_session *s[2] = { NULL, NULL };
	struct mx_olm_account *bob;
	struct msg g[MAXN];
	size_t k, i, turns = 0;
	uint8_t r[64];

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size > 8192 || (k = split(g, data, size)) == 0)
		return 0;
	for (i = 1; i < k; i++)
		turns += g[i].from != g[i - 1].from;
	must((bob = mx_olm_account_unpickle(bob_pk.p, bob_pk.len,
	    NULL)) != NULL);
	fill(r, 0xc1, 64);
	must((s[0] = mx_olm_session_new_outbound_rand(alice, bob_id, bob_otk,
	    r, NULL)) != NULL);
	for (i = 0; i < k; i++) {
		struct mx_olm_session *to;

		encrypt(s[g[i].from], &g[i], i);
		if (g[i].hold)
			continue;
		if (i == 0) {
			must(g[0].type == MX_OLM_PREKEY);
			must((s[1] = mx_olm_session_new_inbound(bob, alice_id,
			    g[0].m, g[0].n, NULL)) != NULL);
		}
		to = s[!g[i].from];
		must(deliver(to, &g[i]));
		if (i == 0)
			must(mx_olm_account_remove_otk(bob, s[1], NULL) == 0);
		if (g[i].again)
			must(!deliver(to, &g[i]));
	}
	for (i = k; i-- > 0;) {
		if (!g[i].hold)
			continue;
		if (!deliver(s[!g[i].from], &g[i]))
			must(turns > 3);
		else if (g[i].again)
			must(!deliver(s[!g[i].from], &g[i]));
	}
	repickle(s[0]);
	repickle(s[1]);
	for (i = 0; i < k; i++) {
		as_json(g[i].pt, g[i].ptlen);
		free(g[i].m);
	}
	mx_olm_session_free(s[0]);
	mx_olm_session_free(s[1]);
	mx_olm_account_free(bob);
	return 0;
}
