/* SPDX-License-Identifier: Apache-2.0 */
/* server-stream.c - bodies that do not fit in memory, on the front's side (the thread that
 * owns the message; "main loop" below is that front's loop).
 *
 * In: an ATRIUM_ROUTE_STREAM_BODY route's job is made by the early handler. A body the
 * client announces as small (Content-Length up to COLLECT_MAX, and no "Expect: 100-continue")
 * or sends chunked is first collected here, into the job's AtriumBodyPipe: a pupil's document
 * sent at 40 KB/s holds no thread while it trickles in. Once it is all in, the job goes to the
 * worker pool like any request; a chunked body that outgrows COLLECT_MAX goes to the stream
 * pool instead. Any other body goes to the stream pool at once, with the message paused
 * before a byte is read: the handler's first read unpauses it (and, with Expect, makes
 * libsoup send the 100), and from then on one stream worker waits on this client. That is a
 * deliberate capacity: at most stream_workers large uploads are read at once, the others
 * wait paused (docs/OPERATIONS.md). The pipe pauses the message above its high-water mark. A
 * handler that answers without reading refuses the body: with Expect the client never sends
 * it, without it the rest is read and dropped and the connection closes after the answer.
 *
 * Out: respond_stream() leaves a GInputStream and a length in the request; once the answer is
 * applied the body is read from it asynchronously, one chunk ahead of the socket, and each
 * chunk is dropped after it was written (accumulate off), so memory stays flat for any size. */
#include "http-private.h"
#include "ops-private.h"

#define CHUNK_OUT (256 * 1024)
/* Bodies up to this size are collected before a worker takes the request (and never more
 * than max_body, which a JSON route buffers per connection anyway). The trade: a collected
 * body costs its size in memory, a streamed one a waiting thread and about 70 KiB (measured,
 * docs/OPERATIONS.md). Documents and small photos are collected, so they never queue behind
 * large uploads for a stream worker. At most the body pipe's high-water mark. */
#define COLLECT_MAX (256 * 1024)

/* ---- in ---- */

/* What the pipe keeps to reach the message from a worker: a weak reference, since the
 * message holds the pipe (signal closures) and must not be kept alive by it. */
typedef struct {
        GMainContext *context;
        GWeakRef msg;
} DemandTarget;

static void
target_free (gpointer data)
{
        DemandTarget *t = data;
        g_weak_ref_clear (&t->msg);
        g_main_context_unref (t->context);
        g_free (t);
}

typedef struct {
        AtriumBodyPipe *pipe;
        SoupServerMessage *msg;
} Demand;

static void
demand_free (gpointer data)
{
        Demand *d = data;
        atrium_body_pipe_unref (d->pipe);
        g_object_unref (d->msg);
        g_free (d);
}

static gboolean
demand_on_main (gpointer data)
{
        Demand *d = data;
        if (atrium_body_pipe_resumed (d->pipe))
                soup_server_message_unpause (d->msg);
        return G_SOURCE_REMOVE;
}

/* Worker thread, pipe locked: hop to the main loop to unpause the message. */
static void
on_demand (AtriumBodyPipe *pipe, gpointer data)
{
        DemandTarget *t = data;
        SoupServerMessage *msg = g_weak_ref_get (&t->msg);
        if (!msg)
                return;
        Demand *d = g_new0 (Demand, 1);
        d->pipe = atrium_body_pipe_ref (pipe);
        d->msg = msg;
        g_main_context_invoke_full (t->context, G_PRIORITY_DEFAULT, demand_on_main, d,
                                    demand_free);
}

static guint64
collect_limit (Server *s)
{
        return MIN ((guint64) COLLECT_MAX, s->core->config->max_body);
}

/* Collect the body before a worker takes the request? Not when the client waits for
 * "100 Continue" (the handler first decides whether it wants the body at all), nor when the
 * body is announced larger than the limit. A chunked body is collected up to the limit. */
static gboolean
collect_first (Server *s, SoupServerMessage *msg)
{
        SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
        if (soup_message_headers_get_expectations (h) & SOUP_EXPECTATION_CONTINUE)
                return FALSE;
        if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH)
                return (guint64) soup_message_headers_get_content_length (h) <= collect_limit (s);
        return TRUE;
}

static void
stop_collecting (Job *job)
{
        if (job->collecting) {
                job->collecting = FALSE;
                g_atomic_int_add (&job->server->collecting, -1);
        }
}

static void
dispatch (Job *job, guint pool)
{
        stop_collecting (job);
        job->dispatched = TRUE;
        atrium_server_push (job->server, pool, job);
}

void
atrium_server_stream_forget (Job *job)
{
        stop_collecting (job);
        AtriumRequest *req = job->req;
        double ms = (g_get_monotonic_time () - job->started) / 1e3;
        atrium_log_request (req->request_id, req->method, req->route->template, 499, ms);
        atrium_metrics_observe (job->server->core->metrics, req->method, req->route->template, 499,
                                ms / 1e3);
        atrium_server_job_free (job);
}

static void
on_stream_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
        if (atrium_body_pipe_push (data, chunk))
                soup_server_message_pause (msg);
        Job *job = atrium_msg_state (msg)->stream_job;
        if (job && !job->dispatched) {
                job->collected += g_bytes_get_size (chunk);
                if (job->collected > collect_limit (job->server))
                        dispatch (job, ATRIUM_POOL_STREAM); /* a long chunked body */
        }
}

static void
on_stream_body (SoupServerMessage *msg, gpointer data)
{
        (void) msg;
        atrium_body_pipe_finish (data);
}

/* The handler's first read: end the transaction the request has so far (authentication, the
 * handler's checks), so no pooled connection waits while the client sends. */
static gboolean
end_tx_before_body (gpointer data, GError **error)
{
        AtriumRequest *req = data;
        return atrium_tx_commit (req->tx, error);
}

static void
closure_unref_pipe (gpointer data, GClosure *closure)
{
        (void) closure;
        atrium_body_pipe_unref (data);
}

void
atrium_server_stream_start (Front *f, SoupServerMessage *msg, Job *job)
{
        Server *s = f->server;
        DemandTarget *t = g_new0 (DemandTarget, 1);
        t->context = g_main_context_ref (f->context);
        g_weak_ref_init (&t->msg, msg);
        job->pipe = atrium_body_pipe_new (on_demand, t, target_free);
        atrium_body_pipe_set_first_read (job->pipe, end_tx_before_body, job->req);
        job->req->body_stream = atrium_body_pipe_stream_new (job->pipe);

        soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
        g_signal_connect_data (msg, "got-chunk", G_CALLBACK (on_stream_chunk),
                               atrium_body_pipe_ref (job->pipe), closure_unref_pipe, 0);
        g_signal_connect_data (msg, "got-body", G_CALLBACK (on_stream_body),
                               atrium_body_pipe_ref (job->pipe), closure_unref_pipe, 0);
        MsgState *st = atrium_msg_state (msg);
        st->stream_job = job;
        /* Counted from now, not from request-read (which comes after the body): a draining
         * host waits for uploads in progress. */
        g_atomic_int_inc (&s->in_flight);
        st->counted = TRUE;
        if (collect_first (s, msg)) {
                atrium_body_pipe_set_flowing (job->pipe); /* read on; no worker waits yet */
                job->collecting = TRUE;
                g_atomic_int_inc (&s->collecting);
                return;
        }
        soup_server_message_pause (msg);
        dispatch (job, ATRIUM_POOL_STREAM);
}

void
atrium_server_stream_body_in (Front *f, SoupServerMessage *msg, Job *job)
{
        job->body_complete = TRUE;
        atrium_server_set_timer (msg, NULL); /* no more body to wait for */
        /* Held until finish() answers (libsoup calls the handler only for messages that are
         * not answered yet). */
        soup_server_message_pause (msg);
        if (job->dispatched)
                return;
        /* It all fit: the handler never waits for the client, so the request takes a worker
         * like any other, and the worker can see whether the client left meanwhile. */
        atrium_body_pipe_finish (job->pipe);
        AtriumConn *conn = atrium_listener_conn_of (msg);
        job->fd = conn ? atrium_conn_get_fd (conn) : -1;
        dispatch (job, ATRIUM_POOL_WORKERS);
}

/* A streamed body may take longer than body_timeout in total; what must not happen is a
 * client that stops sending. Every body_timeout seconds the timer checks for progress; a
 * paused message (waiting for the handler) is never idle. */
typedef struct {
        SoupServerMessage *msg; /* the timer lives in the message's data */
        AtriumBodyPipe *pipe;
        guint64 last;
} IdleCheck;

static void
idle_check_free (gpointer data)
{
        IdleCheck *c = data;
        atrium_body_pipe_unref (c->pipe);
        g_free (c);
}

static gboolean
idle_tick (gpointer data)
{
        IdleCheck *c = data;
        gboolean paused;
        guint64 now = atrium_body_pipe_progress (c->pipe, &paused);
        if (paused || now != c->last) {
                c->last = now;
                return G_SOURCE_CONTINUE;
        }
        atrium_listener_cut (c->msg);
        atrium_body_pipe_close (c->pipe, "no data within the body timeout");
        return G_SOURCE_REMOVE;
}

void
atrium_server_stream_arm_idle_timer (Front *f, SoupServerMessage *msg, Job *job)
{
        Server *s = f->server;
        IdleCheck *c = g_new0 (IdleCheck, 1);
        c->msg = msg;
        c->pipe = atrium_body_pipe_ref (job->pipe);
        GSource *src = g_timeout_source_new_seconds (s->core->config->body_timeout);
        g_source_set_callback (src, idle_tick, c, idle_check_free);
        g_source_attach (src, f->context);
        atrium_server_set_timer (msg, src);
}

/* ---- out ---- */

typedef struct {
        SoupServerMessage *msg; /* weak: the writer lives in the message's data */
        GInputStream *stream;
        goffset remaining;
        GCancellable *cancel;
        gboolean reading;
        guint queued;  /* chunks appended and not yet written: at most two */
        gboolean done; /* the message finished (or the client went away) */
        guint64 written, seen; /* chunks written in all; as of the last stall check */
        GSource *stall;        /* (owned) checks that the client keeps reading */
} Writer;

/* A client that stops reading a download (its app hung, its network is gone without a reset)
 * would hold the connection for as long as TCP retries. Every body_timeout seconds: a chunk
 * waits for the socket and none was written since the last check → cut the connection. Our
 * own slow reads of the file do not count (nothing is queued then). */
static gboolean
stall_check (gpointer data)
{
        Writer *w = data;
        if (w->done)
                return G_SOURCE_CONTINUE; /* writer_free() removes this source */
        if (w->queued > 0 && w->written == w->seen) {
                atrium_listener_cut (w->msg);
                return G_SOURCE_CONTINUE;
        }
        w->seen = w->written;
        return G_SOURCE_CONTINUE;
}

static void
writer_free (gpointer data)
{
        Writer *w = data;
        if (w->stall) {
                g_source_destroy (w->stall);
                g_source_unref (w->stall);
        }
        g_cancellable_cancel (w->cancel);
        g_object_unref (w->cancel);
        g_input_stream_close (w->stream, NULL, NULL);
        g_object_unref (w->stream);
        g_free (w);
}


static void read_next (Writer *w);

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
        SoupServerMessage *msg = data; /* a reference held while the read runs */
        g_autoptr (GError) error = NULL;
        g_autoptr (GBytes) bytes =
                g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
        Writer *w = atrium_msg_state (msg)->writer;
        if (!w || w->done || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                g_object_unref (msg);
                return;
        }
        w->reading = FALSE;
        if (!bytes || g_bytes_get_size (bytes) == 0) {
                /* The length was promised in the headers: the only honest end is to cut the
                 * connection, so the client sees a short body instead of a wrong one. */
                g_warning ("response body ended early: %s",
                           error ? error->message : "end of stream");
                atrium_listener_cut (msg);
                g_object_unref (msg);
                return;
        }
        w->remaining -= (goffset) g_bytes_get_size (bytes);
        w->queued++;
        SoupMessageBody *body = soup_server_message_get_response_body (msg);
        soup_message_body_append_bytes (body, bytes);
        if (w->remaining <= 0)
                soup_message_body_complete (body);
        soup_server_message_unpause (msg);
        read_next (w); /* one chunk ahead of the socket */
        g_object_unref (msg);
}

static void
read_next (Writer *w)
{
        if (w->reading || w->done || w->remaining <= 0 || w->queued >= 2)
                return;
        w->reading = TRUE;
        g_input_stream_read_bytes_async (w->stream, (gsize) MIN ((goffset) CHUNK_OUT, w->remaining),
                                         G_PRIORITY_DEFAULT, w->cancel, on_read,
                                         g_object_ref (w->msg));
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer data)
{
        (void) data;
        Writer *w = atrium_msg_state (msg)->writer;
        if (w) {
                w->queued--;
                w->written++;
                read_next (w);
        }
}

static void
on_finished (SoupServerMessage *msg, gpointer data)
{
        (void) data;
        Writer *w = atrium_msg_state (msg)->writer;
        if (w) {
                w->done = TRUE;
                g_cancellable_cancel (w->cancel);
        }
}

void
atrium_server_respond_stream (SoupServerMessage *msg, GInputStream *stream, goffset length,
                              guint stall_seconds)
{
        SoupMessageHeaders *rh = soup_server_message_get_response_headers (msg);
        soup_message_headers_set_content_length (rh, length);
        SoupMessageBody *body = soup_server_message_get_response_body (msg);
        if (length <= 0 || soup_server_message_get_method (msg) == SOUP_METHOD_HEAD) {
                g_input_stream_close (stream, NULL, NULL);
                g_object_unref (stream);
                soup_message_body_complete (body);
                return;
        }
        soup_message_body_set_accumulate (body, FALSE);
        Writer *w = g_new0 (Writer, 1);
        w->msg = msg;
        w->stream = stream;
        w->remaining = length;
        w->cancel = g_cancellable_new ();
        MsgState *st = atrium_msg_state (msg);
        st->writer = w;
        st->writer_free = writer_free;
        g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), NULL);
        g_signal_connect (msg, "finished", G_CALLBACK (on_finished), NULL);
        w->stall = g_timeout_source_new_seconds (stall_seconds);
        g_source_set_callback (w->stall, stall_check, w, NULL);
        g_source_attach (w->stall, g_main_context_get_thread_default ());
        read_next (w);
}
