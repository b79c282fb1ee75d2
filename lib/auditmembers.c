/*
 * auditmembers: the checks of what the program fetched about the members
 * (audit.h): their devices, and the room's last events sent on another's
 * behalf.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "devices.h"
#include "json.h"
#include "util.h"
#include "banned.h"

#define DP_SOURCE "fi.mau.double_puppet_source"

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
	return mx_audit_refs(mx_audit_event(r, "m.room.member", user));
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
