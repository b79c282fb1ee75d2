/*
 * backupkey: the current key backup and its key (backupkey.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "backup.h"
#include "backupkey.h"
#include "crypto.h"
#include "json.h"
#include "keybackup.h"
#include "secrets.h"
#include "banned.h"

int
mx_backupkey_current(struct mx_api *a, json_t **info, struct mx_err *e)
{
	const char *alg;
	int rc;

	if ((rc = mx_api_backup_version(a, info, e)) < 0)
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

int
mx_backupkey_ssss_exists(struct mx_api *a, const char *user)
{
	json_t *desc = NULL;
	char *id = NULL;
	int rc = mx_secrets_default(a, user, &id, &desc, NULL);

	json_decref(desc);
	free(id);
	return rc == 1;
}

int
mx_backupkey_in_ssss(struct mx_api *a, const char *user)
{
	json_t *desc = NULL, *sec = NULL;
	char *id = NULL;
	int in = 0;

	if (mx_secrets_default(a, user, &id, &desc, NULL) == 1 &&
	    mx_api_get_account_data(a, user, MX_KEYBACKUP_SECRET, &sec,
		NULL) == 1)
		in = json_is_object(
		    json_object_get(json_object_get(sec, "encrypted"), id));
	json_decref(sec);
	json_decref(desc);
	free(id);
	return in;
}

/* The backup key from secret storage, opened with the secret-storage
 * key of a recovery key (raw) or of a passphrase (pass). */
static int
from_ssss(struct mx_api *a, const char *user, const uint8_t *raw,
    const char *pass, uint8_t priv[32], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	json_t *desc = NULL;
	char *id = NULL;
	int rc;

	rc = mx_secrets_default(a, user, &id, &desc, e);
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
			rc = mx_keybackup_from_ssss(a, user, id, key, priv, e);
	}
	mx_secure_free(key);
	json_decref(desc);
	free(id);
	return rc < 0 ? -1 : 0;
}

int
mx_backupkey_open(struct mx_api *a, const char *user, const json_t *info,
    const char *secret, int is_pass, uint8_t priv[32], struct mx_err *e)
{
	uint8_t *raw = NULL;
	struct mx_err le;
	int rc = -1;

	if (is_pass) {
		rc = from_ssss(a, user, NULL, secret, priv, e);
		goto check;
	}
	raw = mx_secure_alloc(MX_BACKUP_KEY_LEN);
	mx_err_clear(&le);
	if (mx_recovery_key_decode(raw, secret, &le) != 0) {
		mx_err_set(e, MX_NO, "not a recovery key: %s", le.msg);
		goto out;
	}
	/* The backup's own key (older accounts), else secret storage's. */
	if (mx_keybackup_key_matches(info, raw)) {
		memcpy(priv, raw, 32);
		rc = 0;
		goto out;
	}
	rc = from_ssss(a, user, raw, NULL, priv, e);
check:
	/* A key from secret storage must be the current backup's: the
	 * server may show another backup than the one it holds the key of. */
	if (rc == 0 && !mx_keybackup_key_matches(info, priv))
		rc = mx_err_set(e, MX_NO,
		    "the backup key in secret storage is not the key of "
		    "backup %s",
		    mx_json_str(info, "version"));
out:
	if (raw != NULL)
		mx_secure_free(raw);
	return rc;
}
