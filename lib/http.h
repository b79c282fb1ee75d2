/*
 * http: every request mx makes, over one reused libcurl handle (keep-alive,
 * HTTP/2 when offered).  Owns timeouts, retries (exponential backoff with
 * jitter on network errors and 5xx for idempotent requests; on 429 for any
 * request, waiting retry_after_ms or Retry-After), TLS verification (always
 * on), the loopback-only rule for http:// and the redacted trace of -vv
 * (notices of level 2, with the bodies at level 3; never the Authorization
 * header, access_token or password values).
 */
#ifndef MX_HTTP_H
#define MX_HTTP_H

#include <stdio.h>

#include "err.h"
#include "util.h"

/* What a response body may hold unless the request says otherwise: far
 * more than any answer of a homeserver (an initial /sync of a large
 * account), far less than a hostile server's endless or inflating body
 * would take of memory. */
#define MX_HTTP_MAX_BODY (256LL << 20)

struct mx_http_opts {
	struct mx_notice notice; /* the trace and retry notes go here */
	int insecure_http;	 /* allow http:// to non-loopback hosts */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;	 /* whole request, 0: 60 s */
	int max_retries;	 /* 0: 4; -1: none */
};

struct mx_http;

/* A new client (caller owns: mx_http_free).  Copies what it needs from o. */
struct mx_http *mx_http_new(const struct mx_http_opts *o);
void mx_http_free(struct mx_http *h);

struct mx_http_req {
	const char *method; /* "GET", "PUT", "POST", "DELETE" */
	const char *url;    /* absolute; path segments already encoded */
	const char *token;  /* bearer access token, or NULL */
	const char *ctype;  /* body's Content-Type; NULL: application/json */
	const void *body;   /* request body (borrowed), or NULL */
	size_t bodylen;
	FILE *body_file; /* stream the body from here instead (upload);
				   must be seekable for a retry */
	long body_file_len;
	FILE *out_file;	    /* stream a 2xx body here instead of memory */
	long long max_body; /* the most a body may hold, as sent and as
				inflated; 0: MX_HTTP_MAX_BODY */
	long timeout_ms;    /* overrides the default (long-poll sync) */
	int idempotent;	    /* safe to repeat on network error / 5xx:
				   GET, DELETE, PUT with a txn id */
};

struct mx_http_resp {
	long status;	    /* HTTP status */
	struct mx_buf body; /* body, unless streamed to out_file */
	char *ctype;	    /* Content-Type or NULL */
	char *filename;	    /* from Content-Disposition, or NULL */
};

/*
 * Perform r, retrying as described above.  Returns 0 when a final HTTP
 * response arrived (any status, a 429 or 5xx that outlasted the retries
 * included: the caller judges it, as mx_api_check does; resp filled,
 * release with mx_http_resp_release; after a 429 e->retry_after_ms is
 * set), -1 with e set otherwise: MX_TEMP for network failure or timeout
 * still failing after the retries, MX_USAGE for a URL that breaks the
 * http:// rule, MX_LOCAL for local I/O, MX_PERM for a body over
 * max_body (never retried).  A loopback URL never goes through a proxy
 * (http_proxy and the like): the token would cross it in the clear.
 */
int mx_http_do(struct mx_http *h, const struct mx_http_req *r,
    struct mx_http_resp *resp, struct mx_err *e);
void mx_http_resp_release(struct mx_http_resp *resp);

/* 1 when url's host is loopback (127.0.0.0/8, ::1, localhost). */
int mx_http_is_loopback(const char *url);

/* Pure helpers, exported for the unit tests. */

/* The wait before retry number attempt+1 (0-based): 250 ms doubling up to
 * 8 s, plus up to a quarter more of random jitter. */
long mx_http_backoff_ms(int attempt);
/* The wait a 429 asks for: retry_after_ms of the JSON body, else the
 * Retry-After header (seconds or HTTP date; may be NULL); capped at 60 s;
 * -1 when neither says. */
long mx_http_retry_after_ms(const char *body, size_t len, const char *header);
/* s with the values of access_token= and of the JSON keys "password",
 * "access_token", "refresh_token", "token", "passphrase" replaced by
 * <redacted> (caller frees). */
char *mx_http_redact(const char *s);
/* The filename of a Content-Disposition value, or NULL (caller frees). */
char *mx_http_disposition_filename(const char *v);

#endif
