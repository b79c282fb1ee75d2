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

/* --- streaming: a file read twice, never whole in memory ------------------ */

#define TEXT_CHUNK 65536

struct mx_keyexport_in {
	struct mx_keyexport_src src;
	int state;	/* 0: before the armour, 1: in it, 2: after it */
	size_t match;	/* bytes of BEGIN matched so far */
	char quad[4];	/* base64 characters not yet decoded */
	int nquad, pad; /* pad: '=' seen, the body ends */
	char text[TEXT_CHUNK];	     /* raw text read */
	size_t tpos, tlen;	     /* its unread part */
	uint8_t head[HDR_LEN];	     /* version, salt, IV, rounds */
	uint8_t mac[MX_SHA256_LEN];  /* the file's MAC (after pass 1) */
	uint8_t tail[MX_SHA256_LEN]; /* the last bytes seen: maybe the MAC */
	size_t ntail;
	unsigned long long len;	  /* body bytes decoded in this pass */
	unsigned long long total; /* the body's length (after pass 1) */
	struct keys k;
	struct mx_hmac256 h;
	int headed, opened;
	int broken; /* the cipher failed: the read must fail */
};

/* Next raw character of the text, or -1 at its end (-2 on a read error). */
static int
next_char(struct mx_keyexport_in *in)
{
	long n;

	if (in->tpos == in->tlen) {
		n = in->src.read(in->src.u, in->text, sizeof(in->text));
		if (n < 0)
			return -2;
		if (n == 0)
			return -1;
		in->tpos = 0;
		in->tlen = (size_t)n;
	}
	return (unsigned char)in->text[in->tpos++];
}

/* The footer's text after its first '-': 0 when it is all there. */
static int
footer(struct mx_keyexport_in *in)
{
	static const char end[] = END;
	size_t i;

	for (i = 1; i < sizeof(end) - 1; i++)
		if (next_char(in) != end[i])
			return -1;
	return 0;
}

/*
 * Up to max decoded body bytes into out: the armour's header skipped,
 * whitespace dropped, the body ending at the footer's first '-' (base64
 * has none).  Returns the count (0 at the end of the body), or -1 when the
 * text is not an export (no armour, bad base64, no footer).
 */
static long
decode(struct mx_keyexport_in *in, uint8_t *out, size_t max)
{
	static const char begin[] = BEGIN;
	size_t got = 0, n;
	int ch;

	while (in->state == 0) {
		if ((ch = next_char(in)) < 0)
			return -1;
		if (ch == begin[in->match])
			in->match++;
		else
			in->match = ch == begin[0];
		if (in->match == sizeof(begin) - 1)
			in->state = 1;
	}
	while (in->state == 1 && got + 3 <= max) {
		if ((ch = next_char(in)) < 0)
			return -1;
		if (ch != '\0' && strchr(" \t\r\n", ch) != NULL)
			continue;
		if (ch == '-' && footer(in) != 0)
			return -1;
		if (ch == '-') {
			/* The end; unpadded base64 (nio writes it) may leave
			 * two or three characters of a last group. */
			in->state = 2;
			if (in->nquad == 1 ||
			    (in->nquad > 1 &&
				mx_b64_dec(out + got, max - got, &n, in->quad,
				    (size_t)in->nquad) != 0))
				return -1;
			if (in->nquad > 1)
				got += n;
			in->nquad = 0;
			break;
		}
		if (in->pad && ch != '=')
			return -1;
		in->pad |= ch == '=';
		in->quad[in->nquad++] = (char)ch;
		if (in->nquad < 4)
			continue;
		in->nquad = 0;
		if (mx_b64_dec(out + got, max - got, &n, in->quad, 4) != 0)
			return -1;
		got += n;
	}
	return (long)got;
}

/* Restart the text from its beginning, for the second pass. */
static int
restart(struct mx_keyexport_in *in)
{
	if (in->src.rewind(in->src.u) != 0)
		return -1;
	in->state = 0;
	in->match = 0;
	in->nquad = in->pad = 0;
	in->tpos = in->tlen = 0;
	in->len = 0;
	in->ntail = 0;
	return 0;
}

/*
 * Take n decoded bytes of this pass: the first HDR_LEN are the header
 * (kept), the last 32 the MAC (held back in tail until the end), all the
 * others go to the MAC (when keyed) and, in pass 2, out through plain
 * (decrypted by c).  Returns the count of plaintext bytes written to plain.
 */
static size_t
take(struct mx_keyexport_in *in, const uint8_t *p, size_t n,
    struct mx_aes_ctr *c, uint8_t *plain)
{
	uint8_t both[MX_SHA256_LEN + TEXT_CHUNK];
	size_t k, all, give, w = 0;

	while (n > 0 && in->len < HDR_LEN) {
		in->head[in->len++] = *p++;
		n--;
		if (in->len == HDR_LEN && in->opened)
			mx_hmac256_update(&in->h, in->head, HDR_LEN);
	}
	if (n == 0)
		return 0;
	memcpy(both, in->tail, in->ntail);
	memcpy(both + in->ntail, p, n);
	all = in->ntail + n;
	give = all > MX_SHA256_LEN ? all - MX_SHA256_LEN : 0;
	if (give > 0 && in->opened)
		mx_hmac256_update(&in->h, both, give);
	if (give > 0 && c != NULL) {
		if (mx_aes_ctr_update(c, plain, both, give) == 0)
			w = give;
		else
			in->broken = 1;
	}
	k = all - give;
	memcpy(in->tail, both + give, k);
	in->ntail = k;
	in->len += n;
	mx_wipe(both, all);
	return w;
}

struct mx_keyexport_in *
mx_keyexport_in_new(const struct mx_keyexport_src *src)
{
	struct mx_keyexport_in *in = mx_xcalloc(1, sizeof(*in));

	in->src = *src;
	return in;
}

void
mx_keyexport_in_free(struct mx_keyexport_in *in)
{
	if (in == NULL)
		return;
	mx_wipe(in, sizeof(*in));
	free(in);
}

int
mx_keyexport_in_head(struct mx_keyexport_in *in, uint32_t *rounds,
    enum mx_keyexport_why *why, struct mx_err *e)
{
	uint8_t buf[HDR_LEN + 3];
	size_t got = 0;
	long n;

	/* A look at the header alone, then back to the start: the passes
	 * that follow read the whole body from there. */
	while (got < HDR_LEN) {
		if ((n = decode(in, buf + got, sizeof(buf) - got)) <= 0) {
			fail(why, MX_KEYEXPORT_NOTEXPORT, e,
			    "not a key export file");
			return -1;
		}
		got += (size_t)n;
	}
	memcpy(in->head, buf, HDR_LEN);
	mx_wipe(buf, sizeof(buf));
	*rounds = export_rounds(in->head);
	if (in->head[0] != 0x01) {
		fail(why, MX_KEYEXPORT_VERSION, e,
		    "key export: unsupported version");
		return -1;
	}
	if (*rounds == 0 || *rounds > MX_KEYEXPORT_MAX_ROUNDS) {
		fail(why, MX_KEYEXPORT_ROUNDS_BAD, e,
		    "key export: unreasonable round count");
		return -1;
	}
	if (restart(in) != 0) {
		fail(why, MX_KEYEXPORT_NOTEXPORT, e,
		    "key export: cannot read the file again");
		return -1;
	}
	in->headed = 1;
	return 0;
}

/* The rest of a pass, through take(); -1 when the text is not an export. */
static int
pass(struct mx_keyexport_in *in, struct mx_aes_ctr *c,
    int (*sink)(void *u, const char *p, size_t n, struct mx_err *e), void *u,
    struct mx_err *e)
{
	uint8_t buf[TEXT_CHUNK / 4 * 3], plain[TEXT_CHUNK + MX_SHA256_LEN];
	size_t w;
	long n;
	int rc = 0;

	while (rc == 0 && (n = decode(in, buf, sizeof(buf))) > 0) {
		w = take(in, buf, (size_t)n, c, plain);
		if (in->broken)
			rc = mx_err_set(e, MX_LOCAL,
			    "key export: decryption failed");
		else if (w > 0 && sink != NULL)
			rc = sink(u, (const char *)plain, w, e);
		mx_wipe(plain, w);
	}
	mx_wipe(buf, sizeof(buf));
	if (rc != 0)
		return rc;
	if (n < 0 || in->len < MIN_LEN) {
		fail(NULL, MX_KEYEXPORT_NOTEXPORT, e, "not a key export file");
		return -1;
	}
	return 0;
}

int
mx_keyexport_in_open(struct mx_keyexport_in *in, const char *pass_,
    enum mx_keyexport_why *why, struct mx_err *e)
{
	uint8_t mac[MX_SHA256_LEN];

	if (!in->headed) {
		fail(why, MX_KEYEXPORT_NOTEXPORT, e,
		    "key export: header not read");
		return -1;
	}
	if (derive(&in->k, pass_, in->head + 1, export_rounds(in->head)) !=
	    0) {
		fail(why, MX_KEYEXPORT_MAC, e,
		    "key export: cannot derive key");
		return -1;
	}
	in->opened = 1;
	mx_hmac256_init(&in->h, in->k.mac, sizeof(in->k.mac));
	if (pass(in, NULL, NULL, NULL, e) != 0) {
		if (why != NULL)
			*why = MX_KEYEXPORT_NOTEXPORT;
		return -1;
	}
	mx_hmac256_final(&in->h, mac);
	if (!mx_ct_eq(mac, in->tail, sizeof(mac))) {
		fail(why, MX_KEYEXPORT_MAC, e,
		    "key export: bad passphrase or corrupted file");
		return -1;
	}
	memcpy(in->mac, mac, sizeof(mac));
	in->total = in->len;
	if (why != NULL)
		*why = MX_KEYEXPORT_OK;
	return 0;
}

int
mx_keyexport_in_read(struct mx_keyexport_in *in,
    int (*sink)(void *u, const char *p, size_t n, struct mx_err *e), void *u,
    struct mx_err *e)
{
	uint8_t mac[MX_SHA256_LEN];
	struct mx_aes_ctr *c;
	int rc;

	if (in->total == 0)
		return mx_err_set(e, MX_LOCAL, "key export: not opened");
	if (restart(in) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "key export: cannot read again");
	/* The counter block is the IV of the header read before; a header
	 * changed since fails the MAC below. */
	if ((c = mx_aes_ctr_new(in->k.aes, in->head + 1 + SALT_LEN)) == NULL)
		return mx_err_set(e, MX_LOCAL,
		    "key export: decryption failed");
	mx_hmac256_init(&in->h, in->k.mac, sizeof(in->k.mac));
	rc = pass(in, c, sink, u, e);
	mx_aes_ctr_free(c);
	if (rc != 0)
		return -1;
	/* What was read again must be what was authenticated. */
	mx_hmac256_final(&in->h, mac);
	if (in->len != in->total || !mx_ct_eq(mac, in->mac, sizeof(mac)) ||
	    !mx_ct_eq(in->tail, in->mac, sizeof(mac)))
		return mx_err_set(e, MX_LOCAL,
		    "key export: the file changed while it was read");
	return 0;
}
