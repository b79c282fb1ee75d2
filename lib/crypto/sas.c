/*
 * sas: SAS verification maths (client-server spec "Short Authentication
 * String (SAS) verification" and the sections named in sas.h).
 *
 * Constant time: the shared secret and MAC keys go only through X25519,
 * HKDF and HMAC (libsodium) and the libsodium base64 encoder.  The legacy
 * base64 emulation below indexes a table by MAC bits: the MAC is public
 * (it is sent to the other side), so that leaks nothing.
 */
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "sas.h"
#include "util.h"
#include "banned.h"

struct mx_sas {
	uint8_t priv[MX_X25519_LEN];
	uint8_t pub[MX_X25519_LEN];
	uint8_t secret[MX_X25519_LEN];
	int have_secret;
};

/* spec data-definitions/sas-emoji.json, in order: index 0..63. */
static const char *const emoji[64][2] = {
	{ "🐶", "Dog" },
	{ "🐱", "Cat" },
	{ "🦁", "Lion" },
	{ "🐎", "Horse" },
	{ "🦄", "Unicorn" },
	{ "🐷", "Pig" },
	{ "🐘", "Elephant" },
	{ "🐰", "Rabbit" },
	{ "🐼", "Panda" },
	{ "🐓", "Rooster" },
	{ "🐧", "Penguin" },
	{ "🐢", "Turtle" },
	{ "🐟", "Fish" },
	{ "🐙", "Octopus" },
	{ "🦋", "Butterfly" },
	{ "🌷", "Flower" },
	{ "🌳", "Tree" },
	{ "🌵", "Cactus" },
	{ "🍄", "Mushroom" },
	{ "🌏", "Globe" },
	{ "🌙", "Moon" },
	{ "☁️", "Cloud" },
	{ "🔥", "Fire" },
	{ "🍌", "Banana" },
	{ "🍎", "Apple" },
	{ "🍓", "Strawberry" },
	{ "🌽", "Corn" },
	{ "🍕", "Pizza" },
	{ "🎂", "Cake" },
	{ "❤️", "Heart" },
	{ "😀", "Smiley" },
	{ "🤖", "Robot" },
	{ "🎩", "Hat" },
	{ "👓", "Glasses" },
	{ "🔧", "Spanner" },
	{ "🎅", "Santa" },
	{ "👍", "Thumbs Up" },
	{ "☂️", "Umbrella" },
	{ "⌛", "Hourglass" },
	{ "⏰", "Clock" },
	{ "🎁", "Gift" },
	{ "💡", "Light Bulb" },
	{ "📕", "Book" },
	{ "✏️", "Pencil" },
	{ "📎", "Paperclip" },
	{ "✂️", "Scissors" },
	{ "🔒", "Lock" },
	{ "🔑", "Key" },
	{ "🔨", "Hammer" },
	{ "☎️", "Telephone" },
	{ "🏁", "Flag" },
	{ "🚂", "Train" },
	{ "🚲", "Bicycle" },
	{ "✈️", "Aeroplane" },
	{ "🚀", "Rocket" },
	{ "🏆", "Trophy" },
	{ "⚽", "Ball" },
	{ "🎸", "Guitar" },
	{ "🎺", "Trumpet" },
	{ "🔔", "Bell" },
	{ "⚓", "Anchor" },
	{ "🎧", "Headphones" },
	{ "📁", "Folder" },
	{ "📌", "Pin" },
};

struct mx_sas *
mx_sas_new_rand(const uint8_t priv[32])
{
	struct mx_sas *s = mx_secure_alloc(sizeof *s);

	memset(s, 0, sizeof *s);
	memcpy(s->priv, priv, sizeof s->priv);
	mx_x25519_pub(s->pub, s->priv);
	return s;
}

struct mx_sas *
mx_sas_new(void)
{
	struct mx_sas *s = mx_secure_alloc(sizeof *s);

	memset(s, 0, sizeof *s);
	mx_x25519_keypair(s->pub, s->priv);
	return s;
}

void
mx_sas_free(struct mx_sas *s)
{
	if (s != NULL)
		mx_secure_free(s); /* wipes */
}

void
mx_sas_pubkey(const struct mx_sas *s, char out[MX_SAS_KEY_B64])
{
	mx_b64_enc(out, s->pub, sizeof s->pub);
}

int
mx_sas_set_their_key(struct mx_sas *s, const char *b64, struct mx_err *e)
{
	uint8_t pub[MX_X25519_LEN];

	if (mx_b64_dec_exact(pub, sizeof pub, b64) < 0)
		return mx_err_set(e, MX_LOCAL, "sas: bad public key");
	if (mx_x25519(s->secret, s->priv, pub) < 0)
		return mx_err_set(e, MX_LOCAL, "sas: unusable public key");
	s->have_secret = 1;
	return 0;
}

char *
mx_sas_info(const char *start_user, const char *start_device,
    const char *start_key, const char *acc_user, const char *acc_device,
    const char *acc_key, const char *flow_id)
{
	return mx_xasprintf("MATRIX_KEY_VERIFICATION_SAS|%s|%s|%s|%s|%s|%s|%s",
	    start_user, start_device, start_key, acc_user, acc_device, acc_key,
	    flow_id);
}

int
mx_sas_bytes(const struct mx_sas *s, uint8_t *out, size_t n, const void *info,
    size_t infolen, struct mx_err *e)
{
	if (!s->have_secret)
		return mx_err_set(e, MX_LOCAL,
		    "sas: no key from the other side");
	if (mx_hkdf_sha256(out, n, NULL, 0, s->secret, sizeof s->secret, info,
		infolen) < 0)
		return mx_err_set(e, MX_LOCAL, "sas: cannot derive %zu bytes",
		    n);
	return 0;
}

/* "SAS method: decimal": three 13-bit big-endian groups of the first 39
 * bits, each plus 1000. */
void
mx_sas_decimal(const uint8_t b[5], int out[MX_SAS_DECIMALS])
{
	out[0] = (b[0] << 5 | b[1] >> 3) + 1000;
	out[1] = ((b[1] & 0x07) << 10 | b[2] << 2 | b[3] >> 6) + 1000;
	out[2] = ((b[3] & 0x3f) << 7 | b[4] >> 1) + 1000;
}

/* "SAS method: emoji": seven 6-bit big-endian groups of the first 42
 * bits. */
void
mx_sas_emoji_index(const uint8_t b[6], int out[MX_SAS_EMOJI])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 6; i++)
		v = v << 8 | b[i];
	for (i = 0; i < MX_SAS_EMOJI; i++)
		out[i] = (int)(v >> (42 - 6 * i)) & 0x3f;
}

const char *
mx_sas_emoji(int i)
{
	return i >= 0 && i < 64 ? emoji[i][0] : NULL;
}

const char *
mx_sas_emoji_name(int i)
{
	return i >= 0 && i < 64 ? emoji[i][1] : NULL;
}

char *
mx_sas_mac_info(const char *owner_user, const char *owner_device,
    const char *other_user, const char *other_device, const char *flow_id,
    const char *key_id)
{
	return mx_xasprintf("MATRIX_KEY_VERIFICATION_MAC%s%s%s%s%s%s",
	    owner_user, owner_device, other_user, other_device, flow_id,
	    key_id);
}

/* "MAC calculation": HKDF to a 32-byte key, then HMAC-SHA-256. */
static int
raw_mac(const struct mx_sas *s, uint8_t mac[32], const void *input, size_t n,
    const void *info, size_t infolen, struct mx_err *e)
{
	uint8_t key[32];

	if (mx_sas_bytes(s, key, sizeof key, info, infolen, e) < 0)
		return -1;
	mx_hmac_sha256(mac, key, sizeof key, input, n);
	mx_wipe(key, sizeof key);
	return 0;
}

int
mx_sas_mac(const struct mx_sas *s, char out[MX_SAS_MAC_B64], const void *input,
    size_t n, const void *info, size_t infolen, struct mx_err *e)
{
	uint8_t mac[32];

	if (raw_mac(s, mac, input, n, info, infolen, e) < 0)
		return -1;
	mx_b64_enc(out, mac, sizeof mac);
	return 0;
}

/*
 * The legacy method's quirk (research/crypto.md 6.5): the 32 MAC bytes
 * were base64-encoded in place, in one buffer.  Group g reads bytes
 * 3g..3g+2 and then writes characters 4g..4g+3, so from group 1 on a group
 * reads bytes an earlier group has already overwritten with characters.
 * Reproduced here step by step on a private buffer.
 */
static void
b64_in_place(char out[MX_SAS_MAC_B64], const uint8_t mac[32])
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t buf[44];
	uint32_t v;
	int g, c;

	memset(buf, 0, sizeof buf);
	memcpy(buf, mac, 32);
	for (g = 0; g < 10; g++) {
		v = (uint32_t)buf[3 * g] << 16 |
		    (uint32_t)buf[3 * g + 1] << 8 | buf[3 * g + 2];
		for (c = 0; c < 4; c++)
			buf[4 * g + c] =
			    (uint8_t)tab[(v >> (18 - 6 * c)) & 0x3f];
	}
	v = (uint32_t)buf[30] << 16 | (uint32_t)buf[31] << 8;
	for (c = 0; c < 3; c++)
		buf[40 + c] = (uint8_t)tab[(v >> (18 - 6 * c)) & 0x3f];
	memcpy(out, buf, 43);
	out[43] = '\0';
}

int
mx_sas_mac_legacy(const struct mx_sas *s, char out[MX_SAS_MAC_B64],
    const void *input, size_t n, const void *info, size_t infolen,
    struct mx_err *e)
{
	uint8_t mac[32];

	if (raw_mac(s, mac, input, n, info, infolen, e) < 0)
		return -1;
	b64_in_place(out, mac);
	return 0;
}

/* Spec "m.key.verification.accept" commitment. */
void
mx_sas_commitment(char out[MX_SAS_MAC_B64], const char *pubkey_b64,
    const void *start_json, size_t n)
{
	struct mx_buf b = MX_BUF_INIT;
	uint8_t h[MX_SHA256_LEN];

	mx_buf_adds(&b, pubkey_b64);
	mx_buf_add(&b, start_json, n);
	mx_sha256(h, b.p, b.len);
	mx_b64_enc(out, h, sizeof h);
	mx_buf_release(&b);
}
