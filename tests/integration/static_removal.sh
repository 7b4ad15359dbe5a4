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
PASS=0; FAIL=0
declare -A PID
cleanup() {
    for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] && { echo "kept $T"; return; }
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

names=(x bank university provider)
cd "$T" || exit 1
for m in bank university provider; do
    "$CB" keygen "$m" -o "$m.node.key" >"$m.node.vk" 2>/dev/null
    "$CB" keygen "$m.issuer" -o "$m.key" >"$m.vk" 2>/dev/null
done
cat >genesis.json <<EOG
{"members": [
  {"name": "bank", "roles": ["registrar", "recognizer"],
   "node": "$(cat bank.node.vk)", "issuers": ["$(cat bank.vk)"]},
  {"name": "university", "roles": ["registrar", "recognizer", "provider"],
   "node": "$(cat university.node.vk)", "issuers": ["$(cat university.vk)"]},
  {"name": "provider", "roles": ["registrar", "provider"],
   "node": "$(cat provider.node.vk)", "issuers": ["$(cat provider.vk)"]}],
 "governance_quorum": 0, "cosign_quorum": 0,
 "policy": {"fees": {"currency": "KRW", "account_open": 4000, "per_credit": 1000,
                     "link_free_credits": 80},
            "sources": {"mooc": {"min_grade": 60, "min_attendance": 80}},
            "degrees": {"bachelor": {"total": 140, "major": 60, "general": 30}},
            "seal_interval_ms": 20}}
EOG
"$CB" genesis build genesis.json --key bank.key -o genesis.cbe >/dev/null 2>&1 || { echo "genesis build failed"; exit 1; }
for k in bank.node university university.node provider provider.node; do
    "$CB" sign genesis.cbe --key "$k.key" >/dev/null 2>&1
done
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

for i in 1 2 3; do RP[$i]=$(freeport); AP[$i]=$(freeport); MP[$i]=$(freeport); done
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() { # start NODE ELECTION_MS
    local i=$1
    "$D" --dir "$T/n$i" --key "$T/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "127.0.0.1:${MP[$i]}" --election-ms "$2" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
api() { echo "http://127.0.0.1:${AP[$1]}"; }
status() { curl -s -m 1 "$(api "$1")/v1/status"; }
has() { status "$1" | grep -q "$2"; }
leader() {
    local i s
    for i in "$@"; do
        s=$(status "$i")
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo "$i"; return; fi
    done
}
wait_for() { local n=$(( $1 * 20 )); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done; return 1; }
post() { # post NODE FILE -> "STATUS BODY"
    curl -s -m 15 -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/msgpack' --data-binary @"$2" "$(api "$1")/v1/entries"
    echo " $(cat "$T/resp")"
}
submit() { # submit FILE NODES...: to whoever leads, until final (10 s)
    local f=$1 r="" l t0=$SECONDS; shift
    while [ $((SECONDS - t0)) -lt 10 ]; do
        l=$(leader "$@"); [ -z "$l" ] && { sleep 0.05; continue; }
        r=$(post "$l" "$f")
        if [[ "$r" == 200*final* ]]; then echo "$r"; return 0; fi
        sleep 0.05
    done
    echo "$r"; return 1
}
sizeroot() { status "$1" | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
converged() {
    local a b i; a=$(sizeroot "$1"); [ -n "$a" ] || return 1
    for i in "$@"; do b=$(sizeroot "$i"); [ "$a" = "$b" ] || return 1; done
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
