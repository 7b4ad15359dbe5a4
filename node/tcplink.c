/*
 * raft_uv_tcp with bounded links (tcplink.h is the why).
 *
 * Design. struct tcplink is the outer transport's impl; it embeds an inner
 * raft_uv_tcp transport and keeps the inner's data and impl untouched
 * (they are raft_uv_tcp's): the way back from the inner to the tcplink is
 * the embedding (container_of), never inner.data.
 *
 *   init, listen, close  delegate to the inner transport. listen passes a
 *                        wrapped accept callback: it sets the options on
 *                        the accepted stream (after raft_uv_tcp read the
 *                        handshake), then calls raft's callback with the
 *                        OUTER transport (raft's uv code reads ->data, set
 *                        on the outer one). close closes the inner one and
 *                        cancels our own connects; raft's close callback
 *                        runs, with the outer transport, once both are done.
 *   connect              is ours, so the SYN is bounded too: a uv_tcp_t
 *                        allocated with raft_malloc (raft uv_closes a stream
 *                        it got and frees it with raft_free), its socket
 *                        made at once (uv_tcp_init_ex AF_INET), the options
 *                        set, uv_tcp_connect, then the handshake written in
 *                        clear as raft_uv_tcp writes it, then raft's
 *                        callback with the stream and status 0.
 *
 * The handshake (raft 0.15, src/uv_tcp_connect.c; little endian):
 *   u64 protocol (1) | u64 our server id | u64 L | our address, NUL-padded
 *   to L bytes, L = strlen(address) + 1 rounded up to a multiple of 8.
 *
 * A connect that fails (TCP connect, handshake write) closes its handle and
 * calls back RAFT_NOCONNECTION with no stream; one pending when the
 * transport closes calls back RAFT_CANCELED. Callbacks run on the loop,
 * never within connect or close. A connect whose address does not parse
 * fails at once (the callback is never called), as in raft_uv_tcp.
 */
#include "tcplink.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HS_PROTOCOL 1
#define ADDR_MAX 256

struct pending;

struct tcplink {
    struct raft_uv_transport inner;     /* raft_uv_tcp */
    struct raft_uv_transport *outer;
    uv_loop_t *loop;
    raft_id id;
    char address[ADDR_MAX];
    raft_uv_accept_cb accept_cb;
    raft_uv_transport_close_cb close_cb;
    struct pending *pendings;           /* connects not called back yet */
    bool closing, inner_open;
};

struct pending {
    struct pending *next, **pprev;
    struct tcplink *tl;
    struct raft_uv_connect *req;
    uv_tcp_t *tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_buf_t hs;
    int status;                         /* for the callback after close */
    bool aborting;
};

/* ---- socket options ---- */

int nd_tcplink_opts(uv_tcp_t *tcp)
{
    static bool logged;
    static const struct {
        int name, value;
        const char *what;
    } opts[] = {
        {TCP_USER_TIMEOUT, ND_TCP_USER_TIMEOUT_MS, "TCP_USER_TIMEOUT"},
        {TCP_KEEPINTVL, ND_TCP_KEEPINTVL_S, "TCP_KEEPINTVL"},
        {TCP_KEEPCNT, ND_TCP_KEEPCNT, "TCP_KEEPCNT"},
    };
    const char *what = "uv_fileno";
    uv_os_fd_t fd;
    int rv = uv_fileno((uv_handle_t *)tcp, &fd);
    if (rv == 0) {
        what = "keepalive";
        rv = uv_tcp_keepalive(tcp, 1, ND_TCP_KEEPIDLE_S);
    }
    for (size_t i = 0; rv == 0 && i < sizeof opts / sizeof opts[0]; i++) {
        what = opts[i].what;
        if (setsockopt(fd, IPPROTO_TCP, opts[i].name, &opts[i].value,
                       sizeof opts[i].value) != 0)
            rv = -errno;
    }
    if (rv == 0)
        return 0;
    if (!logged) {
        logged = true;
        fprintf(stderr, "credbankd: warning: setting %s on a peer link: %s "
                "(links may stay stalled after a partition heals; logged "
                "once)\n", what, uv_strerror(rv));
    }
    return -1;
}

/* ---- helpers ---- */

static struct tcplink *of_inner(struct raft_uv_transport *inner)
{
    return (struct tcplink *)((char *)inner - offsetof(struct tcplink, inner));
}

static void maybe_closed(struct tcplink *tl)
{
    if (tl->closing && !tl->inner_open && tl->pendings == NULL &&
        tl->close_cb != NULL) {
        raft_uv_transport_close_cb cb = tl->close_cb;
        tl->close_cb = NULL;
        cb(tl->outer);
    }
}

/* "a.b.c.d[:port]" as raft_uv_tcp reads it (port 8080 when absent) */
static int parse_addr(const char *address, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strchr(address, ':');
    size_t n = colon != NULL ? (size_t)(colon - address) : strlen(address);
    if (n == 0 || n >= sizeof host)
        return RAFT_NOCONNECTION;
    memcpy(host, address, n);
    host[n] = 0;
    int port = colon != NULL ? atoi(colon + 1) : 8080;
    return uv_ip4_addr(host, port, sa) == 0 ? 0 : RAFT_NOCONNECTION;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- connect ---- */

static void pending_unlink(struct pending *p)
{
    *p->pprev = p->next;
    if (p->next != NULL)
        p->next->pprev = p->pprev;
}

/* Calls raft back and forgets p (its handle is closed, or handed over). */
static void pending_finish(struct pending *p, uv_stream_t *s, int status)
{
    struct tcplink *tl = p->tl;
    struct raft_uv_connect *req = p->req;
    pending_unlink(p);
    raft_free(p->hs.base);
    raft_free(p);
    req->cb(req, s, status);
    maybe_closed(tl);
}

static void free_handle(uv_handle_t *h)
{
    raft_free(h);
}

static void on_abort_closed(uv_handle_t *h)
{
    struct pending *p = h->data;
    raft_free(p->tcp);
    p->tcp = NULL;
    pending_finish(p, NULL, p->status);
}

static void pending_abort(struct pending *p, int status)
{
    if (p->aborting)
        return;
    p->aborting = true;
    p->status = status;
    uv_close((uv_handle_t *)p->tcp, on_abort_closed);
}

static void on_written(uv_write_t *w, int status)
{
    struct pending *p = w->data;
    if (p->aborting)
        return; /* closing: on_abort_closed calls back */
    if (status != 0) {
        pending_abort(p, RAFT_NOCONNECTION);
        return;
    }
    p->tcp->data = NULL; /* raft's now */
    pending_finish(p, (uv_stream_t *)p->tcp, 0);
}

static void on_connected(uv_connect_t *c, int status)
{
    struct pending *p = c->data;
    if (p->aborting)
        return;
    if (status != 0) {
        snprintf(p->tl->outer->errmsg, sizeof p->tl->outer->errmsg,
                 "uv_tcp_connect(): %s", uv_strerror(status));
        pending_abort(p, RAFT_NOCONNECTION);
        return;
    }
    if (uv_write(&p->write, (uv_stream_t *)p->tcp, &p->hs, 1, on_written) != 0)
        pending_abort(p, RAFT_NOCONNECTION);
}

static int tl_connect(struct raft_uv_transport *t, struct raft_uv_connect *req,
                      raft_id id, const char *address, raft_uv_connect_cb cb)
{
    struct tcplink *tl = t->impl;
    struct sockaddr_in sa;
    (void)id;
    int rv = parse_addr(address, &sa);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "bad address %.64s", address);
        return rv;
    }
    struct pending *p = raft_calloc(1, sizeof *p);
    if (p == NULL)
        return RAFT_NOMEM;
    size_t alen = strlen(tl->address) + 1;
    alen = (alen + 7) / 8 * 8;
    p->hs.len = 24 + alen;
    p->hs.base = raft_calloc(1, p->hs.len);
    p->tcp = raft_malloc(sizeof *p->tcp);
    if (p->hs.base == NULL || p->tcp == NULL) {
        raft_free(p->hs.base);
        raft_free(p->tcp);
        raft_free(p);
        return RAFT_NOMEM;
    }
    uint8_t *b = (uint8_t *)p->hs.base;
    put64(b, HS_PROTOCOL);
    put64(b + 8, tl->id);
    put64(b + 16, alen);
    memcpy(b + 24, tl->address, strlen(tl->address)); /* NUL-padded */
    rv = uv_tcp_init_ex(tl->loop, p->tcp, AF_INET);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "socket: %s", uv_strerror(rv));
        raft_free(p->hs.base);
        raft_free(p->tcp);
        raft_free(p);
        return RAFT_NOCONNECTION;
    }
    p->tl = tl;
    p->req = req;
    p->tcp->data = p;
    p->connect.data = p;
    p->write.data = p;
    req->cb = cb;
    p->next = tl->pendings;
    if (p->next != NULL)
        p->next->pprev = &p->next;
    p->pprev = &tl->pendings;
    tl->pendings = p;
    uv_tcp_nodelay(p->tcp, 1);
    nd_tcplink_opts(p->tcp); /* before connect: bounds the SYN retries */
    rv = uv_tcp_connect(&p->connect, p->tcp, (const struct sockaddr *)&sa,
                        on_connected);
    if (rv != 0) {
        /* no callback for a connect that fails at once */
        snprintf(t->errmsg, sizeof t->errmsg, "uv_tcp_connect(): %s",
                 uv_strerror(rv));
        pending_unlink(p);
        raft_free(p->hs.base);
        uv_close((uv_handle_t *)p->tcp, free_handle);
        raft_free(p);
        return RAFT_NOCONNECTION;
    }
    return 0;
}

/* ---- init, listen, close: the inner transport ---- */

static int tl_init(struct raft_uv_transport *t, raft_id id,
                   const char *address)
{
    struct tcplink *tl = t->impl;
    if (strlen(address) >= sizeof tl->address) {
        snprintf(t->errmsg, sizeof t->errmsg, "address too long");
        return RAFT_INVALID;
    }
    tl->id = id;
    snprintf(tl->address, sizeof tl->address, "%s", address);
    int rv = tl->inner.init(&tl->inner, id, tl->address);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "%s", tl->inner.errmsg);
        return rv;
    }
    tl->inner_open = true;
    return 0;
}

static void on_inner_accept(struct raft_uv_transport *inner, raft_id id,
                            const char *address, uv_stream_t *s)
{
    struct tcplink *tl = of_inner(inner);
    nd_tcplink_opts((uv_tcp_t *)s);
    tl->accept_cb(tl->outer, id, address, s);
}

static int tl_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct tcplink *tl = t->impl;
    tl->accept_cb = cb;
    int rv = tl->inner.listen(&tl->inner, on_inner_accept);
    if (rv != 0)
        snprintf(t->errmsg, sizeof t->errmsg, "listen on %.64s: %.100s",
                 tl->address, tl->inner.errmsg[0] ? tl->inner.errmsg
                                                  : raft_strerror(rv));
    return rv;
}

static void on_inner_closed(struct raft_uv_transport *inner)
{
    struct tcplink *tl = of_inner(inner);
    tl->inner_open = false;
    maybe_closed(tl);
}

static void tl_close(struct raft_uv_transport *t,
                     raft_uv_transport_close_cb cb)
{
    struct tcplink *tl = t->impl;
    tl->closing = true;
    tl->close_cb = cb;
    for (struct pending *p = tl->pendings; p != NULL; p = p->next)
        pending_abort(p, RAFT_CANCELED);
    /* raft closes a transport only after its init succeeded: the inner
     * one is open, and its close (hence ours) calls back on the loop */
    if (tl->inner_open)
        tl->inner.close(&tl->inner, on_inner_closed);
}

int nd_tcplink_init(struct raft_uv_transport *t, uv_loop_t *loop)
{
    void *data = t->data;
    memset(t, 0, sizeof *t);
    t->data = data;
    struct tcplink *tl = raft_calloc(1, sizeof *tl);
    if (tl == NULL) {
        snprintf(t->errmsg, sizeof t->errmsg, "out of memory");
        return RAFT_NOMEM;
    }
    int rv = raft_uv_tcp_init(&tl->inner, loop);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "%s", tl->inner.errmsg);
        raft_free(tl);
        return rv;
    }
    tl->outer = t;
    tl->loop = loop;
    t->impl = tl;
    t->init = tl_init;
    t->listen = tl_listen;
    t->connect = tl_connect;
    t->close = tl_close;
    return 0;
}

void nd_tcplink_close(struct raft_uv_transport *t)
{
    struct tcplink *tl = t->impl;
    if (tl == NULL)
        return;
    raft_uv_tcp_close(&tl->inner);
    raft_free(tl);
    t->impl = NULL;
}
