/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - structured logging through GLib. Under systemd the fields go to the journal as they
 * are (REQUEST_ID, ROUTE, STATUS, ...); on a terminal or in a file each record is one line:
 * time, level, message and the Atrium fields as key=value, so grep and log shippers both work. */
#include "core-private.h"

#include <stdio.h>
#include <unistd.h>

static const char *
level_name (GLogLevelFlags level)
{
        if (level & G_LOG_LEVEL_ERROR)
                return "ERROR";
        if (level & G_LOG_LEVEL_CRITICAL)
                return "CRITICAL";
        if (level & G_LOG_LEVEL_WARNING)
                return "WARNING";
        if (level & G_LOG_LEVEL_MESSAGE)
                return "INFO";
        if (level & G_LOG_LEVEL_INFO)
                return "INFO";
        return "DEBUG";
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        (void) user_data;
        if (g_log_writer_is_journald (fileno (stderr)))
                return g_log_writer_journald (level, fields, n_fields, NULL);
        if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv ("G_MESSAGES_DEBUG"))
                return G_LOG_WRITER_HANDLED;

        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        g_autofree char *ts = g_date_time_format_iso8601 (now);
        GString *line = g_string_new (NULL);
        g_string_append_printf (line, "%s %s ", ts, level_name (level));
        const char *message = "";
        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal (fields[i].key, "MESSAGE"))
                        message = fields[i].value;
        g_string_append (line, message);
        static const char *const extra[] = {"REQUEST_ID", "METHOD", "ROUTE", "STATUS",
                                            "DURATION_MS", "PLUGIN", NULL};
        for (gsize i = 0; i < n_fields; i++) {
                if (!g_strv_contains (extra, fields[i].key) || fields[i].length != -1)
                        continue;
                g_autofree char *key = g_ascii_strdown (fields[i].key, -1);
                g_string_append_printf (line, " %s=%s", key, (const char *) fields[i].value);
        }
        g_string_append_c (line, '\n');
        fputs (line->str, stderr);
        fflush (stderr);
        g_string_free (line, TRUE);
        return G_LOG_WRITER_HANDLED;
}

void
atrium_log_setup (void)
{
        g_log_set_writer_func (writer, NULL, NULL);
}

void
atrium_log_request (const char *request_id, const char *method, const char *route, guint status,
                    double ms)
{
        g_autofree char *st = g_strdup_printf ("%u", status);
        g_autofree char *dur = g_strdup_printf ("%.2f", ms);
        g_log_structured ("atrium", G_LOG_LEVEL_INFO, "REQUEST_ID", request_id, "METHOD",
                          method, "ROUTE", route, "STATUS", st, "DURATION_MS",
                          dur, "MESSAGE", "%s %s %u %.1fms", method, route, status, ms);
}
