/*
 * conf: profile directories and the session a program runs with (see
 * conf.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "identity.h"
#include "util.h"
#include "banned.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Profile names: [A-Za-z0-9._-], not empty, no leading dot. */
static int
valid_profile(const char *p)
{
	if (*p == '\0' || *p == '.' || strlen(p) > 64)
		return 0;
	return p[strspn(p,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
		   "6789._-")] == '\0';
}

char *
mx_conf_profile_dir(const char *profile, struct mx_err *e)
{
	const char *base;

	if (profile == NULL && (profile = env("MX_PROFILE")) == NULL)
		profile = "default";
	if (!valid_profile(profile)) {
		mx_err_set(e, MX_USAGE,
		    "bad profile name '%s' (letters, digits, '.', '_', '-'; "
		    "no leading dot)",
		    profile);
		return NULL;
	}
	if ((base = env("MX_DIR")) != NULL)
		return mx_xasprintf("%s/%s", base, profile);
	if ((base = env("XDG_DATA_HOME")) != NULL)
		return mx_xasprintf("%s/mx/%s", base, profile);
	if ((base = env("HOME")) != NULL)
		return mx_xasprintf("%s/.local/share/mx/%s", base, profile);
	mx_err_set(e, MX_USAGE, "neither MX_DIR nor HOME is set");
	return NULL;
}

/* mkdir -p, each directory made here 0700 whatever the umask. */
static int
make_dirs(const char *dir, struct mx_err *e)
{
	char *p = mx_xstrdup(dir), *s, c;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) == 0) {
			if (chmod(p, 0700) != 0)
				rc = mx_err_set(e, MX_LOCAL,
				    "cannot chmod '%s': %s", p,
				    strerror(errno));
		} else if (errno != EEXIST) {
			rc = mx_err_set(e, MX_LOCAL,
			    "cannot create directory '%s': %s", p,
			    strerror(errno));
		}
		if ((*s = c) == '\0')
			break;
	}
	free(p);
	return rc;
}

/* 1 when dir exists and is safe, 0 when absent, -1 when refused. */
static int
check_dir(const char *dir, struct mx_err *e)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return mx_err_set(e, MX_LOCAL, "cannot stat '%s': %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return mx_err_set(e, MX_LOCAL,
		    "profile '%s' is not a directory", dir);
	if (st.st_uid != geteuid())
		return mx_err_set(e, MX_LOCAL,
		    "profile directory '%s' is not owned by you", dir);
	if (st.st_mode & 077)
		return mx_err_set(e, MX_LOCAL,
		    "profile directory '%s' is accessible by others; chmod "
		    "700 it",
		    dir);
	return 1;
}

/* The session of MX_ACCESS_TOKEN + MX_HOMESERVER: 1 when set, 0 when not,
 * -1 when half set. */
static int
env_session(struct mx_session *s, struct mx_err *e)
{
	const char *tok = env("MX_ACCESS_TOKEN"), *hs = env("MX_HOMESERVER");
	size_t n;

	if (tok == NULL)
		return 0;
	if (hs == NULL)
		return mx_err_set(e, MX_USAGE,
		    "MX_ACCESS_TOKEN is set but MX_HOMESERVER is not");
	n = strlen(hs);
	while (n > 0 && hs[n - 1] == '/')
		n--;
	s->homeserver = mx_xstrndup(hs, n);
	mx_session_set_token(s, tok);
	return 1;
}

/* The store's session: 1 when there is one, 0 when not, -1 on error. */
static int
store_session(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_session *s = &c->sess;
	char *tok = NULL;
	int rc;

	rc = mx_store_get_secret(c->store, "session", "access_token", &tok,
	    NULL, e);
	if (rc <= 0)
		return rc;
	mx_session_set_token(s, tok);
	mx_secure_free(tok);
	if (mx_store_get(c->store, "session", "homeserver", &s->homeserver,
		NULL, e) <= 0 ||
	    mx_store_get(c->store, "session", "user_id", &s->user_id, NULL,
		e) < 0 ||
	    mx_store_get(c->store, "session", "device_id", &s->device_id, NULL,
		e) < 0) {
		if (s->homeserver == NULL)
			mx_err_set(e, MX_LOCAL,
			    "store of '%s': session has no homeserver",
			    c->dir);
		return -1;
	}
	return 1;
}

int
mx_conf_store_has_passphrase(const char *dir)
{
	char *db = mx_xasprintf("%s/store.db", dir);
	char *key = mx_xasprintf("%s/store.key", dir);
	int rc = access(db, F_OK) == 0 && access(key, F_OK) != 0;

	free(db);
	free(key);
	return rc;
}

/* A sealed identity line is about 7 KB; passphrases are shorter. */
#define SECRET_FILE_MAX 65536

char *
mx_conf_read_secret_file(const char *path, struct mx_err *e)
{
	char *buf = mx_secure_alloc(SECRET_FILE_MAX + 1);
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot read '%s': %s", path,
		    strerror(errno));
		mx_secure_free(buf);
		return NULL;
	}
	n = fread(buf, 1, SECRET_FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	/* A line cut by the limit would be a wrong secret, blamed on the
	 * passphrase: say what happened instead. */
	if (strcspn(buf, "\r\n") == SECRET_FILE_MAX) {
		mx_err_set(e, MX_LOCAL,
		    "the first line of '%s' is longer "
		    "than %d bytes",
		    path, SECRET_FILE_MAX);
		mx_secure_free(buf);
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		mx_err_set(e, MX_LOCAL, "'%s' holds no passphrase", path);
		mx_secure_free(buf);
		return NULL;
	}
	return buf;
}

/* Open the store, creating the profile when asked; 0 without a store when
 * the profile does not exist and need not be created.  The store key comes
 * from c->store_pass, else the file MX_STORE_PASSPHRASE_FILE names, else
 * the profile's key file. */
static int
open_store(struct mx_ctx *c, int create, struct mx_err *e)
{
	const char *pf = env("MX_STORE_PASSPHRASE_FILE");
	char *pass = NULL;
	int rc;

	if ((rc = check_dir(c->dir, e)) < 0)
		return -1;
	if (rc == 0 && !create)
		return 0;
	if (rc == 0 && (make_dirs(c->dir, e) != 0 || check_dir(c->dir, e) < 0))
		return -1;
	if (c->store_pass == NULL && pf != NULL &&
	    (pass = mx_conf_read_secret_file(pf, e)) == NULL)
		return -1;
	/* A store sealed under a passphrase has no key file: ask for it. */
	if (c->store_pass == NULL && pass == NULL && c->ask != NULL &&
	    mx_conf_store_has_passphrase(c->dir)) {
		char *prompt =
		    mx_xasprintf("passphrase of the store of '%s'", c->dir);

		pass = c->ask(prompt, e);
		free(prompt);
		/* No one to ask: the store's own refusal says what to set. */
		if (pass == NULL && e->status != MX_USAGE)
			return -1;
		mx_err_clear(e);
	}
	rc = mx_store_open(&c->store, c->dir,
	    c->store_pass ? c->store_pass : pass, e);
	mx_secure_free(pass);
	return rc;
}

/* MX_IDENTITY: the session and the device's account from a sealed
 * identity (the line itself, or a file holding it), in a store that lives
 * in memory only; the account waits in c for mx_e2ee_open. */
static int
identity_session(struct mx_ctx *c, const char *id, struct mx_err *e)
{
	const char *pf = env("MX_IDENTITY_PASSPHRASE_FILE");
	const char *pv = env("MX_IDENTITY_PASSPHRASE");
	char *pass = NULL, *line = NULL;
	int rc = -1;

	if (pf == NULL && pv == NULL)
		return mx_err_set(e, MX_USAGE,
		    "MX_IDENTITY needs MX_IDENTITY_PASSPHRASE_FILE or "
		    "MX_IDENTITY_PASSPHRASE");
	if (pf != NULL && (pass = mx_conf_read_secret_file(pf, e)) == NULL)
		return -1;
	if (strncmp(id, MX_IDENTITY_PREFIX, strlen(MX_IDENTITY_PREFIX)) == 0 ||
	    (line = mx_conf_read_secret_file(id, e)) != NULL)
		rc = mx_identity_session(line ? line : id, pass ? pass : pv,
		    &c->sess, &c->identity_account, &c->identity_account_len,
		    e);
	if (rc == 0)
		rc = mx_store_open_memory(&c->store, e);
	mx_secure_free(pass);
	mx_secure_free(line);
	return rc;
}

static int
load_session(struct mx_ctx *c, unsigned flags, struct mx_err *e)
{
	int rc = 0;

	if (!(flags & MX_CTX_NO_ENV) && (rc = env_session(&c->sess, e)) < 0)
		return -1;
	if (rc == 0 && (flags & MX_CTX_SESSION) && c->store == NULL &&
	    open_store(c, 0, e) != 0)
		return -1;
	if (rc == 0 && c->store != NULL && (rc = store_session(c, e)) < 0)
		return -1;
	if (rc == 0 && (flags & MX_CTX_SESSION))
		return mx_err_set(e, MX_USAGE,
		    "not logged in; run mx-keys login%s%s",
		    c->profile ? " -p " : "", c->profile ? c->profile : "");
	return 0;
}

/* The profile of c does not exist: a named one is a mistake, said with
 * the profiles there are; the default one is not logged in yet. */
static int
no_profile(struct mx_ctx *c, struct mx_err *e)
{
	const char *name = c->profile ? c->profile : env("MX_PROFILE");
	char *base = mx_xstrdup(c->dir), *slash = strrchr(base, '/'), *db;
	struct mx_buf known = MX_BUF_INIT;
	struct dirent *d;
	DIR *dir;

	if (name == NULL) {
		free(base);
		return mx_err_set(e, MX_USAGE,
		    "not logged in; run mx-keys login");
	}
	if (slash != NULL)
		*slash = '\0';
	if ((dir = opendir(base)) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			db = mx_xasprintf("%s/%s/store.db", base, d->d_name);
			if (access(db, F_OK) == 0)
				mx_buf_addf(&known, "%s%s",
				    known.len ? ", " : "", d->d_name);
			free(db);
		}
		closedir(dir);
	}
	mx_err_set(e, MX_LOCAL,
	    "no profile '%s' (%s%s); mx-keys -p %s login makes it", name,
	    known.len ? "profiles: " : "no profiles", known.len ? known.p : "",
	    name);
	mx_buf_release(&known);
	free(base);
	return -1;
}

/* Open the store of a profile that exists (only mx-keys login makes one:
 * mx_ctx_open_store). */
static int
open_profile(struct mx_ctx *c, struct mx_err *e)
{
	int rc = check_dir(c->dir, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return no_profile(c, e);
	return open_store(c, 0, e);
}

int
mx_ctx_open(struct mx_ctx *c, unsigned flags, struct mx_err *e)
{
	struct mx_http_opts o = { 0 };

	const char *id = env("MX_IDENTITY");

	if ((c->dir = mx_conf_profile_dir(c->profile, e)) == NULL)
		return -1;
	if (!(flags & MX_CTX_NO_ENV) && id != NULL) {
		if (identity_session(c, id, e) != 0)
			return -1;
	} else if (((flags & MX_CTX_STORE) && open_profile(c, e) != 0) ||
	    load_session(c, flags, e) != 0)
		return -1;
	o.notice = c->notice;
	o.insecure_http = c->insecure_http;
	if ((c->http = mx_http_new(&o)) == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot set up libcurl");
	c->api.http = c->http;
	c->api.hs = c->sess.homeserver;
	c->api.token = c->sess.access_token;
	return 0;
}

int
mx_ctx_open_store(struct mx_ctx *c, struct mx_err *e)
{
	return open_store(c, 1, e);
}

void
mx_ctx_close(struct mx_ctx *c)
{
	mx_session_release(&c->sess);
	if (c->identity_account != NULL)
		mx_secure_free(c->identity_account);
	c->identity_account = NULL;
	mx_store_close(c->store);
	c->store = NULL;
	mx_http_free(c->http);
	c->http = NULL;
	free(c->dir);
	c->dir = NULL;
	memset(&c->api, 0, sizeof(c->api));
}

int
mx_ctx_whoami(struct mx_ctx *c, struct mx_err *e)
{
	char *user = NULL, *dev = NULL;

	if (c->sess.user_id != NULL && c->sess.device_id != NULL)
		return 0;
	if (mx_api_whoami(&c->api, &user, &dev, e) != 0)
		return -1;
	if (c->sess.user_id == NULL)
		c->sess.user_id = user;
	else
		free(user);
	if (c->sess.device_id == NULL)
		c->sess.device_id = dev;
	else
		free(dev);
	return 0;
}

static int
put_str(struct mx_ctx *c, const char *key, const char *v, struct mx_err *e)
{
	if (v == NULL)
		return mx_store_del(c->store, "session", key, e);
	return mx_store_put(c->store, "session", key, v, strlen(v), e);
}

int
mx_conf_save_session(struct mx_ctx *c, struct mx_err *e)
{
	struct mx_session *s = &c->sess;

	if (c->store == NULL)
		return mx_err_set(e, MX_LOCAL,
		    "no store to save the session in");
	if (mx_store_begin(c->store, e) != 0)
		return -1;
	if (mx_store_clear(c->store, "session", e) != 0 ||
	    put_str(c, "homeserver", s->homeserver, e) != 0 ||
	    put_str(c, "user_id", s->user_id, e) != 0 ||
	    put_str(c, "device_id", s->device_id, e) != 0 ||
	    mx_store_put_secret(c->store, "session", "access_token",
		s->access_token, strlen(s->access_token), e) != 0) {
		mx_store_rollback(c->store);
		return -1;
	}
	return mx_store_commit(c->store, e);
}

int
mx_conf_clear_session(struct mx_ctx *c, struct mx_err *e)
{
	if (c->store == NULL)
		return 0;
	return mx_store_clear(c->store, "session", e);
}
