# Shared by tests/faults/byzantine*.sh (sourced after common.bash; not a
# test itself). Byzantine members (issue 6, item 4): honest credbankd next to
# credbankd-faulty, the same sources built with -DCB_FAULT_INJECTION
# (node/fault.h), which lies as CREDBANK_FAULT says. Also: the bad entries a
# lying member can submit, built with the CLI from the demo's keys.
DF=$BUILD/credbankd-faulty
K=$T/demo/keys
# reads of the log are signed (spec/security.md) by a key in force all along:
# the university's issuer key (the bank's is rotated, the provider removed)
source "$HERE/../lib/auth.bash"
export CREDBANK_KEY=$K/university.issuer.key # also history.py's
getentry() { scurl "$CREDBANK_KEY" -s -m 5 -H 'Accept: application/json' "$(api "$1")/v1/entries/$2"; }
export PYTHONDONTWRITEBYTECODE=1

# /metrics: on its own listener when credbankd has --metrics, else on the API
declare -A MP
MFLAG=0; "$D" --help 2>/dev/null | grep -q -- --metrics && MFLAG=1
for i in 1 2 3; do MP[$i]=${XP[$i]}; done # common.bash's spare ports
metrics() {
    if [ $MFLAG = 1 ]; then curl -s -m 2 "http://127.0.0.1:${MP[$1]}/metrics"
    else curl -s -m 2 "$(api "$1")/metrics"; fi
}
# start_node I FAULTS [ELECTION_MS]: FAULTS "" runs the honest credbankd
start_node() {
    local i=$1 f=$2 el=${3:-1000} bin=$D mf=()
    [ -n "$f" ] && bin=$DF
    [ $MFLAG = 1 ] && mf=(--metrics "127.0.0.1:${MP[$i]}")
    CREDBANK_FAULT=$f "$bin" --dir "${DIR[$i]}" --key "$K/${names[$i]}.node.key" \
        --name "${names[$i]}" --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" \
        --api "127.0.0.1:${AP[$i]}" --election-ms "$el" "${mf[@]}" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
post() { # post NODE FILE [query] -> "STATUS BODY"
    curl -s -m 15 -o "$T/resp" -w '%{http_code}' -H 'Content-Type: application/msgpack' \
        --data-binary @"$2" "$(api "$1")/v1/entries${3:-}"
    echo " $(cat "$T/resp")"
}
lead() { wait_leader 1 2 3; } # the ready leader now (nothing after 10 s)
lpost() { local l; l=$(lead); post "${l:-1}" "$@"; } # lpost FILE [query]
jf() { # jf FIELD: a top-level JSON field of stdin ("" when absent)
    "$PYTHON" -c 'import sys,json
try: d=json.load(sys.stdin)
except Exception: sys.exit(0)
v=d.get(sys.argv[1]) if isinstance(d,dict) else None
print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1"
}
sget() { status "$1" | jf "$2"; }
eid() { "$CB" entry inspect "$1" --json 2>/dev/null | jf id; } # entry id of a .cbe
vkey() { "$CB" keygen "$1" -o "$T/keys2/$1.key" --json 2>/dev/null | jf vkey; }
# rej NODE CODE: credbank_rejections_total{code=CODE} of NODE (0 when absent)
rej() {
    local v
    v=$(metrics "$1" | sed -n "s/^credbank_rejections_total{code=\"$2\"} \([0-9]*\)$/\1/p")
    echo "${v:-0}"
}
# absent ID NODES...: no node has the entry id in its log
absent() {
    local id=$1 i c; shift
    for i in "$@"; do
        c=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(api "$i")/v1/ids/$id")
        [ "$c" = 404 ] || return 1
    done
}
# absent_all NODES... -- FILES...: absent on every node, each file's entry
absent_all() {
    local nodes=() f id ok_=0
    while [ "$1" != -- ]; do nodes+=("$1"); shift; done; shift
    for f in "$@"; do
        id=$(eid "$f")
        if [ -z "$id" ] || ! absent "$id" "${nodes[@]}"; then echo "     present (or no id): $(basename "$f")"; ok_=1; fi
    done
    return $ok_
}
# wait_for SECS CMD...: polls CMD every 50 ms
wait_for() { local n=$(( $1 * 20 )); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done; return 1; }
# expect_refused WHAT FILE STATUS CODE [query]: the leader's answer is
# STATUS and CODE
expect_refused() {
    local what=$1 f=$2 st=$3 code=$4 r
    r=$(lpost "$f" "${5:-}")
    if [[ "$r" == "$st "* ]] && [ "$(echo "${r#* }" | jf error)" = "$code" ]; then
        ok "$what -> $st $code"
    else
        bad "$what: want $st $code, got $r"
    fi
}
# submit_ok FILE [query]: the leader answers 200 (with final unless
# ?wait=applied); retried on not_leader/unavailable for 20 s
submit_ok() {
    local r t0=$SECONDS
    while [ $((SECONDS - t0)) -lt 20 ]; do
        r=$(lpost "$1" "${2:-}")
        [[ "$r" == 200* ]] && { [ -n "${2:-}" ] || [[ "$r" == *'"final":'* ]]; } && return 0
        [[ "$r" == 503* || "$r" == 000* ]] || break
        sleep 0.1
    done
    echo "  submit $(basename "$1"): $r"; return 1
}

# A policy.set of the "*" policy with seal_interval_ms MS, signed by a
# governance quorum (bank and university): long intervals give the tests a
# window in which no seal comes.
policy_interval() { # policy_interval MS OUT
    "$PYTHON" - "$T/demo/genesis.json" "$1" > "$T/pol.$1.json" <<'PY'
import sys, json
p = json.load(open(sys.argv[1]))["policy"]; p["seal_interval_ms"] = int(sys.argv[2])
print(json.dumps(p))
PY
    "$CB" entry build policy.set --key "$K/bank.issuer.key" --ledger @"$G" --scope '*' \
        --policy @"$T/pol.$1.json" --sign "$K/university.issuer.key" -o "$2" >/dev/null 2>&1
}

# deposit AUTHOR.key ACCOUNT N OUT: an outcome.deposit (provider role)
deposit() {
    "$CB" entry build outcome.deposit --key "$1" --ledger @"$G" --account "$2" \
        --source school --course "c$3" --title "course $3" --credits 3 --grade 90 \
        --term 2024Q1 --evidence "$(printf '%064x' $((5000 + $3)))" -o "$4" >/dev/null 2>&1
}
# account AUTHOR.key N OUT: an account.open with a fresh learner key
account() {
    local vk; vk=$(vkey "learner$2")
    "$CB" entry build account.open --key "$1" --ledger @"$G" --learner-key "$vk" \
        --degree bachelor --major cs --education-level high_school \
        --education-evidence "$(printf '%064x' "$2")" --pii "$(printf '%064x' $((9000 + $2)))" \
        --sign "$T/keys2/learner$2.key" -o "$3" >/dev/null 2>&1
}
# seal_from PREV_SEAL_JSON SIZE ROOT: a seal body JSON for `entry build seal
# --body` (accounts, accounts_root, governance, governance_chain from the
# previous seal; size and log_root given)
seal_body() {
    "$PYTHON" -c 'import sys,json
d=json.load(sys.stdin)
def find(o):
    if isinstance(o,dict):
        if "accounts_root" in o: return o
        for v in o.values():
            r=find(v)
            if r: return r
b=find(d)
print(json.dumps({"accounts":b["accounts"],"accounts_root":"hex:"+b["accounts_root"],
 "governance":b["governance"],"governance_chain":"hex:"+b["governance_chain"],
 "log_root":"hex:"+sys.argv[2],"size":int(sys.argv[1])}))' "$1" "$2"
}
# cosign NODEKEY SIZE SEALID SIGHEX OUT: a cosign entry
cosign_entry() {
    "$CB" entry build cosign --key "$1" --ledger @"$G" --size "$2" --ref "$3" --sig "$4" \
        -o "$5" >/dev/null 2>&1
}
# sign_note KEYFILE TEXTFILE: hex Ed25519 signature of the file by the key
sign_note() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys, base64, nacl.signing
k = open(sys.argv[1]).read().strip().split("+", 4)[4]
seed = base64.b64decode(k)[1:]
print(nacl.signing.SigningKey(seed).sign(open(sys.argv[2], "rb").read()).signature.hex())
PY
}

no_reports() { ! log_reports; }

# removed_cut NODE: call once the member.remove of NODE's member applied.
# In plaintext (common.bash's peers name no member: a static Raft
# configuration) the removed member's node stays a voter and applies on, and
# the checks after the removal include it. Over TLS (CB_TLS=1) the removal
# cuts its links (spec/security.md, "Removal cuts") and, the peers naming
# their members, the leader takes it out of Raft (spec/node.md,
# "Membership"): it gets nothing more. The checks after the removal then use
# APPLYING, the nodes that still apply, and this checks the cut itself: each
# other node refuses or cuts the removed node's key.
APPLYING=(1 2 3)
applying() { [[ " ${APPLYING[*]} " == *" $1 "* ]]; }
removed_cut() {
    [ -n "$TLS_FLAGS" ] || return 0
    local v=$1 i; APPLYING=()
    for i in 1 2 3; do [ "$i" != "$v" ] && APPLYING+=("$i"); done
    cut_logged() {
        local i
        for i in "${APPLYING[@]}"; do
            grep -q "cut: its key is no longer the node key of a member in force\|pin failure: the peer's key is not the node key of a member in force" \
                "$T/n$i.log" || return 1
        done
    }
    check "over TLS the removed member's node $v is cut off: nodes ${APPLYING[*]} log the cut or refuse its key" \
        wait_for 15 cut_logged
}

# ---- the bad entries (and their controls), before the nodes start ----
# After it: $T/bad/*.cbe
prepare_entries() {
    mkdir -p "$T/bad" "$T/keys2"
    local B=$T/bad
    # account of the demo learner (002) is opened by the test; ACC its id
    ACC=$(eid "$T/demo/entries/002-account.open.cbe")
    deposit "$K/provider.issuer.key" "$ACC" 1 "$B/dep-provider-ok.cbe"
    deposit "$K/provider.issuer.key" "$ACC" 2 "$B/dep-provider-removed.cbe"
    for n in 3 4 5 6 7 8 9; do deposit "$K/university.issuer.key" "$ACC" $n "$B/dep-u$n.cbe"; done
    # governance below quorum: the author's member alone (quorum 2 of 3)
    local cvn cvi
    cvn=$(vkey college.node); cvi=$(vkey college.issuer)
    "$CB" entry build member.add --key "$K/bank.issuer.key" --ledger @"$G" \
        --member "{\"name\":\"college\",\"roles\":[\"provider\"],\"node\":\"$cvn\",\"issuers\":[\"$cvi\"]}" \
        --sign "$T/keys2/college.node.key" --sign "$T/keys2/college.issuer.key" \
        -o "$B/gov-member.add.cbe" >/dev/null 2>&1
    "$CB" entry build member.update --key "$K/bank.issuer.key" --ledger @"$G" \
        --name university --roles recognizer,provider,registrar -o "$B/gov-member.update.cbe" >/dev/null 2>&1
    "$CB" entry build member.remove --key "$K/bank.issuer.key" --ledger @"$G" \
        --name university -o "$B/gov-member.remove.cbe" >/dev/null 2>&1
    "$PYTHON" -c 'import sys,json;print(json.dumps(json.load(open(sys.argv[1]))["policy"]))' \
        "$T/demo/genesis.json" > "$T/pol.json"
    "$CB" entry build policy.set --key "$K/bank.issuer.key" --ledger @"$G" --scope '*' \
        --policy @"$T/pol.json" -o "$B/gov-policy.set.cbe" >/dev/null 2>&1
    # a member removed by a quorum, then its issuer key authors an entry
    "$CB" entry build member.remove --key "$K/bank.issuer.key" --ledger @"$G" \
        --name provider --sign "$K/university.issuer.key" -o "$B/remove-provider.cbe" >/dev/null 2>&1
    # the bank's issuer key rotated; the old key authors, then the new one
    local nv; nv=$(vkey bank.issuer2)
    "$CB" entry build key.rotate --key "$K/bank.issuer.key" --ledger @"$G" --use issuer \
        --new "$nv" --sign "$T/keys2/bank.issuer2.key" -o "$B/rotate-bank.cbe" >/dev/null 2>&1
    account "$K/bank.issuer.key" 101 "$B/acc-old-key.cbe"
    account "$T/keys2/bank.issuer2.key" 102 "$B/acc-new-key.cbe"
    # a second consortium: the same members and keys, another genesis
    # (origin differs), and an entry valid in its ledger
    "$PYTHON" -c 'import sys,json;g=json.load(open(sys.argv[1]));g["origin"]="other.example/credbank";print(json.dumps(g))' \
        "$T/demo/genesis.json" > "$T/genesis2.json"
    "$CB" genesis build "$T/genesis2.json" --key "$K/bank.issuer.key" -o "$T/genesis2.cbe" >/dev/null 2>&1
    for k in bank.node university.issuer university.node provider.issuer provider.node; do
        "$CB" sign "$T/genesis2.cbe" --key "$K/$k.key" >/dev/null 2>&1
    done
    G2=$T/genesis2.cbe
    local lvk; lvk=$(vkey learner200)
    "$CB" entry build account.open --key "$K/bank.issuer.key" --ledger @"$G2" --learner-key "$lvk" \
        --degree bachelor --major cs --education-level high_school \
        --education-evidence "$(printf '%064x' 200)" --pii "$(printf '%064x' 9200)" \
        --sign "$T/keys2/learner200.key" -o "$B/foreign.cbe" >/dev/null 2>&1
    "$CB" submit "$G2" "$B/foreign.cbe" --dir "$T/ledger2" >/dev/null 2>&1 # valid there
    FOREIGN_OK=$?
    ls "$B"/*.cbe >/dev/null 2>&1
}

# ---- a member's seals: with seals every 600 s (policy.set "*" by a
# quorum), no seal of the leader's comes between the entries below, so a
# seal built by a member for the next index is judged on its body. After
# it: $T/bad/seal-good.cbe (the body every node computes) and
# $T/bad/seal-wrong-root.cbe (the same but log_root), both authored by
# $SEALER's node key (default university), and $T/bad/seal-removed.cbe (the
# correct body by provider's node key); SEAL_AT their index. Needs the honest state machine
# only (the nodes recompute the body; the test computes it independently:
# the governance chain over the member policy.set it submits).
SEALER=university
seal_prepare() {
    local r p ls="" size s0="" t0 x root
    policy_interval 600000 "$T/pol600000.cbe"
    r=$(lpost "$T/pol600000.cbe" "?wait=applied"); p=$(echo "${r#* }" | jf index)
    [ -n "$p" ] || { echo "     policy.set: $r"; return 1; }
    t0=$SECONDS # the last seal of the 20 ms timer covers it; then cosigns settle
    while [ $((SECONDS - t0)) -lt 20 ]; do
        ls=$(sget "$(lead)" last_seal); size=$(sget "$(lead)" size)
        if [ -n "$ls" ] && [ "$ls" -gt "$p" ] && [ "$size" = "$s0" ]; then break; fi
        s0=$size; sleep 1.5
    done
    [ -n "$ls" ] && [ "$ls" -gt "$p" ] || { echo "     no seal after $p"; return 1; }
    echo '{"sources": {"other": {"min_grade": 10}}}' > "$T/provpol.json"
    "$CB" entry build policy.set --key "$K/university.issuer.key" --ledger @"$G" --scope university \
        --policy @"$T/provpol.json" -o "$T/bad/member-policy.cbe" >/dev/null 2>&1
    r=$(lpost "$T/bad/member-policy.cbe" "?wait=applied"); x=$(echo "${r#* }" | jf index)
    [ -n "$x" ] || { echo "     member policy.set: $r"; return 1; }
    SEAL_AT=$((x + 1))
    root=$(status "$(lead)" | jf root); size=$(sget "$(lead)" size)
    [ "$size" = "$SEAL_AT" ] || { echo "     size $size, want $SEAL_AT"; return 1; }
    getentry "$(lead)" "$ls" > "$T/prevseal.json"
    "$PYTHON" - "$T/prevseal.json" "$T/bad/member-policy.cbe" "$SEAL_AT" "$root" <<'PY' || return 1
import sys, json, hashlib
def find(o):
    if isinstance(o, dict):
        if "accounts_root" in o: return o
        for v in o.values():
            r = find(v)
            if r: return r
b = find(json.load(open(sys.argv[1])))
leaf = hashlib.sha256(b"\0" + open(sys.argv[2], "rb").read()).digest()
chain = hashlib.sha256(bytes.fromhex(b["governance_chain"]) + leaf).hexdigest()
good = {"accounts": b["accounts"], "accounts_root": "hex:" + b["accounts_root"],
        "governance": b["governance"] + 1, "governance_chain": "hex:" + chain,
        "log_root": "hex:" + sys.argv[4], "size": int(sys.argv[3])}
bad = dict(good); r = bytearray.fromhex(sys.argv[4]); r[0] ^= 1; bad["log_root"] = "hex:" + r.hex()
d = sys.argv[2].rsplit("/", 1)[0]
json.dump(good, open(d + "/seal-good.json", "w")); json.dump(bad, open(d + "/seal-bad.json", "w"))
PY
    "$CB" entry build seal --key "$K/$SEALER.node.key" --ledger @"$G" --body @"$T/bad/seal-bad.json" \
        -o "$T/bad/seal-wrong-root.cbe" >/dev/null 2>&1 &&
    "$CB" entry build seal --key "$K/$SEALER.node.key" --ledger @"$G" --body @"$T/bad/seal-good.json" \
        -o "$T/bad/seal-good.cbe" >/dev/null 2>&1 &&
    "$CB" entry build seal --key "$K/provider.node.key" --ledger @"$G" --body @"$T/bad/seal-good.json" \
        -o "$T/bad/seal-removed.cbe" >/dev/null 2>&1
}
