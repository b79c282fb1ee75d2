/*
 * keys-devices: mx-keys devices, the audit of users' devices (fingerprints,
 * self-signed or forged, cross-signed, identity pinning; --room, --table,
 * --unverified-exit, --snapshot), and trust, rename, accept, which change
 * what the audit says (spec: "Key management API", "Cross-signing").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "devices.h"
#include "devreport.h"
#include "e2ee.h"
#include "file.h"
#include "json.h"
#include "keys.h"
#include "room.h"
#include "util.h"
#include "banned.h"

/* Characters of UTF-8 text s (for aligning columns). */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* --table: user, device, name, fingerprint, trust; the trust coloured
 * only on a terminal and without NO_COLOR (no-color.org). */
static int
print_table(const struct mx_devlist *l, struct mx_err *e)
{
	const char *head[5] = { "USER", "DEVICE", "NAME", "FINGERPRINT",
		"TRUST" };
	const char *nc = getenv("NO_COLOR"), *col[5], *on;
	int colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	size_t w[5] = { 0 }, i, k;
	/* Per device: fingerprint, then the names the server and the
	 * device's owner chose, made printable (they go to a terminal). */
	char **fp = mx_xcalloc(4 * (l->n + 1), sizeof(*fp));

	for (k = 0; k < 5; k++)
		w[k] = width(head[k]);
	for (i = 0; i < l->n; i++) {
		fp[4 * i] = mx_devreport_fingerprint(l->v[i].ed);
		fp[4 * i + 1] = mx_cli_printable(l->v[i].user_id);
		fp[4 * i + 2] = mx_cli_printable(l->v[i].device_id);
		fp[4 * i + 3] =
		    mx_cli_printable(l->v[i].name ? l->v[i].name : "-");
		col[0] = fp[4 * i + 1];
		col[1] = fp[4 * i + 2];
		col[2] = fp[4 * i + 3];
		col[3] = fp[4 * i];
		for (k = 0; k < 4; k++)
			if (width(col[k]) > w[k])
				w[k] = width(col[k]);
	}
	for (i = 0; i <= l->n; i++) {
		if (i == 0)
			memcpy(col, head, sizeof(col));
		else {
			col[0] = fp[4 * (i - 1) + 1];
			col[1] = fp[4 * (i - 1) + 2];
			col[2] = fp[4 * (i - 1) + 3];
			col[3] = fp[4 * (i - 1)];
			col[4] = mx_devreport_trust(&l->v[i - 1]);
		}
		for (k = 0; k < 4; k++)
			printf("%s%*s  ", col[k], (int)(w[k] - width(col[k])),
			    "");
		on = !colour || i == 0 ? "" :
		    l->v[i - 1].trust >= MX_TRUST_CROSS_SIGNED &&
			!l->v[i - 1].forged ?
					 "\033[32m" :
		    l->v[i - 1].trust >= MX_TRUST_UNVERIFIED &&
			!l->v[i - 1].forged ?
					 "\033[33m" :
					 "\033[31m";
		printf("%s%s%s\n", on, col[4], *on ? "\033[0m" : "");
	}
	for (i = 0; i < 4 * l->n; i++)
		free(fp[i]);
	free(fp);
	if (fflush(stdout) != 0 || ferror(stdout))
		return mx_err_set(e, MX_LOCAL, "cannot write to stdout");
	return 0;
}

/* --snapshot FILE: the raw answer, 0600, in place at once (a temporary
 * file in the same directory renamed over FILE). */
static int
write_snapshot(const char *file, const json_t *raw, struct mx_err *e)
{
	char *s = mx_json_compact(raw), *text = mx_xasprintf("%s\n", s);
	int rc = mx_file_put(file, text, 1, e);

	free(text);
	free(s);
	return rc;
}

/* A user of the command line with no device listed: one who does not
 * exist is an error (3), one who has no device a note. */
static int
no_devices(struct mx_ctx *c, const struct mx_devlist *l, const char *user,
    struct mx_err *e)
{
	json_t *p = NULL;
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].user_id, user) == 0)
			return 0;
	if ((rc = mx_api_profile(&c->api, user, &p, e)) < 0)
		return -1;
	json_decref(p);
	if (rc == 0)
		return mx_err_set(e, MX_PERM, "unknown user '%s'", user);
	mx_cli_note(c, 0, "%s has no device with keys", user);
	return 0;
}

/* Add user to the array users unless there. */
static void
add_user(json_t *users, const char *user)
{
	const json_t *v;
	size_t i;

	json_array_foreach(users, i, v)
		if (strcmp(json_string_value(v), user) == 0)
			return;
	json_array_append_new(users, json_string(user));
}

/* The users to audit: the operands, the joined and invited members of
 * --room, or else ourselves. */
static json_t *
audit_users(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *users = json_array(), *chunk = NULL, *ev;
	const char *m, *who;
	char *room = NULL;
	size_t i, r;

	for (i = 0; i < (size_t)argc; i++)
		add_user(users, argv[i]);
	for (r = 0; r < o->nroom; r++) {
		if (mx_room_resolve(c, o->room[r], 0, &room, e) != 0 ||
		    mx_api_members(&c->api, room, &chunk, e) != 0) {
			free(room);
			json_decref(users);
			return NULL;
		}
		json_array_foreach(chunk, i, ev) {
			m = mx_json_str(json_object_get(ev, "content"),
			    "membership");
			who = mx_json_str(ev, "state_key");
			if (m != NULL && who != NULL &&
			    (strcmp(m, "join") == 0 ||
				strcmp(m, "invite") == 0))
				add_user(users, who);
		}
		json_decref(chunk);
		chunk = NULL;
		free(room);
		room = NULL;
	}
	if (json_array_size(users) == 0)
		add_user(users, c->sess.user_id);
	return users;
}

/* A changed identity, on stderr whatever -q: user, pinned and new key. */
static int
changed_identities(const struct mx_devlist *l)
{
	size_t i, k;
	int n = 0, seen;

	for (i = 0; i < l->n; i++) {
		if (!l->v[i].identity_changed)
			continue;
		for (k = 0, seen = 0; k < i; k++)
			seen |= l->v[k].identity_changed &&
			    strcmp(l->v[k].user_id, l->v[i].user_id) == 0;
		if (seen)
			continue;
		fprintf(stderr,
		    "mx-keys: %s changed their master key from %s to %s; "
		    "check with them, then run mx-keys accept %s\n",
		    l->v[i].user_id,
		    l->v[i].master[0] ? l->v[i].master : "none",
		    l->v[i].master_seen[0] ? l->v[i].master_seen : "none",
		    l->v[i].user_id);
		n++;
	}
	return n;
}

/* Print the list as JSON lines or a table. */
static int
print_devices(struct mx_ctx *c, const struct keys_opt *o,
    const struct mx_devlist *l, struct mx_err *e)
{
	json_t *mine = NULL, *j;
	struct mx_err le;
	size_t i;
	int rc = 0;

	if (o->table)
		return print_table(l, e);
	mx_err_clear(&le);
	for (i = 0; i < l->n && mine == NULL; i++)
		if (strcmp(l->v[i].user_id, c->sess.user_id) == 0 &&
		    mx_api_devices(&c->api, &mine, &le) != 0)
			break;
	if (le.status != MX_OK)
		mx_cli_note(c, 0, "cannot list our devices' last use: %s",
		    le.msg);
	for (i = 0; i < l->n && rc == 0; i++) {
		j = mx_devreport_json(&l->v[i], c->sess.user_id,
		    c->sess.device_id, mine);
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	}
	json_decref(mine);
	return rc;
}

/* devices [USER...]: every device of the users, --room's members, or
 * ourselves, forged ones included (the audit's view). */
int
keys_devices(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct mx_devlist l = { 0 };
	json_t *users, *raw = NULL;
	const char **uv;
	size_t i, n, bad = 0;
	int rc, changed;

	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0 ||
	    mx_ctx_whoami(c, e) != 0 ||
	    (users = audit_users(c, o, argc, argv, e)) == NULL)
		return -1;
	n = json_array_size(users);
	uv = mx_xcalloc(n, sizeof(*uv));
	for (i = 0; i < n; i++)
		uv[i] = json_string_value(json_array_get(users, i));
	rc = mx_devices_audit(&c->api, c->store, uv, n, &l, &raw, e);
	if (rc == 0 && o->snapshot != NULL)
		rc = write_snapshot(o->snapshot, raw, e);
	if (rc == 0)
		rc = print_devices(c, o, &l, e);
	for (i = 0; i < (size_t)argc && rc == 0; i++)
		rc = no_devices(c, &l, argv[i], e);
	for (i = 0; i < l.n; i++)
		bad += mx_devreport_unverified(&l.v[i], c->sess.user_id,
		    c->sess.device_id);
	changed = rc == 0 ? changed_identities(&l) : 0;
	if (rc == 0 && changed)
		rc = mx_err_set(e, MX_NO,
		    "%d user(s) changed their cross-signing identity",
		    changed);
	else if (rc == 0 && o->unverified_exit && bad > 0)
		rc = mx_err_set(e, MX_NO, "%zu device(s) not verified", bad);
	mx_devlist_release(&l);
	json_decref(raw);
	json_decref(users);
	free(uv);
	return rc;
}

/* trust USER DEVICE ED25519: mark the device verified, after checking
 * the fingerprint compared out of band. */
int
keys_trust(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	(void)o;
	(void)argc;
	return mx_cli_trust_fingerprint(c, argv[0], argv[1], argv[2], e);
}

/* rename DEVICE NAME: one of our devices gets a new display name. */
int
keys_rename(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0)
		return -1;
	if (mx_api_rename_device(&c->api, argv[0], argv[1], e) != 0) {
		if (e->http == 404)
			return mx_err_set(e, MX_PERM, "no device '%s' of ours",
			    argv[0]);
		return mx_err_prefix(e, "cannot rename '%s'", argv[0]);
	}
	j = json_pack("{s:s,s:s}", "device_id", argv[0], "display_name",
	    argv[1]);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}

/* accept USER: take USER's changed cross-signing keys as theirs (the
 * changed identity withholds room keys from the devices the new keys
 * sign until then). */
int
keys_accept(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *j;
	int rc;

	(void)o;
	(void)argc;
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0 ||
	    (rc = mx_devices_accept(c->store, argv[0], e)) < 0)
		return -1;
	if (rc == 0)
		mx_cli_note(c, 0,
		    "%s's cross-signing keys did not change: "
		    "nothing to accept",
		    argv[0]);
	j = json_pack("{s:s,s:b}", "user_id", argv[0], "accepted", rc);
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	return rc;
}
