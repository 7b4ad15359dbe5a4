/*
 * Raft membership follows the ledger's members (spec/node.md, "Membership").
 *
 * The ledger knows members by name and node key, not by address; the peer
 * list (--peer ID,RAFTADDR,APIURL[,MEMBER]) maps a member name to a Raft
 * server (id, address) and its API URL. A peer without a member name is
 * static: always a voter (the form of the first version, still used by
 * clusters that do not follow membership). A peer naming a member is wanted
 * in the Raft configuration exactly while that member is in force in the
 * ledger.
 *
 * The desired configuration is thus a function of (ledger, peer list), and
 * the ready leader reconciles the actual one towards it every 100 ms, one
 * change at a time, each step idempotent, so whichever node leads next
 * simply carries on:
 *   1. a server whose peer names a member not in force (removed, or unknown
 *      to the ledger) is removed, once its node confirms that it applied the
 *      removal (its /v1/status says "removed"), or after 3 s without that;
 *   2. a wanted peer missing from the configuration is raft_add'ed (spare);
 *      a spare is assigned standby (raft replicates to it: the snapshot, then
 *      the HTTP catch-up of catchup.c); a standby whose /v1/status shows its
 *      ledger caught up (not catching up, raft_last_applied at least the
 *      leader's when asked) is assigned voter (raft runs its own catch-up
 *      rounds before it appends the change);
 *   3. a leader whose own member is no longer in force transfers leadership;
 *      the next leader removes it.
 * Servers in the configuration that are not in the peer list are left alone
 * and reported. Every node also watches whether it was removed: its own
 * member is not in force in its ledger, or it was in the configuration and
 * is no longer. A removed node takes no writes, cosigns nothing and says
 * "removed" in /v1/status.
 */
#include "node.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define MS_PERIOD_TICKS 10          /* on_tick is 10 ms: every 100 ms */
#define MS_PROBE_TIMEOUT_MS 1000
#define MS_REMOVE_WAIT_MS 3000
#define MS_MAX_MEMBERS 64

enum { PS_STATIC, PS_IN_FORCE, PS_REMOVED, PS_UNKNOWN };

static struct {
    bool loaded;
    uint64_t gov;                   /* lg_status.governance of the cache */
    uint64_t members;
    int pstate[ND_MAX_PEERS];       /* by peer index */
    char unmapped[MS_MAX_MEMBERS][65]; /* in force, no peer names them */
    unsigned nunmapped;

    unsigned ticks;
    bool seen_in_config;
    bool removed;
    bool removed_logged;
    bool self_in_force;             /* as of the last refresh */
    bool key_retired;               /* this node's key: a node key no longer
                                     * in force (its member was removed, or
                                     * the key rotated out) */
    uint64_t self_from_size;        /* ledger size when first seen so */

    /* leader: one change at a time */
    bool change_pending;
    struct raft_change change;
    char step[160];                 /* what the leader does now */
    struct raft_transfer transfer;
    bool transfer_pending;

    /* probes of a peer's /v1/status */
    bool probe_pending;
    raft_id probe_id;
    int probe_kind;                 /* 1 caught up?, 2 removed? */
    uint64_t probe_target;
    raft_id caught_id;              /* answered: caught up */
    raft_id removed_ack_id;         /* answered: applied its removal */
    raft_id remove_wait_id;
    uint64_t remove_wait_since;
    uint64_t changes_total;
} ms;

static const struct nd_peer *peer_by_id(raft_id id, unsigned *idx)
{
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        if (nd.cfg.peers[i].id == id) {
            if (idx != NULL)
                *idx = i;
            return &nd.cfg.peers[i];
        }
    return NULL;
}

static int self_index(void)
{
    unsigned i;
    return peer_by_id(nd.cfg.id, &i) != NULL ? (int)i : -1;
}

static bool desired_idx(unsigned i)
{
    return ms.pstate[i] == PS_STATIC || ms.pstate[i] == PS_IN_FORCE;
}

static bool any_named(void)
{
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        if (nd.cfg.peers[i].member[0])
            return true;
    return false;
}

/* Reloads the peers' states from lg_members_view when governance moved. */
static void refresh(bool force)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0)
        return;
    if (ms.loaded && !force && st.governance == ms.gov &&
        st.members == ms.members)
        return;
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    if (lg_members_view(nd.l, &v, &err) != 0) {
        fprintf(stderr, "credbankd: membership: %s\n", cb_errmsg(&err));
        return;
    }
    json_t *arr = json_object_get(v, "members");
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        ms.pstate[i] = nd.cfg.peers[i].member[0] ? PS_UNKNOWN : PS_STATIC;
    char before[MS_MAX_MEMBERS][65];
    unsigned nbefore = ms.nunmapped;
    memcpy(before, ms.unmapped, sizeof before);
    ms.nunmapped = 0;
    size_t k;
    json_t *m;
    json_array_foreach(arr, k, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        bool in_force = json_is_true(json_object_get(m, "in_force"));
        if (name == NULL)
            continue;
        bool mapped = false;
        for (unsigned i = 0; i < nd.cfg.npeers; i++)
            if (strcmp(nd.cfg.peers[i].member, name) == 0) {
                ms.pstate[i] = in_force ? PS_IN_FORCE : PS_REMOVED;
                mapped = true;
            }
        if (!mapped && in_force && ms.nunmapped < MS_MAX_MEMBERS)
            snprintf(ms.unmapped[ms.nunmapped++], sizeof ms.unmapped[0],
                     "%s", name);
    }
    json_decref(v);
    for (unsigned i = 0; i < ms.nunmapped && ms.loaded && any_named(); i++) {
        bool known = false;
        for (unsigned b = 0; b < nbefore && !known; b++)
            known = strcmp(before[b], ms.unmapped[i]) == 0;
        if (!known)
            fprintf(stderr, "credbankd: membership: WARNING: member %s has "
                    "no --peer entry naming it: its node stays out of Raft "
                    "(add the peer to every node's configuration)\n",
                    ms.unmapped[i]);
    }
    /* A static peer has no member name: the ledger still knows its node
     * key. Once that key is out of force its seals and cosigns are refused
     * at apply, so it must behave as a removed member's node (step 3). */
    struct lg_key_info ki;
    ms.key_retired = lg_key_info(nd.l, nd.key.pk, &ki) == 0 &&
                     ki.kind == LG_KEY_NODE && !ki.in_force;
    int self = self_index();
    bool in = (self < 0 || desired_idx((unsigned)self)) && !ms.key_retired;
    if (in && !ms.self_in_force)
        ms.self_from_size = ms.loaded ? st.size : 0;
    ms.self_in_force = in;
    ms.loaded = true;
    ms.gov = st.governance;
    ms.members = st.members;
}

void nd_member_start(void)
{
    memset(&ms, 0, sizeof ms);
    refresh(true);
    if (!any_named())
        return;
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        if (nd.cfg.peers[i].member[0] && ms.pstate[i] == PS_UNKNOWN)
            fprintf(stderr, "credbankd: membership: peer %llu names member "
                    "%s, not (yet) in the ledger: it joins Raft once a "
                    "member.add of it applies\n",
                    (unsigned long long)nd.cfg.peers[i].id,
                    nd.cfg.peers[i].member);
    for (unsigned i = 0; i < ms.nunmapped; i++)
        fprintf(stderr, "credbankd: membership: WARNING: member %s has no "
                "--peer entry naming it: its node stays out of Raft\n",
                ms.unmapped[i]);
}

bool nd_peer_in_bootstrap(const struct nd_peer *p)
{
    unsigned i;
    if (peer_by_id(p->id, &i) == NULL)
        return false;
    return desired_idx(i);
}

bool nd_self_must_join(void)
{
    int i = self_index();
    return i >= 0 && !desired_idx((unsigned)i);
}

bool nd_member_may_cosign(uint64_t seal_index)
{
    refresh(false);
    return ms.self_in_force && seal_index >= ms.self_from_size;
}

bool nd_removed(void)
{
    return ms.removed;
}

static const char *role_str(int role)
{
    switch (role) {
    case RAFT_VOTER:
        return "voter";
    case RAFT_STANDBY:
        return "standby";
    case RAFT_SPARE:
        return "spare";
    default:
        return "unknown";
    }
}

static const struct raft_server *conf_get(raft_id id)
{
    const struct raft_configuration *c = &nd.raft.configuration;
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].id == id)
            return &c->servers[i];
    return NULL;
}

/* ---- probes of a peer's /v1/status ---- */

static void probe_cb(void *data, int status, const uint8_t *body, size_t len)
{
    (void)data;
    ms.probe_pending = false;
    if (status != 200 || nd.closing)
        return;
    json_t *j = json_loadb((const char *)body, len, 0, NULL);
    if (j == NULL)
        return;
    json_t *id = json_object_get(j, "id");
    json_t *applied = json_object_get(j, "raft_last_applied");
    bool same = json_is_integer(id) &&
                (raft_id)json_integer_value(id) == ms.probe_id;
    if (same && ms.probe_kind == 1) {
        if (!json_is_true(json_object_get(j, "catching_up")) &&
            !json_is_true(json_object_get(j, "failed")) &&
            !json_is_true(json_object_get(j, "diverged")) &&
            json_is_integer(applied) &&
            (uint64_t)json_integer_value(applied) >= ms.probe_target)
            ms.caught_id = ms.probe_id;
    } else if (same && ms.probe_kind == 2) {
        if (json_is_true(json_object_get(j, "removed")))
            ms.removed_ack_id = ms.probe_id;
    }
    json_decref(j);
}

static void probe(const struct nd_peer *p, int kind)
{
    if (ms.probe_pending)
        return;
    ms.probe_id = p->id;
    ms.probe_kind = kind;
    ms.probe_target = raft_last_applied(&nd.raft);
    if (nd_http_get(p->api, "/v1/status", "application/json",
                    MS_PROBE_TIMEOUT_MS, 1u << 20, probe_cb, NULL) == 0)
        ms.probe_pending = true;
}

/* ---- the leader's reconciliation ---- */

static void change_done(struct raft_change *req, int status)
{
    (void)req;
    ms.change_pending = false;
    if (status == 0) {
        ms.changes_total++;
        fprintf(stderr, "credbankd: membership: done: %s\n", ms.step);
    } else {
        fprintf(stderr, "credbankd: membership: %s: %s (retried)\n", ms.step,
                raft_strerror(status));
    }
    ms.step[0] = 0;
}

static void transfer_done(struct raft_transfer *req)
{
    (void)req;
    ms.transfer_pending = false;
}

static void issue(int rv, const char *what)
{
    if (rv == 0) {
        ms.change_pending = true;
        fprintf(stderr, "credbankd: membership: %s\n", ms.step);
    } else {
        fprintf(stderr, "credbankd: membership: %s: %s\n", what,
                raft_errmsg(&nd.raft));
        ms.step[0] = 0;
    }
}

static void reconcile(void)
{
    if (raft_state(&nd.raft) != RAFT_LEADER || ms.change_pending ||
        ms.transfer_pending || nd.raft.transfer != NULL || nd.closing ||
        nd.failed || nd.diverged)
        return;
    int self = self_index();
    if ((self >= 0 && !desired_idx((unsigned)self)) || ms.key_retired) {
        /* our own member left: hand over; the next leader removes us (a
         * static peer stays a voter, but leads no more) */
        if (self >= 0 && nd.cfg.peers[self].member[0])
            snprintf(ms.step, sizeof ms.step, "this node's member %s is not "
                     "in force: transferring leadership",
                     nd.cfg.peers[self].member);
        else
            snprintf(ms.step, sizeof ms.step, "this node's key is no longer "
                     "a node key in force: transferring leadership");
        if (raft_transfer(&nd.raft, &ms.transfer, 0, transfer_done) == 0) {
            ms.transfer_pending = true;
            fprintf(stderr, "credbankd: membership: %s\n", ms.step);
        }
        return;
    }
    if (!nd_leader_ready() || nd.raft.configuration_uncommitted_index != 0 ||
        nd.raft.leader_state.promotee_id != 0)
        return;
    const struct raft_configuration *c = &nd.raft.configuration;
    /* 1. servers whose member is no longer in force */
    for (unsigned k = 0; k < c->n; k++) {
        const struct raft_server *s = &c->servers[k];
        unsigned i;
        const struct nd_peer *p = peer_by_id(s->id, &i);
        if (s->id == nd.cfg.id || p == NULL || desired_idx(i))
            continue;
        uint64_t now = uv_now(&nd.loop);
        if (ms.remove_wait_id != s->id) {
            ms.remove_wait_id = s->id;
            ms.remove_wait_since = now;
            ms.removed_ack_id = 0;
        }
        bool acked = ms.removed_ack_id == s->id;
        if (!acked && now - ms.remove_wait_since < MS_REMOVE_WAIT_MS) {
            snprintf(ms.step, sizeof ms.step, "waiting for server %llu (%s) "
                     "to apply its removal", (unsigned long long)s->id,
                     p->member);
            probe(p, 2);
            return;
        }
        snprintf(ms.step, sizeof ms.step, "removing server %llu (member %s "
                 "%s%s)", (unsigned long long)s->id, p->member,
                 ms.pstate[i] == PS_REMOVED ? "removed" : "not in the ledger",
                 acked ? "" : "; its node did not confirm");
        issue(raft_remove(&nd.raft, &ms.change, s->id, change_done),
              "raft_remove");
        return;
    }
    /* 2. wanted peers: add, standby, voter */
    for (unsigned i = 0; i < nd.cfg.npeers; i++) {
        const struct nd_peer *p = &nd.cfg.peers[i];
        if (p->id == nd.cfg.id || !desired_idx(i))
            continue;
        const struct raft_server *s = conf_get(p->id);
        if (s == NULL) {
            snprintf(ms.step, sizeof ms.step, "adding server %llu (%s, %s) as "
                     "spare", (unsigned long long)p->id,
                     p->member[0] ? p->member : "static", p->raft);
            issue(raft_add(&nd.raft, &ms.change, p->id, p->raft, change_done),
                  "raft_add");
            return;
        }
        if (s->role == RAFT_SPARE) {
            snprintf(ms.step, sizeof ms.step, "assigning server %llu (%s) "
                     "standby (log replication, catch-up)",
                     (unsigned long long)p->id, p->member);
            issue(raft_assign(&nd.raft, &ms.change, p->id, RAFT_STANDBY,
                              change_done), "raft_assign standby");
            return;
        }
        if (s->role == RAFT_STANDBY) {
            if (ms.caught_id != p->id) {
                snprintf(ms.step, sizeof ms.step, "waiting for server %llu "
                         "(%s) to catch up", (unsigned long long)p->id,
                         p->member);
                probe(p, 1);
                return;
            }
            ms.caught_id = 0;
            snprintf(ms.step, sizeof ms.step, "assigning server %llu (%s) "
                     "voter", (unsigned long long)p->id, p->member);
            issue(raft_assign(&nd.raft, &ms.change, p->id, RAFT_VOTER,
                              change_done), "raft_assign voter");
            return;
        }
    }
    ms.step[0] = 0;
}

/* Every node: was this node removed? */
static void watch_self(void)
{
    int self = self_index();
    bool in_conf = conf_get(nd.cfg.id) != NULL;
    if (in_conf)
        ms.seen_in_config = true;
    bool removed = (self >= 0 && ms.pstate[self] == PS_REMOVED) ||
                   ms.key_retired ||
                   (ms.seen_in_config && !in_conf &&
                    nd.raft.configuration.n > 0);
    if (removed && !ms.removed_logged) {
        ms.removed_logged = true;
        fprintf(stderr, "credbankd: membership: this node was removed (%s): "
                "it takes no writes and cosigns nothing\n",
                self >= 0 && ms.pstate[self] == PS_REMOVED
                    ? "its member is no longer in force"
                : ms.key_retired ? "its node key is no longer in force"
                                 : "it is no longer in the Raft configuration");
        /* it may never hear of their finality now: send the clients
         * elsewhere (a retry there answers as a duplicate) */
        nd_final_abort(CB_EUNAVAILABLE, "applied, but this node was removed "
                       "from the cluster before it saw the entry final; ask "
                       "another node (a retry answers as a duplicate)");
    }
    ms.removed = removed;
}

void nd_member_tick(void)
{
    if (++ms.ticks % MS_PERIOD_TICKS != 0 || nd.closing)
        return;
    refresh(false);
    watch_self();
    reconcile();
}

void nd_member_status(json_t *j)
{
    const struct raft_configuration *c = &nd.raft.configuration;
    json_t *voters = json_array(), *conf = json_array(), *warn = json_array();
    const struct raft_server *me = conf_get(nd.cfg.id);
    for (unsigned k = 0; k < c->n; k++) {
        const struct raft_server *s = &c->servers[k];
        const struct nd_peer *p = peer_by_id(s->id, NULL);
        if (s->role == RAFT_VOTER)
            json_array_append_new(voters, json_integer((json_int_t)s->id));
        json_t *o = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)s->id,
                              "address", s->address, "role",
                              role_str(s->role));
        if (p != NULL && p->member[0])
            json_object_set_new(o, "member", json_string(p->member));
        json_array_append_new(conf, o);
        if (p == NULL) {
            char w[200];
            snprintf(w, sizeof w, "raft server %llu (%s) is not in this "
                     "node's peer list", (unsigned long long)s->id,
                     s->address);
            json_array_append_new(warn, json_string(w));
        }
    }
    for (unsigned i = 0; i < ms.nunmapped && any_named(); i++) {
        char w[200];
        snprintf(w, sizeof w, "member %s has no --peer entry naming it: its "
                 "node stays out of Raft", ms.unmapped[i]);
        json_array_append_new(warn, json_string(w));
    }
    const char *membership = ms.removed ? "removed"
                             : me != NULL ? "member"
                                          : "joining";
    json_object_set_new(j, "membership", json_string(membership));
    json_object_set_new(j, "membership_mode",
                        json_string(any_named() ? "ledger" : "static"));
    json_object_set_new(j, "removed", json_boolean(ms.removed));
    json_object_set_new(j, "raft_role_in_config",
                        json_string(me ? role_str(me->role) : "none"));
    json_object_set_new(j, "voters", voters);
    json_object_set_new(j, "raft_config", conf);
    json_object_set_new(j, "raft_config_index", json_integer(
                        (json_int_t)nd.raft.configuration_index));
    if (raft_state(&nd.raft) == RAFT_LEADER && ms.step[0])
        json_object_set_new(j, "membership_change", json_string(ms.step));
    json_object_set_new(j, "membership_changes", json_integer(
                        (json_int_t)ms.changes_total));
    if (json_array_size(warn) > 0)
        json_object_set_new(j, "membership_warnings", warn);
    else
        json_decref(warn);
}

unsigned nd_member_voters(void)
{
    const struct raft_configuration *c = &nd.raft.configuration;
    unsigned n = 0;
    for (unsigned k = 0; k < c->n; k++)
        n += c->servers[k].role == RAFT_VOTER;
    return n;
}

uint64_t nd_member_changes(void)
{
    return ms.changes_total;
}
