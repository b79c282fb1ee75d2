#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "banned.h"

void
mx_err_clear(struct mx_err *e)
{
	memset(e, 0, sizeof(*e));
}

int
mx_err_set(struct mx_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
mx_err_prefix(struct mx_err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* Truncation of a long message is acceptable; it stays terminated. */
	n = strlen(e->msg);
	if (n + 2 < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", old);
	return -1;
}

int
mx_notice_on(const struct mx_notice *n, int level)
{
	return n != NULL && n->fn != NULL && level <= n->max;
}

void
mx_notice(const struct mx_notice *n, int level, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int len;

	if (!mx_notice_on(n, level))
		return;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (msg = malloc((size_t)len + 1)) == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	n->fn(n->u, level, msg);
	free(msg);
}
