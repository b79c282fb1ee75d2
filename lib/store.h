/*
 * store: one SQLite database per profile (<profile dir>/store.db, 0600),
 * WAL mode and a busy timeout so concurrent mx processes on one profile
 * are safe; the schema is versioned (PRAGMA user_version) and migrated in
 * order on open.  Values live in namespaced key/value rows; secret values
 * (session token, account and session pickles) are sealed with
 * XChaCha20-Poly1305 under the store key, with the namespace and key as
 * associated data so a sealed value cannot be moved to another row.
 *
 * The store key: a random 32-byte key in <profile dir>/store.key (0600,
 * created with O_EXCL) by default; argon2id of a passphrase when the profile
 * was created with one (see mx_store_open).  Key material lives in sodium
 * secure memory and is wiped on close.
 */
#ifndef MX_STORE_H
#define MX_STORE_H

#include <stddef.h>

#include "err.h"
#include "util.h"

struct mx_store;

/*
 * Open (creating when absent) the store of the profile directory dir.
 * passphrase: NULL to use (or create) the key file; otherwise the store key
 * is argon2id(passphrase, salt kept in the store).  *s is owned by the
 * caller (mx_store_close).  Errors: MX_LOCAL (I/O, corrupt, wrong
 * passphrase, bad permissions).
 */
int mx_store_open(struct mx_store **s, const char *dir, const char *passphrase,
    struct mx_err *e);
void mx_store_close(struct mx_store *s);
/* A store in memory only, under a random key (MX_IDENTITY runs: nothing
 * is written anywhere).  Same interface; durability requests are moot. */
int mx_store_open_memory(struct mx_store **s, struct mx_err *e);
int mx_store_is_memory(const struct mx_store *s);

/*
 * Plain values.  get: 1 and *val (NUL-terminated after *len bytes, caller
 * frees) when present, 0 when absent, -1 on error.  len may be NULL.
 */
int mx_store_get(struct mx_store *s, const char *ns, const char *key,
    char **val, size_t *len, struct mx_err *e);
int mx_store_put(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e);
int mx_store_del(struct mx_store *s, const char *ns, const char *key,
    struct mx_err *e);
/* Write a row only when its key is new: 1 when this call added it, 0 when
 * it was there (another process wrote it first), -1 on error. */
int mx_store_add(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e);
/* Delete, telling who did: 1 when this call removed the row, 0 when it
 * was not there (another process took it first), -1 on error. */
int mx_store_take(struct mx_store *s, const char *ns, const char *key,
    struct mx_err *e);

/* Secret values: as above, sealed at rest.  get_secret returns a buffer
 * from mx_secure_alloc (free it with mx_secure_free). */
int mx_store_get_secret(struct mx_store *s, const char *ns, const char *key,
    char **val, size_t *len, struct mx_err *e);
int mx_store_put_secret(struct mx_store *s, const char *ns, const char *key,
    const void *val, size_t len, struct mx_err *e);
/* put_secret of b's bytes; b is wiped and released whatever the result. */
int mx_store_put_secret_buf(struct mx_store *s, const char *ns,
    const char *key, struct mx_buf *b, struct mx_err *e);

/*
 * Transactions: begin takes the write lock at once (BEGIN IMMEDIATE) so
 * that a read-modify-write is atomic across processes; calls nest by
 * counting (only the outermost commits).  rollback undoes the outermost.
 */
int mx_store_begin(struct mx_store *s, struct mx_err *e);
int mx_store_commit(struct mx_store *s, struct mx_err *e);
void mx_store_rollback(struct mx_store *s);

/*
 * Durability of this connection's commits: full (the default) syncs every
 * commit, surviving power loss (Megolm indexes need it); !full keeps WAL's
 * crash safety against a killed process without an fsync per commit, for
 * state that only has to survive the process (pending txn ids).
 */
int mx_store_set_durable(struct mx_store *s, int full, struct mx_err *e);

/* Begin a transaction whose commit syncs to disk whatever the durability
 * set above (a Megolm index, before its ciphertext leaves). */
int mx_store_begin_durable(struct mx_store *s, struct mx_err *e);
/*
 * The keys of namespace ns that start with prefix ("" for all), sorted, as
 * a NULL-terminated array in *keys (the caller frees each and the array;
 * mx_store_keys_free).  The count is returned, -1 with e on error.
 */
long mx_store_keys(struct mx_store *s, const char *ns, const char *prefix,
    char ***keys, struct mx_err *e);
void mx_store_keys_free(char **keys);
/* Delete every row of a namespace (logout). */
int mx_store_clear(struct mx_store *s, const char *ns, struct mx_err *e);

#endif
