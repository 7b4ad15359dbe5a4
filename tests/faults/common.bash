# Shared by tests/faults/*.sh (sourced, not a test itself: ctest runs
# tests/faults/*.sh). Three real credbankd on 127.0.0.1 made from
# `credbank demo --local` keys and genesis, as in tests/integration/cluster.sh,
# plus: a client load that logs every outcome, checkpoint collectors, and the
# end-of-run history check (tests/faults/history.py).
# Before sourcing: NAME. Arguments of the script: $1 = credbank.
# Environment: CB_SEED (every random choice of a scenario — which node, when
# to strike — derives from it; printed at the start, default 1), CB_FULL=1
# (./scripts/test --full: long variants), CB_KEEP=1 (keep the temp dir).
# Raft's own election timing is not under the seed: a rerun with the same
# seed makes the same choices, not necessarily the same interleaving.
# CB_TLS=1 (ctest's faults-tls/NAME): the same scenario over TLS. Every node
# gets --tls and https:// peers named by member (PEERS, peer_flag; api()
# says https), so Raft, the API and the nodes' own HTTP clients run TLS 1.3
# with node keys pinned. The clients pin the members' node keys from
# $T/demo/vkeys: curl through $CURL_HOME/.curlrc (insecure: the certificates
# are self-signed; pinnedpubkey: the keys), Python's urllib through
# tests/faults/tls/sitecustomize.py (PYTHONPATH, CB_TLS_PINS), the CLI
# through CREDBANK_NODE_KEY (bundle_check's export: node i's own key,
# TLS_PIN[i]). Reads of entries and accounts are signed in both modes.
# summary() then also checks that every node start logged TLS and none
# plaintext. Scenarios need no change, but for one difference TLS makes: a
# removed member's node is cut off (byzantine.bash, removed_cut). By default
# only TLS_SHORT runs over TLS (below).
set -u
# FAULT_TIER=full before sourcing: a long scenario, run only with CB_FULL=1
# (./scripts/test --full); otherwise it exits 77, which ctest reports as
# skipped (SKIP_RETURN_CODE in CMakeLists.txt).
if [ "${FAULT_TIER:-}" = full ] && [ "${CB_FULL:-0}" != 1 ]; then
    echo "skip: faults/$NAME is a long scenario: it runs with ./scripts/test --full (CB_FULL=1)"
    exit 77
fi
# CB_TLS=1 (faults-tls/NAME): by default only the scenarios of TLS_SHORT run
# over TLS, one per fault family where the transport matters (links torn
# down, stalled or lossy, clocks apart, a lying quorum); the others exit 77
# unless CB_FULL=1 or CB_TLS_TIER=full (every scenario of the tier in force).
TLS_SHORT="kill_leader partition_minority lossy_link skew_follower_ahead byzantine_diverge"
if [ "${CB_TLS:-0}" = 1 ] && [ "${CB_FULL:-0}" != 1 ] && [ "${CB_TLS_TIER:-short}" != full ] &&
    [[ " $TLS_SHORT " != *" $NAME "* ]]; then
    echo "skip: faults-tls/$NAME runs with CB_TLS_TIER=full or CB_FULL=1 (by default over TLS: $TLS_SHORT)"
    exit 77
fi
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
FULL=${CB_FULL:-0}
CB_SEED=${CB_SEED:-1}
echo "     seed: CB_SEED=$CB_SEED (rerun: CB_SEED=$CB_SEED${FULL:+ CB_FULL=$FULL} bash $0 $*)"
# rnd VAR N: VAR = the next number in 0..N-1 from the seeded generator (a
# 64-bit LCG, Knuth's MMIX constants; top bits used). Sets a variable rather
# than printing so that no $(...) subshell forks the generator's state.
RNG_STATE=$(( (CB_SEED * 2862933555777941757 + 3037000493) & 0x7fffffffffffffff ))
rnd() {
    RNG_STATE=$(( (RNG_STATE * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff ))
    printf -v "$1" '%d' $(( (RNG_STATE >> 31) % $2 ))
}
sleep_ms() { sleep "$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))"; }
# rnd_pick VAR ITEM...: VAR = one of the items
rnd_pick() { local _v=$1 _i; shift; rnd _i $#; _i=$((_i + 1)); printf -v "$_v" '%s' "${!_i}"; }
# WRAP[i]: a command prefix for node i (env FAKETIME=..., strace ...). When
# the prefix forks the node as its child (strace), set WRAP_FORKS[i]=1: PID[i]
# is then the node itself and WPID[i] the wrapper, whose exit status is the
# node's.
declare -A WRAP WRAP_FORKS WPID
cleanup() {
    exec 2>/dev/null # no "Killed" job notices after the summary
    for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
    for i in "${!PID[@]}"; do kill -CONT "${PID[$i]}" 2>/dev/null; kill -9 "${PID[$i]}" 2>/dev/null; done
    for i in "${!WPID[@]}"; do kill -9 "${WPID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    type fault_cleanup >/dev/null 2>&1 && fault_cleanup
    if [ -n "${CB_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
T0_S=$SECONDS # the elapsed seconds lead each ok/FAIL line
ok()    { PASS=$((PASS+1)); echo "ok   [$((SECONDS - T0_S))s] $*"; }
bad()   { FAIL=$((FAIL+1)); echo "FAIL [$((SECONDS - T0_S))s] $*"; }
known() { KNOWN=$((KNOWN+1)); echo "KNOWN: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

. "$HERE/../lib/ports.bash" # freeports, ports_for

( cd "$T" && "$CB" demo --local --out demo >/dev/null 2>&1 ) || { echo "FAIL credbank demo"; exit 1; }
G=$T/demo/entries/000-genesis.cbe
names=(x bank university provider)
# ---- CB_TLS=1: the same cluster over TLS (see the header) ----
SCHEME=http; TLS_FLAGS=""
declare -A TLS_PIN # TLS_PIN[i]: node i's key as the CLI pins it (its vkey)
if [ "${CB_TLS:-0}" = 1 ]; then
    SCHEME=https; TLS_FLAGS=--tls
    for i in 1 2 3; do TLS_PIN[$i]=$(grep "^${names[$i]}+" "$T/demo/vkeys"); done
    export CREDBANK_NODE_KEY=$T/demo/vkeys     # the CLI: any member's node key
    export CB_TLS_PINS=$T/demo/vkeys           # Python: tests/faults/tls/
    export PYTHONPATH=$HERE/tls${PYTHONPATH:+:$PYTHONPATH} PYTHONDONTWRITEBYTECODE=1
    pins=$("$PYTHON" "$HERE/tls/sitecustomize.py" "$T/demo/vkeys") || { echo "FAIL TLS pins"; exit 1; }
    mkdir -p "$T/curl"                         # curl: -k, and the keys pinned
    printf 'insecure\npinnedpubkey = "%s"\n' "$pins" > "$T/curl/.curlrc"
    export CURL_HOME=$T/curl
    echo "     TLS: every node runs with --tls; curl, Python and the CLI pin the members' node keys"
fi
# peer_flag ID RAFT_HOST:PORT API_HOST:PORT: node ID's --peer flag in this mode
peer_flag() { echo "--peer $1,$2,$SCHEME://$3${TLS_FLAGS:+,${names[$1]}}"; }
declare -A RP AP DIR
# XP: a third port per node, for scenarios that need one (byzantine: --metrics)
ports_for 3 RP AP XP
for i in 1 2 3; do DIR[$i]=$T/n$i; done
# PEERS: the flags that make a node one of this cluster (--tls in TLS mode)
PEERS=$TLS_FLAGS
for i in 1 2 3; do PEERS="$PEERS $(peer_flag $i 127.0.0.1:${RP[$i]} 127.0.0.1:${AP[$i]})"; done
start() {
    local i=$1
    ${WRAP[$i]:-} "$D" --dir "${DIR[$i]}" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
    if [ -n "${WRAP_FORKS[$i]:-}" ]; then # the node is the wrapper's child
        # strace forks short-lived test children of its own before it forks
        # the tracee, so the first child seen may not be the node: wait (at
        # most 30 s) for a child that has exec'd credbankd
        local w=$! c="" t0=$SECONDS
        WPID[$i]=$w
        while [ $((SECONDS - t0)) -lt 30 ] && kill -0 "$w" 2>/dev/null; do
            c=$(ps -o pid=,comm= --ppid "$w" 2>/dev/null | awk -v d="$(basename "$D" | cut -c1-15)" '$2 == d { print $1; exit }')
            [ -n "$c" ] && break; sleep 0.02
        done
        if [ -n "$c" ]; then PID[$i]=$c; else echo "     (node $i: no credbankd child of the wrapper $w found)"; fi
    else
        unset "WPID[$i]"
    fi
}
api() { echo "$SCHEME://127.0.0.1:${AP[$1]}"; }
status() { curl -s -m 1 "$(api $1)/v1/status"; }
leader() { # the node number of the ready leader, or nothing
    local i s
    for i in "$@"; do
        s=$(status $i)
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo $i; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt ${LEADER_WAIT_S:-30} ]; do l=$(leader "$@"); [ -n "$l" ] && { echo $l; return; }; sleep 0.02; done; }
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
# Every attempt is logged in $T/outcomes as "ms k node http outcome code
# body..." with outcome final (200 with final: acknowledged), failed (a
# definite refusal), unknown (timeout, no answer, 503 unavailable, 504), and
# code the error code of the answer ("-" for final, "none" with no JSON
# error: no answer). Ids acknowledged final go to $T/acked, "k id" to
# $T/acked.k. An entry is retried (a retry answers as a duplicate) until
# final, for at most LOAD_TRY_S seconds; it stops early when $T/stop exists.
# LOAD_PACE_MS (default 0): a pause after each final answer, so that a
# prepared load lasts on a fast machine.
loader() { # loader FROM TO [NODE]: entries aFROM..aTO, in order
    local from=$1 to=$2 k node=${3:-1} t0 code body out url i r=$T/lresp.$1 ecode id
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
            ecode=$(echo "$body" | sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p')
            [ $out = final ] && ecode=-
            echo "$(now_ms) $k $node $code $out ${ecode:-none} $(echo "$body" | head -c 160)" >> "$T/outcomes"
            if [ $out = final ]; then
                id=$(echo "$body" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
                echo "$id" >> "$T/acked"; echo "$k $id" >> "$T/acked.k"
                [ "${LOAD_PACE_MS:-0}" -gt 0 ] && sleep_ms "$LOAD_PACE_MS"
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
: > "$T/acked"; : > "$T/acked.k"; : > "$T/outcomes"
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
        wait "${WPID[$i]:-${PID[$i]}}" 2>/dev/null; rc=$?
        [ $rc -ge 128 ] && bad_="$bad_ node $i exit status $rc;"
        unset "PID[$i]" "WPID[$i]"
    done
    check "SIGTERM stops every node within 5 s, cleanly${bad_:+:$bad_}" test -z "$bad_"
}

# log_reports: no sanitizer report, crash, or unexpected fail-stop in the logs
log_reports() { grep -h "runtime error\|AddressSanitizer\|LeakSanitizer\|UndefinedBehavior\|DIVERGED\|not a batch\|Segmentation\|Aborted" "$T"/n*.log; }

# ---- faults, outcomes, losses, bundles: shared by every scenario ----
FAULTS=0; LOST=0
fault() { FAULTS=$((FAULTS+1)); echo "     fault $FAULTS at $(date -u +%T.%3N): $*"; }

# kill9 NODE: SIGKILL (SIGCONT first, in case it is stopped) and reap it
kill9() {
    local i=$1
    kill -CONT "${PID[$i]}" 2>/dev/null; kill -9 "${PID[$i]}" 2>/dev/null
    wait "${WPID[$i]:-${PID[$i]}}" 2>/dev/null; unset "PID[$i]" "WPID[$i]"
}

# make_leader V NODE...: steers Raft leadership to node V by SIGSTOPping
# whoever else leads until V wins an election (at most 8 rounds). Prints
# nothing; returns 0 once V is the ready leader.
make_leader() {
    local v=$1 l n r; shift
    for r in 1 2 3 4 5 6 7 8; do
        l=$(wait_leader "$@"); [ "$l" = "$v" ] && return 0
        [ -n "$l" ] || continue
        kill -STOP "${PID[$l]}"
        local rest=(); for n in "$@"; do [ "$n" != "$l" ] && rest+=($n); done
        n=$(wait_leader "${rest[@]}")
        kill -CONT "${PID[$l]}"
        # the old leader steps down
        for _ in $(seq 60); do [[ "$(status $l)" != *'"role":"leader"'* ]] && break; sleep 0.05; done
        [ "$n" = "$v" ] && [ "$(leader "$@")" = "$v" ] && return 0
    done
    return 1
}

# load_summary: one line per run for the report. An operation is one
# prepared entry the load tried; its outcome is its last attempt's:
# acknowledged final, failed (a definite refusal, by code) or unknown.
# Sets OPS ACKED FAILED UNKNOWN ATTEMPTS.
load_summary() {
    local codes
    read -r OPS ACKED FAILED UNKNOWN ATTEMPTS codes < <(awk '
        { n++; last[$2] = $5; lc[$2] = $6; if ($5 != "final") ac[$6]++ }
        END { for (k in last) { o++; if (last[k] == "final") f++; else if (last[k] == "failed") { x++; fc[lc[k]]++ } else u++ }
              s = ""; for (c in ac) s = s c ":" ac[c] ","
              printf "%d %d %d %d %d %s\n", o, f, x, u, n, (s == "" ? "-" : s) }' "$T/outcomes")
    echo "     load: $OPS operations ($ATTEMPTS attempts): $ACKED acknowledged final, $FAILED failed, $UNKNOWN unknown; non-final attempts by code: ${codes%,}"
}

# lost_check NODE...: every id acknowledged final is readable on each NODE
# (GET /v1/ids/ID). Sets LOST (missing id x node pairs).
lost_check() {
    local i id
    LOST=0
    for i in "$@"; do
        while read -r id; do
            [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$(api $i)/v1/ids/$id")" = 200 ] ||
                { LOST=$((LOST+1)); echo "     node $i lacks $id"; }
        done < "$T/acked"
    done
    check "every acknowledged final entry ($(acked)) is on nodes $* (missing: $LOST)" test "$LOST" = 0
}

# bundle_check NODE...: a learner account the load opened and that was
# acknowledged final (chosen by the seed) is exported from every NODE with
# `credbank export @a$k.cbe --node URL --key` (the request signed by the
# learner's own key, spec/security.md); each bundle verifies offline
# (`credbank verify --ledger HEX`, exit 0), and copies with one byte flipped
# (BUNDLE_FLIPS positions, chosen by the seed) fail (exit 1).
bundle_check() {
    local i n idx line k hex pos rc f bad_="" flips=${BUNDLE_FLIPS:-4} j size
    hex=$(cat "$T/demo/ledger-id" 2>/dev/null | tr -d ' \n')
    n=$(wc -l < "$T/acked.k" | tr -d ' ')
    if [ "$n" = 0 ]; then bad "bundle check: no account was acknowledged final"; return; fi
    rnd idx "$n"; line=$(sed -n "$((idx + 1))p" "$T/acked.k"); k=${line%% *}
    for i in "$@"; do
        f=$T/bundle.n$i.cbx
        # over TLS, pinned to node i's own key (TLS_PIN), not any member's
        if ! "$CB" export @"$T/load/a$k.cbe" --node "$(api $i)" --key "$T/load/l$k.key" \
            ${TLS_PIN[$i]:+--node-key "${TLS_PIN[$i]}"} -o "$f" >"$T/export.out" 2>&1; then
            bad "export of account a$k from node $i: $(head -c 200 "$T/export.out")"; continue
        fi
        "$CB" verify "$f" --ledger "$hex" >"$T/verify.out" 2>&1; rc=$?
        check "the bundle of a$k exported from node $i verifies offline (exit $rc)" test "$rc" = 0
        [ "$rc" = 0 ] || { sed 's/^/     /' "$T/verify.out" | head -5; continue; }
        size=$(stat -c %s "$f"); bad_=""
        for j in $(seq "$flips"); do
            rnd pos "$size"
            "$PYTHON" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 1
open(sys.argv[3], "wb").write(b)' "$f" "$pos" "$f.t"
            "$CB" verify "$f.t" --ledger "$hex" >"$T/verify.out" 2>&1; rc=$?
            [ "$rc" = 1 ] || bad_="$bad_ byte $pos: exit $rc;"
        done
        check "$flips copies of it with one byte flipped fail verification (exit 1)${bad_:+:$bad_}" test -z "$bad_"
    done
}

# report: the scenario's figures, one line (after load_summary and lost_check)
report() {
    echo "REPORT $NAME seed=$CB_SEED full=$FULL ops=${OPS:-?} acked=${ACKED:-?} failed=${FAILED:-?} unknown=${UNKNOWN:-?} faults=$FAULTS lost=$LOST"
}

summary() {
    if [ -n "$TLS_FLAGS" ]; then # CB_TLS=1: no node of the run spoke plaintext
        local n_tls n_plain
        n_tls=$(cat "$T"/n*.log 2>/dev/null | grep -c "(TLS 1.3, pinned) api https://")
        n_plain=$(cat "$T"/n*.log 2>/dev/null | grep -c " api http://")
        check "every node start was over TLS ($n_tls with TLS 1.3 and pinned keys, $n_plain in plaintext)" \
            test "$n_tls" -ge 3 -a "$n_plain" = 0
    fi
    echo "faults${TLS_FLAGS:+-tls}/$NAME: $PASS passed, $FAIL failed${KNOWN:+, $KNOWN known}"
    [ "$FAIL" = 0 ]
}
