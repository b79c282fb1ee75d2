/*
 * identity: sealed device identities (MX_IDENTITY).  Round trip; a wrong
 * passphrase, any changed byte, a truncated or foreign line and absurd
 * key-derivation parameters are all refused.  Each open costs an Argon2id
 * derivation, so the tampering is sampled, not exhaustive.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "identity.h"
#include "json.h"
#include "tap.h"

#define PASS "correct horse battery staple"

static json_t *
payload(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "homeserver",
	    "https://hs.example.org", "user_id", "@ci:example.org",
	    "device_id", "CIDEVICE", "access_token", "syt_secret",
	    "account", "AAECAwQF");
}

/* The raw bytes of a sealed line (caller frees); *n their count. */
static uint8_t *
raw(const char *line, size_t *n)
{
	const char *b = line + strlen(MX_IDENTITY_PREFIX);
	uint8_t *out = malloc(strlen(b) + 1);

	if (mx_b64_dec(out, strlen(b), n, b, strlen(b)) != 0)
		*n = 0;
	return out;
}

static char *
line_of(const uint8_t *p, size_t n)
{
	char *s = malloc(strlen(MX_IDENTITY_PREFIX) + mx_b64_enclen(n) + 1);

	strcpy(s, MX_IDENTITY_PREFIX);
	mx_b64_enc(s + strlen(MX_IDENTITY_PREFIX), p, n);
	return s;
}

static void
refused(const char *line, const char *pass, const char *want,
    const char *name)
{
	struct mx_err e;
	json_t *j;

	mx_err_clear(&e);
	j = mx_identity_open(line, pass, &e);
	ok(j == NULL && e.status == MX_LOCAL && strstr(e.msg, want) != NULL,
	    "%s (%s)", name, e.msg);
	json_decref(j);
}

int
main(void)
{
	static const size_t flips[] = { 0, 5, 9, 30, 50, 60, 70 };
	json_t *p, *j;
	char *a, *b, *t;
	struct mx_err e;
	uint8_t *r;
	size_t n, i;

	if (mx_crypto_init() != 0)
		return 1;
	mx_err_clear(&e);
	p = payload();
	a = mx_identity_seal(p, PASS, &e);
	b = mx_identity_seal(p, PASS, &e);
	ok(a != NULL && strncmp(a, MX_IDENTITY_PREFIX,
	    strlen(MX_IDENTITY_PREFIX)) == 0, "sealed with the prefix");
	ok(a != NULL && b != NULL && strcmp(a, b) != 0, "fresh salt and nonce "
	    "each time");
	ok(strstr(a, "syt_secret") == NULL, "the token is not readable");
	j = mx_identity_open(a, PASS, &e);
	ok(j != NULL && json_equal(j, p), "opens to the same payload");
	json_decref(j);

	refused(a, "wrong", "wrong passphrase", "a wrong passphrase");
	r = raw(a, &n);
	/* header (ops, mem), salt, nonce, ciphertext, tag */
	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		size_t at = flips[i] < n ? flips[i] : n - 1;

		if (at < 8)
			continue;	/* parameters: tested below */
		r[at] ^= 0x01;
		t = line_of(r, n);
		refused(t, PASS, "identity:", "a changed byte");
		free(t);
		r[at] ^= 0x01;
	}
	r[n - 1] ^= 0x80;
	t = line_of(r, n);
	refused(t, PASS, "wrong passphrase or damaged", "a changed tag");
	free(t);
	r[n - 1] ^= 0x80;
	t = line_of(r, n - 20);
	refused(t, PASS, "identity:", "truncated");
	free(t);
	t = line_of(r, 30);
	refused(t, PASS, "malformed", "shorter than a header");
	free(t);
	/* ops = 1000, then mem = 2^31 KiB: refused before any work */
	r[0] = 0; r[1] = 0; r[2] = 0x03; r[3] = 0xe8;
	t = line_of(r, n);
	refused(t, PASS, "bad key derivation parameters", "absurd ops");
	free(t);
	r[0] = 0; r[1] = 0; r[2] = 0; r[3] = 2;
	r[4] = 0x80; r[5] = 0; r[6] = 0; r[7] = 0;
	t = line_of(r, n);
	refused(t, PASS, "bad key derivation parameters", "absurd memory");
	free(t);
	/* one more than mx writes: ops 3; 65 MiB */
	r[3] = 3;
	r[4] = 0; r[5] = 0; r[6] = 0x01; r[7] = 0;
	t = line_of(r, n);
	refused(t, PASS, "bad key derivation parameters", "ops above mx's");
	free(t);
	r[3] = 2;
	r[4] = 0; r[5] = 0x01; r[6] = 0x04; r[7] = 0;
	t = line_of(r, n);
	refused(t, PASS, "bad key derivation parameters", "memory above mx's");
	free(t);
	free(r);
	refused("mx-identity-v2:AAAA", PASS, "not an mx identity",
	    "another version");
	refused("syt_plain_token", PASS, "not an mx identity", "a bare token");
	refused(MX_IDENTITY_PREFIX "!!!not base64!!!", PASS, "malformed",
	    "bad base64");
	free(a);
	free(b);
	json_decref(p);
	return done();
}
