/*
 * verify-io: mx-verify sas's sending and receiving: the other device
 * found and pinned, what lib/verify.c's machine queues sent (to-device,
 * or encrypted into the DM), and what comes fed to it: the /sync pump,
 * the inbox of to-device events (lib/inbox.c), the DM's timeline
 * decrypted and filtered, and the requests to accept (spec:
 * Client-Server API, "Key verification framework").
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "devices.h"
#include "e2ee.h"
#include "inbox.h"
#include "json.h"
#include "room.h"
#include "store.h"
#include "sync.h"
#include "todevice.h"
#include "util.h"
#include "verify.h"
#include "verifyreq.h"
#include "verify-cmd.h"
#include "banned.h"

/* ---- the other device --------------------------------------------------- */

/* The device of user from its checked, pinned list; one whose keys
 * changed is refused. */
int
verify_find_device(struct verify_run *r, const char *user, const char *device,
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
int
verify_is_target(const struct verify_run *r, const struct mx_device *d)
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
send_devices(struct verify_run *r, const char *type, const json_t *content,
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
		if (verify_is_target(r, &r->devs.v[i]) &&
		    &r->devs.v[i] != skip)
			t[n++].dev = &r->devs.v[i];
	rc = n == 0 ? 0 : mx_todevice_send_clear(r->x, t, n, type, content, e);
	free(t);
	return rc;
}

/* Send what the machine queued, in order: into the room, encrypted, or
 * to the other device(s). */
int
verify_flush(struct verify_run *r, struct mx_err *e)
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
pin(struct verify_run *r, const struct mx_device *d, struct mx_err *e)
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
asked_device(const struct verify_run *r, const char *device)
{
	size_t i;

	for (i = 0; device != NULL && i < r->devs.n; i++)
		if (strcmp(r->devs.v[i].device_id, device) == 0 &&
		    verify_is_target(r, &r->devs.v[i]))
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
decrypt_later(struct verify_run *r, struct mx_err *e)
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
take_rooms(struct verify_run *r, const json_t *resp, struct mx_err *e)
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
int
verify_pump(struct verify_run *r, long poll_ms, struct mx_err *e)
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
feed_inbox(struct verify_run *r, struct mx_err *e)
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
feed_room(struct verify_run *r, struct mx_err *e)
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
int
verify_feed(struct verify_run *r, struct mx_err *e)
{
	if (feed_inbox(r, e) != 0)
		return -1;
	return r->room != NULL ? feed_room(r, e) : 0;
}

/* 1 when ev is an in-room request we may accept (spec: "Key verification
 * framework", in-room: an m.room.message of msgtype
 * m.key.verification.request to us, at most 10 minutes old and 5 ahead
 * of our clock), when encrypted sent by the device it names, in a room
 * our m.direct lists as the sender's DM. */
static int
room_request_ok(struct verify_run *r, const json_t *ev, struct mx_err *e)
{
	switch (mx_verifyreq_room(ev, r->c->sess.user_id, mx_time_ms())) {
	case MX_VERIFYREQ_NONE:
		return 0;
	case MX_VERIFYREQ_BAD:
		mx_cli_note(r->c, 1,
		    "ignoring a stale or malformed in-room verification "
		    "request");
		return 0;
	default:
		return mx_room_is_dm(r->c, mx_json_str(ev, "sender"),
		    mx_json_str(ev, "room_id"), e);
	}
}

/* An in-room request to us among the events decrypted (1): *req, a new
 * reference; the events after it stay for the flow. */
int
verify_take_room_request(struct verify_run *r, json_t **req, struct mx_err *e)
{
	json_t *rest;
	size_t i;
	int rc = 0;

	*req = NULL;
	for (i = 0; i < json_array_size(r->events) && rc == 0; i++)
		if ((rc = room_request_ok(r, json_array_get(r->events, i),
			 e)) > 0 &&
		    mx_verifyreq_taken(r->events, i + 1,
			mx_json_str(json_array_get(r->events, i), "event_id"),
			r->c->sess.device_id))
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
int
verify_take_request(struct verify_run *r, json_t **req, struct mx_err *e)
{
	json_t *items = NULL, *it;
	long long now = mx_time_ms();
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
		ok = mx_verifyreq_todevice(it, r->c->sess.user_id,
			 r->c->sess.device_id, now) == MX_VERIFYREQ_OK;
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
