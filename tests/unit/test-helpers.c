/* SPDX-License-Identifier: Apache-2.0 */
/* test-helpers.c - unit tests of the static-inline helpers plugins compile in from
 * api/atrium/helpers.h: keyset pagination (the one cursor format every list uses). The host
 * slots the helpers call are stand-ins here (a fake AtriumHost over a fake request and result),
 * so what is tested is the helpers' own logic. */
#include <string.h>

#include "atrium/atrium.h"

/* ---- a fake host: request_page hands out what the test set, results are a string table ---- */

static struct {
        int limit;
        const char *after; /* the decoded cursor, as the host's request_page gives it */
        gboolean fail;
} query;

typedef struct {
        int rows, cols;
        const char *const *cells; /* rows * cols */
} FakeResult;

static gboolean
fake_request_page (AtriumRequest *req, int *out_limit, char **out_after, GError **error)
{
        if (query.fail) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "bad limit");
                return FALSE;
        }
        *out_limit = query.limit;
        *out_after = g_strdup (query.after);
        return TRUE;
}

static int
fake_n_rows (const AtriumResult *res)
{
        return ((const FakeResult *) res)->rows;
}

static const char *
fake_value (const AtriumResult *res, int row, int col)
{
        const FakeResult *r = (const FakeResult *) res;
        g_assert_cmpint (row, <, r->rows);
        g_assert_cmpint (col, <, r->cols);
        return r->cells[row * r->cols + col];
}

static const AtriumHost fake_host = {
        .request_page = fake_request_page,
        .result_n_rows = fake_n_rows,
        .result_value = fake_value,
};

static AtriumRequest *const fake_req = (AtriumRequest *) &query;

/* ---- pagination ---- */

static void
test_page_first (void)
{
        query.limit = 50;
        query.after = NULL;
        query.fail = FALSE;
        g_auto (AtriumPage) page = {0};
        g_autoptr (GError) error = NULL;
        g_assert_true (atrium_page_begin (&fake_host, fake_req, "tu", &page, &error));
        g_assert_no_error (error);
        g_assert_cmpint (page.limit, ==, 50);
        g_assert_cmpstr (page.fetch, ==, "51");
        g_assert_null (page.key);
        g_assert_null (atrium_page_key (&page, 0));
        g_assert_null (atrium_page_key (&page, 1));
}

static void
test_page_round_trip (void)
{
        /* Fields holding what broke the old separators, quotes, and non-ASCII text. */
        const char *const fields[] = {"Cal 05\nzweite | Zeile \"q\" \\ Ärger", "",
                                      "8a7e1a3c-2a1b-4c5d-9e8f-0123456789ab", "-42",
                                      "2026-05-04 08:00:00.123456+00"};
        g_autofree char *cursor = atrium_page_cursor (G_N_ELEMENTS (fields), fields);
        query.limit = 3;
        query.after = cursor;
        query.fail = FALSE;
        g_auto (AtriumPage) page = {0};
        g_autoptr (GError) error = NULL;
        g_assert_true (atrium_page_begin (&fake_host, fake_req, "ssuit", &page, &error));
        g_assert_no_error (error);
        g_assert_cmpint (page.limit, ==, 3);
        g_assert_cmpstr (page.fetch, ==, "4");
        g_assert_cmpuint (g_strv_length (page.key), ==, G_N_ELEMENTS (fields));
        for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
                g_assert_cmpstr (atrium_page_key (&page, i), ==, fields[i]);
}

static void
test_page_refuses (void)
{
        const struct {
                const char *kinds;
                const char *after;
        } bad[] = {
                {"tu", "2026-01-01 00:00:00+00|8a7e1a3c-2a1b-4c5d-9e8f-0123456789ab"}, /* old */
                {"su", "name\n8a7e1a3c-2a1b-4c5d-9e8f-0123456789ab"},                   /* old */
                {"s", "not json"},
                {"s", "{\"a\": \"b\"}"},
                {"s", "\"just a string\""},
                {"s", "[]"},
                {"s", "[\"a\", \"b\"]"},                       /* too many fields */
                {"su", "[\"a\"]"},                             /* too few */
                {"s", "[5]"},                                  /* not a string */
                {"s", "[null]"},
                {"s", "[[\"a\"]]"},
                {"u", "[\"not-a-uuid\"]"},
                {"i", "[\"12x\"]"},
                {"i", "[\"\"]"},
                {"i", "[\"99999999999999999999\"]"},
                {"t", "[\"not a time\"]"},
                {"t", "[\"2026-01-01 00:00:00\"]"}, /* PostgreSQL prints the zone */
                {"s", "[\"a\"] trailing"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                query.limit = 10;
                query.after = bad[i].after;
                query.fail = FALSE;
                AtriumPage page = {0};
                g_autoptr (GError) error = NULL;
                if (atrium_page_begin (&fake_host, fake_req, bad[i].kinds, &page, &error))
                        g_error ("accepted %s for %s", bad[i].after, bad[i].kinds);
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
                g_assert_null (page.key); /* nothing written on failure */
        }
        /* The host's own refusal (a bad limit) passes through unchanged. */
        query.fail = TRUE;
        AtriumPage page = {0};
        g_autoptr (GError) error = NULL;
        g_assert_false (atrium_page_begin (&fake_host, fake_req, "s", &page, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        g_assert_cmpstr (error->message, ==, "bad limit");
        query.fail = FALSE;
}

static void
test_page_next (void)
{
        /* id, name, at: a page of two fetched with LIMIT 3 */
        static const char *const cells[] = {
                "8a7e1a3c-2a1b-4c5d-9e8f-000000000001", "a|b",    "2026-01-01 00:00:00+00",
                "8a7e1a3c-2a1b-4c5d-9e8f-000000000002", "c\nd",   "2026-01-02 00:00:00+00",
                "8a7e1a3c-2a1b-4c5d-9e8f-000000000003", "e",      "2026-01-03 00:00:00+00",
        };
        AtriumPage page = {.limit = 2};
        FakeResult more = {3, 3, cells};
        g_autofree char *next =
                atrium_page_next (&fake_host, &page, (const AtriumResult *) &more, 2, 1, 0);
        g_assert_nonnull (next);
        /* It reads back as the second row's key, in the order the columns were given. */
        query.limit = 2;
        query.after = next;
        g_auto (AtriumPage) again = {0};
        g_autoptr (GError) error = NULL;
        g_assert_true (atrium_page_begin (&fake_host, fake_req, "su", &again, &error));
        g_assert_cmpstr (atrium_page_key (&again, 0), ==, "c\nd");
        g_assert_cmpstr (atrium_page_key (&again, 1), ==, "8a7e1a3c-2a1b-4c5d-9e8f-000000000002");
        /* No row beyond the page: the last page. */
        FakeResult exact = {2, 3, cells};
        g_assert_null (atrium_page_next (&fake_host, &page, (const AtriumResult *) &exact, 1, 0));
        FakeResult none = {0, 3, cells};
        g_assert_null (atrium_page_next (&fake_host, &page, (const AtriumResult *) &none, 1, 0));
        /* A key of one column is a one-field array too (one format for every list). */
        g_autofree char *single =
                atrium_page_next (&fake_host, &page, (const AtriumResult *) &more, 1, 2);
        g_assert_cmpstr (single, ==, "[\"2026-01-02 00:00:00+00\"]");
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/helpers/page/first", test_page_first);
        g_test_add_func ("/helpers/page/round-trip", test_page_round_trip);
        g_test_add_func ("/helpers/page/refuses", test_page_refuses);
        g_test_add_func ("/helpers/page/next", test_page_next);
        return g_test_run ();
}
