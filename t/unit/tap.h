/*
 * tap.h: the smallest TAP producer for the C unit tests.  Include it once per
 * test program; call ok()/is_str()/is_mem() and finish with done().
 */
#ifndef MX_TAP_H
#define MX_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_fail;

static int __attribute__((format(printf, 2, 3), unused))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_fail++;
	return cond;
}

static int __attribute__((unused))
is_str(const char *got, const char *want, const char *name)
{
	int c = got != NULL && want != NULL && strcmp(got, want) == 0;

	if (!ok(c, "%s", name))
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return c;
}

static int __attribute__((unused))
is_mem(const void *got, const void *want, size_t n, const char *name)
{
	int c = memcmp(got, want, n) == 0;

	if (!ok(c, "%s", name)) {
		size_t i;

		printf("#   got:  ");
		for (i = 0; i < n; i++)
			printf("%02x", ((const unsigned char *)got)[i]);
		printf("\n#   want: ");
		for (i = 0; i < n; i++)
			printf("%02x", ((const unsigned char *)want)[i]);
		printf("\n");
	}
	return c;
}

static int __attribute__((unused))
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail != 0;
}

#endif
