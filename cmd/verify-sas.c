/*
 * verify-sas: mx-verify sas: the run of a SAS verification (spec:
 * Client-Server API, "Short Authentication String (SAS) verification"):
 * asked for (to a device, or to a user in the encrypted DM or to each of
 * their devices) or waited for and accepted, lib/verify.c's machine
 * driven to its end, the SAS shown and the answer read (by
 * cmd/verify-show.c), the device marked verified, and, with our own
 * other device, the secrets asked for or given (lib/gossip.c; spec:
 * "Sharing").
 * SIGINT, SIGTERM and SIGHUP cancel a flow under way (m.user).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "devices.h"
#include "e2ee.h"
#include "gossip.h"
#include "json.h"
#include "msg.h"
#include "room.h"
#include "util.h"
#include "verify.h"
#include "xsign.h"
#include "verify-cmd.h"
#include "banned.h"

/* The longest a verification may take (spec: "Key verification
 * framework": 10 minutes). */
#define FLOW_MS (10LL * 60 * 1000)
/* One long poll: short, since another process on the profile may take
 * the events and leave them in the inbox. */
#define POLL_MS 2000
/* After a SAS with our own other device: how long at most to stay
 * answering its secret requests, and how long after the last secret
 * given or taken nothing more is expected (all are asked for at once). */
#define SHARE_MS (30LL * 1000)
#define QUIET_MS (3LL * 1000)

/* SIGINT, SIGTERM or SIGHUP came: the flow is cancelled (m.user), so
 * that the other side stops at once rather than after its timeout. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* ---- the flow ------------------------------------------------------------ */

/* Verified: mark the device (the flag of mx-keys trust); when their MAC
 * covered their master key, mark it too and, holding a user-signing key,
 * sign it on the server (spec: "Cross-signing"). */
static int
mark(struct verify_run *r, struct mx_err *e)
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
own(const struct verify_run *r)
{
	return strcmp(r->user, r->c->sess.user_id) == 0;
}

/* A failure of the secrets' exchange: a warning, the SAS stands. */
static void
share_note(struct verify_run *r, struct mx_err *fe)
{
	if (fe->status != MX_OK)
		mx_cli_note(r->c, 0, "secrets: %s", fe->msg);
	mx_err_clear(fe);
}

/* 1 when the exchange is over: what we asked for came (the two keys that
 * sign, then a quiet while for the others), or we gave and it is quiet. */
static int
share_over(struct verify_run *r, int asked)
{
	long long last = mx_gossip_last(r->g), quiet;

	quiet = last > 0 && mx_time_ms() - last > QUIET_MS;
	if (asked > 0)
		return mx_gossip_pending(r->g) == 0 ||
		    (mx_gossip_pending_needed(r->g) == 0 && quiet);
	return mx_gossip_given(r->g) > 0 && quiet;
}

/* After a SAS with our own other device (spec: "Sharing"): ask it for
 * the secrets this store lacks and wait for them, and stay to answer its
 * own requests (a new Element session asks at once), each up to
 * --timeout or SHARE_MS, whichever is shorter: a device that holds a
 * secret gives it at once, one that does not never says so.  Failures
 * are warnings: the SAS verified the device already. */
static void
share(struct verify_run *r)
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
	end += r->o->timeout_ms < SHARE_MS ? r->o->timeout_ms : SHARE_MS;
	while (!interrupted && mx_gossip_poll(r->g, NULL, &fe) == 0 &&
	    !share_over(r, asked) && mx_time_ms() < end &&
	    verify_pump(r, POLL_MS, &fe) == 0)
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
flow(struct verify_run *r, struct mx_err *e)
{
	long long last = mx_time_ms(), now;
	enum mx_verify_state st, was;
	int a;

	for (;;) {
		if (verify_flush(r, e) != 0)
			return -1;
		st = mx_verify_state(r->v);
		if (st == MX_VERIFY_DONE || st == MX_VERIFY_CANCELLED)
			break;
		if (interrupted) {
			mx_verify_cancel(r->v, "m.user", "interrupted");
			continue;
		}
		if (st == MX_VERIFY_SHOW) {
			a = verify_ask(r, e);
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
		if (verify_feed(r, e) != 0 ||
		    mx_gossip_poll(r->g,
			own(r) && r->them != NULL ? r->them->device_id : NULL,
			e) != 0)
			return -1;
		if (mx_verify_state(r->v) == was &&
		    (verify_pump(r, POLL_MS, e) != 0 ||
			verify_feed(r, e) != 0))
			return -1;
		if (mx_verify_state(r->v) != was)
			last = mx_time_ms();
	}
	if (mx_verify_state(r->v) == MX_VERIFY_DONE && mark(r, e) != 0)
		return -1;
	if (mx_verify_state(r->v) == MX_VERIFY_DONE && own(r))
		share(r);
	return verify_result(r, e);
}

/* The flow; when it fails on our side mid-way (the network, the store,
 * stdout), the other side is told with a cancel, as far as it can be
 * sent, rather than left waiting for its timeout. */
static int
drive(struct verify_run *r, struct mx_err *e)
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
	(void)verify_flush(r, &fe);
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
their_master(const struct verify_run *r)
{
	return master_of(r->them);
}

/* Our side: user, device, Ed25519 key. */
static struct mx_verify_party
us(struct verify_run *r)
{
	struct mx_verify_party p = { r->c->sess.user_id, r->c->sess.device_id,
		mx_e2ee_ed25519(r->x), r->master[0] ? r->master : NULL };

	return p;
}

/* sas USER DEVICE: we ask. */
static int
sas_ask(struct verify_run *r, const char *user, const char *device,
    struct mx_err *e)
{
	struct mx_verify_party me, them;

	r->user = user;
	if (verify_find_device(r, user, device, e) != 0)
		return -1;
	if (strcmp(user, r->c->sess.user_id) == 0 &&
	    strcmp(device, r->c->sess.device_id) == 0)
		return mx_err_set(e, MX_USAGE,
		    "cannot verify this device with itself");
	/* Our position first, so the answers come after it. */
	if (verify_pump(r, 0, e) != 0)
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
encrypted_dm(struct verify_run *r, const char *user, char **room,
    struct mx_err *e)
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
sas_ask_user(struct verify_run *r, const char *user, struct mx_err *e)
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
		if (verify_is_target(r, &r->devs.v[i])) {
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
	if (verify_pump(r, 0, e) != 0)
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
accept_request(struct verify_run *r, const json_t *req, const char *room,
    struct mx_err *e)
{
	const json_t *c = json_object_get(req, "content");
	struct mx_verify_party me, them;

	if (verify_find_device(r, mx_json_str(req, "sender"),
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
sas_wait(struct verify_run *r, struct mx_err *e)
{
	long long end = mx_time_ms() + r->o->timeout_ms;
	json_t *req = NULL;
	int rc, in_room = 0;

	r->rooms = 1;
	for (;;) {
		if ((rc = verify_take_request(r, &req, e)) != 0)
			break;
		if ((rc = verify_take_room_request(r, &req, e)) != 0) {
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
		if (verify_pump(r, POLL_MS, e) != 0 ||
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

/* ---- sas ------------------------------------------------------------------- */

int
verify_sas(struct mx_ctx *c, const struct verify_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct verify_run r = { 0 };
	int rc;

	r.c = c;
	r.o = o;
	mx_cli_on_signals(on_signal);
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
