/*
 * Raft's links (and the node's HTTP client links) over TLS 1.3, pinned to
 * the members' node keys (transport.h is the overview).
 *
 * A connection (struct conn) owns a TCP handle (ciphertext), an SSL object
 * driven through two memory BIOs, a handshake timer and, once the handshake
 * and the pin check passed, one end ("inner") of an AF_UNIX socketpair
 * whose other end ("outer", a uv_pipe_t allocated with raft_malloc) is
 * handed to raft, or to the HTTP client that dialled. From then on:
 *
 *   TCP read -> BIO_write(rbio) -> SSL_read -> write to inner
 *   inner read -> SSL_write -> BIO_read(wbio) -> write to TCP
 *
 * Backpressure: when the bytes queued towards one side exceed WATER_HIGH,
 * reading from the other side stops until they drain below WATER_LOW (the
 * ciphertext already read waits in rbio). Any error, end of stream, or
 * close on either side closes the whole connection: the TCP socket and
 * inner end are closed, so the holder of the outer end sees end of stream
 * and closes it (raft does, and frees it with raft_free).
 *
 * Handshakes. Outbound (raft connect to id/address): TCP connect, TLS
 * client handshake (the server's key pinned, and it must belong to the
 * member the --peer entry of that id names, when it names one), then the
 * raft preamble [u64 protocol = 1, u64 our id, u64 padded address length,
 * address NUL-padded to 8] written inside TLS, exactly as raft's TCP
 * transport writes it in clear; then raft gets the stream. Inbound: TLS
 * server handshake (the client's key pinned), then the preamble read from
 * inside TLS, the claimed id checked against the key's member, then
 * raft's accept callback. A handshake not done within HS_TIMEOUT_MS fails.
 *
 * Every TCP socket here carries TCP_USER_TIMEOUT and keepalive (tcplink.h:
 * a partition stalls a link instead of failing it): set before connect,
 * so the SYN retries are bounded too, and right after accept.
 */
#include "node.h"
#include "tcplink.h"
#include "tls.h"
#include "transport.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>

#define HS_TIMEOUT_MS 5000
#define WATER_HIGH (1u << 20)
#define WATER_LOW (256u << 10)
#define PIN_PERIOD_MS 100
#define HS_PROTOCOL 1
#define HS_ADDR_MAX 256
#define LOG_EVERY_MS 5000

enum { K_RAFT_OUT, K_RAFT_IN, K_DIAL };
enum { S_TCP, S_TLS, S_PREAMBLE, S_OPEN, S_CLOSED };

struct conn {
    struct conn *next, **pprev;
    int kind, state;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t timer;
    uv_pipe_t inner;
    bool inner_init;
    uv_pipe_t *outer;               /* until handed over */
    unsigned handles;               /* open handles */
    SSL *ssl;
    BIO *rbio, *wbio;               /* network side of the SSL object */
    size_t tcp_queued, inner_queued;
    bool tcp_paused, inner_paused;
    /* outbound raft */
    struct raft_uv_connect *req;
    raft_id id;                     /* expected (out) / claimed (in) */
    char address[HS_ADDR_MAX];
    /* dial */
    nd_dial_cb dial_cb;
    void *dial_data;
    /* inbound preamble */
    uint8_t pre[24];
    size_t pre_n, addr_len, addr_n;
    /* peer */
    bool have_peer;
    uint8_t peer[CY_PK_LEN];
    char peer_name[CY_NAME_MAX + 1];
    char why[256];                  /* reason of failure, for the log */
    bool pin_failed;
};

struct wreq {
    uv_write_t w;
    struct conn *c;
    bool to_tcp;
    size_t len;
    char data[];
};

static struct {
    SSL_CTX *peer_ctx;              /* mutual, pinned */
    SSL_CTX *api_ctx;               /* server only */
    struct nd_tls_pins pins;
    uint64_t pins_gov, pins_members;
    bool pins_loaded;
    uint64_t pins_version;          /* reloads so far */
    uint64_t pins_scanned;          /* version the links were checked at */
    struct nd_tls_stats st;
    struct conn *conns;
    uint64_t last_log;              /* uv_now of the last failure line */
    unsigned quiet;                 /* failures not logged since */
    char rbuf[65536];               /* every read lands here first */
    char sbuf[16384];               /* SSL_read out */
} g;

struct tport {
    struct raft_uv_transport *t;
    uv_loop_t *loop;
    raft_id id;
    char address[HS_ADDR_MAX];
    raft_uv_accept_cb accept_cb;
    uv_tcp_t listener;
    bool listening;
    uv_timer_t pin_timer;
    bool timer_on;
    unsigned handles;               /* listener, timer */
    bool closing;
    raft_uv_transport_close_cb close_cb;
};

static struct tport *g_tp;          /* the raft transport (one per node) */

/* ---- pins: node keys of the members in force ---- */

static void pins_refresh(bool force)
{
    struct lg_status st;
    if (nd.l == NULL || lg_status(nd.l, &st) != 0)
        return;
    if (g.pins_loaded && !force && st.governance == g.pins_gov &&
        st.members == g.pins_members)
        return;
    json_t *v = NULL;
    struct cb_err err = {0, ""};
    if (lg_members_view(nd.l, &v, &err) != 0) {
        fprintf(stderr, "credbankd: tls: pins: %s\n", cb_errmsg(&err));
        return;
    }
    struct nd_tls_pins p;
    memset(&p, 0, sizeof p);
    size_t k;
    json_t *m;
    json_array_foreach(json_object_get(v, "members"), k, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *node = json_string_value(json_object_get(m, "node"));
        uint8_t pk[CY_PK_LEN];
        if (name == NULL || node == NULL ||
            !json_is_true(json_object_get(m, "in_force")) ||
            cy_unhex(pk, sizeof pk, node) != 0)
            continue;
        if (nd_tls_pins_add(&p, pk, name) != 0)
            fprintf(stderr, "credbankd: tls: more than %d members: %s not "
                    "pinned\n", ND_TLS_MAX_PINS, name);
    }
    json_decref(v);
    g.pins = p;
    g.pins_loaded = true;
    g.pins_version++;
    g.pins_gov = st.governance;
    g.pins_members = st.members;
}

/* The member name the --peer entry of raft id names ("" when none). */
static const char *member_of_id(raft_id id)
{
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        if (nd.cfg.peers[i].id == id)
            return nd.cfg.peers[i].member;
    return "";
}

static void conn_log(struct conn *c, const char *what)
{
    uint64_t now = uv_now(&nd.loop);
    if (g.last_log != 0 && now - g.last_log < LOG_EVERY_MS) {
        g.quiet++;
        return;
    }
    char hex[2 * CY_PK_LEN + 1] = "?";
    if (c->have_peer)
        nd_hex(hex, c->peer, CY_PK_LEN);
    const char *dir = c->kind == K_RAFT_OUT ? "raft to"
                      : c->kind == K_RAFT_IN ? "raft from" : "https to";
    fprintf(stderr, "credbankd: tls: %s %s (id %llu, key %s%s%s): %s",
            dir, c->address[0] ? c->address : "?",
            (unsigned long long)c->id, hex, c->peer_name[0] ? " = " : "",
            c->peer_name, what);
    if (g.quiet > 0)
        fprintf(stderr, " (and %u similar lines not shown)", g.quiet);
    fputc('\n', stderr);
    g.quiet = 0;
    g.last_log = now;
}

/* tls.c's pin decision for a peer with key pk. */
static bool pin(void *data, SSL *ssl, const uint8_t pk[CY_PK_LEN])
{
    (void)data;
    struct conn *c = SSL_get_app_data(ssl);
    pins_refresh(false);
    int i = nd_tls_pins_find(&g.pins, pk);
    if (c != NULL) {
        c->have_peer = true;
        memcpy(c->peer, pk, CY_PK_LEN);
        c->peer_name[0] = 0;
        if (i >= 0)
            snprintf(c->peer_name, sizeof c->peer_name, "%s",
                     g.pins.name[i]);
    }
    if (i < 0) {
        if (c != NULL) {
            c->pin_failed = true;
            snprintf(c->why, sizeof c->why, "pin failure: the peer's key is "
                     "not the node key of a member in force");
        }
        return false;
    }
    if (c != NULL && c->kind == K_RAFT_OUT) {
        const char *want = member_of_id(c->id);
        if (want[0] && strcmp(want, g.pins.name[i]) != 0) {
            c->pin_failed = true;
            snprintf(c->why, sizeof c->why, "pin failure: server id %llu is "
                     "member %s, but the peer's key is member %s's",
                     (unsigned long long)c->id, want, g.pins.name[i]);
            return false;
        }
    }
    return true;
}

/* ---- connections ---- */

static void maybe_close_cb(struct tport *tp);
static void pump_in(struct conn *c);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

static void conn_free(struct conn *c)
{
    if (c->next != NULL)
        c->next->pprev = c->pprev;
    *c->pprev = c->next;
    g.st.open--;
    SSL_free(c->ssl); /* frees both BIOs */
    free(c);
    if (g_tp != NULL)
        maybe_close_cb(g_tp);
}

static void handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles == 0)
        conn_free(c);
}

static void outer_closed(uv_handle_t *h)
{
    raft_free(h);
}

/* Closes everything of c; status tells a waiting connect or dial why. */
static void conn_close(struct conn *c, int status)
{
    if (c->state == S_CLOSED)
        return;
    bool handed = c->state == S_OPEN;
    c->state = S_CLOSED;
    if (c->why[0] && !handed) {
        if (c->pin_failed)
            g.st.pin_failures++;
        else
            g.st.failures++;
        conn_log(c, c->why);
    }
    if (c->outer != NULL) {
        uv_close((uv_handle_t *)c->outer, outer_closed);
        c->outer = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    if (c->inner_init)
        uv_close((uv_handle_t *)&c->inner, handle_closed);
    if (c->req != NULL) {
        struct raft_uv_connect *req = c->req;
        c->req = NULL;
        req->cb(req, NULL, status);
    }
    if (c->dial_cb != NULL) {
        nd_dial_cb cb = c->dial_cb;
        c->dial_cb = NULL;
        cb(c->dial_data, NULL, UV_ECONNABORTED);
    }
}

static void conn_fail(struct conn *c, const char *fmt, const char *what)
{
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, fmt, what);
    conn_close(c, RAFT_NOCONNECTION);
}

static void ssl_fail(struct conn *c, const char *when)
{
    char e[200];
    nd_tls_error(c->ssl, e, sizeof e);
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", when, e);
    conn_fail(c, "%s", msg);
}

static void written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    struct conn *c = r->c;
    if (r->to_tcp)
        c->tcp_queued -= r->len;
    else
        c->inner_queued -= r->len;
    free(r);
    if (c->state == S_CLOSED)
        return;
    if (status < 0) {
        conn_fail(c, "write: %s", uv_strerror(status));
        return;
    }
    if (c->inner_paused && c->tcp_queued < WATER_LOW) {
        c->inner_paused = false;
        uv_read_start((uv_stream_t *)&c->inner, on_alloc, on_read);
    }
    if (c->tcp_paused && c->inner_queued < WATER_LOW) {
        c->tcp_paused = false;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        pump_in(c); /* what waited in rbio */
    }
}

static int queue_write(struct conn *c, bool to_tcp, const void *p,
                       size_t len)
{
    struct wreq *r = malloc(sizeof *r + len);
    if (r == NULL)
        return UV_ENOMEM;
    r->c = c;
    r->to_tcp = to_tcp;
    r->len = len;
    memcpy(r->data, p, len);
    uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
    uv_stream_t *s = to_tcp ? (uv_stream_t *)&c->tcp
                            : (uv_stream_t *)&c->inner;
    int rv = uv_write(&r->w, s, &b, 1, written);
    if (rv != 0) {
        free(r);
        return rv;
    }
    if (to_tcp)
        c->tcp_queued += len;
    else
        c->inner_queued += len;
    return 0;
}

/* Sends what the SSL object wrote into wbio. */
static int flush_tcp(struct conn *c)
{
    size_t n;
    while ((n = BIO_ctrl_pending(c->wbio)) > 0) {
        struct wreq *r = malloc(sizeof *r + n);
        if (r == NULL)
            return UV_ENOMEM;
        int got = BIO_read(c->wbio, r->data, (int)n);
        if (got <= 0) {
            free(r);
            return UV_EIO;
        }
        r->c = c;
        r->to_tcp = true;
        r->len = (size_t)got;
        uv_buf_t b = uv_buf_init(r->data, (unsigned)got);
        int rv = uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, written);
        if (rv != 0) {
            free(r);
            return rv;
        }
        c->tcp_queued += (size_t)got;
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h, (void)hint;
    buf->base = g.rbuf;
    buf->len = sizeof g.rbuf;
}

/* The socketpair: inner for us, outer for raft or the dialler. */
static int make_pair(struct conn *c)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    c->outer = raft_malloc(sizeof *c->outer);
    if (c->outer == NULL) {
        close(sv[0]);
        close(sv[1]);
        return UV_ENOMEM;
    }
    uv_pipe_init(&nd.loop, &c->inner, 0);
    c->inner.data = c;
    c->inner_init = true;
    c->handles++;
    uv_pipe_init(&nd.loop, c->outer, 0);
    int rv = uv_pipe_open(&c->inner, sv[0]);
    if (rv != 0) {
        close(sv[0]);
        close(sv[1]);
        return rv;
    }
    rv = uv_pipe_open(c->outer, sv[1]);
    if (rv != 0) {
        close(sv[1]);
        return rv;
    }
    return uv_read_start((uv_stream_t *)&c->inner, on_alloc, on_read);
}

/* The connection is authenticated (and, inbound, the preamble read): give
 * the plaintext stream away. */
static void hand_over(struct conn *c)
{
    int rv = make_pair(c);
    if (rv != 0) {
        conn_fail(c, "socketpair: %s", uv_strerror(rv));
        return;
    }
    uv_timer_stop(&c->timer);
    c->state = S_OPEN;
    g.st.handshakes++;
    uv_stream_t *s = (uv_stream_t *)c->outer;
    c->outer = NULL;
    if (c->kind == K_RAFT_OUT) {
        struct raft_uv_connect *req = c->req;
        c->req = NULL;
        req->cb(req, s, 0);
    } else if (c->kind == K_RAFT_IN) {
        if (g_tp == NULL || g_tp->closing || g_tp->accept_cb == NULL) {
            uv_close((uv_handle_t *)s, outer_closed);
            conn_close(c, RAFT_CANCELED);
            return;
        }
        g_tp->accept_cb(g_tp->t, c->id, c->address, s);
    } else {
        nd_dial_cb cb = c->dial_cb;
        c->dial_cb = NULL;
        if (cb == NULL) {
            uv_close((uv_handle_t *)s, outer_closed);
            conn_close(c, 0);
            return;
        }
        cb(c->dial_data, s, 0);
    }
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Inbound: consumes preamble bytes from p[n]; returns how many were used,
 * or -1 after failing the connection. Hands over when complete. */
static ssize_t preamble(struct conn *c, const uint8_t *p, size_t n)
{
    size_t used = 0;
    if (c->pre_n < sizeof c->pre) {
        size_t k = sizeof c->pre - c->pre_n;
        k = k < n ? k : n;
        memcpy(c->pre + c->pre_n, p, k);
        c->pre_n += k;
        used += k;
        if (c->pre_n < sizeof c->pre)
            return (ssize_t)used;
        uint64_t proto = get_le64(c->pre), len = get_le64(c->pre + 16);
        c->id = get_le64(c->pre + 8);
        if (proto != HS_PROTOCOL || len == 0 || len > HS_ADDR_MAX - 8 ||
            len % 8 != 0 || c->id == 0) {
            conn_fail(c, "%s", "malformed raft preamble");
            return -1;
        }
        c->addr_len = (size_t)len;
        c->addr_n = 0;
    }
    size_t k = c->addr_len - c->addr_n;
    k = k < n - used ? k : n - used;
    memcpy(c->address + c->addr_n, p + used, k);
    c->addr_n += k;
    used += k;
    if (c->addr_n < c->addr_len)
        return (ssize_t)used;
    c->address[c->addr_len] = 0;
    if (memchr(c->address, 0, c->addr_len) == NULL) {
        conn_fail(c, "%s", "malformed raft preamble address");
        return -1;
    }
    const char *want = member_of_id(c->id);
    if (want[0] && strcmp(want, c->peer_name) != 0) {
        c->pin_failed = true;
        snprintf(c->why, sizeof c->why, "pin failure: the peer claims "
                 "server id %llu (member %s), but its key is member %s's",
                 (unsigned long long)c->id, want, c->peer_name);
        conn_close(c, RAFT_NOCONNECTION);
        return -1;
    }
    hand_over(c);
    return c->state == S_OPEN ? (ssize_t)used : -1;
}

static void send_preamble(struct conn *c)
{
    uint8_t buf[24 + HS_ADDR_MAX];
    size_t alen = strlen(nd.cfg.raft) + 1;
    alen = (alen + 7) / 8 * 8;
    memset(buf, 0, sizeof buf);
    put_le64(buf, HS_PROTOCOL);
    put_le64(buf + 8, nd.cfg.id);
    put_le64(buf + 16, alen);
    memcpy(buf + 24, nd.cfg.raft, strlen(nd.cfg.raft));
    SSL_write(c->ssl, buf, (int)(24 + alen));
}

/* Runs the SSL object over what came from the network. */
static void pump_in(struct conn *c)
{
    if (c->state == S_TLS) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e != SSL_ERROR_WANT_READ) {
                flush_tcp(c); /* the alert, when there is one */
                ssl_fail(c, "handshake");
                return;
            }
            if (flush_tcp(c) != 0)
                conn_fail(c, "%s", "write");
            return;
        }
        if (!c->have_peer) { /* the pin callback must have run */
            conn_fail(c, "%s", "no peer certificate");
            return;
        }
        if (c->kind == K_RAFT_OUT)
            send_preamble(c);
        if (flush_tcp(c) != 0) {
            conn_fail(c, "%s", "write");
            return;
        }
        if (c->kind == K_RAFT_IN) {
            c->state = S_PREAMBLE;
        } else {
            hand_over(c);
            if (c->state != S_OPEN)
                return;
        }
    }
    while (c->state == S_PREAMBLE || c->state == S_OPEN) {
        if (c->state == S_OPEN && c->inner_queued >= WATER_HIGH) {
            if (!c->tcp_paused) {
                c->tcp_paused = true;
                uv_read_stop((uv_stream_t *)&c->tcp);
            }
            return;
        }
        int r = SSL_read(c->ssl, g.sbuf, sizeof g.sbuf);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                flush_tcp(c); /* key updates */
                return;
            }
            if (e == SSL_ERROR_ZERO_RETURN)
                conn_close(c, RAFT_NOCONNECTION);
            else
                ssl_fail(c, "read");
            return;
        }
        const uint8_t *p = (const uint8_t *)g.sbuf;
        size_t n = (size_t)r;
        if (c->state == S_PREAMBLE) {
            ssize_t used = preamble(c, p, n);
            if (used < 0)
                return;
            p += used;
            n -= (size_t)used;
        }
        if (n > 0 && c->state == S_OPEN &&
            queue_write(c, false, p, n) != 0) {
            conn_close(c, RAFT_NOCONNECTION);
            return;
        }
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (c->state == S_CLOSED || n == 0)
        return;
    if (n < 0) {
        if (c->state != S_OPEN && !c->why[0])
            snprintf(c->why, sizeof c->why, "%s during the handshake",
                     n == UV_EOF ? "closed by the peer" : uv_strerror((int)n));
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    if (s == (uv_stream_t *)&c->tcp) {
        if (BIO_write(c->rbio, g.rbuf, (int)n) != (int)n) {
            conn_close(c, RAFT_NOCONNECTION);
            return;
        }
        pump_in(c);
        return;
    }
    /* plaintext from raft or the HTTP client */
    if (SSL_write(c->ssl, g.rbuf, (int)n) != (int)n ||
        flush_tcp(c) != 0) {
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    if (c->tcp_queued >= WATER_HIGH && !c->inner_paused) {
        c->inner_paused = true;
        uv_read_stop((uv_stream_t *)&c->inner);
    }
}

static void on_hs_timeout(uv_timer_t *t)
{
    struct conn *c = t->data;
    conn_fail(c, "%s", "handshake timed out");
}

/* A connection with its TCP handle and timer (not yet connected). */
static struct conn *conn_new(int kind, bool server)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->kind = kind;
    c->state = S_TCP;
    c->ssl = SSL_new(g.peer_ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        SSL_free(c->ssl);
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        free(c);
        return NULL;
    }
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_app_data(c->ssl, c);
    if (server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    /* outbound: the socket now, so the options bound the SYN retries too
     * (inbound: after uv_accept) */
    if (server || uv_tcp_init_ex(&nd.loop, &c->tcp, AF_INET) != 0)
        uv_tcp_init(&nd.loop, &c->tcp);
    else
        nd_tcplink_opts(&c->tcp);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_init(&nd.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    uv_timer_start(&c->timer, on_hs_timeout, HS_TIMEOUT_MS, 0);
    c->next = g.conns;
    if (c->next != NULL)
        c->next->pprev = &c->next;
    c->pprev = &g.conns;
    g.conns = c;
    g.st.open++;
    return c;
}

/* TCP up: start reading and send the ClientHello (or wait for it). */
static void start_tls(struct conn *c)
{
    c->state = S_TLS;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_fail(c, "%s", "read");
        return;
    }
    if (SSL_is_server(c->ssl) == 0)
        pump_in(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->state == S_CLOSED)
        return;
    if (status != 0) {
        conn_close(c, RAFT_NOCONNECTION); /* not logged: peer down */
        return;
    }
    start_tls(c);
}

static int conn_dial(struct conn *c, const struct sockaddr_in *sa)
{
    c->connect.data = c;
    int rv = uv_tcp_connect(&c->connect, &c->tcp,
                            (const struct sockaddr *)sa, on_connect);
    if (rv != 0) {
        /* close quietly: the caller reports the failure itself */
        c->req = NULL;
        c->dial_cb = NULL;
        conn_close(c, 0);
    }
    return rv;
}

/* ---- the raft transport ---- */

static int t_init(struct raft_uv_transport *t, raft_id id,
                  const char *address)
{
    struct tport *tp = t->impl;
    tp->id = id;
    snprintf(tp->address, sizeof tp->address, "%s", address);
    return 0;
}

static void on_accept(uv_stream_t *server, int status)
{
    struct tport *tp = server->data;
    if (status != 0 || tp->closing)
        return;
    struct conn *c = conn_new(K_RAFT_IN, true);
    if (c == NULL)
        return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, 0);
        return;
    }
    nd_tcplink_opts(&c->tcp);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET) {
        char ip[64];
        uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
        snprintf(c->address, sizeof c->address, "%s:%d", ip,
                 ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    start_tls(c);
}

static int parse_addr(const char *address, struct sockaddr_in *sa)
{
    char ip[64];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof ip)
        return RAFT_NOCONNECTION;
    memcpy(ip, address, (size_t)(colon - address));
    ip[colon - address] = 0;
    return uv_ip4_addr(ip, atoi(colon + 1), sa) == 0 ? 0 : RAFT_NOCONNECTION;
}

static int t_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct tport *tp = t->impl;
    struct sockaddr_in sa;
    int rv = parse_addr(tp->address, &sa);
    if (rv != 0)
        return rv;
    tp->accept_cb = cb;
    uv_tcp_init(tp->loop, &tp->listener);
    tp->listener.data = tp;
    tp->handles++;
    tp->listening = true;
    rv = uv_tcp_bind(&tp->listener, (const struct sockaddr *)&sa, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&tp->listener, 64, on_accept);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "listen on %.64s: %.100s",
                 tp->address, uv_strerror(rv));
        return RAFT_IOERR;
    }
    return 0;
}

static int t_connect(struct raft_uv_transport *t, struct raft_uv_connect *req,
                     raft_id id, const char *address, raft_uv_connect_cb cb)
{
    struct tport *tp = t->impl;
    struct sockaddr_in sa;
    if (tp->closing)
        return RAFT_CANCELED;
    int rv = parse_addr(address, &sa);
    if (rv != 0)
        return rv;
    struct conn *c = conn_new(K_RAFT_OUT, false);
    if (c == NULL)
        return RAFT_NOMEM;
    req->cb = cb;
    c->req = req;
    c->id = id;
    snprintf(c->address, sizeof c->address, "%s", address);
    if (conn_dial(c, &sa) != 0)
        return RAFT_NOCONNECTION;
    return 0;
}

static void maybe_close_cb(struct tport *tp)
{
    if (!tp->closing || tp->handles > 0 || tp->close_cb == NULL)
        return;
    for (struct conn *c = g.conns; c != NULL; c = c->next)
        if (c->kind != K_DIAL)
            return;
    raft_uv_transport_close_cb cb = tp->close_cb;
    tp->close_cb = NULL;
    cb(tp->t);
}

static void tport_handle_closed(uv_handle_t *h)
{
    struct tport *tp = h->data;
    tp->handles--;
    maybe_close_cb(tp);
}

static void t_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct tport *tp = t->impl;
    tp->closing = true;
    tp->close_cb = cb;
    if (tp->listening) {
        tp->listening = false;
        uv_close((uv_handle_t *)&tp->listener, tport_handle_closed);
    }
    if (tp->timer_on) {
        tp->timer_on = false;
        uv_close((uv_handle_t *)&tp->pin_timer, tport_handle_closed);
    }
    for (struct conn *c = g.conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->kind != K_DIAL)
            conn_close(c, RAFT_CANCELED);
    }
    maybe_close_cb(tp);
}

/* Every 100 ms: pins follow the ledger; cut links whose key left them. */
static void on_pin_timer(uv_timer_t *t)
{
    (void)t;
    pins_refresh(false);
    if (g.pins_scanned == g.pins_version)
        return;
    g.pins_scanned = g.pins_version;
    for (struct conn *c = g.conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state == S_CLOSED || !c->have_peer ||
            nd_tls_pins_find(&g.pins, c->peer) >= 0)
            continue;
        g.st.cut++;
        g.last_log = 0; /* a cut is always logged */
        conn_log(c, "cut: its key is no longer the node key of a member "
                    "in force");
        conn_close(c, RAFT_NOCONNECTION);
    }
}

int nd_transport_init(struct raft_uv_transport *t, uv_loop_t *loop)
{
    struct tport *tp = calloc(1, sizeof *tp);
    if (tp == NULL)
        return RAFT_NOMEM;
    memset(t, 0, sizeof *t);
    tp->t = t;
    tp->loop = loop;
    t->impl = tp;
    t->init = t_init;
    t->listen = t_listen;
    t->connect = t_connect;
    t->close = t_close;
    uv_timer_init(loop, &tp->pin_timer);
    tp->pin_timer.data = tp;
    tp->handles++;
    tp->timer_on = true;
    uv_timer_start(&tp->pin_timer, on_pin_timer, PIN_PERIOD_MS,
                   PIN_PERIOD_MS);
    g_tp = tp;
    return 0;
}

void nd_transport_close(struct raft_uv_transport *t)
{
    if (t->impl == g_tp)
        g_tp = NULL;
    free(t->impl);
    t->impl = NULL;
}

/* ---- HTTPS client links ---- */

int nd_tls_dial(const struct sockaddr_in *sa, uint64_t timeout_ms,
                nd_dial_cb cb, void *data)
{
    if (g.peer_ctx == NULL)
        return UV_EINVAL;
    struct conn *c = conn_new(K_DIAL, false);
    if (c == NULL)
        return UV_ENOMEM;
    if (timeout_ms > 0 && timeout_ms < HS_TIMEOUT_MS)
        uv_timer_start(&c->timer, on_hs_timeout, timeout_ms, 0);
    c->dial_cb = cb;
    c->dial_data = data;
    char ip[32];
    uv_ip4_name(sa, ip, sizeof ip);
    snprintf(c->address, sizeof c->address, "%s:%d", ip, ntohs(sa->sin_port));
    return conn_dial(c, sa);
}

void nd_tls_dial_cancel(void *data)
{
    for (struct conn *c = g.conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->kind == K_DIAL && c->dial_cb != NULL && c->dial_data == data) {
            c->dial_cb = NULL;
            conn_close(c, 0);
        }
    }
}

/* ---- contexts ---- */

int nd_tls_start(void)
{
    char err[256];
    pins_refresh(true);
    if (nd_tls_pins_find(&g.pins, nd.key.pk) < 0)
        fprintf(stderr, "credbankd: tls: WARNING: this node's key is not "
                "the node key of a member in force: peers will refuse its "
                "links\n");
    g.peer_ctx = nd_tls_ctx_new(&nd.key, nd.cfg.name, ND_TLS_MUTUAL, pin,
                                NULL, err, sizeof err);
    if (g.peer_ctx != NULL)
        g.api_ctx = nd_tls_ctx_new(&nd.key, nd.cfg.name, ND_TLS_SERVER_ONLY,
                                   NULL, NULL, err, sizeof err);
    if (g.peer_ctx == NULL || g.api_ctx == NULL) {
        fprintf(stderr, "credbankd: tls: %s\n", err);
        nd_tls_stop();
        return -1;
    }
    return 0;
}

SSL_CTX *nd_tls_api_ctx(void)
{
    return g.api_ctx;
}

void nd_tls_stop(void)
{
    SSL_CTX_free(g.peer_ctx);
    SSL_CTX_free(g.api_ctx);
    g.peer_ctx = g.api_ctx = NULL;
}

void nd_tls_stats(struct nd_tls_stats *s)
{
    *s = g.st;
}
