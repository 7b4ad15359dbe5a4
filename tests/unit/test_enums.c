/* ledger/enums.c: the enumerated str values (roles, sources, classes) and
 * terms, parsed from decoded msgpack objects and named back. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../ledger/sm.h"

static msgpack_object str(const char *s)
{
    msgpack_object o;
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_STR;
    o.via.str.ptr = s;
    o.via.str.size = (uint32_t)strlen(s);
    return o;
}

static msgpack_object bin(const char *s)
{
    msgpack_object o = str(s);
    o.type = MSGPACK_OBJECT_BIN;
    o.via.bin.ptr = s;
    o.via.bin.size = (uint32_t)strlen(s);
    return o;
}

static int role(const char *s)
{
    msgpack_object o = str(s);
    return sm_role_parse(&o);
}
static int source(const char *s)
{
    msgpack_object o = str(s);
    return sm_source_parse(&o);
}
static int cls(const char *s)
{
    msgpack_object o = str(s);
    return sm_class_parse(&o);
}
static int term(const char *s)
{
    msgpack_object o = str(s);
    return sm_term_parse(&o);
}

Test(enums, roles_are_bits_and_round_trip)
{
    cr_assert_eq(role("registrar"), SM_ROLE_REGISTRAR);
    cr_assert_eq(role("recognizer"), SM_ROLE_RECOGNIZER);
    cr_assert_eq(role("provider"), SM_ROLE_PROVIDER);
    cr_assert_eq(role("witness"), SM_ROLE_WITNESS);
    for (unsigned b = SM_ROLE_REGISTRAR; b <= SM_ROLE_WITNESS; b <<= 1)
        cr_assert_eq(role(sm_role_name(b)), (int)b);
    cr_assert_eq(role("Registrar"), -1);
    cr_assert_eq(role("registra"), -1);
    cr_assert_eq(role("registrars"), -1);
    cr_assert_eq(role(""), -1);
    cr_assert_str_eq(sm_role_name(0), "?");
    cr_assert_str_eq(sm_role_name(SM_ROLE_REGISTRAR | SM_ROLE_PROVIDER), "?");
    cr_assert_str_eq(sm_role_name(1u << 4), "?");
}

Test(enums, the_nine_sources_of_design_section_1)
{
    static const char *const names[] = {
        "evaluated_course", "school", "part_time", "qualification",
        "self_study_exam", "intangible_heritage", "mooc", "work_experience",
        "other"};
    cr_assert_eq(SM_SRC__COUNT, 9);
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(source(names[i]), i, "%s", names[i]);
        cr_assert_str_eq(sm_source_name(i), names[i]);
    }
    cr_assert_eq(source("MOOC"), -1);
    cr_assert_eq(source("k-mooc"), -1);
    cr_assert_eq(source("moo"), -1);
    cr_assert_eq(source(""), -1);
    cr_assert_str_eq(sm_source_name(-1), "?");
    cr_assert_str_eq(sm_source_name(9), "?");
}

Test(enums, classes)
{
    cr_assert_eq(cls("major"), SM_CLASS_MAJOR);
    cr_assert_eq(cls("general"), SM_CLASS_GENERAL);
    cr_assert_eq(cls("elective"), SM_CLASS_ELECTIVE);
    for (int c = 0; c < 3; c++)
        cr_assert_eq(cls(sm_class_name(c)), c);
    cr_assert_eq(cls("minor"), -1);
    cr_assert_eq(cls("Major"), -1);
    cr_assert_str_eq(sm_class_name(3), "?");
    cr_assert_str_eq(sm_class_name(-1), "?");
}

Test(enums, only_str_objects_parse)
{
    msgpack_object o = bin("major");
    cr_assert_eq(sm_class_parse(&o), -1);
    o = bin("mooc");
    cr_assert_eq(sm_source_parse(&o), -1);
    o = bin("registrar");
    cr_assert_eq(sm_role_parse(&o), -1);
    o = bin("2024Q1");
    cr_assert_eq(sm_term_parse(&o), -1);
    memset(&o, 0, sizeof o);
    o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    o.via.u64 = 1;
    cr_assert_eq(sm_class_parse(&o), -1);
    cr_assert_eq(sm_term_parse(&o), -1);
    /* a str holding a NUL is not "major" */
    o.type = MSGPACK_OBJECT_STR;
    o.via.str.ptr = "major\0x";
    o.via.str.size = 7;
    cr_assert_eq(sm_class_parse(&o), -1);
}

Test(enums, terms_parse_to_quarters)
{
    cr_assert_eq(term("2024Q1"), 2024 * 4);
    cr_assert_eq(term("2024Q4"), 2024 * 4 + 3);
    cr_assert_eq(term("2025Q1"), 2025 * 4);
    cr_assert_eq(term("0000Q1"), 0);
    cr_assert_eq(term("9999Q4"), 9999 * 4 + 3);
    /* consecutive quarters are consecutive integers, so "differs" and
     * ordering are integer comparisons */
    cr_assert_eq(term("2025Q1") - term("2024Q4"), 1);
    static const char *const bad[] = {
        "2024Q0", "2024Q5", "2024q1", "2024 Q1", "24Q1", "02024Q1",
        "2024Q", "2024Q11", "2024-Q1", "20x4Q1", "", "Q12024", "２０２４Q1",
        "2024Q1 ", " 2024Q1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(term(bad[i]), -1, "\"%s\" parsed", bad[i]);
}

Test(enums, terms_format_back)
{
    char out[7];
    static const char *const good[] = {"2024Q1", "2024Q4", "1999Q2",
                                       "0000Q1", "9999Q4", "0042Q3"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sm_term_format(out, term(good[i]));
        cr_assert_str_eq(out, good[i]);
    }
    /* every parsed term formats back to itself */
    for (int t = 0; t <= 9999 * 4 + 3; t += 37) {
        sm_term_format(out, t);
        cr_assert_eq(term(out), t, "%d -> %s", t, out);
    }
    sm_term_format(out, -1);
    cr_assert_str_eq(out, "?");
    sm_term_format(out, 40000);
    cr_assert_str_eq(out, "?");
}
