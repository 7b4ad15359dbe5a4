/*
 * The pure parsing the HTTP API does on request bytes (node/api.c): query
 * parameters, decimal integers, hex ids and the JSON form of a POST
 * /v1/entries body. No h2o, no I/O, no node state, so tests/fuzz/fuzz_api.c
 * drives it alone. What api.c does with the results (answers, the checks of
 * lg_check) stays in api.c.
 */
#ifndef CREDBANK_NODE_APIPARSE_H
#define CREDBANK_NODE_APIPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of parameter name in the query string q[len] (after the '?':
 * "a=1&b=2") into out[cap] (cap >= 1), NUL-terminated and cut at cap - 1
 * bytes; a parameter without '=' has the empty value. The first occurrence
 * counts. False when absent. */
bool nd_query_param(const char *q, size_t len, const char *name, char *out,
                    size_t cap);

/* A decimal uint64 (digits only: no sign, no spaces, at most 20 digits, no
 * overflow) from the NUL-terminated s. */
bool nd_parse_u64(const char *s, uint64_t *out);

/* Exactly 64 hex digits s[len] into id. */
bool nd_parse_id(const char *s, size_t len, uint8_t id[32]);

/* The JSON body {"entry": "<hex of the signed entry>"} (body[len], not
 * NUL-terminated): the signed-entry bytes into *out (malloc'd, *outlen
 * bytes, at least 1). Returns 0, CB_EJSON with *msg the answer's message
 * (a static string), or CB_ENOMEM. */
int nd_entry_from_json(const uint8_t *body, size_t len, uint8_t **out,
                       size_t *outlen, const char **msg);

#endif
