#!/usr/bin/env bash
# credbank export / verify: a learner's bundle from the demo ledger verifies
# offline (also without a network namespace), and every tampering is refused
# with its named reason (spec/bundle.md). Tampered files are made with
# python3-msgpack, which re-encodes the decoded bundle byte for byte.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash bundle.sh /path/to/credbank}")
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$HERE/../lib/check.bash"

# tamper IN OUT MODE [ARG]: rewrites a bundle with python3-msgpack
tamper() {
  "$PY" - "$@" <<'EOF'
import sys, msgpack
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
raw = open(src, "rb").read()
b = msgpack.unpackb(raw, raw=False)
assert msgpack.packb(b, use_bin_type=True) == raw, "re-encoding differs"

def etype(item):
    entry, sigs = msgpack.unpackb(item[1], raw=False)
    return msgpack.unpackb(entry, raw=False)["type"]

out = None
if mode == "flip":            # a flipped byte inside entries[3]'s signature
    e = bytearray(b["entries"][3][1]); e[-5] ^= 1; b["entries"][3][1] = bytes(e)
elif mode == "drop-type":     # drop the account's entry of type arg
    b["entries"] = [x for x in b["entries"] if etype(x) != arg]
elif mode == "drop-gov":      # drop governance[1]
    del b["governance"][1]
elif mode == "swap":          # entries 3 and 4 change places
    b["entries"][3], b["entries"][4] = b["entries"][4], b["entries"][3]
elif mode == "note-line":     # the last signature line of the note removed
    b["checkpoint"] = b["checkpoint"].rstrip("\n").rsplit("\n", 1)[0] + "\n"
elif mode == "slip":          # the first entry of bundle arg slipped in
    other = msgpack.unpackb(open(arg, "rb").read(), raw=False)
    b["entries"].append(other["entries"][0])
elif mode == "unknown-key":
    b["x"] = 1
elif mode == "noncanon":      # v: 1 written as uint16 (cd 00 01)
    out = msgpack.packb(b, use_bin_type=True)
    assert out.endswith(b"\xa1v\x01")
    out = out[:-1] + b"\xcd\x00\x01"
elif mode == "trailing":
    out = raw + b"\x00"
elif mode == "truncate":
    out = raw[:-10]
elif mode == "leaf-status":   # the account leaf says cancelled
    leaf = bytearray(b["account"][1]); leaf[72] = 1; b["account"][1] = bytes(leaf)
else:
    sys.exit("unknown mode " + mode)
if out is None:
    out = msgpack.packb(b, use_bin_type=True)
open(dst, "wb").write(out)
EOF
}

expect "demo runs" 0 "" "$CB" demo --local --out D
L=$(cat D/ledger-id)
acct=$(grep -o 'account [0-9a-f]\{64\}' out.txt | head -1 | cut -d' ' -f2)
check "the demo names the learner's account" test ${#acct} = 64

# ---- export and verify ----
expect "export" 0 "" "$CB" export "$acct" --dir D/ledger -o a.cbx
check "a.cbx exists" test -s a.cbx
expect "verify: valid" 0 "" "$CB" verify a.cbx --ledger "$L"
check "prints the summary" grep -q "active credits 83 total" out.txt
check "prints complete as of the seal's UTC time" \
  grep -Eq "^complete as of [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ UTC" out.txt
expect "verify --json" 0 "" "$CB" verify a.cbx --ledger "$L" --json
"$CB" account show "$acct" --dir D/ledger --json >show.json
check "the summary is the node's account view" "$PY" -c '
import json
v = json.load(open("out.txt")); s = json.load(open("show.json"))
assert v["valid"] is True and v["account"] == s["id"], v["account"]
assert v["summary"] == s, [k for k in s if s[k] != v["summary"].get(k)]
assert v["seal"]["checkpoint_size"] == v["seal"]["index"] + 1
assert "UTC" in v["complete_as_of"]'
check "the bundle is a canonical map with the keys of DESIGN 3.5" "$PY" -c '
import msgpack
raw = open("a.cbx", "rb").read()
b = msgpack.unpackb(raw, raw=False)
assert list(b) == ["account", "checkpoint", "entries", "governance", "seal", "v"], list(b)
assert msgpack.packb(b, use_bin_type=True) == raw
assert len(b["account"][1]) == 73 and b["v"] == 1
assert len(b["entries"]) == 25 and len(b["governance"]) == 2'

if unshare -n true 2>/dev/null; then
  expect "verify without a network (unshare -n)" 0 "" unshare -n "$CB" verify a.cbx --ledger "$L"
else
  echo "skip: unshare -n is not permitted here; offline check not run" >&2
fi

# ---- a second account, sealed later: another final checkpoint ----
"$CB" keygen learner2 -o learner2.key >l2.txt 2>&1
vk=$(grep -o 'learner2+[^ ]*' l2.txt | head -1)
echo '{"name": "Lee Seo-yeon", "birth_date": "1999-07-02"}' >pii.json
salt=$("$PY" -c 'import os; print(os.urandom(32).hex())')
echo diploma >diploma.txt
expect "account.open of a second learner" 0 "" "$CB" entry build account.open \
  --key D/keys/bank.issuer.key --ledger @D/entries/000-genesis.cbe --learner-key "$vk" \
  --degree bachelor --major history --education-level high_school \
  --education-evidence @diploma.txt --pii-data @pii.json --pii-salt "$salt" -o open2.cbe
expect "the learner signs" 0 "" "$CB" sign open2.cbe --key learner2.key
expect "submit" 0 "" "$CB" submit open2.cbe --dir D/ledger
acct2=$("$CB" entry inspect open2.cbe --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect "seal" 0 "" "$CB" seal --dir D/ledger --key D/keys/bank.node.key
expect "cosign bank" 0 "" "$CB" cosign --dir D/ledger --key D/keys/bank.node.key --name bank
expect "cosign university" 0 "" "$CB" cosign --dir D/ledger --key D/keys/university.node.key \
  --name university
expect "an old bundle still verifies" 0 "" "$CB" verify a.cbx --ledger "$L"
expect "export at the new checkpoint" 0 "" "$CB" export "$acct" --dir D/ledger -o a2.cbx
expect "verify it" 0 "" "$CB" verify a2.cbx --ledger "$L"
check "it is complete as of the new seal" grep -q "checkpoint of 35 entries" out.txt
printf '{"salt": "%s", "data": %s}' "$salt" "$(cat pii.json)" >disclose.json
expect "export with a disclosure" 0 "" "$CB" export "$acct2" --dir D/ledger -o b.cbx \
  --disclose @disclose.json
expect "verify shows the disclosed data" 0 "" "$CB" verify b.cbx --ledger "$L"
check "disclosed" grep -q "Lee Seo-yeon" out.txt
printf '{"salt": "%s", "data": {"name": "Someone Else"}}' "$salt" >wrong.json
expect "a disclosure that does not open the pii is refused" 1 "invalid_argument" \
  "$CB" export "$acct2" --dir D/ledger -o c.cbx --disclose @wrong.json

# ---- tampering, each refused with its reason ----
refused() { # DESCRIPTION REASON FILE [extra verify args]
  local d=$1 reason=$2 f=$3; shift 3
  expect "$d: $reason" 1 "invalid: $reason: .*\(bundle_invalid\)" "$CB" verify "$f" --ledger "$L" "$@"
}
tamper a.cbx t1.cbx flip;                     refused "a flipped byte in an entry" inclusion t1.cbx
tamper a.cbx t2.cbx drop-type credit.cancel;  refused "a cancellation dropped" account_count t2.cbx
tamper a.cbx t3.cbx drop-gov;                 refused "a governance entry dropped" governance_count t3.cbx
tamper a.cbx t4.cbx swap;                     refused "reordered entries" entry_order t4.cbx
tamper a.cbx t5.cbx note-line;                refused "a note line removed below quorum" note_quorum t5.cbx
tamper a2.cbx t6.cbx slip b.cbx;              refused "another account's entry slipped in" foreign_entry t6.cbx
tamper a.cbx t7.cbx truncate;                 refused "a truncated file" malformed t7.cbx
tamper a.cbx t8.cbx noncanon;                 refused "a non-canonical encoding" malformed t8.cbx
check "  named not_canonical" grep -q "not_canonical" err.txt
tamper a.cbx t9.cbx unknown-key;              refused "an unknown key" malformed t9.cbx
check "  named unknown_key" grep -q "unknown_key" err.txt
tamper a.cbx t10.cbx trailing;                refused "trailing bytes" malformed t10.cbx
tamper a.cbx t11.cbx leaf-status;             refused "a leaf with another status" account_proof t11.cbx
expect "wrong ledger id: genesis_mismatch" 1 "invalid: genesis_mismatch" \
  "$CB" verify a.cbx --ledger "$(printf '%064d' 0)"
expect "--json failure names the reason" 1 "" "$CB" verify t4.cbx --ledger "$L" --json
check "  reason in the JSON" "$PY" -c '
import json
j = json.load(open("out.txt")); assert j["valid"] is False and j["reason"] == "entry_order", j'
printf 'not a bundle' >junk.cbx
refused "not msgpack at all" malformed junk.cbx

# ---- several files: one verifier for all, each judged alone ----
expect "verify four files, one tampered" 1 "t4.cbx: invalid: entry_order" \
  "$CB" verify a.cbx a2.cbx t4.cbx b.cbx --ledger "$L"
check "  each file is headed" test "$(grep -c '^== ' out.txt)" = 4
check "  the tampered one named under its heading" \
  sh -c 'grep -A1 -x "== t4.cbx" out.txt | grep -q "^invalid: entry_order: "' 
check "  the count" grep -qx "3 of 4 bundles valid" out.txt
check "  the disclosed data of the last" grep -q "Lee Seo-yeon" out.txt
expect "verify three valid files" 0 "" "$CB" verify a.cbx a2.cbx b.cbx --ledger "$L"
check "  the count" grep -qx "3 of 3 bundles valid" out.txt
expect "--json of several files" 1 "" \
  "$CB" verify a.cbx t4.cbx b.cbx nothing.cbx --ledger "$L" --json
cp out.txt many.json
for f in a.cbx b.cbx; do
  "$CB" verify "$f" --ledger "$L" --json >"one-$f.json"
done
check "  an array, one object per readable file, each as verify of it alone" "$PY" -c '
import json
m = json.load(open("many.json"))
assert [x["file"] for x in m] == ["a.cbx", "t4.cbx", "b.cbx"], m
for x in m: del x["file"]
assert m[0] == json.load(open("one-a.cbx.json"))
assert m[1]["valid"] is False and m[1]["reason"] == "entry_order", m[1]
assert m[2] == json.load(open("one-b.cbx.json"))'
check "  the unreadable file named on stderr" grep -q "nothing.cbx: .*not_found" err.txt

# ---- --not-before ----
future=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
refused "a stale seal" seal_stale a.cbx --not-before "$future"
refused "a stale seal (Unix seconds)" seal_stale a.cbx --not-before "$(( $(date +%s) + 3600 ))"
expect "an older --not-before passes" 0 "" "$CB" verify a.cbx --ledger "$L" \
  --not-before "$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%S.250+09:00)"
expect "--not-before 1000000000 passes" 0 "" "$CB" verify a.cbx --ledger "$L" --not-before 1000000000
for bad in yesterday 2025-01-01T00:00:00 2025-13-01T00:00:00Z 2025-02-29T00:00:00Z 1.5 -5 ""; do
  expect "--not-before '$bad' is a usage error" 2 "usage" "$CB" verify a.cbx --ledger "$L" --not-before "$bad"
done

# ---- usage ----
expect "verify without --ledger" 2 "usage" "$CB" verify a.cbx
expect "verify with a short ledger id" 2 "usage" "$CB" verify a.cbx --ledger abcd
expect "verify: unknown flag" 2 "--frob" "$CB" verify a.cbx --ledger "$L" --frob
expect "export without -o" 2 "usage" "$CB" export "$acct" --dir D/ledger
expect "export of an unknown account" 1 "not_found" "$CB" export "$(printf '%064d' 1)" --dir D/ledger -o x.cbx
expect "verify a missing file" 1 "not_found" "$CB" verify nothing.cbx --ledger "$L"

echo "cli/bundle: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
