/*
 * json: canonical JSON written by hand (spec: Appendices, "Canonical
 * JSON"), because jansson's encoder differs: it writes \u001F in upper
 * case, has no code-point key sort of its own for keys holding NUL, and
 * prints reals.  Parsing and the compact form are jansson's.
 */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json.h"
#include "util.h"
#include "banned.h"

struct key {
	const char *s;
	size_t n;
	json_t *v;
};

static int canon(struct mx_buf *b, const json_t *v, struct mx_err *e);

/* Strings: escape ", \ and U+0000..U+001F only; bytes >= 0x80 go as is. */
static void
canon_str(struct mx_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7] = "\\u00";
	size_t i, run = 0;
	unsigned char c;

	mx_buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mx_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			mx_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			mx_buf_add(b, "\\\\", 2);
			break;
		case '\b':
			mx_buf_add(b, "\\b", 2);
			break;
		case '\f':
			mx_buf_add(b, "\\f", 2);
			break;
		case '\n':
			mx_buf_add(b, "\\n", 2);
			break;
		case '\r':
			mx_buf_add(b, "\\r", 2);
			break;
		case '\t':
			mx_buf_add(b, "\\t", 2);
			break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			mx_buf_add(b, esc, 6);
		}
	}
	mx_buf_add(b, s + run, n - run);
	mx_buf_add(b, "\"", 1);
}

/* Code point order is UTF-8 byte order; a prefix sorts first. */
static int
keycmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);

	if (c != 0)
		return c;
	return (a->n > b->n) - (a->n < b->n);
}

static int
canon_obj(struct mx_buf *b, const json_t *v, struct mx_err *e)
{
	size_t i, n = json_object_size(v);
	struct key *k = mx_xcalloc(n ? n : 1, sizeof *k);
	void *it;
	int rc = 0;

	i = 0;
	for (it = json_object_iter((json_t *)v); it != NULL && i < n;
	     it = json_object_iter_next((json_t *)v, it), i++) {
		k[i].s = json_object_iter_key(it);
		k[i].n = json_object_iter_key_len(it);
		k[i].v = json_object_iter_value(it);
	}
	qsort(k, i, sizeof *k, keycmp);
	mx_buf_add(b, "{", 1);
	for (n = i, i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			mx_buf_add(b, ",", 1);
		canon_str(b, k[i].s, k[i].n);
		mx_buf_add(b, ":", 1);
		rc = canon(b, k[i].v, e);
	}
	mx_buf_add(b, "}", 1);
	free(k);
	return rc;
}

static int
canon_arr(struct mx_buf *b, const json_t *v, struct mx_err *e)
{
	size_t i;

	mx_buf_add(b, "[", 1);
	for (i = 0; i < json_array_size(v); i++) {
		if (i > 0)
			mx_buf_add(b, ",", 1);
		if (canon(b, json_array_get(v, i), e) != 0)
			return -1;
	}
	mx_buf_add(b, "]", 1);
	return 0;
}

static int
canon_int(struct mx_buf *b, long long i, struct mx_err *e)
{
	if (i > MX_JSON_INT_MAX || i < -MX_JSON_INT_MAX)
		return mx_err_set(e, MX_LOCAL,
		    "canonical json: integer %lld out of range", i);
	mx_buf_addf(b, "%lld", i);
	return 0;
}

/* A real passes only when it is an integer in range (-0 becomes 0). */
static int
canon_real(struct mx_buf *b, double d, struct mx_err *e)
{
	if (!isfinite(d) || d != floor(d) || fabs(d) > MX_JSON_INT_MAX)
		return mx_err_set(e, MX_LOCAL,
		    "canonical json: %g is not an integer in range", d);
	return canon_int(b, (long long)d, e);
}

static int
canon(struct mx_buf *b, const json_t *v, struct mx_err *e)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return canon_obj(b, v, e);
	case JSON_ARRAY:
		return canon_arr(b, v, e);
	case JSON_STRING:
		canon_str(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		return canon_int(b, json_integer_value(v), e);
	case JSON_REAL:
		return canon_real(b, json_real_value(v), e);
	case JSON_TRUE:
		mx_buf_adds(b, "true");
		return 0;
	case JSON_FALSE:
		mx_buf_adds(b, "false");
		return 0;
	case JSON_NULL:
		mx_buf_adds(b, "null");
		return 0;
	}
	return mx_err_set(e, MX_LOCAL, "canonical json: unknown type");
}

char *
mx_json_canonical(const json_t *v, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;

	if (v == NULL) {
		mx_err_set(e, MX_LOCAL, "canonical json: no value");
		return NULL;
	}
	if (canon(&b, v, e) != 0) {
		mx_buf_release(&b);
		return NULL;
	}
	return mx_buf_detach(&b);
}

json_t *
mx_json_parse(const char *s, size_t n, struct mx_err *e)
{
	json_error_t je;
	json_t *v;

	/* JSON text holds no raw NUL (a string's is escaped); jansson would
	 * take "40" followed by one as 40. */
	if (memchr(s, '\0', n) != NULL) {
		mx_err_set(e, MX_LOCAL,
		    "invalid json: a NUL byte in the text");
		return NULL;
	}
	v = json_loadb(s, n,
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (v == NULL)
		mx_err_set(e, MX_LOCAL,
		    "invalid json at line %d column %d: %s", je.line,
		    je.column, je.text);
	return v;
}

/* jansson's free: the whole block, as glibc sized it, is zeroed first.  The
 * allocation side stays malloc, so a string json_dumps returns may still
 * be released with free(). */
static void
wipe_free(void *p)
{
	if (p != NULL) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

void
mx_json_init(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}

char *
mx_json_compact(const json_t *v)
{
	if (v == NULL)
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *
mx_json_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* --- the items of an array, streamed --------------------------------------- */

static void
item_add(struct mx_json_items *it, char c)
{
	char *nb;

	if (it->len == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 4096;
		nb = mx_xmalloc(it->cap);
		if (it->buf != NULL) {
			memcpy(nb, it->buf, it->len);
			sodium_memzero(it->buf, it->len);
			free(it->buf);
		}
		it->buf = nb;
	}
	it->buf[it->len++] = c;
}

/* The item read is whole: parse it, hand it on, forget its text. */
static int
item_done(struct mx_json_items *it,
    int (*fn)(void *u, const json_t *item, struct mx_err *e), void *u,
    struct mx_err *e)
{
	json_t *v = mx_json_parse(it->buf, it->len, e);
	int rc;

	sodium_memzero(it->buf, it->len);
	it->len = 0;
	it->state = 1;
	it->any = 1;
	if (v == NULL)
		return mx_err_prefix(e, "an item of the list");
	rc = fn(u, v, e);
	json_decref(v);
	return rc;
}

/* One byte inside an item: is the item over after it?  Strings and
 * nesting are followed so that a ',' or ']' inside them is not an end. */
static int
item_byte(struct mx_json_items *it, char c)
{
	if (it->in_str) {
		if (it->esc)
			it->esc = 0;
		else if (c == '\\')
			it->esc = 1;
		else if (c == '"')
			it->in_str = 0;
		return it->depth == 0 && !it->in_str;
	}
	if (c == '"')
		it->in_str = 1;
	else if (c == '{' || c == '[')
		it->depth++;
	else if (c == '}' || c == ']')
		it->depth--;
	return it->depth == 0 && !it->in_str;
}

int
mx_json_items_feed(struct mx_json_items *it, const char *p, size_t n,
    int (*fn)(void *u, const json_t *item, struct mx_err *e), void *u,
    struct mx_err *e)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (it->state != 2 && strchr(" \t\r\n", c) != NULL &&
		    c != '\0')
			continue;
		if (it->state == 0 && c == '[') {
			it->state = 1;
		} else if (it->state == 1 && c == ']' && !it->comma) {
			it->state = 3;
		} else if (it->state == 1 && (!it->any || it->comma) &&
		    (c == '{' || c == '"' || c == '[')) {
			it->state = 2;
			it->depth = it->in_str = it->esc = it->comma = 0;
			item_add(it, c);
			if (item_byte(it, c) && item_done(it, fn, u, e) != 0)
				return -1;
		} else if (it->state == 2) {
			if (it->len >= MX_JSON_ITEM_MAX)
				return mx_err_set(e, MX_LOCAL,
				    "an item of the list is too large");
			item_add(it, c);
			if (item_byte(it, c) && item_done(it, fn, u, e) != 0)
				return -1;
		} else if (it->state == 1 && it->any && !it->comma &&
		    c == ',') {
			it->comma = 1;
		} else {
			return mx_err_set(e, MX_LOCAL,
			    "not a JSON list of objects");
		}
	}
	return 0;
}

int
mx_json_items_end(const struct mx_json_items *it, struct mx_err *e)
{
	if (it->state != 3)
		return mx_err_set(e, MX_LOCAL, "the JSON list is cut short");
	return 0;
}

void
mx_json_items_release(struct mx_json_items *it)
{
	if (it->buf != NULL) {
		sodium_memzero(it->buf, it->cap);
		free(it->buf);
	}
	it->buf = NULL;
	it->len = it->cap = 0;
}
