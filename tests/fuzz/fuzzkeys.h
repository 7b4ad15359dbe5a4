/*
 * Deterministic keys shared by the fuzz targets that build signed entries
 * (fuzz_genesis, fuzz_sm) and by tests/fuzz/make_corpus.sh, which writes
 * the same keys into the seeds: the key named N has the Ed25519 seed
 * SHA-256("credbank-fuzz:" || N). The names are the demo's.
 */
#ifndef CREDBANK_FUZZKEYS_H
#define CREDBANK_FUZZKEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <credbank/crypto.h>
#include <credbank/entry.h>

enum {
    FK_BANK_NODE, FK_BANK, FK_UNI_NODE, FK_UNI, FK_PROV_NODE, FK_PROV,
    FK_LEARNER0, FK_LEARNER1, FK_LEARNER2, FK_LEARNER3, FK_LEARNER4,
    FK_LEARNER5, FK_OUTSIDER, FK__COUNT
};

static const char *const fk_names[FK__COUNT] = {
    "bank", "bank.issuer", "university", "university.issuer", "provider",
    "provider.issuer", "learner0", "learner1", "learner2", "learner3",
    "learner4", "learner5", "outsider",
};

static struct cy_key fk[FK__COUNT];

static inline void fk_init(void)
{
    if (cy_init() != 0)
        abort();
    for (int i = 0; i < FK__COUNT; i++) {
        char buf[64];
        uint8_t seed[32];
        size_t n = (size_t)snprintf(buf, sizeof buf, "credbank-fuzz:%s",
                                    fk_names[i]);
        cy_sha256(seed, buf, n);
        if (cy_key_from_seed(&fk[i], fk_names[i], seed) != 0)
            abort();
    }
}

/* lg_entry_sign with fk[key], cached across runs: the same entry bytes
 * recur often (mutations that leave the canonical form unchanged). */
#define FK_SIGCACHE 8192
static struct {
    uint8_t h[32];
    int key;
    bool used;
    uint8_t sig[64];
} fk_sigcache[FK_SIGCACHE];

static inline void fk_sign(uint8_t sig[64], const uint8_t *entry, size_t len,
                           int key)
{
    uint8_t h[32];
    cy_sha256(h, entry, len);
    unsigned slot = ((unsigned)(h[0] | h[1] << 8) + (unsigned)key * 613u) %
                    FK_SIGCACHE;
    if (fk_sigcache[slot].used && fk_sigcache[slot].key == key &&
        memcmp(fk_sigcache[slot].h, h, 32) == 0) {
        memcpy(sig, fk_sigcache[slot].sig, 64);
        return;
    }
    lg_entry_sign(sig, entry, len, &fk[key]);
    memcpy(fk_sigcache[slot].h, h, 32);
    fk_sigcache[slot].key = key;
    fk_sigcache[slot].used = true;
    memcpy(fk_sigcache[slot].sig, sig, 64);
}

#endif
