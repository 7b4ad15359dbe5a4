/*
 * libFuzzer target for the state machine (lg_apply, DESIGN 4): the input is
 * a program of entry constructions applied to two fresh ledgers.
 *
 * Both ledgers start from the same image (the demo consortium of DESIGN 4.1
 * with the deterministic keys of fuzzkeys.h: genesis and the university's
 * policy, applied once at start-up and copied into two directories under
 * /dev/shm for every run). The input is read as steps of 8 bytes
 *
 *   op  learner  author  v1  v2  v3  mutation  cut
 *
 * op picks the entry type (every account type, policy.set, seal, cosign, or
 * the replay of an earlier entry), learner the account, author the type's
 * own author (mostly) or any key, v1..v3 the body's values and which
 * earlier item a ref names, mutation (when its high bit is set) one damage:
 * a flipped signature, another ledger id, a missing or extra signer, ts 0,
 * another account, a flipped byte anywhere; cut ends ledger B's batch after
 * this entry. Ledger A gets one entry per lg_apply, B the same bytes in the
 * batches the cuts make.
 *
 * Checked (__builtin_trap on violation), beyond "no crash, no leak, no UB":
 * - lg_apply commits every batch (no batch-level error);
 * - every entry has the same outcome (code, index, fee) in A and B;
 * - an accepted entry adds one leaf; a refused entry changes nothing in A:
 *   the whole status (size, root, account root, governance chain, seals)
 *   and every known account's view, byte for byte;
 * - at the end A and B have the same status, the same members view and the
 *   same view of every account (also of ids that never became accounts).
 *
 * CB_FUZZ_DEBUG=1 prints each step's outcome in ledger A.
 *
 * Run: fuzz_sm -max_total_time=60 tests/fuzz/corpus/sm
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "fuzzkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The CLI's error lines, silenced (linked with --wrap). */
int __wrap_cli_fail(const char *ctx, int code, const char *fmt, ...);
int __wrap_cli_fail_err(const char *ctx, int code, const struct cb_err *err);
int __wrap_cli_fail(const char *ctx, int code, const char *fmt, ...)
{
    (void)ctx, (void)code, (void)fmt;
    return CLI_FAIL;
}
int __wrap_cli_fail_err(const char *ctx, int code, const struct cb_err *err)
{
    (void)ctx, (void)code, (void)err;
    return CLI_FAIL;
}

#define CHECK(c)                \
    do {                        \
        if (!(c))               \
            __builtin_trap();   \
    } while (0)

#define MAX_STEPS 32
#define NLEARN 4
#define NITEMS 64
#define TS0 1700000000000ull

static char root_dir[64], dir_a[96], dir_b[96];
static uint8_t *image;
static size_t image_len;
static uint8_t ledger_id[32];

/* ---- building entries ---- */

struct build {
    enum lg_type type;
    int author;              /* fk index */
    const uint8_t *ledger;   /* NULL: ledger_id */
    const uint8_t *account;
    uint8_t refs[3][32];
    size_t nrefs;
    const char *body;        /* JSON, bins as "hex:..." */
    const uint8_t *body_raw; /* or canonical bytes */
    size_t body_raw_len;
    int signers[4];          /* further signers, -1 ends */
    uint64_t ts;
    uint8_t nonce[16];
};

/* The signed bytes of b (malloc'd), or NULL if the body does not encode. */
static uint8_t *build(const struct build *b, size_t *len)
{
    struct lg_w body, entry, signd;
    lg_w_init(&body);
    lg_w_init(&entry);
    lg_w_init(&signd);
    uint8_t *out = NULL;
    if (b->body_raw != NULL) {
        lg_w_raw(&body, b->body_raw, b->body_raw_len);
    } else {
        json_error_t jerr;
        json_t *j = json_loads(b->body, 0, &jerr);
        CHECK(j != NULL); /* the templates below are valid JSON */
        int rv = lg_w_json(&body, j, NULL);
        json_decref(j);
        if (rv != 0)
            goto out;
    }
    struct lg_entry_spec spec = {
        .ledger = b->ledger ? b->ledger : ledger_id,
        .type = b->type,
        .author = fk[b->author].pk,
        .ts = b->ts,
        .nonce = b->nonce,
        .account = lg_type_has_account(b->type) ? b->account : NULL,
        .refs = (const uint8_t(*)[32])b->refs,
        .nrefs = b->nrefs,
        .body = lg_w_data(&body),
        .body_len = lg_w_len(&body),
    };
    if (lg_entry_encode(&entry, &spec) != 0 || lg_w_error(&entry) != 0)
        goto out;
    struct lg_sig sigs[5];
    uint8_t raw[5][64];
    int keys[5] = {b->author};
    size_t n = 1;
    for (size_t i = 0; i < 4 && b->signers[i] >= 0; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || keys[k] == b->signers[i];
        if (!dup)
            keys[n++] = b->signers[i];
    }
    for (size_t i = 0; i < n; i++) {
        fk_sign(raw[i], lg_w_data(&entry), lg_w_len(&entry), keys[i]);
        sigs[i].pk = fk[keys[i]].pk;
        sigs[i].sig = raw[i];
    }
    if (lg_signed_encode(&signd, lg_w_data(&entry), lg_w_len(&entry),
                         fk[b->author].pk, sigs, n) != 0)
        goto out;
    out = lg_w_take(&signd, len);
out:
    lg_w_release(&body);
    lg_w_release(&entry);
    lg_w_release(&signd);
    return out;
}

static const char *hex32(const uint8_t *p)
{
    static char bufs[8][70];
    static int next;
    char *s = bufs[next++ % 8];
    memcpy(s, "hex:", 4);
    cy_hex(s + 4, p, 32);
    return s;
}

/* ---- the shared start: genesis and the university's policy ---- */

static const char *genesis_body(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
        "{\"cosign_quorum\":2,\"governance_quorum\":2,\"members\":["
        "{\"issuers\":[\"%s\"],\"name\":\"bank\",\"node\":\"%s\","
        "\"roles\":[\"registrar\",\"recognizer\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"university\",\"node\":\"%s\","
        "\"roles\":[\"recognizer\",\"provider\"]},"
        "{\"issuers\":[\"%s\"],\"name\":\"provider\",\"node\":\"%s\","
        "\"roles\":[\"provider\"]}],"
        "\"policy\":{\"degrees\":{"
        "\"associate\":{\"general\":3,\"major\":4,\"total\":10},"
        "\"bachelor\":{\"general\":30,\"major\":60,\"total\":140}},"
        "\"fees\":{\"account_open\":4000,\"currency\":\"KRW\","
        "\"link_free_credits\":8,\"per_credit\":1000},"
        "\"seal_interval_ms\":20,"
        "\"sources\":{\"mooc\":{\"min_attendance\":80,\"min_grade\":60},"
        "\"part_time\":{\"appealable\":true},"
        "\"school\":{\"appealable\":true}}}}",
        hex32(fk[FK_BANK].pk), hex32(fk[FK_BANK_NODE].pk),
        hex32(fk[FK_UNI].pk), hex32(fk[FK_UNI_NODE].pk),
        hex32(fk[FK_PROV].pk), hex32(fk[FK_PROV_NODE].pk));
    return buf;
}

static struct lg_ledger *open_ledger(const char *dir)
{
    struct lg_open_opts o = {.nosync = true, .map_size = (size_t)64 << 20,
                             .verify_threads = 1};
    struct lg_ledger *l = NULL;
    struct cb_err err = {0, ""};
    CHECK(lg_ledger_open(&l, dir, &o, &err) == 0);
    return l;
}

static void apply1(struct lg_ledger *l, const uint8_t *p, size_t len,
                   struct lg_result *r)
{
    struct lg_buf b = {p, len};
    struct cb_err err = {0, ""};
    CHECK(lg_apply(l, 0, &b, 1, r, NULL, &err) == 0);
}

static void rmfiles(const char *dir)
{
    char path[160];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}

static void cleanup(void)
{
    rmfiles(dir_a);
    rmfiles(dir_b);
    rmdir(dir_a);
    rmdir(dir_b);
    rmfiles(root_dir);
    rmdir(root_dir);
}

static void init(void)
{
    fk_init();
    snprintf(root_dir, sizeof root_dir, "%s/fuzz-sm-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    CHECK(mkdtemp(root_dir) != NULL);
    snprintf(dir_a, sizeof dir_a, "%s/a", root_dir);
    snprintf(dir_b, sizeof dir_b, "%s/b", root_dir);
    atexit(cleanup);
    struct lg_ledger *l = open_ledger(root_dir);
    struct build g = {.type = LG_T_GENESIS, .author = FK_BANK,
                      .body = genesis_body(), .ts = TS0,
                      .signers = {FK_BANK_NODE, FK_UNI, FK_UNI_NODE, -1}};
    /* genesis needs every founder key: two more than signers holds */
    size_t glen;
    struct lg_w body, entry, signd;
    lg_w_init(&body);
    lg_w_init(&entry);
    lg_w_init(&signd);
    json_t *j = json_loads(g.body, 0, NULL);
    CHECK(j != NULL && lg_w_json(&body, j, NULL) == 0);
    json_decref(j);
    struct lg_entry_spec spec = {.type = LG_T_GENESIS,
                                 .author = fk[FK_BANK].pk, .ts = TS0,
                                 .nonce = g.nonce, .body = lg_w_data(&body),
                                 .body_len = lg_w_len(&body)};
    CHECK(lg_entry_encode(&entry, &spec) == 0);
    struct lg_sig sigs[6];
    uint8_t raw[6][64];
    for (int i = 0; i < 6; i++) {
        lg_entry_sign(raw[i], lg_w_data(&entry), lg_w_len(&entry), &fk[i]);
        sigs[i].pk = fk[i].pk;
        sigs[i].sig = raw[i];
    }
    CHECK(lg_signed_encode(&signd, lg_w_data(&entry), lg_w_len(&entry),
                           fk[FK_BANK].pk, sigs, 6) == 0);
    uint8_t *gp = lg_w_take(&signd, &glen);
    struct lg_result r;
    apply1(l, gp, glen, &r);
    if (r.code != 0)
        fprintf(stderr, "fuzz_sm: genesis refused: %s\n", r.msg);
    CHECK(r.code == 0);
    memcpy(ledger_id, r.id, 32);
    free(gp);
    lg_w_release(&body);
    lg_w_release(&entry);
    lg_w_release(&signd);
    struct build p = {
        .type = LG_T_POLICY_SET, .author = FK_UNI, .ts = TS0 + 1,
        .body = "{\"policy\":{\"sources\":{\"mooc\":"
                "{\"learner_revocable\":false,\"max_credits\":12}}},"
                "\"scope\":\"university\"}",
        .signers = {-1}};
    size_t plen;
    uint8_t *pp = build(&p, &plen);
    CHECK(pp != NULL);
    apply1(l, pp, plen, &r);
    if (r.code != 0)
        fprintf(stderr, "fuzz_sm: policy refused: %s\n", r.msg);
    CHECK(r.code == 0);
    free(pp);
    lg_ledger_close(l);

    char path[160];
    snprintf(path, sizeof path, "%s/data.mdb", root_dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n > 0);
    rewind(f);
    image_len = (size_t)n;
    image = malloc(image_len);
    CHECK(image != NULL && fread(image, 1, image_len, f) == image_len);
    fclose(f);
}

/* A ledger in dir at the shared start. */
static struct lg_ledger *fresh(const char *dir)
{
    mkdir(dir, 0700);
    rmfiles(dir);
    char path[160];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, image, image_len) == (ssize_t)image_len);
    close(fd);
    return open_ledger(dir);
}

/* ---- comparing states ---- */

static bool same_status(const struct lg_status *x, const struct lg_status *y)
{
    return x->has_genesis == y->has_genesis &&
           memcmp(x->ledger_id, y->ledger_id, 32) == 0 &&
           x->size == y->size && memcmp(x->root, y->root, 32) == 0 &&
           x->accounts == y->accounts &&
           memcmp(x->accounts_root, y->accounts_root, 32) == 0 &&
           x->governance == y->governance &&
           memcmp(x->governance_chain, y->governance_chain, 32) == 0 &&
           x->members == y->members &&
           x->governance_quorum == y->governance_quorum &&
           x->cosign_quorum == y->cosign_quorum &&
           x->seal_interval_ms == y->seal_interval_ms &&
           x->since_seal == y->since_seal && x->has_seal == y->has_seal &&
           x->last_seal == y->last_seal &&
           x->last_seal_ts == y->last_seal_ts &&
           x->has_final == y->has_final && x->final_seal == y->final_seal &&
           strcmp(x->origin, y->origin) == 0;
}

static struct lg_status status_of(struct lg_ledger *l)
{
    struct lg_status st;
    CHECK(lg_status(l, &st) == 0);
    return st;
}

/* The account's view as text ("" for an unknown account); malloc'd. */
static char *view_text(struct lg_ledger *l, const uint8_t id[32])
{
    json_t *v = NULL;
    int rv = lg_account_view(l, id, &v, NULL);
    if (rv == CB_ENOTFOUND)
        return strdup("");
    CHECK(rv == 0 && v != NULL);
    char *s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(v);
    CHECK(s != NULL);
    return s;
}

static char *members_text(struct lg_ledger *l)
{
    json_t *v = NULL;
    CHECK(lg_members_view(l, &v, NULL) == 0);
    char *s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(v);
    CHECK(s != NULL);
    return s;
}

/* ---- one run ---- */

struct world {
    uint8_t acct[NLEARN][32];      /* the learner's account id, or junk */
    bool opened[NLEARN];
    int lkey[NLEARN];              /* the learner key in force */
    uint8_t deps[NLEARN][NITEMS][32], recs[NLEARN][NITEMS][32],
        apps[NLEARN][NITEMS][32];
    size_t ndeps[NLEARN], nrecs[NLEARN], napps[NLEARN];
};

static const uint8_t *pick(uint8_t items[][32], size_t n, uint8_t v)
{
    static const uint8_t none[32] = {0xee};
    return n == 0 ? none : items[v % n];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    size_t nsteps = size / 8;
    if (nsteps > MAX_STEPS)
        nsteps = MAX_STEPS;
    if (nsteps == 0)
        return 0;
    struct lg_ledger *a = fresh(dir_a), *b = fresh(dir_b);
    static struct world w;
    memset(&w, 0, sizeof w);
    for (int i = 0; i < NLEARN; i++) {
        memset(w.acct[i], 0xa0 + i, 32); /* not an account until opened */
        w.lkey[i] = FK_LEARNER0 + i;
    }
    struct lg_buf all[MAX_STEPS];
    struct lg_result ra[MAX_STEPS], rb[MAX_STEPS];
    size_t n = 0, batch_from = 0;
    static const char *const sources[] = {"school", "mooc", "part_time",
                                          "other"};
    static const char *const classes[] = {"major", "general", "elective",
                                          "bogus"};
    static const char *const reasons[] = {"error", "investigation",
                                          "learner_request"};
    static const char *const degrees[] = {"associate", "bachelor", "phd"};

    for (size_t step = 0; step < nsteps; step++) {
        const uint8_t *s = data + 8 * step;
        uint8_t op = s[0] % 17, v1 = s[3], v2 = s[4], v3 = s[5], mut = s[6];
        int l = s[1] % NLEARN;
        bool own_author = s[2] % 8 < 6;
        char body[1024];
        struct build e = {.account = w.acct[l],
                          .ts = TS0 + 1000 * (step + 1),
                          .signers = {-1, -1, -1, -1}};
        e.nonce[0] = (uint8_t)step;
        e.nonce[1] = op;
        int learner = w.lkey[l];
        uint8_t *p = NULL;
        size_t len = 0;
        struct lg_w sw;
        lg_w_init(&sw);
        switch (op) {
        case 0: { /* account.open */
            int key = v2 & 2 ? FK_LEARNER0 + (v3 % 6) : learner;
            uint8_t pii[32];
            cy_sha256(pii, fk[key].pk, 32);
            snprintf(body, sizeof body,
                     "{\"degree\":\"%s\",\"education\":{\"evidence\":\"%s\","
                     "\"level\":\"hs\"},\"fee_exempt\":%s,"
                     "\"learner_key\":\"%s\",\"major\":\"m\",\"pii\":\"%s\"}",
                     degrees[v1 % 3], hex32(pii),
                     v2 & 1 ? "true" : "false", hex32(fk[key].pk),
                     hex32(pii));
            e.type = LG_T_ACCOUNT_OPEN;
            e.author = FK_BANK;
            e.signers[0] = key;
            break;
        }
        case 1:
        case 2: /* outcome.deposit */
            snprintf(body, sizeof body,
                     "{%s\"compatible\":%s,\"course\":\"C%u\",\"credits\":%u,"
                     "\"evidence\":\"%s\",\"grade\":%u,\"source\":\"%s\","
                     "\"term\":\"2024Q%u\",\"title\":\"T\"}",
                     v3 & 4 ? "" : "\"attendance\":90,",
                     v3 & 8 ? "true" : "false", v1 % 7, v1 % 8,
                     hex32(ledger_id), v2 % 102, sources[v3 % 4],
                     v1 % 4 + 1);
            e.type = LG_T_OUTCOME_DEPOSIT;
            e.author = v3 & 16 ? FK_UNI : FK_PROV;
            break;
        case 3:
        case 4: /* credit.recognize */
            snprintf(body, sizeof body,
                     "{\"class\":\"%s\",\"credits\":%u,\"term\":\"2024Q%u\"}",
                     classes[v1 % 4], v2 % 7, v1 / 4 % 4 + 1);
            e.type = LG_T_CREDIT_RECOGNIZE;
            e.author = v3 & 128 ? FK_UNI : FK_BANK;
            memcpy(e.refs[0], pick(w.deps[l], w.ndeps[l], v3), 32);
            e.nrefs = 1;
            if (v2 & 128)
                e.signers[0] = learner;
            break;
        case 5: { /* credit.cancel */
            int reason = v1 % 3;
            snprintf(body, sizeof body, "{\"reason\":\"%s\"}",
                     reasons[reason]);
            e.type = LG_T_CREDIT_CANCEL;
            e.author = v2 & 1 ? FK_UNI : FK_BANK;
            memcpy(e.refs[0], pick(w.recs[l], w.nrecs[l], v3), 32);
            e.nrefs = 1;
            if (reason == 2 || v2 & 2)
                e.signers[0] = learner;
            break;
        }
        case 6: /* appeal.file */
            snprintf(body, sizeof body,
                     "{\"reason\":\"r\",\"term\":\"202%uQ%u\"}", 4 + v1 % 2,
                     v2 % 4 + 1);
            e.type = LG_T_APPEAL_FILE;
            e.author = FK_BANK;
            memcpy(e.refs[0], pick(w.recs[l], w.nrecs[l], v3), 32);
            e.nrefs = 1;
            e.signers[0] = learner;
            break;
        case 7: /* appeal.decide */
            if (v1 & 1)
                snprintf(body, sizeof body, "{\"outcome\":\"rejected\"}");
            else
                snprintf(body, sizeof body,
                         "{\"class\":\"%s\",\"credits\":%u,"
                         "\"outcome\":\"upheld\"}",
                         classes[v1 / 2 % 4], v2 % 8);
            e.type = LG_T_APPEAL_DECIDE;
            e.author = FK_BANK;
            memcpy(e.refs[0], pick(w.apps[l], w.napps[l], v3), 32);
            e.nrefs = 1;
            break;
        case 8: /* class.change */
            snprintf(body, sizeof body, "{\"class\":\"%s\"}",
                     classes[v1 % 4]);
            e.type = LG_T_CLASS_CHANGE;
            e.author = FK_BANK;
            memcpy(e.refs[0], pick(w.recs[l], w.nrecs[l], v3), 32);
            e.nrefs = 1;
            e.signers[0] = learner;
            break;
        case 9: /* degree.award, account.cancel */
            if (v1 % 8 == 0) {
                snprintf(body, sizeof body, "{\"reason\":\"%s\"}",
                         reasons[v2 % 3]);
                e.type = LG_T_ACCOUNT_CANCEL;
                if (v2 % 3 == 2)
                    e.signers[0] = learner;
            } else {
                snprintf(body, sizeof body,
                         "{\"degree\":\"%s\",\"major\":\"m\"}",
                         degrees[v2 % 3]);
                e.type = LG_T_DEGREE_AWARD;
            }
            e.author = FK_BANK;
            break;
        case 10: /* program.change */
        case 11: /* degree.link */
            snprintf(body, sizeof body, "{\"degree\":\"%s\",\"major\":\"x\"}",
                     degrees[v1 % 3]);
            e.type = op == 10 ? LG_T_PROGRAM_CHANGE : LG_T_DEGREE_LINK;
            e.author = FK_BANK;
            e.nrefs = v2 % 3;
            for (size_t i = 0; i < e.nrefs; i++)
                memcpy(e.refs[i],
                       pick(w.recs[l], w.nrecs[l], (uint8_t)(v3 + i * v1)),
                       32);
            e.signers[0] = learner;
            break;
        case 12: { /* account.rekey */
            int key = FK_LEARNER0 + v1 % 6;
            snprintf(body, sizeof body, "{\"learner_key\":\"%s\"}",
                     hex32(fk[key].pk));
            e.type = LG_T_ACCOUNT_REKEY;
            e.author = FK_BANK;
            e.signers[0] = key;
            if (v2 & 1)
                e.signers[1] = learner;
            break;
        }
        case 13: /* policy.set of the author's member */
            snprintf(body, sizeof body,
                     "{\"policy\":{\"sources\":{\"%s\":"
                     "{\"learner_revocable\":%s,\"max_credits\":%u}}},"
                     "\"scope\":\"%s\"}",
                     sources[v1 % 4], v2 & 1 ? "true" : "false", v2 / 2 % 20,
                     v3 & 1 ? "university" : "bank");
            e.type = LG_T_POLICY_SET;
            e.author = v3 & 1 ? FK_UNI : FK_BANK;
            break;
        case 14: { /* seal by a node key */
            static const int nodes[] = {FK_BANK_NODE, FK_UNI_NODE,
                                        FK_PROV_NODE};
            uint8_t id[32];
            if (cli_seal_make(a, &fk[nodes[v1 % 3]], e.ts, &sw, id, NULL) ==
                0)
                p = lg_w_take(&sw, &len);
            e.type = LG_T_SEAL;
            break;
        }
        case 15: { /* cosign of the newest seal by a node key */
            static const int nodes[] = {FK_BANK_NODE, FK_UNI_NODE,
                                        FK_PROV_NODE, FK_BANK};
            uint64_t seal;
            if (cli_cosign_make(a, &fk[nodes[v1 % 4]], e.ts, &sw, &seal,
                                NULL) == 0)
                p = lg_w_take(&sw, &len);
            e.type = LG_T_COSIGN;
            break;
        }
        default: /* the bytes of an earlier entry again */
            if (n > 0) {
                const struct lg_buf *old = &all[v1 % n];
                p = malloc(old->len);
                CHECK(p != NULL);
                memcpy(p, old->p, old->len);
                len = old->len;
            }
            e.type = LG_T_NONE;
            break;
        }
        lg_w_release(&sw);
        if (op < 14) {
            if (!own_author)
                e.author = s[2] % FK__COUNT;
            e.body = body;
            bool damage_built = false;
            if (mut & 0x80) {
                switch (mut & 7) {
                case 1:
                    e.ledger = fk[FK_OUTSIDER].pk;
                    break;
                case 2:
                    e.signers[0] = -1;
                    break;
                case 3:
                    for (int i = 0; i < 4; i++)
                        if (e.signers[i] < 0) {
                            e.signers[i] = FK_OUTSIDER;
                            break;
                        }
                    break;
                case 4:
                    e.ts = 0;
                    break;
                case 5:
                    e.account = w.acct[(l + 1) % NLEARN];
                    break;
                default:
                    damage_built = true;
                    break;
                }
            }
            p = build(&e, &len);
            if (p != NULL && damage_built) {
                /* 0: a signature (the last); 6, 7: any byte */
                size_t at = (mut & 7) == 0 ? len - 1 - v3 % 64
                                           : (size_t)(v3 * 7 + v2) % len;
                p[at] ^= (uint8_t)(1u << (v1 % 8));
            }
        } else if (p != NULL && (mut & 0x87) == 0x86) {
            p[(size_t)(v3 * 7 + v2) % len] ^= (uint8_t)(1u << (v1 % 8));
        }
        if (p == NULL)
            continue;

        /* A: one entry per batch; a refusal changes nothing */
        struct lg_status before = status_of(a);
        char *vb[NLEARN];
        for (int i = 0; i < NLEARN; i++)
            vb[i] = w.opened[i] ? view_text(a, w.acct[i]) : NULL;
        apply1(a, p, len, &ra[n]);
        if (getenv("CB_FUZZ_DEBUG"))
            fprintf(stderr, "step %zu op %u: %s %s\n", step, op,
                    cb_errname(ra[n].code), ra[n].msg);
        struct lg_status after = status_of(a);
        if (ra[n].code != 0) {
            CHECK(same_status(&before, &after));
            for (int i = 0; i < NLEARN; i++) {
                if (vb[i] == NULL)
                    continue;
                char *va = view_text(a, w.acct[i]);
                CHECK(strcmp(va, vb[i]) == 0);
                free(va);
            }
        } else {
            CHECK(after.size == before.size + 1);
            CHECK(ra[n].index == before.size);
            struct lg_signed sg;
            lg_signed_init(&sg);
            CHECK(lg_signed_decode(&sg, p, len, NULL) == 0);
            enum lg_type t = sg.e.type;
            int who = -1;
            for (int i = 0; i < NLEARN && sg.e.account; i++)
                if (w.opened[i] && memcmp(w.acct[i], sg.e.account, 32) == 0)
                    who = i;
            if (t == LG_T_ACCOUNT_OPEN) {
                /* the learner whose key opened it */
                const msgpack_object *lk = NULL;
                for (uint32_t i = 0; i < sg.e.body->via.map.size; i++) {
                    const msgpack_object_kv *kv = &sg.e.body->via.map.ptr[i];
                    if (kv->key.via.str.size == 11 &&
                        memcmp(kv->key.via.str.ptr, "learner_key", 11) == 0)
                        lk = &kv->val;
                }
                CHECK(lk != NULL);
                for (int i = 0; i < NLEARN; i++)
                    if (!w.opened[i] &&
                        memcmp(lk->via.bin.ptr, fk[w.lkey[i]].pk, 32) == 0) {
                        memcpy(w.acct[i], sg.e.id, 32);
                        w.opened[i] = true;
                        break;
                    }
            } else if (who >= 0) {
                if (t == LG_T_OUTCOME_DEPOSIT && w.ndeps[who] < NITEMS)
                    memcpy(w.deps[who][w.ndeps[who]++], sg.e.id, 32);
                if (t == LG_T_CREDIT_RECOGNIZE && w.nrecs[who] < NITEMS)
                    memcpy(w.recs[who][w.nrecs[who]++], sg.e.id, 32);
                if (t == LG_T_APPEAL_FILE && w.napps[who] < NITEMS)
                    memcpy(w.apps[who][w.napps[who]++], sg.e.id, 32);
                if (t == LG_T_ACCOUNT_REKEY) {
                    const msgpack_object *k =
                        &sg.e.body->via.map.ptr[0].val; /* learner_key */
                    for (int i = 0; i < FK__COUNT; i++)
                        if (memcmp(k->via.bin.ptr, fk[i].pk, 32) == 0)
                            w.lkey[who] = i;
                }
            }
            lg_signed_release(&sg);
        }
        for (int i = 0; i < NLEARN; i++)
            free(vb[i]);
        all[n].p = p;
        all[n].len = len;
        n++;

        /* B: the same bytes in the batches the cuts make */
        if (s[7] & 1 || step + 1 == nsteps) {
            struct cb_err err = {0, ""};
            if (n > batch_from) {
                CHECK(lg_apply(b, 0, all + batch_from, n - batch_from,
                               rb + batch_from, NULL, &err) == 0);
                for (size_t i = batch_from; i < n; i++)
                    CHECK(ra[i].code == rb[i].code &&
                          ra[i].index == rb[i].index &&
                          ra[i].fee == rb[i].fee);
            }
            batch_from = n;
        }
    }
    if (n > batch_from) {
        struct cb_err err = {0, ""};
        CHECK(lg_apply(b, 0, all + batch_from, n - batch_from,
                       rb + batch_from, NULL, &err) == 0);
        for (size_t i = batch_from; i < n; i++)
            CHECK(ra[i].code == rb[i].code && ra[i].index == rb[i].index &&
                  ra[i].fee == rb[i].fee);
    }

    /* the same state in both */
    struct lg_status sa = status_of(a), sb = status_of(b);
    CHECK(same_status(&sa, &sb));
    char *ma = members_text(a), *mb = members_text(b);
    CHECK(strcmp(ma, mb) == 0);
    free(ma);
    free(mb);
    for (int i = 0; i < NLEARN; i++) {
        char *va = view_text(a, w.acct[i]), *vbb = view_text(b, w.acct[i]);
        CHECK(strcmp(va, vbb) == 0);
        free(va);
        free(vbb);
    }
    for (size_t i = 0; i < n; i++)
        free((void *)all[i].p);
    lg_ledger_close(a);
    lg_ledger_close(b);
    return 0;
}
