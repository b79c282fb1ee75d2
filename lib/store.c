/*
 * store: the per-profile SQLite database and its sealed values (see
 * store.h).
 *
 * Durability: the database runs in WAL mode with synchronous=FULL.  NORMAL
 * is crash-safe against a killed process, but a power loss may drop the
 * last commits; the store keeps Megolm ratchet indexes that must be on disk
 * before the ciphertext using them leaves the process, so every commit is
 * synced.  A commit costs one fsync, which a command-line tool can afford.
 *
 * Sealed values: nonce (24 random bytes) || XChaCha20-Poly1305 ciphertext,
 * with ns "\0" key as associated data so a value copied to another row does
 * not open.  A "verifier" row in the meta namespace, sealed when the store
 * key is first used, tells a wrong key or passphrase apart from corruption.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "crypto.h"
#include "store.h"
#include "util.h"
#include "banned.h"

#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SALT_LEN crypto_pwhash_SALTBYTES
#define BUSY_MS 10000
#define WAL_KEEP 64 /* WAL frames a closing writer leaves */
#define VERIFIER "mx store key verifier v1"

struct mx_store {
	sqlite3 *db;
	char *path;	    /* store.db, for messages */
	unsigned char *key; /* KEY_LEN bytes of secure memory */
	int depth;	    /* nesting of mx_store_begin */
	int doomed;	    /* an inner rollback: the outermost commit
				   rolls back instead */
	int lax;	    /* synchronous = NORMAL (mx_store_set_durable) */
	int restore;	    /* lower it again when this transaction ends */
	int wal_frames;	    /* WAL size after this connection's last
				   commit */
};

/*
 * The schema, one entry per version, applied in order inside one
 * transaction; PRAGMA user_version records how far a store has come.  Later
 * versions (device lists, Olm and Megolm sessions) append here; an entry is
 * never edited once released.
 */
static const char *const migrations[] = {
	/* v1: namespaced values; secret rows hold sealed blobs. */
	"CREATE TABLE kv (  ns TEXT NOT NULL,  key TEXT NOT NULL,  value BLOB "
	"NOT NULL,  secret INTEGER NOT NULL DEFAULT 0,  PRIMARY KEY (ns, "
	"key)) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int
db_err(struct mx_store *s, struct mx_err *e, const char *what)
{
	int sys = sqlite3_system_errno(s->db);

	/* SQLite's "disk I/O error" alone does not say the disk is full. */
	if (sys != 0 && (sqlite3_errcode(s->db) & 0xff) == SQLITE_IOERR)
		return mx_err_set(e, MX_LOCAL, "store '%s': %s: %s (%s)",
		    s->path, what, sqlite3_errmsg(s->db), strerror(sys));
	return mx_err_set(e, MX_LOCAL, "store '%s': %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
}

static int
exec(struct mx_store *s, const char *sql, struct mx_err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, e, sql);
	return 0;
}

/* Create path 0600 whatever the umask, or check that the one there is not
 * readable by group or others. */
static int
check_file(const char *path, int create, struct mx_err *e)
{
	struct stat st;
	int fd;

	if (create) {
		fd = open(path,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (fchmod(fd, 0600) != 0) {
				close(fd);
				return mx_err_set(e, MX_LOCAL,
				    "cannot chmod '%s': %s", path,
				    strerror(errno));
			}
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return mx_err_set(e, MX_LOCAL,
			    "cannot create '%s': %s", path, strerror(errno));
	}
	if (lstat(path, &st) != 0)
		return mx_err_set(e, MX_LOCAL, "cannot stat '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return mx_err_set(e, MX_LOCAL, "'%s' is not a regular file",
		    path);
	if (st.st_mode & 077)
		return mx_err_set(e, MX_LOCAL,
		    "'%s' is accessible by others; chmod 600 it", path);
	return 0;
}

static int
get_version(struct mx_store *s, int *v, struct mx_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(s, e, "user_version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(s, e, "user_version");
	return 0;
}

/* Bring the schema up to SCHEMA_VERSION. */
static int
migrate(struct mx_store *s, struct mx_err *e)
{
	char sql[64];
	int v, rc = -1;

	/* The common case, an up-to-date store, is a read: no write lock,
	 * no commit.  Otherwise check again under the lock. */
	if (get_version(s, &v, e) != 0)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (mx_store_begin(s, e) != 0)
		return -1;
	if (get_version(s, &v, e) != 0)
		goto out;
	if (v > SCHEMA_VERSION) {
		mx_err_set(e, MX_LOCAL,
		    "store '%s' has schema version %d, newer than this mx "
		    "knows (%d)",
		    s->path, v, SCHEMA_VERSION);
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (exec(s, migrations[v], e) != 0)
			goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	if (exec(s, sql, e) != 0)
		goto out;
	return mx_store_commit(s, e);
out:
	mx_store_rollback(s);
	return rc;
}

/*
 * Switch to WAL.  The switch of a new database needs the exclusive lock,
 * and SQLite answers SQLITE_BUSY there without calling the busy handler
 * when another process opens the same new store at that moment: retry for
 * as long as the busy timeout.  Once in WAL the mode is persistent and this
 * is a read.
 */
static int
set_wal(struct mx_store *s, struct mx_err *e)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	sqlite3_stmt *st;
	const char *mode;
	int i, rc;

	for (i = 0; i < BUSY_MS / 10; i++) {
		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1,
			&st, NULL) != SQLITE_OK)
			return db_err(s, e, "journal_mode");
		rc = sqlite3_step(st);
		mode = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(st, 0) :
		    NULL;
		if (mode != NULL && strcmp(mode, "wal") == 0)
			rc = 0;
		else
			rc = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? 1 : -1;
		sqlite3_finalize(st);
		if (rc <= 0)
			return rc == 0 ? 0 : db_err(s, e, "journal_mode");
		nanosleep(&pause, NULL);
	}
	return db_err(s, e, "journal_mode");
}

/*
 * After each commit: note the WAL's size, and checkpoint at SQLite's usual
 * threshold (this hook replaces wal_autocheckpoint) for a connection that
 * lives long, like mx-sync --follow.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct mx_store *s = arg;

	s->wal_frames = frames;
	if (frames >= 1000)
		(void)sqlite3_wal_checkpoint_v2(db, name,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static int
open_db(struct mx_store *s, struct mx_err *e)
{
	static const char pragmas[] =
	    "PRAGMA synchronous = FULL;PRAGMA foreign_keys = ON;";

	if (sqlite3_open_v2(s->path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
		NULL) != SQLITE_OK)
		return db_err(s, e, "cannot open");
	sqlite3_busy_timeout(s->db, BUSY_MS);
	/* Keep the WAL when the last connection closes: checkpointing and
	 * deleting it at every exit, then recreating it at the next start,
	 * costs a tool that runs once per message several fsyncs.  The WAL
	 * is kept small instead (wal_hook, mx_store_close). */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(s->db, wal_hook, s);
	if (set_wal(s, e) != 0 || exec(s, pragmas, e) != 0)
		return -1;
	return migrate(s, e);
}

/* Read exactly KEY_LEN bytes of the key file into s->key. */
static int
read_key(struct mx_store *s, const char *path, struct mx_err *e)
{
	ssize_t n;
	int fd;

	if (check_file(path, 0, e) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return mx_err_set(e, MX_LOCAL, "cannot open '%s': %s", path,
		    strerror(errno));
	n = read(fd, s->key, KEY_LEN);
	close(fd);
	if (n != (ssize_t)KEY_LEN)
		return mx_err_set(e, MX_LOCAL,
		    "store key '%s' is damaged (not %d bytes)", path,
		    (int)KEY_LEN);
	return 0;
}

/*
 * A fresh random key file: written whole to a temporary file, then linked
 * into place, so a concurrent process sees either no key file or a complete
 * one.  Losing the race is fine: the winner's key is read back.
 */
static int
make_key(struct mx_store *s, const char *path, struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.XXXXXX", path);
	int fd, rc = -1;

	if ((fd = mkstemp(tmp)) < 0) {
		mx_err_set(e, MX_LOCAL, "cannot create '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	randombytes_buf(s->key, KEY_LEN);
	if (fchmod(fd, 0600) != 0 ||
	    write(fd, s->key, KEY_LEN) != (ssize_t)KEY_LEN || fsync(fd) != 0) {
		mx_err_set(e, MX_LOCAL, "cannot write '%s': %s", tmp,
		    strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (link(tmp, path) == 0)
		rc = 0;
	else if (errno == EEXIST)
		rc = read_key(s, path, e);
	else
		mx_err_set(e, MX_LOCAL, "cannot create '%s': %s", path,
		    strerror(errno));
out:
	if (fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int
key_from_file(struct mx_store *s, const char *dir, struct mx_err *e)
{
	char *path = mx_xasprintf("%s/store.key", dir);
	int rc;

	if (access(path, F_OK) == 0)
		rc = read_key(s, path, e);
	else if (errno == ENOENT)
		rc = make_key(s, path, e);
	else
		rc = mx_err_set(e, MX_LOCAL, "cannot access '%s': %s", path,
		    strerror(errno));
	free(path);
	return rc;
}

/* Parameters of argon2id, kept in the meta row "kdf" as
 * "argon2id <opslimit> <memlimit> <salt hex>". */
struct kdf {
	unsigned long long ops;
	size_t mem;
	unsigned char salt[SALT_LEN];
};

static int
kdf_parse(const char *v, struct kdf *k)
{
	char hex[2 * SALT_LEN + 1];
	size_t n;

	if (sscanf(v, "argon2id %llu %zu %32s", &k->ops, &k->mem, hex) != 3)
		return -1;
	/* No more than kdf_new writes: the row is read before anything is
	 * authenticated, and must not make mx allocate or spin. */
	if (k->ops < 1 || k->ops > crypto_pwhash_OPSLIMIT_INTERACTIVE ||
	    k->mem < crypto_pwhash_MEMLIMIT_MIN ||
	    k->mem > crypto_pwhash_MEMLIMIT_INTERACTIVE)
		return -1;
	if (sodium_hex2bin(k->salt, SALT_LEN, hex, strlen(hex), NULL, &n,
		NULL) != 0 ||
	    n != SALT_LEN)
		return -1;
	return 0;
}

static int
kdf_derive(struct mx_store *s, const struct kdf *k, const char *pass,
    struct mx_err *e)
{
	if (crypto_pwhash(s->key, KEY_LEN, pass, strlen(pass), k->salt, k->ops,
		k->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return mx_err_set(e, MX_LOCAL,
		    "cannot derive the store key (out of memory)");
	return 0;
}

/* A new passphrase store: fresh salt, parameters recorded. */
static int
kdf_new(struct mx_store *s, const char *pass, struct mx_err *e)
{
	char hex[2 * SALT_LEN + 1], *v;
	struct kdf k;
	int rc;

	k.ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	k.mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	randombytes_buf(k.salt, SALT_LEN);
	sodium_bin2hex(hex, sizeof(hex), k.salt, SALT_LEN);
	v = mx_xasprintf("argon2id %llu %zu %s", k.ops, k.mem, hex);
	rc = mx_store_put(s, "meta", "kdf", v, strlen(v), e);
	free(v);
	if (rc != 0)
		return -1;
	return kdf_derive(s, &k, pass, e);
}

/* Seal len bytes of val for row (ns, key): a new buffer of
 * NONCE_LEN + len + TAG_LEN bytes (caller frees). */
static unsigned char *
seal(struct mx_store *s, const char *ns, const char *key, const void *val,
    size_t len, size_t *outlen)
{
	struct mx_buf ad = MX_BUF_INIT;
	unsigned char *out = mx_xmalloc(NONCE_LEN + len + TAG_LEN);
	unsigned long long clen;

	mx_buf_adds(&ad, ns);
	mx_buf_add(&ad, "", 1);
	mx_buf_adds(&ad, key);
	randombytes_buf(out, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_LEN, &clen, val,
	    len, (unsigned char *)ad.p, ad.len, NULL, out, s->key);
	*outlen = NONCE_LEN + (size_t)clen;
	mx_buf_release(&ad);
	return out;
}

/* Open a sealed blob into secure memory; NULL when it does not
 * authenticate (wrong key, wrong row, damaged). */
static char *
unseal(struct mx_store *s, const char *ns, const char *key,
    const unsigned char *in, size_t n, size_t *len)
{
	struct mx_buf ad = MX_BUF_INIT;
	unsigned long long plen;
	char *out;

	if (n < NONCE_LEN + TAG_LEN)
		return NULL;
	mx_buf_adds(&ad, ns);
	mx_buf_add(&ad, "", 1);
	mx_buf_adds(&ad, key);
	out = mx_secure_alloc(n - NONCE_LEN - TAG_LEN + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out,
		&plen, NULL, in + NONCE_LEN, n - NONCE_LEN,
		(unsigned char *)ad.p, ad.len, in, s->key) != 0) {
		mx_secure_free(out);
		out = NULL;
	} else {
		out[plen] = '\0';
		*len = (size_t)plen;
	}
	mx_buf_release(&ad);
	return out;
}

#define UNSEAL_FAILED (-2)

/*
 * Read row (ns, key), which must be secret or plain as said: 1 and *val
 * when present, 0 when absent, -1 on error, UNSEAL_FAILED (e set) when a
 * sealed value does not open.
 */
static int
get_row(struct mx_store *s, const char *ns, const char *key, int secret,
    char **val, size_t *len, struct mx_err *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	size_t n, dummy;
	int rc = -1;

	if (len == NULL)
		len = &dummy;
	if (sqlite3_prepare_v2(s->db,
		"SELECT value, secret FROM kv WHERE ns = ? AND key = ?", -1,
		&st, NULL) != SQLITE_OK)
		return db_err(s, e, "select");
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		rc = 0;
		goto out;
	case SQLITE_ROW:
		break;
	default:
		db_err(s, e, "select");
		goto out;
	}
	p = sqlite3_column_blob(st, 0);
	n = (size_t)sqlite3_column_bytes(st, 0);
	if ((sqlite3_column_int(st, 1) != 0) != (secret != 0)) {
		mx_err_set(e, MX_LOCAL, "store '%s': value %s/%s is %s",
		    s->path, ns, key, secret ? "not sealed" : "sealed");
		goto out;
	}
	if (!secret) {
		*val = mx_xmalloc(n + 1);
		memcpy(*val, p ? (const void *)p : "", n);
		(*val)[n] = '\0';
		*len = n;
		rc = 1;
	} else if ((*val = unseal(s, ns, key, p, n, len)) != NULL) {
		rc = 1;
	} else {
		mx_err_set(e, MX_LOCAL,
		    "store '%s': sealed value %s/%s cannot be opened (damaged "
		    "or moved)",
		    s->path, ns, key);
		rc = UNSEAL_FAILED;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* Write a row: replace one of the same key, or (keep) leave it and
 * return 0, else 1 for a row added. */
static int
put_row(struct mx_store *s, const char *ns, const char *key, const void *val,
    size_t len, int secret, int keep, struct mx_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		keep ? "INSERT OR IGNORE INTO kv (ns, key, value, secret) "
		       "VALUES (?, ?, ?, ?)" :
		       "INSERT OR REPLACE INTO kv (ns, key, value, secret) "
		       "VALUES (?, ?, ?, ?)",
		-1, &st, NULL) != SQLITE_OK)
		return db_err(s, e, "insert");
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, len ? val : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, secret);
	rc = sqlite3_step(st) == SQLITE_DONE ?
	    (keep ? sqlite3_changes(s->db) > 0 : 0) :
	    db_err(s, e, "insert");
	sqlite3_finalize(st);
	return rc;
}

/* Check the verifier row against s->key, writing it on first use. */
static int
verify_key(struct mx_store *s, int pass, struct mx_err *e)
{
	char *v = NULL;
	size_t n;
	int rc;

	rc = get_row(s, "meta", "verifier", 1, &v, &n, e);
	if (rc == 0)
		return mx_store_put_secret(s, "meta", "verifier", VERIFIER,
		    strlen(VERIFIER), e);
	if (rc == UNSEAL_FAILED && pass)
		return mx_err_set(e, MX_LOCAL, "wrong store passphrase");
	if (rc == UNSEAL_FAILED)
		return mx_err_set(e, MX_LOCAL,
		    "the store key file does not match the store '%s'",
		    s->path);
	if (rc < 0)
		return -1;
	rc = n == strlen(VERIFIER) && memcmp(v, VERIFIER, n) == 0 ?
	    0 :
	    mx_err_set(e, MX_LOCAL, "store '%s': bad key verifier", s->path);
	mx_secure_free(v);
	return rc;
}

/* Set s->key from the passphrase or the key file, under the write lock so
 * that two processes creating one store agree. */
static int
setup_key(struct mx_store *s, const char *dir, const char *pass,
    struct mx_err *e)
{
	char *kdf = NULL, *kpath = mx_xasprintf("%s/store.key", dir);
	struct kdf k;
	int rc;

	if (mx_store_begin(s, e) != 0)
		goto fail;
	if ((rc = get_row(s, "meta", "kdf", 0, &kdf, NULL, e)) < 0)
		goto fail;
	if (rc > 0 && pass == NULL)
		mx_err_set(e, MX_LOCAL,
		    "store '%s' is protected by a passphrase "
		    "(MX_STORE_PASSPHRASE_FILE)",
		    s->path);
	else if (rc > 0 && kdf_parse(kdf, &k) != 0)
		mx_err_set(e, MX_LOCAL, "store '%s': bad kdf parameters",
		    s->path);
	else if (rc > 0)
		rc = kdf_derive(s, &k, pass, e);
	else if (pass != NULL && access(kpath, F_OK) == 0)
		rc = mx_err_set(e, MX_LOCAL,
		    "store '%s' uses the key file '%s', not a passphrase",
		    s->path, kpath);
	else if (pass != NULL)
		rc = kdf_new(s, pass, e);
	else
		rc = key_from_file(s, dir, e);
	if (rc != 0 || (rc = verify_key(s, pass != NULL, e)) != 0)
		goto fail;
	free(kdf);
	free(kpath);
	return mx_store_commit(s, e);
fail:
	mx_store_rollback(s);
	free(kdf);
	free(kpath);
	return -1;
}

int
mx_store_open(struct mx_store **sp, const char *dir, const char *passphrase,
    struct mx_err *e)
{
	struct mx_store *s = mx_xcalloc(1, sizeof(*s));

	*sp = NULL;
	s->path = mx_xasprintf("%s/store.db", dir);
	s->key = mx_secure_alloc(KEY_LEN);
	if (check_file(s->path, 1, e) != 0 || open_db(s, e) != 0 ||
	    setup_key(s, dir, passphrase, e) != 0) {
		mx_store_close(s);
		return -1;
	}
	*sp = s;
	return 0;
}

int
mx_store_open_memory(struct mx_store **sp, struct mx_err *e)
{
	struct mx_store *s = mx_xcalloc(1, sizeof(*s));

	*sp = NULL;
	s->path = mx_xstrdup(":memory:");
	s->key = mx_secure_alloc(KEY_LEN);
	mx_random(s->key, KEY_LEN);
	s->lax = 1; /* nothing here survives the process anyway */
	if (sqlite3_open_v2(s->path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		NULL) != SQLITE_OK) {
		db_err(s, e, "cannot open");
		mx_store_close(s);
		return -1;
	}
	if (migrate(s, e) != 0) {
		mx_store_close(s);
		return -1;
	}
	*sp = s;
	return 0;
}

int
mx_store_is_memory(const struct mx_store *s)
{
	return strcmp(s->path, ":memory:") == 0;
}

void
mx_store_close(struct mx_store *s)
{
	if (s == NULL)
		return;
	if (s->depth > 0)
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* The first connection of every process rebuilds the WAL index by
	 * reading every frame of the WAL, and a checkpoint that a short-lived
	 * connection makes is forgotten by that rebuild (the WAL only
	 * restarts at the next write of the same connection): left alone, the
	 * WAL grows without bound and a plain mx-send spent 2.4 ms reading
	 * 4 MB of it at start.  So a writer that leaves more than WAL_KEEP
	 * frames empties it, unless another connection is using it right now
	 * (no waiting: the next writer will). */
	if (s->wal_frames > WAL_KEEP) {
		sqlite3_busy_timeout(s->db, 0);
		(void)sqlite3_wal_checkpoint_v2(s->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	sqlite3_close_v2(s->db);
	mx_secure_free(s->key);
	free(s->path);
	free(s);
}

int
mx_store_get(struct mx_store *s, const char *ns, const char *key, char **val,
    size_t *len, struct mx_err *e)
{
	return get_row(s, ns, key, 0, val, len, e);
}

int
mx_store_put(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e)
{
	return put_row(s, ns, key, val, len, 0, 0, e);
}

int
mx_store_add(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e)
{
	return put_row(s, ns, key, val, len, 0, 1, e);
}

int
mx_store_del(struct mx_store *s, const char *ns, const char *key,
    struct mx_err *e)
{
	return mx_store_take(s, ns, key, e) < 0 ? -1 : 0;
}

int
mx_store_take(struct mx_store *s, const char *ns, const char *key,
    struct mx_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		"DELETE FROM kv WHERE ns = ? AND key = ?", -1, &st,
		NULL) != SQLITE_OK)
		return db_err(s, e, "delete");
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	/* One statement: of two processes deleting the same row, one sees
	 * it go and the other sees nothing. */
	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) > 0 :
					       db_err(s, e, "delete");
	sqlite3_finalize(st);
	return rc;
}

int
mx_store_get_secret(struct mx_store *s, const char *ns, const char *key,
    char **val, size_t *len, struct mx_err *e)
{
	int rc = get_row(s, ns, key, 1, val, len, e);

	return rc == UNSEAL_FAILED ? -1 : rc;
}

int
mx_store_put_secret(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e)
{
	unsigned char *sealed;
	size_t n;
	int rc;

	sealed = seal(s, ns, key, val, len, &n);
	rc = put_row(s, ns, key, sealed, n, 1, 0, e);
	free(sealed);
	return rc;
}

int
mx_store_put_secret_buf(struct mx_store *s, const char *ns, const char *key,
    struct mx_buf *b, struct mx_err *e)
{
	int rc = mx_store_put_secret(s, ns, key, b->p, b->len, e);

	mx_buf_release_wipe(b);
	return rc;
}

/* After a durable transaction: back to the connection's sync level. */
static void
relax(struct mx_store *s)
{
	if (s->restore)
		(void)sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL,
		    NULL, NULL);
	s->restore = 0;
}

int
mx_store_begin(struct mx_store *s, struct mx_err *e)
{
	if (s->depth == 0) {
		if (exec(s, "BEGIN IMMEDIATE", e) != 0)
			return -1;
		s->doomed = 0;
	}
	s->depth++;
	return 0;
}

int
mx_store_commit(struct mx_store *s, struct mx_err *e)
{
	if (s->depth == 0)
		return mx_err_set(e, MX_LOCAL, "store: commit without begin");
	if (--s->depth > 0)
		return 0;
	if (s->doomed) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		relax(s);
		return mx_err_set(e, MX_LOCAL,
		    "store '%s': transaction rolled back", s->path);
	}
	if (exec(s, "COMMIT", e) != 0) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		relax(s);
		return -1;
	}
	relax(s);
	return 0;
}

void
mx_store_rollback(struct mx_store *s)
{
	if (s->depth == 0)
		return;
	if (--s->depth > 0) {
		s->doomed = 1;
		return;
	}
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	relax(s);
}

long
mx_store_keys(struct mx_store *s, const char *ns, const char *prefix,
    char ***keys, struct mx_err *e)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0, cap = 8, plen = strlen(prefix);
	const char *k;
	char **v;
	int step;

	*keys = NULL;
	if (sqlite3_prepare_v2(s->db,
		"SELECT key FROM kv WHERE ns = ? ORDER BY key", -1, &st,
		NULL) != SQLITE_OK)
		return db_err(s, e, "select");
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	v = mx_xcalloc(cap + 1, sizeof(*v));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		k = (const char *)sqlite3_column_text(st, 0);
		if (k == NULL || strncmp(k, prefix, plen) != 0)
			continue;
		if (n == cap) {
			v = mx_xrealloc(v, (2 * cap + 1) * sizeof(*v));
			cap *= 2;
		}
		v[n++] = mx_xstrdup(k);
		v[n] = NULL;
	}
	if (step != SQLITE_DONE) {
		db_err(s, e, "select");
		sqlite3_finalize(st);
		mx_store_keys_free(v);
		return -1;
	}
	sqlite3_finalize(st);
	*keys = v;
	return (long)n;
}

void
mx_store_keys_free(char **keys)
{
	size_t i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++)
		free(keys[i]);
	free(keys);
}

int
mx_store_clear(struct mx_store *s, const char *ns, struct mx_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM kv WHERE ns = ?", -1, &st,
		NULL) != SQLITE_OK)
		return db_err(s, e, "delete");
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, e, "delete");
	sqlite3_finalize(st);
	return rc;
}

int
mx_store_set_durable(struct mx_store *s, int full, struct mx_err *e)
{
	if (exec(s,
		full ? "PRAGMA synchronous = FULL" :
		       "PRAGMA synchronous = NORMAL",
		e) != 0)
		return -1;
	s->lax = !full;
	return 0;
}

int
mx_store_begin_durable(struct mx_store *s, struct mx_err *e)
{
	/* SQLite refuses to change the sync level inside a transaction:
	 * raise it before, lower it again after the commit. */
	if (s->lax && s->depth == 0) {
		if (exec(s, "PRAGMA synchronous = FULL", e) != 0)
			return -1;
		s->restore = 1;
	}
	return mx_store_begin(s, e);
}
