/*
 * C2SP signed-note keys (https://c2sp.org/signed-note) and key files.
 *
 *   verifier key  <name>+<8 hex key hash>+<base64(0x01 || public key)>
 *   private key   PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>
 *   key hash      first 4 bytes of SHA-256(name || "\n" || 0x01 || pk)
 *
 * These are the strings Go's golang.org/x/mod/sumdb/note writes and reads,
 * so any signed-note tool can verify credbank checkpoints with the verifier
 * keys credbank prints (DESIGN section 3.4), and a key made by `note`'s
 * GenerateKey can be loaded as a credbank key. spec/vectors/notekey.json
 * holds Go's strings for the keys of crypto.json and Go's verdicts on
 * malformed strings; tests/unit/test_notekey.c checks both.
 *
 * Parsing is Go's, narrowed where credbank has its own rules (spec/crypto.md
 * lists every difference): names are DESIGN's 1-64 characters of
 * A-Za-z0-9._- (Go allows any UTF-8 without spaces or '+'); base64 must be
 * canonical (Go skips CR and LF inside it); a verifier key must pass
 * cy_pk_check (Go takes any 32 bytes). Like Go, the 8 hex digits of the key
 * hash may be in either case, and a hash that does not match the name and key
 * refuses the string.
 *
 * A key file holds the private key string and one "\n", mode 0600, created
 * with O_EXCL so an existing key is never overwritten, and synced (file and
 * directory) before cy_keyfile_write returns, so a key that was reported
 * written survives a crash. cy_keyfile_read refuses files with any group or
 * other permission bit, like OpenSSH does for private keys.
 */
#include <credbank/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALG_ED25519 0x01
#define KEY_B64_LEN 44        /* base64 of 0x01 || 32 bytes, no padding */
#define HASH_HEX_LEN 8        /* the key hash as 8 hex digits */
static const char skey_prefix[] = "PRIVATE+KEY+";
#define SKEY_PREFIX_LEN (sizeof skey_prefix - 1)

bool cy_name_valid(const char *name)
{
    size_t n = strnlen(name, CY_NAME_MAX + 1);
    if (n < 1 || n > CY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void cy_note_keyhash(uint8_t out[4], const char *name,
                     const uint8_t pk[CY_PK_LEN])
{
    static const uint8_t sep[2] = {'\n', ALG_ED25519};
    struct cy_sha256 h;
    uint8_t full[CY_HASH_LEN];

    cy_sha256_init(&h);
    cy_sha256_update(&h, name, strlen(name));
    cy_sha256_update(&h, sep, sizeof sep);
    cy_sha256_update(&h, pk, CY_PK_LEN);
    cy_sha256_final(&h, full);
    memcpy(out, full, 4);
}

/* prefix || name "+" hex(keyhash(name, pk)) "+" base64(0x01 || key) into
 * out[cap]. key is pk for a verifier key and the seed for a private key, so
 * raw and b64 may hold the secret seed: both are wiped, and so is out when
 * the string does not fit. */
static int key_string(char *out, size_t cap, const char *prefix,
                      const char *name, const uint8_t pk[CY_PK_LEN],
                      const uint8_t key[32])
{
    uint8_t hash[4], raw[1 + 32];
    char hex[2 * sizeof hash + 1], b64[KEY_B64_LEN + 1];
    int n, rv = 0;

    if (!cy_name_valid(name))
        return CB_EINVAL;
    cy_note_keyhash(hash, name, pk);
    cy_hex(hex, hash, sizeof hash);
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key, 32);
    cy_b64(b64, raw, sizeof raw);
    n = snprintf(out, cap, "%s%s+%s+%s", prefix, name, hex, b64);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            cy_wipe(out, cap);
        rv = CB_ETOOBIG;
    }
    cy_wipe(raw, sizeof raw);
    cy_wipe(b64, sizeof b64);
    return rv;
}

int cy_note_vkey(char *out, size_t cap, const char *name,
                 const uint8_t pk[CY_PK_LEN])
{
    return key_string(out, cap, "", name, pk, pk);
}

int cy_note_skey(char *out, size_t cap, const struct cy_key *k)
{
    return key_string(out, cap, skey_prefix, k->name, k->pk, k->seed);
}

/*
 * Splits "<name>+<8 hex>+<base64(0x01 || 32 bytes)>" (the whole of s) into
 * name (CY_NAME_MAX + 1 bytes), the key hash and the 32 key bytes. Only the
 * form is checked here, not the hash. key may receive a secret seed: it is
 * written only on success, and the decoding buffer is wiped on every path.
 */
static int split_key(const char *s, char name[CY_NAME_MAX + 1],
                     uint8_t hash[4], uint8_t key[32])
{
    uint8_t raw[1 + 32];
    size_t namelen, rawlen = 0;
    const char *p1, *p2, *b64;
    char hex[HASH_HEX_LEN + 1];
    int rv = CB_EVALUE;

    /* The name is up to the first '+', the hash up to the second; the rest,
     * '+' characters included, is base64. */
    p1 = strchr(s, '+');
    if (p1 == NULL)
        return CB_EVALUE;
    namelen = (size_t)(p1 - s);
    if (namelen < 1 || namelen > CY_NAME_MAX)
        return CB_EVALUE;
    memcpy(name, s, namelen);
    name[namelen] = '\0';
    if (!cy_name_valid(name))
        return CB_EVALUE;
    p2 = strchr(p1 + 1, '+');
    if (p2 == NULL || p2 - (p1 + 1) != HASH_HEX_LEN)
        return CB_EVALUE;
    memcpy(hex, p1 + 1, HASH_HEX_LEN);
    hex[HASH_HEX_LEN] = '\0';
    if (cy_unhex(hash, 4, hex) != 0) /* either case, like Go's ParseUint */
        return CB_EVALUE;
    b64 = p2 + 1;
    if (strnlen(b64, KEY_B64_LEN + 1) != KEY_B64_LEN)
        goto out;
    if (cy_unb64(raw, sizeof raw, &rawlen, b64, KEY_B64_LEN) != 0 ||
        rawlen != sizeof raw || raw[0] != ALG_ED25519)
        goto out;
    memcpy(key, raw + 1, 32);
    rv = 0;
out:
    cy_wipe(raw, sizeof raw);
    return rv;
}

int cy_note_vkey_parse(const char *s, char *name, uint8_t pk[CY_PK_LEN])
{
    char n[CY_NAME_MAX + 1];
    uint8_t hash[4], want[4], key[CY_PK_LEN];
    int rv;

    /* Parse into locals: name and pk are written only on success. */
    if ((rv = split_key(s, n, hash, key)) != 0)
        return rv;
    cy_note_keyhash(want, n, key);
    if (memcmp(hash, want, sizeof hash) != 0)
        return CB_EVALUE;
    if (cy_pk_check(key) != 0)
        return CB_EBADKEY;
    memcpy(name, n, strlen(n) + 1);
    memcpy(pk, key, CY_PK_LEN);
    return 0;
}

int cy_note_skey_parse(const char *s, struct cy_key *k)
{
    char name[CY_NAME_MAX + 1];
    uint8_t hash[4], want[4], seed[CY_SEED_LEN];
    struct cy_key tmp;
    int rv;

    if (strncmp(s, skey_prefix, SKEY_PREFIX_LEN) != 0)
        return CB_EVALUE;
    rv = split_key(s + SKEY_PREFIX_LEN, name, hash, seed);
    if (rv != 0)
        goto out;
    rv = cy_key_from_seed(&tmp, name, seed);
    if (rv != 0) {
        rv = CB_EVALUE;
        goto out;
    }
    /* The hash names the public key, which only the seed determines: a
     * mismatch means a damaged seed or a renamed key. */
    cy_note_keyhash(want, name, tmp.pk);
    if (memcmp(hash, want, sizeof hash) != 0) {
        rv = CB_EVALUE;
        goto out;
    }
    memcpy(k, &tmp, sizeof tmp);
out:
    cy_wipe(seed, sizeof seed);
    cy_key_wipe(&tmp);
    return rv;
}

/* ---------------- key files ---------------- */

/* Writes all of buf, retrying short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync of the directory holding path, so the new directory entry is as
 * durable as the file's contents. */
static int sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd, rv;

    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rv = fsync(fd);
    if (close(fd) != 0)
        rv = -1;
    return rv;
}

int cy_keyfile_write(const char *path, const struct cy_key *k,
                     struct cb_err *err)
{
    char s[CY_SKEY_MAX + 1]; /* the string, "\n" and NUL */
    size_t n;
    int fd, rv;

    rv = cy_note_skey(s, sizeof s - 1, k);
    if (rv != 0) {
        cb_errf(err, rv, "%s: cannot encode the key (bad name?)", path);
        goto err;
    }
    n = strlen(s);
    s[n++] = '\n';
    /* O_EXCL: never replace an existing key (or follow a symlink). */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rv = errno == EEXIST ? CB_EEXISTS : CB_EIO;
        cb_errf(err, rv, "%s: %s%s", path, strerror(errno),
                rv == CB_EEXISTS ? " (a key file is never overwritten)" : "");
        goto err;
    }
    /* The umask may only have narrowed 0600; make it exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, s, n) != 0 || fsync(fd) != 0) {
        rv = cb_errf(err, CB_EIO, "%s: cannot write the key: %s", path,
                     strerror(errno));
        goto err_after_open;
    }
    if (close(fd) != 0) {
        fd = -1;
        rv = cb_errf(err, CB_EIO, "%s: cannot write the key: %s", path,
                     strerror(errno));
        goto err_after_open;
    }
    fd = -1;
    if (sync_dir(path) != 0) {
        rv = cb_errf(err, CB_EIO, "%s: cannot sync its directory: %s", path,
                     strerror(errno));
        goto err_after_open;
    }
    cy_wipe(s, sizeof s);
    return 0;

err_after_open:
    /* The file is ours (O_EXCL): remove it so a failed write leaves no
     * partial key behind and a retry is not refused as "exists". */
    if (fd >= 0)
        close(fd);
    unlink(path);
err:
    cy_wipe(s, sizeof s);
    return rv;
}

int cy_keyfile_read(const char *path, struct cy_key *k, struct cb_err *err)
{
    /* Room for the longest key string, its "\n" and one byte more, to tell a
     * too-long file from a full one. */
    char s[CY_SKEY_MAX + 2];
    size_t len = 0;
    struct stat st;
    int fd, rv;

    /* O_NONBLOCK: a FIFO at path must not hang us before the S_ISREG check;
     * it changes nothing for regular files. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rv = errno == ENOENT ? CB_ENOTFOUND : CB_EIO;
        cb_errf(err, rv, "%s: %s", path, strerror(errno));
        goto err;
    }
    if (fstat(fd, &st) != 0) {
        rv = cb_errf(err, CB_EIO, "%s: %s", path, strerror(errno));
        goto err_after_open;
    }
    if (!S_ISREG(st.st_mode)) {
        rv = cb_errf(err, CB_EINVAL, "%s: not a regular file", path);
        goto err_after_open;
    }
    if ((st.st_mode & 077) != 0) {
        rv = cb_errf(err, CB_EINVAL,
                     "%s: key file is accessible by group or others "
                     "(mode %04o); run chmod 600 %s",
                     path, (unsigned)(st.st_mode & 07777), path);
        goto err_after_open;
    }
    while (len < sizeof s - 1) {
        ssize_t got = read(fd, s + len, sizeof s - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rv = cb_errf(err, CB_EIO, "%s: %s", path, strerror(errno));
            goto err_after_open;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    fd = -1;
    s[len] = '\0';
    if (len > 0 && s[len - 1] == '\n')
        s[--len] = '\0';
    /* A NUL inside, a second line or a longer file all fail the parse:
     * the string must be the whole remaining content. */
    if (strlen(s) != len || cy_note_skey_parse(s, k) != 0) {
        rv = cb_errf(err, CB_EVALUE,
                     "%s: not a signed-note private key "
                     "(PRIVATE+KEY+<name>+<hash>+<base64>, one line)",
                     path);
        goto err;
    }
    cy_wipe(s, sizeof s);
    return 0;

err_after_open:
    close(fd);
err:
    cy_wipe(s, sizeof s);
    cy_key_wipe(k);
    return rv;
}
