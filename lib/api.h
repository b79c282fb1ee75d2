/*
 * api: the Matrix client-server endpoints mx uses (spec: Client-Server API
 * v3).  Each call builds the URL (every path segment percent-encoded), sends
 * it through http, and maps the answer: 2xx -> 0 and the parsed JSON; else
 * -1 and e filled: HTTP status, errcode, message "M_FORBIDDEN: <error>", and
 * the exit status of DESIGN.md (4xx but 429 -> MX_PERM; 429, 5xx, network,
 * malformed JSON from the server -> MX_TEMP).
 *
 * json_t results are new references owned by the caller (json_decref);
 * char * results are owned by the caller (free).  json_t arguments are
 * borrowed.
 */
#ifndef MX_API_H
#define MX_API_H

#include <stdio.h>

#include <jansson.h>

#include "err.h"
#include "http.h"

struct mx_api {
	struct mx_http *http;	/* borrowed */
	const char *hs;		/* base URL, no trailing slash (borrowed) */
	const char *token;	/* access token or NULL (borrowed) */
	long long max_download; /* mx_api_download's cap; 0: the http one */
};

/* Generic call: path starts with "/_matrix/..." and is already encoded;
 * body may be NULL; out may be NULL when the answer is not needed. */
int mx_api_call(struct mx_api *a, const char *method, const char *path,
    const json_t *body, int idempotent, json_t **out, struct mx_err *e);

/* GET /.well-known/matrix/client of server_name (a host[:port]) -> the
 * homeserver base URL.  Falls back to https://server_name when there is
 * none (404); a malformed answer is an error (spec: "Well-known URI"). */
int mx_api_discover(struct mx_http *h, const char *server_name, char **hs,
    struct mx_err *e);
int mx_api_versions(struct mx_api *a, json_t **out, struct mx_err *e);

/* POST /login with m.login.password; out: the whole answer (user_id,
 * device_id, access_token, well_known). device_id may be NULL. */
int mx_api_login_password(struct mx_api *a, const char *user,
    const char *password, const char *device_name, const char *device_id,
    json_t **out, struct mx_err *e);
int mx_api_logout(struct mx_api *a, struct mx_err *e);
/* PUT /devices/{deviceId}: one of our devices gets display name name. */
int mx_api_rename_device(struct mx_api *a, const char *device_id,
    const char *name, struct mx_err *e);
/* GET /devices: our user's devices, the "devices" array (device_id,
 * display_name, last_seen_ip, last_seen_ts). */
int mx_api_devices(struct mx_api *a, json_t **devices, struct mx_err *e);
/* Asks a person (or stdin) for a secret: the answer in secure memory
 * (mx_secure_free), or NULL with e set. */
typedef char *mx_api_ask_fn(const char *prompt, struct mx_err *e);

/*
 * A request that may need user-interactive authentication (spec:
 * "User-interactive authentication API"): made as is; when the server
 * answers 401 with a challenge one of whose flows is m.login.password
 * alone, made once more with body's "auth" the password ask gives for
 * user (and the challenge's session); the password is wiped after.  No
 * ask (NULL) is MX_USAGE, a refused password MX_PERM, another flow
 * MX_PERM.  Otherwise as mx_api_call.
 */
int mx_api_call_uia(struct mx_api *a, const char *method, const char *p,
    json_t *body, int idempotent, const char *user, mx_api_ask_fn *ask,
    json_t **out, struct mx_err *e);

/* POST /delete_devices (spec: "Device management"): delete the devices
 * (an array of device ids) of our user, with the password ask gives for
 * user when the server asks for it (mx_api_call_uia). */
int mx_api_delete_devices(struct mx_api *a, const json_t *devices,
    const char *user, mx_api_ask_fn *ask, struct mx_err *e);
int mx_api_whoami(struct mx_api *a, char **user_id, char **device_id,
    struct mx_err *e);

/* Room resolution. */
int mx_api_resolve_alias(struct mx_api *a, const char *alias, char **room_id,
    struct mx_err *e);
/* POST /join/{roomIdOrAlias} -> room_id. */
int mx_api_join(struct mx_api *a, const char *room, char **room_id,
    struct mx_err *e);
int mx_api_create_room(struct mx_api *a, const json_t *body, char **room_id,
    struct mx_err *e);
int mx_api_joined_rooms(struct mx_api *a, json_t **rooms, struct mx_err *e);

/* PUT /rooms/{room}/send/{type}/{txn} -> event_id. */
int mx_api_send(struct mx_api *a, const char *room_id, const char *type,
    const char *txn_id, const json_t *content, char **event_id,
    struct mx_err *e);
/* PUT /rooms/{room}/redact/{event}/{txn}; reason may be NULL. */
int mx_api_redact(struct mx_api *a, const char *room_id, const char *event_id,
    const char *txn_id, const char *reason, char **redaction_id,
    struct mx_err *e);
/* GET state event content; returns 1 and *content when it exists, 0 when
 * the server says M_NOT_FOUND, -1 on error. */
/* A user's profile (spec: GET /profile/{userId}): 1 and *out, 0 when
 * the user does not exist (404), -1. */
int mx_api_profile(struct mx_api *a, const char *user_id, json_t **out,
    struct mx_err *e);
int mx_api_get_state(struct mx_api *a, const char *room_id, const char *type,
    const char *state_key, json_t **content, struct mx_err *e);
int mx_api_put_state(struct mx_api *a, const char *room_id, const char *type,
    const char *state_key, const json_t *content, char **event_id,
    struct mx_err *e);
int mx_api_get_event(struct mx_api *a, const char *room_id,
    const char *event_id, json_t **event, struct mx_err *e);
/* GET /rooms/{room}/members (the chunk array). */
int mx_api_members(struct mx_api *a, const char *room_id, json_t **chunk,
    struct mx_err *e);

/* GET /rooms/{room}/state: every current state event (an array). */
int mx_api_room_state(struct mx_api *a, const char *room_id, json_t **events,
    struct mx_err *e);
/* POST /rooms/{room}/leave; /rooms/{room}/forget (after leaving). */
int mx_api_leave(struct mx_api *a, const char *room_id, struct mx_err *e);
int mx_api_forget(struct mx_api *a, const char *room_id, struct mx_err *e);
/* POST /rooms/{room}/{action} for action "invite", "kick", "ban" or
 * "unban" (spec: "Room membership"), with user_id; reason may be NULL. */
int
mx_api_membership(struct mx_api *a, const char *room_id, const char *action,
    const char *user_id, const char *reason, struct mx_err *e);
/* PUT and DELETE /directory/room/{alias} (spec: "Room aliases"). */
int mx_api_put_alias(struct mx_api *a, const char *alias, const char *room_id,
    struct mx_err *e);
int mx_api_delete_alias(struct mx_api *a, const char *alias, struct mx_err *e);

/* GET /sync.  since and filter may be NULL; filter is inline JSON or a
 * filter id.  timeout_ms is the server's long-poll time (0: return now). */
int mx_api_sync(struct mx_api *a, const char *since, const char *filter,
    long timeout_ms, json_t **out, struct mx_err *e);
/* GET /rooms/{room}/messages; from, to and filter may be NULL; dir 'b' or
 * 'f'; limit 0: the server's default. */
int mx_api_messages(struct mx_api *a, const char *room_id, const char *from,
    const char *to, char dir, int limit, const char *filter, json_t **out,
    struct mx_err *e);
/* GET /rooms/{room}/relations/{event}/{rel_type} (spec: "Relationships"),
 * limit events (0: one), dir 'b' (newest first) or 'f'. */
int
mx_api_relations(struct mx_api *a, const char *room_id, const char *event_id,
    const char *rel_type, int limit, char dir, json_t **out, struct mx_err *e);

/*
 * POST /_matrix/client/v1/appservice/{appserviceId}/ping (spec v1.7,
 * "Application Service API", ping), a->token being that appservice's
 * as_token: *duration_ms, the homeserver's round trip to the appservice.
 * The homeserver's failure to reach it is an error as any, e->errcode
 * saying which (M_URL_NOT_SET, M_CONNECTION_FAILED, M_BAD_STATUS,
 * M_CONNECTION_TIMEOUT); not retried.
 */
int mx_api_appservice_ping(struct mx_api *a, const char *id,
    long long *duration_ms, struct mx_err *e);

/* End-to-end encryption (spec: "Key management API", "Send-to-Device
 * messaging").  Bodies are the spec's request objects, borrowed. */
int mx_api_keys_upload(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e);
int mx_api_keys_query(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e);
int mx_api_keys_claim(struct mx_api *a, const json_t *body, json_t **out,
    struct mx_err *e);
/* PUT /sendToDevice/{type}/{txn}: messages is {user: {device: content}}. */
int mx_api_send_to_device(struct mx_api *a, const char *type,
    const char *txn_id, const json_t *messages, struct mx_err *e);

/* Account data of the user (m.direct): 1 found, 0 not found, -1 error. */
int mx_api_get_account_data(struct mx_api *a, const char *user_id,
    const char *type, json_t **content, struct mx_err *e);
int mx_api_put_account_data(struct mx_api *a, const char *user_id,
    const char *type, const json_t *content, struct mx_err *e);

/* Server-side key backup (spec: "Server-side key backups"): the current
 * version's {"algorithm","auth_data","count","etag","version"}: 1, 0 when
 * there is no backup, -1 on error; every key of version V,
 * {"rooms":{room:{"sessions":{sid:KeyBackupData}}}}. */
int mx_api_backup_version(struct mx_api *a, json_t **out, struct mx_err *e);
int mx_api_backup_keys(struct mx_api *a, const char *version, json_t **out,
    struct mx_err *e);
/* A new backup version from {"algorithm","auth_data"} (*version, caller
 * frees); keys uploaded to version V, body {"rooms":{...}} as above. */
int mx_api_backup_create(struct mx_api *a, const json_t *body, char **version,
    struct mx_err *e);
int mx_api_backup_put_keys(struct mx_api *a, const char *version,
    const json_t *body, struct mx_err *e);

/* Media (spec: "Content repository", authenticated /_matrix/client/v1/media
 * when the server offers it, else /_matrix/media/v3). */
int mx_api_media_config(struct mx_api *a, long long *upload_size,
    struct mx_err *e);
int mx_api_upload(struct mx_api *a, FILE *f, long len, const char *ctype,
    const char *filename, char **mxc, struct mx_err *e);
int mx_api_download(struct mx_api *a, const char *mxc, FILE *out,
    struct mx_err *e);

/* Helpers, exported for the unit tests and for callers of mx_api_call. */

/* Map an HTTP answer: 2xx -> 0 and *out (when out is not NULL) the body's
 * JSON object; a 2xx body that is not a JSON object -> -1, MX_TEMP; any
 * other status -> -1 and e from mx_api_error. */
int mx_api_check(long http, const char *body, size_t len, json_t **out,
    struct mx_err *e);
/* Fill e for a failed request: msg "ERRCODE: error" or "HTTP 404",
 * errcode, http, retry_after_ms; 429 and 5xx -> MX_TEMP, else MX_PERM.
 * Takes j (may be NULL).  Returns -1. */
int mx_api_error(long http, json_t *j, struct mx_err *e);
/* The request path of one /messages page (mx_api_messages; caller
 * frees). */
char *mx_api_messages_path(const char *room_id, char dir, const char *from,
    const char *to, int limit, const char *filter);
/* 1 when a /versions answer lists v1.11 or later (authenticated media). */
int mx_api_versions_has_v1_11(const json_t *versions);
/* Split "mxc://server/id"; 0 and both parts (caller frees), or -1. */
int mx_api_parse_mxc(const char *mxc, char **server, char **id);

#endif
