/*
 * Hashing, randomness, secrets, hex and base64: thin wrappers over libsodium
 * so that no other module includes <sodium.h>.
 */
#include <credbank/crypto.h>

#include <string.h>

#include <sodium.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <=
                   sizeof(((struct cy_sha256 *)0)->opaque),
               "cy_sha256 too small for libsodium's state");
_Static_assert(_Alignof(crypto_hash_sha256_state) <= 16,
               "cy_sha256 under-aligned");

int cy_init(void)
{
    return sodium_init() < 0 ? CB_EINTERNAL : 0;
}

void cy_sha256(uint8_t out[CY_HASH_LEN], const void *data, size_t len)
{
    crypto_hash_sha256(out, data, len);
}

void cy_sha256_init(struct cy_sha256 *h)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)h->opaque);
}

void cy_sha256_update(struct cy_sha256 *h, const void *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)h->opaque, data,
                              len);
}

void cy_sha256_final(struct cy_sha256 *h, uint8_t out[CY_HASH_LEN])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)h->opaque, out);
    sodium_memzero(h, sizeof *h);
}

void cy_random(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

void cy_wipe(void *p, size_t len)
{
    sodium_memzero(p, len);
}

bool cy_equal(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

void cy_hex(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, bin, len);
}

int cy_unhex(uint8_t *bin, size_t len, const char *hex)
{
    size_t got = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * len)
        return CB_EVALUE;
    if (sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 ||
        got != len || end != hex + 2 * len)
        return CB_EVALUE;
    return 0;
}

size_t cy_b64_len(size_t len)
{
    return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
}

void cy_b64(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2base64(out, cy_b64_len(len), bin, len,
                      sodium_base64_VARIANT_ORIGINAL);
}

int cy_unb64(uint8_t *bin, size_t cap, size_t *outlen, const char *b64,
             size_t b64len)
{
    const char *end = NULL;
    size_t got = 0;
    if (b64len % 4 != 0)
        return CB_EVALUE;
    if (sodium_base642bin(bin, cap, b64, b64len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + b64len)
        return CB_EVALUE;
    /* Canonical only: re-encoding must give the same text (rejects
     * non-zero padding bits). */
    char again[4 * 1024 + 4];
    if (cy_b64_len(got) > sizeof again)
        return CB_ETOOBIG;
    cy_b64(again, bin, got);
    if (strlen(again) != b64len || memcmp(again, b64, b64len) != 0)
        return CB_EVALUE;
    *outlen = got;
    return 0;
}
