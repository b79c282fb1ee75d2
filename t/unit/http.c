/* http: the pure parts (loopback rule, backoff, 429 waits, redaction,
 * Content-Disposition). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "http.h"

static void
loopback(void)
{
	static const char *const yes[] = {
		"http://127.0.0.1:8008/", "http://127.1.2.3",
		"http://localhost",
		"http://LocalHost:1/x", "http://[::1]:8008/_matrix",
		"http://[::ffff:127.0.0.1]/", NULL,
	};
	static const char *const no[] = {
		"http://example.org/", "http://128.0.0.1", "http://10.0.0.1",
		"http://[::2]/", "http://localhost.example.org",
		"http://127.0.0.1.nip.io/", "http://user@example.org",
		"garbage",
		NULL,
	};
	int i;

	for (i = 0; yes[i]; i++)
		ok(mx_http_is_loopback(yes[i]) == 1, "loopback: %s", yes[i]);
	for (i = 0; no[i]; i++)
		ok(mx_http_is_loopback(no[i]) == 0, "not loopback: %s", no[i]);
}

static void
backoff(void)
{
	static const long base[] = { 250, 500, 1000, 2000, 4000, 8000, 8000 };
	int i, good = 1;

	for (i = 0; i < 7; i++) {
		int k;

		for (k = 0; k < 50; k++) {
			long d = mx_http_backoff_ms(i);

			good &= d >= base[i] && d <= base[i] + base[i] / 4;
		}
	}
	ok(good, "backoff doubles from 250 ms, capped at 8 s, jitter <= 25%%");
	ok(mx_http_backoff_ms(100) <= 10000, "backoff of a large attempt");
}

static void
retry_after(void)
{
	const char *b = "{\"errcode\":\"M_LIMIT_EXCEEDED\","
	    "\"retry_after_ms\":1234}";

	ok(mx_http_retry_after_ms(b, strlen(b), "9") == 1234,
	    "retry_after_ms of the body wins");
	ok(mx_http_retry_after_ms("{}", 2, "3") == 3000, "Retry-After seconds");
	ok(mx_http_retry_after_ms("{}", 2, NULL) == -1, "neither: -1");
	ok(mx_http_retry_after_ms("<html>", 6, NULL) == -1, "not JSON: -1");
	ok(mx_http_retry_after_ms(NULL, 0, "3600") == 60000, "capped at 60 s");
	b = "{\"retry_after_ms\":99999999}";
	ok(mx_http_retry_after_ms(b, strlen(b), NULL) == 60000,
	    "retry_after_ms capped at 60 s");
	ok(mx_http_retry_after_ms(NULL, 0, "Wed, 21 Oct 2015 07:28:00 GMT") ==
	    0, "Retry-After date in the past: 0");
	ok(mx_http_retry_after_ms(NULL, 0, "soon") == -1, "bad header: -1");
}

static void
redact1(const char *in, const char *want)
{
	char *r = mx_http_redact(in);

	is_str(r, want, in);
	free(r);
}

static void
redact(void)
{
	redact1("https://h/_matrix/x?access_token=abc&b=1",
	    "https://h/_matrix/x?access_token=<redacted>&b=1");
	redact1("{\"password\":\"p\\\"w\",\"user\":\"u\"}",
	    "{\"password\": \"<redacted>\",\"user\":\"u\"}");
	redact1("{\"access_token\" : \"syt_x\", \"device_id\":\"D\"}",
	    "{\"access_token\": \"<redacted>\", \"device_id\":\"D\"}");
	redact1("{\"token\":\"t1\",\"refresh_token\":\"t2\"}",
	    "{\"token\": \"<redacted>\",\"refresh_token\": \"<redacted>\"}");
	redact1("{\"token\":5}", "{\"token\":5}");
	redact1("{\"password\":\"unterminated",
	    "{\"password\": \"<redacted>\"");
	redact1("plain text", "plain text");
}

static void
disposition1(const char *in, const char *want)
{
	char *f = mx_http_disposition_filename(in);

	if (want == NULL)
		ok(f == NULL, "no filename in: %s", in);
	else
		is_str(f, want, in);
	free(f);
}

static void
disposition(void)
{
	disposition1("inline; filename=\"cat.png\"", "cat.png");
	disposition1("attachment; filename=report.pdf; size=3", "report.pdf");
	disposition1("attachment; filename*=UTF-8''na%C3%AFve%20f.txt",
	    "na\xc3\xaf" "ve f.txt");
	disposition1("inline", NULL);
	disposition1("inline; xfilename=a", NULL);
}

int
main(void)
{
	loopback();
	backoff();
	retry_after();
	redact();
	disposition();
	return done();
}
