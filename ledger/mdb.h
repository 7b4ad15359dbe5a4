/*
 * LMDB return codes to credbank error codes. Private to ledger/.
 *
 *   MDB_NOTFOUND                          CB_ENOTFOUND
 *   MDB_KEYEXIST                          CB_EEXISTS
 *   MDB_MAP_FULL, ENOSPC, EDQUOT          CB_EFULL
 *   MDB_TXN_FULL (too many dirty pages)   CB_EFULL  (a smaller batch fits)
 *   MDB_CORRUPTED, MDB_PAGE_NOTFOUND,
 *   MDB_INVALID, MDB_VERSION_MISMATCH     CB_ECORRUPT
 *   MDB_BAD_VALSIZE (key > 511 bytes or
 *   value > 4 GiB, or a wrong-size
 *   key of an INTEGERKEY/DUPFIXED db)     CB_ETOOBIG
 *   ENOMEM                                CB_ENOMEM
 *   MDB_READERS_FULL                      CB_EUNAVAILABLE (try again)
 *   0                                     0
 *   anything else (EIO, MDB_PANIC,
 *   MDB_BAD_TXN after an earlier error)   CB_EIO
 *
 * Values of the wrong size read from a database are the reader's to catch
 * and report as CB_ECORRUPT.
 */
#ifndef CREDBANK_MDB_H
#define CREDBANK_MDB_H

int lg_mdb_err(int mdb_rc);

/* Count of LMDB writes (puts and deletes, attempted) made by this thread
 * through ledger/'s write helpers. Apply reads it around an entry: a rule
 * refusal that comes before any write needs no rollback, so apply runs
 * entries without a nested transaction and falls back to one per entry only
 * when a refusal follows a write (ledger.c, run_batch). */
extern _Thread_local unsigned long lg_nwrites;

#endif
