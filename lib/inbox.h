/*
 * inbox: to-device events that the program which synced them does not
 * handle itself, kept in the store for the program that does (mx-verify):
 * m.key.verification.*, m.secret.request, m.secret.send and
 * m.room_key_request.  A /sync hands each to-device event to one process
 * only (the server forgets it once a later token is used), so every
 * program that syncs puts them here; Olm-encrypted ones are decrypted
 * first.  Each is kept until it expires: 10 minutes after it arrived, the
 * lifetime of a verification (spec: Client-Server API, "Key verification
 * framework").  Rows live sealed in the store (namespace "inbox": a secret
 * arrives in m.secret.send), key "<ms received, 13 digits>-<this process's
 * count, 8 hex digits>-<random>", so the keys sort by arrival.
 *
 * json_t results are owned by the caller.
 */
#ifndef MX_INBOX_H
#define MX_INBOX_H

#include <jansson.h>

#include "err.h"
#include "store.h"

#define MX_INBOX_TTL_MS (10LL * 60 * 1000)

/* 1 when a to-device event of type belongs in the inbox. */
int mx_inbox_wants(const char *type);

/*
 * Keep one event: its sender, type and content (borrowed), and, for one
 * that came Olm-encrypted, the sending device's Curve25519 key (else
 * NULL).  Received now (ms).
 */
int mx_inbox_put(struct mx_store *s, const char *sender, const char *type,
    const json_t *content, const char *sender_key, long long now,
    struct mx_err *e);

/*
 * The events kept and not expired at now, oldest first, as *items, an
 * array of {"id","received_ms","sender","type","content"} plus
 * "sender_key" for an encrypted one; expired ones are deleted.  Returns
 * the count, -1 with e.
 */
long mx_inbox_list(struct mx_store *s, long long now, json_t **items,
    struct mx_err *e);

/* Release a list of mx_inbox_list (NULL is fine), the secrets of the
 * m.secret.send events in it wiped first. */
void mx_inbox_release(json_t *items);

/* Wipe, in place, the secret of one m.secret.send content (jansson frees
 * its strings without wiping them); other contents are left. */
void mx_inbox_wipe_secret(json_t *content);

/* Delete the event of this id (a consumer took it); absent is fine. */
int mx_inbox_del(struct mx_store *s, const char *id, struct mx_err *e);

/* Take the event of this id for this process alone: 1 when this call
 * removed it, 0 when another process took it first, -1 with e. */
int mx_inbox_take(struct mx_store *s, const char *id, struct mx_err *e);

#endif
