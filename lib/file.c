/*
 * file: a file written whole or not at all (file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "util.h"
#include "banned.h"

/* The temporary file in place: renamed over file, or linked (new only). */
static int
put_in_place(const char *tmp, const char *file, int replace, struct mx_err *e)
{
	if (replace && rename(tmp, file) != 0)
		return mx_err_set(e, MX_LOCAL, "cannot rename '%s' to '%s'",
		    tmp, file);
	if (!replace && link(tmp, file) != 0)
		return mx_err_set(e, MX_LOCAL,
		    errno == EEXIST ? "'%s' exists; not overwriting it" :
				      "cannot create '%s'",
		    file);
	return 0;
}

int
mx_file_put(const char *file, const char *text, int replace, struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.XXXXXX", file);
	FILE *f = NULL;
	int fd, rc = -1;

	/* mkstemp makes the file 0600: an export is a secret. */
	if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot create '%s'", tmp);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
		mx_err_set(e, MX_LOCAL, "cannot write '%s'", tmp);
	else
		rc = 0;
	if (fclose(f) != 0 && rc == 0)
		rc = mx_err_set(e, MX_LOCAL, "cannot write '%s'", tmp);
	if (rc == 0)
		rc = put_in_place(tmp, file, replace, e);
out:
	/* Renamed, the temporary name is gone; linked, it goes now. */
	if (fd >= 0 && (rc != 0 || !replace))
		(void)unlink(tmp);
	free(tmp);
	return rc;
}
