/*
 * txn: the pending sends of a profile (see txn.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "txn.h"
#include "util.h"
#include "banned.h"

/* How long a pending record of a live process is watched for its end:
 * a process killed with SIGKILL lingers (dying, or a zombie its parent
 * has not reaped) for about this long at most. */
#define DYING_WAIT_MS 1000
#define DYING_POLL_MS 20

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot): the pair (pid, start) names one process, even once pids
 * wrap.  0 when it cannot be read; *zombie set when it is one. */
static unsigned long long
proc_start(long pid, int *zombie)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;
	int i;

	*zombie = 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and parentheses: skip to the
	 * last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	p += 2;
	*zombie = *p == 'Z' || *p == 'X';
	for (i = 3; i < 22 && p != NULL; i++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p != NULL)
		start = strtoull(p, NULL, 10);
	return start;
}

/* 1 when the process that left a record ("TXN PID START") is gone: not
 * running, a zombie, or its pid now another process's.  Our own pid can
 * only be an earlier process's (a container starts its processes at the
 * same pids), since a record of ours is deleted once the server
 * answered. */
static int
gone(const char *rec)
{
	const char *sp = strchr(rec, ' ');
	unsigned long long start = 0, now;
	long pid;
	int zombie;
	char *end;

	if (sp == NULL)
		return 1;
	pid = strtol(sp + 1, &end, 10);
	if (*end == ' ')
		start = strtoull(end + 1, NULL, 10);
	if (pid <= 0 || pid == (long)getpid())
		return 1;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 1;
	now = proc_start(pid, &zombie);
	return zombie || (start != 0 && now != 0 && now != start);
}

/* The record of this process, to be left before the send. */
static char *
record(const char *txn)
{
	int zombie;

	return mx_xasprintf("%s %ld %llu", txn, (long)getpid(),
	    proc_start((long)getpid(), &zombie));
}

/* A pending record under key of a process that still runs: watch it for
 * a moment, outside any transaction (it needs the store to end), since a
 * process killed a moment ago still shows as running. */
static void
wait_dying(struct mx_store *s, const char *key)
{
	struct timespec ts = { 0, DYING_POLL_MS * 1000000L };
	char *rec = NULL;
	int waited = 0;

	for (;;) {
		if (mx_store_get(s, "txn", key, &rec, NULL, NULL) <= 0 ||
		    gone(rec) || waited >= DYING_WAIT_MS)
			break;
		free(rec);
		rec = NULL;
		nanosleep(&ts, NULL);
		waited += DYING_POLL_MS;
	}
	free(rec);
}

char *
mx_txn_begin(struct mx_store *s, const char *key, int *owned, struct mx_err *e)
{
	char *rec = NULL, *txn;
	int rc;

	*owned = 0;
	if (s == NULL || key == NULL)
		return mx_msg_txn_new();
	wait_dying(s, key);
	if (mx_store_begin(s, e) != 0)
		return NULL;
	rc = mx_store_get(s, "txn", key, &rec, NULL, e);
	if (rc > 0 && gone(rec)) {
		/* An orphan: its send may have reached the server, which
		 * deduplicates a repeat under the same ID. */
		txn = mx_xstrndup(rec, strcspn(rec, " "));
		free(rec);
		rec = record(txn);
		*owned = 1;
		rc = mx_store_put(s, "txn", key, rec, strlen(rec), e);
		free(rec);
		if (rc == 0 && mx_store_commit(s, e) == 0)
			return txn;
		mx_store_rollback(s);
		free(txn);
		return NULL;
	}
	free(rec);
	txn = mx_msg_txn_new();
	if (rc == 0) {
		*owned = 1;
		rec = record(txn);
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
