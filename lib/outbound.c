/*
 * outbound: this device's Megolm session per room, shared with the
 * members' devices and used to encrypt (spec: Client-Server API, "Sending
 * an encrypted event", "m.megolm.v1.aes-sha2").  mx_e2ee_encrypt (e2ee.h)
 * is implemented here.
 *
 * Store rows: megolm_out/<room>, sealed: the session, when it was made,
 * and who has it.  Each step re-reads it in a transaction; the advanced
 * index is committed durably before the ciphertext leaves the process.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "inbound.h"
#include "json.h"
#include "megolm.h"
#include "msg.h"
#include "pickle.h"
#include "roomstate.h"
#include "store.h"
#include "todevice.h"
#include "util.h"
#include "banned.h"

#define MAX_PLAIN (MX_MSG_PDU_LIMIT)

/* ---- the stored session ------------------------------------------------ */

struct outrec {
	struct mx_megolm_out *s;
	long long created;
	json_t *shared; /* {"user device curve": "S"|"W"|"N"} */
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
	rc = mx_store_get_secret(st, "megolm_out", room_id, &v, &n, e);
	if (rc <= 0)
		return rc;
	mx_pickle_r_init(&r, v, n);
	p = mx_pickle_r_blob(&r, 4096, &len);
	o->created = (long long)mx_pickle_r_u64(&r);
	sh = mx_pickle_r_blob(&r, 1u << 24, &shlen);
	if (mx_pickle_r_ok(&r) &&
	    (o->s = mx_megolm_out_unpickle(p, len, e)) != NULL)
		o->shared = mx_json_parse((const char *)sh, shlen, NULL);
	mx_secure_free(v);
	if (o->s == NULL || !json_is_object(o->shared)) {
		outrec_release(o);
		return mx_err_set(e, MX_LOCAL,
		    "corrupt Megolm session of '%s'", room_id);
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
	return mx_store_put_secret_buf(st, "megolm_out", room_id, &b, e);
}

/* The key of d in a session's "shared" record. */
static char *
dev_key(const struct mx_device *d)
{
	return mx_xasprintf("%s %s %s", d->user_id, d->device_id, d->curve);
}

/* What d's record in o says: "S", "W", "N", or NULL. */
static const char *
shared_as(const struct outrec *o, const struct mx_device *d)
{
	char *dk = dev_key(d);
	const char *v = json_string_value(json_object_get(o->shared, dk));

	free(dk);
	return v;
}

/* ---- who gets the key ------------------------------------------------- */

enum role {
	SKIP,	  /* neither: this device, or keys that changed */
	WITHHOLD, /* the policy excludes it: told the key is withheld */
	SHARE,
};

/* Every device of the room's members, and what each gets. */
struct roster {
	struct mx_devlist l;
	enum role *role;
};

static void
roster_release(struct roster *r)
{
	mx_devlist_release(&r->l);
	free(r->role);
	memset(r, 0, sizeof(*r));
}

static enum role
role_of(struct mx_e2ee *x, const struct mx_device *d, enum mx_e2ee_policy pol)
{
	/* A forged device (self-signature fails) never gets a key, even
	 * should a list that reports them reach here. */
	if (d->forged || d->trust == MX_TRUST_MISMATCH ||
	    (strcmp(d->user_id, x->c->sess.user_id) == 0 &&
		strcmp(d->device_id, x->c->sess.device_id) == 0))
		return SKIP;
	switch (pol) {
	case MX_E2EE_ALL:
		return SHARE;
	case MX_E2EE_VERIFIED:
		return d->trust >= MX_TRUST_CROSS_SIGNED ? SHARE : WITHHOLD;
	case MX_E2EE_TOFU:
		break;
	}
	/* A device its owner's cross-signing did not sign may be one the
	 * server invented (the device-injection attack of Albrecht et al.,
	 * 2022): no key for it (MSC4153). */
	return d->trust >= MX_TRUST_TOFU ? SHARE : WITHHOLD;
}

static int
roster_load(struct mx_e2ee *x, const char *room_id, enum mx_e2ee_policy pol,
    struct roster *r, struct mx_err *e)
{
	const char **users, *u;
	json_t *m = NULL, *v;
	size_t i = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (mx_roomstate_members(x->c, room_id, &m, e) != 0)
		return -1;
	users = mx_xcalloc(json_object_size(m) + 1, sizeof(*users));
	json_object_foreach(m, u, v)
		users[i++] = u;
	rc = mx_devices_get(&x->c->api, x->c->store, users, i, &r->l, e);
	free(users);
	json_decref(m);
	r->role = mx_xcalloc(r->l.n + 1, sizeof(*r->role));
	for (i = 0; i < r->l.n && rc == 0; i++)
		r->role[i] = role_of(x, &r->l.v[i], pol);
	return rc;
}

/* 1 when the session must be replaced (spec: "m.megolm.v1.aes-sha2",
 * rotation; a device that had it and is no recipient any more). */
static int
must_rotate(const struct outrec *o, const json_t *enc, const struct roster *r)
{
	json_int_t msgs =
	    json_integer_value(json_object_get(enc, "rotation_period_msgs"));
	json_int_t ms =
	    json_integer_value(json_object_get(enc, "rotation_period_ms"));
	json_t *now, *v;
	const char *k;
	size_t i;
	int gone = 0;

	if (msgs <= 0)
		msgs = MX_E2EE_ROTATION_MSGS;
	if (ms <= 0)
		ms = MX_E2EE_ROTATION_MS;
	if (mx_megolm_out_index(o->s) >= (uint64_t)msgs ||
	    mx_time_ms() - o->created >= ms)
		return 1;
	now = json_object();
	for (i = 0; i < r->l.n; i++)
		if (r->role[i] == SHARE) {
			char *dk = dev_key(&r->l.v[i]);

			json_object_set_new(now, dk, json_true());
			free(dk);
		}
	json_object_foreach(o->shared, k, v)
		gone |= strcmp(json_string_value(v), "S") == 0 &&
		    json_object_get(now, k) == NULL;
	json_decref(now);
	return gone;
}

/* 1 when every device that should have o's session has it (or no Olm
 * session could be made with it), and every excluded one was told it is
 * withheld. */
static int
all_shared(const struct outrec *o, const struct roster *r)
{
	const char *v;
	size_t i;

	for (i = 0; i < r->l.n; i++) {
		if (r->role[i] == SKIP)
			continue;
		v = shared_as(o, &r->l.v[i]);
		if (v == NULL || (r->role[i] == SHARE && strcmp(v, "W") == 0))
			return 0;
	}
	return 1;
}

/* ---- making and sharing the session ------------------------------------ */

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
	rc = mx_inbound_keep(x->c->store, room_id, o->id, in, x->curve, x->ed,
	    x->c->sess.user_id, e);
	mx_megolm_in_free(in);
	return rc;
}

/* Load the room's session, making a new one when there is none or it
 * must rotate; *o filled. */
static int
ensure_out(struct mx_e2ee *x, const char *room_id, const json_t *enc,
    const struct roster *r, struct outrec *o, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	rc = out_load(st, room_id, o, e);
	if (rc == 1 && must_rotate(o, enc, r)) {
		mx_notice(&x->c->notice, 1,
		    "rotating the Megolm session of '%s'", room_id);
		outrec_release(o);
		rc = 0;
	}
	if (rc == 0) {
		o->s = mx_megolm_out_new();
		o->created = mx_time_ms();
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

/* Who is sent what of one session: its key (keys, each marked sent or
 * not), or a withheld notice (held). */
struct plan {
	struct mx_todevice_target *keys, *held;
	size_t nkeys, nheld;
};

static void
plan_release(struct plan *p)
{
	free(p->keys);
	free(p->held);
	memset(p, 0, sizeof(*p));
}

/* The devices of r still to be sent o's key (none yet, or "W": withheld
 * until now; "N", no Olm session, is tried again with the next session)
 * or told it is withheld (excluded, and not told yet). */
static void
plan_make(const struct outrec *o, const struct roster *r, struct plan *p)
{
	const char *st;
	size_t i;

	p->keys = mx_xcalloc(r->l.n + 1, sizeof(*p->keys));
	p->held = mx_xcalloc(r->l.n + 1, sizeof(*p->held));
	p->nkeys = p->nheld = 0;
	for (i = 0; i < r->l.n; i++) {
		st = shared_as(o, &r->l.v[i]);
		if (r->role[i] == SHARE &&
		    (st == NULL || strcmp(st, "W") == 0))
			p->keys[p->nkeys++].dev = &r->l.v[i];
		else if (r->role[i] == WITHHOLD && st == NULL)
			p->held[p->nheld++].dev = &r->l.v[i];
	}
}

/* The m.room_key of o (spec: "m.room_key"), sent to p's keys. */
static int
send_key(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    struct plan *p, struct mx_err *e)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	char *kb;
	json_t *rk;
	int rc;

	if (p->nkeys == 0)
		return 0;
	mx_megolm_out_session_key(o->s, key);
	kb = mx_b64_encdup(key, sizeof(key));
	mx_wipe(key, sizeof(key));
	rk = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", MX_MEGOLM_ALG,
	    "room_id", room_id, "session_id", o->id, "session_key", kb);
	mx_wipe(kb, strlen(kb));
	free(kb);
	rc = mx_todevice_send_olm(x, p->keys, p->nkeys, "m.room_key", rk, e);
	json_decref(rk);
	return rc;
}

/* An m.room_key.withheld notice of o's session to the n targets t (spec:
 * "Reporting that decryption keys are withheld"). */
static int
withhold(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    const struct mx_todevice_target *t, size_t n, const char *code,
    const char *reason, struct mx_err *e)
{
	json_t *c;
	int rc;

	if (n == 0)
		return 0;
	c = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "algorithm",
	    MX_MEGOLM_ALG, "room_id", room_id, "session_id", o->id,
	    "sender_key", x->curve, "code", code, "reason", reason,
	    "from_device", x->c->sess.device_id);
	rc = mx_todevice_send_clear(x, t, n, "m.room_key.withheld", c, e);
	json_decref(c);
	return rc;
}

/* The targets among p's keys that could not be reached (no Olm session
 * could be made): told m.no_olm. */
static int
withhold_unreached(struct mx_e2ee *x, const char *room_id,
    const struct outrec *o, const struct plan *p, struct mx_err *e)
{
	struct mx_todevice_target *t = mx_xcalloc(p->nkeys + 1, sizeof(*t));
	size_t i, n = 0;
	int rc;

	for (i = 0; i < p->nkeys; i++)
		if (!p->keys[i].sent)
			t[n++].dev = p->keys[i].dev;
	rc = withhold(x, room_id, o, t, n, "m.no_olm",
	    "no one-time key could be claimed", e);
	free(t);
	return rc;
}

/* "S" shared with t, or "N" no Olm session could be made. */
static const char *
shared_mark(const struct mx_todevice_target *t)
{
	return t->sent ? "S" : "N";
}

/* Record in the stored session (if it is still o's) what p did: "S"
 * shared, "N" no Olm session, "W" withheld. */
static int
record(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    const struct plan *p, struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	struct outrec cur;
	size_t i;
	char *dk;
	int rc;

	if (mx_store_begin(st, e) != 0)
		return -1;
	if ((rc = out_load(st, room_id, &cur, e)) == 1 &&
	    strcmp(cur.id, o->id) == 0) {
		for (i = 0; i < p->nkeys + p->nheld; i++) {
			const struct mx_todevice_target *t = i < p->nkeys ?
			    &p->keys[i] :
			    &p->held[i - p->nkeys];

			dk = dev_key(t->dev);
			json_object_set_new(cur.shared, dk,
			    json_string(i >= p->nkeys ? "W" : shared_mark(t)));
			free(dk);
		}
		rc = out_save(st, room_id, &cur, e);
	}
	outrec_release(&cur);
	if (rc < 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* Say on stderr which devices are denied the key for want of their
 * owner's signature (the sign of an injected device), and whose
 * cross-signing identity changed; other withheld devices under -v. */
static void
tell_held(struct mx_e2ee *x, const struct plan *p)
{
	const struct mx_device *d;
	const char *said = "";
	size_t i;

	for (i = 0; i < p->nheld; i++) {
		d = p->held[i].dev;
		if (d->identity_changed && strcmp(said, d->user_id) != 0)
			mx_notice(&x->c->notice, 0,
			    "%s changed cross-signing keys: no room keys to "
			    "the devices the new keys sign until 'mx-keys "
			    "accept %s'",
			    d->user_id, d->user_id);
		if (d->identity_changed)
			said = d->user_id;
		mx_notice(&x->c->notice,
		    d->trust == MX_TRUST_UNVERIFIED ? 0 : 1,
		    "withholding the room key from %s's device %s: %s",
		    d->user_id, d->device_id,
		    d->trust == MX_TRUST_UNVERIFIED ?
			"its owner's cross-signing does not vouch for it" :
			"not verified");
	}
}

/* Share o's session with the devices of r lacking it; withhold it from
 * the excluded ones; record both in the stored session. */
static int
share(struct mx_e2ee *x, const char *room_id, const struct outrec *o,
    const struct roster *r, struct mx_err *e)
{
	struct plan p;
	int rc;

	plan_make(o, r, &p);
	rc = send_key(x, room_id, o, &p, e);
	if (rc == 0)
		rc = withhold(x, room_id, o, p.held, p.nheld, "m.unverified",
		    "the sender does not trust this device", e);
	if (rc == 0)
		tell_held(x, &p);
	if (rc == 0)
		rc = withhold_unreached(x, room_id, o, &p, e);
	if (rc == 0 && p.nkeys + p.nheld > 0)
		rc = record(x, room_id, o, &p, e);
	plan_release(&p);
	return rc;
}

/* ---- encrypting ---------------------------------------------------------- */

/* Encrypt with the stored session if it is still id and fully shared:
 * 1 done (*out), 0 try again, -1 error. */
static int
encrypt_now(struct mx_e2ee *x, const char *room_id, const char *id,
    const struct roster *r, const char *plain, json_t **out, struct mx_err *e)
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
	if (rc == 1 && (strcmp(o.id, id) != 0 || !all_shared(&o, r)))
		rc = 0;
	if (rc == 1 &&
	    (mx_megolm_encrypt(o.s, ct, max, &len, plain, n, e) != 0 ||
		out_save(st, room_id, &o, e) != 0))
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
		    MX_MEGOLM_ALG, "sender_key", x->curve, "device_id",
		    x->c->sess.device_id, "session_id", o.id, "ciphertext",
		    b64);
		free(b64);
	}
	outrec_release(&o);
	free(ct);
	return rc;
}

/* The Megolm plaintext of an event (spec: "m.megolm.v1.aes-sha2": type,
 * content and room_id), or NULL with e when it is too large. */
static char *
megolm_payload(const char *room_id, const char *type, const json_t *content,
    struct mx_err *e)
{
	json_t *p = json_pack("{s:s,s:O,s:s}", "type", type, "content",
	    content, "room_id", room_id);
	char *plain = mx_json_compact(p);

	json_decref(p);
	if (strlen(plain) > MAX_PLAIN) {
		free(plain);
		mx_err_set(e, MX_LOCAL, "message too large to encrypt");
		return NULL;
	}
	return plain;
}

size_t
mx_e2ee_event_size(const struct mx_e2ee *x, const char *room_id,
    const char *sender, const char *type, const json_t *content)
{
	char *plain = megolm_payload(room_id, type, content, NULL), *ct;
	size_t n, b64;
	json_t *env, *rel;

	if (plain == NULL)
		return 0;
	n = mx_megolm_encrypt_len(strlen(plain));
	free(plain);
	b64 = (n * 4 + 2) / 3;
	ct = mx_xmalloc(b64 + 1);
	memset(ct, 'A', b64);
	ct[b64] = '\0';
	/* The envelope encrypt_now builds, a session ID's length of 'A's. */
	env = json_pack("{s:s,s:s,s:s,s:s,s:s}", "algorithm", MX_MEGOLM_ALG,
	    "sender_key", x->curve, "device_id",
	    x->c->sess.device_id ? x->c->sess.device_id : "", "session_id",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "ciphertext", ct);
	free(ct);
	if ((rel = json_object_get(content, "m.relates_to")) != NULL)
		json_object_set(env, "m.relates_to", rel);
	n = mx_msg_event_size(room_id, sender, "m.room.encrypted", env);
	json_decref(env);
	return n;
}

int
mx_e2ee_encrypt(struct mx_e2ee *x, const char *room_id, const json_t *enc,
    enum mx_e2ee_policy pol, const char *type, const json_t *content,
    json_t **out, struct mx_err *e)
{
	struct roster r = { { 0 }, 0 };
	struct outrec o = { 0 };
	char *plain;
	json_t *rel;
	int rc, tries;

	*out = NULL;
	if ((plain = megolm_payload(room_id, type, content, e)) == NULL)
		return -1;
	rc = roster_load(x, room_id, pol, &r, e);
	/* Another process may rotate or advance the session between the
	 * steps; each step re-reads it, and a lost race starts over. */
	for (tries = 0; rc == 0 && tries < 5; tries++) {
		if ((rc = ensure_out(x, room_id, enc, &r, &o, e)) == 0 &&
		    (rc = share(x, room_id, &o, &r, e)) == 0)
			rc = encrypt_now(x, room_id, o.id, &r, plain, out, e);
		outrec_release(&o);
		if (rc == 1)
			break;
	}
	if (rc == 0)
		rc = mx_err_set(e, MX_TEMP,
		    "the Megolm session of '%s' keeps changing under us",
		    room_id);
	mx_wipe(plain, strlen(plain));
	free(plain);
	roster_release(&r);
	if (rc < 0)
		return -1;
	/* Relations stay in the clear so servers can aggregate them (spec:
	 * "m.room.encrypted", "m.relates_to"). */
	if ((rel = json_object_get(content, "m.relates_to")) != NULL)
		json_object_set(*out, "m.relates_to", rel);
	return 0;
}

int
mx_e2ee_send(struct mx_e2ee *x, const char *room_id,
    enum mx_e2ee_policy policy, const char *type, const json_t *content,
    char **event_id, struct mx_err *e)
{
	json_t *enc = NULL, *env = NULL;
	char *txn = mx_msg_txn_new(), *eid = NULL;
	int rc = mx_e2ee_room_encryption(x->c, room_id, &enc, e);

	if (rc > 0 && (rc = mx_e2ee_refresh(x, room_id, e)) == 0 &&
	    (rc = mx_e2ee_encrypt(x, room_id, enc, policy, type, content, &env,
		 e)) == 0)
		rc = mx_api_send(&x->c->api, room_id, "m.room.encrypted", txn,
		    env, &eid, e);
	else if (rc == 0)
		rc = mx_api_send(&x->c->api, room_id, type, txn, content, &eid,
		    e);
	if (rc == 0 && event_id != NULL)
		*event_id = eid;
	else
		free(eid);
	json_decref(enc);
	json_decref(env);
	free(txn);
	return rc != 0 ? -1 : 0;
}
