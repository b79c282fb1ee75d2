/*
 * megolm: the Megolm group ratchet (the Matrix spec's megolm.md, algorithm
 * m.megolm.v1.aes-sha2): outbound sessions that encrypt, inbound sessions
 * that decrypt, the session sharing (v2) and export (v1) key formats, and
 * mx's own pickles.  Pure: no I/O; no allocation on the encrypt/decrypt
 * path.  Sessions live in mx_secure_alloc memory; the caller owns them and
 * frees them with mx_megolm_out_free / mx_megolm_in_free.  Messages and keys
 * here are raw bytes; Matrix carries them as unpadded base64 (lib/b64).
 *
 * Every function that can fail returns -1 (or NULL) and fills the
 * caller-owned struct mx_err (status MX_LOCAL); e may be NULL.  A failed
 * decryption leaves the session exactly as it was.
 */
#ifndef MX_MEGOLM_H
#define MX_MEGOLM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

#define MX_MEGOLM_RATCHET_LEN 128
#define MX_MEGOLM_RAND_LEN 160	       /* ratchet, then the Ed25519 seed */
#define MX_MEGOLM_SESSION_KEY_LEN 229  /* v2 sharing format, signed */
#define MX_MEGOLM_EXPORT_LEN 165       /* v1 export format */
#define MX_MEGOLM_ID_B64 44	       /* 43 base64 characters + NUL */
#define MX_MEGOLM_MAX_PLAIN (1u << 24) /* refused above (16 MiB) */

struct mx_megolm_out;
struct mx_megolm_in;

/* ---- outbound ---- */

/* A new outbound session at index 0 (caller frees), never NULL.  _rand takes
 * its 160 random bytes: the 128-byte ratchet, then the 32-byte Ed25519 seed
 * (libolm's order), for known-answer tests. */
struct mx_megolm_out *mx_megolm_out_new(void);
struct mx_megolm_out *mx_megolm_out_new_rand(const uint8_t r[160]);
/* Wipe and free; NULL is fine. */
void mx_megolm_out_free(struct mx_megolm_out *s);

/* Session id: unpadded base64 of the Ed25519 public key (caller's buffer). */
void
mx_megolm_out_id(const struct mx_megolm_out *s, char id[MX_MEGOLM_ID_B64]);
/* The index the next message will carry. */
uint32_t mx_megolm_out_index(const struct mx_megolm_out *s);
/* The v2 session key at the current index, signed (caller's buffer). */
void mx_megolm_out_session_key(const struct mx_megolm_out *s,
    uint8_t key[MX_MEGOLM_SESSION_KEY_LEN]);

/* Bytes a message carrying n bytes of plaintext takes. */
size_t mx_megolm_encrypt_len(size_t n);
/* Encrypt n bytes into out (max bytes of room); *outlen gets the length.
 * Advances the ratchet by one, so an index is never used twice. */
int mx_megolm_encrypt(struct mx_megolm_out *s, uint8_t *out, size_t max,
    size_t *outlen, const void *pt, size_t n, struct mx_err *e);

/* Pickle (appended to b: it holds secrets, release with
 * mx_buf_release_wipe) and unpickle (a new session the caller frees). */
void mx_megolm_out_pickle(const struct mx_megolm_out *s, struct mx_buf *b);
struct mx_megolm_out *
mx_megolm_out_unpickle(const void *p, size_t n, struct mx_err *e);

/* ---- inbound ---- */

/* A new inbound session (caller frees) from a v2 session key (signature
 * checked; the session counts as verified) or from a v1 exported key (no
 * signature; verified once a message decrypts), or NULL. */
struct mx_megolm_in *
mx_megolm_in_new(const void *key, size_t n, struct mx_err *e);
struct mx_megolm_in *
mx_megolm_in_import(const void *key, size_t n, struct mx_err *e);
/* Wipe and free; NULL is fine. */
void mx_megolm_in_free(struct mx_megolm_in *s);

void mx_megolm_in_id(const struct mx_megolm_in *s, char id[MX_MEGOLM_ID_B64]);
/* The raw Ed25519 public key (32 bytes, caller's buffer). */
void mx_megolm_in_signing_key(const struct mx_megolm_in *s, uint8_t pub[32]);
/* The earliest index this session can decrypt. */
uint32_t mx_megolm_in_first_index(const struct mx_megolm_in *s);
/* 1 when the key came signed or a message has decrypted, else 0. */
int mx_megolm_in_verified(const struct mx_megolm_in *s);
/* Write the v1 export at index (>= the first known index; within 2^31 of
 * it) into the caller's buffer. */
int mx_megolm_in_export(const struct mx_megolm_in *s, uint32_t index,
    uint8_t key[MX_MEGOLM_EXPORT_LEN], struct mx_err *e);

/* Most plaintext bytes a message of n bytes can hold. */
size_t mx_megolm_decrypt_max(size_t n);
/* Check and decrypt one message into out (max bytes of room): signature,
 * then MAC, then AES.  *outlen gets the length and *index the message index;
 * replay detection on it is the caller's job.  An index below the first
 * known one, in a message the session signed, is MX_MEGOLM_UNKNOWN_INDEX
 * (and *index set): the key of that message is missing, nothing is wrong
 * with it.  Other failures are -1.  Only a success updates the session
 * (verified flag and the cache of the latest ratchet). */
#define MX_MEGOLM_UNKNOWN_INDEX (-2)
int mx_megolm_decrypt(struct mx_megolm_in *s, uint8_t *out, size_t max,
    size_t *outlen, uint32_t *index, const void *msg, size_t n,
    struct mx_err *e);

void mx_megolm_in_pickle(const struct mx_megolm_in *s, struct mx_buf *b);
struct mx_megolm_in *
mx_megolm_in_unpickle(const void *p, size_t n, struct mx_err *e);

/* ---- the ratchet alone, for known-answer tests ---- */

/* Advance a 128-byte ratchet at *counter to index to (forward, modulo
 * 2^32), in at most 4 * 256 hash steps. */
void mx_megolm_ratchet_advance_to(uint8_t r[MX_MEGOLM_RATCHET_LEN],
    uint32_t *counter, uint32_t to);

#endif
