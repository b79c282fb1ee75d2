/*
 * heap.h: for the unit tests that check secrets are wiped from freed
 * memory.  in_heap() scans this process's [heap] mapping through
 * /proc/self/mem; keep the needle itself on the stack.
 */
#ifndef MX_HEAP_H
#define MX_HEAP_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

/* 1 when the n bytes at needle occur anywhere in this process's heap. */
static int __attribute__((unused))
in_heap(const char *needle, size_t n)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512], *buf;
	int fd = open("/proc/self/mem", O_RDONLY), hit = 0;
	size_t i, len;

	while (maps != NULL && fd >= 0 && !hit &&
	    fgets(line, sizeof(line), maps) != NULL) {
		if (strstr(line, "[heap]") == NULL ||
		    sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		len = hi - lo;
		buf = malloc(len);
		if (buf != NULL && pread(fd, buf, len, (off_t)lo) ==
		    (ssize_t)len)
			for (i = 0; i + n <= len && !hit; i++)
				hit = memcmp(buf + i, needle, n) == 0;
		if (buf != NULL)
			sodium_memzero(buf, len);
		free(buf);
	}
	if (maps != NULL)
		fclose(maps);
	if (fd >= 0)
		close(fd);
	return hit;
}

#endif
