/* inbound: the provenance of stored Megolm sessions and the rules by which
 * an imported copy (spec: Client-Server API, "Key exports") may or may not
 * replace a held one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "inbound.h"
#include "megolm.h"
#include "pickle.h"
#include "store.h"
#include "util.h"
#include "tap.h"

#define ROOM "!r:hs"
#define SKEY "curvecurvecurvecurvecurvecurvecurvecurve123"
#define ED "ededededededededededededededededededededede"

static struct mx_store *st;
static struct mx_megolm_out *out;
static char sid[MX_MEGOLM_ID_B64];

/* The outbound session's key as an inbound session from index at. */
static struct mx_megolm_in *
at(uint32_t index)
{
	uint8_t key[MX_MEGOLM_SESSION_KEY_LEN], buf[512];
	struct mx_megolm_in *in;
	size_t n;

	while (mx_megolm_out_index(out) < index)
		mx_megolm_encrypt(out, buf, sizeof(buf), &n, "x", 1, NULL);
	mx_megolm_out_session_key(out, key);
	in = mx_megolm_in_new(key, sizeof(key), NULL);
	return in;
}

/* A v1 export of in at its first index, imported again (as a file
 * would give it). */
static struct mx_megolm_in *
exported(const struct mx_megolm_in *in)
{
	uint8_t key[MX_MEGOLM_EXPORT_LEN];

	mx_megolm_in_export(in, mx_megolm_in_first_index(in), key, NULL);
	return mx_megolm_in_import(key, sizeof(key), NULL);
}

static void
held(const char *src, const char *sender, uint32_t first, const char *what)
{
	struct mx_inbound r;
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_inbound_load(st, ROOM, sid, &r, &e) == 1 &&
		strcmp(r.source, src) == 0 && strcmp(r.sender, sender) == 0 &&
		mx_megolm_in_first_index(r.s) == first &&
		(r.received_ms > 0) == (strcmp(what, "old") != 0),
	    "%s: held from %s, %s, index %u", what, src, sender,
	    (unsigned)first);
	mx_inbound_release(&r);
}

static void
test_rules(void)
{
	struct mx_megolm_in *i0, *i2, *x0, *x2;
	struct mx_err e;

	mx_err_clear(&e);
	out = mx_megolm_out_new();
	mx_megolm_out_id(out, sid);
	i0 = at(0);
	i2 = at(2);
	x0 = exported(i0);
	x2 = exported(i2);

	ok(mx_inbound_import(st, ROOM, sid, x2, SKEY, ED, &e) ==
		MX_INBOUND_NEW,
	    "a session not held: imported");
	held("imported", "", 2, "new");
	ok(mx_inbound_import(st, ROOM, sid, x2, SKEY, ED, &e) ==
		MX_INBOUND_SKIPPED,
	    "the same again: skipped");
	ok(mx_inbound_keep(st, ROOM, sid, i2, SKEY, ED, "@a:hs", &e) == 0,
	    "the sender's copy over Olm, as early");
	held("olm", "@a:hs", 2, "olm wins");
	ok(mx_inbound_import(st, ROOM, sid, x0, SKEY, "other", &e) ==
		MX_INBOUND_SKIPPED,
	    "an earlier copy claiming another device: skipped");
	held("olm", "@a:hs", 2, "kept");
	ok(mx_inbound_import(st, ROOM, sid, x0, SKEY, ED, &e) ==
		MX_INBOUND_IMPROVED,
	    "an earlier copy of the same keys: improved");
	held("olm", "@a:hs", 0, "the binding stays");
	ok(mx_inbound_import(st, ROOM, sid, x2, SKEY, ED, &e) ==
		MX_INBOUND_SKIPPED,
	    "a later copy: skipped");
	held("olm", "@a:hs", 0, "still");
	mx_megolm_in_free(i0);
	mx_megolm_in_free(i2);
	mx_megolm_in_free(x0);
	mx_megolm_in_free(x2);
	mx_megolm_out_free(out);
}

/* An earlier copy whose ratchet does not lead to the held one (another
 * session under the same ID) does not replace it. */
static void
test_foreign_ratchet(void)
{
	struct mx_megolm_in *i2, *x0, *f;
	uint8_t key[MX_MEGOLM_EXPORT_LEN];
	struct mx_err e;

	mx_err_clear(&e);
	out = mx_megolm_out_new();
	mx_megolm_out_id(out, sid);
	x0 = exported(f = at(0));
	mx_megolm_in_free(f);
	i2 = at(2);
	mx_megolm_in_export(x0, 0, key, NULL);
	key[10] ^= 1; /* a ratchet byte: same session ID, other ratchet */
	mx_megolm_in_free(x0);
	x0 = mx_megolm_in_import(key, sizeof(key), NULL);
	ok(mx_inbound_keep(st, ROOM, sid, i2, SKEY, ED, "@a:hs", &e) == 0,
	    "held over Olm from index 2");
	ok(x0 != NULL &&
		mx_inbound_import(st, ROOM, sid, x0, SKEY, ED, &e) ==
		    MX_INBOUND_SKIPPED,
	    "an earlier copy with a foreign ratchet: skipped");
	held("olm", "@a:hs", 2, "foreign");
	mx_megolm_in_free(i2);
	mx_megolm_in_free(x0);
	mx_megolm_out_free(out);
}

/* A record written before provenance (four blobs) reads as Olm's. */
static void
test_old_record(void)
{
	struct mx_buf b = MX_BUF_INIT, p = MX_BUF_INIT;
	struct mx_megolm_in *i0;
	struct mx_err e;
	char *k;

	mx_err_clear(&e);
	out = mx_megolm_out_new();
	mx_megolm_out_id(out, sid);
	i0 = at(0);
	mx_megolm_in_pickle(i0, &p);
	mx_pickle_blob(&b, p.p, p.len);
	mx_buf_release_wipe(&p);
	mx_pickle_blob(&b, SKEY, strlen(SKEY));
	mx_pickle_blob(&b, ED, strlen(ED));
	mx_pickle_blob(&b, "@a:hs", 5);
	k = mx_xasprintf("%s %s", ROOM, sid);
	ok(mx_store_put_secret_buf(st, "megolm_in", k, &b, &e) == 0,
	    "an old record");
	free(k);
	held("olm", "@a:hs", 0, "old");
	mx_megolm_in_free(i0);
	mx_megolm_out_free(out);
}

/* export, then import_all into another store: the same sessions. */
static void
test_roundtrip(void)
{
	struct mx_store *st2 = NULL;
	json_t *arr = json_array(), *one = json_array();
	size_t count[3];
	struct mx_err e;

	mx_err_clear(&e);
	ok(mx_inbound_export(st, NULL, arr, &e) == 0 &&
		json_array_size(arr) == 3,
	    "export: every session");
	ok(mx_inbound_export(st, "!other:hs", one, &e) == 0 &&
		json_array_size(one) == 0,
	    "export of a room with none: empty");
	ok(strcmp(json_string_value(
		      json_object_get(json_array_get(arr, 0), "algorithm")),
	       MX_MEGOLM_ALG) == 0 &&
		json_is_array(json_object_get(json_array_get(arr, 0),
		    "forwarding_curve25519_key_chain")),
	    "the spec's fields");
	json_array_append_new(arr, json_pack("{s:s}", "algorithm", "x"));
	mx_store_open_memory(&st2, &e);
	ok(mx_inbound_import_all(st2, arr, count, &e) == 0 &&
		count[MX_INBOUND_NEW] == 3 && count[MX_INBOUND_SKIPPED] == 1,
	    "import: 3 new, the malformed one skipped");
	ok(mx_inbound_import_all(st2, arr, count, &e) == 0 &&
		count[MX_INBOUND_NEW] == 0 && count[MX_INBOUND_SKIPPED] == 4,
	    "again: all skipped");
	mx_store_close(st2);
	json_decref(arr);
	json_decref(one);
}

int
main(void)
{
	struct mx_err e;

	if (mx_crypto_init() != 0)
		return 1;
	mx_err_clear(&e);
	if (mx_store_open_memory(&st, &e) != 0)
		return 1;
	test_rules();
	test_foreign_ratchet();
	test_old_record();
	test_roundtrip();
	mx_store_close(st);
	return done();
}
