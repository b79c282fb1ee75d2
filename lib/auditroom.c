/*
 * auditroom: the checks of the room's settings (audit.h): encryption,
 * history visibility, join rules and guests, the members' servers, power
 * levels, and an upgrade.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "json.h"
#include "util.h"
#include "banned.h"

#define MEGOLM "m.megolm.v1.aes-sha2"
#define WEEK_MS 604800000LL

/* An integer member of o, or def. */
static long long
int_of(const json_t *o, const char *k, long long def)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* 1: m.room.encryption (spec: "End-to-End Encryption"): any such state
 * means encrypted, whatever its content. */
void
mx_audit_encryption(struct mx_audit_room *r)
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
		    "m.room.encryption", mx_audit_refs(ev),
		    "algorithm '%s' is not " MEGOLM, alg ? alg : "(none)");
	if (int_of(c, "rotation_period_ms", 0) > WEEK_MS ||
	    int_of(c, "rotation_period_msgs", 0) > 100)
		mx_audit_add(r, "encryption", MX_AUDIT_INFO, "rotation",
		    mx_audit_refs(ev),
		    "room keys rotate after %lld ms or %lld messages, more "
		    "than a week or 100 messages",
		    int_of(c, "rotation_period_ms", WEEK_MS),
		    int_of(c, "rotation_period_msgs", 100));
}

/* 2: m.room.history_visibility. */
void
mx_audit_history(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.history_visibility", "");
	const char *hv =
	    mx_json_str(json_object_get(ev, "content"), "history_visibility");

	if (hv == NULL)
		return;
	if (strcmp(hv, "world_readable") == 0)
		mx_audit_add(r, "history", MX_AUDIT_HIGH, hv,
		    mx_audit_refs(ev),
		    "anyone, member or not, can read the room's history");
	else if (strcmp(hv, "shared") == 0 && r->encrypted)
		mx_audit_add(r, "history", MX_AUDIT_INFO, hv,
		    mx_audit_refs(ev),
		    "members who join later can be sent the keys of earlier "
		    "messages");
}

/* 3: m.room.join_rules and m.room.guest_access. */
void
mx_audit_join(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.join_rules", "");
	const json_t *c = json_object_get(ev, "content"), *allow, *a;
	const char *jr = mx_json_str(c, "join_rule"), *id;
	struct mx_buf b = { 0 };
	size_t i;

	if (jr != NULL && strcmp(jr, "public") == 0)
		mx_audit_add(r, "join", MX_AUDIT_WARN, jr, mx_audit_refs(ev),
		    "anyone can join");
	else if (jr != NULL && strcmp(jr, "knock") == 0)
		mx_audit_add(r, "join", MX_AUDIT_INFO, jr, mx_audit_refs(ev),
		    "anyone can ask to join");
	else if (jr != NULL &&
	    (strcmp(jr, "restricted") == 0 ||
		strcmp(jr, "knock_restricted") == 0)) {
		allow = json_object_get(c, "allow");
		json_array_foreach(allow, i, a)
			if ((id = mx_json_str(a, "room_id")) != NULL)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "", id);
		mx_audit_add(r, "join", MX_AUDIT_INFO, jr, mx_audit_refs(ev),
		    "the members of these rooms can join: %s",
		    b.len ? b.p : "(none)");
		mx_buf_release(&b);
	}
	ev = mx_audit_event(r, "m.room.guest_access", "");
	id = mx_json_str(json_object_get(ev, "content"), "guest_access");
	if (id != NULL && strcmp(id, "can_join") == 0)
		mx_audit_add(r, "join", MX_AUDIT_WARN, "guest_access",
		    mx_audit_refs(ev),
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
void
mx_audit_servers(struct mx_audit_room *r)
{
	const json_t *globs = r->rules->servers;
	json_t *srv = json_object(), *s;
	const json_t *ev, *c, *a;
	const char *user, *m, *server, *st;
	void *tmp;
	size_t i;

	json_object_foreach_safe(json_object_get(r->idx, "m.room.member"), tmp,
	    user, ev)
	{
		m = mx_audit_membership(r, user);
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
		    mx_audit_refs(ev),
		    "the room stays on its creator's server");
	ev = mx_audit_event(r, "m.room.server_acl", "");
	json_array_foreach(json_object_get(json_object_get(ev, "content"),
			       "allow"),
	    i, a)
		if ((st = json_string_value(a)) != NULL &&
		    strcmp(st, "*") == 0) {
			mx_audit_add(r, "servers", MX_AUDIT_INFO,
			    "m.room.server_acl", mx_audit_refs(ev),
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
void
mx_audit_power(struct mx_audit_room *r)
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
		mx_audit_add(r, "power", MX_AUDIT_WARN, "invite",
		    mx_audit_refs(ev),
		    "every member can invite anyone, a bot or bridge too");
	for (i = 0; sensitive[i] != NULL; i++) {
		need = int_of(evs, sensitive[i], sd);
		if (need <= ud) {
			mx_audit_add(r, "power", MX_AUDIT_WARN, sensitive[i],
			    mx_audit_refs(ev), "every member can change %s",
			    sensitive[i]);
			continue;
		}
		json_object_foreach((json_t *)users, user, lv)
			if (json_is_integer(lv) &&
			    json_integer_value(lv) >= need)
				mx_buf_addf(&b, "%s%s", b.len ? ", " : "",
				    user);
		mx_audit_add(r, "power", MX_AUDIT_INFO, sensitive[i],
		    mx_audit_refs(ev), "power %lld changes it: %s", need,
		    b.len ? b.p : "nobody");
		mx_buf_reset(&b);
	}
	json_object_foreach((json_t *)users, user, lv) {
		if (!json_is_integer(lv) || json_integer_value(lv) < 50)
			continue;
		p = mx_audit_match(r->rules, user);
		if (json_object_get(r->bots, user) != NULL ||
		    (p != NULL && p->bot))
			mx_audit_add(r, "power", MX_AUDIT_WARN, user,
			    mx_audit_refs(ev), "the %s %s has power %lld",
			    json_object_get(r->bots, user) ? "bridge bot" :
							     "bot",
			    user, (long long)json_integer_value(lv));
	}
	cr = creators(r);
	json_array_foreach(cr, i, lv)
		mx_audit_add(r, "power", MX_AUDIT_INFO, json_string_value(lv),
		    mx_audit_refs(mx_audit_event(r, "m.room.create", "")),
		    "a creator: unlimited power in room version 12+");
	json_decref(cr);
	mx_buf_release(&b);
}

/* 12: m.room.tombstone. */
void
mx_audit_upgrade(struct mx_audit_room *r)
{
	const json_t *ev = mx_audit_event(r, "m.room.tombstone", "");
	const char *to =
	    mx_json_str(json_object_get(ev, "content"), "replacement_room");

	if (to != NULL)
		mx_audit_add(r, "upgrade", MX_AUDIT_INFO, to,
		    mx_audit_refs(ev),
		    "the room was upgraded: the conversation goes on in %s",
		    to);
}
