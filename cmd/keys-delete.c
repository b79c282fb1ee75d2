/*
 * keys-delete: mx-keys delete, our own devices by name or by age, with
 * user-interactive auth (spec: "Device management").
 */
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "json.h"
#include "keys.h"
#include "banned.h"

/* Our device of id in the GET /devices list, or NULL (borrowed). */
static json_t *
find_device(json_t *devs, const char *id)
{
	json_t *d;
	size_t i;

	json_array_foreach(devs, i, d) {
		const char *did = mx_json_str(d, "device_id");

		if (did != NULL && strcmp(did, id) == 0)
			return d;
	}
	return NULL;
}

/*
 * The devices to delete, from the operands or --older-than: a device the
 * server never saw in use (no last_seen_ts) has no age and is not old; the
 * profile's own device only with --force.  Returns a new array of the
 * GET /devices entries (borrowed entries, increfed), or NULL with e set.
 */
static json_t *
pick_devices(struct mx_ctx *c, const struct keys_opt *o, json_t *devs,
    int argc, char **argv, struct mx_err *e)
{
	long long cut = mx_time_ms() - o->older_than * 86400000LL;
	json_t *pick = json_array(), *d, *ts;
	const char *id;
	size_t i;
	int k;

	for (k = 0; k < argc; k++) {
		if ((d = find_device(devs, argv[k])) == NULL) {
			json_decref(pick);
			mx_err_set(e, MX_PERM, "no device '%s' of ours",
			    argv[k]);
			return NULL;
		}
		if (strcmp(argv[k], c->sess.device_id) == 0 && !o->force) {
			json_decref(pick);
			mx_err_set(e, MX_USAGE,
			    "'%s' is this profile's own device; use --force "
			    "to delete it (and log the profile out)",
			    argv[k]);
			return NULL;
		}
		if (find_device(pick, argv[k]) == NULL)
			json_array_append(pick, d);
	}
	json_array_foreach(o->older_than >= 0 ? devs : NULL, i, d) {
		id = mx_json_str(d, "device_id");
		ts = json_object_get(d, "last_seen_ts");
		if (id == NULL || !json_is_integer(ts) ||
		    json_integer_value(ts) >= cut)
			continue;
		if (strcmp(id, c->sess.device_id) == 0 && !o->force)
			mx_cli_note(c, 1,
			    "keeping this profile's own device %s", id);
		else
			json_array_append(pick, d);
	}
	return pick;
}

/* One line per device: id, name, last use, deleted or (--dry-run) not. */
static int
print_deleted(const json_t *pick, int deleted, struct mx_err *e)
{
	const json_t *d;
	json_t *j;
	size_t i;
	int rc = 0;

	json_array_foreach(pick, i, d) {
		json_t *name = json_object_get(d, "display_name");
		json_t *ts = json_object_get(d, "last_seen_ts");

		/* Only what has the type the spec gives passes through. */
		j = json_pack("{s:O?, s:O?, s:O?, s:b}", "device_id",
		    json_object_get(d, "device_id"), "display_name",
		    json_is_string(name) ? name : NULL, "last_seen_ts",
		    json_is_integer(ts) ? ts : NULL, "deleted", deleted);
		rc = j != NULL ? mx_cli_print_json(j, e) :
				 mx_err_set(e, MX_TEMP, "malformed device");
		json_decref(j);
		if (rc != 0)
			break;
	}
	return rc;
}

/* delete DEVICE... | --older-than DAYS: delete our own devices. */
int
keys_delete(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *devs = NULL, *pick = NULL, *ids = json_array(), *d;
	size_t i;
	int rc = -1, self = 0;

	if ((argc > 0) == (o->older_than >= 0))
		mx_cli_usage(&keys_cli,
		    "delete wants DEVICE... or --older-than "
		    "DAYS, not both");
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0 || mx_ctx_whoami(c, e) != 0)
		goto out;
	if (c->sess.device_id == NULL) {
		mx_err_set(e, MX_TEMP,
		    "the server did not say which device "
		    "this profile is");
		goto out;
	}
	if (mx_api_devices(&c->api, &devs, e) != 0) {
		mx_err_prefix(e, "cannot list our devices");
		goto out;
	}
	if ((pick = pick_devices(c, o, devs, argc, argv, e)) == NULL)
		goto out;
	json_array_foreach(pick, i, d) {
		json_array_append(ids, json_object_get(d, "device_id"));
		self |= strcmp(mx_json_str(d, "device_id"),
			    c->sess.device_id) == 0;
	}
	if (o->dry_run || json_array_size(ids) == 0)
		rc = print_deleted(pick, 0, e);
	else if (mx_api_delete_devices(&c->api, ids, c->sess.user_id,
		     o->password_stdin ? mx_cli_ask_stdin : c->ask, e) != 0)
		mx_err_prefix(e, "cannot delete devices");
	else {
		rc = print_deleted(pick, 1, e);
		/* The server logged our own device out with it. */
		if (self && keys_forget_session(c, e) != 0)
			rc = -1;
	}
out:
	json_decref(ids);
	json_decref(pick);
	json_decref(devs);
	return rc;
}
