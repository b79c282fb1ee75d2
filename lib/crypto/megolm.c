/*
 * megolm: the Megolm group ratchet and m.megolm.v1.aes-sha2 messages.
 * Spec: megolm.md ("The Megolm ratchet algorithm", "Message format",
 * "Session sharing format", "Session export format") and the client-server
 * spec's "m.megolm.v1.aes-sha2".
 *
 * Constant time: the ratchet, the message keys and the signing key only go
 * through HMAC/HKDF (libsodium), AES (EVP) and Ed25519 (libsodium); no branch
 * or index depends on them.  Branches depend on the message index and on
 * lengths, which are public.  The MAC is compared with mx_ct_eq.
 *
 * Speed: each session keeps one EVP context, set up once with the cipher,
 * and only re-keyed per message (no allocation, no implicit fetch).  The
 * context then holds the key schedule of the last message key; it is wiped
 * and freed with the session.  The Ed25519 key is kept expanded.  HKDF is
 * written out here on libsodium's incremental HMAC so that the keyed
 * states (the constant zero salt, then the PRK) are set up once rather
 * than once per HMAC: 12 SHA-256 blocks per message instead of 18.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "b64.h"
#include "util.h"
#include "crypto.h"
#include "megolm.h"
#include "pickle.h"
#include "banned.h"

#define PART_LEN 32
#define MSG_VERSION 3
#define TAG_INDEX 0x08	/* field 1, varint */
#define TAG_CIPHER 0x12 /* field 2, length-delimited */
#define MAC_LEN 8
#define SIG_LEN MX_ED25519_SIG_LEN
#define KEY_V_SHARE 2
#define KEY_V_EXPORT 1
#define PICKLE_OUT 0x47 /* 'G' */
#define PICKLE_IN 0x49	/* 'I' */
#define PICKLE_VERSION 1
#define WINDOW (1u << 31) /* indices ahead of the first known one */

struct ratchet {
	uint8_t r[MX_MEGOLM_RATCHET_LEN]; /* R0..R3, 32 bytes each */
	uint32_t counter;
};

struct mx_megolm_out {
	struct ratchet rt;
	struct mx_hmac256 salt; /* HMAC keyed with zero salt */
	uint8_t seed[MX_ED25519_SEED_LEN];
	uint8_t pub[MX_ED25519_PUB_LEN];
	uint8_t sk[MX_ED25519_SK_LEN]; /* expanded once */
	EVP_CIPHER_CTX *ctx;
};

struct mx_megolm_in {
	struct ratchet first;  /* the earliest known ratchet, never moved */
	struct ratchet latest; /* of the last decrypted message, a cache */
	struct mx_hmac256 salt;
	uint8_t pub[MX_ED25519_PUB_LEN];
	int verified;
	EVP_CIPHER_CTX *ctx;
};

/* Message keys (megolm.md "Encrypting a message"): HKDF-SHA-256 of the
 * whole ratchet, zero salt, info "MEGOLM_KEYS", 80 bytes. */
struct keys {
	uint8_t aes[MX_AES_KEY_LEN];
	uint8_t mac[32];
	uint8_t iv[MX_AES_IV_LEN];
};

/* ---- ratchet ---- */

/* R[k] = H_k(src) = HMAC-SHA-256(key = src, message = the byte k). */
static void
hash_part(uint8_t dst[PART_LEN], const uint8_t src[PART_LEN], uint8_t k)
{
	uint8_t t[PART_LEN];

	mx_hmac_sha256(t, src, PART_LEN, &k, 1);
	memcpy(dst, t, PART_LEN);
	mx_wipe(t, sizeof t);
}

/*
 * megolm.md "Advancing the ratchet": for each part j from R0 to R3, the
 * byte of the counter that part j governs must move `steps` times; part j
 * is rehashed steps-1 times in place, then R3..Rj are reseeded from it
 * (Rj last).  After part j moved, the lower counter bytes restart at 0,
 * so a later part needs only its own byte of the target.  When part j's
 * byte is unchanged but the target is behind the counter, the counter has
 * wrapped: part j goes round all 256 values.  Work: at most 4 * 256 + 6
 * hashes.
 */
void
mx_megolm_ratchet_advance_to(uint8_t r[MX_MEGOLM_RATCHET_LEN],
    uint32_t *counter, uint32_t to)
{
	unsigned j, k, shift, steps;
	uint8_t *src;
	uint32_t mask;

	for (j = 0; j < 4; j++) {
		shift = (3 - j) * 8;
		mask = 0xffffffffu << shift;
		steps = ((to >> shift) - (*counter >> shift)) & 0xff;
		if (steps == 0) {
			if (to >= *counter)
				continue;
			steps = 0x100;
		}
		src = r + j * PART_LEN;
		while (--steps > 0)
			hash_part(src, src, (uint8_t)j);
		for (k = 4; k-- > j;)
			hash_part(r + k * PART_LEN, src, (uint8_t)k);
		*counter = to & mask;
	}
}

static void
ratchet_to(struct ratchet *rt, uint32_t to)
{
	mx_megolm_ratchet_advance_to(rt->r, &rt->counter, to);
}

static void
salt_init(struct mx_hmac256 *st)
{
	static const uint8_t zero[32];

	mx_hmac256_init(st, zero, sizeof zero);
}

/* RFC 5869 with salt = 32 zero bytes (the keyed state *salt), ikm = the
 * ratchet, info = "MEGOLM_KEYS", L = 80: T(1..3), each HMAC(PRK, T(i-1) ||
 * info || i), from one PRK-keyed state copied per block. */
static void
derive_keys(struct keys *k, const struct ratchet *rt,
    const struct mx_hmac256 *salt)
{
	struct mx_hmac256 st, prk_st;
	uint8_t prk[32], t[32], *out = (uint8_t *)k;
	size_t off, tlen = 0;
	uint8_t i;

	st = *salt;
	mx_hmac256_update(&st, rt->r, MX_MEGOLM_RATCHET_LEN);
	mx_hmac256_final(&st, prk);
	mx_hmac256_init(&prk_st, prk, sizeof prk);
	for (i = 1, off = 0; off < sizeof *k; i++, off += sizeof t) {
		st = prk_st;
		mx_hmac256_update(&st, t, tlen);
		mx_hmac256_update(&st, (const uint8_t *)"MEGOLM_KEYS", 11);
		mx_hmac256_update(&st, &i, 1);
		mx_hmac256_final(&st, t);
		tlen = sizeof t;
		memcpy(out + off, t,
		    sizeof *k - off < sizeof t ? sizeof *k - off : sizeof t);
	}
	mx_wipe(&st, sizeof st);
	mx_wipe(&prk_st, sizeof prk_st);
	mx_wipe(prk, sizeof prk);
	mx_wipe(t, sizeof t);
}

/* ---- shared helpers ---- */

static EVP_CIPHER_CTX *
cbc_ctx_new(void)
{
	EVP_CIPHER_CTX *c;

	/* The cipher is bound once; re-keying then needs no fetch. */
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, NULL, NULL, 1) != 1)
		abort(); /* out of memory: the one exit lib/ allows */
	return c;
}

/* AES-256-CBC with PKCS#7 on a prepared context; 0 or -1. */
static int
cbc_run(EVP_CIPHER_CTX *c, int enc, const struct keys *k, uint8_t *out,
    size_t *outlen, const uint8_t *in, size_t n)
{
	int l1, l2;

	if (n > MX_MEGOLM_MAX_PLAIN + MX_AES_BLOCK ||
	    EVP_CipherInit_ex(c, NULL, NULL, k->aes, k->iv, enc) != 1 ||
	    EVP_CipherUpdate(c, out, &l1, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(c, out + l1, &l2) != 1)
		return -1;
	*outlen = (size_t)l1 + (size_t)l2;
	return 0;
}

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

/* A varint of at most 10 bytes; 0 or -1. */
static int
varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* ---- outbound ---- */

static struct mx_megolm_out *
out_alloc(void)
{
	struct mx_megolm_out *s = mx_secure_alloc(sizeof *s);

	memset(s, 0, sizeof *s);
	s->ctx = cbc_ctx_new();
	salt_init(&s->salt);
	return s;
}

static void
out_keys(struct mx_megolm_out *s)
{
	mx_ed25519_from_seed(s->pub, s->sk, s->seed);
}

struct mx_megolm_out *
mx_megolm_out_new_rand(const uint8_t r[MX_MEGOLM_RAND_LEN])
{
	struct mx_megolm_out *s = out_alloc();

	memcpy(s->rt.r, r, MX_MEGOLM_RATCHET_LEN);
	memcpy(s->seed, r + MX_MEGOLM_RATCHET_LEN, sizeof s->seed);
	out_keys(s);
	return s;
}

struct mx_megolm_out *
mx_megolm_out_new(void)
{
	struct mx_megolm_out *s;
	uint8_t *r = mx_secure_alloc(MX_MEGOLM_RAND_LEN);

	mx_random(r, MX_MEGOLM_RAND_LEN);
	s = mx_megolm_out_new_rand(r);
	mx_secure_free(r);
	return s;
}

void
mx_megolm_out_free(struct mx_megolm_out *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->ctx); /* wipes the key schedule */
	mx_secure_free(s);
}

void
mx_megolm_out_id(const struct mx_megolm_out *s, char id[MX_MEGOLM_ID_B64])
{
	mx_b64_enc(id, s->pub, sizeof s->pub);
}

uint32_t
mx_megolm_out_index(const struct mx_megolm_out *s)
{
	return s->rt.counter;
}

/* megolm.md "Session sharing format": 0x02, index (u32 BE), R (128),
 * public key (32), Ed25519 signature of the 165 bytes before it. */
void
mx_megolm_out_session_key(const struct mx_megolm_out *s,
    uint8_t key[MX_MEGOLM_SESSION_KEY_LEN])
{
	key[0] = KEY_V_SHARE;
	mx_be32_put(key + 1, s->rt.counter);
	memcpy(key + 5, s->rt.r, MX_MEGOLM_RATCHET_LEN);
	memcpy(key + 133, s->pub, sizeof s->pub);
	mx_ed25519_sign(key + MX_MEGOLM_EXPORT_LEN, key, MX_MEGOLM_EXPORT_LEN,
	    s->sk);
}

size_t
mx_megolm_encrypt_len(size_t n)
{
	size_t ct = mx_aes_cbc_len(n);
	uint8_t tmp[10];

	/* version, index tag + 5-byte varint at most, cipher tag + length */
	return 1 + 1 + 5 + 1 + varint_put(tmp, ct) + ct + MAC_LEN + SIG_LEN;
}

/* megolm.md "Message format": version 3, index, ciphertext, then the first
 * 8 bytes of HMAC-SHA-256 over all that, then the Ed25519 signature. */
int
mx_megolm_encrypt(struct mx_megolm_out *s, uint8_t *out, size_t max,
    size_t *outlen, const void *pt, size_t n, struct mx_err *e)
{
	uint8_t mac[32];
	struct keys k;
	size_t pos, ct, ctl;

	if (n > MX_MEGOLM_MAX_PLAIN)
		return mx_err_set(e, MX_LOCAL, "megolm: message too long");
	if (max < mx_megolm_encrypt_len(n))
		return mx_err_set(e, MX_LOCAL,
		    "megolm: output buffer too small");
	ct = mx_aes_cbc_len(n);
	out[0] = MSG_VERSION;
	out[1] = TAG_INDEX;
	pos = 2 + varint_put(out + 2, s->rt.counter);
	out[pos++] = TAG_CIPHER;
	pos += varint_put(out + pos, ct);
	derive_keys(&k, &s->rt, &s->salt);
	if (cbc_run(s->ctx, 1, &k, out + pos, &ctl, pt, n) < 0 || ctl != ct) {
		mx_wipe(&k, sizeof k);
		return mx_err_set(e, MX_LOCAL, "megolm: encryption failed");
	}
	pos += ct;
	mx_hmac_sha256(mac, k.mac, sizeof k.mac, out, pos);
	memcpy(out + pos, mac, MAC_LEN);
	pos += MAC_LEN;
	mx_ed25519_sign(out + pos, out, pos, s->sk);
	*outlen = pos + SIG_LEN;
	mx_wipe(&k, sizeof k);
	mx_wipe(mac, sizeof mac);
	ratchet_to(&s->rt, s->rt.counter + 1);
	return 0;
}

void
mx_megolm_out_pickle(const struct mx_megolm_out *s, struct mx_buf *b)
{
	mx_pickle_u8(b, PICKLE_OUT);
	mx_pickle_u8(b, PICKLE_VERSION);
	mx_pickle_bytes(b, s->rt.r, MX_MEGOLM_RATCHET_LEN);
	mx_pickle_u32(b, s->rt.counter);
	mx_pickle_bytes(b, s->seed, sizeof s->seed);
}

static int
pickle_head(struct mx_pickle_r *r, uint8_t kind, struct mx_err *e)
{
	if (mx_pickle_r_u8(r) != kind || r->bad)
		return mx_err_set(e, MX_LOCAL, "megolm: not a session pickle");
	if (mx_pickle_r_u8(r) != PICKLE_VERSION || r->bad)
		return mx_err_set(e, MX_LOCAL,
		    "megolm: unknown session pickle version");
	return 0;
}

struct mx_megolm_out *
mx_megolm_out_unpickle(const void *p, size_t n, struct mx_err *e)
{
	struct mx_megolm_out *s;
	struct mx_pickle_r r;

	mx_pickle_r_init(&r, p, n);
	if (pickle_head(&r, PICKLE_OUT, e) < 0)
		return NULL;
	s = out_alloc();
	mx_pickle_r_bytes(&r, s->rt.r, MX_MEGOLM_RATCHET_LEN);
	s->rt.counter = mx_pickle_r_u32(&r);
	mx_pickle_r_bytes(&r, s->seed, sizeof s->seed);
	if (!mx_pickle_r_ok(&r)) {
		mx_megolm_out_free(s);
		mx_err_set(e, MX_LOCAL, "megolm: bad outbound session pickle");
		return NULL;
	}
	out_keys(s);
	return s;
}

/* ---- inbound ---- */

static struct mx_megolm_in *
in_alloc(void)
{
	struct mx_megolm_in *s = mx_secure_alloc(sizeof *s);

	memset(s, 0, sizeof *s);
	s->ctx = cbc_ctx_new();
	salt_init(&s->salt);
	return s;
}

void
mx_megolm_in_free(struct mx_megolm_in *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->ctx);
	mx_secure_free(s);
}

/* Both key formats share their first 165 bytes (megolm.md "Session
 * sharing format", "Session export format"). */
static struct mx_megolm_in *
in_from_key(const uint8_t *k, int verified)
{
	struct mx_megolm_in *s = in_alloc();

	s->first.counter = mx_be32_get(k + 1);
	memcpy(s->first.r, k + 5, MX_MEGOLM_RATCHET_LEN);
	memcpy(s->pub, k + 133, sizeof s->pub);
	s->latest = s->first;
	s->verified = verified;
	return s;
}

struct mx_megolm_in *
mx_megolm_in_new(const void *key, size_t n, struct mx_err *e)
{
	const uint8_t *k = key;

	if (n != MX_MEGOLM_SESSION_KEY_LEN || k[0] != KEY_V_SHARE) {
		mx_err_set(e, MX_LOCAL, "megolm: not a v2 session key");
		return NULL;
	}
	if (mx_ed25519_verify(k + MX_MEGOLM_EXPORT_LEN, k,
		MX_MEGOLM_EXPORT_LEN, k + 133) < 0) {
		mx_err_set(e, MX_LOCAL, "megolm: bad session key signature");
		return NULL;
	}
	return in_from_key(k, 1);
}

struct mx_megolm_in *
mx_megolm_in_import(const void *key, size_t n, struct mx_err *e)
{
	const uint8_t *k = key;

	if (n != MX_MEGOLM_EXPORT_LEN || k[0] != KEY_V_EXPORT) {
		mx_err_set(e, MX_LOCAL,
		    "megolm: not a v1 exported session key");
		return NULL;
	}
	return in_from_key(k, 0);
}

void
mx_megolm_in_id(const struct mx_megolm_in *s, char id[MX_MEGOLM_ID_B64])
{
	mx_b64_enc(id, s->pub, sizeof s->pub);
}

void
mx_megolm_in_signing_key(const struct mx_megolm_in *s, uint8_t pub[32])
{
	memcpy(pub, s->pub, sizeof s->pub);
}

uint32_t
mx_megolm_in_first_index(const struct mx_megolm_in *s)
{
	return s->first.counter;
}

int
mx_megolm_in_verified(const struct mx_megolm_in *s)
{
	return s->verified;
}

/* The nearest known ratchet at or below index, copied into rt. */
static int
in_ratchet(const struct mx_megolm_in *s, uint32_t index, struct ratchet *rt)
{
	uint32_t d = index - s->first.counter;

	if (d >= WINDOW)
		return -1;
	*rt = d >= s->latest.counter - s->first.counter ? s->latest : s->first;
	ratchet_to(rt, index);
	return 0;
}

int
mx_megolm_in_export(const struct mx_megolm_in *s, uint32_t index,
    uint8_t key[MX_MEGOLM_EXPORT_LEN], struct mx_err *e)
{
	struct ratchet rt;

	if (in_ratchet(s, index, &rt) < 0)
		return mx_err_set(e, MX_LOCAL,
		    "megolm: cannot export below the first known index %lu",
		    (unsigned long)s->first.counter);
	key[0] = KEY_V_EXPORT;
	mx_be32_put(key + 1, index);
	memcpy(key + 5, rt.r, MX_MEGOLM_RATCHET_LEN);
	memcpy(key + 133, s->pub, sizeof s->pub);
	mx_wipe(&rt, sizeof rt);
	return 0;
}

size_t
mx_megolm_decrypt_max(size_t n)
{
	return n;
}

/* The fields of a version-3 message; pointers borrow the input. */
struct msg {
	uint32_t index;
	const uint8_t *ct;
	size_t ctlen;
};

/* Protobuf-style fields in any order; unknown varint and length-delimited
 * fields are skipped, as megolm.md allows for later additions. */
static int
msg_parse(struct msg *m, const uint8_t *p, const uint8_t *end)
{
	int have_index = 0;
	uint64_t tag, v;

	m->ct = NULL;
	m->ctlen = 0;
	m->index = 0;
	while (p < end) {
		/* A tag is a varint, as protobuf and libolm read it: a field
		 * number of 16 or more takes two bytes. */
		if (varint_get(&p, end, &tag) < 0 ||
		    varint_get(&p, end, &v) < 0)
			return -1;
		if ((tag & 7) == 2) {
			if (v > (uint64_t)(end - p))
				return -1;
			if (tag == TAG_CIPHER) {
				m->ct = p;
				m->ctlen = (size_t)v;
			}
			p += v;
		} else if ((tag & 7) != 0) {
			return -1;
		} else if (tag == TAG_INDEX) {
			if (v > 0xffffffffu)
				return -1;
			m->index = (uint32_t)v;
			have_index = 1;
		}
	}
	if (!have_index || m->ct == NULL || m->ctlen == 0 ||
	    m->ctlen % MX_AES_BLOCK != 0)
		return -1;
	return 0;
}

/* megolm.md "Decrypting a message" in the order libolm and vodozemac
 * agree on: signature, ratchet, MAC, then AES. */
int
mx_megolm_decrypt(struct mx_megolm_in *s, uint8_t *out, size_t max,
    size_t *outlen, uint32_t *index, const void *msg, size_t n,
    struct mx_err *e)
{
	const uint8_t *m = msg;
	uint8_t mac[32];
	struct ratchet rt;
	struct keys k;
	struct msg f;
	size_t body;
	int rc = -1;

	if (n < 1 + MAC_LEN + SIG_LEN || m[0] != MSG_VERSION)
		return mx_err_set(e, MX_LOCAL, "megolm: bad message version");
	body = n - MAC_LEN - SIG_LEN;
	if (msg_parse(&f, m + 1, m + body) < 0)
		return mx_err_set(e, MX_LOCAL, "megolm: malformed message");
	if (mx_ed25519_verify(m + body + MAC_LEN, m, body + MAC_LEN, s->pub))
		return mx_err_set(e, MX_LOCAL,
		    "megolm: bad message signature");
	if (max < f.ctlen)
		return mx_err_set(e, MX_LOCAL,
		    "megolm: output buffer too small");
	if (in_ratchet(s, f.index, &rt) < 0) {
		*index = f.index;
		mx_err_set(e, MX_LOCAL,
		    "megolm: unknown message index %lu (first known %lu)",
		    (unsigned long)f.index, (unsigned long)s->first.counter);
		return MX_MEGOLM_UNKNOWN_INDEX;
	}
	derive_keys(&k, &rt, &s->salt);
	mx_hmac_sha256(mac, k.mac, sizeof k.mac, m, body);
	if (!mx_ct_eq(mac, m + body, MAC_LEN))
		mx_err_set(e, MX_LOCAL, "megolm: bad message MAC");
	else if (cbc_run(s->ctx, 0, &k, out, outlen, f.ct, f.ctlen) < 0) {
		mx_wipe(out, f.ctlen);
		mx_err_set(e, MX_LOCAL, "megolm: bad message padding");
	} else {
		*index = f.index;
		s->verified = 1;
		s->latest = rt;
		rc = 0;
	}
	mx_wipe(&k, sizeof k);
	mx_wipe(&rt, sizeof rt);
	mx_wipe(mac, sizeof mac);
	return rc;
}

void
mx_megolm_in_pickle(const struct mx_megolm_in *s, struct mx_buf *b)
{
	mx_pickle_u8(b, PICKLE_IN);
	mx_pickle_u8(b, PICKLE_VERSION);
	mx_pickle_bytes(b, s->first.r, MX_MEGOLM_RATCHET_LEN);
	mx_pickle_u32(b, s->first.counter);
	mx_pickle_bytes(b, s->latest.r, MX_MEGOLM_RATCHET_LEN);
	mx_pickle_u32(b, s->latest.counter);
	mx_pickle_bytes(b, s->pub, sizeof s->pub);
	mx_pickle_u8(b, (uint8_t)s->verified);
}

/* The cached ratchet must be the first one advanced: checked by doing it
 * (at most 1030 hashes), so a bad pickle cannot decrypt wrongly later. */
static int
in_consistent(const struct mx_megolm_in *s)
{
	struct ratchet rt;
	int ok;

	if (s->latest.counter - s->first.counter >= WINDOW ||
	    (s->verified != 0 && s->verified != 1))
		return 0;
	rt = s->first;
	ratchet_to(&rt, s->latest.counter);
	ok = mx_ct_eq(rt.r, s->latest.r, MX_MEGOLM_RATCHET_LEN);
	mx_wipe(&rt, sizeof rt);
	return ok;
}

struct mx_megolm_in *
mx_megolm_in_unpickle(const void *p, size_t n, struct mx_err *e)
{
	struct mx_megolm_in *s;
	struct mx_pickle_r r;

	mx_pickle_r_init(&r, p, n);
	if (pickle_head(&r, PICKLE_IN, e) < 0)
		return NULL;
	s = in_alloc();
	mx_pickle_r_bytes(&r, s->first.r, MX_MEGOLM_RATCHET_LEN);
	s->first.counter = mx_pickle_r_u32(&r);
	mx_pickle_r_bytes(&r, s->latest.r, MX_MEGOLM_RATCHET_LEN);
	s->latest.counter = mx_pickle_r_u32(&r);
	mx_pickle_r_bytes(&r, s->pub, sizeof s->pub);
	s->verified = mx_pickle_r_u8(&r);
	if (!mx_pickle_r_ok(&r) || !in_consistent(s)) {
		mx_megolm_in_free(s);
		mx_err_set(e, MX_LOCAL, "megolm: bad inbound session pickle");
		return NULL;
	}
	return s;
}
