/*
 * devices: device lists, checked and pinned (see devices.h).
 *
 * The stored record of a user (namespace "devices", key the user ID):
 *   {"outdated": bool, "master": b64|null, "master_verified": bool,
 *    "ssk": b64|null, "identity_changed": bool, "master_seen": b64|null,
 *    "ssk_seen": b64|null, "untracked": bool,
 *    "devices": {ID: {"curve", "ed", "name", "verified", "xsigned",
 *                     "mismatch", "gone", "first_seen"}}}
 * "first_seen" (ms) is when the device was first pinned; records older
 * than it lack it.
 * "gone" devices stay so that a device ID that comes back with other keys
 * is caught as a mismatch.  "master" and "ssk" are pinned as first seen, as
 * device keys are: other keys the server gives later are kept as
 * "master_seen" and "ssk_seen" with "identity_changed" until accepted
 * (mx_devices_accept); devices are judged against the pinned keys.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "devices.h"
#include "json.h"
#include "signjson.h"
#include "util.h"
#include "banned.h"

#define NS "devices"

static const char *const trust_names[] = {
	"unknown-device",
	"mismatch",
	"unverified",
	"tofu",
	"cross-signed",
	"verified",
};

const char *
mx_trust_name(enum mx_trust t)
{
	return trust_names[t];
}

void
mx_device_release(struct mx_device *d)
{
	free(d->user_id);
	free(d->device_id);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void
mx_devlist_release(struct mx_devlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		mx_device_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* 0 when obj carries signer's valid signature by the base64 key pub. */
static int
signed_by(const json_t *obj, const char *user, const char *key_id,
    const char *pub)
{
	uint8_t raw[32];

	if (pub == NULL || mx_b64_dec_exact(raw, sizeof(raw), pub) != 0)
		return -1;
	return mx_signjson_verify(obj, user, key_id, raw, NULL);
}

/* The single key of a cross-signing key object of user with usage, or
 * NULL (spec: "CrossSigningKey": exactly one key, its ID its value). */
static const char *
xs_key(const json_t *k, const char *user, const char *usage)
{
	const json_t *u, *keys = json_object_get(k, "keys"), *v;
	const char *id, *pub;
	size_t i;
	int found = 0;

	if (!json_is_object(k) || json_object_size(keys) != 1)
		return NULL;
	if (strcmp(json_string_value(json_object_get(k, "user_id")) ?
		    json_string_value(json_object_get(k, "user_id")) :
		    "",
		user) != 0)
		return NULL;
	u = json_object_get(k, "usage");
	json_array_foreach(u, i, v)
		found |= json_is_string(v) &&
		    strcmp(json_string_value(v), usage) == 0;
	json_object_foreach((json_t *)keys, id, v) {
		pub = json_string_value(v);
		if (!found || pub == NULL || !mx_startswith(id, "ed25519:") ||
		    strcmp(id + 8, pub) != 0)
			return NULL;
		return pub;
	}
	return NULL;
}

/* The self-signed keys of device dev of user in obj: 0 and curve, ed. */
static int
device_keys(const json_t *obj, const char *user, const char *dev,
    const char **curve, const char **ed)
{
	const json_t *keys = json_object_get(obj, "keys");
	const char *u = mx_json_str(obj, "user_id");
	const char *d = mx_json_str(obj, "device_id");
	char *id;

	if (u == NULL || d == NULL || strcmp(u, user) != 0 ||
	    strcmp(d, dev) != 0)
		return -1;
	id = mx_xasprintf("curve25519:%s", dev);
	*curve = json_string_value(json_object_get(keys, id));
	free(id);
	id = mx_xasprintf("ed25519:%s", dev);
	*ed = json_string_value(json_object_get(keys, id));
	free(id);
	if (*curve == NULL || *ed == NULL || strlen(*curve) != 43)
		return -1;
	return signed_by(obj, user, dev, *ed);
}

/* The master and the self-signing key of user in the query answer q,
 * each checked (the self-signing key signed by the master key), or NULL. */
static void
xs_keys(const json_t *q, const char *user, const char **mk, const char **ssk)
{
	const json_t *sk =
	    json_object_get(json_object_get(q, "self_signing_keys"), user);

	*mk = xs_key(json_object_get(json_object_get(q, "master_keys"), user),
	    user, "master");
	*ssk = NULL;
	if (*mk != NULL && (*ssk = xs_key(sk, user, "self_signing")) != NULL &&
	    signed_by(sk, user, *mk, *mk) != 0)
		*ssk = NULL;
}

static int
differs(const json_t *rec, const char *k, const char *v)
{
	const char *old = mx_json_str(rec, k);

	return old != NULL && (v == NULL || strcmp(old, v) != 0);
}

/*
 * Cross-signing part of a query answer.  The first master and self-signing
 * keys seen are pinned (DESIGN.md, threat model: a server that injects a
 * device must not also be able to swap the identity that vouches for
 * devices); others, or none where there were some, mark the identity
 * changed until accepted.  A self-signing key where there was none yet is
 * taken when the pinned master key signed it.
 */
static void
merge_xs(json_t *rec, const char *user, const json_t *q)
{
	const char *mk, *ssk;

	xs_keys(q, user, &mk, &ssk);
	if (differs(rec, "master", mk) || differs(rec, "ssk", ssk)) {
		json_object_set_new(rec, "identity_changed", json_true());
		json_object_set_new(rec, "master_seen",
		    mk ? json_string(mk) : json_null());
		json_object_set_new(rec, "ssk_seen",
		    ssk ? json_string(ssk) : json_null());
		return;
	}
	if (mx_json_str(rec, "master") == NULL) {
		json_object_set_new(rec, "master_verified", json_false());
		json_object_set_new(rec, "master",
		    mk ? json_string(mk) : json_null());
	}
	if (mx_json_str(rec, "ssk") == NULL)
		json_object_set_new(rec, "ssk",
		    ssk ? json_string(ssk) : json_null());
}

json_t *
mx_devices_merge(json_t *rec, const char *user, const json_t *q)
{
	const json_t *dk = json_object_get(json_object_get(q, "device_keys"),
			 user),
		     *obj;
	const char *dev, *curve, *ed, *ssk, *name;
	json_t *devs, *d;

	if (rec == NULL)
		rec = json_pack("{s:o}", "devices", json_object());
	devs = json_object_get(rec, "devices");
	merge_xs(rec, user, q);
	ssk = json_string_value(json_object_get(rec, "ssk"));
	json_object_foreach(devs, dev, d)
		json_object_set_new(d, "gone", json_true());
	json_object_foreach((json_t *)dk, dev, obj) {
		if (device_keys(obj, user, dev, &curve, &ed) != 0)
			continue; /* a forged or broken entry: unusable */
		name = json_string_value(
		    json_object_get(json_object_get(obj, "unsigned"),
			"device_display_name"));
		if ((d = json_object_get(devs, dev)) == NULL) {
			d = json_pack("{s:s,s:s,s:b,s:b,s:I}", "curve", curve,
			    "ed", ed, "verified", 0, "mismatch", 0,
			    "first_seen", (json_int_t)mx_time_ms());
			json_object_set_new(devs, dev, d);
		} else if (strcmp(mx_json_str(d, "curve"), curve) != 0 ||
		    strcmp(mx_json_str(d, "ed"), ed) != 0) {
			/* Pinned keys never change: a device ID that comes
			 * back with new keys is an attack or a reset. */
			json_object_set_new(d, "mismatch", json_true());
		}
		json_object_set_new(d, "gone", json_false());
		json_object_set_new(d, "name",
		    name ? json_string(name) : json_null());
		json_object_set_new(d, "xsigned",
		    json_boolean(
			ssk != NULL && signed_by(obj, user, ssk, ssk) == 0));
	}
	json_object_set_new(rec, "outdated", json_false());
	return rec;
}

static enum mx_trust
trust(const json_t *rec, const json_t *d)
{
	if (json_is_true(json_object_get(d, "mismatch")))
		return MX_TRUST_MISMATCH;
	if (json_is_true(json_object_get(d, "verified")))
		return MX_TRUST_VERIFIED;
	if (json_is_true(json_object_get(d, "xsigned")))
		return json_is_true(json_object_get(rec, "master_verified")) ?
		    MX_TRUST_CROSS_SIGNED :
		    MX_TRUST_TOFU;
	if (json_is_string(json_object_get(rec, "master")) &&
	    json_is_string(json_object_get(rec, "ssk")))
		return MX_TRUST_UNVERIFIED;
	return MX_TRUST_TOFU;
}

/* What o's owner's record rec says of their cross-signing identity. */
static void
fill_user(struct mx_device *o, const json_t *rec)
{
	const char *mk = mx_json_str(rec, "master");
	const char *seen = mx_json_str(rec, "master_seen");

	o->identity_changed =
	    json_is_true(json_object_get(rec, "identity_changed"));
	o->master_verified =
	    json_is_true(json_object_get(rec, "master_verified"));
	snprintf(o->master, sizeof(o->master), "%s", mk ? mk : "");
	snprintf(o->master_seen, sizeof(o->master_seen), "%s",
	    o->identity_changed && seen ? seen : "");
}

static void
fill(struct mx_device *o, const char *user, const char *dev, const json_t *rec,
    const json_t *d)
{
	const char *name = json_string_value(json_object_get(d, "name"));

	memset(o, 0, sizeof(*o));
	o->user_id = mx_xstrdup(user);
	o->device_id = mx_xstrdup(dev);
	o->name = name ? mx_xstrdup(name) : NULL;
	snprintf(o->curve, sizeof(o->curve), "%s",
	    json_string_value(json_object_get(d, "curve")));
	snprintf(o->ed, sizeof(o->ed), "%s",
	    json_string_value(json_object_get(d, "ed")));
	o->trust = trust(rec, d);
	o->xsigned = json_is_true(json_object_get(d, "xsigned"));
	o->first_seen = json_integer_value(json_object_get(d, "first_seen"));
	fill_user(o, rec);
}

/* The stored record of user, or NULL (absent or unreadable). */
static json_t *
load(struct mx_store *s, const char *user, struct mx_err *e)
{
	char *v = NULL;
	size_t n;
	json_t *j;
	int rc = mx_store_get(s, NS, user, &v, &n, e);

	if (rc <= 0)
		return NULL;
	j = mx_json_parse(v, n, NULL);
	free(v);
	if (!json_is_object(j) ||
	    !json_is_object(json_object_get(j, "devices"))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
save(struct mx_store *s, const char *user, const json_t *rec, struct mx_err *e)
{
	char *v = mx_json_compact(rec);
	int rc = mx_store_put(s, NS, user, v, strlen(v), e);

	free(v);
	return rc;
}

/*
 * 1 when the stored record rec must be asked for again before keys are
 * shared: none, outdated by a sync's device_lists, or learnt outside the
 * syncs that track changes ("untracked": mx-keys devices before any sync
 * position; spec: "Tracking the device list for a user" wants the list
 * read once tracking has begun, or its changes are never told).
 */
static int
stale(const json_t *rec)
{
	return rec == NULL || json_is_true(json_object_get(rec, "outdated")) ||
	    json_is_true(json_object_get(rec, "untracked"));
}

/* One /keys/query for the users of recs that need it (all of them when
 * fresh: an answer from outside the syncs); recs updated. */
static int
query(struct mx_api *a, struct mx_store *s, const char *const *users,
    json_t **recs, size_t n, int fresh, json_t **raw, struct mx_err *e)
{
	json_t *body = json_object(), *dk = json_object(), *q = NULL;
	size_t i, nq = 0;
	char *want = mx_xcalloc(n ? n : 1, 1);
	int rc = 0, untracked;

	for (i = 0; i < n; i++)
		if ((want[i] = fresh || stale(recs[i])))
			nq += json_object_set_new(dk, users[i],
				  json_array()) == 0;
	json_object_set_new(body, "device_keys", dk);
	json_object_set_new(body, "timeout", json_integer(10000));
	if (nq > 0)
		rc = mx_api_keys_query(a, body, &q, e);
	json_decref(body);
	if (nq == 0 || rc != 0) {
		free(want);
		return rc;
	}
	if ((rc = mx_store_begin(s, e)) == 0) {
		for (i = 0; i < n && rc == 0; i++) {
			if (!want[i])
				continue;
			/* A fresh answer keeps a tracked user tracked (the
			 * next sync tells what changed since); it does not
			 * make an untracked one tracked. */
			untracked = fresh &&
			    (recs[i] == NULL ||
				json_is_true(
				    json_object_get(recs[i], "untracked")));
			/* Re-read: another process may have verified a
			 * device meanwhile. */
			json_decref(recs[i]);
			recs[i] = mx_devices_merge(load(s, users[i], NULL),
			    users[i], q);
			json_object_set_new(recs[i], "untracked",
			    json_boolean(untracked));
			rc = save(s, users[i], recs[i], e);
		}
		rc = rc == 0 ? mx_store_commit(s, e) :
			       (mx_store_rollback(s), -1);
	}
	free(want);
	if (raw != NULL && rc == 0)
		*raw = json_incref(q);
	json_decref(q);
	return rc;
}

static int
get(struct mx_api *a, struct mx_store *s, const char *const *users, size_t n,
    int fresh, struct mx_devlist *out, json_t **raw, struct mx_err *e)
{
	json_t **recs = mx_xcalloc(n ? n : 1, sizeof(*recs)), *d;
	const char *dev;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		recs[i] = load(s, users[i], e);
	rc = query(a, s, users, recs, n, fresh, raw, e);
	for (i = 0; i < n && rc == 0; i++)
		json_object_foreach(json_object_get(recs[i], "devices"), dev,
		    d) {
			if (json_is_true(json_object_get(d, "gone")))
				continue;
			out->v = mx_xrealloc(out->v,
			    (out->n + 1) * sizeof(*out->v));
			fill(&out->v[out->n++], users[i], dev, recs[i], d);
		}
	for (i = 0; i < n; i++)
		json_decref(recs[i]);
	free(recs);
	return rc;
}

int
mx_devices_get(struct mx_api *a, struct mx_store *s, const char *const *users,
    size_t n, struct mx_devlist *out, struct mx_err *e)
{
	return get(a, s, users, n, 0, out, NULL, e);
}

int
mx_devices_query(struct mx_api *a, struct mx_store *s,
    const char *const *users, size_t n, struct mx_devlist *out,
    struct mx_err *e)
{
	return get(a, s, users, n, 1, out, NULL, e);
}

/* A device of user in the answer whose self-signature fails, as forged:
 * its keys as the answer claims them (or ""), its owner's record rec. */
static void
fill_forged(struct mx_device *o, const char *user, const char *dev,
    const json_t *obj, const json_t *rec)
{
	const json_t *keys = json_object_get(obj, "keys");
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "unsigned"),
		"device_display_name"));
	char *id;

	memset(o, 0, sizeof(*o));
	o->user_id = mx_xstrdup(user);
	o->device_id = mx_xstrdup(dev);
	o->name = name ? mx_xstrdup(name) : NULL;
	id = mx_xasprintf("curve25519:%s", dev);
	snprintf(o->curve, sizeof(o->curve), "%s",
	    json_string_value(json_object_get(keys, id)) ?
		json_string_value(json_object_get(keys, id)) :
		"");
	free(id);
	id = mx_xasprintf("ed25519:%s", dev);
	snprintf(o->ed, sizeof(o->ed), "%s",
	    json_string_value(json_object_get(keys, id)) ?
		json_string_value(json_object_get(keys, id)) :
		"");
	free(id);
	o->trust = MX_TRUST_UNKNOWN;
	o->forged = 1;
	fill_user(o, rec);
}

int
mx_devices_audit(struct mx_api *a, struct mx_store *s,
    const char *const *users, size_t n, struct mx_devlist *out, json_t **raw,
    struct mx_err *e)
{
	const json_t *dk, *obj;
	const char *dev, *curve, *ed;
	json_t *q = NULL, *rec;
	size_t i;

	if (get(a, s, users, n, 1, out, &q, e) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		dk = json_object_get(json_object_get(q, "device_keys"),
		    users[i]);
		rec = NULL;
		json_object_foreach((json_t *)dk, dev, obj) {
			if (device_keys(obj, users[i], dev, &curve, &ed) == 0)
				continue;
			if (rec == NULL)
				rec = load(s, users[i], NULL);
			out->v = mx_xrealloc(out->v,
			    (out->n + 1) * sizeof(*out->v));
			fill_forged(&out->v[out->n++], users[i], dev, obj,
			    rec);
		}
		json_decref(rec);
	}
	if (raw != NULL)
		*raw = q;
	else
		json_decref(q);
	return 0;
}

/* Mark the users of the array list outdated (or forget them). */
static int
mark(struct mx_store *s, const json_t *list, int forget, struct mx_err *e)
{
	const json_t *u;
	json_t *rec;
	size_t i;
	int rc = 0;

	json_array_foreach(list, i, u) {
		if (!json_is_string(u) || rc != 0)
			continue;
		if ((rec = load(s, json_string_value(u), NULL)) == NULL)
			continue;
		/* A user we share no room with any more keeps the pinned
		 * keys (a later return is checked against them) but must be
		 * queried afresh. */
		(void)forget;
		json_object_set_new(rec, "outdated", json_true());
		rc = save(s, json_string_value(u), rec, e);
		json_decref(rec);
	}
	return rc;
}

int
mx_devices_changed(struct mx_store *s, const json_t *dl, struct mx_err *e)
{
	if (mark(s, json_object_get(dl, "changed"), 0, e) != 0)
		return -1;
	return mark(s, json_object_get(dl, "left"), 1, e);
}

int
mx_devices_by_curve(struct mx_api *a, struct mx_store *s, const char *user,
    const char *curve, struct mx_device *out, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	size_t i;
	int rc = 0;

	if (mx_devices_get(a, s, &user, 1, &l, e) != 0)
		return -1;
	for (i = 0; i < l.n && rc == 0; i++)
		if (strcmp(l.v[i].curve, curve) == 0) {
			*out = l.v[i];
			memset(&l.v[i], 0, sizeof(l.v[i]));
			rc = 1;
		}
	mx_devlist_release(&l);
	return rc;
}

int
mx_devices_verify(struct mx_api *a, struct mx_store *s, const char *user,
    const char *device_id, const char *ed, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	json_t *rec, *d;
	int rc;

	/* Fetch the list first, so the device is known: a verification
	 * outside the syncs, like an audit. */
	if (get(a, s, &user, 1, 1, &l, NULL, e) != 0)
		return -1;
	mx_devlist_release(&l);
	if (mx_store_begin(s, e) != 0)
		return -1;
	rec = load(s, user, NULL);
	d = json_object_get(json_object_get(rec, "devices"), device_id);
	if (d == NULL || json_is_true(json_object_get(d, "gone")))
		rc = mx_err_set(e, MX_PERM, "%s has no device '%s'", user,
		    device_id);
	else if (json_is_true(json_object_get(d, "mismatch")))
		rc = mx_err_set(e, MX_NO,
		    "device '%s' of %s changed its keys: refusing to verify "
		    "it",
		    device_id, user);
	else if (strcmp(json_string_value(json_object_get(d, "ed")), ed) != 0)
		/* The right key is not shown: that would invite copying it
		 * from here instead of comparing it with the device's. */
		rc = mx_err_set(e, MX_NO,
		    "the Ed25519 key of '%s' is not %s: compare the key that "
		    "device shows, and do not trust it until they match",
		    device_id, ed);
	else {
		json_object_set_new(d, "verified", json_true());
		rc = save(s, user, rec, e);
	}
	json_decref(rec);
	if (rc != 0) {
		mx_store_rollback(s);
		return -1;
	}
	return mx_store_commit(s, e);
}

int
mx_devices_verify_master(struct mx_store *s, const char *user,
    const char *master, struct mx_err *e)
{
	json_t *rec;
	const char *mk;
	int rc;

	if (mx_store_begin(s, e) != 0)
		return -1;
	rec = load(s, user, NULL);
	mk = mx_json_str(rec, "master");
	if (mk == NULL || strcmp(mk, master) != 0 ||
	    json_is_true(json_object_get(rec, "identity_changed")))
		rc = mx_err_set(e, MX_NO,
		    "%s's pinned master key is not %s: not marking it", user,
		    master);
	else {
		json_object_set_new(rec, "master_verified", json_true());
		rc = save(s, user, rec, e);
	}
	json_decref(rec);
	if (rc != 0) {
		mx_store_rollback(s);
		return -1;
	}
	return mx_store_commit(s, e);
}

int
mx_devices_accept(struct mx_store *s, const char *user, struct mx_err *e)
{
	json_t *rec;
	int rc;

	if (mx_store_begin(s, e) != 0)
		return -1;
	rec = load(s, user, NULL);
	if (rec == NULL ||
	    !json_is_true(json_object_get(rec, "identity_changed"))) {
		json_decref(rec);
		mx_store_rollback(s);
		return 0;
	}
	json_object_set(rec, "master", json_object_get(rec, "master_seen"));
	json_object_set(rec, "ssk", json_object_get(rec, "ssk_seen"));
	json_object_del(rec, "master_seen");
	json_object_del(rec, "ssk_seen");
	json_object_set_new(rec, "identity_changed", json_false());
	json_object_set_new(rec, "master_verified", json_false());
	/* The devices are judged again against the accepted keys. */
	json_object_set_new(rec, "outdated", json_true());
	rc = save(s, user, rec, e);
	json_decref(rec);
	if (rc != 0) {
		mx_store_rollback(s);
		return -1;
	}
	return mx_store_commit(s, e) == 0 ? 1 : -1;
}
