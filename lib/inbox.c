/*
 * inbox: to-device events kept for the program that handles them (see
 * inbox.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "inbox.h"
#include "json.h"
#include "store.h"
#include "util.h"
#include "banned.h"

#define NS "inbox"

int
mx_inbox_wants(const char *type)
{
	return type != NULL &&
	    (mx_startswith(type, "m.key.verification.") ||
		strcmp(type, "m.secret.request") == 0 ||
		strcmp(type, "m.secret.send") == 0 ||
		strcmp(type, "m.room_key_request") == 0);
}

int
mx_inbox_put(struct mx_store *s, const char *sender, const char *type,
    const json_t *content, const char *sender_key, long long now,
    struct mx_err *e)
{
	/* Events of one /sync answer arrive in the same millisecond: a
	 * counter keeps their order (a ready before its start). */
	static unsigned seq;
	unsigned char r[4];
	char key[64];
	json_t *row;
	char *v;
	int rc;

	mx_random(r, sizeof(r));
	snprintf(key, sizeof(key), "%013lld-%08x-%02x%02x%02x%02x", now, seq++,
	    r[0], r[1], r[2], r[3]);
	row = json_pack("{s:I,s:s,s:s,s:O}", "received_ms", (json_int_t)now,
	    "sender", sender, "type", type, "content", content);
	if (row == NULL)
		return mx_err_set(e, MX_LOCAL, "a to-device event not UTF-8");
	if (sender_key != NULL)
		json_object_set_new(row, "sender_key",
		    json_string(sender_key));
	v = mx_json_compact(row);
	json_decref(row);
	rc = mx_store_put_secret(s, NS, key, v, strlen(v), e);
	mx_wipe(v, strlen(v));
	free(v);
	return rc;
}

/* The row of key, parsed, or NULL when it is gone or unreadable. */
static json_t *
load(struct mx_store *s, const char *key, struct mx_err *e)
{
	char *v = NULL;
	size_t n = 0;
	json_t *j = NULL;

	if (mx_store_get_secret(s, NS, key, &v, &n, e) == 1)
		j = mx_json_parse(v, n, NULL);
	if (v != NULL)
		mx_secure_free(v);
	return j;
}

long
mx_inbox_list(struct mx_store *s, long long now, json_t **items,
    struct mx_err *e)
{
	char **keys = NULL;
	long n, i;
	json_t *row;
	long long t;

	*items = json_array();
	if ((n = mx_store_keys(s, NS, "", &keys, e)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* The key starts with the arrival time: an expired row is
		 * dropped unread. */
		t = strtoll(keys[i], NULL, 10);
		if (t + MX_INBOX_TTL_MS < now || t > now + MX_INBOX_TTL_MS ||
		    (row = load(s, keys[i], NULL)) == NULL) {
			if (mx_store_del(s, NS, keys[i], e) != 0)
				break;
			continue;
		}
		json_object_set_new(row, "id", json_string(keys[i]));
		json_array_append_new(*items, row);
	}
	mx_store_keys_free(keys);
	if (i < n) {
		json_decref(*items);
		*items = NULL;
		return -1;
	}
	return (long)json_array_size(*items);
}

int
mx_inbox_del(struct mx_store *s, const char *id, struct mx_err *e)
{
	return mx_store_del(s, NS, id, e);
}

void
mx_inbox_wipe_secret(json_t *content)
{
	json_t *v = json_object_get(content, "secret");

	if (json_is_string(v))
		mx_wipe((char *)json_string_value(v), json_string_length(v));
}

void
mx_inbox_release(json_t *items)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it)
		mx_inbox_wipe_secret(json_object_get(it, "content"));
	json_decref(items);
}
