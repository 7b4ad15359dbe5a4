#!/usr/bin/python3
"""Independent vectors for credbank's canonical MessagePack (DESIGN 3,
spec/encoding.md).

Run with Debian's interpreter, which has python3-msgpack:

    /usr/bin/python3 spec/vectors/gen_msgpack.py

Made with python3-msgpack (never credbank's own code). Writes:
  spec/vectors/msgpack.json
    canonical: values python-msgpack encodes in canonical form
               (use_bin_type=True, dict keys sorted by their UTF-8 bytes);
               credbank must decode each and re-encode the same bytes.
    rejected:  hand-built byte strings, valid MessagePack or not, that are not
               canonical, each with the stable error name (errors.h) that
               credbank's strict decoder must give -- the first fault met
               reading the bytes in order.
  tests/fuzz/corpus/decode/
    seed inputs for the libFuzzer decode target: small canonical vectors, a
    typical entry, and a few near misses.

The output is deterministic: running it again gives the same files.
"""
import json
import os

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def norm(o):
    """Canonical key order: sort by the keys' UTF-8 bytes (bytes compare
    like memcmp, and a prefix sorts first)."""
    if isinstance(o, dict):
        return {k: norm(o[k]) for k in sorted(o, key=lambda k: k.encode())}
    if isinstance(o, list):
        return [norm(x) for x in o]
    return o


def canon(obj):
    return msgpack.packb(norm(obj), use_bin_type=True)


canonical = []


def ok(desc, value):
    b = canon(value)
    # Python's own decoder must give the value back (strict_map_key off for
    # nothing: every key here is a str).
    assert msgpack.unpackb(b, raw=False) == value, desc
    canonical.append({"description": desc, "hex": b.hex()})


def blob(n):
    return bytes(range(256)) * (n // 256) + bytes(range(n % 256))


# unsigned integers at every width boundary
for n in [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32,
          2**53 + 1, 2**63, 2**64 - 1]:
    ok(f"uint {n}", n)
# str headers: fixstr, str 8, str 16 (str 32 is above the 1024-byte limit)
for n in [0, 1, 31, 32, 255, 256, 1024]:
    ok(f"str of {n} bytes", "a" * n)
ok("str with 2-, 3- and 4-byte UTF-8", "학점은행 — credit bank ✓ 𝄞 é")
ok("str at the UTF-8 edges U+0000 U+007F U+0080 U+07FF U+0800 U+D7FF "
   "U+E000 U+FFFF U+10000 U+10FFFF",
   "\u0000\u007f\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff")
ok("str of 40 bytes with a multibyte char at the end", "a" * 38 + "é")
# bin headers: bin 8, bin 16, bin 32
for n in [0, 1, 32, 64, 255, 256, 65536]:
    ok(f"bin of {n} bytes", blob(n))
ok("booleans", [True, False])
ok("false", False)
ok("true", True)
# array and map headers: fix, 16 (32-bit counts need 65536 elements: the C
# tests build those, to keep this file small)
for n in [0, 1, 15, 16, 17]:
    ok(f"array of {n}", list(range(n)))
    ok(f"map of {n}", {f"k{i:02d}": i for i in range(n)})
ok("keys: the empty key first, then a prefix before its extensions",
   {"a": 1, "ab": 2, "b": 3, "": 0, "abc": 4})
ok("keys: UTF-8 byte order (upper case, lower case, then non-ASCII)",
   {"z": 1, "é": 2, "한": 3, "Z": 4, "𝄞": 5, "a": 6})
ok("keys: byte order, not length first", {"aa": 1, "b": 2})
ok("key of 1024 bytes (the limit)", {"k" * 1024: 1})
ok("mixed array", [0, "x", b"\x00", True, [], {}, {"a": [1]}])
ok("nested maps and arrays", {"body": {"credits": 3, "refs": [b"\x01" * 32],
                                       "m": {"x": [[], {}]}}, "v": 1})
ok("depth 16 (arrays)", [[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]])
d = 0
for _ in range(16):
    d = {"d": d}
ok("depth 16 (maps)", d)

# A typical entry, shaped like DESIGN 3.1 (keys sorted canonically).
ENTRY = {
    "v": 1, "ledger": b"\x03" * 32, "type": "outcome.deposit",
    "author": b"\x02" * 32, "ts": 1732270000000, "nonce": b"\x05" * 16,
    "account": b"\x01" * 32, "refs": [b"\x04" * 32],
    "body": {"attendance": 92, "class": "major", "compatible": True,
             "course": "CS101 Introduction to programming (K-MOOC)",
             "credits": 3, "grade": 88, "source": "mooc", "term": "2024Q3"},
}
ok("typical entry (outcome.deposit)", ENTRY)

rejected = []


def bad(desc, b, err):
    rejected.append({"description": desc, "hex": b.hex(), "error": err})


def m(*pairs):
    """A map from raw (key bytes, value bytes) pairs, in the given order."""
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(k + v for k, v in pairs)


def s(text):
    return canon(text)


# -- malformed: not MessagePack, or cut short
bad("empty input", b"", "malformed_msgpack")
bad("reserved byte 0xc1", b"\xc1", "malformed_msgpack")
bad("reserved byte 0xc1 in an array", b"\x92\x01\xc1", "malformed_msgpack")
bad("reserved byte 0xc1 as a map key", b"\x81\xc1\x01", "malformed_msgpack")
bad("truncated uint 16", b"\xcd\x01", "malformed_msgpack")
bad("truncated uint 64", b"\xcf\x00", "malformed_msgpack")
bad("truncated str", b"\xa5abc", "malformed_msgpack")
bad("truncated str 8 header", b"\xd9", "malformed_msgpack")
bad("truncated bin", b"\xc4\x05\x00", "malformed_msgpack")
bad("truncated map 16 header", b"\xde\x00", "malformed_msgpack")
bad("array missing an element", b"\x92\x01", "malformed_msgpack")
bad("map missing a value", b"\x81\xa1a", "malformed_msgpack")
bad("map missing a key", b"\x82\xa1a\x01", "malformed_msgpack")
bad("array 32 claims 2^32-1 elements (must not allocate)",
    b"\xdd\xff\xff\xff\xff", "malformed_msgpack")
bad("array 16 claims 300 elements with 299 bytes left",
    b"\xdc\x01\x2c" + b"\x00" * 299, "malformed_msgpack")
bad("map 32 claims 2^32-1 entries", b"\xdf\xff\xff\xff\xff",
    "malformed_msgpack")
bad("map 16 claims 65535 entries", b"\xde\xff\xff\x01\x02",
    "malformed_msgpack")
bad("map claims 3 entries with 5 bytes left", b"\x83\xa1a\x01\xa1b\x02",
    "malformed_msgpack")
bad("bin 32 claims 4 GiB", b"\xc6\xff\xff\xff\xff\x00", "malformed_msgpack")
bad("str 32 claims 4 GiB (cut short before it is too large)",
    b"\xdb\xff\xff\xff\xff", "malformed_msgpack")
bad("nested array claims 2^32-1", b"\x91\xdd\xff\xff\xff\xff",
    "malformed_msgpack")

# -- not canonical: types outside the canonical set
bad("nil", b"\xc0", "not_canonical")
bad("nil in an array", b"\x92\x01\xc0", "not_canonical")
bad("nil as a map value", m((s("a"), b"\xc0")), "not_canonical")
bad("float 32", msgpack.packb(1.5, use_single_float=True), "not_canonical")
bad("float 64", msgpack.packb(1.5), "not_canonical")
bad("float 64 zero", msgpack.packb(0.0), "not_canonical")
bad("negative fixint -1", msgpack.packb(-1), "not_canonical")
bad("negative fixint -32", msgpack.packb(-32), "not_canonical")
bad("int 8 -128", msgpack.packb(-128), "not_canonical")
bad("int 64", msgpack.packb(-2**40), "not_canonical")
bad("int 8 holding a positive value", b"\xd0\x05", "not_canonical")
bad("int 16 holding a positive value", b"\xd1\x01\x00", "not_canonical")
bad("int 32 holding 0", b"\xd2\x00\x00\x00\x00", "not_canonical")
bad("int 64 holding 2^40", b"\xd3\x00\x00\x01\x00\x00\x00\x00\x00",
    "not_canonical")
bad("ext 8", msgpack.packb(msgpack.ExtType(1, b"xyz")), "not_canonical")
bad("ext 16", b"\xc8\x00\x01\x01x", "not_canonical")
bad("ext 32", b"\xc9\x00\x00\x00\x01\x01x", "not_canonical")
bad("fixext 1", msgpack.packb(msgpack.ExtType(1, b"x")), "not_canonical")
bad("fixext 2", b"\xd5\x01xy", "not_canonical")
bad("fixext 4: timestamp 32", b"\xd6\xff\x00\x00\x00\x01", "not_canonical")
bad("fixext 8", b"\xd7\x01" + b"\x00" * 8, "not_canonical")
bad("fixext 16", b"\xd8\x01" + b"\x00" * 16, "not_canonical")
# -- not canonical: a longer header than the value needs
bad("uint 8 holding 5", b"\xcc\x05", "not_canonical")
bad("uint 8 holding 127", b"\xcc\x7f", "not_canonical")
bad("uint 16 holding 0", b"\xcd\x00\x00", "not_canonical")
bad("uint 16 holding 255", b"\xcd\x00\xff", "not_canonical")
bad("uint 32 holding 65535", b"\xce\x00\x00\xff\xff", "not_canonical")
bad("uint 64 holding 2^32 - 1", b"\xcf\x00\x00\x00\x00\xff\xff\xff\xff",
    "not_canonical")
bad("uint 64 holding 0", b"\xcf" + b"\x00" * 8, "not_canonical")
bad("str 8 holding 0 bytes", b"\xd9\x00", "not_canonical")
bad("str 8 holding 3 bytes", b"\xd9\x03abc", "not_canonical")
bad("str 8 holding 31 bytes", b"\xd9\x1f" + b"a" * 31, "not_canonical")
bad("str 16 holding 3 bytes", b"\xda\x00\x03abc", "not_canonical")
bad("str 16 holding 255 bytes", b"\xda\x00\xff" + b"a" * 255,
    "not_canonical")
bad("str 32 holding 65535 bytes (refused at the header)",
    b"\xdb\x00\x00\xff\xff", "not_canonical")
bad("bin 16 holding 3 bytes", b"\xc5\x00\x03abc", "not_canonical")
bad("bin 16 holding 255 bytes", b"\xc5\x00\xff" + b"\x00" * 255,
    "not_canonical")
bad("bin 32 holding 65535 bytes", b"\xc6\x00\x00\xff\xff", "not_canonical")
bad("array 16 holding 1", b"\xdc\x00\x01\x01", "not_canonical")
bad("array 16 holding 15", b"\xdc\x00\x0f" + b"\x00" * 15, "not_canonical")
bad("array 32 holding 65535", b"\xdd\x00\x00\xff\xff", "not_canonical")
bad("map 16 holding 1", b"\xde\x00\x01\xa1a\x01", "not_canonical")
bad("map 32 holding 65535", b"\xdf\x00\x00\xff\xff", "not_canonical")
bad("str 8 map key holding 1 byte", b"\x81\xd9\x01a\x01", "not_canonical")
bad("uint 8 deep inside", canon({"body": {"credits": 0}})[:-1] + b"\xcc\x03",
    "not_canonical")

# -- map keys
bad("integer map key", b"\x81\x01\x02", "wrong_type")
bad("bin map key", b"\x81\xc4\x01a\x01", "wrong_type")
bad("nil map key", b"\x81\xc0\x01", "wrong_type")
bad("bool map key", b"\x81\xc3\x01", "wrong_type")
bad("float map key", b"\x81\xca\x00\x00\x00\x00\x01", "wrong_type")
bad("array map key", b"\x81\x90\x01", "wrong_type")
bad("second key not a str", m((s("a"), b"\x01"), (b"\x05", b"\x01")),
    "wrong_type")
bad("keys out of order", m((s("b"), b"\x01"), (s("a"), b"\x02")),
    "key_order")
bad("longer key before its prefix", m((s("ab"), b"\x01"), (s("a"), b"\x02")),
    "key_order")
bad("empty key after another", m((s("a"), b"\x01"), (s(""), b"\x02")),
    "key_order")
bad("duplicate key", m((s("a"), b"\x01"), (s("a"), b"\x02")), "key_order")
bad("duplicate empty key", m((s(""), b"\x01"), (s(""), b"\x02")),
    "key_order")
bad("lower case before upper case", m((s("a"), b"\x01"), (s("B"), b"\x02")),
    "key_order")
bad("sorted by length instead of bytes",
    m((s("b"), b"\x01"), (s("aa"), b"\x02")), "key_order")
bad("non-ASCII key before an ASCII one",
    m((s("é"), b"\x01"), (s("z"), b"\x02")), "key_order")
bad("4-byte UTF-8 key before a 3-byte one",
    m((s("𝄞"), b"\x01"), (s("한"), b"\x02")), "key_order")
bad("keys out of order in a nested map",
    m((s("body"), m((s("y"), b"\x01"), (s("x"), b"\x02")))), "key_order")
bad("duplicate key in the 16th entry of a map 16",
    b"\xde\x00\x10" + b"".join(s(f"k{i:02d}") + b"\x00" for i in range(15))
    + s("k14") + b"\x00", "key_order")

# -- UTF-8
bad("invalid UTF-8: bad continuation", b"\xa2\xc3\x28", "bad_utf8")
bad("invalid UTF-8: lone continuation byte", b"\xa1\x80", "bad_utf8")
bad("invalid UTF-8: sequence cut at the end", b"\xa2\xe2\x82", "bad_utf8")
bad("invalid UTF-8: 0xff", b"\xa1\xff", "bad_utf8")
bad("invalid UTF-8: 0xf8 (5-byte form)", b"\xa5\xf8\x88\x80\x80\x80",
    "bad_utf8")
bad("overlong 2-byte (0xc0 0xaf)", b"\xa2\xc0\xaf", "bad_utf8")
bad("overlong NUL (modified UTF-8, 0xc0 0x80)", b"\xa2\xc0\x80", "bad_utf8")
bad("overlong 2-byte (0xc1 0xbf)", b"\xa2\xc1\xbf", "bad_utf8")
bad("overlong 3-byte (0xe0 0x9f 0xbf)", b"\xa3\xe0\x9f\xbf", "bad_utf8")
bad("overlong 4-byte (0xf0 0x8f 0xbf 0xbf)", b"\xa4\xf0\x8f\xbf\xbf",
    "bad_utf8")
bad("UTF-16 surrogate U+D800 in UTF-8", b"\xa3\xed\xa0\x80", "bad_utf8")
bad("UTF-16 surrogate U+DFFF in UTF-8", b"\xa3\xed\xbf\xbf", "bad_utf8")
bad("above U+10FFFF (0xf4 0x90)", b"\xa4\xf4\x90\x80\x80", "bad_utf8")
bad("above U+10FFFF (0xf5)", b"\xa4\xf5\x80\x80\x80", "bad_utf8")
bad("invalid UTF-8 after 40 ASCII bytes", b"\xd9\x29" + b"a" * 40 + b"\xff",
    "bad_utf8")
bad("invalid UTF-8 in a key", b"\x81\xa1\xff\x01", "bad_utf8")
bad("invalid UTF-8 in a nested value",
    m((s("a"), b"\x91\xa2\xed\xa0")), "bad_utf8")

# -- structure: one value, limits
bad("trailing byte", b"\x01\x02", "trailing_bytes")
bad("two maps", b"\x80\x80", "trailing_bytes")
bad("a complete entry and one more byte", canon(ENTRY) + b"\x00",
    "trailing_bytes")
bad("depth 17 (arrays)", b"\x91" * 16 + b"\x90", "too_deep")
bad("depth 17 (maps)", b"\x81\xa1d" * 16 + b"\x80", "too_deep")
bad("depth 17 (mixed)", b"\x91\x81\xa1d" * 8 + b"\x91\x00", "too_deep")
bad("str of 1025 bytes", canon("a" * 1025), "too_large")
bad("key of 1025 bytes", canon({"a" * 1025: 1}), "too_large")
bad("nested str of 1025 bytes", canon({"body": ["a" * 1025]}), "too_large")
bad("str 16 of 4096 bytes", canon("a" * 4096), "too_large")

# Every rejected vector must really be rejected by python-msgpack's own
# reading of canonical form, as far as it can tell: anything it decodes must
# re-encode to different bytes (or have non-str keys / non-canonical types).
for r in rejected:
    b = bytes.fromhex(r["hex"])
    try:
        v = msgpack.unpackb(b, raw=False, strict_map_key=False,
                            max_buffer_size=len(b) + 1)
    except Exception:
        continue
    try:
        again = canon(v)
    except Exception:
        continue
    assert again != b or r["error"] in ("too_large", "too_deep"), r


out = {"generator": "spec/vectors/gen_msgpack.py (python3-msgpack "
                    + ".".join(map(str, msgpack.version)) + ")",
       "canonical": canonical, "rejected": rejected}
path = os.path.join(HERE, "msgpack.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path}: {len(canonical)} canonical, {len(rejected)} rejected")

# Fuzz seeds: the small canonical vectors, the entry, a few near misses.
corpus = os.path.join(ROOT, "tests", "fuzz", "corpus", "decode")
os.makedirs(corpus, exist_ok=True)
for name in os.listdir(corpus):
    os.unlink(os.path.join(corpus, name))
seeds = [bytes.fromhex(c["hex"]) for c in canonical
         if len(c["hex"]) // 2 <= 1100]
picked = seeds[::2][:18] + [canon(ENTRY)]
near = ["uint 8 holding 5", "keys out of order", "overlong NUL (modified "
        "UTF-8, 0xc0 0x80)", "array 32 claims 2^32-1 elements (must not "
        "allocate)"]
picked += [bytes.fromhex(r["hex"]) for r in rejected
           if r["description"] in near]
for i, b in enumerate(picked):
    with open(os.path.join(corpus, f"seed{i:02d}"), "wb") as f:
        f.write(b)
print(f"wrote {len(picked)} seeds to {corpus}")
