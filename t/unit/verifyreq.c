/*
 * verifyreq: which requests mx-verify sas may accept: the to-device form
 * from the inbox, the in-room form (age limits, addressee, the device
 * that encrypted it), and a request another device took first.
 */
#include <string.h>

#include <jansson.h>

#include "verifyreq.h"
#include "tap.h"

#define NOW 1700000000000LL
#define MIN (60LL * 1000)

static json_t *
todevice(const char *sender, const char *dev, long long ts, long long rcv)
{
	return json_pack("{s:s,s:s,s:I,s:{s:s,s:s,s:[s],s:I}}", "type",
	    "m.key.verification.request", "sender", sender, "received_ms",
	    (json_int_t)rcv, "content", "from_device", dev, "transaction_id",
	    "t1", "methods", "m.sas.v1", "timestamp", (json_int_t)ts);
}

static void
test_todevice(void)
{
	json_t *it = todevice("@b:hs", "BDEV", NOW - MIN, NOW - MIN);

	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_OK,
	    "to-device: a fresh request from another user is OK");
	json_decref(it);
	it = todevice("@a:hs", "ADEV2", NOW, NOW);
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_OK,
	    "to-device: from our own other device is OK");
	json_decref(it);
	it = todevice("@a:hs", "ADEV", NOW, NOW);
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_BAD,
	    "to-device: from this very device is BAD");
	json_decref(it);
	it = todevice("@b:hs", "BDEV", NOW - 11 * MIN, NOW);
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_BAD,
	    "to-device: sent over 10 minutes ago is BAD");
	json_decref(it);
	it = todevice("@b:hs", "BDEV", NOW + 6 * MIN, NOW);
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_BAD,
	    "to-device: over 5 minutes ahead is BAD");
	json_decref(it);
	it = todevice("@b:hs", "BDEV", NOW, NOW - 3 * MIN);
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_BAD,
	    "to-device: received over 2 minutes ago is BAD");
	json_object_del(json_object_get(it, "content"), "methods");
	json_object_set_new(it, "received_ms", json_integer(NOW));
	ok(mx_verifyreq_todevice(it, "@a:hs", "ADEV", NOW) == MX_VERIFYREQ_BAD,
	    "to-device: no methods is BAD");
	json_decref(it);
}

static json_t *
room_ev(const char *to, long long ts, const char *proven)
{
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s,s:s,s:[s]}}",
	    "type", "m.room.message", "sender", "@b:hs", "event_id", "$req",
	    "room_id", "!dm:hs", "origin_server_ts", (json_int_t)ts, "content",
	    "msgtype", "m.key.verification.request", "to", to, "from_device",
	    "BDEV", "methods", "m.sas.v1");

	if (proven != NULL)
		json_object_set_new(ev, "mx",
		    json_pack("{s:s}", "device_id", proven));
	return ev;
}

static void
test_room(void)
{
	json_t *ev = room_ev("@a:hs", NOW, NULL);

	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_OK,
	    "room: a fresh request to us, in the clear, is OK");
	ok(mx_verifyreq_room(ev, "@b:hs", NOW) == MX_VERIFYREQ_BAD,
	    "room: our own request is BAD");
	json_decref(ev);
	ev = room_ev("@a:hs", NOW, "BDEV");
	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_OK,
	    "room: encrypted by the device it names is OK");
	json_decref(ev);
	ev = room_ev("@a:hs", NOW, "OTHER");
	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_BAD,
	    "room: encrypted by another device is BAD");
	json_decref(ev);
	ev = room_ev("@c:hs", NOW, NULL);
	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_BAD,
	    "room: to someone else is BAD");
	json_decref(ev);
	ev = room_ev("@a:hs", NOW - 11 * MIN, NULL);
	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_BAD,
	    "room: over 10 minutes old is BAD");
	json_object_set_new(json_object_get(ev, "content"), "msgtype",
	    json_string("m.text"));
	ok(mx_verifyreq_room(ev, "@a:hs", NOW) == MX_VERIFYREQ_NONE,
	    "room: an m.text is no request");
	json_decref(ev);
}

static void
test_taken(void)
{
	json_t *evs = json_pack("[{s:s,s:{s:{s:s}}},{s:s,s:{s:s,s:{s:s}}}]",
	    "type", "m.key.verification.start", "content", "m.relates_to",
	    "event_id", "$req", "type", "m.key.verification.ready", "content",
	    "from_device", "ADEV", "m.relates_to", "event_id", "$req");

	ok(!mx_verifyreq_taken(evs, 0, "$req", "ADEV"),
	    "taken: a start and our own ready do not take it");
	ok(mx_verifyreq_taken(evs, 0, "$req", "ADEV2"),
	    "taken: another device of ours ready first takes it");
	ok(!mx_verifyreq_taken(evs, 2, "$req", "ADEV2"),
	    "taken: only the events after from count");
	ok(!mx_verifyreq_taken(evs, 0, "$other", "ADEV2"),
	    "taken: another request's answers do not count");
	json_array_append_new(evs,
	    json_pack("{s:s,s:{s:{s:s}}}", "type", "m.key.verification.cancel",
		"content", "m.relates_to", "event_id", "$req"));
	ok(mx_verifyreq_taken(evs, 0, "$req", "ADEV"),
	    "taken: a cancel ends it");
	json_decref(evs);
}

int
main(void)
{
	test_todevice();
	test_room();
	test_taken();
	return done();
}
