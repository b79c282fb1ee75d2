/*
 * devreport: a device of the audit as mx-keys devices reports it: the
 * fingerprint's groups, the trust's word, who still wants verifying, the
 * JSON line, its keys in the order the program prints them.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "devices.h"
#include "devreport.h"
#include "json.h"
#include "tap.h"

static void
set_dev(struct mx_device *d, char *user, char *device, enum mx_trust t)
{
	memset(d, 0, sizeof(*d));
	d->user_id = user;
	d->device_id = device;
	snprintf(d->curve, sizeof(d->curve), "CURVE");
	snprintf(d->ed, sizeof(d->ed), "abcdefghij");
	d->trust = t;
}

static void
test_words(void)
{
	struct mx_device d;
	char *fp;

	fp = mx_devreport_fingerprint("abcdefghij");
	is_str(fp, "abcd efgh ij", "fingerprint in groups of four");
	free(fp);
	fp = mx_devreport_fingerprint("abcdefgh");
	is_str(fp, "abcd efgh", "no blank after the last whole group");
	free(fp);
	fp = mx_devreport_fingerprint("");
	is_str(fp, "", "empty key, empty fingerprint");
	free(fp);

	set_dev(&d, "@a:hs", "DEV", MX_TRUST_TOFU);
	is_str(mx_devreport_trust(&d), "tofu", "trust word");
	d.forged = 1;
	is_str(mx_devreport_trust(&d), "forged", "a forged device says so");
}

static void
test_unverified(void)
{
	struct mx_device d;

	set_dev(&d, "@a:hs", "DEV", MX_TRUST_TOFU);
	ok(mx_devreport_is_self(&d, "@a:hs", "DEV"), "our own device");
	ok(!mx_devreport_is_self(&d, "@b:hs", "DEV"), "another user's DEV");
	ok(!mx_devreport_is_self(&d, "@a:hs", NULL), "our device not known");
	ok(mx_devreport_unverified(&d, "@b:hs", "X"), "tofu is unverified");
	ok(!mx_devreport_unverified(&d, "@a:hs", "DEV"),
	    "our own device never is");
	d.trust = MX_TRUST_CROSS_SIGNED;
	ok(!mx_devreport_unverified(&d, "@b:hs", "X"), "cross-signed is not");
	d.trust = MX_TRUST_VERIFIED;
	ok(!mx_devreport_unverified(&d, "@b:hs", "X"), "verified is not");
	d.forged = 1;
	ok(mx_devreport_unverified(&d, "@b:hs", "X"),
	    "forged is, whatever its trust");
}

static void
test_json(void)
{
	struct mx_device d;
	json_t *j, *mine;
	char *s;

	set_dev(&d, "@b:hs", "BDEV", MX_TRUST_CROSS_SIGNED);
	d.xsigned = 1;
	j = mx_devreport_json(&d, "@a:hs", "ADEV", NULL);
	s = mx_json_compact(j);
	is_str(s,
	    "{\"user_id\":\"@b:hs\",\"device_id\":\"BDEV\","
	    "\"display_name\":null,\"curve25519\":\"CURVE\","
	    "\"ed25519\":\"abcdefghij\",\"fingerprint\":\"abcd efgh ij\","
	    "\"self_signed\":true,\"cross_signed\":true,"
	    "\"master_key\":null,\"master_verified\":false,"
	    "\"trust\":\"cross-signed\",\"identity_changed\":false,"
	    "\"first_seen\":null}",
	    "another user's device, nothing optional known");
	free(s);
	json_decref(j);

	set_dev(&d, "@a:hs", "ADEV", MX_TRUST_VERIFIED);
	d.name = "laptop";
	snprintf(d.master, sizeof(d.master), "MASTER");
	d.first_seen = 1700000000000LL;
	mine = json_pack("[{s:s,s:i},{s:s,s:i,s:s}]", "device_id", "OTHER",
	    "last_seen_ts", 1, "device_id", "ADEV", "last_seen_ts", 42,
	    "last_seen_ip", "10.0.0.1");
	j = mx_devreport_json(&d, "@a:hs", "ADEV", mine);
	ok(json_integer_value(json_object_get(j, "last_seen_ts")) == 42 &&
		strcmp(mx_json_str(j, "last_seen_ip"), "10.0.0.1") == 0,
	    "our device: last seen from GET /devices");
	ok(json_is_true(json_object_get(j, "current")), "current: true");
	is_str(mx_json_str(j, "display_name"), "laptop", "display name");
	is_str(mx_json_str(j, "master_key"), "MASTER", "master key");
	ok(json_integer_value(json_object_get(j, "first_seen")) ==
		1700000000000LL,
	    "first seen");
	json_decref(j);

	d.device_id = "GONE";
	j = mx_devreport_json(&d, "@a:hs", "ADEV", mine);
	ok(json_is_null(json_object_get(j, "last_seen_ts")) &&
		json_is_null(json_object_get(j, "last_seen_ip")) &&
		json_object_get(j, "current") == NULL,
	    "our other device not in GET /devices: nulls, not current");
	json_decref(j);
	j = mx_devreport_json(&d, "@a:hs", "ADEV", NULL);
	ok(json_object_get(j, "last_seen_ts") == NULL,
	    "GET /devices not asked: no last_seen");
	json_decref(j);
	json_decref(mine);
}

int
main(void)
{
	test_words();
	test_unverified();
	test_json();
	return done();
}
