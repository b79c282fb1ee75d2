/*
 * mx-verify: verify another device interactively with the Short
 * Authentication String (spec: Client-Server API, "Key verification
 * framework", "Short Authentication String (SAS) verification"), over
 * to-device messages, or in-room in an encrypted direct-message room
 * (the form Element's "Verify user" takes).  The protocol is
 * lib/verify.c's state machine; this file does the I/O: the /sync loop,
 * the inbox of to-device events that any mx program on the profile keeps
 * (lib/inbox.c), the DM's timeline decrypted, the prompt, and the mark
 * "verified" at the end (the store flag of mx-keys trust).
 *
 * With our own other device, the secrets (cross-signing keys, backup key)
 * are then asked for or given: lib/gossip.c (spec: "Sharing").
 *
 * Exit 0 only when the verification completed and the device is marked;
 * 1 when it was refused, cancelled or timed out.  The secrets' exchange
 * never changes it: the SAS verified the device already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "e2ee.h"
#include "json.h"
#include "util.h"
#include "sigcheck.h"
#include "verify-cmd.h"
#include "banned.h"

enum {
	O_TIMEOUT = MX_OPT_LONG,
	O_JSON,
	O_DECIMAL,
	O_KEY,
	O_SERVER,
	O_PASSWORD_STDIN,
	O_RECOVERY_KEY_STDIN,
	O_PASSPHRASE_FILE,
};

static const struct mx_opt opts[] = {
	{ O_TIMEOUT, "timeout", "SECS",
	    "wait SECS for a request and for each answer (default 120)", 0 },
	{ O_JSON, "json", NULL,
	    "print the SAS as one JSON line and read yes or no from stdin",
	    0 },
	{ O_DECIMAL, "decimal", NULL, "also show the SAS as three numbers",
	    0 },
	{ O_KEY, "key", "ED25519",
	    "json: check the signatures against this public key", 0 },
	{ O_SERVER, "server", "NAME",
	    "json: a server's keys, signed by server NAME itself", 0 },
	{ O_PASSWORD_STDIN, "password-stdin", NULL,
	    "cross-signing: read the account password from stdin", 0 },
	{ O_RECOVERY_KEY_STDIN, "recovery-key-stdin", NULL,
	    "cross-signing setup, reset, import: read secret storage's "
	    "recovery key from stdin",
	    0 },
	{ O_PASSPHRASE_FILE, "passphrase-file", "FILE",
	    "cross-signing setup, reset, import: secret storage's "
	    "passphrase, old or new, is in FILE",
	    0 },
	MX_OPT_END
};

static const struct mx_cli cli = {
	"mx-verify",
	"[options] sas [USER [DEVICE]]\n[options] fingerprint USER DEVICE "
	"ED25519\n[options] json [--key ED25519 | --server NAME]\n[options] "
	"cross-signing setup|status|reset [--password-stdin]\n[options] "
	"cross-signing setup|reset|import [--recovery-key-stdin | "
	"--passphrase-file "
	"FILE]",
	"Verify another device by comparing emoji (SAS) or its fingerprint, "
	"check the signatures of signed Matrix JSON, and set up "
	"cross-signing.",
	opts,
};

static int
opt_fn(void *u, int id, const char *arg)
{
	struct verify_opt *o = u;
	char *end;
	long v;

	switch (id) {
	case O_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v <= 0 || v > 600)
			mx_cli_usage(&cli, "--timeout takes 1 to 600 seconds");
		o->timeout_ms = v * 1000;
		o->have_timeout = 1;
		break;
	case O_KEY:
		o->key = arg;
		break;
	case O_SERVER:
		o->server = arg;
		break;
	case O_PASSWORD_STDIN:
		o->password_stdin = 1;
		break;
	case O_RECOVERY_KEY_STDIN:
		o->recovery_key_stdin = 1;
		break;
	case O_PASSPHRASE_FILE:
		o->passphrase_file = arg;
		break;
	case O_JSON:
		o->json = 1;
		break;
	case O_DECIMAL:
		o->decimal = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

/* ---- fingerprint ---------------------------------------------------------- */

/* fingerprint USER DEVICE ED25519: the check of mx-keys trust: the
 * device's self-signed, pinned key must be the one given out of band. */
static int
cmd_fingerprint(struct mx_ctx *c, const struct verify_opt *o, int argc,
    char **argv, struct mx_err *e)
{
	(void)o;
	(void)argc;
	return mx_cli_trust_fingerprint(c, argv[0], argv[1], argv[2], e);
}

/* ---- json ------------------------------------------------------------------ */

/* The object on stdin (at most 1 MiB). */
static json_t *
read_object(struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;
	char chunk[4096];
	size_t n;
	json_t *j;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		mx_buf_add(&b, chunk, n);
		if (b.len > (1u << 20)) {
			mx_buf_release(&b);
			mx_err_set(e, MX_LOCAL, "the input is over 1 MiB");
			return NULL;
		}
	}
	if (ferror(stdin)) {
		mx_buf_release(&b);
		mx_err_set(e, MX_LOCAL, "cannot read stdin");
		return NULL;
	}
	j = mx_json_parse(b.p ? b.p : "", b.len, e);
	mx_buf_release(&b);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		mx_err_set(e, MX_LOCAL, "the input is not a JSON object");
		return NULL;
	}
	return j;
}

/* json [--key K | --server NAME] < object: verify its signatures. */
static int
cmd_json(struct mx_ctx *c, const struct verify_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct mx_sigcheck v = { NULL, "", NULL, 0 };
	json_t *obj, *j;
	int rc;

	(void)c;
	(void)argc;
	(void)argv;
	if ((obj = read_object(e)) == NULL)
		return -1;
	if (o->key)
		mx_sigcheck_key(obj, o->key, &v);
	else if (o->server)
		mx_sigcheck_server(obj, o->server, &v);
	else if (mx_json_str(obj, "device_id") && mx_json_str(obj, "user_id"))
		mx_sigcheck_device(obj, &v);
	else if (mx_json_str(obj, "server_name") &&
	    json_is_object(json_object_get(obj, "verify_keys")))
		mx_sigcheck_server(obj, mx_json_str(obj, "server_name"), &v);
	else {
		json_decref(obj);
		return mx_err_set(e, MX_USAGE,
		    "not device keys nor server keys: say who signed it "
		    "with --key or --server");
	}
	j = json_pack("{s:b,s:s}", "verified", v.ok, "check", v.what);
	if (v.ok && v.signer)
		json_object_set_new(j, "signer", json_string(v.signer));
	if (v.ok && v.key_id[0])
		json_object_set_new(j, "key_id", json_string(v.key_id));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	json_decref(obj);
	if (rc == 0 && !v.ok)
		rc = mx_err_set(e, MX_NO, "the signature does not verify (%s)",
		    v.what);
	return rc;
}

/* ---- main ------------------------------------------------------------------ */

static const struct {
	struct mx_cli_sub sub;
	int (*fn)(struct mx_ctx *, const struct verify_opt *, int, char **,
	    struct mx_err *);
} cmds[] = {
	{ { "sas", 0, 2 }, verify_sas },
	{ { "fingerprint", 3, 3 }, cmd_fingerprint },
	{ { "json", 0, 0 }, cmd_json },
	{ { "cross-signing", 1, 1 }, verify_xsign },
};

static void
check_opts(const struct verify_opt *o, const char *sub)
{
	int sas = strcmp(sub, "sas") == 0;

	if (!sas && (o->json || o->decimal || o->have_timeout))
		mx_cli_usage(&cli,
		    "--json, --decimal and --timeout are for sas");
	if ((o->password_stdin || o->recovery_key_stdin ||
		o->passphrase_file) &&
	    strcmp(sub, "cross-signing") != 0)
		mx_cli_usage(&cli,
		    "--password-stdin, --recovery-key-stdin and "
		    "--passphrase-file are for cross-signing");
	if (o->recovery_key_stdin && o->passphrase_file)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin and --passphrase-file exclude each "
		    "other");
	if ((o->key || o->server) && strcmp(sub, "json") != 0)
		mx_cli_usage(&cli, "--key and --server are for json");
	if (o->key && o->server)
		mx_cli_usage(&cli, "--key and --server exclude each other");
}

/* The operands of sas and cross-signing, checked before the subcommand
 * runs. */
static void
check_args(const struct verify_opt *o, const char *sub, int argc, char **argv)
{
	int set, reset, import;

	if (strcmp(sub, "sas") == 0) {
		if (argc >= 1 &&
		    (argv[0][0] != '@' || strchr(argv[0], ':') == NULL))
			mx_cli_usage(&cli,
			    "sas takes a user ID (@user:server)");
		if (!o->json && !isatty(STDIN_FILENO))
			mx_cli_usage(&cli,
			    "no terminal to ask on: use --json");
	}
	if (strcmp(sub, "cross-signing") != 0)
		return;
	set = strcmp(argv[0], "setup") == 0;
	reset = strcmp(argv[0], "reset") == 0;
	import = strcmp(argv[0], "import") == 0;
	if (!set && !reset && !import && strcmp(argv[0], "status") != 0)
		mx_cli_usage(&cli,
		    "cross-signing takes setup, status, reset or import");
	if (o->password_stdin && !set && !reset)
		mx_cli_usage(&cli, "--password-stdin is for setup and reset");
	if ((o->recovery_key_stdin || o->passphrase_file) && !import && !set &&
	    !reset)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin and --passphrase-file are for "
		    "setup, reset and import");
	if (o->password_stdin && o->recovery_key_stdin)
		mx_cli_usage(&cli,
		    "--password-stdin and --recovery-key-stdin both read "
		    "stdin");
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct verify_opt o = { 120000, 0, 0, 0, 0, 0, NULL, NULL, NULL };
	struct mx_err e;
	size_t k;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	k = mx_cli_subcommand(&cli, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), argc, argv, i);
	check_opts(&o, argv[i]);
	check_args(&o, argv[i], argc - i - 1, argv + i + 1);
	if (cmds[k].fn(&c, &o, argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(cli.prog, &e);
	mx_ctx_close(&c);
	return rc;
}
