/* SPDX-License-Identifier: Apache-2.0 */
/* connection.c - the GIOStream each client connection is to SoupServer.
 *
 * Why it exists. libsoup 3.2.3 (Debian 12) never notices that a client closed an idle
 * keep-alive connection. After a response it creates the next message and waits for the
 * socket to become readable; when the client has closed, the read returns end-of-stream
 * before any byte of a request, and libsoup's HTTP/1 reader then finishes that message
 * without a completion callback (the callback is only attached once the first byte of a
 * request was read), so nothing ever calls soup_server_connection_disconnect(): the socket
 * stays in CLOSE-WAIT, its descriptor and its objects are never freed. Upstream fixed this in
 * 3.3.0 (commit d20c6601). A host leaked one descriptor per browser connection and stopped
 * answering after about a thousand.
 *
 * The fix, on the libsoup we have: every connection SoupServer reads is this stream, whose
 * input watches for exactly that moment. Between requests (set by the server when a
 * response is complete), an end-of-stream or a read error is answered with one empty line
 * followed by "connection closed" on the next read. RFC 9112 section 2.2 has servers ignore an
 * empty line before a request line, so the blank line says nothing; what it does is count as
 * the start of a request, which makes libsoup attach its completion callback, and the error
 * that follows ends that "request" the ordinary way: libsoup disconnects, closes this stream
 * and frees the connection. Nothing is written to the socket. A host that wants to end an
 * idle connection (the keep-alive limit) shuts the socket down and lets the same path close
 * it. With a libsoup that has the upstream fix, the path is the same (the blank line starts
 * a request, the error aborts it).
 *
 * The same path lets a connection leave SoupServer without being closed (park.c says why):
 * atrium_conn_park() keeps a duplicate of the socket's descriptor and wakes SoupServer's
 * read, which gets the blank line and then "connection closed"; SoupServer closes this
 * stream, which closes its descriptor while the duplicate keeps the connection open for the
 * owner to take (atrium_conn_steal_park_fd). Only a connection that has read nothing since its
 * last answer (or since it was accepted) is parked, so no byte of a request is lost. The
 * reverse way in: bytes the park read before SoupServer had the connection are given back
 * first (atrium_conn_set_prefix), then reads go to the socket.
 *
 * Output goes to the socket connection's own stream; the head of an answer whose body follows
 * at once is held and sent with it in one system call (atrium_conn_cork_next). */
#include "connection-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the input side ---- */

#define ATRIUM_TYPE_CONN_INPUT (atrium_conn_input_get_type ())
G_DECLARE_FINAL_TYPE (AtriumConnInput, atrium_conn_input, ATRIUM, CONN_INPUT, GInputStream)
#define ATRIUM_TYPE_CONN_OUTPUT (atrium_conn_output_get_type ())
G_DECLARE_FINAL_TYPE (AtriumConnOutput, atrium_conn_output, ATRIUM, CONN_OUTPUT, GOutputStream)

typedef enum {
        SYNTH_NONE, /* reads pass through */
        SYNTH_GONE, /* the blank line was given: the next read fails */
} SynthState;

struct _AtriumConnInput {
        GInputStream parent_instance;
        GInputStream *base; /* the socket connection's input (pollable) */
        AtriumConn *conn;   /* (unowned) the owner; cleared when it goes */
        GBytes *prefix;     /* (nullable) read before SoupServer had the connection */
        gsize prefix_off;   /* how much of @prefix was read */
        GSource *waiting;   /* (nullable) the child of the last socket source SoupServer waits
                             * on, when it could not wait through the front's watch */
        AtriumWatched watched; /* the socket in the front's watch (conn-watch.c) */
};

struct _AtriumConn {
        GIOStream parent_instance;
        GSocketConnection *base;
        AtriumConnInput *input;
        AtriumConnOutput *output;
        GSocketAddress *remote;
        gboolean between_requests;
        gboolean fresh; /* nothing read since accepted */
        int park_fd;    /* -1, or the duplicate kept while the connection is parked */
        SynthState synth;
        gboolean closed;
        AtriumConnClosedFunc closed_func;
        gpointer closed_data;
        AtriumConnTimer timer;
        AtriumConnWatch *watch; /* (nullable) the front's */
};

static void atrium_conn_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AtriumConnInput, atrium_conn_input, G_TYPE_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, atrium_conn_input_pollable_init))

/* What a read of the socket means for the reader, given @n and @error from the socket. */
static gssize
filter_read (AtriumConnInput *in, gssize n, void *buffer, gsize count, GError **error)
{
        AtriumConn *conn = in->conn;
        if (n > 0) {
                if (conn)
                        conn->between_requests = conn->fresh = FALSE;
                return n;
        }
        gboolean would_block = n < 0 && error && *error
            && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
        if (!conn || would_block || !conn->between_requests || count == 0)
                return n;
        /* The client went away (or the host cut the connection) between two requests. */
        g_clear_error (error);
        conn->between_requests = FALSE;
        conn->synth = SYNTH_GONE;
        ((char *)buffer)[0] = '\n';
        return 1;
}

static gboolean
gone (AtriumConnInput *in, GError **error)
{
        if (!in->conn || in->conn->synth != SYNTH_GONE)
                return FALSE;
        g_set_error_literal (
            error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the client closed the connection");
        return TRUE;
}

/* Reads that need not touch the socket: the prefix, and the blank line that starts a park.
 * Returns the count, or 0 when the socket has to be read. */
static gssize
read_held (AtriumConnInput *in, void *buffer, gsize count)
{
        AtriumConn *conn = in->conn;
        if (count == 0)
                return 0;
        if (in->prefix) {
                gsize size;
                const guint8 *data = g_bytes_get_data (in->prefix, &size);
                gsize n = MIN (count, size - in->prefix_off);
                memcpy (buffer, data + in->prefix_off, n);
                in->prefix_off += n;
                if (in->prefix_off == size)
                        g_clear_pointer (&in->prefix, g_bytes_unref);
                if (conn)
                        conn->between_requests = conn->fresh = FALSE;
                return (gssize) n;
        }
        if (conn && conn->park_fd >= 0 && conn->synth == SYNTH_NONE) {
                conn->between_requests = FALSE;
                conn->synth = SYNTH_GONE;
                ((char *) buffer)[0] = '\n';
                return 1;
        }
        return 0;
}

static gssize
input_read (
    GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (gone (in, error))
                return -1;
        gssize held = read_held (in, buffer, count);
        if (held > 0)
                return held;
        GError *local = NULL;
        gssize n = g_input_stream_read (in->base, buffer, count, cancellable, &local);
        n = filter_read (in, n, buffer, count, &local);
        if (local)
                g_propagate_error (error, local);
        return n;
}

static gboolean
input_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
        /* The socket belongs to the connection; it closes with the GIOStream. */
        (void)stream;
        (void)cancellable;
        (void)error;
        return TRUE;
}

static gboolean
input_can_poll (GPollableInputStream *stream)
{
        (void)stream;
        return TRUE;
}

/* Is there something to read without the socket: the prefix, the failure, a park's start? */
static gboolean
held_ready (AtriumConnInput *in)
{
        return in->prefix ||
               (in->conn && (in->conn->synth == SYNTH_GONE || in->conn->park_fd >= 0));
}

static gboolean
input_is_readable (GPollableInputStream *stream)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (held_ready (in))
                return TRUE;
        return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (in->base));
}

/* ---- waiting through the front's watch (conn-watch.c) ---- */

/* The innermost source of a wait: no descriptor, ready when the watch reported the socket or
 * bytes are held. Always a child of a GPollableSource, whose dispatch calls back. */
typedef struct {
        GSource source;
        AtriumConnInput *in; /* (owned) */
} WaitSource;

static gboolean
wait_ready (AtriumConnInput *in)
{
        return in->watched.ready || held_ready (in);
}

static gboolean
wait_prepare (GSource *source, gint *timeout)
{
        *timeout = -1;
        return wait_ready (((WaitSource *) source)->in);
}

static gboolean
wait_check (GSource *source)
{
        return wait_ready (((WaitSource *) source)->in);
}

static gboolean
wait_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
        /* A child: the parent's dispatch is the one that calls SoupServer back. */
        (void) source;
        (void) callback;
        (void) data;
        return G_SOURCE_CONTINUE;
}

static void
wait_finalize (GSource *source)
{
        g_object_unref (((WaitSource *) source)->in);
}

/* g_pollable_source_new_full() gives its child a dummy callback, which GLib only allows on
 * sources that have one of these; wait_dispatch never calls it. */
static gboolean
wait_closure_callback (gpointer data)
{
        (void) data;
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs wait_funcs = {
        .prepare = wait_prepare,
        .check = wait_check,
        .dispatch = wait_dispatch,
        .finalize = wait_finalize,
        .closure_callback = wait_closure_callback,
};

/* Makes sure the watch will report the socket; FALSE when it cannot. */
static gboolean
watch_armed (AtriumConnInput *in)
{
        AtriumConn *conn = in->conn;
        if (!conn || !conn->watch || conn->closed)
                return FALSE;
        if (in->watched.armed || held_ready (in))
                return TRUE;
        return atrium_conn_watch_arm (conn->watch, &in->watched);
}

static GSource *
input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        g_autoptr (GSource) child = NULL;
        if (watch_armed (in)) {
                child = g_source_new (&wait_funcs, sizeof (WaitSource));
                ((WaitSource *) child)->in = g_object_ref (in);
                g_source_set_static_name (child, "atrium-conn-wait");
                return g_pollable_source_new_full (stream, child, cancellable);
        }
        if (held_ready (in))
                child = g_timeout_source_new (0); /* held bytes or the failure: ready now */
        else
                child = g_pollable_input_stream_create_source (
                    G_POLLABLE_INPUT_STREAM (in->base), NULL);
        /* atrium_conn_park() wakes the reader through it (a ready child makes its parent
         * ready; the parent would hold this stream: a cycle) */
        g_clear_pointer (&in->waiting, g_source_unref);
        in->waiting = g_source_ref (child);
        return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (gone (in, error))
                return -1;
        gssize held = read_held (in, buffer, count);
        if (held > 0)
                return held;
        GError *local = NULL;
        gssize n = g_pollable_input_stream_read_nonblocking (
            G_POLLABLE_INPUT_STREAM (in->base), buffer, count, NULL, &local);
        if (n < 0 && in->watched.ready &&
            g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                watch_armed (in); /* drained: the report is used up */
        n = filter_read (in, n, buffer, count, &local);
        if (local)
                g_propagate_error (error, local);
        return n;
}

static void
atrium_conn_input_finalize (GObject *object)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (object);
        g_clear_object (&in->base);
        g_clear_pointer (&in->prefix, g_bytes_unref);
        g_clear_pointer (&in->waiting, g_source_unref);
        G_OBJECT_CLASS (atrium_conn_input_parent_class)->finalize (object);
}

static void
atrium_conn_input_class_init (AtriumConnInputClass *klass)
{
        G_OBJECT_CLASS (klass)->finalize = atrium_conn_input_finalize;
        GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);
        stream_class->read_fn = input_read;
        stream_class->close_fn = input_close;
}

static void
atrium_conn_input_pollable_init (GPollableInputStreamInterface *iface)
{
        iface->can_poll = input_can_poll;
        iface->is_readable = input_is_readable;
        iface->create_source = input_create_source;
        iface->read_nonblocking = input_read_nonblocking;
}

static void
atrium_conn_input_init (AtriumConnInput *in)
{
        (void)in;
}

/* ---- the output side ---- */

/* Writes go to the socket connection's own stream, but for one case: the head of an answer
 * whose whole body follows at once (atrium_conn_cork_next()) is held here and leaves with the
 * start of the body in one sendmsg(): one system call and one segment per answer, not two. */

struct _AtriumConnOutput {
        GOutputStream parent_instance;
        GOutputStream *base; /* the socket connection's output (pollable) */
        int fd;
        gboolean cork_next; /* the next write is an answer's head, its body right behind */
        GByteArray *held;   /* (nullable) the head not sent yet, from held_off on */
        gsize held_off;
};

static gsize
held_left (const AtriumConnOutput *out)
{
        return out->held ? out->held->len - out->held_off : 0;
}

static void
held_consumed (AtriumConnOutput *out, gsize n)
{
        out->held_off += n;
        if (out->held_off >= out->held->len) {
                g_byte_array_set_size (out->held, 0);
                out->held_off = 0;
        }
}

static gssize
send_iov (AtriumConnOutput *out, struct iovec *iov, int n_iov, GError **error)
{
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = n_iov};
        ssize_t n;
        do
                n = sendmsg (out->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int err = errno;
                g_set_error_literal (error, G_IO_ERROR,
                                     err == EAGAIN || err == EWOULDBLOCK
                                             ? G_IO_ERROR_WOULD_BLOCK
                                             : g_io_error_from_errno (err),
                                     g_strerror (err));
        }
        return n;
}

/* Sends what is held without anything behind it (libsoup did not write the body after all):
 * an answer must not wait here once it is complete. A head the socket cannot take at once
 * (its buffer full, which a complete previous answer makes unlikely) is not waited for on the
 * front: the connection is shut down instead, and libsoup closes it. */
static void
output_push_held (AtriumConnOutput *out)
{
        gsize left = held_left (out);
        if (!left)
                return;
        struct iovec iov = {out->held->data + out->held_off, left};
        gssize n = send_iov (out, &iov, 1, NULL);
        if (n == (gssize) left) {
                held_consumed (out, left);
                return;
        }
        g_debug ("an answer's head could not be sent at once: closing its connection");
        g_byte_array_set_size (out->held, 0);
        out->held_off = 0;
        shutdown (out->fd, SHUT_RDWR);
}

static void atrium_conn_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AtriumConnOutput, atrium_conn_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      atrium_conn_output_pollable_init))

static gssize
output_write (GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable,
              GError **error)
{
        AtriumConnOutput *out = ATRIUM_CONN_OUTPUT (stream);
        out->cork_next = FALSE;
        gsize left = held_left (out);
        if (left) {
                gsize written = 0;
                gboolean ok = g_output_stream_write_all (out->base, out->held->data + out->held_off,
                                                         left, &written, cancellable, error);
                held_consumed (out, written);
                if (!ok)
                        return -1;
        }
        return g_output_stream_write (out->base, buffer, count, cancellable, error);
}

static gboolean
output_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
        /* The socket belongs to the connection; it closes with the GIOStream. */
        (void) stream;
        (void) cancellable;
        (void) error;
        return TRUE;
}

static gboolean
output_can_poll (GPollableOutputStream *stream)
{
        (void) stream;
        return TRUE;
}

static gboolean
output_is_writable (GPollableOutputStream *stream)
{
        return g_pollable_output_stream_is_writable (
                G_POLLABLE_OUTPUT_STREAM (ATRIUM_CONN_OUTPUT (stream)->base));
}

static GSource *
output_create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
        AtriumConnOutput *out = ATRIUM_CONN_OUTPUT (stream);
        g_autoptr (GSource) child =
                g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (out->base), NULL);
        return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
output_write_nonblocking (GPollableOutputStream *stream, const void *buffer, gsize count,
                          GError **error)
{
        AtriumConnOutput *out = ATRIUM_CONN_OUTPUT (stream);
        if (out->cork_next) {
                /* The head: taken whole, sent with the body's first write. */
                out->cork_next = FALSE;
                if (!out->held)
                        out->held = g_byte_array_new ();
                g_byte_array_append (out->held, buffer, count);
                return count;
        }
        gsize left = held_left (out);
        if (!left)
                return g_pollable_output_stream_write_nonblocking (
                        G_POLLABLE_OUTPUT_STREAM (out->base), buffer, count, NULL, error);
        struct iovec iov[2] = {{out->held->data + out->held_off, left}, {(void *) buffer, count}};
        gssize n = send_iov (out, iov, 2, error);
        if (n < 0)
                return -1;
        if ((gsize) n <= left) {
                /* Not past the head: nothing of this write went, try it again when writable. */
                held_consumed (out, n);
                g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                                     "the answer's head is still being sent");
                return -1;
        }
        held_consumed (out, left);
        return n - left;
}

static void
atrium_conn_output_finalize (GObject *object)
{
        g_clear_object (&ATRIUM_CONN_OUTPUT (object)->base);
        g_clear_pointer (&ATRIUM_CONN_OUTPUT (object)->held, g_byte_array_unref);
        G_OBJECT_CLASS (atrium_conn_output_parent_class)->finalize (object);
}

static void
atrium_conn_output_class_init (AtriumConnOutputClass *klass)
{
        G_OBJECT_CLASS (klass)->finalize = atrium_conn_output_finalize;
        GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);
        stream_class->write_fn = output_write;
        stream_class->close_fn = output_close;
}

static void
atrium_conn_output_pollable_init (GPollableOutputStreamInterface *iface)
{
        iface->can_poll = output_can_poll;
        iface->is_writable = output_is_writable;
        iface->create_source = output_create_source;
        iface->write_nonblocking = output_write_nonblocking;
}

static void
atrium_conn_output_init (AtriumConnOutput *out)
{
        out->fd = -1;
}

/* ---- the connection ---- */

G_DEFINE_FINAL_TYPE (AtriumConn, atrium_conn, G_TYPE_IO_STREAM)

static GQuark
address_quark (void)
{
        static GQuark q;
        if (G_UNLIKELY (!q))
                q = g_quark_from_static_string ("atrium-conn");
        return q;
}

static GInputStream *
conn_get_input_stream (GIOStream *stream)
{
        return G_INPUT_STREAM (ATRIUM_CONN (stream)->input);
}

static GOutputStream *
conn_get_output_stream (GIOStream *stream)
{
        return G_OUTPUT_STREAM (ATRIUM_CONN (stream)->output);
}

static void
mark_closed (AtriumConn *conn)
{
        if (conn->closed)
                return;
        conn->closed = TRUE;
        if (conn->closed_func)
                conn->closed_func (conn, conn->closed_data);
}

/* Out of the watch before the descriptor closes: a duplicate (a park's) would keep it there. */
static void
leave_watch (AtriumConn *conn)
{
        if (conn->watch)
                atrium_conn_watch_forget (conn->watch, &conn->input->watched);
}

static gboolean
conn_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
        AtriumConn *conn = ATRIUM_CONN (stream);
        leave_watch (conn);
        gboolean ok = g_io_stream_close (G_IO_STREAM (conn->base), cancellable, error);
        mark_closed (conn);
        return ok;
}

static void
atrium_conn_dispose (GObject *object)
{
        AtriumConn *conn = ATRIUM_CONN (object);
        if (!conn->closed) {
                leave_watch (conn);
                g_io_stream_close (G_IO_STREAM (conn->base), NULL, NULL);
                mark_closed (conn);
        }
        G_OBJECT_CLASS (atrium_conn_parent_class)->dispose (object);
}

static void
atrium_conn_finalize (GObject *object)
{
        AtriumConn *conn = ATRIUM_CONN (object);
        if (conn->input) {
                conn->input->conn = NULL;
                g_object_unref (conn->input);
        }
        g_clear_object (&conn->output);
        if (conn->remote) {
                g_object_set_qdata (G_OBJECT (conn->remote), address_quark (), NULL);
                g_object_unref (conn->remote);
        }
        g_clear_object (&conn->base);
        g_clear_pointer (&conn->watch, atrium_conn_watch_unref);
        if (conn->park_fd >= 0) /* parked, but nobody took it */
                close (conn->park_fd);
        G_OBJECT_CLASS (atrium_conn_parent_class)->finalize (object);
}

static void
atrium_conn_class_init (AtriumConnClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS (klass);
        object_class->dispose = atrium_conn_dispose;
        object_class->finalize = atrium_conn_finalize;
        GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);
        stream_class->get_input_stream = conn_get_input_stream;
        stream_class->get_output_stream = conn_get_output_stream;
        stream_class->close_fn = conn_close;
}

static void
atrium_conn_init (AtriumConn *conn)
{
        conn->timer.link.data = conn;
        conn->fresh = TRUE;
        conn->park_fd = -1;
}

AtriumConn *
atrium_conn_new (GSocket *socket, GSocketAddress *remote, AtriumConnWatch *watch,
                 AtriumConnClosedFunc closed, gpointer data)
{
        g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
        g_return_val_if_fail (G_IS_SOCKET_ADDRESS (remote), NULL);
        AtriumConn *conn = g_object_new (ATRIUM_TYPE_CONN, NULL);
        conn->base = g_socket_connection_factory_create_connection (socket);
        g_object_unref (socket); /* the connection holds it now */
        conn->remote = g_object_ref (remote);
        g_object_set_qdata (G_OBJECT (remote), address_quark (), conn);
        conn->closed_func = closed;
        conn->closed_data = data;
        /* The input may outlive the connection (libsoup's buffered stream holds it): it
         * forgets its owner when the owner goes. */
        conn->input = g_object_new (ATRIUM_TYPE_CONN_INPUT, NULL);
        conn->input->base = g_object_ref (g_io_stream_get_input_stream (G_IO_STREAM (conn->base)));
        conn->input->conn = conn;
        conn->input->watched.fd = atrium_conn_get_fd (conn);
        conn->output = g_object_new (ATRIUM_TYPE_CONN_OUTPUT, NULL);
        conn->output->base =
                g_object_ref (g_io_stream_get_output_stream (G_IO_STREAM (conn->base)));
        conn->output->fd = atrium_conn_get_fd (conn);
        conn->watch = watch ? atrium_conn_watch_ref (watch) : NULL;
        return conn;
}

AtriumConn *
atrium_conn_from_address (GSocketAddress *remote)
{
        return remote ? g_object_get_qdata (G_OBJECT (remote), address_quark ()) : NULL;
}

GSocketAddress *
atrium_conn_get_remote_address (AtriumConn *conn)
{
        return conn->remote;
}

void
atrium_conn_set_between_requests (AtriumConn *conn, gboolean between)
{
        conn->between_requests = between;
        /* An answer is complete: nothing of it may wait here any longer (a head held for a
         * body libsoup did not write after all). */
        if (between)
                output_push_held (conn->output);
}

void
atrium_conn_shutdown (AtriumConn *conn)
{
        if (conn->closed)
                return;
        g_socket_shutdown (g_socket_connection_get_socket (conn->base), TRUE, TRUE, NULL);
}

int
atrium_conn_get_fd (AtriumConn *conn)
{
        return g_socket_get_fd (g_socket_connection_get_socket (conn->base));
}

gboolean
atrium_conn_is_closed (AtriumConn *conn)
{
        return conn->closed;
}

void
atrium_conn_forget_owner (AtriumConn *conn)
{
        conn->closed_func = NULL;
        conn->closed_data = NULL;
}

void
atrium_conn_set_prefix (AtriumConn *conn, GBytes *bytes)
{
        g_clear_pointer (&conn->input->prefix, g_bytes_unref);
        conn->input->prefix_off = 0;
        if (bytes && g_bytes_get_size (bytes) > 0)
                conn->input->prefix = g_bytes_ref (bytes);
}

gboolean
atrium_conn_park (AtriumConn *conn)
{
        if (conn->closed || conn->park_fd >= 0 || conn->synth != SYNTH_NONE ||
            conn->input->prefix || !(conn->between_requests || conn->fresh))
                return FALSE;
        int fd = fcntl (atrium_conn_get_fd (conn), F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
                return FALSE; /* out of descriptors: it stays where it is */
        conn->park_fd = fd;
        GSource *waiting = conn->input->waiting;
        if (waiting && !g_source_is_destroyed (waiting))
                g_source_set_ready_time (waiting, 0);
        return TRUE;
}

int
atrium_conn_steal_park_fd (AtriumConn *conn)
{
        if (!conn->closed)
                return -1;
        int fd = conn->park_fd;
        conn->park_fd = -1;
        return fd;
}

void
atrium_conn_cork_next (AtriumConn *conn)
{
        conn->output->cork_next = !conn->closed;
}

AtriumConnTimer *
atrium_conn_timer (AtriumConn *conn)
{
        return &conn->timer;
}
