#!/usr/bin/env bash
# integration/tls: three credbankd --tls on 127.0.0.1 (spec/security.md,
# "Transport" and "Pinning"). Raft, the HTTP API and the nodes' own HTTP
# clients (cosigns, catch-up, probes) run over TLS 1.3 with node keys pinned
# against the members in force. Checks: the cluster converges and entries
# become final over TLS; the API refuses plaintext; an impostor credbankd
# with a fresh key, claiming a member's id, address and data, is refused
# both ways (pin failures logged) and gets nothing; a TLS client with a
# self-made Ed25519 certificate and raw raft bytes in clear cannot inject;
# a tcpdump capture of the test ports holds no entry bytes in clear (while
# the same search finds them in a control stream sent in clear); a removed
# member's node is cut off at its removal.
# Usage: bash tls.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=tls
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
PASS=0; FAIL=0
declare -A PID
TCPDUMP_PID=""
cleanup() {
    for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
wait_for() { # wait_for SECONDS command...: until the command succeeds
    local t=$1 t0=$SECONDS; shift
    while [ $((SECONDS - t0)) -lt "$t" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
. "${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/ports.bash"

( cd "$T" && "$CB" demo --local --out demo >/dev/null 2>&1 ) || { echo "credbank demo failed"; exit 1; }
G=$T/demo/entries/000-genesis.cbe
K=$T/demo/keys
names=(x bank university provider)
ports_for 3 RP AP MP
PEERS=""
for i in 1 2 3; do
    PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},https://127.0.0.1:${AP[$i]},${names[$i]}"
done
start() { # start I [KEYFILE [DIR]] (an impostor, with KEYFILE: no metrics)
    local i=$1 key=${2:-$K/${names[$1]}.node.key} dir=${3:-$T/n$1} m=off
    [ -z "${2:-}" ] && m=127.0.0.1:${MP[$i]}
    "$D" --tls --dir "$dir" --key "$key" --name "${names[$i]}" --genesis "$G" \
        --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "$m" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
# metric NODE LINE-PREFIX: the value of the first metrics line so named
metric() { curl -s -m 2 "http://127.0.0.1:${MP[$1]}/metrics" | grep -F "$2 " | head -1 | awk '{print $NF}'; }
api() { echo "https://127.0.0.1:${AP[$1]}"; }
# the node's own certificate is self-signed: curl cannot pin it, so -k here;
# the credbank CLI pins (tests/cli) and the nodes pin each other
status() { curl -sk -m 2 "$(api "$1")/v1/status"; }
jget() { python3 -c 'import sys,json
try: d=json.load(sys.stdin)
except Exception: sys.exit(0)
v=d.get(sys.argv[1]) if isinstance(d,dict) else None
print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1"; }
leader() {
    local i s
    for i in "$@"; do
        s=$(status "$i")
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo "$i"; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt 15 ]; do l=$(leader "$@"); [ -n "$l" ] && { echo "$l"; return; }; sleep 0.05; done; }
post() { # post NODE FILE -> "STATUS BODY"
    curl -sk -m 15 -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/msgpack' \
        --data-binary @"$2" "$(api "$1")/v1/entries"
    echo " $(cat "$T/resp")"
}
post_any() { # post_any FILE NODES...: to the ready leader, again when it moved
    local f=$1 r l k; shift
    for k in 1 2 3 4 5; do
        l=$(wait_leader "$@")
        [ -n "$l" ] || continue
        r=$(post "$l" "$f")
        [[ "$r" == 503*not_leader* || "$r" == 503*unavailable* ]] || break
        sleep 0.3
    done
    echo "$r"
}
same_root() { # all the named nodes at the same size and root
    local a b i
    a=$(status "$1" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["size"], d["root"])' 2>/dev/null)
    [ -n "$a" ] || return 1
    for i in "${@:2}"; do
        b=$(status "$i" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["size"], d["root"])' 2>/dev/null)
        [ "$a" = "$b" ] || return 1
    done
}

# ---- a capture of every test port, from before the first byte ----
CAP=$T/cap.pcap
CTL=$(freeport)
if command -v tcpdump >/dev/null; then
    filter="port ${RP[1]} or port ${RP[2]} or port ${RP[3]} or port ${AP[1]} or port ${AP[2]} or port ${AP[3]} or port $CTL"
    tcpdump -i lo -U -s 0 -w "$CAP" "$filter" >"$T/tcpdump.log" 2>&1 &
    TCPDUMP_PID=$!
    wait_for 5 grep -qs "listening on" "$T/tcpdump.log"
fi

for i in 1 2 3; do start "$i"; done
L=$(wait_leader 1 2 3)
check "a leader is elected over TLS" test -n "$L"
[ -n "$L" ] || { tail -5 "$T"/n*.log; exit 1; }
check "every node says its links are TLS 1.3 and pinned" bash -c \
    "grep -l 'TLS 1.3, pinned' '$T'/n1.log '$T'/n2.log '$T'/n3.log | wc -l | grep -qx 3"

# ---- entries become final over TLS (cosigns travel over HTTPS) ----
r=$(post_any "$T/demo/entries/001-policy.set.cbe" 1 2 3)
check "submit over HTTPS answers 200 with final ($r)" bash -c "[[ '$r' == 200* && '$r' == *'\"final\":'* ]]"
for f in "$T"/demo/entries/0{02..19}-*.cbe; do post_any "$f" 1 2 3 >/dev/null; done
check "the three nodes converge on one size and root" wait_for 10 same_root 1 2 3
# a follower's cosigns (one per seal) travel on a kept-alive link: not a
# TLS handshake per seal (node/client.c)
F=""; for i in 1 2 3; do [ "$(leader "$i")" = "$i" ] || { F=$i; break; }; done
opened=$(metric "$F" 'credbank_cosign_links_total{how="opened"}')
reused=$(metric "$F" 'credbank_cosign_links_total{how="reused"}')
hs=$(metric "$F" 'credbank_tls_handshakes_total{outcome="done"}')
check "follower $F: cosign links reused ($reused) more than opened ($opened); $hs TLS handshakes" \
    bash -c "[ '${reused:-0}' -ge 5 ] && [ '${opened:-99}' -le 3 ] && [ '${hs:-99}' -le 12 ]"
check "the API refuses plaintext HTTP" bash -c \
    "! curl -s -m 2 http://127.0.0.1:${AP[1]}/v1/status | grep -q size"

# ---- the capture: no entry bytes in clear ----
if [ -n "$TCPDUMP_PID" ]; then
    # control: the same bytes sent in clear to a port in the capture
    python3 - "$CTL" "$T/demo/entries/005-"*.cbe <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(5)
c, _ = s.accept(); c.recv(1 << 20); c.close(); s.close()
PY
    CTLPID=$!
    python3 -c 'import socket,sys,time
for i in range(100):
    try: s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); break
    except OSError: time.sleep(0.1)
s.sendall(open(sys.argv[2],"rb").read()); s.close()' \
        "$CTL" "$T/demo/entries/005-"*.cbe
    wait "$CTLPID"
    sleep 1
    kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null; TCPDUMP_PID=""
    # every 16-byte window at 16-byte steps of every entry submitted
    scan() { # scan PCAP [PORTS...]: prints how many entry windows occur
        python3 - "$@" "$T"/demo/entries/0{01..19}-*.cbe <<'PY'
import struct, sys
pcap = sys.argv[1]; ports = set(); files = []
for a in sys.argv[2:]:
    (ports.add(int(a)) if a.isdigit() else files.append(a))
data = open(pcap, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, payload = 24, bytearray()
linktype = struct.unpack(e + "I", data[20:24])[0]
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]; off += 16 + incl
    ip = pkt[14:] if linktype == 1 else pkt[16:] if linktype == 113 else pkt[4:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6: continue
    ihl = (ip[0] & 15) * 4; tcp = ip[ihl:]
    sp, dp = struct.unpack(">HH", tcp[:4])
    if ports and sp not in ports and dp not in ports: continue
    payload += tcp[(tcp[12] >> 4) * 4:]
hits = 0; windows = 0
for f in files:
    b = open(f, "rb").read()
    for i in range(0, len(b) - 16, 16):
        windows += 1
        if bytes(b[i:i + 16]) in payload: hits += 1
print(hits, windows)
PY
    }
    read -r hits windows < <(scan "$CAP" "${RP[1]}" "${RP[2]}" "${RP[3]}" "${AP[1]}" "${AP[2]}" "${AP[3]}")
    read -r chits _ < <(scan "$CAP" "$CTL")
    check "the capture holds the peers' traffic (control: the clear stream's windows are found: $chits)" \
        bash -c "[ '${chits:-0}' -gt 0 ]"
    check "no 16-byte window of the $windows of the 19 entries appears in the Raft and API traffic ($hits)" \
        bash -c "[ '${hits:-1}' = 0 ] && [ '${windows:-0}' -gt 100 ]"
else
    echo "skip capture checks: tcpdump not installed (scripts/deps tcpdump)"
fi

# ---- a TLS client with a self-made Ed25519 certificate, and raw raft bytes
openssl genpkey -algorithm ed25519 -out "$T/evil.pem" 2>/dev/null
openssl req -x509 -new -key "$T/evil.pem" -subj /CN=bank -days 1 -out "$T/evil.crt" 2>/dev/null
size0=$(status "$L" | jget size)
for i in 1 2 3; do
    printf 'x' | timeout 5 openssl s_client -connect "127.0.0.1:${RP[$i]}" -tls1_3 \
        -cert "$T/evil.crt" -key "$T/evil.pem" -quiet >"$T/sclient$i.out" 2>&1
done
check "the raft ports log a pin failure for the self-made certificate" bash -c \
    "grep -q 'pin failure' '$T/n1.log' && grep -q 'pin failure' '$T/n2.log' && grep -q 'pin failure' '$T/n3.log'"
# the preamble raft's plain TCP transport would send, then garbage
python3 - "${RP[$L]}" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
addr = b"127.0.0.1:1\0".ljust(16, b"\0")
s.sendall(struct.pack("<QQQ", 1, 2, len(addr)) + addr + b"\x01" * 4096)
s.settimeout(3)
try:
    while s.recv(4096): pass
except Exception: pass
s.close()
PY
check "raw raft bytes in clear change nothing (size $size0)" bash -c \
    "[ \"\$(curl -sk -m 2 $(api "$L")/v1/status | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"size\"])')\" = '$size0' ]"
check "a ready leader is still there" test -n "$(wait_leader 1 2 3)"

# ---- an impostor: a fresh key, claiming node 2's id, address and data ----
kill "${PID[2]}"; wait "${PID[2]}" 2>/dev/null; unset 'PID[2]'
cp -r "$T/n2" "$T/evil2"
( cd "$T" && "$CB" keygen university -o evil.key >/dev/null 2>&1 )
keyhex() { /usr/bin/python3 - "$T/evil.key" <<'PY'
import sys, base64, nacl.signing
s = open(sys.argv[1]).read().strip().split("+", 4)[4]
seed = base64.b64decode(s)[1:]
print(nacl.signing.SigningKey(seed).verify_key.encode().hex())
PY
}
l1=$(wc -l < "$T/n1.log"); l3=$(wc -l < "$T/n3.log")
start 2 "$T/evil.key" "$T/evil2"
L=$(wait_leader 1 3)
check "a leader among the real members" test -n "$L"
wait_for 20 bash -c "curl -sk -m 2 $(api 2)/v1/status | grep -q size"
esize0=$(status 2 | jget size)
r=$(post_any "$T/demo/entries/023-"*.cbe 1 3)
check "the cluster takes entries to final without node 2 ($r)" bash -c "[[ '$r' == 200*final* ]]"
post_any "$T/demo/entries/024-"*.cbe 1 3 >/dev/null
EVIL=$(keyhex)
impostor_refused() {
    { tail -n +"$((l1 + 1))" "$T/n1.log"; tail -n +"$((l3 + 1))" "$T/n3.log"; } |
        grep -q "key $EVIL): pin failure"
}
check "the real nodes log pin failures naming the impostor's key" wait_for 5 impostor_refused
check "the impostor logs that its own peers refuse it" bash -c \
    "grep -q 'not the node key of a member in force' '$T/n2.log'"
esize=$(status 2 | jget size)
check "the impostor got no entry ($esize0 -> $esize)" bash -c "[ -n '$esize0' ] && [ '$esize' = '$esize0' ]"
check "the real nodes converge without it" wait_for 10 same_root 1 3
kill "${PID[2]}"; wait "${PID[2]}" 2>/dev/null; unset 'PID[2]'

# ---- the real node 2 comes back and catches up ----
start 2
check "node 2 with its real key catches up over TLS" wait_for 20 same_root 1 2 3

# ---- member.remove: the removed member's node is cut off ----
( cd "$T" && "$CB" entry build member.remove --key "$K/bank.issuer.key" --ledger @"$G" \
    --name university --sign "$K/provider.issuer.key" -o remove.cbe >/dev/null 2>"$T/remove.err" )
if [ -s "$T/remove.cbe" ]; then
    r=$(post_any "$T/remove.cbe" 1 3)
    check "member.remove of university is final ($r)" bash -c "[[ '$r' == 200*final* ]]"
    check "a node cuts university's links at its removal" wait_for 10 bash -c \
        "grep -q 'cut: its key is no longer' '$T/n1.log' '$T/n3.log'"
    before=$(status 2 | jget size)
    for f in "$T"/demo/entries/02{5..9}-*.cbe; do post_any "$f" 1 3 >/dev/null; done
    check "bank and provider go on" wait_for 10 same_root 1 3
    sleep 1
    after=$(status 2 | jget size)
    lsize=$(status "$(wait_leader 1 3)" | jget size)
    check "the removed node gets nothing more ($before -> $after; leader $lsize)" \
        bash -c "[ '$after' = '$before' ] && [ '$lsize' -gt '$after' ]"
else
    bad "member.remove could not be built: $(head -c 300 "$T/remove.err")"
fi

check "no sanitizer report in the node logs" bash -c \
    "! grep -l 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' '$T'/n*.log"
echo "tls: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
