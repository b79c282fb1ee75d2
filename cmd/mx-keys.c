/*
 * mx-keys: the profile's identity on the homeserver: log in and out, say
 * who we are, list other devices' keys and mark devices verified.  Each
 * subcommand prints JSON lines on success.
 *
 * Options may come before or after the subcommand (getopt_long permutes);
 * the first operand names the subcommand.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "conf.h"
#include "devices.h"
#include "b64.h"
#include "e2ee.h"
#include "json.h"
#include "room.h"
#include "identity.h"
#include "inbound.h"
#include "keyexport.h"
#include "keybackup.h"
#include "secrets.h"
#include "backup.h"
#include "crypto.h"
#include "store.h"
#include "txn.h"
#include "util.h"
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

/* The profile's own session and store, never MX_ACCESS_TOKEN's. */
#define OWN_STORE (MX_CTX_SESSION | MX_CTX_STORE | MX_CTX_NO_ENV)

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

static const struct mx_cli cli = {
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

struct opt {
	const char *user, *homeserver, *device_name, *passphrase_file;
	const char *snapshot, *output;
	const char *room[64];
	size_t nroom;
	long long older_than; /* days; -1: not given */
	int dry_run;
	int password_stdin, token_stdin, force, unverified_exit, table;
	int recovery_key_stdin;
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
		mx_cli_usage(&cli,
		    "--older-than wants a number of days, not '%s'", arg);
	return v;
}

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;

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
			mx_cli_usage(&cli, "too many --room options");
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

/* {"user_id","device_id","homeserver"} of the session. */
static int
print_session(const struct mx_session *s, struct mx_err *e)
{
	json_t *j;
	int rc;

	j = json_pack("{s:s?, s:s?, s:s?}", "user_id", s->user_id, "device_id",
	    s->device_id, "homeserver", s->homeserver);
	if (j == NULL)
		return mx_err_set(e, MX_LOCAL, "session is not UTF-8");
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* --- login ---------------------------------------------------------------- */

/* The homeserver to log in to: --homeserver, else discovered from the
 * server name of @user:server, else $MX_HOMESERVER. */
static int
find_homeserver(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	const char *hs = o->homeserver, *colon;
	size_t n;

	if (hs == NULL && o->user != NULL && o->user[0] == '@' &&
	    (colon = strchr(o->user, ':')) != NULL && colon[1] != '\0')
		return mx_api_discover(c->http, colon + 1, &c->sess.homeserver,
		    e);
	if (hs == NULL && (hs = getenv("MX_HOMESERVER")) != NULL && !*hs)
		hs = NULL;
	if (hs == NULL)
		return mx_err_set(e, MX_USAGE,
		    o->user ?
			"a user name without a server needs --homeserver URL" :
			"no user given; use -u @user:server");
	if (!mx_startswith(hs, "https://") && !mx_startswith(hs, "http://"))
		return mx_err_set(e, MX_USAGE,
		    "homeserver '%s' is not an http(s) URL", hs);
	n = strlen(hs);
	while (n > 0 && hs[n - 1] == '/')
		n--;
	c->sess.homeserver = mx_xstrndup(hs, n);
	return 0;
}

/* Forget the profile's session and everything the device's keys protect,
 * in one transaction: a later login is a new device with new keys. */
static int
forget_session(struct mx_ctx *c, struct mx_err *e)
{
	if (c->store == NULL)
		return 0;
	if (mx_store_begin(c->store, e) != 0)
		return -1;
	if (mx_conf_clear_session(c, e) != 0 ||
	    mx_e2ee_forget(c->store, e) != 0 ||
	    mx_txn_forget(c->store, e) != 0) {
		mx_store_rollback(c->store);
		return -1;
	}
	return mx_store_commit(c->store, e);
}

/* An existing session: refused, or logged out first with --force. */
static int
replace_session(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	struct mx_err le;

	if (c->sess.access_token == NULL)
		return 0;
	if (!o->force)
		return mx_err_set(e, MX_USAGE,
		    "profile already logged in as %s; log out first or use "
		    "--force",
		    c->sess.user_id ? c->sess.user_id : "someone");
	mx_err_clear(&le);
	if (mx_api_logout(&c->api, &le) != 0)
		mx_cli_note(c, 0, "could not log the old session out: %s",
		    le.msg);
	if (forget_session(c, e) != 0)
		return -1;
	mx_session_release(&c->sess);
	return 0;
}

static int
password_login(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	char host[256], *name = NULL, *pw = NULL, *prompt;
	json_t *j = NULL;
	int rc = -1;

	prompt = mx_xasprintf("password for %s", o->user);
	pw = mx_cli_read_secret(prompt, o->password_stdin, e);
	free(prompt);
	if (pw == NULL)
		return -1;
	if (o->device_name == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "unknown host");
		host[sizeof(host) - 1] = '\0';
		/* Which program and which profile, on which machine: what
		 * a person recognises in Element's list of sessions. */
		name = mx_xasprintf("mx (profile %s) on %s",
		    c->profile		     ? c->profile :
			getenv("MX_PROFILE") ? getenv("MX_PROFILE") :
					       "default",
		    host);
	}
	if (mx_api_login_password(&c->api, o->user, pw,
		o->device_name ? o->device_name : name, NULL, &j, e) != 0) {
		mx_err_prefix(e, "cannot log in as '%s'", o->user);
		goto out;
	}
	if (mx_json_str(j, "user_id") == NULL ||
	    mx_json_str(j, "access_token") == NULL) {
		mx_err_set(e, MX_TEMP,
		    "login answer without user_id or access_token");
		goto out;
	}
	c->sess.user_id = mx_xstrdup(mx_json_str(j, "user_id"));
	if (mx_json_str(j, "device_id") != NULL)
		c->sess.device_id = mx_xstrdup(mx_json_str(j, "device_id"));
	mx_session_set_token(&c->sess, mx_json_str(j, "access_token"));
	rc = 0;
out:
	if (j != NULL) {
		/* The token's copy inside the JSON goes with it, wiped. */
		json_t *t = json_object_get(j, "access_token");

		if (json_is_string(t))
			mx_wipe((char *)json_string_value(t),
			    json_string_length(t));
	}
	json_decref(j);
	mx_secure_free(pw);
	free(name);
	return rc;
}

/* --token-stdin: the token's owner and device come from whoami. */
static int
token_login(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	char *tok;

	if ((tok = mx_cli_read_secret("access token", 1, e)) == NULL)
		return -1;
	mx_session_set_token(&c->sess, tok);
	mx_secure_free(tok);
	c->api.token = c->sess.access_token;
	if (mx_ctx_whoami(c, e) != 0)
		return mx_err_prefix(e, "cannot check the access token");
	if (o->user != NULL && o->user[0] == '@' &&
	    strcmp(o->user, c->sess.user_id) != 0)
		return mx_err_set(e, MX_USAGE,
		    "the token belongs to %s, not %s", c->sess.user_id,
		    o->user);
	return 0;
}

static int
upload_keys(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_e2ee *x = NULL;
	int rc;

	c->api.token = c->sess.access_token;
	rc = mx_e2ee_open(&x, c, e);

	mx_e2ee_close(x);
	if (rc != 0)
		mx_err_prefix(e, "logged in, but");
	return rc;
}

/*
 * A fully interactive login creating a profile offers to seal its store
 * under a passphrase; an empty answer keeps the random key file.  NULL:
 * nothing to use (e untouched), or an error (e set).
 */
static char *
ask_store_pass(struct mx_ctx *c, struct mx_err *e)
{
	char *dir = mx_conf_profile_dir(c->profile, e), *db, *pass = NULL;
	int fresh;

	if (dir == NULL)
		return NULL;
	db = mx_xasprintf("%s/store.db", dir);
	fresh = access(db, F_OK) != 0;
	free(db);
	free(dir);
	if (!fresh || !isatty(STDIN_FILENO))
		return NULL;
	pass = mx_cli_read_secret("passphrase for the new profile's store "
				  "(empty: a key file)",
	    0, e);
	if (pass != NULL && pass[0] == '\0') {
		mx_secure_free(pass);
		pass = NULL;
	}
	return pass;
}

/* Open the store under the passphrase of --passphrase-file, or one asked
 * on the terminal for a new store; an existing one must open with it.
 * fresh: create it (mx_ctx_open came first); else open the context with
 * it, the stored session loaded. */
static int
open_login_store(struct mx_ctx *c, const struct opt *o, int fresh,
    struct mx_err *e)
{
	char *pass = NULL;
	int rc;

	if (o->passphrase_file &&
	    (pass = mx_conf_read_secret_file(o->passphrase_file, e)) == NULL)
		return -1;
	if (!o->passphrase_file && !o->password_stdin && !o->token_stdin &&
	    (pass = ask_store_pass(c, e)) == NULL && e->status != MX_OK)
		return -1;
	c->store_pass = pass;
	rc = fresh ? mx_ctx_open_store(c, e) :
		     mx_ctx_open(c, MX_CTX_STORE | MX_CTX_NO_ENV, e);
	c->store_pass = NULL;
	mx_secure_free(pass);
	return rc;
}

/* Remove what a failed login of a new profile created in dir: its store
 * (never a profile that was there before). */
static void
remove_new_profile(const char *dir, int dir_existed)
{
	static const char *const files[] = { "store.db", "store.db-wal",
		"store.db-shm", "store.key" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = mx_xasprintf("%s/%s", dir, files[i]);
		(void)unlink(p);
		free(p);
	}
	if (!dir_existed)
		(void)rmdir(dir);
}

/* Log in (the profile's store open, or not yet for a new profile) and
 * keep the session, with the device's keys uploaded. */
static int
login_and_keep(struct mx_ctx *c, const struct opt *o, int fresh,
    struct mx_err *e)
{
	if ((o->token_stdin && o->user == NULL && o->homeserver == NULL &&
		getenv("MX_HOMESERVER") == NULL))
		return mx_err_set(e, MX_USAGE,
		    "--token-stdin needs --homeserver URL or -u @user:server");
	if (find_homeserver(c, o, e) != 0)
		return -1;
	c->api.hs = c->sess.homeserver;
	c->api.token = NULL;
	if ((o->token_stdin ? token_login(c, o, e) :
			      password_login(c, o, e)) != 0)
		return -1;
	/* A new profile's store, and its passphrase, only now that the
	 * login succeeded: a mistyped password leaves nothing behind. */
	if (fresh && open_login_store(c, o, 1, e) != 0)
		return -1;
	if (mx_conf_save_session(c, e) != 0)
		return -1;
	/* The new device's identity and one-time keys go up at once, so
	 * others can encrypt to it before it first sends. */
	return upload_keys(c, e);
}

static int
cmd_login(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char *dir, *db;
	int fresh, dir_existed;

	(void)argc;
	(void)argv;
	if (o->password_stdin && o->token_stdin)
		return mx_err_set(e, MX_USAGE,
		    "--password-stdin and --token-stdin exclude each other");
	if (o->user == NULL && !o->token_stdin)
		return mx_err_set(e, MX_USAGE, "no user given; use -u USER");
	if ((dir = mx_conf_profile_dir(c->profile, e)) == NULL)
		return -1;
	db = mx_xasprintf("%s/store.db", dir);
	fresh = access(db, F_OK) != 0;
	dir_existed = access(dir, F_OK) == 0;
	free(db);
	if ((fresh ? mx_ctx_open(c, MX_CTX_NO_ENV, e) :
		     open_login_store(c, o, 0, e)) != 0 ||
	    (!fresh && replace_session(c, o, e) != 0) ||
	    login_and_keep(c, o, fresh, e) != 0) {
		if (fresh)
			remove_new_profile(dir, dir_existed);
		free(dir);
		return -1;
	}
	free(dir);
	return print_session(&c->sess, e);
}

/* --- logout, whoami ------------------------------------------------------- */

static int
cmd_logout(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	(void)argc;
	(void)argv;
	struct mx_err le;

	(void)o;
	if (mx_ctx_open(c, MX_CTX_SESSION | MX_CTX_NO_ENV, e) != 0)
		return -1;
	mx_err_clear(&le);
	if (mx_api_logout(&c->api, &le) != 0) {
		if (strcmp(le.errcode, "M_UNKNOWN_TOKEN") != 0) {
			*e = le;
			return mx_err_prefix(e, "cannot log out");
		}
		mx_cli_note(c, 0,
		    "the server no longer knew the token; removing the "
		    "session here");
	}
	return forget_session(c, e);
}

/* The Ed25519 key in groups of four characters, as Element shows a
 * session key to be read out (caller frees). */
static char *
fingerprint(const char *ed)
{
	struct mx_buf b = { 0 };
	size_t i;

	mx_buf_adds(&b, "");
	for (i = 0; ed[i] != '\0'; i++) {
		if (i > 0 && i % 4 == 0)
			mx_buf_add(&b, " ", 1);
		mx_buf_add(&b, ed + i, 1);
	}
	return mx_buf_detach(&b);
}

/* Our device's fingerprint (from mine, the account's Ed25519 key, when
 * the profile holds it) and our master key (when there is one), from the
 * server's /keys/query answer, added to the whoami line j. */
static int
add_own_keys(struct mx_ctx *c, const char *mine, json_t *j, struct mx_err *e)
{
	json_t *body, *q = NULL, *mk;
	const char *ed, *k;
	char *id, *fp;
	json_t *v;

	body = json_pack("{s:{s:[]}}", "device_keys", c->sess.user_id);
	if (mx_api_keys_query(&c->api, body, &q, e) != 0) {
		json_decref(body);
		return -1;
	}
	json_decref(body);
	id = mx_xasprintf("ed25519:%s", c->sess.device_id);
	ed = mx_json_str(
	    json_object_get(json_object_get(json_object_get(json_object_get(q,
								"device_keys"),
						c->sess.user_id),
				c->sess.device_id),
		"keys"),
	    id);
	free(id);
	/* Our own key is the one read aloud to be compared: the account's
	 * when the profile holds it, not what a server says it is. */
	if (mine != NULL && ed != NULL && strcmp(ed, mine) != 0)
		mx_cli_note(c, 0,
		    "the server shows another key for this device (%s, not "
		    "%s)",
		    ed, mine);
	if (mine != NULL)
		ed = mine;
	if (ed != NULL) {
		fp = fingerprint(ed);
		json_object_set_new(j, "fingerprint", json_string(fp));
		free(fp);
	}
	mk = json_object_get(json_object_get(json_object_get(q, "master_keys"),
				 c->sess.user_id),
	    "keys");
	json_object_foreach(mk, k, v)
		if (json_is_string(v) && json_object_size(mk) == 1)
			json_object_set(j, "master_key", v);
	json_decref(q);
	return 0;
}

static int
cmd_whoami(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	char *user = NULL, *dev = NULL;
	struct mx_e2ee *x = NULL;
	json_t *j;
	int rc;

	(void)argc;
	(void)argv;
	(void)o;
	if (mx_ctx_open(c, MX_CTX_SESSION, e) != 0)
		return -1;
	if (mx_api_whoami(&c->api, &user, &dev, e) != 0)
		return -1;
	/* The server's answer is the truth; the stored ids were a cache. */
	free(c->sess.user_id);
	c->sess.user_id = user;
	if (dev != NULL) {
		free(c->sess.device_id);
		c->sess.device_id = dev;
	}
	j = json_pack("{s:s?, s:s?, s:s?}", "user_id", c->sess.user_id,
	    "device_id", c->sess.device_id, "homeserver", c->sess.homeserver);
	if (j == NULL)
		return mx_err_set(e, MX_LOCAL, "session is not UTF-8");
	rc = 0;
	if (c->sess.device_id != NULL && c->store != NULL &&
	    getenv("MX_ACCESS_TOKEN") == NULL)
		rc = mx_e2ee_open(&x, c, e);
	if (rc == 0 && c->sess.device_id != NULL)
		rc = add_own_keys(c, x ? mx_e2ee_ed25519(x) : NULL, j, e);
	mx_e2ee_close(x);
	if (rc == 0)
		rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

static int
is_current(const struct mx_ctx *c, const struct mx_device *d)
{
	return c->sess.device_id != NULL &&
	    strcmp(d->device_id, c->sess.device_id) == 0 &&
	    strcmp(d->user_id, c->sess.user_id) == 0;
}

static const char *
trust_of(const struct mx_device *d)
{
	return d->forged ? "forged" : mx_trust_name(d->trust);
}

/* Neither verified by us nor cross-signed by a master key we verified
 * (forged and mismatched devices are neither); this device is us. */
static int
unverified(const struct mx_ctx *c, const struct mx_device *d)
{
	return !is_current(c, d) &&
	    (d->forged ||
		(d->trust != MX_TRUST_VERIFIED &&
		    d->trust != MX_TRUST_CROSS_SIGNED));
}

/* Our own devices' entry of GET /devices (mine), or NULL. */
static const json_t *
seen_entry(const json_t *mine, const char *device_id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(mine, i, v)
		if (mx_json_str(v, "device_id") != NULL &&
		    strcmp(mx_json_str(v, "device_id"), device_id) == 0)
			return v;
	return NULL;
}

/* One audit line; mine: GET /devices of our user (NULL: not asked). */
static json_t *
device_json(const struct mx_ctx *c, const struct mx_device *d,
    const json_t *mine)
{
	char *fp = fingerprint(d->ed);
	const json_t *seen;
	json_t *j =
	    json_pack("{s:s,s:s,s:s?,s:s,s:s,s:s,s:b,s:b,s:s?,s:b,s:s,s:b}",
		"user_id", d->user_id, "device_id", d->device_id,
		"display_name", d->name, "curve25519", d->curve, "ed25519",
		d->ed, "fingerprint", fp, "self_signed", !d->forged,
		"cross_signed", d->xsigned, "master_key",
		d->master[0] ? d->master : NULL, "master_verified",
		d->master_verified, "trust", trust_of(d), "identity_changed",
		d->identity_changed);

	free(fp);
	if (json_object_get(j, "display_name") == NULL)
		json_object_set_new(j, "display_name", json_null());
	if (json_object_get(j, "master_key") == NULL)
		json_object_set_new(j, "master_key", json_null());
	json_object_set_new(j, "first_seen",
	    d->first_seen ? json_integer(d->first_seen) : json_null());
	if (strcmp(d->user_id, c->sess.user_id) == 0 && mine != NULL) {
		seen = seen_entry(mine, d->device_id);
		json_object_set(j, "last_seen_ts",
		    json_is_integer(json_object_get(seen, "last_seen_ts")) ?
			json_object_get(seen, "last_seen_ts") :
			json_null());
		json_object_set(j, "last_seen_ip",
		    json_is_string(json_object_get(seen, "last_seen_ip")) ?
			json_object_get(seen, "last_seen_ip") :
			json_null());
	}
	if (is_current(c, d))
		json_object_set_new(j, "current", json_true());
	return j;
}

/* Characters of UTF-8 text s (for aligning columns). */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* --table: user, device, name, fingerprint, trust; the trust coloured
 * only on a terminal and without NO_COLOR (no-color.org). */
static int
print_table(const struct mx_devlist *l, struct mx_err *e)
{
	const char *head[5] = { "USER", "DEVICE", "NAME", "FINGERPRINT",
		"TRUST" };
	const char *nc = getenv("NO_COLOR"), *col[5], *on;
	int colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	size_t w[5] = { 0 }, i, k;
	/* Per device: fingerprint, then the names the server and the
	 * device's owner chose, made printable (they go to a terminal). */
	char **fp = mx_xcalloc(4 * (l->n + 1), sizeof(*fp));

	for (k = 0; k < 5; k++)
		w[k] = width(head[k]);
	for (i = 0; i < l->n; i++) {
		fp[4 * i] = fingerprint(l->v[i].ed);
		fp[4 * i + 1] = mx_cli_printable(l->v[i].user_id);
		fp[4 * i + 2] = mx_cli_printable(l->v[i].device_id);
		fp[4 * i + 3] =
		    mx_cli_printable(l->v[i].name ? l->v[i].name : "-");
		col[0] = fp[4 * i + 1];
		col[1] = fp[4 * i + 2];
		col[2] = fp[4 * i + 3];
		col[3] = fp[4 * i];
		for (k = 0; k < 4; k++)
			if (width(col[k]) > w[k])
				w[k] = width(col[k]);
	}
	for (i = 0; i <= l->n; i++) {
		if (i == 0)
			memcpy(col, head, sizeof(col));
		else {
			col[0] = fp[4 * (i - 1) + 1];
			col[1] = fp[4 * (i - 1) + 2];
			col[2] = fp[4 * (i - 1) + 3];
			col[3] = fp[4 * (i - 1)];
			col[4] = trust_of(&l->v[i - 1]);
		}
		for (k = 0; k < 4; k++)
			printf("%s%*s  ", col[k], (int)(w[k] - width(col[k])),
			    "");
		on = !colour || i == 0 ? "" :
		    l->v[i - 1].trust >= MX_TRUST_CROSS_SIGNED &&
			!l->v[i - 1].forged ?
					 "\033[32m" :
		    l->v[i - 1].trust >= MX_TRUST_UNVERIFIED &&
			!l->v[i - 1].forged ?
					 "\033[33m" :
					 "\033[31m";
		printf("%s%s%s\n", on, col[4], *on ? "\033[0m" : "");
	}
	for (i = 0; i < 4 * l->n; i++)
		free(fp[i]);
	free(fp);
	if (fflush(stdout) != 0 || ferror(stdout))
		return mx_err_set(e, MX_LOCAL, "cannot write to stdout");
	return 0;
}

/* --snapshot FILE: the raw answer, 0600, in place at once (a temporary
 * file in the same directory renamed over FILE). */
static int
write_snapshot(const char *file, const json_t *raw, struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.XXXXXX", file), *s = mx_json_compact(raw);
	FILE *f = NULL;
	int fd, rc = -1;

	if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot create '%s'", tmp);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fprintf(f, "%s\n", s) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0)
		mx_err_set(e, MX_LOCAL, "cannot write '%s'", tmp);
	else
		rc = 0;
	if (fclose(f) != 0 && rc == 0)
		rc = mx_err_set(e, MX_LOCAL, "cannot write '%s'", tmp);
	if (rc == 0 && rename(tmp, file) != 0)
		rc = mx_err_set(e, MX_LOCAL, "cannot rename '%s' to '%s'", tmp,
		    file);
out:
	if (rc != 0 && fd >= 0)
		(void)unlink(tmp);
	free(tmp);
	free(s);
	return rc;
}

/* A user of the command line with no device listed: one who does not
 * exist is an error (3), one who has no device a note. */
static int
no_devices(struct mx_ctx *c, const struct mx_devlist *l, const char *user,
    struct mx_err *e)
{
	json_t *p = NULL;
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].user_id, user) == 0)
			return 0;
	if ((rc = mx_api_profile(&c->api, user, &p, e)) < 0)
		return -1;
	json_decref(p);
	if (rc == 0)
		return mx_err_set(e, MX_PERM, "unknown user '%s'", user);
	mx_cli_note(c, 0, "%s has no device with keys", user);
	return 0;
}

/* Add user to the array users unless there. */
static void
add_user(json_t *users, const char *user)
{
	const json_t *v;
	size_t i;

	json_array_foreach(users, i, v)
		if (strcmp(json_string_value(v), user) == 0)
			return;
	json_array_append_new(users, json_string(user));
}

/* The users to audit: the operands, the joined and invited members of
 * --room, or else ourselves. */
static json_t *
audit_users(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *users = json_array(), *chunk = NULL, *ev;
	const char *m, *who;
	char *room = NULL;
	size_t i, r;

	for (i = 0; i < (size_t)argc; i++)
		add_user(users, argv[i]);
	for (r = 0; r < o->nroom; r++) {
		if (mx_room_resolve(c, o->room[r], 0, &room, e) != 0 ||
		    mx_api_members(&c->api, room, &chunk, e) != 0) {
			free(room);
			json_decref(users);
			return NULL;
		}
		json_array_foreach(chunk, i, ev) {
			m = mx_json_str(json_object_get(ev, "content"),
			    "membership");
			who = mx_json_str(ev, "state_key");
			if (m != NULL && who != NULL &&
			    (strcmp(m, "join") == 0 ||
				strcmp(m, "invite") == 0))
				add_user(users, who);
		}
		json_decref(chunk);
		chunk = NULL;
		free(room);
		room = NULL;
	}
	if (json_array_size(users) == 0)
		add_user(users, c->sess.user_id);
	return users;
}

/* A changed identity, on stderr whatever -q: user, pinned and new key. */
static int
changed_identities(const struct mx_devlist *l)
{
	size_t i, k;
	int n = 0, seen;

	for (i = 0; i < l->n; i++) {
		if (!l->v[i].identity_changed)
			continue;
		for (k = 0, seen = 0; k < i; k++)
			seen |= l->v[k].identity_changed &&
			    strcmp(l->v[k].user_id, l->v[i].user_id) == 0;
		if (seen)
			continue;
		fprintf(stderr,
		    "mx-keys: %s changed their master key from %s to %s; "
		    "check with them, then run mx-keys accept %s\n",
		    l->v[i].user_id,
		    l->v[i].master[0] ? l->v[i].master : "none",
		    l->v[i].master_seen[0] ? l->v[i].master_seen : "none",
		    l->v[i].user_id);
		n++;
	}
	return n;
}

/* Print the list as JSON lines or a table. */
static int
print_devices(struct mx_ctx *c, const struct opt *o,
    const struct mx_devlist *l, struct mx_err *e)
{
	json_t *mine = NULL, *j;
	struct mx_err le;
	size_t i;
	int rc = 0;

	if (o->table)
		return print_table(l, e);
	mx_err_clear(&le);
	for (i = 0; i < l->n && mine == NULL; i++)
		if (strcmp(l->v[i].user_id, c->sess.user_id) == 0 &&
		    mx_api_devices(&c->api, &mine, &le) != 0)
			break;
	if (le.status != MX_OK)
		mx_cli_note(c, 0, "cannot list our devices' last use: %s",
		    le.msg);
	for (i = 0; i < l->n && rc == 0; i++) {
		j = device_json(c, &l->v[i], mine);
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	}
	json_decref(mine);
	return rc;
}

/* devices [USER...]: every device of the users, --room's members, or
 * ourselves, forged ones included (the audit's view). */
static int
cmd_devices(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	json_t *users, *raw = NULL;
	const char **uv;
	size_t i, n, bad = 0;
	int rc, changed;

	if (mx_ctx_open(c, OWN_STORE, e) != 0 || mx_ctx_whoami(c, e) != 0 ||
	    (users = audit_users(c, o, argc, argv, e)) == NULL)
		return -1;
	n = json_array_size(users);
	uv = mx_xcalloc(n, sizeof(*uv));
	for (i = 0; i < n; i++)
		uv[i] = json_string_value(json_array_get(users, i));
	rc = mx_devices_audit(&c->api, c->store, uv, n, &l, &raw, e);
	if (rc == 0 && o->snapshot != NULL)
		rc = write_snapshot(o->snapshot, raw, e);
	if (rc == 0)
		rc = print_devices(c, o, &l, e);
	for (i = 0; i < (size_t)argc && rc == 0; i++)
		rc = no_devices(c, &l, argv[i], e);
	for (i = 0; i < l.n; i++)
		bad += unverified(c, &l.v[i]);
	changed = rc == 0 ? changed_identities(&l) : 0;
	if (rc == 0 && changed)
		rc = mx_err_set(e, MX_NO,
		    "%d user(s) changed their cross-signing identity",
		    changed);
	else if (rc == 0 && o->unverified_exit && bad > 0)
		rc = mx_err_set(e, MX_NO, "%zu device(s) not verified", bad);
	mx_devlist_release(&l);
	json_decref(raw);
	json_decref(users);
	free(uv);
	return rc;
}

/* trust USER DEVICE ED25519: mark the device verified, after checking
 * the fingerprint compared out of band. */
static int
cmd_trust(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, OWN_STORE, e) != 0)
		return -1;
	if (mx_e2ee_verify_device(c, argv[0], argv[1], argv[2], e) != 0)
		return -1;
	j = json_pack("{s:s,s:s,s:s}", "user_id", argv[0], "device_id",
	    argv[1], "trust", "verified");
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* rename DEVICE NAME: one of our devices gets a new display name. */
static int
cmd_rename(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, OWN_STORE, e) != 0)
		return -1;
	if (mx_api_rename_device(&c->api, argv[0], argv[1], e) != 0) {
		if (e->http == 404)
			return mx_err_set(e, MX_PERM, "no device '%s' of ours",
			    argv[0]);
		return mx_err_prefix(e, "cannot rename '%s'", argv[0]);
	}
	j = json_pack("{s:s,s:s}", "device_id", argv[0], "display_name",
	    argv[1]);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* accept USER: take USER's changed cross-signing keys as theirs (the
 * changed identity withholds room keys from the devices the new keys
 * sign until then). */
static int
cmd_accept(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, OWN_STORE, e) != 0 ||
	    (rc = mx_devices_accept(c->store, argv[0], e)) < 0)
		return -1;
	if (rc == 0)
		mx_cli_note(c, 0,
		    "%s's cross-signing keys did not change: "
		    "nothing to accept",
		    argv[0]);
	j = json_pack("{s:s,s:b}", "user_id", argv[0], "accepted", rc);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* export-identity: the profile's device, sealed into one line for
 * MX_IDENTITY. */
static int
cmd_export_identity(struct mx_ctx *c, const struct opt *o, int argc,
    char **argv, struct mx_err *e)
{
	struct mx_e2ee *x = NULL;
	char *pass = NULL, *acct = NULL, *b64 = NULL, *line = NULL;
	size_t n = 0;
	json_t *j;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (mx_ctx_open(c, OWN_STORE, e) != 0 || mx_e2ee_open(&x, c, e) != 0)
		goto out;
	pass = o->passphrase_file ?
	    mx_conf_read_secret_file(o->passphrase_file, e) :
	    mx_cli_read_secret("passphrase for the identity",
		!isatty(STDIN_FILENO), e);
	if (pass == NULL || mx_e2ee_account_pickle(x, &acct, &n, e) != 0)
		goto out;
	b64 = mx_b64_encdup(acct, n);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "homeserver",
	    c->sess.homeserver, "user_id", c->sess.user_id, "device_id",
	    c->sess.device_id, "access_token", c->sess.access_token, "account",
	    b64);
	line = mx_identity_seal(j, pass, e);
	json_decref(j);
	if (line != NULL && printf("%s\n", line) > 0 && fflush(stdout) == 0)
		rc = 0;
	else if (line != NULL)
		mx_err_set(e, MX_LOCAL, "cannot write to stdout");
out:
	if (line != NULL)
		mx_wipe(line, strlen(line));
	free(line);
	if (b64 != NULL)
		mx_wipe(b64, strlen(b64));
	free(b64);
	if (acct != NULL)
		mx_secure_free(acct);
	if (pass != NULL)
		mx_secure_free(pass);
	mx_e2ee_close(x);
	return rc;
}

/* --- export, import: room keys (spec: "Key exports") ---------------------- */

/* The passphrase of --passphrase-file, or asked on the terminal (twice,
 * to be the same, when it seals a new file). */
static char *
export_pass(const struct opt *o, int twice, struct mx_err *e)
{
	char *p, *again;

	if (o->passphrase_file)
		p = mx_conf_read_secret_file(o->passphrase_file, e);
	else if ((p = mx_cli_read_secret("passphrase for the room keys", 0,
		      e)) == NULL &&
	    e->status == MX_USAGE)
		mx_err_set(e, MX_USAGE,
		    "no terminal to ask for the passphrase; use "
		    "--passphrase-file FILE");
	if (p != NULL && p[0] == '\0') {
		mx_secure_free(p);
		mx_err_set(e, MX_USAGE, "the passphrase is empty");
		return NULL;
	}
	if (p == NULL || !twice || o->passphrase_file)
		return p;
	if ((again = mx_cli_read_secret("the same passphrase again", 0, e)) ==
	    NULL) {
		mx_secure_free(p);
		return NULL;
	}
	if (strcmp(p, again) != 0) {
		mx_secure_free(p);
		p = NULL;
		mx_err_set(e, MX_USAGE, "the passphrases differ");
	}
	mx_secure_free(again);
	return p;
}

/* -o FILE: the text in a new file, 0600, whole or not at all (written to
 * a temporary file, then linked to FILE, which fails if FILE exists). */
static int
write_new_file(const char *file, const char *text, struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.XXXXXX", file);
	FILE *f = NULL;
	int fd, rc = -1;

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
	if (rc == 0 && link(tmp, file) != 0)
		rc = mx_err_set(e, MX_LOCAL,
		    errno == EEXIST ? "'%s' exists; not overwriting it" :
				      "cannot create '%s'",
		    file);
out:
	if (fd >= 0)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}

/* The sessions of the --room rooms, or of all rooms, into arr. */
static int
export_sessions(struct mx_ctx *c, const struct opt *o, json_t *arr,
    struct mx_err *e)
{
	char *room = NULL;
	size_t r;

	if (o->nroom == 0)
		return mx_inbound_export(c->store, NULL, arr, e);
	for (r = 0; r < o->nroom; r++) {
		if (mx_room_resolve(c, o->room[r], 0, &room, e) != 0 ||
		    mx_inbound_export(c->store, room, arr, e) != 0) {
			free(room);
			return -1;
		}
		free(room);
		room = NULL;
	}
	return 0;
}

/* export: the room keys held, in Element's format, to -o FILE or stdout. */
static int
cmd_export(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *arr = json_array(), *j;
	char *pass = NULL, *plain = NULL, *text = NULL;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (o->output && access(o->output, F_OK) == 0) {
		mx_err_set(e, MX_LOCAL, "'%s' exists; not overwriting it",
		    o->output);
		goto out;
	}
	if (mx_ctx_open(c, OWN_STORE, e) != 0 ||
	    export_sessions(c, o, arr, e) != 0 ||
	    (pass = export_pass(o, 1, e)) == NULL)
		goto out;
	plain = mx_json_compact(arr);
	text = mx_keyexport_encrypt(plain, strlen(plain), pass,
	    MX_KEYEXPORT_ROUNDS, e);
	if (text == NULL)
		goto out;
	if (o->output) {
		if (write_new_file(o->output, text, e) != 0)
			goto out;
		j = json_pack("{s:I}", "exported",
		    (json_int_t)json_array_size(arr));
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	} else if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
		mx_err_set(e, MX_LOCAL, "cannot write to stdout");
	else
		rc = 0;
	if (rc == 0)
		mx_cli_note(c, 1, "exported %zu room key(s)",
		    json_array_size(arr));
out:
	if (plain != NULL)
		mx_wipe(plain, strlen(plain));
	free(plain);
	free(text);
	mx_secure_free(pass);
	json_decref(arr);
	return rc;
}

/* The export file as a source read twice (keyexport.h). */
static long
file_read(void *u, char *buf, size_t n)
{
	size_t k = fread(buf, 1, n, u);

	return k == 0 && ferror((FILE *)u) ? -1 : (long)k;
}

static int
file_rewind(void *u)
{
	return fseek(u, 0, SEEK_SET);
}

/* FILE as is when it is a regular file; otherwise ("-" for standard
 * input, a pipe) copied into an unlinked temporary file (the text is
 * sealed: nothing readable lands on disk), to be read twice without
 * holding it in memory. */
static FILE *
open_import(const char *file, struct mx_err *e)
{
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r"), *f;
	char chunk[8192];
	struct stat st;
	size_t k;

	if (in == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot open '%s'", file);
		return NULL;
	}
	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && in != stdin)
		return in;
	if ((f = tmpfile()) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot make a temporary file");
		goto out;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (fwrite(chunk, 1, k, f) != k)
			break;
	if (ferror(in) || ferror(f) || fflush(f) != 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		f = NULL;
		mx_err_set(e, MX_LOCAL, "cannot read '%s'", file);
	}
out:
	if (in != stdin)
		fclose(in);
	return f;
}

/* The sessions of one import, counted as they are kept. */
struct import {
	struct mx_store *st;
	struct mx_json_items items;
	size_t count[3];
};

static int
import_item(void *u, const json_t *item, struct mx_err *e)
{
	struct import *im = u;
	int rc = mx_inbound_import_one(im->st, item, e);

	if (rc < 0)
		return -1;
	im->count[rc]++;
	return 0;
}

static int
import_text(void *u, const char *p, size_t n, struct mx_err *e)
{
	struct import *im = u;

	return mx_json_items_feed(&im->items, p, n, import_item, im, e);
}

/* The header's round count checked, then the passphrase asked and the
 * whole file's MAC checked (nothing decrypted yet). */
static int
open_export(const struct opt *o, const char *file, struct mx_keyexport_in *in,
    struct mx_err *e)
{
	enum mx_keyexport_why why = MX_KEYEXPORT_OK;
	uint32_t rounds = 0;
	char *pass;
	int rc;

	/* A forged header must not buy a long derivation (or a prompt). */
	if (mx_keyexport_in_head(in, &rounds, &why, e) != 0) {
		if (why == MX_KEYEXPORT_ROUNDS_BAD)
			return mx_err_set(e, MX_LOCAL,
			    "'%s' asks for %lu PBKDF2 rounds (at most %lu); "
			    "refused",
			    file, (unsigned long)rounds,
			    (unsigned long)MX_KEYEXPORT_MAX_ROUNDS);
		return mx_err_prefix(e, "'%s'", file);
	}
	if ((pass = export_pass(o, 0, e)) == NULL)
		return -1;
	rc = mx_keyexport_in_open(in, pass, &why, e);
	mx_secure_free(pass);
	if (rc != 0 && why == MX_KEYEXPORT_MAC)
		return mx_err_set(e, MX_NO,
		    "'%s': wrong passphrase, or the file is damaged", file);
	if (rc != 0)
		return mx_err_prefix(e, "'%s'", file);
	return 0;
}

/* Decrypt the opened file again and keep its sessions, in one
 * transaction, one session in memory at a time. */
static int
import_sessions(struct mx_ctx *c, const char *file, struct mx_keyexport_in *in,
    struct import *im, struct mx_err *e)
{
	im->st = c->store;
	if (mx_store_begin(c->store, e) != 0)
		return -1;
	if (mx_keyexport_in_read(in, import_text, im, e) != 0 ||
	    mx_json_items_end(&im->items, e) != 0) {
		mx_store_rollback(c->store);
		return e->status == MX_LOCAL ? mx_err_prefix(e, "'%s'", file) :
					       -1;
	}
	return mx_store_commit(c->store, e);
}

/* import FILE: the sessions of an export kept, none held replaced unless
 * extended backwards by the same device's keys.  The file is streamed:
 * memory stays flat whatever its size. */
static int
cmd_import(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct import im = { NULL, MX_JSON_ITEMS_INIT, { 0, 0, 0 } };
	struct mx_keyexport_src src = { file_read, file_rewind, NULL };
	struct mx_keyexport_in *in = NULL;
	json_t *j;
	FILE *f;
	int rc = -1;

	(void)argc;
	if ((f = open_import(argv[0], e)) == NULL)
		return -1;
	src.u = f;
	in = mx_keyexport_in_new(&src);
	if (mx_ctx_open(c, OWN_STORE, e) == 0 &&
	    open_export(o, argv[0], in, e) == 0 &&
	    import_sessions(c, argv[0], in, &im, e) == 0) {
		j = json_pack("{s:I,s:I,s:I}", "imported",
		    (json_int_t)im.count[MX_INBOUND_NEW], "improved",
		    (json_int_t)im.count[MX_INBOUND_IMPROVED], "skipped",
		    (json_int_t)im.count[MX_INBOUND_SKIPPED]);
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	}
	mx_json_items_release(&im.items);
	mx_keyexport_in_free(in);
	fclose(f);
	return rc;
}

/* --- delete: our own devices (spec: "Device management") ---------------- */

/* Our device of id in the GET /devices list, or NULL (borrowed). */
static json_t *
find_device(json_t *devs, const char *id)
{
	json_t *d;
	size_t i;

	json_array_foreach(devs, i, d) {
		const char *did = mx_json_str(d, "device_id");

		if (did != NULL && strcmp(did, id) == 0)
			return d;
	}
	return NULL;
}

/*
 * The devices to delete, from the operands or --older-than: a device the
 * server never saw in use (no last_seen_ts) has no age and is not old; the
 * profile's own device only with --force.  Returns a new array of the
 * GET /devices entries (borrowed entries, increfed), or NULL with e set.
 */
static json_t *
pick_devices(struct mx_ctx *c, const struct opt *o, json_t *devs, int argc,
    char **argv, struct mx_err *e)
{
	long long cut = mx_time_ms() - o->older_than * 86400000LL;
	json_t *pick = json_array(), *d, *ts;
	const char *id;
	size_t i;
	int k;

	for (k = 0; k < argc; k++) {
		if ((d = find_device(devs, argv[k])) == NULL) {
			json_decref(pick);
			mx_err_set(e, MX_PERM, "no device '%s' of ours",
			    argv[k]);
			return NULL;
		}
		if (strcmp(argv[k], c->sess.device_id) == 0 && !o->force) {
			json_decref(pick);
			mx_err_set(e, MX_USAGE,
			    "'%s' is this profile's own device; use --force "
			    "to delete it (and log the profile out)",
			    argv[k]);
			return NULL;
		}
		if (find_device(pick, argv[k]) == NULL)
			json_array_append(pick, d);
	}
	json_array_foreach(o->older_than >= 0 ? devs : NULL, i, d) {
		id = mx_json_str(d, "device_id");
		ts = json_object_get(d, "last_seen_ts");
		if (id == NULL || !json_is_integer(ts) ||
		    json_integer_value(ts) >= cut)
			continue;
		if (strcmp(id, c->sess.device_id) == 0 && !o->force)
			mx_cli_note(c, 1,
			    "keeping this profile's own device %s", id);
		else
			json_array_append(pick, d);
	}
	return pick;
}

/* One line per device: id, name, last use, deleted or (--dry-run) not. */
static int
print_deleted(const json_t *pick, int deleted, struct mx_err *e)
{
	const json_t *d;
	json_t *j;
	size_t i;
	int rc = 0;

	json_array_foreach(pick, i, d) {
		json_t *name = json_object_get(d, "display_name");
		json_t *ts = json_object_get(d, "last_seen_ts");

		/* Only what has the type the spec gives passes through. */
		j = json_pack("{s:O?, s:O?, s:O?, s:b}", "device_id",
		    json_object_get(d, "device_id"), "display_name",
		    json_is_string(name) ? name : NULL, "last_seen_ts",
		    json_is_integer(ts) ? ts : NULL, "deleted", deleted);
		rc = j != NULL ? mx_cli_print_json(j, e) :
				 mx_err_set(e, MX_TEMP, "malformed device");
		json_decref(j);
		if (rc != 0)
			break;
	}
	return rc;
}

/* delete DEVICE... | --older-than DAYS: delete our own devices. */
static int
cmd_delete(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *devs = NULL, *pick = NULL, *ids = json_array(), *d;
	size_t i;
	int rc = -1, self = 0;

	if ((argc > 0) == (o->older_than >= 0))
		mx_cli_usage(&cli,
		    "delete wants DEVICE... or --older-than "
		    "DAYS, not both");
	if (mx_ctx_open(c, OWN_STORE, e) != 0 || mx_ctx_whoami(c, e) != 0)
		goto out;
	if (c->sess.device_id == NULL) {
		mx_err_set(e, MX_TEMP,
		    "the server did not say which device "
		    "this profile is");
		goto out;
	}
	if (mx_api_devices(&c->api, &devs, e) != 0) {
		mx_err_prefix(e, "cannot list our devices");
		goto out;
	}
	if ((pick = pick_devices(c, o, devs, argc, argv, e)) == NULL)
		goto out;
	json_array_foreach(pick, i, d) {
		json_array_append(ids, json_object_get(d, "device_id"));
		self |= strcmp(mx_json_str(d, "device_id"),
			    c->sess.device_id) == 0;
	}
	if (o->dry_run || json_array_size(ids) == 0)
		rc = print_deleted(pick, 0, e);
	else if (mx_api_delete_devices(&c->api, ids, c->sess.user_id,
		     o->password_stdin ? mx_cli_ask_stdin : c->ask, e) != 0)
		mx_err_prefix(e, "cannot delete devices");
	else {
		rc = print_deleted(pick, 1, e);
		/* The server logged our own device out with it. */
		if (self && forget_session(c, e) != 0)
			rc = -1;
	}
out:
	json_decref(ids);
	json_decref(pick);
	json_decref(devs);
	return rc;
}

/* --- backup: the server-side key backup (spec: "Server-side key backups") */

/* The server's current backup, of the one algorithm there is: 0 and
 * *info; -1 with e (MX_NO when there is none). */
static int
backup_info(struct mx_ctx *c, json_t **info, struct mx_err *e)
{
	const char *alg;
	int rc;

	if ((rc = mx_api_backup_version(&c->api, info, e)) < 0)
		return mx_err_prefix(e, "cannot read the key backup");
	if (rc == 0)
		return mx_err_set(e, MX_NO, "the account has no key backup");
	if (mx_json_str(*info, "version") == NULL) {
		json_decref(*info);
		*info = NULL;
		return mx_err_set(e, MX_TEMP,
		    "a key backup without a version");
	}
	alg = mx_json_str(*info, "algorithm");
	if (alg != NULL && strcmp(alg, MX_KEYBACKUP_ALG) == 0)
		return 0;
	mx_err_set(e, MX_LOCAL,
	    "key backup %s uses the unknown algorithm '%s'",
	    mx_json_str(*info, "version"), alg ? alg : "");
	json_decref(*info);
	*info = NULL;
	return -1;
}

/* Whether secret storage's default key holds a backup key (status only:
 * errors count as no). */
static int
backup_in_ssss(struct mx_ctx *c)
{
	json_t *desc = NULL, *sec = NULL;
	char *id = NULL;
	int in = 0;

	if (mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, NULL) ==
		1 &&
	    mx_api_get_account_data(&c->api, c->sess.user_id,
		MX_KEYBACKUP_SECRET, &sec, NULL) == 1)
		in = json_is_object(
		    json_object_get(json_object_get(sec, "encrypted"), id));
	json_decref(sec);
	json_decref(desc);
	free(id);
	return in;
}

/* backup status: the current backup and who vouches for it. */
static int
backup_status(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	struct mx_e2ee *x = NULL;
	json_t *info = NULL, *sigs = NULL, *j, *s;
	const char *me = c->sess.user_id;
	size_t i;
	int rc = -1, trusted = 0;

	if (backup_info(c, &info, e) != 0 || mx_e2ee_open(&x, c, e) != 0 ||
	    mx_devices_query(&c->api, c->store, &me, 1, &l, e) != 0)
		goto out;
	sigs = mx_keybackup_signatures(info, me, &l, c->sess.device_id,
	    mx_e2ee_ed25519(x));
	json_array_foreach(sigs, i, s)
		trusted |= json_is_true(json_object_get(s, "trusted"));
	j = json_pack("{s:O,s:O,s:O?,s:O?,s:s?,s:O,s:b,s:b}", "version",
	    json_object_get(info, "version"), "algorithm",
	    json_object_get(info, "algorithm"), "count",
	    json_object_get(info, "count"), "etag",
	    json_object_get(info, "etag"), "public_key",
	    mx_json_str(json_object_get(info, "auth_data"), "public_key"),
	    "signatures", sigs, "trusted", trusted, "in_secret_storage",
	    backup_in_ssss(c));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
out:
	mx_devlist_release(&l);
	mx_e2ee_close(x);
	json_decref(sigs);
	json_decref(info);
	return rc;
}

/* The backup key from secret storage, opened with the secret-storage
 * key of a recovery key (raw) or of a passphrase (pass). */
static int
backup_key_ssss(struct mx_ctx *c, const uint8_t *raw, const char *pass,
    uint8_t priv[32], struct mx_err *e)
{
	uint8_t *key = mx_secure_alloc(32);
	json_t *desc = NULL;
	char *id = NULL;
	int rc;

	rc = mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, e);
	if (rc == 0)
		rc = mx_err_set(e, pass ? MX_LOCAL : MX_NO,
		    pass ? "the account has no secret storage; restore needs "
			   "the recovery key (--recovery-key-stdin)" :
			   "the recovery key is not the backup's");
	else if (rc > 0) {
		if (raw != NULL) {
			memcpy(key, raw, 32);
			rc = mx_secrets_key_check(desc, key, e);
			if (rc != 0)
				mx_err_set(e, MX_NO,
				    "the recovery key is neither the "
				    "backup's nor the secret storage's");
		} else
			rc = mx_secrets_pass_key(desc, pass, key, e);
		if (rc == 0)
			rc = mx_keybackup_from_ssss(&c->api, c->sess.user_id,
			    id, key, priv, e);
	}
	mx_secure_free(key);
	json_decref(desc);
	free(id);
	return rc < 0 ? -1 : 0;
}

/* The backup's private key into priv, from the user's secret, checked to
 * be the key of the backup info. */
static int
backup_key(struct mx_ctx *c, const struct opt *o, const json_t *info,
    uint8_t priv[32], struct mx_err *e)
{
	uint8_t *raw = NULL;
	struct mx_err le;
	int is_pass, rc = -1;
	char *s;

	if ((s = mx_cli_recovery_secret(o->passphrase_file,
		 o->recovery_key_stdin, &is_pass, e)) == NULL)
		return -1;
	if (is_pass) {
		rc = backup_key_ssss(c, NULL, s, priv, e);
		goto check;
	}
	raw = mx_secure_alloc(MX_BACKUP_KEY_LEN);
	mx_err_clear(&le);
	if (mx_recovery_key_decode(raw, s, &le) != 0) {
		mx_err_set(e, MX_NO, "not a recovery key: %s", le.msg);
		goto out;
	}
	/* The backup's own key (older accounts), else secret storage's. */
	if (mx_keybackup_key_matches(info, raw)) {
		memcpy(priv, raw, 32);
		rc = 0;
		goto out;
	}
	rc = backup_key_ssss(c, raw, NULL, priv, e);
check:
	/* A key from secret storage must be the current backup's: the
	 * server may show another backup than the one it holds the key of. */
	if (rc == 0 && !mx_keybackup_key_matches(info, priv))
		rc = mx_err_set(e, MX_NO,
		    "the backup key in secret storage is not the key of "
		    "backup %s",
		    mx_json_str(info, "version"));
out:
	mx_secure_free(s);
	if (raw != NULL)
		mx_secure_free(raw);
	return rc;
}

/* Each rejected session, named on stderr (whatever -q: the server gave
 * something forged or damaged). */
static void
backup_rejects(const json_t *rejects)
{
	const json_t *r;
	char *sid, *room;
	size_t i;

	json_array_foreach(rejects, i, r) {
		sid = mx_cli_printable(mx_json_str(r, "session_id"));
		room = mx_cli_printable(mx_json_str(r, "room_id"));
		fprintf(stderr,
		    "mx-keys: backed-up session %s of %s "
		    "rejected: %s\n",
		    sid, room, mx_json_str(r, "reason"));
		free(sid);
		free(room);
	}
}

/* With a backup's key, the profile uploads its room keys to that backup
 * too, as Element does once it holds the key: 1 when it starts to (those
 * held now are marked; the restored ones, from the backup, never are),
 * 0 when it did already, -1 with e. */
static int
backup_follow(struct mx_ctx *c, const json_t *info, struct mx_err *e)
{
	const char *v = mx_json_str(info, "version");

	if (mx_keybackup_uploads_to(c->store, v))
		return 0;
	if (mx_keybackup_enable(c->store, v,
		mx_json_str(json_object_get(info, "auth_data"), "public_key"),
		0, e) != 0)
		return -1;
	return 1;
}

/* Upload what is marked, now (a failure is a warning: the keys go with
 * the next mx-send or mx-sync). */
static void
backup_upload_now(struct mx_ctx *c, const json_t *info)
{
	struct mx_err fe;
	size_t n = 0;

	mx_err_clear(&fe);
	if (mx_keybackup_flush(&c->api, c->store, &n, &fe) != 0)
		mx_cli_note(c, 0, "room keys not backed up yet: %s", fe.msg);
	mx_cli_note(c, 1, "room keys go to backup %s from now on (%zu now)",
	    mx_json_str(info, "version"), n);
}

/* backup restore: every session of the backup, kept as from "backup". */
static int
backup_restore(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	size_t n[MX_KEYBACKUP_NCOUNT];
	uint8_t *priv = mx_secure_alloc(32);
	json_t *info = NULL, *keys = NULL, *rej = json_array(), *j;
	int rc = -1, follow = 0;

	if (backup_info(c, &info, e) != 0 ||
	    backup_key(c, o, info, priv, e) != 0)
		goto out;
	if (mx_api_backup_keys(&c->api, mx_json_str(info, "version"), &keys,
		e) != 0) {
		mx_err_prefix(e, "cannot fetch the backed-up keys");
		goto out;
	}
	/* The key kept (sealed) too, for our own verified devices that ask
	 * for it (mx-verify sas). */
	if ((follow = backup_follow(c, info, e)) < 0 ||
	    mx_keybackup_key_put(c->store, priv, e) != 0 ||
	    mx_keybackup_restore(c->store, keys, priv, n, rej, e) != 0)
		goto out;
	if (follow)
		backup_upload_now(c, info);
	backup_rejects(rej);
	j = json_pack("{s:I,s:I,s:I,s:I}", "restored",
	    (json_int_t)n[MX_KEYBACKUP_NEW], "improved",
	    (json_int_t)n[MX_KEYBACKUP_IMPROVED], "skipped",
	    (json_int_t)n[MX_KEYBACKUP_SKIPPED], "rejected",
	    (json_int_t)n[MX_KEYBACKUP_REJECTED]);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	if (rc == 0 && n[MX_KEYBACKUP_REJECTED] > 0)
		rc = mx_err_set(e, MX_NO,
		    "%zu backed-up session(s) rejected; the others are kept",
		    n[MX_KEYBACKUP_REJECTED]);
out:
	mx_secure_free(priv);
	json_decref(keys);
	json_decref(info);
	json_decref(rej);
	return rc;
}

/* Whether the account has secret storage (errors count as no). */
static int
backup_ssss_exists(struct mx_ctx *c)
{
	json_t *desc = NULL;
	char *id = NULL;
	int rc =
	    mx_secrets_default(&c->api, c->sess.user_id, &id, &desc, NULL);

	json_decref(desc);
	free(id);
	return rc == 1;
}

/* backup create: a new backup, its key printed once (and kept in secret
 * storage with a key for it), and every room key held uploaded to it;
 * later ones follow from mx-send and mx-sync. */
static int
backup_create(struct mx_ctx *c, const struct opt *o, struct mx_err *e)
{
	char rk[MX_RECOVERY_KEY_LEN + 1], *version = NULL, *id = NULL;
	uint8_t *priv = mx_secure_alloc(32), *key = mx_secure_alloc(32);
	struct mx_e2ee *x = NULL;
	json_t *info = NULL, *j;
	struct mx_err fe;
	size_t n = 0;
	int rc = -1;

	/* Another client's backup stays the account's: replacing it would
	 * cut its devices off their own backup. */
	if ((rc = mx_api_backup_version(&c->api, &info, e)) != 0) {
		if (rc > 0)
			mx_err_set(e, MX_NO,
			    "the account has key backup %s already; restore "
			    "from it",
			    mx_json_str(info, "version") ?
				mx_json_str(info, "version") :
				"(no version)");
		rc = -1;
		goto out;
	}
	/* A wrong key for secret storage makes nothing. */
	if ((o->passphrase_file || o->recovery_key_stdin) &&
	    mx_cli_ssss_open(c, o->passphrase_file, o->recovery_key_stdin, key,
		&id, e) != 0) {
		rc = -1;
		goto out;
	}
	if (mx_e2ee_open(&x, c, e) != 0 ||
	    mx_keybackup_create(x, priv, &version, e) != 0) {
		rc = -1;
		goto out;
	}
	mx_err_clear(&fe);
	(void)mx_keybackup_key_put(c->store, priv, &fe);
	if (id == NULL && backup_ssss_exists(c))
		mx_cli_note(c, 0,
		    "the new backup key is not in secret storage: give its "
		    "recovery key or passphrase to keep it there");
	if (id != NULL)
		(void)mx_keybackup_to_ssss(&c->api, c->sess.user_id, id, key,
		    priv, &fe);
	if (fe.status == MX_OK)
		(void)mx_keybackup_flush(&c->api, c->store, &n, &fe);
	/* The key first, whatever the upload did: it is shown only now. */
	mx_recovery_key_encode(rk, priv);
	j = json_pack("{s:s,s:s,s:I,s:b}", "version", version, "recovery_key",
	    rk, "backed_up", (json_int_t)n, "in_secret_storage",
	    id != NULL && fe.status == MX_OK);
	rc = mx_cli_print_json(j, e);
	mx_wipe((char *)mx_json_str(j, "recovery_key"), strlen(rk));
	json_decref(j);
	mx_wipe(rk, sizeof(rk));
	if (rc == 0 && fe.status != MX_OK) {
		*e = fe;
		rc = mx_err_prefix(e,
		    "backup %s made, but its keys are not all up yet (the "
		    "next mx-send or mx-sync tries again)",
		    version);
	}
out:
	mx_e2ee_close(x);
	mx_secure_free(priv);
	mx_secure_free(key);
	json_decref(info);
	free(version);
	free(id);
	return rc;
}

/* backup status | restore | create */
static int
cmd_backup(struct mx_ctx *c, const struct opt *o, int argc, char **argv,
    struct mx_err *e)
{
	int restore = strcmp(argv[0], "restore") == 0;

	(void)argc;
	if (!restore && strcmp(argv[0], "status") != 0 &&
	    strcmp(argv[0], "create") != 0)
		mx_cli_usage(&cli, "unknown backup subcommand '%s'", argv[0]);
	if (strcmp(argv[0], "status") == 0 &&
	    (o->passphrase_file || o->recovery_key_stdin))
		mx_cli_usage(&cli, "backup status takes no key");
	if (o->passphrase_file && o->recovery_key_stdin)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin and --passphrase-file exclude each "
		    "other");
	if (mx_ctx_open(c, OWN_STORE, e) != 0)
		return -1;
	if (strcmp(argv[0], "status") == 0)
		return backup_status(c, e);
	if (strcmp(argv[0], "create") == 0)
		return backup_create(c, o, e);
	return backup_restore(c, o, e);
}

static const struct {
	struct mx_cli_sub sub; /* the name, the operands after it */
	int (*fn)(struct mx_ctx *, const struct opt *, int, char **,
	    struct mx_err *);
} cmds[] = {
	{ { "login", 0, 0 }, cmd_login },
	{ { "logout", 0, 0 }, cmd_logout },
	{ { "whoami", 0, 0 }, cmd_whoami },
	{ { "devices", 0, 1000 }, cmd_devices },
	{ { "trust", 3, 3 }, cmd_trust },
	{ { "accept", 1, 1 }, cmd_accept },
	{ { "rename", 2, 2 }, cmd_rename },
	{ { "export-identity", 0, 0 }, cmd_export_identity },
	{ { "export", 0, 0 }, cmd_export },
	{ { "import", 1, 1 }, cmd_import },
	{ { "delete", 0, 1000 }, cmd_delete },
	{ { "backup", 1, 1 }, cmd_backup },
};

static void
check_opts(const struct opt *o, const char *sub)
{
	int login = strcmp(sub, "login") == 0;
	int del = strcmp(sub, "delete") == 0;

	if (!login &&
	    (o->user || o->homeserver || (o->password_stdin && !del) ||
		o->token_stdin || o->device_name || (o->force && !del)))
		mx_cli_usage(&cli, "'%s' takes no login options", sub);
	if ((o->older_than >= 0 || o->dry_run) && !del)
		mx_cli_usage(&cli,
		    "--older-than and --dry-run are for delete");
	int exp = strcmp(sub, "export") == 0;

	if (o->passphrase_file && !login && !exp &&
	    strcmp(sub, "export-identity") != 0 &&
	    strcmp(sub, "import") != 0 && strcmp(sub, "backup") != 0)
		mx_cli_usage(&cli,
		    "--passphrase-file is for login, export-identity, export, "
		    "import and backup");
	if (o->nroom && !exp && strcmp(sub, "devices") != 0)
		mx_cli_usage(&cli, "--room is for devices and export");
	if (o->output && !exp)
		mx_cli_usage(&cli, "-o is for export");
	if (o->recovery_key_stdin && strcmp(sub, "backup") != 0)
		mx_cli_usage(&cli,
		    "--recovery-key-stdin is for backup restore");
	if ((o->unverified_exit || o->snapshot || o->table) &&
	    strcmp(sub, "devices") != 0)
		mx_cli_usage(&cli,
		    "--unverified-exit, --snapshot and --table are for "
		    "devices");
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { .older_than = -1 };
	struct mx_err e;
	size_t k;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	k = mx_cli_subcommand(&cli, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), argc, argv, i);
	check_opts(&o, argv[i]);
	if (cmds[k].fn(&c, &o, argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(cli.prog, &e);
	mx_ctx_close(&c);
	return rc;
}
