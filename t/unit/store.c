/*
 * store: round trips, sealing at rest, permissions, passphrases, nested
 * transactions and two processes sharing one store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crypto.h"
#include "store.h"
#include "helpers.h"
#include "tap.h"
#include "util.h"

static char tmpl[] = "/tmp/mx-store-XXXXXX";
static const char *dir;

static char *
path(const char *name)
{
	return mx_xasprintf("%s/%s", dir, name);
}

/* A fresh empty directory under dir. */
static char *
subdir(const char *name)
{
	char *p = path(name);

	mkdir(p, 0700);
	return p;
}

static int
mode_of(const char *name)
{
	struct stat st;
	char *p = path(name);
	int m = stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;

	free(p);
	return m;
}

static int
contains(const char *h, size_t n, const char *needle)
{
	size_t i, k = strlen(needle);

	for (i = 0; i + k <= n; i++)
		if (memcmp(h + i, needle, k) == 0)
			return 1;
	return 0;
}

/* 1 when needle occurs in any file of d. */
static int
found_in_dir(const char *d, const char *needle)
{
	const char *names[] = { "store.db", "store.db-wal", "store.db-shm" };
	struct mx_buf b = MX_BUF_INIT;
	char buf[4096], *p;
	size_t i, n;
	FILE *f;
	int hit = 0;

	for (i = 0; i < 3; i++) {
		p = mx_xasprintf("%s/%s", d, names[i]);
		if ((f = fopen(p, "rb")) != NULL) {
			while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
				mx_buf_add(&b, buf, n);
			fclose(f);
		}
		free(p);
		if (b.len > 0 && contains(b.p, b.len, needle))
			hit = 1;
		mx_buf_reset(&b);
	}
	mx_buf_release(&b);
	return hit;
}

static void
sql(const char *d, const char *q)
{
	char *p = mx_xasprintf("%s/store.db", d);
	sqlite3 *db;

	sqlite3_open(p, &db);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
		printf("# sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	free(p);
}

static void
round_trips(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *v = NULL;
	size_t n = 99;

	mx_err_clear(&e);
	umask(022);
	ok(mx_store_open(&s, dir, NULL, &e) == 0, "open creates the store: %s",
	    e.msg);
	ok(mode_of("store.db") == 0600, "store.db is 0600 under umask 022");
	ok(mode_of("store.key") == 0600, "store.key is 0600 under umask 022");
	ok(mx_store_get(s, "a", "k", &v, &n, &e) == 0, "absent key: 0");
	ok(mx_store_put(s, "a", "k", "hello", 5, &e) == 0, "put");
	ok(mx_store_get(s, "a", "k", &v, &n, &e) == 1 && n == 5,
	    "get finds it");
	is_str(v, "hello", "plain value round trip");
	free(v);
	ok(mx_store_put(s, "a", "k", "", 0, &e) == 0 &&
	    mx_store_get(s, "a", "k", &v, &n, &e) == 1 && n == 0 && *v == 0,
	    "empty value round trip");
	free(v);
	ok(mx_store_put_secret(s, "sess", "tok", "s3cr3t-t0ken-xyz", 16,
	    &e) == 0, "put_secret");
	ok(mx_store_get_secret(s, "sess", "tok", &v, &n, &e) == 1 && n == 16,
	    "get_secret");
	is_str(v, "s3cr3t-t0ken-xyz", "secret round trip");
	mx_secure_free(v);
	ok(mx_store_get(s, "sess", "tok", &v, &n, &e) == -1,
	    "plain get of a sealed value is refused: %s", e.msg);
	ok(mx_store_get_secret(s, "a", "k", &v, &n, &e) == -1,
	    "secret get of a plain value is refused");
	ok(mx_store_del(s, "a", "k", &e) == 0 &&
	    mx_store_get(s, "a", "k", &v, &n, &e) == 0, "del");
	mx_store_put(s, "c", "1", "x", 1, &e);
	mx_store_put(s, "c", "2", "y", 1, &e);
	mx_store_put(s, "d", "1", "z", 1, &e);
	ok(mx_store_clear(s, "c", &e) == 0 &&
	    mx_store_get(s, "c", "2", &v, &n, &e) == 0 &&
	    mx_store_get(s, "d", "1", &v, &n, &e) == 1, "clear one namespace");
	free(v);
	mx_store_close(s);
	ok(!found_in_dir(dir, "s3cr3t-t0ken-xyz"),
	    "the secret is not in the database files in clear");
	ok(found_in_dir(dir, "sess"), "(while the plain namespace is)");
}

static void
reopen_and_move(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *v = NULL;

	mx_err_clear(&e);
	ok(mx_store_open(&s, dir, NULL, &e) == 0, "reopen with the key file");
	ok(mx_store_get_secret(s, "sess", "tok", &v, NULL, &e) == 1,
	    "secret survives reopening");
	is_str(v, "s3cr3t-t0ken-xyz", "same secret");
	mx_secure_free(v);
	mx_store_close(s);
	sql(dir, "INSERT INTO kv SELECT 'sess', 'moved', value, 1 FROM kv "
	    "WHERE ns = 'sess' AND key = 'tok'");
	mx_store_open(&s, dir, NULL, &e);
	ok(mx_store_get_secret(s, "sess", "moved", &v, NULL, &e) == -1,
	    "a sealed value moved to another row does not open: %s", e.msg);
	mx_store_close(s);
	sql(dir, "UPDATE kv SET value = substr(value, 1, 30) || x'00' || "
	    "substr(value, 32) WHERE ns = 'sess' AND key = 'tok'");
	mx_store_open(&s, dir, NULL, &e);
	ok(mx_store_get_secret(s, "sess", "tok", &v, NULL, &e) == -1,
	    "a damaged sealed value does not open");
	mx_store_close(s);
}

static void
permissions(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *db = path("store.db"), *key = path("store.key");

	mx_err_clear(&e);
	chmod(db, 0640);
	ok(mx_store_open(&s, dir, NULL, &e) == -1 && strstr(e.msg,
	    "accessible by others") != NULL && e.status == MX_LOCAL,
	    "group-readable store.db refused: %s", e.msg);
	chmod(db, 0600);
	chmod(key, 0604);
	ok(mx_store_open(&s, dir, NULL, &e) == -1 && strstr(e.msg,
	    "store.key") != NULL, "world-readable store.key refused: %s",
	    e.msg);
	chmod(key, 0600);
	ok(mx_store_open(&s, dir, NULL, &e) == 0, "fine again after chmod");
	mx_store_close(s);
	free(db);
	free(key);
}

static void
passphrase(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *d = subdir("pass"), *v = NULL, *k;

	mx_err_clear(&e);
	ok(mx_store_open(&s, d, "correct horse", &e) == 0,
	    "new store with a passphrase: %s", e.msg);
	mx_store_put_secret(s, "x", "y", "under-pass", 10, &e);
	mx_store_close(s);
	k = mx_xasprintf("%s/store.key", d);
	ok(access(k, F_OK) != 0, "no key file for a passphrase store");
	free(k);
	ok(mx_store_open(&s, d, "wrong horse", &e) == -1,
	    "wrong passphrase refused");
	is_str(e.msg, "wrong store passphrase", "and said so");
	ok(mx_store_open(&s, d, NULL, &e) == -1 && strstr(e.msg,
	    "passphrase") != NULL, "no passphrase refused: %s", e.msg);
	ok(mx_store_open(&s, d, "correct horse", &e) == 0 &&
	    mx_store_get_secret(s, "x", "y", &v, NULL, &e) == 1,
	    "right passphrase opens it");
	is_str(v, "under-pass", "secret under passphrase");
	mx_secure_free(v);
	mx_store_close(s);
	ok(mx_store_open(&s, dir, "some pass", &e) == -1 && strstr(e.msg,
	    "key file") != NULL, "a key-file store refuses a passphrase: %s",
	    e.msg);
	free(d);
}

static void
wrong_key_file(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *d = subdir("kf"), *k = mx_xasprintf("%s/kf/store.key", dir);

	mx_err_clear(&e);
	mx_store_open(&s, d, NULL, &e);
	mx_store_close(s);
	unlink(k);
	ok(mx_store_open(&s, d, NULL, &e) == -1 && strstr(e.msg,
	    "does not match") != NULL, "another key file: %s", e.msg);
	free(d);
	free(k);
}

static void
transactions(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *v = NULL;

	mx_err_clear(&e);
	mx_store_open(&s, dir, NULL, &e);
	mx_store_begin(s, &e);
	mx_store_begin(s, &e);
	mx_store_put(s, "t", "a", "1", 1, &e);
	ok(mx_store_commit(s, &e) == 0, "inner commit");
	mx_store_rollback(s);
	ok(mx_store_get(s, "t", "a", &v, NULL, &e) == 0,
	    "outer rollback undoes the inner commit");
	mx_store_begin(s, &e);
	mx_store_begin(s, &e);
	mx_store_put(s, "t", "b", "1", 1, &e);
	mx_store_rollback(s);
	ok(mx_store_commit(s, &e) == -1, "outer commit after an inner "
	    "rollback fails: %s", e.msg);
	ok(mx_store_get(s, "t", "b", &v, NULL, &e) == 0, "and rolled back");
	ok(mx_store_commit(s, &e) == -1, "commit without begin");
	mx_store_begin(s, &e);
	mx_store_put(s, "t", "c", "1", 1, &e);
	ok(mx_store_commit(s, &e) == 0 &&
	    mx_store_get(s, "t", "c", &v, NULL, &e) == 1, "plain commit");
	free(v);
	mx_store_close(s);
}

static int
bump(struct mx_store *s, struct mx_err *e)
{
	char *v = NULL, buf[32];
	long n = 0;
	int rc;

	if (mx_store_begin(s, e) != 0)
		return -1;
	rc = mx_store_get(s, "t", "counter", &v, NULL, e);
	if (rc > 0)
		n = strtol(v, NULL, 10);
	free(v);
	snprintf(buf, sizeof(buf), "%ld", n + 1);
	if (rc < 0 || mx_store_put(s, "t", "counter", buf, strlen(buf),
	    e) != 0) {
		mx_store_rollback(s);
		return -1;
	}
	return mx_store_commit(s, e);
}

static void
child(void)
{
	struct mx_store *s;
	struct mx_err e;
	int i;

	mx_err_clear(&e);
	if (mx_store_open(&s, dir, NULL, &e) != 0)
		_exit(2);
	for (i = 0; i < 500; i++)
		if (bump(s, &e) != 0) {
			printf("# child: %s\n", e.msg);
			_exit(1);
		}
	mx_store_close(s);
	_exit(0);
}

static void
two_processes(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *v = NULL;
	pid_t p[2];
	int i, st, good = 0;

	fflush(stdout);
	for (i = 0; i < 2; i++)
		if ((p[i] = fork()) == 0)
			child();
	for (i = 0; i < 2; i++)
		if (waitpid(p[i], &st, 0) == p[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
	ok(good == 2, "both processes finished without error");
	mx_err_clear(&e);
	mx_store_open(&s, dir, NULL, &e);
	ok(mx_store_get(s, "t", "counter", &v, NULL, &e) == 1, "counter");
	is_str(v, "1000", "two processes x 500 increments = 1000");
	free(v);
	mx_store_close(s);
}

/* Eight processes create one fresh store at once: one key, all agree. */
static void
racing_creation(void)
{
	struct mx_store *s;
	struct mx_err e;
	char *d = subdir("race"), *v = NULL, key[16];
	pid_t p[8];
	int i, st, good = 0;

	fflush(stdout);
	for (i = 0; i < 8; i++)
		if ((p[i] = fork()) == 0) {
			mx_err_clear(&e);
			snprintf(key, sizeof(key), "k%d", i);
			if (mx_store_open(&s, d, NULL, &e) != 0 ||
			    mx_store_put_secret(s, "r", key, "v", 1, &e) != 0) {
				fprintf(stderr, "# child %d: %s\n", i, e.msg);
				_exit(1);
			}
			mx_store_close(s);
			_exit(0);
		}
	for (i = 0; i < 8; i++)
		if (waitpid(p[i], &st, 0) == p[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
	ok(good == 8, "eight processes created and used one new store");
	mx_err_clear(&e);
	ok(mx_store_open(&s, d, NULL, &e) == 0, "it opens: %s", e.msg);
	for (i = 0, good = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (mx_store_get_secret(s, "r", key, &v, NULL, &e) == 1)
			good++;
		if (v != NULL)
			mx_secure_free(v);
		v = NULL;
	}
	ok(good == 8, "every value opens under the one key");
	mx_store_close(s);
	free(d);
}

static void
schema(void)
{
	struct mx_store *s;
	struct mx_err e;

	mx_err_clear(&e);
	sql(dir, "PRAGMA user_version = 99");
	ok(mx_store_open(&s, dir, NULL, &e) == -1 && strstr(e.msg,
	    "newer") != NULL, "a newer schema is refused: %s", e.msg);
	sql(dir, "PRAGMA user_version = 1");
	ok(mx_store_open(&s, dir, NULL, &e) == 0, "version 1 opens");
	mx_store_close(s);
}

/*
 * Every process rebuilds the WAL index by reading the whole WAL at its
 * first query, so the WAL must stay small across many short-lived
 * connections: 1,000 commits, one per open, leave it under 80 pages.
 */
static void
wal_stays_small(void)
{
	struct mx_store *s;
	struct mx_err e = { 0 };
	struct stat st;
	char *d = subdir("wal"), *w = mx_xasprintf("%s/store.db-wal", d);
	char k[16];
	int i, fails = 0;

	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "%d", i % 50);
		if (mx_store_open(&s, d, NULL, &e) != 0 ||
		    mx_store_put(s, "w", k, "value", 5, &e) != 0)
			fails++;
		mx_store_close(s);
	}
	ok(fails == 0, "1,000 opens with a commit each: %s",
	    fails ? e.msg : "ok");
	if (stat(w, &st) != 0)
		st.st_size = 0;
	ok(st.st_size < 80 * (4096 + 24), "the WAL stays under 80 pages "
	    "(%lld bytes)", (long long)st.st_size);
	free(w);
	free(d);
}

int
main(void)
{
	if (mx_crypto_init() != 0 || (dir = mkdtemp(tmpl)) == NULL)
		return 1;
	round_trips();
	reopen_and_move();
	permissions();
	passphrase();
	wrong_key_file();
	transactions();
	two_processes();
	racing_creation();
	schema();
	wal_stays_small();
	rm_rf(dir);
	return done();
}
