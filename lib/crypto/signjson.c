/*
 * signjson: spec Appendices, "Signing Details" and "Checking for a
 * Signature".  Only the top-level "signatures" and "unsigned" are left out
 * of the signed bytes; nested ones are signed like any other member.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "json.h"
#include "signjson.h"
#include "util.h"
#include "banned.h"

char *
mx_signjson_signed_bytes(const json_t *obj, struct mx_err *e)
{
	json_t *copy;
	char *s;

	if (!json_is_object(obj)) {
		mx_err_set(e, MX_LOCAL, "signed json: not an object");
		return NULL;
	}
	/* A shallow copy shares the members; obj itself is never touched. */
	copy = json_copy((json_t *)obj);
	json_object_del(copy, "signatures");
	json_object_del(copy, "unsigned");
	s = mx_json_canonical(copy, e);
	json_decref(copy);
	if (s == NULL)
		mx_err_prefix(e, "signed json");
	return s;
}

/* jansson refuses keys that are not UTF-8: check before changing obj. */
static int
utf8(const char *s)
{
	json_t *v = json_string(s);

	json_decref(v);
	return v != NULL;
}

/* signatures[entity], created as needed; NULL when either is no object. */
static json_t *
sig_slot(json_t *obj, const char *entity)
{
	json_t *sigs, *ent;

	if ((sigs = json_object_get(obj, "signatures")) == NULL) {
		sigs = json_object();
		json_object_set_new(obj, "signatures", sigs);
	}
	if (!json_is_object(sigs))
		return NULL;
	if ((ent = json_object_get(sigs, entity)) == NULL) {
		ent = json_object();
		json_object_set_new(sigs, entity, ent);
	}
	return json_is_object(ent) ? ent : NULL;
}

int
mx_signjson_sign(json_t *obj, const char *entity, const char *key_id,
    const uint8_t sk[MX_ED25519_SK_LEN], struct mx_err *e)
{
	uint8_t sig[MX_ED25519_SIG_LEN];
	char b64[MX_ED25519_SIG_LEN * 2], *msg, *name;
	json_t *slot;

	name = mx_xasprintf("ed25519:%s", key_id);
	if (!utf8(entity) || !utf8(name)) {
		free(name);
		return mx_err_set(e, MX_LOCAL,
		    "signed json: signer or key id is not UTF-8");
	}
	if ((msg = mx_signjson_signed_bytes(obj, e)) == NULL) {
		free(name);
		return -1;
	}
	/* sig_slot changes nothing when it fails. */
	if ((slot = sig_slot(obj, entity)) == NULL) {
		free(msg);
		free(name);
		return mx_err_set(e, MX_LOCAL,
		    "signed json: malformed signatures");
	}
	mx_ed25519_sign(sig, msg, strlen(msg), sk);
	free(msg);
	mx_b64_enc(b64, sig, sizeof sig);
	json_object_set_new(slot, name, json_string(b64));
	free(name);
	return 0;
}

/* The decoded signature; -1 when absent or not 64 bytes of base64. */
static int
find_sig(uint8_t sig[MX_ED25519_SIG_LEN], const json_t *obj,
    const char *entity, const char *key_id)
{
	const json_t *s;
	const char *v;
	char *name;

	s = json_object_get(json_object_get(obj, "signatures"), entity);
	name = mx_xasprintf("ed25519:%s", key_id);
	v = json_string_value(json_object_get(s, name));
	free(name);
	if (v == NULL)
		return -1;
	return mx_b64_dec_exact(sig, MX_ED25519_SIG_LEN, v);
}

int
mx_signjson_verify(const json_t *obj, const char *entity, const char *key_id,
    const uint8_t pub[MX_ED25519_PUB_LEN], struct mx_err *e)
{
	uint8_t sig[MX_ED25519_SIG_LEN];
	char *msg;
	int rc;

	if (find_sig(sig, obj, entity, key_id) != 0)
		return mx_err_set(e, MX_NO,
		    "no valid signature by %s ed25519:%s", entity, key_id);
	if ((msg = mx_signjson_signed_bytes(obj, e)) == NULL)
		return -1;
	rc = mx_ed25519_verify(sig, msg, strlen(msg), pub);
	free(msg);
	if (rc != 0)
		return mx_err_set(e, MX_NO, "bad signature by %s ed25519:%s",
		    entity, key_id);
	return 0;
}
