/*
 * C2SP signed-note keys and key files.
 *
 *   verifier key  <name>+<8 hex key hash>+<base64(0x01 || public key)>
 *   private key   PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>
 *   key hash      first 4 bytes of SHA-256(name || "\n" || 0x01 || pk)
 *
 * These are the strings Go's golang.org/x/mod/sumdb/note reads and writes,
 * so any signed-note tool can verify credbank checkpoints. A key file holds
 * the private key string and a newline, mode 0600.
 */
#include <credbank/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALG_ED25519 0x01

void cy_note_keyhash(uint8_t out[4], const char *name,
                     const uint8_t pk[CY_PK_LEN])
{
    struct cy_sha256 h;
    uint8_t sep[2] = {'\n', ALG_ED25519}, full[CY_HASH_LEN];
    cy_sha256_init(&h);
    cy_sha256_update(&h, name, strlen(name));
    cy_sha256_update(&h, sep, 2);
    cy_sha256_update(&h, pk, CY_PK_LEN);
    cy_sha256_final(&h, full);
    memcpy(out, full, 4);
}

/* name+hash+base64(0x01 || key) into out. */
static int key_string(char *out, size_t cap, const char *prefix,
                      const char *name, const uint8_t pk[CY_PK_LEN],
                      const uint8_t key[32])
{
    if (!cy_name_valid(name))
        return CB_EINVAL;
    uint8_t hash[4], raw[33];
    char hex[9], b64[64];
    cy_note_keyhash(hash, name, pk);
    cy_hex(hex, hash, 4);
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key, 32);
    cy_b64(b64, raw, sizeof raw);
    cy_wipe(raw, sizeof raw);
    int n = snprintf(out, cap, "%s%s+%s+%s", prefix, name, hex, b64);
    cy_wipe(b64, sizeof b64);
    if (n < 0 || (size_t)n >= cap) {
        cy_wipe(out, cap);
        return CB_ETOOBIG;
    }
    return 0;
}

int cy_note_vkey(char *out, size_t cap, const char *name,
                 const uint8_t pk[CY_PK_LEN])
{
    return key_string(out, cap, "", name, pk, pk);
}

int cy_note_skey(char *out, size_t cap, const struct cy_key *k)
{
    return key_string(out, cap, "PRIVATE+KEY+", k->name, k->pk, k->seed);
}

/* Splits "name+hash+b64" into its parts; key gets the 32 bytes after the
 * algorithm byte. */
static int parse_parts(const char *s, char *name, uint8_t hash[4],
                       uint8_t key[32])
{
    const char *p1 = strchr(s, '+');
    if (p1 == NULL || p1 == s || (size_t)(p1 - s) > CY_NAME_MAX)
        return CB_EVALUE;
    const char *p2 = strchr(p1 + 1, '+');
    if (p2 == NULL || p2 - p1 - 1 != 8)
        return CB_EVALUE;
    memcpy(name, s, (size_t)(p1 - s));
    name[p1 - s] = '\0';
    if (!cy_name_valid(name))
        return CB_EVALUE;
    char hex[9];
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    for (int i = 0; i < 8; i++)
        if (hex[i] >= 'A' && hex[i] <= 'F')
            hex[i] = (char)(hex[i] - 'A' + 'a');
    if (cy_unhex(hash, 4, hex) != 0)
        return CB_EVALUE;
    uint8_t raw[48];
    size_t n = 0;
    const char *b = p2 + 1;
    int rv = cy_unb64(raw, sizeof raw, &n, b, strlen(b));
    if (rv == 0 && (n != 33 || raw[0] != ALG_ED25519))
        rv = CB_EVALUE;
    if (rv == 0)
        memcpy(key, raw + 1, 32);
    cy_wipe(raw, sizeof raw);
    return rv == 0 ? 0 : CB_EVALUE;
}

int cy_note_vkey_parse(const char *s, char *name, uint8_t pk[CY_PK_LEN])
{
    uint8_t hash[4], want[4];
    int rv = parse_parts(s, name, hash, pk);
    if (rv != 0)
        return rv;
    cy_note_keyhash(want, name, pk);
    if (memcmp(hash, want, 4) != 0)
        return CB_EVALUE;
    return cy_pk_check(pk) == 0 ? 0 : CB_EBADKEY;
}

int cy_note_skey_parse(const char *s, struct cy_key *k)
{
    static const char prefix[] = "PRIVATE+KEY+";
    if (strncmp(s, prefix, sizeof prefix - 1) != 0)
        return CB_EVALUE;
    char name[CY_NAME_MAX + 1];
    uint8_t hash[4], want[4], seed[32];
    int rv = parse_parts(s + sizeof prefix - 1, name, hash, seed);
    if (rv == 0)
        rv = cy_key_from_seed(k, name, seed);
    cy_wipe(seed, sizeof seed);
    if (rv != 0)
        return CB_EVALUE;
    cy_note_keyhash(want, name, k->pk);
    if (memcmp(hash, want, 4) != 0) {
        cy_key_wipe(k);
        return CB_EVALUE;
    }
    return 0;
}

int cy_keyfile_write(const char *path, const struct cy_key *k,
                     struct cb_err *err)
{
    char s[CY_SKEY_MAX + 2];
    int rv = cy_note_skey(s, sizeof s - 1, k);
    if (rv != 0)
        return cb_errf(err, rv, "%s: cannot encode key", path);
    size_t n = strlen(s);
    s[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rv = errno == EEXIST ? CB_EEXISTS : CB_EIO;
        cb_errf(err, rv, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, s, n) != (ssize_t)n || fsync(fd) != 0) {
        rv = cb_errf(err, CB_EIO, "%s: write failed: %s", path,
                     strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) != 0)
        rv = cb_errf(err, CB_EIO, "%s: %s", path, strerror(errno));
out:
    cy_wipe(s, sizeof s);
    return rv;
}

int cy_keyfile_read(const char *path, struct cy_key *k, struct cb_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cb_errf(err, errno == ENOENT ? CB_ENOTFOUND : CB_EIO, "%s: %s",
                       path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return cb_errf(err, CB_EIO, "%s: %s", path, strerror(errno));
    }
    if (st.st_mode & 077) {
        close(fd);
        return cb_errf(err, CB_EINVAL,
                       "%s: key file is readable by others (mode %03o); "
                       "run chmod 600", path, (unsigned)(st.st_mode & 0777));
    }
    char s[CY_SKEY_MAX + 4];
    ssize_t n = read(fd, s, sizeof s - 1);
    close(fd);
    int rv = 0;
    if (n < 0) {
        rv = cb_errf(err, CB_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    s[n] = '\0';
    if (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    if (cy_note_skey_parse(s, k) != 0)
        rv = cb_errf(err, CB_EVALUE,
                     "%s: not a signed-note private key "
                     "(PRIVATE+KEY+name+hash+base64)", path);
out:
    cy_wipe(s, sizeof s);
    return rv;
}
