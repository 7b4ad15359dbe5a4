/*
 * Bounded TCP links between nodes (spec/node.md, "Links between nodes").
 *
 * A packet-dropping partition stalls an established TCP connection without
 * failing it: the kernel retransmits with exponential backoff (RTO up to
 * 120 s, for about 15 minutes) and canonical/raft 0.15 reconnects only after
 * a write fails, so after the heal a node could stay out for up to two
 * minutes. Every socket a node uses towards its peers (Raft links, plain or
 * TLS, and the HTTP client calls to peers' APIs) therefore carries:
 *
 *   TCP_USER_TIMEOUT  ND_TCP_USER_TIMEOUT_MS: data (or a SYN) unacknowledged
 *                     that long fails the connection, so raft reconnects;
 *   SO_KEEPALIVE      probes after ND_TCP_KEEPIDLE_S idle, every
 *                     ND_TCP_KEEPINTVL_S, ND_TCP_KEEPCNT of them: a
 *                     receive-only inbound link whose peer vanished dies too.
 *
 * nd_tcplink_init wraps raft's own TCP transport (raft_uv_tcp), which makes
 * its sockets internally, so that its links carry these options too
 * (tcplink.c describes how).
 */
#ifndef CREDBANK_NODE_TCPLINK_H
#define CREDBANK_NODE_TCPLINK_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#define ND_TCP_USER_TIMEOUT_MS 5000
#define ND_TCP_KEEPIDLE_S 2
#define ND_TCP_KEEPINTVL_S 1
#define ND_TCP_KEEPCNT 3

/*
 * Sets the options above on tcp, whose socket must exist (after uv_accept,
 * or uv_tcp_init_ex(loop, tcp, AF_INET) before uv_tcp_connect, which then
 * bounds the SYN retries too). Returns 0, or -1 when one failed: the first
 * failure in the process is logged to stderr; never fatal.
 */
int nd_tcplink_opts(uv_tcp_t *tcp);

/*
 * Fills t with a raft_uv_transport (canonical/raft 0.15's interface,
 * raft/uv.h) that is raft_uv_tcp with every link carrying the options
 * above: same wire handshake, same listen address. 0 or a RAFT_* code.
 */
int nd_tcplink_init(struct raft_uv_transport *t, uv_loop_t *loop);
/* Releases what nd_tcplink_init allocated, after t->close's callback ran
 * (or when t->init was never called). */
void nd_tcplink_close(struct raft_uv_transport *t);

#endif
