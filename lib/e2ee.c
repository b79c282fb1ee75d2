/*
 * e2ee: Olm and Megolm put to work on a Matrix session (see e2ee.h).
 *
 * Store rows (all under the profile's store):
 *   e2ee/account            sealed: the Olm account pickle
 *   e2ee/uploaded           the device ID, once its keys are on the server
 *   e2ee/send_pos           the /sync position of mx_e2ee_refresh
 *   olm/<curve25519>        sealed: up to OLM_KEEP sessions with that
 *                           device, the most recently used first
 *   megolm_out/<room>       sealed: the room's outbound session, when it
 *                           was made, and who has it
 *   megolm_in/<room> <id>   sealed: an inbound session and whose it is
 *   megolm_idx/<id> <n>     the event first decrypted at index n (replays)
 *   withheld/<room> <id>    {"code","reason"} of an m.room_key.withheld
 *   rooms/<room>            {"enc","checked","members","hv","stale"}
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "json.h"
#include "megolm.h"
#include "msg.h"
#include "olm.h"
#include "pickle.h"
#include "signjson.h"
#include "store.h"
#include "sync.h"
#include "util.h"

#define OLM_ALG "m.olm.v1.curve25519-aes-sha2"
#define MEGOLM_ALG "m.megolm.v1.aes-sha2"
#define OLM_KEEP 4		/* sessions kept per device (spec: >= 4) */
#define PLAIN_RECHECK_MS 60000	/* "not encrypted" is believed this long */
#define MAX_PLAIN (MX_MSG_PDU_LIMIT)

struct mx_e2ee {
	struct mx_ctx *c;
	struct mx_olm_account *acct;
	char curve[MX_OLM_KEY_B64], ed[MX_OLM_KEY_B64];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
note(struct mx_e2ee *x, const char *fmt, const char *a, const char *b)
{
	if (x->c->verbose > 0 && !x->c->quiet) {
		fprintf(stderr, "%s: ", x->c->prog);
		fprintf(stderr, fmt, a, b ? b : "");
		fputc('\n', stderr);
	}
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- sealed rows ------------------------------------------------------ */

static int
put_buf(struct mx_store *s, const char *ns, const char *key,
    struct mx_buf *b, struct mx_err *e)
{
	int rc = mx_store_put_secret(s, ns, key, b->p, b->len, e);

	mx_buf_release_wipe(b);
	return rc;
}

static int
save_account(struct mx_e2ee *x, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;

	mx_olm_account_pickle(x->acct, &b);
	return put_buf(x->c->store, "e2ee", "account", &b, e);
}

/* Re-read the account inside a transaction (another process may have
 * used a one-time key or made new ones). */
static int
load_account(struct mx_e2ee *x, struct mx_err *e)
{
	struct mx_olm_account *a;
	char *v = NULL;
	size_t n;
	int rc;

	rc = mx_store_get_secret(x->c->store, "e2ee", "account", &v, &n, e);
	if (rc <= 0)
		return rc;
	a = mx_olm_account_unpickle(v, n, e);
	mx_secure_free(v);
	if (a == NULL)
		return mx_err_prefix(e, "the stored Olm account");
	mx_olm_account_free(x->acct);
	x->acct = a;
	return 1;
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
	json_object_set_new(sigs, x->c->sess.user_id, json_pack("{s:s}", kid,
	    sig));
	free(kid);
	return 0;
}

static json_t *
device_keys(struct mx_e2ee *x, struct mx_err *e)
{
	const char *dev = x->c->sess.device_id;
	char *ck = mx_xasprintf("curve25519:%s", dev);
	char *ek = mx_xasprintf("ed25519:%s", dev);
	json_t *dk = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}",
	    "user_id", x->c->sess.user_id, "device_id", dev, "algorithms",
	    OLM_ALG, MEGOLM_ALG, "keys", ck, x->curve, ek, x->ed);

	free(ck);
	free(ek);
	if (sign(x, dk, e) != 0) {
		json_decref(dk);
		return NULL;
	}
	return dk;
}

/* A signed_curve25519 key object (spec: "Key algorithms"). */
static json_t *
key_obj(struct mx_e2ee *x, const struct mx_olm_otk *k, int fallback,
    struct mx_err *e)
{
	json_t *o = json_pack("{s:s}", "key", k->key);

	if (fallback)
		json_object_set_new(o, "fallback", json_true());
	if (sign(x, o, e) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
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
	struct mx_olm_otk ks[MX_OLM_MAX_OTKS], fb;
	json_t *body = json_object(), *otks = json_object(), *o, *dk;
	size_t i, n;
	char *id;
	int rc = 0;

	n = mx_olm_account_otks(x->acct, ks, MX_OLM_MAX_OTKS);
	for (i = 0; i < n && i < MX_OLM_MAX_OTKS && rc == 0; i++) {
		id = mx_xasprintf("signed_curve25519:%s", ks[i].id);
		if ((o = key_obj(x, &ks[i], 0, e)) == NULL)
			rc = -1;
		else
			json_object_set_new(otks, id, o);
		free(id);
	}
	json_object_set_new(body, "one_time_keys", otks);
	if (rc == 0 && mx_olm_account_fallback(x->acct, &fb)) {
		id = mx_xasprintf("signed_curve25519:%s", fb.id);
		if ((o = key_obj(x, &fb, 1, e)) == NULL)
			rc = -1;
		else
			json_object_set_new(body, "fallback_keys",
			    json_pack("{s:o}", id, o));
		free(id);
	}
	if (rc == 0 && with_device) {
		if ((dk = device_keys(x, e)) == NULL)
			rc = -1;
		else
			json_object_set_new(body, "device_keys", dk);
	}
	if (rc == 0)
		rc = mx_api_call(&x->c->api, "POST",
		    "/_matrix/client/v3/keys/upload", body, 1, NULL, e);
	json_decref(body);
	if (rc != 0)
		return mx_err_prefix(e, "cannot upload the device's keys");
	if (mx_store_begin(x->c->store, e) != 0)
		return -1;
	rc = load_account(x, e) < 0;
	if (!rc) {
		mx_olm_account_mark_published(x->acct);
		rc = save_account(x, e) != 0 || (with_device &&
		    mx_store_put(x->c->store, "e2ee", "uploaded",
		    x->c->sess.device_id, strlen(x->c->sess.device_id),
		    e) != 0);
	}
	if (rc) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	return mx_store_commit(x->c->store, e);
}

/*
 * Make sure the server holds enough one-time keys (count: what it says it
 * has, -1: unknown) and a fallback key (need_fb), then upload.
 */
static int
top_up(struct mx_e2ee *x, long count, int need_fb, int with_device,
    struct mx_err *e)
{
	size_t unpub, want = 0;
	struct mx_olm_otk fb;

	/* A stateless run (MX_IDENTITY) would forget the private halves of
	 * any key it uploaded: it uploads none. */
	if (mx_store_is_memory(x->c->store))
		return 0;
	/* The common case, on every sync: the server has enough and nothing
	 * waits to go up.  No write lock, no account to unseal. */
	if (!with_device && !need_fb && (count < 0 ||
	    count >= MX_E2EE_OTK_TARGET / 2) &&
	    mx_olm_account_otks(x->acct, NULL, 0) == 0)
		return 0;
	if (mx_store_begin(x->c->store, e) != 0)
		return -1;
	if (load_account(x, e) < 0) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	unpub = mx_olm_account_otks(x->acct, NULL, 0);
	if (count >= 0 && (size_t)count + unpub < MX_E2EE_OTK_TARGET / 2)
		want = MX_E2EE_OTK_TARGET - (size_t)count - unpub;
	if (want > 0)
		mx_olm_account_generate_otks(x->acct, want);
	if (need_fb && !mx_olm_account_fallback(x->acct, &fb))
		mx_olm_account_generate_fallback(x->acct);
	if ((want > 0 || need_fb) && save_account(x, e) != 0) {
		mx_store_rollback(x->c->store);
		return -1;
	}
	if (mx_store_commit(x->c->store, e) != 0)
		return -1;
	if (want == 0 && unpub == 0 && !need_fb && !with_device)
		return 0;
	return upload(x, with_device, e);
}

int
mx_e2ee_open(struct mx_e2ee **xp, struct mx_ctx *c, struct mx_err *e)
{
	struct mx_e2ee *x;
	char *up = NULL;
	int rc;

	*xp = NULL;
	if (c->store == NULL)
		return mx_err_set(e, MX_USAGE, "encryption needs a profile "
		    "store (run mx-keys login)");
	if (mx_ctx_whoami(c, e) != 0)
		return -1;
	if (c->sess.device_id == NULL)
		return mx_err_set(e, MX_LOCAL, "the session has no device ID");
	x = mx_xcalloc(1, sizeof(*x));
	x->c = c;
	if (mx_store_begin(c->store, e) != 0) {
		free(x);
		return -1;
	}
	if ((rc = load_account(x, e)) == 0) {
		x->acct = mx_olm_account_new();
		mx_olm_account_generate_fallback(x->acct);
		mx_olm_account_generate_otks(x->acct, MX_E2EE_OTK_TARGET);
		rc = save_account(x, e) == 0 ? 1 : -1;
	}
	if (rc > 0)
		rc = mx_store_get(c->store, "e2ee", "uploaded", &up, NULL, e);
	/* The account is this device's: a store of another device (a new
	 * login kept the old store) must not speak for it. */
	if (rc > 0 && strcmp(up, c->sess.device_id) != 0)
		rc = mx_err_set(e, MX_LOCAL, "the store's keys belong to "
		    "device '%s', not '%s'", up, c->sess.device_id);
	if (rc < 0 || mx_store_commit(c->store, e) != 0) {
		mx_store_rollback(c->store);
		mx_e2ee_close(x);
		return -1;
	}
	mx_olm_account_curve25519_b64(x->acct, x->curve);
	mx_olm_account_ed25519_b64(x->acct, x->ed);
	free(up);
	if (rc == 0 && upload(x, 1, e) != 0) {
		mx_e2ee_close(x);
		return -1;
	}
	*xp = x;
	return 0;
}

void
mx_e2ee_close(struct mx_e2ee *x)
{
	if (x == NULL)
		return;
	mx_olm_account_free(x->acct);
	free(x);
}

const char *
mx_e2ee_curve25519(const struct mx_e2ee *x)
{
	return x->curve;
}

const char *
mx_e2ee_ed25519(const struct mx_e2ee *x)
{
	return x->ed;
}

/* ---- Olm sessions ----------------------------------------------------- */

struct olmset {
	struct mx_olm_session *s[OLM_KEEP + 1];
	size_t n;
};

static void
olmset_release(struct olmset *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		mx_olm_session_free(o->s[i]);
	o->n = 0;
}

/* Put s first (most recently used), dropping the oldest beyond the bound. */
static void
olmset_front(struct olmset *o, struct mx_olm_session *s)
{
	size_t i;

	for (i = 0; i < o->n && o->s[i] != s; i++)
		;
	if (i == o->n) {
		if (o->n == OLM_KEEP)
			mx_olm_session_free(o->s[--o->n]);
		o->n++;
	}
	memmove(o->s + 1, o->s, i * sizeof(*o->s));
	o->s[0] = s;
}

static int
olm_load(struct mx_store *st, const char *curve, struct olmset *o,
    struct mx_err *e)
{
	struct mx_pickle_r r;
	const uint8_t *p;
	char *v = NULL;
	size_t n, len, i, cnt;
	int rc;

	o->n = 0;
	if ((rc = mx_store_get_secret(st, "olm", curve, &v, &n, e)) <= 0)
		return rc;
	mx_pickle_r_init(&r, v, n);
	cnt = mx_pickle_r_u8(&r);
	for (i = 0; i < cnt && i < OLM_KEEP && !r.bad; i++) {
		p = mx_pickle_r_blob(&r, 1u << 20, &len);
		if (p != NULL && (o->s[o->n] = mx_olm_session_unpickle(p, len,
		    e)) != NULL)
			o->n++;
		else
			r.bad = 1;
	}
	rc = mx_pickle_r_ok(&r) ? 0 : mx_err_set(e, MX_LOCAL, "corrupt Olm "
	    "sessions for %s", curve);
	mx_secure_free(v);
	if (rc != 0)
		olmset_release(o);
	return rc;
}

static int
olm_save(struct mx_store *st, const char *curve, const struct olmset *o,
    struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT, s = MX_BUF_INIT;
	size_t i;

	mx_pickle_u8(&b, (uint8_t)o->n);
	for (i = 0; i < o->n; i++) {
		mx_buf_reset(&s);
		mx_olm_session_pickle(o->s[i], &s);
		mx_pickle_blob(&b, s.p, s.len);
	}
	mx_buf_release_wipe(&s);
	return put_buf(st, "olm", curve, &b, e);
}

/* The Olm plaintext of an event for device d (spec: "m.olm.v1...":
 * sender, recipient and both devices' keys, against unknown key share). */
static char *
olm_payload(struct mx_e2ee *x, const struct mx_device *d, const char *type,
    json_t *content)
{
	json_t *p = json_pack("{s:s,s:o,s:s,s:s,s:{s:s},s:s,s:{s:s}}",
	    "type", type, "content", content, "sender", x->c->sess.user_id,
	    "sender_device", x->c->sess.device_id, "keys", "ed25519", x->ed,
	    "recipient", d->user_id, "recipient_keys", "ed25519", d->ed);
	char *s = mx_json_compact(p);

	json_decref(p);
	return s;
}

/* Encrypt plain with s into the ciphertext map of an Olm envelope. */
static int
olm_encrypt_to(struct mx_olm_session *s, const char *their_curve,
    const char *plain, json_t *ct, struct mx_err *e)
{
	size_t n = strlen(plain), max = mx_olm_encrypt_len(s, n), len;
	uint8_t *out = mx_xmalloc(max);
	char *b64;
	int type, rc;

	rc = mx_olm_encrypt(s, &type, out, max, &len, plain, n, e);
	if (rc == 0) {
		b64 = mx_b64_encdup(out, len);
		json_object_set_new(ct, their_curve, json_pack("{s:i,s:s}",
		    "type", type, "body", b64));
		free(b64);
	}
	free(out);
	return rc;
}

/*
 * Claim one-time keys for the devices of l flagged in need[] and start
 * Olm sessions with them; fresh[i] gets each new session.  A key whose
 * signature does not verify is not used (spec: "Claiming one-time keys").
 */
static int
claim(struct mx_e2ee *x, const struct mx_devlist *l, const int *need,
    struct mx_olm_session **fresh, struct mx_err *e)
{
	json_t *body = json_object(), *q = json_object(), *r = NULL, *keys,
	    *k;
	const char *kid;
	uint8_t id[32], otk[32];
	size_t i, nq = 0;
	int rc = 0;

	for (i = 0; i < l->n; i++) {
		if (!need[i])
			continue;
		if (json_object_get(q, l->v[i].user_id) == NULL)
			json_object_set_new(q, l->v[i].user_id, json_object());
		json_object_set_new(json_object_get(q, l->v[i].user_id),
		    l->v[i].device_id, json_string("signed_curve25519"));
		nq++;
	}
	json_object_set_new(body, "one_time_keys", q);
	json_object_set_new(body, "timeout", json_integer(10000));
	if (nq > 0)
		rc = mx_api_call(&x->c->api, "POST",
		    "/_matrix/client/v3/keys/claim", body, 0, &r, e);
	json_decref(body);
	for (i = 0; i < l->n && rc == 0 && nq > 0; i++) {
		if (!need[i])
			continue;
		keys = json_object_get(json_object_get(json_object_get(r,
		    "one_time_keys"), l->v[i].user_id), l->v[i].device_id);
		json_object_foreach(keys, kid, k) {
			if (!mx_startswith(kid, "signed_curve25519:") ||
			    mx_b64_dec_exact(otk, 32, jstr(k, "key") ?
			    jstr(k, "key") : "") != 0 ||
			    mx_b64_dec_exact(id, 32, l->v[i].ed) != 0 ||
			    mx_signjson_verify(k, l->v[i].user_id,
			    l->v[i].device_id, id, NULL) != 0)
				continue;
			mx_b64_dec_exact(id, 32, l->v[i].curve);
			fresh[i] = mx_olm_session_new_outbound(x->acct, id,
			    otk, NULL);
			break;
		}
	}
	json_decref(r);
	return rc;
}

/*
 * Send an event of type (content borrowed) to the devices of l flagged in
 * want[], Olm-encrypted; ok[i] says who could be reached.  One
 * transaction encrypts for all of them (each device's sessions re-read
 * under the lock), then one sendToDevice carries them.
 */
static int
send_olm(struct mx_e2ee *x, const struct mx_devlist *l, const int *want,
    const char *type, const json_t *content, int *ok, struct mx_err *e)
{
	struct mx_olm_session **fresh = mx_xcalloc(l->n + 1, sizeof(*fresh));
	int *need = mx_xcalloc(l->n + 1, sizeof(*need));
	json_t *msgs = json_object(), *env, *ct, *body;
	struct olmset o = { { 0 }, 0 };
	struct mx_store *st = x->c->store;
	char *plain, *txn, *path;
	size_t i, nsent = 0;
	int rc = 0;

	for (i = 0; i < l->n && rc == 0; i++)
		if (want[i] && (rc = olm_load(st, l->v[i].curve, &o, e)) == 0) {
			need[i] = o.n == 0;
			olmset_release(&o);
		}
	if (rc == 0)
		rc = claim(x, l, need, fresh, e);
	if (rc == 0)
		rc = mx_store_begin(st, e);
	for (i = 0; i < l->n && rc == 0; i++) {
		ok[i] = 0;
		if (!want[i] || (rc = olm_load(st, l->v[i].curve, &o, e)) != 0)
			continue;
		if (fresh[i] != NULL) {
			olmset_front(&o, fresh[i]);
			fresh[i] = NULL;
		}
		if (o.n > 0) {
			plain = olm_payload(x, &l->v[i], type,
			    json_deep_copy(content));
			ct = json_object();
			rc = olm_encrypt_to(o.s[0], l->v[i].curve, plain, ct, e);
			mx_wipe(plain, strlen(plain));
			free(plain);
			env = json_pack("{s:s,s:s,s:o}", "algorithm", OLM_ALG,
			    "sender_key", x->curve, "ciphertext", ct);
			if (json_object_get(msgs, l->v[i].user_id) == NULL)
				json_object_set_new(msgs, l->v[i].user_id,
				    json_object());
			json_object_set_new(json_object_get(msgs,
			    l->v[i].user_id), l->v[i].device_id, env);
			if (rc == 0)
				rc = olm_save(st, l->v[i].curve, &o, e);
			ok[i] = rc == 0;
			nsent++;
		}
		olmset_release(&o);
	}
	if (rc == 0)
		rc = mx_store_commit(st, e);
	else
		mx_store_rollback(st);
	if (rc == 0 && nsent > 0) {
		txn = mx_msg_txn_new();
		path = mx_xasprintf("/_matrix/client/v3/sendToDevice/"
		    "m.room.encrypted/%s", txn);
		body = json_pack("{s:O}", "messages", msgs);
		rc = mx_api_call(&x->c->api, "PUT", path, body, 1, NULL, e);
		json_decref(body);
		free(path);
		free(txn);
	}
	for (i = 0; i < l->n; i++)
		mx_olm_session_free(fresh[i]);
	json_decref(msgs);
	free(fresh);
	free(need);
	return rc;
}

/* Plain m.room_key.withheld notices to the devices flagged in want[]. */
static int
send_withheld(struct mx_e2ee *x, const struct mx_devlist *l, const int *want,
    const char *room_id, const char *sid, const char *code,
    const char *reason, struct mx_err *e)
{
	json_t *msgs = json_object(), *body;
	char *txn, *path;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < l->n; i++) {
		if (!want[i])
			continue;
		if (json_object_get(msgs, l->v[i].user_id) == NULL)
			json_object_set_new(msgs, l->v[i].user_id,
			    json_object());
		json_object_set_new(json_object_get(msgs, l->v[i].user_id),
		    l->v[i].device_id, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:s}", "algorithm", MEGOLM_ALG, "room_id", room_id,
		    "session_id", sid, "sender_key", x->curve, "code", code,
		    "reason", reason, "from_device", x->c->sess.device_id));
		n++;
	}
	if (n > 0) {
		txn = mx_msg_txn_new();
		path = mx_xasprintf("/_matrix/client/v3/sendToDevice/"
		    "m.room_key.withheld/%s", txn);
		body = json_pack("{s:O}", "messages", msgs);
		rc = mx_api_call(&x->c->api, "PUT", path, body, 1, NULL, e);
		json_decref(body);
		free(path);
		free(txn);
	}
	json_decref(msgs);
	return rc;
}

/* ---- rooms: encryption state and members ----------------------------- */

static json_t *
room_load(struct mx_store *s, const char *room_id)
{
	char *v = NULL;
	size_t n;
	json_t *j = NULL;

	if (s != NULL && mx_store_get(s, "rooms", room_id, &v, &n, NULL) > 0)
		j = mx_json_parse(v, n, NULL);
	free(v);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

static int
room_save(struct mx_store *s, const char *room_id, const json_t *r,
    struct mx_err *e)
{
	char *v = mx_json_compact(r);
	int rc = mx_store_put(s, "rooms", room_id, v, strlen(v), e);

	free(v);
	return rc;
}

int
mx_e2ee_room_encryption(struct mx_ctx *c, const char *room_id, json_t **enc,
    struct mx_err *e)
{
	json_t *r = room_load(c->store, room_id), *ct = NULL;
	int rc;

	*enc = NULL;
	if (json_is_object(json_object_get(r, "enc"))) {
		*enc = json_incref(json_object_get(r, "enc"));
		json_decref(r);
		return 1;
	}
	if (c->store != NULL && now_ms() - json_integer_value(
	    json_object_get(r, "checked")) < PLAIN_RECHECK_MS) {
		json_decref(r);
		return 0;
	}
	rc = mx_api_get_state(&c->api, room_id, "m.room.encryption", "", &ct,
	    e);
	if (rc > 0 && !json_is_string(json_object_get(ct, "algorithm")))
		rc = 0;
	if (rc >= 0 && c->store != NULL) {
		json_object_set(r, "enc", rc > 0 ? ct : json_null());
		json_object_set_new(r, "checked", json_integer(now_ms()));
		(void)room_save(c->store, room_id, r, NULL);
	}
	json_decref(r);
	if (rc > 0)
		*enc = ct;
	else
		json_decref(ct);
	return rc;
}

/* The members of room_id that should get its key: {"user": membership}
 * (joined, and invited unless history is visible only once joined). */
static int
members(struct mx_e2ee *x, const char *room_id, json_t **out,
    struct mx_err *e)
{
	json_t *r = room_load(x->c->store, room_id), *chunk = NULL, *hv = NULL;
	json_t *m, *ev;
	const char *ms, *vis;
	size_t i;
	int rc = 0;

	if (!json_is_true(json_object_get(r, "stale")) &&
	    json_is_object(json_object_get(r, "members"))) {
		*out = json_incref(json_object_get(r, "members"));
		json_decref(r);
		return 0;
	}
	if (mx_api_members(&x->c->api, room_id, &chunk, e) != 0 ||
	    mx_api_get_state(&x->c->api, room_id, "m.room.history_visibility",
	    "", &hv, e) < 0) {
		json_decref(r);
		json_decref(chunk);
		return -1;
	}
	vis = jstr(hv, "history_visibility");
	m = json_object();
	json_array_foreach(chunk, i, ev) {
		ms = jstr(json_object_get(ev, "content"), "membership");
		if (ms && jstr(ev, "state_key") && (strcmp(ms, "join") == 0 ||
		    (strcmp(ms, "invite") == 0 && (vis == NULL ||
		    strcmp(vis, "joined") != 0))))
			json_object_set_new(m, jstr(ev, "state_key"),
			    json_string(ms));
	}
	json_object_set_new(r, "members", json_incref(m));
	json_object_set_new(r, "hv", json_string(vis ? vis : "shared"));
	json_object_set_new(r, "stale", json_false());
	rc = room_save(x->c->store, room_id, r, e);
	json_decref(chunk);
	json_decref(hv);
	json_decref(r);
	if (rc != 0) {
		json_decref(m);
		return -1;
	}
	*out = m;
	return 0;
}

/* Note what a /sync answer says of room_id's state in its record. */
static int
room_news(struct mx_e2ee *x, const char *room_id, const json_t *room,
    struct mx_err *e)
{
	const char *secs[] = { "state", "timeline" };
	json_t *r, *ev;
	const char *t;
	size_t i, j;
	int stale = json_is_true(json_object_get(json_object_get(room,
	    "timeline"), "limited")), rc;

	if (room == NULL)
		return 0;
	r = room_load(x->c->store, room_id);
	for (i = 0; i < 2; i++)
		json_array_foreach(json_object_get(json_object_get(room,
		    secs[i]), "events"), j, ev) {
			if ((t = jstr(ev, "type")) == NULL)
				continue;
			if (strcmp(t, "m.room.member") == 0 ||
			    strcmp(t, "m.room.history_visibility") == 0)
				stale = 1;
			else if (strcmp(t, "m.room.encryption") == 0 &&
			    jstr(json_object_get(ev, "content"), "algorithm"))
				json_object_set(r, "enc",
				    json_object_get(ev, "content"));
		}
	if (stale)
		json_object_set_new(r, "stale", json_true());
	rc = room_save(x->c->store, room_id, r, e);
	json_decref(r);
	return rc;
}

int
mx_e2ee_refresh(struct mx_e2ee *x, const char *room_id, struct mx_err *e)
{
	static const char types[] = "[\"m.room.member\",\"m.room.encryption\","
	    "\"m.room.history_visibility\"]";
	json_t *resp = NULL, *rid = json_string(room_id), *first;
	char *since = NULL, *filter, *rj = mx_json_compact(rid);
	const char *nb;
	int rc;

	json_decref(rid);
	filter = mx_xasprintf("{\"presence\":{\"not_types\":[\"*\"]},"
	    "\"account_data\":{\"not_types\":[\"*\"]},\"room\":{\"rooms\":[%s],"
	    "\"timeline\":{\"limit\":50,\"types\":%s},\"state\":{\"types\":%s},"
	    "\"ephemeral\":{\"not_types\":[\"*\"]},\"account_data\":"
	    "{\"not_types\":[\"*\"]}}}", rj, types, types);
	free(rj);
	rc = mx_store_get(x->c->store, "e2ee", "send_pos", &since, NULL, e);
	if (rc >= 0)
		rc = mx_api_sync(&x->c->api, since, filter, 0, &resp, e);
	free(filter);
	if (rc == 0)
		rc = mx_e2ee_sync(x, resp, e);
	if (rc == 0)
		rc = room_news(x, room_id, json_object_get(json_object_get(
		    json_object_get(resp, "rooms"), "join"), room_id), e);
	/* A first sync tells no changes: read the members anew. */
	if (rc == 0 && since == NULL) {
		first = json_pack("{s:{s:b}}", "timeline", "limited", 1);
		rc = room_news(x, room_id, first, e);
		json_decref(first);
	}
	if (rc == 0 && (nb = mx_sync_next_batch(resp)) != NULL)
		rc = mx_store_put(x->c->store, "e2ee", "send_pos", nb,
		    strlen(nb), e);
	json_decref(resp);
	free(since);
	return rc;
}

static char *
in_key(const char *room_id, const char *sid)
{
	return mx_xasprintf("%s %s", room_id, sid);
}

/* Keep inbound session in as room_id's, bound to the Curve25519 key skey,
 * the claimed Ed25519 key ed and the user sender, unless one with the same
 * ID and an earlier first index is already kept.  Inside a transaction. */
static int
in_store(struct mx_e2ee *x, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    const char *sender, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT, p = MX_BUF_INIT;
	struct mx_megolm_in *old = NULL;
	char *k = in_key(room_id, sid), *v = NULL;
	const uint8_t *pp;
	struct mx_pickle_r r;
	size_t n, len;
	int rc = 0;

	if (mx_store_get_secret(x->c->store, "megolm_in", k, &v, &n, e) > 0) {
		mx_pickle_r_init(&r, v, n);
		pp = mx_pickle_r_blob(&r, 4096, &len);
		old = pp ? mx_megolm_in_unpickle(pp, len, NULL) : NULL;
		mx_secure_free(v);
		if (old != NULL && mx_megolm_in_first_index(old) <=
		    mx_megolm_in_first_index(in)) {
			mx_megolm_in_free(old);
			free(k);
			return 0;
		}
		mx_megolm_in_free(old);
	}
	mx_megolm_in_pickle(in, &p);
	mx_pickle_blob(&b, p.p, p.len);
	mx_buf_release_wipe(&p);
	mx_pickle_blob(&b, skey, strlen(skey));
	mx_pickle_blob(&b, ed, strlen(ed));
	mx_pickle_blob(&b, sender, strlen(sender));
	rc = put_buf(x->c->store, "megolm_in", k, &b, e);
	if (rc == 0)
		rc = mx_store_del(x->c->store, "withheld", k, e);
	free(k);
	return rc;
}

/* ---- Megolm: the room's outbound session --------------------------- */

struct outrec {
	struct mx_megolm_out *s;
	long long created;
	json_t *shared;		/* {"user device curve": "S"|"W"} */
	char id[MX_MEGOLM_ID_B64];
};

static void
outrec_release(struct outrec *o)
{
	mx_megolm_out_free(o->s);
	json_decref(o->shared);
	memset(o, 0, sizeof(*o));
}

/*
 * The stored outbound session: the Megolm pickle, when it was made, and
 * who has it: {"user device curve": "S" shared | "W" withheld (the policy
 * excluded the device) | "N" no Olm session could be made}.
 */
static int
out_load(struct mx_store *st, const char *room_id, struct outrec *o,
    struct mx_err *e)
{
	struct mx_pickle_r r;
	const uint8_t *p, *sh;
	size_t n, len, shlen;
	char *v = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = mx_store_get_secret(st, "megolm_out", room_id, &v, &n,
	    e)) <= 0)
		return rc;
	mx_pickle_r_init(&r, v, n);
	p = mx_pickle_r_blob(&r, 4096, &len);
	o->created = (long long)mx_pickle_r_u64(&r);
	sh = mx_pickle_r_blob(&r, 1u << 24, &shlen);
	if (mx_pickle_r_ok(&r) && (o->s = mx_megolm_out_unpickle(p, len,
	    e)) != NULL)
		o->shared = mx_json_parse((const char *)sh, shlen, NULL);
	mx_secure_free(v);
	if (o->s == NULL || !json_is_object(o->shared)) {
		outrec_release(o);
		return mx_err_set(e, MX_LOCAL, "corrupt Megolm session of "
		    "'%s'", room_id);
	}
	mx_megolm_out_id(o->s, o->id);
	return 1;
}

static int
out_save(struct mx_store *st, const char *room_id, const struct outrec *o,
    struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT, p = MX_BUF_INIT;
	char *sh = mx_json_compact(o->shared);

	mx_megolm_out_pickle(o->s, &p);
	mx_pickle_blob(&b, p.p, p.len);
	mx_buf_release_wipe(&p);
	mx_pickle_u64(&b, (uint64_t)o->created);
	mx_pickle_blob(&b, sh, strlen(sh));
	free(sh);
	return put_buf(st, "megolm_out", room_id, &b, e);
}

static char *
dev_key(const struct mx_device *d)
{
	return mx_xasprintf("%s %s %s", d->user_id, d->device_id, d->curve);
}

/*
 * Who gets room_id's key: every device of its members (l), with elig[i]:
 * 1 share, 0 withhold (the policy excludes it), -1 neither (this device,
 * or keys that changed).
 */
static int
recipients(struct mx_e2ee *x, const char *room_id, enum mx_e2ee_policy pol,
    struct mx_devlist *l, int **elig, struct mx_err *e)
{
	const char **users, *u;
	json_t *m = NULL, *v;
	size_t i = 0;
	int rc;

	if (members(x, room_id, &m, e) != 0)
		return -1;
	users = mx_xcalloc(json_object_size(m) + 1, sizeof(*users));
	json_object_foreach(m, u, v)
		users[i++] = u;
	rc = mx_devices_get(&x->c->api, x->c->store, users, i, l, e);
	free(users);
	json_decref(m);
	*elig = mx_xcalloc(l->n + 1, sizeof(**elig));
	for (i = 0; i < l->n && rc == 0; i++) {
		if (l->v[i].trust == MX_TRUST_MISMATCH ||
		    (strcmp(l->v[i].user_id, x->c->sess.user_id) == 0 &&
		    strcmp(l->v[i].device_id, x->c->sess.device_id) == 0))
			(*elig)[i] = -1;
		else
			(*elig)[i] = pol == MX_E2EE_TOFU ||
			    l->v[i].trust >= MX_TRUST_CROSS_SIGNED;
	}
	return rc;
}

/* 1 when the session must be replaced (spec: "m.megolm.v1.aes-sha2",
 * rotation; a device that had it and is no recipient any more). */
static int
must_rotate(const struct outrec *o, const json_t *enc,
    const struct mx_devlist *l, const int *elig)
{
	json_int_t msgs = json_integer_value(json_object_get(enc,
	    "rotation_period_msgs"));
	json_int_t ms = json_integer_value(json_object_get(enc,
	    "rotation_period_ms"));
	json_t *now = json_object();
	const char *k;
	json_t *v;
	size_t i;
	char *dk;
	int gone = 0;

	if (msgs <= 0)
		msgs = MX_E2EE_ROTATION_MSGS;
	if (ms <= 0)
		ms = MX_E2EE_ROTATION_MS;
	if (mx_megolm_out_index(o->s) >= (uint64_t)msgs ||
	    now_ms() - o->created >= ms) {
		json_decref(now);
		return 1;
	}
	for (i = 0; i < l->n; i++)
		if (elig[i] == 1) {
			dk = dev_key(&l->v[i]);
			json_object_set_new(now, dk, json_true());
			free(dk);
		}
	json_object_foreach(o->shared, k, v)
		gone |= strcmp(json_string_value(v), "S") == 0 &&
		    json_object_get(now, k) == NULL;
	json_decref(now);
	return gone;
}

/* 1 when every eligible device has o's session. */
static int
all_shared(const struct outrec *o, const struct mx_devlist *l,
    const int *elig)
{
	const char *v;
	size_t i;
	char *dk;
	int ok = 1;

	for (i = 0; i < l->n && ok; i++) {
		if (elig[i] == -1)
			continue;
		dk = dev_key(&l->v[i]);
		v = json_string_value(json_object_get(o->shared, dk));
		/* a recipient has it (or no Olm session could be made); an
		 * excluded device was told it is withheld */
		ok = v != NULL && (elig[i] == 0 || strcmp(v, "W") != 0);
		free(dk);
	}
	return ok;
}

/* Our own messages must decrypt too (mx-sync, another process): the new
 * session is also kept as an inbound one. */
static int
keep_own(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    struct mx_err *e)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	struct mx_megolm_in *in;
	int rc;

	mx_megolm_out_session_key(o->s, key);
	in = mx_megolm_in_new(key, sizeof(key), e);
	mx_wipe(key, sizeof(key));
	if (in == NULL)
		return -1;
	rc = in_store(x, room_id, o->id, in, x->curve, x->ed,
	    x->c->sess.user_id, e);
	mx_megolm_in_free(in);
	return rc;
}

/* Load the room's session, making a new one when there is none or it
 * must rotate; *o filled. */
static int
ensure_out(struct mx_e2ee *x, const char *room_id, const json_t *enc,
    const struct mx_devlist *l, const int *elig, struct outrec *o,
    struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	rc = out_load(st, room_id, o, e);
	if (rc == 1 && must_rotate(o, enc, l, elig)) {
		note(x, "rotating the Megolm session of '%s'%s", room_id, "");
		outrec_release(o);
		rc = 0;
	}
	if (rc == 0) {
		o->s = mx_megolm_out_new();
		o->created = now_ms();
		o->shared = json_object();
		mx_megolm_out_id(o->s, o->id);
		rc = out_save(st, room_id, o, e);
		if (rc == 0)
			rc = keep_own(x, room_id, o, e);
	}
	if (rc < 0) {
		mx_store_rollback(st);
		outrec_release(o);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* Share o's session with the eligible devices lacking it; withhold it
 * from the others; record both in the stored session. */
static int
share(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    const struct mx_devlist *l, const int *elig, struct mx_err *e)
{
	int *want = mx_xcalloc(l->n + 1, sizeof(int)), *wh =
	    mx_xcalloc(l->n + 1, sizeof(int)), *ok = mx_xcalloc(l->n + 1,
	    sizeof(int)), *nolm = mx_xcalloc(l->n + 1, sizeof(int));
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	struct outrec cur;
	const char *st;
	size_t i, nw = 0, nh = 0;
	char *dk, *kb;
	json_t *rk = NULL;
	int rc = 0;

	for (i = 0; i < l->n; i++) {
		if (elig[i] == -1)
			continue;
		dk = dev_key(&l->v[i]);
		st = json_string_value(json_object_get(o->shared, dk));
		/* "W": withheld until now, "N": no Olm session could be made
		 * (tried again with the next session) */
		want[i] = elig[i] == 1 && (st == NULL || strcmp(st, "W") == 0);
		wh[i] = elig[i] == 0 && st == NULL;
		nw += want[i];
		nh += wh[i];
		free(dk);
	}
	if (nw > 0) {
		mx_megolm_out_session_key(o->s, key);
		kb = mx_b64_encdup(key, sizeof(key));
		mx_wipe(key, sizeof(key));
		rk = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", MEGOLM_ALG,
		    "room_id", room_id, "session_id", o->id, "session_key",
		    kb);
		mx_wipe(kb, strlen(kb));
		free(kb);
		rc = send_olm(x, l, want, "m.room_key", rk, ok, e);
		for (i = 0; i < l->n && rc == 0; i++)
			nolm[i] = want[i] && !ok[i];
	}
	if (rc == 0 && nh > 0)
		rc = send_withheld(x, l, wh, room_id, o->id, "m.unverified",
		    "the sender's policy shares keys with verified devices "
		    "only", e);
	if (rc == 0 && nw > 0)
		rc = send_withheld(x, l, nolm, room_id, o->id, "m.no_olm",
		    "no one-time key could be claimed", e);
	if (rc == 0 && (nw > 0 || nh > 0) && (rc = mx_store_begin(x->c->store,
	    e)) == 0) {
		if ((rc = out_load(x->c->store, room_id, &cur, e)) == 1 &&
		    strcmp(cur.id, o->id) == 0) {
			for (i = 0; i < l->n; i++) {
				if (!want[i] && !wh[i])
					continue;
				dk = dev_key(&l->v[i]);
				json_object_set_new(cur.shared, dk,
				    json_string(wh[i] ? "W" : ok[i] ? "S" :
				    "N"));
				free(dk);
			}
			rc = out_save(x->c->store, room_id, &cur, e);
		}
		outrec_release(&cur);
		rc = rc < 0 ? (mx_store_rollback(x->c->store), -1) :
		    mx_store_commit(x->c->store, e);
	}
	json_decref(rk);
	free(want);
	free(wh);
	free(ok);
	free(nolm);
	return rc;
}

/* Encrypt with the stored session if it is still id and fully shared:
 * 1 done (*out), 0 try again, -1 error. */
static int
encrypt_now(struct mx_e2ee *x, const char *room_id, const char *id,
    const struct mx_devlist *l, const int *elig, const char *plain,
    json_t **out, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	size_t n = strlen(plain), max = mx_megolm_encrypt_len(n), len;
	uint8_t *ct = mx_xmalloc(max);
	struct outrec o;
	char *b64;
	int rc;

	if (mx_store_begin_durable(st, e) != 0) {
		free(ct);
		return -1;
	}
	rc = out_load(st, room_id, &o, e);
	if (rc == 1 && (strcmp(o.id, id) != 0 || !all_shared(&o, l, elig)))
		rc = 0;
	if (rc == 1 && (mx_megolm_encrypt(o.s, ct, max, &len, plain, n,
	    e) != 0 || out_save(st, room_id, &o, e) != 0))
		rc = -1;
	/* The advanced index is on disk before the ciphertext exists
	 * anywhere else: a crash can never make us reuse it. */
	if (rc == 1 && mx_store_commit(st, e) != 0)
		rc = -1;
	else if (rc != 1)
		mx_store_rollback(st);
	if (rc == 1) {
		b64 = mx_b64_encdup(ct, len);
		*out = json_pack("{s:s,s:s,s:s,s:s,s:s}", "algorithm",
		    MEGOLM_ALG, "sender_key", x->curve, "device_id",
		    x->c->sess.device_id, "session_id", o.id, "ciphertext",
		    b64);
		free(b64);
	}
	outrec_release(&o);
	free(ct);
	return rc;
}

int
mx_e2ee_encrypt(struct mx_e2ee *x, const char *room_id, const json_t *enc,
    enum mx_e2ee_policy pol, const char *type, const json_t *content,
    json_t **out, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	struct outrec o = { 0 };
	json_t *p, *rel;
	int *elig = NULL, rc, tries;
	char *plain;

	*out = NULL;
	p = json_pack("{s:s,s:O,s:s}", "type", type, "content", content,
	    "room_id", room_id);
	plain = mx_json_compact(p);
	json_decref(p);
	if (strlen(plain) > MAX_PLAIN) {
		free(plain);
		return mx_err_set(e, MX_LOCAL, "message too large to encrypt");
	}
	rc = recipients(x, room_id, pol, &l, &elig, e);
	/* Another process may rotate or advance the session between the
	 * steps; each step re-reads it, and a lost race starts over. */
	for (tries = 0; rc == 0 && tries < 5; tries++) {
		if ((rc = ensure_out(x, room_id, enc, &l, elig, &o, e)) == 0 &&
		    (rc = share(x, room_id, &o, &l, elig, e)) == 0)
			rc = encrypt_now(x, room_id, o.id, &l, elig, plain,
			    out, e);
		outrec_release(&o);
		if (rc == 1)
			break;
	}
	if (rc == 0)
		rc = mx_err_set(e, MX_TEMP, "the Megolm session of '%s' keeps "
		    "changing under us", room_id);
	mx_wipe(plain, strlen(plain));
	free(plain);
	mx_devlist_release(&l);
	free(elig);
	if (rc < 0)
		return -1;
	/* Relations stay in the clear so servers can aggregate them (spec:
	 * "m.room.encrypted", "m.relates_to"). */
	if ((rel = json_object_get(content, "m.relates_to")) != NULL)
		json_object_set(*out, "m.relates_to", rel);
	return 0;
}

/* ---- receiving: to-device events ---------------------------------- */

/*
 * Decrypt an Olm to-device envelope from sender: the payload JSON (caller
 * frees), or NULL with e.  Existing sessions with the sender's key are
 * tried first; a pre-key message none of them matches starts a new one,
 * which is kept (and its one-time key forgotten) only once the message
 * decrypted (spec: "m.olm.v1.curve25519-aes-sha2", "Recovering from
 * undecryptable messages").
 */
static json_t *
olm_decrypt(struct mx_e2ee *x, const char *sender, const json_t *ct,
    struct mx_err *e)
{
	const char *skey = jstr(ct, "sender_key"), *body;
	const json_t *mine = json_object_get(json_object_get(ct, "ciphertext"),
	    x->curve);
	struct olmset o = { { 0 }, 0 };
	struct mx_olm_session *s = NULL;
	uint8_t their[32], *msg = NULL, *out = NULL;
	size_t n = 0, outlen = 0, i;
	json_t *pl = NULL;
	int type, rc = -1, done = 0;

	(void)sender;
	body = jstr(mine, "body");
	type = (int)json_integer_value(json_object_get(mine, "type"));
	if (skey == NULL || body == NULL || (type != 0 && type != 1) ||
	    mx_b64_dec_exact(their, 32, skey) != 0) {
		mx_err_set(e, MX_LOCAL, "not an Olm message for this device");
		return NULL;
	}
	msg = mx_xmalloc(strlen(body) + 1);
	if (mx_b64_dec(msg, strlen(body), &n, body, strlen(body)) != 0) {
		mx_err_set(e, MX_LOCAL, "bad base64 in an Olm message");
		goto out;
	}
	out = mx_xmalloc(n + 1);
	if (mx_store_begin(x->c->store, e) != 0)
		goto out;
	if (load_account(x, e) < 0 || olm_load(x->c->store, skey, &o, e) != 0)
		goto fail;
	for (i = 0; i < o.n && !done; i++) {
		if (type == 0 && !mx_olm_session_matches_from(o.s[i], their,
		    msg, n))
			continue;
		if (mx_olm_decrypt(o.s[i], type, msg, n, out, n, &outlen,
		    NULL) == 0) {
			olmset_front(&o, o.s[i]);
			done = 1;
		} else if (type == 0) {
			break;	/* its own session failed: no new one */
		}
	}
	if (!done && type == 0 && i == o.n &&
	    (s = mx_olm_session_new_inbound(x->acct, their, msg, n, e)) !=
	    NULL && mx_olm_decrypt(s, type, msg, n, out, n, &outlen, e) == 0) {
		(void)mx_olm_account_remove_otk(x->acct, s, NULL);
		olmset_front(&o, s);
		s = NULL;
		done = save_account(x, e) == 0;
	}
	if (!done) {
		if (e && e->status == MX_OK)
			mx_err_set(e, MX_LOCAL, "no Olm session decrypts it");
		goto fail;
	}
	if (olm_save(x->c->store, skey, &o, e) != 0 ||
	    mx_store_commit(x->c->store, e) != 0)
		goto out;
	pl = mx_json_parse((const char *)out, outlen, e);
	rc = 0;
	goto out;
fail:
	mx_store_rollback(x->c->store);
out:
	mx_olm_session_free(s);
	olmset_release(&o);
	if (out != NULL)
		mx_wipe(out, n + 1);
	free(out);
	free(msg);
	if (rc != 0) {
		json_decref(pl);
		return NULL;
	}
	return pl;
}

/* The checks on a decrypted Olm payload (spec: "Validation of incoming
 * decrypted events"): 0, or -1 with e. */
static int
olm_check(struct mx_e2ee *x, const char *sender, const json_t *pl,
    struct mx_err *e)
{
	const char *ed = jstr(json_object_get(pl, "recipient_keys"),
	    "ed25519");

	if (!json_is_object(pl) || !json_is_object(json_object_get(pl,
	    "content")) || jstr(pl, "type") == NULL)
		return mx_err_set(e, MX_LOCAL, "malformed Olm payload");
	if (jstr(pl, "sender") == NULL || strcmp(jstr(pl, "sender"),
	    sender) != 0)
		return mx_err_set(e, MX_LOCAL, "Olm payload of another sender");
	if (jstr(pl, "recipient") == NULL || strcmp(jstr(pl, "recipient"),
	    x->c->sess.user_id) != 0 || ed == NULL || strcmp(ed, x->ed) != 0)
		return mx_err_set(e, MX_LOCAL, "Olm payload for another "
		    "recipient");
	if (jstr(json_object_get(pl, "keys"), "ed25519") == NULL)
		return mx_err_set(e, MX_LOCAL, "Olm payload without keys");
	return 0;
}



/* An m.room_key delivered by Olm: keep the session. */
static int
room_key(struct mx_e2ee *x, const char *sender, const char *skey,
    const json_t *pl, struct mx_err *e)
{
	const json_t *c = json_object_get(pl, "content");
	const char *room = jstr(c, "room_id"), *sid = jstr(c, "session_id");
	const char *kb = jstr(c, "session_key"), *alg = jstr(c, "algorithm");
	struct mx_megolm_in *in = NULL;
	uint8_t raw[MX_MEGOLM_SESSION_KEY_LEN + 3];
	char id[MX_MEGOLM_ID_B64];
	size_t n = 0;
	int rc = 0;

	if (alg == NULL || strcmp(alg, MEGOLM_ALG) != 0 || room == NULL ||
	    sid == NULL || kb == NULL || mx_b64_dec(raw, sizeof(raw), &n, kb,
	    strlen(kb)) != 0 || (in = mx_megolm_in_new(raw, n,
	    NULL)) == NULL) {
		mx_wipe(raw, sizeof(raw));
		note(x, "ignoring a malformed m.room_key from %s%s", sender,
		    "");
		return 0;
	}
	mx_wipe(raw, sizeof(raw));
	mx_megolm_in_id(in, id);
	if (strcmp(id, sid) != 0) {
		note(x, "ignoring an m.room_key from %s: wrong session ID%s",
		    sender, "");
		mx_megolm_in_free(in);
		return 0;
	}
	if ((rc = mx_store_begin(x->c->store, e)) == 0) {
		rc = in_store(x, room, sid, in, skey, jstr(json_object_get(pl,
		    "keys"), "ed25519"), sender, e);
		rc = rc == 0 ? mx_store_commit(x->c->store, e) :
		    (mx_store_rollback(x->c->store), -1);
	}
	mx_megolm_in_free(in);
	return rc;
}

/* An m.room_key.withheld notice: remembered for the verdict. */
static int
withheld(struct mx_e2ee *x, const json_t *c, struct mx_err *e)
{
	const char *room = jstr(c, "room_id"), *sid = jstr(c, "session_id");
	const char *code = jstr(c, "code");
	json_t *w;
	char *k, *v;
	int rc;

	if (room == NULL || sid == NULL || code == NULL)
		return 0;
	w = json_pack("{s:s,s:s?}", "code", code, "reason", jstr(c,
	    "reason"));
	v = mx_json_compact(w);
	k = in_key(room, sid);
	rc = mx_store_put(x->c->store, "withheld", k, v, strlen(v), e);
	free(k);
	free(v);
	json_decref(w);
	return rc;
}

static int
to_device(struct mx_e2ee *x, const json_t *ev, struct mx_err *e)
{
	const char *type = jstr(ev, "type"), *sender = jstr(ev, "sender");
	const json_t *c = json_object_get(ev, "content");
	struct mx_err oe;
	json_t *pl;
	int rc = 0;

	if (type == NULL || sender == NULL || !json_is_object(c))
		return 0;
	if (strcmp(type, "m.room_key.withheld") == 0)
		return withheld(x, c, e);
	if (strcmp(type, "m.room.encrypted") != 0 || jstr(c, "algorithm") ==
	    NULL || strcmp(jstr(c, "algorithm"), OLM_ALG) != 0)
		return 0;	/* requests, verification: not handled here */
	mx_err_clear(&oe);
	if ((pl = olm_decrypt(x, sender, c, &oe)) == NULL ||
	    olm_check(x, sender, pl, &oe) != 0) {
		note(x, "cannot decrypt a to-device message from %s: %s",
		    sender, oe.msg);
		json_decref(pl);
		return oe.status == MX_TEMP ? (*e = oe, -1) : 0;
	}
	type = jstr(pl, "type");
	if (strcmp(type, "m.room_key") == 0)
		rc = room_key(x, sender, jstr(c, "sender_key"), pl, e);
	else if (strcmp(type, "m.dummy") != 0)
		/* m.forwarded_room_key answers requests we never make. */
		note(x, "ignoring an encrypted %s from %s", type, sender);
	json_decref(pl);
	return rc;
}

int
mx_e2ee_sync(struct mx_e2ee *x, const json_t *resp, struct mx_err *e)
{
	const json_t *ev, *fb = json_object_get(resp,
	    "device_unused_fallback_key_types"), *v;
	json_t *counts = json_object_get(resp, "device_one_time_keys_count");
	json_t *cnt = json_object_get(counts, "signed_curve25519");
	size_t i;
	int rc, has_fb = 0;

	rc = mx_devices_changed(x->c->store, json_object_get(resp,
	    "device_lists"), e);
	json_array_foreach(json_object_get(json_object_get(resp, "to_device"),
	    "events"), i, ev)
		if (rc == 0)
			rc = to_device(x, ev, e);
	json_array_foreach(fb, i, v)
		has_fb |= json_is_string(v) && strcmp(json_string_value(v),
		    "signed_curve25519") == 0;
	/* An algorithm missing from the counts has none left (spec:
	 * "Extensions to /sync"); no counts at all say nothing, and neither
	 * does an absent fallback list. */
	if (rc == 0)
		rc = top_up(x, !json_is_object(counts) ? -1 : cnt ?
		    (long)json_integer_value(cnt) : 0, json_is_array(fb) &&
		    !has_fb, 0, e);
	return rc;
}

/* ---- receiving: room events ---------------------------------------- */

struct inrec {
	struct mx_megolm_in *s;
	char *sender_key, *ed, *sender;
};

static void
inrec_release(struct inrec *r)
{
	mx_megolm_in_free(r->s);
	free(r->sender_key);
	free(r->ed);
	free(r->sender);
	memset(r, 0, sizeof(*r));
}

static int
in_load(struct mx_store *st, const char *k, struct inrec *o)
{
	struct mx_pickle_r r;
	const uint8_t *p, *a, *b, *c;
	size_t n, lp, la, lb, lc;
	char *v = NULL;

	memset(o, 0, sizeof(*o));
	if (mx_store_get_secret(st, "megolm_in", k, &v, &n, NULL) <= 0)
		return 0;
	mx_pickle_r_init(&r, v, n);
	p = mx_pickle_r_blob(&r, 4096, &lp);
	a = mx_pickle_r_blob(&r, 256, &la);
	b = mx_pickle_r_blob(&r, 256, &lb);
	c = mx_pickle_r_blob(&r, 512, &lc);
	if (mx_pickle_r_ok(&r) && (o->s = mx_megolm_in_unpickle(p, lp,
	    NULL)) != NULL) {
		o->sender_key = mx_xstrndup((const char *)a, la);
		o->ed = mx_xstrndup((const char *)b, lb);
		o->sender = mx_xstrndup((const char *)c, lc);
	}
	mx_secure_free(v);
	return o->s != NULL;
}

/* Replay check (spec: "m.megolm.v1.aes-sha2"): the first event seen at
 * each index of a session is recorded; another event there is refused. */
static int
replayed(struct mx_e2ee *x, const char *sid, uint32_t idx, const char *eid)
{
	char *k = mx_xasprintf("%s %u", sid, (unsigned)idx), *v = NULL;
	int bad = 0;

	if (eid == NULL) {
		free(k);
		return 0;
	}
	if (mx_store_get(x->c->store, "megolm_idx", k, &v, NULL, NULL) > 0)
		bad = strcmp(v, eid) != 0;
	else
		(void)mx_store_put(x->c->store, "megolm_idx", k, eid,
		    strlen(eid), NULL);
	free(v);
	free(k);
	return bad;
}

/* The trust in the device behind session r for an event of sender. */
static enum mx_trust
sender_trust(struct mx_e2ee *x, const struct inrec *r, const char *sender,
    char **device_id)
{
	struct mx_device d;
	enum mx_trust t;
	struct mx_err e;

	if (strcmp(r->sender, sender) != 0)
		return MX_TRUST_MISMATCH;
	if (strcmp(r->sender_key, x->curve) == 0 && strcmp(r->ed, x->ed) == 0 &&
	    strcmp(sender, x->c->sess.user_id) == 0) {
		*device_id = mx_xstrdup(x->c->sess.device_id);
		return MX_TRUST_VERIFIED;	/* this device: ourselves */
	}
	mx_err_clear(&e);
	if (mx_devices_by_curve(&x->c->api, x->c->store, sender,
	    r->sender_key, &d, &e) != 1)
		return MX_TRUST_UNKNOWN;
	t = strcmp(d.ed, r->ed) != 0 ? MX_TRUST_MISMATCH : d.trust;
	*device_id = mx_xstrdup(d.device_id);
	mx_device_release(&d);
	return t;
}

/* Why a session is missing: the withheld notice, else "no key". */
static void
missing(struct mx_e2ee *x, const char *k, json_t *mx)
{
	char *v = NULL;
	json_t *w = NULL;

	if (mx_store_get(x->c->store, "withheld", k, &v, NULL, NULL) > 0)
		w = mx_json_parse(v, strlen(v), NULL);
	free(v);
	if (jstr(w, "code") != NULL) {
		json_object_set_new(mx, "error", json_pack("s+", "withheld: ",
		    jstr(w, "code")));
		json_object_set(mx, "withheld", w);
	} else
		json_object_set_new(mx, "error", json_string("no key"));
	json_decref(w);
}

/* Decrypt ev into o (a copy of it); the verdict goes into mx. */
static void
decrypt(struct mx_e2ee *x, const char *room_id, json_t *o, json_t *mx)
{
	const json_t *c = json_object_get(o, "content");
	const char *sid = jstr(c, "session_id"), *ctb = jstr(c, "ciphertext");
	uint8_t *msg = NULL, *pt = NULL;
	size_t n = 0, ptlen;
	struct inrec r = { 0 };
	json_t *clear = NULL, *rel;
	char *k, *dev = NULL;
	uint32_t idx;
	enum mx_trust t;

	if (sid == NULL || ctb == NULL || jstr(c, "algorithm") == NULL ||
	    strcmp(jstr(c, "algorithm"), MEGOLM_ALG) != 0) {
		json_object_set_new(mx, "error", json_string("unknown "
		    "algorithm"));
		return;
	}
	json_object_set_new(mx, "session_id", json_string(sid));
	k = in_key(room_id, sid);
	if (!in_load(x->c->store, k, &r)) {
		missing(x, k, mx);
		free(k);
		return;
	}
	free(k);
	msg = mx_xmalloc(strlen(ctb) + 1);
	if (mx_b64_dec(msg, strlen(ctb), &n, ctb, strlen(ctb)) != 0) {
		json_object_set_new(mx, "error", json_string("bad base64"));
		goto out;
	}
	pt = mx_xmalloc(mx_megolm_decrypt_max(n) + 1);
	if (mx_megolm_decrypt(r.s, pt, mx_megolm_decrypt_max(n), &ptlen, &idx,
	    msg, n, NULL) != 0) {
		json_object_set_new(mx, "error", json_string("bad signature or "
		    "MAC"));
		goto out;
	}
	json_object_set_new(mx, "index", json_integer(idx));
	clear = mx_json_parse((const char *)pt, ptlen, NULL);
	mx_wipe(pt, ptlen);
	if (!json_is_object(json_object_get(clear, "content")) ||
	    jstr(clear, "type") == NULL) {
		json_object_set_new(mx, "error", json_string("malformed "
		    "plaintext"));
		goto out;
	}
	if (jstr(clear, "room_id") == NULL || strcmp(jstr(clear, "room_id"),
	    room_id) != 0) {
		json_object_set_new(mx, "error", json_string("sent to another "
		    "room"));
		goto out;
	}
	if (replayed(x, sid, idx, jstr(o, "event_id"))) {
		json_object_set_new(mx, "error", json_string("replay: index "
		    "already used by another event"));
		goto out;
	}
	t = sender_trust(x, &r, jstr(o, "sender") ? jstr(o, "sender") : "",
	    &dev);
	json_object_set_new(mx, "decrypted", json_true());
	json_object_set_new(mx, "sender_key", json_string(r.sender_key));
	if (dev != NULL)
		json_object_set_new(mx, "device_id", json_string(dev));
	json_object_set_new(mx, "trust", json_string(mx_trust_name(t)));
	rel = json_object_get(c, "m.relates_to");
	if (rel != NULL && json_object_get(json_object_get(clear, "content"),
	    "m.relates_to") == NULL)
		json_object_set(json_object_get(clear, "content"),
		    "m.relates_to", rel);
	json_object_set(o, "type", json_object_get(clear, "type"));
	json_object_set(o, "content", json_object_get(clear, "content"));
out:
	free(dev);
	json_decref(clear);
	free(pt);
	free(msg);
	inrec_release(&r);
}

json_t *
mx_e2ee_event(struct mx_e2ee *x, const char *room_id, const json_t *ev,
    int raw)
{
	json_t *o = json_copy((json_t *)ev), *mx;

	json_object_set_new(o, "room_id", json_string(room_id));
	if (jstr(ev, "type") == NULL || strcmp(jstr(ev, "type"),
	    "m.room.encrypted") != 0 || json_object_get(ev, "state_key"))
		return o;
	mx = json_pack("{s:b,s:b,s:s?}", "encrypted", 1, "decrypted", 0,
	    "algorithm", jstr(json_object_get(ev, "content"), "algorithm"));
	if (raw)
		json_object_set_new(mx, "raw", json_deep_copy(ev));
	/* content is replaced below: o must not share it with ev. */
	json_object_set_new(o, "content", json_deep_copy(json_object_get(ev,
	    "content")));
	if (x == NULL)
		json_object_set_new(mx, "error", json_string("no keys (no "
		    "profile store)"));
	else
		decrypt(x, room_id, o, mx);
	json_object_set_new(o, "mx", mx);
	return o;
}

int
mx_e2ee_verify_device(struct mx_ctx *c, const char *user,
    const char *device_id, const char *ed, struct mx_err *e)
{
	return mx_devices_verify(&c->api, c->store, user, device_id, ed, e);
}
