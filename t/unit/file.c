/*
 * file: a file written whole, 0600, renamed over the old one or linked
 * where there is none, never leaving its temporary file behind.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "util.h"
#include "tap.h"

/* The whole of file (caller frees), or NULL. */
static char *
slurp(const char *file)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return mx_xstrdup(buf);
}

/* Entries of dir, . and .. aside. */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	if (d != NULL)
		closedir(d);
	return n;
}

int
main(void)
{
	char dir[] = "/tmp/mx-file-test.XXXXXX", *file, *s;
	struct mx_err e;
	struct stat st;

	if (mkdtemp(dir) == NULL)
		return 1;
	file = mx_xasprintf("%s/out", dir);
	mx_err_clear(&e);
	ok(mx_file_put(file, "one\n", 0, &e) == 0, "a new file: %s", e.msg);
	s = slurp(file);
	is_str(s, "one\n", "holds the text");
	free(s);
	ok(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "0600");
	ok(entries(dir) == 1, "no temporary file left");

	ok(mx_file_put(file, "two\n", 0, &e) == -1 && e.status == MX_LOCAL,
	    "not replacing: refused");
	ok(strstr(e.msg, "exists; not overwriting it") != NULL, "says so: %s",
	    e.msg);
	s = slurp(file);
	is_str(s, "one\n", "the old file is whole");
	free(s);
	ok(entries(dir) == 1, "no temporary file left");

	mx_err_clear(&e);
	ok(mx_file_put(file, "three\n", 1, &e) == 0, "replacing: %s", e.msg);
	s = slurp(file);
	is_str(s, "three\n", "the new text");
	free(s);
	ok(entries(dir) == 1, "no temporary file left");

	free(file);
	file = mx_xasprintf("%s/no/such/dir", dir);
	mx_err_clear(&e);
	ok(mx_file_put(file, "x", 1, &e) == -1 && e.status == MX_LOCAL &&
		strncmp(e.msg, "cannot create", 13) == 0,
	    "no directory: %s", e.msg);
	free(file);
	file = mx_xasprintf("%s/out", dir);
	(void)unlink(file);
	(void)rmdir(dir);
	free(file);
	return done();
}
