#!/usr/bin/env bash
# faults/byzantine_leader: the leader is the liar. Node 1 runs
# credbankd-faulty with CREDBANK_FAULT=skip_check,cosign_forge,cosign_dup:
# it proposes through Raft every entry submitted to it, without its
# pre-check; it sends each of its cosigns twice, and those of every other
# seal carry a bad signature. Nodes 2 and 3 are honest. Every forbidden entry — a wrong-root
# seal by a member's node key, entries by a removed member's and by a
# rotated-out key, governance below quorum, an entry of another ledger — is
# refused at apply by every node (DESIGN 4: "dropped at apply by every node
# alike"): the submitter gets the rule's error, every node's
# credbank_rejections_total{code} grows, no node holds it; the forged and
# duplicate cosigns never count, finality goes on with the honest cosigns,
# nobody diverges, and the final checkpoints form one consistent history.
# Usage: bash byzantine_leader.sh /path/to/credbank
NAME=byzantine_leader
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/byzantine.bash"
B=$T/bad

check "credbankd-faulty is built" test -x "$DF"
prepare_entries
check "the entries are built" bash -c "[ -s '$B/foreign.cbe' ] && [ -s '$B/acc-new-key.cbe' ] && [ $FOREIGN_OK = 0 ]"

LIES=skip_check,cosign_forge,cosign_dup
start_node 1 "$LIES" 300 # the shortest election timeout: it leads first
for i in 2 3; do start_node $i "" 5000; done
check "the liar (node 1) leads" make_leader 1 1 2 3
check "its log says loudly that it lies" grep -q 'FAULT skip_check' "$T/n1.log"
start_collectors 1 2 3
REFUSED=()

# steer1: node 1 leads again. make_leader cannot do it here: an honest
# follower that heard from its leader refuses votes until its own (longer)
# election timer fires, and then runs itself. So the leader is paused and
# the other honest node restarted: it knows no leader and grants node 1's
# vote at once.
steer1() {
    local l o
    for _ in 1 2 3; do
        [ "$(leader 1)" = 1 ] && return 0
        l=$(wait_leader 2 3); [ -n "$l" ] || continue
        o=$(( l == 2 ? 3 : 2 ))
        applying $o || o=$l # the other one cut off (TLS, removed): restart the leader
        [ "$o" = "$l" ] || kill -STOP "${PID[$l]}"
        kill -TERM "${PID[$o]}"; wait "${PID[$o]}" 2>/dev/null
        start_node $o "" 5000
        wait_for 15 bash -c "[[ \"\$(curl -s -m 1 '$(api 1)/v1/status')\" == *'\"role\":\"leader\"'*'\"ready\":true'* ]]"
        kill -CONT "${PID[$l]}"
        echo "     steered leadership back to node 1 (paused $l, restarted $o)"
    done
    [ "$(wait_leader 1 2 3)" = 1 ]
}
# post_liar FILE [query]: to node 1, steered back to leadership if needed
post_liar() { [ "$(leader 1)" = 1 ] || steer1; post 1 "$@"; }
# refused_everywhere WHAT FILE STATUS CODE [query]
refused_everywhere() {
    local what=$1 f=$2 st=$3 code=$4 r b1 b2 b3
    b1=$(rej 1 "$code"); b2=$(rej 2 "$code"); b3=$(rej 3 "$code")
    r=$(post_liar "$f" "${5:-}")
    REFUSED+=("$f")
    if ! [[ "$r" == "$st "* && "$(echo "${r#* }" | jf error)" == "$code" ]]; then
        bad "$what: want $st $code from apply, got $r"; return
    fi
    grew() { [ "$(rej 1 "$code")" -gt "$b1" ] && [ "$(rej 2 "$code")" -gt "$b2" ] && { ! applying 3 || [ "$(rej 3 "$code")" -gt "$b3" ]; }; }
    if wait_for 10 grew; then ok "$what -> $st $code, refused at apply by nodes ${APPLYING[*]}"
    else bad "$what: rejections{$code} did not grow on every node ($b1 $b2 $b3 -> $(rej 1 "$code") $(rej 2 "$code") $(rej 3 "$code"))"; fi
}

# ---- forged and duplicate cosigns of the leader, proposed by itself ----
check "the learner's account.open is final (honest cosigns)" bash -c "[[ '$(post_liar "$T/demo/entries/002-account.open.cbe")' == 200*final* ]]"
fc() { local c i; for c in cosign_invalid cosign_duplicate; do for i in 1 2 3; do [ "$(rej $i $c)" -gt 0 ] || return 1; done; done; }
finals=0; n=3 # forged pairs and (genuine) duplicates, seal after seal
while [ $n -le 9 ]; do
    r=$(post_liar "$B/dep-u$n.cbe"); [[ "$r" == 200*final* ]] && finals=$((finals + 1))
    n=$((n + 1)); [ $n -gt 4 ] && wait_for 2 fc && break
done
check "entries through the liar are final nonetheless ($finals of $((n - 3)))" test "$finals" = $((n - 3))
check "the leader's forged cosigns (cosign_invalid) and second cosigns (cosign_duplicate) are refused at apply by nodes 1, 2, 3" wait_for 10 fc
cpverify() { "$CB" checkpoint --node "$(api $1)" --vkeys "$T/demo/vkeys" >/dev/null 2>&1; }
for i in 1 2 3; do
    check "node $i's final checkpoint note verifies against the members' node keys" cpverify $i
done

# ---- governance below quorum, proposed unchecked ----
for t in member.add member.update member.remove policy.set; do
    refused_everywhere "$t by one member of three" "$B/gov-$t.cbe" 403 quorum_not_met
done

# ---- a wrong-root seal by a member's node key, proposed unchecked ----
# (seals every 600 s from here: the member's seal is judged on its body)
check "seals every 600 s; a seal and a correct one built for index \${SEAL_AT:-?}" seal_prepare
refused_everywhere "a seal whose log_root is wrong, by university's node key" "$B/seal-wrong-root.cbe" 409 seal_mismatch
check "  ... the message names body.log_root" grep -q 'body.log_root' "$T/resp"
r=$(post_liar "$B/seal-good.cbe")
check "the correct seal by the same key is final (control; honest cosigns) ($r)" bash -c "[[ '$r' == 200*final* ]]"

# ---- a removed member's key, a rotated-out key, another ledger ----
check "member.remove provider by a quorum is applied" bash -c "[[ '$(post_liar "$B/remove-provider.cbe" "?wait=applied")' == 200* ]]"
removed_cut 3 # over TLS node 3 is cut off from here (byzantine.bash)
refused_everywhere "deposit by the removed provider's issuer key" "$B/dep-provider-removed.cbe" 403 author_not_authorised
refused_everywhere "a correct seal by the removed provider's node key" "$B/seal-removed.cbe" 403 author_not_authorised
check "key.rotate of the bank's issuer key is applied" bash -c "[[ '$(post_liar "$B/rotate-bank.cbe" "?wait=applied")' == 200* ]]"
refused_everywhere "account.open by the bank's rotated-out issuer key" "$B/acc-old-key.cbe" 403 author_not_authorised
refused_everywhere "account.open valid in a second consortium" "$B/foreign.cbe" 403 wrong_ledger
refused_everywhere "the second consortium's genesis" "$G2" 409 genesis_position

# ---- every node ----
check "the nodes that apply (${APPLYING[*]}) converge" wait_conv "${APPLYING[@]}"
check "no node holds any of the ${#REFUSED[@]} refused entries" absent_all 1 2 3 -- "${REFUSED[@]}"
for i in 1 2 3; do check "node $i: not diverged, not failed" \
    bash -c "[ '$(sget $i diverged)' = false ] && [ '$(sget $i failed)' = false ]"; done
sleep 0.3
stop_collectors
check "history: final checkpoints consistent, no size with two roots" history_check 2
stop_all
check "no sanitizer report, crash or divergence in the logs" no_reports
summary
