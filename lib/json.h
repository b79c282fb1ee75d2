/*
 * json: jansson helpers.  Matrix canonical JSON (spec: Appendices,
 * "Canonical JSON") for everything that is signed or hashed, a parser that
 * reports errors the mx way, and compact one-line output for JSON Lines.
 */
#ifndef MX_JSON_H
#define MX_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* The integer range canonical JSON allows: [-(2^53)+1, 2^53-1]. */
#define MX_JSON_INT_MAX 9007199254740991LL

/*
 * Canonical JSON of v: keys sorted by code point (UTF-8 byte order), no
 * whitespace, UTF-8 as is, only \" \\ \b \f \n \r \t and \u00xx (lowercase)
 * escapes.  Numbers must be integers in range; a real is accepted only when
 * it holds an integral value in range (so 1e10 and -0 from parsed input
 * canonicalise as 10000000000 and 0, as the spec's examples ask), anything
 * else is MX_LOCAL.  Returns a new NUL-terminated string (caller frees),
 * or NULL with e filled.
 */
char *mx_json_canonical(const json_t *v, struct mx_err *e);

/*
 * Parse n bytes of JSON text (any value; duplicate object keys and invalid
 * UTF-8 refused; "\u0000" allowed in strings, refused in keys by jansson).  Returns a new reference
 * (caller json_decref()s), or NULL with e set to MX_LOCAL and jansson's
 * line, column and reason.
 */
json_t *mx_json_parse(const char *s, size_t n, struct mx_err *e);

/*
 * Compact one-line JSON of v in its own key order, UTF-8 not escaped: the
 * form mx writes on stdout.  Returns a new string (caller frees), or NULL
 * when v cannot be encoded (NULL v, NaN).
 */
char *mx_json_compact(const json_t *v);

/* The string member k of o (borrowed), or NULL when o is not an object,
 * k is absent or not a string. */
const char *mx_json_str(const json_t *o, const char *k);

/*
 * The items of one JSON array, from text that arrives in chunks: each item
 * is parsed (mx_json_parse) and handed to fn as soon as its last byte
 * arrived, so memory holds one item at a time, never the array.  Items
 * above MX_JSON_ITEM_MAX bytes are refused.  The text held is wiped.
 *
 *   struct mx_json_items it = MX_JSON_ITEMS_INIT;
 *   mx_json_items_feed(&it, p, n, fn, u, e)   as often as chunks come
 *   mx_json_items_end(&it, e)                 the array must be closed
 *   mx_json_items_release(&it)                on every path
 *
 * fn gets a borrowed item; it returns 0, or -1 (e set) to stop.  Each call
 * returns 0, or -1 with e set (MX_LOCAL for malformed text).
 */
#define MX_JSON_ITEM_MAX (1u << 20)
struct mx_json_items {
	char *buf; /* the item being read */
	size_t len, cap;
	int state; /* 0 before '[', 1 between items, 2 in one, 3 after ']' */
	int depth, in_str, esc, any, comma;
};
#define MX_JSON_ITEMS_INIT \
	{ \
		NULL, 0, 0, 0, 0, 0, 0, 0, 0 \
	}
int mx_json_items_feed(struct mx_json_items *it, const char *p, size_t n,
    int (*fn)(void *u, const json_t *item, struct mx_err *e), void *u,
    struct mx_err *e);
int mx_json_items_end(const struct mx_json_items *it, struct mx_err *e);
void mx_json_items_release(struct mx_json_items *it);

/*
 * Make jansson wipe every block it frees: parsed values hold access tokens,
 * decrypted room keys and Olm payloads, and their strings would otherwise
 * stay in freed heap memory.  Call once, before any jansson use (every
 * program does, in mx_cli_init).
 */
void mx_json_init(void);

#endif
