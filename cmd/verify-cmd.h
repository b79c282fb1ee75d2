/*
 * verify-cmd: what the files of mx-verify share.  cmd/mx-verify.c parses
 * and checks the options and operands and runs a subcommand: sas
 * (cmd/verify-sas.c, with the sending, the /sync loop, the inbox and the
 * DM's timeline of cmd/verify-io.c and the prompt and result line of
 * cmd/verify-show.c), fingerprint and json (in cmd/mx-verify.c, the
 * checks of lib/sigcheck.c) or cross-signing (cmd/verify-xsign.c).
 * Linked only into mx-verify.  A struct verify_run is cmd/verify-sas.c's,
 * the others borrow it.
 */
#ifndef MX_VERIFY_CMD_H
#define MX_VERIFY_CMD_H

#include <jansson.h>

#include "cli.h"
#include "devices.h"
#include "e2ee.h"
#include "err.h"
#include "gossip.h"
#include "verify.h"

#define OWN_STORE (MX_CTX_SESSION | MX_CTX_STORE | MX_CTX_NO_ENV)

/* The options, as main parsed and checked them. */
struct verify_opt {
	long timeout_ms;
	int json, decimal, have_timeout, password_stdin, recovery_key_stdin;
	const char *key, *server, *passphrase_file;
};

/* One run: the profile, the other device and the state machine. */
struct verify_run {
	struct mx_ctx *c;
	const struct verify_opt *o;
	struct mx_e2ee *x;
	struct mx_devlist devs;	      /* the other user's devices */
	const struct mx_device *them; /* NULL until a user's device answers */
	const char *user;	      /* the other user */
	struct mx_verify *v;
	char *txn;
	char *room;	/* in-room: the encrypted DM of the flow, else NULL */
	int rooms;	/* /sync takes rooms' timelines (room, or all) */
	json_t *later;	/* in-room events not decrypted yet: [{room, ev}] */
	json_t *events; /* in-room events decrypted, not yet looked at */
	long long started;
	char *pos;	   /* this process's /sync position, once it has one */
	char master[44];   /* our master key when we hold it, else "" */
	int signed_master; /* 1: we signed their master key */
	int signed_device; /* 1: we signed our own other device */
	struct mx_gossip *g; /* secrets asked for and given */
	json_t *secrets;     /* the names of the secrets received, or NULL */
};

/* ---- cmd/verify-io.c: the other device, sending and receiving ---------- */

/* The device of user from its checked, pinned list into r->them (in
 * r->devs); one whose keys changed is refused. */
int verify_find_device(struct verify_run *r, const char *user,
    const char *device, struct mx_err *e);

/* 1 when d is one the request to a user goes to: not this device, not
 * one whose keys changed. */
int verify_is_target(const struct verify_run *r, const struct mx_device *d);

/* Send what the machine queued, in order: into the room, encrypted, or
 * to the other device(s). */
int verify_flush(struct verify_run *r, struct mx_err *e);

/* One /sync, a long poll of up to poll_ms, from r's position: to-device
 * events to the inbox, the watched rooms' events decrypted to
 * r->events. */
int verify_pump(struct verify_run *r, long poll_ms, struct mx_err *e);

/* What arrived, to the machine: to-device events and in-room ones. */
int verify_feed(struct verify_run *r, struct mx_err *e);

/* An in-room request to us among the events decrypted (1): *req, a new
 * reference; 0 when none; -1 with e. */
int
verify_take_room_request(struct verify_run *r, json_t **req, struct mx_err *e);

/* A request in the inbox that we may accept (1), in *req (caller's); 0
 * when none; -1 with e. */
int verify_take_request(struct verify_run *r, json_t **req, struct mx_err *e);

/* ---- cmd/verify-show.c: the user's side -------------------------------- */

/* Show the SAS and read the answer: the terminal's, or with --json a
 * line on stdout and "yes" or "no" from stdin.  1 yes, 0 no, -1 none
 * (the end of input, an interruption, or e when stdout failed). */
int verify_ask(struct verify_run *r, struct mx_err *e);

/* The result line, and the verdict: 0 verified, -1 with e (MX_NO) when
 * cancelled. */
int verify_result(struct verify_run *r, struct mx_err *e);

/* ---- the subcommands: 0, or -1 with e ----------------------------------- */

/* sas [USER [DEVICE]]: argv checked by main. */
int verify_sas(struct mx_ctx *c, const struct verify_opt *o, int argc,
    char **argv, struct mx_err *e);

/* cross-signing setup|status|reset|import: argv and options checked by
 * main. */
int verify_xsign(struct mx_ctx *c, const struct verify_opt *o, int argc,
    char **argv, struct mx_err *e);

#endif
