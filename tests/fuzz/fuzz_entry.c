/* libFuzzer: signed entries (envelope decode, signature verification,
 * JSON), the path every submitted byte takes first. Invariant: a decoded
 * signed entry's parts re-encode to the input bytes. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/entry.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lg_signed s;
    static int init;
    if (!init) {
        cy_init();
        lg_signed_init(&s);
        init = 1;
    }
    struct cb_err err = {0, ""};
    if (lg_signed_decode(&s, data, size, &err) != 0) {
        if (err.code == 0)
            abort();
        return 0;
    }
    (void)lg_signed_verify(&s, &err);
    struct lg_w w;
    lg_w_init(&w);
    if (lg_signed_encode(&w, s.e.bytes, s.e.len, s.e.author, s.sigs,
                         s.nsigs) != 0 ||
        lg_w_len(&w) != size || memcmp(lg_w_data(&w), data, size) != 0)
        abort();
    lg_w_release(&w);
    json_t *j = lg_signed_json(&s);
    if (j == NULL)
        abort();
    json_decref(j);
    return 0;
}
