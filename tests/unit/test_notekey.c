/*
 * crypto/notekey.c: C2SP signed-note key names, key hashes, verifier and
 * private key strings, and key files.
 *
 * Strings are checked against two independent makers: gen_crypto.py builds
 * them by hand from the spec (crypto.json), gen_notekey.go asks Go's
 * golang.org/x/mod/sumdb/note (notekey.json), including notes Go signed
 * with each key, whose signature lines credbank must reproduce, and Go's
 * verdict on malformed strings. credbank's verdict on each of those is in
 * the tables below; it is never more lenient than Go.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>

static json_t *py, *go;

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "%s: %s (line %d)", path, e.text, e.line);
    return j;
}

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
    py = load(CB_SOURCE_DIR "/spec/vectors/crypto.json");
    go = load(CB_SOURCE_DIR "/spec/vectors/notekey.json");
}

static void teardown(void)
{
    json_decref(py);
    json_decref(go);
}

TestSuite(notekey, .init = setup, .fini = teardown);

static json_t *section(json_t *root, const char *key)
{
    json_t *a = json_object_get(root, key);
    cr_assert(json_is_array(a) && json_array_size(a) > 0, "vectors lack %s",
              key);
    return a;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    cr_assert_not_null(s, "vector lacks %s", k);
    return s;
}

#define UNHEX(o, k, buf) \
    cr_assert_eq(cy_unhex(buf, sizeof buf, str(o, k)), 0, "vector %s", k)

/* The key of crypto.json's keys[i]. */
static void vector_key(size_t i, struct cy_key *k)
{
    json_t *v = json_array_get(section(py, "keys"), i);
    uint8_t seed[CY_SEED_LEN];
    UNHEX(v, "seed", seed);
    cr_assert_eq(cy_key_from_seed(k, str(v, "name"), seed), 0);
}

/* ======================= names ======================= */

Test(notekey, names)
{
    static const char *good[] = {"bank", "A.b_c-9", "a", "-", ".", "_",
                                 "university-node", "0123456789"};
    static const char *bad[] = {"", "a+b", "a b", " a", "a\n", "a\t",
                                "은행", "caf\xc3\xa9", "a/b", "a:b",
                                "a\x7f", "\xff"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(cy_name_valid(good[i]), "\"%s\"", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!cy_name_valid(bad[i]), "\"%s\"", bad[i]);

    /* every ASCII character, alone */
    for (int c = 1; c < 256; c++) {
        char s[2] = {(char)c, '\0'};
        bool want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        cr_assert_eq(cy_name_valid(s), want, "character %d", c);
    }

    char n[CY_NAME_MAX + 2];
    memset(n, 'n', sizeof n - 1);
    n[CY_NAME_MAX + 1] = '\0';
    cr_assert(!cy_name_valid(n), "65 characters");
    n[CY_NAME_MAX] = '\0';
    cr_assert(cy_name_valid(n), "64 characters");
}

/* ======================= key strings ======================= */

Test(notekey, key_strings_match_python_and_go)
{
    json_t *pk_ = section(py, "keys"), *gk = section(go, "keys");
    cr_assert_eq(json_array_size(pk_), json_array_size(gk));
    size_t i;
    json_t *v;
    json_array_foreach(pk_, i, v) {
        json_t *g = json_array_get(gk, i);
        const char *name = str(v, "name");
        uint8_t pk[CY_PK_LEN], kh[4], want[4];
        struct cy_key key;
        UNHEX(v, "pk", pk);
        UNHEX(v, "keyhash", want);
        cr_assert_str_eq(str(g, "name"), name);
        vector_key(i, &key);

        cy_note_keyhash(kh, name, pk);
        cr_assert_arr_eq(kh, want, 4, "%s: key hash", name);

        char vk[CY_VKEY_MAX], sk[CY_SKEY_MAX];
        cr_assert_eq(cy_note_vkey(vk, sizeof vk, name, pk), 0);
        cr_assert_str_eq(vk, str(v, "vkey"));
        cr_assert_str_eq(vk, str(g, "vkey"), "Go, from the seed");
        cr_assert_str_eq(vk, str(g, "vkey_from_pk"), "Go, from the pk");
        cr_assert_eq(cy_note_skey(sk, sizeof sk, &key), 0);
        cr_assert_str_eq(sk, str(v, "skey"));
        cr_assert_str_eq(sk, str(g, "skey"), "Go");

        char name2[CY_NAME_MAX + 1];
        uint8_t pk2[CY_PK_LEN];
        cr_assert_eq(cy_note_vkey_parse(vk, name2, pk2), 0, "%s", vk);
        cr_assert_str_eq(name2, name);
        cr_assert_arr_eq(pk2, pk, CY_PK_LEN);

        struct cy_key back;
        cr_assert_eq(cy_note_skey_parse(sk, &back), 0, "%s", name);
        cr_assert_arr_eq(&back, &key, sizeof key, "%s: whole key", name);
        cy_key_wipe(&back);
        cy_key_wipe(&key);
    }
    cr_assert_geq(i, 5);
}

Test(notekey, longest_name_fits_the_header_bounds)
{
    char name[CY_NAME_MAX + 1], vk[CY_VKEY_MAX + 8], sk[CY_SKEY_MAX + 8];
    struct cy_key k;
    memset(name, 'n', CY_NAME_MAX);
    name[CY_NAME_MAX] = '\0';
    cr_assert_eq(cy_key_generate(&k, name), 0);
    cr_assert_eq(cy_note_vkey(vk, sizeof vk, name, k.pk), 0);
    cr_assert_eq(strlen(vk) + 1, CY_VKEY_MAX, "CY_VKEY_MAX is exact");
    cr_assert_eq(cy_note_skey(sk, sizeof sk, &k), 0);
    cr_assert_eq(strlen(sk) + 1, CY_SKEY_MAX, "CY_SKEY_MAX is exact");
    cy_key_wipe(&k);
}

Test(notekey, output_capacity_and_bad_names)
{
    struct cy_key k;
    vector_key(0, &k);
    char vk[CY_VKEY_MAX], sk[CY_SKEY_MAX];
    cr_assert_eq(cy_note_vkey(vk, sizeof vk, k.name, k.pk), 0);
    size_t vlen = strlen(vk);
    char small[CY_SKEY_MAX];
    cr_assert_eq(cy_note_vkey(small, vlen + 1, k.name, k.pk), 0, "exact fit");
    cr_assert_str_eq(small, vk);
    cr_assert_eq(cy_note_vkey(small, vlen, k.name, k.pk), CB_ETOOBIG);
    cr_assert_eq(cy_note_vkey(small, 0, k.name, k.pk), CB_ETOOBIG);

    cr_assert_eq(cy_note_skey(sk, sizeof sk, &k), 0);
    size_t slen = strlen(sk);
    cr_assert_eq(cy_note_skey(small, slen + 1, &k), 0);
    memset(small, 'x', sizeof small);
    cr_assert_eq(cy_note_skey(small, slen, &k), CB_ETOOBIG);
    /* a cut private key string would leak most of the seed: wiped */
    for (size_t i = 0; i < slen; i++)
        cr_assert_eq(small[i], 0, "byte %zu of a refused private key", i);

    cr_assert_eq(cy_note_vkey(vk, sizeof vk, "a b", k.pk), CB_EINVAL);
    cr_assert_eq(cy_note_vkey(vk, sizeof vk, "", k.pk), CB_EINVAL);
    strcpy(k.name, "a+b");
    cr_assert_eq(cy_note_skey(sk, sizeof sk, &k), CB_EINVAL);
    cy_key_wipe(&k);
}

/* Notes signed by Go: credbank's signature line is Go's, byte for byte, and
 * Go's signature verifies under credbank's rules. */
Test(notekey, go_signed_notes)
{
    static const char dash[] = "\xe2\x80\x94 "; /* U+2014 and a space */
    size_t i;
    json_t *g;
    json_array_foreach(section(go, "keys"), i, g) {
        struct cy_key k;
        vector_key(i, &k);
        const char *text = str(g, "note_text"), *signed_note =
                                                     str(g, "signed_note");
        size_t tlen = strlen(text);
        cr_assert_eq(strncmp(signed_note, text, tlen), 0);
        cr_assert_eq(signed_note[tlen], '\n', "blank line after the text");

        /* credbank's line: "— <name> <base64(key hash || signature)>\n" */
        uint8_t raw[4 + CY_SIG_LEN];
        cy_note_keyhash(raw, k.name, k.pk);
        cy_sign(raw + 4, text, tlen, &k);
        char b64[128], line[256];
        cy_b64(b64, raw, sizeof raw);
        snprintf(line, sizeof line, "%s%s %s\n", dash, k.name, b64);
        cr_assert_str_eq(signed_note + tlen + 1, line, "%s", k.name);

        /* Go's line decoded and verified */
        const char *sp = strrchr(signed_note, ' ');
        uint8_t got[4 + CY_SIG_LEN + 4];
        size_t n;
        cr_assert_eq(cy_unb64(got, sizeof got, &n, sp + 1, strlen(sp + 1) - 1),
                     0);
        cr_assert_eq(n, sizeof raw);
        cr_assert_arr_eq(got, raw, 4, "key hash");
        cr_assert_eq(cy_verify(got + 4, text, tlen, k.pk), 0);
        cr_assert_eq(cy_verify(got + 4, text, tlen - 1, k.pk), CB_EBADSIG);
        cy_key_wipe(&k);
    }
}

/* Verifier keys for every public-key encoding of crypto.json: credbank
 * writes Go's string whatever the key (formatting never looks at the
 * point), and reads back exactly those cy_pk_check accepts. */
Test(notekey, verifier_keys_refuse_bad_points)
{
    size_t i, refused = 0;
    json_t *c;
    json_array_foreach(section(go, "pk_vkeys"), i, c) {
        const char *vk = str(c, "vkey");
        uint8_t pk[CY_PK_LEN], got[CY_PK_LEN];
        char name[CY_NAME_MAX + 1], mine[CY_VKEY_MAX];
        UNHEX(c, "pk", pk);
        const char *plus = strchr(vk, '+');
        cr_assert_not_null(plus);
        snprintf(name, sizeof name, "%.*s", (int)(plus - vk), vk);
        cr_assert_eq(cy_note_vkey(mine, sizeof mine, name, pk), 0);
        cr_assert_str_eq(mine, vk);
        bool accept = json_is_true(json_object_get(c, "accept"));
        cr_assert_eq(cy_pk_check(pk), accept ? 0 : CB_EBADKEY);
        cr_assert_eq(cy_note_vkey_parse(vk, name, got),
                     accept ? 0 : CB_EBADKEY, "%s: %s", vk, str(c, "why"));
        if (accept)
            cr_assert_arr_eq(got, pk, CY_PK_LEN);
        refused += !accept;
    }
    cr_assert_geq(refused, 40);
}

/* credbank's verdict on each of notekey.json's cases (Go's is in the file). */
struct verdict {
    const char *id;
    int code;
};

static const struct verdict vkey_verdicts[] = {
    {"valid", 0},
    {"upper_hash", 0}, /* like Go: the hash is a hex number */
    {"wrong_hash", CB_EVALUE},
    {"hash_7_digits", CB_EVALUE},
    {"hash_9_digits", CB_EVALUE},
    {"hash_not_hex", CB_EVALUE},
    {"hash_with_sign", CB_EVALUE},
    {"empty_name", CB_EVALUE},
    {"name_with_space", CB_EVALUE},
    {"name_unicode", CB_EVALUE},  /* Go: ok; DESIGN names are A-Za-z0-9._- */
    {"name_slash", CB_EVALUE},    /* Go: ok */
    {"name_65_chars", CB_EVALUE}, /* Go: ok; DESIGN: at most 64 */
    {"alg_2", CB_EVALUE},
    {"key_31_bytes", CB_EVALUE},
    {"key_33_bytes", CB_EVALUE},
    {"key_empty", CB_EVALUE},
    {"b64_extra_padding", CB_EVALUE},
    {"b64_truncated", CB_EVALUE},
    {"b64_newline_inside", CB_EVALUE}, /* Go: ok (skips CR/LF); canonical */
    {"b64_urlsafe", CB_EVALUE},
    {"trailing_newline", CB_EVALUE},   /* Go: ok (skips LF) */
    {"trailing_space", CB_EVALUE},
    {"missing_key", CB_EVALUE},
    {"only_name", CB_EVALUE},
    {"empty", CB_EVALUE},
    {"private_key", CB_EVALUE},
};

static const struct verdict skey_verdicts[] = {
    {"valid", 0},
    {"lower_prefix", CB_EVALUE},
    {"no_prefix", CB_EVALUE},
    {"upper_hash", 0},
    {"wrong_hash", CB_EVALUE},
    {"other_name", CB_EVALUE},
    {"alg_2", CB_EVALUE},
    {"seed_31_bytes", CB_EVALUE},
    {"b64_crlf_inside", CB_EVALUE}, /* Go: ok */
    {"b64_extra_padding", CB_EVALUE},
    {"name_with_space", CB_EVALUE},
    {"trailing_newline", CB_EVALUE}, /* Go: ok; key files strip one "\n" */
    {"verifier_key", CB_EVALUE},
    {"empty", CB_EVALUE},
};

static const struct verdict *find(const struct verdict *t, size_t n,
                                  const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

Test(notekey, verifier_key_cases_against_go)
{
    size_t n = sizeof vkey_verdicts / sizeof vkey_verdicts[0];
    json_t *cases = section(go, "vkey_cases");
    cr_assert_eq(json_array_size(cases), n, "a case without a verdict");
    struct cy_key k0;
    vector_key(0, &k0);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const struct verdict *v = find(vkey_verdicts, n, str(c, "id"));
        cr_assert_not_null(v, "no verdict for %s", str(c, "id"));
        bool go_ok = strcmp(str(c, "go"), "ok") == 0;
        if (v->code == 0)
            cr_assert(go_ok, "%s: credbank more lenient than Go", v->id);
        char name[CY_NAME_MAX + 1] = "untouched";
        uint8_t pk[CY_PK_LEN] = {0};
        int rv = cy_note_vkey_parse(str(c, "key"), name, pk);
        cr_assert_eq(rv, v->code, "%s: got %s", v->id, cb_errname(rv));
        if (rv == 0) {
            cr_assert_str_eq(name, k0.name);
            cr_assert_arr_eq(pk, k0.pk, CY_PK_LEN);
        } else {
            cr_assert_str_eq(name, "untouched", "%s: output written", v->id);
            cr_assert_arr_eq(pk, ((uint8_t[CY_PK_LEN]){0}), CY_PK_LEN);
        }
    }
    cy_key_wipe(&k0);
}

Test(notekey, private_key_cases_against_go)
{
    size_t n = sizeof skey_verdicts / sizeof skey_verdicts[0];
    json_t *cases = section(go, "skey_cases");
    cr_assert_eq(json_array_size(cases), n, "a case without a verdict");
    struct cy_key k0;
    vector_key(0, &k0);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const struct verdict *v = find(skey_verdicts, n, str(c, "id"));
        cr_assert_not_null(v, "no verdict for %s", str(c, "id"));
        bool go_ok = strcmp(str(c, "go"), "ok") == 0;
        if (v->code == 0)
            cr_assert(go_ok, "%s: credbank more lenient than Go", v->id);
        struct cy_key k;
        memset(&k, 0x5a, sizeof k);
        struct cy_key before = k;
        int rv = cy_note_skey_parse(str(c, "key"), &k);
        cr_assert_eq(rv, v->code, "%s: got %s", v->id, cb_errname(rv));
        if (rv == 0)
            cr_assert_arr_eq(&k, &k0, sizeof k);
        else
            cr_assert_arr_eq(&k, &before, sizeof k, "%s: key written",
                             v->id);
        cy_key_wipe(&k);
    }
    cy_key_wipe(&k0);
}

Test(notekey, tampered_strings)
{
    struct cy_key k;
    vector_key(1, &k);
    char vk[CY_VKEY_MAX], sk[CY_SKEY_MAX], t[CY_SKEY_MAX];
    char name[CY_NAME_MAX + 1];
    uint8_t pk[CY_PK_LEN];
    struct cy_key r;
    cr_assert_eq(cy_note_vkey(vk, sizeof vk, k.name, k.pk), 0);
    cr_assert_eq(cy_note_skey(sk, sizeof sk, &k), 0);

    /* Every single-character change of the verifier key is refused: in the
     * name or key the hash no longer matches, in the hash it differs. */
    static const char alphabet[] = "A+/0aZ.-_9";
    for (size_t i = 0; vk[i] != '\0'; i++) {
        for (const char *a = alphabet; *a; a++) {
            if (vk[i] == *a)
                continue;
            memcpy(t, vk, sizeof vk);
            t[i] = *a;
            bool upper_same = t[i] >= 'A' && t[i] <= 'F' &&
                              vk[i] == t[i] - 'A' + 'a' &&
                              i > strlen(k.name) &&
                              i <= strlen(k.name) + 8;
            if (upper_same)
                continue; /* the hash in upper case: same hash */
            cr_assert_neq(cy_note_vkey_parse(t, name, pk), 0, "%s", t);
        }
    }
    /* and of the private key's hash and seed */
    size_t start = strlen("PRIVATE+KEY+") + strlen(k.name) + 1;
    for (size_t i = start; sk[i] != '\0'; i++) {
        memcpy(t, sk, sizeof sk);
        /* 'b' -> 'B' would be the same hash digit */
        t[i] = (t[i] == 'B' || t[i] == 'b') ? 'C' : 'B';
        cr_assert_eq(cy_note_skey_parse(t, &r), CB_EVALUE, "%s", t);
    }
    /* a private key string is not a verifier key, nor the other way */
    cr_assert_eq(cy_note_vkey_parse(sk, name, pk), CB_EVALUE);
    cr_assert_eq(cy_note_skey_parse(vk, &r), CB_EVALUE);
    cy_key_wipe(&k);
}

/* ======================= key files ======================= */

struct tmp {
    char dir[64];
    char path[128];
};

static void tmp_init(struct tmp *t, const char *file)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/credbank-notekey-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, file);
}

static void tmp_release(struct tmp *t)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    cr_assert_eq(system(cmd), 0);
}

/* Writes len bytes of s to path with the given mode (umask bypassed). */
static void put(const char *path, const void *s, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, s, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

Test(notekey, key_file_round_trip)
{
    struct tmp t;
    struct cy_key k, r;
    struct cb_err err = {0, ""};
    char want[CY_SKEY_MAX + 1], got[512];
    tmp_init(&t, "bank.key");
    vector_key(0, &k);
    mode_t old = umask(0); /* the file is 0600 whatever the umask */
    cr_assert_eq(cy_keyfile_write(t.path, &k, &err), 0, "%s", err.msg);
    umask(old);

    struct stat st;
    cr_assert_eq(stat(t.path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
    /* exactly the private key string and one newline */
    cr_assert_eq(cy_note_skey(want, sizeof want, &k), 0);
    strcat(want, "\n");
    slurp(t.path, got, sizeof got);
    cr_assert_str_eq(got, want);
    char py_line[CY_SKEY_MAX + 1];
    snprintf(py_line, sizeof py_line, "%s\n",
             str(json_array_get(section(py, "keys"), 0), "skey"));
    cr_assert_str_eq(got, py_line, "the string gen_crypto.py made");

    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(&r, &k, sizeof k);

    /* 0400 is fine too */
    cr_assert_eq(chmod(t.path, 0400), 0);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(&r, &k, sizeof k);

    /* the trailing newline is optional */
    want[strlen(want) - 1] = '\0';
    put(t.path, want, strlen(want), 0600);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(&r, &k, sizeof k);
    cy_key_wipe(&k);
    cy_key_wipe(&r);
    tmp_release(&t);
}

Test(notekey, key_file_made_by_go_loads)
{
    struct tmp t;
    struct cy_key k, r;
    struct cb_err err = {0, ""};
    tmp_init(&t, "go.key");
    json_t *g = json_array_get(section(go, "keys"), 3);
    char line[CY_SKEY_MAX + 1];
    snprintf(line, sizeof line, "%s\n", str(g, "skey"));
    put(t.path, line, strlen(line), 0600);
    vector_key(3, &k);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(&r, &k, sizeof k);
    cy_key_wipe(&k);
    cy_key_wipe(&r);
    tmp_release(&t);
}

Test(notekey, key_file_never_overwritten)
{
    struct tmp t;
    struct cy_key a, b, r;
    struct cb_err err = {0, ""};
    char before[512], after[512];
    tmp_init(&t, "bank.key");
    vector_key(0, &a);
    vector_key(1, &b);
    cr_assert_eq(cy_keyfile_write(t.path, &a, &err), 0, "%s", err.msg);
    slurp(t.path, before, sizeof before);
    cr_assert_eq(cy_keyfile_write(t.path, &b, &err), CB_EEXISTS);
    cr_assert_eq(err.code, CB_EEXISTS);
    cr_assert_not_null(strstr(err.msg, t.path), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "never overwritten"), "%s", err.msg);
    slurp(t.path, after, sizeof after);
    cr_assert_str_eq(after, before, "existing key changed");
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(r.pk, a.pk, CY_PK_LEN);

    /* nor is a symlink followed, even a dangling one */
    char link[160], target[160];
    snprintf(link, sizeof link, "%s/link.key", t.dir);
    snprintf(target, sizeof target, "%s/target.key", t.dir);
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_eq(cy_keyfile_write(link, &b, &err), CB_EEXISTS);
    cr_assert_eq(access(target, F_OK), -1, "symlink followed");
    cy_key_wipe(&a);
    cy_key_wipe(&b);
    cy_key_wipe(&r);
    tmp_release(&t);
}

Test(notekey, key_file_readable_by_others_refused)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0620, 0602,
                                   0610, 0601, 0666, 0777, 0700 | 0044};
    struct tmp t;
    struct cy_key k, r;
    struct cb_err err = {0, ""};
    tmp_init(&t, "bank.key");
    vector_key(0, &k);
    cr_assert_eq(cy_keyfile_write(t.path, &k, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char mode[8];
        cr_assert_eq(chmod(t.path, modes[i]), 0);
        memset(&r, 0x77, sizeof r);
        err.msg[0] = '\0';
        cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_EINVAL,
                     "mode %o accepted", modes[i]);
        cr_assert_eq(err.code, CB_EINVAL);
        snprintf(mode, sizeof mode, "%04o", (unsigned)modes[i]);
        cr_assert_not_null(strstr(err.msg, mode), "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "group or others"), "%s",
                           err.msg);
        cr_assert_not_null(strstr(err.msg, "chmod 600"), "%s", err.msg);
        cr_assert_arr_eq(&r, ((uint8_t[sizeof r]){0}), sizeof r,
                         "key not wiped on failure");
    }
    cr_assert_eq(chmod(t.path, 0600), 0);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), 0, "%s", err.msg);
    cy_key_wipe(&k);
    cy_key_wipe(&r);
    tmp_release(&t);
}

Test(notekey, key_file_bad_contents_refused)
{
    struct tmp t;
    struct cy_key k, r;
    struct cb_err err = {0, ""};
    char sk[CY_SKEY_MAX], buf[1024];
    tmp_init(&t, "bank.key");
    vector_key(0, &k);
    cr_assert_eq(cy_note_skey(sk, sizeof sk, &k), 0);
    size_t n = strlen(sk);

    struct {
        const char *what;
        const char *fmt; /* %s is the key string */
    } cases[] = {
        {"CRLF", "%s\r\n"},
        {"two newlines", "%s\n\n"},
        {"a second line", "%s\nPRIVATE+KEY+x+00000000+AA==\n"},
        {"leading space", " %s\n"},
        {"trailing space", "%s \n"},
        {"leading newline", "\n%s"},
        {"twice", "%s%s"},
        {"empty", ""},
        {"just a newline", "\n"},
        {"verifier key",
         "bank+bfd159f9+Acuct3cCAT8a3N853BzJEIU+XAMYSP4OqBRao1X3qjUK\n"},
        {"garbage", "PRIVATE+KEY+bank+00000000+garbage\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int len = snprintf(buf, sizeof buf, cases[i].fmt, sk, sk);
        put(t.path, buf, (size_t)len, 0600);
        memset(&r, 0x33, sizeof r);
        cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_EVALUE, "%s",
                     cases[i].what);
        cr_assert_not_null(strstr(err.msg, "not a signed-note private key"),
                           "%s", err.msg);
        cr_assert_arr_eq(&r, ((uint8_t[sizeof r]){0}), sizeof r);
    }
    /* a NUL after the key */
    memcpy(buf, sk, n);
    memcpy(buf + n, "\0\n", 2);
    put(t.path, buf, n + 2, 0600);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_EVALUE);
    /* a long file that starts with the key */
    memcpy(buf, sk, n);
    memset(buf + n, '\n', sizeof buf - n);
    put(t.path, buf, sizeof buf, 0600);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_EVALUE);
    cy_key_wipe(&k);
    tmp_release(&t);
}

Test(notekey, key_file_not_found_and_not_regular)
{
    struct tmp t;
    struct cy_key r;
    struct cb_err err = {0, ""};
    tmp_init(&t, "missing.key");
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_ENOTFOUND);
    cr_assert_not_null(strstr(err.msg, t.path), "%s", err.msg);
    cr_assert_eq(cy_keyfile_read(t.dir, &r, &err), CB_EINVAL, "a directory");
    cr_assert_not_null(strstr(err.msg, "not a regular file"), "%s", err.msg);
    /* a FIFO is refused without blocking on it */
    cr_assert_eq(mkfifo(t.path, 0600), 0);
    cr_assert_eq(cy_keyfile_read(t.path, &r, &err), CB_EINVAL, "a FIFO");
    /* and err may be NULL */
    cr_assert_eq(cy_keyfile_read("/nonexistent/x.key", &r, NULL),
                 CB_ENOTFOUND);
    tmp_release(&t);
}

Test(notekey, key_file_write_failures_leave_nothing)
{
    struct tmp t;
    struct cy_key k;
    struct cb_err err = {0, ""};
    tmp_init(&t, "bank.key");
    vector_key(0, &k);

    /* a directory that does not exist */
    char path[192];
    snprintf(path, sizeof path, "%s/no/such/dir.key", t.dir);
    cr_assert_eq(cy_keyfile_write(path, &k, &err), CB_EIO);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);

    /* a key whose name cannot be written: no file at all */
    struct cy_key bad = k;
    strcpy(bad.name, "bad name");
    cr_assert_eq(cy_keyfile_write(t.path, &bad, &err), CB_EINVAL);
    cr_assert_eq(access(t.path, F_OK), -1, "file created");

    /* Fault injection: the file size limit makes write() fail part way
     * (EFBIG); the partial key must be removed. */
    struct rlimit old, small = {.rlim_cur = 10, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rv = cy_keyfile_write(t.path, &k, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    cr_assert_eq(rv, CB_EIO, "got %s", cb_errname(rv));
    cr_assert_not_null(strstr(err.msg, "cannot write"), "%s", err.msg);
    cr_assert_eq(access(t.path, F_OK), -1, "partial key file left behind");

    /* and afterwards the write succeeds */
    cr_assert_eq(cy_keyfile_write(t.path, &k, NULL), 0);
    cy_key_wipe(&k);
    cy_key_wipe(&bad);
    tmp_release(&t);
}
