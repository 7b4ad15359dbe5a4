/*
 * credbank crypto: the only module that includes <sodium.h>.
 *
 * Ed25519 keys and signatures, SHA-256, hex and base64, and C2SP signed-note
 * key strings (https://c2sp.org/signed-note):
 *
 *   verifier key  <name>+<8 hex key hash>+<base64(0x01 || public key)>
 *   private key   PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>
 *   key hash      first 4 bytes of SHA-256(name || "\n" || 0x01 || public key)
 *
 * Names are 1-64 characters of A-Za-z0-9._- (DESIGN section 2).
 * All functions return 0 or a negative CB_E* code (credbank/errors.h).
 * Secret material is wiped on every path (cy_wipe).
 */
#ifndef CREDBANK_CRYPTO_H
#define CREDBANK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <credbank/errors.h>

#define CY_PK_LEN 32
#define CY_SEED_LEN 32
#define CY_SK_LEN 64
#define CY_SIG_LEN 64
#define CY_HASH_LEN 32
#define CY_NAME_MAX 64
/* Longest verifier key string: name + '+' + 8 + '+' + base64(33) = 44. */
#define CY_VKEY_MAX (CY_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define CY_SKEY_MAX (12 + CY_VKEY_MAX)

/* Initialises libsodium (and fetches OpenSSL's SHA-256); call once before
 * anything else. */
int cy_init(void);

/* ---- hashing ---- */
void cy_sha256(uint8_t out[CY_HASH_LEN], const void *data, size_t len);
/* SHA-256 of a || b (one-shot speed for two parts, e.g. a prefix byte). */
void cy_sha256_2(uint8_t out[CY_HASH_LEN], const void *a, size_t alen,
                 const void *b, size_t blen);

/* Incremental SHA-256; the storage is opaque (libsodium's state inside). */
struct cy_sha256 {
    _Alignas(16) unsigned char opaque[128];
};
void cy_sha256_init(struct cy_sha256 *h);
void cy_sha256_update(struct cy_sha256 *h, const void *data, size_t len);
void cy_sha256_final(struct cy_sha256 *h, uint8_t out[CY_HASH_LEN]);

/* ---- randomness and secrets ---- */
void cy_random(void *buf, size_t len);
void cy_wipe(void *p, size_t len);
/* Constant-time equality: true when equal. */
bool cy_equal(const void *a, const void *b, size_t len);

/* ---- Ed25519 ---- */
/* A secret key with its public half and its signed-note name. */
struct cy_key {
    uint8_t seed[CY_SEED_LEN];       /* secret */
    uint8_t sk[CY_SK_LEN];           /* secret: libsodium seed || pk */
    uint8_t pk[CY_PK_LEN];           /* public key */
    char name[CY_NAME_MAX + 1];      /* signed-note key name */
};

/* True when name is 1-64 characters of A-Za-z0-9._- */
bool cy_name_valid(const char *name);

/* Fresh random key. CB_EINVAL for a bad name. */
int cy_key_generate(struct cy_key *k, const char *name);
/* Key from a 32-byte seed (deterministic). */
int cy_key_from_seed(struct cy_key *k, const char *name,
                     const uint8_t seed[CY_SEED_LEN]);
/* Wipes the whole struct. */
void cy_key_wipe(struct cy_key *k);

/* Signs msg with k: a detached 64-byte signature. */
void cy_sign(uint8_t sig[CY_SIG_LEN], const void *msg, size_t len,
             const struct cy_key *k);
/* 0 when sig is a valid signature of msg by pk (libsodium
 * crypto_sign_verify_detached rules), CB_EBADSIG otherwise. */
int cy_verify(const uint8_t sig[CY_SIG_LEN], const void *msg, size_t len,
              const uint8_t pk[CY_PK_LEN]);
/* 0 when pk is a canonical Ed25519 point not of small order (libsodium
 * would accept it for verification), CB_EBADKEY otherwise. */
int cy_pk_check(const uint8_t pk[CY_PK_LEN]);

/* ---- signed-note keys ---- */
/* First 4 bytes of SHA-256(name || "\n" || 0x01 || pk). */
void cy_note_keyhash(uint8_t out[4], const char *name,
                     const uint8_t pk[CY_PK_LEN]);
/* Writes the verifier key string (NUL-terminated) into out[cap].
 * CB_EINVAL for a bad name, CB_ETOOBIG if cap is too small. */
int cy_note_vkey(char *out, size_t cap, const char *name,
                 const uint8_t pk[CY_PK_LEN]);
/* Parses a verifier key string; checks the hash, algorithm byte and key.
 * name must hold CY_NAME_MAX + 1 bytes. */
int cy_note_vkey_parse(const char *s, char *name, uint8_t pk[CY_PK_LEN]);
/* Writes the private key string of k into out[cap]. */
int cy_note_skey(char *out, size_t cap, const struct cy_key *k);
/* Parses a private key string into k (checks the hash against the derived
 * public key). */
int cy_note_skey_parse(const char *s, struct cy_key *k);

/* Writes k's private key string plus "\n" to a new file of mode 0600
 * (refuses to overwrite: CB_EEXISTS). */
int cy_keyfile_write(const char *path, const struct cy_key *k,
                     struct cb_err *err);
/* Reads a key file written by cy_keyfile_write (trailing newline optional).
 * Refuses files readable by group or others (CB_EINVAL, message says so). */
int cy_keyfile_read(const char *path, struct cy_key *k, struct cb_err *err);

/* ---- hex and base64 (standard alphabet, with padding) ---- */
/* Lower-case hex of bin[len] into out, which must hold 2*len + 1 bytes. */
void cy_hex(char *out, const uint8_t *bin, size_t len);
/* Decodes exactly 2*len hex characters (either case) of the NUL-terminated
 * hex into bin[len]; CB_EVALUE if the length or a character is wrong. */
int cy_unhex(uint8_t *bin, size_t len, const char *hex);
/* Base64 length with NUL for len bytes. */
size_t cy_b64_len(size_t len);
/* Standard base64 with padding into out (cy_b64_len(len) bytes). */
void cy_b64(char *out, const uint8_t *bin, size_t len);
/* Decodes standard padded base64 of b64[b64len] into bin[cap]; *outlen gets
 * the decoded size. Rejects anything non-canonical: CB_EVALUE. */
int cy_unb64(uint8_t *bin, size_t cap, size_t *outlen, const char *b64,
             size_t b64len);

#endif
