#!/usr/bin/env bash
# faults/byzantine_member: a lying member's entries against three honest
# credbankd (DESIGN 2, 3.4, 4): the leader's pre-check refuses each with its
# stable code, no node holds it, nothing of it becomes final. A seal with a
# wrong root signed by a member's node key; a forged cosign and a duplicate
# cosign (with a genuine cosign of the same member as the control); entries
# by a removed member's key and by a rotated-out key; member.add,
# member.update, member.remove and policy.set "*" below quorum; an entry of
# another ledger with the same keys. (byzantine_leader.sh sends the same
# entries through a lying leader that skips its pre-check.)
# Usage: bash byzantine_member.sh /path/to/credbank
NAME=byzantine_member
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/byzantine.bash"
B=$T/bad

check "the production credbankd has no fault injection compiled in" \
    bash -c "! grep -q CREDBANK_FAULT '$D'"
prepare_entries
check "the entries are built (and the foreign one applies to its own ledger)" \
    bash -c "[ -s '$B/foreign.cbe' ] && [ -s '$B/acc-new-key.cbe' ] && [ $FOREIGN_OK = 0 ]"

for i in 1 2 3; do start_node $i "" 1000; done
L=$(wait_leader 1 2 3)
check "a leader is elected" test -n "$L"
[ -n "$L" ] || exit 1
start_collectors 1 2 3
submit_ok "$T/demo/entries/001-policy.set.cbe"
check "the learner's account.open is final" submit_ok "$T/demo/entries/002-account.open.cbe"
REFUSED=()

# ---- cosigns: a member whose node is paused has not cosigned the newest
# seal; its forged cosign is refused, its genuine one accepted, a second
# genuine one (another nonce) refused as a duplicate ----
L=$(lead); F=$(( L % 3 + 1 ))
kill -STOP "${PID[$F]}"
L=$(lead)
check "entry while ${names[$F]}'s node is paused is final (cosigned by two)" submit_ok "$B/dep-u8.cbe"
S=$(sget $L last_seal)
curl -s -m 2 "$(api $L)/v1/checkpoint" | sed -n '1,3p' > "$T/cpbody"
check "the checkpoint is the one of the newest seal $S" test "$(sed -n 2p "$T/cpbody")" = "$((S + 1))"
SID=$(getentry $L "$S" | jf id)
good=$(sign_note "$K/${names[$F]}.node.key" "$T/cpbody")
forged=$(printf '%s' "$good" | "$PYTHON" -c 'import sys;s=bytearray.fromhex(sys.stdin.read().strip());s[0]^=1;print(s.hex())')
cosign_entry "$K/${names[$F]}.node.key" "$S" "$SID" "$forged" "$B/cosign-forged.cbe"
cosign_entry "$K/${names[$F]}.node.key" "$S" "$SID" "$good" "$B/cosign-good.cbe"
cosign_entry "$K/${names[$F]}.node.key" "$S" "$SID" "$good" "$B/cosign-dup.cbe"
lsig=$(sign_note "$K/${names[$L]}.node.key" "$T/cpbody")
cosign_entry "$K/${names[$L]}.node.key" "$S" "$SID" "$lsig" "$B/cosign-dup-leader.cbe"
expect_refused "forged cosign (bad signature) by ${names[$F]}'s node key" "$B/cosign-forged.cbe" 409 cosign_invalid
check "the same member's genuine cosign is applied (control)" submit_ok "$B/cosign-good.cbe" "?wait=applied"
expect_refused "a second genuine cosign of that seal by ${names[$F]} (another nonce)" "$B/cosign-dup.cbe" 409 cosign_duplicate
expect_refused "a second cosign of that seal by the leader's member ${names[$L]}" "$B/cosign-dup-leader.cbe" 409 cosign_duplicate
REFUSED+=("$B/cosign-forged.cbe" "$B/cosign-dup.cbe" "$B/cosign-dup-leader.cbe")
kill -CONT "${PID[$F]}"

# ---- governance below quorum (the author's member alone) ----
for t in member.add member.update member.remove policy.set; do
    expect_refused "$t by one member of three (quorum 2)" "$B/gov-$t.cbe" 403 quorum_not_met
    REFUSED+=("$B/gov-$t.cbe")
done

check "a later entry is final" submit_ok "$B/dep-u9.cbe"

# ---- a seal with a wrong root, signed by a member's node key (seals of
# the leader every 600 s from here: the member's seal is the next one) ----
check "seals every 600 s; a seal and a correct one built for index \${SEAL_AT:-?}" seal_prepare
expect_refused "a seal whose log_root is wrong, by university's node key" "$B/seal-wrong-root.cbe" 409 seal_mismatch
check "  ... the message names body.log_root" grep -q 'body.log_root' "$T/resp"
check "the correct seal by university's node key is final (control: cosigned by the nodes)" submit_ok "$B/seal-good.cbe"
REFUSED+=("$B/seal-wrong-root.cbe")
# From here no seal comes for 600 s: the controls below are applied, not
# final (a removed member's node that leads a static cluster would stall
# finality anyway: see spec/testing.md).

# ---- a removed member's key ----
check "provider's deposit before its removal is applied (control)" submit_ok "$B/dep-provider-ok.cbe" "?wait=applied"
check "member.remove provider by a quorum is applied" submit_ok "$B/remove-provider.cbe" "?wait=applied"
removed_cut 3 # over TLS node 3 is cut off from here (byzantine.bash)
expect_refused "deposit by the removed provider's issuer key" "$B/dep-provider-removed.cbe" 403 author_not_authorised
expect_refused "a correct seal by the removed provider's node key" "$B/seal-removed.cbe" 403 author_not_authorised
REFUSED+=("$B/dep-provider-removed.cbe" "$B/seal-removed.cbe")

# ---- a rotated-out key ----
check "key.rotate of the bank's issuer key is applied" submit_ok "$B/rotate-bank.cbe" "?wait=applied"
expect_refused "account.open by the bank's rotated-out issuer key" "$B/acc-old-key.cbe" 403 author_not_authorised
REFUSED+=("$B/acc-old-key.cbe")
check "account.open by the bank's new issuer key is applied (control)" submit_ok "$B/acc-new-key.cbe" "?wait=applied"

# ---- an entry of another ledger (same keys, other genesis) ----
expect_refused "account.open valid in a second consortium" "$B/foreign.cbe" 403 wrong_ledger
expect_refused "the second consortium's genesis" "$G2" 409 genesis_position
REFUSED+=("$B/foreign.cbe" "$G2")

# ---- every node: none of them in the log, converged, finality goes on ----
check "the nodes that apply (${APPLYING[*]}) converge" wait_conv "${APPLYING[@]}"
check "no node holds any of the ${#REFUSED[@]} refused entries" absent_all 1 2 3 -- "${REFUSED[@]}"
for i in 1 2 3; do check "node $i: not diverged, not failed" \
    bash -c "[ '$(sget $i diverged)' = false ] && [ '$(sget $i failed)' = false ]"; done
sleep 0.3
stop_collectors
check "history: final checkpoints consistent, no size with two roots" history_check $L
stop_all
check "no sanitizer report, crash or divergence in the logs" no_reports
summary
