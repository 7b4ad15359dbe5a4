/* ledger/batch.c: the Raft entry framing. The expected array bytes come from
 * python3-msgpack (msgpack.packb([b'abc'], use_bin_type=True) = 91c403616263
 * and so on); the padding rule is ours (include/credbank/batch.h). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <credbank/batch.h>

static size_t unhex(uint8_t *out, const char *h)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static int decode_hex(const char *h, struct lg_buf **e, size_t *n)
{
    uint8_t b[64];
    size_t len = unhex(b, h);
    static uint8_t keep[64];
    memcpy(keep, b, len);
    struct cb_err err = {0, ""};
    return lg_batch_decode(keep, len, e, n, &err);
}

Test(batch, encodes_like_msgpack_then_pads_to_eight)
{
    struct lg_w w;
    lg_w_init(&w);
    struct lg_buf e[2] = {{(const uint8_t *)"abc", 3}};
    cr_assert_eq(lg_batch_encode(&w, e, 1), 0);
    uint8_t want[8];
    unhex(want, "91c4036162630000");
    cr_assert_eq(lg_w_len(&w), 8);
    cr_assert_arr_eq(lg_w_data(&w), want, 8);
    lg_w_reset(&w);
    e[0] = (struct lg_buf){(const uint8_t *)"a", 1};
    e[1] = (struct lg_buf){(const uint8_t *)"bc", 2};
    cr_assert_eq(lg_batch_encode(&w, e, 2), 0);
    unhex(want, "92c40161c4026263"); /* already 8 bytes: no padding */
    cr_assert_eq(lg_w_len(&w), 8);
    cr_assert_arr_eq(lg_w_data(&w), want, 8);
    lg_w_release(&w);
}

Test(batch, every_length_is_a_multiple_of_eight_and_round_trips)
{
    uint8_t data[700];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    for (size_t n = 1; n <= 20; n++) {
        struct lg_buf e[20];
        for (size_t i = 0; i < n; i++)
            e[i] = (struct lg_buf){data + i, (i * 37 + n * 11) % 600};
        struct lg_w w;
        lg_w_init(&w);
        cr_assert_eq(lg_batch_encode(&w, e, n), 0);
        cr_assert_eq(lg_w_len(&w) % 8, 0, "n=%zu len=%zu", n, lg_w_len(&w));
        struct lg_buf *got;
        size_t m;
        struct cb_err err = {0, ""};
        cr_assert_eq(lg_batch_decode(lg_w_data(&w), lg_w_len(&w), &got, &m,
                                     &err), 0, "%s", err.msg);
        cr_assert_eq(m, n);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(got[i].len, e[i].len);
            cr_assert_arr_eq(got[i].p, e[i].p, e[i].len);
        }
        free(got);
        lg_w_release(&w);
    }
}

Test(batch, bin16_is_used_from_256_bytes)
{
    uint8_t data[300];
    memset(data, 'x', sizeof data);
    struct lg_buf e = {data, 300};
    struct lg_w w;
    lg_w_init(&w);
    cr_assert_eq(lg_batch_encode(&w, &e, 1), 0);
    uint8_t want[6];
    unhex(want, "91c5012c7878");
    cr_assert_arr_eq(lg_w_data(&w), want, 6);
    lg_w_release(&w);
}

Test(batch, refuses_what_is_not_a_padded_batch)
{
    struct lg_buf *e = NULL;
    size_t n;
    /* unpadded (the form that breaks a Raft segment) */
    cr_assert_eq(decode_hex("91c403616263", &e, &n), CB_ETRAILING);
    /* non-zero padding */
    cr_assert_eq(decode_hex("91c4036162630001", &e, &n), CB_ETRAILING);
    /* eight bytes of padding: one word too many */
    cr_assert_eq(decode_hex("92c40161c40262630000000000000000", &e, &n),
                 CB_ETRAILING);
    /* bin16 for a short entry */
    cr_assert_eq(decode_hex("91c5000361626300", &e, &n), CB_ENONCANON);
    /* array16 for one entry */
    cr_assert_eq(decode_hex("dc0001c401610000", &e, &n), CB_ENONCANON);
    /* an element that is not bin */
    cr_assert_eq(decode_hex("91a3616263000000", &e, &n), CB_ETYPE);
    /* a map */
    cr_assert_eq(decode_hex("8100000000000000", &e, &n), CB_ETYPE);
    /* truncated bin, and a count larger than the bytes */
    cr_assert_eq(decode_hex("91c40a6162630000", &e, &n), CB_EMSGPACK);
    cr_assert_eq(decode_hex("9fc4016100000000", &e, &n), CB_EMSGPACK);
    /* empty batch and empty input */
    cr_assert_eq(decode_hex("9000000000000000", &e, &n), CB_EINVAL);
    cr_assert_eq(decode_hex("", &e, &n), CB_EMSGPACK);
    cr_assert_null(e);
}
