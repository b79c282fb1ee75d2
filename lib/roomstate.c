/*
 * roomstate: the rooms' encryption and members, as this device remembers
 * them (see roomstate.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "json.h"
#include "roomstate.h"
#include "store.h"
#include "util.h"
#include "banned.h"

static json_t *
room_load(struct mx_store *s, const char *room_id)
{
	char *v = NULL;
	size_t n;
	json_t *j = NULL;

	if (s != NULL && mx_store_get(s, "rooms", room_id, &v, &n, NULL) > 0)
		j = mx_json_parse(v, n, NULL);
	free(v);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

static int
room_save(struct mx_store *s, const char *room_id, const json_t *r,
    struct mx_err *e)
{
	char *v = mx_json_compact(r);
	int rc = mx_store_put(s, "rooms", room_id, v, strlen(v), e);

	free(v);
	return rc;
}

int
mx_roomstate_encryption(struct mx_ctx *c, const char *room_id, json_t **enc,
    struct mx_err *e)
{
	json_t *r = room_load(c->store, room_id), *ct = NULL;
	int rc;

	*enc = NULL;
	if (json_is_object(json_object_get(r, "enc"))) {
		*enc = json_incref(json_object_get(r, "enc"));
		json_decref(r);
		return 1;
	}
	if (c->store != NULL &&
	    mx_time_ms() - json_integer_value(json_object_get(r, "checked")) <
		MX_ROOMSTATE_PLAIN_MS) {
		json_decref(r);
		return 0;
	}
	/* Any m.room.encryption state means encrypted, whatever its content
	 * (DESIGN.md, threat model: mx refuses rather than downgrades): a
	 * redacted one ({}) or one with an unknown algorithm is the sender's
	 * to refuse, never a reason to send in the clear. */
	rc = mx_api_get_state(&c->api, room_id, "m.room.encryption", "", &ct,
	    e);
	if (rc >= 0 && c->store != NULL) {
		json_object_set(r, "enc", rc > 0 ? ct : json_null());
		json_object_set_new(r, "checked", json_integer(mx_time_ms()));
		(void)room_save(c->store, room_id, r, NULL);
	}
	json_decref(r);
	if (rc > 0)
		*enc = ct;
	else
		json_decref(ct);
	return rc;
}

int
mx_roomstate_encrypted(struct mx_ctx *c, const char *room_id,
    const json_t *content, struct mx_err *e)
{
	json_t *r = room_load(c->store, room_id);
	int rc;

	json_object_set_new(r, "enc",
	    json_is_object(content) ? json_incref((json_t *)content) :
				      json_object());
	rc = room_save(c->store, room_id, r, e);
	json_decref(r);
	return rc;
}

/* {"user": membership} of the joined members of chunk (the /members
 * answer), and of the invited ones unless history visibility vis is
 * "joined". */
static json_t *
recipients_of(const json_t *chunk, const char *vis)
{
	json_t *m = json_object(), *ev;
	const char *ms, *who;
	size_t i;

	json_array_foreach(chunk, i, ev) {
		ms = mx_json_str(json_object_get(ev, "content"), "membership");
		who = mx_json_str(ev, "state_key");
		if (ms != NULL && who != NULL &&
		    (strcmp(ms, "join") == 0 ||
			(strcmp(ms, "invite") == 0 &&
			    (vis == NULL || strcmp(vis, "joined") != 0))))
			json_object_set_new(m, who, json_string(ms));
	}
	return m;
}

int
mx_roomstate_members(struct mx_ctx *c, const char *room_id, json_t **out,
    struct mx_err *e)
{
	json_t *r = room_load(c->store, room_id), *chunk = NULL, *hv = NULL;
	const char *vis;
	int rc = -1;

	*out = NULL;
	if (!json_is_true(json_object_get(r, "stale")) &&
	    json_is_object(json_object_get(r, "members"))) {
		*out = json_incref(json_object_get(r, "members"));
		json_decref(r);
		return 0;
	}
	if (mx_api_members(&c->api, room_id, &chunk, e) == 0 &&
	    mx_api_get_state(&c->api, room_id, "m.room.history_visibility", "",
		&hv, e) >= 0) {
		vis = mx_json_str(hv, "history_visibility");
		*out = recipients_of(chunk, vis);
		json_object_set(r, "members", *out);
		json_object_set_new(r, "hv",
		    json_string(vis ? vis : "shared"));
		json_object_set_new(r, "stale", json_false());
		rc = room_save(c->store, room_id, r, e);
	}
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(chunk);
	json_decref(hv);
	json_decref(r);
	return rc;
}

int
mx_roomstate_news(struct mx_ctx *c, const char *room_id, const json_t *room,
    struct mx_err *e)
{
	const char *secs[] = { "state", "timeline" };
	json_t *r, *ev;
	const char *t;
	size_t i, j;
	int stale = json_is_true(
		json_object_get(json_object_get(room, "timeline"), "limited")),
	    rc;

	if (room == NULL)
		return 0;
	r = room_load(c->store, room_id);
	for (i = 0; i < 2; i++)
		json_array_foreach(json_object_get(json_object_get(room,
						       secs[i]),
				       "events"),
		    j, ev) {
			if ((t = mx_json_str(ev, "type")) == NULL)
				continue;
			if (strcmp(t, "m.room.member") == 0 ||
			    strcmp(t, "m.room.history_visibility") == 0)
				stale = 1;
			else if (strcmp(t, "m.room.encryption") == 0 &&
			    json_is_object(json_object_get(ev, "content")))
				json_object_set(r, "enc",
				    json_object_get(ev, "content"));
		}
	if (stale)
		json_object_set_new(r, "stale", json_true());
	rc = room_save(c->store, room_id, r, e);
	json_decref(r);
	return rc;
}

int
mx_roomstate_joined_now(const json_t *room, const char *user)
{
	const json_t *u, *prev;
	const char *ms, *sk, *t;
	json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(room, "timeline"),
			       "events"),
	    i, ev) {
		t = mx_json_str(ev, "type");
		sk = mx_json_str(ev, "state_key");
		ms = mx_json_str(json_object_get(ev, "content"), "membership");
		if (t == NULL || strcmp(t, "m.room.member") != 0 ||
		    sk == NULL || user == NULL || strcmp(sk, user) != 0 ||
		    ms == NULL || strcmp(ms, "join") != 0)
			continue;
		u = json_object_get(ev, "unsigned");
		prev = json_object_get(u, "prev_content");
		ms = mx_json_str(prev, "membership");
		if (prev != NULL ?
			ms != NULL && strcmp(ms, "join") != 0 :
			json_object_get(u, "replaces_state") == NULL)
			return 1;
	}
	return 0;
}

int
mx_roomstate_full(struct mx_ctx *c, const char *room_id, const json_t *room,
    struct mx_err *e)
{
	const char *secs[] = { "state", "timeline" };
	json_t *r = room_load(c->store, room_id), *by_key, *chunk, *ev;
	const char *t, *sk, *vis = NULL;
	size_t i, j;
	int rc;

	if (room == NULL) {
		json_object_set_new(r, "stale", json_true());
		rc = room_save(c->store, room_id, r, e);
		json_decref(r);
		return rc;
	}
	/* The state is the room's at the start of the timeline; the
	 * timeline's state events come after it (spec: GET /sync, "state"):
	 * the last event of each state key wins. */
	by_key = json_object();
	for (i = 0; i < 2; i++)
		json_array_foreach(json_object_get(json_object_get(room,
						       secs[i]),
				       "events"),
		    j, ev) {
			t = mx_json_str(ev, "type");
			sk = mx_json_str(ev, "state_key");
			if (t == NULL || sk == NULL)
				continue;
			if (strcmp(t, "m.room.member") == 0)
				json_object_set(by_key, sk, ev);
			else if (strcmp(t, "m.room.history_visibility") == 0 &&
			    *sk == '\0')
				vis =
				    mx_json_str(json_object_get(ev, "content"),
					"history_visibility");
		}
	chunk = json_array();
	json_object_foreach(by_key, sk, ev)
		json_array_append(chunk, ev);
	json_object_set_new(r, "members", recipients_of(chunk, vis));
	json_object_set_new(r, "hv", json_string(vis ? vis : "shared"));
	json_object_set_new(r, "stale", json_false());
	rc = room_save(c->store, room_id, r, e);
	json_decref(chunk);
	json_decref(by_key);
	json_decref(r);
	return rc;
}
