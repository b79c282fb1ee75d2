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
	char head[sizeof(e->msg)], old[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", head, old);
	return -1;
}
