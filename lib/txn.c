/*
 * txn: the pending sends of a profile (see txn.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "msg.h"
#include "txn.h"
#include "util.h"
#include "banned.h"

/*
 * The txn id of a pending record "TXN PID" when the process that left it
 * is gone (killed, or timed out before the server answered), else NULL:
 * a live one is sending the same content right now and must not be
 * deduplicated into ours.  Our own pid can only be an earlier process's
 * (a container starts its processes at the same pids), since a record of
 * ours is deleted once the server answered.
 */
static char *
orphan(char *rec)
{
	char *sp = strchr(rec, ' ');
	long pid;

	if (sp == NULL)
		return rec;
	*sp = '\0';
	pid = strtol(sp + 1, NULL, 10);
	if (pid == (long)getpid() ||
	    (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		return rec;
	free(rec);
	return NULL;
}

char *
mx_txn_begin(struct mx_store *s, const char *key, int *owned, struct mx_err *e)
{
	char *rec = NULL, *txn;
	int rc;

	*owned = 0;
	if (s == NULL || key == NULL)
		return mx_msg_txn_new();
	if (mx_store_begin(s, e) != 0)
		return NULL;
	rc = mx_store_get(s, "txn", key, &rec, NULL, e);
	if (rc > 0 && (txn = orphan(rec)) != NULL) {
		*owned = 1;
		rc = mx_store_commit(s, e);
		if (rc == 0)
			return txn;
		free(txn);
		return NULL;
	}
	txn = mx_msg_txn_new();
	if (rc == 0) {
		*owned = 1;
		rec = mx_xasprintf("%s %ld", txn, (long)getpid());
		rc = mx_store_put(s, "txn", key, rec, strlen(rec), e);
		free(rec);
	}
	if (rc < 0 || mx_store_commit(s, e) != 0) {
		mx_store_rollback(s);
		free(txn);
		return NULL;
	}
	return txn;
}

void
mx_txn_end(struct mx_store *s, const char *key)
{
	/* A record left behind only costs a deduplicated retry later. */
	(void)mx_store_del(s, "txn", key, NULL);
}

int
mx_txn_forget(struct mx_store *s, struct mx_err *e)
{
	return mx_store_clear(s, "txn", e);
}
