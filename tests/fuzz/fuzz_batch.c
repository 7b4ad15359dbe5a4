/*
 * libFuzzer target for the Raft batch reader (lg_batch_decode).
 *
 * Invariants beyond "no crash, no leak, no UB": every accepted input has a
 * length that is a multiple of 8, its entries lie inside the input in order,
 * and lg_batch_encode of the entries gives back exactly the input bytes
 * (one encoding per batch).
 *
 * Run: fuzz_batch -max_total_time=60 tests/fuzz/corpus/batch
 */
#include <stdlib.h>
#include <string.h>

#include <credbank/batch.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lg_buf *e = NULL;
    size_t n = 0;
    struct cb_err err = {0, ""};
    int rv = lg_batch_decode(data, size, &e, &n, &err);
    if (rv != 0) {
        if (e != NULL || n != 0)
            abort();
        return 0;
    }
    if (size % 8 != 0 || n == 0)
        abort();
    const uint8_t *prev = data;
    for (size_t i = 0; i < n; i++) {
        if (e[i].p < prev || e[i].p + e[i].len > data + size)
            abort();
        prev = e[i].p + e[i].len;
    }
    struct lg_w w;
    lg_w_init(&w);
    if (lg_batch_encode(&w, e, n) != 0 || lg_w_len(&w) != size ||
        memcmp(lg_w_data(&w), data, size) != 0)
        abort();
    lg_w_release(&w);
    free(e);
    return 0;
}
