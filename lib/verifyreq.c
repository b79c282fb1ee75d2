/*
 * verifyreq: which verification requests mx-verify sas may accept.  See
 * verifyreq.h.
 */
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "verifyreq.h"
#include "banned.h"

enum mx_verifyreq_verdict
mx_verifyreq_todevice(const json_t *item, const char *user, const char *device,
    long long now)
{
	const json_t *c = json_object_get(item, "content");
	const char *sender = mx_json_str(item, "sender"),
		   *dev = mx_json_str(c, "from_device");
	long long ts = json_integer_value(json_object_get(c, "timestamp")),
		  rcv =
		      json_integer_value(json_object_get(item, "received_ms"));
	int ok;

	ok = dev != NULL && mx_json_str(c, "transaction_id") != NULL &&
	    json_array_size(json_object_get(c, "methods")) > 0 &&
	    ts >= now - MX_VERIFYREQ_PAST_MS &&
	    ts <= now + MX_VERIFYREQ_FUTURE_MS &&
	    rcv >= now - MX_VERIFYREQ_RECEIVED_MS &&
	    !(strcmp(sender, user) == 0 && strcmp(dev, device) == 0);
	return ok ? MX_VERIFYREQ_OK : MX_VERIFYREQ_BAD;
}

enum mx_verifyreq_verdict
mx_verifyreq_room(const json_t *ev, const char *user, long long now)
{
	const json_t *c = json_object_get(ev, "content");
	const char *type = mx_json_str(ev, "type"),
		   *mt = mx_json_str(c, "msgtype"), *to = mx_json_str(c, "to"),
		   *fd = mx_json_str(c, "from_device"),
		   *dev = mx_json_str(json_object_get(ev, "mx"), "device_id"),
		   *sender = mx_json_str(ev, "sender");
	long long ts =
	    json_integer_value(json_object_get(ev, "origin_server_ts"));

	if (type == NULL || strcmp(type, "m.room.message") != 0 ||
	    mt == NULL || strcmp(mt, "m.key.verification.request") != 0)
		return MX_VERIFYREQ_NONE;
	if (to == NULL || strcmp(to, user) != 0 || sender == NULL ||
	    strcmp(sender, user) == 0 || fd == NULL ||
	    (dev != NULL && strcmp(fd, dev) != 0) ||
	    mx_json_str(ev, "event_id") == NULL ||
	    !json_is_array(json_object_get(c, "methods")) ||
	    ts < now - MX_VERIFYREQ_PAST_MS ||
	    ts > now + MX_VERIFYREQ_FUTURE_MS)
		return MX_VERIFYREQ_BAD;
	return MX_VERIFYREQ_OK;
}

int
mx_verifyreq_taken(const json_t *evs, size_t from, const char *id,
    const char *device)
{
	const json_t *ev, *c, *rel;
	const char *t, *fd;
	size_t i;

	for (i = from; i < json_array_size(evs); i++) {
		ev = json_array_get(evs, i);
		t = mx_json_str(ev, "type");
		c = json_object_get(ev, "content");
		rel = json_object_get(c, "m.relates_to");
		fd = mx_json_str(c, "from_device");
		if (t == NULL || mx_json_str(rel, "event_id") == NULL ||
		    strcmp(mx_json_str(rel, "event_id"), id) != 0)
			continue;
		if (strcmp(t, "m.key.verification.cancel") == 0 ||
		    strcmp(t, "m.key.verification.done") == 0 ||
		    (strcmp(t, "m.key.verification.ready") == 0 &&
			(fd == NULL || strcmp(fd, device) != 0)))
			return 1;
	}
	return 0;
}
