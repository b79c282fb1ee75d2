/*
 * fuzz_olm: Olm message decoding, decryption and unpickling never crash
 * and never overrun.  The first input byte picks what the rest is fed to:
 *   0  a pre-key message: parse, session id, new inbound session + decrypt
 *   1  a normal message to alice's session
 *   2  a pre-key message to bob's existing session
 *   3  an account pickle    4  a session pickle
 * The sessions are rebuilt from pickles for every input, so state never
 * leaks between runs.  What decrypts must fit the input length; what
 * unpickles must pickle back to the same bytes.
 * Built with -DFUZZ_OLM_SEEDS, main() writes the seed corpus to argv[1].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "olm.h"
#include "pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mx_buf bob_acct_pk, alice_pk, bob_pk;
static uint8_t seed_prekey[512], seed_prekey2[512], seed_msg[512];
static size_t seed_prekey_n, seed_prekey2_n, seed_msg_n;

static void
fill(uint8_t *p, uint8_t start, size_t n)
{
	while (n--)
		*p++ = start++;
}

/* A fixed conversation: alice -> bob pre-key, bob -> alice reply. */
static void
setup(void)
{
	struct mx_olm_account *a, *b;
	struct mx_olm_session *as, *bs;
	struct mx_olm_otk k;
	uint8_t r[64], id[32], p[512];
	size_t n;
	int t;

	if (mx_crypto_init() < 0)
		abort();
	fill(r, 0, 64);
	a = mx_olm_account_new_rand(r);
	fill(r, 0x40, 64);
	b = mx_olm_account_new_rand(r);
	fill(r, 0x80, 64);
	mx_olm_account_generate_otks_rand(b, 2, r);
	mx_olm_account_otks(b, &k, 1);
	mx_olm_account_curve25519(b, id);
	fill(r, 0xA0, 64);
	as = mx_olm_session_new_outbound_rand(a, id, k.pub, r, NULL);
	mx_olm_encrypt_rand(as, &t, seed_prekey, sizeof(seed_prekey),
	    &seed_prekey_n, "hello", 5, NULL, NULL);
	mx_olm_encrypt_rand(as, &t, seed_prekey2, sizeof(seed_prekey2),
	    &seed_prekey2_n, "again", 5, NULL, NULL);
	mx_olm_account_pickle(b, &bob_acct_pk);
	bs = mx_olm_session_new_inbound(b, NULL, seed_prekey, seed_prekey_n,
	    NULL);
	if (bs == NULL || mx_olm_decrypt(bs, 0, seed_prekey, seed_prekey_n, p,
	    sizeof(p), &n, NULL) < 0)
		abort();
	fill(r, 0xE0, 32);
	mx_olm_encrypt_rand(bs, &t, seed_msg, sizeof(seed_msg), &seed_msg_n,
	    "reply", 5, r, NULL);
	mx_olm_session_pickle(as, &alice_pk);
	mx_olm_session_pickle(bs, &bob_pk);
	mx_olm_session_free(as);
	mx_olm_session_free(bs);
	mx_olm_account_free(a);
	mx_olm_account_free(b);
}

static void
fresh_inbound(const uint8_t *d, size_t n)
{
	struct mx_olm_account *b;
	struct mx_olm_session *s;
	struct mx_olm_prekey pk;
	char sid[MX_OLM_KEY_B64];
	uint8_t *out;
	size_t len;

	if (mx_olm_prekey_parse(&pk, d, n, NULL) == 0 &&
	    (pk.msg < d || pk.msg + pk.msglen > d + n))
		abort();
	mx_olm_prekey_session_id(sid, d, n, NULL);
	b = mx_olm_account_unpickle(bob_acct_pk.p, bob_acct_pk.len, NULL);
	s = mx_olm_session_new_inbound(b, NULL, d, n, NULL);
	if (s != NULL) {
		out = malloc(n + 1);
		if (mx_olm_decrypt(s, 0, d, n, out, n, &len, NULL) == 0 &&
		    len > n)
			abort();
		mx_olm_account_remove_otk(b, s, NULL);
		free(out);
	}
	mx_olm_session_free(s);
	mx_olm_account_free(b);
}

static void
to_session(const struct mx_buf *pick, int type, const uint8_t *d, size_t n)
{
	struct mx_olm_session *s = mx_olm_session_unpickle(pick->p, pick->len,
	    NULL);
	uint8_t *out = malloc(n + 1);
	size_t len;

	if (s == NULL)
		abort();
	if (mx_olm_decrypt(s, type, d, n, out, n, &len, NULL) == 0 && len > n)
		abort();
	mx_olm_session_free(s);
	free(out);
}

static void
unpickle(int account, const uint8_t *d, size_t n)
{
	struct mx_buf b = MX_BUF_INIT;
	struct mx_olm_account *a = NULL;
	struct mx_olm_session *s = NULL;

	if (account && (a = mx_olm_account_unpickle(d, n, NULL)) != NULL)
		mx_olm_account_pickle(a, &b);
	if (!account && (s = mx_olm_session_unpickle(d, n, NULL)) != NULL)
		mx_olm_session_pickle(s, &b);
	if ((a != NULL || s != NULL) && (b.len != n || memcmp(b.p, d, n) != 0))
		abort();
	mx_olm_account_free(a);
	mx_olm_session_free(s);
	mx_buf_release_wipe(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fresh_inbound(data + 1, size - 1);
		break;
	case 1:
		to_session(&alice_pk, 1, data + 1, size - 1);
		break;
	case 2:
		to_session(&bob_pk, 0, data + 1, size - 1);
		break;
	case 3:
		unpickle(1, data + 1, size - 1);
		break;
	default:
		unpickle(0, data + 1, size - 1);
	}
	return 0;
}

#ifdef FUZZ_OLM_SEEDS
static void
put(const char *dir, const char *name, uint8_t sel, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fputc(sel, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	setup();
	put(argv[1], "prekey-new", 0, seed_prekey, seed_prekey_n);
	put(argv[1], "msg-alice", 1, seed_msg, seed_msg_n);
	put(argv[1], "prekey-bob", 2, seed_prekey2, seed_prekey2_n);
	put(argv[1], "account", 3, bob_acct_pk.p, bob_acct_pk.len);
	put(argv[1], "session-alice", 4, alice_pk.p, alice_pk.len);
	put(argv[1], "session-bob", 4, bob_pk.p, bob_pk.len);
	return 0;
}
#endif
