/*
 * bridge-rules: the files of mx-bridge-check(1) into the rules of
 * lib/audit.h.  Each file is text, one item a line, '#' starting a
 * comment (at the start of a line or after a blank), blank lines skipped.
 * Each function returns 0, or -1 with e (MX_LOCAL: the file cannot be read
 * or a line is wrong, named as FILE:LINE).
 */
#ifndef MX_BRIDGE_RULES_H
#define MX_BRIDGE_RULES_H

#include <stddef.h>

#include "audit.h"
#include "err.h"

/* A patterns file (--patterns, the shipped one): "bot|puppet NAME REGEX"
 * a line (POSIX ERE, matched without case against the whole user ID),
 * appended in order: the first that matches wins. */
int bridge_rules_patterns(struct mx_audit_rules *ru, const char *file,
    struct mx_err *e);

/* --allow FILE: the accepted findings, one CHECK[:SUBJECT] a line. */
int bridge_rules_allow(struct mx_audit_rules *ru, const char *file,
    struct mx_err *e);

/* --servers: each of the n arguments a glob, or, with a '/', a file of
 * globs, one a line. */
int bridge_rules_servers(struct mx_audit_rules *ru, const char *const *args,
    size_t n, struct mx_err *e);

#endif
