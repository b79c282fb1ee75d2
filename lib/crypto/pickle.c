#include <string.h>

#include "pickle.h"
#include "banned.h"

void
mx_pickle_u8(struct mx_buf *b, uint8_t v)
{
	mx_buf_add(b, &v, 1);
}

void
mx_pickle_u32(struct mx_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	mx_buf_add(b, x, 4);
}

void
mx_pickle_u64(struct mx_buf *b, uint64_t v)
{
	mx_pickle_u32(b, (uint32_t)(v >> 32));
	mx_pickle_u32(b, (uint32_t)v);
}

void
mx_pickle_bytes(struct mx_buf *b, const void *p, size_t n)
{
	mx_buf_add(b, p, n);
}

void
mx_pickle_blob(struct mx_buf *b, const void *p, size_t n)
{
	mx_pickle_u32(b, (uint32_t)n);
	mx_buf_add(b, p, n);
}

void
mx_pickle_r_init(struct mx_pickle_r *r, const void *p, size_t n)
{
	r->p = p;
	r->n = n;
	r->bad = 0;
}

/* Borrow n bytes from the input, or fail for good. */
static const uint8_t *
take(struct mx_pickle_r *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->n -= n;
	return p;
}

uint8_t
mx_pickle_r_u8(struct mx_pickle_r *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

uint32_t
mx_pickle_r_u32(struct mx_pickle_r *r)
{
	const uint8_t *p = take(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
mx_pickle_r_u64(struct mx_pickle_r *r)
{
	uint64_t hi = mx_pickle_r_u32(r);

	return hi << 32 | mx_pickle_r_u32(r);
}

void
mx_pickle_r_bytes(struct mx_pickle_r *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

const uint8_t *
mx_pickle_r_blob(struct mx_pickle_r *r, size_t max, size_t *len)
{
	uint32_t n = mx_pickle_r_u32(r);

	*len = 0;
	if (r->bad || n > max) {
		r->bad = 1;
		return NULL;
	}
	*len = n;
	return take(r, n);
}

int
mx_pickle_r_ok(const struct mx_pickle_r *r)
{
	return !r->bad && r->n == 0;
}
