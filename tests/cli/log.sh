#!/usr/bin/env bash
# credbank log root/prove/verify-proof/get/append, seal, cosign and
# checkpoint: proofs round-trip offline, tampered proofs fail, seals and
# cosigns become a final checkpoint whose note verifies (checked
# independently with python3-nacl when it is installed).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash log.sh /path/to/credbank}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$HERE/../lib/check.bash"

# ---- a small ledger ----
for m in bank university provider; do
  "$CB" keygen "$m" -o "$m.node.key" >"$m.node.vk" 2>/dev/null
  "$CB" keygen "$m.issuer" -o "$m.key" >"$m.vk" 2>/dev/null
done
"$CB" keygen learner >learner.vk 2>/dev/null
cat >genesis.json <<EOF
{"members": [
  {"name": "bank", "roles": ["registrar", "recognizer"],
   "node": "$(cat bank.node.vk)", "issuers": ["$(cat bank.vk)"]},
  {"name": "university", "roles": ["recognizer", "provider"],
   "node": "$(cat university.node.vk)", "issuers": ["$(cat university.vk)"]},
  {"name": "provider", "roles": ["provider"],
   "node": "$(cat provider.node.vk)", "issuers": ["$(cat provider.vk)"]}],
 "governance_quorum": 2, "cosign_quorum": 2, "origin": "example.org/credbank-test",
 "policy": {"fees": {"currency": "KRW", "account_open": 4000, "per_credit": 1000,
                     "link_free_credits": 80},
            "sources": {}, "degrees": {}, "seal_interval_ms": 20}}
EOF
"$CB" genesis build genesis.json --key bank.key -o genesis.cbe >/dev/null
for k in bank.node university university.node provider provider.node; do
  "$CB" sign genesis.cbe --key "$k.key" >/dev/null
done
"$CB" entry build account.open --key bank.key --ledger @genesis.cbe \
  --learner-key "$(cat learner.vk)" --degree bachelor --major history \
  --education-level high_school --education-evidence "$(printf '%064d' 1)" \
  --pii "$(printf '%064d' 2)" --sign learner.key -o open.cbe >/dev/null
files=(genesis.cbe open.cbe)
for i in 1 2 3 4 5; do
  "$CB" entry build outcome.deposit --key provider.key --ledger @genesis.cbe --account @open.cbe \
    --source other --course "C$i" --title "Course $i" --credits "$i" --grade 70 --term 2024Q1 \
    --evidence "$(printf '%064d' "$i")" -o "d$i.cbe" >/dev/null
  files+=("d$i.cbe")
done
expect "log append (= submit) of 7 entries" 0 "" "$CB" log append "${files[@]}" --dir L
check "7 applied" test "$(grep -c 'applied at index' out.txt)" = 7

expect "log root" 0 "" "$CB" log root --dir L
check "root of 7" grep -q "^size 7$" out.txt
expect "log root --size 3 --json" 0 "" "$CB" log root --dir L --size 3 --json
root3=$(python3 -c 'import json; print(json.load(open("out.txt"))["root"])')
check "root is 64 hex" grep -Eq '^[0-9a-f]{64}$' <<<"$root3"
expect "log root --size beyond the log" 1 "out_of_range" "$CB" log root --dir L --size 8
check "root of size 1 = leaf hash of genesis (RFC 9162)" python3 - "$CB" <<'EOF'
import hashlib, json, subprocess, sys
out = subprocess.run([sys.argv[1], "log", "root", "--dir", "L", "--size", "1", "--json"],
                     capture_output=True, check=True).stdout
leaf = open("genesis.cbe", "rb").read()
assert json.loads(out)["root"] == hashlib.sha256(b"\0" + leaf).hexdigest()
EOF

expect "log get 0 -o" 0 "" "$CB" log get 0 --dir L -o got0.cbe
check "leaf 0 is the genesis file, byte for byte" cmp -s got0.cbe genesis.cbe
expect "log get 1 --json" 0 "" "$CB" log get 1 --dir L --json
check "log get shows the entry" python3 -c '
import json
j = json.load(open("out.txt"))
assert j["type"] == "account.open" and j["index"] == 1 and j["valid"]'
expect "log get beyond the log" 1 "out_of_range" "$CB" log get 7 --dir L

# ---- proofs ----
expect "log prove 3 --json" 0 "" "$CB" log prove 3 --dir L --json
read -r lh size root proof < <(python3 -c '
import json
j = json.load(open("out.txt"))
print(j["leaf_hash"], j["size"], j["root"], " ".join(j["proof"]))')
check "proof is against the whole log" test "$size" = 7
check "independent RFC 9162 check of the proof" python3 - <<'EOF'
import hashlib, json
j = json.load(open("out.txt"))
h = lambda b: hashlib.sha256(b).digest()
leaf = open("d2.cbe", "rb").read()
assert j["leaf_hash"] == h(b"\0" + leaf).hex()
# RFC 9162 section 2.1.3.2
fn, sn, r = j["index"], j["size"] - 1, bytes.fromhex(j["leaf_hash"])
for p in map(bytes.fromhex, j["proof"]):
    if sn == 0: raise SystemExit("proof too long")
    if fn & 1 or fn == sn:
        r = h(b"\1" + p + r)
        while not fn & 1 and fn:
            fn >>= 1; sn >>= 1
    else:
        r = h(b"\1" + r + p)
    fn >>= 1; sn >>= 1
assert sn == 0 and r.hex() == j["root"]
EOF
# shellcheck disable=SC2086
expect "verify-proof with the leaf file" 0 "" "$CB" log verify-proof --leaf d2.cbe --index 3 \
  --size "$size" --root "$root" $proof
# shellcheck disable=SC2086
expect "verify-proof with the leaf hash" 0 "" "$CB" log verify-proof --leaf-hash "$lh" --index 3 \
  --size "$size" --root "$root" $proof
bad=$(python3 -c 'import sys; p = sys.argv[1]; print(("0" if p[0] != "0" else "1") + p[1:])' "$proof")
# shellcheck disable=SC2086
expect "a tampered proof fails" 1 "bad_value" "$CB" log verify-proof --leaf d2.cbe --index 3 \
  --size "$size" --root "$root" $bad
# shellcheck disable=SC2086
expect "the wrong index fails" 1 "" "$CB" log verify-proof --leaf d2.cbe --index 2 \
  --size "$size" --root "$root" $proof
# shellcheck disable=SC2086
expect "the wrong leaf fails" 1 "" "$CB" log verify-proof --leaf d3.cbe --index 3 \
  --size "$size" --root "$root" $proof
expect "a short proof fails" 1 "" "$CB" log verify-proof --leaf d2.cbe --index 3 \
  --size "$size" --root "$root"
expect "prove in an older tree" 0 "" "$CB" log prove 1 --dir L --size 3 --json
read -r lh3 proof3 < <(python3 -c '
import json
j = json.load(open("out.txt"))
print(j["leaf_hash"], " ".join(j["proof"]))')
# shellcheck disable=SC2086
expect "verify in the older tree" 0 "" "$CB" log verify-proof --leaf-hash "$lh3" --index 1 \
  --size 3 --root "$root3" $proof3
expect "prove: index beyond size" 1 "out_of_range" "$CB" log prove 5 --dir L --size 3
expect "verify-proof: missing --root" 2 "--root" "$CB" log verify-proof --leaf d2.cbe --index 3 --size 7
expect "verify-proof: bad hash" 2 "hex" "$CB" log verify-proof --leaf d2.cbe --index 3 --size 7 \
  --root "$root" abc
expect "verify-proof: both leaf forms" 2 "--leaf" "$CB" log verify-proof --leaf d2.cbe \
  --leaf-hash "$lh" --index 3 --size 7 --root "$root"
expect "log prove: bad index" 2 "INDEX" "$CB" log prove x --dir L
expect "log: unknown subcommand" 2 "" "$CB" log frob

# ---- seal, cosign, checkpoint ----
expect "checkpoint before any seal" 1 "not_found" "$CB" checkpoint --dir L
expect "a provider's issuer key cannot seal" 1 "author_not_authorised" "$CB" seal --dir L --key provider.key
expect "seal by the bank node" 0 "" "$CB" seal --dir L --key bank.node.key -o seal.cbe
check "the seal is entry 7" grep -q "applied at index 7" out.txt
expect "nothing new to seal" 1 "seal_empty" "$CB" seal --dir L --key bank.node.key
expect "cosign: --name must be a member" 1 "member_unknown" "$CB" cosign --dir L --key bank.node.key \
  --name nobody
expect "cosign by the bank node" 0 "" "$CB" cosign --dir L --key bank.node.key --name bank
expect "not final with one cosign" 1 "not_found" "$CB" checkpoint --dir L
expect "a second cosign by the same member" 1 "cosign_duplicate" "$CB" cosign --dir L \
  --key bank.node.key --name bank
expect "an issuer key cannot cosign" 1 "" "$CB" cosign --dir L --key university.key --name university
expect "cosign by the university node" 0 "" "$CB" cosign --dir L --key university.node.key \
  --name university
check "reports finality" grep -q "is final" out.txt
expect "checkpoint" 0 "" "$CB" checkpoint --dir L
cp out.txt note.txt
check "note body: origin, size 8, base64 root" python3 - "$CB" <<'EOF'
import base64, json, subprocess, sys
note = open("note.txt").read()
body, sigs = note.split("\n\n", 1)
lines = body.split("\n")
assert lines[0] == "example.org/credbank-test" and lines[1] == "8", lines
root = base64.b64decode(lines[2], validate=True)
out = subprocess.run([sys.argv[1], "log", "root", "--dir", "L", "--size", "8", "--json"],
                     capture_output=True, check=True).stdout
assert root.hex() == json.loads(out)["root"]
sl = sigs.rstrip("\n").split("\n")
assert len(sl) == 2 and all(l.startswith("\u2014 ") for l in sl), sl
assert sl[0].split(" ")[1] == "bank" and sl[1].split(" ")[1] == "university"
EOF
printf '%s\n%s\n%s\n' "$(cat bank.node.vk)" "$(cat university.node.vk)" "$(cat provider.node.vk)" >vkeys
expect "checkpoint --vkeys verifies the note" 0 "verified: 2" "$CB" checkpoint --dir L --vkeys vkeys
if python3 -c 'import nacl' 2>/dev/null; then
  check "python3-nacl verifies the note's signatures" python3 - <<'EOF'
import base64, hashlib, nacl.signing
note = open("note.txt").read()
body = note.split("\n\n", 1)[0] + "\n"
keys = {}
for vk in open("vkeys").read().split():
    name, h, b = vk.split("+", 2)
    keys[(name, h)] = nacl.signing.VerifyKey(base64.b64decode(b)[1:])
n = 0
for line in note.split("\n\n", 1)[1].strip("\n").split("\n"):
    _, name, b = line.split(" ")
    raw = base64.b64decode(b)
    keys[(name, raw[:4].hex())].verify(body.encode(), raw[4:])
    n += 1
assert n == 2
EOF
fi
printf '%s\n' "$(cat provider.node.vk)" >vkeys1
expect "checkpoint --vkeys with too few known keys" 1 "quorum_not_met" "$CB" checkpoint --dir L --vkeys vkeys1
expect "checkpoint --json" 0 "" "$CB" checkpoint --dir L --json
check "checkpoint --json: seal 7, size 8" python3 -c '
import json
j = json.load(open("out.txt"))
assert j["seal"] == 7 and j["size"] == 8 and j["note"] == open("note.txt").read()'
expect "status after finality" 0 "" "$CB" status --dir L --json
check "status: final seal 7, size 10" python3 -c '
import json
j = json.load(open("out.txt"))
assert j["final_seal"] == 7 and j["size"] == 10 and j["since_seal"] == 0, j'
# the account.open is in the checkpoint's tree: prove against the note's root
expect "prove account.open in the checkpoint's tree" 0 "" "$CB" log prove 1 --dir L --size 8 --json
read -r lh8 proof8 < <(python3 -c '
import json
j = json.load(open("out.txt"))
print(j["leaf_hash"], " ".join(j["proof"]))')
noteroot=$(python3 -c '
import base64
print(base64.b64decode(open("note.txt").read().split("\n")[2]).hex())')
# shellcheck disable=SC2086
expect "verify against the note's root" 0 "" "$CB" log verify-proof --leaf open.cbe --index 1 \
  --size 8 --root "$noteroot" $proof8
expect "seal: missing --key" 2 "--key" "$CB" seal --dir L
expect "cosign: missing --name" 2 "--name" "$CB" cosign --dir L --key bank.node.key

echo "cli/log: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
