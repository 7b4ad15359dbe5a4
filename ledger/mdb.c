/* LMDB return codes to credbank error codes (table in mdb.h). */
#include "mdb.h"

#include <errno.h>

#include <lmdb.h>

#include <credbank/errors.h>

_Thread_local unsigned long lg_nwrites;

int lg_mdb_err(int mdb_rc)
{
    switch (mdb_rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return CB_ENOTFOUND;
    case MDB_KEYEXIST:
        return CB_EEXISTS;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC:
    case EDQUOT:
        return CB_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return CB_ECORRUPT;
    case MDB_BAD_VALSIZE:
        return CB_ETOOBIG;
    case ENOMEM:
        return CB_ENOMEM;
    case MDB_READERS_FULL:
        return CB_EUNAVAILABLE;
    default:
        return CB_EIO;
    }
}
