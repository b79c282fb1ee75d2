/*
 * verify: the SAS verification of one device, as a state machine with no
 * I/O (spec: Client-Server API, "Key verification framework", "Short
 * Authentication String (SAS) verification", to-device and in-room
 * forms).  The caller
 * feeds it the events of the other side and the user's answer, and sends
 * the events it queues; the maths is sas.c's.
 *
 * Offered and accepted: m.sas.v1 with curve25519-hkdf-sha256, sha256,
 * hkdf-hmac-sha256.v2, and the emoji and decimal SAS.  The other device's
 * Ed25519 key is fixed when the machine is made (from the checked device
 * list): its MAC is checked against that key only.
 *
 * Every input is hostile: an event of another transaction or another
 * sender is ignored; one out of turn, with an unknown method, a bad key, a
 * wrong commitment or a wrong MAC cancels with the spec's code.
 *
 * Strings given are copied.  Queued events and other json_t results are
 * owned by the caller.
 */
#ifndef MX_VERIFY_H
#define MX_VERIFY_H

#include <jansson.h>

#include "sas.h"

struct mx_verify;

/* One side: user, device and the device's Ed25519 key (base64), and a
 * cross-signing master key (base64, or NULL): for us, ours when we hold
 * it, MACed too so that the other side can trust it; for them, their
 * pinned one, checked when their MAC covers it. */
struct mx_verify_party {
	const char *user, *device, *ed, *master;
};

enum mx_verify_state {
	MX_VERIFY_REQUESTED, /* our request sent, waiting for ready */
	MX_VERIFY_READY,     /* ready sent, waiting for their start */
	MX_VERIFY_STARTED,   /* our start sent, waiting for accept */
	MX_VERIFY_ACCEPTED,  /* (we started) our key sent, waiting theirs */
	MX_VERIFY_ACCEPTING, /* (they started) accept sent, waiting key */
	MX_VERIFY_SHOW,	     /* the SAS is there: waiting for the user */
	MX_VERIFY_MAC_SENT,  /* the user said yes: waiting for their MAC */
	MX_VERIFY_DONE_SENT, /* their MAC checked: waiting for their done */
	MX_VERIFY_DONE,	     /* verified */
	MX_VERIFY_CANCELLED,
};

/*
 * A verification between us and them under transaction id txn.  we_ask:
 * we send the request (queued now, with timestamp now_ms), and start
 * once they are ready; else their request arrived, and ready is queued.
 * Caller frees (mx_verify_free).
 */
struct mx_verify *mx_verify_new(const struct mx_verify_party *us,
    const struct mx_verify_party *them, const char *txn, int we_ask,
    long long now_ms);
void mx_verify_free(struct mx_verify *v);

/*
 * The in-room form (spec: "Key verification framework", in-room
 * verification, as in an encrypted DM): request_id, the event ID of the
 * request (an m.room.message), is the transaction ID of the SAS and MAC
 * info; the events queued carry "m.relates_to" (m.reference to it) and
 * no transaction_id, and the events fed must carry the same.  we_ask:
 * the caller sent the request itself (mx_verify_room_request); else
 * ready is queued.  Caller frees (mx_verify_free).
 */
struct mx_verify *mx_verify_new_room(const struct mx_verify_party *us,
    const struct mx_verify_party *them, const char *request_id, int we_ask);

/* The content of an in-room request from our_device to to_user (an
 * m.room.message with msgtype m.key.verification.request).  Caller's. */
json_t *mx_verify_room_request(const char *our_device, const char *to_user);

/*
 * A flow made with them->device NULL (we asked a user, not a device: to
 * each of their devices, or in a room) learns it from the ready's
 * from_device: the caller, having found that device and its checked
 * Ed25519 key, pins both before feeding that ready.  0, or -1 when the
 * device is known already.  Until then their ready and start are
 * ignored.
 */
int mx_verify_pin(struct mx_verify *v, const char *device, const char *ed);

/* Their device ID ("" while unknown, borrowed). */
const char *mx_verify_their_device(const struct mx_verify *v);

/* 1 when content names this flow: its transaction_id (to-device) or its
 * m.reference to the request (in-room). */
int mx_verify_of(const struct mx_verify *v, const json_t *content);

/*
 * One event (to-device, or in-room: its clear type and content) from
 * sender.  Returns 1 when it was taken (the
 * state may have moved, events may be queued), 0 when it is not for this
 * verification and was ignored (another transaction or sender, or a
 * malformed one that names none).
 */
int mx_verify_input(struct mx_verify *v, const char *sender, const char *type,
    const json_t *content);

/* The user's answer in MX_VERIFY_SHOW: match sends our MAC, else cancels
 * with m.mismatched_sas.  Elsewhere nothing happens. */
void mx_verify_confirm(struct mx_verify *v, int match);

/* Cancel with code and reason (m.timeout, m.user), unless already over. */
void
mx_verify_cancel(struct mx_verify *v, const char *code, const char *reason);

enum mx_verify_state mx_verify_state(const struct mx_verify *v);

/* The events to send, in order, as [{"type","content"}], and the queue
 * emptied.  Never NULL. */
json_t *mx_verify_take(struct mx_verify *v);

/* In MX_VERIFY_SHOW and after: which SAS forms were agreed (bits 1 emoji,
 * 2 decimal), the seven emoji indices and three numbers. */
int mx_verify_sas(const struct mx_verify *v, int emoji[MX_SAS_EMOJI],
    int decimal[MX_SAS_DECIMALS]);

/* When cancelled: the code and reason (printable ASCII, borrowed) and
 * whether the other side cancelled. */
const char *mx_verify_cancel_code(const struct mx_verify *v);
const char *mx_verify_cancel_reason(const struct mx_verify *v);
int mx_verify_cancelled_by_them(const struct mx_verify *v);

/* When done: 1 when their MAC covered their master key and it held. */
int mx_verify_master_verified(const struct mx_verify *v);

#endif
