/*
 * gossip: secrets shared between one user's own devices (spec:
 * Client-Server API, "Secrets", "Sharing": m.secret.request and
 * m.secret.send).  mx asks for and gives four secrets, each 32 bytes as
 * unpadded base64: the cross-signing private keys
 * (m.cross_signing.master, .self_signing, .user_signing) and the key
 * backup's key (m.megolm_backup.v1).
 *
 * The rules (the spec leaves them to the client):
 * - a secret is given only to our own device that this store marked
 *   verified (SAS, mx-keys trust) or that our verified master key
 *   cross-signs, and only Olm-encrypted to that device's keys; the
 *   request itself may come in the clear (Element's engine sends it so):
 *   only the device named can read the answer;
 * - a secret is taken only from an Olm-encrypted m.secret.send of our own
 *   user, from exactly the device we asked (its Curve25519 key), answering
 *   a request_id we sent; one in the clear is refused.  What came is
 *   checked against the public keys before it is kept (mx_xsign_keep; the
 *   backup's auth_data.public_key).
 *
 * Refusals are notices (level 0) through c->notice.  json_t results are
 * owned by the caller.
 */
#ifndef MX_GOSSIP_H
#define MX_GOSSIP_H

#include <jansson.h>

#include "conf.h"
#include "devices.h"
#include "err.h"

struct mx_e2ee;

enum mx_gossip_verdict {
	MX_GOSSIP_IGNORE, /* not for us to judge (another request's answer, a
			     cancellation): left alone */
	MX_GOSSIP_TAKE,	  /* a secret to take, a request to answer */
	MX_GOSSIP_REFUSE, /* refused: *why says why */
};

/* 1 when name is one of the secrets mx asks for and gives. */
int mx_gossip_known(const char *name);

/*
 * Pure: an inbox item (mx_inbox_list's shape) of type m.secret.send,
 * judged for the requests in pending (an object request_id -> secret
 * name, borrowed) that we sent to user's device of Curve25519 key curve.
 * TAKE sets *name (borrowed from pending); REFUSE sets *why.  A secret in
 * the clear is refused whatever it answers.
 */
enum mx_gossip_verdict
mx_gossip_judge_send(const json_t *item, const char *user, const char *curve,
    const json_t *pending, const char **name, const char **why);

/*
 * Pure: an inbox item of type m.secret.request, judged for our user and
 * device (not answered: our own) and own, our user's devices with their
 * trust (mx_devices_get).  TAKE sets *to (borrowed from own), the device
 * to answer; REFUSE sets *why.  Cancellations are IGNOREd (each request is
 * answered at once).
 */
enum mx_gossip_verdict mx_gossip_judge_request(const json_t *item,
    const char *user, const char *device, const struct mx_devlist *own,
    const struct mx_device **to, const char **why);

struct mx_gossip;

/* A new exchange for this profile (x and c borrowed, open). */
struct mx_gossip *mx_gossip_new(struct mx_e2ee *x, struct mx_ctx *c);
/* Free g, its secrets wiped; NULL is fine. */
void mx_gossip_free(struct mx_gossip *g);

/*
 * Ask dev (our own device, borrowed until mx_gossip_finish) for the
 * secrets this store lacks: m.secret.request, in the clear, to dev only;
 * the backup key only when the account has a key backup.  Returns how many
 * were asked for (0: none missing), -1 with e.
 */
int mx_gossip_ask(struct mx_gossip *g, const struct mx_device *dev,
    struct mx_err *e);

/*
 * One pass over the inbox: m.secret.send answering our requests judged,
 * the good ones held in g; m.secret.request answered when the verdict
 * and the store allow, else refused with a notice.  Requests from the
 * device wait (not NULL: the one being verified) are left for later.
 * Taken and refused items leave the inbox.  -1 with e on a store or
 * network failure.
 */
int mx_gossip_poll(struct mx_gossip *g, const char *wait, struct mx_err *e);

/* How many requests of ours are unanswered; how many of those are the
 * self-signing and user-signing keys (the ones that sign). */
int mx_gossip_pending(const struct mx_gossip *g);
int mx_gossip_pending_needed(const struct mx_gossip *g);
/* ms of the last secret taken or given, 0 when none. */
long long mx_gossip_last(const struct mx_gossip *g);
/* How many secrets were given. */
int mx_gossip_given(const struct mx_gossip *g);
/* 1 when this store holds any secret mx gives (-1 with e). */
int mx_gossip_holds(struct mx_gossip *g, struct mx_err *e);

/*
 * The end of an exchange we asked for: the requests unanswered cancelled
 * (action request_cancellation), the secrets taken checked and kept
 * (mx_xsign_keep, mx_keybackup_key_put), and *names (caller's) the array
 * of those kept.  -1 with e when a secret failed its check (MX_NO) or
 * could not be kept; *names is then what was kept before.
 */
int mx_gossip_finish(struct mx_gossip *g, json_t **names, struct mx_err *e);

#endif
