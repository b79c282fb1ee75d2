/*
 * verify-xsign: mx-verify cross-signing: setup (with a new secret
 * storage when there is none), status, reset and import of the
 * cross-signing keys (spec: Client-Server API, "Cross-signing", "Storage
 * of the cross-signing private keys", "Secret storage"); the work is
 * lib/xsign.c's and lib/secrets.c's, this file reads the secrets asked
 * for and prints the status line.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "conf.h"
#include "e2ee.h"
#include "json.h"
#include "secrets.h"
#include "util.h"
#include "xsign.h"
#include "backup.h"
#include "verify-cmd.h"
#include "banned.h"

/* cross-signing import: the private keys from secret storage, opened
 * with the default key (spec: "Storage of the cross-signing private
 * keys"). */
static int
xsign_import(struct mx_e2ee *x, struct mx_ctx *c, const struct verify_opt *o,
    struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc = -1;

	if (mx_cli_ssss_open(c, o->passphrase_file, o->recovery_key_stdin, key,
		&id, e) == 0)
		rc = mx_xsign_import(x, c, id, key, e);
	mx_secure_free(key);
	free(id);
	return rc;
}

/* The key of a new secret storage: from the passphrase of
 * --passphrase-file, else random (its recovery key printed once).  There
 * is no key to read from --recovery-key-stdin. */
static int
ssss_new(const struct verify_opt *o, uint8_t key[32], char **id, json_t **desc,
    struct mx_err *e)
{
	char *pass = NULL;
	int rc;

	if (o->recovery_key_stdin)
		return mx_err_set(e, MX_USAGE,
		    "the account has no secret storage; setup without "
		    "--recovery-key-stdin makes one");
	if (o->passphrase_file != NULL &&
	    (pass = mx_conf_read_secret_file(o->passphrase_file, e)) == NULL)
		return -1;
	rc = mx_secrets_new_key(pass, key, id, desc, e);
	if (pass != NULL)
		mx_secure_free(pass);
	return rc;
}

/* Steps 3 to 5 of xsign_setup_new: the key's description, the secrets
 * under it, and last the default key pointing at it. */
static int
ssss_publish(struct mx_ctx *c, const char *id, const json_t *desc,
    const uint8_t key[32], struct mx_err *e)
{
	const char *me = c->sess.user_id;

	if (mx_secrets_put_key(&c->api, me, id, desc, e) != 0 ||
	    mx_xsign_to_secrets(c, id, key, e) != 0 ||
	    mx_secrets_set_default(&c->api, me, id, e) != 0)
		return mx_err_prefix(e,
		    "cross-signing set up, but no secret storage made (setup "
		    "again makes it)");
	return 0;
}

/* Whether this profile holds the three keys and they are the published
 * ones: a setup whose secret storage failed, to be finished. */
static int
keys_held(struct mx_e2ee *x, struct mx_ctx *c, struct mx_err *e)
{
	json_t *j = NULL;
	int rc;

	if (mx_xsign_status(x, c, &j, e) != 0)
		return -1;
	rc = json_is_true(json_object_get(j, "published")) &&
	    json_array_size(json_object_get(j, "private_keys")) == 3;
	json_decref(j);
	return rc;
}

/*
 * cross-signing setup on an account without secret storage: it is made
 * too (spec: "Secret storage", "Storage of the cross-signing private
 * keys").  The steps, and what a failure at each leaves:
 *   1. the key, its ID and description made and checked here: nothing;
 *   2. the cross-signing keys made, sealed in the store, published, this
 *      device signed (mx_xsign_setup; keys that fail to publish are
 *      forgotten): the account has cross-signing, its private keys in
 *      this profile only; setup again goes on from step 1 without 2;
 *   3. the key's description published: a description no client uses;
 *   4. the three secrets stored under the key: secrets no client looks
 *      for, since no default key names their key;
 *   5. last, m.secret_storage.default_key: only now do clients see secret
 *      storage, with every secret in it.
 * A random key's recovery key goes into rk only after step 5.
 */
static int
xsign_setup_new(struct mx_e2ee *x, struct mx_ctx *c,
    const struct verify_opt *o, char rk[MX_RECOVERY_KEY_LEN + 1],
    struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	json_t *desc = NULL;
	char *id = NULL;
	int rc, held;

	held = keys_held(x, c, e);
	rc = held < 0 || (!held && mx_xsign_setup_check(c, e) != 0) ? -1 : 0;
	if (rc == 0)
		rc = ssss_new(o, key, &id, &desc, e);
	if (rc == 0 && !held)
		rc = mx_xsign_setup(x, c, e);
	if (rc == 0)
		rc = ssss_publish(c, id, desc, key, e);
	if (rc == 0 && o->passphrase_file == NULL)
		mx_recovery_key_encode(rk, key);
	mx_secure_free(key);
	json_decref(desc);
	free(id);
	return rc;
}

/* cross-signing setup: new keys, kept in secret storage: the account's,
 * whose key is checked before anything is made, or a new one. */
static int
xsign_setup(struct mx_e2ee *x, struct mx_ctx *c, const struct verify_opt *o,
    char rk[MX_RECOVERY_KEY_LEN + 1], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc;

	rc = mx_secrets_has_default(&c->api, c->sess.user_id, e);
	if (rc == 0)
		rc = xsign_setup_new(x, c, o, rk, e);
	else if (rc == 1) {
		/* A second default key would hide the secrets kept under
		 * the first (Element's among them): the account's key it
		 * is, given or asked for on the terminal. */
		rc = mx_xsign_setup_check(c, e);
		if (rc == 0 && !o->recovery_key_stdin && !o->passphrase_file &&
		    !isatty(STDIN_FILENO))
			rc = mx_err_set(e, MX_USAGE,
			    "the account has secret storage: give its key "
			    "with --recovery-key-stdin or --passphrase-file "
			    "FILE");
		if (rc == 0)
			rc = mx_cli_ssss_open(c, o->passphrase_file,
			    o->recovery_key_stdin, key, &id, e);
		if (rc == 0)
			rc = mx_xsign_setup(x, c, e);
		if (rc == 0 && mx_xsign_to_secrets(c, id, key, e) != 0)
			rc = mx_err_prefix(e,
			    "cross-signing set up, but not kept in secret "
			    "storage");
	}
	mx_secure_free(key);
	free(id);
	return rc;
}

/* cross-signing reset: new keys; with the key of the account's secret
 * storage (given, or asked on a terminal), they replace the old ones
 * there too, that key checked before anything is made.  Without it, the
 * old keys, no longer the account's, stay in secret storage: said on
 * stderr. */
static int
xsign_reset(struct mx_e2ee *x, struct mx_ctx *c, const struct verify_opt *o,
    struct mx_err *e)
{
	int given = o->recovery_key_stdin || o->passphrase_file != NULL;
	uint8_t *key = mx_secure_alloc(32);
	char *id = NULL;
	int rc, has;

	has = mx_secrets_has_default(&c->api, c->sess.user_id, e);
	rc = has < 0 ? -1 : 0;
	if (rc == 0 && !has && given)
		rc = mx_err_set(e, MX_USAGE,
		    "the account has no secret storage to keep the new keys "
		    "in");
	if (rc == 0 && has && (given || isatty(STDIN_FILENO)))
		rc = mx_cli_ssss_open(c, o->passphrase_file,
		    o->recovery_key_stdin, key, &id, e);
	if (rc == 0)
		rc = mx_xsign_reset(x, c, e);
	if (rc == 0 && id != NULL && mx_xsign_to_secrets(c, id, key, e) != 0)
		rc = mx_err_prefix(e,
		    "cross-signing reset, but the new keys are not in secret "
		    "storage");
	if (rc == 0 && has && id == NULL)
		mx_cli_note(c, 0,
		    "secret storage still holds the old cross-signing keys: "
		    "reset with --recovery-key-stdin or --passphrase-file to "
		    "replace them");
	mx_secure_free(key);
	free(id);
	return rc;
}

/* cross-signing setup|status|reset|import: this account's cross-signing
 * keys. */
int
verify_xsign(struct mx_ctx *c, const struct verify_opt *o, int argc,
    char **argv, struct mx_err *e)
{
	char rk[MX_RECOVERY_KEY_LEN + 1] = "";
	struct mx_e2ee *x = NULL;
	json_t *j = NULL;
	int rc = -1, set = strcmp(argv[0], "setup") == 0,
	    reset = strcmp(argv[0], "reset") == 0,
	    import = strcmp(argv[0], "import") == 0;

	(void)argc;
	if (mx_ctx_open(c, OWN_STORE, e) != 0 || mx_e2ee_open(&x, c, e) != 0)
		goto out;
	/* After the store is open: its passphrase is never read from stdin
	 * in place of the password. */
	if (o->password_stdin)
		c->ask = mx_cli_ask_stdin;
	if ((set && xsign_setup(x, c, o, rk, e) != 0) ||
	    (reset && xsign_reset(x, c, o, e) != 0) ||
	    (import && xsign_import(x, c, o, e) != 0))
		goto out;
	if (mx_xsign_status(x, c, &j, e) != 0)
		goto out;
	/* A new secret storage's recovery key: shown this once, on the
	 * status line, as mx-keys backup create shows a backup's. */
	if (rk[0] != '\0')
		json_object_set_new(j, "recovery_key", json_string(rk));
	rc = mx_cli_print_json(j, e);
	if (rk[0] != '\0')
		mx_wipe((char *)mx_json_str(j, "recovery_key"), strlen(rk));
out:
	mx_wipe(rk, sizeof(rk));
	json_decref(j);
	mx_e2ee_close(x);
	return rc;
}
