/* api: the pure parts (error mapping, mxc URIs, versions). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "api.h"
#include "util.h"

static int
check(long http, const char *body, json_t **out, struct mx_err *e)
{
	mx_err_clear(e);
	return mx_api_check(http, body, strlen(body), out, e);
}

static void
mapping(void)
{
	struct mx_err e;
	json_t *j = NULL;

	ok(check(200, "{\"event_id\":\"$e\"}", &j, &e) == 0 && j != NULL,
	    "2xx: 0 and the object");
	json_decref(j);
	ok(check(200, "", NULL, &e) == 0, "2xx empty, answer unused: 0");
	ok(check(200, "{\"event_id\":\"$e", &j, &e) == -1 &&
	    e.status == MX_TEMP && e.http == 200, "2xx truncated: MX_TEMP");
	ok(strstr(e.msg, "malformed answer from the server (HTTP 200)") ==
	    e.msg, "truncated: message (%s)", e.msg);
	ok(check(200, "[1]", &j, &e) == -1 && e.status == MX_TEMP,
	    "2xx not an object: MX_TEMP");
	ok(check(403, "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"not in room\"}",
	    NULL, &e) == -1 && e.status == MX_PERM && e.http == 403,
	    "403: MX_PERM");
	is_str(e.msg, "M_FORBIDDEN: not in room", "403: message");
	is_str(e.errcode, "M_FORBIDDEN", "403: errcode");
	ok(check(404, "<html>", NULL, &e) == -1 && e.status == MX_PERM,
	    "404 without JSON: MX_PERM");
	is_str(e.msg, "HTTP 404", "404 without JSON: message");
	is_str(e.errcode, "", "404 without JSON: no errcode");
	ok(check(429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"slow\","
	    "\"retry_after_ms\":500}", NULL, &e) == -1 &&
	    e.status == MX_TEMP && e.retry_after_ms == 500, "429: MX_TEMP");
	ok(check(502, "", NULL, &e) == -1 && e.status == MX_TEMP &&
	    strcmp(e.msg, "HTTP 502") == 0, "502: MX_TEMP, HTTP 502");
	ok(check(400, "{\"errcode\":\"M_BAD_JSON\"}", NULL, &e) == -1 &&
	    strcmp(e.msg, "M_BAD_JSON: (no message)") == 0,
	    "errcode without error");
}

static void
mxc(void)
{
	char *s = NULL, *id = NULL;

	ok(mx_api_parse_mxc("mxc://example.org/abcDEF", &s, &id) == 0,
	    "mxc parsed");
	is_str(s, "example.org", "mxc server");
	is_str(id, "abcDEF", "mxc id");
	free(s);
	free(id);
	ok(mx_api_parse_mxc("mxc://example.org/", &s, &id) == -1, "no id");
	ok(mx_api_parse_mxc("mxc:///id", &s, &id) == -1, "no server");
	ok(mx_api_parse_mxc("https://h/x", &s, &id) == -1, "not mxc");
	ok(mx_api_parse_mxc("mxc://h/a/b", &s, &id) == -1, "extra slash");
	/* The spec's grammar, nothing else (a hostile server's URI must not
	 * reach another path). */
	ok(mx_api_parse_mxc("mxc://../..", &s, &id) == -1, "dots");
	ok(mx_api_parse_mxc("mxc://h/..", &s, &id) == -1, "a dot media ID");
	ok(mx_api_parse_mxc("mxc://h/a%2F", &s, &id) == -1, "percent");
	ok(mx_api_parse_mxc("mxc://h:/a", &s, &id) == -1, "empty port");
	ok(mx_api_parse_mxc("mxc://h:123456/a", &s, &id) == -1, "long port");
	ok(mx_api_parse_mxc("mxc://[::1/a", &s, &id) == -1, "open bracket");
	ok(mx_api_parse_mxc("mxc://h_x/a", &s, &id) == -1, "underscore host");
	ok(mx_api_parse_mxc("mxc://h/a b", &s, &id) == -1, "space");
	ok(mx_api_parse_mxc("mxc://[::1]:8448/a-_Z9", &s, &id) == 0 &&
		strcmp(s, "[::1]:8448") == 0 && strcmp(id, "a-_Z9") == 0,
	    "[IPv6]:port and every media ID character");
	free(s);
	free(id);
	ok(mx_api_parse_mxc("mxc://127.0.0.1:8008/x", &s, &id) == 0 &&
		strcmp(s, "127.0.0.1:8008") == 0,
	    "IPv4:port");
	free(s);
	free(id);
}

static void
versions(void)
{
	json_t *v;

	v = json_loads("{\"versions\":[\"r0.6.1\",\"v1.10\",\"v1.11\"]}", 0,
	    NULL);
	ok(mx_api_versions_has_v1_11(v), "v1.11 listed");
	json_decref(v);
	v = json_loads("{\"versions\":[\"v1.1\",\"v1.10\",\"v1.2\"]}", 0, NULL);
	ok(!mx_api_versions_has_v1_11(v), "v1.10 is not v1.11");
	json_decref(v);
	v = json_loads("{\"versions\":[\"v2.0\"]}", 0, NULL);
	ok(mx_api_versions_has_v1_11(v), "v2.0 is later");
	json_decref(v);
	ok(!mx_api_versions_has_v1_11(NULL), "no answer");
}

static void
encoding(void)
{
	char *s = mx_urlenc("!abc:example.org");

	is_str(s, "%21abc%3Aexample.org", "room id segment encoded");
	free(s);
	s = mx_urlenc("#ops/x:h");
	is_str(s, "%23ops%2Fx%3Ah", "alias with a slash encoded");
	free(s);
}

int
main(void)
{
	mapping();
	mxc();
	versions();
	encoding();
	return done();
}
