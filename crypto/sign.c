/*
 * Ed25519 keys and signatures (libsodium, RFC 8032).
 *
 * Signing is libsodium's crypto_sign_detached and verification its
 * crypto_sign_verify_detached, whose rules are part of the ledger format:
 * every node and every offline verifier must accept exactly the same
 * signatures, so credbank adds nothing to them and removes nothing. In
 * libsodium 1.0.18 a signature (R, S) by public key A verifies when
 *   - S is canonical (S < L, the group order),
 *   - R is not one of the small-order encodings,
 *   - A is accepted as a key (cy_pk_check below), and
 *   - the encoding of [S]B - [H(R || A || M) mod L]A equals R byte for byte
 *     (the cofactorless equation; R must therefore be canonical too).
 *
 * Which public keys are acceptable (cy_pk_check)
 * ----------------------------------------------
 * DESIGN section 2: "keys must be canonical, not of small order (libsodium
 * accepts them for verification)". crypto_sign_verify_detached refuses a
 * key A unless
 *   1. its y coordinate is canonical: the low 255 bits, little-endian, are
 *      below p = 2^255 - 19 (the sign bit is free);
 *   2. it is not of small order: A's y is not 0, 1, p - 1 or one of the two
 *      y of the points of order 8 (either sign of x);
 *   3. it decodes to a point: (y^2 - 1) / (d y^2 + 1) is a square mod p.
 * cy_pk_check accepts exactly the keys passing 1-3, so a key the ledger
 * admits can always be verified against, and a key verification would
 * refuse never enters the ledger.
 *
 * It does not use crypto_core_ed25519_is_valid_point, which also demands
 * that A lie in the prime-order subgroup. That is stricter than
 * verification: a "mixed-order" key (an honest key plus a point of order 2,
 * 4 or 8) passes crypto_sign_verify_detached whenever H(R || A || M) mod L
 * kills the torsion part, and Go's crypto/ed25519 accepts it too. Refusing
 * such keys would be a rule no independent verifier following DESIGN would
 * know about. They are harmless here: only someone who made one (and knows
 * its discrete log) can sign with it, and a key enters the ledger only in an
 * entry it signs itself. spec/vectors/crypto.json lists every small-order
 * encoding, every y >= p, points off the curve and mixed-order keys, with a
 * signature under a mixed-order key that libsodium accepts.
 */
#include <credbank/crypto.h>

#include <string.h>

#include <sodium.h>

int cy_key_from_seed(struct cy_key *k, const char *name,
                     const uint8_t seed[CY_SEED_LEN])
{
    uint8_t s[CY_SEED_LEN];
    char n[CY_NAME_MAX + 1] = {0}; /* zero tail: *k holds no stale bytes */

    if (!cy_name_valid(name))
        return CB_EINVAL;
    /* Copy first: seed or name may point into *k (a key re-derived from its
     * own fields), and *k is cleared before it is filled. */
    memcpy(s, seed, sizeof s);
    memcpy(n, name, strlen(name) + 1);
    sodium_memzero(k, sizeof *k);
    memcpy(k->seed, s, sizeof s);
    memcpy(k->name, n, sizeof n);
    /* sk = seed || pk, libsodium's secret-key layout. */
    crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
    sodium_memzero(s, sizeof s);
    return 0;
}

int cy_key_generate(struct cy_key *k, const char *name)
{
    uint8_t seed[CY_SEED_LEN];
    int rv;

    if (!cy_name_valid(name))
        return CB_EINVAL;
    randombytes_buf(seed, sizeof seed);
    rv = cy_key_from_seed(k, name, seed);
    sodium_memzero(seed, sizeof seed);
    return rv;
}

void cy_key_wipe(struct cy_key *k)
{
    sodium_memzero(k, sizeof *k);
}

void cy_sign(uint8_t sig[CY_SIG_LEN], const void *msg, size_t len,
             const struct cy_key *k)
{
    crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

int cy_verify(const uint8_t sig[CY_SIG_LEN], const void *msg, size_t len,
              const uint8_t pk[CY_PK_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0
                                                               : CB_EBADSIG;
}

/* Rule 1: the low 255 bits, little-endian, are below p = 2^255 - 19. The
 * only encodings that fail are y = p + t for t in 0..18: bytes 1..30 all
 * 0xff, byte 31 0x7f (ignoring the sign bit), byte 0 >= 0xed. */
static bool y_canonical(const uint8_t pk[CY_PK_LEN])
{
    if ((pk[31] & 0x7f) != 0x7f || pk[0] < 0xed)
        return true;
    for (int i = 1; i < 31; i++)
        if (pk[i] != 0xff)
            return true;
    return false;
}

/* Rule 2: the y coordinates (little-endian, sign bit cleared) of the 8
 * points of small order: identity (y = 1), order 2 (y = p - 1), order 4
 * (y = 0, both signs of x), order 8 (two y, both signs of x). A point on
 * the curve has small order exactly when its y is one of these. */
static const uint8_t small_order_y[5][CY_PK_LEN] = {
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

/* The base point B (y = 4/5), a valid operand for the curve check. */
static const uint8_t base_point[CY_PK_LEN] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

int cy_pk_check(const uint8_t pk[CY_PK_LEN])
{
    uint8_t y[CY_PK_LEN], sum[CY_PK_LEN];

    if (!y_canonical(pk))
        return CB_EBADKEY;
    /* Rule 2 by the y blacklist (on canonical encodings the same set as
     * [8]A = identity, libsodium's own blacklist; crypto.json lists them) */
    memcpy(y, pk, sizeof y);
    y[31] &= 0x7f;
    for (size_t i = 0; i < sizeof small_order_y / sizeof small_order_y[0];
         i++)
        if (memcmp(y, small_order_y[i], sizeof y) == 0)
            return CB_EBADKEY;
    /* Rule 3: crypto_core_ed25519_add decodes both operands and fails when
     * one is not on the curve (it does not care about the subgroup); one
     * addition of B costs a third of the three doublings of the first
     * version, which made key checks the dearest step after signatures. */
    if (crypto_core_ed25519_add(sum, pk, base_point) != 0)
        return CB_EBADKEY;
    return 0;
}
