/*
 * The Raft state machine and the leader's write path.
 *
 * A Raft entry is a batch: a canonical MessagePack array of bin, each bin one
 * signed entry. Every node applies a batch with lg_apply tagged with the Raft
 * index (raft 0.15 sets last_applied after the FSM returns, so the index of
 * the entry being applied is raft_last_applied() + 1); replay after a crash
 * is idempotent in the ledger.
 *
 * The leader keeps one queue of entries already checked (lg_check) and
 * proposes everything queued as ONE raft_apply per loop iteration (a
 * uv_check handle), capped at ND_BATCH_MAX_ENTRIES / ND_BATCH_MAX_BYTES.
 * Writes are accepted only once a raft_barrier of the current term has
 * applied. The FSM keeps the per-entry results of the last batch; the apply
 * callback, which raft 0.15 fires synchronously right after the FSM on the
 * leader, picks them up (no heap result goes through raft, so nothing leaks
 * on followers or for entries of earlier terms).
 *
 * Seals: every seal_interval_ms the leader, if entries other than seals and
 * cosigns arrived since the last seal, marks a seal due; proposals then wait
 * until no batch is in flight, so the seal body (lg_seal_body: the applied
 * state) is exactly what apply will recompute, and the seal heads the next
 * batch. Cosigns: after each batch, every node that sees a new newest seal
 * (within 60 s of its clock) signs its checkpoint body and sends the cosign
 * to the leader (queued locally when it is the leader).
 *
 * Fail-stop: a batch that fails at the storage level stops all further
 * applying (the Raft log keeps the batches; a restart replays them).
 * Divergence: see spec/node.md.
 */
#include "node.h"
#include "fault.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include <credbank/batch.h>
#include <credbank/codec.h>
#include <credbank/entry.h>

static struct raft_transfer transfer;
static bool transfer_started;

bool nd_leader_ready(void)
{
    return raft_state(&nd.raft) == RAFT_LEADER &&
           nd.ready_term == nd.raft.current_term && !nd.failed &&
           !nd.diverged && !nd.closing && !nd_catching_up() &&
           !nd_removed();
}

void nd_pending_free(struct nd_pending *p)
{
    if (p == NULL)
        return;
    if (p->hook != NULL)
        *p->hook = NULL;
    free(p->bytes);
    free(p);
}

const double nd_lat_le[ND_LAT_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1,     2.5,  5,     10,
};

void nd_observe(uint64_t *buckets, double secs)
{
    unsigned b = 0;
    while (b < ND_LAT_BUCKETS && secs > nd_lat_le[b])
        b++;
    buckets[b]++;
}

void nd_count_rejection(int code)
{
    int i = code - CB__FIRST;
    if (i > 0 && i < ND_MAX_CODES)
        nd.m.rejections[i]++;
}

void nd_queue(struct nd_pending *p)
{
    p->next = NULL;
    *nd.queue_tail = p;
    nd.queue_tail = &p->next;
    nd.queue_len++;
}

static void queue_push_front(struct nd_pending *p)
{
    p->next = nd.queue;
    nd.queue = p;
    if (nd.queue_tail == &nd.queue)
        nd.queue_tail = &p->next;
    nd.queue_len++;
}

/* ---- building the node's own entries ---- */

static int make_entry(enum lg_type type, const uint8_t *ledger, uint64_t ts,
                      const uint8_t (*refs)[32], size_t nrefs,
                      const uint8_t *body, size_t body_len,
                      struct nd_pending **out)
{
    struct lg_w e, s;
    lg_w_init(&e);
    lg_w_init(&s);
    struct lg_entry_spec spec = {
        .ledger = ledger,
        .type = type,
        .author = nd.key.pk,
        .ts = ts,
        .nonce = NULL,
        .account = NULL,
        .refs = refs,
        .nrefs = nrefs,
        .body = body,
        .body_len = body_len,
    };
    uint8_t sig[64];
    int rv = lg_entry_encode(&e, &spec);
    if (rv == 0)
        rv = lg_w_error(&e);
    if (rv == 0)
        rv = lg_entry_sign(sig, lg_w_data(&e), lg_w_len(&e), &nd.key);
    if (rv == 0) {
        struct lg_sig sg = {nd.key.pk, sig};
        rv = lg_signed_encode(&s, lg_w_data(&e), lg_w_len(&e), nd.key.pk,
                              &sg, 1);
    }
    if (rv == 0)
        rv = lg_w_error(&s);
    if (rv == 0) {
        struct nd_pending *p = calloc(1, sizeof *p);
        if (p == NULL) {
            rv = CB_ENOMEM;
        } else {
            p->bytes = lg_w_take(&s, &p->len);
            p->t_start = uv_now(&nd.loop);
            if (p->bytes == NULL) {
                free(p);
                rv = CB_ENOMEM;
            } else {
                *out = p;
            }
        }
    }
    lg_w_release(&e);
    lg_w_release(&s);
    return rv;
}

/* ---- whose clock to trust ----
 *
 * A seal carries its leader's clock, and peers cosign only seals within
 * ND_COSIGN_WINDOW_MS of theirs; a seal's ts also bounds every later one
 * from below. So a leader whose clock is off would make seals nobody
 * cosigns — and one that is ahead would block every later leader's seals
 * until real time caught up. Before it seals, a leader therefore asks its
 * peers their time (GET /v1/status, "time_ms", at most every
 * ND_CLOCK_PROBE_S; the answer's half round trip added): it seals only when
 * at least cosign_quorum - 1 of them are within half the window of its own
 * clock (it counts itself), and otherwise hands the leadership over
 * (on_tick) — its seals would never be cosigned. */
#define ND_CLOCK_PROBE_S 10
static struct peer_clock {
    int64_t offset_ms;          /* their clock minus ours */
    bool answered;              /* in the last round */
} peer_clock[ND_MAX_PEERS];
static bool clock_bad;          /* the last round's judgement */
static bool clock_known;        /* a round completed */
static uint64_t clock_round_ns; /* when the last round completed */
static unsigned clock_probes_out;
static uint64_t clock_bad_logged_ns;

static void propose(void);

struct clock_probe {
    unsigned peer;
    uint64_t sent_ns;
};

/* Judges this node's clock by the last round's answers (sets clock_bad). */
static void clock_judge(void)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0)
        return;
    uint64_t need = st.cosign_quorum > 0 ? st.cosign_quorum - 1 : 0;
    size_t seen = 0, agree = 0;
    int64_t worst = 0;
    for (unsigned i = 0; i < nd.cfg.npeers && i < ND_MAX_PEERS; i++) {
        if (!peer_clock[i].answered)
            continue;
        seen++;
        int64_t off = peer_clock[i].offset_ms;
        if (off <= ND_COSIGN_WINDOW_MS / 2 && off >= -ND_COSIGN_WINDOW_MS / 2)
            agree++;
        else if (off > worst || -off > worst)
            worst = off > 0 ? off : -off;
    }
    bool bad = agree < need;
    uint64_t now = uv_hrtime();
    if (bad && seen > agree &&
        (!clock_bad || now - clock_bad_logged_ns > 10000000000ull)) {
        fprintf(stderr, "credbankd: this node's clock is off its peers' "
                "(%zu of %zu answering peers within %d s, up to %lld s "
                "off): no seals from it%s\n", agree, seen,
                ND_COSIGN_WINDOW_MS / 2000, (long long)(worst / 1000),
                raft_state(&nd.raft) == RAFT_LEADER
                    ? "; it hands the leadership over" : "");
        clock_bad_logged_ns = now;
    } else if (!bad && clock_bad) {
        fprintf(stderr, "credbankd: this node's clock agrees with its "
                "peers' again\n");
    }
    /* too few answers says nothing of our clock: no seal now, no handing
     * over either (the next round may do better) */
    clock_bad = bad && seen > agree;
    clock_known = !bad;
    clock_round_ns = now;
}

static void clock_probe_cb(void *data, int status, const uint8_t *body,
                           size_t len)
{
    struct clock_probe *cp = data;
    uint64_t now_ns = uv_hrtime();
    if (status == 200 && body != NULL && cp->peer < ND_MAX_PEERS) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)body, len, 0, &jerr);
        json_t *t = j ? json_object_get(j, "time_ms") : NULL;
        if (json_is_integer(t)) {
            int64_t half = (int64_t)((now_ns - cp->sent_ns) / 2000000);
            peer_clock[cp->peer].offset_ms = (int64_t)json_integer_value(t) +
                                             half - (int64_t)nd_now_ms();
            peer_clock[cp->peer].answered = true;
        }
        json_decref(j);
    }
    free(cp);
    if (--clock_probes_out == 0) {
        clock_judge();
        propose();
    }
}

/* Whether the leader may seal now; starts a round of probes when the last
 * is old (the seal then waits for it). */
static bool clock_ok_to_seal(void)
{
    uint64_t now = uv_hrtime();
    bool fresh = clock_round_ns != 0 &&
                 now - clock_round_ns < ND_CLOCK_PROBE_S * 1000000000ull;
    if (fresh || clock_probes_out > 0)
        return fresh && clock_known && !clock_bad;
    for (unsigned i = 0; i < nd.cfg.npeers && i < ND_MAX_PEERS; i++)
        peer_clock[i].answered = false;
    for (unsigned i = 0; i < nd.cfg.npeers && i < ND_MAX_PEERS; i++) {
        if (nd.cfg.peers[i].id == nd.cfg.id)
            continue;
        struct clock_probe *cp = calloc(1, sizeof *cp);
        if (cp == NULL)
            break;
        cp->peer = i;
        cp->sent_ns = uv_hrtime();
        clock_probes_out++;
        if (nd_http_get(nd.cfg.peers[i].api, "/v1/status", "application/json",
                        1000, 1u << 16, clock_probe_cb, cp) != 0) {
            clock_probes_out--;
            free(cp);
        }
    }
    if (clock_probes_out == 0) /* nobody to ask: judge on no answers */
        clock_judge();
    return false;
}

static int make_seal(struct nd_pending **out)
{
    struct lg_status st;
    int rv = lg_status(nd.l, &st);
    if (rv != 0)
        return rv;
    struct lg_w body;
    lg_w_init(&body);
    rv = lg_seal_body(nd.l, &body);
    if (rv == 0)
        rv = lg_w_error(&body);
    if (rv == 0 && nd_fault(ND_FAULT_SEAL_ROOT)) /* credbankd-faulty only */
        nd_fault_seal_body((uint8_t *)lg_w_data(&body), lg_w_len(&body));
    if (rv == 0) {
        uint64_t ts = nd_now_ms();
        if (st.has_seal && ts < st.last_seal_ts)
            ts = st.last_seal_ts;
        rv = make_entry(LG_T_SEAL, st.ledger_id, ts, NULL, 0,
                        lg_w_data(&body), lg_w_len(&body), out);
        if (rv == 0)
            (*out)->is_seal = true;
    }
    lg_w_release(&body);
    return rv;
}

static int seal_id_of(uint64_t index, uint8_t id[32])
{
    MDB_txn *txn;
    int rv = mdb_txn_begin(lg_ledger_env(nd.l), NULL, MDB_RDONLY, &txn);
    if (rv != 0)
        return CB_EIO;
    const uint8_t *leaf;
    size_t len;
    rv = lg_log_get(lg_ledger_log(nd.l), txn, index, &leaf, &len);
    if (rv == 0) {
        struct lg_signed s;
        struct cb_err err = {0, ""};
        lg_signed_init(&s);
        rv = lg_signed_decode(&s, leaf, len, &err);
        if (rv == 0)
            memcpy(id, s.e.id, 32);
        lg_signed_release(&s);
    }
    mdb_txn_abort(txn);
    return rv;
}

static bool fault_forge_now; /* credbankd-faulty: forge this seal's cosigns */

static int make_cosign(const struct lg_status *st, struct nd_pending **out)
{
    char note[512];
    size_t nlen = 0;
    uint8_t seal_id[32];
    int rv = lg_checkpoint_body(nd.l, st->last_seal, note, sizeof note, &nlen);
    if (rv == 0)
        rv = seal_id_of(st->last_seal, seal_id);
    if (rv != 0)
        return rv;
    uint8_t sig[64];
    cy_sign(sig, note, nlen, &nd.key);
    if (nd_fault(ND_FAULT_COSIGN_FORGE) && fault_forge_now)
        sig[0] ^= 0x01; /* credbankd-faulty only: every other seal */
    struct lg_w body;
    lg_w_init(&body);
    lg_w_map(&body, 2); /* canonical key order: sig, size */
    lg_w_cstr(&body, "sig");
    lg_w_bin(&body, sig, 64);
    lg_w_cstr(&body, "size");
    lg_w_uint(&body, st->last_seal);
    rv = lg_w_error(&body);
    if (rv == 0) {
        const uint8_t(*refs)[32] = (const uint8_t(*)[32])seal_id;
        rv = make_entry(LG_T_COSIGN, st->ledger_id, nd_now_ms(), refs, 1,
                        lg_w_data(&body), lg_w_len(&body), out);
        if (rv == 0)
            (*out)->is_cosign = true;
    }
    lg_w_release(&body);
    return rv;
}

/* After a batch: cosign the newest seal if it is new to us. */
static void cosign_new_seal(void)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0 || !st.has_seal)
        return;
    if (nd.cosigned_any && st.last_seal == nd.cosigned_seal)
        return;
    if (nd_removed() || !nd_member_may_cosign(st.last_seal))
        return; /* our member left, or was not one at that seal: a cosign
                   would be refused */
    nd.cosigned_any = true;
    nd.cosigned_seal = st.last_seal;
    int64_t skew = (int64_t)nd_now_ms() - (int64_t)st.last_seal_ts;
    if (skew > ND_COSIGN_WINDOW_MS || skew < -ND_COSIGN_WINDOW_MS)
        return; /* old (replay) or a clock we do not trust: no cosign */
    struct nd_pending *p = NULL;
    if (nd_fault(ND_FAULT_COSIGN_FORGE))
        fault_forge_now = !fault_forge_now;
    int rv = make_cosign(&st, &p);
    if (rv != 0) {
        fprintf(stderr, "credbankd: cannot cosign seal %" PRIu64 ": %s\n",
                st.last_seal, cb_errname(rv));
        return;
    }
    nd.m.cosigns_sent++;
    for (int copy = 0; p != NULL; copy++) {
        if (raft_state(&nd.raft) == RAFT_LEADER) {
            nd_queue(p);
        } else {
            nd_client_send_cosign(p->bytes, p->len);
            nd_pending_free(p);
        }
        p = NULL;
        /* credbankd-faulty only: a second cosign of the same seal (another
         * nonce, so another entry id) */
        if (copy == 0 && nd_fault(ND_FAULT_COSIGN_DUP) &&
            make_cosign(&st, &p) != 0)
            p = NULL;
    }
}

#ifdef CB_FAULT_INJECTION
/* credbankd-faulty, cosign_lie: cosigns a seal its own ledger refused, as
 * a colluding member would (the signature is over a body of its choosing:
 * no honest node can check it, as the seal is no leaf). */
static void fault_cosign_refused(const uint8_t seal_id[32])
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0)
        return;
    static const char lie[] = "a checkpoint this node made up\n";
    uint8_t sig[64];
    cy_sign(sig, lie, sizeof lie - 1, &nd.key);
    struct lg_w body;
    lg_w_init(&body);
    lg_w_map(&body, 2);
    lg_w_cstr(&body, "sig");
    lg_w_bin(&body, sig, 64);
    lg_w_cstr(&body, "size");
    lg_w_uint(&body, st.size);
    struct nd_pending *p = NULL;
    const uint8_t(*refs)[32] = (const uint8_t(*)[32])seal_id;
    if (lg_w_error(&body) == 0 &&
        make_entry(LG_T_COSIGN, st.ledger_id, nd_now_ms(), refs, 1,
                   lg_w_data(&body), lg_w_len(&body), &p) == 0) {
        p->is_cosign = true;
        fprintf(stderr, "credbankd: FAULT cosign_lie: cosigning a refused "
                "seal\n");
        if (raft_state(&nd.raft) == RAFT_LEADER) {
            nd_queue(p);
        } else {
            nd_client_send_cosign(p->bytes, p->len);
            nd_pending_free(p);
        }
    }
    lg_w_release(&body);
}
#endif

/* ---- finality ---- */

static uint64_t last_final_seen = UINT64_MAX;

static void finality_progress(bool force)
{
    if (nd.final_head == NULL)
        return;
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0 || !st.has_final)
        return;
    if (!force && st.final_seal == last_final_seen)
        return;
    last_final_seen = st.final_seal;
    uint64_t now = uv_now(&nd.loop);
    struct nd_pending **pp = &nd.final_head, *p;
    nd.final_tail = &nd.final_head;
    while ((p = *pp) != NULL) {
        if (p->index <= st.final_seal) {
            *pp = p->next;
            double fs = (double)(now - p->t_start) / 1e3;
            nd.m.finality_seconds_sum += fs;
            nd.m.finality_count++;
            nd_observe(nd.m.finality_buckets, fs);
            nd_reply_ok(p, st.final_seal + 1);
            nd_pending_free(p);
        } else {
            pp = &p->next;
            nd.final_tail = pp;
        }
    }
    nd.final_tail = pp;
}

static void final_add(struct nd_pending *p)
{
    p->next = NULL;
    p->deadline = p->t_start + ND_FINAL_TIMEOUT_MS;
    *nd.final_tail = p;
    nd.final_tail = &p->next;
}

static void finality_timeouts(void)
{
    uint64_t now = uv_now(&nd.loop);
    struct nd_pending **pp = &nd.final_head, *p;
    while ((p = *pp) != NULL) {
        if (p->req == NULL || now >= p->deadline) {
            *pp = p->next;
            if (p->req != NULL)
                nd_reply_pending_err(p, CB_ETIMEOUT,
                                     "applied, but not final in time");
            nd_pending_free(p);
        } else {
            pp = &p->next;
        }
    }
    nd.final_tail = pp;
}

void nd_final_abort(int code, const char *msg)
{
    while (nd.final_head != NULL) {
        struct nd_pending *p = nd.final_head;
        nd.final_head = p->next;
        nd_reply_pending_err(p, code, msg);
        nd_pending_free(p);
    }
    nd.final_tail = &nd.final_head;
}

/* ---- divergence ---- */

void nd_diverge(const char *fmt, const char *what, uint64_t index)
{
    if (nd.diverged)
        return;
    nd.diverged = true;
    snprintf(nd.divmsg, sizeof nd.divmsg, fmt, what, index);
    fprintf(stderr, "credbankd: DIVERGED: %s\n", nd.divmsg);
}

/* Looks at the refusals of a batch: remembers refused seals (seal_mismatch)
 * and counts distinct authors of refused cosigns of those seals. */
static void watch_refusals(const struct lg_buf *e, const struct lg_result *res,
                           size_t n, uint64_t raft_index)
{
    struct lg_status st;
    bool have_st = false;
    for (size_t i = 0; i < n; i++) {
        if (res[i].code == 0)
            continue;
        nd_count_rejection(res[i].code);
        if (e[i].p == NULL)
            continue;
        struct lg_signed s;
        struct cb_err err = {0, ""};
        lg_signed_init(&s);
        if (lg_signed_decode(&s, e[i].p, e[i].len, &err) != 0) {
            lg_signed_release(&s);
            continue;
        }
        if (s.e.type == LG_T_SEAL && res[i].code == CB_ESEAL) {
            struct nd_refused *r = &nd.refused[nd.nrefused++ % 8];
            memset(r, 0, sizeof *r);
            memcpy(r->seal, s.e.id, 32);
            fprintf(stderr, "credbankd: refused seal at raft index %" PRIu64
                    ": %s\n", raft_index, res[i].msg);
#ifdef CB_FAULT_INJECTION
            if (nd_fault(ND_FAULT_COSIGN_LIE))
                fault_cosign_refused(s.e.id);
#endif
        } else if (s.e.type == LG_T_COSIGN && s.e.nrefs == 1 &&
                   res[i].code != CB_ECOSIGNDUP) {
            const uint8_t *ref = lg_entry_ref(&s.e, 0);
            unsigned lim = nd.nrefused < 8 ? nd.nrefused : 8;
            for (unsigned k = 0; k < lim; k++) {
                struct nd_refused *r = &nd.refused[k];
                if (memcmp(r->seal, ref, 32) != 0)
                    continue;
                bool seen = false;
                for (unsigned a = 0; a < r->nauthors; a++)
                    if (memcmp(r->authors[a], s.e.author, 32) == 0)
                        seen = true;
                if (!seen && r->nauthors < ND_MAX_PEERS)
                    memcpy(r->authors[r->nauthors++], s.e.author, 32);
                if (!have_st)
                    have_st = lg_status(nd.l, &st) == 0;
                if (have_st && r->nauthors >= st.cosign_quorum)
                    nd_diverge("a seal this node refused (%s) has cosigns of "
                            "a cosign quorum; raft index %" PRIu64,
                            "seal_mismatch", raft_index);
            }
        }
        lg_signed_release(&s);
    }
}

/* ---- the FSM ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                     void **result)
{
    (void)fsm;
    *result = NULL;
    uint64_t index = raft_last_applied(&nd.raft) + 1;
    free(nd.last_res);
    nd.last_res = NULL;
    if (nd.failed || nd.diverged)
        return 0; /* stopped: the Raft log keeps the batch */
    if (nd_catching_up()) {
        /* the ledger is behind a snapshot: keep the batch until the
         * catch-up over the API reaches it (raft keeps it durably too) */
        nd_catchup_defer(index, buf->base, buf->len);
        return 0;
    }
    nd_apply_batch(index, buf->base, buf->len);
    return 0;
}

void nd_apply_batch(uint64_t index, const uint8_t *base, size_t len)
{
    free(nd.last_res);
    nd.last_res = NULL;
    if (nd.failed || nd.diverged)
        return;
    size_t n = 0;
    struct lg_buf *e = NULL;
    struct cb_err berr = {0, ""};
    int brv = lg_batch_decode(base, len, &e, &n, &berr);
    if (brv == CB_ENOMEM) {
        nd.failed = true;
        snprintf(nd.failmsg, sizeof nd.failmsg,
                 "out of memory at raft index %" PRIu64, index);
        return;
    }
    if (brv != 0) { /* never from our leader: skipped the same everywhere */
        fprintf(stderr, "credbankd: raft index %" PRIu64
                ": not a batch, skipped (%s: %s)\n", index,
                cb_errname(brv), cb_errmsg(&berr));
        return;
    }
    struct lg_result *res = calloc(n, sizeof *res);
    if (res == NULL) {
        nd.failed = true;
        snprintf(nd.failmsg, sizeof nd.failmsg,
                 "out of memory at raft index %" PRIu64, index);
        free(e);
        return;
    }
    bool replayed = false;
    struct cb_err err = {0, ""};
    uint64_t t0 = uv_hrtime();
    int rv = lg_apply(nd.l, index, e, n, res, &replayed, &err);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    if (rv != 0) {
        nd.failed = true;
        snprintf(nd.failmsg, sizeof nd.failmsg,
                 "apply of raft index %" PRIu64 " failed (%s): %s", index,
                 cb_errname(rv), cb_errmsg(&err));
        fprintf(stderr, "credbankd: FAIL-STOP: %s\n", nd.failmsg);
        free(res);
        res = NULL;
    } else if (replayed) {
        free(res);
        res = NULL;
    } else {
        nd.m.apply_seconds_sum += secs;
        nd.m.apply_count++;
        nd_observe(nd.m.apply_buckets, secs);
        nd.m.batch_count++;
        nd.m.batch_sum += n;
        static const size_t lim[7] = {1, 4, 16, 64, 256, 1024, 4096};
        unsigned b = 0;
        while (b < 7 && n > lim[b])
            b++;
        nd.m.batch_buckets[b]++;
        watch_refusals(e, res, n, index);
    }
    free(e);
    nd.last_res = res;
    nd.last_res_index = index;
    nd.last_res_n = n;
    if (res != NULL && !nd.failed && !nd.diverged) {
        cosign_new_seal();
        finality_progress(false);
    }
}

/* The snapshot is metadata only: the ledger is its own history. Version 2
 * adds the Raft index of the snapshot (raft 0.15 passes restore only the
 * data), so that catch-up can tag the ledger's applied index with it. */
struct snapmeta {
    uint8_t magic[8];      /* "cbsnap2\0" ("cbsnap1\0": no index) */
    uint64_t size;         /* little-endian host order (same build) */
    uint8_t root[32];
    uint8_t ledger_id[32];
    uint64_t index;        /* v2: the Raft index of the snapshot */
};
#define SNAPMETA_V1_LEN (8 + 8 + 32 + 32)

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                        unsigned *n)
{
    (void)fsm;
    /* The ledger must hold exactly what raft applied: not while catching
     * up (batches deferred) or stopped (batches skipped). RAFT_BUSY makes
     * raft 0.15 try again later without an error. */
    if (nd_catching_up() || nd.failed || nd.diverged)
        return RAFT_BUSY;
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0)
        return RAFT_BUSY;
    struct snapmeta *m = raft_malloc(sizeof *m);
    *bufs = raft_malloc(sizeof **bufs);
    if (m == NULL || *bufs == NULL) {
        raft_free(m);
        raft_free(*bufs);
        return RAFT_NOMEM;
    }
    memset(m, 0, sizeof *m);
    memcpy(m->magic, "cbsnap2", 8);
    m->size = st.size;
    memcpy(m->root, st.root, 32);
    memcpy(m->ledger_id, st.ledger_id, 32);
    /* raft 0.15 takes the snapshot at last_applied, right before calling
     * this (replicationApply -> takeSnapshot) */
    m->index = raft_last_applied(&nd.raft);
    (*bufs)[0].base = m;
    (*bufs)[0].len = sizeof *m;
    *n = 1;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    (void)fsm;
    struct lg_status st;
    int rv = 0;
    const struct snapmeta *m = buf->base;
    bool v2 = buf->len == sizeof(struct snapmeta) &&
              memcmp(m->magic, "cbsnap2", 8) == 0;
    bool v1 = buf->len == SNAPMETA_V1_LEN &&
              memcmp(m->magic, "cbsnap1", 8) == 0;
    if (lg_status(nd.l, &st) != 0) {
        rv = RAFT_IOERR;
    } else if (!v1 && !v2) {
        fprintf(stderr, "credbankd: snapshot: unknown format\n");
        rv = RAFT_MALFORMED;
    } else if (memcmp(m->ledger_id, st.ledger_id, 32) != 0) {
        fprintf(stderr, "credbankd: snapshot of another ledger\n");
        rv = RAFT_MALFORMED;
    } else {
        rv = nd_catchup_restore(m->size, m->root, v2 ? m->index : 0);
    }
    raft_free(buf->base);
    return rv;
}

/* ---- proposing ---- */

static void reply_or_resend(struct nd_pending *p, int code, const char *msg)
{
    if (p->is_seal) {
        nd.seal_pending = false;
    } else if (p->is_cosign && p->req == NULL) {
        if (!nd.failed && !nd.diverged && !nd.closing)
            nd_client_send_cosign(p->bytes, p->len);
    } else if (code == CB_ENOTLEADER) {
        if (p->req != NULL) {
            h2o_req_t *req = p->req;
            p->req = NULL;
            if (p->hook != NULL) {
                *p->hook = NULL;
                p->hook = NULL;
            }
            nd_reply_not_leader(req);
        }
    } else {
        nd_reply_pending_err(p, code, msg);
    }
    nd_pending_free(p);
}

static void batch_done(struct raft_apply *req, int status, void *result)
{
    (void)result;
    struct nd_batch *b = (struct nd_batch *)req;
    nd.inflight--;
    struct lg_result *res = NULL;
    if (status == 0 && nd.last_res != NULL &&
        nd.last_res_index == req->index && nd.last_res_n == b->n)
        res = nd.last_res;
    bool added = false;
    for (size_t i = 0; i < b->n; i++) {
        struct nd_pending *p = b->items[i];
        if (p->is_seal)
            nd.seal_pending = false;
        if (res == NULL) {
            const char *why =
                status != 0 ? "leadership lost or shutting down: outcome "
                              "unknown; retry (a duplicate answers with its "
                              "index)"
                : nd.failed   ? nd.failmsg
                : nd.diverged ? nd.divmsg
                : nd_catching_up()
                    ? "committed, applied once this node's ledger has "
                      "caught up; retry (a duplicate answers with its index)"
                    : "not applied";
            reply_or_resend(p, nd.diverged ? CB_EDIVERGED : CB_EUNAVAILABLE,
                            why);
            continue;
        }
        const struct lg_result *r = &res[i];
        if (r->code == 0 || r->code == CB_EDUPLICATE) {
            p->index = r->index;
            memcpy(p->id, r->id, 32);
            if (p->req == NULL || p->wait_applied) {
                nd_reply_ok(p, 0);
                nd_pending_free(p);
            } else {
                final_add(p);
                added = true;
            }
        } else {
            if (p->is_cosign && p->req == NULL)
                nd.m.cosigns_dropped++;
            nd_reply_pending_err(p, r->code, r->msg);
            nd_pending_free(p);
        }
    }
    free(b->items);
    free(b);
    if (added)
        finality_progress(true);
}

static void propose(void)
{
    if (nd.queue == NULL && !nd.seal_due)
        return;
    if (!nd_leader_ready())
        return;
    if (nd.seal_due && nd.inflight == 0 && !clock_ok_to_seal()) {
        if (clock_bad)
            nd.seal_due = false; /* on_tick hands the leadership over */
    } else if (nd.seal_due) {
        if (nd.inflight > 0)
            return; /* the seal must follow everything applied */
        nd.seal_due = false;
        struct nd_pending *s = NULL;
        int rv = make_seal(&s);
        if (rv == 0) {
            queue_push_front(s);
            nd.seal_pending = true;
            nd.m.seals_proposed++;
        } else if (rv != CB_ESEALEMPTY) {
            fprintf(stderr, "credbankd: cannot build a seal: %s\n",
                    cb_errname(rv));
        }
    }
    /* Group commit: while batches are in flight, entries gather in the
     * queue and go as one batch when a slot frees (the uv_check handle
     * calls propose every loop turn), so a busy leader makes few large
     * batches instead of one small Raft write and LMDB commit per check
     * result. */
    while (nd.queue != NULL && nd.inflight < ND_MAX_INFLIGHT) {
        size_t n = 0, bytes = 0;
        struct nd_pending *p = nd.queue;
        while (p != NULL && n < ND_BATCH_MAX_ENTRIES &&
               (n == 0 || bytes + p->len + 5 <= ND_BATCH_MAX_BYTES)) {
            bytes += p->len + 5;
            n++;
            p = p->next;
        }
        struct nd_batch *b = calloc(1, sizeof *b);
        struct nd_pending **items = calloc(n, sizeof *items);
        struct lg_buf *eb = calloc(n, sizeof *eb);
        struct lg_w w;
        lg_w_init(&w);
        int erv = CB_ENOMEM;
        if (eb != NULL) {
            p = nd.queue;
            for (size_t i = 0; i < n; i++, p = p->next)
                eb[i] = (struct lg_buf){p->bytes, p->len};
            erv = lg_batch_encode(&w, eb, n);
            free(eb);
        }
        struct raft_buffer buf = {NULL, lg_w_len(&w)};
        if (b != NULL && items != NULL && erv == 0)
            buf.base = raft_malloc(buf.len);
        if (buf.base == NULL) {
            lg_w_release(&w);
            free(b);
            free(items);
            return; /* out of memory: try again on the next tick */
        }
        memcpy(buf.base, lg_w_data(&w), buf.len);
        lg_w_release(&w);
        for (size_t i = 0; i < n; i++) {
            items[i] = nd.queue;
            nd.queue = nd.queue->next;
        }
        if (nd.queue == NULL)
            nd.queue_tail = &nd.queue;
        nd.queue_len -= n;
        b->items = items;
        b->n = n;
        b->t_start = uv_now(&nd.loop);
        int rv = raft_apply(&nd.raft, &b->req, &buf, 1, batch_done);
        if (rv != 0) {
            raft_free(buf.base);
            for (size_t i = 0; i < n; i++)
                reply_or_resend(items[i], rv == RAFT_NOTLEADER
                                              ? CB_ENOTLEADER
                                              : CB_EUNAVAILABLE,
                                raft_strerror(rv));
            free(items);
            free(b);
            return;
        }
        nd.inflight++;
    }
}

static void on_check(uv_check_t *h)
{
    (void)h;
    propose();
}

/* ---- role changes, barrier, timers ---- */

static void barrier_done(struct raft_barrier *req, int status)
{
    (void)req;
    nd.barrier_pending = false;
    if (status == 0 && raft_state(&nd.raft) == RAFT_LEADER &&
        !nd_catching_up()) {
        nd.ready_term = nd.raft.current_term;
        fprintf(stderr, "credbankd: leader of term %llu, accepting writes\n",
                (unsigned long long)nd.ready_term);
        propose();
    }
}

static void transfer_done(struct raft_transfer *req)
{
    (void)req;
    transfer_started = false;
}

static void flush_queue_not_leader(void)
{
    while (nd.queue != NULL) {
        struct nd_pending *p = nd.queue;
        nd.queue = p->next;
        reply_or_resend(p, CB_ENOTLEADER, "not the leader");
    }
    nd.queue_tail = &nd.queue;
    nd.queue_len = 0;
    nd.seal_due = false;
}

static unsigned ticks;

/* Raft's own storage failing (faults/ioerror_raft). raft 0.15 reports a
 * failed segment write (io_submit EIO on its O_DIRECT AIO) to no one: it
 * marks its I/O errored and either turns unavailable at the next append
 * (recvCb: it then drops every message) or, when the write was submitted
 * from a completion callback, leaves the appends queued forever while it
 * stays a follower; both store nothing more and look like a node that
 * lags. The node fail-stops instead (failed with the reason in /v1/status,
 * 503 to writes, reads still served, leadership handed over): when Raft is
 * unavailable before raft_close, or when its I/O has an error message (set
 * only on errors: cleared after raft_start) and no entry of its log has
 * been stored for RAFT_STUCK_MS while some wait. */
#define RAFT_STUCK_MS 5000
static void raft_stopped(const char *what)
{
    if (nd.failed)
        return;
    const char *why = nd.io.errmsg[0] ? nd.io.errmsg : raft_errmsg(&nd.raft);
    nd.failed = true;
    snprintf(nd.failmsg, sizeof nd.failmsg, "%.64s (%s): %.160s", what,
             nd.io.errmsg[0] ? "io_error" : "internal",
             why[0] ? why : "no error message");
    fprintf(stderr, "credbankd: FAIL-STOP: %s\n", nd.failmsg);
}

static void watch_raft_storage(int state)
{
    static raft_index stored;
    static uint64_t since;
    if (nd.closing || nd.raft.io == NULL)
        return;
    if (state == RAFT_UNAVAILABLE) {
        raft_stopped("Raft stopped");
        return;
    }
    uint64_t now = uv_now(&nd.loop);
    if (raft_last_index(&nd.raft) <= nd.raft.last_stored ||
        nd.raft.last_stored != stored || since == 0) {
        stored = nd.raft.last_stored;
        since = now;
    } else if (nd.io.errmsg[0] && now - since >= RAFT_STUCK_MS) {
        char what[96];
        snprintf(what, sizeof what, "Raft's log stores nothing past index "
                 "%llu", (unsigned long long)stored);
        raft_stopped(what);
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    int state = raft_state(&nd.raft);
    watch_raft_storage(state);
    if (state == RAFT_LEADER) {
        if ((nd.failed || nd.diverged || nd_catching_up() || clock_bad) &&
            !transfer_started) {
            /* a stopped node, or one whose ledger is behind a snapshot,
             * must not hold the cluster's writes; nor one whose clock its
             * peers do not share (its seals would never be cosigned) */
            if (raft_transfer(&nd.raft, &transfer, 0, transfer_done) == 0)
                transfer_started = true;
        } else if (nd.ready_term != nd.raft.current_term &&
                   !nd.barrier_pending && !nd.failed && !nd.diverged &&
                   !nd_catching_up()) {
            nd.barrier.data = NULL;
            if (raft_barrier(&nd.raft, &nd.barrier, barrier_done) == 0)
                nd.barrier_pending = true;
        }
    } else {
        nd.ready_term = 0;
        if (nd.queue != NULL || nd.seal_due)
            flush_queue_not_leader();
    }
    if (++ticks % 10 == 0)
        finality_timeouts();
    nd_member_tick();
    propose();
}

static void on_seal_timer(uv_timer_t *t)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0)
        return;
    uint64_t iv = st.seal_interval_ms ? st.seal_interval_ms : 1000;
    if (iv < 5)
        iv = 5;
    if (uv_timer_get_repeat(t) != iv)
        uv_timer_set_repeat(t, iv);
    if (!nd_leader_ready() || nd.seal_pending || nd.seal_due)
        return;
    if (st.since_seal > 0) {
        nd.seal_due = true;
        propose();
    }
}

int nd_fsm_start(void)
{
    if (nd_fault_init() != 0) /* credbankd-faulty: unknown CREDBANK_FAULT */
        exit(2);
    nd.queue_tail = &nd.queue;
    nd.final_tail = &nd.final_head;
    uv_check_init(&nd.loop, &nd.check);
    uv_check_start(&nd.check, on_check);
    uv_timer_init(&nd.loop, &nd.tick);
    uv_timer_start(&nd.tick, on_tick, 10, 10);
    struct lg_status st;
    uint64_t iv = 20;
    if (lg_status(nd.l, &st) == 0 && st.seal_interval_ms > 0)
        iv = st.seal_interval_ms;
    if (iv < 5)
        iv = 5;
    uv_timer_init(&nd.loop, &nd.seal_timer);
    uv_timer_start(&nd.seal_timer, on_seal_timer, iv, iv);
    nd.fsm.version = 1;
    nd.fsm.apply = fsm_apply;
    nd.fsm.snapshot = fsm_snapshot;
    nd.fsm.restore = fsm_restore;
    return 0;
}

void nd_fsm_stop(void)
{
    nd_catchup_stop();
    uv_check_stop(&nd.check);
    uv_timer_stop(&nd.tick);
    uv_timer_stop(&nd.seal_timer);
    uv_close((uv_handle_t *)&nd.check, NULL);
    uv_close((uv_handle_t *)&nd.tick, NULL);
    uv_close((uv_handle_t *)&nd.seal_timer, NULL);
    /* answer everyone still waiting */
    while (nd.queue != NULL) {
        struct nd_pending *p = nd.queue;
        nd.queue = p->next;
        nd_reply_pending_err(p, CB_ESHUTDOWN, "node is shutting down");
        nd_pending_free(p);
    }
    nd.queue_tail = &nd.queue;
    while (nd.final_head != NULL) {
        struct nd_pending *p = nd.final_head;
        nd.final_head = p->next;
        nd_reply_pending_err(p, CB_ESHUTDOWN, "node is shutting down");
        nd_pending_free(p);
    }
    nd.final_tail = &nd.final_head;
}
