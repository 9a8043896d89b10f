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
        time_t second;  /* of @stamp */
        char stamp[24]; /* "2026-12-07T05:12:44", formatted once a second */
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

/* Appends @v in decimal, zero-padded to at least @width digits. */
static void
append_digits (GString *s, guint64 v, int width)
{
        char buf[24];
        g_string_append_len (s, buf, atrium_format_uint (buf, v, width) - buf);
}

/* Appends @v / 10^@decimals with @decimals digits after the point: 1234, 2 -> "12.34". */
static void
append_fixed (GString *s, guint64 v, int decimals)
{
        guint64 scale = 1;
        for (int i = 0; i < decimals; i++)
                scale *= 10;
        append_digits (s, v / scale, 1);
        g_string_append_c (s, '.');
        append_digits (s, v % scale, decimals);
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
        /* The same line the structured writer makes: time, level, message, fields. Put
         * together by hand: printf's parsing and its floating point were a twentieth of a
         * front's time on a /healthz. */
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        if (ts.tv_sec != b->second || !b->stamp[0]) {
                struct tm tm;
                gmtime_r (&ts.tv_sec, &tm);
                g_snprintf (b->stamp, sizeof b->stamp, "%04d-%02d-%02dT%02d:%02d:%02d",
                            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                            tm.tm_sec);
                b->second = ts.tv_sec;
        }
        guint64 hundredths = ms > 0 ? (guint64) (ms * 100.0 + 0.5) : 0;
        GString *s = b->buf;
        g_string_append (s, b->stamp);
        g_string_append_c (s, '.');
        append_digits (s, (guint64) ts.tv_nsec / 1000, 6);
        g_string_append (s, "Z INFO ");
        g_string_append (s, method);
        g_string_append_c (s, ' ');
        g_string_append (s, route);
        g_string_append_c (s, ' ');
        append_digits (s, status, 1);
        g_string_append_c (s, ' ');
        append_fixed (s, (hundredths + 5) / 10, 1);
        g_string_append (s, "ms request_id=");
        g_string_append (s, request_id);
        g_string_append (s, " method=");
        g_string_append (s, method);
        g_string_append (s, " route=");
        g_string_append (s, route);
        g_string_append (s, " status=");
        append_digits (s, status, 1);
        g_string_append (s, " duration_ms=");
        append_fixed (s, hundredths, 2);
        g_string_append_c (s, '\n');
        if (b->buf->len >= ACCESS_FLUSH_BYTES) {
                access_flush ();
        } else if (!b->timer) {
                b->timer = g_timeout_source_new (ACCESS_FLUSH_MS);
                g_source_set_callback (b->timer, access_timer, b, NULL);
                g_source_attach (b->timer, g_main_context_get_thread_default ());
        }
}
