/*
 * olm: the Olm double ratchet, version 1 ("Olm: A Cryptographic Ratchet",
 * the Matrix spec's olm.md; algorithm m.olm.v1.curve25519-aes-sha2).
 * Pure: no I/O, no allocation on the encrypt/decrypt path.  Accounts and
 * sessions live in mx_secure_alloc memory; the caller owns them and frees
 * them with mx_olm_account_free / mx_olm_session_free.  Messages here are
 * raw bytes; Matrix carries them as unpadded base64 (lib/b64).
 *
 * Every function that can fail returns -1 (or NULL) and fills the
 * caller-owned struct mx_err (status MX_LOCAL); e may be NULL.  A failed
 * decryption leaves the session exactly as it was.
 *
 * Functions named *_rand take the randomness they need as an argument, as
 * libolm does; they exist for known-answer and cross-implementation tests.
 * Everything else draws from mx_random.
 */
#ifndef MX_OLM_H
#define MX_OLM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

#define MX_OLM_KEY_LEN 32
#define MX_OLM_KEY_B64 44 /* 43 characters of unpadded base64 + NUL */
#define MX_OLM_SIG_B64 87 /* 86 + NUL */

/* Bounds, documented in olm.c. */
#define MX_OLM_MAX_OTKS 100 /* private one-time keys held; oldest dropped */
#define MX_OLM_MAX_RECV_CHAINS 5 /* receiver chains kept per session */
#define MX_OLM_MAX_SKIPPED 40	 /* skipped message keys kept per session */
#define MX_OLM_MAX_GAP 2000	 /* chain steps one message may cause */

enum { MX_OLM_PREKEY = 0, MX_OLM_MESSAGE = 1 };

struct mx_olm_account;
struct mx_olm_session;

/* A public key with its id, ready for /keys/upload JSON. */
struct mx_olm_otk {
	char id[12];		  /* unpadded b64 of a u32 ("AAAAAQ") */
	char key[MX_OLM_KEY_B64]; /* unpadded b64 Curve25519 public key */
	uint8_t pub[MX_OLM_KEY_LEN];
};

/* The public fields of a pre-key message; pointers borrow the input. */
struct mx_olm_prekey {
	const uint8_t *otk, *base, *identity; /* 32 bytes each */
	const uint8_t *msg;		      /* the inner normal message */
	size_t msglen;
};

/* ---- accounts ---- */

/* A new account with fresh identity keys (caller frees), never NULL.
 * _rand: 64 bytes, the Ed25519 seed then the Curve25519 private key. */
struct mx_olm_account *mx_olm_account_new(void);
struct mx_olm_account *mx_olm_account_new_rand(const uint8_t r[64]);
/* Wipe and free; NULL is fine. */
void mx_olm_account_free(struct mx_olm_account *a);

/* Identity public keys, raw and as unpadded base64 (caller's buffers). */
void mx_olm_account_curve25519(const struct mx_olm_account *a,
    uint8_t pub[MX_OLM_KEY_LEN]);
void mx_olm_account_ed25519(const struct mx_olm_account *a,
    uint8_t pub[MX_OLM_KEY_LEN]);
void mx_olm_account_curve25519_b64(const struct mx_olm_account *a,
    char out[MX_OLM_KEY_B64]);
void mx_olm_account_ed25519_b64(const struct mx_olm_account *a,
    char out[MX_OLM_KEY_B64]);

/* Ed25519 signature of n bytes with the device key (raw, or b64). */
void mx_olm_account_sign(const struct mx_olm_account *a, uint8_t sig[64],
    const void *msg, size_t n);
void mx_olm_account_sign_b64(const struct mx_olm_account *a,
    char out[MX_OLM_SIG_B64], const void *msg, size_t n);

/* The most one-time keys the account holds (MX_OLM_MAX_OTKS). */
size_t mx_olm_account_max_otks(void);
/* Generate n one-time keys (the oldest are dropped beyond the maximum).
 * _rand: 32 * n bytes, one private key each. */
void mx_olm_account_generate_otks(struct mx_olm_account *a, size_t n);
void mx_olm_account_generate_otks_rand(struct mx_olm_account *a, size_t n,
    const uint8_t *r);
/* Copy up to max unpublished one-time keys, oldest first, into out;
 * returns how many there are in all (may exceed max). */
size_t mx_olm_account_otks(const struct mx_olm_account *a,
    struct mx_olm_otk *out, size_t max);
/* Mark every one-time key and the fallback key published. */
void mx_olm_account_mark_published(struct mx_olm_account *a);
/* Forget the one-time key a session was made from (call after its first
 * message decrypted).  0 when a one-time key was removed, 1 when the
 * session used a fallback key (kept), -1 when no key matched. */
int mx_olm_account_remove_otk(struct mx_olm_account *a,
    const struct mx_olm_session *s, struct mx_err *e);

/* A new fallback key; the current one becomes the previous one (the one
 * before is forgotten).  _rand: 32 bytes. */
void mx_olm_account_generate_fallback(struct mx_olm_account *a);
void mx_olm_account_generate_fallback_rand(struct mx_olm_account *a,
    const uint8_t r[32]);
/* The current fallback key if it is unpublished: 1 and *out filled, else 0. */
int mx_olm_account_fallback(const struct mx_olm_account *a,
    struct mx_olm_otk *out);
/* Forget the previous fallback key. */
void mx_olm_account_forget_old_fallback(struct mx_olm_account *a);

/* Serialise into b (caller's; release with mx_buf_release_wipe). */
void mx_olm_account_pickle(const struct mx_olm_account *a, struct mx_buf *b);
/* A new account from a pickle (caller frees), or NULL. */
struct mx_olm_account *
mx_olm_account_unpickle(const void *p, size_t n, struct mx_err *e);

/* ---- sessions ---- */

/* Start a session to the device with identity key their_id using its
 * one-time (or fallback) key their_otk.  Caller frees; NULL on failure.
 * _rand: 64 bytes, the base key then the first ratchet key. */
struct mx_olm_session *
mx_olm_session_new_outbound(const struct mx_olm_account *a,
    const uint8_t their_id[MX_OLM_KEY_LEN],
    const uint8_t their_otk[MX_OLM_KEY_LEN], struct mx_err *e);
struct mx_olm_session *
mx_olm_session_new_outbound_rand(const struct mx_olm_account *a,
    const uint8_t their_id[MX_OLM_KEY_LEN],
    const uint8_t their_otk[MX_OLM_KEY_LEN], const uint8_t r[64],
    struct mx_err *e);
/* Answer a pre-key message: a session (caller frees) or NULL.  When
 * their_id is not NULL the message must come from that identity key.  The
 * message is not decrypted: call mx_olm_decrypt, then, on success,
 * mx_olm_account_remove_otk. */
struct mx_olm_session *
mx_olm_session_new_inbound(const struct mx_olm_account *a,
    const uint8_t *their_id, const void *msg, size_t n, struct mx_err *e);
/* Wipe and free; NULL is fine. */
void mx_olm_session_free(struct mx_olm_session *s);

/* The session id: unpadded b64 of SHA-256(I_A || E_A || E_B). */
void
mx_olm_session_id(const struct mx_olm_session *s, char out[MX_OLM_KEY_B64]);
/* The remote party's Curve25519 identity key (alice's or bob's). */
void mx_olm_session_their_identity(const struct mx_olm_session *s,
    uint8_t out[MX_OLM_KEY_LEN]);
/* 1 once a message from the other side decrypted (or the session was made
 * from one), 0 before. */
int mx_olm_session_has_received(const struct mx_olm_session *s);
/* 1 when the pre-key message was made for this session; the _from variant
 * also requires its identity key to be their_id. */
int mx_olm_session_matches(const struct mx_olm_session *s, const void *msg,
    size_t n);
int mx_olm_session_matches_from(const struct mx_olm_session *s,
    const uint8_t their_id[MX_OLM_KEY_LEN], const void *msg, size_t n);

/* The type the next message will have: MX_OLM_PREKEY or MX_OLM_MESSAGE. */
int mx_olm_encrypt_type(const struct mx_olm_session *s);
/* The size of the encryption of n bytes (an upper bound for the next one). */
size_t mx_olm_encrypt_len(const struct mx_olm_session *s, size_t n);
/* Random bytes the next mx_olm_encrypt_rand needs: 32 or 0. */
size_t mx_olm_encrypt_rand_len(const struct mx_olm_session *s);
/* Encrypt n bytes into out (max bytes of room, see mx_olm_encrypt_len);
 * *outlen gets the message length, *type its type.  _rand: r holds
 * mx_olm_encrypt_rand_len(s) bytes (NULL when 0). */
int mx_olm_encrypt(struct mx_olm_session *s, int *type, uint8_t *out,
    size_t max, size_t *outlen, const void *plain, size_t n, struct mx_err *e);
int mx_olm_encrypt_rand(struct mx_olm_session *s, int *type, uint8_t *out,
    size_t max, size_t *outlen, const void *plain, size_t n, const uint8_t *r,
    struct mx_err *e);
/* Decrypt a message of the given type into out (max bytes of room; n is
 * always enough).  On failure the session is unchanged and out wiped.
 * A pre-key message must match the session (mx_olm_session_matches);
 * libolm ignores its outer keys here, mx refuses a mismatch. */
int mx_olm_decrypt(struct mx_olm_session *s, int type, const void *msg,
    size_t n, uint8_t *out, size_t max, size_t *outlen, struct mx_err *e);

/* Serialise into b (caller's; release with mx_buf_release_wipe). */
void mx_olm_session_pickle(const struct mx_olm_session *s, struct mx_buf *b);
/* A new session from a pickle (caller frees), or NULL. */
struct mx_olm_session *
mx_olm_session_unpickle(const void *p, size_t n, struct mx_err *e);

/* ---- wire formats (public parts, for routing and fuzzing) ---- */

/* Parse a pre-key message; 0 or -1. */
int mx_olm_prekey_parse(struct mx_olm_prekey *pk, const void *msg, size_t n,
    struct mx_err *e);
/* The session id a pre-key message belongs to; 0 or -1. */
int mx_olm_prekey_session_id(char out[MX_OLM_KEY_B64], const void *msg,
    size_t n, struct mx_err *e);

#endif
