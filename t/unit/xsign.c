/*
 * xsign: mx_xsign_check_published, the check import makes of a /keys/query
 * answer before it takes any key from secret storage (spec: Client-Server
 * API, "Cross-signing": the master key signs the self-signing and
 * user-signing keys).  A server may publish keys of its own beside the
 * real master key; each such answer is refused with MX_NO.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "json.h"
#include "signjson.h"
#include "tap.h"
#include "xsign.h"

#define ME "@me:hs"

struct kp {
	uint8_t seed[32], sk[64], pub[32];
	char b64[44];
};

static void
kp_new(struct kp *k)
{
	mx_random(k->seed, sizeof(k->seed));
	mx_ed25519_from_seed(k->pub, k->sk, k->seed);
	mx_b64_enc(k->b64, k->pub, sizeof(k->pub));
}

/* The CrossSigningKey object of k, signed by signer (NULL: unsigned). */
static json_t *
key_obj(const char *usage, const struct kp *k, const struct kp *signer)
{
	struct mx_err e;
	char kid[64];
	json_t *o;

	snprintf(kid, sizeof(kid), "ed25519:%s", k->b64);
	o = json_pack("{s:s,s:[s],s:{s:s}}", "user_id", ME, "usage", usage,
	    "keys", kid, k->b64);
	if (signer != NULL)
		mx_signjson_sign(o, ME, signer->b64, signer->sk, &e);
	return o;
}

/* A /keys/query answer publishing mk (or none), ssk and usk. */
static json_t *
answer(const struct kp *mk, json_t *ssk, json_t *usk)
{
	json_t *q =
	    json_pack("{s:{s:o},s:{s:o},s:{s:{}}}", "self_signing_keys", ME,
		ssk, "user_signing_keys", ME, usk, "device_keys", ME);

	if (mk != NULL)
		json_object_set_new(q, "master_keys",
		    json_pack("{s:o}", ME, key_obj("master", mk, NULL)));
	return q;
}

static void
check(json_t *q, int want_ok, const char *want_msg, const char *name)
{
	struct mx_err e;
	int rc;

	mx_err_clear(&e);
	rc = mx_xsign_check_published(q, ME, &e);
	if (want_ok)
		ok(rc == 0, "%s: accepted (%s)", name, e.msg);
	else {
		ok(rc == -1 && e.status == MX_NO, "%s: refused, MX_NO", name);
		is_str(e.msg, want_msg, name);
	}
	json_decref(q);
}

int
main(void)
{
	struct kp mk, ssk, usk, mal;
	json_t *o;

	mx_crypto_init();
	kp_new(&mk);
	kp_new(&ssk);
	kp_new(&usk);
	kp_new(&mal);
	check(answer(&mk, key_obj("self_signing", &ssk, &mk),
		  key_obj("user_signing", &usk, &mk)),
	    1, NULL, "both signed by the master key");
	check(answer(&mk, key_obj("self_signing", &mal, &mal),
		  key_obj("user_signing", &usk, &mk)),
	    0,
	    "the published self_signing key of " ME
	    " is not signed by its master key",
	    "a self-signing key of the server's, signed by itself");
	check(answer(&mk, key_obj("self_signing", &ssk, &mk),
		  key_obj("user_signing", &mal, NULL)),
	    0,
	    "the published user_signing key of " ME
	    " is not signed by its master key",
	    "an unsigned user-signing key");
	/* The master key's signature, moved onto another key. */
	o = key_obj("self_signing", &ssk, &mk);
	json_object_set_new(o, "keys",
	    json_pack("{s:s}", "ed25519:x", mal.b64));
	check(answer(&mk, o, key_obj("user_signing", &usk, &mk)), 0,
	    "the published self_signing key of " ME
	    " is not signed by its master key",
	    "a signature of the master key over other keys");
	check(answer(&mal, key_obj("self_signing", &ssk, &mk),
		  key_obj("user_signing", &usk, &mk)),
	    0,
	    "the published self_signing key of " ME
	    " is not signed by its master key",
	    "keys signed by a master key that is not the published one");
	check(answer(NULL, key_obj("self_signing", &ssk, &mk),
		  key_obj("user_signing", &usk, &mk)),
	    0, "the server publishes no master key of " ME, "no master key");
	check(answer(&mk, key_obj("self_signing", &ssk, &mk), json_null()), 0,
	    "the published user_signing key of " ME
	    " is not signed by its master key",
	    "no user-signing key");
	return done();
}
