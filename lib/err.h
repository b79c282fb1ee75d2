/*
 * err: how lib/ speaks.  A function that can fail returns -1 (or NULL) and
 * fills a caller-owned struct mx_err; only cmd/ prints it and picks the
 * exit status, which is err->status.  Everything else the library has to
 * say (a skipped to-device message, the HTTP trace) is a notice, handed to
 * the callback the program set: lib/ never writes to stderr itself.
 */
#ifndef MX_ERR_H
#define MX_ERR_H

#include <stdarg.h>

/* Exit statuses, the same for every program (mx(7), EXIT STATUS). */
enum mx_status {
	MX_OK = 0,    /* success */
	MX_NO = 1,    /* the answer is "no" (verification/audit failed) */
	MX_USAGE = 2, /* usage error */
	MX_PERM = 3,  /* server refused (4xx but 429), unknown room/user */
	MX_TEMP = 4,  /* retry later: network, timeout, 429/5xx */
	MX_LOCAL = 5, /* local failure: bad input, I/O, store, crypto */
};

struct mx_err {
	int status;	     /* enum mx_status; MX_OK when no error */
	int http;	     /* HTTP status of the failed request, or 0 */
	char errcode[64];    /* Matrix errcode ("M_FORBIDDEN"), or "" */
	char msg[512];	     /* the whole text to print: lowercase, no final
				   period; a server refusal reads
				   "M_FORBIDDEN: not in room" */
	long retry_after_ms; /* from a 429, or 0 */
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

/*
 * Where notices go.  Levels: 0 a warning (printed unless -q), 1 a note
 * (-v), 2 one line per HTTP request (-vv), 3 with the (redacted) bodies
 * (-vvv).  fn gets the message without
 * program name or newline; it is not called for levels above max, so a
 * notice nobody hears costs no formatting.  fn NULL: silence.
 */
struct mx_notice {
	void (*fn)(void *u, int level, const char *msg);
	void *u;
	int max;
};

/* 1 when a notice of level would be heard. */
int mx_notice_on(const struct mx_notice *n, int level);
/* Format and hand a notice to n->fn when it would be heard; n may be
 * NULL. */
void mx_notice(const struct mx_notice *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
