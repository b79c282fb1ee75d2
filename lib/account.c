/*
 * account: this device's Olm account and its keys on the server (see
 * account.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "api.h"
#include "crypto.h"
#include "signjson.h"
#include "store.h"
#include "util.h"
#include "banned.h"

int
mx_account_save(struct mx_e2ee *x, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;

	mx_olm_account_pickle(x->acct, &b);
	return mx_store_put_secret_buf(x->c->store, "e2ee", "account", &b, e);
}

/* Take the pickle p (n bytes) as x's account. */
static int
unpickle(struct mx_e2ee *x, const char *p, size_t n, struct mx_err *e)
{
	struct mx_olm_account *a = mx_olm_account_unpickle(p, n, e);

	if (a == NULL)
		return mx_err_prefix(e, "the stored Olm account");
	mx_olm_account_free(x->acct);
	x->acct = a;
	return 0;
}

int
mx_account_load(struct mx_e2ee *x, struct mx_err *e)
{
	char *v = NULL;
	size_t n;
	int rc;

	rc = mx_store_get_secret(x->c->store, "e2ee", "account", &v, &n, e);
	if (rc <= 0)
		return rc;
	rc = unpickle(x, v, n, e);
	mx_secure_free(v);
	return rc == 0 ? 1 : -1;
}

int
mx_account_pickle(struct mx_e2ee *x, char **pickle, size_t *n,
    struct mx_err *e)
{
	int rc =
	    mx_store_get_secret(x->c->store, "e2ee", "account", pickle, n, e);

	if (rc == 0)
		return mx_err_set(e, MX_LOCAL,
		    "the store holds no Olm account");
	return rc > 0 ? 0 : -1;
}

/* ---- signing and uploading keys ------------------------------------- */

/* Sign obj in place with the device key (spec: "Signing JSON"). */
static int
sign(struct mx_e2ee *x, json_t *obj, struct mx_err *e)
{
	char *bytes = mx_signjson_signed_bytes(obj, e), sig[MX_OLM_SIG_B64];
	char *kid;
	json_t *sigs;

	if (bytes == NULL)
		return -1;
	mx_olm_account_sign_b64(x->acct, sig, bytes, strlen(bytes));
	free(bytes);
	if ((sigs = json_object_get(obj, "signatures")) == NULL) {
		sigs = json_object();
		json_object_set_new(obj, "signatures", sigs);
	}
	kid = mx_xasprintf("ed25519:%s", x->c->sess.device_id);
	json_object_set_new(sigs, x->c->sess.user_id,
	    json_pack("{s:s}", kid, sig));
	free(kid);
	return 0;
}

int
mx_account_sign(struct mx_e2ee *x, json_t *obj, struct mx_err *e)
{
	return sign(x, obj, e);
}

static json_t *
device_keys(struct mx_e2ee *x, struct mx_err *e)
{
	const char *dev = x->c->sess.device_id;
	char *ck = mx_xasprintf("curve25519:%s", dev);
	char *ek = mx_xasprintf("ed25519:%s", dev);
	json_t *dk = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}", "user_id",
	    x->c->sess.user_id, "device_id", dev, "algorithms", MX_OLM_ALG,
	    MX_MEGOLM_ALG, "keys", ck, x->curve, ek, x->ed);

	free(ck);
	free(ek);
	if (sign(x, dk, e) != 0) {
		json_decref(dk);
		return NULL;
	}
	return dk;
}

/* Add a signed_curve25519 key object for k to dst (spec: "Key
 * algorithms"), under "signed_curve25519:<id>". */
static int
add_key(struct mx_e2ee *x, json_t *dst, const struct mx_olm_otk *k,
    int fallback, struct mx_err *e)
{
	json_t *o = json_pack("{s:s}", "key", k->key);
	char *id;

	if (fallback)
		json_object_set_new(o, "fallback", json_true());
	if (sign(x, o, e) != 0) {
		json_decref(o);
		return -1;
	}
	id = mx_xasprintf("signed_curve25519:%s", k->id);
	json_object_set_new(dst, id, o);
	free(id);
	return 0;
}

/* The /keys/upload body: the unpublished one-time and fallback keys, and
 * the device keys when with_device. */
static json_t *
upload_body(struct mx_e2ee *x, int with_device, struct mx_err *e)
{
	struct mx_olm_otk ks[MX_OLM_MAX_OTKS], fb;
	json_t *body = json_object(), *otks = json_object(), *fbs, *dk;
	size_t i, n = mx_olm_account_otks(x->acct, ks, MX_OLM_MAX_OTKS);
	int rc = 0;

	json_object_set_new(body, "one_time_keys", otks);
	for (i = 0; i < n && i < MX_OLM_MAX_OTKS && rc == 0; i++)
		rc = add_key(x, otks, &ks[i], 0, e);
	if (rc == 0 && mx_olm_account_fallback(x->acct, &fb)) {
		fbs = json_object();
		json_object_set_new(body, "fallback_keys", fbs);
		rc = add_key(x, fbs, &fb, 1, e);
	}
	if (rc == 0 && with_device) {
		if ((dk = device_keys(x, e)) == NULL)
			rc = -1;
		else
			json_object_set_new(body, "device_keys", dk);
	}
	if (rc != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* Record that the device's keys are on the server. */
static int
mark_uploaded(struct mx_e2ee *x, struct mx_err *e)
{
	const char *dev = x->c->sess.device_id;

	return mx_store_put(x->c->store, "e2ee", "uploaded", dev, strlen(dev),
	    e);
}

/*
 * Upload what the server lacks: the device keys (first time), the
 * unpublished one-time keys and the unpublished fallback key.  The account
 * (with its new keys) is saved before the request, and marked published
 * after it: a key the server may hold is never forgotten.
 */
static int
upload(struct mx_e2ee *x, int with_device, struct mx_err *e)
{
	json_t *body = upload_body(x, with_device, e);
	int rc;

	if (body == NULL)
		return -1;
	rc = mx_api_keys_upload(&x->c->api, body, NULL, e);
	json_decref(body);
	if (rc != 0)
		return mx_err_prefix(e, "cannot upload the device's keys");
	if (mx_store_begin(x->c->store, e) != 0)
		return -1;
	rc = mx_account_load(x, e) < 0;
	if (!rc) {
		mx_olm_account_mark_published(x->acct);
		rc = mx_account_save(x, e) != 0 ||
		    (with_device && mark_uploaded(x, e) != 0);
	}
	if (rc) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	return mx_store_commit(x->c->store, e);
}

int
mx_account_top_up(struct mx_e2ee *x, long count, int need_fb, struct mx_err *e)
{
	size_t unpub, want = 0;
	struct mx_olm_otk fb;

	/* A stateless run (MX_IDENTITY) would forget the private halves of
	 * any key it uploaded: it uploads none. */
	if (mx_store_is_memory(x->c->store))
		return 0;
	/* The common case, on every sync: the server has enough and nothing
	 * waits to go up.  No write lock, no account to unseal. */
	if (!need_fb && (count < 0 || count >= MX_ACCOUNT_OTK_TARGET / 2) &&
	    mx_olm_account_otks(x->acct, NULL, 0) == 0)
		return 0;
	if (mx_store_begin(x->c->store, e) != 0)
		return -1;
	if (mx_account_load(x, e) < 0) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	unpub = mx_olm_account_otks(x->acct, NULL, 0);
	if (count >= 0 && (size_t)count + unpub < MX_ACCOUNT_OTK_TARGET / 2)
		want = MX_ACCOUNT_OTK_TARGET - (size_t)count - unpub;
	if (want > 0)
		mx_olm_account_generate_otks(x->acct, want);
	if (need_fb && !mx_olm_account_fallback(x->acct, &fb))
		mx_olm_account_generate_fallback(x->acct);
	if ((want > 0 || need_fb) && mx_account_save(x, e) != 0) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	if (mx_store_commit(x->c->store, e) != 0)
		return -1;
	if (want == 0 && unpub == 0 && !need_fb)
		return 0;
	return upload(x, 0, e);
}

/* ---- opening ---------------------------------------------------------- */

/*
 * A device without a stored account: MX_IDENTITY's, whose keys are on the
 * server already (1), or a new one with its one-time and fallback keys,
 * still to be uploaded (0).  Saved; inside the caller's transaction.
 */
static int
account_new(struct mx_e2ee *x, struct mx_err *e)
{
	struct mx_ctx *c = x->c;

	if (c->identity_account != NULL) {
		if (unpickle(x, c->identity_account, c->identity_account_len,
			e) != 0 ||
		    mx_account_save(x, e) != 0 || mark_uploaded(x, e) != 0)
			return -1;
		return 1;
	}
	x->acct = mx_olm_account_new();
	mx_olm_account_generate_fallback(x->acct);
	mx_olm_account_generate_otks(x->acct, MX_ACCOUNT_OTK_TARGET);
	return mx_account_save(x, e) == 0 ? 0 : -1;
}

/* 1 when the stored account's keys are on the server as this device's,
 * 0 when not yet, -1 (a store of another device). */
static int
uploaded(struct mx_e2ee *x, struct mx_err *e)
{
	char *up = NULL;
	int rc = mx_store_get(x->c->store, "e2ee", "uploaded", &up, NULL, e);

	/* The account is this device's: a store of another device (a new
	 * login kept the old store) must not speak for it. */
	if (rc > 0 && strcmp(up, x->c->sess.device_id) != 0)
		rc = mx_err_set(e, MX_LOCAL,
		    "the store's keys belong to device '%s', not '%s'", up,
		    x->c->sess.device_id);
	free(up);
	return rc;
}

int
mx_account_open(struct mx_e2ee *x, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	rc = mx_account_load(x, e);
	if (rc == 0)
		rc = account_new(x, e);
	else if (rc > 0)
		rc = uploaded(x, e);
	if (rc < 0 || mx_store_commit(st, e) != 0) {
		mx_store_rollback(st);
		return -1;
	}
	mx_olm_account_curve25519_b64(x->acct, x->curve);
	mx_olm_account_ed25519_b64(x->acct, x->ed);
	return rc == 0 ? upload(x, 1, e) : 0;
}
