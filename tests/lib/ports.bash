# freeports N: N distinct free TCP ports on 127.0.0.1, on one line.
#
# All N are bound at once and only then released. Drawing them one at a time
# (bind to port 0, close, again) can hand out the same port twice: 27 of
# 20,000 draws of six ports did here. A node given a port another node holds
# cannot bind it and exits, and whatever answers on that port then is the
# other node: over TLS, a client pinning the first node's key sees "the
# node's key is not one of the pinned keys" (faults-tls/kill_two failed so,
# once, in a full run).
freeports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# freeport: one free port (for a port wanted after the nodes hold theirs)
freeport() { freeports 1; }

# ports_for N VAR...: fills the arrays VAR[1..N] (declared by the caller)
# with distinct ports, e.g. ports_for 3 RP AP MP
ports_for() {
    local n=$1 i k=0 v
    shift
    local -a p
    read -r -a p <<<"$(freeports $((n * $#)))"
    for v in "$@"; do
        for ((i = 1; i <= n; i++)); do
            printf -v "$v[$i]" '%s' "${p[k]}"
            k=$((k + 1))
        done
    done
}
