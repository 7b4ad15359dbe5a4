#!/usr/bin/env bash
# Mutation audit of the governance, policy, seal and cosign rules
# (spec/state-machine.md "Governance entries", spec/checkpoints.md).
#
# A tool, not a ctest test (hence no .sh). It copies the tree into WORKDIR
# (never touching the source tree; SNAPSHOT/OVERLAY below say what is
# copied), removes or inverts one rule check at a time in the copy, rebuilds
# only the unit tests in TESTS, runs them, and records whether any failed.
#
#   nice -n 10 tests/mutation/gov.bash [-k] [WORKDIR] [ID...]
#
# WORKDIR defaults to /tmp/mut-gov (its build is wiped unless -k); with IDs
# only those mutants run (IDs are the first argument of each `m` below).
# TESTS overrides the test binaries, JOBS (default 2) the build's -j. About
# 20 s per mutant on a shared 2-core machine (157 mutants: ~50 minutes).
# Output: WORKDIR/results.tsv (id, verdict, failing tests, rule, file) and
# one line per mutant on stdout. Verdicts: killed; SURVIVED (write a test
# that fails on it); equivalent (survives by design, see EQUIVALENT);
# stale (the code to mutate is no longer there exactly once: update the
# mutation); build_error. Exit status 1 on SURVIVED, stale or build_error.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
keep=0
if [ "${1:-}" = -k ]; then keep=1; shift; fi
WORK=${1:-/tmp/mut-gov}
[ $# -gt 0 ] && shift
ONLY=("$@")
TESTS=${TESTS:-"test_gov test_seal test_apply test_determinism test_batch test_bundle"}
JOBS=${JOBS:-2}
# SNAPSHOT=head (default): the copy is HEAD plus the work tree's OVERLAY
# paths (others' half-done edits elsewhere stay out); SNAPSHOT=worktree:
# every tracked and untracked, non-ignored file as in the work tree.
SNAPSHOT=${SNAPSHOT:-head}
OVERLAY=${OVERLAY:-"ledger/auth.c ledger/gov.c ledger/policy.c ledger/seal.c ledger/ledger.c ledger/keyinfo.c ledger/sm.h tests/unit"}
PY=/usr/bin/python3
# Mutants no test can kill: a member's keys leave force with it
# (member.remove), so "the key is in force" already implies "its member is
# in force" wherever the code checks both; the member checks stay as a
# second line of defence.
EQUIVALENT="author.member_in_force quorum.member_in_force rotate.member_in_force"

ids=() files=() froms=() tos=() rules=()
# m ID FILE RULE FROM TO: in FILE, replace the one occurrence of FROM by TO.
m() { ids+=("$1"); files+=("$2"); rules+=("$3"); froms+=("$4"); tos+=("$5"); }
NL=$'\n'

# ---- authority, signatures, quorums (ledger/auth.c) ----
A=ledger/auth.c
m key.valid $A "a new key must be a valid Ed25519 key (bad_key)" \
  'if (cy_pk_check(pk) != 0)' 'if (0)'
m key.unused $A "a new key must never have been used (key_used)" \
  'return SM_FAIL(c, CB_EKEYUSED, "%s %s…: key already used", what, hex);' 'return 0;'
m author.unknown $A "an unknown author key is author_not_authorised" \
  'if (rv == CB_ENOTFOUND || (rv == 0 && (c->author.kind != kind ||' \
  'if ((rv == 0 && (c->author.kind != kind ||'
m author.kind $A "author key of the kind the type needs (issuer/node)" \
  '(c->author.kind != kind ||' '(0 ||'
m author.in_force $A "author key in force" \
  '!c->author.in_force)))' '0)))'
m author.member_in_force $A "author's member in force" \
  'if (!c->member.in_force)' 'if (0)'
m author.role $A "author's member holds the role" \
  'if (roles != 0 && (c->member.roles & roles) == 0) {' 'if (0) {'
m sig.all_used $A "no signer the rule does not account for (signer_not_allowed)" \
  'if (!c->used[i]) {' 'if (0) {'
m quorum.gov_explicit $A "an explicit governance_quorum is used (not the default)" \
  'return m->governance_quorum ? m->governance_quorum : n / 2 + 1;' 'return n / 2 + 1;'
m quorum.gov_default $A "default governance quorum floor(n/2)+1" \
  ': n / 2 + 1;' ': n / 2;'
m quorum.cosign_explicit $A "an explicit cosign_quorum is used (not the default)" \
  'return m->cosign_quorum ? m->cosign_quorum : 2 * n / 3 + 1;' 'return 2 * n / 3 + 1;'
m quorum.cosign_default $A "default cosign quorum floor(2n/3)+1" \
  ': 2 * n / 3 + 1;' ': 2 * n / 3 + 2;'
m bounds.n0 $A "at least one member remains" \
  'if (n == 0)' 'if (0)'
m bounds.gov_low $A "governance quorum > n/2" \
  'if (!(2 * g > n && g <= n))' 'if (!(g <= n))'
m bounds.gov_low_edge $A "governance quorum > n/2 (strict)" \
  'if (!(2 * g > n && g <= n))' 'if (!(2 * g >= n && g <= n))'
m bounds.gov_high $A "governance quorum <= n" \
  'if (!(2 * g > n && g <= n))' 'if (!(2 * g > n))'
m bounds.cosign_low $A "cosign quorum > n/2" \
  'if (!(2 * s > n && s <= n))' 'if (!(s <= n))'
m bounds.cosign_low_edge $A "cosign quorum > n/2 (strict)" \
  'if (!(2 * s > n && s <= n))' 'if (!(2 * s >= n && s <= n))'
m bounds.cosign_high $A "cosign quorum <= n" \
  'if (!(2 * s > n && s <= n))' 'if (!(2 * s > n))'
m bounds.cosign_100 $A "cosign quorum <= 100 (note lines)" \
  'if (s > LG_BUNDLE_NOTE_LINES)' 'if (0)'
m bounds.cosign_100_edge $A "cosign quorum <= 100 (100 allowed)" \
  'if (s > LG_BUNDLE_NOTE_LINES)' 'if (s >= LG_BUNDLE_NOTE_LINES)'
m quorum.issuer_only $A "only issuer keys count toward a quorum" \
  'if (k.kind != SM_KEY_ISSUER || !k.in_force)' 'if (!k.in_force)'
m quorum.key_in_force $A "only keys in force count toward a quorum" \
  'if (k.kind != SM_KEY_ISSUER || !k.in_force)' 'if (k.kind != SM_KEY_ISSUER)'
m quorum.member_in_force $A "only members in force count toward a quorum" \
  "        if (!m.in_force)${NL}            continue;" "        if (0)${NL}            continue;"
m quorum.distinct $A "several keys of one member count once" \
  'dup = strcmp(seen[j], k.member) == 0;' 'dup = false;'
m quorum.threshold $A "at least q members signed (quorum_not_met)" \
  'if (nseen < q)' 'if (nseen + 1 < q)'
m quorum.n_before $A "quorum of the members in force before the entry" \
  'uint64_t q = sm_gov_quorum(c->meta, c->meta->members);' \
  'uint64_t q = sm_gov_quorum(c->meta, c->meta->members - 1);'
m member.name_valid $A "member name 1-64 of A-Za-z0-9._-" \
  '!cy_name_valid(m->name))' '0)'
m member.roles_empty $A "member roles non-empty" \
  'return SM_FAIL(c, CB_EVALUE, "%s.roles: empty", where);' '(void)0;'
m member.role_repeat $A "member roles without repeats" \
  'if (m->roles & (uint32_t)r)' 'if (0)'
m member.issuers_empty $A "member issuers non-empty" \
  'if (ni == 0 || ni > SM_MAX_ISSUERS)' 'if (ni > SM_MAX_ISSUERS)'
m member.issuer_repeat $A "member issuers without repeats" \
  'if (memcmp(m->issuers[j], k->via.bin.ptr, 32) == 0)' 'if (0)'
m member.issuer_is_node $A "an issuer key differs from the node key" \
  'if (memcmp(m->node, k->via.bin.ptr, 32) == 0)' 'if (0)'

# ---- governance entries (ledger/gov.c) ----
G=ledger/gov.c
m fresh.name $G "a member name is never used again (name_used)" \
  "    if (rv == 0)${NL}        return SM_FAIL(c, CB_ENAMEUSED" \
  "    if (0)${NL}        return SM_FAIL(c, CB_ENAMEUSED"
m fresh.node_key $G "a new node key never used" \
  'if ((rv = sm_key_fresh(c, m->node, "node key")) != 0)' 'if (0)'
m fresh.issuer_key $G "new issuer keys never used" \
  'if ((rv = sm_key_fresh(c, m->issuers[i], "issuer key")) != 0)' 'if (0)'
m sigs.new_node $G "the new node key signs (genesis, member.add)" \
  'int rv = sm_sig_require(c, m->node, "new node key");' \
  'int rv = (sm_sig_allow(c, m->node), 0);'
m sigs.new_issuer $G "the new issuer keys sign (genesis, member.add)" \
  'rv = sm_sig_require(c, m->issuers[i], "new issuer key");' \
  'rv = (sm_sig_allow(c, m->issuers[i]), 0);'
m genesis.position $G "genesis only at index 0 of an empty ledger" \
  'if (c->meta->has_genesis || c->index != 0)' 'if (0)'
m genesis.refs $G "genesis refs empty" \
  'if (sm_refs(c, 0) != 0)' 'if (0)'
m genesis.origin $G "origin is printable ASCII without spaces" \
  'if (o->via.str.ptr[i] < 0x21 || o->via.str.ptr[i] > 0x7e)' 'if (0)'
m genesis.origin_empty $G "origin not empty" \
  'if (o->via.str.size < 1 || o->via.str.size > 255)' 'if (o->via.str.size > 255)'
m genesis.policy $G "the genesis policy is a valid * policy" \
  'if ((rv = sm_policy_validate(policy, true, c->err)) != 0)' 'if (0)'
m genesis.policy_star $G "the genesis policy has every * field" \
  'sm_policy_validate(policy, true, c->err)' 'sm_policy_validate(policy, false, c->err)'
m genesis.members_empty $G "genesis has at least one member" \
  'if (n == 0 || n > SM_MAX_MEMBERS)' 'if (n > SM_MAX_MEMBERS)'
m genesis.names_distinct $G "founder names distinct" \
  'if (strcmp(ms[i].name, ms[j].name) == 0)' 'if (0)'
m genesis.keys_distinct $G "founder keys distinct" \
  'if (memcmp(ki[a], kj[b], 32) == 0)' 'if (0)'
m genesis.author_issuer $G "genesis author is a founder's issuer key (not a node key)" \
  'if (memcmp(ms[i].issuers[a], c->e->author, 32) == 0)' \
  'if (memcmp(ms[i].issuers[a], c->e->author, 32) == 0 || memcmp(ms[i].node, c->e->author, 32) == 0)'
m genesis.author_founder $G "genesis author is a founder's key" \
  'if (!author_found)' 'if (0)'
m genesis.sigs $G "every founder key signs genesis" \
  'if ((rv = require_member_sigs(c, &ms[i])) != 0)' \
  'if ((rv = (require_member_sigs(c, &ms[i]), 0)) != 0)'
m genesis.bounds $G "genesis quorums valid for n founders" \
  'if ((rv = sm_quorum_bounds(c, n)) != 0)' 'if (0)'
m genesis.members_count $G "genesis writes members = n" \
  'c->meta->members = n;' 'c->meta->members = n + 1;'
m genesis.origin_default $G "default origin credbank/<16 hex of the ledger id>" \
  'cy_hex(hex, c->e->id, 8);' 'cy_hex(hex, c->e->id + 1, 8);'
m add.author $G "member.add author: an issuer key in force of a member in force" \
  "{\"member\", LG_MAP, 0, false, &member}};${NL}    int rv;${NL}    if ((rv = sm_author_issuer(c, 0)) != 0" \
  "{\"member\", LG_MAP, 0, false, &member}};${NL}    int rv;${NL}    if ((rv = (c->used[0] = true, 0)) != 0"
m add.refs $G "member.add refs empty" \
  "(rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = sm_member_decode(c, member" \
  "(rv = 0) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = sm_member_decode(c, member"
m add.quorum $G "member.add needs the quorum" \
  "(rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = sm_member_decode(c, member" \
  "(rv = (sm_quorum(c), 0)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = sm_member_decode(c, member"
m add.fresh $G "member.add: name and keys never used" \
  '(rv = fresh_member(c, &m, "body.member")) != 0 ||' '(rv = 0) != 0 ||'
m add.sigs $G "member.add: every key of the new member signs" \
  '(rv = require_member_sigs(c, &m)) != 0 ||' '(rv = (require_member_sigs(c, &m), 0)) != 0 ||'
m add.bounds $G "member.add: quorums valid for n + 1" \
  '(rv = sm_quorum_bounds(c, c->meta->members + 1)) != 0)' '(rv = 0) != 0)'
m add.keys_put $G "member.add registers the new keys" \
  'if ((rv = sm_member_put(c, &m)) != 0 || (rv = put_member_keys(c, &m)) != 0)' \
  'if ((rv = sm_member_put(c, &m)) != 0)'
m add.count $G "member.add: members + 1" \
  "    c->meta->members++;" "    (void)0;"
m named.in_force $G "member.update/remove name a member in force" \
  'if (!m->in_force)' 'if (0)'
m update.author $G "member.update author: an issuer key in force" \
  "{\"roles\", LG_ARRAY, 0, false, &roles},${NL}    };${NL}    int rv;${NL}    if ((rv = sm_author_issuer(c, 0)) != 0" \
  "{\"roles\", LG_ARRAY, 0, false, &roles},${NL}    };${NL}    int rv;${NL}    if ((rv = (c->used[0] = true, 0)) != 0"
m update.quorum $G "member.update needs the quorum" \
  "(rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0)${NL}        return rv;${NL}    uint32_t bits" \
  "(rv = (sm_quorum(c), 0)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0)${NL}        return rv;${NL}    uint32_t bits"
m update.refs $G "member.update refs empty" \
  "(rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0)${NL}        return rv;${NL}    uint32_t bits" \
  "(rv = 0) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0)${NL}        return rv;${NL}    uint32_t bits"
m update.roles_empty $G "member.update roles non-empty" \
  'return SM_FAIL(c, CB_EVALUE, "body.roles: empty");' '(void)0;'
m update.role_repeat $G "member.update roles without repeats" \
  'if (r < 0 || (bits & (uint32_t)r))' 'if (r < 0)'
m update.write $G "member.update writes the roles" \
  '    m.roles = bits;' '    (void)bits;'
m remove.author $G "member.remove author: an issuer key in force" \
  "{\"name\", LG_STR, 0, false, &name}};${NL}    int rv;${NL}    if ((rv = sm_author_issuer(c, 0)) != 0" \
  "{\"name\", LG_STR, 0, false, &name}};${NL}    int rv;${NL}    if ((rv = (c->used[0] = true, 0)) != 0"
m remove.quorum $G "member.remove needs the quorum" \
  "(rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0 ||" \
  "(rv = (sm_quorum(c), 0)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0 ||"
m remove.refs $G "member.remove refs empty" \
  "(rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0 ||" \
  "(rv = 0) != 0 || (rv = sm_quorum(c)) != 0)${NL}        return rv;${NL}    struct sm_member m;${NL}    if ((rv = named_member(c, name, &m)) != 0 ||"
m remove.bounds $G "member.remove: quorums valid for n - 1" \
  '(rv = sm_quorum_bounds(c, c->meta->members - 1)) != 0)' '(rv = 0) != 0)'
m remove.keys_out $G "member.remove takes the member's keys out of force" \
  "        k.in_force = 0;${NL}        if ((rv = sm_key_put(c, keys[i], &k)) != 0)" \
  "        k.in_force = 1;${NL}        if ((rv = sm_key_put(c, keys[i], &k)) != 0)"
m remove.member_out $G "member.remove marks the member out of force" \
  '    m.in_force = 0;' '    m.in_force = 1;'
m remove.count $G "member.remove: members - 1" \
  '    c->meta->members--;' '    (void)0;'
m rotate.refs $G "key.rotate refs empty" \
  'if ((rv = sm_body(c, f, 3)) != 0 || (rv = sm_refs(c, 0)) != 0)' \
  'if ((rv = sm_body(c, f, 3)) != 0)'
m rotate.use $G "key.rotate use is node or issuer" \
  'else if (lg_is_str(use, "issuer"))' 'else if (1)'
m rotate.author_is_old $G "key.rotate authored by the old key (body.old)" \
  'if (memcmp(old->via.bin.ptr, c->e->author, 32) != 0)' 'if (0)'
m rotate.unknown $G "key.rotate: an unknown old key is key_not_in_force" \
  'if (rv == CB_ENOTFOUND || (rv == 0 && (k.kind != kind || !k.in_force)))' \
  'if ((rv == 0 && (k.kind != kind || !k.in_force)))'
m rotate.kind $G "key.rotate: old key of the kind use names" \
  '(k.kind != kind || !k.in_force)))' '(!k.in_force)))'
m rotate.in_force $G "key.rotate: old key in force" \
  '(k.kind != kind || !k.in_force)))' '(k.kind != kind)))'
m rotate.member_in_force $G "key.rotate: old key's member in force" \
  'if (!m.in_force)' 'if (0)'
m rotate.fresh $G "key.rotate: new key valid and never used" \
  'if ((rv = sm_key_fresh(c, npk, "body.new")) != 0 ||' 'if ((rv = 0) != 0 ||'
m rotate.sig $G "key.rotate: the new key signs" \
  '(rv = sm_sig_require(c, npk, "new key")) != 0)' '(rv = (sm_sig_allow(c, npk), 0)) != 0)'
m rotate.old_out $G "key.rotate takes the old key out of force" \
  "    k.in_force = 0;${NL}    if ((rv = sm_key_put(c, c->e->author, &k)) != 0)" \
  "    k.in_force = 1;${NL}    if ((rv = sm_key_put(c, c->e->author, &k)) != 0)"
m rotate.node_write $G "key.rotate (node) replaces the member's node key" \
  '        memcpy(m.node, npk, 32);' '        (void)0;'
m rotate.issuer_write $G "key.rotate (issuer) replaces the member's issuer key" \
  '                memcpy(m.issuers[i], npk, 32);' '                (void)0;'
m policy.author $G "policy.set author: an issuer key in force" \
  "{\"scope\", LG_STR, 0, false, &scope},${NL}    };${NL}    int rv;${NL}    if ((rv = sm_author_issuer(c, 0)) != 0" \
  "{\"scope\", LG_STR, 0, false, &scope},${NL}    };${NL}    int rv;${NL}    if ((rv = (c->used[0] = true, 0)) != 0"
m policy.refs $G "policy.set refs empty" \
  "(rv = sm_refs(c, 0)) != 0)${NL}        return rv;${NL}    bool star" "(rv = 0) != 0)${NL}        return rv;${NL}    bool star"
m policy.star_quorum $G "policy.set scope * needs the quorum" \
  "        if ((rv = sm_quorum(c)) != 0)${NL}            return rv;" \
  "        if ((rv = (sm_quorum(c), 0)) != 0)${NL}            return rv;"
m policy.scope $G "policy.set scope is * or the author's member" \
  '} else if (!lg_is_str(scope, c->member.name)) {' '} else if (0) {'
m policy.validate $G "policy.set: the policy is valid" \
  'if ((rv = sm_policy_validate(policy, star, c->err)) != 0)' 'if (0)'
m policy.validate_member_full $G "policy.set: a member policy may give any subset" \
  'sm_policy_validate(policy, star, c->err)' 'sm_policy_validate(policy, true, c->err)'
m policy.validate_star_partial $G "policy.set: the * policy has every field" \
  'sm_policy_validate(policy, star, c->err)' 'sm_policy_validate(policy, false, c->err)'

# ---- policy validation and overlay (ledger/policy.c) ----
P=ledger/policy.c
for k in degrees:MAP fees:MAP seal_interval_ms:UINT sources:MAP; do
  m "pv.star_${k%:*}" $P "the * policy has ${k%:*}" \
    "{\"${k%:*}\", LG_${k#*:}, 0, !star," "{\"${k%:*}\", LG_${k#*:}, 0, true,"
done
m pv.unknown_source $P "policy sources are known sources" \
  'if (s < 0)' 'if (0 && s < 0)'
m pv.min_attendance $P "min_attendance 0-100" \
  '(f[3] && f[3]->via.u64 > 100) ||' '0 ||'
m pv.min_grade $P "min_grade 0-100" \
  '|| (f[4] && f[4]->via.u64 > 100))' '|| 0)'
m pv.degree_name $P "degree names non-empty" \
  'if (kv->key.via.str.size == 0)' 'if (0)'
for k in general major total; do
  m "pv.degree_$k" $P "a degree gives $k" \
    "{\"$k\", LG_UINT, 0, false," "{\"$k\", LG_UINT, 0, true,"
done
for k in account_open link_free_credits per_credit; do
  m "pv.fees_$k" $P "the * policy's fees give $k" \
    "{\"$k\", LG_UINT, 0, !star," "{\"$k\", LG_UINT, 0, true,"
done
m pv.currency_star_only $P "only the * policy sets fees.currency" \
  'if (!star && f[1] != NULL)' 'if (0)'
m pv.currency_empty $P "fees.currency non-empty" \
  'if (star && f[1]->via.str.size == 0)' 'if (0)'
m ov.default_revocable $P "learner_revocable defaults to true" \
  'p->sources[s].learner_revocable = true;' 'p->sources[s].learner_revocable = false;'
m ov.member_ignored $P "the member's policy is laid over the * policy" \
  'if (member != NULL && strcmp(member, "*") != 0) {' 'if (0) {'
m ov.fees_whole $P "fees laid over field by field (not replaced whole)" \
  'if (lg_is_str(&kv->key, "fees")) {' \
  'if (lg_is_str(&kv->key, "fees")) { p->has_account_open = p->has_per_credit = p->has_link_free_credits = false; p->account_open = p->per_credit = p->link_free_credits = 0;'
m ov.source_whole $P "sources.S laid over field by field (not replaced whole)" \
  'struct sm_source_policy *sp = &p->sources[src];' \
  'struct sm_source_policy *sp = &p->sources[src]; memset(sp, 0, sizeof *sp); sp->learner_revocable = true;'
m ov.sources_whole $P "sources laid over per source (not the map replaced whole)" \
  "        } else if (lg_is_str(&kv->key, \"sources\")) {" \
  "        } else if (lg_is_str(&kv->key, \"sources\")) { for (int z = 0; z < SM_SRC__COUNT; z++) { memset(&p->sources[z], 0, sizeof p->sources[z]); p->sources[z].learner_revocable = true; }"
m ov.account_open $P "overlay of fees.account_open" \
  'lg_is_str(&f->key, "account_open")' 'lg_is_str(&f->key, "account_openX")'
m ov.per_credit $P "overlay of fees.per_credit" \
  'lg_is_str(&f->key, "per_credit")' 'lg_is_str(&f->key, "per_creditX")'
m ov.link_free $P "overlay of fees.link_free_credits" \
  'lg_is_str(&f->key, "link_free_credits")' 'lg_is_str(&f->key, "link_free_creditsX")'
m ov.seal_interval $P "overlay of seal_interval_ms" \
  'lg_is_str(&kv->key, "seal_interval_ms")' 'lg_is_str(&kv->key, "seal_interval_msX")'
for i in 0 1 2 3 4; do
  m "ov.source_field$i" $P "overlay of sources.S.(field $i: appealable, learner_revocable, max_credits, min_attendance, min_grade)" \
    "lg_is_str(&f->key, source_fields[$i])" "lg_is_str(&f->key, \"none\")"
done
m ov.degree_member $P "degrees.D of the member's policy first" \
  "    if (member != NULL) {${NL}        rv = load(c->l" "    if (0) {${NL}        rv = load(c->l"
m ov.degree_star $P "degrees.D of the * policy when the member's has none" \
  'if (rv == 0 && !found) {' 'if (0) {'

# ---- seals and cosigns (ledger/seal.c) ----
S=ledger/seal.c
m seal.partial $S "a partial ledger applies no seal" \
  "    if (c->l->partial)${NL}        return SM_FAIL(c, CB_ESEAL" "    if (0)${NL}        return SM_FAIL(c, CB_ESEAL"
m seal.author $S "seal author: a node key in force of a member in force" \
  'if ((rv = sm_author_node(c)) != 0 ||' 'if ((rv = (c->used[0] = true, 0)) != 0 ||'
m seal.refs $S "seal refs empty" \
  "(rv = sm_refs(c, 0)) != 0)${NL}        return rv;${NL}    struct sm_meta *m" "(rv = 0) != 0)${NL}        return rv;${NL}    struct sm_meta *m"
m seal.empty $S "an entry other than seal/cosign since the last seal" \
  'if (m->since_seal == 0)' 'if (0)'
m seal.ts $S "seal ts not below the previous seal's" \
  'if (m->has_seal && c->e->ts < m->last_seal_ts)' 'if (0)'
m seal.ts_equal $S "seal ts equal to the previous seal's allowed" \
  'if (m->has_seal && c->e->ts < m->last_seal_ts)' 'if (m->has_seal && c->e->ts <= m->last_seal_ts)'
for i in 0 1 2 3 4 5; do
  m "seal.body$i" $S "seal body field $i (accounts, accounts_root, governance, governance_chain, log_root, size) equals the computed one" \
    '    for (int i = 0; i < 6; i++) {' "    for (int i = 0; i < 6; i++) { if (i == $i) continue;"
done
m seal.flush $S "the account tree is flushed before a seal is judged" \
  'if ((rv = sm_acctree_flush(c->l, c->txn, m, *c->dirty, *c->ndirty)) != 0)' 'if (0)'
m seal.quorum_record $S "the seal records the cosign quorum in force" \
  's->cosign_quorum = (uint32_t)sm_cosign_quorum(m, m->members);' \
  's->cosign_quorum = (uint32_t)sm_cosign_quorum(m, m->members) + 1;'
m seal.members_in_force $S "the seal records the members in force only" \
  "        if (!mem.in_force)${NL}            continue;" "        if (0)${NL}            continue;"
m seal.since_reset $S "a seal resets since_seal" \
  '    m->since_seal = 0;' '    (void)0;'
m seal.ts_record $S "a seal records its ts" \
  '    m->last_seal_ts = c->e->ts;' '    (void)0;'
m cosign.partial $S "a partial ledger applies no cosign" \
  "    if (c->l->partial)${NL}        return SM_FAIL(c, CB_ECOSIGN" "    if (0)${NL}        return SM_FAIL(c, CB_ECOSIGN"
m cosign.refs $S "cosign has exactly one ref" \
  '(rv = sm_refs(c, 1)) != 0)' '(rv = sm_refs(c, c->e->nrefs >= 1 ? SIZE_MAX : 1)) != 0)'
m cosign.author $S "cosign author: the node key at the seal of a member in force then" \
  'if (memcmp(s->m[i].node, c->e->author, 32) == 0)' 'if (1)'
m cosign.ref_is_seal $S "cosign refs[0] is the seal's id" \
  'if (memcmp(lg_entry_ref(c->e, 0), s->id, 32) != 0) {' 'if (0) {'
m cosign.dup $S "one cosign per member per seal" \
  'if (who->cosigned) {' 'if (0) {'
m cosign.sig $S "cosign sig verifies over the checkpoint body" \
  'if (cy_verify((const uint8_t *)sig->via.bin.ptr, text, len, who->node) !=' \
  'if (0 && cy_verify((const uint8_t *)sig->via.bin.ptr, text, len, who->node) !='
m final.threshold $S "final at cosign_quorum cosigns" \
  'if (!s->final && s->ncosigns >= s->cosign_quorum) {' 'if (!s->final && s->ncosigns > s->cosign_quorum) {'
m final.monotonic $S "final_seal never moves back" \
  'if (!c->meta->has_final || at > c->meta->final_seal) {' 'if (1) {'

# ---- the apply loop (ledger/ledger.c) ----
L=ledger/ledger.c
m loop.genesis_first $L "nothing applies before genesis" \
  "        if (!m->has_genesis)${NL}            return SM_FAIL(c, CB_EGENESIS" \
  "        if (0)${NL}            return SM_FAIL(c, CB_EGENESIS"
m loop.ledger_id $L "entry.ledger is this ledger's id" \
  'if (memcmp(e->ledger, m->ledger_id, 32) != 0)' 'if (0)'
m loop.signers $L "every signature accounted for after the handler" \
  'if ((rv = sm_sig_all_used(c)) != 0)' 'if (0)'
m loop.gov_count $L "governance entries counted" \
  '        m->governance++;' '        (void)0;'
m loop.gov_chain $L "governance chain extended" \
  '        chain_step(m->governance_chain, c->leaf_hash);' '        (void)0;'
m loop.since_seal $L "cosigns do not count toward since_seal" \
  'if (e->type != LG_T_SEAL && e->type != LG_T_COSIGN)' 'if (e->type != LG_T_SEAL)'

# ---- run ----
mkdir -p "$WORK"
if [ $keep = 0 ]; then rm -rf "$WORK/src" "$WORK/build"; fi
rm -rf "$WORK/src"
mkdir -p "$WORK/src"
if [ "$SNAPSHOT" = worktree ]; then
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
     tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -C "$WORK/src" -xf - || exit 2
else # HEAD, then the work tree's copies of the OVERLAY paths
  git -C "$SRC" archive HEAD | tar -C "$WORK/src" -xf - || exit 2
  for p in $OVERLAY; do
    [ -e "$SRC/$p" ] && (cd "$SRC" && tar -cf - "$p") | tar -C "$WORK/src" -xf -
  done
fi
# a mutant may leave a variable unused: warnings are not errors here
sed -i 's/ -Werror / /' "$WORK/src/CMakeLists.txt"
cd "$WORK/src" || exit 2
# the copies keep their mtimes: make a kept (-k) build recompile the files
# the last run mutated
touch ledger/*.c
mkdir -p "$WORK/orig/ledger"
cp ledger/*.c "$WORK/orig/ledger/"
if [ ! -f "$WORK/build/CMakeCache.txt" ]; then
  cmake -S . -B "$WORK/build" -DCMAKE_BUILD_TYPE=Debug >"$WORK/configure.log" 2>&1 ||
    { echo "configure failed: $WORK/configure.log"; exit 2; }
fi
build() { cmake --build "$WORK/build" -j"$JOBS" --target $TESTS >"$1" 2>&1; }
runtests() { # prints the failing test binaries and tests; 0 if all pass
  local bad="" t
  for t in $TESTS; do
    if ! (cd "$WORK/build" && timeout 300 "./$t" --jobs 1 >"$WORK/log/$t.out" 2>&1); then
      local which
      which=$(grep -oE '\[FAIL\] [^ :]+::[^ :]+' "$WORK/log/$t.out" |
              sed -E 's/\[FAIL\] //' | sort -u | tr '\n' ' ')
      [ -n "$which" ] || which="no test named: exit or timeout"
      bad+="$t(${which% }) "
    fi
  done
  printf '%s' "$bad"
  [ -z "$bad" ]
}
mkdir -p "$WORK/log"
echo "baseline build..."
build "$WORK/log/build-base.log" || { echo "baseline build failed: $WORK/log/build-base.log"; exit 2; }
if ! base=$(runtests); then echo "baseline fails: $base"; exit 2; fi

out="$WORK/results.tsv"
printf 'id\tverdict\tkilled_by\trule\tfile\n' >"$out"
nsurv=0 nstale=0 nkill=0 nequiv=0
for i in "${!ids[@]}"; do
  id=${ids[$i]} file=${files[$i]}
  if [ ${#ONLY[@]} -gt 0 ] && ! printf '%s\n' "${ONLY[@]}" | grep -qx "$id"; then continue; fi
  cp "$WORK/orig/$file" "$file"
  FROM=${froms[$i]} TO=${tos[$i]} $PY - "$file" <<'PYEOF'
import os, sys
p = sys.argv[1]; s = open(p, encoding="utf-8").read()
f, t = os.environ["FROM"], os.environ["TO"]
n = s.count(f)
if n != 1:
    sys.exit(3)
open(p, "w", encoding="utf-8").write(s.replace(f, t))
PYEOF
  rc=$?
  if [ $rc != 0 ]; then
    verdict=stale killers="" ; nstale=$((nstale + 1))
  elif ! build "$WORK/log/build-$id.log"; then
    verdict=build_error killers="see log/build-$id.log"; nstale=$((nstale + 1))
  elif killers=$(runtests); then
    if [[ " $EQUIVALENT " == *" $id "* ]]; then
      verdict=equivalent killers=""; nequiv=$((nequiv + 1))
    else
      verdict=SURVIVED killers=""; nsurv=$((nsurv + 1))
    fi
  else
    verdict=killed; nkill=$((nkill + 1))
  fi
  cp "$WORK/orig/$file" "$file"
  printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$verdict" "${killers% }" "${rules[$i]}" "$file" >>"$out"
  printf '%-26s %-9s %s\n' "$id" "$verdict" "${killers% }"
done
build "$WORK/log/build-restore.log" >/dev/null 2>&1
echo "killed $nkill, survived $nsurv, equivalent $nequiv, stale or not building $nstale; $out"
[ $nsurv = 0 ] && [ $nstale = 0 ]
