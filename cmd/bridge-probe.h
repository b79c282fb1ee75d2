/*
 * bridge-probe: mx-bridge-check --probe, whether the bridges answer: each
 * confirmed bridge bot is sent a command in our direct room with it
 * (reused, else made and recorded in m.direct), encrypted when the room
 * is, and timed until the bot answers (spec: GET /sync).  It posts: the
 * only part of mx-bridge-check that does.  One line a bot on stdout, JSON
 * or, with table, for people.
 */
#ifndef MX_BRIDGE_PROBE_H
#define MX_BRIDGE_PROBE_H

#include <jansson.h>

#include "cli.h"
#include "e2ee.h"
#include "err.h"

struct bridge_probe {
	struct mx_ctx *c;
	struct mx_e2ee *x; /* the profile's room keys, or NULL */
	const char *cmd;   /* the command sent */
	int timeout;	   /* seconds for the bot to join, then to answer */
	int table;	   /* a line for people, not JSON */
};

/* Probe each bot (the keys of bots) once: 1 when one did not answer, 0
 * when all did, -1 with e. */
int bridge_probe(const struct bridge_probe *p, const json_t *bots,
    struct mx_err *e);

#endif
