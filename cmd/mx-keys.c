/*
 * mx-keys: the profile's identity on the homeserver: log in and out, say
 * who we are, list other devices' keys and mark devices verified.  Each
 * subcommand prints JSON lines on success.
 *
 * Options may come before or after the subcommand (getopt_long permutes);
 * the first operand names the subcommand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keys.h"
#include "banned.h"

enum {
	O_HOMESERVER = MX_OPT_LONG,
	O_PASSWORD_STDIN,
	O_TOKEN_STDIN,
	O_DEVICE_NAME,
	O_FORCE,
	O_PASSPHRASE_FILE,
	O_ROOM,
	O_UNVERIFIED_EXIT,
	O_SNAPSHOT,
	O_TABLE,
	O_OLDER_THAN,
	O_DRY_RUN,
	O_RECOVERY_KEY_STDIN,
};

static const struct mx_opt opts[] = {
	{ 'u', "user", "USER", "log in as USER (@user:server, or name)", 0 },
	{ O_HOMESERVER, "homeserver", "URL",
	    "the homeserver (default: from USER)", 0 },
	{ O_PASSWORD_STDIN, "password-stdin", NULL,
	    "read the password from stdin", 0 },
	{ O_TOKEN_STDIN, "token-stdin", NULL,
	    "store an access token read from stdin", 0 },
	{ O_DEVICE_NAME, "device-name", "NAME",
	    "name the new device (\"mx on HOST\")", 0 },
	{ O_FORCE, "force", NULL,
	    "login: log out an existing session first; delete: this "
	    "profile's own device too",
	    0 },
	{ O_PASSPHRASE_FILE, "passphrase-file", "FILE",
	    "login: protect the new store with the passphrase in FILE; "
	    "export-identity, export: seal with it; import: open with it",
	    0 },
	{ O_ROOM, "room", "ROOM",
	    "devices: every joined and invited member of ROOM; export: "
	    "only ROOM's keys",
	    MX_OPT_REPEAT },
	{ 'o', "output", "FILE",
	    "export: write to the new file FILE (0600), not stdout", 0 },
	{ O_UNVERIFIED_EXIT, "unverified-exit", NULL,
	    "devices: exit 1 when a device is not verified", 0 },
	{ O_SNAPSHOT, "snapshot", "FILE",
	    "devices: also write the server's answer to FILE", 0 },
	{ O_TABLE, "table", NULL, "devices: an aligned table, not JSON", 0 },
	{ O_OLDER_THAN, "older-than", "DAYS",
	    "delete: the devices last seen more than DAYS days ago", 0 },
	{ O_DRY_RUN, "dry-run", NULL,
	    "delete: say what would be deleted, delete nothing", 0 },
	{ O_RECOVERY_KEY_STDIN, "recovery-key-stdin", NULL,
	    "backup restore, create: read the recovery key from stdin", 0 },
	MX_OPT_END
};

const struct mx_cli keys_cli = {
	"mx-keys",
	"[options] login -u USER [--homeserver URL]\n[options] login "
	"--token-stdin [-u USER | --homeserver URL]\n[options] "
	"logout\n[options] whoami\n[options] devices [--room ROOM] "
	"[--unverified-exit] "
	"[--snapshot FILE] [--table] [USER...]\n[options] "
	"trust USER DEVICE ED25519\n[options] accept USER\n[options] "
	"rename DEVICE NAME\n[options] export-identity "
	"[--passphrase-file FILE]\n[options] export [--room ROOM]... "
	"[-o FILE] [--passphrase-file FILE]\n[options] import "
	"[--passphrase-file FILE] FILE\n[options] delete [--dry-run] "
	"[--force] [--password-stdin] DEVICE...\n[options] delete "
	"--older-than DAYS [--dry-run] [--force] [--password-stdin]\n"
	"[options] backup status\n"
	"[options] backup restore [--recovery-key-stdin | --passphrase-file "
	"FILE]\n[options] backup create [--recovery-key-stdin | "
	"--passphrase-file FILE]",
	"Log in to a Matrix homeserver, log out, say who the profile is, "
	"list, verify and delete devices, export and import room keys, and "
	"keep them in the server-side key backup.",
	opts,
};

/* --older-than DAYS: a whole number of days, 0 to 100 years. */
static long long
parse_days(const char *arg)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    arg[0] == '+' || v > 36500)
		mx_cli_usage(&keys_cli,
		    "--older-than wants a number of days, not '%s'", arg);
	return v;
}

static int
opt_fn(void *u, int id, const char *arg)
{
	struct keys_opt *o = u;

	switch (id) {
	case 'u':
		o->user = arg;
		break;
	case O_HOMESERVER:
		o->homeserver = arg;
		break;
	case O_PASSWORD_STDIN:
		o->password_stdin = 1;
		break;
	case O_TOKEN_STDIN:
		o->token_stdin = 1;
		break;
	case O_DEVICE_NAME:
		o->device_name = arg;
		break;
	case O_FORCE:
		o->force = 1;
		break;
	case O_PASSPHRASE_FILE:
		o->passphrase_file = arg;
		break;
	case O_ROOM:
		if (o->nroom == sizeof(o->room) / sizeof(o->room[0]))
			mx_cli_usage(&keys_cli, "too many --room options");
		o->room[o->nroom++] = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case O_UNVERIFIED_EXIT:
		o->unverified_exit = 1;
		break;
	case O_SNAPSHOT:
		o->snapshot = arg;
		break;
	case O_TABLE:
		o->table = 1;
		break;
	case O_OLDER_THAN:
		o->older_than = parse_days(arg);
		break;
	case O_DRY_RUN:
		o->dry_run = 1;
		break;
	case O_RECOVERY_KEY_STDIN:
		o->recovery_key_stdin = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static const struct {
	struct mx_cli_sub sub; /* the name, the operands after it */
	int (*fn)(struct mx_ctx *, const struct keys_opt *, int, char **,
	    struct mx_err *);
} cmds[] = {
	{ { "login", 0, 0 }, keys_login },
	{ { "logout", 0, 0 }, keys_logout },
	{ { "whoami", 0, 0 }, keys_whoami },
	{ { "devices", 0, 1000 }, keys_devices },
	{ { "trust", 3, 3 }, keys_trust },
	{ { "accept", 1, 1 }, keys_accept },
	{ { "rename", 2, 2 }, keys_rename },
	{ { "export-identity", 0, 0 }, keys_export_identity },
	{ { "export", 0, 0 }, keys_export },
	{ { "import", 1, 1 }, keys_import },
	{ { "delete", 0, 1000 }, keys_delete },
	{ { "backup", 1, 1 }, keys_backup },
};

static void
check_opts(const struct keys_opt *o, const char *sub)
{
	int login = strcmp(sub, "login") == 0;
	int del = strcmp(sub, "delete") == 0;

	if (!login &&
	    (o->user || o->homeserver || (o->password_stdin && !del) ||
		o->token_stdin || o->device_name || (o->force && !del)))
		mx_cli_usage(&keys_cli, "'%s' takes no login options", sub);
	if ((o->older_than >= 0 || o->dry_run) && !del)
		mx_cli_usage(&keys_cli,
		    "--older-than and --dry-run are for delete");
	int exp = strcmp(sub, "export") == 0;

	if (o->passphrase_file && !login && !exp &&
	    strcmp(sub, "export-identity") != 0 &&
	    strcmp(sub, "import") != 0 && strcmp(sub, "backup") != 0)
		mx_cli_usage(&keys_cli,
		    "--passphrase-file is for login, export-identity, export, "
		    "import and backup");
	if (o->nroom && !exp && strcmp(sub, "devices") != 0)
		mx_cli_usage(&keys_cli, "--room is for devices and export");
	if (o->output && !exp)
		mx_cli_usage(&keys_cli, "-o is for export");
	if (o->recovery_key_stdin && strcmp(sub, "backup") != 0)
		mx_cli_usage(&keys_cli,
		    "--recovery-key-stdin is for backup restore");
	if ((o->unverified_exit || o->snapshot || o->table) &&
	    strcmp(sub, "devices") != 0)
		mx_cli_usage(&keys_cli,
		    "--unverified-exit, --snapshot and --table are for "
		    "devices");
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct keys_opt o = { .older_than = -1 };
	struct mx_err e;
	size_t k;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&keys_cli, &c, argc, argv, opt_fn, &o);
	k = mx_cli_subcommand(&keys_cli, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), argc, argv, i);
	check_opts(&o, argv[i]);
	if (cmds[k].fn(&c, &o, argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(keys_cli.prog, &e);
	mx_ctx_close(&c);
	return rc;
}
