/*
 * Private interface of the ledger state machine (files in ledger/ only).
 *
 * The apply loop (ledger.c) decodes and signature-checks each entry, then
 * calls sm_apply_one inside a nested LMDB transaction with a struct sm_ctx.
 * The rule handlers (gov.c, rules_account.c, seal.c) read and change state
 * only through the functions below and the ctx, validate first, and return a
 * CB_E* code naming the rule that failed; the loop then aborts the nested
 * transaction and restores the in-memory meta, so a refused entry changes
 * nothing.
 *
 * Records are stored as fixed little-endian C structs (local to one machine:
 * roots never depend on these bytes). spec/storage.md documents them.
 */
#ifndef CREDBANK_SM_H
#define CREDBANK_SM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/errors.h>
#include <credbank/ledger.h>
#include <credbank/log.h>
#include <credbank/merkle.h>

#define SM_NAME_CAP (CY_NAME_MAX + 1)
#define SM_STR_CAP (LG_STR_MAX + 1)
#define SM_MAX_MEMBERS 256
#define SM_MAX_ISSUERS 64 /* issuer keys of one member */

/* ---- enumerations ---- */
enum sm_role {
    SM_ROLE_REGISTRAR = 1u << 0,
    SM_ROLE_RECOGNIZER = 1u << 1,
    SM_ROLE_PROVIDER = 1u << 2,
    SM_ROLE_WITNESS = 1u << 3,
};

enum sm_source {
    SM_SRC_EVALUATED_COURSE,
    SM_SRC_SCHOOL,
    SM_SRC_PART_TIME,
    SM_SRC_QUALIFICATION,
    SM_SRC_SELF_STUDY_EXAM,
    SM_SRC_INTANGIBLE_HERITAGE,
    SM_SRC_MOOC,
    SM_SRC_WORK_EXPERIENCE,
    SM_SRC_OTHER,
    SM_SRC__COUNT
};

enum sm_class { SM_CLASS_MAJOR, SM_CLASS_GENERAL, SM_CLASS_ELECTIVE };

/* Parsers of the enumerated str values; -1 when not one of them. */
int sm_role_parse(const msgpack_object *o);    /* an sm_role bit */
int sm_source_parse(const msgpack_object *o);  /* enum sm_source */
int sm_class_parse(const msgpack_object *o);   /* enum sm_class */
const char *sm_role_name(unsigned bit);
const char *sm_source_name(int s);
const char *sm_class_name(int c);
/* "YYYYQn" -> year * 4 + (n - 1); -1 when malformed. */
int sm_term_parse(const msgpack_object *o);
/* Writes "YYYYQn" for a parsed term into out[7]. */
void sm_term_format(char out[7], int term);

/* ---- records ---- */

/* meta: the ledger head, read at batch start, written at batch end. */
struct sm_meta {
    uint32_t version;             /* 1 */
    uint8_t has_genesis;
    uint8_t has_seal;
    uint8_t has_final;
    uint8_t pad0;
    uint64_t applied_seq;
    uint8_t ledger_id[32];
    uint64_t size;                /* log size */
    uint64_t accounts;            /* accounts opened (next number) */
    uint64_t governance;          /* governance entries */
    uint8_t governance_chain[32];
    uint64_t members;             /* members in force */
    uint64_t governance_quorum;   /* as set in genesis (0: default) */
    uint64_t cosign_quorum;       /* as set in genesis (0: default) */
    uint64_t since_seal;          /* non-seal/cosign entries since last seal */
    uint64_t last_seal;           /* index of the newest seal */
    uint64_t last_seal_ts;
    uint64_t final_seal;          /* index of the newest final seal */
    char origin[256];             /* checkpoint origin */
};

/* keys: every key ever used in the ledger, pk (32) -> struct sm_key. */
enum sm_key_kind { SM_KEY_ISSUER = 1, SM_KEY_NODE = 2, SM_KEY_LEARNER = 3 };
struct sm_key {
    uint8_t kind;                 /* enum sm_key_kind */
    uint8_t in_force;             /* 0 once rotated out, removed, rekeyed */
    uint8_t pad[6];
    char member[SM_NAME_CAP];     /* owner member (issuer, node keys) */
    uint8_t account[32];          /* owner account (learner keys) */
};

/* members: name -> struct sm_member (removed members stay, in_force 0). */
struct sm_member {
    char name[SM_NAME_CAP];
    uint8_t in_force;
    uint8_t pad[2];
    uint32_t roles;               /* enum sm_role bits */
    uint8_t node[32];             /* node key in force */
    uint32_t nissuers;
    uint8_t issuers[SM_MAX_ISSUERS][32]; /* issuer keys in force */
};

/* accounts: account id -> account record. */
struct sm_account {
    uint64_t number;              /* position in the account tree */
    uint8_t status;               /* 0 open, 1 cancelled */
    uint8_t fee_exempt;
    uint8_t pad[6];
    uint8_t learner[32];          /* learner key in force */
    uint64_t count;               /* entries of the account */
    uint8_t chain[32];            /* chain over them (DESIGN 3.3) */
    uint64_t fees;                /* fees assessed in total */
    uint64_t linked_credits;      /* T: credits of linked recognitions */
    uint64_t awards;              /* degree.award entries */
    uint64_t links;               /* degree.link entries */
    uint64_t open_index;          /* index of account.open */
    char registrar[SM_NAME_CAP];  /* member that opened it */
    char degree[SM_STR_CAP];      /* current program */
    char major[SM_STR_CAP];
};

/* items: account (32) || entry id (32) -> struct sm_item. Deposits,
 * recognitions and appeals of the account, keyed by their entry's id. */
enum sm_item_kind { SM_ITEM_DEPOSIT = 1, SM_ITEM_RECOG = 2, SM_ITEM_APPEAL = 3 };
enum sm_recog_status { SM_RECOG_ACTIVE = 0, SM_RECOG_CANCELLED = 1 };
enum sm_appeal_status {
    SM_APPEAL_OPEN = 0,
    SM_APPEAL_UPHELD = 1,
    SM_APPEAL_REJECTED = 2
};
struct sm_item {
    uint8_t kind;                 /* enum sm_item_kind */
    uint8_t status;               /* recognition or appeal status */
    uint8_t source;               /* enum sm_source (deposit, recognition) */
    uint8_t cls;                  /* enum sm_class (recognition) */
    uint8_t compatible;           /* deposit flag (copied to recognition) */
    uint8_t has_attendance;
    uint8_t grade;
    uint8_t attendance;
    uint8_t linked;               /* recognition linked by degree.link */
    uint8_t appeal_open;          /* recognition has an open appeal */
    uint8_t pad[2];
    int32_t term;                 /* sm_term_parse value */
    uint64_t credits;             /* deposit: deposited; recognition: now */
    uint64_t deposit_credits;     /* recognition: the deposit's credits */
    uint64_t index;               /* log index of the item's entry */
    uint64_t closed_index;        /* cancelling / deciding entry's index */
    uint64_t recognitions;        /* deposit: recognitions so far */
    uint8_t ref[32];              /* recognition: deposit id;
                                     appeal: recognition id;
                                     deposit: active recognition id */
    uint8_t ref2[32];             /* recognition: open appeal id */
    char member[SM_NAME_CAP];     /* author's member (provider, recognizer,
                                     registrar) */
};

/* ---- the ledger object ---- */
#define SM_SPARE_PREPS 3
struct lg_pool;

struct lg_ledger {
    MDB_env *env;
    struct lg_log log;
    MDB_dbi meta;      /* "meta": "head" -> struct sm_meta */
    MDB_dbi keys;      /* "keys" */
    MDB_dbi members;   /* "members" */
    MDB_dbi policies;  /* "policies": scope -> canonical policy map */
    MDB_dbi accounts;  /* "accounts" */
    MDB_dbi accnum;    /* "accounts.num": number (8 BE) -> account id */
    MDB_dbi acctree;   /* "accounts.tree": level (1) || index (8 BE) -> 32 */
    MDB_dbi items;     /* "items" */
    MDB_dbi acctents;  /* "accounts.entries": account || seq (8 BE) ->
                          index (8 LE) || fee (8 LE) */
    MDB_dbi seals;     /* "seals": seal index (8 BE) -> struct sm_seal */
    MDB_dbi govidx;    /* "governance": ordinal (8 BE) -> log index (8 LE)
                          of every governance entry, in log order */
    bool partial;
    struct lg_pool *pool;
    /* Leaf hashes of signed entries whose signatures lg_check verified,
     * direct-mapped by the hash's first bytes (SM_VCACHE slots): apply does
     * not verify those bytes again, which saves the leader one Ed25519
     * verification per signature. Verification is a function of the bytes
     * alone, so no outcome changes; a slot is overwritten, never trusted
     * for other bytes (the full 32 bytes must match). */
    pthread_mutex_t vmu;
    uint8_t (*vcache)[32];
    /* Prepared batches' memory kept for the next ones (under vmu): their
     * decoders keep their first msgpack chunk, so steady-state apply does
     * not malloc per entry. */
    struct lg_prep *spare[SM_SPARE_PREPS];
};
#define SM_VCACHE 8192

/* seals: index (8 BE) -> struct sm_seal followed by nmembers sm_seal_member.
 * The members in force at the seal, with their node keys then, decide which
 * cosigns count, whatever happens to membership later. */
struct sm_seal_member {
    char name[SM_NAME_CAP];
    uint8_t node[32];
    uint8_t cosigned;             /* 1 once its cosign was applied */
    uint8_t pad[2];
    uint32_t order;               /* 1-based order of its cosign */
    uint64_t cosign_index;        /* log index of its cosign entry */
    uint8_t sig[64];              /* its signature over the note body */
};
struct sm_seal {
    uint8_t id[32];               /* the seal's entry id */
    uint64_t ts;
    uint8_t root[32];             /* tree hash of size + 1 leaves */
    uint32_t cosign_quorum;       /* effective, at the seal */
    uint32_t nmembers;
    uint32_t ncosigns;
    uint8_t final;
    uint8_t pad[3];
    struct sm_seal_member m[];
};

/* ---- the per-entry context ---- */
struct sm_ctx {
    struct lg_ledger *l;
    MDB_txn *txn;                 /* the entry's nested write txn */
    struct sm_meta *meta;         /* in-memory head (restored on refusal) */
    const struct lg_signed *s;
    const struct lg_entry *e;
    uint64_t index;               /* the index this entry will get */
    uint8_t leaf_hash[32];        /* SHA-256(0x00 || signed entry bytes) */
    struct cb_err *err;

    /* Set by sm_author(): the author's key record and member. */
    struct sm_key author;
    struct sm_member member;      /* author's member (issuer or node key) */

    /* The account the entry names (or opens): loaded by the loop before
     * dispatch for account types (checked open), and by the account.open
     * handler; the loop adds count/chain/fee and writes it back. */
    bool has_acct;
    uint8_t acct_id[32];
    struct sm_account acct;

    uint64_t fee;                 /* fee the handler assessed */
    bool used[LG_MAX_SIGS];       /* signatures accounted for */

    /* account numbers whose leaves changed in this batch (owned by loop) */
    uint64_t **dirty;
    size_t *ndirty, *dirty_cap;
};

/* Empties every database of l (a scratch ledger: the bundle verifier's
 * replay), leaving it as lg_ledger_open makes a new one. */
int sm_ledger_reset(struct lg_ledger *l);

/* Applies one decoded, signature-checked entry (dispatch by type). */
int sm_apply_one(struct sm_ctx *c);

/* Handlers, one per type. Each validates, then writes. */
int sm_genesis(struct sm_ctx *c);
int sm_member_add(struct sm_ctx *c);
int sm_member_update(struct sm_ctx *c);
int sm_member_remove(struct sm_ctx *c);
int sm_key_rotate(struct sm_ctx *c);
int sm_policy_set(struct sm_ctx *c);
int sm_account_open(struct sm_ctx *c);
int sm_account_rekey(struct sm_ctx *c);
int sm_outcome_deposit(struct sm_ctx *c);
int sm_credit_recognize(struct sm_ctx *c);
int sm_program_change(struct sm_ctx *c);
int sm_degree_award(struct sm_ctx *c);
int sm_degree_link(struct sm_ctx *c);
int sm_appeal_file(struct sm_ctx *c);
int sm_appeal_decide(struct sm_ctx *c);
int sm_credit_cancel(struct sm_ctx *c);
int sm_account_cancel(struct sm_ctx *c);
int sm_class_change(struct sm_ctx *c);
int sm_seal(struct sm_ctx *c);
int sm_cosign(struct sm_ctx *c);

/* ---- authority and signers (auth.c) ---- */

/* Checks that the author is an issuer key in force of a member in force
 * holding one of the roles in `roles` (0: any role), filling c->author and
 * c->member. CB_EAUTHOR otherwise. Marks the author's signature used. */
int sm_author_issuer(struct sm_ctx *c, uint32_t roles);
/* Same for a node key in force of a member in force. */
int sm_author_node(struct sm_ctx *c);
/* Requires pk among the signers and marks it used; CB_EMISSINGSIG naming
 * `what` ("learner", "new key") otherwise. */
int sm_sig_require(struct sm_ctx *c, const uint8_t pk[32], const char *what);
/* Marks pk used if present; true when it was. */
bool sm_sig_allow(struct sm_ctx *c, const uint8_t pk[32]);
/* Counts distinct members in force whose issuer keys signed (the author's
 * member included), marking those signatures used; CB_EQUORUM when fewer
 * than the governance quorum. */
int sm_quorum(struct sm_ctx *c);
/* CB_ESIGNER when a signature was not accounted for by the handler. */
int sm_sig_all_used(struct sm_ctx *c);

/* ---- keys and members (auth.c) ---- */
/* CB_ENOTFOUND when pk was never used. */
int sm_key_get(struct sm_ctx *c, const uint8_t pk[32], struct sm_key *k);
int sm_key_put(struct sm_ctx *c, const uint8_t pk[32], const struct sm_key *k);
/* 0 when pk is unused and a valid key (cy_pk_check); CB_EKEYUSED or
 * CB_EBADKEY (message naming `what`) otherwise. */
int sm_key_fresh(struct sm_ctx *c, const uint8_t pk[32], const char *what);
/* CB_EMEMBER when name was never a member. */
int sm_member_get(struct sm_ctx *c, const char *name, struct sm_member *m);
int sm_member_put(struct sm_ctx *c, const struct sm_member *m);
/* Effective quorums for n members in force: 0 means the default. */
uint64_t sm_gov_quorum(const struct sm_meta *m, uint64_t n);
uint64_t sm_cosign_quorum(const struct sm_meta *m, uint64_t n);
/* CB_EQUORUMBOUNDS unless n >= 1 and both quorums satisfy n/2 < q <= n. */
int sm_quorum_bounds(struct sm_ctx *c, uint64_t n);
/* Decodes and checks a member map ({issuers, name, node, roles}) into m
 * (in_force set); where names it in messages. */
int sm_member_decode(struct sm_ctx *c, const msgpack_object *o,
                     struct sm_member *m, const char *where);

/* ---- policy (policy.c) ---- */
struct sm_source_policy {
    bool has_min_grade, has_min_attendance, has_max_credits;
    bool has_learner_revocable, has_appealable;
    uint64_t min_grade, min_attendance, max_credits;
    bool learner_revocable;       /* default true */
    bool appealable;              /* default false */
};
struct sm_policy {
    char currency[SM_STR_CAP];
    bool has_account_open, has_per_credit, has_link_free_credits;
    uint64_t account_open, per_credit, link_free_credits;
    struct sm_source_policy sources[SM_SRC__COUNT];
    bool has_seal_interval_ms;
    uint64_t seal_interval_ms;
};
struct sm_degree {
    uint64_t total, major, general;
};
/* Checks a policy map: star selects the rules of the `*` scope (all fields
 * required, currency allowed) versus a member scope (any subset, no
 * currency). CB_EPOLICY with a message naming the field. */
int sm_policy_validate(const msgpack_object *o, bool star,
                       struct cb_err *err);
/* The effective policy of member (the * policy overlaid field by field with
 * the member's, as stored now; a removed member's policy still counts). */
int sm_policy_effective(struct sm_ctx *c, const char *member,
                        struct sm_policy *p);
/* The effective requirements of degree for member; CB_EDEGREE if the
 * degree is in neither policy. */
int sm_policy_degree(struct sm_ctx *c, const char *member, const char *degree,
                     size_t len, struct sm_degree *d);
/* Stores a scope's canonical policy bytes. */
int sm_policy_put(struct sm_ctx *c, const char *scope, size_t scope_len,
                  const uint8_t *p, size_t len);
/* Effective policy outside an entry (views, the leader's seal timer). */
int sm_policy_effective_txn(struct lg_ledger *l, MDB_txn *txn,
                            const char *member, struct sm_policy *p);

/* ---- accounts and items (store.c) ---- */
int sm_account_get(struct lg_ledger *l, MDB_txn *txn, const uint8_t id[32],
                   struct sm_account *a); /* CB_ENOTFOUND */
int sm_account_put(struct lg_ledger *l, MDB_txn *txn, const uint8_t id[32],
                   const struct sm_account *a);
/* Registers a new account: number = meta->accounts++, accnum row, dirty
 * mark. Leaves c->acct for the handler to fill (the loop writes it). */
int sm_account_create(struct sm_ctx *c, const uint8_t id[32]);
/* Marks account number n's leaf as changed in this batch. */
int sm_dirty(struct sm_ctx *c, uint64_t number);
/* The item of account id `ref`; CB_EREF (message naming `what`) if the
 * account has no such item or it is of another kind. */
int sm_item_get(struct sm_ctx *c, const uint8_t ref[32],
                enum sm_item_kind kind, struct sm_item *it, const char *what);
int sm_item_put(struct sm_ctx *c, const uint8_t id[32],
                const struct sm_item *it);
/* Calls fn for every item of account (in id order); stops at non-zero. */
int sm_items_each(struct lg_ledger *l, MDB_txn *txn, const uint8_t acct[32],
                  int (*fn)(void *ctx, const uint8_t id[32],
                            const struct sm_item *it),
                  void *ctx);
/* Generic record get/put over a dbi with a raw key. */
int sm_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
           void *val, size_t vlen, size_t *got);
int sm_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
           const void *val, size_t vlen);

/* ---- body helpers (ledger.c) ---- */
/* lg_fields on the entry's body, messages prefixed "body". */
int sm_body(struct sm_ctx *c, const struct lg_field *f, size_t n);
/* CB_EREF unless the entry has exactly n refs (n == SIZE_MAX: any), none
 * repeated. */
int sm_refs(struct sm_ctx *c, size_t n);
/* Refusal helper: records a formatted message and returns code. */
#define SM_FAIL(c, code, ...) cb_errf((c)->err, (code), __VA_ARGS__)

/* ---- account tree and seals (seal.c) ---- */
/* Recomputes the account tree for the dirty account numbers. */
int sm_acctree_flush(struct lg_ledger *l, MDB_txn *txn, const struct sm_meta *m,
                     uint64_t *dirty, size_t ndirty);
/* Root of the account tree of m->accounts leaves. */
int sm_acctree_root(struct lg_ledger *l, MDB_txn *txn, uint64_t accounts,
                    uint8_t out[32]);
/* The 73-byte account leaf (DESIGN 3.3). */
void sm_account_leaf(uint8_t out[73], const uint8_t id[32],
                     const struct sm_account *a);

#endif
