/*
 * Reads of a ledger's Merkle log for the commands: each opens its own LMDB
 * read transaction, copies what it needs out of it, and ends it, so callers
 * never hold borrowed LMDB pointers.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <credbank/log.h>

static int begin(struct lg_ledger *l, MDB_txn **txn, struct cb_err *err)
{
    int rc = mdb_txn_begin(lg_ledger_env(l), NULL, MDB_RDONLY, txn);
    if (rc != 0)
        return cb_errf(err, CB_EIO, "cannot read the ledger: %s",
                       mdb_strerror(rc));
    return 0;
}

int cli_log_get(struct lg_ledger *l, uint64_t index, uint8_t **buf,
                size_t *len, struct cb_err *err)
{
    MDB_txn *txn;
    int rv = begin(l, &txn, err);
    if (rv != 0)
        return rv;
    const uint8_t *p;
    size_t n;
    rv = lg_log_get(lg_ledger_log(l), txn, index, &p, &n);
    if (rv == 0) {
        *buf = malloc(n ? n : 1);
        if (*buf == NULL) {
            rv = cb_errf(err, CB_ENOMEM, "out of memory");
        } else {
            memcpy(*buf, p, n);
            *len = n;
        }
    } else {
        cb_errf(err, rv, "entry %llu: %s", (unsigned long long)index,
                rv == CB_ENOTFOUND ? "beyond the end of the log"
                                   : cb_strerror(rv));
    }
    mdb_txn_abort(txn);
    return rv;
}

int cli_log_root(struct lg_ledger *l, uint64_t size, uint8_t root[32],
                 struct cb_err *err)
{
    MDB_txn *txn;
    int rv = begin(l, &txn, err);
    if (rv != 0)
        return rv;
    rv = lg_log_root(lg_ledger_log(l), txn, size, root);
    if (rv != 0)
        cb_errf(err, rv, "tree hash of %llu entries: %s",
                (unsigned long long)size, cb_strerror(rv));
    mdb_txn_abort(txn);
    return rv;
}

int cli_log_prove(struct lg_ledger *l, uint64_t index, uint64_t size,
                  uint8_t proof[][32], size_t *n, struct cb_err *err)
{
    MDB_txn *txn;
    int rv = begin(l, &txn, err);
    if (rv != 0)
        return rv;
    rv = lg_log_inclusion(lg_ledger_log(l), txn, index, size, proof, n);
    if (rv != 0)
        cb_errf(err, rv, "inclusion proof of %llu in %llu entries: %s",
                (unsigned long long)index, (unsigned long long)size,
                cb_strerror(rv));
    mdb_txn_abort(txn);
    return rv;
}
