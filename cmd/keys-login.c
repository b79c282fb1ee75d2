/*
 * keys-login: mx-keys login, logout and whoami: the profile's session on
 * the homeserver (spec: "Login", "Logout", "Account management: whoami"),
 * and the store a new profile's login creates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "conf.h"
#include "crypto.h"
#include "devreport.h"
#include "e2ee.h"
#include "json.h"
#include "keys.h"
#include "store.h"
#include "txn.h"
#include "util.h"
#include "banned.h"

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

/* The homeserver to log in to: --homeserver, else discovered from the
 * server name of @user:server, else $MX_HOMESERVER. */
static int
find_homeserver(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
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
int
keys_forget_session(struct mx_ctx *c, struct mx_err *e)
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
replace_session(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
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
	if (keys_forget_session(c, e) != 0)
		return -1;
	mx_session_release(&c->sess);
	return 0;
}

static int
password_login(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
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
token_login(struct mx_ctx *c, const struct keys_opt *o, struct mx_err *e)
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
open_login_store(struct mx_ctx *c, const struct keys_opt *o, int fresh,
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
login_and_keep(struct mx_ctx *c, const struct keys_opt *o, int fresh,
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

int
keys_login(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
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

int
keys_logout(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
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
	return keys_forget_session(c, e);
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
		fp = mx_devreport_fingerprint(ed);
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

int
keys_whoami(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
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
