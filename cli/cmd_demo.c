/*
 * credbank demo [--out DIR]
 *
 * A single-process walk-through of the credit bank in a local ledger (the
 * three-node version comes with credbankd). It makes the demo consortium of
 * DESIGN 4.1 -- "bank" (registrar, recognizer), "university" (recognizer,
 * provider; its own policy caps MOOC credits at 12 and makes them not
 * learner-revocable) and "provider" (provider) -- with a node key and an
 * issuer key each, founds the ledger with a genesis entry co-signed by
 * every founder key, then walks one learner through the applications A1-A7:
 * registration, deposits, recognitions (one refused by the K-MOOC
 * attendance threshold), a programme change dropping a course, an appeal
 * upheld, a cancellation after investigation, a class change, an associate
 * degree and its linkage to a bachelor programme. Two members' nodes seal
 * and cosign so the checkpoint is final; the demo then proves the learner's
 * registration is in the checkpoint's tree and verifies the proof and the
 * note's signatures.
 *
 * Everything goes through the same library calls and the same body table as
 * the individual commands. DIR gets ledger-id, vkeys, checkpoint.note,
 * genesis.json, keys/, ledger/ and entries/ (every log entry as
 * NNN-type.cbe). A non-empty DIR is refused unless an earlier demo made it
 * (it holds .credbank-demo); then it is cleared first.
 */
#define _XOPEN_SOURCE 700
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <credbank/merkle.h>

#define USAGE "demo [--out DIR]"
#define MARKER ".credbank-demo"

enum {
    K_BANK_NODE,
    K_BANK,
    K_UNI_NODE,
    K_UNI,
    K_PROV_NODE,
    K_PROV,
    K_LEARNER,
    K__COUNT
};

static const struct {
    const char *name;   /* signed-note key name */
    const char *file;   /* under keys/ */
} keyinfo[K__COUNT] = {
    {"bank", "bank.node.key"},
    {"bank.issuer", "bank.issuer.key"},
    {"university", "university.node.key"},
    {"university.issuer", "university.issuer.key"},
    {"provider", "provider.node.key"},
    {"provider.issuer", "provider.issuer.key"},
    {"learner", "learner.key"},
};

struct demo {
    char dir[2048];
    struct lg_ledger *l;
    uint8_t ledger[32];
    struct cy_key k[K__COUNT];
    uint64_t last_ts;
    uint64_t fees;
};

/* ---------------- the output directory ---------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    if (ftw->level == 0)
        return 0; /* keep DIR itself */
    int rv = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return rv == 0 ? 0 : -1;
}

static int prepare_dir(const char *dir)
{
    struct stat st;
    char path[4096];
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return cli_fail(dir, CB_EEXISTS, "exists and is not a directory");
        DIR *d = opendir(dir);
        if (d == NULL)
            return cli_fail(dir, CB_EIO, "cannot read: %s", strerror(errno));
        bool empty = true;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = false;
        closedir(d);
        if (!empty) {
            snprintf(path, sizeof path, "%s/%s", dir, MARKER);
            if (stat(path, &st) != 0)
                return cli_fail(dir, CB_EEXISTS,
                                "not empty and not made by credbank demo; "
                                "choose another --out");
            if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
                return cli_fail(dir, CB_EIO, "cannot clear the earlier demo: "
                                "%s", strerror(errno));
        }
    } else if (mkdir(dir, 0755) != 0) {
        return cli_fail(dir, CB_EIO, "cannot create: %s", strerror(errno));
    }
    static const char *const subs[] = {"keys", "entries", NULL};
    for (const char *const *s = subs; *s; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, *s);
        if (mkdir(path, strcmp(*s, "keys") == 0 ? 0700 : 0755) != 0)
            return cli_fail(path, CB_EIO, "cannot create: %s",
                            strerror(errno));
    }
    snprintf(path, sizeof path, "%s/%s", dir, MARKER);
    struct cb_err err = {0, ""};
    static const char mark[] = "made by credbank demo; the next demo with "
                               "this --out clears this directory\n";
    if (cli_write_atomic(path, mark, sizeof mark - 1, 0644, &err) != 0)
        return cli_fail_err(path, err.code, &err);
    return 0;
}

static int write_text(struct demo *d, const char *name, const char *text)
{
    char path[4096];
    struct cb_err err = {0, ""};
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    if (cli_write_atomic(path, text, strlen(text), 0644, &err) != 0)
        return cli_fail_err(path, err.code, &err);
    return 0;
}

/* ---------------- steps ---------------- */

static uint64_t next_ts(struct demo *d)
{
    uint64_t now = cli_now_ms();
    d->last_ts = now > d->last_ts ? now : d->last_ts + 1;
    return d->last_ts;
}

static void line(const char *code, const char *type, const char *what)
{
    printf("  %-3s %-17s %-48s ", code, type, what);
}

/* Applies one signed entry; checks the outcome is the expected one and
 * prints it. */
static int apply(struct demo *d, const char *code, const char *type,
                 const char *what, const uint8_t *p, size_t len, int expect,
                 struct lg_result *r)
{
    struct lg_buf b = {p, len};
    struct cb_err err = {0, ""};
    int rv = lg_apply(d->l, 0, &b, 1, r, NULL, &err);
    if (rv != 0) {
        printf("\n");
        return cli_fail_err("demo", rv, &err);
    }
    line(code, type, what);
    if (r->code == 0) {
        printf("@%-3llu", (unsigned long long)r->index);
        if (r->fee > 0)
            printf(" fee %llu KRW", (unsigned long long)r->fee);
        printf("\n");
        d->fees += r->fee;
    } else {
        printf("REFUSED: %s\n        %s\n", cb_errname(r->code),
               r->msg[0] ? r->msg : cb_strerror(r->code));
    }
    if (r->code != expect) {
        if (expect == 0)
            return cli_fail("demo", r->code, "step %s %s was refused: %s",
                            code, type, r->msg);
        return cli_fail("demo", CB_EINTERNAL,
                        "step %s %s should have been refused with %s",
                        code, type, cb_errname(expect));
    }
    return 0;
}

/*
 * Builds, signs and applies an entry whose body comes from the body table:
 * the variable arguments are flag names (without "--") and values, ending
 * with NULL. learner: also signed by the learner's key. id gets the entry
 * id when it was applied.
 */
static int step(struct demo *d, const char *code, const char *what,
                enum lg_type t, int author, const uint8_t *account,
                const uint8_t (*refs)[32], size_t nrefs, bool learner,
                int expect, uint8_t id[32], ...)
{
    struct cli_kv kv[24];
    struct cli_kvs flags = {kv, 0};
    va_list ap;
    va_start(ap, id);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL && flags.n < 24) {
        kv[flags.n].name = name;
        kv[flags.n].value = va_arg(ap, const char *);
        flags.n++;
    }
    va_end(ap);

    struct lg_w body, signd;
    lg_w_init(&body);
    lg_w_init(&signd);
    char ctx[64];
    snprintf(ctx, sizeof ctx, "demo %s %s", code, lg_type_name(t));
    int rv = cli_body_build(ctx, t, NULL, &flags, d->k[author].pk, &body);
    if (rv != 0)
        goto out;
    const struct cy_key *signers[1] = {&d->k[K_LEARNER]};
    struct cli_entry e = {
        .type = t,
        .author = &d->k[author],
        .ledger = d->ledger,
        .ts = next_ts(d),
        .account = account,
        .refs = refs,
        .nrefs = nrefs,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
        .signers = signers,
        .nsigners = learner ? 1 : 0,
    };
    struct cb_err err = {0, ""};
    if ((rv = cli_entry_make(&e, &signd, NULL, &err)) != 0) {
        rv = cli_fail_err(ctx, rv, &err);
        goto out;
    }
    struct lg_result r;
    rv = apply(d, code, lg_type_name(t), what, lg_w_data(&signd),
               lg_w_len(&signd), expect, &r);
    if (rv == 0 && r.code == 0 && id != NULL)
        memcpy(id, r.id, 32);
out:
    lg_w_release(&body);
    lg_w_release(&signd);
    return rv;
}

static int seal(struct demo *d, int node)
{
    struct lg_w w;
    struct cb_err err = {0, ""};
    struct lg_result r;
    lg_w_init(&w);
    int rv = cli_seal_make(d->l, &d->k[node], next_ts(d), &w, NULL, &err);
    if (rv != 0) {
        rv = cli_fail_err("demo seal", rv, &err);
        goto out;
    }
    char what[96];
    struct lg_status st;
    lg_status(d->l, &st);
    snprintf(what, sizeof what, "%s node seals the log of %llu entries",
             keyinfo[node].name, (unsigned long long)st.size);
    rv = apply(d, "--", "seal", what, lg_w_data(&w), lg_w_len(&w), 0, &r);
out:
    lg_w_release(&w);
    return rv;
}

static int cosign(struct demo *d, int node)
{
    struct lg_w w;
    struct cb_err err = {0, ""};
    struct lg_result r;
    uint64_t s;
    lg_w_init(&w);
    int rv = cli_cosign_make(d->l, &d->k[node], next_ts(d), &w, &s, &err);
    if (rv != 0) {
        rv = cli_fail_err("demo cosign", rv, &err);
        goto out;
    }
    char what[96];
    snprintf(what, sizeof what, "%s node signs the checkpoint of seal @%llu",
             keyinfo[node].name, (unsigned long long)s);
    rv = apply(d, "--", "cosign", what, lg_w_data(&w), lg_w_len(&w), 0, &r);
    if (rv == 0) {
        struct lg_status st;
        if (lg_status(d->l, &st) == 0 && st.has_final && st.final_seal == s)
            printf("  %-3s %-17s checkpoint of %llu entries is final "
                   "(cosign quorum %llu)\n",
                   "", "", (unsigned long long)s + 1,
                   (unsigned long long)st.cosign_quorum);
    }
out:
    lg_w_release(&w);
    return rv;
}

/* "HEX" of SHA-256(text): a stand-in for a document's digest. */
static const char *digest_of(const char *text, char out[65])
{
    uint8_t h[32];
    cy_sha256(h, text, strlen(text));
    cy_hex(out, h, 32);
    return out;
}

/* ---------------- the consortium ---------------- */

static int make_keys(struct demo *d)
{
    char path[4096];
    struct cb_err err = {0, ""};
    for (int i = 0; i < K__COUNT; i++) {
        int rv = cy_key_generate(&d->k[i], keyinfo[i].name);
        if (rv != 0)
            return cli_fail("demo keygen", rv, "cannot generate a key");
        snprintf(path, sizeof path, "%s/keys/%s", d->dir, keyinfo[i].file);
        if ((rv = cy_keyfile_write(path, &d->k[i], &err)) != 0)
            return cli_fail_err(path, rv, &err);
    }
    return 0;
}

static int found(struct demo *d)
{
    char vk[K__COUNT][CY_VKEY_MAX];
    for (int i = 0; i < K__COUNT; i++)
        cli_vkey(vk[i], keyinfo[i].name, d->k[i].pk);
    /* the consortium file, as a founder would write it for genesis build */
    char spec[8192];
    snprintf(spec, sizeof spec,
        "{\n"
        "  \"members\": [\n"
        "    {\"name\": \"bank\", \"roles\": [\"registrar\", \"recognizer\"],\n"
        "     \"node\": \"%s\",\n     \"issuers\": [\"%s\"]},\n"
        "    {\"name\": \"university\", \"roles\": [\"recognizer\", "
        "\"provider\"],\n"
        "     \"node\": \"%s\",\n     \"issuers\": [\"%s\"]},\n"
        "    {\"name\": \"provider\", \"roles\": [\"provider\"],\n"
        "     \"node\": \"%s\",\n     \"issuers\": [\"%s\"]}\n"
        "  ],\n"
        "  \"governance_quorum\": 2,\n"
        "  \"cosign_quorum\": 2,\n"
        "  \"policy\": {\n"
        "    \"fees\": {\"currency\": \"KRW\", \"account_open\": 4000, "
        "\"per_credit\": 1000, \"link_free_credits\": 80},\n"
        "    \"sources\": {\n"
        "      \"mooc\": {\"min_grade\": 60, \"min_attendance\": 80},\n"
        "      \"school\": {\"appealable\": true},\n"
        "      \"part_time\": {\"appealable\": true}\n"
        "    },\n"
        "    \"degrees\": {\n"
        "      \"bachelor\": {\"total\": 140, \"major\": 60, "
        "\"general\": 30},\n"
        "      \"associate\": {\"total\": 80, \"major\": 45, \"general\": 15}\n"
        "    },\n"
        "    \"seal_interval_ms\": 20\n"
        "  }\n"
        "}\n",
        vk[K_BANK_NODE], vk[K_BANK], vk[K_UNI_NODE], vk[K_UNI],
        vk[K_PROV_NODE], vk[K_PROV]);
    int rv = write_text(d, "genesis.json", spec);
    if (rv != 0)
        return rv;
    json_error_t jerr;
    json_t *j = json_loads(spec, 0, &jerr);
    if (j == NULL)
        return cli_fail("demo genesis", CB_EJSON, "%s", jerr.text);
    struct lg_w body, signd, next;
    lg_w_init(&body);
    lg_w_init(&signd);
    lg_w_init(&next);
    struct cb_err err = {0, ""};
    if ((rv = cli_genesis_body("demo genesis", j, d->k[K_BANK].pk, &body)) !=
        0)
        goto out;
    struct cli_entry e = {
        .type = LG_T_GENESIS,
        .author = &d->k[K_BANK],
        .ts = next_ts(d),
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    if ((rv = cli_entry_make(&e, &signd, d->ledger, &err)) != 0) {
        rv = cli_fail_err("demo genesis", rv, &err);
        goto out;
    }
    /* every other founder key co-signs, as `credbank sign` does */
    static const int cosigners[] = {K_BANK_NODE, K_UNI, K_UNI_NODE, K_PROV,
                                    K_PROV_NODE};
    for (size_t i = 0; i < sizeof cosigners / sizeof cosigners[0]; i++) {
        lg_w_reset(&next);
        if ((rv = lg_signed_cosign(&next, lg_w_data(&signd), lg_w_len(&signd),
                                   &d->k[cosigners[i]], &err)) != 0) {
            rv = cli_fail_err("demo genesis", rv, &err);
            goto out;
        }
        /* (a struct lg_w cannot be copied: its packer points into it) */
        lg_w_reset(&signd);
        lg_w_raw(&signd, lg_w_data(&next), lg_w_len(&next));
    }
    printf("  %-3s %-17s %s\n", "", "ledger id", cli_hex32(d->ledger));
    struct lg_result r;
    rv = apply(d, "--", "genesis",
               "3 founders, quorums 2/2, signed by all 6 keys",
               lg_w_data(&signd), lg_w_len(&signd), 0, &r);
    if (rv != 0)
        goto out;
    char hex[66];
    cy_hex(hex, d->ledger, 32);
    strcat(hex, "\n");
    rv = write_text(d, "ledger-id", hex);
out:
    json_decref(j);
    lg_w_release(&body);
    lg_w_release(&signd);
    lg_w_release(&next);
    return rv;
}

/* ---------------- the learner's walk ---------------- */

struct walk {
    uint8_t acct[32];
    uint64_t open_index;
    uint8_t dep[9][32];   /* deposits */
    uint8_t rec[9][32];   /* recognitions of dep[i] */
    uint8_t appeal[32];
};

#define REF1(x) ((const uint8_t(*)[32])(x))

static int deposit(struct demo *d, struct walk *w, int i, int who,
                   const char *what, const char *source, const char *course,
                   const char *title, const char *credits, const char *grade,
                   const char *attendance, const char *term,
                   const char *compatible)
{
    char ev[65], doc[256];
    snprintf(doc, sizeof doc, "certificate %s %s", course, title);
    digest_of(doc, ev);
    if (attendance != NULL)
        return step(d, "--", what, LG_T_OUTCOME_DEPOSIT, who, w->acct, NULL,
                    0, false, 0, w->dep[i], "source", source, "course",
                    course, "title", title, "credits", credits, "grade",
                    grade, "attendance", attendance, "term", term,
                    "evidence", ev, "compatible", compatible, NULL);
    return step(d, "--", what, LG_T_OUTCOME_DEPOSIT, who, w->acct, NULL, 0,
                false, 0, w->dep[i], "source", source, "course", course,
                "title", title, "credits", credits, "grade", grade, "term",
                term, "evidence", ev, "compatible", compatible, NULL);
}

static int recognize(struct demo *d, struct walk *w, int i, int who,
                     const char *what, const char *credits, const char *cls,
                     const char *term, int expect)
{
    return step(d, "A2", what, LG_T_CREDIT_RECOGNIZE, who, w->acct,
                REF1(w->dep[i]), 1, false, expect, w->rec[i], "credits",
                credits, "class", cls, "term", term, NULL);
}

static int walk(struct demo *d, struct walk *w)
{
    int rv;
    /* A1: registration; personal data stays with the registrar, the
     * ledger gets only the commitment */
    uint8_t salt[32], pii[32];
    cy_random(salt, sizeof salt);
    json_t *data = json_pack("{s:s,s:s}", "name", "Kim Min-ji", "birth_date",
                             "2001-03-14");
    struct cb_err err = {0, ""};
    rv = cli_pii_commit(data, salt, pii, &err);
    json_decref(data);
    cy_wipe(salt, sizeof salt);
    if (rv != 0)
        return cli_fail_err("demo pii", rv, &err);
    char piihex[65], ev[65], lk[65];
    cy_hex(piihex, pii, 32);
    cy_hex(lk, d->k[K_LEARNER].pk, 32);
    digest_of("high school diploma of the learner", ev);
    if ((rv = step(d, "A1", "register: bachelor / computer science",
                   LG_T_ACCOUNT_OPEN, K_BANK, NULL, NULL, 0, true, 0, w->acct,
                   "learner-key", lk, "degree", "bachelor", "major",
                   "computer science", "education-level", "high_school",
                   "education-evidence", ev, "pii", piihex, "fee-exempt",
                   "false", NULL)) != 0)
        return rv;
    struct lg_status st;
    lg_status(d->l, &st);
    w->open_index = st.size - 1;

    /* deposits: outcomes saved in their original state */
    if ((rv = deposit(d, w, 0, K_PROV, "K-MOOC AI101, 3 cr, grade 88, att 92",
                      "mooc", "KMOOC-AI101",
                      "Introduction to Artificial Intelligence", "3", "88",
                      "92", "2024Q1", "true")) != 0 ||
        (rv = deposit(d, w, 1, K_PROV, "K-MOOC DS110, 3 cr, grade 91, att 79",
                      "mooc", "KMOOC-DS110", "Data Science Basics", "3", "91",
                      "79", "2024Q1", "false")) != 0 ||
        (rv = deposit(d, w, 2, K_PROV, "school: college year 1 major, 30 cr",
                      "school", "SC-2023-MAJ",
                      "Seoul College year 1, major courses", "30", "84", NULL,
                      "2023Q4", "false")) != 0 ||
        (rv = deposit(d, w, 3, K_PROV, "school: college year 1 general, 21 cr",
                      "school", "SC-2023-GEN",
                      "Seoul College year 1, general courses", "21", "86",
                      NULL, "2023Q4", "false")) != 0 ||
        (rv = deposit(d, w, 4, K_PROV, "qualification: Engineer Info Proc.",
                      "qualification", "QN-EIP",
                      "Engineer Information Processing", "20", "75", NULL,
                      "2024Q1", "false")) != 0 ||
        (rv = deposit(d, w, 5, K_PROV, "school: Data Structures, 3 cr",
                      "school", "SC-2024-DS", "Data Structures", "3", "78",
                      NULL, "2024Q1", "false")) != 0 ||
        (rv = deposit(d, w, 6, K_PROV, "school: Principles of Marketing, 3 cr",
                      "school", "SC-2024-MKT", "Principles of Marketing", "3",
                      "80", NULL, "2024Q1", "false")) != 0 ||
        (rv = deposit(d, w, 7, K_PROV, "part-time: Evening Python, 3 cr",
                      "part_time", "PT-2024-PY", "Evening Python Programming",
                      "3", "90", "95", "2024Q1", "false")) != 0 ||
        (rv = deposit(d, w, 8, K_UNI, "university MOOC: Machine Learning, 6 cr",
                      "mooc", "UNI-MOOC-ML", "Machine Learning", "6", "82",
                      "88", "2024Q2", "false")) != 0)
        return rv;

    /* A2: recognitions */
    if ((rv = recognize(d, w, 0, K_BANK, "K-MOOC AI101: 3 general", "3",
                        "general", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 1, K_BANK, "K-MOOC DS110 (attendance 79 < 80)",
                        "3", "general", "2024Q1", CB_ETHRESHOLD)) != 0 ||
        (rv = recognize(d, w, 2, K_BANK, "college year 1: 30 major", "30",
                        "major", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 3, K_BANK, "college year 1: 21 general", "21",
                        "general", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 4, K_BANK, "qualification: 20 major", "20",
                        "major", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 5, K_BANK, "Data Structures: 2 of 3 major",
                        "2", "major", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 6, K_BANK, "Marketing: 3 elective", "3",
                        "elective", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 7, K_BANK, "Evening Python: 3 major", "3",
                        "major", "2024Q1", 0)) != 0 ||
        (rv = recognize(d, w, 8, K_UNI, "university MOOC: 6 general", "6",
                        "general", "2024Q2", 0)) != 0)
        return rv;
    if ((rv = seal(d, K_BANK_NODE)) != 0 || (rv = cosign(d, K_BANK_NODE)) ||
        (rv = cosign(d, K_UNI_NODE)) != 0)
        return rv;

    /* A3: programme change; dropping the university MOOC is refused by
     * the university's policy, dropping Marketing cancels it */
    if ((rv = step(d, "A3", "to associate, drop the university MOOC",
                   LG_T_PROGRAM_CHANGE, K_BANK, w->acct, REF1(w->rec[8]), 1,
                   true, CB_EREVOCABLE, NULL, "degree", "associate", "major",
                   "computer science", NULL)) != 0 ||
        (rv = step(d, "A3", "to associate / computer science, drop Marketing",
                   LG_T_PROGRAM_CHANGE, K_BANK, w->acct, REF1(w->rec[6]), 1,
                   true, 0, NULL, "degree", "associate", "major",
                   "computer science", NULL)) != 0)
        return rv;
    /* A5: appeal in a later term, upheld: all 3 credits */
    if ((rv = step(d, "A5", "appeal Data Structures (2024Q2)",
                   LG_T_APPEAL_FILE, K_BANK, w->acct, REF1(w->rec[5]), 1,
                   true, 0, w->appeal, "reason",
                   "lab work was not counted: 3 credits expected", "term",
                   "2024Q2", NULL)) != 0 ||
        (rv = step(d, "A5", "appeal upheld: 3 major", LG_T_APPEAL_DECIDE,
                   K_BANK, w->acct, REF1(w->appeal), 1, false, 0, NULL,
                   "outcome", "upheld", "credits", "3", "class", "major",
                   NULL)) != 0)
        return rv;
    /* A6: a recognition found invalid on investigation */
    if ((rv = step(d, "A6", "cancel Evening Python (investigation)",
                   LG_T_CREDIT_CANCEL, K_BANK, w->acct, REF1(w->rec[7]), 1,
                   false, 0, NULL, "reason", "investigation", NULL)) != 0)
        return rv;
    /* A7: a compatible course moves from general to major */
    if ((rv = step(d, "A7", "K-MOOC AI101: general -> major",
                   LG_T_CLASS_CHANGE, K_BANK, w->acct, REF1(w->rec[0]), 1,
                   true, 0, NULL, "class", "major", NULL)) != 0)
        return rv;
    /* the degree: active 56 major + 27 general = 83 >= 80/45/15 */
    if ((rv = step(d, "--", "associate in computer science (83 credits)",
                   LG_T_DEGREE_AWARD, K_BANK, w->acct, NULL, 0, false, 0,
                   NULL, "degree", "associate", "major", "computer science",
                   NULL)) != 0)
        return rv;
    /* A4: linkage to a bachelor programme, 83 credits (80 free) */
    uint8_t linked[6][32];
    static const int li[6] = {0, 2, 3, 4, 5, 8};
    for (int i = 0; i < 6; i++)
        memcpy(linked[i], w->rec[li[i]], 32);
    if ((rv = step(d, "A4", "link 83 credits to bachelor / computer sci.",
                   LG_T_DEGREE_LINK, K_BANK, w->acct,
                   (const uint8_t(*)[32])linked, 6, true, 0, NULL, "degree",
                   "bachelor", "major", "computer science", NULL)) != 0)
        return rv;
    if ((rv = seal(d, K_BANK_NODE)) != 0 || (rv = cosign(d, K_UNI_NODE)) ||
        (rv = cosign(d, K_BANK_NODE)) != 0)
        return rv;
    return 0;
}

/* ---------------- proofs and files ---------------- */

static int prove(struct demo *d, const struct walk *w)
{
    struct lg_status st;
    struct cb_err err = {0, ""};
    char *note = NULL;
    uint8_t *leaf = NULL;
    size_t len = 0;
    int rv = lg_status(d->l, &st);
    if (rv != 0 || !st.has_final)
        return cli_fail("demo", rv ? rv : CB_ENOTFOUND,
                        "no final checkpoint");
    if ((rv = lg_checkpoint_note(d->l, st.final_seal, &note, &err)) != 0)
        return cli_fail_err("demo checkpoint", rv, &err);
    /* vkeys: each member's node key, named by the member */
    char vkeys[3 * (CY_VKEY_MAX + 1) + 1] = "";
    static const int nodes[3] = {K_BANK_NODE, K_UNI_NODE, K_PROV_NODE};
    static const char *const members[3] = {"bank", "university", "provider"};
    for (int i = 0; i < 3; i++) {
        char vk[CY_VKEY_MAX];
        cli_vkey(vk, members[i], d->k[nodes[i]].pk);
        strcat(vkeys, vk);
        strcat(vkeys, "\n");
    }
    if ((rv = write_text(d, "vkeys", vkeys)) != 0 ||
        (rv = write_text(d, "checkpoint.note", note)) != 0)
        goto out;

    printf("\nfinal checkpoint (%s/checkpoint.note):\n", d->dir);
    for (const char *p = note; *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  | %.*s\n", n, p);
        p = nl ? nl + 1 : p + n;
    }
    size_t nvalid = 0;
    uint64_t size = 0;
    uint8_t root[32], lroot[32];
    char names[256];
    rv = cli_note_verify(note, vkeys, &nvalid, names, sizeof names, &size,
                         root, &err);
    if (rv != 0) {
        rv = cli_fail_err("demo checkpoint", rv, &err);
        goto out;
    }
    if (nvalid < st.cosign_quorum) {
        rv = cli_fail("demo checkpoint", CB_EQUORUM,
                      "only %zu signatures verify", nvalid);
        goto out;
    }
    printf("  signatures by %s verify with %s/vkeys (quorum %llu)\n", names,
           d->dir, (unsigned long long)st.cosign_quorum);
    if ((rv = cli_log_root(d->l, size, lroot, &err)) != 0) {
        rv = cli_fail_err("demo log root", rv, &err);
        goto out;
    }
    if (memcmp(root, lroot, 32) != 0) {
        rv = cli_fail("demo", CB_EINTERNAL,
                      "the note's root differs from the log's");
        goto out;
    }

    /* inclusion of the learner's registration in the checkpoint's tree */
    uint8_t proof[CY_PROOF_MAX][32], lh[32];
    size_t n = 0;
    if ((rv = cli_log_get(d->l, w->open_index, &leaf, &len, &err)) != 0 ||
        (rv = cli_log_prove(d->l, w->open_index, size, proof, &n, &err)) !=
            0) {
        rv = cli_fail_err("demo proof", rv, &err);
        goto out;
    }
    cy_leaf_hash(lh, leaf, len);
    printf("\ninclusion proof of the learner's account.open (@%llu) in the "
           "checkpoint's tree of %llu entries:\n",
           (unsigned long long)w->open_index, (unsigned long long)size);
    printf("  leaf hash  %s\n", cli_hex32(lh));
    printf("  root       %s (from the note)\n", cli_hex32(root));
    for (size_t i = 0; i < n; i++)
        printf("  %-10s %s\n", i == 0 ? "proof" : "", cli_hex32(proof[i]));
    rv = cy_inclusion_verify(lh, w->open_index, size, (const cy_hash *)proof,
                             n, root);
    if (rv != 0) {
        rv = cli_fail("demo proof", rv, "the inclusion proof does not verify");
        goto out;
    }
    printf("  cy_inclusion_verify: ok -- offline: credbank log verify-proof "
           "--leaf %s/entries/%03llu-account.open.cbe --index %llu --size "
           "%llu --root %s PROOF...\n",
           d->dir, (unsigned long long)w->open_index,
           (unsigned long long)w->open_index, (unsigned long long)size,
           cli_hex32(root));
    rv = 0;
out:
    free(leaf);
    free(note);
    return rv;
}

static int dump_entries(struct demo *d)
{
    struct lg_status st;
    struct cb_err err = {0, ""};
    int rv = lg_status(d->l, &st);
    if (rv != 0)
        return cli_fail("demo", rv, "cannot read the ledger head");
    for (uint64_t i = 0; i < st.size; i++) {
        uint8_t *leaf;
        size_t len;
        if ((rv = cli_log_get(d->l, i, &leaf, &len, &err)) != 0)
            return cli_fail_err("demo entries", rv, &err);
        struct lg_signed s;
        lg_signed_init(&s);
        rv = lg_signed_decode(&s, leaf, len, &err);
        char path[4096];
        if (rv == 0) {
            snprintf(path, sizeof path, "%s/entries/%03llu-%s.cbe", d->dir,
                     (unsigned long long)i, lg_type_name(s.e.type));
            rv = cli_write_atomic(path, leaf, len, 0644, &err);
        }
        lg_signed_release(&s);
        free(leaf);
        if (rv != 0)
            return cli_fail_err("demo entries", rv, &err);
    }
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    int npos, rv;
    struct cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out},
        {"-o", CLI_OPT_STR, &out},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("demo", USAGE, argc, argv, opts, pos, 0, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (out == NULL)
        out = "demo-out";
    if (strlen(out) == 0 || strlen(out) > 1024)
        return cli_usage("demo", USAGE, "--out: a directory name, please");

    struct demo *d = calloc(1, sizeof *d);
    struct walk *w = calloc(1, sizeof *w);
    if (d == NULL || w == NULL) {
        free(d);
        free(w);
        return cli_fail("demo", CB_ENOMEM, "out of memory");
    }
    snprintf(d->dir, sizeof d->dir, "%s", out);
    uint64_t t0 = cli_now_ms();
    printf("credbank demo: one learner through A1-A7 in a local ledger "
           "(single process; the three-node version comes with credbankd)\n"
           "output: %s/\n\n",
           d->dir);
    if ((rv = prepare_dir(d->dir)) != 0 || (rv = make_keys(d)) != 0)
        goto out;
    char ldir[4096];
    snprintf(ldir, sizeof ldir, "%s/ledger", d->dir);
    if ((rv = cli_ledger_open(ldir, true, &d->l)) != 0)
        goto out;

    printf("consortium: bank (registrar, recognizer), university "
           "(recognizer, provider), provider (provider)\n");
    printf("  %-3s %-17s %s\n", "", "keys",
           "a node and an issuer key each, and the learner's: keys/");
    if ((rv = found(d)) != 0)
        goto out;
    if ((rv = step(d, "--", "university: MOOC cap 12, not revocable",
                   LG_T_POLICY_SET, K_UNI, NULL, NULL, 0, false, 0, NULL,
                   "scope", "university", "policy",
                   "{\"sources\": {\"mooc\": {\"max_credits\": 12, "
                   "\"learner_revocable\": false}}}",
                   NULL)) != 0)
        goto out;

    printf("\nthe learner (fees in KRW; @N is the log index):\n");
    if ((rv = walk(d, w)) != 0)
        goto out;

    printf("\naccount %s (credbank account show):\n", cli_hex32(w->acct));
    if ((rv = cli_account_print(d->l, w->acct, false)) != 0)
        goto out;
    if ((rv = prove(d, w)) != 0 || (rv = dump_entries(d)) != 0)
        goto out;

    struct lg_status st;
    lg_status(d->l, &st);
    printf("\n%llu entries, fees %llu KRW, %.2f s. Files in %s/: ledger-id, "
           "vkeys, checkpoint.note, genesis.json, keys/, ledger/, "
           "entries/\n",
           (unsigned long long)st.size, (unsigned long long)d->fees,
           (double)(cli_now_ms() - t0) / 1000.0, d->dir);
    printf("try: build-release/credbank account show %s --dir %s/ledger\n",
           cli_hex32(w->acct), d->dir);
    rv = CLI_OK;
out:
    if (d->l != NULL)
        lg_ledger_close(d->l);
    for (int i = 0; i < K__COUNT; i++)
        cy_key_wipe(&d->k[i]);
    free(d);
    free(w);
    return rv;
}
