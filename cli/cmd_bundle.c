/*
 * credbank export ID --dir D -o FILE.cbx [--disclose JSON|@FILE] [--json]
 * credbank verify FILE.cbx... --ledger HEX [--not-before TIME] [--json]
 *
 * export writes a learner's bundle (DESIGN 3.5, spec/bundle.md) from a local
 * ledger directory for its newest final checkpoint. --disclose adds the
 * opening of the account's pii commitment: {"salt": "<64 hex>", "data":
 * {"name": "...", ...}}.
 *
 * verify checks bundles offline with nothing but the ledger id: no socket
 * is opened; the replay uses a temporary directory under $TMPDIR (else
 * /dev/shm, else /tmp), unlinked as soon as its ledger is open. Several
 * files share one verifier (its scratch ledger and decoders), each judged
 * as alone. Exit 0 valid (all of them), 1 invalid (the failing check's
 * stable name on stderr, or in the JSON), 2 usage. --not-before takes an RFC 3339 date-time with an
 * offset ("2025-01-31T09:00:00Z", "2025-01-31T18:00:00.5+09:00") or whole
 * Unix seconds; a seal whose ts is below it is refused (seal_stale).
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <credbank/bundle.h>

#define EXPORT_USAGE \
    "export ID (--dir D | --node URL [--key K]) -o FILE.cbx " \
    "[--disclose JSON|@FILE] [--json]"
#define VERIFY_USAGE \
    "verify FILE.cbx... --ledger HEX [--not-before TIME] [--json]"

/* ---- export ---- */

/* {"salt": hex, "data": {str: str}} into salt and canonical data bytes. */
static int disclose_parse(const char *arg, uint8_t salt[32], struct lg_w *data,
                          struct cb_err *err)
{
    json_t *j = NULL;
    int rv = cli_parse_json(arg, &j, err);
    if (rv != 0)
        return rv;
    json_t *s = json_object_get(j, "salt"), *d = json_object_get(j, "data");
    const char *k;
    json_t *x;
    if (!json_is_object(j) || json_object_size(j) != 2 ||
        !json_is_string(s) || !json_is_object(d)) {
        rv = cb_errf(err, CB_EUSAGE, "--disclose: expected {\"salt\": HEX, "
                                     "\"data\": {...}}");
        goto out;
    }
    json_object_foreach(d, k, x)
    {
        if (!json_is_string(x)) {
            rv = cb_errf(err, CB_EUSAGE, "--disclose: data.%s is not a "
                                         "string",
                         k);
            goto out;
        }
    }
    if ((rv = cli_parse_hex(json_string_value(s), salt, 32, err)) != 0) {
        rv = cb_errf(err, CB_EUSAGE, "--disclose: salt: 64 hex digits");
        goto out;
    }
    rv = lg_w_json(data, d, err);
    if (rv != 0)
        rv = cb_errf(err, CB_EUSAGE, "--disclose: data: %s", cb_errmsg(err));
out:
    json_decref(j);
    return rv;
}

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *disclose = NULL, *node = NULL,
               *key = NULL, *pos[1];
    bool json = false;
    int npos = 0;
    const struct cli_opt opts[] = {
        {"--dir", CLI_OPT_STR, &dir},
        {"--node", CLI_OPT_STR, &node},
        {"--key", CLI_OPT_STR, &key},
        {"--out", CLI_OPT_STR, &out},
        {"-o", CLI_OPT_STR, &out},
        {"--disclose", CLI_OPT_STR, &disclose},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    int rv = cli_args("export", EXPORT_USAGE, argc, argv, opts, pos, 1, &npos,
                      NULL);
    if (rv != 0)
        return cli_exit(rv);
    if (dir == NULL)
        node = cli_node_url(node);
    else if (node != NULL)
        return cli_usage("export", EXPORT_USAGE,
                         "--dir and --node exclude each other");
    if (npos != 1 || (dir == NULL && node == NULL) || out == NULL)
        return cli_usage("export", EXPORT_USAGE,
                         "an account ID, --dir or --node, and -o are "
                         "required");
    if (node != NULL && disclose != NULL)
        return cli_usage("export", EXPORT_USAGE,
                         "--disclose needs --dir: a node does not serve "
                         "personal data");
    struct cb_err err = {0, ""};
    uint8_t id[32], salt[32];
    if ((rv = cli_parse_id(pos[0], id, &err)) != 0)
        return cli_usage("export", EXPORT_USAGE, "%s: %s", pos[0],
                         cb_errmsg(&err));
    struct lg_w data, w;
    lg_w_init(&data);
    lg_w_init(&w);
    struct lg_bundle_export_opts eo = {0};
    struct lg_ledger *l = NULL;
    if (disclose != NULL) {
        rv = disclose_parse(disclose, salt, &data, &err);
        if (rv != 0) {
            rv = rv == CB_EUSAGE ? cli_usage("export", EXPORT_USAGE, "%s",
                                             cb_errmsg(&err))
                                 : cli_fail_err("--disclose", rv, &err);
            goto out;
        }
        eo.salt = salt;
        eo.data = lg_w_data(&data);
        eo.data_len = lg_w_len(&data);
    }
    if (node != NULL) {
        struct cli_url u;
        if ((rv = cli_node_parse("export", EXPORT_USAGE, node, &u)) != 0 ||
            (rv = cli_node_key(key)) != 0)
            goto out;
        char path[128], *body = NULL;
        size_t blen = 0;
        snprintf(path, sizeof path, "/v1/accounts/%s/bundle", cli_hex32(id));
        rv = cli_node_get_raw("export", &u, path, "application/msgpack",
                              &body, &blen);
        if (rv != CLI_OK)
            goto out;
        lg_w_raw(&w, body, blen);
        free(body);
    } else {
        if ((rv = cli_ledger_open(dir, false, &l)) != 0)
            goto out;
        rv = lg_bundle_export(l, id, &eo, &w, &err);
        if (rv != 0) {
            rv = cli_fail_err("export", rv, &err);
            goto out;
        }
    }
    if ((rv = cli_write_atomic(out, lg_w_data(&w), lg_w_len(&w),
                               disclose ? 0600 : 0644, &err)) != 0) {
        rv = cli_fail_err(out, rv, &err);
        goto out;
    }
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:I}", "account", cli_hex32(id),
                              "file", out, "bytes", (json_int_t)lg_w_len(&w));
        rv = cli_json_print(j);
        json_decref(j);
    } else {
        printf("wrote %s: bundle of account %s (%zu bytes)\n", out,
               cli_hex32(id), lg_w_len(&w));
        rv = CLI_OK;
    }
out:
    lg_ledger_close(l);
    lg_w_release(&w);
    lg_w_release(&data);
    return rv;
}

/* ---- verify ---- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * TIME as Unix milliseconds, rounded up (a seal ts, whole ms, is below TIME
 * exactly when it is below the rounded value): whole Unix seconds, or RFC
 * 3339 date-time "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (T and Z in
 * either case). Times before 1970 give 0 (no seal is below them). False for
 * anything else.
 */
static bool parse_time(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    if (digits(s, n)) {
        uint64_t sec;
        if (!cli_parse_u64(s, &sec) || sec > UINT64_MAX / 1000)
            return false;
        *ms = sec * 1000;
        return true;
    }
    if (n < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
        !digits(s, 4) || !digits(s + 5, 2) || !digits(s + 8, 2) ||
        !digits(s + 11, 2) || !digits(s + 14, 2) || !digits(s + 17, 2))
        return false;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 60)
        return false;
    size_t p = 19;
    uint64_t frac_ms = 0;
    bool frac_rest = false; /* digits beyond milliseconds, not all zero */
    if (s[p] == '.') {
        size_t q = p + 1;
        while (q < n && s[q] >= '0' && s[q] <= '9')
            q++;
        if (q == p + 1)
            return false;
        for (size_t i = p + 1; i < q; i++) {
            if (i < p + 4)
                frac_ms = frac_ms * 10 + (uint64_t)(s[i] - '0');
            else if (s[i] != '0')
                frac_rest = true;
        }
        for (size_t i = q - (p + 1); i < 3; i++)
            frac_ms *= 10;
        p = q;
    }
    int64_t off = 0;
    if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == n) {
        off = 0;
    } else if ((s[p] == '+' || s[p] == '-') && p + 6 == n &&
               digits(s + p + 1, 2) && s[p + 3] == ':' &&
               digits(s + p + 4, 2)) {
        int oh = num(s + p + 1, 2), om = num(s + p + 4, 2);
        if (oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 60 + om) * 60;
        if (s[p] == '-')
            off = -off;
    } else {
        return false;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
                off;
    int64_t m = t * 1000 + (int64_t)frac_ms + (frac_rest ? 1 : 0);
    *ms = m > 0 ? (uint64_t)m : 0;
    return true;
}

/* The JSON of a verdict: {"valid": false, "reason", "description",
 * "message"}, or the valid bundle's object. */
static json_t *verify_json(const uint8_t id[32],
                           const struct lg_bundle_result *r, bool valid)
{
    if (!valid)
        return json_pack("{s:b, s:s, s:s, s:s}", "valid", 0, "reason",
                         lg_bundle_reason_name(r->reason), "description",
                         lg_bundle_reason_text(r->reason), "message", r->msg);
    char when[32];
    cli_format_ms(when, r->seal_ts);
    json_t *j = json_object();
    json_object_set_new(j, "valid", json_true());
    json_object_set_new(j, "ledger", json_string(cli_hex32(id)));
    json_object_set_new(j, "account", json_string(cli_hex32(r->account)));
    json_object_set_new(j, "complete_as_of", json_string(when));
    json_object_set_new(j, "seal",
                        json_pack("{s:I, s:I, s:I, s:s, s:s}", "index",
                                  (json_int_t)r->seal_index, "ts",
                                  (json_int_t)r->seal_ts, "checkpoint_size",
                                  (json_int_t)(r->seal_index + 1), "origin",
                                  r->origin, "signed_by", r->note_signers));
    json_object_set_new(j, "governance",
                        json_integer((json_int_t)r->governance));
    json_object_set_new(j, "summary", json_incref(r->summary));
    if (r->disclosed != NULL)
        json_object_set_new(j, "disclosed", json_incref(r->disclosed));
    return j;
}

static void verify_print(const uint8_t id[32], const struct lg_bundle_result *r)
{
    char when[32];
    cli_format_ms(when, r->seal_ts);
    printf("valid bundle of account %s\nledger %s (%s)\n\n",
           cli_hex32(r->account), cli_hex32(id), r->origin);
    cli_account_print_view(r->summary);
    if (r->disclosed != NULL) {
        char *d = json_dumps(r->disclosed, JSON_COMPACT | JSON_SORT_KEYS);
        printf("disclosed      %s (opens the pii commitment)\n", d ? d : "?");
        free(d);
    }
    printf("\ncomplete as of %s (seal at index %llu, checkpoint of %llu "
           "entries signed by %s)\n",
           when, (unsigned long long)r->seal_index,
           (unsigned long long)(r->seal_index + 1), r->note_signers);
}

/*
 * Verifies one file with vf. With --json, its object goes to *out (with
 * "file" when there are several files); else the summary is printed. An
 * invalid bundle is also named on stderr. CLI_OK valid, CLI_FAIL invalid or
 * unreadable, or another status when verification could not run.
 */
static int verify_file(struct lg_bundle_verifier *vf, const char *file,
                       const uint8_t id[32],
                       const struct lg_bundle_verify_opts *vo, bool json,
                       bool many, json_t **out)
{
    struct cb_err err = {0, ""};
    uint8_t *buf = NULL;
    size_t len = 0;
    struct lg_bundle_result r;
    memset(&r, 0, sizeof r);
    int rv = cli_read_file(file, &buf, &len, LG_BUNDLE_MAX, &err);
    if (rv == CB_ETOOBIG) {
        r.reason = LG_BR_MALFORMED;
        snprintf(r.msg, sizeof r.msg, "larger than %zu bytes (too_large)",
                 LG_BUNDLE_MAX);
        rv = CB_EBUNDLE;
    } else if (rv != 0) {
        if (many && !json)
            printf("== %s\nunreadable: %s (%s)\n\n", file,
                   err.msg[0] ? err.msg : cb_strerror(rv), cb_errname(rv));
        return cli_fail_err(file, rv, &err);
    } else {
        rv = lg_bundle_verify_with(vf, buf, len, id, vo, &r);
    }
    free(buf);
    if (rv != 0 && rv != CB_EBUNDLE) {
        lg_bundle_result_release(&r);
        return cli_fail(file, rv, "verification could not run: %s",
                        cb_strerror(rv));
    }
    bool valid = rv == 0;
    if (json) {
        json_t *j = verify_json(id, &r, valid);
        if (j != NULL && many)
            json_object_set_new(j, "file", json_string(file));
        *out = j;
    } else if (many) {
        printf("== %s\n", file);
        if (valid)
            verify_print(id, &r);
        else
            printf("invalid: %s: %s\n", lg_bundle_reason_name(r.reason),
                   r.msg);
        printf("\n");
    } else if (valid) {
        verify_print(id, &r);
    }
    if (!valid)
        fprintf(stderr, "credbank: %s: invalid: %s: %s (%s)\n", file,
                lg_bundle_reason_name(r.reason), r.msg,
                cb_errname(CB_EBUNDLE));
    lg_bundle_result_release(&r);
    return valid ? CLI_OK : CLI_FAIL;
}

int cmd_verify(int argc, char **argv)
{
    const char *ledger = NULL, *not_before = NULL;
    bool json = false;
    int npos = 0;
    const struct cli_opt opts[] = {
        {"--ledger", CLI_OPT_STR, &ledger},
        {"--not-before", CLI_OPT_STR, &not_before},
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    const char **pos = calloc(argc > 0 ? (size_t)argc : 1, sizeof *pos);
    if (pos == NULL)
        return cli_fail("verify", CB_ENOMEM, "out of memory");
    int rv = cli_args("verify", VERIFY_USAGE, argc, argv, opts, pos, argc,
                      &npos, NULL);
    if (rv != 0) {
        free(pos);
        return cli_exit(rv);
    }
    struct cb_err err = {0, ""};
    uint8_t id[32];
    struct lg_bundle_verify_opts vo = {0};
    if (npos < 1 || ledger == NULL)
        rv = cli_usage("verify", VERIFY_USAGE,
                       "a bundle FILE and --ledger are required");
    else if (cli_parse_hex(ledger, id, 32, &err) != 0)
        rv = cli_usage("verify", VERIFY_USAGE,
                       "--ledger: the ledger id, 64 hex digits");
    /* 0 (1970 or before) leaves every seal valid, as no ts is below it */
    else if (not_before != NULL && !parse_time(not_before, &vo.not_before_ms))
        rv = cli_usage("verify", VERIFY_USAGE,
                       "--not-before: \"%s\" is neither an RFC 3339 "
                       "date-time with an offset nor whole Unix seconds",
                       not_before);
    if (rv != 0) {
        free(pos);
        return rv;
    }

    /* One verifier for every file: its scratch ledger, decoders and memo
     * serve bundle after bundle. */
    struct lg_bundle_verifier *vf;
    if ((rv = lg_bundle_verifier_new(&vf, &vo)) != 0) {
        free(pos);
        return cli_fail("verify", rv, "%s", cb_strerror(rv));
    }
    bool many = npos > 1;
    json_t *arr = many && json ? json_array() : NULL;
    int status = CLI_OK, nvalid = 0;
    for (int i = 0; i < npos; i++) {
        json_t *j = NULL;
        int one = verify_file(vf, pos[i], id, &vo, json, many, &j);
        nvalid += one == CLI_OK;
        if (one != CLI_OK && status == CLI_OK)
            status = one;
        if (j == NULL)
            continue;
        if (arr != NULL)
            json_array_append_new(arr, j);
        else {
            int p = cli_json_print(j);
            json_decref(j);
            if (p != CLI_OK && status == CLI_OK)
                status = p;
        }
    }
    lg_bundle_verifier_free(vf);
    if (arr != NULL) {
        int p = cli_json_print(arr);
        json_decref(arr);
        if (p != CLI_OK && status == CLI_OK)
            status = p;
    } else if (many) {
        printf("%d of %d bundles valid\n", nvalid, npos);
    }
    free(pos);
    return status;
}
