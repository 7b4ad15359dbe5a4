#!/usr/bin/env python3
"""History check for tests/faults: history.py API_URL NOTES_FILE...

NOTES_FILE: final checkpoint notes (GET /v1/checkpoint) a node served during
a run, each followed by a line "=====". Checks, per RFC 9162 / C2SP
tlog-checkpoint:
  1. every note is well formed and carries >= 2 distinct signers (the demo's
     cosign_quorum);
  2. no two notes with the same size and different roots;
  3. between successive final sizes, GET /v1/proof/consistency from API_URL
     verifies against the two notes' roots (RFC 9162 2.1.4.2);
  4. the Merkle tree hash of the node's leaves (GET /v1/entries, msgpack)
     equals each note's root at its size;
  5. no signed entry appears twice among the leaves (retries after an
     unknown outcome must deduplicate).
Exit 0 when all hold; prints one line per finding."""
import base64
import hashlib
import json
import os
import sys
import urllib.request

import msgpack


def H(b):
    return hashlib.sha256(b).digest()


def node(a, b):
    return H(b"\x01" + a + b)


def mth(leaves):  # leaf hashes -> tree hash
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_consistency(first, second, fh, sh, proof):
    if first == second:
        return not proof and fh == sh
    if first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [fh] + proof
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == fh and sr == sh and sn == 0


# Reads of the log are signed (spec/security.md): with CREDBANK_KEY when
# set, else the demo's bank issuer key beside the notes ($T/demo/keys).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import httpsig  # noqa: E402

SIGN_KEY = None


def get(url, accept="application/json"):
    headers = {"Accept": accept}
    if SIGN_KEY is not None:
        headers.update(httpsig.sign_headers(SIGN_KEY, "GET", url))
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def main():
    global SIGN_KEY
    api = sys.argv[1]
    key = os.environ.get("CREDBANK_KEY") or (
        os.path.join(os.path.dirname(os.path.abspath(sys.argv[2])), "demo",
                     "keys", "bank.issuer.key") if len(sys.argv) > 2 else "")
    if key and os.path.exists(key):
        SIGN_KEY = httpsig.load_key(key)
    bad = 0
    roots = {}  # size -> {root: [where]}
    notes = 0
    for path in sys.argv[2:]:
        if not os.path.exists(path):  # an unmatched glob: nothing collected
            continue
        for chunk in open(path, encoding="utf-8").read().split("=====\n"):
            if not chunk.strip():
                continue
            notes += 1
            lines = chunk.split("\n")
            try:
                size = int(lines[1])
                root = base64.b64decode(lines[2], validate=True)
                assert len(root) == 32 and lines[3] == ""
                signers = {l.split(" ")[1] for l in lines[4:] if l.startswith("\u2014 ")}
            except Exception as e:
                print(f"malformed note in {path}: {e!r}: {chunk[:200]!r}")
                bad += 1
                continue
            if len(signers) < 2:
                print(f"note of size {size} has {len(signers)} signers")
                bad += 1
            roots.setdefault(size, {}).setdefault(root, []).append(path.rsplit("/", 1)[-1])
    for size, rs in sorted(roots.items()):
        if len(rs) > 1:
            print(f"FORK: size {size} has {len(rs)} roots: " +
                  "; ".join(f"{r.hex()[:16]} from {w}" for r, w in rs.items()))
            bad += 1
    sizes = sorted(roots)
    if not sizes:
        print("no final checkpoint collected")
        return 1
    one = {s: next(iter(rs)) for s, rs in roots.items()}
    proofs = 0
    for a, b in zip(sizes, sizes[1:]):
        p = json.loads(get(f"{api}/v1/proof/consistency?from={a}&to={b}"))
        proof = [bytes.fromhex(x) for x in p["proof"]]
        if not verify_consistency(a, b, one[a], one[b], proof):
            print(f"consistency {a} -> {b} does not verify")
            bad += 1
        proofs += 1
    leaves = []
    while len(leaves) < sizes[-1]:
        got = msgpack.unpackb(get(f"{api}/v1/entries?from={len(leaves)}&limit=1000",
                                  "application/msgpack"), raw=False)
        if not got:
            break
        leaves += [H(b"\x00" + e) for e in got]
    mism = 0
    for s in sizes:
        if s > len(leaves) or mth(leaves[:s]) != one[s]:
            mism += 1
    if mism:
        print(f"{mism} final roots differ from the tree of the node's leaves ({len(leaves)} leaves)")
        bad += 1
    dups = len(leaves) - len(set(leaves))
    if dups:
        print(f"{dups} leaves repeat an earlier leaf (an entry logged twice)")
        bad += 1
    print(f"{notes} notes, {len(sizes)} final sizes {sizes[0]}..{sizes[-1]}, "
          f"{proofs} consistency proofs verified, tree roots recomputed from "
          f"{len(leaves)} leaves: {'ok' if not bad else 'BAD'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
