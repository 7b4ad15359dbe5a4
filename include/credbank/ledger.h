/*
 * The credbank ledger: a deterministic state machine over LMDB.
 *
 * A ledger directory holds one LMDB environment with the Merkle log of
 * signed entries (credbank/log.h) and every index the rules need (members,
 * keys, policies, accounts, their items, the account tree, seals). Entries
 * reach it only through lg_apply, which runs the rules of DESIGN section 4
 * on a batch of signed entries in one write transaction: an entry that breaks
 * a rule changes nothing and never becomes a leaf; the others are appended in
 * order. The same entries give the same state and roots on every machine:
 * apply reads no clock, no randomness, and iterates only in key order.
 *
 * Thread safety: lg_apply and lg_check may be called from different
 * threads; each runs its rules inside an LMDB write transaction, so they
 * serialise on LMDB's writer lock (the only mutable state outside LMDB, a
 * scratch array of genesis, is used under that lock). Any number of readers
 * (the view and query functions open their own read transactions).
 * lg_ledger_open/close must not overlap anything else.
 */
#ifndef CREDBANK_LEDGER_H
#define CREDBANK_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include <credbank/codec.h>
#include <credbank/entry.h>
#include <credbank/errors.h>
#include <credbank/log.h>

struct lg_ledger;

struct lg_open_opts {
    size_t map_size;           /* LMDB map size in bytes (0: 1 TiB) */
    unsigned verify_threads;   /* signature workers (0: online CPUs) */
    bool nosync;               /* MDB_NOSYNC: tests and generators only */
    bool partial;              /* replay mode of the offline verifier: seals
                                  and cosigns refused; rules otherwise same */
    bool scratch;              /* a throwaway ledger of one process: no lock
                                  file (MDB_NOLOCK), no cache of verified
                                  entries; the caller may unlink its files
                                  once it is open */
};

/* Opens (creating if needed) the ledger in directory dir. */
int lg_ledger_open(struct lg_ledger **out, const char *dir,
                   const struct lg_open_opts *opts, struct cb_err *err);
void lg_ledger_close(struct lg_ledger *l);
/* The LMDB environment (for read transactions of callers). */
MDB_env *lg_ledger_env(struct lg_ledger *l);
/* The log's databases (valid while l is open). */
const struct lg_log *lg_ledger_log(struct lg_ledger *l);

/* A byte buffer (borrowed). */
struct lg_buf {
    const uint8_t *p;
    size_t len;
};

/* The outcome of one entry of a batch. */
struct lg_result {
    int code;          /* 0 applied; else the CB_E* code of the refusal */
    uint64_t index;    /* its log index: when applied, or the earlier copy's
                          index when code is CB_EDUPLICATE */
    uint8_t id[32];    /* entry id (zero if the bytes did not decode) */
    uint64_t fee;      /* fee assessed (in the policy's currency) */
    int type;          /* enum lg_type, ts and author of the decoded entry */
    uint64_t ts;       /* (0 when the bytes did not decode) */
    uint8_t author[32];
    char msg[256];     /* why, when refused */
};

/*
 * Applies a batch of signed entries in one write transaction tagged with seq
 * (the Raft index; 0 means untagged, always applied). When seq is not above
 * the last applied seq the call changes nothing and sets *replayed (may be
 * NULL) — replay after a crash is idempotent. Signatures are checked on the
 * worker threads, then the rules run in order; res[i] gets each outcome.
 * Returns 0 when the transaction committed (whatever the entries' outcomes),
 * or a negative code (CB_EFULL, CB_EIO, CB_ENOMEM) with nothing written.
 */
int lg_apply(struct lg_ledger *l, uint64_t seq, const struct lg_buf *entries,
             size_t n, struct lg_result *res, bool *replayed,
             struct cb_err *err);

/*
 * The same in two steps, so that the next batch's signature checks run
 * while this one's rules and commit do: lg_prepare decodes and verifies
 * entries[0..n) on the worker threads and returns at once (entries must
 * stay valid until the batch is applied or freed); lg_apply_prepared waits
 * for what it needs of that work, then applies exactly as lg_apply, and
 * frees *prep in any case. Batches prepared ahead are verified in the order
 * they were prepared. lg_prep_free drops a batch not applied. lg_apply is
 * lg_prepare followed by lg_apply_prepared.
 */
struct lg_prep;
int lg_prepare(struct lg_ledger *l, const struct lg_buf *entries, size_t n,
               struct lg_prep **prep);
int lg_apply_prepared(struct lg_ledger *l, uint64_t seq, struct lg_prep *prep,
                      struct lg_result *res, bool *replayed,
                      struct cb_err *err);
void lg_prep_free(struct lg_prep *prep);

/*
 * lg_apply (seq 0) of entries the caller has decoded already: s[i] from
 * lg_signed_decode of the entry's bytes (which must stay alive), leaf[i] its
 * leaf hash (cy_leaf_hash of those bytes). Only the signatures are checked
 * here; the rules run exactly as for lg_apply. The offline verifier's
 * replay, which decodes a bundle's entries to check them anyway.
 */
int lg_apply_decoded(struct lg_ledger *l, const struct lg_signed *const *s,
                     const uint8_t *const *leaf, size_t n,
                     struct lg_result *res, struct cb_err *err);

/* Dry run of one entry against the current state: res as lg_apply would
 * give it, nothing written. Returns 0 or a batch-level error. */
int lg_check(struct lg_ledger *l, const uint8_t *p, size_t len,
             struct lg_result *res);

/* The ledger's head. */
struct lg_status {
    bool has_genesis;
    uint8_t ledger_id[32];
    uint64_t applied_seq;        /* last lg_apply seq */
    uint64_t size;               /* leaves */
    uint8_t root[32];            /* tree hash at size */
    uint64_t accounts;
    uint8_t accounts_root[32];
    uint64_t governance;
    uint8_t governance_chain[32];
    uint64_t members;            /* members in force */
    uint64_t governance_quorum;  /* effective (defaults resolved) */
    uint64_t cosign_quorum;      /* effective */
    uint64_t seal_interval_ms;
    uint64_t since_seal;         /* entries other than seal/cosign since the
                                    last seal */
    bool has_seal;
    uint64_t last_seal;          /* index of the newest seal */
    uint64_t last_seal_ts;
    bool has_final;
    uint64_t final_seal;         /* index of the newest final seal */
    char origin[256];            /* checkpoint origin line */
};
int lg_status(struct lg_ledger *l, struct lg_status *st);

/* ---- seals and checkpoints (DESIGN 3.4) ---- */

/* Writes the body map of a seal that would be appended next (size = the
 * current log size) into w. CB_ESEALEMPTY when no entry other than seal and
 * cosign arrived since the last seal. */
int lg_seal_body(struct lg_ledger *l, struct lg_w *w);

/* The checkpoint note body of the seal at index seal:
 * "<origin>\n<seal+1>\n<base64 root>\n" into out[cap]. */
int lg_checkpoint_body(struct lg_ledger *l, uint64_t seal, char *out,
                       size_t cap, size_t *len);

/* The final checkpoint note of a seal (body plus its first cosign_quorum
 * signature lines, in cosign order) into a malloc'd string; CB_ENOTFOUND if
 * that seal is not final. */
int lg_checkpoint_note(struct lg_ledger *l, uint64_t seal, char **note,
                       struct cb_err *err);

/* ---- views (DESIGN 4.2) ---- */
struct json_t;
/* The account view as JSON; CB_ENOTFOUND for an unknown account. */
int lg_account_view(struct lg_ledger *l, const uint8_t id[32],
                    struct json_t **out, struct cb_err *err);
/* The same, reading the log's entries through get(ctx, index), which
 * returns the entry at that index decoded (or NULL: then it is read from the
 * log): for a caller that holds them decoded already (the offline
 * verifier's summary of its replay). */
int lg_account_view_from(struct lg_ledger *l, const uint8_t id[32],
                         const struct lg_signed *(*get)(void *ctx,
                                                        uint64_t index),
                         void *ctx, struct json_t **out, struct cb_err *err);
/* The account's entries in log order: calls fn for each (index, fee) from
 * position from, at most limit; fn returns non-zero to stop. */
int lg_account_entries(struct lg_ledger *l, const uint8_t id[32],
                       uint64_t from, uint64_t limit,
                       int (*fn)(void *ctx, uint64_t index, uint64_t fee),
                       void *ctx, struct cb_err *err);
/* Members in force and removed, with roles and keys, and the policies. */
int lg_members_view(struct lg_ledger *l, struct json_t **out,
                    struct cb_err *err);

/* ---- keys (request authentication, spec/security.md) ---- */

enum lg_key_kind { LG_KEY_ISSUER = 1, LG_KEY_NODE = 2, LG_KEY_LEARNER = 3 };
struct lg_key_info {
    int kind;                  /* enum lg_key_kind */
    bool in_force;             /* false once rotated out, removed, rekeyed */
    char member[65];           /* owner member (issuer and node keys) */
    uint8_t account[32];       /* owner account (learner keys) */
};
/* What the ledger knows of key pk now; CB_ENOTFOUND if it was never used. */
int lg_key_info(struct lg_ledger *l, const uint8_t pk[32],
                struct lg_key_info *out);

#endif
