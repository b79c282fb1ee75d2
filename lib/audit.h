/*
 * audit: who and what can read a room, judged from the room's state alone
 * (mx-bridge-check(1), CHECKS): encryption, history visibility, join
 * rules, the members' servers, power levels, bridges (MSC2346), members
 * that look like bridge bots or puppets, IRC bridge state, widgets and
 * integrations, and an upgrade (m.room.tombstone); and, from what the
 * caller fetched, the members' devices and messages sent on others'
 * behalf.  No I/O: the program fetches the state, the devices and the
 * messages, and prints the findings.
 *
 * Every state event is the server's word and a room admin's: nothing in
 * it is trusted to be well formed, and a bridge event proves nothing until
 * its bot is a joined member (MSC2346, "Security considerations").
 *
 * A finding is {"room_id","check","severity","subject","detail",
 * "evidence"} (evidence: [{"type","state_key","event_id"}]), plus
 * "bridge" for a bridge.  Strings given to the rules are copied; the room
 * borrows its ID, user and rules.  json_t results are owned by the caller
 * unless said borrowed.
 */
#ifndef MX_AUDIT_H
#define MX_AUDIT_H

#include <stddef.h>
#include <regex.h>

#include <jansson.h>

#include "devices.h"

/* The behalf check reads the room's last MX_AUDIT_PAGE events. */
#define MX_AUDIT_PAGE 50

enum mx_audit_sev { MX_AUDIT_INFO, MX_AUDIT_WARN, MX_AUDIT_HIGH };

/* "info", "warn", "high". */
const char *mx_audit_sev_name(enum mx_audit_sev s);

/* The severity of that name, or -1. */
int mx_audit_sev_parse(const char *name);

/* Findings left out: every one of check, or those whose subject matches
 * the glob subject (fnmatch). */
struct mx_audit_rule {
	char *check, *subject; /* subject NULL: every finding of check */
};

/* A naming pattern of bridge bots and puppets. */
struct mx_audit_pattern {
	int bot; /* a bot, else a puppet (a remote user's ghost) */
	char *name;
	regex_t re;
};

/* What the program's options and files say.  { 0 } is empty; release
 * with mx_audit_rules_release. */
struct mx_audit_rules {
	int require_enc; /* a room without encryption is high, not warn */
	json_t *servers; /* the globs of allowed servers, or NULL: any */
	struct mx_audit_rule *rules;
	size_t nrules;
	struct mx_audit_pattern *pat; /* the first that matches wins */
	size_t npat;
};

/* 1 when name is one of the checks. */
int mx_audit_check_known(const char *name);

/* Leave out "CHECK[:SUBJECT]" (an empty subject: every finding); -1 when
 * CHECK is no check. */
int mx_audit_rules_ignore(struct mx_audit_rules *ru, const char *s);

/* Allow servers matching glob. */
void mx_audit_rules_server(struct mx_audit_rules *ru, const char *glob);

/* Append a pattern: regex a POSIX ERE, matched without case against the
 * whole user ID; bot, else a puppet.  -1 when regex does not compile. */
int mx_audit_rules_pattern(struct mx_audit_rules *ru, int bot,
    const char *name, const char *regex);

void mx_audit_rules_release(struct mx_audit_rules *ru);

/* 1 when a finding of check about subject is left out. */
int mx_audit_ignored(const struct mx_audit_rules *ru, const char *check,
    const char *subject);

/* 1 when every finding of check is (a rule without subject): the
 * program need not fetch what that check reads. */
int mx_audit_ignored_all(const struct mx_audit_rules *ru, const char *check);

/* One room being audited. */
struct mx_audit_room {
	const char *id, *me; /* the room, and who audits it */
	const struct mx_audit_rules *rules;
	json_t *idx;  /* {type: {state_key: event}} */
	json_t *bots; /* {user: {"status","event"}} of the bridge events */
	int encrypted, bridged; /* bridged: a confirmed bridge */
	size_t n[3];		/* the findings, by severity */
	json_t *found;		/* the findings, in order */
};

/*
 * Start auditing room id, seen by user me, from state (the array of GET
 * /rooms/{roomId}/state; malformed events are passed over, the others
 * referenced).  Release with mx_audit_release.
 */
void mx_audit_init(struct mx_audit_room *r, const char *id, const char *me,
    const struct mx_audit_rules *ru, const json_t *state);
void mx_audit_release(struct mx_audit_room *r);

/*
 * The checks of the state, in this order: encryption, history, join,
 * bridge, servers, power, bridge-like, irc, integrations (mx_audit_upgrade
 * comes after the program's devices and behalf checks, as the findings
 * are listed in mx-bridge-check(1)).  The order matters: the encryption
 * check sets r->encrypted, the bridge check r->bots and r->bridged, which
 * the later checks read.
 */
void mx_audit_state(struct mx_audit_room *r);

/* Each check alone (auditroom.c, auditbridge.c), numbered as in
 * mx-bridge-check(1), CHECKS. */

/* 1: m.room.encryption (spec: "End-to-End Encryption"): any such state
 * means encrypted, whatever its content; the algorithm, key rotation. */
void mx_audit_encryption(struct mx_audit_room *r);

/* 2: m.room.history_visibility. */
void mx_audit_history(struct mx_audit_room *r);

/* 3: m.room.join_rules and m.room.guest_access. */
void mx_audit_join(struct mx_audit_room *r);

/* 4: the servers of the joined and invited members and of bridge bots
 * that are not members, against the rules' globs; m.federate; a server
 * ACL allowing every server. */
void mx_audit_servers(struct mx_audit_room *r);

/* 5: who can invite, who can change what lets readers in, bots with
 * power, creators with unlimited power (spec: m.room.power_levels; room
 * version 12). */
void mx_audit_power(struct mx_audit_room *r);

/* 6: m.bridge and uk.half-shot.bridge (MSC2346): confirmed when the bot
 * is a joined member, stale when it left, else claimed. */
void mx_audit_bridges(struct mx_audit_room *r);

/* 7: members who look like bridge bots or puppets (the rules' patterns)
 * without a bridge event that explains them; service members
 * (io.element.functional_members, MSC4171). */
void mx_audit_bridge_like(struct mx_audit_room *r);

/* 9: matrix-appservice-irc's connection and config state. */
void mx_audit_irc(struct mx_audit_room *r);

/* 10: widgets, pending third-party invites, a policy server. */
void mx_audit_integrations(struct mx_audit_room *r);

/* 12: m.room.tombstone. */
void mx_audit_upgrade(struct mx_audit_room *r);

/*
 * A finding (evidence stolen; NULL: none), unless the rules leave it out;
 * counted under its severity.  The returned object (borrowed) may take
 * more keys, or is NULL when left out.
 */
json_t *mx_audit_add(struct mx_audit_room *r, const char *check,
    enum mx_audit_sev s, const char *subject, json_t *evidence,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The state event of type and state key, or NULL (borrowed). */
const json_t *mx_audit_event(const struct mx_audit_room *r, const char *type,
    const char *key);

/* user's membership ("join", "invite", ...), or NULL (borrowed). */
const char *
mx_audit_membership(const struct mx_audit_room *r, const char *user);

/* 1 when user is a joined member (or invited, with invited_too). */
int mx_audit_member(const struct mx_audit_room *r, const char *user,
    int invited_too);

/* 1 when user is the bot of a confirmed bridge (its bot joined). */
int mx_audit_confirmed_bot(const struct mx_audit_room *r, const char *user);

/* The server part of a user ID, or NULL (borrowed from user). */
const char *mx_audit_server(const char *user);

/* Evidence: the event's type, state key and ID (a new object). */
json_t *mx_audit_ref(const json_t *ev);

/* Evidence: [mx_audit_ref(ev)], or [] for a NULL ev (a new array). */
json_t *mx_audit_refs(const json_t *ev);

/* The first of the rules' patterns that user matches, or NULL. */
const struct mx_audit_pattern *
mx_audit_match(const struct mx_audit_rules *ru, const char *user);

/* The users whose devices the devices check judges, the joined and
 * invited members (a new array of strings borrowed from r; *n their
 * count). */
const char **mx_audit_device_users(const struct mx_audit_room *r, size_t *n);

/*
 * The devices check (spec: "Cross-signing"), from the devices of those
 * users (mx_devices_audit: l, and raw, its /keys/query answer, for the
 * dehydrated flag of MSC3814); our device (me's device my_device, or
 * NULL) is not judged.
 */
void mx_audit_devices(struct mx_audit_room *r, const struct mx_devlist *l,
    const json_t *raw, const char *my_device);

/*
 * The behalf check, from the room's last events (the array of events as
 * mx-sync prints them, decrypted when the profile holds their keys):
 * events a bridge sent through double puppeting, and events encrypted
 * with another user's Megolm session (lib/decrypt.c's "mx" member).
 */
void mx_audit_behalf(struct mx_audit_room *r, const json_t *events);

#endif
