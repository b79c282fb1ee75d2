/*
 * helpers.h: what several unit tests need besides TAP: hex to bytes,
 * counting byte patterns for fixed "random" input, one deterministic
 * random generator for the randomised comparisons, and removing a test's
 * temporary directory.  Every function is static and may go unused.
 */
#ifndef MX_HELPERS_H
#define MX_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

/* Hex digits to bytes at out (room for strlen(h) / 2 bytes); stops at the
 * end or at a pair that is not hex.  Returns the number of bytes. */
static size_t __attribute__((unused))
unhex(uint8_t *out, const char *h)
{
	size_t n = 0;
	unsigned v;

	while (h[0] != '\0' && h[1] != '\0') {
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* n bytes counting up from start, wrapping at 256. */
static void __attribute__((unused))
seq(uint8_t *out, unsigned start, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(start + i);
}

/*
 * splitmix64: reproducible, not secret; every seed, 0 included, gives a
 * full-period stream.  A test seeds it once (and prints the seed), then
 * draws with rnd, rnd_bytes and pick.
 */
static uint64_t rng_state __attribute__((unused));

static void __attribute__((unused))
rng_seed(uint64_t s)
{
	rng_state = s;
}

static uint64_t __attribute__((unused))
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void __attribute__((unused))
rnd_bytes(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = (uint8_t)rnd();
}

/* A number below n (n > 0). */
static unsigned __attribute__((unused))
pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Remove a test's temporary directory (made with mkdtemp: no quote in
 * its name); a failure is a failed test. */
static void __attribute__((unused))
rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup of %s", dir);
}

#endif
