/* libFuzzer: the strict canonical decoder. Invariants beyond "no crash":
 * whatever decodes re-encodes to exactly the input bytes, and renders as
 * JSON. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <credbank/codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lg_doc doc;
    static int init;
    if (!init) {
        lg_doc_init(&doc);
        init = 1;
    }
    struct cb_err err = {0, ""};
    if (lg_decode(&doc, data, size, NULL, &err) != 0) {
        if (err.code == 0 || err.msg[0] != '$')
            abort(); /* every refusal has a code and a path */
        return 0;
    }
    struct lg_w w;
    lg_w_init(&w);
    lg_w_obj(&w, &doc.root);
    if (lg_w_error(&w) != 0 || lg_w_len(&w) != size ||
        memcmp(lg_w_data(&w), data, size) != 0)
        abort(); /* decoded but not canonical */
    lg_w_release(&w);
    json_t *j = lg_json(&doc.root);
    if (j == NULL)
        abort();
    json_decref(j);
    return 0;
}
