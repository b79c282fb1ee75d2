/*
 * sync: walking /sync answers (spec: Client-Server API, "Syncing").  What
 * a selection of rooms and event types looks like as a server-side filter,
 * where its position is stored, and the order in which the events of one
 * answer are handed over: per joined (then left) room, the events of a
 * timeline gap first (paged from /messages, so nothing is skipped), else
 * the state delta, then the timeline; invites last.
 *
 * Events handed to callbacks are borrowed (valid during the call only);
 * strings returned are owned by the caller (free).
 */
#ifndef MX_SYNC_H
#define MX_SYNC_H

#include <stddef.h>

#include <jansson.h>

#include "api.h"
#include "err.h"

/* Timeline events per room asked for: on a first sync, and afterwards
 * (a longer timeline than this leaves a gap, filled from /messages). */
#define MX_SYNC_FIRST_LIMIT 10
#define MX_SYNC_LIMIT 100

/* Which events a run wants: rooms and types (none: all). */
struct mx_sync_sel {
	char **rooms; /* room IDs */
	size_t nrooms;
	char **types; /* event types */
	size_t ntypes;
};

/* Where an event came from in the answer. */
enum mx_sync_kind {
	MX_SYNC_TIMELINE, /* rooms.join/leave.*.timeline */
	MX_SYNC_GAP,	  /* a limited timeline's gap (/messages) */
	MX_SYNC_STATE,	  /* rooms.join/leave.*.state: a state delta */
};

/* Append each comma-separated item of list to *v (strings copied). */
void mx_sync_split(const char *list, char ***v, size_t *n);
/* Free the strings and arrays of s (not s itself). */
void mx_sync_sel_release(struct mx_sync_sel *s);

/*
 * The /sync filter (JSON text) of s: its rooms and types, no presence,
 * account data or ephemeral events.  first: a first sync (no since
 * token), which asks for limit (0: MX_SYNC_FIRST_LIMIT) timeline events
 * and no state (the room's standing state is not news); else
 * MX_SYNC_LIMIT and state.
 */
char *mx_sync_filter(const struct mx_sync_sel *s, int first, int limit);
/* The RoomEventFilter (JSON text) of s's types for /messages, or NULL
 * when s selects every type. */
char *mx_sync_room_filter(const struct mx_sync_sel *s);
/* 1 when ev's type is selected by s. */
int mx_sync_wants(const struct mx_sync_sel *s, const json_t *ev);
/*
 * The store key (namespace "sync") of s's position: "next_batch" for
 * everything; otherwise one per selection, "next_batch rooms=A,B
 * types=T,U" (sorted), so a narrow run never moves the position of a
 * wider one past events it did not print.
 */
char *mx_sync_token_key(const struct mx_sync_sel *s);

struct mx_sync_walk {
	struct mx_api *api; /* for gap filling (borrowed) */
	const struct mx_sync_sel *sel;
	const char *since; /* the token the answer was asked with, or
				   NULL on a first sync (no gaps, no state) */
	/* Each event in order; non-zero stops the walk and is returned. */
	int (*event)(void *u, const char *room_id, const json_t *ev,
	    enum mx_sync_kind kind, struct mx_err *e);
	/* Each room we are invited to (rooms.invite), with our invite: the
	 * stripped m.room.member event of its invite_state, or NULL when the
	 * server sent none.  May be NULL. */
	int (*invite)(void *u, const char *room_id, const json_t *ev,
	    struct mx_err *e);
	/* Told before a gap of room_id is filled; may be NULL. */
	void (*gap)(void *u, const char *room_id);
	void *u;
};

/*
 * Hand over the events of one /sync answer as described above.  Returns 0,
 * -1 with e set (gap filling failed: errors as mx_api_call), or what a
 * callback returned.
 */
int mx_sync_walk(const struct mx_sync_walk *w, const json_t *resp,
    struct mx_err *e);

/* The answer's next_batch (borrowed), or NULL when it has none. */
const char *mx_sync_next_batch(const json_t *resp);

/* 1 when selection s takes room_id (it names no rooms, or that one). */
int mx_sync_wants_room(const struct mx_sync_sel *s, const char *room_id);

/* A first /sync read anew from the server, whatever Synapse answered to
 * the same request a moment ago.  filter is the JSON body of a filter
 * without its braces, e.g. "\"room\":{...}"; presence is never asked.
 * *resp is the caller's. */
int mx_sync_fresh(struct mx_api *a, const char *filter, json_t **resp,
    struct mx_err *e);

/* The rooms we are invited to now, read anew from the server (a first
 * /sync that asks for nothing else): *invites is its "rooms.invite"
 * object, {room_id: {"invite_state": ...}} (caller's). */
int mx_sync_invites(struct mx_api *a, json_t **invites, struct mx_err *e);

/* Our invite among the stripped state of an invited room (an entry of
 * mx_sync_invites), or NULL. */
const json_t *mx_sync_invite_event(const json_t *room);

#endif
