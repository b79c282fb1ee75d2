/*
 * inbox: events kept in arrival order, sealed, and dropped when they
 * expire or are taken.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "inbox.h"
#include "json.h"
#include "store.h"
#include "tap.h"

int
main(void)
{
	struct mx_store *s;
	json_t *c, *items = NULL;
	long long t0 = 1700000000000LL;
	char *id;
	int i, inorder;

	mx_crypto_init();
	if (mx_store_open_memory(&s, NULL) != 0)
		return 1;
	ok(mx_inbox_wants("m.key.verification.start") &&
		mx_inbox_wants("m.secret.send") &&
		mx_inbox_wants("m.room_key_request") &&
		!mx_inbox_wants("m.room_key") && !mx_inbox_wants(NULL),
	    "which types are kept");
	c = json_pack("{s:s}", "transaction_id", "t1");
	ok(mx_inbox_put(s, "@b:hs", "m.key.verification.request", c, NULL, t0,
	       NULL) == 0,
	    "put a clear one");
	ok(mx_inbox_put(s, "@b:hs", "m.secret.send", c, "CURVE", t0 + 1000,
	       NULL) == 0,
	    "put an encrypted one");
	ok(mx_inbox_put(s, "@b:hs", "m.key.verification.request", c, NULL,
	       t0 + 500, NULL) == 0 &&
		mx_inbox_put(s, "@b:hs", "m.secret.send", c, "CURVE",
		    t0 + 1500, NULL) == 0,
	    "the same events again (a second process synced them too)");
	ok(mx_inbox_list(s, t0 + 2000, &items, NULL) == 2,
	    "both listed, once each");
	ok(strcmp(mx_json_str(json_array_get(items, 0), "type"),
	       "m.key.verification.request") == 0 &&
		mx_json_str(json_array_get(items, 0), "sender_key") == NULL &&
		strcmp(mx_json_str(json_array_get(items, 1), "sender_key"),
		    "CURVE") == 0 &&
		strcmp(mx_json_str(json_object_get(json_array_get(items, 1),
				       "content"),
			   "transaction_id"),
		    "t1") == 0,
	    "in order, with sender key and content");
	id = strdup(mx_json_str(json_array_get(items, 1), "id"));
	json_decref(items);
	/* many in one millisecond keep their order */
	for (i = 0; i < 300; i++) {
		json_object_set_new(c, "n", json_integer(i));
		mx_inbox_put(s, "@b:hs", "m.key.verification.key", c, NULL,
		    t0 + 1500, NULL);
	}
	ok(mx_inbox_list(s, t0 + 2000, &items, NULL) == 302, "302 kept");
	for (i = 0, inorder = 1; i < 300; i++)
		inorder &=
		    json_integer_value(
			json_object_get(json_object_get(json_array_get(items,
							    i + 2),
					    "content"),
			    "n")) == i;
	ok(inorder, "in the order they came, in one millisecond");
	for (i = 0; i < 300; i++)
		mx_inbox_del(s,
		    mx_json_str(json_array_get(items, i + 2), "id"), NULL);
	json_decref(items);
	ok(mx_inbox_list(s, t0 + MX_INBOX_TTL_MS + 500, &items, NULL) == 1,
	    "the first expired");
	json_decref(items);
	ok(mx_inbox_take(s, id, NULL) == 1 &&
		mx_inbox_take(s, id, NULL) == 0 &&
		mx_inbox_list(s, t0 + 2000, &items, NULL) == 0,
	    "the second taken; the first is gone for good");
	json_decref(items);
	free(id);
	json_decref(c);
	c = json_pack("{s:s,s:s}", "request_id", "r1", "secret", "c2VjcmV0");
	mx_inbox_wipe_secret(c);
	ok(memcmp(json_string_value(json_object_get(c, "secret")),
	       "\0\0\0\0\0\0\0\0", 8) == 0 &&
		strcmp(mx_json_str(c, "request_id"), "r1") == 0,
	    "an m.secret.send's secret is wiped in place, the rest kept");
	json_decref(c);
	mx_store_close(s);
	return done();
}
