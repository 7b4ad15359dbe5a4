/*
 * Record access for the state machine: generic get/put over LMDB dbis, the
 * account records (fixed part plus the two program strings, so a million
 * accounts do not carry 2 KiB of padding each), items, and the dirty list
 * of account-tree leaves.
 */
#include "sm.h"

#include <stdlib.h>
#include <string.h>

#include "mdb.h"

int sm_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
           void *val, size_t vlen, size_t *got)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    if (v.mv_size > vlen)
        return CB_ECORRUPT;
    memcpy(val, v.mv_data, v.mv_size);
    if (got != NULL)
        *got = v.mv_size;
    else if (v.mv_size != vlen)
        return CB_ECORRUPT;
    return 0;
}

int sm_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
           const void *val, size_t vlen)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    lg_nwrites++;
    int rc = mdb_put(txn, dbi, &k, &v, 0);
    return rc == 0 ? 0 : lg_mdb_err(rc);
}

/* Stored account: the fixed fields up to `registrar`, then u16 LE length
 * and bytes of degree, then of major. */
#define ACCT_FIXED offsetof(struct sm_account, degree)

int sm_account_get(struct lg_ledger *l, MDB_txn *txn, const uint8_t id[32],
                   struct sm_account *a)
{
    MDB_val k = {32, (void *)id}, v;
    int rc = mdb_get(txn, l->accounts, &k, &v);
    if (rc != 0)
        return lg_mdb_err(rc);
    const uint8_t *p = v.mv_data;
    size_t n = v.mv_size;
    if (n < ACCT_FIXED + 2)
        return CB_ECORRUPT;
    memset(a, 0, sizeof *a);
    memcpy(a, p, ACCT_FIXED);
    p += ACCT_FIXED;
    n -= ACCT_FIXED;
    char *dst[2] = {a->degree, a->major};
    for (int i = 0; i < 2; i++) {
        if (n < 2)
            return CB_ECORRUPT;
        size_t len = (size_t)p[0] | (size_t)p[1] << 8;
        if (len > LG_STR_MAX || n < 2 + len)
            return CB_ECORRUPT;
        memcpy(dst[i], p + 2, len);
        dst[i][len] = '\0';
        p += 2 + len;
        n -= 2 + len;
    }
    return n == 0 ? 0 : CB_ECORRUPT;
}

int sm_account_put(struct lg_ledger *l, MDB_txn *txn, const uint8_t id[32],
                   const struct sm_account *a)
{
    uint8_t buf[ACCT_FIXED + 4 + 2 * LG_STR_MAX];
    size_t n = ACCT_FIXED;
    memcpy(buf, a, ACCT_FIXED);
    const char *src[2] = {a->degree, a->major};
    for (int i = 0; i < 2; i++) {
        size_t len = strnlen(src[i], LG_STR_MAX);
        buf[n] = (uint8_t)len;
        buf[n + 1] = (uint8_t)(len >> 8);
        memcpy(buf + n + 2, src[i], len);
        n += 2 + len;
    }
    return sm_put(txn, l->accounts, id, 32, buf, n);
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

int sm_dirty(struct sm_ctx *c, uint64_t number)
{
    if (*c->ndirty > 0 && (*c->dirty)[*c->ndirty - 1] == number)
        return 0;
    if (*c->ndirty == *c->dirty_cap) {
        size_t cap = *c->dirty_cap ? *c->dirty_cap * 2 : 64;
        uint64_t *p = realloc(*c->dirty, cap * sizeof *p);
        if (p == NULL)
            return CB_ENOMEM;
        *c->dirty = p;
        *c->dirty_cap = cap;
    }
    (*c->dirty)[(*c->ndirty)++] = number;
    return 0;
}

int sm_account_create(struct sm_ctx *c, const uint8_t id[32])
{
    uint8_t key[8];
    memset(&c->acct, 0, sizeof c->acct);
    c->acct.number = c->meta->accounts;
    be64(key, c->acct.number);
    int rv = sm_put(c->txn, c->l->accnum, key, 8, id, 32);
    if (rv != 0)
        return rv;
    c->meta->accounts++;
    memcpy(c->acct_id, id, 32);
    c->has_acct = true;
    return sm_dirty(c, c->acct.number);
}

int sm_item_get(struct sm_ctx *c, const uint8_t ref[32],
                enum sm_item_kind kind, struct sm_item *it, const char *what)
{
    static const char *kinds[] = {"", "deposit", "recognition", "appeal"};
    uint8_t key[64];
    char hex[17];
    memcpy(key, c->acct_id, 32);
    memcpy(key + 32, ref, 32);
    cy_hex(hex, ref, 8);
    int rv = sm_get(c->txn, c->l->items, key, 64, it, sizeof *it, NULL);
    if (rv == CB_ENOTFOUND)
        return SM_FAIL(c, CB_EREF, "%s %s…: not an entry of this account",
                       what, hex);
    if (rv != 0)
        return rv;
    if (it->kind != kind)
        return SM_FAIL(c, CB_EREF, "%s %s…: not a %s", what, hex,
                       kinds[kind]);
    return 0;
}

int sm_item_put(struct sm_ctx *c, const uint8_t id[32],
                const struct sm_item *it)
{
    uint8_t key[64];
    memcpy(key, c->acct_id, 32);
    memcpy(key + 32, id, 32);
    return sm_put(c->txn, c->l->items, key, 64, it, sizeof *it);
}

int sm_items_each(struct lg_ledger *l, MDB_txn *txn, const uint8_t acct[32],
                  int (*fn)(void *ctx, const uint8_t id[32],
                            const struct sm_item *it),
                  void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, l->items, &cur);
    if (rc != 0)
        return lg_mdb_err(rc);
    uint8_t start[64] = {0};
    memcpy(start, acct, 32);
    MDB_val k = {64, start}, v;
    int rv = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 64 || memcmp(k.mv_data, acct, 32) != 0)
            break;
        if (v.mv_size != sizeof(struct sm_item)) {
            rv = CB_ECORRUPT;
            break;
        }
        struct sm_item it;
        memcpy(&it, v.mv_data, sizeof it);
        rv = fn(ctx, (const uint8_t *)k.mv_data + 32, &it);
        if (rv != 0)
            break;
    }
    if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
        rv = lg_mdb_err(rc);
    mdb_cursor_close(cur);
    return rv;
}
