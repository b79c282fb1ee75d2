/*
 * backupkey: the current backup as the server shows it (none, without a
 * version, of another algorithm), and its key from a recovery key: the
 * backup's own, a wrong one, text that is no recovery key, a passphrase
 * where there is no secret storage.  Against the fake server.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "b64.h"
#include "backup.h"
#include "backupkey.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "keybackup.h"
#include "util.h"
#include "fakesrv.h"
#include "tap.h"

#define ME "@me:hs"

/* What GET /room_keys/version answers: NULL is 404 (no backup). */
static json_t *version;

static char *
route(void *u, const struct fakesrv_req *r, int *status)
{
	json_t *a;
	char *s;

	(void)u;
	if (strstr(r->path, "/room_keys/version") != NULL && version != NULL)
		a = json_incref(version);
	else {
		/* No backup, no account data (no secret storage). */
		*status = 404;
		a = json_pack("{s:s,s:s}", "errcode", "M_NOT_FOUND", "error",
		    "not found");
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void
current(struct mx_api *a)
{
	json_t *info = NULL;
	struct mx_err e;

	mx_err_clear(&e);
	version = NULL;
	ok(mx_backupkey_current(a, &info, &e) == -1 && e.status == MX_NO &&
		info == NULL,
	    "no backup: MX_NO (%s)", e.msg);
	mx_err_clear(&e);
	version = json_pack("{s:s,s:{}}", "algorithm", MX_KEYBACKUP_ALG,
	    "auth_data");
	ok(mx_backupkey_current(a, &info, &e) == -1 && e.status == MX_TEMP &&
		info == NULL,
	    "a backup without a version: MX_TEMP (%s)", e.msg);
	json_decref(version);
	mx_err_clear(&e);
	version = json_pack("{s:s,s:s,s:{}}", "version", "3", "algorithm",
	    "m.other", "auth_data");
	ok(mx_backupkey_current(a, &info, &e) == -1 && e.status == MX_LOCAL &&
		info == NULL,
	    "another algorithm: MX_LOCAL (%s)", e.msg);
	json_decref(version);
	version = NULL;
	ok(!mx_backupkey_ssss_exists(a, ME), "no secret storage");
	ok(!mx_backupkey_in_ssss(a, ME), "no backup key in it");
}

static void
open_key(struct mx_api *a)
{
	uint8_t priv[32], pub[32], got[32], other[32];
	char pk[64], rk[MX_RECOVERY_KEY_LEN + 1];
	json_t *info = NULL;
	struct mx_err e;

	mx_random(priv, sizeof(priv));
	mx_random(other, sizeof(other));
	mx_x25519_pub(pub, priv);
	mx_b64_enc(pk, pub, sizeof(pub));
	version = json_pack("{s:s,s:s,s:{s:s},s:i,s:s}", "version", "7",
	    "algorithm", MX_KEYBACKUP_ALG, "auth_data", "public_key", pk,
	    "count", 0, "etag", "e");
	mx_err_clear(&e);
	ok(mx_backupkey_current(a, &info, &e) == 0 &&
		strcmp(mx_json_str(info, "version"), "7") == 0,
	    "the current backup: %s", e.msg);

	mx_recovery_key_encode(rk, priv);
	memset(got, 0, sizeof(got));
	ok(mx_backupkey_open(a, ME, info, rk, 0, got, &e) == 0 &&
		memcmp(got, priv, 32) == 0,
	    "the backup's own recovery key opens it: %s", e.msg);

	mx_recovery_key_encode(rk, other);
	mx_err_clear(&e);
	ok(mx_backupkey_open(a, ME, info, rk, 0, got, &e) == -1 &&
		e.status == MX_NO,
	    "another recovery key, no secret storage: MX_NO (%s)", e.msg);
	is_str(e.msg, "the recovery key is not the backup's", "and says so");

	mx_err_clear(&e);
	ok(mx_backupkey_open(a, ME, info, "not a key", 0, got, &e) == -1 &&
		e.status == MX_NO &&
		strncmp(e.msg, "not a recovery key", 18) == 0,
	    "text that is no recovery key: %s", e.msg);

	mx_err_clear(&e);
	ok(mx_backupkey_open(a, ME, info, "a passphrase", 1, got, &e) == -1 &&
		e.status == MX_LOCAL,
	    "a passphrase without secret storage: MX_LOCAL (%s)", e.msg);
	json_decref(info);
	json_decref(version);
	version = NULL;
}

int
main(void)
{
	struct mx_http_opts o = { { NULL, NULL, 0 }, 0, 0, 0, -1 };
	static struct fakesrv srv;
	struct mx_api a = { 0 };
	char *hs;

	mx_crypto_init();
	srv.route = route;
	if (fakesrv_start(&srv) != 0) {
		puts("Bail out! cannot start the fake server");
		return 1;
	}
	hs = mx_xasprintf("http://127.0.0.1:%d", srv.port);
	a.http = mx_http_new(&o);
	a.hs = hs;
	a.token = "tok";
	current(&a);
	open_key(&a);
	mx_http_free(a.http);
	fakesrv_stop(&srv);
	free(hs);
	return done();
}
