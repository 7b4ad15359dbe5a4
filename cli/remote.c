/*
 * The credbank command against a running credbankd (http.h): the node URL,
 * JSON reads, error lines carrying the node's error name, submission that
 * follows the leader, and the remote account view and history.
 *
 * A node answers every error as {"error": CODE, "message": TEXT} with CODE
 * one of spec/errors.md; the command prints it as its own errors are
 * printed, "credbank: <context>: <TEXT> (<CODE>)", and exits 1, so a script
 * matches the same names whether it talks to a node or to a local ledger.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *cli_node_url(const char *flag)
{
    if (flag != NULL)
        return flag;
    const char *env = getenv("CREDBANK_NODE");
    return env != NULL && env[0] != '\0' ? env : NULL;
}

int cli_node_key(const char *flag)
{
    static struct cy_key key;
    static bool loaded;
    const char *path = flag;
    if (path == NULL) {
        path = getenv("CREDBANK_KEY");
        if (path != NULL && *path == 0)
            path = NULL;
    }
    if (path == NULL)
        return 0;
    if (loaded) {
        cli_http_sign_with(NULL);
        cy_key_wipe(&key);
        loaded = false;
    }
    if (cli_key_load(path, &key) != 0)
        return CLI_FAIL;
    loaded = true;
    cli_http_sign_with(&key);
    return 0;
}

int cli_node_parse(const char *ctx, const char *usage, const char *url,
                   struct cli_url *u)
{
    struct cb_err err = {0, ""};
    if (cli_url_parse(url, u, &err) != 0)
        return cli_usage(ctx, usage, "--node (or CREDBANK_NODE): %s",
                         cb_errmsg(&err));
    return 0;
}

void cli_node_error(const struct cli_http_resp *r, char name[64],
                    char msg[512])
{
    json_t *j = NULL;
    if (r->body != NULL && r->len > 0)
        j = json_loadb(r->body, r->len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    if (e != NULL) {
        snprintf(name, 64, "%s", e);
        snprintf(msg, 512, "%s", m ? m : e);
    } else {
        /* not the node's error JSON: a proxy, or something else on the
         * port; say what came */
        snprintf(name, 64, "%s",
                 r->status == 404   ? cb_errname(CB_ENOTFOUND)
                 : r->status >= 500 ? cb_errname(CB_EUNAVAILABLE)
                                    : cb_errname(CB_EIO));
        int n = (int)(r->len < 120 ? r->len : 120);
        snprintf(msg, 512, "HTTP %d%s%.*s", r->status, n ? ": " : "", n,
                 r->body ? r->body : "");
        for (char *p = msg; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
    json_decref(j);
}

int cli_node_fail(const char *ctx, const struct cli_http_resp *r)
{
    char name[64], msg[512];
    cli_node_error(r, name, msg);
    fprintf(stderr, "credbank: %s: %s (%s)\n", ctx, msg, name);
    return CLI_FAIL;
}

int cli_node_get_raw(const char *ctx, const struct cli_url *u,
                     const char *path, const char *accept, char **body,
                     size_t *len)
{
    struct cli_http_req q = {.method = "GET", .path = path,
                             .accept = accept};
    struct cli_http_resp r;
    struct cb_err err = {0, ""};
    int rv = cli_http(u, &q, &r, &err);
    if (rv != 0) {
        cli_http_resp_release(&r);
        return cli_fail_err(ctx, rv, &err);
    }
    if (r.status != 200) {
        rv = cli_node_fail(ctx, &r);
        cli_http_resp_release(&r);
        return rv;
    }
    *body = r.body;
    *len = r.len;
    return 0;
}

int cli_node_get_json(const char *ctx, const struct cli_url *u,
                      const char *path, json_t **out)
{
    char *body = NULL;
    size_t len = 0;
    int rv = cli_node_get_raw(ctx, u, path, "application/json", &body, &len);
    if (rv != 0)
        return rv;
    json_error_t jerr;
    *out = json_loadb(body, len, 0, &jerr);
    free(body);
    if (*out == NULL)
        return cli_fail(ctx, CB_EIO, "%s%s: the answer is not JSON (%s)",
                        u->base, path, jerr.text);
    return 0;
}

/* ---- submission ---- */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int cli_node_submit(struct cli_url *u, const uint8_t *p, size_t len,
                    bool wait_applied, unsigned retry_ms,
                    struct cli_submit_res *res, struct cb_err *err)
{
    memset(res, 0, sizeof *res);
    if (retry_ms == 0)
        retry_ms = 8000;
    struct cli_url first = *u;
    struct cli_http_req q = {
        .method = "POST",
        .path = wait_applied ? "/v1/entries?wait=applied" : "/v1/entries",
        .ctype = "application/msgpack",
        .body = p,
        .len = len,
        .accept = "application/json",
        /* the node answers a final entry within 10 s, or 504 */
        .timeout_ms = 20000,
    };
    unsigned waited = 0, backoff = 100;
    int rv;
    for (;;) {
        struct cli_http_resp r;
        rv = cli_http(u, &q, &r, err);
        if (rv != 0) {
            cli_http_resp_release(&r);
            /* a leader we were sent to may have died: ask the first URL
             * again, after a pause, while there is time */
            if (rv == CB_EUNAVAILABLE && strcmp(u->base, first.base) != 0 &&
                waited < retry_ms) {
                *u = first;
                sleep_ms(backoff);
                waited += backoff;
                backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
                res->retries++;
                continue;
            }
            return rv;
        }
        res->http = r.status;
        snprintf(res->leader, sizeof res->leader, "%s", u->base);
        if (r.status == 200) {
            json_t *j = json_loadb(r.body, r.len, 0, NULL);
            const char *id = json_string_value(json_object_get(j, "id"));
            json_t *ix = json_object_get(j, "index");
            json_t *fin = json_object_get(j, "final");
            if (id == NULL || strlen(id) != 64 || !json_is_integer(ix)) {
                json_decref(j);
                cli_http_resp_release(&r);
                return cb_errf(err, CB_EIO, "POST %s/v1/entries: an answer "
                               "without id and index", u->base);
            }
            res->ok = true;
            snprintf(res->id, sizeof res->id, "%s", id);
            res->index = (uint64_t)json_integer_value(ix);
            if (json_is_integer(fin))
                res->final = (uint64_t)json_integer_value(fin);
            json_decref(j);
            cli_http_resp_release(&r);
            return 0;
        }
        cli_node_error(&r, res->error, res->message);
        bool again = false;
        if (r.status == 503 && strcmp(res->error, "not_leader") == 0) {
            json_t *j = json_loadb(r.body, r.len, 0, NULL);
            const char *leader = json_string_value(json_object_get(j,
                                                                   "leader"));
            struct cli_url lu;
            struct cb_err lerr = {0, ""};
            if (leader != NULL && res->redirects < 8 &&
                cli_url_parse(leader, &lu, &lerr) == 0 &&
                strcmp(lu.base, u->base) != 0) {
                *u = lu;
                res->redirects++;
                json_decref(j);
                cli_http_resp_release(&r);
                continue; /* straight to the leader */
            }
            json_decref(j);
            again = true; /* no leader known yet */
        } else if (r.status == 503 &&
                   (strcmp(res->error, "unavailable") == 0 ||
                    strcmp(res->error, "shutting_down") == 0)) {
            again = true;
        }
        cli_http_resp_release(&r);
        if (!again || waited >= retry_ms)
            return 0; /* the node's answer stands */
        if (strcmp(res->error, "shutting_down") == 0)
            *u = first;
        sleep_ms(backoff);
        waited += backoff;
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
        res->retries++;
    }
}

/* ---- account view and history ---- */

int cli_remote_account_show(const char *ctx, const struct cli_url *u,
                            const uint8_t id[32], bool json)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s", cli_hex32(id));
    json_t *v = NULL;
    int rv = cli_node_get_json(ctx, u, path, &v);
    if (rv != 0)
        return rv;
    if (json) {
        rv = cli_json_print(v);
    } else {
        cli_account_print_view(v);
        rv = CLI_OK;
    }
    json_decref(v);
    return rv;
}

int cli_remote_account_history(const char *ctx, const struct cli_url *u,
                               const uint8_t id[32], bool json)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return cli_fail(ctx, CB_ENOMEM, "out of memory");
    if (!json)
        printf("%6s  %-17s %8s  %s\n", "index", "type", "fee", "id");
    int rv = CLI_OK;
    for (uint64_t from = 0;;) {
        char path[160];
        snprintf(path, sizeof path,
                 "/v1/accounts/%s/entries?from=%llu&limit=1000",
                 cli_hex32(id), (unsigned long long)from);
        json_t *page = NULL;
        if ((rv = cli_node_get_json(ctx, u, path, &page)) != 0)
            goto out;
        json_t *ents = json_object_get(page, "entries");
        size_t n = json_array_size(ents);
        for (size_t i = 0; i < n && rv == 0; i++) {
            json_t *e = json_array_get(ents, i);
            json_t *ix = json_object_get(e, "index");
            json_t *fee = json_object_get(e, "fee");
            if (!json_is_integer(ix) || !json_is_integer(fee)) {
                rv = cli_fail(ctx, CB_EIO, "%s%s: entries without index or "
                              "fee", u->base, path);
                break;
            }
            /* the entry itself, for its type, id and time */
            char epath[64], *leaf = NULL;
            size_t len = 0;
            uint64_t index = (uint64_t)json_integer_value(ix);
            snprintf(epath, sizeof epath, "/v1/entries/%llu",
                     (unsigned long long)index);
            if ((rv = cli_node_get_raw(ctx, u, epath, "application/msgpack",
                                       &leaf, &len)) != 0)
                break;
            struct lg_signed s;
            struct cb_err err = {0, ""};
            lg_signed_init(&s);
            if (lg_signed_decode(&s, (const uint8_t *)leaf, len, &err) !=
                0) {
                rv = cli_fail(ctx, err.code ? err.code : CB_EIO,
                              "%s%s: %s", u->base, epath, cb_errmsg(&err));
            } else if (json) {
                json_array_append_new(
                    arr, json_pack("{s:I,s:s,s:I,s:s,s:I}", "index",
                                   (json_int_t)index, "type",
                                   lg_type_name(s.e.type), "fee",
                                   json_integer_value(fee), "id",
                                   cli_hex32(s.e.id), "ts",
                                   (json_int_t)s.e.ts));
            } else {
                printf("%6llu  %-17s %8lld  %s\n", (unsigned long long)index,
                       lg_type_name(s.e.type),
                       (long long)json_integer_value(fee), cli_hex32(s.e.id));
            }
            lg_signed_release(&s);
            free(leaf);
        }
        json_decref(page);
        if (rv != 0 || n < 1000)
            break;
        from += n;
    }
    if (rv == 0 && json) {
        json_t *o = json_pack("{s:s,s:O}", "account", cli_hex32(id),
                              "entries", arr);
        rv = cli_json_print(o);
        json_decref(o);
    }
out:
    json_decref(arr);
    return rv;
}
