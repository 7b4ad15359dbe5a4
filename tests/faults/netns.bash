# Shared by the network fault scenarios (tests/faults/partition_*.sh,
# lossy_link.sh); sourced, not a test itself. Sources common.bash (the load,
# the collectors, the history check) and runs each of the three credbankd in
# its own network namespace instead of on 127.0.0.1:
#
#   root namespace: bridge $NET_BR, 10.A.B.1/24 (client load, collectors,
#                   curl) and 10.A.B.2/24 (the delay relay of lossy_link.sh)
#   namespace $NET_NS$i (i = 1..3): eth0 = 10.A.B.(10+i)/24, the peer of veth
#                   ${NET_PFX}v$i on the bridge; Raft on :7000, API on :8000
#
# Faults are nft rules in a node's own namespace (table inet cbfault): drop
# everything to and from some peers (a partition, the client in the root
# namespace still reaches every node), or drop a random share of one link's
# packets (numgen random). Names and the subnet come from the script's pid,
# so runs side by side do not meet; cleanup (fault_cleanup, called by
# common.bash's EXIT trap) removes namespaces, veths, bridge and relay, and
# every run first removes what a killed run (its pid gone) left behind.
# Before sourcing: NAME. Arguments of the script: $1 = credbank.
# Env: CB_SEED (common.bash's rnd/rnd_pick: which node), CB_FULL, CB_KEEP.

# ---- can we? (root, ip netns, nft); skip only without namespaces ----
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    echo "SKIP: network namespaces need root and iproute2"; exit 0
fi
NET_R=$$
NET_PFX=cbn$NET_R            # at most 10 characters: interface names <= 15
NET_NS=${NET_PFX}n
NET_BR=${NET_PFX}b
if ! ip netns add "${NET_NS}probe" 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (ip netns add)"; exit 0
fi
ip netns del "${NET_NS}probe"
if ! command -v nft >/dev/null; then
    echo "FAIL nft (package nftables) is missing: run scripts/deps"; exit 1
fi

# ---- leftovers of killed runs (their pid is gone) ----
net_reap() { # net_reap PID: remove what run PID made
    local p=$1 n
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^cbn${p}n"); do
        for q in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$q" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    for n in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^cbn${p}[vb]"); do
        ip link del "$n" 2>/dev/null
    done
    [ -f "/tmp/cbn$p.relay" ] && { kill -9 "$(cat "/tmp/cbn$p.relay")" 2>/dev/null; rm -f "/tmp/cbn$p.relay"; }
}
for _p in $( { ip netns list 2>/dev/null | awk '{print $1}'; ip -o link show 2>/dev/null | awk -F': ' '{print $2}'; } |
             sed -n 's/^cbn\([0-9][0-9]*\)[nvb].*/\1/p' | sort -u); do
    kill -0 "$_p" 2>/dev/null || net_reap "$_p"
done

# shellcheck source=common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# a watchdog in its own session reaps this run's namespaces (and the nodes in
# them) and its temp dir once this shell is gone, even after a SIGKILL
# (ctest's timeout) that no trap sees. Started from a subshell that exits at
# once, so it is no child of this shell (cleanup's `wait` would wait for it).
( setsid bash -c "$(declare -f net_reap); while kill -0 $NET_R 2>/dev/null; do sleep 2; done
    net_reap $NET_R; [ -n '${CB_KEEP:-}' ] || rm -rf '$T'" </dev/null >/dev/null 2>&1 & )

fault_cleanup() {
    [ -n "${NET_RELAY:-}" ] && kill -9 "$NET_RELAY" 2>/dev/null
    rm -f "/tmp/cbn$NET_R.relay"
    net_reap "$NET_R"
    local left
    left=$(ip netns list 2>/dev/null | grep -c "^${NET_NS}")
    [ "$left" = 0 ] || echo "WARNING: $left namespaces of this run left behind"
}

# ---- the network ----
# a /24 from the pid, moved on while it overlaps an address or route here
for _k in $(seq 0 255); do
    NET_SUB=10.$(( ((NET_R >> 8) + _k) & 255 )).$(( NET_R & 255 ))
    { ip -o addr show; ip route show; } | grep -q "$NET_SUB\." || break
done
NET_HOST=$NET_SUB.1
NET_RELAY_IP=$NET_SUB.2
declare -A IP
net_setup() {
    local i ns
    ip link add "$NET_BR" type bridge || return 1
    ip addr add "$NET_HOST/24" dev "$NET_BR" || return 1
    ip addr add "$NET_RELAY_IP/24" dev "$NET_BR" || return 1
    ip link set "$NET_BR" up || return 1
    for i in 1 2 3; do
        ns=$NET_NS$i; IP[$i]=$NET_SUB.$((10 + i))
        ip netns add "$ns" || return 1
        ip link add "${NET_PFX}v$i" type veth peer name "${NET_PFX}p$i" || return 1
        ip link set "${NET_PFX}p$i" netns "$ns" || return 1
        ip link set "${NET_PFX}v$i" master "$NET_BR" up || return 1
        ip -n "$ns" link set "${NET_PFX}p$i" name eth0 || return 1
        ip -n "$ns" addr add "${IP[$i]}/24" dev eth0 || return 1
        ip -n "$ns" link set eth0 up || return 1
        ip -n "$ns" link set lo up || return 1
    done
}
net_setup || { bad "set up namespaces, veths and bridge"; summary; exit 1; }
ok "namespaces $NET_NS{1,2,3} on bridge $NET_BR ($NET_SUB.0/24)"

# ---- common.bash, on the namespaces' addresses ----
for i in 1 2 3; do RP[$i]=7000; AP[$i]=8000; done
PEERS=$TLS_FLAGS # --tls with CB_TLS=1 (common.bash)
for i in 1 2 3; do PEERS="$PEERS $(peer_flag $i "${IP[$i]}:7000" "${IP[$i]}:8000")"; done
start() {
    local i=$1
    ip netns exec "$NET_NS$i" "$D" --dir "${DIR[$i]}" --key "$T/demo/keys/${names[$i]}.node.key" \
        --name "${names[$i]}" --genesis "$G" --id "$i" --raft "${IP[$i]}:7000" \
        --api "${IP[$i]}:8000" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$! # ip netns exec execs: this is credbankd's pid
}
api() { echo "$SCHEME://${IP[$1]}:8000"; }

# ---- faults (nft in the node's namespace) ----
# nsenter, not ip netns exec: no new mount namespace and /sys remount, which
# took seconds per call on the loaded machine
nsx() { local i=$1; shift; nsenter --net="/run/netns/$NET_NS$i" "$@"; }
nftn() { local i=$1; shift; nsx "$i" nft "$@"; }
net_fault_table() { # net_fault_table NODE: an empty table inet cbfault, hooks in and out
    nftn "$1" delete table inet cbfault 2>/dev/null
    nftn "$1" -f - <<EOF
table inet cbfault {
    chain in  { type filter hook input  priority 0; policy accept; }
    chain out { type filter hook output priority 0; policy accept; }
}
EOF
}
# isolate NODE PEER...: drop every packet between NODE and each PEER (both ways)
isolate() {
    local i=$1 set="" j; shift
    for j in "$@"; do set="$set${set:+, }${IP[$j]}"; done
    nftn "$i" delete table inet cbfault 2>/dev/null
    nftn "$i" -f - <<EOF
table inet cbfault {
    chain in  { type filter hook input  priority 0; policy accept; ip saddr { $set } counter drop; }
    chain out { type filter hook output priority 0; policy accept; ip daddr { $set } counter drop; }
}
EOF
}
heal() { local i; for i in "$@"; do nftn "$i" delete table inet cbfault 2>/dev/null; done; return 0; }
# dropped NODE: packets dropped so far by NODE's fault rules
dropped() { nftn "$1" list table inet cbfault 2>/dev/null | grep 'drop' | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}'; }
# relayed NODE: packets between NODE and the delay relay (lossy_link), dropped or not
relayed() { nftn "$1" list table inet cbfault 2>/dev/null | grep 'comment "relayed"' | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}'; }

# lossy_link A B PCT DELAY_MS: the link between nodes A and B loses PCT % of
# its packets each way and is delayed DELAY_MS each way. Both directions of
# the link (A's connections to B's Raft and API ports, and B's to A's) go
# through delayrelay.py on $NET_RELAY_IP (nft DNAT in A's and B's
# namespaces); A's namespace drops PCT % of the packets to and from the
# relay at random (nft numgen), counted.
lossy_link() {
    local a=$1 b=$2 pct=$3 ms=$4 p
    "$PYTHON" "$HERE/delayrelay.py" "$NET_RELAY_IP" "$ms" \
        "17001:${IP[$b]}:7000" "18001:${IP[$b]}:8000" \
        "17002:${IP[$a]}:7000" "18002:${IP[$a]}:8000" > "$T/relay.out" 2>&1 &
    NET_RELAY=$!; echo $NET_RELAY > "/tmp/cbn$NET_R.relay"
    for _ in $(seq 100); do grep -q ready "$T/relay.out" && break; sleep 0.05; done
    grep -q ready "$T/relay.out" || return 1
    for p in a b; do
        local me=${!p} other port
        [ $p = a ] && { other=$b; port=1; } || { other=$a; port=2; }
        net_fault_table "$me" || return 1
        nftn "$me" add chain inet cbfault nat '{ type nat hook output priority -100; }' || return 1
        nftn "$me" add rule inet cbfault nat ip daddr "${IP[$other]}" tcp dport 7000 dnat ip to "$NET_RELAY_IP:1700$port" || return 1
        nftn "$me" add rule inet cbfault nat ip daddr "${IP[$other]}" tcp dport 8000 dnat ip to "$NET_RELAY_IP:1800$port" || return 1
        # no direct traffic between the two any more: connections made
        # before the rules are reset (the other side's reset let in), and
        # reconnect through the relay
        nftn "$me" add rule inet cbfault in ip saddr "${IP[$other]}" tcp flags '&' rst == rst accept || return 1
        nftn "$me" add rule inet cbfault in ip saddr "${IP[$other]}" meta l4proto tcp reject with tcp reset || return 1
        nftn "$me" add rule inet cbfault in ip saddr "${IP[$other]}" drop || return 1
    done
    nftn "$a" add rule inet cbfault in  ip saddr "$NET_RELAY_IP" counter comment '"relayed"' || return 1
    nftn "$a" add rule inet cbfault out ip daddr "$NET_RELAY_IP" counter comment '"relayed"' || return 1
    if [ "$pct" -gt 0 ]; then
        nftn "$a" add rule inet cbfault in  ip saddr "$NET_RELAY_IP" numgen random mod 100 '<' "$pct" counter drop || return 1
        nftn "$a" add rule inet cbfault out ip daddr "$NET_RELAY_IP" numgen random mod 100 '<' "$pct" counter drop || return 1
    fi
}
lossy_heal() {
    heal "$@"
    [ -n "${NET_RELAY:-}" ] && { kill "$NET_RELAY" 2>/dev/null; wait "$NET_RELAY" 2>/dev/null; }
    NET_RELAY=""; rm -f "/tmp/cbn$NET_R.relay"
}

# raft_sockets NODE PEER: NODE's TCP connections to PEER's Raft port, with
# the kernel's retransmission state (rto, backoff, unacked)
raft_sockets() {
    nsx "$1" ss -tinH dst "${IP[$2]}" 2>/dev/null | tr -s ' \t\n' ' ' |
        grep -o 'ESTAB\|SYN-SENT\|rto:[0-9.]*\|backoff:[0-9]*\|unacked:[0-9]*\|lastsnd:[0-9]*\|lastrcv:[0-9]*' | tr '\n' ' '
}

# ---- helpers the scenarios share ----
# lost_check NODE...: as common.bash's (every id in $T/acked on each NODE,
# sets LOST), with one pass over each node's GET /v1/entries (entry id =
# SHA-256 of the entry bytes, DESIGN 3.2) instead of a request per id: a
# request per id takes minutes on a loaded machine
lost_check() {
    local i out
    LOST=0
    for i in "$@"; do
        out=$("$PYTHON" - "$(api $i)" "$T/acked" "$HERE/../lib" "$T/demo/keys/bank.issuer.key" <<'PY'
import hashlib, os, sys, urllib.request
import msgpack
api, want = sys.argv[1], {l.strip() for l in open(sys.argv[2]) if l.strip()}
key = None  # reads of the log are signed where tests/lib/httpsig.py exists (spec/security.md)
if os.path.exists(os.path.join(sys.argv[3], "httpsig.py")) and os.path.exists(sys.argv[4]):
    sys.path.insert(0, sys.argv[3])
    import httpsig
    key = httpsig.load_key(os.environ.get("CREDBANK_KEY") or sys.argv[4])
have, n = set(), 0
while True:
    url = f"{api}/v1/entries?from={n}&limit=1000"
    h = {"Accept": "application/msgpack"}
    if key is not None:
        h.update(httpsig.sign_headers(key, "GET", url))
    req = urllib.request.Request(url, headers=h)
    got = msgpack.unpackb(urllib.request.urlopen(req, timeout=30).read(), raw=False)
    if not got:
        break
    n += len(got)
    have |= {hashlib.sha256(msgpack.unpackb(e, raw=False)[0]).hexdigest() for e in got}
missing = sorted(want - have)
print(len(missing), " ".join(missing[:5]))
PY
)
        [ -n "$out" ] || out="$(wc -l < "$T/acked") (no answer)"
        [ "${out%% *}" = 0 ] || echo "     node $i lacks ${out}"
        LOST=$((LOST + ${out%% *}))
    done
    check "every acknowledged final entry ($(acked)) is on nodes $* (missing: $LOST)" test "$LOST" = 0
}
others() { local i; for i in 1 2 3; do [ "$i" != "$1" ] && echo "$i"; done; }
healthy_check() {
    local i s
    for i in "$@"; do
        s=$(status $i)
        check "node $i neither failed nor diverged" bash -c "[[ '$s' == *'\"failed\":false'* && '$s' == *'\"diverged\":false'* ]]"
    done
}
wait_acked() { # wait_acked N SECONDS: until at least N acknowledged
    local t0=$SECONDS
    while [ "$(acked)" -lt "$1" ] && [ $((SECONDS - t0)) -lt "$2" ]; do sleep 0.05; done
    [ "$(acked)" -ge "$1" ]
}
# wait_size NODE SIZE SECONDS: until NODE, a follower, has applied SIZE
# entries (catch-up under a running load, where sizes never match at one
# instant); prints the milliseconds it took
wait_size() {
    local t0 s sz r
    t0=$(now_ms)
    while [ $(( $(now_ms) - t0 )) -lt $(( $3 * 1000 )) ]; do
        s=$(status $1); sz=$(echo "$s" | sfield size); r=$(echo "$s" | sfield role)
        if [ -n "$sz" ] && [ "$sz" -ge "$2" ] && [ "$r" = follower ]; then echo $(( $(now_ms) - t0 )); return 0; fi
        sleep 0.1
    done
    return 1
}
# stable_leader SECONDS: until one ready leader and all three nodes in its
# term (elections come and go on a loaded machine); prints "LEADER TERM",
# or nothing after SECONDS
stable_leader() {
    local t0=$SECONDS l t i ok_
    while [ $((SECONDS - t0)) -lt "$1" ]; do
        l=$(leader 1 2 3)
        if [ -n "$l" ]; then
            t=$(status $l | sfield term); ok_=1
            for i in 1 2 3; do
                [ "$i" = "$l" ] && continue
                [ "$(status $i | sfield role)/$(status $i | sfield term)" = "follower/$t" ] || ok_=0
            done
            [ $ok_ = 1 ] && { echo "$l $t"; return 0; }
        fi
        sleep 0.2
    done
    return 1
}
# after_load FROM TO: a fresh loader for entries aFROM..aTO, through the
# current leader, waited for; "load finalises after the heal" needs entries
# the main loaders (which give up on an entry after LOAD_TRY_S) did not use
after_load() {
    local l; l=$(wait_leader 1 2 3)
    rm -f "$T/stop"
    loader "$1" "$2" "${l:-1}"
}
# monitor: every 0.5 s a line "ms  role/size/term of node 1, 2, 3" in $T/mon
monitor() {
    local i s line f
    while [ ! -e "$T/stopcp" ]; do
        line=$(now_ms)
        for i in 1 2 3; do
            s=$(curl -s -m 1 "$(api $i)/v1/status")
            line="$line  $i:"
            for f in role size term; do
                [[ $s =~ \"$f\":\"?([^,}\"]*) ]] && line="$line${BASH_REMATCH[1]}"
                [ $f = term ] || line="$line/"
            done
        done
        echo "$line" >> "$T/mon"
        sleep 0.5
    done
}
start_monitor() { monitor & BGPIDS+=($!); }
# mon_since MS: the monitor's lines from MS on, times relative to MS
mon_since() { awk -v t0="$1" '$1 >= t0 { $1 = sprintf("%+6.1fs", ($1 - t0) / 1000); print "     " $0 }' "$T/mon"; }
