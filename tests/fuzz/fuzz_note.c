/*
 * libFuzzer target for the checkpoint-note reader of `credbank checkpoint
 * --vkeys` (cli_note_verify, cli/cmd_checkpoint.c): the C2SP signed-note
 * form of a tlog checkpoint, its signature lines, and the verifier-key
 * lines it is checked against.
 *
 * Input: the verifier keys (one per line, as the demo writes DIR/vkeys),
 * a NUL byte, then the note. Without a NUL the whole input is the note and
 * no key is known. The seeds (tests/fuzz/corpus/note/, made by
 * make_corpus.sh) are a demo's vkeys and checkpoint.note and variants of
 * them, so mutations reach real signature checks.
 *
 * Invariants beyond "no crash, no leak, no UB":
 * - the verdict is 0, CB_EVALUE or CB_EBADSIG, with err.code and a message
 *   on refusal, and does not change on a second call;
 * - an accepted note counts at most one valid signature per distinct key
 *   line, and its names fit the buffer;
 * - a note accepted with keys is accepted without keys too (unknown
 *   signers are ignored), with no valid signature and the same size and
 *   root.
 *
 * Run: fuzz_note -max_total_time=60 tests/fuzz/corpus/note
 */
#include <stdlib.h>
#include <string.h>

#include "../../cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t klen = nul ? (size_t)(nul - data) : 0;
    const uint8_t *np = nul ? nul + 1 : data;
    size_t nlen = size - (size_t)(np - data);
    char *vkeys = malloc(klen + 1), *note = malloc(nlen + 1);
    if (vkeys == NULL || note == NULL)
        abort();
    memcpy(vkeys, data, klen);
    vkeys[klen] = 0;
    memcpy(note, np, nlen);
    note[nlen] = 0; /* an inner NUL ends the note, as in a C string */

    size_t lines = 0;
    for (const char *p = vkeys; *p; p++)
        lines += *p == '\n';
    lines++;

    size_t nvalid = 99, nvalid2 = 99;
    char names[256];
    uint64_t sz = 0, sz2 = 0;
    uint8_t root[32], root2[32];
    struct cb_err err = {0, ""}, err2 = {0, ""};
    int rv = cli_note_verify(note, vkeys, &nvalid, names, sizeof names, &sz,
                             root, &err);
    if (rv != 0 && rv != CB_EVALUE && rv != CB_EBADSIG)
        abort();
    if (rv != 0 && (err.code != rv || err.msg[0] == 0))
        abort();
    int again = cli_note_verify(note, vkeys, &nvalid2, NULL, 0, NULL, NULL,
                                &err2);
    if (again != rv)
        abort();
    if (rv == 0) {
        if (nvalid > lines || nvalid2 != nvalid ||
            memchr(names, 0, sizeof names) == NULL ||
            (nvalid == 0 && names[0] != 0))
            abort();
        size_t n0 = 99;
        if (cli_note_verify(note, "", &n0, NULL, 0, &sz2, root2, &err2) != 0 ||
            n0 != 0 || sz2 != sz || memcmp(root, root2, 32) != 0)
            abort();
    }
    free(vkeys);
    free(note);
    return 0;
}
