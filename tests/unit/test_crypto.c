/* crypto/: Ed25519 and SHA-256 against python3-nacl/hashlib vectors
 * (gen_crypto.py), signed-note key strings against Go's sumdb/note
 * (gen_notekey.go), hex/base64 edge cases, key files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include <credbank/crypto.h>

static json_t *vec, *go;

static void setup(void)
{
    cr_assert_eq(cy_init(), 0);
    json_error_t e;
    vec = json_load_file(CB_SOURCE_DIR "/spec/vectors/crypto.json", 0, &e);
    cr_assert_not_null(vec, "%s", e.text);
    go = json_load_file(CB_SOURCE_DIR "/spec/vectors/notekey.json", 0, &e);
    cr_assert_not_null(go, "%s", e.text);
}

static void teardown(void)
{
    json_decref(vec);
    json_decref(go);
}

TestSuite(crypto, .init = setup, .fini = teardown);

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    cr_assert_not_null(s, "vector lacks %s", k);
    return s;
}

Test(crypto, ed25519_and_note_keys_match_nacl_and_go)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(vec, "keys"), i, k) {
        const char *name = str(k, "name");
        uint8_t seed[32], pk[32], kh[4];
        cr_assert_eq(cy_unhex(seed, 32, str(k, "seed")), 0);
        cr_assert_eq(cy_unhex(pk, 32, str(k, "pk")), 0);
        struct cy_key key;
        cr_assert_eq(cy_key_from_seed(&key, name, seed), 0, "%s", name);
        cr_assert_arr_eq(key.pk, pk, 32, "%s: public key", name);
        cr_assert_eq(cy_pk_check(key.pk), 0);
        cy_note_keyhash(kh, name, pk);
        uint8_t want_kh[4];
        cy_unhex(want_kh, 4, str(k, "keyhash"));
        cr_assert_arr_eq(kh, want_kh, 4);

        char vk[CY_VKEY_MAX], sk[CY_SKEY_MAX];
        cr_assert_eq(cy_note_vkey(vk, sizeof vk, name, pk), 0);
        cr_assert_str_eq(vk, str(k, "vkey"));
        cr_assert_eq(cy_note_skey(sk, sizeof sk, &key), 0);
        cr_assert_str_eq(sk, str(k, "skey"));
        /* and what Go's sumdb/note made from the same seed */
        json_t *g = json_array_get(json_object_get(go, "keys"), i);
        cr_assert_str_eq(vk, str(g, "vkey"));
        cr_assert_str_eq(sk, str(g, "skey"));

        char pname[CY_NAME_MAX + 1];
        uint8_t ppk[32];
        cr_assert_eq(cy_note_vkey_parse(vk, pname, ppk), 0);
        cr_assert_str_eq(pname, name);
        cr_assert_arr_eq(ppk, pk, 32);
        struct cy_key back;
        cr_assert_eq(cy_note_skey_parse(sk, &back), 0);
        cr_assert_arr_eq(back.pk, pk, 32);
        cr_assert_str_eq(back.name, name);

        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(k, "sigs"), j, s) {
            const char *mh = str(s, "msg");
            size_t mlen = strlen(mh) / 2;
            uint8_t *msg = malloc(mlen + 1), sig[64], want[64];
            cr_assert_eq(cy_unhex(msg, mlen, mh), 0);
            cr_assert_eq(cy_unhex(want, 64, str(s, "sig")), 0);
            cy_sign(sig, msg, mlen, &key);
            cr_assert_arr_eq(sig, want, 64, "%s: signature %zu", name, j);
            cr_assert_eq(cy_verify(sig, msg, mlen, pk), 0);
            sig[63] ^= 0x10;
            cr_assert_eq(cy_verify(sig, msg, mlen, pk), CB_EBADSIG);
            sig[63] ^= 0x10;
            if (mlen > 0) {
                msg[0] ^= 1;
                cr_assert_eq(cy_verify(sig, msg, mlen, pk), CB_EBADSIG);
            }
            free(msg);
        }
        cy_key_wipe(&key);
        uint8_t zero[sizeof key] = {0};
        cr_assert_arr_eq(&key, zero, sizeof key, "wiped");
    }
    cr_assert_eq(i, 5);
}

Test(crypto, sha256_one_shot_and_incremental)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "sha256"), i, v) {
        const char *mh = str(v, "msg");
        size_t n = strlen(mh) / 2;
        uint8_t *m = malloc(n + 1), got[32], want[32];
        cy_unhex(m, n, mh);
        cy_unhex(want, 32, str(v, "sha256"));
        cy_sha256(got, m, n);
        cr_assert_arr_eq(got, want, 32);
        struct cy_sha256 h;
        cy_sha256_init(&h);
        for (size_t k = 0; k < n; k += 7)
            cy_sha256_update(&h, m + k, n - k < 7 ? n - k : 7);
        cy_sha256_final(&h, got);
        cr_assert_arr_eq(got, want, 32);
        free(m);
    }
}

Test(crypto, bad_public_keys_refused)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vec, "bad_keys"), i, v) {
        uint8_t pk[32];
        cy_unhex(pk, 32, json_string_value(v));
        cr_assert_eq(cy_pk_check(pk), CB_EBADKEY, "bad key %zu accepted", i);
    }
}

Test(crypto, names)
{
    cr_assert(cy_name_valid("bank"));
    cr_assert(cy_name_valid("A.b_c-9"));
    cr_assert(!cy_name_valid(""));
    cr_assert(!cy_name_valid("a+b"));
    cr_assert(!cy_name_valid("a b"));
    cr_assert(!cy_name_valid("한국"));
    char long_name[66];
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    cr_assert(!cy_name_valid(long_name));
    long_name[64] = '\0';
    cr_assert(cy_name_valid(long_name));
    struct cy_key k;
    cr_assert_eq(cy_key_generate(&k, "bad name"), CB_EINVAL);
}

Test(crypto, note_key_strings_refuse_tampering)
{
    json_t *k = json_array_get(json_object_get(vec, "keys"), 0);
    char vk[CY_VKEY_MAX], name[CY_NAME_MAX + 1];
    uint8_t pk[32];
    snprintf(vk, sizeof vk, "%s", str(k, "vkey"));
    cr_assert_eq(cy_note_vkey_parse(vk, name, pk), 0);
    char *plus = strchr(vk, '+');
    plus[1] = plus[1] == '0' ? '1' : '0'; /* key hash */
    cr_assert_eq(cy_note_vkey_parse(vk, name, pk), CB_EVALUE);
    snprintf(vk, sizeof vk, "%s", str(k, "vkey"));
    vk[strlen(vk) - 3] ^= 1; /* key bytes */
    cr_assert_neq(cy_note_vkey_parse(vk, name, pk), 0);
    cr_assert_eq(cy_note_vkey_parse("bank+0000+AQ==", name, pk), CB_EVALUE);
    cr_assert_eq(cy_note_vkey_parse("nohash", name, pk), CB_EVALUE);
    struct cy_key key;
    char sk[CY_SKEY_MAX];
    snprintf(sk, sizeof sk, "%s", str(k, "skey"));
    cr_assert_eq(cy_note_skey_parse(sk + 1, &key), CB_EVALUE);
    sk[strlen(sk) - 5] ^= 1;
    cr_assert_eq(cy_note_skey_parse(sk, &key), CB_EVALUE,
                 "a seed that does not match the key hash");
}

Test(crypto, hex_and_base64)
{
    uint8_t b[4];
    char h[9];
    cr_assert_eq(cy_unhex(b, 4, "00FFaa10"), 0);
    cy_hex(h, b, 4);
    cr_assert_str_eq(h, "00ffaa10");
    cr_assert_eq(cy_unhex(b, 4, "00ffaa1"), CB_EVALUE);
    cr_assert_eq(cy_unhex(b, 4, "00ffaa1g"), CB_EVALUE);
    cr_assert_eq(cy_unhex(b, 4, "00ffaa1000"), CB_EVALUE);
    char s[16];
    cy_b64(s, (const uint8_t *)"ab", 2);
    cr_assert_str_eq(s, "YWI=");
    size_t n;
    uint8_t out[8];
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YWI=", 4), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YWJ=", 4), CB_EVALUE,
                 "non-zero padding bits");
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YWI", 3), CB_EVALUE);
    cr_assert_eq(cy_unb64(out, sizeof out, &n, "YW-=", 4), CB_EVALUE);
    cr_assert_eq(cy_unb64(out, 1, &n, "YWI=", 4), CB_EVALUE, "too small");
    cr_assert(cy_equal("abc", "abc", 3));
    cr_assert(!cy_equal("abc", "abd", 3));
}

Test(crypto, key_files)
{
    char dir[] = "/tmp/credbank-keys-XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/bank.key", dir);
    struct cy_key k, r;
    cr_assert_eq(cy_key_generate(&k, "bank"), 0);
    struct cb_err err = {0, ""};
    cr_assert_eq(cy_keyfile_write(path, &k, &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(cy_keyfile_write(path, &k, &err), CB_EEXISTS);
    cr_assert_eq(cy_keyfile_read(path, &r, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(r.pk, k.pk, 32);
    cr_assert_arr_eq(r.seed, k.seed, 32);
    cr_assert_str_eq(r.name, "bank");
    chmod(path, 0644);
    cr_assert_eq(cy_keyfile_read(path, &r, &err), CB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "chmod 600"), "%s", err.msg);
    chmod(path, 0600);
    FILE *f = fopen(path, "w");
    fputs("PRIVATE+KEY+bank+00000000+garbage\n", f);
    fclose(f);
    cr_assert_eq(cy_keyfile_read(path, &r, &err), CB_EVALUE);
    snprintf(path, sizeof path, "%s/missing.key", dir);
    cr_assert_eq(cy_keyfile_read(path, &r, &err), CB_ENOTFOUND);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    cy_key_wipe(&k);
    cy_key_wipe(&r);
}
