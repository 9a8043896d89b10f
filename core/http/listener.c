/* SPDX-License-Identifier: Apache-2.0 */
/* listener.c - the accept loop, the open connections and their deadlines.
 *
 * atriumd accepts its own connections and hands each to SoupServer as an AtriumConn
 * (soup_server_accept_iostream), instead of letting libsoup listen. Three things need that:
 *
 * - Closed keep-alive connections must be freed: libsoup 3.2 leaks them (connection.c says
 *   how and why the AtriumConn fixes it).
 * - Running out of descriptors must be survivable. libsoup's own listener stops accepting for
 *   good after the first failed accept(). Here an EMFILE/ENFILE pauses accepting for a
 *   moment (the waiting clients stay in the kernel's backlog), is logged at most once per
 *   interval, and accepting resumes by itself; open connections are served throughout.
 * - Deadlines without a timer per request: each deadline kind has one fixed length, so a
 *   queue per kind, appended to when armed, is always in deadline order. One sweep a second
 *   cuts the connections at the head whose deadline passed.
 *
 * - Connections waiting for a request cost nothing in the main loop: a new connection waits
 *   in the front's park (park.c) until its request head is in, and one that stayed idle in
 *   SoupServer for PARK_AFTER_US after an answer is moved there too (the sweep parks it,
 *   connection.c takes it out of SoupServer). The park hands a connection with a complete
 *   head back to SoupServer. Parked connections count as open, under the same deadline.
 *
 * SoupServer only keeps a connection alive after a response while it has at least one
 * listener (soup_server_accept_iostream alone closes every connection after one answer), so
 * it is given one that never accepts anything: one end of a socket pair whose other end
 * stays silent. */
#include "listener-private.h"
#include "ops-private.h"
#include "park-private.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 16 /* accepts per wake-up: fair to other clients and to other fronts */
#define ACCEPT_PAUSE_MS 100                    /* after EMFILE/ENFILE */
#define ACCEPT_REPORT_US (10 * G_USEC_PER_SEC) /* at most one log line per interval */
#define LISTEN_BACKLOG 4096                    /* the kernel caps it at net.core.somaxconn */
#define PARK_AFTER_US (2 * G_USEC_PER_SEC)     /* idle in SoupServer this long: parked */

typedef struct {
        AtriumListener *owner;
        GSocket *socket;
        GSocketAddress *local;
        GSource *source; /* (nullable) while paused or stopped */
} Endpoint;

struct _AtriumListener {
        SoupServer *soup;
        AtriumMetrics *metrics;
        GMainContext *context;
        GPtrArray *endpoints; /* Endpoint* */
        GHashTable *conns;    /* AtriumConn* (unowned), the open ones SoupServer has */
        AtriumPark *park;     /* the ones waiting for a request outside SoupServer */
        AtriumConnWatch *watch; /* tells SoupServer's connections when to read */
        GQueue queues[ATRIUM_N_DEADLINES];
        gint64 lengths[ATRIUM_N_DEADLINES]; /* microseconds */
        GSource *sweep;
        GSource *resume; /* (nullable) re-arms accepting after a pause */
        int anchor[2];   /* the silent socket pair SoupServer counts as its listener */
        gboolean stopped;
};

/* ---- deadlines ---- */

static void
timer_remove (AtriumConn *conn)
{
        AtriumConnTimer *t = atrium_conn_timer (conn);
        if (t->queue) {
                g_queue_unlink (t->queue, &t->link);
                t->queue = NULL;
        }
}

AtriumConn *
atrium_listener_conn_of (SoupServerMessage *msg)
{
        return atrium_conn_from_address (soup_server_message_get_remote_address (msg));
}

void
atrium_listener_arm (AtriumListener *l, SoupServerMessage *msg, AtriumDeadline deadline)
{
        AtriumConn *conn = atrium_listener_conn_of (msg);
        if (!conn || atrium_conn_is_closed (conn))
                return;
        timer_remove (conn);
        AtriumConnTimer *t = atrium_conn_timer (conn);
        t->deadline = g_get_monotonic_time () + l->lengths[deadline];
        t->queue = &l->queues[deadline];
        g_queue_push_tail_link (t->queue, &t->link);
}

void
atrium_listener_disarm (AtriumListener *l, SoupServerMessage *msg)
{
        (void)l;
        AtriumConn *conn = atrium_listener_conn_of (msg);
        if (conn)
                timer_remove (conn);
}

void
atrium_listener_request_done (AtriumListener *l, SoupServerMessage *msg)
{
        AtriumConn *conn = atrium_listener_conn_of (msg);
        if (!conn)
                return;
        atrium_conn_set_between_requests (conn, TRUE);
        atrium_listener_arm (l, msg, ATRIUM_DEADLINE_HEADERS);
}

void
atrium_listener_cut (SoupServerMessage *msg)
{
        AtriumConn *conn = atrium_listener_conn_of (msg);
        if (conn)
                atrium_conn_shutdown (conn);
}

static gboolean
sweep (gpointer data)
{
        AtriumListener *l = data;
        gint64 now = g_get_monotonic_time ();
        for (guint k = 0; k < ATRIUM_N_DEADLINES; k++) {
                GList *head;
                while (
                    (head = l->queues[k].head) && atrium_conn_timer (head->data)->deadline <= now) {
                        AtriumConn *conn = head->data;
                        timer_remove (conn);
                        /* libsoup reads end-of-stream next and closes the connection. */
                        atrium_conn_shutdown (conn);
                }
        }
        atrium_park_sweep (l->park, now);
        if (l->stopped)
                return G_SOURCE_CONTINUE;
        /* Connections idle in SoupServer for long enough go to the park; each leaves its
         * queue when SoupServer has closed it (on_conn_closed), soon after. */
        GQueue *idle = &l->queues[ATRIUM_DEADLINE_HEADERS];
        gint64 armed_before = now - PARK_AFTER_US + l->lengths[ATRIUM_DEADLINE_HEADERS];
        for (GList *it = idle->head; it && atrium_conn_timer (it->data)->deadline <= armed_before;
             it = it->next)
                atrium_conn_park (it->data);
        return G_SOURCE_CONTINUE;
}

/* ---- the connection table ---- */

static void
on_conn_closed (AtriumConn *conn, gpointer data)
{
        AtriumListener *l = data;
        AtriumConnTimer *t = atrium_conn_timer (conn);
        gint64 deadline = t->queue ? t->deadline
                                   : g_get_monotonic_time () + l->lengths[ATRIUM_DEADLINE_HEADERS];
        timer_remove (conn);
        g_hash_table_remove (l->conns, conn);
        int fd = atrium_conn_steal_park_fd (conn);
        if (fd >= 0 && !l->stopped) {
                /* Parked, still open: no reading here, inside SoupServer's close. */
                atrium_metrics_connections_waiting (l->metrics, +1);
                atrium_park_add (l->park, fd, deadline, FALSE);
                return;
        }
        if (fd >= 0)
                close (fd);
        atrium_metrics_connections (l->metrics, -1);
}

guint
atrium_listener_n_connections (AtriumListener *l)
{
        return g_hash_table_size (l->conns) + atrium_park_count (l->park);
}

/* The park closed a connection. */
static void
on_park_dropped (gpointer data)
{
        AtriumListener *l = data;
        atrium_metrics_connections_waiting (l->metrics, -1);
        atrium_metrics_connections (l->metrics, -1);
}

/* ---- accepting ---- */

static gboolean on_acceptable (GSocket *socket, GIOCondition condition, gpointer data);

static void
endpoint_watch (Endpoint *e)
{
        if (e->source || !e->socket)
                return;
        e->source = g_socket_create_source (e->socket, G_IO_IN, NULL);
        g_source_set_can_recurse (e->source, TRUE); /* never blocked: conn-watch.c says why */
        g_source_set_callback (e->source, (GSourceFunc)(GCallback)on_acceptable, e, NULL);
        g_source_attach (e->source, e->owner->context);
}

static void
endpoint_unwatch (Endpoint *e)
{
        if (!e->source)
                return;
        g_source_destroy (e->source);
        g_clear_pointer (&e->source, g_source_unref);
}

static gboolean
resume_accepting (gpointer data)
{
        AtriumListener *l = data;
        g_clear_pointer (&l->resume, g_source_unref);
        if (!l->stopped)
                for (guint i = 0; i < l->endpoints->len; i++)
                        endpoint_watch (l->endpoints->pdata[i]);
        return G_SOURCE_REMOVE;
}

/* Out of descriptors: stop polling the listening sockets for a moment (a level-triggered
 * poll would spin on the waiting connection), say so at most once per interval. */
/* The report is the process's, whichever front ran out. */
static GMutex report_lock;
static gint64 last_report;
static guint64 refused_since_report;

static void
pause_accepting (AtriumListener *l, int err)
{
        atrium_metrics_accept_failed (l->metrics);
        gint64 now = g_get_monotonic_time ();
        g_mutex_lock (&report_lock);
        refused_since_report++;
        if (!last_report || now - last_report >= ACCEPT_REPORT_US) {
                g_warning ("cannot accept connections: %s (%u open on this thread); pausing "
                           "accepts for %d ms; %" G_GUINT64_FORMAT " refused since the last report",
                    g_strerror (err), g_hash_table_size (l->conns), ACCEPT_PAUSE_MS,
                    refused_since_report);
                last_report = now;
                refused_since_report = 0;
        }
        g_mutex_unlock (&report_lock);
        for (guint i = 0; i < l->endpoints->len; i++)
                endpoint_unwatch (l->endpoints->pdata[i]);
        if (!l->resume) {
                l->resume = g_timeout_source_new (ACCEPT_PAUSE_MS);
                g_source_set_callback (l->resume, resume_accepting, l, NULL);
                g_source_attach (l->resume, l->context);
        }
}

/* A connection from the park, its request head in: to SoupServer, the head read first. */
static void
on_park_ready (int fd, GBytes *head, gpointer data)
{
        AtriumListener *l = data;
        atrium_metrics_connections_waiting (l->metrics, -1);
        g_autoptr (GError) error = NULL;
        GSocket *socket = g_socket_new_from_fd (fd, &error);
        if (!socket) {
                close (fd);
                atrium_metrics_connections (l->metrics, -1);
                g_warning ("accepted connection unusable: %s", error->message);
                return;
        }
        g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
        g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);
        if (!remote || !local) { /* reset by the client meanwhile */
                g_object_unref (socket);
                atrium_metrics_connections (l->metrics, -1);
                return;
        }
        g_autoptr (AtriumConn) conn = atrium_conn_new (socket, remote, l->watch, on_conn_closed, l);
        atrium_conn_set_prefix (conn, head);
        g_hash_table_add (l->conns, conn);
        /* SoupServer takes its own reference; the first message starts (request-started)
         * inside this call. */
        if (!soup_server_accept_iostream (l->soup, G_IO_STREAM (conn), local, remote, &error)) {
                g_warning ("SoupServer refused a connection: %s", error->message);
                g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
        }
}

static gboolean
on_acceptable (GSocket *socket, GIOCondition condition, gpointer data)
{
        Endpoint *e = data;
        AtriumListener *l = e->owner;
        (void)condition;
        for (int i = 0; i < ACCEPT_BATCH; i++) {
                int fd = accept4 (g_socket_get_fd (socket), NULL, NULL,
                                  SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0) {
                        int one = 1;
                        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                        atrium_metrics_connections (l->metrics, +1);
                        atrium_metrics_connections_waiting (l->metrics, +1);
                        gint64 now = g_get_monotonic_time ();
                        atrium_park_add (l->park, fd, now + l->lengths[ATRIUM_DEADLINE_HEADERS],
                                         TRUE);
                        continue;
                }
                int err = errno;
                if (err == EAGAIN || err == EWOULDBLOCK)
                        break;
                if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                        pause_accepting (l, err);
                        /* pause_accepting() destroyed this source */
                        return G_SOURCE_REMOVE;
                }
                /* ECONNABORTED, EPERM (firewall), EINTR, network errors on the new socket:
                 * that one connection is lost, the next may be fine. */
                if (err != ECONNABORTED && err != EINTR)
                        g_debug ("accept: %s", g_strerror (err));
        }
        return G_SOURCE_CONTINUE;
}

static gboolean
add_endpoint (AtriumListener *l, GSocket *socket, GError **error)
{
        Endpoint *e = g_new0 (Endpoint, 1);
        e->owner = l;
        e->local = g_socket_get_local_address (socket, error);
        if (!e->local) {
                g_free (e);
                return FALSE;
        }
        e->socket = g_object_ref (socket);
        g_ptr_array_add (l->endpoints, e);
        if (!l->resume)
                endpoint_watch (e);
        return TRUE;
}

gboolean
atrium_listener_listen (AtriumListener *l, GSocketAddress *address, GError **error)
{
        GSocketFamily family = g_socket_address_get_family (address);
        g_autoptr (GSocket) socket
            = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
        if (!socket)
                return FALSE;
        g_socket_set_blocking (socket, FALSE);
        g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
        if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
                return FALSE;
        return add_endpoint (l, socket, error);
}

gboolean
atrium_listener_share (AtriumListener *l, AtriumListener *from, GError **error)
{
        for (guint i = 0; i < from->endpoints->len; i++) {
                Endpoint *e = from->endpoints->pdata[i];
                int fd = fcntl (g_socket_get_fd (e->socket), F_DUPFD_CLOEXEC, 0);
                if (fd < 0) {
                        int err = errno;
                        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "dup: %s",
                                     g_strerror (err));
                        return FALSE;
                }
                g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, error);
                if (!socket) {
                        close (fd);
                        return FALSE;
                }
                g_socket_set_blocking (socket, FALSE);
                if (!add_endpoint (l, socket, error))
                        return FALSE;
        }
        return TRUE;
}

GSocketAddress *
atrium_listener_address (AtriumListener *l)
{
        return l->endpoints->len ? ((Endpoint *) l->endpoints->pdata[0])->local : NULL;
}

GStrv
atrium_listener_uris (AtriumListener *l)
{
        g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
        for (guint i = 0; i < l->endpoints->len; i++) {
                Endpoint *e = l->endpoints->pdata[i];
                GInetSocketAddress *ia = G_INET_SOCKET_ADDRESS (e->local);
                g_autofree char *host
                    = g_inet_address_to_string (g_inet_socket_address_get_address (ia));
                guint port = g_inet_socket_address_get_port (ia);
                gboolean v6 = g_socket_address_get_family (e->local) == G_SOCKET_FAMILY_IPV6;
                g_autofree char *uri
                    = g_strdup_printf (v6 ? "http://[%s]:%u/" : "http://%s:%u/", host, port);
                g_strv_builder_add (b, uri);
        }
        return g_strv_builder_end (b);
}

void
atrium_listener_stop_accepting (AtriumListener *l)
{
        l->stopped = TRUE;
        atrium_park_close_all (l->park); /* idle: nothing in flight to finish */
        for (guint i = 0; i < l->endpoints->len; i++) {
                Endpoint *e = l->endpoints->pdata[i];
                endpoint_unwatch (e);
                if (e->socket) {
                        g_socket_close (e->socket, NULL);
                        g_clear_object (&e->socket);
                }
        }
}

static void
endpoint_free (gpointer data)
{
        Endpoint *e = data;
        endpoint_unwatch (e);
        if (e->socket)
                g_socket_close (e->socket, NULL);
        g_clear_object (&e->socket);
        g_clear_object (&e->local);
        g_free (e);
}

AtriumListener *
atrium_listener_new (SoupServer *soup, AtriumMetrics *metrics,
    const guint seconds[ATRIUM_N_DEADLINES], GError **error)
{
        g_autofree AtriumListener *l = g_new0 (AtriumListener, 1);
        if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->anchor) != 0) {
                int err = errno;
                g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "socketpair: %s",
                    g_strerror (err));
                return NULL;
        }
        g_autoptr (GSocket) anchor = g_socket_new_from_fd (l->anchor[0], error);
        if (!anchor) {
                close (l->anchor[0]);
                close (l->anchor[1]);
                return NULL;
        }
        if (!soup_server_listen_socket (soup, anchor, 0, error)) {
                close (l->anchor[1]);
                return NULL;
        }
        l->soup = g_object_ref (soup);
        l->metrics = metrics;
        l->context = g_main_context_ref_thread_default ();
        l->endpoints = g_ptr_array_new_with_free_func (endpoint_free);
        l->conns = g_hash_table_new (NULL, NULL);
        l->park = atrium_park_new (l->context, on_park_ready, on_park_dropped, l, error);
        l->watch = l->park ? atrium_conn_watch_new (l->context, error) : NULL;
        if (!l->watch) {
                atrium_park_free (l->park);
                close (l->anchor[1]);
                g_main_context_unref (l->context);
                g_object_unref (l->soup);
                g_ptr_array_unref (l->endpoints);
                g_hash_table_unref (l->conns);
                return NULL;
        }
        for (guint k = 0; k < ATRIUM_N_DEADLINES; k++) {
                g_queue_init (&l->queues[k]);
                l->lengths[k] = (gint64)seconds[k] * G_USEC_PER_SEC;
        }
        l->sweep = g_timeout_source_new_seconds (1);
        g_source_set_callback (l->sweep, sweep, l, NULL);
        g_source_attach (l->sweep, l->context);
        return g_steal_pointer (&l);
}

void
atrium_listener_free (AtriumListener *l)
{
        if (!l)
                return;
        g_ptr_array_unref (l->endpoints);
        if (l->resume) {
                g_source_destroy (l->resume);
                g_source_unref (l->resume);
        }
        g_source_destroy (l->sweep);
        g_source_unref (l->sweep);
        /* Connections something still holds must not call back into a freed listener. */
        GHashTableIter it;
        gpointer conn;
        g_hash_table_iter_init (&it, l->conns);
        while (g_hash_table_iter_next (&it, &conn, NULL)) {
                timer_remove (conn);
                atrium_conn_forget_owner (conn);
        }
        g_hash_table_unref (l->conns);
        atrium_park_free (l->park);
        atrium_conn_watch_stop (l->watch);
        atrium_conn_watch_unref (l->watch);
        close (l->anchor[1]); /* [0] belongs to SoupServer's listener */
        g_main_context_unref (l->context);
        g_object_unref (l->soup);
        g_free (l);
}
