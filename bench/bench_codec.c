/*
 * bench_codec: canonical MessagePack encode and strict decode of a typical
 * entry -- the 9-key entry map (three bin 32, a bin 16 nonce, a ref) with an
 * 8-key outcome.deposit body -- written with struct lg_w directly, so the
 * figures are the codec's alone.
 *
 * Each row runs for about 1.5 s. Rates are per core: operations divided by
 * the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy machine does not
 * make the codec look slow; the wall-clock rate is shown beside it.
 *
 * A fourth row decodes the same entry signed (lg_signed_decode: the
 * envelope, the strict decode of the entry and its id, SHA-256 of the
 * entry bytes; signatures are not checked), the path every entry takes
 * before its signatures are verified.
 *
 * Prints a markdown table: measure | value | target | met.
 *
 * Usage: bench_codec [seconds-per-row]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_key(struct lg_w *w, const char *k)
{
    lg_w_cstr(w, k);
}

/* The entry's author: the bench key's public key (set in main). */
static uint8_t author[32] = {2};

/* Keys in canonical order (memcmp of their bytes), as callers must. */
static void encode_entry(struct lg_w *w, uint64_t ts)
{
    static const uint8_t account[32] = {1}, ledger[32] = {3},
                         ref[32] = {4}, nonce[16] = {5};
    lg_w_map(w, 9);
    put_key(w, "account");
    lg_w_bin(w, account, 32);
    put_key(w, "author");
    lg_w_bin(w, author, 32);
    put_key(w, "body");
    lg_w_map(w, 8);
    put_key(w, "attendance");
    lg_w_uint(w, 92);
    put_key(w, "class");
    lg_w_cstr(w, "major");
    put_key(w, "compatible");
    lg_w_bool(w, true);
    put_key(w, "course");
    lg_w_cstr(w, "CS101 Introduction to programming (K-MOOC)");
    put_key(w, "credits");
    lg_w_uint(w, 3);
    put_key(w, "grade");
    lg_w_uint(w, 88);
    put_key(w, "source");
    lg_w_cstr(w, "mooc");
    put_key(w, "term");
    lg_w_cstr(w, "2024Q3");
    put_key(w, "ledger");
    lg_w_bin(w, ledger, 32);
    put_key(w, "nonce");
    lg_w_bin(w, nonce, 16);
    put_key(w, "refs");
    lg_w_array(w, 1);
    lg_w_bin(w, ref, 32);
    put_key(w, "ts");
    lg_w_uint(w, ts);
    put_key(w, "type");
    lg_w_cstr(w, "outcome.deposit");
    put_key(w, "v");
    lg_w_uint(w, 1);
}

struct row {
    const char *name;
    double cpu_rate, wall_rate;
};

enum op { OP_ENCODE, OP_DECODE, OP_BOTH, OP_SIGNED };

static int run(enum op op, double secs, const uint8_t *bytes, size_t len,
               struct row *out)
{
    struct lg_w w;
    struct lg_doc doc;
    struct lg_signed sd;
    lg_w_init(&w);
    lg_doc_init(&doc);
    lg_signed_init(&sd);
    uint64_t n = 0, sink = 0;
    int rv = 0;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    double c1 = c0, w1 = w0;
    while (rv == 0 && c1 - c0 < secs) {
        for (int i = 0; i < 2000; i++, n++) {
            if (op == OP_SIGNED) {
                rv |= lg_signed_decode(&sd, bytes, len, NULL);
                sink += sd.e.id[0] + sd.nsigs;
                continue;
            }
            if (op != OP_DECODE) {
                lg_w_reset(&w);
                encode_entry(&w, 1732270000000ull + n);
                sink += lg_w_len(&w);
            }
            if (op == OP_DECODE)
                rv |= lg_decode(&doc, bytes, len, NULL, NULL);
            else if (op == OP_BOTH)
                rv |= lg_decode(&doc, lg_w_data(&w), lg_w_len(&w), NULL, NULL);
            sink += doc.root.via.map.size;
        }
        c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        w1 = clock_s(CLOCK_MONOTONIC);
    }
    rv |= lg_w_error(&w);
    out->cpu_rate = (double)n / (c1 - c0);
    out->wall_rate = (double)n / (w1 - w0);
    lg_w_release(&w);
    lg_doc_release(&doc);
    lg_signed_release(&sd);
    if (sink == 0)
        rv = -1;
    return rv;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.5;
    if (secs <= 0)
        secs = 1.5;
    /* the author key, so that the signed row's envelope is valid */
    struct cy_key k;
    uint8_t seed[32] = {9}, sig[64];
    if (cy_init() != 0 || cy_key_from_seed(&k, "bench", seed) != 0)
        return 1;
    memcpy(author, k.pk, 32);
    struct lg_w w;
    lg_w_init(&w);
    encode_entry(&w, 1732270000000ull);
    size_t len = lg_w_len(&w);
    uint8_t *bytes = malloc(len);
    if (bytes == NULL || lg_w_error(&w) != 0)
        return 1;
    memcpy(bytes, lg_w_data(&w), len);
    lg_w_release(&w);

    /* The entry must itself be canonical, or the figures mean nothing. */
    struct lg_doc doc;
    struct cb_err err = {0, ""};
    lg_doc_init(&doc);
    if (lg_decode(&doc, bytes, len, NULL, &err) != 0) {
        fprintf(stderr, "bench entry not canonical: %s\n", err.msg);
        return 1;
    }
    lg_doc_release(&doc);

    /* the same entry, signed by its author */
    struct lg_w sw;
    lg_entry_sign(sig, bytes, len, &k);
    struct lg_sig sg = {k.pk, sig};
    lg_w_init(&sw);
    if (lg_signed_encode(&sw, bytes, len, k.pk, &sg, 1) != 0 ||
        lg_w_error(&sw) != 0) {
        fprintf(stderr, "cannot build the signed entry\n");
        return 1;
    }
    struct lg_signed sd;
    lg_signed_init(&sd);
    int sv = lg_signed_decode(&sd, lg_w_data(&sw), lg_w_len(&sw), &err);
    lg_signed_release(&sd);

    struct row rows[] = {
        {"canonical encode", 0, 0},
        {"strict decode", 0, 0},
        {"encode + strict decode", 0, 0},
        {"signed entry decode (lg_signed_decode, no signature check)", 0, 0},
    };
    int nrows = sv == 0 ? 4 : 3;
    if (sv != 0)
        fprintf(stderr, "signed-entry row skipped: %s\n", err.msg);
    for (int i = 0; i < nrows; i++) {
        const uint8_t *b = i == 3 ? lg_w_data(&sw) : bytes;
        size_t bl = i == 3 ? lg_w_len(&sw) : len;
        if (run((enum op)i, secs, b, bl, &rows[i]) != 0) {
            fprintf(stderr, "%s failed\n", rows[i].name);
            return 1;
        }
    }
    printf("bench_codec: typical entry %zu bytes (9-key map, 8-key body, "
           "4 bin 32, 1 bin 16), signed %zu bytes; rates per core (thread "
           "CPU time), wall clock in brackets\n\n",
           len, lg_w_len(&sw));
    printf("| measure | value | target | met |\n|---|---|---|---|\n");
    for (int i = 0; i < nrows; i++) {
        int t = i == 2;
        printf("| codec: %s | %.0f/s per core (wall %.0f/s) | %s | %s |\n",
               rows[i].name, rows[i].cpu_rate, rows[i].wall_rate,
               t ? ">= 1,000,000/s" : "-",
               !t ? "-" : rows[i].cpu_rate >= 1e6 ? "met" : "missed");
    }
    lg_w_release(&sw);
    cy_key_wipe(&k);
    free(bytes);
    return 0;
}
