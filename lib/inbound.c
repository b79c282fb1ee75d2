/*
 * inbound: the Megolm sessions others share with this device (see
 * inbound.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "crypto.h"
#include "inbound.h"
#include "json.h"
#include "pickle.h"
#include "util.h"
#include "banned.h"

static char *
in_key(const char *room_id, const char *sid)
{
	return mx_xasprintf("%s %s", room_id, sid);
}

void
mx_inbound_release(struct mx_inbound *r)
{
	mx_megolm_in_free(r->s);
	free(r->sender_key);
	free(r->ed);
	free(r->sender);
	memset(r, 0, sizeof(*r));
}

int
mx_inbound_load(struct mx_store *st, const char *room_id, const char *sid,
    struct mx_inbound *o, struct mx_err *e)
{
	struct mx_pickle_r r;
	const uint8_t *p, *a, *b, *c;
	size_t n, lp, la, lb, lc;
	char *k = in_key(room_id, sid), *v = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = mx_store_get_secret(st, "megolm_in", k, &v, &n, e);
	free(k);
	if (rc <= 0)
		return rc;
	mx_pickle_r_init(&r, v, n);
	p = mx_pickle_r_blob(&r, 4096, &lp);
	a = mx_pickle_r_blob(&r, 256, &la);
	b = mx_pickle_r_blob(&r, 256, &lb);
	c = mx_pickle_r_blob(&r, 512, &lc);
	if (mx_pickle_r_ok(&r) &&
	    (o->s = mx_megolm_in_unpickle(p, lp, NULL)) != NULL) {
		o->sender_key = mx_xstrndup((const char *)a, la);
		o->ed = mx_xstrndup((const char *)b, lb);
		o->sender = mx_xstrndup((const char *)c, lc);
	}
	mx_secure_free(v);
	return o->s != NULL;
}

/*
 * Whether a new copy in of a stored session old, shared by skey, ed and
 * sender, replaces it: 1 yes, 0 no (the kept one starts as early), -1
 * never (another owner).  A session stays bound to the device that shared
 * it first (spec: "m.megolm.v1.aes-sha2": the sender_key and Ed25519 key
 * of the m.room_key's Olm message); only that device may give an earlier
 * starting point, or anyone could re-bind its messages to another sender.
 */
static int
replaces(const struct mx_inbound *old, const struct mx_megolm_in *in,
    const char *skey, const char *ed, const char *sender)
{
	if (strcmp(old->sender_key, skey) != 0 || strcmp(old->ed, ed) != 0 ||
	    strcmp(old->sender, sender) != 0)
		return -1;
	return mx_megolm_in_first_index(in) < mx_megolm_in_first_index(old->s);
}

int
mx_inbound_keep(struct mx_store *st, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    const char *sender, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT, p = MX_BUF_INIT;
	struct mx_inbound old;
	char *k;
	int rc;

	if ((rc = mx_inbound_load(st, room_id, sid, &old, e)) < 0)
		return -1;
	if (rc > 0) {
		rc = replaces(&old, in, skey, ed, sender);
		mx_inbound_release(&old);
		if (rc <= 0)
			return -rc;
	}
	mx_megolm_in_pickle(in, &p);
	mx_pickle_blob(&b, p.p, p.len);
	mx_buf_release_wipe(&p);
	mx_pickle_blob(&b, skey, strlen(skey));
	mx_pickle_blob(&b, ed, strlen(ed));
	mx_pickle_blob(&b, sender, strlen(sender));
	k = in_key(room_id, sid);
	rc = mx_store_put_secret_buf(st, "megolm_in", k, &b, e);
	if (rc == 0)
		rc = mx_store_del(st, "withheld", k, e);
	free(k);
	return rc;
}

/* The session of an m.room_key content c, when c is well-formed and the
 * session is the one it names; else NULL. */
static struct mx_megolm_in *
room_key_session(const json_t *c)
{
	const char *sid = mx_json_str(c, "session_id");
	const char *kb = mx_json_str(c, "session_key");
	const char *alg = mx_json_str(c, "algorithm");
	uint8_t raw[MX_MEGOLM_SESSION_KEY_LEN + 3];
	struct mx_megolm_in *in = NULL;
	char id[MX_MEGOLM_ID_B64];
	size_t n = 0;

	if (alg != NULL && strcmp(alg, MX_MEGOLM_ALG) == 0 &&
	    mx_json_str(c, "room_id") != NULL && sid != NULL && kb != NULL &&
	    mx_b64_dec(raw, sizeof(raw), &n, kb, strlen(kb)) == 0)
		in = mx_megolm_in_new(raw, n, NULL);
	mx_wipe(raw, sizeof(raw));
	if (in != NULL) {
		mx_megolm_in_id(in, id);
		if (strcmp(id, sid) != 0) {
			mx_megolm_in_free(in);
			in = NULL;
		}
	}
	return in;
}

int
mx_inbound_room_key(struct mx_e2ee *x, const char *sender, const char *skey,
    const json_t *pl, struct mx_err *e)
{
	const json_t *c = json_object_get(pl, "content");
	struct mx_megolm_in *in = room_key_session(c);
	struct mx_store *st = x->c->store;
	int rc;

	if (in == NULL) {
		mx_notice(&x->c->notice, 1,
		    "ignoring a malformed m.room_key from %s", sender);
		return 0;
	}
	if ((rc = mx_store_begin(st, e)) == 0) {
		rc = mx_inbound_keep(st, mx_json_str(c, "room_id"),
		    mx_json_str(c, "session_id"), in, skey,
		    mx_json_str(json_object_get(pl, "keys"), "ed25519"),
		    sender, e);
		if (rc == 1)
			mx_notice(&x->c->notice, 0,
			    "ignoring the copy %s sent of session %s: it is "
			    "another sender's",
			    sender, mx_json_str(c, "session_id"));
		if (rc >= 0)
			rc = mx_store_commit(st, e);
		else
			mx_store_rollback(st);
	}
	mx_megolm_in_free(in);
	return rc;
}

int
mx_inbound_withheld(struct mx_store *st, const json_t *c, struct mx_err *e)
{
	const char *room = mx_json_str(c, "room_id");
	const char *sid = mx_json_str(c, "session_id");
	const char *code = mx_json_str(c, "code");
	json_t *w;
	char *k, *v;
	int rc;

	if (room == NULL || sid == NULL || code == NULL)
		return 0;
	w = json_pack("{s:s,s:s?}", "code", code, "reason",
	    mx_json_str(c, "reason"));
	v = mx_json_compact(w);
	k = in_key(room, sid);
	rc = mx_store_put(st, "withheld", k, v, strlen(v), e);
	free(k);
	free(v);
	json_decref(w);
	return rc;
}

json_t *
mx_inbound_withheld_get(struct mx_store *st, const char *room_id,
    const char *sid)
{
	char *k = in_key(room_id, sid), *v = NULL;
	json_t *w = NULL;

	if (mx_store_get(st, "withheld", k, &v, NULL, NULL) > 0)
		w = mx_json_parse(v, strlen(v), NULL);
	free(v);
	free(k);
	if (mx_json_str(w, "code") == NULL) {
		json_decref(w);
		return NULL;
	}
	return w;
}

int
mx_inbound_replayed(struct mx_store *st, const char *sid, uint32_t idx,
    const char *eid, struct mx_err *e)
{
	char *k = mx_xasprintf("%s %u", sid, (unsigned)idx), *v = NULL;
	int rc;

	if (eid == NULL) {
		free(k);
		return 0;
	}
	rc = mx_store_get(st, "megolm_idx", k, &v, NULL, e);
	if (rc > 0)
		rc = strcmp(v, eid) != 0;
	else if (rc == 0)
		rc = mx_store_put(st, "megolm_idx", k, eid, strlen(eid), e);
	free(v);
	free(k);
	return rc;
}
