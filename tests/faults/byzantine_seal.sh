#!/usr/bin/env bash
# faults/byzantine_seal: a leader that seals a wrong root. Node 1 runs
# credbankd-faulty with CREDBANK_FAULT=seal_root,cosign_lie: as leader its
# seals carry a wrong log_root, and it cosigns the seals its own ledger
# refused. Nodes 2 and 3 are honest. Expected (DESIGN 3.4, 5): every node
# refuses every such seal at apply (seal_mismatch), nobody cosigns it but
# the liar, nothing becomes final while the liar leads (safety before
# liveness), one liar's cosign is below the cosign quorum so no honest node
# reports divergence; once the liar stops, the honest two seal and finalise
# everything, and the liar, restarted honest, converges with them: its own
# ledger never held the lie either.
# Usage: bash byzantine_seal.sh /path/to/credbank
NAME=byzantine_seal
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/byzantine.bash"
B=$T/bad

check "credbankd-faulty is built" test -x "$DF"
mkdir -p "$B" "$T/keys2"
ACC=$(eid "$T/demo/entries/002-account.open.cbe")
deposit "$K/university.issuer.key" "$ACC" 1 "$B/dep1.cbe"
start_node 1 seal_root,cosign_lie 300 # the shortest election timeout: it leads first
for i in 2 3; do start_node $i "" 2000; done
check "the liar (node 1) leads" make_leader 1 1 2 3
start_collectors 1 2 3
r=$(post 1 "$T/demo/entries/002-account.open.cbe" "?wait=applied")
check "an entry is applied through the liar ($r)" bash -c "[[ '$r' == 200* ]]"
IDX=$(echo "${r#* }" | jf index)
sm() { [ "$(rej 1 seal_mismatch)" -gt 2 ] && [ "$(rej 2 seal_mismatch)" -gt 2 ] && [ "$(rej 3 seal_mismatch)" -gt 2 ]; }
check "nodes 1, 2, 3 each refuse the liar's seals at apply (seal_mismatch)" wait_for 10 sm
check "  ... the honest nodes' logs name body.log_root" bash -c "grep -q 'refused seal.*body.log_root' '$T/n2.log' && grep -q 'refused seal.*body.log_root' '$T/n3.log'"
check "the liar cosigned its refused seals (cosign_lie)" grep -q 'FAULT cosign_lie: cosigning' "$T/n1.log"
sleep 1
for i in 1 2 3; do
    check "node $i: no seal applied, nothing final, not diverged (one liar < quorum 2)" \
        bash -c "[ '$(sget $i final)' = 0 ] && [ -z '$(sget $i last_seal)' ] && [ '$(sget $i diverged)' = false ]"
done
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(api 2)/v1/checkpoint")
check "no final checkpoint is served (GET /v1/checkpoint -> $code)" test "$code" = 404

# ---- the liar stops: the honest two take over ----
kill -TERM "${PID[1]}"; wait "${PID[1]}" 2>/dev/null; unset "PID[1]"
L=$(wait_leader 2 3)
check "an honest leader is elected ($L)" test -n "$L"
fin() { [ "$(sget 2 final)" -gt "$IDX" ] && [ "$(sget 3 final)" -gt "$IDX" ]; }
check "the entry applied under the liar becomes final on nodes 2 and 3" wait_for 10 fin
r=$(post "${L:-2}" "$B/dep1.cbe")
check "a new entry is final ($r)" bash -c "[[ '$r' == 200*final* ]]"
start_node 1 "" 2000
check "the liar, restarted honest, converges with them" wait_conv 1 2 3
for i in 1 2 3; do check "node $i: not diverged, not failed" \
    bash -c "[ '$(sget $i diverged)' = false ] && [ '$(sget $i failed)' = false ]"; done
sleep 0.3
stop_collectors
check "history: final checkpoints consistent, no size with two roots" history_check 2
stop_all
check "no sanitizer report, crash or divergence in the logs" no_reports
summary
