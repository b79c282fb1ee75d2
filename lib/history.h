/*
 * history: reading a room's timeline through GET /rooms/{room}/messages
 * (spec: Client-Server API, "Syncing", "Pagination").  Forward paging hands
 * events over oldest first as they arrive, page by page, so a whole room's
 * history needs neither memory nor a spool file, and the token after each
 * page says exactly where a broken run continues.
 *
 * Events handed to callbacks are borrowed (valid during the call only).
 */
#ifndef MX_HISTORY_H
#define MX_HISTORY_H

#include <jansson.h>

#include "api.h"
#include "err.h"

/* Events per request unless told otherwise. */
#define MX_HISTORY_PAGE 100

struct mx_history {
	struct mx_api *api; /* borrowed */
	const char *room_id;
	const char *filter; /* RoomEventFilter JSON, or NULL */
	const char *from;   /* token to start at; NULL: room's start */
	const char *to;	    /* token to stop at; NULL: the current end */
	int page;	    /* events per request; 0: MX_HISTORY_PAGE */
	/* Each event, oldest first; a non-zero return stops the walk and is
	 * returned (with e set by the callback). */
	int (*event)(void *u, const json_t *ev, struct mx_err *e);
	/* After the events of a page: the token to continue from (a new run
	 * started "from" it hands over exactly the events not yet seen).
	 * May be NULL. */
	int (*page_end)(void *u, const char *token, struct mx_err *e);
	void *u;
};

/*
 * Page forward (dir=f) from h->from to h->to or the end of the room,
 * calling h->event for each event.  Returns 0 at the end, -1 with e set
 * (errors as mx_api_call), or the non-zero value a callback returned.
 */
int mx_history_forward(const struct mx_history *h, struct mx_err *e);

/*
 * The last n events of room_id before the token from (NULL: now) that
 * pass filter, oldest first: *events is a new array (caller decrefs).
 * Pages backwards; errors as mx_api_call.
 */
int mx_history_last(struct mx_api *a, const char *room_id, const char *from,
    const char *filter, int n, json_t **events, struct mx_err *e);

#endif
