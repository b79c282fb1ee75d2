/*
 * e2ee: end-to-end encryption for a session (spec: Client-Server API,
 * "End-to-End Encryption"): this device's Olm account and its keys on the
 * server, Olm sessions and to-device messages, Megolm sessions per room,
 * and the verdict on each event decrypted.  This header is the one face
 * the programs see; the parts behind it are account, todevice, roomstate,
 * inbound, outbound and decrypt.  Everything lives in the profile's store,
 * secrets sealed (namespaces "e2ee", "olm", "megolm_out", "megolm_in",
 * "megolm_idx", "withheld", "backup_on", "backup_todo", "rooms",
 * keybackup's "keybackup" (new room keys go to the profile's key backup
 * when it has one, at each sync and at mx_e2ee_close), and "inbox" for the events
 * mx-verify takes, see inbox.h); each read-modify-write is one store
 * transaction, so concurrent processes on one profile never reuse an Olm
 * chain key or a Megolm index, and a Megolm index is committed durably
 * before its ciphertext leaves the process.
 *
 * json_t results are new references owned by the caller.
 */
#ifndef MX_E2EE_H
#define MX_E2EE_H
#include <jansson.h>
#include "conf.h"
#include "err.h"

struct mx_e2ee;

/* Which devices get a room's key (mx-send --trust). */
enum mx_e2ee_policy {
	/* The default, as MSC4153 ("exclude insecure devices"): a user with
	 * cross-signing keys gets keys on the devices signed by the pinned
	 * self-signing key only; a user without, on every device whose keys
	 * never changed (trust on first use).  The others are sent
	 * m.room_key.withheld (m.unverified). */
	MX_E2EE_TOFU,
	/* devices verified by us or cross-signed by a user we verified */
	MX_E2EE_VERIFIED,
	/* every device whose keys never changed, signed or not */
	MX_E2EE_ALL,
};

/* Defaults of m.room.encryption (spec: "m.room.encryption"). */
#define MX_E2EE_ROTATION_MSGS 100
#define MX_E2EE_ROTATION_MS 604800000LL

/*
 * Load this device's account from c's store, creating it and uploading
 * its signed device keys, one-time keys and fallback key the first time.
 * c needs a store and a session (its user and device IDs are asked of the
 * server when unknown).  *x is owned by the caller (mx_e2ee_close).
 */
int mx_e2ee_open(struct mx_e2ee **x, struct mx_ctx *c, struct mx_err *e);
void mx_e2ee_close(struct mx_e2ee *x);

/* This device's identity keys (base64, borrowed). */
const char *mx_e2ee_curve25519(const struct mx_e2ee *x);
const char *mx_e2ee_ed25519(const struct mx_e2ee *x);

/*
 * Take in the E2EE parts of a /sync answer: device list changes, to-device
 * events (room keys, withheld notices; verification and secret-sharing
 * events are kept in the inbox) and the one-time and fallback key
 * counts (topped up when low).  A to-device event that cannot be used is
 * skipped with a note on stderr under -v; only local and network failures
 * are errors.
 */
int mx_e2ee_sync(struct mx_e2ee *x, const json_t *resp, struct mx_err *e);

/*
 * Whether room_id is encrypted: 1 and *enc (the m.room.encryption
 * content, caller's reference) when it has any m.room.encryption state,
 * whatever its content ({} when redacted: the caller refuses to send
 * rather than send in the clear), 0 when it has none, -1 on error.
 * Encryption, once on, cannot be turned off, so that is remembered;
 * "not encrypted" is asked of the server again after a minute.  Needs no
 * account (c is used without its store when it has none).
 */
int mx_e2ee_room_encryption(struct mx_ctx *c, const char *room_id,
    json_t **enc, struct mx_err *e);

/*
 * Bring what this device knows of room_id up to date before a send: one
 * /sync since the last one (only device lists, to-device events and the
 * room's membership, encryption and history visibility state).
 */
int mx_e2ee_refresh(struct mx_e2ee *x, const char *room_id, struct mx_err *e);

/* The size the m.room.encrypted event of an event (content borrowed)
 * will have, as mx_msg_event_size counts it: what the server's limit is
 * checked against before anything is shared or sent.  0 when the event
 * cannot be encoded or is too large to encrypt. */
size_t mx_e2ee_event_size(const struct mx_e2ee *x, const char *room_id,
    const char *sender, const char *type, const json_t *content);

/*
 * Encrypt an event for room_id (content borrowed): share the room's Megolm
 * session first with every device that should have it and does not (new
 * Olm sessions as needed; withheld notices for the devices the policy
 * excludes), rotating it as m.room.encryption says (enc: its content) and
 * whenever a device that had it is no longer a recipient.  *out: the
 * m.room.encrypted content to send.
 */
int mx_e2ee_encrypt(struct mx_e2ee *x, const char *room_id, const json_t *enc,
    enum mx_e2ee_policy policy, const char *type, const json_t *content,
    json_t **out, struct mx_err *e);

/*
 * Send an event of type (content borrowed) into room_id as mx-send does:
 * when the room is encrypted (mx_e2ee_room_encryption), refreshed and
 * encrypted under policy and sent as m.room.encrypted, else in the
 * clear; a fresh transaction ID.  *event_id (caller's) when event_id is
 * not NULL.
 */
int mx_e2ee_send(struct mx_e2ee *x, const char *room_id,
    enum mx_e2ee_policy policy, const char *type, const json_t *content,
    char **event_id, struct mx_err *e);

/*
 * The output form of a room event ev of room_id (borrowed): *out, a copy
 * with "room_id", and, for an m.room.encrypted event, the clear type and
 * content in place of the envelope and the verdict under "mx": encrypted,
 * decrypted, algorithm, session_id, index, sender_key, device_id, trust,
 * and error when it could not be decrypted (then the envelope stays);
 * session_sender and session_sender_key, the user and device key the
 * session was shared by, when it belongs to another user than the event's
 * sender;
 * relates_to_unauthenticated when the relation came only in the clear,
 * relates_to_mismatch when the clear one contradicted the encrypted one.
 * Any other event of an encrypted room carries mx {"encrypted": false}.
 * raw: the envelope is kept as mx.raw.  x may be NULL (no store):
 * encrypted events then carry error "no keys (no profile store)".
 * -1 with e (and *out NULL) only when the store fails, the record of the
 * message index against replays among others.
 */
int mx_e2ee_event(struct mx_e2ee *x, const char *room_id, const json_t *ev,
    int raw, json_t **out, struct mx_err *e);

/* The device's Olm account pickle as stored (mx-keys export-identity):
 * secure memory (mx_secure_free), *n bytes. */
int mx_e2ee_account_pickle(struct mx_e2ee *x, char **pickle, size_t *n,
    struct mx_err *e);

/* Forget this device's keys and every session in store s (logout: a
 * later login is a new device with new keys).  Pinned devices of others
 * and the rooms' state stay. */
int mx_e2ee_forget(struct mx_store *s, struct mx_err *e);

/* Mark user's device verified if its Ed25519 key is ed (mx-keys trust). */
int mx_e2ee_verify_device(struct mx_ctx *c, const char *user,
    const char *device_id, const char *ed, struct mx_err *e);
#endif
