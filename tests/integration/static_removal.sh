#!/usr/bin/env bash
# integration/static_removal: in a static cluster (peers without member
# names, spec/node.md "Membership"), a member.remove of the leader's member
# retires its node key: the leader hands leadership over (its seals would be
# refused at apply, so nothing could become final while it led), reports
# "removed" and takes no writes, while the other two keep making final
# entries. It stays a voter: a static configuration never changes.
# Usage: bash static_removal.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=static_removal
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
# checks and node helpers (api, status, has, leader, wait_for, post,
# submit, converged; member_keys, founders_genesis, founders_sign)
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/nodes.bash"

names=(x bank university provider)
cd "$T" || exit 1
member_keys bank university provider
founders_genesis >genesis.json
founders_sign || { echo "genesis build failed"; exit 1; }
G=$T/genesis.cbe
mkdir -p acc
for k in $(seq 1 6); do
    author=university; [ "$k" -le 3 ] && author=provider
    "$CB" keygen "l$k" -o "acc/l$k.key" >"acc/l$k.vk" 2>/dev/null
    "$CB" entry build account.open --key "$author.key" --ledger @"$G" \
        --learner-key "$(cat "acc/l$k.vk")" --degree bachelor --major cs --education-level high_school \
        --education-evidence "$(printf '%064x' "$k")" --pii "$(printf '%064x' $((k+1000)))" \
        --sign "acc/l$k.key" -o "acc/a$k.cbe" >/dev/null 2>&1
done

ports_for 3 RP AP MP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() { # start NODE ELECTION_MS
    local i=$1
    "$D" --dir "$T/n$i" --key "$T/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "127.0.0.1:${MP[$i]}" --election-ms "$2" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
# node 1 (bank) has the shortest election timeout: it leads first
start 1 300; start 2 1500; start 3 1500
anyleader() { [ -n "$(leader 1 2 3)" ]; }
wait_for 10 anyleader
L=$(leader 1 2 3)
check "node 1 leads the static cluster (leader: ${L:-none})" test "$L" = 1
[ "$L" = 1 ] || exit 1
check "membership mode is static" has 1 '"membership_mode":"static"'
r=$(submit acc/a1.cbe 1 2 3)
check "an entry is final under node 1 ($r)" bash -c "[[ '$r' == 200*final* ]]"

"$CB" entry build member.remove --key university.key --ledger @"$G" --name bank \
    --sign provider.key -o remove.cbe >/dev/null 2>&1
r=$(post 1 remove.cbe)
# node 1 applies it, then retires: it answers final, or (seen final only
# after it stepped down) 503 "applied, but this node was removed"
check "member.remove of bank, the leader's member, is applied ($r)" bash -c "[[ '$r' == 200*final* || '$r' == 503*applied* ]]"
moved() { L=$(leader 1 2 3); [ -n "$L" ] && [ "$L" != 1 ]; }
check "node 1 hands leadership over" wait_for 5 moved
echo "     (the leader is now node $(leader 1 2 3))"
check "node 1 reports removed" wait_for 5 has 1 '"removed":true'
check "node 1 says why in its log" grep -q "node key is no longer in force" "$T/n1.log"
r=$(post 1 acc/a2.cbe)
check "node 1 refuses writes ($r)" bash -c "[[ '$r' == 503* ]]"
n=0; for k in 2 3 4; do submit "acc/a$k.cbe" 2 3 >/dev/null && n=$((n+1)); done
check "nodes 2 and 3 make final entries ($n of 3)" test "$n" = 3
check "node 1 stays a voter of the static configuration" has "$(leader 2 3)" '"voters":\[1,2,3\]'
check "the three converge (node 1 still applies)" wait_for 10 converged 1 2 3
# node 1 keeps winning no election for long: the leader stays 2 or 3
sleep 2
L=$(leader 1 2 3)
check "after 2 s the leader is still not node 1 (leader: ${L:-none})" bash -c "[ -n '$L' ] && [ '$L' != 1 ]"
r=$(submit acc/a5.cbe 1 2 3)
check "writes stay final ($r)" bash -c "[[ '$r' == 200*final* ]]"

for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}"; done
for i in "${!PID[@]}"; do
    for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
done
grep -h "FAIL-STOP\|DIVERGED\|runtime error" "$T"/n*.log && bad "no fail-stop, divergence or sanitizer report in the logs"
echo "integration/$NAME: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
