/*
 * room: turn a room argument into a room ID, the way every program reads
 * them (DESIGN.md, "Conventions"): "!id:hs" as is, "#alias:hs" through the
 * room directory, "@user:hs" the direct-message room with that user, found
 * in the m.direct account data and, when asked, created and recorded there.
 */
#ifndef MX_ROOM_H
#define MX_ROOM_H

#include "conf.h"
#include "err.h"

#define MX_ROOM_CREATE_DM 0x1 /* @user with no DM room: create one */
#define MX_ROOM_JOIN 0x2      /* join the room first (invited or public) */

/*
 * *room_id is owned by the caller.  Errors: MX_USAGE for an argument that
 * is none of the three forms, MX_PERM for an unknown alias, a user with no
 * DM room (without MX_ROOM_CREATE_DM) or a refused join, MX_TEMP as api.
 */
int mx_room_resolve(struct mx_ctx *c, const char *arg, unsigned flags,
    char **room_id, struct mx_err *e);

/*
 * Record room_id as a direct-message room with user in our m.direct
 * account data (spec: "Direct Messaging"), keeping what is there.
 */
int mx_room_record_dm(struct mx_ctx *c, const char *user, const char *room_id,
    struct mx_err *e);

/*
 * Whether our m.direct account data lists room_id as a direct-message
 * room with user (spec: "Direct Messaging"): 1, 0, or -1 on error.
 */
int mx_room_is_dm(struct mx_ctx *c, const char *user, const char *room_id,
    struct mx_err *e);

#endif
