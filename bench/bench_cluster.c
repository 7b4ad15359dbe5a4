/*
 * bench_cluster: end-to-end write throughput and latency of credbankd.
 *
 *   bench_cluster [--credbankd PATH] [--seconds S] [--warmup W]
 *                 [--clients 1,16,256] [--single-clients 256]
 *                 [--seal-ms 20] [--no-cluster] [--no-single]
 *                 [--perf FILE] [--keep] [--tls]
 *
 * 1. Measures the Ed25519 verify rate on all online cores (the bound).
 * 2. Builds everything itself through the ledger API: member keys (node key
 *    files for credbankd), a signed genesis (three members, cosign and
 *    governance quorum 2; or one member, quorums 1, for the single-node run),
 *    and per client a pre-signed workload of realistic entries: for each of
 *    its learners account.open (co-signed by the learner), two
 *    outcome.deposit and two credit.recognize (one co-signed by the learner);
 *    300-500 bytes signed, 1.4 signatures per entry.
 * 3. Starts three credbankd on 127.0.0.1 (free ports, a fresh temporary data
 *    directory each), waits for a ready leader, and for each concurrency C
 *    runs C client threads, each with one keep-alive HTTP/1.1 connection to
 *    the leader and blocking sockets, posting its entries in order with
 *    POST /v1/entries (Content-Type application/msgpack; the answer comes
 *    once the entry is in a final checkpoint). Each client waits for the
 *    answer before sending its next entry (closed loop). Throughput counts
 *    the 200 answers with "final" completed between warmup and the end of
 *    the run; latency is send to full answer, p50/p99 over the same window.
 *    Then the same against one credbankd of a one-member consortium.
 * 4. --perf FILE: runs `perf record -g` on every node during the largest
 *    run of each kind (FILE for the three nodes, FILE.single for one).
 * The nodes are stopped with SIGTERM at the end and the directory removed
 * (--keep leaves it, with the node logs).
 *
 * Prints a markdown table (measure | value | target | met).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
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

#include <jansson.h>
#include <openssl/ssl.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/ledger.h>

#define BENCH_NAME "bench_cluster"
#include "bench.h"

/* --tls: credbankd --tls (Raft, API and peer HTTP over TLS 1.3); the
 * clients speak TLS to the API too (without pinning: a benchmark) */
static int use_tls;
static SSL_CTX *bench_ctx;

#define ENTRIES_PER_LEARNER 5
#define MAX_NODES 3

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- keys, genesis and entries ---- */

struct member {
    const char *name;
    const char *roles;
    struct cy_key issuer, node;
};

static struct member members3[3] = {
    {.name = "bank", .roles = "\"registrar\",\"recognizer\""},
    {.name = "university", .roles = "\"recognizer\",\"provider\""},
    {.name = "provider", .roles = "\"provider\""},
};
static struct member member1 = {
    .name = "solo", .roles = "\"registrar\",\"recognizer\",\"provider\""};

/* Signed entry bytes (malloc'd); id (may be NULL) gets the entry id. */
static uint8_t *build(const uint8_t *ledger_id, enum lg_type type,
                      uint64_t ts, const struct cy_key *author,
                      const uint8_t *account, const uint8_t *ref,
                      const char *body_json, const struct cy_key *const *co,
                      size_t nco, size_t *len, uint8_t id[32])
{
    uint8_t *out = build_json(ledger_id, type, ts, author, account, ref,
                              body_json, co, nco, len);
    if (id != NULL) {
        struct lg_signed d;
        struct cb_err err = {0, ""};
        lg_signed_init(&d);
        if (lg_signed_decode(&d, out, *len, &err) != 0)
            die("decode", err.code, err.msg);
        memcpy(id, d.e.id, 32);
        lg_signed_release(&d);
    }
    return out;
}

/* The genesis of the consortium m[0..n) (m[0] the founder). */
static uint8_t *genesis(struct member *m, int n, int seal_ms, size_t *len,
                        uint8_t id[32])
{
    char body[8192], h[2][70];
    int q = n == 1 ? 1 : 2;
    int off = snprintf(body, sizeof body,
                       "{\"cosign_quorum\":%d,\"governance_quorum\":%d,"
                       "\"members\":[", q, q);
    for (int i = 0; i < n; i++)
        off += snprintf(body + off, sizeof body - (size_t)off,
                        "%s{\"issuers\":[\"%s\"],\"name\":\"%s\",\"node\":"
                        "\"%s\",\"roles\":[%s]}", i ? "," : "",
                        hexs(m[i].issuer.pk, h[0]), m[i].name,
                        hexs(m[i].node.pk, h[1]), m[i].roles);
    snprintf(body + off, sizeof body - (size_t)off,
             "],\"policy\":{\"degrees\":{\"bachelor\":{\"general\":30,"
             "\"major\":60,\"total\":140}},\"fees\":{\"account_open\":4000,"
             "\"currency\":\"KRW\",\"link_free_credits\":80,\"per_credit\":"
             "1000},\"seal_interval_ms\":%d,\"sources\":{\"mooc\":{"
             "\"min_attendance\":80,\"min_grade\":60}}}}", seal_ms);
    const struct cy_key *co[2 * MAX_NODES];
    size_t nco = 0;
    co[nco++] = &m[0].node;
    for (int i = 1; i < n; i++) {
        co[nco++] = &m[i].issuer;
        co[nco++] = &m[i].node;
    }
    return build(NULL, LG_T_GENESIS, wall_ms(), &m[0].issuer, NULL, NULL,
                 body, co, nco, len, id);
}

/* One client's pre-signed entries. */
struct workload {
    struct lg_buf *e;
    size_t n;
};

struct gen_job {
    const uint8_t *ledger_id;
    const struct cy_key *registrar, *provider, *recognizer;
    struct workload *w;     /* clients [from, to) */
    int from, to;
    size_t per_client;      /* multiple of ENTRIES_PER_LEARNER */
    long learner_base;      /* first learner number of client 0 */
    size_t bytes, sigs;
};

static void *gen_thread(void *arg)
{
    struct gen_job *g = arg;
    uint64_t ts = wall_ms();
    size_t learners = g->per_client / ENTRIES_PER_LEARNER;
    for (int c = g->from; c < g->to; c++) {
        struct workload *w = &g->w[c];
        w->e = malloc(sizeof *w->e * g->per_client);
        w->n = 0;
        if (w->e == NULL)
            die("malloc", ENOMEM, NULL);
        for (size_t k = 0; k < learners; k++) {
            long ln = g->learner_base + (long)((size_t)c * learners + k);
            char name[48], body[800], h[3][70];
            struct cy_key learner;
            snprintf(name, sizeof name, "learner-%ld", ln);
            key(&learner, name);
            uint8_t pii[32], ev[32], acct[32], dep[2][32];
            cy_sha256(pii, name, strlen(name));
            snprintf(body, sizeof body,
                     "{\"degree\":\"bachelor\",\"education\":{\"evidence\":"
                     "\"%s\",\"level\":\"high_school\"},\"fee_exempt\":false,"
                     "\"learner_key\":\"%s\",\"major\":\"computer science\","
                     "\"pii\":\"%s\"}",
                     hexs(pii, h[0]), hexs(learner.pk, h[1]),
                     hexs(pii, h[2]));
            const struct cy_key *co[] = {&learner};
            size_t len;
            uint8_t *p = build(g->ledger_id, LG_T_ACCOUNT_OPEN, ++ts,
                               g->registrar, NULL, NULL, body, co, 1, &len,
                               acct);
            w->e[w->n++] = (struct lg_buf){p, len};
            g->bytes += len;
            g->sigs += 2;
            for (int d = 0; d < 2; d++) {
                long x = ln * 2 + d;
                cy_sha256(ev, &x, sizeof x);
                snprintf(body, sizeof body,
                         "{\"attendance\":95,\"compatible\":true,\"course\":"
                         "\"CS%ld Data structures and algorithms\","
                         "\"credits\":3,\"evidence\":\"%s\",\"grade\":91,"
                         "\"source\":\"mooc\",\"term\":\"2024Q3\",\"title\":"
                         "\"Data structures, algorithms and their analysis "
                         "(K-MOOC)\"}",
                         x % 1000, hexs(ev, h[0]));
                p = build(g->ledger_id, LG_T_OUTCOME_DEPOSIT, ++ts,
                          g->provider, acct, NULL, body, NULL, 0, &len,
                          dep[d]);
                w->e[w->n++] = (struct lg_buf){p, len};
                g->bytes += len;
                g->sigs += 1;
            }
            for (int d = 0; d < 2; d++) {
                p = build(g->ledger_id, LG_T_CREDIT_RECOGNIZE, ++ts,
                          g->recognizer, acct, dep[d],
                          "{\"class\":\"major\",\"credits\":3,\"term\":"
                          "\"2024Q4\"}",
                          co, (size_t)d, &len, NULL);
                w->e[w->n++] = (struct lg_buf){p, len};
                g->bytes += len;
                g->sigs += 1 + (size_t)d;
            }
            cy_key_wipe(&learner);
        }
    }
    return NULL;
}

static struct workload *generate(const uint8_t *ledger_id,
                                 const struct cy_key *registrar,
                                 const struct cy_key *provider,
                                 const struct cy_key *recognizer,
                                 int clients, size_t per_client,
                                 long *learner_next, double *avg_bytes,
                                 double *sigs_per_entry)
{
    struct workload *w = calloc((size_t)clients, sizeof *w);
    per_client -= per_client % ENTRIES_PER_LEARNER;
    if (per_client == 0)
        per_client = ENTRIES_PER_LEARNER;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    if (nt > clients)
        nt = clients;
    struct gen_job jobs[8];
    pthread_t t[8];
    for (int i = 0; i < nt; i++) {
        jobs[i] = (struct gen_job){ledger_id, registrar, provider, recognizer,
                                   w, clients * i / nt,
                                   clients * (i + 1) / nt, per_client,
                                   *learner_next, 0, 0};
        pthread_create(&t[i], NULL, gen_thread, &jobs[i]);
    }
    size_t bytes = 0, sigs = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(t[i], NULL);
        bytes += jobs[i].bytes;
        sigs += jobs[i].sigs;
    }
    size_t total = per_client * (size_t)clients;
    *learner_next += (long)(total / ENTRIES_PER_LEARNER);
    *avg_bytes = (double)bytes / (double)total;
    *sigs_per_entry = (double)sigs / (double)total;
    return w;
}

static void workload_free(struct workload *w, int clients)
{
    for (int c = 0; c < clients; c++) {
        for (size_t i = 0; i < w[c].n; i++)
            free((void *)w[c].e[i].p);
        free(w[c].e);
    }
    free(w);
}

/* ---- files and processes ---- */

static char tmpdir[] = "/tmp/credbank-bench-cluster-XXXXXX";

static void write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
        die(path, errno, "write");
}

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

struct node {
    pid_t pid;
    int raft_port, api_port;
    int metrics_port;                   /* --metrics (spec/security.md) */
    char dir[256];
};

struct cluster {
    int n;
    struct node nodes[MAX_NODES];
    char name[32];
};

static const char *credbankd = NULL;

static void cluster_start(struct cluster *cl, struct member *m, int n,
                          const char *genesis_path, const char *name)
{
    cl->n = n;
    snprintf(cl->name, sizeof cl->name, "%s", name);
    for (int i = 0; i < n; i++) {
        cl->nodes[i].raft_port = free_port();
        cl->nodes[i].api_port = free_port();
        cl->nodes[i].metrics_port = free_port();
        snprintf(cl->nodes[i].dir, sizeof cl->nodes[i].dir, "%s/%s-n%d",
                 tmpdir, name, i + 1);
    }
    for (int i = 0; i < n; i++) {
        char keypath[300], logpath[300], id[16], raft[32], api[32],
            metrics[32];
        char peers[MAX_NODES][200];
        snprintf(keypath, sizeof keypath, "%s/%s-%s.node.key", tmpdir, name,
                 m[i].name);
        struct cb_err err = {0, ""};
        if (cy_keyfile_write(keypath, &m[i].node, &err) != 0)
            die("key file", err.code, err.msg);
        snprintf(logpath, sizeof logpath, "%s.log", cl->nodes[i].dir);
        snprintf(id, sizeof id, "%d", i + 1);
        snprintf(raft, sizeof raft, "127.0.0.1:%d", cl->nodes[i].raft_port);
        snprintf(api, sizeof api, "127.0.0.1:%d", cl->nodes[i].api_port);
        const char *argv[40];
        int a = 0;
        argv[a++] = credbankd;
        argv[a++] = "--dir";
        argv[a++] = cl->nodes[i].dir;
        argv[a++] = "--key";
        argv[a++] = keypath;
        argv[a++] = "--name";
        argv[a++] = m[i].name;
        argv[a++] = "--genesis";
        argv[a++] = genesis_path;
        argv[a++] = "--id";
        argv[a++] = id;
        argv[a++] = "--raft";
        argv[a++] = raft;
        argv[a++] = "--api";
        argv[a++] = api;
        snprintf(metrics, sizeof metrics, "127.0.0.1:%d",
                 cl->nodes[i].metrics_port);
        argv[a++] = "--metrics";
        argv[a++] = metrics;
        for (int k = 0; k < n; k++) {
            snprintf(peers[k], sizeof peers[k],
                     "%d,127.0.0.1:%d,%s://127.0.0.1:%d", k + 1,
                     cl->nodes[k].raft_port, use_tls ? "https" : "http",
                     cl->nodes[k].api_port);
            argv[a++] = "--peer";
            argv[a++] = peers[k];
        }
        if (use_tls)
            argv[a++] = "--tls";
        argv[a] = NULL;
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
            execv(credbankd, (char *const *)argv);
            _exit(127);
        }
        cl->nodes[i].pid = pid;
    }
}

static void cluster_stop(struct cluster *cl)
{
    for (int i = 0; i < cl->n; i++)
        if (cl->nodes[i].pid > 0)
            kill(cl->nodes[i].pid, SIGTERM);
    double end = now() + 10;
    for (int i = 0; i < cl->n; i++) {
        if (cl->nodes[i].pid <= 0)
            continue;
        int st;
        while (waitpid(cl->nodes[i].pid, &st, WNOHANG) == 0) {
            if (now() > end) {
                fprintf(stderr, "bench_cluster: node %d did not stop in "
                        "10 s: SIGKILL\n", i + 1);
                kill(cl->nodes[i].pid, SIGKILL);
                waitpid(cl->nodes[i].pid, &st, 0);
                break;
            }
            usleep(20000);
        }
        cl->nodes[i].pid = 0;
    }
}

static struct cluster *live[2];

static void on_fatal_signal(int sig)
{
    for (int c = 0; c < 2; c++)
        if (live[c] != NULL)
            for (int i = 0; i < live[c]->n; i++)
                if (live[c]->nodes[i].pid > 0)
                    kill(live[c]->nodes[i].pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- a minimal blocking HTTP/1.1 client ---- */

struct conn {
    int fd;
    SSL *ssl;                   /* --tls */
    int port;
    char buf[16384];
    size_t have;
};

static int conn_open2(struct conn *c, int port, int tls);

static int conn_open(struct conn *c, int port)
{
    return conn_open2(c, port, use_tls);
}

static int conn_open2(struct conn *c, int port, int tls)
{
    c->port = port;
    c->have = 0;
    c->ssl = NULL;
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
    if (tls) {
        c->ssl = SSL_new(bench_ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
            SSL_connect(c->ssl) != 1) {
            SSL_free(c->ssl);
            c->ssl = NULL;
            close(c->fd);
            c->fd = -1;
            return -1;
        }
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int write_all(int fd, const void *p, size_t n);

static int c_write(struct conn *c, const void *p, size_t n)
{
    if (c->ssl == NULL)
        return write_all(c->fd, p, n);
    return n == 0 || SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
}

static ssize_t c_recv(struct conn *c, void *p, size_t n)
{
    if (c->ssl == NULL)
        return recv(c->fd, p, n, 0);
    int r = SSL_read(c->ssl, p, (int)n);
    return r > 0 ? r : -1;
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

/* Reads until c->have >= upto. */
static int conn_fill(struct conn *c, size_t upto)
{
    if (upto + 1 > sizeof c->buf)
        return -1;
    while (c->have < upto) {
        ssize_t r = c_recv(c, c->buf + c->have, sizeof c->buf - 1 - c->have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->have += (size_t)r;
    }
    return 0;
}

/* Sends one request; reads the answer: status, body (NUL-terminated, in
 * c->buf, valid until the next call). -1 on a broken connection. */
static int http(struct conn *c, const char *method, const char *path,
                const char *ctype, const uint8_t *body, size_t blen,
                int *status, char **rbody, size_t *rlen)
{
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      "%s%s%sContent-Length: %zu\r\n\r\n",
                      method, path, c->port, ctype ? "Content-Type: " : "",
                      ctype ? ctype : "", ctype ? "\r\n" : "", blen);
    static _Thread_local char one[4096];
    if ((size_t)hl + blen <= sizeof one) { /* one write: head and body */
        memcpy(one, head, (size_t)hl);
        if (blen > 0)
            memcpy(one + hl, body, blen);
        if (c_write(c, one, (size_t)hl + blen) != 0)
            return -1;
    } else if (c_write(c, head, (size_t)hl) != 0 ||
               (blen > 0 && c_write(c, body, blen) != 0)) {
        return -1;
    }
    /* c->have bytes may be left from a previous answer: none expected with
     * one request at a time */
    c->have = 0;
    char *eoh = NULL;
    while (eoh == NULL) {
        if (c->have + 1 >= sizeof c->buf)
            return -1;
        ssize_t r = c_recv(c, c->buf + c->have, sizeof c->buf - 1 - c->have);
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
    /* chunked: decode in place at hdr */
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

/* The index of the ready leader, or -1. */
static int find_leader(struct cluster *cl, double timeout)
{
    double end = now() + timeout;
    while (now() < end) {
        for (int i = 0; i < cl->n; i++) {
            struct conn c;
            if (conn_open(&c, cl->nodes[i].api_port) != 0)
                continue;
            int st;
            char *b;
            size_t bl;
            if (http(&c, "GET", "/v1/status", NULL, NULL, 0, &st, &b, &bl) ==
                    0 && st == 200 && strstr(b, "\"role\":\"leader\"") &&
                strstr(b, "\"ready\":true")) {
                conn_close(&c);
                return i;
            }
            conn_close(&c);
        }
        usleep(20000);
    }
    return -1;
}

/* ---- what the nodes did during a run ---- */

struct msnap {
    double batches, batch_entries, apply_s, seals, cpu_s, wait_s;
};

static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return atof(p + n + 1);
    return 0;
}

/* CPU seconds (user + system) of every node process. */
static double nodes_cpu(struct cluster *cl)
{
    double sum = 0;
    long hz = sysconf(_SC_CLK_TCK);
    for (int i = 0; i < cl->n; i++) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)cl->nodes[i].pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t r = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[r] = 0;
        char *p = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
                                "%*u %*u %lu %lu", &ut, &st) == 2)
            sum += (double)(ut + st) / (double)hz;
    }
    return sum;
}

/* Seconds the nodes' threads spent runnable but waiting for a CPU
 * (/proc/PID/task/TID/schedstat, second field): the cost of sharing the
 * machine. */
static double nodes_wait(struct cluster *cl)
{
    double sum = 0;
    for (int i = 0; i < cl->n; i++) {
        char path[96];
        snprintf(path, sizeof path, "/proc/%d/task", (int)cl->nodes[i].pid);
        DIR *d = opendir(path);
        if (d == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char sp[160];
            snprintf(sp, sizeof sp, "%s/%.20s/schedstat", path, de->d_name);
            FILE *f = fopen(sp, "r");
            unsigned long long run, wait;
            if (f == NULL)
                continue;
            if (fscanf(f, "%llu %llu", &run, &wait) == 2)
                sum += (double)wait / 1e9;
            fclose(f);
        }
        closedir(d);
    }
    return sum;
}

static struct msnap snapshot(struct cluster *cl, int leader)
{
    struct msnap m = {0, 0, 0, 0, nodes_cpu(cl), nodes_wait(cl)};
    struct conn c;
    if (conn_open2(&c, cl->nodes[leader].metrics_port, 0) != 0)
        return m;
    int st;
    char *b;
    size_t bl;
    if (http(&c, "GET", "/metrics", NULL, NULL, 0, &st, &b, &bl) == 0 &&
        st == 200) {
        m.batches = metric(b, "credbank_batch_entries_count");
        m.batch_entries = metric(b, "credbank_batch_entries_sum");
        m.apply_s = metric(b, "credbank_apply_seconds_sum");
        m.seals = metric(b, "credbank_seals_proposed_total");
    }
    conn_close(&c);
    return m;
}

/* ---- clients ---- */

struct client {
    pthread_t t;
    int port;
    struct workload *w;
    pthread_barrier_t *start;
    const double *t_end;
    /* results */
    double *sent, *done;          /* per request */
    int *status;
    size_t n;                     /* requests completed (any answer) */
    size_t final;                 /* 200 with "final" */
    int broken;                   /* connection failure */
    int exhausted;                /* ran out of entries before the end */
    char last_err[160];
};

static void *client_thread(void *arg)
{
    struct client *c = arg;
    struct conn cn;
    int ok = conn_open(&cn, c->port) == 0;
    pthread_barrier_wait(c->start);
    if (!ok) {
        c->broken = 1;
        return NULL;
    }
    double end = *c->t_end;
    size_t i = 0;
    for (; i < c->w->n; i++) {
        double ts = now();
        if (ts >= end)
            break;
        int st = 0;
        char *b;
        size_t bl;
        errno = 0;
        if (http(&cn, "POST", "/v1/entries", "application/msgpack",
                 c->w->e[i].p, c->w->e[i].len, &st, &b, &bl) != 0) {
            c->broken = 1;
            if (!c->last_err[0])
                snprintf(c->last_err, sizeof c->last_err,
                         "connection broken after %.1f s: %s", now() - ts,
                         errno ? strerror(errno) : "closed by the node");
            break;
        }
        c->sent[c->n] = ts;
        c->done[c->n] = now();
        c->status[c->n] = st;
        c->n++;
        if (st == 200 && strstr(b, "\"final\":") != NULL) {
            c->final++;
        } else {
            snprintf(c->last_err, sizeof c->last_err, "%d %.140s", st, b);
            if (st != 200 && st != 504 && st != 503)
                break; /* a rule refusal: the later entries would fail */
        }
    }
    if (i == c->w->n && now() < end)
        c->exhausted = 1;
    conn_close(&cn);
    return NULL;
}

struct run_result {
    int clients;
    double rate, p50, p99, max;
    size_t final, answers, errors, window_n;
    int broken, exhausted;
    char err[200];
};

static struct run_result run_level(struct cluster *cl, int leader, int clients,
                                   struct workload *w, double secs,
                                   double warmup)
{
    struct client *c = calloc((size_t)clients, sizeof *c);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)clients + 1);
    double t0 = 0, t_end = 1e300;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < clients; i++) {
        c[i].port = cl->nodes[leader].api_port;
        c[i].w = &w[i];
        c[i].start = &bar;
        c[i].t_end = &t_end;
        c[i].sent = malloc(sizeof(double) * w[i].n);
        c[i].done = malloc(sizeof(double) * w[i].n);
        c[i].status = malloc(sizeof(int) * w[i].n);
        if (pthread_create(&c[i].t, &attr, client_thread, &c[i]) != 0)
            die("pthread_create", errno, NULL);
    }
    t0 = now();
    t_end = t0 + secs;
    pthread_barrier_wait(&bar);
    for (int i = 0; i < clients; i++)
        pthread_join(c[i].t, NULL);
    pthread_barrier_destroy(&bar);
    pthread_attr_destroy(&attr);

    struct run_result r = {.clients = clients};
    double from = t0 + warmup;
    /* if some client ran out early, the window ends at the first one */
    double last = t_end;
    for (int i = 0; i < clients; i++)
        if (c[i].exhausted && c[i].n > 0 && c[i].done[c[i].n - 1] < last)
            last = c[i].done[c[i].n - 1];
    size_t cap = 0;
    for (int i = 0; i < clients; i++)
        cap += c[i].n;
    double *lat = malloc(sizeof *lat * (cap ? cap : 1));
    size_t nl = 0;
    for (int i = 0; i < clients; i++) {
        r.answers += c[i].n;
        r.final += c[i].final;
        r.broken += c[i].broken;
        r.exhausted += c[i].exhausted;
        if (c[i].last_err[0] && !r.err[0])
            snprintf(r.err, sizeof r.err, "%s", c[i].last_err);
        for (size_t k = 0; k < c[i].n; k++) {
            if (c[i].status[k] != 200)
                r.errors++;
            if (c[i].done[k] < from || c[i].done[k] > last)
                continue;
            if (c[i].status[k] == 200) {
                lat[nl++] = c[i].done[k] - c[i].sent[k];
            }
        }
        free(c[i].sent);
        free(c[i].done);
        free(c[i].status);
    }
    r.window_n = nl;
    r.rate = last > from ? (double)nl / (last - from) : 0;
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

/* ---- main ---- */

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

static void print_row(const char *measure, const char *value,
                      const char *target, const char *met)
{
    printf("| %s | %s | %s | %s |\n", measure, value, target, met);
    fflush(stdout);
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

static pid_t perf_start(struct cluster *cl, const char *file, double secs)
{
    char pids[128] = "", dur[32];
    for (int i = 0; i < cl->n; i++)
        snprintf(pids + strlen(pids), sizeof pids - strlen(pids), "%s%d",
                 i ? "," : "", (int)cl->nodes[i].pid);
    snprintf(dur, sizeof dur, "%.1f", secs);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("perf", "perf", "record", "-F", "999", "-g", "-o", file,
               "-p", pids, "--", "sleep", dur, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    double secs = 8, warmup = 1.5;
    int levels[8] = {1, 16, 256}, nlevels = 3;
    int slevels[8] = {256}, nslevels = 1;
    int seal_ms = 20, do_cluster = 1, do_single = 1, keep = 0;
    const char *perf_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-cluster"))
            do_cluster = 0;
        else if (!strcmp(a, "--no-single"))
            do_single = 0;
        else if (!strcmp(a, "--tls"))
            use_tls = 1;
        else if (!strcmp(a, "--keep"))
            keep = 1;
        else if (v == NULL)
            goto usage;
        else if (!strcmp(a, "--credbankd"))
            credbankd = argv[++i];
        else if (!strcmp(a, "--seconds"))
            secs = atof(argv[++i]);
        else if (!strcmp(a, "--warmup"))
            warmup = atof(argv[++i]);
        else if (!strcmp(a, "--clients"))
            nlevels = parse_list(argv[++i], levels, 8);
        else if (!strcmp(a, "--single-clients"))
            nslevels = parse_list(argv[++i], slevels, 8);
        else if (!strcmp(a, "--seal-ms"))
            seal_ms = atoi(argv[++i]);
        else if (!strcmp(a, "--perf"))
            perf_file = argv[++i];
        else
            goto usage;
    }
    if (secs <= warmup || seal_ms < 1)
        goto usage;
    static char self_dir[4096];
    if (credbankd == NULL) {
        ssize_t n = readlink("/proc/self/exe", self_dir, sizeof self_dir - 16);
        if (n <= 0)
            die("readlink", errno, NULL);
        self_dir[n] = 0;
        char *slash = strrchr(self_dir, '/');
        strcpy(slash + 1, "credbankd");
        credbankd = self_dir;
    }
    if (access(credbankd, X_OK) != 0) {
        fprintf(stderr, "bench_cluster: %s not found (--credbankd PATH)\n",
                credbankd);
        return 1;
    }
    if (cy_init() != 0)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    fprintf(stderr, "measuring the verify bound...\n");
    double v1 = verify_rate(1, 1.0), vn = verify_rate((int)cpus, 1.0);
    if (mkdtemp(tmpdir) == NULL)
        die("mkdtemp", errno, NULL);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);

    printf("bench_cluster: credbankd %s; %ld cores; seal_interval_ms %d; "
           "%.0f s per run (first %.1f s not counted); closed-loop clients, "
           "one keep-alive HTTP/1.1 connection each, POST /v1/entries "
           "(application/msgpack) waiting for finality\n\n",
           credbankd, cpus, seal_ms, secs, warmup);
    if (use_tls) {
        bench_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(bench_ctx, TLS1_3_VERSION);
        SSL_CTX_set_verify(bench_ctx, SSL_VERIFY_NONE, NULL);
        printf("links: TLS 1.3 (credbankd --tls)\n\n");
    }
    printf("| measure | value | target | met |\n|---|---|---|---|\n");
    char val[512];
    snprintf(val, sizeof val, "%.0f/s (1 thread %.0f/s; load %.2f)", vn, v1,
             load1());
    print_row("cluster: Ed25519 verify, all cores (~400 B)", val, "-", "-");

    long learner_next = 0;
    int rc = 0;
    for (int mode = 0; mode < 2; mode++) {
        if ((mode == 0 && !do_cluster) || (mode == 1 && !do_single))
            continue;
        struct member *m = mode == 0 ? members3 : &member1;
        int n = mode == 0 ? 3 : 1;
        const char *name = mode == 0 ? "three" : "single";
        char kn[96];
        for (int i = 0; i < n; i++) {
            snprintf(kn, sizeof kn, "%s-%s", name, m[i].name);
            key(&m[i].issuer, kn);
            snprintf(kn, sizeof kn, "%s-%s-node", name, m[i].name);
            key(&m[i].node, kn);
        }
        size_t glen;
        uint8_t ledger_id[32];
        uint8_t *g = genesis(m, n, seal_ms, &glen, ledger_id);
        char gpath[300];
        snprintf(gpath, sizeof gpath, "%s/%s-genesis.cbe", tmpdir, name);
        write_file(gpath, g, glen);
        free(g);
        const struct cy_key *reg = &m[0].issuer;
        const struct cy_key *prov = mode == 0 ? &m[1].issuer : &m[0].issuer;
        const struct cy_key *recog = &m[0].issuer;

        struct cluster *cl = calloc(1, sizeof *cl);
        live[mode] = cl;
        fprintf(stderr, "starting %d credbankd (%s)...\n", n, name);
        cluster_start(cl, m, n, gpath, name);
        double tl = now();
        int leader = find_leader(cl, 20);
        if (leader < 0) {
            fprintf(stderr, "bench_cluster: no ready leader in 20 s "
                    "(logs in %s)\n", tmpdir);
            cluster_stop(cl);
            keep = 1;
            rc = 1;
            break;
        }
        fprintf(stderr, "leader: node %d after %.2f s\n", leader + 1,
                now() - tl);
        int *lv = mode == 0 ? levels : slevels;
        int nl = mode == 0 ? nlevels : nslevels;
        for (int li = 0; li < nl; li++) {
            int clients = lv[li];
            if (clients < 1)
                continue;
            /* enough for a closed loop at >= 10 ms per answer (or 15,000
             * entries/s in all), whichever is less */
            double per = secs * (clients == 1 ? 200 : 100);
            double cap = secs * 15000.0 / clients;
            size_t per_client = (size_t)(per < cap ? per : cap) +
                                ENTRIES_PER_LEARNER;
            double avg_bytes, spe;
            fprintf(stderr, "%s, %d clients: signing %zu entries...\n", name,
                    clients, per_client * (size_t)clients);
            struct workload *w = generate(ledger_id, reg, prov, recog,
                                          clients, per_client, &learner_next,
                                          &avg_bytes, &spe);
            pid_t pp = 0;
            if (perf_file != NULL && li == nl - 1) {
                char pf[600];
                snprintf(pf, sizeof pf, "%s%s", perf_file,
                         mode == 0 ? "" : ".single");
                pp = perf_start(cl, pf, secs);
            }
            double load = load1();
            struct msnap m0 = snapshot(cl, leader);
            double tr0 = now();
            fprintf(stderr, "%s, %d clients: running %.0f s...\n", name,
                    clients, secs);
            struct run_result r = run_level(cl, leader, clients, w, secs,
                                            warmup);
            struct msnap m1 = snapshot(cl, leader);
            double tr = now() - tr0;
            if (pp > 0)
                waitpid(pp, NULL, 0);
            double nb = m1.batches - m0.batches;
            char detail[512];
            snprintf(detail, sizeof detail,
                    "leader: %.0f Raft batches/s, %.1f entries per "
                    "batch (seals and cosigns included), lg_apply %.2f ms per "
                    "batch (%.0f%% of the run), %.0f seals/s; all nodes: "
                    "%.2f CPU cores busy of %ld, %.2f more runnable but "
                    "waiting for a CPU; %.2f ms CPU per final entry",
                    nb / tr, nb > 0 ? (m1.batch_entries - m0.batch_entries) / nb
                                    : 0,
                    nb > 0 ? 1e3 * (m1.apply_s - m0.apply_s) / nb : 0,
                    100 * (m1.apply_s - m0.apply_s) / tr,
                    (m1.seals - m0.seals) / tr, (m1.cpu_s - m0.cpu_s) / tr,
                    cpus, (m1.wait_s - m0.wait_s) / tr,
                    r.final > 0 ? 1e3 * (m1.cpu_s - m0.cpu_s) / (double)r.final
                                : 0);
            workload_free(w, clients);
            char meas[200];
            snprintf(meas, sizeof meas,
                     "%s: %d client%s, final entries/s (%.0f B avg, %.2f "
                     "sigs/entry; p50 / p99 / max latency)",
                     mode == 0 ? "cluster: 3 nodes" : "cluster: 1 node",
                     clients,
                     clients == 1 ? "" : "s", avg_bytes, spe);
            snprintf(val, sizeof val,
                     "%.0f/s; %.1f / %.1f / %.1f ms (%zu answers, %zu "
                     "non-200%s%s; load %.2f)",
                     r.rate, r.p50, r.p99, r.max, r.answers, r.errors,
                     r.broken ? ", CONNECTION ERRORS" : "",
                     r.exhausted ? ", clients ran out of entries" : "",
                     load);
            const char *target = "-", *met = "-";
            char t2[160], m2[32];
            if (mode == 0 && clients >= 256) {
                /* on one machine every entry is verified by the leader's
                 * pre-check and by the three applies */
                snprintf(t2, sizeof t2, ">= 10,000/s (this machine's verify "
                         "bound for 3 replicas + pre-check: %.0f/s)",
                         vn / (spe * 4));
                target = t2;
                met = r.rate >= 10000 ? "met" : "missed";
            } else if (mode == 1) {
                double bound = vn / spe;
                snprintf(t2, sizeof t2, ">= 90%% of the verify bound %.0f/s "
                         "(now %.0f%%; %.0f/s with the pre-check verifying "
                         "too)", bound, 100 * r.rate / bound, bound / 2);
                snprintf(m2, sizeof m2, "%s",
                         r.rate >= 0.9 * bound ? "met" : "missed");
                target = t2;
                met = m2;
            }
            if (r.err[0]) { /* the first answer that was not final */
                for (char *q = r.err; *q; q++)
                    if (*q == '|' || *q == '\n' || *q == '\r')
                        *q = ' ';
                size_t vl = strlen(val);
                snprintf(val + vl, sizeof val - vl, "; first non-final "
                         "answer: %.100s", r.err);
            }
            print_row(meas, val, target, met);
            snprintf(meas, sizeof meas, "%s: %d client%s, where the time "
                     "went", mode == 0 ? "cluster: 3 nodes" : "cluster: 1 node",
                     clients, clients == 1 ? "" : "s");
            print_row(meas, detail, "-", "-");
            if (r.err[0])
                fprintf(stderr, "  first non-final answer: %s\n", r.err);
            if (r.broken)
                rc = 1;
        }
        cluster_stop(cl);
        live[mode] = NULL;
        free(cl);
    }
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
    fprintf(stderr,
            "usage: bench_cluster [--credbankd PATH] [--seconds S] "
            "[--warmup W] [--clients 1,16,256] [--single-clients 256] "
            "[--seal-ms 20] [--no-cluster] [--no-single] [--perf FILE] "
            "[--keep]\n");
    return 2;
}
