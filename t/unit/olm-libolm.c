/*
 * t/unit/olm-libolm: lib/olm against libolm 3.2 (test-only dependency).
 *
 * Each side of a conversation is played by both implementations at once,
 * fed the same randomness: an mx instance and a libolm instance.  Every
 * message is encrypted by both and must be byte-identical; it is then
 * delivered to the receiver's mx and libolm instances (out of order, some
 * never, some twice, pre-key messages repeated) and both must agree on
 * success or failure and on the plaintext.  Identity keys, one-time keys
 * and session ids must agree too.  Which implementation's bytes are
 * delivered is picked at random, so mx -> libolm and libolm -> mx both
 * run, for sessions made by either.
 *
 * Fixed seed (printed; MX_OLM_SEED overrides).  MX_OLM_BENCH=1 adds a
 * throughput comparison printed as TAP comments.
 */
#include <olm/olm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "crypto.h"
#include "olm.h"
#include "pickle.h"
#include "helpers.h"
#include "tap.h"

#define CONVS 1500
#define MAXQ 256
#define BUF 2048

static uint64_t seed = 0x6d782d6f6c6d2d31ULL;	/* "mx-olm-1" */
static unsigned long fails;	/* divergences, reported at the end */

/* Record a divergence with a short note (first few printed). */
static void
diverge(const char *what, unsigned conv)
{
	if (fails++ < 10)
		printf("# divergence in conversation %u: %s\n", conv, what);
}

struct side {
	struct mx_olm_account *ma;
	OlmAccount *oa;
	struct mx_olm_session *ms;
	OlmSession *os;
	char idkey[MX_OLM_KEY_B64];
};

struct qmsg {
	int type;
	size_t n;
	char b64[BUF];		/* as Matrix carries it */
	uint8_t plain[320];
	size_t pn;
	int delivered;
};

struct queue {
	struct qmsg m[MAXQ];
	unsigned n;
};

static OlmAccount *
olm_acct(void)
{
	return olm_account(malloc(olm_account_size()));
}

static OlmSession *
olm_sess(void)
{
	return olm_session(malloc(olm_session_size()));
}

static void
side_free(struct side *s)
{
	mx_olm_account_free(s->ma);
	mx_olm_session_free(s->ms);
	if (s->oa) {
		olm_clear_account(s->oa);
		free(s->oa);
	}
	if (s->os) {
		olm_clear_session(s->os);
		free(s->os);
	}
	memset(s, 0, sizeof(*s));
}

/* Both accounts from one random; identity keys must agree. */
static void
side_init(struct side *s, unsigned conv)
{
	uint8_t r[64];
	char json[256], want[256], ed[MX_OLM_KEY_B64];

	memset(s, 0, sizeof(*s));
	rnd_bytes(r, sizeof(r));
	s->ma = mx_olm_account_new_rand(r);
	s->oa = olm_acct();
	olm_create_account(s->oa, r, sizeof(r));
	mx_olm_account_curve25519_b64(s->ma, s->idkey);
	mx_olm_account_ed25519_b64(s->ma, ed);
	snprintf(want, sizeof(want),
	    "{\"curve25519\":\"%s\",\"ed25519\":\"%s\"}", s->idkey, ed);
	json[olm_account_identity_keys(s->oa, json, sizeof(json) - 1)] = '\0';
	if (strcmp(json, want) != 0)
		diverge("identity keys", conv);
}

/* Bob's one-time keys in both; returns the chosen one (b64) in otk. */
static void
gen_otks(struct side *s, unsigned n, char otk[MX_OLM_KEY_B64], unsigned conv)
{
	uint8_t r[32 * 8];
	struct mx_olm_otk k[8];
	char json[1024], want[1024];
	size_t i, len = 0;

	rnd_bytes(r, 32 * n);
	mx_olm_account_generate_otks_rand(s->ma, n, r);
	olm_account_generate_one_time_keys(s->oa, n, r, 32 * n);
	if (mx_olm_account_otks(s->ma, k, 8) != n)
		diverge("otk count", conv);
	/* libolm lists the newest first, mx the oldest first */
	len += (size_t)snprintf(want, sizeof(want), "{\"curve25519\":{");
	for (i = n; i-- > 0;)
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "%s\"%s\":\"%s\"", i + 1 < n ? "," : "", k[i].id,
		    k[i].key);
	snprintf(want + len, sizeof(want) - len, "}}");
	json[olm_account_one_time_keys(s->oa, json, sizeof(json) - 1)] = '\0';
	if (strcmp(json, want) != 0)
		diverge("one-time keys", conv);
	mx_olm_account_mark_published(s->ma);
	olm_account_mark_keys_as_published(s->oa);
	strcpy(otk, k[pick(n)].key);
}

static void
check_ids(struct side *s, unsigned conv)
{
	char a[MX_OLM_KEY_B64], b[64];
	size_t n;

	mx_olm_session_id(s->ms, a);
	n = olm_session_id(s->os, b, sizeof(b) - 1);
	b[n == olm_error() ? 0 : n] = '\0';
	if (strcmp(a, b) != 0)
		diverge("session id", conv);
}

static void
outbound(struct side *al, const struct side *bo, const char *otk,
    unsigned conv)
{
	uint8_t r[64], id[32], k[32];

	rnd_bytes(r, sizeof(r));
	mx_b64_dec_exact(id, 32, bo->idkey);
	mx_b64_dec_exact(k, 32, otk);
	al->ms = mx_olm_session_new_outbound_rand(al->ma, id, k, r, NULL);
	al->os = olm_sess();
	if (al->ms == NULL || olm_create_outbound_session(al->os, al->oa,
	    bo->idkey, 43, otk, 43, r, sizeof(r)) == olm_error()) {
		diverge("outbound session", conv);
		return;
	}
	check_ids(al, conv);
}

/* Encrypt with both; bytes must match.  The queued copy comes from mx or
 * libolm in turn. */
static void
send(struct side *s, struct queue *q, unsigned conv)
{
	struct qmsg *m;
	uint8_t r[32], raw[BUF];
	char ob[BUF];
	size_t rl = mx_olm_encrypt_rand_len(s->ms), n, on;
	int type;

	if (q->n == MAXQ)
		return;
	m = &q->m[q->n++];
	memset(m, 0, sizeof(*m));
	m->pn = pick(300);
	rnd_bytes(m->plain, m->pn);
	rnd_bytes(r, rl);
	if (rl != olm_encrypt_random_length(s->os))
		diverge("encrypt random length", conv);
	if ((size_t)mx_olm_encrypt_type(s->ms) !=
	    olm_encrypt_message_type(s->os))
		diverge("message type", conv);
	if (mx_olm_encrypt_rand(s->ms, &type, raw, sizeof(raw), &n, m->plain,
	    m->pn, r, NULL) < 0) {
		diverge("mx encrypt", conv);
		return;
	}
	on = olm_encrypt(s->os, m->plain, m->pn, r, rl, ob,
	    olm_encrypt_message_length(s->os, m->pn));
	m->type = type;
	mx_b64_enc(m->b64, raw, n);
	if (on == olm_error() || on != strlen(m->b64) ||
	    memcmp(ob, m->b64, on) != 0)
		diverge("ciphertext bytes", conv);
	if (pick(2)) {
		memcpy(m->b64, ob, on);
		m->b64[on] = '\0';
	}
	m->n = strlen(m->b64);
}

/* Bob's first pre-key message makes his sessions. */
static int
inbound(struct side *bo, const struct qmsg *m, unsigned conv)
{
	uint8_t raw[BUF];
	char tmp[BUF];
	size_t n;

	mx_b64_dec(raw, sizeof(raw), &n, m->b64, m->n);
	bo->ms = mx_olm_session_new_inbound(bo->ma, NULL, raw, n, NULL);
	bo->os = olm_sess();
	memcpy(tmp, m->b64, m->n);
	if (olm_create_inbound_session(bo->os, bo->oa, tmp, m->n) ==
	    olm_error() || bo->ms == NULL) {
		diverge("inbound session", conv);
		return -1;
	}
	check_ids(bo, conv);
	return 0;
}

/* Deliver to both receivers; returns 1 when decrypted.  match: a pre-key
 * message must match the session in both (0 for tampered input). */
static int
deliver_x(struct side *to, struct qmsg *m, unsigned conv, int match)
{
	uint8_t raw[BUF], mp[BUF];
	char tmp[BUF], op[BUF];
	size_t n, mn = 0, on;
	int mr, om, mm;

	mx_b64_dec(raw, sizeof(raw), &n, m->b64, m->n);
	if (m->type == 0) {
		memcpy(tmp, m->b64, m->n);
		om = olm_matches_inbound_session(to->os, tmp, m->n) == 1;
		mm = mx_olm_session_matches(to->ms, raw, n);
		/* on malformed input libolm may still say it matches (a
		 * pre-key message cut right after its keys), mx does not */
		if (match && (om != mm || !mm))
			diverge("matches inbound", conv);
	}
	mr = mx_olm_decrypt(to->ms, m->type, raw, n, mp, sizeof(mp), &mn,
	    NULL);
	memcpy(tmp, m->b64, m->n);
	on = olm_decrypt(to->os, (size_t)m->type, tmp, m->n, op, sizeof(op));
	if ((mr == 0) != (on != olm_error()))
		diverge(mr == 0 ? "mx decrypted, libolm did not" :
		    "libolm decrypted, mx did not", conv);
	if (mr == 0 && (mn != m->pn || memcmp(mp, m->plain, mn) != 0))
		diverge("mx plaintext", conv);
	if (on != olm_error() && (on != m->pn ||
	    memcmp(op, m->plain, on) != 0))
		diverge("libolm plaintext", conv);
	if (mr == 0 && m->delivered)
		diverge("replay accepted", conv);
	m->delivered = 1;
	return mr == 0;
}

static int
deliver(struct side *to, struct qmsg *m, unsigned conv)
{
	return deliver_x(to, m, conv, 1);
}

static void
deliver_quiet(struct side *to, struct qmsg *m, unsigned conv)
{
	deliver_x(to, m, conv, 0);
}

/* Sometimes swap a session for its unpickled copy. */
static void
repickle(struct side *s, unsigned conv)
{
	struct mx_buf b = MX_BUF_INIT;
	struct mx_olm_session *t;

	mx_olm_session_pickle(s->ms, &b);
	t = mx_olm_session_unpickle(b.p, b.len, NULL);
	mx_buf_release_wipe(&b);
	if (t == NULL) {
		diverge("unpickle", conv);
		return;
	}
	mx_olm_session_free(s->ms);
	s->ms = t;
}

struct stats {
	unsigned long sent, ok, refused, replays, tampered;
};

/* Deliver a message chosen from q (recent ones more often). */
static void
deliver_some(struct side *to, struct queue *q, struct stats *st,
    unsigned conv)
{
	struct qmsg *m;
	unsigned i;

	if (q->n == 0)
		return;
	i = pick(4) ? q->n - 1 - pick(q->n < 4 ? q->n : 4) : pick(q->n);
	m = &q->m[i];
	if (m->delivered && pick(4))
		return;		/* replays, but not too many */
	if (to->ms == NULL) {
		if (m->type != 0 || inbound(to, m, conv) < 0)
			return;
		if (!deliver(to, m, conv)) {
			diverge("first pre-key message", conv);
			return;
		}
		st->ok++;
		if (mx_olm_account_remove_otk(to->ma, to->ms, NULL) != 0 ||
		    olm_remove_one_time_keys(to->oa, to->os) == olm_error())
			diverge("remove one-time key", conv);
		return;
	}
	if (m->delivered)
		st->replays++;
	if (deliver(to, m, conv))
		st->ok++;
	else
		st->refused++;
}

/* Tampered copies (one flipped bit, or cut short) must be refused by
 * both, and change nothing: the original still opens afterwards. */
static void
tamper(struct side *to, struct queue *q, struct stats *st, unsigned conv)
{
	struct qmsg *m, bad;
	uint8_t raw[BUF];
	size_t n, skip;

	if (q->n == 0 || to->ms == NULL)
		return;
	m = &q->m[q->n - 1 - pick(q->n < 3 ? q->n : 3)];
	bad = *m;
	mx_b64_dec(raw, sizeof(raw), &n, m->b64, m->n);
	/* libolm ignores a pre-key message's outer keys on an existing
	 * session where mx refuses a mismatch (t/unit/olm checks that), so
	 * only the inner message is tampered with here: its last 8 bytes
	 * and the inner length field hold at most 1 + 3 * 34 + 3 bytes */
	skip = m->type == 0 ? 1 + 3 * (2 + 32) + 3 : 0;
	if (pick(4))
		raw[skip + pick((unsigned)(n - skip))] ^=
		    (uint8_t)(1u << pick(8));
	else
		n -= 1 + pick((unsigned)n / 2);
	mx_b64_enc(bad.b64, raw, n);
	bad.n = strlen(bad.b64);
	bad.delivered = 1;	/* any success is a divergence */
	if (bad.type == 0 && pick(2))
		bad.type = 1;
	st->tampered++;
	deliver_quiet(to, &bad, conv);
}

static void
conversation(unsigned conv, struct stats *st)
{
	static struct queue qa, qb;	/* to alice, to bob */
	struct side al, bo;
	char otk[MX_OLM_KEY_B64];
	unsigned step, steps = 10 + pick(60);

	side_init(&al, conv);
	side_init(&bo, conv);
	gen_otks(&bo, 1 + pick(5), otk, conv);
	outbound(&al, &bo, otk, conv);
	qa.n = qb.n = 0;
	for (step = 0; step < steps && al.ms != NULL; step++) {
		switch (pick(16)) {
		case 0:
		case 1:
		case 2:
			send(&al, &qb, conv);
			st->sent++;
			break;
		case 3:
		case 4:
			if (bo.ms != NULL) {
				send(&bo, &qa, conv);
				st->sent++;
			}
			break;
		case 5: case 6: case 7: case 8:
			deliver_some(&bo, &qb, st, conv);
			break;
		case 9: case 10: case 11: case 12: case 13:
			deliver_some(&al, &qa, st, conv);
			break;
		case 15:
			tamper(pick(2) ? &al : &bo, pick(2) ? &qa : &qb, st,
			    conv);
			break;
		case 14:
			repickle(pick(2) || bo.ms == NULL ? &al : &bo, conv);
			break;
		}
	}
	side_free(&al);
	side_free(&bo);
}

/* A message left behind while the ratchet turns more than
 * MX_OLM_MAX_RECV_CHAINS times, then gaps at and past MX_OLM_MAX_GAP. */
static void
limits(unsigned conv)
{
	static struct queue qa, qb;
	struct side al, bo;
	char otk[MX_OLM_KEY_B64];
	unsigned long f0 = fails;
	unsigned i;

	side_init(&al, conv);
	side_init(&bo, conv);
	gen_otks(&bo, 1, otk, conv);
	outbound(&al, &bo, otk, conv);
	qa.n = qb.n = 0;
	send(&al, &qb, conv);
	inbound(&bo, &qb.m[0], conv);
	if (!deliver(&bo, &qb.m[0], conv))
		diverge("limits: first message", conv);
	for (i = 0; i < 14; i++) {
		send(&bo, &qa, conv);
		if (i == 0)
			send(&bo, &qa, conv);	/* left behind */
		if (!deliver(&al, &qa.m[qa.n - 1], conv))
			diverge("limits: turn", conv);
		send(&al, &qb, conv);
		if (!deliver(&bo, &qb.m[qb.n - 1], conv))
			diverge("limits: turn", conv);
	}
	if (deliver(&al, &qa.m[0], conv))
		diverge("limits: evicted chain accepted", conv);
	ok(fails == f0, "a message on an evicted chain is refused by both");
	f0 = fails;
	qb.n = 0;
	for (i = 0; i < MX_OLM_MAX_GAP + 2; i++) {
		send(&al, &qb, conv);
		if (qb.n == MAXQ)
			qb.n = 0;
	}
	if (deliver(&bo, &qb.m[qb.n - 1], conv))
		diverge("limits: gap of 2001 accepted", conv);
	if (!deliver(&bo, &qb.m[qb.n - 2], conv))
		diverge("limits: gap of 2000 refused", conv);
	ok(fails == f0, "gap 2000 accepted, 2001 refused, by both");
	side_free(&al);
	side_free(&bo);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Messages per second encrypting + decrypting 200-byte messages, b64 on
 * the wire as in Matrix, one way (chain steps) and turn by turn. */
static void
bench(void)
{
	struct side al, bo;
	struct queue *q = calloc(1, sizeof(*q));
	char otk[MX_OLM_KEY_B64], tmp[BUF], op[BUF];
	uint8_t raw[BUF], pt[200], mp[BUF], r[32];
	size_t n, mn;
	int i, type, turn;
	double t;
	const int N = 20000;

	memset(pt, 'x', sizeof(pt));
	side_init(&al, 0);
	side_init(&bo, 0);
	gen_otks(&bo, 1, otk, 0);
	outbound(&al, &bo, otk, 0);
	send(&al, q, 0);
	inbound(&bo, &q->m[0], 0);
	deliver(&bo, &q->m[0], 0);
	for (turn = 0; turn < 2; turn++) {
		t = now();
		for (i = 0; i < N; i++) {
			struct side *f = turn && i % 2 ? &bo : &al;
			struct side *d = f == &al ? &bo : &al;

			rnd_bytes(r, 32);
			mx_olm_encrypt_rand(f->ms, &type, raw, sizeof(raw),
			    &n, pt, sizeof(pt), r, NULL);
			mx_b64_enc(tmp, raw, n);
			n = mx_b64_dec(raw, sizeof(raw), &n, tmp,
			    strlen(tmp)) == 0 ? n : 0;
			mx_olm_decrypt(d->ms, type, raw, n, mp, sizeof(mp),
			    &mn, NULL);
		}
		t = now() - t;
		printf("# bench %s: mx %.0f msg/s", turn ? "alternating" :
		    "one way", N / t);
		fflush(stdout);
		t = now();
		for (i = 0; i < N; i++) {
			struct side *f = turn && i % 2 ? &bo : &al;
			struct side *d = f == &al ? &bo : &al;
			size_t on, rl = olm_encrypt_random_length(f->os);

			rnd_bytes(r, 32);
			type = (int)olm_encrypt_message_type(f->os);
			on = olm_encrypt(f->os, pt, sizeof(pt), r, rl, tmp,
			    olm_encrypt_message_length(f->os, sizeof(pt)));
			olm_decrypt(d->os, (size_t)type, tmp, on, op,
			    sizeof(op));
		}
		printf(", libolm %.0f msg/s\n", N / (now() - t));
	}
	free(q);
	side_free(&al);
	side_free(&bo);
}

int
main(void)
{
	struct stats st = { 0, 0, 0, 0, 0 };
	const char *env = getenv("MX_OLM_SEED");
	unsigned c;
	double t;

	if (mx_crypto_init() < 0)
		return 1;
	if (env != NULL)
		seed = strtoull(env, NULL, 0);
	printf("# seed 0x%016llx\n", (unsigned long long)seed);
	rng_seed(seed);
	t = now();
	for (c = 0; c < CONVS; c++)
		conversation(c, &st);
	t = now() - t;
	printf("# %u conversations, %lu messages sent, %lu decrypted, "
	    "%lu refused (%lu replays), %lu tampered, %.1f s\n", CONVS,
	    st.sent, st.ok, st.refused, st.replays, st.tampered, t);
	ok(fails == 0, "mx and libolm agree everywhere (%lu divergences)",
	    fails);
	ok(st.ok > st.sent / 2, "most messages decrypted");
	ok(st.replays > 0 && st.tampered > 0, "replays and tampering tried");
	limits(CONVS);
	if (getenv("MX_OLM_BENCH") != NULL)
		bench();
	return done();
}
