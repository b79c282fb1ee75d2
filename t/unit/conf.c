/*
 * conf: profile paths and names, directory creation and permissions, the
 * stored session and the environment session (no network needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "helpers.h"
#include "tap.h"
#include "util.h"

static char tmpl[] = "/tmp/mx-conf-XXXXXX";
static const char *tmp;

static void
dir_is(const char *profile, const char *want, const char *name)
{
	struct mx_err e;
	char *d;

	mx_err_clear(&e);
	d = mx_conf_profile_dir(profile, &e);
	is_str(d, want, name);
	free(d);
}

static void
paths(void)
{
	struct mx_err e;
	const char *bad[] = { "", ".x", "../x", "a/b", "a b", "é", NULL };
	int i;

	unsetenv("MX_DIR");
	unsetenv("MX_PROFILE");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/h", 1);
	dir_is(NULL, "/h/.local/share/mx/default", "default under HOME");
	setenv("XDG_DATA_HOME", "/x", 1);
	dir_is(NULL, "/x/mx/default", "XDG_DATA_HOME");
	setenv("MX_DIR", "/m", 1);
	dir_is(NULL, "/m/default", "MX_DIR wins");
	setenv("MX_PROFILE", "work", 1);
	dir_is(NULL, "/m/work", "MX_PROFILE");
	dir_is("a.b_c-1", "/m/a.b_c-1", "-p wins over MX_PROFILE");
	setenv("MX_DIR", "", 1);
	dir_is("p", "/x/mx/p", "an empty MX_DIR counts as unset");
	unsetenv("MX_PROFILE");
	for (i = 0; bad[i]; i++) {
		mx_err_clear(&e);
		ok(mx_conf_profile_dir(bad[i], &e) == NULL &&
			e.status == MX_USAGE,
		    "bad profile name '%s'", bad[i]);
	}
}

static int
mode(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void
create_and_refuse(void)
{
	struct mx_ctx c = { 0 };
	struct mx_err e;
	char *base = mx_xasprintf("%s/a/b", tmp), *p;

	mx_err_clear(&e);
	setenv("MX_DIR", base, 1);
	umask(0);
	c.prog = "test";
	ok(mx_ctx_open(&c, 0, &e) == 0, "no flags: nothing created");
	ok(access(base, F_OK) != 0, "(no directory)");
	mx_ctx_close(&c);
	ok(mx_ctx_open(&c, MX_CTX_SESSION, &e) == -1 && e.status == MX_USAGE,
	    "session wanted, no profile: %s", e.msg);
	is_str(e.msg, "not logged in; run mx-keys login", "not logged in");
	mx_ctx_close(&c);
	mx_err_clear(&e);
	ok(mx_ctx_open(&c, MX_CTX_STORE, &e) == -1 && e.status == MX_USAGE,
	    "store of a default profile that does not exist: %s", e.msg);
	ok(access(base, F_OK) != 0, "(nothing created)");
	mx_ctx_close(&c);
	mx_err_clear(&e);
	setenv("MX_PROFILE", "typo", 1);
	ok(mx_ctx_open(&c, MX_CTX_STORE, &e) == -1 && e.status == MX_LOCAL,
	    "a named profile that does not exist: 5");
	is_str(e.msg,
	    "no profile 'typo' (no profiles); mx-keys -p typo login "
	    "makes it",
	    "naming it");
	unsetenv("MX_PROFILE");
	mx_ctx_close(&c);
	mx_err_clear(&e);
	ok(mx_ctx_open(&c, 0, &e) == 0 && mx_ctx_open_store(&c, &e) == 0,
	    "a login creates the store: %s", e.msg);
	mx_ctx_close(&c);
	p = mx_xasprintf("%s/a", tmp);
	ok(mode(p) == 0700 && mode(base) == 0700,
	    "parents made 0700 under umask 0");
	free(p);
	p = mx_xasprintf("%s/default", base);
	ok(mode(p) == 0700, "profile directory 0700");
	chmod(p, 0710);
	ok(mx_ctx_open(&c, MX_CTX_STORE, &e) == -1 && e.status == MX_LOCAL,
	    "group-accessible profile refused");
	mx_ctx_close(&c);
	free(p);
	p = mx_xasprintf("profile directory '%s/default' is accessible by "
			 "others; chmod 700 it",
	    base);
	is_str(e.msg, p, "with the chmod hint");
	free(p);
	p = mx_xasprintf("%s/default", base);
	chmod(p, 0700);
	free(p);
	free(base);
	umask(022);
}

static void
session(void)
{
	struct mx_ctx c = { 0 };
	struct mx_err e;

	mx_err_clear(&e);
	c.prog = "test";
	mx_ctx_open(&c, MX_CTX_STORE, &e);
	c.sess.homeserver = mx_xstrdup("https://hs.example");
	c.sess.user_id = mx_xstrdup("@a:hs.example");
	c.sess.device_id = mx_xstrdup("DEV");
	mx_session_set_token(&c.sess, "tok-123");
	ok(mx_conf_save_session(&c, &e) == 0, "save session");
	mx_ctx_close(&c);
	ok(mx_ctx_open(&c, MX_CTX_SESSION, &e) == 0, "load session: %s",
	    e.msg);
	is_str(c.sess.homeserver, "https://hs.example", "homeserver");
	is_str(c.sess.user_id, "@a:hs.example", "user_id");
	is_str(c.sess.device_id, "DEV", "device_id");
	is_str(c.sess.access_token, "tok-123", "token");
	ok(c.api.token == c.sess.access_token &&
		c.api.hs == c.sess.homeserver && c.api.http == c.http &&
		c.http != NULL,
	    "api points into the session");
	ok(mx_conf_clear_session(&c, &e) == 0, "clear session");
	mx_ctx_close(&c);
	ok(mx_ctx_open(&c, MX_CTX_SESSION, &e) == -1 && e.status == MX_USAGE,
	    "no session after clearing");
	mx_ctx_close(&c);
}

static void
environment(void)
{
	struct mx_ctx c = { 0 };
	struct mx_err e;

	mx_err_clear(&e);
	c.prog = "test";
	setenv("MX_ACCESS_TOKEN", "env-tok", 1);
	unsetenv("MX_HOMESERVER");
	ok(mx_ctx_open(&c, MX_CTX_SESSION, &e) == -1 && e.status == MX_USAGE,
	    "MX_ACCESS_TOKEN without MX_HOMESERVER: %s", e.msg);
	mx_ctx_close(&c);
	setenv("MX_HOMESERVER", "https://env.example//", 1);
	ok(mx_ctx_open(&c, MX_CTX_SESSION, &e) == 0, "environment session");
	is_str(c.sess.homeserver, "https://env.example", "slashes stripped");
	is_str(c.sess.access_token, "env-tok", "token from the environment");
	ok(c.sess.user_id == NULL && c.sess.device_id == NULL,
	    "user and device unknown until whoami");
	ok(c.store == NULL, "no store opened");
	mx_ctx_close(&c);
	c.profile = "other";
	ok(mx_ctx_open(&c, MX_CTX_SESSION | MX_CTX_NO_ENV, &e) == -1 &&
		e.status == MX_USAGE,
	    "MX_CTX_NO_ENV ignores the environment");
	is_str(e.msg, "not logged in; run mx-keys login -p other",
	    "names the profile");
	mx_ctx_close(&c);
	unsetenv("MX_ACCESS_TOKEN");
	unsetenv("MX_HOMESERVER");
}

/* Write n bytes of 'a' (then "\n" when nl) into tmp/name; its path. */
static char *
a_file(const char *name, size_t n, int nl)
{
	char *path = mx_xasprintf("%s/%s", tmp, name);
	FILE *f = fopen(path, "w");
	size_t i;

	for (i = 0; i < n; i++)
		fputc('a', f);
	if (nl)
		fputc('\n', f);
	fclose(f);
	return path;
}

/* A sealed identity line is about 7 KB: a secret file holds one whole. */
static void
secret_files(void)
{
	char *p = a_file("id", 6800, 1), *s;
	struct mx_err e;

	mx_err_clear(&e);
	s = mx_conf_read_secret_file(p, &e);
	ok(s != NULL && strlen(s) == 6800, "a 6800-byte line is read whole");
	if (s != NULL)
		mx_secure_free(s);
	free(p);
	p = a_file("long", 70000, 0);
	ok(mx_conf_read_secret_file(p, &e) == NULL &&
		strstr(e.msg, "longer than 65536 bytes") != NULL,
	    "a line past the limit is refused as such: %s", e.msg);
	free(p);
	p = a_file("empty", 0, 1);
	ok(mx_conf_read_secret_file(p, &e) == NULL, "an empty line refused");
	free(p);
}

int
main(void)
{
	if (mx_crypto_init() != 0 || (tmp = mkdtemp(tmpl)) == NULL)
		return 1;
	paths();
	create_and_refuse();
	session();
	environment();
	secret_files();
	rm_rf(tmp);
	return done();
}
