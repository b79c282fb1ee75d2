/*
 * gossip: which m.secret.send mx takes and which m.secret.request it
 * answers (spec: Client-Server API, "Sharing"): secrets only through Olm,
 * from the device asked, for a request we made; requests only from our own
 * verified or cross-signed devices, for a secret mx gives.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "devices.h"
#include "gossip.h"
#include "tap.h"

#define ME "@bob:example.org"
#define CURVE "curveOfBob1"

/* An inbox item: sender, type, content (stolen), sender_key or NULL. */
static json_t *
item(const char *sender, const char *type, json_t *content, const char *skey)
{
	json_t *it = json_pack("{s:s,s:s,s:s,s:o}", "id", "1", "sender",
	    sender, "type", type, "content", content);

	if (skey != NULL)
		json_object_set_new(it, "sender_key", json_string(skey));
	return it;
}

static json_t *
secret_send(const char *rid)
{
	return json_pack("{s:s,s:s}", "request_id", rid, "secret",
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
}

static enum mx_gossip_verdict
judge_send(json_t *it, const json_t *pending, const char **name,
    const char **why)
{
	enum mx_gossip_verdict v =
	    mx_gossip_judge_send(it, ME, CURVE, pending, name, why);

	json_decref(it);
	return v;
}

static void
sends(void)
{
	json_t *pending = json_pack("{s:s,s:s}", "r1",
	    "m.cross_signing.self_signing", "r2", "m.megolm_backup.v1");
	const char *name, *why;

	ok(judge_send(item(ME, "m.secret.send", secret_send("r1"), CURVE),
	       pending, &name, &why) == MX_GOSSIP_TAKE &&
		strcmp(name, "m.cross_signing.self_signing") == 0,
	    "send: through Olm, from the device asked, for our request: "
	    "taken");
	ok(judge_send(item(ME, "m.secret.send", secret_send("r1"), NULL),
	       pending, &name, &why) == MX_GOSSIP_REFUSE &&
		name == NULL && strstr(why, "in the clear") != NULL,
	    "send: in the clear, with our request_id: refused");
	ok(judge_send(item(ME, "m.secret.send", secret_send("zz"), NULL),
	       pending, &name, &why) == MX_GOSSIP_REFUSE,
	    "send: in the clear, any request_id: refused");
	ok(judge_send(item("@eve:example.org", "m.secret.send",
			  secret_send("r1"), CURVE),
	       pending, &name, &why) == MX_GOSSIP_REFUSE &&
		strstr(why, "another user") != NULL,
	    "send: from another user: refused");
	ok(judge_send(item(ME, "m.secret.send", secret_send("r1"),
			  "curveOfBob2"),
	       pending, &name, &why) == MX_GOSSIP_REFUSE &&
		name == NULL && strstr(why, "did not ask") != NULL,
	    "send: from another of our devices: refused");
	ok(judge_send(item(ME, "m.secret.send", secret_send("r9"), CURVE),
	       pending, &name, &why) == MX_GOSSIP_IGNORE,
	    "send: a request_id not ours: left for whoever asked");
	ok(judge_send(item(ME, "m.secret.send",
			  json_pack("{s:s,s:i}", "request_id", "r2", "secret",
			      7),
			  CURVE),
	       pending, &name, &why) == MX_GOSSIP_REFUSE &&
		name == NULL,
	    "send: a secret that is not a string: refused");
	json_decref(pending);
}

static json_t *
secret_req(const char *action, const char *name, const char *dev)
{
	json_t *c =
	    json_pack("{s:s,s:s}", "action", action, "request_id", "q1");

	if (name != NULL)
		json_object_set_new(c, "name", json_string(name));
	if (dev != NULL)
		json_object_set_new(c, "requesting_device_id",
		    json_string(dev));
	return c;
}

static enum mx_gossip_verdict
judge_req(const char *sender, json_t *content, const struct mx_devlist *own,
    const struct mx_device **to, const char **why)
{
	json_t *it = item(sender, "m.secret.request", content, NULL);
	enum mx_gossip_verdict v =
	    mx_gossip_judge_request(it, ME, "MXDEV", own, to, why);

	json_decref(it);
	return v;
}

static void
requests(void)
{
	struct mx_device d[5];
	struct mx_devlist own = { d, 5 };
	const struct mx_device *to;
	const char *why;
	static const char *const ids[5] = { "VERIFIED", "XSIGNED", "TOFU",
		"UNVERIFIED", "CHANGED" };
	static const enum mx_trust tr[5] = { MX_TRUST_VERIFIED,
		MX_TRUST_CROSS_SIGNED, MX_TRUST_TOFU, MX_TRUST_UNVERIFIED,
		MX_TRUST_MISMATCH };
	int i;

	memset(d, 0, sizeof(d));
	for (i = 0; i < 5; i++) {
		d[i].user_id = (char *)ME;
		d[i].device_id = (char *)ids[i];
		d[i].trust = tr[i];
	}
	ok(judge_req(ME,
	       secret_req("request", "m.cross_signing.self_signing",
		   "VERIFIED"),
	       &own, &to, &why) == MX_GOSSIP_TAKE &&
		to == &d[0],
	    "request: our verified device: answered, to it");
	ok(judge_req(ME,
	       secret_req("request", "m.megolm_backup.v1", "XSIGNED"), &own,
	       &to, &why) == MX_GOSSIP_TAKE &&
		to == &d[1],
	    "request: our cross-signed device: answered");
	for (i = 2; i < 5; i++)
		ok(judge_req(ME,
		       secret_req("request", "m.cross_signing.master", ids[i]),
		       &own, &to, &why) == MX_GOSSIP_REFUSE &&
			to == NULL && strstr(why, "not verified") != NULL,
		    "request: our device trusted %s only: refused",
		    mx_trust_name(tr[i]));
	ok(judge_req(ME,
	       secret_req("request", "m.cross_signing.master", "GHOST"), &own,
	       &to, &why) == MX_GOSSIP_REFUSE &&
		strstr(why, "unknown device") != NULL,
	    "request: a device not in our list: refused");
	ok(judge_req("@eve:example.org",
	       secret_req("request", "m.cross_signing.master", "VERIFIED"),
	       &own, &to, &why) == MX_GOSSIP_REFUSE &&
		strstr(why, "another user") != NULL,
	    "request: from another user, naming our device: refused");
	ok(judge_req(ME, secret_req("request", "m.something.else", "VERIFIED"),
	       &own, &to, &why) == MX_GOSSIP_REFUSE,
	    "request: a secret mx does not give: refused");
	ok(judge_req(ME, secret_req("request", "m.cross_signing.master", NULL),
	       &own, &to, &why) == MX_GOSSIP_REFUSE,
	    "request: without requesting_device_id: refused");
	ok(judge_req(ME, secret_req("request_cancellation", NULL, "VERIFIED"),
	       &own, &to, &why) == MX_GOSSIP_IGNORE,
	    "request_cancellation: ignored");
	ok(judge_req(ME,
	       secret_req("request", "m.cross_signing.master", "MXDEV"), &own,
	       &to, &why) == MX_GOSSIP_IGNORE,
	    "request: from this device itself: ignored");
	ok(mx_gossip_known("m.cross_signing.user_signing") &&
		mx_gossip_known("m.megolm_backup.v1") &&
		!mx_gossip_known("m.megolm_backup") && !mx_gossip_known(NULL),
	    "the secrets mx gives");
}

int
main(void)
{
	sends();
	requests();
	return done();
}
