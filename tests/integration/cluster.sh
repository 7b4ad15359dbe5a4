#!/usr/bin/env bash
# integration/cluster: three credbankd on 127.0.0.1 with real data dirs.
# Usage: bash cluster.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=cluster
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
# signed reads (spec/security.md): scurl KEYFILE curl-args... URL
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/auth.bash"
PASS=0; FAIL=0
declare -A PID
cleanup() {
    for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/ports.bash"

# ---- keys, genesis, entries (the CLI demo makes the consortium) ----
( cd "$T" && "$CB" demo --local --out demo >/dev/null 2>&1 ) || { echo "credbank demo failed"; exit 1; }
G=$T/demo/entries/000-genesis.cbe
names=(x bank university provider)
ports_for 3 RP AP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() {
    local i=$1
    "$D" --dir "$T/n$i" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
api() { echo "http://127.0.0.1:${AP[$1]}"; }
jget() { python3 -c 'import sys,json
try: d=json.load(sys.stdin)
except Exception: sys.exit(0)
v=d.get(sys.argv[1]) if isinstance(d,dict) else None
print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1"; }
leader() { # prints the node number of the ready leader, or nothing
    local i s
    for i in "$@"; do
        s=$(curl -s -m 1 "$(api $i)/v1/status")
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo $i; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt 10 ]; do l=$(leader "$@"); [ -n "$l" ] && { echo $l; return; }; sleep 0.02; done; }
post() { # post NODE FILE [query] -> "STATUS BODY"
    curl -s -m 15 -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/msgpack' --data-binary @"$2" "$(api $1)/v1/entries${3:-}"
    echo " $(cat "$T/resp")"
}
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || exit 1
F=$(( L % 3 + 1 ))

# ---- submit through the leader: final ----
r=$(post $L "$T/demo/entries/001-policy.set.cbe")
check "submit through the leader answers 200 with final ($r)" bash -c "[[ '$r' == 200* && '$r' == *'\"final\":'* ]]"
r=$(post $L "$T/demo/entries/001-policy.set.cbe")
check "a duplicate answers 200 with the same index" bash -c "[[ '$r' == 200*'\"index\"'* ]]"
r=$(post $F "$T/demo/entries/002-account.open.cbe")
check "a follower answers 503 not_leader naming the leader ($r)" bash -c "[[ '$r' == 503*not_leader*'$(api $L)'* ]]"
for f in "$T"/demo/entries/0{02..19}-*.cbe; do post $L "$f" >/dev/null; done
r=$(post $L "$T/demo/entries/023-program.change.cbe" "?wait=applied")
check "?wait=applied answers without final ($r)" bash -c "[[ '$r' == 200* && '$r' != *final* ]]"

# ---- a follower's cosigns (one per seal) reuse one kept-alive link ----
sleep 0.5 # let the seal and cosigns of the last entry settle
mport=$(( AP[F] + 1000 <= 65535 ? AP[F] + 1000 : AP[F] - 1000 )) # the default --metrics
m=$(curl -s -m 2 "http://127.0.0.1:$mport/metrics")
opened=$(grep -F 'credbank_cosign_links_total{how="opened"} ' <<<"$m" | awk '{print $NF}')
reused=$(grep -F 'credbank_cosign_links_total{how="reused"} ' <<<"$m" | awk '{print $NF}')
check "follower $F: cosign links reused ($reused) more than opened ($opened)" \
    bash -c "[ '${reused:-0}' -ge 5 ] && [ '${opened:-99}' -le 3 ]"

# ---- bad input: documented status and code, nothing changes ----
before=$(curl -s "$(api $L)/v1/status" | jget size)
expect() { # expect WHAT STATUS CODE curl-args...
    local what=$1 st=$2 code=$3; shift 3
    local got; got=$(curl -s -m 5 -o "$T/resp" -w '%{http_code}' "$@")
    if [ "$got" = "$st" ] && [ "$(jget error < "$T/resp")" = "$code" ]; then ok "$what -> $st $code"
    else bad "$what: want $st $code, got $got $(cat "$T/resp")"; fi
}
printf '\xc1\x00' > "$T/junk.cbe"
expect "malformed msgpack" 400 malformed_msgpack -H 'Content-Type: application/msgpack' --data-binary @"$T/junk.cbe" "$(api $L)/v1/entries"
python3 - "$T/demo/entries/027-class.change.cbe" "$T/badsig.cbe" <<'PY'
import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[-1]^=1; open(sys.argv[2],'wb').write(b)
PY
expect "bad signature" 403 bad_signature -H 'Content-Type: application/msgpack' --data-binary @"$T/badsig.cbe" "$(api $L)/v1/entries"
/usr/bin/python3 - "$T/demo/entries/027-class.change.cbe" "$T/badtype.cbe" <<'PY'
import sys,msgpack
s=msgpack.unpackb(open(sys.argv[1],'rb').read(),raw=False)
e=msgpack.unpackb(s[0],raw=False,strict_map_key=False)
e['type']='no.such.type'
s[0]=msgpack.packb(dict(sorted(e.items(),key=lambda kv:kv[0].encode())),use_bin_type=True)
open(sys.argv[2],'wb').write(msgpack.packb(s,use_bin_type=True))
PY
expect "unknown type" 400 unknown_type -H 'Content-Type: application/msgpack' --data-binary @"$T/badtype.cbe" "$(api $L)/v1/entries"
expect "rule break (seal body)" 409 seal_empty -H 'Content-Type: application/msgpack' --data-binary @"$T/demo/entries/020-seal.cbe" "$(api $L)/v1/entries"
head -c 1100000 /dev/zero > "$T/big"
expect "oversized body" 413 body_too_large -H 'Content-Type: application/msgpack' --data-binary @"$T/big" "$(api $L)/v1/entries"
expect "wrong content type" 415 unsupported_media_type -H 'Content-Type: text/plain' --data-binary @"$T/junk.cbe" "$(api $L)/v1/entries"
expect "bad JSON body" 400 malformed_json -H 'Content-Type: application/json' -d '{"entry": 5}' "$(api $L)/v1/entries"
expect "unknown path" 404 not_found "$(api $L)/v1/nope"
expect "wrong method" 405 method_not_allowed -X DELETE "$(api $L)/v1/entries"
mapfile -t SH < <(sighdrs "$T/demo/keys/bank.issuer.key" "$(api $L)/v1/entries?from=x")
expect "bad query" 400 invalid_argument -H "${SH[0]}" -H "${SH[1]}" "$(api $L)/v1/entries?from=x"
mapfile -t SH < <(sighdrs "$T/demo/keys/bank.issuer.key" "$(api $L)/v1/entries?limit=1001")
expect "limit too large" 400 out_of_range -H "${SH[0]}" -H "${SH[1]}" "$(api $L)/v1/entries?limit=1001"
expect "unsigned account read" 401 unauthenticated "$(api $L)/v1/accounts/zz"
mapfile -t SH < <(sighdrs "$T/demo/keys/bank.issuer.key" "$(api $L)/v1/accounts/zz")
expect "bad account id (signed by an issuer key)" 400 invalid_argument -H "${SH[0]}" -H "${SH[1]}" "$(api $L)/v1/accounts/zz"
sleep 0.2
after=$(curl -s "$(api $L)/v1/status" | jget size)
check "bad input changed nothing (size $before -> $after)" test "$before" = "$after"

# ---- convergence ----
sizeroot() { curl -s -m 1 "$(api $1)/v1/status" | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
converged() {
    local a b c
    a=$(sizeroot 1); b=$(sizeroot 2); c=$(sizeroot 3)
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]
}
wait_conv() { for _ in $(seq 100); do converged && return 0; sleep 0.05; done; return 1; }
check "three nodes converge to the same size and root" wait_conv
IK=$T/demo/keys/bank.issuer.key
EIX=$(curl -s "$(api $L)/v1/ids/$(post $L "$T/demo/entries/002-account.open.cbe" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')" | jget index)
ACC=$(python3 -c 'import sys,json;print(json.load(open(sys.argv[1]))["id"])' <(scurl "$IK" -s -H 'Accept: application/json' "$(api $L)/v1/entries/$EIX"))
v1=$(scurl "$IK" -s "$(api 1)/v1/accounts/$ACC"); v2=$(scurl "$IK" -s "$(api 2)/v1/accounts/$ACC"); v3=$(scurl "$IK" -s "$(api 3)/v1/accounts/$ACC")
check "identical account views on the three nodes" bash -c "[ -n '$v1' ] && [ '$v1' = '$v2' ] && [ '$v2' = '$v3' ] && [[ '$v1' != *error* ]]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(api $F)/v1/checkpoint")
check "GET /v1/checkpoint on a follower" test "$code" = 200

# ---- a follower stopped cleanly restarts from its own Raft log ----
# (regression: raft 0.15 reloads segments without skipping the 8-byte padding
# it writes, so unpadded batches made a restarted node unable to start)
kill -TERM "${PID[$F]}"; wait "${PID[$F]}" 2>/dev/null
start $F
check "a follower restarted after SIGTERM reloads its log and converges" wait_conv
check "its log shows no load error" bash -c "! grep -q 'raft_start\|not a batch' '$T/n$F.log'"

# ---- kill -9 of the leader under load ----
mkdir -p "$T/load"
for k in $(seq 1 40); do
    "$CB" keygen "l$k" -o "$T/load/l$k.key" --json > "$T/load/l$k.json" 2>/dev/null
    vk=$(python3 -c 'import sys,json;print(json.load(open(sys.argv[1]))["vkey"])' "$T/load/l$k.json")
    "$CB" entry build account.open --key "$T/demo/keys/bank.issuer.key" --ledger @"$G" \
        --learner-key "$vk" --degree bachelor --major cs --education-level high_school \
        --education-evidence "$(printf '%064x' $k)" --pii "$(printf '%064x' $((k+1000)))" \
        --sign "$T/load/l$k.key" -o "$T/load/a$k.cbe" >/dev/null 2>&1
done
: > "$T/acked"
loader() { # submits a$k in order to whoever leads; records ids acknowledged final
    for k in $(seq 1 40); do
        for _ in $(seq 60); do
            l=$(leader 1 2 3); [ -z "$l" ] && { sleep 0.05; continue; }
            r=$(post $l "$T/load/a$k.cbe")
            if [[ "$r" == 200*final* ]]; then echo "$r" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' >> "$T/acked"; break; fi
            sleep 0.05
        done
    done
}
loader & LPID=$!
sleep 0.4
L0=$(leader 1 2 3)
t0=$(date +%s%N)
kill -9 "${PID[$L0]}"; unset "PID[$L0]"
rest=(); for i in 1 2 3; do [ "$i" != "$L0" ] && rest+=($i); done
L2=$(wait_leader "${rest[@]}")
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "a new leader within 2 s of kill -9 (${ms} ms)" bash -c "[ -n '$L2' ] && [ $ms -lt 2000 ]"
wait $LPID
n=$(wc -l < "$T/acked")
check "load acknowledged entries as final ($n of 40)" test "$n" -ge 30
lost=0
for i in "${rest[@]}"; do
    while read -r id; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/ids/$id")" = 200 ] || lost=$((lost+1))
    done < "$T/acked"
done
check "no acknowledged final entry lost on the survivors (missing: $lost)" test "$lost" = 0

# ---- a restarted node catches up ----
start $L0
conv2() { for _ in $(seq 200); do converged && return 0; sleep 0.05; done; return 1; }
check "the restarted node catches up (same size and root)" conv2
r=$(post "$(wait_leader 1 2 3)" "$T/demo/entries/024-appeal.file.cbe")
check "writes work after the fail-over ($r)" bash -c "[[ '$r' == 200*final* ]]"
check "all converge again" conv2

# ---- clean shutdown ----
for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}"; done
stopped=1
for i in "${!PID[@]}"; do
    for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
    kill -0 "${PID[$i]}" 2>/dev/null && stopped=0
done
check "SIGTERM stops every node within 5 s" test $stopped = 1
grep -h "FAIL-STOP\|DIVERGED\|ERROR\|runtime error\|not a batch\|raft_start" "$T"/n*.log && bad "no fail-stop, divergence or sanitizer report in the logs"
echo "integration/$NAME: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
