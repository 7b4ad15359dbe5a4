/*
 * A minimal HTTP/1.1 client over libuv TCP that carries this node's cosigns
 * to the leader: one connection per attempt, one request
 * ("POST /v1/entries?wait=applied", Content-Type application/msgpack,
 * Connection: close), the answer read to EOF (at most 4 KiB kept), and the
 * status line and JSON body judged:
 *
 *   200                      done
 *   409 cosign_duplicate     dropped silently (the member cosigned already)
 *   503 not_leader           retried at the "leader" URL of the answer
 *   503 other, 504, connect  retried at the leader Raft names now
 *   anything else            dropped, logged
 *
 * at most ND_CLIENT_TRIES attempts, 2 s each. h2o 2.2.5's http1client was
 * not used: its API ties a client to an h2o socket pool and context callbacks
 * that change between minor versions; this is smaller and enough for one
 * request type. When the node itself is the leader the cosign is queued
 * locally instead.
 */
#include "node.h"
#include "tcplink.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define ND_CLIENT_TRIES 20
#define ND_CLIENT_TIMEOUT_MS 2000
#define ND_CLIENT_MAX 64

struct client {
    uv_tcp_t tcp;
    uv_stream_t *s;          /* &tcp, or a TLS link's stream (https) */
    bool dialing;            /* https: nd_tls_dial under way */
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t timer;
    uint8_t *body;
    size_t len;
    char *reqbuf;
    char url[128];           /* target; empty: ask raft_leader() */
    char resp[4096];
    size_t rlen;
    int tries;
    bool tcp_open;
    int retry_ms;            /* after close: <0 drop, else retry delay */
};

static unsigned active;

static void attempt(struct client *c);

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

static void after_close(uv_handle_t *h)
{
    struct client *c = h->data;
    if (h != (uv_handle_t *)&c->tcp)
        raft_free(h); /* the stream of a TLS link (transport.h) */
    c->s = NULL;
    c->tcp_open = false;
    if (c->retry_ms >= 0 && c->tries < ND_CLIENT_TRIES && !nd.closing) {
        uv_timer_start(&c->timer, on_retry_timer, (uint64_t)c->retry_ms, 0);
    } else {
        if (c->retry_ms >= 0)
            fprintf(stderr, "credbankd: cosign not delivered after %d "
                    "tries\n", c->tries);
        uv_close((uv_handle_t *)&c->timer, client_free_cb);
    }
}

/* Ends this attempt: retry after retry_ms, or drop when retry_ms < 0. */
static void finish(struct client *c, int retry_ms)
{
    c->retry_ms = retry_ms;
    uv_timer_stop(&c->timer);
    if (c->dialing) {
        nd_tls_dial_cancel(c);
        c->dialing = false;
    }
    if (c->tcp_open) {
        if (!uv_is_closing((uv_handle_t *)c->s))
            uv_close((uv_handle_t *)c->s, after_close);
    } else {
        after_close((uv_handle_t *)&c->tcp);
    }
}

static void judge(struct client *c)
{
    c->resp[c->rlen < sizeof c->resp ? c->rlen : sizeof c->resp - 1] = 0;
    int status = 0;
    if (sscanf(c->resp, "HTTP/1.%*d %d", &status) != 1) {
        c->url[0] = 0;
        finish(c, 200);
        return;
    }
    if (status == 200) {
        finish(c, -1);
        return;
    }
    const char *body = strstr(c->resp, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error"));
    const char *leader = json_string_value(json_object_get(j, "leader"));
    if (status == 409 && code && strcmp(code, "cosign_duplicate") == 0) {
        finish(c, -1);
    } else if (status == 503 && code && strcmp(code, "not_leader") == 0) {
        if (leader && strlen(leader) < sizeof c->url)
            strcpy(c->url, leader);
        else
            c->url[0] = 0;
        finish(c, leader ? 0 : 100);
    } else if (status == 503 || status == 504) {
        c->url[0] = 0;
        finish(c, 100);
    } else {
        fprintf(stderr, "credbankd: cosign refused by the leader: %d %s\n",
                status, code ? code : "");
        nd.m.cosigns_dropped++;
        finish(c, -1);
    }
    json_decref(j);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct client *c = h->data;
    size_t room = sizeof c->resp - 1 - c->rlen;
    static char sink[1024];
    if (room == 0) { /* keep the head, discard the rest */
        buf->base = sink;
        buf->len = sizeof sink;
    } else {
        buf->base = c->resp + c->rlen;
        buf->len = room;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;
    if (n > 0) {
        if (buf->base == c->resp + c->rlen)
            c->rlen += (size_t)n;
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    if (n == UV_EOF)
        judge(c);
    else
        finish(c, 200);
}

static void on_write(uv_write_t *w, int status)
{
    struct client *c = w->data;
    if (status != 0) {
        c->url[0] = 0;
        finish(c, 200);
    }
}

static void on_connect(uv_connect_t *cr, int status)
{
    struct client *c = cr->data;
    if (status != 0) {
        c->url[0] = 0;
        finish(c, 200);
        return;
    }
    uv_buf_t bufs[2] = {
        uv_buf_init(c->reqbuf, (unsigned)strlen(c->reqbuf)),
        uv_buf_init((char *)c->body, (unsigned)c->len),
    };
    c->write.data = c;
    if (uv_write(&c->write, c->s, bufs, 2, on_write) != 0 ||
        uv_read_start(c->s, on_alloc, on_read) != 0)
        finish(c, 200);
}

static void on_dialed(void *data, uv_stream_t *s, int status)
{
    struct client *c = data;
    c->dialing = false;
    if (status == 0) {
        s->data = c;
        c->s = s;
        c->tcp_open = true;
    }
    on_connect(&c->connect, status);
}

static void on_timeout(uv_timer_t *t)
{
    struct client *c = t->data;
    c->url[0] = 0;
    finish(c, 0);
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

static void attempt(struct client *c)
{
    c->tries++;
    c->rlen = 0;
    if (nd.closing || nd.failed || nd.diverged) {
        finish(c, -1);
        return;
    }
    if (queue_local(c)) {
        finish(c, -1);
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
        finish(c, 100); /* no leader known yet */
        return;
    }
    memcpy(ip, url + skip, (size_t)(colon - (url + skip)));
    ip[colon - (url + skip)] = 0;
    port = atoi(colon + 1);
    struct sockaddr_in sa;
    if (uv_ip4_addr(ip, port, &sa) != 0) {
        c->url[0] = 0;
        finish(c, 100);
        return;
    }
    free(c->reqbuf);
    c->reqbuf = malloc(256);
    if (c->reqbuf == NULL) {
        finish(c, -1);
        return;
    }
    snprintf(c->reqbuf, 256,
             "POST /v1/entries?wait=applied HTTP/1.1\r\n"
             "Host: %s:%d\r\n"
             "Content-Type: application/msgpack\r\n"
             "Content-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             ip, port, c->len);
    c->connect.data = c;
    if (skip == 8) { /* a TLS link pinned to a member's node key */
        c->dialing = nd_tls_dial(&sa, ND_CLIENT_TIMEOUT_MS, on_dialed, c) == 0;
        if (!c->dialing) {
            finish(c, 200);
            return;
        }
    } else {
        /* the socket now, so its options bound the SYN too (tcplink.h) */
        if (uv_tcp_init_ex(&nd.loop, &c->tcp, AF_INET) == 0)
            nd_tcplink_opts(&c->tcp);
        else
            uv_tcp_init(&nd.loop, &c->tcp);
        c->tcp.data = c;
        c->s = (uv_stream_t *)&c->tcp;
        c->tcp_open = true;
        if (uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&sa,
                           on_connect) != 0) {
            finish(c, 200);
            return;
        }
    }
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
    c->tcp.data = c;
    attempt(c);
}
