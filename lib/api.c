/*
 * api: Matrix client-server endpoints over http.  Every path segment is
 * percent-encoded here, through path(); answers are mapped to struct mx_err
 * by mx_api_check().
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "crypto.h"
#include "json.h"
#include "banned.h"

/* Long-poll requests may take the server's timeout plus this. */
#define LONGPOLL_SLACK_MS 30000

/* --- URLs --------------------------------------------------------------- */

/*
 * Build a path from fmt, where each "%s" takes one argument that is
 * percent-encoded as a path segment or query value, and "%S" one that is
 * copied as is.
 */
static char *
path(const char *fmt, ...)
{
	struct mx_buf b = MX_BUF_INIT;
	const char *p;
	va_list ap;

	mx_buf_add(&b, "", 0);
	va_start(ap, fmt);
	for (p = fmt; *p; p++) {
		if (p[0] == '%' && (p[1] == 's' || p[1] == 'S')) {
			const char *a = va_arg(ap, const char *);
			char *enc = p[1] == 's' ? mx_urlenc(a) : NULL;

			mx_buf_adds(&b, enc ? enc : a);
			free(enc);
			p++;
		} else {
			mx_buf_add(&b, p, 1);
		}
	}
	va_end(ap);
	return mx_buf_detach(&b);
}

/* --- answers ------------------------------------------------------------ */

static int
status_of(long http)
{
	return http == 429 || http >= 500 ? MX_TEMP : MX_PERM;
}

static const char *
why_malformed(size_t len, const json_t *j, const json_error_t *je)
{
	if (len == 0)
		return "empty body";
	return j != NULL ? "not a JSON object" : je->text;
}

int
mx_api_check(long http, const char *body, size_t len, json_t **out,
    struct mx_err *e)
{
	json_error_t je;
	json_t *j = NULL;

	if (len > 0)
		j = json_loadb(body, len, 0, &je);
	if (http >= 200 && http < 300) {
		if (!json_is_object(j) && (len > 0 || out != NULL)) {
			json_decref(j);
			mx_err_set(e, MX_TEMP,
			    "malformed answer from the server (HTTP %ld): %s",
			    http, why_malformed(len, j, &je));
			if (e)
				e->http = (int)http;
			return -1;
		}
		if (out != NULL)
			*out = j;
		else
			json_decref(j);
		return 0;
	}
	return mx_api_error(http, j, e);
}

int
mx_api_error(long http, json_t *j, struct mx_err *e)
{
	const char *code = json_string_value(json_object_get(j, "errcode"));
	const char *msg = json_string_value(json_object_get(j, "error"));
	json_t *ra = json_object_get(j, "retry_after_ms");

	if (code != NULL)
		mx_err_set(e, status_of(http), "%s: %s", code,
		    msg ? msg : "(no message)");
	else
		mx_err_set(e, status_of(http), "HTTP %ld", http);
	if (e != NULL) {
		e->http = (int)http;
		snprintf(e->errcode, sizeof(e->errcode), "%s",
		    code ? code : "");
		if (json_is_integer(ra))
			e->retry_after_ms = (long)json_integer_value(ra);
	}
	json_decref(j);
	return -1;
}

/* A 2xx answer that must be a JSON array (GET /rooms/{room}/state). */
static int
check_array(const char *body, size_t len, json_t **out, struct mx_err *e)
{
	json_error_t je;
	json_t *j = len > 0 ? json_loadb(body, len, 0, &je) : NULL;

	if (!json_is_array(j)) {
		json_decref(j);
		return mx_err_set(e, MX_TEMP,
		    "malformed answer from the server: not a JSON array");
	}
	*out = j;
	return 0;
}

/* --- requests ----------------------------------------------------------- */

struct call {
	const char *method;
	char *path; /* owned; freed by do_call */
	const json_t *body;
	int idempotent;
	int auth; /* send the access token */
	long timeout_ms;
	FILE *body_file; /* upload */
	long body_file_len;
	const char *ctype;
	FILE *out_file;	    /* download */
	long long max_body; /* 0: the http default */
	char **filename;    /* download: Content-Disposition filename */
	int array;	    /* the answer is a JSON array, not an object */
	json_t **uia;	    /* a 401 answer's body, when it has "flows" */
};

/* A 401 answer's body when it is a user-interactive authentication
 * challenge (spec: "User-interactive authentication API": an object with
 * a "flows" array), else NULL. */
static json_t *
uia_body(const char *body, size_t len)
{
	json_t *j = len > 0 ? json_loadb(body, len, 0, NULL) : NULL;

	if (json_is_object(j) && json_is_array(json_object_get(j, "flows")))
		return j;
	json_decref(j);
	return NULL;
}

static int
do_call(struct mx_api *a, struct call *c, json_t **out, struct mx_err *e)
{
	struct mx_http_req r = { 0 };
	struct mx_http_resp resp;
	char *body = NULL, *url;
	int rc;

	url = mx_xasprintf("%s%s", a->hs, c->path);
	free(c->path);
	r.method = c->method;
	r.url = url;
	r.token = c->auth ? a->token : NULL;
	r.idempotent = c->idempotent;
	r.timeout_ms = c->timeout_ms;
	r.body_file = c->body_file;
	r.body_file_len = c->body_file_len;
	r.ctype = c->ctype;
	r.out_file = c->out_file;
	r.max_body = c->max_body;
	if (c->body != NULL) {
		body = json_dumps(c->body, JSON_COMPACT);
		r.body = body;
		r.bodylen = body ? strlen(body) : 0;
	}
	rc = mx_http_do(a->http, &r, &resp, e);
	if (body != NULL) {
		sodium_memzero(body, r.bodylen);
		free(body);
	}
	free(url);
	if (rc != 0)
		return -1;
	if (c->out_file && resp.status >= 200 && resp.status < 300) {
		if (c->filename && resp.filename) {
			*c->filename = resp.filename;
			resp.filename = NULL;
		}
		rc = 0;
	} else if (c->array && resp.status >= 200 && resp.status < 300) {
		rc = check_array(resp.body.p, resp.body.len, out, e);
	} else {
		if (c->uia != NULL && resp.status == 401)
			*c->uia = uia_body(resp.body.p, resp.body.len);
		rc = mx_api_check(resp.status, resp.body.p, resp.body.len, out,
		    e);
	}
	mx_http_resp_release(&resp);
	return rc;
}

/* The common shape: a JSON request with the token. */
static int
call(struct mx_api *a, const char *method, char *p, const json_t *body,
    int idempotent, json_t **out, struct mx_err *e)
{
	struct call c = { 0 };

	c.method = method;
	c.path = p;
	c.body = body;
	c.idempotent = idempotent;
	c.auth = 1;
	return do_call(a, &c, out, e);
}

int
mx_api_call(struct mx_api *a, const char *method, const char *p,
    const json_t *body, int idempotent, json_t **out, struct mx_err *e)
{
	return call(a, method, mx_xstrdup(p), body, idempotent, out, e);
}

/* Take member key (of type want) out of j and drop j. */
static int
take_member(json_t *j, const char *key, json_type want, json_t **dst,
    struct mx_err *e)
{
	json_t *v = json_object_get(j, key);

	if (v == NULL || json_typeof(v) != want) {
		json_decref(j);
		return mx_err_set(e, MX_TEMP,
		    "malformed answer from the server: no \"%s\"", key);
	}
	*dst = json_incref(v);
	json_decref(j);
	return 0;
}

/* Copy the string member key of j into *dst and drop j. */
static int
take_str(json_t *j, const char *key, char **dst, struct mx_err *e)
{
	json_t *v;

	if (take_member(j, key, JSON_STRING, &v, e) != 0)
		return -1;
	*dst = mx_xstrdup(json_string_value(v));
	json_decref(v);
	return 0;
}

/* 1 for an answer, 0 for M_NOT_FOUND, -1 otherwise. */
static int
get_optional(struct mx_api *a, char *p, json_t **out, struct mx_err *e)
{
	struct mx_err e2;

	mx_err_clear(&e2);
	if (call(a, "GET", p, NULL, 1, out, &e2) == 0)
		return 1;
	if (e2.http == 404 && strcmp(e2.errcode, "M_NOT_FOUND") == 0)
		return 0;
	if (e != NULL)
		*e = e2;
	return -1;
}

/* --- discovery and login ------------------------------------------------ */

static int
valid_base_url(struct mx_http *h, const char *url, struct mx_err *e)
{
	struct mx_api a = { h, url, NULL, 0 };
	json_t *v = NULL;

	if (!mx_startswith(url, "https://") && !mx_startswith(url, "http://"))
		return mx_err_set(e, MX_PERM, "not an http(s) URL");
	if (mx_api_versions(&a, &v, e) != 0)
		return -1;
	json_decref(v);
	return 0;
}

static int
well_known(struct mx_http *h, const char *base, json_t *j, char **hs,
    struct mx_err *e)
{
	json_t *m = json_object_get(j, "m.homeserver");
	const char *u = json_string_value(json_object_get(m, "base_url"));
	size_t n;

	if (u == NULL || *u == '\0')
		return mx_err_set(e, MX_PERM,
		    "%s/.well-known/matrix/client has no "
		    "m.homeserver.base_url",
		    base);
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		n--;
	*hs = mx_xstrndup(u, n);
	if (valid_base_url(h, *hs, e) == 0)
		return 0;
	mx_err_prefix(e, "homeserver '%s' of %s/.well-known/matrix/client",
	    *hs, base);
	free(*hs);
	*hs = NULL;
	return -1;
}

int
mx_api_discover(struct mx_http *h, const char *server_name, char **hs,
    struct mx_err *e)
{
	char *base, *probe = mx_xasprintf("http://%s/", server_name);
	struct mx_api a = { h, NULL, NULL, 0 };
	struct call c = { 0 };
	struct mx_err le;
	json_t *j = NULL;
	int rc;

	/* A loopback server needs no TLS (and a test one has none). */
	base = mx_xasprintf("%s://%s",
	    mx_http_is_loopback(probe) ? "http" : "https", server_name);
	free(probe);
	a.hs = base;
	c.method = "GET";
	c.path = mx_xstrdup("/.well-known/matrix/client");
	c.idempotent = 1;
	*hs = NULL;
	mx_err_clear(&le);
	rc = do_call(&a, &c, &j, &le);
	if (rc != 0 && le.http == 404) {
		*hs = base;
		return 0;
	}
	if (rc == 0)
		rc = well_known(h, base, j, hs, &le);
	else
		mx_err_prefix(&le, "cannot discover the homeserver of '%s'",
		    server_name);
	if (rc != 0 && e != NULL)
		*e = le;
	json_decref(j);
	free(base);
	return rc;
}

int
mx_api_versions(struct mx_api *a, json_t **out, struct mx_err *e)
{
	struct call c = { 0 };

	c.method = "GET";
	c.path = mx_xstrdup("/_matrix/client/versions");
	c.idempotent = 1;
	return do_call(a, &c, out, e);
}

int
mx_api_login_password(struct mx_api *a, const char *user, const char *password,
    const char *device_name, const char *device_id, json_t **out,
    struct mx_err *e)
{
	struct call c = { 0 };
	json_t *b;
	int rc;

	b = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "m.login.password",
	    "identifier", "type", "m.id.user", "user", user, "password",
	    password);
	if (b == NULL)
		return mx_err_set(e, MX_LOCAL, "user or password not UTF-8");
	if (device_name != NULL)
		json_object_set_new(b, "initial_device_display_name",
		    json_string(device_name));
	if (device_id != NULL)
		json_object_set_new(b, "device_id", json_string(device_id));
	c.method = "POST";
	c.path = mx_xstrdup("/_matrix/client/v3/login");
	c.body = b;
	rc = do_call(a, &c, out, e);
	json_decref(b);
	return rc;
}

int
mx_api_logout(struct mx_api *a, struct mx_err *e)
{
	json_t *b = json_object();
	int rc;

	rc = call(a, "POST", mx_xstrdup("/_matrix/client/v3/logout"), b, 0,
	    NULL, e);
	json_decref(b);
	return rc;
}

int
mx_api_devices(struct mx_api *a, json_t **devices, struct mx_err *e)
{
	json_t *j;

	if (call(a, "GET", mx_xstrdup("/_matrix/client/v3/devices"), NULL, 1,
		&j, e) != 0)
		return -1;
	return take_member(j, "devices", JSON_ARRAY, devices, e);
}

/* 1 when one of the flows of challenge uia is m.login.password alone. */
static int
password_flow(const json_t *uia)
{
	const json_t *f, *st;
	size_t i;

	json_array_foreach(json_object_get(uia, "flows"), i, f) {
		st = json_object_get(f, "stages");
		if (json_array_size(st) == 1 &&
		    json_is_string(json_array_get(st, 0)) &&
		    strcmp(json_string_value(json_array_get(st, 0)),
			"m.login.password") == 0)
			return 1;
	}
	return 0;
}

/* body's "auth" for the challenge uia: the password ask gives, or NULL
 * with e set. */
static json_t *
password_auth(const json_t *uia, const char *user, mx_api_ask_fn *ask,
    struct mx_err *e)
{
	char *prompt, *pw;
	json_t *auth;

	if (!password_flow(uia)) {
		mx_err_set(e, MX_PERM,
		    "the server wants an authentication other than the "
		    "password");
		return NULL;
	}
	if (ask == NULL) {
		mx_err_set(e, MX_USAGE,
		    "the server asks for the account's password; give it on "
		    "stdin (--password-stdin)");
		return NULL;
	}
	mx_err_clear(e);
	prompt = mx_xasprintf("password for %s", user);
	pw = ask(prompt, e);
	free(prompt);
	if (pw == NULL)
		return NULL;
	auth = json_pack("{s:s,s:{s:s,s:s},s:s,s:s?}", "type",
	    "m.login.password", "identifier", "type", "m.id.user", "user",
	    user, "password", pw, "session", mx_json_str(uia, "session"));
	mx_wipe(pw, strlen(pw));
	mx_secure_free(pw);
	if (auth == NULL)
		mx_err_set(e, MX_USAGE, "the password is not UTF-8");
	return auth;
}

int
mx_api_call_uia(struct mx_api *a, const char *method, const char *p,
    json_t *body, int idempotent, const char *user, mx_api_ask_fn *ask,
    json_t **out, struct mx_err *e)
{
	struct call c = { 0 };
	json_t *uia = NULL, *auth, *pw;
	int rc;

	c.method = method;
	c.path = mx_xstrdup(p);
	c.body = body;
	c.idempotent = idempotent;
	c.auth = 1;
	c.uia = &uia;
	if ((rc = do_call(a, &c, out, e)) == 0 || uia == NULL)
		return rc;
	auth = password_auth(uia, user, ask, e);
	json_decref(uia);
	if (auth == NULL)
		return -1;
	json_object_set_new(body, "auth", auth);
	c.path = mx_xstrdup(p);
	c.uia = NULL;
	rc = do_call(a, &c, out, e);
	if (rc != 0 && e != NULL && e->http == 401)
		mx_err_set(e, MX_PERM, "the server refused the password");
	/* The password's copy inside the request goes with it, wiped. */
	pw = json_object_get(auth, "password");
	mx_wipe((char *)json_string_value(pw), json_string_length(pw));
	json_object_del(body, "auth");
	return rc;
}

int
mx_api_delete_devices(struct mx_api *a, const json_t *devices,
    const char *user, mx_api_ask_fn *ask, struct mx_err *e)
{
	json_t *b = json_pack("{s:O}", "devices", devices);
	int rc;

	/* Deleting what is already gone is no harm: a lost answer may be
	 * retried. */
	rc = mx_api_call_uia(a, "POST", "/_matrix/client/v3/delete_devices", b,
	    1, user, ask, NULL, e);
	json_decref(b);
	return rc;
}

int
mx_api_whoami(struct mx_api *a, char **user_id, char **device_id,
    struct mx_err *e)
{
	json_t *j;
	const char *d;

	if (call(a, "GET", mx_xstrdup("/_matrix/client/v3/account/whoami"),
		NULL, 1, &j, e) != 0)
		return -1;
	d = json_string_value(json_object_get(j, "device_id"));
	if (device_id != NULL)
		*device_id = d ? mx_xstrdup(d) : NULL;
	if (take_str(j, "user_id", user_id, e) == 0)
		return 0;
	if (device_id != NULL) {
		free(*device_id);
		*device_id = NULL;
	}
	return -1;
}

int
mx_api_appservice_ping(struct mx_api *a, const char *id,
    long long *duration_ms, struct mx_err *e)
{
	json_t *b = json_object(), *j = NULL;
	const json_t *d;
	int rc;

	/* Not idempotent for the retry logic: a 502 here is the answer. */
	rc = call(a, "POST", path("/_matrix/client/v1/appservice/%s/ping", id),
	    b, 0, &j, e);
	json_decref(b);
	if (rc != 0)
		return -1;
	d = json_object_get(j, "duration_ms");
	if (!json_is_integer(d) || json_integer_value(d) < 0) {
		json_decref(j);
		return mx_err_set(e, MX_TEMP,
		    "malformed answer from the server: no \"duration_ms\"");
	}
	*duration_ms = json_integer_value(d);
	json_decref(j);
	return 0;
}

/* --- rooms -------------------------------------------------------------- */

int
mx_api_resolve_alias(struct mx_api *a, const char *alias, char **room_id,
    struct mx_err *e)
{
	json_t *j;

	if (call(a, "GET", path("/_matrix/client/v3/directory/room/%s", alias),
		NULL, 1, &j, e) != 0)
		return -1;
	return take_str(j, "room_id", room_id, e);
}

int
mx_api_join(struct mx_api *a, const char *room, char **room_id,
    struct mx_err *e)
{
	json_t *b = json_object(), *j;
	int rc;

	/* Joining twice is harmless, so a lost answer may be retried. */
	rc = call(a, "POST", path("/_matrix/client/v3/join/%s", room), b, 1,
	    &j, e);
	json_decref(b);
	return rc ? -1 : take_str(j, "room_id", room_id, e);
}

int
mx_api_create_room(struct mx_api *a, const json_t *body, char **room_id,
    struct mx_err *e)
{
	json_t *j;

	if (call(a, "POST", mx_xstrdup("/_matrix/client/v3/createRoom"), body,
		0, &j, e) != 0)
		return -1;
	return take_str(j, "room_id", room_id, e);
}

int
mx_api_joined_rooms(struct mx_api *a, json_t **rooms, struct mx_err *e)
{
	json_t *j;

	if (call(a, "GET", mx_xstrdup("/_matrix/client/v3/joined_rooms"), NULL,
		1, &j, e) != 0)
		return -1;
	return take_member(j, "joined_rooms", JSON_ARRAY, rooms, e);
}

int
mx_api_send(struct mx_api *a, const char *room_id, const char *type,
    const char *txn_id, const json_t *content, char **event_id,
    struct mx_err *e)
{
	json_t *j;

	/* The transaction id makes the PUT safe to repeat. */
	if (call(a, "PUT",
		path("/_matrix/client/v3/rooms/%s/send/%s/%s", room_id, type,
		    txn_id),
		content, 1, &j, e) != 0)
		return -1;
	return take_str(j, "event_id", event_id, e);
}

int
mx_api_redact(struct mx_api *a, const char *room_id, const char *event_id,
    const char *txn_id, const char *reason, char **redaction_id,
    struct mx_err *e)
{
	json_t *b = json_object(), *j;
	int rc;

	if (reason != NULL)
		json_object_set_new(b, "reason", json_string(reason));
	rc = call(a, "PUT",
	    path("/_matrix/client/v3/rooms/%s/redact/%s/%s", room_id, event_id,
		txn_id),
	    b, 1, &j, e);
	json_decref(b);
	return rc ? -1 : take_str(j, "event_id", redaction_id, e);
}

int
mx_api_rename_device(struct mx_api *a, const char *device_id, const char *name,
    struct mx_err *e)
{
	json_t *b = json_pack("{s:s}", "display_name", name), *j = NULL;
	int rc = call(a, "PUT",
	    path("/_matrix/client/v3/devices/%s", device_id), b, 1, &j, e);

	json_decref(b);
	json_decref(j);
	return rc;
}

int
mx_api_profile(struct mx_api *a, const char *user_id, json_t **out,
    struct mx_err *e)
{
	struct mx_err e2;

	/* Synapse answers 404 M_UNKNOWN ("No row found") for a local user
	 * who does not exist: any 404 means none. */
	mx_err_clear(&e2);
	if (call(a, "GET", path("/_matrix/client/v3/profile/%s", user_id),
		NULL, 1, out, &e2) == 0)
		return 1;
	if (e2.http == 404)
		return 0;
	if (e != NULL)
		*e = e2;
	return -1;
}

int
mx_api_get_state(struct mx_api *a, const char *room_id, const char *type,
    const char *state_key, json_t **content, struct mx_err *e)
{
	return get_optional(a,
	    path("/_matrix/client/v3/rooms/%s/state/%s/%s", room_id, type,
		state_key ? state_key : ""),
	    content, e);
}

int
mx_api_put_state(struct mx_api *a, const char *room_id, const char *type,
    const char *state_key, const json_t *content, char **event_id,
    struct mx_err *e)
{
	json_t *j;

	if (call(a, "PUT",
		path("/_matrix/client/v3/rooms/%s/state/%s/%s", room_id, type,
		    state_key ? state_key : ""),
		content, 1, &j, e) != 0)
		return -1;
	if (event_id == NULL) {
		json_decref(j);
		return 0;
	}
	return take_str(j, "event_id", event_id, e);
}

int
mx_api_get_event(struct mx_api *a, const char *room_id, const char *event_id,
    json_t **event, struct mx_err *e)
{
	return call(a, "GET",
	    path("/_matrix/client/v3/rooms/%s/event/%s", room_id, event_id),
	    NULL, 1, event, e);
}

int
mx_api_members(struct mx_api *a, const char *room_id, json_t **chunk,
    struct mx_err *e)
{
	json_t *j;

	if (call(a, "GET",
		path("/_matrix/client/v3/rooms/%s/members", room_id), NULL, 1,
		&j, e) != 0)
		return -1;
	return take_member(j, "chunk", JSON_ARRAY, chunk, e);
}

int
mx_api_room_state(struct mx_api *a, const char *room_id, json_t **events,
    struct mx_err *e)
{
	struct call c = { 0 };

	c.method = "GET";
	c.path = path("/_matrix/client/v3/rooms/%s/state", room_id);
	c.idempotent = 1;
	c.auth = 1;
	c.array = 1;
	return do_call(a, &c, events, e);
}

int
mx_api_leave(struct mx_api *a, const char *room_id, struct mx_err *e)
{
	json_t *b = json_object();
	int rc;

	/* Leaving twice is harmless: safe to repeat. */
	rc = call(a, "POST",
	    path("/_matrix/client/v3/rooms/%s/leave", room_id), b, 1, NULL, e);
	json_decref(b);
	return rc;
}

int
mx_api_forget(struct mx_api *a, const char *room_id, struct mx_err *e)
{
	json_t *b = json_object();
	int rc;

	rc = call(a, "POST",
	    path("/_matrix/client/v3/rooms/%s/forget", room_id), b, 1, NULL,
	    e);
	json_decref(b);
	return rc;
}

int
mx_api_membership(struct mx_api *a, const char *room_id, const char *action,
    const char *user_id, const char *reason, struct mx_err *e)
{
	json_t *b;
	int rc;

	if (strcmp(action, "invite") != 0 && strcmp(action, "kick") != 0 &&
	    strcmp(action, "ban") != 0 && strcmp(action, "unban") != 0)
		return mx_err_set(e, MX_LOCAL, "no membership action '%s'",
		    action);
	b = json_pack("{s:s}", "user_id", user_id);
	if (reason != NULL)
		json_object_set_new(b, "reason", json_string(reason));
	/* Each leaves the membership as asked: safe to repeat. */
	rc = call(a, "POST",
	    path("/_matrix/client/v3/rooms/%s/%S", room_id, action), b, 1,
	    NULL, e);
	json_decref(b);
	return rc;
}

int
mx_api_put_alias(struct mx_api *a, const char *alias, const char *room_id,
    struct mx_err *e)
{
	json_t *b = json_pack("{s:s}", "room_id", room_id);
	int rc;

	rc =
	    call(a, "PUT", path("/_matrix/client/v3/directory/room/%s", alias),
		b, 0, NULL, e);
	json_decref(b);
	return rc;
}

int
mx_api_delete_alias(struct mx_api *a, const char *alias, struct mx_err *e)
{
	return call(a, "DELETE",
	    path("/_matrix/client/v3/directory/room/%s", alias), NULL, 0, NULL,
	    e);
}

/* --- sync and history --------------------------------------------------- */

int
mx_api_sync(struct mx_api *a, const char *since, const char *filter,
    long timeout_ms, json_t **out, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;
	struct call c = { 0 };
	char t[32];

	snprintf(t, sizeof(t), "%ld", timeout_ms > 0 ? timeout_ms : 0);
	mx_buf_adds(&b, "/_matrix/client/v3/sync");
	mx_buf_query(&b, "timeout", t);
	mx_buf_query(&b, "since", since);
	mx_buf_query(&b, "filter", filter);
	c.method = "GET";
	c.path = mx_buf_detach(&b);
	c.idempotent = 1;
	c.auth = 1;
	if (timeout_ms > 0)
		c.timeout_ms = timeout_ms + LONGPOLL_SLACK_MS;
	return do_call(a, &c, out, e);
}

char *
mx_api_messages_path(const char *room_id, char dir, const char *from,
    const char *to, int limit, const char *filter)
{
	struct mx_buf b = MX_BUF_INIT;
	char *p = path("/_matrix/client/v3/rooms/%s/messages", room_id);
	char d[2] = { dir == 'f' ? 'f' : 'b', '\0' }, l[16];

	mx_buf_adds(&b, p);
	free(p);
	mx_buf_query(&b, "dir", d);
	if (limit > 0) {
		snprintf(l, sizeof(l), "%d", limit);
		mx_buf_query(&b, "limit", l);
	}
	mx_buf_query(&b, "from", from);
	mx_buf_query(&b, "to", to);
	mx_buf_query(&b, "filter", filter);
	return mx_buf_detach(&b);
}

int
mx_api_messages(struct mx_api *a, const char *room_id, const char *from,
    const char *to, char dir, int limit, const char *filter, json_t **out,
    struct mx_err *e)
{
	return call(a, "GET",
	    mx_api_messages_path(room_id, dir, from, to, limit, filter), NULL,
	    1, out, e);
}

int
mx_api_relations(struct mx_api *a, const char *room_id, const char *event_id,
    const char *rel_type, int limit, char dir, json_t **out, struct mx_err *e)
{
	char d[2] = { dir == 'f' ? 'f' : 'b', '\0' }, l[16];

	snprintf(l, sizeof(l), "%d", limit > 0 ? limit : 1);
	return call(a, "GET",
	    path("/_matrix/client/v1/rooms/%s/relations/%s/%s?limit=%s&dir=%s",
		room_id, event_id, rel_type, l, d),
	    NULL, 1, out, e);
}

/* --- end-to-end encryption ---------------------------------------------- */

int
mx_api_keys_upload(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e)
{
	/* Uploading the same keys again changes nothing: safe to repeat. */
	return call(a, "POST", path("/_matrix/client/v3/keys/upload"), body, 1,
	    out, e);
}

int
mx_api_keys_query(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e)
{
	return call(a, "POST", path("/_matrix/client/v3/keys/query"), body, 1,
	    out, e);
}

int
mx_api_keys_claim(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e)
{
	/* Not repeated: each claim uses up one-time keys. */
	return call(a, "POST", path("/_matrix/client/v3/keys/claim"), body, 0,
	    out, e);
}

int
mx_api_send_to_device(struct mx_api *a, const char *type, const char *txn_id,
    const json_t *messages, struct mx_err *e)
{
	json_t *body = json_pack("{s:O}", "messages", messages);
	int rc;

	/* The transaction id makes the PUT safe to repeat. */
	rc = call(a, "PUT",
	    path("/_matrix/client/v3/sendToDevice/%s/%s", type, txn_id), body,
	    1, NULL, e);
	json_decref(body);
	return rc;
}

/* --- account data ------------------------------------------------------- */

int
mx_api_get_account_data(struct mx_api *a, const char *user_id,
    const char *type, json_t **content, struct mx_err *e)
{
	return get_optional(a,
	    path("/_matrix/client/v3/user/%s/account_data/%s", user_id, type),
	    content, e);
}

int
mx_api_put_account_data(struct mx_api *a, const char *user_id,
    const char *type, const json_t *content, struct mx_err *e)
{
	return call(a, "PUT",
	    path("/_matrix/client/v3/user/%s/account_data/%s", user_id, type),
	    content, 1, NULL, e);
}

/* --- server-side key backup (spec: "Server-side key backups") ----------- */

int
mx_api_backup_version(struct mx_api *a, json_t **out, struct mx_err *e)
{
	return get_optional(a, path("/_matrix/client/v3/room_keys/version"),
	    out, e);
}

int
mx_api_backup_keys(struct mx_api *a, const char *version, json_t **out,
    struct mx_err *e)
{
	return call(a, "GET",
	    path("/_matrix/client/v3/room_keys/keys?version=%s", version),
	    NULL, 1, out, e);
}

int
mx_api_backup_create(struct mx_api *a, const json_t *body, char **version,
    struct mx_err *e)
{
	json_t *j = NULL;
	const char *v;

	/* Not repeated: each POST makes another version. */
	if (call(a, "POST", path("/_matrix/client/v3/room_keys/version"), body,
		0, &j, e) != 0)
		return -1;
	if ((v = json_string_value(json_object_get(j, "version"))) == NULL) {
		json_decref(j);
		return mx_err_set(e, MX_TEMP,
		    "a new backup without a version");
	}
	*version = mx_xstrdup(v);
	json_decref(j);
	return 0;
}

int
mx_api_backup_put_keys(struct mx_api *a, const char *version,
    const json_t *body, struct mx_err *e)
{
	return call(a, "PUT",
	    path("/_matrix/client/v3/room_keys/keys?version=%s", version),
	    body, 1, NULL, e);
}

/* --- media -------------------------------------------------------------- */

/* 1 when "v1.N" (N >= 11) or a later major version is in versions. */
int
mx_api_versions_has_v1_11(const json_t *v)
{
	json_t *arr = json_object_get(v, "versions"), *s;
	size_t i;

	json_array_foreach(arr, i, s) {
		int maj, min;
		const char *t = json_string_value(s);

		if (t && sscanf(t, "v%d.%d", &maj, &min) == 2 &&
		    (maj > 1 || (maj == 1 && min >= 11)))
			return 1;
	}
	return 0;
}

/*
 * Whether the server offers authenticated media.  The answer is cached for
 * the process, per homeserver URL: versions do not change under a running
 * program, and a second /versions per download would cost a round trip.
 */
static int
media_v1(struct mx_api *a, struct mx_err *e)
{
	static char cached_hs[512];
	static int cached = -1;
	json_t *v;

	if (cached >= 0 && strcmp(cached_hs, a->hs) == 0)
		return cached;
	if (mx_api_versions(a, &v, e) != 0)
		return -1;
	cached = mx_api_versions_has_v1_11(v);
	json_decref(v);
	if (strlen(a->hs) < sizeof(cached_hs))
		memcpy(cached_hs, a->hs, strlen(a->hs) + 1);
	else
		cached = -1;
	return cached < 0 ? 0 : cached;
}

int
mx_api_media_config(struct mx_api *a, long long *upload_size, struct mx_err *e)
{
	const char *p;
	json_t *j, *s;
	int v1 = media_v1(a, e);

	if (v1 < 0)
		return -1;
	p = v1 ? "/_matrix/client/v1/media/config" :
		 "/_matrix/media/v3/config";
	if (call(a, "GET", mx_xstrdup(p), NULL, 1, &j, e) != 0)
		return -1;
	s = json_object_get(j, "m.upload.size");
	*upload_size = json_is_integer(s) ? json_integer_value(s) : -1;
	json_decref(j);
	return 0;
}

int
mx_api_upload(struct mx_api *a, FILE *f, long len, const char *ctype,
    const char *filename, char **mxc, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;
	struct call c = { 0 };
	json_t *j;

	mx_buf_adds(&b, "/_matrix/media/v3/upload");
	mx_buf_query(&b, "filename", filename);
	c.method = "POST";
	c.path = mx_buf_detach(&b);
	/* A repeated upload only leaves an unused copy behind. */
	c.idempotent = 1;
	c.auth = 1;
	c.body_file = f;
	c.body_file_len = len;
	c.ctype = ctype ? ctype : "application/octet-stream";
	if (do_call(a, &c, &j, e) != 0)
		return -1;
	return take_str(j, "content_uri", mxc, e);
}

/* The length of the server name at s (spec: Appendices, "Server Name":
 * a DNS name, an IPv4 address or a bracketed IPv6 one, then an optional
 * ":port"), or 0.  A name starts with a letter or digit, so "." and ".."
 * are none. */
static size_t
server_name_len(const char *s)
{
	size_t n = 0, d;

	if (s[0] == '[') {
		n = 1 + strspn(s + 1, "0123456789abcdefABCDEF:.");
		if (s[n] != ']' || n < 3)
			return 0;
		n++;
	} else {
		if (!isalnum((unsigned char)s[0]))
			return 0;
		n = strspn(s,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-");
		if (n > 255)
			return 0;
	}
	if (s[n] == ':') {
		d = strspn(s + n + 1, "0123456789");
		if (d < 1 || d > 5)
			return 0;
		n += 1 + d;
	}
	return n;
}

/* Split "mxc://server/id" into its two parts (caller frees both), by the
 * spec's grammar (Client-Server API, "Matrix Content (mxc://) URIs": the
 * media ID is [A-Za-z0-9_-]+): nothing else may reach a request path. */
int
mx_api_parse_mxc(const char *mxc, char **server, char **id)
{
	const char *s, *i;
	size_t n, m;

	if (!mx_startswith(mxc, "mxc://"))
		return -1;
	s = mxc + strlen("mxc://");
	if ((n = server_name_len(s)) == 0 || s[n] != '/')
		return -1;
	i = s + n + 1;
	m = strspn(i,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
	    "-");
	if (m == 0 || m > 255 || i[m] != '\0')
		return -1;
	*server = mx_xstrndup(s, n);
	*id = mx_xstrdup(i);
	return 0;
}

int
mx_api_download(struct mx_api *a, const char *mxc, FILE *out, struct mx_err *e)
{
	struct call c = { 0 };
	char *server, *id;
	int v1, rc;

	if (mx_api_parse_mxc(mxc, &server, &id) != 0)
		return mx_err_set(e, MX_LOCAL, "invalid content URI '%s'",
		    mxc);
	if ((v1 = media_v1(a, e)) < 0) {
		free(server);
		free(id);
		return -1;
	}
	c.method = "GET";
	c.path = path(v1 ? "/_matrix/client/v1/media/download/%s/%s" :
			   "/_matrix/media/v3/download/%s/%s",
	    server, id);
	c.idempotent = 1;
	c.auth = 1;
	c.out_file = out;
	c.max_body = a->max_download;
	rc = do_call(a, &c, NULL, e);
	free(server);
	free(id);
	return rc;
}
