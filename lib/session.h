/*
 * session: who a program speaks as (a homeserver, a user, a device and
 * its access token).  Strings are owned by the session; the token lives in
 * secure memory and is wiped on release.
 */
#ifndef MX_SESSION_H
#define MX_SESSION_H

struct mx_session {
	char *homeserver; /* base URL without trailing slash */
	char *user_id;
	char *device_id;    /* NULL when unknown (token from env) */
	char *access_token; /* secret: secure memory, wiped on release */
};

void mx_session_release(struct mx_session *s);

/* Replace the session's token with a copy of tok in secure memory. */
void mx_session_set_token(struct mx_session *s, const char *tok);

#endif
