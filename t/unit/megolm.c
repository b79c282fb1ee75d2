/*
 * megolm: ratchet known answers (libolm's test_megolm.cpp values, quoted in
 * research/crypto.md 9.1), a session made from fixed bytes (9.3), round
 * trips, out of order, jumps, tampering, exports and pickles.
 */
#include <stdint.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "megolm.h"
#include "helpers.h"
#include "tap.h"

static void
test_ratchet(void)
{
	uint8_t r[128], want[128], r2[128];
	uint32_t c = 0, c2;
	int i;

	for (i = 0; i < 8; i++)
		memcpy(r + 16 * i, "0123456789ABCDEF", 16);
	mx_megolm_ratchet_advance_to(r, &c, 1);
	unhex(want, "ba9cd955741d1c162323ec825e7c5ce889bbb423a18f23828fb2090d"
	    "6e2af86a");
	is_mem(r + 96, want, 32, "advance_to(1): R3");
	mx_megolm_ratchet_advance_to(r, &c, 0x1000000);
	unhex(want, "54022d7dc0298e1637e21c97153092f933c056ff74fe1b922d971f24"
	    "82c2859c7004c01ee49bd6efe0073525af9b1632c5be726d12349cc5bd472bdc"
	    "2df6540f3112591194fda617e568c683101eaecd7eddd6de1fbc0767ae34da1a"
	    "09a54eabba9cd955741d1c162323ec825e7c5ce889bbb423a18f23828fb2090d"
	    "6e2af86a");
	is_mem(r, want, 128, "advance_to(0x1000000)");
	mx_megolm_ratchet_advance_to(r, &c, 0x1041506);
	unhex(want, "54022d7dc0298e1637e21c97153092f933c056ff74fe1b922d971f24"
	    "82c2859c55588df5b7a48878428927868164589f3663447b51edc3595b036ca6"
	    "04c46dcd5c54850bfa98a1fd79a9df1cbe8fc5681937d30c85c8c31f7bb82881"
	    "6cf9ff3b956cbf807e65126a49558d45c84a2e4cd56f03e24416b98e1cfd97c2"
	    "06aa907a");
	is_mem(r, want, 128, "advance_to(0x1041506)");
	ok(c == 0x1041506, "counter follows");

	/* stepping one at a time equals jumping */
	memset(r, 7, sizeof r);
	memcpy(r2, r, sizeof r);
	c = 0xfffe00;
	c2 = c;
	for (i = 0; i < 0x300; i++)
		mx_megolm_ratchet_advance_to(r, &c, c + 1);
	mx_megolm_ratchet_advance_to(r2, &c2, 0xfffe00 + 0x300);
	ok(c == c2 && memcmp(r, r2, 128) == 0, "0x300 steps equal one jump");

	/* wrap-around: 0xffffffff -> 0x1000000 equals 0 -> 0x2000000 */
	memset(r, 9, sizeof r);
	memcpy(r2, r, sizeof r);
	c = 0xffffffff;
	c2 = 0;
	mx_megolm_ratchet_advance_to(r, &c, 0x1000000);
	mx_megolm_ratchet_advance_to(r2, &c2, 0x2000000);
	ok(memcmp(r, r2, 128) == 0, "wrap-around jump");
}

static const char SESSION_KEY[] = "AgAAAAAgISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
    "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWpr"
    "bG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2e"
    "n0/QmczUfXiT3+nsJEFOyw2bVCAjKq0w2RxGW+M8vmXETF9+Sco2FFcr6KJzFGB0EJfZ"
    "eF0ceO1HXQavAnpeNJZqIj0eBDNno8/lVCY2MXXnG/unsS2FgrJgYSLIo9QyDQ";
static const char MSG0[] = "AwgAEmA+c5erbvMc5bFlkXLpbB8JaC7EaoIPJiAMvbFgS"
    "GFCPnXHU9C1iPjnrBj7sdeKTwbZj6ngELGQUNuKzpBA99T94O3INNigCwwY7UyfDIIL"
    "evNDegqWCx4c55fGl/SmB11QBwBKqKviPCsyd4K6Q8H8YU6uDeAm6lg2JVSGLJjjSAH"
    "z8GLtwbOBODE8ojDC0l9mX4lLX6yogROCZM/XyYkJYEpEWKTcbQM";
static const char MSG1[] = "AwgBEhBEWl1ADGF95/OekVNYrNQnn++meh7DrbghCJigU"
    "gt9d8QsgTzLu0VjwK1066Pm221MIc2EqTrd5aNH/jQmrMunuMH4WiuS3jR+HDm8QHAB"
    "kPFWzDChOwgA";
static const char EXPORT1[] = "AQAAAAEgISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
    "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWpr"
    "bG1ub3BxcnN0dXZ3eHl6e3x9fn/5RjEXglqRpTRzECRi1DCJNzihnZikqSambNdnL6R/"
    "GE/QmczUfXiT3+nsJEFOyw2bVCAjKq0w2RxGW+M8vmXE";
static const char PT0[] =
    "{\"type\":\"m.room.message\",\"content\":{\"msgtype\":\"m.text\","
    "\"body\":\"hi\"},\"room_id\":\"!r:x\"}";

static int
enc_b64(struct mx_megolm_out *o, const char *pt, const char *want)
{
	uint8_t buf[512];
	char b[700];
	size_t n;

	if (mx_megolm_encrypt(o, buf, sizeof buf, &n, pt, strlen(pt),
	    NULL) < 0)
		return 0;
	mx_b64_enc(b, buf, n);
	return is_str(b, want, want == MSG0 ? "message 0" : "message 1");
}

static void
test_known_session(void)
{
	uint8_t r[160], key[229], exp[165], msg[400], pt[400];
	struct mx_megolm_out *o;
	struct mx_megolm_in *in;
	char id[MX_MEGOLM_ID_B64], b[400];
	size_t n, mn;
	uint32_t idx;
	int i;

	for (i = 0; i < 128; i++)
		r[i] = (uint8_t)(0x20 + i);
	for (i = 0; i < 32; i++)
		r[128 + i] = (uint8_t)(0xa0 + i);
	o = mx_megolm_out_new_rand(r);
	mx_megolm_out_id(o, id);
	is_str(id, "T9CZzNR9eJPf6ewkQU7LDZtUICMqrTDZHEZb4zy+ZcQ", "session id");
	mx_megolm_out_session_key(o, key);
	is_str(mx_b64_enc(b, key, sizeof key), SESSION_KEY, "session key");
	enc_b64(o, PT0, MSG0);
	enc_b64(o, "x", MSG1);
	ok(mx_megolm_out_index(o) == 2, "outbound index 2");

	in = mx_megolm_in_new(key, sizeof key, NULL);
	ok(in != NULL && mx_megolm_in_verified(in), "inbound from v2 key");
	mx_b64_dec(msg, sizeof msg, &mn, MSG1, strlen(MSG1));
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && idx == 1 && n == 1 && pt[0] == 'x', "decrypt message 1 first");
	mx_b64_dec(msg, sizeof msg, &mn, MSG0, strlen(MSG0));
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && idx == 0 && n == strlen(PT0) && memcmp(pt, PT0, n) == 0,
	    "then message 0 (out of order)");
	ok(mx_megolm_in_export(in, 1, exp, NULL) == 0, "export at 1");
	is_str(mx_b64_enc(b, exp, sizeof exp), EXPORT1, "export bytes");
	mx_megolm_in_free(in);

	mx_b64_dec(exp, sizeof exp, &n, EXPORT1, strlen(EXPORT1));
	in = mx_megolm_in_import(exp, n, NULL);
	ok(in != NULL && !mx_megolm_in_verified(in) &&
	    mx_megolm_in_first_index(in) == 1, "import v1 at 1, unverified");
	idx = 99;
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) ==
		    MX_MEGOLM_UNKNOWN_INDEX &&
		idx == 0,
	    "index 0 refused after import at 1: unknown index, said so");
	ok(!mx_megolm_in_verified(in), "still unverified after failure");
	mx_b64_dec(msg, sizeof msg, &mn, MSG1, strlen(MSG1));
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && mx_megolm_in_verified(in), "message 1 decrypts and verifies");
	ok(mx_megolm_in_export(in, 0, exp, NULL) < 0, "export below first");
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
}

static void
test_tamper(void)
{
	struct mx_megolm_out *o = mx_megolm_out_new();
	struct mx_megolm_in *in;
	uint8_t key[229], msg[300], pt[300], bad[300];
	size_t n, mn, i;
	uint32_t idx;
	int refused = 1;
	struct mx_err e;

	mx_megolm_out_session_key(o, key);
	mx_megolm_encrypt(o, msg, sizeof msg, &mn, "hello", 5, NULL);
	in = mx_megolm_in_new(key, sizeof key, NULL);
	for (i = 0; i < mn; i++) {
		memcpy(bad, msg, mn);
		bad[i] ^= 0x01;
		if (mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, bad, mn,
		    &e) == 0)
			refused = 0;
	}
	ok(refused, "every single-bit flip refused");
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn - 1,
	    NULL) < 0, "truncated refused");
	ok(mx_megolm_decrypt(in, pt, 3, &n, &idx, msg, mn, NULL) < 0,
	    "small output refused");
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && n == 5, "original still decrypts");
	key[200] ^= 1;
	ok(mx_megolm_in_new(key, sizeof key, NULL) == NULL,
	    "session key with bad signature refused");
	key[200] ^= 1;
	key[0] = 1;
	ok(mx_megolm_in_new(key, sizeof key, NULL) == NULL, "v1 byte refused");
	key[0] = 2;
	ok(mx_megolm_in_import(key, 165, NULL) == NULL,
	    "import of v2 byte refused");
	ok(mx_megolm_in_new(key, 228, NULL) == NULL, "short key refused");
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
}

static void
test_jump_and_pickles(void)
{
	struct mx_megolm_out *o = mx_megolm_out_new(), *o2;
	struct mx_megolm_in *in, *in2;
	struct mx_buf b = MX_BUF_INIT;
	uint8_t key[229], msg[300], pt[300];
	uint32_t idx, i;
	size_t n, mn;
	int good = 1;

	mx_megolm_out_session_key(o, key);
	in = mx_megolm_in_new(key, sizeof key, NULL);
	mx_megolm_out_pickle(o, &b);
	mx_megolm_out_free(o);
	o = mx_megolm_out_unpickle(b.p, b.len, NULL);
	ok(o != NULL, "outbound pickle round trip");
	for (i = 0; i < 3; i++)
		mx_megolm_encrypt(o, msg, sizeof msg, &mn, "a", 1, NULL);
	mx_buf_reset(&b);
	mx_megolm_out_pickle(o, &b);
	b.p[2 + 128] += 1;	/* counter + 2^24, ratchet stale */
	o2 = mx_megolm_out_unpickle(b.p, b.len, NULL);
	mx_megolm_encrypt(o2, msg, sizeof msg, &mn, "j", 1, NULL);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) < 0,
	    "forged counter without the ratchet refused (MAC)");
	mx_megolm_out_free(o2);
	mx_buf_reset(&b);
	mx_megolm_out_pickle(o, &b);
	mx_megolm_out_free(o);
	o = mx_megolm_out_unpickle(b.p, b.len, NULL);
	for (i = 0; i < 50; i++) {
		mx_megolm_encrypt(o, msg, sizeof msg, &mn, "m", 1, NULL);
		if (mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn,
		    NULL) < 0 || idx != i + 3)
			good = 0;
	}
	ok(good, "50 in-order messages after pickles");

	mx_buf_reset(&b);
	mx_megolm_in_pickle(in, &b);
	in2 = mx_megolm_in_unpickle(b.p, b.len, NULL);
	ok(in2 != NULL && mx_megolm_in_first_index(in2) == 0,
	    "inbound pickle round trip");
	b.p[200] ^= 1;
	ok(mx_megolm_in_unpickle(b.p, b.len, NULL) == NULL,
	    "inconsistent inbound pickle refused");
	ok(mx_megolm_in_unpickle(b.p, b.len - 1, NULL) == NULL,
	    "short inbound pickle refused");
	ok(mx_megolm_out_unpickle(b.p, b.len, NULL) == NULL,
	    "inbound pickle is no outbound one");
	mx_megolm_in_free(in2);
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
	mx_buf_release_wipe(&b);
}

/* A jump of 2^24 and more: the sender's ratchet is moved with advance_to
 * through a pickle, the receiver must follow in bounded time. */
static void
test_big_jump(void)
{
	struct mx_megolm_out *o = mx_megolm_out_new(), *o2;
	struct mx_megolm_in *in;
	struct mx_buf b = MX_BUF_INIT;
	uint8_t key[229], msg[300], pt[300], r[128];
	uint32_t c, idx, to = (1u << 24) + 0x10203;
	size_t n, mn;

	mx_megolm_out_session_key(o, key);
	in = mx_megolm_in_new(key, sizeof key, NULL);
	mx_megolm_out_pickle(o, &b);
	memcpy(r, b.p + 2, 128);
	c = 0;
	mx_megolm_ratchet_advance_to(r, &c, to);
	memcpy(b.p + 2, r, 128);
	b.p[130] = (char)(to >> 24);
	b.p[131] = (char)(to >> 16);
	b.p[132] = (char)(to >> 8);
	b.p[133] = (char)to;
	o2 = mx_megolm_out_unpickle(b.p, b.len, NULL);
	ok(mx_megolm_out_index(o2) == to, "sender at 2^24 + 0x10203");
	mx_megolm_encrypt(o2, msg, sizeof msg, &mn, "far", 3, NULL);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && idx == to && n == 3 && memcmp(pt, "far", 3) == 0,
	    "receiver jumps 2^24 + 0x10203");
	mx_megolm_encrypt(o, msg, sizeof msg, &mn, "near", 4, NULL);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &n, &idx, msg, mn, NULL) == 0
	    && idx == 0, "then index 0 still decrypts");
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
	mx_megolm_out_free(o2);
	mx_buf_release_wipe(&b);
	mx_wipe(r, sizeof r);
}

/* Messages signed and MACed with the known session's keys but shaped
 * unusually: an unknown field is skipped; no index, or a ciphertext that
 * is not whole blocks, is refused. */
static size_t
forge(uint8_t *out, const uint8_t *body, size_t n, uint32_t idx)
{
	uint8_t r[160], rt[128], k[80], mac[32], pub[32], sk[64];
	uint32_t c = 0;
	int i;

	for (i = 0; i < 128; i++)
		r[i] = (uint8_t)(0x20 + i);
	for (i = 0; i < 32; i++)
		r[128 + i] = (uint8_t)(0xa0 + i);
	memcpy(rt, r, 128);
	mx_megolm_ratchet_advance_to(rt, &c, idx);
	mx_hkdf_sha256(k, 80, NULL, 0, rt, 128, "MEGOLM_KEYS", 11);
	memcpy(out, body, n);
	mx_hmac_sha256(mac, k + 32, 32, out, n);
	memcpy(out + n, mac, 8);
	mx_ed25519_from_seed(pub, sk, r + 128);
	mx_ed25519_sign(out + n + 8, out, n + 8, sk);
	return n + 72;
}

static void
test_shapes(void)
{
	uint8_t msg[400], body[300], pt[300], key[229];
	struct mx_megolm_in *in;
	struct mx_megolm_out *o;
	uint8_t r[160];
	size_t mn, n, bl;
	uint32_t idx;
	int i;

	for (i = 0; i < 160; i++)
		r[i] = (uint8_t)(i < 128 ? 0x20 + i : 0xa0 + i - 128);
	o = mx_megolm_out_new_rand(r);
	mx_megolm_out_session_key(o, key);
	in = mx_megolm_in_new(key, sizeof key, NULL);
	mx_b64_dec(msg, sizeof msg, &mn, MSG1, strlen(MSG1));
	/* MSG1 = 03 08 01 12 10 <16 bytes> <mac> <sig> */
	memcpy(body, msg, 3);		/* version, index 1 */
	body[3] = 0x18;			/* field 3, varint 300: unknown */
	body[4] = 0xac;
	body[5] = 0x02;
	memcpy(body + 6, msg + 3, 18);	/* the ciphertext field */
	bl = 24;
	n = forge(msg, body, bl, 1);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &mn, &idx, msg, n, NULL) == 0
	    && idx == 1 && mn == 1 && pt[0] == 'x', "unknown field skipped");
	memmove(body + 1, body + 3, 21);	/* drop the index */
	n = forge(msg, body, 22, 0);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &mn, &idx, msg, n, NULL) < 0,
	    "message without index refused");
	memcpy(body, "\x03\x08\x00\x12\x0f", 5);
	memset(body + 5, 0x41, 15);
	n = forge(msg, body, 20, 0);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &mn, &idx, msg, n, NULL) < 0,
	    "ciphertext of 15 bytes refused");
	memcpy(body, "\x03\x08\x00\x12\x7f", 5);
	n = forge(msg, body, 5, 0);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &mn, &idx, msg, n, NULL) < 0,
	    "ciphertext length past the end refused");
	/* A tag is a varint (protobuf, libolm): 80 01 is field 16 as one tag
	 * whose value is the 08 after it, then 01 is no valid tag.  Read as a
	 * one-byte tag it would skip to a valid index 1 (found by
	 * fuzz_megolm_libolm: mx took what libolm refuses). */
	mx_b64_dec(msg, sizeof msg, &mn, MSG1, strlen(MSG1));
	memcpy(body, "\x03\x80\x01\x08\x01", 5);
	memcpy(body + 5, msg + 3, 18);
	n = forge(msg, body, 23, 1);
	ok(mx_megolm_decrypt(in, pt, sizeof pt, &mn, &idx, msg, n, NULL) < 0,
	    "a two-byte tag is read as one varint, as libolm reads it");
	mx_megolm_in_free(in);
	mx_megolm_out_free(o);
}

int
main(void)
{
	if (mx_crypto_init() < 0)
		return 1;
	test_ratchet();
	test_known_session();
	test_tamper();
	test_jump_and_pickles();
	test_big_jump();
	test_shapes();
	return done();
}
