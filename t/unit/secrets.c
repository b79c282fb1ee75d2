/*
 * secrets: a new secret-storage key (mx_secrets_new_key, spec:
 * Client-Server API, "Key storage", "Deriving keys from passphrases"),
 * read back as any client reads it: its description checks the key, a
 * passphrase's m.pbkdf2 object derives the same key again, a wrong key
 * or passphrase is refused, and a secret stored under it opens.
 */
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "crypto.h"
#include "json.h"
#include "secrets.h"
#include "ssss.h"
#include "tap.h"
#include "util.h"

#define ALG "m.secret_storage.v1.aes-hmac-sha2"

/* 32 characters of [A-Za-z0-9]. */
static int
alnum32(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static void
random_key(void)
{
	uint8_t key[32], key2[32], other[32];
	char *id = NULL, *id2 = NULL, *s;
	json_t *desc = NULL, *desc2 = NULL, *enc;
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_secrets_new_key(NULL, key, &id, &desc, &e) == 0,
	    "random key: made (%s)", e.msg);
	ok(alnum32(id), "random key: a 32-character ID");
	is_str(mx_json_str(desc, "algorithm"), ALG, "random key: algorithm");
	ok(mx_json_str(desc, "iv") != NULL && mx_json_str(desc, "mac") != NULL,
	    "random key: iv and mac of the key check");
	ok(json_object_get(desc, "passphrase") == NULL,
	    "random key: no passphrase");
	ok(json_object_size(desc) == 3, "random key: nothing else");
	ok(mx_secrets_key_check(desc, key, &e) == 0,
	    "random key: the description checks the key");
	memcpy(other, key, 32);
	other[31] ^= 1;
	ok(mx_secrets_key_check(desc, other, &e) == -1 && e.status == MX_NO,
	    "random key: another key is refused");
	ok(mx_secrets_new_key(NULL, key2, &id2, &desc2, &e) == 0 &&
		strcmp(id, id2) != 0 && memcmp(key, key2, 32) != 0,
	    "random key: a second one differs");
	/* A secret under it opens with it, as mx_secrets_get32 opens it. */
	enc = mx_ssss_encrypt(key, "m.cross_signing.master", "c2VjcmV0", &e);
	s = mx_ssss_decrypt(key, "m.cross_signing.master", enc, &e);
	is_str(s, "c2VjcmV0", "random key: a secret stored under it opens");
	free(s);
	json_decref(enc);
	json_decref(desc);
	json_decref(desc2);
	free(id);
	free(id2);
}

static void
passphrase_key(void)
{
	uint8_t key[32], again[32];
	const json_t *pp;
	char *id = NULL;
	json_t *desc = NULL;
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_secrets_new_key("correct horse", key, &id, &desc, &e) == 0,
	    "passphrase: made (%s)", e.msg);
	pp = json_object_get(desc, "passphrase");
	is_str(mx_json_str(pp, "algorithm"), "m.pbkdf2",
	    "passphrase: m.pbkdf2");
	ok(alnum32(mx_json_str(pp, "salt")),
	    "passphrase: a 32-character salt");
	ok(json_integer_value(json_object_get(pp, "iterations")) ==
		MX_SECRETS_ITERATIONS,
	    "passphrase: %d rounds", MX_SECRETS_ITERATIONS);
	ok(json_integer_value(json_object_get(pp, "bits")) == 256,
	    "passphrase: 256 bits");
	ok(mx_secrets_pass_key(desc, "correct horse", again, &e) == 0 &&
		memcmp(key, again, 32) == 0,
	    "passphrase: read back, the same key (%s)", e.msg);
	mx_err_clear(&e);
	ok(mx_secrets_pass_key(desc, "wrong horse", again, &e) == -1 &&
		e.status == MX_NO,
	    "passphrase: a wrong one is refused");
	json_decref(desc);
	free(id);
}

int
main(void)
{
	mx_crypto_init();
	random_key();
	passphrase_key();
	return done();
}
