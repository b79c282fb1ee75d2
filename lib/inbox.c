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
/* One row per event kept, key the digest of the event, value the time it
 * arrived: processes syncing from the same position are all handed the
 * same to-device events, and each must be kept once. */
#define NS_SEEN "inbox_seen"

int
mx_inbox_wants(const char *type)
{
	return type != NULL &&
	    (mx_startswith(type, "m.key.verification.") ||
		strcmp(type, "m.secret.request") == 0 ||
		strcmp(type, "m.secret.send") == 0 ||
		strcmp(type, "m.room_key_request") == 0);
}

/* The digest of an event (hex), over its sender, type, sender key and
 * canonical content. */
static int
digest(const char *sender, const char *type, const json_t *content,
    const char *sender_key, char hex[2 * MX_SHA256_LEN + 1], struct mx_err *e)
{
	uint8_t d[MX_SHA256_LEN];
	char *c = mx_json_canonical(content, e), *all;
	size_t i;

	if (c == NULL)
		return -1;
	all = mx_xasprintf("%s%c%s%c%s%c%s", sender, 0, type, 0,
	    sender_key ? sender_key : "", 0, c);
	mx_sha256(d, all,
	    strlen(sender) + strlen(type) +
		strlen(sender_key ? sender_key : "") + strlen(c) + 3);
	mx_wipe(c, strlen(c));
	free(c);
	free(all);
	for (i = 0; i < MX_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
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
	char key[64], seen[2 * MX_SHA256_LEN + 1], ms[24];
	json_t *row;
	char *v;
	int rc;

	row = json_pack("{s:I,s:s,s:s,s:O}", "received_ms", (json_int_t)now,
	    "sender", sender, "type", type, "content", content);
	if (row == NULL)
		return mx_err_set(e, MX_LOCAL, "a to-device event not UTF-8");
	if (sender_key != NULL)
		json_object_set_new(row, "sender_key",
		    json_string(sender_key));
	if (digest(sender, type, content, sender_key, seen, e) != 0) {
		json_decref(row);
		return -1;
	}
	v = mx_json_compact(row);
	json_decref(row);
	mx_random(r, sizeof(r));
	snprintf(key, sizeof(key), "%013lld-%08x-%02x%02x%02x%02x", now, seq++,
	    r[0], r[1], r[2], r[3]);
	snprintf(ms, sizeof(ms), "%lld", now);
	/* The digest and the row together: kept once (0 from add: kept
	 * already, by this process or another). */
	if ((rc = mx_store_begin(s, e)) == 0) {
		rc = mx_store_add(s, NS_SEEN, seen, ms, strlen(ms), e);
		if (rc == 1)
			rc = mx_store_put_secret(s, NS, key, v, strlen(v), e);
		if (rc >= 0)
			rc = mx_store_commit(s, e);
		else
			mx_store_rollback(s);
	}
	mx_wipe(v, strlen(v));
	free(v);
	return rc;
}

/* Forget the digests of events that expired. */
static int
forget_seen(struct mx_store *s, long long now, struct mx_err *e)
{
	char **keys = NULL, *v;
	long n, i;
	long long t;
	int rc = 0;

	if ((n = mx_store_keys(s, NS_SEEN, "", &keys, e)) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		v = NULL;
		if ((rc = mx_store_get(s, NS_SEEN, keys[i], &v, NULL, e)) < 0)
			break;
		t = rc == 1 ? strtoll(v, NULL, 10) : 0;
		rc = t + MX_INBOX_TTL_MS < now || t > now + MX_INBOX_TTL_MS ?
		    mx_store_del(s, NS_SEEN, keys[i], e) :
		    0;
		free(v);
	}
	mx_store_keys_free(keys);
	return rc < 0 ? -1 : 0;
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

	*items = NULL;
	if (forget_seen(s, now, e) != 0)
		return -1;
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

int
mx_inbox_take(struct mx_store *s, const char *id, struct mx_err *e)
{
	return mx_store_take(s, NS, id, e);
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
