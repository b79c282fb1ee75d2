/*
 * fuzz_devices: lib/devices.c on what a hostile server answers to
 * /keys/query (device_keys, master_keys, self_signing_keys,
 * user_signing_keys, failures), through the public functions, on a memory
 * store, against a homeserver in the process (t/unit/fakesrv.h).  Two
 * users' devices are fetched twice, their lists marked changed between,
 * so that what the first answer pinned meets the second.
 * The input: a control byte, then the first answer, a NUL, the second
 * (the first again when absent), both as the server sends them (JSON or
 * not).  Control bits: 0 carol's changed identity accepted after the
 * second round, then a third; 1 alice's first device verified after the
 * second (2: with a wrong key); 3-4 the status of the second answer
 * (200, 200, 404, 500).
 * Asserted:
 *   - every call fails only with a message;
 *   - listed devices are the queried users', with keys of 43 characters;
 *   - pinning: a device listed in both rounds has the same keys in both,
 *     and is a mismatch when the second answer gave it others;
 *   - nothing is cross-signed or verified that we did not verify;
 *   - mx_devices_by_curve finds every listed device by its key.
 * Built with -DFUZZ_DEVICES_SEEDS, main() writes the seed corpus to
 * argv[1].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../t/unit/fakesrv.h"
#include "b64.h"
#include "conf.h"
#include "crypto.h"
#include "devices.h"
#include "json.h"
#include "signjson.h"
#include "store.h"
#include "util.h"

#define ALICE "@alice:hs"
#define CAROL "@carol:hs"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const users[] = { ALICE, CAROL };
static struct mx_ctx c;
static struct fakesrv srv;

/* The answer to /keys/query (under srv.mu). */
static char *answer;
static int status = 200;

static char *
route(void *u, const struct fakesrv_req *r, int *st)
{
	(void)u;
	if (strstr(r->path, "/keys/query") != NULL) {
		*st = status;
		return mx_xstrdup(answer);
	}
	*st = 404;
	return mx_xstrdup("{\"errcode\":\"M_NOT_FOUND\"}");
}

static void
set_answer(const uint8_t *p, size_t n, int st)
{
	pthread_mutex_lock(&srv.mu);
	free(answer);
	answer = mx_xstrndup((const char *)p, n);
	status = st;
	pthread_mutex_unlock(&srv.mu);
}

static void
check_rc(int rc, const struct mx_err *e)
{
	if (rc < 0 && (e->msg[0] == '\0' || e->status == MX_OK))
		abort();
}

/* The devices of both users, checked; rc of mx_devices_get. */
static int
fetch(struct mx_devlist *l)
{
	struct mx_err e;
	size_t i;
	int rc;

	mx_err_clear(&e);
	rc = mx_devices_get(&c.api, c.store, users, 2, l, &e);
	check_rc(rc, &e);
	for (i = 0; i < l->n; i++) {
		if ((strcmp(l->v[i].user_id, ALICE) != 0 &&
			strcmp(l->v[i].user_id, CAROL) != 0) ||
		    strlen(l->v[i].curve) != 43 || strlen(l->v[i].ed) != 43 ||
		    l->v[i].trust == MX_TRUST_UNKNOWN ||
		    l->v[i].trust >= MX_TRUST_CROSS_SIGNED)
			abort();
	}
	return rc;
}

static const struct mx_device *
find(const struct mx_devlist *l, const struct mx_device *d)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].user_id, d->user_id) == 0 &&
		    strcmp(l->v[i].device_id, d->device_id) == 0)
			return &l->v[i];
	return NULL;
}

/* The keys the answer a (JSON text) gives device d, or NULL. */
static int
answer_differs(const json_t *a, const struct mx_device *d)
{
	const json_t *k =
	    json_object_get(json_object_get(json_object_get(json_object_get(a,
								"device_keys"),
						d->user_id),
				d->device_id),
		"keys");
	char *ck = mx_xasprintf("curve25519:%s", d->device_id);
	char *ek = mx_xasprintf("ed25519:%s", d->device_id);
	const char *cv = mx_json_str(k, ck), *ev = mx_json_str(k, ek);
	int r = cv != NULL && ev != NULL &&
	    (strcmp(cv, d->curve) != 0 || strcmp(ev, d->ed) != 0);

	free(ck);
	free(ek);
	return r;
}

/* Pinning: what round 1 listed keeps its keys in round 2 (l2), and is a
 * mismatch when the second answer (a2) gave it other (valid) keys. */
static void
check_pins(const struct mx_devlist *l1, const struct mx_devlist *l2,
    const json_t *a2)
{
	const struct mx_device *d;
	size_t i;

	for (i = 0; i < l1->n; i++) {
		if ((d = find(l2, &l1->v[i])) == NULL)
			continue;
		if (strcmp(d->curve, l1->v[i].curve) != 0 ||
		    strcmp(d->ed, l1->v[i].ed) != 0)
			abort();
		if (answer_differs(a2, d) && d->trust != MX_TRUST_MISMATCH &&
		    json_is_object(a2))
			abort();
	}
}

static void
by_curve(const struct mx_devlist *l)
{
	struct mx_device d;
	struct mx_err e;
	size_t i;
	int rc;

	for (i = 0; i < l->n && i < 4; i++) {
		mx_err_clear(&e);
		rc = mx_devices_by_curve(&c.api, c.store, l->v[i].user_id,
		    l->v[i].curve, &d, &e);
		check_rc(rc, &e);
		if (rc == 0 ||
		    (rc == 1 && strcmp(d.curve, l->v[i].curve) != 0))
			abort();
		if (rc == 1)
			mx_device_release(&d);
	}
}

static void
verify(const struct mx_devlist *l, int wrong)
{
	struct mx_devlist after = { 0 };
	const struct mx_device *d;
	struct mx_err e;
	size_t i;
	int rc, vr;

	for (i = 0; i < l->n && strcmp(l->v[i].user_id, ALICE) != 0; i++)
		;
	if (i == l->n)
		return;
	mx_err_clear(&e);
	vr = mx_devices_verify(&c.api, c.store, ALICE, l->v[i].device_id,
	    wrong ? l->v[i].curve : l->v[i].ed, &e);
	check_rc(vr, &e);
	if (vr == 0 && (wrong || l->v[i].trust == MX_TRUST_MISMATCH))
		abort();
	mx_err_clear(&e);
	rc = mx_devices_get(&c.api, c.store, users, 2, &after, &e);
	check_rc(rc, &e);
	d = find(&after, &l->v[i]);
	/* Verified exactly when the verification succeeded. */
	if (rc == 0 && (d == NULL || (d->trust == MX_TRUST_VERIFIED) != !vr))
		abort();
	mx_devlist_release(&after);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 200, 404, 500 };
	static const char changed[] =
	    "{\"changed\":[\"" ALICE "\",\"" CAROL "\"]}";
	struct mx_devlist l1 = { 0 }, l2 = { 0 };
	const uint8_t *a1, *a2, *nul;
	size_t n1, n2;
	json_t *ch, *q2;
	struct mx_err e;
	int rc;

	if (size < 1)
		return 0;
	a1 = data + 1;
	n1 = size - 1;
	a2 = a1;
	n2 = n1;
	if ((nul = memchr(a1, 0, n1)) != NULL) {
		n1 = (size_t)(nul - a1);
		a2 = nul + 1;
		n2 = size - 1 - n1 - 1;
	}
	mx_err_clear(&e);
	if (mx_store_clear(c.store, "devices", &e) != 0)
		abort();
	set_answer(a1, n1, 200);
	fetch(&l1);
	ch = json_loads(changed, 0, NULL);
	check_rc(mx_devices_changed(c.store, ch, &e), &e);
	json_decref(ch);
	set_answer(a2, n2, statuses[(data[0] >> 3) & 3]);
	rc = fetch(&l2);
	q2 = json_loadb((const char *)a2, n2, 0, NULL);
	if (rc == 0)
		check_pins(&l1, &l2, q2);
	json_decref(q2);
	if (rc == 0)
		by_curve(&l2);
	if (data[0] & 1) {
		check_rc(mx_devices_accept(c.store, CAROL, &e), &e);
		mx_devlist_release(&l1);
		fetch(&l1);
	}
	if (data[0] & 2)
		verify(&l2, (data[0] & 4) != 0);
	mx_devlist_release(&l1);
	mx_devlist_release(&l2);
	fakesrv_clear(&srv);
	return 0;
}

static void
teardown(void)
{
	fakesrv_stop(&srv);
	mx_ctx_close(&c);
	free(answer);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mx_http_opts o = { { NULL, NULL, 0 }, 0, 2000, 10000, -1 };
	struct mx_err e;

	(void)argc;
	(void)argv;
	mx_err_clear(&e);
	if (mx_crypto_init() < 0)
		abort();
	srv.route = route;
	answer = mx_xstrdup("{}");
	if (fakesrv_start(&srv) != 0 || mx_store_open_memory(&c.store, &e))
		abort();
	c.prog = "fuzz_devices";
	c.sess.homeserver = mx_xasprintf("http://127.0.0.1:%d", srv.port);
	c.sess.user_id = mx_xstrdup("@bob:hs");
	c.sess.device_id = mx_xstrdup("BOBDEV");
	mx_session_set_token(&c.sess, "tok");
	c.http = mx_http_new(&o);
	c.api.http = c.http;
	c.api.hs = c.sess.homeserver;
	c.api.token = c.sess.access_token;
	atexit(teardown);
	return 0;
}

#ifdef FUZZ_DEVICES_SEEDS
/* An Ed25519 key pair from counting bytes. */
struct key {
	uint8_t pub[32], sk[64];
	char b64[MX_OLM_KEY_B64];
};

static void
key_new(struct key *k, uint8_t start)
{
	uint8_t seed[32];
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(start + i);
	mx_ed25519_from_seed(k->pub, k->sk, seed);
	mx_b64_enc(k->b64, k->pub, 32);
}

/* Device keys of user's dev, self-signed by ed, and by ssk when given. */
static json_t *
device(const char *user, const char *dev, const struct key *curve,
    const struct key *ed, const struct key *ssk)
{
	char *ck = mx_xasprintf("curve25519:%s", dev);
	char *ek = mx_xasprintf("ed25519:%s", dev);
	json_t *o = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s},s:{s:s}}",
	    "user_id", user, "device_id", dev, "algorithms",
	    "m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2", "keys", ck,
	    curve->b64, ek, ed->b64, "unsigned", "device_display_name", dev);

	mx_signjson_sign(o, user, dev, ed->sk, NULL);
	if (ssk != NULL)
		mx_signjson_sign(o, user, ssk->b64, ssk->sk, NULL);
	free(ck);
	free(ek);
	return o;
}

static json_t *
xs_key(const char *usage, const struct key *k, const struct key *by)
{
	char *kid = mx_xasprintf("ed25519:%s", k->b64);
	json_t *o = json_pack("{s:s,s:[s],s:{s:s}}", "user_id", CAROL, "usage",
	    usage, "keys", kid, k->b64);

	if (by != NULL)
		mx_signjson_sign(o, CAROL, by->b64, by->sk, NULL);
	free(kid);
	return o;
}

/* A /keys/query answer: alice's two devices (the second's keys from k2),
 * carol's two, the first signed by her self-signing key (master m, ssk
 * s). */
static char *
query(const struct key *k, const struct key *k2, const struct key *m,
    const struct key *s)
{
	json_t *q = json_pack("{s:{s:{s:o,s:o},s:{s:o,s:o}},s:{s:o},s:{s:o},"
			      "s:{s:o},s:{s:{}}}",
	    "device_keys", ALICE, "A1",
	    device(ALICE, "A1", &k[0], &k[1], NULL), "A2",
	    device(ALICE, "A2", &k2[0], &k2[1], NULL), CAROL, "C1",
	    device(CAROL, "C1", &k[2], &k[3], s), "C2",
	    device(CAROL, "C2", &k[4], &k[5], NULL), "master_keys", CAROL,
	    xs_key("master", m, NULL), "self_signing_keys", CAROL,
	    xs_key("self_signing", s, m), "user_signing_keys", CAROL,
	    xs_key("user_signing", &k[6], m), "failures", "other.hs");
	char *t = mx_json_compact(q);

	json_decref(q);
	return t;
}

static void
put(const char *dir, const char *name, uint8_t ctl, const char *a1,
    const char *a2)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		exit(1);
	fputc(ctl, f);
	fputs(a1, f);
	if (a2 != NULL) {
		fputc(0, f);
		fputs(a2, f);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct key k[7], k2[2], m1, s1, m2, s2;
	char *same, *other, *swapped;
	size_t i;

	if (argc != 2 || mx_crypto_init() < 0)
		return 2;
	for (i = 0; i < 7; i++)
		key_new(&k[i], (uint8_t)(i * 32));
	key_new(&k2[0], 0xE0);
	key_new(&k2[1], 0xF0);
	key_new(&m1, 0x11);
	key_new(&s1, 0x22);
	key_new(&m2, 0x33);
	key_new(&s2, 0x44);
	same = query(k, k + 5, &m1, &s1);
	other = query(k, k2, &m1, &s1);
	swapped = query(k, k + 5, &m2, &s2);
	put(argv[1], "same", 0, same, NULL);
	put(argv[1], "changed-device", 0, same, other);
	put(argv[1], "changed-identity", 0, same, swapped);
	put(argv[1], "accepted-identity", 1, same, swapped);
	put(argv[1], "verify", 2, same, other);
	put(argv[1], "verify-wrong", 6, same, same);
	put(argv[1], "gone-404", 0x10, same, "{\"errcode\":\"M_NOT_FOUND\"}");
	put(argv[1], "empty", 0, "{\"device_keys\":{}}", "[]");
	free(same);
	free(other);
	free(swapped);
	return 0;
}
#endif
