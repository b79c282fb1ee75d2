/*
 * http: one libcurl easy handle per client, reset before each request so
 * that its connection cache (keep-alive, HTTP/2) survives while no option
 * of a previous request leaks into the next.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "http.h"
#include "banned.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 8000
#define RETRY_AFTER_CAP_MS 60000

struct mx_http {
	CURL *curl;
	struct mx_notice notice;
	int insecure_http;
	long connect_timeout_ms;
	long timeout_ms;
	int max_retries;
};

/* What one attempt collects while curl runs. */
struct attempt {
	CURL *curl;
	FILE *out_file; /* 2xx bodies go here when set */
	long out_written;
	struct mx_buf *body;
	char *ctype;
	char *filename;
	char *retry_after; /* raw Retry-After header */
	int write_failed;  /* errno of a failed write to out_file */
	long long limit;   /* the request's max_body */
	int too_big;	   /* the body went over it */
};

struct mx_http *
mx_http_new(const struct mx_http_opts *o)
{
	struct mx_http *h = mx_xcalloc(1, sizeof(*h));

	/* libcurl counts these calls; mx_http_free undoes this one. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(h);
		return NULL;
	}
	if ((h->curl = curl_easy_init()) == NULL) {
		curl_global_cleanup();
		free(h);
		return NULL;
	}
	h->notice = o->notice;
	h->insecure_http = o->insecure_http;
	h->connect_timeout_ms =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	h->max_retries = o->max_retries == 0 ? 4 : o->max_retries;
	if (h->max_retries < 0)
		h->max_retries = 0;
	return h;
}

void
mx_http_free(struct mx_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	curl_global_cleanup();
	free(h);
}

void
mx_http_resp_release(struct mx_http_resp *resp)
{
	mx_buf_release_wipe(&resp->body);
	free(resp->ctype);
	free(resp->filename);
	resp->ctype = resp->filename = NULL;
	resp->status = 0;
}

/* --- pure helpers ------------------------------------------------------- */

static int
host_is_loopback(const char *host)
{
	unsigned char a[16];
	char buf[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (n < 2 || n - 2 >= sizeof(buf) || host[0] != '[' ||
	    host[n - 1] != ']')
		return 0;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1)
		return 0;
	/* ::1, or an IPv4-mapped 127.x.y.z. */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0)
		return 1;
	return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
	    a[12] == 127;
}

/* Scheme ("http"/"https", lowercased by curl) and host of url, or -1. */
static int
url_parts(const char *url, char **scheme, char **host)
{
	CURLU *u = curl_url();
	int rc = -1;

	*scheme = *host = NULL;
	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK)
		rc = 0;
	curl_url_cleanup(u);
	return rc;
}

int
mx_http_is_loopback(const char *url)
{
	char *scheme, *host;
	int r = 0;

	if (url_parts(url, &scheme, &host) == 0)
		r = host_is_loopback(host);
	curl_free(scheme);
	curl_free(host);
	return r;
}

/* The http:// rule, and nothing but http and https. */
static int
check_url(const struct mx_http *h, const char *url, struct mx_err *e)
{
	char *scheme, *host;
	int rc = 0;

	if (url_parts(url, &scheme, &host) != 0)
		rc = mx_err_set(e, MX_USAGE, "invalid URL '%s'", url);
	else if (strcmp(scheme, "http") == 0 && !h->insecure_http &&
	    !host_is_loopback(host))
		rc = mx_err_set(e, MX_USAGE,
		    "refusing plain http:// to non-loopback host '%s'; use "
		    "https or --insecure-http",
		    host);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = mx_err_set(e, MX_USAGE, "unsupported URL scheme '%s'",
		    scheme);
	curl_free(scheme);
	curl_free(host);
	return rc;
}

long
mx_http_backoff_ms(int attempt)
{
	long d = BACKOFF_BASE_MS;

	while (attempt-- > 0 && d < BACKOFF_CAP_MS)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	/* Up to a quarter more, so that many clients do not retry in step. */
	return d + (long)randombytes_uniform((uint32_t)(d / 4 + 1));
}

long
mx_http_retry_after_ms(const char *body, size_t len, const char *header)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *v = json_object_get(j, "retry_after_ms");
	long ms = -1;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		ms = json_integer_value(v) > RETRY_AFTER_CAP_MS ?
		    RETRY_AFTER_CAP_MS :
		    (long)json_integer_value(v);
	json_decref(j);
	if (ms < 0 && header != NULL) {
		char *end;
		long s = strtol(header, &end, 10);
		time_t t;

		if (end != header && *end == '\0' && s >= 0)
			ms = s > RETRY_AFTER_CAP_MS / 1000 ?
			    RETRY_AFTER_CAP_MS :
			    s * 1000;
		else if ((t = curl_getdate(header, NULL)) != -1)
			ms = t <= time(NULL) ? 0 :
			    t - time(NULL) > RETRY_AFTER_CAP_MS / 1000 ?
					       RETRY_AFTER_CAP_MS :
					       (long)(t - time(NULL)) * 1000;
	}
	return ms;
}

/* Replace the value after each key of keys (a JSON string, or a query
 * parameter "key=...") by <redacted>. */
static void
redact_at(struct mx_buf *b, const char *s, const char *key)
{
	size_t kl = strlen(key);
	const char *p = s, *q;

	while ((q = strstr(p, key)) != NULL) {
		const char *v = q + kl;

		mx_buf_add(b, p, (size_t)(v - p));
		p = v;
		if (key[0] == '"') {
			while (*v == ' ' || *v == '\t' || *v == '\n')
				v++;
			if (*v != ':')
				continue;
			for (v++; *v == ' ' || *v == '\t' || *v == '\n'; v++)
				;
			if (*v != '"')
				continue;
			for (v++; *v && *v != '"'; v++)
				if (*v == '\\' && v[1])
					v++;
			mx_buf_adds(b, ": \"<redacted>\"");
			p = *v ? v + 1 : v;
		} else {
			while (*v && *v != '&' && *v != '#' && *v != ' ' &&
			    *v != '"')
				v++;
			mx_buf_adds(b, "<redacted>");
			p = v;
		}
	}
	mx_buf_adds(b, p);
}

char *
mx_http_redact(const char *s)
{
	static const char *const keys[] = {
		"access_token=",
		"\"password\"",
		"\"access_token\"",
		"\"refresh_token\"",
		"\"token\"",
		"\"passphrase\"",
		NULL,
	};
	char *cur = mx_xstrdup(s);
	int i;

	for (i = 0; keys[i]; i++) {
		struct mx_buf b = MX_BUF_INIT;

		redact_at(&b, cur, keys[i]);
		sodium_memzero(cur, strlen(cur));
		free(cur);
		cur = mx_buf_detach(&b);
	}
	return cur;
}

/* The filename of a Content-Disposition value (RFC 6266), or NULL. */
char *
mx_http_disposition_filename(const char *v)
{
	const char *p;
	size_t n;

	if ((p = strstr(v, "filename*=")) != NULL) {
		struct mx_buf b = MX_BUF_INIT;
		char *dec;

		p += strlen("filename*=");
		if ((p = strstr(p, "''")) == NULL)
			return NULL;
		p += 2;
		n = strcspn(p, "; \t\r\n");
		dec = curl_easy_unescape(NULL, p, (int)n, NULL);
		if (dec == NULL)
			return NULL;
		mx_buf_adds(&b, dec);
		curl_free(dec);
		return mx_buf_detach(&b);
	}
	for (p = v; (p = strstr(p, "filename=")) != NULL; p++)
		if (p == v || p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t')
			break;
	if (p == NULL)
		return NULL;
	p += strlen("filename=");
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else {
		n = strcspn(p, "; \t\r\n");
	}
	return n ? mx_xstrndup(p, n) : NULL;
}

/* --- one attempt -------------------------------------------------------- */

static int
is_2xx(CURL *c)
{
	long st = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	return st >= 200 && st < 300;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *u)
{
	struct attempt *at = u;

	if ((long long)(sz * n) >
	    at->limit - (long long)at->body->len - at->out_written) {
		at->too_big = 1;
		return 0;
	}
	if (at->out_file != NULL && is_2xx(at->curl)) {
		if (fwrite(p, sz, n, at->out_file) != n) {
			at->write_failed = errno ? errno : EIO;
			return 0;
		}
		at->out_written += (long)n;
		return n;
	}
	mx_buf_add(at->body, p, sz * n);
	return sz * n;
}

/* The bytes as they come off the wire, before any inflating: a body
 * that compresses to nothing is capped as well. */
static int
on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct attempt *at = u;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if ((long long)dlnow > at->limit) {
		at->too_big = 1;
		return 1;
	}
	return 0;
}

static char *
header_value(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	if (n <= l || strncasecmp(p, name, l) != 0 || p[l] != ':')
		return NULL;
	p += l + 1;
	n -= l + 1;
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	return mx_xstrndup(p, n);
}

static void
set_header(char **slot, char *v)
{
	if (v == NULL)
		return;
	free(*slot);
	*slot = v;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *u)
{
	struct attempt *at = u;
	char *v;

	n *= sz;
	/* A new status line (after 100 Continue or a redirect): forget. */
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(at->ctype);
		free(at->filename);
		free(at->retry_after);
		at->ctype = at->filename = at->retry_after = NULL;
		return n;
	}
	set_header(&at->ctype, header_value(p, n, "Content-Type"));
	set_header(&at->retry_after, header_value(p, n, "Retry-After"));
	if ((v = header_value(p, n, "Content-Disposition")) != NULL) {
		set_header(&at->filename, mx_http_disposition_filename(v));
		free(v);
	}
	return n;
}

static size_t
on_read(char *p, size_t sz, size_t n, void *u)
{
	FILE *f = u;
	size_t r = fread(p, sz, n, f);

	if (r == 0 && ferror(f))
		return CURL_READFUNC_ABORT;
	return r * sz;
}

static int
on_seek(void *u, curl_off_t off, int origin)
{
	return fseeko(u, (off_t)off, origin) == 0 ? CURL_SEEKFUNC_OK :
						    CURL_SEEKFUNC_CANTSEEK;
}

static struct curl_slist *
make_headers(const struct mx_http_req *r, struct mx_err *e)
{
	struct curl_slist *l = NULL, *n;
	char *a = NULL;
	int bad = 0;

	if (r->token != NULL) {
		struct mx_buf b = MX_BUF_INIT;

		mx_buf_addf(&b, "Authorization: Bearer %s", r->token);
		a = mx_buf_detach(&b);
		bad |= (n = curl_slist_append(l, a)) == NULL;
		l = n ? n : l;
		sodium_memzero(a, strlen(a));
		free(a);
	}
	if (r->body != NULL || r->body_file != NULL) {
		a = mx_xasprintf("Content-Type: %s",
		    r->ctype ? r->ctype : "application/json");
		bad |= (n = curl_slist_append(l, a)) == NULL;
		l = n ? n : l;
		free(a);
	}
	/* No "Expect: 100-continue" round trip before uploads. */
	bad |= (n = curl_slist_append(l, "Expect:")) == NULL;
	l = n ? n : l;
	if (bad) {
		curl_slist_free_all(l);
		mx_err_set(e, MX_LOCAL, "out of memory for HTTP headers");
		return NULL;
	}
	return l;
}

static void
setup(struct mx_http *h, const struct mx_http_req *r, struct attempt *at,
    struct curl_slist *hdrs)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    r->timeout_ms > 0 ? r->timeout_ms : h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mx/0.1");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, at);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, at);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)at->limit);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, at);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (mx_http_is_loopback(r->url))
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (r->body_file != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, r->body_file);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, r->body_file);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body_file_len);
	} else if (r->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->bodylen);
	}
	/* The method is ours, whatever a body made curl think. */
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (strcmp(r->method, "GET") == 0 && r->body == NULL &&
	    r->body_file == NULL)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
}

static void
attempt_release(struct attempt *at)
{
	free(at->ctype);
	free(at->filename);
	free(at->retry_after);
	at->ctype = at->filename = at->retry_after = NULL;
}

/* --- trace -------------------------------------------------------------- */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
trace_text(const struct mx_http *h, const char *dir, const char *s, size_t n)
{
	char *c = mx_xstrndup(s, n), *r = mx_http_redact(c);

	mx_notice(&h->notice, 3, "%s %s", dir, r);
	sodium_memzero(c, n);
	free(c);
	free(r);
}

static void
trace_req(const struct mx_http *h, const struct mx_http_req *r)
{
	char *u;

	if (!mx_notice_on(&h->notice, 2))
		return;
	u = mx_http_redact(r->url);
	mx_notice(&h->notice, 2, "> %s %s", r->method, u);
	free(u);
	if (mx_notice_on(&h->notice, 3) && r->body != NULL)
		trace_text(h, ">", r->body, r->bodylen);
	else if (r->body_file != NULL)
		mx_notice(&h->notice, 3, "> (%ld bytes from a file)",
		    r->body_file_len);
}

static void
trace_resp(const struct mx_http *h, CURLcode cc, long status, long ms,
    const struct attempt *at)
{
	size_t n = at->body->len + (size_t)at->out_written;

	if (cc != CURLE_OK) {
		mx_notice(&h->notice, 2, "< %s (%ld ms)",
		    curl_easy_strerror(cc), ms);
		return;
	}
	mx_notice(&h->notice, 2, "< %ld (%ld ms, %zu bytes)", status, ms, n);
	if (mx_notice_on(&h->notice, 3) && at->body->len)
		trace_text(h, "<", at->body->p, at->body->len);
}

/* --- the retry loop ----------------------------------------------------- */

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Put the streams back where the first attempt found them. */
static int
rewind_files(const struct mx_http_req *r, off_t in0, off_t out0, long written)
{
	if (r->body_file != NULL && fseeko(r->body_file, in0, SEEK_SET) != 0)
		return -1;
	if (r->out_file != NULL && written > 0) {
		if (fflush(r->out_file) != 0 ||
		    fseeko(r->out_file, out0, SEEK_SET) != 0 ||
		    ftruncate(fileno(r->out_file), out0) != 0)
			return -1;
	}
	return 0;
}

/*
 * How long to wait before attempt n+1, or -1 when the answer is final.
 * cc/status describe attempt n.
 */
static long
retry_wait(const struct mx_http *h, const struct mx_http_req *r, int n,
    CURLcode cc, long status, const struct attempt *at)
{
	long ms;

	if (n >= h->max_retries || at->too_big)
		return -1;
	/* A network error is retried when the request may be repeated, but
	 * not a local failure (a full disk, a file that cannot be read). */
	if (cc != CURLE_OK &&
	    (!r->idempotent || cc == CURLE_WRITE_ERROR ||
		cc == CURLE_READ_ERROR || cc == CURLE_ABORTED_BY_CALLBACK))
		return -1;
	if (cc != CURLE_OK)
		return mx_http_backoff_ms(n);
	if (status == 429) {
		ms = mx_http_retry_after_ms(at->body->p, at->body->len,
		    at->retry_after);
		ms = ms >= 0 ? ms : mx_http_backoff_ms(n);
		mx_notice(&h->notice, 1, "rate limited (429); waiting %ld ms",
		    ms);
		return ms;
	}
	if (status >= 500 && r->idempotent)
		return mx_http_backoff_ms(n);
	return -1;
}

static int
fail(const struct mx_http_req *r, CURLcode cc, const char *detail,
    struct mx_err *e)
{
	char *u = mx_http_redact(r->url);
	int st = cc == CURLE_WRITE_ERROR || cc == CURLE_READ_ERROR ? MX_LOCAL :
								     MX_TEMP;

	mx_err_set(e, st, "%s %s: %s", r->method, u,
	    detail[0] ? detail : curl_easy_strerror(cc));
	free(u);
	return -1;
}

static void
hand_over(struct mx_http_resp *resp, struct attempt *at, long status)
{
	resp->status = status;
	resp->ctype = at->ctype;
	resp->filename = at->filename;
	at->ctype = at->filename = NULL;
}

/* Hand the last attempt's answer over, or fail with its error. */
static int
finish(const struct mx_http_req *r, CURLcode cc, long status,
    struct attempt *at, const char *errbuf, struct mx_http_resp *resp,
    struct mx_err *e)
{
	char wbuf[160];

	if (at->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		attempt_release(at);
		mx_buf_release_wipe(&resp->body);
		snprintf(wbuf, sizeof(wbuf),
		    "the answer is larger than %lld bytes", at->limit);
		fail(r, cc, wbuf, e);
		if (e != NULL)
			e->status = MX_PERM;
		return -1;
	}
	if (cc != CURLE_OK) {
		attempt_release(at);
		mx_buf_release_wipe(&resp->body);
		if (at->write_failed)
			snprintf(wbuf, sizeof(wbuf),
			    "cannot write the download: %s",
			    strerror(at->write_failed));
		return fail(r, cc, at->write_failed ? wbuf : errbuf, e);
	}
	if (status == 429 && e != NULL)
		e->retry_after_ms = mx_http_retry_after_ms(resp->body.p,
		    resp->body.len, at->retry_after);
	hand_over(resp, at, status);
	attempt_release(at);
	if (r->out_file != NULL && fflush(r->out_file) != 0)
		return mx_err_set(e, MX_LOCAL, "cannot write the download: %s",
		    strerror(errno));
	return 0;
}

/* One attempt: at collects it, *status gets the HTTP status (0: none). */
static CURLcode
perform(struct mx_http *h, const struct mx_http_req *r,
    struct curl_slist *hdrs, struct attempt *at, char *errbuf, long *status)
{
	CURLcode cc;
	long t0;

	setup(h, r, at, hdrs);
	errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	trace_req(h, r);
	t0 = now_ms();
	cc = curl_easy_perform(h->curl);
	*status = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	trace_resp(h, cc, *status, now_ms() - t0, at);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	if (cc == CURLE_FILESIZE_EXCEEDED)
		at->too_big = 1;
	return at->write_failed ? CURLE_WRITE_ERROR : cc;
}

int
mx_http_do(struct mx_http *h, const struct mx_http_req *r,
    struct mx_http_resp *resp, struct mx_err *e)
{
	struct curl_slist *hdrs;
	struct attempt at;
	char errbuf[CURL_ERROR_SIZE];
	off_t in0 = 0, out0 = 0;
	long status, wait;
	CURLcode cc;
	int n;

	memset(resp, 0, sizeof(*resp));
	if (check_url(h, r->url, e) != 0 ||
	    (hdrs = make_headers(r, e)) == NULL)
		return -1;
	/* A pipe has no position: rewind_files then refuses a retry. */
	if (r->body_file && (in0 = ftello(r->body_file)) < 0)
		in0 = 0;
	if (r->out_file && (out0 = ftello(r->out_file)) < 0)
		out0 = 0;
	for (n = 0;; n++) {
		memset(&at, 0, sizeof(at));
		at.curl = h->curl;
		at.out_file = r->out_file;
		at.limit = r->max_body > 0 ? r->max_body : MX_HTTP_MAX_BODY;
		at.body = &resp->body;
		mx_buf_release_wipe(&resp->body);
		cc = perform(h, r, hdrs, &at, errbuf, &status);
		wait = retry_wait(h, r, n, cc, status, &at);
		if (wait < 0 || rewind_files(r, in0, out0, at.out_written))
			break;
		attempt_release(&at);
		mx_notice(&h->notice, 2, "retry %d in %ld ms", n + 1, wait);
		sleep_ms(wait);
	}
	curl_slist_free_all(hdrs);
	return finish(r, cc, status, &at, errbuf, resp, e);
}
