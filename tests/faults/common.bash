# Shared by tests/faults/*.sh (sourced, not a test itself: ctest runs
# tests/faults/*.sh). Three real credbankd on 127.0.0.1 made from
# `credbank demo --local` keys and genesis, as in tests/integration/cluster.sh,
# plus: a client load that logs every outcome, checkpoint collectors, and the
# end-of-run history check (tests/faults/history.py).
# Before sourcing: NAME. Arguments of the script: $1 = credbank.
set -u
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/cb-fault-$NAME.XXXXXX)
PASS=0; FAIL=0; KNOWN=0
declare -A PID
BGPIDS=()
PYTHON=/usr/bin/python3; [ -x "$PYTHON" ] || PYTHON=python3
cleanup() {
    exec 2>/dev/null # no "Killed" job notices after the summary
    for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
    for i in "${!PID[@]}"; do kill -CONT "${PID[$i]}" 2>/dev/null; kill -9 "${PID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    type fault_cleanup >/dev/null 2>&1 && fault_cleanup
    if [ -n "${CB_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok()    { PASS=$((PASS+1)); echo "ok   $*"; }
bad()   { FAIL=$((FAIL+1)); echo "FAIL $*"; }
known() { KNOWN=$((KNOWN+1)); echo "KNOWN: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

( cd "$T" && "$CB" demo --local --out demo >/dev/null 2>&1 ) || { echo "FAIL credbank demo"; exit 1; }
G=$T/demo/entries/000-genesis.cbe
names=(x bank university provider)
declare -A RP AP DIR
for i in 1 2 3; do RP[$i]=$(freeport); AP[$i]=$(freeport); DIR[$i]=$T/n$i; done
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() {
    local i=$1
    "$D" --dir "${DIR[$i]}" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
api() { echo "http://127.0.0.1:${AP[$1]}"; }
status() { curl -s -m 1 "$(api $1)/v1/status"; }
leader() { # the node number of the ready leader, or nothing
    local i s
    for i in "$@"; do
        s=$(status $i)
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo $i; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt 10 ]; do l=$(leader "$@"); [ -n "$l" ] && { echo $l; return; }; sleep 0.02; done; }
sfield() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2- | tr -d '"'; } # status field (scalar)
sizeroot() { status $1 | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
converged() { # converged NODE... : same size and root on all
    local a="" b i
    for i in "$@"; do
        b=$(sizeroot $i); [ -n "$b" ] || return 1
        [ -z "$a" ] && a=$b
        [ "$a" = "$b" ] || return 1
    done
}
wait_conv() { local t0=$SECONDS; while [ $((SECONDS - t0)) -lt ${CONV_S:-10} ]; do converged "$@" && return 0; sleep 0.1; done; return 1; }

# ---- prepared load: N account.open entries (keys and entries made by the CLI) ----
make_load() {
    local n=$1 k vk
    mkdir -p "$T/load"
    for k in $(seq 1 "$n"); do
        vk=$("$CB" keygen "l$k" -o "$T/load/l$k.key" --json 2>/dev/null | sed -n 's/.*"vkey": *"\([^"]*\)".*/\1/p')
        "$CB" entry build account.open --key "$T/demo/keys/bank.issuer.key" --ledger @"$G" \
            --learner-key "$vk" --degree bachelor --major cs --education-level high_school \
            --education-evidence "$(printf '%064x' $k)" --pii "$(printf '%064x' $((k+1000)))" \
            --sign "$T/load/l$k.key" -o "$T/load/a$k.cbe" >/dev/null 2>&1 || return 1
    done
}

# ---- the load: a loader submits its entries in order, one at a time,
# following not_leader (several loaders may run side by side).
# Every attempt is logged in $T/outcomes as "ms k node http outcome" with
# outcome final (200 with final: acknowledged), failed (a definite refusal),
# unknown (timeout, no answer, 503 unavailable, 504). Ids acknowledged final
# go to $T/acked. An entry is retried (a retry answers as a duplicate) until
# final, for at most LOAD_TRY_S seconds; it stops early when $T/stop exists.
loader() { # loader FROM TO [NODE]: entries aFROM..aTO, in order
    local from=$1 to=$2 k node=${3:-1} t0 code body out url i r=$T/lresp.$1
    for k in $(seq "$from" "$to"); do
        [ -e "$T/stop" ] && break
        t0=$SECONDS
        while [ $((SECONDS - t0)) -lt ${LOAD_TRY_S:-20} ] && [ ! -e "$T/stop" ]; do
            code=$(curl -s -m ${LOAD_TIMEOUT_S:-2} -o "$r" -w '%{http_code}' \
                -H 'Content-Type: application/msgpack' --data-binary @"$T/load/a$k.cbe" "$(api $node)/v1/entries")
            body=$(cat "$r" 2>/dev/null); : > "$r"
            case "$code $body" in
                200*'"final":'*) out=final ;;
                503*not_leader*|503*shutting_down*|503*diverged*) out=failed ;;
                000*|503*|504*) out=unknown ;;
                *) out=failed ;;
            esac
            echo "$(now_ms) $k $node $code $out $(echo "$body" | head -c 160)" >> "$T/outcomes"
            if [ $out = final ]; then
                echo "$body" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' >> "$T/acked"
                break
            fi
            url=$(echo "$body" | sed -n 's/.*"leader":"\([^"]*\)".*/\1/p')
            if [ -n "$url" ]; then
                for i in 1 2 3; do [ "$url" = "$(api $i)" ] && node=$i; done
            elif [[ "$code" = 000 || "$body" == *not_leader* || "$body" == *failed* || "$body" == *diverged* ]]; then
                node=$(( node % 3 + 1 ))
            fi
            [ $out = unknown ] || sleep 0.05
        done
    done
}
: > "$T/acked"; : > "$T/outcomes"
acked() { wc -l < "$T/acked" 2>/dev/null | tr -d ' '; }

# ---- checkpoint collectors: every final checkpoint note a node serves ----
collect() { # collect NODE: appends each new note to $T/cp.NODE
    local i=$1 prev="" n
    while [ ! -e "$T/stopcp" ]; do
        n=$(curl -sf -m 1 "$(api $i)/v1/checkpoint" 2>/dev/null)
        if [ -n "$n" ] && [ "$n" != "$prev" ]; then
            printf '%s\n=====\n' "$n" >> "$T/cp.$i"; prev=$n
        fi
        sleep 0.1
    done
}
start_collectors() { for i in "$@"; do collect $i & BGPIDS+=($!); done; }
stop_collectors() { touch "$T/stopcp"; for p in "${BGPIDS[@]}"; do wait "$p" 2>/dev/null; done; BGPIDS=(); }

# history NODE: checks the notes collected in $T/cp.* with tests/faults/history.py
history_check() {
    local out
    out=$("$PYTHON" "$HERE/history.py" "$(api $1)" "$T"/cp.* 2>&1)
    local rc=$?
    echo "$out" | sed 's/^/     /'
    return $rc
}

# stop_all: SIGTERM every node; each must exit within 5 s, without a crash
# signal (an ASan build checks for leaks then)
stop_all() {
    local i rc bad_=""
    for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}" 2>/dev/null; done
    for i in "${!PID[@]}"; do
        for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
        if kill -0 "${PID[$i]}" 2>/dev/null; then bad_="$bad_ node $i still running;"; kill -9 "${PID[$i]}"; fi
        wait "${PID[$i]}" 2>/dev/null; rc=$?
        [ $rc -ge 128 ] && bad_="$bad_ node $i exit status $rc;"
        unset "PID[$i]"
    done
    check "SIGTERM stops every node within 5 s, cleanly${bad_:+:$bad_}" test -z "$bad_"
}

# log_reports: no sanitizer report, crash, or unexpected fail-stop in the logs
log_reports() { grep -h "runtime error\|AddressSanitizer\|LeakSanitizer\|UndefinedBehavior\|DIVERGED\|not a batch\|Segmentation\|Aborted" "$T"/n*.log; }

summary() {
    echo "faults/$NAME: $PASS passed, $FAIL failed${KNOWN:+, $KNOWN known}"
    [ "$FAIL" = 0 ]
}
