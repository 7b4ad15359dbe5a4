#!/usr/bin/env bash
# Makes spec/vectors/bundle-example.cbx and bundle-example.json, and the
# libFuzzer seeds tests/fuzz/corpus/bundle/*, by driving the built credbank
# binary: `credbank demo` (a fresh local ledger, random keys), `credbank
# export` of the demo learner, `credbank verify --json` for the expected
# summary, and python3-msgpack for tampered variants with their expected
# reasons. Usage: bash spec/vectors/gen_bundle.sh build-bundle/credbank
set -eu
CB=$(realpath "${1:?usage: gen_bundle.sh /path/to/credbank}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$CB" demo --local --out "$T/D" >"$T/demo.txt"
L=$(cat "$T/D/ledger-id")
acct=$(grep -o 'account [0-9a-f]\{64\}' "$T/demo.txt" | head -1 | cut -d' ' -f2)
"$CB" export "$acct" --dir "$T/D/ledger" -o "$HERE/bundle-example.cbx" >/dev/null
"$CB" verify "$HERE/bundle-example.cbx" --ledger "$L" --json >"$T/verify.json"
/usr/bin/python3 - "$HERE/bundle-example.cbx" "$T/verify.json" "$L" \
  "$HERE/bundle-example.json" "$ROOT/tests/fuzz/corpus/bundle" <<'PY'
import json, sys, os, msgpack
src, vj, lid, out, corpus = sys.argv[1:]
raw = open(src, "rb").read()
b = msgpack.unpackb(raw, raw=False)
assert msgpack.packb(b, use_bin_type=True) == raw
v = json.load(open(vj))
def etype(item):
    e, _ = msgpack.unpackb(item[1], raw=False)
    return msgpack.unpackb(e, raw=False)["type"]
variants = {}
def variant(name, reason, mutate):
    c = msgpack.unpackb(raw, raw=False)
    mutate(c)
    data = msgpack.packb(c, use_bin_type=True)
    variants[name] = {"reason": reason}
    open(os.path.join(corpus, name), "wb").write(bytes.fromhex(lid) + data)
os.makedirs(corpus, exist_ok=True)
open(os.path.join(corpus, "valid"), "wb").write(bytes.fromhex(lid) + raw)
variant("drop-cancel", "account_count",
        lambda c: c.__setitem__("entries", [x for x in c["entries"] if etype(x) != "credit.cancel"]))
variant("drop-governance", "governance_count", lambda c: c["governance"].pop(1))
def swap(c): c["entries"][3], c["entries"][4] = c["entries"][4], c["entries"][3]
variant("swap", "entry_order", swap)
def line(c): c["checkpoint"] = c["checkpoint"].rstrip("\n").rsplit("\n", 1)[0] + "\n"
variant("note-line", "note_quorum", line)
desc = {
    "file": "bundle-example.cbx",
    "made_by": "spec/vectors/gen_bundle.sh (credbank demo + export + verify)",
    "ledger_id": lid,
    "account": v["account"],
    "bytes": len(raw),
    "keys": list(b),
    "seal": v["seal"],
    "governance_entries": len(b["governance"]),
    "account_entries": len(b["entries"]),
    "account_number": b["account"][0],
    "entry_types": [etype(x) for x in b["entries"]],
    "checkpoint": b["checkpoint"],
    "expected": {"verify_exit": 0, "complete_as_of": v["complete_as_of"],
                 "active_credits": v["summary"]["active_credits"],
                 "fees_total": v["summary"]["fees"]["total"],
                 "count": v["summary"]["count"], "chain": v["summary"]["chain"]},
    "tampered": variants,
}
json.dump(desc, open(out, "w"), indent=1)
open(out, "a").write("\n")
PY
# every tampered variant is refused with its reason
for f in drop-cancel drop-governance swap note-line; do
  reason=$(/usr/bin/python3 -c "import json; print(json.load(open('$HERE/bundle-example.json'))['tampered']['$f']['reason'])")
  tail -c +33 "$ROOT/tests/fuzz/corpus/bundle/$f" >"$T/t.cbx"
  if "$CB" verify "$T/t.cbx" --ledger "$L" 2>"$T/err" >/dev/null; then
    echo "gen_bundle: $f verified" >&2; exit 1
  fi
  grep -q "invalid: $reason:" "$T/err" || { cat "$T/err" >&2; exit 1; }
done
echo "wrote $HERE/bundle-example.cbx, bundle-example.json and the fuzz seeds"
