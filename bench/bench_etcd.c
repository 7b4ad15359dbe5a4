/*
 * bench_etcd: etcd 3.4 side by side with bench_cluster (issue 7): three
 * etcd members on 127.0.0.1 (fsync on: etcd's default), puts of values of
 * the size of credbank's signed entries, closed-loop clients at the same
 * concurrencies, throughput and latency measured the same way.
 *
 *   bench_etcd [--etcd PATH] [--seconds S] [--warmup W]
 *              [--clients 1,16,256] [--value-bytes 400] [--keep]
 *
 * 1. Starts three etcd members (Debian's etcd-server, /usr/bin/etcd) on
 *    free ports, each with a fresh data directory in a temporary directory,
 *    and waits until one reports itself leader (POST /v3/maintenance/status).
 * 2. For each concurrency C runs C client threads, each with one keep-alive
 *    HTTP/1.1 connection to the leader and blocking sockets (the client of
 *    bench_cluster), posting POST /v3/kv/put with a JSON body {"key":
 *    base64, "value": base64} through etcd's gRPC-gateway (the HTTP/JSON
 *    API of etcd 3.4; etcd ships no C gRPC client and its `benchmark` tool
 *    is not packaged). Each client waits for the answer before its next put;
 *    the answer comes once the put is committed by a majority and applied on
 *    the leader. Keys are distinct ("bench/<client>/<n>"); values are
 *    `value-bytes` random bytes (base64 on the wire, as JSON requires).
 *    Throughput counts the 200 answers completed between warmup and the
 *    end; latency is send to full answer, p50/p99 over the same window.
 * The members are stopped with SIGTERM and the directory removed (--keep
 * leaves it, with the members' logs).
 *
 * Prints a markdown table (measure | value | target | met); scripts/bench
 * puts the credbank / etcd ratio next to it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench_etcd"
#include "bench.h"

#define MEMBERS 3

static char tmpdir[] = "/tmp/credbank-bench-etcd-XXXXXX";

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        die("free port", errno, NULL);
    close(fd);
    return ntohs(sa.sin_port);
}

struct member {
    pid_t pid;
    int peer_port, client_port;
    char dir[300];
};
static struct member mem[MEMBERS];

static void members_start(const char *etcd)
{
    char cluster[1024] = "";
    for (int i = 0; i < MEMBERS; i++) {
        mem[i].peer_port = free_port();
        mem[i].client_port = free_port();
        snprintf(mem[i].dir, sizeof mem[i].dir, "%s/m%d", tmpdir, i + 1);
        snprintf(cluster + strlen(cluster), sizeof cluster - strlen(cluster),
                 "%sm%d=http://127.0.0.1:%d", i ? "," : "", i + 1,
                 mem[i].peer_port);
    }
    for (int i = 0; i < MEMBERS; i++) {
        char name[16], lc[64], lp[64], logpath[400];
        snprintf(name, sizeof name, "m%d", i + 1);
        snprintf(lc, sizeof lc, "http://127.0.0.1:%d", mem[i].client_port);
        snprintf(lp, sizeof lp, "http://127.0.0.1:%d", mem[i].peer_port);
        snprintf(logpath, sizeof logpath, "%s.log", mem[i].dir);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", errno, NULL);
        if (pid == 0) {
            int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execl(etcd, etcd, "--name", name, "--data-dir", mem[i].dir,
                  "--listen-client-urls", lc, "--advertise-client-urls", lc,
                  "--listen-peer-urls", lp, "--initial-advertise-peer-urls",
                  lp, "--initial-cluster", cluster, "--initial-cluster-state",
                  "new", "--initial-cluster-token", "credbank-bench",
                  "--logger", "zap", "--log-level", "warn", (char *)NULL);
            _exit(127);
        }
        mem[i].pid = pid;
    }
}

static void members_stop(void)
{
    for (int i = 0; i < MEMBERS; i++)
        if (mem[i].pid > 0)
            kill(mem[i].pid, SIGTERM);
    double end = now() + 10;
    for (int i = 0; i < MEMBERS; i++) {
        if (mem[i].pid <= 0)
            continue;
        int st;
        while (waitpid(mem[i].pid, &st, WNOHANG) == 0) {
            if (now() > end) {
                kill(mem[i].pid, SIGKILL);
                waitpid(mem[i].pid, &st, 0);
                break;
            }
            usleep(20000);
        }
        mem[i].pid = 0;
    }
}

static void on_fatal_signal(int sig)
{
    for (int i = 0; i < MEMBERS; i++)
        if (mem[i].pid > 0)
            kill(mem[i].pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- a minimal blocking HTTP/1.1 client (as bench_cluster's) ---- */

struct conn {
    int fd;
    int port;
    char buf[16384];
    size_t have;
};

static int conn_open(struct conn *c, int port)
{
    c->port = port;
    c->have = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int conn_fill(struct conn *c, size_t upto)
{
    if (upto + 1 > sizeof c->buf)
        return -1;
    while (c->have < upto) {
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - 1 - c->have,
                         0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->have += (size_t)r;
    }
    return 0;
}

/* POSTs a JSON body; reads the answer: status, body (NUL-terminated, in
 * c->buf until the next call). -1 on a broken connection. */
static int post(struct conn *c, const char *path, const char *body,
                size_t blen, int *status, char **rbody, size_t *rlen)
{
    char one[8192];
    int hl = snprintf(one, sizeof one,
                      "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n", path, c->port, blen);
    if (hl < 0 || (size_t)hl + blen > sizeof one)
        return -1;
    memcpy(one + hl, body, blen);
    if (write_all(c->fd, one, (size_t)hl + blen) != 0)
        return -1;
    c->have = 0;
    char *eoh = NULL;
    while (eoh == NULL) {
        if (c->have + 1 >= sizeof c->buf)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - 1 - c->have,
                         0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->have += (size_t)r;
        c->buf[c->have] = 0;
        eoh = strstr(c->buf, "\r\n\r\n");
    }
    if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1)
        return -1;
    size_t clen = 0;
    int chunked = 0;
    for (char *h = strstr(c->buf, "\r\n"); h != NULL && h < eoh;
         h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "content-length:", 15) == 0)
            clen = strtoull(h + 17, NULL, 10);
        else if (strncasecmp(h + 2, "transfer-encoding:", 18) == 0) {
            char *eol = strstr(h + 2, "\r\n");
            *eol = 0;
            chunked = strstr(h + 20, "chunked") != NULL;
            *eol = '\r';
        }
    }
    size_t hdr = (size_t)(eoh + 4 - c->buf);
    if (!chunked) {
        if (conn_fill(c, hdr + clen) != 0)
            return -1;
        c->buf[hdr + clen] = 0;
        *rbody = c->buf + hdr;
        *rlen = clen;
        return 0;
    }
    size_t out = hdr, pos = hdr;
    for (;;) {
        char *nl;
        while ((nl = memmem(c->buf + pos, c->have - pos, "\r\n", 2)) == NULL)
            if (conn_fill(c, c->have + 1) != 0)
                return -1;
        size_t sz = strtoull(c->buf + pos, NULL, 16);
        pos = (size_t)(nl + 2 - c->buf);
        if (conn_fill(c, pos + sz + 2) != 0)
            return -1;
        memmove(c->buf + out, c->buf + pos, sz);
        out += sz;
        pos += sz + 2;
        if (sz == 0)
            break;
    }
    c->buf[out] = 0;
    *rbody = c->buf + hdr;
    *rlen = out - hdr;
    return 0;
}

static void b64(char *out, const uint8_t *p, size_t n)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* The index of the member that reports itself leader, or -1. */
static int find_leader(double timeout)
{
    double end = now() + timeout;
    while (now() < end) {
        for (int i = 0; i < MEMBERS; i++) {
            struct conn c;
            if (conn_open(&c, mem[i].client_port) != 0)
                continue;
            int st;
            char *b;
            size_t bl;
            if (post(&c, "/v3/maintenance/status", "{}", 2, &st, &b, &bl) ==
                    0 && st == 200) {
                char self[32] = "", lead[32] = "";
                char *m = strstr(b, "\"member_id\":\"");
                char *l = strstr(b, "\"leader\":\"");
                if (m != NULL)
                    sscanf(m + 13, "%31[0-9]", self);
                if (l != NULL)
                    sscanf(l + 10, "%31[0-9]", lead);
                if (self[0] && strcmp(self, lead) == 0) {
                    conn_close(&c);
                    return i;
                }
            }
            conn_close(&c);
        }
        usleep(50000);
    }
    return -1;
}

/* ---- clients ---- */

struct client {
    pthread_t t;
    int id, port, value_bytes;
    pthread_barrier_t *start;
    const double *t_end;
    double *sent, *done;
    int *status;
    size_t n, cap;
    int broken;
    char last_err[160];
};

static void *client_thread(void *arg)
{
    struct client *c = arg;
    struct conn cn;
    int ok = conn_open(&cn, c->port) == 0;
    /* one value per client, changed in its first bytes per put */
    uint8_t *val = malloc((size_t)c->value_bytes);
    char *vb = malloc((size_t)c->value_bytes * 4 / 3 + 8);
    char *body = malloc((size_t)c->value_bytes * 4 / 3 + 256);
    uint8_t seed[32];
    int sid = c->id;
    cy_sha256(seed, &sid, sizeof sid);
    for (int i = 0; i < c->value_bytes; i++)
        val[i] = seed[i % 32] ^ (uint8_t)(i * 131);
    pthread_barrier_wait(c->start);
    if (!ok) {
        c->broken = 1;
        goto out;
    }
    double end = *c->t_end;
    for (size_t i = 0; i < c->cap; i++) {
        double ts = now();
        if (ts >= end)
            break;
        char k[64], kb[96];
        int kl = snprintf(k, sizeof k, "bench/%d/%zu", c->id, i);
        b64(kb, (const uint8_t *)k, (size_t)kl);
        memcpy(val, &i, sizeof i);
        b64(vb, val, (size_t)c->value_bytes);
        int bl = sprintf(body, "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
        int st = 0;
        char *rb;
        size_t rl;
        errno = 0;
        if (post(&cn, "/v3/kv/put", body, (size_t)bl, &st, &rb, &rl) != 0) {
            c->broken = 1;
            snprintf(c->last_err, sizeof c->last_err,
                     "connection broken: %s",
                     errno ? strerror(errno) : "closed by etcd");
            break;
        }
        c->sent[c->n] = ts;
        c->done[c->n] = now();
        c->status[c->n] = st;
        c->n++;
        if (st != 200 && !c->last_err[0])
            snprintf(c->last_err, sizeof c->last_err, "%d %.140s", st, rb);
    }
out:
    conn_close(&cn);
    free(val);
    free(vb);
    free(body);
    return NULL;
}

struct run_result {
    double rate, p50, p99, max;
    size_t answers, errors;
    int broken;
    char err[200];
};

static struct run_result run_level(int port, int clients, int value_bytes,
                                   double secs, double warmup)
{
    struct client *c = calloc((size_t)clients, sizeof *c);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)clients + 1);
    double t_end = 1e300;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* a closed loop cannot beat ~0.1 ms per answer */
    size_t cap = (size_t)(secs * 10000) + 16;
    for (int i = 0; i < clients; i++) {
        c[i].id = i;
        c[i].port = port;
        c[i].value_bytes = value_bytes;
        c[i].start = &bar;
        c[i].t_end = &t_end;
        c[i].cap = cap;
        c[i].sent = malloc(sizeof(double) * cap);
        c[i].done = malloc(sizeof(double) * cap);
        c[i].status = malloc(sizeof(int) * cap);
        if (pthread_create(&c[i].t, &attr, client_thread, &c[i]) != 0)
            die("pthread_create", errno, NULL);
    }
    double t0 = now();
    t_end = t0 + secs;
    pthread_barrier_wait(&bar);
    for (int i = 0; i < clients; i++)
        pthread_join(c[i].t, NULL);
    pthread_barrier_destroy(&bar);
    pthread_attr_destroy(&attr);

    struct run_result r = {0};
    double from = t0 + warmup;
    size_t tot = 0;
    for (int i = 0; i < clients; i++)
        tot += c[i].n;
    double *lat = malloc(sizeof *lat * (tot ? tot : 1));
    size_t nl = 0;
    for (int i = 0; i < clients; i++) {
        r.answers += c[i].n;
        r.broken += c[i].broken;
        if (c[i].last_err[0] && !r.err[0])
            snprintf(r.err, sizeof r.err, "%s", c[i].last_err);
        for (size_t k = 0; k < c[i].n; k++) {
            if (c[i].status[k] != 200) {
                r.errors++;
                continue;
            }
            if (c[i].done[k] >= from && c[i].done[k] <= t_end)
                lat[nl++] = c[i].done[k] - c[i].sent[k];
        }
        free(c[i].sent);
        free(c[i].done);
        free(c[i].status);
    }
    r.rate = t_end > from ? (double)nl / (t_end - from) : 0;
    if (nl > 0) {
        qsort(lat, nl, sizeof *lat, cmp_d);
        r.p50 = lat[nl / 2] * 1e3;
        r.p99 = lat[nl * 99 / 100] * 1e3;
        r.max = lat[nl - 1] * 1e3;
    }
    free(lat);
    free(c);
    return r;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        out[n++] = atoi(s);
        const char *c = strchr(s, ',');
        if (c == NULL)
            break;
        s = c + 1;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *etcd = "/usr/bin/etcd";
    double secs = 8, warmup = 1.5;
    int levels[8] = {1, 16, 256}, nlevels = 3, value_bytes = 400, keep = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--keep")) {
            keep = 1;
            continue;
        }
        if (i + 1 >= argc)
            goto usage;
        const char *v = argv[++i];
        if (!strcmp(a, "--etcd"))
            etcd = v;
        else if (!strcmp(a, "--seconds"))
            secs = atof(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atof(v);
        else if (!strcmp(a, "--clients"))
            nlevels = parse_list(v, levels, 8);
        else if (!strcmp(a, "--value-bytes"))
            value_bytes = atoi(v);
        else
            goto usage;
    }
    if (secs <= warmup || value_bytes < 1 || value_bytes > 4096 ||
        nlevels < 1)
        goto usage;
    if (access(etcd, X_OK) != 0) {
        fprintf(stderr, "bench_etcd: %s not found (Debian package "
                "etcd-server; --etcd PATH)\n", etcd);
        return 1;
    }
    if (cy_init() != 0)
        return 1;
    if (mkdtemp(tmpdir) == NULL)
        die("mkdtemp", errno, NULL);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "starting 3 etcd members...\n");
    members_start(etcd);
    double tl = now();
    int leader = find_leader(30);
    int rc = 0;
    if (leader < 0) {
        fprintf(stderr, "bench_etcd: no leader in 30 s (logs in %s)\n",
                tmpdir);
        members_stop();
        return 1;
    }
    fprintf(stderr, "leader: member %d after %.2f s\n", leader + 1,
            now() - tl);
    printf("bench_etcd: %s, 3 members on 127.0.0.1 (fsync on, default "
           "settings); %.0f s per run (first %.1f s not counted); "
           "closed-loop clients, one keep-alive HTTP/1.1 connection each to "
           "the leader, POST /v3/kv/put (JSON gateway) of %d-byte values, "
           "answer after majority commit and leader apply\n\n",
           etcd, secs, warmup, value_bytes);
    printf("| measure | value | target | met |\n|---|---|---|---|\n");
    for (int li = 0; li < nlevels; li++) {
        int clients = levels[li];
        if (clients < 1)
            continue;
        double load = load1();
        fprintf(stderr, "etcd, %d clients: running %.0f s...\n", clients,
                secs);
        struct run_result r = run_level(mem[leader].client_port, clients,
                                        value_bytes, secs, warmup);
        if (r.err[0])
            for (char *q = r.err; *q; q++)
                if (*q == '|' || *q == '\n' || *q == '\r')
                    *q = ' ';
        printf("| etcd: 3 members, %d client%s, puts/s (%d B values; p50 / "
               "p99 / max latency) | %.0f/s; %.1f / %.1f / %.1f ms (%zu "
               "answers, %zu non-200%s; load %.2f)%s%s | - | - |\n",
               clients, clients == 1 ? "" : "s", value_bytes, r.rate, r.p50,
               r.p99, r.max, r.answers, r.errors,
               r.broken ? ", CONNECTION ERRORS" : "", load,
               r.err[0] ? "; first error: " : "", r.err);
        fflush(stdout);
        if (r.broken || r.answers == 0)
            rc = 1;
    }
    members_stop();
    if (!keep) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            rc = 1;
    } else {
        fprintf(stderr, "kept %s\n", tmpdir);
    }
    return rc;
usage:
    fprintf(stderr, "usage: bench_etcd [--etcd PATH] [--seconds S] "
                    "[--warmup W] [--clients 1,16,256] [--value-bytes 400] "
                    "[--keep]\n");
    return 2;
}
