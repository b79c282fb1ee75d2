/* backup: PkEncryption known answer (libolm, research notes §9.4),
 * recovery keys and secret storage (rust-sdk vectors, §9.7). */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "backup.h"
#include "ssss.h"
#include "crypto.h"
#include "util.h"
#include "helpers.h"
#include "tap.h"

static const char *
field(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_pk_vector(void)
{
	uint8_t priv[32], eph[32], pub[32];
	struct mx_err e;
	json_t *sd;
	char *pt;
	size_t len = 0;

	unhex(priv, "77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a");
	unhex(eph, "5dab087e624a8a4b79e17f8b83800ee6"
	    "6f3bb1292618b6fd1c2f8b27ff88e0eb");
	mx_x25519_pub(pub, priv);
	sd = mx_backup_encrypt_eph(pub, eph, "{\"test\":\"backup\"}", 17, &e);
	is_str(field(sd, "ephemeral"),
	    "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08", "pk: ephemeral");
	is_str(field(sd, "ciphertext"),
	    "5pe4AUnUKcDnvvY3Hyf5DW0Kp5eiP3pCw6Avn8vR0Gw", "pk: ciphertext");
	is_str(field(sd, "mac"), "zpzU6BkZcNI", "pk: mac of empty string");
	pt = mx_backup_decrypt(sd, priv, &len, &e);
	is_str(pt, "{\"test\":\"backup\"}", "pk: decrypts");
	ok(len == 17, "pk: length");
	free(pt);
	json_object_set_new(sd, "mac", json_string("zpzU6BkZcNJ"));
	ok(mx_backup_decrypt(sd, priv, NULL, &e) == NULL, "pk: bad mac");
	json_decref(sd);
}

/* A real backup record (matrix-rust-sdk backups/keys/decryption.rs
 * test_decrypt_key; also in matrix-sdk-crypto-wasm's tests). */
static void
test_pk_real_record(void)
{
	static const char ct[] =
	    "MuM8E3Yc6TSAvhVGb77rQ++jE6p9dRepx63/3YPD2wACKAppkZHeFrnTH6wJ"
	    "/HSyrmzo7HfwqVl6tKNpfooSTHqUf6x1LHz+h4B/Id5ITO1WYt16AaI40LOn"
	    "ZqTkJZCfSPuE2oxalwEHnCS3biWybutcnrBFPR3LMtaeHvvkb+k3ny9l5Zps"
	    "U9G7vCm3XoeYkWfLekWXvDhbqWrylXD0+CNUuaQJ/S527TzLd4XKctqVjjO/"
	    "cCH7q+9utt9WJAfK8LGaWT/mZ3AeWjf5kiqOpKKf5Cn4n5SSil5p/pvGYmjn"
	    "URvZSEeQIzHgvunIBEPtzK/MYEPOXe/P5achNGlCx+5N19Ftyp9TFaTFlTWC"
	    "Ti0mpD7ePfCNISrwpozAz9HZc0OhA8+1aSc7rhYFIeAYXFU326NuFIFHI5pv"
	    "pSxjzPQlOA+mavIKmiRAtjlLw11IVKTxgrdT4N8lXeMr4ndCSmvIkAzFMo1u"
	    "ZA4fzjiAdQJE4/2WeXFNNpvdfoYmX8Zl9CAYjpSO5HvpwkAbk4/iLEH3hDfC"
	    "VUwDfMh05PdGLnxeRpiEFWSMSsJNp+OWAA+5JsF41BoRGrxoXXT+VKqlUDON"
	    "d+O296Psu8Q+d8/S618";
	uint8_t priv[32];
	struct mx_err e;
	json_t *sd, *pt_json;
	char *pt;

	mx_b64_dec_exact(priv, 32,
	    "Ha9cklU/9NqFo9WKdVfGzmqUL/9wlkdxfEitbSIPVXw");
	sd = json_pack("{s:s,s:s,s:s}", "ephemeral",
	    "HlLi76oV6wxHz3PCqE/bxJi6yF1HnYz5Dq3T+d/KpRw", "ciphertext", ct,
	    "mac", "GtMrurhDTwo");
	pt = mx_backup_decrypt(sd, priv, NULL, &e);
	pt_json = pt != NULL ? json_loads(pt, 0, NULL) : NULL;
	is_str(field(pt_json, "sender_key"),
	    "wREG/hBdSspoqM9xPCEXd/4YwjpBFXlsobRkyDTo/Q8",
	    "real record: sender_key");
	is_str(field(pt_json, "algorithm"), "m.megolm.v1.aes-sha2",
	    "real record: algorithm");
	ok(mx_startswith(field(pt_json, "session_key"), "AQAAAABwCEYs"),
	    "real record: session_key");
	if (pt != NULL)
		mx_wipe(pt, strlen(pt));
	free(pt);
	json_decref(pt_json);
	json_decref(sd);
}

static void
test_pk_refusals(void)
{
	uint8_t priv[32], pub[32], other[32], opub[32];
	struct mx_err e;
	json_t *sd, *bad;
	char *pt;

	mx_x25519_keypair(pub, priv);
	mx_x25519_keypair(opub, other);
	sd = mx_backup_encrypt(pub, "hello", 5, &e);
	pt = mx_backup_decrypt(sd, priv, NULL, &e);
	is_str(pt, "hello", "pk: round trip");
	free(pt);
	ok(mx_backup_decrypt(sd, other, NULL, &e) == NULL, "pk: wrong key");
	bad = json_deep_copy(sd);
	json_object_set_new(bad, "ciphertext", json_string("AAAA"));
	ok(mx_backup_decrypt(bad, priv, NULL, &e) == NULL, "pk: short ct");
	json_object_set_new(bad, "ciphertext", json_integer(1));
	ok(mx_backup_decrypt(bad, priv, NULL, &e) == NULL, "pk: ct not str");
	json_decref(bad);
	bad = json_deep_copy(sd);
	json_object_set_new(bad, "ephemeral", json_string(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	ok(mx_backup_decrypt(bad, priv, NULL, &e) == NULL,
	    "pk: low-order ephemeral");
	json_object_del(bad, "ephemeral");
	ok(mx_backup_decrypt(bad, priv, NULL, &e) == NULL, "pk: no ephemeral");
	json_decref(bad);
	ok(mx_backup_decrypt(NULL, priv, NULL, &e) == NULL, "pk: NULL");
	json_decref(sd);
}

static void
test_recovery_key(void)
{
	const char *alice = "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 "
	    "Q9fu gUMN UE4d";
	uint8_t key[32], want[32], got[32];
	char txt[MX_RECOVERY_KEY_LEN + 1];
	struct mx_err e;
	int i, good = 1;

	unhex(want, "77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a");
	mx_recovery_key_encode(txt, want);
	is_str(txt, alice, "recovery key: encode");
	ok(mx_recovery_key_decode(key, alice, &e) == 0, "decode");
	is_mem(key, want, 32, "decoded key");
	ok(mx_recovery_key_decode(key, "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk "
	    "qeeJ ZJV8 Q9fu gUMN UE4e", &e) != 0, "bad parity refused");
	ok(mx_recovery_key_decode(key,
	    "EsT pRvZTnjck8 YrhRAtw XLS84Nr2r9S9LGAWDaExVAPBvLRK", &e) == 0,
	    "odd whitespace");
	unhex(want, "9fbd46bb345171c6f6022c9a25d5681b"
	    "a54eec6a6c4953f3adc0b96e9d91ada3");
	is_mem(key, want, 32, "rust-sdk ssss key");
	ok(mx_recovery_key_decode(key,
	    "EsT pRvZTnjck8 YrhRAtw XLS84Nr2r9S9LGAWDaExVAPBvLRk", &e) != 0,
	    "rust-sdk parity error");
	ok(mx_recovery_key_decode(key,
	    "AAT pRvZTnjck8 YrhRAtw XLS84Nr2r9S9LGAWDaExVAPBvLRK", &e) != 0,
	    "rust-sdk prefix error");
	ok(mx_recovery_key_decode(key, "EsTc LW2K", &e) != 0, "short");
	ok(mx_recovery_key_decode(key, "", &e) != 0, "empty");
	ok(mx_recovery_key_decode(key, "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk "
	    "qeeJ ZJV8 Q9fu gUMN UE4d1", &e) != 0, "long");
	ok(mx_recovery_key_decode(key, "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk "
	    "qeeJ ZJV8 Q9fu gUMN UE40", &e) != 0, "'0' not base58");
	ok(mx_recovery_key_decode(key, "zzzz zzzz zzzz zzzz zzzz zzzz zzzz "
	    "zzzz zzzz zzzz zzzz zzzz", &e) != 0, "overflow");
	for (i = 0; i < 2000 && good; i++) {
		mx_random(want, 32);
		if (i == 0)
			memset(want, 0, 32);
		if (i == 1)
			memset(want, 0xff, 32);
		mx_recovery_key_encode(txt, want);
		good = strlen(txt) == MX_RECOVERY_KEY_LEN &&
		    strspn(txt, " 123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
		    "abcdefghijkmnopqrstuvwxyz") == MX_RECOVERY_KEY_LEN &&
		    mx_recovery_key_decode(got, txt, &e) == 0 &&
		    memcmp(got, want, 32) == 0;
	}
	ok(good, "2000 random keys round trip (%d)", i);
}

static void
test_ssss(void)
{
	uint8_t key[32] = { 0 }, iv[16];
	struct mx_err e;
	json_t *o, *d;
	char *s;
	int i;

	for (i = 0; i < 16; i++)
		iv[i] = i;
	o = mx_ssss_encrypt_iv(key, "m.cross_signing.master",
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", iv, &e);
	is_str(field(o, "iv"), "AAECAwQFBgcICQoLDA0ODw", "ssss: iv");
	is_str(field(o, "ciphertext"), "nXGyLmYIeyzKEBxkui98RkDI/0LmMx/Le7M5"
	    "CXVZR11zrz0IZUiDU92ttQ", "ssss: ciphertext");
	is_str(field(o, "mac"), "IIWJFKL8w5YG8AjHeTb2ZKQmrZoylW93kgt0hIGZmwA",
	    "ssss: mac");
	s = mx_ssss_decrypt(key, "m.cross_signing.master", o, &e);
	is_str(s, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	    "ssss: decrypt");
	free(s);
	ok(mx_ssss_decrypt(key, "m.cross_signing.self_signing", o, &e) ==
	    NULL, "ssss: other name refused");
	json_object_set_new(o, "ciphertext", json_string("nXGyLmYIeyzKEBxkui98"
	    "RkDI/0LmMx/Le7M5CXVZR11zrz0IZUiDU92ttA"));
	ok(mx_ssss_decrypt(key, "m.cross_signing.master", o, &e) == NULL,
	    "ssss: tampered refused");
	json_decref(o);
	o = mx_ssss_encrypt(key, "x", "", &e);
	s = mx_ssss_decrypt(key, "x", o, &e);
	is_str(s, "", "ssss: empty secret");
	free(s);
	ok(mx_ssss_decrypt(key, "x", NULL, &e) == NULL, "ssss: NULL");
	json_decref(o);
	d = json_pack("{s:s,s:s}", "iv", "AAECAwQFBgcICQoLDA0ODw", "mac",
	    "09L4uGxf8L4uEKTVj92aRr4HU2J1Z6jTkGGhqAwe2E8");
	ok(mx_ssss_key_check(key, d, &e) == 0, "key check: self vector");
	key[0] = 1;
	ok(mx_ssss_key_check(key, d, &e) != 0, "key check: wrong key");
	json_decref(d);
	o = mx_ssss_key_check_make(key, &e);
	ok(mx_ssss_key_check(key, o, &e) == 0, "key check: made one");
	json_decref(o);
	d = json_object();
	ok(mx_ssss_key_check(key, d, &e) == 0, "key check: none given");
	json_object_set_new(d, "iv", json_string("AAECAwQFBgcICQoLDA0ODw"));
	ok(mx_ssss_key_check(key, d, &e) != 0, "key check: iv alone");
	json_decref(d);
}

static void
test_ssss_rust(void)
{
	uint8_t key[32], want[32];
	struct mx_err e;
	json_t *d;

	ok(mx_recovery_key_decode(key, "EsTj 3yST y93F SLpB jJsz eAXc 2XzA "
	    "ygD3 w69H fGaN TKBj jXEd", &e) == 0, "rust-sdk raw key");
	unhex(want, "8da2453dc22b51355ad77ab75b3e9863"
	    "af7f4a7bc4af0ce8865b57e2d02196d1");
	is_mem(key, want, 32, "its bytes");
	d = json_pack("{s:s,s:s}", "iv", "xv5b6/p3ExEw++wTyfSHEg==", "mac",
	    "ujBBbXahnTAMkmPUX2/0+VTfUh63pGyVRuBcDMgmJC8=");
	ok(mx_ssss_key_check(key, d, &e) == 0, "rust-sdk check, padded b64");
	json_decref(d);
	ok(mx_ssss_passphrase_key(key, 32, "It's a secret to everybody",
	    "IuLnH7S85YtZmkkBJKwNUKxWF42g9O1H", 10, &e) == 0, "passphrase");
	unhex(want, "397aff44a04238741cff9b76b3812607"
	    "3c34bf25599fa9969287f01ccf77559f");
	is_mem(key, want, 32, "rust-sdk passphrase key");
	d = json_pack("{s:s,s:s}", "iv", "gH2iNpiETFhApvW6/FFEJQ", "mac",
	    "9Lw12m5SKDipNghdQXKjgpfdj1/K7HFI2brO+UWAGoM");
	ok(mx_ssss_key_check(key, d, &e) == 0, "rust-sdk passphrase check");
	json_decref(d);
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_pk_vector();
	test_pk_real_record();
	test_pk_refusals();
	test_recovery_key();
	test_ssss();
	test_ssss_rust();
	return done();
}
