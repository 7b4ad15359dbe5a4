/*
 * credbank audit (--dir DATADIR | --node URL --key K) [--account ID]
 *                [--since TIME] [--json]
 *
 * Who read which account: the records of a node's audit log
 * (spec/security.md, "Audit"). With --dir it reads DATADIR/audit.jsonl
 * (or the file itself when DATADIR is one) and checks the chain of "prev"
 * hashes from the first line: a line changed or removed breaks it, and the
 * command fails with store_corrupt after printing what it read. With
 * --node it asks GET /v1/audit, signed with an issuer key. --account keeps
 * the records of one account, --since those at or after TIME (Unix
 * seconds, or YYYY-MM-DDTHH:MM:SSZ). Exit status 0, 1 (unreadable, broken
 * chain, node error), 2 usage.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define AUDIT_USAGE                                                          \
    "audit (--dir DATADIR | --node URL --key K) [--account ID] "             \
    "[--since TIME] [--json]"

static bool parse_since(const char *s, uint64_t *ms)
{
    uint64_t sec;
    if (cli_parse_u64(s, &sec) && sec <= UINT64_MAX / 1000) {
        *ms = sec * 1000;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (e == NULL || *e != 0)
        return false;
    time_t t = timegm(&tm);
    if (t < 0)
        return false;
    *ms = (uint64_t)t * 1000;
    return true;
}

static void print_row(json_t *r)
{
    char when[32];
    cli_format_ms(when, (uint64_t)json_integer_value(json_object_get(r, "ts")));
    const char *who = json_string_value(json_object_get(r, "who"));
    const char *member = json_string_value(json_object_get(r, "member"));
    const char *key = json_string_value(json_object_get(r, "key"));
    const char *acct = json_string_value(json_object_get(r, "account"));
    const char *path = json_string_value(json_object_get(r, "path"));
    const char *result = json_string_value(json_object_get(r, "result"));
    char whob[96];
    snprintf(whob, sizeof whob, "%s%s%s", who ? who : "?", member ? ":" : "",
             member ? member : "");
    printf("%-6lld %s  %-22s key %.12s  account %.12s  %lld %s  %s\n",
           (long long)json_integer_value(json_object_get(r, "seq")), when,
           whob, key ? key : "-", acct ? acct : "-",
           (long long)json_integer_value(json_object_get(r, "status")),
           result ? result : "?", path ? path : "");
}

static bool keep(json_t *r, const char *acct, uint64_t since)
{
    const char *a = json_string_value(json_object_get(r, "account"));
    if (acct != NULL && (a == NULL || strcmp(a, acct) != 0))
        return false;
    return (uint64_t)json_integer_value(json_object_get(r, "ts")) >= since;
}

/* Reads the file, checking the chain; the kept records into arr. */
static int read_log(const char *dir, const char *acct, uint64_t since,
                    json_t *arr)
{
    char path[1100];
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISREG(st.st_mode))
        snprintf(path, sizeof path, "%s", dir);
    else
        snprintf(path, sizeof path, "%s/audit.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_fail(path, CB_EIO, "cannot read the audit log");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint8_t prev[32] = {0};
    uint64_t lineno = 0, broken = 0;
    int rv = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        size_t len = (size_t)n;
        if (line[len - 1] != '\n') {
            fprintf(stderr, "credbank: %s: line %llu: torn (no end of "
                    "line)\n", path, (unsigned long long)lineno);
            broken++;
            break;
        }
        len--;
        json_t *r = json_loadb(line, len, 0, NULL);
        const char *ph = json_string_value(json_object_get(r, "prev"));
        char want[65];
        cy_hex(want, prev, 32);
        if (r == NULL || ph == NULL || strcmp(ph, want) != 0) {
            if (broken++ == 0)
                fprintf(stderr, "credbank: %s: line %llu: %s\n", path,
                        (unsigned long long)lineno,
                        r == NULL ? "not JSON"
                                  : "its prev is not the hash of the line "
                                    "before (the log was changed)");
        }
        cy_sha256(prev, line, len);
        if (r != NULL && keep(r, acct, since))
            json_array_append(arr, r);
        json_decref(r);
    }
    free(line);
    fclose(f);
    if (broken)
        rv = cli_fail(path, CB_ECORRUPT, "%llu broken record(s) in the "
                      "chain", (unsigned long long)broken);
    return rv;
}

int cmd_audit(int argc, char **argv)
{
    const char *dir = NULL, *node = NULL, *key = NULL, *account = NULL,
               *since_s = NULL, *pos[1];
    bool json = false;
    int npos = 0;
    const struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--node", CLI_OPT_STR, &node},
        {"--key", CLI_OPT_STR, &key},
        {"--account", CLI_OPT_STR, &account},
        {"--since", CLI_OPT_STR, &since_s},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    int rv = cli_args("audit", AUDIT_USAGE, argc, argv, opts, pos, 0, &npos,
                      NULL);
    if (rv != 0)
        return cli_exit(rv);
    if (dir != NULL && node != NULL)
        return cli_usage("audit", AUDIT_USAGE,
                         "--dir and --node exclude each other");
    if (dir == NULL && (node = cli_node_url(node)) == NULL)
        return cli_usage("audit", AUDIT_USAGE, "missing --dir or --node");
    uint64_t since = 0;
    if (since_s != NULL && !parse_since(since_s, &since))
        return cli_usage("audit", AUDIT_USAGE, "--since: Unix seconds or "
                         "YYYY-MM-DDTHH:MM:SSZ");
    uint8_t id[32];
    char acct[65];
    struct cb_err err = {0, ""};
    if (account != NULL) {
        if (cli_parse_id(account, id, &err) != 0)
            return cli_usage("audit", AUDIT_USAGE, "--account: %s",
                             cb_errmsg(&err));
        cy_hex(acct, id, 32);
    }
    json_t *arr = NULL;
    if (dir != NULL) {
        arr = json_array();
        rv = read_log(dir, account ? acct : NULL, since, arr);
    } else {
        struct cli_url u;
        if ((rv = cli_node_parse("audit", AUDIT_USAGE, node, &u)) != 0 ||
            (rv = cli_node_key(key)) != 0)
            return rv;
        char path[256];
        snprintf(path, sizeof path, "/v1/audit?since=%llu&limit=10000%s%s",
                 (unsigned long long)since, account ? "&account=" : "",
                 account ? acct : "");
        rv = cli_node_get_json("audit", &u, path, &arr);
        if (rv != 0)
            return rv;
        if (!json_is_array(arr)) {
            json_decref(arr);
            return cli_fail("audit", CB_EIO, "the node's answer is not a "
                            "list");
        }
    }
    if (json) {
        json_t *o = json_pack("{s:O}", "records", arr);
        cli_json_print(o);
        json_decref(o);
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(arr, i, r)
            print_row(r);
    }
    json_decref(arr);
    return rv;
}
