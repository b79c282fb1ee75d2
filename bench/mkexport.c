/*
 * mkexport N PASSFILE [ROUNDS]: write to stdout a key-export file (spec:
 * Client-Server API, "Key exports") of N Megolm sessions made up here, in
 * 100 rooms, sealed with the first line of PASSFILE; for bench/keys.sh.
 * Each session is a real one (an Ed25519 key pair and a ratchet), so that
 * any client accepts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "b64.h"
#include "crypto.h"
#include "keyexport.h"
#include "megolm.h"
#include "util.h"

/* One session's export entry: the v1 export format (spec: "Megolm
 * session export format": 0x01, the index, the ratchet, the Ed25519 public
 * key) of a new session at index 0, built here directly: a real key pair,
 * a random ratchet. */
static json_t *
entry(size_t i, const char *skey, const char *ed)
{
	uint8_t ex[MX_MEGOLM_EXPORT_LEN], sk[crypto_sign_SECRETKEYBYTES];
	char id[MX_MEGOLM_ID_B64], room[64], *b;
	json_t *j;

	memset(ex, 0, sizeof(ex));
	ex[0] = 0x01;
	mx_random(ex + 5, 128);
	crypto_sign_keypair(ex + 133, sk);
	sodium_memzero(sk, sizeof(sk));
	mx_b64_enc(id, ex + 133, 32);
	b = mx_b64_encdup(ex, sizeof(ex));
	snprintf(room, sizeof(room), "!bench%zu:example.org", i % 100);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:[]}", "algorithm",
	    "m.megolm.v1.aes-sha2", "room_id", room, "sender_key", skey,
	    "session_id", id, "session_key", b, "sender_claimed_keys",
	    "ed25519", ed, "forwarding_curve25519_key_chain");
	free(b);
	return j;
}

int
main(int argc, char **argv)
{
	char pass[256], *plain, *text;
	uint8_t k[32];
	char skey[64], ed[64];
	json_t *arr = json_array();
	size_t n, i;
	FILE *f;

	if (argc < 3 || (f = fopen(argv[2], "r")) == NULL ||
	    fgets(pass, sizeof(pass), f) == NULL || mx_crypto_init() != 0)
		return 2;
	fclose(f);
	pass[strcspn(pass, "\n")] = '\0';
	n = strtoul(argv[1], NULL, 10);
	mx_random(k, sizeof(k));
	mx_b64_enc(skey, k, sizeof(k));
	/* The claimed Ed25519 key must be a valid point: a real one. */
	{
		uint8_t pk[32], sk[crypto_sign_SECRETKEYBYTES];

		crypto_sign_keypair(pk, sk);
		sodium_memzero(sk, sizeof(sk));
		mx_b64_enc(ed, pk, sizeof(pk));
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, entry(i, skey, ed));
	plain = json_dumps(arr, JSON_COMPACT);
	text = mx_keyexport_encrypt(plain, strlen(plain), pass,
	    argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) :
		       MX_KEYEXPORT_ROUNDS,
	    NULL);
	if (text == NULL || fputs(text, stdout) < 0 || fflush(stdout) != 0)
		return 1;
	free(text);
	free(plain);
	json_decref(arr);
	return 0;
}
