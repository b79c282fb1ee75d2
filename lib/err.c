#include <stdio.h>
#include <string.h>

#include "err.h"

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
	if (n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 3);
		strncat(e->msg, old, sizeof(e->msg) - n - 3);
	}
	return -1;
}
