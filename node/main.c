/*
 * credbankd: configuration, start and shutdown.
 *
 * Start order: key, ledger (genesis applied as untagged entry 0 when the
 * ledger is empty), the members (member.c), Raft (uv transport and I/O,
 * bootstrap with the static peers and those whose member is in force as
 * voters; RAFT_CANTBOOTSTRAP on restart is expected), the write path timers
 * (fsm.c), the HTTP API (api.c), signal handlers. Shutdown on SIGTERM/SIGINT:
 * stop listening, answer waiting requests, raft_close; its callback stops the
 * loop, then the ledger is closed.
 */
#include "node.h"
#include "tcplink.h"
#include "transport.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

struct nd_node nd;

#define USAGE                                                                \
    "usage: credbankd [--config FILE] --dir DATADIR --key NODE.key "          \
    "--name MEMBER\n"                                                         \
    "                 --genesis GENESIS.cbe --id N --raft IP:PORT "           \
    "--api IP:PORT\n"                                                         \
    "                 --peer ID,RAFTADDR,APIURL[,MEMBER] (repeated, every "   \
    "node)\n"                                                                 \
    "                 [--election-ms 300] [--heartbeat-ms 30] [--join]\n"     \
    "                 [--tls]\n"                                             \
    "                 [--snapshot-threshold 1048576] "                         \
    "[--snapshot-trailing 1024]\n"                                           \
    "                 [--metrics IP:PORT|off (default 127.0.0.1:API port "      \
    "+ 1000)]\n"

void nd_hex(char *out, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

uint64_t nd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *nd_api_of(const char *raft_addr)
{
    if (raft_addr == NULL)
        return NULL;
    for (unsigned i = 0; i < nd.cfg.npeers; i++)
        if (strcmp(nd.cfg.peers[i].raft, raft_addr) == 0)
            return nd.cfg.peers[i].api;
    return NULL;
}

const char *nd_leader_api(void)
{
    raft_id id;
    const char *addr;
    raft_leader(&nd.raft, &id, &addr);
    return id != 0 ? nd_api_of(addr) : NULL;
}

/* ---- configuration ---- */

static int copy(char *dst, size_t cap, const char *key, const char *v)
{
    if (strlen(v) >= cap) {
        fprintf(stderr, "credbankd: %s: value too long\n", key);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

static int parse_uint(const char *key, const char *v, uint64_t max,
                      uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || x == 0 || x > max || v[0] == '-') {
        fprintf(stderr, "credbankd: %s: not a number in 1..%" PRIu64 ": %s\n",
                key, max, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int check_ipport(const char *key, const char *v)
{
    char ip[64];
    const char *c = strrchr(v, ':');
    struct sockaddr_in sa;
    if (c == NULL || (size_t)(c - v) >= sizeof ip)
        goto bad;
    memcpy(ip, v, (size_t)(c - v));
    ip[c - v] = 0;
    char *end;
    long port = strtol(c + 1, &end, 10);
    if (*end || port <= 0 || port > 65535 || uv_ip4_addr(ip, (int)port, &sa))
        goto bad;
    return 0;
bad:
    fprintf(stderr, "credbankd: %s: not IPv4:PORT: %s\n", key, v);
    return -1;
}

static int set_option(const char *key, const char *v)
{
    struct nd_config *c = &nd.cfg;
    uint64_t x;
    if (strcmp(key, "dir") == 0)
        return copy(c->dir, sizeof c->dir, key, v);
    if (strcmp(key, "key") == 0)
        return copy(c->key, sizeof c->key, key, v);
    if (strcmp(key, "name") == 0)
        return copy(c->name, sizeof c->name, key, v);
    if (strcmp(key, "genesis") == 0)
        return copy(c->genesis, sizeof c->genesis, key, v);
    if (strcmp(key, "id") == 0) {
        if (parse_uint(key, v, UINT64_MAX, &x))
            return -1;
        c->id = x;
        return 0;
    }
    if (strcmp(key, "tls") == 0) { /* config file: tls = on|off */
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
            fprintf(stderr, "credbankd: tls: on or off: %s\n", v);
            return -1;
        }
        c->tls = strcmp(v, "on") == 0;
        return 0;
    }
    if (strcmp(key, "raft") == 0)
        return check_ipport(key, v) ? -1 : copy(c->raft, sizeof c->raft, key, v);
    if (strcmp(key, "metrics") == 0) {
        if (strcmp(v, "off") != 0 && check_ipport(key, v) != 0)
            return -1;
        return copy(c->metrics, sizeof c->metrics, key, v);
    }
    if (strcmp(key, "api") == 0)
        return check_ipport(key, v) ? -1 : copy(c->api, sizeof c->api, key, v);
    if (strcmp(key, "election-ms") == 0 || strcmp(key, "election_ms") == 0) {
        if (parse_uint(key, v, 60000, &x))
            return -1;
        c->election_ms = (unsigned)x;
        return 0;
    }
    if (strcmp(key, "heartbeat-ms") == 0 || strcmp(key, "heartbeat_ms") == 0) {
        if (parse_uint(key, v, 60000, &x))
            return -1;
        c->heartbeat_ms = (unsigned)x;
        return 0;
    }
    if (strcmp(key, "snapshot-threshold") == 0 ||
        strcmp(key, "snapshot_threshold") == 0) {
        if (parse_uint(key, v, UINT32_MAX, &x))
            return -1;
        c->snapshot_threshold = x;
        return 0;
    }
    if (strcmp(key, "snapshot-trailing") == 0 ||
        strcmp(key, "snapshot_trailing") == 0) {
        if (parse_uint(key, v, UINT32_MAX, &x))
            return -1;
        c->snapshot_trailing = x;
        return 0;
    }
    if (strcmp(key, "join") == 0) {
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
            strcmp(v, "yes") == 0)
            c->join = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
                 strcmp(v, "no") == 0)
            c->join = false;
        else {
            fprintf(stderr, "credbankd: join: true or false: %s\n", v);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "peer") == 0) {
        if (c->npeers >= ND_MAX_PEERS) {
            fprintf(stderr, "credbankd: at most %d peers\n", ND_MAX_PEERS);
            return -1;
        }
        char buf[512];
        if (copy(buf, sizeof buf, key, v))
            return -1;
        char *c1 = strchr(buf, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (c2 == NULL || (c3 != NULL && strchr(c3 + 1, ',') != NULL)) {
            fprintf(stderr, "credbankd: peer: want ID,RAFTADDR,APIURL"
                    "[,MEMBER]: %s\n", v);
            return -1;
        }
        *c1 = *c2 = 0;
        if (c3 != NULL)
            *c3 = 0;
        struct nd_peer *p = &c->peers[c->npeers];
        memset(p, 0, sizeof *p);
        if (parse_uint("peer id", buf, UINT64_MAX, &x) ||
            check_ipport("peer raft address", c1 + 1) ||
            copy(p->raft, sizeof p->raft, key, c1 + 1) ||
            copy(p->api, sizeof p->api, key, c2 + 1))
            return -1;
        size_t skip = strncmp(p->api, "https://", 8) == 0 ? 8 : 7;
        if ((skip == 7 && strncmp(p->api, "http://", 7) != 0) ||
            check_ipport("peer api url", p->api + skip)) {
            fprintf(stderr, "credbankd: peer: API URL must be "
                    "http[s]://IPv4:PORT: %s\n", p->api);
            return -1;
        }
        if (c3 != NULL) {
            const char *m = c3 + 1;
            size_t n = strlen(m);
            bool okname = n >= 1 && n <= 64;
            for (size_t k = 0; k < n && okname; k++)
                okname = (m[k] >= 'A' && m[k] <= 'Z') ||
                         (m[k] >= 'a' && m[k] <= 'z') ||
                         (m[k] >= '0' && m[k] <= '9') || m[k] == '.' ||
                         m[k] == '_' || m[k] == '-';
            if (!okname) {
                fprintf(stderr, "credbankd: peer: member name must be 1-64 "
                        "of A-Za-z0-9._-: %s\n", m);
                return -1;
            }
            memcpy(p->member, m, n + 1);
        }
        p->id = x;
        c->npeers++;
        return 0;
    }
    fprintf(stderr, "credbankd: unknown option: %s\n", key);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
                     s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static int read_config(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "credbankd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rv = 0;
    while (rv == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = trim(line);
        if (*s == 0 || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "credbankd: %s:%d: want key = value\n", path,
                    lineno);
            rv = -1;
            break;
        }
        *eq = 0;
        rv = set_option(trim(s), trim(eq + 1));
        if (rv != 0)
            fprintf(stderr, "credbankd: in %s:%d\n", path, lineno);
    }
    fclose(f);
    return rv;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strcmp(a, "--join") == 0) {
            nd.cfg.join = true;
            continue;
        }
        if (strcmp(a, "--tls") == 0) {
            nd.cfg.tls = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "credbankd: bad argument: %s\n%s", a, USAGE);
            return -1;
        }
        const char *v = argv[++i];
        int rv = strcmp(a, "--config") == 0 ? read_config(v)
                                             : set_option(a + 2, v);
        if (rv != 0)
            return -1;
    }
    struct nd_config *c = &nd.cfg;
    const char *missing = !c->dir[0]       ? "--dir"
                          : !c->key[0]     ? "--key"
                          : !c->name[0]    ? "--name"
                          : !c->id         ? "--id"
                          : !c->raft[0]    ? "--raft"
                          : !c->api[0]     ? "--api"
                          : !c->npeers     ? "--peer"
                                           : NULL;
    if (missing != NULL) {
        fprintf(stderr, "credbankd: missing %s\n%s", missing, USAGE);
        return -1;
    }
    bool self = false;
    for (unsigned i = 0; i < c->npeers; i++) {
        for (unsigned j = 0; j < i; j++)
            if (c->peers[i].id == c->peers[j].id ||
                strcmp(c->peers[i].raft, c->peers[j].raft) == 0) {
                fprintf(stderr, "credbankd: peer %u repeated\n", i + 1);
                return -1;
            }
        for (unsigned j = 0; j < i; j++)
            if (c->peers[i].member[0] &&
                strcmp(c->peers[i].member, c->peers[j].member) == 0) {
                fprintf(stderr, "credbankd: member %s named by two peers\n",
                        c->peers[i].member);
                return -1;
            }
        if (c->peers[i].id == c->id) {
            self = true;
            if (c->peers[i].member[0] &&
                strcmp(c->peers[i].member, c->name) != 0) {
                fprintf(stderr, "credbankd: --peer for id %llu names member "
                        "%s, but --name is %s\n", (unsigned long long)c->id,
                        c->peers[i].member, c->name);
                return -1;
            }
            if (strcmp(c->peers[i].raft, c->raft) != 0) {
                fprintf(stderr, "credbankd: --peer for id %llu names "
                        "another Raft address than --raft\n",
                        (unsigned long long)c->id);
                return -1;
            }
        }
    }
    if (!self) {
        fprintf(stderr, "credbankd: --peer list must include this node\n");
        return -1;
    }
    for (unsigned i = 0; i < c->npeers; i++)
        if ((strncmp(c->peers[i].api, "https://", 8) == 0) != c->tls) {
            fprintf(stderr, "credbankd: peer %llu: API URL %s: %s\n",
                    (unsigned long long)c->peers[i].id, c->peers[i].api,
                    c->tls ? "with --tls every peer URL is https://"
                           : "https:// peers need --tls");
            return -1;
        }
    if (c->election_ms == 0)
        c->election_ms = 300;
    if (c->heartbeat_ms == 0)
        c->heartbeat_ms = 30;
    if (c->snapshot_threshold == 0)
        c->snapshot_threshold = 1u << 20;
    if (c->snapshot_trailing == 0)
        c->snapshot_trailing = c->snapshot_threshold < 1024
                                   ? c->snapshot_threshold / 4 + 1
                                   : 1024;
    return 0;
}

/* ---- start and stop ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    int rv = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && n <= (long)ND_BODY_MAX && fseek(f, 0, SEEK_SET) == 0) {
            *out = malloc((size_t)n);
            if (*out != NULL && fread(*out, 1, (size_t)n, f) == (size_t)n) {
                *len = (size_t)n;
                rv = 0;
            } else {
                free(*out);
                *out = NULL;
            }
        }
    }
    fclose(f);
    return rv;
}

static int apply_genesis(void)
{
    struct lg_status st;
    int rv = lg_status(nd.l, &st);
    if (rv != 0 || st.has_genesis)
        return rv;
    uint8_t *g = NULL;
    size_t glen = 0;
    if (!nd.cfg.genesis[0] || read_file(nd.cfg.genesis, &g, &glen) != 0) {
        fprintf(stderr, "credbankd: the ledger is empty: --genesis FILE.cbe "
                "(readable, at most 1 MiB) is needed\n");
        return -1;
    }
    struct lg_buf b = {g, glen};
    struct lg_result r;
    struct cb_err err = {0, ""};
    bool replayed = false;
    rv = lg_apply(nd.l, 0, &b, 1, &r, &replayed, &err);
    free(g);
    if (rv != 0 || r.code != 0) {
        fprintf(stderr, "credbankd: genesis refused: %s: %s\n",
                cb_errname(rv ? rv : r.code), rv ? cb_errmsg(&err) : r.msg);
        return -1;
    }
    return 0;
}

static int mkdir_p(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "credbankd: mkdir %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void raft_closed(struct raft *r)
{
    (void)r;
    uv_stop(&nd.loop);
}

/* raft 0.15 never calls raft_close back after a failed segment write (the
 * failed append stays queued in its uv I/O; fsm.c watch_raft_storage): when
 * Raft's I/O has reported an error (its errmsg, cleared after raft_start,
 * is set), the close is given CLOSE_STUCK_MS, then the node exits without
 * it, status 1. Raft has acknowledged only what it stored: leaving it
 * unclosed is a crash to it, from which a restart recovers. A healthy
 * node's close is waited for as before (checked again every second). */
#define CLOSE_STUCK_MS 3000
static uv_timer_t close_timer;
static bool close_timer_on;     /* initialised (on the first signal) */
static bool close_stuck;

static void on_close_stuck(uv_timer_t *t)
{
    (void)t;
    if (nd.io.errmsg[0] == '\0')
        return;
    fprintf(stderr, "credbankd: Raft's close did not complete in %d ms after "
            "its I/O error (%s): exiting without it\n", CLOSE_STUCK_MS,
            nd.io.errmsg);
    close_stuck = true;
    uv_stop(&nd.loop);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    if (nd.closing++)
        return;
    fprintf(stderr, "credbankd: signal %d: shutting down\n", signum);
    uv_signal_stop(&nd.sigterm);
    uv_signal_stop(&nd.sigint);
    uv_close((uv_handle_t *)&nd.sigterm, NULL);
    uv_close((uv_handle_t *)&nd.sigint, NULL);
    nd_api_stop();
    nd_fsm_stop();
    nd_client_stop();
    uv_timer_init(&nd.loop, &close_timer);
    close_timer_on = true;
    uv_timer_start(&close_timer, on_close_stuck, CLOSE_STUCK_MS, 1000);
    raft_close(&nd.raft, raft_closed);
}

/* True when the Raft directory holds no file (a new or wiped node). */
static bool dir_empty(const char *path)
{
    uv_fs_t req;
    int n = uv_fs_scandir(NULL, &req, path, 0, NULL);
    uv_fs_req_cleanup(&req);
    return n == 0;
}

/*
 * A node whose Raft directory is empty either forms a new cluster
 * (bootstrap, as every initial node does) or rejoins one (its directory was
 * wiped, or it is new). Bootstrapping a rejoining node would make it forget
 * its term and its vote, so it could vote twice in a term. It rejoins when
 * --join is given, or when a peer answers that a leader exists. A rejoining
 * node asks the peers' terms (a majority must answer) and starts one term
 * above the highest, so it can only vote in terms its old self never saw
 * (the cost: the leader steps down once when it hears that term). Returns
 * 1 to join with *term, 0 to bootstrap, -1 on error.
 */
static int decide_join(const char *rdir, uint64_t *term)
{
    *term = 0;
    if (!dir_empty(rdir)) {
        return 0; /* a restart: raft_bootstrap says CANTBOOTSTRAP */
    }
    unsigned answers = 0;
    if (!nd.cfg.join && nd_self_must_join()) {
        fprintf(stderr, "credbankd: this node's member %s is not in force in "
                "the ledger: joining (as with --join), never bootstrapping\n",
                nd.cfg.name);
        nd.cfg.join = true;
    }
    if (!nd.cfg.join) {
        uint64_t t = nd_join_probe(0, &answers);
        if (t == 0)
            return 0; /* nobody leads yet: a new cluster */
        fprintf(stderr, "credbankd: empty Raft directory, but a peer reports "
                "a leader: rejoining instead of bootstrapping\n");
        *term = t + 1;
        return 1;
    }
    fprintf(stderr, "credbankd: --join: asking the peers for their terms\n");
    uint64_t t = nd_join_probe(30000, &answers);
    if (t == 0) {
        fprintf(stderr, "credbankd: --join: no majority of peers with a "
                "leader answered within 30 s (%u answers)\n", answers);
        return -1;
    }
    *term = t + 1;
    return 1;
}

static int start_raft(const char *rdir, int join, uint64_t term)
{
    struct nd_config *c = &nd.cfg;
    int rv = nd.cfg.tls ? nd_transport_init(&nd.transport, &nd.loop)
                        : nd_tcplink_init(&nd.transport, &nd.loop);
    if (rv != 0) {
        fprintf(stderr, "credbankd: raft transport: %s\n", raft_strerror(rv));
        return -1;
    }
    rv = raft_uv_init(&nd.io, &nd.loop, rdir, &nd.transport);
    if (rv != 0) {
        fprintf(stderr, "credbankd: raft io: %s\n", raft_strerror(rv));
        return -1;
    }
    rv = raft_init(&nd.raft, &nd.io, &nd.fsm, c->id, c->raft);
    if (rv != 0) {
        fprintf(stderr, "credbankd: raft_init: %s\n", raft_errmsg(&nd.raft));
        return -1;
    }
    if (join == 1) {
        rv = nd.io.set_term(&nd.io, term);
        if (rv != 0) {
            fprintf(stderr, "credbankd: join: cannot store term %llu: %s\n",
                    (unsigned long long)term, raft_strerror(rv));
            return -1;
        }
        fprintf(stderr, "credbankd: joining without bootstrap at term %llu; "
                "waiting for the leader (snapshot, then catch-up over the "
                "HTTP API)\n", (unsigned long long)term);
    } else if (c->join) {
        fprintf(stderr, "credbankd: --join ignored: the Raft directory holds "
                "state already\n");
    }
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    /* the bootstrap configuration: static peers, and those whose member
     * is in force (the founders, for a new ledger); the others join later
     * through member.add (member.c) */
    for (unsigned i = 0; i < c->npeers && rv == 0; i++)
        if (nd_peer_in_bootstrap(&c->peers[i]))
            rv = raft_configuration_add(&conf, c->peers[i].id,
                                        c->peers[i].raft, RAFT_VOTER);
    if (rv == 0 && join != 1)
        rv = raft_bootstrap(&nd.raft, &conf);
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
        fprintf(stderr, "credbankd: raft bootstrap: %s\n",
                raft_errmsg(&nd.raft));
        return -1;
    }
    raft_set_election_timeout(&nd.raft, c->election_ms);
    raft_set_heartbeat_timeout(&nd.raft, c->heartbeat_ms);
    raft_set_pre_vote(&nd.raft, true);
    raft_set_snapshot_threshold(&nd.raft, (unsigned)c->snapshot_threshold);
    raft_set_snapshot_trailing(&nd.raft, (unsigned)c->snapshot_trailing);
    raft_uv_set_connect_retry_delay(&nd.io, 100);
    rv = raft_start(&nd.raft);
    if (rv != 0) {
        fprintf(stderr, "credbankd: raft_start: %s\n", raft_errmsg(&nd.raft));
        return -1;
    }
    nd.io.errmsg[0] = '\0'; /* set again only by an error (fsm.c watches) */
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) != 0)
        return 2;
    if (cy_init() != 0) {
        fprintf(stderr, "credbankd: crypto init failed\n");
        return 1;
    }
    struct cb_err err = {0, ""};
    if (cy_keyfile_read(nd.cfg.key, &nd.key, &err) != 0) {
        fprintf(stderr, "credbankd: %s: %s\n", nd.cfg.key, cb_errmsg(&err));
        return 1;
    }
    char ldir[600], rdir[600];
    snprintf(ldir, sizeof ldir, "%s/ledger", nd.cfg.dir);
    snprintf(rdir, sizeof rdir, "%s/raft", nd.cfg.dir);
    if (mkdir_p(nd.cfg.dir) || mkdir_p(ldir) || mkdir_p(rdir))
        return 1;
    struct lg_open_opts lo = {0};
    if (lg_ledger_open(&nd.l, ldir, &lo, &err) != 0) {
        fprintf(stderr, "credbankd: ledger %s: %s\n", ldir, cb_errmsg(&err));
        return 1;
    }
    int rc = 1;
    if (apply_genesis() != 0)
        goto out;
    uv_loop_init(&nd.loop);
    nd_member_start();
    if (nd.cfg.tls && nd_tls_start() != 0)
        goto out;
    uint64_t term = 0;
    int join = decide_join(rdir, &term); /* runs the loop: before timers */
    if (join < 0)
        goto out;
    nd_fsm_start();
    if (start_raft(rdir, join, term) != 0)
        goto out;
    if (nd_auth_init() != 0 || nd_audit_open(nd.cfg.dir) != 0)
        goto out;
    if (nd_api_start() != 0)
        goto out;
    nd.accept_ctx.ssl_ctx = nd_tls_api_ctx(); /* NULL: plaintext */
    if (nd.accept_ctx.ssl_ctx != NULL) /* HTTP/2 by ALPN, else HTTP/1.1 */
        h2o_ssl_register_alpn_protocols(nd.accept_ctx.ssl_ctx,
                                        h2o_http2_alpn_protocols);
    if (strcmp(nd.cfg.metrics, "off") != 0) {
        char maddr[64];
        const char *colon = strrchr(nd.cfg.api, ':');
        int port = atoi(colon + 1);
        if (nd.cfg.metrics[0])
            snprintf(maddr, sizeof maddr, "%s", nd.cfg.metrics);
        else
            snprintf(maddr, sizeof maddr, "127.0.0.1:%d",
                     port + 1000 <= 65535 ? port + 1000 : port - 1000);
        nd_metrics_start(maddr);
    }
    uv_signal_init(&nd.loop, &nd.sigterm);
    uv_signal_start(&nd.sigterm, on_signal, SIGTERM);
    uv_signal_init(&nd.loop, &nd.sigint);
    uv_signal_start(&nd.sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "credbankd: %s (raft id %llu) raft %s%s api http%s://%s\n",
            nd.cfg.name, (unsigned long long)nd.cfg.id, nd.cfg.raft,
            nd.cfg.tls ? " (TLS 1.3, pinned)" : "", nd.cfg.tls ? "s" : "",
            nd.cfg.api);
    uv_run(&nd.loop, UV_RUN_DEFAULT);
    if (close_stuck) { /* Raft's I/O still holds its requests: leave it */
        fprintf(stderr, "credbankd: stopped (Raft not closed)\n");
        goto out;
    }
    if (close_timer_on)
        uv_close((uv_handle_t *)&close_timer, NULL);
    /* checks still on the thread pool: let their callbacks free them */
    while (nd.checks_inflight > 0)
        uv_run(&nd.loop, UV_RUN_ONCE);
    rc = 0;
    raft_uv_close(&nd.io);
    if (nd.cfg.tls)
        nd_transport_close(&nd.transport);
    else
        nd_tcplink_close(&nd.transport);
    fprintf(stderr, "credbankd: stopped\n");
out:
    free(nd.last_res);
    nd_audit_close();
    nd_auth_close();
    nd_tls_stop();
    lg_ledger_close(nd.l);
    cy_key_wipe(&nd.key);
    return rc;
}
