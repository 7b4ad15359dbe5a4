/*
 * node/tcplink.c: raft's TCP transport wrapped so that every link carries
 * TCP_USER_TIMEOUT and keepalive. Two wrapped transports on one libuv loop
 * on 127.0.0.1: one listens, the other connects; the raft handshake
 * (id, address) arrives, bytes flow after it, both sockets carry the
 * options; connects to a closed port fail; close cancels a pending connect;
 * everything is released (run under ASan/LSan in the sanitizer build).
 */
#include <criterion/criterion.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../node/tcplink.h"

static uv_loop_t loop;

/* a port on 127.0.0.1 nobody listens on now */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* runs the loop until *flag or 10 s */
static void run_until(const bool *flag)
{
    uint64_t t0 = uv_now(&loop);
    while (!*flag && uv_now(&loop) - t0 < 10000) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
        uv_update_time(&loop);
    }
    cr_assert(*flag, "timed out on the loop");
}

static void check_opts(uv_stream_t *s, const char *which)
{
    uv_os_fd_t fd;
    cr_assert_eq(uv_fileno((uv_handle_t *)s, &fd), 0, "%s: fileno", which);
    int v = 0;
    socklen_t len = sizeof v;
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &len), 0);
    cr_expect_eq(v, ND_TCP_USER_TIMEOUT_MS, "%s: TCP_USER_TIMEOUT %d", which, v);
    len = sizeof v;
    cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
    cr_expect_eq(v, 1, "%s: SO_KEEPALIVE %d", which, v);
    len = sizeof v;
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    cr_expect_eq(v, ND_TCP_KEEPIDLE_S, "%s: TCP_KEEPIDLE %d", which, v);
    len = sizeof v;
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, &len), 0);
    cr_expect_eq(v, ND_TCP_KEEPINTVL_S, "%s: TCP_KEEPINTVL %d", which, v);
    len = sizeof v;
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &len), 0);
    cr_expect_eq(v, ND_TCP_KEEPCNT, "%s: TCP_KEEPCNT %d", which, v);
}

/* ---- what the callbacks saw ---- */

static struct raft_uv_transport srv, cli;
static int srv_data, cli_data;             /* what raft keeps in ->data */
static bool accepted, connected, srv_closed, cli_closed, read_done;
static struct raft_uv_transport *accept_t, *srv_close_t, *cli_close_t;
static raft_id accept_id;
static char accept_addr[64];
static uv_stream_t *in_stream, *out_stream;
static int connect_status;
static char rbuf[64];
static size_t rlen;

static void reset(void)
{
    accepted = connected = srv_closed = cli_closed = read_done = false;
    accept_t = srv_close_t = cli_close_t = NULL;
    accept_id = 0;
    accept_addr[0] = 0;
    in_stream = out_stream = NULL;
    connect_status = -12345;
    rlen = 0;
}

static void setup(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    reset();
}

static void teardown(void)
{
    cr_expect_eq(uv_loop_close(&loop), 0, "handles left open on the loop");
}

TestSuite(tcplink, .init = setup, .fini = teardown);

static void on_accept(struct raft_uv_transport *t, raft_id id,
                      const char *address, uv_stream_t *s)
{
    accept_t = t;
    accept_id = id;
    snprintf(accept_addr, sizeof accept_addr, "%s", address);
    in_stream = s;
    accepted = true;
}

static void on_connect(struct raft_uv_connect *req, uv_stream_t *s, int status)
{
    (void)req;
    connect_status = status;
    out_stream = s;
    connected = true;
}

static void on_srv_closed(struct raft_uv_transport *t)
{
    srv_close_t = t;
    srv_closed = true;
}

static void on_cli_closed(struct raft_uv_transport *t)
{
    cli_close_t = t;
    cli_closed = true;
}

static void free_handle(uv_handle_t *h)
{
    raft_free(h);
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
    (void)h;
    (void)n;
    buf->base = rbuf + rlen;
    buf->len = sizeof rbuf - rlen;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n > 0)
        rlen += (size_t)n;
    if (n < 0 || rlen >= 5) {
        uv_read_stop(s);
        read_done = true;
    }
}

/* both transports made and initialised (as raft_uv_init does, then sets
 * ->data); the server listens on its address */
static void start_pair(const char *srv_addr, const char *cli_addr)
{
    cr_assert_eq(nd_tcplink_init(&srv, &loop), 0);
    cr_assert_eq(nd_tcplink_init(&cli, &loop), 0);
    cr_assert_eq(srv.init(&srv, 1, srv_addr), 0, "%s", srv.errmsg);
    srv.data = &srv_data;
    cr_assert_eq(cli.init(&cli, 2, cli_addr), 0, "%s", cli.errmsg);
    cli.data = &cli_data;
    cr_assert_eq(srv.listen(&srv, on_accept), 0, "%s", srv.errmsg);
}

static void stop_pair(void)
{
    srv.close(&srv, on_srv_closed);
    cli.close(&cli, on_cli_closed);
    run_until(&srv_closed);
    run_until(&cli_closed);
    cr_expect_eq(srv_close_t, &srv, "close callback gets the outer transport");
    cr_expect_eq(cli_close_t, &cli, "close callback gets the outer transport");
    cr_expect_eq(srv.data, &srv_data, "->data left alone");
    cr_expect_eq(cli.data, &cli_data, "->data left alone");
    nd_tcplink_close(&srv);
    nd_tcplink_close(&cli);
    uv_run(&loop, UV_RUN_NOWAIT);
}

Test(tcplink, handshake_options_and_data)
{
    char sa[32];
    snprintf(sa, sizeof sa, "127.0.0.1:%d", free_port());
    /* 17 bytes + NUL: the address is padded to 24 in the preamble */
    const char *ca = "127.0.0.1:65001xy";
    start_pair(sa, ca);
    struct raft_uv_connect req = {.data = NULL};
    cr_assert_eq(cli.connect(&cli, &req, 1, sa, on_connect), 0, "%s",
                 cli.errmsg);
    cr_expect_not(connected, "connect callback never runs within connect");
    run_until(&connected);
    cr_assert_eq(connect_status, 0, "connect status %d", connect_status);
    cr_assert_not_null(out_stream);
    run_until(&accepted);
    cr_expect_eq(accept_t, &srv, "accept callback gets the outer transport");
    cr_expect_eq(accept_t->data, &srv_data);
    cr_expect_eq(accept_id, 2);
    cr_expect_str_eq(accept_addr, ca);
    cr_assert_not_null(in_stream);
    check_opts(out_stream, "connected");
    check_opts(in_stream, "accepted");

    /* the stream carries raft's bytes cleanly after the preamble */
    static uv_write_t w;
    uv_buf_t b = uv_buf_init("hello", 5);
    cr_assert_eq(uv_write(&w, out_stream, &b, 1, NULL), 0);
    cr_assert_eq(uv_read_start(in_stream, on_alloc, on_read), 0);
    run_until(&read_done);
    cr_expect_eq(rlen, 5);
    cr_expect_eq(memcmp(rbuf, "hello", 5), 0);

    /* raft owns the streams: uv_close, then raft_free */
    uv_close((uv_handle_t *)out_stream, free_handle);
    uv_close((uv_handle_t *)in_stream, free_handle);
    stop_pair();
}

Test(tcplink, connect_refused)
{
    char sa[32], dead[32];
    snprintf(sa, sizeof sa, "127.0.0.1:%d", free_port());
    snprintf(dead, sizeof dead, "127.0.0.1:%d", free_port());
    start_pair(sa, "127.0.0.1:9");
    struct raft_uv_connect req = {.data = NULL};
    cr_assert_eq(cli.connect(&cli, &req, 1, dead, on_connect), 0);
    run_until(&connected);
    cr_expect_neq(connect_status, 0);
    cr_expect_null(out_stream);
    /* the transport still connects after a failure */
    reset();
    cr_assert_eq(cli.connect(&cli, &req, 1, sa, on_connect), 0);
    run_until(&connected);
    cr_expect_eq(connect_status, 0);
    run_until(&accepted);
    uv_close((uv_handle_t *)out_stream, free_handle);
    uv_close((uv_handle_t *)in_stream, free_handle);
    stop_pair();
}

Test(tcplink, bad_address)
{
    char sa[32];
    snprintf(sa, sizeof sa, "127.0.0.1:%d", free_port());
    start_pair(sa, "127.0.0.1:9");
    struct raft_uv_connect req = {.data = NULL};
    /* refused at once (callback never called) or failed through it */
    int rv = cli.connect(&cli, &req, 1, "not-an-address:1", on_connect);
    if (rv == 0) {
        run_until(&connected);
        cr_expect_neq(connect_status, 0);
    } else {
        uv_run(&loop, UV_RUN_NOWAIT);
        cr_expect_not(connected);
    }
    stop_pair();
}

Test(tcplink, close_cancels_pending_connect)
{
    char sa[32];
    snprintf(sa, sizeof sa, "127.0.0.1:%d", free_port());
    start_pair(sa, "127.0.0.1:9");
    struct raft_uv_connect r1 = {.data = NULL};
    cr_assert_eq(cli.connect(&cli, &r1, 1, sa, on_connect), 0);
    /* closed before the loop ran: the connect is still pending */
    cli.close(&cli, on_cli_closed);
    cr_expect_not(connected, "the cancel is reported on the loop");
    run_until(&cli_closed);
    cr_expect(connected, "the connect callback ran before the close callback");
    cr_expect_eq(connect_status, RAFT_CANCELED);
    cr_expect_null(out_stream);
    srv.close(&srv, on_srv_closed);
    run_until(&srv_closed);
    /* a connection the server may have accepted meanwhile ended with the
     * client's socket; raft_uv_tcp drops it while closing */
    cr_expect_not(accepted);
    nd_tcplink_close(&srv);
    nd_tcplink_close(&cli);
    uv_run(&loop, UV_RUN_NOWAIT);
}
