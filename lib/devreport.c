/*
 * devreport: the audit's devices as mx-keys devices reports them
 * (devreport.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "devices.h"
#include "devreport.h"
#include "json.h"
#include "util.h"
#include "banned.h"

char *
mx_devreport_fingerprint(const char *ed)
{
	struct mx_buf b = { 0 };
	size_t i;

	mx_buf_adds(&b, "");
	for (i = 0; ed[i] != '\0'; i++) {
		if (i > 0 && i % 4 == 0)
			mx_buf_add(&b, " ", 1);
		mx_buf_add(&b, ed + i, 1);
	}
	return mx_buf_detach(&b);
}

const char *
mx_devreport_trust(const struct mx_device *d)
{
	return d->forged ? "forged" : mx_trust_name(d->trust);
}

int
mx_devreport_is_self(const struct mx_device *d, const char *self_user,
    const char *self_device)
{
	return self_device != NULL && strcmp(d->device_id, self_device) == 0 &&
	    strcmp(d->user_id, self_user) == 0;
}

int
mx_devreport_unverified(const struct mx_device *d, const char *self_user,
    const char *self_device)
{
	return !mx_devreport_is_self(d, self_user, self_device) &&
	    (d->forged ||
		(d->trust != MX_TRUST_VERIFIED &&
		    d->trust != MX_TRUST_CROSS_SIGNED));
}

/* Our own devices' entry of GET /devices (mine), or NULL. */
static const json_t *
seen_entry(const json_t *mine, const char *device_id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(mine, i, v)
		if (mx_json_str(v, "device_id") != NULL &&
		    strcmp(mx_json_str(v, "device_id"), device_id) == 0)
			return v;
	return NULL;
}

/* last_seen_ts and last_seen_ip of our device's entry in mine, onto j. */
static void
add_seen(json_t *j, const struct mx_device *d, const json_t *mine)
{
	const json_t *seen = seen_entry(mine, d->device_id);

	json_object_set(j, "last_seen_ts",
	    json_is_integer(json_object_get(seen, "last_seen_ts")) ?
		json_object_get(seen, "last_seen_ts") :
		json_null());
	json_object_set(j, "last_seen_ip",
	    json_is_string(json_object_get(seen, "last_seen_ip")) ?
		json_object_get(seen, "last_seen_ip") :
		json_null());
}

json_t *
mx_devreport_json(const struct mx_device *d, const char *self_user,
    const char *self_device, const json_t *mine)
{
	char *fp = mx_devreport_fingerprint(d->ed);
	json_t *j =
	    json_pack("{s:s,s:s,s:s?,s:s,s:s,s:s,s:b,s:b,s:s?,s:b,s:s,s:b}",
		"user_id", d->user_id, "device_id", d->device_id,
		"display_name", d->name, "curve25519", d->curve, "ed25519",
		d->ed, "fingerprint", fp, "self_signed", !d->forged,
		"cross_signed", d->xsigned, "master_key",
		d->master[0] ? d->master : NULL, "master_verified",
		d->master_verified, "trust", mx_devreport_trust(d),
		"identity_changed", d->identity_changed);

	free(fp);
	if (json_object_get(j, "display_name") == NULL)
		json_object_set_new(j, "display_name", json_null());
	if (json_object_get(j, "master_key") == NULL)
		json_object_set_new(j, "master_key", json_null());
	json_object_set_new(j, "first_seen",
	    d->first_seen ? json_integer(d->first_seen) : json_null());
	if (strcmp(d->user_id, self_user) == 0 && mine != NULL)
		add_seen(j, d, mine);
	if (mx_devreport_is_self(d, self_user, self_device))
		json_object_set_new(j, "current", json_true());
	return j;
}
