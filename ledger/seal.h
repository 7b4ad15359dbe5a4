/*
 * Private to seal.c and its tests: the signed-note text of a checkpoint
 * (spec/checkpoints.md), separate from the ledger so that it can be checked
 * byte for byte against Go's golang.org/x/mod/sumdb/note
 * (spec/vectors/checkpoint.json).
 */
#ifndef CREDBANK_SEAL_H
#define CREDBANK_SEAL_H

#include <stddef.h>
#include <stdint.h>

/* One signature line of a note. */
struct sm_note_sig {
    const char *name;             /* signed-note key name (member name) */
    const uint8_t *key;           /* 32-byte Ed25519 public key */
    const uint8_t *sig;           /* 64-byte signature over the body */
};

/*
 * The signed note: body[blen] (which must end in "\n"), an empty line, then
 * for each of sigs[0..n) in order the line
 *   "\xe2\x80\x94 " name " " base64(key hash (4) || sig (64)) "\n"
 * with key hash = cy_note_keyhash(name, key). *note gets a malloc'd,
 * NUL-terminated string (the caller frees it), *len its length (NULL
 * allowed). CB_EINVAL for a body without the final newline or a name that is
 * not a valid key name; CB_ENOMEM.
 */
int sm_note_format(const char *body, size_t blen,
                   const struct sm_note_sig *sigs, size_t n, char **note,
                   size_t *len);

#endif
