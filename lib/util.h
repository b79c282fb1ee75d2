/*
 * util: memory that cannot fail (out of memory aborts, the one exit lib/
 * allows), a growable byte buffer, and small string helpers.  Every
 * function returning a pointer hands ownership to the caller (free()).
 */
#ifndef MX_UTIL_H
#define MX_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *mx_xmalloc(size_t n);
void *mx_xcalloc(size_t n, size_t size);
void *mx_xrealloc(void *p, size_t n);
char *mx_xstrdup(const char *s);
char *mx_xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *mx_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable buffer, always NUL-terminated after len bytes. */
struct mx_buf {
	char *p;
	size_t len, cap;
};
#define MX_BUF_INIT \
	{ \
		NULL, 0, 0 \
	}
void mx_buf_add(struct mx_buf *b, const void *p, size_t n);
void mx_buf_adds(struct mx_buf *b, const char *s);
void mx_buf_addf(struct mx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empty the buffer, keeping its memory. */
void mx_buf_reset(struct mx_buf *b);
/* Free the memory (wiping it first when it may hold secrets: _wipe). */
void mx_buf_release(struct mx_buf *b);
void mx_buf_release_wipe(struct mx_buf *b);
/* Hand the string to the caller and reset b. */
char *mx_buf_detach(struct mx_buf *b);

/*
 * Percent-encode s for one URL path segment or query value: everything but
 * RFC 3986 unreserved characters is escaped ('!', ':', '#', '@' included).
 */
char *mx_urlenc(const char *s);

/* Append "?name=value" to the URL in b, or "&name=value" once it has a
 * query; value percent-encoded.  Nothing when value is NULL. */
void mx_buf_query(struct mx_buf *b, const char *name, const char *value);

/* 1 when the n bytes at s are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) without a NUL byte. */
int mx_utf8_valid(const char *s, size_t n);

/* The wall clock in milliseconds since the epoch. */
long long mx_time_ms(void);

/* A size as a person writes it: digits, then optionally K, M or G (or
 * KiB, MiB, GiB: powers of 1024).  0, or -1 when s is not one or the size
 * is over 2^50. */
int mx_parse_size(const char *s, long long *n);

/* 1 if s starts with prefix. */
int mx_startswith(const char *s, const char *prefix);

/* Big-endian 32-bit integers in byte strings (key and file formats). */
void mx_be32_put(uint8_t *p, uint32_t v);
uint32_t mx_be32_get(const uint8_t *p);
#endif
