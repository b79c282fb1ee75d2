/*
 * sas: known answers from research/crypto.md 9.5 (RFC 7748 keys; libolm's
 * python cross-language MAC; matrix-rust-sdk's commitment test), the emoji
 * table, the info strings, and refusals.
 */
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "sas.h"
#include "helpers.h"
#include "tap.h"

/* The start content of that test, in canonical JSON (keys sorted). */
static const char START[] = "{\"from_device\":\"XOWLHHFSWM\","
    "\"hashes\":[\"sha256\"],\"key_agreement_protocols\":"
    "[\"curve25519-hkdf-sha256\",\"curve25519\"],"
    "\"message_authentication_codes\":[\"hkdf-hmac-sha256\","
    "\"hmac-sha256\"],\"method\":\"m.sas.v1\","
    "\"short_authentication_string\":[\"decimal\",\"emoji\"],"
    "\"transaction_id\":\"bYxBsirjUJO9osar6ST4i2M2NjrYLA7l\"}";

static void
test_vectors(void)
{
	uint8_t priv[32], b[6], want[6];
	struct mx_sas *s;
	char key[MX_SAS_KEY_B64], mac[MX_SAS_MAC_B64];
	int em[7], dec[3];
	const int want_em[7] = { 14, 24, 30, 40, 28, 46, 30 };

	unhex(priv, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba5"
	    "1db92c2a");
	s = mx_sas_new_rand(priv);
	mx_sas_pubkey(s, key);
	is_str(key, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
	    "public key");
	ok(mx_sas_bytes(s, b, 6, "SAS", 3, NULL) < 0, "no bytes before key");
	ok(mx_sas_set_their_key(s,
	    "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08", NULL) == 0,
	    "their key");
	ok(mx_sas_bytes(s, b, 6, "SAS", 3, NULL) == 0, "bytes");
	unhex(want, "3987a872e7b9");
	is_mem(b, want, 6, "HKDF(SS, \"SAS\", 6)");
	mx_sas_emoji_index(b, em);
	ok(memcmp(em, want_em, sizeof em) == 0, "emoji indices");
	is_str(mx_sas_emoji_name(em[0]), "Butterfly", "emoji 14 name");
	mx_sas_decimal(b, dec);
	ok(dec[0] == 2840 && dec[1] == 8841 && dec[2] == 7515, "decimals");
	mx_sas_mac(s, mac, "Hello world!", 12, "MAC", 3, NULL);
	is_str(mac, "2nSMU3M+FMBTCWQg5IoIUoEErFZOjniAZTdqNhf+Dmo", "v2 MAC");
	mx_sas_mac_legacy(s, mac, "Hello world!", 12, "MAC", 3, NULL);
	is_str(mac, "2nSMTXM+TStTU3RUVTNSVVZUTlNWVlpVVGxOV1ZscFY",
	    "legacy MAC with libolm's base64 quirk");
	mx_sas_free(s);
	mx_sas_commitment(mac, "Q/NmNFEUS1fS+YeEmiZkjjblKTitrKOAk7cPEumcMlg",
	    START, strlen(START));
	is_str(mac, "CCQmB4JCdB0FW21FdAnHj/Hu8+W9+Nb0vgwPEnZZQ4g",
	    "commitment");
}

static void
test_table_and_strings(void)
{
	char *p;

	is_str(mx_sas_emoji(0), "🐶", "emoji 0");
	is_str(mx_sas_emoji_name(36), "Thumbs Up", "emoji 36");
	is_str(mx_sas_emoji_name(53), "Aeroplane", "emoji 53");
	is_str(mx_sas_emoji(63), "📌", "emoji 63");
	is_str(mx_sas_emoji_name(63), "Pin", "emoji 63 name");
	ok(mx_sas_emoji(64) == NULL && mx_sas_emoji(-1) == NULL,
	    "out of range");
	p = mx_sas_info("@a:x", "AD", "ka", "@b:y", "BD", "kb", "txn");
	is_str(p, "MATRIX_KEY_VERIFICATION_SAS|@a:x|AD|ka|@b:y|BD|kb|txn",
	    "SAS info");
	free(p);
	p = mx_sas_mac_info("@a:x", "AD", "@b:y", "BD", "txn", "KEY_IDS");
	is_str(p, "MATRIX_KEY_VERIFICATION_MAC@a:xAD@b:yBDtxnKEY_IDS",
	    "MAC info");
	free(p);
}

static void
test_refusals(void)
{
	struct mx_sas *a = mx_sas_new(), *b = mx_sas_new();
	char ka[MX_SAS_KEY_B64], kb[MX_SAS_KEY_B64];
	uint8_t x[6], y[6];

	ok(mx_sas_set_their_key(a,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL) < 0,
	    "all-zero (low-order) key refused");
	ok(mx_sas_set_their_key(a, "short", NULL) < 0, "bad base64 refused");
	mx_sas_pubkey(a, ka);
	mx_sas_pubkey(b, kb);
	ok(strcmp(ka, kb) != 0, "fresh keys differ");
	mx_sas_set_their_key(a, kb, NULL);
	mx_sas_set_their_key(b, ka, NULL);
	mx_sas_bytes(a, x, 6, "i", 1, NULL);
	mx_sas_bytes(b, y, 6, "i", 1, NULL);
	ok(memcmp(x, y, 6) == 0, "both sides agree");
	mx_sas_free(a);
	mx_sas_free(b);
}

int
main(void)
{
	if (mx_crypto_init() < 0)
		return 1;
	test_vectors();
	test_table_and_strings();
	test_refusals();
	return done();
}
