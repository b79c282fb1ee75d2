/*
 * bridge-rules: mx-bridge-check's files into struct mx_audit_rules
 * (bridge-rules.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bridge-rules.h"
#include "err.h"
#include "banned.h"

/* The next line of f without its comment and surrounding blanks, in *line
 * (reused); 0 at the end. */
static int
next_line(FILE *f, char **line, size_t *cap, char **text)
{
	char *s, *end;

	if (getline(line, cap, f) < 0)
		return 0;
	s = *line;
	if ((end = strchr(s, '#')) != NULL &&
	    (end == s || isspace((unsigned char)end[-1])))
		*end = '\0';
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	*text = s;
	return 1;
}

int
bridge_rules_allow(struct mx_audit_rules *ru, const char *file,
    struct mx_err *e)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *s;
	size_t cap = 0, n = 0;
	int rc = 0;

	if (f == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot read '%s': %s", file,
		    strerror(errno));
	while (rc == 0 && next_line(f, &line, &cap, &s)) {
		n++;
		if (*s != '\0' && mx_audit_rules_ignore(ru, s) != 0)
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: '%s' names no check", file, n, s);
	}
	free(line);
	fclose(f);
	return rc;
}

int
bridge_rules_patterns(struct mx_audit_rules *ru, const char *file,
    struct mx_err *e)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *s, *kind, *name;
	size_t cap = 0, n = 0;
	int rc = 0;

	if (f == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot read patterns '%s': %s",
		    file, strerror(errno));
	while (rc == 0 && next_line(f, &line, &cap, &s)) {
		n++;
		if (*s == '\0')
			continue;
		kind = s;
		s += strcspn(s, " \t");
		name = s + strspn(s, " \t");
		*s = '\0';
		s = name + strcspn(name, " \t");
		if (*s != '\0')
			*s++ = '\0';
		s += strspn(s, " \t");
		if ((strcmp(kind, "bot") != 0 &&
			strcmp(kind, "puppet") != 0) ||
		    *name == '\0' || *s == '\0') {
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: not 'bot|puppet NAME REGEX'", file, n);
			break;
		}
		if (mx_audit_rules_pattern(ru, kind[0] == 'b', name, s) != 0) {
			rc = mx_err_set(e, MX_LOCAL,
			    "%s:%zu: bad regular expression", file, n);
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int
bridge_rules_servers(struct mx_audit_rules *ru, const char *const *args,
    size_t n, struct mx_err *e)
{
	char *line = NULL, *s;
	size_t i, cap = 0;
	FILE *f;

	for (i = 0; i < n; i++) {
		if (strchr(args[i], '/') == NULL) {
			mx_audit_rules_server(ru, args[i]);
			continue;
		}
		if ((f = fopen(args[i], "r")) == NULL) {
			free(line);
			return mx_err_set(e, MX_LOCAL, "cannot read '%s': %s",
			    args[i], strerror(errno));
		}
		while (next_line(f, &line, &cap, &s))
			if (*s != '\0')
				mx_audit_rules_server(ru, s);
		fclose(f);
	}
	free(line);
	return 0;
}
