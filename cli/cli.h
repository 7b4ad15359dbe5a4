/*
 * credbank command-line tool: shared declarations of the files in cli/.
 *
 * The tool is a table of subcommands (main.c), one file per command
 * (cmd_*.c), over a few helpers (util.c, args.c, body.c, build.c). Every
 * command function takes its own argv (argv[0] is the command's name) and
 * returns the process exit status:
 *
 *   0  success
 *   1  failure: the input was invalid, a rule refused an entry, I/O failed
 *   2  usage: unknown flag, missing argument, a value of the wrong form
 *
 * Errors go to stderr as one line
 *
 *   credbank: <context>: <message> (<stable error name>)
 *
 * where the name is cb_errname() of the code (errors.h), so scripts can match
 * it. Only this directory prints or exits; the libraries return codes.
 */
#ifndef CREDBANK_CLI_H
#define CREDBANK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include <credbank/codec.h>
#include <credbank/crypto.h>
#include <credbank/entry.h>
#include <credbank/errors.h>
#include <credbank/ledger.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
#define CLI_HELP (-1) /* cli_args printed the help: exit 0 */

static inline int cli_exit(int rv)
{
    return rv == CLI_HELP ? CLI_OK : rv;
}

/* ---- commands (one file each) ---- */
int cmd_keygen(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_entry(int argc, char **argv);
int cmd_entry_build(int argc, char **argv);
int cmd_entry_inspect(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_members(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_export(int argc, char **argv);  /* cmd_bundle.c */
int cmd_verify(int argc, char **argv);  /* cmd_bundle.c */

/* A subcommand table row; the tables live in main.c, cmd_entry.c,
 * cmd_log.c and cmd_account.c. */
struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;    /* arguments, after "credbank <name> " */
    const char *summary;  /* one line */
};

/* Runs the row of table (n rows) named by argv[0], or prints the table and
 * returns CLI_USAGE. prefix is the command path ("credbank log"). */
int cli_dispatch(const char *prefix, const struct cli_cmd *table, size_t n,
                 int argc, char **argv);

/* ---- errors ---- */
/* Prints "credbank: ctx: msg (name of code)" and returns CLI_FAIL. */
int cli_fail(const char *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with the message of err (or the code's default message). */
int cli_fail_err(const char *ctx, int code, const struct cb_err *err);
/* Prints "credbank: ctx: msg (usage)", then "usage: credbank <usage>" when
 * usage is not NULL, and returns CLI_USAGE. */
int cli_usage(const char *ctx, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Exit status of a library code: 0 for 0, 2 for CB_EUSAGE, else 1. */
int cli_status_of(int code);

/* ---- arguments ---- */
/*
 * A small option parser shared by every command. Options are long
 * ("--dir D", "--dir=D") or the one short alias "-o"; "--" ends options.
 * Boolean options take no value. Unknown options are usage errors unless
 * extra is given: then each unknown "--name [value]" is collected there
 * (value NULL when the next argument is missing or starts with "--"), for
 * the per-type body flags of `entry build`.
 */
enum cli_opt_kind {
    CLI_OPT_STR,   /* one value; given twice is a usage error */
    CLI_OPT_LIST,  /* repeatable value */
    CLI_OPT_BOOL,  /* no value */
};

struct cli_list {
    const char **v;
    size_t n;
};

struct cli_opt {
    const char *name;        /* "--dir" or "-o" */
    enum cli_opt_kind kind;
    void *dest;              /* const char **, struct cli_list *, bool * */
};

struct cli_kv {
    const char *name;        /* without the leading "--" */
    const char *value;       /* NULL when none was given */
};

struct cli_kvs {
    struct cli_kv *v;
    size_t n;
};

/* Parses argv[1..argc) (argv[0] is the command). Positional arguments go to
 * pos (at most maxpos; more is a usage error), their count to *npos.
 * Returns 0, CLI_USAGE after printing the problem and the usage line, or
 * CLI_HELP after printing the usage for -h/--help: callers return
 * cli_exit(rv).
 * Lists and extra are malloc'd: release with cli_args_free. */
int cli_args(const char *ctx, const char *usage, int argc, char **argv,
             const struct cli_opt *opts, const char **pos, int maxpos,
             int *npos, struct cli_kvs *extra);
void cli_list_free(struct cli_list *l);
void cli_kvs_free(struct cli_kvs *k);

/* Parses a decimal uint64 (digits only, no sign, no overflow). */
bool cli_parse_u64(const char *s, uint64_t *out);

/* ---- files ---- */
/* Reads the whole file (at most max bytes; 0: 64 MiB) into a malloc'd
 * buffer with a NUL after the data. "-" reads stdin. */
int cli_read_file(const char *path, uint8_t **buf, size_t *len, size_t max,
                  struct cb_err *err);
/* Writes buf atomically: a temporary file in the same directory, fsync,
 * rename over path, fsync of the directory. mode is the new file's. */
int cli_write_atomic(const char *path, const void *buf, size_t len,
                     mode_t mode, struct cb_err *err);
/* Loads a key file (cy_keyfile_read); on failure prints
 * "credbank: <path>: <why> (<name>)" and returns CLI_FAIL. The caller wipes
 * k with cy_key_wipe when done. */
int cli_key_load(const char *path, struct cy_key *k);

/* ---- keys, ids and hashes in arguments ---- */
/* A public key given as a signed-note verifier key string or 64 hex. name
 * (CY_NAME_MAX + 1 bytes, may be NULL) gets the key name ("" for hex). */
int cli_parse_key(const char *s, uint8_t pk[32], char *name,
                  struct cb_err *err);
/* An entry id: 64 hex, or @FILE.cbe for the id of that signed entry. */
int cli_parse_id(const char *s, uint8_t id[32], struct cb_err *err);
/* A SHA-256 digest: 64 hex, or @FILE for the SHA-256 of that file. */
int cli_parse_digest(const char *s, uint8_t out[32], struct cb_err *err);
/* Exactly 2*len hex characters into out[len]. */
int cli_parse_hex(const char *s, uint8_t *out, size_t len,
                  struct cb_err *err);
/* A JSON value: inline text, or @FILE for the file's content. */
int cli_parse_json(const char *s, json_t **out, struct cb_err *err);
/* Verifier key of pk named name into out[CY_VKEY_MAX]; hex when the name is
 * not a valid key name. */
void cli_vkey(char *out, const char *name, const uint8_t pk[32]);
/* 64 lower-case hex of a 32-byte value in a rotating static buffer. */
const char *cli_hex32(const uint8_t b[32]);
/* A member JSON object whose keys are verifier key strings, 64 hex or
 * "hex:..." rewritten in place to the "hex:..." form lg_w_json writes as
 * bin. where names it in messages. */
int cli_member_keys(json_t *member, const char *where, struct cb_err *err);

/* ---- output ---- */
/* Prints j as indented JSON and a newline to stdout; CLI_FAIL if NULL. */
int cli_json_print(json_t *j);
/* Milliseconds since the Unix epoch. */
uint64_t cli_now_ms(void);
/* "2024-11-22 10:31:07.123 UTC" into out[32]. */
void cli_format_ms(char out[32], uint64_t ms);

/* The ledger head as JSON (status --json). */
json_t *cli_status_json(const struct lg_status *st);

/* ---- ledger directories ---- */
/* Opens the ledger in dir. With create false the directory must hold a
 * ledger already (data.mdb), and a missing genesis is an error too.
 * Prints the problem and returns CLI_FAIL on failure. */
int cli_ledger_open(const char *dir, bool create, struct lg_ledger **l);

/* ---- building entries ---- */
struct cli_entry {
    enum lg_type type;
    const struct cy_key *author;     /* signs first */
    const uint8_t *ledger;           /* NULL only for genesis */
    uint64_t ts;                     /* 0: now */
    const uint8_t *account;          /* NULL when the type has none */
    const uint8_t (*refs)[32];
    size_t nrefs;
    const uint8_t *body;             /* canonical map */
    size_t body_len;
    const struct cy_key *const *signers; /* further signers */
    size_t nsigners;
};

/* Encodes, signs and writes the signed entry into out (which it resets);
 * id (may be NULL) gets the entry id. */
int cli_entry_make(const struct cli_entry *e, struct lg_w *out, uint8_t id[32],
                   struct cb_err *err);

/*
 * The body of an entry of type t from --body (base, may be NULL: a JSON
 * object, bins written "hex:...") and the per-type flags. author is the
 * entry's author (default of key.rotate --old). Writes the canonical body
 * map into out. Prints problems under ctx and returns CLI_USAGE (an unknown
 * flag, a missing required field, a malformed value) or CLI_FAIL (a file
 * that cannot be read).
 */
int cli_body_build(const char *ctx, enum lg_type t, json_t *base,
                   const struct cli_kvs *flags, const uint8_t author[32],
                   struct lg_w *out);
/* The pii commitment SHA-256(salt || canonical msgpack of data), data a
 * JSON object of strings (DESIGN section 1). */
int cli_pii_commit(json_t *data, const uint8_t salt[32], uint8_t out[32],
                   struct cb_err *err);
/* Prints the body flags of type t (for help). */
void cli_body_help(FILE *f, enum lg_type t);
/* How many refs type t takes: *min and *max (SIZE_MAX: any), and what they
 * name ("deposit"); false for a type entry build does not build. */
bool cli_type_refs(enum lg_type t, size_t *min, size_t *max,
                   const char **what);

/* The genesis body from a genesis JSON file's content (DESIGN 4, section 6
 * of spec/cli.md): keys rewritten, quorums defaulted to 0. Fills the
 * canonical body into out and checks that author is an issuer key of a
 * founder. Prints problems under ctx. */
int cli_genesis_body(const char *ctx, json_t *spec, const uint8_t author[32],
                     struct lg_w *out);

/* Decodes buf as a signed entry, verifies its signatures and prints it
 * (human or JSON; extra's fields are added to the JSON, "index" also shown
 * to humans). CLI_FAIL when it does not decode or verify. */
int cli_inspect(const char *ctx, const uint8_t *buf, size_t len, bool json,
                json_t *extra);

/* ---- applying ---- */
/* Applies n signed entries as one batch in l and prints one line per entry
 * (labels[i] names it); JSON lines into arr when not NULL. Returns 0 when
 * every entry was applied (a duplicate counts as applied: its earlier
 * index is reported), CLI_FAIL otherwise. res (may be NULL) gets the
 * outcomes. */
int cli_apply(struct lg_ledger *l, const struct lg_buf *entries, size_t n,
              const char *const *labels, json_t *arr, bool quiet,
              struct lg_result *res);

/* ---- the Merkle log of a ledger (logio.c, over credbank/log.h) ---- */
/* A copy of leaf index (the signed-entry bytes), malloc'd. */
int cli_log_get(struct lg_ledger *l, uint64_t index, uint8_t **buf,
                size_t *len, struct cb_err *err);
/* Tree hash of the first size leaves. */
int cli_log_root(struct lg_ledger *l, uint64_t size, uint8_t root[32],
                 struct cb_err *err);
/* Inclusion proof of index in the tree of size leaves. */
int cli_log_prove(struct lg_ledger *l, uint64_t index, uint64_t size,
                  uint8_t proof[][32], size_t *n, struct cb_err *err);

/* ---- seals and checkpoints (cmd_seal.c, cmd_checkpoint.c) ---- */
/* The seal the ledger would append next, signed by node (ts: 0 for now,
 * raised to the previous seal's ts when the clock is behind it). */
int cli_seal_make(struct lg_ledger *l, const struct cy_key *node, uint64_t ts,
                  struct lg_w *out, uint8_t id[32], struct cb_err *err);
/* A cosign of the newest seal by node; *seal gets the seal's index. */
int cli_cosign_make(struct lg_ledger *l, const struct cy_key *node,
                    uint64_t ts, struct lg_w *out, uint64_t *seal,
                    struct cb_err *err);
/* Verifies a checkpoint note's signature lines against verifier keys
 * (vkeys: one per line). *nvalid gets the number of distinct known keys
 * whose signatures verify, names (may be NULL, cap bytes) their names; a
 * known key whose signature fails is CB_EBADSIG. root (may be NULL) gets
 * the note's root, *size its tree size. */
int cli_note_verify(const char *note, const char *vkeys, size_t *nvalid,
                    char *names, size_t cap, uint64_t *size,
                    uint8_t root[32], struct cb_err *err);

/* ---- accounts (cmd_account.c) ---- */
/* Prints the account view of id (a table, or JSON). */
int cli_account_print(struct lg_ledger *l, const uint8_t id[32], bool json);
/* Prints an account view (lg_account_view's JSON) as the table above. */
void cli_account_print_view(json_t *v);

#endif
