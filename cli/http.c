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

#include <credbank/httpsig.h>

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../node/tls.h"

#define HEAD_MAX (64 * 1024)

/* ---- URLs ---- */

int cli_url_parse(const char *s, struct cli_url *u, struct cb_err *err)
{
    memset(u, 0, sizeof *u);
    bool tls = s != NULL && strncasecmp(s, "https://", 8) == 0;
    if (s == NULL || (!tls && strncasecmp(s, "http://", 7) != 0))
        return cb_errf(err, CB_EINVAL, "\"%s\": not an http:// or https:// "
                       "URL", s ? s : "");
    u->tls = tls;
    const char *h = s + (tls ? 8 : 7);
    size_t hl = strcspn(h, ":/?#");
    if (hl == 0 || hl >= sizeof u->host || h[0] == '[')
        return cb_errf(err, CB_EINVAL, "\"%s\": no host", s);
    memcpy(u->host, h, hl);
    const char *p = h + hl;
    snprintf(u->port, sizeof u->port, "%s", tls ? "443" : "80");
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
    snprintf(u->base, sizeof u->base, "http%s://%s:%s%s", tls ? "s" : "",
             u->host, u->port, u->prefix);
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
    SSL *ssl;           /* https: the TLS connection over fd */
} conn = {-1, "", "", NULL};

void cli_http_close(void)
{
    if (conn.ssl != NULL) {
        SSL_shutdown(conn.ssl); /* close_notify, best effort */
        SSL_free(conn.ssl);
        conn.ssl = NULL;
    }
    if (conn.fd >= 0)
        close(conn.fd);
    conn.fd = -1;
}

/* ---- TLS (spec/security.md "Transport", "Pinning") ---- */

static struct nd_tls_pins pins;
static bool pins_set;
static SSL_CTX *tls_ctx;

static int pin_add(const char *item, struct cb_err *err)
{
    uint8_t pk[CY_PK_LEN];
    char name[CY_NAME_MAX + 1] = "";
    if (cy_unhex(pk, sizeof pk, item) != 0 &&
        cy_note_vkey_parse(item, name, pk) != 0)
        return cb_errf(err, CB_EINVAL, "node key \"%.80s\": not 64 hex "
                       "digits nor a verifier key", item);
    if (nd_tls_pins_add(&pins, pk, name) != 0)
        return cb_errf(err, CB_EINVAL, "more than %d node keys",
                       ND_TLS_MAX_PINS);
    return 0;
}

/* Keys from a file: a /v1/members JSON (members in force), or one key
 * per line. */
static int pin_file(const char *path, struct cb_err *err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j != NULL) {
        size_t i;
        json_t *m;
        int rv = 0;
        json_array_foreach(json_object_get(j, "members"), i, m) {
            const char *node = json_string_value(json_object_get(m, "node"));
            if (rv == 0 && node != NULL &&
                json_is_true(json_object_get(m, "in_force")))
                rv = pin_add(node, err);
        }
        json_decref(j);
        return rv;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cb_errf(err, CB_EINVAL, "node key file %s: %s", path,
                       strerror(errno));
    char line[512];
    int rv = 0;
    while (rv == 0 && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        char *t = line + strspn(line, " \t");
        if (*t && *t != '#')
            rv = pin_add(t, err);
    }
    fclose(f);
    return rv;
}

int cli_http_pin(const char *spec, struct cb_err *err)
{
    char buf[4096];
    if (spec == NULL || strlen(spec) >= sizeof buf)
        return cb_errf(err, CB_EINVAL, "node key: empty or too long");
    snprintf(buf, sizeof buf, "%s", spec);
    int rv = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL && rv == 0;
         t = strtok_r(NULL, ",", &save)) {
        struct stat st;
        if (t[0] == '@')
            rv = pin_file(t + 1, err);
        else if (strlen(t) != 2 * CY_PK_LEN && stat(t, &st) == 0)
            rv = pin_file(t, err);
        else
            rv = pin_add(t, err);
    }
    if (rv == 0 && pins.n == 0)
        rv = cb_errf(err, CB_EINVAL, "node key: no key in \"%.80s\"",
                     spec);
    pins_set = rv == 0;
    return rv;
}

static bool pin_check(void *data, SSL *ssl, const uint8_t pk[CY_PK_LEN])
{
    (void)data;
    (void)ssl;
    return nd_tls_pins_find(&pins, pk) >= 0;
}

/* The TLS 1.3 handshake on conn.fd (non-blocking), the node's key pinned. */
static int tls_pins_ready(const struct cli_url *u, struct cb_err *err)
{
    if (!pins_set) {
        const char *env = getenv("CREDBANK_NODE_KEY");
        if (env == NULL || !env[0])
            return cb_errf(err, CB_EINVAL, "%s: https needs the node's key "
                           "to pin: --node-key HEX|VKEY|FILE or "
                           "CREDBANK_NODE_KEY", u->base);
        int rv = cli_http_pin(env, err);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int tls_connect(const struct cli_url *u, int64_t deadline,
                       struct cb_err *err)
{
    int rv0 = tls_pins_ready(u, err);
    if (rv0 != 0)
        return rv0;
    if (tls_ctx == NULL) {
        /* the API asks no client certificate: this key is never shown */
        struct cy_key k;
        char msg[256];
        if (cy_key_generate(&k, "credbank-cli") != 0)
            return cb_errf(err, CB_EINTERNAL, "key generation failed");
        tls_ctx = nd_tls_ctx_new(&k, "credbank-cli", ND_TLS_MUTUAL,
                                 pin_check, NULL, msg, sizeof msg);
        cy_key_wipe(&k);
        if (tls_ctx == NULL)
            return cb_errf(err, CB_EINTERNAL, "%s", msg);
    }
    signal(SIGPIPE, SIG_IGN); /* SSL_write has no MSG_NOSIGNAL */
    conn.ssl = SSL_new(tls_ctx);
    if (conn.ssl == NULL || SSL_set_fd(conn.ssl, conn.fd) != 1)
        return cb_errf(err, CB_ENOMEM, "TLS: out of memory");
    SSL_set_tlsext_host_name(conn.ssl, u->host);
    for (;;) {
        int r = SSL_connect(conn.ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(conn.ssl, r);
        int rv = e == SSL_ERROR_WANT_READ ? wait_fd(conn.fd, POLLIN, deadline)
                 : e == SSL_ERROR_WANT_WRITE
                     ? wait_fd(conn.fd, POLLOUT, deadline)
                     : CB_EUNAVAILABLE;
        if (rv == CB_ETIMEOUT)
            return cb_errf(err, rv, "%s: TLS handshake timed out", u->base);
        if (rv != 0) {
            char msg[256];
            bool unpinned = SSL_get_verify_result(conn.ssl) ==
                            X509_V_ERR_APPLICATION_VERIFICATION;
            nd_tls_error(conn.ssl, msg, sizeof msg);
            return cb_errf(err, CB_EUNAVAILABLE, "%s: TLS: %s", u->base,
                           unpinned ? "the node's key is not one of the "
                                      "pinned keys (--node-key, "
                                      "CREDBANK_NODE_KEY)"
                                    : msg);
        }
    }
}

static int dial(const struct cli_url *u, int64_t deadline, struct cb_err *err)
{
    int rv0 = u->tls ? tls_pins_ready(u, err) : 0;
    if (rv0 != 0)
        return rv0; /* before any byte goes out */
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
    if (rv == 0 && u->tls && (rv = tls_connect(u, deadline, err)) != 0) {
        cli_http_close();
        return rv;
    }
    if (rv != 0)
        return cb_errf(err, rv, "cannot connect to %s: %s", u->base,
                       strerror(last));
    return 0;
}

/* ---- sending and receiving ---- */

static int send_all(const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    while (len > 0 && conn.ssl != NULL) {
        int n = SSL_write(conn.ssl, p, len > INT_MAX ? INT_MAX : (int)len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(conn.ssl, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return CB_EIO;
        int rv = wait_fd(conn.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                         deadline);
        if (rv != 0)
            return rv;
    }
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
    while (conn.ssl != NULL) {
        size_t room = b->cap - b->len;
        int n = SSL_read(conn.ssl, b->p + b->len,
                         room > INT_MAX ? INT_MAX : (int)room);
        if (n > 0) {
            b->len += (size_t)n;
            return 0;
        }
        int e = SSL_get_error(conn.ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN)
            return 1;
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            ERR_clear_error();
            return 1; /* closed without close_notify: EOF */
        }
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return CB_EIO;
        }
        int rv = wait_fd(conn.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                         deadline);
        if (rv != 0)
            return rv;
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
/* ---- request signatures (spec/security.md) ---- */

static const struct cy_key *sign_key;

void cli_http_sign_with(const struct cy_key *k)
{
    sign_key = k;
}

/* "Signature-Input: ...\r\nSignature: ...\r\n" for q to u, signed with
 * sign_key: @method @authority @path @query, valid for 300 s, a fresh
 * nonce, keyid the hex of the public key. */
static int sign_request(const struct cli_url *u, const struct cli_http_req *q,
                        char *out, size_t cap)
{
    struct cy_httpsig s;
    memset(&s, 0, sizeof s);
    snprintf(s.label, sizeof s.label, "cb");
    static const char *comps[] = {"@method", "@authority", "@path", "@query"};
    for (size_t i = 0; i < 4; i++)
        snprintf(s.comps[i], sizeof s.comps[i], "%s", comps[i]);
    s.ncomps = 4;
    s.has_created = s.has_expires = true;
    s.created = (uint64_t)time(NULL);
    s.expires = s.created + 300;
    uint8_t rnd[16];
    cy_random(rnd, sizeof rnd);
    cy_hex(s.nonce, rnd, sizeof rnd);
    cy_hex(s.keyid, sign_key->pk, CY_PK_LEN);
    snprintf(s.alg, sizeof s.alg, "ed25519");
    char authority[300], path[1024];
    snprintf(authority, sizeof authority, "%s:%s", u->host, u->port);
    const char *qm = strchr(q->path, '?');
    size_t pl = qm ? (size_t)(qm - q->path) : strlen(q->path);
    if (strlen(u->prefix) + pl >= sizeof path)
        return CB_EINVAL;
    snprintf(path, sizeof path, "%s%.*s", u->prefix, (int)pl, q->path);
    struct cy_httpsig_msg m = {q->method, authority, "http", path,
                               qm ? qm + 1 : "", NULL, NULL, 0};
    char input[CY_HS_INPUT_MAX], sig[CY_HS_SIG_MAX];
    int rv = cy_httpsig_sign(&s, &m, sign_key, input, sig, NULL);
    if (rv != 0)
        return rv;
    int n = snprintf(out, cap, "Signature-Input: %s\r\nSignature: %s\r\n",
                     input, sig);
    return n < 0 || (size_t)n >= cap ? CB_EINVAL : 0;
}

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
    if (sign_key != NULL) {
        char sig[1600];
        int rv0 = sign_request(u, q, sig, sizeof sig);
        if (rv0 != 0)
            return rv0;
        if (strlen(sig) >= sizeof head - (size_t)hl - 3)
            return CB_EINVAL;
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "%s", sig);
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
    if (conn.fd >= 0 && ((conn.ssl != NULL) != u->tls ||
                         strcmp(conn.host, u->host) != 0 ||
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
