/*
 * audit: the checks of mx-bridge-check over canned room state, each seen
 * firing with its severity and staying quiet; the rules that leave
 * findings out; the devices and behalf checks over canned answers.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "devices.h"
#include "json.h"
#include "tap.h"

#define ME "@me:hs"
#define ROOM "!r:hs"

/* JSON written with ' for ", parsed (caller's). */
static json_t *
js(const char *s)
{
	char *t = strdup(s), *p;
	json_t *j;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(t, 0, NULL);
	if (j == NULL)
		printf("# bad JSON: %s\n", t);
	free(t);
	return j;
}

/* A room audited with rules ru over state (JSON with '), checks of the
 * state only. */
static void
run(struct mx_audit_room *r, const struct mx_audit_rules *ru,
    const char *state)
{
	json_t *st = js(state);

	mx_audit_init(r, ROOM, ME, ru, st);
	json_decref(st);
	mx_audit_state(r);
}

/* The first finding of check about subject, or NULL. */
static const json_t *
find(const struct mx_audit_room *r, const char *check, const char *subject)
{
	const json_t *f;
	size_t i;

	json_array_foreach(r->found, i, f)
		if (strcmp(mx_json_str(f, "check"), check) == 0 &&
		    strcmp(mx_json_str(f, "subject"), subject) == 0)
			return f;
	return NULL;
}

/* Its severity, or "none". */
static const char *
sev(const struct mx_audit_room *r, const char *check, const char *subject)
{
	const json_t *f = find(r, check, subject);

	return f ? mx_json_str(f, "severity") : "none";
}

/* The detail of a finding of check about subject holds s. */
static int
says(const struct mx_audit_room *r, const char *check, const char *subject,
    const char *s)
{
	const json_t *f;
	const char *d;
	size_t i;

	json_array_foreach(r->found, i, f) {
		d = mx_json_str(f, "detail");
		if (strcmp(mx_json_str(f, "check"), check) == 0 &&
		    strcmp(mx_json_str(f, "subject"), subject) == 0 &&
		    strstr(d, s) != NULL)
			return 1;
	}
	printf("#   no %s finding about %s says: %s\n", check, subject, s);
	return 0;
}

/* How many findings of check. */
static size_t
count(const struct mx_audit_room *r, const char *check)
{
	const json_t *f;
	size_t i, n = 0;

	json_array_foreach(r->found, i, f)
		n += strcmp(mx_json_str(f, "check"), check) == 0;
	return n;
}

#define ENC \
	"{'type':'m.room.encryption','state_key':'','event_id':'$enc'," \
	"'content':{'algorithm':'m.megolm.v1.aes-sha2'}}"
#define MEMBER(u, m) \
	"{'type':'m.room.member','state_key':'" u "','event_id':'$m-" u "'," \
	"'content':{'membership':'" m "'}}"
/* Only the admin invites and changes state. */
#define PL \
	"{'type':'m.room.power_levels','state_key':'','event_id':'$pl'," \
	"'content':{'users':{'@me:hs':100},'invite':50,'state_default':50," \
	"'events':{'m.room.encryption':100}}}"

static void
test_encryption(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;

	run(&r, &ru, "[" MEMBER(ME, "join") "]");
	is_str(sev(&r, "encryption", "m.room.encryption"), "warn",
	    "encryption off: warn");
	ok(!r.encrypted && r.n[MX_AUDIT_WARN] > 0, "not encrypted, counted");
	mx_audit_release(&r);
	ru.require_enc = 1;
	run(&r, &ru, "[" MEMBER(ME, "join") "]");
	is_str(sev(&r, "encryption", "m.room.encryption"), "high",
	    "encryption off, required: high");
	mx_audit_release(&r);
	run(&r, &ru, "[" ENC "," MEMBER(ME, "join") "]");
	ok(r.encrypted && count(&r, "encryption") == 0,
	    "encryption on (Megolm): no finding");
	mx_audit_release(&r);
	run(&r, &ru,
	    "[{'type':'m.room.encryption','state_key':'','content':{"
	    "'algorithm':'m.olm.v1','rotation_period_msgs':1000}}]");
	ok(r.encrypted, "any m.room.encryption means encrypted");
	is_str(sev(&r, "encryption", "m.room.encryption"), "high",
	    "another algorithm: high");
	is_str(sev(&r, "encryption", "rotation"), "info",
	    "slow key rotation: info");
	ok(says(&r, "encryption", "rotation", "604800000 ms or 1000 messages"),
	    "rotation detail");
	mx_audit_release(&r);
}

static void
test_history_join(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;

	run(&r, &ru,
	    "[{'type':'m.room.history_visibility','state_key':'',"
	    "'content':{'history_visibility':'world_readable'}},"
	    "{'type':'m.room.join_rules','state_key':'','content':{"
	    "'join_rule':'public'}},{'type':'m.room.guest_access',"
	    "'state_key':'','content':{'guest_access':'can_join'}}]");
	is_str(sev(&r, "history", "world_readable"), "high",
	    "history world_readable: high");
	is_str(sev(&r, "join", "public"), "warn", "public join: warn");
	is_str(sev(&r, "join", "guest_access"), "warn", "guests: warn");
	mx_audit_release(&r);
	run(&r, &ru,
	    "[" ENC ",{'type':'m.room.history_visibility','state_key':'',"
	    "'content':{'history_visibility':'shared'}},"
	    "{'type':'m.room.join_rules','state_key':'','content':{"
	    "'join_rule':'restricted','allow':[{'type':'m.room_membership',"
	    "'room_id':'!a:hs'},{'room_id':'!b:hs'},{'room_id':7}]}},"
	    "{'type':'m.room.guest_access','state_key':'','content':{"
	    "'guest_access':'forbidden'}}]");
	is_str(sev(&r, "history", "shared"), "info",
	    "history shared, encrypted: info");
	is_str(sev(&r, "join", "restricted"), "info", "restricted: info");
	ok(says(&r, "join", "restricted", "can join: !a:hs, !b:hs"),
	    "restricted names the rooms");
	ok(find(&r, "join", "guest_access") == NULL, "no guests: quiet");
	mx_audit_release(&r);
	run(&r, &ru,
	    "[{'type':'m.room.history_visibility','state_key':'',"
	    "'content':{'history_visibility':'shared'}},"
	    "{'type':'m.room.join_rules','state_key':'','content':{"
	    "'join_rule':'invite'}}]");
	ok(count(&r, "history") == 0 && count(&r, "join") == 0,
	    "shared unencrypted, invite only: quiet");
	mx_audit_release(&r);
}

static void
test_servers(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	const char *st = "[" MEMBER("@a:good.org",
	    "join") "," MEMBER("@b:evil.net", "join") "," MEMBER("@c:evil.net",
	    "invite") "," MEMBER("@d:gone.net",
	    "leave") ","
		     "{'type':'m.room.create','state_key':'','content':{"
		     "'m.federate':false}},{'type':'m.room.server_acl',"
		     "'state_key':'','content':{'allow':['*']}}]";

	run(&r, &ru, st);
	is_str(sev(&r, "servers", "evil.net"), "info", "no globs: info only");
	ok(says(&r, "servers", "evil.net", "1 joined and 1 invited"),
	    "joined and invited counted");
	ok(find(&r, "servers", "gone.net") == NULL, "a left member: quiet");
	is_str(sev(&r, "servers", "m.federate"), "info", "m.federate false");
	is_str(sev(&r, "servers", "m.room.server_acl"), "info", "ACL '*'");
	mx_audit_release(&r);
	mx_audit_rules_server(&ru, "*.org");
	mx_audit_rules_server(&ru, "hs");
	run(&r, &ru, st);
	ok(r.n[MX_AUDIT_HIGH] == 1, "one server outside the globs");
	ok(says(&r, "servers", "evil.net",
	       "outside --servers: 1 joined, 1 invited, 0 bridge bot(s)"),
	    "outside --servers: high");
	ok(json_array_size(json_object_get(find(&r, "servers", "evil.net"),
	       "evidence")) == 0,
	    "the info finding first, without evidence");
	mx_audit_release(&r);
	mx_audit_rules_release(&ru);
}

static void
test_power(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;

	mx_audit_rules_pattern(&ru, 1, "mautrix", "^@telegrambot:");
	run(&r, &ru, "[]");
	is_str(sev(&r, "power", "invite"), "warn",
	    "no power levels: everyone invites");
	is_str(sev(&r, "power", "m.room.encryption"), "warn",
	    "no power levels: everyone changes encryption");
	mx_audit_release(&r);
	run(&r, &ru, "[" PL "]");
	ok(find(&r, "power", "invite") == NULL, "invite at 50: quiet");
	is_str(sev(&r, "power", "m.room.encryption"), "info",
	    "who can change encryption: info");
	ok(says(&r, "power", "m.room.encryption", "power 100 changes it: " ME),
	    "names who can change encryption");
	ok(says(&r, "power", "m.room.join_rules", "power 50 changes it: " ME),
	    "state_default for the others");
	mx_audit_release(&r);
	run(&r, &ru,
	    "[{'type':'m.room.power_levels','state_key':'','content':{"
	    "'users':{'@telegrambot:hs':50},'users_default':0,'invite':0}},"
	    "{'type':'m.room.create','state_key':'','sender':'@c:hs',"
	    "'content':{'room_version':'12','additional_creators':"
	    "['@d:hs','@c:hs']}}]");
	is_str(sev(&r, "power", "invite"), "warn", "invite at 0: warn");
	is_str(sev(&r, "power", "@telegrambot:hs"), "warn",
	    "a bot with power: warn");
	is_str(sev(&r, "power", "@c:hs"), "info", "creator, v12: info");
	is_str(sev(&r, "power", "@d:hs"), "info", "additional creator");
	mx_audit_release(&r);
	mx_audit_rules_release(&ru);
}

#define BRIDGE(type, key, bot) \
	"{'type':'" type "','state_key':'" key "','event_id':'$" type "'," \
	"'sender':'@admin:hs','content':{'bridgebot':'" bot "'," \
	"'protocol':{'id':'telegram'},'network':{'id':'tg'}}}"

static void
test_bridges(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	const json_t *f;

	run(&r, &ru,
	    "[" ENC "," BRIDGE("m.bridge", "k",
		"@tgbot:br") "," BRIDGE("uk.half-shot.bridge", "k",
		"@tgbot:br") "," MEMBER("@tgbot:br", "join") "]");
	f = find(&r, "bridge", "@tgbot:br");
	is_str(sev(&r, "bridge", "@tgbot:br"), "high",
	    "confirmed bridge, encrypted: high");
	is_str(mx_json_str(json_object_get(f, "bridge"), "status"),
	    "confirmed", "bot joined: confirmed");
	ok(count(&r, "bridge") == 1 &&
		json_array_size(json_object_get(f, "evidence")) == 2,
	    "two types, one key: one bridge, two events");
	ok(r.bridged && mx_audit_confirmed_bot(&r, "@tgbot:br"),
	    "the room is bridged by its bot");
	ok(says(&r, "bridge", "@tgbot:br", "telegram bridge to tg via"),
	    "bridge detail");
	mx_audit_release(&r);
	run(&r, &ru, "[" ENC "," BRIDGE("m.bridge", "k", "@tgbot:br") "]");
	is_str(mx_json_str(json_object_get(find(&r, "bridge", "@tgbot:br"),
			       "bridge"),
		   "status"),
	    "claimed", "bot not a member: claimed");
	is_str(sev(&r, "bridge", "@tgbot:br"), "warn", "claimed: warn");
	ok(!r.bridged && !mx_audit_confirmed_bot(&r, "@tgbot:br"),
	    "a claim bridges nothing");
	ok(find(&r, "servers", "br") == NULL,
	    "no member there, no globs: no server finding");
	mx_audit_release(&r);
	run(&r, &ru,
	    "[" BRIDGE("m.bridge", "k", "bad") "," MEMBER("@admin:hs",
		"leave") ",{'type':'m.bridge','state_key':'x','content':{}}]");
	is_str(sev(&r, "bridge", "@admin:hs"), "info",
	    "no bridgebot: the sender; left: stale, info");
	ok(count(&r, "bridge") == 1, "an empty bridge event is removed");
	mx_audit_release(&r);
}

static void
test_bridge_like(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	const char *members =
	    MEMBER("@telegrambot:hs", "join") "," MEMBER("@telegram_1:hs",
		"join") "," MEMBER("@telegram_2:hs", "invite") "," MEMBER(ME,
		"join") "," MEMBER("@telegram_3:hs", "leave");
	char st[2048];

	mx_audit_rules_pattern(&ru, 1, "mautrix", "^@telegrambot:");
	mx_audit_rules_pattern(&ru, 0, "mautrix-telegram",
	    "^@telegram_[^:]+:");
	mx_audit_rules_pattern(&ru, 1, "everyone", "^@");
	ok(mx_audit_rules_pattern(&ru, 1, "bad", "(") == -1,
	    "a bad regular expression is refused");
	snprintf(st, sizeof(st), "[" ENC ",%s]", members);
	run(&r, &ru, st);
	is_str(sev(&r, "bridge-like", "@telegrambot:hs"), "high",
	    "a bot by pattern, encrypted: high");
	ok(says(&r, "bridge-like", "@telegrambot:hs",
	       "a joined member looks like a mautrix bot"),
	    "bot detail, the first pattern wins");
	ok(says(&r, "bridge-like", "mautrix-telegram",
	       "2 member(s) look like mautrix-telegram puppets"),
	    "puppets, joined and invited, grouped by pattern");
	ok(find(&r, "bridge-like", ME) == NULL, "we are no bot");
	mx_audit_release(&r);
	snprintf(st, sizeof(st), "[%s,%s]",
	    BRIDGE("m.bridge", "k", "@telegrambot:hs"), members);
	run(&r, &ru, st);
	ok(count(&r, "bridge-like") == 0,
	    "a confirmed bridge explains its bot and puppets");
	is_str(sev(&r, "bridge", "@telegrambot:hs"), "warn",
	    "confirmed, unencrypted: warn");
	mx_audit_release(&r);
	mx_audit_rules_release(&ru);
}

static void
test_rules(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;

	ok(mx_audit_check_known("bridge-like") &&
		!mx_audit_check_known("bridges"),
	    "the checks by name");
	ok(mx_audit_rules_ignore(&ru, "nothing:x") == -1, "no such check");
	ok(mx_audit_rules_ignore(&ru, "encryption") == 0 &&
		mx_audit_rules_ignore(&ru, "servers:evil.*") == 0 &&
		mx_audit_rules_ignore(&ru, "join:") == 0,
	    "rules added");
	ok(mx_audit_ignored_all(&ru, "encryption") &&
		mx_audit_ignored_all(&ru, "join") &&
		!mx_audit_ignored_all(&ru, "servers"),
	    "ignored_all: a rule without subject only");
	ok(mx_audit_ignored(&ru, "servers", "evil.net") &&
		!mx_audit_ignored(&ru, "servers", "good.org"),
	    "the subject is a glob");
	run(&r, &ru,
	    "[" MEMBER("@a:good.org", "join") "," MEMBER("@b:evil.net",
		"join") ",{'type':'m.room.join_rules','state_key':'',"
			"'content':{'join_rule':'public'}}]");
	ok(count(&r, "encryption") == 0 && count(&r, "join") == 0,
	    "ignored checks leave no finding");
	ok(find(&r, "servers", "good.org") != NULL &&
		find(&r, "servers", "evil.net") == NULL,
	    "an ignored subject only");
	ok(r.n[MX_AUDIT_WARN] == count(&r, "power"),
	    "left out findings are not counted");
	mx_audit_release(&r);
	ok(mx_audit_sev_parse("warn") == MX_AUDIT_WARN &&
		mx_audit_sev_parse("fatal") == -1 &&
		strcmp(mx_audit_sev_name(MX_AUDIT_HIGH), "high") == 0,
	    "severities by name");
	mx_audit_rules_release(&ru);
	ok(ru.nrules == 0 && ru.rules == NULL, "released");
}

static void
test_irc_integrations_upgrade(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	const json_t *f;
	size_t i;

	run(&r, &ru,
	    "[{'type':'org.matrix.appservice-irc.connection','state_key':"
	    "'#c','content':{'blocked':true}},{'type':'im.vector.modular."
	    "widgets','state_key':'w','content':{'type':'m.etherpad','url':"
	    "'https://u:p@pad.example/p?x','name':'Pad'}},{'type':"
	    "'m.room.third_party_invite','state_key':'t','content':{"
	    "'display_name':'b...@mail'}},{'type':'m.room.tombstone',"
	    "'state_key':'','event_id':'$t','content':{'replacement_room':"
	    "'!next:hs'}},{'type':'m.room.policy','state_key':'','content':{"
	    "'via':'policy.hs'}}]");
	is_str(sev(&r, "irc", "#c"), "warn", "IRC blocked: warn");
	is_str(sev(&r, "integrations", "pad.example"), "warn",
	    "a widget, by its host");
	is_str(sev(&r, "integrations", "b...@mail"), "warn",
	    "a third-party invite");
	is_str(sev(&r, "integrations", "policy.hs"), "warn",
	    "a policy server");
	ok(find(&r, "upgrade", "!next:hs") == NULL,
	    "the upgrade comes after the state checks");
	mx_audit_upgrade(&r);
	is_str(sev(&r, "upgrade", "!next:hs"), "info", "tombstone: info");
	f = find(&r, "upgrade", "!next:hs");
	is_str(mx_json_str(json_array_get(json_object_get(f, "evidence"), 0),
		   "event_id"),
	    "$t", "evidence: the tombstone");
	is_str(mx_json_str(f, "room_id"), ROOM, "the finding names the room");
	/* The order of mx-bridge-check(1): encryption first, upgrade last. */
	i = json_array_size(r.found);
	is_str(mx_json_str(json_array_get(r.found, 0), "check"), "encryption",
	    "encryption first");
	is_str(mx_json_str(json_array_get(r.found, i - 1), "check"), "upgrade",
	    "upgrade last");
	mx_audit_release(&r);
}

static void
test_devices(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	struct mx_device d[3];
	struct mx_devlist l = { d, 3 };
	json_t *raw =
	    js("{'device_keys':{'@a:hs':{'DA':{'dehydrated':true}}}}");
	const char **uv;
	size_t n;

	memset(d, 0, sizeof(d));
	d[0].user_id = "@a:hs";
	d[0].device_id = "DA";
	d[0].trust = MX_TRUST_TOFU;
	d[1].user_id = ME;
	d[1].device_id = "MINE";
	d[1].trust = MX_TRUST_TOFU;
	d[2].user_id = "@b:hs";
	d[2].device_id = "DB";
	d[2].trust = MX_TRUST_MISMATCH;
	run(&r, &ru,
	    "[" MEMBER("@a:hs", "join") "," MEMBER("@b:hs",
		"invite") "," MEMBER(ME, "join") "," MEMBER("@c:hs",
		"leave") "]");
	uv = mx_audit_device_users(&r, &n);
	ok(n == 3, "joined and invited members' devices are asked for");
	free(uv);
	mx_audit_devices(&r, &l, raw, "MINE");
	ok(says(&r, "devices", "@a:hs", "no cross-signing"),
	    "an unverified device without cross-signing");
	ok(find(&r, "devices", ME) == NULL, "our own device is not judged");
	is_str(sev(&r, "devices", "@b:hs"), "high", "a changed device: high");
	ok(count(&r, "devices") == 3, "unverified, dehydrated, changed");
	mx_audit_release(&r);
	json_decref(raw);
}

static void
test_behalf(void)
{
	struct mx_audit_rules ru = { 0 };
	struct mx_audit_room r;
	json_t *evs =
	    js("[{'event_id':'$1','sender':'@u:hs','content':{"
	       "'fi.mau.double_puppet_source':'mautrix-telegram'}},"
	       "{'event_id':'$2','sender':'@v:hs','mx':{'error':'session "
	       "belongs to another sender','session_sender':'@w:hs'}},"
	       "{'event_id':'$3','sender':'@p:br','mx':{'error':'session "
	       "belongs to another sender','session_sender':'@tgbot:br'}}]");

	run(&r, &ru,
	    "[" BRIDGE("m.bridge", "k", "@tgbot:br") "," MEMBER("@tgbot:br",
		"join") "]");
	mx_audit_behalf(&r, evs);
	is_str(sev(&r, "behalf", "@u:hs"), "warn", "double puppeting: warn");
	is_str(sev(&r, "behalf", "@v:hs"), "high",
	    "another user's session: high");
	is_str(sev(&r, "behalf", "@p:br"), "warn",
	    "the bridge bot's session for its puppet: warn");
	mx_audit_release(&r);
	json_decref(evs);
}

int
main(void)
{
	test_encryption();
	test_history_join();
	test_servers();
	test_power();
	test_bridges();
	test_bridge_like();
	test_rules();
	test_irc_integrations_upgrade();
	test_devices();
	test_behalf();
	return done();
}
