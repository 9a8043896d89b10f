/* SPDX-License-Identifier: Apache-2.0 */
/* test-files-range.c - unit tests of the files plugin's Range and If-Range handling
 * (plugins/files/files-range.c): which byte range a download serves for a Range header
 * (RFC 9110 §14), when it is 416, when the header is ignored, and when If-Range keeps the
 * range. Pure and in-process; tests/fuzz/fuzz-files-range.c throws random headers at the same
 * code. */
#include <string.h>

#include <glib.h>

#include "files-range.h"

#define NONE FILES_RANGE_NONE
#define OK FILES_RANGE_OK
#define UNSAT FILES_RANGE_UNSATISFIABLE

typedef struct {
        const char *header;
        gint64 size;
        FilesRangeResult want;
        gint64 start, end; /* when OK */
} RangeCase;

static void
check_cases (const RangeCase *cases, gsize n)
{
        for (gsize i = 0; i < n; i++) {
                const RangeCase *c = &cases[i];
                gint64 start = -7, end = -7;
                FilesRangeResult r = files_range_parse (c->header, c->size, &start, &end);
                if (r != c->want || (r == OK && (start != c->start || end != c->end)))
                        g_test_message ("\"%s\" size %" G_GINT64_FORMAT ": got %d %" G_GINT64_FORMAT
                                        "-%" G_GINT64_FORMAT,
                                        c->header ? c->header : "(null)", c->size, r, start, end);
                g_assert_cmpint (r, ==, c->want);
                if (r == OK) {
                        g_assert_cmpint (start, ==, c->start);
                        g_assert_cmpint (end, ==, c->end);
                } else { /* out-parameters only on success */
                        g_assert_cmpint (start, ==, -7);
                        g_assert_cmpint (end, ==, -7);
                }
        }
}

static void
test_ranges (void)
{
        static const RangeCase cases[] = {
                /* int-range */
                {"bytes=0-499", 10000, OK, 0, 499},
                {"bytes=500-999", 10000, OK, 500, 999},
                {"bytes=0-0", 10000, OK, 0, 0},
                {"bytes=9999-9999", 10000, OK, 9999, 9999},
                {"bytes=0-9999", 10000, OK, 0, 9999},
                /* open-ended */
                {"bytes=500-", 10000, OK, 500, 9999},
                {"bytes=0-", 10000, OK, 0, 9999},
                {"bytes=9999-", 10000, OK, 9999, 9999},
                {"bytes=0-", 1, OK, 0, 0},
                /* last-pos past the end is clipped */
                {"bytes=0-10000", 10000, OK, 0, 9999},
                {"bytes=9000-20000", 10000, OK, 9000, 9999},
                /* suffix */
                {"bytes=-500", 10000, OK, 9500, 9999},
                {"bytes=-1", 10000, OK, 9999, 9999},
                {"bytes=-10000", 10000, OK, 0, 9999},
                {"bytes=-10001", 10000, OK, 0, 9999}, /* longer than the file: all of it */
                {"bytes=-1", 1, OK, 0, 0},
                /* leading zeros are digits like any other */
                {"bytes=000-0499", 10000, OK, 0, 499},
                {"bytes=-0500", 10000, OK, 9500, 9999},
                /* the unit is case-insensitive (RFC 9110 §14.1) */
                {"Bytes=0-1", 10, OK, 0, 1},
                {"BYTES=0-1", 10, OK, 0, 1},
                {"bYtEs=-2", 10, OK, 8, 9},
                /* the largest sizes */
                {"bytes=0-", G_MAXINT64, OK, 0, G_MAXINT64 - 1},
                {"bytes=-1", G_MAXINT64, OK, G_MAXINT64 - 1, G_MAXINT64 - 1},
                {"bytes=9223372036854775806-", G_MAXINT64, OK, G_MAXINT64 - 1, G_MAXINT64 - 1},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_unsatisfiable (void)
{
        static const RangeCase cases[] = {
                {"bytes=10000-", 10000, UNSAT, 0, 0},
                {"bytes=10000-20000", 10000, UNSAT, 0, 0},
                {"bytes=20000-", 10000, UNSAT, 0, 0},
                {"bytes=1-1", 1, UNSAT, 0, 0},
                /* a zero suffix length selects nothing */
                {"bytes=-0", 10000, UNSAT, 0, 0},
                {"bytes=-000", 10000, UNSAT, 0, 0},
                /* an empty file has no satisfiable range */
                {"bytes=0-", 0, UNSAT, 0, 0},
                {"bytes=0-0", 0, UNSAT, 0, 0},
                {"bytes=-1", 0, UNSAT, 0, 0},
                {"bytes=-500", 0, UNSAT, 0, 0},
                {"bytes=9223372036854775806-", G_MAXINT64 - 1, UNSAT, 0, 0},
                {"bytes=9223372036854775807-", G_MAXINT64, UNSAT, 0, 0},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_overflow (void)
{
        static const RangeCase cases[] = {
                /* first-pos beyond gint64 is past the end of any file */
                {"bytes=9223372036854775808-", 10000, UNSAT, 0, 0},
                {"bytes=99999999999999999999999999999999-", 10000, UNSAT, 0, 0},
                {"bytes=9223372036854775808-", G_MAXINT64, UNSAT, 0, 0},
                {"bytes=18446744073709551616-18446744073709551617", 10000, UNSAT, 0, 0},
                /* last-pos beyond gint64 is clipped like any other */
                {"bytes=0-9223372036854775808", 10000, OK, 0, 9999},
                {"bytes=5-99999999999999999999999999999999", 10000, OK, 5, 9999},
                {"bytes=0-18446744073709551615", G_MAXINT64, OK, 0, G_MAXINT64 - 1},
                /* a suffix beyond gint64 is the whole file */
                {"bytes=-9223372036854775808", 10000, OK, 0, 9999},
                {"bytes=-99999999999999999999999999999999", G_MAXINT64, OK, 0, G_MAXINT64 - 1},
                /* no wrap-around: 2^64 + 5 is not 5 */
                {"bytes=18446744073709551621-", 10000, UNSAT, 0, 0},
                {"bytes=0-18446744073709551621", 10, OK, 0, 9},
                /* last < first compares the real numbers, even when both overflow */
                {"bytes=18446744073709551617-18446744073709551616", 10000, NONE, 0, 0},
                {"bytes=99999999999999999999-9223372036854775807", 10000, NONE, 0, 0},
                {"bytes=0000000000000000000000000005-000000000000000000000000000004", 10000, NONE, 0, 0},
                {"bytes=0000000000000000000000000005-6", 10000, OK, 5, 6},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_ignored (void)
{
        static const RangeCase cases[] = {
                {NULL, 10000, NONE, 0, 0},
                {"", 10000, NONE, 0, 0},
                /* other units, or a unit that only starts like "bytes" */
                {"items=0-5", 10000, NONE, 0, 0},
                {"bytesx=0-5", 10000, NONE, 0, 0},
                {"byte=0-5", 10000, NONE, 0, 0},
                {"bytes", 10000, NONE, 0, 0},
                {"bytes=", 10000, NONE, 0, 0},
                {"=0-5", 10000, NONE, 0, 0},
                {"0-5", 10000, NONE, 0, 0},
                /* several ranges: the whole file */
                {"bytes=0-1,5-6", 10000, NONE, 0, 0},
                {"bytes=0-1, 5-6", 10000, NONE, 0, 0},
                {"bytes=0-1,-5", 10000, NONE, 0, 0},
                {"bytes=0-1,0-1", 10000, NONE, 0, 0},
                {"bytes=10000-,20000-", 10000, NONE, 0, 0}, /* even when none is satisfiable */
                {"bytes=0-1,garbage", 10000, NONE, 0, 0},
                /* last < first */
                {"bytes=500-499", 10000, NONE, 0, 0},
                {"bytes=1-0", 10000, NONE, 0, 0},
                {"bytes=20000-10000", 10000, NONE, 0, 0},
                /* syntax */
                {"bytes=-", 10000, NONE, 0, 0},
                {"bytes=--5", 10000, NONE, 0, 0},
                {"bytes=1--5", 10000, NONE, 0, 0},
                {"bytes=1-2-3", 10000, NONE, 0, 0},
                {"bytes=a-b", 10000, NONE, 0, 0},
                {"bytes=0x10-", 10000, NONE, 0, 0},
                {"bytes=+5-", 10000, NONE, 0, 0},
                {"bytes=5", 10000, NONE, 0, 0},  /* an other-range: well-formed, meaningless */
                {"bytes=1e3-", 10000, NONE, 0, 0},
                {"bytes=-5-", 10000, NONE, 0, 0},
                {"bytes=\xd9\xa1-", 10000, NONE, 0, 0}, /* ARABIC-INDIC DIGIT ONE */
                {"bytes=\xef\xbc\x91-", 10000, NONE, 0, 0}, /* FULLWIDTH DIGIT ONE */
                {"bytes=0-1;", 10000, NONE, 0, 0},
                {"bytes=0-1\x01", 10000, NONE, 0, 0},
                /* whitespace: none around '=' or inside a range */
                {"bytes =0-1", 10000, NONE, 0, 0},
                {"bytes= 0-1", 10000, NONE, 0, 0},
                {"bytes = 0-1", 10000, NONE, 0, 0},
                {"bytes=0 -1", 10000, NONE, 0, 0},
                {"bytes=0- 1", 10000, NONE, 0, 0},
                {"bytes=- 5", 10000, NONE, 0, 0},
                {"bytes=0-1 2", 10000, NONE, 0, 0},
                {"bytes=0-\r\n1", 10000, NONE, 0, 0},
                {"bytes=0-1\n", 10000, NONE, 0, 0},
                {"bytes=,", 10000, NONE, 0, 0},
                {"bytes= ,", 10000, NONE, 0, 0},
                {"bytes=, ,", 10000, NONE, 0, 0},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

/* RFC 9110 §5.6.1.2: OWS around commas and empty list elements must be accepted, and the field
 * value carries no leading or trailing whitespace (trimmed here too). */
static void
test_list_syntax (void)
{
        static const RangeCase cases[] = {
                {"bytes=0-1,", 10000, OK, 0, 1},
                {"bytes=,0-1", 10000, OK, 0, 1},
                {"bytes=0-1 ,", 10000, OK, 0, 1},
                {"bytes=0-1\t, \t,", 10000, OK, 0, 1},
                {"bytes=, ,0-1", 10000, OK, 0, 1},
                {"bytes= ,0-1", 10000, OK, 0, 1},
                {"bytes=,,,-5,,", 10000, OK, 9995, 9999},
                {" bytes=0-1", 10000, OK, 0, 1},
                {"bytes=0-1 \t", 10000, OK, 0, 1},
                {"bytes=100-,", 50, UNSAT, 0, 0},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_http_date (void)
{
        const struct {
                gint64 t;
                const char *want;
        } cases[] = {
                {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"}, /* RFC 9110's example */
                {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
                {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
                {1735689599, "Tue, 31 Dec 2024 23:59:59 GMT"},
                {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
                {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_autofree char *got = files_http_date (cases[i].t);
                g_assert_cmpstr (got, ==, cases[i].want);
        }
        g_assert_null (files_http_date (253402300800)); /* year 10000 */
        g_assert_null (files_http_date (G_MAXINT64));
        g_assert_null (files_http_date (G_MININT64));
}

static void
test_if_range (void)
{
        const char *etag = "\"3a7bd3e2360a3d29eea436fcfb7e44c735d117c4\"";
        const gint64 mtime = 784111777;
        const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";

        /* No If-Range: the range stands. */
        g_assert_true (files_if_range_matches (NULL, etag, mtime));
        /* Our strong tag, or our Last-Modified exactly. */
        g_assert_true (files_if_range_matches (etag, etag, mtime));
        g_assert_true (files_if_range_matches (date, etag, mtime));
        g_assert_true (files_if_range_matches (date, NULL, mtime));
        g_assert_true (files_if_range_matches (" \"3a7bd3e2360a3d29eea436fcfb7e44c735d117c4\"\t",
                                               etag, mtime));

        /* Everything else: the whole file. */
        g_assert_false (files_if_range_matches ("", etag, mtime));
        g_assert_false (files_if_range_matches ("\"other\"", etag, mtime));
        g_assert_false (files_if_range_matches ("\"3a7bd3e2360a3d29eea436fcfb7e44c735d117c\"", etag,
                                                mtime));
        g_assert_false (files_if_range_matches ("3a7bd3e2360a3d29eea436fcfb7e44c735d117c4", etag,
                                                mtime)); /* unquoted */
        /* Weak on either side never passes a strong comparison. */
        g_autofree char *weak = g_strconcat ("W/", etag, NULL);
        g_assert_false (files_if_range_matches (weak, etag, mtime));
        g_assert_false (files_if_range_matches (weak, weak, mtime));
        g_assert_false (files_if_range_matches (etag, weak, mtime));
        g_assert_false (files_if_range_matches (etag, NULL, mtime));
        g_assert_false (files_if_range_matches ("*", etag, mtime));
        /* A list is not an entity-tag. */
        g_autofree char *list = g_strconcat (etag, ", \"x\"", NULL);
        g_assert_false (files_if_range_matches (list, etag, mtime));
        /* Dates: another second, another zone, the obsolete formats, case. */
        g_assert_false (files_if_range_matches (date, etag, mtime + 1));
        g_assert_false (files_if_range_matches (date, etag, mtime - 1));
        g_assert_false (files_if_range_matches ("Sun, 06 Nov 1994 08:49:38 GMT", etag, mtime));
        g_assert_false (files_if_range_matches ("Sun, 06 Nov 1994 09:49:37 +0100", etag, mtime));
        g_assert_false (files_if_range_matches ("Sunday, 06-Nov-94 08:49:37 GMT", etag, mtime));
        g_assert_false (files_if_range_matches ("Sun Nov  6 08:49:37 1994", etag, mtime));
        g_assert_false (files_if_range_matches ("sun, 06 nov 1994 08:49:37 gmt", etag, mtime));
        g_assert_false (files_if_range_matches ("Sun, 06 Nov 1994 08:49:37 GMT, x", etag, mtime));
        g_assert_false (files_if_range_matches ("1994-11-06T08:49:37Z", etag, mtime));
        /* An mtime outside what an HTTP-date can say matches nothing. */
        g_assert_false (files_if_range_matches (date, etag, G_MAXINT64));
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/files-range/ranges", test_ranges);
        g_test_add_func ("/files-range/unsatisfiable", test_unsatisfiable);
        g_test_add_func ("/files-range/overflow", test_overflow);
        g_test_add_func ("/files-range/ignored", test_ignored);
        g_test_add_func ("/files-range/list-syntax", test_list_syntax);
        g_test_add_func ("/files-range/http-date", test_http_date);
        g_test_add_func ("/files-range/if-range", test_if_range);
        return g_test_run ();
}
