/*
 * sigcheck: whose signature a signed Matrix JSON object carries, for
 * mx-verify json (spec: Appendices, "Checking for a Signature"): signed
 * by a key given, a server's keys signed by the server itself
 * (Server-Server API, "Publishing Keys"), or device keys signed by the
 * device itself (Client-Server API, "Device keys").  Pure: no I/O; the
 * signatures are lib/crypto/signjson.c's.
 *
 * A verdict borrows: signer points into the object checked or at the
 * name given, and lives as long as they do.
 */
#ifndef MX_SIGCHECK_H
#define MX_SIGCHECK_H

#include <jansson.h>

struct mx_sigcheck {
	const char *signer; /* who signed, when ok; else may be NULL */
	char key_id[256];   /* "ed25519:..." of the signature, when ok */
	const char *what;   /* the check made, a static string */
	int ok;		    /* 1: the signature verifies */
};

/* Any signature on obj that the unpadded base64 Ed25519 key makes valid:
 * the first found sets v (which is reset first). */
void
mx_sigcheck_key(const json_t *obj, const char *key, struct mx_sigcheck *v);

/* obj, server keys: its server_name is name, and it is signed by name
 * with each of its verify_keys, all of which must hold (v reset
 * first). */
void
mx_sigcheck_server(const json_t *obj, const char *name, struct mx_sigcheck *v);

/* obj, device keys: signed by user_id with its own key
 * keys["ed25519:" device_id] (v reset first). */
void mx_sigcheck_device(const json_t *obj, struct mx_sigcheck *v);

#endif
