# Shared by tests/faults/ioerror_*.sh (sourced; not a test): one node runs
# under `strace -f --seccomp-bpf -e inject=CALL:error=EIO:when=K+`, so that
# from its K-th call of CALL on (K chosen by CB_SEED) every such call fails
# with EIO, while the cluster takes a continuous load. Before sourcing: NAME,
# IOERR_CALL (a system call), IOERR_VICTIM (leader | follower).
# What `strace -f -c` shows a node calling (credbankd, raft 0.15 on ext4,
# liblmdb 0.9.24): LMDB writes pages with pwrite64 (one run of pages) or
# writev, then fdatasync once per commit; its meta page goes through pwrite64
# on a descriptor opened O_DSYNC; raft writes its segments with io_submit
# (O_DIRECT kernel AIO) and its metadata files with write + fsync.
# Expected: the node stops rather than losing data: it fail-stops (failed in
# /v1/status with the reason, 503 to writes, cosigns and acknowledges
# nothing beyond what it stored) or exits; a failed leader hands leadership
# over; the two others keep finalising; restarted without the injection it
# replays its Raft log, loses nothing, and converges.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# tests on text that may hold quotes (a failed_reason "Raft's log ..."):
# never [[ ]] inside bash -c "...'$text'...", where a quote in the text is a
# syntax error that passed as ok
io_reason() { [[ "$1" == *io_error* || "$1" == *Input/output* ]]; }
not_failed() { [[ "$1" == *'"failed":false'* && "$1" == *'"diverged":false'* ]]; }
final_200() { [[ "$1" == *final*200 ]]; }
# reap_wrapped I S: waits at most S seconds for node I's wrapper (strace,
# which exits with the node) and sets RC to its status; past S it kills
# both (RC 137), so that no wait of the scenario can hang
reap_wrapped() {
    local i=$1 t0=$SECONDS w=${WPID[$1]:-${PID[$1]}}
    while kill -0 "$w" 2>/dev/null && [ $((SECONDS - t0)) -lt "$2" ]; do sleep 0.1; done
    if kill -0 "$w" 2>/dev/null; then
        echo "     (node $i: its wrapper $w still runs $2 s on: killed)"
        kill -9 "${PID[$i]}" "$w" 2>/dev/null
    fi
    wait "$w" 2>/dev/null; RC=$?
}
# a client waits past the node's 10 s finality timeout (504) before it
# calls an attempt unknown: a loaded machine is slow, not faulty
LOAD_TIMEOUT_S=${LOAD_TIMEOUT_S:-12}
N=${IOERR_N:-60}; [ "$FULL" = 1 ] && N=${IOERR_N:-200}
CALL=$IOERR_CALL; VICTIM=$IOERR_VICTIM
# N for the continuous load, 10 more for the others' check below when the
# load has already ended (the injection can strike late on a slow machine)
make_load $((N + 10)) || { bad "prepare the load"; summary; exit 1; }

# the victim is fixed before the start (the injection wraps the process):
# node V runs under strace; for the leader case, leadership is steered to it
rnd_pick V 1 2 3
rnd K 40; K=$((K + ${IOERR_AFTER:-30}))
# LeakSanitizer stops the world with ptrace, which fails under strace: in
# a sanitizer build the traced node runs without leak detection
WRAP[$V]="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f --seccomp-bpf -qq -o $T/strace.$V -e trace=$CALL -e inject=$CALL:error=EIO:when=$K+"
WRAP_FORKS[$V]=1
echo "     victim: node $V (to be the $VICTIM); $CALL fails with EIO from its call $K on"
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }
if [ "$VICTIM" = leader ]; then
    check "leadership steered to node $V" make_leader $V 1 2 3
else
    if [ "$L" = "$V" ]; then # a follower is wanted: move leadership away
        kill -STOP "${PID[$V]}"; o=(); for i in 1 2 3; do [ $i != $V ] && o+=($i); done
        wait_leader "${o[@]}" >/dev/null; kill -CONT "${PID[$V]}"; sleep 0.5
    fi
    check "node $V is a follower" test "$(leader 1 2 3)" != "$V"
fi
L=$(wait_leader 1 2 3); VN=${names[$V]}
echo "     leader: node $L"
start_collectors 1 2 3
loader 1 $N $L & LP=$!; BGPIDS+=($LP)
fault "node $V: $CALL -> EIO from call $K on (strace inject)"

# the victim must fail stopped (or exit) while the others go on
# (the injection strikes once the node has made K calls: on a slow machine
# the load takes a while to get there; bound IOERR_WAIT_S, default 240 s)
st=""; gone=""; t0=$SECONDS
while [ $((SECONDS - t0)) -lt ${IOERR_WAIT_S:-240} ] && kill -0 $LP 2>/dev/null; do
    if ! kill -0 "${PID[$V]}" 2>/dev/null; then gone=1; break; fi
    s=$(status $V)
    if [[ "$s" == *'"failed":true'* ]]; then st=$s; break; fi
    [ -e "$T/stop" ] && break
    sleep 0.1
done
echo "     node $V: $(grep -c 'EIO (Input/output error) (INJECTED)' "$T/strace.$V" 2>/dev/null) injected errors so far; acknowledged: $(acked)"
if [ -n "$gone" ]; then
    reap_wrapped $V 30; rc=$RC
    echo "     node $V exited (status $rc) after the injection"
    check "node $V exited without a crash signal (status $rc)" test "$rc" -lt 128
    grep -h "FAIL-STOP\|error\|raft" "$T/n$V.log" | tail -5 | sed 's/^/     log: /'
elif [ -n "$st" ]; then
    reason=$(echo "$st" | sed -n 's/.*"failed_reason":"\([^"]*\)".*/\1/p')
    echo "     node $V failed: $reason"
    check "node $V reports failed with an I/O reason in /v1/status" io_reason "$reason"
    check "node $V logs FAIL-STOP" grep -q "FAIL-STOP" "$T/n$V.log"
    code=$(curl -s -m 3 -o "$T/vresp" -w '%{http_code}' -H 'Content-Type: application/msgpack' \
        --data-binary @"$T/load/a$N.cbe" "$(api $V)/v1/entries")
    check "a write to node $V is refused ($code $(head -c 100 "$T/vresp"))" test "$code" = 503
else
    bad "node $V neither failed nor exited within $((SECONDS - t0)) s of the injection ($(grep -c INJECTED "$T/strace.$V" 2>/dev/null) calls failed; $(status $V | head -c 300))"
    grep -h "error\|raft" "$T/n$V.log" | tail -5 | sed 's/^/     log: /'
fi
vsize=$(echo "${st:-}" | sfield size)

others=(); for i in 1 2 3; do [ $i != $V ] && others+=($i); done
L2=$(wait_leader "${others[@]}")
check "a ready leader among the others (node ${L2:-none})" test -n "$L2"
a1=$(acked)
if ! kill -0 $LP 2>/dev/null && [ -n "$L2" ]; then
    echo "     (the load has ended: 10 more entries go to node $L2)"
    loader $((N + 1)) $((N + 10)) $L2 & LP=$!; BGPIDS+=($LP)
fi
t0=$SECONDS; while [ "$(acked)" -lt $((a1 + 5)) ] && [ $((SECONDS - t0)) -lt 60 ] && kill -0 $LP 2>/dev/null; do sleep 0.05; done
a2=$(acked)
check "the two others keep making final entries ($a1 -> $a2)" test "$a2" -ge $((a1 + 5))
if [ -n "$st" ]; then
    vsize2=$(status $V | sfield size)
    check "the failed node applies nothing further (size $vsize, then $vsize2)" test "$vsize" = "$vsize2"
    maxsig=$(awk -v n="$VN" 'BEGIN{RS="=====\n"} { split($0,l,"\n"); if (index($0, "\xe2\x80\x94 " n " ")) if (l[2]+0 > m) m = l[2]+0 } END{print m+0}' "$T"/cp.*)
    bigger=$(awk -v v=$V '$3 == v && $5 == "final" { if (match($0, /"final":[0-9]+/)) { f = substr($0, RSTART + 8, RLENGTH - 8) + 0; if (f > m) m = f } } END { print m + 0 }' "$T/outcomes")
    check "node $V acknowledged nothing final beyond its size (largest final it answered: $bigger, size $vsize)" \
        test "$bigger" -le "$vsize"
    check "no final checkpoint cosigned by $VN beyond its size (largest $maxsig)" test "$maxsig" -le "$vsize"
fi

# ---- restart the victim without the injection ----
touch "$T/stop"; wait $LP
load_summary
if [ -z "$gone" ]; then
    kill -TERM "${PID[$V]}" 2>/dev/null
    for _ in $(seq 100); do kill -0 "${PID[$V]}" 2>/dev/null || break; sleep 0.05; done
    kill -0 "${PID[$V]}" 2>/dev/null && { bad "node $V stops on SIGTERM within 5 s"; kill -9 "${PID[$V]}"; }
    reap_wrapped $V 30; trc=$RC
    check "node $V exits without a crash signal on SIGTERM (status $trc)" test "$trc" -lt 128
fi
ninj=$(grep -c 'INJECTED' "$T/strace.$V" 2>/dev/null)
echo "     $ninj calls of $CALL failed with an injected EIO"
unset "WRAP[$V]" "WRAP_FORKS[$V]"
start $V
CONV_S=30
check "restarted without the injection, node $V catches up and converges" wait_conv 1 2 3
echo "     $(sizeroot $V)"
s=$(status $V)
check "node $V is no longer failed" not_failed "$s"
for _ in 1 2 3; do # leadership may move meanwhile: follow it
    L=$(wait_leader 1 2 3)
    r=$(curl -s -m 15 -w ' %{http_code}' -H 'Content-Type: application/msgpack' --data-binary @"$T/demo/entries/001-policy.set.cbe" "$(api $L)/v1/entries")
    [[ "$r" == *final*200 ]] && break
done
check "writes are final after the restart ($(echo $r | head -c 80))" final_200 "$r"
check "the three converge again" wait_conv 1 2 3
lost_check 1 2 3
sleep 0.3
stop_collectors
check "final checkpoints form one history (no fork, consistency proofs verify, no duplicate)" history_check $V
bundle_check 1 2 3
stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
report
summary
