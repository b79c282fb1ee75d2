/*
 * devices: folding /keys/query answers into the pinned record
 * (mx_devices_merge), as the spec's "Tracking the device list for a user"
 * and "Cross-signing" ask: self-signatures checked, keys pinned (a change
 * is a mismatch, never an update), self-signing keys checked against the
 * master key, devices against the self-signing key.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "json.h"
#include "signjson.h"
#include "tap.h"

#define USER "@bob:example.org"

struct key {
	uint8_t pub[32], sk[64];
	char b64[44];
};

static void
key_new(struct key *k)
{
	uint8_t seed[32];

	mx_random(seed, sizeof(seed));
	mx_ed25519_from_seed(k->pub, k->sk, seed);
	mx_b64_enc(k->b64, k->pub, 32);
}

/* A device-keys object of USER's dev, self-signed by ed (or by signer
 * when not NULL: a forgery), user_id and device_id as given. */
static json_t *
device(const char *uid, const char *dev, const char *curve,
    const struct key *ed, const struct key *signer)
{
	char *ck = mx_xasprintf("curve25519:%s", dev);
	char *ek = mx_xasprintf("ed25519:%s", dev);
	json_t *o = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}", "user_id", uid,
	    "device_id", dev, "algorithms", "m.olm.v1.curve25519-aes-sha2",
	    "m.megolm.v1.aes-sha2", "keys", ck, curve, ek, ed->b64);

	mx_signjson_sign(o, USER, dev, (signer ? signer : ed)->sk, NULL);
	free(ck);
	free(ek);
	return o;
}

static json_t *
xs_key(const char *usage, const struct key *k, const struct key *by)
{
	char *kid = mx_xasprintf("ed25519:%s", k->b64);
	json_t *o = json_pack("{s:s,s:[s],s:{s:s}}", "user_id", USER, "usage",
	    usage, "keys", kid, k->b64);

	if (by != NULL)
		mx_signjson_sign(o, USER, by->b64, by->sk, NULL);
	free(kid);
	return o;
}

/* A /keys/query answer with USER's devices (stolen) and optional
 * cross-signing keys (stolen). */
static json_t *
answer(json_t *devs, json_t *master, json_t *ssk)
{
	json_t *q = json_pack("{s:{s:o}}", "device_keys", USER, devs);

	if (master)
		json_object_set_new(q, "master_keys",
		    json_pack("{s:o}", USER, master));
	if (ssk)
		json_object_set_new(q, "self_signing_keys",
		    json_pack("{s:o}", USER, ssk));
	return q;
}

static const json_t *
dev(const json_t *rec, const char *id)
{
	return json_object_get(json_object_get(rec, "devices"), id);
}

static int
flag(const json_t *rec, const char *id, const char *f)
{
	return json_is_true(json_object_get(dev(rec, id), f));
}

static const char *
str(const json_t *rec, const char *id, const char *f)
{
	const char *s = json_string_value(json_object_get(dev(rec, id), f));

	return s ? s : "";
}

#define CURVE1 "Y3VydmUxY3VydmUxY3VydmUxY3VydmUxY3VydmUxY3U"
#define CURVE2 "Y3VydmUyY3VydmUyY3VydmUyY3VydmUyY3VydmUyY3U"

static void
test_pinning(void)
{
	struct key a, b, forger;
	json_t *rec, *q;

	key_new(&a);
	key_new(&b);
	key_new(&forger);
	q = answer(json_pack("{s:o,s:o,s:o,s:o}", "GOOD",
		       device(USER, "GOOD", CURVE1, &a, NULL), "FORGED",
		       device(USER, "FORGED", CURVE1, &b, &forger), "WRONGID",
		       device(USER, "OTHER", CURVE1, &b, NULL), "WRONGUSER",
		       device("@eve:example.org", "WRONGUSER", CURVE1, &b,
			   NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(NULL, USER, q);
	json_decref(q);
	ok(dev(rec, "GOOD") != NULL, "a self-signed device is taken");
	is_str(str(rec, "GOOD", "ed"), a.b64, "its Ed25519 key is pinned");
	is_str(str(rec, "GOOD", "curve"), CURVE1, "and its Curve25519 key");
	ok(!flag(rec, "GOOD", "verified") && !flag(rec, "GOOD", "mismatch") &&
		!flag(rec, "GOOD", "gone"),
	    "not verified, no mismatch, not gone");
	ok(json_integer_value(json_object_get(dev(rec, "GOOD"),
	       "first_seen")) > 1600000000000LL,
	    "first_seen is stamped when first pinned (ms)");
	ok(dev(rec, "FORGED") == NULL,
	    "a device signed by another key is "
	    "left out");
	ok(dev(rec, "WRONGID") == NULL,
	    "a device_id unlike its map key is "
	    "left out");
	ok(dev(rec, "WRONGUSER") == NULL,
	    "a user_id unlike its map key is "
	    "left out");
	ok(json_is_false(json_object_get(rec, "outdated")),
	    "the list is "
	    "current after a merge");

	/* Verified by us: kept across merges. */
	json_object_set_new((json_t *)dev(rec, "GOOD"), "verified",
	    json_true());
	q = answer(json_pack("{s:o}", "GOOD",
		       device(USER, "GOOD", CURVE1, &a, NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(flag(rec, "GOOD", "verified") && !flag(rec, "GOOD", "mismatch"),
	    "the same keys again: still verified");
	json_object_set_new((json_t *)dev(rec, "GOOD"), "first_seen",
	    json_integer(42));
	q = answer(json_pack("{s:o}", "GOOD",
		       device(USER, "GOOD", CURVE1, &a, NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(json_integer_value(json_object_get(dev(rec, "GOOD"),
	       "first_seen")) == 42,
	    "and first_seen is kept, not restamped");

	/* New keys under the same device ID: a mismatch; the old keys stay. */
	q = answer(json_pack("{s:o}", "GOOD",
		       device(USER, "GOOD", CURVE2, &b, NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(flag(rec, "GOOD", "mismatch"), "changed keys: a mismatch");
	is_str(str(rec, "GOOD", "ed"), a.b64, "the first Ed25519 key stays");
	is_str(str(rec, "GOOD", "curve"), CURVE1,
	    "the first Curve25519 key "
	    "stays");
	json_decref(rec);
}

static void
test_gone(void)
{
	struct key a, b;
	json_t *rec, *q;

	key_new(&a);
	key_new(&b);
	q = answer(json_pack("{s:o}", "D1",
		       device(USER, "D1", CURVE1, &a, NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(NULL, USER, q);
	json_decref(q);
	q = answer(json_object(), NULL, NULL);
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(flag(rec, "D1", "gone"), "a device no longer listed is gone");
	is_str(str(rec, "D1", "ed"), a.b64, "but its keys stay pinned");
	q = answer(json_pack("{s:o}", "D1",
		       device(USER, "D1", CURVE1, &b, NULL)),
	    NULL, NULL);
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(!flag(rec, "D1", "gone") && flag(rec, "D1", "mismatch"),
	    "back with other keys: a mismatch");
	json_decref(rec);
}

static void
test_cross_signing(void)
{
	struct key master, ssk, other, d1, d2;
	json_t *rec, *q, *o;

	key_new(&master);
	key_new(&ssk);
	key_new(&other);
	key_new(&d1);
	key_new(&d2);
	o = device(USER, "XS", CURVE1, &d1, NULL);
	mx_signjson_sign(o, USER, ssk.b64, ssk.sk, NULL);
	q = answer(json_pack("{s:o,s:o}", "XS", o, "PLAIN",
		       device(USER, "PLAIN", CURVE2, &d2, NULL)),
	    xs_key("master", &master, NULL),
	    xs_key("self_signing", &ssk, &master));
	rec = mx_devices_merge(NULL, USER, q);
	json_decref(q);
	is_str(json_string_value(json_object_get(rec, "master")), master.b64,
	    "the master key is kept");
	is_str(json_string_value(json_object_get(rec, "ssk")), ssk.b64,
	    "a self-signing key signed by the master is taken");
	ok(flag(rec, "XS", "xsigned"),
	    "a device signed by it is "
	    "cross-signed");
	ok(!flag(rec, "PLAIN", "xsigned"), "one it did not sign is not");
	ok(json_is_false(json_object_get(rec, "master_verified")),
	    "the master key is not verified by merging");

	/* We verified the master key; the server shows another one (with a
	 * self-signing key that one did not sign): the first keys stay
	 * pinned and verified, the change is flagged for mx-keys accept, and
	 * devices are still judged against the pinned keys. */
	json_object_set_new(rec, "master_verified", json_true());
	o = device(USER, "XS", CURVE1, &d1, NULL);
	mx_signjson_sign(o, USER, ssk.b64, ssk.sk, NULL);
	q = answer(json_pack("{s:o}", "XS", o), xs_key("master", &other, NULL),
	    xs_key("self_signing", &ssk, &master));
	rec = mx_devices_merge(rec, USER, q);
	json_decref(q);
	ok(json_is_true(json_object_get(rec, "identity_changed")) &&
		json_is_true(json_object_get(rec, "master_verified")),
	    "a changed master key flags the identity, the pinned one stays "
	    "verified");
	is_str(json_string_value(json_object_get(rec, "master")), master.b64,
	    "the first master key stays pinned");
	is_str(json_string_value(json_object_get(rec, "master_seen")),
	    other.b64, "the new one is kept to accept");
	ok(json_is_null(json_object_get(rec, "ssk_seen")),
	    "a self-signing "
	    "key not signed by the new master is not");
	ok(flag(rec, "XS", "xsigned"),
	    "the device the pinned keys signed "
	    "stays cross-signed");
	json_decref(rec);

	/* A "master key" with two keys, or another user's, is no key. */
	q = answer(json_object(),
	    json_pack("{s:s,s:[s],s:{s:s,s:s}}", "user_id", USER, "usage",
		"master", "keys", "ed25519:a", "a", "ed25519:b", "b"),
	    NULL);
	rec = mx_devices_merge(NULL, USER, q);
	json_decref(q);
	ok(json_is_null(json_object_get(rec, "master")),
	    "a master key object "
	    "with two keys is refused");
	json_decref(rec);
}

static void
test_names(void)
{
	is_str(mx_trust_name(MX_TRUST_UNKNOWN), "unknown-device", "name 0");
	is_str(mx_trust_name(MX_TRUST_MISMATCH), "mismatch", "name 1");
	is_str(mx_trust_name(MX_TRUST_UNVERIFIED), "unverified", "name 2");
	is_str(mx_trust_name(MX_TRUST_TOFU), "tofu", "name 3");
	is_str(mx_trust_name(MX_TRUST_CROSS_SIGNED), "cross-signed", "name 4");
	is_str(mx_trust_name(MX_TRUST_VERIFIED), "verified", "name 5");
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_pinning();
	test_gone();
	test_cross_signing();
	test_names();
	return done();
}
