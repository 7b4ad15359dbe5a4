/*
 * Authority: who may author an entry, who may sign it, and quorums.
 *
 * Every signature on an entry must be accounted for by the rule that judges
 * it (DESIGN 3.1: "only the signers the type allows may appear"). Handlers
 * mark each signature they accept through sm_author_*, sm_sig_require,
 * sm_sig_allow and sm_quorum; the loop then refuses the entry if any is left
 * over. Keys live in one table of every key ever used, so "never used again"
 * is a single lookup.
 */
#include "sm.h"

#include <credbank/bundle.h>

#include <string.h>

static int sig_find(const struct sm_ctx *c, const uint8_t pk[32])
{
    for (size_t i = 0; i < c->s->nsigs; i++)
        if (memcmp(c->s->sigs[i].pk, pk, 32) == 0)
            return (int)i;
    return -1;
}

int sm_key_get(struct sm_ctx *c, const uint8_t pk[32], struct sm_key *k)
{
    return sm_get(c->txn, c->l->keys, pk, 32, k, sizeof *k, NULL);
}

int sm_key_put(struct sm_ctx *c, const uint8_t pk[32], const struct sm_key *k)
{
    return sm_put(c->txn, c->l->keys, pk, 32, k, sizeof *k);
}

int sm_key_fresh(struct sm_ctx *c, const uint8_t pk[32], const char *what)
{
    char hex[17];
    cy_hex(hex, pk, 8);
    /* Rules run only once every signature of the entry has verified, and
     * verification refuses exactly the keys cy_pk_check refuses (crypto/
     * sign.c; spec/vectors/crypto.json has keys of small order whose
     * signatures satisfy the cofactorless equation and are refused): a key
     * that signed the entry passed the check already. (An account.open's
     * learner key, the founders' keys in genesis: a point decompression and
     * an addition each, a fifth of a verification.) */
    if (!lg_signed_has_signer(c->s, pk) && cy_pk_check(pk) != 0)
        return SM_FAIL(c, CB_EBADKEY, "%s %s…: not a valid Ed25519 key",
                       what, hex);
    struct sm_key k;
    int rv = sm_key_get(c, pk, &k);
    if (rv == 0)
        return SM_FAIL(c, CB_EKEYUSED, "%s %s…: key already used", what, hex);
    return rv == CB_ENOTFOUND ? 0 : rv;
}

int sm_member_get(struct sm_ctx *c, const char *name, struct sm_member *m)
{
    int rv = sm_get(c->txn, c->l->members, name, strlen(name), m, sizeof *m,
                    NULL);
    if (rv == CB_ENOTFOUND)
        return SM_FAIL(c, CB_EMEMBER, "member \"%s\" unknown", name);
    return rv;
}

int sm_member_put(struct sm_ctx *c, const struct sm_member *m)
{
    return sm_put(c->txn, c->l->members, m->name, strlen(m->name), m,
                  sizeof *m);
}

/* Looks up the author key and its member; kind is the key kind wanted. */
static int author_lookup(struct sm_ctx *c, uint8_t kind, const char *what)
{
    char hex[17];
    cy_hex(hex, c->e->author, 8);
    int rv = sm_key_get(c, c->e->author, &c->author);
    if (rv == CB_ENOTFOUND || (rv == 0 && (c->author.kind != kind ||
                                           !c->author.in_force)))
        return SM_FAIL(c, CB_EAUTHOR, "author %s… is not %s in force", hex,
                       what);
    if (rv != 0)
        return rv;
    rv = sm_get(c->txn, c->l->members, c->author.member,
                strlen(c->author.member), &c->member, sizeof c->member, NULL);
    if (rv != 0)
        return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
    if (!c->member.in_force)
        return SM_FAIL(c, CB_EAUTHOR, "author's member %s was removed",
                       c->member.name);
    c->used[0] = true;
    return 0;
}

int sm_author_issuer(struct sm_ctx *c, uint32_t roles)
{
    int rv = author_lookup(c, SM_KEY_ISSUER, "an issuer key");
    if (rv != 0)
        return rv;
    if (roles != 0 && (c->member.roles & roles) == 0) {
        char want[64] = "";
        for (unsigned b = 1; b <= SM_ROLE_WITNESS; b <<= 1)
            if (roles & b) {
                if (want[0])
                    strcat(want, " or ");
                strcat(want, sm_role_name(b));
            }
        return SM_FAIL(c, CB_EAUTHOR, "author's member %s lacks the role %s",
                       c->member.name, want);
    }
    return 0;
}

int sm_author_node(struct sm_ctx *c)
{
    return author_lookup(c, SM_KEY_NODE, "a member's node key");
}

int sm_sig_require(struct sm_ctx *c, const uint8_t pk[32], const char *what)
{
    int i = sig_find(c, pk);
    if (i < 0) {
        char hex[17];
        cy_hex(hex, pk, 8);
        return SM_FAIL(c, CB_EMISSINGSIG, "signature of the %s (%s…) missing",
                       what, hex);
    }
    c->used[i] = true;
    return 0;
}

bool sm_sig_allow(struct sm_ctx *c, const uint8_t pk[32])
{
    int i = sig_find(c, pk);
    if (i < 0)
        return false;
    c->used[i] = true;
    return true;
}

uint64_t sm_gov_quorum(const struct sm_meta *m, uint64_t n)
{
    return m->governance_quorum ? m->governance_quorum : n / 2 + 1;
}

uint64_t sm_cosign_quorum(const struct sm_meta *m, uint64_t n)
{
    return m->cosign_quorum ? m->cosign_quorum : 2 * n / 3 + 1;
}

int sm_quorum_bounds(struct sm_ctx *c, uint64_t n)
{
    uint64_t g = sm_gov_quorum(c->meta, n), s = sm_cosign_quorum(c->meta, n);
    if (n == 0)
        return SM_FAIL(c, CB_EQUORUMBOUNDS, "no member would remain");
    if (!(2 * g > n && g <= n))
        return SM_FAIL(c, CB_EQUORUMBOUNDS,
                       "governance quorum %llu invalid for %llu members",
                       (unsigned long long)g, (unsigned long long)n);
    if (!(2 * s > n && s <= n))
        return SM_FAIL(c, CB_EQUORUMBOUNDS,
                       "cosign quorum %llu invalid for %llu members",
                       (unsigned long long)s, (unsigned long long)n);
    /* A final checkpoint's note carries one signature line per cosign of
     * the quorum, and a note holds at most LG_BUNDLE_NOTE_LINES (100, the
     * limit of golang.org/x/mod/sumdb/note): beyond it no checkpoint could
     * be verified. (The governance quorum needs no bound of its own: an
     * explicit one is fixed at genesis, at most 64 members; the default
     * one is at most 75 once the cosign quorum is bounded, so a member.add
     * with the new member's two keys fits in LG_MAX_SIGS.) */
    if (s > LG_BUNDLE_NOTE_LINES)
        return SM_FAIL(c, CB_EQUORUMBOUNDS,
                       "cosign quorum %llu for %llu members is above %d, "
                       "the signature lines a checkpoint note may carry",
                       (unsigned long long)s, (unsigned long long)n,
                       LG_BUNDLE_NOTE_LINES);
    return 0;
}

int sm_quorum(struct sm_ctx *c)
{
    /* Distinct members in force whose issuer keys signed. */
    char seen[LG_MAX_SIGS][SM_NAME_CAP];
    size_t nseen = 0;
    for (size_t i = 0; i < c->s->nsigs; i++) {
        struct sm_key k;
        int rv = sm_key_get(c, c->s->sigs[i].pk, &k);
        if (rv == CB_ENOTFOUND)
            continue;
        if (rv != 0)
            return rv;
        if (k.kind != SM_KEY_ISSUER || !k.in_force)
            continue;
        struct sm_member m;
        rv = sm_get(c->txn, c->l->members, k.member, strlen(k.member), &m,
                    sizeof m, NULL);
        if (rv != 0)
            return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
        if (!m.in_force)
            continue;
        c->used[i] = true;
        bool dup = false;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = strcmp(seen[j], k.member) == 0;
        if (!dup)
            memcpy(seen[nseen++], k.member, SM_NAME_CAP);
    }
    uint64_t q = sm_gov_quorum(c->meta, c->meta->members);
    if (nseen < q)
        return SM_FAIL(c, CB_EQUORUM,
                       "%zu of %llu members signed; quorum is %llu", nseen,
                       (unsigned long long)c->meta->members,
                       (unsigned long long)q);
    return 0;
}

int sm_sig_all_used(struct sm_ctx *c)
{
    for (size_t i = 0; i < c->s->nsigs; i++)
        if (!c->used[i]) {
            char hex[17];
            cy_hex(hex, c->s->sigs[i].pk, 8);
            return SM_FAIL(c, CB_ESIGNER,
                           "signer %s… is not allowed on %s", hex,
                           lg_type_name(c->e->type));
        }
    return 0;
}

int sm_member_decode(struct sm_ctx *c, const msgpack_object *o,
                     struct sm_member *m, const char *where)
{
    const msgpack_object *issuers, *name, *node, *roles;
    const struct lg_field f[] = {
        {"issuers", LG_ARRAY, 0, false, &issuers},
        {"name", LG_STR, 0, false, &name},
        {"node", LG_BIN, 32, false, &node},
        {"roles", LG_ARRAY, 0, false, &roles},
    };
    int rv = lg_fields(o, f, 4, where, c->err);
    if (rv != 0)
        return rv;
    memset(m, 0, sizeof *m);
    if (lg_str_copy(m->name, sizeof m->name, name) != 0 ||
        !cy_name_valid(m->name))
        return SM_FAIL(c, CB_EVALUE,
                       "%s.name: 1-64 characters of A-Za-z0-9._- required",
                       where);
    memcpy(m->node, node->via.bin.ptr, 32);
    if (roles->via.array.size == 0)
        return SM_FAIL(c, CB_EVALUE, "%s.roles: empty", where);
    for (uint32_t i = 0; i < roles->via.array.size; i++) {
        int r = sm_role_parse(&roles->via.array.ptr[i]);
        if (r < 0)
            return SM_FAIL(c, CB_EVALUE, "%s.roles[%u]: unknown role", where,
                           i);
        if (m->roles & (uint32_t)r)
            return SM_FAIL(c, CB_EVALUE, "%s.roles[%u]: repeated", where, i);
        m->roles |= (uint32_t)r;
    }
    uint32_t ni = issuers->via.array.size;
    if (ni == 0 || ni > SM_MAX_ISSUERS)
        return SM_FAIL(c, CB_EVALUE, "%s.issuers: 1 to %d keys required",
                       where, SM_MAX_ISSUERS);
    for (uint32_t i = 0; i < ni; i++) {
        const msgpack_object *k = &issuers->via.array.ptr[i];
        if (k->type != MSGPACK_OBJECT_BIN || k->via.bin.size != 32)
            return SM_FAIL(c, CB_ETYPE, "%s.issuers[%u]: expected bin 32",
                           where, i);
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(m->issuers[j], k->via.bin.ptr, 32) == 0)
                return SM_FAIL(c, CB_EVALUE, "%s.issuers[%u]: repeated",
                               where, i);
        if (memcmp(m->node, k->via.bin.ptr, 32) == 0)
            return SM_FAIL(c, CB_EVALUE,
                           "%s.issuers[%u]: same key as the node", where, i);
        memcpy(m->issuers[i], k->via.bin.ptr, 32);
    }
    m->nissuers = ni;
    m->in_force = 1;
    return 0;
}
