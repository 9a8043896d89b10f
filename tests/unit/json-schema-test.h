/* SPDX-License-Identifier: Apache-2.0 */
/* json-schema-test.h - what the JSON Schema unit tests (test-json-schema-*.c) share: helpers
 * that compile a schema, parse a body and validate one against the other through
 * core/pipeline/json-schema.c, failing the test on an unexpected outcome, and the ASSERT_ macros
 * built on them. Compiled into each of those programs from json-schema-test.c
 * (tests/unit/meson.build). The jst_ prefix keeps the helpers apart from the core's atrium_ names.
 */
#pragma once

#include <string.h>

#include <json-glib/json-glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

/* A compiled schema for @text, which must compile. (transfer full) */
JsonNode *jst_compile (const char *text);
/* The message of the compile error for @text, or NULL if it compiled. (transfer full) */
char *jst_compile_error (const char *text);
/* @body parsed; it must parse. (transfer full) */
JsonNode *jst_parse (const char *body);
/* The message of the body error for @len bytes at @body, or NULL if it parsed. (transfer full) */
char *jst_body_error (const char *body, gsize len);
/* The validation error for @body (well-formed JSON) against @schema_text, or NULL if valid.
 * (transfer full) */
char *jst_problem (const char *schema_text, const char *body);
/* @n times @open, then @inner (or nothing), then @n times @close. (transfer full) */
char *jst_nested (const char *open, const char *close, guint n, const char *inner);

#define ASSERT_VALID(schema, body)                                                                 \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = jst_problem ((schema), (body));                              \
                if (_m)                                                                            \
                        g_test_message ("body: %s", (body));                                       \
                g_assert_cmpstr (_m, ==, NULL);                                                    \
        }                                                                                          \
        G_STMT_END

/* Refused, and the message starts with the JSON Pointer @where and ": ". */
#define ASSERT_REFUSED(schema, body, where)                                                        \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = jst_problem ((schema), (body));                              \
                g_autofree char *_p = g_strconcat ((where), ": ", NULL);                           \
                if (!_m)                                                                           \
                        g_test_message ("body: %s", (body));                                       \
                g_assert_nonnull (_m);                                                             \
                if (!g_str_has_prefix (_m, _p))                                                    \
                        g_assert_cmpstr (_m, ==, _p);                                              \
        }                                                                                          \
        G_STMT_END

/* Refused with exactly @message. */
#define ASSERT_MESSAGE(schema, body, message)                                                      \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = jst_problem ((schema), (body));                              \
                g_assert_cmpstr (_m, ==, (message));                                               \
        }                                                                                          \
        G_STMT_END

#define ASSERT_COMPILE_REFUSED(text, needle)                                                       \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = jst_compile_error (text);                                    \
                if (!_m)                                                                           \
                        g_test_message ("schema: %s", (text));                                     \
                g_assert_nonnull (_m);                                                             \
                if (!strstr (_m, (needle)))                                                        \
                        g_assert_cmpstr (_m, ==, (needle));                                        \
        }                                                                                          \
        G_STMT_END

#define ASSERT_BODY_REFUSED(body, needle)                                                          \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = jst_body_error ((body), strlen (body));                      \
                if (!_m)                                                                           \
                        g_test_message ("body: %s", (body));                                       \
                g_assert_nonnull (_m);                                                             \
                if (!strstr (_m, (needle)))                                                        \
                        g_assert_cmpstr (_m, ==, (needle));                                        \
        }                                                                                          \
        G_STMT_END
