/*
 * account: this device's Olm account and its keys on the server (spec:
 * Client-Server API, "End-to-End Encryption", "Device keys", "One-time and
 * fallback keys").  The account lives sealed in the store, namespace
 * "e2ee": "account" the pickle, "uploaded" the device ID once its device
 * keys are on the server.
 *
 * struct mx_e2ee, the handle behind e2ee.h, is defined here: every part of
 * e2ee (todevice, inbound, roomstate, outbound, decrypt) works on it.
 */
#ifndef MX_ACCOUNT_H
#define MX_ACCOUNT_H

#include "conf.h"
#include "err.h"
#include "olm.h"

#define MX_OLM_ALG "m.olm.v1.curve25519-aes-sha2"
#define MX_MEGOLM_ALG "m.megolm.v1.aes-sha2"
/* One-time keys kept on the server. */
#define MX_ACCOUNT_OTK_TARGET 50

struct mx_e2ee {
	struct mx_ctx *c;	     /* borrowed */
	struct mx_olm_account *acct; /* as last loaded from the store */
	char curve[MX_OLM_KEY_B64];  /* this device's identity keys */
	char ed[MX_OLM_KEY_B64];
	json_t *enc_memo; /* room: true (encrypted) or ms when found clear */
};

/*
 * Fill x (x->c set, the session's user and device known) with the
 * device's account: the stored one, else MX_IDENTITY's (c's), else a new
 * one, whose device keys, one-time keys and fallback key are uploaded.
 * A store holding another device's account is refused.
 */
int mx_account_open(struct mx_e2ee *x, struct mx_err *e);

/* Re-read the account into x->acct inside the caller's transaction
 * (another process may have used a one-time key or made new ones): 1,
 * 0 when there is none, -1. */
int mx_account_load(struct mx_e2ee *x, struct mx_err *e);
/* Save x->acct, inside the caller's transaction. */
int mx_account_save(struct mx_e2ee *x, struct mx_err *e);

/* Sign obj in place with the device's Ed25519 key (spec: "Signing
 * JSON"), as signatures[user]["ed25519:" device]. */
int mx_account_sign(struct mx_e2ee *x, json_t *obj, struct mx_err *e);

/*
 * Keep enough one-time keys on the server (count: how many it says it
 * has, -1 unknown) and a fallback key (need_fb: it has none unused).
 * Nothing is uploaded in a store that lives in memory only.
 */
int mx_account_top_up(struct mx_e2ee *x, long count, int need_fb,
    struct mx_err *e);

/* The stored account pickle, the newest, in secure memory
 * (mx_secure_free; *n bytes). */
int mx_account_pickle(struct mx_e2ee *x, char **pickle, size_t *n,
    struct mx_err *e);

#endif
