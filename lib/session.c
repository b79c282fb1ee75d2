/*
 * session: who a program speaks as (see session.h).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "session.h"
#include "banned.h"

void
mx_session_set_token(struct mx_session *s, const char *tok)
{
	size_t n = strlen(tok);

	if (s->access_token != NULL)
		mx_secure_free(s->access_token);
	s->access_token = mx_secure_alloc(n + 1);
	memcpy(s->access_token, tok, n + 1);
}

void
mx_session_release(struct mx_session *s)
{
	free(s->homeserver);
	free(s->user_id);
	free(s->device_id);
	if (s->access_token != NULL)
		mx_secure_free(s->access_token);
	memset(s, 0, sizeof(*s));
}
