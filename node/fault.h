/*
 * Fault injection for the Byzantine tests (tests/faults/byzantine*.sh).
 *
 * Only the separate executable credbankd-faulty is compiled with
 * CB_FAULT_INJECTION; in credbankd every nd_fault() is the constant false
 * and the hooks compile to nothing (the production binary does not even
 * contain the variable's name). In credbankd-faulty the environment
 * variable CREDBANK_FAULT, a comma-separated list of the names below,
 * makes the node lie; nd_fault_init logs every fault it enables, loudly,
 * at start. spec/testing.md, "Byzantine members", says what each tests.
 */
#ifndef CREDBANK_FAULT_H
#define CREDBANK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nd_fault_kind {
    ND_FAULT_SEAL_ROOT = 1u << 0,    /* seals carry a wrong log_root */
    ND_FAULT_COSIGN_FORGE = 1u << 1, /* own cosigns of every other seal
                                        carry a bad signature */
    ND_FAULT_COSIGN_DUP = 1u << 2,   /* each own cosign is sent twice */
    ND_FAULT_SKIP_CHECK = 1u << 3,   /* leader proposes POSTs unchecked */
    ND_FAULT_COSIGN_LIE = 1u << 4,   /* cosigns seals its ledger refused */
};

#ifdef CB_FAULT_INJECTION
extern unsigned nd_faults;
#define nd_fault(kind) ((nd_faults & (unsigned)(kind)) != 0)
/* Reads CREDBANK_FAULT; -1 (after a message) for an unknown name. */
int nd_fault_init(void);
/* Flips the first byte of the log_root bin in a seal body (msgpack). */
void nd_fault_seal_body(uint8_t *body, size_t len);
#else
#define nd_fault(kind) false
static inline int nd_fault_init(void)
{
    return 0;
}
static inline void nd_fault_seal_body(uint8_t *body, size_t len)
{
    (void)body;
    (void)len;
}
#endif

#endif
