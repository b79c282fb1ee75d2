/*
 * keyexport: Element's room-key export file.  Spec: Client-Server API,
 * "Key exports" / "Key export format"; notes in research/crypto.md §4.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "keyexport.h"
#include "util.h"
#include "banned.h"

#define BEGIN "-----BEGIN MEGOLM SESSION DATA-----"
#define END "-----END MEGOLM SESSION DATA-----"
#define SALT_LEN 16
#define HDR_LEN (1 + SALT_LEN + MX_AES_IV_LEN + 4) /* before ciphertext */
#define MIN_LEN (HDR_LEN + MX_SHA256_LEN)
#define WRAP 128 /* Element's line length: 96 raw bytes */

/* The PBKDF2 output: AES key then HMAC key. */
struct keys {
	uint8_t aes[MX_AES_KEY_LEN];
	uint8_t mac[MX_SHA256_LEN];
};

static int
derive(struct keys *k, const char *pass, const uint8_t *salt, uint32_t rounds)
{
	return mx_pbkdf2_sha512((uint8_t *)k, sizeof(*k), pass, strlen(pass),
	    salt, SALT_LEN, rounds);
}

/* Armour the body: header, base64 (padded) in WRAP-column lines, footer. */
static char *
armour(const uint8_t *body, size_t n)
{
	struct mx_buf b = MX_BUF_INIT;
	char *s, *line;
	size_t len, i;

	s = mx_xmalloc(mx_b64_enclen(n) + 4);
	mx_b64_enc(s, body, n);
	len = strlen(s);
	while (len % 4 != 0)
		s[len++] = '=';
	s[len] = '\0';
	mx_buf_adds(&b, BEGIN "\n");
	for (i = 0; i < len; i += WRAP) {
		line = s + i;
		mx_buf_add(&b, line, len - i < WRAP ? len - i : WRAP);
		mx_buf_adds(&b, "\n");
	}
	mx_buf_adds(&b, END "\n");
	free(s);
	return mx_buf_detach(&b);
}

char *
mx_keyexport_encrypt(const char *json, size_t n, const char *pass,
    uint32_t rounds, struct mx_err *e)
{
	struct keys k;
	uint8_t *body;
	size_t len = MIN_LEN + n;
	char *out = NULL;

	if (rounds == 0 || rounds > MX_KEYEXPORT_MAX_ROUNDS) {
		mx_err_set(e, MX_LOCAL, "key export: bad round count %lu",
		    (unsigned long)rounds);
		return NULL;
	}
	body = mx_xmalloc(len);
	body[0] = 0x01;
	mx_random(body + 1, SALT_LEN + MX_AES_IV_LEN);
	/* Clear bit 63 of the counter so 64- and 128-bit counters agree. */
	body[1 + SALT_LEN + 8] &= 0x7f;
	mx_be32_put(body + 1 + SALT_LEN + MX_AES_IV_LEN, rounds);
	if (derive(&k, pass, body + 1, rounds) != 0 ||
	    mx_aes256_ctr(body + HDR_LEN, k.aes, body + 1 + SALT_LEN, json,
		n) != 0) {
		mx_err_set(e, MX_LOCAL, "key export: encryption failed");
		goto out;
	}
	mx_hmac_sha256(body + HDR_LEN + n, k.mac, sizeof(k.mac), body,
	    HDR_LEN + n);
	out = armour(body, len);
out:
	mx_wipe(&k, sizeof(k));
	mx_wipe(body, len);
	free(body);
	return out;
}

/* The first occurrence of the NUL-terminated needle in n bytes, or NULL. */
static const char *
find(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

/*
 * Find the armour and decode what lies between header and footer,
 * whitespace dropped.  Returns the body (caller frees) or NULL.
 */
static uint8_t *
unarmour(const char *text, size_t n, size_t *len)
{
	const char *p, *q, *end = text + n;
	char *s;
	uint8_t *body;
	size_t k = 0;

	p = find(text, n, BEGIN);
	if (p == NULL)
		return NULL;
	p += strlen(BEGIN);
	q = find(p, (size_t)(end - p), END);
	if (q == NULL)
		return NULL;
	s = mx_xmalloc((size_t)(q - p) + 1);
	for (; p < q; p++)
		if (strchr(" \t\r\n", *p) == NULL || *p == '\0')
			s[k++] = *p;
	body = mx_xmalloc(k / 4 * 3 + 3);
	if (mx_b64_dec(body, k / 4 * 3 + 3, len, s, k) != 0) {
		free(body);
		body = NULL;
	}
	free(s);
	return body;
}

/* The round count of an export body (after version, salt and IV). */
static uint32_t
export_rounds(const uint8_t *body)
{
	return mx_be32_get(body + 1 + SALT_LEN + MX_AES_IV_LEN);
}

static char *
fail(enum mx_keyexport_why *why, enum mx_keyexport_why w, struct mx_err *e,
    const char *msg)
{
	if (why != NULL)
		*why = w;
	mx_err_set(e, MX_LOCAL, "%s", msg);
	return NULL;
}

/* Check the MAC and decrypt a body of len >= MIN_LEN bytes. */
static char *
open_body(const uint8_t *body, size_t len, const char *pass, size_t *outlen,
    enum mx_keyexport_why *why, struct mx_err *e)
{
	struct keys k;
	uint8_t mac[MX_SHA256_LEN];
	size_t n = len - MIN_LEN;
	char *out = NULL;

	if (derive(&k, pass, body + 1,
		mx_be32_get(body + 1 + SALT_LEN + MX_AES_IV_LEN)) != 0) {
		fail(why, MX_KEYEXPORT_MAC, e,
		    "key export: cannot derive key");
		goto out;
	}
	mx_hmac_sha256(mac, k.mac, sizeof(k.mac), body, HDR_LEN + n);
	if (!mx_ct_eq(mac, body + HDR_LEN + n, sizeof(mac))) {
		fail(why, MX_KEYEXPORT_MAC, e,
		    "key export: bad passphrase or corrupted file");
		goto out;
	}
	out = mx_xmalloc(n + 1);
	if (mx_aes256_ctr((uint8_t *)out, k.aes, body + 1 + SALT_LEN,
		body + HDR_LEN, n) != 0) {
		mx_wipe(out, n);
		free(out);
		out = fail(why, MX_KEYEXPORT_MAC, e,
		    "key export: decryption failed");
		goto out;
	}
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	if (why != NULL)
		*why = MX_KEYEXPORT_OK;
out:
	mx_wipe(&k, sizeof(k));
	return out;
}

char *
mx_keyexport_decrypt(const char *text, size_t n, const char *pass, size_t *len,
    enum mx_keyexport_why *why, struct mx_err *e)
{
	uint8_t *body;
	size_t blen = 0;
	uint32_t rounds;
	char *out = NULL;

	body = unarmour(text, n, &blen);
	if (body == NULL || blen < MIN_LEN)
		fail(why, MX_KEYEXPORT_NOTEXPORT, e, "not a key export file");
	else if (body[0] != 0x01)
		fail(why, MX_KEYEXPORT_VERSION, e,
		    "key export: unsupported version");
	else if ((rounds = export_rounds(body)) == 0 ||
	    rounds > MX_KEYEXPORT_MAX_ROUNDS)
		fail(why, MX_KEYEXPORT_ROUNDS_BAD, e,
		    "key export: unreasonable round count");
	else
		out = open_body(body, blen, pass, len, why, e);
	free(body);
	return out;
}

int
mx_keyexport_rounds(const char *text, size_t n, uint32_t *rounds,
    struct mx_err *e)
{
	uint8_t *body;
	size_t blen = 0;
	int r = -1;

	body = unarmour(text, n, &blen);
	if (body == NULL || blen < MIN_LEN)
		mx_err_set(e, MX_LOCAL, "not a key export file");
	else {
		*rounds = mx_be32_get(body + 1 + SALT_LEN + MX_AES_IV_LEN);
		r = 0;
	}
	free(body);
	return r;
}
