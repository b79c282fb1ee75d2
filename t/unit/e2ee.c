/*
 * e2ee: the library's end-to-end encryption on a memory store, against a
 * homeserver played by the test (fakesrv.h) and peer devices made of the
 * library's own Olm and Megolm: a room key arriving by Olm, the verdicts
 * on events (decrypted, replayed, moved to another room, used by another
 * sender, withheld, unknown), and the outbound side: the key shared by Olm
 * (an existing session, a claimed one-time key, none to claim), rotation
 * by message count and by a member leaving, withheld notices under the
 * verified-only policy.  Every to-device message mx sends is decrypted by
 * the receiving peer, and every event it encrypts by the peer's Megolm.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"
#include "fakesrv.h"
#include "b64.h"
#include "conf.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "json.h"
#include "megolm.h"
#include "olm.h"
#include "roomstate.h"
#include "signjson.h"
#include "store.h"
#include "util.h"

#define OLM "m.olm.v1.curve25519-aes-sha2"
#define MEGOLM "m.megolm.v1.aes-sha2"
#define ROOM "!room:hs"
#define ROOM2 "!other:hs"
#define ROOM3 "!enc:hs" /* encrypted, says its state */
#define ROOM4 "!bare:hs"
#define ME "@bob:hs"
#define ALICE "@alice:hs"
#define CAROL "@carol:hs"

/* A device: its Olm account, keys and signed device keys. */
struct peer {
	const char *user, *dev;
	struct mx_olm_account *acct;
	char curve[MX_OLM_KEY_B64], ed[MX_OLM_KEY_B64];
	json_t *keys;
	json_t *otk;		  /* a signed one-time key to claim, or NULL */
	struct mx_olm_session *s; /* its Olm session with me, or NULL */
};

/* What the server says; the peers. */
static struct world {
	/* a1 has a session with me, a2 a one-time key to claim, a3 none;
	 * mal is another member */
	struct peer me, a1, a2, a3, mal;
	/* carol has cross-signing: c1 signed by her self-signing key, c2
	 * not (a device the server invented), c3 signed by the keys she
	 * (or the server) replaces them with */
	struct peer c1, c2, c3;
	struct peer c4;	    /* its device keys forged by the server */
	json_t *carol_keys; /* her /keys/query part: device_keys,
				   master_keys, self_signing_keys */
	json_t *members;    /* the /members chunk */
	json_t *sync;	    /* the next /sync answer */
} w;

static json_t *
sign_with(struct peer *p, json_t *o)
{
	char *b = mx_signjson_signed_bytes(o, NULL), sig[MX_OLM_SIG_B64];
	char *kid = mx_xasprintf("ed25519:%s", p->dev);

	mx_olm_account_sign_b64(p->acct, sig, b, strlen(b));
	json_object_set_new(o, "signatures",
	    json_pack("{s:{s:s}}", p->user, kid, sig));
	free(kid);
	free(b);
	return o;
}

static void
peer_init(struct peer *p, const char *user, const char *dev, int claimable)
{
	struct mx_olm_otk k;
	char *ck = mx_xasprintf("curve25519:%s", dev);
	char *ek = mx_xasprintf("ed25519:%s", dev);

	memset(p, 0, sizeof(*p));
	p->user = user;
	p->dev = dev;
	p->acct = mx_olm_account_new();
	mx_olm_account_curve25519_b64(p->acct, p->curve);
	mx_olm_account_ed25519_b64(p->acct, p->ed);
	p->keys = sign_with(p,
	    json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}", "user_id", user,
		"device_id", dev, "algorithms", OLM, MEGOLM, "keys", ck,
		p->curve, ek, p->ed));
	if (claimable) {
		mx_olm_account_generate_otks(p->acct, 1);
		mx_olm_account_otks(p->acct, &k, 1);
		p->otk = sign_with(p, json_pack("{s:s}", "key", k.key));
		mx_olm_account_mark_published(p->acct);
	}
	free(ck);
	free(ek);
}

static void
peer_release(struct peer *p)
{
	mx_olm_account_free(p->acct);
	mx_olm_session_free(p->s);
	json_decref(p->keys);
	json_decref(p->otk);
}

/* ---- the homeserver ------------------------------------------------------ */

/* Carol's part of a /keys/query answer, merged into a. */
static void
add_carol(json_t *a)
{
	const char *k;
	json_t *v;

	json_object_foreach(w.carol_keys, k, v) {
		if (json_object_get(a, k) == NULL)
			json_object_set_new(a, k, json_object());
		json_object_set(json_object_get(a, k), CAROL, v);
	}
}

/* The one-time keys to claim: a2's and carol's devices' that have one. */
static json_t *
claimed(void)
{
	struct peer *ps[] = { &w.a2, &w.c1, &w.c2, &w.c3, &w.c4 };
	json_t *a = json_pack("{s:{}}", "one_time_keys"), *u;
	size_t i;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		if (ps[i]->otk == NULL)
			continue;
		u = json_object_get(json_object_get(a, "one_time_keys"),
		    ps[i]->user);
		if (u == NULL)
			json_object_set_new(json_object_get(a,
						"one_time_keys"),
			    ps[i]->user, u = json_object());
		json_object_set_new(u, ps[i]->dev,
		    json_pack("{s:O}", "signed_curve25519:AAAAAQ",
			ps[i]->otk));
	}
	return a;
}

static char *
route(void *u, const struct fakesrv_req *r, int *status)
{
	const char *p = r->path;
	json_t *a = NULL;
	char *s;

	(void)u;
	if (strstr(p, "/keys/query") != NULL) {
		a = json_pack("{s:{s:{s:O},s:{s:O,s:O,s:O}}}", "device_keys",
		    ME, w.me.dev, w.me.keys, ALICE, w.a1.dev, w.a1.keys,
		    w.a2.dev, w.a2.keys, w.a3.dev, w.a3.keys);
		if (w.carol_keys != NULL)
			add_carol(a);
	} else if (strstr(p, "/keys/claim") != NULL)
		a = claimed();
	else if (strstr(p, "/members") != NULL)
		a = json_pack("{s:O}", "chunk", w.members);
	else if (strstr(p, "/state/m.room.history_visibility") != NULL)
		a = json_pack("{s:s}", "history_visibility", "shared");
	else if (strstr(p, "/state/m.room.encryption") != NULL &&
	    (strstr(p, "enc%3Ahs") != NULL || strstr(p, "enc:hs") != NULL))
		a = json_pack("{s:s}", "algorithm", MEGOLM);
	else if (strstr(p, "/sync") != NULL)
		a = json_incref(w.sync);
	else if (strstr(p, "/sendToDevice/") != NULL)
		a = json_object();
	if (a == NULL) {
		*status = 404;
		a = json_pack("{s:s}", "errcode", "M_NOT_FOUND");
	}
	s = mx_json_compact(a);
	json_decref(a);
	return s;
}

static json_t *
member(const char *user, const char *membership)
{
	return json_pack("{s:s,s:s,s:s,s:{s:s}}", "type", "m.room.member",
	    "state_key", user, "sender", user, "content", "membership",
	    membership);
}

/* The to-device messages of type sent since the log was cleared: one
 * {user: {device: content}} object merged from every request. */
static json_t *
sent(struct fakesrv *srv, const char *type)
{
	char *pre = mx_xasprintf("/_matrix/client/v3/sendToDevice/%s/", type);
	json_t *all = json_object(), *b, *m, *d;
	const char *user;
	size_t i;

	for (i = 0; i < srv->nlog; i++) {
		if (strncmp(srv->log[i].path, pre, strlen(pre)) != 0)
			continue;
		b = json_loads(srv->log[i].body, 0, NULL);
		json_object_foreach(json_object_get(b, "messages"), user, m) {
			if ((d = json_object_get(all, user)) == NULL)
				json_object_set_new(all, user,
				    d = json_object());
			json_object_update(d, m);
		}
		json_decref(b);
	}
	free(pre);
	return all;
}

/* ---- peers speaking ------------------------------------------------------- */

/* An Olm to-device event from p to me: an m.room.encrypted event whose
 * payload is type and content (stolen). */
static json_t *
olm_to_me(struct peer *p, const char *type, json_t *content)
{
	json_t *pl = json_pack("{s:s,s:o,s:s,s:s,s:{s:s},s:s,s:{s:s}}", "type",
	    type, "content", content, "sender", p->user, "sender_device",
	    p->dev, "keys", "ed25519", p->ed, "recipient", ME,
	    "recipient_keys", "ed25519", w.me.ed);
	char *plain = mx_json_compact(pl), *b64;
	size_t n = strlen(plain), max, len;
	uint8_t *out;
	int mtype;

	max = mx_olm_encrypt_len(p->s, n);
	out = mx_xmalloc(max);
	mx_olm_encrypt(p->s, &mtype, out, max, &len, plain, n, NULL);
	b64 = mx_b64_encdup(out, len);
	json_decref(pl);
	pl = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:{s:i,s:s}}}}", "type",
	    "m.room.encrypted", "sender", p->user, "content", "algorithm", OLM,
	    "sender_key", p->curve, "ciphertext", w.me.curve, "type", mtype,
	    "body", b64);
	free(b64);
	free(out);
	free(plain);
	return pl;
}

/* An m.room.encrypted room event from p through Megolm session s. */
static json_t *
megolm_event(struct peer *p, struct mx_megolm_out *s, const char *room,
    const char *eid, const char *sender, const char *body)
{
	json_t *pl =
	    json_pack("{s:s,s:{s:s,s:s},s:s}", "type", "m.room.message",
		"content", "msgtype", "m.text", "body", body, "room_id", room);
	char *plain = mx_json_compact(pl), *b64, id[MX_MEGOLM_ID_B64];
	size_t n = strlen(plain), max = mx_megolm_encrypt_len(n), len;
	uint8_t *out = mx_xmalloc(max);

	mx_megolm_encrypt(s, out, max, &len, plain, n, NULL);
	mx_megolm_out_id(s, id);
	b64 = mx_b64_encdup(out, len);
	json_decref(pl);
	pl = json_pack("{s:s,s:s,s:s,s:i,s:{s:s,s:s,s:s,s:s,s:s}}", "type",
	    "m.room.encrypted", "event_id", eid, "sender", sender,
	    "origin_server_ts", 1, "content", "algorithm", MEGOLM,
	    "sender_key", p->curve, "device_id", p->dev, "session_id", id,
	    "ciphertext", b64);
	free(b64);
	free(out);
	free(plain);
	return pl;
}

/* The m.room_key content of s for room. */
static json_t *
room_key(struct mx_megolm_out *s, const char *room)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	char id[MX_MEGOLM_ID_B64], *kb;
	json_t *c;

	mx_megolm_out_session_key(s, key);
	mx_megolm_out_id(s, id);
	kb = mx_b64_encdup(key, sizeof(key));
	c = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", MEGOLM, "room_id",
	    room, "session_id", id, "session_key", kb);
	free(kb);
	return c;
}

/* p's Olm decryption of the to-device envelope env sent to it: the
 * payload, or NULL. */
static json_t *
peer_open(struct peer *p, const json_t *env)
{
	const json_t *m =
	    json_object_get(json_object_get(env, "ciphertext"), p->curve);
	const char *b = mx_json_str(m, "body");
	int type = (int)json_integer_value(json_object_get(m, "type"));
	uint8_t their[32], *msg, *out;
	size_t n = 0, outlen = 0;
	json_t *pl = NULL;

	if (b == NULL ||
	    mx_b64_dec_exact(their, 32, mx_json_str(env, "sender_key")) != 0)
		return NULL;
	msg = mx_xmalloc(strlen(b));
	out = mx_xmalloc(strlen(b));
	mx_b64_dec(msg, strlen(b), &n, b, strlen(b));
	if (type == 0 && p->s == NULL)
		p->s =
		    mx_olm_session_new_inbound(p->acct, their, msg, n, NULL);
	if (p->s != NULL &&
	    mx_olm_decrypt(p->s, type, msg, n, out, n, &outlen, NULL) == 0)
		pl = mx_json_parse((const char *)out, outlen, NULL);
	free(msg);
	free(out);
	return pl;
}

/* The Megolm session of the m.room_key p got in msgs (sent()), checked
 * against what an m.room_key must say; NULL when there is none. */
static struct mx_megolm_in *
peer_room_key(struct peer *p, const json_t *msgs, char sid[MX_MEGOLM_ID_B64])
{
	json_t *pl = peer_open(p,
		   json_object_get(json_object_get(msgs, p->user), p->dev)),
	       *c = json_object_get(pl, "content");
	const char *kb = mx_json_str(c, "session_key");
	uint8_t raw[MX_MEGOLM_SESSION_KEY_LEN];
	struct mx_megolm_in *in = NULL;
	size_t n = 0;

	if (kb != NULL && strcmp(mx_json_str(pl, "type"), "m.room_key") == 0 &&
	    strcmp(mx_json_str(pl, "sender"), ME) == 0 &&
	    strcmp(mx_json_str(json_object_get(pl, "recipient_keys"),
		       "ed25519"),
		p->ed) == 0 &&
	    strcmp(mx_json_str(c, "room_id"), ROOM) == 0 &&
	    mx_b64_dec(raw, sizeof(raw), &n, kb, strlen(kb)) == 0)
		in = mx_megolm_in_new(raw, n, NULL);
	if (in != NULL)
		snprintf(sid, MX_MEGOLM_ID_B64, "%s",
		    mx_json_str(c, "session_id"));
	json_decref(pl);
	return in;
}

/* The body of an m.room.encrypted content mx made, as the holder of
 * session in reads it, or NULL. */
static char *
peer_read(struct mx_megolm_in *in, const json_t *env)
{
	const char *ct = mx_json_str(env, "ciphertext");
	uint8_t *msg = mx_xmalloc(strlen(ct)), *out;
	size_t n = 0, len = 0;
	uint32_t idx;
	json_t *pl = NULL;
	char *body = NULL;

	mx_b64_dec(msg, strlen(ct), &n, ct, strlen(ct));
	out = mx_xmalloc(mx_megolm_decrypt_max(n) + 1);
	if (mx_megolm_decrypt(in, out, mx_megolm_decrypt_max(n), &len, &idx,
		msg, n, NULL) == 0)
		pl = mx_json_parse((const char *)out, len, NULL);
	if (mx_json_str(pl, "room_id") != NULL &&
	    strcmp(mx_json_str(pl, "room_id"), ROOM) == 0)
		body = mx_xstrdup(
		    mx_json_str(json_object_get(pl, "content"), "body"));
	json_decref(pl);
	free(out);
	free(msg);
	return body;
}

/* ---- mx's side -------------------------------------------------------- */

static struct mx_ctx c;
static struct fakesrv srv;

static void
ctx_init(void)
{
	struct mx_http_opts o = { { NULL, NULL, 0 }, 0, 0, 0, -1 };
	struct mx_olm_otk k[2];
	struct mx_buf b = MX_BUF_INIT;
	uint8_t their[32];
	struct mx_err e;

	mx_err_clear(&e);
	peer_init(&w.me, ME, "BOBDEV", 0);
	/* One-time keys of mine for a1 and mal to start their sessions. */
	mx_olm_account_generate_otks(w.me.acct, 2);
	mx_olm_account_otks(w.me.acct, k, 2);
	mx_olm_account_mark_published(w.me.acct);
	mx_b64_dec_exact(their, 32, w.me.curve);
	w.a1.s = mx_olm_session_new_outbound(w.a1.acct, their, k[0].pub, NULL);
	w.mal.s =
	    mx_olm_session_new_outbound(w.mal.acct, their, k[1].pub, NULL);
	c.prog = "e2ee-test";
	mx_store_open_memory(&c.store, &e);
	c.sess.homeserver = mx_xasprintf("http://127.0.0.1:%d", srv.port);
	c.sess.user_id = mx_xstrdup(ME);
	c.sess.device_id = mx_xstrdup(w.me.dev);
	mx_session_set_token(&c.sess, "tok");
	c.http = mx_http_new(&o);
	c.api.http = c.http;
	c.api.hs = c.sess.homeserver;
	c.api.token = c.sess.access_token;
	/* The account as a stateless run (MX_IDENTITY) brings it: its keys
	 * are on the server already. */
	mx_olm_account_pickle(w.me.acct, &b);
	c.identity_account = mx_secure_alloc(b.len);
	memcpy(c.identity_account, b.p, b.len);
	c.identity_account_len = b.len;
	mx_buf_release_wipe(&b);
}

/* mx's output for ev in room. */
static json_t *
out_of(struct mx_e2ee *x, const char *room, const json_t *ev)
{
	struct mx_err e;
	json_t *o = NULL;

	mx_err_clear(&e);
	if (mx_e2ee_event(x, room, ev, 0, &o, &e) != 0)
		printf("# mx_e2ee_event: %s\n", e.msg);
	return o;
}

static const char *
mxs(const json_t *o, const char *k)
{
	return mx_json_str(json_object_get(o, "mx"), k);
}

/* ---- the tests ------------------------------------------------------------ */

static struct mx_megolm_out *alice_s, *alice_s2;
static json_t *ev1;

static void
receiving(struct mx_e2ee *x)
{
	json_t *td, *td2, *resp, *o, *ev;
	struct mx_err e;

	mx_err_clear(&e);
	alice_s = mx_megolm_out_new();
	alice_s2 = mx_megolm_out_new();
	td = olm_to_me(&w.a1, "m.room_key", room_key(alice_s, ROOM));
	/* The same session shared for a second room too: its messages of
	 * the first room must not pass as said in the second. */
	td2 = olm_to_me(&w.a1, "m.room_key", room_key(alice_s, ROOM2));
	resp = json_pack("{s:{s:[o,o,{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s}}]}}",
	    "to_device", "events", td, td2, "type", "m.room_key.withheld",
	    "sender", ALICE, "content", "algorithm", MEGOLM, "room_id", ROOM,
	    "session_id", "withheld-session", "code", "m.unverified", "reason",
	    "not verified");
	ok(mx_e2ee_sync(x, resp, &e) == 0,
	    "a sync with an Olm m.room_key and "
	    "a withheld notice: %s",
	    e.msg);
	json_decref(resp);

	ev1 = megolm_event(&w.a1, alice_s, ROOM, "$e1", ALICE, "hello");
	o = out_of(x, ROOM, ev1);
	is_str(mx_json_str(json_object_get(o, "content"), "body"), "hello",
	    "the event decrypts with the key that came by Olm");
	ok(json_is_true(
	       json_object_get(json_object_get(o, "mx"), "decrypted")) &&
		json_integer_value(
		    json_object_get(json_object_get(o, "mx"), "index")) == 0,
	    "decrypted, index 0");
	is_str(mxs(o, "trust"), "tofu", "the sender's device: tofu");
	is_str(mxs(o, "device_id"), w.a1.dev, "the sender's device named");
	is_str(mx_json_str(o, "type"), "m.room.message", "the clear type");
	json_decref(o);

	o = out_of(x, ROOM, ev1);
	ok(o != NULL && mxs(o, "error") == NULL,
	    "the same event again: no "
	    "replay");
	json_decref(o);

	ev = json_deep_copy(ev1);
	json_object_set_new(ev, "event_id", json_string("$replay"));
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "replay: index already used by another event",
	    "the same ciphertext as another event: a replay");
	ok(json_object_get(json_object_get(o, "content"), "body") == NULL,
	    "a replay shows no clear text");
	json_decref(o);
	json_decref(ev);

	ev = json_deep_copy(ev1);
	json_object_set_new(ev, "event_id", json_string("$moved"));
	o = out_of(x, ROOM2, ev);
	is_str(mxs(o, "error"), "sent to another room",
	    "the ciphertext posted into another room is refused");
	json_decref(o);
	json_decref(ev);

	ev = megolm_event(&w.a1, alice_s, ROOM, "$e2", "@mallory:hs", "me?");
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "session belongs to another sender",
	    "alice's session used by another sender: refused");
	ok(json_object_get(json_object_get(o, "content"), "body") == NULL,
	    "and its text not shown");
	json_decref(o);
	/* The genuine event at that index still decrypts: the forgery took
	 * no index. */
	json_object_set_new(ev, "sender", json_string(ALICE));
	o = out_of(x, ROOM, ev);
	is_str(mx_json_str(json_object_get(o, "content"), "body"), "me?",
	    "the genuine event after a forged copy decrypts");
	json_decref(o);
	json_decref(ev);

	ev = megolm_event(&w.a1, alice_s2, ROOM, "$e3", ALICE, "unknown");
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "no key", "a session never shared: no key");
	json_decref(o);
	json_decref(ev);

	ev = megolm_event(&w.a1, alice_s2, ROOM, "$e4", ALICE, "withheld");
	json_object_set_new(json_object_get(ev, "content"), "session_id",
	    json_string("withheld-session"));
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "withheld: m.unverified",
	    "a withheld key: "
	    "the notice's code");
	is_str(mx_json_str(json_object_get(json_object_get(o, "mx"),
			       "withheld"),
		   "reason"),
	    "not verified", "and its reason");
	json_decref(o);
	json_decref(ev);

	ev = megolm_event(&w.a1, alice_s, ROOM, "$e5", ALICE, "tampered");
	json_object_set_new(json_object_get(ev, "content"), "ciphertext",
	    json_string(
		"AwgAEhAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "bad signature or MAC", "a forged ciphertext");
	json_decref(o);
	json_decref(ev);
}

/* Cleartext where ciphertext is expected: a plain event of an encrypted
 * room says mx.encrypted false; one of a room that is not encrypted says
 * nothing; a relation that came only in the clear is marked (issue:
 * trust, item 4). */
static void
cleartext(struct mx_e2ee *x)
{
	json_t *plain = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "type",
		   "m.room.message", "event_id", "$p1", "sender", ALICE,
		   "content", "msgtype", "m.text", "body", "forged"),
	       *enc, *o, *ev;

	o = out_of(x, ROOM3, plain);
	ok(json_is_false(
	       json_object_get(json_object_get(o, "mx"), "encrypted")),
	    "a plain message in an encrypted room: mx.encrypted false");
	json_decref(o);
	o = out_of(x, ROOM2, plain);
	ok(o != NULL && json_object_get(o, "mx") == NULL,
	    "a plain message in a room that is not encrypted: no mx");
	json_decref(o);

	/* The room becomes encrypted in the timeline: what follows is
	 * marked at once, the store remembering it. */
	enc = json_pack("{s:s,s:s,s:s,s:s,s:{}}", "type", "m.room.encryption",
	    "state_key", "", "event_id", "$enc", "sender", ALICE, "content");
	o = out_of(x, ROOM2, enc);
	ok(json_is_false(
	       json_object_get(json_object_get(o, "mx"), "encrypted")),
	    "a redacted m.room.encryption: itself marked");
	json_decref(o);
	o = out_of(x, ROOM2, plain);
	ok(json_is_false(
	       json_object_get(json_object_get(o, "mx"), "encrypted")),
	    "a plain message after it: marked");
	json_decref(o);
	json_decref(enc);

	/* One with no content at all (fuzz_e2ee_event: the {} kept in its
	 * place leaked). */
	enc = json_pack("{s:s,s:s,s:s,s:s}", "type", "m.room.encryption",
	    "state_key", "", "event_id", "$enc2", "sender", ALICE);
	json_decref(out_of(x, ROOM4, enc));
	o = out_of(x, ROOM4, plain);
	ok(json_is_false(
	       json_object_get(json_object_get(o, "mx"), "encrypted")),
	    "an m.room.encryption without content: what follows is marked");
	json_decref(o);
	json_decref(enc);
	json_decref(plain);

	ev = megolm_event(&w.a1, alice_s, ROOM, "$r1", ALICE, "a reply");
	json_object_set_new(json_object_get(ev, "content"), "m.relates_to",
	    json_pack("{s:{s:s}}", "m.in_reply_to", "event_id", "$x"));
	o = out_of(x, ROOM, ev);
	is_str(mx_json_str(json_object_get(json_object_get(json_object_get(o,
							       "content"),
					       "m.relates_to"),
			       "m.in_reply_to"),
		   "event_id"),
	    "$x", "a clear relation is kept");
	ok(json_is_true(json_object_get(json_object_get(o, "mx"),
	       "relates_to_unauthenticated")),
	    "and marked unauthenticated");
	ok(json_object_get(json_object_get(o, "mx"), "encrypted") &&
		json_is_true(
		    json_object_get(json_object_get(o, "mx"), "encrypted")),
	    "a decrypted event stays mx.encrypted true");
	json_decref(o);
	json_decref(ev);
}

/* A key shared from a later index than a message: "no key for this
 * index", never a forgery (issue: trust, item 7: such messages were
 * labelled "bad signature or MAC"). */
static void
later_index(struct mx_e2ee *x)
{
	struct mx_megolm_out *s = mx_megolm_out_new();
	json_t *early = megolm_event(&w.a1, s, ROOM, "$early", ALICE, "early"),
	       *td = olm_to_me(&w.a1, "m.room_key", room_key(s, ROOM)),
	       *resp = json_pack("{s:{s:[o]}}", "to_device", "events", td), *o;
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_e2ee_sync(x, resp, &e) == 0, "a key shared at index 1: %s",
	    e.msg);
	o = out_of(x, ROOM, early);
	is_str(mxs(o, "error"), "no key for this index",
	    "a message at index 0: no key for this index");
	ok(json_integer_value(json_object_get(json_object_get(o, "mx"),
	       "first_known_index")) == 1,
	    "and the first index we have");
	json_decref(o);
	json_decref(early);
	json_decref(resp);
	mx_megolm_out_free(s);
}

/* How many requests to path so far. */
static int
requests(const char *path)
{
	size_t i;
	int n = 0;

	for (i = 0; i < srv.nlog; i++)
		n += strstr(srv.log[i].path, path) != NULL;
	return n;
}

/* A device list read outside the syncs (mx-keys devices) is asked for
 * again before keys are shared; one read by the sharing path is then
 * believed until a sync says it changed (issue: trust, item 7). */
static void
untracked_lists(void)
{
	const char *u = "@dave:hs"; /* never seen before */
	struct mx_devlist l = { 0 };
	struct mx_err e;
	int n;

	mx_err_clear(&e);
	fakesrv_clear(&srv);
	ok(mx_devices_query(&c.api, c.store, &u, 1, &l, &e) == 0,
	    "an audit's query: %s", e.msg);
	mx_devlist_release(&l);
	n = requests("/keys/query");
	ok(n == 1, "asked of the server");
	ok(mx_devices_get(&c.api, c.store, &u, 1, &l, &e) == 0,
	    "then the sharing path");
	mx_devlist_release(&l);
	ok(requests("/keys/query") == n + 1,
	    "asks again: the audit's list was not tracked");
	ok(mx_devices_get(&c.api, c.store, &u, 1, &l, &e) == 0 &&
		requests("/keys/query") == n + 1,
	    "and then believes its own");
	mx_devlist_release(&l);
	ok(mx_devices_query(&c.api, c.store, &u, 1, &l, &e) == 0 &&
		requests("/keys/query") == n + 2,
	    "an audit always asks");
	mx_devlist_release(&l);
	ok(mx_devices_get(&c.api, c.store, &u, 1, &l, &e) == 0 &&
		requests("/keys/query") == n + 2,
	    "and leaves a tracked user tracked");
	mx_devlist_release(&l);
}

/* A member who holds alice's session from an earlier index re-shares it
 * as hers: the kept copy stays alice's, and alice's messages decrypt as
 * hers (issue: a member could re-bind someone else's session). */
static void
rebind(struct mx_e2ee *x)
{
	struct mx_megolm_out *s = mx_megolm_out_new();
	json_t *early = room_key(s, ROOM), *ev, *resp, *o;
	struct mx_err e;

	mx_err_clear(&e);
	json_decref(megolm_event(&w.a1, s, ROOM, "$s0", ALICE, "zero"));
	json_decref(megolm_event(&w.a1, s, ROOM, "$s1", ALICE, "one"));
	resp = json_pack("{s:{s:[o,o]}}", "to_device", "events",
	    olm_to_me(&w.a1, "m.room_key", room_key(s, ROOM)),
	    olm_to_me(&w.mal, "m.room_key", early));
	ok(mx_e2ee_sync(x, resp, &e) == 0,
	    "alice shares a session at index 2, "
	    "mallory the same from index 0: %s",
	    e.msg);
	json_decref(resp);
	ev = megolm_event(&w.a1, s, ROOM, "$s2", ALICE, "two");
	o = out_of(x, ROOM, ev);
	is_str(mx_json_str(json_object_get(o, "content"), "body"), "two",
	    "alice's message still decrypts as hers");
	is_str(mxs(o, "device_id"), w.a1.dev, "from her device");
	json_decref(o);
	json_decref(ev);
	mx_megolm_out_free(s);
}

/* Replays are recorded in the store, not in the handle: a later handle
 * (a later run on the profile) still refuses one. */
static void
replay_later(void)
{
	struct mx_e2ee *x = NULL;
	struct mx_err e;
	json_t *ev, *o;

	mx_err_clear(&e);
	ok(mx_e2ee_open(&x, &c, &e) == 0, "a second handle: %s", e.msg);
	ev = json_deep_copy(ev1);
	json_object_set_new(ev, "event_id", json_string("$later"));
	o = out_of(x, ROOM, ev);
	is_str(mxs(o, "error"), "replay: index already used by another event",
	    "a replay seen by a later handle");
	json_decref(o);
	json_decref(ev);
	mx_e2ee_close(x);
}

/* Encrypt "body" into ROOM; *sid its session. */
static json_t *
encrypt(struct mx_e2ee *x, const json_t *enc, enum mx_e2ee_policy pol,
    const char *body, char sid[MX_MEGOLM_ID_B64])
{
	json_t *ct = json_pack("{s:s,s:s}", "msgtype", "m.text", "body", body);
	json_t *out = NULL;
	struct mx_err e;

	mx_err_clear(&e);
	fakesrv_clear(&srv);
	if (mx_e2ee_encrypt(x, ROOM, enc, pol, "m.room.message", ct, &out,
		&e) != 0)
		printf("# mx_e2ee_encrypt: %s\n", e.msg);
	json_decref(ct);
	snprintf(sid, MX_MEGOLM_ID_B64, "%s",
	    out ? mx_json_str(out, "session_id") : "");
	return out;
}

/* Each of a1 and a2 got the key of session sid by Olm and reads env;
 * a3 (no one-time key to claim) was told m.no_olm. */
static void
shared(const json_t *env, const char *sid, const char *what)
{
	json_t *keys = sent(&srv, "m.room.encrypted");
	json_t *held = sent(&srv, "m.room_key.withheld");
	struct peer *ps[] = { &w.a1, &w.a2 };
	struct mx_megolm_in *in;
	char got[MX_MEGOLM_ID_B64] = "", *body;
	size_t i;

	for (i = 0; i < 2; i++) {
		in = peer_room_key(ps[i], keys, got);
		body = in ? peer_read(in, env) : NULL;
		ok(in != NULL && strcmp(got, sid) == 0 && body != NULL &&
			strcmp(body, what) == 0,
		    "%s got the key by Olm and reads "
		    "'%s'",
		    ps[i]->dev, what);
		free(body);
		mx_megolm_in_free(in);
	}
	is_str(mx_json_str(json_object_get(json_object_get(held, ALICE),
			       w.a3.dev),
		   "code"),
	    "m.no_olm",
	    "a device without a one-time key "
	    "is told m.no_olm");
	ok(json_object_get(keys, ME) == NULL, "no key to my own device");
	json_decref(keys);
	json_decref(held);
}

static void
sending(struct mx_e2ee *x)
{
	json_t *enc = json_pack("{s:s,s:i}", "algorithm", MEGOLM,
		   "rotation_period_msgs", 2),
	       *o1, *o2, *o3, *o4, *keys;
	char s1[MX_MEGOLM_ID_B64], s2[MX_MEGOLM_ID_B64];
	char s3[MX_MEGOLM_ID_B64], s4[MX_MEGOLM_ID_B64];
	struct mx_err e;

	mx_err_clear(&e);
	o1 = encrypt(x, enc, MX_E2EE_TOFU, "one", s1);
	ok(o1 != NULL && *s1, "the first message is encrypted");
	shared(o1, s1, "one");

	o2 = encrypt(x, enc, MX_E2EE_TOFU, "two", s2);
	is_str(s2, s1, "the second uses the same session");
	keys = sent(&srv, "m.room.encrypted");
	ok(json_object_size(keys) == 0, "and shares nothing again");
	json_decref(keys);

	o3 = encrypt(x, enc, MX_E2EE_TOFU, "three", s3);
	ok(*s3 && strcmp(s3, s1) != 0,
	    "rotation_period_msgs 2: the third "
	    "message rotates");
	shared(o3, s3, "three");

	/* Alice leaves: the next message needs a session she never had. */
	json_decref(w.members);
	w.members = json_pack("[o]", member(ME, "join"));
	json_decref(w.sync);
	w.sync = json_pack("{s:s,s:{s:{s:{s:{s:[o]}}}}}", "next_batch", "s2",
	    "rooms", "join", ROOM, "timeline", "events",
	    member(ALICE, "leave"));
	ok(mx_e2ee_refresh(x, ROOM, &e) == 0, "a sync says alice left: %s",
	    e.msg);
	o4 = encrypt(x, enc, MX_E2EE_TOFU, "four", s4);
	ok(*s4 && strcmp(s4, s3) != 0, "a member gone: the session rotates");
	keys = sent(&srv, "m.room.encrypted");
	ok(o4 != NULL && json_object_size(keys) == 0,
	    "and her devices are "
	    "sent nothing");
	json_decref(keys);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
	json_decref(o4);
	json_decref(enc);
}

static void
verified_only(struct mx_e2ee *x)
{
	json_t *enc = json_pack("{s:s}", "algorithm", MEGOLM), *o, *keys,
	       *held;
	char sid[MX_MEGOLM_ID_B64];
	struct mx_err e;

	mx_err_clear(&e);
	json_decref(w.members);
	w.members =
	    json_pack("[o,o]", member(ME, "join"), member(ALICE, "join"));
	json_decref(w.sync);
	w.sync = json_pack("{s:s,s:{s:{s:{s:{s:[o]}}}}}", "next_batch", "s3",
	    "rooms", "join", ROOM, "timeline", "events",
	    member(ALICE, "join"));
	ok(mx_e2ee_refresh(x, ROOM, &e) == 0, "alice is back: %s", e.msg);
	o = encrypt(x, enc, MX_E2EE_VERIFIED, "secret", sid);
	keys = sent(&srv, "m.room.encrypted");
	held = sent(&srv, "m.room_key.withheld");
	ok(o != NULL && json_object_size(keys) == 0,
	    "verified only: no key "
	    "to alice's unverified devices");
	is_str(mx_json_str(json_object_get(json_object_get(held, ALICE),
			       w.a1.dev),
		   "code"),
	    "m.unverified", "they are told m.unverified");
	is_str(mx_json_str(json_object_get(json_object_get(held, ALICE),
			       w.a1.dev),
		   "session_id"),
	    sid, "for the session used");
	json_decref(keys);
	json_decref(held);
	json_decref(o);
	json_decref(enc);
}

/* A first sync gives the whole state: the members are taken from it, the
 * timeline's events after the state's, and nothing is asked again. */
static void
first_sync_members(void)
{
	json_t *room, *m = NULL, *hv_shared, *hv_joined;
	struct mx_err e;

	mx_err_clear(&e);
	hv_shared =
	    json_pack("{s:s,s:s,s:{s:s}}", "type", "m.room.history_visibility",
		"state_key", "", "content", "history_visibility", "shared");
	hv_joined =
	    json_pack("{s:s,s:s,s:{s:s}}", "type", "m.room.history_visibility",
		"state_key", "", "content", "history_visibility", "joined");
	room = json_pack("{s:{s:[o,o,o,o]},s:{s:[o,o]}}", "state", "events",
	    member(ME, "join"), member(ALICE, "join"), member(CAROL, "invite"),
	    hv_shared, "timeline", "events", hv_joined,
	    member(ALICE, "leave"));
	ok(mx_roomstate_full(&c, "!first:hs", room, &e) == 0,
	    "first sync noted: %s", e.msg);
	ok(mx_roomstate_members(&c, "!first:hs", &m, &e) == 0 &&
		json_object_size(m) == 1 && json_object_get(m, ME) != NULL,
	    "alice left in the timeline, carol is only invited to a "
	    "joined-only room: the key is for me alone, not /members' answer");
	json_decref(m);
	json_decref(room);
	/* Our join in the timeline: the server gave the whole state. */
	room =
	    json_pack("{s:{s:[o]}}", "timeline", "events", member(ME, "join"));
	ok(mx_roomstate_joined_now(room, ME), "a first join: the whole state");
	ok(!mx_roomstate_joined_now(room, ALICE),
	    "another's join is not ours");
	json_object_set_new(
	    json_array_get(json_object_get(json_object_get(room, "timeline"),
			       "events"),
		0),
	    "unsigned",
	    json_pack("{s:{s:s}}", "prev_content", "membership", "join"));
	ok(!mx_roomstate_joined_now(room, ME),
	    "a join after a join (a new display name) is a change only");
	json_object_set_new(
	    json_array_get(json_object_get(json_object_get(room, "timeline"),
			       "events"),
		0),
	    "unsigned", json_pack("{s:s}", "replaces_state", "$old"));
	ok(!mx_roomstate_joined_now(room, ME),
	    "one that replaces an earlier state, whatever it was, too");
	json_object_set_new(
	    json_array_get(json_object_get(json_object_get(room, "timeline"),
			       "events"),
		0),
	    "unsigned",
	    json_pack("{s:s,s:{s:s}}", "replaces_state", "$old",
		"prev_content", "membership", "invite"));
	ok(mx_roomstate_joined_now(room, ME), "a join after an invite: whole");
	ok(!mx_roomstate_joined_now(NULL, ME), "no room entry: no");
	json_decref(room);
	ok(mx_roomstate_full(&c, "!first:hs", NULL, &e) == 0 &&
		mx_roomstate_members(&c, "!first:hs", &m, &e) == 0 &&
		json_object_size(m) == 2,
	    "a first sync without the room: its members are read anew");
	json_decref(m);
}

/* A cross-signing identity: master and self-signing key pairs. */
struct xs {
	uint8_t mpub[32], msk[64], spub[32], ssk[64];
	char mb[MX_OLM_KEY_B64], sb[MX_OLM_KEY_B64];
};

static void
xs_new(struct xs *k)
{
	uint8_t seed[32];

	mx_random(seed, sizeof(seed));
	mx_ed25519_from_seed(k->mpub, k->msk, seed);
	mx_random(seed, sizeof(seed));
	mx_ed25519_from_seed(k->spub, k->ssk, seed);
	mx_b64_enc(k->mb, k->mpub, 32);
	mx_b64_enc(k->sb, k->spub, 32);
}

/* p's device keys signed by the self-signing keys of k1 and k2 (each may
 * be NULL), added to devs. */
static void
add_dev(json_t *devs, const struct peer *p, const struct xs *k1,
    const struct xs *k2)
{
	json_t *d = json_deep_copy(p->keys);

	if (k1 != NULL)
		mx_signjson_sign(d, p->user, k1->sb, k1->ssk, NULL);
	if (k2 != NULL)
		mx_signjson_sign(d, p->user, k2->sb, k2->ssk, NULL);
	json_object_set_new(devs, p->dev, d);
}

/* Carol's /keys/query part: devs (stolen), the master and self-signing
 * keys of k (the latter signed by the former). */
static json_t *
carol_part(const struct xs *k, json_t *devs)
{
	char *mid = mx_xasprintf("ed25519:%s", k->mb);
	char *sid = mx_xasprintf("ed25519:%s", k->sb);
	json_t *mk = json_pack("{s:s,s:[s],s:{s:s}}", "user_id", CAROL,
	    "usage", "master", "keys", mid, k->mb);
	json_t *sk = json_pack("{s:s,s:[s],s:{s:s}}", "user_id", CAROL,
	    "usage", "self_signing", "keys", sid, k->sb);

	mx_signjson_sign(sk, CAROL, k->mb, k->msk, NULL);
	free(mid);
	free(sid);
	return json_pack("{s:o,s:o,s:o}", "device_keys", devs, "master_keys",
	    mk, "self_signing_keys", sk);
}

/* p got the key of env's session by Olm and reads env as what. */
static int
got_key(struct peer *p, const json_t *env, const char *what)
{
	json_t *keys = sent(&srv, "m.room.encrypted");
	char sid[MX_MEGOLM_ID_B64] = "", *body = NULL;
	struct mx_megolm_in *in = peer_room_key(p, keys, sid);
	int ok;

	if (in != NULL)
		body = peer_read(in, env);
	ok = in != NULL && strcmp(sid, mx_json_str(env, "session_id")) == 0 &&
	    body != NULL && strcmp(body, what) == 0;
	free(body);
	mx_megolm_in_free(in);
	json_decref(keys);
	return ok;
}

/* What p was told of withheld keys since the log was cleared: the code,
 * or NULL; and whether it was sent a key. */
static const char *
held_code(const struct peer *p, json_t **held)
{
	json_decref(*held);
	*held = sent(&srv, "m.room_key.withheld");
	return mx_json_str(json_object_get(json_object_get(*held, p->user),
			       p->dev),
	    "code");
}

static int
sent_key(const struct peer *p)
{
	json_t *keys = sent(&srv, "m.room.encrypted");
	int r =
	    json_object_get(json_object_get(keys, p->user), p->dev) != NULL;

	json_decref(keys);
	return r;
}

/* Carol changes (or the server says she changed) her cross-signing keys:
 * her device list is marked changed by the next sync. */
static void
carol_says(struct mx_e2ee *x, json_t *part, const char *batch)
{
	struct mx_err e;

	mx_err_clear(&e);
	json_decref(w.carol_keys);
	w.carol_keys = part;
	json_decref(w.sync);
	w.sync = json_pack("{s:s,s:{s:[s]},s:{s:{s:{s:{s:[o]}}}}}",
	    "next_batch", batch, "device_lists", "changed", CAROL, "rooms",
	    "join", ROOM, "timeline", "events", member(CAROL, "join"));
	if (mx_e2ee_refresh(x, ROOM, &e) != 0)
		printf("# refresh: %s\n", e.msg);
}

/* The device-injection attack (Albrecht et al. 2022) and MSC4153: a user
 * with cross-signing gets keys on the devices her self-signing key signed
 * only; her cross-signing keys are pinned, so a server that swaps them
 * too gets no key for its devices until the change is accepted. */
static void
cross_signing(struct mx_e2ee *x)
{
	json_t *enc = json_pack("{s:s}", "algorithm", MEGOLM), *o, *devs;
	json_t *held = NULL;
	char sid[MX_MEGOLM_ID_B64], sid2[MX_MEGOLM_ID_B64];
	struct xs k1, k2;
	struct mx_err e;

	mx_err_clear(&e);
	xs_new(&k1);
	xs_new(&k2);
	json_decref(w.members);
	w.members =
	    json_pack("[o,o]", member(ME, "join"), member(CAROL, "join"));
	devs = json_object();
	add_dev(devs, &w.c1, &k1, NULL);
	add_dev(devs, &w.c2, NULL, NULL);
	carol_says(x, carol_part(&k1, devs), "x1");

	o = encrypt(x, enc, MX_E2EE_TOFU, "to carol", sid);
	ok(got_key(&w.c1, o, "to carol"), "her signed device gets the key");
	ok(!sent_key(&w.c2), "the device she did not sign gets none");
	is_str(held_code(&w.c2, &held), "m.unverified", "and is told so");
	json_decref(o);

	o = encrypt(x, enc, MX_E2EE_ALL, "to all", sid);
	ok(got_key(&w.c2, o, "to all"),
	    "--trust all: the unsigned device "
	    "gets it too");
	json_decref(o);

	/* New master and self-signing keys; c1 re-signed, c3 new. */
	devs = json_object();
	add_dev(devs, &w.c1, &k1, &k2);
	add_dev(devs, &w.c2, NULL, NULL);
	add_dev(devs, &w.c3, &k2, NULL);
	carol_says(x, carol_part(&k2, devs), "x2");
	o = encrypt(x, enc, MX_E2EE_TOFU, "changed", sid2);
	ok(got_key(&w.c1, o, "changed"),
	    "after a change of her keys, the "
	    "device the pinned keys signed still gets the key");
	ok(!sent_key(&w.c3) && !sent_key(&w.c2),
	    "the device only the new "
	    "keys sign gets none, nor the unsigned one");
	is_str(held_code(&w.c3, &held), "m.unverified", "and is told so");
	json_decref(o);

	ok(mx_devices_accept(c.store, CAROL, &e) == 1, "the change accepted");
	ok(mx_devices_accept(c.store, CAROL, &e) == 0, "once");
	o = encrypt(x, enc, MX_E2EE_TOFU, "accepted", sid);
	ok(got_key(&w.c3, o, "accepted"), "then the new keys' device gets it");
	is_str(sid, sid2, "and the re-signed one keeps the session it has");
	ok(!sent_key(&w.c2), "the unsigned one still not");
	json_decref(o);
	json_decref(held);
	json_decref(enc);
}

/* p's device keys as a hostile server serves them: self-signed under
 * p's key ID, but by another device's key (by's). */
static json_t *
forged_keys(const struct peer *p, const struct peer *by)
{
	json_t *o = json_deep_copy(p->keys);
	char *b, sig[MX_OLM_SIG_B64],
	    *kid = mx_xasprintf("ed25519:%s", p->dev);

	json_object_del(o, "signatures");
	b = mx_signjson_signed_bytes(o, NULL);
	mx_olm_account_sign_b64(by->acct, sig, b, strlen(b));
	json_object_set_new(o, "signatures",
	    json_pack("{s:{s:s}}", p->user, kid, sig));
	free(kid);
	free(b);
	return o;
}

/* The server serves a device whose self-signature fails: the audit
 * reports it as forged, the sharing path never lists it nor sends it a
 * key, not even with --trust all. */
static void
forged_device(struct mx_e2ee *x)
{
	json_t *enc = json_pack("{s:s}", "algorithm", MEGOLM), *o, *devs;
	json_t *raw = NULL;
	struct mx_devlist l = { 0 };
	const char *u = CAROL;
	char sid[MX_MEGOLM_ID_B64];
	struct xs k;
	struct mx_err e;
	size_t i, forged = 0, listed = 0;

	mx_err_clear(&e);
	xs_new(&k);
	(void)mx_devices_accept(c.store, CAROL, &e);
	devs = json_object();
	add_dev(devs, &w.c1, NULL, NULL);
	json_object_set_new(devs, w.c4.dev, forged_keys(&w.c4, &w.c1));
	carol_says(x, carol_part(&k, devs), "x3");
	ok(mx_devices_audit(&c.api, c.store, &u, 1, &l, &raw, &e) == 0,
	    "the audit of a list with a forged device: %s", e.msg);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].device_id, w.c4.dev) == 0)
			forged +=
			    l.v[i].forged && strcmp(l.v[i].ed, w.c4.ed) == 0;
	ok(forged == 1, "lists it once, as forged, with the key it claims");
	ok(json_object_get(json_object_get(json_object_get(raw, "device_keys"),
			       CAROL),
	       w.c4.dev) != NULL,
	    "the raw answer is handed back whole");
	json_decref(raw);
	mx_devlist_release(&l);
	ok(mx_devices_get(&c.api, c.store, &u, 1, &l, &e) == 0,
	    "the sharing path's list: %s", e.msg);
	for (i = 0; i < l.n; i++)
		listed +=
		    strcmp(l.v[i].device_id, w.c4.dev) == 0 || l.v[i].forged;
	ok(listed == 0, "has no forged device");
	mx_devlist_release(&l);
	o = encrypt(x, enc, MX_E2EE_ALL, "not to the forgery", sid);
	ok(o != NULL && got_key(&w.c1, o, "not to the forgery"),
	    "--trust all: her real device gets the key");
	ok(!sent_key(&w.c4), "the forged one never does");
	json_decref(o);
	json_decref(enc);
}

int
main(void)
{
	struct mx_e2ee *x = NULL;
	struct mx_err e;

	mx_crypto_init();
	mx_err_clear(&e);
	srv.route = route;
	if (fakesrv_start(&srv) != 0) {
		puts("Bail out! cannot start the fake server");
		return 1;
	}
	peer_init(&w.a1, ALICE, "ALICE1", 0);
	peer_init(&w.a2, ALICE, "ALICE2", 1);
	peer_init(&w.a3, ALICE, "ALICE3", 0);
	peer_init(&w.mal, "@mallory:hs", "MAL", 0);
	peer_init(&w.c1, CAROL, "CAROL1", 1);
	peer_init(&w.c2, CAROL, "CAROL2", 1);
	peer_init(&w.c3, CAROL, "CAROL3", 1);
	peer_init(&w.c4, CAROL, "CAROL4", 1);
	ctx_init();
	w.members =
	    json_pack("[o,o]", member(ME, "join"), member(ALICE, "join"));
	w.sync = json_pack("{s:s}", "next_batch", "s1");
	ok(mx_e2ee_open(&x, &c, &e) == 0,
	    "open on a memory store with the "
	    "account of an identity: %s",
	    e.msg);
	is_str(mx_e2ee_curve25519(x), w.me.curve, "the identity's keys");
	receiving(x);
	cleartext(x);
	later_index(x);
	untracked_lists();
	rebind(x);
	replay_later();
	sending(x);
	verified_only(x);
	first_sync_members();
	cross_signing(x);
	forged_device(x);
	mx_e2ee_close(x);
	mx_ctx_close(&c);
	fakesrv_stop(&srv);
	mx_megolm_out_free(alice_s);
	mx_megolm_out_free(alice_s2);
	json_decref(ev1);
	json_decref(w.members);
	json_decref(w.sync);
	peer_release(&w.me);
	peer_release(&w.a1);
	peer_release(&w.a2);
	peer_release(&w.a3);
	peer_release(&w.mal);
	peer_release(&w.c1);
	peer_release(&w.c2);
	peer_release(&w.c3);
	peer_release(&w.c4);
	json_decref(w.carol_keys);
	return done();
}
