/*
 * gossip: secrets shared between our own devices (see gossip.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "gossip.h"
#include "inbox.h"
#include "json.h"
#include "keybackup.h"
#include "msg.h"
#include "todevice.h"
#include "util.h"
#include "xsign.h"
#include "banned.h"

/* The secrets, in the order of mx_xsign_keep's seeds, then the backup's. */
#define NSECRETS 4
#define BACKUP 3
static const char *const SECRET[NSECRETS] = { "m.cross_signing.master",
	"m.cross_signing.self_signing", "m.cross_signing.user_signing",
	MX_KEYBACKUP_SECRET };
static const char *const USAGE[3] = { "master", "self_signing",
	"user_signing" };

static int
secret_index(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < NSECRETS; i++)
		if (strcmp(name, SECRET[i]) == 0)
			return i;
	return -1;
}

int
mx_gossip_known(const char *name)
{
	return secret_index(name) >= 0;
}

/* ---- the verdicts (pure) ------------------------------------------------ */

enum mx_gossip_verdict
mx_gossip_judge_send(const json_t *item, const char *user, const char *curve,
    const json_t *pending, const char **name, const char **why)
{
	const json_t *c = json_object_get(item, "content");
	const char *sender = mx_json_str(item, "sender"),
		   *skey = mx_json_str(item, "sender_key"),
		   *rid = mx_json_str(c, "request_id");

	*name = NULL;
	*why = NULL;
	/* spec: "Sharing": m.secret.send "must be encrypted"; one in the
	 * clear could come from anyone who knows a request_id. */
	if (skey == NULL) {
		*why = "a secret sent in the clear";
		return MX_GOSSIP_REFUSE;
	}
	if (sender == NULL || strcmp(sender, user) != 0) {
		*why = "a secret from another user";
		return MX_GOSSIP_REFUSE;
	}
	if (rid == NULL || (*name = mx_json_str(pending, rid)) == NULL)
		return MX_GOSSIP_IGNORE;
	/* The Curve25519 key of the Olm session it came through: only the
	 * device we verified and asked may answer. */
	if (strcmp(skey, curve) != 0) {
		*name = NULL;
		*why = "a secret from a device we did not ask";
		return MX_GOSSIP_REFUSE;
	}
	if (!json_is_string(json_object_get(c, "secret"))) {
		*name = NULL;
		*why = "a malformed m.secret.send";
		return MX_GOSSIP_REFUSE;
	}
	return MX_GOSSIP_TAKE;
}

/* Our own device id of devs, or NULL. */
static const struct mx_device *
own_device(const struct mx_devlist *devs, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < devs->n; i++)
		if (strcmp(devs->v[i].device_id, id) == 0)
			return &devs->v[i];
	return NULL;
}

enum mx_gossip_verdict
mx_gossip_judge_request(const json_t *item, const char *user,
    const char *device, const struct mx_devlist *own,
    const struct mx_device **to, const char **why)
{
	const json_t *c = json_object_get(item, "content");
	const char *sender = mx_json_str(item, "sender"),
		   *action = mx_json_str(c, "action"),
		   *dev = mx_json_str(c, "requesting_device_id");
	const struct mx_device *d;

	*to = NULL;
	*why = NULL;
	if (action == NULL || strcmp(action, "request") != 0)
		return MX_GOSSIP_IGNORE;
	if (sender == NULL || strcmp(sender, user) != 0) {
		*why = "a secret request from another user";
		return MX_GOSSIP_REFUSE;
	}
	if (dev == NULL || mx_json_str(c, "request_id") == NULL) {
		*why = "a malformed secret request";
		return MX_GOSSIP_REFUSE;
	}
	if (strcmp(dev, device) == 0)
		return MX_GOSSIP_IGNORE;
	if (!mx_gossip_known(mx_json_str(c, "name"))) {
		*why = "a request for a secret mx does not give";
		return MX_GOSSIP_REFUSE;
	}
	if ((d = own_device(own, dev)) == NULL) {
		*why = "a secret request from an unknown device";
		return MX_GOSSIP_REFUSE;
	}
	if (d->trust != MX_TRUST_VERIFIED &&
	    d->trust != MX_TRUST_CROSS_SIGNED) {
		*why = "a secret request from a device not verified";
		return MX_GOSSIP_REFUSE;
	}
	*to = d;
	return MX_GOSSIP_TAKE;
}

/* ---- the exchange --------------------------------------------------------- */

struct mx_gossip {
	struct mx_e2ee *x;
	struct mx_ctx *c;
	const struct mx_device *asked; /* the device asked, or NULL */
	json_t *pending;	       /* request_id -> name */
	json_t *backup;		       /* the backup info, when asked */
	uint8_t *got;		       /* NSECRETS x 32, secure */
	int have[NSECRETS];
	int given;
	long long last;
};

struct mx_gossip *
mx_gossip_new(struct mx_e2ee *x, struct mx_ctx *c)
{
	struct mx_gossip *g = mx_xmalloc(sizeof(*g));

	memset(g, 0, sizeof(*g));
	g->x = x;
	g->c = c;
	g->pending = json_object();
	g->got = mx_secure_alloc(NSECRETS * 32);
	return g;
}

void
mx_gossip_free(struct mx_gossip *g)
{
	if (g == NULL)
		return;
	json_decref(g->pending);
	json_decref(g->backup);
	mx_secure_free(g->got);
	free(g);
}

/* The secret of index i this store holds into out (32 bytes): 1, 0
 * when not held, -1 with e. */
static int
held(struct mx_gossip *g, int i, uint8_t out[32], struct mx_err *e)
{
	if (i == BACKUP)
		return mx_keybackup_key_get(g->c->store, out, e);
	return mx_xsign_seed(g->c, USAGE[i], out, e);
}

int
mx_gossip_holds(struct mx_gossip *g, struct mx_err *e)
{
	uint8_t *s = mx_secure_alloc(32);
	int i, rc = 0;

	for (i = 0; i < NSECRETS && rc == 0; i++)
		rc = held(g, i, s, e);
	mx_secure_free(s);
	return rc;
}

/* m.secret.request of action for request rid (name: for a request) to
 * the device asked, in the clear (spec: "Sharing": m.secret.request). */
static int
send_request(struct mx_gossip *g, const char *action, const char *name,
    const char *rid, struct mx_err *e)
{
	struct mx_todevice_target t = { g->asked, 0 };
	json_t *c = json_pack("{s:s,s:s,s:s}", "action", action,
	    "requesting_device_id", g->c->sess.device_id, "request_id", rid);
	int rc;

	if (name != NULL)
		json_object_set_new(c, "name", json_string(name));
	rc = mx_todevice_send_clear(g->x, &t, 1, "m.secret.request", c, e);
	json_decref(c);
	return rc;
}

/* 1 when the secret of index i is missing here and worth asking for. */
static int
missing(struct mx_gossip *g, int i, struct mx_err *e)
{
	uint8_t *s = mx_secure_alloc(32);
	int rc = held(g, i, s, e);

	mx_secure_free(s);
	if (rc != 0 || i != BACKUP)
		return rc < 0 ? -1 : !rc;
	/* The backup key only for the account's current backup, which
	 * it is checked against when it comes. */
	rc = mx_api_backup_version(&g->c->api, &g->backup, e);
	if (rc == 0 ||
	    (rc > 0 &&
		!mx_json_str(json_object_get(g->backup, "auth_data"),
		    "public_key")))
		return 0;
	return rc < 0 ? -1 : 1;
}

/* 1 when the account publishes a master key, else 0; -1 with e. */
static int
published(struct mx_gossip *g, struct mx_err *e)
{
	json_t *st = NULL;
	int rc = mx_xsign_status(g->x, g->c, &st, e);

	if (rc == 0)
		rc = mx_json_str(st, "master_key") != NULL;
	json_decref(st);
	return rc;
}

int
mx_gossip_ask(struct mx_gossip *g, const struct mx_device *dev,
    struct mx_err *e)
{
	char *rid;
	int i, m, xs, n = 0;

	g->asked = dev;
	if ((xs = published(g, e)) < 0)
		return -1;
	for (i = 0; i < NSECRETS; i++) {
		/* The cross-signing keys only when the account has some. */
		if (i < BACKUP && !xs)
			continue;
		if ((m = missing(g, i, e)) < 0)
			return -1;
		if (m == 0)
			continue;
		rid = mx_msg_txn_new();
		json_object_set_new(g->pending, rid, json_string(SECRET[i]));
		m = send_request(g, "request", SECRET[i], rid, e);
		free(rid);
		if (m != 0)
			return -1;
		n++;
	}
	return n;
}

/* A secret (base64, padded or not) into exactly 32 bytes. */
static int
dec32(uint8_t out[32], const char *s)
{
	size_t n = strlen(s), got = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	return mx_b64_dec(out, 32, &got, s, n) == 0 && got == 32 ? 0 : -1;
}

/* An m.secret.send item: taken, refused or left. 1 when it leaves the
 * inbox. */
static int
on_send(struct mx_gossip *g, json_t *it)
{
	json_t *c = json_object_get(it, "content");
	const char *name, *why, *curve = g->asked ? g->asked->curve : "";
	enum mx_gossip_verdict v = mx_gossip_judge_send(it, g->c->sess.user_id,
	    curve, g->pending, &name, &why);
	int i;

	if (v == MX_GOSSIP_REFUSE)
		mx_notice(&g->c->notice, 0, "refusing %s (from %s)", why,
		    mx_json_str(it, "sender") ? mx_json_str(it, "sender") :
						"?");
	if (v == MX_GOSSIP_TAKE) {
		i = secret_index(name);
		if (i < 0 ||
		    dec32(g->got + 32 * i, mx_json_str(c, "secret")) != 0)
			mx_notice(&g->c->notice, 0,
			    "refusing a malformed %s from device %s", name,
			    g->asked->device_id);
		else {
			g->have[i] = 1;
			g->last = mx_time_ms();
			mx_notice(&g->c->notice, 1,
			    "received %s from device %s", name,
			    g->asked->device_id);
		}
		json_object_del(g->pending, mx_json_str(c, "request_id"));
	}
	mx_inbox_wipe_secret(c);
	return v != MX_GOSSIP_IGNORE;
}

/* Give the secret of the request it to our device to, Olm-encrypted to
 * it alone (spec: "Sharing": m.secret.send). */
static int
give(struct mx_gossip *g, const json_t *it, const struct mx_device *to,
    struct mx_err *e)
{
	const json_t *rq = json_object_get(it, "content");
	const char *name = mx_json_str(rq, "name");
	struct mx_todevice_target t = { to, 0 };
	uint8_t *s = mx_secure_alloc(32);
	char *b = mx_secure_alloc(48);
	json_t *c;
	int h = held(g, secret_index(name), s, e), rc = h < 0 ? -1 : 0;

	if (h == 0)
		mx_notice(&g->c->notice, 1,
		    "device %s asks for %s, which this profile does not hold",
		    to->device_id, name);
	if (h == 1) {
		mx_b64_enc(b, s, 32);
		c = json_pack("{s:s,s:s}", "request_id",
		    mx_json_str(rq, "request_id"), "secret", b);
		rc = mx_todevice_send_olm(g->x, &t, 1, "m.secret.send", c, e);
		mx_inbox_wipe_secret(c);
		json_decref(c);
	}
	/* Never in the clear: a device Olm cannot reach gets nothing. */
	if (rc == 0 && h == 1 && !t.sent)
		mx_notice(&g->c->notice, 0,
		    "no Olm session with device %s: %s not sent",
		    to->device_id, name);
	else if (rc == 0 && h == 1) {
		g->given++;
		g->last = mx_time_ms();
		mx_notice(&g->c->notice, 1, "gave %s to device %s", name,
		    to->device_id);
	}
	mx_secure_free(s);
	mx_secure_free(b);
	return rc;
}

/* An m.secret.request item: answered, refused, or (from wait) left.
 * 1 when it leaves the inbox, -1 with e. */
static int
on_request(struct mx_gossip *g, const json_t *it, const char *wait,
    struct mx_err *e)
{
	const json_t *c = json_object_get(it, "content");
	const char *me = g->c->sess.user_id, *why,
		   *sender = mx_json_str(it, "sender"),
		   *dev = mx_json_str(c, "requesting_device_id");
	const struct mx_device *to;
	struct mx_devlist own = { 0 };
	enum mx_gossip_verdict v;
	int rc;

	if (wait != NULL && sender != NULL && dev != NULL &&
	    strcmp(sender, me) == 0 && strcmp(dev, wait) == 0)
		return 0;
	if (mx_devices_get(&g->c->api, g->c->store, &me, 1, &own, e) != 0)
		return -1;
	v = mx_gossip_judge_request(it, me, g->c->sess.device_id, &own, &to,
	    &why);
	rc = 1;
	if (v == MX_GOSSIP_REFUSE)
		mx_notice(&g->c->notice, 0,
		    "refusing %s (%s from %s's device %s): nothing sent", why,
		    mx_json_str(c, "name") ? mx_json_str(c, "name") : "?",
		    sender ? sender : "?", dev ? dev : "?");
	else if (v == MX_GOSSIP_TAKE && give(g, it, to, e) != 0)
		rc = -1;
	mx_devlist_release(&own);
	return rc;
}

int
mx_gossip_poll(struct mx_gossip *g, const char *wait, struct mx_err *e)
{
	json_t *items = NULL, *it;
	const char *type;
	size_t i;
	int rc = 0, out;

	if (mx_inbox_list(g->c->store, mx_time_ms(), &items, e) < 0)
		return -1;
	json_array_foreach(items, i, it) {
		type = mx_json_str(it, "type");
		if (rc != 0 || type == NULL)
			continue;
		if (strcmp(type, "m.secret.send") == 0)
			out = on_send(g, it);
		else if (strcmp(type, "m.secret.request") == 0)
			out = on_request(g, it, wait, e);
		else
			continue;
		if (out < 0)
			rc = -1;
		else if (out == 1)
			rc = mx_inbox_del(g->c->store, mx_json_str(it, "id"),
			    e);
	}
	mx_inbox_release(items);
	return rc;
}

int
mx_gossip_pending(const struct mx_gossip *g)
{
	return (int)json_object_size(g->pending);
}

int
mx_gossip_pending_needed(const struct mx_gossip *g)
{
	const char *rid;
	json_t *v;
	int n = 0;

	json_object_foreach(g->pending, rid, v) {
		int i = secret_index(json_string_value(v));

		n += i == 1 || i == 2;
	}
	return n;
}

long long
mx_gossip_last(const struct mx_gossip *g)
{
	return g->last;
}

int
mx_gossip_given(const struct mx_gossip *g)
{
	return g->given;
}

/* Keep the backup key taken, when it is the current backup's. */
static int
keep_backup(struct mx_gossip *g, json_t *names, struct mx_err *e)
{
	const uint8_t *k = g->got + 32 * BACKUP;

	if (!mx_keybackup_key_matches(g->backup, k))
		return mx_err_set(e, MX_NO,
		    "the backup key from device %s is not the key of backup "
		    "%s",
		    g->asked->device_id,
		    mx_json_str(g->backup, "version") ?
			mx_json_str(g->backup, "version") :
			"?");
	if (mx_keybackup_key_put(g->c->store, k, e) != 0)
		return -1;
	json_array_append_new(names, json_string(SECRET[BACKUP]));
	return 0;
}

int
mx_gossip_finish(struct mx_gossip *g, json_t **names, struct mx_err *e)
{
	const uint8_t *seeds[3] = { NULL, NULL, NULL };
	const char *rid;
	json_t *v;
	char *from;
	int i, n = 0, rc = 0;

	*names = json_array();
	json_object_foreach(g->pending, rid, v)
		if (rc == 0)
			rc = send_request(g, "request_cancellation", NULL, rid,
			    e);
	json_object_clear(g->pending);
	for (i = 0; i < 3; i++)
		if (g->have[i]) {
			seeds[i] = g->got + 32 * i;
			n++;
		}
	from = mx_xasprintf("from device %s",
	    g->asked ? g->asked->device_id : "?");
	if (rc == 0 && n > 0 &&
	    (rc = mx_xsign_keep(g->x, g->c, seeds, from, e)) == 0)
		for (i = 0; i < 3; i++)
			if (g->have[i])
				json_array_append_new(*names,
				    json_string(SECRET[i]));
	free(from);
	if (rc == 0 && g->have[BACKUP])
		rc = keep_backup(g, *names, e);
	mx_wipe(g->got, NSECRETS * 32);
	memset(g->have, 0, sizeof(g->have));
	return rc;
}
