/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - structured logging through GLib. Under systemd the fields go to the journal as they
 * are (REQUEST_ID, ROUTE, STATUS, ...); on a terminal or in a file each record is one line:
 * time, level, message and the Atrium fields as key=value, so grep and log shippers both work.
 *
 * The request log (one line per answer) is the one written at request rate. To a file or a
 * terminal its lines are formatted without GLib's structured-logging machinery into a buffer
 * per thread, written with one write() when it holds 16 KiB or 100 ms after its first line,
 * and before any other record of that thread (so a thread's lines stay in order). To the
 * journal each line is a record, as before. [http] access_log = 0 turns it off. */
#include "core-private.h"
#include "ops-private.h"

#include <stdio.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#define ACCESS_FLUSH_BYTES (16 * 1024)
#define ACCESS_FLUSH_MS 100

static gboolean access_enabled = TRUE;
static gboolean to_journal;

typedef struct {
        GString *buf;
        GSource *timer; /* (nullable) flushes 100 ms after the first buffered line */
} AccessBuffer;

static void
access_buffer_free (gpointer data)
{
        AccessBuffer *b = data;
        if (b->timer) {
                g_source_destroy (b->timer);
                g_source_unref (b->timer);
        }
        g_string_free (b->buf, TRUE);
        g_free (b);
}

static GPrivate access_key = G_PRIVATE_INIT (access_buffer_free);
static G_LOCK_DEFINE (stderr_lock);

static void
write_all (const char *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write (STDERR_FILENO, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return; /* nowhere to log to; nothing to tell either */
                data += n;
                len -= (gsize) n;
        }
}

/* Writes out this thread's buffered request lines. */
static void
access_flush (void)
{
        AccessBuffer *b = g_private_get (&access_key);
        if (!b || !b->buf->len)
                return;
        G_LOCK (stderr_lock);
        write_all (b->buf->str, b->buf->len);
        G_UNLOCK (stderr_lock);
        g_string_truncate (b->buf, 0);
}

static gboolean
access_timer (gpointer data)
{
        AccessBuffer *b = data;
        g_clear_pointer (&b->timer, g_source_unref);
        access_flush ();
        return G_SOURCE_REMOVE;
}

void
atrium_log_flush (void)
{
        access_flush ();
}

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
        access_flush ();
        G_LOCK (stderr_lock);
        write_all (line->str, line->len);
        G_UNLOCK (stderr_lock);
        g_string_free (line, TRUE);
        return G_LOG_WRITER_HANDLED;
}

void
atrium_log_setup (void)
{
        to_journal = g_log_writer_is_journald (fileno (stderr));
        g_log_set_writer_func (writer, NULL, NULL);
}

void
atrium_log_set_access (gboolean enabled)
{
        access_enabled = enabled;
}

void
atrium_log_request (const char *request_id, const char *method, const char *route, guint status,
                    double ms)
{
        if (!access_enabled)
                return;
        if (to_journal) {
                g_autofree char *st = g_strdup_printf ("%u", status);
                g_autofree char *dur = g_strdup_printf ("%.2f", ms);
                g_log_structured ("atrium", G_LOG_LEVEL_INFO, "REQUEST_ID", request_id,
                                  "METHOD", method, "ROUTE", route, "STATUS", st,
                                  "DURATION_MS", dur, "MESSAGE", "%s %s %u %.1fms", method,
                                  route, status, ms);
                return;
        }
        AccessBuffer *b = g_private_get (&access_key);
        if (!b) {
                b = g_new0 (AccessBuffer, 1);
                b->buf = g_string_sized_new (ACCESS_FLUSH_BYTES + 512);
                g_private_set (&access_key, b);
        }
        /* The same line the structured writer makes: time, level, message, fields. */
        struct timespec ts;
        struct tm tm;
        clock_gettime (CLOCK_REALTIME, &ts);
        gmtime_r (&ts.tv_sec, &tm);
        g_string_append_printf (b->buf,
                                "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ INFO %s %s %u %.1fms "
                                "request_id=%s method=%s route=%s status=%u duration_ms=%.2f\n",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, method, route, status,
                                ms, request_id, method, route, status, ms);
        if (b->buf->len >= ACCESS_FLUSH_BYTES) {
                access_flush ();
        } else if (!b->timer) {
                b->timer = g_timeout_source_new (ACCESS_FLUSH_MS);
                g_source_set_callback (b->timer, access_timer, b, NULL);
                g_source_attach (b->timer, g_main_context_get_thread_default ());
        }
}
