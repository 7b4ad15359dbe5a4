# Shared by tests/faults/kill_{leader,follower,two}.sh (sourced; not a test):
# kill -9 of nodes under a continuous client load, then restart.
# Before sourcing: NAME, KILL_MODE = leader | follower | two.
#   leader    each round: SIGKILL the current leader; a new one is elected
#             among the two others and keeps finalising; the old one restarts
#             and catches up
#   follower  each round: SIGKILL a follower (chosen by the seed); the leader
#             keeps finalising with the other; it restarts and catches up
#   two       each round: SIGKILL one node (chosen by the seed), restart it,
#             let it catch up, then SIGKILL another (chosen by the seed among
#             the other two) and restart it
# When to strike (0.3-1.8 s into each round) and how long a node stays down
# (0.5-2.5 s) come from CB_SEED. Rounds: 1 (CB_FULL=1: 4); prepared entries:
# 100 (CB_FULL=1: 300), submitted by two loaders pausing 150 ms after each
# final answer. After the last round the load stops and the checks of
# every scenario run: convergence, every acknowledged-final entry on every
# node, one history of final checkpoints, bundles exported from every node
# verify offline and tampered copies do not.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# a client waits past the node's 10 s finality timeout (504) before it
# calls an attempt unknown: a loaded machine is slow, not faulty
LOAD_TIMEOUT_S=${LOAD_TIMEOUT_S:-12}
ROUNDS=${KILL_ROUNDS:-1}; N=${KILL_N:-100}; LOAD_PACE_MS=${LOAD_PACE_MS:-150}
[ "$FULL" = 1 ] && { ROUNDS=${KILL_ROUNDS:-4}; N=${KILL_N:-300}; }
echo "     kill -9 of the $KILL_MODE: $ROUNDS round(s), $N prepared entries"

make_load $N || { bad "prepare the load"; summary; exit 1; }
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }
start_collectors 1 2 3
loader 1 $((N/2)) $L & LP1=$!; loader $((N/2+1)) $N $L & LP2=$!; BGPIDS+=($LP1 $LP2)
t0=$SECONDS; while [ "$(acked)" -lt 5 ] && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.05; done
check "load finalises with three nodes ($(acked) acknowledged)" test "$(acked)" -ge 5

load_alive() { kill -0 $LP1 2>/dev/null || kill -0 $LP2 2>/dev/null; }

# strike V WHAT: kill -9 node V under load, check the two others go on,
# restart it after a seeded delay, check it catches up
strike() {
    local v=$1 what=$2 d others=() i l2 a1 a2 ts te lsize vsize t0
    for i in 1 2 3; do [ $i != $v ] && others+=($i); done
    a1=$(acked); ts=$(now_ms)
    fault "kill -9 node $v ($what), $a1 acknowledged so far"
    kill9 $v
    l2=$(wait_leader "${others[@]}"); te=$(now_ms)
    check "a ready leader among nodes ${others[*]} after the kill (node ${l2:-none}, $((te - ts)) ms)" \
        test -n "$l2"
    # the two others keep finalising while it is down
    t0=$SECONDS
    while [ "$(acked)" -lt $((a1 + 3)) ] && [ $((SECONDS - t0)) -lt 60 ] && load_alive; do sleep 0.05; done
    a2=$(acked)
    check "nodes ${others[*]} finalise while node $v is down ($a1 -> $a2)" test "$a2" -ge $((a1 + 3))
    rnd d 2000; sleep_ms $((500 + d))
    start $v
    fault_restart_note="restart node $v after $(( $(now_ms) - ts )) ms"
    echo "     $fault_restart_note"
    # it catches up: reaches the size the leader had at its restart
    # (no ready leader: no size to reach, and the check below fails)
    l2=$(leader "${others[@]}"); lsize=""
    [ -n "$l2" ] && lsize=$(status "$l2" | sfield size)
    t0=$SECONDS; vsize=""
    while [ $((SECONDS - t0)) -lt 90 ]; do
        vsize=$(status $v | sfield size)
        [ -n "$vsize" ] && [ -n "$lsize" ] && [ "$vsize" -ge "$lsize" ] && break
        sleep 0.1
    done
    check "restarted node $v catches up (size ${vsize:-none} >= ${lsize:-?} in $((SECONDS - t0)) s)" \
        bash -c "[ -n '$vsize' ] && [ -n '$lsize' ] && [ '$vsize' -ge '$lsize' ]"
    s=$(status $v)
    check "node $v is neither failed nor diverged after the restart" \
        bash -c "[[ '$s' == *'\"failed\":false'* && '$s' == *'\"diverged\":false'* ]]"
}

for r in $(seq "$ROUNDS"); do
    load_alive || { bad "the load ran out before round $r (raise KILL_N)"; break; }
    rnd d 1500; sleep_ms $((300 + d))
    case $KILL_MODE in
        leader)
            V=$(leader 1 2 3)
            check "round $r: the leader is known (node $V)" test -n "$V"
            [ -n "$V" ] && strike $V leader ;;
        follower)
            L=$(leader 1 2 3); fs=(); for i in 1 2 3; do [ "$i" != "$L" ] && fs+=($i); done
            rnd_pick V "${fs[@]}"
            strike $V "follower; leader node $L"
            # (not a check: on a loaded machine Raft may re-elect anyway)
            echo "     leader after round $r: node $(leader 1 2 3) (before: node $L)" ;;
        two)
            rnd_pick V 1 2 3
            strike $V "first of two; leader node $(leader 1 2 3)"
            ws=(); for i in 1 2 3; do [ "$i" != "$V" ] && ws+=($i); done
            rnd_pick W "${ws[@]}"
            rnd d 1000; sleep_ms $d
            strike $W "second of two; leader node $(leader 1 2 3)" ;;
    esac
done

# a little more load after the last round, then stop it
a3=$(acked)
t0=$SECONDS; while [ "$(acked)" -lt $((a3 + 5)) ] && [ $((SECONDS - t0)) -lt 60 ] && load_alive; do sleep 0.05; done
check "load finalises after the last restart ($a3 -> $(acked))" test "$(acked)" -gt "$a3"
touch "$T/stop"; wait $LP1 $LP2
load_summary

# ---- the invariants ----
CONV_S=30
check "the three nodes converge (same size and root)" wait_conv 1 2 3
echo "     $(sizeroot 1)"
lost_check 1 2 3
for i in 1 2 3; do
    s=$(status $i)
    check "node $i neither failed nor diverged" bash -c "[[ '$s' == *'\"failed\":false'* && '$s' == *'\"diverged\":false'* ]]"
done
sleep 0.3
stop_collectors
check "final checkpoints form one history (no fork, consistency proofs verify, no duplicate)" history_check 1
bundle_check 1 2 3
stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
report
summary
