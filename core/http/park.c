/* SPDX-License-Identifier: Apache-2.0 */
/* park.c - connections waiting for a request, outside GLib's main loop.
 *
 * Why it exists. GLib's main loop costs O(sources) per iteration: every turn prepares,
 * polls and checks every source of the context, and SoupServer keeps a read source per
 * connection. With 10,000 idle keep-alive connections on a host, each request paid for all
 * of them (bench/idle: a student's /me from 5,538 to 689 req/s, p99 7x), and 2,000 slowloris
 * clients (a header byte a second) did the same.
 *
 * A park is one epoll set per front, watched by a single GSource. It holds connections that
 * have no request in progress: new ones until their first request head is in, and kept-alive
 * ones that stayed idle (listener.c moves them here from SoupServer, connection.c says how).
 * Each costs nothing while it waits: no source, no poll entry, no objects, only this record.
 * When a connection's bytes make a complete request head (an empty line after the request
 * line; or HEAD_MAX bytes, whatever they are), the park hands the descriptor and those bytes
 * to its owner, which gives them to SoupServer (the bytes first, then the socket). A client
 * that closes is closed here; one that is still waiting at its deadline (the keep-alive and
 * header limit) is closed by the sweep.
 *
 * The park only decides when SoupServer gets a connection; it never interprets a request:
 * whatever it hands over, SoupServer parses, and reads the rest from the socket itself. */
#include "park-private.h"
#include "conn-watch-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX (16 * 1024) /* bytes read before handing over, complete head or not */
#define READ_CHUNK 4096
#define EVENTS_BATCH 64 /* events per wake-up */

typedef struct {
        int fd;
        gint64 deadline;
        GList link;       /* in AtriumPark.waiting, deadline order; data: this */
        GByteArray *head; /* (nullable) read so far */
} Waiter;

struct _AtriumPark {
        int epfd;
        GSource *source;
        GQueue waiting;
        AtriumParkReadyFunc ready;
        AtriumParkDroppedFunc dropped;
        gpointer data;
};

/* Does @buf end a request head within [from, len)? An empty line after at least one byte. */
static gboolean
head_complete (const guint8 *buf, gsize len, gsize from)
{
        if (from > 0)
                from--; /* the '\n' before may have come in the last read */
        for (gsize i = from; i + 1 < len; i++) {
                if (buf[i] != '\n' || i == 0)
                        continue;
                if (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n'))
                        return TRUE;
        }
        return FALSE;
}

static void
unlink_waiter (AtriumPark *p, Waiter *w)
{
        g_queue_unlink (&p->waiting, &w->link);
        epoll_ctl (p->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static void
drop (AtriumPark *p, Waiter *w)
{
        close (w->fd);
        if (w->head)
                g_byte_array_unref (w->head);
        g_free (w);
        p->dropped (p->data);
}

static void
hand_over (AtriumPark *p, Waiter *w)
{
        int fd = w->fd;
        GBytes *head = w->head ? g_byte_array_free_to_bytes (w->head) : NULL;
        g_free (w);
        p->ready (fd, head, p->data);
        if (head)
                g_bytes_unref (head);
}

typedef enum { READ_WAIT, READ_DONE, READ_GONE } ReadOutcome;

/* Reads what the socket has, up to a complete head. */
static ReadOutcome
read_some (Waiter *w)
{
        for (;;) {
                guint8 chunk[READ_CHUNK];
                gsize have = w->head ? w->head->len : 0;
                gsize want = MIN (sizeof chunk, HEAD_MAX - have);
                ssize_t n = recv (w->fd, chunk, want, MSG_DONTWAIT);
                if (n == 0)
                        return READ_GONE;
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN || errno == EWOULDBLOCK ? READ_WAIT : READ_GONE;
                }
                if (!w->head)
                        w->head = g_byte_array_sized_new ((guint) n);
                g_byte_array_append (w->head, chunk, (guint) n);
                if (w->head->len >= HEAD_MAX || head_complete (w->head->data, w->head->len, have))
                        return READ_DONE;
                if ((gsize) n < want)
                        return READ_WAIT; /* drained: the next bytes wake us */
        }
}

static gboolean
on_events (gint fd, GIOCondition condition, gpointer data)
{
        AtriumPark *p = data;
        (void) fd;
        (void) condition;
        struct epoll_event ev[EVENTS_BATCH];
        int n = epoll_wait (p->epfd, ev, EVENTS_BATCH, 0);
        for (int i = 0; i < n; i++) {
                Waiter *w = ev[i].data.ptr;
                ReadOutcome r = read_some (w);
                if (r == READ_WAIT && !(ev[i].events & (EPOLLERR | EPOLLHUP)))
                        continue;
                unlink_waiter (p, w);
                if (r == READ_DONE)
                        hand_over (p, w);
                else
                        drop (p, w);
        }
        return G_SOURCE_CONTINUE;
}

AtriumPark *
atrium_park_new (GMainContext *context, AtriumParkReadyFunc ready, AtriumParkDroppedFunc dropped,
                 gpointer data, GError **error)
{
        AtriumPark *p = g_new0 (AtriumPark, 1);
        p->source = atrium_epoll_source_new (context, "atrium-park", on_events, p, &p->epfd, error);
        if (!p->source) {
                g_free (p);
                return NULL;
        }
        p->ready = ready;
        p->dropped = dropped;
        p->data = data;
        g_queue_init (&p->waiting);
        return p;
}

/* Deadline order; a connection is usually the latest, so the walk starts at the tail. */
static void
insert_waiter (AtriumPark *p, Waiter *w)
{
        GList *after = p->waiting.tail;
        while (after && ((Waiter *) after->data)->deadline > w->deadline)
                after = after->prev;
        if (after)
                g_queue_insert_after_link (&p->waiting, after, &w->link);
        else
                g_queue_push_head_link (&p->waiting, &w->link);
}

void
atrium_park_add (AtriumPark *p, int fd, gint64 deadline, gboolean read_now)
{
        Waiter *w = g_new0 (Waiter, 1);
        w->fd = fd;
        w->deadline = deadline;
        w->link.data = w;
        /* A client usually sends its request at once: then it never waits here. */
        switch (read_now ? read_some (w) : READ_WAIT) {
        case READ_DONE:
                hand_over (p, w);
                return;
        case READ_GONE:
                drop (p, w);
                return;
        case READ_WAIT:
                break;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = w};
        if (epoll_ctl (p->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                g_warning ("cannot watch a waiting connection: %s", g_strerror (errno));
                drop (p, w);
                return;
        }
        insert_waiter (p, w);
}

void
atrium_park_sweep (AtriumPark *p, gint64 now)
{
        GList *head;
        while ((head = p->waiting.head) && ((Waiter *) head->data)->deadline <= now) {
                Waiter *w = head->data;
                unlink_waiter (p, w);
                drop (p, w);
        }
}

guint
atrium_park_count (AtriumPark *p)
{
        return p->waiting.length;
}

void
atrium_park_close_all (AtriumPark *p)
{
        GList *head;
        while ((head = p->waiting.head)) {
                Waiter *w = head->data;
                unlink_waiter (p, w);
                drop (p, w);
        }
}

void
atrium_park_free (AtriumPark *p)
{
        if (!p)
                return;
        atrium_park_close_all (p);
        g_source_destroy (p->source);
        g_source_unref (p->source);
        close (p->epfd);
        g_free (p);
}
