/*
 * Unit tests of lib/sync and lib/history's pure parts: selections,
 * filters, position keys, request paths, and the order of a walk.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "history.h"
#include "sync.h"
#include "util.h"
#include "tap.h"

static void
t_split_and_keys(void)
{
	struct mx_sync_sel s = { 0 };
	char *k;

	k = mx_sync_token_key(&s);
	is_str(k, "next_batch", "everything: next_batch");
	free(k);
	mx_sync_split("m.room.message,,m.reaction", &s.types, &s.ntypes);
	mx_sync_split("!b:hs", &s.rooms, &s.nrooms);
	mx_sync_split("!a:hs", &s.rooms, &s.nrooms);
	ok(s.ntypes == 2, "empty items are dropped");
	k = mx_sync_token_key(&s);
	is_str(k, "next_batch rooms=!a:hs,!b:hs types=m.reaction,"
	    "m.room.message", "a selection's key is sorted");
	free(k);
	is_str(s.rooms[0], "!b:hs", "the selection itself is not sorted");
	mx_sync_sel_release(&s);
}

static void
t_filters(void)
{
	struct mx_sync_sel s = { 0 };
	char *f;

	f = mx_sync_filter(&s, 1, 0);
	is_str(f, "{\"room\":{\"timeline\":{\"limit\":10},\"state\":"
	    "{\"types\":[]},\"ephemeral\":{\"types\":[]},\"account_data\":"
	    "{\"types\":[]}},\"presence\":{\"types\":[]},\"account_data\":"
	    "{\"types\":[]}}", "first sync: recent timeline, no state");
	free(f);
	ok(mx_sync_room_filter(&s) == NULL, "no types: no /messages filter");
	mx_sync_split("m.room.message", &s.types, &s.ntypes);
	mx_sync_split("!a:hs", &s.rooms, &s.nrooms);
	f = mx_sync_filter(&s, 0, 7);
	is_str(f, "{\"room\":{\"timeline\":{\"limit\":100,\"types\":"
	    "[\"m.room.message\"]},\"state\":{\"types\":[\"m.room.message\"]},"
	    "\"ephemeral\":{\"types\":[]},\"account_data\":{\"types\":[]},"
	    "\"rooms\":[\"!a:hs\"]},\"presence\":{\"types\":[]},"
	    "\"account_data\":{\"types\":[]}}", "later sync with a selection");
	free(f);
	f = mx_sync_room_filter(&s);
	is_str(f, "{\"types\":[\"m.room.message\"]}", "/messages filter");
	free(f);
	f = mx_sync_filter(&s, 1, 7);
	ok(strstr(f, "\"timeline\":{\"limit\":7,") != NULL,
	    "a first sync's own limit");
	free(f);
	mx_sync_sel_release(&s);
}

static void
t_wants(void)
{
	struct mx_sync_sel s = { 0 };
	json_t *a = json_pack("{s:s}", "type", "m.room.message");
	json_t *b = json_pack("{s:s}", "type", "m.room.topic");
	json_t *c = json_object();

	ok(mx_sync_wants(&s, a) && mx_sync_wants(&s, c), "no types: all");
	mx_sync_split("m.room.message", &s.types, &s.ntypes);
	ok(mx_sync_wants(&s, a), "selected type");
	ok(!mx_sync_wants(&s, b), "other type");
	ok(!mx_sync_wants(&s, c), "no type at all");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	mx_sync_sel_release(&s);
}

static void
t_path(void)
{
	char *p;

	p = mx_api_messages_path("!r:hs", 'f', NULL, NULL, 100, NULL);
	is_str(p, "/_matrix/client/v3/rooms/%21r%3Ahs/messages?dir=f&limit=100",
	    "forward from the start");
	free(p);
	p = mx_api_messages_path("!r:hs", 'b', "t1-2_3", "s9", 5,
	    "{\"a\":1}");
	is_str(p, "/_matrix/client/v3/rooms/%21r%3Ahs/messages?dir=b&limit=5"
	    "&from=t1-2_3&to=s9&filter=%7B%22a%22%3A1%7D", "every parameter");
	free(p);
}

static int
rec_event(void *u, const char *room_id, const json_t *ev,
    enum mx_sync_kind kind, struct mx_err *e)
{
	(void)e;
	mx_buf_addf(u, "%s %c %s\n", room_id, "TGS"[kind],
	    json_string_value(json_object_get(ev, "event_id")));
	return 0;
}

static int
rec_invite(void *u, const char *room_id, const json_t *ev, struct mx_err *e)
{
	(void)e;
	mx_buf_addf(u, "%s I %s\n", room_id, ev ? json_string_value(
	    json_object_get(ev, "state_key")) : "-");
	return 0;
}

static const char answer[] =
    "{\"next_batch\":\"s2\",\"rooms\":{"
    "\"invite\":{\"!i:hs\":{\"invite_state\":{\"events\":["
    "{\"type\":\"m.room.name\",\"state_key\":\"\",\"content\":{}},"
    "{\"type\":\"m.room.member\",\"state_key\":\"@me:hs\","
    "\"content\":{\"membership\":\"invite\"}}]}},"
    "\"!j:hs\":{\"invite_state\":{\"events\":[]}}},"
    "\"join\":{\"!a:hs\":{\"state\":{\"events\":[{\"event_id\":\"$s\"}]},"
    "\"timeline\":{\"limited\":false,\"events\":[{\"event_id\":\"$1\"},"
    "{\"event_id\":\"$2\"}]}}},"
    "\"leave\":{\"!l:hs\":{\"timeline\":{\"events\":"
    "[{\"event_id\":\"$3\"}]}}}}}";

static void
t_walk(void)
{
	struct mx_sync_sel s = { 0 };
	struct mx_sync_walk w = { 0 };
	struct mx_buf b = MX_BUF_INIT;
	struct mx_err e;
	json_t *j = json_loads(answer, 0, NULL);

	w.sel = &s;
	w.event = rec_event;
	w.invite = rec_invite;
	w.u = &b;
	w.since = "s1";
	ok(mx_sync_walk(&w, j, &e) == 0, "walk");
	is_str(b.p, "!a:hs S $s\n!a:hs T $1\n!a:hs T $2\n!l:hs T $3\n"
	    "!i:hs I @me:hs\n!j:hs I -\n", "state, timeline, leave, invites");
	mx_buf_reset(&b);
	w.since = NULL;
	ok(mx_sync_walk(&w, j, &e) == 0, "first walk");
	is_str(b.p, "!a:hs T $1\n!a:hs T $2\n!l:hs T $3\n!i:hs I @me:hs\n"
	    "!j:hs I -\n", "a first sync hands over no state");
	is_str(mx_sync_next_batch(j), "s2", "next_batch");
	mx_buf_release(&b);
	json_decref(j);
}

int
main(void)
{
	t_split_and_keys();
	t_filters();
	t_wants();
	t_path();
	t_walk();
	done();
	return 0;
}
