/*
 * err: how lib/ reports failure.  A function that can fail returns -1 (or
 * NULL) and fills a caller-owned struct mx_err; only cmd/ prints it and picks
 * the exit status, which is err->status.
 */
#ifndef MX_ERR_H
#define MX_ERR_H

#include <stdarg.h>

/* Exit statuses, the same for every program (mx(7), EXIT STATUS). */
enum mx_status {
	MX_OK = 0,	/* success */
	MX_NO = 1,	/* the answer is "no" (verification/audit failed) */
	MX_USAGE = 2,	/* usage error */
	MX_PERM = 3,	/* server refused (4xx but 429), unknown room/user */
	MX_TEMP = 4,	/* retry later: network, timeout, 429/5xx */
	MX_LOCAL = 5,	/* local failure: bad input, I/O, store, crypto */
};

struct mx_err {
	int status;		/* enum mx_status; MX_OK when no error */
	int http;		/* HTTP status of the failed request, or 0 */
	char errcode[64];	/* Matrix errcode ("M_FORBIDDEN"), or "" */
	char msg[512];		/* the whole text to print: lowercase, no final
				   period; a server refusal reads
				   "M_FORBIDDEN: not in room" */
	long retry_after_ms;	/* from a 429, or 0 */
};

/* Reset to "no error". */
void mx_err_clear(struct mx_err *e);

/*
 * Set status and message (printf format); returns -1 so that a caller can
 * write "return mx_err_set(e, MX_LOCAL, "...");".  e may be NULL.
 */
int mx_err_set(struct mx_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "context: " in front of the message already there; returns -1. */
int mx_err_prefix(struct mx_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
