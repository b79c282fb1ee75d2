/*
 * inbound: the Megolm sessions others share with this device (see
 * inbound.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

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
	free(r->source);
	memset(r, 0, sizeof(*r));
}

int
mx_inbound_load(struct mx_store *st, const char *room_id, const char *sid,
    struct mx_inbound *o, struct mx_err *e)
{
	struct mx_pickle_r r;
	const uint8_t *p, *a, *b, *c, *d = NULL;
	size_t n, lp, la, lb, lc, ld = 0;
	char *k = in_key(room_id, sid), *v = NULL;
	uint64_t ms = 0;
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
	/* Records written before provenance end here: Olm's. */
	if (!r.bad && r.n > 0) {
		d = mx_pickle_r_blob(&r, 32, &ld);
		ms = mx_pickle_r_u64(&r);
	}
	if (mx_pickle_r_ok(&r) &&
	    (o->s = mx_megolm_in_unpickle(p, lp, NULL)) != NULL) {
		o->sender_key = mx_xstrndup((const char *)a, la);
		o->ed = mx_xstrndup((const char *)b, lb);
		o->sender = mx_xstrndup((const char *)c, lc);
		o->source = d != NULL ? mx_xstrndup((const char *)d, ld) :
					mx_xstrdup(MX_INBOUND_OLM);
		o->received_ms = (long long)ms;
	}
	mx_secure_free(v);
	return o->s != NULL;
}

/* Whether the exports of a and b at index i are the same bytes: a copy
 * starting earlier whose ratchet runs into the held one's (the ratchet is
 * a one-way hash chain, so only the session's owner could make it). */
static int
same_ratchet(const struct mx_megolm_in *a, const struct mx_megolm_in *b,
    uint32_t i)
{
	uint8_t ka[MX_MEGOLM_EXPORT_LEN], kb[MX_MEGOLM_EXPORT_LEN];
	int same;

	same = mx_megolm_in_export(a, i, ka, NULL) == 0 &&
	    mx_megolm_in_export(b, i, kb, NULL) == 0 &&
	    sodium_memcmp(ka, kb, sizeof(ka)) == 0;
	mx_wipe(ka, sizeof(ka));
	mx_wipe(kb, sizeof(kb));
	return same;
}

/*
 * Whether a new copy in of a stored session old, shared by skey, ed and
 * sender from source src, replaces it: 1 yes, 0 no (the kept one starts
 * as early), -1 never (another owner).  A session stays bound to the
 * device that shared it first (spec: "m.megolm.v1.aes-sha2": the
 * sender_key and Ed25519 key of the m.room_key's Olm message); only that
 * device may give an earlier starting point, or anyone could re-bind its
 * messages to another sender.  An imported copy (spec: "Key exports": its
 * keys are only claimed) names no user: it may only extend a held session
 * of the same keys backwards; a copy from Olm replaces an imported one
 * that starts no earlier, or claims other keys.
 */
static int
replaces(const struct mx_inbound *old, const struct mx_megolm_in *in,
    const char *skey, const char *ed, const char *sender, const char *src)
{
	uint32_t fi = mx_megolm_in_first_index(in);
	uint32_t fo = mx_megolm_in_first_index(old->s);
	int keys =
	    strcmp(old->sender_key, skey) == 0 && strcmp(old->ed, ed) == 0;

	/* A copy from a backup is no better proven than an imported one
	 * (spec: "Server-side key backups": anyone holding the public key
	 * can write one). */
	if (strcmp(src, MX_INBOUND_OLM) != 0)
		return !keys ? -1 : fi < fo && same_ratchet(in, old->s, fo);
	if (strcmp(old->source, MX_INBOUND_OLM) != 0)
		return !keys || fi <= fo;
	if (!keys || strcmp(old->sender, sender) != 0)
		return -1;
	return fi < fo;
}

/* Whether new sessions are queued for the key backup. */
static int
queue_is_on(struct mx_store *st)
{
	char *v = NULL;
	int rc = mx_store_get(st, "backup_on", "on", &v, NULL, NULL);

	free(v);
	return rc > 0;
}

static int
put_record(struct mx_store *st, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    const char *sender, const char *src, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT, p = MX_BUF_INIT;
	char *k;
	int rc;

	mx_megolm_in_pickle(in, &p);
	mx_pickle_blob(&b, p.p, p.len);
	mx_buf_release_wipe(&p);
	mx_pickle_blob(&b, skey, strlen(skey));
	mx_pickle_blob(&b, ed, strlen(ed));
	mx_pickle_blob(&b, sender, strlen(sender));
	mx_pickle_blob(&b, src, strlen(src));
	mx_pickle_u64(&b, (uint64_t)mx_time_ms());
	k = in_key(room_id, sid);
	rc = mx_store_put_secret_buf(st, "megolm_in", k, &b, e);
	if (rc == 0)
		rc = mx_store_del(st, "withheld", k, e);
	/* A key that came from the backup is there already. */
	if (rc == 0 && strcmp(src, MX_INBOUND_BACKUP) != 0 && queue_is_on(st))
		rc = mx_store_put(st, "backup_todo", k, "", 0, e);
	free(k);
	return rc;
}

/* Whether the session stored under k came from a backup. */
static int
from_backup(struct mx_store *st, const char *k)
{
	const char *sp = strchr(k, ' ');
	struct mx_inbound r;
	char *room;
	int yes;

	if (sp == NULL)
		return 0;
	room = mx_xstrndup(k, (size_t)(sp - k));
	yes = mx_inbound_load(st, room, sp + 1, &r, NULL) == 1 &&
	    strcmp(r.source, MX_INBOUND_BACKUP) == 0;
	mx_inbound_release(&r);
	free(room);
	return yes;
}

int
mx_inbound_queue_on(struct mx_store *st, int all, struct mx_err *e)
{
	char **keys = NULL;
	long n;
	int rc = mx_store_clear(st, "backup_todo", e);

	if (rc == 0)
		rc = mx_store_put(st, "backup_on", "on", "", 0, e);
	if (rc == 0 && (n = mx_store_keys(st, "megolm_in", "", &keys, e)) < 0)
		rc = -1;
	for (n = 0; rc == 0 && keys[n] != NULL; n++)
		if (all || !from_backup(st, keys[n]))
			rc =
			    mx_store_put(st, "backup_todo", keys[n], "", 0, e);
	mx_store_keys_free(keys);
	return rc;
}

long
mx_inbound_queued(struct mx_store *st, char ***keys, struct mx_err *e)
{
	return mx_store_keys(st, "backup_todo", "", keys, e);
}

int
mx_inbound_unqueue(struct mx_store *st, const char *k, struct mx_err *e)
{
	return mx_store_del(st, "backup_todo", k, e);
}

int
mx_inbound_keep(struct mx_store *st, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    const char *sender, struct mx_err *e)
{
	struct mx_inbound old;
	int rc;

	if ((rc = mx_inbound_load(st, room_id, sid, &old, e)) < 0)
		return -1;
	if (rc > 0) {
		rc = replaces(&old, in, skey, ed, sender, MX_INBOUND_OLM);
		mx_inbound_release(&old);
		if (rc <= 0)
			return -rc;
	}
	return put_record(st, room_id, sid, in, skey, ed, sender,
	    MX_INBOUND_OLM, e);
}

int
mx_inbound_import(struct mx_store *st, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    struct mx_err *e)
{
	return mx_inbound_import_from(st, room_id, sid, in, skey, ed,
	    MX_INBOUND_IMPORTED, e);
}

int
mx_inbound_import_from(struct mx_store *st, const char *room_id,
    const char *sid, const struct mx_megolm_in *in, const char *skey,
    const char *ed, const char *src, struct mx_err *e)
{
	struct mx_inbound old;
	int rc;

	if ((rc = mx_inbound_load(st, room_id, sid, &old, e)) < 0)
		return -1;
	if (rc == 0)
		return put_record(st, room_id, sid, in, skey, ed, "", src,
			   e) == 0 ?
		    MX_INBOUND_NEW :
		    -1;
	rc = replaces(&old, in, skey, ed, "", src);
	/* The earlier start proven by the ratchet, the held binding (its
	 * user, its source) stays. */
	if (rc == 1)
		rc = put_record(st, room_id, sid, in, old.sender_key, old.ed,
			 old.sender, old.source, e) == 0 ?
		    MX_INBOUND_IMPROVED :
		    -1;
	else
		rc = MX_INBOUND_SKIPPED;
	mx_inbound_release(&old);
	return rc;
}

/* in, when it is the session sid names (a key that says another ID is
 * refused); else NULL, in freed. */
struct mx_megolm_in *
mx_inbound_id_checked(struct mx_megolm_in *in, const char *sid)
{
	char id[MX_MEGOLM_ID_B64];

	if (in == NULL)
		return NULL;
	mx_megolm_in_id(in, id);
	if (strcmp(id, sid) == 0)
		return in;
	mx_megolm_in_free(in);
	return NULL;
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
	size_t n = 0;

	if (alg != NULL && strcmp(alg, MX_MEGOLM_ALG) == 0 &&
	    mx_json_str(c, "room_id") != NULL && sid != NULL && kb != NULL &&
	    mx_b64_dec(raw, sizeof(raw), &n, kb, strlen(kb)) == 0)
		in = mx_megolm_in_new(raw, n, NULL);
	mx_wipe(raw, sizeof(raw));
	return mx_inbound_id_checked(in, sid);
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

/* One entry of an export (spec: "Key exports", the SessionData of each
 * session) for the record under store key k ("<room> <sid>"), or NULL
 * when the record is unreadable. */
static json_t *
export_one(struct mx_store *st, const char *k, struct mx_err *e)
{
	const char *sp = strchr(k, ' ');
	uint8_t key[MX_MEGOLM_EXPORT_LEN];
	struct mx_inbound r;
	json_t *j = NULL;
	char *room, *kb;

	if (sp == NULL)
		return NULL;
	room = mx_xstrndup(k, (size_t)(sp - k));
	if (mx_inbound_load(st, room, sp + 1, &r, e) == 1 &&
	    mx_megolm_in_export(r.s, mx_megolm_in_first_index(r.s), key,
		NULL) == 0) {
		kb = mx_b64_encdup(key, sizeof(key));
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:[]}",
		    "algorithm", MX_MEGOLM_ALG, "room_id", room, "sender_key",
		    r.sender_key, "session_id", sp + 1, "session_key", kb,
		    "sender_claimed_keys", "ed25519", r.ed,
		    "forwarding_curve25519_key_chain");
		mx_wipe(kb, strlen(kb));
		free(kb);
	}
	mx_wipe(key, sizeof(key));
	mx_inbound_release(&r);
	free(room);
	return j;
}

int
mx_inbound_export(struct mx_store *st, const char *room_id, json_t *out,
    struct mx_err *e)
{
	char **keys, *prefix;
	json_t *j;
	long n;
	size_t i;

	prefix = room_id ? mx_xasprintf("%s ", room_id) : mx_xstrdup("");
	n = mx_store_keys(st, "megolm_in", prefix, &keys, e);
	free(prefix);
	if (n < 0)
		return -1;
	for (i = 0; keys[i] != NULL; i++)
		if ((j = export_one(st, keys[i], e)) != NULL)
			json_array_append_new(out, j);
	mx_store_keys_free(keys);
	return e->status == MX_OK ? 0 : -1;
}

/* The session of an export entry s, checked to be the one it names, or
 * NULL. */
static struct mx_megolm_in *
import_session(const json_t *s)
{
	const char *kb = mx_json_str(s, "session_key");
	const char *sid = mx_json_str(s, "session_id");
	uint8_t raw[MX_MEGOLM_EXPORT_LEN + 3];
	struct mx_megolm_in *in = NULL;
	size_t n = 0;

	if (kb != NULL && sid != NULL &&
	    mx_b64_dec(raw, sizeof(raw), &n, kb, strlen(kb)) == 0)
		in = mx_megolm_in_import(raw, n, NULL);
	mx_wipe(raw, sizeof(raw));
	return mx_inbound_id_checked(in, sid);
}

int
mx_inbound_import_one(struct mx_store *st, const json_t *s, struct mx_err *e)
{
	struct mx_megolm_in *in;
	const char *alg, *room, *skey, *ed;
	int rc;

	alg = mx_json_str(s, "algorithm");
	room = mx_json_str(s, "room_id");
	skey = mx_json_str(s, "sender_key");
	ed = mx_json_str(json_object_get(s, "sender_claimed_keys"), "ed25519");
	in = alg && strcmp(alg, MX_MEGOLM_ALG) == 0 && room && skey && ed ?
	    import_session(s) :
	    NULL;
	if (in == NULL)
		return MX_INBOUND_SKIPPED;
	rc = mx_inbound_import(st, room, mx_json_str(s, "session_id"), in,
	    skey, ed, e);
	mx_megolm_in_free(in);
	return rc;
}

int
mx_inbound_import_all(struct mx_store *st, const json_t *arr, size_t count[3],
    struct mx_err *e)
{
	const json_t *s;
	size_t i;
	int rc = 0;

	count[0] = count[1] = count[2] = 0;
	if (!json_is_array(arr))
		return mx_err_set(e, MX_LOCAL, "the export is not a list");
	if (mx_store_begin(st, e) != 0)
		return -1;
	json_array_foreach(arr, i, s) {
		if ((rc = mx_inbound_import_one(st, s, e)) < 0)
			break;
		count[rc]++;
	}
	if (rc < 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}
