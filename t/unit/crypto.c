/*
 * crypto: known answers from RFC 5869, RFC 4231, RFC 7748, RFC 8032,
 * NIST SP 800-38A, and the usual PBKDF2-HMAC-SHA512 vectors.
 */
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "helpers.h"
#include "tap.h"

static void
test_hkdf(void)
{
	uint8_t ikm[80], salt[80], info[80], okm[82], want[82];
	size_t n;

	/* RFC 5869 A.1 */
	memset(ikm, 0x0b, 22);
	seq(salt, 0, 13);
	seq(info, 0xf0, 10);
	n = unhex(want, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
	    "2d56ecc4c5bf34007208d5b887185865");
	ok(mx_hkdf_sha256(okm, n, salt, 13, ikm, 22, info, 10) == 0,
	    "hkdf 1 returns 0");
	is_mem(okm, want, n, "RFC 5869 A.1");
	/* A.2 */
	seq(ikm, 0, 80);
	seq(salt, 0x60, 80);
	seq(info, 0xb0, 80);
	n = unhex(want, "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050"
	    "cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b836779"
	    "3a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
	mx_hkdf_sha256(okm, n, salt, 80, ikm, 80, info, 80);
	is_mem(okm, want, n, "RFC 5869 A.2");
	/* A.3: empty salt and info; a NULL salt means the same. */
	memset(ikm, 0x0b, 22);
	n = unhex(want, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
	    "4e5f3c738d2d9d201395faa4b61a96c8");
	mx_hkdf_sha256(okm, n, "", 0, ikm, 22, "", 0);
	is_mem(okm, want, n, "RFC 5869 A.3");
	memset(okm, 0, sizeof okm);
	mx_hkdf_sha256(okm, n, NULL, 0, ikm, 22, NULL, 0);
	is_mem(okm, want, n, "RFC 5869 A.3 with NULL salt");
	ok(mx_hkdf_sha256(okm, 255 * 32 + 1, NULL, 0, ikm, 22, NULL, 0) == -1,
	    "hkdf refuses more than 255 blocks");
}

struct hmac_kat {
	const char *key, *data, *h256, *h512;
};

static void
test_hmac(void)
{
	static const struct hmac_kat k[] = {
		/* RFC 4231 4.2, 4.3, 4.7 */
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e"
		    "32cff7",
		    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545"
		    "e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e69"
		    "6c203a126854" },
		{ "4a656665", "what do ya want for nothing?",
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964"
		    "ec3843",
		    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea"
		    "2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e"
		    "070a38bce737" },
		{ NULL,
		    "Test Using Larger Than Block-Size Key - Hash Key First",
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0e"
		    "e37f54",
		    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783"
		    "f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b91"
		    "5a985d786598" },
	};
	uint8_t key[131], want[64], got[64];
	size_t i, kl;

	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		if (k[i].key != NULL)
			kl = unhex(key, k[i].key);
		else
			memset(key, 0xaa, kl = 131);
		unhex(want, k[i].h256);
		mx_hmac_sha256(got, key, kl, k[i].data, strlen(k[i].data));
		is_mem(got, want, 32, "RFC 4231 HMAC-SHA-256");
		unhex(want, k[i].h512);
		mx_hmac_sha512(got, key, kl, k[i].data, strlen(k[i].data));
		is_mem(got, want, 64, "RFC 4231 HMAC-SHA-512");
	}
}

static void
test_pbkdf2(void)
{
	static const struct {
		uint32_t c;
		const char *dk;
	} k[] = {
		{ 1, "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e"
		    "1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e"
		    "63f73b60a57fce" },
		{ 2, "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefd"
		    "b866d53cf76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04"
		    "112754f27ccf4e" },
		{ 4096, "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902"
		    "e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039"
		    "b742a239434af2d5" },
	};
	uint8_t want[64], got[100], two[100];
	size_t i;

	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		unhex(want, k[i].dk);
		ok(mx_pbkdf2_sha512(got, 64, "password", 8, "salt", 4, k[i].c)
		    == 0, "pbkdf2 returns 0");
		is_mem(got, want, 64, "PBKDF2-HMAC-SHA512 password/salt");
	}
	/* Two blocks: the first 64 bytes do not depend on the length. */
	mx_pbkdf2_sha512(two, 100, "password", 8, "salt", 4, 2);
	unhex(want, k[1].dk);
	is_mem(two, want, 64, "PBKDF2 longer output keeps its first block");
	ok(mx_pbkdf2_sha512(got, 64, "p", 1, "s", 1, 0) == -1,
	    "pbkdf2 refuses 0 rounds");
}

static const char *nist_key = "603deb1015ca71be2b73aef0857d77811f352c073b6108"
    "d72d9810a30914dff4";
static const char *nist_pt = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c"
    "9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417b"
    "e66c3710";

static void
test_cbc(void)
{
	uint8_t key[32], iv[16], pt[64], want[64], ct[80], back[80];
	size_t n;

	unhex(key, nist_key);
	unhex(pt, nist_pt);
	seq(iv, 0, 16);
	/* SP 800-38A F.2.5 */
	unhex(want, "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6"
	    "702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a"
	    "9d1b");
	ok(mx_aes_cbc_len(64) == 80 && mx_aes_cbc_len(0) == 16 &&
	    mx_aes_cbc_len(15) == 16, "cbc length");
	ok(mx_aes256_cbc_encrypt(ct, &n, key, iv, pt, 64) == 0 && n == 80,
	    "cbc encrypt 64 bytes gives 80");
	is_mem(ct, want, 64, "SP 800-38A F.2.5 CBC-AES256");
	ok(mx_aes256_cbc_decrypt(back, &n, key, iv, ct, 80) == 0 && n == 64,
	    "cbc decrypt");
	is_mem(back, pt, 64, "cbc round trip");
	ok(mx_aes256_cbc_decrypt(back, &n, key, iv, ct, 64) == -1,
	    "cbc: unpadded ciphertext refused");
	ok(mx_aes256_cbc_decrypt(back, &n, key, iv, ct, 79) == -1,
	    "cbc: length not a multiple of 16 refused");
	ok(mx_aes256_cbc_decrypt(back, &n, key, iv, ct, 0) == -1,
	    "cbc: empty ciphertext refused");
	ok(mx_aes256_cbc_encrypt(ct, &n, key, iv, "", 0) == 0 && n == 16 &&
	    mx_aes256_cbc_decrypt(back, &n, key, iv, ct, 16) == 0 && n == 0,
	    "cbc: empty plaintext round trip");
}

static void
test_ctr(void)
{
	uint8_t key[32], iv[16], pt[64], want[64], ct[64];
	uint8_t z[32] = { 0 }, a[32], b[32];
	struct mx_aes_ctr *c;

	unhex(key, nist_key);
	unhex(pt, nist_pt);
	unhex(iv, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	/* SP 800-38A F.5.5 */
	unhex(want, "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990ca"
	    "caf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd084579"
	    "41a6");
	ok(mx_aes256_ctr(ct, key, iv, pt, 64) == 0, "ctr one shot");
	is_mem(ct, want, 64, "SP 800-38A F.5.5 CTR-AES256");
	c = mx_aes_ctr_new(key, iv);
	ok(c != NULL, "ctr stream new");
	memset(ct, 0, sizeof ct);
	mx_aes_ctr_update(c, ct, pt, 7);
	mx_aes_ctr_update(c, ct + 7, pt + 7, 20);
	mx_aes_ctr_update(c, ct + 27, pt + 27, 37);
	mx_aes_ctr_free(c);
	is_mem(ct, want, 64, "ctr streaming in odd pieces");
	/* The whole 128-bit block increments: ff..ff wraps to 00..00. */
	memset(iv, 0xff, 16);
	mx_aes256_ctr(a, key, iv, z, 32);
	memset(iv, 0, 16);
	mx_aes256_ctr(b, key, iv, z, 16);
	is_mem(a + 16, b, 16, "ctr counter wraps over the whole block");
}

static void
test_x25519(void)
{
	uint8_t ap[32], bp[32], apub[32], bpub[32], s1[32], s2[32], w[32];
	uint8_t zero[32] = { 0 };

	/* RFC 7748 section 6.1 */
	unhex(ap, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db9"
	    "2c2a");
	unhex(bp, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88"
	    "e0eb");
	mx_x25519_pub(apub, ap);
	mx_x25519_pub(bpub, bp);
	unhex(w, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b"
	    "4e6a");
	is_mem(apub, w, 32, "RFC 7748 Alice public key");
	unhex(w, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f88"
	    "2b4f");
	is_mem(bpub, w, 32, "RFC 7748 Bob public key");
	unhex(w, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16"
	    "1742");
	ok(mx_x25519(s1, ap, bpub) == 0 && mx_x25519(s2, bp, apub) == 0,
	    "x25519 shared secrets");
	is_mem(s1, w, 32, "RFC 7748 shared secret (Alice)");
	is_mem(s2, w, 32, "RFC 7748 shared secret (Bob)");
	ok(mx_x25519(s1, ap, zero) == -1, "x25519 refuses a low-order point");
	mx_x25519_keypair(apub, ap);
	mx_x25519_pub(w, ap);
	is_mem(w, apub, 32, "x25519 keypair consistent");
}

static void
test_ed25519(void)
{
	static const struct {
		const char *seed, *pub, *msg, *sig;
	} k[] = {
		/* RFC 8032 section 7.1, tests 1-3 */
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae"
		    "7f60"
		    "", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		    "1a68f707511a"
		    "", "", "e5564300c360ac729086e2cc806e828a84877f1eb"
		    "8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25"
		    "bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8"
		    "a6fb"
		    "", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd"
		    "55f12af4660c"
		    "", "72", "92a009a9f0d4cab8720e820b5f642540a2b27b"
		    "5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c"
		    "387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b44"
		    "58f7"
		    "", "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb"
		    "911548908025"
		    "", "af82", "6291d657deec24024827e69c3abe01a30ce5"
		    "48a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6"
		    "594a7c15e9716ed28dc027beceea1ec40a" },
	};
	uint8_t seed[32], pub[32], wpub[32], sk[64], sig[64], wsig[64], msg[2];
	size_t i, n;

	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		unhex(seed, k[i].seed);
		unhex(wpub, k[i].pub);
		unhex(wsig, k[i].sig);
		n = unhex(msg, k[i].msg);
		mx_ed25519_from_seed(pub, sk, seed);
		is_mem(pub, wpub, 32, "RFC 8032 public key");
		mx_ed25519_sign(sig, msg, n, sk);
		is_mem(sig, wsig, 64, "RFC 8032 signature");
		ok(mx_ed25519_verify(sig, msg, n, pub) == 0,
		    "RFC 8032 signature verifies");
		sig[10] ^= 1;
		ok(mx_ed25519_verify(sig, msg, n, pub) == -1,
		    "tampered signature refused");
	}
}

static void
test_misc(void)
{
	uint8_t h[64], w[64];
	uint8_t *p;

	mx_sha256(h, "abc", 3);
	unhex(w, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
	    "15ad");
	is_mem(h, w, 32, "sha256 abc");
	mx_sha512(h, "abc", 3);
	unhex(w, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55"
	    "d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca4"
	    "9f");
	is_mem(h, w, 64, "sha512 abc");
	ok(mx_ct_eq("abc", "abc", 3) == 1 && mx_ct_eq("abc", "abd", 3) == 0,
	    "ct_eq");
	p = mx_secure_alloc(48);
	memset(p, 0x5a, 48);
	mx_wipe(p, 48);
	memset(w, 0, 48);
	is_mem(p, w, 48, "wipe zeroes secure memory");
	mx_secure_free(p);
}

int
main(void)
{
	if (mx_crypto_init() != 0)
		return 1;
	test_hkdf();
	test_hmac();
	test_pbkdf2();
	test_cbc();
	test_ctr();
	test_x25519();
	test_ed25519();
	test_misc();
	return done();
}
