/* keybackup: what a restore keeps and refuses from a server's backup
 * (spec: Client-Server API, "Server-side key backups"), the marks that
 * send new sessions to the profile's backup, and the judgement of the
 * signatures on a backup's auth_data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "backup.h"
#include "crypto.h"
#include "devices.h"
#include "inbound.h"
#include "json.h"
#include "keybackup.h"
#include "megolm.h"
#include "signjson.h"
#include "store.h"
#include "util.h"
#include "tap.h"

#define ROOM "!r:hs"
#define USER "@a:hs"
#define SKEY "curvecurvecurvecurvecurvecurvecurvecurve123"
#define ED "ededededededededededededededededededededede"
#define PUB0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static struct mx_store *st;
static uint8_t priv[32], pub[32];

/* The BackedUpSessionData of a fresh session, encrypted to pub, as
 * KeyBackupData; *sid its session ID. */
static json_t *
record(char sid[MX_MEGOLM_ID_B64], const char *alg)
{
	struct mx_megolm_out *out = mx_megolm_out_new();
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], ex[MX_MEGOLM_EXPORT_LEN];
	struct mx_megolm_in *in;
	json_t *d, *sd;
	char *kb, *plain;

	mx_megolm_out_id(out, sid);
	mx_megolm_out_session_key(out, key);
	in = mx_megolm_in_new(key, sizeof(key), NULL);
	mx_megolm_in_export(in, 0, ex, NULL);
	kb = mx_b64_encdup(ex, sizeof(ex));
	d = json_pack("{s:s,s:s,s:s,s:{s:s},s:[]}", "algorithm", alg,
	    "sender_key", SKEY, "session_key", kb, "sender_claimed_keys",
	    "ed25519", ED, "forwarding_curve25519_key_chain");
	plain = mx_json_compact(d);
	sd = mx_backup_encrypt(pub, plain, strlen(plain), NULL);
	free(plain);
	free(kb);
	json_decref(d);
	mx_megolm_in_free(in);
	mx_megolm_out_free(out);
	return json_pack("{s:i,s:i,s:b,s:o}", "first_message_index", 0,
	    "forwarded_count", 0, "is_verified", 0, "session_data", sd);
}

static const char *
source_of(const char *sid)
{
	static char src[32];
	struct mx_inbound r;
	struct mx_err e;

	mx_err_clear(&e);
	if (mx_inbound_load(st, ROOM, sid, &r, &e) != 1)
		return "none";
	snprintf(src, sizeof(src), "%s", r.source);
	mx_inbound_release(&r);
	return src;
}

static void
test_restore(void)
{
	char good[MX_MEGOLM_ID_B64], moved[MX_MEGOLM_ID_B64];
	char bad[MX_MEGOLM_ID_B64], other[MX_MEGOLM_ID_B64];
	json_t *sessions = json_object(), *keys, *rej = json_array(), *r;
	size_t n[MX_KEYBACKUP_NCOUNT];
	struct mx_err e;
	uint8_t wrong[32];
	json_t *info;
	char *m, *b64;

	mx_err_clear(&e);
	r = record(good, MX_MEGOLM_ALG);
	json_object_set_new(sessions, good, r);
	/* A genuine record filed under another session's ID. */
	json_object_set_new(sessions,
	    "MOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOV",
	    record(moved, MX_MEGOLM_ALG));
	/* A record whose MAC was changed. */
	r = record(bad, MX_MEGOLM_ALG);
	m = mx_xstrdup(mx_json_str(json_object_get(r, "session_data"), "mac"));
	m[0] = m[0] == 'A' ? 'B' : 'A';
	json_object_set_new(json_object_get(r, "session_data"), "mac",
	    json_string(m));
	free(m);
	json_object_set_new(sessions, bad, r);
	/* Another algorithm. */
	json_object_set_new(sessions, "x", record(other, "m.other"));
	keys = json_pack("{s:{s:{s:o}}}", "rooms", ROOM, "sessions", sessions);

	b64 = mx_b64_encdup(pub, sizeof(pub));
	info = json_pack("{s:{s:s}}", "auth_data", "public_key", b64);
	free(b64);
	ok(mx_keybackup_key_matches(info, priv) == 1,
	    "the backup's key matches its public key");
	memcpy(wrong, priv, 32);
	wrong[0] ^= 0x40;
	ok(mx_keybackup_key_matches(info, wrong) == 0, "another key does not");
	json_object_set_new(json_object_get(info, "auth_data"), "public_key",
	    json_string("nonsense"));
	ok(mx_keybackup_key_matches(info, priv) == 0,
	    "a malformed public key matches nothing");
	json_decref(info);
	ok(mx_keybackup_restore(st, keys, priv, n, rej, &e) == 0 &&
		n[MX_KEYBACKUP_NEW] == 1 && n[MX_KEYBACKUP_REJECTED] == 3,
	    "restore: one kept, three rejected");
	ok(strcmp(source_of(good), MX_INBOUND_BACKUP) == 0,
	    "kept with provenance backup");
	ok(strcmp(source_of(bad), "none") == 0 &&
		strcmp(source_of(
			   "MOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOVEDMOV"),
		    "none") == 0,
	    "the rejected ones are not kept");
	ok(json_array_size(rej) == 3, "each rejected one is named");
	ok(mx_keybackup_restore(st, keys, priv, n, rej, &e) == 0 &&
		n[MX_KEYBACKUP_NEW] == 0 && n[MX_KEYBACKUP_SKIPPED] == 1,
	    "again: skipped");
	ok(mx_keybackup_restore(st, keys, wrong, n, rej, &e) == 0 &&
		n[MX_KEYBACKUP_REJECTED] == 4,
	    "another key decrypts nothing");
	json_decref(keys);
	json_decref(rej);
}

/* With a backup enabled, a session kept over Olm is marked to go up; one
 * from the backup is not. */
static void
test_marks(void)
{
	static const char cur[] = "{\"version\":\"1\",\"public_key\":\"x\"}";
	struct mx_megolm_out *out = mx_megolm_out_new();
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN];
	char sid[MX_MEGOLM_ID_B64], **k = NULL;
	struct mx_megolm_in *in;
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_inbound_queued(st, &k, &e) == 0, "no backup: nothing marked");
	mx_store_keys_free(k);
	mx_store_put(st, "keybackup", "current", cur, strlen(cur), &e);
	mx_store_put(st, "backup_on", "on", "", 0, &e);
	mx_megolm_out_id(out, sid);
	mx_megolm_out_session_key(out, key);
	in = mx_megolm_in_new(key, sizeof(key), NULL);
	ok(mx_inbound_keep(st, ROOM, sid, in, SKEY, ED, USER, &e) == 0,
	    "a session over Olm");
	ok(mx_inbound_queued(st, &k, &e) == 1 &&
		strncmp(k[0], ROOM " ", strlen(ROOM) + 1) == 0 &&
		strcmp(k[0] + strlen(ROOM) + 1, sid) == 0,
	    "marked for the backup");
	mx_store_keys_free(k);
	mx_store_del(st, "keybackup", "current", &e);
	mx_store_clear(st, "backup_on", &e);
	mx_store_clear(st, "backup_todo", &e);
	ok(mx_keybackup_enable(st, "2", PUB0, 0, &e) == 0 &&
		mx_inbound_queued(st, &k, &e) == 1 &&
		strcmp(k[0] + strlen(ROOM) + 1, sid) == 0,
	    "following a backup marks the held sessions but those from a "
	    "backup");
	mx_store_keys_free(k);
	ok(mx_keybackup_uploads_to(st, "2") &&
		!mx_keybackup_uploads_to(st, "1"),
	    "and uploads to it");
	mx_store_del(st, "keybackup", "current", &e);
	mx_store_clear(st, "backup_on", &e);
	mx_megolm_in_free(in);
	mx_megolm_out_free(out);
}

/* The list of one device of USER with Ed25519 key ed and trust t, and a
 * pinned master key mk. */
static void
one_device(struct mx_devlist *l, const char *ed, enum mx_trust t,
    const char *mk, int mk_verified)
{
	l->n = 1;
	l->v = calloc(1, sizeof(*l->v));
	l->v[0].user_id = mx_xstrdup(USER);
	l->v[0].device_id = mx_xstrdup("DEV");
	snprintf(l->v[0].ed, sizeof(l->v[0].ed), "%s", ed);
	snprintf(l->v[0].master, sizeof(l->v[0].master), "%s", mk);
	l->v[0].master_verified = mk_verified;
	l->v[0].trust = t;
}

static int
judged(const json_t *sigs, const char *key, const char *signer, int valid,
    int trusted)
{
	const json_t *s;
	size_t i;

	json_array_foreach(sigs, i, s)
		if (strcmp(mx_json_str(s, "key"), key) == 0)
			return strcmp(mx_json_str(s, "signer"), signer) == 0 &&
			    json_is_true(json_object_get(s, "valid")) ==
			    valid &&
			    json_is_true(json_object_get(s, "trusted")) ==
			    trusted;
	return 0;
}

static void
test_signatures(void)
{
	uint8_t seed[32], dpub[32], dsk[64], mpub[32], msk[64];
	char ed[48], mk[48], *mkid;
	struct mx_devlist l = { 0 };
	json_t *info, *auth, *sigs;

	mx_random(seed, sizeof(seed));
	mx_ed25519_from_seed(dpub, dsk, seed);
	mx_random(seed, sizeof(seed));
	mx_ed25519_from_seed(mpub, msk, seed);
	mx_b64_enc(ed, dpub, 32);
	mx_b64_enc(mk, mpub, 32);
	mkid = mx_xasprintf("ed25519:%s", mk);
	auth = json_pack("{s:s}", "public_key", "cHVibGlj");
	mx_signjson_sign(auth, USER, "DEV", dsk, NULL);
	mx_signjson_sign(auth, USER, mk, msk, NULL);
	mx_signjson_sign(auth, USER, "GHOST", dsk, NULL);
	info = json_pack("{s:o}", "auth_data", auth);

	one_device(&l, ed, MX_TRUST_TOFU, mk, 0);
	sigs = mx_keybackup_signatures(info, USER, &l, "ME", ed);
	ok(json_array_size(sigs) == 3 &&
		judged(sigs, "ed25519:DEV", "device", 1, 0) &&
		judged(sigs, mkid, "master", 1, 0) &&
		judged(sigs, "ed25519:GHOST", "unknown", 0, 0),
	    "valid signatures of unverified keys are not trusted; an "
	    "unknown signer is not valid");
	json_decref(sigs);
	mx_devlist_release(&l);

	one_device(&l, ed, MX_TRUST_VERIFIED, mk, 1);
	sigs = mx_keybackup_signatures(info, USER, &l, "ME", ed);
	ok(judged(sigs, "ed25519:DEV", "device", 1, 1) &&
		judged(sigs, mkid, "master", 1, 1),
	    "a verified device and a verified master key are trusted");
	json_decref(sigs);

	json_object_set_new(json_object_get(info, "auth_data"), "public_key",
	    json_string("b3RoZXI"));
	sigs = mx_keybackup_signatures(info, USER, &l, "ME", ed);
	ok(judged(sigs, "ed25519:DEV", "device", 0, 0) &&
		judged(sigs, mkid, "master", 0, 0),
	    "an auth_data changed after signing: no signature valid");
	json_decref(sigs);
	mx_devlist_release(&l);
	json_decref(info);
	free(mkid);
}

int
main(void)
{
	struct mx_err e;

	mx_crypto_init();
	mx_err_clear(&e);
	mx_store_open_memory(&st, &e);
	mx_x25519_keypair(pub, priv);
	test_restore();
	test_marks();
	test_signatures();
	mx_store_close(st);
	return done();
}
