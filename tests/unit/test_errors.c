/* The error table: stable names, HTTP statuses, and spec/errors.md listing
 * every code, so the documentation cannot drift from the code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <credbank/errors.h>

Test(errors, names_are_unique_and_round_trip)
{
    for (int c = CB__FIRST + 1; c < CB__LAST; c++) {
        const char *n = cb_errname(c);
        cr_assert_neq(strcmp(n, "unknown_error"), 0);
        cr_assert_eq(cb_errcode(n), c, "%s does not map back", n);
        for (const char *p = n; *p; p++)
            cr_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_', "%s", n);
        int h = cb_errhttp(c);
        cr_assert(h >= 400 && h < 600, "%s: http %d", n, h);
    }
    cr_assert_str_eq(cb_errname(0), "ok");
    cr_assert_str_eq(cb_errname(12345), "unknown_error");
    cr_assert_eq(cb_errcode("no_such_code"), 0);
}

Test(errors, errf_and_wrap_build_messages)
{
    struct cb_err e = {0, ""};
    cr_assert_eq(cb_errf(&e, CB_ETYPE, "%s: expected uint", "credits"),
                 CB_ETYPE);
    cr_assert_eq(cb_errwrap(&e, "body"), CB_ETYPE);
    cr_assert_str_eq(e.msg, "body: credits: expected uint");
    struct cb_err d = {CB_EBADSIG, ""};
    cr_assert_str_eq(cb_errmsg(&d), "a signature does not verify");
    cr_assert_eq(cb_errf(NULL, CB_EIO, "ignored"), CB_EIO);
}

Test(errors, spec_lists_every_code)
{
    FILE *f = fopen(CB_SOURCE_DIR "/spec/errors.md", "r");
    cr_assert_not_null(f, "spec/errors.md missing");
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    for (int c = CB__FIRST + 1; c < CB__LAST; c++) {
        char needle[80];
        snprintf(needle, sizeof needle, "`%s`", cb_errname(c));
        cr_expect_not_null(strstr(doc, needle), "spec/errors.md lacks %s",
                           needle);
    }
}
