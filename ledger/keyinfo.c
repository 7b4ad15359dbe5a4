/*
 * lg_key_info: who a public key is, for the node's request authentication
 * (node/auth.c, spec/security.md). One lookup in the table of every key
 * ever used ("keys", spec/storage.md), which already maps a learner key to
 * its account and an issuer or node key to its member: no further index.
 */
#include "mdb.h"
#include "sm.h"

#include <string.h>

int lg_key_info(struct lg_ledger *l, const uint8_t pk[32],
                struct lg_key_info *out)
{
    memset(out, 0, sizeof *out);
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return lg_mdb_err(rc);
    struct sm_key k;
    int rv = sm_get(txn, l->keys, pk, 32, &k, sizeof k, NULL);
    mdb_txn_abort(txn);
    if (rv != 0)
        return rv;
    switch (k.kind) {
    case SM_KEY_ISSUER:
        out->kind = LG_KEY_ISSUER;
        break;
    case SM_KEY_NODE:
        out->kind = LG_KEY_NODE;
        break;
    case SM_KEY_LEARNER:
        out->kind = LG_KEY_LEARNER;
        break;
    default:
        return CB_ECORRUPT;
    }
    out->in_force = k.in_force != 0;
    memcpy(out->member, k.member, sizeof out->member - 1);
    out->member[sizeof out->member - 1] = 0;
    memcpy(out->account, k.account, 32);
    return 0;
}
