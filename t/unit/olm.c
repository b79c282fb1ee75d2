/*
 * t/unit/olm: the Olm ratchet alone.  Known answers from the research
 * notes' full exchange (crypto.md section 9.2: libolm 3.2.13 with fixed
 * randomness), then round trips, ordering, bounds, tampering and pickles.
 */
#include <stdint.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "olm.h"
#include "pickle.h"
#include "helpers.h"
#include "tap.h"

#define BUF 4096

struct peer {
	struct mx_olm_account *a;
	struct mx_olm_session *s;
};

/* Encrypt into out as b64; returns the type. */
static int
enc_b64(struct mx_olm_session *s, const char *plain, const uint8_t *r,
    char *out)
{
	uint8_t m[BUF];
	size_t n;
	int type = -1;

	if (mx_olm_encrypt_rand(s, &type, m, sizeof(m), &n, plain,
	    strlen(plain), r, NULL) < 0)
		return -1;
	mx_b64_enc(out, m, n);
	return type;
}

static int
dec_b64(struct mx_olm_session *s, int type, const char *b64, char *plain)
{
	uint8_t m[BUF];
	size_t n, pn;

	if (mx_b64_dec(m, sizeof(m), &n, b64, strlen(b64)) < 0)
		return -1;
	if (mx_olm_decrypt(s, type, m, n, (uint8_t *)plain, BUF, &pn,
	    NULL) < 0)
		return -1;
	plain[pn] = '\0';
	return 0;
}

static void
test_kat(void)
{
	static const char msg1[] = "AwogST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4Xns"
	    "awENUx0SIGBacl0qSt/usaKeF+3WIcG3WT7ozbxErGxKtuL4BdI8GiA1gHLWNliA"
	    "0a7qMprfkSE4OFHtIaKOO3XpZdDSzRZiVCI/Awog3CzKMejkO72R3/fkdcyjNH60"
	    "eBB9W9dlq6SuSjDDXUQQACIQo+4rVh8H2yoX4lYLKyH/6UIB3WGKx2fX";
	static const char msg2[] = "Awogc2hF1U6H3gnWuxFKpwQsUKSgFb2ZAdGgAm9Z"
	    "VlM6FRkQACIQiAKmdh3ZMInrFPXKano1LiQ8bOj7HOHJ";
	static const char msg3[] = "Awog2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gE"
	    "y5Nn/2YQACIgX0RfyB12BZgdGCS1DLEFl3wAe8EXyMDTONZP4eq5ZdpEh/ulvN5q"
	    "ag";
	struct mx_olm_account *alice, *bob;
	struct mx_olm_session *as, *bs;
	struct mx_olm_otk otk;
	uint8_t r[64], bob_id[32];
	char k[MX_OLM_SIG_B64], out[BUF], plain[BUF];

	seq(r, 0x00, 64);
	alice = mx_olm_account_new_rand(r);
	seq(r, 0x40, 64);
	bob = mx_olm_account_new_rand(r);
	mx_olm_account_curve25519_b64(alice, k);
	is_str(k, "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ",
	    "kat: alice curve");
	mx_olm_account_ed25519_b64(alice, k);
	is_str(k, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
	    "kat: alice ed");
	mx_olm_account_curve25519_b64(bob, k);
	is_str(k, "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8",
	    "kat: bob curve");
	mx_olm_account_sign_b64(alice, k, "test", 4);
	is_str(k, "pVenqmC6FZx5atGQ7V++5zzx3IcNDlqamwX2VqPQ7ltK8nqbWcGsrxkSm"
	    "XkznQmoaA+YQmxX0NOz4y4wofn+CQ", "kat: ed25519 signature");
	seq(r, 0x80, 32);
	mx_olm_account_generate_otks_rand(bob, 1, r);
	ok(mx_olm_account_otks(bob, &otk, 1) == 1, "kat: one otk");
	is_str(otk.id, "AAAAAQ", "kat: otk id");
	is_str(otk.key, "ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0",
	    "kat: otk");

	mx_olm_account_curve25519(bob, bob_id);
	seq(r, 0xA0, 64);
	as = mx_olm_session_new_outbound_rand(alice, bob_id, otk.pub, r, NULL);
	mx_olm_session_id(as, k);
	is_str(k, "5YJ2sIpPkHgSxneh4xbU5XxwG7ZNd6y4ZQasWHyiAoc",
	    "kat: session id");
	ok(enc_b64(as, "Hello Bob", NULL, out) == 0, "kat: msg1 is pre-key");
	is_str(out, msg1, "kat: msg1 bytes");

	bs = mx_olm_session_new_inbound(bob, NULL, (uint8_t[BUF]){ 0 }, 0,
	    NULL);
	ok(bs == NULL, "inbound from nothing fails");
	{
		uint8_t m[BUF];
		size_t n;
		mx_b64_dec(m, sizeof(m), &n, msg1, strlen(msg1));
		bs = mx_olm_session_new_inbound(bob, NULL, m, n, NULL);
		ok(bs != NULL, "kat: inbound session");
		ok(mx_olm_session_matches(bs, m, n), "kat: matches inbound");
		ok(mx_olm_session_matches_from(bs, bob_id, m, n) == 0,
		    "kat: matches_from another key fails");
	}
	mx_olm_session_id(bs, k);
	is_str(k, "5YJ2sIpPkHgSxneh4xbU5XxwG7ZNd6y4ZQasWHyiAoc",
	    "kat: bob's session id");
	{
		uint8_t who[32], want[32];

		mx_olm_session_their_identity(bs, who);
		mx_olm_account_curve25519(alice, want);
		ok(memcmp(who, want, 32) == 0, "kat: bob's peer is alice");
		mx_olm_session_their_identity(as, who);
		ok(memcmp(who, bob_id, 32) == 0, "kat: alice's peer is bob");
	}
	ok(!mx_olm_session_has_received(as), "kat: alice has not received");
	ok(dec_b64(bs, 0, msg1, plain) == 0, "kat: bob decrypts msg1");
	is_str(plain, "Hello Bob", "kat: msg1 plaintext");
	ok(mx_olm_account_remove_otk(bob, bs, NULL) == 0, "kat: otk removed");
	ok(mx_olm_account_otks(bob, &otk, 1) == 0, "kat: no otk left");

	seq(r, 0xE0, 32);
	ok(mx_olm_encrypt_rand_len(bs) == 32, "kat: bob needs a ratchet key");
	ok(enc_b64(bs, "Hello Alice", r, out) == 1, "kat: msg2 is type 1");
	is_str(out, msg2, "kat: msg2 bytes");
	ok(dec_b64(as, 1, msg2, plain) == 0, "kat: alice decrypts msg2");
	is_str(plain, "Hello Alice", "kat: msg2 plaintext");
	seq(r, 0x10, 32);
	ok(enc_b64(as, "Second from Alice", r, out) == 1, "kat: msg3 type 1");
	is_str(out, msg3, "kat: msg3 bytes");
	ok(dec_b64(bs, 1, msg3, plain) == 0, "kat: bob decrypts msg3");
	is_str(plain, "Second from Alice", "kat: msg3 plaintext");
	ok(dec_b64(bs, 1, msg3, plain) < 0, "kat: msg3 replay refused");

	mx_olm_session_free(as);
	mx_olm_session_free(bs);
	mx_olm_account_free(alice);
	mx_olm_account_free(bob);
}

/* A fresh pair of sessions: alice outbound, bob inbound after msg 0. */
static void
pair(struct peer *al, struct peer *bo)
{
	struct mx_olm_otk otk;
	uint8_t id[32], m[BUF], p[BUF];
	size_t n, pn;
	int type;

	al->a = mx_olm_account_new();
	bo->a = mx_olm_account_new();
	mx_olm_account_generate_otks(bo->a, 1);
	mx_olm_account_otks(bo->a, &otk, 1);
	mx_olm_account_curve25519(bo->a, id);
	al->s = mx_olm_session_new_outbound(al->a, id, otk.pub, NULL);
	mx_olm_encrypt(al->s, &type, m, sizeof(m), &n, "hi", 2, NULL);
	bo->s = mx_olm_session_new_inbound(bo->a, NULL, m, n, NULL);
	mx_olm_decrypt(bo->s, type, m, n, p, sizeof(p), &pn, NULL);
}

static void
unpair(struct peer *al, struct peer *bo)
{
	mx_olm_session_free(al->s);
	mx_olm_session_free(bo->s);
	mx_olm_account_free(al->a);
	mx_olm_account_free(bo->a);
}

struct sealed {
	uint8_t m[512];
	size_t n;
	int type;
};

static int
seal(struct mx_olm_session *s, struct sealed *x, const char *plain)
{
	return mx_olm_encrypt(s, &x->type, x->m, sizeof(x->m), &x->n, plain,
	    strlen(plain), NULL);
}

static int
open_is(struct mx_olm_session *s, const struct sealed *x, const char *want)
{
	uint8_t p[512];
	size_t pn;

	if (mx_olm_decrypt(s, x->type, x->m, x->n, p, sizeof(p), &pn,
	    NULL) < 0)
		return 0;
	return pn == strlen(want) && memcmp(p, want, pn) == 0;
}

/* Pickle s; caller releases. */
static void
snap(const struct mx_olm_session *s, struct mx_buf *b)
{
	mx_buf_reset(b);
	mx_olm_session_pickle(s, b);
}

static void
test_order(void)
{
	struct peer al, bo;
	struct sealed x[50];
	char t[32];
	int i, good = 1;

	pair(&al, &bo);
	for (i = 0; i < 5; i++) {
		snprintf(t, sizeof(t), "m%d", i);
		seal(al.s, &x[i], t);
	}
	ok(x[0].type == 0, "alice still sends pre-key messages");
	ok(open_is(bo.s, &x[3], "m3"), "out of order: 3 first");
	ok(open_is(bo.s, &x[1], "m1"), "then a skipped one, 1");
	ok(open_is(bo.s, &x[4], "m4"), "then 4");
	ok(open_is(bo.s, &x[0], "m0"), "then 0");
	ok(open_is(bo.s, &x[2], "m2"), "then 2");
	ok(!open_is(bo.s, &x[2], "m2"), "replay of a skipped key refused");
	ok(!open_is(bo.s, &x[4], "m4"), "replay of the latest refused");

	/* ratchet turns */
	for (i = 0; i < 6; i++) {
		struct peer *from = i % 2 ? &al : &bo, *to = i % 2 ? &bo : &al;

		snprintf(t, sizeof(t), "turn %d", i);
		seal(from->s, &x[0], t);
		good &= open_is(to->s, &x[0], t);
	}
	ok(good, "six ratchet turns");
	ok(x[0].type == 1, "after a reply alice sends type 1");

	/* more skipped than kept: the oldest skipped key is dropped */
	for (i = 0; i < 42; i++)
		seal(al.s, &x[i], "s");
	ok(open_is(bo.s, &x[41], "s"), "41 skipped: newest opens");
	ok(!open_is(bo.s, &x[0], "s"), "41 skipped: oldest key dropped");
	ok(open_is(bo.s, &x[1], "s"), "41 skipped: 40th oldest kept");
	unpair(&al, &bo);
}

static void
test_gap(void)
{
	struct peer al, bo;
	struct sealed x, y;
	int i;

	pair(&al, &bo);
	for (i = 0; i < MX_OLM_MAX_GAP; i++)
		seal(al.s, &x, "g");
	seal(al.s, &x, "exactly 2000 ahead");
	seal(al.s, &y, "2001");
	ok(open_is(bo.s, &x, "exactly 2000 ahead"), "gap of 2000 accepted");
	for (i = 0; i < MX_OLM_MAX_GAP + 1; i++)
		seal(al.s, &x, "g");
	seal(al.s, &x, "2001 ahead");
	ok(!open_is(bo.s, &x, "2001 ahead"), "gap of 2001 refused");
	ok(open_is(bo.s, &y, "2001"), "session intact after refusal");
	unpair(&al, &bo);
}

static void
test_tamper(void)
{
	struct peer al, bo;
	struct mx_buf b0 = MX_BUF_INIT, b1 = MX_BUF_INIT;
	struct sealed x, bad;
	size_t i;
	int same = 1, refused = 1;

	pair(&al, &bo);
	seal(bo.s, &x, "reply");	/* bob's new ratchet key */
	snap(al.s, &b0);
	for (i = 0; i < x.n; i++) {
		bad = x;
		bad.m[i] ^= 0x01;
		refused &= !open_is(al.s, &bad, "reply");
		snap(al.s, &b1);
		same &= b0.len == b1.len && memcmp(b0.p, b1.p, b0.len) == 0;
	}
	ok(refused, "every flipped bit refused (%zu bytes)", x.n);
	ok(same, "failed decryptions leave the session unchanged");
	bad = x;
	bad.n--;
	ok(!open_is(al.s, &bad, "reply"), "truncated message refused");
	bad = x;
	bad.m[0] = 4;
	ok(!open_is(al.s, &bad, "reply"), "version 4 refused");
	/* counter field (tag 0x10 after the 34-byte key) set to 2^32 */
	bad = x;
	memmove(bad.m + 36 + 5, bad.m + 36 + 1, bad.n - 37);
	memcpy(bad.m + 36, "\x80\x80\x80\x80\x10", 5);
	bad.n += 4;
	{
		struct mx_err e;
		uint8_t p[512];
		size_t pn;

		mx_err_clear(&e);
		ok(bad.m[35] == 0x10 && mx_olm_decrypt(al.s, 1, bad.m, bad.n,
		    p, sizeof(p), &pn, &e) < 0 &&
		    strstr(e.msg, "malformed") != NULL,
		    "counter over 32 bits refused as malformed: %s", e.msg);
	}
	bad = x;
	bad.type = 0;
	ok(!open_is(al.s, &bad, "reply"), "wrong type refused");
	bad.type = 7;
	ok(!open_is(al.s, &bad, "reply"), "unknown type refused");
	ok(open_is(al.s, &x, "reply"), "original still opens");

	/* a pre-key message whose outer keys were changed is refused by an
	 * existing session even though its inner message is intact (libolm
	 * would decrypt it: the outer keys are not covered by the MAC) */
	unpair(&al, &bo);
	pair(&al, &bo);
	seal(al.s, &x, "second pre-key");
	bad = x;
	bad.m[3 + 5] ^= 0x40;	/* inside the one-time key */
	ok(!mx_olm_session_matches(bo.s, bad.m, bad.n) &&
	    !open_is(bo.s, &bad, "second pre-key"),
	    "pre-key message with a changed one-time key refused");
	bad = x;
	bad.m[3 + 34 + 5] ^= 0x40;	/* inside the base key */
	ok(!open_is(bo.s, &bad, "second pre-key"), "changed base key refused");
	ok(open_is(bo.s, &x, "second pre-key"), "the real one opens");
	mx_buf_release_wipe(&b0);
	mx_buf_release_wipe(&b1);
	unpair(&al, &bo);
}

/* Hand-made messages: the parser's edges. */
static void
test_parse(void)
{
	struct mx_olm_prekey pk;
	uint8_t m[200];
	uint8_t key[32] = { 0 };
	size_t n = 0;
	char sid[MX_OLM_KEY_B64];

	ok(mx_olm_prekey_parse(&pk, "", 0, NULL) < 0, "empty pre-key");
	ok(mx_olm_prekey_parse(&pk, "\x02", 1, NULL) < 0, "version 2");
	m[n++] = 3;
	m[n++] = 0x0A, m[n++] = 32;
	memcpy(m + n, key, 32), n += 32;
	m[n++] = 0x12, m[n++] = 32;
	memcpy(m + n, key, 32), n += 32;
	m[n++] = 0x1A, m[n++] = 32;
	memcpy(m + n, key, 32), n += 32;
	m[n++] = 0x22, m[n++] = 1, m[n++] = 'x';
	ok(mx_olm_prekey_parse(&pk, m, n, NULL) == 0, "minimal pre-key");
	ok(mx_olm_prekey_session_id(sid, m, n, NULL) == 0 && strlen(sid) == 43,
	    "session id of a pre-key message");
	ok(mx_olm_prekey_parse(&pk, m, n - 1, NULL) < 0, "short length field");
	m[n - 3] = 0x23;	/* wire type 3 */
	ok(mx_olm_prekey_parse(&pk, m, n, NULL) < 0, "wire type 3 refused");
	m[n - 3] = 0x22;
	m[2] = 31;
	ok(mx_olm_prekey_parse(&pk, m, n, NULL) < 0, "31-byte key refused");
	m[2] = 32;
	/* an unknown varint field with an overlong varint */
	memcpy(m + n, "\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	    12);
	ok(mx_olm_prekey_parse(&pk, m, n + 12, NULL) < 0, "11-byte varint");
	memcpy(m + n, "\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11);
	ok(mx_olm_prekey_parse(&pk, m, n + 11, NULL) < 0, "65-bit varint");
	memcpy(m + n, "\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	ok(mx_olm_prekey_parse(&pk, m, n + 11, NULL) == 0,
	    "64-bit unknown varint skipped");
	memcpy(m + n, "\x28\xff\xff", 3);
	ok(mx_olm_prekey_parse(&pk, m, n + 3, NULL) < 0, "unfinished varint");
	m[n - 2] = 0xff;
	ok(mx_olm_prekey_parse(&pk, m, n, NULL) < 0, "length past the end");
}

static void
test_pickles(void)
{
	struct peer al, bo;
	struct mx_olm_session *s2;
	struct mx_olm_account *a2;
	struct mx_buf b = MX_BUF_INIT, c = MX_BUF_INIT;
	struct sealed x;
	struct mx_err e;
	size_t i;
	int trunc = 1;

	pair(&al, &bo);
	seal(al.s, &x, "one");
	seal(al.s, &x, "two");	/* one skipped key at bob */
	mx_olm_session_pickle(bo.s, &b);
	ok(b.p[0] == 'S' && b.p[1] == 1, "session pickle: kind and version");
	s2 = mx_olm_session_unpickle(b.p, b.len, NULL);
	ok(s2 != NULL, "session unpickles");
	mx_olm_session_pickle(s2, &c);
	ok(b.len == c.len && memcmp(b.p, c.p, b.len) == 0,
	    "session pickle round trip");
	ok(open_is(s2, &x, "two"), "unpickled session decrypts");
	mx_olm_session_free(s2);
	for (i = 0; i < b.len; i++) {
		s2 = mx_olm_session_unpickle(b.p, i, NULL);
		trunc &= s2 == NULL;
		mx_olm_session_free(s2);
	}
	ok(trunc, "every truncated session pickle refused");
	mx_buf_add(&b, "", 1);
	ok(mx_olm_session_unpickle(b.p, b.len, NULL) == NULL,
	    "trailing byte refused");
	b.p[1] = 2;
	mx_err_clear(&e);
	ok(mx_olm_session_unpickle(b.p, b.len - 1, &e) == NULL &&
	    strstr(e.msg, "version") != NULL, "bad version refused: %s",
	    e.msg);
	b.p[1] = 1;
	b.p[0] = 'A';
	ok(mx_olm_account_unpickle(b.p, b.len - 1, NULL) == NULL,
	    "session pickle is not an account");

	mx_buf_reset(&b);
	mx_buf_reset(&c);
	mx_olm_account_generate_otks(al.a, 3);
	mx_olm_account_generate_fallback(al.a);
	mx_olm_account_generate_fallback(al.a);
	mx_olm_account_pickle(al.a, &b);
	a2 = mx_olm_account_unpickle(b.p, b.len, NULL);
	ok(a2 != NULL, "account unpickles");
	if (a2 != NULL)
		mx_olm_account_pickle(a2, &c);
	ok(b.len == c.len && memcmp(b.p, c.p, b.len) == 0,
	    "account pickle round trip");
	mx_olm_account_free(a2);
	trunc = 1;
	for (i = 0; i < b.len; i++) {
		a2 = mx_olm_account_unpickle(b.p, i, NULL);
		trunc &= a2 == NULL;
		mx_olm_account_free(a2);
	}
	ok(trunc, "every truncated account pickle refused");
	mx_buf_add(&b, "x", 1);
	ok(mx_olm_account_unpickle(b.p, b.len, NULL) == NULL,
	    "account trailing byte refused");
	mx_buf_release_wipe(&b);
	mx_buf_release_wipe(&c);
	unpair(&al, &bo);
}

static void
test_keys(void)
{
	struct mx_olm_account *a = mx_olm_account_new();
	struct mx_olm_otk k[MX_OLM_MAX_OTKS + 10], f;
	uint8_t sig[64], pub[32];

	mx_olm_account_generate_otks(a, 5);
	ok(mx_olm_account_otks(a, k, 10) == 5, "five one-time keys");
	is_str(k[4].id, "AAAABQ", "fifth key id");
	mx_olm_account_mark_published(a);
	ok(mx_olm_account_otks(a, k, 10) == 0, "none unpublished");
	mx_olm_account_generate_otks(a, MX_OLM_MAX_OTKS);
	ok(mx_olm_account_otks(a, k, MX_OLM_MAX_OTKS + 10) == MX_OLM_MAX_OTKS,
	    "new ones listed, published ones dropped as oldest");
	is_str(k[0].id, "AAAABg", "oldest kept id");
	ok(mx_olm_account_max_otks() == 100, "max 100");
	ok(mx_olm_account_fallback(a, &f) == 0, "no fallback yet");
	mx_olm_account_generate_fallback(a);
	ok(mx_olm_account_fallback(a, &f) == 1, "fallback key");
	is_str(f.id, "AAAAag", "fallback id continues the counter");
	mx_olm_account_mark_published(a);
	ok(mx_olm_account_fallback(a, &f) == 0, "fallback published");
	mx_olm_account_sign(a, sig, "abc", 3);
	mx_olm_account_ed25519(a, pub);
	ok(mx_ed25519_verify(sig, "abc", 3, pub) == 0, "signature verifies");
	mx_olm_account_free(a);
}

/* A session made from a fallback key keeps the key; an old fallback key
 * still answers until forgotten. */
static void
test_fallback(void)
{
	struct mx_olm_account *al = mx_olm_account_new(),
	    *bo = mx_olm_account_new();
	struct mx_olm_session *as, *bs;
	struct mx_olm_otk f;
	struct sealed x;
	uint8_t id[32];

	mx_olm_account_generate_fallback(bo);
	mx_olm_account_fallback(bo, &f);
	mx_olm_account_generate_fallback(bo);
	mx_olm_account_curve25519(bo, id);
	as = mx_olm_session_new_outbound(al, id, f.pub, NULL);
	seal(as, &x, "fb");
	bs = mx_olm_session_new_inbound(bo, NULL, x.m, x.n, NULL);
	ok(bs != NULL && open_is(bs, &x, "fb"), "previous fallback answers");
	ok(mx_olm_account_remove_otk(bo, bs, NULL) == 1, "fallback kept");
	mx_olm_session_free(bs);
	mx_olm_account_curve25519(al, id);
	bs = mx_olm_session_new_inbound(bo, id, x.m, x.n, NULL);
	ok(bs != NULL, "inbound from the expected identity");
	mx_olm_session_free(bs);
	id[0] ^= 1;
	bs = mx_olm_session_new_inbound(bo, id, x.m, x.n, NULL);
	ok(bs == NULL, "inbound from an unexpected identity refused");
	mx_olm_account_forget_old_fallback(bo);
	bs = mx_olm_session_new_inbound(bo, NULL, x.m, x.n, NULL);
	ok(bs == NULL, "forgotten fallback key no longer answers");
	mx_olm_session_free(as);
	mx_olm_account_free(al);
	mx_olm_account_free(bo);
}

int
main(void)
{
	if (mx_crypto_init() < 0)
		return 1;
	test_kat();
	test_order();
	test_gap();
	test_tamper();
	test_parse();
	test_pickles();
	test_keys();
	test_fallback();
	return done();
}
