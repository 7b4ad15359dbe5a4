#!/usr/bin/env bash
# integration/membership: the Raft configuration follows member.add and
# member.remove (spec/node.md, "Membership"). Three founders on 127.0.0.1
# with the full peer list (--peer ID,RAFT,API,MEMBER, the fourth naming a
# member not yet added); a member.add of "college" makes node 4 (started with
# --join) a voter that converges and cosigns; a member.remove of a founder
# takes its node out of Raft, it reports "removed", and the other three keep
# making final entries.
# Usage: bash membership.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=membership
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
# signed reads (spec/security.md): scurl KEYFILE curl-args... URL
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/auth.bash"

. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/nodes.bash"

# ---- keys and a genesis with default quorums (they must stay valid at
# n = 3 and n = 4: governance floor(n/2)+1, cosign floor(2n/3)+1) ----
names=(x bank university provider college)
cd "$T" || exit 1
member_keys bank university provider college observer
founders_genesis >genesis.json
founders_sign || { echo "genesis build failed"; exit 1; }
G=$T/genesis.cbe
# account.open entries a1..aN (each learner signs): a1..a36 by the bank's
# registrar, a37..a40 by college's (added below), which outlives any removal
mkdir -p acc
mkacc() {
    local k=$1 author=bank
    [ "$k" -gt 36 ] && author=college
    "$CB" keygen "l$k" -o "acc/l$k.key" >"acc/l$k.vk" 2>/dev/null
    "$CB" entry build account.open --key "$author.key" --ledger @"$G" \
        --learner-key "$(cat "acc/l$k.vk")" --degree bachelor --major cs --education-level high_school \
        --education-evidence "$(printf '%064x' "$k")" --pii "$(printf '%064x' $((k+1000)))" \
        --sign "acc/l$k.key" -o "acc/a$k.cbe" >/dev/null 2>&1
}
NACC=40
for k in $(seq 1 $NACC); do mkacc "$k"; done

ports_for 4 RP AP MP
PEERS=""
for i in 1 2 3 4; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]},${names[$i]}"; done
start() { # start NODE [extra flags]
    local i=$1; shift
    "$D" --dir "$T/n$i" --key "$T/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "127.0.0.1:${MP[$i]}" \
        --snapshot-threshold 64 --snapshot-trailing 16 $PEERS "$@" >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
metrics() { echo "http://127.0.0.1:${MP[$1]}/metrics"; }

# ---- three founders bootstrap without node 4 ----
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || exit 1
check "the bootstrap configuration holds the three founders" has "$L" '"voters":\[1,2,3\]'
check "node 4 (member college, not yet added) is not in it" bash -c "! curl -s $(api "$L")/v1/status | grep -q '\"id\":4,'"
for k in $(seq 1 30); do submit "acc/a$k.cbe" 1 2 3 >/dev/null; done
check "the founders wrote 30 entries and converge" wait_for 5 converged 1 2 3

# ---- node 4 starts with --join, before its member is added (after it with
# MEMBERSHIP_LATE=1) ----
if [ -z "${MEMBERSHIP_LATE:-}" ]; then
    start 4 --join
    check "node 4 waits as joining, outside the configuration" wait_for 10 has 4 '"membership":"joining"'
fi
cat >college.json <<EOF
{"name": "college", "roles": ["registrar", "provider"], "node": "$(cat college.node.vk)", "issuers": ["$(cat college.vk)"]}
EOF
"$CB" entry build member.add --key bank.key --ledger @"$G" --member @college.json \
    --sign university.key --sign college.node.key --sign college.key -o add.cbe >/dev/null 2>&1
r=$(submit add.cbe 1 2 3)
check "member.add of college is final ($r)" bash -c "[[ '$r' == 200*final* ]]"
if [ -n "${MEMBERSHIP_LATE:-}" ]; then
    standby4() { L=$(leader 1 2 3); [ -n "$L" ] && has "$L" '"id":4,"address":"[0-9.:]*","role":"standby"'; }
    check "college's server waits as standby while its node is down" wait_for 10 standby4
    sleep 1
    start 4 --join
fi
t0=$(date +%s%N)
voter4() { L=$(leader 1 2 3 4); [ -n "$L" ] && has "$L" '"voters":\[1,2,3,4\]' && has 4 '"raft_role_in_config":"voter"'; }
check "node 4 becomes a voter" wait_for 20 voter4
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "     (member.add final -> voter in $ms ms)"
grep -h "membership: \(done\|adding\|assigning\|removing\)" "$T"/n[123].log | sed 's/^/     /' | head -8
check "node 4 caught up from a Raft snapshot over the peers' API (its log)" \
    grep -q 'catch-up done' "$T/n4.log"
check "the four converge to the same size and root" wait_for 10 converged 1 2 3 4
for k in $(seq 31 36); do submit "acc/a$k.cbe" 1 2 3 4 >/dev/null; done
check "they converge again after more writes" wait_for 10 converged 1 2 3 4
cos4() { # cosign entries authored by college's node key, in node 1's log
    scurl "$T/bank.key" -s "$(api 1)/v1/members" > "$T/members.json"
    scurl "$T/bank.key" -s "$(api 1)/v1/entries?from=0&limit=1000" > "$T/entries.json"
    python3 - "$T/members.json" "$T/entries.json" <<'PY'
import sys, json
m = json.load(open(sys.argv[1]))
ck = [x["node"] for x in m["members"] if x["name"] == "college"][0]
es = json.load(open(sys.argv[2]))
es = es["entries"] if isinstance(es, dict) else es
n = sum(1 for e in es if e["entry"]["entry"]["type"] == "cosign"
        and e["entry"]["entry"]["author"].removeprefix("hex:") == ck)
print(n)
PY
}
n=$(cos4)
check "node 4's cosign entries are applied ($n authored by college's node key)" bash -c "[ '${n:-0}' -ge 1 ]"

# ---- member.remove of the leader when a founder leads (it hands over
# leadership, the next leader removes it), else of university ----
L=$(wait_leader 1 2 3 4)
R=$L; [ "$R" = 4 ] && R=2
[ "$R" = "$L" ] && echo "     (removing the leader, node $R)" || echo "     (removing follower node $R; leader is $L)"
RN=${names[$R]}
signers=(); for i in 1 2 3 4; do [ "$i" != "$R" ] && signers+=("${names[$i]}"); done
"$CB" entry build member.remove --key "${signers[0]}.key" --ledger @"$G" --name "$RN" \
    --sign "${signers[1]}.key" --sign "${signers[2]}.key" -o remove.cbe >/dev/null 2>&1
rest=(); for i in 1 2 3 4; do [ "$i" != "$R" ] && rest+=("$i"); done
r=$(submit remove.cbe 1 2 3 4)
check "member.remove of $RN (node $R) is final ($r)" bash -c "[[ '$r' == 200*final* ]]"
check "node $R reports removed" wait_for 10 has "$R" '"removed":true'
gone() { L=$(leader "${rest[@]}"); [ -n "$L" ] && has "$L" "\"voters\":\[$(IFS=,; echo "${rest[*]}")\]"; }
check "node $R is out of the Raft configuration (voters ${rest[*]})" wait_for 10 gone
r=$(post "$R" "acc/a40.cbe")
check "node $R refuses writes ($r)" bash -c "[[ '$r' == 503*unavailable*removed* ]]"
n=0; for k in $(seq 37 39); do r=$(submit "acc/a$k.cbe" "${rest[@]}") && n=$((n+1)); done
check "the remaining three make final entries ($n of 3)" test "$n" = 3
ck=$(curl -s "$(api "${rest[0]}")/v1/checkpoint")
check "the newest final checkpoint is cosigned by college" bash -c "grep -q 'college' <<< '$ck'"
check "the remaining three converge" wait_for 10 converged "${rest[@]}"
check "metrics: 3 voters on the leader, removed on node $R" bash -c \
    "curl -s $(metrics "$(leader "${rest[@]}")") | grep -q '^credbank_raft_voters 3' && curl -s $(metrics "$R") | grep -q '^credbank_removed 1'"

# ---- a member without a peer entry stays out of Raft, with a warning ----
cat >observer.json <<EOF
{"name": "observer", "roles": ["witness"], "node": "$(cat observer.node.vk)", "issuers": ["$(cat observer.vk)"]}
EOF
"$CB" entry build member.add --key "${signers[0]}.key" --ledger @"$G" --member @observer.json \
    --sign "${signers[1]}.key" --sign observer.node.key --sign observer.key -o add2.cbe >/dev/null 2>&1
r=$(submit add2.cbe "${rest[@]}")
check "member.add of observer (no peer entry) is final ($r)" bash -c "[[ '$r' == 200*final* ]]"
warned() { L=$(leader "${rest[@]}"); [ -n "$L" ] && has "$L" '"membership_warnings":\["member observer has no --peer entry'; }
check "status warns that observer has no peer entry" wait_for 5 warned
check "the voters stay ${rest[*]}" has "$L" "\"voters\":\[$(IFS=,; echo "${rest[*]}")\]"
r=$(submit acc/a40.cbe "${rest[@]}")
check "writes stay final ($r)" bash -c "[[ '$r' == 200*final* ]]"

# ---- clean shutdown ----
for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}"; done
stopped=1
for i in "${!PID[@]}"; do
    for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
    kill -0 "${PID[$i]}" 2>/dev/null && stopped=0
done
check "SIGTERM stops every node within 5 s" test $stopped = 1
grep -h "FAIL-STOP\|DIVERGED\|ERROR\|runtime error\|raft_start" "$T"/n*.log && bad "no fail-stop, divergence or sanitizer report in the logs"
echo "integration/$NAME: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
