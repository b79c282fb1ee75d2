/*
 * cli: what every mx program shares at the program level, where printing
 * and exiting are allowed: the option table that drives getopt_long and
 * produces --help, the common options, the one-line error on stderr, and
 * JSON Lines on stdout.
 *
 * Common options, added to every program's table:
 *   -h --help  -V --version  -v --verbose (repeat: -vv traces HTTP)
 *   -q --quiet  -p --profile PROFILE  --insecure-http
 */
#ifndef MX_CLI_H
#define MX_CLI_H

#include <jansson.h>

#include "conf.h"
#include "err.h"

#define MX_VERSION "0.1.0"

/* Ids of long-only options start here (short options use their char). */
#define MX_OPT_LONG 256

struct mx_opt {
	int id;		  /* short option char, or MX_OPT_LONG + n */
	const char *name; /* long name without "--" */
	const char *arg;  /* metavariable ("FILE"), or NULL for a flag */
	const char *help; /* one line, lowercase, no final period */
	unsigned flags;
};
#define MX_OPT_REPEAT 0x1 /* may be given more than once */
#define MX_OPT_END \
	{ \
		0, NULL, NULL, NULL, 0 \
	}

struct mx_cli {
	const char *prog;     /* "mx-send" */
	const char *synopsis; /* "[options] ROOM [TEXT...]"; '\n' separates
				   several forms */
	const char *about;    /* one line for --help */
	const struct mx_opt *opts; /* the program's own options, MX_OPT_END */
};

/*
 * Set up the process: stdout line-buffered, SIGPIPE default, crypto
 * initialised.  Exits 5 when libsodium cannot start.
 */
void mx_cli_init(void);

/* fn for SIGINT, SIGTERM and SIGHUP, without SA_RESTART: a blocking read
 * returns (EINTR), and the program's loops look at what fn set. */
void mx_cli_on_signals(void (*fn)(int));

/*
 * Parse argv.  Common options fill c (verbose, quiet, profile,
 * insecure_http); -h and -V print and exit 0.  Each program option calls
 * fn(u, id, arg); fn returns 0, or -1 after calling mx_cli_usage() itself.
 * Unknown options, missing arguments, a repeated option without
 * MX_OPT_REPEAT, and an operand or option argument that is not UTF-8 text
 * (JSON carries nothing else; an argument whose metavariable is FILE, PATH
 * or DIR is a path and exempt) print "prog: ..." and the usage line to
 * stderr and exit 2.
 * Returns the index of the first operand.
 */
int mx_cli_parse(const struct mx_cli *cli, struct mx_ctx *c, int argc,
    char **argv, int (*fn)(void *u, int id, const char *arg), void *u);

/* Print "prog: <message>" and the usage line to stderr, exit 2. */
void mx_cli_usage(const struct mx_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Print "prog: <e->msg>" to stderr; return e->status (never 0). */
/* A subcommand: its name and how many operands follow it. */
struct mx_cli_sub {
	const char *name;
	int min, max;
};

/*
 * The index of argv[i]'s subcommand among the n entries at subs, which are
 * size bytes apart and each begin with a struct mx_cli_sub (a program's
 * table of subcommands); a missing or unknown subcommand, or a wrong number
 * of operands after it, is a usage error (exit 2).
 */
size_t mx_cli_subcommand(const struct mx_cli *cli, const void *subs, size_t n,
    size_t size, int argc, char **argv, int i);

int mx_cli_fail(const char *prog, const struct mx_err *e);

/* A copy of s (NULL: "") with its control characters (C0, DEL, and C1 as
 * UTF-8) as '?', for a terminal: text a server or another user chose must
 * not drive the terminal, nor split a line.  Caller frees. */
char *mx_cli_printable(const char *s);

/* A notice of the program's own through c->notice: level 0 a warning,
 * printed unless -q; 1 a note, printed with -v. */
void mx_cli_note(const struct mx_ctx *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One compact JSON object per line on stdout (UTF-8 as is), flushed.
 * -1 with e set (MX_LOCAL) when stdout is gone (EPIPE) or full.
 */
int mx_cli_print_json(const json_t *v, struct mx_err *e);

/*
 * Read a secret line (password, passphrase, token) without echo from the
 * terminal (prompt on stderr), or the first line of stdin when from_stdin.
 * Returns a buffer from mx_secure_alloc (mx_secure_free), or NULL with e.
 */
char *mx_cli_read_secret(const char *prompt, int from_stdin, struct mx_err *e);

/*
 * The secret a person gives for secret storage or a key backup: the
 * passphrase of passphrase_file, the recovery key from stdin
 * (recovery_key_stdin), else typed on the terminal, where a line that is
 * no recovery key is the passphrase.  *is_pass says which.  In secure
 * memory (mx_secure_free), or NULL with e set (MX_USAGE: no terminal).
 */
char *mx_cli_recovery_secret(const char *passphrase_file,
    int recovery_key_stdin, int *is_pass, struct mx_err *e);

/*
 * mx-keys trust and mx-verify fingerprint, one check: open the profile's
 * own store, mark user's device verified when its pinned, self-signed
 * Ed25519 key is ed (a fingerprint compared out of band), and print
 * {"user_id","device_id","trust":"verified"}.  -1 with e (MX_NO: another
 * key).
 */
int mx_cli_trust_fingerprint(struct mx_ctx *c, const char *user,
    const char *device, const char *ed, struct mx_err *e);

/* The default key of the account's secret storage into key (*id, caller
 * frees), from the secret of mx_cli_recovery_secret, asked only when the
 * account has secret storage (else MX_LOCAL). */
int mx_cli_ssss_open(struct mx_ctx *c, const char *passphrase_file,
    int recovery_key_stdin, uint8_t key[32], char **id, struct mx_err *e);

/* An mx_ctx ask function for --password-stdin: the password, when the
 * server asks for it, from stdin (prompt unused). */
char *mx_cli_ask_stdin(const char *prompt, struct mx_err *e);

#endif
