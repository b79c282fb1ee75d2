/*
 * history: paging a room's timeline through /messages (see history.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "err.h"
#include "history.h"
#include "util.h"
#include "banned.h"

/* One page from the token from (NULL: the room's start or end), up to
 * to, towards dir: GET it, check its shape. */
static int
get_page(struct mx_api *a, const char *room_id, char dir, const char *from,
    const char *to, int limit, const char *filter, json_t **out,
    json_t **chunk, struct mx_err *e)
{
	if (mx_api_messages(a, room_id, from, to, dir,
		limit > 0 ? limit : MX_HISTORY_PAGE, filter, out, e) != 0)
		return -1;
	*chunk = json_object_get(*out, "chunk");
	if (!json_is_array(*chunk)) {
		json_decref(*out);
		*out = NULL;
		return mx_err_set(e, MX_TEMP,
		    "/messages answer without a chunk");
	}
	return 0;
}

/* Empty pages in a row that a server may send before it is believed to
 * page without end (a filter may empty many pages; a hostile server would
 * send them for ever). */
#define EMPTY_PAGES_MAX 1000

/*
 * The token to continue from after a page, in *next (NULL at the end): the
 * server leaves "end" out when there is nothing more; an empty page that
 * does not move on is the end too.  A page of events that gives back the
 * token it came from, or too many empty pages in a row (*empty counts
 * them), is a server going round in circles: -1 with e.
 */
static int
next_token(const json_t *out, const json_t *chunk, const char *tok, int *empty,
    const char **next, struct mx_err *e)
{
	const char *end = json_string_value(json_object_get(out, "end"));
	int same = tok != NULL && end != NULL && strcmp(end, tok) == 0;

	*next = NULL;
	*empty = json_array_size(chunk) == 0 ? *empty + 1 : 0;
	if (end == NULL || *end == '\0' || (same && *empty))
		return 0;
	if (same || *empty > EMPTY_PAGES_MAX)
		return mx_err_set(e, MX_PERM,
		    "the server's /messages does not move on (%s)",
		    same ? "the same token again" : "empty pages without end");
	*next = end;
	return 0;
}

static int
page_events(const struct mx_history *h, const json_t *chunk, struct mx_err *e)
{
	const json_t *ev;
	size_t i;
	int rc;

	json_array_foreach(chunk, i, ev)
		if (json_is_object(ev) && (rc = h->event(h->u, ev, e)) != 0)
			return rc;
	return 0;
}

int
mx_history_forward(const struct mx_history *h, struct mx_err *e)
{
	char *tok = h->from ? mx_xstrdup(h->from) : NULL;
	json_t *out, *chunk;
	const char *next = NULL;
	int rc, empty = 0;

	for (;;) {
		rc = get_page(h->api, h->room_id, 'f', tok, h->to, h->page,
		    h->filter, &out, &chunk, e);
		if (rc != 0)
			break;
		rc = page_events(h, chunk, e);
		if (rc == 0)
			rc = next_token(out, chunk, tok, &empty, &next, e);
		if (rc == 0 && next != NULL) {
			free(tok);
			tok = mx_xstrdup(next);
			if (h->page_end)
				rc = h->page_end(h->u, tok, e);
		}
		json_decref(out);
		if (rc != 0 || next == NULL)
			break;
	}
	free(tok);
	return rc;
}

/* Append the events of a backward page (newest first) to acc, up to n. */
static void
take(json_t *acc, const json_t *chunk, int n)
{
	json_t *ev;
	size_t i;

	json_array_foreach(chunk, i, ev)
		if (json_is_object(ev) && json_array_size(acc) < (size_t)n)
			json_array_append(acc, ev);
}

/* Reverse arr in place. */
static void
reverse(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	json_t *a, *b;

	for (i = 0; i < n / 2; i++) {
		a = json_incref(json_array_get(arr, i));
		b = json_incref(json_array_get(arr, n - 1 - i));
		json_array_set_new(arr, i, b);
		json_array_set_new(arr, n - 1 - i, a);
	}
}

int
mx_history_last(struct mx_api *a, const char *room_id, const char *from,
    const char *filter, int n, json_t **events, struct mx_err *e)
{
	json_t *acc = json_array(), *out, *chunk;
	char *tok = from ? mx_xstrdup(from) : NULL;
	const char *next;
	size_t want;
	int empty = 0;

	while ((want = (size_t)n - json_array_size(acc)) > 0) {
		out = NULL;
		if (get_page(a, room_id, 'b', tok, NULL,
			want < MX_HISTORY_PAGE ? (int)want : MX_HISTORY_PAGE,
			filter, &out, &chunk, e) != 0 ||
		    next_token(out, chunk, tok, &empty, &next, e) != 0) {
			json_decref(out);
			free(tok);
			json_decref(acc);
			return -1;
		}
		take(acc, chunk, n);
		free(tok);
		tok = next ? mx_xstrdup(next) : NULL;
		json_decref(out);
		if (tok == NULL)
			break;
	}
	free(tok);
	reverse(acc);
	*events = acc;
	return 0;
}
