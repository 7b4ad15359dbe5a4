#!/usr/bin/env bash
# faults/lossy_link: three credbankd, each in its own network namespace
# (tests/faults/netns.bash), under a continuous client load. The link between
# the leader and one follower (chosen from CB_SEED) loses LOSS_PCT % of its
# packets each way (nft numgen random drop, counted) and is delayed DELAY_MS
# each way. The kernel here has no netem qdisc and nft no queue support, so
# the delay is made by tests/faults/delayrelay.py, a TCP relay that nft DNAT
# puts on that link: it delays the byte streams (Raft messages, HTTP between
# the two nodes), not TCP's own acknowledgements; the loss is real packet loss
# on the relay's hop to the follower. Progress continues, the follower keeps
# advancing over the bad link, and after the heal the three converge with
# every acknowledged final entry; the final checkpoints form one history.
# Usage: bash lossy_link.sh /path/to/credbank   (env CB_BUILD_DIR: where
# credbankd is; CB_SEED; LOSS_PCT, default 20; DELAY_MS, default 100;
# CB_FULL=1: longer load)
NAME=lossy_link
source "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
LOSS_PCT=${LOSS_PCT:-20}; DELAY_MS=${DELAY_MS:-100}
# the fault lasts FAULT_S seconds, longer if the load has not finalised GROW
# entries by then (at most MAX_S)
if [ "${CB_FULL:-0}" = 1 ]; then N=200; FAULT_S=60; GROW=50; MAX_S=150; else N=30; FAULT_S=15; GROW=5; MAX_S=60; fi

make_load $((N + 5)) || { bad "prepare the load"; summary; exit 1; }
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected over the bridge" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }
CONV_S=10
check "the three nodes answer over the bridge and agree" wait_conv 1 2 3

start_collectors 1 2 3; start_monitor
loader 1 $((N/2)) $L & LP1=$!; loader $((N/2+1)) $N $L & LP2=$!; BGPIDS+=($LP1 $LP2)
check "load finalises before the fault ($(wait_acked 1 120; acked) acknowledged)" test "$(acked)" -ge 1

# ---- the bad link ----
L=$(leader 1 2 3)
[ -n "$L" ] || { bad "no leader before the fault"; summary; exit 1; }
rnd_pick F $(others $L)
term0=$(status $L | sfield term)
echo "     leader $L (term $term0); link $L-$F: $LOSS_PCT % loss and $DELAY_MS ms delay each way"
check "nft rules and the delay relay make the link $L-$F lossy and slow" lossy_link $F $L $LOSS_PCT $DELAY_MS
ts=$(now_ms); a1=$(acked)
sleep 1
fs0=$(status $F | sfield size)
# the delay is there: requests from F's namespace to L's API take >= 2 x DELAY_MS
best=""
for _ in 1 2 3 4 5; do
    t=$(nsx $F curl -s -m 5 -o /dev/null -w '%{time_total}' "$(api $L)/v1/status")
    t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
    [ "$t" -gt 0 ] && { [ -z "$best" ] || [ "$t" -lt "$best" ]; } && best=$t
done
check "requests from node $F to node $L go through the relay, delayed (best of 5: ${best:-none} ms >= $((2 * DELAY_MS)))" \
    bash -c "[ -n '$best' ] && [ '$best' -ge $((2 * DELAY_MS)) ]"
while [ $(( $(now_ms) - ts )) -lt $((FAULT_S * 1000)) ]; do sleep 0.1; done
wait_acked $((a1 + GROW)) $((MAX_S - FAULT_S))
a2=$(acked); te=$(now_ms)
check "the load finalises over the bad link ($a1 -> $a2 in $((te - ts)) ms)" test "$a2" -ge $((a1 + GROW))
fs1=$(status $F | sfield size)
check "node $F keeps advancing over the bad link (size $fs0 -> $fs1)" test "${fs1:-0}" -gt "${fs0:-0}"
nd=$(dropped $F); nr=$(relayed $F)
check "the link carried traffic through the relay and lost some ($nd dropped of $nr packets)" \
    bash -c "[ '$nd' -gt 0 ] && [ '$nr' -gt '$nd' ]"
term1=$(status $L | sfield term); L1=$(leader 1 2 3)
echo "     during the fault: leader $L term $term0 -> leader ${L1:-none} term $term1"

# ---- heal ----
L1=${L1:-$L}; target=$(status $L1 | sfield size)
lossy_heal $F $L
th=$(now_ms)
took=$(wait_size $F "$target" 60); rc=$?
check "after the heal node $F is at the leader's size $target (${took:-no} ms)" test $rc = 0
[ $rc = 0 ] || { echo "     monitor (role/size/term of nodes 1 2 3) from the heal:"; mon_since $th | head -80; }
touch "$T/stop"; wait $LP1 $LP2
a3=$(acked)
after_load $((N + 1)) $((N + 5))
check "load finalises after the heal ($a3 -> $(acked))" test "$(acked)" -gt "$a3"
load_summary

# ---- invariants ----
CONV_S=30
check "the three nodes converge (same size and root)" wait_conv 1 2 3
lost_check 1 2 3
report
healthy_check 1 2 3
sleep 0.3
stop_collectors
check "final checkpoints form one history (no fork, consistency proofs verify)" history_check $F

stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
summary
