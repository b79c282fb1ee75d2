/*
 * sas-libolm: mx's SAS against libolm's olm_sas (test only) over many
 * random key pairs, fixed printed seed: public keys, shared SAS bytes, and
 * MACs in both modes (hkdf-hmac-sha256.v2 = olm_sas_calculate_mac_fixed_
 * base64; legacy hkdf-hmac-sha256 = olm_sas_calculate_mac, with its base64
 * quirk), with mx on either side of the exchange.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <olm/olm.h>
#include <olm/sas.h>

#include "crypto.h"
#include "sas.h"
#include "helpers.h"
#include "tap.h"

#define SEED 0x5a5ULL
#define ROUNDS 500

static int fails;

static void
check(int c)
{
	if (!c)
		fails++;
}

static OlmSAS *
lo_new(const uint8_t priv[32])
{
	OlmSAS *s = olm_sas(malloc(olm_sas_size()));
	uint8_t r[32];

	memcpy(r, priv, 32);
	check(olm_create_sas(s, r, 32) != olm_error());
	return s;
}

static void
lo_free(OlmSAS *s)
{
	olm_clear_sas(s);
	free(s);
}

/* Compare MACs of random input under a random info string. */
static void
macs(struct mx_sas *m, OlmSAS *l)
{
	uint8_t in[200], info[100];
	char a[MX_SAS_MAC_B64], b[64];
	size_t n = rnd() % sizeof in, il = 1 + rnd() % sizeof info;

	rnd_bytes(in, n);
	rnd_bytes(info, il);
	check(mx_sas_mac(m, a, in, n, info, il, NULL) == 0);
	check(olm_sas_calculate_mac_fixed_base64(l, in, n, info, il, b,
	    sizeof b) != olm_error());
	check(memcmp(a, b, 43) == 0);
	check(mx_sas_mac_legacy(m, a, in, n, info, il, NULL) == 0);
	check(olm_sas_calculate_mac(l, in, n, info, il, b, sizeof b) !=
	    olm_error());
	check(memcmp(a, b, 43) == 0);
}

static void
one_round(void)
{
	uint8_t pm[32], pl[32], bm[6], bl[6];
	char km[MX_SAS_KEY_B64], kl[64], tmp[64];
	struct mx_sas *m, *m2;
	OlmSAS *l;
	char *info;

	rnd_bytes(pm, 32);
	rnd_bytes(pl, 32);
	m = mx_sas_new_rand(pm);
	l = lo_new(pl);
	m2 = mx_sas_new_rand(pl);	/* mx with libolm's private key */
	mx_sas_pubkey(m, km);
	check(olm_sas_get_pubkey(l, kl, sizeof kl) != olm_error());
	kl[43] = '\0';
	mx_sas_pubkey(m2, tmp);
	check(strcmp(tmp, kl) == 0);
	check(mx_sas_set_their_key(m, kl, NULL) == 0);
	check(mx_sas_set_their_key(m2, km, NULL) == 0);
	memcpy(tmp, km, 44);
	check(olm_sas_set_their_key(l, tmp, 43) != olm_error());
	info = mx_sas_info("@alice:x", "ALICE", km, "@bob:y", "BOB", kl,
	    "flow");
	check(mx_sas_bytes(m, bm, 6, info, strlen(info), NULL) == 0);
	check(olm_sas_generate_bytes(l, info, strlen(info), bl, 6) !=
	    olm_error());
	check(memcmp(bm, bl, 6) == 0);
	free(info);
	macs(m, l);
	macs(m2, l);
	mx_sas_free(m);
	mx_sas_free(m2);
	lo_free(l);
}

int
main(void)
{
	int i;

	if (mx_crypto_init() < 0)
		return 1;
	rng_seed(SEED);
	printf("# seed 0x%llx\n", (unsigned long long)SEED);
	for (i = 0; i < ROUNDS; i++)
		one_round();
	ok(fails == 0, "%d random key pairs: keys, SAS bytes, v2 and legacy "
	    "MACs agree with libolm (%d mismatches)", ROUNDS, fails);
	return done();
}
