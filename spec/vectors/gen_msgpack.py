#!/usr/bin/python3
"""Independent vectors for credbank's canonical MessagePack (DESIGN 3).

Made with Debian's python3-msgpack (never credbank's own code). Writes
msgpack.json beside this file:
  canonical: values python-msgpack encodes in canonical form (use_bin_type,
             dict keys sorted by their UTF-8 bytes) -- they must decode and
             re-encode to the same bytes;
  rejected:  byte strings that are valid or invalid MessagePack but not
             canonical, each with the stable error name credbank must give.
"""
import json
import os

import msgpack


def canon(obj):
    def norm(o):
        if isinstance(o, dict):
            return {k: norm(o[k]) for k in sorted(o, key=lambda k: k.encode())}
        if isinstance(o, list):
            return [norm(x) for x in o]
        return o
    return msgpack.packb(norm(obj), use_bin_type=True)


canonical = []


def ok(desc, value):
    canonical.append({"description": desc, "hex": canon(value).hex()})


for n in [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]:
    ok(f"uint {n}", n)
for n in [0, 1, 31, 32, 255, 256, 1024]:
    ok(f"str of {n} bytes", "a" * n)
ok("str with multibyte UTF-8", "학점은행 — credit bank ✓ 𝄞")
for n in [0, 1, 32, 255, 256, 70000]:
    ok(f"bin of {n} bytes", bytes(range(256)) * (n // 256) + bytes(range(n % 256)))
ok("booleans", [True, False])
for n in [0, 15, 16, 17]:
    ok(f"array of {n}", list(range(n)))
    ok(f"map of {n}", {f"k{i:02d}": i for i in range(n)})
ok("keys: prefix sorts first", {"a": 1, "ab": 2, "b": 3, "": 0})
ok("keys: UTF-8 byte order", {"z": 1, "é": 2, "한": 3, "Z": 4})
ok("nested maps and arrays", {"body": {"credits": 3, "refs": [b"\x01" * 32],
                                       "m": {"x": [[], {}]}}, "v": 1})
ok("depth 16", [[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]])

rejected = []


def bad(desc, b, err):
    rejected.append({"description": desc, "hex": b.hex(), "error": err})


bad("empty input", b"", "malformed_msgpack")
bad("nil", b"\xc0", "not_canonical")
bad("reserved 0xc1", b"\xc1", "malformed_msgpack")
bad("float 32", msgpack.packb(1.5, use_single_float=True), "not_canonical")
bad("float 64", msgpack.packb(1.5), "not_canonical")
bad("negative fixint", msgpack.packb(-1), "not_canonical")
bad("int 8 holding a positive value", b"\xd0\x05", "not_canonical")
bad("int 64", msgpack.packb(-2**40), "not_canonical")
bad("uint 8 holding 5", b"\xcc\x05", "not_canonical")
bad("uint 16 holding 200", b"\xcd\x00\xc8", "not_canonical")
bad("uint 32 holding 65535", b"\xce\x00\x00\xff\xff", "not_canonical")
bad("uint 64 holding 2^32 - 1", b"\xcf\x00\x00\x00\x00\xff\xff\xff\xff",
    "not_canonical")
bad("str 8 holding 3 bytes", b"\xd9\x03abc", "not_canonical")
bad("str 16 holding 3 bytes", b"\xda\x00\x03abc", "not_canonical")
bad("bin 16 holding 3 bytes", b"\xc5\x00\x03abc", "not_canonical")
bad("array 16 holding 1", b"\xdc\x00\x01\x01", "not_canonical")
bad("map 16 holding 1", b"\xde\x00\x01\xa1a\x01", "not_canonical")
bad("raw str (old spec) is fine but ext is not",
    msgpack.packb(msgpack.ExtType(1, b"x")), "not_canonical")
bad("timestamp ext", b"\xd6\xff\x00\x00\x00\x01", "not_canonical")
bad("keys out of order", b"\x82\xa1b\x01\xa1a\x02", "key_order")
bad("longer key before its prefix", b"\x82\xa2ab\x01\xa1a\x02", "key_order")
bad("duplicate key", b"\x82\xa1a\x01\xa1a\x02", "key_order")
bad("integer map key", b"\x81\x01\x02", "wrong_type")
bad("bin map key", b"\x81\xc4\x01a\x01", "wrong_type")
bad("invalid UTF-8", b"\xa2\xc3\x28", "bad_utf8")
bad("overlong UTF-8", b"\xa2\xc0\xaf", "bad_utf8")
bad("UTF-16 surrogate in UTF-8", b"\xa3\xed\xa0\x80", "bad_utf8")
bad("above U+10FFFF", b"\xa4\xf4\x90\x80\x80", "bad_utf8")
bad("invalid UTF-8 in a key", b"\x81\xa1\xff\x01", "bad_utf8")
bad("trailing byte", b"\x01\x02", "trailing_bytes")
bad("truncated str", b"\xa5abc", "malformed_msgpack")
bad("truncated uint", b"\xcd\x01", "malformed_msgpack")
bad("array claims 2^32-1 elements", b"\xdd\xff\xff\xff\xff", "malformed_msgpack")
bad("map claims 65535 entries", b"\xde\xff\xff\x01\x02", "malformed_msgpack")
bad("bin claims 4 GiB", b"\xc6\xff\xff\xff\xff\x00", "malformed_msgpack")
bad("depth 17", b"\x91" * 16 + b"\x90", "too_deep")
bad("str of 1025 bytes", canon("a" * 1025), "too_large")
bad("key of 1025 bytes", canon({"a" * 1025: 1}), "too_large")

out = {"generator": "spec/vectors/gen_msgpack.py (python3-msgpack)",
       "canonical": canonical, "rejected": rejected}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "msgpack.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path}: {len(canonical)} canonical, {len(rejected)} rejected")
