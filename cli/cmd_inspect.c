/*
 * credbank entry inspect FILE.cbe [--json]
 *
 * Decodes a signed entry (canonical form and envelope), verifies every
 * signature and prints type, id, author, signers and body. Exit 1 when the
 * bytes do not decode or a signature does not verify; whether the entry
 * keeps the rules is for `submit` (the state machine) to say.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "entry inspect FILE.cbe [--json]"

static void print_json_inline(const char *label, json_t *v, int indent)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s == NULL)
        return;
    printf("%s", label);
    for (char *p = s; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            printf("%*s", indent, "");
    }
    putchar('\n');
    free(s);
}

int cli_inspect(const char *ctx, const uint8_t *buf, size_t len, bool json,
                json_t *extra)
{
    struct lg_signed s;
    struct cb_err err = {0, ""};
    lg_signed_init(&s);
    int rv = lg_signed_decode(&s, buf, len, &err);
    if (rv != 0) {
        rv = cli_fail_err(ctx, rv, &err);
        lg_signed_release(&s);
        return rv == CLI_USAGE ? CLI_FAIL : rv;
    }
    struct cb_err verr = {0, ""};
    int vrv = lg_signed_verify(&s, &verr);
    json_t *j = lg_signed_json(&s);
    if (j == NULL) {
        lg_signed_release(&s);
        return cli_fail(ctx, CB_ENOMEM, "out of memory");
    }
    json_object_set_new(j, "valid", json_boolean(vrv == 0));
    if (vrv != 0) {
        json_object_set_new(j, "error", json_string(cb_errname(vrv)));
        json_object_set_new(j, "message", json_string(cb_errmsg(&verr)));
    }
    json_object_set_new(j, "size", json_integer((json_int_t)len));
    if (extra != NULL)
        json_object_update(j, extra);
    if (json) {
        cli_json_print(j);
    } else {
        const struct lg_entry *e = &s.e;
        char when[32];
        cli_format_ms(when, e->ts);
        json_t *idx = extra ? json_object_get(extra, "index") : NULL;
        if (json_is_integer(idx))
            printf("index    %lld\n", (long long)json_integer_value(idx));
        printf("type     %s\n", lg_type_name(e->type));
        printf("id       %s\n", cli_hex32(e->id));
        if (e->ledger != NULL)
            printf("ledger   %s\n", cli_hex32(e->ledger));
        else
            printf("ledger   (genesis: the ledger id is this entry's id)\n");
        printf("author   %s\n", cli_hex32(e->author));
        printf("ts       %llu (%s)\n", (unsigned long long)e->ts, when);
        if (e->account != NULL)
            printf("account  %s\n", cli_hex32(e->account));
        for (size_t i = 0; i < e->nrefs; i++)
            printf("%s %s\n", i == 0 ? "refs    " : "        ",
                   cli_hex32(lg_entry_ref(e, i)));
        for (size_t i = 0; i < s.nsigs; i++)
            printf("%s %s%s\n", i == 0 ? "signers " : "        ",
                   cli_hex32(s.sigs[i].pk), i == 0 ? " (author)" : "");
        if (vrv == 0)
            printf("signatures: %zu, all valid\n", s.nsigs);
        else
            printf("signatures: INVALID: %s (%s)\n", cb_errmsg(&verr),
                   cb_errname(vrv));
        json_t *body = json_object_get(json_object_get(j, "entry"), "body");
        print_json_inline("body     ", body, 9);
    }
    json_decref(j);
    lg_signed_release(&s);
    if (vrv != 0) {
        if (!json)
            fprintf(stderr, "credbank: %s: %s (%s)\n", ctx, cb_errmsg(&verr),
                    cb_errname(vrv));
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_entry_inspect(int argc, char **argv)
{
    const char *pos[1];
    bool json = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--json", CLI_OPT_BOOL, &json},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("entry inspect", USAGE, argc, argv, opts, pos, 1,
                       &npos, NULL)) != 0)
        return cli_exit(rv);
    if (npos != 1)
        return cli_usage("entry inspect", USAGE, "missing FILE.cbe");
    uint8_t *buf = NULL;
    size_t len = 0;
    struct cb_err err = {0, ""};
    if ((rv = cli_read_file(pos[0], &buf, &len, LG_SIGNED_MAX, &err)) != 0)
        return cli_fail_err(pos[0], rv, &err);
    rv = cli_inspect(pos[0], buf, len, json, NULL);
    free(buf);
    return rv;
}
