/*
 * credbank demo [--out DIR] [--credbankd PATH] [--local]
 *
 * The three-node walk-through of DESIGN 6. It makes the demo consortium of
 * DESIGN 4.1 -- "bank" (registrar, recognizer), "university" (recognizer,
 * provider; its own policy caps MOOC credits at 12 and makes them not
 * learner-revocable) and "provider" (provider) -- with a node key and an
 * issuer key each, writes the genesis entry co-signed by every founder key
 * (DIR/genesis.cbe), and starts one credbankd per member on free 127.0.0.1
 * ports (data in DIR/nodeN, logs in DIR/nodeN.log; the credbankd next to
 * this binary, or --credbankd). Once a leader is ready it walks one learner
 * through the applications A1-A7 -- registration, deposits, recognitions
 * (one refused by the K-MOOC attendance threshold), a programme change (one
 * refused, one dropping a course), an appeal upheld, a cancellation after
 * investigation, a class change, an associate degree and its linkage to a
 * bachelor programme -- building and signing each entry here and POSTing it
 * to the cluster (remote.c follows not_leader answers to the leader); each
 * answer comes once the entry is in a final checkpoint, cosigned by two
 * members' nodes. It then reads the account view and the checkpoint note
 * from a node, verifies the note against the node keys, stops the nodes
 * (SIGTERM, waited for), exports the learner's bundle from one node's
 * ledger (lg_bundle_export) and verifies it offline against the ledger id
 * alone (lg_bundle_verify).
 *
 * --local keeps the earlier single-process walk-through over a local ledger
 * (DIR/ledger), where two members' seals and cosigns are made in-process
 * (credbank seal / cosign); tests/integration uses its entries.
 *
 * Nodes are stopped on every path: errors, SIGINT/SIGTERM (a handler sends
 * them SIGTERM and waits), and, should this process die anyway, the kernel
 * sends them SIGTERM (PR_SET_PDEATHSIG).
 *
 * DIR gets ledger-id, vkeys, checkpoint.note, genesis.json, genesis.cbe,
 * keys/, entries/ (every log entry as NNN-type.cbe; refused ones as
 * refused-N-type.cbe), and in the three-node demo learner.cbx, node1..3/
 * and node1..3.log (--local: ledger/). A non-empty DIR is refused unless an
 * earlier demo made it (it holds .credbank-demo); then it is cleared first.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "http.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <credbank/bundle.h>
#include <credbank/merkle.h>

#define USAGE "demo [--out DIR] [--credbankd PATH] [--local]"
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

#define NODES 3

struct demo {
    char dir[2048];
    bool local;                  /* --local: one process, d->l */
    struct lg_ledger *l;         /* the local ledger (--local) */
    uint8_t ledger[32];
    struct cy_key k[K__COUNT];
    uint64_t last_ts;
    uint64_t fees;
    uint64_t last_index;         /* log index of the last accepted entry */
    uint64_t last_final;         /* and its final checkpoint's size */
    /* the three-node cluster */
    char credbankd[PATH_MAX];
    int raft_port[NODES], api_port[NODES];
    struct cli_url api[NODES];   /* each node's API base URL */
    struct cli_url target;       /* where the next entry goes (the leader) */
    unsigned refused;            /* refused entries written so far */
    unsigned submitted;          /* entries POSTed */
};

/* Node processes, for the signal handler too. */
static volatile pid_t node_pid[NODES];

/* Member of node i (0-based) and its node key. */
static const int node_key[NODES] = {K_BANK_NODE, K_UNI_NODE, K_PROV_NODE};
static const char *const node_member[NODES] = {"bank", "university",
                                               "provider"};

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

/* Checks an outcome against the expected one. */
static int expected(const char *code, const char *type, int got,
                    const char *gotname, const char *msg, int expect)
{
    if (expect == 0 && got != 0) {
        fprintf(stderr, "credbank: demo: step %s %s was refused: %s (%s)\n",
                code, type, msg, gotname);
        return CLI_FAIL;
    }
    if (expect != 0 && (got == 0 || strcmp(gotname, cb_errname(expect)) != 0))
        return cli_fail("demo", CB_EINTERNAL,
                        "step %s %s should have been refused with %s",
                        code, type, cb_errname(expect));
    return 0;
}

/* Applies one signed entry to the local ledger; checks the outcome is the
 * expected one and prints it. */
static int apply_local(struct demo *d, const char *code, const char *type,
                       const char *what, const uint8_t *p, size_t len,
                       int expect, struct lg_result *r)
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
        d->last_index = r->index;
    } else {
        printf("REFUSED: %s\n        %s\n", cb_errname(r->code),
               r->msg[0] ? r->msg : cb_strerror(r->code));
    }
    fflush(stdout);
    return expected(code, type, r->code, cb_errname(r->code), r->msg,
                    expect);
}

/* Submits one signed entry to the cluster (following the leader); checks
 * the answer is the expected one and prints it. A refused entry is kept as
 * entries/refused-N-type.cbe. */
static int apply_node(struct demo *d, const char *code, const char *type,
                      const char *what, const uint8_t *p, size_t len,
                      int expect, struct lg_result *r)
{
    struct cli_submit_res res;
    struct cb_err err = {0, ""};
    char before[sizeof d->target.base];
    snprintf(before, sizeof before, "%s", d->target.base);
    memset(r, 0, sizeof *r);
    d->submitted++;
    int rv = cli_node_submit(&d->target, p, len, false, 15000, &res, &err);
    if (rv != 0)
        return cli_fail_err("demo submit", rv, &err);
    if (strcmp(before, d->target.base) != 0)
        printf("  %-3s %-17s %s answered not_leader: now submitting to the "
               "leader %s\n",
               "", "", before, d->target.base);
    line(code, type, what);
    int got = 0;
    if (res.ok) {
        printf("@%-3llu final %llu\n", (unsigned long long)res.index,
               (unsigned long long)res.final);
        d->last_index = r->index = res.index;
        d->last_final = res.final;
        if (cli_parse_hex(res.id, r->id, 32, &err) != 0)
            return cli_fail("demo", CB_EIO, "the node answered a bad id");
    } else {
        printf("REFUSED: %s (HTTP %d)\n        %s\n", res.error, res.http,
               res.message);
        got = CB_EINTERNAL;
        char path[4096];
        snprintf(path, sizeof path, "%s/entries/refused-%u-%s.cbe", d->dir,
                 ++d->refused, type);
        if (cli_write_atomic(path, p, len, 0644, &err) != 0)
            return cli_fail_err(path, err.code, &err);
    }
    fflush(stdout);
    r->code = got;
    rv = expected(code, type, got, res.ok ? "" : res.error, res.message,
                  expect);
    if (rv == 0 && got != 0)
        r->code = expect;
    return rv;
}

static int apply(struct demo *d, const char *code, const char *type,
                 const char *what, const uint8_t *p, size_t len, int expect,
                 struct lg_result *r)
{
    return d->local ? apply_local(d, code, type, what, p, len, expect, r)
                    : apply_node(d, code, type, what, p, len, expect, r);
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
    char gpath[4096];
    snprintf(gpath, sizeof gpath, "%s/genesis.cbe", d->dir);
    if ((rv = cli_write_atomic(gpath, lg_w_data(&signd), lg_w_len(&signd),
                               0644, &err)) != 0) {
        rv = cli_fail_err(gpath, rv, &err);
        goto out;
    }
    if (d->local) {
        struct lg_result r;
        rv = apply(d, "--", "genesis",
                   "3 founders, quorums 2/2, signed by all 6 keys",
                   lg_w_data(&signd), lg_w_len(&signd), 0, &r);
        if (rv != 0)
            goto out;
    } else {
        printf("  %-3s %-17s %-48s %s/genesis.cbe\n", "--", "genesis",
               "3 founders, quorums 2/2, signed by all 6 keys", d->dir);
    }
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
    w->open_index = d->last_index;

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
    if (d->local &&
        ((rv = seal(d, K_BANK_NODE)) != 0 || (rv = cosign(d, K_BANK_NODE)) ||
         (rv = cosign(d, K_UNI_NODE)) != 0))
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
    if (d->local &&
        ((rv = seal(d, K_BANK_NODE)) != 0 || (rv = cosign(d, K_UNI_NODE)) ||
         (rv = cosign(d, K_BANK_NODE)) != 0))
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

/* ---------------- the three-node cluster ---------------- */

/* SIGINT/SIGTERM while nodes run: stop them, wait, exit 130. Only
 * async-signal-safe calls. */
static void on_signal(int sig)
{
    static const char msg[] = "\ncredbank: demo: interrupted; stopping the "
                              "nodes\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    /* a node that does not stop within 10 s: SIGALRM ends the demo, and
     * PR_SET_PDEATHSIG sends the nodes SIGTERM once more */
    signal(SIGALRM, SIG_DFL);
    alarm(10);
    for (int i = 0; i < NODES; i++)
        if (node_pid[i] > 0)
            kill(node_pid[i], SIGTERM);
    for (int i = 0; i < NODES; i++)
        if (node_pid[i] > 0)
            waitpid(node_pid[i], NULL, 0);
    _exit(128 + sig);
}

/* Stops the running nodes: SIGTERM, then up to 10 s for each to exit (then
 * SIGKILL). Returns how many did not exit 0. */
static int stop_nodes(bool quiet)
{
    int bad = 0;
    for (int i = 0; i < NODES; i++)
        if (node_pid[i] > 0)
            kill(node_pid[i], SIGTERM);
    for (int i = 0; i < NODES; i++) {
        pid_t pid = node_pid[i];
        if (pid <= 0)
            continue;
        int status = 0;
        bool done = false;
        for (int t = 0; t < 1000 && !done; t++) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid || (r < 0 && errno == ECHILD))
                done = true;
            else
                usleep(10000);
        }
        if (!done) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (!quiet)
                fprintf(stderr, "credbank: demo: node %d did not stop in 10 "
                        "s; killed\n", i + 1);
            bad++;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
        }
        node_pid[i] = 0;
    }
    return bad;
}

/* credbankd next to this program, unless given. */
static int find_credbankd(struct demo *d, const char *given)
{
    if (given != NULL) {
        if (access(given, X_OK) != 0)
            return cli_fail(given, CB_ENOTFOUND, "not an executable: %s",
                            strerror(errno));
        snprintf(d->credbankd, sizeof d->credbankd, "%s", given);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return cli_fail("demo", CB_ENOTFOUND, "cannot find this program's "
                        "directory; give --credbankd PATH");
    self[n] = '\0';
    snprintf(d->credbankd, sizeof d->credbankd, "%s/credbankd",
             dirname(self));
    if (access(d->credbankd, X_OK) != 0)
        return cli_fail("demo", CB_ENOTFOUND,
                        "no credbankd next to credbank (%s): build it "
                        "(cmake --build BUILD --target credbankd) or give "
                        "--credbankd PATH; --local runs the single-process "
                        "demo",
                        d->credbankd);
    return 0;
}

/* 2 x NODES distinct free ports on 127.0.0.1 (bound together, then
 * released: another program could take one meanwhile, which a node then
 * reports in its log). */
static int pick_ports(struct demo *d)
{
    int fds[2 * NODES], rv = 0;
    for (int i = 0; i < 2 * NODES; i++)
        fds[i] = -1;
    for (int i = 0; i < 2 * NODES && rv == 0; i++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &al) != 0) {
            rv = cli_fail("demo", CB_EIO, "cannot find a free port on "
                          "127.0.0.1: %s", strerror(errno));
            break;
        }
        int port = ntohs(a.sin_port);
        if (i < NODES)
            d->raft_port[i] = port;
        else
            d->api_port[i - NODES] = port;
    }
    for (int i = 0; i < 2 * NODES; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    /* the nodes run --tls: the CLI pins their three node keys */
    char pins[NODES * (2 * CY_PK_LEN + 1) + 1] = "";
    for (int i = 0; i < NODES; i++) {
        char hex[2 * CY_PK_LEN + 1];
        cy_hex(hex, d->k[node_key[i]].pk, CY_PK_LEN);
        strcat(pins, hex);
        strcat(pins, i + 1 < NODES ? "," : "");
    }
    struct cb_err perr = {0, ""};
    if (rv == 0 && cli_http_pin(pins, &perr) != 0)
        rv = cli_fail_err("demo", perr.code, &perr);
    for (int i = 0; i < NODES && rv == 0; i++) {
        char url[64];
        struct cb_err err = {0, ""};
        snprintf(url, sizeof url, "https://127.0.0.1:%d", d->api_port[i]);
        if (cli_url_parse(url, &d->api[i], &err) != 0)
            rv = cli_fail_err("demo", err.code, &err);
    }
    return rv;
}

static int start_node(struct demo *d, int i)
{
    char dir[4096], key[4096], gen[4096], logp[4096], id[16], raft[32],
        apia[32], peer[NODES][160];
    snprintf(dir, sizeof dir, "%s/node%d", d->dir, i + 1);
    snprintf(key, sizeof key, "%s/keys/%s", d->dir,
             keyinfo[node_key[i]].file);
    snprintf(gen, sizeof gen, "%s/genesis.cbe", d->dir);
    snprintf(logp, sizeof logp, "%s/node%d.log", d->dir, i + 1);
    snprintf(id, sizeof id, "%d", i + 1);
    snprintf(raft, sizeof raft, "127.0.0.1:%d", d->raft_port[i]);
    snprintf(apia, sizeof apia, "127.0.0.1:%d", d->api_port[i]);
    for (int j = 0; j < NODES; j++)
        snprintf(peer[j], sizeof peer[j], "%d,127.0.0.1:%d,https://127.0.0.1:%d",
                 j + 1, d->raft_port[j], d->api_port[j]);
    char *args[32];
    int n = 0;
    args[n++] = d->credbankd;
    args[n++] = "--dir";
    args[n++] = dir;
    args[n++] = "--key";
    args[n++] = key;
    args[n++] = "--name";
    args[n++] = (char *)node_member[i];
    args[n++] = "--genesis";
    args[n++] = gen;
    args[n++] = "--id";
    args[n++] = id;
    args[n++] = "--raft";
    args[n++] = raft;
    args[n++] = "--api";
    args[n++] = apia;
    args[n++] = "--tls"; /* every link TLS 1.3, keys pinned */
    for (int j = 0; j < NODES; j++) {
        args[n++] = "--peer";
        args[n++] = peer[j];
    }
    args[n] = NULL;
    int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0)
        return cli_fail(logp, CB_EIO, "cannot create: %s", strerror(errno));
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        return cli_fail("demo", CB_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* the node stops when the demo dies, whatever kills it */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        execv(d->credbankd, args);
        dprintf(logfd, "credbank demo: cannot run %s: %s\n", d->credbankd,
                strerror(errno));
        _exit(127);
    }
    close(logfd);
    node_pid[i] = pid;
    return 0;
}

/* Polls the nodes' /v1/status until one is a leader ready for writes (at
 * most 20 s) and returns its number (0-based), or -CLI_FAIL after
 * printing why: a node that exits meanwhile fails the demo, naming its
 * log. */
static int wait_leader(struct demo *d)
{
    for (int t = 0; t < 400; t++) {
        for (int i = 0; i < NODES; i++) {
            int status;
            if (node_pid[i] > 0 &&
                waitpid(node_pid[i], &status, WNOHANG) == node_pid[i]) {
                node_pid[i] = 0;
                return -cli_fail("demo", CB_EUNAVAILABLE,
                                 "node %d (%s) exited at start; see "
                                 "%s/node%d.log",
                                 i + 1, node_member[i], d->dir, i + 1);
            }
            struct cli_http_req q = {.method = "GET", .path = "/v1/status",
                                     .timeout_ms = 1000};
            struct cli_http_resp r;
            struct cb_err err = {0, ""};
            if (cli_http(&d->api[i], &q, &r, &err) == 0 && r.status == 200) {
                json_t *j = json_loadb(r.body, r.len, 0, NULL);
                const char *role = json_string_value(json_object_get(j,
                                                                     "role"));
                bool leads = role != NULL && strcmp(role, "leader") == 0 &&
                             json_is_true(json_object_get(j, "ready"));
                json_decref(j);
                if (leads) {
                    cli_http_resp_release(&r);
                    return i;
                }
            }
            cli_http_resp_release(&r);
        }
        usleep(50000);
    }
    return -cli_fail("demo", CB_ETIMEOUT, "no leader ready after 20 s; see "
                     "%s/node1.log ... node%d.log", d->dir, NODES);
}

/* Waits (at most 5 s) until the three nodes report the same log size and
 * root; prints them. */
static int wait_converged(struct demo *d, int *agree)
{
    char sr[NODES][128];
    for (int t = 0; t < 100; t++) {
        int same = 0;
        for (int i = 0; i < NODES; i++) {
            json_t *j = NULL;
            sr[i][0] = '\0';
            struct cli_http_req q = {.method = "GET", .path = "/v1/status",
                                     .timeout_ms = 2000};
            struct cli_http_resp r;
            struct cb_err err = {0, ""};
            if (cli_http(&d->api[i], &q, &r, &err) == 0 && r.status == 200 &&
                (j = json_loadb(r.body, r.len, 0, NULL)) != NULL) {
                const char *root = json_string_value(json_object_get(j,
                                                                     "root"));
                snprintf(sr[i], sizeof sr[i], "%lld %s",
                         (long long)json_integer_value(json_object_get(j,
                                                                       "size")),
                         root ? root : "?");
            }
            json_decref(j);
            cli_http_resp_release(&r);
            if (sr[i][0] != '\0' && strcmp(sr[i], sr[0]) == 0)
                same++;
        }
        if (same == NODES) {
            *agree = NODES;
            char *sp = strchr(sr[0], ' ');
            *sp = '\0';
            printf("  the three nodes agree: %s entries, root %s\n", sr[0],
                   sp + 1);
            return 0;
        }
        usleep(50000);
    }
    *agree = 0;
    printf("  the nodes have not converged within 5 s (they may still "
           "catch up)\n");
    return 0;
}

/* The checkpoint note from a node, verified against the node keys;
 * checkpoint.note and vkeys written. */
static int fetch_checkpoint(struct demo *d, const struct cli_url *u)
{
    char *note = NULL;
    size_t len = 0;
    int rv = cli_node_get_raw("demo checkpoint", u, "/v1/checkpoint",
                              "text/plain", &note, &len);
    if (rv != 0)
        return rv;
    char vkeys[NODES * (CY_VKEY_MAX + 1) + 1] = "";
    for (int i = 0; i < NODES; i++) {
        char vk[CY_VKEY_MAX];
        cli_vkey(vk, node_member[i], d->k[node_key[i]].pk);
        strcat(vkeys, vk);
        strcat(vkeys, "\n");
    }
    if ((rv = write_text(d, "vkeys", vkeys)) != 0 ||
        (rv = write_text(d, "checkpoint.note", note)) != 0)
        goto out;
    printf("\nfinal checkpoint from %s (%s/checkpoint.note):\n", u->base,
           d->dir);
    for (const char *p = note; *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  | %.*s\n", n, p);
        p = nl ? nl + 1 : p + n;
    }
    size_t nvalid = 0;
    char names[256];
    struct cb_err err = {0, ""};
    if ((rv = cli_note_verify(note, vkeys, &nvalid, names, sizeof names,
                              NULL, NULL, &err)) != 0) {
        rv = cli_fail_err("demo checkpoint", rv, &err);
        goto out;
    }
    if (nvalid < 2) {
        rv = cli_fail("demo checkpoint", CB_EQUORUM,
                      "only %zu signatures verify", nvalid);
        goto out;
    }
    printf("  signatures by %s verify with %s/vkeys (cosign quorum 2)\n",
           names, d->dir);
out:
    free(note);
    return rv;
}

/* After the nodes stopped: the learner's bundle from node 1's ledger, and
 * every log entry into entries/. */
static int export_bundle(struct demo *d, const struct walk *w,
                         char *path, size_t cap)
{
    char ldir[4096];
    snprintf(ldir, sizeof ldir, "%s/node1/ledger", d->dir);
    int rv = cli_ledger_open(ldir, false, &d->l);
    if (rv != 0)
        return rv;
    struct lg_w out;
    struct cb_err err = {0, ""};
    lg_w_init(&out);
    if ((rv = lg_bundle_export(d->l, w->acct, NULL, &out, &err)) != 0) {
        rv = cli_fail_err("demo export", rv, &err);
        goto done;
    }
    snprintf(path, cap, "%s/learner.cbx", d->dir);
    if ((rv = cli_write_atomic(path, lg_w_data(&out), lg_w_len(&out), 0644,
                               &err)) != 0) {
        rv = cli_fail_err(path, rv, &err);
        goto done;
    }
    printf("\nbundle of the learner from node 1's ledger (%s/node1/ledger): "
           "%s, %zu bytes\n",
           d->dir, path, lg_w_len(&out));
    rv = dump_entries(d);
done:
    lg_w_release(&out);
    lg_ledger_close(d->l);
    d->l = NULL;
    return rv;
}

/* Verifies the bundle with nothing but the ledger id, as a verifier
 * would. */
static int verify_bundle(struct demo *d, const char *path,
                         long long node_total)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct cb_err err = {0, ""};
    int rv = cli_read_file(path, &buf, &len, LG_BUNDLE_MAX, &err);
    if (rv != 0)
        return cli_fail_err(path, rv, &err);
    struct lg_bundle_result res;
    rv = lg_bundle_verify(buf, len, d->ledger, NULL, &res);
    free(buf);
    if (rv != 0) {
        if (rv == CB_EBUNDLE)
            rv = cli_fail(path, rv, "invalid: %s: %s",
                          lg_bundle_reason_name(res.reason), res.msg);
        else
            rv = cli_fail(path, rv, "cannot verify: %s", res.msg);
        lg_bundle_result_release(&res);
        return rv;
    }
    char when[32];
    cli_format_ms(when, res.seal_ts);
    json_t *ac = json_object_get(res.summary, "active_credits");
    long long total = (long long)json_integer_value(json_object_get(ac,
                                                                    "total"));
    const char *status = json_string_value(json_object_get(res.summary,
                                                           "status"));
    char signers[1100] = "";
    for (const char *p = res.note_signers; *p; p++) {
        size_t n = strlen(signers);
        if (n + 3 >= sizeof signers)
            break;
        if (*p == ' ')
            strcat(signers, ", ");
        else
            signers[n] = *p, signers[n + 1] = '\0';
    }
    printf("offline verification against the ledger id alone "
           "(lg_bundle_verify):\n");
    printf("  valid: %llu account entries and %llu governance entries, each "
           "proven in the checkpoint of %llu entries signed by %s; %llu "
           "signatures checked\n",
           (unsigned long long)res.entries,
           (unsigned long long)res.governance,
           (unsigned long long)res.seal_index + 1, signers,
           (unsigned long long)res.signatures);
    printf("  replayed account: %s, %lld active credits%s\n",
           status ? status : "?", total,
           total == node_total ? " (as the node showed)" : "");
    printf("  complete as of %s (seal at index %llu)\n", when,
           (unsigned long long)res.seal_index);
    printf("  again by hand: credbank verify %s --ledger %s\n", path,
           cli_hex32(d->ledger));
    rv = 0;
    if (node_total >= 0 && total != node_total)
        rv = cli_fail("demo verify", CB_EINTERNAL,
                      "the bundle's replay shows %lld active credits, the "
                      "node %lld", total, node_total);
    lg_bundle_result_release(&res);
    return rv;
}

static int demo_cluster(struct demo *d, struct walk *w, const char *given)
{
    uint64_t t0 = cli_now_ms();
    int rv;
    printf("credbank demo: one learner through A1-A7 on a three-node "
           "consortium (credbankd on 127.0.0.1)\noutput: %s/\n\n",
           d->dir);
    if ((rv = find_credbankd(d, given)) != 0 ||
        (rv = prepare_dir(d->dir)) != 0 || (rv = make_keys(d)) != 0)
        return rv;
    printf("consortium: bank (registrar, recognizer), university "
           "(recognizer, provider), provider (provider)\n");
    printf("  %-3s %-17s %s\n", "", "keys",
           "a node and an issuer key each, and the learner's: keys/");
    if ((rv = found(d)) != 0 || (rv = pick_ports(d)) != 0)
        return rv;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    printf("\nnodes (%s):\n", d->credbankd);
    for (int i = 0; i < NODES; i++) {
        if ((rv = start_node(d, i)) != 0)
            goto stop;
        printf("  node %d  %-10s api %s  raft 127.0.0.1:%d  data %s/node%d "
               "log %s/node%d.log\n",
               i + 1, node_member[i], d->api[i].base, d->raft_port[i],
               d->dir, i + 1, d->dir, i + 1);
    }
    uint64_t t1 = cli_now_ms();
    int leader = wait_leader(d);
    if (leader < 0) {
        rv = -leader;
        goto stop;
    }
    printf("  leader: node %d (%s), ready after %llu ms\n", leader + 1,
           node_member[leader], (unsigned long long)(cli_now_ms() - t1));
    /* entries go to a follower first, as a client that knows one node
     * would send them: its not_leader answer names the leader */
    d->target = d->api[leader == 0 ? 1 : 0];
    printf("\neach entry is built and signed here, POSTed to %s (following "
           "the leader) and answered\nonce it is in a final checkpoint "
           "(@N log index, final: size of that checkpoint):\n",
           d->target.base);
    if ((rv = step(d, "--", "university: MOOC cap 12, not revocable",
                   LG_T_POLICY_SET, K_UNI, NULL, NULL, 0, false, 0, NULL,
                   "scope", "university", "policy",
                   "{\"sources\": {\"mooc\": {\"max_credits\": 12, "
                   "\"learner_revocable\": false}}}",
                   NULL)) != 0)
        goto stop;
    printf("\nthe learner:\n");
    if ((rv = walk(d, w)) != 0)
        goto stop;

    printf("\n");
    int agree = 0;
    wait_converged(d, &agree);
    /* read it back from a node that is not the leader, when they agree */
    int reader = 0;
    for (int i = 0; i < NODES; i++)
        if (agree && strcmp(d->api[i].base, d->target.base) != 0)
            reader = i;
    if (!agree)
        for (int i = 0; i < NODES; i++)
            if (strcmp(d->api[i].base, d->target.base) == 0)
                reader = i;
    printf("\naccount %s from node %d (%s), GET /v1/accounts/{id} signed "
           "with the learner's key (credbank account show ID --node %s "
           "--key keys/learner.key):\n",
           cli_hex32(w->acct), reader + 1, node_member[reader],
           d->api[reader].base);
    char apath[128];
    snprintf(apath, sizeof apath, "/v1/accounts/%s", cli_hex32(w->acct));
    json_t *view = NULL;
    /* reads of an account are signed (spec/security.md): the learner
     * reads its own */
    cli_http_sign_with(&d->k[K_LEARNER]);
    rv = cli_node_get_json("demo account", &d->api[reader], apath, &view);
    cli_http_sign_with(NULL);
    if (rv != 0)
        goto stop;
    cli_account_print_view(view);
    long long node_total = (long long)json_integer_value(json_object_get(
        json_object_get(view, "active_credits"), "total"));
    json_decref(view);
    if ((rv = fetch_checkpoint(d, &d->api[reader])) != 0)
        goto stop;
    cli_http_close();

    printf("\nstopping the nodes (SIGTERM) ...");
    fflush(stdout);
    int bad = stop_nodes(false);
    printf(" stopped%s\n", bad ? " (not all cleanly: see the logs)" : "");
    char cbx[4096];
    if ((rv = export_bundle(d, w, cbx, sizeof cbx)) != 0 ||
        (rv = verify_bundle(d, cbx, node_total)) != 0)
        return rv;
    printf("\n%u entries submitted, %u refused as expected (kept as "
           "entries/refused-*.cbe), %.2f s.\nFiles in %s/: ledger-id, "
           "genesis.cbe, genesis.json, vkeys, checkpoint.note, learner.cbx, "
           "keys/, entries/, node1..3/, node1..3.log\n",
           d->submitted, d->refused, (double)(cli_now_ms() - t0) / 1000.0,
           d->dir);
    printf("try: build-release/credbank verify %s --ledger %s\n", cbx,
           cli_hex32(d->ledger));
    return CLI_OK;
stop:
    cli_http_close();
    stop_nodes(true);
    return rv;
}

/* ---------------- the single-process walk-through ---------------- */

static int demo_local(struct demo *d, struct walk *w)
{
    uint64_t t0 = cli_now_ms();
    int rv;
    printf("credbank demo --local: one learner through A1-A7 in a local "
           "ledger (single process; seals and cosigns made in-process)\n"
           "output: %s/\n\n",
           d->dir);
    if ((rv = prepare_dir(d->dir)) != 0 || (rv = make_keys(d)) != 0)
        return rv;
    char ldir[4096];
    snprintf(ldir, sizeof ldir, "%s/ledger", d->dir);
    if ((rv = cli_ledger_open(ldir, true, &d->l)) != 0)
        return rv;

    printf("consortium: bank (registrar, recognizer), university "
           "(recognizer, provider), provider (provider)\n");
    printf("  %-3s %-17s %s\n", "", "keys",
           "a node and an issuer key each, and the learner's: keys/");
    if ((rv = found(d)) != 0)
        return rv;
    if ((rv = step(d, "--", "university: MOOC cap 12, not revocable",
                   LG_T_POLICY_SET, K_UNI, NULL, NULL, 0, false, 0, NULL,
                   "scope", "university", "policy",
                   "{\"sources\": {\"mooc\": {\"max_credits\": 12, "
                   "\"learner_revocable\": false}}}",
                   NULL)) != 0)
        return rv;

    printf("\nthe learner (fees in KRW; @N is the log index):\n");
    if ((rv = walk(d, w)) != 0)
        return rv;

    printf("\naccount %s (credbank account show):\n", cli_hex32(w->acct));
    if ((rv = cli_account_print(d->l, w->acct, false)) != 0)
        return rv;
    if ((rv = prove(d, w)) != 0 || (rv = dump_entries(d)) != 0)
        return rv;

    struct lg_status st;
    lg_status(d->l, &st);
    printf("\n%llu entries, fees %llu KRW, %.2f s. Files in %s/: ledger-id, "
           "vkeys, checkpoint.note, genesis.json, genesis.cbe, keys/, "
           "ledger/, entries/\n",
           (unsigned long long)st.size, (unsigned long long)d->fees,
           (double)(cli_now_ms() - t0) / 1000.0, d->dir);
    printf("try: build-release/credbank account show %s --dir %s/ledger\n",
           cli_hex32(w->acct), d->dir);
    return CLI_OK;
}

int cmd_demo(int argc, char **argv)
{
    const char *out = NULL, *credbankd = NULL, *pos[1];
    bool local = false;
    int npos, rv;
    struct cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out},
        {"-o", CLI_OPT_STR, &out},
        {"--credbankd", CLI_OPT_STR, &credbankd},
        {"--local", CLI_OPT_BOOL, &local},
        {NULL, 0, NULL},
    };
    if ((rv = cli_args("demo", USAGE, argc, argv, opts, pos, 0, &npos,
                       NULL)) != 0)
        return cli_exit(rv);
    if (out == NULL)
        out = "demo-out";
    if (strlen(out) == 0 || strlen(out) > 1024)
        return cli_usage("demo", USAGE, "--out: a directory name, please");
    if (local && credbankd != NULL)
        return cli_usage("demo", USAGE, "--credbankd is for the three-node "
                         "demo, not --local");

    struct demo *d = calloc(1, sizeof *d);
    struct walk *w = calloc(1, sizeof *w);
    if (d == NULL || w == NULL) {
        free(d);
        free(w);
        return cli_fail("demo", CB_ENOMEM, "out of memory");
    }
    snprintf(d->dir, sizeof d->dir, "%s", out);
    d->local = local;
    rv = local ? demo_local(d, w) : demo_cluster(d, w, credbankd);
    if (d->l != NULL)
        lg_ledger_close(d->l);
    for (int i = 0; i < K__COUNT; i++)
        cy_key_wipe(&d->k[i]);
    free(d);
    free(w);
    return rv;
}
