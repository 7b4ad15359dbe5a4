/*
 * Entries and signed entries (DESIGN section 3.1).
 *
 * An entry is the canonical map
 *   {account?, author, body, ledger?, nonce, refs, ts, type, v}
 * (keys in canonical order). Its id is SHA-256 of its bytes. A signed entry
 * is the canonical array [entry bytes (bin), [[pk (bin 32), sig (bin 64)],
 * ...]]: the author's signature first, the rest sorted by public key, no key
 * twice. Each signature is Ed25519 over "credbank-entry-v1\n" || entry bytes.
 *
 * Decoding checks the envelope only: canonical form, the entry's keys and
 * their types, v = 1, a known type, `ledger` absent exactly in genesis,
 * `account` present exactly for the account types, and the signature order.
 * Body fields are checked per type by the state machine (ledger/body.c),
 * signatures by lg_signed_verify (kept separate so a node can spread them
 * over worker threads).
 */
#ifndef CREDBANK_ENTRY_H
#define CREDBANK_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/errors.h>

#define LG_SIG_CONTEXT "credbank-entry-v1\n"
#define LG_SIG_CONTEXT_LEN 18
#define LG_MAX_SIGS 128          /* signatures on one entry */
#define LG_MAX_REFS 1024         /* refs of one entry */
#define LG_SIGNED_MAX (1 << 20)  /* bytes of one signed entry */

#define LG_TYPES(X)                                   \
    X(GENESIS, "genesis", 0)                          \
    X(MEMBER_ADD, "member.add", 0)                    \
    X(MEMBER_UPDATE, "member.update", 0)              \
    X(MEMBER_REMOVE, "member.remove", 0)              \
    X(KEY_ROTATE, "key.rotate", 0)                    \
    X(POLICY_SET, "policy.set", 0)                    \
    X(ACCOUNT_OPEN, "account.open", 0)                \
    X(ACCOUNT_REKEY, "account.rekey", 1)              \
    X(OUTCOME_DEPOSIT, "outcome.deposit", 1)          \
    X(CREDIT_RECOGNIZE, "credit.recognize", 1)        \
    X(PROGRAM_CHANGE, "program.change", 1)            \
    X(DEGREE_AWARD, "degree.award", 1)                \
    X(DEGREE_LINK, "degree.link", 1)                  \
    X(APPEAL_FILE, "appeal.file", 1)                  \
    X(APPEAL_DECIDE, "appeal.decide", 1)              \
    X(CREDIT_CANCEL, "credit.cancel", 1)              \
    X(ACCOUNT_CANCEL, "account.cancel", 1)            \
    X(CLASS_CHANGE, "class.change", 1)                \
    X(SEAL, "seal", 0)                                \
    X(COSIGN, "cosign", 0)

enum lg_type {
    LG_T_NONE = 0,
#define LG__TENUM(e, n, a) LG_T_##e,
    LG_TYPES(LG__TENUM)
#undef LG__TENUM
    LG_T__COUNT
};

/* "account.open" for LG_T_ACCOUNT_OPEN; NULL for an unknown value. */
const char *lg_type_name(enum lg_type t);
/* LG_T_NONE when s[len] names no type. */
enum lg_type lg_type_parse(const char *s, size_t len);
/* True for the types whose entries carry `account`. */
bool lg_type_has_account(enum lg_type t);
/* True for genesis, member.*, key.rotate, policy.set (DESIGN 3.3). */
bool lg_type_is_governance(enum lg_type t);

/* What a caller fills to build an entry. */
struct lg_entry_spec {
    const uint8_t *ledger;    /* 32 bytes; NULL only for genesis */
    enum lg_type type;
    const uint8_t *author;    /* 32 bytes */
    uint64_t ts;              /* Unix ms */
    const uint8_t *nonce;     /* 16 bytes; NULL: fresh random */
    const uint8_t *account;   /* 32 bytes; NULL when the type has none */
    const uint8_t (*refs)[32];
    size_t nrefs;
    const uint8_t *body;      /* canonical map bytes */
    size_t body_len;
};

/* Writes the canonical entry map of spec into w (appending). CB_EINVAL if
 * the spec breaks the envelope rules (ledger/account presence). */
int lg_entry_encode(struct lg_w *w, const struct lg_entry_spec *spec);

/* A decoded entry; pointers borrow from the decoded bytes and the doc's zone
 * and live as long as both. */
struct lg_entry {
    const uint8_t *bytes;        /* canonical entry bytes */
    size_t len;
    uint8_t id[32];              /* SHA-256(bytes) */
    enum lg_type type;
    const uint8_t *ledger;       /* NULL in genesis */
    const uint8_t *author;
    uint64_t ts;
    const uint8_t *nonce;
    const uint8_t *account;      /* NULL when absent */
    size_t nrefs;
    const msgpack_object *refs;  /* nrefs bin 32 objects: use lg_entry_ref */
    const msgpack_object *body;  /* a map */
};

static inline const uint8_t *lg_entry_ref(const struct lg_entry *e, size_t i)
{
    return (const uint8_t *)e->refs[i].via.bin.ptr;
}

/* A decoded signed entry. Initialise once, decode many times, release. */
struct lg_sig {
    const uint8_t *pk;   /* 32 bytes */
    const uint8_t *sig;  /* 64 bytes */
};

struct lg_signed {
    const uint8_t *bytes;        /* the signed-entry bytes (the log leaf) */
    size_t len;
    struct lg_entry e;
    size_t nsigs;
    struct lg_sig *sigs;         /* nsigs of them, in outer's zone */
    struct lg_doc outer;         /* owns the array */
    struct lg_doc inner;         /* owns the entry map */
};

void lg_signed_init(struct lg_signed *s);
void lg_signed_release(struct lg_signed *s);

/* Decodes and checks the envelope of a signed entry in buf[len], which must
 * stay alive while s is used. Does not verify signatures. */
int lg_signed_decode(struct lg_signed *s, const uint8_t *buf, size_t len,
                     struct cb_err *err);

/* Verifies every signature; CB_EBADSIG naming the first that fails. Also
 * CB_EMISSINGSIG when the author has not signed first. */
int lg_signed_verify(const struct lg_signed *s, struct cb_err *err);

/* True when pk is among the signers. */
bool lg_signed_has_signer(const struct lg_signed *s, const uint8_t pk[32]);

/* Signs entry bytes with k (the message is LG_SIG_CONTEXT || entry). */
int lg_entry_sign(uint8_t sig[64], const uint8_t *entry, size_t len,
                  const struct cy_key *k);

/* Writes the signed entry [entry, sigs] into w. sigs need not be sorted:
 * the author's (pk equal to the entry's author) goes first, the rest sorted.
 * CB_ESIGORDER if a key repeats, CB_EMISSINGSIG if the author's is absent. */
int lg_signed_encode(struct lg_w *w, const uint8_t *entry, size_t len,
                     const uint8_t author[32], const struct lg_sig *sigs,
                     size_t nsigs);

/* Adds k's signature to a signed entry (co-signing), writing the new signed
 * entry into w. CB_EEXISTS if k has signed already. */
int lg_signed_cosign(struct lg_w *w, const uint8_t *signed_bytes, size_t len,
                     const struct cy_key *k, struct cb_err *err);

/* Human JSON: {"id", "type", "entry": {...}, "sigs": [{"key","sig"}]}. */
struct json_t *lg_signed_json(const struct lg_signed *s);

#endif
