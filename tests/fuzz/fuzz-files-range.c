/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-files-range.c - libFuzzer target for the files plugin's Range and If-Range handling
 * (plugins/files/files-range.c). The input, cut at the first NUL as a header value would be,
 * is the Range header for files of several sizes (empty, one byte, small, the largest a gint64
 * can say), and the If-Range header for one file. Besides crashes and sanitizer reports it
 * checks what files-range.h promises: an OK range has 0 <= start <= end < size, out-parameters
 * are written only on OK, the unit is case-insensitive, an empty list element changes nothing,
 * and for the plain one-range spellings ("bytes=F-L", "bytes=F-", "bytes=-N" with numbers that
 * fit) a direct computation from RFC 9110 §14.1.1 gives the same answer. If-Range may only
 * pass for our exact ETag or Last-Modified date.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "files-range.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const gint64 sizes[] = {0, 1, 2, 499, 500, 10000, G_MAXINT32, G_MAXINT64 - 1, G_MAXINT64};

static GRegex *simple; /* ^ OWS bytes=(digits)-(digits) OWS $, any case */

static FilesRangeResult
parse (const char *header, gint64 size, gint64 *start, gint64 *end)
{
        *start = *end = -7;
        FilesRangeResult r = files_range_parse (header, size, start, end);
        switch (r) {
        case FILES_RANGE_OK:
                if (*start < 0 || *start > *end || *end >= size)
                        abort ();
                break;
        case FILES_RANGE_NONE:
        case FILES_RANGE_UNSATISFIABLE:
                if (*start != -7 || *end != -7)
                        abort ();
                if (r == FILES_RANGE_UNSATISFIABLE && !strchr (header, '-'))
                        abort ();
                break;
        default:
                abort ();
        }
        return r;
}

/* RFC 9110 §14.1.1 for one range whose numbers fit in 18 digits. */
static FilesRangeResult
expect (const char *first, const char *last, gint64 size, gint64 *start, gint64 *end)
{
        if (!first[0] && !last[0])
                return FILES_RANGE_NONE;
        if (!first[0]) {
                gint64 n = g_ascii_strtoll (last, NULL, 10);
                if (n == 0 || size == 0)
                        return FILES_RANGE_UNSATISFIABLE;
                *start = size - MIN (n, size);
                *end = size - 1;
                return FILES_RANGE_OK;
        }
        gint64 f = g_ascii_strtoll (first, NULL, 10);
        gint64 l = last[0] ? g_ascii_strtoll (last, NULL, 10) : G_MAXINT64;
        if (f > l)
                return FILES_RANGE_NONE;
        if (f >= size)
                return FILES_RANGE_UNSATISFIABLE;
        *start = f;
        *end = MIN (l, size - 1);
        return FILES_RANGE_OK;
}

static void
check_simple (const char *header, gint64 size, FilesRangeResult r, gint64 start, gint64 end)
{
        g_autoptr (GMatchInfo) m = NULL;
        if (!g_regex_match (simple, header, 0, &m))
                return;
        g_autofree char *first = g_match_info_fetch (m, 1);
        g_autofree char *last = g_match_info_fetch (m, 2);
        if (strlen (first) > 18 || strlen (last) > 18)
                return;
        gint64 want_start = -7, want_end = -7;
        FilesRangeResult want = expect (first, last, size, &want_start, &want_end);
        if (r != want || start != want_start || end != want_end)
                abort ();
}

static void
fuzz_range (const char *header)
{
        g_autofree char *upper = g_ascii_strup (header, -1);
        g_autofree char *padded = g_strconcat (header, " ,", NULL);
        for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++) {
                gint64 start, end;
                FilesRangeResult r = parse (header, sizes[i], &start, &end);
                check_simple (header, sizes[i], r, start, end);

                /* Case does not matter, in the unit or anywhere else (digits have no case). */
                gint64 s2, e2;
                if (parse (upper, sizes[i], &s2, &e2) != r || s2 != start || e2 != end)
                        abort ();
                /* An empty list element after a valid range-set changes nothing. */
                if (r != FILES_RANGE_NONE &&
                    (parse (padded, sizes[i], &s2, &e2) != r || s2 != start || e2 != end))
                        abort ();
                /* A range OK for a size is OK or 416 for any size, never ignored. */
                if (r != FILES_RANGE_NONE)
                        for (gsize j = 0; j < G_N_ELEMENTS (sizes); j++)
                                if (parse (header, sizes[j], &s2, &e2) == FILES_RANGE_NONE)
                                        abort ();
        }
}

/* Trims SP and HTAB from both ends. Returns: (transfer full) */
static char *
trimmed (const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        gsize n = strlen (s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return g_strndup (s, n);
}

static void
fuzz_if_range (const char *header, const uint8_t *data, size_t size)
{
        const char *etag = "\"3a7bd3e2360a3d29eea436fcfb7e44c735d117c4\"";
        gint64 mtime = 784111777;
        if (size >= 8) { /* the first bytes as a time, too, for files_http_date */
                memcpy (&mtime, data, sizeof mtime);
                g_autofree char *date = files_http_date (mtime);
                if (date) {
                        if (strlen (date) != 29 || !g_str_has_suffix (date, " GMT") ||
                            !files_if_range_matches (date, NULL, mtime))
                                abort ();
                } else if (mtime >= -62135596800 && mtime <= 253402300799) { /* 0001-9999 */
                        abort ();
                }
        }
        g_autofree char *date = files_http_date (mtime);
        g_autofree char *value = trimmed (header);
        gboolean want = g_str_equal (value, etag) || (date && g_str_equal (value, date));
        if (files_if_range_matches (header, etag, mtime) != want)
                abort ();
        g_autofree char *weak = g_strconcat ("W/", etag, NULL);
        if (files_if_range_matches (header, weak, mtime) != (date && g_str_equal (value, date)))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autofree char *header = g_strndup ((const char *) data, size);
        fuzz_range (header);
        fuzz_if_range (header, data, size);
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        /* Raw: the input need not be UTF-8. Not optimised: GRegex's JIT is not what is tested. */
        simple = g_regex_new ("^[ \\t]*bytes=([0-9]*)-([0-9]*)[ \\t]*$",
                              G_REGEX_RAW | G_REGEX_CASELESS | G_REGEX_DOLLAR_ENDONLY, 0, NULL);
        if (!simple)
                abort ();
        return 0;
}
