/*
 * A minimal HTTP/1.1 client over libuv that carries this node's cosigns to
 * the leader: one request per attempt ("POST /v1/entries?wait=applied",
 * Content-Type application/msgpack), on a kept-alive connection when one to
 * that leader is idle, else on a new one (TCP, or TLS pinned to a member's
 * node key: nd_tls_dial). The answer is complete at its Content-Length (or
 * at the end of the stream); its status line and JSON body are judged:
 *
 *   200                      done
 *   409 cosign_duplicate     dropped silently (the member cosigned already)
 *   503 not_leader           retried at the "leader" URL of the answer
 *   503 other, 504, connect  retried at the leader Raft names now
 *   anything else            dropped, logged
 *
 * at most ND_CLIENT_TRIES attempts, 2 s each. When the node itself is the
 * leader the cosign is queued locally instead.
 *
 * Connections. A follower cosigns every seal (every 20 ms under load), so a
 * connection per cosign meant a TLS handshake per seal on the finality path
 * (two round trips and four Ed25519 operations before the cosign is even
 * sent). A connection that delivered a complete answer with a
 * Content-Length and without "Connection: close" goes back to a pool of at
 * most ND_CLIENT_IDLE idle links (the oldest is closed for a newer one);
 * an idle link reads, so the peer closing it (h2o's keep-alive timeout, a
 * pin cut, a restart) closes it here at once. A request on a reused link
 * whose peer closed it before answering anything is retried on a new link
 * at once (a cosign repeated is answered cosign_duplicate). A link that
 * timed out, failed or answered in a way that is not reusable is closed.
 *
 * h2o 2.2.5's http1client was not used: its API ties a client to an h2o
 * socket pool and context callbacks that change between minor versions;
 * this is smaller and enough for one request type.
 */
#include "node.h"
#include "tcplink.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define ND_CLIENT_TRIES 20
#define ND_CLIENT_TIMEOUT_MS 2000
#define ND_CLIENT_MAX 64
#define ND_CLIENT_IDLE 4

struct client;

/* One connection to a leader's API. */
struct link {
    uv_tcp_t tcp;            /* plaintext: the socket */
    uv_stream_t *s;          /* &tcp, or a TLS link's stream; NULL: none */
    uv_connect_t connect;
    uv_write_t write;        /* in the link: cancelled writes call back
                              * before its close callback frees it */
    bool dialing;            /* https: nd_tls_dial under way */
    bool connecting;         /* http: uv_tcp_connect under way */
    bool closing;
    bool reused;             /* the request on it is not its first */
    char target[96];         /* "http(s)://ip:port" it was opened to */
    struct client *c;        /* the request in flight; NULL when idle */
    struct link *next;       /* in the idle list */
};

/* One cosign being delivered. */
struct client {
    uv_timer_t timer;
    uint8_t *body;
    size_t len;
    char *reqbuf;
    char url[128];           /* target; empty: ask raft_leader() */
    char resp[4096];         /* the answer's head (the rest is counted) */
    size_t rlen;             /* bytes kept in resp */
    size_t got;              /* bytes of the answer received */
    int tries;
    struct link *link;       /* the attempt's link, or NULL */
};

static unsigned active;
static struct link *idle;    /* newest first */
static unsigned nidle;

static void attempt(struct client *c);

/* ---- links ---- */

static void link_freed(uv_handle_t *h)
{
    struct link *l = h->data;
    if (h != (uv_handle_t *)&l->tcp)
        raft_free(h); /* the stream of a TLS link (transport.h) */
    free(l);
}

static void idle_remove(struct link *l)
{
    for (struct link **p = &idle; *p != NULL; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            l->next = NULL;
            nidle--;
            return;
        }
}

/* Closes l (idle or not) and frees it once libuv let it go. */
static void link_close(struct link *l)
{
    if (l->closing)
        return;
    l->closing = true;
    idle_remove(l);
    l->c = NULL;
    if (l->dialing) { /* nothing of ours is open yet */
        nd_tls_dial_cancel(l);
        free(l);
        return;
    }
    if (l->s == NULL) {
        free(l);
        return;
    }
    uv_read_stop(l->s);
    l->s->data = l;
    if (!uv_is_closing((uv_handle_t *)l->s))
        uv_close((uv_handle_t *)l->s, link_freed);
}

/* ---- ending an attempt ---- */

static void client_free_cb(uv_handle_t *h)
{
    struct client *c = h->data;
    free(c->body);
    free(c->reqbuf);
    free(c);
    active--;
}

static void on_retry_timer(uv_timer_t *t)
{
    attempt(t->data);
}

/* Puts l back among the idle links, or closes it. */
static void link_release(struct link *l, bool reusable)
{
    l->c = NULL;
    if (!reusable || nd.closing || l->closing || l->s == NULL) {
        link_close(l);
        return;
    }
    if (nidle >= ND_CLIENT_IDLE) { /* make room: close the oldest */
        struct link *o = idle;
        while (o->next != NULL)
            o = o->next;
        link_close(o);
    }
    l->next = idle;
    idle = l;
    nidle++;
}

/* Ends this attempt: the link back to the pool (reusable) or closed; then
 * a retry after retry_ms, or the cosign dropped when retry_ms < 0. */
static void finish(struct client *c, int retry_ms, bool reusable)
{
    uv_timer_stop(&c->timer);
    if (c->link != NULL) {
        struct link *l = c->link;
        c->link = NULL;
        link_release(l, reusable);
    }
    if (retry_ms >= 0 && c->tries < ND_CLIENT_TRIES && !nd.closing) {
        uv_timer_start(&c->timer, on_retry_timer, (uint64_t)retry_ms, 0);
        return;
    }
    if (retry_ms >= 0)
        fprintf(stderr, "credbankd: cosign not delivered after %d tries\n",
                c->tries);
    uv_close((uv_handle_t *)&c->timer, client_free_cb);
}

/* The header block's end (after its blank line), or NULL. */
static const char *head_end(const struct client *c)
{
    const char *e = strstr(c->resp, "\r\n\r\n");
    return e ? e + 4 : NULL;
}

/* A header's value in the head (case-insensitive name), or NULL. */
static const char *header(const char *head, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL && p + 2 < end;
         p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

/* The answer's full length (head + Content-Length), or 0 when unknown
 * (no complete head yet, or no Content-Length: read to the end). */
static size_t answer_len(const struct client *c, bool *keep)
{
    const char *end = head_end(c);
    *keep = false;
    if (end == NULL)
        return 0;
    const char *cl = header(c->resp, end, "Content-Length");
    if (cl == NULL)
        return 0;
    char *stop;
    unsigned long long n = strtoull(cl, &stop, 10);
    if (stop == cl || n > (1u << 20))
        return 0;
    const char *conn = header(c->resp, end, "Connection");
    *keep = conn == NULL || strncasecmp(conn, "close", 5) != 0;
    return (size_t)(end - c->resp) + (size_t)n;
}

static void judge(struct client *c, bool reusable)
{
    c->resp[c->rlen < sizeof c->resp ? c->rlen : sizeof c->resp - 1] = 0;
    int status = 0;
    if (sscanf(c->resp, "HTTP/1.%*d %d", &status) != 1) {
        c->url[0] = 0;
        finish(c, 200, false);
        return;
    }
    if (status == 200) {
        finish(c, -1, reusable);
        return;
    }
    const char *body = head_end(c);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error"));
    const char *leader = json_string_value(json_object_get(j, "leader"));
    if (status == 409 && code && strcmp(code, "cosign_duplicate") == 0) {
        finish(c, -1, reusable);
    } else if (status == 503 && code && strcmp(code, "not_leader") == 0) {
        if (leader && strlen(leader) < sizeof c->url)
            strcpy(c->url, leader);
        else
            c->url[0] = 0;
        finish(c, leader ? 0 : 100, reusable);
    } else if (status == 503 || status == 504) {
        c->url[0] = 0;
        finish(c, 100, reusable);
    } else {
        fprintf(stderr, "credbankd: cosign refused by the leader: %d %s\n",
                status, code ? code : "");
        nd.m.cosigns_dropped++;
        finish(c, -1, reusable);
    }
    json_decref(j);
}

/* ---- reading and writing ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct link *l = h->data;
    struct client *c = l->c;
    static char sink[1024];
    size_t room = c ? sizeof c->resp - 1 - c->rlen : 0;
    if (room == 0) { /* idle, or the head is kept: count the rest */
        buf->base = sink;
        buf->len = sizeof sink;
    } else {
        buf->base = c->resp + c->rlen;
        buf->len = room;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct link *l = s->data;
    struct client *c = l->c;
    if (n == 0)
        return;
    if (c == NULL) { /* idle: the peer closed it, or sent what nobody asked */
        link_close(l);
        return;
    }
    if (n > 0) {
        if (buf->base == c->resp + c->rlen) {
            c->rlen += (size_t)n;
            c->resp[c->rlen] = 0;
        }
        c->got += (size_t)n;
        bool keep;
        size_t want = answer_len(c, &keep);
        if (want == 0 || c->got < want)
            return;
        /* complete: more bytes than announced would be a broken peer */
        judge(c, keep && c->got == want);
        return;
    }
    uv_read_stop(s);
    if (n == UV_EOF && c->got > 0) {
        judge(c, false);
    } else if (l->reused && c->got == 0) {
        /* the peer closed the kept link before it saw this request: once
         * more at once, on a new link */
        finish(c, 0, false);
    } else {
        c->url[0] = 0;
        finish(c, 200, false);
    }
}

static void on_write(uv_write_t *w, int status)
{
    struct link *l = w->data;
    struct client *c = l->c;
    if (status == 0 || l->closing || c == NULL)
        return;
    bool stale = l->reused && c->got == 0;
    if (!stale)
        c->url[0] = 0;
    finish(c, stale ? 0 : 200, false);
}

/* Sends c's request on its (connected) link. */
static void send_request(struct client *c)
{
    struct link *l = c->link;
    uv_buf_t bufs[2] = {
        uv_buf_init(c->reqbuf, (unsigned)strlen(c->reqbuf)),
        uv_buf_init((char *)c->body, (unsigned)c->len),
    };
    l->write.data = l;
    l->s->data = l;
    uv_read_stop(l->s);
    if (uv_write(&l->write, l->s, bufs, 2, on_write) != 0 ||
        uv_read_start(l->s, on_alloc, on_read) != 0)
        finish(c, 200, false);
}

static void on_connect(uv_connect_t *cr, int status)
{
    struct link *l = cr->data;
    l->connecting = false;
    if (l->closing)
        return;
    struct client *c = l->c;
    if (status != 0 || c == NULL) {
        if (c != NULL) {
            c->url[0] = 0;
            finish(c, 200, false);
        } else {
            link_close(l);
        }
        return;
    }
    send_request(c);
}

static void on_dialed(void *data, uv_stream_t *s, int status)
{
    struct link *l = data;
    l->dialing = false;
    if (status == 0) {
        s->data = l;
        l->s = s;
    }
    on_connect(&l->connect, status);
}

static void on_timeout(uv_timer_t *t)
{
    struct client *c = t->data;
    c->url[0] = 0;
    finish(c, 0, false);
}

/* Queues the cosign locally when this node leads. */
static bool queue_local(struct client *c)
{
    if (raft_state(&nd.raft) != RAFT_LEADER)
        return false;
    struct nd_pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        return false;
    p->bytes = c->body;
    p->len = c->len;
    p->is_cosign = true;
    p->t_start = uv_now(&nd.loop);
    c->body = NULL;
    nd_queue(p);
    return true;
}

/* An idle link to target, taken out of the pool, or NULL. */
static struct link *idle_take(const char *target)
{
    for (struct link *l = idle; l != NULL; l = l->next)
        if (strcmp(l->target, target) == 0) {
            idle_remove(l);
            return l;
        }
    return NULL;
}

/* A new link to sa for c (TLS when tls); false when it could not start. */
static bool link_open(struct client *c, const char *target,
                      const struct sockaddr_in *sa, bool tls)
{
    struct link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return false;
    snprintf(l->target, sizeof l->target, "%s", target);
    l->c = c;
    l->connect.data = l;
    l->tcp.data = l;
    c->link = l;
    if (tls) { /* a TLS link pinned to a member's node key */
        l->dialing = nd_tls_dial(sa, ND_CLIENT_TIMEOUT_MS, on_dialed, l) == 0;
        if (!l->dialing) {
            c->link = NULL;
            free(l);
            return false;
        }
        return true;
    }
    /* the socket now, so its options bound the SYN too (tcplink.h) */
    if (uv_tcp_init_ex(&nd.loop, &l->tcp, AF_INET) == 0)
        nd_tcplink_opts(&l->tcp);
    else
        uv_tcp_init(&nd.loop, &l->tcp);
    l->s = (uv_stream_t *)&l->tcp;
    l->connecting = true;
    if (uv_tcp_connect(&l->connect, &l->tcp, (const struct sockaddr *)sa,
                       on_connect) != 0) {
        l->connecting = false;
        c->link = NULL;
        link_close(l);
        return false;
    }
    return true;
}

static void attempt(struct client *c)
{
    c->tries++;
    c->rlen = 0;
    c->got = 0;
    c->resp[0] = 0;
    if (nd.closing || nd.failed || nd.diverged) {
        finish(c, -1, false);
        return;
    }
    if (queue_local(c)) {
        finish(c, -1, false);
        return;
    }
    const char *url = c->url[0] ? c->url : nd_leader_api();
    char ip[64];
    int port;
    const char *colon;
    size_t skip = url != NULL && strncmp(url, "https://", 8) == 0 ? 8 : 7;
    if (url == NULL || (skip == 7 && strncmp(url, "http://", 7) != 0) ||
        (colon = strrchr(url + skip, ':')) == NULL ||
        (size_t)(colon - (url + skip)) >= sizeof ip) {
        finish(c, 100, false); /* no leader known yet */
        return;
    }
    memcpy(ip, url + skip, (size_t)(colon - (url + skip)));
    ip[colon - (url + skip)] = 0;
    port = atoi(colon + 1);
    struct sockaddr_in sa;
    if (uv_ip4_addr(ip, port, &sa) != 0) {
        c->url[0] = 0;
        finish(c, 100, false);
        return;
    }
    if (c->reqbuf == NULL && (c->reqbuf = malloc(256)) == NULL) {
        finish(c, -1, false);
        return;
    }
    snprintf(c->reqbuf, 256,
             "POST /v1/entries?wait=applied HTTP/1.1\r\n"
             "Host: %s:%d\r\n"
             "Content-Type: application/msgpack\r\n"
             "Content-Length: %zu\r\n\r\n",
             ip, port, c->len);
    char target[96];
    snprintf(target, sizeof target, "%s://%s:%d", skip == 8 ? "https" : "http",
             ip, port);
    struct link *l = idle_take(target);
    if (l != NULL) {
        l->c = c;
        l->reused = true;
        c->link = l;
        nd.m.cosign_links_reused++;
        send_request(c);
        if (c->link == l) /* not finished at once */
            uv_timer_start(&c->timer, on_timeout, ND_CLIENT_TIMEOUT_MS, 0);
        return;
    }
    if (!link_open(c, target, &sa, skip == 8)) {
        finish(c, 200, false);
        return;
    }
    nd.m.cosign_links_opened++;
    uv_timer_start(&c->timer, on_timeout, ND_CLIENT_TIMEOUT_MS, 0);
}

void nd_client_send_cosign(const uint8_t *bytes, size_t len)
{
    if (active >= ND_CLIENT_MAX || nd.closing) {
        nd.m.cosigns_dropped++;
        return;
    }
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->body = malloc(len);
    if (c->body == NULL) {
        free(c);
        return;
    }
    memcpy(c->body, bytes, len);
    c->len = len;
    active++;
    uv_timer_init(&nd.loop, &c->timer);
    c->timer.data = c;
    attempt(c);
}

void nd_client_stop(void)
{
    while (idle != NULL)
        link_close(idle);
}
