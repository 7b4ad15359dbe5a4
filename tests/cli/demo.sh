#!/usr/bin/env bash
# credbank demo --out DIR: finishes quickly, prints the walk-through, and
# leaves ledger-id, vkeys, checkpoint.note, keys/, ledger/ and entries/; a
# rerun replaces its own output; a foreign non-empty directory is refused.
set -u
CB=$(realpath "${1:?usage: bash demo.sh /path/to/credbank}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0 fail=0

check() { # description, command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $d" >&2; fi
}
# expect DESCRIPTION STATUS STDERR_REGEX COMMAND...: exit status and stderr
expect() {
  local d=$1 want=$2 pat=$3; shift 3
  local got=0
  "$@" >out.txt 2>err.txt || got=$?
  if [ "$got" = "$want" ] && { [ -z "$pat" ] || grep -Eq -- "$pat" err.txt; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $d: exit $got (want $want); stderr: $(head -c 400 err.txt)" >&2
    tail -20 out.txt >&2
  fi
}

start=$(date +%s%N)
expect "demo runs" 0 "" "$CB" demo --out D
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "demo finishes within 15 s (took ${ms} ms)" test "$ms" -lt 15000
cp out.txt demo.txt
for code in A1 A2 A3 A4 A5 A6 A7; do
  check "step $code is shown" grep -q "^  $code " demo.txt
done
check "the attendance refusal is shown with its name" grep -q "REFUSED: below_threshold" demo.txt
check "the inclusion proof verifies" grep -q "cy_inclusion_verify: ok" demo.txt

check "ledger-id is 64 hex and a newline" python3 -c '
import re
s = open("D/ledger-id").read()
assert re.fullmatch(r"[0-9a-f]{64}\n", s), repr(s)'
check "vkeys: 3 verifier keys named by member" python3 -c '
import re
ls = open("D/vkeys").read().splitlines()
assert len(ls) == 3, ls
names = [l.split("+", 2)[0] for l in ls]
assert names == ["bank", "university", "provider"], names
for l in ls:
    assert re.fullmatch(r"[A-Za-z0-9._-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]", l), l'
check "checkpoint.note: body and 2 signature lines" python3 -c '
import base64
note = open("D/checkpoint.note").read()
body, sigs = note.split("\n\n", 1)
b = body.split("\n")
assert len(b) == 3 and b[0].startswith("credbank/") and int(b[1]) > 1
assert len(base64.b64decode(b[2], validate=True)) == 32
s = sigs.rstrip("\n").split("\n")
assert len(s) == 2 and all(l.startswith("\u2014 ") for l in s), s
lid = open("D/ledger-id").read().strip()
assert b[0] == "credbank/" + lid[:16], b[0]'
check "keys/ holds 7 key files of mode 600" test "$(find D/keys -name '*.key' -perm 600 | wc -l)" = 7
check "ledger/ is a ledger" test -f D/ledger/data.mdb
check "entries/ starts with genesis" test -f D/entries/000-genesis.cbe
n=$("$CB" status --dir D/ledger --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["size"])')
check "entries/ holds every log entry ($n)" test "$(ls D/entries | wc -l)" = "$n"
check "the genesis id is the ledger id" python3 - "$CB" <<'EOF'
import json, subprocess, sys
j = json.loads(subprocess.run([sys.argv[1], "entry", "inspect", "D/entries/000-genesis.cbe",
                               "--json"], capture_output=True, check=True).stdout)
assert j["id"] == open("D/ledger-id").read().strip() and len(j["sigs"]) == 6
EOF
expect "the ledger's checkpoint matches checkpoint.note and verifies" 0 "verified: 2" \
  "$CB" checkpoint --dir D/ledger --vkeys D/vkeys
check "same note" cmp -s out.txt D/checkpoint.note
acct=$(grep -o 'account [0-9a-f]\{64\}' demo.txt | head -1 | cut -d' ' -f2)
expect "account show --json on the demo ledger" 0 "" "$CB" account show "$acct" --dir D/ledger --json
expect "account history on the demo ledger" 0 "" "$CB" account history "$acct" --dir D/ledger --json
check "history has the walk's entries" python3 -c '
import json
t = [e["type"] for e in json.load(open("out.txt"))["entries"]]
for x in ("account.open", "credit.recognize", "program.change", "appeal.file", "appeal.decide",
          "credit.cancel", "class.change", "degree.award", "degree.link"):
    assert x in t, x'

old=$(cat D/ledger-id)
expect "a rerun replaces its own output" 0 "" "$CB" demo --out D
check "a new ledger" test "$(cat D/ledger-id)" != "$old"
mkdir other && echo keep >other/file
expect "a foreign non-empty directory is refused" 1 "exists" "$CB" demo --out other
check "and left alone" test "$(cat other/file)" = keep
expect "demo: unknown flag" 2 "--frob" "$CB" demo --frob

echo "cli/demo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
