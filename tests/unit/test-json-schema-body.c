/* SPDX-License-Identifier: Apache-2.0 */
/* test-json-schema-body.c - unit tests of parsing raw request bodies (core/pipeline/json-schema.c,
 * atrium_json_parse_body): UTF-8 only, the nesting limit, empty bodies, garbage, scalars, and
 * the length given rather than a terminating NUL. A body that reaches a handler has been
 * parsed, compiled against and validated, so these are cases a client can hit with any bytes.
 * Helpers and ASSERT_ macros: json-schema-test.h. The fuzz target tests/fuzz/fuzz-json-body.c
 * covers what cases cannot. */
#include "json-schema-test.h"

static void
test_body_utf8 (void)
{
        g_autoptr (JsonNode) n = jst_parse ("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
        g_assert_cmpstr (json_node_get_string (n), ==, "café 😀");

        ASSERT_BODY_REFUSED ("\"\xff\"", "UTF-8");
        ASSERT_BODY_REFUSED ("\"caf\xc3\"", "UTF-8");          /* truncated sequence */
        ASSERT_BODY_REFUSED ("\"\xc0\xaf\"", "UTF-8");         /* overlong "/" */
        ASSERT_BODY_REFUSED ("\"\xed\xa0\x80\"", "UTF-8");     /* encoded surrogate */
        ASSERT_BODY_REFUSED ("\"\xf4\x90\x80\x80\"", "UTF-8"); /* beyond U+10FFFF */
        ASSERT_BODY_REFUSED ("{\"a\": 1}\xfe", "UTF-8");       /* after the value, too */

        /* A NUL byte inside the body is not UTF-8 text either. */
        static const char with_nul[] = "{\"a\": \"x\0y\"}";
        g_autofree char *m = jst_body_error (with_nul, sizeof with_nul - 1);
        g_assert_nonnull (m);
}

static void
test_body_depth (void)
{
        /* 64 levels are fine, 65 are not, whatever the brackets. */
        g_autofree char *a64 = jst_nested ("[", "]", ATRIUM_JSON_MAX_DEPTH, NULL);
        g_autofree char *a65 = jst_nested ("[", "]", ATRIUM_JSON_MAX_DEPTH + 1, NULL);
        g_autoptr (JsonNode) n64 = jst_parse (a64);
        g_assert_true (JSON_NODE_HOLDS_ARRAY (n64));
        ASSERT_BODY_REFUSED (a65, "deeper than 64");

        g_autofree char *o64 = jst_nested ("{\"a\":", "}", ATRIUM_JSON_MAX_DEPTH - 1, "{}");
        g_autofree char *o65 = jst_nested ("{\"a\":", "}", ATRIUM_JSON_MAX_DEPTH, "{}");
        g_autoptr (JsonNode) on64 = jst_parse (o64);
        g_assert_true (JSON_NODE_HOLDS_OBJECT (on64));
        ASSERT_BODY_REFUSED (o65, "deeper than 64");

        g_autofree char *m64 = jst_nested ("[{\"k\":", "}]", ATRIUM_JSON_MAX_DEPTH / 2, "1");
        g_autofree char *m65 = jst_nested ("[{\"k\":", "}]", ATRIUM_JSON_MAX_DEPTH / 2, "[]");
        g_autoptr (JsonNode) mn64 = jst_parse (m64);
        g_assert_nonnull (mn64);
        ASSERT_BODY_REFUSED (m65, "deeper than 64");

        /* Depth is nesting, not the number of brackets: siblings do not add up. */
        GString *wide = g_string_new ("[");
        for (int i = 0; i < 1000; i++)
                g_string_append (wide, i ? ",[[]]" : "[[]]");
        g_string_append (wide, "]");
        g_autoptr (JsonNode) wn = jst_parse (wide->str);
        g_assert_cmpuint (json_array_get_length (json_node_get_array (wn)), ==, 1000);
        g_string_free (wide, TRUE);

        /* Brackets inside strings are text. */
        g_autofree char *text = jst_nested ("[", "]", 200, NULL);
        g_autofree char *in_string = g_strdup_printf ("{\"a\": \"%s\", \"b\": \"{{{{\"}", text);
        g_autoptr (JsonNode) sn = jst_parse (in_string);
        g_assert_cmpstr (json_object_get_string_member (json_node_get_object (sn), "a"), ==, text);
        g_autofree char *inner = g_strdup_printf ("\"%s\"", text);
        g_autofree char *deep_with_string = jst_nested ("[", "]", ATRIUM_JSON_MAX_DEPTH, inner);
        g_autoptr (JsonNode) dn = jst_parse (deep_with_string);
        g_assert_nonnull (dn);

        /* Escaped quotes do not end a string ... */
        g_autofree char *escaped = g_strdup_printf ("[\"\\\"%s\\\"\"]", text);
        g_autoptr (JsonNode) en = jst_parse (escaped);
        g_assert_nonnull (en);
        /* ... but an escaped backslash before the quote does not hide the quote: what
         * follows the string is counted again. */
        g_autofree char *after = g_strdup_printf ("[\"\\\\\", %s]", a64);
        ASSERT_BODY_REFUSED (after, "deeper than 64");
        g_autofree char *a63 = jst_nested ("[", "]", ATRIUM_JSON_MAX_DEPTH - 1, NULL);
        g_autofree char *after_ok = g_strdup_printf ("[\"\\\\\", %s]", a63);
        g_autoptr (JsonNode) an = jst_parse (after_ok);
        g_assert_nonnull (an);

        /* The guard is cheap and comes first: a megabyte of '[' is refused, not parsed. */
        gsize big = 1024 * 1024;
        g_autofree char *brackets = g_malloc (big);
        memset (brackets, '[', big);
        g_autofree char *m = jst_body_error (brackets, big);
        g_assert_nonnull (m);
        g_assert_nonnull (strstr (m, "deeper than 64"));
}

static void
test_body_empty (void)
{
        ASSERT_BODY_REFUSED ("", "empty");
        ASSERT_BODY_REFUSED ("   ", "empty");
        ASSERT_BODY_REFUSED ("\r\n\t ", "empty");
        g_autofree char *m = jst_body_error ("{}", 0);
        g_assert_nonnull (m);
}

static void
test_body_garbage (void)
{
        ASSERT_BODY_REFUSED ("{} x", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1] 2", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": 1}}", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1]]", "not valid JSON");
        ASSERT_BODY_REFUSED ("1 2", "not valid JSON");
        ASSERT_BODY_REFUSED ("\"a\" \"b\"", "not valid JSON");
        ASSERT_BODY_REFUSED ("true false", "not valid JSON");
        ASSERT_BODY_REFUSED ("{},", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": }", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\" 1}", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1,]", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": 1,}", "not valid JSON");
        ASSERT_BODY_REFUSED ("{a: 1}", "not valid JSON");
        ASSERT_BODY_REFUSED ("nul", "not valid JSON");
        ASSERT_BODY_REFUSED ("[NaN]", "not valid JSON");
        ASSERT_BODY_REFUSED ("[Infinity]", "not valid JSON");
        ASSERT_BODY_REFUSED ("[+1]", "not valid JSON");
        ASSERT_BODY_REFUSED ("\"unterminated", "not valid JSON");
        ASSERT_BODY_REFUSED ("[", "not valid JSON");
        ASSERT_BODY_REFUSED ("}", "not valid JSON");
}

static void
test_body_scalars_and_length (void)
{
        /* One value of any type. */
        g_autoptr (JsonNode) i = jst_parse ("42");
        g_assert_cmpint (json_node_get_int (i), ==, 42);
        g_autoptr (JsonNode) s = jst_parse (" \"x\" \n");
        g_assert_cmpstr (json_node_get_string (s), ==, "x");
        g_autoptr (JsonNode) b = jst_parse ("true");
        g_assert_true (json_node_get_boolean (b));
        g_autoptr (JsonNode) z = jst_parse ("null");
        g_assert_true (JSON_NODE_HOLDS_NULL (z));

        /* The length is honoured: the body is not NUL-terminated. */
        static const char buf[] = "[1,2]XXXX";
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) a = atrium_json_parse_body (buf, 5, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (json_array_get_length (json_node_get_array (a)), ==, 2);
        g_autofree char *m = jst_body_error (buf, 4);
        g_assert_nonnull (m);

        /* Big integers that fit stay exact. */
        g_autoptr (JsonNode) big = jst_parse ("9223372036854775807");
        g_assert_cmpint (json_node_get_int (big), ==, G_MAXINT64);
        g_autoptr (JsonNode) small = jst_parse ("-9223372036854775808");
        g_assert_cmpint (json_node_get_int (small), ==, G_MININT64);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add_func ("/schema/body/utf8", test_body_utf8);
        g_test_add_func ("/schema/body/depth", test_body_depth);
        g_test_add_func ("/schema/body/empty", test_body_empty);
        g_test_add_func ("/schema/body/garbage", test_body_garbage);
        g_test_add_func ("/schema/body/scalars-and-length", test_body_scalars_and_length);

        return g_test_run ();
}
