/*
 * conf: profiles and the session a program runs with.
 *
 * Profiles live under $MX_DIR (default ${XDG_DATA_HOME:-~/.local/share}/mx),
 * one directory each (mode 0700): $MX_DIR/<profile>, the profile named by -p
 * or $MX_PROFILE, else "default".  A profile directory or file readable by
 * group or others is refused, as ssh does.
 *
 * The session comes from the profile's store, or, for CI, from the
 * environment: MX_ACCESS_TOKEN with MX_HOMESERVER (no store needed).
 */
#ifndef MX_CONF_H
#define MX_CONF_H

#include "api.h"
#include "err.h"
#include "http.h"
#include "session.h"
#include "store.h"

/* What every program holds while it runs. */
struct mx_ctx {
	const char *prog;    /* "mx-send" (borrowed) */
	const char *profile; /* -p value or NULL (borrowed) */
	int verbose, quiet, insecure_http;
	struct mx_notice notice; /* where the library's notices go (set
					   by cmd/cli from -v and -q) */
	char *dir;		 /* the profile directory */
	struct mx_session sess;
	struct mx_store *store; /* NULL until opened; in memory only with
				   MX_IDENTITY */
	const char *store_pass; /* store passphrase (borrowed), or NULL */
	/* Asks for a secret (prompt without ": "), or NULL: a buffer from
	 * mx_secure_alloc, NULL with e when it cannot.  Set by cmd/cli for
	 * a terminal; NULL means there is no one to ask. */
	char *(*ask)(const char *prompt, struct mx_err *e);
	struct mx_http *http;
	struct mx_api api; /* points into sess and http */
	/* MX_IDENTITY's Olm account pickle (secure memory), for
	 * mx_e2ee_open to keep in the in-memory store; else NULL. */
	char *identity_account;
	size_t identity_account_len;
};

/* Flags for mx_ctx_open. */
#define MX_CTX_SESSION 0x1 /* a logged-in session is required */
#define MX_CTX_STORE 0x2   /* open the profile's store (creating it) */
#define MX_CTX_NO_ENV \
	0x4 /* ignore MX_ACCESS_TOKEN: the profile's own
				   session only (mx-keys login, logout) */

/*
 * Resolve the profile directory (creating it 0700 when MX_CTX_STORE), open
 * the store when asked, load the session (environment first, then store),
 * and set up http and api.  c->prog, c->profile, c->verbose, c->quiet,
 * c->notice and c->insecure_http are set by the caller before.  Errors: MX_LOCAL (paths,
 * permissions, store), MX_USAGE ("not logged in; run mx-keys login").
 */
int mx_ctx_open(struct mx_ctx *c, unsigned flags, struct mx_err *e);

/* Create and open the profile's store after mx_ctx_open without
 * MX_CTX_STORE (a login that succeeded creates the profile only then). */
int mx_ctx_open_store(struct mx_ctx *c, struct mx_err *e);
/* Release everything (wiping the token). */
void mx_ctx_close(struct mx_ctx *c);

/* The profile directory path for profile (NULL: default); caller frees. */
char *mx_conf_profile_dir(const char *profile, struct mx_err *e);

/* 1 when the profile directory dir holds a store sealed under a
 * passphrase (a store and no key file). */
int mx_conf_store_has_passphrase(const char *dir);
/* The first line of the file path, in secure memory (mx_secure_free), or
 * NULL with e (unreadable or empty). */
char *mx_conf_read_secret_file(const char *path, struct mx_err *e);
/* Save the session into the store (token sealed); clear it (logout: the
 * device's keys and pending sends go with it, see mx_e2ee_forget and
 * mx_txn_forget). */
int mx_conf_save_session(struct mx_ctx *c, struct mx_err *e);
int mx_conf_clear_session(struct mx_ctx *c, struct mx_err *e);

/*
 * Fill c->sess.user_id and c->sess.device_id when unknown (a token from the
 * environment), asking the server (GET /account/whoami).  Errors: as
 * mx_api_whoami (a dead token: MX_PERM).
 */
int mx_ctx_whoami(struct mx_ctx *c, struct mx_err *e);

#endif
