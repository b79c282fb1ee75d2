/*
 * keys-backup: mx-keys backup status, restore and create: the server-side
 * key backup (spec: "Server-side key backups"), its key in secret storage
 * or given as a recovery key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "backup.h"
#include "cli.h"
#include "crypto.h"
#include "e2ee.h"
#include "json.h"
#include "keybackup.h"
#include "keys.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

/* The server's current backup, of the one algorithm there is: 0 and
 * *info; -1 with e (MX_NO when there is none). */
static int
backup_info(struct mx_ctx *c, json_t **info, struct mx_err *e)
{
	const char *alg;
	int rc;

	if ((rc = mx_api_backup_version(&c->api, info, e)) < 0)
		return mx_err_prefix(e, "cannot read the key backup");
	if (rc == 0)
		return mx_err_set(e, MX_NO, "the account has no key backup");
	if (mx_json_str(*info, "version") == NULL) {
		json_decref(*info);
		*info = NULL;
		return mx_err_set(e, MX_TEMP,
		    "a key backup without a version");
	}
	alg = mx_json_str(*info, "algorithm");
	if (alg != NULL && strcmp(alg, MX_KEYBACKUP_ALG) == 0)
		return 0;
	mx_err_set(e, MX_LOCAL,
	    "key backup %s uses the unknown algorithm '%s'",
	    mx_json_str(*info, "version"), alg ? alg : "");
	json_decref(*info);
	*info = NULL;
	return -1;
}

/* Whether secret storage's default key holds a backup key (status only:
 * errors count as no). */
static int
backup_in_ssss(struct mx_ctx *c)
{
	json_t *desc = NULL, *sec = NULL;
	char *id = NULL;
	int in = 0;

	if (mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, NULL) ==
		1 &&
	    mx_api_get_account_data(&c->api, c->sess.user_id,
		MX_KEYBACKUP_SECRET, &sec, NULL) == 1)
		in = json_is_object(
		    json_object_get(json_object_get(sec, "encrypted"), id));
	json_decref(sec);
	json_decref(desc);
	free(id);
	return in;
}

/* backup status: the current backup and who vouches for it. */
static int
backup_status(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	struct mx_e2ee *x = NULL;
	json_t *info = NULL, *sigs = NULL, *j, *s;
	const char *me = c->sess.user_id;
	size_t i;
	int rc = -1, trusted = 0;

	if (backup_info(c, &info, e) != 0 || mx_e2ee_open(&x, c, e) != 0 ||
	    mx_devices_query(&c->api, c->store, &me, 1, &l, e) != 0)
		goto out;
	sigs = mx_keybackup_signatures(info, me, &l, c->sess.device_id,
	    mx_e2ee_ed25519(x));
	json_array_foreach(sigs, i, s)
		trusted |= json_is_true(json_object_get(s, "trusted"));
	j = json_pack("{s:O,s:O,s:O?,s:O?,s:s?,s:O,s:b,s:b}", "version",
	    json_object_get(info, "version"), "algorithm",
	    json_object_get(info, "algorithm"), "count",
	    json_object_get(info, "count"), "etag",
	    json_object_get(info, "etag"), "public_key",
	    mx_json_str(json_object_get(info, "auth_data"), "public_key"),
	    "signatures", sigs, "trusted", trusted, "in_secret_storage",
	    backup_in_ssss(c));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
out:
	mx_devlist_release(&l);
	mx_e2ee_close(x);
	json_decref(sigs);
	json_decref(info);
	return rc;
}

/* The backup key from secret storage, opened with the secret-storage
 * key of a recovery key (raw) or of a passphrase (pass). */
static int
backup_key_ssss(struct mx_ctx *c, const uint8_t *raw, const char *pass,
    uint8_t priv[32], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	json_t *desc = NULL;
	char *id = NULL;
	int rc;

	rc = mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, e);
	if (rc == 0)
		rc = mx_err_set(e, pass ? MX_LOCAL : MX_NO,
		    pass ? "the account has no secret storage; restore needs "
			   "the recovery key (--recovery-key-stdin)" :
			   "the recovery key is not the backup's");
	else if (rc > 0) {
		if (raw != NULL) {
			memcpy(key, raw, 32);
			rc = mx_secrets_key_check(desc, key, e);
			if (rc != 0)
				mx_err_set(e, MX_NO,
				    "the recovery key is neither the "
				    "backup's nor the secret storage's");
		} else
			rc = mx_secrets_pass_key(desc, pass, key, e);
		if (rc == 0)
			rc = mx_keybackup_from_ssss(&c->api, c->sess.user_id,
			    id, key, priv, e);
	}
	mx_secure_free(key);
	json_decref(desc);
	free(id);
	return rc < 0 ? -1 : 0;
}

/* The backup's private key into priv, from the user's secret, checked to
 * be the key of the backup info. */
static int
backup_key(struct mx_ctx *c, const struct keys_opt *o, const json_t *info,
    uint8_t priv[32], struct mx_err *e)
{
	uint8_t *raw = NULL;
	struct mx_err le;
	int is_pass, rc = -1;
	char *s;

	if ((s = mx_cli_recovery_secret(o->passphrase_file,
		 o->recovery_key_stdin, &is_pass, e)) == NULL)
		return -1;
	if (is_pass) {
		rc = backup_key_ssss(c, NULL, s, priv, e);
		goto check;
	}
	raw = mx_secure_alloc(MX_BACKUP_KEY_LEN);
	mx_err_clear(&le);
	if (mx_recovery_key_decode(raw, s, &le) != 0) {
		mx_err_set(e, MX_NO, "not a recovery key: %s", le.msg);
		goto out;
	}
	/* The backup's own key (older accounts), else secret storage's. */
	if (mx_keybackup_key_matches(info, raw)) {
		memcpy(priv, raw, 32);
		rc = 0;
		goto out;
	}
	rc = backup_key_ssss(c, raw, NULL, priv, e);
check:
	/* A key from secret storage must be the current backup's: the
	 * server may show another backup than the one it holds the key of. */
	if (rc == 0 && !mx_keybackup_key_matches(info, priv))
		rc = mx_err_set(e, MX_NO,
		    "the backup key in secret storage is not the key of "
		    "backup %s",
		    mx_json_str(info, "version"));
out:
	mx_secure_free(s);
	if (raw != NULL)
		mx_secure_free(raw);
	return rc;
}

/* Each rejected session, named on stderr (whatever -q: the server gave
 * something forged or damaged). */
static void
backup_rejects(const json_t *rejects)
{
	const json_t *r;
	char *sid, *room;
	size_t i;

	json_array_foreach(rejects, i, r) {
		sid = mx_cli_printable(mx_json_str(r, "session_id"));
		room = mx_cli_printable(mx_json_str(r, "room_id"));
		fprintf(stderr,
		    "mx-keys: backed-up session %s of %s "
		    "rejected: %s\n",
		    sid, room, mx_json_str(r, "reason"));
		free(sid);
		free(room);
	}
}

/* With a backup's key, the profile uploads its room keys to that backup
 * too, as Element does once it holds the key: 1 when it starts to (those
 * held now are marked; the restored ones, from the backup, never are),
 * 0 when it did already, -1 with e. */
static int
backup_follow(struct mx_ctx *c, const json_t *info, struct mx_err *e)
{
	const char *v = mx_json_str(info, "version");

	if (mx_keybackup_uploads_to(c->store, v))
		return 0;
	if (mx_keybackup_enable(c->store, v,
		mx_json_str(json_object_get(info, "auth_data"), "public_key"),
		0, e) != 0)
		return -1;
	return 1;
}

/* Upload what is marked, now (a failure is a warning: the keys go with
 * the next mx-send or mx-sync). */
static void
backup_upload_now(struct mx_ctx *c, const json_t *info)
{
	struct mx_err fe;
	size_t n = 0;

	mx_err_clear(&fe);
	if (mx_keybackup_flush(&c->api, c->store, &n, &fe) != 0)
		mx_cli_note(c, 0, "room keys not backed up yet: %s", fe.msg);
	mx_cli_note(c, 1, "room keys go to backup %s from now on (%zu now)",
	    mx_json_str(info, "version"), n);
}

/* backup restore: every session of the backup, kept as from "backup". */
static int
backup_restore(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
{
	size_t n[MX_KEYBACKUP_NCOUNT];
	uint8_t *priv = mx_secure_alloc(32);
	json_t *info = NULL, *keys = NULL, *rej = json_array(), *j;
	int rc = -1, follow = 0;

	if (backup_info(c, &info, e) != 0 ||
	    backup_key(c, o, info, priv, e) != 0)
		goto out;
	if (mx_api_backup_keys(&c->api, mx_json_str(info, "version"), &keys,
		e) != 0) {
		mx_err_prefix(e, "cannot fetch the backed-up keys");
		goto out;
	}
	/* The key kept (sealed) too, for our own verified devices that ask
	 * for it (mx-verify sas). */
	if ((follow = backup_follow(c, info, e)) < 0 ||
	    mx_keybackup_key_put(c->store, priv, e) != 0 ||
	    mx_keybackup_restore(c->store, keys, priv, n, rej, e) != 0)
		goto out;
	if (follow)
		backup_upload_now(c, info);
	backup_rejects(rej);
	j = json_pack("{s:I,s:I,s:I,s:I}", "restored",
	    (json_int_t)n[MX_KEYBACKUP_NEW], "improved",
	    (json_int_t)n[MX_KEYBACKUP_IMPROVED], "skipped",
	    (json_int_t)n[MX_KEYBACKUP_SKIPPED], "rejected",
	    (json_int_t)n[MX_KEYBACKUP_REJECTED]);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	if (rc == 0 && n[MX_KEYBACKUP_REJECTED] > 0)
		rc = mx_err_set(e, MX_NO,
		    "%zu backed-up session(s) rejected; the others are kept",
		    n[MX_KEYBACKUP_REJECTED]);
out:
	mx_secure_free(priv);
	json_decref(keys);
	json_decref(info);
	json_decref(rej);
	return rc;
}

/* Whether the account has secret storage (errors count as no). */
static int
backup_ssss_exists(struct mx_ctx *c)
{
	json_t *desc = NULL;
	char *id = NULL;
	int rc =
	    mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, NULL);

	json_decref(desc);
	free(id);
	return rc == 1;
}

/* backup create: a new backup, its key printed once (and kept in secret
 * storage with a key for it), and every room key held uploaded to it;
 * later ones follow from mx-send and mx-sync. */
static int
backup_create(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
{
	char rk[MX_RECOVERY_KEY_LEN + 1], *version = NULL, *id = NULL;
	uint8_t *priv = mx_secure_alloc(32), *key = mx_secure_alloc(32);
	struct mx_e2ee *x = NULL;
	json_t *info = NULL, *j;
	struct mx_err fe;
	size_t n = 0;
	int rc = -1;

	/* Another client's backup stays the account's: replacing it would
	 * cut its devices off their own backup. */
	if ((rc = mx_api_backup_version(&c->api, &info, e)) != 0) {
		if (rc > 0)
			mx_err_set(e, MX_NO,
			    "the account has key backup %s already; restore "
			    "from it",
			    mx_json_str(info, "version") ?
				mx_json_str(info, "version") :
				"(no version)");
		rc = -1;
		goto out;
	}
	/* A wrong key for secret storage makes nothing. */
	if ((o->passphrase_file || o->recovery_key_stdin) &&
	    mx_cli_ssss_open(c, o->passphrase_file, o->recovery_key_stdin, key,
		&id, e) != 0) {
		rc = -1;
		goto out;
	}
	if (mx_e2ee_open(&x, c, e) != 0 ||
	    mx_keybackup_create(x, priv, &version, e) != 0) {
		rc = -1;
		goto out;
	}
	mx_err_clear(&fe);
	(void)mx_keybackup_key_put(c->store, priv, &fe);
	if (id == NULL && backup_ssss_exists(c))
		mx_cli_note(c, 0,
		    "the new backup key is not in secret storage: give its "
		    "recovery key or passphrase to keep it there");
	if (id != NULL)
		(void)mx_keybackup_to_ssss(&c->api, c->sess.user_id, id, key,
		    priv, &fe);
	if (fe.status == MX_OK)
		(void)mx_keybackup_flush(&c->api, c->store, &n, &fe);
	/* The key first, whatever the upload did: it is shown only now. */
	mx_recovery_key_encode(rk, priv);
	j = json_pack("{s:s,s:s,s:I,s:b}", "version", version, "recovery_key",
	    rk, "backed_up", (json_int_t)n, "in_secret_storage",
	    id != NULL && fe.status == MX_OK);
	rc = mx_cli_print_json(j, e);
	mx_wipe((char *)mx_json_str(j, "recovery_key"), strlen(rk));
	json_decref(j);
	mx_wipe(rk, sizeof(rk));
	if (rc == 0 && fe.status != MX_OK) {
		*e = fe;
		rc = mx_err_prefix(e,
		    "backup %s made, but its keys are not all up yet (the "
		    "next mx-send or mx-sync tries again)",
		    version);
	}
out:
	mx_e2ee_close(x);
	mx_secure_free(priv);
	mx_secure_free(key);
	json_decref(info);
	free(version);
	free(id);
	return rc;
}

/* backup status | restore | create */
int
keys_backup(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	int restore = strcmp(argv[0], "restore") == 0;

	(void)argc;
	if (!restore && strcmp(argv[0], "status") != 0 &&
	    strcmp(argv[0], "create") != 0)
		mx_cli_usage(&keys_cli, "unknown backup subcommand '%s'",
		    argv[0]);
	if (strcmp(argv[0], "status") == 0 &&
	    (o->passphrase_file || o->recovery_key_stdin))
		mx_cli_usage(&keys_cli, "backup status takes no key");
	if (o->passphrase_file && o->recovery_key_stdin)
		mx_cli_usage(&keys_cli,
		    "--recovery-key-stdin and --passphrase-file exclude each "
		    "other");
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0)
		return -1;
	if (strcmp(argv[0], "status") == 0)
		return backup_status(c, e);
	if (strcmp(argv[0], "create") == 0)
		return backup_create(c, o, e);
	return backup_restore(c, o, e);
}
