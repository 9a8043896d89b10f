/* SPDX-License-Identifier: Apache-2.0 */
/* serve.c - `atriumd serve`: the fronts, the worker pools, signals and the drain.
 *
 * A front is a thread with its own GMainContext and SoupServer. All fronts wait for
 * connections on the same listening socket (each its own descriptor of it); whichever thread
 * is free accepts the next one, and a connection lives on that thread from accept to close
 * (server.c's handlers run there; see docs/ARCHITECTURE.md). Not SO_REUSEPORT: with it a
 * second atriumd started on the same port by mistake would silently share it instead of
 * failing, and the kernel would hash connections onto a busy thread as readily as an idle
 * one. One front per core by default ([http] listeners): the
 * architecture brief measured a bare SoupServer at 41k req/s with a 47 ms p99 on one context
 * and 50k with a 2.7 ms p99 on two. Front 0 is the main thread, which also runs the signal
 * handlers, the plugins' timers and the drain.
 *
 *   main thread (front 0)        front 1 .. n-1            worker pools (shared)
 *   accept, parse, route  ─┐     accept, parse, route ─┐
 *                          └─────────────── push job ──┴──> atrium_core_handle()
 *   answer <── invoke(front 0) ──────────── invoke(front i) ──┘
 *
 * SIGTERM: every front stops accepting, requests in flight (over all fronts) finish within
 * drain_timeout, then the pools finish what they hold and their threads that ran requests
 * end (joined), the fronts stop and close their connections, and the plugins stop. A request still
 * in flight when drain_timeout has passed does not hold the exit up: its statement is cancelled
 * (one waiting for a lock, say) and the body it still reads cut (a client that stalled), so that it
 * ends, rolled back. A second SIGTERM or SIGINT during the drain does the same at once. */
#include "db-private.h"
#include "http-private.h"
#include "oidc-private.h"
#include "ops-private.h"
#include "plugin-host-private.h"

#include <glib-unix.h>
#include <malloc.h>

static Front *
front_new (Server *s, guint index, GMainContext *context)
{
        Front *f = g_new0 (Front, 1);
        f->server = s;
        f->index = index;
        f->context = context;
        f->loop = g_main_loop_new (context, FALSE);
        return f;
}

static void
front_free (gpointer data)
{
        Front *f = data;
        g_main_loop_unref (f->loop);
        g_main_context_unref (f->context);
        g_free (f);
}

/* The front's SoupServer and listening socket; on the front's thread, with its context the
 * thread-default one (libsoup attaches every source of a connection to that context). */
static gboolean
front_setup (Front *f, GSocketAddress *address, AtriumListener *share, GError **error)
{
        AtriumConfig *config = f->server->core->config;
        /* raw-paths: libsoup must not percent-decode the path; the router decodes each segment
         * once, after splitting, so "%2F" cannot smuggle a separator past a template. */
        f->soup = soup_server_new ("server-header", "atriumd ", "raw-paths", TRUE, NULL);
        atrium_server_connect (f);
        const guint deadlines[ATRIUM_N_DEADLINES] = {
                [ATRIUM_DEADLINE_HEADERS] = config->header_timeout,
                [ATRIUM_DEADLINE_BODY] = config->body_timeout,
        };
        f->listener = atrium_listener_new (f->soup, f->server->core->metrics, deadlines, error);
        if (!f->listener)
                return FALSE;
        return share ? atrium_listener_share (f->listener, share, error)
                     : atrium_listener_listen (f->listener, address, error);
}

/* After the front's loop: answers still queued for it, then its connections close. */
static void
front_teardown (Front *f)
{
        while (g_main_context_iteration (f->context, FALSE))
                ;
        if (f->soup)
                soup_server_disconnect (f->soup);
        g_clear_pointer (&f->listener, atrium_listener_free);
        g_clear_object (&f->soup);
        atrium_log_flush ();
}

static gpointer
front_thread (gpointer data)
{
        Front *f = data;
        Server *s = f->server;
        g_main_context_push_thread_default (f->context);
        GError *error = NULL;
        Front *f0 = s->fronts->pdata[0];
        gboolean ok = front_setup (f, NULL, f0->listener, &error);
        g_mutex_lock (&s->lock);
        if (!ok && !s->start_error)
                s->start_error = g_steal_pointer (&error);
        s->starting--;
        g_cond_broadcast (&s->cond);
        g_mutex_unlock (&s->lock);
        g_clear_error (&error);
        if (ok)
                g_main_loop_run (f->loop);
        front_teardown (f);
        g_main_context_pop_thread_default (f->context);
        return NULL;
}

/* ---- drain ---- */

void
atrium_server_maybe_drained (Server *s)
{
        if (g_atomic_int_get (&s->draining) && g_atomic_int_get (&s->in_flight) == 0)
                g_main_loop_quit (((Front *) s->fronts->pdata[0])->loop);
}

/* The drain ran out of time, or a second signal came: end what is still in flight. */
static gboolean
drain_timeout (gpointer data)
{
        Server *s = data;
        AtriumCore *core = s->core;
        /* Counted first: once cancelled, a request may end (on another front) before the
         * line below is written. */
        const gint stuck = g_atomic_int_get (&s->in_flight);
        /* Their workers would hold the exit up for as long as the statements run. */
        guint cancelled = atrium_db_pool_cancel_lent (core->pool);
        if (core->replica)
                cancelled += atrium_db_pool_cancel_lent (atrium_replica_pool (core->replica));
        /* And uploads whose clients stalled would for as long as the body timeout. */
        guint cut = atrium_body_pipe_close_all ("the host is stopping");
        g_warning ("drain timeout: %d requests still in flight, exiting (%u statements "
                   "cancelled, %u uploads cut)",
                   stuck, cancelled, cut);
        s->drain_timer = 0;
        g_main_loop_quit (((Front *) s->fronts->pdata[0])->loop);
        return G_SOURCE_REMOVE;
}

static gboolean
stop_accepting (gpointer data)
{
        Front *f = data;
        atrium_listener_stop_accepting (f->listener);
        return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
        Server *s = data;
        if (g_atomic_int_get (&s->draining)) {
                /* A second SIGTERM or Ctrl-C: the operator will not wait for the drain. */
                if (s->drain_timer) {
                        g_message ("second signal: not waiting for the drain");
                        g_source_remove (s->drain_timer);
                        drain_timeout (s);
                }
                return G_SOURCE_CONTINUE;
        }
        g_message ("signal received: draining %d in-flight requests",
                   g_atomic_int_get (&s->in_flight));
        g_atomic_int_set (&s->draining, 1);
        /* Stop accepting: close the listening sockets, keep the client connections. Each
         * front's listener belongs to its thread. */
        for (guint i = 0; i < s->fronts->len; i++) {
                Front *f = s->fronts->pdata[i];
                g_main_context_invoke (f->context, stop_accepting, f);
        }
        s->drain_timer = g_timeout_add_seconds (s->core->config->drain_timeout, drain_timeout, s);
        atrium_server_maybe_drained (s);
        return G_SOURCE_CONTINUE;
}

/* ---- serve ---- */

static GSocketAddress *
listen_address (AtriumConfig *config)
{
        g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (config->listen_host);
        if (!addr && g_str_equal (config->listen_host, "localhost"))
                addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
        if (!addr) {
                g_printerr ("atriumd: listen address must be an IP address: %s\n",
                            config->listen_host);
                return NULL;
        }
        return g_inet_socket_address_new (addr, config->listen_port);
}

/* Stops fronts 1..n (their threads close their connections) and waits for them. */
static void
stop_fronts (Server *s)
{
        for (guint i = 1; i < s->fronts->len; i++) {
                Front *f = s->fronts->pdata[i];
                if (!f->thread)
                        continue;
                g_main_loop_quit (f->loop);
                g_thread_join (g_steal_pointer (&f->thread));
        }
}

/* Fronts 1..n-1, each on its own thread, accepting on front 0's listening sockets. */
static gboolean
start_fronts (Server *s, guint n)
{
        AtriumConfig *config = s->core->config;
        g_mutex_lock (&s->lock);
        for (guint i = 1; i < n; i++) {
                Front *f = front_new (s, i, g_main_context_new ());
                g_ptr_array_add (s->fronts, f);
                s->starting++;
                f->thread = g_thread_new ("atrium-front", front_thread, f);
        }
        while (s->starting > 0)
                g_cond_wait (&s->cond, &s->lock);
        g_mutex_unlock (&s->lock);
        if (!s->start_error)
                return TRUE;
        g_printerr ("atriumd: cannot listen on %s:%u: %s\n", config->listen_host,
                    config->listen_port, s->start_error->message);
        return FALSE;
}

/* Front 0's loop, until a drain ends it. */
static int
serve_until_drained (Server *s, guint n)
{
        Front *f0 = s->fronts->pdata[0];
        g_auto (GStrv) uris = atrium_listener_uris (f0->listener);
        for (guint i = 0; uris[i]; i++)
                g_message ("listening on %s (%u listening threads)", uris[i], n);
        atrium_leader_start (s->core);
        if (s->core->replica)
                atrium_replica_start (s->core->replica);
        atrium_tasks_start_timers (s->core, f0->context);
        atrium_oidc_keys_start_refresh (s->core, f0->context);
        /* Start-up's temporaries (the migrations' text, the plugins' schemas as parsed) are
         * freed by now but sit between what stays: hand their pages back (~0.1 MiB). */
        malloc_trim (0);
        g_main_loop_run (f0->loop);
        if (s->drain_timer)
                g_source_remove (s->drain_timer);
        s->drain_timer = 0;
        return 0;
}

/* Guards AtriumCore.server: /metrics (a front) reads the pools while serve() may be freeing
 * them. */
static GMutex serving_lock;

gboolean
atrium_serve_pool_stats (AtriumCore *core, AtriumPoolStats *out, guint *collecting)
{
        static const char *const names[ATRIUM_POOLS] = {"workers", "slow", "stream", "outside"};
        g_mutex_lock (&serving_lock);
        Server *s = core->server;
        for (guint i = 0; s && i < ATRIUM_POOLS; i++) {
                out[i].name = names[i];
                out[i].size = (guint) MAX (0, g_thread_pool_get_max_threads (s->pools[i]));
                out[i].busy = (guint) g_atomic_int_get (&s->busy[i]);
                out[i].waiting = g_thread_pool_unprocessed (s->pools[i]);
        }
        if (s)
                *collecting = (guint) g_atomic_int_get (&s->collecting);
        g_mutex_unlock (&serving_lock);
        return s != NULL;
}

int
atrium_serve (AtriumCore *core)
{
        Server s = {0};
        s.core = core;
        g_mutex_init (&s.lock);
        g_cond_init (&s.cond);
        s.fronts = g_ptr_array_new_with_free_func (front_free);
        atrium_log_set_access (core->config->access_log);
        int rc = 1;

        g_autoptr (GError) error = NULL;
        /* Workers and slow workers are few and busy: kept (exclusive). Stream and outside
         * threads wait on someone else and come and go with the load. */
        const guint size[ATRIUM_POOLS] = {
                [ATRIUM_POOL_WORKERS] = core->config->pool_size,
                [ATRIUM_POOL_SLOW] = core->config->slow_workers,
                [ATRIUM_POOL_STREAM] = core->config->stream_workers,
                [ATRIUM_POOL_OUTSIDE] = core->config->outside_workers,
        };
        for (guint i = 0; i < ATRIUM_POOLS; i++) {
                s.pools[i] = g_thread_pool_new (atrium_server_work, &s, (int) size[i],
                                                i == ATRIUM_POOL_WORKERS || i == ATRIUM_POOL_SLOW,
                                                &error);
                if (!s.pools[i]) {
                        g_printerr ("atriumd: worker pool: %s\n", error->message);
                        while (i-- > 0)
                                g_thread_pool_free (s.pools[i], TRUE, TRUE);
                        return 1;
                }
        }
        s.worked = g_ptr_array_new ();
        g_mutex_lock (&serving_lock);
        core->server = &s;
        g_mutex_unlock (&serving_lock);

        guint n = core->config->listeners ? core->config->listeners : g_get_num_processors ();
        g_autoptr (GSocketAddress) wanted = listen_address (core->config);
        Front *f0 = front_new (&s, 0, g_main_context_ref (g_main_context_default ()));
        g_ptr_array_add (s.fronts, f0);
        if (!wanted || !front_setup (f0, wanted, NULL, &error)) {
                if (error)
                        g_printerr ("atriumd: cannot listen on %s:%u: %s\n",
                                    core->config->listen_host, core->config->listen_port,
                                    error->message);
                goto out;
        }
        /* Before the other fronts start: they answer /healthz (and /readyz) at once, and a
         * SIGTERM that follows must drain, not kill (front 0's loop dispatches it when it
         * runs). */
        guint on_term = g_unix_signal_add (SIGTERM, on_signal, &s);
        guint on_int = g_unix_signal_add (SIGINT, on_signal, &s);
        if (start_fronts (&s, n))
                rc = serve_until_drained (&s, n);
        g_source_remove (on_term);
        g_source_remove (on_int);
out:
        /* Workers finish what they hold; their answers go to fronts still running (or are
         * dropped with front 0's loop below). */
        g_mutex_lock (&serving_lock);
        core->server = NULL;
        g_mutex_unlock (&serving_lock);
        for (guint i = 0; i < ATRIUM_POOLS; i++)
                g_thread_pool_free (s.pools[i], FALSE, TRUE);
        /* Their threads were told to stop, and would wait in GLib's pool of unused threads
         * for another pool (up to two of them; the rest end whenever they get to it): let
         * every such thread end, and wait until those that worked have (Server.worked).
         * Under LeakSanitizer, a worker still ending at exit had dropped libxml2's per-thread
         * state from its thread-specific data and not yet freed it: a "leak" in CI of
         * 2026-12-07. */
        g_thread_pool_set_max_unused_threads (0);
        for (guint i = 0; i < s.worked->len; i++)
                g_thread_join (s.worked->pdata[i]);
        g_ptr_array_unref (s.worked);
        atrium_leader_stop (core);
        atrium_oidc_keys_stop_refresh ();
        if (rc == 0)
                atrium_tasks_stop_timers (core);
        stop_fronts (&s);
        front_teardown (f0);
        g_ptr_array_unref (s.fronts);
        g_clear_error (&s.start_error);
        g_mutex_clear (&s.lock);
        g_cond_clear (&s.cond);
        if (rc == 0)
                g_message ("stopped");
        return rc;
}
