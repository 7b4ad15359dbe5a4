#!/usr/bin/env bash
# faults/pause: SIGSTOP the leader for longer than the election timeout
# (300 ms) under a continuous client load; a new leader is elected and keeps
# finalising; SIGCONT: the old leader steps down and converges; every entry
# acknowledged final is on every node; the final checkpoints seen during the
# run form one history (history.py).
# Usage: bash pause.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is;
# PAUSE_MS: how long the leader stays stopped, default 1500)
NAME=pause
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
PAUSE_MS=${PAUSE_MS:-1500}
N=80

make_load $N || { bad "prepare the load"; summary; exit 1; }
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }

start_collectors 1 2 3
loader 1 $((N/2)) $L & LP1=$!; loader $((N/2+1)) $N $L & LP2=$!; BGPIDS+=($LP1 $LP2)
# wait for the load to get going
t0=$SECONDS; while [ "$(acked)" -lt 8 ] && [ $((SECONDS - t0)) -lt 15 ]; do sleep 0.05; done
a0=$(acked)
check "load finalises before the pause ($a0 acknowledged)" test "$a0" -ge 8

# ---- pause the leader ----
L=$(leader 1 2 3)
check "the leader is known before the pause (node $L)" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }
term0=$(status $L | sfield term)
rest=(); for i in 1 2 3; do [ "$i" != "$L" ] && rest+=($i); done
ts=$(now_ms)
kill -STOP "${PID[$L]}"
L2=$(wait_leader "${rest[@]}")
te=$(now_ms)
check "a new leader among the others within 3 s of SIGSTOP (node ${L2:-none}, $((te - ts)) ms)" \
    bash -c "[ -n '$L2' ] && [ $((te - ts)) -lt 3000 ]"
# keep it stopped PAUSE_MS in all, and at least until the survivors finalised
# something themselves
a1=$(acked)
while [ $(( $(now_ms) - ts )) -lt "$PAUSE_MS" ] || { [ "$(acked)" -le "$a1" ] && [ $(( $(now_ms) - ts )) -lt 8000 ]; }; do sleep 0.05; done
a2=$(acked)
tc=$(now_ms)
kill -CONT "${PID[$L]}"
check "the two others finalise entries while the leader is stopped ($a1 -> $a2 during $((tc - ts)) ms)" test "$a2" -gt "$a1"

# ---- the old leader steps down ----
down=""
for _ in $(seq 100); do
    s=$(status $L)
    if [[ -n "$s" && "$s" != *'"role":"leader"'* ]]; then down=$(now_ms); break; fi
    sleep 0.05
done
check "the old leader steps down after SIGCONT (${down:+$((down - tc)) ms})" test -n "$down"
term1=$(status $L | sfield term); term2=$(status ${L2:-$L} | sfield term)
check "it follows the new term (term $term0 -> $term1, new leader's $term2)" \
    bash -c "[ -n '$term1' ] && [ '$term1' = '$term2' ] && [ '$term1' -gt '$term0' ]"
check "exactly one ready leader after SIGCONT" test "$(for i in 1 2 3; do leader $i; done | wc -l)" = 1

# load keeps going a little after the pause, then stops
a3=$(acked)
t0=$SECONDS; while [ "$(acked)" -lt $((a3 + 5)) ] && [ $((SECONDS - t0)) -lt 10 ] && { kill -0 $LP1 2>/dev/null || kill -0 $LP2 2>/dev/null; }; do sleep 0.05; done
touch "$T/stop"; wait $LP1 $LP2
n=$(acked)
check "load finalises after the pause ($a3 -> $n)" test "$n" -gt "$a3"
nf=$(grep -c ' final ' "$T/outcomes"); nu=$(grep -c ' unknown ' "$T/outcomes"); nx=$(grep -c ' failed ' "$T/outcomes")
echo "     load: $(awk '{print $2}' "$T/outcomes" | sort -u | wc -l) entries tried, attempts: $nf final, $nu unknown, $nx failed"

# ---- convergence and durability ----
CONV_S=15
check "the three nodes converge (same size and root)" wait_conv 1 2 3
sr=$(sizeroot 1); echo "     $sr"
lost=0
for i in 1 2 3; do
    while read -r id; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/ids/$id")" = 200 ] || { lost=$((lost+1)); echo "     node $i lacks $id"; }
    done < "$T/acked"
done
check "every acknowledged final entry ($n) is on every node (missing: $lost)" test "$lost" = 0
for i in 1 2 3; do
    s=$(status $i)
    check "node $i neither failed nor diverged" bash -c "[[ '$s' == *'\"failed\":false'* && '$s' == *'\"diverged\":false'* ]]"
done
sleep 0.3
stop_collectors
check "final checkpoints form one history (no fork, consistency proofs verify)" history_check $L

stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
summary
