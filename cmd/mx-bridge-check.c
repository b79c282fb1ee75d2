/*
 * mx-bridge-check: show, like a TLS warning, everyone and everything that
 * can read a room: bridges, bots, widgets, other servers, and the room
 * settings that let more of them in.  Per room, one GET /rooms/{id}/state,
 * one /keys/query and one /messages page; every finding is one JSON line,
 * then one summary line per room, and the exit status says whether
 * anything reached --fail-on (mx(7)).  --probe alone posts.
 *
 * The checks are lib/audit.h's, pure functions over what this file
 * fetches; this file reads the options and files, asks the server,
 * and prints.  --probe is in bridge-probe.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "audit.h"
#include "bridge-probe.h"
#include "bridge-rules.h"
#include "cli.h"
#include "conf.h"
#include "devices.h"
#include "e2ee.h"
#include "json.h"
#include "room.h"
#include "util.h"
#include "banned.h"

#ifndef MX_DATADIR
#define MX_DATADIR "/usr/local/share"
#endif

enum {
	O_ALL = MX_OPT_LONG,
	O_TABLE,
	O_FAIL_ON,
	O_REQUIRE_ENC,
	O_SERVERS,
	O_IGNORE,
	O_ALLOW,
	O_PATTERNS,
	O_FOLLOW,
	O_WATCH,
	O_AS_PING,
	O_PROBE,
	O_PROBE_CMD,
	O_PROBE_TIMEOUT
};

static const struct mx_opt opts[] = { { O_ALL, "all", NULL,
					  "audit every joined room", 0 },
	{ O_TABLE, "table", NULL, "a report for people instead of JSON lines",
	    0 },
	{ O_FAIL_ON, "fail-on", "SEVERITY",
	    "exit 1 when a finding reaches high (default), warn or info", 0 },
	{ O_REQUIRE_ENC, "require-encryption", NULL,
	    "a room without encryption is high, not warn", 0 },
	{ O_SERVERS, "servers", "PATTERN",
	    "servers allowed to hold the room (glob, or a file of them; "
	    "repeatable)",
	    MX_OPT_REPEAT },
	{ O_IGNORE, "ignore", "CHECK[:SUBJECT]",
	    "leave out these findings (SUBJECT a glob; repeatable)",
	    MX_OPT_REPEAT },
	{ O_ALLOW, "allow", "FILE",
	    "leave out the accepted findings FILE lists, one CHECK[:SUBJECT] "
	    "a line",
	    0 },
	{ O_PATTERNS, "patterns", "FILE",
	    "more bridge and bot naming patterns, before the shipped ones",
	    0 },
	{ O_FOLLOW, "follow-upgrades", NULL,
	    "audit the successor of an upgraded room too, when joined", 0 },
	{ O_WATCH, "watch", NULL,
	    "keep syncing; print each new finding as the rooms change", 0 },
	{ O_AS_PING, "appservice-ping", "ID",
	    "have the homeserver ping appservice ID ($MX_AS_TOKEN)", 0 },
	{ O_PROBE, "probe", NULL,
	    "send each confirmed bridge bot a command in a direct room (it "
	    "posts); time its answer",
	    0 },
	{ O_PROBE_CMD, "probe-command", "TEXT",
	    "the command --probe sends (default help)", 0 },
	{ O_PROBE_TIMEOUT, "probe-timeout", "SECS",
	    "how long --probe waits for an answer (default 30)", 0 },
	MX_OPT_END };

static const struct mx_cli cli = {
	"mx-bridge-check",
	"[options] ROOM...\n[options] --all\n"
	"[options] --appservice-ping ID [ROOM...]",
	"List the bridges, bots, widgets and servers that can read Matrix "
	"rooms.",
	opts,
};

struct opt {
	int all, table, fail_on, follow, watch, probe;
	int probe_timeout, probe_args; /* seconds; --probe-* given */
	const char *probe_cmd;
	const char **servers;
	size_t nservers;
	const char *allow, *patterns, *as_ping;
	struct mx_audit_rules ru; /* filled from the options and files */
};

/* --- options -------------------------------------------------------------- */

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;
	int k;

	switch (id) {
	case O_ALL:
		o->all = 1;
		break;
	case O_TABLE:
		o->table = 1;
		break;
	case O_FAIL_ON:
		if ((k = mx_audit_sev_parse(arg)) < 0)
			mx_cli_usage(&cli,
			    "--fail-on '%s' is none of high, warn, info", arg);
		o->fail_on = k;
		break;
	case O_REQUIRE_ENC:
		o->ru.require_enc = 1;
		break;
	case O_SERVERS:
		o->servers = mx_xrealloc(o->servers,
		    (o->nservers + 1) * sizeof(*o->servers));
		o->servers[o->nservers++] = arg;
		break;
	case O_IGNORE:
		if (mx_audit_rules_ignore(&o->ru, arg) != 0)
			mx_cli_usage(&cli, "--ignore '%s' names no check",
			    arg);
		break;
	case O_ALLOW:
		o->allow = arg;
		break;
	case O_PATTERNS:
		o->patterns = arg;
		break;
	case O_FOLLOW:
		o->follow = 1;
		break;
	case O_WATCH:
		o->watch = 1;
		break;
	case O_AS_PING:
		o->as_ping = arg;
		break;
	case O_PROBE:
		o->probe = 1;
		break;
	case O_PROBE_CMD:
		if (*arg == '\0')
			mx_cli_usage(&cli, "--probe-command is empty");
		o->probe_cmd = arg;
		o->probe_args = 1;
		break;
	case O_PROBE_TIMEOUT: {
		char *end;
		long n = strtol(arg, &end, 10);

		if (end == arg || *end != '\0' || n < 1 || n > 3600)
			mx_cli_usage(&cli,
			    "--probe-timeout '%s' is not 1 to 3600 seconds",
			    arg);
		o->probe_timeout = (int)n;
		o->probe_args = 1;
		break;
	}
	default:
		return -1;
	}
	return 0;
}

/* The shipped patterns: $MX_BRIDGE_PATTERNS, else the installed file,
 * else, for a program run from the build tree (not installed yet), the
 * tree's data/bridge-patterns beside it.  buf holds the path. */
static const char *
shipped_patterns(char *buf, size_t n)
{
	const char *env = getenv("MX_BRIDGE_PATTERNS"), *inst;
	ssize_t len;
	char *slash;

	if (env != NULL && *env != '\0')
		return env;
	inst = MX_DATADIR "/mx/bridge-patterns";
	if (access(inst, F_OK) == 0)
		return inst;
	len = readlink("/proc/self/exe", buf, n - 1);
	if (len <= 0 || (size_t)len >= n - 32)
		return inst;
	buf[len] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return inst;
	snprintf(slash, (size_t)(buf + n - slash), "/data/bridge-patterns");
	return access(buf, F_OK) == 0 ? buf : inst;
}

/* --patterns, first so that they win, then the shipped patterns, then
 * --allow. */
static int
load_files(struct opt *o, struct mx_err *e)
{
	char buf[4096];

	if (o->patterns != NULL &&
	    bridge_rules_patterns(&o->ru, o->patterns, e) != 0)
		return -1;
	if (bridge_rules_patterns(&o->ru, shipped_patterns(buf, sizeof(buf)),
		e) != 0)
		return -1;
	return o->allow != NULL ? bridge_rules_allow(&o->ru, o->allow, e) : 0;
}

static void
opt_release(struct opt *o)
{
	mx_audit_rules_release(&o->ru);
	free(o->servers);
}

/* --- the network's part of the checks ------------------------------------ */

/* 11: the members' devices, with mx-keys's pinning (spec: "Cross-signing";
 * one /keys/query for every joined and invited member). */
static int
check_devices(struct mx_ctx *c, struct mx_audit_room *r, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	json_t *raw = NULL;
	size_t n;
	const char **uv = mx_audit_device_users(r, &n);
	int rc = 0;

	if (n > 0 && !mx_audit_ignored_all(r->rules, "devices") &&
	    (rc = mx_devices_audit(&c->api, c->store, uv, n, &l, &raw, e)) ==
		0)
		mx_audit_devices(r, &l, raw, c->sess.device_id);
	if (rc != 0)
		mx_err_prefix(e, "cannot query the devices of '%s'", r->id);
	mx_devlist_release(&l);
	json_decref(raw);
	free(uv);
	return rc;
}

/* 8: messages sent on others' behalf, in the room's last MX_AUDIT_PAGE
 * events (one GET /rooms/{roomId}/messages, spec "Getting events for a
 * room"), decrypted as mx-sync does with the room keys the profile holds
 * (x; NULL: none, only clear events are read). */
static int
check_behalf(struct mx_ctx *c, struct mx_e2ee *x, struct mx_audit_room *r,
    struct mx_err *e)
{
	json_t *resp = NULL, *evs, *o;
	const json_t *ev;
	size_t i;
	int rc = 0;

	if (mx_audit_ignored_all(r->rules, "behalf"))
		return 0;
	if (mx_api_messages(&c->api, r->id, NULL, NULL, 'b', MX_AUDIT_PAGE,
		NULL, &resp, e) != 0)
		return mx_err_prefix(e, "cannot read the messages of '%s'",
		    r->id);
	evs = json_array();
	json_array_foreach(json_object_get(resp, "chunk"), i, ev) {
		if (!json_is_object(ev))
			continue;
		if (mx_e2ee_event(x, r->id, ev, 0, &o, e) != 0) {
			rc = mx_err_prefix(e, "cannot decrypt in '%s'", r->id);
			break;
		}
		json_array_append_new(evs, o);
	}
	if (rc == 0)
		mx_audit_behalf(r, evs);
	json_decref(evs);
	json_decref(resp);
	return rc;
}

/* --- output --------------------------------------------------------------- */

static int
colour_on(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
}

static const char *
verdict(const struct opt *o, const struct mx_audit_room *r)
{
	int s;

	for (s = MX_AUDIT_HIGH; s >= o->fail_on; s--)
		if (r->n[s] > 0)
			return "fail";
	return "pass";
}

/* s on stdout, its control characters (C0, DEL, and C1 as UTF-8) shown
 * as '?': a widget's name or a server's text must not drive the
 * terminal, nor split a line. */
static void
put_safe(const char *s)
{
	char *p = mx_cli_printable(s);

	fputs(p, stdout);
	free(p);
}

/* --table: a verdict line, then a line per finding, the worst first. */
static void
print_table(const struct opt *o, const struct mx_audit_room *r)
{
	static const char *const on[] = { "", "\033[33m", "\033[31m" };
	int colour = colour_on(), fail = strcmp(verdict(o, r), "fail") == 0;
	const json_t *f;
	size_t i, s;

	printf("%s%s%s %s: %zu high, %zu warn, %zu info\n",
	    colour ? (fail ? on[MX_AUDIT_HIGH] : "\033[32m") : "",
	    fail ? "FAIL" : "PASS", colour ? "\033[0m" : "", r->id,
	    r->n[MX_AUDIT_HIGH], r->n[MX_AUDIT_WARN], r->n[MX_AUDIT_INFO]);
	/* The worst first, as a warning should read. */
	for (s = 3; s-- > 0;)
		json_array_foreach(r->found, i, f) {
			if (strcmp(mx_audit_sev_name(s),
				mx_json_str(f, "severity")) != 0)
				continue;
			printf("  %s%-4s%s  %-12s ", colour ? on[s] : "",
			    mx_audit_sev_name(s),
			    colour && s > 0 ? "\033[0m" : "",
			    mx_json_str(f, "check"));
			put_safe(mx_json_str(f, "subject"));
			fputs(": ", stdout);
			put_safe(mx_json_str(f, "detail"));
			putchar('\n');
		}
}

static int
print_room(const struct opt *o, const struct mx_audit_room *r,
    struct mx_err *e)
{
	const json_t *f;
	json_t *sum;
	size_t i;
	int rc = 0;

	if (o->table) {
		print_table(o, r);
		if (fflush(stdout) != 0 || ferror(stdout))
			return mx_err_set(e, MX_LOCAL,
			    "cannot write to stdout");
		return 0;
	}
	json_array_foreach(r->found, i, f)
		if (rc == 0)
			rc = mx_cli_print_json(f, e);
	if (rc != 0)
		return rc;
	sum = json_pack("{s:s,s:s,s:I,s:I,s:I}", "room_id", r->id, "verdict",
	    verdict(o, r), "high", (json_int_t)r->n[MX_AUDIT_HIGH], "warn",
	    (json_int_t)r->n[MX_AUDIT_WARN], "info",
	    (json_int_t)r->n[MX_AUDIT_INFO]);
	rc = mx_cli_print_json(sum, e);
	json_decref(sum);
	return rc;
}

/* --- main ----------------------------------------------------------------- */

/* One run over the rooms: the rooms to audit, in order (--follow-upgrades
 * appends successors), and what was printed of each (--watch prints only
 * what is new). */
struct run {
	struct mx_ctx *c;
	struct mx_e2ee *x; /* the profile's room keys, or NULL */
	const struct opt *o;
	json_t *queue;	/* room arguments, then room IDs */
	json_t *rooms;	/* {room_id: {finding key: true}} */
	json_t *joined; /* our joined rooms, read once when needed */
	json_t *probe;	/* --probe: {bot: true}, the confirmed bridge bots */
};

/* A finding's identity: what it says, not when. */
static char *
finding_key(const json_t *f)
{
	return mx_xasprintf("%s\n%s\n%s\n%s", mx_json_str(f, "check"),
	    mx_json_str(f, "severity"), mx_json_str(f, "subject"),
	    mx_json_str(f, "detail"));
}

/* --watch, once a room was printed: its findings not printed before. */
static int
print_new(json_t *printed, const struct mx_audit_room *r, struct mx_err *e)
{
	const json_t *f;
	char *k;
	size_t i;
	int rc = 0;

	json_array_foreach(r->found, i, f) {
		k = finding_key(f);
		if (rc == 0 && json_object_get(printed, k) == NULL) {
			json_object_set_new(printed, k, json_true());
			rc = mx_cli_print_json(f, e);
		}
		free(k);
	}
	return rc;
}

/* Remember r's findings as printed. */
static void
mark_printed(json_t *printed, const struct mx_audit_room *r)
{
	const json_t *f;
	char *k;
	size_t i;

	json_array_foreach(r->found, i, f) {
		k = finding_key(f);
		json_object_set_new(printed, k, json_true());
		free(k);
	}
}

/* --follow-upgrades: queue the successor of a tombstoned room when we
 * are joined to it; say so when we are not. */
static int
follow(struct run *u, const struct mx_audit_room *r, struct mx_err *e)
{
	const char *to =
	    mx_json_str(json_object_get(mx_audit_event(r, "m.room.tombstone",
					    ""),
			    "content"),
		"replacement_room");
	const json_t *v;
	size_t i;

	if (!u->o->follow || to == NULL ||
	    json_object_get(u->rooms, to) != NULL)
		return 0;
	json_array_foreach(u->queue, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), to) == 0)
			return 0;
	if (u->joined == NULL &&
	    mx_api_joined_rooms(&u->c->api, &u->joined, e) != 0)
		return mx_err_prefix(e, "cannot list the joined rooms");
	json_array_foreach(u->joined, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), to) == 0) {
			json_array_append_new(u->queue, json_string(to));
			return 0;
		}
	mx_cli_note(u->c, 0, "%s was upgraded to %s, which we have not joined",
	    r->id, to);
	return 0;
}

/* --probe: the confirmed bridge bots of r, into bots. */
static void
note_bots(json_t *bots, const struct mx_audit_room *r)
{
	const char *user;
	json_t *v;

	json_object_foreach(r->bots, user, v)
		if (mx_audit_confirmed_bot(r, user))
			json_object_set_new(bots, user, json_true());
}

/* Audit one room (a room argument, or an ID); 1 when it fails
 * --fail-on.  A room audited before prints only its new findings. */
static int
audit(struct run *u, const char *arg, struct mx_err *e)
{
	struct mx_audit_room r = { 0 };
	json_t *state = NULL, *printed;
	char *id = NULL;
	int rc = -1;

	if (mx_room_resolve(u->c, arg, 0, &id, e) != 0)
		return -1;
	/* One request: every current state event (spec: GET
	 * /rooms/{roomId}/state). */
	if (mx_api_room_state(&u->c->api, id, &state, e) != 0) {
		mx_err_prefix(e, "cannot read the state of '%s'", arg);
		goto out;
	}
	mx_audit_init(&r, id, u->c->sess.user_id, &u->o->ru, state);
	mx_audit_state(&r);
	/* The findings in the order of mx-bridge-check(1), CHECKS. */
	if (check_devices(u->c, &r, e) == 0 &&
	    check_behalf(u->c, u->x, &r, e) == 0) {
		mx_audit_upgrade(&r);
		if ((printed = json_object_get(u->rooms, id)) != NULL)
			rc = print_new(printed, &r, e);
		else {
			printed = json_object();
			json_object_set_new(u->rooms, id, printed);
			mark_printed(printed, &r);
			rc = print_room(u->o, &r, e);
		}
		if (rc == 0)
			rc = follow(u, &r, e);
		if (rc == 0 && u->o->probe)
			note_bots(u->probe, &r);
		if (rc == 0)
			rc = strcmp(verdict(u->o, &r), "fail") == 0;
	}
	mx_audit_release(&r);
out:
	json_decref(state);
	free(id);
	return rc;
}

/* The rooms: the operands, or every joined room. */
static json_t *
rooms_of(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *rooms = NULL;
	int i;

	if (o->all) {
		if (mx_api_joined_rooms(&c->api, &rooms, e) != 0) {
			mx_err_prefix(e, "cannot list the joined rooms");
			return NULL;
		}
		return rooms;
	}
	rooms = json_array();
	for (i = 0; i < argc; i++)
		json_array_append_new(rooms, json_string(argv[i]));
	return rooms;
}

/* --watch: the sync filter for the audited rooms: their state and the
 * state events of their timelines, nothing else. */
static char *
watch_filter(const json_t *rooms)
{
	json_t *ids = json_array(), *f;
	const char *id;
	const json_t *v;
	char *s;

	json_object_foreach((json_t *)rooms, id, v)
		json_array_append_new(ids, json_string(id));
	f = json_pack("{s:{s:o,s:{s:i},s:{s:[s]},s:{s:[s]}},s:{s:[s]},s:{s:["
		      "s]}}",
	    "room", "rooms", ids, "timeline", "limit", 50, "ephemeral",
	    "not_types", "*", "account_data", "not_types", "*", "presence",
	    "not_types", "*", "account_data", "not_types", "*");
	s = mx_json_compact(f);
	json_decref(f);
	return s;
}

/* A joined room of a sync answer changed: state, or a state event in
 * its timeline. */
static int
room_changed(const json_t *jr)
{
	const json_t *ev;
	size_t i;

	if (json_array_size(
		json_object_get(json_object_get(jr, "state"), "events")) > 0)
		return 1;
	json_array_foreach(json_object_get(json_object_get(jr, "timeline"),
			       "events"),
	    i, ev)
		if (mx_json_str(ev, "state_key") != NULL)
			return 1;
	return 0;
}

/* The rooms of a sync answer (resp) to audit again: those whose state
 * changed, or all when a user's devices changed (a new array). */
static json_t *
changed_rooms(const struct run *u, const json_t *resp)
{
	json_t *todo = json_array();
	const json_t *jr, *v;
	const char *id;
	int all = json_array_size(
		      json_object_get(json_object_get(resp, "device_lists"),
			  "changed")) > 0;

	json_object_foreach(u->rooms, id, v) {
		jr = json_object_get(json_object_get(json_object_get(resp,
							 "rooms"),
					 "join"),
		    id);
		if (all || (jr != NULL && room_changed(jr)))
			json_array_append_new(todo, json_string(id));
	}
	return todo;
}

/* --watch: sync forever; audit again each room whose state changed, and
 * every room when a user's devices changed, printing the new findings
 * (spec: GET /sync).  Returns only on an error. */
static int
watch(struct run *u, struct mx_err *e)
{
	char *filter = watch_filter(u->rooms), *since = NULL;
	json_t *resp = NULL, *todo;
	size_t i;
	int rc = 0;

	while (rc == 0) {
		if (mx_api_sync(&u->c->api, since, filter, since ? 30000 : 0,
			&resp, e) != 0) {
			rc = -1;
			break;
		}
		if (mx_json_str(resp, "next_batch") == NULL) {
			rc = mx_err_set(e, MX_TEMP,
			    "the server's sync has no next_batch");
			break;
		}
		/* The first sync only starts the stream: the rooms were just
		 * audited. */
		todo = since != NULL ? changed_rooms(u, resp) : json_array();
		free(since);
		since = mx_xstrdup(mx_json_str(resp, "next_batch"));
		json_decref(resp);
		resp = NULL;
		for (i = 0; i < json_array_size(todo) && rc == 0; i++)
			if (audit(u,
				json_string_value(json_array_get(todo, i)),
				e) < 0)
				rc = -1;
		json_decref(todo);
	}
	json_decref(resp);
	free(since);
	free(filter);
	return rc;
}

/* The homeserver's answers that mean "it cannot reach the appservice". */
static int
unreachable(const struct mx_err *e)
{
	static const char *const codes[] = { "M_URL_NOT_SET",
		"M_CONNECTION_FAILED", "M_BAD_STATUS", "M_CONNECTION_TIMEOUT",
		NULL };
	size_t i;

	for (i = 0; codes[i] != NULL; i++)
		if (strcmp(e->errcode, codes[i]) == 0)
			return 1;
	return 0;
}

/* --appservice-ping: the homeserver pings the appservice id, asked with
 * its as_token (MX_AS_TOKEN: never on argv, never printed); one line.
 * 1 when the homeserver cannot reach it. */
static int
appservice_ping(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	struct mx_api a = c->api;
	long long ms = 0;
	json_t *j;
	int ok, rc;

	a.token = getenv("MX_AS_TOKEN");
	if (mx_api_appservice_ping(&a, o->as_ping, &ms, e) == 0) {
		ok = 1;
		j = json_pack("{s:s,s:b,s:I}", "appservice", o->as_ping,
		    "reachable", 1, "duration_ms", (json_int_t)ms);
	} else if (unreachable(e)) {
		ok = 0;
		j = json_pack("{s:s,s:b,s:s,s:s}", "appservice", o->as_ping,
		    "reachable", 0, "errcode", e->errcode, "error", e->msg);
		mx_err_clear(e);
	} else if (e->http == 401) {
		mx_err_set(e, MX_PERM,
		    "cannot ping appservice '%s': the homeserver does not "
		    "know MX_AS_TOKEN",
		    o->as_ping);
		/* Not MX_ACCESS_TOKEN's death, as mx_cli_fail would say. */
		e->errcode[0] = '\0';
		return -1;
	} else
		return mx_err_prefix(e, "cannot ping appservice '%s'",
		    o->as_ping);
	if (o->table) {
		printf("%s appservice %s: ", ok ? "PASS" : "FAIL", o->as_ping);
		if (ok)
			printf("reached in %lld ms\n", ms);
		else {
			put_safe(mx_json_str(j, "error"));
			putchar('\n');
		}
		rc = fflush(stdout) != 0 || ferror(stdout) ?
		    mx_err_set(e, MX_LOCAL, "cannot write to stdout") :
		    0;
	} else
		rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc != 0 ? -1 : !ok;
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 0 };
	struct mx_err e;
	json_t *v;
	struct run u = { 0 };
	unsigned flags = MX_CTX_SESSION;
	size_t k;
	int i, r, rc = MX_OK, failed = 0;

	mx_cli_init();
	mx_err_clear(&e);
	o.fail_on = MX_AUDIT_HIGH;
	o.probe_cmd = "help";
	o.probe_timeout = 30;
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	if (o.all && i < argc)
		mx_cli_usage(&cli, "--all takes no ROOM");
	if (!o.all && i == argc && o.as_ping == NULL)
		mx_cli_usage(&cli, "no ROOM given (or --all)");
	if (o.as_ping != NULL &&
	    (getenv("MX_AS_TOKEN") == NULL || *getenv("MX_AS_TOKEN") == '\0'))
		mx_cli_usage(&cli, "--appservice-ping needs MX_AS_TOKEN");
	if (o.probe_args && !o.probe)
		mx_cli_usage(&cli,
		    "--probe-command and --probe-timeout go with --probe");
	if (o.watch && o.table)
		mx_cli_usage(&cli, "--watch prints JSON lines, not --table");
	/* The profile's store pins the keys of the members' devices, as
	 * mx-keys devices does; a token from the environment has no profile:
	 * its pins last this run only. */
	if (getenv("MX_ACCESS_TOKEN") == NULL)
		flags |= MX_CTX_STORE;
	if (load_files(&o, &e) != 0 ||
	    bridge_rules_servers(&o.ru, o.servers, o.nservers, &e) != 0 ||
	    mx_ctx_open(&c, flags, &e) != 0 ||
	    (c.store == NULL && mx_store_open_memory(&c.store, &e) != 0) ||
	    mx_ctx_whoami(&c, &e) != 0 ||
	    (u.queue = rooms_of(&c, &o, argc - i, argv + i, &e)) == NULL) {
		rc = mx_cli_fail(cli.prog, &e);
		goto out;
	}
	/* A room that cannot be read does not stop the others; the worst
	 * error decides the status. */
	u.c = &c;
	u.o = &o;
	/* Check 8 decrypts with the profile's room keys, as mx-sync does;
	 * a token from the environment is another identity: no keys. */
	if (c.store != NULL && getenv("MX_ACCESS_TOKEN") == NULL &&
	    (!mx_audit_ignored_all(&o.ru, "behalf") || o.probe) &&
	    mx_e2ee_open(&u.x, &c, &e) != 0) {
		rc = mx_cli_fail(cli.prog, &e);
		goto out;
	}
	u.rooms = json_object();
	u.probe = json_object();
	for (k = 0; k < json_array_size(u.queue); k++) {
		v = json_array_get(u.queue, k);
		if (!json_is_string(v))
			continue;
		mx_err_clear(&e);
		r = audit(&u, json_string_value(v), &e);
		if (r < 0) {
			r = mx_cli_fail(cli.prog, &e);
			if (r > rc)
				rc = r;
			if (e.status == MX_LOCAL && e.http == 0)
				break;
		} else
			failed |= r;
	}
	if (rc == MX_OK && o.as_ping != NULL) {
		mx_err_clear(&e);
		if ((r = appservice_ping(&c, &o, &e)) < 0)
			rc = mx_cli_fail(cli.prog, &e);
		else
			failed |= r;
	}
	if (rc == MX_OK && o.probe) {
		struct bridge_probe bp = { &c, u.x, o.probe_cmd,
			o.probe_timeout, o.table };

		mx_err_clear(&e);
		if ((r = bridge_probe(&bp, u.probe, &e)) < 0)
			rc = mx_cli_fail(cli.prog, &e);
		else
			failed |= r;
	}
	/* --watch goes on whatever the rooms' verdicts: it is an alarm. */
	if (rc == MX_OK && o.watch) {
		mx_err_clear(&e);
		if (json_object_size(u.rooms) == 0) {
			mx_err_set(&e, MX_PERM, "no room to watch");
			rc = mx_cli_fail(cli.prog, &e);
		} else if (watch(&u, &e) != 0)
			rc = mx_cli_fail(cli.prog, &e);
	}
	if (rc == MX_OK && failed)
		rc = MX_NO;
out:
	json_decref(u.queue);
	json_decref(u.rooms);
	json_decref(u.joined);
	json_decref(u.probe);
	opt_release(&o);
	mx_e2ee_close(u.x);
	mx_ctx_close(&c);
	return rc;
}