#include "mdb.h"

#include <errno.h>

#include <lmdb.h>

#include <credbank/errors.h>

int lg_mdb_err(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return CB_ENOTFOUND;
    case MDB_KEYEXIST:
        return CB_EEXISTS;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
        return CB_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return CB_ECORRUPT;
    case ENOMEM:
        return CB_ENOMEM;
    default:
        return CB_EIO;
    }
}
