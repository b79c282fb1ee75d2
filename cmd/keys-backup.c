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
#include "backupkey.h"
#include "cli.h"
#include "crypto.h"
#include "e2ee.h"
#include "json.h"
#include "keybackup.h"
#include "keys.h"
#include "util.h"
#include "banned.h"

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

	if (mx_backupkey_current(&c->api, &info, e) != 0 ||
	    mx_e2ee_open(&x, c, e) != 0 ||
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
	    mx_backupkey_in_ssss(&c->api, c->sess.user_id));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
out:
	mx_devlist_release(&l);
	mx_e2ee_close(x);
	json_decref(sigs);
	json_decref(info);
	return rc;
}

/* The backup's private key into priv, checked to be the key of the backup
 * info: the one this profile holds (an earlier restore or create, or our
 * own device gave it after a SAS), unless the user gives one; else from
 * the user's secret. */
static int
backup_key(struct mx_ctx *c, const struct keys_opt *o, const json_t *info,
    uint8_t priv[32], struct mx_err *e)
{
	int is_pass, rc;
	char *s;

	if (!o->passphrase_file && !o->recovery_key_stdin) {
		if ((rc = mx_keybackup_key_get(c->store, priv, e)) < 0)
			return -1;
		if (rc == 1 && mx_keybackup_key_matches(info, priv)) {
			mx_cli_note(c, 1, "the backup key this profile holds");
			return 0;
		}
	}
	if ((s = mx_cli_recovery_secret(o->passphrase_file,
		 o->recovery_key_stdin, &is_pass, e)) == NULL)
		return -1;
	rc = mx_backupkey_open(&c->api, c->sess.user_id, info, s, is_pass,
	    priv, e);
	mx_secure_free(s);
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

	if (mx_backupkey_current(&c->api, &info, e) != 0 ||
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
	if (id == NULL && mx_backupkey_ssss_exists(&c->api, c->sess.user_id))
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
