/*
 * keybackup: the server-side key backup and its key in secret storage
 * (see keybackup.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "b64.h"
#include "backup.h"
#include "crypto.h"
#include "inbound.h"
#include "json.h"
#include "keybackup.h"
#include "megolm.h"
#include "signjson.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

int
mx_keybackup_key_matches(const json_t *info, const uint8_t priv[32])
{
	const char *pk =
	    mx_json_str(json_object_get(info, "auth_data"), "public_key");
	uint8_t want[MX_X25519_LEN], have[MX_X25519_LEN];
	int same;

	/* The public key is the backup's (spec: "Server-side key backups",
	 * auth_data of m.megolm_backup.v1.curve25519-aes-sha2). */
	if (pk == NULL || mx_b64_dec_exact(want, sizeof(want), pk) != 0)
		return 0;
	mx_x25519_pub(have, priv);
	same = mx_ct_eq(have, want, sizeof(have));
	mx_wipe(have, sizeof(have));
	return same;
}

int
mx_keybackup_from_ssss(struct mx_api *a, const char *user, const char *key_id,
    const uint8_t key[32], uint8_t priv[32], struct mx_err *e)
{
	return mx_secrets_get32(a, user, MX_KEYBACKUP_SECRET, "backup key",
	    key_id, key, priv, e);
}

int
mx_keybackup_to_ssss(struct mx_api *a, const char *user, const char *key_id,
    const uint8_t key[32], const uint8_t priv[32], struct mx_err *e)
{
	return mx_secrets_put32(a, user, MX_KEYBACKUP_SECRET, "backup key",
	    key_id, key, priv, e);
}

/* --- restore -------------------------------------------------------------- */

/* Wipe the string member k of o (a session key inside parsed JSON). */
static void
wipe_member(json_t *o, const char *k)
{
	json_t *t = json_object_get(o, k);

	if (json_is_string(t))
		mx_wipe((char *)json_string_value(t), json_string_length(t));
}

/* The session in a decrypted BackedUpSessionData d for sid, checked to be
 * the one it is filed under; NULL with *why. */
static struct mx_megolm_in *
backed_up_session(const json_t *d, const char *sid, const char **why)
{
	const char *alg = mx_json_str(d, "algorithm");
	const char *kb = mx_json_str(d, "session_key");
	uint8_t raw[MX_MEGOLM_EXPORT_LEN + 3];
	struct mx_megolm_in *in = NULL;
	size_t n = 0;

	*why = "malformed session data";
	if (alg == NULL || strcmp(alg, MX_MEGOLM_ALG) != 0 || kb == NULL ||
	    mx_json_str(d, "sender_key") == NULL ||
	    mx_json_str(json_object_get(d, "sender_claimed_keys"),
		"ed25519") == NULL)
		return NULL;
	if (mx_b64_dec(raw, sizeof(raw), &n, kb, strlen(kb)) == 0)
		in = mx_megolm_in_import(raw, n, NULL);
	mx_wipe(raw, sizeof(raw));
	if (in == NULL)
		return NULL;
	/* The server files each record under a session ID it chooses: a
	 * key for another session must not land there. */
	*why = "the key is not the session it is filed under";
	return mx_inbound_id_checked(in, sid);
}

/* One KeyBackupData kbd of room's sid: a MX_KEYBACKUP_* count, -1 with
 * e when the store fails; *why for a rejected one. */
static int
restore_one(struct mx_store *st, const char *room, const char *sid,
    const json_t *kbd, const uint8_t priv[32], const char **why,
    struct mx_err *e)
{
	struct mx_megolm_in *in = NULL;
	struct mx_err le;
	json_t *d = NULL;
	char *plain;
	size_t n = 0;
	int rc = MX_KEYBACKUP_REJECTED;

	mx_err_clear(&le);
	*why = "does not decrypt (wrong key, or damaged)";
	plain = mx_backup_decrypt(json_object_get(kbd, "session_data"), priv,
	    &n, &le);
	if (plain == NULL)
		return rc;
	d = mx_json_parse(plain, n, NULL);
	mx_wipe(plain, n);
	free(plain);
	if (!json_is_object(d))
		*why = "malformed session data";
	else if ((in = backed_up_session(d, sid, why)) != NULL) {
		rc = mx_inbound_import_from(st, room, sid, in,
		    mx_json_str(d, "sender_key"),
		    mx_json_str(json_object_get(d, "sender_claimed_keys"),
			"ed25519"),
		    MX_INBOUND_BACKUP, e);
		rc = rc == MX_INBOUND_NEW     ? MX_KEYBACKUP_NEW :
		    rc == MX_INBOUND_IMPROVED ? MX_KEYBACKUP_IMPROVED :
		    rc == MX_INBOUND_SKIPPED  ? MX_KEYBACKUP_SKIPPED :
						-1;
	}
	mx_megolm_in_free(in);
	wipe_member(d, "session_key");
	json_decref(d);
	return rc;
}

int
mx_keybackup_restore(struct mx_store *st, const json_t *keys,
    const uint8_t priv[32], size_t count[MX_KEYBACKUP_NCOUNT], json_t *rejects,
    struct mx_err *e)
{
	const json_t *r, *s;
	const char *room, *sid, *why;
	int rc = 0, k;

	memset(count, 0, MX_KEYBACKUP_NCOUNT * sizeof(count[0]));
	if (mx_store_begin(st, e) != 0)
		return -1;
	json_object_foreach((json_t *)json_object_get(keys, "rooms"), room,
	    r) {
		json_object_foreach((json_t *)json_object_get(r, "sessions"),
		    sid, s) {
			k = restore_one(st, room, sid, s, priv, &why, e);
			if (k < 0) {
				rc = -1;
				break;
			}
			count[k]++;
			if (k == MX_KEYBACKUP_REJECTED)
				json_array_append_new(rejects,
				    json_pack("{s:s,s:s,s:s}", "room_id", room,
					"session_id", sid, "reason", why));
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

/* --- trust ---------------------------------------------------------------- */

/* The judgement of one signature of user on auth by the key id (after
 * "ed25519:"). */
static json_t *
judge(const json_t *auth, const char *user, const char *id,
    const struct mx_devlist *l, const char *own_device, const char *own_ed)
{
	uint8_t pub[MX_ED25519_PUB_LEN];
	const char *signer = "unknown", *key = NULL;
	int trusted = 0, valid = 0;
	struct mx_err le;
	size_t i;

	for (i = 0; i < l->n && key == NULL; i++) {
		const struct mx_device *d = &l->v[i];

		if (strcmp(d->user_id, user) != 0 || d->forged)
			continue;
		if (strcmp(d->device_id, id) == 0) {
			signer = "device";
			key = d->ed;
			trusted = d->trust == MX_TRUST_VERIFIED ||
			    d->trust == MX_TRUST_CROSS_SIGNED ||
			    (own_device != NULL &&
				strcmp(id, own_device) == 0 &&
				strcmp(d->ed, own_ed) == 0);
		} else if (d->master[0] != '\0' &&
		    strcmp(d->master, id) == 0) {
			/* spec: "Cross-signing": the key ID of a master key
			 * is its public key; only the pinned one counts. */
			signer = "master";
			key = d->master;
			trusted = d->master_verified;
		}
	}
	mx_err_clear(&le);
	valid = key != NULL && mx_b64_dec_exact(pub, sizeof(pub), key) == 0 &&
	    mx_signjson_verify(auth, user, id, pub, &le) == 0;
	return json_pack("{s:s+,s:s,s:b,s:b}", "key", "ed25519:", id, "signer",
	    signer, "valid", valid, "trusted", valid && trusted);
}

json_t *
mx_keybackup_signatures(const json_t *info, const char *user,
    const struct mx_devlist *l, const char *own_device, const char *own_ed)
{
	const json_t *auth = json_object_get(info, "auth_data");
	json_t *out = json_array(), *sig;
	const char *kid;

	/* spec: "Server-side key backups": auth_data.signatures, checked as
	 * any signed JSON (Synapse stores it unchecked). */
	json_object_foreach(json_object_get(json_object_get(auth,
						"signatures"),
				user),
	    kid, sig) {
		if (strncmp(kid, "ed25519:", 8) != 0 || kid[8] == '\0')
			continue;
		json_array_append_new(out,
		    judge(auth, user, kid + 8, l, own_device, own_ed));
	}
	return out;
}

/* --- upload --------------------------------------------------------------- */

static int current(struct mx_store *st, char **version,
    uint8_t pub[MX_X25519_LEN], struct mx_err *e);

#define FLUSH_BATCH 256

int
mx_keybackup_enable(struct mx_store *st, const char *version,
    const char *pub64, int all, struct mx_err *e)
{
	char *cj;
	json_t *cur;
	int rc;

	cur = json_pack("{s:s,s:s}", "version", version, "public_key", pub64);
	cj = mx_json_compact(cur);
	json_decref(cur);
	if (mx_store_begin(st, e) != 0) {
		free(cj);
		return -1;
	}
	rc = mx_store_put(st, "keybackup", "current", cj, strlen(cj), e);
	free(cj);
	if (rc == 0)
		rc = mx_inbound_queue_on(st, all, e);
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

int
mx_keybackup_uploads_to(struct mx_store *st, const char *version)
{
	uint8_t pub[MX_X25519_LEN];
	char *v = NULL;
	int same;

	same = current(st, &v, pub, NULL) == 1 && strcmp(v, version) == 0;
	free(v);
	return same;
}

int
mx_keybackup_create(struct mx_e2ee *x, uint8_t priv[32], char **version,
    struct mx_err *e)
{
	struct mx_store *st = x->c->store;
	uint8_t pub[MX_X25519_LEN];
	char pub64[48];
	json_t *auth, *body = NULL;
	char *v = NULL;
	int rc = -1;

	/* spec: "Server-side key backups": auth_data {"public_key"}, signed
	 * by the device (the key to trust the backup by). */
	mx_x25519_keypair(pub, priv);
	auth = json_pack("{s:s}", "public_key",
	    mx_b64_enc(pub64, pub, sizeof(pub)));
	if (mx_account_sign(x, auth, e) != 0) {
		json_decref(auth);
		return -1;
	}
	body = json_pack("{s:s,s:o}", "algorithm", MX_KEYBACKUP_ALG,
	    "auth_data", auth);
	if (mx_api_backup_create(&x->c->api, body, &v, e) != 0) {
		mx_err_prefix(e, "cannot create a key backup");
		goto out;
	}
	rc = mx_keybackup_enable(st, v, pub64, 1, e);
out:
	if (rc == 0)
		*version = v;
	else
		free(v);
	json_decref(body);
	return rc;
}

/* The profile's backup: 1 and *version (caller frees) and pub, 0 none. */
static int
current(struct mx_store *st, char **version, uint8_t pub[MX_X25519_LEN],
    struct mx_err *e)
{
	char *v = NULL;
	json_t *j;
	int rc = mx_store_get(st, "keybackup", "current", &v, NULL, e);

	if (rc <= 0)
		return rc;
	j = mx_json_parse(v, strlen(v), NULL);
	free(v);
	rc = mx_json_str(j, "version") != NULL &&
	    mx_json_str(j, "public_key") != NULL &&
	    mx_b64_dec_exact(pub, MX_X25519_LEN,
		mx_json_str(j, "public_key")) == 0;
	if (rc)
		*version = mx_xstrdup(mx_json_str(j, "version"));
	json_decref(j);
	return rc;
}

/* The KeyBackupData of the session stored under k, or NULL. */
static json_t *
backup_record(struct mx_store *st, const char *k, const char *room,
    const char *sid, const uint8_t pub[MX_X25519_LEN], struct mx_err *e)
{
	uint8_t key[MX_MEGOLM_EXPORT_LEN];
	struct mx_inbound r;
	json_t *d, *sd = NULL, *out = NULL;
	char *kb, *plain;
	uint32_t fi;

	(void)k;
	if (mx_inbound_load(st, room, sid, &r, e) != 1)
		return NULL;
	fi = mx_megolm_in_first_index(r.s);
	if (mx_megolm_in_export(r.s, fi, key, NULL) == 0) {
		/* spec: "Server-side key backups", BackedUpSessionData. */
		kb = mx_b64_encdup(key, sizeof(key));
		d = json_pack("{s:s,s:s,s:s,s:{s:s},s:[]}", "algorithm",
		    MX_MEGOLM_ALG, "sender_key", r.sender_key, "session_key",
		    kb, "sender_claimed_keys", "ed25519", r.ed,
		    "forwarding_curve25519_key_chain");
		plain = mx_json_compact(d);
		sd = mx_backup_encrypt(pub, plain, strlen(plain), e);
		mx_wipe(plain, strlen(plain));
		free(plain);
		wipe_member(d, "session_key");
		json_decref(d);
		mx_wipe(kb, strlen(kb));
		free(kb);
	}
	mx_wipe(key, sizeof(key));
	/* Nothing vouched for here: the server prefers verified copies. */
	if (sd != NULL)
		out = json_pack("{s:I,s:i,s:b,s:o}", "first_message_index",
		    (json_int_t)fi, "forwarded_count", 0, "is_verified", 0,
		    "session_data", sd);
	mx_inbound_release(&r);
	return out;
}

/* Upload the sessions keys[0..n) to version; their marks removed. */
static int
flush_batch(struct mx_api *a, struct mx_store *st, const char *version,
    const uint8_t pub[MX_X25519_LEN], char **keys, size_t n, size_t *done,
    struct mx_err *e)
{
	json_t *rooms = json_object(), *body, *rec, *room;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const char *sp = strchr(keys[i], ' ');
		char *rid;

		if (sp == NULL)
			continue;
		rid = mx_xstrndup(keys[i], (size_t)(sp - keys[i]));
		rec = backup_record(st, keys[i], rid, sp + 1, pub, e);
		if (rec == NULL && e->status != MX_OK)
			rc = -1;
		if (rec != NULL) {
			if ((room = json_object_get(rooms, rid)) == NULL) {
				room = json_pack("{s:{}}", "sessions");
				json_object_set_new(rooms, rid, room);
			}
			json_object_set_new(json_object_get(room, "sessions"),
			    sp + 1, rec);
			(*done)++;
		}
		free(rid);
	}
	body = json_pack("{s:o}", "rooms", rooms);
	if (rc == 0 && json_object_size(rooms) > 0 &&
	    mx_api_backup_put_keys(a, version, body, e) != 0)
		rc = mx_err_prefix(e, "cannot upload room keys to backup %s",
		    version);
	json_decref(body);
	if (rc != 0 || mx_store_begin(st, e) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = mx_inbound_unqueue(st, keys[i], e);
	if (rc != 0) {
		mx_store_rollback(st);
		return -1;
	}
	return mx_store_commit(st, e);
}

int
mx_keybackup_flush(struct mx_api *a, struct mx_store *st, size_t *n,
    struct mx_err *e)
{
	uint8_t pub[MX_X25519_LEN];
	char *version = NULL, **keys = NULL;
	size_t done = 0, i, k;
	long cnt;
	int rc;

	if ((rc = current(st, &version, pub, e)) <= 0)
		goto out;
	if ((cnt = mx_inbound_queued(st, &keys, e)) < 0) {
		rc = -1;
		goto out;
	}
	rc = 0;
	for (i = 0; i < (size_t)cnt && rc == 0; i += k) {
		k = (size_t)cnt - i < FLUSH_BATCH ? (size_t)cnt - i :
						    FLUSH_BATCH;
		rc = flush_batch(a, st, version, pub, keys + i, k, &done, e);
	}
	mx_store_keys_free(keys);
out:
	if (n != NULL)
		*n = done;
	free(version);
	return rc < 0 ? -1 : 0;
}

int
mx_keybackup_key_put(struct mx_store *st, const uint8_t priv[32],
    struct mx_err *e)
{
	return mx_store_put_secret(st, "keybackup", "private_key", priv, 32,
	    e);
}

int
mx_keybackup_key_get(struct mx_store *st, uint8_t priv[32], struct mx_err *e)
{
	char *v = NULL;
	size_t n = 0;
	int rc =
	    mx_store_get_secret(st, "keybackup", "private_key", &v, &n, e);

	if (rc == 1 && n != 32)
		rc =
		    mx_err_set(e, MX_LOCAL, "corrupt backup key in the store");
	if (rc == 1)
		memcpy(priv, v, 32);
	if (v != NULL)
		mx_secure_free(v);
	return rc;
}
