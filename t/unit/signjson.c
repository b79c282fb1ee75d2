/*
 * signjson: the spec's signing test vectors (Appendices, "Cryptographic
 * Test Vectors": signing key seed, entity "domain", key "ed25519:1") byte
 * for byte, then merging, "unsigned", tampering and malformed input.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "json.h"
#include "signjson.h"
#include "tap.h"

/*
 * The spec writes the seed "...XA1"; its last character carries two
 * non-zero unused bits, which mx's strict decoder refuses (see below).
 * "...XA0" is the canonical spelling of the same 32 bytes.
 */
#define SEED "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0"
#define SIG_EMPTY "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76" \
    "LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
#define SIG_ONETWO "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSo" \
    "qE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"

static uint8_t pub[32], sk[64];

static json_t *
parse(const char *s)
{
	struct mx_err e;

	return mx_json_parse(s, strlen(s), &e);
}

static void
sign_check(const char *in, const char *want, const char *name)
{
	struct mx_err e;
	json_t *v = parse(in);
	char *s;

	ok(mx_signjson_sign(v, "domain", "1", sk, &e) == 0, "sign %s", name);
	s = mx_json_canonical(v, &e);
	is_str(s, want, name);
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == 0,
	    "verify %s", name);
	free(s);
	json_decref(v);
}

static void
test_spec(void)
{
	uint8_t seed[32], tmp[32];

	ok(mx_b64_dec_exact(seed, 32, SEED) == 0, "seed decodes");
	ok(mx_b64_dec_exact(tmp, 32,
	    "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1") == -1,
	    "the spec's non-canonical spelling is refused");
	mx_ed25519_from_seed(pub, sk, seed);
	mx_wipe(seed, sizeof seed);
	sign_check("{}", "{\"signatures\":{\"domain\":{\"ed25519:1\":\""
	    SIG_EMPTY "\"}}}", "spec: {}");
	sign_check("{\"one\": 1, \"two\": \"Two\"}",
	    "{\"one\":1,\"signatures\":"
	    "{\"domain\":{\"ed25519:1\":\"" SIG_ONETWO "\"}},\"two\":\"Two\"}",
	    "spec: one two");
	/* Existing signatures and unsigned do not change the signed bytes. */
	sign_check("{\"unsigned\":{\"age_ts\":1},\"two\":\"Two\",\"one\":1,"
	    "\"signatures\":{\"other\":{\"ed25519:x\":\"abc\"}}}",
	    "{\"one\":1,\"signatures\":{\"domain\":{\"ed25519:1\":\"" SIG_ONETWO
	    "\"},\"other\":{\"ed25519:x\":\"abc\"}},\"two\":\"Two\","
	    "\"unsigned\":{\"age_ts\":1}}", "keeps signatures and unsigned");
}

static void
test_tamper(void)
{
	struct mx_err e;
	json_t *v = parse("{\"one\":1,\"two\":\"Two\",\"unsigned\":{}}");
	json_t *sigs;

	mx_signjson_sign(v, "domain", "1", sk, &e);
	json_object_set_new(json_object_get(v, "unsigned"), "x",
	    json_true());
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == 0,
	    "changing unsigned keeps it valid");
	json_object_set_new(v, "one", json_integer(2));
	mx_err_clear(&e);
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == -1 &&
	    e.status == MX_NO, "changed member detected: %s", e.msg);
	json_object_set_new(v, "one", json_integer(1));
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == 0, "restored");
	ok(mx_signjson_verify(v, "domain", "2", pub, &e) == -1 &&
	    e.status == MX_NO, "other key id: missing");
	ok(mx_signjson_verify(v, "elsewhere", "1", pub, &e) == -1,
	    "other entity: missing");
	sigs = json_object_get(json_object_get(v, "signatures"), "domain");
	json_object_set_new(sigs, "ed25519:1", json_string(SIG_EMPTY));
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == -1,
	    "signature of other bytes refused");
	json_object_set_new(sigs, "ed25519:1", json_string("AAAA"));
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == -1,
	    "short signature refused");
	json_object_set_new(sigs, "ed25519:1", json_integer(1));
	ok(mx_signjson_verify(v, "domain", "1", pub, &e) == -1,
	    "non-string signature refused");
	json_decref(v);
}

static void
test_bad(void)
{
	struct mx_err e;
	json_t *v;
	char *s;

	v = parse("{\"signatures\":[]}");
	mx_err_clear(&e);
	ok(mx_signjson_sign(v, "domain", "1", sk, &e) == -1 &&
	    e.status == MX_LOCAL, "signatures not an object: %s", e.msg);
	s = mx_json_compact(v);
	is_str(s, "{\"signatures\":[]}", "left unchanged");
	free(s);
	json_decref(v);
	v = parse("{\"signatures\":{\"domain\":\"x\"}}");
	ok(mx_signjson_sign(v, "domain", "1", sk, &e) == -1,
	    "entity not an object refused");
	json_decref(v);
	v = parse("{\"f\":1.5}");
	ok(mx_signjson_sign(v, "domain", "1", sk, &e) == -1 &&
	    json_object_get(v, "signatures") == NULL, "float refused");
	json_decref(v);
	v = parse("{}");
	ok(mx_signjson_sign(v, "\xff", "1", sk, &e) == -1 &&
	    mx_signjson_sign(v, "d", "\xff", sk, &e) == -1 &&
	    json_object_size(v) == 0, "non-UTF-8 signer or key id refused");
	json_decref(v);
	v = parse("[1]");
	ok(mx_signjson_sign(v, "domain", "1", sk, &e) == -1,
	    "array refused");
	json_decref(v);
	v = parse("{\"b\":{\"unsigned\":1,\"signatures\":2},\"unsigned\":3}");
	s = mx_signjson_signed_bytes(v, &e);
	is_str(s, "{\"b\":{\"signatures\":2,\"unsigned\":1}}",
	    "only top-level signatures/unsigned dropped");
	free(s);
	json_decref(v);
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_spec();
	test_tamper();
	test_bad();
	mx_wipe(sk, sizeof sk);
	return done();
}
