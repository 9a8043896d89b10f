/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-ics.c - libFuzzer target for the calendar's .ics import (plugins/calendar/ical-io.c,
 * cal_import_parse, and the libical parsing and validation under it). The input is the body of
 * POST /calendars/{id}/import: like the route (import.c, body_text) it is refused unless it is
 * non-empty UTF-8 without NUL, then handed to cal_import_parse with the route's event limit.
 * Besides crashes, leaks and sanitizer reports it checks what ical.h promises: a whole-file
 * failure is an ATRIUM_ERROR with a message; on success every item has a UID and either a
 * series or the reason it is invalid (never both, never neither), valid series have start <=
 * end, and what the route stores (cal_series_serialize) parses again as a stored series and
 * exports. Each valid series is also expanded over its first year with a small budget, the way
 * the window routes do. GLib criticals and warnings are fatal.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "calendar-private.h"
#include "ical.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_error (const GError *error)
{
        if (!error || error->domain != ATRIUM_ERROR || !error->message || !error->message[0])
                abort ();
}

static void
check_series (CalImportItem *it, CalExport *x)
{
        if (it->has_end && it->end < it->start)
                abort ();
        g_autofree char *text = cal_series_serialize (it->series);
        if (!text || !text[0])
                abort ();
        g_autoptr (GError) error = NULL;
        g_autoptr (CalSeries) again = cal_series_parse (text, &error);
        if (!again) /* what the route stored does not read back: INTERNAL on every later GET */
                abort ();
        if (g_strcmp0 (cal_series_uid (again), cal_series_uid (it->series)) != 0)
                abort ();
        g_autofree char *summary = cal_series_summary (again);
        if (!summary)
                abort ();
        JsonNode *view = cal_series_to_json (again);
        if (!view)
                abort ();
        json_node_unref (view);
        if (!cal_export_add (x, text, &error))
                abort ();

        g_autoptr (GPtrArray) occ = g_ptr_array_new_with_free_func (
                (GDestroyNotify) cal_occurrence_free);
        guint budget = 20000;
        gint64 from = it->start;
        gint64 to = from + 366 * 86400;
        if (!cal_series_expand (again, from, to, occ, 200, &budget, &error)) {
                check_error (error);
                return;
        }
        for (guint i = 0; i < occ->len; i++) {
                CalOccurrence *o = g_ptr_array_index (occ, i);
                if (o->end < o->start || o->end < from || o->start >= to || !o->summary)
                        abort ();
        }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        /* import.c, body_text(): empty, non-UTF-8 or NUL-carrying bodies never reach libical. */
        if (size == 0 || !g_utf8_validate_len ((const char *) data, size, NULL))
                return 0;
        g_autofree char *text = g_strndup ((const char *) data, size);
        g_autoptr (GError) error = NULL;
        g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
        guint ignored = 0;
        g_autoptr (GPtrArray) items =
                cal_import_parse (text, CAL_MAX_IMPORT_EVENTS, &ignored, warnings, &error);
        if (!items) {
                check_error (error);
                return 0;
        }
        if (error || items->len > CAL_MAX_IMPORT_EVENTS)
                abort ();
        for (guint i = 0; i < warnings->len; i++)
                if (!g_utf8_validate (g_ptr_array_index (warnings, i), -1, NULL))
                        abort ();
        g_autoptr (CalExport) x = cal_export_new ("fuzz");
        for (guint i = 0; i < items->len; i++) {
                CalImportItem *it = g_ptr_array_index (items, i);
                if (!it->uid || !it->uid[0] || (!it->series) == (!it->error))
                        abort ();
                if (it->error) {
                        if (!it->error[0])
                                abort ();
                        continue;
                }
                check_series (it, x);
        }
        g_autoptr (GBytes) out = cal_export_finish (x);
        if (!out || g_bytes_get_size (out) == 0)
                abort ();
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        g_autoptr (GError) error = NULL;
        if (!cal_ical_init (&error)) {
                g_printerr ("fuzz-ics: %s\n", error->message);
                abort ();
        }
        return 0;
}
