/*
 * credbank error codes: one table for every module.
 *
 * Every fallible function returns int: 0 on success, or one of the negative
 * CB_E* codes below. Each code has a stable snake_case name (the "error" field
 * of API responses, the reason printed by the CLI), the HTTP status the API
 * answers with, and a default message. Names never change once released;
 * spec/errors.md lists them all.
 *
 * Functions that can say more take a `struct cb_err *` and fill its message
 * with context ("body.credits: expected uint"); it may be NULL.
 */
#ifndef CREDBANK_ERRORS_H
#define CREDBANK_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

/* X(ENUM, "name", http_status, "default message") */
#define CB_ERRORS(X)                                                          \
    /* general */                                                             \
    X(NOMEM, "out_of_memory", 500, "out of memory")                           \
    X(IO, "io_error", 500, "input/output error")                              \
    X(FULL, "storage_full", 507, "storage is full")                           \
    X(CORRUPT, "store_corrupt", 500, "stored data is corrupt")                \
    X(INVAL, "invalid_argument", 400, "invalid argument")                     \
    X(NOTFOUND, "not_found", 404, "not found")                                \
    X(RANGE, "out_of_range", 400, "index or size out of range")               \
    X(USAGE, "usage", 400, "usage error")                                     \
    X(EXISTS, "exists", 409, "already exists")                                \
    X(INTERNAL, "internal", 500, "internal error")                            \
    /* decoding (400) */                                                      \
    X(MSGPACK, "malformed_msgpack", 400, "not valid MessagePack")             \
    X(NONCANON, "not_canonical", 400, "MessagePack not in canonical form")    \
    X(TRAILING, "trailing_bytes", 400, "trailing bytes after value")          \
    X(TYPE, "wrong_type", 400, "value has the wrong type")                    \
    X(UNKNOWNKEY, "unknown_key", 400, "map has an unknown key")               \
    X(MISSINGKEY, "missing_key", 400, "map lacks a required key")             \
    X(KEYORDER, "key_order", 400, "map keys not sorted or repeated")          \
    X(TOOBIG, "too_large", 400, "value exceeds its size limit")               \
    X(TOODEEP, "too_deep", 400, "nesting too deep")                           \
    X(UTF8, "bad_utf8", 400, "text is not valid UTF-8")                       \
    X(VALUE, "bad_value", 400, "value out of its allowed range")              \
    X(VERSION, "unsupported_version", 400, "unsupported format version")      \
    X(BADTYPE, "unknown_type", 400, "unknown entry type")                     \
    X(SIGORDER, "signature_order", 400,                                       \
      "signatures not author first then sorted by key, or a key twice")       \
    X(JSON, "malformed_json", 400, "not valid JSON for this request")         \
    X(BODYSIZE, "body_too_large", 413, "request body exceeds the limit")      \
    /* authority (403) */                                                     \
    X(BADSIG, "bad_signature", 403, "a signature does not verify")            \
    X(BADKEY, "bad_key", 403, "key is not a canonical Ed25519 public key")    \
    X(SIGNER, "signer_not_allowed", 403, "a signer is not allowed here")      \
    X(MISSINGSIG, "missing_signature", 403, "a required signature is absent") \
    X(AUTHOR, "author_not_authorised", 403,                                   \
      "author is not a key in force with the needed role")                    \
    X(QUORUM, "quorum_not_met", 403, "too few members signed")                \
    X(LEDGER, "wrong_ledger", 403, "entry belongs to another ledger")         \
    /* rules (409) */                                                         \
    X(DUPLICATE, "duplicate_entry", 409, "entry is already in the log")       \
    X(GENESIS, "genesis_position", 409, "genesis must be entry 0 only")       \
    X(QUORUMBOUNDS, "quorum_invalid", 409,                                    \
      "quorums would leave n/2 < q <= n")                                     \
    X(NAMEUSED, "name_used", 409, "member name already used")                 \
    X(KEYUSED, "key_used", 409, "key already used in this ledger")            \
    X(MEMBER, "member_unknown", 409, "no such member in force")               \
    X(KEYSTATE, "key_not_in_force", 409, "key is not in force for that use")  \
    X(POLICY, "policy_invalid", 409, "policy is invalid")                     \
    X(SCOPE, "scope_invalid", 409, "policy scope is not allowed")             \
    X(ACCOUNT, "account_unknown", 409, "no such account")                     \
    X(CLOSED, "account_cancelled", 409, "account is cancelled")               \
    X(REF, "ref_invalid", 409, "a ref does not name a fitting entry")         \
    X(RECOGNIZED, "already_recognized", 409,                                  \
      "deposit already has an active recognition")                            \
    X(CREDITS, "credits_exceed_deposit", 409,                                 \
      "credits exceed the deposited credits")                                 \
    X(THRESHOLD, "below_threshold", 409, "grade or attendance below policy")  \
    X(CAP, "cap_exceeded", 409, "credit cap of this source exceeded")         \
    X(INACTIVE, "recognition_inactive", 409, "recognition is not active")     \
    X(REVOCABLE, "not_learner_revocable", 409,                                \
      "source is not revocable at the learner's request")                     \
    X(DEGREE, "degree_unknown", 409, "degree not in policy")                  \
    X(REQUIREMENTS, "requirements_unmet", 409,                                \
      "active credits below the degree's requirements")                       \
    X(NOAWARD, "no_award", 409, "no prior degree award in this account")      \
    X(LINKED, "already_linked", 409, "recognition was linked before")         \
    X(APPEALABLE, "not_appealable", 409, "source is not appealable")          \
    X(SAMETERM, "same_term", 409,                                             \
      "appeal in the same term as the recognition")                           \
    X(APPEALOPEN, "appeal_open", 409, "an appeal on it is already open")      \
    X(APPEALCLOSED, "appeal_closed", 409, "appeal is not open")               \
    X(COMPATIBLE, "not_compatible", 409, "deposit is not flagged compatible") \
    X(SAMECLASS, "class_unchanged", 409, "class is the same")                 \
    X(CLASS, "class_invalid", 409,                                            \
      "class change only between major and general")                         \
    X(SEAL, "seal_mismatch", 409, "seal body differs from the computed one")  \
    X(SEALEMPTY, "seal_empty", 409, "no entry since the previous seal")       \
    X(SEALTIME, "seal_time", 409, "seal ts below the previous seal's")        \
    X(COSIGN, "cosign_invalid", 409, "cosign does not verify or fit")         \
    X(COSIGNDUP, "cosign_duplicate", 409, "member already cosigned it")       \
    /* node (5xx and others) */                                               \
    X(NOTLEADER, "not_leader", 503, "this node is not the leader")            \
    X(UNAVAILABLE, "unavailable", 503, "service unavailable")                 \
    X(TIMEOUT, "timeout", 504, "not final in time")                           \
    X(DIVERGED, "diverged", 503, "node diverged from the quorum")             \
    X(METHOD, "method_not_allowed", 405, "method not allowed")                \
    X(MEDIA, "unsupported_media_type", 415, "unsupported content type")       \
    X(SHUTDOWN, "shutting_down", 503, "node is shutting down")               \
    /* bundles (DESIGN 3.5; the reason is in struct lg_bundle_result) */      \
    X(BUNDLE, "bundle_invalid", 422, "bundle does not verify")              \
    X(NOTFINAL, "no_final_checkpoint", 409, "no final checkpoint yet")     \
    /* request authentication (spec/security.md) */                          \
    X(UNAUTH, "unauthenticated", 401,                                         \
      "the request needs a valid signature by a known key")                  \
    X(SIGEXPIRED, "signature_expired", 401,                                   \
      "request signature outside its time window")                           \
    X(REPLAYED, "replayed", 401, "request signature was used before")         \
    X(FORBIDDEN, "forbidden", 403, "this key may not read that")

enum cb_error {
    CB_OK = 0,
    CB__FIRST = -1000,
#define CB__ENUM(e, n, h, m) CB_E##e,
    CB_ERRORS(CB__ENUM)
#undef CB__ENUM
    CB__LAST
};

/* Context for an error: the code and a message naming what was wrong. */
struct cb_err {
    int code;
    char msg[256];
};

/* Stable name of a code ("bad_signature"); "unknown_error" if not a code. */
const char *cb_errname(int code);
/* Default message of a code. */
const char *cb_strerror(int code);
/* HTTP status the API answers a code with (500 if unknown). */
int cb_errhttp(int code);
/* Looks a name up; returns its code, or 0 if unknown. */
int cb_errcode(const char *name);

/*
 * Records code and a printf-style message in err (if not NULL) and returns
 * code, so callers write `return cb_errf(err, CB_ETYPE, "%s: expected uint",
 * field);`.
 */
int cb_errf(struct cb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to err's message (for layers adding context). */
int cb_errwrap(struct cb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* err's message, or the code's default message when none was recorded. */
const char *cb_errmsg(const struct cb_err *err);

#endif
