#!/usr/bin/env bash
# bench/catchup.bash: catch-up rate of a wiped node rejoining a large ledger
# (issue 7), run by scripts/bench ("catchup"). Not a test.
#
#   bash bench/catchup.bash BUILD_DIR [--entries 1000000] [--accounts 100000]
#                                     [--keep]
#
# 1. bench_scale builds a ledger of ENTRIES entries (ACCOUNTS account.open,
#    then deposits and recognitions) through lg_apply, and writes the
#    consortium's genesis, node keys and 200 extra signed entries.
# 2. Nodes 1 and 2 (bank, university) start on copies of that ledger (a
#    majority: they bootstrap the Raft cluster of three) with a snapshot
#    threshold of 64; the 200 extra entries are posted so that the leader
#    takes a Raft snapshot and truncates its log.
# 3. Node 3 (provider) starts with an empty data directory: it rejoins (a
#    peer reports a leader), gets the snapshot (ledger size and root only)
#    and fetches every entry over GET /v1/entries from its peers, applying
#    each chunk with lg_apply (all signatures and rules checked again).
#    Timed from its start until its /v1/status size and root equal the
#    leader's.
# Prints markdown rows: the catch-up rate against the verify bound for the
# ledger's signatures per entry (bench_scale's measure; target >= 80%).
set -u
B=${1:?build dir}; shift
B=$(cd "$B" && pwd)
N=1000000
A=100000
KEEP=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --entries) N=$2; shift ;;
    --accounts) A=$2; shift ;;
    --keep) KEEP=1 ;;
    *) echo "catchup.bash: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
T=$(mktemp -d /tmp/credbank-bench-catchup.XXXXXX)
declare -A PID
cleanup() {
  for i in "${!PID[@]}"; do kill "${PID[$i]}" 2>/dev/null; done
  sleep 1
  for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$KEEP" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "catchup: building a $N-entry ledger ($A accounts)..." >&2
t0=$SECONDS
"$B/bench_scale" --entries "$N" --accounts "$A" --probe 2000 --samples 200 \
  --runs 3 --dir "$T/ledger0" --keep --node-files "$T/files" \
  >"$T/scale.out" 2>"$T/scale.err" || { cat "$T/scale.err" >&2; exit 1; }
build_s=$((SECONDS - t0))
verify=$(grep -F '| scale: Ed25519 verify' "$T/scale.out" |
         sed -E 's#.*/ ([0-9]+)/s \|.*#\1#')
read -r size spe < <(grep -F 'ledger for the catch-up row' "$T/scale.out" |
  sed -E 's#.*\| ([0-9]+), ([0-9.]+) \|.*#\1 \2#')
[ -n "$verify" ] && [ -n "$size" ] || { echo "catchup: bench_scale output not understood" >&2; cat "$T/scale.out" >&2; exit 1; }

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/lib/ports.bash"
names=(x bank university provider)
declare -A RP AP
ports_for 3 RP AP
PEERS=()
for i in 1 2 3; do PEERS+=(--peer "$i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"); done
for i in 1 2; do
  mkdir -p "$T/n$i/ledger"
  cp --sparse=always "$T/ledger0/data.mdb" "$T/n$i/ledger/data.mdb"
done
rm -rf "$T/ledger0"
start() {
  local i=$1
  "$B/credbankd" --dir "$T/n$i" --key "$T/files/${names[$i]}.node.key" \
    --name "${names[$i]}" --genesis "$T/files/genesis.cbe" --id "$i" \
    --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
    --snapshot-threshold 64 --snapshot-trailing 16 "${PEERS[@]}" \
    >>"$T/n$i.log" 2>&1 &
  PID[$i]=$!
}
status() { curl -s -m 2 "http://127.0.0.1:${AP[$1]}/v1/status"; }
start 1; start 2
leader=""
find_leader() { # the ready leader among the given nodes, within 60 s
  local i s
  leader=""
  for _ in $(seq 600); do
    for i in "$@"; do
      s=$(status "$i")
      if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then leader=$i; return 0; fi
    done
    sleep 0.1
  done
  return 1
}
find_leader 1 2 || { echo "catchup: no leader among nodes 1, 2 (logs in $T)" >&2; KEEP=1; exit 1; }
# the extra entries, each to whoever leads (leadership may move on a loaded
# machine), until the leader has taken a Raft snapshot: node 3 must get a
# snapshot, not the log from index 1
okp=0
for f in "$T/files/extra/"*.cbe; do
  for _ in $(seq 50); do
    c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/msgpack' \
        --data-binary @"$f" "http://127.0.0.1:${AP[$leader]}/v1/entries")
    # 409: already in the ledger (an earlier try that timed out)
    if [ "$c" = 200 ] || [ "$c" = 409 ]; then okp=$((okp + 1)); break; fi
    sleep 0.2
    find_leader 1 2 || true
  done
done
snap() { ls "$T/n1/raft" "$T/n2/raft" 2>/dev/null | grep -q '^snapshot-'; }
for _ in $(seq 300); do snap && break; sleep 0.1; done
snap || { echo "catchup: no Raft snapshot after $okp entries (logs in $T)" >&2; KEEP=1; exit 1; }
find_leader 1 2 || { echo "catchup: no leader (logs in $T)" >&2; KEEP=1; exit 1; }
sr() { status "$1" | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
want=$(sr "$leader")
wsize=$(sed -E 's/"size":([0-9]+),.*/\1/' <<<"$want")

echo "catchup: node 3 rejoins with an empty directory (ledger of $wsize)..." >&2
t1=$(date +%s.%N)
start 3
got=""
last=0
while :; do
  got=$(sr 3)
  if [ -n "$got" ]; then
    l=$(sr "$leader")
    [ -z "$l" ] && { find_leader 1 2 3 || true; l=$(sr "$leader"); }
    [ "$got" == "$l" ] && break
  fi
  if grep -q DIVERGED "$T/n3.log"; then echo "catchup: node 3 diverged (log $T/n3.log)" >&2; KEEP=1; exit 1; fi
  if ! kill -0 "${PID[3]}" 2>/dev/null; then echo "catchup: node 3 exited (log $T/n3.log)" >&2; KEEP=1; exit 1; fi
  now=$(date +%s)
  if [ $((now - last)) -ge 30 ]; then last=$now; echo "  node 3: $got" >&2; fi
  if awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN{exit !((b - a) > 3600)}'; then
    echo "catchup: not caught up in an hour (logs in $T)" >&2; KEEP=1; exit 1
  fi
  sleep 0.2
done
t2=$(date +%s.%N)
fsize=$(sed -E 's/"size":([0-9]+),.*/\1/' <<<"$got")
awk -v n="$fsize" -v a="$t1" -v b="$t2" -v v="$verify" -v spe="$spe" \
    -v bs="$build_s" -v okp="$okp" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  s = b - a; rate = n / s; bound = v / spe
  printf "| catchup: setup: %d-entry ledger built by bench_scale, copied to nodes 1 and 2; %d extra entries posted (Raft snapshot taken) | %d s | - | - |\n", n, okp, bs
  printf "| catchup: wiped node 3 rejoining a %d-entry ledger (start to same size and root; GET /v1/entries + lg_apply) | %.0f s = %.0f entries/s (%.2f sigs/entry; load %.2f) | - | - |\n", n, s, rate, spe, load
  printf "| catchup: rate / verify bound (%.0f verifies/s on all cores / %.2f sigs per entry = %.0f entries/s) | %.0f%% | >= 80%% | %s |\n", v, spe, bound, 100 * rate / bound, (rate >= 0.8 * bound) ? "met" : "missed"
}'
