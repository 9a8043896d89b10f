/* SPDX-License-Identifier: Apache-2.0 */
/* body-pipe.c - a request body on its way from the main loop (which reads the socket) to the
 * worker running an ATRIUM_ROUTE_STREAM_BODY handler (which reads a GInputStream).
 *
 *   main loop                              worker
 *   ---------                              ------
 *   got-chunk: push; above high water ->   read(): wait for data, take it; below low water
 *     pause the message                      and producer paused -> ask for more (demand)
 *   got-body: finish (EOF)                 read() returns 0
 *   answered / aborted / timed out: close  read() fails with G_IO_ERROR
 *
 * Memory is bounded by the high-water mark plus one socket read. Nothing here touches
 * libsoup: the "demand" callback (server-stream.c) hops to the main context and unpauses the
 * message there. The first read also fires the "first read" hook, which ends the request's
 * transaction so no database connection waits on a slow client. */
#include "body-pipe-private.h"

#include <gio/gio.h>
#include <string.h>

#define HIGH_WATER (1024 * 1024)
#define LOW_WATER (256 * 1024)

/* Every pipe alive, for a drain that ran out of time (atrium_body_pipe_close_all). A pipe
 * leaves it in its last unref, before it is freed, under the same lock. */
static GMutex live_lock;
static GHashTable *live;

struct _AtriumBodyPipe {
        gint refs;
        GMutex lock;
        GCond cond;
        GQueue chunks;     /* GBytes */
        gsize offset;      /* consumed bytes of the head chunk */
        gsize queued;      /* bytes in @chunks not yet consumed */
        guint64 received;  /* total pushed, for the idle timer */
        gboolean eof;
        char *failure;     /* set once: the client went away or stalled */
        gboolean paused;   /* the producer is paused (not started, or above high water) */
        gboolean demand_pending;
        gboolean started;  /* the consumer asked for the body */
        gboolean closed;   /* the message is answered or gone: never unpause it again */
        AtriumPipeDemandFunc demand;
        gpointer demand_data;
        GDestroyNotify demand_data_free;
        AtriumPipeFirstReadFunc first_read;
        gpointer first_read_data;
};

AtriumBodyPipe *
atrium_body_pipe_new (AtriumPipeDemandFunc demand, gpointer demand_data,
                      GDestroyNotify demand_data_free)
{
        AtriumBodyPipe *p = g_new0 (AtriumBodyPipe, 1);
        p->refs = 1;
        g_mutex_init (&p->lock);
        g_cond_init (&p->cond);
        g_queue_init (&p->chunks);
        p->paused = TRUE; /* the message is paused until the handler first reads */
        p->demand = demand;
        p->demand_data = demand_data;
        p->demand_data_free = demand_data_free;
        g_mutex_lock (&live_lock);
        if (!live)
                live = g_hash_table_new (NULL, NULL);
        g_hash_table_add (live, p);
        g_mutex_unlock (&live_lock);
        return p;
}

AtriumBodyPipe *
atrium_body_pipe_ref (AtriumBodyPipe *p)
{
        g_atomic_int_inc (&p->refs);
        return p;
}

void
atrium_body_pipe_unref (AtriumBodyPipe *p)
{
        if (!p || !g_atomic_int_dec_and_test (&p->refs))
                return;
        g_mutex_lock (&live_lock);
        g_hash_table_remove (live, p);
        g_mutex_unlock (&live_lock);
        g_queue_clear_full (&p->chunks, (GDestroyNotify) g_bytes_unref);
        g_mutex_clear (&p->lock);
        g_cond_clear (&p->cond);
        g_free (p->failure);
        if (p->demand_data_free)
                p->demand_data_free (p->demand_data);
        g_free (p);
}

void
atrium_body_pipe_set_first_read (AtriumBodyPipe *p, AtriumPipeFirstReadFunc func, gpointer data)
{
        p->first_read = func;
        p->first_read_data = data;
}

void
atrium_body_pipe_set_flowing (AtriumBodyPipe *p)
{
        g_mutex_lock (&p->lock);
        p->paused = FALSE;
        g_mutex_unlock (&p->lock);
}

/* ---- producer: main loop ---- */

gboolean
atrium_body_pipe_push (AtriumBodyPipe *p, GBytes *chunk)
{
        g_mutex_lock (&p->lock);
        gboolean pause = FALSE;
        p->received += g_bytes_get_size (chunk); /* progress, even when dropped */
        if (!p->failure && !p->closed) {
                g_queue_push_tail (&p->chunks, g_bytes_ref (chunk));
                p->queued += g_bytes_get_size (chunk);
                if (p->queued > HIGH_WATER)
                        pause = p->paused = TRUE;
                g_cond_signal (&p->cond);
        }
        g_mutex_unlock (&p->lock);
        return pause;
}

void
atrium_body_pipe_finish (AtriumBodyPipe *p)
{
        g_mutex_lock (&p->lock);
        p->eof = TRUE;
        g_cond_signal (&p->cond);
        g_mutex_unlock (&p->lock);
}

/* The message was answered or went away: later chunks are dropped, a waiting reader fails,
 * and the message is never unpaused on the pipe's behalf again. */
void
atrium_body_pipe_close (AtriumBodyPipe *p, const char *why)
{
        g_mutex_lock (&p->lock);
        p->closed = TRUE;
        p->paused = FALSE; /* whoever closes unpauses the message, or it is gone */
        if (!p->failure && !p->eof)
                p->failure = g_strdup (why);
        g_cond_signal (&p->cond);
        g_mutex_unlock (&p->lock);
}

guint
atrium_body_pipe_close_all (const char *why)
{
        guint n = 0;
        g_mutex_lock (&live_lock);
        GHashTableIter it;
        gpointer key;
        if (!live) {
                g_mutex_unlock (&live_lock);
                return 0;
        }
        g_hash_table_iter_init (&it, live);
        while (g_hash_table_iter_next (&it, &key, NULL)) {
                AtriumBodyPipe *p = key;
                g_mutex_lock (&p->lock);
                gboolean open = !p->eof && !p->failure;
                g_mutex_unlock (&p->lock);
                if (open) {
                        atrium_body_pipe_close (p, why);
                        n++;
                }
        }
        g_mutex_unlock (&live_lock);
        return n;
}

/* Called by the demand callback on the main loop; TRUE: unpause the message now. */
gboolean
atrium_body_pipe_resumed (AtriumBodyPipe *p)
{
        g_mutex_lock (&p->lock);
        gboolean go = !p->closed;
        if (go)
                p->paused = FALSE;
        p->demand_pending = FALSE;
        g_mutex_unlock (&p->lock);
        return go;
}

gboolean
atrium_body_pipe_started (AtriumBodyPipe *p)
{
        g_mutex_lock (&p->lock);
        gboolean started = p->started;
        g_mutex_unlock (&p->lock);
        return started;
}

/* Bytes received so far, and whether the producer is paused (a paused upload is waiting for
 * the handler, not for the client, so it is not idle). */
guint64
atrium_body_pipe_progress (AtriumBodyPipe *p, gboolean *out_paused)
{
        g_mutex_lock (&p->lock);
        guint64 n = p->received;
        *out_paused = p->paused && !p->eof;
        g_mutex_unlock (&p->lock);
        return n;
}

/* ---- consumer: the handler's thread ---- */

/* With the lock held: ask the main loop to unpause the producer, once. */
static void
request_more (AtriumBodyPipe *p)
{
        if (!p->paused || p->demand_pending || p->eof || p->failure)
                return;
        p->demand_pending = TRUE;
        p->demand (p, p->demand_data);
}

static gssize
pipe_read (AtriumBodyPipe *p, void *buf, gsize count, GError **error)
{
        g_mutex_lock (&p->lock);
        if (!p->started) {
                p->started = TRUE;
                if (p->first_read) {
                        g_mutex_unlock (&p->lock);
                        if (!p->first_read (p->first_read_data, error))
                                return -1;
                        g_mutex_lock (&p->lock);
                }
        }
        while (!p->queued && !p->eof && !p->failure) {
                request_more (p);
                g_cond_wait (&p->cond, &p->lock);
        }
        if (!p->queued && p->failure) {
                g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                             "request body: %s", p->failure);
                g_mutex_unlock (&p->lock);
                return -1;
        }
        gsize done = 0;
        while (done < count && p->queued) {
                GBytes *head = g_queue_peek_head (&p->chunks);
                gsize size;
                const guint8 *data = g_bytes_get_data (head, &size);
                gsize n = MIN (count - done, size - p->offset);
                memcpy ((guint8 *) buf + done, data + p->offset, n);
                done += n;
                p->offset += n;
                p->queued -= n;
                if (p->offset == size) {
                        g_bytes_unref (g_queue_pop_head (&p->chunks));
                        p->offset = 0;
                }
        }
        if (p->queued < LOW_WATER)
                request_more (p);
        g_mutex_unlock (&p->lock);
        return (gssize) done;
}

/* ---- the GInputStream handed to plugins ---- */

#define ATRIUM_TYPE_BODY_STREAM (atrium_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (AtriumBodyStream, atrium_body_stream, ATRIUM, BODY_STREAM, GInputStream)

struct _AtriumBodyStream {
        GInputStream parent;
        AtriumBodyPipe *pipe;
};

G_DEFINE_FINAL_TYPE (AtriumBodyStream, atrium_body_stream, G_TYPE_INPUT_STREAM)

static gssize
body_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                  GError **error)
{
        (void) cancellable;
        AtriumBodyStream *self = ATRIUM_BODY_STREAM (stream);
        return pipe_read (self->pipe, buffer, count, error);
}

static gboolean
body_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
        (void) stream;
        (void) cancellable;
        (void) error;
        return TRUE;
}

static void
body_stream_finalize (GObject *object)
{
        atrium_body_pipe_unref (ATRIUM_BODY_STREAM (object)->pipe);
        G_OBJECT_CLASS (atrium_body_stream_parent_class)->finalize (object);
}

static void
atrium_body_stream_class_init (AtriumBodyStreamClass *klass)
{
        G_OBJECT_CLASS (klass)->finalize = body_stream_finalize;
        G_INPUT_STREAM_CLASS (klass)->read_fn = body_stream_read;
        G_INPUT_STREAM_CLASS (klass)->close_fn = body_stream_close;
}

static void
atrium_body_stream_init (AtriumBodyStream *self)
{
        (void) self;
}

GInputStream *
atrium_body_pipe_stream_new (AtriumBodyPipe *p)
{
        AtriumBodyStream *s = g_object_new (ATRIUM_TYPE_BODY_STREAM, NULL);
        s->pipe = atrium_body_pipe_ref (p);
        return G_INPUT_STREAM (s);
}
