/*
 * fuzz_json: whatever parses canonicalises without crashing, and the
 * canonical form is a fixed point: canonical(parse(canonical(x))) ==
 * canonical(x).  The signed-bytes form and the compact form must not crash
 * either.  And mx_utf8_valid agrees with jansson's own UTF-8 check on the
 * raw input (jansson takes a NUL byte, mx_utf8_valid does not).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "signjson.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mx_err e;
	json_t *v, *v2;
	char *c1, *c2, *s;
	int valid;

	v = json_stringn((const char *)data, size);
	valid = v != NULL && memchr(data, 0, size) == NULL;
	json_decref(v);
	if (mx_utf8_valid((const char *)data, size) != valid)
		abort();
	if ((v = mx_json_parse((const char *)data, size, &e)) == NULL)
		return 0;
	free(mx_json_compact(v));
	free(mx_signjson_signed_bytes(v, &e));
	if ((c1 = mx_json_canonical(v, &e)) != NULL) {
		if ((v2 = mx_json_parse(c1, strlen(c1), &e)) == NULL)
			abort();
		if ((c2 = mx_json_canonical(v2, &e)) == NULL ||
		    strcmp(c1, c2) != 0)
			abort();
		s = mx_json_compact(v2);
		free(s);
		free(c2);
		json_decref(v2);
		free(c1);
	}
	json_decref(v);
	return 0;
}
