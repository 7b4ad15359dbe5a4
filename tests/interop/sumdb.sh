#!/usr/bin/env bash
# interop/sumdb: a live three-node ledger checked by Go's
# golang.org/x/mod/sumdb/note and sumdb/tlog (tests/interop/verify.go), an
# implementation independent of credbank's: the checkpoint note
# (note.Open under the members' verifier keys, tlog.ParseTree), every
# inclusion proof (tlog.CheckRecord), consistency proofs from earlier sizes
# and earlier notes (tlog.CheckTree), and a learner bundle's note, proofs,
# account proof and chains. Three credbankd on 127.0.0.1, started as
# tests/cli/node.sh starts them; the local demo's entries submitted in
# three calls (so there are several checkpoints).
# Usage: bash sumdb.sh /path/to/credbank   (credbankd next to it, or in
# $CB_BUILD_DIR). Needs Go (Debian golang-go) and golang.org/x/mod in
# /usr/share/gocode; without them the test says so and fails.
set -u
CB=$(realpath "${1:?usage: bash sumdb.sh /path/to/credbank}")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$(realpath "$BUILD")/credbankd
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$D" ] || { echo "interop/sumdb: no credbankd at $D"; exit 1; }
GOPATH_DIR=${CB_GOPATH:-/usr/share/gocode}
command -v go >/dev/null || { echo "interop/sumdb: FAIL: no go command (Debian golang-go)"; exit 1; }
[ -d "$GOPATH_DIR/src/golang.org/x/mod/sumdb/tlog" ] ||
  { echo "interop/sumdb: FAIL: golang.org/x/mod not in $GOPATH_DIR"; exit 1; }
T=$(mktemp -d /tmp/cb-interop.XXXXXX)
declare -A PID
cleanup() {
  for i in "${!PID[@]}"; do kill -TERM "${PID[$i]}" 2>/dev/null; done
  for i in "${!PID[@]}"; do
    for _ in $(seq 100); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.05; done
    kill -9 "${PID[$i]}" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T"
pass=0 fail=0
PY=/usr/bin/python3
check() { # description, command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $d" >&2; fi
}
jpy() { $PY -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r if not isinstance(r,bool) else str(r).lower())"; }

# compile the Go verifier first (no network: GOPATH mode, GOFLAGS cleared)
export GOCACHE=${GOCACHE:-/tmp/gocache} GO111MODULE=off GOPATH=$GOPATH_DIR GOFLAGS= GOPROXY=off
check "go build tests/interop/verify.go" go build -o "$T/verify" "$HERE/verify.go"
[ -x "$T/verify" ] || { echo "interop/sumdb: $pass passed, $fail failed"; exit 1; }

# ---- the local demo's consortium and entries, three nodes ----
"$CB" demo --local --out demo >/dev/null 2>&1 || { echo "interop/sumdb: credbank demo --local failed"; exit 1; }
E=$T/demo/entries
G=$E/000-genesis.cbe
names=(x bank university provider)
. "$HERE/../lib/ports.bash"
ports_for 3 RP AP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
for i in 1 2 3; do
  "$D" --dir "$T/n$i" --key "$T/demo/keys/${names[$i]}.node.key" --name "${names[$i]}" \
    --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
    $PEERS >>"$T/n$i.log" 2>&1 &
  PID[$i]=$!
done
api() { echo "http://127.0.0.1:${AP[$1]}"; }
L=""
for _ in $(seq 200); do
  for i in 1 2 3; do
    if "$CB" status --node "$(api $i)" --json >st.json 2>/dev/null &&
       [ "$(jpy 'j["role"] == "leader" and j["ready"]' <st.json)" = true ]; then L=$i; break; fi
  done
  [ -n "$L" ] && break
  sleep 0.05
done
check "a leader is ready" test -n "$L"
[ -n "$L" ] || { tail -n 5 "$T"/n*.log; exit 1; }
F=$(( L % 3 + 1 ))

# every demo entry but genesis, seals and cosigns (the nodes seal and
# cosign themselves), in three calls; the checkpoint after each is kept
mapfile -t ENTRIES < <(ls "$E"/*.cbe | grep -Ev '/000-genesis|-seal\.cbe|-cosign\.cbe')
n=${#ENTRIES[@]}
check "the demo has entries to submit ($n)" test "$n" -gt 10
third=$(( n / 3 ))
OLD=""
k=0
for part in "${ENTRIES[@]:0:$third}" - "${ENTRIES[@]:$third:$third}" - "${ENTRIES[@]:$((2 * third))}"; do
  if [ "$part" = - ]; then
    k=$((k + 1))
    check "submit call $k: all final" "$CB" submit "${BATCH[@]}" --node "$(api $F)" --json \
      >"submit$k.json" 2>&1
    curl -sf "$(api $L)/v1/checkpoint" >"old$k.note" && OLD="$OLD${OLD:+,}$T/old$k.note"
    BATCH=()
  else
    BATCH+=("$part")
  fi
done
k=$((k + 1))
check "submit call $k: all final" "$CB" submit "${BATCH[@]}" --node "$(api $F)" --json >"submit$k.json" 2>&1
check "earlier checkpoints kept" test -n "$OLD"

LEDGER=$(cat demo/ledger-id)
ACC=$("$CB" entry inspect "$E/002-account.open.cbe" --json | jpy 'j["id"]')

# ---- Go's sumdb/note and sumdb/tlog against a follower and the leader ----
for node in $L $F; do
  # a follower may lag the leader's last batch: wait until it has the
  # leader's final checkpoint
  want=$(curl -sf "$(api $L)/v1/status" | jpy 'j["final"]')
  for _ in $(seq 100); do
    [ "$(curl -sf "$(api $node)/v1/status" | jpy 'j["final"]')" = "$want" ] && break
    sleep 0.05
  done
  "$T/verify" -api "$(api $node)" -vkeys demo/vkeys -ledger "$LEDGER" \
    -account "$ACC" -old "$OLD" -key demo/keys/bank.issuer.key >verify.out 2>&1
  rc=$?
  role=leader; [ "$node" = "$L" ] || role=follower
  sed "s/^/  [$role] /" verify.out
  npass=$(grep -c '^PASS ' verify.out)
  nfail=$(grep -c '^FAIL ' verify.out)
  pass=$((pass + npass)); fail=$((fail + nfail))
  if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
    fail=$((fail + 1)); echo "FAIL: verify.go against the $role exited $rc" >&2
  fi
  check "verify.go ran its checks against the $role" test "$npass" -ge 12
done

echo "interop/sumdb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
