/*
 * megolm-libolm: mx's Megolm against libolm 3 (test only), randomised with
 * a fixed, printed seed.  Both ways: mx outbound -> libolm inbound and
 * libolm outbound -> mx inbound; keys shared at index 0 and later, exported
 * and imported at index N both ways, decrypts out of order; session ids,
 * indices, and (same random input) byte-identical ciphertexts agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>

#include "b64.h"
#include "crypto.h"
#include "megolm.h"
#include "helpers.h"
#include "tap.h"

#define SEED 0x6d65676f6c6dULL
#define ROUNDS 150
#define MSGS 60
#define MAXPT 400


struct msgs {
	uint8_t pt[MSGS][MAXPT];
	size_t ptlen[MSGS];
	char b64[MSGS][1024];
	uint32_t first;		/* index of message 0 */
};

static int fails;

static void
check(int c)
{
	if (!c)
		fails++;
}

static OlmOutboundGroupSession *
lo_out_new(const uint8_t r[160])
{
	OlmOutboundGroupSession *s =
	    olm_outbound_group_session(malloc(
	    olm_outbound_group_session_size()));
	uint8_t tmp[160];

	memcpy(tmp, r, 160);	/* libolm wipes its random input */
	check(olm_init_outbound_group_session(s, tmp, 160) != olm_error());
	return s;
}

static void
lo_out_free(OlmOutboundGroupSession *s)
{
	olm_clear_outbound_group_session(s);
	free(s);
}

static OlmInboundGroupSession *
lo_in_new(const char *key, int import)
{
	OlmInboundGroupSession *s =
	    olm_inbound_group_session(malloc(olm_inbound_group_session_size()));
	size_t r;

	if (import)
		r = olm_import_inbound_group_session(s, (const uint8_t *)key,
		    strlen(key));
	else
		r = olm_init_inbound_group_session(s, (const uint8_t *)key,
		    strlen(key));
	check(r != olm_error());
	return s;
}

static void
lo_in_free(OlmInboundGroupSession *s)
{
	olm_clear_inbound_group_session(s);
	free(s);
}

/* Decrypt message i with libolm; 1 when plaintext and index agree. */
static int
lo_decrypt(OlmInboundGroupSession *s, const struct msgs *m, int i)
{
	uint8_t buf[1024], pt[1024];
	size_t n = strlen(m->b64[i]), r;
	uint32_t idx = 0;

	memcpy(buf, m->b64[i], n);
	r = olm_group_decrypt(s, buf, n, pt, sizeof pt, &idx);
	return r != olm_error() && r == m->ptlen[i] &&
	    memcmp(pt, m->pt[i], r) == 0 && idx == m->first + (uint32_t)i;
}

static int
mx_decrypt(struct mx_megolm_in *s, const struct msgs *m, int i)
{
	uint8_t raw[1024], pt[1024];
	size_t rn, n;
	uint32_t idx = 0;

	if (mx_b64_dec(raw, sizeof raw, &rn, m->b64[i], strlen(m->b64[i])) < 0)
		return 0;
	return mx_megolm_decrypt(s, pt, sizeof pt, &n, &idx, raw, rn,
	    NULL) == 0 && n == m->ptlen[i] && memcmp(pt, m->pt[i], n) == 0 &&
	    idx == m->first + (uint32_t)i;
}

static void
shuffle(int *o, int n)
{
	int i;

	for (i = 0; i < n; i++)
		o[i] = i;
	for (i = n - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint32_t)(i + 1)), t = o[i];

		o[i] = o[j];
		o[j] = t;
	}
}

/* Encrypt MSGS random plaintexts with both outbound sessions (made from the
 * same random bytes); the base64 ciphertexts must be identical. */
static void
encrypt_both(struct mx_megolm_out *mo, OlmOutboundGroupSession *lo,
    struct msgs *m)
{
	uint8_t raw[1024], lb[1024], pt[MAXPT];
	size_t n;
	int i;

	m->first = mx_megolm_out_index(mo);
	check(olm_outbound_group_session_message_index(lo) == m->first);
	for (i = 0; i < MSGS; i++) {
		m->ptlen[i] = rnd() % MAXPT;
		rnd_bytes(m->pt[i], m->ptlen[i]);
		check(mx_megolm_encrypt(mo, raw, sizeof raw, &n, m->pt[i],
		    m->ptlen[i], NULL) == 0);
		mx_b64_enc(m->b64[i], raw, n);
		memcpy(pt, m->pt[i], m->ptlen[i]);
		n = olm_group_encrypt(lo, pt, m->ptlen[i], lb, sizeof lb);
		check(n != olm_error() && n == strlen(m->b64[i]) &&
		    memcmp(lb, m->b64[i], n) == 0);
	}
}

static void
same_ids(struct mx_megolm_out *mo, OlmOutboundGroupSession *lo)
{
	char id[MX_MEGOLM_ID_B64];
	uint8_t lid[64];
	size_t n;

	mx_megolm_out_id(mo, id);
	n = olm_outbound_group_session_id(lo, lid, sizeof lid);
	check(n == strlen(id) && memcmp(lid, id, n) == 0);
}

/* mx session key -> libolm inbound; libolm session key -> mx inbound. */
static void
share_keys(struct mx_megolm_out *mo, OlmOutboundGroupSession *lo,
    OlmInboundGroupSession **li, struct mx_megolm_in **mi)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], lk[400];
	char b[400];
	size_t n;

	mx_megolm_out_session_key(mo, key);
	mx_b64_enc(b, key, sizeof key);
	n = olm_outbound_group_session_key(lo, lk, sizeof lk);
	check(n == strlen(b) && memcmp(lk, b, n) == 0);
	*li = lo_in_new(b, 0);
	check(mx_b64_dec(key, sizeof key, &n, (char *)lk, n) == 0);
	*mi = mx_megolm_in_new(key, n, NULL);
	check(*mi != NULL &&
	    mx_megolm_in_first_index(*mi) == mx_megolm_out_index(mo));
	check(olm_inbound_group_session_first_known_index(*li) ==
	    mx_megolm_out_index(mo));
}

/* Export at index first+k from each side into the other. */
static void
cross_export(OlmInboundGroupSession *li, struct mx_megolm_in *mi,
    const struct msgs *m, int k)
{
	uint8_t ex[MX_MEGOLM_EXPORT_LEN], lb[400];
	char b[400];
	OlmInboundGroupSession *li2;
	struct mx_megolm_in *mi2;
	uint32_t at = m->first + (uint32_t)k;
	size_t n;
	int o[MSGS], i;

	check(mx_megolm_in_export(mi, at, ex, NULL) == 0);
	mx_b64_enc(b, ex, sizeof ex);
	n = olm_export_inbound_group_session(li, lb, sizeof lb, at);
	check(n == strlen(b) && memcmp(lb, b, n) == 0);
	li2 = lo_in_new(b, 1);
	check(olm_inbound_group_session_first_known_index(li2) == at);
	check(mx_b64_dec(ex, sizeof ex, &n, (char *)lb, n) == 0);
	mi2 = mx_megolm_in_import(ex, n, NULL);
	check(mi2 != NULL && mx_megolm_in_first_index(mi2) == at);
	shuffle(o, MSGS);
	for (i = 0; i < MSGS; i++) {
		int j = o[i], want = j >= k;

		check(lo_decrypt(li2, m, j) == want);
		check(mx_decrypt(mi2, m, j) == want);
	}
	lo_in_free(li2);
	mx_megolm_in_free(mi2);
}

static void
one_round(void)
{
	uint8_t r[160];
	struct mx_megolm_out *mo;
	OlmOutboundGroupSession *lo;
	OlmInboundGroupSession *li;
	struct mx_megolm_in *mi;
	static struct msgs m;
	int o[MSGS], i, skip = (int)(rnd() % 3);

	rnd_bytes(r, sizeof r);
	mo = mx_megolm_out_new_rand(r);
	lo = lo_out_new(r);
	same_ids(mo, lo);
	/* sometimes share later than index 0 */
	while (skip-- > 0)
		encrypt_both(mo, lo, &m);
	share_keys(mo, lo, &li, &mi);
	encrypt_both(mo, lo, &m);
	shuffle(o, MSGS);
	for (i = 0; i < MSGS; i++) {
		check(lo_decrypt(li, &m, o[i]));	/* mx -> libolm */
		check(mx_decrypt(mi, &m, o[i]));	/* libolm -> mx */
	}
	cross_export(li, mi, &m, (int)(rnd() % MSGS));
	lo_in_free(li);
	mx_megolm_in_free(mi);
	lo_out_free(lo);
	mx_megolm_out_free(mo);
}

/* A libolm session decrypted by mx newest first; a decoy mx session with
 * another key must refuse every message. */
static void
libolm_backwards(void)
{
	uint8_t r[160], lk[400], key[MX_MEGOLM_SESSION_KEY_LEN];
	OlmOutboundGroupSession *lo;
	struct mx_megolm_out *mo;
	struct mx_megolm_in *mi, *decoy;
	static struct msgs m;
	size_t n;
	int i;

	rnd_bytes(r, sizeof r);
	lo = lo_out_new(r);
	n = olm_outbound_group_session_key(lo, lk, sizeof lk);
	check(mx_b64_dec(key, sizeof key, &n, (char *)lk, n) == 0);
	mi = mx_megolm_in_new(key, n, NULL);
	rnd_bytes(r, sizeof r);
	mo = mx_megolm_out_new_rand(r);
	mx_megolm_out_session_key(mo, key);
	decoy = mx_megolm_in_new(key, sizeof key, NULL);
	m.first = 0;
	for (i = 0; i < MSGS; i++) {
		uint8_t pt[MAXPT];

		m.ptlen[i] = rnd() % MAXPT;
		rnd_bytes(m.pt[i], m.ptlen[i]);
		memcpy(pt, m.pt[i], m.ptlen[i]);
		n = olm_group_encrypt(lo, pt, m.ptlen[i], (uint8_t *)m.b64[i],
		    sizeof m.b64[i] - 1);
		check(n != olm_error());
		m.b64[i][n] = '\0';
	}
	for (i = MSGS - 1; i >= 0; i--) {
		check(mx_decrypt(mi, &m, i));
		check(!mx_decrypt(decoy, &m, i));
	}
	mx_megolm_in_free(mi);
	mx_megolm_in_free(decoy);
	mx_megolm_out_free(mo);
	lo_out_free(lo);
}

int
main(void)
{
	int i;

	if (mx_crypto_init() < 0)
		return 1;
	rng_seed(SEED);
	printf("# seed 0x%llx\n", (unsigned long long)SEED);
	for (i = 0; i < ROUNDS; i++) {
		fails = 0;
		one_round();
		ok(fails == 0, "round %d: ids, keys, ciphertexts, decrypts, "
		    "exports agree", i);
	}
	fails = 0;
	for (i = 0; i < 10; i++)
		libolm_backwards();
	ok(fails == 0, "libolm sessions decrypted by mx backwards");
	return done();
}
