/*
 * Hashing, randomness, secrets, hex and base64: thin wrappers over libsodium
 * (and OpenSSL's libcrypto for one-shot SHA-256, below) so that no other
 * module includes <sodium.h>.
 *
 * The wrappers exist for two reasons. First, isolation: the rest of
 * credbank sees only include/credbank/crypto.h, so libsodium stays a private
 * dependency of cbcrypto. Second, strictness: the decoders here (cy_unhex,
 * cy_unb64) accept exactly one spelling of each value, because every byte
 * string credbank reads from a file or the network must re-encode to the
 * input (DESIGN section 3); libsodium's decoders are used in their strict
 * modes (no ignored characters) and the whole input must be consumed.
 * spec/crypto.md states the accepted forms byte by byte.
 */
/* OpenSSL's low-level SHA-256 (below says why) without deprecation
 * warnings; must come before any OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <credbank/crypto.h>

#include <string.h>

#include <openssl/opensslconf.h>
#include <openssl/sha.h>
#include <sodium.h>

/* struct cy_sha256 is caller-allocated storage for libsodium's state; the
 * header cannot include <sodium.h>, so it reserves 128 bytes aligned to 16.
 * These fail the build if a libsodium upgrade outgrows that. */
_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(struct cy_sha256),
               "struct cy_sha256 is too small for crypto_hash_sha256_state");
_Static_assert(_Alignof(crypto_hash_sha256_state) <=
                   _Alignof(struct cy_sha256),
               "struct cy_sha256 is under-aligned for "
               "crypto_hash_sha256_state");

/* The opaque bytes are only ever touched through libsodium, which lives in
 * another translation unit (a shared library), so viewing them as its state
 * type is sound in practice; the asserts above make it sound in layout. */
static crypto_hash_sha256_state *state(struct cy_sha256 *h)
{
    return (crypto_hash_sha256_state *)(void *)h->opaque;
}

/* One-shot SHA-256 goes through OpenSSL's libcrypto: libsodium's SHA-256
 * is portable C, while OpenSSL uses the CPU's SHA extensions (SHA-NI, ARMv8
 * SHA2): 0.08 against 0.48 µs for a 65-byte node hash and 0.29 against 1.77
 * µs for a 500-byte entry on this machine (spec/crypto.md). Entry ids, leaf
 * and node hashes, the account tree and chains are all one-shot hashes, and
 * they were a tenth of a bundle's verification. It uses the low-level
 * SHA256_Init/Update/Final, deprecated in OpenSSL 3.0 but kept throughout
 * 3.x: the EVP interface starts OpenSSL's default library context on its
 * first fetch (configuration, providers, name tables: 2 ms, as long as
 * `credbank verify` takes for a small bundle) and adds a context per call
 * (0.145 against 0.076 µs per node hash). An OpenSSL built without its
 * deprecated API gets libsodium's SHA-256 instead: the same bytes. The
 * streaming API below stays on libsodium (it hashes secrets, and its state
 * lives in caller storage). */
int cy_init(void)
{
    /* 0: initialised now, 1: already initialised, -1: failure. */
    if (sodium_init() < 0)
        return CB_EINTERNAL;
    return 0;
}

/* ---------------- SHA-256 ---------------- */

void cy_sha256_2(uint8_t out[CY_HASH_LEN], const void *a, size_t alen,
                 const void *b, size_t blen)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, a, alen);
    SHA256_Update(&c, b, blen);
    SHA256_Final(out, &c);
#else
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, a, alen);
    crypto_hash_sha256_update(&st, b, blen);
    crypto_hash_sha256_final(&st, out);
#endif
}

void cy_sha256(uint8_t out[CY_HASH_LEN], const void *data, size_t len)
{
    cy_sha256_2(out, data, len, NULL, 0); /* an empty update adds nothing */
}

void cy_sha256_init(struct cy_sha256 *h)
{
    crypto_hash_sha256_init(state(h));
}

void cy_sha256_update(struct cy_sha256 *h, const void *data, size_t len)
{
    crypto_hash_sha256_update(state(h), data, len);
}

void cy_sha256_final(struct cy_sha256 *h, uint8_t out[CY_HASH_LEN])
{
    crypto_hash_sha256_final(state(h), out);
    /* The state may hold secret input (pii = SHA-256(salt || data)). */
    sodium_memzero(h, sizeof *h);
}

/* ---------------- randomness and secrets ---------------- */

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

/* ---------------- hex ---------------- */

void cy_hex(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, bin, len);
}

int cy_unhex(uint8_t *bin, size_t len, const char *hex)
{
    size_t got = 0;
    const char *end = NULL;
    /* strnlen: a longer string is wrong whatever its length. */
    if (strnlen(hex, 2 * len + 1) != 2 * len)
        return CB_EVALUE;
    /* No ignore set: every one of the 2*len characters must be a digit. */
    if (sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 ||
        got != len || end != hex + 2 * len)
        return CB_EVALUE;
    return 0;
}

/* ---------------- base64 ---------------- */

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
    size_t got = 0, need, pad = 0;
    const char *end = NULL;

    /* Canonical padded base64 comes in whole 4-character quanta. */
    if (b64len % 4 != 0)
        return CB_EVALUE;
    if (b64len >= 1 && b64[b64len - 1] == '=')
        pad++;
    if (b64len >= 2 && b64[b64len - 2] == '=')
        pad++;
    need = b64len / 4 * 3 - pad;
    if (need > cap)
        return CB_ETOOBIG;
    /* libsodium 1.0.18 decodes bytes >= 0x80 as if they were letters
     * (tests/unit/test_crypto.c): check the alphabet ourselves. */
    for (size_t i = 0; i < b64len - pad; i++) {
        unsigned char ch = (unsigned char)b64[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return CB_EVALUE;
    }
    /*
     * libsodium's strict mode (ORIGINAL alphabet, padding required, no
     * ignored characters) refuses a character outside the alphabet, a
     * wrong amount of padding and non-zero unused bits in the last
     * character; `end` must then sit at the very end, so nothing (a second
     * padded quantum, a NUL, a newline) may follow the padding.
     */
    if (sodium_base642bin(bin, cap, b64, b64len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + b64len || got != need)
        return CB_EVALUE;
    *outlen = got;
    return 0;
}
