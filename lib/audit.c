/*
 * audit: what every check of audit.h uses: the rules, the room's state
 * indexed and its look-ups, and the findings.  The checks are in
 * auditroom.c, auditbridge.c and auditmembers.c, their order in
 * auditstate.c.
 */
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "json.h"
#include "util.h"
#include "banned.h"

/* --- rules ---------------------------------------------------------------- */

static const char *const sev_names[] = { "info", "warn", "high" };

/* The checks, by the name findings carry (mx-bridge-check(1), CHECKS). */
static const char *const checks[] = { "encryption", "history", "join",
	"servers", "power", "bridge", "bridge-like", "behalf", "irc",
	"integrations", "devices", "upgrade", NULL };

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

/* --- the room ------------------------------------------------------------- */

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

/* --- the room's state ----------------------------------------------------- */

/* The event of type and state_key, or NULL (borrowed). */
const json_t *
mx_audit_event(const struct mx_audit_room *r, const char *type,
    const char *key)
{
	return json_object_get(json_object_get(r->idx, type), key);
}

const char *
mx_audit_membership(const struct mx_audit_room *r, const char *user)
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
	const char *m = mx_audit_membership(r, user);

	return m != NULL &&
	    (strcmp(m, "join") == 0 ||
		(invited_too && strcmp(m, "invite") == 0));
}

/* Is user the bot of a confirmed bridge of the room? */
int
mx_audit_confirmed_bot(const struct mx_audit_room *r, const char *user)
{
	const char *st = mx_json_str(json_object_get(r->bots, user), "status");

	return st != NULL && strcmp(st, "confirmed") == 0;
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

json_t *
mx_audit_refs(const json_t *ev)
{
	json_t *a = json_array();

	if (ev != NULL)
		json_array_append_new(a, mx_audit_ref(ev));
	return a;
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
const struct mx_audit_pattern *
mx_audit_match(const struct mx_audit_rules *ru, const char *user)
{
	size_t i;

	for (i = 0; i < ru->npat; i++)
		if (regexec(&ru->pat[i].re, user, 0, NULL, 0) == 0)
			return &ru->pat[i];
	return NULL;
}
