/*
 * Learner bundles (DESIGN 3.5; spec/bundle.md has every byte and check).
 *
 * A bundle is one canonical msgpack map that lets anyone holding only the
 * ledger id check, offline, a learner account's complete history as of a
 * final checkpoint:
 *
 *   {account: [number, leaf (bin 73), proof],
 *    checkpoint: str (the final note, signature lines included),
 *    disclose?: {data: {str: str}, salt: bin 32},
 *    entries: [[index, signed entry (bin), proof], ...],
 *    governance: [[index, signed entry (bin), proof], ...],
 *    seal: [index, signed entry (bin), proof],
 *    v: 1}
 *
 * Log proofs are RFC 9162 inclusion proofs in the checkpoint's tree (size =
 * seal index + 1); the account proof is in the account tree of the seal's
 * `accounts` leaves against its `accounts_root`.
 *
 * lg_bundle_export builds the bundle from a local ledger for its newest
 * final checkpoint. lg_bundle_verify checks one with nothing but the ledger
 * id, failing at the first problem with a stable reason (LG_BUNDLE_REASONS,
 * in check order), and replays the governance and account entries through
 * the ledger's own state machine (a partial ledger in a temporary
 * directory) to produce the account summary (DESIGN 4.2). It opens no
 * socket; its only I/O is that temporary directory.
 */
#ifndef CREDBANK_BUNDLE_H
#define CREDBANK_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <credbank/codec.h>
#include <credbank/errors.h>
#include <credbank/ledger.h>

#define LG_BUNDLE_MAX ((size_t)64 << 20) /* bytes of a whole bundle */
#define LG_BUNDLE_NOTE_LINES 100         /* signature lines of the note */
#define LG_BUNDLE_NOTE_MAX 20000         /* bytes of the checkpoint str */

/*
 * Verification failure reasons, in the order the checks run:
 * X(ENUM, "stable name", "what failed").
 */
#define LG_BUNDLE_REASONS(X)                                                  \
    X(MALFORMED, "malformed",                                                 \
      "not a canonical bundle (encoding, keys, types, sizes, entry "          \
      "envelopes)")                                                           \
    X(GENESIS, "genesis_mismatch",                                            \
      "governance[0] is not the genesis entry of this ledger id")             \
    X(CHECKPOINT, "checkpoint_malformed",                                     \
      "checkpoint note not of the form the seal requires")                    \
    X(INCLUSION, "inclusion", "an item's proof does not verify")              \
    X(ORDER, "entry_order",                                                   \
      "indices not strictly increasing or not below the seal")                \
    X(FOREIGN, "foreign_entry",                                               \
      "an item that does not belong in its list")                             \
    X(GOV_COUNT, "governance_count",                                          \
      "governance entries differ in number from the seal's count")            \
    X(GOV_CHAIN, "governance_chain",                                          \
      "governance chain differs from the seal's")                             \
    X(GOV_REFUSED, "governance_refused",                                      \
      "the replay refused a governance entry")                                \
    X(NOTE_SIG, "note_signature",                                             \
      "a note signature by a key in force at the seal does not verify")       \
    X(NOTE_QUORUM, "note_quorum",                                             \
      "fewer than cosign_quorum members in force at the seal signed")         \
    X(ENTRY_SIG, "entry_signature", "an entry's signature does not verify")   \
    X(ENTRY_AUTH, "entry_authority",                                          \
      "an entry's author or signers lack the authority")                      \
    X(SEAL, "seal_invalid",                                                   \
      "the seal's author is not a member node key, or its body is wrong")     \
    X(ACCOUNT_PROOF, "account_proof",                                         \
      "the account leaf is not in the seal's account tree")                   \
    X(ACCOUNT_COUNT, "account_count",                                         \
      "entries differ in number from the leaf's count")                       \
    X(ACCOUNT_CHAIN, "account_chain", "chain differs from the leaf's")        \
    X(ACCOUNT_STATUS, "account_status", "status differs from the leaf's")     \
    X(DISCLOSURE, "disclosure", "disclosed data does not open the pii")       \
    X(REPLAY, "replay_refused", "the rules refused an account entry")         \
    X(STALE, "seal_stale", "the seal's ts is below --not-before")

enum lg_bundle_reason {
    LG_BR_OK = 0,
#define LG__BRENUM(e, n, m) LG_BR_##e,
    LG_BUNDLE_REASONS(LG__BRENUM)
#undef LG__BRENUM
    LG_BR__COUNT
};

/* "inclusion" for LG_BR_INCLUSION; "valid" for 0; NULL if out of range. */
const char *lg_bundle_reason_name(int reason);
/* The reason's one-line description. */
const char *lg_bundle_reason_text(int reason);

/* ---- export ---- */

struct lg_bundle_export_opts {
    const uint8_t *salt;      /* 32 bytes, or NULL: no `disclose` */
    const uint8_t *data;      /* canonical map of str to str (with salt) */
    size_t data_len;
};

/*
 * Writes the bundle of account (its id) for the ledger's newest final
 * checkpoint into w (appending). opts may be NULL. Errors: CB_ENOTFINAL (no
 * final checkpoint), CB_ENOTFOUND (no such account, or opened after that
 * checkpoint), CB_EINVAL (disclosure data not a canonical map of str to
 * str, or it does not open the account's pii), storage codes.
 *
 * Cost: independent of the log's size and of the number of accounts: the
 * governance entries come from the governance index, the account tree as
 * of the seal from the stored tree with the leaves of the accounts changed
 * after the seal recomputed, and each item's proof from O(log n) stored
 * hashes (spec/bundle.md, "Export"). It reads the entries after the seal
 * once (the accounts they touch).
 */
int lg_bundle_export(struct lg_ledger *l, const uint8_t account[32],
                     const struct lg_bundle_export_opts *opts,
                     struct lg_w *w, struct cb_err *err);

/* ---- verification ---- */

struct lg_bundle_verify_opts {
    uint64_t not_before_ms;   /* fail a seal whose ts is below (0: none) */
    const char *tmpdir;       /* where the replay ledger goes (NULL:
                                 $TMPDIR, else /dev/shm if writable,
                                 else /tmp) */
    unsigned threads;         /* signature workers of the replay (0: 1) */
    bool no_summary;          /* skip building the summary JSON */
};

struct json_t;

struct lg_bundle_result {
    int reason;                 /* LG_BR_OK or the failing check */
    char msg[512];              /* what exactly: item, index, key, counts */
    /* filled as far as the checks got: */
    uint8_t account[32];        /* account id (entries[0]'s id) */
    uint64_t number;            /* account number */
    uint64_t seal_index;
    uint64_t seal_ts;           /* Unix ms */
    uint64_t entries;           /* account entries in the bundle */
    uint64_t governance;        /* governance entries in the bundle */
    uint64_t signatures;        /* Ed25519 signatures checked */
    char origin[256];
    char note_signers[512];     /* names whose note lines verified */
    struct json_t *summary;     /* on success (unless no_summary): the
                                   account view with log indices, owned by
                                   the caller (json_decref) */
    struct json_t *disclosed;   /* the verified disclosed data, or NULL;
                                   owned by the caller */
};

/*
 * Verifies the bundle buf[len] against ledger (the 32-byte ledger id).
 * Returns 0 when valid, CB_EBUNDLE when not (res->reason and res->msg say
 * why), or a system error (CB_ENOMEM, CB_EIO: the replay's temporary
 * ledger) with res->reason 0. opts may be NULL. res is always initialised;
 * release it with lg_bundle_result_release.
 */
int lg_bundle_verify(const uint8_t *buf, size_t len, const uint8_t ledger[32],
                     const struct lg_bundle_verify_opts *opts,
                     struct lg_bundle_result *res);
void lg_bundle_result_release(struct lg_bundle_result *res);

/*
 * A verifier that checks many bundles keeps its replay ledger (a scratch
 * LMDB environment, emptied between bundles) instead of creating and
 * removing one per bundle: lg_bundle_verifier_new makes it with opts
 * (tmpdir, threads; copied), lg_bundle_verify_with verifies exactly as
 * lg_bundle_verify (opts->not_before_ms and no_summary from its own opts
 * argument, which may be NULL), lg_bundle_verifier_free removes the scratch
 * directory. One bundle at a time per verifier.
 */
struct lg_bundle_verifier;
int lg_bundle_verifier_new(struct lg_bundle_verifier **out,
                           const struct lg_bundle_verify_opts *opts);
int lg_bundle_verify_with(struct lg_bundle_verifier *vf, const uint8_t *buf,
                          size_t len, const uint8_t ledger[32],
                          const struct lg_bundle_verify_opts *opts,
                          struct lg_bundle_result *res);
void lg_bundle_verifier_free(struct lg_bundle_verifier *vf);

#endif
