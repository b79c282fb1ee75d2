/*
 * backup: key backup and recovery keys.  Spec: Client-Server API,
 * "Server-side key backups" (m.megolm_backup.v1.curve25519-aes-sha2) and
 * appendix "Cryptographic key representation"; notes in research/crypto.md
 * §7.  Secret storage, which uses the same recovery keys, is ssss.c.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "backup.h"
#include "util.h"
#include "banned.h"

/* HKDF output for the backup algorithm: AES key, MAC key, IV. */
struct pk_keys {
	uint8_t aes[MX_AES_KEY_LEN];
	uint8_t mac[MX_SHA256_LEN];
	uint8_t iv[MX_AES_IV_LEN];
};

#define PK_MAC_LEN 8

/*
 * Shared secret with the peer key, then HKDF-SHA-256 with a zero salt and
 * empty info to 80 bytes ("Backup algorithm: m.megolm_backup.v1.
 * curve25519-aes-sha2").  The MAC is HMAC(mac key, empty string): libolm
 * passed a zero-length buffer, and the spec froze that in.
 */
static int
pk_derive(struct pk_keys *k, uint8_t mac[PK_MAC_LEN],
    const uint8_t priv[MX_X25519_LEN], const uint8_t pub[MX_X25519_LEN])
{
	uint8_t ss[MX_X25519_LEN], full[MX_SHA256_LEN];
	int r = -1;

	if (mx_x25519(ss, priv, pub) != 0 ||
	    mx_hkdf_sha256((uint8_t *)k, sizeof(*k), NULL, 0, ss, sizeof(ss),
		"", 0) != 0)
		goto out;
	mx_hmac_sha256(full, k->mac, sizeof(k->mac), "", 0);
	memcpy(mac, full, PK_MAC_LEN);
	r = 0;
out:
	mx_wipe(ss, sizeof(ss));
	mx_wipe(full, sizeof(full));
	return r;
}

json_t *
mx_backup_encrypt_eph(const uint8_t pub[MX_X25519_LEN],
    const uint8_t eph_priv[MX_X25519_LEN], const char *in, size_t n,
    struct mx_err *e)
{
	struct pk_keys k;
	uint8_t mac[PK_MAC_LEN], eph_pub[MX_X25519_LEN], *ct;
	size_t ctlen = 0;
	char *ct64 = NULL, m64[16], e64[48];
	json_t *o = NULL;

	ct = mx_xmalloc(mx_aes_cbc_len(n));
	if (pk_derive(&k, mac, eph_priv, pub) != 0 ||
	    mx_aes256_cbc_encrypt(ct, &ctlen, k.aes, k.iv, in, n) != 0) {
		mx_err_set(e, MX_LOCAL, "backup: cannot encrypt to this key");
		goto out;
	}
	mx_x25519_pub(eph_pub, eph_priv);
	ct64 = mx_b64_encdup(ct, ctlen);
	o = json_pack("{s:s, s:s, s:s}", "ephemeral",
	    mx_b64_enc(e64, eph_pub, sizeof(eph_pub)), "ciphertext", ct64,
	    "mac", mx_b64_enc(m64, mac, sizeof(mac)));
out:
	mx_wipe(&k, sizeof(k));
	free(ct64);
	free(ct);
	return o;
}

json_t *
mx_backup_encrypt(const uint8_t pub[MX_X25519_LEN], const char *in, size_t n,
    struct mx_err *e)
{
	uint8_t priv[MX_X25519_LEN], dummy[MX_X25519_LEN];
	json_t *o;

	mx_x25519_keypair(dummy, priv);
	o = mx_backup_encrypt_eph(pub, priv, in, n, e);
	mx_wipe(priv, sizeof(priv));
	return o;
}

char *
mx_backup_decrypt(const json_t *sd, const uint8_t priv[MX_X25519_LEN],
    size_t *len, struct mx_err *e)
{
	struct pk_keys k;
	uint8_t eph[MX_X25519_LEN], mac[PK_MAC_LEN], want[PK_MAC_LEN], *ct;
	size_t ctlen = 0, n = 0;
	char *out = NULL;

	ct = mx_b64_field_dup(sd, "ciphertext", &ctlen);
	if (ct == NULL ||
	    mx_b64_field(eph, sizeof(eph), sd, "ephemeral") != 0 ||
	    mx_b64_field(want, sizeof(want), sd, "mac") != 0) {
		mx_err_set(e, MX_LOCAL, "backup: malformed session data");
		goto fail;
	}
	if (pk_derive(&k, mac, priv, eph) != 0) {
		mx_err_set(e, MX_LOCAL, "backup: bad ephemeral key");
		goto out;
	}
	out = mx_xmalloc(ctlen + 1);
	if (!mx_ct_eq(mac, want, sizeof(mac)) ||
	    mx_aes256_cbc_decrypt((uint8_t *)out, &n, k.aes, k.iv, ct,
		ctlen) != 0) {
		mx_wipe(out, ctlen + 1);
		free(out);
		out = NULL;
		mx_err_set(e, MX_LOCAL, "backup: wrong key or corrupted data");
		goto out;
	}
	out[n] = '\0';
	if (len != NULL)
		*len = n;
out:
	mx_wipe(&k, sizeof(k));
fail:
	free(ct);
	return out;
}

/*
 * Recovery keys.  base58 with the Bitcoin alphabet, done without secret
 * table indexes or secret branches: the 35-byte number always gives 48
 * digits (0x8B01 << 264 is above 58^47), digits map to characters by
 * adding range offsets under masks, and division by 58 is a multiply and
 * shift (exact for every value below 58 * 256, checked exhaustively).
 */
#define RK_RAW 35
#define RK_DIGITS 48

/* 0xff when a >= b, else 0; a, b small non-negative. */
static unsigned
ge(int a, int b)
{
	return ((unsigned)(b - 1 - a) >> 31) * 0xffu;
}

static char
b58_char(int d)
{
	int c = '1' + d;

	c += ge(d, 9) & 7;  /* 9 -> 'A' */
	c += ge(d, 17) & 1; /* 17 -> 'J' (no 'I') */
	c += ge(d, 22) & 1; /* 22 -> 'P' (no 'O') */
	c += ge(d, 33) & 6; /* 33 -> 'a' */
	c += ge(d, 44) & 1; /* 44 -> 'm' (no 'l') */
	return (char)c;
}

/* The digit value of c, or 0xff when c is not in the alphabet. */
static unsigned
b58_value(int c)
{
	static const struct {
		char lo, hi;
		int base;
	} r[] = {
		{ '1', '9', 0 },
		{ 'A', 'H', 9 },
		{ 'J', 'N', 17 },
		{ 'P', 'Z', 22 },
		{ 'a', 'k', 33 },
		{ 'm', 'z', 44 },
	};
	unsigned v = 0, in, any = 0;
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		in = ge(c, r[i].lo) & ge(r[i].hi, c);
		v |= in & (unsigned)(c - r[i].lo + r[i].base);
		any |= in;
	}
	return v | (~any & 0xff);
}

void
mx_recovery_key_encode(char out[MX_RECOVERY_KEY_LEN + 1],
    const uint8_t key[MX_BACKUP_KEY_LEN])
{
	uint8_t b[RK_RAW], par = 0;
	char d[RK_DIGITS];
	unsigned cur, rem, q;
	size_t i, j, k = 0;

	b[0] = 0x8b;
	b[1] = 0x01;
	memcpy(b + 2, key, MX_BACKUP_KEY_LEN);
	for (i = 0; i < RK_RAW - 1; i++)
		par ^= b[i];
	b[RK_RAW - 1] = par;
	for (j = 0; j < RK_DIGITS; j++) {
		for (rem = 0, i = 0; i < RK_RAW; i++) {
			cur = rem << 8 | b[i];
			q = (cur * 18079) >> 20; /* cur / 58 */
			rem = cur - q * 58;
			b[i] = (uint8_t)q;
		}
		d[RK_DIGITS - 1 - j] = b58_char((int)rem);
	}
	for (j = 0; j < RK_DIGITS; j++) {
		if (j > 0 && j % 4 == 0)
			out[k++] = ' ';
		out[k++] = d[j];
	}
	out[k] = '\0';
	mx_wipe(b, sizeof(b));
	mx_wipe(d, sizeof(d));
	mx_wipe(&cur, sizeof(cur));
	mx_wipe(&rem, sizeof(rem));
}

/* Gather the non-whitespace characters; -1 unless exactly RK_DIGITS. */
static int
rk_digits(char d[RK_DIGITS], const char *s)
{
	size_t k = 0;

	for (; *s != '\0'; s++) {
		if (strchr(" \t\r\n", *s) != NULL)
			continue;
		if (k == RK_DIGITS)
			return -1;
		d[k++] = *s;
	}
	return k == RK_DIGITS ? 0 : -1;
}

int
mx_recovery_key_decode(uint8_t key[MX_BACKUP_KEY_LEN], const char *s,
    struct mx_err *e)
{
	uint8_t b[RK_RAW] = { 0 }, par = 0;
	char d[RK_DIGITS];
	unsigned carry, bad = 0, cur, v;
	size_t i, j;
	int r = -1;

	if (rk_digits(d, s) != 0) {
		mx_wipe(d, sizeof(d));
		return mx_err_set(e, MX_LOCAL, "recovery key: wrong length");
	}
	for (j = 0; j < RK_DIGITS; j++) {
		v = b58_value((unsigned char)d[j]);
		bad |= v >> 7; /* 0xff marks a bad character */
		carry = v & 0x3f;
		for (i = RK_RAW; i-- > 0;) {
			cur = b[i] * 58u + carry;
			b[i] = (uint8_t)cur;
			carry = cur >> 8;
		}
		bad |= carry; /* too big for 35 bytes */
	}
	if (bad != 0) {
		mx_err_set(e, MX_LOCAL, "recovery key: not base58");
		goto out;
	}
	for (i = 0; i < RK_RAW; i++)
		par ^= b[i]; /* 0 when the parity byte is right */
	if (!mx_ct_eq(b, "\x8b\x01", 2)) {
		mx_err_set(e, MX_LOCAL, "recovery key: bad prefix");
		goto out;
	}
	if (par != 0) {
		mx_err_set(e, MX_LOCAL, "recovery key: bad parity");
		goto out;
	}
	memcpy(key, b + 2, MX_BACKUP_KEY_LEN);
	r = 0;
out:
	mx_wipe(b, sizeof(b));
	mx_wipe(d, sizeof(d));
	mx_wipe(&cur, sizeof(cur));
	return r;
}
