/*
 * secrets: reading and writing secret storage on the server (see
 * secrets.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "backup.h"
#include "crypto.h"
#include "json.h"
#include "secrets.h"
#include "ssss.h"
#include "util.h"
#include "banned.h"

#define SSSS_ALG "m.secret_storage.v1.aes-hmac-sha2"

int
mx_secrets_default(struct mx_api *a, const char *user, char **key_id,
    json_t **desc, struct mx_err *e)
{
	json_t *def = NULL, *d = NULL;
	const char *id, *alg;
	char *type;
	int rc;

	*key_id = NULL;
	*desc = NULL;
	/* spec: "Secrets", "Key storage": the default key's ID, then its
	 * description under m.secret_storage.key.<ID>. */
	rc = mx_api_get_account_data(a, user, "m.secret_storage.default_key",
	    &def, e);
	if (rc <= 0)
		return rc;
	if ((id = mx_json_str(def, "key")) == NULL || id[0] == '\0') {
		json_decref(def);
		return 0;
	}
	type = mx_xasprintf("m.secret_storage.key.%s", id);
	rc = mx_api_get_account_data(a, user, type, &d, e);
	free(type);
	alg = mx_json_str(d, "algorithm");
	if (rc == 1 && (alg == NULL || strcmp(alg, SSSS_ALG) != 0))
		rc = 0;
	if (rc == 1) {
		*key_id = mx_xstrdup(id);
		*desc = d;
		d = NULL;
	}
	json_decref(d);
	json_decref(def);
	return rc;
}

int
mx_secrets_has_default(struct mx_api *a, const char *user, struct mx_err *e)
{
	json_t *def = NULL;
	const char *id;
	int rc;

	rc = mx_api_get_account_data(a, user, "m.secret_storage.default_key",
	    &def, e);
	id = mx_json_str(def, "key");
	if (rc == 1 && (id == NULL || id[0] == '\0'))
		rc = 0;
	json_decref(def);
	return rc;
}

int
mx_secrets_key_check(const json_t *desc, const uint8_t key[32],
    struct mx_err *e)
{
	struct mx_err le;

	mx_err_clear(&le);
	if (mx_ssss_key_check(key, desc, &le) == 0)
		return 0;
	return mx_err_set(e, MX_NO, "not the key of secret storage");
}

int
mx_secrets_pass_key(const json_t *desc, const char *pass, uint8_t key[32],
    struct mx_err *e)
{
	const json_t *pp = json_object_get(desc, "passphrase");
	const char *alg = mx_json_str(pp, "algorithm");
	const char *salt = mx_json_str(pp, "salt");
	json_t *it = json_object_get(pp, "iterations");
	json_t *bits = json_object_get(pp, "bits");

	/* spec: "Secrets", "Deriving keys from passphrases": m.pbkdf2 only,
	 * 256 bits; the rounds come from the server and are bounded before
	 * any work. */
	if (alg == NULL || strcmp(alg, "m.pbkdf2") != 0 || salt == NULL ||
	    !json_is_integer(it) ||
	    (bits != NULL && json_integer_value(bits) != 256))
		return mx_err_set(e, MX_LOCAL,
		    "secret storage has no passphrase to derive its key from");
	if (json_integer_value(it) <= 0 ||
	    json_integer_value(it) > MX_SSSS_MAX_ITERATIONS)
		return mx_err_set(e, MX_LOCAL,
		    "secret storage asks for %lld PBKDF2 rounds (at most %d); "
		    "refused",
		    (long long)json_integer_value(it), MX_SSSS_MAX_ITERATIONS);
	if (mx_ssss_passphrase_key(key, 32, pass, salt,
		(uint32_t)json_integer_value(it), e) != 0)
		return -1;
	if (mx_secrets_key_check(desc, key, e) != 0) {
		mx_wipe(key, 32);
		return mx_err_set(e, MX_NO,
		    "wrong passphrase for secret storage");
	}
	return 0;
}

/* A base64 string, padded or not (secret storage writers differ), into
 * exactly 32 bytes. */
static int
dec32(uint8_t out[32], const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '=')
		n--;
	size_t got = 0;

	return mx_b64_dec(out, 32, &got, s, n) == 0 && got == 32 ? 0 : -1;
}

int
mx_secrets_open(struct mx_api *a, const char *user, const char *secret,
    int is_pass, uint8_t key[32], char **key_id, struct mx_err *e)
{
	json_t *desc = NULL;
	struct mx_err le;
	int rc;

	rc = mx_secrets_default(a, user, key_id, &desc, e);
	if (rc <= 0)
		return rc < 0 ? -1 :
				mx_err_set(e, MX_LOCAL,
				    "the account has no secret storage");
	if (is_pass)
		rc = mx_secrets_pass_key(desc, secret, key, e);
	else {
		mx_err_clear(&le);
		rc = mx_recovery_key_decode(key, secret, &le) != 0 ?
		    mx_err_set(e, MX_NO, "not a recovery key: %s", le.msg) :
		    mx_secrets_key_check(desc, key, e);
	}
	json_decref(desc);
	if (rc != 0) {
		mx_wipe(key, 32);
		free(*key_id);
		*key_id = NULL;
	}
	return rc;
}

int
mx_secrets_get32(struct mx_api *a, const char *user, const char *name,
    const char *what, const char *key_id, const uint8_t key[32],
    uint8_t out[32], struct mx_err *e)
{
	json_t *sec = NULL, *enc;
	struct mx_err le;
	char *s;
	int rc;

	/* spec: "Secrets", "Storage": account data of the secret's name,
	 * {"encrypted":{key_id:{"iv","ciphertext","mac"}}}. */
	rc = mx_api_get_account_data(a, user, name, &sec, e);
	if (rc < 0)
		return mx_err_prefix(e, "cannot read secret storage");
	enc = json_object_get(json_object_get(sec, "encrypted"), key_id);
	if (rc == 0 || !json_is_object(enc)) {
		json_decref(sec);
		return mx_err_set(e, MX_PERM, "secret storage holds no %s",
		    what);
	}
	mx_err_clear(&le);
	s = mx_ssss_decrypt(key, name, enc, &le);
	json_decref(sec);
	if (s == NULL)
		return mx_err_set(e, MX_NO,
		    "the %s in secret storage does not open with this key",
		    what);
	rc = dec32(out, s);
	mx_wipe(s, strlen(s));
	free(s);
	if (rc != 0) {
		mx_wipe(out, 32);
		return mx_err_set(e, MX_LOCAL,
		    "the %s in secret storage is malformed", what);
	}
	return 0;
}

int
mx_secrets_put32(struct mx_api *a, const char *user, const char *name,
    const char *what, const char *key_id, const uint8_t key[32],
    const uint8_t v[32], struct mx_err *e)
{
	char *b64 = mx_b64_encdup(v, 32);
	json_t *enc, *body;
	int rc;

	/* spec: "Secrets": the secret is the unpadded base64 of the key,
	 * stored under the secret's name, one entry per key that can open
	 * it; the old entries opened the old key and go. */
	enc = mx_ssss_encrypt(key, name, b64, e);
	mx_wipe(b64, strlen(b64));
	free(b64);
	if (enc == NULL)
		return -1;
	body = json_pack("{s:{s:o}}", "encrypted", key_id, enc);
	rc = mx_api_put_account_data(a, user, name, body, e);
	json_decref(body);
	if (rc != 0)
		return mx_err_prefix(e,
		    "cannot store the %s in secret storage", what);
	return 0;
}

/* n random characters of [A-Za-z0-9] and a NUL into out (n + 1 bytes):
 * bytes of 248 and more are drawn again, so that each character is
 * equally likely (248 = 4 * 62). */
static void
rand_alnum(char *out, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t b;
	size_t i = 0;

	while (i < n) {
		mx_random(&b, 1);
		if (b < 248)
			out[i++] = abc[b % 62];
	}
	out[n] = '\0';
}

/* The description of a new key: algorithm, and passphrase when from one
 * (spec: "Key storage", "Deriving keys from passphrases"). */
static json_t *
new_desc(const char *salt)
{
	json_t *d = json_pack("{s:s}", "algorithm", SSSS_ALG);

	if (salt != NULL)
		json_object_set_new(d, "passphrase",
		    json_pack("{s:s,s:s,s:i,s:i}", "algorithm", "m.pbkdf2",
			"salt", salt, "iterations", MX_SECRETS_ITERATIONS,
			"bits", 256));
	return d;
}

int
mx_secrets_new_key(const char *pass, uint8_t key[32], char **key_id,
    json_t **desc, struct mx_err *e)
{
	char id[33], salt[33];
	json_t *chk;

	*key_id = NULL;
	*desc = NULL;
	/* The key ID is any name unique to the account; the salt a string,
	 * used as its bytes.  Both as Element makes them: 32 characters. */
	rand_alnum(id, 32);
	if (pass != NULL) {
		rand_alnum(salt, 32);
		if (mx_ssss_passphrase_key(key, 32, pass, salt,
			MX_SECRETS_ITERATIONS, e) != 0)
			return -1;
	} else
		mx_random(key, 32);
	/* spec: "Key storage": iv and mac are the encryption of 32 zero
	 * bytes with the empty name, so a client can tell a wrong key. */
	if ((chk = mx_ssss_key_check_make(key, e)) == NULL)
		goto bad;
	*desc = new_desc(pass != NULL ? salt : NULL);
	json_object_update(*desc, chk);
	json_decref(chk);
	/* Checked as any client will check it, before anyone relies on it. */
	if (mx_ssss_key_check(key, *desc, e) != 0)
		goto bad;
	*key_id = mx_xstrdup(id);
	return 0;
bad:
	json_decref(*desc);
	*desc = NULL;
	mx_wipe(key, 32);
	return mx_err_prefix(e, "cannot make a secret storage key");
}

int
mx_secrets_put_key(struct mx_api *a, const char *user, const char *key_id,
    const json_t *desc, struct mx_err *e)
{
	char *type = mx_xasprintf("m.secret_storage.key.%s", key_id);
	int rc = mx_api_put_account_data(a, user, type, desc, e);

	free(type);
	return rc != 0 ?
	    mx_err_prefix(e, "cannot publish the secret storage key") :
	    0;
}

int
mx_secrets_set_default(struct mx_api *a, const char *user, const char *key_id,
    struct mx_err *e)
{
	json_t *body;
	int rc;

	/* Another client may have made secret storage since we looked:
	 * replacing its default key would hide its secrets. */
	rc = mx_secrets_has_default(a, user, e);
	if (rc != 0)
		return rc < 0 ? -1 :
				mx_err_set(e, MX_PERM,
				    "the account has gained secret storage "
				    "meanwhile; it stays the default");
	body = json_pack("{s:s}", "key", key_id);
	rc = mx_api_put_account_data(a, user, "m.secret_storage.default_key",
	    body, e);
	json_decref(body);
	return rc != 0 ?
	    mx_err_prefix(e,
		"cannot make the secret storage key the default") :
	    0;
}
