/*
 * keyexport: the room-key export file Element writes and reads
 * (Client-Server API, "Key exports").  The armoured text
 *
 *   -----BEGIN MEGOLM SESSION DATA-----
 *   base64 of: 0x01 | salt[16] | iv[16] | rounds (u32 BE) | AES-CTR(json)
 *              | HMAC-SHA-256 of everything before
 *   -----END MEGOLM SESSION DATA-----
 *
 * with PBKDF2-HMAC-SHA-512(passphrase, salt, rounds) giving 64 bytes: the
 * AES-256 key, then the HMAC key.
 */
#ifndef MX_KEYEXPORT_H
#define MX_KEYEXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Element writes 500000 rounds, and so does mx; a file asking for more is
 * refused before any derivation (a forged header must not make mx spin). */
#define MX_KEYEXPORT_ROUNDS 500000
#define MX_KEYEXPORT_MAX_ROUNDS MX_KEYEXPORT_ROUNDS

/* Why mx_keyexport_decrypt failed. */
enum mx_keyexport_why {
	MX_KEYEXPORT_OK = 0,
	MX_KEYEXPORT_NOTEXPORT,	 /* no armour, bad base64, too short */
	MX_KEYEXPORT_VERSION,	 /* version byte other than 0x01 */
	MX_KEYEXPORT_ROUNDS_BAD, /* zero rounds or more than MAX */
	MX_KEYEXPORT_MAC,	 /* wrong passphrase or corrupted file */
};

/*
 * Encrypt n bytes of JSON (the array of sessions) under passphrase pass
 * with the given PBKDF2 rounds (1..MAX).  Returns the armoured text, base64
 * padded and wrapped at 128 columns, ending in a newline; the caller owns
 * it (free()).  NULL and e set on failure.
 */
char *mx_keyexport_encrypt(const char *json, size_t n, const char *pass,
    uint32_t rounds, struct mx_err *e);

/*
 * Decrypt the armoured text (n bytes; text around the armour is ignored)
 * with passphrase pass.  The MAC is checked before anything is decrypted.
 * Returns the JSON text, NUL-terminated, its length in *len (may be NULL);
 * the caller owns it and should wipe it (mx_wipe) before free().  On
 * failure NULL, e set and *why (may be NULL) saying which failure.
 */
char *mx_keyexport_decrypt(const char *text, size_t n, const char *pass,
    size_t *len, enum mx_keyexport_why *why, struct mx_err *e);

/*
 * The PBKDF2 round count a file asks for, in *rounds, without deriving
 * anything (a caller may refuse or warn before a long derivation).
 * -1 and e set when text is not an export file.
 */
int mx_keyexport_rounds(const char *text, size_t n, uint32_t *rounds,
    struct mx_err *e);

/*
 * Streaming: a file of any size read with fixed memory, in passes over a
 * source that can start again (a file, not a pipe).
 *
 *   mx_keyexport_in_head   the header alone: version and round count,
 *                          checked before any derivation
 *   mx_keyexport_in_open   derive the keys, read the whole body once and
 *                          check its MAC: a wrong passphrase or a damaged
 *                          file fails here, before any plaintext exists
 *   mx_keyexport_in_read   read it again, decrypting: sink gets the JSON
 *                          text in chunks (borrowed, wiped after the call;
 *                          a sink that fails stops the read); the MAC is
 *                          checked again at the end, so a file changed
 *                          since mx_keyexport_in_open fails (-1) after the
 *                          sink saw its text: the caller keeps what the
 *                          sink did undoable until this returns 0.
 *
 * Each returns 0, or -1 with e set and *why (may be NULL) as for
 * mx_keyexport_decrypt.
 */
struct mx_keyexport_src {
	/* Up to n bytes into buf: the count, 0 at the end, -1 on error. */
	long (*read)(void *u, char *buf, size_t n);
	/* Back to the first byte: 0, or -1. */
	int (*rewind)(void *u);
	void *u;
};
struct mx_keyexport_in;

/* A reader of src (copied; src->u borrowed); mx_keyexport_in_free. */
struct mx_keyexport_in *
mx_keyexport_in_new(const struct mx_keyexport_src *src);
void mx_keyexport_in_free(struct mx_keyexport_in *in);
int mx_keyexport_in_head(struct mx_keyexport_in *in, uint32_t *rounds,
    enum mx_keyexport_why *why, struct mx_err *e);
int mx_keyexport_in_open(struct mx_keyexport_in *in, const char *pass,
    enum mx_keyexport_why *why, struct mx_err *e);
int mx_keyexport_in_read(struct mx_keyexport_in *in,
    int (*sink)(void *u, const char *p, size_t n, struct mx_err *e), void *u,
    struct mx_err *e);

#endif
