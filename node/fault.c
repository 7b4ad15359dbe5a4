/*
 * Fault injection (node/fault.h): compiled into credbankd-faulty only.
 * A lying node must never be started by accident, so the switch is a
 * separate executable built with -DCB_FAULT_INJECTION, not a flag of
 * credbankd; the environment variable then picks the lies.
 */
#include "fault.h"

#ifdef CB_FAULT_INJECTION
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned nd_faults;

static const struct {
    const char *name;
    unsigned bit;
    const char *what;
} kinds[] = {
    {"seal_root", ND_FAULT_SEAL_ROOT,
     "as leader, proposes seals whose log_root is wrong"},
    {"cosign_forge", ND_FAULT_COSIGN_FORGE,
     "signs its cosigns of every other seal with a corrupted "
     "signature"},
    {"cosign_dup", ND_FAULT_COSIGN_DUP,
     "sends every cosign twice (a second entry for the same seal)"},
    {"skip_check", ND_FAULT_SKIP_CHECK,
     "as leader, proposes submitted entries its pre-check refused"},
    {"cosign_lie", ND_FAULT_COSIGN_LIE,
     "cosigns seals that its own ledger refused"},
};

int nd_fault_init(void)
{
    const char *env = getenv("CREDBANK_FAULT");
    fprintf(stderr, "credbankd: *** FAULT-INJECTION BUILD (credbankd-faulty): "
            "for tests only, never for a real consortium ***\n");
    if (env == NULL || env[0] == '\0')
        return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        while (k < sizeof kinds / sizeof kinds[0] &&
               strcmp(kinds[k].name, t) != 0)
            k++;
        if (k == sizeof kinds / sizeof kinds[0]) {
            fprintf(stderr, "credbankd: CREDBANK_FAULT: unknown fault %s\n",
                    t);
            return -1;
        }
        nd_faults |= kinds[k].bit;
        fprintf(stderr, "credbankd: *** FAULT %s: this node %s ***\n",
                kinds[k].name, kinds[k].what);
    }
    return 0;
}

void nd_fault_seal_body(uint8_t *body, size_t len)
{
    /* key "log_root" (fixstr 8) then bin 8 of 32 bytes */
    static const uint8_t key[] = "\xa8log_root\xc4\x20";
    const size_t klen = sizeof key - 1;
    for (size_t i = 0; i + klen < len; i++)
        if (memcmp(body + i, key, klen) == 0) {
            body[i + klen] ^= 0x01;
            return;
        }
}
#else
typedef int nd_fault_unused; /* ISO C: no empty translation unit */
#endif
