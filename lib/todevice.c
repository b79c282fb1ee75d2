/*
 * todevice: to-device messages, in the clear and through Olm (see
 * todevice.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "b64.h"
#include "crypto.h"
#include "json.h"
#include "msg.h"
#include "pickle.h"
#include "signjson.h"
#include "store.h"
#include "todevice.h"
#include "util.h"
#include "banned.h"

#define OLM_KEEP 4 /* sessions kept per device (spec: >= 4) */

/* ---- the stored sessions with one device ----------------------------- */

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
		if (p != NULL &&
		    (o->s[o->n] = mx_olm_session_unpickle(p, len, e)) != NULL)
			o->n++;
		else
			r.bad = 1;
	}
	rc = mx_pickle_r_ok(&r) ?
	    0 :
	    mx_err_set(e, MX_LOCAL, "corrupt Olm sessions for %s", curve);
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
	return mx_store_put_secret_buf(st, "olm", curve, &b, e);
}

/* ---- sending ------------------------------------------------------------ */

/* map[user][device] = v (stolen). */
static void
put_dev(json_t *map, const struct mx_device *d, json_t *v)
{
	json_t *u = json_object_get(map, d->user_id);

	if (u == NULL) {
		u = json_object();
		json_object_set_new(map, d->user_id, u);
	}
	json_object_set_new(u, d->device_id, v);
}

/* One sendToDevice of msgs under a new transaction id. */
static int
send_msgs(struct mx_e2ee *x, const char *type, const json_t *msgs,
    struct mx_err *e)
{
	char *txn = mx_msg_txn_new();
	int rc = mx_api_send_to_device(&x->c->api, type, txn, msgs, e);

	free(txn);
	return rc;
}

int
mx_todevice_send_clear(struct mx_e2ee *x, const struct mx_todevice_target *t,
    size_t n, const char *type, const json_t *content, struct mx_err *e)
{
	json_t *msgs = json_object();
	size_t i;
	int rc;

	if (n == 0) {
		json_decref(msgs);
		return 0;
	}
	for (i = 0; i < n; i++)
		put_dev(msgs, t[i].dev, json_deep_copy(content));
	rc = send_msgs(x, type, msgs, e);
	json_decref(msgs);
	return rc;
}

/* An Olm session with d from the one-time keys claimed for it (keys: the
 * claim answer's {key_id: key object}), or NULL: a key whose signature
 * does not verify is not used. */
static struct mx_olm_session *
session_from_claim(struct mx_e2ee *x, const struct mx_device *d,
    const json_t *keys)
{
	uint8_t ed[32], curve[32], otk[32];
	const char *kid, *kb;
	const json_t *k;

	if (mx_b64_dec_exact(ed, 32, d->ed) != 0 ||
	    mx_b64_dec_exact(curve, 32, d->curve) != 0)
		return NULL;
	json_object_foreach((json_t *)keys, kid, k) {
		kb = mx_json_str(k, "key");
		if (!mx_startswith(kid, "signed_curve25519:") || kb == NULL ||
		    mx_b64_dec_exact(otk, 32, kb) != 0 ||
		    mx_signjson_verify(k, d->user_id, d->device_id, ed,
			NULL) != 0)
			continue;
		return mx_olm_session_new_outbound(x->acct, curve, otk, NULL);
	}
	return NULL;
}

/* Claim one-time keys for the targets without a stored session and start
 * sessions with them: fresh[i] gets each new one. */
static int
claim(struct mx_e2ee *x, const struct mx_todevice_target *t, size_t n,
    struct mx_olm_session **fresh, struct mx_err *e)
{
	json_t *q = json_object(), *body, *r = NULL, *got;
	int *need = mx_xcalloc(n + 1, sizeof(*need));
	struct olmset o = { { 0 }, 0 };
	size_t i, nq = 0;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		rc = olm_load(x->c->store, t[i].dev->curve, &o, e);
		if (rc == 0 && o.n == 0) {
			put_dev(q, t[i].dev, json_string("signed_curve25519"));
			need[i] = 1;
			nq++;
		}
	}
	olmset_release(&o);
	body = json_pack("{s:o,s:i}", "one_time_keys", q, "timeout", 10000);
	if (rc == 0 && nq > 0)
		rc = mx_api_keys_claim(&x->c->api, body, &r, e);
	json_decref(body);
	got = json_object_get(r, "one_time_keys");
	for (i = 0; i < n && rc == 0; i++)
		if (need[i])
			fresh[i] = session_from_claim(x, t[i].dev,
			    json_object_get(json_object_get(got,
						t[i].dev->user_id),
				t[i].dev->device_id));
	json_decref(r);
	free(need);
	return rc;
}

/* The Olm plaintext of an event for device d (spec: "m.olm.v1...":
 * sender, recipient and both devices' keys, against unknown key share). */
static char *
olm_payload(struct mx_e2ee *x, const struct mx_device *d, const char *type,
    const json_t *content)
{
	json_t *p = json_pack("{s:s,s:O,s:s,s:s,s:{s:s},s:s,s:{s:s}}", "type",
	    type, "content", content, "sender", x->c->sess.user_id,
	    "sender_device", x->c->sess.device_id, "keys", "ed25519", x->ed,
	    "recipient", d->user_id, "recipient_keys", "ed25519", d->ed);
	char *s = mx_json_compact(p);

	json_decref(p);
	return s;
}

/* The m.room.encrypted envelope of the event for d, through session s. */
static json_t *
olm_envelope(struct mx_e2ee *x, struct mx_olm_session *s,
    const struct mx_device *d, const char *type, const json_t *content,
    struct mx_err *e)
{
	char *plain = olm_payload(x, d, type, content), *b64;
	size_t n = strlen(plain), max = mx_olm_encrypt_len(s, n), len;
	uint8_t *out = mx_xmalloc(max);
	json_t *env = NULL;
	int mtype;

	if (mx_olm_encrypt(s, &mtype, out, max, &len, plain, n, e) == 0) {
		b64 = mx_b64_encdup(out, len);
		env = json_pack("{s:s,s:s,s:{s:{s:i,s:s}}}", "algorithm",
		    MX_OLM_ALG, "sender_key", x->curve, "ciphertext", d->curve,
		    "type", mtype, "body", b64);
		free(b64);
	}
	mx_wipe(plain, n);
	free(plain);
	free(out);
	return env;
}

/* Encrypt for each target into msgs, in one transaction: each device's
 * sessions are re-read under the lock, advanced and saved, durably (like
 * a Megolm index: a ratchet state lost in a crash after its ciphertext
 * left would encrypt the next message with the same keys). */
static int
encrypt_all(struct mx_e2ee *x, struct mx_todevice_target *t, size_t n,
    struct mx_olm_session **fresh, const char *type, const json_t *content,
    json_t *msgs, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	struct olmset o = { { 0 }, 0 };
	json_t *env;
	size_t i;
	int rc;

	if ((rc = mx_store_begin_durable(st, e)) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = olm_load(st, t[i].dev->curve, &o, e)) != 0)
			break;
		if (fresh[i] != NULL) {
			olmset_front(&o, fresh[i]);
			fresh[i] = NULL;
		}
		if (o.n > 0 &&
		    (env = olm_envelope(x, o.s[0], t[i].dev, type, content,
			 e)) == NULL)
			rc = -1;
		else if (o.n > 0) {
			put_dev(msgs, t[i].dev, env);
			rc = olm_save(st, t[i].dev->curve, &o, e);
			t[i].sent = rc == 0;
		}
		olmset_release(&o);
	}
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

int
mx_todevice_send_olm(struct mx_e2ee *x, struct mx_todevice_target *t, size_t n,
    const char *type, const json_t *content, struct mx_err *e)
{
	struct mx_olm_session **fresh = mx_xcalloc(n + 1, sizeof(*fresh));
	json_t *msgs = json_object();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		t[i].sent = 0;
	rc = claim(x, t, n, fresh, e);
	if (rc == 0)
		rc = encrypt_all(x, t, n, fresh, type, content, msgs, e);
	if (rc == 0 && json_object_size(msgs) > 0)
		rc = send_msgs(x, "m.room.encrypted", msgs, e);
	for (i = 0; i < n; i++)
		mx_olm_session_free(fresh[i]);
	free(fresh);
	json_decref(msgs);
	return rc;
}

/* ---- receiving ---------------------------------------------------------- */

/* An incoming Olm message: its type, the sender's Curve25519 key and the
 * decoded body (msg, n; caller frees). */
struct olm_in {
	int type;
	uint8_t their[32];
	const char *skey;
	uint8_t *msg;
	size_t n;
};

/* Take the part of envelope c that is for this device. */
static int
olm_in_parse(struct mx_e2ee *x, const json_t *c, struct olm_in *m,
    struct mx_err *e)
{
	const json_t *mine =
	    json_object_get(json_object_get(c, "ciphertext"), x->curve);
	const char *body = mx_json_str(mine, "body");

	m->msg = NULL;
	m->skey = mx_json_str(c, "sender_key");
	m->type = (int)json_integer_value(json_object_get(mine, "type"));
	if (m->skey == NULL || body == NULL ||
	    (m->type != 0 && m->type != 1) ||
	    mx_b64_dec_exact(m->their, 32, m->skey) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "not an Olm message for this device");
	m->msg = mx_xmalloc(strlen(body) + 1);
	if (mx_b64_dec(m->msg, strlen(body), &m->n, body, strlen(body)) != 0)
		return mx_err_set(e, MX_LOCAL, "bad base64 in an Olm message");
	return 0;
}

/*
 * Decrypt m with the stored sessions: 1 done (the session moved to the
 * front), 0 none of them is the message's (a pre-key message may start a
 * new one), -1 the pre-key message's own session failed (it may not).
 */
static int
try_sessions(struct olmset *o, const struct olm_in *m, uint8_t *out,
    size_t *outlen)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (m->type == 0 &&
		    !mx_olm_session_matches_from(o->s[i], m->their, m->msg,
			m->n))
			continue;
		if (mx_olm_decrypt(o->s[i], m->type, m->msg, m->n, out, m->n,
			outlen, NULL) == 0) {
			olmset_front(o, o->s[i]);
			return 1;
		}
		if (m->type == 0)
			return -1;
	}
	return 0;
}

/* A new inbound session from pre-key message m: kept in o, its one-time
 * key removed from the saved account, once m decrypted. */
static int
new_session(struct mx_e2ee *x, struct olmset *o, const struct olm_in *m,
    uint8_t *out, size_t *outlen, struct mx_err *e)
{
	struct mx_olm_session *s =
	    mx_olm_session_new_inbound(x->acct, m->their, m->msg, m->n, e);

	if (s == NULL)
		return -1;
	if (mx_olm_decrypt(s, m->type, m->msg, m->n, out, m->n, outlen, e)) {
		mx_olm_session_free(s);
		return -1;
	}
	(void)mx_olm_account_remove_otk(x->acct, s, NULL);
	olmset_front(o, s);
	return mx_account_save(x, e);
}

/* Decrypt m in one transaction (account and sessions re-read under the
 * lock): the plaintext in out, *outlen bytes. */
static int
olm_in_decrypt(struct mx_e2ee *x, const struct olm_in *m, uint8_t *out,
    size_t *outlen, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	struct olmset o = { { 0 }, 0 };
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	rc = mx_account_load(x, e) < 0 ? -1 : olm_load(st, m->skey, &o, e);
	if (rc == 0)
		rc = try_sessions(&o, m, out, outlen);
	if (rc == 0 && m->type == 0)
		rc = new_session(x, &o, m, out, outlen, e) == 0 ? 1 : -1;
	if (rc <= 0 && e != NULL && e->status == MX_OK)
		mx_err_set(e, MX_LOCAL, "no Olm session decrypts it");
	rc = rc == 1 && olm_save(st, m->skey, &o, e) == 0 ? 0 : -1;
	olmset_release(&o);
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* The checks on a decrypted Olm payload (spec: "Validation of incoming
 * decrypted events"): 0, or -1 with e. */
static int
olm_check(struct mx_e2ee *x, const char *sender, const json_t *pl,
    struct mx_err *e)
{
	const char *ed = mx_json_str(json_object_get(pl, "recipient_keys"),
		       "ed25519"),
		   *s = mx_json_str(pl, "sender");
	const char *r = mx_json_str(pl, "recipient");

	if (!json_is_object(pl) ||
	    !json_is_object(json_object_get(pl, "content")) ||
	    mx_json_str(pl, "type") == NULL)
		return mx_err_set(e, MX_LOCAL, "malformed Olm payload");
	if (s == NULL || strcmp(s, sender) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "Olm payload of another sender");
	if (r == NULL || strcmp(r, x->c->sess.user_id) != 0 || ed == NULL ||
	    strcmp(ed, x->ed) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "Olm payload for another recipient");
	if (mx_json_str(json_object_get(pl, "keys"), "ed25519") == NULL)
		return mx_err_set(e, MX_LOCAL, "Olm payload without keys");
	return 0;
}

int
mx_todevice_decrypt(struct mx_e2ee *x, const char *sender, const json_t *c,
    json_t **payload, struct mx_err *e)
{
	struct olm_in m;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int rc;

	*payload = NULL;
	rc = olm_in_parse(x, c, &m, e);
	if (rc == 0) {
		out = mx_xmalloc(m.n + 1);
		rc = olm_in_decrypt(x, &m, out, &outlen, e);
	}
	if (rc == 0 &&
	    (*payload = mx_json_parse((const char *)out, outlen, e)) == NULL)
		rc = -1;
	if (rc == 0 && (rc = olm_check(x, sender, *payload, e)) != 0) {
		json_decref(*payload);
		*payload = NULL;
	}
	if (out != NULL)
		mx_wipe(out, m.n + 1);
	free(out);
	free(m.msg);
	return rc;
}
