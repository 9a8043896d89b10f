/* SPDX-License-Identifier: Apache-2.0 */
/* leader.c - which host of an installation runs what must run once.
 *
 * Every serving host runs one thread here, with a connection of its own (the request role).
 * It tries to take a session-level PostgreSQL advisory lock; the host that holds it is the
 * leader. The leader runs the plugin timers (gc, purges, the mail outbox: plugin-tasks.c asks
 * atrium_leader_is()) and delivers the event outbox's due rows again (events.c). When the
 * leader dies, PostgreSQL ends its session and releases the lock, and the next host to try
 * (every ELECTION_INTERVAL_MS) takes the work over. A host that loses its connection stops
 * leading at once and reconnects.
 *
 * The thread sleeps in poll() on its connection: a NOTIFY on "atrium_events" (sent when a
 * delivery failed and was given a retry time) wakes the leader to look again; otherwise it
 * wakes when the next outbox row falls due, at most every ELECTION_INTERVAL_MS. */
#include "core-private.h"
#include "plugin-host-private.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The advisory lock's key: "atrium" in ASCII. One installation per database. */
#define LEADER_LOCK_KEY "107152763614582" /* 0x617472697576 */
#define ELECTION_INTERVAL_MS 2000
#define RETRY_BATCH 100

struct _AtriumLeader {
        AtriumCore *core;
        GThread *thread;
        int stop_fd; /* eventfd: written once to stop */
};

static gboolean
stopping (AtriumLeader *l)
{
        struct pollfd p = {.fd = l->stop_fd, .events = POLLIN};
        return poll (&p, 1, 0) > 0;
}

/* Sleeps up to @ms, until @conn has input or the host stops. */
static void
nap (AtriumLeader *l, PGconn *conn, int ms)
{
        struct pollfd p[2] = {{.fd = l->stop_fd, .events = POLLIN},
                              {.fd = conn ? PQsocket (conn) : -1, .events = POLLIN}};
        while (poll (p, 2, ms) < 0 && errno == EINTR)
                ;
}

static void
set_leader (AtriumLeader *l, gboolean on)
{
        if (g_atomic_int_get (&l->core->is_leader) == on)
                return;
        g_atomic_int_set (&l->core->is_leader, on);
        if (on)
                g_message ("this host is the leader: it runs the timers and event retries");
        else
                g_message ("this host is no longer the leader");
}

static gboolean
exec_ok (PGconn *conn, const char *sql, PGresult **out)
{
        PGresult *res = PQexec (conn, sql);
        ExecStatusType st = PQresultStatus (res);
        gboolean ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
        if (out && ok)
                *out = res;
        else
                PQclear (res);
        return ok;
}

/* Milliseconds until the next outbox row falls due, within [10, ELECTION_INTERVAL_MS]. */
static int
next_due_ms (PGconn *conn)
{
        PGresult *res = NULL;
        int ms = ELECTION_INTERVAL_MS;
        if (exec_ok (conn, "SELECT core.event_outbox_next_due()", &res) &&
            !PQgetisnull (res, 0, 0)) {
                double s = g_ascii_strtod (PQgetvalue (res, 0, 0), NULL);
                ms = (int) CLAMP (s * 1000.0, 10.0, (double) ELECTION_INTERVAL_MS);
        }
        PQclear (res);
        return ms;
}

static gpointer
run (gpointer data)
{
        AtriumLeader *l = data;
        AtriumConfig *config = l->core->config;
        PGconn *conn = NULL;
        gboolean warned = FALSE;
        while (!stopping (l)) {
                if (!conn || PQstatus (conn) != CONNECTION_OK) {
                        set_leader (l, FALSE);
                        g_clear_pointer (&conn, atrium_db_close);
                        g_autoptr (GError) error = NULL;
                        /* The lock and LISTEN belong to a session: behind a transaction
                         * pooler, the direct (owner's) address, as migrations use. */
                        const char *url =
                                config->transaction_pooler || !config->request_database_url
                                        ? config->database_url
                                        : config->request_database_url;
                        const char *role =
                                config->request_database_url ? NULL : config->request_role;
                        conn = atrium_db_connect (url, "leader", role, &error);
                        if (!conn || !exec_ok (conn, "LISTEN atrium_events", NULL)) {
                                if (!warned)
                                        g_warning ("leader election: cannot connect: %s",
                                                   error ? error->message : PQerrorMessage (conn));
                                warned = TRUE;
                                g_clear_pointer (&conn, atrium_db_close);
                                nap (l, NULL, ELECTION_INTERVAL_MS);
                                continue;
                        }
                        warned = FALSE;
                }
                if (!g_atomic_int_get (&l->core->is_leader)) {
                        PGresult *res = NULL;
                        if (exec_ok (conn, "SELECT pg_try_advisory_lock(" LEADER_LOCK_KEY ")",
                                     &res))
                                set_leader (l, g_str_equal (PQgetvalue (res, 0, 0), "t"));
                        else if (PQstatus (conn) == CONNECTION_OK)
                                g_warning ("leader election: %s", PQerrorMessage (conn));
                        PQclear (res);
                }
                int wait_ms = ELECTION_INTERVAL_MS;
                if (g_atomic_int_get (&l->core->is_leader)) {
                        if (atrium_events_retry_due (l->core, conn, RETRY_BATCH) == RETRY_BATCH)
                                continue; /* more are due */
                        wait_ms = next_due_ms (conn);
                }
                if (PQstatus (conn) != CONNECTION_OK)
                        continue;
                nap (l, conn, wait_ms);
                /* Wake-ups carry nothing: read them and look again. A broken connection
                 * shows here and is replaced above. */
                if (!PQconsumeInput (conn) && PQstatus (conn) != CONNECTION_OK)
                        continue;
                for (PGnotify *n; (n = PQnotifies (conn));)
                        PQfreemem (n);
        }
        set_leader (l, FALSE);
        atrium_db_close (conn); /* ends the session: the lock goes with it */
        return NULL;
}

void
atrium_leader_start (AtriumCore *core)
{
        if (core->leader)
                return;
        AtriumLeader *l = g_new0 (AtriumLeader, 1);
        l->core = core;
        l->stop_fd = eventfd (0, EFD_CLOEXEC);
        l->thread = g_thread_new ("atrium-leader", run, l);
        core->leader = l;
}

void
atrium_leader_stop (AtriumCore *core)
{
        AtriumLeader *l = g_steal_pointer (&core->leader);
        if (!l)
                return;
        guint64 one = 1;
        if (write (l->stop_fd, &one, sizeof one) != sizeof one)
                g_warning ("leader: cannot signal the thread to stop");
        g_thread_join (l->thread);
        close (l->stop_fd);
        g_free (l);
}

gboolean
atrium_leader_is (AtriumCore *core)
{
        return g_atomic_int_get (&core->is_leader);
}
