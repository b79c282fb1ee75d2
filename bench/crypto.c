/*
 * bench/crypto: throughput of mx's Megolm and Olm against libolm on the
 * same machine in one run, and the time to read a key-export file.  Prints
 * one line per metric: "metric mx_per_s libolm_per_s ratio" (ratio =
 * mx/libolm; "-" where libolm has no equivalent).  Both sides handle
 * base64 text, as libolm's API does: mx's time includes its base64.
 * Built and run by bench/crypto.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>

#include "b64.h"
#include "crypto.h"
#include "keyexport.h"
#include "megolm.h"
#include "olm.h"

#define MSGLEN 200
#define ROUNDS 8		/* interleaved chunks; the best of each side */
#define CHUNK 2500
#define NMSG (ROUNDS * CHUNK)
#define B64MAX 1024

static uint8_t plain[MSGLEN];
static char (*ct_mx)[B64MAX], (*ct_lo)[B64MAX];

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
report(const char *metric, double mx, double lo)
{
	if (lo > 0)
		printf("%s %.0f %.0f %.2f\n", metric, mx, lo, mx / lo);
	else
		printf("%s %.0f - -\n", metric, mx);
	fflush(stdout);
}

static void
die(const char *what)
{
	fprintf(stderr, "bench/crypto: %s\n", what);
	exit(1);
}

/*
 * The machine may be shared: mx and libolm run in alternating chunks of
 * CHUNK messages (the same messages, in order) and each side reports its
 * best chunk, so that load from elsewhere hits both alike.
 */
#define BEST(bm, bl, xm, xl) do {					\
	double v_;							\
	bm = bl = 0;							\
	for (i0 = 0; i0 < NMSG; i0 += CHUNK) {				\
		if ((v_ = (xm)) > bm)					\
			bm = v_;					\
		if ((v_ = (xl)) > bl)					\
			bl = v_;					\
	}								\
} while (0)

/* ---- Megolm ---- */

static double
mx_megolm_enc(struct mx_megolm_out *o, int i0, int n)
{
	uint8_t raw[B64MAX];
	size_t len;
	double t = now();
	int i;

	for (i = 0; i < n; i++) {
		if (mx_megolm_encrypt(o, raw, sizeof raw, &len, plain, MSGLEN,
		    NULL) < 0)
			die("mx megolm encrypt");
		mx_b64_enc(ct_mx[i0 + i], raw, len);
	}
	return n / (now() - t);
}

static double
lo_megolm_enc(OlmOutboundGroupSession *o, int i0, int n)
{
	uint8_t pt[MSGLEN];
	double t = now();
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		memcpy(pt, plain, MSGLEN);
		len = olm_group_encrypt(o, pt, MSGLEN, (uint8_t *)ct_lo[i0 + i],
		    B64MAX - 1);
		if (len == olm_error())
			die("libolm megolm encrypt");
		ct_lo[i0 + i][len] = '\0';
	}
	return n / (now() - t);
}

static double
mx_megolm_dec(struct mx_megolm_in *s, int i0, int n)
{
	uint8_t raw[B64MAX], pt[B64MAX];
	size_t rl, pl;
	uint32_t idx;
	double t = now();
	int i;

	for (i = 0; i < n; i++)
		if (mx_b64_dec(raw, sizeof raw, &rl, ct_mx[i0 + i],
		    strlen(ct_mx[i0 + i])) < 0 ||
		    mx_megolm_decrypt(s, pt, sizeof pt, &pl, &idx, raw, rl,
		    NULL) < 0 || pl != MSGLEN)
			die("mx megolm decrypt");
	return n / (now() - t);
}

static double
lo_megolm_dec(OlmInboundGroupSession *s, int i0, int n)
{
	uint8_t buf[B64MAX], pt[B64MAX];
	uint32_t idx;
	double t = now();
	size_t l;
	int i;

	for (i = 0; i < n; i++) {
		l = strlen(ct_lo[i0 + i]);
		memcpy(buf, ct_lo[i0 + i], l);	/* libolm decodes in place */
		if (olm_group_decrypt(s, buf, l, pt, sizeof pt, &idx) !=
		    MSGLEN)
			die("libolm megolm decrypt");
	}
	return n / (now() - t);
}

static void
bench_megolm(void)
{
	struct mx_megolm_out *mo = mx_megolm_out_new();
	OlmOutboundGroupSession *lo =
	    olm_outbound_group_session(malloc(
	    olm_outbound_group_session_size()));
	OlmInboundGroupSession *li =
	    olm_inbound_group_session(malloc(olm_inbound_group_session_size()));
	uint8_t r[160], key[MX_MEGOLM_SESSION_KEY_LEN], lk[400];
	struct mx_megolm_in *mi;
	double em, el;
	size_t n;
	int i0;

	mx_random(r, sizeof r);
	if (olm_init_outbound_group_session(lo, r, sizeof r) == olm_error())
		die("libolm outbound");
	mx_megolm_out_session_key(mo, key);
	mi = mx_megolm_in_new(key, sizeof key, NULL);
	n = olm_outbound_group_session_key(lo, lk, sizeof lk);
	if (mi == NULL || olm_init_inbound_group_session(li, lk, n) ==
	    olm_error())
		die("inbound sessions");
	BEST(em, el, mx_megolm_enc(mo, i0, CHUNK),
	    lo_megolm_enc(lo, i0, CHUNK));
	report("megolm_encrypt_200B", em, el);
	BEST(em, el, mx_megolm_dec(mi, i0, CHUNK),
	    lo_megolm_dec(li, i0, CHUNK));
	report("megolm_decrypt_200B", em, el);
	mx_megolm_out_free(mo);
	mx_megolm_in_free(mi);
	olm_clear_outbound_group_session(lo);
	olm_clear_inbound_group_session(li);
	free(lo);
	free(li);
}

/* ---- Olm: alice -> bob, after one round trip (steady chain) ---- */

struct mx_pair {
	struct mx_olm_account *a, *b;
	struct mx_olm_session *as, *bs;
};

static void
mx_send(struct mx_olm_session *from, struct mx_olm_session **to,
    struct mx_olm_account *acc)
{
	uint8_t raw[B64MAX], pt[B64MAX];
	size_t rl, pl;
	int type;

	if (mx_olm_encrypt(from, &type, raw, sizeof raw, &rl, plain, MSGLEN,
	    NULL) < 0)
		die("mx olm encrypt");
	if (*to == NULL &&
	    (*to = mx_olm_session_new_inbound(acc, NULL, raw, rl, NULL)) ==
	    NULL)
		die("mx olm inbound");
	if (mx_olm_decrypt(*to, type, raw, rl, pt, sizeof pt, &pl, NULL) < 0)
		die("mx olm decrypt");
}

static void
mx_pair_new(struct mx_pair *p)
{
	uint8_t bid[MX_OLM_KEY_LEN];
	struct mx_olm_otk otk;

	p->a = mx_olm_account_new();
	p->b = mx_olm_account_new();
	mx_olm_account_generate_otks(p->b, 1);
	mx_olm_account_otks(p->b, &otk, 1);
	mx_olm_account_curve25519(p->b, bid);
	p->as = mx_olm_session_new_outbound(p->a, bid, otk.pub, NULL);
	if (p->as == NULL)
		die("mx olm outbound");
	p->bs = NULL;
	mx_send(p->as, &p->bs, p->b);
	mx_send(p->bs, &p->as, p->a);
}

static double
mx_olm_enc(struct mx_olm_session *s, int i0, int n)
{
	uint8_t raw[B64MAX];
	double t = now();
	size_t rl;
	int i, type;

	for (i = 0; i < n; i++) {
		if (mx_olm_encrypt(s, &type, raw, sizeof raw, &rl, plain,
		    MSGLEN, NULL) < 0 || type != MX_OLM_MESSAGE)
			die("mx olm encrypt");
		mx_b64_enc(ct_mx[i0 + i], raw, rl);
	}
	return n / (now() - t);
}

static double
mx_olm_dec(struct mx_olm_session *s, int i0, int n)
{
	uint8_t raw[B64MAX], pt[B64MAX];
	double t = now();
	size_t rl, pl;
	int i;

	for (i = 0; i < n; i++)
		if (mx_b64_dec(raw, sizeof raw, &rl, ct_mx[i0 + i],
		    strlen(ct_mx[i0 + i])) < 0 ||
		    mx_olm_decrypt(s, MX_OLM_MESSAGE, raw, rl, pt, sizeof pt,
		    &pl, NULL) < 0)
			die("mx olm decrypt");
	return n / (now() - t);
}

struct lo_pair {
	OlmAccount *a, *b;
	OlmSession *as, *bs;
};

static void *
rnd_alloc(size_t n)
{
	uint8_t *p = malloc(n + 1);

	mx_random(p, n + 1);
	return p;
}

/* The value of the first "key":"value" after field in libolm's JSON. */
static void
json_key(char *out, const char *json, const char *field)
{
	const char *p = strstr(json, field);

	if (p == NULL || (p = strstr(p + strlen(field), ":\"")) == NULL)
		die("libolm json");
	memcpy(out, p + 2, 43);
	out[43] = '\0';
}

static void
lo_send(OlmSession *from, OlmSession *to)
{
	uint8_t msg[B64MAX], pt[B64MAX], pl[MSGLEN];
	size_t rl = olm_encrypt_random_length(from), ml;
	void *r = rnd_alloc(rl);
	size_t type = olm_encrypt_message_type(from);

	memcpy(pl, plain, MSGLEN);
	ml = olm_encrypt(from, pl, MSGLEN, r, rl, msg, sizeof msg);
	free(r);
	if (ml == olm_error() ||
	    olm_decrypt(to, type, msg, ml, pt, sizeof pt) == olm_error())
		die("libolm olm round trip");
}

static OlmAccount *
lo_account(void)
{
	OlmAccount *a = olm_account(malloc(olm_account_size()));
	size_t rl = olm_create_account_random_length(a);
	void *r = rnd_alloc(rl);

	if (olm_create_account(a, r, rl) == olm_error())
		die("libolm account");
	free(r);
	return a;
}

static void
lo_pair_new(struct lo_pair *p)
{
	char buf[4096], bid[44], botk[44];
	uint8_t msg[B64MAX], pl[MSGLEN];
	size_t rl, ml;
	void *r;

	p->a = lo_account();
	p->b = lo_account();
	rl = olm_account_generate_one_time_keys_random_length(p->b, 1);
	r = rnd_alloc(rl);
	olm_account_generate_one_time_keys(p->b, 1, r, rl);
	free(r);
	buf[olm_account_identity_keys(p->b, buf, sizeof buf - 1)] = '\0';
	json_key(bid, buf, "\"curve25519\"");
	buf[olm_account_one_time_keys(p->b, buf, sizeof buf - 1)] = '\0';
	json_key(botk, buf, "\"curve25519\":{");
	p->as = olm_session(malloc(olm_session_size()));
	p->bs = olm_session(malloc(olm_session_size()));
	rl = olm_create_outbound_session_random_length(p->as);
	r = rnd_alloc(rl);
	if (olm_create_outbound_session(p->as, p->a, bid, 43, botk, 43, r,
	    rl) == olm_error())
		die("libolm outbound");
	free(r);
	memcpy(pl, plain, MSGLEN);
	rl = olm_encrypt_random_length(p->as);
	r = rnd_alloc(rl);
	ml = olm_encrypt(p->as, pl, MSGLEN, r, rl, msg, sizeof msg);
	free(r);
	memcpy(buf, msg, ml);
	if (olm_create_inbound_session(p->bs, p->b, msg, ml) == olm_error() ||
	    olm_decrypt(p->bs, 0, buf, ml, msg, sizeof msg) == olm_error())
		die("libolm inbound");
	lo_send(p->bs, p->as);
}

static double
lo_olm_enc(OlmSession *s, int i0, int n)
{
	uint8_t pl[MSGLEN], r[64];
	double t = now();
	size_t ml, rl;
	int i;

	for (i = 0; i < n; i++) {
		memcpy(pl, plain, MSGLEN);
		/* a new ratchet key only for the first message of a chain */
		if ((rl = olm_encrypt_random_length(s)) > 0)
			mx_random(r, rl);
		ml = olm_encrypt(s, pl, MSGLEN, r, rl, ct_lo[i0 + i],
		    B64MAX - 1);
		if (ml == olm_error())
			die("libolm olm encrypt");
		ct_lo[i0 + i][ml] = '\0';
	}
	return n / (now() - t);
}

static double
lo_olm_dec(OlmSession *s, int i0, int n)
{
	uint8_t buf[B64MAX], pt[B64MAX];
	double t = now();
	size_t l;
	int i;

	for (i = 0; i < n; i++) {
		l = strlen(ct_lo[i0 + i]);
		memcpy(buf, ct_lo[i0 + i], l);
		if (olm_decrypt(s, 1, buf, l, pt, sizeof pt) != MSGLEN)
			die("libolm olm decrypt");
	}
	return n / (now() - t);
}

static void
bench_olm(void)
{
	struct mx_pair m;
	struct lo_pair l;
	double em, el;
	int i0;

	mx_pair_new(&m);
	lo_pair_new(&l);
	BEST(em, el, mx_olm_enc(m.as, i0, CHUNK), lo_olm_enc(l.as, i0, CHUNK));
	report("olm_encrypt_200B", em, el);
	BEST(em, el, mx_olm_dec(m.bs, i0, CHUNK), lo_olm_dec(l.bs, i0, CHUNK));
	report("olm_decrypt_200B", em, el);
	mx_olm_session_free(m.as);
	mx_olm_session_free(m.bs);
	mx_olm_account_free(m.a);
	mx_olm_account_free(m.b);
	olm_clear_session(l.as);
	olm_clear_session(l.bs);
	olm_clear_account(l.a);
	olm_clear_account(l.b);
	free(l.as);
	free(l.bs);
	free(l.a);
	free(l.b);
}

/* ---- key export: reading a 1000-session file at Element's rounds ---- */

static void
bench_keyexport(void)
{
	struct mx_buf b = MX_BUF_INIT;
	char *text, *json;
	double t;
	int i;

	mx_buf_adds(&b, "[");
	for (i = 0; i < 1000; i++)
		mx_buf_addf(&b, "%s{\"algorithm\":\"m.megolm.v1.aes-sha2\","
		    "\"room_id\":\"!r:x\",\"session_id\":\"s%d\","
		    "\"session_key\":\"%0220d\"}", i ? "," : "", i, i);
	mx_buf_adds(&b, "]");
	text = mx_keyexport_encrypt(b.p, b.len, "pass", MX_KEYEXPORT_ROUNDS,
	    NULL);
	if (text == NULL)
		die("keyexport encrypt");
	t = now();
	json = mx_keyexport_decrypt(text, strlen(text), "pass", NULL, NULL,
	    NULL);
	t = now() - t;
	if (json == NULL)
		die("keyexport decrypt");
	report("keyexport_read_1000_sessions_500k_rounds", 1 / t, 0);
	free(json);
	free(text);
	mx_buf_release(&b);
}

int
main(int argc, char **argv)
{
	if (mx_crypto_init() < 0)
		die("crypto init");
	memset(plain, 'a', sizeof plain);
	ct_mx = calloc(NMSG, B64MAX);
	ct_lo = calloc(NMSG, B64MAX);
	if (ct_mx == NULL || ct_lo == NULL)
		die("out of memory");
	printf("# metric mx_per_s libolm_per_s ratio\n");
	bench_megolm();
	bench_olm();
	if (argc < 2 || strcmp(argv[1], "-q") != 0)
		bench_keyexport();
	free(ct_mx);
	free(ct_lo);
	return 0;
}
