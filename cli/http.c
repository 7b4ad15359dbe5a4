/*
 * A small blocking HTTP/1.1 client (http.h): what the credbank command needs
 * to talk to credbankd, over POSIX sockets and nothing else.
 *
 * One request at a time. The request carries Host, Content-Length when it
 * has a body, and Connection: keep-alive; the connection is kept (one, in a
 * static) while the next request goes to the same host and port, so a
 * command that reads many entries does not pay a handshake each. A request
 * sent on a kept connection that the server closed meanwhile (the send
 * fails, or EOF comes before the first byte of an answer) is sent once more
 * on a fresh connection; that is safe for credbankd, whose only write is
 * idempotent (a retried signed entry is answered as a duplicate).
 *
 * Answers: a status line, headers (at most 64 KiB), and a body delimited by
 * Content-Length, chunked transfer coding, or the end of the connection.
 * Every read and write waits with poll() against one deadline for the whole
 * request, the connect included.
 */
#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)

/* ---- URLs ---- */

int cli_url_parse(const char *s, struct cli_url *u, struct cb_err *err)
{
    memset(u, 0, sizeof *u);
    if (s == NULL || strncasecmp(s, "http://", 7) != 0) {
        if (s != NULL && strncasecmp(s, "https://", 8) == 0)
            return cb_errf(err, CB_EINVAL, "\"%s\": https is not supported "
                           "yet (the node serves plain HTTP)", s);
        return cb_errf(err, CB_EINVAL, "\"%s\": not an http:// URL",
                       s ? s : "");
    }
    const char *h = s + 7;
    size_t hl = strcspn(h, ":/?#");
    if (hl == 0 || hl >= sizeof u->host || h[0] == '[')
        return cb_errf(err, CB_EINVAL, "\"%s\": no host", s);
    memcpy(u->host, h, hl);
    const char *p = h + hl;
    snprintf(u->port, sizeof u->port, "80");
    if (*p == ':') {
        p++;
        size_t pl = strspn(p, "0123456789");
        long port = pl > 0 && pl < 6 ? strtol(p, NULL, 10) : 0;
        if (port < 1 || port > 65535)
            return cb_errf(err, CB_EINVAL, "\"%s\": bad port", s);
        snprintf(u->port, sizeof u->port, "%ld", port);
        p += pl;
    }
    if (*p == '?' || *p == '#')
        return cb_errf(err, CB_EINVAL, "\"%s\": a base URL has no query",
                       s);
    if (*p != '\0' && *p != '/')
        return cb_errf(err, CB_EINVAL, "\"%s\": bad URL", s);
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/')
        pl--;
    if (pl >= sizeof u->prefix || strpbrk(p, "?# ") != NULL)
        return cb_errf(err, CB_EINVAL, "\"%s\": bad path", s);
    memcpy(u->prefix, p, pl);
    snprintf(u->base, sizeof u->base, "http://%s:%s%s", u->host, u->port,
             u->prefix);
    return 0;
}

/* ---- time ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes: 0, or
 * CB_ETIMEOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return CB_ETIMEOUT;
        struct pollfd pfd = {fd, events, 0};
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return CB_EIO;
    }
}

/* ---- the kept connection ---- */

static struct {
    int fd;             /* -1 when none */
    char host[256];
    char port[8];
} conn = {-1, "", ""};

void cli_http_close(void)
{
    if (conn.fd >= 0)
        close(conn.fd);
    conn.fd = -1;
}

static int dial(const struct cli_url *u, int64_t deadline, struct cb_err *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0)
        return cb_errf(err, CB_EUNAVAILABLE, "cannot reach %s: %s", u->base,
                       gai_strerror(g));
    int last = ECONNREFUSED, rv = CB_EUNAVAILABLE;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                        a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last = errno;
                close(fd);
                continue;
            }
            if (wait_fd(fd, POLLOUT, deadline) != 0) {
                close(fd);
                freeaddrinfo(res);
                return cb_errf(err, CB_ETIMEOUT, "cannot connect to %s: "
                               "timed out", u->base);
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr != 0) {
                last = soerr;
                close(fd);
                continue;
            }
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn.fd = fd;
        snprintf(conn.host, sizeof conn.host, "%s", u->host);
        snprintf(conn.port, sizeof conn.port, "%s", u->port);
        rv = 0;
        break;
    }
    freeaddrinfo(res);
    if (rv != 0)
        return cb_errf(err, rv, "cannot connect to %s: %s", u->base,
                       strerror(last));
    return 0;
}

/* ---- sending and receiving ---- */

static int send_all(const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(conn.fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rv = wait_fd(conn.fd, POLLOUT, deadline);
            if (rv != 0)
                return rv;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return CB_EIO;
    }
    return 0;
}

/* A growing buffer of what came from the socket. */
struct rbuf {
    char *p;
    size_t len, cap, off;   /* off: first byte not yet consumed */
};

/* Reads more bytes: 0, 1 at EOF, or a code. */
static int fill(struct rbuf *b, int64_t deadline)
{
    if (b->cap - b->len < 4096) {
        size_t cap = b->cap ? b->cap * 2 : 16384;
        char *p = realloc(b->p, cap + 1);
        if (p == NULL)
            return CB_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    for (;;) {
        ssize_t n = recv(conn.fd, b->p + b->len, b->cap - b->len, 0);
        if (n > 0) {
            b->len += (size_t)n;
            return 0;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return CB_EIO;
        int rv = wait_fd(conn.fd, POLLIN, deadline);
        if (rv != 0)
            return rv;
    }
}

/* The value of header name in the head (lines after the status line), or
 * NULL; *vlen its length. */
static const char *header(const char *head, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL;
         p = strstr(p, "\r\n")) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            *vlen = n;
            return v;
        }
    }
    return NULL;
}

static bool header_is(const char *head, const char *name, const char *value)
{
    size_t n;
    const char *v = header(head, name, &n);
    return v != NULL && n == strlen(value) && strncasecmp(v, value, n) == 0;
}

/* Takes n body bytes from b (reading more as needed) onto out. */
static int take(struct rbuf *b, size_t n, struct rbuf *out, int64_t deadline)
{
    if (n == 0)
        return 0;
    while (b->len - b->off < n) {
        int rv = fill(b, deadline);
        if (rv != 0)
            return rv == 1 ? CB_EIO : rv;
    }
    if (out->cap - out->len < n) {
        size_t cap = out->len + n;
        char *p = realloc(out->p, cap + 1);
        if (p == NULL)
            return CB_ENOMEM;
        out->p = p;
        out->cap = cap;
    }
    memcpy(out->p + out->len, b->p + b->off, n);
    out->len += n;
    b->off += n;
    return 0;
}

/* One CRLF-terminated line from b into line[cap]. */
static int take_line(struct rbuf *b, char *line, size_t cap, int64_t deadline)
{
    for (;;) {
        char *e = memchr(b->p + b->off, '\n', b->len - b->off);
        if (e != NULL) {
            size_t n = (size_t)(e - (b->p + b->off));
            if (n > 0 && b->p[b->off + n - 1] == '\r')
                n--;
            if (n >= cap)
                return CB_EIO;
            memcpy(line, b->p + b->off, n);
            line[n] = '\0';
            b->off = (size_t)(e - b->p) + 1;
            return 0;
        }
        if (b->len - b->off > 4096)
            return CB_EIO;
        int rv = fill(b, deadline);
        if (rv != 0)
            return rv == 1 ? CB_EIO : rv;
    }
}

/* Sends q and reads the answer on the current connection. *fresh_eof is
 * set when the connection turned out closed before any answer byte. */
static int exchange(const struct cli_url *u, const struct cli_http_req *q,
                    struct cli_http_resp *r, int64_t deadline,
                    bool *fresh_eof, bool *keep)
{
    char head[2048];
    int hl = snprintf(head, sizeof head,
                      "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\n"
                      "User-Agent: credbank/0.1\r\n"
                      "Connection: keep-alive\r\n",
                      q->method, u->prefix, q->path, u->host, u->port);
    if (hl < 0 || (size_t)hl >= sizeof head - 200)
        return CB_EINVAL;
    if (q->accept != NULL)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Accept: %s\r\n",
                       q->accept);
    if (q->body != NULL || strcmp(q->method, "POST") == 0) {
        hl += snprintf(head + hl, sizeof head - (size_t)hl,
                       "Content-Type: %s\r\nContent-Length: %zu\r\n",
                       q->ctype ? q->ctype : "application/octet-stream",
                       q->len);
    }
    hl += snprintf(head + hl, sizeof head - (size_t)hl, "\r\n");
    *fresh_eof = false;
    *keep = false;
    int rv = send_all(head, (size_t)hl, deadline);
    if (rv == 0 && q->len > 0)
        rv = send_all(q->body, q->len, deadline);
    if (rv == CB_EIO) {
        *fresh_eof = true; /* a closed kept connection fails here */
        return rv;
    }
    if (rv != 0)
        return rv;

    struct rbuf b = {0};
    char *end = NULL;
    while (end == NULL) {
        rv = fill(&b, deadline);
        if (rv == 1) {
            *fresh_eof = b.len == 0;
            rv = CB_EIO;
        }
        if (rv == CB_EIO && b.len == 0)
            *fresh_eof = true;
        if (rv != 0)
            goto out;
        b.p[b.len] = '\0';
        end = strstr(b.p, "\r\n\r\n");
        if (end == NULL && b.len > HEAD_MAX) {
            rv = CB_EIO;
            goto out;
        }
    }
    *end = '\0';
    b.off = (size_t)(end - b.p) + 4;
    int major = 0, minor = 0, status = 0;
    if (sscanf(b.p, "HTTP/%d.%d %d", &major, &minor, &status) != 3 ||
        major != 1 || status < 100 || status > 999) {
        rv = CB_EIO;
        goto out;
    }
    r->status = status;
    size_t n;
    const char *ct = header(b.p, "Content-Type", &n);
    if (ct != NULL)
        snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)n, ct);
    bool close_after = header_is(b.p, "Connection", "close") ||
                       (minor == 0 && !header_is(b.p, "Connection",
                                                 "keep-alive"));
    struct rbuf body = {0};
    const char *cl = header(b.p, "Content-Length", &n);
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
        /* no body */
    } else if (header_is(b.p, "Transfer-Encoding", "chunked")) {
        char line[128];
        for (;;) {
            if ((rv = take_line(&b, line, sizeof line, deadline)) != 0)
                goto body_out;
            char *e;
            errno = 0;
            unsigned long long sz = strtoull(line, &e, 16);
            if (e == line || errno != 0 || sz > CLI_HTTP_BODY_MAX ||
                body.len + sz > CLI_HTTP_BODY_MAX) {
                rv = sz > CLI_HTTP_BODY_MAX ? CB_ETOOBIG : CB_EIO;
                goto body_out;
            }
            if (sz == 0)
                break;
            if ((rv = take(&b, (size_t)sz, &body, deadline)) != 0 ||
                (rv = take_line(&b, line, sizeof line, deadline)) != 0)
                goto body_out;
        }
        /* trailers, up to the empty line */
        do {
            if ((rv = take_line(&b, line, sizeof line, deadline)) != 0)
                goto body_out;
        } while (line[0] != '\0');
    } else if (cl != NULL) {
        char num[32];
        snprintf(num, sizeof num, "%.*s", (int)(n < 31 ? n : 31), cl);
        char *e;
        errno = 0;
        unsigned long long sz = strtoull(num, &e, 10);
        if (e == num || *e != '\0' || errno != 0) {
            rv = CB_EIO;
            goto body_out;
        }
        if (sz > CLI_HTTP_BODY_MAX) {
            rv = CB_ETOOBIG;
            goto body_out;
        }
        if ((rv = take(&b, (size_t)sz, &body, deadline)) != 0)
            goto body_out;
    } else {
        /* until the end of the connection */
        close_after = true;
        for (;;) {
            size_t avail = b.len - b.off;
            if (body.len + avail > CLI_HTTP_BODY_MAX) {
                rv = CB_ETOOBIG;
                goto body_out;
            }
            if (avail > 0 && (rv = take(&b, avail, &body, deadline)) != 0)
                goto body_out;
            rv = fill(&b, deadline);
            if (rv == 1)
                break;
            if (rv != 0)
                goto body_out;
        }
        rv = 0;
    }
    if (body.p == NULL)
        body.p = malloc(1);
    if (body.p == NULL) {
        rv = CB_ENOMEM;
        goto body_out;
    }
    body.p[body.len] = '\0';
    r->body = body.p;
    r->len = body.len;
    body.p = NULL;
    /* bytes after the answer: the server is not speaking our protocol */
    *keep = !close_after && b.off == b.len;
body_out:
    free(body.p);
out:
    free(b.p);
    return rv;
}

int cli_http(const struct cli_url *u, const struct cli_http_req *q,
             struct cli_http_resp *r, struct cb_err *err)
{
    memset(r, 0, sizeof *r);
    int tmo = q->timeout_ms > 0 ? q->timeout_ms : CLI_HTTP_TIMEOUT_MS;
    int64_t deadline = now_ms() + tmo;
    if (conn.fd >= 0 && (strcmp(conn.host, u->host) != 0 ||
                         strcmp(conn.port, u->port) != 0))
        cli_http_close();
    int rv = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = conn.fd >= 0;
        if (!reused && (rv = dial(u, deadline, err)) != 0)
            return rv;
        bool fresh_eof = false, keep = false;
        rv = exchange(u, q, r, deadline, &fresh_eof, &keep);
        if (rv == 0) {
            if (!keep)
                cli_http_close();
            return 0;
        }
        cli_http_close();
        free(r->body);
        memset(r, 0, sizeof *r);
        if (!(reused && fresh_eof))
            break;
        /* the server closed the kept connection: once more, freshly */
    }
    switch (rv) {
    case CB_ETIMEOUT:
        return cb_errf(err, rv, "%s %s%s: no answer within %d ms", q->method,
                       u->base, q->path, tmo);
    case CB_ETOOBIG:
        return cb_errf(err, rv, "%s %s%s: answer larger than %zu bytes",
                       q->method, u->base, q->path, CLI_HTTP_BODY_MAX);
    case CB_ENOMEM:
        return cb_errf(err, rv, "out of memory");
    case CB_EINVAL:
        return cb_errf(err, rv, "%s: request path too long", u->base);
    default:
        return cb_errf(err, CB_EIO, "%s %s%s: the connection broke or the "
                       "answer is not HTTP/1.1", q->method, u->base,
                       q->path);
    }
}

void cli_http_resp_release(struct cli_http_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
