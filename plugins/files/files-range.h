/* SPDX-License-Identifier: Apache-2.0 */
/* files-range.h - the HTTP Range and If-Range request headers (RFC 9110 §14.2, §13.1.5) for
 * downloads in the files plugin (issue #5): which single byte range of one file to send, if
 * any. Pure: no I/O, no host calls; tests/unit/test-files-range.c and
 * tests/fuzz/fuzz-files-range.c compile it directly. */
#pragma once

#include <atrium/atrium.h>

G_BEGIN_DECLS

typedef enum {
        FILES_RANGE_NONE,          /* serve the whole file: 200 */
        FILES_RANGE_OK,            /* serve *out_start..*out_end: 206 */
        FILES_RANGE_UNSATISFIABLE, /* 416 with "Content-Range: bytes * /size" (no space) */
} FilesRangeResult;

/**
 * files_range_parse:
 * @header: (nullable): the Range field value, or NULL when the request has none
 * @size: the file's length in bytes, >= 0
 * @out_start: (out): first byte to send, set only on FILES_RANGE_OK
 * @out_end: (out): last byte to send (inclusive), set only on FILES_RANGE_OK
 *
 * FILES_RANGE_NONE: no header, a unit other than "bytes" (case-insensitive), a syntax error,
 * or more than one range: the whole file is served, as RFC 9110 allows.
 * FILES_RANGE_OK: exactly one satisfiable range, clipped to @size - 1: "bytes=500-" runs to the
 * end, the suffix range "bytes=-500" is the last 500 bytes (the whole file if shorter).
 * FILES_RANGE_UNSATISFIABLE: exactly one syntactically valid range that selects nothing: its
 * first byte is >= @size, its suffix length is 0, or @size is 0.
 *
 * The grammar is RFC 9110's, strictly: no whitespace around '=' or '-', optional whitespace
 * only around the commas of the list (empty list elements are ignored, as §5.6.1.2 requires).
 * Numbers of any length are read without overflow: a first byte beyond gint64 is past the end,
 * a last byte or suffix length beyond it is clipped.
 */
FilesRangeResult files_range_parse (const char *header, gint64 size, gint64 *out_start,
                                    gint64 *out_end);

/**
 * files_if_range_matches:
 * @if_range: (nullable): the If-Range field value, or NULL when the request has none
 * @etag: (nullable): the file's ETag as sent in the ETag header, quoted ("\"abc\"")
 * @mtime_unix: the file's modification time, as sent in Last-Modified
 *
 * Whether the Range header may be honoured: TRUE without If-Range, or when If-Range is a strong
 * entity tag equal to @etag (strong comparison: a weak tag on either side never matches), or
 * an HTTP-date equal to Last-Modified, i.e. to files_http_date (@mtime_unix). Anything else is
 * FALSE: serve the whole file.
 */
gboolean files_if_range_matches (const char *if_range, const char *etag, gint64 mtime_unix);

/**
 * files_http_date:
 * @unix_time: seconds since the epoch
 *
 * The IMF-fixdate for @unix_time, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7), in English
 * whatever the locale: the Last-Modified value that files_if_range_matches compares with.
 *
 * Returns: (transfer full) (nullable): the date, or NULL outside the years 1-9999.
 */
char *files_http_date (gint64 unix_time);

G_END_DECLS

/**
 * files_etag_list_matches:
 * @header: an If-Match or If-None-Match value (a comma-separated list of entity tags, or "*")
 * @etag: (nullable): the current entity tag, NULL when there is no representation
 * @weak: the weak comparison (If-None-Match), else the strong one (If-Match)
 *
 * Whether @header names @etag; "*" names any existing representation.
 */
gboolean files_etag_list_matches (const char *header, const char *etag, gboolean weak);
