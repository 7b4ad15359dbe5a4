#!/usr/bin/env bash
# cli/node: the credbank command against three real credbankd on 127.0.0.1
# (started as tests/integration/cluster.sh starts them): submit through a
# follower follows the leader; account show/history, checkpoint, status and
# members over --node, their --json parsed; CREDBANK_NODE as the default;
# clear errors (the node's error name; an unreachable node; usage).
# Usage: bash node.sh /path/to/credbank   (credbankd next to it, or in
# $CB_BUILD_DIR)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash node.sh /path/to/credbank}")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$(realpath "$BUILD")/credbankd
[ -x "$D" ] || { echo "cli/node: no credbankd at $D"; exit 1; }
T=$(mktemp -d /tmp/cb-cli-node.XXXXXX)
declare -A PID
cleanup() {
  for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}" 2>/dev/null; done
  for i in "${!PID[@]}"; do
    for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
    kill -9 "${PID[$i]}" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T"
. "$HERE/../lib/check.bash"
PY=/usr/bin/python3
# jq-like: jpy 'python expression over j' < out.txt
jpy() { $PY -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r if not isinstance(r,bool) else str(r).lower())"; }

# ---- a consortium and its entries (the local demo), three nodes ----
"$CB" demo --local --out demo >/dev/null 2>&1 || { echo "cli/node: credbank demo --local failed"; exit 1; }
E=$T/demo/entries
G=$E/000-genesis.cbe
names=(x bank university provider)
. "$HERE/../lib/ports.bash"
ports_for 3 RP AP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
for i in 1 2 3; do
  "$D" --dir "$T/n$i" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
    --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
    $PEERS >>"$T/n$i.log" 2>&1 &
  PID[$i]=$!
done
api() { echo "http://127.0.0.1:${AP[$1]}"; }

# the leader, seen through `credbank status --node --json`
L=""
for _ in $(seq 200); do
  for i in 1 2 3; do
    if "$CB" status --node "$(api $i)" --json >st.json 2>/dev/null &&
       [ "$(jpy 'j["role"] == "leader" and j["ready"]' <st.json)" = true ]; then L=$i; break; fi
  done
  [ -n "$L" ] && break
  sleep 0.05
done
check "a leader is ready (status --node --json)" test -n "$L"
[ -n "$L" ] || { tail -n 5 "$T"/n*.log; cat st.json; exit 1; }
F=$(( L % 3 + 1 ))

# ---- status ----
expect "status --node on a follower" 0 "" "$CB" status --node "$(api $F)"
check "status names the role and the leader" grep -Eq "^role +follower" out.txt
check "status shows the leader's URL" grep -q "^leader *$(api $L)" out.txt
expect "status --node --json" 0 "" "$CB" status --node "$(api $F)" --json
check "status --json is the node's /v1/status" test "$(jpy 'j["role"] + " " + j["leader"] + " " + str(j["members"])' <out.txt)" = "follower $(api $L) 3"

# ---- submit through a follower: follows the leader, final ----
expect "submit through a follower" 0 "" "$CB" submit "$E/001-policy.set.cbe" "$E/002-account.open.cbe" --node "$(api $F)"
check "it prints index and final" grep -Eq "002-account.open.cbe: index [0-9]+, final \(checkpoint of [0-9]+ entries\), id [0-9a-f]{64}" out.txt
expect "submit --json through a follower" 0 "" "$CB" submit "$E"/0{03..12}-*.cbe --node "$(api $F)" --json
check "--json: every entry final, answered by the leader" test "$(jpy 'j["ok"] and len(j["results"]) == 10 and all(r["final"] > r["index"] and r["node"] == "'"$(api $L)"'" for r in j["results"])' <out.txt)" = true
idx=$(jpy 'j["results"][0]["index"]' <out.txt)
expect "a retried entry answers with its index" 0 "" "$CB" submit "$E/003-outcome.deposit.cbe" --node "$(api $F)" --json
check "same index ($idx)" test "$(jpy 'j["results"][0]["index"]' <out.txt)" = "$idx"
expect "submit --wait applied" 0 "" "$CB" submit "$E/013-credit.recognize.cbe" --node "$(api $L)" --wait applied --json
check "--wait applied: no final" test "$(jpy '"final" not in j["results"][0] and j["results"][0]["index"] > 0' <out.txt)" = true
expect "submit --wait applied (text)" 0 "" "$CB" submit "$E/014-credit.recognize.cbe" --node "$(api $L)" --wait applied
check "prints applied at index" grep -Eq "014-credit.recognize.cbe: applied at index [0-9]+, id" out.txt
$PY - "$E/015-credit.recognize.cbe" badsig.cbe <<'EOF'
import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)
EOF
expect "a refused entry: the node's error name, exit 1" 1 "badsig.cbe: refused: .*\(bad_signature\)$" \
  "$CB" submit badsig.cbe --node "$(api $F)"
expect "refused and accepted in one call: exit 1, the rest submitted" 1 "bad_signature" \
  "$CB" submit badsig.cbe "$E/015-credit.recognize.cbe" --node "$(api $F)" --json
check "--json: ok false, error named, second final" test "$(jpy 'not j["ok"] and j["results"][0]["error"] == "bad_signature" and j["results"][0]["status"] == 403 and j["results"][1]["final"] > 0' <out.txt)" = true

# ---- CREDBANK_NODE ----
export CREDBANK_NODE
CREDBANK_NODE=$(api $F)
expect "submit with CREDBANK_NODE (a follower)" 0 "" "$CB" submit "$E"/0{16..19}-*.cbe
check "all four final" test "$(grep -c 'final (checkpoint of' out.txt)" = 4
expect "status with CREDBANK_NODE" 0 "" "$CB" status --json
check "it asked that node" test "$(jpy 'j["role"]' <out.txt)" = follower
expect "--dir wins over CREDBANK_NODE" 0 "" "$CB" status --dir demo/ledger --json
check "the local ledger's status" test "$(jpy '"role" not in j and j["size"] > 20' <out.txt)" = true
unset CREDBANK_NODE

# ---- account show / history ----
ACC=$("$CB" entry inspect "$E/002-account.open.cbe" --json | jpy 'j["id"]')
sleep 0.3 # let the followers apply the last batch
# reads of accounts, the log and the members are signed (spec/security.md):
# unsigned they are refused; CREDBANK_KEY (an issuer key) signs the rest
expect "account show --node unsigned: unauthenticated" 1 "\(unauthenticated\)$" \
  env -u CREDBANK_KEY "$CB" account show "$ACC" --node "$(api $F)"
export CREDBANK_KEY=$T/demo/keys/bank.issuer.key
expect "account show --node --json" 0 "" "$CB" account show "$ACC" --node "$(api $F)" --json
check "the view: the account, open, credits recognised" test "$(jpy 'j["id"] == "'"$ACC"'" and j["status"] == "open" and j["active_credits"]["total"] > 0' <out.txt)" = true
cp out.txt show-node.json
expect "account show --node (table)" 0 "" "$CB" account show "$ACC" --node "$(api $L)"
check "the table of the local command" grep -Eq "^active credits [0-9]+ total" out.txt
check "with the deposits" grep -q "^deposits (9), with their recognitions:" out.txt
expect "account history --node --json" 0 "" "$CB" account history "@$E/002-account.open.cbe" --node "$(api $F)" --json
check "history: account.open first, deposits and recognitions, fees" test "$(jpy 'j["account"] == "'"$ACC"'" and j["entries"][0]["type"] == "account.open" and j["entries"][0]["fee"] == 4000 and sum(e["type"] == "outcome.deposit" for e in j["entries"]) == 9 and all(len(e["id"]) == 64 and e["ts"] > 0 for e in j["entries"])' <out.txt)" = true
cp out.txt hist-node.json
expect "account history --node (table)" 0 "" "$CB" account history "$ACC" --node "$(api $F)"
check "history table header and rows" test "$(grep -c 'credit.recognize' out.txt)" -ge 5
check "the history's indices are the view's entry count" test "$(jpy 'len(j["entries"])' <hist-node.json)" = "$(jpy 'j["count"]' <show-node.json)"
expect "an unknown account: the node's error" 1 "\(account_unknown\)$" \
  "$CB" account show "$(printf '%064d' 7)" --node "$(api $F)"

# ---- checkpoint and members ----
expect "checkpoint --node --vkeys" 0 "checkpoint verified: 2 of 2" "$CB" checkpoint --node "$(api $F)" --vkeys demo/vkeys
check "the note: origin, size, root, 2 signature lines" $PY -c '
note = open("out.txt").read()
body, sigs = note.split("\n\n", 1)
b = body.split("\n")
assert len(b) == 3 and b[0].startswith("credbank/") and int(b[1]) > 20, b
assert len(sigs.rstrip("\n").split("\n")) == 2'
expect "checkpoint --node --json" 0 "" "$CB" checkpoint --node "$(api $L)" --json
check "--json: size is seal + 1, the note" test "$(jpy 'j["size"] == j["seal"] + 1 and j["note"].startswith("credbank/")' <out.txt)" = true
expect "members --node --json" 0 "" "$CB" members --node "$(api $F)" --json
check "three members in force" test "$(jpy 'sorted(m["name"] for m in j["members"])' <out.txt)" = "['bank', 'provider', 'university']"
expect "members --node (table)" 0 "" "$CB" members --node "$(api $F)"
check "members table" grep -q "^  university (recognizer, provider)" out.txt

# ---- the learner's bundle from a node (GET /v1/accounts/{id}/bundle) ----
LEDGER=$("$CB" entry inspect "$G" --json | jpy 'j["id"]')
expect "export --node from a follower (the learner's key)" 0 "" "$CB" export "$ACC" --node "$(api $F)" --key demo/keys/learner.key -o node.cbx
expect "the bundle verifies offline against the ledger id" 0 "" "$CB" verify node.cbx --ledger "$LEDGER" --json
cp out.txt verify.json
"$CB" account show "$ACC" --node "$(api $L)" --json > view.json
check "verify's replayed view equals the node's GET /v1/accounts view" $PY -c '
import json,sys
v=json.load(open("verify.json"))["summary"]; n=json.load(open("view.json"))
sys.exit(0 if v==n else 1)'
expect "the bundle endpoint, unknown account: 404 account_unknown" 1 "\(account_unknown\)" \
  "$CB" export "$(printf '%064d' 7)" --node "$(api $L)" -o none.cbx
expect "export --node with --disclose: usage" 2 "needs --dir" "$CB" export "$ACC" --node "$(api $L)" -o x.cbx --disclose '{}'

# ---- errors ----
dead=$(freeport)
expect "an unreachable node: exit 1, the URL named" 1 "^credbank: status: cannot connect to http://127.0.0.1:$dead: .*\(unavailable\)$" \
  "$CB" status --node "http://127.0.0.1:$dead"
expect "unreachable, submit" 1 "http://127.0.0.1:$dead.*\(unavailable\)$" \
  "$CB" submit "$E/020-seal.cbe" --node "http://127.0.0.1:$dead"
expect "unreachable through CREDBANK_NODE" 1 "http://127.0.0.1:$dead.*\(unavailable\)$" \
  env CREDBANK_NODE="http://127.0.0.1:$dead" "$CB" account history "$ACC"
expect "not an http URL: usage" 2 "not an http:// or https:// URL \(usage\)" "$CB" members --node "ftp://x"
expect "https without a pinned node key is refused" 1 "https needs the node's key" \
  env -u CREDBANK_NODE_KEY "$CB" status --node "https://127.0.0.1:1"
expect "--node-key that is no key: usage" 2 "--node-key" "$CB" status --node-key nokey --node "https://127.0.0.1:1"
expect "--dir with --node: usage" 2 "exclude each other" "$CB" checkpoint --dir demo/ledger --node "$(api $L)"
expect "--wait without --node: usage" 2 "--wait goes with --node" "$CB" submit "$E/020-seal.cbe" --dir demo/ledger --wait applied
expect "--wait other: usage" 2 "--wait: applied or final" "$CB" submit "$E/020-seal.cbe" --node "$(api $L)" --wait soon
expect "neither --dir nor --node: usage" 2 "missing --dir or --node" env -u CREDBANK_NODE "$CB" account show "$ACC"
expect "a rule refusal over the node" 1 "refused: .*\(seal_(empty|time|mismatch)\)$" \
  "$CB" submit "$E/020-seal.cbe" --node "$(api $F)"

echo "cli/node: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
