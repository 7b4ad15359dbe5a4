/*
 * Node-to-node links over TLS 1.3 (spec/security.md "Transport").
 *
 * nd_transport_init fills a struct raft_uv_transport (canonical/raft 0.15's
 * extension point, raft/uv.h) whose connections are TLS 1.3 over TCP, both
 * ends authenticated by node keys pinned against the ledger's members in
 * force (tls.h, "Pinning" in spec/security.md). Raft gets, for each
 * connection, an ordinary uv_stream_t: one end of an AF_UNIX socketpair;
 * the transport pumps the plaintext between the other end and the TLS
 * connection it drives with memory BIOs on the loop. The wire handshake of
 * raft's own TCP transport (protocol 1, server id, address) is kept, inside
 * the TLS stream, so the server id a peer claims is checked against the
 * member its key belongs to.
 *
 * nd_tls_dial gives the node's HTTP clients (catch-up, cosigns, probes) a
 * plaintext stream to a peer's HTTPS API, pinned the same way.
 *
 * Every 100 ms the pins follow the ledger: a connection whose peer key is no
 * longer a node key of a member in force (member.remove, key rotation) is
 * closed at once, and new connections with that key fail their handshake.
 */
#ifndef CREDBANK_NODE_TRANSPORT_H
#define CREDBANK_NODE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

/* Makes the node's TLS contexts (peer links, and the API server's) from
 * its key; 0, or -1 with a message printed. */
int nd_tls_start(void);
/* The API server's context (no client certificates), or NULL when the
 * node runs without TLS. */
SSL_CTX *nd_tls_api_ctx(void);
void nd_tls_stop(void);

/* A raft_uv_transport over TLS on loop; 0 or a RAFT_* code. */
int nd_transport_init(struct raft_uv_transport *t, uv_loop_t *loop);
/* Releases what nd_transport_init allocated (after its close callback). */
void nd_transport_close(struct raft_uv_transport *t);

/*
 * Opens a TLS connection to the HTTPS API at sa, pinned to a member in
 * force (any member's node key). cb gets a connected plaintext stream
 * (status 0) which the caller owns: uv_close it, then free it with
 * raft_free in the close callback; or status < 0 (UV_* code) and NULL.
 * cb runs on the loop, never from within this call. Returns 0, or a UV_*
 * code (then cb is never called). Fails with UV_EINVAL when the node runs
 * without --tls.
 */
typedef void (*nd_dial_cb)(void *data, uv_stream_t *s, int status);
int nd_tls_dial(const struct sockaddr_in *sa, uint64_t timeout_ms,
                nd_dial_cb cb, void *data);
/* Forgets data: its dial's callback will not run (the connection in
 * progress is closed). */
void nd_tls_dial_cancel(void *data);

/* Counters for /metrics and /v1/status. */
struct nd_tls_stats {
    uint64_t handshakes;        /* completed and pinned */
    uint64_t pin_failures;      /* peer key not pinned, or wrong member */
    uint64_t failures;          /* other handshake failures, timeouts */
    uint64_t cut;               /* closed when their key left the pins */
    unsigned open;              /* connections now */
};
void nd_tls_stats(struct nd_tls_stats *s);

#endif
