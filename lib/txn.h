/*
 * txn: the pending sends of a profile, so that a send whose answer was
 * lost (a crash, a kill, a timeout) is not duplicated by the next run
 * (spec: Client-Server API, "Transaction identifiers": the server
 * deduplicates a PUT repeated under the same transaction ID).  Before a
 * send leaves, a record "TXN PID" is stored under a key naming its room,
 * type and content (mx_msg_txn_key), namespace "txn"; it is deleted once
 * the server answered.
 */
#ifndef MX_TXN_H
#define MX_TXN_H

#include "err.h"
#include "store.h"

/*
 * The transaction ID of a send under key: the ID of an orphaned pending
 * record for the same key (its process is gone), so that the server
 * deduplicates; else a fresh one, recorded with this process's pid before
 * the request leaves.  *owned: the record is this send's, to end with
 * mx_txn_end.  A live process's record is not taken over: it is sending
 * the same content right now.  s or key NULL: a fresh ID, nothing
 * recorded.  Returns a new string (caller frees), or NULL with e.
 */
char *mx_txn_begin(struct mx_store *s, const char *key, int *owned,
    struct mx_err *e);

/* The server answered the send under key: its record goes. */
void mx_txn_end(struct mx_store *s, const char *key);

/* Forget every pending record (logout), inside or outside a
 * transaction. */
int mx_txn_forget(struct mx_store *s, struct mx_err *e);

#endif
