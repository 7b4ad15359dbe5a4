/*
 * The batch: what one Raft entry carries.
 *
 * A batch is a canonical MessagePack array of bin, each bin the bytes of one
 * signed entry, followed by 0 to 7 zero bytes so that its length is a
 * multiple of 8. The padding is not decoration: canonical/raft 0.15 pads
 * entry data to 8 bytes when it writes a segment but reloads the segment
 * without skipping the padding, so an entry whose length is not a multiple
 * of 8 makes the whole segment unreadable after a restart (spec/node.md).
 */
#ifndef CREDBANK_BATCH_H
#define CREDBANK_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <credbank/codec.h>
#include <credbank/errors.h>
#include <credbank/ledger.h>

#define LG_BATCH_MAX_ENTRIES 65536u

/* Writes the batch of e[0..n) into w (padded). Codes: CB_EINVAL (n = 0 or
 * above LG_BATCH_MAX_ENTRIES), CB_ENOMEM. */
int lg_batch_encode(struct lg_w *w, const struct lg_buf *e, size_t n);

/* Splits a batch into its entries. On success *out (malloc'd, free() it)
 * points n buffers into p. The array must be canonical, every element a bin,
 * and only zero padding of fewer than 8 bytes may follow it, making the total
 * length a multiple of 8. Codes: CB_EMSGPACK, CB_ENONCANON, CB_ETYPE,
 * CB_ETRAILING, CB_ETOOBIG, CB_ENOMEM. */
int lg_batch_decode(const uint8_t *p, size_t len, struct lg_buf **out,
                    size_t *n, struct cb_err *err);

#endif
