/*
 * Helpers every command shares: error lines, whole-file reads, atomic
 * writes, key files, the forms keys and ids take on the command line, JSON
 * output and ledger directories.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------- errors ---------------- */

int cli_fail(const char *ctx, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "credbank: %s: %s (%s)\n", ctx, msg, cb_errname(code));
    return CLI_FAIL;
}

int cli_fail_err(const char *ctx, int code, const struct cb_err *err)
{
    const char *msg = cb_strerror(code);
    if (err != NULL && err->msg[0] != '\0')
        msg = err->msg;
    fprintf(stderr, "credbank: %s: %s (%s)\n", ctx, msg, cb_errname(code));
    return cli_status_of(code);
}

int cli_usage(const char *ctx, const char *usage, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "credbank: %s: %s (%s)\n", ctx, msg,
            cb_errname(CB_EUSAGE));
    if (usage != NULL)
        fprintf(stderr, "usage: credbank %s\n", usage);
    return CLI_USAGE;
}

int cli_status_of(int code)
{
    if (code == 0)
        return CLI_OK;
    return code == CB_EUSAGE ? CLI_USAGE : CLI_FAIL;
}

int cli_dispatch(const char *prefix, const struct cli_cmd *table, size_t n,
                 int argc, char **argv)
{
    if (argc >= 1) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[0], table[i].name) == 0)
                return table[i].fn(argc, argv);
    }
    FILE *f = stderr;
    int rv = CLI_USAGE;
    if (argc >= 1 && (strcmp(argv[0], "help") == 0 ||
                      strcmp(argv[0], "--help") == 0 ||
                      strcmp(argv[0], "-h") == 0)) {
        f = stdout;
        rv = CLI_OK;
    } else if (argc >= 1) {
        fprintf(stderr, "credbank: %s: unknown command \"%s\" (%s)\n", prefix,
                argv[0], cb_errname(CB_EUSAGE));
    } else {
        fprintf(stderr, "credbank: %s: missing command (%s)\n", prefix,
                cb_errname(CB_EUSAGE));
    }
    fprintf(f, "usage: %s <command> [arguments]\n\ncommands:\n", prefix);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-14s %s\n", table[i].name, table[i].summary);
    return rv;
}

/* ---------------- arguments ---------------- */

bool cli_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int list_push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (nv == NULL)
        return CB_ENOMEM;
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

static int kvs_push(struct cli_kvs *k, const char *name, const char *value)
{
    struct cli_kv *nv = realloc(k->v, (k->n + 1) * sizeof *nv);
    if (nv == NULL)
        return CB_ENOMEM;
    nv[k->n].name = name;
    nv[k->n].value = value;
    k->n++;
    k->v = nv;
    return 0;
}

void cli_list_free(struct cli_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void cli_kvs_free(struct cli_kvs *k)
{
    free(k->v);
    k->v = NULL;
    k->n = 0;
}

int cli_args(const char *ctx, const char *usage, int argc, char **argv,
             const struct cli_opt *opts, const char **pos, int maxpos,
             int *npos, struct cli_kvs *extra)
{
    bool only_pos = false;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (*npos >= maxpos)
                return cli_usage(ctx, usage, "unexpected argument \"%s\"", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: credbank %s\n", usage);
            return CLI_HELP;
        }
        /* split --name=value */
        char name[128];
        const char *eq = strchr(a, '=');
        const char *inline_val = NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name)
            return cli_usage(ctx, usage, "unknown flag %.60s", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (eq)
            inline_val = eq + 1;

        const struct cli_opt *o = NULL;
        for (size_t k = 0; opts != NULL && opts[k].name != NULL; k++)
            if (strcmp(opts[k].name, name) == 0) {
                o = &opts[k];
                break;
            }
        if (o == NULL) {
            if (extra == NULL || strncmp(name, "--", 2) != 0 || nlen <= 2)
                return cli_usage(ctx, usage, "unknown flag %s", name);
            /* the next argument is the value unless it is a flag itself
             * (a value that starts with "--" is written --name=value) */
            const char *val = inline_val;
            if (val == NULL && i + 1 < argc &&
                strncmp(argv[i + 1], "--", 2) != 0) {
                bool is_opt = false;
                for (size_t k = 0; opts != NULL && opts[k].name != NULL; k++)
                    if (strcmp(opts[k].name, argv[i + 1]) == 0)
                        is_opt = true;
                if (!is_opt)
                    val = argv[++i];
            }
            if (kvs_push(extra, a + 2, val) != 0)
                return cli_fail(ctx, CB_ENOMEM, "out of memory");
            /* keep the name NUL-terminated when given as --name=value */
            if (eq != NULL) {
                char *dup = strdup(name + 2);
                if (dup == NULL)
                    return cli_fail(ctx, CB_ENOMEM, "out of memory");
                extra->v[extra->n - 1].name = dup; /* lives until exit */
            }
            continue;
        }
        if (o->kind == CLI_OPT_BOOL) {
            if (inline_val != NULL)
                return cli_usage(ctx, usage, "%s takes no value", name);
            *(bool *)o->dest = true;
            continue;
        }
        const char *val = inline_val;
        if (val == NULL) {
            if (i + 1 >= argc)
                return cli_usage(ctx, usage, "%s needs a value", name);
            val = argv[++i];
        }
        if (o->kind == CLI_OPT_STR) {
            const char **d = o->dest;
            if (*d != NULL)
                return cli_usage(ctx, usage, "%s given twice", name);
            *d = val;
        } else {
            struct cli_list *l = o->dest;
            if (list_push(&l->v, &l->n, val) != 0)
                return cli_fail(ctx, CB_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* ---------------- files ---------------- */

int cli_read_file(const char *path, uint8_t **buf, size_t *len, size_t max,
                  struct cb_err *err)
{
    if (max == 0)
        max = (size_t)64 << 20;
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0)
        return cb_errf(err, errno == ENOENT ? CB_ENOTFOUND : CB_EIO,
                       "cannot open: %s", strerror(errno));
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap + 1);
    int rv = 0;
    if (p == NULL) {
        rv = cb_errf(err, CB_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                rv = cb_errf(err, CB_ETOOBIG, "larger than %zu bytes", max);
                goto out;
            }
            size_t ncap = cap * 2 > max ? max : cap * 2;
            uint8_t *np = realloc(p, ncap + 1);
            if (np == NULL) {
                rv = cb_errf(err, CB_ENOMEM, "out of memory");
                goto out;
            }
            p = np;
            cap = ncap;
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rv = cb_errf(err, CB_EIO, "read: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    p = NULL;
out:
    free(p);
    if (fd != STDIN_FILENO)
        close(fd);
    return rv;
}

int cli_write_atomic(const char *path, const void *buf, size_t len,
                     mode_t mode, struct cb_err *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char *dcopy = strdup(path);
    int fd = -1, rv = 0;
    if (tmp == NULL || dcopy == NULL) {
        rv = cb_errf(err, CB_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rv = cb_errf(err, CB_EIO, "cannot create a temporary file: %s",
                     strerror(errno));
        goto out;
    }
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rv = cb_errf(err, errno == ENOSPC ? CB_EFULL : CB_EIO,
                         "write: %s", strerror(errno));
            goto out_unlink;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        rv = cb_errf(err, CB_EIO, "fsync: %s", strerror(errno));
        goto out_unlink;
    }
    if (close(fd) != 0) {
        fd = -1;
        rv = cb_errf(err, CB_EIO, "close: %s", strerror(errno));
        goto out_unlink;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rv = cb_errf(err, CB_EIO, "rename: %s", strerror(errno));
        goto out_unlink;
    }
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd); /* best effort: some filesystems refuse it */
        close(dfd);
    }
    goto out;
out_unlink:
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(dcopy);
    return rv;
}

int cli_key_load(const char *path, struct cy_key *k)
{
    struct cb_err err = {0, ""};
    int rv = cy_keyfile_read(path, k, &err);
    if (rv != 0) {
        cy_key_wipe(k);
        return cli_fail_err(path, rv, &err) == CLI_USAGE ? CLI_USAGE
                                                         : CLI_FAIL;
    }
    return 0;
}

/* ---------------- keys, ids, hashes ---------------- */

static bool is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

int cli_parse_hex(const char *s, uint8_t *out, size_t len, struct cb_err *err)
{
    if (!is_hex(s, 2 * len) || cy_unhex(out, len, s) != 0)
        return cb_errf(err, CB_EVALUE, "\"%.80s\": expected %zu hex digits", s,
                       2 * len);
    return 0;
}

int cli_parse_key(const char *s, uint8_t pk[32], char *name,
                  struct cb_err *err)
{
    if (strncmp(s, "hex:", 4) == 0)
        s += 4;
    if (is_hex(s, 64)) {
        if (name != NULL)
            name[0] = '\0';
        if (cy_unhex(pk, 32, s) != 0)
            return cb_errf(err, CB_EVALUE, "bad hex key");
        if (cy_pk_check(pk) != 0)
            return cb_errf(err, CB_EBADKEY,
                           "%.70s: not a valid Ed25519 public key", s);
        return 0;
    }
    char tmp[CY_NAME_MAX + 1];
    int rv = cy_note_vkey_parse(s, name != NULL ? name : tmp, pk);
    if (rv != 0)
        return cb_errf(err, rv,
                       "\"%.100s\": expected a verifier key "
                       "(name+hash+base64) or 64 hex digits",
                       s);
    return 0;
}

int cli_parse_id(const char *s, uint8_t id[32], struct cb_err *err)
{
    if (s[0] != '@')
        return cli_parse_hex(s, id, 32, err);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rv = cli_read_file(s + 1, &buf, &len, LG_SIGNED_MAX, err);
    if (rv != 0)
        return cb_errwrap(err, "%s", s + 1);
    struct lg_signed se;
    lg_signed_init(&se);
    rv = lg_signed_decode(&se, buf, len, err);
    if (rv == 0)
        memcpy(id, se.e.id, 32);
    else
        cb_errwrap(err, "%s", s + 1);
    lg_signed_release(&se);
    free(buf);
    return rv;
}

int cli_parse_digest(const char *s, uint8_t out[32], struct cb_err *err)
{
    if (s[0] != '@')
        return cli_parse_hex(s, out, 32, err);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rv = cli_read_file(s + 1, &buf, &len, (size_t)1 << 30, err);
    if (rv != 0)
        return cb_errwrap(err, "%s", s + 1);
    cy_sha256(out, buf, len);
    free(buf);
    return 0;
}

int cli_parse_json(const char *s, json_t **out, struct cb_err *err)
{
    json_error_t jerr;
    if (s[0] == '@') {
        uint8_t *buf = NULL;
        size_t len = 0;
        int rv = cli_read_file(s + 1, &buf, &len, 0, err);
        if (rv != 0)
            return cb_errwrap(err, "%s", s + 1);
        *out = json_loadb((const char *)buf, len, 0, &jerr);
        free(buf);
        if (*out == NULL)
            return cb_errf(err, CB_EJSON, "%s: line %d: %s", s + 1,
                           jerr.line, jerr.text);
        return 0;
    }
    *out = json_loads(s, 0, &jerr);
    if (*out == NULL)
        return cb_errf(err, CB_EJSON, "column %d: %s", jerr.column,
                       jerr.text);
    return 0;
}

void cli_vkey(char *out, const char *name, const uint8_t pk[32])
{
    if (name == NULL || !cy_name_valid(name) ||
        cy_note_vkey(out, CY_VKEY_MAX, name, pk) != 0)
        cy_hex(out, pk, 32);
}

const char *cli_hex32(const uint8_t b[32])
{
    static char bufs[8][65];
    static unsigned next;
    char *p = bufs[next++ % 8];
    cy_hex(p, b, 32);
    return p;
}

static int key_to_hex(json_t *j, const char *where, struct cb_err *err)
{
    if (!json_is_string(j))
        return cb_errf(err, CB_EJSON, "%s: expected a key string", where);
    uint8_t pk[32];
    int rv = cli_parse_key(json_string_value(j), pk, NULL, err);
    if (rv != 0)
        return cb_errwrap(err, "%s", where);
    char buf[4 + 65];
    memcpy(buf, "hex:", 4);
    cy_hex(buf + 4, pk, 32);
    return json_string_set(j, buf) == 0
               ? 0
               : cb_errf(err, CB_ENOMEM, "out of memory");
}

int cli_member_keys(json_t *member, const char *where, struct cb_err *err)
{
    char w[160];
    if (!json_is_object(member))
        return cb_errf(err, CB_EJSON, "%s: expected an object", where);
    json_t *node = json_object_get(member, "node");
    json_t *issuers = json_object_get(member, "issuers");
    if (node != NULL) {
        snprintf(w, sizeof w, "%s.node", where);
        int rv = key_to_hex(node, w, err);
        if (rv != 0)
            return rv;
    }
    if (issuers != NULL) {
        if (!json_is_array(issuers))
            return cb_errf(err, CB_EJSON, "%s.issuers: expected an array",
                           where);
        for (size_t i = 0; i < json_array_size(issuers); i++) {
            snprintf(w, sizeof w, "%s.issuers[%zu]", where, i);
            int rv = key_to_hex(json_array_get(issuers, i), w, err);
            if (rv != 0)
                return rv;
        }
    }
    return 0;
}

/* ---------------- output ---------------- */

int cli_json_print(json_t *j)
{
    if (j == NULL)
        return cli_fail("json", CB_ENOMEM, "out of memory");
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s == NULL)
        return cli_fail("json", CB_ENOMEM, "out of memory");
    puts(s);
    free(s);
    return CLI_OK;
}

uint64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_format_ms(char out[32], uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[24];
    strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03u UTC", d, (unsigned)(ms % 1000));
}

/* ---------------- ledger directories ---------------- */

int cli_ledger_open(const char *dir, bool create, struct lg_ledger **l)
{
    struct cb_err err = {0, ""};
    if (!create) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &st) != 0)
            return cli_fail(dir, CB_ENOTFOUND,
                            "no ledger in this directory (submit a genesis "
                            "entry to create one)");
    }
    struct lg_open_opts o = {.verify_threads = 0};
    int rv = lg_ledger_open(l, dir, &o, &err);
    if (rv != 0)
        return cli_fail_err(dir, rv, &err) == CLI_USAGE ? CLI_USAGE
                                                        : CLI_FAIL;
    if (!create) {
        struct lg_status st;
        rv = lg_status(*l, &st);
        if (rv != 0 || !st.has_genesis) {
            lg_ledger_close(*l);
            *l = NULL;
            return rv != 0 ? cli_fail(dir, rv, "cannot read the ledger head")
                           : cli_fail(dir, CB_ENOTFOUND,
                                      "the ledger has no genesis entry yet");
        }
    }
    return 0;
}

/* ---------------- building and applying entries ---------------- */

int cli_entry_make(const struct cli_entry *e, struct lg_w *out, uint8_t id[32],
                   struct cb_err *err)
{
    struct lg_w entry;
    lg_w_init(&entry);
    lg_w_reset(out);
    struct lg_entry_spec spec = {
        .ledger = e->ledger,
        .type = e->type,
        .author = e->author->pk,
        .ts = e->ts ? e->ts : cli_now_ms(),
        .nonce = NULL,
        .account = e->account,
        .refs = e->refs,
        .nrefs = e->nrefs,
        .body = e->body,
        .body_len = e->body_len,
    };
    size_t nsig = 1 + e->nsigners;
    struct lg_sig *sigs = calloc(nsig, sizeof *sigs);
    uint8_t(*raw)[64] = calloc(nsig, sizeof *raw);
    int rv;
    if (sigs == NULL || raw == NULL) {
        rv = cb_errf(err, CB_ENOMEM, "out of memory");
        goto out;
    }
    rv = lg_entry_encode(&entry, &spec);
    if (rv == 0)
        rv = lg_w_error(&entry);
    if (rv != 0) {
        cb_errf(err, rv, "cannot encode the entry: %s", cb_strerror(rv));
        goto out;
    }
    for (size_t i = 0; i < nsig; i++) {
        const struct cy_key *k = i == 0 ? e->author : e->signers[i - 1];
        for (size_t j = 0; j < i; j++)
            if (memcmp(sigs[j].pk, k->pk, 32) == 0) {
                rv = cb_errf(err, CB_ESIGORDER, "key %s signs twice",
                             k->name);
                goto out;
            }
        rv = lg_entry_sign(raw[i], lg_w_data(&entry), lg_w_len(&entry), k);
        if (rv != 0) {
            cb_errf(err, rv, "signing failed");
            goto out;
        }
        sigs[i].pk = k->pk;
        sigs[i].sig = raw[i];
    }
    rv = lg_signed_encode(out, lg_w_data(&entry), lg_w_len(&entry),
                          e->author->pk, sigs, nsig);
    if (rv == 0)
        rv = lg_w_error(out);
    if (rv != 0) {
        cb_errf(err, rv, "cannot encode the signed entry: %s",
                cb_strerror(rv));
        goto out;
    }
    if (id != NULL)
        cy_sha256(id, lg_w_data(&entry), lg_w_len(&entry));
out:
    free(sigs);
    free(raw);
    lg_w_release(&entry);
    return rv;
}

int cli_apply(struct lg_ledger *l, const struct lg_buf *entries, size_t n,
              const char *const *labels, json_t *arr, bool quiet,
              struct lg_result *res)
{
    struct lg_result *r = res ? res : calloc(n ? n : 1, sizeof *r);
    struct cb_err err = {0, ""};
    if (r == NULL)
        return cli_fail("submit", CB_ENOMEM, "out of memory");
    int rv = lg_apply(l, 0, entries, n, r, NULL, &err);
    if (rv != 0) {
        cli_fail_err("submit", rv, &err);
        if (res == NULL)
            free(r);
        return CLI_FAIL;
    }
    int status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        const char *label = labels ? labels[i] : "entry";
        bool ok = r[i].code == 0 || r[i].code == CB_EDUPLICATE;
        if (!ok)
            status = CLI_FAIL;
        if (!ok)
            fprintf(stderr, "credbank: %s: refused: %s (%s)\n", label,
                    r[i].msg[0] ? r[i].msg : cb_strerror(r[i].code),
                    cb_errname(r[i].code));
        if (arr != NULL) {
            json_t *o = json_object();
            json_object_set_new(o, "file", json_string(label));
            json_object_set_new(o, "id", json_string(cli_hex32(r[i].id)));
            if (ok) {
                json_object_set_new(o, "index", json_integer((json_int_t)
                                                                 r[i].index));
                json_object_set_new(o, "fee",
                                    json_integer((json_int_t)r[i].fee));
                if (r[i].code == CB_EDUPLICATE)
                    json_object_set_new(o, "duplicate", json_true());
            } else {
                json_object_set_new(o, "error",
                                    json_string(cb_errname(r[i].code)));
                json_object_set_new(o, "message",
                                    json_string(r[i].msg[0]
                                                    ? r[i].msg
                                                    : cb_strerror(r[i].code)));
            }
            json_array_append_new(arr, o);
            continue;
        }
        if (r[i].code == 0) {
            if (!quiet)
                printf("%s: applied at index %llu, fee %llu, id %s\n", label,
                       (unsigned long long)r[i].index,
                       (unsigned long long)r[i].fee, cli_hex32(r[i].id));
        } else if (r[i].code == CB_EDUPLICATE) {
            if (!quiet)
                printf("%s: already in the log at index %llu, id %s\n", label,
                       (unsigned long long)r[i].index, cli_hex32(r[i].id));
        }
    }
    if (res == NULL)
        free(r);
    return status;
}
