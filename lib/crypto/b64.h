/*
 * b64: base64 as Matrix uses it, through libsodium's constant-time codec
 * (safe for secret keys).  Matrix writes standard base64 without padding;
 * attachments' JWK keys use the URL-safe alphabet without padding.
 * Decoders accept input with or without '=' padding.
 */
#ifndef MX_B64_H
#define MX_B64_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Length of the unpadded encoding of n bytes, without the NUL. */
size_t mx_b64_enclen(size_t n);
/* Encode n bytes into out (mx_b64_enclen(n) + 1 bytes); returns out. */
char *mx_b64_enc(char *out, const void *in, size_t n);
char *mx_b64url_enc(char *out, const void *in, size_t n);
/* Encode into a new string (caller frees). */
char *mx_b64_encdup(const void *in, size_t n);

/* Decode n characters into out (room for max bytes); *outlen gets the
 * length.  -1 on a bad character, bad length or too small a buffer. */
int
mx_b64_dec(uint8_t *out, size_t max, size_t *outlen, const char *in, size_t n);
int mx_b64url_dec(uint8_t *out, size_t max, size_t *outlen, const char *in,
    size_t n);
/* Decode exactly len bytes or fail. */
int mx_b64_dec_exact(uint8_t *out, size_t len, const char *in);

/* The base64 string member k of the JSON object o (borrowed), decoded:
 * _dup into a new buffer (caller frees; *len its length) or NULL; the
 * other exactly len bytes into out, or -1. */
uint8_t *mx_b64_field_dup(const json_t *o, const char *k, size_t *len);
int mx_b64_field(uint8_t *out, size_t len, const json_t *o, const char *k);

#endif
