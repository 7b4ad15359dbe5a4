#!/usr/bin/env bash
# integration/catchup: a follower behind a Raft snapshot, and a node whose
# data directory was wiped, catch up over the HTTP API (spec/node.md,
# "Catch-up"). Three credbankd on 127.0.0.1 with a small snapshot threshold.
# Usage: bash catchup.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=catchup
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
N1=${CATCHUP_ENTRIES:-200}   # written while a follower is down
N2=${CATCHUP_ENTRIES2:-100}  # written while a node is wiped
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
# signed reads (spec/security.md): scurl KEYFILE curl-args... URL
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/auth.bash"
# counters, checks, the nodes' cleanup (KEEP=1 keeps $T); the helpers over
# the nodes' APIs that this test needs differently are defined below
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/nodes.bash"

# ---- consortium, and N1+N2 account.open entries made in one python ----
( cd "$T" && { "$CB" demo --local --out demo >/dev/null 2>&1 || "$CB" demo --out demo >/dev/null 2>&1; } ) || { echo "credbank demo failed"; exit 1; }
G=$T/demo/entries/000-genesis.cbe
/usr/bin/python3 - "$T/demo" "$T/gen" $((N1 + N2 + 40)) <<'PY' || { echo "entry generator failed"; exit 1; }
import sys, os, base64, hashlib, msgpack
from nacl.signing import SigningKey
CTX = b"credbank-entry-v1\n"
demo, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def key(path):  # PRIVATE+KEY+name+hash+base64(0x01 || seed)
    b = base64.b64decode(open(path).read().strip().split('+', 4)[4])
    assert b[0] == 1 and len(b) == 33
    return SigningKey(b[1:])
def canon(o):
    if isinstance(o, dict):
        return {k: canon(o[k]) for k in sorted(o, key=lambda k: k.encode())}
    return [canon(x) for x in o] if isinstance(o, list) else o
bank = key(os.path.join(demo, 'keys/bank.issuer.key'))
s = msgpack.unpackb(open(os.path.join(demo, 'entries/002-account.open.cbe'), 'rb').read(), raw=False)
e = msgpack.unpackb(s[0], raw=False, strict_map_key=False)
os.makedirs(out, exist_ok=True)
for k in range(n):
    lk = SigningKey(hashlib.sha256(b'catchup learner %d' % k).digest())
    b = dict(e['body'], learner_key=bytes(lk.verify_key),
             pii=hashlib.sha256(b'pii %d' % k).digest())
    b['education'] = dict(b['education'], evidence=hashlib.sha256(b'ev %d' % k).digest())
    e2 = dict(e, body=b, nonce=hashlib.sha256(b'nonce %d' % k).digest()[:16],
              ts=e['ts'] + 1000 + k)
    eb = msgpack.packb(canon(e2), use_bin_type=True)
    sigs = [[bytes(bank.verify_key), bank.sign(CTX + eb).signature],
            [bytes(lk.verify_key), lk.sign(CTX + eb).signature]]
    with open(os.path.join(out, 'a%04d.cbe' % k), 'wb') as f:
        f.write(msgpack.packb([eb, sigs], use_bin_type=True))
PY

names=(x bank university provider)
ports_for 3 RP AP MP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() { # start NODE [extra flags]
    local i=$1; shift
    "$D" --dir "$T/n$i" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "127.0.0.1:${MP[$i]}" \
        --snapshot-threshold 64 --snapshot-trailing 16 $PEERS "$@" >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
api() { echo "http://127.0.0.1:${AP[$1]}"; }
metrics() { echo "http://127.0.0.1:${MP[$1]}/metrics"; }
leader() {
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
# submit FILE [query]: to whoever leads (cached), retrying across fail-overs
CUR=""
submit() {
    local r=""
    for _ in $(seq 200); do
        [ -z "$CUR" ] && CUR=$(leader 1 2 3)
        [ -z "$CUR" ] && { sleep 0.05; continue; }
        r=$(post $CUR "$1" "${2:-}")
        [[ "$r" == 200* ]] && { echo "$r"; return 0; }
        CUR=""; sleep 0.05
    done
    echo "$r"; return 1
}
# write FROM TO: gen/a{FROM..TO-1}, six at a time (?wait=applied); then every
# 25th again without wait: it answers as a duplicate once final, and its id is
# recorded as acknowledged final
write() {
    local k r f
    [ -z "$CUR" ] && CUR=$(wait_leader 1 2 3)
    for ((k = $1; k < $2; k++)); do echo "$T/gen/a$(printf %04d $k).cbe"; done |
        xargs -P 6 -I{} curl -s -m 15 -o /dev/null -w '%{http_code} {}\n' \
            -H 'Content-Type: application/msgpack' --data-binary @{} \
            "$(api $CUR)/v1/entries?wait=applied" > "$T/bulk"
    grep -v '^200 ' "$T/bulk" | while read -r _ f; do submit "$f" "?wait=applied" >/dev/null; done
    for ((k = $1; k < $2; k++)); do
        [ $((k % 25)) = 24 ] || continue
        r=$(submit "$T/gen/a$(printf %04d $k).cbe"); [[ "$r" == 200*final* ]] && echo "$r" | idof >> "$T/acked"
    done
}
sizeroot() { curl -s -m 1 "$(api $1)/v1/status" | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
converged() {
    local a b c
    a=$(sizeroot 1); b=$(sizeroot 2); c=$(sizeroot 3)
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]
}
wait_conv() { for _ in $(seq ${1:-300}); do converged && return 0; sleep 0.05; done; return 1; }
idof() { sed 's/.*"id":"\([0-9a-f]*\)".*/\1/'; }

for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || exit 1
: > "$T/acked"
for f in "$T"/demo/entries/0{01..19}-*.cbe; do submit "$f" "?wait=applied" >/dev/null; done

# ---- 1. a follower stopped while N1 entries are written ----
F=$(( L % 3 + 1 ))
kill -TERM "${PID[$F]}"; wait "${PID[$F]}" 2>/dev/null; unset "PID[$F]"
size_before=$(sizeroot $L | sed 's/"size":\([0-9]*\).*/\1/')
t0=$SECONDS
write 0 $N1
echo "     wrote $N1 entries in $((SECONDS - t0)) s while node $F was down"
sleep 0.3
size_mid=$(sizeroot $L | sed 's/"size":\([0-9]*\).*/\1/')
check "the ledger grew while the follower was down ($size_before -> $size_mid)" test "$size_mid" -ge $((size_before + N1))
tr0=$(date +%s%N)
start $F
check "the restarted follower converges (same size and root)" wait_conv
tr1=$(date +%s%N)
echo "     follower converged $(( (tr1 - tr0) / 1000000 )) ms after restart"
check "its log shows a snapshot catch-up over the HTTP API" grep -q "catch-up done" "$T/n$F.log"
grep -h "catch-up" "$T/n$F.log" | sed 's/^/     /'
st=$(curl -s "$(api $F)/v1/status")
check "it reports catching_up false" bash -c "[[ '$st' == *'\"catching_up\":false'* ]]"

# ---- 2. a node whose data directory was wiped rejoins with --join ----
L=$(wait_leader 1 2 3)
W=$(( (L + 1) % 3 + 1 )); [ "$W" = "$L" ] && W=$(( L % 3 + 1 ))
kill -9 "${PID[$W]}"; wait "${PID[$W]}" 2>/dev/null; unset "PID[$W]"
rm -rf "$T/n$W"
t0=$SECONDS
write $N1 $((N1 + N2))
echo "     wrote $N2 entries in $((SECONDS - t0)) s while node $W was wiped"
tw0=$(date +%s%N)
start $W --join
check "the wiped node rejoins and converges (same size and root)" wait_conv 400
tw1=$(date +%s%N)
echo "     wiped node converged $(( (tw1 - tw0) / 1000000 )) ms after start"
check "it joined without bootstrap" grep -q "joining without bootstrap" "$T/n$W.log"
check "it caught up over the HTTP API" grep -q "catch-up done" "$T/n$W.log"
grep -h "catch-up\|join" "$T/n$W.log" | sed 's/^/     /'
r=$(submit "$T/demo/entries/024-appeal.file.cbe")
check "writes are final after the rejoin ($r)" bash -c "[[ '$r' == 200*final* ]]"
echo "$r" | idof >> "$T/acked"
check "all converge again" wait_conv

# ---- 3. a wiped node started without --join detects the running cluster ----
L=$(wait_leader 1 2 3); CUR=$L
V=$(( L % 3 + 1 )); [ "$V" = "$W" ] && V=$(( V % 3 + 1 )); [ "$V" = "$L" ] && V=$(( V % 3 + 1 ))
kill -9 "${PID[$V]}"; wait "${PID[$V]}" 2>/dev/null; unset "PID[$V]"
rm -rf "$T/n$V"
write $((N1 + N2)) $((N1 + N2 + 40))
start $V
check "a wiped node without --join rejoins instead of bootstrapping" wait_conv 400
check "its log says it detected the cluster" grep -q "rejoining instead of bootstrapping" "$T/n$V.log"

# ---- identical views, nothing acknowledged lost ----
views_equal=1
for f in "$T"/demo/entries/002-account.open.cbe "$T"/gen/a0000.cbe "$T"/gen/a0150.cbe "$T"/gen/a$(printf %04d $((N1 + N2 + 39))).cbe; do
    id=$(submit "$f" "?wait=applied" | idof)
    IK=$T/demo/keys/bank.issuer.key
    v1=$(scurl "$IK" -s "$(api 1)/v1/accounts/$id"); v2=$(scurl "$IK" -s "$(api 2)/v1/accounts/$id"); v3=$(scurl "$IK" -s "$(api 3)/v1/accounts/$id")
    if [ -z "$v1" ] || [[ "$v1" == *error* ]] || [ "$v1" != "$v2" ] || [ "$v2" != "$v3" ]; then views_equal=0; echo "     differs: $id"; fi
done
check "identical account views on the three nodes" test $views_equal = 1
n=$(wc -l < "$T/acked")
lost=0
for i in 1 2 3; do
    while read -r id; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/ids/$id")" = 200 ] || lost=$((lost+1))
    done < "$T/acked"
done
check "no acknowledged final entry lost ($n acknowledged, missing: $lost)" bash -c "[ $n -ge 5 ] && [ $lost = 0 ]"
m=$(curl -s "$(metrics $W)")
# (grep, not [[ ]] inside bash -c: the metrics text holds quotes)
check "metrics report the catch-up" grep -q '^credbank_catchup_entries_total' <<<"$m"
m=$(curl -s "$(metrics $(wait_leader 1 2 3))")
histograms() {
    grep -qF 'credbank_apply_seconds_bucket{le="+Inf"}' <<<"$m" &&
        grep -qF 'credbank_finality_seconds_bucket{le="0.05"}' <<<"$m" &&
        grep -q '^credbank_finality_seconds_count' <<<"$m"
}
check "metrics have apply and finality histograms" histograms

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
