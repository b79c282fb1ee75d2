/*
 * mx-verify: verify another device interactively with the Short
 * Authentication String (spec: Client-Server API, "Key verification
 * framework", "Short Authentication String (SAS) verification"), over
 * to-device messages, or in-room in an encrypted direct-message room
 * (the form Element's "Verify user" takes).  The protocol is
 * lib/verify.c's state machine; this file does the I/O: the /sync loop,
 * the inbox of to-device events that any mx program on the profile keeps
 * (lib/inbox.c), the DM's timeline decrypted, the prompt, and the mark
 * "verified" at the end (the store flag of mx-keys trust).
 *
 * With our own other device, the secrets (cross-signing keys, backup key)
 * are then asked for or given: lib/gossip.c (spec: "Sharing").
 *
 * Exit 0 only when the verification completed and the device is marked;
 * 1 when it was refused, cancelled or timed out.  The secrets' exchange
 * never changes it: the SAS verified the device already.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "conf.h"
#include "devices.h"
#include "e2ee.h"
#include "gossip.h"
#include "inbox.h"
#include "json.h"
#include "msg.h"
#include "room.h"
#include "b64.h"
#include "backup.h"
#include "crypto.h"
#include "sas.h"
#include "signjson.h"
#include "store.h"
#include "sync.h"
#include "todevice.h"
#include "util.h"
#include "verify.h"
#include "secrets.h"
#include "xsign.h"
#include "banned.h"

enum {
	O_TIMEOUT = MX_OPT_LONG,
	O_JSON,
	O_DECIMAL,
	O_KEY,
	O_SERVER,
	O_PASSWORD_STDIN,
	O_RECOVERY_KEY_STDIN,
	O_PASSPHRASE_FILE,
};

#define OWN_STORE (MX_CTX_SESSION | MX_CTX_STORE | MX_CTX_NO_ENV)
/* The longest a verification may take (spec: "Key verification
 * framework": 10 minutes), and a request's age limits: sent at most 10
 * minutes ago (5 ahead of our clock), received at most 2 minutes ago. */
#define FLOW_MS (10LL * 60 * 1000)
#define REQ_PAST_MS (10LL * 60 * 1000)
#define REQ_FUTURE_MS (5LL * 60 * 1000)
#define REQ_RECEIVED_MS (2LL * 60 * 1000)
/* One long poll: short, since another process on the profile may take
 * the events and leave them in the inbox. */
#define POLL_MS 2000
/* After a SAS with our own other device: how long at most to stay
 * answering its secret requests, and how long after the last secret
 * given or taken nothing more is expected (all are asked for at once). */
#define SHARE_MS (30LL * 1000)
#define QUIET_MS (3LL * 1000)

static const struct mx_opt opts[] = {
	{ O_TIMEOUT, "timeout", "SECS",
	    "wait SECS for a request and for each answer (default 120)", 0 },
	{ O_JSON, "json", NULL,
	    "print the SAS as one JSON line and read yes or no from stdin",
	    0 },
	{ O_DECIMAL, "decimal", NULL, "also show the SAS as three numbers",
	    0 },
	{ O_KEY, "key", "ED25519",
	    "json: check the signatures against this public key", 0 },
	{ O_SERVER, "server", "NAME",
	    "json: a server's keys, signed by server NAME itself", 0 },
	{ O_PASSWORD_STDIN, "password-stdin", NULL,
	    "cross-signing: read the account password from stdin", 0 },
	{ O_RECOVERY_KEY_STDIN, "recovery-key-stdin", NULL,
	    "cross-signing setup, reset, import: read secret storage's "
	    "recovery key from stdin",
	    0 },
	{ O_PASSPHRASE_FILE, "passphrase-file", "FILE",
	    "cross-signing setup, reset, import: secret storage's "
	    "passphrase, old or new, is in FILE",
	    0 },
	MX_OPT_END
};

static const struct mx_cli cli = {
	"mx-verify",
	"[options] sas [USER [DEVICE]]\n[options] fingerprint USER DEVICE "
	"ED25519\n[options] json [--key ED25519 | --server NAME]\n[options] "
	"cross-signing setup|status|reset [--password-stdin]\n[options] "
	"cross-signing setup|reset|import [--recovery-key-stdin | "
	"--passphrase-file "
	"FILE]",
	"Verify another device by comparing emoji (SAS) or its fingerprint, "
	"check the signatures of signed Matrix JSON, and set up "
	"cross-signing.",
	opts,
};

struct opt {
	long timeout_ms;
	int json, decimal, have_timeout, password_stdin, recovery_key_stdin;
	const char *key, *server, *passphrase_file;
};

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;
	char *end;
	long v;

	switch (id) {
	case O_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v <= 0 || v > 600)
			mx_cli_usage(&cli, "--timeout takes 1 to 600 seconds");
		o->timeout_ms = v * 1000;
		o->have_timeout = 1;
		break;
	case O_KEY:
		o->key = arg;
		break;
	case O_SERVER:
		o->server = arg;
		break;
	case O_PASSWORD_STDIN:
		o->password_stdin = 1;
		break;
	case O_RECOVERY_KEY_STDIN:
		o->recovery_key_stdin = 1;
		break;
	case O_PASSPHRASE_FILE:
		o->passphrase_file = arg;
		break;
	case O_JSON:
		o->json = 1;
		break;
	case O_DECIMAL:
		o->decimal = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

/* One run: the profile, the other device and the state machine. */
struct run {
	struct mx_ctx *c;
	const struct opt *o;
	struct mx_e2ee *x;
	struct mx_devlist devs;	      /* the other user's devices */
	const struct mx_device *them; /* NULL until a user's device answers */
	const char *user;	      /* the other user */
	struct mx_verify *v;
	char *txn;
	char *room;	/* in-room: the encrypted DM of the flow, else NULL */
	int rooms;	/* /sync takes rooms' timelines (room, or all) */
	json_t *later;	/* in-room events not decrypted yet: [{room, ev}] */
	json_t *events; /* in-room events decrypted, not yet looked at */
	long long started;
	char *pos;	   /* this process's /sync position, once it has one */
	char master[44];   /* our master key when we hold it, else "" */
	int signed_master; /* 1: we signed their master key */
	int signed_device; /* 1: we signed our own other device */
	struct mx_gossip *g; /* secrets asked for and given */
	json_t *secrets;     /* the names of the secrets received, or NULL */
};

/* SIGINT, SIGTERM or SIGHUP came: the flow is cancelled (m.user), so
 * that the other side stops at once rather than after its timeout. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Without SA_RESTART: the prompt's read returns, and the loops look at
 * interrupted within one poll. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- the other device --------------------------------------------------- */

/* The device of user from its checked, pinned list; one whose keys
 * changed is refused. */
static int
find_device(struct run *r, const char *user, const char *device,
    struct mx_err *e)
{
	size_t i;

	if (mx_devices_get(&r->c->api, r->c->store, &user, 1, &r->devs, e) !=
	    0)
		return -1;
	for (i = 0; i < r->devs.n; i++)
		if (strcmp(r->devs.v[i].device_id, device) == 0)
			break;
	if (i == r->devs.n)
		return mx_err_set(e, MX_PERM, "%s has no device '%s'", user,
		    device);
	if (r->devs.v[i].trust == MX_TRUST_MISMATCH)
		return mx_err_set(e, MX_NO,
		    "device '%s' of %s changed its keys: refusing to verify "
		    "it",
		    device, user);
	r->them = &r->devs.v[i];
	return 0;
}

/* ---- sending and receiving ---------------------------------------------- */

/* 1 when d is one the request to a user goes to: not this device, not
 * one whose keys changed. */
static int
is_target(const struct run *r, const struct mx_device *d)
{
	return d->trust != MX_TRUST_MISMATCH &&
	    !(strcmp(d->user_id, r->c->sess.user_id) == 0 &&
		strcmp(d->device_id, r->c->sess.device_id) == 0);
}

/* Send type and content in the clear to the other device, or, before one
 * answered a request to the user, to each of theirs but skip (spec: "Key
 * verification framework": a request to a user goes to all of their
 * devices). */
static int
send_devices(struct run *r, const char *type, const json_t *content,
    const struct mx_device *skip, struct mx_err *e)
{
	struct mx_todevice_target *t;
	size_t i, n = 0;
	int rc;

	if (r->them != NULL) {
		struct mx_todevice_target one = { r->them, 0 };

		return mx_todevice_send_clear(r->x, &one, 1, type, content, e);
	}
	t = mx_xcalloc(r->devs.n + 1, sizeof(*t));
	for (i = 0; i < r->devs.n; i++)
		if (is_target(r, &r->devs.v[i]) && &r->devs.v[i] != skip)
			t[n++].dev = &r->devs.v[i];
	rc = n == 0 ? 0 : mx_todevice_send_clear(r->x, t, n, type, content, e);
	free(t);
	return rc;
}

/* Send what the machine queued, in order: into the room, encrypted, or
 * to the other device(s). */
static int
flush(struct run *r, struct mx_err *e)
{
	json_t *q = mx_verify_take(r->v), *m;
	const char *type;
	size_t i;
	int rc = 0;

	json_array_foreach(q, i, m) {
		type = json_string_value(json_object_get(m, "type"));
		if (rc == 0 && r->room != NULL)
			rc = mx_e2ee_send(r->x, r->room, MX_E2EE_TOFU, type,
			    json_object_get(m, "content"), NULL, e);
		else if (rc == 0)
			rc = send_devices(r, type,
			    json_object_get(m, "content"), NULL, e);
	}
	json_decref(q);
	return rc;
}

/* Their device d answered a request to the user first: it is the one
 * verified, and the others are told (spec: "Key verification framework":
 * m.key.verification.cancel with code m.accepted). */
static int
pin(struct run *r, const struct mx_device *d, struct mx_err *e)
{
	json_t *c;
	int rc = 0;

	if (mx_verify_pin(r->v, d->device_id, d->ed) != 0)
		return 0;
	if (r->room == NULL) {
		c = json_pack("{s:s,s:s,s:s}", "code", "m.accepted", "reason",
		    "another device answered", "transaction_id", r->txn);
		rc = send_devices(r, "m.key.verification.cancel", c, d, e);
		json_decref(c);
	}
	r->them = d;
	mx_cli_note(r->c, 1, "%s's device %s answered", d->user_id,
	    d->device_id);
	return rc;
}

/* The device of the other user named device among the ones asked, or
 * NULL. */
static const struct mx_device *
asked_device(const struct run *r, const char *device)
{
	size_t i;

	for (i = 0; device != NULL && i < r->devs.n; i++)
		if (strcmp(r->devs.v[i].device_id, device) == 0 &&
		    is_target(r, &r->devs.v[i]))
			return &r->devs.v[i];
	return NULL;
}

/* The /sync filter: no rooms, only to-device events and device lists. */
static const char FILTER[] =
    "{\"room\":{\"rooms\":[]},\"presence\":{\"not_types\":[\"*\"]},"
    "\"account_data\":{\"not_types\":[\"*\"]}}";

/* With rooms: the events of the timeline of room (all rooms when NULL)
 * that may be verification events, encrypted or not, no state; caller
 * frees. */
static char *
room_filter(const char *room)
{
	json_t *f = json_pack("{s:{s:[s]},s:{s:[s]},s:{s:{s:i,s:[s,s,s]},"
			      "s:{s:[]},s:{s:[s]},s:{s:[s]}}}",
	    "presence", "not_types", "*", "account_data", "not_types", "*",
	    "room", "timeline", "limit", 50, "types", "m.room.encrypted",
	    "m.room.message", "m.key.verification.*", "state", "types",
	    "ephemeral", "not_types", "*", "account_data", "not_types", "*");
	char *s;

	if (room != NULL)
		json_object_set_new(json_object_get(f, "room"), "rooms",
		    json_pack("[s]", room));
	s = mx_json_compact(f);
	json_decref(f);
	return s;
}

/* The undecrypted room events kept for a later try, at most this many. */
#define LATER_MAX 64

/* Decrypt the events kept in r->later: the ones decrypted from a session
 * of their sender (the verdict says so), and the ones sent in the clear,
 * go to r->events; the ones whose key has not come yet stay (it may come
 * with the next sync).  In the clear: matrix-js-sdk with its Rust crypto
 * (Element Web) sends its in-room verification events so, even in an
 * encrypted room; nothing there needs secrecy, and what proves the
 * other device is the SAS and its MAC, not the Megolm session. */
static int
decrypt_later(struct run *r, struct mx_err *e)
{
	json_t *keep = json_array(), *it, *out, *mx;
	const char *err;
	size_t i;
	int rc = 0;

	json_array_foreach(r->later, i, it) {
		out = NULL;
		if (rc == 0 &&
		    (rc = mx_e2ee_event(r->x, mx_json_str(it, "room"),
			 json_object_get(it, "ev"), 0, &out, e)) != 0)
			break;
		mx = json_object_get(out, "mx");
		err = mx_json_str(mx, "error");
		if ((json_is_true(json_object_get(mx, "decrypted")) ||
			json_is_false(json_object_get(mx, "encrypted"))) &&
		    err == NULL &&
		    !json_is_true(json_object_get(mx, "relates_to_mismatch")))
			json_array_append(r->events, out);
		else if (err != NULL && strcmp(err, "no key") == 0 &&
		    json_array_size(keep) < LATER_MAX)
			json_array_append(keep, it);
		else
			mx_cli_note(r->c, 2, "dropping room event %s: %s",
			    mx_json_str(json_object_get(it, "ev"), "event_id"),
			    err ? err : "not authenticated");
		json_decref(out);
	}
	json_decref(r->later);
	r->later = keep;
	return rc;
}

/* The timeline events of a /sync answer in the rooms we watch, from
 * others, kept to be decrypted. */
static int
take_rooms(struct run *r, const json_t *resp, struct mx_err *e)
{
	const json_t *join = json_object_get(json_object_get(resp, "rooms"),
			 "join"),
		     *room, *ev;
	const char *id, *sender;
	size_t i;

	json_object_foreach((json_t *)join, id, room) {
		if (r->room != NULL && strcmp(id, r->room) != 0)
			continue;
		json_array_foreach(json_object_get(json_object_get(room,
						       "timeline"),
				       "events"),
		    i, ev) {
			sender = mx_json_str(ev, "sender");
			if (sender != NULL &&
			    strcmp(sender, r->c->sess.user_id) != 0 &&
			    json_array_size(r->later) < 4 * LATER_MAX)
				json_array_append_new(r->later,
				    json_pack("{s:s,s:O}", "room", id, "ev",
					ev));
		}
	}
	return decrypt_later(r, e);
}

/* One /sync (a long poll of up to POLL_MS) from our own position: its
 * to-device events land in the inbox, like any mx program's.  The first
 * starts where the last mx-verify on the profile stopped; then this
 * process keeps its own, so that two of them running at once both see
 * every room event (to-device ones are shared through the inbox). */
static int
pump(struct run *r, long poll_ms, struct mx_err *e)
{
	struct mx_store *st = r->c->store;
	char *since = NULL;
	json_t *resp = NULL;
	const char *nb;
	char *filter = r->rooms ? room_filter(r->room) : NULL;
	int rc;

	rc = r->pos != NULL ?
	    (since = mx_xstrdup(r->pos)) != NULL :
	    mx_store_get(st, "e2ee", "verify_pos", &since, NULL, e);
	if (rc >= 0)
		rc = mx_api_sync(&r->c->api, since, filter ? filter : FILTER,
		    since ? poll_ms : 0, &resp, e);
	free(filter);
	if (rc == 0)
		rc = mx_e2ee_sync(r->x, resp, e);
	/* After the to-device events: the room keys came with them. */
	if (rc == 0 && r->rooms)
		rc = take_rooms(r, resp, e);
	if (rc == 0 && (nb = mx_sync_next_batch(resp)) != NULL) {
		free(r->pos);
		r->pos = mx_xstrdup(nb);
		rc = mx_store_put(st, "e2ee", "verify_pos", nb, strlen(nb), e);
	}
	json_decref(resp);
	free(since);
	return rc;
}

/* Feed the inbox's verification events to the machine; the ones it takes
 * are deleted (the others may be another process's). */
static int
feed_inbox(struct run *r, struct mx_err *e)
{
	json_t *items = NULL, *it;
	const struct mx_device *d;
	const char *type;
	size_t i;
	int rc = 0;

	if (mx_inbox_list(r->c->store, mx_time_ms(), &items, e) < 0)
		return -1;
	json_array_foreach(items, i, it) {
		type = mx_json_str(it, "type");
		if (rc != 0 || !mx_startswith(type, "m.key.verification."))
			continue;
		/* A request to a user: the first of their devices ready. */
		if (r->them == NULL && r->room == NULL &&
		    strcmp(type, "m.key.verification.ready") == 0 &&
		    mx_json_str(it, "sender") != NULL &&
		    strcmp(mx_json_str(it, "sender"), r->user) == 0 &&
		    mx_verify_of(r->v, json_object_get(it, "content")) &&
		    (d = asked_device(r,
			 mx_json_str(json_object_get(it, "content"),
			     "from_device"))) != NULL &&
		    (rc = pin(r, d, e)) != 0)
			continue;
		if (mx_verify_input(r->v, mx_json_str(it, "sender"), type,
			json_object_get(it, "content")) == 1)
			rc = mx_inbox_del(r->c->store, mx_json_str(it, "id"),
			    e);
	}
	mx_inbox_release(items);
	return rc;
}

/* The in-room events of the flow, in order, to the machine: in its room,
 * from the other user, relating to the request, and, when encrypted, by
 * the device verified (the session's device, as the verdict proves it;
 * while that device is unknown, the one its ready names).  The rest is
 * dropped: hostile or not ours. */
static int
feed_room(struct run *r, struct mx_err *e)
{
	const json_t *ev, *c;
	const char *type, *sender, *dev, *fd, *want;
	const struct mx_device *d;
	size_t i;
	int rc = 0;

	json_array_foreach(r->events, i, ev) {
		type = mx_json_str(ev, "type");
		sender = mx_json_str(ev, "sender");
		c = json_object_get(ev, "content");
		dev = mx_json_str(json_object_get(ev, "mx"), "device_id");
		fd = mx_json_str(c, "from_device");
		want = mx_verify_their_device(r->v);
		if (rc != 0 || r->room == NULL || type == NULL ||
		    sender == NULL ||
		    strcmp(mx_json_str(ev, "room_id"), r->room) != 0 ||
		    strcmp(sender, r->user) != 0 ||
		    !mx_startswith(type, "m.key.verification.") ||
		    !mx_verify_of(r->v, c))
			continue;
		if (*want == '\0' &&
		    strcmp(type, "m.key.verification.ready") == 0 &&
		    fd != NULL && (dev == NULL || strcmp(fd, dev) == 0) &&
		    (d = asked_device(r, fd)) != NULL)
			rc = pin(r, d, e);
		want = mx_verify_their_device(r->v);
		if (rc == 0 &&
		    (*want == '\0' || dev == NULL || strcmp(dev, want) == 0))
			mx_verify_input(r->v, sender, type, c);
	}
	json_array_clear(r->events);
	return rc;
}

/* What arrived, to the machine: to-device events and in-room ones. */
static int
feed(struct run *r, struct mx_err *e)
{
	if (feed_inbox(r, e) != 0)
		return -1;
	return r->room != NULL ? feed_room(r, e) : 0;
}

/* 1 when one of evs after index from ends or answers the request id: a
 * cancel or done relating to it, or a ready from another of our devices
 * (spec: "Key verification framework": whoever is ready first takes it). */
static int
request_taken(const struct run *r, const json_t *evs, size_t from,
    const char *id)
{
	const json_t *ev, *c, *rel;
	const char *t, *fd;
	size_t i;

	for (i = from; i < json_array_size(evs); i++) {
		ev = json_array_get(evs, i);
		t = mx_json_str(ev, "type");
		c = json_object_get(ev, "content");
		rel = json_object_get(c, "m.relates_to");
		fd = mx_json_str(c, "from_device");
		if (t == NULL || mx_json_str(rel, "event_id") == NULL ||
		    strcmp(mx_json_str(rel, "event_id"), id) != 0)
			continue;
		if (strcmp(t, "m.key.verification.cancel") == 0 ||
		    strcmp(t, "m.key.verification.done") == 0 ||
		    (strcmp(t, "m.key.verification.ready") == 0 &&
			(fd == NULL || strcmp(fd, r->c->sess.device_id) != 0)))
			return 1;
	}
	return 0;
}

/* 1 when ev is an in-room request we may accept (spec: "Key verification
 * framework", in-room: an m.room.message of msgtype
 * m.key.verification.request to us, at most 10 minutes old and 5 ahead
 * of our clock), when encrypted sent by the device it names, in a room
 * our m.direct lists as the sender's DM. */
static int
room_request_ok(struct run *r, const json_t *ev, struct mx_err *e)
{
	const json_t *c = json_object_get(ev, "content");
	const char *type = mx_json_str(ev, "type"),
		   *mt = mx_json_str(c, "msgtype"), *to = mx_json_str(c, "to"),
		   *fd = mx_json_str(c, "from_device"),
		   *dev = mx_json_str(json_object_get(ev, "mx"), "device_id"),
		   *sender = mx_json_str(ev, "sender");
	long long now = mx_time_ms(),
		  ts = json_integer_value(
		      json_object_get(ev, "origin_server_ts"));

	if (type == NULL || strcmp(type, "m.room.message") != 0 ||
	    mt == NULL || strcmp(mt, "m.key.verification.request") != 0)
		return 0;
	if (to == NULL || strcmp(to, r->c->sess.user_id) != 0 ||
	    sender == NULL || strcmp(sender, r->c->sess.user_id) == 0 ||
	    fd == NULL || (dev != NULL && strcmp(fd, dev) != 0) ||
	    mx_json_str(ev, "event_id") == NULL ||
	    !json_is_array(json_object_get(c, "methods")) ||
	    ts < now - REQ_PAST_MS || ts > now + REQ_FUTURE_MS) {
		mx_cli_note(r->c, 1,
		    "ignoring a stale or malformed in-room verification "
		    "request");
		return 0;
	}
	return mx_room_is_dm(r->c, sender, mx_json_str(ev, "room_id"), e);
}

/* An in-room request to us among the events decrypted (1): *req, a new
 * reference; the events after it stay for the flow. */
static int
take_room_request(struct run *r, json_t **req, struct mx_err *e)
{
	json_t *rest;
	size_t i;
	int rc = 0;

	*req = NULL;
	for (i = 0; i < json_array_size(r->events) && rc == 0; i++)
		if ((rc = room_request_ok(r, json_array_get(r->events, i),
			 e)) > 0 &&
		    request_taken(r, r->events, i + 1,
			mx_json_str(json_array_get(r->events, i), "event_id")))
			rc = 0;
	if (rc <= 0) {
		json_array_clear(r->events);
		return rc;
	}
	*req = json_incref(json_array_get(r->events, i - 1));
	rest = json_array();
	for (; i < json_array_size(r->events); i++)
		json_array_append(rest, json_array_get(r->events, i));
	json_decref(r->events);
	r->events = rest;
	return 1;
}

/* A request in the inbox that we may accept (1), in *req (caller's); bad
 * and stale ones are dropped.  Of two processes waiting on the profile,
 * only the one that takes the row answers.  Spec: "Key verification
 * framework" (a request's age), "m.key.verification.request". */
static int
take_request(struct run *r, json_t **req, struct mx_err *e)
{
	json_t *items = NULL, *it, *c;
	long long now = mx_time_ms(), ts, rcv;
	const char *sender, *dev;
	size_t i;
	int rc = 0, ok;

	*req = NULL;
	if (mx_inbox_list(r->c->store, now, &items, e) < 0)
		return -1;
	json_array_foreach(items, i, it) {
		if (rc != 0 || *req != NULL ||
		    strcmp(mx_json_str(it, "type"),
			"m.key.verification.request") != 0)
			continue;
		c = json_object_get(it, "content");
		sender = mx_json_str(it, "sender");
		dev = mx_json_str(c, "from_device");
		ts = json_integer_value(json_object_get(c, "timestamp"));
		rcv = json_integer_value(json_object_get(it, "received_ms"));
		ok = dev != NULL && mx_json_str(c, "transaction_id") != NULL &&
		    json_array_size(json_object_get(c, "methods")) > 0 &&
		    ts >= now - REQ_PAST_MS && ts <= now + REQ_FUTURE_MS &&
		    rcv >= now - REQ_RECEIVED_MS &&
		    !(strcmp(sender, r->c->sess.user_id) == 0 &&
			strcmp(dev, r->c->sess.device_id) == 0);
		if (!ok)
			mx_cli_note(r->c, 1,
			    "ignoring a stale or malformed "
			    "verification request");
		if ((rc = mx_inbox_take(r->c->store, mx_json_str(it, "id"),
			 e)) == 1 &&
		    ok)
			*req = json_incref(it);
		rc = rc < 0 ? -1 : 0;
	}
	mx_inbox_release(items);
	return rc != 0 ? -1 : *req != NULL;
}

/* ---- the user ------------------------------------------------------------ */

/* The SAS as --json shows it. */
static json_t *
sas_json(struct run *r)
{
	int em[MX_SAS_EMOJI], dec[MX_SAS_DECIMALS], forms, i;
	json_t *j =
	    json_pack("{s:s,s:s,s:s}", "transaction_id", r->txn, "other_user",
		r->them->user_id, "other_device", r->them->device_id);
	json_t *a;

	forms = mx_verify_sas(r->v, em, dec);
	if (forms & 1) {
		a = json_array();
		for (i = 0; i < MX_SAS_EMOJI; i++)
			json_array_append_new(a,
			    json_pack("{s:s,s:s}", "emoji",
				mx_sas_emoji(em[i]), "name",
				mx_sas_emoji_name(em[i])));
		json_object_set_new(j, "emoji", a);
	}
	if (forms & 2)
		json_object_set_new(j, "decimal",
		    json_pack("[i,i,i]", dec[0], dec[1], dec[2]));
	return j;
}

/* The answer read: 1 yes, 0 no, -1 none (end of input). */
static int
answer(const char *line)
{
	if (line == NULL)
		return -1;
	return strcmp(line, "yes") == 0 || strcmp(line, "y") == 0 ||
	    strcmp(line, "Y") == 0;
}

/* --json: the SAS line, then "yes" or "no" from stdin. */
static int
ask_json(struct run *r, struct mx_err *e)
{
	char line[64];
	json_t *j = sas_json(r);
	int rc = mx_cli_print_json(j, e);

	json_decref(j);
	if (rc != 0)
		return -1;
	if (fgets(line, sizeof(line), stdin) == NULL)
		return -1;
	line[strcspn(line, "\r\n")] = '\0';
	return answer(line);
}

/* On a terminal: the emoji with their names (and the numbers), then the
 * question, through libedit. */
static int
ask_terminal(struct run *r)
{
	int em[MX_SAS_EMOJI], dec[MX_SAS_DECIMALS], forms, i, a;
	char *line;

	forms = mx_verify_sas(r->v, em, dec);
	fprintf(stderr, "Compare with what %s's device %s shows:\n",
	    r->them->user_id, r->them->device_id);
	if (forms & 1) {
		for (i = 0; i < MX_SAS_EMOJI; i++)
			fprintf(stderr, "  %s  %s\n", mx_sas_emoji(em[i]),
			    mx_sas_emoji_name(em[i]));
	}
	if ((forms & 2) && (r->o->decimal || !(forms & 1)))
		fprintf(stderr, "  %d %d %d\n", dec[0], dec[1], dec[2]);
	rl_outstream = stderr; /* stdout carries the result line */
	line = readline("Do they match? [y/N] ");
	a = answer(line);
	free(line);
	return a;
}

/* ---- the flow ------------------------------------------------------------ */

/* The result line, and the verdict: 0 verified, -1 with e (MX_NO) when
 * cancelled. */
static int
result(struct run *r, struct mx_err *e)
{
	int done = mx_verify_state(r->v) == MX_VERIFY_DONE;
	json_t *j = json_pack("{s:s,s:s,s:o,s:b}", "transaction_id", r->txn,
	    "other_user", r->user, "other_device",
	    r->them ? json_string(r->them->device_id) : json_null(),
	    "verified", done);
	int rc;

	if (r->room != NULL)
		json_object_set_new(j, "room_id", json_string(r->room));
	if (done)
		json_object_set_new(j, "master_verified",
		    json_boolean(mx_verify_master_verified(r->v)));
	if (done && r->signed_master)
		json_object_set_new(j, "master_signed", json_true());
	if (done && r->signed_device)
		json_object_set_new(j, "device_signed", json_true());
	if (done && r->secrets)
		json_object_set(j, "secrets", r->secrets);
	if (!done)
		json_object_set_new(j, "cancel",
		    json_pack("{s:s,s:s,s:s}", "code",
			mx_verify_cancel_code(r->v), "reason",
			mx_verify_cancel_reason(r->v), "by",
			mx_verify_cancelled_by_them(r->v) ? "them" : "us"));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	if (rc != 0 || done)
		return rc;
	return mx_err_set(e, MX_NO, "verification %s by %s: %s%s%s%s",
	    "cancelled", mx_verify_cancelled_by_them(r->v) ? "them" : "us",
	    mx_verify_cancel_code(r->v),
	    *mx_verify_cancel_reason(r->v) ? " (" : "",
	    mx_verify_cancel_reason(r->v),
	    *mx_verify_cancel_reason(r->v) ? ")" : "");
}

/* Verified: mark the device (the flag of mx-keys trust); when their MAC
 * covered their master key, mark it too and, holding a user-signing key,
 * sign it on the server (spec: "Cross-signing"). */
static int
mark(struct run *r, struct mx_err *e)
{
	const char *user = r->them->user_id;

	if (mx_e2ee_verify_device(r->c, user, r->them->device_id, r->them->ed,
		e) != 0)
		return mx_err_prefix(e, "verified, but cannot mark it");
	/* Our own other device: vouched for with our self-signing key. */
	if (strcmp(user, r->c->sess.user_id) == 0 &&
	    (r->signed_device = mx_xsign_sign_own_device(r->c,
		 r->them->device_id, r->them->ed, e)) < 0)
		return mx_err_prefix(e, "verified, but cannot sign it");
	if (!mx_verify_master_verified(r->v))
		return 0;
	if (mx_devices_verify_master(r->c->store, user, r->them->master, e))
		return mx_err_prefix(e,
		    "verified, but cannot mark the master key");
	if (strcmp(user, r->c->sess.user_id) != 0 &&
	    (r->signed_master =
		    mx_xsign_sign_user(r->c, user, r->them->master, e)) < 0)
		return mx_err_prefix(e,
		    "verified, but cannot sign %s's master key", user);
	return 0;
}

/* 1 when the other device is one of our own. */
static int
own(const struct run *r)
{
	return strcmp(r->user, r->c->sess.user_id) == 0;
}

/* A failure of the secrets' exchange: a warning, the SAS stands. */
static void
share_note(struct run *r, struct mx_err *fe)
{
	if (fe->status != MX_OK)
		mx_cli_note(r->c, 0, "secrets: %s", fe->msg);
	mx_err_clear(fe);
}

/* 1 when the exchange is over: what we asked for came (the two keys that
 * sign, then a quiet while for the others), or we gave and it is quiet. */
static int
share_over(struct run *r, int asked)
{
	long long last = mx_gossip_last(r->g), quiet;

	quiet = last > 0 && mx_time_ms() - last > QUIET_MS;
	if (asked > 0)
		return mx_gossip_pending(r->g) == 0 ||
		    (mx_gossip_pending_needed(r->g) == 0 && quiet);
	return mx_gossip_given(r->g) > 0 && quiet;
}

/* After a SAS with our own other device (spec: "Sharing"): ask it for
 * the secrets this store lacks and wait for them, up to --timeout; and
 * stay to answer its own requests (a new Element session asks at once),
 * up to --timeout or SHARE_MS, whichever is shorter.  Failures are
 * warnings: the SAS verified the device already. */
static void
share(struct run *r)
{
	long long end = mx_time_ms();
	struct mx_err fe;
	int asked, holds = 0;

	mx_err_clear(&fe);
	if ((asked = mx_gossip_ask(r->g, r->them, &fe)) >= 0)
		holds = mx_gossip_holds(r->g, &fe);
	share_note(r, &fe);
	if (asked <= 0 && holds <= 0)
		return;
	end += asked > 0 ?
	    r->o->timeout_ms :
	    (r->o->timeout_ms < SHARE_MS ? r->o->timeout_ms : SHARE_MS);
	while (!interrupted && mx_gossip_poll(r->g, NULL, &fe) == 0 &&
	    !share_over(r, asked) && mx_time_ms() < end &&
	    pump(r, POLL_MS, &fe) == 0)
		;
	share_note(r, &fe);
	if (asked <= 0)
		return;
	if (mx_gossip_finish(r->g, &r->secrets, &fe) != 0)
		share_note(r, &fe);
	if (json_array_size(r->secrets) == 0)
		mx_cli_note(r->c, 0,
		    "no secrets came from device %s; the device is verified",
		    r->them->device_id);
}

/* Run the machine to its end: send what it queues, show the SAS when it
 * is there, feed it what arrives; cancel with m.timeout when the other
 * side is silent for --timeout or the flow takes longer than the spec
 * allows, with m.user when interrupted. */
static int
flow(struct run *r, struct mx_err *e)
{
	long long last = mx_time_ms(), now;
	enum mx_verify_state st, was;
	int a;

	for (;;) {
		if (flush(r, e) != 0)
			return -1;
		st = mx_verify_state(r->v);
		if (st == MX_VERIFY_DONE || st == MX_VERIFY_CANCELLED)
			break;
		if (interrupted) {
			mx_verify_cancel(r->v, "m.user", "interrupted");
			continue;
		}
		if (st == MX_VERIFY_SHOW) {
			a = r->o->json ? ask_json(r, e) : ask_terminal(r);
			if (a < 0 && e->status != MX_OK)
				return -1;
			if (a < 0)
				mx_verify_cancel(r->v, "m.user",
				    interrupted ? "interrupted" :
						  "no answer from the user");
			else
				mx_verify_confirm(r->v, a);
			last = mx_time_ms();
			continue;
		}
		now = mx_time_ms();
		if (now - last > r->o->timeout_ms ||
		    now - r->started > FLOW_MS) {
			mx_verify_cancel(r->v, "m.timeout",
			    "the other device did not answer in time");
			continue;
		}
		was = st;
		/* Our own device's secret requests wait for the end of its
		 * verification. */
		if (feed(r, e) != 0 ||
		    mx_gossip_poll(r->g,
			own(r) && r->them != NULL ? r->them->device_id : NULL,
			e) != 0)
			return -1;
		if (mx_verify_state(r->v) == was &&
		    (pump(r, POLL_MS, e) != 0 || feed(r, e) != 0))
			return -1;
		if (mx_verify_state(r->v) != was)
			last = mx_time_ms();
	}
	if (mx_verify_state(r->v) == MX_VERIFY_DONE && mark(r, e) != 0)
		return -1;
	if (mx_verify_state(r->v) == MX_VERIFY_DONE && own(r))
		share(r);
	return result(r, e);
}

/* The flow; when it fails on our side mid-way (the network, the store,
 * stdout), the other side is told with a cancel, as far as it can be
 * sent, rather than left waiting for its timeout. */
static int
drive(struct run *r, struct mx_err *e)
{
	enum mx_verify_state st;
	struct mx_err fe;

	if (flow(r, e) == 0)
		return 0;
	st = mx_verify_state(r->v);
	if (st == MX_VERIFY_DONE || st == MX_VERIFY_CANCELLED)
		return -1;
	mx_verify_cancel(r->v, "m.user", "an error on the other side");
	mx_err_clear(&fe);
	(void)flush(r, &fe);
	return -1;
}

/* The pinned master key of d's owner, when it is settled (not changed
 * since); NULL without d. */
static const char *
master_of(const struct mx_device *d)
{
	return d != NULL && d->master[0] && !d->identity_changed ? d->master :
								   NULL;
}

/* Their pinned master key, when it is settled. */
static const char *
their_master(const struct run *r)
{
	return master_of(r->them);
}

/* Our side: user, device, Ed25519 key. */
static struct mx_verify_party
us(struct run *r)
{
	struct mx_verify_party p = { r->c->sess.user_id, r->c->sess.device_id,
		mx_e2ee_ed25519(r->x), r->master[0] ? r->master : NULL };

	return p;
}

/* sas USER DEVICE: we ask. */
static int
sas_ask(struct run *r, const char *user, const char *device, struct mx_err *e)
{
	struct mx_verify_party me, them;

	r->user = user;
	if (find_device(r, user, device, e) != 0)
		return -1;
	if (strcmp(user, r->c->sess.user_id) == 0 &&
	    strcmp(device, r->c->sess.device_id) == 0)
		return mx_err_set(e, MX_USAGE,
		    "cannot verify this device with itself");
	/* Our position first, so the answers come after it. */
	if (pump(r, 0, e) != 0)
		return -1;
	me = us(r);
	them = (struct mx_verify_party){ r->them->user_id, r->them->device_id,
		r->them->ed, their_master(r) };
	r->txn = mx_msg_txn_new();
	r->started = mx_time_ms();
	r->v = mx_verify_new(&me, &them, r->txn, 1, r->started);
	return drive(r, e);
}

/* The encrypted DM with user we are joined to: 1 and *room (caller's),
 * 0 when there is none (spec: "Direct Messaging", m.direct). */
static int
encrypted_dm(struct run *r, const char *user, char **room, struct mx_err *e)
{
	json_t *enc = NULL;
	int rc;

	*room = NULL;
	if (mx_room_resolve(r->c, user, 0, room, e) != 0) {
		if (e->status != MX_PERM)
			return -1;
		mx_err_clear(e);
		return 0;
	}
	rc = mx_e2ee_room_encryption(r->c, *room, &enc, e);
	json_decref(enc);
	if (rc <= 0) {
		free(*room);
		*room = NULL;
	}
	return rc;
}

/* sas USER: verify the user (Element's "Verify user"), in-room in our
 * encrypted DM with them, else by a request to each of their devices;
 * their device is the one that answers (spec: "Key verification
 * framework"). */
static int
sas_ask_user(struct run *r, const char *user, struct mx_err *e)
{
	struct mx_verify_party me = us(r), them = { user, NULL, NULL, NULL };
	json_t *req;
	size_t i, n = 0;
	int rc;

	r->user = user;
	if (mx_devices_get(&r->c->api, r->c->store, &user, 1, &r->devs, e) !=
	    0)
		return -1;
	for (i = 0; i < r->devs.n; i++)
		if (is_target(r, &r->devs.v[i])) {
			n++;
			them.master = master_of(&r->devs.v[i]);
		}
	if (n == 0)
		return mx_err_set(e, MX_PERM, "%s has no device to verify",
		    user);
	if (strcmp(user, r->c->sess.user_id) != 0 &&
	    encrypted_dm(r, user, &r->room, e) < 0)
		return -1;
	r->rooms = r->room != NULL;
	if (r->room == NULL)
		mx_cli_note(r->c, 1,
		    "no encrypted DM with %s: asking each of "
		    "their devices",
		    user);
	/* Our position first, so the answers come after it. */
	if (pump(r, 0, e) != 0)
		return -1;
	r->started = mx_time_ms();
	if (r->room == NULL) {
		r->txn = mx_msg_txn_new();
		r->v = mx_verify_new(&me, &them, r->txn, 1, r->started);
		return drive(r, e);
	}
	req = mx_verify_room_request(r->c->sess.device_id, user);
	rc = mx_e2ee_send(r->x, r->room, MX_E2EE_TOFU, "m.room.message", req,
	    &r->txn, e);
	json_decref(req);
	if (rc != 0)
		return mx_err_prefix(e, "cannot send the request to '%s'",
		    r->room);
	mx_cli_note(r->c, 1, "request %s in %s", r->txn, r->room);
	r->v = mx_verify_new_room(&me, &them, r->txn, 1);
	return drive(r, e);
}

/* 1 when a request's methods include m.sas.v1. */
static int
offers_sas(const json_t *methods)
{
	const json_t *x;
	size_t i;

	json_array_foreach((json_t *)methods, i, x)
		if (json_is_string(x) &&
		    strcmp(json_string_value(x), "m.sas.v1") == 0)
			return 1;
	return 0;
}

/* Accept the request req (to-device, or in-room when room): ready, and
 * the flow to its end. */
static int
accept_request(struct run *r, const json_t *req, const char *room,
    struct mx_err *e)
{
	const json_t *c = json_object_get(req, "content");
	struct mx_verify_party me, them;

	if (find_device(r, mx_json_str(req, "sender"),
		mx_json_str(c, "from_device"), e) != 0)
		return -1;
	me = us(r);
	them = (struct mx_verify_party){ r->them->user_id, r->them->device_id,
		r->them->ed, their_master(r) };
	r->user = r->them->user_id;
	r->txn = mx_xstrdup(room ? mx_json_str(req, "event_id") :
				   mx_json_str(c, "transaction_id"));
	r->started = mx_time_ms();
	mx_cli_note(r->c, 1, "request %s from %s's device %s%s%s", r->txn,
	    them.user, them.device, room ? " in " : "", room ? room : "");
	if (room != NULL) {
		r->room = mx_xstrdup(room);
		r->rooms = 1;
		r->v = mx_verify_new_room(&me, &them, r->txn, 0);
	} else {
		r->rooms = 0;
		json_array_clear(r->events);
		r->v = mx_verify_new(&me, &them, r->txn, 0, r->started);
	}
	if (!offers_sas(json_object_get(c, "methods")))
		mx_verify_cancel(r->v, "m.unknown_method",
		    "only m.sas.v1 is supported");
	return drive(r, e);
}

/* sas: wait --timeout for a request, to-device or in-room in a DM (what
 * Element's "Verify user" sends), then accept it. */
static int
sas_wait(struct run *r, struct mx_err *e)
{
	long long end = mx_time_ms() + r->o->timeout_ms;
	json_t *req = NULL;
	int rc, in_room = 0;

	r->rooms = 1;
	for (;;) {
		if ((rc = take_request(r, &req, e)) != 0)
			break;
		if ((rc = take_room_request(r, &req, e)) != 0) {
			in_room = 1;
			break;
		}
		if (mx_time_ms() >= end)
			return mx_err_set(e, MX_NO,
			    "no verification request came in %ld s",
			    r->o->timeout_ms / 1000);
		if (interrupted)
			return mx_err_set(e, MX_NO,
			    "interrupted while waiting for a request");
		if (pump(r, POLL_MS, e) != 0 ||
		    mx_gossip_poll(r->g, NULL, e) != 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	rc = accept_request(r, req,
	    in_room ? mx_json_str(req, "room_id") : NULL, e);
	json_decref(req);
	return rc;
}

/* ---- fingerprint ---------------------------------------------------------- */

/* fingerprint USER DEVICE ED25519: the check of mx-keys trust: the
 * device's self-signed, pinned key must be the one given out of band. */
static int
cmd_fingerprint(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, OWN_STORE, e) != 0 ||
	    mx_e2ee_verify_device(c, argv[0], argv[1], argv[2], e) != 0)
		return -1;
	j = json_pack("{s:s,s:s,s:s}", "user_id", argv[0], "device_id",
	    argv[1], "trust", "verified");
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* ---- json ------------------------------------------------------------------ */

/* The object on stdin (at most 1 MiB). */
static json_t *
read_object(struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;
	char chunk[4096];
	size_t n;
	json_t *j;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		mx_buf_add(&b, chunk, n);
		if (b.len > (1u << 20)) {
			mx_buf_release(&b);
			mx_err_set(e, MX_LOCAL, "the input is over 1 MiB");
			return NULL;
		}
	}
	if (ferror(stdin)) {
		mx_buf_release(&b);
		mx_err_set(e, MX_LOCAL, "cannot read stdin");
		return NULL;
	}
	j = mx_json_parse(b.p ? b.p : "", b.len, e);
	mx_buf_release(&b);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		mx_err_set(e, MX_LOCAL, "the input is not a JSON object");
		return NULL;
	}
	return j;
}

/* A verdict: who signed with which key. */
struct verdict {
	const char *signer;
	char key_id[256];
	const char *what;
	int ok;
};

/* 1 when signatures[entity][kid] on obj verifies with the base64 key. */
static int
sig_ok(const json_t *obj, const char *entity, const char *kid,
    const char *key_b64)
{
	uint8_t pub[MX_ED25519_PUB_LEN];

	if (key_b64 == NULL || !mx_startswith(kid, "ed25519:") ||
	    mx_b64_dec_exact(pub, sizeof(pub), key_b64) != 0)
		return 0;
	return mx_signjson_verify(obj, entity, kid + 8, pub, NULL) == 0;
}

/* --key: any signature the key makes valid. */
static void
check_key(const json_t *obj, const char *key, struct verdict *v)
{
	const json_t *sigs = json_object_get(obj, "signatures"), *by, *x;
	const char *entity, *kid;

	v->what = "signed by the key given";
	json_object_foreach((json_t *)sigs, entity, by)
		json_object_foreach((json_t *)by, kid, x)
			if (!v->ok && sig_ok(obj, entity, kid, key)) {
				v->ok = 1;
				v->signer = entity;
				snprintf(v->key_id, sizeof(v->key_id), "%s",
				    kid);
			}
}

/* A server's keys (spec: Server-Server API, "Publishing Keys"): signed by
 * the server itself with each of its verify_keys, all of which must hold. */
static void
check_server(const json_t *obj, const char *name, struct verdict *v)
{
	const json_t *vk = json_object_get(obj, "verify_keys"), *k;
	const char *kid, *sn = mx_json_str(obj, "server_name");
	int bad = 0, good = 0;

	v->what = "server keys signed by the server";
	if (sn == NULL || strcmp(sn, name) != 0)
		return;
	json_object_foreach((json_t *)vk, kid, k) {
		if (sig_ok(obj, name, kid, mx_json_str(k, "key"))) {
			good++;
			v->signer = name;
			snprintf(v->key_id, sizeof(v->key_id), "%s", kid);
		} else
			bad++;
	}
	v->ok = good > 0 && bad == 0;
}

/* Device keys (spec: "Device keys"): signed by their own Ed25519 key. */
static void
check_device(const json_t *obj, struct verdict *v)
{
	const char *user = mx_json_str(obj, "user_id"),
		   *dev = mx_json_str(obj, "device_id");
	char *kid = mx_xasprintf("ed25519:%s", dev);

	v->what = "device keys signed by the device";
	if (sig_ok(obj, user, kid,
		mx_json_str(json_object_get(obj, "keys"), kid))) {
		v->ok = 1;
		v->signer = user;
		snprintf(v->key_id, sizeof(v->key_id), "%s", kid);
	}
	free(kid);
}

/* json [--key K | --server NAME] < object: verify its signatures. */
static int
cmd_json(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct verdict v = { NULL, "", NULL, 0 };
	json_t *obj, *j;
	int rc;

	(void)c;
	(void)argc;
	(void)argv;
	if ((obj = read_object(e)) == NULL)
		return -1;
	if (o->key)
		check_key(obj, o->key, &v);
	else if (o->server)
		check_server(obj, o->server, &v);
	else if (mx_json_str(obj, "device_id") && mx_json_str(obj, "user_id"))
		check_device(obj, &v);
	else if (mx_json_str(obj, "server_name") &&
	    json_is_object(json_object_get(obj, "verify_keys")))
		check_server(obj, mx_json_str(obj, "server_name"), &v);
	else {
		json_decref(obj);
		return mx_err_set(e, MX_USAGE,
		    "not device keys nor server keys: say who signed it "
		    "with --key or --server");
	}
	j = json_pack("{s:b,s:s}", "verified", v.ok, "check", v.what);
	if (v.ok && v.signer)
		json_object_set_new(j, "signer", json_string(v.signer));
	if (v.ok && v.key_id[0])
		json_object_set_new(j, "key_id", json_string(v.key_id));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	json_decref(obj);
	if (rc == 0 && !v.ok)
		rc = mx_err_set(e, MX_NO, "the signature does not verify (%s)",
		    v.what);
	return rc;
}

/* ---- cross-signing ---------------------------------------------------------- */

/* cross-signing import: the private keys from secret storage, opened
 * with the default key (spec: "Storage of the cross-signing private
 * keys"). */
static int
xsign_import(struct mx_e2ee *x, struct mx_ctx *c, const struct opt *o,
    struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc = -1;

	if (mx_cli_ssss_open(c, o->passphrase_file, o->recovery_key_stdin, key,
		&id, e) == 0)
		rc = mx_xsign_import(x, c, id, key, e);
	mx_secure_free(key);
	free(id);
	return rc;
}

/* The key of a new secret storage: from the passphrase of
 * --passphrase-file, else random (its recovery key printed once).  There
 * is no key to read from --recovery-key-stdin. */
static int
ssss_new(const struct opt *o, uint8_t key[32], char **id, json_t **desc,
    struct mx_err *e)
{
	char *pass = NULL;
	int rc;

	if (o->recovery_key_stdin)
		return mx_err_set(e, MX_USAGE,
		    "the account has no secret storage; setup without "
		    "--recovery-key-stdin makes one");
	if (o->passphrase_file != NULL &&
	    (pass = mx_conf_read_secret_file(o->passphrase_file, e)) == NULL)
		return -1;
	rc = mx_secrets_new_key(pass, key, id, desc, e);
	if (pass != NULL)
		mx_secure_free(pass);
	return rc;
}

/* Steps 3 to 5 of xsign_setup_new: the key's description, the secrets
 * under it, and last the default key pointing at it. */
static int
ssss_publish(struct mx_ctx *c, const char *id, const json_t *desc,
    const uint8_t key[32], struct mx_err *e)
{
	const char *me = c->sess.user_id;

	if (mx_secrets_put_key(&c->api, me, id, desc, e) != 0 ||
	    mx_xsign_to_secrets(c, id, key, e) != 0 ||
	    mx_secrets_set_default(&c->api, me, id, e) != 0)
		return mx_err_prefix(e,
		    "cross-signing set up, but no secret storage made (setup "
		    "again makes it)");
	return 0;
}

/* Whether this profile holds the three keys and they are the published
 * ones: a setup whose secret storage failed, to be finished. */
static int
keys_held(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e)
{
	json_t *j = NULL;
	int rc;

	if (mx_xsign_status(x, c, &j, e) != 0)
		return -1;
	rc = json_is_true(json_object_get(j, "published")) &&
	    json_array_size(json_object_get(j, "private_keys")) == 3;
	json_decref(j);
	return rc;
}

/*
 * cross-signing setup on an account without secret storage: it is made
 * too (spec: "Secret storage", "Storage of the cross-signing private
 * keys").  The steps, and what a failure at each leaves:
 *   1. the key, its ID and description made and checked here: nothing;
 *   2. the cross-signing keys made, sealed in the store, published, this
 *      device signed (mx_xsign_setup; keys that fail to publish are
 *      forgotten): the account has cross-signing, its private keys in
 *      this profile only; setup again goes on from step 1 without 2;
 *   3. the key's description published: a description no client uses;
 *   4. the three secrets stored under the key: secrets no client looks
 *      for, since no default key names their key;
 *   5. last, m.secret_storage.default_key: only now do clients see secret
 *      storage, with every secret in it.
 * A random key's recovery key goes into rk only after step 5.
 */
static int
xsign_setup_new(struct mx_e2ee *x, struct mx_ctx *c, const struct opt *o,
    char rk[MX_RECOVERY_KEY_LEN + 1], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	json_t *desc = NULL;
	char *id = NULL;
	int rc, held;

	held = keys_held(x, c, e);
	rc = held < 0 || (!held && mx_xsign_setup_check(c, e) != 0) ? -1 : 0;
	if (rc == 0)
		rc = ssss_new(o, key, &id, &desc, e);
	if (rc == 0 && !held)
		rc = mx_xsign_setup(x, c, e);
	if (rc == 0)
		rc = ssss_publish(c, id, desc, key, e);
	if (rc == 0 && o->passphrase_file == NULL)
		mx_recovery_key_encode(rk, key);
	mx_secure_free(key);
	json_decref(desc);
	free(id);
	return rc;
}

/* cross-signing setup: new keys, kept in secret storage: the account's,
 * whose key is checked before anything is made, or a new one. */
static int
xsign_setup(struct mx_e2ee *x, struct mx_ctx *c, const struct opt *o,
    char rk[MX_RECOVERY_KEY_LEN + 1], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc;

	rc = mx_secrets_has_default(&c->api, c->sess.user_id, e);
	if (rc == 0)
		rc = xsign_setup_new(x, c, o, rk, e);
	else if (rc == 1) {
		/* A second default key would hide the secrets kept under
		 * the first (Element's among them): the account's key it
		 * is, given or asked for on the terminal. */
		rc = mx_xsign_setup_check(c, e);
		if (rc == 0 && !o->recovery_key_stdin && !o->passphrase_file &&
		    !isatty(STDIN_FILENO))
			rc = mx_err_set(e, MX_USAGE,
			    "the account has secret storage: give its key "
			    "with --recovery-key-stdin or --passphrase-file "
			    "FILE");
		if (rc == 0)
			rc = mx_cli_ssss_open(c, o->passphrase_file,
			    o->recovery_key_stdin, key, &id, e);
		if (rc == 0)
			rc = mx_xsign_setup(x, c, e);
		if (rc == 0 && mx_xsign_to_secrets(c, id, key, e) != 0)
			rc = mx_err_prefix(e,
			    "cross-signing set up, but not kept in secret "
			    "storage");
	}
	mx_secure_free(key);
	free(id);
	return rc;
}

/* cross-signing reset: new keys; with the key of the account's secret
 * storage (given, or asked on a terminal), they replace the old ones
 * there too, that key checked before anything is made.  Without it, the
 * old keys, no longer the account's, stay in secret storage: said on
 * stderr. */
static int
xsign_reset(struct mx_e2ee *x, struct mx_ctx *c, const struct opt *o,
    struct mx_err *e)
{
	int given = o->recovery_key_stdin || o->passphrase_file != NULL;
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc, has;

	has = mx_secrets_has_default(&c->api, c->sess.user_id, e);
	rc = has < 0 ? -1 : 0;
	if (rc == 0 && !has && given)
		rc = mx_err_set(e, MX_USAGE,
		    "the account has no secret storage to keep the new keys "
		    "in");
	if (rc == 0 && has && (given || isatty(STDIN_FILENO)))
		rc = mx_cli_ssss_open(c, o->passphrase_file,
		    o->recovery_key_stdin, key, &id, e);
	if (rc == 0)
		rc = mx_xsign_reset(x, c, e);
	if (rc == 0 && id != NULL && mx_xsign_to_secrets(c, id, key, e) != 0)
		rc = mx_err_prefix(e,
		    "cross-signing reset, but the new keys are not in secret "
		    "storage");
	if (rc == 0 && has && id == NULL)
		mx_cli_note(c, 0,
		    "secret storage still holds the old cross-signing keys: "
		    "reset with --recovery-key-stdin or --passphrase-file to "
		    "replace them");
	mx_secure_free(key);
	free(id);
	return rc;
}

/* cross-signing setup|status|reset|import: this account's cross-signing
 * keys. */
static int
cmd_xsign(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char rk[MX_RECOVERY_KEY_LEN + 1] = "";
	struct mx_e2ee *x = NULL;
	json_t *j = NULL;
	int rc = -1, set = strcmp(argv[0], "setup") == 0,
	    reset = strcmp(argv[0], "reset") == 0,
	    import = strcmp(argv[0], "import") == 0;

	(void)argc;
	if (!set && !reset && !import && strcmp(argv[0], "status") != 0)
		mx_cli_usage(&cli,
		    "cross-signing takes setup, status, reset or import");
	if (o->password_stdin && !set && !reset)
		mx_cli_usage(&cli, "--password-stdin is for setup and reset");
	if ((o->recovery_key_stdin || o->passphrase_file) && !import && !set &&
	    !reset)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin and --passphrase-file are for "
		    "setup, reset and import");
	if (o->password_stdin && o->recovery_key_stdin)
		mx_cli_usage(&cli,
		    "--password-stdin and --recovery-key-stdin both read "
		    "stdin");
	if (mx_ctx_open(c, OWN_STORE, e) != 0 || mx_e2ee_open(&x, c, e) != 0)
		goto out;
	/* After the store is open: its passphrase is never read from stdin
	 * in place of the password. */
	if (o->password_stdin)
		c->ask = mx_cli_ask_stdin;
	if ((set && xsign_setup(x, c, o, rk, e) != 0) ||
	    (reset && xsign_reset(x, c, o, e) != 0) ||
	    (import && xsign_import(x, c, o, e) != 0))
		goto out;
	if (mx_xsign_status(x, c, &j, e) != 0)
		goto out;
	/* A new secret storage's recovery key: shown this once, on the
	 * status line, as mx-keys backup create shows a backup's. */
	if (rk[0] != '\0')
		json_object_set_new(j, "recovery_key", json_string(rk));
	rc = mx_cli_print_json(j, e);
	if (rk[0] != '\0')
		mx_wipe((char *)mx_json_str(j, "recovery_key"), strlen(rk));
out:
	mx_wipe(rk, sizeof(rk));
	json_decref(j);
	mx_e2ee_close(x);
	return rc;
}

/* ---- main ------------------------------------------------------------------ */

static int
cmd_sas(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct run r = { 0 };
	int rc;

	if (argc >= 1 && (argv[0][0] != '@' || strchr(argv[0], ':') == NULL))
		mx_cli_usage(&cli, "sas takes a user ID (@user:server)");
	if (!o->json && !isatty(STDIN_FILENO))
		mx_cli_usage(&cli, "no terminal to ask on: use --json");
	r.c = c;
	r.o = o;
	catch_signals();
	r.later = json_array();
	r.events = json_array();
	rc = mx_ctx_open(c, OWN_STORE, e) != 0 ||
		mx_e2ee_open(&r.x, c, e) != 0 ||
		(r.g = mx_gossip_new(r.x, c)) == NULL ||
		mx_xsign_master(c, r.master, e) < 0 ||
		(argc == 2	  ? sas_ask(&r, argv[0], argv[1], e) :
			argc == 1 ? sas_ask_user(&r, argv[0], e) :
				    sas_wait(&r, e)) != 0 ?
	    -1 :
	    0;
	mx_verify_free(r.v);
	mx_gossip_free(r.g);
	json_decref(r.secrets);
	free(r.txn);
	free(r.pos);
	free(r.room);
	json_decref(r.later);
	json_decref(r.events);
	mx_devlist_release(&r.devs);
	mx_e2ee_close(r.x);
	return rc;
}

static const struct {
	struct mx_cli_sub sub;
	int (*fn)(struct mx_ctx *, const struct opt *, int, char **,
	    struct mx_err *);
} cmds[] = {
	{ { "sas", 0, 2 }, cmd_sas },
	{ { "fingerprint", 3, 3 }, cmd_fingerprint },
	{ { "json", 0, 0 }, cmd_json },
	{ { "cross-signing", 1, 1 }, cmd_xsign },
};

static void
check_opts(const struct opt *o, const char *sub)
{
	int sas = strcmp(sub, "sas") == 0;

	if (!sas && (o->json || o->decimal || o->have_timeout))
		mx_cli_usage(&cli,
		    "--json, --decimal and --timeout are for sas");
	if ((o->password_stdin || o->recovery_key_stdin ||
		o->passphrase_file) &&
	    strcmp(sub, "cross-signing") != 0)
		mx_cli_usage(&cli,
		    "--password-stdin, --recovery-key-stdin and "
		    "--passphrase-file are for cross-signing");
	if (o->recovery_key_stdin && o->passphrase_file)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin and --passphrase-file exclude each "
		    "other");
	if ((o->key || o->server) && strcmp(sub, "json") != 0)
		mx_cli_usage(&cli, "--key and --server are for json");
	if (o->key && o->server)
		mx_cli_usage(&cli, "--key and --server exclude each other");
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 120000, 0, 0, 0, 0, 0, NULL, NULL, NULL };
	struct mx_err e;
	size_t k;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	k = mx_cli_subcommand(&cli, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), argc, argv, i);
	check_opts(&o, argv[i]);
	if (cmds[k].fn(&c, &o, argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(cli.prog, &e);
	mx_ctx_close(&c);
	return rc;
}
