/*
 * inbound: the Megolm sessions others share with this device (spec:
 * Client-Server API, "m.megolm.v1.aes-sha2", "m.room_key",
 * "m.room_key.withheld"), what they are bound to, the notices of keys
 * withheld, and the record of which event used each message index.
 *
 * Store rows:
 *   megolm_in/<room> <id>   sealed: the session, the Curve25519 and
 *                           Ed25519 keys of the device that shared it,
 *                           its user, the source and the time received
 *   withheld/<room> <id>    {"code","reason"} of an m.room_key.withheld
 *   megolm_idx/<id> <n>     the event first decrypted at index n
 *   backup_on/on            present while sessions are queued for the
 *                           key backup (keybackup.h decides when)
 *   backup_todo/<room> <id> a session queued for the key backup
 */
#ifndef MX_INBOUND_H
#define MX_INBOUND_H

#include <stdint.h>

#include <jansson.h>

#include "account.h"
#include "err.h"
#include "megolm.h"
#include "store.h"

/* A stored session and whose it is (strings owned). */
struct mx_inbound {
	struct mx_megolm_in *s;
	char *sender_key;      /* Curve25519 of the device that shared it */
	char *ed;	       /* the Ed25519 key that device claimed */
	char *sender;	       /* its user; "" for an imported session */
	char *source;	       /* MX_INBOUND_OLM, _IMPORTED or _BACKUP */
	long long received_ms; /* when it was stored; 0: before mx kept it */
};

/* Where a session came from: a device, over Olm (or this device's own),
 * or a key-export file (its keys only claimed, spec: "Key exports"). */
#define MX_INBOUND_OLM "olm"
#define MX_INBOUND_IMPORTED "imported"
/* From the server-side key backup (spec: "Server-side key backups"): as
 * unproven as an imported key, anyone with its public key writes it. */
#define MX_INBOUND_BACKUP "backup"

void mx_inbound_release(struct mx_inbound *r);

/* room_id's session sid: 1 and *r, 0 when there is none (or the record
 * is unreadable), -1 with e when the store fails. */
int mx_inbound_load(struct mx_store *st, const char *room_id, const char *sid,
    struct mx_inbound *r, struct mx_err *e);

/*
 * Keep session in as room_id's sid, bound to the device keys skey and ed
 * and the user sender; a withheld notice for it is forgotten.  Inside the
 * caller's transaction.  0: kept, or a copy of the same owner from an
 * index as early is kept already; 1: refused, the kept copy is bound to
 * another device or user (a member re-sharing someone else's session);
 * -1 with e.
 */
int mx_inbound_keep(struct mx_store *st, const char *room_id, const char *sid,
    const struct mx_megolm_in *in, const char *skey, const char *ed,
    const char *sender, struct mx_err *e);

/*
 * Keep session in as room_id's sid, imported from a key-export file that
 * says the device keys skey and ed shared it; inside the caller's
 * transaction.  A held session is replaced only by a copy of the same keys
 * starting earlier whose ratchet leads to the held one's, and then keeps
 * its binding.  MX_INBOUND_NEW, _IMPROVED or _SKIPPED; -1 with e.
 */
enum { MX_INBOUND_NEW, MX_INBOUND_IMPROVED, MX_INBOUND_SKIPPED };
int mx_inbound_import(struct mx_store *st, const char *room_id,
    const char *sid, const struct mx_megolm_in *in, const char *skey,
    const char *ed, struct mx_err *e);

/*
 * The queue of sessions for the server-side key backup: from now on, each
 * session stored, but one from a backup, is queued; the queue starts anew
 * with every session held (with !all, not those from a backup).  Inside
 * the caller's transaction.
 */
int mx_inbound_queue_on(struct mx_store *st, int all, struct mx_err *e);
/* The queued sessions' keys ("<room> <id>"; mx_store_keys_free), their
 * number, or -1 with e set. */
long mx_inbound_queued(struct mx_store *st, char ***keys, struct mx_err *e);
/* Take the session of key k off the queue. */
int mx_inbound_unqueue(struct mx_store *st, const char *k, struct mx_err *e);

/* The same from source src (MX_INBOUND_IMPORTED or MX_INBOUND_BACKUP). */
int mx_inbound_import_from(struct mx_store *st, const char *room_id,
    const char *sid, const struct mx_megolm_in *in, const char *skey,
    const char *ed, const char *src, struct mx_err *e);

/* in, when it is the session sid names (a key that says another ID is
 * refused); else NULL, in freed. */
struct mx_megolm_in *
mx_inbound_id_checked(struct mx_megolm_in *in, const char *sid);

/*
 * Append to the array out the entries of a key export (spec: "Key
 * exports") for every session held for room_id (NULL: every room), each at
 * its first known index.  -1 with e when the store fails.
 */
int mx_inbound_export(struct mx_store *st, const char *room_id, json_t *out,
    struct mx_err *e);

/*
 * Import one entry s of a key export, inside the caller's transaction:
 * MX_INBOUND_NEW, _IMPROVED or _SKIPPED (malformed, another algorithm, or
 * held already), or -1 with e when the store fails.
 */
int
mx_inbound_import_one(struct mx_store *st, const json_t *s, struct mx_err *e);

/*
 * Import the entries of a key export arr (decrypted) in one transaction:
 * count[MX_INBOUND_NEW], [_IMPROVED] and [_SKIPPED] (malformed entries,
 * other algorithms and sessions held already count as skipped).  -1 with
 * e, nothing kept, when the store fails.
 */
int mx_inbound_import_all(struct mx_store *st, const json_t *arr,
    size_t count[3], struct mx_err *e);

/* An m.room_key from sender, delivered by Olm from the device skey
 * (pl: the decrypted payload): checked and kept.  A malformed one is
 * skipped with a notice. */
int mx_inbound_room_key(struct mx_e2ee *x, const char *sender,
    const char *skey, const json_t *pl, struct mx_err *e);

/* An m.room_key.withheld notice (content c): remembered. */
int
mx_inbound_withheld(struct mx_store *st, const json_t *c, struct mx_err *e);
/* The notice remembered for room_id's sid: {"code","reason"} (caller's),
 * or NULL. */
json_t *mx_inbound_withheld_get(struct mx_store *st, const char *room_id,
    const char *sid);

/*
 * The replay check (spec: "m.megolm.v1.aes-sha2": a client must not accept
 * two different events at one index of a session): 1 when another event
 * than eid was first seen at sid's index idx; else 0, eid recorded as the
 * first.  -1 with e when the store fails.
 */
int mx_inbound_replayed(struct mx_store *st, const char *sid, uint32_t idx,
    const char *eid, struct mx_err *e);

#endif
