/*
 * pickle: the byte writer/reader under mx's own serialisation of accounts
 * and sessions (not libolm's format).  Integers are big-endian; every blob
 * starts with a one-byte kind and a one-byte version chosen by its module.
 * The reader never reads past its end: once a read fails, every later read
 * fails too and mx_pickle_r_ok() says so, so a decoder checks once at the end.
 */
#ifndef MX_PICKLE_H
#define MX_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Writer: appends to a caller-owned mx_buf (release it with
 * mx_buf_release_wipe: it holds secrets). */
void mx_pickle_u8(struct mx_buf *b, uint8_t v);
void mx_pickle_u32(struct mx_buf *b, uint32_t v);
void mx_pickle_u64(struct mx_buf *b, uint64_t v);
void mx_pickle_bytes(struct mx_buf *b, const void *p, size_t n);
/* A u32 length, then the bytes. */
void mx_pickle_blob(struct mx_buf *b, const void *p, size_t n);

struct mx_pickle_r {
	const uint8_t *p;
	size_t n; /* bytes left */
	int bad;  /* a read ran past the end or a check failed */
};
void mx_pickle_r_init(struct mx_pickle_r *r, const void *p, size_t n);
uint8_t mx_pickle_r_u8(struct mx_pickle_r *r);
uint32_t mx_pickle_r_u32(struct mx_pickle_r *r);
uint64_t mx_pickle_r_u64(struct mx_pickle_r *r);
/* Copy n bytes into out (zero-filled on failure). */
void mx_pickle_r_bytes(struct mx_pickle_r *r, void *out, size_t n);
/* A u32 length then bytes: returns a pointer into the input (borrowed) and
 * sets *len; NULL with r->bad set when the length exceeds max or the input. */
const uint8_t *
mx_pickle_r_blob(struct mx_pickle_r *r, size_t max, size_t *len);
/* 1 when every read succeeded and all input was consumed. */
int mx_pickle_r_ok(const struct mx_pickle_r *r);

#endif
