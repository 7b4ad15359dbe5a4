/*
 * libFuzzer target for the bundle decoder and offline verifier
 * (lg_bundle_verify, ledger/bundle.c).
 *
 * Input: the 32-byte ledger id, then the bundle bytes. The seeds in
 * tests/fuzz/corpus/bundle/ are real demo bundles prefixed with their
 * ledger id (spec/vectors/gen_bundle.sh makes them), so mutations reach the
 * proofs, the note, the replay and the account checks, not only the codec.
 *
 * Invariants beyond "no crash, no leak, no UB":
 * - the verdict is 0 (valid), CB_EBUNDLE with a reason in range and a
 *   NUL-terminated, valid UTF-8 message (it goes into JSON), or CB_ENOMEM;
 * - a valid bundle has a summary, the account id of its leaf and at least
 *   one signature checked per entry;
 * - the verdict does not depend on the run: a second verification of the
 *   same bytes gives the same code and reason (the replay's temporary
 *   ledger leaves nothing behind).
 *
 * Both verifications use one verifier kept for the whole fuzzing run
 * (lg_bundle_verify_with), as a verifier checking many bundles does: so
 * the invariants also say that a verifier's scratch ledger carries nothing
 * from one bundle to the next, and a run costs no LMDB environment set-up
 * (lg_bundle_verify is that same call between _new and _free; test_bundle
 * covers it).
 *
 * Run: fuzz_bundle -max_total_time=60 tests/fuzz/corpus/bundle
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <credbank/bundle.h>
#include <credbank/crypto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *tmpdir(void)
{
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lg_bundle_verifier *vf;
    static struct lg_bundle_verify_opts o;
    if (vf == NULL) {
        o.tmpdir = tmpdir();
        if (cy_init() != 0 || lg_bundle_verifier_new(&vf, &o) != 0)
            abort();
    }
    if (size < 32)
        return 0;
    struct lg_bundle_result r, r2;
    int rv = lg_bundle_verify_with(vf, data + 32, size - 32, data, &o, &r);
    if (rv != 0 && rv != CB_EBUNDLE && rv != CB_ENOMEM)
        abort();
    if (rv == CB_EBUNDLE) {
        if (r.reason <= LG_BR_OK || r.reason >= LG_BR__COUNT ||
            memchr(r.msg, '\0', sizeof r.msg) == NULL)
            abort();
        json_t *j = json_string(r.msg);
        if (j == NULL)
            abort();
        json_decref(j);
    }
    if (rv == 0 && (r.summary == NULL || r.signatures < r.entries))
        abort();
    if (rv == 0 || rv == CB_EBUNDLE) {
        int rv2 = lg_bundle_verify_with(vf, data + 32, size - 32, data, &o,
                                        &r2);
        if (rv2 != CB_ENOMEM && (rv2 != rv || r2.reason != r.reason))
            abort();
        lg_bundle_result_release(&r2);
    }
    lg_bundle_result_release(&r);
    return 0;
}
