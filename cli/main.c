/*
 * credbank: the command-line tool of the credbank ledger.
 *
 * A table of subcommands, one file each (cmd_*.c). Exit status: 0 success,
 * 1 failure or invalid input, 2 usage. spec/cli.md is the reference.
 */
#include "cli.h"
#include "http.h"

#include <stdio.h>
#include <string.h>

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cli_cmd commands[] = {
    {"keygen", cmd_keygen, "keygen NAME [-o FILE]",
     "make an Ed25519 key file, print its verifier key"},
    {"genesis", cmd_genesis,
     "genesis build FILE.json --key FOUNDER.key [-o genesis.cbe]",
     "build and sign a consortium's genesis entry"},
    {"sign", cmd_sign, "sign FILE.cbe --key K.key [-o OUT.cbe]",
     "add a signature to a signed entry"},
    {"entry", cmd_entry, "entry build|sign|inspect ...",
     "build, co-sign or inspect entries"},
    {"submit", cmd_submit,
     "submit FILE.cbe... (--dir LEDGERDIR | --node URL) [--json]",
     "apply signed entries locally, or submit them to a node"},
    {"log", cmd_log, "log root|prove|verify-proof|append|get ...",
     "the Merkle log: roots, proofs, leaves"},
    {"seal", cmd_seal, "seal --dir D --key NODE.key",
     "append a seal (local stand-in for the node)"},
    {"cosign", cmd_cosign, "cosign --dir D --key NODE.key --name MEMBER",
     "cosign the newest seal (local stand-in for the node)"},
    {"checkpoint", cmd_checkpoint, "checkpoint (--dir D | --node URL)",
     "print the newest final checkpoint note"},
    {"status", cmd_status, "status (--dir D | --node URL) [--json]",
     "the ledger's head, or a node's status"},
    {"members", cmd_members,
     "members (--dir D | --node URL [--key K]) [--json]",
     "members, keys and policies"},
    {"account", cmd_account,
     "account show|history ID (--dir D | --node URL [--key K]) [--json]",
     "a learner account's view and entries"},
    {"export", cmd_export,
     "export ID --dir D -o FILE.cbx [--disclose JSON|@FILE] [--json]",
     "write a learner's bundle for the newest final checkpoint"},
    {"verify", cmd_verify,
     "verify FILE.cbx... --ledger HEX [--not-before TIME] [--json]",
     "check a bundle offline; print the account summary"},
    {"audit", cmd_audit,
     "audit (--dir DATADIR | --node URL --key K) [--account ID] "
     "[--since TIME] [--json]",
     "who read which account: a node's audit log"},
    {"demo", cmd_demo, "demo [--out DIR] [--credbankd PATH] [--local]",
     "start three local nodes, walk a learner through A1-A7"},
    {"help", cmd_help, "help", "this list"},
    {"version", cmd_version, "version", "print the version"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: credbank <command> [arguments]\n\n"
           "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-11s %s\n", commands[i].name, commands[i].summary);
    printf("\nRun \"credbank <command> --help\" for a command's arguments; "
           "spec/cli.md is the reference.\n"
           "Exit status: 0 success, 1 failure, 2 usage.\n");
    return CLI_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("credbank 0.1.0\n");
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (cy_init() != 0) {
        fprintf(stderr, "credbank: cannot initialise libsodium (%s)\n",
                cb_errname(CB_EINTERNAL));
        return CLI_FAIL;
    }
    if (argc < 2) {
        cmd_help(0, NULL);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
        return cmd_help(0, NULL);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    /* --node-key SPEC, anywhere: the node keys an https:// node URL must
     * present (http.c, spec/security.md "Pinning") */
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--node-key") != 0)
            continue;
        struct cb_err err = {0, ""};
        if (cli_http_pin(argv[i + 1], &err) != 0) {
            fprintf(stderr, "credbank: --node-key: %s (%s)\n",
                    cb_errmsg(&err), cb_errname(err.code));
            return CLI_USAGE;
        }
        memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 1) * sizeof *argv);
        argc -= 2;
        i--;
    }
    return cli_dispatch("credbank", commands,
                        sizeof commands / sizeof commands[0], argc - 1,
                        argv + 1);
}
