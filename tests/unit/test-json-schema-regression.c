/* SPDX-License-Identifier: Apache-2.0 */
/* test-json-schema-regression.c - the cases under /schema/regression/: defects these tests
 * found in core/pipeline/json-schema.c, pinned down so they stay fixed. Each case's comment says
 * what the defect was and where it was fixed (tests/unit/meson.build explains known-bug cases).
 * Helpers and ASSERT_ macros: json-schema-test.h. The fuzz target tests/fuzz/fuzz-json-body.c
 * covers what cases cannot. */
#include "json-schema-test.h"

/* Regression (core/pipeline/json-schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the
 * fix: the depth guard counts brackets with its own idea of JSON, but json-glib 1.6 also accepts
 * 'single-quoted' strings and / * comments * /. A '"' inside either makes the guard believe the
 * rest of the body is one string, so no bracket after it is counted, and json-glib recurses once
 * per bracket. Measured: 100 000 levels (200 kB, under the default 1 MiB max_body) overflow an 8
 * MiB stack and kill atriumd. Here only 65 levels, which must be refused. */
static void
test_regression_depth_bypass (void)
{
        g_autofree char *a65 = jst_nested ("[", "]", ATRIUM_JSON_MAX_DEPTH + 1, NULL);
        g_autofree char *quote = g_strdup_printf ("['\"', %s]", a65);
        ASSERT_BODY_REFUSED (quote, "");
        g_autofree char *comment = g_strdup_printf ("[/* \" */ %s]", a65);
        ASSERT_BODY_REFUSED (comment, "");
}

/* Regression (core/pipeline/json-schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the
 * fix: json-glib 1.6 stops after the first top-level array or object, so "{}{}" and '[1] [2]' are
 * accepted as their first value and the rest is silently dropped ("{} x" and "[1] 2" are refused).
 * The header promises one value. */
static void
test_regression_second_value (void)
{
        ASSERT_BODY_REFUSED ("{}{}", "");
        ASSERT_BODY_REFUSED ("[1][2]", "");
        ASSERT_BODY_REFUSED ("{\"title\": \"a\"} {\"title\": \"b\", \"admin\": true}", "");
}

/* Regression (core/pipeline/json-schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the
 * fix: json-glib 1.6 wraps integers that do not fit in 64 bits: 9223372036854775808 parses as
 * -9223372036854775808, and 18446744073709551621 or 99999999999999999999999 as -1, so {"minimum":
 * -5, "maximum": 5} accepts them and the handler stores a number the client never sent. Refusing
 * the body (or keeping the value as a double) would both be honest. */
static void
test_regression_integer_overflow (void)
{
        const char *huge[] = {"9223372036854775808", "18446744073709551621",
                              "99999999999999999999999"};
        for (gsize i = 0; i < G_N_ELEMENTS (huge); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (JsonNode) n = atrium_json_parse_body (huge[i], strlen (huge[i]), &error);
                g_test_message ("body: %s", huge[i]);
                if (n)
                        g_assert_cmpfloat (json_node_get_double (n), >=, 9.2e18);
        }
}

/* Regression (core/pipeline/json-schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the
 * fix: "\u0000" in a string silently truncates it: {"name": "ab\u0000cd"} reaches the handler as
 * "ab". Neither GLib strings nor PostgreSQL text can hold NUL, so the body should be refused. */
static void
test_regression_nul_escape (void)
{
        ASSERT_BODY_REFUSED ("{\"name\": \"ab\\u0000cd\"}", "");
}

/* Regression (core/pipeline/json-schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the
 * fix: the UTF-8 check runs on the raw body, but json-glib decodes a lone surrogate escape
 * ("\ud800x") into bytes that are not UTF-8, so a handler can still receive invalid UTF-8. Such a
 * body should be refused (or the surrogate replaced by U+FFFD). */
static void
test_regression_lone_surrogate (void)
{
        const char *bodies[] = {"\"\\ud800x\"", "\"\\udc00\"", "\"a\\ud83d\""};
        for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (JsonNode) n =
                        atrium_json_parse_body (bodies[i], strlen (bodies[i]), &error);
                g_test_message ("body: %s", bodies[i]);
                if (n)
                        g_assert_true (g_utf8_validate (json_node_get_string (n), -1, NULL));
        }
}

/* Regression (core/pipeline/json-schema.c, validate_object; fixed in 4eb0244). Before the fix: the
 * error names a JSON Pointer, but member names are not escaped (RFC 6901: '~' -> "~0", '/' ->
 * "~1"), so a field "a/b" is reported as "/a/b", which points at a different place. */
static void
test_regression_pointer_escaping (void)
{
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {}}", "{\"a/b\": 1}",
                        "/a~1b: unknown field");
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {}}", "{\"m~n\": 1}",
                        "/m~0n: unknown field");
}

/* Regression (core/pipeline/json-schema.c, format_ok; fixed in 4eb0244). Before the fix: "date" and
 * "date-time" should be RFC 3339, but g_date_time_new_from_iso8601 also takes ISO 8601 week and
 * ordinal dates, which PostgreSQL's date/timestamptz input then refuses (a 500 instead of a 400) or
 * reads differently. */
static void
test_regression_iso_week_dates (void)
{
        const char *date = "{\"type\": \"string\", \"format\": \"date\"}";
        ASSERT_REFUSED (date, "\"2024-W01-1\"", "/");
        const char *dt = "{\"type\": \"string\", \"format\": \"date-time\"}";
        ASSERT_REFUSED (dt, "\"2024-W01-1T00:00:00Z\"", "/");
        ASSERT_REFUSED (dt, "\"2024-001T00:00:00.0Z\"", "/");
}

/* Regression (core/pipeline/json-schema.c, check_schema; fixed in 4eb0244). Before the fix: keyword
 * values are not type-checked when a schema is compiled, so a plugin's mistake is silently ignored
 * instead of refused at registration: "required": "title" (not a list) enforces nothing,
 * "minLength": "3" reads as 0, "enum": "a" is skipped, and "required": [{}] is a GLib critical
 * (json_array_get_string_element) on every request validated against it. The header says "nothing
 * is silently ignored". */
static void
test_regression_keyword_values (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"properties\": {\"title\": {}},"
                                " \"required\": \"title\"}",
                                "required");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"minLength\": \"3\"}", "minLength");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"enum\": \"a\"}", "enum");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": \"yes\"}", "uniqueItems");
        /* This one is a GLib critical at validation time, on every request. */
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"required\": [{}]}", "required");
}

/* Regression (core/pipeline/json-schema.c, atrium_schema_compile; fixed in 4eb0244). Before the
 * fix: an empty or all-blank schema text (a plugin writing request_schema = "" for "no body")
 * parses to no root at all, and the NULL goes on into json_node_copy () and check_schema (): GLib
 * criticals (fatal in tests and under G_DEBUG=fatal-criticals) instead of a GError refusing the
 * route. */
static void
test_regression_empty_schema_text (void)
{
        ASSERT_COMPILE_REFUSED ("", "");
        ASSERT_COMPILE_REFUSED ("  \n", "");
}

/* uniqueItems compares items pairwise (json_node_equal, O(n^2)): 20,000 items held a worker
 * for 21 s. A schema must bound such a list (maxItems <= 1000) or it is refused when the route
 * is registered, so no request can be that expensive. (No timing here: the bound is the fix.) */
static void
test_regression_unique_items_quadratic (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": true,"
                                " \"items\": {\"type\": \"integer\"}}",
                                "maxItems");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 5000}",
                                "maxItems");
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) ok = atrium_schema_compile (
                "{\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 1000}", &error);
        g_assert_no_error (error);
        g_assert_nonnull (ok);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add_func ("/schema/regression/depth-bypass", test_regression_depth_bypass);
        g_test_add_func ("/schema/regression/second-value", test_regression_second_value);
        g_test_add_func ("/schema/regression/integer-overflow", test_regression_integer_overflow);
        g_test_add_func ("/schema/regression/nul-escape", test_regression_nul_escape);
        g_test_add_func ("/schema/regression/lone-surrogate", test_regression_lone_surrogate);
        g_test_add_func ("/schema/regression/pointer-escaping", test_regression_pointer_escaping);
        g_test_add_func ("/schema/regression/iso-week-dates", test_regression_iso_week_dates);
        g_test_add_func ("/schema/regression/keyword-values", test_regression_keyword_values);
        g_test_add_func ("/schema/regression/empty-schema-text", test_regression_empty_schema_text);
        g_test_add_func ("/schema/regression/unique-items-quadratic",
                         test_regression_unique_items_quadratic);

        return g_test_run ();
}
