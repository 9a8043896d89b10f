/* SPDX-License-Identifier: Apache-2.0 */
/* conn-watch-private.h - one epoll set per front that tells its connections' inputs when
 * their socket has something to read, without a GSource per wait (conn-watch.c says why).
 * Its front's thread only. */
#pragma once

#include <gio/gio.h>
#include <glib-unix.h>

typedef struct _AtriumConnWatch AtriumConnWatch;

/* One watched descriptor, embedded in its owner. @ready: an event came since it was last
 * armed (the socket may be readable, or has closed). Owned by the watch while registered. */
typedef struct {
        int fd;
        gboolean registered; /* in the epoll set */
        gboolean armed;      /* an event is still to come (EPOLLONESHOT) */
        gboolean ready;
} AtriumWatched;

/* A watch whose GSource is attached to @context (the front's). NULL with @error set when
 * no epoll set can be made. */
AtriumConnWatch *atrium_conn_watch_new (GMainContext *context, GError **error);

/* A new epoll set (*@out_epfd) watched by a source attached to @context that calls @func
 * with @data when the set has events; the source may recurse, so GLib never blocks it (the
 * why is at the top of conn-watch.c). park.c shares it. Returns: (transfer full) the
 * source, NULL with @error when no epoll set could be made. */
GSource *atrium_epoll_source_new (GMainContext *context, const char *name, GUnixFDSourceFunc func,
                                  gpointer data, int *out_epfd, GError **error);
AtriumConnWatch *atrium_conn_watch_ref (AtriumConnWatch *w);
void atrium_conn_watch_unref (AtriumConnWatch *w);
/* The owner stops: the GSource goes; connections that still hold the watch get no more
 * events. */
void atrium_conn_watch_stop (AtriumConnWatch *w);

/* Asks for one event when @x's descriptor is readable, closed or failed, at once if it is
 * already: clears @x->ready. FALSE (errno set) when the kernel refuses: then wait by other
 * means. */
gboolean atrium_conn_watch_arm (AtriumConnWatch *w, AtriumWatched *x);

/* Before @x's descriptor closes (or @x goes): no event for it after this. */
void atrium_conn_watch_forget (AtriumConnWatch *w, AtriumWatched *x);
