/*
 * file: a file the programs write for the user (mx-keys export -o, devices
 * --snapshot), whole or not at all: written to a temporary file, 0600, in
 * the same directory, synced, then put in place in one step, so that a
 * reader never sees half of it and a crash leaves the old file or none.
 */
#ifndef MX_FILE_H
#define MX_FILE_H

#include "err.h"

/*
 * Write text to file: renamed over file when replace, else linked to it,
 * which fails when file exists.  0; -1 with e (MX_LOCAL: "cannot create",
 * "cannot write", "cannot rename" naming the temporary file, or "'file'
 * exists; not overwriting it").
 */
int
mx_file_put(const char *file, const char *text, int replace, struct mx_err *e);

#endif
