/*
 * roomstate: what this device remembers of a room's state for encrypting
 * into it: its m.room.encryption, and the members who should get its keys
 * (spec: Client-Server API, "Sending an encrypted event": "joined and
 * invited unless history is visible only once joined").  One JSON row per
 * room in the store, namespace "rooms":
 *   {"enc": content or null, "checked": ms, "members": {user: membership},
 *    "hv": history visibility, "stale": the members must be read again}
 */
#ifndef MX_ROOMSTATE_H
#define MX_ROOMSTATE_H

#define MX_ROOMSTATE_PLAIN_MS 60000 /* "not encrypted" believed this long */

#include <jansson.h>

#include "conf.h"
#include "err.h"

/* mx_e2ee_room_encryption (e2ee.h). */
int mx_roomstate_encryption(struct mx_ctx *c, const char *room_id,
    json_t **enc, struct mx_err *e);

/* Remember that room_id is encrypted (an m.room.encryption event seen,
 * whatever its content): for good, as the spec allows no way back. */
int mx_roomstate_encrypted(struct mx_ctx *c, const char *room_id,
    const json_t *content, struct mx_err *e);

/* The members of room_id that should get its key: *out {"user":
 * membership} (caller's), read from the server when the record is stale. */
int mx_roomstate_members(struct mx_ctx *c, const char *room_id, json_t **out,
    struct mx_err *e);

/* Note what the /sync answer room (borrowed; may be NULL) says of
 * room_id's state: members changed (or a gap): stale; encryption. */
int mx_roomstate_news(struct mx_ctx *c, const char *room_id,
    const json_t *room, struct mx_err *e);

/* 1 when room (an entry of rooms.join of a /sync; may be NULL) shows user
 * joining it in this answer: a join that was not one before (a first join
 * has no earlier state to replace).  The server then gives the room's
 * whole state, as a first sync does. */
int mx_roomstate_joined_now(const json_t *room, const char *user);

/* Take room_id's members and history visibility from room (borrowed; may
 * be NULL), its entry in a first /sync whose filter gave the
 * m.room.member and m.room.history_visibility events of state and
 * timeline: a first sync tells the whole state, not changes.  Without
 * that entry the members are marked stale, to be read anew. */
int mx_roomstate_full(struct mx_ctx *c, const char *room_id,
    const json_t *room, struct mx_err *e);

#endif
