# Shared by the integration tests that run credbankd nodes on 127.0.0.1
# (membership.sh, static_removal.sh, catchup.sh): counters and checks, and helpers over
# the nodes' APIs. Not a test itself. Before sourcing: T (the test's temp
# dir); then AP[i] (node i's API port) and PID[i] (node i's process, killed
# at exit with T removed, unless KEEP is set).
declare -A PID
cleanup() {
    for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] && { echo "kept $T"; return; }
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
PASS=0; FAIL=0
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
. "$(dirname "${BASH_SOURCE[0]}")/ports.bash" # freeports, ports_for
api() { echo "http://127.0.0.1:${AP[$1]}"; }
status() { curl -s -m 1 "$(api "$1")/v1/status"; }
has() { status "$1" | grep -q "$2"; }
leader() { # the ready leader among NODES, or nothing
    local i s
    for i in "$@"; do
        s=$(status "$i")
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo "$i"; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt 10 ]; do l=$(leader "$@"); [ -n "$l" ] && { echo "$l"; return; }; sleep 0.02; done; }
# wait_for SECS CMD...: polls CMD every 50 ms
wait_for() { local n=$(( $1 * 20 )); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done; return 1; }
post() { # post NODE FILE [query] -> "STATUS BODY"
    curl -s -m 15 -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/msgpack' --data-binary @"$2" "$(api "$1")/v1/entries${3:-}"
    echo " $(cat "$T/resp")"
}
submit() { # submit FILE NODES...: to whoever leads, until final (10 s)
    local f=$1 r="" l t0=$SECONDS; shift
    while [ $((SECONDS - t0)) -lt 10 ]; do
        l=$(leader "$@"); [ -z "$l" ] && { sleep 0.05; continue; }
        r=$(post "$l" "$f")
        if [[ "$r" == 200*final* ]]; then echo "$r"; return 0; fi
        sleep 0.05
    done
    echo "$r"; return 1
}
sizeroot() { status "$1" | grep -o '"size":[0-9]*,"root":"[0-9a-f]*"'; }
converged() { # converged NODES...: the same size and root on all
    local a b i; a=$(sizeroot "$1"); [ -n "$a" ] || return 1
    for i in "$@"; do b=$(sizeroot "$i"); [ "$a" = "$b" ] || return 1; done
}
# keys for members M...: M.node.key/.vk (node) and M.key/.vk (issuer), in .
member_keys() {
    local m
    for m in "$@"; do
        "$CB" keygen "$m" -o "$m.node.key" >"$m.node.vk" 2>/dev/null
        "$CB" keygen "$m.issuer" -o "$m.key" >"$m.vk" 2>/dev/null
    done
}
# the genesis JSON of the founders bank, university and provider, default
# quorums, the demo's fees and sources, seal interval 20 ms (stdout)
founders_genesis() {
    cat <<EOG
{"members": [
  {"name": "bank", "roles": ["registrar", "recognizer"],
   "node": "$(cat bank.node.vk)", "issuers": ["$(cat bank.vk)"]},
  {"name": "university", "roles": ["registrar", "recognizer", "provider"],
   "node": "$(cat university.node.vk)", "issuers": ["$(cat university.vk)"]},
  {"name": "provider", "roles": ["registrar", "provider"],
   "node": "$(cat provider.node.vk)", "issuers": ["$(cat provider.vk)"]}],
 "governance_quorum": 0, "cosign_quorum": 0,
 "policy": {"fees": {"currency": "KRW", "account_open": 4000, "per_credit": 1000,
                     "link_free_credits": 80},
            "sources": {"mooc": {"min_grade": 60, "min_attendance": 80}},
            "degrees": {"bachelor": {"total": 140, "major": 60, "general": 30}},
            "seal_interval_ms": 20}}
EOG
}
# genesis.cbe in . from genesis.json, signed by every founder's keys
founders_sign() {
    "$CB" genesis build genesis.json --key bank.key -o genesis.cbe >/dev/null 2>&1 || return 1
    local k
    for k in bank.node university university.node provider provider.node; do
        "$CB" sign genesis.cbe --key "$k.key" >/dev/null 2>&1 || return 1
    done
}
