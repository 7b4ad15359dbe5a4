/*
 * The HTTP API (h2o 2.2.5, libuv flavour) and the Prometheus metrics.
 *
 * One handler at "/" routes by method and path. Every error is
 * {"error": CODE, "message": TEXT} with CODE from errors.h (cb_errname) and
 * the status of cb_errhttp. A POST that passes lg_check becomes a pending
 * entry (fsm.c) and is answered later; a small ref-counted hook in the
 * request's pool tells the pending entry when the client went away, so no
 * answer is ever written to a freed request. spec/api.md is the reference.
 */
#include "node.h"
#include "transport.h"
#include "apiparse.h"
#include "fault.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/bundle.h>
#include <credbank/entry.h>

/* ---- answers ---- */

static void reply_raw(h2o_req_t *req, int status, const char *type,
                      const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : "Error";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                   NULL, type, strlen(type));
    /* a Content-Length rather than chunked: the nodes' own client keeps
     * its link to the leader alive by it (client.c) */
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

void nd_reply_json(h2o_req_t *req, int status, json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        static const char oom[] =
            "{\"error\":\"out_of_memory\",\"message\":\"out of memory\"}\n";
        reply_raw(req, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    size_t len = strlen(s);
    char *b = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(b, s, len);
    b[len] = '\n';
    free(s);
    reply_raw(req, status, "application/json", b, len + 1);
}

/* The code of the last error answered (auth.c's audit records it). */
static int last_err;

void nd_reply_err(h2o_req_t *req, int code, const char *msg)
{
    last_err = code;
    nd_reply_json(req, cb_errhttp(code),
                  json_pack("{s:s,s:s}", "error", cb_errname(code), "message",
                            msg != NULL && *msg ? msg : cb_strerror(code)));
}

void nd_reply_not_leader(h2o_req_t *req)
{
    const char *api = nd_leader_api();
    json_t *j = json_pack("{s:s,s:s}", "error", "not_leader", "message",
                          api ? "this node is not the leader; submit to the "
                                "leader"
                              : "this node is not the leader; no leader "
                                "known yet, retry");
    json_object_set_new(j, "leader", api ? json_string(api) : json_null());
    nd_reply_json(req, 503, j);
}

static h2o_req_t *detach(struct nd_pending *p)
{
    h2o_req_t *req = p->req;
    p->req = NULL;
    if (p->hook != NULL) {
        *p->hook = NULL;
        p->hook = NULL;
    }
    return req;
}

void nd_reply_ok(struct nd_pending *p, uint64_t final)
{
    h2o_req_t *req = detach(p);
    if (req == NULL)
        return;
    char id[65];
    nd_hex(id, p->id, 32);
    json_t *j = json_pack("{s:s,s:I}", "id", id, "index",
                          (json_int_t)p->index);
    if (final != 0)
        json_object_set_new(j, "final", json_integer((json_int_t)final));
    nd_reply_json(req, 200, j);
}

void nd_reply_pending_err(struct nd_pending *p, int code, const char *msg)
{
    h2o_req_t *req = detach(p);
    if (req != NULL)
        nd_reply_err(req, code, msg);
}

static void hook_dispose(void *x)
{
    struct nd_pending **h = x;
    if (*h != NULL) {
        (*h)->req = NULL;
        (*h)->hook = NULL;
    }
}

/* ---- request helpers ---- */

static bool method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

/* The value of query parameter name into out[cap]; false when absent. */
static bool query_param(h2o_req_t *req, const char *name, char *out,
                        size_t cap)
{
    if (req->query_at == SIZE_MAX)
        return false;
    return nd_query_param(req->path.base + req->query_at + 1,
                          req->path.len - req->query_at - 1, name, out, cap);
}

/* Query parameter as uint64 with a default; false (and a 400 sent) when
 * present but malformed, or missing when required. */
static bool param_u64(h2o_req_t *req, const char *name, bool required,
                      uint64_t def, uint64_t *out)
{
    char buf[32];
    if (!query_param(req, name, buf, sizeof buf)) {
        if (required) {
            char msg[96];
            snprintf(msg, sizeof msg, "query parameter %s is required", name);
            nd_reply_err(req, CB_EINVAL, msg);
            return false;
        }
        *out = def;
        return true;
    }
    if (!nd_parse_u64(buf, out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "query parameter %s: not an unsigned "
                 "integer", name);
        nd_reply_err(req, CB_EINVAL, msg);
        return false;
    }
    return true;
}

static bool header_has(h2o_req_t *req, const h2o_token_t *tok,
                       const char *needle)
{
    ssize_t i = h2o_find_header(&req->headers, tok, -1);
    if (i < 0)
        return false;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    return h2o_strstr(v->base, v->len, needle, strlen(needle)) != SIZE_MAX;
}

static bool wants_msgpack(h2o_req_t *req)
{
    return header_has(req, H2O_TOKEN_ACCEPT, "application/msgpack");
}

static json_t *hexstr(const uint8_t *p, size_t n)
{
    char buf[129];
    nd_hex(buf, p, n);
    return json_string(buf);
}

/* ---- POST /v1/entries ---- */

static int status_in_final(uint64_t index, uint64_t *final)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) == 0 && st.has_final && st.final_seal >= index) {
        *final = st.final_seal + 1;
        return 1;
    }
    return 0;
}

/* Whether this node takes writes now; answers the request when not. */
static bool writable(h2o_req_t *req)
{
    if (nd.diverged) {
        nd_reply_err(req, CB_EDIVERGED, nd.divmsg);
        return false;
    }
    if (nd.failed) {
        nd_reply_err(req, CB_EUNAVAILABLE, nd.failmsg);
        return false;
    }
    if (nd.closing) {
        nd_reply_err(req, CB_ESHUTDOWN, "node is shutting down");
        return false;
    }
    if (nd_removed()) {
        nd_reply_err(req, CB_EUNAVAILABLE, "this node was removed from the "
                     "cluster (its member is no longer in force)");
        return false;
    }
    if (raft_state(&nd.raft) != RAFT_LEADER) {
        nd_reply_not_leader(req);
        return false;
    }
    if (!nd_leader_ready()) {
        nd_reply_err(req, CB_EUNAVAILABLE, nd_catching_up()
                     ? "this leader's ledger is catching up; retry shortly"
                     : "new leader: waiting for its barrier; retry shortly");
        return false;
    }
    return true;
}

/*
 * lg_check (decoding, signatures, a dry run of the rules in a write
 * transaction that is aborted) runs on libuv's thread pool, off the loop:
 * the ledger keeps no mutable state outside LMDB, and LMDB lets one write
 * transaction at a time exist, so a check waits for an apply on the loop
 * (and the loop's apply for a check) for at most one rule run; the
 * signature checks, the expensive part, happen before the transaction.
 */
struct nd_check {
    uv_work_t work;
    struct nd_pending *p;
    struct lg_result res;
    int rv;
};

static void check_work(uv_work_t *w)
{
    struct nd_check *c = w->data;
    c->rv = lg_check(nd.l, c->p->bytes, c->p->len, &c->res);
}

static void check_done(uv_work_t *w, int status)
{
    struct nd_check *c = w->data;
    struct nd_pending *p = c->p;
    struct lg_result *res = &c->res;
    nd.checks_inflight--;
    h2o_req_t *req = p->req;
    if (req == NULL) { /* the client went away */
        nd_pending_free(p);
        free(c);
        return;
    }
    if (status != 0 || c->rv != 0) {
        nd_reply_pending_err(p, status != 0 ? CB_ESHUTDOWN : c->rv,
                             "the ledger cannot check entries now");
        nd_pending_free(p);
        free(c);
        return;
    }
    if (res->code != 0 && res->code != CB_EDUPLICATE &&
        !nd_fault(ND_FAULT_SKIP_CHECK)) { /* credbankd-faulty only */
        nd_count_rejection(res->code);
        nd_reply_pending_err(p, res->code, res->msg);
        nd_pending_free(p);
        free(c);
        return;
    }
    memcpy(p->id, res->id, 32);
    if (res->code == CB_EDUPLICATE) {
        /* already in the log: answer like the first time (any node) */
        p->index = res->index;
        uint64_t final = 0;
        if (p->wait_applied || status_in_final(res->index, &final)) {
            nd_reply_ok(p, final);
            nd_pending_free(p);
        } else {
            p->deadline = p->t_start + ND_FINAL_TIMEOUT_MS;
            p->next = NULL;
            *nd.final_tail = p;
            nd.final_tail = &p->next;
        }
        free(c);
        return;
    }
    free(c);
    /* the state may have changed while the check ran */
    if (!nd_leader_ready()) {
        p->req = NULL;
        if (p->hook != NULL) {
            *p->hook = NULL;
            p->hook = NULL;
        }
        nd_pending_free(p);
        writable(req); /* answers: not ready any more */
        return;
    }
    nd_queue(p);
}

static void post_entries(h2o_req_t *req)
{
    if (req->entity.len > ND_BODY_MAX) {
        nd_reply_err(req, CB_EBODYSIZE, "request body over 1 MiB");
        return;
    }
    const uint8_t *body = (const uint8_t *)req->entity.base;
    size_t len = req->entity.len;
    uint8_t *decoded = NULL;
    if (header_has(req, H2O_TOKEN_CONTENT_TYPE, "application/json")) {
        const char *msg;
        int rv = nd_entry_from_json(body, len, &decoded, &len, &msg);
        if (rv != 0) {
            nd_reply_err(req, rv, msg);
            return;
        }
        body = decoded;
    } else if (!header_has(req, H2O_TOKEN_CONTENT_TYPE,
                           "application/msgpack")) {
        nd_reply_err(req, CB_EMEDIA, "Content-Type must be "
                     "application/msgpack (signed entry bytes) or "
                     "application/json ({\"entry\": HEX})");
        return;
    }
    bool wait_applied = false;
    char w[16];
    if (query_param(req, "wait", w, sizeof w)) {
        if (strcmp(w, "applied") == 0) {
            wait_applied = true;
        } else if (strcmp(w, "final") != 0) {
            free(decoded);
            nd_reply_err(req, CB_EINVAL, "wait: applied or final");
            return;
        }
    }
    if (!writable(req)) {
        free(decoded);
        return;
    }
    struct nd_check *c = calloc(1, sizeof *c);
    struct nd_pending *p = calloc(1, sizeof *p);
    if (c == NULL || p == NULL) {
        free(c);
        free(p);
        free(decoded);
        nd_reply_err(req, CB_ENOMEM, NULL);
        return;
    }
    /* the bytes are copied now: h2o may free the request's pool while the
     * check runs on a worker (the client went away) */
    if (decoded != NULL) {
        p->bytes = decoded;
    } else {
        p->bytes = malloc(len ? len : 1);
        if (p->bytes == NULL) {
            free(c);
            free(p);
            nd_reply_err(req, CB_ENOMEM, NULL);
            return;
        }
        memcpy(p->bytes, body, len);
    }
    p->len = len;
    p->wait_applied = wait_applied;
    p->t_start = uv_now(&nd.loop);
    p->req = req;
    p->hook = h2o_mem_alloc_shared(&req->pool, sizeof *p->hook, hook_dispose);
    *p->hook = p;
    c->p = p;
    c->work.data = c;
    if (uv_queue_work(&nd.loop, &c->work, check_work, check_done) != 0) {
        nd_reply_pending_err(p, CB_EUNAVAILABLE, "cannot check entries now");
        nd_pending_free(p);
        free(c);
        return;
    }
    nd.checks_inflight++;
}

/* ---- reads ---- */

static int read_begin(h2o_req_t *req, MDB_txn **txn)
{
    if (mdb_txn_begin(lg_ledger_env(nd.l), NULL, MDB_RDONLY, txn) != 0) {
        nd_reply_err(req, CB_EIO, "cannot read the ledger");
        return -1;
    }
    return 0;
}

static json_t *entry_json(uint64_t index, const uint8_t *leaf, size_t len)
{
    struct lg_signed s;
    struct cb_err err = {0, ""};
    lg_signed_init(&s);
    json_t *j = NULL;
    if (lg_signed_decode(&s, leaf, len, &err) == 0)
        j = json_pack("{s:I,s:o,s:o}", "index", (json_int_t)index, "id",
                      hexstr(s.e.id, 32), "entry", lg_signed_json(&s));
    lg_signed_release(&s);
    return j;
}

static void get_entries(h2o_req_t *req)
{
    uint64_t from, limit;
    if (!param_u64(req, "from", false, 0, &from) ||
        !param_u64(req, "limit", false, 100, &limit))
        return;
    if (limit > 1000) {
        nd_reply_err(req, CB_ERANGE, "limit: at most 1000");
        return;
    }
    MDB_txn *txn;
    if (read_begin(req, &txn))
        return;
    const struct lg_log *log = lg_ledger_log(nd.l);
    uint64_t size = 0;
    lg_log_size(log, txn, &size);
    uint64_t to = from < size ? (size - from < limit ? size : from + limit)
                              : from;
    bool mp = wants_msgpack(req);
    struct lg_w w;
    lg_w_init(&w);
    json_t *arr = mp ? NULL : json_array();
    if (mp)
        lg_w_array(&w, (uint32_t)(to - from));
    int rv = 0;
    for (uint64_t i = from; i < to && rv == 0; i++) {
        const uint8_t *leaf;
        size_t len;
        rv = lg_log_get(log, txn, i, &leaf, &len);
        if (rv != 0)
            break;
        if (mp)
            lg_w_bin(&w, leaf, len);
        else
            json_array_append_new(arr, entry_json(i, leaf, len));
    }
    mdb_txn_abort(txn);
    if (rv != 0) {
        json_decref(arr);
        lg_w_release(&w);
        nd_reply_err(req, rv, "cannot read the log");
        return;
    }
    if (mp) {
        size_t n = lg_w_len(&w);
        char *b = h2o_mem_alloc_pool(&req->pool, n ? n : 1);
        memcpy(b, lg_w_data(&w), n);
        lg_w_release(&w);
        reply_raw(req, 200, "application/msgpack", b, n);
    } else {
        lg_w_release(&w);
        nd_reply_json(req, 200, arr);
    }
}

static void get_entry(h2o_req_t *req, const char *s, size_t n)
{
    char buf[32];
    uint64_t index;
    if (n == 0 || n >= sizeof buf) {
        nd_reply_err(req, CB_EINVAL, "index: not an unsigned integer");
        return;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!nd_parse_u64(buf, &index)) {
        nd_reply_err(req, CB_EINVAL, "index: not an unsigned integer");
        return;
    }
    MDB_txn *txn;
    if (read_begin(req, &txn))
        return;
    const uint8_t *leaf;
    size_t len;
    int rv = lg_log_get(lg_ledger_log(nd.l), txn, index, &leaf, &len);
    if (rv != 0) {
        mdb_txn_abort(txn);
        nd_reply_err(req, rv, rv == CB_ENOTFOUND ? "no entry at that index"
                                                 : "cannot read the log");
        return;
    }
    if (wants_msgpack(req)) {
        char *b = h2o_mem_alloc_pool(&req->pool, len);
        memcpy(b, leaf, len);
        mdb_txn_abort(txn);
        reply_raw(req, 200, "application/msgpack", b, len);
        return;
    }
    json_t *j = entry_json(index, leaf, len);
    mdb_txn_abort(txn);
    if (j == NULL)
        nd_reply_err(req, CB_ECORRUPT, "stored entry does not decode");
    else
        nd_reply_json(req, 200, j);
}

static void get_id(h2o_req_t *req, const char *s, size_t n)
{
    uint8_t id[32];
    if (!nd_parse_id(s, n, id)) {
        nd_reply_err(req, CB_EINVAL, "entry id: 64 hex digits");
        return;
    }
    MDB_txn *txn;
    if (read_begin(req, &txn))
        return;
    uint64_t index;
    int rv = lg_log_find(lg_ledger_log(nd.l), txn, id, &index);
    mdb_txn_abort(txn);
    if (rv != 0)
        nd_reply_err(req, rv, rv == CB_ENOTFOUND ? "no entry with that id"
                                                 : "cannot read the log");
    else
        nd_reply_json(req, 200, json_pack("{s:I}", "index",
                                          (json_int_t)index));
}

struct acct_ctx {
    json_t *arr;
};

static int acct_one(void *ctx, uint64_t index, uint64_t fee)
{
    struct acct_ctx *a = ctx;
    json_array_append_new(a->arr, json_pack("{s:I,s:I}", "index",
                                            (json_int_t)index, "fee",
                                            (json_int_t)fee));
    return 0;
}

static void get_account(h2o_req_t *req, const char *s, size_t n)
{
    bool entries = false, bundle = false;
    static const char suffix[] = "/entries", bsuffix[] = "/bundle";
    if (n > sizeof suffix - 1 &&
        memcmp(s + n - (sizeof suffix - 1), suffix, sizeof suffix - 1) == 0) {
        entries = true;
        n -= sizeof suffix - 1;
    } else if (n > sizeof bsuffix - 1 &&
               memcmp(s + n - (sizeof bsuffix - 1), bsuffix,
                      sizeof bsuffix - 1) == 0) {
        bundle = true;
        n -= sizeof bsuffix - 1;
    }
    uint8_t id[32];
    if (!nd_parse_id(s, n, id)) {
        if (memchr(s, '/', n) != NULL)
            nd_reply_err(req, CB_ENOTFOUND, "no such endpoint");
        else
            nd_reply_err(req, CB_EINVAL, "account id: 64 hex digits");
        return;
    }
    struct cb_err err = {0, ""};
    if (bundle) {
        /* DESIGN 3.5: the bundle for the newest final checkpoint, msgpack.
         * Disclosure (salt, data) is not served: the registrar's personal
         * data store is not part of the node. */
        struct lg_w w;
        lg_w_init(&w);
        int rv = lg_bundle_export(nd.l, id, NULL, &w, &err);
        if (rv == 0)
            rv = lg_w_error(&w);
        if (rv != 0) {
            nd_reply_err(req, rv == CB_ENOTFOUND ? CB_EACCOUNT : rv,
                         rv == CB_ENOTFOUND
                             ? "no such account at the final checkpoint"
                             : cb_errmsg(&err));
        } else {
            size_t len = lg_w_len(&w);
            char *b = h2o_mem_alloc_pool(&req->pool, len);
            memcpy(b, lg_w_data(&w), len);
            reply_raw(req, 200, "application/msgpack", b, len);
        }
        lg_w_release(&w);
        return;
    }
    if (!entries) {
        json_t *v = NULL;
        int rv = lg_account_view(nd.l, id, &v, &err);
        if (rv != 0)
            nd_reply_err(req, rv == CB_ENOTFOUND ? CB_EACCOUNT : rv,
                         rv == CB_ENOTFOUND ? "no such account"
                                            : cb_errmsg(&err));
        else
            nd_reply_json(req, 200, v);
        return;
    }
    uint64_t from, limit;
    if (!param_u64(req, "from", false, 0, &from) ||
        !param_u64(req, "limit", false, 1000, &limit))
        return;
    if (limit > 1000) {
        nd_reply_err(req, CB_ERANGE, "limit: at most 1000");
        return;
    }
    struct acct_ctx a = {json_array()};
    int rv = lg_account_entries(nd.l, id, from, limit, acct_one, &a, &err);
    if (rv != 0) {
        json_decref(a.arr);
        nd_reply_err(req, rv == CB_ENOTFOUND ? CB_EACCOUNT : rv,
                     rv == CB_ENOTFOUND || rv == CB_EACCOUNT
                         ? "no such account"
                         : cb_errmsg(&err));
        return;
    }
    nd_reply_json(req, 200, json_pack("{s:o,s:o}", "account", hexstr(id, 32),
                                      "entries", a.arr));
}

static void get_checkpoint(h2o_req_t *req)
{
    struct lg_status st;
    if (lg_status(nd.l, &st) != 0) {
        nd_reply_err(req, CB_EIO, "cannot read the ledger");
        return;
    }
    if (!st.has_final) {
        nd_reply_err(req, CB_ENOTFOUND, "no final checkpoint yet");
        return;
    }
    char *note = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_checkpoint_note(nd.l, st.final_seal, &note, &err);
    if (rv != 0) {
        nd_reply_err(req, rv, cb_errmsg(&err));
        return;
    }
    size_t n = strlen(note);
    char *b = h2o_mem_alloc_pool(&req->pool, n ? n : 1);
    memcpy(b, note, n);
    free(note);
    reply_raw(req, 200, "text/plain; charset=utf-8", b, n);
}

static json_t *proof_json(const cy_hash *proof, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, hexstr(proof[i], 32));
    return a;
}

static void get_inclusion(h2o_req_t *req)
{
    uint64_t index, size;
    if (!param_u64(req, "index", true, 0, &index))
        return;
    MDB_txn *txn;
    if (read_begin(req, &txn))
        return;
    const struct lg_log *log = lg_ledger_log(nd.l);
    uint64_t cur = 0;
    lg_log_size(log, txn, &cur);
    if (!param_u64(req, "size", false, cur, &size)) {
        mdb_txn_abort(txn);
        return;
    }
    cy_hash proof[CY_PROOF_MAX], leaf, root;
    size_t n = 0;
    int rv = lg_log_inclusion(log, txn, index, size, proof, &n);
    if (rv == 0)
        rv = lg_log_leaf_hash(log, txn, index, leaf);
    if (rv == 0)
        rv = lg_log_root(log, txn, size, root);
    mdb_txn_abort(txn);
    if (rv != 0) {
        nd_reply_err(req, rv, rv == CB_ERANGE
                                  ? "want index < size <= the log's size"
                                  : "cannot compute the proof");
        return;
    }
    nd_reply_json(req, 200,
                  json_pack("{s:I,s:I,s:o,s:o,s:o}", "index",
                            (json_int_t)index, "size", (json_int_t)size,
                            "leaf_hash", hexstr(leaf, 32), "root",
                            hexstr(root, 32), "proof", proof_json(proof, n)));
}

static void get_consistency(h2o_req_t *req)
{
    uint64_t from, to;
    if (!param_u64(req, "from", true, 0, &from))
        return;
    MDB_txn *txn;
    if (read_begin(req, &txn))
        return;
    const struct lg_log *log = lg_ledger_log(nd.l);
    uint64_t cur = 0;
    lg_log_size(log, txn, &cur);
    if (!param_u64(req, "to", false, cur, &to)) {
        mdb_txn_abort(txn);
        return;
    }
    cy_hash proof[CY_PROOF_MAX], r1, r2;
    size_t n = 0;
    int rv = lg_log_consistency(log, txn, from, to, proof, &n);
    if (rv == 0)
        rv = lg_log_root(log, txn, from, r1);
    if (rv == 0)
        rv = lg_log_root(log, txn, to, r2);
    mdb_txn_abort(txn);
    if (rv != 0) {
        nd_reply_err(req, rv, rv == CB_ERANGE
                                  ? "want 0 < from <= to <= the log's size"
                                  : "cannot compute the proof");
        return;
    }
    nd_reply_json(req, 200,
                  json_pack("{s:I,s:I,s:o,s:o,s:o}", "from", (json_int_t)from,
                            "to", (json_int_t)to, "from_root",
                            hexstr(r1, 32), "to_root", hexstr(r2, 32),
                            "proof", proof_json(proof, n)));
}

static void get_members(h2o_req_t *req)
{
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    int rv = lg_members_view(nd.l, &v, &err);
    if (rv != 0)
        nd_reply_err(req, rv, cb_errmsg(&err));
    else
        nd_reply_json(req, 200, v);
}

static const char *role_name(void)
{
    switch (raft_state(&nd.raft)) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_FOLLOWER:
        return "follower";
    default:
        return "unavailable";
    }
}

static void get_status(h2o_req_t *req)
{
    /* A node that cannot read its ledger any more (LMDB refuses every
     * transaction after a failed commit) still says what it is: the ledger
     * fields are those of its last successful read, "ledger_readable"
     * false, so an operator sees "failed" and its reason, not an error. */
    static struct lg_status last;
    static bool have_last;
    struct lg_status st;
    bool readable = lg_status(nd.l, &st) == 0;
    if (readable) {
        last = st;
        have_last = true;
    } else if (have_last) {
        st = last;
    } else {
        memset(&st, 0, sizeof st);
    }
    const char *leader = nd_leader_api();
    json_t *j = json_pack(
        "{s:s,s:I,s:s,s:I,s:I,s:I,s:o,s:I,s:b,s:b,s:b,s:o,s:I,s:I,s:I}",
        "name", nd.cfg.name, "id", (json_int_t)nd.cfg.id, "role", role_name(),
        "term", (json_int_t)nd.raft.current_term, "applied",
        (json_int_t)st.applied_seq, "size", (json_int_t)st.size, "root",
        hexstr(st.root, 32), "accounts", (json_int_t)st.accounts, "diverged",
        nd.diverged, "failed", nd.failed, "ready", nd_leader_ready(),
        "ledger_id", hexstr(st.ledger_id, 32), "members",
        (json_int_t)st.members, "cosign_quorum", (json_int_t)st.cosign_quorum,
        "queue", (json_int_t)nd.queue_len);
    json_object_set_new(j, "leader", leader ? json_string(leader)
                                            : json_null());
    json_object_set_new(j, "final", json_integer(
        st.has_final ? (json_int_t)st.final_seal + 1 : 0));
    json_object_set_new(j, "last_seal", st.has_seal
                                            ? json_integer((json_int_t)st.last_seal)
                                            : json_null());
    json_object_set_new(j, "raft_last_applied", json_integer((json_int_t)
                        raft_last_applied(&nd.raft)));
    json_object_set_new(j, "catching_up", json_boolean(nd.cu.active));
    /* this node's clock (Unix ms): leaders check theirs against it */
    json_object_set_new(j, "time_ms", json_integer((json_int_t)nd_now_ms()));
    if (nd.cu.active) {
        json_object_set_new(j, "catchup_target", json_integer(
                            (json_int_t)nd.cu.target_size));
        json_object_set_new(j, "catchup_deferred", json_integer(
                            (json_int_t)nd.cu.def_count));
    }
    json_object_set_new(j, "ledger_readable", json_boolean(readable));
    if (nd.failed)
        json_object_set_new(j, "failed_reason", json_string(nd.failmsg));
    if (nd.diverged)
        json_object_set_new(j, "diverged_reason", json_string(nd.divmsg));
    nd_member_status(j);
    nd_reply_json(req, 200, j);
}

/* ---- metrics ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n) * 2;
        char *q = realloc(b->p, cap);
        if (q == NULL)
            return;
        b->p = q;
        b->cap = cap;
    }
}

/* A Prometheus histogram over nd_lat_le (buckets are not cumulative). */
static void hist(struct sbuf *b, const char *name, const char *help,
                 const uint64_t *buckets, double sum, uint64_t count)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (unsigned i = 0; i <= ND_LAT_BUCKETS; i++) {
        cum += buckets[i];
        if (i < ND_LAT_BUCKETS)
            sb_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
                      nd_lat_le[i], cum);
        else
            sb_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    }
    sb_printf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, sum, name,
              count);
}

static void get_metrics(h2o_req_t *req)
{
    struct lg_status st;
    memset(&st, 0, sizeof st);
    lg_status(nd.l, &st);
    struct sbuf b = {malloc(4096), 0, 4096};
    if (b.p == NULL) {
        nd_reply_err(req, CB_ENOMEM, NULL);
        return;
    }
    int state = raft_state(&nd.raft);
    sb_printf(&b, "# HELP credbank_role 0 unavailable, 1 follower, "
              "2 candidate, 3 leader.\n# TYPE credbank_role gauge\n"
              "credbank_role %d\n", state);
    sb_printf(&b, "# TYPE credbank_term gauge\ncredbank_term %llu\n",
              (unsigned long long)nd.raft.current_term);
    sb_printf(&b, "# TYPE credbank_applied_index gauge\n"
              "credbank_applied_index %" PRIu64 "\n", st.applied_seq);
    sb_printf(&b, "# TYPE credbank_log_size gauge\ncredbank_log_size %"
              PRIu64 "\n", st.size);
    sb_printf(&b, "# TYPE credbank_final_size gauge\ncredbank_final_size %"
              PRIu64 "\n", st.has_final ? st.final_seal + 1 : 0);
    sb_printf(&b, "# TYPE credbank_accounts gauge\ncredbank_accounts %"
              PRIu64 "\n", st.accounts);
    sb_printf(&b, "# TYPE credbank_queue_entries gauge\n"
              "credbank_queue_entries %zu\n", nd.queue_len);
    static const char *le[8] = {"1", "4", "16", "64", "256", "1024", "4096",
                                "+Inf"};
    sb_printf(&b, "# HELP credbank_batch_entries Entries per applied Raft "
              "batch.\n# TYPE credbank_batch_entries histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < 8; i++) {
        cum += nd.m.batch_buckets[i];
        sb_printf(&b, "credbank_batch_entries_bucket{le=\"%s\"} %" PRIu64
                  "\n", le[i], cum);
    }
    sb_printf(&b, "credbank_batch_entries_sum %" PRIu64 "\n"
              "credbank_batch_entries_count %" PRIu64 "\n",
              nd.m.batch_sum, nd.m.batch_count);
    hist(&b, "credbank_apply_seconds", "Time in lg_apply per Raft batch.",
         nd.m.apply_buckets, nd.m.apply_seconds_sum, nd.m.apply_count);
    hist(&b, "credbank_finality_seconds", "From POST (leader) to the final "
         "answer.", nd.m.finality_buckets, nd.m.finality_seconds_sum,
         nd.m.finality_count);
    sb_printf(&b, "# HELP credbank_rejections_total Entries refused, by "
              "code.\n# TYPE credbank_rejections_total counter\n");
    for (int i = 1; i < ND_MAX_CODES; i++)
        if (nd.m.rejections[i] != 0)
            sb_printf(&b, "credbank_rejections_total{code=\"%s\"} %" PRIu64
                      "\n", cb_errname(CB__FIRST + i), nd.m.rejections[i]);
    sb_printf(&b, "# TYPE credbank_seals_proposed_total counter\n"
              "credbank_seals_proposed_total %" PRIu64 "\n"
              "# TYPE credbank_cosigns_sent_total counter\n"
              "credbank_cosigns_sent_total %" PRIu64 "\n"
              "# HELP credbank_cosign_links_total Connections that carried "
              "cosigns to the leader: opened, or reused kept alive.\n"
              "# TYPE credbank_cosign_links_total counter\n"
              "credbank_cosign_links_total{how=\"opened\"} %" PRIu64 "\n"
              "credbank_cosign_links_total{how=\"reused\"} %" PRIu64 "\n",
              nd.m.seals_proposed, nd.m.cosigns_sent,
              nd.m.cosign_links_opened, nd.m.cosign_links_reused);
    if (nd.cfg.tls) {
        struct nd_tls_stats ts;
        nd_tls_stats(&ts);
        sb_printf(&b, "# HELP credbank_tls_handshakes_total Node-to-node TLS "
                  "links (Raft, and this node's HTTPS clients) by outcome: "
                  "done (and pinned), pin_failure, failure; cut: closed "
                  "when the peer's key left the members in force.\n"
                  "# TYPE credbank_tls_handshakes_total counter\n"
                  "credbank_tls_handshakes_total{outcome=\"done\"} %" PRIu64
                  "\ncredbank_tls_handshakes_total{outcome=\"pin_failure\"} "
                  "%" PRIu64 "\n"
                  "credbank_tls_handshakes_total{outcome=\"failure\"} %" PRIu64
                  "\n# TYPE credbank_tls_cut_total counter\n"
                  "credbank_tls_cut_total %" PRIu64 "\n"
                  "# TYPE credbank_tls_links gauge\n"
                  "credbank_tls_links %u\n",
                  ts.handshakes, ts.pin_failures, ts.failures, ts.cut,
                  ts.open);
    }
    sb_printf(&b, "# HELP credbank_catching_up 1 while the ledger is behind "
              "a Raft snapshot.\n# TYPE credbank_catching_up gauge\n"
              "credbank_catching_up %d\n"
              "# TYPE credbank_catchup_runs_total counter\n"
              "credbank_catchup_runs_total %" PRIu64 "\n"
              "# HELP credbank_catchup_entries_total Entries fetched from "
              "peers and applied by catch-up.\n"
              "# TYPE credbank_catchup_entries_total counter\n"
              "credbank_catchup_entries_total %" PRIu64 "\n",
              nd.cu.active ? 1 : 0, nd.cu.runs,
              nd.cu.entries_total + (nd.cu.active ? nd.cu.fetched : 0));
    sb_printf(&b, "# HELP credbank_removed 1 once this node's member was "
              "removed.\n# TYPE credbank_removed gauge\ncredbank_removed %d\n"
              "# TYPE credbank_raft_voters gauge\ncredbank_raft_voters %u\n"
              "# HELP credbank_membership_changes_total Raft configuration "
              "changes this node made as leader.\n"
              "# TYPE credbank_membership_changes_total counter\n"
              "credbank_membership_changes_total %" PRIu64 "\n",
              nd_removed() ? 1 : 0, nd_member_voters(), nd_member_changes());
    sb_printf(&b, "# TYPE credbank_diverged gauge\ncredbank_diverged %d\n"
              "# TYPE credbank_failed gauge\ncredbank_failed %d\n",
              nd.diverged ? 1 : 0, nd.failed ? 1 : 0);
    char *out = h2o_mem_alloc_pool(&req->pool, b.len ? b.len : 1);
    memcpy(out, b.p, b.len);
    size_t n = b.len;
    free(b.p);
    reply_raw(req, 200, "text/plain; version=0.0.4", out, n);
}

/* ---- routing ---- */

static bool prefix(const h2o_iovec_t *path, const char *pre, const char **rest,
                   size_t *rlen)
{
    size_t n = strlen(pre);
    if (path->len <= n || memcmp(path->base, pre, n) != 0)
        return false;
    *rest = path->base + n;
    *rlen = path->len - n;
    return true;
}

/* The account the entry at index s[n] names, if it names one. */
static bool entry_account(const char *s, size_t n, uint8_t account[32])
{
    char buf[32];
    uint64_t index;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!nd_parse_u64(buf, &index))
        return false;
    MDB_txn *txn;
    if (mdb_txn_begin(lg_ledger_env(nd.l), NULL, MDB_RDONLY, &txn) != 0)
        return false;
    const uint8_t *leaf;
    size_t len;
    bool found = false;
    if (lg_log_get(lg_ledger_log(nd.l), txn, index, &leaf, &len) == 0) {
        struct lg_signed sg;
        struct cb_err err = {0, ""};
        lg_signed_init(&sg);
        if (lg_signed_decode(&sg, leaf, len, &err) == 0) {
            /* account.open names no account: it is the account's id */
            const uint8_t *a = sg.e.account != NULL ? sg.e.account
                               : sg.e.type == LG_T_ACCOUNT_OPEN ? sg.e.id
                                                                : NULL;
            if (a != NULL) {
                memcpy(account, a, 32);
                found = true;
            }
        }
        lg_signed_release(&sg);
    }
    mdb_txn_abort(txn);
    return found;
}

/*
 * Authentication and authorisation of a read (spec/security.md): false,
 * with the request answered (401 or 403) and audited, when refused. The
 * caller runs the handler and then audit_after.
 */
static bool admit(h2o_req_t *req, enum nd_need need, const char *acct,
                  size_t alen, struct nd_ident *id, uint8_t *account,
                  bool *has_account)
{
    char msg[256];
    if (need == ND_NEED_ENTRY) /* acct: the index of /v1/entries/{index} */
        *has_account = entry_account(acct, alen, account);
    else
        *has_account = acct != NULL && alen >= 64 &&
                       nd_parse_id(acct, 64, account) &&
                       (alen == 64 || acct[64] == '/');
    int rv = nd_auth_check(req, id, msg, sizeof msg);
    if (rv == 0)
        rv = nd_auth_allow(id, need, *has_account ? account : NULL, msg,
                           sizeof msg);
    if (rv == 0)
        return true;
    nd_reply_err(req, rv, msg);
    nd_audit_record(id, "GET", req->input.path.base, req->input.path.len,
                    *has_account ? account : NULL, cb_errhttp(rv), rv);
    return false;
}

static void audit_after(h2o_req_t *req, const struct nd_ident *id,
                        const uint8_t *account, bool has_account)
{
    int status = req->res.status;
    nd_audit_record(id, "GET", req->input.path.base, req->input.path.len,
                    has_account ? account : NULL, status,
                    status == 200 ? 0 : last_err);
}

static void get_audit(h2o_req_t *req)
{
    uint64_t since, limit;
    char acc[80];
    uint8_t account[32];
    bool by_account = query_param(req, "account", acc, sizeof acc);
    if (by_account && !nd_parse_id(acc, strlen(acc), account)) {
        nd_reply_err(req, CB_EINVAL, "account: 64 hex digits");
        return;
    }
    if (!param_u64(req, "since", false, 0, &since) ||
        !param_u64(req, "limit", false, 1000, &limit))
        return;
    if (limit > 10000) {
        nd_reply_err(req, CB_ERANGE, "limit: at most 10000");
        return;
    }
    nd_reply_json(req, 200, nd_audit_query(by_account ? account : NULL,
                                           since, (size_t)limit));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct nd_ident who;
    uint8_t account[32];
    bool has_account = false;
    const h2o_iovec_t *path = &req->path_normalized;
    bool get = method_is(req, "GET") || method_is(req, "HEAD");
    bool post = method_is(req, "POST");
    const char *rest;
    size_t rlen;
#define IS(s) h2o_memis(path->base, path->len, s, sizeof(s) - 1)
#define ONLY(cond, allow)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            nd_reply_err(req, CB_EMETHOD, "allowed: " allow);                \
            return 0;                                                        \
        }                                                                    \
    } while (0)
/* a read that needs a signature: refused, or run and audited */
#define GUARDED(need, acct, alen, call)                                      \
    do {                                                                     \
        if (admit(req, need, acct, alen, &who, account, &has_account)) {     \
            last_err = 0;                                                    \
            call;                                                            \
            audit_after(req, &who, account, has_account);                    \
        }                                                                    \
    } while (0)
    if (IS("/v1/entries")) {
        ONLY(get || post, "GET, POST");
        if (post)
            post_entries(req); /* authorised by the entry's signatures */
        else
            GUARDED(ND_NEED_LOG, NULL, 0, get_entries(req));
    } else if (prefix(path, "/v1/entries/", &rest, &rlen)) {
        ONLY(get, "GET");
        GUARDED(ND_NEED_ENTRY, rest, rlen, get_entry(req, rest, rlen));
    } else if (prefix(path, "/v1/ids/", &rest, &rlen)) {
        ONLY(get, "GET");
        get_id(req, rest, rlen); /* an index for an id: no contents */
    } else if (prefix(path, "/v1/accounts/", &rest, &rlen)) {
        ONLY(get, "GET");
        GUARDED(ND_NEED_ACCOUNT, rest, rlen, get_account(req, rest, rlen));
    } else if (IS("/v1/audit")) {
        ONLY(get, "GET");
        GUARDED(ND_NEED_ISSUER, NULL, 0, get_audit(req));
    } else if (IS("/v1/checkpoint")) {
        ONLY(get, "GET");
        get_checkpoint(req);
    } else if (IS("/v1/proof/inclusion")) {
        ONLY(get, "GET");
        get_inclusion(req);
    } else if (IS("/v1/proof/consistency")) {
        ONLY(get, "GET");
        get_consistency(req);
    } else if (IS("/v1/members")) {
        ONLY(get, "GET");
        GUARDED(ND_NEED_ANY, NULL, 0, get_members(req));
    } else if (IS("/v1/status")) {
        ONLY(get, "GET");
        get_status(req);
    } else if (IS("/metrics")) {
        nd_reply_err(req, CB_ENOTFOUND, "metrics are served on the "
                     "--metrics address (127.0.0.1, API port + 1000 by "
                     "default), not on the API");
    } else {
        nd_reply_err(req, CB_ENOTFOUND, "no such endpoint");
    }
#undef IS
#undef ONLY
#undef GUARDED
    return 0;
}

/* ---- the metrics listener (--metrics; spec/security.md) ---- */

static h2o_globalconf_t mconf;
static h2o_context_t mctx;
static h2o_accept_ctx_t maccept;
static uv_tcp_t mlistener;
static bool mlistening;

static int on_metrics_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    const h2o_iovec_t *path = &req->path_normalized;
    if (!h2o_memis(path->base, path->len, H2O_STRLIT("/metrics")))
        nd_reply_err(req, CB_ENOTFOUND, "this address serves /metrics only");
    else if (!method_is(req, "GET") && !method_is(req, "HEAD"))
        nd_reply_err(req, CB_EMETHOD, "allowed: GET");
    else
        get_metrics(req);
    return 0;
}

static void on_metrics_accept(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    uv_tcp_t *conn = malloc(sizeof *conn);
    if (conn == NULL)
        return;
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    h2o_socket_t *sock =
        h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&maccept, sock);
}

/* Listens for /metrics on addr (IPv4:PORT); a failure is reported, not
 * fatal: the API serves on without metrics. */
int nd_metrics_start(const char *addr)
{
    h2o_config_init(&mconf);
    h2o_hostconf_t *host = h2o_config_register_host(
        &mconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h);
    h->on_req = on_metrics_req;
    h2o_context_init(&mctx, &nd.loop, &mconf);
    maccept.ctx = &mctx;
    maccept.hosts = mconf.hosts;
    char ip[64];
    const char *c = strrchr(addr, ':');
    if (c == NULL || (size_t)(c - addr) >= sizeof ip)
        return -1;
    memcpy(ip, addr, (size_t)(c - addr));
    ip[c - addr] = 0;
    struct sockaddr_in sa;
    int rv = uv_ip4_addr(ip, atoi(c + 1), &sa);
    uv_tcp_init(&nd.loop, &mlistener);
    mlistening = true;
    if (rv == 0)
        rv = uv_tcp_bind(&mlistener, (const struct sockaddr *)&sa, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&mlistener, 64, on_metrics_accept);
    if (rv != 0) {
        fprintf(stderr, "credbankd: metrics %s: %s (serving without "
                "metrics)\n", addr, uv_strerror(rv));
        return -1;
    }
    return 0;
}

static void on_accept(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    uv_tcp_t *conn = malloc(sizeof *conn);
    if (conn == NULL)
        return;
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    h2o_socket_t *sock =
        h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&nd.accept_ctx, sock);
}

int nd_api_start(void)
{
    h2o_config_init(&nd.hconf);
    /* h2o's own limit sits above ours so that we answer 413 in JSON */
    nd.hconf.max_request_entity_size = 8 * ND_BODY_MAX;
    h2o_hostconf_t *host = h2o_config_register_host(
        &nd.hconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h);
    h->on_req = on_req;
    h2o_context_init(&nd.hctx, &nd.loop, &nd.hconf);
    nd.accept_ctx.ctx = &nd.hctx;
    nd.accept_ctx.hosts = nd.hconf.hosts;

    char ip[64];
    const char *c = strrchr(nd.cfg.api, ':');
    memcpy(ip, nd.cfg.api, (size_t)(c - nd.cfg.api));
    ip[c - nd.cfg.api] = 0;
    struct sockaddr_in sa;
    uv_ip4_addr(ip, atoi(c + 1), &sa);
    uv_tcp_init(&nd.loop, &nd.listener);
    int rv = uv_tcp_bind(&nd.listener, (const struct sockaddr *)&sa, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&nd.listener, 512, on_accept);
    if (rv != 0) {
        fprintf(stderr, "credbankd: api %s: %s\n", nd.cfg.api,
                uv_strerror(rv));
        return -1;
    }
    return 0;
}

void nd_api_stop(void)
{
    uv_close((uv_handle_t *)&nd.listener, NULL);
    if (mlistening) {
        uv_close((uv_handle_t *)&mlistener, NULL);
        mlistening = false;
    }
}
