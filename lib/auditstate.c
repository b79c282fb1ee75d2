/*
 * auditstate: the checks of a room's state in the order of
 * mx-bridge-check(1), CHECKS (mx_audit_state, audit.h).
 */
#include <jansson.h>

#include "audit.h"
#include "banned.h"

void
mx_audit_state(struct mx_audit_room *r)
{
	mx_audit_encryption(r);
	mx_audit_history(r);
	mx_audit_join(r);
	mx_audit_bridges(r);
	mx_audit_servers(r);
	mx_audit_power(r);
	mx_audit_bridge_like(r);
	mx_audit_irc(r);
	mx_audit_integrations(r);
}
