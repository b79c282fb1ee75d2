/*
 * mx-room: the everyday room management, so that no one needs curl: list
 * joined rooms and invites, create (encrypted by default), join, leave,
 * invite, kick, ban, members, state, aliases.  Each subcommand prints JSON
 * lines on success.
 *
 * Options may come before or after the subcommand (getopt_long permutes);
 * the first operand names the subcommand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "conf.h"
#include "json.h"
#include "room.h"
#include "sync.h"
#include "util.h"
#include "banned.h"

/* The one algorithm mx encrypts with (spec: "End-to-End Encryption",
 * m.megolm.v1.aes-sha2). */
#define MEGOLM "m.megolm.v1.aes-sha2"

enum {
	O_NAME = MX_OPT_LONG,
	O_TOPIC,
	O_ALIAS,
	O_PUBLIC,
	O_ENCRYPTED,
	O_NO_ENCRYPTION,
	O_INVITE,
	O_DM,
	O_FORGET,
	O_REASON,
	O_MEMBERSHIP,
};

static const struct mx_opt opts[] = { { O_NAME, "name", "NAME",
					  "create: the room's name", 0 },
	{ O_TOPIC, "topic", "TOPIC", "create: the room's topic", 0 },
	{ O_ALIAS, "alias", "LOCALPART",
	    "create: publish #LOCALPART:server for the room", 0 },
	{ O_PUBLIC, "public", NULL,
	    "create: anyone may join (not encrypted unless --encrypted)", 0 },
	{ O_ENCRYPTED, "encrypted", NULL,
	    "create: encrypt (the default but for --public)", 0 },
	{ O_NO_ENCRYPTION, "no-encryption", NULL,
	    "create: do not encrypt the room", 0 },
	{ O_INVITE, "invite", "USER", "create: invite USER (repeatable)",
	    MX_OPT_REPEAT },
	{ O_DM, "dm", "USER",
	    "create: a direct-message room with USER, recorded in m.direct",
	    0 },
	{ O_FORGET, "forget", NULL, "leave: forget the room too", 0 },
	{ O_REASON, "reason", "REASON", "kick, ban, unban: the reason given",
	    0 },
	{ O_MEMBERSHIP, "membership", "MEMBERSHIP",
	    "members: only join, invite, knock, leave or ban", 0 },
	MX_OPT_END };

static const struct mx_cli cli = {
	"mx-room",
	"[options] list\n"
	"[options] invites\n"
	"[options] create [--name NAME] [--topic TOPIC] [--alias LOCALPART] "
	"[--public | --dm USER] [--encrypted | --no-encryption] "
	"[--invite USER]...\n"
	"[options] join ROOM\n"
	"[options] leave ROOM [--forget]\n"
	"[options] invite ROOM USER...\n"
	"[options] kick|ban|unban ROOM USER [--reason REASON]\n"
	"[options] members ROOM [--membership MEMBERSHIP]\n"
	"[options] state ROOM [TYPE [STATE_KEY]]\n"
	"[options] set ROOM TYPE [STATE_KEY] <CONTENT\n"
	"[options] name|topic|avatar ROOM VALUE\n"
	"[options] encrypt ROOM\n"
	"[options] power ROOM USER LEVEL\n"
	"[options] alias ROOM add|remove|resolve ALIAS",
	"List, create, join and leave Matrix rooms; manage their members, "
	"state and aliases.",
	opts,
};

/* Which subcommand takes an option: bit (id - MX_OPT_LONG). */
#define BIT(o) (1u << ((o)-MX_OPT_LONG))
#define CREATE_OPTS \
	(BIT(O_NAME) | BIT(O_TOPIC) | BIT(O_ALIAS) | BIT(O_PUBLIC) | \
	    BIT(O_ENCRYPTED) | BIT(O_NO_ENCRYPTION) | BIT(O_INVITE) | \
	    BIT(O_DM))

struct opt {
	const char *name, *topic, *alias, *dm, *reason, *membership;
	int public, encrypted, no_encryption, forget;
	const char **invite;
	size_t ninvite;
	unsigned given; /* BIT() of each option given */
};

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;

	o->given |= BIT(id);
	switch (id) {
	case O_NAME:
		o->name = arg;
		break;
	case O_TOPIC:
		o->topic = arg;
		break;
	case O_ALIAS:
		o->alias = arg;
		break;
	case O_PUBLIC:
		o->public = 1;
		break;
	case O_ENCRYPTED:
		o->encrypted = 1;
		break;
	case O_NO_ENCRYPTION:
		o->no_encryption = 1;
		break;
	case O_INVITE:
		o->invite = mx_xrealloc(o->invite,
		    (o->ninvite + 1) * sizeof(*o->invite));
		o->invite[o->ninvite++] = arg;
		break;
	case O_DM:
		o->dm = arg;
		break;
	case O_FORGET:
		o->forget = 1;
		break;
	case O_REASON:
		o->reason = arg;
		break;
	case O_MEMBERSHIP:
		o->membership = arg;
		break;
	default:
		return -1;
	}
	return 0;
}

/* --- helpers -------------------------------------------------------------- */

/* Print j (stolen) as one line; NULL is a packing failure. */
static int
print_new(json_t *j, struct mx_err *e)
{
	int rc;

	if (j == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot encode the output");
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

static int
print_event_id(const char *event_id, struct mx_err *e)
{
	return print_new(json_pack("{s:s}", "event_id", event_id), e);
}

/* A user ID of the command line: "@localpart:server". */
static int
check_user(const char *u, struct mx_err *e)
{
	if (u[0] != '@' || strchr(u, ':') == NULL || u[1] == ':')
		return mx_err_set(e, MX_USAGE, "'%s' is not a user ID", u);
	return 0;
}

/* Each user exists (spec: GET /profile/{userId}; 404: no such user), so
 * that nothing is created or changed for a mistyped name. */
static int
check_users_exist(struct mx_ctx *c, const char *const *users, size_t n,
    struct mx_err *e)
{
	json_t *p;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if (check_user(users[i], e) != 0)
			return -1;
	for (i = 0; i < n; i++) {
		p = NULL;
		rc = mx_api_profile(&c->api, users[i], &p, e);
		json_decref(p);
		if (rc < 0)
			return mx_err_prefix(e, "cannot look up '%s'",
			    users[i]);
		if (rc == 0)
			return mx_err_set(e, MX_PERM, "unknown user '%s'",
			    users[i]);
	}
	return 0;
}

static int
resolve(struct mx_ctx *c, const char *arg, char **room_id, struct mx_err *e)
{
	return mx_room_resolve(c, arg, 0, room_id, e);
}

/* The string member key of the content of ev, or NULL. */
static const char *
content_str(const json_t *ev, const char *key)
{
	return mx_json_str(json_object_get(ev, "content"), key);
}

static int
is_type(const json_t *ev, const char *type)
{
	const char *t = mx_json_str(ev, "type");

	return t != NULL && strcmp(t, type) == 0;
}

/* --- list, invites -------------------------------------------------------- */

/* {room: user} from the m.direct account data {user: [room...]}. */
static json_t *
dm_users(const json_t *direct)
{
	json_t *by_room = json_object(), *list, *v;
	const char *user;
	size_t i;

	json_object_foreach((json_t *)direct, user, list)
		json_array_foreach(list, i, v)
			if (json_is_string(v))
				json_object_set_new(by_room,
				    json_string_value(v), json_string(user));
	return by_room;
}

/* One line of list: what the room's current state says (room is its
 * entry in rooms.join of a first /sync). */
static int
room_line(const char *room_id, const json_t *room, const json_t *dms,
    struct mx_err *e)
{
	const char *name = NULL, *alias = NULL, *sk;
	const json_t *state, *n;
	json_t *ev;
	int encrypted = 0;
	size_t i;

	state = json_object_get(json_object_get(room, "state"), "events");
	json_array_foreach(state, i, ev) {
		sk = mx_json_str(ev, "state_key");
		if (is_type(ev, "m.room.name") && sk && !*sk)
			name = content_str(ev, "name");
		else if (is_type(ev, "m.room.canonical_alias") && sk && !*sk)
			alias = content_str(ev, "alias");
		/* Any m.room.encryption state means encrypted (DESIGN.md,
		 * threat model), whatever its content. */
		else if (is_type(ev, "m.room.encryption"))
			encrypted = 1;
	}
	/* The server's count of joined members (spec: GET /sync, "summary",
	 * sent with lazy-loaded members). */
	n = json_object_get(json_object_get(room, "summary"),
	    "m.joined_member_count");
	return print_new(json_pack("{s:s,s:s?,s:s?,s:b,s:I,s:s?}", "room_id",
			     room_id, "name", name, "canonical_alias", alias,
			     "encrypted", encrypted, "members",
			     (json_int_t)(json_is_integer(n) ?
				     json_integer_value(n) :
				     0),
			     "dm_with", mx_json_str(dms, room_id)),
	    e);
}

static int
cmd_list(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *resp = NULL, *dms, *ev, *room;
	const json_t *direct = NULL;
	const char *room_id;
	size_t i;
	int rc = 0;

	(void)o;
	(void)argc;
	(void)argv;
	/* One request for every room: the state that names a room, the
	 * member count of its summary, and m.direct. */
	if (mx_sync_fresh(&c->api,
		"\"account_data\":{\"types\":[\"m.direct\"]},"
		"\"room\":{\"timeline\":{\"limit\":0},\"state\":{"
		"\"types\":[\"m.room.name\",\"m.room.canonical_alias\","
		"\"m.room.encryption\"],\"lazy_load_members\":true},"
		"\"ephemeral\":{\"types\":[]},\"account_data\":{"
		"\"types\":[]}}",
		&resp, e) != 0)
		return -1;
	json_array_foreach(json_object_get(json_object_get(resp,
					       "account_data"),
			       "events"),
	    i, ev)
		if (is_type(ev, "m.direct"))
			direct = json_object_get(ev, "content");
	dms = dm_users(json_is_object(direct) ? direct : NULL);
	json_object_foreach(json_object_get(json_object_get(resp, "rooms"),
				"join"),
	    room_id, room)
		if (rc == 0)
			rc = room_line(room_id, room, dms, e);
	json_decref(resp);
	json_decref(dms);
	return rc;
}

/* The room name in the stripped state of an invite, or NULL. */
static const char *
invite_name(const json_t *room)
{
	const json_t *evs =
	    json_object_get(json_object_get(room, "invite_state"), "events");
	json_t *ev;
	size_t i;

	json_array_foreach(evs, i, ev)
		if (is_type(ev, "m.room.name"))
			return content_str(ev, "name");
	return NULL;
}

static int
cmd_invites(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *inv = NULL, *room;
	const json_t *ev;
	const char *id;
	int rc = 0;

	(void)o;
	(void)argc;
	(void)argv;
	if (mx_sync_invites(&c->api, &inv, e) != 0)
		return -1;
	json_object_foreach(inv, id, room) {
		ev = mx_sync_invite_event(room);
		rc = print_new(json_pack("{s:s,s:s?,s:b,s:s?}", "room_id", id,
				   "inviter", mx_json_str(ev, "sender"),
				   "is_direct",
				   json_is_true(
				       json_object_get(json_object_get(ev,
							   "content"),
					   "is_direct")),
				   "name", invite_name(room)),
		    e);
		if (rc != 0)
			break;
	}
	json_decref(inv);
	return rc;
}

/* --- create --------------------------------------------------------------- */

/* The users to invite: --invite's and --dm's, each once. */
static const char **
invitees(const struct opt *o, size_t *n)
{
	const char **v = mx_xcalloc(o->ninvite + 1, sizeof(*v));
	size_t i, j;

	*n = 0;
	for (i = 0; i < o->ninvite + 1; i++) {
		const char *u = i < o->ninvite ? o->invite[i] : o->dm;

		for (j = 0; u != NULL && j < *n; j++)
			if (strcmp(v[j], u) == 0)
				break;
		if (u != NULL && j == *n)
			v[(*n)++] = u;
	}
	return v;
}

/*
 * The createRoom body (spec: Client-Server API, "Creation"): private rooms
 * and direct chats are encrypted from their first event, as Element makes
 * them, through initial_state; a public one only when asked.  No room
 * lets guests join (the private presets would: spec "Guest access"), so
 * no account without registration reads along; in no room but a direct
 * chat (where both are admins) can any member invite (spec default 0):
 * only moderators (50) bring in new readers, bridges and bots included,
 * as mx-bridge-check's power check asks.
 */
static json_t *
create_body(const struct opt *o, const char *const *users, size_t n)
{
	json_t *b = json_object(), *inv = json_array();
	int encrypt = o->encrypted || (!o->public && !o->no_encryption);
	size_t i;

	json_object_set_new(b, "preset",
	    json_string(o->dm ? "trusted_private_chat" :
		    o->public ? "public_chat" :
				"private_chat"));
	if (o->name != NULL)
		json_object_set_new(b, "name", json_string(o->name));
	if (o->topic != NULL)
		json_object_set_new(b, "topic", json_string(o->topic));
	if (o->alias != NULL)
		json_object_set_new(b, "room_alias_name",
		    json_string(o->alias));
	for (i = 0; i < n; i++)
		json_array_append_new(inv, json_string(users[i]));
	json_object_set_new(b, "invite", inv);
	if (o->dm != NULL)
		json_object_set_new(b, "is_direct", json_true());
	else
		json_object_set_new(b, "power_level_content_override",
		    json_pack("{s:i}", "invite", 50));
	json_object_set_new(b, "initial_state",
	    json_pack("[{s:s,s:s,s:{s:s}}]", "type", "m.room.guest_access",
		"state_key", "", "content", "guest_access", "forbidden"));
	if (encrypt)
		json_array_append_new(json_object_get(b, "initial_state"),
		    json_pack("{s:s,s:s,s:{s:s}}", "type", "m.room.encryption",
			"state_key", "", "content", "algorithm", MEGOLM));
	return b;
}

static int
check_create(const struct opt *o, struct mx_err *e)
{
	if (o->encrypted && o->no_encryption)
		return mx_err_set(e, MX_USAGE,
		    "--encrypted and --no-encryption exclude each other");
	if (o->dm != NULL && o->public)
		return mx_err_set(e, MX_USAGE,
		    "--dm and --public exclude each other");
	if (o->alias != NULL &&
	    (o->alias[0] == '\0' || o->alias[0] == '#' ||
		strchr(o->alias, ':') != NULL))
		return mx_err_set(e, MX_USAGE,
		    "--alias takes the local part only, not '%s'", o->alias);
	return 0;
}

static int
cmd_create(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	const char **users;
	char *room_id = NULL, *alias = NULL;
	json_t *body = NULL;
	size_t n;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (check_create(o, e) != 0)
		return -1;
	users = invitees(o, &n);
	/* Every user first: a mistyped one leaves no room behind. */
	if (check_users_exist(c, users, n, e) != 0 || mx_ctx_whoami(c, e) != 0)
		goto out;
	body = create_body(o, users, n);
	if (mx_api_create_room(&c->api, body, &room_id, e) != 0) {
		mx_err_prefix(e, "cannot create the room");
		goto out;
	}
	/* The alias lives on the server that made the room, ours. */
	if (o->alias != NULL)
		alias = mx_xasprintf("#%s:%s", o->alias,
		    strchr(c->sess.user_id, ':') + 1);
	if (o->dm != NULL && mx_room_record_dm(c, o->dm, room_id, e) != 0) {
		mx_err_prefix(e,
		    "created '%s', but cannot record it in m.direct", room_id);
		goto out;
	}
	rc = print_new(json_pack("{s:s,s:s?}", "room_id", room_id, "alias",
			   alias),
	    e);
out:
	json_decref(body);
	free(users);
	free(room_id);
	free(alias);
	return rc;
}

/* --- membership ----------------------------------------------------------- */

static int
cmd_join(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char *room_id;
	int rc;

	(void)o;
	(void)argc;
	if (mx_room_resolve(c, argv[0], MX_ROOM_JOIN, &room_id, e) != 0)
		return -1;
	rc = print_new(json_pack("{s:s,s:s}", "room_id", room_id, "membership",
			   "join"),
	    e);
	free(room_id);
	return rc;
}

static int
cmd_leave(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char *room_id;
	int rc = -1;

	(void)argc;
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	if (mx_api_leave(&c->api, room_id, e) != 0)
		mx_err_prefix(e, "cannot leave '%s'", argv[0]);
	else if (o->forget && mx_api_forget(&c->api, room_id, e) != 0)
		mx_err_prefix(e, "left '%s', but cannot forget it", argv[0]);
	else
		rc = print_new(json_pack("{s:s,s:s}", "room_id", room_id,
				   "membership", "leave"),
		    e);
	free(room_id);
	return rc;
}

static int
cmd_invite(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char *room_id = NULL;
	int i, rc = -1;

	(void)o;
	if (check_users_exist(c, (const char *const *)argv + 1,
		(size_t)argc - 1, e) != 0 ||
	    resolve(c, argv[0], &room_id, e) != 0)
		goto out;
	for (i = 1; i < argc; i++) {
		if (mx_api_membership(&c->api, room_id, "invite", argv[i],
			NULL, e) != 0) {
			mx_err_prefix(e, "cannot invite '%s' to '%s'", argv[i],
			    argv[0]);
			goto out;
		}
		if (print_new(json_pack("{s:s,s:s,s:s}", "room_id", room_id,
				  "user_id", argv[i], "membership", "invite"),
			e) != 0)
			goto out;
	}
	rc = 0;
out:
	free(room_id);
	return rc;
}

/* kick, ban, unban (spec: "Room membership"): argv[-1] names the action;
 * the membership it leaves the user in is printed. */
static int
cmd_moderate(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	const char *action = argv[-1];
	char *room_id;
	int rc = -1;

	(void)argc;
	if (check_user(argv[1], e) != 0 ||
	    resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	if (mx_api_membership(&c->api, room_id, action, argv[1], o->reason,
		e) != 0)
		mx_err_prefix(e, "cannot %s '%s' in '%s'", action, argv[1],
		    argv[0]);
	else
		rc = print_new(json_pack("{s:s,s:s,s:s}", "room_id", room_id,
				   "user_id", argv[1], "membership",
				   strcmp(action, "ban") == 0 ? "ban" :
								"leave"),
		    e);
	free(room_id);
	return rc;
}

/* A user's power level (spec: "m.room.power_levels"): users[user], else
 * users_default, else 0. */
static json_int_t
power_of(const json_t *pl, const char *user)
{
	json_t *v = json_object_get(json_object_get(pl, "users"), user);

	if (!json_is_integer(v))
		v = json_object_get(pl, "users_default");
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int
member_line(const json_t *ev, const json_t *pl, const char *only,
    struct mx_err *e)
{
	const char *user = mx_json_str(ev, "state_key");
	const char *ms = content_str(ev, "membership");

	if (user == NULL || ms == NULL || (only && strcmp(ms, only) != 0))
		return 0;
	return print_new(json_pack("{s:s,s:s?,s:s,s:I}", "user_id", user,
			     "display_name", content_str(ev, "displayname"),
			     "membership", ms, "power", power_of(pl, user)),
	    e);
}

static int
cmd_members(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	static const char *const known[] = { "join", "invite", "knock",
		"leave", "ban" };
	json_t *chunk = NULL, *pl = NULL, *ev;
	char *room_id = NULL;
	size_t i;
	int rc = -1;

	(void)argc;
	for (i = 0; o->membership && i < sizeof(known) / sizeof(*known); i++)
		if (strcmp(o->membership, known[i]) == 0)
			break;
	if (o->membership && i == sizeof(known) / sizeof(*known))
		return mx_err_set(e, MX_USAGE, "no membership '%s'",
		    o->membership);
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	if (mx_api_members(&c->api, room_id, &chunk, e) != 0 ||
	    mx_api_get_state(&c->api, room_id, "m.room.power_levels", "", &pl,
		e) < 0) {
		mx_err_prefix(e, "cannot list the members of '%s'", argv[0]);
		goto out;
	}
	rc = 0;
	json_array_foreach(chunk, i, ev)
		if (rc == 0)
			rc = member_line(ev, pl, o->membership, e);
out:
	json_decref(chunk);
	json_decref(pl);
	free(room_id);
	return rc;
}

/* --- state ---------------------------------------------------------------- */

static int
cmd_state(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j = NULL, *ev;
	char *room_id;
	size_t i;
	int rc = -1;

	(void)o;
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	if (argc == 1) {
		if (mx_api_room_state(&c->api, room_id, &j, e) != 0)
			mx_err_prefix(e, "cannot read the state of '%s'",
			    argv[0]);
		else
			rc = 0;
		json_array_foreach(j, i, ev)
			if (rc == 0)
				rc = mx_cli_print_json(ev, e);
	} else {
		rc = mx_api_get_state(&c->api, room_id, argv[1],
		    argc > 2 ? argv[2] : "", &j, e);
		if (rc == 0)
			mx_err_set(e, MX_PERM, "'%s' has no %s state%s%s%s",
			    argv[0], argv[1], argc > 2 ? " '" : "",
			    argc > 2 ? argv[2] : "", argc > 2 ? "'" : "");
		if (rc < 0)
			mx_err_prefix(e, "cannot read the state of '%s'",
			    argv[0]);
		rc = rc == 1 ? mx_cli_print_json(j, e) : -1;
	}
	json_decref(j);
	free(room_id);
	return rc;
}

/*
 * An m.room.encryption event is never one that turns encryption off or
 * changes it (DESIGN.md, threat model: mx refuses rather than
 * downgrades; spec: "m.room.encryption", which is never meant to be
 * changed once set).  0: send it; 1: the same content is there already,
 * nothing to send; -1: refused (MX_LOCAL).
 */
static int
encryption_guard(struct mx_ctx *c, const char *room_id, const char *arg,
    const char *state_key, const json_t *content, struct mx_err *e)
{
	const char *alg = mx_json_str(content, "algorithm");
	json_t *old = NULL;
	int rc;

	if (alg == NULL || strcmp(alg, MEGOLM) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "refusing m.room.encryption without the algorithm " MEGOLM
		    ": it would leave '%s' unreadable or in the clear",
		    arg);
	rc = mx_api_get_state(&c->api, room_id, "m.room.encryption", state_key,
	    &old, e);
	if (rc < 0)
		return mx_err_prefix(e, "cannot read the encryption of '%s'",
		    arg);
	if (rc == 1 && !json_equal(old, (json_t *)content))
		rc = mx_err_set(e, MX_LOCAL,
		    "'%s' is encrypted already; its m.room.encryption is "
		    "never changed",
		    arg);
	json_decref(old);
	return rc;
}

/* Read CONTENT: exactly one JSON object on stdin. */
static json_t *
read_content(struct mx_err *e)
{
	json_error_t je;
	json_t *j = json_loadf(stdin, 0, &je);

	if (j == NULL)
		mx_err_set(e, MX_LOCAL, "stdin: not one JSON object: %s",
		    je.text);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		mx_err_set(e, MX_LOCAL, "stdin: not a JSON object");
	}
	return j;
}

/* Send a state event (after the encryption guard); print its id. */
static int
put_state(struct mx_ctx *c, const char *arg, const char *room_id,
    const char *type, const char *key, const json_t *content, struct mx_err *e)
{
	char *eid = NULL;
	int rc = 0;

	if (strcmp(type, "m.room.encryption") == 0 &&
	    (rc = encryption_guard(c, room_id, arg, key, content, e)) != 0) {
		if (rc == 1)
			mx_cli_note(c, 0,
			    "'%s' has this %s already; unchanged", arg, type);
		return rc < 0 ? -1 : 0;
	}
	if (mx_api_put_state(&c->api, room_id, type, key, content, &eid, e) !=
	    0)
		return mx_err_prefix(e, "cannot set %s of '%s'", type, arg);
	rc = print_event_id(eid, e);
	free(eid);
	return rc;
}

static int
cmd_set(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *content;
	char *room_id = NULL;
	int rc = -1;

	(void)o;
	if ((content = read_content(e)) == NULL)
		return -1;
	if (resolve(c, argv[0], &room_id, e) == 0)
		rc = put_state(c, argv[0], room_id, argv[1],
		    argc > 2 ? argv[2] : "", content, e);
	json_decref(content);
	free(room_id);
	return rc;
}

/* name, topic, avatar ROOM VALUE: argv[-1] names which. */
static int
cmd_shorthand(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	static const struct {
		const char *cmd, *type, *key;
	} map[] = {
		{ "name", "m.room.name", "name" },
		{ "topic", "m.room.topic", "topic" },
		{ "avatar", "m.room.avatar", "url" },
	};
	char *room_id = NULL, *srv = NULL, *id = NULL;
	json_t *content;
	size_t k;
	int rc = -1;

	(void)o;
	(void)argc;
	for (k = 0; strcmp(map[k].cmd, argv[-1]) != 0; k++)
		;
	if (strcmp(argv[-1], "avatar") == 0) {
		if (mx_api_parse_mxc(argv[1], &srv, &id) != 0)
			return mx_err_set(e, MX_USAGE,
			    "'%s' is not an mxc:// URI", argv[1]);
		free(srv);
		free(id);
	}
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	content = json_pack("{s:s}", map[k].key, argv[1]);
	rc = put_state(c, argv[0], room_id, map[k].type, "", content, e);
	json_decref(content);
	free(room_id);
	return rc;
}

static int
cmd_encrypt(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *content = NULL, *old = NULL;
	char *room_id;
	int rc;

	(void)o;
	(void)argc;
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	rc = mx_api_get_state(&c->api, room_id, "m.room.encryption", "", &old,
	    e);
	if (rc < 0)
		mx_err_prefix(e, "cannot read the encryption of '%s'",
		    argv[0]);
	else if (rc == 1)
		mx_cli_note(c, 0, "'%s' is encrypted already; unchanged",
		    argv[0]);
	else {
		content = json_pack("{s:s}", "algorithm", MEGOLM);
		rc = put_state(c, argv[0], room_id, "m.room.encryption", "",
		    content, e);
	}
	json_decref(content);
	json_decref(old);
	free(room_id);
	return rc < 0 ? -1 : 0;
}

/* A power level: an integer canonical JSON can carry (spec: "Canonical
 * JSON", [-(2**53)+1, (2**53)-1]). */
static int
parse_level(const char *s, json_int_t *level, struct mx_err *e)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > 9007199254740991LL ||
	    v < -9007199254740991LL)
		return mx_err_set(e, MX_USAGE, "'%s' is not a power level", s);
	*level = (json_int_t)v;
	return 0;
}

static int
cmd_power(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *pl = NULL, *users;
	char *room_id = NULL;
	json_int_t level = 0;
	int rc = -1;

	(void)o;
	(void)argc;
	if (parse_level(argv[2], &level, e) != 0 ||
	    check_users_exist(c, (const char *const *)argv + 1, 1, e) != 0 ||
	    resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	rc = mx_api_get_state(&c->api, room_id, "m.room.power_levels", "", &pl,
	    e);
	if (rc == 0)
		mx_err_set(e, MX_PERM, "'%s' has no power levels", argv[0]);
	if (rc != 1) {
		rc = mx_err_prefix(e, "cannot change power in '%s'", argv[0]);
		goto out;
	}
	users = json_object_get(pl, "users");
	if (!json_is_object(users)) {
		users = json_object();
		json_object_set_new(pl, "users", users);
	}
	json_object_set_new(users, argv[1], json_integer(level));
	rc = put_state(c, argv[0], room_id, "m.room.power_levels", "", pl, e);
out:
	json_decref(pl);
	free(room_id);
	return rc;
}

/* --- aliases -------------------------------------------------------------- */

/* The room alias points to (spec: "Room aliases"): an unknown one is 3. */
static int
alias_room(struct mx_ctx *c, const char *alias, char **room_id,
    struct mx_err *e)
{
	if (mx_api_resolve_alias(&c->api, alias, room_id, e) == 0)
		return 0;
	if (e->http == 404)
		return mx_err_set(e, MX_PERM, "unknown alias '%s'", alias);
	return mx_err_prefix(e, "cannot resolve '%s'", alias);
}

static int
cmd_alias(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	const char *verb = argv[1], *alias = argv[2];
	char *room_id = NULL, *other = NULL;
	int rc = -1;

	(void)o;
	(void)argc;
	if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0 &&
	    strcmp(verb, "resolve") != 0)
		return mx_err_set(e, MX_USAGE,
		    "alias: '%s' is none of add, remove, resolve", verb);
	if (alias[0] != '#' || strchr(alias, ':') == NULL || alias[1] == ':')
		return mx_err_set(e, MX_USAGE, "'%s' is not a room alias",
		    alias);
	if (resolve(c, argv[0], &room_id, e) != 0)
		return -1;
	if (strcmp(verb, "add") == 0) {
		if (mx_api_put_alias(&c->api, alias, room_id, e) != 0) {
			mx_err_prefix(e, "cannot add '%s'", alias);
			goto out;
		}
	} else if (alias_room(c, alias, &other, e) != 0) {
		goto out;
	} else if (strcmp(other, room_id) != 0) {
		/* resolve: print where it points, and answer "no". */
		if (strcmp(verb, "resolve") == 0 &&
		    print_new(json_pack("{s:s,s:s}", "alias", alias, "room_id",
				  other),
			e) != 0)
			goto out;
		mx_err_set(e, strcmp(verb, "resolve") == 0 ? MX_NO : MX_PERM,
		    "'%s' is an alias of '%s', not of '%s'", alias, other,
		    argv[0]);
		goto out;
	} else if (strcmp(verb, "remove") == 0 &&
	    mx_api_delete_alias(&c->api, alias, e) != 0) {
		mx_err_prefix(e, "cannot remove '%s'", alias);
		goto out;
	}
	rc = print_new(json_pack("{s:s,s:s}", "alias", alias, "room_id",
			   room_id),
	    e);
out:
	free(room_id);
	free(other);
	return rc;
}

/* --- main ----------------------------------------------------------------- */

static const struct {
	struct mx_cli_sub sub; /* the name, the operands after it */
	int (*fn)(struct mx_ctx *, const struct opt *, int, char **,
	    struct mx_err *);
	unsigned opts; /* BIT() of the options it takes */
} cmds[] = {
	{ { "list", 0, 0 }, cmd_list, 0 },
	{ { "invites", 0, 0 }, cmd_invites, 0 },
	{ { "create", 0, 0 }, cmd_create, CREATE_OPTS },
	{ { "join", 1, 1 }, cmd_join, 0 },
	{ { "leave", 1, 1 }, cmd_leave, BIT(O_FORGET) },
	{ { "invite", 2, 1000 }, cmd_invite, 0 },
	{ { "kick", 2, 2 }, cmd_moderate, BIT(O_REASON) },
	{ { "ban", 2, 2 }, cmd_moderate, BIT(O_REASON) },
	{ { "unban", 2, 2 }, cmd_moderate, BIT(O_REASON) },
	{ { "members", 1, 1 }, cmd_members, BIT(O_MEMBERSHIP) },
	{ { "state", 1, 3 }, cmd_state, 0 },
	{ { "set", 2, 3 }, cmd_set, 0 },
	{ { "name", 2, 2 }, cmd_shorthand, 0 },
	{ { "topic", 2, 2 }, cmd_shorthand, 0 },
	{ { "avatar", 2, 2 }, cmd_shorthand, 0 },
	{ { "encrypt", 1, 1 }, cmd_encrypt, 0 },
	{ { "power", 3, 3 }, cmd_power, 0 },
	{ { "alias", 3, 3 }, cmd_alias, 0 },
};

/* An option the subcommand does not take is a usage error. */
static void
check_opts(const struct opt *o, const char *sub, unsigned allowed)
{
	const struct mx_opt *p;

	for (p = opts; p->name != NULL; p++)
		if ((o->given & BIT(p->id)) && !(allowed & BIT(p->id)))
			mx_cli_usage(&cli, "'%s' takes no --%s", sub, p->name);
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 0 };
	struct mx_err e;
	size_t k;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	k = mx_cli_subcommand(&cli, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), argc, argv, i);
	check_opts(&o, argv[i], cmds[k].opts);
	/* The profile's session (its store only when the profile exists),
	 * or MX_ACCESS_TOKEN's, or MX_IDENTITY's. */
	if (mx_ctx_open(&c, MX_CTX_SESSION, &e) != 0 ||
	    cmds[k].fn(&c, &o, argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(cli.prog, &e);
	free(o.invite);
	mx_ctx_close(&c);
	return rc;
}
