#!/usr/bin/env bash
# faults/byzantine_diverge: two liars of three, beyond what the demo's
# quorum q = 2 tolerates (2q - n = 1 liar suffices to sign a lie). Node 1
# runs credbankd-faulty with seal_root,cosign_lie,skip_check (it leads,
# seals wrong roots, cosigns them and proposes its accomplice's cosigns
# unchecked), node 2 with cosign_lie; node 3 is honest. Expected (DESIGN 5,
# "Divergence"): node 3 refuses the seal, sees cosigns of a cosign quorum
# on it, stops applying, reports diverged in /v1/status and metrics and
# refuses writes; it never serves a final checkpoint holding the lie.
# Usage: bash byzantine_diverge.sh /path/to/credbank
NAME=byzantine_diverge
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/byzantine.bash"

check "credbankd-faulty is built" test -x "$DF"
# node 1 (election 300 ms; the others 2000 ms) wins the first election;
# its first seal (of the genesis) lies and both liars cosign it
start_node 1 seal_root,cosign_lie,skip_check 300
start_node 2 cosign_lie 2000
start_node 3 "" 2000
check "the liar (node 1) is elected first" wait_for 15 grep -q 'leader of term' "$T/n1.log"
div() { [ "$(sget 3 diverged)" = true ]; }
check "the honest node 3 reports diverged" wait_for 20 div
reason=$(status 3 | jf diverged_reason)
check "  ... because a seal it refused has a cosign quorum ($reason)" bash -c "[[ '$reason' == *seal_mismatch* ]]"
divmetric() { metrics 3 | grep -q '^credbank_diverged 1'; }
check "  ... and says so in its metrics" divmetric
s1=$(sget 3 size); sleep 1; s2=$(sget 3 size)
check "  ... and stops applying (size $s1 -> $s2)" test "$s1" = "$s2"
check "  ... with no seal applied and nothing final" bash -c "[ '$(sget 3 final)' = 0 ] && [ -z '$(sget 3 last_seal)' ]"
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(api 3)/v1/checkpoint")
check "  ... and no final checkpoint served (GET /v1/checkpoint -> $code)" test "$code" = 404
r=$(post 3 "$T/demo/entries/001-policy.set.cbe")
check "  ... and refuses writes: 503 diverged ($r)" bash -c "[[ '$r' == 503* && '$r' == *'\"diverged\"'* ]]"
for i in 1 2; do echo "     liar node $i: diverged $(sget $i diverged), final $(sget $i final), seal_mismatch $(rej $i seal_mismatch)"; done
check "no liar's ledger holds a seal either (their state machines are honest)" \
    bash -c "[ -z '$(sget 1 last_seal)' ] && [ -z '$(sget 2 last_seal)' ]"
stop_all
check "no sanitizer report or crash in the logs" \
    bash -c "! grep -h 'runtime error\|AddressSanitizer\|LeakSanitizer\|Segmentation\|Aborted' '$T'/n*.log"
summary
