/*
 * cli: option tables, --help, diagnostics and JSON Lines for the programs.
 * See cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "cli.h"
#include "crypto.h"
#include "e2ee.h"
#include "json.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

enum {
	OPT_INSECURE_HTTP = MX_OPT_LONG + 1000,
};

static const struct mx_opt common_opts[] = {
	{ 'h', "help", NULL, "print this help and exit", 0 },
	{ 'V', "version", NULL, "print the version and exit", 0 },
	{ 'v', "verbose", NULL,
	    "say more; twice: trace HTTP requests (tokens redacted)",
	    MX_OPT_REPEAT },
	{ 'q', "quiet", NULL, "print no notes, only errors", 0 },
	{ 'p', "profile", "PROFILE",
	    "use this profile (default: $MX_PROFILE or \"default\")", 0 },
	{ OPT_INSECURE_HTTP, "insecure-http", NULL,
	    "allow plain http:// to a non-loopback homeserver", 0 },
	MX_OPT_END
};

#define MAX_OPTS 64

void
mx_cli_on_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
mx_cli_init(void)
{
	struct rlimit nocore = { 0, 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_DFL);
	/* No core file, no ptrace by another process of the user: keys and
	 * tokens live in this process's memory (DESIGN.md, security). */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (mx_crypto_init() < 0) {
		fputs("mx: cannot initialise libsodium\n", stderr);
		exit(MX_LOCAL);
	}
	mx_json_init();
}

static void
print_synopsis(FILE *f, const struct mx_cli *cli)
{
	const char *s = cli->synopsis, *nl;
	const char *word = "usage:";

	for (;;) {
		nl = strchr(s, '\n');
		fprintf(f, "%-6s %s %.*s\n", word, cli->prog,
		    (int)(nl ? (size_t)(nl - s) : strlen(s)), s);
		if (nl == NULL)
			break;
		s = nl + 1;
		word = "";
	}
}

static void
print_opts(const struct mx_opt *o)
{
	char left[64];

	for (; o->name; o++) {
		if (o->id < MX_OPT_LONG)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->id,
			    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-28s %s\n", left, o->help);
	}
}

static void __attribute__((noreturn)) help(const struct mx_cli *cli)
{
	print_synopsis(stdout, cli);
	printf("%s\n\noptions:\n", cli->about);
	print_opts(cli->opts);
	print_opts(common_opts);
	printf("\nSee %s(1) and mx(7).\n", cli->prog);
	exit(fflush(stdout) == 0 ? MX_OK : MX_LOCAL);
}

char *
mx_cli_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = mx_xmalloc(strlen((const char *)p) + 1), *q = out;

	for (; *p; p++) {
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*q++ = '?';
			p++;
		} else
			*q++ = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
	}
	*q = '\0';
	return out;
}

/* "prog: msg" and a newline on stderr, msg printable: a server's error
 * text, a room name or an argument must not drive the terminal, nor split
 * a one-line error. */
static void
put_line(const char *prog, const char *msg)
{
	char *p = mx_cli_printable(msg);

	fprintf(stderr, "%s: %s\n", prog, p);
	free(p);
}

void
mx_cli_usage(const struct mx_cli *cli, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_line(cli->prog, msg);
	print_synopsis(stderr, cli);
	exit(MX_USAGE);
}

/* Append the table's entries to the getopt_long arrays. */
static size_t
add_opts(const struct mx_opt *o, struct option *lo, const struct mx_opt **by,
    size_t n, struct mx_buf *shortopts)
{
	for (; o->name && n < MAX_OPTS; o++, n++) {
		lo[n].name = o->name;
		lo[n].has_arg = o->arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = o->id;
		by[n] = o;
		if (o->id < MX_OPT_LONG) {
			char c = (char)o->id;

			mx_buf_add(shortopts, &c, 1);
			if (o->arg)
				mx_buf_adds(shortopts, ":");
		}
	}
	return n;
}

/* Arguments named FILE, PATH or DIR are paths: any bytes but NUL. */
static int
is_path(const char *metavar)
{
	return strcmp(metavar, "FILE") == 0 || strcmp(metavar, "PATH") == 0 ||
	    strcmp(metavar, "DIR") == 0;
}

static int
common(const struct mx_cli *cli, struct mx_ctx *c, int id, const char *arg)
{
	switch (id) {
	case 'h':
		help(cli);
	case 'V':
		printf("%s %s\n", cli->prog, MX_VERSION);
		exit(MX_OK);
	case 'v':
		c->verbose++;
		return 1;
	case 'q':
		c->quiet = 1;
		return 1;
	case 'p':
		c->profile = arg;
		return 1;
	case OPT_INSECURE_HTTP:
		c->insecure_http = 1;
		return 1;
	}
	return 0;
}

static const char *
opt_name(const struct option *lo, size_t n, int id, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lo[i].val == id) {
			snprintf(buf, len, "--%s", lo[i].name);
			return buf;
		}
	snprintf(buf, len, "-%c", id);
	return buf;
}

static int
find(const struct option *lo, size_t n, int id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lo[i].val == id)
			return (int)i;
	return -1;
}

/* mx_ctx's notice: "prog: msg" on stderr.  Level 0 is a warning, 1 a
 * note (-v); -q silences both, not a trace asked for with -vv. */
static void
notice_stderr(void *u, int level, const char *msg)
{
	const struct mx_ctx *c = u;

	if (level > c->verbose || (c->quiet && level < 2))
		return;
	put_line(c->prog, msg);
}

/* mx_ctx's ask: the terminal, when there is one. */
static char *
ask_tty(const char *prompt, struct mx_err *e)
{
	return mx_cli_read_secret(prompt, 0, e);
}

char *
mx_cli_recovery_secret(const char *passphrase_file, int recovery_key_stdin,
    int *is_pass, struct mx_err *e)
{
	uint8_t k[MX_BACKUP_KEY_LEN];
	struct mx_err le;
	char *s;

	*is_pass = passphrase_file != NULL;
	if (passphrase_file != NULL)
		return mx_conf_read_secret_file(passphrase_file, e);
	if (recovery_key_stdin)
		return mx_cli_read_secret("recovery key", 1, e);
	if (!isatty(STDIN_FILENO)) {
		mx_err_set(e, MX_USAGE,
		    "no terminal to ask for the key; use --recovery-key-stdin "
		    "or --passphrase-file FILE");
		return NULL;
	}
	s = mx_cli_read_secret("recovery key or secret storage passphrase", 0,
	    e);
	/* A typed line that is no recovery key is the passphrase. */
	if (s != NULL) {
		mx_err_clear(&le);
		*is_pass = mx_recovery_key_decode(k, s, &le) != 0;
		mx_wipe(k, sizeof(k));
	}
	return s;
}

int
mx_cli_ssss_open(struct mx_ctx *c, const char *passphrase_file,
    int recovery_key_stdin, uint8_t key[32], char **id, struct mx_err *e)
{
	json_t *desc = NULL;
	int is_pass, rc;
	char *s;

	/* Asked for the secret only when there is secret storage. */
	rc = mx_secrets_default(&c->api, c->sess.user_id, id, &desc, e);
	json_decref(desc);
	free(*id);
	*id = NULL;
	if (rc <= 0)
		return rc < 0 ? -1 :
				mx_err_set(e, MX_LOCAL,
				    "the account has no secret storage");
	s = mx_cli_recovery_secret(passphrase_file, recovery_key_stdin,
	    &is_pass, e);
	if (s == NULL)
		return -1;
	rc = mx_secrets_open(&c->api, c->sess.user_id, s, is_pass, key, id, e);
	mx_secure_free(s);
	return rc;
}

char *
mx_cli_ask_stdin(const char *prompt, struct mx_err *e)
{
	(void)prompt;
	return mx_cli_read_secret("password", 1, e);
}

/* The context of this run, for mx_cli_fail's advice. */
static const struct mx_ctx *the_ctx;

int
mx_cli_parse(const struct mx_cli *cli, struct mx_ctx *c, int argc, char **argv,
    int (*fn)(void *u, int id, const char *arg), void *u)
{
	struct option lo[MAX_OPTS + 1];
	const struct mx_opt *by[MAX_OPTS];
	unsigned seen[MAX_OPTS] = { 0 };
	struct mx_buf so = MX_BUF_INIT;
	char name[80];
	size_t n;
	int id, i;

	c->prog = cli->prog;
	c->ask = ask_tty;
	the_ctx = c;
	mx_buf_adds(&so, ":");
	n = add_opts(cli->opts, lo, by, 0, &so);
	n = add_opts(common_opts, lo, by, n, &so);
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	while ((id = getopt_long(argc, argv, so.p, lo, NULL)) != -1) {
		if (id == '?') {
			if (optopt)
				mx_cli_usage(cli, "unknown option '-%c'",
				    optopt);
			mx_cli_usage(cli, "unknown option '%s'",
			    argv[optind - 1]);
		}
		if (id == ':')
			mx_cli_usage(cli, "option '%s' needs an argument",
			    opt_name(lo, n, optopt, name, sizeof(name)));
		i = find(lo, n, id);
		if (i >= 0 && seen[i]++ && !(by[i]->flags & MX_OPT_REPEAT))
			mx_cli_usage(cli, "option '%s' given twice",
			    opt_name(lo, n, id, name, sizeof(name)));
		if (optarg != NULL && !is_path(by[i]->arg) &&
		    !mx_utf8_valid(optarg, strlen(optarg)))
			mx_cli_usage(cli, "option '%s': not UTF-8 text",
			    opt_name(lo, n, id, name, sizeof(name)));
		if (common(cli, c, id, optarg))
			continue;
		if (fn(u, id, optarg) < 0)
			mx_cli_usage(cli, "bad use of option '%s'",
			    opt_name(lo, n, id, name, sizeof(name)));
	}
	mx_buf_release(&so);
	c->notice.fn = notice_stderr;
	c->notice.u = c;
	c->notice.max = c->quiet && c->verbose < 2 ? -1 : c->verbose;
	for (i = optind; i < argc; i++)
		if (!mx_utf8_valid(argv[i], strlen(argv[i])))
			mx_cli_usage(cli, "operand %d: not UTF-8 text",
			    i - optind + 1);
	return optind;
}

size_t
mx_cli_subcommand(const struct mx_cli *cli, const void *subs, size_t n,
    size_t size, int argc, char **argv, int i)
{
	const struct mx_cli_sub *s = NULL;
	size_t k;

	if (i >= argc)
		mx_cli_usage(cli, "no subcommand given");
	for (k = 0; k < n; k++) {
		s = (const struct mx_cli_sub *)(const void *)((const char *)
								  subs +
		    k * size);
		if (strcmp(argv[i], s->name) == 0)
			break;
	}
	if (k == n)
		mx_cli_usage(cli, "unknown subcommand '%s'", argv[i]);
	if (argc - i - 1 > s->max)
		mx_cli_usage(cli, "unexpected operand '%s'",
		    argv[i + 1 + s->max]);
	if (argc - i - 1 < s->min)
		mx_cli_usage(cli, "'%s' needs %d operand%s", argv[i], s->min,
		    s->min == 1 ? "" : "s");
	return k;
}

int
mx_cli_fail(const char *prog, const struct mx_err *e)
{
	char msg[1024];

	/* A dead token (spec: M_UNKNOWN_TOKEN) ends the session for good:
	 * say what to run, not only what the server said. */
	if (strcmp(e->errcode, "M_UNKNOWN_TOKEN") == 0 && the_ctx != NULL) {
		if (getenv("MX_ACCESS_TOKEN") != NULL)
			snprintf(msg, sizeof(msg),
			    "%s; MX_ACCESS_TOKEN is no longer valid", e->msg);
		else
			snprintf(msg, sizeof(msg),
			    "%s; the session has ended: log in again with "
			    "mx-keys%s%s login --force -u %s",
			    e->msg, the_ctx->profile ? " -p " : "",
			    the_ctx->profile ? the_ctx->profile : "",
			    the_ctx->sess.user_id ? the_ctx->sess.user_id :
						    "USER");
		put_line(prog, msg);
		return e->status ? e->status : MX_LOCAL;
	}
	put_line(prog, e->msg[0] ? e->msg : "failed");
	return e->status ? e->status : MX_LOCAL;
}

void
mx_cli_note(const struct mx_ctx *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!mx_notice_on(&c->notice, level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->notice.fn(c->notice.u, level, msg);
}

int
mx_cli_print_json(const json_t *v, struct mx_err *e)
{
	char *s = json_dumps(v, JSON_COMPACT);
	int r = 0;

	if (s == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot encode JSON output");
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		r = mx_err_set(e, MX_LOCAL, "cannot write to stdout: %s",
		    strerror(errno));
	free(s);
	return r;
}

#define SECRET_MAX 4096

/* Read one line into a secure buffer, without its newline. */
static char *
read_line(FILE *f, struct mx_err *e)
{
	char *buf = mx_secure_alloc(SECRET_MAX);
	size_t n = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n + 1 >= SECRET_MAX) {
			mx_secure_free(buf);
			mx_err_set(e, MX_USAGE, "secret longer than %d bytes",
			    SECRET_MAX - 1);
			return NULL;
		}
		buf[n++] = (char)ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (ch == EOF && n == 0) {
		mx_secure_free(buf);
		mx_err_set(e, MX_USAGE, "no secret on input");
		return NULL;
	}
	return buf;
}

char *
mx_cli_read_secret(const char *prompt, int from_stdin, struct mx_err *e)
{
	struct termios old, quiet;
	FILE *tty;
	char *s;

	if (from_stdin)
		return read_line(stdin, e);
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL || tcgetattr(fileno(tty), &old) < 0) {
		if (tty)
			fclose(tty);
		mx_err_set(e, MX_USAGE,
		    "no terminal to ask for the %s; give it on stdin", prompt);
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	/* Echo goes off before the prompt shows, so nothing typed after the
	 * prompt is flushed away or echoed. */
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	fprintf(tty, "%s: ", prompt);
	fflush(tty);
	s = read_line(tty, e);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fclose(tty);
	return s;
}

int
mx_cli_trust_fingerprint(struct mx_ctx *c, const char *user,
    const char *device, const char *ed, struct mx_err *e)
{
	json_t *j;
	int rc;

	if (mx_ctx_open(c, MX_CTX_SESSION | MX_CTX_STORE | MX_CTX_NO_ENV, e) !=
		0 ||
	    mx_e2ee_verify_device(c, user, device, ed, e) != 0)
		return -1;
	j = json_pack("{s:s,s:s,s:s}", "user_id", user, "device_id", device,
	    "trust", "verified");
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}
