#!/usr/bin/python3
"""Independent vectors for credbank's crypto module: Ed25519 (python3-nacl),
SHA-256 (hashlib), and C2SP signed-note key strings computed by hand from the
specification. Writes crypto.json beside this file. gen_notekey.go checks the
same key strings with Go's golang.org/x/mod/sumdb/note."""
import base64
import hashlib
import json
import os

from nacl.signing import SigningKey

keys = []
for name in ["bank", "university-node", "a", "Z.9_-x", "n" * 64]:
    seed = hashlib.sha256(b"crypto-vector:" + name.encode()).digest()
    sk = SigningKey(seed)
    pk = bytes(sk.verify_key)
    kh = hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4]
    vb64 = base64.b64encode(b"\x01" + pk).decode()
    sb64 = base64.b64encode(b"\x01" + seed).decode()
    vkey = f"{name}+{kh.hex()}+{vb64}"
    skey = f"PRIVATE+KEY+{name}+{kh.hex()}+{sb64}"
    sigs = []
    for msg in [b"", b"credbank", b"credbank-entry-v1\n" + bytes(range(200)),
                "학점은행\n".encode()]:
        sigs.append({"msg": msg.hex(), "sig": sk.sign(msg).signature.hex()})
    keys.append({"name": name, "seed": seed.hex(), "pk": pk.hex(),
                 "keyhash": kh.hex(), "vkey": vkey, "skey": skey,
                 "sigs": sigs})

sha = [{"msg": m.hex(), "sha256": hashlib.sha256(m).hexdigest()}
       for m in [b"", b"abc", b"a" * 55, b"a" * 56, b"a" * 64, bytes(1000)]]

# Points libsodium refuses as public keys: small order and non-canonical.
bad_keys = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]
out = {"generator": "spec/vectors/gen_crypto.py (python3-nacl, hashlib)",
       "keys": keys, "sha256": sha, "bad_keys": bad_keys}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crypto.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path}")
