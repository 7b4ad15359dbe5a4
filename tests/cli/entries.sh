#!/usr/bin/env bash
# credbank entry build (flags of several types), sign, submit; refusals
# with their error names; usage errors; entry inspect --json; account show
# and history --json.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash entries.sh /path/to/credbank}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$HERE/../lib/check.bash"

# ---- the demo consortium, as an operator would found it ----
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
 "governance_quorum": 2, "cosign_quorum": 2,
 "policy": {"fees": {"currency": "KRW", "account_open": 4000, "per_credit": 1000,
                     "link_free_credits": 80},
            "sources": {"mooc": {"min_grade": 60, "min_attendance": 80},
                        "school": {"appealable": true}, "part_time": {"appealable": true}},
            "degrees": {"associate": {"total": 80, "major": 45, "general": 15},
                        "bachelor": {"total": 140, "major": 60, "general": 30}},
            "seal_interval_ms": 20}}
EOF
"$CB" genesis build genesis.json --key bank.key -o genesis.cbe >/dev/null
for k in bank.node university university.node provider provider.node; do
  "$CB" sign genesis.cbe --key "$k.key" >/dev/null
done
expect "genesis submitted" 0 "" "$CB" submit genesis.cbe --dir L

# policy.set of a member's own scope needs no quorum
echo '{"sources": {"mooc": {"max_credits": 12, "learner_revocable": false}}}' >uni-policy.json
expect "policy.set (member scope)" 0 "" "$CB" entry build policy.set --key university.key --dir L \
  --scope university --policy @uni-policy.json -o policy.cbe
check "no quorum hint for a member scope" test "$(grep -c 'needs also\|quorum' out.txt)" = 0
expect "submit policy.set" 0 "" "$CB" submit policy.cbe --dir L

# ---- A1 account.open: pii from data and salt; the learner must sign ----
echo '{"name": "Kim Min-ji", "birth_date": "2001-03-14"}' >pii.json
salt=$(python3 -c 'import os; print(os.urandom(32).hex())')
echo "high school diploma" >diploma.txt
expect "account.open" 0 "" "$CB" entry build account.open --key bank.key --ledger @genesis.cbe \
  --learner-key "$(cat learner.vk)" --degree bachelor --major "computer science" \
  --education-level high_school --education-evidence @diploma.txt \
  --pii-data @pii.json --pii-salt "$salt" -o open.cbe
check "hints that the learner must sign" grep -q "learner" out.txt
expect "unsigned by the learner: refused" 1 "missing_signature" "$CB" submit open.cbe --dir L
expect "the learner signs" 0 "" "$CB" sign open.cbe --key learner.key
expect "account.open applied" 0 "" "$CB" submit open.cbe --dir L --json
check "fee 4000 at index 2" python3 -c '
import json
j = json.load(open("out.txt"))
r = j["results"][0]
assert j["ok"] and r["index"] == 2 and r["fee"] == 4000, r'
acct=$(python3 -c 'import json; print(json.load(open("out.txt"))["results"][0]["id"])')
check "pii commitment = SHA-256(salt || canonical msgpack of the data)" python3 - "$CB" "$salt" <<'EOF'
import hashlib, json, subprocess, sys
cb, salt = sys.argv[1], bytes.fromhex(sys.argv[2])
data = json.load(open("pii.json"))
# canonical msgpack of a map of str to str: fixmap, keys sorted by bytes
def s(x):
    b = x.encode()
    assert len(b) < 32
    return bytes([0xa0 | len(b)]) + b
mp = bytes([0x80 | len(data)]) + b"".join(s(k) + s(data[k]) for k in sorted(data, key=str.encode))
want = hashlib.sha256(salt + mp).hexdigest()
j = json.loads(subprocess.run([cb, "entry", "inspect", "open.cbe", "--json"],
                              capture_output=True, check=True).stdout)
body = j["entry"]["body"]
assert body["pii"] == want, (body["pii"], want)
assert body["education"]["evidence"] == hashlib.sha256(open("diploma.txt", "rb").read()).hexdigest()
assert body["fee_exempt"] is False and body["degree"] == "bachelor"
EOF

# ---- deposits and recognitions ----
expect "outcome.deposit (K-MOOC)" 0 "" "$CB" entry build outcome.deposit --key provider.key --dir L \
  --account "$acct" --source mooc --course KMOOC-AI101 --title "Introduction to AI" \
  --credits 3 --grade 88 --attendance 92 --term 2024Q1 --evidence @diploma.txt --compatible -o dep1.cbe
expect "submit deposit" 0 "" "$CB" submit dep1.cbe --dir L
expect "credit.recognize" 0 "" "$CB" entry build credit.recognize --key bank.key --dir L \
  --account @open.cbe --ref @dep1.cbe --credits 3 --class general --term 2024Q1 -o rec1.cbe
expect "submit recognition: fee 3000" 0 "" "$CB" submit rec1.cbe --dir L
check "fee 3000" grep -q "fee 3000" out.txt
"$CB" entry build credit.recognize --key bank.key --dir L --account "$acct" --ref @dep1.cbe \
  --credits 3 --class general --term 2024Q1 -o rec1b.cbe >/dev/null
expect "a second recognition of the deposit: already_recognized" 1 "already_recognized" \
  "$CB" submit rec1b.cbe --dir L
"$CB" entry build outcome.deposit --key provider.key --dir L --account "$acct" --source mooc \
  --course KMOOC-DS110 --title "Data Science Basics" --credits 3 --grade 91 --attendance 79 \
  --term 2024Q1 --evidence "$(printf '%064d' 7)" -o dep2.cbe >/dev/null
"$CB" submit dep2.cbe --dir L >/dev/null
"$CB" entry build credit.recognize --key bank.key --dir L --account "$acct" --ref @dep2.cbe \
  --credits 3 --class general --term 2024Q1 -o rec2.cbe >/dev/null
expect "attendance 79 < 80: below_threshold" 1 "below_threshold" "$CB" submit rec2.cbe --dir L
check "the refusal names the entry file" grep -q "rec2.cbe: refused" err.txt
"$CB" entry build credit.recognize --key provider.key --dir L --account "$acct" --ref @dep2.cbe \
  --credits 3 --class general --term 2024Q1 -o rec3.cbe >/dev/null
expect "a provider cannot recognise: author_not_authorised" 1 "author_not_authorised" \
  "$CB" submit rec3.cbe --dir L
"$CB" entry build credit.recognize --key learner.key --dir L --account "$acct" --ref @dep2.cbe \
  --credits 3 --class general --term 2024Q1 -o rec4.cbe >/dev/null
expect "a learner key cannot author: author_not_authorised" 1 "author_not_authorised" \
  "$CB" submit rec4.cbe --dir L
expect "submit --json reports the refusal" 1 "below_threshold" "$CB" submit rec2.cbe --dir L --json
check "JSON error name" python3 -c '
import json
j = json.load(open("out.txt"))
assert j["ok"] is False and j["results"][0]["error"] == "below_threshold"'

# school course, appeal in a later term
"$CB" entry build outcome.deposit --key provider.key --dir L --account "$acct" --source school \
  --course SC-DS --title "Data Structures" --credits 3 --grade 78 --term 2024Q1 \
  --evidence "$(printf '%064d' 8)" -o dep3.cbe >/dev/null
"$CB" entry build credit.recognize --key bank.key --dir L --account "$acct" --ref @dep3.cbe \
  --credits 2 --class major --term 2024Q1 -o rec5.cbe >/dev/null
expect "submit two entries as one batch" 0 "" "$CB" submit dep3.cbe rec5.cbe --dir L
check "two lines applied" test "$(grep -c 'applied at index' out.txt)" = 2
expect "appeal.file" 0 "" "$CB" entry build appeal.file --key bank.key --dir L --account "$acct" \
  --ref @rec5.cbe --reason "lab work not counted" --term 2024Q2 --sign learner.key -o appeal.cbe
expect "appeal.file applied" 0 "" "$CB" submit appeal.cbe --dir L
expect "appeal.decide upheld" 0 "" "$CB" entry build appeal.decide --key bank.key --dir L \
  --account "$acct" --ref @appeal.cbe --outcome upheld --credits 3 --class major -o decide.cbe
expect "appeal.decide applied" 0 "" "$CB" submit decide.cbe --dir L
expect "build class.change of an incompatible deposit" 0 "" "$CB" entry build class.change \
  --key bank.key --dir L --account "$acct" --ref @rec5.cbe --class general --sign learner.key -o cc.cbe
expect "class.change refused" 1 "not_compatible" "$CB" submit cc.cbe --dir L
"$CB" entry build class.change --key bank.key --dir L --account "$acct" --ref @rec1.cbe \
  --class major --sign learner.key -o cc1.cbe >/dev/null
expect "class.change of a compatible recognition" 0 "" "$CB" submit cc1.cbe --dir L
"$CB" entry build credit.cancel --key bank.key --dir L --account "$acct" --ref @rec1.cbe \
  --reason investigation -o cancel.cbe >/dev/null
expect "credit.cancel (investigation)" 0 "" "$CB" submit cancel.cbe --dir L

# ---- malformed input ----
printf '\x93\x01\x02' >short.cbe
expect "malformed .cbe: submit" 1 "\((malformed_msgpack|not_canonical|wrong_type|trailing_bytes|bad_value)\)" \
  "$CB" submit short.cbe --dir L
expect "malformed .cbe: inspect" 1 "\((malformed_msgpack|not_canonical|wrong_type|trailing_bytes|bad_value)\)" \
  "$CB" entry inspect short.cbe
head -c 40 rec1.cbe >trunc.cbe
expect "truncated .cbe" 1 "\((malformed_msgpack|not_canonical|wrong_type|trailing_bytes|bad_value)\)" \
  "$CB" entry inspect trunc.cbe
python3 - <<'EOF'
# flip one byte of the last signature: still decodes, no longer verifies
b = bytearray(open("rec1.cbe", "rb").read())
b[-1] ^= 1
open("badsig.cbe", "wb").write(bytes(b))
EOF
expect "a bad signature: inspect" 1 "bad_signature" "$CB" entry inspect badsig.cbe
expect "a bad signature: submit" 1 "bad_signature" "$CB" submit badsig.cbe --dir L
expect "a missing file" 1 "not_found" "$CB" submit nosuch.cbe --dir L

# ---- usage errors (exit 2, naming the flag) ----
B=("$CB" entry build credit.recognize --key bank.key --dir L --account "$acct" --ref @dep2.cbe -o u.cbe)
expect "unknown flag" 2 "--grade" "${B[@]}" --credits 3 --class major --term 2024Q1 --grade 3
expect "missing required field" 2 "--credits" "${B[@]}" --class major --term 2024Q1
expect "bad term" 2 "--term" "${B[@]}" --credits 3 --class major --term 2024Q5
expect "bad class" 2 "--class" "${B[@]}" --credits 3 --class majors --term 2024Q1
expect "credits must be >= 1" 2 "--credits" "${B[@]}" --credits 0 --class major --term 2024Q1
expect "credits must be a uint" 2 "--credits" "${B[@]}" --credits -3 --class major --term 2024Q1
expect "a flag given twice" 2 "twice" "${B[@]}" --credits 3 --credits 4 --class major --term 2024Q1
expect "grade above 100" 2 "--grade" "$CB" entry build outcome.deposit --key provider.key --dir L \
  --account "$acct" --source mooc --course X --title Y --credits 3 --grade 101 --term 2024Q1 \
  --evidence "$(printf '%064d' 1)" -o u.cbe
expect "bad source" 2 "--source" "$CB" entry build outcome.deposit --key provider.key --dir L \
  --account "$acct" --source moocs --course X --title Y --credits 3 --grade 1 --term 2024Q1 \
  --evidence "$(printf '%064d' 1)" -o u.cbe
expect "bad bool" 2 "--compatible" "$CB" entry build outcome.deposit --key provider.key --dir L \
  --account "$acct" --source mooc --course X --title Y --credits 3 --grade 1 --term 2024Q1 \
  --evidence "$(printf '%064d' 1)" --compatible maybe -o u.cbe
expect "bad evidence" 2 "--evidence" "$CB" entry build outcome.deposit --key provider.key --dir L \
  --account "$acct" --source mooc --course X --title Y --credits 3 --grade 1 --term 2024Q1 \
  --evidence abc -o u.cbe
expect "upheld needs credits and class" 2 "--credits" "$CB" entry build appeal.decide --key bank.key \
  --dir L --account "$acct" --ref @appeal.cbe --outcome upheld -o u.cbe
expect "rejected takes no credits" 2 "upheld" "$CB" entry build appeal.decide --key bank.key \
  --dir L --account "$acct" --ref @appeal.cbe --outcome rejected --credits 3 -o u.cbe
expect "recognize needs exactly one ref" 2 "--ref" "$CB" entry build credit.recognize --key bank.key \
  --dir L --account "$acct" --credits 3 --class major --term 2024Q1 -o u.cbe
expect "account types need --account" 2 "--account" "$CB" entry build credit.cancel --key bank.key \
  --dir L --ref @rec5.cbe --reason error -o u.cbe
expect "unknown type" 2 "unknown entry type" "$CB" entry build credit.frob --key bank.key --dir L -o u.cbe
expect "genesis is not built here" 2 "genesis build" "$CB" entry build genesis --key bank.key --dir L -o u.cbe
expect "missing --key" 2 "--key" "$CB" entry build degree.award --dir L --account "$acct" \
  --degree associate --major cs -o u.cbe
expect "missing -o" 2 "-o" "$CB" entry build degree.award --key bank.key --dir L --account "$acct" \
  --degree associate --major cs
expect "--ledger and --dir together" 2 "--ledger" "$CB" entry build degree.award --key bank.key \
  --dir L --ledger @genesis.cbe --account "$acct" --degree associate --major cs -o u.cbe
expect "submit without --dir" 2 "--dir" "$CB" submit rec1.cbe
expect "submit without files" 2 "FILE" "$CB" submit --dir L
expect "entry build TYPE --help lists the flags" 0 "" "$CB" entry build outcome.deposit --help
check "help lists --attendance" grep -q -- "--attendance" out.txt
check "no entry file was written by a usage error" test ! -e u.cbe

# ---- body from JSON, with flags on top ----
expect "--body JSON with a flag" 0 "" "$CB" entry build degree.award --key bank.key --dir L \
  --account "$acct" --body '{"degree": "associate", "major": "x"}' --major "computer science" -o award.cbe
expect "degree.award refused: requirements" 1 "requirements_unmet" "$CB" submit award.cbe --dir L

# ---- inspect --json ----
expect "entry inspect --json" 0 "" "$CB" entry inspect rec5.cbe --json
check "inspect: recognition fields" python3 - "$acct" <<'EOF'
import json, sys
j = json.load(open("out.txt"))
e = j["entry"]
assert j["type"] == "credit.recognize" and j["valid"] is True
assert e["account"] == sys.argv[1] and len(e["refs"]) == 1
assert e["body"] == {"class": "major", "credits": 2, "term": "2024Q1"}, e["body"]
assert len(j["sigs"]) == 1 and len(j["id"]) == 64
EOF

# ---- account views ----
expect "account history --json" 0 "" "$CB" account history "$acct" --dir L --json
check "history: types, fees, indexes in order" python3 - <<'EOF'
import json
j = json.load(open("out.txt"))
es = j["entries"]
types = [e["type"] for e in es]
assert types == ["account.open", "outcome.deposit", "credit.recognize", "outcome.deposit",
                 "outcome.deposit", "credit.recognize", "appeal.file", "appeal.decide",
                 "class.change", "credit.cancel"], types
assert es[0]["fee"] == 4000 and es[2]["fee"] == 3000 and es[5]["fee"] == 2000
idx = [e["index"] for e in es]
assert idx == sorted(idx) and idx[0] == 2
EOF
expect "account history (human)" 0 "" "$CB" account history @open.cbe --dir L
check "history: one line per entry plus a header" test "$(wc -l <out.txt)" = 11
expect "account show --json" 0 "" "$CB" account show "$acct" --dir L --json
check "show: status, learner, program, credits, fees, count" python3 - "$acct" <<'EOF'
import json, sys
v = json.load(open("out.txt"))
s = json.dumps(v)
assert "open" in s
assert v.get("count") == 10, v.get("count")
assert len(v.get("chain", "")) == 64
assert "computer science" in s and "bachelor" in s
# every deposit appears, with its recognition history
for c in ("KMOOC-AI101", "KMOOC-DS110", "SC-DS"):
    assert c in s, c
EOF
expect "account show (human)" 0 "" "$CB" account show "$acct" --dir L
check "show prints the deposits" grep -q "KMOOC-AI101" out.txt
expect "unknown account" 1 "account_unknown" "$CB" account show "$(printf '%064d' 0)" --dir L
expect "account show: bad id" 2 "ID" "$CB" account show xyz --dir L

echo "cli/entries: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
