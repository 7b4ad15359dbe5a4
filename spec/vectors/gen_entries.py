#!/usr/bin/python3
"""Independent test vectors for credbank entries and signed entries.

Made with Debian's python3-msgpack and python3-nacl only -- never with
credbank's own code -- so the C implementation is checked against a second
implementation of DESIGN section 3.1. Run: /usr/bin/python3 gen_entries.py
(writes entries.json beside this file). Everything is deterministic: keys
come from fixed seeds, nonces and timestamps are fixed, Ed25519 is
deterministic.
"""
import hashlib
import json
import os

import msgpack
from nacl.signing import SigningKey

CTX = b"credbank-entry-v1\n"


def key(name):
    seed = hashlib.sha256(b"vector:" + name.encode()).digest()
    return seed, SigningKey(seed)


def canon(obj):
    """Canonical msgpack: dict keys sorted by their UTF-8 bytes."""
    def norm(o):
        if isinstance(o, dict):
            return {k: norm(o[k]) for k in sorted(o, key=lambda k: k.encode())}
        if isinstance(o, list):
            return [norm(x) for x in o]
        return o
    return msgpack.packb(norm(obj), use_bin_type=True)


def signed(entry_bytes, author_sk, others):
    sigs = [[bytes(author_sk.verify_key), author_sk.sign(CTX + entry_bytes).signature]]
    rest = [[bytes(k.verify_key), k.sign(CTX + entry_bytes).signature] for k in others]
    rest.sort(key=lambda p: p[0])
    return msgpack.packb([entry_bytes, sigs + rest], use_bin_type=True)


def h(b):
    return b.hex()


vectors, rejected = [], []

bank_seed, bank = key("bank")
node_seed, node = key("bank-node")
uni_seed, uni = key("university")
learner_seed, learner = key("learner")
ledger = hashlib.sha256(b"a ledger id").digest()
account = hashlib.sha256(b"an account id").digest()
deposit = hashlib.sha256(b"a deposit id").digest()


def add(desc, typ, author_name, author_sk, body, others=(), others_names=(),
        acct=None, refs=(), led=ledger, ts=1732270000000, nonce=None):
    nonce = nonce or hashlib.sha256(desc.encode()).digest()[:16]
    entry = {"author": bytes(author_sk.verify_key), "body": body,
             "nonce": nonce, "refs": list(refs), "ts": ts, "type": typ, "v": 1}
    if led is not None:
        entry["ledger"] = led
    if acct is not None:
        entry["account"] = acct
    eb = canon(entry)
    body_bytes = canon(body)
    sb = signed(eb, author_sk, others)
    vectors.append({
        "description": desc, "type": typ, "author": author_name,
        "signers": list(others_names),
        "ledger": h(led) if led else None, "account": h(acct) if acct else None,
        "ts": ts, "nonce": h(nonce), "refs": [h(r) for r in refs],
        "body": h(body_bytes), "entry": h(eb),
        "id": h(hashlib.sha256(eb).digest()), "signed": h(sb),
    })
    return eb, sb


add("outcome deposit", "outcome.deposit", "university", uni,
    {"attendance": 92, "compatible": True, "course": "CS101 K-MOOC",
     "credits": 3, "evidence": hashlib.sha256(b"certificate").digest(),
     "grade": 88, "source": "mooc", "term": "2024Q3",
     "title": "Introduction to programming — 프로그래밍 입문"}, acct=account)
add("credit recognition co-signed by the learner", "credit.recognize", "bank",
    bank, {"class": "major", "credits": 3, "term": "2024Q4"},
    others=[learner], others_names=["learner"], acct=account, refs=[deposit])
add("policy set for a member scope", "policy.set", "university", uni,
    {"policy": {"sources": {"mooc": {"learner_revocable": False, "max_credits": 12}}},
     "scope": "university"})
add("seal", "seal", "bank-node", node,
    {"accounts": 1, "accounts_root": hashlib.sha256(b"r1").digest(),
     "governance": 2, "governance_chain": hashlib.sha256(b"g").digest(),
     "log_root": hashlib.sha256(b"r2").digest(), "size": 10})
add("large timestamp and many refs", "program.change", "bank", bank,
    {"degree": "bachelor", "major": "mathematics"}, others=[learner],
    others_names=["learner"], acct=account,
    refs=[hashlib.sha256(bytes([i])).digest() for i in range(20)],
    ts=2**40 + 12345)
genesis_body = {
    "cosign_quorum": 0, "governance_quorum": 0,
    "members": [{"issuers": [bytes(bank.verify_key)], "name": "bank",
                 "node": bytes(node.verify_key), "roles": ["registrar"]}],
    "policy": {"degrees": {}, "fees": {"account_open": 4000, "currency": "KRW",
                                       "link_free_credits": 80, "per_credit": 1000},
               "seal_interval_ms": 20, "sources": {}}}
add("genesis", "genesis", "bank", bank, genesis_body, others=[node],
    others_names=["bank-node"], led=None)

# Rejected signed entries: (description, bytes, error name).
eb, sb = add("base for rejections", "outcome.deposit", "university", uni,
             {"compatible": False, "course": "C", "credits": 1,
              "evidence": bytes(32), "grade": 70, "source": "school",
              "term": "2024Q1", "title": "T"}, acct=account)
vectors.pop()
usig = uni.sign(CTX + eb).signature
lsig = learner.sign(CTX + eb).signature
bsig = bank.sign(CTX + eb).signature
L, B = bytes(learner.verify_key), bytes(bank.verify_key)
U = bytes(uni.verify_key)
lo, hi = sorted([[L, lsig], [B, bsig]], key=lambda p: p[0])


def rej(desc, b, err):
    rejected.append({"description": desc, "signed": h(b), "error": err})


bad = bytearray(usig); bad[0] ^= 1
rej("signature does not verify",
    msgpack.packb([eb, [[U, bytes(bad)]]], use_bin_type=True), "bad_signature")
rej("author not first", msgpack.packb([eb, [[L, lsig], [U, usig]]],
                                      use_bin_type=True), "missing_signature")
rej("co-signers not sorted", msgpack.packb([eb, [[U, usig], hi, lo]],
                                           use_bin_type=True), "signature_order")
rej("a co-signer twice", msgpack.packb([eb, [[U, usig], lo, lo]],
                                       use_bin_type=True), "signature_order")
rej("no signatures", msgpack.packb([eb, []], use_bin_type=True),
    "missing_signature")
rej("trailing byte", sb + b"\x00", "trailing_bytes")
rej("truncated", sb[:-1], "malformed_msgpack")


def rej_entry(desc, entry, err):
    e = canon(entry)
    rej(desc, msgpack.packb([e, [[U, uni.sign(CTX + e).signature]]],
                            use_bin_type=True), err)


base = msgpack.unpackb(eb, raw=False)
rej_entry("unknown type", dict(base, type="credit.steal"), "unknown_type")
rej_entry("version 2", dict(base, v=2), "unsupported_version")
rej_entry("unknown entry key", dict(base, extra=1), "unknown_key")
no_acct = dict(base); del no_acct["account"]
rej_entry("account type without account", no_acct, "missing_key")
no_ledger = dict(base); del no_ledger["ledger"]
rej_entry("non-genesis without ledger", no_ledger, "missing_key")
rej_entry("short nonce", dict(base, nonce=b"\x01" * 15), "bad_value")
rej_entry("ref not 32 bytes", dict(base, refs=[b"\x01" * 31]), "wrong_type")
# non-canonical entry bytes: keys in reverse order (dicts keep insertion order)
ooo = msgpack.packb({k: base[k] for k in sorted(base, reverse=True)},
                    use_bin_type=True)
rej("entry keys not sorted", msgpack.packb([ooo, [[U, uni.sign(CTX + ooo).signature]]],
                                           use_bin_type=True), "key_order")
# a uint in a longer encoding than needed (ts as uint64 of a small value)
nb = bytearray(canon(dict(base, ts=5)))
i = nb.find(b"\xa2ts\x05")
nc = bytes(nb[:i]) + b"\xa2ts\xcf" + (5).to_bytes(8, "big") + bytes(nb[i + 4:])
rej("ts not in shortest form", msgpack.packb([nc, [[U, uni.sign(CTX + nc).signature]]],
                                             use_bin_type=True), "not_canonical")

seeds = {n: h(s) for n, s in [("bank", bank_seed), ("bank-node", node_seed),
                              ("university", uni_seed), ("learner", learner_seed)]}
out = {"generator": "spec/vectors/gen_entries.py (python3-msgpack, python3-nacl)",
       "seeds": seeds, "valid": vectors, "rejected": rejected}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "entries.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path}: {len(vectors)} valid, {len(rejected)} rejected")
