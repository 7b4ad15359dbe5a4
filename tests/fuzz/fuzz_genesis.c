/*
 * libFuzzer target for the genesis JSON of `credbank genesis build`
 * (cli_genesis_body, cli/cmd_genesis.c) and what a node then does with the
 * genesis entry (lg_check on an empty ledger: sm_genesis, the policy
 * checks).
 *
 * Input: the JSON text of the consortium file. The seeds
 * (tests/fuzz/corpus/genesis/, made by make_corpus.sh from a demo's
 * genesis.json) name the deterministic keys of fuzzkeys.h, so the target
 * can sign the entry with every key the body introduces and mutations
 * reach the ledger's genesis rules, not only the JSON checks. The author is
 * one of the three issuer keys, chosen by the input's length.
 *
 * Invariants beyond "no crash, no leak, no UB":
 * - cli_genesis_body is deterministic (same input, same bytes) and what it
 *   accepts is canonical MessagePack (lg_decode reads it, lg_w_obj writes
 *   back the same bytes);
 * - lg_check answers every built entry (no batch-level error) with 0 or a
 *   code from errors.h and a NUL-terminated message, and leaves the ledger
 *   empty.
 *
 * CB_FUZZ_DEBUG=1 prints each verdict of the ledger.
 *
 * Run: fuzz_genesis -max_total_time=60 tests/fuzz/corpus/genesis
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "fuzzkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The CLI's error lines, silenced (linked with --wrap). */
int __wrap_cli_fail(const char *ctx, int code, const char *fmt, ...);
int __wrap_cli_fail_err(const char *ctx, int code, const struct cb_err *err);
int __wrap_cli_fail(const char *ctx, int code, const char *fmt, ...)
{
    (void)ctx, (void)code, (void)fmt;
    return CLI_FAIL;
}
int __wrap_cli_fail_err(const char *ctx, int code, const struct cb_err *err)
{
    (void)ctx, (void)code, (void)err;
    return CLI_FAIL;
}

static struct lg_ledger *ledger;
static char dir[64];
static struct lg_doc doc;

static void cleanup(void)
{
    lg_ledger_close(ledger);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

static void init(void)
{
    fk_init();
    snprintf(dir, sizeof dir, "%s/fuzz-genesis-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    struct lg_open_opts o = {.nosync = true, .map_size = (size_t)64 << 20,
                             .verify_threads = 1};
    struct cb_err err = {0, ""};
    if (lg_ledger_open(&ledger, dir, &o, &err) != 0)
        abort();
    atexit(cleanup);
    lg_doc_init(&doc);
}

static bool known_code(int code)
{
    return code == 0 || (code < 0 && cb_errcode(cb_errname(code)) == code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    json_error_t jerr;
    json_t *spec = json_loadb((const char *)data, size, 0, &jerr);
    if (spec == NULL)
        return 0;
    static const int issuers[] = {FK_BANK, FK_UNI, FK_PROV};
    const struct cy_key *author = &fk[issuers[size % 3]];
    struct lg_w body, body2, entry, signd;
    lg_w_init(&body);
    lg_w_init(&body2);
    lg_w_init(&entry);
    lg_w_init(&signd);
    int rv = cli_genesis_body("fuzz", spec, author->pk, &body);
    int rv2 = cli_genesis_body("fuzz", spec, author->pk, &body2);
    json_decref(spec);
    if (rv != rv2 || (rv != CLI_OK && rv != CLI_FAIL))
        abort();
    if (rv != CLI_OK)
        goto out;
    if (lg_w_len(&body) != lg_w_len(&body2) ||
        memcmp(lg_w_data(&body), lg_w_data(&body2), lg_w_len(&body)) != 0)
        abort(); /* deterministic */

    /* canonical MessagePack, a map */
    struct cb_err err = {0, ""};
    if (lg_decode(&doc, lg_w_data(&body), lg_w_len(&body), NULL, &err) != 0 ||
        doc.root.type != MSGPACK_OBJECT_MAP)
        abort();
    struct lg_w re;
    lg_w_init(&re);
    lg_w_obj(&re, &doc.root);
    if (lg_w_error(&re) != 0 || lg_w_len(&re) != lg_w_len(&body) ||
        memcmp(lg_w_data(&re), lg_w_data(&body), lg_w_len(&body)) != 0)
        abort();
    lg_w_release(&re);

    /* the genesis entry, signed by the author and every known key the body
     * names, judged by an empty ledger */
    static const uint8_t nonce[16];
    struct lg_entry_spec es = {
        .type = LG_T_GENESIS,
        .author = author->pk,
        .ts = 1700000000000ull,
        .nonce = nonce,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    if (lg_entry_encode(&entry, &es) != 0 || lg_w_error(&entry) != 0)
        goto out; /* too large for the envelope */
    struct lg_sig sigs[FK__COUNT];
    uint8_t raw[FK__COUNT][64];
    size_t n = 0;
    for (int i = 0; i < FK__COUNT; i++) {
        if (&fk[i] != author &&
            memmem(lg_w_data(&body), lg_w_len(&body), fk[i].pk, 32) == NULL)
            continue;
        fk_sign(raw[n], lg_w_data(&entry), lg_w_len(&entry), i);
        sigs[n].pk = fk[i].pk;
        sigs[n].sig = raw[n];
        n++;
    }
    if (lg_signed_encode(&signd, lg_w_data(&entry), lg_w_len(&entry),
                         author->pk, sigs, n) != 0)
        abort();
    struct lg_result res;
    memset(&res, 0x5a, sizeof res);
    if (lg_check(ledger, lg_w_data(&signd), lg_w_len(&signd), &res) != 0)
        abort();
    if (!known_code(res.code) || memchr(res.msg, 0, sizeof res.msg) == NULL)
        abort();
    if (getenv("CB_FUZZ_DEBUG"))
        fprintf(stderr, "genesis: %zu signatures: %s %s\n", n,
                cb_errname(res.code), res.msg);
    struct lg_status st;
    if (lg_status(ledger, &st) != 0 || st.size != 0 || st.has_genesis)
        abort();
out:
    lg_w_release(&body);
    lg_w_release(&body2);
    lg_w_release(&entry);
    lg_w_release(&signd);
    return 0;
}
