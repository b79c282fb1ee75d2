/* keyfiles-libolm: m.megolm_backup.v1.curve25519-aes-sha2 against libolm's
 * PkEncryption/PkDecryption, both ways, random messages and lengths. */
#include <stdlib.h>
#include <string.h>

#include <olm/olm.h>
#include <olm/pk.h>

#include "b64.h"
#include "backup.h"
#include "crypto.h"
#include "tap.h"

#define ROUNDS 300

struct olm_ct {
	char eph[64], mac[32], *ct;
};

/* libolm encrypts msg to pub64 with ephemeral private key eph. */
static int
olm_enc(struct olm_ct *o, const char *pub64, const uint8_t eph[32],
    const char *msg, size_t n)
{
	void *mem = malloc(olm_pk_encryption_size());
	OlmPkEncryption *enc = olm_pk_encryption(mem);
	size_t clen, r;

	olm_pk_encryption_set_recipient_key(enc, pub64, strlen(pub64));
	clen = olm_pk_ciphertext_length(enc, n);
	o->ct = calloc(1, clen + 1);
	memset(o->eph, 0, sizeof(o->eph));
	memset(o->mac, 0, sizeof(o->mac));
	r = olm_pk_encrypt(enc, msg, n, o->ct, clen, o->mac,
	    olm_pk_mac_length(enc), o->eph, olm_pk_key_length(), eph, 32);
	olm_clear_pk_encryption(enc);
	free(mem);
	return r == olm_error() ? -1 : 0;
}

/* libolm decrypts with the private key; returns plaintext or NULL. */
static char *
olm_dec(const uint8_t priv[32], const json_t *sd, size_t *len)
{
	void *mem = malloc(olm_pk_decryption_size());
	OlmPkDecryption *dec = olm_pk_decryption(mem);
	char pub[64], *ct, *pt;
	const char *eph = json_string_value(json_object_get(sd, "ephemeral"));
	const char *mac = json_string_value(json_object_get(sd, "mac"));
	size_t max, r;

	ct = strdup(json_string_value(json_object_get(sd, "ciphertext")));
	olm_pk_key_from_private(dec, pub, sizeof(pub), priv, 32);
	max = olm_pk_max_plaintext_length(dec, strlen(ct));
	pt = calloc(1, max + 1);
	r = olm_pk_decrypt(dec, eph, strlen(eph), mac, strlen(mac), ct,
	    strlen(ct), pt, max);
	olm_clear_pk_decryption(dec);
	free(mem);
	free(ct);
	if (r == olm_error()) {
		free(pt);
		return NULL;
	}
	*len = r;
	return pt;
}

static void
random_msg(char *buf, size_t n)
{
	size_t i;

	mx_random(buf, n);
	for (i = 0; i < n; i++)
		buf[i] = (char)(' ' + (uint8_t)buf[i] % 95);
	buf[n] = '\0';
}

static void
round_once(int i, int *same, int *olm_reads, int *we_read)
{
	uint8_t priv[32], pub[32], eph[32];
	char pub64[64], msg[600], *pt;
	size_t n, len = 0;
	struct olm_ct o;
	struct mx_err e;
	json_t *sd, *osd;

	mx_x25519_keypair(pub, priv);
	mx_b64_enc(pub64, pub, 32);
	mx_random(eph, 32);
	mx_random(&n, sizeof(n));
	n = i < 40 ? (size_t)i : n % 590;
	random_msg(msg, n);
	sd = mx_backup_encrypt_eph(pub, eph, msg, n, &e);
	if (olm_enc(&o, pub64, eph, msg, n) != 0 || sd == NULL)
		*same = 0;
	else if (strcmp(o.ct, json_string_value(json_object_get(sd,
	    "ciphertext"))) != 0 || strcmp(o.mac, json_string_value(
	    json_object_get(sd, "mac"))) != 0 || strcmp(o.eph,
	    json_string_value(json_object_get(sd, "ephemeral"))) != 0)
		*same = 0;
	free(o.ct);
	pt = olm_dec(priv, sd, &len);
	*olm_reads &= pt != NULL && len == n && memcmp(pt, msg, n) == 0;
	free(pt);
	json_decref(sd);
	/* libolm with its own random ephemeral key, read by us */
	mx_random(eph, 32);
	olm_enc(&o, pub64, eph, msg, n);
	osd = json_pack("{s:s,s:s,s:s}", "ephemeral", o.eph, "ciphertext",
	    o.ct, "mac", o.mac);
	pt = mx_backup_decrypt(osd, priv, &len, &e);
	*we_read &= pt != NULL && len == n && memcmp(pt, msg, n) == 0;
	free(pt);
	free(o.ct);
	json_decref(osd);
}

static void
test_fixed(void)
{
	uint8_t priv[32], pub[32];
	char pub64[64];
	struct olm_ct o;
	struct mx_err e;
	json_t *sd;
	char *pt;
	size_t len;

	mx_x25519_keypair(pub, priv);
	mx_b64_enc(pub64, pub, 32);
	olm_enc(&o, pub64, (const uint8_t *)"0123456789abcdef0123456789abcdef",
	    "x", 1);
	o.mac[0] = o.mac[0] == 'A' ? 'B' : 'A';
	sd = json_pack("{s:s,s:s,s:s}", "ephemeral", o.eph, "ciphertext",
	    o.ct, "mac", o.mac);
	pt = mx_backup_decrypt(sd, priv, &len, &e);
	ok(pt == NULL, "libolm record with a changed mac refused");
	free(pt);
	ok(olm_dec(priv, sd, &len) == NULL, "libolm refuses it too");
	json_decref(sd);
	free(o.ct);
}

int
main(void)
{
	int i, same = 1, olm_reads = 1, we_read = 1;

	if (mx_crypto_init() != 0)
		return 1;
	for (i = 0; i < ROUNDS; i++)
		round_once(i, &same, &olm_reads, &we_read);
	ok(same, "%d messages: byte-identical to libolm with the same "
	    "ephemeral key", ROUNDS);
	ok(olm_reads, "libolm decrypts all %d of ours", ROUNDS);
	ok(we_read, "we decrypt all %d of libolm's", ROUNDS);
	test_fixed();
	return done();
}
