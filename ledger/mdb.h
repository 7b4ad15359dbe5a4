/* LMDB return codes to credbank error codes (private to ledger/). */
#ifndef CREDBANK_MDB_H
#define CREDBANK_MDB_H

/* MDB_MAP_FULL and ENOSPC -> CB_EFULL, MDB_NOTFOUND -> CB_ENOTFOUND,
 * MDB_KEYEXIST -> CB_EEXISTS, corruption -> CB_ECORRUPT, ENOMEM ->
 * CB_ENOMEM, anything else -> CB_EIO. */
int lg_mdb_err(int mdb_rc);

#endif
