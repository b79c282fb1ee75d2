/*
 * mx-bridge-check: show, like a TLS warning, everyone and everything that
 * can read a room: bridges, bots, widgets, other servers, and the room
 * settings that let more of them in.  Per room, one GET /rooms/{id}/state,
 * one /keys/query and one /messages page; every finding is one JSON line,
 * then one summary line per room, and the exit status says whether
 * anything reached --fail-on (mx(7)).  --probe alone posts.
 *
 * Every state event is the server's word and a room admin's: nothing in
 * it is trusted to be well formed, and a bridge event proves nothing until
 * its bot is a joined member (MSC2346, "Security considerations").
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "conf.h"
#include "devices.h"
#include "e2ee.h"
#include "json.h"
#include "msg.h"
#include "room.h"
#include "util.h"
#include "banned.h"

#ifndef MX_DATADIR
#define MX_DATADIR "/usr/local/share"
#endif
#define MEGOLM "m.megolm.v1.aes-sha2"
#define WEEK_MS 604800000LL
/* Check 8 reads the room's last PAGE events, one request. */
#define PAGE 50
#define DP_SOURCE "fi.mau.double_puppet_source"

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

enum sev { S_INFO, S_WARN, S_HIGH };
static const char *const sev_names[] = { "info", "warn", "high" };

/* The checks, by the name findings carry (mx-bridge-check(1), CHECKS). */
static const char *const checks[] = { "encryption", "history", "join",
	"servers", "power", "bridge", "bridge-like", "behalf", "irc",
	"integrations", "devices", "upgrade", NULL };

struct rule {
	char *check, *subject; /* subject NULL: every finding of check */
};

struct pattern {
	int bot; /* a bot, else a puppet (a remote user's ghost) */
	char *name;
	regex_t re;
};

struct opt {
	int all, table, require_enc, fail_on, follow, watch, probe;
	int probe_timeout, probe_args; /* seconds; --probe-* given */
	const char *probe_cmd;
	const char **servers;
	size_t nservers;
	struct rule *rules;
	size_t nrules;
	const char *allow, *patterns, *as_ping;
	struct pattern *pat;
	size_t npat;
};

/* One room being audited. */
struct room {
	const char *id, *me;
	const struct opt *o;
	json_t *idx;  /* {type: {state_key: event}}, events borrowed */
	json_t *bots; /* {user: status} of the active bridge events */
	int encrypted, bridged; /* a confirmed bridge */
	size_t n[3];
	json_t *found; /* the findings, in order */
};

/* --- options -------------------------------------------------------------- */

static int
check_known(const char *name)
{
	size_t i;

	for (i = 0; checks[i] != NULL; i++)
		if (strcmp(checks[i], name) == 0)
			return 1;
	return 0;
}

/* "CHECK[:SUBJECT]" into o's rules; -1 when CHECK is no check. */
static int
add_rule(struct opt *o, const char *s)
{
	const char *colon = strchr(s, ':');
	char *check =
	    colon ? mx_xstrndup(s, (size_t)(colon - s)) : mx_xstrdup(s);

	if (!check_known(check)) {
		free(check);
		return -1;
	}
	o->rules = mx_xrealloc(o->rules, (o->nrules + 1) * sizeof(*o->rules));
	o->rules[o->nrules].check = check;
	o->rules[o->nrules++].subject =
	    colon && colon[1] != '\0' ? mx_xstrdup(colon + 1) : NULL;
	return 0;
}

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;
	size_t k;

	switch (id) {
	case O_ALL:
		o->all = 1;
		break;
	case O_TABLE:
		o->table = 1;
		break;
	case O_FAIL_ON:
		for (k = 0; k < 3 && strcmp(arg, sev_names[k]) != 0; k++)
			;
		if (k == 3)
			mx_cli_usage(&cli,
			    "--fail-on '%s' is none of high, warn, info", arg);
		o->fail_on = (int)k;
		break;
	case O_REQUIRE_ENC:
		o->require_enc = 1;
		break;
	case O_SERVERS:
		o->servers = mx_xrealloc(o->servers,
		    (o->nservers + 1) * sizeof(*o->servers));
		o->servers[o->nservers++] = arg;
		break;
	case O_IGNORE:
		if (add_rule(o, arg) != 0)
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

/* The next line of f without its comment and surrounding blanks, in *line
 * (reused); 0 at the end. */
static int
next_line(FILE *f, char **line, size_t *cap, char **text)
{
	char *s, *end;

	if (getline(line, cap, f) < 0)
		return 0;
	s = *line;
	if ((end = strchr(s, '#')) != NULL &&
	    (end == s || isspace((unsigned char)end[-1])))
		*end = '\0';
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	*text = s;
	return 1;
}

/* --allow FILE: one CHECK[:SUBJECT] a line, # comments. */
static int
read_allow(struct opt *o, struct mx_err *e)
{
	FILE *f = fopen(o->allow, "r");
	char *line = NULL, *s;
	size_t cap = 0, n = 0;
	int rc = 0;

	if (f == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot read '%s': %s",
		    o->allow, strerror(errno));
	while (rc == 0 && next_line(f, &line, &cap, &s)) {
		n++;
		if (*s != '\0' && add_rule(o, s) != 0)
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: '%s' names no check", o->allow, n, s);
	}
	free(line);
	fclose(f);
	return rc;
}

/* A patterns file: "bot|puppet NAME REGEX" a line (POSIX ERE, matched
 * without case against the whole user ID), # comments. */
static int
read_patterns(struct opt *o, const char *file, struct mx_err *e)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *s, *kind, *name;
	size_t cap = 0, n = 0;
	struct pattern *p;
	int rc = 0;

	if (f == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot read patterns '%s': %s",
		    file, strerror(errno));
	while (rc == 0 && next_line(f, &line, &cap, &s)) {
		n++;
		if (*s == '\0')
			continue;
		kind = s;
		s += strcspn(s, " \t");
		name = s + strspn(s, " \t");
		*s = '\0';
		s = name + strcspn(name, " \t");
		if (*s != '\0')
			*s++ = '\0';
		s += strspn(s, " \t");
		if ((strcmp(kind, "bot") != 0 &&
			strcmp(kind, "puppet") != 0) ||
		    *name == '\0' || *s == '\0') {
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: not 'bot|puppet NAME REGEX'", file, n);
			break;
		}
		o->pat = mx_xrealloc(o->pat, (o->npat + 1) * sizeof(*o->pat));
		p = &o->pat[o->npat];
		if (regcomp(&p->re, s, REG_EXTENDED | REG_ICASE | REG_NOSUB) !=
		    0) {
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: bad regular expression", file, n);
			break;
		}
		p->bot = kind[0] == 'b';
		p->name = mx_xstrdup(name);
		o->npat++;
	}
	free(line);
	fclose(f);
	return rc;
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

	if (o->patterns != NULL && read_patterns(o, o->patterns, e) != 0)
		return -1;
	if (read_patterns(o, shipped_patterns(buf, sizeof(buf)), e) != 0)
		return -1;
	return o->allow != NULL ? read_allow(o, e) : 0;
}

/* --servers: an argument with a '/' is a file of globs, one a line. */
static int
load_servers(struct opt *o, json_t *globs, struct mx_err *e)
{
	char *line = NULL, *s;
	size_t i, cap = 0;
	FILE *f;

	for (i = 0; i < o->nservers; i++) {
		if (strchr(o->servers[i], '/') == NULL) {
			json_array_append_new(globs,
			    json_string(o->servers[i]));
			continue;
		}
		if ((f = fopen(o->servers[i], "r")) == NULL) {
			free(line);
			return mx_err_set(e, MX_LOCAL, "cannot read '%s': %s",
			    o->servers[i], strerror(errno));
		}
		while (next_line(f, &line, &cap, &s))
			if (*s != '\0')
				json_array_append_new(globs, json_string(s));
		fclose(f);
	}
	free(line);
	return 0;
}

static void
opt_release(struct opt *o)
{
	size_t i;

	for (i = 0; i < o->nrules; i++) {
		free(o->rules[i].check);
		free(o->rules[i].subject);
	}
	for (i = 0; i < o->npat; i++) {
		regfree(&o->pat[i].re);
		free(o->pat[i].name);
	}
	free(o->rules);
	free(o->pat);
	free(o->servers);
}

/* --- the room's state ----------------------------------------------------- */

/* The event of type and state_key, or NULL (borrowed). */
static const json_t *
event(const struct room *r, const char *type, const char *key)
{
	return json_object_get(json_object_get(r->idx, type), key);
}

/* Its content when an object with members, else NULL: an empty content
 * is a removed state (MSC2346, "Removing a bridge"). */
static const json_t *
content(const struct room *r, const char *type, const char *key)
{
	const json_t *c = json_object_get(event(r, type, key), "content");

	return json_is_object(c) && json_object_size(c) > 0 ? c : NULL;
}

static const char *
membership(const struct room *r, const char *user)
{
	return mx_json_str(json_object_get(event(r, "m.room.member", user),
			       "content"),
	    "membership");
}

static int
is_in(const struct room *r, const char *user, int invited_too)
{
	const char *m = membership(r, user);

	return m != NULL &&
	    (strcmp(m, "join") == 0 ||
		(invited_too && strcmp(m, "invite") == 0));
}

/* Index the state array: well-formed events only. */
static json_t *
index_state(const json_t *state)
{
	json_t *idx = json_object(), *t;
	const json_t *ev;
	const char *type, *key;
	size_t i;

	json_array_foreach(state, i, ev) {
		type = mx_json_str(ev, "type");
		key = mx_json_str(ev, "state_key");
		if (type == NULL || key == NULL)
			continue;
		if ((t = json_object_get(idx, type)) == NULL) {
			t = json_object();
			json_object_set_new(idx, type, t);
		}
		json_object_set(t, key, (json_t *)ev);
	}
	return idx;
}

/* An integer member of o, or def. */
static long long
int_of(const json_t *o, const char *k, long long def)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* The server part of a user ID, or NULL. */
static const char *
server_of(const char *user)
{
	const char *s = strchr(user, ':');

	return user[0] == '@' && s != NULL && s[1] != '\0' ? s + 1 : NULL;
}

/* Evidence: the event's type, state key and ID. */
static json_t *
ref(const json_t *ev)
{
	json_t *j = json_pack("{s:s?,s:s?,s:s?}", "type",
	    mx_json_str(ev, "type"), "state_key", mx_json_str(ev, "state_key"),
	    "event_id", mx_json_str(ev, "event_id"));

	return j != NULL ? j : json_object();
}

static json_t *
refs1(const json_t *ev)
{
	json_t *a = json_array();

	if (ev != NULL)
		json_array_append_new(a, ref(ev));
	return a;
}

/* --- findings ------------------------------------------------------------- */

static int
ignored(const struct opt *o, const char *check, const char *subject)
{
	size_t i;

	for (i = 0; i < o->nrules; i++)
		if (strcmp(o->rules[i].check, check) == 0 &&
		    (o->rules[i].subject == NULL ||
			fnmatch(o->rules[i].subject, subject, 0) == 0))
			return 1;
	return 0;
}

/* A finding (evidence stolen), unless --ignore or --allow leaves it out;
 * the returned object (borrowed) may take more keys, or is NULL. */
static json_t *add(struct room *r, const char *check, enum sev s,
    const char *subject, json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static json_t *
add(struct room *r, const char *check, enum sev s, const char *subject,
    json_t *evidence, const char *fmt, ...)
{
	va_list ap, aq;
	char *detail;
	json_t *f;
	int n;

	if (ignored(r->o, check, subject)) {
		json_decref(evidence);
		return NULL;
	}
	/* Whole, never cut: a cut in a UTF-8 sequence would make the
	 * finding unprintable, and a hostile name could hide it. */
	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	detail = mx_xmalloc(n < 0 ? 1 : (size_t)n + 1);
	if (n < 0 || vsnprintf(detail, (size_t)n + 1, fmt, ap) < 0)
		detail[0] = '\0';
	va_end(ap);
	f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "room_id", r->id, "check",
	    check, "severity", sev_names[s], "subject", subject, "detail",
	    detail, "evidence", evidence ? evidence : json_array());
	free(detail);
	if (f == NULL) /* out of memory: counted, never hidden */
		f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "room_id", r->id,
		    "check", check, "severity", sev_names[s], "subject",
		    subject, "detail", "(cannot be encoded)", "evidence");
	r->n[s]++;
	json_array_append_new(r->found, f);
	return f;
}

/* The first pattern user matches, or NULL. */
static const struct pattern *
match(const struct opt *o, const char *user)
{
	size_t i;

	for (i = 0; i < o->npat; i++)
		if (regexec(&o->pat[i].re, user, 0, NULL, 0) == 0)
			return &o->pat[i];
	return NULL;
}

/* --- checks --------------------------------------------------------------- */

/* 1: m.room.encryption (spec: "End-to-End Encryption"): any such state
 * means encrypted, whatever its content. */
static void
check_encryption(struct room *r)
{
	const json_t *ev = event(r, "m.room.encryption", "");
	const json_t *c = json_object_get(ev, "content");
	const char *alg = mx_json_str(c, "algorithm");

	r->encrypted = ev != NULL;
	if (ev == NULL) {
		add(r, "encryption", r->o->require_enc ? S_HIGH : S_WARN,
		    "m.room.encryption", NULL,
		    "the room is not end-to-end encrypted: the servers of "
		    "its members read every message");
		return;
	}
	if (alg == NULL || strcmp(alg, MEGOLM) != 0)
		add(r, "encryption", S_HIGH, "m.room.encryption", refs1(ev),
		    "algorithm '%s' is not " MEGOLM, alg ? alg : "(none)");
	if (int_of(c, "rotation_period_ms", 0) > WEEK_MS ||
	    int_of(c, "rotation_period_msgs", 0) > 100)
		add(r, "encryption", S_INFO, "rotation", refs1(ev),
		    "room keys rotate after %lld ms or %lld messages, more "
		    "than a week or 100 messages",
		    int_of(c, "rotation_period_ms", WEEK_MS),
		    int_of(c, "rotation_period_msgs", 100));
}

/* 2: m.room.history_visibility. */
static void
check_history(struct room *r)
{
	const json_t *ev = event(r, "m.room.history_visibility", "");
	const char *hv =
	    mx_json_str(json_object_get(ev, "content"), "history_visibility");

	if (hv == NULL)
		return;
	if (strcmp(hv, "world_readable") == 0)
		add(r, "history", S_HIGH, hv, refs1(ev),
		    "anyone, member or not, can read the room's history");
	else if (strcmp(hv, "shared") == 0 && r->encrypted)
		add(r, "history", S_INFO, hv, refs1(ev),
		    "members who join later can be sent the keys of earlier "
		    "messages");
}

/* 3: m.room.join_rules and m.room.guest_access. */
static void
check_join(struct room *r)
{
	const json_t *ev = event(r, "m.room.join_rules", "");
	const json_t *c = json_object_get(ev, "content"), *allow, *a;
	const char *jr = mx_json_str(c, "join_rule"), *id;
	struct mx_buf b = { 0 };
	size_t i;

	if (jr != NULL && strcmp(jr, "public") == 0)
		add(r, "join", S_WARN, jr, refs1(ev), "anyone can join");
	else if (jr != NULL && strcmp(jr, "knock") == 0)
		add(r, "join", S_INFO, jr, refs1(ev),
		    "anyone can ask to join");
	else if (jr != NULL &&
	    (strcmp(jr, "restricted") == 0 ||
		strcmp(jr, "knock_restricted") == 0)) {
		allow = json_object_get(c, "allow");
		json_array_foreach(allow, i, a)
			if ((id = mx_json_str(a, "room_id")) != NULL)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "", id);
		add(r, "join", S_INFO, jr, refs1(ev),
		    "the members of these rooms can join: %s",
		    b.len ? b.p : "(none)");
		mx_buf_release(&b);
	}
	ev = event(r, "m.room.guest_access", "");
	id = mx_json_str(json_object_get(ev, "content"), "guest_access");
	if (id != NULL && strcmp(id, "can_join") == 0)
		add(r, "join", S_WARN, "guest_access", refs1(ev),
		    "guests (accounts without registration) can join");
}

static int
allowed_server(const json_t *globs, const char *server)
{
	const json_t *g;
	size_t i;

	json_array_foreach(globs, i, g)
		if (fnmatch(json_string_value(g), server, 0) == 0)
			return 1;
	return 0;
}

/* Count user (joined or invited) under its server in srv
 * {server: {"join": n, "invite": n, "evidence": [...]}}. */
static void
count_server(json_t *srv, const char *server, const char *kind,
    const json_t *ev)
{
	json_t *s = json_object_get(srv, server);

	if (s == NULL) {
		s = json_pack("{s:i,s:i,s:i,s:[]}", "join", 0, "invite", 0,
		    "bridge", 0, "evidence");
		json_object_set_new(srv, server, s);
	}
	json_object_set_new(s, kind,
	    json_integer(json_integer_value(json_object_get(s, kind)) + 1));
	json_array_append_new(json_object_get(s, "evidence"), ref(ev));
}

/* 4: the servers of the joined and invited members and bridge bots;
 * m.federate; a server ACL allowing every server. */
static void
check_servers(struct room *r, const json_t *globs)
{
	json_t *srv = json_object(), *s;
	const json_t *ev, *c, *a;
	const char *user, *m, *server, *st;
	void *tmp;
	size_t i;

	json_object_foreach_safe(json_object_get(r->idx, "m.room.member"), tmp,
	    user, ev)
	{
		m = membership(r, user);
		if (m != NULL && (server = server_of(user)) != NULL &&
		    (strcmp(m, "join") == 0 || strcmp(m, "invite") == 0))
			count_server(srv, server, m, ev);
	}
	json_object_foreach_safe(r->bots, tmp, user, ev)
	{
		if (!is_in(r, user, 1) && (server = server_of(user)) != NULL)
			count_server(srv, server, "bridge",
			    json_object_get(ev, "event"));
	}
	json_object_foreach_safe(srv, tmp, server, s)
	{
		if (json_integer_value(json_object_get(s, "join")) > 0 ||
		    json_integer_value(json_object_get(s, "invite")) > 0)
			add(r, "servers", S_INFO, server, NULL,
			    "%lld joined and %lld invited member(s)",
			    (long long)json_integer_value(
				json_object_get(s, "join")),
			    (long long)json_integer_value(
				json_object_get(s, "invite")));
		if (json_array_size(globs) > 0 &&
		    !allowed_server(globs, server))
			add(r, "servers", S_HIGH, server,
			    json_incref(json_object_get(s, "evidence")),
			    "outside --servers: %lld joined, %lld invited, "
			    "%lld bridge bot(s) not members",
			    (long long)json_integer_value(
				json_object_get(s, "join")),
			    (long long)json_integer_value(
				json_object_get(s, "invite")),
			    (long long)json_integer_value(
				json_object_get(s, "bridge")));
	}
	json_decref(srv);
	ev = event(r, "m.room.create", "");
	c = json_object_get(ev, "content");
	if (json_is_false(json_object_get(c, "m.federate")))
		add(r, "servers", S_INFO, "m.federate", refs1(ev),
		    "the room stays on its creator's server");
	ev = event(r, "m.room.server_acl", "");
	json_array_foreach(json_object_get(json_object_get(ev, "content"),
			       "allow"),
	    i, a)
		if ((st = json_string_value(a)) != NULL &&
		    strcmp(st, "*") == 0) {
			add(r, "servers", S_INFO, "m.room.server_acl",
			    refs1(ev), "the server ACL allows every server");
			break;
		}
}

/* The state whose change lets one more reader in. */
static const char *const sensitive[] = { "m.room.encryption",
	"m.room.history_visibility", "m.room.join_rules",
	"m.room.power_levels", "m.room.server_acl", "m.bridge",
	"uk.half-shot.bridge", "im.vector.modular.widgets", "m.widget", NULL };

/* Room versions from 12 give the creators unlimited power (spec: room
 * version 12, "Power levels"). */
static int
creators_unlimited(const struct room *r)
{
	const char *v =
	    mx_json_str(json_object_get(event(r, "m.room.create", ""),
			    "content"),
		"room_version");
	char *end;
	long n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	return *end == '\0' && end != v && n >= 12;
}

/* The creators with unlimited power (a new array, empty before room
 * version 12): the create event's sender and additional_creators. */
static json_t *
creators(const struct room *r)
{
	const json_t *ev = event(r, "m.room.create", ""), *a;
	const char *s = mx_json_str(ev, "sender");
	json_t *out = json_array();
	size_t i;

	if (!creators_unlimited(r))
		return out;
	if (s != NULL)
		json_array_append_new(out, json_string(s));
	json_array_foreach(json_object_get(json_object_get(ev, "content"),
			       "additional_creators"),
	    i, a)
		if (json_is_string(a) &&
		    (s == NULL || strcmp(json_string_value(a), s) != 0))
			json_array_append(out, (json_t *)a);
	return out;
}

/* 5: who can invite, who can change what lets readers in, bots with
 * power (spec: m.room.power_levels; no such event: state_default 0). */
static void
check_power(struct room *r)
{
	const json_t *ev = event(r, "m.room.power_levels", "");
	const json_t *pl = json_object_get(ev, "content"), *users, *lv;
	const json_t *evs = json_object_get(pl, "events");
	long long ud = int_of(pl, "users_default", 0), need;
	long long sd = int_of(pl, "state_default", ev ? 50 : 0);
	const struct pattern *p;
	const char *user;
	struct mx_buf b = { 0 };
	json_t *cr;
	size_t i;

	users = json_object_get(pl, "users");
	if (int_of(pl, "invite", 0) <= ud)
		add(r, "power", S_WARN, "invite", refs1(ev),
		    "every member can invite anyone, a bot or bridge too");
	for (i = 0; sensitive[i] != NULL; i++) {
		need = int_of(evs, sensitive[i], sd);
		if (need <= ud) {
			add(r, "power", S_WARN, sensitive[i], refs1(ev),
			    "every member can change %s", sensitive[i]);
			continue;
		}
		json_object_foreach((json_t *)users, user, lv)
			if (json_is_integer(lv) &&
			    json_integer_value(lv) >= need)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "",
				    user);
		add(r, "power", S_INFO, sensitive[i], refs1(ev),
		    "power %lld changes it: %s", need, b.len ? b.p : "nobody");
		mx_buf_reset(&b);
	}
	json_object_foreach((json_t *)users, user, lv) {
		if (!json_is_integer(lv) || json_integer_value(lv) < 50)
			continue;
		p = match(r->o, user);
		if (json_object_get(r->bots, user) != NULL ||
		    (p != NULL && p->bot))
			add(r, "power", S_WARN, user, refs1(ev),
			    "the %s %s has power %lld",
			    json_object_get(r->bots, user) ? "bridge bot" :
							     "bot",
			    user, (long long)json_integer_value(lv));
	}
	cr = creators(r);
	json_array_foreach(cr, i, lv)
		add(r, "power", S_INFO, json_string_value(lv),
		    refs1(event(r, "m.room.create", "")),
		    "a creator: unlimited power in room version 12+");
	json_decref(cr);
	mx_buf_release(&b);
}

/* The id of a bridge event's section ("protocol", "network", ...). */
static const char *
section_id(const json_t *c, const char *k)
{
	return mx_json_str(json_object_get(c, k), "id");
}

/* One bridge event (MSC2346; the two types, one state key: one bridge). */
static void
one_bridge(struct room *r, const char *type, const char *key, const json_t *ev,
    json_t *seen)
{
	const json_t *c = content(r, type, key);
	const char *bot, *m, *status, *st;
	json_t *f, *prev;
	enum sev s;

	if (c == NULL ||
	    ((st = mx_json_str(c, "status")) != NULL &&
		strcmp(st, "disabled") == 0))
		return;
	if ((prev = json_object_get(seen, key)) != NULL) {
		json_array_append_new(json_object_get(prev, "evidence"),
		    ref(ev));
		return;
	}
	/* The sender stands for a missing bridgebot, as Element does. */
	bot = mx_json_str(c, "bridgebot");
	if (bot == NULL || server_of(bot) == NULL)
		bot = mx_json_str(ev, "sender");
	if (bot == NULL)
		return;
	m = membership(r, bot);
	status = m != NULL && strcmp(m, "join") == 0 ? "confirmed" :
	    m != NULL && (strcmp(m, "leave") == 0 || strcmp(m, "ban") == 0) ?
						       "stale" :
						       "claimed";
	s = status[0] == 'c' && status[1] == 'o' ?
	    (r->encrypted ? S_HIGH : S_WARN) :
	    status[0] == 's' ? S_INFO :
			       S_WARN;
	if (status[1] == 'o') {
		r->bridged = 1;
		json_object_set_new(r->bots, bot,
		    json_pack("{s:s,s:O}", "status", status, "event", ev));
	} else if (json_object_get(r->bots, bot) == NULL)
		json_object_set_new(r->bots, bot,
		    json_pack("{s:s,s:O}", "status", status, "event", ev));
	f = add(r, "bridge", s, bot, refs1(ev),
	    "%s bridge%s%s%s%s via %s: %s%s",
	    section_id(c, "protocol") ? section_id(c, "protocol") : "unnamed",
	    section_id(c, "network") ? " to " : "",
	    section_id(c, "network") ? section_id(c, "network") : "",
	    section_id(c, "channel") ? " channel " : "",
	    section_id(c, "channel") ? section_id(c, "channel") : "", bot,
	    status,
	    status[1] == 'o' && r->encrypted ?
		", the room's messages leave end-to-end encryption there" :
		status[1] == 'l' ? ", its bot never joined: anyone with power "
				   "can write this event" :
		status[1] == 't' ? ", its bot left" :
				   "");
	if (f == NULL)
		return;
	json_object_set_new(f, "bridge",
	    json_pack("{s:s?,s:s?,s:s?,s:s,s:s}", "protocol",
		section_id(c, "protocol"), "network", section_id(c, "network"),
		"channel", section_id(c, "channel"), "bot", bot, "status",
		status));
	json_object_set(seen, key, f);
}

/* 6: m.bridge and uk.half-shot.bridge (MSC2346: both are in use). */
static void
check_bridges(struct room *r)
{
	static const char *const types[] = { "m.bridge",
		"uk.half-shot.bridge" };
	json_t *seen = json_object();
	const json_t *ev;
	const char *key;
	size_t t;

	for (t = 0; t < 2; t++)
		json_object_foreach((json_t *)json_object_get(r->idx,
					types[t]),
		    key, ev)
			one_bridge(r, types[t], key, ev, seen);
	json_decref(seen);
}

/* 7: members who look like bridge bots or puppets, without a bridge
 * event that explains them; service members (io.element.
 * functional_members, MSC4171). */
static void
check_bridge_like(struct room *r)
{
	json_t *puppets = json_object(), *g;
	const json_t *ev, *svc, *v;
	const struct pattern *p;
	const char *user, *name;
	enum sev s = r->encrypted ? S_HIGH : S_WARN;
	size_t i;

	json_object_foreach((json_t *)json_object_get(r->idx, "m.room.member"),
	    user, ev) {
		if (!is_in(r, user, 1) || strcmp(user, r->me) == 0 ||
		    json_object_get(r->bots, user) != NULL ||
		    (p = match(r->o, user)) == NULL)
			continue;
		if (p->bot) {
			add(r, "bridge-like", s, user, refs1(ev),
			    "%s member looks like a %s bot, and no bridge "
			    "event names it",
			    is_in(r, user, 0) ? "a joined" : "an invited",
			    p->name);
			continue;
		}
		if (r->bridged)
			continue;
		if ((g = json_object_get(puppets, p->name)) == NULL) {
			g = json_array();
			json_object_set_new(puppets, p->name, g);
		}
		json_array_append_new(g, ref(ev));
	}
	json_object_foreach(puppets, name, g)
		add(r, "bridge-like", s, name, json_incref(g),
		    "%zu member(s) look like %s puppets, and no bridge is "
		    "confirmed",
		    json_array_size(g), name);
	json_decref(puppets);
	ev = event(r, "io.element.functional_members", "");
	svc =
	    json_object_get(json_object_get(ev, "content"), "service_members");
	json_array_foreach(svc, i, v)
		if ((user = json_string_value(v)) != NULL &&
		    is_in(r, user, 1) &&
		    json_object_get(r->bots, user) == NULL &&
		    (match(r->o, user) == NULL || !match(r->o, user)->bot))
			add(r, "bridge-like", s, user, refs1(ev),
			    "a service member (a bot), and no bridge event "
			    "names it");
}

/* 9: matrix-appservice-irc's connection state: blocked means the bridge
 * stopped relaying, as not every member is on IRC. */
static void
check_irc(struct room *r)
{
	const json_t *ev;
	const char *key;

	json_object_foreach((json_t *)json_object_get(r->idx,
				"org.matrix.appservice-irc.connection"),
	    key, ev) {
		if (json_is_true(
			json_object_get(json_object_get(ev, "content"),
			    "blocked")))
			add(r, "irc", S_WARN, key, refs1(ev),
			    "the IRC bridge blocks this channel: not every "
			    "member is on IRC");
		else if (content(r, "org.matrix.appservice-irc.connection",
			     key) != NULL)
			add(r, "irc", S_INFO, key, refs1(ev),
			    "an IRC bridge connection");
	}
	if ((ev = event(r, "org.matrix.appservice-irc.config", "")) != NULL)
		add(r, "irc", S_INFO, "org.matrix.appservice-irc.config",
		    refs1(ev), "an IRC bridge configures this room");
}

/* The host of an http(s) URL, in buf. */
static const char *
url_host(const char *url, char *buf, size_t n)
{
	const char *s = strstr(url, "://"), *at;
	size_t len;

	if (s == NULL)
		return "(no host)";
	s += 3;
	len = strcspn(s, "/?#");
	at = memchr(s, '@', len);
	if (at != NULL) {
		len -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (len == 0 || len >= n)
		return "(no host)";
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* 10: widgets, pending third-party invites, a policy server. */
static void
check_integrations(struct room *r)
{
	static const char *const wtypes[] = { "im.vector.modular.widgets",
		"m.widget", NULL };
	static const char *const ptypes[] = { "m.room.policy",
		"org.matrix.msc4284.policy", NULL };
	const json_t *ev, *c;
	const char *key, *url, *v;
	char host[256];
	size_t t;

	for (t = 0; wtypes[t] != NULL; t++)
		json_object_foreach((json_t *)json_object_get(r->idx,
					wtypes[t]),
		    key, ev) {
			if ((c = content(r, wtypes[t], key)) == NULL)
				continue;
			url = mx_json_str(c, "url");
			add(r, "integrations", S_WARN,
			    url_host(url ? url : "", host, sizeof(host)),
			    refs1(ev), "widget '%s' (%s) loads %s",
			    mx_json_str(c, "name") ? mx_json_str(c, "name") :
						     key,
			    mx_json_str(c, "type") ? mx_json_str(c, "type") :
						     "no type",
			    url ? url : "no URL");
		}
	json_object_foreach((json_t *)json_object_get(r->idx,
				"m.room.third_party_invite"),
	    key, ev) {
		if ((c = content(r, "m.room.third_party_invite", key)) == NULL)
			continue;
		v = mx_json_str(c, "display_name");
		add(r, "integrations", S_WARN, v ? v : key, refs1(ev),
		    "a pending third-party invite: whoever claims it joins");
	}
	for (t = 0; ptypes[t] != NULL; t++)
		if ((c = content(r, ptypes[t], "")) != NULL) {
			v = mx_json_str(c, "via");
			add(r, "integrations", S_WARN, v ? v : ptypes[t],
			    refs1(event(r, ptypes[t], "")),
			    "a policy server sees every event of the room");
		}
}

/* Is every finding of check left out (--ignore CHECK, no subject)? */
static int
ignored_all(const struct opt *o, const char *check)
{
	size_t i;

	for (i = 0; i < o->nrules; i++)
		if (strcmp(o->rules[i].check, check) == 0 &&
		    o->rules[i].subject == NULL)
			return 1;
	return 0;
}

/* Append device d's ID to the list k of user's entry in by
 * ({user: {k: [device IDs]}}). */
static void
note_device(json_t *by, const struct mx_device *d, const char *k)
{
	json_t *u = json_object_get(by, d->user_id), *a;

	if (u == NULL) {
		u = json_object();
		json_object_set_new(by, d->user_id, u);
	}
	if ((a = json_object_get(u, k)) == NULL) {
		a = json_array();
		json_object_set_new(u, k, a);
	}
	json_array_append_new(a, json_string(d->device_id));
}

/* The device IDs of list k, comma-separated (a new string). */
static char *
ids(const json_t *u, const char *k)
{
	struct mx_buf b = MX_BUF_INIT;
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(u, k), i, v)
		mx_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(v));
	mx_buf_adds(&b, "");
	return mx_buf_detach(&b);
}

/* Evidence: user's member event. */
static json_t *
member_ref(const struct room *r, const char *user)
{
	return refs1(event(r, "m.room.member", user));
}

/* One user's device findings, from by[user] (see note_device). */
static void
user_devices(struct room *r, const char *user, const json_t *u,
    const struct mx_devlist *l)
{
	const struct mx_device *d = NULL;
	char *s;
	size_t i;

	for (i = 0; i < l->n && d == NULL; i++)
		if (strcmp(l->v[i].user_id, user) == 0)
			d = &l->v[i];
	if (json_object_get(u, "changed") != NULL && d != NULL)
		add(r, "devices", S_HIGH, user, member_ref(r, user),
		    "changed their cross-signing identity from %s to %s; "
		    "check with them, then run mx-keys accept %s",
		    d->master[0] ? d->master : "none",
		    d->master_seen[0] ? d->master_seen : "none", user);
	if (json_object_get(u, "bad") != NULL) {
		add(r, "devices", S_HIGH, user, member_ref(r, user),
		    "device(s) whose keys changed or fail their own "
		    "signature: %s",
		    s = ids(u, "bad"));
		free(s);
	}
	if (json_object_get(u, "dehydrated") != NULL) {
		add(r, "devices", S_WARN, user, member_ref(r, user),
		    "dehydrated device(s), which receive room keys while "
		    "their owner is away: %s",
		    s = ids(u, "dehydrated"));
		free(s);
	}
	if (json_object_get(u, "unverified") == NULL)
		return;
	s = ids(u, "unverified");
	if (d == NULL || d->master[0] == '\0')
		add(r, "devices", S_WARN, user, member_ref(r, user),
		    "no cross-signing: nothing vouches for the device(s) %s",
		    s);
	else
		add(r, "devices", S_WARN, user, member_ref(r, user),
		    "device(s) neither cross-signed by a master key you "
		    "verified nor verified by you: %s",
		    s);
	free(s);
}

/* 11: the members' devices, with mx-keys's pinning (spec: "Cross-signing";
 * one /keys/query for every joined and invited member). */
static int
check_devices(struct mx_ctx *c, struct room *r, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	json_t *raw = NULL, *by = json_object();
	const json_t *ev, *u;
	const struct mx_device *d;
	const char **uv = NULL, *user;
	size_t i, n = 0;
	int rc = 0;

	json_object_foreach((json_t *)json_object_get(r->idx, "m.room.member"),
	    user, ev)
		if (is_in(r, user, 1) && server_of(user) != NULL) {
			uv = mx_xrealloc(uv, (n + 1) * sizeof(*uv));
			uv[n++] = user;
		}
	if (n > 0 && !ignored_all(r->o, "devices") &&
	    (rc = mx_devices_audit(&c->api, c->store, uv, n, &l, &raw, e)) ==
		0)
		for (i = 0; i < l.n; i++) {
			d = &l.v[i];
			if (strcmp(d->user_id, r->me) == 0 &&
			    c->sess.device_id != NULL &&
			    strcmp(d->device_id, c->sess.device_id) == 0)
				continue;
			if (d->identity_changed)
				note_device(by, d, "changed");
			if (d->forged || d->trust == MX_TRUST_MISMATCH)
				note_device(by, d, "bad");
			else if (d->trust != MX_TRUST_VERIFIED &&
			    d->trust != MX_TRUST_CROSS_SIGNED)
				note_device(by, d, "unverified");
			/* MSC3814: a device the server holds for its owner. */
			if (json_is_true(json_object_get(
				json_object_get(
				    json_object_get(json_object_get(raw,
							"device_keys"),
					d->user_id),
				    d->device_id),
				"dehydrated")))
				note_device(by, d, "dehydrated");
		}
	if (rc != 0)
		mx_err_prefix(e, "cannot query the devices of '%s'", r->id);
	json_object_foreach(by, user, u)
		user_devices(r, user, u, &l);
	mx_devlist_release(&l);
	json_decref(raw);
	json_decref(by);
	free(uv);
	return rc;
}

/* Append event o's reference to the list of entry k of by, made with
 * the members of init (stolen) when new. */
static void
note_event(json_t *by, const char *k, json_t *init, const json_t *o)
{
	json_t *g = json_object_get(by, k);

	if (g == NULL) {
		g = init;
		json_object_set_new(g, "events", json_array());
		json_object_set_new(by, k, g);
	} else
		json_decref(init);
	json_array_append_new(json_object_get(g, "events"), ref(o));
}

/* One event of the timeline, o as mx-sync prints it (decrypted when the
 * profile holds its key): noted in dp by sender when its content says a
 * bridge sent it through double puppeting, in other by sender and
 * session owner when its Megolm session is another user's. */
static void
behalf_event(const json_t *o, json_t *dp, json_t *other)
{
	const char *sender = mx_json_str(o, "sender"), *owner, *err;
	const json_t *src =
	    json_object_get(json_object_get(o, "content"), DP_SOURCE);
	const json_t *mx = json_object_get(o, "mx");
	char *k;

	if (sender == NULL || mx_json_str(o, "event_id") == NULL)
		return;
	if (src != NULL)
		note_event(dp, sender,
		    json_pack("{s:s}", "source",
			json_is_string(src) ? json_string_value(src) :
					      "(unnamed)"),
		    o);
	/* The owner as mx recorded it when the room key came over Olm (lib/
	 * decrypt.c); the envelope's sender_key and device_id are the
	 * sender's claims and prove nothing. */
	err = mx_json_str(mx, "error");
	owner = mx_json_str(mx, "session_sender");
	if (err == NULL || owner == NULL ||
	    strcmp(err, "session belongs to another sender") != 0 ||
	    strcmp(owner, sender) == 0)
		return;
	k = mx_xasprintf("%s\n%s", sender, owner);
	note_event(other, k,
	    json_pack("{s:s,s:s,s:s?}", "sender", sender, "owner", owner,
		"key", mx_json_str(mx, "session_sender_key")),
	    o);
	free(k);
}

/* Is user the bot of a confirmed bridge of the room? */
static int
confirmed_bot(const struct room *r, const char *user)
{
	const char *st = mx_json_str(json_object_get(r->bots, user), "status");

	return st != NULL && strcmp(st, "confirmed") == 0;
}

/* The same server part, for two user IDs (an appservice's bot and its
 * puppets live on the bridge's homeserver). */
static int
same_server(const char *a, const char *b)
{
	const char *sa = server_of(a), *sb = server_of(b);

	return sa != NULL && sb != NULL && strcmp(sa, sb) == 0;
}

/* Check 8's findings from the notes of behalf_event. */
static void
behalf_report(struct room *r, const json_t *dp, const json_t *other)
{
	const json_t *g;
	const char *k, *sender, *owner, *key;
	int bridge;

	json_object_foreach((json_t *)dp, k, g)
		add(r, "behalf", S_WARN, k,
		    json_incref(json_object_get(g, "events")),
		    "%zu of the last %d events sent by the bridge '%s' as "
		    "%s (" DP_SOURCE "): the bridge holds a login to the "
		    "account and writes as its owner",
		    json_array_size(json_object_get(g, "events")), PAGE,
		    mx_json_str(g, "source"), k);
	json_object_foreach((json_t *)other, k, g) {
		sender = mx_json_str(g, "sender");
		owner = mx_json_str(g, "owner");
		key = mx_json_str(g, "key") ? mx_json_str(g, "key") : "?";
		bridge = confirmed_bot(r, owner) && same_server(owner, sender);
		add(r, "behalf", bridge ? S_WARN : S_HIGH, sender,
		    json_incref(json_object_get(g, "events")),
		    bridge ? "%zu of the last %d events of %s are encrypted "
			     "with a room key of the bridge bot %s (device "
			     "key %s): the bridge writes for its puppet" :
			     "%zu of the last %d events of %s are encrypted "
			     "with a room key of %s (device key %s), who is "
			     "no confirmed bridge's bot: another user's "
			     "ciphertext sent again, or an undeclared bridge",
		    json_array_size(json_object_get(g, "events")), PAGE,
		    sender, owner, key);
	}
}

/* 8: messages sent on others' behalf, in the room's last PAGE events
 * (one GET /rooms/{roomId}/messages, spec "Getting events for a room"),
 * decrypted as mx-sync does with the room keys the profile holds (x;
 * NULL: none, only clear events are read). */
static int
check_behalf(struct mx_ctx *c, struct mx_e2ee *x, struct room *r,
    struct mx_err *e)
{
	json_t *resp = NULL, *dp, *other, *o;
	const json_t *ev;
	size_t i;
	int rc = 0;

	if (ignored_all(r->o, "behalf"))
		return 0;
	if (mx_api_messages(&c->api, r->id, NULL, NULL, 'b', PAGE, NULL, &resp,
		e) != 0)
		return mx_err_prefix(e, "cannot read the messages of '%s'",
		    r->id);
	dp = json_object();
	other = json_object();
	json_array_foreach(json_object_get(resp, "chunk"), i, ev) {
		if (!json_is_object(ev))
			continue;
		if (mx_e2ee_event(x, r->id, ev, 0, &o, e) != 0) {
			rc = mx_err_prefix(e, "cannot decrypt in '%s'", r->id);
			break;
		}
		behalf_event(o, dp, other);
		json_decref(o);
	}
	if (rc == 0)
		behalf_report(r, dp, other);
	json_decref(dp);
	json_decref(other);
	json_decref(resp);
	return rc;
}

/* 12: m.room.tombstone. */
static void
check_upgrade(struct room *r)
{
	const json_t *ev = event(r, "m.room.tombstone", "");
	const char *to =
	    mx_json_str(json_object_get(ev, "content"), "replacement_room");

	if (to != NULL)
		add(r, "upgrade", S_INFO, to, refs1(ev),
		    "the room was upgraded: the conversation goes on in %s",
		    to);
}

/* --- output --------------------------------------------------------------- */

static int
colour_on(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
}

static const char *
verdict(const struct room *r)
{
	int s;

	for (s = S_HIGH; s >= r->o->fail_on; s--)
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
print_table(const struct room *r)
{
	static const char *const on[] = { "", "\033[33m", "\033[31m" };
	int colour = colour_on(), fail = strcmp(verdict(r), "fail") == 0;
	const json_t *f;
	size_t i, s;

	printf("%s%s%s %s: %zu high, %zu warn, %zu info\n",
	    colour ? (fail ? on[S_HIGH] : "\033[32m") : "",
	    fail ? "FAIL" : "PASS", colour ? "\033[0m" : "", r->id,
	    r->n[S_HIGH], r->n[S_WARN], r->n[S_INFO]);
	/* The worst first, as a warning should read. */
	for (s = 3; s-- > 0;)
		json_array_foreach(r->found, i, f) {
			if (strcmp(sev_names[s], mx_json_str(f, "severity")) !=
			    0)
				continue;
			printf("  %s%-4s%s  %-12s ", colour ? on[s] : "",
			    sev_names[s], colour && s > 0 ? "\033[0m" : "",
			    mx_json_str(f, "check"));
			put_safe(mx_json_str(f, "subject"));
			fputs(": ", stdout);
			put_safe(mx_json_str(f, "detail"));
			putchar('\n');
		}
}

static int
print_room(const struct room *r, struct mx_err *e)
{
	const json_t *f;
	json_t *sum;
	size_t i;
	int rc = 0;

	if (r->o->table) {
		print_table(r);
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
	    verdict(r), "high", (json_int_t)r->n[S_HIGH], "warn",
	    (json_int_t)r->n[S_WARN], "info", (json_int_t)r->n[S_INFO]);
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
	const json_t *globs;
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
print_new(json_t *printed, const struct room *r, struct mx_err *e)
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
mark_printed(json_t *printed, const struct room *r)
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
follow(struct run *u, const struct room *r, struct mx_err *e)
{
	const char *to =
	    mx_json_str(json_object_get(event(r, "m.room.tombstone", ""),
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
note_bots(json_t *bots, const struct room *r)
{
	const char *user;
	json_t *v;

	json_object_foreach(r->bots, user, v)
		if (confirmed_bot(r, user))
			json_object_set_new(bots, user, json_true());
}

/* Audit one room (a room argument, or an ID); 1 when it fails
 * --fail-on.  A room audited before prints only its new findings. */
static int
audit(struct run *u, const char *arg, struct mx_err *e)
{
	struct room r = { 0 };
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
	r.id = id;
	r.me = u->c->sess.user_id;
	r.o = u->o;
	r.idx = index_state(state);
	r.bots = json_object();
	r.found = json_array();
	check_encryption(&r);
	check_history(&r);
	check_join(&r);
	check_bridges(&r);
	check_servers(&r, u->globs);
	check_power(&r);
	check_bridge_like(&r);
	check_irc(&r);
	check_integrations(&r);
	if (check_devices(u->c, &r, e) == 0 &&
	    check_behalf(u->c, u->x, &r, e) == 0) {
		check_upgrade(&r);
		if ((printed = json_object_get(u->rooms, id)) != NULL)
			rc = print_new(printed, &r, e);
		else {
			printed = json_object();
			json_object_set_new(u->rooms, id, printed);
			mark_printed(printed, &r);
			rc = print_room(&r, e);
		}
		if (rc == 0)
			rc = follow(u, &r, e);
		if (rc == 0 && u->o->probe)
			note_bots(u->probe, &r);
		if (rc == 0)
			rc = strcmp(verdict(&r), "fail") == 0;
	}
	json_decref(r.idx);
	json_decref(r.bots);
	json_decref(r.found);
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

/* --- --probe ------------------------------------------------------------- */

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
probe_send(struct run *u, const char *room, const char *cmd, char **eid,
    struct mx_err *e)
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
probe_print(const struct opt *o, const char *bot, const char *room, int ok,
    long long ms, const char *why, struct mx_err *e)
{
	json_t *j = json_pack("{s:s,s:s?,s:s,s:b}", "probe", bot, "room_id",
	    room, "command", o->probe_cmd, "answered", ok);
	int rc = 0;

	if (ok)
		json_object_set_new(j, "latency_ms", json_integer(ms));
	else
		json_object_set_new(j, "detail", json_string(why));
	if (!o->table)
		rc = mx_cli_print_json(j, e);
	else {
		printf("%s probe ", ok ? "PASS" : "FAIL");
		put_safe(bot);
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
probe_one(struct run *u, const char *bot, struct mx_err *e)
{
	long long wait = (long long)u->o->probe_timeout * 1000, t0 = 0;
	char *room = NULL, *since = NULL, *eid = NULL, why[64];
	int rc;

	if (mx_room_resolve(u->c, bot, MX_ROOM_CREATE_DM, &room, e) != 0) {
		mx_err_prefix(e, "cannot probe '%s'", bot);
		return -1;
	}
	rc = wait_joined(u->c, room, bot, mx_time_ms() + wait, e);
	snprintf(why, sizeof(why), "%s in %d s",
	    rc == 0 ? "did not join the direct room" : "no answer",
	    u->o->probe_timeout);
	if (rc > 0 && (rc = sync_now(u->c, room, &since, e)) == 0 &&
	    (rc = probe_send(u, room, u->o->probe_cmd, &eid, e)) == 0) {
		t0 = mx_time_ms();
		rc = wait_answer(u->c, room, bot, since, eid, t0 + wait, e);
	}
	if (rc >= 0 &&
	    probe_print(u->o, bot, room, rc, mx_time_ms() - t0, why, e) != 0)
		rc = -1;
	free(room);
	free(since);
	free(eid);
	return rc;
}

/* --probe: each confirmed bridge bot of the audited rooms, once; 1 when
 * one did not answer. */
static int
probe(struct run *u, struct mx_err *e)
{
	const char *bot;
	json_t *v;
	int rc, failed = 0;

	json_object_foreach(u->probe, bot, v) {
		if ((rc = probe_one(u, bot, e)) < 0)
			return -1;
		failed |= rc == 0;
	}
	return failed;
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 0 };
	struct mx_err e;
	json_t *globs = json_array(), *v;
	struct run u = { 0 };
	unsigned flags = MX_CTX_SESSION;
	size_t k;
	int i, r, rc = MX_OK, failed = 0;

	mx_cli_init();
	mx_err_clear(&e);
	o.fail_on = S_HIGH;
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
	if (load_files(&o, &e) != 0 || load_servers(&o, globs, &e) != 0 ||
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
	    (!ignored_all(&o, "behalf") || o.probe) &&
	    mx_e2ee_open(&u.x, &c, &e) != 0) {
		rc = mx_cli_fail(cli.prog, &e);
		goto out;
	}
	u.globs = globs;
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
		mx_err_clear(&e);
		if ((r = probe(&u, &e)) < 0)
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
	json_decref(globs);
	opt_release(&o);
	mx_e2ee_close(u.x);
	mx_ctx_close(&c);
	return rc;
}
