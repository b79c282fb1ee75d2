/*
 * fuzz_verify: lib/verify.c, the SAS state machine, on what a hostile
 * other side sends.  The input: a control byte, then events, one a line,
 * "TYPE JSON" (the type, a space, the content; a content without
 * transaction_id gets ours, and in-room one without m.relates_to a
 * reference to the request).  Control bits: 0 we ask (else they asked);
 * 1 the user says yes when the SAS shows (else no); 2 the events come
 * from another sender; 3 the in-room form.
 * Asserted:
 *   - every event queued is an m.key.verification.* with our
 *     transaction id (in-room: a reference to the request, and no
 *     transaction id);
 *   - once cancelled or done, the state never moves again and nothing
 *     more is queued;
 *   - a cancel has a printable code;
 *   - events from another sender change nothing;
 *   - done only after the user said yes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "json.h"
#include "util.h"
#include "verify.h"

static const struct mx_verify_party US = { "@alice:hs", "AAAA",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
static const struct mx_verify_party THEM = { "@bob:hs", "BBBB",
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", NULL };

static void
check_out(struct mx_verify *v, int over, int room)
{
	json_t *q = mx_verify_take(v), *m, *c;
	const char *t, *x, *r;
	size_t i;

	if (over && json_array_size(q) != 0)
		abort();
	json_array_foreach(q, i, m) {
		t = json_string_value(json_object_get(m, "type"));
		c = json_object_get(m, "content");
		x = mx_json_str(c, "transaction_id");
		r = mx_json_str(json_object_get(c, "m.relates_to"),
		    "event_id");
		if (t == NULL || !mx_startswith(t, "m.key.verification.") ||
		    (room ? x != NULL || r == NULL || strcmp(r, "txn") != 0 :
			    x == NULL || strcmp(x, "txn") != 0))
			abort();
	}
	json_decref(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct mx_verify *v;
	enum mx_verify_state st;
	const char *p, *end, *nl, *sp;
	char *type;
	json_t *c;
	int ctl, said_yes = 0, over, room;
	const char *c0;

	if (!init) {
		mx_crypto_init();
		init = 1;
	}
	if (size < 1)
		return 0;
	ctl = data[0];
	room = (ctl & 8) != 0;
	v = room ? mx_verify_new_room(&US, &THEM, "txn", ctl & 1) :
		   mx_verify_new(&US, &THEM, "txn", ctl & 1, 1000);
	check_out(v, 0, room);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			continue;
		type = mx_xstrndup(p, (size_t)(sp - p));
		c = mx_json_parse(sp + 1, (size_t)(nl - sp - 1), NULL);
		if (room && json_is_object(c) &&
		    json_object_get(c, "m.relates_to") == NULL)
			json_object_set_new(c, "m.relates_to",
			    json_pack("{s:s,s:s}", "rel_type", "m.reference",
				"event_id", "txn"));
		else if (!room && json_is_object(c) &&
		    json_object_get(c, "transaction_id") == NULL)
			json_object_set_new(c, "transaction_id",
			    json_string("txn"));
		st = mx_verify_state(v);
		over = st == MX_VERIFY_DONE || st == MX_VERIFY_CANCELLED;
		mx_verify_input(v, ctl & 4 ? "@mallory:hs" : THEM.user, type,
		    c);
		if ((over || ctl & 4) && mx_verify_state(v) != st)
			abort();
		check_out(v, over, room);
		json_decref(c);
		free(type);
		if (mx_verify_state(v) == MX_VERIFY_SHOW) {
			said_yes = ctl & 2;
			mx_verify_confirm(v, said_yes);
			check_out(v, 0, room);
		}
		if (mx_verify_state(v) == MX_VERIFY_DONE && !said_yes)
			abort();
		if (mx_verify_state(v) == MX_VERIFY_CANCELLED) {
			c0 = mx_verify_cancel_code(v);
			for (; *c0; c0++)
				if (*c0 < 0x20 || *c0 >= 0x7f)
					abort();
		}
		if (nl == end)
			break;
	}
	mx_verify_free(v);
	return 0;
}
