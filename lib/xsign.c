/*
 * xsign: this account's cross-signing keys (see xsign.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "json.h"
#include "secrets.h"
#include "signjson.h"
#include "store.h"
#include "util.h"
#include "xsign.h"
#include "banned.h"

#define NS "xsign"

static const char *const NAMES[3] = { "master", "self_signing",
	"user_signing" };

/* One key pair from a seed. */
struct kp {
	uint8_t seed[MX_ED25519_SEED_LEN], sk[MX_ED25519_SK_LEN];
	uint8_t pub[MX_ED25519_PUB_LEN];
	char b64[44];
};

static void
kp_from_seed(struct kp *k)
{
	mx_ed25519_from_seed(k->pub, k->sk, k->seed);
	mx_b64_enc(k->b64, k->pub, sizeof(k->pub));
}

/* The CrossSigningKey object of k (spec: "POST
 * /_matrix/client/v3/keys/device_signing/upload"). */
static json_t *
key_object(const char *user, const char *usage, const struct kp *k)
{
	char kid[64];

	snprintf(kid, sizeof(kid), "ed25519:%s", k->b64);
	return json_pack("{s:s,s:[s],s:{s:s}}", "user_id", user, "usage",
	    usage, "keys", kid, k->b64);
}

/* Load the seed of name into k: 1, 0 when absent, -1. */
static int
load(struct mx_store *st, const char *name, struct kp *k, struct mx_err *e)
{
	char *v = NULL;
	size_t n = 0;
	int rc = mx_store_get_secret(st, NS, name, &v, &n, e);

	if (rc == 1 && n != sizeof(k->seed))
		rc = mx_err_set(e, MX_LOCAL, "corrupt %s key in the store",
		    name);
	if (rc == 1) {
		memcpy(k->seed, v, n);
		kp_from_seed(k);
	}
	if (v != NULL)
		mx_secure_free(v);
	return rc;
}

int
mx_xsign_master(struct mx_ctx *c, char out[44], struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	int rc = load(c->store, "master", k, e);

	if (rc == 1)
		memcpy(out, k->b64, 44);
	mx_secure_free(k);
	return rc;
}

/* Our own /keys/query answer. */
static int
query_self(struct mx_ctx *c, json_t **q, struct mx_err *e)
{
	json_t *body = json_pack("{s:{s:[]}}", "device_keys", c->sess.user_id);
	int rc = mx_api_keys_query(&c->api, body, q, e);

	json_decref(body);
	return rc;
}

/* The published key of usage ("master", "self_signing", "user_signing")
 * of user (borrowed from q, a /keys/query answer), or NULL. */
static const char *
published_key(const json_t *q, const char *usage, const char *user)
{
	char field[32];
	const json_t *ck, *x;
	const char *kid, *v;

	snprintf(field, sizeof(field), "%s_keys", usage);
	ck = json_object_get(json_object_get(q, field), user);
	json_object_foreach((json_t *)json_object_get(ck, "keys"), kid, x)
		if ((v = json_string_value(x)) != NULL)
			return v;
	return NULL;
}

/* The published master key (borrowed from q), or NULL. */
static const char *
published_master(const json_t *q, const char *user)
{
	return published_key(q, "master", user);
}

/* Sign the keys of our device dev (as the server has them, checked to
 * carry the Ed25519 key ed) with the self-signing key and upload the
 * signature (spec: "POST /_matrix/client/v3/keys/signatures/upload"). */
static int
sign_device_id(struct mx_ctx *c, const struct kp *ssk, const char *dev_id,
    const char *ed, struct mx_err *e)
{
	json_t *q = NULL, *dev, *body = NULL, *r = NULL;
	const char *have;
	char *kid;
	int rc;

	if (query_self(c, &q, e) != 0)
		return -1;
	dev = json_deep_copy(
	    json_object_get(json_object_get(json_object_get(q, "device_keys"),
				c->sess.user_id),
		dev_id));
	json_decref(q);
	kid = mx_xasprintf("ed25519:%s", dev_id);
	have = mx_json_str(json_object_get(dev, "keys"), kid);
	rc = have == NULL || strcmp(have, ed) != 0 ?
	    mx_err_set(e, MX_PERM,
		"the server's copy of device '%s' is not its keys", dev_id) :
	    0;
	free(kid);
	if (rc == 0) {
		json_object_del(dev, "unsigned");
		rc = mx_signjson_sign(dev, c->sess.user_id, ssk->b64, ssk->sk,
		    e);
	}
	if (rc == 0) {
		body = json_pack("{s:{s:O}}", c->sess.user_id, dev_id, dev);
		rc = mx_api_call(&c->api, "POST",
		    "/_matrix/client/v3/keys/signatures/upload", body, 1, &r,
		    e);
	}
	if (rc == 0 && json_object_size(json_object_get(r, "failures")) > 0)
		rc = mx_err_set(e, MX_PERM,
		    "the server refused the signature of device '%s'", dev_id);
	json_decref(r);
	json_decref(body);
	json_decref(dev);
	return rc;
}

static int
sign_device(struct mx_e2ee *x, struct mx_ctx *c, const struct kp *ssk,
    struct mx_err *e)
{
	return sign_device_id(c, ssk, c->sess.device_id, mx_e2ee_ed25519(x),
	    e);
}

int
mx_xsign_sign_own_device(struct mx_ctx *c, const char *device, const char *ed,
    struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	int rc = load(c->store, "self_signing", k, e);

	if (rc == 1 && sign_device_id(c, k, device, ed, e) != 0)
		rc = -1;
	mx_secure_free(k);
	return rc;
}

/* POST keys/device_signing/upload of body, with the password c->ask
 * gives when the server asks for it (spec: "Cross-signing": the upload
 * may need user-interactive authentication). */
static int
upload_keys(struct mx_ctx *c, json_t *body, struct mx_err *e)
{
	return mx_api_call_uia(&c->api, "POST",
	    "/_matrix/client/v3/keys/device_signing/upload", body, 1,
	    c->sess.user_id, c->ask, NULL, e);
}

/* Publish the three keys: the self-signing and user-signing keys signed
 * by the master key. */
static int
publish(struct mx_ctx *c, struct kp k[3], struct mx_err *e)
{
	const char *user = c->sess.user_id;
	json_t *mk = key_object(user, "master", &k[0]),
	       *sk = key_object(user, "self_signing", &k[1]),
	       *uk = key_object(user, "user_signing", &k[2]), *body;
	int rc;

	rc = mx_signjson_sign(sk, user, k[0].b64, k[0].sk, e);
	if (rc == 0)
		rc = mx_signjson_sign(uk, user, k[0].b64, k[0].sk, e);
	body = json_pack("{s:o,s:o,s:o}", "master_key", mk, "self_signing_key",
	    sk, "user_signing_key", uk);
	if (rc == 0)
		rc = upload_keys(c, body, e);
	json_decref(body);
	return rc;
}

/* Store the seeds of k (NULL: delete them), in one transaction. */
static int
store_all(struct mx_store *st, const struct kp *k, struct mx_err *e)
{
	size_t i;
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	for (i = 0, rc = 0; i < 3 && rc == 0; i++)
		rc = k != NULL ? mx_store_put_secret(st, NS, NAMES[i],
				     k[i].seed, sizeof(k[i].seed), e) :
				 mx_store_del(st, NS, NAMES[i], e);
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* New keys, kept, published, and this device signed; when publishing
 * fails, the keys held before (old, or none) are put back. */
static int
make_keys(struct mx_e2ee *x, struct mx_ctx *c, const struct kp *old,
    struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(3 * sizeof(*k));
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		mx_random(k[i].seed, sizeof(k[i].seed));
		kp_from_seed(&k[i]);
	}
	/* Kept before they are published: keys on the server that nobody
	 * holds could never sign anything. */
	rc = store_all(c->store, k, e);
	if (rc == 0 && (rc = publish(c, k, e)) != 0)
		(void)store_all(c->store, old, NULL);
	if (rc == 0)
		rc = sign_device(x, c, &k[1], e);
	mx_secure_free(k);
	return rc;
}

int
mx_xsign_setup_check(struct mx_ctx *c, struct mx_err *e)
{
	json_t *q = NULL;
	char have[44];
	int rc;

	rc = mx_xsign_master(c, have, e);
	if (rc == 1)
		rc = mx_err_set(e, MX_USAGE,
		    "this profile has cross-signing keys already");
	if (rc == 0 && (rc = query_self(c, &q, e)) == 0 &&
	    published_master(q, c->sess.user_id) != NULL)
		rc = mx_err_set(e, MX_PERM,
		    "%s has cross-signing keys made elsewhere",
		    c->sess.user_id);
	json_decref(q);
	return rc == 0 ? 0 : -1;
}

int
mx_xsign_check_published(const json_t *q, const char *user, struct mx_err *e)
{
	static const char *const fields[2] = { "self_signing_keys",
		"user_signing_keys" };
	const char *mk = published_master(q, user), *usage;
	const json_t *o;
	uint8_t mpub[MX_ED25519_PUB_LEN];
	size_t i;

	if (mk == NULL || mx_b64_dec_exact(mpub, sizeof(mpub), mk) != 0)
		return mx_err_set(e, MX_NO,
		    "the server publishes no master key of %s", user);
	/* spec: "Cross-signing": the self-signing and user-signing keys
	 * are signed by the master key; one that is not may be the
	 * server's own, and signs nothing of ours. */
	for (i = 0; i < 2; i++) {
		usage = NAMES[i + 1];
		o = json_object_get(json_object_get(q, fields[i]), user);
		if (o == NULL ||
		    mx_signjson_verify(o, user, mk, mpub, NULL) != 0)
			return mx_err_set(e, MX_NO,
			    "the published %s key of %s is not signed by its "
			    "master key",
			    usage, user);
	}
	return 0;
}

/* Store the seeds of the keys of k that have is set, in one
 * transaction. */
static int
store_some(struct mx_store *st, const struct kp *k, const int has[3],
    struct mx_err *e)
{
	size_t i;
	int rc = 0;

	if (mx_store_begin(st, e) != 0)
		return -1;
	for (i = 0; i < 3 && rc == 0; i++)
		if (has[i])
			rc = mx_store_put_secret(st, NS, NAMES[i], k[i].seed,
			    sizeof(k[i].seed), e);
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* Our published master key mk, proved ours (we hold its private half, or
 * a self-signing key it signs): pinned and marked verified, so that the
 * devices it cross-signs count as such. */
static int
verify_own_master(struct mx_ctx *c, const char *mk, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	const char *me = c->sess.user_id;
	int rc;

	rc = mx_devices_query(&c->api, c->store, &me, 1, &l, e);
	if (rc == 0)
		rc = mx_devices_verify_master(c->store, me, mk, e);
	mx_devlist_release(&l);
	return rc;
}

/* After setup or reset: the master key made here is ours, pinned in place
 * of any other seen before and marked verified. */
static int
own_new_master(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	const char *me = c->sess.user_id;
	char mk[44];
	int rc;

	if ((rc = mx_xsign_master(c, mk, e)) != 1)
		return rc < 0 ? -1 : mx_err_set(e, MX_LOCAL, "no master key");
	rc = mx_devices_query(&c->api, c->store, &me, 1, &l, e);
	if (rc == 0 && mx_devices_accept(c->store, me, e) < 0)
		rc = -1;
	if (rc == 0)
		rc = mx_devices_verify_master(c->store, me, mk, e);
	mx_devlist_release(&l);
	return rc;
}

int
mx_xsign_setup(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e)
{
	if (mx_xsign_setup_check(c, e) != 0 || make_keys(x, c, NULL, e) != 0)
		return -1;
	return own_new_master(c, e);
}

int
mx_xsign_keep(struct mx_e2ee *x, struct mx_ctx *c,
    const uint8_t *const seeds[3], const char *from, struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(3 * sizeof(*k));
	const char *me = c->sess.user_id, *pub;
	json_t *q = NULL;
	int has[3], rc, n = 0;
	size_t i;

	rc = query_self(c, &q, e);
	if (rc == 0)
		rc = mx_xsign_check_published(q, me, e);
	for (i = 0; i < 3 && rc == 0; i++) {
		if (!(has[i] = seeds[i] != NULL))
			continue;
		n++;
		memcpy(k[i].seed, seeds[i], sizeof(k[i].seed));
		kp_from_seed(&k[i]);
		/* spec: "Cross-signing": the account's key of this usage,
		 * as /keys/query publishes it; any other is refused. */
		pub = published_key(q, NAMES[i], me);
		if (pub == NULL || strcmp(pub, k[i].b64) != 0)
			rc = mx_err_set(e, MX_NO,
			    "the %s key %s is not the published one", NAMES[i],
			    from);
	}
	if (rc == 0 && n == 0)
		rc = mx_err_set(e, MX_USAGE, "no cross-signing key to keep");
	if (rc == 0)
		rc = store_some(c->store, k, has, e);
	if (rc == 0 && has[1])
		rc = sign_device(x, c, &k[1], e);
	/* The master key signs the self-signing key (checked above): either
	 * proves it ours. */
	if (rc == 0 && (has[0] || has[1]))
		rc = verify_own_master(c, published_master(q, me), e);
	json_decref(q);
	mx_secure_free(k);
	return rc;
}

int
mx_xsign_seed(struct mx_ctx *c, const char *usage, uint8_t seed[32],
    struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	int rc = load(c->store, usage, k, e);

	if (rc == 1)
		memcpy(seed, k->seed, sizeof(k->seed));
	mx_secure_free(k);
	return rc;
}

int
mx_xsign_import(struct mx_e2ee *x, struct mx_ctx *c, const char *key_id,
    const uint8_t key[32], struct mx_err *e)
{
	uint8_t *s = mx_secure_alloc(3 * 32);
	const uint8_t *seeds[3] = { s, s + 32, s + 64 };
	char name[64], what[64];
	size_t i;
	int rc = 0;

	for (i = 0; i < 3 && rc == 0; i++) {
		snprintf(name, sizeof(name), "m.cross_signing.%s", NAMES[i]);
		snprintf(what, sizeof(what), "%s key", NAMES[i]);
		rc = mx_secrets_get32(&c->api, c->sess.user_id, name, what,
		    key_id, key, s + 32 * i, e);
	}
	if (rc == 0)
		rc = mx_xsign_keep(x, c, seeds, "in secret storage", e);
	mx_secure_free(s);
	return rc;
}

int
mx_xsign_to_secrets(struct mx_ctx *c, const char *key_id,
    const uint8_t key[32], struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	char name[64], what[64];
	size_t i;
	int rc = 1;

	for (i = 0; i < 3 && rc == 1; i++) {
		snprintf(name, sizeof(name), "m.cross_signing.%s", NAMES[i]);
		snprintf(what, sizeof(what), "%s key", NAMES[i]);
		rc = load(c->store, NAMES[i], k, e);
		if (rc == 0)
			rc = mx_err_set(e, MX_USAGE,
			    "this profile holds no %s", what);
		else if (rc == 1 &&
		    mx_secrets_put32(&c->api, c->sess.user_id, name, what,
			key_id, key, k->seed, e) != 0)
			rc = -1;
	}
	mx_secure_free(k);
	return rc < 0 ? -1 : 0;
}

int
mx_xsign_reset(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e)
{
	struct kp *old = mx_secure_alloc(3 * sizeof(*old));
	size_t i, held = 0;
	int rc = 0;

	for (i = 0; i < 3 && rc >= 0; i++)
		if ((rc = load(c->store, NAMES[i], &old[i], e)) == 1)
			held++;
	if (rc >= 0)
		rc = make_keys(x, c, held == 3 ? old : NULL, e);
	mx_secure_free(old);
	return rc < 0 ? -1 : own_new_master(c, e);
}

/* 1 when the server's copy of our device carries a valid signature of
 * the published self-signing key (itself signed by the master key). */
static int
device_signed(struct mx_ctx *c, const json_t *q, const char *mk)
{
	const char *user = c->sess.user_id, *kid, *ssk = NULL;
	const json_t *sk = json_object_get(json_object_get(q,
					       "self_signing_keys"),
			 user),
		     *x,
		     *dev = json_object_get(json_object_get(json_object_get(q,
								"device_keys"),
						user),
			 c->sess.device_id);
	uint8_t mpub[32], spub[32];

	json_object_foreach((json_t *)json_object_get(sk, "keys"), kid, x)
		ssk = json_string_value(x);
	if (mk == NULL || ssk == NULL || dev == NULL ||
	    mx_b64_dec_exact(mpub, 32, mk) != 0 ||
	    mx_b64_dec_exact(spub, 32, ssk) != 0)
		return 0;
	return mx_signjson_verify(sk, user, mk, mpub, NULL) == 0 &&
	    mx_signjson_verify(dev, user, ssk, spub, NULL) == 0;
}

int
mx_xsign_status(struct mx_e2ee *x, struct mx_ctx *c, json_t **out,
    struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	json_t *q = NULL, *priv = json_array();
	const char *pub;
	char mine[44] = "";
	size_t i;
	int rc = 0;

	(void)x;
	*out = NULL;
	for (i = 0; i < 3 && rc >= 0; i++)
		if ((rc = load(c->store, NAMES[i], k, e)) == 1) {
			json_array_append_new(priv, json_string(NAMES[i]));
			if (i == 0)
				memcpy(mine, k->b64, sizeof(mine));
		}
	mx_secure_free(k);
	if (rc < 0 || query_self(c, &q, e) != 0) {
		json_decref(priv);
		return -1;
	}
	pub = published_master(q, c->sess.user_id);
	*out = json_pack("{s:s,s:s?,s:b,s:o,s:b}", "user_id", c->sess.user_id,
	    "master_key", pub, "published",
	    pub != NULL && mine[0] && strcmp(pub, mine) == 0, "private_keys",
	    priv, "device_signed", device_signed(c, q, pub));
	json_decref(q);
	return 0;
}

int
mx_xsign_sign_user(struct mx_ctx *c, const char *user, const char *master,
    struct mx_err *e)
{
	struct kp *k = mx_secure_alloc(sizeof(*k));
	json_t *q = NULL, *body = NULL, *mk = NULL, *r = NULL,
	       *qb = json_pack("{s:{s:[]}}", "device_keys", user);
	const char *pub;
	int rc = load(c->store, "user_signing", k, e);

	if (rc == 1)
		rc = mx_api_keys_query(&c->api, qb, &q, e) == 0 ? 1 : -1;
	if (rc == 1) {
		pub = published_master(q, user);
		mk = json_deep_copy(
		    json_object_get(json_object_get(q, "master_keys"), user));
		if (pub == NULL || strcmp(pub, master) != 0 || mk == NULL)
			rc = mx_err_set(e, MX_NO,
			    "the server's master key of %s is not %s", user,
			    master);
	}
	if (rc == 1) {
		json_object_del(mk, "unsigned");
		if (mx_signjson_sign(mk, c->sess.user_id, k->b64, k->sk, e) !=
		    0)
			rc = -1;
	}
	if (rc == 1) {
		body = json_pack("{s:{s:O}}", user, master, mk);
		if (mx_api_call(&c->api, "POST",
			"/_matrix/client/v3/keys/signatures/upload", body, 1,
			&r, e) != 0)
			rc = -1;
		else if (json_object_size(json_object_get(r, "failures")) > 0)
			rc = mx_err_set(e, MX_PERM,
			    "the server refused our signature of %s's master "
			    "key",
			    user);
	}
	json_decref(r);
	json_decref(body);
	json_decref(mk);
	json_decref(q);
	json_decref(qb);
	mx_secure_free(k);
	return rc;
}
