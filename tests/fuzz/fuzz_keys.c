/*
 * libFuzzer target for the signed-note key strings (key files and verifier
 * keys are read from disk and from the command line) and base64/hex.
 *
 * Invariants beyond "no crash, no leak, no UB": a verifier key that parses
 * prints back to the input (one spelling per key, but for the case of the
 * key hash's hex digits, which Go's sumdb/note also reads either way); a
 * private key
 * that parses prints back to exactly the input; base64 that decodes
 * re-encodes to the input (canonical only).
 *
 * Run: fuzz_keys -max_total_time=60 tests/fuzz/corpus/keys
 */
#include <stdlib.h>
#include <string.h>

#include <credbank/crypto.h>
#include <credbank/errors.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of s with the 8 hex digits after its nth '+' in lower case. */
static char *lower_hash(const char *s, int nth)
{
    char *low = strdup(s), *h = low;
    if (low == NULL)
        abort();
    for (int i = 0; i < nth; i++)
        if ((h = strchr(h, '+')) == NULL)
            abort();
        else if (i < nth - 1)
            h++;
    for (size_t i = 1; i <= 8 && h[i] != '\0'; i++)
        if (h[i] >= 'A' && h[i] <= 'F')
            h[i] = (char)(h[i] - 'A' + 'a');
    return low;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t slen = strlen(s); /* up to an embedded NUL */

    char name[CY_NAME_MAX + 1], out[1024];
    uint8_t pk[CY_PK_LEN];
    if (cy_note_vkey_parse(s, name, pk) == 0) {
        /* the key hash may be spelled in either case (as Go's sumdb/note
         * reads it); everything else exactly as printed */
        char *low = lower_hash(s, 1);
        if (cy_note_vkey(out, sizeof out, name, pk) != 0 ||
            strcmp(out, low) != 0)
            abort();
        free(low);
    }
    struct cy_key k;
    if (cy_note_skey_parse(s, &k) == 0) {
        char *low = lower_hash(s, 3); /* PRIVATE+KEY+name+hash+... */
        if (cy_note_skey(out, sizeof out, &k) != 0 || strcmp(out, low) != 0)
            abort();
        free(low);
        cy_key_wipe(&k);
    }
    uint8_t bin[3072];
    size_t blen = 0;
    if (cy_unb64(bin, sizeof bin, &blen, s, slen) == 0) {
        char *b = malloc(cy_b64_len(blen));
        if (b == NULL)
            abort();
        cy_b64(b, bin, blen);
        if (strlen(b) != slen || memcmp(b, s, slen) != 0)
            abort();
        free(b);
    }
    free(s);
    return 0;
}
