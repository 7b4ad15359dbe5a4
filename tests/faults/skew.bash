# Shared by tests/faults/skew_*.sh (sourced; not a test): one node's wall
# clock is off by SKEW (libfaketime: LD_PRELOAD + FAKETIME=SKEW, e.g. +1h or
# -1h; the monotonic clock is left alone) from its start, while the cluster
# takes a continuous load. Before sourcing: NAME, SKEW, SKEW_VICTIM (leader |
# follower). For the leader case leadership is steered to the skewed node,
# which must find its clock off its peers' (it asks their time before it
# seals), make no seal, and hand the leadership over; for
# the follower case the skewed node starts after the two others elected a
# leader (one seal of a skewed leader would block finality, see
# spec/testing.md).
# What must hold (DESIGN 3.4: a seal's ts is the leader's clock, not below
# the previous seal's; a node cosigns a seal only within 60 s of its clock):
#   - every seal in the log has a ts not below the previous seal's;
#   - every seal that became final has a ts within 60 s of the real time
#     of the run (a quorum of correct clocks vouches for it, so
#     `verify --not-before` cannot be fooled by one clock);
#   - the cluster keeps finalising: SKEW_MIN_ACKS entries acknowledged final
#     within SKEW_RUN_S seconds of load (default 4 in 90 s: generous for a loaded machine; a stalled cluster makes none);
#   - nothing acknowledged final is lost; one history; bundles verify.
# What the node does with a leader clock behind the previous seal's ts: it
# seals with ts = max(its clock, previous seal's ts) (node/fsm.c make_seal),
# which the rule accepts.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# a client waits past the node's 10 s finality timeout (504) before it
# calls an attempt unknown: a loaded machine is slow, not faulty
LOAD_TIMEOUT_S=${LOAD_TIMEOUT_S:-12}
N=${SKEW_N:-60}; [ "$FULL" = 1 ] && N=${SKEW_N:-200}
RUN_S=${SKEW_RUN_S:-90}; MIN_ACKS=${SKEW_MIN_ACKS:-4}
FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -e "$FT" ] || FT=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FT" ] && [ -e "$FT" ] || { echo "skip: libfaketime not installed (Debian package faketime)"; exit 0; }
make_load $N || { bad "prepare the load"; summary; exit 1; }

rnd_pick V 1 2 3
# (in a sanitizer build the ASan runtime must come first unless told
# otherwise: libfaketime is preloaded before it)
WRAP[$V]="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$FT FAKETIME=$SKEW DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1"
echo "     victim: node $V (to be the $SKEW_VICTIM), clock $SKEW"
t_start=$(now_ms)
others=(); for i in 1 2 3; do [ $i != $V ] && others+=($i); done
if [ "$SKEW_VICTIM" = leader ]; then
    for i in 1 2 3; do start $i; done
    L=$(wait_leader 1 2 3)
    check "a leader is elected" test -n "$L"
    [ -n "$L" ] || { summary; exit 1; }
    # a leader whose clock its peers do not share must not seal (its seal
    # would never be cosigned, and one ahead would hold back every later
    # seal): it asks the peers' time first and hands the leadership over
    if make_leader $V 1 2 3; then
        echo "     leadership steered to node $V"
    else
        echo "     node $V did not keep the leadership"
    fi
else
    # the two others elect a leader first: a skewed node that led even
    # briefly would seal with its clock (the genesis counts as an entry)
    for i in "${others[@]}"; do start $i; done
    L=$(wait_leader "${others[@]}")
    check "a leader is elected among nodes ${others[*]}" test -n "$L"
    [ -n "$L" ] || { summary; exit 1; }
    start $V; sleep 1
    role=""
    for _ in $(seq 50); do
        role=$(status $V | sfield role); [ -n "$role" ] && break; sleep 0.2
    done
    check "node $V is a follower (role ${role:-unknown})" test "$role" = follower
fi
L=$(wait_leader 1 2 3)
echo "     leader: node $L; node $V's clock: $(curl -s -m 2 -D - -o /dev/null "$(api $V)/v1/status" | grep -i '^date:' | tr -d '\r')"
fault "node $V runs with its clock $SKEW"
start_collectors 1 2 3
loader 1 $N $L & LP=$!; BGPIDS+=($LP)
t0=$SECONDS
while [ "$(acked)" -lt "$MIN_ACKS" ] && [ $((SECONDS - t0)) -lt "$RUN_S" ] && kill -0 $LP 2>/dev/null; do sleep 0.1; done
a1=$(acked)
check "the cluster keeps finalising with node $V's clock $SKEW ($a1 acknowledged final in $((SECONDS - t0)) s, want $MIN_ACKS)" \
    test "$a1" -ge "$MIN_ACKS"
echo "     leader now: node $(leader 1 2 3)"
touch "$T/stop"; wait $LP
t_end=$(now_ms)
load_summary

CONV_S=30
check "the three nodes converge (same size and root)" wait_conv 1 2 3
lost_check 1 2 3
if [ "$SKEW_VICTIM" = leader ]; then
    check "node $V, leading with its clock $SKEW, saw its peers' clocks, made no seal and handed the leadership over" \
        grep -q "clock is off its peers" "$T/n$V.log"
fi
sleep 0.3
stop_collectors
# seals: monotone ts; final seals within 60 s of the real time of the run
# reads go to a node with a correct clock: a skewed node refuses signed
# requests whose `created` is outside its window (401)
R=${others[0]}
out=$(CB_LIB="$HERE/../lib" CB_READ_KEY="$T/demo/keys/bank.issuer.key" "$PYTHON" - "$(api $R)" "$t_start" "$t_end" "$T"/cp.* <<'PY'
import os, sys, urllib.request, msgpack
sys.path.insert(0, os.environ["CB_LIB"])
import httpsig  # signed reads of the log (spec/security.md)
key = httpsig.load_key(os.environ["CB_READ_KEY"])
api, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
final = set()
for p in sys.argv[4:]:
    if not os.path.exists(p):  # an unmatched glob: nothing collected
        continue
    for c in open(p, encoding="utf-8").read().split("=====\n"):
        l = c.split("\n")
        if len(l) > 2 and l[1].isdigit():
            final.add(int(l[1]) - 1)
leaves = []
while True:
    url = f"{api}/v1/entries?from={len(leaves)}&limit=1000"
    r = urllib.request.Request(url, headers={"Accept": "application/msgpack",
                               **httpsig.sign_headers(key, "GET", url)})
    got = msgpack.unpackb(urllib.request.urlopen(r, timeout=10).read(), raw=False)
    if not got:
        break
    leaves += got
prev = None; seals = nonmono = off = 0; worst = 0
for i, b in enumerate(leaves):
    s = msgpack.unpackb(b, raw=False)
    e = msgpack.unpackb(s[0], raw=False, strict_map_key=False)
    if e.get("type") != "seal":
        continue
    seals += 1
    ts = e["ts"]
    if prev is not None and ts < prev:
        nonmono += 1
    prev = ts
    if i in final:
        d = ts - t1 if ts > t1 else (t0 - ts if ts < t0 else 0)
        worst = max(worst, d)
        if d > 60000:
            off += 1
print(f"{seals} seals, {len(final & set(range(len(leaves))))} final; ts below the previous seal's: {nonmono}; "
      f"final seals more than 60 s outside the run's real time: {off} (worst {worst} ms)")
sys.exit(1 if nonmono or off else 0)
PY
); rc=$?
echo "     $out"
check "seals: ts never below the previous seal's, every final seal within 60 s of real time" test "$rc" = 0
check "final checkpoints form one history (no fork, consistency proofs verify, no duplicate)" history_check $R
bundle_check "${others[@]}"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(api $V)/v1/checkpoint")
echo "     the skewed node still serves its checkpoint (HTTP $code); signed reads from it are refused while its clock is off"
stop_all
r=$(log_reports)
check "no crash, divergence or sanitizer report in the logs${r:+: $r}" test -z "$r"
report
summary
