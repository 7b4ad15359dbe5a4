#!/usr/bin/python3
"""Independent vectors for credbank's crypto module (crypto/hash.c,
crypto/sign.c, crypto/notekey.c), written to crypto.json beside this file.

    /usr/bin/python3 spec/vectors/gen_crypto.py

Uses only Debian's python3-nacl, hashlib and base64. Three sources are
cross-checked before anything is written:
  - python3-nacl (libsodium) for Ed25519 keys, signatures and verification;
  - a small pure-Python Ed25519 (RFC 8032 arithmetic, below) that signs the
    same messages byte for byte and classifies public-key encodings
    (canonical?, on the curve?, order?) without libsodium;
  - hashlib for SHA-256 and base64 for the base64 vectors.
Signed-note key strings are built by hand from the C2SP signed-note spec;
gen_notekey.go then checks them against Go's golang.org/x/mod/sumdb/note.

Sections of crypto.json:
  keys       Ed25519 keys from fixed seeds, their signed-note strings, and
             signatures over several messages (empty, "credbank",
             "credbank-entry-v1\\n" || bytes, UTF-8 text).
  sha256     msg (hex) repeated `repeat` times, and its SHA-256.
  pk_cases   32-byte public-key encodings and whether credbank's
             cy_pk_check accepts them: exactly when libsodium's
             crypto_sign_verify_detached would (canonical y < p, on the
             curve, not of small order). Mixed-order points are accepted.
  verify     (pk, msg, sig) triples and libsodium's verdict, including
             signatures that are valid in plain cofactorless arithmetic
             but that libsodium refuses (small-order key or R,
             non-canonical S).
  base64     strings and their decoding when canonical (null otherwise).
"""
import base64
import hashlib
import json
import os

import nacl.bindings as nb
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

# ---- pure-Python Ed25519 (RFC 8032 section 5.1), for cross-checks only ----
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENT = (0, 1, 1, 0)


def padd(a, b):
    # Extended-coordinates addition; complete on edwards25519.
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def pmul(k, pt):
    q = IDENT
    while k > 0:
        if k & 1:
            q = padd(q, pt)
        pt = padd(pt, pt)
        k >>= 1
    return q


def pneg(pt):
    x, y, z, t = pt
    return (-x % P, y, z, -t % P)


def enc(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def peq(a, b):
    return enc(a) == enc(b)


def dec(s):
    """Decodes like libsodium does (y taken mod p, "-0" allowed).
    Returns (point or None, canonical)."""
    v = int.from_bytes(s, "little")
    sign, y = v >> 255, v & (2**255 - 1)
    canonical = y < P
    y %= P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None, canonical
    if (x & 1) != sign:
        x = -x % P
    return (x, y, 1, x * y % P), canonical


BY = 4 * pow(5, P - 2, P) % P
BASE = dec(BY.to_bytes(32, "little"))[0]


def order_class(pt):
    if peq(pmul(8, pt), IDENT):
        return "small"
    return "main" if peq(pmul(L, pt), IDENT) else "mixed"


def h_int(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def secret_scalar(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def py_sign(seed, msg):
    a, prefix = secret_scalar(seed)
    A = enc(pmul(a, BASE))
    r = h_int(prefix, msg) % L
    R = enc(pmul(r, BASE))
    S = (r + h_int(R, A, msg) % L * a) % L
    return R + S.to_bytes(32, "little")


def py_verify_cofactorless(pk, msg, sig):
    """[S]B == R + [H(R||A||M) mod L]A, with S used as given (not reduced);
    no canonicity or small-order checks. The plain equation."""
    A, _ = dec(pk)
    R, _ = dec(sig[:32])
    if A is None or R is None:
        return False
    S = int.from_bytes(sig[32:], "little")
    h = h_int(sig[:32], pk, msg) % L
    return peq(pmul(S, BASE), padd(R, pmul(h, A)))


def sodium_verify(pk, msg, sig):
    try:
        VerifyKey(pk).verify(msg, sig)
        return True
    except BadSignatureError:
        return False


# ---- keys, signed-note strings, signatures ----
MESSAGES = [b"", b"credbank", b"credbank-entry-v1\n" + bytes(range(200)),
            "학점은행\n".encode(), bytes(range(256)) * 4]
keys = []
for name in ["bank", "university-node", "a", "Z.9_-x", "n" * 64,
             "provider.example-1"]:
    seed = hashlib.sha256(b"crypto-vector:" + name.encode()).digest()
    sk = SigningKey(seed)
    pk = bytes(sk.verify_key)
    a, _ = secret_scalar(seed)
    assert enc(pmul(a, BASE)) == pk, "pure-Python public key differs"
    kh = hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4]
    vb64 = base64.b64encode(b"\x01" + pk).decode()
    sb64 = base64.b64encode(b"\x01" + seed).decode()
    vkey = f"{name}+{kh.hex()}+{vb64}"
    skey = f"PRIVATE+KEY+{name}+{kh.hex()}+{sb64}"
    sigs = []
    for msg in MESSAGES:
        sig = sk.sign(msg).signature
        assert sig == py_sign(seed, msg), "pure-Python signature differs"
        assert py_verify_cofactorless(pk, msg, sig)
        sigs.append({"msg": msg.hex(), "sig": sig.hex()})
    keys.append({"name": name, "seed": seed.hex(), "pk": pk.hex(),
                 "keyhash": kh.hex(), "vkey": vkey, "skey": skey,
                 "sigs": sigs})

# ---- SHA-256 ----
sha = []
for msg, rep in [(b"", 1), (b"abc", 1),
                 (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1),
                 (b"a", 55), (b"a", 56), (b"a", 63), (b"a", 64), (b"a", 65),
                 (bytes(1000), 1), (b"credbank-entry-v1\n", 1),
                 (b"a", 1000000)]:
    sha.append({"msg": msg.hex(), "repeat": rep,
                "sha256": hashlib.sha256(msg * rep).hexdigest()})
assert sha[1]["sha256"] == ("ba7816bf8f01cfea414140de5dae2223"
                            "b00361a396177a9cb410ff61f20015ad")

# ---- public-key encodings ----
# The eight points of small order, found without libsodium: the torsion
# part [L]Q of the first decodable y >= 2 whose torsion part has order 8,
# and its multiples.
y = 2
while True:
    q, _ = dec(y.to_bytes(32, "little"))
    if q is not None:
        t = pmul(L, q)
        if not peq(pmul(4, t), IDENT):
            break
    y += 1
T8 = t
small = [pmul(k, T8) for k in range(8)]
assert len({enc(s) for s in small}) == 8


def small_order(pt):
    for k in (1, 2, 4, 8):
        if peq(pmul(k, pt), IDENT):
            return k
    return None


pk_cases = []


def pk_case(raw, why):
    pt, canonical = dec(raw)
    on_curve = pt is not None
    oc = order_class(pt) if on_curve else None
    accept = canonical and on_curve and oc != "small"
    pk_cases.append({
        "pk": raw.hex(), "accept": accept, "why": why,
        "canonical": canonical, "on_curve": on_curve, "order": oc,
        # For information: libsodium's stricter check, which also wants
        # the main subgroup. credbank does not use it (see spec/crypto.md).
        "sodium_is_valid_point": bool(nb.crypto_core_ed25519_is_valid_point(raw)),
    })


for k in keys:
    pk_case(bytes.fromhex(k["pk"]), "honest key of " + k["name"])
for k, s in enumerate(small):
    e = enc(s)
    pk_case(e, f"small order {small_order(s)} ({k}*T8)")
    if s[0] % P == 0:  # x = 0: the "-0" encoding with the sign bit set
        pk_case(bytes(e[:31]) + bytes([e[31] | 0x80]),
                f"small order {small_order(s)}, x = 0 with sign bit set")
for t in range(19):  # every y >= p: y = p + t
    for sign in (0, 1):
        raw = (P + t + (sign << 255)).to_bytes(32, "little")
        pk_case(raw, f"non-canonical y = p + {t}, sign {sign}")
off = 0
y = 2
while off < 3:
    raw = y.to_bytes(32, "little")
    if dec(raw)[0] is None:
        pk_case(raw, f"not on the curve (y = {y})")
        off += 1
    y += 1
honest = pmul(secret_scalar(bytes.fromhex(keys[0]["seed"]))[0], BASE)
for k in (1, 2, 4):  # orders 8, 4, 2
    pk_case(enc(padd(honest, small[k])),
            f"mixed order: honest key + point of order {small_order(small[k])}")
pk_case(enc(pneg(honest)), "negated honest key (main subgroup)")

for c in pk_cases:
    assert c["accept"] == (c["canonical"] and c["on_curve"] and
                           c["order"] != "small")
    if c["sodium_is_valid_point"]:
        assert c["accept"] and c["order"] == "main"

# ---- verification verdicts ----
verify = []


def vcase(pk, msg, sig, why):
    valid = sodium_verify(pk, msg, sig)
    verify.append({"pk": pk.hex(), "msg": msg.hex(), "sig": sig.hex(),
                   "valid": valid, "why": why,
                   "cofactorless_equation": py_verify_cofactorless(pk, msg, sig)})
    return valid


seed0 = bytes.fromhex(keys[0]["seed"])
a0, _ = secret_scalar(seed0)
pk0 = bytes.fromhex(keys[0]["pk"])
pk1 = bytes.fromhex(keys[1]["pk"])
good = py_sign(seed0, b"credbank")
assert vcase(pk0, b"credbank", good, "honest signature")
bad = bytearray(good)
bad[0] ^= 1
assert not vcase(pk0, b"credbank", bytes(bad), "R tampered")
bad = bytearray(good)
bad[40] ^= 1
assert not vcase(pk0, b"credbank", bytes(bad), "S tampered")
assert not vcase(pk0, b"credbanK", good, "message tampered")
assert not vcase(pk1, b"credbank", good, "another key")
S = int.from_bytes(good[32:], "little")
assert not vcase(pk0, b"credbank", good[:32] + (S + L).to_bytes(32, "little"),
                 "non-canonical S (S + L): libsodium refuses it")


def ground(pk_pt, a, tag, want_h_mod8_zero=True):
    """A signature under pk_pt = [a]B + torsion with H(R||A||M) mod L
    divisible by 8 (so the torsion part cancels), by trying messages."""
    pk = enc(pk_pt)
    for i in range(1000):
        msg = tag + str(i).encode()
        r = h_int(b"ground", msg) % L
        R = enc(pmul(r, BASE))
        h = h_int(R, pk, msg) % L
        if (h % 8 == 0) == want_h_mod8_zero:
            return pk, msg, R + ((r + h * a) % L).to_bytes(32, "little")
    raise SystemExit("no message found")


pk, msg, sig = ground(padd(honest, small[1]), a0, b"mixed-order key ")
assert vcase(pk, msg, sig, "mixed-order key, H divisible by 8: valid")
pk, msg, sig = ground(padd(honest, small[1]), a0, b"mixed-order key ", False)
assert not vcase(pk, msg, sig,
                 "mixed-order key, H not divisible by 8: cofactorless fails")
pk, msg, sig = ground(small[1], 0, b"small-order key ")
assert not vcase(pk, msg, sig,
                 "small-order key: the equation holds, libsodium refuses")
R = enc(IDENT)
h = h_int(R, pk0, b"credbank") % L
assert not vcase(pk0, b"credbank", R + (h * a0 % L).to_bytes(32, "little"),
                 "small-order R (identity): the equation holds, "
                 "libsodium refuses")
for c in verify:
    if c["valid"]:
        assert c["cofactorless_equation"]

# ---- base64 ----
b64 = []
for n in [0, 1, 2, 3, 4, 5, 6, 32, 33, 64, 68]:
    raw = bytes((7 * i + n) & 0xFF for i in range(n))
    b64.append({"b64": base64.b64encode(raw).decode(), "bin": raw.hex()})
for s in ["YWJ=", "YR==", "YQ", "YQ=", "YQ===", "Y", "Y===", "=", "==",
          "====", "YWI=YWI=", "YW=I", "YW I=", " YWI=", "YWI= ", "YWI=\n",
          "YW\nI=", "YW-=", "YW_=", "YWI.", "Y\u00e9I=", "AQ==AQ==",
          "YWJj=", "YWJjZA=", "YWJjZA==="]:
    try:
        raw = base64.b64decode(s, validate=True)
        ok = base64.b64encode(raw).decode() == s
    except ValueError:
        ok = False
    assert not ok, s
    b64.append({"b64": s, "bin": None})

out = {
    "generator": "spec/vectors/gen_crypto.py (python3-nacl, hashlib, base64, "
                 "pure-Python Ed25519 cross-check)",
    "keys": keys, "sha256": sha, "pk_cases": pk_cases, "verify": verify,
    "base64": b64,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crypto.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path}: {len(keys)} keys, {len(sha)} hashes, "
      f"{len(pk_cases)} key encodings, {len(verify)} verdicts, {len(b64)} base64")
