/*
 * identity: sealed device identities (see identity.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <jansson.h>

#include "b64.h"
#include "crypto.h"
#include "identity.h"
#include "json.h"
#include "session.h"
#include "util.h"
#include "banned.h"

#define SALT 16
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HDR (4 + 4 + SALT + NONCE)
/* Refused above what mx_identity_seal writes, before deriving anything: a
 * forged header must not make a CI job allocate or spin. */
#define MAX_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MAX_MEM_KIB (crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024)

static int
derive(uint8_t key[32], const char *pass, const uint8_t *hdr, struct mx_err *e)
{
	uint32_t ops = mx_be32_get(hdr), mem = mx_be32_get(hdr + 4);

	if (ops < 1 || ops > MAX_OPS || mem < 8 || mem > MAX_MEM_KIB)
		return mx_err_set(e, MX_LOCAL,
		    "identity: bad key derivation parameters");
	if (crypto_pwhash(key, 32, pass, strlen(pass), hdr + 8, ops,
		(size_t)mem * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "identity: out of memory for argon2id");
	return 0;
}

char *
mx_identity_seal(const json_t *payload, const char *pass, struct mx_err *e)
{
	char *pt = mx_json_compact(payload), *out = NULL;
	size_t n = strlen(pt), len = HDR + n + TAG;
	uint8_t *buf = mx_xmalloc(len), *key = mx_secure_alloc(32);

	/* INTERACTIVE: a CI job pays the derivation at every run. */
	mx_be32_put(buf, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	mx_be32_put(buf + 4, crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);
	mx_random(buf + 8, SALT + NONCE);
	if (derive(key, pass, buf, e) == 0) {
		crypto_aead_xchacha20poly1305_ietf_encrypt(buf + HDR, NULL,
		    (const uint8_t *)pt, n, buf, HDR, NULL, buf + 8 + SALT,
		    key);
		out = mx_xmalloc(
		    strlen(MX_IDENTITY_PREFIX) + mx_b64_enclen(len) + 1);
		memcpy(out, MX_IDENTITY_PREFIX, strlen(MX_IDENTITY_PREFIX));
		mx_b64_enc(out + strlen(MX_IDENTITY_PREFIX), buf, len);
	}
	mx_wipe(pt, n);
	free(pt);
	free(buf);
	mx_secure_free(key);
	return out;
}

json_t *
mx_identity_open(const char *line, const char *pass, struct mx_err *e)
{
	size_t n, len = 0, pl = strlen(MX_IDENTITY_PREFIX);
	uint8_t *buf, *key, *pt;
	unsigned long long ptlen;
	json_t *j = NULL;

	if (strncmp(line, MX_IDENTITY_PREFIX, pl) != 0) {
		mx_err_set(e, MX_LOCAL, "not an mx identity (no '%s')",
		    MX_IDENTITY_PREFIX);
		return NULL;
	}
	line += pl;
	n = strcspn(line, "\r\n");
	buf = mx_xmalloc(n + 1);
	if (mx_b64_dec(buf, n, &len, line, n) != 0 || len < HDR + TAG) {
		free(buf);
		mx_err_set(e, MX_LOCAL, "identity: malformed");
		return NULL;
	}
	key = mx_secure_alloc(32);
	pt = mx_secure_alloc(len);
	if (derive(key, pass, buf, e) == 0) {
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen,
			NULL, buf + HDR, len - HDR, buf, HDR, buf + 8 + SALT,
			key) != 0)
			mx_err_set(e, MX_LOCAL,
			    "identity: wrong passphrase or damaged");
		else if ((j = mx_json_parse((const char *)pt, ptlen, e)) &&
		    !json_is_object(j)) {
			json_decref(j);
			j = NULL;
			mx_err_set(e, MX_LOCAL, "identity: malformed payload");
		}
	}
	mx_secure_free(pt);
	mx_secure_free(key);
	free(buf);
	return j;
}

int
mx_identity_session(const char *line, const char *pass, struct mx_session *s,
    char **account, size_t *n, struct mx_err *e)
{
	json_t *j = mx_identity_open(line, pass, e);
	const char *hs = mx_json_str(j, "homeserver");
	const char *user = mx_json_str(j, "user_id");
	const char *dev = mx_json_str(j, "device_id");
	const char *tok = mx_json_str(j, "access_token");
	const char *acct = mx_json_str(j, "account");
	int rc = -1;

	*account = NULL;
	if (j == NULL)
		return -1;
	if (hs == NULL || user == NULL || dev == NULL || tok == NULL ||
	    acct == NULL) {
		mx_err_set(e, MX_LOCAL, "MX_IDENTITY: incomplete identity");
		goto out;
	}
	*account = mx_secure_alloc(strlen(acct) + 1);
	if (mx_b64_dec((uint8_t *)*account, strlen(acct), n, acct,
		strlen(acct)) != 0) {
		mx_secure_free(*account);
		*account = NULL;
		mx_err_set(e, MX_LOCAL, "MX_IDENTITY: bad account");
		goto out;
	}
	s->homeserver = mx_xstrdup(hs);
	s->user_id = mx_xstrdup(user);
	s->device_id = mx_xstrdup(dev);
	mx_session_set_token(s, tok);
	rc = 0;
out:
	json_decref(j);
	return rc;
}
