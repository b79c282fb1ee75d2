/*
 * audit: the checks of mx-bridge-check(1) as pure functions over a room's
 * state, and over the devices and events the program fetched (audit.h).
 */
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "devices.h"
#include "json.h"
#include "util.h"
#include "banned.h"

#define MEGOLM "m.megolm.v1.aes-sha2"
#define WEEK_MS 604800000LL
#define DP_SOURCE "fi.mau.double_puppet_source"

static const char *const sev_names[] = { "info", "warn", "high" };

/* The checks, by the name findings carry (mx-bridge-check(1), CHECKS). */
static const char *const checks[] = { "encryption", "history", "join",
	"servers", "power", "bridge", "bridge-like", "behalf", "irc",
	"integrations", "devices", "upgrade", NULL };

/* --- rules ---------------------------------------------------------------- */

const char *
mx_audit_sev_name(enum mx_audit_sev s)
{
	return sev_names[s];
}

int
mx_audit_sev_parse(const char *name)
{
	int k;

	for (k = 0; k < 3; k++)
		if (strcmp(name, sev_names[k]) == 0)
			return k;
	return -1;
}

int
mx_audit_check_known(const char *name)
{
	size_t i;

	for (i = 0; checks[i] != NULL; i++)
		if (strcmp(checks[i], name) == 0)
			return 1;
	return 0;
}

int
mx_audit_rules_ignore(struct mx_audit_rules *ru, const char *s)
{
	const char *colon = strchr(s, ':');
	char *check =
	    colon ? mx_xstrndup(s, (size_t)(colon - s)) : mx_xstrdup(s);

	if (!mx_audit_check_known(check)) {
		free(check);
		return -1;
	}
	ru->rules =
	    mx_xrealloc(ru->rules, (ru->nrules + 1) * sizeof(*ru->rules));
	ru->rules[ru->nrules].check = check;
	ru->rules[ru->nrules++].subject =
	    colon && colon[1] != '\0' ? mx_xstrdup(colon + 1) : NULL;
	return 0;
}

void
mx_audit_rules_server(struct mx_audit_rules *ru, const char *glob)
{
	if (ru->servers == NULL)
		ru->servers = json_array();
	json_array_append_new(ru->servers, json_string(glob));
}

int
mx_audit_rules_pattern(struct mx_audit_rules *ru, int bot, const char *name,
    const char *regex)
{
	struct mx_audit_pattern *p;

	ru->pat = mx_xrealloc(ru->pat, (ru->npat + 1) * sizeof(*ru->pat));
	p = &ru->pat[ru->npat];
	if (regcomp(&p->re, regex, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
		return -1;
	p->bot = bot;
	p->name = mx_xstrdup(name);
	ru->npat++;
	return 0;
}

void
mx_audit_rules_release(struct mx_audit_rules *ru)
{
	size_t i;

	for (i = 0; i < ru->nrules; i++) {
		free(ru->rules[i].check);
		free(ru->rules[i].subject);
	}
	for (i = 0; i < ru->npat; i++) {
		regfree(&ru->pat[i].re);
		free(ru->pat[i].name);
	}
	free(ru->rules);
	free(ru->pat);
	json_decref(ru->servers);
	memset(ru, 0, sizeof(*ru));
}

/* --- the room's state ----------------------------------------------------- */

/* The event of type and state_key, or NULL (borrowed). */
const json_t *
mx_audit_event(const struct mx_audit_room *r, const char *type,
    const char *key)
{
	return json_object_get(json_object_get(r->idx, type), key);
}

/* Its content when an object with members, else NULL: an empty content
 * is a removed state (MSC2346, "Removing a bridge"). */
static const json_t *
content(const struct mx_audit_room *r, const char *type, const char *key)
{
	const json_t *c =
	    json_object_get(mx_audit_event(r, type, key), "content");

	return json_is_object(c) && json_object_size(c) > 0 ? c : NULL;
}

static const char *
membership(const struct mx_audit_room *r, const char *user)
{
	return mx_json_str(json_object_get(mx_audit_event(r, "m.room.member",
					       user),
			       "content"),
	    "membership");
}

int
mx_audit_member(const struct mx_audit_room *r, const char *user,
    int invited_too)
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
const char *
mx_audit_server(const char *user)
{
	const char *s = strchr(user, ':');

	return user[0] == '@' && s != NULL && s[1] != '\0' ? s + 1 : NULL;
}

/* Evidence: the event's type, state key and ID. */
json_t *
mx_audit_ref(const json_t *ev)
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
		json_array_append_new(a, mx_audit_ref(ev));
	return a;
}

/* --- findings ------------------------------------------------------------- */

int
mx_audit_ignored(const struct mx_audit_rules *ru, const char *check,
    const char *subject)
{
	size_t i;

	for (i = 0; i < ru->nrules; i++)
		if (strcmp(ru->rules[i].check, check) == 0 &&
		    (ru->rules[i].subject == NULL ||
			fnmatch(ru->rules[i].subject, subject, 0) == 0))
			return 1;
	return 0;
}

/* A finding (evidence stolen), unless the rules leave it out (--ignore,
 * --allow); the returned object (borrowed) may take more keys, or is NULL. */
json_t *
mx_audit_add(struct mx_audit_room *r, const char *check, enum mx_audit_sev s,
    const char *subject, json_t *evidence, const char *fmt, ...)
{
	va_list ap, aq;
	char *detail;
	json_t *f;
	int n;

	if (mx_audit_ignored(r->rules, check, subject)) {
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
static const struct mx_audit_pattern *
match(const struct mx_audit_rules *ru, const char *user)
{
	size_t i;

	for (i = 0; i < ru->npat; i++)
		if (regexec(&ru->pat[i].re, user, 0, NULL, 0) == 0)
			return &ru->pat[i];
	return NULL;
}

/* --- checks --------------------------------------------------------------- */

/* 1: m.room.encryption (spec: "End-to-End Encryption"): any such state
 * means encrypted, whatever its content. */
static void
check_encryption(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.encryption", "");
	const json_t *c = json_object_get(ev, "content");
	const char *alg = mx_json_str(c, "algorithm");

	r->encrypted = ev != NULL;
	if (ev == NULL) {
		mx_audit_add(r, "encryption",
		    r->rules->require_enc ? MX_AUDIT_HIGH : MX_AUDIT_WARN,
		    "m.room.encryption", NULL,
		    "the room is not end-to-end encrypted: the servers of "
		    "its members read every message");
		return;
	}
	if (alg == NULL || strcmp(alg, MEGOLM) != 0)
		mx_audit_add(r, "encryption", MX_AUDIT_HIGH,
		    "m.room.encryption", refs1(ev),
		    "algorithm '%s' is not " MEGOLM, alg ? alg : "(none)");
	if (int_of(c, "rotation_period_ms", 0) > WEEK_MS ||
	    int_of(c, "rotation_period_msgs", 0) > 100)
		mx_audit_add(r, "encryption", MX_AUDIT_INFO, "rotation",
		    refs1(ev),
		    "room keys rotate after %lld ms or %lld messages, more "
		    "than a week or 100 messages",
		    int_of(c, "rotation_period_ms", WEEK_MS),
		    int_of(c, "rotation_period_msgs", 100));
}

/* 2: m.room.history_visibility. */
static void
check_history(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.history_visibility", "");
	const char *hv =
	    mx_json_str(json_object_get(ev, "content"), "history_visibility");

	if (hv == NULL)
		return;
	if (strcmp(hv, "world_readable") == 0)
		mx_audit_add(r, "history", MX_AUDIT_HIGH, hv, refs1(ev),
		    "anyone, member or not, can read the room's history");
	else if (strcmp(hv, "shared") == 0 && r->encrypted)
		mx_audit_add(r, "history", MX_AUDIT_INFO, hv, refs1(ev),
		    "members who join later can be sent the keys of earlier "
		    "messages");
}

/* 3: m.room.join_rules and m.room.guest_access. */
static void
check_join(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.join_rules", "");
	const json_t *c = json_object_get(ev, "content"), *allow, *a;
	const char *jr = mx_json_str(c, "join_rule"), *id;
	struct mx_buf b = { 0 };
	size_t i;

	if (jr != NULL && strcmp(jr, "public") == 0)
		mx_audit_add(r, "join", MX_AUDIT_WARN, jr, refs1(ev),
		    "anyone can join");
	else if (jr != NULL && strcmp(jr, "knock") == 0)
		mx_audit_add(r, "join", MX_AUDIT_INFO, jr, refs1(ev),
		    "anyone can ask to join");
	else if (jr != NULL &&
	    (strcmp(jr, "restricted") == 0 ||
		strcmp(jr, "knock_restricted") == 0)) {
		allow = json_object_get(c, "allow");
		json_array_foreach(allow, i, a)
			if ((id = mx_json_str(a, "room_id")) != NULL)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "", id);
		mx_audit_add(r, "join", MX_AUDIT_INFO, jr, refs1(ev),
		    "the members of these rooms can join: %s",
		    b.len ? b.p : "(none)");
		mx_buf_release(&b);
	}
	ev = mx_audit_event(r, "m.room.guest_access", "");
	id = mx_json_str(json_object_get(ev, "content"), "guest_access");
	if (id != NULL && strcmp(id, "can_join") == 0)
		mx_audit_add(r, "join", MX_AUDIT_WARN, "guest_access",
		    refs1(ev),
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
	json_array_append_new(json_object_get(s, "evidence"),
	    mx_audit_ref(ev));
}

/* 4: the servers of the joined and invited members and bridge bots;
 * m.federate; a server ACL allowing every server. */
static void
check_servers(struct mx_audit_room *r, const json_t *globs)
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
		if (m != NULL && (server = mx_audit_server(user)) != NULL &&
		    (strcmp(m, "join") == 0 || strcmp(m, "invite") == 0))
			count_server(srv, server, m, ev);
	}
	json_object_foreach_safe(r->bots, tmp, user, ev)
	{
		if (!mx_audit_member(r, user, 1) &&
		    (server = mx_audit_server(user)) != NULL)
			count_server(srv, server, "bridge",
			    json_object_get(ev, "event"));
	}
	json_object_foreach_safe(srv, tmp, server, s)
	{
		if (json_integer_value(json_object_get(s, "join")) > 0 ||
		    json_integer_value(json_object_get(s, "invite")) > 0)
			mx_audit_add(r, "servers", MX_AUDIT_INFO, server, NULL,
			    "%lld joined and %lld invited member(s)",
			    (long long)json_integer_value(
				json_object_get(s, "join")),
			    (long long)json_integer_value(
				json_object_get(s, "invite")));
		if (json_array_size(globs) > 0 &&
		    !allowed_server(globs, server))
			mx_audit_add(r, "servers", MX_AUDIT_HIGH, server,
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
	ev = mx_audit_event(r, "m.room.create", "");
	c = json_object_get(ev, "content");
	if (json_is_false(json_object_get(c, "m.federate")))
		mx_audit_add(r, "servers", MX_AUDIT_INFO, "m.federate",
		    refs1(ev), "the room stays on its creator's server");
	ev = mx_audit_event(r, "m.room.server_acl", "");
	json_array_foreach(json_object_get(json_object_get(ev, "content"),
			       "allow"),
	    i, a)
		if ((st = json_string_value(a)) != NULL &&
		    strcmp(st, "*") == 0) {
			mx_audit_add(r, "servers", MX_AUDIT_INFO,
			    "m.room.server_acl", refs1(ev),
			    "the server ACL allows every server");
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
creators_unlimited(const struct mx_audit_room *r)
{
	const char *v =
	    mx_json_str(json_object_get(mx_audit_event(r, "m.room.create", ""),
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
creators(const struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.create", ""), *a;
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
check_power(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.power_levels", "");
	const json_t *pl = json_object_get(ev, "content"), *users, *lv;
	const json_t *evs = json_object_get(pl, "events");
	long long ud = int_of(pl, "users_default", 0), need;
	long long sd = int_of(pl, "state_default", ev ? 50 : 0);
	const struct mx_audit_pattern *p;
	const char *user;
	struct mx_buf b = { 0 };
	json_t *cr;
	size_t i;

	users = json_object_get(pl, "users");
	if (int_of(pl, "invite", 0) <= ud)
		mx_audit_add(r, "power", MX_AUDIT_WARN, "invite", refs1(ev),
		    "every member can invite anyone, a bot or bridge too");
	for (i = 0; sensitive[i] != NULL; i++) {
		need = int_of(evs, sensitive[i], sd);
		if (need <= ud) {
			mx_audit_add(r, "power", MX_AUDIT_WARN, sensitive[i],
			    refs1(ev), "every member can change %s",
			    sensitive[i]);
			continue;
		}
		json_object_foreach((json_t *)users, user, lv)
			if (json_is_integer(lv) &&
			    json_integer_value(lv) >= need)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "",
				    user);
		mx_audit_add(r, "power", MX_AUDIT_INFO, sensitive[i],
		    refs1(ev), "power %lld changes it: %s", need,
		    b.len ? b.p : "nobody");
		mx_buf_reset(&b);
	}
	json_object_foreach((json_t *)users, user, lv) {
		if (!json_is_integer(lv) || json_integer_value(lv) < 50)
			continue;
		p = match(r->rules, user);
		if (json_object_get(r->bots, user) != NULL ||
		    (p != NULL && p->bot))
			mx_audit_add(r, "power", MX_AUDIT_WARN, user,
			    refs1(ev), "the %s %s has power %lld",
			    json_object_get(r->bots, user) ? "bridge bot" :
							     "bot",
			    user, (long long)json_integer_value(lv));
	}
	cr = creators(r);
	json_array_foreach(cr, i, lv)
		mx_audit_add(r, "power", MX_AUDIT_INFO, json_string_value(lv),
		    refs1(mx_audit_event(r, "m.room.create", "")),
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
one_bridge(struct mx_audit_room *r, const char *type, const char *key,
    const json_t *ev, json_t *seen)
{
	const json_t *c = content(r, type, key);
	const char *bot, *m, *status, *st;
	json_t *f, *prev;
	enum mx_audit_sev s;

	if (c == NULL ||
	    ((st = mx_json_str(c, "status")) != NULL &&
		strcmp(st, "disabled") == 0))
		return;
	if ((prev = json_object_get(seen, key)) != NULL) {
		json_array_append_new(json_object_get(prev, "evidence"),
		    mx_audit_ref(ev));
		return;
	}
	/* The sender stands for a missing bridgebot, as Element does. */
	bot = mx_json_str(c, "bridgebot");
	if (bot == NULL || mx_audit_server(bot) == NULL)
		bot = mx_json_str(ev, "sender");
	if (bot == NULL)
		return;
	m = membership(r, bot);
	status = m != NULL && strcmp(m, "join") == 0 ? "confirmed" :
	    m != NULL && (strcmp(m, "leave") == 0 || strcmp(m, "ban") == 0) ?
						       "stale" :
						       "claimed";
	s = status[0] == 'c' && status[1] == 'o' ?
	    (r->encrypted ? MX_AUDIT_HIGH : MX_AUDIT_WARN) :
	    status[0] == 's' ? MX_AUDIT_INFO :
			       MX_AUDIT_WARN;
	if (status[1] == 'o') {
		r->bridged = 1;
		json_object_set_new(r->bots, bot,
		    json_pack("{s:s,s:O}", "status", status, "event", ev));
	} else if (json_object_get(r->bots, bot) == NULL)
		json_object_set_new(r->bots, bot,
		    json_pack("{s:s,s:O}", "status", status, "event", ev));
	f = mx_audit_add(r, "bridge", s, bot, refs1(ev),
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
check_bridges(struct mx_audit_room *r)
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
check_bridge_like(struct mx_audit_room *r)
{
	json_t *puppets = json_object(), *g;
	const json_t *ev, *svc, *v;
	const struct mx_audit_pattern *p;
	const char *user, *name;
	enum mx_audit_sev s = r->encrypted ? MX_AUDIT_HIGH : MX_AUDIT_WARN;
	size_t i;

	json_object_foreach((json_t *)json_object_get(r->idx, "m.room.member"),
	    user, ev) {
		if (!mx_audit_member(r, user, 1) || strcmp(user, r->me) == 0 ||
		    json_object_get(r->bots, user) != NULL ||
		    (p = match(r->rules, user)) == NULL)
			continue;
		if (p->bot) {
			mx_audit_add(r, "bridge-like", s, user, refs1(ev),
			    "%s member looks like a %s bot, and no bridge "
			    "event names it",
			    mx_audit_member(r, user, 0) ? "a joined" :
							  "an invited",
			    p->name);
			continue;
		}
		if (r->bridged)
			continue;
		if ((g = json_object_get(puppets, p->name)) == NULL) {
			g = json_array();
			json_object_set_new(puppets, p->name, g);
		}
		json_array_append_new(g, mx_audit_ref(ev));
	}
	json_object_foreach(puppets, name, g)
		mx_audit_add(r, "bridge-like", s, name, json_incref(g),
		    "%zu member(s) look like %s puppets, and no bridge is "
		    "confirmed",
		    json_array_size(g), name);
	json_decref(puppets);
	ev = mx_audit_event(r, "io.element.functional_members", "");
	svc =
	    json_object_get(json_object_get(ev, "content"), "service_members");
	json_array_foreach(svc, i, v)
		if ((user = json_string_value(v)) != NULL &&
		    mx_audit_member(r, user, 1) &&
		    json_object_get(r->bots, user) == NULL &&
		    (match(r->rules, user) == NULL ||
			!match(r->rules, user)->bot))
			mx_audit_add(r, "bridge-like", s, user, refs1(ev),
			    "a service member (a bot), and no bridge event "
			    "names it");
}

/* 9: matrix-appservice-irc's connection state: blocked means the bridge
 * stopped relaying, as not every member is on IRC. */
static void
check_irc(struct mx_audit_room *r)
{
	const json_t *ev;
	const char *key;

	json_object_foreach((json_t *)json_object_get(r->idx,
				"org.matrix.appservice-irc.connection"),
	    key, ev) {
		if (json_is_true(
			json_object_get(json_object_get(ev, "content"),
			    "blocked")))
			mx_audit_add(r, "irc", MX_AUDIT_WARN, key, refs1(ev),
			    "the IRC bridge blocks this channel: not every "
			    "member is on IRC");
		else if (content(r, "org.matrix.appservice-irc.connection",
			     key) != NULL)
			mx_audit_add(r, "irc", MX_AUDIT_INFO, key, refs1(ev),
			    "an IRC bridge connection");
	}
	if ((ev = mx_audit_event(r, "org.matrix.appservice-irc.config", "")) !=
	    NULL)
		mx_audit_add(r, "irc", MX_AUDIT_INFO,
		    "org.matrix.appservice-irc.config", refs1(ev),
		    "an IRC bridge configures this room");
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
check_integrations(struct mx_audit_room *r)
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
			mx_audit_add(r, "integrations", MX_AUDIT_WARN,
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
		mx_audit_add(r, "integrations", MX_AUDIT_WARN, v ? v : key,
		    refs1(ev),
		    "a pending third-party invite: whoever claims it joins");
	}
	for (t = 0; ptypes[t] != NULL; t++)
		if ((c = content(r, ptypes[t], "")) != NULL) {
			v = mx_json_str(c, "via");
			mx_audit_add(r, "integrations", MX_AUDIT_WARN,
			    v ? v : ptypes[t],
			    refs1(mx_audit_event(r, ptypes[t], "")),
			    "a policy server sees every event of the room");
		}
}

/* Is every finding of check left out (--ignore CHECK, no subject)? */
int
mx_audit_ignored_all(const struct mx_audit_rules *ru, const char *check)
{
	size_t i;

	for (i = 0; i < ru->nrules; i++)
		if (strcmp(ru->rules[i].check, check) == 0 &&
		    ru->rules[i].subject == NULL)
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
member_ref(const struct mx_audit_room *r, const char *user)
{
	return refs1(mx_audit_event(r, "m.room.member", user));
}

/* One user's device findings, from by[user] (see note_device). */
static void
user_devices(struct mx_audit_room *r, const char *user, const json_t *u,
    const struct mx_devlist *l)
{
	const struct mx_device *d = NULL;
	char *s;
	size_t i;

	for (i = 0; i < l->n && d == NULL; i++)
		if (strcmp(l->v[i].user_id, user) == 0)
			d = &l->v[i];
	if (json_object_get(u, "changed") != NULL && d != NULL)
		mx_audit_add(r, "devices", MX_AUDIT_HIGH, user,
		    member_ref(r, user),
		    "changed their cross-signing identity from %s to %s; "
		    "check with them, then run mx-keys accept %s",
		    d->master[0] ? d->master : "none",
		    d->master_seen[0] ? d->master_seen : "none", user);
	if (json_object_get(u, "bad") != NULL) {
		mx_audit_add(r, "devices", MX_AUDIT_HIGH, user,
		    member_ref(r, user),
		    "device(s) whose keys changed or fail their own "
		    "signature: %s",
		    s = ids(u, "bad"));
		free(s);
	}
	if (json_object_get(u, "dehydrated") != NULL) {
		mx_audit_add(r, "devices", MX_AUDIT_WARN, user,
		    member_ref(r, user),
		    "dehydrated device(s), which receive room keys while "
		    "their owner is away: %s",
		    s = ids(u, "dehydrated"));
		free(s);
	}
	if (json_object_get(u, "unverified") == NULL)
		return;
	s = ids(u, "unverified");
	if (d == NULL || d->master[0] == '\0')
		mx_audit_add(r, "devices", MX_AUDIT_WARN, user,
		    member_ref(r, user),
		    "no cross-signing: nothing vouches for the device(s) %s",
		    s);
	else
		mx_audit_add(r, "devices", MX_AUDIT_WARN, user,
		    member_ref(r, user),
		    "device(s) neither cross-signed by a master key you "
		    "verified nor verified by you: %s",
		    s);
	free(s);
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
	json_array_append_new(json_object_get(g, "events"), mx_audit_ref(o));
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
int
mx_audit_confirmed_bot(const struct mx_audit_room *r, const char *user)
{
	const char *st = mx_json_str(json_object_get(r->bots, user), "status");

	return st != NULL && strcmp(st, "confirmed") == 0;
}

/* The same server part, for two user IDs (an appservice's bot and its
 * puppets live on the bridge's homeserver). */
static int
same_server(const char *a, const char *b)
{
	const char *sa = mx_audit_server(a), *sb = mx_audit_server(b);

	return sa != NULL && sb != NULL && strcmp(sa, sb) == 0;
}

/* Check 8's findings from the notes of behalf_event. */
static void
behalf_report(struct mx_audit_room *r, const json_t *dp, const json_t *other)
{
	const json_t *g;
	const char *k, *sender, *owner, *key;
	int bridge;

	json_object_foreach((json_t *)dp, k, g)
		mx_audit_add(r, "behalf", MX_AUDIT_WARN, k,
		    json_incref(json_object_get(g, "events")),
		    "%zu of the last %d events sent by the bridge '%s' as "
		    "%s (" DP_SOURCE "): the bridge holds a login to the "
		    "account and writes as its owner",
		    json_array_size(json_object_get(g, "events")),
		    MX_AUDIT_PAGE, mx_json_str(g, "source"), k);
	json_object_foreach((json_t *)other, k, g) {
		sender = mx_json_str(g, "sender");
		owner = mx_json_str(g, "owner");
		key = mx_json_str(g, "key") ? mx_json_str(g, "key") : "?";
		bridge = mx_audit_confirmed_bot(r, owner) &&
		    same_server(owner, sender);
		mx_audit_add(r, "behalf",
		    bridge ? MX_AUDIT_WARN : MX_AUDIT_HIGH, sender,
		    json_incref(json_object_get(g, "events")),
		    bridge ? "%zu of the last %d events of %s are encrypted "
			     "with a room key of the bridge bot %s (device "
			     "key %s): the bridge writes for its puppet" :
			     "%zu of the last %d events of %s are encrypted "
			     "with a room key of %s (device key %s), who is "
			     "no confirmed bridge's bot: another user's "
			     "ciphertext sent again, or an undeclared bridge",
		    json_array_size(json_object_get(g, "events")),
		    MX_AUDIT_PAGE, sender, owner, key);
	}
}

/* 12: m.room.tombstone. */
void
mx_audit_upgrade(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.tombstone", "");
	const char *to =
	    mx_json_str(json_object_get(ev, "content"), "replacement_room");

	if (to != NULL)
		mx_audit_add(r, "upgrade", MX_AUDIT_INFO, to, refs1(ev),
		    "the room was upgraded: the conversation goes on in %s",
		    to);
}
/* --- the room ------------------------------------------------------------- */

void
mx_audit_init(struct mx_audit_room *r, const char *id, const char *me,
    const struct mx_audit_rules *ru, const json_t *state)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->me = me;
	r->rules = ru;
	r->idx = index_state(state);
	r->bots = json_object();
	r->found = json_array();
}

void
mx_audit_release(struct mx_audit_room *r)
{
	json_decref(r->idx);
	json_decref(r->bots);
	json_decref(r->found);
	memset(r, 0, sizeof(*r));
}

void
mx_audit_state(struct mx_audit_room *r)
{
	check_encryption(r);
	check_history(r);
	check_join(r);
	check_bridges(r);
	check_servers(r, r->rules->servers);
	check_power(r);
	check_bridge_like(r);
	check_irc(r);
	check_integrations(r);
}

const char **
mx_audit_device_users(const struct mx_audit_room *r, size_t *n)
{
	const char **uv = NULL, *user;
	const json_t *ev;

	*n = 0;
	json_object_foreach((json_t *)json_object_get(r->idx, "m.room.member"),
	    user, ev)
		if (mx_audit_member(r, user, 1) &&
		    mx_audit_server(user) != NULL) {
			uv = mx_xrealloc(uv, (*n + 1) * sizeof(*uv));
			uv[(*n)++] = user;
		}
	return uv;
}

void
mx_audit_devices(struct mx_audit_room *r, const struct mx_devlist *l,
    const json_t *raw, const char *my_device)
{
	json_t *by = json_object();
	const struct mx_device *d;
	const json_t *u;
	const char *user;
	size_t i;

	for (i = 0; i < l->n; i++) {
		d = &l->v[i];
		if (strcmp(d->user_id, r->me) == 0 && my_device != NULL &&
		    strcmp(d->device_id, my_device) == 0)
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
			json_object_get(json_object_get(json_object_get(raw,
							    "device_keys"),
					    d->user_id),
			    d->device_id),
			"dehydrated")))
			note_device(by, d, "dehydrated");
	}
	json_object_foreach(by, user, u)
		user_devices(r, user, u, l);
	json_decref(by);
}

void
mx_audit_behalf(struct mx_audit_room *r, const json_t *events)
{
	json_t *dp = json_object(), *other = json_object();
	const json_t *o;
	size_t i;

	json_array_foreach(events, i, o)
		behalf_event(o, dp, other);
	behalf_report(r, dp, other);
	json_decref(dp);
	json_decref(other);
}
