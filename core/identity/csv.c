/* SPDX-License-Identifier: Apache-2.0 */
/* csv.c - a CSV reader for the exports of school administration software.
 *
 * RFC 4180 (quoted fields, "" inside quotes, line breaks inside quotes, CRLF or LF), plus what
 * real exports do: a UTF-8 byte-order mark, ';', tab or '|' instead of ',' (German spreadsheet
 * exports use ';', SchILD-NRW's interface files '|'), and Windows-1252 instead of UTF-8
 * (converted; UTF-8 is tried first). The delimiter is the one of ',', ';', tab and '|' that
 * occurs most often in the header line outside quotes (the earlier on a tie). Blank lines are
 * skipped. Limits keep a hostile upload from costing more than its size: at most 200 columns,
 * 100,000 rows and 10,000 characters per field. */
#include "identity-private.h"

#include <string.h>

#define MAX_COLUMNS 200
#define MAX_ROWS 100000
#define MAX_FIELD 10000

void
atrium_csv_free (AtriumCsv *csv)
{
        if (!csv)
                return;
        g_ptr_array_unref (csv->header);
        g_ptr_array_unref (csv->rows);
        g_array_unref (csv->lines);
        g_free (csv);
}

static char
detect_delimiter (const char *s, gsize len)
{
        static const char cands[] = {',', ';', '\t', '|'};
        gsize counts[G_N_ELEMENTS (cands)] = {0};
        gboolean quoted = FALSE;
        for (gsize i = 0; i < len && (quoted || (s[i] != '\n' && s[i] != '\r')); i++) {
                if (s[i] == '"')
                        quoted = !quoted;
                else if (!quoted)
                        for (gsize c = 0; c < G_N_ELEMENTS (cands); c++)
                                counts[c] += s[i] == cands[c];
        }
        gsize best = 0;
        for (gsize c = 1; c < G_N_ELEMENTS (cands); c++)
                if (counts[c] > counts[best])
                        best = c;
        return cands[best];
}

static gboolean
row_is_blank (GPtrArray *row)
{
        for (guint i = 0; i < row->len; i++)
                if (*(char *) row->pdata[i])
                        return FALSE;
        return TRUE;
}

AtriumCsv *
atrium_csv_parse (const char *data, gsize len, GError **error)
{
        g_autofree char *converted = NULL;
        if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
                data += 3;
                len -= 3;
        }
        if (memchr (data, '\0', len)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "CSV contains a NUL byte: not a text file");
                return NULL;
        }
        if (!g_utf8_validate_len (data, len, NULL)) {
                gsize out_len = 0;
                converted = g_convert (data, (gssize) len, "UTF-8", "WINDOWS-1252", NULL, &out_len,
                                       NULL);
                if (!converted) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "CSV is neither UTF-8 nor Windows-1252 text");
                        return NULL;
                }
                data = converted;
                len = out_len;
        }
        char delim = detect_delimiter (data, len);

        g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
        GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GArray) lines = g_array_new (FALSE, FALSE, sizeof (guint));
        guint row_line = 1;
        GString *field = g_string_new (NULL);
        gboolean quoted = FALSE, was_quoted = FALSE;
        guint line = 1, field_line = 1;
        gsize i = 0;
        for (;;) {
                gboolean at_end = i >= len;
                char c = at_end ? '\n' : data[i];
                if (quoted) {
                        if (at_end) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "line %u: quoted field is never closed", field_line);
                                goto fail;
                        }
                        if (c == '"') {
                                if (i + 1 < len && data[i + 1] == '"') {
                                        g_string_append_c (field, '"');
                                        i++;
                                } else {
                                        quoted = FALSE;
                                }
                        } else {
                                if (c == '\n')
                                        line++;
                                g_string_append_c (field, c);
                        }
                } else if (c == '"' && field->len == 0 && !was_quoted) {
                        quoted = was_quoted = TRUE;
                        field_line = line;
                } else if (c == delim || c == '\n' || c == '\r') {
                        if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
                                i++;
                        if (row->len >= MAX_COLUMNS) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "line %u: more than %d columns", line, MAX_COLUMNS);
                                goto fail;
                        }
                        g_ptr_array_add (row, g_strdup (g_strstrip (field->str)));
                        g_string_truncate (field, 0);
                        was_quoted = FALSE;
                        if (c != delim) {
                                if (!row_is_blank (row)) {
                                        if (rows->len > MAX_ROWS) {
                                                g_set_error (error, ATRIUM_ERROR,
                                                             ATRIUM_ERROR_INVALID,
                                                             "more than %d rows", MAX_ROWS);
                                                goto fail;
                                        }
                                        g_ptr_array_add (rows, row);
                                        g_array_append_val (lines, row_line);
                                } else {
                                        g_ptr_array_unref (row);
                                }
                                row = g_ptr_array_new_with_free_func (g_free);
                                line++;
                                row_line = line;
                                if (at_end)
                                        break;
                        }
                } else if (was_quoted) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "line %u: text after a closing quote", line);
                        goto fail;
                } else {
                        g_string_append_c (field, c);
                }
                if (field->len > MAX_FIELD) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "line %u: a field longer than %d characters", line, MAX_FIELD);
                        goto fail;
                }
                i++;
        }
        g_ptr_array_unref (row);
        g_string_free (field, TRUE);
        if (rows->len == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "CSV is empty: a header row naming the columns is required");
                return NULL;
        }
        AtriumCsv *csv = g_new0 (AtriumCsv, 1);
        csv->header = g_ptr_array_ref (rows->pdata[0]);
        g_ptr_array_remove_index (rows, 0);
        g_array_remove_index (lines, 0);
        csv->rows = g_steal_pointer (&rows);
        csv->lines = g_steal_pointer (&lines);
        return csv;
fail:
        g_ptr_array_unref (row);
        g_string_free (field, TRUE);
        return NULL;
}
