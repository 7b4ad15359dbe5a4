/*
 * credbankd internals: one process per member, one libuv loop.
 *
 * The loop drives canonical/raft 0.15 (ordering and replication) and the
 * h2o 2.2.5 HTTP API. Nothing here is thread-safe: every function runs on the
 * loop thread (the ledger spreads signature checks over its own workers),
 * except the lg_check of a POST, which runs on libuv's thread pool (api.c).
 *
 * Files: main.c (configuration, start, shutdown), fsm.c (the Raft state
 * machine, the leader's write queue and batches, seals, cosigns, finality,
 * divergence), api.c (HTTP endpoints and metrics), client.c (the small
 * HTTP/1.1 client that carries cosigns to the leader), catchup.c (catch-up
 * of the ledger to a Raft snapshot over the peers' HTTP API, and the probe
 * of a rejoining node), member.c (the Raft configuration follows the
 * ledger's members). spec/node.md is the
 * design essay; spec/api.md the API reference.
 */
#ifndef CREDBANK_NODE_H
#define CREDBANK_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <h2o.h>
#pragma GCC diagnostic pop

#include <credbank/crypto.h>
#include <credbank/errors.h>
#include <credbank/ledger.h>

#define ND_MAX_PEERS 16
#define ND_BODY_MAX (1u << 20)          /* POST body limit */
#define ND_BATCH_MAX_ENTRIES 4096       /* one Raft entry holds at most */
#define ND_BATCH_MAX_BYTES (4u << 20)   /* ... this many entries / bytes */
#define ND_MAX_INFLIGHT 2               /* batches proposed, not applied */
#define ND_FINAL_TIMEOUT_MS 10000       /* 504 after this without finality */
#define ND_COSIGN_WINDOW_MS 60000       /* cosign seals within 60 s only */
#define ND_MAX_CODES 128                /* rejection counters by code */

struct nd_peer {
    raft_id id;
    char raft[64];                      /* "a.b.c.d:port" */
    char api[128];                      /* "http://a.b.c.d:port" */
    char member[65];                    /* ledger member name ("": static) */
};

struct nd_config {
    char dir[512];
    char key[512];
    char name[128];
    char genesis[512];
    raft_id id;
    char raft[64];
    char api[64];
    struct nd_peer peers[ND_MAX_PEERS];
    unsigned npeers;
    unsigned election_ms;               /* 300 */
    unsigned heartbeat_ms;              /* 30 */
    bool nosync;                        /* ledger MDB_NOSYNC (tests only) */
    uint64_t snapshot_threshold;        /* raft: 2^20 */
    uint64_t snapshot_trailing;         /* raft: 1024 */
    bool join;                          /* --join: never bootstrap */
    bool tls;                           /* --tls: Raft, API, peer HTTP over
                                           TLS 1.3, pinned (transport.h) */
    char metrics[64];                   /* --metrics IPv4:PORT or "off"
                                           ("": 127.0.0.1, API port + 1000) */
};

/*
 * One submitted entry on the leader, from POST (req set) or made by the
 * node itself (seal, own cosign: req NULL). It lives in exactly one place at
 * a time: the write queue, a batch in flight, the finality list, or freed.
 */
struct nd_pending {
    struct nd_pending *next;
    h2o_req_t *req;                     /* NULL: internal, or client gone */
    struct nd_pending **hook;           /* in req's pool: cleared on dispose */
    uint8_t *bytes;                     /* signed-entry bytes (owned) */
    size_t len;
    uint8_t id[32];
    bool wait_applied;                  /* ?wait=applied */
    bool is_seal;
    bool is_cosign;
    uint64_t index;                     /* once applied */
    uint64_t t_start;                   /* uv_now at arrival (ms) */
    uint64_t deadline;                  /* finality deadline (uv_now ms) */
};

/* A batch proposed with raft_apply. */
struct nd_batch {
    struct raft_apply req;              /* first: the callback casts back */
    struct nd_pending **items;
    size_t n;
    uint64_t t_start;
};

#define ND_LAT_BUCKETS 14                /* latency histogram bounds */
extern const double nd_lat_le[ND_LAT_BUCKETS]; /* seconds (fsm.c) */

struct nd_metrics {
    uint64_t batch_buckets[8];          /* <=1,4,16,64,256,1024,4096,+Inf */
    uint64_t batch_count, batch_sum;
    double apply_seconds_sum;
    uint64_t apply_count;
    uint64_t apply_buckets[ND_LAT_BUCKETS + 1];    /* last: +Inf */
    double finality_seconds_sum;
    uint64_t finality_count;
    uint64_t finality_buckets[ND_LAT_BUCKETS + 1];
    uint64_t rejections[ND_MAX_CODES];  /* by -(code - CB__FIRST) */
    uint64_t seals_proposed, cosigns_sent, cosigns_dropped;
    uint64_t cosign_links_opened, cosign_links_reused; /* client.c */
};

/* A Raft batch that arrived while the ledger was catching up (catchup.c). */
struct nd_deferred {
    struct nd_deferred *next;
    uint64_t index;                     /* Raft index */
    size_t len;
    uint8_t data[];
};

/* Catch-up of the ledger to a Raft snapshot over the peers' HTTP API. */
struct nd_catchup {
    bool active;                        /* the ledger is behind the snapshot */
    uint64_t target_size;               /* the snapshot's ledger size */
    uint8_t target_root[32];
    uint64_t target_index;              /* its Raft index (0: unknown) */
    uint64_t start_size;                /* local size when it began */
    uint64_t t_start;                   /* uv_hrtime at the start (ns) */
    unsigned peer;                      /* next peer to ask (rotation) */
    bool fetching;                      /* a GET is in flight */
    bool timer_init;
    uv_timer_t timer;                   /* retry / start */
    struct nd_deferred *def_head, **def_tail;
    size_t def_count, def_bytes;
    uint64_t fetched;                   /* entries applied by catch-up */
    unsigned failures;                  /* consecutive failed fetches */
    /* totals for metrics */
    uint64_t runs, entries_total;
};

struct nd_node {
    struct nd_config cfg;
    uv_loop_t loop;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    struct lg_ledger *l;
    struct cy_key key;

    /* leader state */
    raft_term ready_term;               /* barrier applied in this term */
    bool barrier_pending;
    struct raft_barrier barrier;
    struct nd_pending *queue, **queue_tail;
    size_t queue_len;
    unsigned inflight;                  /* batches proposed, not applied */
    bool seal_pending;                  /* a seal is queued or in flight */
    bool seal_due;                      /* waiting for inflight == 0 */
    struct nd_pending *final_head, **final_tail; /* waiting for finality */

    /* results of the last FSM apply, for the leader's apply callback */
    struct lg_result *last_res;
    uint64_t last_res_index;
    size_t last_res_n;

    /* seals seen and cosigned */
    uint64_t cosigned_seal;             /* last seal we built a cosign for */
    bool cosigned_any;

    /* fail-stop and divergence */
    bool failed;
    char failmsg[256];
    bool diverged;
    char divmsg[256];
    struct nd_refused {
        uint8_t seal[32];
        uint8_t authors[ND_MAX_PEERS][32];
        unsigned nauthors;
    } refused[8];                       /* refused seals seen (ring) */
    unsigned nrefused;

    struct nd_catchup cu;
    unsigned checks_inflight;           /* lg_check on the thread pool */

    struct nd_metrics m;

    /* handles */
    uv_check_t check;
    uv_timer_t tick;                    /* 10 ms: role, finality timeouts */
    uv_timer_t seal_timer;
    uv_signal_t sigterm, sigint;
    int closing;

    /* http */
    h2o_globalconf_t hconf;
    h2o_context_t hctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
};

extern struct nd_node nd;

/* main.c */
const char *nd_api_of(const char *raft_addr);
const char *nd_leader_api(void);
uint64_t nd_now_ms(void);               /* wall clock, Unix ms */

/* fsm.c */
int nd_fsm_start(void);
void nd_fsm_stop(void);
bool nd_leader_ready(void);
/* Queues an entry checked by the caller; takes ownership of p. */
void nd_queue(struct nd_pending *p);
void nd_pending_free(struct nd_pending *p);
void nd_count_rejection(int code);
/* Adds an observation of secs to a histogram over nd_lat_le. */
void nd_observe(uint64_t *buckets, double secs);

/* api.c */
int nd_api_start(void);
void nd_api_stop(void);
/* The /metrics listener on addr (IPv4:PORT); -1 (reported) on failure. */
int nd_metrics_start(const char *addr);
void nd_reply_json(h2o_req_t *req, int status, struct json_t *j);
void nd_reply_err(h2o_req_t *req, int code, const char *msg);
void nd_reply_not_leader(h2o_req_t *req);
/* The success answer of a pending entry (final = 0: without "final"). */
void nd_reply_ok(struct nd_pending *p, uint64_t final);
void nd_reply_pending_err(struct nd_pending *p, int code, const char *msg);

/* fsm.c: applies one Raft batch at index (the FSM body; catch-up replays
 * deferred batches through it). */
void nd_apply_batch(uint64_t index, const uint8_t *base, size_t len);
void nd_diverge(const char *fmt, const char *what, uint64_t index);
/* Answers every entry still waiting for finality with code and msg. */
void nd_final_abort(int code, const char *msg);

/* catchup.c */
/* Called by the FSM restore with the snapshot's metadata: 0 when the ledger
 * matches or catch-up started; a RAFT_* code otherwise. */
int nd_catchup_restore(uint64_t size, const uint8_t root[32], uint64_t index);
/* True while the ledger is behind the last restored snapshot: fsm_apply
 * defers batches with nd_catchup_defer. */
bool nd_catching_up(void);
void nd_catchup_defer(uint64_t index, const uint8_t *base, size_t len);
void nd_catchup_stop(void);
/* --join on an empty Raft directory: asks the peers' /v1/status for their
 * terms (runs the loop; call before anything else uses it). Returns the
 * highest term seen, or 0 when no majority answered within timeout_ms. */
uint64_t nd_join_probe(uint64_t timeout_ms, unsigned *answers);

/* An HTTP/1.1 GET over libuv (catchup.c): cb gets the status (0: no answer)
 * and the body (valid during the call). */
typedef void (*nd_get_cb)(void *data, int status, const uint8_t *body,
                          size_t len);
int nd_http_get(const char *base_url, const char *path, const char *accept,
                uint64_t timeout_ms, size_t max_body, nd_get_cb cb,
                void *data);

/* client.c: POSTs a cosign to the leader, following not_leader answers. */
void nd_client_send_cosign(const uint8_t *bytes, size_t len);
/* Closes the idle kept-alive links (at shutdown). */
void nd_client_stop(void);

/* member.c: the Raft configuration follows the ledger's members */
/* Loads the members (call after genesis, before Raft starts). */
void nd_member_start(void);
/* Every on_tick: refresh, notice removal, and on the leader reconcile. */
void nd_member_tick(void);
/* Whether a peer belongs in the bootstrap configuration (static, or its
 * member is in force in the ledger now). */
bool nd_peer_in_bootstrap(const struct nd_peer *p);
/* This node names a member that is not in force: never bootstrap. */
bool nd_self_must_join(void);
/* Whether this node's member may cosign the seal at seal_index: in force
 * now, and already when the seal was made (approximated: the seal is not
 * older than the ledger size at which this node first saw its member in
 * force while running; 0 when it was at start). */
bool nd_member_may_cosign(uint64_t seal_index);
/* This node was removed from the cluster. */
bool nd_removed(void);
/* Voters in this node's Raft configuration; configuration changes this
 * node made as leader. */
unsigned nd_member_voters(void);
uint64_t nd_member_changes(void);
/* Adds membership, voters and raft_config to a /v1/status object. */
void nd_member_status(struct json_t *j);

/* auth.c: request signatures and authorisation (spec/security.md) */
struct nd_ident {
    int kind;                           /* 0 anonymous, enum lg_key_kind */
    bool has_pk;                        /* a well-formed keyid was named */
    uint8_t pk[32];
    char member[65];                    /* issuer and node keys */
    uint8_t account[32];                /* learner keys */
};
enum nd_need {
    ND_NEED_ANY,                        /* any key in force */
    ND_NEED_LOG,                        /* an issuer or node key */
    ND_NEED_ISSUER,                     /* an issuer key */
    ND_NEED_ACCOUNT,                    /* an issuer key, or the account's
                                           learner key */
    ND_NEED_ENTRY,                      /* one entry: an issuer or node key,
                                           or the learner key of the
                                           account the entry names */
};
int nd_auth_init(void);
void nd_auth_close(void);
/* Authenticates req: 0 with *id filled, or CB_EUNAUTH, CB_ESIGEXPIRED,
 * CB_EREPLAYED, CB_EUNAVAILABLE (replay cache full) with msg[cap]. */
int nd_auth_check(h2o_req_t *req, struct nd_ident *id, char *msg,
                  size_t cap);
/* 0 when id may read what need names (account: the account in the path,
 * NULL when none parses), else CB_EFORBIDDEN with msg. */
int nd_auth_allow(const struct nd_ident *id, enum nd_need need,
                  const uint8_t *account, char *msg, size_t cap);
const char *nd_ident_name(const struct nd_ident *id);
/* "Signature-Input: ...\r\nSignature: ...\r\n" for a GET of path_query
 * to authority, signed with this node's key (catch-up reads). */
int nd_auth_sign_get(const char *authority, const char *path_query,
                     char *out, size_t cap);

/* audit.c: the append-only audit log of authenticated reads */
int nd_audit_open(const char *dir);
void nd_audit_close(void);
/* Records one read: who (id, NULL pk when none), the account (NULL when
 * the path names none), the HTTP status and the error code (0: ok). */
void nd_audit_record(const struct nd_ident *id, const char *method,
                     const char *path, size_t path_len,
                     const uint8_t *account, int status, int code);
/* The records as a JSON array (GET /v1/audit): filtered by account (may be
 * NULL) and since (Unix ms), at most limit, the newest last. */
struct json_t *nd_audit_query(const uint8_t *account, uint64_t since,
                              size_t limit);

/* util */
void nd_hex(char *out, const uint8_t *p, size_t n);

#endif
