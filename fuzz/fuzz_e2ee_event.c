/*
 * fuzz_e2ee_event: what a hostile server or room member sends through
 * mx_e2ee_sync (to-device events) and mx_e2ee_event (room events), on a
 * memory store, against a homeserver in the process (t/unit/fakesrv.h).
 * A fixed peer, alice, has an Olm session with this device and a Megolm
 * session for ROOM, whose key she shares by Olm at the start of every
 * input; keys are fixed (made from counting bytes), so a crash replays.
 * Everything is rebuilt for every input: a new memory store, the account
 * from its pickle, alice's sessions from theirs.
 *
 * The input is up to 8 parts separated by NUL bytes, each a control byte
 * c then a payload; c & 7 picks what the payload is:
 *   0  the content of a to-device event alice sends by Olm; bits 3-4 its
 *      type (m.room_key, m.dummy, m.forwarded_room_key, m.secret.send),
 *      bit 5 the outer sender is mallory
 *   1  a whole Olm plaintext alice encrypts to this device
 *   2  a whole /sync answer (to-device events, device lists, key counts)
 *   3  a Megolm plaintext alice encrypts with her shared session
 *   4  the content of an m.room.encrypted room event
 *   5  a whole room event (plaintext, m.room.encryption state, anything)
 *   6  the server's /keys/query answer from now on (alice's and my
 *      device lists marked changed)
 *   7  the server's m.room.encryption state from now on; bit 3: 404
 * For room events (3-5): bit 3 the sender is mallory, bits 4-5 the room
 * (ROOM, ROOM2 not encrypted, ROOM3 encrypted says the server), bit 6
 * raw, bit 7 every such event has the same event ID.
 * Asserted: mx_e2ee_sync and mx_e2ee_event fail only with a message;
 * mx_e2ee_event gives an event of the room (or NULL on failure); a
 * decrypted event is alice's, by her Curve25519 key, without error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../t/unit/fakesrv.h"
#include "b64.h"
#include "conf.h"
#include "crypto.h"
#include "e2ee.h"
#include "json.h"
#include "megolm.h"
#include "olm.h"
#include "signjson.h"
#include "store.h"
#include "util.h"

#define OLM "m.olm.v1.curve25519-aes-sha2"
#define MEGOLM "m.megolm.v1.aes-sha2"
#define ME "@bob:hs"
#define ALICE "@alice:hs"
#define MALLORY "@mallory:hs"
#define MAX_PARTS 8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const rooms[] = { "!room:hs", "!other:hs", "!enc:hs",
	"!room:hs" };

/* A device: its keys, as /keys/query gives them. */
struct peer {
	const char *user, *dev;
	struct mx_olm_account *acct;
	char curve[MX_OLM_KEY_B64], ed[MX_OLM_KEY_B64];
	json_t *keys;
};

static struct peer me, alice;
static struct mx_buf olm_pk, megolm_pk; /* alice's sessions */
static json_t *share;			/* the sync with her room key */
static json_t *changed; /* a sync saying our device lists changed */
static struct mx_ctx c;
static struct fakesrv srv;

/* What the server answers in this input (NULL: the default); under
 * srv.mu. */
static json_t *query_ans, *enc_ans;
static int enc_404;

/* This input's state: alice's sessions, unpickled when first used. */
static struct mx_olm_session *olm_s;
static struct mx_megolm_out *megolm_s;
static unsigned nevents;

static void
fill(uint8_t *p, uint8_t start, size_t n)
{
	while (n--)
		*p++ = start++;
}

static void
peer_init(struct peer *p, const char *user, const char *dev, uint8_t seed)
{
	char *ck = mx_xasprintf("curve25519:%s", dev), *b;
	char *ek = mx_xasprintf("ed25519:%s", dev), sig[MX_OLM_SIG_B64];
	uint8_t r[64];

	fill(r, seed, sizeof(r));
	p->user = user;
	p->dev = dev;
	p->acct = mx_olm_account_new_rand(r);
	mx_olm_account_curve25519_b64(p->acct, p->curve);
	mx_olm_account_ed25519_b64(p->acct, p->ed);
	p->keys = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}", "user_id", user,
	    "device_id", dev, "algorithms", OLM, MEGOLM, "keys", ck, p->curve,
	    ek, p->ed);
	b = mx_signjson_signed_bytes(p->keys, NULL);
	mx_olm_account_sign_b64(p->acct, sig, b, strlen(b));
	json_object_set_new(p->keys, "signatures",
	    json_pack("{s:{s:s}}", user, ek, sig));
	free(b);
	free(ck);
	free(ek);
}

/* ---- the homeserver ------------------------------------------------------ */

static json_t *
route_json(const char *p, int *status)
{
	if (strstr(p, "/keys/query") != NULL)
		return query_ans != NULL ?
		    json_incref(query_ans) :
		    json_pack("{s:{s:{s:O},s:{s:O}}}", "device_keys", ME,
			me.dev, me.keys, ALICE, alice.dev, alice.keys);
	if (strstr(p, "/keys/claim") != NULL)
		return json_pack("{s:{}}", "one_time_keys");
	if (strstr(p, "/members") != NULL)
		return json_pack("{s:[{s:s,s:s,s:s,s:{s:s}}]}", "chunk",
		    "type", "m.room.member", "state_key", ALICE, "sender",
		    ALICE, "content", "membership", "join");
	if (strstr(p, "/state/m.room.encryption") != NULL) {
		if (enc_ans != NULL && !enc_404)
			return json_incref(enc_ans);
		if (enc_ans == NULL && !enc_404 &&
		    (strstr(p, "enc%3Ahs") != NULL ||
			strstr(p, "enc:hs") != NULL))
			return json_pack("{s:s}", "algorithm", MEGOLM);
	} else if (strstr(p, "/state/") != NULL)
		return json_pack("{s:s}", "history_visibility", "shared");
	else if (strstr(p, "/sync") != NULL)
		return json_pack("{s:s}", "next_batch", "s1");
	else if (strstr(p, "/sendToDevice/") != NULL)
		return json_object();
	*status = 404;
	return json_pack("{s:s}", "errcode", "M_NOT_FOUND");
}

static char *
route(void *u, const struct fakesrv_req *r, int *status)
{
	json_t *a = route_json(r->path, status);
	char *s = mx_json_compact(a);

	(void)u;
	json_decref(a);
	return s != NULL ? s : mx_xstrdup("{}");
}

static void
set_answer(json_t **slot, json_t *v)
{
	pthread_mutex_lock(&srv.mu);
	json_decref(*slot);
	*slot = v;
	pthread_mutex_unlock(&srv.mu);
}

/* ---- alice speaking ------------------------------------------------------ */

/* The to-device m.room.encrypted event of the Olm message of plain (n
 * bytes) from alice's session, as outer sender from. */
static json_t *
olm_event(const void *plain, size_t n, const char *from)
{
	size_t max = mx_olm_encrypt_len(olm_s, n), len;
	uint8_t *out = mx_xmalloc(max);
	json_t *ev = NULL;
	char *b64;
	int type;

	if (mx_olm_encrypt(olm_s, &type, out, max, &len, plain, n, NULL) ==
	    0) {
		b64 = mx_b64_encdup(out, len);
		ev = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:{s:i,s:s}}}}", "type",
		    "m.room.encrypted", "sender", from, "content", "algorithm",
		    OLM, "sender_key", alice.curve, "ciphertext", me.curve,
		    "type", type, "body", b64);
		free(b64);
	}
	free(out);
	return ev;
}

/* The Olm payload of an event of type with content (stolen). */
static char *
olm_payload(const char *type, json_t *content)
{
	json_t *pl = json_pack("{s:s,s:o,s:s,s:s,s:{s:s},s:s,s:{s:s}}", "type",
	    type, "content", content, "sender", ALICE, "sender_device",
	    alice.dev, "keys", "ed25519", alice.ed, "recipient", ME,
	    "recipient_keys", "ed25519", me.ed);
	char *s = mx_json_compact(pl);

	json_decref(pl);
	return s;
}

/* The m.room_key content of alice's Megolm session s for room. */
static json_t *
room_key(const struct mx_megolm_out *s, const char *room)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	char id[MX_MEGOLM_ID_B64], *kb;
	json_t *k;

	mx_megolm_out_session_key(s, key);
	mx_megolm_out_id(s, id);
	kb = mx_b64_encdup(key, sizeof(key));
	k = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", MEGOLM, "room_id",
	    room, "session_id", id, "session_key", kb);
	free(kb);
	return k;
}

/* An m.room.encrypted event around content (stolen). */
static json_t *
room_event(json_t *content, uint8_t ctl)
{
	char *id =
	    ctl & 0x80 ? mx_xstrdup("$same") : mx_xasprintf("$e%u", nevents++);
	json_t *ev =
	    json_pack("{s:s,s:s,s:s,s:i,s:o}", "type", "m.room.encrypted",
		"event_id", id, "sender", ctl & 8 ? MALLORY : ALICE,
		"origin_server_ts", 1, "content", content);

	free(id);
	return ev;
}

/* The content of the Megolm message of plain (n bytes), from alice. */
static json_t *
megolm_content(const void *plain, size_t n)
{
	size_t max = mx_megolm_encrypt_len(n), len;
	uint8_t *out = mx_xmalloc(max);
	char id[MX_MEGOLM_ID_B64], *b64 = NULL;
	json_t *ct;

	if (mx_megolm_encrypt(megolm_s, out, max, &len, plain, n, NULL) == 0)
		b64 = mx_b64_encdup(out, len);
	mx_megolm_out_id(megolm_s, id);
	ct = json_pack("{s:s,s:s,s:s,s:s,s:s?}", "algorithm", MEGOLM,
	    "sender_key", alice.curve, "device_id", alice.dev, "session_id",
	    id, "ciphertext", b64);
	free(b64);
	free(out);
	return ct;
}

/* ---- mx's side -------------------------------------------------------- */

static void
sync_in(struct mx_e2ee *x, const json_t *resp)
{
	struct mx_err e;

	mx_err_clear(&e);
	if (mx_e2ee_sync(x, resp, &e) != 0 && e.msg[0] == '\0')
		abort();
}

/* A to-device event of alice's by Olm (parts 0 and 1). */
static void
to_device(struct mx_e2ee *x, uint8_t ctl, const uint8_t *p, size_t n)
{
	static const char *const types[] = { "m.room_key", "m.dummy",
		"m.forwarded_room_key", "m.secret.send" };
	json_t *content, *ev = NULL, *resp;
	const char *from = ctl & 0x20 ? MALLORY : ALICE;
	char *plain;

	if ((ctl & 7) == 1)
		ev = olm_event(p, n, from);
	else if ((content = json_loadb((const char *)p, n, JSON_DECODE_ANY,
		      NULL)) != NULL) {
		plain = olm_payload(types[(ctl >> 3) & 3], content);
		ev = olm_event(plain, strlen(plain), from);
		free(plain);
	}
	if (ev == NULL)
		return;
	resp = json_pack("{s:{s:[o]}}", "to_device", "events", ev);
	sync_in(x, resp);
	json_decref(resp);
}

/* mx's output for ev (stolen) in the room of ctl, checked. */
static void
event_out(struct mx_e2ee *x, uint8_t ctl, json_t *ev)
{
	const char *room = rooms[(ctl >> 4) & 3];
	json_t *o = NULL, *mx;
	struct mx_err e;
	int rc;

	mx_err_clear(&e);
	rc = mx_e2ee_event(x, room, ev, ctl & 0x40, &o, &e);
	if (rc != 0 && (o != NULL || e.msg[0] == '\0' || e.status == MX_OK))
		abort();
	if (rc == 0 &&
	    (!json_is_object(o) || mx_json_str(o, "room_id") == NULL ||
		strcmp(mx_json_str(o, "room_id"), room) != 0))
		abort();
	mx = json_object_get(o, "mx");
	if (json_is_true(json_object_get(mx, "decrypted")) &&
	    (strcmp(mx_json_str(o, "sender"), ALICE) != 0 ||
		strcmp(mx_json_str(mx, "sender_key"), alice.curve) != 0 ||
		json_object_get(mx, "error") != NULL))
		abort();
	json_decref(o);
	json_decref(ev);
}

static void
part(struct mx_e2ee *x, uint8_t ctl, const uint8_t *p, size_t n)
{
	json_t *j = NULL;

	if ((ctl & 7) != 1 && (ctl & 7) != 3)
		j = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);
	switch (ctl & 7) {
	case 0:
	case 1:
		to_device(x, ctl, p, n);
		break;
	case 2:
		if (j != NULL)
			sync_in(x, j);
		break;
	case 3:
		event_out(x, ctl, room_event(megolm_content(p, n), ctl));
		break;
	case 4:
		if (j != NULL)
			event_out(x, ctl, room_event(json_incref(j), ctl));
		break;
	case 5: /* lib/sync.c and history.c pass objects only */
		if (json_is_object(j))
			event_out(x, ctl, json_incref(j));
		break;
	case 6:
		set_answer(&query_ans, json_incref(j));
		sync_in(x, changed);
		break;
	default:
		set_answer(&enc_ans, json_incref(j));
		enc_404 = (ctl & 8) != 0;
	}
	json_decref(j);
}

/* Empty the memory store (opened once: a new one per input costs more
 * than the input).  Every namespace the e2ee parts write. */
static int
store_reset(struct mx_err *e)
{
	static const char *const ns[] = { "e2ee", "olm", "megolm_out",
		"megolm_in", "megolm_idx", "withheld", "rooms", "devices" };
	size_t i;

	if (c.store == NULL)
		return mx_store_open_memory(&c.store, e);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (mx_store_clear(c.store, ns[i], e) != 0)
			return -1;
	return 0;
}

static struct mx_e2ee *
input_open(void)
{
	struct mx_e2ee *x = NULL;
	struct mx_err e;

	mx_err_clear(&e);
	nevents = 0;
	olm_s = mx_olm_session_unpickle(olm_pk.p, olm_pk.len, NULL);
	megolm_s = mx_megolm_out_unpickle(megolm_pk.p, megolm_pk.len, NULL);
	if (olm_s == NULL || megolm_s == NULL || store_reset(&e) != 0 ||
	    mx_e2ee_open(&x, &c, &e) != 0 || mx_e2ee_sync(x, share, &e) != 0) {
		fprintf(stderr, "fuzz_e2ee_event: %s\n", e.msg);
		abort();
	}
	return x;
}

static void
input_close(struct mx_e2ee *x)
{
	mx_e2ee_close(x);
	mx_olm_session_free(olm_s);
	mx_megolm_out_free(megolm_s);
	olm_s = NULL;
	megolm_s = NULL;
	set_answer(&query_ans, NULL);
	set_answer(&enc_ans, NULL);
	enc_404 = 0;
	fakesrv_clear(&srv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mx_e2ee *x = input_open();
	const uint8_t *end = data + size, *p = data, *q;
	size_t i;

	for (i = 0; i < MAX_PARTS && p < end; i++, p = q + 1) {
		if ((q = memchr(p, 0, (size_t)(end - p))) == NULL)
			q = end;
		part(x, p[0], p + 1, (size_t)(q - p) - 1);
	}
	input_close(x);
	return 0;
}

/* ---- set-up ------------------------------------------------------------- */

static void
ctx_init(void)
{
	struct mx_http_opts o = { { NULL, NULL, 0 }, 0, 2000, 10000, -1 };

	c.prog = "fuzz_e2ee_event";
	c.sess.homeserver = mx_xasprintf("http://127.0.0.1:%d", srv.port);
	c.sess.user_id = mx_xstrdup(ME);
	c.sess.device_id = mx_xstrdup(me.dev);
	mx_session_set_token(&c.sess, "tok");
	c.http = mx_http_new(&o);
	c.api.http = c.http;
	c.api.hs = c.sess.homeserver;
	c.api.token = c.sess.access_token;
}

/* My account (with a one-time key for alice) and alice's sessions: her
 * Olm session from my one-time key, her Megolm session shared with me by
 * it at the start of every input. */
static void
sessions_init(void)
{
	uint8_t r[160], their[32];
	struct mx_megolm_out *m;
	struct mx_olm_otk k;
	struct mx_buf b = MX_BUF_INIT;
	char *plain;

	fill(r, 0x20, 32);
	mx_olm_account_generate_otks_rand(me.acct, 1, r);
	mx_olm_account_otks(me.acct, &k, 1);
	mx_olm_account_mark_published(me.acct);
	mx_olm_account_pickle(me.acct, &b);
	c.identity_account = mx_secure_alloc(b.len);
	memcpy(c.identity_account, b.p, b.len);
	c.identity_account_len = b.len;
	mx_buf_release_wipe(&b);
	mx_b64_dec_exact(their, 32, me.curve);
	fill(r, 0x90, 64);
	olm_s = mx_olm_session_new_outbound_rand(alice.acct, their, k.pub, r,
	    NULL);
	fill(r, 0xC0, sizeof(r));
	m = mx_megolm_out_new_rand(r);
	plain = olm_payload("m.room_key", room_key(m, rooms[0]));
	share = json_pack("{s:{s:[o]}}", "to_device", "events",
	    olm_event(plain, strlen(plain), ALICE));
	free(plain);
	mx_olm_session_pickle(olm_s, &olm_pk);
	mx_megolm_out_pickle(m, &megolm_pk);
	mx_olm_session_free(olm_s);
	mx_megolm_out_free(m);
	olm_s = NULL;
}

/* The set-up works: alice's first message decrypts, from her device. */
static void
self_test(void)
{
	static const char msg[] =
	    "{\"type\":\"m.room.message\",\"content\":"
	    "{\"body\":\"hi\"},\"room_id\":\"!room:hs\"}";
	struct mx_e2ee *x = input_open();
	json_t *ev = room_event(megolm_content(msg, strlen(msg)), 0),
	       *o = NULL;
	json_t *mx;
	struct mx_err e;

	mx_err_clear(&e);
	mx_e2ee_event(x, rooms[0], ev, 0, &o, &e);
	json_decref(ev);
	mx = json_object_get(o, "mx");
	if (!json_is_true(json_object_get(mx, "decrypted")) ||
	    mx_json_str(mx, "trust") == NULL ||
	    strcmp(mx_json_str(mx, "trust"), "tofu") != 0) {
		fprintf(stderr, "fuzz_e2ee_event: set-up broken: %s\n",
		    mx_json_compact(o));
		abort();
	}
	json_decref(o);
	input_close(x);
}

static void
teardown(void)
{
	fakesrv_stop(&srv);
	mx_ctx_close(&c);
	json_decref(share);
	json_decref(changed);
	json_decref(me.keys);
	json_decref(alice.keys);
	mx_olm_account_free(me.acct);
	mx_olm_account_free(alice.acct);
	mx_buf_release_wipe(&olm_pk);
	mx_buf_release_wipe(&megolm_pk);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mx_crypto_init() < 0)
		abort();
	srv.route = route;
	if (fakesrv_start(&srv) != 0)
		abort();
	peer_init(&me, ME, "BOBDEV", 0x00);
	peer_init(&alice, ALICE, "ALICE1", 0x40);
	ctx_init();
	sessions_init();
	changed =
	    json_pack("{s:{s:[s,s]}}", "device_lists", "changed", ALICE, ME);
	self_test();
	atexit(teardown);
	return 0;
}
