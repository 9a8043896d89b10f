/* SPDX-License-Identifier: Apache-2.0 */
/* test-result-json.c - query results as JSON (core/db/result-json.c): the text written straight
 * from a result is the same document as the JsonNode tree of the same rows, for every type the
 * mapping knows and for strings that need escaping. The results are built with libpq's own
 * PQmakeEmptyPGresult/PQsetvalue, so no server is needed. */
#include "db-private.h"

#include <string.h>

typedef struct {
        const char *name;
        Oid type;
} Column;

static PGresult *
make_result (const Column *cols, int n_cols, const char *const *values, int n_rows)
{
        PGresult *res = PQmakeEmptyPGresult (NULL, PGRES_TUPLES_OK);
        PGresAttDesc attrs[16] = {0};
        g_assert_cmpint (n_cols, <=, (int) G_N_ELEMENTS (attrs));
        for (int c = 0; c < n_cols; c++) {
                attrs[c].name = (char *) cols[c].name;
                attrs[c].typid = cols[c].type;
                attrs[c].typlen = -1;
                attrs[c].atttypmod = -1;
        }
        g_assert_true (PQsetResultAttrs (res, n_cols, attrs));
        for (int r = 0; r < n_rows; r++)
                for (int c = 0; c < n_cols; c++) {
                        const char *v = values[r * n_cols + c];
                        g_assert_true (PQsetvalue (res, r, c, (char *) v, v ? (int) strlen (v) : -1));
                }
        return res;
}

static JsonNode *
parse (const char *text)
{
        g_autoptr (JsonParser) p = json_parser_new ();
        g_autoptr (GError) error = NULL;
        if (!json_parser_load_from_data (p, text, -1, &error))
                g_error ("not JSON (%s): %s", error->message, text);
        return json_node_copy (json_parser_get_root (p));
}

/* The tree the handlers build: {"items": rows_json, "next_cursor": ...}. */
static JsonNode *
tree_page (const AtriumResult *r, const char *next)
{
        JsonObject *o = json_object_new ();
        json_object_set_member (o, "items", atrium_result_rows_json (r));
        if (next)
                json_object_set_string_member (o, "next_cursor", next);
        else
                json_object_set_null_member (o, "next_cursor");
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

static void
assert_same (const AtriumResult *r, const char *next)
{
        g_autoptr (GBytes) body = atrium_result_page_body (r, PQntuples (r->res), next);
        g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
        g_autoptr (JsonNode) from_text = parse (text);
        g_autoptr (JsonNode) from_tree = tree_page (r, next);
        if (!json_node_equal (from_text, from_tree)) {
                g_autofree char *t = json_to_string (from_tree, FALSE);
                g_error ("text and tree differ:\n  text %s\n  tree %s", text, t);
        }
}

static void
test_types (void)
{
        static const Column cols[] = {
                {"id", 2950 /* uuid */}, {"ok", 16},     {"n4", 23},    {"n8", 20},
                {"n2", 21},              {"f8", 701},    {"doc", 3802}, {"raw", 114},
                {"at", 1184},            {"title", 25},  {"gone", 25},
        };
        static const char *const rows[] = {
                "019a2ee4-5fd1-4e4e-a21c-b7dafe912162", "t", "-42", "9007199254740993", "7", "0.1",
                "{\"a\": [1, 2.5, null], \"b\": {\"c\": \"d\"}}", "[1, {\"x\" : true}]",
                "2026-11-26 08:00:00.5+00", "Stundenplan für 7b", NULL,
                "019a2ee4-5fd1-4e4e-a21c-b7dafe912163", "f", "0", "-1", "-32768", "1e+20", "null",
                "\"s\"", "2026-01-01 00:00:00+00", "", "x",
        };
        PGresult *res = make_result (cols, G_N_ELEMENTS (cols), rows, 2);
        AtriumResult r = {.res = res};
        assert_same (&r, NULL);
        assert_same (&r, "MjAyNi0xMS0yNnw0Mg");
        PQclear (res);
}

static void
test_escaping (void)
{
        static const Column cols[] = {{"t\"ricky\\name", 25}, {"body", 25}};
        static const char *const rows[] = {
                "quote \" backslash \\ slash /", "tab\tnewline\ncr\rbell\a\x01\x1f form\f back\b",
                "emoji 😀 and \u2028 separator", "ümlaut ß",
        };
        PGresult *res = make_result (cols, G_N_ELEMENTS (cols), rows, 2);
        AtriumResult r = {.res = res};
        assert_same (&r, "a\"b");
        PQclear (res);
}

/* JSON has no NaN or infinities: both ways write null. */
static void
test_non_finite (void)
{
        static const Column cols[] = {{"a", 701}, {"b", 700}, {"c", 701}};
        static const char *const rows[] = {"NaN", "Infinity", "-Infinity"};
        PGresult *res = make_result (cols, G_N_ELEMENTS (cols), rows, 1);
        AtriumResult r = {.res = res};
        assert_same (&r, NULL);
        g_autoptr (GBytes) body = atrium_result_page_body (&r, 1, NULL);
        g_assert_cmpstr (g_bytes_get_data (body, NULL), ==,
                         "{\"items\":[{\"a\":null,\"b\":null,\"c\":null}],\"next_cursor\":null}");
        PQclear (res);
}

/* Only the first n_rows go out (a handler fetches limit + 1 to know there is more). */
static void
test_limit (void)
{
        static const Column cols[] = {{"n", 23}};
        static const char *const rows[] = {"1", "2", "3"};
        PGresult *res = make_result (cols, 1, rows, 3);
        AtriumResult r = {.res = res};
        g_autoptr (GBytes) body = atrium_result_page_body (&r, 2, "Mg");
        g_assert_cmpstr (g_bytes_get_data (body, NULL), ==,
                         "{\"items\":[{\"n\":1},{\"n\":2}],\"next_cursor\":\"Mg\"}");
        g_autoptr (GBytes) none = atrium_result_page_body (NULL, 5, NULL);
        g_assert_cmpstr (g_bytes_get_data (none, NULL), ==, "{\"items\":[],\"next_cursor\":null}");
        PQclear (res);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/result-json/types", test_types);
        g_test_add_func ("/result-json/escaping", test_escaping);
        g_test_add_func ("/result-json/non-finite", test_non_finite);
        g_test_add_func ("/result-json/limit", test_limit);
        return g_test_run ();
}
