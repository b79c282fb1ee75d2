/*
 * sigcheck: mx-verify json's checks.  A signature by a key given (the
 * spec's signing test vector, Appendices, "Cryptographic Test Vectors"),
 * a server's keys signed by the server with each of its keys, device keys
 * signed by the device; and what each refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "json.h"
#include "sigcheck.h"
#include "signjson.h"
#include "tap.h"

/* The spec's seed, canonically spelled (see t/unit/signjson.c), and its
 * signature of {} by entity "domain", key "ed25519:1". */
#define SEED "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0"
#define SIG_EMPTY \
	"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76" \
	"LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"

static uint8_t pub[MX_ED25519_PUB_LEN], sk[MX_ED25519_SK_LEN];
static uint8_t pub2[MX_ED25519_PUB_LEN], sk2[MX_ED25519_SK_LEN];
static char pub_b64[64], pub2_b64[64];

static json_t *
parse(const char *s)
{
	struct mx_err e;

	return mx_json_parse(s, strlen(s), &e);
}

static void
test_key(void)
{
	struct mx_sigcheck v;
	json_t *o = parse(
	    "{\"signatures\":{\"domain\":{\"ed25519:1\":\"" SIG_EMPTY "\"}}}");

	mx_sigcheck_key(o, pub_b64, &v);
	ok(v.ok && strcmp(v.signer, "domain") == 0 &&
		strcmp(v.key_id, "ed25519:1") == 0 &&
		strcmp(v.what, "signed by the key given") == 0,
	    "key: the spec's vector verifies, signer and key ID named");
	mx_sigcheck_key(o, pub2_b64, &v);
	ok(!v.ok && v.signer == NULL && v.key_id[0] == '\0',
	    "key: another key does not");
	mx_sigcheck_key(o, "not base64!", &v);
	ok(!v.ok, "key: a malformed key does not");
	json_object_set_new(o, "extra", json_true());
	mx_sigcheck_key(o, pub_b64, &v);
	ok(!v.ok, "key: a changed object does not");
	json_decref(o);
}

static void
test_server(void)
{
	struct mx_sigcheck v;
	struct mx_err e;
	json_t *o = json_pack("{s:s,s:{s:{s:s}}}", "server_name", "hs.example",
	    "verify_keys", "ed25519:a", "key", pub_b64);

	mx_signjson_sign(o, "hs.example", "a", sk, &e);
	mx_sigcheck_server(o, "hs.example", &v);
	ok(v.ok && strcmp(v.signer, "hs.example") == 0 &&
		strcmp(v.key_id, "ed25519:a") == 0 &&
		strcmp(v.what, "server keys signed by the server") == 0,
	    "server: signed by its one key");
	mx_sigcheck_server(o, "other.example", &v);
	ok(!v.ok && v.signer == NULL, "server: another server name fails");
	json_object_set_new(json_object_get(o, "verify_keys"), "ed25519:b",
	    json_pack("{s:s}", "key", pub2_b64));
	json_object_del(o, "signatures");
	mx_signjson_sign(o, "hs.example", "a", sk, &e);
	mx_sigcheck_server(o, "hs.example", &v);
	ok(!v.ok, "server: one of its keys not signing fails");
	mx_signjson_sign(o, "hs.example", "b", sk2, &e);
	mx_sigcheck_server(o, "hs.example", &v);
	ok(v.ok, "server: signed by each of its keys");
	json_decref(o);
}

static void
test_device(void)
{
	struct mx_sigcheck v;
	struct mx_err e;
	json_t *o = json_pack("{s:s,s:s,s:{s:s}}", "user_id", "@a:hs",
	    "device_id", "DEV", "keys", "ed25519:DEV", pub_b64);

	mx_signjson_sign(o, "@a:hs", "DEV", sk, &e);
	mx_sigcheck_device(o, &v);
	ok(v.ok && strcmp(v.signer, "@a:hs") == 0 &&
		strcmp(v.key_id, "ed25519:DEV") == 0 &&
		strcmp(v.what, "device keys signed by the device") == 0,
	    "device: self-signed");
	json_object_set_new(json_object_get(o, "keys"), "ed25519:DEV",
	    json_string(pub2_b64));
	mx_sigcheck_device(o, &v);
	ok(!v.ok && v.signer == NULL, "device: signed by another key fails");
	json_object_del(json_object_get(o, "keys"), "ed25519:DEV");
	mx_sigcheck_device(o, &v);
	ok(!v.ok, "device: no key of its own fails");
	json_decref(o);
}

int
main(void)
{
	uint8_t seed[32];

	mx_crypto_init();
	if (mx_b64_dec_exact(seed, sizeof(seed), SEED) != 0)
		return 1;
	mx_ed25519_from_seed(pub, sk, seed);
	seed[0] ^= 1;
	mx_ed25519_from_seed(pub2, sk2, seed);
	mx_b64_enc(pub_b64, pub, sizeof(pub));
	mx_b64_enc(pub2_b64, pub2, sizeof(pub2));
	test_key();
	test_server();
	test_device();
	return done();
}
