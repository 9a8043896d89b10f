/* SPDX-License-Identifier: Apache-2.0 */
/* replica.c - the streaming replica heavy reads may use ([database] replica_url): a second
 * connection pool, and a watcher that says, once a second, whether the replica may serve.
 *
 * Routes flagged ATRIUM_ROUTE_REPLICA read there (pipeline/handle.c, tx.c) while the replica
 * is "usable": reachable, still in recovery (a promoted standby has left our timeline), and at
 * most [database] replica_max_lag seconds behind. A request never measures anything itself:
 * it reads one atomic flag.
 *
 * The lag is measured from both ends, without privileges. Each tick the watcher notes the
 * primary's WAL position (pg_current_wal_lsn()) with the time, then asks the replica how far
 * it has replayed (pg_last_wal_replay_lsn()). The newest note the replica has replayed past
 * says how old its data can be at most: everything the primary had committed at that note's
 * time is there. pg_last_xact_replay_timestamp() alone would not do: on an idle primary it
 * grows old while the replica is perfectly current, and a replica cut off from its primary
 * would look current by its own received-versus-replayed positions. The bound is as fine as
 * the tick (a second) on a busy primary and near zero on a quiet one. (pg_current_wal_lsn() is
 * what the primary has written: an asynchronous commit (synchronous_commit = off) may reach it
 * up to the WAL writer's delay after it returned, by so much the bound can be short.) */
#include "db-private.h"

#include <poll.h>
#include <string.h>

/* How often the watcher looks. */
#define TICK_SECONDS 1
/* How long one of its questions may take: a server that accepted the connection but does not
 * answer (a network that drops packets, a hung host) must not stall the watcher. */
#define ANSWER_MS 2000
/* A verdict older than this is no verdict: a watcher stuck in a connection attempt (libpq's
 * connect_timeout, 10 s) must not leave reads going to a replica it can no longer see. */
#define VERDICT_SECONDS 3

typedef struct {
        gint64 at; /* monotonic microseconds */
        guint64 lsn;
} Note;

struct _AtriumReplica {
        AtriumDbPool *pool;
        char *conninfo;
        char *primary_conninfo;
        gint64 max_lag; /* microseconds */

        gint usable;     /* atomic: reads may go to the replica */
        gint looked_at;  /* atomic: monotonic seconds of the watcher's last verdict */
        gint lag_ms;     /* atomic: the last measured bound, -1 unknown */
        gsize reads;     /* atomic: requests that read from the replica */
        gsize fallbacks; /* atomic: flagged requests that read from the primary */

        GThread *watcher;
        GMutex lock;
        GCond wake;
        gboolean stopping;      /* under lock */
        GArray *notes;          /* Note, oldest first; the watcher's only */
        gboolean said_unusable; /* the watcher logs changes, not every tick */
};

AtriumReplica *
atrium_replica_new (const char *conninfo, guint pool_size, const char *role, gboolean pooled,
                    const char *primary_conninfo, guint max_lag_seconds)
{
        AtriumReplica *r = g_new0 (AtriumReplica, 1);
        r->pool = atrium_db_pool_new (conninfo, pool_size, role);
        atrium_db_pool_set_transaction_pooler (r->pool, pooled);
        r->conninfo = g_strdup (conninfo);
        r->primary_conninfo = g_strdup (primary_conninfo);
        r->max_lag = (gint64) max_lag_seconds * G_TIME_SPAN_SECOND;
        r->lag_ms = -1;
        r->notes = g_array_new (FALSE, FALSE, sizeof (Note));
        g_mutex_init (&r->lock);
        g_cond_init (&r->wake);
        return r;
}

void
atrium_replica_free (AtriumReplica *r)
{
        if (!r)
                return;
        if (r->watcher) {
                g_mutex_lock (&r->lock);
                r->stopping = TRUE;
                g_cond_signal (&r->wake);
                g_mutex_unlock (&r->lock);
                g_thread_join (r->watcher);
        }
        atrium_db_pool_free (r->pool);
        g_array_unref (r->notes);
        g_free (r->conninfo);
        g_free (r->primary_conninfo);
        g_mutex_clear (&r->lock);
        g_cond_clear (&r->wake);
        g_free (r);
}

AtriumDbPool *
atrium_replica_pool (AtriumReplica *r)
{
        return r->pool;
}

gboolean
atrium_replica_usable (AtriumReplica *r)
{
        if (!r || !g_atomic_int_get (&r->usable))
                return FALSE;
        gint now = (gint) (g_get_monotonic_time () / G_TIME_SPAN_SECOND);
        return now - g_atomic_int_get (&r->looked_at) <= VERDICT_SECONDS;
}

void
atrium_replica_mark_down (AtriumReplica *r)
{
        /* Until the watcher's next look says otherwise: a replica that just failed a request
         * would most likely fail the next ones too, each after a connection attempt. */
        g_atomic_int_set (&r->usable, FALSE);
}

void
atrium_replica_count (AtriumReplica *r, gboolean on_replica)
{
        g_atomic_pointer_add (on_replica ? &r->reads : &r->fallbacks, 1);
}

void
atrium_replica_stats (AtriumReplica *r, guint64 *out_reads, guint64 *out_fallbacks, int *out_lag_ms,
                      gboolean *out_usable)
{
        *out_reads = (guint64) g_atomic_pointer_get (&r->reads);
        *out_fallbacks = (guint64) g_atomic_pointer_get (&r->fallbacks);
        *out_lag_ms = g_atomic_int_get (&r->lag_ms);
        *out_usable = atrium_replica_usable (r);
}

/* "16/B374D848" -> 0x16B374D848; FALSE for anything else (NULL: not in recovery). */
static gboolean
parse_lsn (const char *text, guint64 *out)
{
        const char *slash = text ? strchr (text, '/') : NULL;
        if (!slash)
                return FALSE;
        g_autofree char *hi = g_strndup (text, slash - text);
        guint64 h, l;
        if (!g_ascii_string_to_unsigned (hi, 16, 0, G_MAXUINT32, &h, NULL) ||
            !g_ascii_string_to_unsigned (slash + 1, 16, 0, G_MAXUINT32, &l, NULL))
                return FALSE;
        *out = (h << 32) | l;
        return TRUE;
}

/* One statement on the watcher's connection *@conn (opened, or opened again, to @conninfo);
 * its single value, or NULL with @why set. Returns: (transfer full) */
static char *
ask (PGconn **conn, const char *conninfo, const char *sql, gboolean *out_null, char **why)
{
        if (*conn && PQstatus (*conn) != CONNECTION_OK)
                g_clear_pointer (conn, atrium_db_close);
        if (!*conn) {
                g_autoptr (GError) error = NULL;
                *conn = atrium_db_connect (conninfo, "replica-watch", NULL, &error);
                if (!*conn) {
                        *why = g_strdelimit (g_strdup (error->message), "\n\t", ' ');
                        return NULL;
                }
        }
        /* PQexec would wait as long as TCP does; the question is sent and its answer awaited
         * for ANSWER_MS at most, after which the connection is dropped. */
        gint64 deadline = g_get_monotonic_time () + ANSWER_MS * 1000;
        gboolean answered = PQsendQuery (*conn, sql) != 0;
        while (answered && PQisBusy (*conn)) {
                struct pollfd pfd = {PQsocket (*conn), POLLIN, 0};
                gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
                if (left <= 0 || poll (&pfd, 1, (int) left) <= 0 || !PQconsumeInput (*conn))
                        answered = FALSE;
        }
        g_autoptr (PGresult) res = answered ? PQgetResult (*conn) : NULL;
        if (res) {
                PGresult *extra;
                while ((extra = PQgetResult (*conn)) != NULL)
                        PQclear (extra);
        }
        if (!answered || PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
                /* libpq's messages span lines; the log line should not (nor above). */
                *why = answered ? g_strstrip (g_strdelimit (g_strdup (PQerrorMessage (*conn)),
                                                            "\n\t", ' '))
                                : g_strdup_printf ("no answer within %d ms", ANSWER_MS);
                if (!answered)
                        g_clear_pointer (conn, atrium_db_close);
                return NULL;
        }
        *out_null = PQgetisnull (res, 0, 0);
        return g_strdup (PQgetvalue (res, 0, 0));
}

/* One look: notes the primary's position, measures the replica's bound. Returns the lag bound
 * in microseconds, or -1 with *@why set when the replica may not serve at all. */
static gint64
look (AtriumReplica *r, PGconn **primary, PGconn **replica, char **why)
{
        gboolean null = FALSE;
        /* The time before asking: whatever was committed by then is at or below the answer. */
        Note note = {g_get_monotonic_time (), 0};
        g_autofree char *current =
                ask (primary, r->primary_conninfo, "SELECT pg_current_wal_lsn()", &null, why);
        if (!current) {
                char *inner = *why;
                *why = g_strdup_printf ("the primary cannot be asked: %s", inner);
                g_free (inner);
                return -1;
        }
        if (!parse_lsn (current, &note.lsn)) {
                *why = g_strdup_printf ("the primary's position \"%s\" is no LSN", current);
                return -1;
        }
        g_array_append_val (r->notes, note);
        /* Notes older than the bound cannot make the replica usable: drop them, but keep the
         * newest such one, which still tells how far behind a replica that replayed past it
         * is. */
        while (r->notes->len > 1 && note.at - g_array_index (r->notes, Note, 1).at > r->max_lag)
                g_array_remove_index (r->notes, 0);

        g_autofree char *replayed = ask (replica, r->conninfo,
                                         "SELECT CASE WHEN pg_is_in_recovery() THEN "
                                         "pg_last_wal_replay_lsn()::text END",
                                         &null, why);
        if (!replayed) {
                char *inner = *why;
                *why = g_strdup_printf ("the replica cannot be asked: %s", inner);
                g_free (inner);
                return -1;
        }
        guint64 lsn;
        if (null || !parse_lsn (replayed, &lsn)) {
                *why = g_strdup ("the replica is not in recovery: a promoted standby is no "
                                 "replica of this primary any more");
                return -1;
        }
        gint64 now = g_get_monotonic_time ();
        for (guint i = r->notes->len; i-- > 0;) {
                const Note *n = &g_array_index (r->notes, Note, i);
                if (n->lsn <= lsn)
                        return now - n->at;
        }
        /* Behind every note kept, so behind by more than the bound. */
        return now - g_array_index (r->notes, Note, 0).at;
}

static gpointer
watch (gpointer data)
{
        AtriumReplica *r = data;
        PGconn *primary = NULL, *replica = NULL;
        g_mutex_lock (&r->lock);
        while (!r->stopping) {
                g_mutex_unlock (&r->lock);
                g_autofree char *why = NULL;
                gint64 lag = look (r, &primary, &replica, &why);
                if (lag >= 0 && lag > r->max_lag)
                        why = g_strdup_printf ("the replica is %" G_GINT64_FORMAT
                                               " s behind (replica_max_lag %" G_GINT64_FORMAT " s)",
                                               lag / G_TIME_SPAN_SECOND,
                                               r->max_lag / G_TIME_SPAN_SECOND);
                g_atomic_int_set (&r->lag_ms, lag >= 0 ? (gint) MIN (lag / 1000, G_MAXINT) : -1);
                gboolean usable = why == NULL;
                g_atomic_int_set (&r->looked_at,
                                  (gint) (g_get_monotonic_time () / G_TIME_SPAN_SECOND));
                g_atomic_int_set (&r->usable, usable);
                /* The log says when the replica stops or starts serving, once each time. */
                if (!usable && !r->said_unusable)
                        g_warning ("replica reads go to the primary: %s", why);
                else if (usable && r->said_unusable)
                        g_message ("replica reads go to the replica again");
                r->said_unusable = !usable;
                g_mutex_lock (&r->lock);
                if (!r->stopping)
                        g_cond_wait_until (&r->wake, &r->lock,
                                           g_get_monotonic_time () +
                                                   TICK_SECONDS * G_TIME_SPAN_SECOND);
        }
        g_mutex_unlock (&r->lock);
        atrium_db_close (primary);
        atrium_db_close (replica);
        return NULL;
}

void
atrium_replica_start (AtriumReplica *r)
{
        g_return_if_fail (r->watcher == NULL);
        /* Starts unusable: the first look decides, a second after start-up at the latest. */
        r->said_unusable = FALSE;
        r->watcher = g_thread_new ("atrium-replica", watch, r);
}
