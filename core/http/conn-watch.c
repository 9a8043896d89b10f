/* SPDX-License-Identifier: Apache-2.0 */
/* conn-watch.c - when a connection's socket is readable, told without a GSource per wait.
 *
 * Why it exists. SoupServer waits for each request (and each part of a body) on a GSource
 * built for that wait: its own, wrapping the pollable source of every stream below it, down
 * to a GSocket source holding the descriptor; five levels here. GLib 2.74 writes to the
 * context's eventfd whenever a source with a descriptor is attached, and blocks and unblocks
 * the whole tree around the dispatch of each ready level, removing and adding the descriptor
 * each time: ten write()s per request on a front, 18 % of atriumd's CPU for GET /healthz
 * (perf, 2026-12-06), all on the front's own thread, where no wake-up is needed at all.
 *
 * Here the descriptor is never in a per-wait source. Each front has one epoll set, watched
 * by one GSource that is attached once and may recurse (so GLib never blocks it, never
 * touching its descriptor either). A connection's input arms its socket in the set with
 * EPOLLONESHOT when a wait begins, at most one epoll_ctl() per wait; the event marks it
 * ready; the wait's own source has no descriptor and is ready when its input is (a flag
 * read in prepare and check, on the same thread). Arming again with EPOLL_CTL_MOD reports
 * bytes that are already there, so nothing is missed between a read and the next wait. */
#include "conn-watch-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENTS_BATCH 64 /* events per wake-up */

struct _AtriumConnWatch {
        gatomicrefcount refs;
        int epfd;
        GSource *source; /* (nullable) after stop */
};

static gboolean
on_events (gint fd, GIOCondition condition, gpointer data)
{
        AtriumConnWatch *w = data;
        (void) fd;
        (void) condition;
        struct epoll_event ev[EVENTS_BATCH];
        int n;
        do {
                n = epoll_wait (w->epfd, ev, EVENTS_BATCH, 0);
                for (int i = 0; i < n; i++) {
                        AtriumWatched *x = ev[i].data.ptr;
                        x->armed = FALSE;
                        x->ready = TRUE;
                }
        } while (n == EVENTS_BATCH);
        return G_SOURCE_CONTINUE;
}

GSource *
atrium_epoll_source_new (GMainContext *context, const char *name, GUnixFDSourceFunc func,
                         gpointer data, int *out_epfd, GError **error)
{
        int epfd = epoll_create1 (EPOLL_CLOEXEC);
        if (epfd < 0) {
                int err = errno;
                g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "epoll_create1: %s",
                             g_strerror (err));
                return NULL;
        }
        GSource *source = g_unix_fd_source_new (epfd, G_IO_IN);
        /* A source that may recurse is never blocked around its dispatch, which spares
         * GLib removing and re-adding its descriptor (and two eventfd writes) each time. */
        g_source_set_can_recurse (source, TRUE);
        g_source_set_static_name (source, name);
        g_source_set_callback (source, (GSourceFunc) (GCallback) func, data, NULL);
        g_source_attach (source, context);
        *out_epfd = epfd;
        return source;
}

AtriumConnWatch *
atrium_conn_watch_new (GMainContext *context, GError **error)
{
        AtriumConnWatch *w = g_new0 (AtriumConnWatch, 1);
        w->source = atrium_epoll_source_new (context, "atrium-conn-watch", on_events, w, &w->epfd,
                                             error);
        if (!w->source) {
                g_free (w);
                return NULL;
        }
        g_atomic_ref_count_init (&w->refs);
        return w;
}

AtriumConnWatch *
atrium_conn_watch_ref (AtriumConnWatch *w)
{
        g_atomic_ref_count_inc (&w->refs);
        return w;
}

void
atrium_conn_watch_stop (AtriumConnWatch *w)
{
        if (!w->source)
                return;
        g_source_destroy (w->source);
        g_clear_pointer (&w->source, g_source_unref);
}

void
atrium_conn_watch_unref (AtriumConnWatch *w)
{
        if (!w || !g_atomic_ref_count_dec (&w->refs))
                return;
        atrium_conn_watch_stop (w);
        close (w->epfd);
        g_free (w);
}

gboolean
atrium_conn_watch_arm (AtriumConnWatch *w, AtriumWatched *x)
{
        struct epoll_event ev = {
                .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
                .data.ptr = x,
        };
        int op = x->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl (w->epfd, op, x->fd, &ev) != 0)
                return FALSE;
        x->registered = TRUE;
        x->armed = TRUE;
        x->ready = FALSE;
        return TRUE;
}

void
atrium_conn_watch_forget (AtriumConnWatch *w, AtriumWatched *x)
{
        if (x->registered)
                epoll_ctl (w->epfd, EPOLL_CTL_DEL, x->fd, NULL);
        x->registered = x->armed = x->ready = FALSE;
}
