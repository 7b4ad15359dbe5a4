/*
 * The audit log: every read of account or log data through the API, who
 * asked and what they were answered (spec/security.md, "Audit").
 *
 * Format: DATADIR/audit.jsonl, one JSON object per line, appended and never
 * rewritten:
 *
 *   {"seq":N,"ts":UNIX_MS,"who":"issuer"|"node"|"learner"|"anonymous",
 *    "member":NAME|null,"key":HEX|null,"account":HEX|null,"method":"GET",
 *    "path":"/v1/...","status":200,"result":"ok"|ERROR_NAME,"prev":HEX}
 *
 * seq counts from 0 over the file's life; prev is the SHA-256 of the
 * previous line's bytes (without its LF; 64 zeros for the first), so a line
 * removed or changed in the middle breaks the chain that `credbank audit`
 * checks. The chain shows accidents and naive edits, not a determined
 * operator (who could rewrite the whole file): the log is the node
 * operator's record, kept on the operator's disk.
 *
 * Durability: each record is one write(2) with O_APPEND before the answer
 * is sent, so a crash of the process loses nothing; fdatasync runs on the
 * thread pool at most every ND_AUDIT_SYNC_MS while records are pending, so
 * a crash of the machine loses at most that much. At open a torn last line
 * (no LF: the machine crashed mid-write) is cut off, and seq and prev carry
 * on from the last whole line.
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define ND_AUDIT_SYNC_MS 200
#define ND_AUDIT_TAIL 65536
#define ND_AUDIT_QUERY_MAX ((off_t)256 << 20)

static struct {
    int fd;
    char path[600];
    uint64_t seq;
    uint8_t prev[32];
    bool dirty, syncing, timer_init;
    uv_timer_t timer;
    uv_fs_t fsreq;
} au = {.fd = -1};

/* Reads the tail to find the last whole line; cuts a torn one. */
static int recover(void)
{
    struct stat st;
    if (fstat(au.fd, &st) != 0)
        return -1;
    if (st.st_size == 0)
        return 0;
    off_t off = st.st_size > ND_AUDIT_TAIL ? st.st_size - ND_AUDIT_TAIL : 0;
    size_t n = (size_t)(st.st_size - off);
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return -1;
    if (pread(au.fd, buf, n, off) != (ssize_t)n) {
        free(buf);
        return -1;
    }
    size_t end = n;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    if (end != n) {
        fprintf(stderr, "credbankd: audit: cutting a torn last record (%zu "
                "bytes)\n", n - end);
        if (ftruncate(au.fd, off + (off_t)end) != 0) {
            free(buf);
            return -1;
        }
    }
    if (end == 0) {
        free(buf);
        return 0;
    }
    size_t b = end - 1;
    while (b > 0 && buf[b - 1] != '\n')
        b--;
    size_t len = end - 1 - b;
    cy_sha256(au.prev, buf + b, len);
    json_error_t jerr;
    json_t *j = json_loadb(buf + b, len, 0, &jerr);
    json_int_t seq = json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    free(buf);
    if (j == NULL) {
        fprintf(stderr, "credbankd: audit: the last record is not JSON\n");
        return -1;
    }
    au.seq = (uint64_t)seq + 1;
    return 0;
}

int nd_audit_open(const char *dir)
{
    snprintf(au.path, sizeof au.path, "%s/audit.jsonl", dir);
    au.fd = open(au.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (au.fd < 0 || recover() != 0) {
        fprintf(stderr, "credbankd: audit log %s: %s\n", au.path,
                errno ? strerror(errno) : "unreadable");
        if (au.fd >= 0)
            close(au.fd);
        au.fd = -1;
        return -1;
    }
    return 0;
}

static void synced(uv_fs_t *r)
{
    uv_fs_req_cleanup(r);
    au.syncing = false;
}

static void on_timer(uv_timer_t *t)
{
    (void)t;
    if (!au.dirty || au.syncing || au.fd < 0)
        return;
    au.dirty = false;
    au.syncing = true;
    if (uv_fs_fdatasync(&nd.loop, &au.fsreq, au.fd, synced) != 0)
        au.syncing = false;
}

void nd_audit_close(void)
{
    if (au.timer_init) {
        uv_timer_stop(&au.timer);
        uv_close((uv_handle_t *)&au.timer, NULL);
        au.timer_init = false;
    }
    if (au.fd >= 0) {
        /* the thread pool's fdatasync, if any, finished before this: the
         * loop has run to its end */
        fdatasync(au.fd);
        close(au.fd);
        au.fd = -1;
    }
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    char buf[129];
    nd_hex(buf, p, n);
    return json_string(buf);
}

void nd_audit_record(const struct nd_ident *id, const char *method,
                     const char *path, size_t path_len,
                     const uint8_t *account, int status, int code)
{
    if (au.fd < 0)
        return;
    json_t *j = json_object();
    json_object_set_new(j, "seq", json_integer((json_int_t)au.seq));
    json_object_set_new(j, "ts", json_integer((json_int_t)nd_now_ms()));
    json_object_set_new(j, "who", json_string(nd_ident_name(id)));
    json_object_set_new(j, "member", id->kind == LG_KEY_ISSUER ||
                                             id->kind == LG_KEY_NODE
                                         ? json_string(id->member)
                                         : json_null());
    json_object_set_new(j, "key", id->has_pk ? hexj(id->pk, 32)
                                             : json_null());
    json_object_set_new(j, "account", account ? hexj(account, 32)
                                              : json_null());
    json_object_set_new(j, "method", json_string(method));
    /* the path as sent, bounded; not UTF-8 is replaced */
    size_t pl = path_len > 512 ? 512 : path_len;
    json_t *pj = json_stringn(path, pl);
    json_object_set_new(j, "path", pj ? pj : json_string("(not UTF-8)"));
    json_object_set_new(j, "status", json_integer(status));
    json_object_set_new(j, "result", json_string(code ? cb_errname(code)
                                                      : "ok"));
    json_object_set_new(j, "prev", hexj(au.prev, 32));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL)
        return;
    size_t n = strlen(s);
    s[n] = '\n';
    ssize_t w = write(au.fd, s, n + 1);
    if (w == (ssize_t)(n + 1)) {
        cy_sha256(au.prev, s, n);
        au.seq++;
        au.dirty = true;
        if (!au.timer_init) {
            uv_timer_init(&nd.loop, &au.timer);
            uv_timer_start(&au.timer, on_timer, ND_AUDIT_SYNC_MS,
                           ND_AUDIT_SYNC_MS);
            au.timer_init = true;
        }
    } else {
        fprintf(stderr, "credbankd: audit: write failed: %s\n",
                w < 0 ? strerror(errno) : "short write");
    }
    free(s);
}

json_t *nd_audit_query(const uint8_t *account, uint64_t since, size_t limit)
{
    json_t *arr = json_array();
    FILE *f = fopen(au.path, "r");
    if (f == NULL)
        return arr;
    char acc[65] = "";
    if (account != NULL)
        nd_hex(acc, account, 32);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)n, 0, &jerr);
        if (j == NULL)
            continue;
        const char *a = json_string_value(json_object_get(j, "account"));
        json_int_t ts = json_integer_value(json_object_get(j, "ts"));
        if ((account != NULL && (a == NULL || strcmp(a, acc) != 0)) ||
            (uint64_t)ts < since) {
            json_decref(j);
            continue;
        }
        json_array_append_new(arr, j);
        if (json_array_size(arr) > limit)
            json_array_remove(arr, 0);
    }
    free(line);
    fclose(f);
    return arr;
}
