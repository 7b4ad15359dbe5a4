#!/usr/bin/env bash
# TLS against plaintext, side by side: bench_cluster (three credbankd on
# 127.0.0.1) runs ROUNDS times each way, alternating TLS and plaintext so
# that both see the same machine, and prints their rows (figures only) and
# one ratio row per concurrency: the final entries/s summed over the TLS
# runs over the sum over the plaintext runs (issue 8: >= 90 %).
#
#   bash bench/tls.bash BUILD_DIR [bench_cluster args...]   (env ROUNDS, default 3: two plaintext runs alike differ by up to 15 % at 16 clients)
#
# Called by scripts/bench (the `tls` rows); prints a markdown table.
set -euo pipefail
dir=${1:?build dir}; shift
rounds=${ROUNDS:-3}
tmp=$(mktemp -d /tmp/credbank-tls-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  for m in tls plain; do
    flag=(); [ "$m" = tls ] && flag=(--tls)
    "$dir/bench_cluster" --credbankd "$dir/credbankd" --no-single "${flag[@]}" "$@" \
      >"$tmp/$m.$r" 2>"$tmp/$m.$r.err" || { tail -5 "$tmp/$m.$r.err" >&2; exit 1; }
  done
done
fig() { # fig FILE C -> final entries/s at C clients
  grep -E "^\| cluster: 3 nodes: $2 clients?, final" "$1" | head -1 |
    sed -E 's/^[^|]*\|[^|]*\| ([0-9]+)\/s.*/\1/'
}
echo "| measure | value | target | met |"
echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  for m in tls plain; do
    grep -E '^\| cluster: 3 nodes: [0-9]+ clients?, final' "$tmp/$m.$r" |
      sed -E "s/\| [^|]* \| (met|missed|-) \|\$/| - | - |/; s/^\| cluster: /| $m, round $r: /"
  done
done
for c in $(grep -oE '^\| cluster: 3 nodes: [0-9]+ client' "$tmp/plain.1" | grep -oE '[0-9]+ client' | grep -oE '[0-9]+' | sort -nu); do
  t=0; p=0; ts=""; ps=""
  for r in $(seq "$rounds"); do
    a=$(fig "$tmp/tls.$r" "$c"); b=$(fig "$tmp/plain.$r" "$c")
    [[ "$a" =~ ^[0-9]+$ && "$b" =~ ^[0-9]+$ ]] || continue
    t=$((t + a)); p=$((p + b)); ts="$ts${ts:+ + }$a"; ps="$ps${ps:+ + }$b"
  done
  [ "$p" -gt 0 ] || continue
  pct=$(awk -v t="$t" -v p="$p" 'BEGIN{printf "%.0f", 100 * t / p}')
  met=$(awk -v t="$t" -v p="$p" 'BEGIN{print (t >= 0.9 * p) ? "met" : "missed"}')
  echo "| 3 nodes over TLS / plaintext, $c client$([ "$c" = 1 ] || echo s), final entries/s summed over $rounds alternating runs | ($ts) / ($ps) = $pct% | >= 90% | $met |"
done
