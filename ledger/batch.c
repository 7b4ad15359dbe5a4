/*
 * Batches: a canonical array of bin, zero-padded to a multiple of 8 bytes.
 * See include/credbank/batch.h for why the padding exists. The reader is a
 * few lines of hand parsing because the format is two MessagePack forms
 * (array header, bin) and zero-copy matters on the apply path.
 */
#include <stdlib.h>
#include <string.h>

#include <credbank/batch.h>

int lg_batch_encode(struct lg_w *w, const struct lg_buf *e, size_t n)
{
    if (n == 0 || n > LG_BATCH_MAX_ENTRIES)
        return CB_EINVAL;
    size_t start = lg_w_len(w);
    lg_w_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        lg_w_bin(w, e[i].p, e[i].len);
    static const uint8_t zero[8];
    size_t pad = (8 - (lg_w_len(w) - start) % 8) % 8;
    if (pad > 0)
        lg_w_raw(w, zero, pad);
    return lg_w_error(w);
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

int lg_batch_decode(const uint8_t *p, size_t len, struct lg_buf **out,
                    size_t *n, struct cb_err *err)
{
    *out = NULL;
    *n = 0;
    if (len == 0)
        return cb_errf(err, CB_EMSGPACK, "batch: empty");
    size_t off = 1, count;
    uint8_t h = p[0];
    if (h >= 0x90 && h <= 0x9f) {
        count = h & 0x0f;
    } else if (h == 0xdc) {
        if (len < 3)
            return cb_errf(err, CB_EMSGPACK, "batch: truncated header");
        count = be16(p + 1);
        off = 3;
        if (count < 16)
            return cb_errf(err, CB_ENONCANON, "batch: array16 for %zu",
                           count);
    } else if (h == 0xdd) {
        if (len < 5)
            return cb_errf(err, CB_EMSGPACK, "batch: truncated header");
        count = be32(p + 1);
        off = 5;
        if (count < 65536)
            return cb_errf(err, CB_ENONCANON, "batch: array32 for %zu",
                           count);
    } else {
        return cb_errf(err, CB_ETYPE, "batch: expected an array");
    }
    if (count == 0)
        return cb_errf(err, CB_EINVAL, "batch: no entries");
    if (count > LG_BATCH_MAX_ENTRIES || count > (len - off) / 2)
        return cb_errf(err, count > LG_BATCH_MAX_ENTRIES ? CB_ETOOBIG
                                                         : CB_EMSGPACK,
                       "batch: %zu entries in %zu bytes", count, len);
    struct lg_buf *e = malloc(count * sizeof *e);
    if (e == NULL)
        return CB_ENOMEM;
    int rv = 0;
    for (size_t i = 0; i < count && rv == 0; i++) {
        if (off >= len) {
            rv = cb_errf(err, CB_EMSGPACK, "batch: entry %zu: truncated", i);
            break;
        }
        uint8_t t = p[off];
        size_t hl, bl;
        if (t == 0xc4 && len - off >= 2) {
            hl = 2;
            bl = p[off + 1];
        } else if (t == 0xc5 && len - off >= 3) {
            hl = 3;
            bl = be16(p + off + 1);
            if (bl < 256)
                rv = cb_errf(err, CB_ENONCANON, "batch: entry %zu: bin16",
                             i);
        } else if (t == 0xc6 && len - off >= 5) {
            hl = 5;
            bl = be32(p + off + 1);
            if (bl < 65536)
                rv = cb_errf(err, CB_ENONCANON, "batch: entry %zu: bin32",
                             i);
        } else if (t == 0xc4 || t == 0xc5 || t == 0xc6) {
            rv = cb_errf(err, CB_EMSGPACK, "batch: entry %zu: truncated", i);
            break;
        } else {
            rv = cb_errf(err, CB_ETYPE, "batch: entry %zu: expected bin", i);
            break;
        }
        if (rv != 0)
            break;
        if (bl > len - off - hl) {
            rv = cb_errf(err, CB_EMSGPACK, "batch: entry %zu: truncated", i);
            break;
        }
        e[i].p = p + off + hl;
        e[i].len = bl;
        off += hl + bl;
    }
    if (rv == 0) {
        size_t pad = len - off;
        if (pad >= 8 || len % 8 != 0)
            rv = cb_errf(err, CB_ETRAILING,
                         "batch: %zu bytes after the array (want the zero "
                         "padding to a multiple of 8)", pad);
        for (size_t i = off; rv == 0 && i < len; i++)
            if (p[i] != 0)
                rv = cb_errf(err, CB_ETRAILING,
                             "batch: non-zero byte in the padding");
    }
    if (rv != 0) {
        free(e);
        return rv;
    }
    *out = e;
    *n = count;
    return 0;
}
