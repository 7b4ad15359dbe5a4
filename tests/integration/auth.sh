#!/usr/bin/env bash
# integration/auth: request signatures, authorisation and the audit log
# (spec/security.md) on three credbankd. Unsigned, wrongly signed, replayed,
# expired and misdirected reads are refused with their codes; a learner key
# reads only its own account, history and bundle; an issuer key reads any;
# every read is in the audit log, which survives a restart and
# `credbank audit` shows; /metrics is served on its own address.
# Usage: bash auth.sh /path/to/credbank   (env CB_BUILD_DIR: where credbankd is)
set -u
NAME=auth
CB=${1:?path to credbank}
CB=$(cd "$(dirname "$CB")" && pwd)/$(basename "$CB")
BUILD=${CB_BUILD_DIR:-$(dirname "$CB")}
D=$BUILD/credbankd
SRC=${CB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/auth.bash"
T=$(mktemp -d /tmp/cb-int-$NAME.XXXXXX)
PASS=0; FAIL=0
declare -A PID
cleanup() {
    for i in "${!PID[@]}"; do kill -9 "${PID[$i]}" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
. "$SRC/tests/lib/ports.bash"
jget() { python3 -c 'import sys,json
try: d=json.load(sys.stdin)
except Exception: sys.exit(0)
v=d.get(sys.argv[1]) if isinstance(d,dict) else None
print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1"; }

( cd "$T" && "$CB" demo --local --out demo >/dev/null 2>&1 ) || { echo "credbank demo failed"; exit 1; }
K=$T/demo/keys
G=$T/demo/entries/000-genesis.cbe
names=(x bank university provider)
ports_for 3 RP AP MP
PEERS=""
for i in 1 2 3; do PEERS="$PEERS --peer $i,127.0.0.1:${RP[$i]},http://127.0.0.1:${AP[$i]}"; done
start() {
    local i=$1
    "$D" --dir "$T/n$i" --key "$K/${names[$i]}.node.key" --name "${names[$i]}" \
        --genesis "$G" --id "$i" --raft "127.0.0.1:${RP[$i]}" --api "127.0.0.1:${AP[$i]}" \
        --metrics "127.0.0.1:${MP[$i]}" $PEERS >>"$T/n$i.log" 2>&1 &
    PID[$i]=$!
}
api() { echo "http://127.0.0.1:${AP[$1]}"; }
leader() {
    local i s
    for i in "$@"; do
        s=$(curl -s -m 1 "$(api $i)/v1/status")
        if [[ "$s" == *'"role":"leader"'* && "$s" == *'"ready":true'* ]]; then echo $i; return; fi
    done
}
wait_leader() { local t0=$SECONDS l; while [ $((SECONDS - t0)) -lt 15 ]; do l=$(leader "$@"); [ -n "$l" ] && { echo $l; return; }; sleep 0.05; done; }
for i in 1 2 3; do start $i; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || exit 1

# ---- the demo's learner, and a second learner with an account ----
for f in "$T"/demo/entries/0{01..19}-*.cbe; do
    "$CB" submit "$f" --node "$(api $L)" >/dev/null 2>&1
done
"$CB" keygen learner2 -o "$T/learner2.key" >"$T/l2.txt" 2>&1
vk=$(grep -o 'learner2+[^ ]*' "$T/l2.txt" | head -1)
echo '{"name": "Lee Seo-yeon", "birth_date": "1999-07-02"}' >"$T/pii.json"
echo diploma >"$T/diploma.txt"
"$CB" entry build account.open --key "$K/bank.issuer.key" --ledger @"$G" --learner-key "$vk" \
    --degree bachelor --major history --education-level high_school \
    --education-evidence @"$T/diploma.txt" --pii-data @"$T/pii.json" \
    --pii-salt "$(printf '%064d' 5)" -o "$T/open2.cbe" >/dev/null 2>&1
"$CB" sign "$T/open2.cbe" --key "$T/learner2.key" >/dev/null 2>&1
"$CB" submit "$T/open2.cbe" --node "$(api $L)" >/dev/null 2>&1
check "the second account is final" "$CB" submit "$T/open2.cbe" --node "$(api $L)"
ACC=$("$CB" entry inspect "$T/demo/entries/002-account.open.cbe" --json | jget id)
ACC2=$("$CB" entry inspect "$T/open2.cbe" --json | jget id)
check "two account ids" bash -c "[ ${#ACC} = 64 ] && [ ${#ACC2} = 64 ] && [ $ACC != $ACC2 ]"
# every node has applied both accounts
for i in 1 2 3; do
    for _ in $(seq 100); do
        [ "$(scurl "$K/bank.issuer.key" -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/accounts/$ACC2")" = 200 ] && break
        sleep 0.05
    done
done
N=1
A=$(api $N)

# expect WHAT STATUS CODE curl-args... : the status and the error name
expect() {
    local what=$1 st=$2 code=$3; shift 3
    local got; got=$(curl -s -m 5 -o "$T/resp" -w '%{http_code}' "$@")
    local e; e=$(jget error < "$T/resp")
    if [ "$got" = "$st" ] && { [ -z "$code" ] || [ "$e" = "$code" ]; }; then ok "$what -> $st $code"
    else bad "$what: want $st $code, got $got $(head -c 300 "$T/resp")"; fi
}
hdrs() { # hdrs KEY URL [httpsig options] -> array H of curl -H arguments
    H=(); local l
    while IFS= read -r l; do H+=(-H "$l"); done < <(sighdrs "$@")
}

# ---- without a signature: only the open endpoints answer ----
expect "unsigned account view" 401 unauthenticated "$A/v1/accounts/$ACC"
expect "unsigned account history" 401 unauthenticated "$A/v1/accounts/$ACC/entries"
expect "unsigned bundle" 401 unauthenticated "$A/v1/accounts/$ACC/bundle"
expect "unsigned log read" 401 unauthenticated "$A/v1/entries?from=0&limit=5"
expect "unsigned entry read" 401 unauthenticated "$A/v1/entries/1"
expect "unsigned members" 401 unauthenticated "$A/v1/members"
expect "unsigned audit" 401 unauthenticated "$A/v1/audit"
expect "status is open" 200 "" "$A/v1/status"
expect "checkpoint is open" 200 "" "$A/v1/checkpoint"
expect "inclusion proof is open" 200 "" "$A/v1/proof/inclusion?index=1"
expect "consistency proof is open" 200 "" "$A/v1/proof/consistency?from=1"
OPENID=$("$CB" entry inspect "$T/demo/entries/002-account.open.cbe" --json | jget id)
expect "an id's index is open" 200 "" "$A/v1/ids/$OPENID"

# ---- wrong signatures ----
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC2"
expect "a signature for another path" 401 unauthenticated "${H[@]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$(api 2)/v1/accounts/$ACC"
expect "a signature for another node (its Host)" 401 unauthenticated "${H[@]}" -H "Host: 127.0.0.1:${AP[2]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$(api 2)/v1/accounts/$ACC"
expect "a signature for another node (this Host)" 401 unauthenticated "${H[@]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC"
bad_sig=$(printf '%s' "${H[3]}" | sed 's/=:./=:A/')
[ "$bad_sig" = "${H[3]}" ] && bad_sig=$(printf '%s' "${H[3]}" | sed 's/=:./=:B/')
expect "a changed signature byte" 401 unauthenticated "${H[0]}" "${H[1]}" -H "$bad_sig" "$A/v1/accounts/$ACC"
"$CB" keygen stranger -o "$T/stranger.key" >/dev/null 2>&1
hdrs "$T/stranger.key" "$A/v1/accounts/$ACC"
expect "a key the ledger does not know" 401 unauthenticated "${H[@]}" "$A/v1/accounts/$ACC"
expect "a Signature-Input without Signature" 401 unauthenticated -H "${H[1]}" "$A/v1/accounts/$ACC"

# ---- the time window and replays ----
now=$(date +%s)
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC" --created $((now - 400)) --expires $((now - 100))
expect "an expired signature" 401 signature_expired "${H[@]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC" --created $((now + 600)) --expires $((now + 700))
expect "a signature from the future" 401 signature_expired "${H[@]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC" --created "$now" --expires $((now + 3600))
expect "a window over 300 s" 401 signature_expired "${H[@]}" "$A/v1/accounts/$ACC"
hdrs "$K/bank.issuer.key" "$A/v1/accounts/$ACC"
expect "a signed read" 200 "" "${H[@]}" "$A/v1/accounts/$ACC"
expect "the same signed read again: replayed" 401 replayed "${H[@]}" "$A/v1/accounts/$ACC"
KEEP=("${H[@]}") # replayed after the restart below

# ---- authorisation ----
sexpect() { # sexpect WHAT STATUS CODE KEYFILE URL: a freshly signed GET
    local what=$1 st=$2 code=$3 key=$4 url=$5
    hdrs "$key" "$url"
    expect "$what" "$st" "$code" "${H[@]}" "$url"
}
for p in "$ACC" "$ACC2" "$ACC/entries" "$ACC2/entries" "$ACC/bundle" "$ACC2/bundle"; do
    sexpect "issuer (bank) reads /v1/accounts/${p:0:8}…${p:64}" 200 "" "$K/bank.issuer.key" "$A/v1/accounts/$p"
done
sexpect "another member's issuer key (university) reads account 2" 200 "" "$K/university.issuer.key" "$A/v1/accounts/$ACC2"
sexpect "issuer reads the log" 200 "" "$K/bank.issuer.key" "$A/v1/entries?from=0&limit=3"
sexpect "node key reads the log" 200 "" "$K/bank.node.key" "$A/v1/entries/2"
sexpect "node key may not read an account" 403 forbidden "$K/bank.node.key" "$A/v1/accounts/$ACC"
for p in "$ACC" "$ACC/entries" "$ACC/bundle"; do
    sexpect "learner reads its own /v1/accounts/…${p:64}" 200 "" "$K/learner.key" "$A/v1/accounts/$p"
    q=${p/$ACC/$ACC2}
    sexpect "learner reads another learner's /v1/accounts/…${q:64}" 403 forbidden "$K/learner.key" "$A/v1/accounts/$q"
done
sexpect "learner 2 reads its own account" 200 "" "$T/learner2.key" "$A/v1/accounts/$ACC2"
sexpect "learner 2 reads learner 1's account" 403 forbidden "$T/learner2.key" "$A/v1/accounts/$ACC"
sexpect "learner reads the log" 403 forbidden "$K/learner.key" "$A/v1/entries?from=0&limit=3"
OPENIX=$(curl -s "$A/v1/ids/$OPENID" | jget index)
sexpect "learner reads its account.open (entry $OPENIX)" 200 "" "$K/learner.key" "$A/v1/entries/$OPENIX"
sexpect "learner reads the genesis entry" 403 forbidden "$K/learner.key" "$A/v1/entries/0"
sexpect "learner 2 reads an entry of learner 1's account" 403 forbidden "$T/learner2.key" "$A/v1/entries/$OPENIX"
sexpect "learner reads members" 200 "" "$K/learner.key" "$A/v1/members"
sexpect "learner reads the audit log" 403 forbidden "$K/learner.key" "$A/v1/audit"
sexpect "issuer reads a malformed account id: 400" 400 invalid_argument "$K/bank.issuer.key" "$A/v1/accounts/zz"
sexpect "learner reads a malformed account id: 403" 403 forbidden "$K/learner.key" "$A/v1/accounts/zz"

# ---- the CLI signs with --key or CREDBANK_KEY ----
check "account show --node without a key: unauthenticated" bash -c \
    "! env -u CREDBANK_KEY '$CB' account show $ACC --node '$A' 2>'$T/e' && grep -q unauthenticated '$T/e'"
check "account show --node --key (learner, own)" "$CB" account show "$ACC" --node "$A" --key "$K/learner.key" --json
check "account history --node --key (learner, own)" "$CB" account history "$ACC" --node "$A" --key "$K/learner.key" --json
check "export --node --key (learner, own bundle)" "$CB" export "$ACC" --node "$A" --key "$K/learner.key" -o "$T/own.cbx"
check "the exported bundle verifies" "$CB" verify "$T/own.cbx" --ledger "$(cat "$T/demo/ledger-id")"
check "account show of another account with the learner key: forbidden" bash -c \
    "! '$CB' account show $ACC2 --node '$A' --key '$K/learner.key' 2>'$T/e' && grep -q forbidden '$T/e'"
check "CREDBANK_KEY signs too (issuer reads account 2)" env CREDBANK_KEY="$K/bank.issuer.key" "$CB" account show "$ACC2" --node "$A" --json
check "members --node --key" "$CB" members --node "$A" --key "$K/university.issuer.key" --json

# ---- the audit log ----
sleep 0.3
"$CB" audit --dir "$T/n$N" --json > "$T/audit.json"
check "credbank audit --dir reads the log and its chain holds" test -s "$T/audit.json"
py_audit() { /usr/bin/python3 - "$T/audit.json" "$@" <<'PY'
import json, sys
recs = json.load(open(sys.argv[1]))["records"]
what = sys.argv[2]
if what == "results":
    print(" ".join(sorted({r["result"] for r in recs})))
elif what == "count":
    acct, who, result = sys.argv[3:6]
    print(sum(1 for r in recs if r["account"] == acct and r["who"] == who and r["result"] == result))
elif what == "seq":
    print(max(r["seq"] for r in recs))
elif what == "fields":
    ok = all(set(r) >= {"seq", "ts", "who", "key", "account", "path", "status", "result", "prev"} for r in recs)
    print("yes" if ok and recs else "no")
PY
}
check "every record has who, key, account, when, result" test "$(py_audit fields)" = yes
res=$(py_audit results)
for r in ok unauthenticated forbidden replayed signature_expired; do
    check "the audit log holds a '$r' result ($res)" bash -c "[[ ' $res ' == *' $r '* ]]"
done
check "the learner's reads of its own account are recorded" bash -c "[ $(py_audit count "$ACC" learner ok) -ge 3 ]"
check "the learner's refused reads of account 2 are recorded" bash -c "[ $(py_audit count "$ACC2" learner forbidden) -ge 3 ]"
check "the issuer's reads of account 2 are recorded" bash -c "[ $(py_audit count "$ACC2" issuer ok) -ge 3 ]"
"$CB" audit --dir "$T/n$N" --account "$ACC2" --json > "$T/a2.json"
check "audit --account keeps that account only" /usr/bin/python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))["records"]
sys.exit(0 if r and all(x["account"]==sys.argv[2] for x in r) else 1)' "$T/a2.json" "$ACC2"
check "audit --since in the future shows nothing" bash -c \
    "[ -z \"\$('$CB' audit --dir '$T/n$N' --since $((now + 3600)))\" ]"
check "audit (table) names the learner's reads" bash -c "'$CB' audit --dir '$T/n$N' --account $ACC | grep -q 'learner'"
check "audit --node with an issuer key" bash -c \
    "'$CB' audit --node '$A' --key '$K/bank.issuer.key' --account $ACC --json | grep -q '\"who\": \"learner\"'"
SEQ=$(py_audit seq)

# ---- /metrics on its own address ----
expect "/metrics is not on the API" 404 not_found "$A/metrics"
check "/metrics on the --metrics address" bash -c "curl -s 'http://127.0.0.1:${MP[$N]}/metrics' | grep -q '^credbank_log_size '"

# ---- restart: the log survives, pre-restart signatures are refused ----
kill -TERM "${PID[$N]}"; wait "${PID[$N]}" 2>/dev/null
sleep 1.1 # the restarted node's start is a later second than KEEP's created
start $N
for _ in $(seq 100); do curl -s -m 1 "$A/v1/status" >/dev/null && break; sleep 0.05; done
expect "a signature made before the restart is refused" 401 signature_expired "${KEEP[@]}" "$A/v1/accounts/$ACC"
for _ in $(seq 100); do
    c=$(scurl "$K/learner.key" -s -o /dev/null -w '%{http_code}' "$A/v1/accounts/$ACC"); [ "$c" = 200 ] && break; sleep 0.1
done
check "a fresh signed read after the restart" test "$c" = 200
"$CB" audit --dir "$T/n$N" --json > "$T/audit.json"
check "the audit log survived the restart, its chain intact" test -s "$T/audit.json"
check "records after the restart carry on the sequence" bash -c "[ $(py_audit seq) -gt $SEQ ]"
printf '{"torn' >> "$T/n$N/audit.jsonl"
check "a torn last record is reported" bash -c "! '$CB' audit --dir '$T/n$N' >/dev/null 2>'$T/e' && grep -q torn '$T/e'"
sed -i '2s/"status":[0-9]*/"status":299/' "$T/n$N/audit.jsonl"
check "a changed record breaks the chain (store_corrupt)" bash -c \
    "! '$CB' audit --dir '$T/n$N' >/dev/null 2>'$T/e' && grep -q store_corrupt '$T/e'"

check "no sanitizer report in the node logs (ASan builds)" bash -c \
    "! grep -l 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' '$T'/n*.log"

echo "auth: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
