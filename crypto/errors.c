/* The error table of include/credbank/errors.h. */
#include <credbank/errors.h>

#include <stdio.h>
#include <string.h>

struct row {
    int code;
    const char *name;
    int http;
    const char *msg;
};

static const struct row rows[] = {
#define CB__ROW(e, n, h, m) {CB_E##e, n, h, m},
    CB_ERRORS(CB__ROW)
#undef CB__ROW
};

static const struct row *find(int code)
{
    if (code <= CB__FIRST || code >= CB__LAST)
        return NULL;
    return &rows[code - CB__FIRST - 1];
}

const char *cb_errname(int code)
{
    if (code == 0)
        return "ok";
    const struct row *r = find(code);
    return r ? r->name : "unknown_error";
}

const char *cb_strerror(int code)
{
    if (code == 0)
        return "success";
    const struct row *r = find(code);
    return r ? r->msg : "unknown error";
}

int cb_errhttp(int code)
{
    if (code == 0)
        return 200;
    const struct row *r = find(code);
    return r ? r->http : 500;
}

int cb_errcode(const char *name)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].name, name) == 0)
            return rows[i].code;
    return 0;
}

int cb_errf(struct cb_err *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cb_errwrap(struct cb_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return 0;
    char prefix[128], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (old[0] == '\0')
        snprintf(old, sizeof old, "%s", cb_strerror(err->code));
    /* A message longer than the buffer is cut; that is acceptable. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >=
        (int)sizeof err->msg)
        err->msg[sizeof err->msg - 1] = '\0';
    return err->code;
}

const char *cb_errmsg(const struct cb_err *err)
{
    if (err->msg[0] != '\0')
        return err->msg;
    return cb_strerror(err->code);
}
