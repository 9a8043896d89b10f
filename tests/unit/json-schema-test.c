/* SPDX-License-Identifier: Apache-2.0 */
/* json-schema-test.c - the helpers json-schema-test.h declares for the JSON Schema unit tests:
 * thin wrappers over atrium_schema_compile, atrium_json_parse_body and atrium_schema_validate
 * that turn an unexpected outcome into a test failure. */
#include "json-schema-test.h"

JsonNode *
jst_compile (const char *text)
{
        g_autoptr (GError) error = NULL;
        JsonNode *schema = atrium_schema_compile (text, &error);
        g_assert_no_error (error);
        g_assert_nonnull (schema);
        return schema;
}

/* The message of the compile error for @text, or NULL if it compiled. */
char *
jst_compile_error (const char *text)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) schema = atrium_schema_compile (text, &error);
        if (schema) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_nonnull (error);
        return g_strdup (error->message);
}

JsonNode *
jst_parse (const char *body)
{
        g_autoptr (GError) error = NULL;
        JsonNode *node = atrium_json_parse_body (body, strlen (body), &error);
        g_assert_no_error (error);
        g_assert_nonnull (node);
        return node;
}

/* The message of the body error for @len bytes at @body, or NULL if it parsed. */
char *
jst_body_error (const char *body, gsize len)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) node = atrium_json_parse_body (body, len, &error);
        if (node) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        return g_strdup (error->message);
}

/* The validation error for @body (well-formed JSON) against @schema, or NULL if valid. */
char *
jst_problem (const char *schema_text, const char *body)
{
        g_autoptr (JsonNode) schema = jst_compile (schema_text);
        g_autoptr (JsonNode) value = jst_parse (body);
        g_autoptr (GError) error = NULL;
        if (atrium_schema_validate (schema, value, &error)) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        return g_strdup (error->message);
}

/* @n nested arrays, around @inner (or nothing). */
char *
jst_nested (const char *open, const char *close, guint n, const char *inner)
{
        GString *s = g_string_new (NULL);
        for (guint i = 0; i < n; i++)
                g_string_append (s, open);
        g_string_append (s, inner ? inner : "");
        for (guint i = 0; i < n; i++)
                g_string_append (s, close);
        return g_string_free (s, FALSE);
}
