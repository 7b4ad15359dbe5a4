/*
 * Ed25519 keys and signatures (libsodium).
 *
 * Public keys entering the ledger must be canonical encodings of points not
 * of small order: such keys could make one signature valid for many
 * messages or none, and libsodium's verifier rejects them anyway.
 * crypto_core_ed25519_is_valid_point checks exactly that (canonical, on the
 * curve, not of small order; it also requires the main subgroup, which every
 * key made by honest key generation satisfies).
 */
#include <credbank/crypto.h>

#include <string.h>

#include <sodium.h>

bool cy_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > CY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int cy_key_from_seed(struct cy_key *k, const char *name,
                     const uint8_t seed[CY_SEED_LEN])
{
    if (!cy_name_valid(name))
        return CB_EINVAL;
    memset(k, 0, sizeof *k);
    memcpy(k->seed, seed, CY_SEED_LEN);
    crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
    memcpy(k->name, name, strlen(name) + 1);
    return 0;
}

int cy_key_generate(struct cy_key *k, const char *name)
{
    uint8_t seed[CY_SEED_LEN];
    randombytes_buf(seed, sizeof seed);
    int rv = cy_key_from_seed(k, name, seed);
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

int cy_pk_check(const uint8_t pk[CY_PK_LEN])
{
    return crypto_core_ed25519_is_valid_point(pk) ? 0 : CB_EBADKEY;
}
