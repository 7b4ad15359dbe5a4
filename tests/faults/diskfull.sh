#!/usr/bin/env bash
# faults/diskfull: the nodes' data directories are small tmpfs; once the
# cluster runs, a filler file takes all the space left on a follower's
# (DISKFULL_VICTIM=leader: the leader's; diskfull_leader.sh) while the
# cluster keeps taking writes. The node must fail stopped with a clear reason
# (/v1/status failed + failed_reason, FAIL-STOP in its log) or exit, never
# cosign what it did not store; the two others keep making final entries
# (cosign quorum 2 of 3); a failed leader hands leadership over. Then the
# filler goes, the node restarts, loses
# nothing, catches up and converges.
# Observed (credbankd of 2026-12, raft 0.15, liblmdb): the first write to
# fail is the ledger's LMDB commit (raft's segments are preallocated, 3 x 8
# MiB, and a follower's appends land in them); the node fail-stops 0.15-0.9 s
# after the fill with "apply of raft index N failed (storage_full): commit:
# No space left on device" (or "commit: short write, file system full (0 KiB
# free)" when LMDB's pwritev is cut short: LMDB maps a short write to EIO,
# which the ledger reported as io_error until 2026-12), keeps serving
# reads, answers writes 503 unavailable, cosigns nothing further; a failed
# leader hands leadership over (0.4-0.9 s after the fill). After the space is
# freed and a restart, it replays its Raft log and converges in < 1 s.
# Needs root for mount -t tmpfs; prints "skip: ..." and exits 0 without.
# Usage: bash diskfull.sh /path/to/credbank   (env CB_BUILD_DIR)
NAME=${NAME:-diskfull}
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
N=60
VICTIM=${DISKFULL_VICTIM:-follower}   # follower or leader
MNT=()
fault_cleanup() { local m; for m in "${MNT[@]}"; do umount -l "$m" 2>/dev/null; done; }

# every data directory is a 32 MiB tmpfs (the victim is chosen once a leader
# is known). raft 0.15 preallocates three 8 MiB open segments at start
# (24 MiB); the ledger's LMDB file is sparse (map 1 TiB) and grows by pages
for i in 1 2 3; do
    mkdir -p "$T/n$i"
    if ! mount -t tmpfs -o size=32m tmpfs "$T/n$i" 2>"$T/mount.err"; then
        echo "skip: mount -t tmpfs not permitted ($(head -c 200 "$T/mount.err"))"
        echo "faults/$NAME: skipped"
        exit 0
    fi
    MNT+=("$T/n$i")
done

make_load $N || { bad "prepare the load"; summary; exit 1; }
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || { summary; exit 1; }
if [ "$VICTIM" = leader ]; then V=$L; else V=$(( L % 3 + 1 )); fi
echo "     victim: node $V (the $VICTIM; leader node $L)"
VN=${names[$V]}

start_collectors 1 2 3
loader 1 $N $L & LP=$!; BGPIDS+=($LP)
t0=$SECONDS; while [ "$(acked)" -lt 5 ] && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.05; done
check "load finalises with three nodes ($(acked) acknowledged)" test "$(acked)" -ge 5
sleep 0.2
echo "     before the fill: node $V $(sizeroot $V); tmpfs: $(df -k --output=used,avail "$T/n$V" | tail -1 | awk '{print $1" KiB used, "$2" KiB free"}')"

# ---- fill the victim's file system ----
sleep 0.3
tf=$(now_ms)
dd if=/dev/zero of="$T/n$V/filler" bs=64k 2>/dev/null
a_fill=$(acked)
echo "     filled: $(df -k --output=avail "$T/n$V" | tail -1 | tr -d ' ') KiB free"

# the victim must fail stopped (or exit) while the others go on
st=""; gone=""
for _ in $(seq 300); do
    if ! kill -0 "${PID[$V]}" 2>/dev/null; then gone=1; break; fi
    s=$(status $V)
    if [[ "$s" == *'"failed":true'* ]]; then st=$s; break; fi
    sleep 0.05
done
tfail=$(now_ms)
if [ -n "$gone" ]; then
    wait "${PID[$V]}"; rc=$?
    echo "     node $V exited (status $rc) $((tfail - tf)) ms after the fill"
    check "node $V exited without a crash signal (status $rc)" test "$rc" -lt 128
else
    reason=$(echo "$st" | sed -n 's/.*"failed_reason":"\([^"]*\)".*/\1/p')
    echo "     node $V: failed $((tfail - tf)) ms after the fill: $reason"
    # regression: LMDB reports a short write (the file system filling up in
    # the middle of a commit) as EIO; the ledger reports storage_full then
    check "node $V reports failed with reason storage_full in /v1/status" \
        bash -c "[[ '$reason' == *storage_full* ]]"
    check "node $V logs FAIL-STOP" grep -q "FAIL-STOP" "$T/n$V.log"
    m=$(curl -s -m 5 "http://127.0.0.1:$((AP[$V] + 1000))/metrics" | grep '^credbank_failed ') # --metrics default: API port + 1000
    check "metrics say credbank_failed 1 ($m)" test "$m" = "credbank_failed 1"
    code=$(curl -s -m 3 -o "$T/vresp" -w '%{http_code}' -H 'Content-Type: application/msgpack' \
        --data-binary @"$T/load/a$N.cbe" "$(api $V)/v1/entries")
    check "a write to node $V is refused ($code $(head -c 120 "$T/vresp"))" test "$code" = 503
fi
grep -h "FAIL-STOP\|raft\b.*error\|No space\|ENOSPC\|storage_full" "$T/n$V.log" | head -5 | sed 's/^/     log: /'
vsize=$(echo "${st:-}" | sfield size)

others=(); for i in 1 2 3; do [ $i != $V ] && others+=($i); done
if [ "$VICTIM" = leader ]; then
    L2=$(wait_leader "${others[@]}"); tl=$(now_ms)
    check "the failed leader hands over: node ${L2:-none} leads $((tl - tf)) ms after the fill" test -n "$L2"
    check "the failed node is no longer leader" bash -c "[[ '$(status $V)' != *'\"role\":\"leader\"'* ]]"
fi

# ---- the two others keep finalising ----
a1=$(acked)
t0=$SECONDS; while [ "$(acked)" -lt $((a1 + 8)) ] && [ $((SECONDS - t0)) -lt 60 ] && kill -0 $LP 2>/dev/null; do sleep 0.05; done
a2=$(acked)
check "the two others keep making final entries ($a1 -> $a2)" test "$a2" -ge $((a1 + 8))
if [ -z "$gone" ]; then
    s=$(status $V)
    vsize2=$(echo "$s" | sfield size)
    check "the failed node applies nothing further (size $vsize, then $vsize2)" test "$vsize" = "$vsize2"
    # no final checkpoint carries its signature beyond what it stored
    maxsig=$(awk -v n="$VN" 'BEGIN{RS="=====\n"} { split($0,l,"\n"); if (index($0, "\xe2\x80\x94 " n " ")) if (l[2]+0 > m) m = l[2]+0 } END{print m+0}' "$T"/cp.*)
    bigger=$(awk -v v=$V '$3 == v && $5 == "final" { if (match($0, /"final":[0-9]+/)) { f = substr($0, RSTART + 8, RLENGTH - 8) + 0; if (f > m) m = f } } END { print m + 0 }' "$T/outcomes")
    check "node $V acknowledged nothing final beyond its size (largest final it answered: $bigger)" \
        test "$bigger" -le "$vsize"
    check "no final checkpoint cosigned by $VN beyond its size (largest $maxsig, its size $vsize)" \
        test "$maxsig" -le "$vsize"
fi

# ---- free the space, restart the victim: it catches up ----
touch "$T/stop"; wait $LP
kill -TERM "${PID[$V]}" 2>/dev/null
for _ in $(seq 100); do kill -0 "${PID[$V]}" 2>/dev/null || break; sleep 0.05; done
if kill -0 "${PID[$V]}" 2>/dev/null; then
    bad "the failed node stops on SIGTERM within 5 s"; kill -9 "${PID[$V]}"
fi
wait "${PID[$V]}" 2>/dev/null; trc=$?
[ -z "$gone" ] && check "the failed node exits cleanly on SIGTERM (status $trc)" test "$trc" -lt 128
rm -f "$T/n$V/filler"
tr0=$(now_ms)
start $V
CONV_S=20
check "after the space is freed, node $V restarts, catches up and converges" wait_conv 1 2 3
tr1=$(now_ms)
echo "     converged $((tr1 - tr0)) ms after the restart: $(sizeroot $V)"
s=$(status $V)
check "node $V is no longer failed" bash -c "[[ '$s' == *'\"failed\":false'* && '$s' == *'\"diverged\":false'* ]]"
n=$(acked)
lost=0
for i in 1 2 3; do
    while read -r id; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/ids/$id")" = 200 ] || { lost=$((lost+1)); echo "     node $i lacks $id"; }
    done < "$T/acked"
done
check "every acknowledged final entry ($n) is on every node (missing: $lost)" test "$lost" = 0
L=$(wait_leader 1 2 3)
r=$(curl -s -m 10 -w ' %{http_code}' -H 'Content-Type: application/msgpack' --data-binary @"$T/demo/entries/001-policy.set.cbe" "$(api $L)/v1/entries")
check "writes are final after the restart ($r)" bash -c "[[ '$r' == *final*200 ]]"
check "the three converge again" wait_conv 1 2 3
sleep 0.3
stop_collectors
check "final checkpoints form one history (no fork, consistency proofs verify)" history_check $V
stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
summary
