/*
 * sas: the maths of Short Authentication String verification, m.sas.v1
 * (client-server spec "Short Authentication String (SAS) verification",
 * "SAS HKDF calculation", "SAS method: decimal", "SAS method: emoji",
 * "MAC calculation"; key agreement curve25519-hkdf-sha256).  Pure: the
 * caller builds the events and the canonical JSON; this module takes bytes.
 *
 * A struct mx_sas holds one ephemeral X25519 key pair and, once the other
 * side's key is set, the shared secret, in mx_secure_alloc memory; the
 * caller owns it and frees it with mx_sas_free.  Functions that can fail
 * return -1 (or NULL) and fill the caller-owned struct mx_err (status
 * MX_LOCAL); e may be NULL.  Strings returned as char * are the caller's to
 * free(); const char * ones are static.
 */
#ifndef MX_SAS_H
#define MX_SAS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MX_SAS_KEY_B64 44 /* 43 base64 characters + NUL */
#define MX_SAS_MAC_B64 44
#define MX_SAS_BYTES 6 /* enough for both emoji and decimal */
#define MX_SAS_EMOJI 7
#define MX_SAS_DECIMALS 3

struct mx_sas;

/* A new ephemeral key pair (caller frees), never NULL; _rand takes the
 * private key, for known-answer and cross tests. */
struct mx_sas *mx_sas_new(void);
struct mx_sas *mx_sas_new_rand(const uint8_t priv[32]);
/* Wipe and free; NULL is fine. */
void mx_sas_free(struct mx_sas *s);

/* Our public key as unpadded base64, for m.key.verification.key. */
void mx_sas_pubkey(const struct mx_sas *s, char out[MX_SAS_KEY_B64]);
/* Take the other side's base64 public key and compute the shared secret;
 * -1 on a bad key (including low-order points). */
int mx_sas_set_their_key(struct mx_sas *s, const char *b64, struct mx_err *e);

/* The info string for curve25519-hkdf-sha256 (caller frees):
 * "MATRIX_KEY_VERIFICATION_SAS|" start user|device|key, then the
 * accepting user|device|key, then the flow id, '|'-separated.  "start" is
 * the side that sent m.key.verification.start. */
char *mx_sas_info(const char *start_user, const char *start_device,
    const char *start_key, const char *acc_user, const char *acc_device,
    const char *acc_key, const char *flow_id);
/* n SAS bytes: HKDF-SHA-256(zero salt, shared secret, info).  -1 before
 * mx_sas_set_their_key. */
int mx_sas_bytes(const struct mx_sas *s, uint8_t *out, size_t n,
    const void *info, size_t infolen, struct mx_err *e);
/* Three numbers 1000..9191 from the first 5 bytes, and seven emoji indices
 * 0..63 from the first 42 bits of 6 bytes. */
void mx_sas_decimal(const uint8_t b[5], int out[MX_SAS_DECIMALS]);
void mx_sas_emoji_index(const uint8_t b[6], int out[MX_SAS_EMOJI]);
/* The emoji (UTF-8) and its English name for an index 0..63, from the
 * spec's sas-emoji.json; NULL for other indices. */
const char *mx_sas_emoji(int i);
const char *mx_sas_emoji_name(int i);

/* The MAC info string (caller frees): "MATRIX_KEY_VERIFICATION_MAC" +
 * owner user + owner device + other user + other device + flow id + key id
 * ("ed25519:DEVICE", or "KEY_IDS" for the key list), no separators. */
char *mx_sas_mac_info(const char *owner_user, const char *owner_device,
    const char *other_user, const char *other_device, const char *flow_id,
    const char *key_id);
/* hkdf-hmac-sha256.v2: HMAC-SHA-256 keyed by HKDF(zero salt, shared
 * secret, info, 32) over input, unpadded base64 into out. */
int
mx_sas_mac(const struct mx_sas *s, char out[MX_SAS_MAC_B64], const void *input,
    size_t n, const void *info, size_t infolen, struct mx_err *e);
/* hkdf-hmac-sha256 (legacy): the same MAC with libolm's in-place base64
 * quirk reproduced, for old clients.  Prefer mx_sas_mac. */
int mx_sas_mac_legacy(const struct mx_sas *s, char out[MX_SAS_MAC_B64],
    const void *input, size_t n, const void *info, size_t infolen,
    struct mx_err *e);

/* The commitment sent in m.key.verification.accept: unpadded base64 of
 * SHA-256(our public key base64 || canonical JSON of the start content). */
void mx_sas_commitment(char out[MX_SAS_MAC_B64], const char *pubkey_b64,
    const void *start_json, size_t n);

#endif
