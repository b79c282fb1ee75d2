/*
 * room: room arguments to room IDs (see room.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "conf.h"
#include "err.h"
#include "json.h"
#include "room.h"
#include "sync.h"
#include "util.h"
#include "banned.h"

/* Our own user ID: from the session, else asked of the server. */
static const char *
self(struct mx_ctx *c, struct mx_err *e)
{
	char *dev = NULL;

	if (c->sess.user_id == NULL) {
		if (mx_api_whoami(&c->api, &c->sess.user_id, &dev, e) != 0)
			return NULL;
		if (c->sess.device_id == NULL)
			c->sess.device_id = dev;
		else
			free(dev);
	}
	return c->sess.user_id;
}

/* 1 when room_id is in the joined_rooms array. */
static int
in_rooms(const json_t *joined, const char *room_id)
{
	size_t i;
	json_t *v;

	json_array_foreach(joined, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), room_id) == 0)
			return 1;
	return 0;
}

/*
 * The DM room with user from m.direct that we are still joined to, the
 * latest recorded first: 1 and *room_id, 0 when none, -1 on error.
 */
static int
find_dm(struct mx_ctx *c, const char *me, const char *user, char **room_id,
    struct mx_err *e)
{
	json_t *direct = NULL, *joined = NULL, *list, *v;
	size_t i;
	int rc;

	rc = mx_api_get_account_data(&c->api, me, "m.direct", &direct, e);
	if (rc <= 0)
		return rc;
	list = json_object_get(direct, user);
	rc = 0;
	if (json_array_size(list) > 0 &&
	    (rc = mx_api_joined_rooms(&c->api, &joined, e)) == 0) {
		for (i = json_array_size(list); i-- > 0 && rc == 0;) {
			v = json_array_get(list, i);
			if (json_is_string(v) &&
			    in_rooms(joined, json_string_value(v))) {
				*room_id = mx_xstrdup(json_string_value(v));
				rc = 1;
			}
		}
	}
	json_decref(joined);
	json_decref(direct);
	return rc;
}

int
mx_room_is_dm(struct mx_ctx *c, const char *user, const char *room_id,
    struct mx_err *e)
{
	const char *me = self(c, e);
	json_t *direct = NULL;
	int rc;

	if (me == NULL)
		return -1;
	rc = mx_api_get_account_data(&c->api, me, "m.direct", &direct, e);
	if (rc > 0)
		rc = in_rooms(json_object_get(direct, user), room_id);
	json_decref(direct);
	return rc;
}

/* Add room_id to user's list in m.direct, re-reading it first so that a
 * concurrent change by another client is kept. */
static int
record_dm(struct mx_ctx *c, const char *me, const char *user,
    const char *room_id, struct mx_err *e)
{
	json_t *direct = NULL, *list;
	int rc;

	rc = mx_api_get_account_data(&c->api, me, "m.direct", &direct, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || !json_is_object(direct)) {
		json_decref(direct);
		direct = json_object();
	}
	list = json_object_get(direct, user);
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(direct, user, list);
	}
	json_array_append_new(list, json_string(room_id));
	rc = mx_api_put_account_data(&c->api, me, "m.direct", direct, e);
	json_decref(direct);
	return rc;
}

int
mx_room_record_dm(struct mx_ctx *c, const char *user, const char *room_id,
    struct mx_err *e)
{
	const char *me = self(c, e);

	return me == NULL ? -1 : record_dm(c, me, user, room_id, e);
}

static int
create_dm(struct mx_ctx *c, const char *me, const char *user, char **room_id,
    struct mx_err *e)
{
	json_t *body;
	int rc;

	body = json_pack("{s:b,s:[s],s:s}", "is_direct", 1, "invite", user,
	    "preset", "trusted_private_chat");
	rc = mx_api_create_room(&c->api, body, room_id, e);
	json_decref(body);
	if (rc != 0)
		return mx_err_prefix(e,
		    "cannot create a direct room with '%s'", user);
	if (record_dm(c, me, user, *room_id, e) != 0)
		return mx_err_prefix(e, "cannot record direct room '%s'",
		    *room_id);
	return 0;
}

/* A direct room user invited us to and we have not joined yet (spec:
 * "Direct Messaging": our invite carries is_direct), joined and recorded
 * in m.direct: 1 and *room_id, 0 when there is none. */
static int
join_dm_invite(struct mx_ctx *c, const char *me, const char *user,
    char **room_id, struct mx_err *e)
{
	json_t *inv = NULL, *room;
	const json_t *ev;
	const char *id, *found = NULL;
	int rc;

	if (mx_sync_invites(&c->api, &inv, e) != 0)
		return -1;
	json_object_foreach(inv, id, room) {
		ev = mx_sync_invite_event(room);
		if (ev != NULL &&
		    json_is_true(
			json_object_get(json_object_get(ev, "content"),
			    "is_direct")) &&
		    mx_json_str(ev, "sender") != NULL &&
		    strcmp(mx_json_str(ev, "sender"), user) == 0 &&
		    mx_json_str(ev, "state_key") != NULL &&
		    strcmp(mx_json_str(ev, "state_key"), me) == 0)
			found = id;
	}
	rc = 0;
	if (found != NULL) {
		if (mx_api_join(&c->api, found, room_id, e) != 0)
			rc = mx_err_prefix(e, "cannot join '%s''s invite '%s'",
			    user, found);
		else if (record_dm(c, me, user, *room_id, e) != 0)
			rc = mx_err_prefix(e, "cannot record direct room '%s'",
			    *room_id);
		else
			rc = 1;
	}
	json_decref(inv);
	return rc;
}

static int
resolve_user(struct mx_ctx *c, const char *user, unsigned flags,
    char **room_id, struct mx_err *e)
{
	const char *me = self(c, e);
	json_t *p = NULL;
	int rc;

	if (me == NULL)
		return -1;
	if ((rc = find_dm(c, me, user, room_id, e)) != 0)
		return rc < 0 ? -1 : 0;
	/* Before a new room, or for a join: the one user already offered. */
	if ((flags & (MX_ROOM_CREATE_DM | MX_ROOM_JOIN)) &&
	    (rc = join_dm_invite(c, me, user, room_id, e)) != 0)
		return rc < 0 ? -1 : 0;
	if (!(flags & MX_ROOM_CREATE_DM))
		return mx_err_set(e, MX_PERM, "no direct room with '%s'",
		    user);
	/* Whether user exists at all: a room with no one to read it would
	 * take the message and exit 0. */
	if ((rc = mx_api_profile(&c->api, user, &p, e)) < 0)
		return mx_err_prefix(e, "cannot look up '%s'", user);
	json_decref(p);
	if (rc == 0)
		return mx_err_set(e, MX_PERM, "unknown user '%s'", user);
	return create_dm(c, me, user, room_id, e);
}

int
mx_room_resolve(struct mx_ctx *c, const char *arg, unsigned flags,
    char **room_id, struct mx_err *e)
{
	*room_id = NULL;
	if (strchr(arg, ':') == NULL || arg[1] == ':' ||
	    strchr("!#@", arg[0]) == NULL || arg[1] == '\0')
		return mx_err_set(e, MX_USAGE,
		    "'%s' is not a room ID, alias or user ID", arg);
	if (arg[0] == '@')
		return resolve_user(c, arg, flags, room_id, e);
	if (flags & MX_ROOM_JOIN) {
		if (mx_api_join(&c->api, arg, room_id, e) != 0)
			return mx_err_prefix(e, "cannot join '%s'", arg);
		return 0;
	}
	if (arg[0] == '!') {
		*room_id = mx_xstrdup(arg);
		return 0;
	}
	if (mx_api_resolve_alias(&c->api, arg, room_id, e) != 0) {
		if (e->http == 404)
			return mx_err_set(e, MX_PERM, "unknown alias '%s'",
			    arg);
		return mx_err_prefix(e, "cannot resolve '%s'", arg);
	}
	return 0;
}
