/*
 * The enumerated str values of DESIGN sections 1, 2 and 4: member roles,
 * outcome sources, recognition classes, and terms.
 *
 * Parsers take a decoded msgpack object and return -1 for anything that is
 * not exactly one of the values (a str of another type, a different case, a
 * prefix). Terms "YYYYQn" (n in 1-4) parse to year * 4 + (n - 1), so terms
 * compare and differ as integers; sm_term_format writes them back.
 */
#include "sm.h"

#include <string.h>

static const char *const roles[] = {"registrar", "recognizer", "provider",
                                    "witness"};
static const char *const sources[SM_SRC__COUNT] = {
    "evaluated_course", "school", "part_time", "qualification",
    "self_study_exam", "intangible_heritage", "mooc", "work_experience",
    "other"};
static const char *const classes[] = {"major", "general", "elective"};

static int find(const msgpack_object *o, const char *const *names, int n)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return -1;
    for (int i = 0; i < n; i++)
        if (lg_is_str(o, names[i]))
            return i;
    return -1;
}

int sm_role_parse(const msgpack_object *o)
{
    int i = find(o, roles, 4);
    return i < 0 ? -1 : 1 << i;
}

int sm_source_parse(const msgpack_object *o)
{
    return find(o, sources, SM_SRC__COUNT);
}

int sm_class_parse(const msgpack_object *o)
{
    return find(o, classes, 3);
}

const char *sm_role_name(unsigned bit)
{
    for (int i = 0; i < 4; i++)
        if (bit == 1u << i)
            return roles[i];
    return "?";
}

const char *sm_source_name(int s)
{
    return s >= 0 && s < SM_SRC__COUNT ? sources[s] : "?";
}

const char *sm_class_name(int c)
{
    return c >= 0 && c < 3 ? classes[c] : "?";
}

int sm_term_parse(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size != 6)
        return -1;
    const char *s = o->via.str.ptr;
    int year = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        year = year * 10 + (s[i] - '0');
    }
    if (s[4] != 'Q' || s[5] < '1' || s[5] > '4')
        return -1;
    return year * 4 + (s[5] - '1');
}

void sm_term_format(char out[7], int term)
{
    if (term < 0 || term > 9999 * 4 + 3) {
        memcpy(out, "?", 2); /* not a parsed term: a programmer error */
        return;
    }
    int year = term / 4, q = term % 4 + 1;
    out[0] = (char)('0' + year / 1000 % 10);
    out[1] = (char)('0' + year / 100 % 10);
    out[2] = (char)('0' + year / 10 % 10);
    out[3] = (char)('0' + year % 10);
    out[4] = 'Q';
    out[5] = (char)('0' + q);
    out[6] = '\0';
}
