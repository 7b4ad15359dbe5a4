#!/usr/bin/env bash
# credbank genesis build, sign by every founder key, inspect, submit;
# status and members of the new ledger; refusals and usage errors.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash genesis.sh /path/to/credbank}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$HERE/../lib/check.bash"

for m in bank university provider; do
  "$CB" keygen "$m" -o "$m.node.key" >"$m.node.vk" 2>/dev/null
  "$CB" keygen "$m.issuer" -o "$m.issuer.key" >"$m.issuer.vk" 2>/dev/null
done
"$CB" keygen outsider >/dev/null 2>&1
vk() { cat "$1.vk"; }
# the university's node key given as 64 hex, the rest as verifier keys
uni_node_hex=$(python3 -c '
import base64, sys
print(base64.b64decode(open("university.node.vk").read().strip().split("+", 2)[2])[1:].hex())')
cat >genesis.json <<EOF
{"members": [
  {"name": "bank", "roles": ["registrar", "recognizer"],
   "node": "$(vk bank.node)", "issuers": ["$(vk bank.issuer)"]},
  {"name": "university", "roles": ["recognizer", "provider"],
   "node": "$uni_node_hex", "issuers": ["$(vk university.issuer)"]},
  {"name": "provider", "roles": ["provider"],
   "node": "$(vk provider.node)", "issuers": ["$(vk provider.issuer)"]}],
 "governance_quorum": 2, "cosign_quorum": 2,
 "policy": {"fees": {"currency": "KRW", "account_open": 4000, "per_credit": 1000,
                     "link_free_credits": 80},
            "sources": {"mooc": {"min_grade": 60, "min_attendance": 80},
                        "school": {"appealable": true}},
            "degrees": {"associate": {"total": 80, "major": 45, "general": 15}},
            "seal_interval_ms": 20}}
EOF

expect "genesis build" 0 "" "$CB" genesis build genesis.json --key bank.issuer.key -o genesis.cbe
id=$(sed -n 's/^ledger id: *//p' out.txt)
check "prints a 64-hex ledger id" grep -Eq '^[0-9a-f]{64}$' <<<"$id"
check "lists the keys still to sign (5)" test "$(grep -c '(.* key)$' out.txt)" = 5
check "prints the checkpoint verifier key of the hex node key" grep -q "verifies checkpoints as university+" out.txt
check "genesis.cbe written" test -s genesis.cbe
expect "genesis build --json" 0 "" "$CB" genesis build genesis.json --key bank.issuer.key -o g2.cbe --json
check "--json report" python3 -c '
import json
j = json.load(open("out.txt"))
assert len(j["ledger_id"]) == 64 and len(j["members"]) == 3
assert len(j["needs_signatures"]) == 5
assert j["origin"] == "credbank/" + j["ledger_id"][:16]'

expect "author must be a founder's issuer key" 1 "author_not_authorised" \
  "$CB" genesis build genesis.json --key outsider.key -o bad.cbe
expect "a node key is not an issuer key" 1 "author_not_authorised" \
  "$CB" genesis build genesis.json --key bank.node.key -o bad.cbe
echo '{"members": [' >broken.json
expect "malformed JSON" 1 "malformed_json" "$CB" genesis build broken.json --key bank.issuer.key -o bad.cbe
echo '{"members": [], "policy": {}}' >empty.json
expect "no members" 1 "malformed_json" "$CB" genesis build empty.json --key bank.issuer.key -o bad.cbe
sed 's/"cosign_quorum": 2/"cosign_quorum": 2, "extra": 1/' genesis.json >extra.json
expect "unknown key" 1 "extra" "$CB" genesis build extra.json --key bank.issuer.key -o bad.cbe
sed 's/"node": "'"$uni_node_hex"'"/"node": "not-a-key"/' genesis.json >badkey.json
expect "a bad key string" 1 "" "$CB" genesis build badkey.json --key bank.issuer.key -o bad.cbe
# a member that is no object after a valid one (found by fuzz_genesis: the
# valid member's result was returned, "success" with an empty body)
python3 -c 'import json,sys; g=json.load(open("genesis.json")); g["members"].insert(1, 4000); json.dump(g, open("nonobj.json","w"))'
rm -f bad.cbe
expect "a member that is no object" 1 "malformed_json" "$CB" genesis build nonobj.json --key bank.issuer.key -o bad.cbe
check "nothing written for it" test ! -e bad.cbe
expect "missing --key" 2 "--key" "$CB" genesis build genesis.json -o bad.cbe
expect "missing FILE" 2 "\(usage\)" "$CB" genesis build --key bank.issuer.key
expect "unknown genesis subcommand" 2 "" "$CB" genesis frob

# not yet signed by everyone: refused
expect "submit before the founders sign" 1 "refused.*\((missing_signature|quorum_not_met)\)" \
  "$CB" submit genesis.cbe --dir L0

for k in bank.node university.issuer university.node provider.issuer provider.node; do
  expect "sign by $k" 0 "" "$CB" sign genesis.cbe --key "$k.key"
done
expect "a second signature by one key is refused" 1 "\(exists\)" "$CB" sign genesis.cbe --key provider.node.key
expect "entry sign -o" 0 "" "$CB" entry sign genesis.cbe --key outsider.key -o extra-signer.cbe
check "-o leaves the input alone" test "$(stat -c %s genesis.cbe)" -lt "$(stat -c %s extra-signer.cbe)"

expect "entry inspect --json" 0 "" "$CB" entry inspect genesis.cbe --json
check "inspect: type, id, 6 valid signatures" python3 - "$id" <<'EOF'
import json, sys
j = json.load(open("out.txt"))
assert j["type"] == "genesis" and j["id"] == sys.argv[1], j["id"]
assert j["valid"] is True and len(j["sigs"]) == 6
assert len(j["entry"]["body"]["members"]) == 3
assert j["entry"]["body"]["members"][1]["name"] == "university"
EOF
expect "entry inspect (human)" 0 "" "$CB" entry inspect genesis.cbe
check "inspect shows the type" grep -q "^type *genesis" out.txt
check "inspect shows 6 valid signatures" grep -q "signatures: 6, all valid" out.txt

expect "a signer outside the founders is refused" 1 "signer_not_allowed" \
  "$CB" submit extra-signer.cbe --dir L1
expect "submit" 0 "" "$CB" submit genesis.cbe --dir L
check "applied at index 0" grep -q "applied at index 0" out.txt
expect "submit again: the same entry is answered with its index" 0 "" "$CB" submit genesis.cbe --dir L
check "already in the log at 0" grep -q "already in the log at index 0" out.txt
expect "a second genesis is refused" 1 "genesis_position" "$CB" submit g2.cbe --dir L

expect "status --json" 0 "" "$CB" status --dir L --json
check "status: size 1, 3 members, quorums 2, ledger id" python3 - "$id" <<'EOF'
import json, sys
j = json.load(open("out.txt"))
assert j["ledger_id"] == sys.argv[1]
assert j["size"] == 1 and j["members"] == 3 and j["governance"] == 1
assert j["governance_quorum"] == 2 and j["cosign_quorum"] == 2
assert j["seal_interval_ms"] == 20
EOF
expect "status (human)" 0 "" "$CB" status --dir L
check "status shows the ledger id" grep -q "$id" out.txt
expect "members --json" 0 "" "$CB" members --dir L --json
check "members lists the three" python3 -c '
import json
s = open("out.txt").read()
json.loads(s)
for n in ("bank", "university", "provider"):
    assert n in s, n'
expect "members (human)" 0 "" "$CB" members --dir L
expect "status of a missing ledger" 1 "not_found" "$CB" status --dir nowhere
expect "status without --dir" 2 "--dir" "$CB" status

echo "cli/genesis: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
