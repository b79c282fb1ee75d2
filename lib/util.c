#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "util.h"
#include "banned.h"

static void
oom(void)
{
	fputs("mx: out of memory\n", stderr);
	abort();
}

void *
mx_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
mx_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
mx_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
mx_xstrdup(const char *s)
{
	return mx_xstrndup(s, strlen(s));
}

char *
mx_xstrndup(const char *s, size_t n)
{
	char *p = mx_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
mx_xasprintf(const char *fmt, ...)
{
	struct mx_buf b = MX_BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	b.p = mx_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.p;
}

/* Grow by moving, the old block wiped: realloc would leave it, perhaps
 * holding a token or a key (mx_buf_release_wipe), in the freed heap. */
static void
grow(struct mx_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = mx_xmalloc(cap);
	if (b->p != NULL) {
		memcpy(p, b->p, b->len + 1);
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
}

void
mx_buf_add(struct mx_buf *b, const void *p, size_t n)
{
	grow(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
mx_buf_adds(struct mx_buf *b, const char *s)
{
	mx_buf_add(b, s, strlen(s));
}

void
mx_buf_addf(struct mx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
mx_buf_reset(struct mx_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
mx_buf_release(struct mx_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
mx_buf_release_wipe(struct mx_buf *b)
{
	if (b->p)
		sodium_memzero(b->p, b->cap);
	mx_buf_release(b);
}

char *
mx_buf_detach(struct mx_buf *b)
{
	char *p = b->p ? b->p : mx_xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

char *
mx_urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct mx_buf b = MX_BUF_INIT;
	const unsigned char *u;

	mx_buf_add(&b, "", 0);
	for (u = (const unsigned char *)s; *u; u++) {
		if ((*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
		    (*u >= '0' && *u <= '9') || strchr("-._~", *u)) {
			mx_buf_add(&b, u, 1);
		} else {
			char e[3] = { '%', hex[*u >> 4], hex[*u & 15] };
			mx_buf_add(&b, e, 3);
		}
	}
	return mx_buf_detach(&b);
}

void
mx_buf_query(struct mx_buf *b, const char *name, const char *value)
{
	char *enc;

	if (value == NULL)
		return;
	enc = mx_urlenc(value);
	mx_buf_addf(b, "%c%s=%s", b->p && strchr(b->p, '?') ? '&' : '?', name,
	    enc);
	free(enc);
}

int
mx_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned lo, hi;
	size_t k;

	while (p < end) {
		if (*p == 0)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		/* The lead byte fixes the length and the range of the
		 * second byte (RFC 3629, section 4); the rest are 80..BF. */
		lo = 0x80, hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			k = 1;
		else if (*p >= 0xe0 && *p <= 0xef) {
			k = 2;
			if (*p == 0xe0)
				lo = 0xa0;
			else if (*p == 0xed)
				hi = 0x9f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			k = 3;
			if (*p == 0xf0)
				lo = 0x90;
			else if (*p == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if ((size_t)(end - p) <= k || p[1] < lo || p[1] > hi)
			return 0;
		for (p += 2; --k > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return 0;
	}
	return 1;
}

int
mx_parse_size(const char *s, long long *n)
{
	static const char units[] = "KMG";
	const char *u;
	long long v = 0;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > (1LL << 50))
			return -1;
	}
	if (*s != '\0') {
		if ((u = strchr(units, *s)) == NULL)
			return -1;
		shift = 10 * (int)(u - units + 1);
		s++;
		if (strcmp(s, "iB") != 0 && *s != '\0')
			return -1;
	}
	if (v > (1LL << (50 - shift)))
		return -1;
	*n = v << shift;
	return 0;
}

int
mx_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void
mx_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
mx_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

long long
mx_time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
