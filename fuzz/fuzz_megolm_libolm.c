/*
 * fuzz_megolm_libolm: mx's Megolm against libolm 3 (the only target that
 * links it), on messages that get past the signature and the MAC, so that
 * decryption itself is compared.  Both sides' sessions come from the same
 * 160 fixed random bytes; the inbound ones start at index FIRST.  The
 * first input byte picks the mode:
 *
 *   0  plaintext: the rest is encrypted by mx and by libolm from the same
 *      session at index 0.  The two messages must be byte-identical, each
 *      side must decrypt the other's to the input at index 0.
 *   1  re-MACed ciphertext: a header byte of layout flags, a 32-bit index,
 *      then ciphertext bytes.  A well-formed message is built around them
 *      (fields in either order, unknown fields, an index field given twice
 *      (the last counts, as in protobuf and libolm), a non-minimal varint,
 *      or a wrong version), then MACed with the keys of that index and signed.
 *      The verdict is known exactly: AES-256-CBC of the ciphertext without
 *      padding removal (OpenSSL here) gives the bytes, and the message
 *      decrypts iff the index is known, the length a non-zero multiple of
 *      16 and the PKCS#7 padding valid.  mx must match that verdict and
 *      plaintext exactly; libolm too, but for the padding, which it does
 *      not check (it takes the last byte as a length when that fits, so it
 *      may say yes where mx says no, never the reverse); lengths that are
 *      not a multiple of 16 are not given to libolm, which reads and
 *      writes past the block then (see KNOWN below).
 *   2  re-signed raw body: a 16-bit index, then the message body (version
 *      byte and fields) as it comes.  It is MACed with the keys of the
 *      index its first 0x08 field names (else of the 16-bit one) and
 *      signed, so both parsers see a validly signed message of any shape.
 *      Whatever mx decrypts, libolm must decrypt to the same plaintext
 *      and index (mx is never more lenient than libolm).
 *
 * KNOWN (left out so that a run stays green; each is in the report that
 * came with this file): libolm 3.2.13 decrypts a zero-length or partial
 * last block (reading past the ciphertext), so mode 1 gives it only whole
 * blocks and mode 2 gives it room on both sides of its output buffer.
 * (mx once read a field tag as one byte where libolm reads a varint; the
 * seed corpus keeps the input that found it.)
 * Built with -DFUZZ_MEGOLM_LIBOLM_SEEDS (no -fsanitize=fuzzer), main()
 * writes the seed corpus to argv[1].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>
#include <openssl/evp.h>

#include "b64.h"
#include "crypto.h"
#include "megolm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIRST 3			/* first index the inbound sessions know */
#define MAXPT 4096
#define MAXMSG (MAXPT + 256)
#define MARGIN 32		/* room around libolm's output */

static uint8_t rnd[MX_MEGOLM_RAND_LEN];
static uint8_t sk[MX_ED25519_SK_LEN];
static char key_b64[512];	/* the v2 session key at FIRST */

struct verdict {
	int ok;
	uint32_t idx;
	size_t len;
	uint8_t *pt;		/* MAXMSG + 2 * MARGIN bytes */
};

/* An assertion that names itself: a crash report says which. */
#define must(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static OlmOutboundGroupSession *
lo_out_new(void)
{
	OlmOutboundGroupSession *s = olm_outbound_group_session(malloc(
	    olm_outbound_group_session_size()));
	uint8_t tmp[sizeof rnd];

	memcpy(tmp, rnd, sizeof rnd);	/* libolm wipes its random input */
	must(olm_init_outbound_group_session(s, tmp, sizeof tmp) !=
	    olm_error());
	return s;
}

static void
lo_out_free(OlmOutboundGroupSession *s)
{
	olm_clear_outbound_group_session(s);
	free(s);
}

static OlmInboundGroupSession *
lo_in_new(const char *key)
{
	OlmInboundGroupSession *s = olm_inbound_group_session(malloc(
	    olm_inbound_group_session_size()));

	must(olm_init_inbound_group_session(s, (const uint8_t *)key,
	    strlen(key)) != olm_error());
	return s;
}

static void
lo_in_free(OlmInboundGroupSession *s)
{
	olm_clear_inbound_group_session(s);
	free(s);
}

/* libolm's verdict on the raw message m; v->pt gets the plaintext. */
static void
lo_decrypt(const char *key, const uint8_t *m, size_t n, struct verdict *v)
{
	OlmInboundGroupSession *s = lo_in_new(key);
	char *b = malloc(mx_b64_enclen(n) + 1);
	size_t r;

	mx_b64_enc(b, m, n);
	memset(v->pt, 0, MAXMSG + 2 * MARGIN);
	r = olm_group_decrypt(s, (uint8_t *)b, strlen(b), v->pt + MARGIN,
	    MAXMSG, &v->idx);
	v->ok = r != olm_error();
	v->len = v->ok ? r : 0;
	free(b);
	lo_in_free(s);
}

static void
mx_decrypt(const char *key, const uint8_t *m, size_t n, struct verdict *v)
{
	uint8_t raw[MX_MEGOLM_SESSION_KEY_LEN + 4], *copy = malloc(n + 1);
	struct mx_megolm_in *s;
	size_t rn;

	must(mx_b64_dec(raw, sizeof raw, &rn, key, strlen(key)) == 0);
	must((s = mx_megolm_in_new(raw, rn, NULL)) != NULL);
	memcpy(copy, m, n);	/* exact size: ASan sees overruns */
	v->ok = mx_megolm_decrypt(s, v->pt + MARGIN, MAXMSG, &v->len,
	    &v->idx, copy, n, NULL) == 0;
	if (v->ok && v->len > n)
		abort();
	mx_megolm_in_free(s);
	free(copy);
}

static int
same(const struct verdict *a, const struct verdict *b)
{
	return a->ok == b->ok && (!a->ok || (a->idx == b->idx &&
	    a->len == b->len && memcmp(a->pt + MARGIN, b->pt + MARGIN,
	    a->len) == 0));
}

/* ---- mode 0: the same plaintext through both encryptors ---- */

static void
plaintext(const uint8_t *pt, size_t n)
{
	OlmOutboundGroupSession *lo = lo_out_new();
	struct mx_megolm_out *mo = mx_megolm_out_new_rand(rnd);
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], *m1, *m2, *lb;
	char mk[512], lk[512];
	struct verdict a, b;
	size_t n1, n2, ln;

	mx_megolm_out_session_key(mo, key);
	mx_b64_enc(mk, key, sizeof key);
	ln = olm_outbound_group_session_key(lo, (uint8_t *)lk, sizeof lk - 1);
	must(ln != olm_error());
	lk[ln] = '\0';
	must(strcmp(mk, lk) == 0);
	m1 = malloc(mx_megolm_encrypt_len(n));
	must(mx_megolm_encrypt(mo, m1, mx_megolm_encrypt_len(n), &n1, pt, n,
	    NULL) == 0);
	ln = olm_group_encrypt_message_length(lo, n);
	lb = malloc(ln + 1);
	must(olm_group_encrypt(lo, pt, n, lb, ln) == ln);
	m2 = malloc(ln);
	must(mx_b64_dec(m2, ln, &n2, (const char *)lb, ln) == 0);
	must(n1 == n2 && memcmp(m1, m2, n1) == 0);	/* byte-identical */
	a.pt = malloc(MAXMSG + 2 * MARGIN);
	b.pt = malloc(MAXMSG + 2 * MARGIN);
	mx_decrypt(lk, m2, n2, &a);
	lo_decrypt(mk, m1, n1, &b);
	must(a.ok && a.idx == 0 && a.len == n &&
	    memcmp(a.pt + MARGIN, pt, n) == 0 && same(&a, &b));
	free(a.pt);
	free(b.pt);
	free(m1);
	free(m2);
	free(lb);
	mx_megolm_out_free(mo);
	lo_out_free(lo);
}

/* ---- building and signing messages ---- */

static size_t
varint(uint8_t *p, uint64_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

/* The AES key, MAC key and IV of index (megolm.md), from index 0. */
static void
keys_at(uint32_t index, uint8_t k[80])
{
	uint8_t r[MX_MEGOLM_RATCHET_LEN];
	uint32_t c = 0;

	memcpy(r, rnd, sizeof r);
	mx_megolm_ratchet_advance_to(r, &c, index);
	must(mx_hkdf_sha256(k, 80, NULL, 0, r, sizeof r, "MEGOLM_KEYS",
	    11) == 0);
}

/* Append the MAC under index's keys and the signature to the body
 * m[0..n); returns the message length. */
static size_t
seal(uint8_t *m, size_t n, uint32_t index)
{
	uint8_t k[80], mac[MX_SHA256_LEN];

	keys_at(index, k);
	mx_hmac_sha256(mac, k + 32, 32, m, n);
	memcpy(m + n, mac, 8);
	mx_ed25519_sign(m + n + 8, m, n + 8, sk);
	return n + 8 + MX_ED25519_SIG_LEN;
}

/* What a correct implementation says: AES-256-CBC without unpadding, then
 * strict PKCS#7.  full gets the raw blocks (n bytes). */
static int
expect(uint32_t index, const uint8_t *ct, size_t n, uint8_t *full,
    size_t *len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t k[80];
	size_t i, p;
	int l = 0;

	if (index < FIRST || index - FIRST >= (1u << 31) || n == 0 ||
	    n % 16 != 0) {
		EVP_CIPHER_CTX_free(c);
		return 0;
	}
	keys_at(index, k);
	must(c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, k,
	    k + 64) == 1 && EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_DecryptUpdate(c, full, &l, ct, (int)n) == 1 &&
	    (size_t)l == n);
	EVP_CIPHER_CTX_free(c);
	p = full[n - 1];
	if (p < 1 || p > 16)
		return 0;
	for (i = n - p; i < n; i++)
		if (full[i] != p)
			return 0;
	*len = n - p;
	return 1;
}

/* ---- mode 1: a well-formed message around fuzzed ciphertext ---- */

static uint32_t
pick_index(uint8_t flags, uint32_t raw)
{
	switch (flags & 3) {
	case 0:
		return raw % 520;	/* below FIRST, and past 256 */
	case 1:
		return FIRST + raw;	/* anywhere, past the window too */
	default:
		return raw % 8;
	}
}

static size_t
build(uint8_t *m, uint8_t flags, uint32_t index, const uint8_t *ct,
    size_t n)
{
	size_t pos = 0;
	uint8_t idx[12];
	size_t il = varint(idx, index);

	if (flags & 0x40) {	/* non-minimal: one more 7-bit group */
		idx[il - 1] |= 0x80;
		idx[il++] = 0;
	}
	m[pos++] = (flags & 0x80) ? 2 : 3;
	if (flags & 0x08) {	/* an unknown varint field first */
		m[pos++] = 0x18;
		pos += varint(m + pos, 300);
	}
	if (flags & 0x20) {	/* an earlier index field: the last wins */
		m[pos++] = 0x08;
		pos += varint(m + pos, index + 1);
	}
	if (!(flags & 0x04)) {
		m[pos++] = 0x08;
		memcpy(m + pos, idx, il);
		pos += il;
	}
	m[pos++] = 0x12;
	pos += varint(m + pos, n);
	memcpy(m + pos, ct, n);
	pos += n;
	if (flags & 0x10) {	/* an unknown length-delimited field */
		m[pos++] = 0x22;
		m[pos++] = 2;
		m[pos++] = 'x';
		m[pos++] = 'y';
	}
	if (flags & 0x04) {
		m[pos++] = 0x08;
		memcpy(m + pos, idx, il);
		pos += il;
	}
	return pos;
}

static void
ciphertext(const uint8_t *d, size_t size)
{
	uint8_t flags, *m, *full;
	struct verdict a, b;
	uint32_t index;
	size_t n, len = 0;
	int want, known;

	if (size < 5)
		return;
	flags = d[0];
	index = pick_index(flags, (uint32_t)d[1] | (uint32_t)d[2] << 8 |
	    (uint32_t)d[3] << 16 | (uint32_t)d[4] << 24);
	d += 5;
	n = size - 5;
	m = malloc(n + 128);
	full = malloc(n + 1);
	n = seal(m, build(m, flags, index, d, n), index);
	want = expect(index, d, size - 5, full, &len) && !(flags & 0x80);
	known = index >= FIRST && index - FIRST < (1u << 31) &&
	    !(flags & 0x80);
	a.pt = malloc(MAXMSG + 2 * MARGIN);
	b.pt = malloc(MAXMSG + 2 * MARGIN);
	mx_decrypt(key_b64, m, n, &a);
	if (a.ok != want || (want && (a.idx != index || a.len != len ||
	    memcmp(a.pt + MARGIN, full, len) != 0)))
		abort();
	if (size - 5 > 0 && (size - 5) % 16 == 0) {
		lo_decrypt(key_b64, m, n, &b);
		if (want && !same(&a, &b))
			abort();
		/* libolm's yes on bad padding: the last byte read as a
		 * length, whatever the bytes before it */
		if (!want && b.ok && (!known || full[size - 6] > size - 5 ||
		    b.len != size - 5 - full[size - 6] ||
		    memcmp(b.pt + MARGIN, full, b.len) != 0))
			abort();
	}
	free(a.pt);
	free(b.pt);
	free(m);
	free(full);
}

/* ---- mode 2: any body, validly signed ---- */

/* The index to MAC with: the varint after the first 0x08 byte past the
 * version (where a well-formed body has its index), else fallback.  So
 * most fuzzed bodies get a MAC that one of the parsers can accept. */
static uint32_t
mac_index(const uint8_t *m, size_t n, uint32_t fallback)
{
	const uint8_t *p = n > 1 ? memchr(m + 1, 0x08, n - 1) : NULL;
	uint32_t v = 0;
	unsigned shift;

	if (p == NULL)
		return fallback;
	for (p++, shift = 0; p < m + n && shift < 35; p++, shift += 7) {
		v |= (uint32_t)(*p & 0x7f) << shift;
		if (!(*p & 0x80))
			break;
	}
	return v;
}

static void
raw_body(const uint8_t *d, size_t size)
{
	struct verdict a, b;
	uint8_t *m;
	size_t n;

	if (size < 3)
		return;
	n = size - 2;
	m = malloc(n + 128);
	memcpy(m, d + 2, n);
	n = seal(m, n, mac_index(m, n, (uint32_t)d[0] | (uint32_t)d[1] << 8));
	a.pt = malloc(MAXMSG + 2 * MARGIN);
	b.pt = malloc(MAXMSG + 2 * MARGIN);
	mx_decrypt(key_b64, m, n, &a);
	if (a.ok) {
		lo_decrypt(key_b64, m, n, &b);
		must(same(&a, &b));
	}
	free(a.pt);
	free(b.pt);
	free(m);
}

static void
setup(void)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], pub[32], m[128];
	struct mx_megolm_out *o;
	size_t i, n;

	if (mx_crypto_init() < 0)
		abort();
	for (i = 0; i < sizeof rnd; i++)
		rnd[i] = (uint8_t)(i * 7 + 1);
	mx_ed25519_from_seed(pub, sk, rnd + MX_MEGOLM_RATCHET_LEN);
	o = mx_megolm_out_new_rand(rnd);
	for (i = 0; i < FIRST; i++)
		must(mx_megolm_encrypt(o, m, sizeof m, &n, "x", 1, NULL) == 0);
	mx_megolm_out_session_key(o, key);
	mx_b64_enc(key_b64, key, sizeof key);
	mx_megolm_out_free(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size > MAXPT)
		return 0;
	switch (data[0] % 3) {
	case 0:
		plaintext(data + 1, size - 1);
		break;
	case 1:
		ciphertext(data + 1, size - 1);
		break;
	default:
		raw_body(data + 1, size - 1);
	}
	return 0;
}

#ifdef FUZZ_MEGOLM_LIBOLM_SEEDS
#include <stdio.h>

static void
put(const char *dir, const char *name, const void *head, size_t hn,
    const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		exit(1);
	fwrite(head, 1, hn, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

int
main(int argc, char **argv)
{
	static const char ev[] = "{\"type\":\"m.room.message\",\"content\":"
	    "{\"msgtype\":\"m.text\",\"body\":\"caf\xc3\xa9\"},"
	    "\"room_id\":\"!r:hs\"}";
	uint8_t k[80], ct[256], m[512], head[6] = { 1, 2, FIRST, 0, 0, 0 };
	struct mx_megolm_out *o;
	size_t n, i;

	if (argc != 2)
		return 2;
	setup();
	put(argv[1], "pt-event", "\0", 1, ev, sizeof ev - 1);
	put(argv[1], "pt-16", "\0", 1, "0123456789abcdef", 16);
	put(argv[1], "pt-empty", "\0", 1, "", 0);
	/* mode 1: "hello" padded, at index FIRST (flags 2: index % 8) */
	keys_at(FIRST, k);
	must(mx_aes256_cbc_encrypt(ct, &n, k, k + 64, "hello", 5) == 0);
	put(argv[1], "ct-hello", head, sizeof head, ct, n);
	must(mx_aes256_cbc_encrypt(ct, &n, k, k + 64, ev, sizeof ev - 1) ==
	    0);
	put(argv[1], "ct-event", head, sizeof head, ct, n);
	/* mode 2: the body of a real message at index FIRST + 1 */
	o = mx_megolm_out_new_rand(rnd);
	for (i = 0; i <= FIRST + 1; i++)
		must(mx_megolm_encrypt(o, m, sizeof m, &n, ev, sizeof ev - 1,
		    NULL) == 0);
	put(argv[1], "raw-event", "\2\0\0", 3, m, n - 8 - MX_ED25519_SIG_LEN);
	mx_megolm_out_free(o);
	return 0;
}
#endif
