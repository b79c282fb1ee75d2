/*
 * bridge-probe: mx-bridge-check --probe (bridge-probe.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "bridge-probe.h"
#include "cli.h"
#include "e2ee.h"
#include "json.h"
#include "msg.h"
#include "room.h"
#include "util.h"
#include "banned.h"

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait until bot has joined room (a new direct room: it must accept the
 * invitation first), until deadline: 1 joined, 0 not, -1 with e. */
static int
wait_joined(struct mx_ctx *c, const char *room, const char *bot,
    long long deadline, struct mx_err *e)
{
	json_t *m = NULL;
	const char *ms;
	int rc, in;

	for (;;) {
		rc = mx_api_get_state(&c->api, room, "m.room.member", bot, &m,
		    e);
		if (rc < 0)
			return mx_err_prefix(e, "cannot read '%s' in '%s'",
			    bot, room);
		ms = rc > 0 ? mx_json_str(m, "membership") : NULL;
		in = ms != NULL && strcmp(ms, "join") == 0;
		json_decref(m);
		m = NULL;
		if (in)
			return 1;
		if (mx_time_ms() >= deadline)
			return 0;
		nap_ms(200);
	}
}

/* Send cmd into room as a text message, encrypted when the room is (with
 * the profile's keys, as mx-send does): *eid, the event's ID. */
static int
probe_send(const struct bridge_probe *u, const char *room, const char *cmd,
    char **eid, struct mx_err *e)
{
	json_t *content =
		   json_pack("{s:s,s:s}", "msgtype", "m.text", "body", cmd),
	       *enc = NULL;
	char *txn = mx_msg_txn_new();
	int rc = mx_e2ee_room_encryption(u->c, room, &enc, e);

	if (rc > 0 && u->x == NULL)
		rc = mx_err_set(e, MX_USAGE,
		    "'%s' is encrypted: --probe needs a profile's keys, not "
		    "MX_ACCESS_TOKEN",
		    room);
	else if (rc >= 0 && u->x != NULL)
		rc = mx_e2ee_send(u->x, room, MX_E2EE_TOFU, "m.room.message",
		    content, eid, e);
	else if (rc == 0)
		rc = mx_api_send(&u->c->api, room, "m.room.message", txn,
		    content, eid, e);
	if (rc != 0)
		mx_err_prefix(e, "cannot send the probe to '%s'", room);
	json_decref(content);
	json_decref(enc);
	free(txn);
	return rc != 0 ? -1 : 0;
}

/* Whether the timeline of room in a sync answer holds, after our event
 * eid (*seen: met already), a message of bot: its answer. */
static int
answered(const json_t *resp, const char *room, const char *bot,
    const char *eid, int *seen)
{
	const json_t *jr =
	    json_object_get(json_object_get(json_object_get(resp, "rooms"),
				"join"),
		room);
	const json_t *evs =
	    json_object_get(json_object_get(jr, "timeline"), "events");
	const json_t *ev;
	const char *id, *sender;
	size_t i;

	json_array_foreach(evs, i, ev) {
		id = mx_json_str(ev, "event_id");
		sender = mx_json_str(ev, "sender");
		if (id != NULL && strcmp(id, eid) == 0)
			*seen = 1;
		else if (*seen && sender != NULL && strcmp(sender, bot) == 0 &&
		    json_object_get(ev, "state_key") == NULL)
			return 1;
	}
	return 0;
}

/* Sync room alone until bot answers our event eid or deadline passes:
 * 1 answered, 0 not, -1 with e. */
static int
wait_answer(struct mx_ctx *c, const char *room, const char *bot,
    const char *since0, const char *eid, long long deadline, struct mx_err *e)
{
	json_t *f =
	    json_pack("{s:{s:[s],s:{s:i},s:{s:[]},s:{s:[s]},s:{s:[s]}},"
		      "s:{s:[s]},s:{s:[s]}}",
		"room", "rooms", room, "timeline", "limit", 50, "state",
		"types", "ephemeral", "not_types", "*", "account_data",
		"not_types", "*", "presence", "not_types", "*", "account_data",
		"not_types", "*");
	char *filter = mx_json_compact(f), *since = mx_xstrdup(since0);
	json_t *resp = NULL;
	long long left;
	int rc = 0, seen = 0;

	json_decref(f);
	while (rc == 0 && (left = deadline - mx_time_ms()) > 0) {
		if (mx_api_sync(&c->api, since, filter, (int)left, &resp, e) !=
		    0) {
			rc = -1;
			break;
		}
		rc = answered(resp, room, bot, eid, &seen);
		free(since);
		since = mx_xstrdup(mx_json_str(resp, "next_batch") ?
			mx_json_str(resp, "next_batch") :
			"");
		json_decref(resp);
		resp = NULL;
		if (*since == '\0' && rc == 0)
			rc = mx_err_set(e, MX_TEMP,
			    "the server's sync has no next_batch");
	}
	free(filter);
	free(since);
	return rc;
}

/* The sync position now (*since, caller's), for what comes after. */
static int
sync_now(struct mx_ctx *c, const char *room, char **since, struct mx_err *e)
{
	json_t *f = json_pack("{s:{s:[s],s:{s:i},s:{s:[]}}}", "room", "rooms",
		   room, "timeline", "limit", 1, "state", "types"),
	       *resp = NULL;
	char *filter = mx_json_compact(f);
	int rc = mx_api_sync(&c->api, NULL, filter, 0, &resp, e);

	json_decref(f);
	free(filter);
	if (rc == 0 && mx_json_str(resp, "next_batch") == NULL)
		rc = mx_err_set(e, MX_TEMP,
		    "the server's sync has no next_batch");
	if (rc == 0)
		*since = mx_xstrdup(mx_json_str(resp, "next_batch"));
	json_decref(resp);
	return rc;
}

/* The line of one probe; 0, or -1 with e. */
static int
probe_print(const struct bridge_probe *o, const char *bot, const char *room,
    int ok, long long ms, const char *why, struct mx_err *e)
{
	json_t *j = json_pack("{s:s,s:s?,s:s,s:b}", "probe", bot, "room_id",
	    room, "command", o->cmd, "answered", ok);
	char *s;
	int rc = 0;

	if (ok)
		json_object_set_new(j, "latency_ms", json_integer(ms));
	else
		json_object_set_new(j, "detail", json_string(why));
	if (!o->table)
		rc = mx_cli_print_json(j, e);
	else {
		printf("%s probe ", ok ? "PASS" : "FAIL");
		s = mx_cli_printable(bot);
		fputs(s, stdout);
		free(s);
		if (ok)
			printf(": answered in %lld ms\n", ms);
		else
			printf(": %s\n", why);
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = mx_err_set(e, MX_LOCAL, "cannot write to stdout");
	}
	json_decref(j);
	return rc;
}

/* --probe of one bridge bot, in our direct room with it (reused, else
 * made and recorded in m.direct): 1 answered, 0 not, -1 with e. */
static int
probe_one(const struct bridge_probe *u, const char *bot, struct mx_err *e)
{
	long long wait = (long long)u->timeout * 1000, t0 = 0;
	char *room = NULL, *since = NULL, *eid = NULL, why[64];
	int rc;

	if (mx_room_resolve(u->c, bot, MX_ROOM_CREATE_DM, &room, e) != 0) {
		mx_err_prefix(e, "cannot probe '%s'", bot);
		return -1;
	}
	rc = wait_joined(u->c, room, bot, mx_time_ms() + wait, e);
	snprintf(why, sizeof(why), "%s in %d s",
	    rc == 0 ? "did not join the direct room" : "no answer",
	    u->timeout);
	if (rc > 0 && (rc = sync_now(u->c, room, &since, e)) == 0 &&
	    (rc = probe_send(u, room, u->cmd, &eid, e)) == 0) {
		t0 = mx_time_ms();
		rc = wait_answer(u->c, room, bot, since, eid, t0 + wait, e);
	}
	if (rc >= 0 &&
	    probe_print(u, bot, room, rc, mx_time_ms() - t0, why, e) != 0)
		rc = -1;
	free(room);
	free(since);
	free(eid);
	return rc;
}

int
bridge_probe(const struct bridge_probe *u, const json_t *bots,
    struct mx_err *e)
{
	const char *bot;
	json_t *v;
	int rc, failed = 0;

	json_object_foreach((json_t *)bots, bot, v) {
		if ((rc = probe_one(u, bot, e)) < 0)
			return -1;
		failed |= rc == 0;
	}
	return failed;
}
