/*
 * sync: selections, filters, positions and the walk of a /sync answer
 * (see sync.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "err.h"
#include "history.h"
#include "sync.h"
#include "util.h"
#include "banned.h"

void
mx_sync_split(const char *list, char ***v, size_t *n)
{
	const char *p = list, *comma;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > 0) {
			*v = mx_xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = mx_xstrndup(p, len);
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

static void
free_list(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

void
mx_sync_sel_release(struct mx_sync_sel *s)
{
	free_list(s->rooms, s->nrooms);
	free_list(s->types, s->ntypes);
	memset(s, 0, sizeof(*s));
}

static json_t *
str_array(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* {"types":[]}: no events of this kind. */
static json_t *
none(void)
{
	return json_pack("{s:[]}", "types");
}

char *
mx_sync_filter(const struct mx_sync_sel *s, int first, int limit)
{
	json_t *f, *room, *tl, *st;
	char *r;

	if (limit <= 0)
		limit = first ? MX_SYNC_FIRST_LIMIT : MX_SYNC_LIMIT;
	tl = json_pack("{s:i}", "limit", first ? limit : MX_SYNC_LIMIT);
	st = first ? none() : json_object();
	if (s->ntypes > 0) {
		json_object_set_new(tl, "types",
		    str_array(s->types, s->ntypes));
		if (!first)
			json_object_set_new(st, "types",
			    str_array(s->types, s->ntypes));
	}
	room = json_pack("{s:o,s:o,s:o,s:o}", "timeline", tl, "state", st,
	    "ephemeral", none(), "account_data", none());
	if (s->nrooms > 0)
		json_object_set_new(room, "rooms",
		    str_array(s->rooms, s->nrooms));
	f = json_pack("{s:o,s:o,s:o}", "room", room, "presence", none(),
	    "account_data", none());
	r = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return r;
}

char *
mx_sync_room_filter(const struct mx_sync_sel *s)
{
	json_t *f;
	char *r;

	if (s->ntypes == 0)
		return NULL;
	f = json_pack("{s:o}", "types", str_array(s->types, s->ntypes));
	r = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return r;
}

int
mx_sync_wants(const struct mx_sync_sel *s, const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	size_t i;

	if (s->ntypes == 0)
		return 1;
	for (i = 0; type != NULL && i < s->ntypes; i++)
		if (strcmp(s->types[i], type) == 0)
			return 1;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* " name=a,b" with v sorted (v itself is left alone). */
static void
add_sorted(struct mx_buf *b, const char *name, char **v, size_t n)
{
	char **c;
	size_t i;

	if (n == 0)
		return;
	c = mx_xcalloc(n, sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_str);
	mx_buf_addf(b, " %s=", name);
	for (i = 0; i < n; i++)
		mx_buf_addf(b, "%s%s", i ? "," : "", c[i]);
	free(c);
}

char *
mx_sync_token_key(const struct mx_sync_sel *s)
{
	struct mx_buf b = MX_BUF_INIT;

	mx_buf_adds(&b, "next_batch");
	add_sorted(&b, "rooms", s->rooms, s->nrooms);
	add_sorted(&b, "types", s->types, s->ntypes);
	return mx_buf_detach(&b);
}

const char *
mx_sync_next_batch(const json_t *resp)
{
	return json_string_value(json_object_get(resp, "next_batch"));
}

/* The events array of sect ("timeline", "state") of a room. */
static const json_t *
events_of(const json_t *room, const char *sect)
{
	return json_object_get(json_object_get(room, sect), "events");
}

static int
hand_over(const struct mx_sync_walk *w, const char *room_id,
    const json_t *events, enum mx_sync_kind kind, struct mx_err *e)
{
	const json_t *ev;
	size_t i;
	int rc;

	json_array_foreach(events, i, ev)
		if (json_is_object(ev) &&
		    (rc = w->event(w->u, room_id, ev, kind, e)) != 0)
			return rc;
	return 0;
}

struct gap {
	const struct mx_sync_walk *w;
	const char *room_id;
};

static int
gap_event(void *u, const json_t *ev, struct mx_err *e)
{
	struct gap *g = u;

	return g->w->event(g->w->u, g->room_id, ev, MX_SYNC_GAP, e);
}

/*
 * A limited timeline leaves out the events between since and the
 * timeline's prev_batch: page them forward from /messages.  Their state
 * events make the state delta redundant, so it is not handed over then.
 */
static int
fill_gap(const struct mx_sync_walk *w, const char *room_id,
    const char *prev_batch, struct mx_err *e)
{
	struct gap g = { w, room_id };
	struct mx_history h = { 0 };
	char *filter = mx_sync_room_filter(w->sel);
	int rc;

	if (w->gap)
		w->gap(w->u, room_id);
	h.api = w->api;
	h.room_id = room_id;
	h.filter = filter;
	h.from = w->since;
	h.to = prev_batch;
	h.event = gap_event;
	h.u = &g;
	rc = mx_history_forward(&h, e);
	free(filter);
	if (rc < 0)
		mx_err_prefix(e, "cannot fill the timeline gap of '%s'",
		    room_id);
	return rc;
}

static int
walk_room(const struct mx_sync_walk *w, const char *room_id,
    const json_t *room, struct mx_err *e)
{
	const json_t *tl = json_object_get(room, "timeline");
	const char *prev =
	    json_string_value(json_object_get(tl, "prev_batch"));
	int rc = 0;

	if (w->since == NULL)
		; /* a first sync: no gap, no news in state */
	else if (json_is_true(json_object_get(tl, "limited")) && prev != NULL)
		rc = fill_gap(w, room_id, prev, e);
	else
		rc = hand_over(w, room_id, events_of(room, "state"),
		    MX_SYNC_STATE, e);
	if (rc != 0)
		return rc;
	return hand_over(w, room_id, events_of(room, "timeline"),
	    MX_SYNC_TIMELINE, e);
}

const json_t *
mx_sync_invite_event(const json_t *room)
{
	const json_t *evs, *ev, *content;
	const char *type, *m;
	size_t i;

	evs = json_object_get(json_object_get(room, "invite_state"), "events");
	json_array_foreach(evs, i, ev) {
		type = json_string_value(json_object_get(ev, "type"));
		content = json_object_get(ev, "content");
		m = json_string_value(json_object_get(content, "membership"));
		if (type && m && strcmp(type, "m.room.member") == 0 &&
		    strcmp(m, "invite") == 0)
			return ev;
	}
	return NULL;
}

int
mx_sync_wants_room(const struct mx_sync_sel *s, const char *room_id)
{
	size_t i;

	if (s == NULL || s->nrooms == 0)
		return 1;
	for (i = 0; i < s->nrooms; i++)
		if (strcmp(s->rooms[i], room_id) == 0)
			return 1;
	return 0;
}

/* An invite, unless the selection names other rooms (the server's filter
 * leaves invites alone). */
static int
walk_invite(const struct mx_sync_walk *w, const char *room_id,
    const json_t *room, struct mx_err *e)
{
	if (w->invite == NULL || !mx_sync_wants_room(w->sel, room_id))
		return 0;
	return w->invite(w->u, room_id, mx_sync_invite_event(room), e);
}

int
mx_sync_fresh(struct mx_api *a, const char *filter, json_t **resp,
    struct mx_err *e)
{
	char *f;
	int rc;

	/* Synapse keeps the answer of a /sync for a while and gives it again
	 * to the same request: a first sync of the same filter a minute ago
	 * would bring back that minute's rooms.  The filter names a presence
	 * type of this moment, which no event has, to ask anew. */
	f = mx_xasprintf("{\"presence\":{\"not_types\":[\"mx.now.%lld\"],"
			 "\"types\":[]},%s}",
	    mx_time_ms(), filter);
	rc = mx_api_sync(a, NULL, f, 0, resp, e);
	free(f);
	return rc;
}

int
mx_sync_invites(struct mx_api *a, json_t **invites, struct mx_err *e)
{
	json_t *resp = NULL;

	*invites = NULL;
	if (mx_sync_fresh(a,
		"\"account_data\":{\"types\":[]},"
		"\"room\":{\"timeline\":{\"limit\":0},\"state\":"
		"{\"types\":[]},"
		"\"ephemeral\":{\"types\":[]},\"account_data\":{"
		"\"types\":[]}}",
		&resp, e) != 0)
		return -1;
	*invites = json_object_get(json_object_get(resp, "rooms"), "invite");
	*invites =
	    json_is_object(*invites) ? json_incref(*invites) : json_object();
	json_decref(resp);
	return 0;
}

int
mx_sync_walk(const struct mx_sync_walk *w, const json_t *resp,
    struct mx_err *e)
{
	const json_t *rooms = json_object_get(resp, "rooms"), *room;
	static const char *const sects[] = { "join", "leave" };
	const char *room_id;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sects) / sizeof(sects[0]); i++)
		json_object_foreach((json_t *)json_object_get(rooms, sects[i]),
		    room_id, room)
			if ((rc = walk_room(w, room_id, room, e)) != 0)
				return rc;
	json_object_foreach((json_t *)json_object_get(rooms, "invite"),
	    room_id, room)
		if ((rc = walk_invite(w, room_id, room, e)) != 0)
			return rc;
	return 0;
}
