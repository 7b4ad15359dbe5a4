/*
 * The credbank command as a client of credbankd (DESIGN 5, spec/api.md).
 *
 * http.c is a small blocking HTTP/1.1 client over POSIX sockets: one
 * request at a time, Content-Length or chunked answers, one kept-alive
 * connection reused while requests go to the same host and port, a
 * deadline per request. It knows nothing of credbank.
 *
 * remote.c is what the commands need on top: the node URL (--node, else
 * the environment variable CREDBANK_NODE), JSON reads that turn a node's
 * {"error": CODE, "message": TEXT} answer into the CLI's one error line,
 * and submission of signed entries that follows a 503 not_leader answer to
 * the leader it names and retries 503 unavailable with backoff.
 *
 * Errors of the transport use the codes of errors.h: unavailable (cannot
 * connect), timeout (no complete answer before the deadline), io_error
 * (a broken or malformed answer), too_large (an answer over the limit);
 * their messages name the URL.
 */
#ifndef CREDBANK_CLI_HTTP_H
#define CREDBANK_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <credbank/errors.h>

#define CLI_HTTP_TIMEOUT_MS 10000          /* default deadline of a request */
#define CLI_HTTP_BODY_MAX ((size_t)64 << 20) /* largest answer accepted */

/* An http:// base URL: "http://HOST[:PORT][/PREFIX]". */
struct cli_url {
    char host[256];     /* name or IPv4 address (IPv6 in brackets: not
                           supported) */
    char port[8];       /* decimal; "80" by default */
    char prefix[256];   /* path prefix without a trailing '/', or "" */
    char base[600];     /* "http://host:port/prefix", for messages */
    bool tls;           /* https://: TLS 1.3, the node's key pinned */
};

/* The node keys an https:// connection accepts (spec/security.md,
 * "Pinning"): spec is a comma-separated list of 64-hex Ed25519 keys or
 * signed-note verifier keys (a member's "node_vkey"), or @FILE / a file
 * path holding such keys (one per line; a /v1/members JSON answer also
 * works: its members in force count). Without a call, the environment
 * variable CREDBANK_NODE_KEY is read at the first https connection; with
 * neither, https is refused. CB_EINVAL with a message for a bad spec. */
int cli_http_pin(const char *spec, struct cb_err *err);

/* Parses s; CB_EINVAL (with a message naming s) when it is not an http://
 * or https:// URL of that form. */
int cli_url_parse(const char *s, struct cli_url *u, struct cb_err *err);

struct cli_http_req {
    const char *method;     /* "GET", "POST" */
    const char *path;       /* "/v1/status?x=y", appended to the prefix */
    const char *ctype;      /* Content-Type of body, or NULL */
    const void *body;       /* may be NULL */
    size_t len;
    const char *accept;     /* Accept header, or NULL */
    int timeout_ms;         /* whole request, connect included; 0: default */
};

struct cli_http_resp {
    int status;             /* 200, 503, ... */
    char ctype[128];        /* Content-Type ("" when absent) */
    char *body;             /* malloc'd, NUL after the len bytes */
    size_t len;
};

/* One request; r gets the answer whatever its status (release it with
 * cli_http_resp_release, also after a failure). Returns 0 when an answer
 * came, else a transport error as above. */
int cli_http(const struct cli_url *u, const struct cli_http_req *q,
             struct cli_http_resp *r, struct cb_err *err);
void cli_http_resp_release(struct cli_http_resp *r);
/* Closes the kept-alive connection, if any. */
void cli_http_close(void);
/* Signs every later request with k (an HTTP message signature, RFC 9421,
 * spec/security.md); NULL stops. k must stay valid while requests are
 * made. */
struct cy_key;
void cli_http_sign_with(const struct cy_key *k);

/* ---- credbankd (remote.c) ---- */

/* The node URL of a command: flag (--node) when given, else the
 * environment variable CREDBANK_NODE when set and not empty, else NULL. */
const char *cli_node_url(const char *flag);

/* The key a command signs its requests with: the file flag (--key) when
 * given, else CREDBANK_KEY when set and not empty, else none (requests go
 * unsigned). Loads it and signs with it from now on; prints the problem
 * and returns CLI_FAIL when the file cannot be read. */
int cli_node_key(const char *flag);

/* Parses url for the command ctx; prints the problem (usage) and returns
 * CLI_USAGE when it is not an http:// URL. */
int cli_node_parse(const char *ctx, const char *usage, const char *url,
                   struct cli_url *u);

/* The error of a node's answer r: its JSON "error" name and "message"
 * (status line when the body is not such JSON) into name[64]/msg[512]. */
void cli_node_error(const struct cli_http_resp *r, char name[64],
                    char msg[512]);

/* Prints "credbank: ctx: <message> (<name>)" for a node's error answer,
 * or for a transport error (code, err). Returns CLI_FAIL. */
int cli_node_fail(const char *ctx, const struct cli_http_resp *r);

/* GET path (JSON) from the node; *out gets the decoded answer of a 200.
 * Anything else is printed under ctx (the node's error name, or the
 * transport's) and CLI_FAIL returned. */
int cli_node_get_json(const char *ctx, const struct cli_url *u,
                      const char *path, json_t **out);

/* GET path as bytes (Accept: accept); 200 only, else as above. *body is
 * malloc'd (NUL after *len bytes). */
int cli_node_get_raw(const char *ctx, const struct cli_url *u,
                     const char *path, const char *accept, char **body,
                     size_t *len);

/* The answer to one submission. */
struct cli_submit_res {
    int http;               /* status of the last answer */
    bool ok;                /* 200: accepted (or a duplicate) */
    char id[65];            /* entry id (hex) when ok */
    uint64_t index;         /* log index when ok */
    uint64_t final;         /* size of the final checkpoint; 0 when none
                               (wait applied) */
    char error[64];         /* the node's error name when not ok */
    char message[512];      /* and its message */
    char leader[600];       /* base URL that answered */
    unsigned redirects;     /* not_leader answers followed */
    unsigned retries;       /* unavailable answers retried */
};

/*
 * POSTs a signed entry (application/msgpack) to u's /v1/entries
 * (?wait=applied when wait_applied). A 503 not_leader naming a leader is
 * followed there (u is updated to it, so the next submission goes straight
 * to the leader); 503 not_leader without one, 503 unavailable and 503
 * shutting_down are retried with backoff (0.1 s doubling to 1 s, for about
 * retry_ms in all; 0: 8 s); a leader that cannot be reached sends the
 * retry back to the first URL. Returns 0 when the node gave a final answer
 * (res->ok or the refusal in res->error), else a transport error with err
 * (the last URL tried named).
 */
int cli_node_submit(struct cli_url *u, const uint8_t *p, size_t len,
                    bool wait_applied, unsigned retry_ms,
                    struct cli_submit_res *res, struct cb_err *err);

/* Prints an account view / history / status / members answer the way the
 * local commands print theirs (cmd_account.c, cmd_status.c). */
int cli_remote_account_show(const char *ctx, const struct cli_url *u,
                            const uint8_t id[32], bool json);
int cli_remote_account_history(const char *ctx, const struct cli_url *u,
                               const uint8_t id[32], bool json);

#endif
