/*
 * auditbridge: the checks of bridges and bots (audit.h): bridge events
 * (MSC2346), members that look like bridge bots or puppets, service
 * members (MSC4171), IRC bridge state, widgets, third-party invites and
 * policy servers.
 */
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "json.h"
#include "util.h"
#include "banned.h"

/* Its content when an object with members, else NULL: an empty content
 * is a removed state (MSC2346, "Removing a bridge"). */
static const json_t *
content(const struct mx_audit_room *r, const char *type, const char *key)
{
	const json_t *c =
	    json_object_get(mx_audit_event(r, type, key), "content");

	return json_is_object(c) && json_object_size(c) > 0 ? c : NULL;
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
	m = mx_audit_membership(r, bot);
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
	f = mx_audit_add(r, "bridge", s, bot, mx_audit_refs(ev),
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
void
mx_audit_bridges(struct mx_audit_room *r)
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
void
mx_audit_bridge_like(struct mx_audit_room *r)
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
		    (p = mx_audit_match(r->rules, user)) == NULL)
			continue;
		if (p->bot) {
			mx_audit_add(r, "bridge-like", s, user,
			    mx_audit_refs(ev),
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
		    (mx_audit_match(r->rules, user) == NULL ||
			!mx_audit_match(r->rules, user)->bot))
			mx_audit_add(r, "bridge-like", s, user,
			    mx_audit_refs(ev),
			    "a service member (a bot), and no bridge event "
			    "names it");
}

/* 9: matrix-appservice-irc's connection state: blocked means the bridge
 * stopped relaying, as not every member is on IRC. */
void
mx_audit_irc(struct mx_audit_room *r)
{
	const json_t *ev;
	const char *key;

	json_object_foreach((json_t *)json_object_get(r->idx,
				"org.matrix.appservice-irc.connection"),
	    key, ev) {
		if (json_is_true(
			json_object_get(json_object_get(ev, "content"),
			    "blocked")))
			mx_audit_add(r, "irc", MX_AUDIT_WARN, key,
			    mx_audit_refs(ev),
			    "the IRC bridge blocks this channel: not every "
			    "member is on IRC");
		else if (content(r, "org.matrix.appservice-irc.connection",
			     key) != NULL)
			mx_audit_add(r, "irc", MX_AUDIT_INFO, key,
			    mx_audit_refs(ev), "an IRC bridge connection");
	}
	if ((ev = mx_audit_event(r, "org.matrix.appservice-irc.config", "")) !=
	    NULL)
		mx_audit_add(r, "irc", MX_AUDIT_INFO,
		    "org.matrix.appservice-irc.config", mx_audit_refs(ev),
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
void
mx_audit_integrations(struct mx_audit_room *r)
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
			    mx_audit_refs(ev), "widget '%s' (%s) loads %s",
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
		    mx_audit_refs(ev),
		    "a pending third-party invite: whoever claims it joins");
	}
	for (t = 0; ptypes[t] != NULL; t++)
		if ((c = content(r, ptypes[t], "")) != NULL) {
			v = mx_json_str(c, "via");
			mx_audit_add(r, "integrations", MX_AUDIT_WARN,
			    v ? v : ptypes[t],
			    mx_audit_refs(mx_audit_event(r, ptypes[t], "")),
			    "a policy server sees every event of the room");
		}
}
