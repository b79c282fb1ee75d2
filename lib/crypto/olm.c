/*
 * olm: the Olm v1 double ratchet.  Section references are to the Matrix
 * spec's "Olm: A Cryptographic Ratchet" (content/olm-megolm/olm.md) and to
 * the client-server API's "m.olm.v1.curve25519-aes-sha2".
 *
 * Bounds (olm.h), chosen to interoperate with libolm and vodozemac:
 *  - MX_OLM_MAX_OTKS private one-time keys; generating more drops the oldest.
 *  - two fallback keys: the current one and the previous one.
 *  - MX_OLM_MAX_RECV_CHAINS receiver chains, newest first; the oldest is
 *    dropped when a new remote ratchet key arrives.
 *  - MX_OLM_MAX_SKIPPED skipped message keys per session (one list shared
 *    by all chains), newest first; the oldest is dropped.  A message that
 *    skips more than that keeps only the keys nearest to it.
 *  - a message may advance a chain by at most MX_OLM_MAX_GAP steps; further
 *    is refused, so one forged counter cannot cost more than 2000 HMACs.
 *  - a used skipped key is deleted: a replayed message fails.
 *
 * Constant time: secrets only go through libsodium/EVP and fixed loops.
 * Chains and skipped keys are found by comparing *public* ratchet keys and
 * counters, which the message itself carries, so those branches leak
 * nothing.  MACs are compared with mx_ct_eq.  Every secret on the stack is
 * wiped before returning.
 *
 * Decryption is transactional: the new chain state is computed into
 * locals and committed only after the MAC verified and the padding was
 * good.
 */
#include <sodium.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "olm.h"
#include "pickle.h"
#include "banned.h"

#define KEY MX_OLM_KEY_LEN
#define MAC_LEN \
	8 /* truncated HMAC-SHA-256 (spec "Olm Authenticated
			   Encryption") */
#define VERSION 3
#define PICKLE_ACCOUNT 0x41 /* 'A' */
#define PICKLE_SESSION 0x53 /* 'S' */
#define PICKLE_VERSION 1

struct keypair {
	uint8_t pub[KEY];
	uint8_t priv[KEY];
};

struct otk {
	uint32_t id;
	uint8_t published;
	struct keypair k;
};

struct mx_olm_account {
	uint8_t ed_seed[MX_ED25519_SEED_LEN];
	uint8_t ed_pub[MX_ED25519_PUB_LEN];
	uint8_t ed_sk[MX_ED25519_SK_LEN];
	struct keypair id;
	uint32_t next_id; /* the next key id; never reused */
	size_t n_otks;
	struct otk otks[MX_OLM_MAX_OTKS]; /* oldest first */
	size_t n_fallback;		  /* 0, 1 or 2 */
	struct otk fallback[2];		  /* [0] current, [1] previous */
};

struct chain {
	uint8_t ratchet[KEY]; /* the remote ratchet public key */
	uint8_t ck[KEY];      /* chain key for index */
	uint32_t index;
};

struct skipped {
	uint8_t ratchet[KEY];
	uint32_t index;
	uint8_t mk[KEY];
};

struct mx_olm_session {
	uint8_t alice_id[KEY], alice_base[KEY], bob_otk[KEY];
	uint8_t bob_id[KEY]; /* bob's identity key, for their_identity */
	int outbound;	     /* we are alice */
	int received;	     /* a message from the other side decrypted */
	uint8_t root[KEY];
	int has_sender;
	struct keypair send_ratchet;
	uint8_t send_ck[KEY];
	uint32_t send_index;
	size_t n_recv;
	struct chain recv[MX_OLM_MAX_RECV_CHAINS]; /* newest first */
	size_t n_skipped;
	struct skipped skipped[MX_OLM_MAX_SKIPPED]; /* newest first */
};

static const uint8_t MSG_KEY_SEED = 0x01, CHAIN_KEY_SEED = 0x02;

/* ---- small helpers ---- */

static int
fail(struct mx_err *e, const char *what)
{
	return mx_err_set(e, MX_LOCAL, "olm: %s", what);
}

static void
b64_key(char out[MX_OLM_KEY_B64], const uint8_t k[KEY])
{
	mx_b64_enc(out, k, KEY);
}

static void
keypair_from(struct keypair *k, const uint8_t priv[KEY])
{
	memcpy(k->priv, priv, KEY);
	mx_x25519_pub(k->pub, k->priv);
}

/* ---- protobuf-style varints (spec "The Olm Message Format") ---- */

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Read a varint of at most 10 bytes / 64 bits; -1 when bad or short. */
static int
varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		uint8_t c = *(*p)++;

		if (shift == 63 && (c & 0x7e))
			return -1; /* more than 64 bits */
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/* One field: a varint (wire type 0) or bytes (wire type 2). */
struct field {
	uint64_t num, val;
	const uint8_t *p; /* bytes, for wire type 2 */
	int wire;
};

static int
field_get(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t tag;

	if (varint_get(p, end, &tag) < 0)
		return -1;
	f->num = tag >> 3;
	f->wire = (int)(tag & 7);
	if (f->wire != 0 && f->wire != 2)
		return -1;
	if (varint_get(p, end, &f->val) < 0)
		return -1;
	if (f->wire == 2) {
		if (f->val > (uint64_t)(end - *p))
			return -1;
		f->p = *p;
		*p += f->val;
	}
	return 0;
}

/* A 32-byte key field. */
static int
key_field(const struct field *f, const uint8_t **out)
{
	if (f->wire != 2 || f->val != KEY)
		return -1;
	*out = f->p;
	return 0;
}

/* ---- normal messages ---- */

struct msg {
	const uint8_t *ratchet;
	uint32_t index;
	const uint8_t *ct;
	size_t ctlen;
	size_t maclen_off; /* bytes covered by the MAC */
	const uint8_t *mac;
};

static int
msg_parse(struct msg *m, const uint8_t *p, size_t n)
{
	const uint8_t *end;
	struct field f;
	int have_index = 0;

	memset(m, 0, sizeof(*m));
	if (n < 1 + MAC_LEN || p[0] != VERSION)
		return -1;
	m->maclen_off = n - MAC_LEN;
	m->mac = p + n - MAC_LEN;
	end = p + n - MAC_LEN;
	p++;
	while (p < end) {
		if (field_get(&p, end, &f) < 0)
			return -1;
		if (f.num == 1) {
			if (key_field(&f, &m->ratchet) < 0)
				return -1;
		} else if (f.num == 2) {
			if (f.wire != 0 || f.val > UINT32_MAX)
				return -1;
			m->index = (uint32_t)f.val;
			have_index = 1;
		} else if (f.num == 4) {
			if (f.wire != 2)
				return -1;
			m->ct = f.p;
			m->ctlen = (size_t)f.val;
		}
	}
	if (m->ratchet == NULL || !have_index || m->ct == NULL ||
	    m->ctlen == 0 || m->ctlen % MX_AES_BLOCK != 0)
		return -1;
	return 0;
}

static size_t
msg_len(uint32_t index, size_t ctlen)
{
	return 1 + 2 + KEY + 1 + varint_len(index) + 1 + varint_len(ctlen) +
	    ctlen + MAC_LEN;
}

/* ---- pre-key messages ---- */

int
mx_olm_prekey_parse(struct mx_olm_prekey *pk, const void *msg, size_t n,
    struct mx_err *e)
{
	const uint8_t *p = msg, *end = p + n;
	struct field f;
	int r = 0;

	memset(pk, 0, sizeof(*pk));
	if (n < 1 || p[0] != VERSION)
		return fail(e, "bad pre-key message version");
	p++;
	while (p < end && r == 0) {
		if (field_get(&p, end, &f) < 0)
			r = -1;
		else if (f.num == 1)
			r = key_field(&f, &pk->otk);
		else if (f.num == 2)
			r = key_field(&f, &pk->base);
		else if (f.num == 3)
			r = key_field(&f, &pk->identity);
		else if (f.num == 4 && f.wire == 2) {
			pk->msg = f.p;
			pk->msglen = (size_t)f.val;
		} else if (f.num == 4)
			r = -1;
	}
	if (r < 0 || pk->otk == NULL || pk->base == NULL ||
	    pk->identity == NULL || pk->msg == NULL)
		return fail(e, "malformed pre-key message");
	return 0;
}

static void
session_id_of(char out[MX_OLM_KEY_B64], const uint8_t *id, const uint8_t *base,
    const uint8_t *otk)
{
	uint8_t in[3 * KEY], h[MX_SHA256_LEN];

	memcpy(in, id, KEY);
	memcpy(in + KEY, base, KEY);
	memcpy(in + 2 * KEY, otk, KEY);
	mx_sha256(h, in, sizeof(in));
	b64_key(out, h);
}

int
mx_olm_prekey_session_id(char out[MX_OLM_KEY_B64], const void *msg, size_t n,
    struct mx_err *e)
{
	struct mx_olm_prekey pk;

	if (mx_olm_prekey_parse(&pk, msg, n, e) < 0)
		return -1;
	session_id_of(out, pk.identity, pk.base, pk.otk);
	return 0;
}

/* ---- accounts (spec "Initial setup"; CS API "One-time and fallback
 * keys") ---- */

struct mx_olm_account *
mx_olm_account_new_rand(const uint8_t r[64])
{
	struct mx_olm_account *a = mx_secure_alloc(sizeof(*a));

	memset(a, 0, sizeof(*a));
	memcpy(a->ed_seed, r, MX_ED25519_SEED_LEN);
	mx_ed25519_from_seed(a->ed_pub, a->ed_sk, a->ed_seed);
	keypair_from(&a->id, r + 32);
	a->next_id = 1; /* ids "AAAAAQ", "AAAAAg", ... like libolm */
	return a;
}

struct mx_olm_account *
mx_olm_account_new(void)
{
	struct mx_olm_account *a;
	uint8_t r[64];

	mx_random(r, sizeof(r));
	a = mx_olm_account_new_rand(r);
	mx_wipe(r, sizeof(r));
	return a;
}

void
mx_olm_account_free(struct mx_olm_account *a)
{
	if (a == NULL)
		return;
	mx_wipe(a, sizeof(*a));
	mx_secure_free(a);
}

void
mx_olm_account_curve25519(const struct mx_olm_account *a,
    uint8_t pub[MX_OLM_KEY_LEN])
{
	memcpy(pub, a->id.pub, KEY);
}

void
mx_olm_account_ed25519(const struct mx_olm_account *a,
    uint8_t pub[MX_OLM_KEY_LEN])
{
	memcpy(pub, a->ed_pub, KEY);
}

void
mx_olm_account_curve25519_b64(const struct mx_olm_account *a,
    char out[MX_OLM_KEY_B64])
{
	b64_key(out, a->id.pub);
}

void
mx_olm_account_ed25519_b64(const struct mx_olm_account *a,
    char out[MX_OLM_KEY_B64])
{
	b64_key(out, a->ed_pub);
}

void
mx_olm_account_sign(const struct mx_olm_account *a, uint8_t sig[64],
    const void *msg, size_t n)
{
	mx_ed25519_sign(sig, msg, n, a->ed_sk);
}

void
mx_olm_account_sign_b64(const struct mx_olm_account *a,
    char out[MX_OLM_SIG_B64], const void *msg, size_t n)
{
	uint8_t sig[MX_ED25519_SIG_LEN];

	mx_olm_account_sign(a, sig, msg, n);
	mx_b64_enc(out, sig, sizeof(sig));
}

size_t
mx_olm_account_max_otks(void)
{
	return MX_OLM_MAX_OTKS;
}

static void
otk_init(struct otk *k, uint32_t id, const uint8_t priv[KEY])
{
	k->id = id;
	k->published = 0;
	keypair_from(&k->k, priv);
}

void
mx_olm_account_generate_otks_rand(struct mx_olm_account *a, size_t n,
    const uint8_t *r)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a->n_otks == MX_OLM_MAX_OTKS) {
			memmove(&a->otks[0], &a->otks[1],
			    (MX_OLM_MAX_OTKS - 1) * sizeof(a->otks[0]));
			a->n_otks--;
		}
		otk_init(&a->otks[a->n_otks++], a->next_id++, r + 32 * i);
	}
	mx_wipe(&a->otks[a->n_otks],
	    (MX_OLM_MAX_OTKS - a->n_otks) * sizeof(a->otks[0]));
}

void
mx_olm_account_generate_otks(struct mx_olm_account *a, size_t n)
{
	uint8_t r[KEY];
	size_t i;

	for (i = 0; i < n; i++) {
		mx_random(r, sizeof(r));
		mx_olm_account_generate_otks_rand(a, 1, r);
	}
	mx_wipe(r, sizeof(r));
}

static void
otk_public(struct mx_olm_otk *o, const struct otk *k)
{
	uint8_t id[4] = { k->id >> 24, k->id >> 16, k->id >> 8, k->id };

	mx_b64_enc(o->id, id, sizeof(id));
	b64_key(o->key, k->k.pub);
	memcpy(o->pub, k->k.pub, KEY);
}

size_t
mx_olm_account_otks(const struct mx_olm_account *a, struct mx_olm_otk *out,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < a->n_otks; i++) {
		if (a->otks[i].published)
			continue;
		if (n < max)
			otk_public(&out[n], &a->otks[i]);
		n++;
	}
	return n;
}

void
mx_olm_account_mark_published(struct mx_olm_account *a)
{
	size_t i;

	for (i = 0; i < a->n_otks; i++)
		a->otks[i].published = 1;
	if (a->n_fallback > 0)
		a->fallback[0].published = 1;
}

int
mx_olm_account_remove_otk(struct mx_olm_account *a,
    const struct mx_olm_session *s, struct mx_err *e)
{
	size_t i;

	for (i = 0; i < a->n_otks; i++) {
		if (memcmp(a->otks[i].k.pub, s->bob_otk, KEY) != 0)
			continue;
		memmove(&a->otks[i], &a->otks[i + 1],
		    (a->n_otks - i - 1) * sizeof(a->otks[0]));
		a->n_otks--;
		mx_wipe(&a->otks[a->n_otks], sizeof(a->otks[0]));
		return 0;
	}
	for (i = 0; i < a->n_fallback; i++)
		if (memcmp(a->fallback[i].k.pub, s->bob_otk, KEY) == 0)
			return 1;
	return fail(e, "no one-time key matches the session");
}

void
mx_olm_account_generate_fallback_rand(struct mx_olm_account *a,
    const uint8_t r[32])
{
	a->fallback[1] = a->fallback[0];
	otk_init(&a->fallback[0], a->next_id++, r);
	a->n_fallback = a->n_fallback == 0 ? 1 : 2;
}

void
mx_olm_account_generate_fallback(struct mx_olm_account *a)
{
	uint8_t r[KEY];

	mx_random(r, sizeof(r));
	mx_olm_account_generate_fallback_rand(a, r);
	mx_wipe(r, sizeof(r));
}

int
mx_olm_account_fallback(const struct mx_olm_account *a, struct mx_olm_otk *out)
{
	if (a->n_fallback == 0 || a->fallback[0].published)
		return 0;
	otk_public(out, &a->fallback[0]);
	return 1;
}

void
mx_olm_account_forget_old_fallback(struct mx_olm_account *a)
{
	if (a->n_fallback == 2) {
		mx_wipe(&a->fallback[1], sizeof(a->fallback[1]));
		a->n_fallback = 1;
	}
}

/* The private half of one of our one-time or fallback keys, or NULL. */
static const uint8_t *
find_otk(const struct mx_olm_account *a, const uint8_t pub[KEY])
{
	size_t i;

	for (i = 0; i < a->n_otks; i++)
		if (memcmp(a->otks[i].k.pub, pub, KEY) == 0)
			return a->otks[i].k.priv;
	for (i = 0; i < a->n_fallback; i++)
		if (memcmp(a->fallback[i].k.pub, pub, KEY) == 0)
			return a->fallback[i].k.priv;
	return NULL;
}

/* ---- key derivation (spec "The ratchet") ---- */

/* R || C = HKDF(salt, ikm, info); 0 or -1. */
static int
kdf_root(uint8_t root[KEY], uint8_t ck[KEY], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen, const char *info)
{
	uint8_t out[2 * KEY];
	int r;

	r = mx_hkdf_sha256(out, sizeof(out), salt, saltlen, ikm, ikmlen, info,
	    strlen(info));
	memcpy(root, out, KEY);
	memcpy(ck, out + KEY, KEY);
	mx_wipe(out, sizeof(out));
	return r;
}

/* Advancing the root ratchet: DH of our ratchet key with theirs. */
static int
ratchet_step(uint8_t root[KEY], uint8_t ck[KEY], const uint8_t old_root[KEY],
    const uint8_t our_priv[KEY], const uint8_t their_pub[KEY])
{
	uint8_t dh[KEY];
	int r;

	r = mx_x25519(dh, our_priv, their_pub);
	if (r == 0)
		r = kdf_root(root, ck, old_root, KEY, dh, KEY, "OLM_RATCHET");
	mx_wipe(dh, sizeof(dh));
	return r;
}

/*
 * One chain step (spec "Advancing the chain key", "Creating message
 * keys"): mk = HMAC(ck, 0x01) when mk is not NULL, then ck = HMAC(ck,
 * 0x02).  Both MACs share one keyed state, which saves two SHA-256 blocks
 * per message; the streaming HMAC of lib/crypto is used directly for that.
 */
static void
chain_step(uint8_t *mk, uint8_t ck[KEY])
{
	struct mx_hmac256 st, st2;

	mx_hmac256_init(&st, ck, KEY);
	if (mk != NULL) {
		st2 = st;
		mx_hmac256_update(&st2, &MSG_KEY_SEED, 1);
		mx_hmac256_final(&st2, mk);
	}
	mx_hmac256_update(&st, &CHAIN_KEY_SEED, 1);
	mx_hmac256_final(&st, ck);
	mx_wipe(&st, sizeof(st));
	mx_wipe(&st2, sizeof(st2));
}

/* AES key, HMAC key and IV from a message key. */
struct cipher_keys {
	uint8_t aes[MX_AES_KEY_LEN];
	uint8_t mac[KEY];
	uint8_t iv[MX_AES_IV_LEN];
};

/*
 * AES_KEY || HMAC_KEY || IV = HKDF(0, mk, "OLM_KEYS", 80) (spec "Olm
 * Authenticated Encryption"): RFC 5869 written out so that the three
 * expand blocks share one keyed state.  Same output as mx_hkdf_sha256
 * (the known answers in t/unit/olm check it).
 */
static int
cipher_keys(struct cipher_keys *k, const uint8_t mk[KEY])
{
	static const uint8_t zero[KEY];
	static const char info[] = "OLM_KEYS";
	struct mx_hmac256 st, t;
	uint8_t prk[KEY], out[3 * KEY];
	uint8_t i;

	mx_hmac_sha256(prk, zero, KEY, mk, KEY);
	mx_hmac256_init(&st, prk, KEY);
	for (i = 0; i < 3; i++) {
		t = st;
		if (i > 0)
			mx_hmac256_update(&t, out + KEY * (i - 1), KEY);
		mx_hmac256_update(&t, (const uint8_t *)info, 8);
		mx_hmac256_update(&t, (uint8_t[1]){ i + 1 }, 1);
		mx_hmac256_final(&t, out + KEY * i);
	}
	memcpy(k->aes, out, 32);
	memcpy(k->mac, out + 32, 32);
	memcpy(k->iv, out + 64, 16);
	mx_wipe(out, sizeof(out));
	mx_wipe(prk, sizeof(prk));
	mx_wipe(&st, sizeof(st));
	mx_wipe(&t, sizeof(t));
	return 0;
}

/* ---- sessions: set-up (spec "Initial setup") ---- */

static struct mx_olm_session *
session_alloc(void)
{
	struct mx_olm_session *s = mx_secure_alloc(sizeof(*s));

	memset(s, 0, sizeof(*s));
	return s;
}

void
mx_olm_session_free(struct mx_olm_session *s)
{
	if (s == NULL)
		return;
	mx_wipe(s, sizeof(*s));
	mx_secure_free(s);
}

/* R0 || C0,0 = HKDF(0, DH1 || DH2 || DH3, "OLM_ROOT"), the DHs in the
 * spec's order: alice identity with bob's one-time key, alice base with
 * bob identity, alice base with bob's one-time key. */
static int
triple_dh(uint8_t root[KEY], uint8_t ck[KEY], const uint8_t *p1,
    const uint8_t *q1, const uint8_t *p2, const uint8_t *q2, const uint8_t *p3,
    const uint8_t *q3)
{
	uint8_t s[3 * KEY];
	int r;

	r = mx_x25519(s, p1, q1);
	if (r == 0)
		r = mx_x25519(s + KEY, p2, q2);
	if (r == 0)
		r = mx_x25519(s + 2 * KEY, p3, q3);
	if (r == 0)
		r = kdf_root(root, ck, NULL, 0, s, sizeof(s), "OLM_ROOT");
	mx_wipe(s, sizeof(s));
	return r;
}

struct mx_olm_session *
mx_olm_session_new_outbound_rand(const struct mx_olm_account *a,
    const uint8_t their_id[MX_OLM_KEY_LEN],
    const uint8_t their_otk[MX_OLM_KEY_LEN], const uint8_t r[64],
    struct mx_err *e)
{
	struct mx_olm_session *s = session_alloc();
	struct keypair base;

	keypair_from(&base, r);
	keypair_from(&s->send_ratchet, r + 32);
	if (triple_dh(s->root, s->send_ck, a->id.priv, their_otk, base.priv,
		their_id, base.priv, their_otk) < 0) {
		mx_wipe(&base, sizeof(base));
		mx_olm_session_free(s);
		fail(e, "bad identity or one-time key");
		return NULL;
	}
	memcpy(s->alice_id, a->id.pub, KEY);
	memcpy(s->alice_base, base.pub, KEY);
	memcpy(s->bob_otk, their_otk, KEY);
	memcpy(s->bob_id, their_id, KEY);
	mx_wipe(&base, sizeof(base));
	s->outbound = 1;
	s->has_sender = 1;
	return s;
}

struct mx_olm_session *
mx_olm_session_new_outbound(const struct mx_olm_account *a,
    const uint8_t their_id[MX_OLM_KEY_LEN],
    const uint8_t their_otk[MX_OLM_KEY_LEN], struct mx_err *e)
{
	struct mx_olm_session *s;
	uint8_t r[64];

	mx_random(r, sizeof(r));
	s = mx_olm_session_new_outbound_rand(a, their_id, their_otk, r, e);
	mx_wipe(r, sizeof(r));
	return s;
}

struct mx_olm_session *
mx_olm_session_new_inbound(const struct mx_olm_account *a,
    const uint8_t *their_id, const void *msg, size_t n, struct mx_err *e)
{
	struct mx_olm_prekey pk;
	struct msg m;
	struct mx_olm_session *s;
	const uint8_t *otk;

	if (mx_olm_prekey_parse(&pk, msg, n, e) < 0)
		return NULL;
	if (msg_parse(&m, pk.msg, pk.msglen) < 0) {
		fail(e, "malformed message in pre-key message");
		return NULL;
	}
	if (their_id != NULL && memcmp(their_id, pk.identity, KEY) != 0) {
		fail(e, "pre-key message from another identity key");
		return NULL;
	}
	if ((otk = find_otk(a, pk.otk)) == NULL) {
		fail(e, "unknown one-time key");
		return NULL;
	}
	s = session_alloc();
	if (triple_dh(s->root, s->recv[0].ck, otk, pk.identity, a->id.priv,
		pk.base, otk, pk.base) < 0) {
		mx_olm_session_free(s);
		fail(e, "bad identity or base key");
		return NULL;
	}
	memcpy(s->recv[0].ratchet, m.ratchet, KEY);
	s->n_recv = 1;
	memcpy(s->alice_id, pk.identity, KEY);
	memcpy(s->alice_base, pk.base, KEY);
	memcpy(s->bob_otk, pk.otk, KEY);
	memcpy(s->bob_id, a->id.pub, KEY);
	s->received = 1; /* made from a message: replies are type 1 */
	return s;
}

void
mx_olm_session_id(const struct mx_olm_session *s, char out[MX_OLM_KEY_B64])
{
	session_id_of(out, s->alice_id, s->alice_base, s->bob_otk);
}

void
mx_olm_session_their_identity(const struct mx_olm_session *s,
    uint8_t out[MX_OLM_KEY_LEN])
{
	memcpy(out, s->outbound ? s->bob_id : s->alice_id, KEY);
}

int
mx_olm_session_has_received(const struct mx_olm_session *s)
{
	return s->received;
}

int
mx_olm_session_matches_from(const struct mx_olm_session *s,
    const uint8_t their_id[MX_OLM_KEY_LEN], const void *msg, size_t n)
{
	struct mx_olm_prekey pk;

	if (mx_olm_prekey_parse(&pk, msg, n, NULL) < 0)
		return 0;
	if (their_id != NULL && memcmp(their_id, pk.identity, KEY) != 0)
		return 0;
	return memcmp(pk.identity, s->alice_id, KEY) == 0 &&
	    memcmp(pk.base, s->alice_base, KEY) == 0 &&
	    memcmp(pk.otk, s->bob_otk, KEY) == 0;
}

int
mx_olm_session_matches(const struct mx_olm_session *s, const void *msg,
    size_t n)
{
	return mx_olm_session_matches_from(s, NULL, msg, n);
}

/* ---- encryption (spec "Sending messages", "The Olm Message Format") ---- */

int
mx_olm_encrypt_type(const struct mx_olm_session *s)
{
	return s->received ? MX_OLM_MESSAGE : MX_OLM_PREKEY;
}

size_t
mx_olm_encrypt_len(const struct mx_olm_session *s, size_t n)
{
	size_t m = msg_len(s->has_sender ? s->send_index : UINT32_MAX,
	    mx_aes_cbc_len(n));

	if (s->received)
		return m;
	return 1 + 3 * (2 + KEY) + 1 + varint_len(m) + m;
}

size_t
mx_olm_encrypt_rand_len(const struct mx_olm_session *s)
{
	return s->has_sender ? 0 : KEY;
}

/* A sending chain after the other side spoke: a fresh ratchet key. */
static int
new_sender(struct mx_olm_session *s, const uint8_t *r, struct mx_err *e)
{
	uint8_t root[KEY], ck[KEY];
	struct keypair k;
	int rc;

	if (r == NULL || s->n_recv == 0)
		return fail(e, "no randomness for a new ratchet key");
	keypair_from(&k, r);
	rc = ratchet_step(root, ck, s->root, k.priv, s->recv[0].ratchet);
	if (rc == 0) {
		memcpy(s->root, root, KEY);
		memcpy(s->send_ck, ck, KEY);
		s->send_ratchet = k;
		s->send_index = 0;
		s->has_sender = 1;
	}
	mx_wipe(root, sizeof(root));
	mx_wipe(ck, sizeof(ck));
	mx_wipe(&k, sizeof(k));
	return rc < 0 ? fail(e, "bad remote ratchet key") : 0;
}

/* Write the normal message for plaintext at out; returns its length. */
static size_t
msg_write(uint8_t *out, const struct cipher_keys *k, const uint8_t *ratchet,
    uint32_t index, const void *plain, size_t n)
{
	uint8_t *p = out, mac[MX_SHA256_LEN];
	size_t ctlen = mx_aes_cbc_len(n), got;

	*p++ = VERSION;
	*p++ = 0x0A;
	*p++ = KEY;
	memcpy(p, ratchet, KEY);
	p += KEY;
	*p++ = 0x10;
	p = varint_put(p, index);
	*p++ = 0x22;
	p = varint_put(p, ctlen);
	if (mx_aes256_cbc_encrypt(p, &got, k->aes, k->iv, plain, n) < 0 ||
	    got != ctlen)
		return 0;
	p += ctlen;
	mx_hmac_sha256(mac, k->mac, KEY, out, (size_t)(p - out));
	memcpy(p, mac, MAC_LEN);
	return (size_t)(p - out) + MAC_LEN;
}

static size_t
prekey_head(uint8_t *out, const struct mx_olm_session *s, size_t inner)
{
	uint8_t *p = out;

	*p++ = VERSION;
	*p++ = 0x0A;
	*p++ = KEY;
	memcpy(p, s->bob_otk, KEY);
	p += KEY;
	*p++ = 0x12;
	*p++ = KEY;
	memcpy(p, s->alice_base, KEY);
	p += KEY;
	*p++ = 0x1A;
	*p++ = KEY;
	memcpy(p, s->alice_id, KEY);
	p += KEY;
	*p++ = 0x22;
	p = varint_put(p, inner);
	return (size_t)(p - out);
}

int
mx_olm_encrypt_rand(struct mx_olm_session *s, int *type, uint8_t *out,
    size_t max, size_t *outlen, const void *plain, size_t n, const uint8_t *r,
    struct mx_err *e)
{
	struct cipher_keys k;
	uint8_t mk[KEY], ck[KEY];
	size_t inner, head = 0, len;

	/* the length is an upper bound before new_sender, so that a short
	 * buffer changes nothing */
	if (n > SIZE_MAX / 2 || mx_olm_encrypt_len(s, n) > max)
		return fail(e, "output buffer too small");
	if (!s->has_sender && new_sender(s, r, e) < 0)
		return -1;
	if (s->send_index == UINT32_MAX)
		return fail(e, "sending chain exhausted");
	inner = msg_len(s->send_index, mx_aes_cbc_len(n));
	if (!s->received)
		head = prekey_head(out, s, inner);
	memcpy(ck, s->send_ck, KEY);
	chain_step(mk, ck);
	if (cipher_keys(&k, mk) < 0)
		len = 0;
	else
		len = msg_write(out + head, &k, s->send_ratchet.pub,
		    s->send_index, plain, n);
	if (len == inner)
		memcpy(s->send_ck, ck, KEY);
	mx_wipe(ck, sizeof(ck));
	mx_wipe(mk, sizeof(mk));
	mx_wipe(&k, sizeof(k));
	if (len != inner)
		return fail(e, "encryption failed");
	s->send_index++;
	*outlen = head + len;
	*type = head ? MX_OLM_PREKEY : MX_OLM_MESSAGE;
	return 0;
}

int
mx_olm_encrypt(struct mx_olm_session *s, int *type, uint8_t *out, size_t max,
    size_t *outlen, const void *plain, size_t n, struct mx_err *e)
{
	uint8_t r[KEY];
	int rc;

	if (s->has_sender)
		return mx_olm_encrypt_rand(s, type, out, max, outlen, plain, n,
		    NULL, e);
	mx_random(r, sizeof(r));
	rc = mx_olm_encrypt_rand(s, type, out, max, outlen, plain, n, r, e);
	mx_wipe(r, sizeof(r));
	return rc;
}

/* ---- decryption (spec "Receiving messages") ---- */

/* What a successful decryption commits. */
struct pending {
	int new_chain; /* insert chain, set root, drop sender */
	uint8_t root[KEY];
	struct chain chain; /* the chain after the message */
	size_t chain_at;    /* index in s->recv when not new */
	size_t n_skip;	    /* skipped keys to keep, oldest first */
	struct skipped skip[MX_OLM_MAX_SKIPPED];
	size_t used_skipped; /* a skipped key used, or SIZE_MAX */
};

/* MAC check then AES-CBC; 0 or -1. */
static int
open_msg(const struct msg *m, const uint8_t *raw, const uint8_t mk[KEY],
    uint8_t *out, size_t *outlen)
{
	struct cipher_keys k;
	uint8_t mac[MX_SHA256_LEN];
	int r = -1;

	if (cipher_keys(&k, mk) == 0) {
		mx_hmac_sha256(mac, k.mac, KEY, raw, m->maclen_off);
		if (mx_ct_eq(mac, m->mac, MAC_LEN) &&
		    mx_aes256_cbc_decrypt(out, outlen, k.aes, k.iv, m->ct,
			m->ctlen) == 0)
			r = 0;
	}
	mx_wipe(&k, sizeof(k));
	return r;
}

/* Advance the chain c to the message's index, keeping the last skipped
 * keys in pd, and return the message key in mk. */
static int
advance_to(struct pending *pd, const struct chain *c, uint32_t target,
    uint8_t mk[KEY])
{
	uint32_t from = c->index;

	/* the chain index never wraps: UINT32_MAX is never a message's */
	if (target < from || target - from > MX_OLM_MAX_GAP ||
	    target == UINT32_MAX)
		return -1;
	pd->chain = *c;
	pd->n_skip = 0;
	while (pd->chain.index < target) {
		uint8_t *keep = NULL;

		if (target - pd->chain.index <= MX_OLM_MAX_SKIPPED) {
			struct skipped *k = &pd->skip[pd->n_skip++];

			memcpy(k->ratchet, c->ratchet, KEY);
			k->index = pd->chain.index;
			keep = k->mk;
		}
		chain_step(keep, pd->chain.ck);
		pd->chain.index++;
	}
	chain_step(mk, pd->chain.ck);
	pd->chain.index++;
	return 0;
}

static void
skipped_push(struct mx_olm_session *s, const struct skipped *k)
{
	size_t keep = s->n_skipped < MX_OLM_MAX_SKIPPED ?
	    s->n_skipped :
	    MX_OLM_MAX_SKIPPED - 1;

	memmove(&s->skipped[1], &s->skipped[0], keep * sizeof(s->skipped[0]));
	s->skipped[0] = *k;
	s->n_skipped = keep + 1;
}

static void
skipped_del(struct mx_olm_session *s, size_t i)
{
	memmove(&s->skipped[i], &s->skipped[i + 1],
	    (s->n_skipped - i - 1) * sizeof(s->skipped[0]));
	s->n_skipped--;
	mx_wipe(&s->skipped[s->n_skipped], sizeof(s->skipped[0]));
}

static void
commit(struct mx_olm_session *s, const struct pending *pd)
{
	size_t i;

	if (pd->used_skipped != SIZE_MAX) {
		skipped_del(s, pd->used_skipped);
	} else if (pd->new_chain) {
		size_t keep = s->n_recv < MX_OLM_MAX_RECV_CHAINS ?
		    s->n_recv :
		    MX_OLM_MAX_RECV_CHAINS - 1;

		memmove(&s->recv[1], &s->recv[0], keep * sizeof(s->recv[0]));
		s->recv[0] = pd->chain;
		s->n_recv = keep + 1;
		memcpy(s->root, pd->root, KEY);
		mx_wipe(&s->send_ratchet, sizeof(s->send_ratchet));
		mx_wipe(s->send_ck, KEY);
		s->has_sender = 0;
		s->send_index = 0;
	} else {
		s->recv[pd->chain_at] = pd->chain;
	}
	for (i = 0; i < pd->n_skip; i++)
		skipped_push(s, &pd->skip[i]);
	s->received = 1;
}

static size_t
find_chain(const struct mx_olm_session *s, const uint8_t *ratchet)
{
	size_t i;

	for (i = 0; i < s->n_recv; i++)
		if (memcmp(s->recv[i].ratchet, ratchet, KEY) == 0)
			return i;
	return SIZE_MAX;
}

/* Work out the message key for m and what to commit; 0 or -1 with a
 * reason in *why. */
static int
prepare(const struct mx_olm_session *s, const struct msg *m,
    struct pending *pd, uint8_t mk[KEY], const char **why)
{
	struct chain fresh;
	size_t i, c = find_chain(s, m->ratchet);
	int r;

	pd->used_skipped = SIZE_MAX;
	pd->n_skip = 0;
	pd->new_chain = 0;
	if (c != SIZE_MAX && m->index < s->recv[c].index) {
		for (i = 0; i < s->n_skipped; i++) {
			const struct skipped *k = &s->skipped[i];

			if (k->index == m->index &&
			    memcmp(k->ratchet, m->ratchet, KEY) == 0) {
				memcpy(mk, k->mk, KEY);
				pd->used_skipped = i;
				return 0;
			}
		}
		*why = "message key already used or dropped";
		return -1;
	}
	if (c != SIZE_MAX) {
		pd->chain_at = c;
		*why = "message too far ahead";
		return advance_to(pd, &s->recv[c], m->index, mk);
	}
	if (!s->has_sender) {
		*why = "new ratchet key before ours was acknowledged";
		return -1;
	}
	memcpy(fresh.ratchet, m->ratchet, KEY);
	fresh.index = 0;
	*why = "bad ratchet key";
	if (ratchet_step(pd->root, fresh.ck, s->root, s->send_ratchet.priv,
		m->ratchet) < 0)
		return -1;
	pd->new_chain = 1;
	*why = "message too far ahead";
	r = advance_to(pd, &fresh, m->index, mk);
	mx_wipe(&fresh, sizeof(fresh));
	return r;
}

static int
decrypt_msg(struct mx_olm_session *s, const uint8_t *raw, size_t n,
    uint8_t *out, size_t max, size_t *outlen, struct mx_err *e)
{
	struct pending pd;
	struct msg m;
	uint8_t mk[KEY];
	const char *why = "bad message";
	int r = -1;

	if (msg_parse(&m, raw, n) < 0)
		return fail(e, "malformed message");
	if (max < m.ctlen)
		return fail(e, "output buffer too small");
	if (prepare(s, &m, &pd, mk, &why) == 0) {
		why = "bad message authentication code or padding";
		if (open_msg(&m, raw, mk, out, outlen) == 0) {
			commit(s, &pd);
			r = 0;
		} else
			mx_wipe(out, m.ctlen);
	}
	mx_wipe(mk, sizeof(mk));
	mx_wipe(&pd, sizeof(pd));
	return r < 0 ? fail(e, why) : 0;
}

int
mx_olm_decrypt(struct mx_olm_session *s, int type, const void *msg, size_t n,
    uint8_t *out, size_t max, size_t *outlen, struct mx_err *e)
{
	struct mx_olm_prekey pk;

	if (type == MX_OLM_MESSAGE)
		return decrypt_msg(s, msg, n, out, max, outlen, e);
	if (type != MX_OLM_PREKEY)
		return fail(e, "unknown message type");
	if (mx_olm_prekey_parse(&pk, msg, n, e) < 0)
		return -1;
	if (!mx_olm_session_matches(s, msg, n))
		return fail(e, "pre-key message for another session");
	return decrypt_msg(s, pk.msg, pk.msglen, out, max, outlen, e);
}

/* ---- pickles: kind, version, then fields, integers big-endian ---- */

static void
pk_otk(struct mx_buf *b, const struct otk *k)
{
	mx_pickle_u32(b, k->id);
	mx_pickle_u8(b, k->published);
	mx_pickle_bytes(b, k->k.pub, KEY);
	mx_pickle_bytes(b, k->k.priv, KEY);
}

static void
unpk_otk(struct mx_pickle_r *r, struct otk *k)
{
	k->id = mx_pickle_r_u32(r);
	k->published = mx_pickle_r_u8(r);
	if (k->published > 1)
		r->bad = 1;
	mx_pickle_r_bytes(r, k->k.pub, KEY);
	mx_pickle_r_bytes(r, k->k.priv, KEY);
}

void
mx_olm_account_pickle(const struct mx_olm_account *a, struct mx_buf *b)
{
	size_t i;

	mx_pickle_u8(b, PICKLE_ACCOUNT);
	mx_pickle_u8(b, PICKLE_VERSION);
	mx_pickle_bytes(b, a->ed_seed, sizeof(a->ed_seed));
	mx_pickle_bytes(b, a->id.priv, KEY);
	mx_pickle_u32(b, a->next_id);
	mx_pickle_u32(b, (uint32_t)a->n_otks);
	for (i = 0; i < a->n_otks; i++)
		pk_otk(b, &a->otks[i]);
	mx_pickle_u8(b, (uint8_t)a->n_fallback);
	for (i = 0; i < a->n_fallback; i++)
		pk_otk(b, &a->fallback[i]);
}

static int
pickle_head(struct mx_pickle_r *r, uint8_t kind, struct mx_err *e)
{
	uint8_t k = mx_pickle_r_u8(r), v = mx_pickle_r_u8(r);

	if (r->bad)
		return fail(e, "truncated pickle");
	if (k != kind)
		return fail(e, "not a pickle of this kind");
	if (v != PICKLE_VERSION)
		return mx_err_set(e, MX_LOCAL,
		    "olm: unknown pickle version %u", v);
	return 0;
}

struct mx_olm_account *
mx_olm_account_unpickle(const void *p, size_t n, struct mx_err *e)
{
	struct mx_olm_account *a;
	struct mx_pickle_r r;
	uint8_t keys[64];
	size_t i;

	mx_pickle_r_init(&r, p, n);
	if (pickle_head(&r, PICKLE_ACCOUNT, e) < 0)
		return NULL;
	mx_pickle_r_bytes(&r, keys, sizeof(keys));
	a = mx_olm_account_new_rand(keys);
	mx_wipe(keys, sizeof(keys));
	a->next_id = mx_pickle_r_u32(&r);
	a->n_otks = mx_pickle_r_u32(&r);
	if (a->n_otks > MX_OLM_MAX_OTKS)
		a->n_otks = 0, r.bad = 1;
	for (i = 0; i < a->n_otks; i++)
		unpk_otk(&r, &a->otks[i]);
	a->n_fallback = mx_pickle_r_u8(&r);
	if (a->n_fallback > 2)
		a->n_fallback = 0, r.bad = 1;
	for (i = 0; i < a->n_fallback; i++)
		unpk_otk(&r, &a->fallback[i]);
	if (!mx_pickle_r_ok(&r)) {
		mx_olm_account_free(a);
		fail(e, "truncated or overlong account pickle");
		return NULL;
	}
	return a;
}

static void
pk_chain(struct mx_buf *b, const struct chain *c)
{
	mx_pickle_bytes(b, c->ratchet, KEY);
	mx_pickle_bytes(b, c->ck, KEY);
	mx_pickle_u32(b, c->index);
}

void
mx_olm_session_pickle(const struct mx_olm_session *s, struct mx_buf *b)
{
	size_t i;

	mx_pickle_u8(b, PICKLE_SESSION);
	mx_pickle_u8(b, PICKLE_VERSION);
	mx_pickle_u8(b,
	    (uint8_t)(s->outbound | s->received << 1 | s->has_sender << 2));
	mx_pickle_bytes(b, s->alice_id, KEY);
	mx_pickle_bytes(b, s->alice_base, KEY);
	mx_pickle_bytes(b, s->bob_otk, KEY);
	mx_pickle_bytes(b, s->bob_id, KEY);
	mx_pickle_bytes(b, s->root, KEY);
	if (s->has_sender) {
		mx_pickle_bytes(b, s->send_ratchet.priv, KEY);
		mx_pickle_bytes(b, s->send_ck, KEY);
		mx_pickle_u32(b, s->send_index);
	}
	mx_pickle_u8(b, (uint8_t)s->n_recv);
	for (i = 0; i < s->n_recv; i++)
		pk_chain(b, &s->recv[i]);
	mx_pickle_u8(b, (uint8_t)s->n_skipped);
	for (i = 0; i < s->n_skipped; i++) {
		mx_pickle_bytes(b, s->skipped[i].ratchet, KEY);
		mx_pickle_u32(b, s->skipped[i].index);
		mx_pickle_bytes(b, s->skipped[i].mk, KEY);
	}
}

static void
unpk_session_body(struct mx_pickle_r *r, struct mx_olm_session *s)
{
	uint8_t priv[KEY];
	size_t i;

	if (s->has_sender) {
		mx_pickle_r_bytes(r, priv, KEY);
		keypair_from(&s->send_ratchet, priv);
		mx_wipe(priv, sizeof(priv));
		mx_pickle_r_bytes(r, s->send_ck, KEY);
		s->send_index = mx_pickle_r_u32(r);
	}
	s->n_recv = mx_pickle_r_u8(r);
	if (s->n_recv > MX_OLM_MAX_RECV_CHAINS)
		s->n_recv = 0, r->bad = 1;
	for (i = 0; i < s->n_recv; i++) {
		mx_pickle_r_bytes(r, s->recv[i].ratchet, KEY);
		mx_pickle_r_bytes(r, s->recv[i].ck, KEY);
		s->recv[i].index = mx_pickle_r_u32(r);
	}
	s->n_skipped = mx_pickle_r_u8(r);
	if (s->n_skipped > MX_OLM_MAX_SKIPPED)
		s->n_skipped = 0, r->bad = 1;
	for (i = 0; i < s->n_skipped; i++) {
		mx_pickle_r_bytes(r, s->skipped[i].ratchet, KEY);
		s->skipped[i].index = mx_pickle_r_u32(r);
		mx_pickle_r_bytes(r, s->skipped[i].mk, KEY);
	}
	/* a session always has a chain to send or to answer on */
	if (!s->has_sender && s->n_recv == 0)
		r->bad = 1;
}

struct mx_olm_session *
mx_olm_session_unpickle(const void *p, size_t n, struct mx_err *e)
{
	struct mx_olm_session *s;
	struct mx_pickle_r r;
	uint8_t flags;

	mx_pickle_r_init(&r, p, n);
	if (pickle_head(&r, PICKLE_SESSION, e) < 0)
		return NULL;
	s = session_alloc();
	flags = mx_pickle_r_u8(&r);
	if (flags > 7)
		r.bad = 1;
	s->outbound = flags & 1;
	s->received = flags >> 1 & 1;
	s->has_sender = flags >> 2 & 1;
	mx_pickle_r_bytes(&r, s->alice_id, KEY);
	mx_pickle_r_bytes(&r, s->alice_base, KEY);
	mx_pickle_r_bytes(&r, s->bob_otk, KEY);
	mx_pickle_r_bytes(&r, s->bob_id, KEY);
	mx_pickle_r_bytes(&r, s->root, KEY);
	unpk_session_body(&r, s);
	if (!mx_pickle_r_ok(&r)) {
		mx_olm_session_free(s);
		fail(e, "bad or truncated session pickle");
		return NULL;
	}
	return s;
}
