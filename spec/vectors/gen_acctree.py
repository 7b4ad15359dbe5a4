#!/usr/bin/python3
"""Independent test vectors for the account tree (DESIGN 3.3).

Made with Python's hashlib only -- never with credbank's code -- so the C
account leaf, the stored complete-subtree hashes and their incremental
update (ledger/seal.c, sm_acctree_flush) are checked against a second,
naive implementation: the RFC 6962 / RFC 9162 tree hash computed
recursively from the whole leaf list at every step.

    account leaf = id (32) || count (8, big-endian) || chain (32) || status (1)
    leaf hash    = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || l || r)

The vector is a sequence of batches. Each batch sets some accounts (new ones
get the next numbers, in order; old ones change count, chain or status, as
entries and cancellations do) and gives the number of accounts and the tree
root after it. Run: /usr/bin/python3 gen_acctree.py (writes acctree.json
beside this file). Deterministic.
"""
import hashlib
import json
import os


def h(*parts):
    d = hashlib.sha256()
    for p in parts:
        d.update(p)
    return d.digest()


def tree_hash(leaves):
    """RFC 9162 section 2.1.1, literally: split at the largest power of two
    smaller than n."""
    n = len(leaves)
    if n == 0:
        return h(b"")
    if n == 1:
        return h(b"\x00", leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return h(b"\x01", tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def leaf(acct):
    return (acct["id"] + acct["count"].to_bytes(8, "big") + acct["chain"] +
            bytes([acct["status"]]))


def main():
    accounts = []  # by number
    steps = []

    def new(i):
        return {"id": h(b"acctree vector id %d" % i),
                "count": 1,
                "chain": h(b"acctree vector chain %d 1" % i),
                "status": 0}

    def touch(num, status=None, count=None):
        a = accounts[num]
        a["count"] = count if count is not None else a["count"] + 1
        a["chain"] = h(a["chain"], h(b"entry %d %d" % (num, a["count"])))
        if status is not None:
            a["status"] = status

    # (new accounts in this batch, changes to existing ones)
    batches = [
        (1, []),
        (2, []),
        (0, [(1, None, None)]),
        (5, [(0, None, None)]),
        (0, [(4, None, None)]),             # one leaf: only its path changes
        (1, [(2, 1, None), (7, None, None)]),  # a cancellation
        (3, [(8, None, 2 ** 40 + 5)]),      # a count that needs 6 bytes
        (0, [(0, None, None), (5, None, None), (11, 1, None), (3, None, None)]),
        (6, []),
        (0, [(17, None, None), (16, None, None)]),
    ]
    for nnew, changes in batches:
        changed = []
        for num, status, count in changes:
            touch(num, status, count)
            changed.append(num)
        for _ in range(nnew):
            accounts.append(new(len(accounts)))
            changed.append(len(accounts) - 1)
        leaves = [leaf(a) for a in accounts]
        steps.append({
            "set": [{"number": num,
                     "id": accounts[num]["id"].hex(),
                     "count": accounts[num]["count"],
                     "chain": accounts[num]["chain"].hex(),
                     "status": accounts[num]["status"],
                     "leaf": leaves[num].hex()}
                    for num in sorted(set(changed))],
            "accounts": len(accounts),
            "root": tree_hash(leaves).hex(),
        })

    out = {
        "generator": "spec/vectors/gen_acctree.py (hashlib)",
        "empty_root": tree_hash([]).hex(),
        "steps": steps,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "acctree.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote acctree.json:", len(steps), "batches,", len(accounts),
          "accounts")


if __name__ == "__main__":
    main()
