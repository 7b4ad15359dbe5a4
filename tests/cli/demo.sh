#!/usr/bin/env bash
# credbank demo --out DIR: the three-node walk-through. It starts three
# credbankd (next to credbank), walks a learner through A1-A7 over HTTP
# (following the leader), prints the account from a node, stops the nodes,
# exports and verifies the learner's bundle, and leaves ledger-id, vkeys,
# checkpoint.note, genesis.cbe, keys/, entries/, learner.cbx, node1..3/ and
# their logs; no credbankd is left running, also after SIGINT; a rerun
# replaces its own output; a foreign non-empty directory is refused.
# `demo --local` is the single-process walk-through over a local ledger.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash demo.sh /path/to/credbank}")
T=$(mktemp -d)
cd "$T"
# credbankd processes whose working directory is this test's
ours() {
  local p
  for p in $(pgrep -x credbankd); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$T" ] && echo "$p"
  done
}
cleanup() { for p in $(ours); do kill -9 "$p"; done; rm -rf "$T"; }
trap cleanup EXIT
. "$HERE/../lib/check.bash"

start=$(date +%s%N)
expect "demo runs" 0 "" "$CB" demo --out D
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "demo finishes within 30 s (took ${ms} ms)" test "$ms" -lt 30000
check "quiet: nothing on stderr" test ! -s err.txt
cp out.txt demo.txt
check "no credbankd left running" test -z "$(ours)"
for code in A1 A2 A3 A4 A5 A6 A7; do
  check "step $code is shown" grep -q "^  $code " demo.txt
done
check "three nodes started" test "$(grep -c '^  node [123] ' demo.txt)" = 3
check "a leader is found" grep -Eq "^  leader: node [123] " demo.txt
check "the first entry went to a follower and followed the leader" grep -q "answered not_leader: now submitting to the leader" demo.txt
check "every accepted entry shows its index and final checkpoint" test "$(grep -Ec '@[0-9]+ +final [0-9]+$' demo.txt)" = 26
check "the attendance refusal is shown with its name" grep -q "REFUSED: below_threshold (HTTP 409)" demo.txt
check "the programme change refusal too" grep -q "REFUSED: not_learner_revocable" demo.txt
check "the nodes agree" grep -q "the three nodes agree" demo.txt
check "the account is read from a node" grep -Eq "^active credits 83 total" demo.txt
check "the checkpoint's signatures verify" grep -q "verify with D/vkeys (cosign quorum 2)" demo.txt
check "the bundle verifies offline" grep -q "^  valid: 25 account entries" demo.txt
check "as the node showed" grep -q "83 active credits (as the node showed)" demo.txt

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
for i in 1 2 3; do
  check "node$i/ holds its ledger" test -f "D/node$i/ledger/data.mdb"
  check "node$i.log ends with a clean stop" grep -q "credbankd: stopped" "D/node$i.log"
done
check "genesis.cbe is entries/000-genesis.cbe" cmp -s D/genesis.cbe D/entries/000-genesis.cbe
check "the genesis id is the ledger id, 6 signatures" python3 - "$CB" <<'EOF'
import json, subprocess, sys
j = json.loads(subprocess.run([sys.argv[1], "entry", "inspect", "D/genesis.cbe",
                               "--json"], capture_output=True, check=True).stdout)
assert j["id"] == open("D/ledger-id").read().strip() and len(j["sigs"]) == 6
EOF
n=$("$CB" status --dir D/node1/ledger --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["size"])')
check "entries/ holds every log entry of node 1 ($n) and the 2 refused" test "$(ls D/entries | wc -l)" = "$((n + 2))"
check "the refused entries are kept" test "$(ls D/entries/refused-*.cbe | wc -l)" = 2
check "entries/ has the nodes' seals and cosigns" test "$(ls D/entries/*-cosign.cbe | wc -l)" -ge 10
expect "node 1's ledger: its checkpoint verifies with vkeys" 0 "verified: 2" \
  "$CB" checkpoint --dir D/node1/ledger --vkeys D/vkeys
expect "credbank verify learner.cbx --ledger ID" 0 "" "$CB" verify D/learner.cbx --ledger "$(cat D/ledger-id)"
check "verify prints the summary" grep -q "active credits 83 total" out.txt
acct=$(grep -o 'account [0-9a-f]\{64\}' demo.txt | head -1 | cut -d' ' -f2)
check "the account id is shown" test ${#acct} = 64
expect "account history on node 2's ledger" 0 "" "$CB" account history "$acct" --dir D/node2/ledger --json
check "history has the walk's entries" python3 -c '
import json
t = [e["type"] for e in json.load(open("out.txt"))["entries"]]
for x in ("account.open", "credit.recognize", "program.change", "appeal.file", "appeal.decide",
          "credit.cancel", "class.change", "degree.award", "degree.link"):
    assert x in t, x'

old=$(cat D/ledger-id)
expect "a rerun replaces its own output" 0 "" "$CB" demo --out D
check "a new ledger" test "$(cat D/ledger-id)" != "$old"
check "no credbankd left running after the rerun" test -z "$(ours)"

# SIGINT while the nodes run: they are stopped, exit 130
"$CB" demo --out S >sig.txt 2>sigerr.txt &
dp=$!
for _ in $(seq 200); do grep -q "^  leader: node" sig.txt 2>/dev/null && break; sleep 0.05; done
kill -INT "$dp"
got=0; wait "$dp" || got=$?
check "SIGINT: exit 130 (got $got)" test "$got" = 130
check "SIGINT: says it stops the nodes" grep -q "interrupted; stopping the nodes" sigerr.txt
sleep 0.2
check "SIGINT: no credbankd left running" test -z "$(ours)"

mkdir other && echo keep >other/file
expect "a foreign non-empty directory is refused" 1 "exists" "$CB" demo --out other
check "and left alone" test "$(cat other/file)" = keep
expect "demo: unknown flag" 2 "--frob" "$CB" demo --frob
expect "demo: a missing credbankd is named" 1 "/nonexistent/credbankd: .*\(not_found\)" \
  "$CB" demo --out X --credbankd /nonexistent/credbankd

# the single-process walk-through
expect "demo --local runs" 0 "" "$CB" demo --local --out L
check "--local: the inclusion proof verifies" grep -q "cy_inclusion_verify: ok" out.txt
check "--local: ledger/ is a ledger" test -f L/ledger/data.mdb
n=$("$CB" status --dir L/ledger --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["size"])')
check "--local: entries/ holds every log entry ($n)" test "$(ls L/entries | wc -l)" = "$n"
expect "--local: the checkpoint verifies" 0 "verified: 2" "$CB" checkpoint --dir L/ledger --vkeys L/vkeys

echo "cli/demo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
