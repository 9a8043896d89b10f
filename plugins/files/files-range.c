/* SPDX-License-Identifier: Apache-2.0 */
/* files-range.c - Range and If-Range for file downloads (see files-range.h). Only a single
 * range is ever served: RFC 9110 lets a server ignore Range, and multipart/byteranges would buy
 * little for a school file store while adding a response format to get wrong. Anything that is
 * not exactly one well-formed bytes range is therefore FILES_RANGE_NONE, and the client gets
 * the whole file with 200, which every client must handle.
 *
 * If-Range needs no date parser: RFC 9110 §13.1.5 makes a date condition true only if it
 * "exactly matches the Last-Modified field value", and we always send Last-Modified as an
 * IMF-fixdate (files_http_date), so the comparison is with our own rendering of the time. A
 * client that echoes the date in an obsolete format (RFC 850, asctime) gets the whole file,
 * which is always safe. (GLib has no HTTP-date parser, g_date_time_new_from_iso8601 reads a
 * different format, and the plugin does not link libsoup.) */
#include <string.h>

#include "files-range.h"

static gboolean
is_ows (char c)
{
        return c == ' ' || c == '\t';
}

/* Trims optional whitespace from both ends of [*p, *end): the HTTP parser removes it from a
 * field value already, and doing it again keeps this code independent of that. */
static void
trim_ows (const char **p, const char **end)
{
        while (*p < *end && is_ows (**p))
                (*p)++;
        while (*end > *p && is_ows ((*end)[-1]))
                (*end)--;
}

static gboolean
all_digits (const char *p, const char *end)
{
        if (p == end)
                return FALSE;
        for (; p < end; p++)
                if (!g_ascii_isdigit (*p))
                        return FALSE;
        return TRUE;
}

/* The value of the digits [p, end), saturated at G_MAXINT64: every caller only compares it with
 * a size, which is at most G_MAXINT64, so a saturated value gives the same answer. */
static gint64
value_of (const char *p, const char *end)
{
        gint64 v = 0;
        for (; p < end; p++) {
                int d = *p - '0';
                if (v > (G_MAXINT64 - d) / 10)
                        return G_MAXINT64;
                v = v * 10 + d;
        }
        return v;
}

/* Compares two runs of digits as numbers of any length (leading zeros allowed). */
static int
compare_digits (const char *a, const char *a_end, const char *b, const char *b_end)
{
        while (a < a_end - 1 && *a == '0')
                a++;
        while (b < b_end - 1 && *b == '0')
                b++;
        if (a_end - a != b_end - b)
                return a_end - a < b_end - b ? -1 : 1;
        return memcmp (a, b, (gsize) (a_end - a));
}

/* One range-spec, [p, end), against @size. */
static FilesRangeResult
parse_spec (const char *p, const char *end, gint64 size, gint64 *out_start, gint64 *out_end)
{
        const char *dash = memchr (p, '-', (gsize) (end - p));
        if (!dash) /* an other-range: well-formed, but means nothing for bytes */
                return FILES_RANGE_NONE;

        gint64 first, last;
        if (dash == p) { /* suffix-range: "-" suffix-length */
                if (!all_digits (dash + 1, end))
                        return FILES_RANGE_NONE;
                gint64 length = value_of (dash + 1, end);
                if (length == 0 || size == 0)
                        return FILES_RANGE_UNSATISFIABLE;
                first = size - MIN (length, size);
                last = size - 1;
        } else { /* int-range: first-pos "-" [ last-pos ] */
                if (!all_digits (p, dash))
                        return FILES_RANGE_NONE;
                if (dash + 1 < end) {
                        if (!all_digits (dash + 1, end))
                                return FILES_RANGE_NONE;
                        /* last < first is invalid, not unsatisfiable (RFC 9110 §14.1.1). */
                        if (compare_digits (p, dash, dash + 1, end) > 0)
                                return FILES_RANGE_NONE;
                }
                first = value_of (p, dash);
                if (first >= size)
                        return FILES_RANGE_UNSATISFIABLE;
                last = dash + 1 < end ? MIN (value_of (dash + 1, end), size - 1) : size - 1;
        }
        *out_start = first;
        *out_end = last;
        return FILES_RANGE_OK;
}

FilesRangeResult
files_range_parse (const char *header, gint64 size, gint64 *out_start, gint64 *out_end)
{
        g_return_val_if_fail (size >= 0, FILES_RANGE_NONE);
        g_return_val_if_fail (out_start != NULL && out_end != NULL, FILES_RANGE_NONE);

        if (!header)
                return FILES_RANGE_NONE;
        const char *p = header, *end = header + strlen (header);
        trim_ows (&p, &end);

        /* Range = range-unit "=" range-set, the unit a case-insensitive token, no whitespace. */
        static const char unit[] = "bytes=";
        if ((gsize) (end - p) < sizeof unit - 1 || g_ascii_strncasecmp (p, unit, sizeof unit - 1))
                return FILES_RANGE_NONE;
        p += sizeof unit - 1;

        /* range-set = 1#range-spec, read as a recipient must (RFC 9110 §5.6.1.2):
         * [ element ] *( OWS "," OWS [ element ] ), with at least one element. An element is a
         * run of VCHARs other than ',' (other-range is 1*( %x21-2B / %x2D-7E )). */
        const char *spec = NULL, *spec_end = NULL;
        guint n_specs = 0;
        for (;;) {
                const char *s = p;
                while (p < end && (guchar) *p >= 0x21 && (guchar) *p <= 0x7e && *p != ',')
                        p++;
                if (p > s) {
                        if (++n_specs > 1)
                                return FILES_RANGE_NONE; /* several ranges: the whole file */
                        spec = s;
                        spec_end = p;
                }
                while (p < end && is_ows (*p))
                        p++;
                if (p == end)
                        break;
                if (*p != ',')
                        return FILES_RANGE_NONE;
                p++;
                while (p < end && is_ows (*p))
                        p++;
        }
        if (n_specs == 0)
                return FILES_RANGE_NONE;
        return parse_spec (spec, spec_end, size, out_start, out_end);
}

char *
files_http_date (gint64 unix_time)
{
        /* Fixed English names: g_date_time_format's %a and %b follow the locale. */
        static const char days[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_time);
        if (!t)
                return NULL;
        return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d GMT",
                                days[g_date_time_get_day_of_week (t) - 1],
                                g_date_time_get_day_of_month (t),
                                months[g_date_time_get_month (t) - 1], g_date_time_get_year (t),
                                g_date_time_get_hour (t), g_date_time_get_minute (t),
                                g_date_time_get_second (t));
}

gboolean
files_if_range_matches (const char *if_range, const char *etag, gint64 mtime_unix)
{
        if (!if_range)
                return TRUE;
        const char *p = if_range, *end = if_range + strlen (if_range);
        trim_ows (&p, &end);
        gsize len = (gsize) (end - p);

        /* If-Range = entity-tag / HTTP-date. A weak tag ("W/...") never passes the strong
         * comparison If-Range requires; nor does any tag when ours is weak or missing. */
        if (len > 0 && *p == '"')
                return etag && etag[0] == '"' && strlen (etag) == len && !memcmp (p, etag, len);
        if (len >= 2 && p[0] == 'W' && p[1] == '/')
                return FALSE;

        /* RFC 9110 §13.1.5 also wants the date to be a strong validator: the file must not have
         * changed twice within that second. Versions saved in the same second share an mtime,
         * so callers that can tell should send no Last-Modified (or bump it) in that case; the
         * ETag, a content hash, has no such gap. */
        g_autofree char *last_modified = files_http_date (mtime_unix);
        return last_modified && strlen (last_modified) == len && !memcmp (p, last_modified, len);
}

/* Whether @header (an If-Match / If-None-Match list) names @etag; "*" names any existing
 * representation. @weak: the weak comparison (If-None-Match), else strong (If-Match). */
gboolean
files_etag_list_matches (const char *header, const char *etag, gboolean weak)
{
        g_auto (GStrv) items = g_strsplit (header, ",", -1);
        for (char **i = items; *i; i++) {
                const char *t = g_strstrip (*i);
                if (g_str_equal (t, "*"))
                        return etag != NULL;
                if (g_str_has_prefix (t, "W/")) {
                        if (!weak)
                                continue;
                        t += 2;
                }
                if (etag && g_str_equal (t, etag))
                        return TRUE;
        }
        return FALSE;
}
