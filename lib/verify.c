/*
 * verify: the SAS verification state machine (see verify.h).  Spec
 * sections cited per step: Client-Server API, "Key verification
 * framework" (request, ready, cancel, done), "Short Authentication String
 * (SAS) verification" (start, accept, key, mac), "MAC calculation".
 *
 * Constant time: the commitment and the MACs are compared with
 * sodium_memcmp; the shared secret stays inside sas.c.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "json.h"
#include "sas.h"
#include "util.h"
#include "verify.h"
#include "banned.h"

#define METHOD "m.sas.v1"
#define KA "curve25519-hkdf-sha256"
#define HASH "sha256"
#define MAC "hkdf-hmac-sha256.v2"
#define SAS_EMOJI 1
#define SAS_DECIMAL 2

struct mx_verify {
	char *our_user, *our_dev, *our_ed, *our_master;
	char *their_user, *their_dev, *their_ed, *their_master;
	int master_ok;
	char *txn;
	int we_ask;
	int room; /* the in-room form: txn is the request's event ID */
	enum mx_verify_state st;
	struct mx_sas *sas;
	json_t *start; /* the start content, as sent or received */
	int we_start;  /* we sent the start that counts */
	char commitment[MX_SAS_MAC_B64];
	char their_key[MX_SAS_KEY_B64];
	int forms; /* SAS_EMOJI | SAS_DECIMAL agreed */
	int emoji[MX_SAS_EMOJI], decimal[MX_SAS_DECIMALS];
	json_t *their_mac; /* a MAC that came before the user's answer */
	int their_done;
	char code[64], reason[256];
	int by_them;
	json_t *out;
	json_t *seen; /* {"type\ncanonical content": true} of each taken */
};

static char *
dup_or_empty(const char *s)
{
	return mx_xstrdup(s ? s : "");
}

/* Name the flow in content: to-device, its transaction_id; in-room
 * (spec: "Key verification framework", in-room verification), a
 * reference to the request event and no transaction_id. */
static void
tag(struct mx_verify *v, json_t *content)
{
	if (v->room)
		json_object_set_new(content, "m.relates_to",
		    json_pack("{s:s,s:s}", "rel_type", "m.reference",
			"event_id", v->txn));
	else
		json_object_set_new(content, "transaction_id",
		    json_string(v->txn));
}

/* Queue an event; content stolen, tagged with the flow. */
static void
queue(struct mx_verify *v, const char *type, json_t *content)
{
	tag(v, content);
	json_array_append_new(v->out,
	    json_pack("{s:s,s:o}", "type", type, "content", content));
}

/* Printable ASCII of s into out (size n), the rest dropped: what the
 * other side says is shown on a terminal. */
static void
printable(char *out, size_t n, const char *s)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i + 1 < n; s++)
		if (*s >= 0x20 && *s < 0x7f)
			out[i++] = *s;
	out[i] = '\0';
}

static void
cancel(struct mx_verify *v, const char *code, const char *reason)
{
	if (v->st == MX_VERIFY_DONE || v->st == MX_VERIFY_CANCELLED)
		return;
	queue(v, "m.key.verification.cancel",
	    json_pack("{s:s,s:s}", "code", code, "reason", reason));
	printable(v->code, sizeof(v->code), code);
	printable(v->reason, sizeof(v->reason), reason);
	v->by_them = 0;
	v->st = MX_VERIFY_CANCELLED;
}

void
mx_verify_cancel(struct mx_verify *v, const char *code, const char *reason)
{
	cancel(v, code, reason);
}

static int
has_str(const json_t *arr, const char *s)
{
	const json_t *x;
	size_t i;

	json_array_foreach((json_t *)arr, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
			return 1;
	return 0;
}

/* Our m.key.verification.start (spec: "m.key.verification.start" with
 * m.sas.v1): the one method set we speak. */
static void
send_start(struct mx_verify *v)
{
	json_t *c =
	    json_pack("{s:s,s:s,s:[s],s:[s],s:[s],s:[s,s]}", "from_device",
		v->our_dev, "method", METHOD, "key_agreement_protocols", KA,
		"hashes", HASH, "message_authentication_codes", MAC,
		"short_authentication_string", "decimal", "emoji");

	tag(v, c);
	json_decref(v->start);
	v->start = json_deep_copy(c);
	v->we_start = 1;
	queue(v, "m.key.verification.start", c);
	v->st = MX_VERIFY_STARTED;
}

/* The common part of both forms; nothing queued yet. */
static struct mx_verify *
make(const struct mx_verify_party *us, const struct mx_verify_party *them,
    const char *txn, int we_ask, int room)
{
	struct mx_verify *v = mx_xcalloc(1, sizeof(*v));

	v->our_user = dup_or_empty(us->user);
	v->our_dev = dup_or_empty(us->device);
	v->our_ed = dup_or_empty(us->ed);
	v->our_master = dup_or_empty(us->master);
	v->their_user = dup_or_empty(them->user);
	v->their_dev = dup_or_empty(them->device);
	v->their_ed = dup_or_empty(them->ed);
	v->their_master = dup_or_empty(them->master);
	v->txn = dup_or_empty(txn);
	v->we_ask = we_ask;
	v->room = room;
	v->out = json_array();
	v->seen = json_object();
	v->st = we_ask ? MX_VERIFY_REQUESTED : MX_VERIFY_READY;
	if (!we_ask)
		queue(v, "m.key.verification.ready",
		    json_pack("{s:s,s:[s]}", "from_device", v->our_dev,
			"methods", METHOD));
	return v;
}

struct mx_verify *
mx_verify_new(const struct mx_verify_party *us,
    const struct mx_verify_party *them, const char *txn, int we_ask,
    long long now_ms)
{
	struct mx_verify *v = make(us, them, txn, we_ask, 0);

	if (we_ask)
		queue(v, "m.key.verification.request",
		    json_pack("{s:s,s:[s],s:I}", "from_device", v->our_dev,
			"methods", METHOD, "timestamp", (json_int_t)now_ms));
	return v;
}

struct mx_verify *
mx_verify_new_room(const struct mx_verify_party *us,
    const struct mx_verify_party *them, const char *request_id, int we_ask)
{
	return make(us, them, request_id, we_ask, 1);
}

/* Spec: "Key verification framework", m.key.verification.request in a
 * room: an m.room.message whose body is a fallback for clients that do
 * not know the msgtype. */
json_t *
mx_verify_room_request(const char *our_device, const char *to_user)
{
	char *body = mx_xasprintf("%s is asking to verify your device with "
				  "emoji, which this client does not "
				  "support.",
	    our_device);
	json_t *c = json_pack("{s:s,s:s,s:s,s:[s],s:s}", "msgtype",
	    "m.key.verification.request", "body", body, "from_device",
	    our_device, "methods", METHOD, "to", to_user);

	free(body);
	return c;
}

int
mx_verify_pin(struct mx_verify *v, const char *device, const char *ed)
{
	if (v->their_dev[0] != '\0' || device == NULL || *device == '\0' ||
	    ed == NULL)
		return -1;
	free(v->their_dev);
	free(v->their_ed);
	v->their_dev = mx_xstrdup(device);
	v->their_ed = mx_xstrdup(ed);
	return 0;
}

const char *
mx_verify_their_device(const struct mx_verify *v)
{
	return v->their_dev;
}

int
mx_verify_of(const struct mx_verify *v, const json_t *content)
{
	const json_t *rel;
	const char *id;

	if (!json_is_object(content))
		return 0;
	if (!v->room) {
		id = mx_json_str(content, "transaction_id");
		return id != NULL && strcmp(id, v->txn) == 0;
	}
	rel = json_object_get(content, "m.relates_to");
	id = mx_json_str(rel, "event_id");
	return mx_json_str(rel, "rel_type") != NULL &&
	    strcmp(mx_json_str(rel, "rel_type"), "m.reference") == 0 &&
	    id != NULL && strcmp(id, v->txn) == 0;
}

void
mx_verify_free(struct mx_verify *v)
{
	if (v == NULL)
		return;
	free(v->our_user);
	free(v->our_dev);
	free(v->our_ed);
	free(v->our_master);
	free(v->their_user);
	free(v->their_dev);
	free(v->their_ed);
	free(v->their_master);
	free(v->txn);
	mx_sas_free(v->sas);
	json_decref(v->start);
	json_decref(v->their_mac);
	json_decref(v->out);
	json_decref(v->seen);
	sodium_memzero(v, sizeof(*v));
	free(v);
}

/* ---- steps ----------------------------------------------------------- */

/* ready, to our request: they speak m.sas.v1, so we start. */
static void
on_ready(struct mx_verify *v, const json_t *c)
{
	if (v->st != MX_VERIFY_REQUESTED) {
		cancel(v, "m.unexpected_message", "unexpected ready");
		return;
	}
	if (!has_str(json_object_get(c, "methods"), METHOD)) {
		cancel(v, "m.unknown_method", "no m.sas.v1 in ready");
		return;
	}
	send_start(v);
}

/* The SAS forms of a start's or accept's list that we speak. */
static int
forms_of(const json_t *list)
{
	return (has_str(list, "emoji") ? SAS_EMOJI : 0) |
	    (has_str(list, "decimal") ? SAS_DECIMAL : 0);
}

/* start: we accept theirs with a commitment to our key (spec:
 * "m.key.verification.accept"): SHA-256 of our key and the canonical
 * JSON of their start content as received. */
static void
on_start(struct mx_verify *v, const json_t *c)
{
	char pub[MX_SAS_KEY_B64], *canon;
	json_t *acc, *forms;

	if (v->st == MX_VERIFY_STARTED) {
		/* Both started (spec: "Key verification framework"): the
		 * lower user ID's start, then the lower device ID's, counts */
		int cmp = strcmp(v->our_user, v->their_user);

		if (cmp == 0)
			cmp = strcmp(v->our_dev, v->their_dev);
		if (cmp < 0)
			return;
		v->we_start = 0;
	} else if (v->st != MX_VERIFY_READY) {
		cancel(v, "m.unexpected_message", "unexpected start");
		return;
	}
	if (!mx_json_str(c, "method") ||
	    strcmp(mx_json_str(c, "method"), METHOD) != 0) {
		cancel(v, "m.unknown_method", "only m.sas.v1");
		return;
	}
	v->forms = forms_of(json_object_get(c, "short_authentication_string"));
	if (!has_str(json_object_get(c, "key_agreement_protocols"), KA) ||
	    !has_str(json_object_get(c, "hashes"), HASH) ||
	    !has_str(json_object_get(c, "message_authentication_codes"),
		MAC) ||
	    v->forms == 0) {
		cancel(v, "m.unknown_method",
		    "no common key agreement, hash, MAC or SAS");
		return;
	}
	if ((canon = mx_json_canonical(c, NULL)) == NULL) {
		cancel(v, "m.invalid_message", "bad start");
		return;
	}
	json_decref(v->start);
	v->start = json_deep_copy(c);
	v->sas = mx_sas_new();
	mx_sas_pubkey(v->sas, pub);
	mx_sas_commitment(v->commitment, pub, canon, strlen(canon));
	free(canon);
	forms = json_array();
	if (v->forms & SAS_DECIMAL)
		json_array_append_new(forms, json_string("decimal"));
	if (v->forms & SAS_EMOJI)
		json_array_append_new(forms, json_string("emoji"));
	acc = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "method", METHOD,
	    "key_agreement_protocol", KA, "hash", HASH,
	    "message_authentication_code", MAC, "short_authentication_string",
	    forms, "commitment", v->commitment);
	queue(v, "m.key.verification.accept", acc);
	v->st = MX_VERIFY_ACCEPTING;
}

static void
send_key(struct mx_verify *v)
{
	char pub[MX_SAS_KEY_B64];

	mx_sas_pubkey(v->sas, pub);
	queue(v, "m.key.verification.key", json_pack("{s:s}", "key", pub));
}

/* accept, of our start: their choices must be ours; keep the commitment
 * and send our key. */
static void
on_accept(struct mx_verify *v, const json_t *c)
{
	const char *ka = mx_json_str(c, "key_agreement_protocol"),
		   *h = mx_json_str(c, "hash"),
		   *m = mx_json_str(c, "message_authentication_code"),
		   *com = mx_json_str(c, "commitment");
	const json_t *sas = json_object_get(c, "short_authentication_string");

	if (v->st != MX_VERIFY_STARTED) {
		cancel(v, "m.unexpected_message", "unexpected accept");
		return;
	}
	v->forms = forms_of(sas);
	if (ka == NULL || strcmp(ka, KA) != 0 || h == NULL ||
	    strcmp(h, HASH) != 0 || m == NULL || strcmp(m, MAC) != 0 ||
	    v->forms == 0 || json_array_size(sas) > 2 ||
	    (mx_json_str(c, "method") != NULL &&
		strcmp(mx_json_str(c, "method"), METHOD) != 0)) {
		cancel(v, "m.unknown_method",
		    "accept chose what we did not offer");
		return;
	}
	if (com == NULL || strlen(com) != MX_SAS_MAC_B64 - 1) {
		cancel(v, "m.invalid_message", "bad commitment");
		return;
	}
	memcpy(v->commitment, com, MX_SAS_MAC_B64);
	v->sas = mx_sas_new();
	send_key(v);
	v->st = MX_VERIFY_ACCEPTED;
}

/* The SAS of the shared secret (spec: "SAS HKDF calculation"): the
 * starting side's user, device and key first. */
static int
compute_sas(struct mx_verify *v)
{
	char pub[MX_SAS_KEY_B64], *info;
	uint8_t b[MX_SAS_BYTES];
	int rc;

	mx_sas_pubkey(v->sas, pub);
	if (v->we_start)
		info = mx_sas_info(v->our_user, v->our_dev, pub, v->their_user,
		    v->their_dev, v->their_key, v->txn);
	else
		info = mx_sas_info(v->their_user, v->their_dev, v->their_key,
		    v->our_user, v->our_dev, pub, v->txn);
	rc = mx_sas_bytes(v->sas, b, sizeof(b), info, strlen(info), NULL);
	free(info);
	if (rc != 0)
		return -1;
	mx_sas_emoji_index(b, v->emoji);
	mx_sas_decimal(b, v->decimal);
	sodium_memzero(b, sizeof(b));
	return 0;
}

/* Their commitment held: SHA-256 of the key they now send and our start
 * (spec: "m.key.verification.accept" commitment). */
static int
commitment_ok(struct mx_verify *v)
{
	char got[MX_SAS_MAC_B64], *canon = mx_json_canonical(v->start, NULL);
	int ok;

	if (canon == NULL)
		return 0;
	mx_sas_commitment(got, v->their_key, canon, strlen(canon));
	free(canon);
	ok = sodium_memcmp(got, v->commitment, MX_SAS_MAC_B64) == 0;
	return ok;
}

static void
on_key(struct mx_verify *v, const json_t *c)
{
	const char *k = mx_json_str(c, "key");

	if (v->st != MX_VERIFY_ACCEPTED && v->st != MX_VERIFY_ACCEPTING) {
		cancel(v, "m.unexpected_message", "unexpected key");
		return;
	}
	if (k == NULL || strlen(k) != MX_SAS_KEY_B64 - 1) {
		cancel(v, "m.invalid_message", "bad key");
		return;
	}
	memcpy(v->their_key, k, MX_SAS_KEY_B64);
	if (v->st == MX_VERIFY_ACCEPTED && !commitment_ok(v)) {
		cancel(v, "m.mismatched_commitment",
		    "the key does not match the commitment");
		return;
	}
	if (mx_sas_set_their_key(v->sas, k, NULL) != 0) {
		cancel(v, "m.invalid_message", "bad key");
		return;
	}
	if (v->st == MX_VERIFY_ACCEPTING)
		send_key(v);
	if (compute_sas(v) != 0) {
		cancel(v, "m.invalid_message", "bad key");
		return;
	}
	v->st = MX_VERIFY_SHOW;
}

/* The MAC of input by owner for other under key id kid (spec: "MAC
 * calculation", hkdf-hmac-sha256.v2). */
static int
mac_of(struct mx_verify *v, int ours, const char *kid, const char *input,
    char out[MX_SAS_MAC_B64])
{
	char *info = ours ? mx_sas_mac_info(v->our_user, v->our_dev,
				v->their_user, v->their_dev, v->txn, kid) :
			    mx_sas_mac_info(v->their_user, v->their_dev,
				v->our_user, v->our_dev, v->txn, kid);
	int rc = mx_sas_mac(v->sas, out, input, strlen(input), info,
	    strlen(info), NULL);

	free(info);
	return rc;
}

/* Our MAC (spec: "MAC calculation"): our device key, and our master key
 * when we hold it; "keys" covers their sorted, comma-joined IDs. */
static void
send_mac(struct mx_verify *v)
{
	char kid[256], mkid[64], m[MX_SAS_MAC_B64], k[MX_SAS_MAC_B64];
	char list[330];
	json_t *macs = json_object();
	int rc;

	snprintf(kid, sizeof(kid), "ed25519:%s", v->our_dev);
	snprintf(mkid, sizeof(mkid), "ed25519:%s", v->our_master);
	rc = mac_of(v, 1, kid, v->our_ed, m);
	if (rc == 0)
		json_object_set_new(macs, kid, json_string(m));
	if (rc == 0 && v->our_master[0] != '\0' &&
	    (rc = mac_of(v, 1, mkid, v->our_master, m)) == 0)
		json_object_set_new(macs, mkid, json_string(m));
	if (v->our_master[0] == '\0')
		snprintf(list, sizeof(list), "%s", kid);
	else if (strcmp(kid, mkid) < 0)
		snprintf(list, sizeof(list), "%s,%s", kid, mkid);
	else
		snprintf(list, sizeof(list), "%s,%s", mkid, kid);
	if (rc == 0)
		rc = mac_of(v, 1, "KEY_IDS", list, k);
	if (rc != 0) {
		json_decref(macs);
		cancel(v, "m.invalid_message", "cannot compute a MAC");
		return;
	}
	queue(v, "m.key.verification.mac",
	    json_pack("{s:o,s:s}", "mac", macs, "keys", k));
	v->st = MX_VERIFY_MAC_SENT;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when a MAC equals the one we compute. */
static int
mac_matches(struct mx_verify *v, const char *kid, const char *input,
    const char *got)
{
	char want[MX_SAS_MAC_B64];

	if (got == NULL || strlen(got) != MX_SAS_MAC_B64 - 1 ||
	    mac_of(v, 0, kid, input, want) != 0)
		return 0;
	return sodium_memcmp(want, got, MX_SAS_MAC_B64 - 1) == 0;
}

/* Check their MAC (c): first the list of key IDs (so none was added or
 * removed), then their device's key against the one fixed at the start;
 * keys we do not know (their master key) are not needed. */
static void
check_mac(struct mx_verify *v, const json_t *c)
{
	const json_t *mac = json_object_get(c, "mac"), *m;
	const char **ids, *kid;
	struct mx_buf list = MX_BUF_INIT;
	char dev[256], mk[64];
	size_t n = 0, i;
	int ok;

	if (!json_is_object(mac) || json_object_size(mac) == 0 ||
	    json_object_size(mac) > 64) {
		cancel(v, "m.invalid_message", "bad mac");
		return;
	}
	ids = mx_xcalloc(json_object_size(mac), sizeof(*ids));
	json_object_foreach((json_t *)mac, kid, m)
		ids[n++] = kid;
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (i = 0; i < n; i++) {
		if (i > 0)
			mx_buf_adds(&list, ",");
		mx_buf_adds(&list, ids[i]);
	}
	free(ids);
	mx_buf_add(&list, "", 1);
	ok = mac_matches(v, "KEY_IDS", list.p, mx_json_str(c, "keys"));
	mx_buf_release(&list);
	snprintf(dev, sizeof(dev), "ed25519:%s", v->their_dev);
	if (ok)
		ok = mac_matches(v, dev, v->their_ed, mx_json_str(mac, dev));
	/* Their pinned master key, when the MAC covers it; a device ID equal
	 * to it would make the two key IDs one (spec: "Key and signature
	 * security"): then neither is trusted. */
	snprintf(mk, sizeof(mk), "ed25519:%s", v->their_master);
	if (ok && v->their_master[0] != '\0' &&
	    strcmp(v->their_master, v->their_dev) == 0)
		ok = 0;
	if (ok && v->their_master[0] != '\0' &&
	    json_object_get(mac, mk) != NULL) {
		ok = mac_matches(v, mk, v->their_master, mx_json_str(mac, mk));
		v->master_ok = ok;
	}
	if (!ok) {
		cancel(v, "m.key_mismatch", "the keys' MACs do not match");
		return;
	}
	queue(v, "m.key.verification.done", json_object());
	v->st = v->their_done ? MX_VERIFY_DONE : MX_VERIFY_DONE_SENT;
}

static void
on_mac(struct mx_verify *v, const json_t *c)
{
	if (v->st == MX_VERIFY_SHOW && v->their_mac == NULL)
		v->their_mac = json_deep_copy(c);
	else if (v->st == MX_VERIFY_MAC_SENT)
		check_mac(v, c);
	else
		cancel(v, "m.unexpected_message", "unexpected mac");
}

static void
on_done(struct mx_verify *v)
{
	if (v->st == MX_VERIFY_DONE_SENT)
		v->st = MX_VERIFY_DONE;
	else if (v->st == MX_VERIFY_MAC_SENT && !v->their_done)
		v->their_done = 1;
	else
		cancel(v, "m.unexpected_message", "unexpected done");
}

/* 1 when this very event was taken before: a to-device event can reach
 * the profile twice (two processes syncing from different positions),
 * and a copy is no message out of turn. */
static int
seen_before(struct mx_verify *v, const char *type, const json_t *c)
{
	char *canon = mx_json_canonical(c, NULL), *k;
	int seen;

	if (canon == NULL)
		return 0;
	k = mx_xasprintf("%s\n%s", type, canon);
	free(canon);
	seen = json_object_get(v->seen, k) != NULL;
	if (!seen && json_object_size(v->seen) < 64)
		json_object_set_new(v->seen, k, json_true());
	free(k);
	return seen;
}

int
mx_verify_input(struct mx_verify *v, const char *sender, const char *type,
    const json_t *c)
{
	const char *fd;

	if (sender == NULL || type == NULL || !mx_verify_of(v, c) ||
	    strcmp(sender, v->their_user) != 0)
		return 0;
	/* Events that name their device must name the one we verify (not
	 * known yet: the caller pins it first, mx_verify_pin). */
	fd = mx_json_str(c, "from_device");
	if ((strcmp(type, "m.key.verification.ready") == 0 ||
		strcmp(type, "m.key.verification.start") == 0) &&
	    (fd == NULL || strcmp(fd, v->their_dev) != 0))
		return 0;
	if (v->st == MX_VERIFY_DONE || v->st == MX_VERIFY_CANCELLED)
		return 1;
	if (seen_before(v, type, c))
		return 1;
	if (strcmp(type, "m.key.verification.cancel") == 0) {
		printable(v->code, sizeof(v->code), mx_json_str(c, "code"));
		printable(v->reason, sizeof(v->reason),
		    mx_json_str(c, "reason"));
		v->by_them = 1;
		v->st = MX_VERIFY_CANCELLED;
	} else if (strcmp(type, "m.key.verification.ready") == 0)
		on_ready(v, c);
	else if (strcmp(type, "m.key.verification.start") == 0)
		on_start(v, c);
	else if (strcmp(type, "m.key.verification.accept") == 0)
		on_accept(v, c);
	else if (strcmp(type, "m.key.verification.key") == 0)
		on_key(v, c);
	else if (strcmp(type, "m.key.verification.mac") == 0)
		on_mac(v, c);
	else if (strcmp(type, "m.key.verification.done") == 0)
		on_done(v);
	else if (strcmp(type, "m.key.verification.request") != 0)
		cancel(v, "m.unexpected_message",
		    "unknown verification event");
	return 1;
}

void
mx_verify_confirm(struct mx_verify *v, int match)
{
	json_t *m;

	if (v->st != MX_VERIFY_SHOW)
		return;
	if (!match) {
		cancel(v, "m.mismatched_sas", "the SAS did not match");
		return;
	}
	send_mac(v);
	if (v->st == MX_VERIFY_MAC_SENT && (m = v->their_mac) != NULL) {
		v->their_mac = NULL;
		check_mac(v, m);
		json_decref(m);
	}
}

enum mx_verify_state
mx_verify_state(const struct mx_verify *v)
{
	return v->st;
}

json_t *
mx_verify_take(struct mx_verify *v)
{
	json_t *o = v->out;

	v->out = json_array();
	return o;
}

int
mx_verify_sas(const struct mx_verify *v, int emoji[MX_SAS_EMOJI],
    int decimal[MX_SAS_DECIMALS])
{
	memcpy(emoji, v->emoji, sizeof(v->emoji));
	memcpy(decimal, v->decimal, sizeof(v->decimal));
	return v->forms;
}

const char *
mx_verify_cancel_code(const struct mx_verify *v)
{
	return v->code;
}

const char *
mx_verify_cancel_reason(const struct mx_verify *v)
{
	return v->reason;
}

int
mx_verify_cancelled_by_them(const struct mx_verify *v)
{
	return v->by_them;
}

int
mx_verify_master_verified(const struct mx_verify *v)
{
	return v->st == MX_VERIFY_DONE && v->master_ok;
}
