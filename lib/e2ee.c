/*
 * e2ee: Olm and Megolm put to work on a Matrix session (see e2ee.h): the
 * handle, the /sync entry and the refresh before a send.  The parts:
 * account.c (this device's keys), todevice.c (Olm sessions, to-device
 * messages), roomstate.c (rooms' encryption and members), inbound.c
 * (others' Megolm sessions), outbound.c (ours, shared and used), decrypt.c
 * (room events and their verdict).
 *
 * Store rows of e2ee/send_pos: the /sync position of mx_e2ee_refresh.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "api.h"
#include "devices.h"
#include "e2ee.h"
#include "keybackup.h"
#include "msg.h"
#include "inbound.h"
#include "inbox.h"
#include "json.h"
#include "roomstate.h"
#include "store.h"
#include "sync.h"
#include "todevice.h"
#include "util.h"
#include "banned.h"

int
mx_e2ee_open(struct mx_e2ee **xp, struct mx_ctx *c, struct mx_err *e)
{
	struct mx_e2ee *x;

	*xp = NULL;
	if (c->store == NULL)
		return mx_err_set(e, MX_USAGE,
		    "encryption needs a profile store (run mx-keys login)");
	if (mx_ctx_whoami(c, e) != 0)
		return -1;
	if (c->sess.device_id == NULL)
		return mx_err_set(e, MX_LOCAL, "the session has no device ID");
	x = mx_xcalloc(1, sizeof(*x));
	x->c = c;
	x->enc_memo = json_object();
	if (mx_account_open(x, e) != 0) {
		mx_e2ee_close(x);
		return -1;
	}
	*xp = x;
	return 0;
}

/* Upload the room keys not yet in the profile's key backup, if it has
 * one (spec: "Server-side key backups"); a failure is a warning, the
 * keys stay marked for the next run. */
static void
backup_flush(struct mx_e2ee *x)
{
	struct mx_err e;
	size_t n = 0;

	mx_err_clear(&e);
	if (x->c->store == NULL || x->acct == NULL)
		return;
	if (mx_keybackup_flush(&x->c->api, x->c->store, &n, &e) != 0)
		mx_notice(&x->c->notice, 0,
		    "room keys not backed up (next time): %s", e.msg);
	else if (n > 0)
		mx_notice(&x->c->notice, 1, "backed up %zu room key(s)", n);
}

void
mx_e2ee_close(struct mx_e2ee *x)
{
	if (x == NULL)
		return;
	backup_flush(x);
	mx_olm_account_free(x->acct);
	json_decref(x->enc_memo);
	free(x);
}

const char *
mx_e2ee_curve25519(const struct mx_e2ee *x)
{
	return x->curve;
}

const char *
mx_e2ee_ed25519(const struct mx_e2ee *x)
{
	return x->ed;
}

int
mx_e2ee_account_pickle(struct mx_e2ee *x, char **pickle, size_t *n,
    struct mx_err *e)
{
	return mx_account_pickle(x, pickle, n, e);
}

int
mx_e2ee_forget(struct mx_store *s, struct mx_err *e)
{
	static const char *const ns[] = { "e2ee", "olm", "megolm_out",
		"megolm_in", "megolm_idx", "withheld", "keybackup",
		"backup_on", "backup_todo", "inbox" };
	size_t i;

	if (mx_store_begin(s, e) != 0)
		return -1;
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (mx_store_clear(s, ns[i], e) != 0) {
			mx_store_rollback(s);
			return -1;
		}
	return mx_store_commit(s, e);
}

/* One to-device event: a withheld notice is remembered; an Olm message is
 * decrypted and a room key in it kept; verification and secret-sharing
 * events, in the clear or decrypted, go to the inbox for mx-verify.  What
 * cannot be used is skipped with a notice; only a temporary failure stops
 * the sync. */
static int
to_device(struct mx_e2ee *x, const json_t *ev, struct mx_err *e)
{
	const char *type = mx_json_str(ev, "type");
	const char *sender = mx_json_str(ev, "sender");
	const json_t *c = json_object_get(ev, "content");
	const char *alg = mx_json_str(c, "algorithm");
	struct mx_err oe;
	json_t *pl;
	int rc = 0;

	if (type == NULL || sender == NULL || !json_is_object(c))
		return 0;
	if (strcmp(type, "m.room_key.withheld") == 0)
		return mx_inbound_withheld(x->c->store, c, e);
	if (mx_inbox_wants(type))
		return mx_inbox_put(x->c->store, sender, type, c, NULL,
		    mx_time_ms(), e);
	if (strcmp(type, "m.room.encrypted") != 0 || alg == NULL ||
	    strcmp(alg, MX_OLM_ALG) != 0)
		return 0;
	mx_err_clear(&oe);
	if (mx_todevice_decrypt(x, sender, c, &pl, &oe) != 0) {
		mx_notice(&x->c->notice, 1,
		    "cannot decrypt a to-device message from %s: %s", sender,
		    oe.msg);
		return oe.status == MX_TEMP ? (*e = oe, -1) : 0;
	}
	type = mx_json_str(pl, "type");
	if (strcmp(type, "m.room_key") == 0)
		rc = mx_inbound_room_key(x, sender,
		    mx_json_str(c, "sender_key"), pl, e);
	else if (mx_inbox_wants(type))
		rc = mx_inbox_put(x->c->store, sender, type,
		    json_object_get(pl, "content"),
		    mx_json_str(c, "sender_key"), mx_time_ms(), e);
	else if (strcmp(type, "m.dummy") != 0)
		/* m.forwarded_room_key answers requests we never make. */
		mx_notice(&x->c->notice, 1, "ignoring an encrypted %s from %s",
		    type, sender);
	/* An m.secret.send carries a secret (kept sealed in the inbox). */
	mx_inbox_wipe_secret(json_object_get(pl, "content"));
	json_decref(pl);
	return rc;
}

int
mx_e2ee_sync(struct mx_e2ee *x, const json_t *resp, struct mx_err *e)
{
	const json_t *ev,
	    *fb = json_object_get(resp, "device_unused_fallback_key_types"),
	    *v;
	json_t *counts = json_object_get(resp, "device_one_time_keys_count");
	json_t *cnt = json_object_get(counts, "signed_curve25519");
	long have = -1;
	size_t i;
	int rc, has_fb = 0;

	rc = mx_devices_changed(x->c->store,
	    json_object_get(resp, "device_lists"), e);
	json_array_foreach(json_object_get(json_object_get(resp, "to_device"),
			       "events"),
	    i, ev)
		if (rc == 0)
			rc = to_device(x, ev, e);
	json_array_foreach(fb, i, v)
		has_fb |= json_is_string(v) &&
		    strcmp(json_string_value(v), "signed_curve25519") == 0;
	/* An algorithm missing from the counts has none left (spec:
	 * "Extensions to /sync"); no counts at all say nothing, and neither
	 * does an absent fallback list. */
	if (json_is_object(counts))
		have = (long)json_integer_value(cnt);
	if (rc == 0)
		rc = mx_account_top_up(x, have, json_is_array(fb) && !has_fb,
		    e);
	if (rc == 0)
		backup_flush(x);
	return rc;
}

/* The /sync filter of mx_e2ee_refresh: only room_id's membership,
 * encryption and history visibility (caller frees).  A first sync names
 * this moment, so that Synapse cannot give back the answer it cached for
 * the same request (the members are taken from it). */
static char *
refresh_filter(const char *room_id, int first)
{
	static const char types[] = "[\"m.room.member\",\"m.room.encryption\","
				    "\"m.room.history_visibility\"]";
	json_t *rid = json_string(room_id);
	char *rj = mx_json_compact(rid), *filter;

	json_decref(rid);
	filter =
	    mx_xasprintf("{\"presence\":{\"not_types\":[\"*\",\"mx.now.%lld\"]"
			 "},"
			 "\"account_"
			 "data\":{\"not_types\":[\"*\"]},\"room\":{\"rooms\":["
			 "%s],\"timeline\":{\"limit\":50,\"types\":%s},"
			 "\"state\":{\"types\":%s},\"ephemeral\":{\"not_"
			 "types\":[\"*\"]},\"account_data\":{\"not_types\":["
			 "\"*\"]}}}",
		first ? mx_time_ms() : 0LL, rj, types, types);
	free(rj);
	return filter;
}

int
mx_e2ee_refresh(struct mx_e2ee *x, const char *room_id, struct mx_err *e)
{
	char *since = NULL, *filter = NULL;
	struct mx_store *st = x->c->store;
	json_t *resp = NULL, *room;
	const char *nb;
	int rc;

	rc = mx_store_get(st, "e2ee", "send_pos", &since, NULL, e);
	if (rc >= 0) {
		filter = refresh_filter(room_id, since == NULL);
		rc = mx_api_sync(&x->c->api, since, filter, 0, &resp, e);
	}
	free(filter);
	if (rc == 0)
		rc = mx_e2ee_sync(x, resp, e);
	room = json_object_get(json_object_get(json_object_get(resp, "rooms"),
				   "join"),
	    room_id);
	if (rc == 0)
		rc = mx_roomstate_news(x->c, room_id, room, e);
	/* A first sync, or the one that brings our join, tells the whole
	 * state, not its changes. */
	if (rc == 0 &&
	    (since == NULL ||
		mx_roomstate_joined_now(room, x->c->sess.user_id)))
		rc = mx_roomstate_full(x->c, room_id, room, e);
	if (rc == 0 && (nb = mx_sync_next_batch(resp)) != NULL)
		rc = mx_store_put(st, "e2ee", "send_pos", nb, strlen(nb), e);
	json_decref(resp);
	free(since);
	return rc;
}

int
mx_e2ee_room_encryption(struct mx_ctx *c, const char *room_id, json_t **enc,
    struct mx_err *e)
{
	return mx_roomstate_encryption(c, room_id, enc, e);
}

int
mx_e2ee_verify_device(struct mx_ctx *c, const char *user,
    const char *device_id, const char *ed, struct mx_err *e)
{
	return mx_devices_verify(&c->api, c->store, user, device_id, ed, e);
}
