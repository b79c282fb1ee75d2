/*
 * verifyreq: which verification requests mx-verify sas may accept (spec:
 * Client-Server API, "Key verification framework": a request's age, the
 * in-room form as an m.room.message of msgtype
 * m.key.verification.request, and "whoever is ready first takes it").
 * Pure: the caller passes its user, device and clock, and does the
 * notices, the inbox and the DM check.  Nothing returned is owned: every
 * argument is borrowed for the call only.
 */
#ifndef MX_VERIFYREQ_H
#define MX_VERIFYREQ_H

#include <stddef.h>

#include <jansson.h>

/* A request's age limits: sent at most 10 minutes ago (5 ahead of our
 * clock), received at most 2 minutes ago. */
#define MX_VERIFYREQ_PAST_MS (10LL * 60 * 1000)
#define MX_VERIFYREQ_FUTURE_MS (5LL * 60 * 1000)
#define MX_VERIFYREQ_RECEIVED_MS (2LL * 60 * 1000)

enum mx_verifyreq_verdict {
	MX_VERIFYREQ_NONE, /* not a verification request */
	MX_VERIFYREQ_BAD,  /* one, but stale or malformed: ignored */
	MX_VERIFYREQ_OK,   /* one we may accept */
};

/*
 * An inbox item (mx_inbox_list's shape) of type
 * m.key.verification.request, at now (ms): OK when it names a device, a
 * transaction and methods, was sent within the age limits and received
 * at most MX_VERIFYREQ_RECEIVED_MS ago, and is not from our own device
 * (user, device); else BAD.
 */
enum mx_verifyreq_verdict mx_verifyreq_todevice(const json_t *item,
    const char *user, const char *device, long long now);

/*
 * A room event, decrypted (mx_e2ee_event's shape: mx.device_id is the
 * sending device, proven, when it was encrypted), at now (ms): NONE
 * unless an m.room.message of msgtype m.key.verification.request; OK
 * when it is to user from another, names its from_device (the one that
 * encrypted it, when encrypted), has an event ID and methods, and was
 * sent within the age limits; else BAD.  Whether the room is the
 * sender's DM is the caller's to check.
 */
enum mx_verifyreq_verdict
mx_verifyreq_room(const json_t *ev, const char *user, long long now);

/*
 * 1 when one of the room events evs after index from ends or answers the
 * request of event ID id: a cancel or done relating to it, or a ready
 * from a device other than ours (device); else 0.
 */
int mx_verifyreq_taken(const json_t *evs, size_t from, const char *id,
    const char *device);

#endif
