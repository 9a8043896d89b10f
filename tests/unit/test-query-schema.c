/* SPDX-License-Identifier: Apache-2.0 */
/* test-query-schema.c - unit tests of a route's query parameters (AtriumRoute.query_schema,
 * core/pipeline/query-schema.c): what a query schema may declare, how a parameter's text is
 * read as its type, and what the refusals say. The OpenAPI side and the host's 400s over HTTP
 * are in tests/integration/test_metrics_openapi.py and test_query_parameters.py. */
#include <string.h>

#include <json-glib/json-glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

static const char window[] =
        "{\"type\": \"object\", \"required\": [\"from\"], \"properties\": {"
        "\"from\": {\"type\": \"string\", \"format\": \"date-time\", \"description\": \"the "
        "start\"}, "
        "\"n\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10}, "
        "\"x\": {\"type\": \"number\"}, "
        "\"seen\": {\"type\": \"boolean\"}, "
        "\"kind\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"]}}}";

static char *
compile_error (const char *text)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) n = atrium_query_schema_compile (text, &error);
        g_assert_true ((n == NULL) == (error != NULL));
        return error ? g_strdup (error->message) : NULL;
}

/* The refusal for the query of @pairs ("name", "value", ..., NULL), or NULL if it passes. */
static char *
check (const char *schema_text, ...)
{
        g_autoptr (JsonNode) schema = atrium_query_schema_compile (schema_text, NULL);
        g_assert_nonnull (schema);
        g_autoptr (GHashTable) q = g_hash_table_new (g_str_hash, g_str_equal);
        va_list ap;
        va_start (ap, schema_text);
        for (const char *k; (k = va_arg (ap, const char *));)
                g_hash_table_insert (q, (char *) k, va_arg (ap, char *));
        va_end (ap);
        g_autoptr (GError) error = NULL;
        gboolean ok = atrium_query_schema_check (schema, q, &error);
        g_assert_true (ok == (error == NULL));
        if (error)
                g_assert_true (g_error_matches (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID));
        return error ? g_strdup (error->message) : NULL;
}

#define ASSERT_PASSES(...)                                                                         \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = check (__VA_ARGS__, NULL);                                   \
                g_assert_cmpstr (_m, ==, NULL);                                                    \
        }                                                                                          \
        G_STMT_END
#define ASSERT_REFUSES(message, ...)                                                               \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autofree char *_m = check (__VA_ARGS__, NULL);                                   \
                g_assert_cmpstr (_m, ==, (message));                                               \
        }                                                                                          \
        G_STMT_END

static void
test_compile (void)
{
        g_autofree char *e1 = compile_error ("{\"type\": \"string\"}");
        g_assert_nonnull (strstr (e1, "\"type\": \"object\""));
        g_autofree char *e2 = compile_error ("{\"type\": \"object\"}");
        g_assert_nonnull (strstr (e2, "\"properties\""));
        /* Every parameter is one scalar type: a query string has no arrays or objects. */
        g_autofree char *e3 = compile_error (
                "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"array\"}}}");
        g_assert_nonnull (strstr (e3, "\"a\""));
        g_autofree char *e4 = compile_error (
                "{\"type\": \"object\", \"properties\": {\"a\": {\"enum\": [\"x\"]}}}");
        g_assert_nonnull (strstr (e4, "needs one \"type\""));
        g_autofree char *e5 = compile_error ("{\"type\": \"object\", \"properties\": {\"a\": "
                                             "{\"type\": [\"string\", \"null\"]}}}");
        g_assert_nonnull (strstr (e5, "needs one \"type\""));
        g_autofree char *e6 = compile_error ("{\"type\": \"object\", \"required\": [\"b\"], "
                                             "\"properties\": {\"a\": {\"type\": \"string\"}}}");
        g_assert_nonnull (strstr (e6, "\"b\" is not declared"));
        /* What a body schema refuses, a query schema refuses too. */
        g_autofree char *e7 = compile_error ("{\"type\": \"object\", \"properties\": {\"a\": "
                                             "{\"type\": \"string\", \"oneOf\": []}}}");
        g_assert_nonnull (strstr (e7, "\"oneOf\""));
        g_autofree char *ok = compile_error (window);
        g_assert_cmpstr (ok, ==, NULL);

        g_autoptr (JsonNode) n = atrium_query_schema_compile (window, NULL);
        g_auto (GStrv) names = atrium_query_schema_names (n);
        g_assert_cmpuint (g_strv_length (names), ==, 5);
        g_assert_cmpstr (names[0], ==, "from");
        g_assert_cmpstr (names[4], ==, "kind");
}

static void
test_types (void)
{
        ASSERT_PASSES (window, "from", "2026-09-01T08:00:00Z", "n", "10", "x", "-1.5e2", "seen",
                       "false", "kind", "b");
        ASSERT_REFUSES ("?n: expected a whole number", window, "from", "2026-09-01T08:00:00Z", "n",
                        "1.0");
        ASSERT_REFUSES ("?n: expected a whole number", window, "from", "2026-09-01T08:00:00Z", "n",
                        "");
        ASSERT_REFUSES ("?n: expected a whole number", window, "from", "2026-09-01T08:00:00Z", "n",
                        "99999999999999999999");
        ASSERT_REFUSES ("?n: above the maximum 10", window, "from", "2026-09-01T08:00:00Z", "n",
                        "11");
        ASSERT_REFUSES ("?n: below the minimum 1", window, "from", "2026-09-01T08:00:00Z", "n",
                        "-3");
        ASSERT_REFUSES ("?x: expected a number", window, "from", "2026-09-01T08:00:00Z", "x",
                        "nan");
        ASSERT_REFUSES ("?x: expected a number", window, "from", "2026-09-01T08:00:00Z", "x",
                        "1e999");
        ASSERT_REFUSES ("?x: expected a number", window, "from", "2026-09-01T08:00:00Z", "x", " 1");
        ASSERT_REFUSES ("?x: expected a number", window, "from", "2026-09-01T08:00:00Z", "x",
                        "2km");
        ASSERT_REFUSES ("?seen: expected true or false", window, "from", "2026-09-01T08:00:00Z",
                        "seen", "1");
        ASSERT_REFUSES ("?kind: value is not one of the allowed values (a, b)", window, "from",
                        "2026-09-01T08:00:00Z", "kind", "c");
        ASSERT_REFUSES ("?from: not a valid date-time", window, "from", "tomorrow");
}

static void
test_required_and_undeclared (void)
{
        ASSERT_REFUSES ("?from: this query parameter is required (the start)", window, "n", "2");
        /* An empty value is given, and then checked. */
        ASSERT_REFUSES ("?from: not a valid date-time", window, "from", "");
        /* Parameters the route does not declare are not the host's business. */
        ASSERT_PASSES (window, "from", "2026-09-01T08:00:00Z", "_", "1690000000", "n[]", "x");

        g_autoptr (JsonNode) schema = atrium_query_schema_compile (window, NULL);
        g_autoptr (GError) error = NULL;
        g_assert_false (atrium_query_schema_check (schema, NULL, &error));
        g_assert_cmpstr (error->message, ==, "?from: this query parameter is required (the start)");
        g_autoptr (JsonNode) none = atrium_query_schema_compile (
                "{\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}", NULL);
        g_assert_true (atrium_query_schema_check (none, NULL, NULL));
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/query-schema/compile", test_compile);
        g_test_add_func ("/query-schema/types", test_types);
        g_test_add_func ("/query-schema/required-and-undeclared", test_required_and_undeclared);
        return g_test_run ();
}
