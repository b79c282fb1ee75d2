/*
 * sigcheck: whose signature a signed Matrix JSON object carries.  See
 * sigcheck.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "util.h"
#include "b64.h"
#include "crypto.h"
#include "signjson.h"
#include "sigcheck.h"
#include "banned.h"

/* 1 when signatures[entity][kid] on obj verifies with the base64 key. */
static int
sig_ok(const json_t *obj, const char *entity, const char *kid,
    const char *key_b64)
{
	uint8_t pub[MX_ED25519_PUB_LEN];

	if (key_b64 == NULL || !mx_startswith(kid, "ed25519:") ||
	    mx_b64_dec_exact(pub, sizeof(pub), key_b64) != 0)
		return 0;
	return mx_signjson_verify(obj, entity, kid + 8, pub, NULL) == 0;
}

/* Any signature the key makes valid. */
void
mx_sigcheck_key(const json_t *obj, const char *key, struct mx_sigcheck *v)
{
	const json_t *sigs = json_object_get(obj, "signatures"), *by, *x;
	const char *entity, *kid;

	memset(v, 0, sizeof(*v));
	v->what = "signed by the key given";
	json_object_foreach((json_t *)sigs, entity, by)
		json_object_foreach((json_t *)by, kid, x)
			if (!v->ok && sig_ok(obj, entity, kid, key)) {
				v->ok = 1;
				v->signer = entity;
				snprintf(v->key_id, sizeof(v->key_id), "%s",
				    kid);
			}
}

/* A server's keys (spec: Server-Server API, "Publishing Keys"): signed by
 * the server itself with each of its verify_keys, all of which must hold. */
void
mx_sigcheck_server(const json_t *obj, const char *name, struct mx_sigcheck *v)
{
	const json_t *vk = json_object_get(obj, "verify_keys"), *k;
	const char *kid, *sn = mx_json_str(obj, "server_name");
	int bad = 0, good = 0;

	memset(v, 0, sizeof(*v));
	v->what = "server keys signed by the server";
	if (sn == NULL || strcmp(sn, name) != 0)
		return;
	json_object_foreach((json_t *)vk, kid, k) {
		if (sig_ok(obj, name, kid, mx_json_str(k, "key"))) {
			good++;
			v->signer = name;
			snprintf(v->key_id, sizeof(v->key_id), "%s", kid);
		} else
			bad++;
	}
	v->ok = good > 0 && bad == 0;
}

/* Device keys (spec: "Device keys"): signed by their own Ed25519 key. */
void
mx_sigcheck_device(const json_t *obj, struct mx_sigcheck *v)
{
	const char *user = mx_json_str(obj, "user_id"),
		   *dev = mx_json_str(obj, "device_id");
	char *kid = mx_xasprintf("ed25519:%s", dev);

	memset(v, 0, sizeof(*v));
	v->what = "device keys signed by the device";
	if (sig_ok(obj, user, kid,
		mx_json_str(json_object_get(obj, "keys"), kid))) {
		v->ok = 1;
		v->signer = user;
		snprintf(v->key_id, sizeof(v->key_id), "%s", kid);
	}
	free(kid);
}
