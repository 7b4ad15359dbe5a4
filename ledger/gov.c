/*
 * Governance entries: genesis, member.add/update/remove, key.rotate,
 * policy.set (DESIGN sections 2 and 4).
 *
 * Membership is the root of all authority, so every change needs a quorum
 * of the members in force before it, and no change may leave quorums that
 * break n/2 < q <= n. Keys and names are never reused: a key enters the
 * ledger only in an entry it signs itself, and once there stays in the key
 * table forever, in force or not.
 */
#include "sm.h"

#include <string.h>

/* Registers the node and issuer keys of m (in force). */
static int put_member_keys(struct sm_ctx *c, const struct sm_member *m)
{
    struct sm_key k;
    memset(&k, 0, sizeof k);
    k.in_force = 1;
    memcpy(k.member, m->name, sizeof k.member);
    k.kind = SM_KEY_NODE;
    int rv = sm_key_put(c, m->node, &k);
    k.kind = SM_KEY_ISSUER;
    for (uint32_t i = 0; rv == 0 && i < m->nissuers; i++)
        rv = sm_key_put(c, m->issuers[i], &k);
    return rv;
}

/* Checks that m's name and keys were never used and its keys signed. */
static int fresh_member(struct sm_ctx *c, const struct sm_member *m,
                        const char *where)
{
    struct sm_member old;
    int rv = sm_get(c->txn, c->l->members, m->name, strlen(m->name), &old,
                    sizeof old, NULL);
    if (rv == 0)
        return SM_FAIL(c, CB_ENAMEUSED, "%s.name: \"%s\" already used", where,
                       m->name);
    if (rv != CB_ENOTFOUND)
        return rv;
    if ((rv = sm_key_fresh(c, m->node, "node key")) != 0)
        return rv;
    for (uint32_t i = 0; i < m->nissuers; i++)
        if ((rv = sm_key_fresh(c, m->issuers[i], "issuer key")) != 0)
            return rv;
    return 0;
}

static int require_member_sigs(struct sm_ctx *c, const struct sm_member *m)
{
    int rv = sm_sig_require(c, m->node, "new node key");
    for (uint32_t i = 0; rv == 0 && i < m->nissuers; i++)
        rv = sm_sig_require(c, m->issuers[i], "new issuer key");
    return rv;
}

static bool origin_valid(const msgpack_object *o)
{
    if (o->via.str.size < 1 || o->via.str.size > 255)
        return false;
    for (uint32_t i = 0; i < o->via.str.size; i++)
        if (o->via.str.ptr[i] < 0x21 || o->via.str.ptr[i] > 0x7e)
            return false;
    return true;
}

int sm_genesis(struct sm_ctx *c)
{
    if (c->meta->has_genesis || c->index != 0)
        return SM_FAIL(c, CB_EGENESIS, "genesis is entry 0 only");
    const msgpack_object *cq, *gq, *members, *origin, *policy;
    const struct lg_field f[] = {
        {"cosign_quorum", LG_UINT, 0, false, &cq},
        {"governance_quorum", LG_UINT, 0, false, &gq},
        {"members", LG_ARRAY, 0, false, &members},
        {"origin", LG_STR, 0, true, &origin},
        {"policy", LG_MAP, 0, false, &policy},
    };
    int rv = sm_body(c, f, 5);
    if (rv != 0)
        return rv;
    if (sm_refs(c, 0) != 0)
        return CB_EREF;
    if (origin != NULL && !origin_valid(origin))
        return SM_FAIL(c, CB_EVALUE,
                       "body.origin: 1-255 printable ASCII, no spaces");
    if ((rv = sm_policy_validate(policy, true, c->err)) != 0)
        return rv;
    uint32_t n = members->via.array.size;
    if (n == 0 || n > SM_MAX_MEMBERS)
        return SM_FAIL(c, CB_EVALUE, "body.members: 1 to %d members",
                       SM_MAX_MEMBERS);

    static struct sm_member ms[SM_MAX_MEMBERS]; /* one writer at a time */
    bool author_found = false;
    for (uint32_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "body.members[%u]", i);
        if ((rv = sm_member_decode(c, &members->via.array.ptr[i], &ms[i],
                                   where)) != 0)
            return rv;
        if ((rv = fresh_member(c, &ms[i], where)) != 0)
            return rv;
        /* distinct from the founders before it */
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(ms[i].name, ms[j].name) == 0)
                return SM_FAIL(c, CB_ENAMEUSED, "%s.name: repeated", where);
            const uint8_t *ki[SM_MAX_ISSUERS + 1], *kj[SM_MAX_ISSUERS + 1];
            size_t ni = 0, nj = 0;
            ki[ni++] = ms[i].node;
            for (uint32_t a = 0; a < ms[i].nissuers; a++)
                ki[ni++] = ms[i].issuers[a];
            kj[nj++] = ms[j].node;
            for (uint32_t b = 0; b < ms[j].nissuers; b++)
                kj[nj++] = ms[j].issuers[b];
            for (size_t a = 0; a < ni; a++)
                for (size_t b = 0; b < nj; b++)
                    if (memcmp(ki[a], kj[b], 32) == 0)
                        return SM_FAIL(c, CB_EKEYUSED,
                                       "%s: a key of members[%u] repeated",
                                       where, j);
        }
        for (uint32_t a = 0; a < ms[i].nissuers; a++)
            if (memcmp(ms[i].issuers[a], c->e->author, 32) == 0)
                author_found = true;
        if ((rv = require_member_sigs(c, &ms[i])) != 0)
            return rv;
    }
    if (!author_found)
        return SM_FAIL(c, CB_EAUTHOR,
                       "genesis author must be a founder's issuer key");
    c->used[0] = true;

    c->meta->governance_quorum = gq->via.u64;
    c->meta->cosign_quorum = cq->via.u64;
    if ((rv = sm_quorum_bounds(c, n)) != 0)
        return rv;

    for (uint32_t i = 0; i < n; i++) {
        if ((rv = sm_member_put(c, &ms[i])) != 0 ||
            (rv = put_member_keys(c, &ms[i])) != 0)
            return rv;
    }
    /* The policy bytes are stored exactly as signed. */
    struct lg_w w;
    lg_w_init(&w);
    lg_w_obj(&w, policy);
    rv = lg_w_error(&w);
    if (rv == 0)
        rv = sm_policy_put(c, "*", 1, lg_w_data(&w), lg_w_len(&w));
    lg_w_release(&w);
    if (rv != 0)
        return rv;

    c->meta->has_genesis = 1;
    memcpy(c->meta->ledger_id, c->e->id, 32);
    c->meta->members = n;
    if (origin != NULL) {
        memcpy(c->meta->origin, origin->via.str.ptr, origin->via.str.size);
        c->meta->origin[origin->via.str.size] = '\0';
    } else {
        char hex[17];
        cy_hex(hex, c->e->id, 8);
        snprintf(c->meta->origin, sizeof c->meta->origin, "credbank/%s", hex);
    }
    return 0;
}

int sm_member_add(struct sm_ctx *c)
{
    const msgpack_object *member;
    const struct lg_field f[] = {{"member", LG_MAP, 0, false, &member}};
    int rv;
    if ((rv = sm_author_issuer(c, 0)) != 0 || (rv = sm_body(c, f, 1)) != 0 ||
        (rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)
        return rv;
    struct sm_member m;
    if ((rv = sm_member_decode(c, member, &m, "body.member")) != 0 ||
        (rv = fresh_member(c, &m, "body.member")) != 0 ||
        (rv = require_member_sigs(c, &m)) != 0 ||
        (rv = sm_quorum_bounds(c, c->meta->members + 1)) != 0)
        return rv;
    if ((rv = sm_member_put(c, &m)) != 0 || (rv = put_member_keys(c, &m)) != 0)
        return rv;
    c->meta->members++;
    return 0;
}

/* The member in force named by body.name into m. */
static int named_member(struct sm_ctx *c, const msgpack_object *name,
                        struct sm_member *m)
{
    char buf[SM_NAME_CAP];
    if (lg_str_copy(buf, sizeof buf, name) != 0 || !cy_name_valid(buf))
        return SM_FAIL(c, CB_EMEMBER, "body.name: no such member");
    int rv = sm_member_get(c, buf, m);
    if (rv != 0)
        return rv;
    if (!m->in_force)
        return SM_FAIL(c, CB_EMEMBER, "member \"%s\" was removed", buf);
    return 0;
}

int sm_member_update(struct sm_ctx *c)
{
    const msgpack_object *name, *roles;
    const struct lg_field f[] = {
        {"name", LG_STR, 0, false, &name},
        {"roles", LG_ARRAY, 0, false, &roles},
    };
    int rv;
    if ((rv = sm_author_issuer(c, 0)) != 0 || (rv = sm_body(c, f, 2)) != 0 ||
        (rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)
        return rv;
    struct sm_member m;
    if ((rv = named_member(c, name, &m)) != 0)
        return rv;
    uint32_t bits = 0;
    if (roles->via.array.size == 0)
        return SM_FAIL(c, CB_EVALUE, "body.roles: empty");
    for (uint32_t i = 0; i < roles->via.array.size; i++) {
        int r = sm_role_parse(&roles->via.array.ptr[i]);
        if (r < 0 || (bits & (uint32_t)r))
            return SM_FAIL(c, CB_EVALUE, "body.roles[%u]: %s", i,
                           r < 0 ? "unknown role" : "repeated");
        bits |= (uint32_t)r;
    }
    m.roles = bits;
    return sm_member_put(c, &m);
}

int sm_member_remove(struct sm_ctx *c)
{
    const msgpack_object *name;
    const struct lg_field f[] = {{"name", LG_STR, 0, false, &name}};
    int rv;
    if ((rv = sm_author_issuer(c, 0)) != 0 || (rv = sm_body(c, f, 1)) != 0 ||
        (rv = sm_refs(c, 0)) != 0 || (rv = sm_quorum(c)) != 0)
        return rv;
    struct sm_member m;
    if ((rv = named_member(c, name, &m)) != 0 ||
        (rv = sm_quorum_bounds(c, c->meta->members - 1)) != 0)
        return rv;
    /* Its keys leave force with it; they stay used forever. */
    const uint8_t *keys[SM_MAX_ISSUERS + 1];
    size_t nk = 0;
    keys[nk++] = m.node;
    for (uint32_t i = 0; i < m.nissuers; i++)
        keys[nk++] = m.issuers[i];
    for (size_t i = 0; i < nk; i++) {
        struct sm_key k;
        if ((rv = sm_key_get(c, keys[i], &k)) != 0)
            return rv == CB_ENOTFOUND ? CB_ECORRUPT : rv;
        k.in_force = 0;
        if ((rv = sm_key_put(c, keys[i], &k)) != 0)
            return rv;
    }
    m.in_force = 0;
    if ((rv = sm_member_put(c, &m)) != 0)
        return rv;
    c->meta->members--;
    return 0;
}

int sm_key_rotate(struct sm_ctx *c)
{
    const msgpack_object *nw, *old, *use;
    const struct lg_field f[] = {
        {"new", LG_BIN, 32, false, &nw},
        {"old", LG_BIN, 32, false, &old},
        {"use", LG_STR, 0, false, &use},
    };
    int rv;
    if ((rv = sm_body(c, f, 3)) != 0 || (rv = sm_refs(c, 0)) != 0)
        return rv;
    uint8_t kind;
    if (lg_is_str(use, "node"))
        kind = SM_KEY_NODE;
    else if (lg_is_str(use, "issuer"))
        kind = SM_KEY_ISSUER;
    else
        return SM_FAIL(c, CB_EVALUE, "body.use: \"node\" or \"issuer\"");
    if (memcmp(old->via.bin.ptr, c->e->author, 32) != 0)
        return SM_FAIL(c, CB_EAUTHOR, "key.rotate must be authored by the "
                                      "old key");
    struct sm_key k;
    rv = sm_key_get(c, c->e->author, &k);
    if (rv == CB_ENOTFOUND || (rv == 0 && (k.kind != kind || !k.in_force)))
        return SM_FAIL(c, CB_EKEYSTATE, "body.old: not a %s key in force",
                       kind == SM_KEY_NODE ? "node" : "issuer");
    if (rv != 0)
        return rv;
    struct sm_member m;
    if ((rv = sm_member_get(c, k.member, &m)) != 0)
        return rv;
    if (!m.in_force)
        return SM_FAIL(c, CB_EKEYSTATE, "body.old: its member was removed");
    c->used[0] = true;
    const uint8_t *npk = (const uint8_t *)nw->via.bin.ptr;
    if ((rv = sm_key_fresh(c, npk, "body.new")) != 0 ||
        (rv = sm_sig_require(c, npk, "new key")) != 0)
        return rv;

    k.in_force = 0;
    if ((rv = sm_key_put(c, c->e->author, &k)) != 0)
        return rv;
    k.in_force = 1;
    if ((rv = sm_key_put(c, npk, &k)) != 0)
        return rv;
    if (kind == SM_KEY_NODE) {
        memcpy(m.node, npk, 32);
    } else {
        for (uint32_t i = 0; i < m.nissuers; i++)
            if (memcmp(m.issuers[i], c->e->author, 32) == 0)
                memcpy(m.issuers[i], npk, 32);
    }
    return sm_member_put(c, &m);
}

int sm_policy_set(struct sm_ctx *c)
{
    const msgpack_object *policy, *scope;
    const struct lg_field f[] = {
        {"policy", LG_MAP, 0, false, &policy},
        {"scope", LG_STR, 0, false, &scope},
    };
    int rv;
    if ((rv = sm_author_issuer(c, 0)) != 0 || (rv = sm_body(c, f, 2)) != 0 ||
        (rv = sm_refs(c, 0)) != 0)
        return rv;
    bool star = lg_is_str(scope, "*");
    if (star) {
        if ((rv = sm_quorum(c)) != 0)
            return rv;
    } else if (!lg_is_str(scope, c->member.name)) {
        return SM_FAIL(c, CB_ESCOPE,
                       "body.scope: \"*\" or the author's member \"%s\"",
                       c->member.name);
    }
    if ((rv = sm_policy_validate(policy, star, c->err)) != 0)
        return rv;
    struct lg_w w;
    lg_w_init(&w);
    lg_w_obj(&w, policy);
    rv = lg_w_error(&w);
    if (rv == 0)
        rv = sm_policy_put(c, scope->via.str.ptr, scope->via.str.size,
                           lg_w_data(&w), lg_w_len(&w));
    lg_w_release(&w);
    return rv;
}
