/*
 * HTTP Message Signatures (RFC 9421) with Ed25519: the signature base, and
 * the Signature-Input / Signature fields of one signature.
 *
 * credbank's profile (spec/security.md, "Request signatures") is a strict
 * subset of RFC 9421, so that one text has one meaning:
 *
 *   Signature-Input: LABEL=("c1" "c2" ...);created=N;expires=N;
 *                    nonce="...";keyid="...";alg="ed25519"
 *   Signature:       LABEL=:BASE64:
 *
 *   - exactly one signature (one dictionary member in each field, the same
 *     label); no whitespace inside either value;
 *   - components are lower-case names without parameters; derived ones are
 *     "@method", "@authority", "@path", "@query", "@target-uri"; others name
 *     request header fields;
 *   - parameters created, expires (integers), nonce, keyid, alg, tag
 *     (strings of printable ASCII without '"' or '\'), each at most once,
 *     in any order; no other parameter;
 *   - because only this canonical form parses, the received member value
 *     after "LABEL=" is byte for byte the serialised @signature-params
 *     (RFC 9421, 2.3), and is used as such in the base.
 *
 * The signature base (RFC 9421, 2.5) is one line per covered component,
 * `"name": value` joined by LF, then `"@signature-params": PARAMS`, without
 * a trailing LF. Ed25519 signs the base as is (RFC 9421, 3.3.6).
 *
 * All functions return 0 or a negative CB_E* code: CB_EVALUE for a
 * malformed field, CB_ENOTFOUND for a covered header the message lacks,
 * CB_ETOOBIG when an output does not fit, CB_EBADSIG for a signature that
 * does not verify. The message names the problem when err is not NULL.
 */
#ifndef CREDBANK_HTTPSIG_H
#define CREDBANK_HTTPSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <credbank/crypto.h>
#include <credbank/errors.h>

#define CY_HS_MAX_COMPS 12      /* covered components */
#define CY_HS_NAME_MAX 64       /* a component name, label or parameter */
#define CY_HS_STR_MAX 128       /* a string parameter */
#define CY_HS_PARAMS_MAX 1024   /* serialised @signature-params */
#define CY_HS_INPUT_MAX (CY_HS_NAME_MAX + 2 + CY_HS_PARAMS_MAX)
#define CY_HS_SIG_MAX (CY_HS_NAME_MAX + 4 + 89)  /* LABEL=:b64(64):\0 */
#define CY_HS_BASE_MAX 8192     /* signature base */

/* One signature's metadata: what a signer fills in, what a parse yields. */
struct cy_httpsig {
    char label[CY_HS_NAME_MAX + 1];
    char comps[CY_HS_MAX_COMPS][CY_HS_NAME_MAX + 1]; /* in order */
    size_t ncomps;
    bool has_created, has_expires;
    uint64_t created, expires;          /* Unix seconds */
    char nonce[CY_HS_STR_MAX + 1];      /* "" when absent */
    char keyid[CY_HS_STR_MAX + 1];
    char alg[CY_HS_STR_MAX + 1];
    char tag[CY_HS_STR_MAX + 1];
    char params[CY_HS_PARAMS_MAX + 1];  /* serialised @signature-params */
    uint8_t sig[CY_SIG_LEN];
};

/* The request a base is computed over. Strings are NUL-terminated;
 * headers are (lower-case name, value) pairs, values without leading or
 * trailing whitespace. query is without its '?' ("" when none: the base
 * then reads "?" as RFC 9421 2.2.7 says). */
struct cy_httpsig_msg {
    const char *method;                 /* "GET" */
    const char *authority;              /* "host:port" as in Host */
    const char *scheme;                 /* "http" (for @target-uri) */
    const char *path;                   /* "/v1/accounts/..." */
    const char *query;                  /* "from=0&limit=10" or "" */
    const char *const *hnames;
    const char *const *hvalues;
    size_t nheaders;
};

/* Serialises s's components and parameters into s->params (the order:
 * created, expires, nonce, keyid, alg, tag; absent ones left out). */
int cy_httpsig_params(struct cy_httpsig *s, struct cb_err *err);

/* The signature base of m under s (s->params must be set) into
 * out[cap] (NUL-terminated); *len gets its length. */
int cy_httpsig_base(const struct cy_httpsig *s,
                    const struct cy_httpsig_msg *m, char *out, size_t cap,
                    size_t *len, struct cb_err *err);

/* Signs: serialises the parameters, builds the base, and writes the two
 * field values "LABEL=PARAMS" into input[CY_HS_INPUT_MAX] and
 * "LABEL=:BASE64:" into sig[CY_HS_SIG_MAX]. */
int cy_httpsig_sign(struct cy_httpsig *s, const struct cy_httpsig_msg *m,
                    const struct cy_key *k, char *input, char *sig,
                    struct cb_err *err);

/* Parses the Signature-Input and Signature field values (the profile's
 * form only; ilen/slen their lengths) into s. */
int cy_httpsig_parse(const char *input, size_t ilen, const char *sig,
                     size_t slen, struct cy_httpsig *s, struct cb_err *err);

/* Verifies a parsed signature over m against pk: 0 or CB_EBADSIG (or the
 * base's error). */
int cy_httpsig_verify(const struct cy_httpsig *s,
                      const struct cy_httpsig_msg *m,
                      const uint8_t pk[CY_PK_LEN], struct cb_err *err);

#endif
