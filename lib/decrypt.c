/*
 * decrypt: room events decrypted, each with a verdict under "mx" (spec:
 * Client-Server API, "m.megolm.v1.aes-sha2", "Validation of incoming
 * decrypted events").  mx_e2ee_event (e2ee.h) is implemented here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "crypto.h"
#include "devices.h"
#include "e2ee.h"
#include "inbound.h"
#include "json.h"
#include "megolm.h"
#include "roomstate.h"
#include "util.h"
#include "banned.h"

/* Why a session is missing: the withheld notice, else "no key". */
static void
missing(struct mx_e2ee *x, const char *room_id, const char *sid, json_t *mx)
{
	json_t *w = mx_inbound_withheld_get(x->c->store, room_id, sid);

	if (w != NULL) {
		json_object_set_new(mx, "error",
		    json_pack("s+", "withheld: ", mx_json_str(w, "code")));
		json_object_set_new(mx, "withheld", w);
	} else
		json_object_set_new(mx, "error", json_string("no key"));
}

static void
set_error(json_t *mx, const char *why)
{
	json_object_set_new(mx, "error", json_string(why));
}

/* Decrypt the base64 ciphertext ctb with r's session: the clear event
 * (caller's) and its index, or NULL with the reason in mx. */
static json_t *
open_ciphertext(const struct mx_inbound *r, const char *ctb, uint32_t *idx,
    json_t *mx)
{
	size_t n = 0, ptlen, max;
	uint8_t *msg = mx_xmalloc(strlen(ctb) + 1), *pt = NULL;
	json_t *clear = NULL;
	int rc;

	if (mx_b64_dec(msg, strlen(ctb), &n, ctb, strlen(ctb)) != 0) {
		set_error(mx, "bad base64");
		goto out;
	}
	max = mx_megolm_decrypt_max(n);
	pt = mx_xmalloc(max + 1);
	rc = mx_megolm_decrypt(r->s, pt, max, &ptlen, idx, msg, n, NULL);
	if (rc == MX_MEGOLM_UNKNOWN_INDEX) {
		/* A key shared from a later index (a device that joined, or
		 * learnt of us, later): missing, not forged. */
		set_error(mx, "no key for this index");
		json_object_set_new(mx, "index", json_integer(*idx));
		json_object_set_new(mx, "first_known_index",
		    json_integer(mx_megolm_in_first_index(r->s)));
		goto out;
	}
	if (rc != 0) {
		set_error(mx, "bad signature or MAC");
		goto out;
	}
	json_object_set_new(mx, "index", json_integer(*idx));
	clear = mx_json_parse((const char *)pt, ptlen, NULL);
	mx_wipe(pt, ptlen);
	if (!json_is_object(json_object_get(clear, "content")) ||
	    mx_json_str(clear, "type") == NULL) {
		json_decref(clear);
		clear = NULL;
		set_error(mx, "malformed plaintext");
	}
out:
	free(pt);
	free(msg);
	return clear;
}

/* The checks on a clear event of room_id at index idx of session r (its
 * ID sid), ev's envelope: 1 good, 0 refused (the reason in mx), -1 store
 * error. */
static int
check_clear(struct mx_e2ee *x, const char *room_id, const char *sid,
    const struct mx_inbound *r, uint32_t idx, const json_t *ev,
    const json_t *clear, json_t *mx, struct mx_err *e)
{
	const char *room = mx_json_str(clear, "room_id");
	const char *sender = mx_json_str(ev, "sender");
	int rc;

	/* A session is the user's who shared it (spec: "m.room_key", sent
	 * by Olm from that user's device): another user's event using it is
	 * a re-post or a forgery.  Refused before the replay record, so that
	 * it cannot take the index from the genuine event.  An imported
	 * session names no user (spec: "Key exports"): its events are
	 * reported unauthenticated instead. */
	if (sender == NULL ||
	    (r->sender[0] != '\0' && strcmp(sender, r->sender) != 0)) {
		set_error(mx, "session belongs to another sender");
		/* Whose it is, as recorded when its key came over Olm (not
		 * the envelope's sender_key, which the server can set): what
		 * mx-bridge-check reports, a bridge's session under its
		 * puppets. */
		if (r->sender[0] != '\0') {
			json_object_set_new(mx, "session_sender",
			    json_string(r->sender));
			json_object_set_new(mx, "session_sender_key",
			    json_string(r->sender_key));
		}
		return 0;
	}
	/* A ciphertext re-posted into another room must not pass as said
	 * there (spec: "m.megolm.v1.aes-sha2", room_id in the payload). */
	if (room == NULL || strcmp(room, room_id) != 0) {
		set_error(mx, "sent to another room");
		return 0;
	}
	rc = mx_inbound_replayed(x->c->store, sid, idx,
	    mx_json_str(ev, "event_id"), e);
	if (rc < 0)
		return mx_err_prefix(e, "cannot record the index of '%s'",
		    mx_json_str(ev, "event_id"));
	if (rc > 0)
		set_error(mx, "replay: index already used by another event");
	return !rc;
}

/* The trust in the device behind session r for an event of its sender;
 * *device_id (caller frees) when it is known. */
static enum mx_trust
sender_trust(struct mx_e2ee *x, const struct mx_inbound *r, const char *sender,
    char **device_id)
{
	struct mx_device d;
	enum mx_trust t;
	struct mx_err e;

	if (strcmp(r->sender_key, x->curve) == 0 &&
	    strcmp(r->ed, x->ed) == 0 &&
	    strcmp(sender, x->c->sess.user_id) == 0) {
		*device_id = mx_xstrdup(x->c->sess.device_id);
		return MX_TRUST_VERIFIED; /* this device: ourselves */
	}
	mx_err_clear(&e);
	if (mx_devices_by_curve(&x->c->api, x->c->store, sender, r->sender_key,
		&d, &e) != 1)
		return MX_TRUST_UNKNOWN;
	t = strcmp(d.ed, r->ed) != 0 ? MX_TRUST_MISMATCH : d.trust;
	*device_id = mx_xstrdup(d.device_id);
	mx_device_release(&d);
	return t;
}

/* The verdict on a decrypted event of sender under "mx", and its clear
 * type and content in place of the envelope in o. */
static void
accept(struct mx_e2ee *x, const struct mx_inbound *r, json_t *o,
    const json_t *clear, json_t *mx)
{
	const char *sender = mx_json_str(o, "sender"); /* r's: checked */
	json_t *rel = json_object_get(json_object_get(o, "content"),
		   "m.relates_to"),
	       *cc = json_object_get(clear, "content");
	char *dev = NULL;
	int imported = strcmp(r->source, MX_INBOUND_OLM) != 0;
	enum mx_trust t =
	    imported ? MX_TRUST_UNKNOWN : sender_trust(x, r, sender, &dev);

	json_object_set_new(mx, "decrypted", json_true());
	json_object_set_new(mx, "sender_key", json_string(r->sender_key));
	if (dev != NULL)
		json_object_set_new(mx, "device_id", json_string(dev));
	/* A key from an export file or a backup carries only claimed keys
	 * (spec: "Key exports", "Server-side key backups"): nothing proves the sender's device made the session,
	 * whatever we think of that device. */
	json_object_set_new(mx, "trust",
	    json_string(
		imported ? MX_TRUST_UNAUTHENTICATED_NAME : mx_trust_name(t)));
	json_object_set_new(mx, "key_source", json_string(r->source));
	free(dev);
	/* The spec ("m.room.encrypted": "m.relates_to" is sent in the clear
	 * so that the server can aggregate) leaves the relation outside what
	 * the Megolm MAC covers: the server or anyone re-posting may change
	 * it.  Kept, but marked; a clear copy that contradicts the encrypted
	 * one loses to it and is marked too. */
	if (rel != NULL && json_object_get(cc, "m.relates_to") == NULL) {
		json_object_set(cc, "m.relates_to", rel);
		json_object_set_new(mx, "relates_to_unauthenticated",
		    json_true());
	} else if (rel != NULL &&
	    !json_equal(rel, json_object_get(cc, "m.relates_to")))
		json_object_set_new(mx, "relates_to_mismatch", json_true());
	json_object_set(o, "type", json_object_get(clear, "type"));
	json_object_set(o, "content", cc);
}

/* Decrypt o (a copy of the event) in place; the verdict goes into mx.
 * -1 with e only when the store fails. */
static int
decrypt(struct mx_e2ee *x, const char *room_id, json_t *o, json_t *mx,
    struct mx_err *e)
{
	const json_t *c = json_object_get(o, "content");
	const char *sid = mx_json_str(c, "session_id");
	const char *ctb = mx_json_str(c, "ciphertext");
	const char *alg = mx_json_str(c, "algorithm");
	struct mx_inbound r;
	json_t *clear;
	uint32_t idx;
	int rc;

	if (sid == NULL || ctb == NULL || alg == NULL ||
	    strcmp(alg, MX_MEGOLM_ALG) != 0) {
		set_error(mx, "unknown algorithm");
		return 0;
	}
	json_object_set_new(mx, "session_id", json_string(sid));
	if ((rc = mx_inbound_load(x->c->store, room_id, sid, &r, e)) <= 0) {
		if (rc == 0)
			missing(x, room_id, sid, mx);
		return rc;
	}
	if ((clear = open_ciphertext(&r, ctb, &idx, mx)) != NULL &&
	    (rc = check_clear(x, room_id, sid, &r, idx, o, clear, mx, e)) == 1)
		accept(x, &r, o, clear, mx);
	json_decref(clear);
	mx_inbound_release(&r);
	return rc < 0 ? -1 : 0;
}

/* Whether room_id is encrypted: 1, 0, or -1 when it cannot be told
 * (then a notice).  Remembered for the run (x->enc_memo): encrypted for
 * good, "not encrypted" as long as the store believes it. */
static int
room_encrypted(struct mx_e2ee *x, const char *room_id)
{
	json_t *m = json_object_get(x->enc_memo, room_id), *enc = NULL;
	struct mx_err e;
	int rc;

	if (json_is_true(m))
		return 1;
	if (json_is_integer(m) &&
	    mx_time_ms() - json_integer_value(m) < MX_ROOMSTATE_PLAIN_MS)
		return 0;
	mx_err_clear(&e);
	if ((rc = mx_roomstate_encryption(x->c, room_id, &enc, &e)) < 0) {
		mx_notice(&x->c->notice, 1,
		    "cannot tell whether '%s' is encrypted: %s", room_id,
		    e.msg);
		return -1;
	}
	json_decref(enc);
	json_object_set_new(x->enc_memo, room_id,
	    rc > 0 ? json_true() : json_integer(mx_time_ms()));
	return rc > 0;
}

/* An event that came in the clear, o: in an encrypted room it says so, mx
 * {"encrypted": false}, for the server (or any member) can post cleartext
 * into an encrypted room and it must not read like a decrypted message
 * (spec: "m.room.encryption"; mx(7), threat model).  State events are
 * never encrypted; they are marked as well.  An m.room.encryption event
 * is remembered: what follows it in the room is encrypted. */
static int
mark_clear(struct mx_e2ee *x, const char *room_id, const char *type, json_t *o,
    struct mx_err *e)
{
	json_t *mx;

	if (x == NULL || type == NULL)
		return 0;
	if (strcmp(type, "m.room.encryption") == 0 &&
	    json_is_string(json_object_get(o, "state_key")) &&
	    !json_is_true(json_object_get(x->enc_memo, room_id))) {
		if (mx_roomstate_encrypted(x->c, room_id,
			json_object_get(o, "content"), e) != 0)
			return -1;
		json_object_set_new(x->enc_memo, room_id, json_true());
	}
	if (room_encrypted(x, room_id) != 1)
		return 0;
	if ((mx = json_object_get(o, "mx")) == NULL)
		json_object_set_new(o, "mx", mx = json_object());
	json_object_set_new(mx, "encrypted", json_false());
	return 0;
}

int
mx_e2ee_event(struct mx_e2ee *x, const char *room_id, const json_t *ev,
    int raw, json_t **out, struct mx_err *e)
{
	json_t *o = json_copy((json_t *)ev), *mx;
	const char *type = mx_json_str(ev, "type");

	*out = o;
	/* "mx" is ours: a verdict the server put in an event must not pass
	 * as mx's own. */
	json_object_del(o, "mx");
	json_object_set_new(o, "room_id", json_string(room_id));
	if (type == NULL || strcmp(type, "m.room.encrypted") != 0 ||
	    json_object_get(ev, "state_key")) {
		if (mark_clear(x, room_id, type, o, e) == 0)
			return 0;
		json_decref(o);
		*out = NULL;
		return -1;
	}
	mx = json_pack("{s:b,s:b,s:s?}", "encrypted", 1, "decrypted", 0,
	    "algorithm",
	    mx_json_str(json_object_get(ev, "content"), "algorithm"));
	json_object_set_new(o, "mx", mx);
	if (raw)
		json_object_set_new(mx, "raw", json_deep_copy(ev));
	/* content is replaced below: o must not share it with ev. */
	json_object_set_new(o, "content",
	    json_deep_copy(json_object_get(ev, "content")));
	if (x == NULL) {
		set_error(mx, "no keys (no profile store)");
		return 0;
	}
	if (decrypt(x, room_id, o, mx, e) == 0)
		return 0;
	json_decref(o);
	*out = NULL;
	return -1;
}
