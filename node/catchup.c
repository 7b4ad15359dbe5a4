/*
 * Catch-up of the ledger over the peers' HTTP API, and the --join probe.
 *
 * A Raft snapshot holds only ledger metadata (size, root, ledger id, Raft
 * index). When raft restores one (at start from the node's own snapshot, or
 * when the leader installs one) and the local ledger is behind it, the FSM
 * restore does not refuse: it records the target and returns at once, and
 * this file fetches the missing leaves with
 * GET /v1/entries?from=SIZE&limit=N (Accept: application/msgpack, an array
 * of bin) from the peers in turn, applies each chunk with lg_apply (all
 * signatures and rules checked again), and tags the chunk that reaches the
 * snapshot's size with the snapshot's Raft index, so that the ledger's
 * applied index is the snapshot's once its size and root are. Batches raft
 * delivers meanwhile (index > the snapshot's) are kept in memory in order
 * (raft keeps them durably in its log too) and applied once the ledger has
 * reached the snapshot and its root matched. spec/node.md, "Catch-up".
 *
 * The GET client is a minimal HTTP/1.0 client on the loop (one connection
 * per request, answer read to EOF, so h2o answers without chunking;
 * Content-Length honoured when present, chunked answers refused).
 */
#include "node.h"
#include "tcplink.h"
#include "transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define CU_CHUNK_MAX 1000               /* the API's limit */
#define CU_CHUNK_MIN 16
#define CU_APPLY_TARGET_NS 50000000u    /* one chunk's apply blocks the loop:
                                           keep it near 50 ms */
#define CU_TIMEOUT_MS 5000
#define CU_MAX_BODY (64u << 20)
#define CU_RETRY_MS 100
#define CU_DEFER_MAX_BYTES ((size_t)1 << 30)

/* ---- HTTP GET ---- */

struct get {
    struct get *next, **pprev;          /* live list (for shutdown) */
    uv_tcp_t tcp;
    uv_stream_t *s;                     /* &tcp, or a TLS link's stream */
    bool dialing;                       /* https: nd_tls_dial under way */
    uv_connect_t conn;
    uv_write_t wr;
    uv_timer_t timer;
    char req[2048];                     /* with the request signature */
    uint8_t *buf;
    size_t len, cap, max;
    nd_get_cb cb;
    void *data;
    int open_handles;
    bool done;
};

static struct get *live_gets;

static void get_closed(uv_handle_t *h)
{
    struct get *g = h->data;
    if (h != (uv_handle_t *)&g->tcp && h != (uv_handle_t *)&g->timer)
        raft_free(h); /* the stream of a TLS link (transport.h) */
    if (--g->open_handles == 0) {
        free(g->buf);
        free(g);
    }
}

static void get_release(struct get *g)
{
    if (g->pprev != NULL) {
        *g->pprev = g->next;
        if (g->next != NULL)
            g->next->pprev = g->pprev;
        g->pprev = NULL;
    }
    g->open_handles = 1;
    if (g->dialing)
        nd_tls_dial_cancel(g);
    g->dialing = false;
    if (g->s != NULL) {
        g->open_handles++;
        uv_close((uv_handle_t *)g->s, get_closed);
    }
    uv_close((uv_handle_t *)&g->timer, get_closed);
}

static void get_parse(struct get *g, int *status, const uint8_t **body,
                      size_t *blen)
{
    *status = 0;
    *body = NULL;
    *blen = 0;
    const uint8_t *p = g->buf;
    size_t n = g->len;
    const uint8_t *eoh = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
            eoh = p + i;
            break;
        }
    if (eoh == NULL || n < 12 || memcmp(p, "HTTP/1.", 7) != 0)
        return;
    char head[8192];
    size_t hl = (size_t)(eoh - p);
    if (hl >= sizeof head)
        return;
    memcpy(head, p, hl);
    head[hl] = 0;
    int st = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &st) != 1)
        return;
    const uint8_t *b = eoh + 4;
    size_t bl = n - (size_t)(b - p);
    bool have_cl = false;
    unsigned long long cl = 0;
    for (char *line = strstr(head, "\r\n"); line != NULL;
         line = strstr(line + 2, "\r\n")) {
        char *l = line + 2;
        if (strncasecmp(l, "content-length:", 15) == 0) {
            have_cl = true;
            cl = strtoull(l + 15, NULL, 10);
        } else if (strncasecmp(l, "transfer-encoding:", 18) == 0) {
            return; /* chunked: not expected from credbankd */
        }
    }
    if (have_cl) {
        if (bl < cl)
            return; /* truncated */
        bl = (size_t)cl;
    }
    *status = st;
    *body = b;
    *blen = bl;
}

static void get_finish(struct get *g, bool ok)
{
    if (g->done)
        return;
    g->done = true;
    uv_timer_stop(&g->timer);
    int status = 0;
    const uint8_t *body = NULL;
    size_t blen = 0;
    if (ok)
        get_parse(g, &status, &body, &blen);
    g->cb(g->data, status, body, blen);
    get_release(g);
}

static void get_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct get *g = h->data;
    if (g->cap - g->len < 65536 && g->cap < g->max + 65536) {
        size_t cap = g->cap * 2 < g->max + 65536 ? g->cap * 2
                                                 : g->max + 65536;
        uint8_t *q = realloc(g->buf, cap);
        if (q != NULL) {
            g->buf = q;
            g->cap = cap;
        }
    }
    buf->base = (char *)g->buf + g->len;
    buf->len = g->cap - g->len;
}

static void get_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct get *g = s->data;
    if (g->done)
        return;
    if (n > 0) {
        g->len += (size_t)n;
        if (g->len >= g->cap && g->cap >= g->max + 65536) {
            uv_read_stop(s);
            get_finish(g, false); /* too large */
        }
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    get_finish(g, n == UV_EOF);
}

static void get_written(uv_write_t *w, int status)
{
    struct get *g = w->data;
    if (status != 0)
        get_finish(g, false);
}

static void get_connected(uv_connect_t *c, int status)
{
    struct get *g = c->data;
    if (g->done)
        return;
    if (status != 0) {
        get_finish(g, false);
        return;
    }
    uv_buf_t b = uv_buf_init(g->req, (unsigned)strlen(g->req));
    g->wr.data = g;
    if (uv_write(&g->wr, g->s, &b, 1, get_written) != 0 ||
        uv_read_start(g->s, get_alloc, get_read) != 0)
        get_finish(g, false);
}

static void get_dialed(void *data, uv_stream_t *s, int status)
{
    struct get *g = data;
    g->dialing = false;
    if (status == 0) {
        s->data = g;
        g->s = s;
    }
    get_connected(&g->conn, status);
}

static void get_timeout(uv_timer_t *t)
{
    get_finish(t->data, false);
}

int nd_http_get(const char *base_url, const char *path, const char *accept,
                uint64_t timeout_ms, size_t max_body, nd_get_cb cb,
                void *data)
{
    char ip[64];
    const char *colon;
    /* https://: over a TLS link pinned to a member's node key */
    size_t skip = base_url != NULL &&
                  strncmp(base_url, "https://", 8) == 0 ? 8 : 7;
    if (base_url == NULL ||
        (skip == 7 && strncmp(base_url, "http://", 7) != 0) ||
        (colon = strrchr(base_url + skip, ':')) == NULL ||
        (size_t)(colon - (base_url + skip)) >= sizeof ip)
        return -1;
    memcpy(ip, base_url + skip, (size_t)(colon - (base_url + skip)));
    ip[colon - (base_url + skip)] = 0;
    int port = atoi(colon + 1);
    struct sockaddr_in sa;
    if (uv_ip4_addr(ip, port, &sa) != 0)
        return -1;
    struct get *g = calloc(1, sizeof *g);
    if (g == NULL)
        return -1;
    g->cap = 65536;
    g->buf = malloc(g->cap);
    if (g->buf == NULL) {
        free(g);
        return -1;
    }
    g->max = max_body;
    g->cb = cb;
    g->data = data;
    /* reads of the log need a signature (spec/security.md): this node's
     * key, a node key of a member, may read it */
    char authority[96], sig[1600];
    snprintf(authority, sizeof authority, "%s:%d", ip, port);
    if (nd_auth_sign_get(authority, path, sig, sizeof sig) != 0)
        sig[0] = 0;
    int n = snprintf(g->req, sizeof g->req,
                     "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: %s\r\n"
                     "%sConnection: close\r\n\r\n",
                     path, authority, accept, sig);
    if (n < 0 || (size_t)n >= sizeof g->req) {
        free(g->buf);
        free(g);
        return -1;
    }
    uv_timer_init(&nd.loop, &g->timer);
    g->tcp.data = g;
    g->timer.data = g;
    g->conn.data = g;
    g->next = live_gets;
    if (live_gets != NULL)
        live_gets->pprev = &g->next;
    live_gets = g;
    g->pprev = &live_gets;
    int rv;
    if (skip == 8) {
        rv = nd_tls_dial(&sa, timeout_ms, get_dialed, g);
        g->dialing = rv == 0;
    } else {
        /* the socket now, so its options bound the SYN too (tcplink.h) */
        if (uv_tcp_init_ex(&nd.loop, &g->tcp, AF_INET) == 0)
            nd_tcplink_opts(&g->tcp);
        else
            uv_tcp_init(&nd.loop, &g->tcp);
        g->s = (uv_stream_t *)&g->tcp;
        rv = uv_tcp_connect(&g->conn, &g->tcp, (const struct sockaddr *)&sa,
                            get_connected);
    }
    if (rv != 0) {
        g->done = true;
        get_release(g);
        return -1;
    }
    uv_timer_start(&g->timer, get_timeout, timeout_ms, 0);
    return 0;
}

/* Ends every GET in flight; their callbacks see status 0. */
static void gets_abort(void)
{
    while (live_gets != NULL)
        get_finish(live_gets, false);
}

/* ---- catch-up ---- */

#define cu nd.cu

bool nd_catching_up(void)
{
    return cu.active;
}

/* The fetched chunk whose signatures the pool verifies (lg_prepare) while
 * the chunk before it is applied on the loop and the next one is fetched:
 * catch-up overlaps verification with rules and commit as bench_apply
 * does, instead of fetch, verify, apply, one after the other. */
static struct {
    struct lg_prep *prep;               /* NULL: none */
    struct lg_buf *e;                   /* into body */
    uint8_t *body;
    size_t n;
    uint64_t from;                      /* ledger size it starts at */
} ready;

static void ready_drop(void)
{
    if (ready.prep != NULL)
        lg_prep_free(ready.prep);
    free(ready.e);
    free(ready.body);
    memset(&ready, 0, sizeof ready);
}

/* Drops what catch-up holds: the batches raft delivered meanwhile and the
 * chunk not applied yet. */
static void defer_free_all(void)
{
    ready_drop();
    while (cu.def_head != NULL) {
        struct nd_deferred *d = cu.def_head;
        cu.def_head = d->next;
        free(d);
    }
    cu.def_tail = &cu.def_head;
    cu.def_count = 0;
    cu.def_bytes = 0;
}

void nd_catchup_defer(uint64_t index, const uint8_t *base, size_t len)
{
    if (cu.def_tail == NULL)
        cu.def_tail = &cu.def_head;
    struct nd_deferred *d = malloc(sizeof *d + len);
    if (d == NULL || cu.def_bytes + len > CU_DEFER_MAX_BYTES) {
        free(d);
        nd.failed = true;
        snprintf(nd.failmsg, sizeof nd.failmsg,
                 "catch-up: cannot keep raft index %" PRIu64 " in memory "
                 "while the ledger catches up (%zu batches kept); restart "
                 "the node to resume from the Raft log", index,
                 cu.def_count);
        fprintf(stderr, "credbankd: FAIL-STOP: %s\n", nd.failmsg);
        cu.active = false;
        defer_free_all();
        return;
    }
    d->next = NULL;
    d->index = index;
    d->len = len;
    memcpy(d->data, base, len);
    *cu.def_tail = d;
    cu.def_tail = &d->next;
    cu.def_count++;
    cu.def_bytes += len;
}

static void cu_fail(const char *fmt, uint64_t index)
{
    nd.failed = true;
    snprintf(nd.failmsg, sizeof nd.failmsg, fmt, index);
    fprintf(stderr, "credbankd: FAIL-STOP: %s\n", nd.failmsg);
    cu.active = false;
    defer_free_all();
}

/* The ledger's head into st; on failure catch-up fail-stops. */
static int status_or_fail(struct lg_status *st)
{
    if (lg_status(nd.l, st) == 0)
        return 0;
    cu_fail("catch-up: cannot read the ledger (at raft index %" PRIu64 ")",
            cu.target_index);
    return -1;
}

/* The root of the local log at size into root; 0 or a CB_E* code. */
static int local_root(uint64_t size, uint8_t root[32])
{
    MDB_txn *txn;
    if (mdb_txn_begin(lg_ledger_env(nd.l), NULL, MDB_RDONLY, &txn) != 0)
        return CB_EIO;
    int rv = lg_log_root(lg_ledger_log(nd.l), txn, size, root);
    mdb_txn_abort(txn);
    return rv;
}

/* Tags the ledger with the snapshot's Raft index (an empty batch). */
static int tag_index(uint64_t index)
{
    struct cb_err err = {0, ""};
    bool replayed = false;
    struct lg_result dummy;
    int rv = lg_apply(nd.l, index, NULL, 0, &dummy, &replayed, &err);
    if (rv != 0)
        cu_fail("catch-up: cannot record raft index %" PRIu64
                " in the ledger", index);
    return rv;
}

static void cu_step(void);
static uint64_t fetch_ns, apply_ns;     /* of the current catch-up */
static uint64_t chunk = 128;            /* entries per GET, adapted */

static void cu_timer_cb(uv_timer_t *t)
{
    (void)t;
    cu_step();
}

static void cu_schedule(uint64_t ms)
{
    if (!cu.timer_init) {
        uv_timer_init(&nd.loop, &cu.timer);
        cu.timer_init = true;
    }
    uv_timer_start(&cu.timer, cu_timer_cb, ms, 0);
}

/* The ledger reached the snapshot's size: check the root, then apply what
 * raft delivered meanwhile. */
static void cu_finish(const struct lg_status *st)
{
    uint8_t root[32];
    char want[65], got[65];
    if (local_root(cu.target_size, root) != 0) {
        cu_fail("catch-up: cannot read the root at size %" PRIu64,
                cu.target_size);
        return;
    }
    if (memcmp(root, cu.target_root, 32) != 0) {
        nd_hex(want, cu.target_root, 32);
        nd_hex(got, root, 32);
        fprintf(stderr, "credbankd: catch-up: root at size %" PRIu64
                " is %s, the snapshot says %s\n", cu.target_size, got, want);
        nd_diverge("catch-up: the ledger's root differs from the Raft "
                   "snapshot's (%s) at size %" PRIu64, "root_mismatch",
                   cu.target_size);
        cu.active = false;
        defer_free_all();
        return;
    }
    if (cu.target_index != 0 && st->size == cu.target_size &&
        st->applied_seq < cu.target_index &&
        tag_index(cu.target_index) != 0)
        return;
    uint64_t ms = (uv_hrtime() - cu.t_start) / 1000000u;
    nd_hex(got, root, 32);
    fprintf(stderr, "credbankd: catch-up done: %" PRIu64 " entries over the "
            "HTTP API in %" PRIu64 " ms (%.0f entries/s; fetching %" PRIu64
            " ms, applying %" PRIu64 " ms); ledger size %"
            PRIu64 " root %s matches the snapshot at raft index %" PRIu64
            "; applying %zu batches raft delivered meanwhile\n",
            cu.fetched, ms, ms ? (double)cu.fetched * 1e3 / (double)ms : 0.0,
            fetch_ns / 1000000u, apply_ns / 1000000u,
            cu.target_size, got, cu.target_index, cu.def_count);
    cu.entries_total += cu.fetched;
    cu.active = false;
    while (cu.def_head != NULL && !nd.failed && !nd.diverged) {
        struct nd_deferred *d = cu.def_head;
        cu.def_head = d->next;
        nd_apply_batch(d->index, d->data, d->len);
        free(d);
    }
    free(nd.last_res); /* no raft callback waits for these results */
    nd.last_res = NULL;
    defer_free_all();
}

/* Splits a msgpack array of bin into bufs pointing into p. */
static int split_bins(const uint8_t *p, size_t len, struct lg_buf **out,
                      size_t *n)
{
    size_t off = 0, count;
    if (len < 1)
        return -1;
    if ((p[0] & 0xf0) == 0x90) {
        count = p[0] & 0x0f;
        off = 1;
    } else if (p[0] == 0xdc && len >= 3) {
        count = (size_t)p[1] << 8 | p[2];
        off = 3;
    } else if (p[0] == 0xdd && len >= 5) {
        count = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
                (size_t)p[3] << 8 | p[4];
        off = 5;
    } else {
        return -1;
    }
    if (count > len)
        return -1;
    struct lg_buf *b = calloc(count ? count : 1, sizeof *b);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t hl, bl;
        if (off >= len)
            goto bad;
        uint8_t t = p[off];
        if (t == 0xc4 && off + 2 <= len) {
            hl = 2;
            bl = p[off + 1];
        } else if (t == 0xc5 && off + 3 <= len) {
            hl = 3;
            bl = (size_t)p[off + 1] << 8 | p[off + 2];
        } else if (t == 0xc6 && off + 5 <= len) {
            hl = 5;
            bl = (size_t)p[off + 1] << 24 | (size_t)p[off + 2] << 16 |
                 (size_t)p[off + 3] << 8 | p[off + 4];
        } else {
            goto bad;
        }
        if (bl > len - off - hl)
            goto bad;
        b[i] = (struct lg_buf){p + off + hl, bl};
        off += hl + bl;
    }
    if (off != len)
        goto bad;
    *out = b;
    *n = count;
    return 0;
bad:
    free(b);
    return -1;
}

struct cu_req {
    uint64_t from;
    char peer[128];
    uint64_t t_sent;                    /* uv_hrtime of the GET */
};

static struct cu_req cur;

static void cu_retry(const char *why)
{
    cu.failures++;
    if (cu.failures <= 3 || cu.failures % 50 == 0)
        fprintf(stderr, "credbankd: catch-up: %s from %s (attempt %u); "
                "trying another peer\n", why, cur.peer, cu.failures);
    cu_schedule(cu.failures < 3 ? 0 : CU_RETRY_MS);
}

/* Where the next chunk starts: after the ready chunk, else at the ledger's
 * size. */
static uint64_t next_from(const struct lg_status *st)
{
    return ready.prep != NULL ? ready.from + ready.n : st->size;
}

/* Applies the ready chunk (its verification done or finishing on the
 * pool). Returns false when catch-up stopped (failed, diverged) or must
 * fetch that chunk again. */
static bool ready_apply(void)
{
    if (ready.prep == NULL)
        return true;
    size_t n = ready.n;
    uint64_t from = ready.from;
    struct lg_status st;
    if (status_or_fail(&st) != 0) /* cu_fail drops the ready chunk */
        return false;
    struct lg_result *res = calloc(n, sizeof *res);
    if (st.size != from || res == NULL) {
        free(res);
        ready_drop();
        cu_retry(res == NULL ? "out of memory" : "ledger moved");
        return false;
    }
    uint64_t seq = from + n == cu.target_size ? cu.target_index : 0;
    struct cb_err err = {0, ""};
    bool replayed = false;
    uint64_t t0 = uv_hrtime();
    struct lg_prep *prep = ready.prep;
    ready.prep = NULL;
    int rv = lg_apply_prepared(nd.l, seq, prep, res, &replayed, &err);
    uint64_t took = uv_hrtime() - t0;
    apply_ns += took;
    ready_drop();
    /* lg_apply runs on the loop: adapt the chunk so that one apply stays
     * near CU_APPLY_TARGET_NS (Raft heartbeats and the API wait meanwhile) */
    if (n == chunk && took < CU_APPLY_TARGET_NS / 2 && chunk < CU_CHUNK_MAX)
        chunk = chunk * 2 > CU_CHUNK_MAX ? CU_CHUNK_MAX : chunk * 2;
    else if (took > CU_APPLY_TARGET_NS * 2 && chunk > CU_CHUNK_MIN)
        chunk /= 2;
    if (rv != 0) {
        free(res);
        fprintf(stderr, "credbankd: catch-up: apply failed: %s: %s\n",
                cb_errname(rv), cb_errmsg(&err));
        cu_fail("catch-up: apply failed at ledger size %" PRIu64, from);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].code != 0 || res[i].index != from + i) {
            fprintf(stderr, "credbankd: catch-up: entry %" PRIu64 " from %s "
                    "refused: %s: %s\n", from + i, cur.peer,
                    cb_errname(res[i].code), res[i].msg);
            free(res);
            nd_diverge("catch-up: %s: an entry fetched from a peer was "
                       "refused at ledger index %" PRIu64, "entry_refused",
                       from + i);
            cu.active = false;
            defer_free_all();
            return false;
        }
    }
    free(res);
    if (replayed) {
        cu_fail("catch-up: the ledger had applied raft index %" PRIu64
                " already but is behind its snapshot", seq);
        return false;
    }
    cu.fetched += n;
    return true;
}

static void cu_fetch(uint64_t from);

static void cu_got(void *data, int status, const uint8_t *body, size_t len)
{
    (void)data;
    cu.fetching = false;
    if (!cu.active || nd.closing || nd.failed || nd.diverged)
        return;
    uint64_t t_got = uv_hrtime();
    fetch_ns += t_got - cur.t_sent;
    if (status != 200) {
        cu_retry(status ? "HTTP error" : "no answer");
        return;
    }
    struct lg_status st;
    if (status_or_fail(&st) != 0)
        return;
    uint64_t from = next_from(&st);
    if (cur.from != from) {
        cu_retry("stale answer");
        return;
    }
    /* the body outlives this callback: the pool verifies it meanwhile */
    uint8_t *copy = malloc(len ? len : 1);
    struct lg_buf *e = NULL;
    size_t n = 0;
    if (copy == NULL) {
        cu_retry("out of memory");
        return;
    }
    memcpy(copy, body, len);
    if (split_bins(copy, len, &e, &n) != 0) {
        free(copy);
        cu_retry("not a msgpack array of bin");
        return;
    }
    if (n == 0) {
        free(e);
        free(copy);
        cu_retry("no entries (peer behind)");
        return;
    }
    if (n > cu.target_size - from)
        n = (size_t)(cu.target_size - from);
    struct lg_prep *prep = NULL;
    if (lg_prepare(nd.l, e, n, &prep) != 0) {
        free(e);
        free(copy);
        cu_retry("out of memory");
        return;
    }
    cu.failures = 0;
    /* the next GET goes out (its connect at least) before the chunk ahead
     * of this one applies, while the pool verifies this one */
    bool more = from + n < cu.target_size;
    if (more)
        cu_fetch(from + n);
    if (!ready_apply()) {
        lg_prep_free(prep);
        free(e);
        free(copy);
        return;
    }
    ready.prep = prep;
    ready.e = e;
    ready.body = copy;
    ready.n = n;
    ready.from = from;
    if (!more)
        cu_step(); /* applies it and finishes */
}

static const char *pick_peer(void)
{
    /* the leader first (it has everything committed), then the others */
    const char *leader = nd_leader_api();
    if (cu.failures == 0 && leader != NULL) {
        for (unsigned i = 0; i < nd.cfg.npeers; i++)
            if (nd.cfg.peers[i].id != nd.cfg.id &&
                strcmp(nd.cfg.peers[i].api, leader) == 0)
                return leader;
    }
    for (unsigned k = 0; k < nd.cfg.npeers; k++) {
        const struct nd_peer *p = &nd.cfg.peers[cu.peer++ % nd.cfg.npeers];
        if (p->id != nd.cfg.id)
            return p->api;
    }
    return NULL;
}

static void cu_fetch(uint64_t from)
{
    const char *peer = pick_peer();
    if (peer == NULL) {
        cu_fail("catch-up: no peer to fetch from (raft index %" PRIu64 ")",
                cu.target_index);
        return;
    }
    uint64_t limit = cu.target_size - from;
    if (limit > chunk)
        limit = chunk;
    char path[96];
    snprintf(path, sizeof path, "/v1/entries?from=%" PRIu64 "&limit=%" PRIu64,
             from, limit);
    cur.from = from;
    cur.t_sent = uv_hrtime();
    snprintf(cur.peer, sizeof cur.peer, "%s", peer);
    if (nd_http_get(peer, path, "application/msgpack", CU_TIMEOUT_MS,
                    CU_MAX_BODY, cu_got, NULL) != 0) {
        cu_retry("cannot connect");
        return;
    }
    cu.fetching = true;
}

static void cu_step(void)
{
    if (!cu.active || cu.fetching || nd.closing || nd.failed || nd.diverged)
        return;
    struct lg_status st;
    if (status_or_fail(&st) != 0)
        return;
    if (next_from(&st) >= cu.target_size) {
        /* everything fetched: apply the last chunk, then check the root */
        if (ready.prep != NULL) {
            if (!ready_apply())
                return;
            if (status_or_fail(&st) != 0)
                return;
        }
        if (st.size >= cu.target_size)
            cu_finish(&st);
        else
            cu_schedule(0);
        return;
    }
    cu_fetch(next_from(&st));
}

int nd_catchup_restore(uint64_t size, const uint8_t root[32], uint64_t index)
{
    /* Raft now says the state is the snapshot's: every batch kept so far
     * has an index at most the snapshot's and is covered by it. */
    defer_free_all();
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0) {
        cu_fail("cannot read the ledger to restore the snapshot at raft "
                "index %" PRIu64, index);
        return 0;
    }
    cu.target_size = size;
    memcpy(cu.target_root, root, 32);
    cu.target_index = index;
    if (st.size >= size) {
        /* not behind: the snapshot must be a prefix of the local log */
        cu.active = false;
        uint8_t r[32];
        if (local_root(size, r) != 0) {
            cu_fail("cannot read the ledger's root to restore the snapshot "
                    "at raft index %" PRIu64, index);
        } else if (memcmp(r, root, 32) != 0) {
            nd_diverge("snapshot restore: the ledger's root differs from the "
                       "snapshot's (%s) at raft index %" PRIu64,
                       "root_mismatch", index);
        } else if (index != 0 && st.size == size && st.applied_seq < index) {
            tag_index(index);
        }
        return 0;
    }
    if (index != 0 && st.applied_seq >= index) {
        nd_diverge("snapshot restore: the ledger applied raft index %s%"
                   PRIu64 " but is smaller than the snapshot", "",
                   st.applied_seq);
        return 0;
    }
    if (!cu.active) {
        cu.active = true;
        cu.start_size = st.size;
        cu.t_start = uv_hrtime();
        fetch_ns = apply_ns = 0;
        cu.fetched = 0;
        cu.failures = 0;
        cu.runs++;
    }
    fprintf(stderr, "credbankd: catch-up: raft snapshot at index %" PRIu64
            " needs ledger size %" PRIu64 ", local size %" PRIu64
            ": fetching %" PRIu64 " entries from peers over the HTTP API\n",
            index, size, st.size, size - st.size);
    cu_schedule(0);
    return 0;
}

void nd_catchup_stop(void)
{
    cu.active = false;
    if (cu.timer_init) {
        uv_timer_stop(&cu.timer);
        uv_close((uv_handle_t *)&cu.timer, NULL);
        cu.timer_init = false;
    }
    gets_abort();
    defer_free_all();
}

#undef cu

/* ---- --join: the peers' terms ---- */

struct probe {
    uint64_t maxterm;
    unsigned answers;
    bool leader_seen;
};

static void probe_cb(void *data, int status, const uint8_t *body, size_t len)
{
    struct probe *p = data;
    if (status != 200)
        return;
    json_t *j = json_loadb((const char *)body, len, 0, NULL);
    json_t *t = json_object_get(j, "term");
    if (json_is_integer(t)) {
        p->answers++;
        uint64_t term = (uint64_t)json_integer_value(t);
        if (term > p->maxterm)
            p->maxterm = term;
        if (json_is_string(json_object_get(j, "leader")))
            p->leader_seen = true;
    }
    json_decref(j);
}

uint64_t nd_join_probe(uint64_t timeout_ms, unsigned *answers)
{
    uint64_t deadline = uv_now(&nd.loop) + timeout_ms;
    unsigned others = nd.cfg.npeers - 1, need = nd.cfg.npeers / 2;
    for (;;) {
        struct probe p = {0, 0, false};
        for (unsigned i = 0; i < nd.cfg.npeers; i++)
            if (nd.cfg.peers[i].id != nd.cfg.id)
                nd_http_get(nd.cfg.peers[i].api, "/v1/status",
                            "application/json", 1000, 1u << 20, probe_cb,
                            &p);
        uv_run(&nd.loop, UV_RUN_DEFAULT);
        uv_update_time(&nd.loop);
        *answers = p.answers;
        if (p.answers >= need && p.answers > 0 && p.leader_seen)
            return p.maxterm;
        if (others == 0 || uv_now(&nd.loop) >= deadline)
            return 0;
        uv_sleep(200);
        uv_update_time(&nd.loop);
    }
}
