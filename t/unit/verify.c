/*
 * verify: the SAS state machine against itself (both roles, both SAS
 * agree), and every cancel path: out of turn, unknown method, wrong
 * commitment, wrong SAS, wrong MAC, a bad key, the other side's cancel,
 * and the inputs it must ignore (another transaction, another sender,
 * another device); and the in-room form: a whole flow between two
 * machines with the request's event ID as transaction, the device learned
 * from the ready, and what it ignores (another relation, a relation of
 * another kind, another sender).
 */
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "json.h"
#include "verify.h"
#include "tap.h"

static const struct mx_verify_party A = { "@alice:hs", "AAAA",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
/* bob MACs his master key too: alice does not need it */
static const struct mx_verify_party B = { "@bob:hs", "BBBB",
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm" };
static const char TXN[] = "txn1";

/* Hand every queued event of from to to; n: how many were passed. */
static int
pass(struct mx_verify *from, const char *sender, struct mx_verify *to)
{
	json_t *q = mx_verify_take(from), *m;
	size_t i;

	json_array_foreach(q, i, m)
		mx_verify_input(to, sender,
		    json_string_value(json_object_get(m, "type")),
		    json_object_get(m, "content"));
	i = json_array_size(q);
	json_decref(q);
	return (int)i;
}

/* The queued events of v: the last one's type and content (a copy). */
static json_t *
last(struct mx_verify *v, const char **type)
{
	json_t *q = mx_verify_take(v), *m, *c;
	static char t[64];

	m = json_array_get(q, json_array_size(q) - 1);
	snprintf(t, sizeof(t), "%s",
	    m ? json_string_value(json_object_get(m, "type")) : "");
	*type = t;
	c = m ? json_deep_copy(json_object_get(m, "content")) : NULL;
	json_decref(q);
	return c;
}

/* Both machines up to the SAS: a asks (and starts), b accepts. */
static void
to_show(struct mx_verify **a, struct mx_verify **b)
{
	*a = mx_verify_new(&A, &B, TXN, 1, 1000);
	*b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(*a)); /* the request */
	pass(*b, B.user, *a);		 /* ready -> start */
	pass(*a, A.user, *b);		 /* start -> accept */
	pass(*b, B.user, *a);		 /* accept -> key */
	pass(*a, A.user, *b);		 /* key -> key */
	pass(*b, B.user, *a);		 /* key */
}

static void
test_flow(void)
{
	struct mx_verify *a, *b;
	json_t *q, *m;
	int ea[7], eb[7], da[3], db[3];

	to_show(&a, &b);
	ok(mx_verify_state(a) == MX_VERIFY_SHOW &&
		mx_verify_state(b) == MX_VERIFY_SHOW,
	    "both show the SAS (a start received twice is taken once)");
	ok(mx_verify_sas(a, ea, da) == 3 && mx_verify_sas(b, eb, db) == 3,
	    "emoji and decimal agreed");
	ok(memcmp(ea, eb, sizeof(ea)) == 0 && memcmp(da, db, sizeof(da)) == 0,
	    "same emoji and numbers on both sides");
	mx_verify_confirm(b, 1);
	q = mx_verify_take(b);
	m = json_object_get(json_object_get(json_array_get(q, 0), "content"),
	    "mac");
	ok(json_object_size(m) == 2 &&
		json_object_get(m, "ed25519:BBBB") != NULL &&
		json_object_get(m,
		    "ed25519:mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm") !=
		    NULL,
	    "b MACs its device and its master key");
	/* b's MAC reaches a before a's user answers */
	mx_verify_input(a, B.user, "m.key.verification.mac",
	    json_object_get(json_array_get(q, 0), "content"));
	json_decref(q);
	ok(mx_verify_state(a) == MX_VERIFY_SHOW, "a MAC early is kept");
	mx_verify_confirm(a, 1);
	ok(mx_verify_state(a) == MX_VERIFY_DONE_SENT, "a checked b's MAC");
	pass(a, A.user, b); /* a's MAC and done */
	ok(mx_verify_state(b) == MX_VERIFY_DONE, "b done");
	pass(b, B.user, a);
	ok(mx_verify_state(a) == MX_VERIFY_DONE, "a done");
	mx_verify_free(a);
	mx_verify_free(b);
}

/* b asks, a starts after both sent start: the lower user's start wins. */
static void cancelled(struct mx_verify *v, const char *code, const char *name);

/* a knows b's master key: b's MAC of it is checked */
static void
test_master(int tamper)
{
	struct mx_verify_party bm = B;
	struct mx_verify *a, *b;
	const char *type;
	json_t *mac;

	bm.master = "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm";
	a = mx_verify_new(&A, &bm, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(a));
	pass(b, B.user, a);
	pass(a, A.user, b);
	pass(b, B.user, a);
	pass(a, A.user, b);
	pass(b, B.user, a);
	mx_verify_confirm(b, 1);
	mac = last(b, &type);
	if (tamper)
		json_object_set_new(json_object_get(mac, "mac"),
		    "ed25519:mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm",
		    json_string(
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	mx_verify_input(a, B.user, type, mac);
	json_decref(mac);
	mx_verify_confirm(a, 1);
	if (tamper)
		cancelled(a, "m.key_mismatch", "a wrong master key MAC");
	else {
		pass(a, A.user, b);
		pass(b, B.user, a);
		ok(mx_verify_state(a) == MX_VERIFY_DONE &&
			mx_verify_master_verified(a) &&
			!mx_verify_master_verified(b),
		    "their master key verified along");
	}
	mx_verify_free(a);
	mx_verify_free(b);
}

static void
test_both_start(void)
{
	struct mx_verify *a, *b;
	json_t *q;
	int ea[7], eb[7], da[3], db[3];

	a = mx_verify_new(&A, &B, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 1, 1000);
	json_decref(mx_verify_take(a));
	json_decref(mx_verify_take(b));
	/* each gets a ready as if the other had answered */
	q = json_pack("{s:s,s:[s],s:s}", "from_device", B.device, "methods",
	    "m.sas.v1", "transaction_id", TXN);
	mx_verify_input(a, B.user, "m.key.verification.ready", q);
	json_decref(q);
	q = json_pack("{s:s,s:[s],s:s}", "from_device", A.device, "methods",
	    "m.sas.v1", "transaction_id", TXN);
	mx_verify_input(b, A.user, "m.key.verification.ready", q);
	json_decref(q);
	pass(a, A.user, b); /* a's start: b gives up its own, accepts */
	pass(b, B.user, a); /* b's start (ignored by a) and accept */
	ok(mx_verify_state(a) == MX_VERIFY_ACCEPTED &&
		mx_verify_state(b) == MX_VERIFY_ACCEPTING,
	    "the lower user ID's start counts");
	pass(a, A.user, b);
	pass(b, B.user, a);
	ok(mx_verify_sas(a, ea, da) && mx_verify_sas(b, eb, db) &&
		memcmp(ea, eb, sizeof(ea)) == 0,
	    "and the SAS agree");
	mx_verify_free(a);
	mx_verify_free(b);
}

/* v must have cancelled with code, and queued that cancel. */
static void
cancelled(struct mx_verify *v, const char *code, const char *name)
{
	const char *type;
	json_t *c = last(v, &type);

	ok(mx_verify_state(v) == MX_VERIFY_CANCELLED &&
		strcmp(mx_verify_cancel_code(v), code) == 0 &&
		!mx_verify_cancelled_by_them(v) &&
		strcmp(type, "m.key.verification.cancel") == 0 &&
		strcmp(mx_json_str(c, "code"), code) == 0 &&
		strcmp(mx_json_str(c, "transaction_id"), TXN) == 0,
	    "%s: cancel %s", name, code);
	json_decref(c);
}

/* Feed v one event of type with content (JSON text, txn added). */
static int
feed(struct mx_verify *v, const char *sender, const char *type,
    const char *json)
{
	json_t *c = json_loads(json, 0, NULL);
	int rc;

	if (json_object_get(c, "transaction_id") == NULL)
		json_object_set_new(c, "transaction_id", json_string(TXN));
	rc = mx_verify_input(v, sender, type, c);
	json_decref(c);
	return rc;
}

static void
test_out_of_turn(void)
{
	static const char *const early[] = { "m.key.verification.accept",
		"m.key.verification.key", "m.key.verification.mac",
		"m.key.verification.done", "m.key.verification.bogus" };
	struct mx_verify *v;
	size_t i;

	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		v = mx_verify_new(&A, &B, TXN, 1, 1000);
		json_decref(mx_verify_take(v));
		feed(v, B.user, early[i], "{}");
		cancelled(v, "m.unexpected_message", early[i]);
		mx_verify_free(v);
	}
	v = mx_verify_new(&A, &B, TXN, 1, 1000);
	json_decref(mx_verify_take(v));
	feed(v, B.user, "m.key.verification.start",
	    "{\"from_device\":\"BBBB\",\"method\":\"m.sas.v1\"}");
	cancelled(v, "m.unexpected_message", "start before ready");
	mx_verify_free(v);
	/* a second ready, once started */
	v = mx_verify_new(&A, &B, TXN, 1, 1000);
	feed(v, B.user, "m.key.verification.ready",
	    "{\"from_device\":\"BBBB\",\"methods\":[\"m.sas.v1\"]}");
	ok(mx_verify_state(v) == MX_VERIFY_STARTED, "ready: started");
	feed(v, B.user, "m.key.verification.ready",
	    "{\"from_device\":\"BBBB\",\"methods\":[\"m.sas.v1\","
	    "\"m.qr_code.show.v1\"]}");
	cancelled(v, "m.unexpected_message", "second ready");
	mx_verify_free(v);
}

static void
test_unknown_method(void)
{
	struct mx_verify *v;
	struct mx_verify *a, *b;
	const char *type;
	json_t *acc;

	v = mx_verify_new(&A, &B, TXN, 1, 1000);
	feed(v, B.user, "m.key.verification.ready",
	    "{\"from_device\":\"BBBB\",\"methods\":[\"m.qr_code.show.v1\"]}");
	cancelled(v, "m.unknown_method", "ready without m.sas.v1");
	mx_verify_free(v);

	v = mx_verify_new(&A, &B, TXN, 0, 1000);
	feed(v, B.user, "m.key.verification.start",
	    "{\"from_device\":\"BBBB\",\"method\":\"m.reciprocate.v1\"}");
	cancelled(v, "m.unknown_method", "start of another method");
	mx_verify_free(v);

	v = mx_verify_new(&A, &B, TXN, 0, 1000);
	feed(v, B.user, "m.key.verification.start",
	    "{\"from_device\":\"BBBB\",\"method\":\"m.sas.v1\","
	    "\"key_agreement_protocols\":[\"curve25519-hkdf-sha256\"],"
	    "\"hashes\":[\"sha256\"],\"message_authentication_codes\":"
	    "[\"hkdf-hmac-sha256\"],\"short_authentication_string\":"
	    "[\"emoji\"]}");
	cancelled(v, "m.unknown_method", "start with the legacy MAC only");
	mx_verify_free(v);

	/* an accept that picks what we did not offer */
	a = mx_verify_new(&A, &B, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(a));
	pass(b, B.user, a);
	pass(a, A.user, b);
	acc = last(b, &type);
	json_object_set_new(acc, "hash", json_string("sha512"));
	mx_verify_input(a, B.user, type, acc);
	cancelled(a, "m.unknown_method", "accept with another hash");
	json_decref(acc);
	mx_verify_free(a);
	mx_verify_free(b);
}

/* Up to a's key: b's accept is delivered altered by fn. */
static void
test_commitment(void)
{
	struct mx_verify *a, *b;
	const char *type;
	json_t *acc, *key;

	a = mx_verify_new(&A, &B, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(a));
	pass(b, B.user, a);
	pass(a, A.user, b);
	acc = last(b, &type);
	/* a commitment to some other key */
	json_object_set_new(acc, "commitment",
	    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	mx_verify_input(a, B.user, type, acc);
	json_decref(acc);
	pass(a, A.user, b);
	key = last(b, &type);
	ok(strcmp(type, "m.key.verification.key") == 0, "b sends its key");
	mx_verify_input(a, B.user, type, key);
	cancelled(a, "m.mismatched_commitment", "key against commitment");
	json_decref(key);
	mx_verify_free(a);
	mx_verify_free(b);
}

static void
test_bad_key(void)
{
	struct mx_verify *v = mx_verify_new(&A, &B, TXN, 0, 1000);

	feed(v, B.user, "m.key.verification.start",
	    "{\"from_device\":\"BBBB\",\"method\":\"m.sas.v1\","
	    "\"key_agreement_protocols\":[\"curve25519-hkdf-sha256\"],"
	    "\"hashes\":[\"sha256\"],\"message_authentication_codes\":"
	    "[\"hkdf-hmac-sha256.v2\"],\"short_authentication_string\":"
	    "[\"emoji\"]}");
	ok(mx_verify_state(v) == MX_VERIFY_ACCEPTING, "accepting");
	/* the all-zero point: a low-order key */
	feed(v, B.user, "m.key.verification.key",
	    "{\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
	cancelled(v, "m.invalid_message", "a low-order key");
	mx_verify_free(v);
	v = mx_verify_new(&A, &B, TXN, 0, 1000);
	feed(v, B.user, "m.key.verification.start",
	    "{\"from_device\":\"BBBB\",\"method\":\"m.sas.v1\","
	    "\"key_agreement_protocols\":[\"curve25519-hkdf-sha256\"],"
	    "\"hashes\":[\"sha256\"],\"message_authentication_codes\":"
	    "[\"hkdf-hmac-sha256.v2\"],\"short_authentication_string\":"
	    "[\"decimal\"]}");
	feed(v, B.user, "m.key.verification.key", "{\"key\":42}");
	cancelled(v, "m.invalid_message", "a key that is no string");
	mx_verify_free(v);
}

static void
test_mismatch(void)
{
	struct mx_verify *a, *b;
	json_t *q;

	to_show(&a, &b);
	mx_verify_confirm(a, 0);
	cancelled(a, "m.mismatched_sas", "the user said no");
	mx_verify_confirm(b, 1);
	json_decref(mx_verify_take(b));
	feed(b, A.user, "m.key.verification.cancel",
	    "{\"code\":\"m.mismatched_sas\",\"reason\":\"no\\u001b[31m\"}");
	ok(mx_verify_state(b) == MX_VERIFY_CANCELLED &&
		mx_verify_cancelled_by_them(b) &&
		strcmp(mx_verify_cancel_code(b), "m.mismatched_sas") == 0 &&
		strcmp(mx_verify_cancel_reason(b), "no[31m") == 0,
	    "their cancel ends it, its reason made printable");
	q = mx_verify_take(b);
	ok(json_array_size(q) == 0, "and nothing is sent");
	json_decref(q);
	mx_verify_free(a);
	mx_verify_free(b);
}

/* b's MAC altered (tamper: 0 the device key's MAC, 1 the key list, 2 a
 * key added, 3 b's pinned key is not the one a expects). */
static void
test_key_mismatch(int tamper)
{
	static const char *const names[] = { "a wrong device key MAC",
		"a wrong key-list MAC", "a key added to the MAC",
		"another device key" };
	struct mx_verify_party bad = B;
	struct mx_verify *a, *b;
	const char *type;
	json_t *mac;

	if (tamper == 3)
		bad.ed = "cccccccccccccccccccccccccccccccccccccccccc0";
	a = mx_verify_new(&A, tamper == 3 ? &bad : &B, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(a));
	pass(b, B.user, a);
	pass(a, A.user, b);
	pass(b, B.user, a);
	pass(a, A.user, b);
	pass(b, B.user, a);
	mx_verify_confirm(b, 1);
	mac = last(b, &type);
	if (tamper == 0)
		json_object_set_new(json_object_get(mac, "mac"),
		    "ed25519:BBBB",
		    json_string(
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	else if (tamper == 1)
		json_object_set_new(mac, "keys",
		    json_string(
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	else if (tamper == 2)
		json_object_set_new(json_object_get(mac, "mac"), "ed25519:XX",
		    json_string(
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	mx_verify_input(a, B.user, type, mac);
	mx_verify_confirm(a, 1);
	cancelled(a, "m.key_mismatch", names[tamper]);
	json_decref(mac);
	mx_verify_free(a);
	mx_verify_free(b);
}

static void
test_ignored(void)
{
	struct mx_verify *v = mx_verify_new(&A, &B, TXN, 1, 1000);
	json_t *q;

	json_decref(mx_verify_take(v));
	ok(feed(v, "@mallory:hs", "m.key.verification.cancel",
	       "{\"code\":\"m.user\"}") == 0 &&
		mx_verify_state(v) == MX_VERIFY_REQUESTED,
	    "another sender is ignored");
	ok(feed(v, B.user, "m.key.verification.cancel",
	       "{\"code\":\"m.user\",\"transaction_id\":\"other\"}") == 0 &&
		mx_verify_state(v) == MX_VERIFY_REQUESTED,
	    "another transaction is ignored");
	ok(feed(v, B.user, "m.key.verification.ready",
	       "{\"from_device\":\"CCCC\",\"methods\":[\"m.sas.v1\"]}") == 0 &&
		mx_verify_state(v) == MX_VERIFY_REQUESTED,
	    "a ready from another device is ignored");
	ok(mx_verify_input(v, B.user, "m.key.verification.ready", NULL) == 0,
	    "no content");
	q = mx_verify_take(v);
	ok(json_array_size(q) == 0, "nothing sent for them");
	json_decref(q);
	mx_verify_cancel(v, "m.timeout", "timed out");
	cancelled(v, "m.timeout", "our timeout");
	mx_verify_free(v);
}

/* ---- in-room form ------------------------------------------------------- */

static const char REQ[] = "$request:hs";

/* 1 when every queued event of q is tagged in-room, with no
 * transaction_id. */
static int
room_tagged(const json_t *q)
{
	const json_t *m, *c, *rel;
	size_t i;

	json_array_foreach((json_t *)q, i, m) {
		c = json_object_get(m, "content");
		rel = json_object_get(c, "m.relates_to");
		if (json_object_get(c, "transaction_id") != NULL ||
		    mx_json_str(rel, "rel_type") == NULL ||
		    strcmp(mx_json_str(rel, "rel_type"), "m.reference") != 0 ||
		    mx_json_str(rel, "event_id") == NULL ||
		    strcmp(mx_json_str(rel, "event_id"), REQ) != 0)
			return 0;
	}
	return 1;
}

/* Hand from's queue to to (checked in-room); 0 when one was untagged. */
static int
pass_room(struct mx_verify *from, const char *sender, struct mx_verify *to)
{
	json_t *q = mx_verify_take(from), *m;
	size_t i;
	int good = room_tagged(q);

	json_array_foreach(q, i, m)
		mx_verify_input(to, sender,
		    json_string_value(json_object_get(m, "type")),
		    json_object_get(m, "content"));
	json_decref(q);
	return good;
}

/* Feed v an in-room event with content json and a reference to id. */
static int
feed_room(struct mx_verify *v, const char *sender, const char *type,
    const char *json, const char *rel_type, const char *id)
{
	json_t *c = json_loads(json, 0, NULL);
	int rc;

	json_object_set_new(c, "m.relates_to",
	    json_pack("{s:s,s:s}", "rel_type", rel_type, "event_id", id));
	rc = mx_verify_input(v, sender, type, c);
	json_decref(c);
	return rc;
}

static void
test_room(void)
{
	struct mx_verify_party user_b = B;
	struct mx_verify *a, *b;
	json_t *req, *q;
	int ea[7], eb[7], da[3], db[3], good = 1;

	req = mx_verify_room_request(A.device, B.user);
	ok(strcmp(mx_json_str(req, "msgtype"), "m.key.verification.request") ==
		    0 &&
		strcmp(mx_json_str(req, "to"), B.user) == 0 &&
		strcmp(mx_json_str(req, "from_device"), A.device) == 0 &&
		mx_json_str(req, "body") != NULL &&
		json_object_get(req, "transaction_id") == NULL,
	    "room: the request is an m.room.message to the user");
	json_decref(req);
	/* alice asks bob the user: his device comes with his ready */
	user_b.device = NULL;
	user_b.ed = NULL;
	a = mx_verify_new_room(&A, &user_b, REQ, 1);
	b = mx_verify_new_room(&B, &A, REQ, 0);
	q = mx_verify_take(a);
	ok(json_array_size(q) == 0 &&
		mx_verify_state(a) == MX_VERIFY_REQUESTED,
	    "room: nothing queued for a request the caller sent");
	json_decref(q);
	ok(*mx_verify_their_device(a) == '\0', "room: their device unknown");
	q = mx_verify_take(b);
	ok(room_tagged(q) && json_array_size(q) == 1, "room: ready tagged");
	ok(feed_room(a, B.user, "m.key.verification.ready",
	       "{\"from_device\":\"BBBB\",\"methods\":[\"m.sas.v1\"]}",
	       "m.reference", REQ) == 0 &&
		mx_verify_state(a) == MX_VERIFY_REQUESTED,
	    "room: a ready before the device is pinned is ignored");
	ok(mx_verify_pin(a, B.device, B.ed) == 0 &&
		strcmp(mx_verify_their_device(a), "BBBB") == 0,
	    "room: the device pinned");
	ok(mx_verify_pin(a, "CCCC", B.ed) == -1, "room: pinned once only");
	ok(mx_verify_input(a, B.user, "m.key.verification.ready",
	       json_object_get(json_array_get(q, 0), "content")) == 1 &&
		mx_verify_state(a) == MX_VERIFY_STARTED,
	    "room: their ready taken, our start sent");
	json_decref(q);
	good &= pass_room(a, A.user, b); /* start -> accept */
	good &= pass_room(b, B.user, a); /* accept -> key */
	good &= pass_room(a, A.user, b); /* key -> key */
	good &= pass_room(b, B.user, a); /* key */
	ok(mx_verify_state(a) == MX_VERIFY_SHOW &&
		mx_verify_state(b) == MX_VERIFY_SHOW,
	    "room: both show the SAS");
	ok(mx_verify_sas(a, ea, da) == 3 && mx_verify_sas(b, eb, db) == 3 &&
		memcmp(ea, eb, sizeof(ea)) == 0 &&
		memcmp(da, db, sizeof(da)) == 0,
	    "room: same emoji and numbers on both sides");
	/* what it must ignore: another relation, a reply, another sender, a
	 * to-device form naming the event ID */
	ok(feed_room(a, B.user, "m.key.verification.cancel",
	       "{\"code\":\"m.user\"}", "m.reference", "$other:hs") == 0,
	    "room: a relation to another event is ignored");
	ok(feed_room(a, B.user, "m.key.verification.cancel",
	       "{\"code\":\"m.user\"}", "m.annotation", REQ) == 0,
	    "room: a relation of another kind is ignored");
	ok(feed_room(a, "@mallory:hs", "m.key.verification.cancel",
	       "{\"code\":\"m.user\"}", "m.reference", REQ) == 0,
	    "room: another sender is ignored");
	ok(feed(a, B.user, "m.key.verification.cancel",
	       "{\"code\":\"m.user\",\"transaction_id\":\"$request:hs\"}") ==
		0,
	    "room: a transaction_id in place of the relation is ignored");
	ok(mx_verify_state(a) == MX_VERIFY_SHOW, "room: still showing");
	mx_verify_confirm(a, 1);
	mx_verify_confirm(b, 1);
	good &= pass_room(a, A.user, b);
	good &= pass_room(b, B.user, a);
	good &= pass_room(a, A.user, b);
	ok(mx_verify_state(a) == MX_VERIFY_DONE &&
		mx_verify_state(b) == MX_VERIFY_DONE,
	    "room: both done");
	ok(good, "room: every event sent tagged with the relation");
	mx_verify_free(a);
	mx_verify_free(b);
}

/* In-room: "no" on one side cancels the other (the cancel relates to
 * the request too). */
static void
test_room_cancel(void)
{
	struct mx_verify *a = mx_verify_new_room(&A, &B, REQ, 1),
			 *b = mx_verify_new_room(&B, &A, REQ, 0);

	pass_room(b, B.user, a);
	pass_room(a, A.user, b);
	pass_room(b, B.user, a);
	pass_room(a, A.user, b);
	pass_room(b, B.user, a);
	mx_verify_confirm(b, 0);
	ok(pass_room(b, B.user, a) &&
		mx_verify_state(a) == MX_VERIFY_CANCELLED &&
		mx_verify_cancelled_by_them(a) &&
		strcmp(mx_verify_cancel_code(a), "m.mismatched_sas") == 0,
	    "room: their no cancels us with m.mismatched_sas");
	mx_verify_free(a);
	mx_verify_free(b);
}

/* To-device, to a user: the device pinned from the first ready; a ready
 * of another device after it is ignored. */
static void
test_user_todevice(void)
{
	struct mx_verify_party user_b = B;
	struct mx_verify *a, *b;
	json_t *q;

	user_b.device = NULL;
	user_b.ed = NULL;
	a = mx_verify_new(&A, &user_b, TXN, 1, 1000);
	b = mx_verify_new(&B, &A, TXN, 0, 1000);
	json_decref(mx_verify_take(a));
	q = mx_verify_take(b);
	ok(mx_verify_input(a, B.user, "m.key.verification.ready",
	       json_object_get(json_array_get(q, 0), "content")) == 0,
	    "user: a ready before the pin is ignored");
	ok(mx_verify_pin(a, B.device, B.ed) == 0 &&
		mx_verify_input(a, B.user, "m.key.verification.ready",
		    json_object_get(json_array_get(q, 0), "content")) == 1 &&
		mx_verify_state(a) == MX_VERIFY_STARTED,
	    "user: pinned, the ready starts");
	json_decref(q);
	ok(feed(a, B.user, "m.key.verification.ready",
	       "{\"from_device\":\"CCCC\",\"methods\":[\"m.sas.v1\"]}") == 0 &&
		mx_verify_state(a) == MX_VERIFY_STARTED,
	    "user: another device's ready is ignored");
	pass(a, A.user, b);
	pass(b, B.user, a);
	pass(a, A.user, b);
	pass(b, B.user, a);
	ok(mx_verify_state(a) == MX_VERIFY_SHOW &&
		mx_verify_state(b) == MX_VERIFY_SHOW,
	    "user: both show the SAS");
	mx_verify_free(a);
	mx_verify_free(b);
}

int
main(void)
{
	int i;

	mx_crypto_init();
	test_flow();
	test_both_start();
	test_out_of_turn();
	test_unknown_method();
	test_commitment();
	test_bad_key();
	test_mismatch();
	for (i = 0; i < 4; i++)
		test_key_mismatch(i);
	test_ignored();
	test_master(0);
	test_master(1);
	test_room();
	test_room_cancel();
	test_user_todevice();
	return done();
}
