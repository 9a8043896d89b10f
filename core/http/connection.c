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
 * Output goes straight to the socket connection's own stream. */
#include "connection-private.h"

#include <string.h>

/* ---- the input side ---- */

#define ATRIUM_TYPE_CONN_INPUT (atrium_conn_input_get_type ())
G_DECLARE_FINAL_TYPE (AtriumConnInput, atrium_conn_input, ATRIUM, CONN_INPUT, GInputStream)

typedef enum {
        SYNTH_NONE, /* reads pass through */
        SYNTH_GONE, /* the blank line was given: the next read fails */
} SynthState;

struct _AtriumConnInput {
        GInputStream parent_instance;
        GInputStream *base; /* the socket connection's input (pollable) */
        AtriumConn *conn;   /* (unowned) the owner; cleared when it goes */
};

struct _AtriumConn {
        GIOStream parent_instance;
        GSocketConnection *base;
        AtriumConnInput *input;
        GSocketAddress *remote;
        gboolean between_requests;
        SynthState synth;
        gboolean closed;
        AtriumConnClosedFunc closed_func;
        gpointer closed_data;
        AtriumConnTimer timer;
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
                        conn->between_requests = FALSE;
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

static gssize
input_read (
    GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (gone (in, error))
                return -1;
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

static gboolean
input_is_readable (GPollableInputStream *stream)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (in->conn && in->conn->synth == SYNTH_GONE)
                return TRUE;
        return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (in->base));
}

static GSource *
input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        g_autoptr (GSource) child = NULL;
        if (in->conn && in->conn->synth == SYNTH_GONE)
                child = g_timeout_source_new (0); /* the failure is ready now */
        else
                child = g_pollable_input_stream_create_source (
                    G_POLLABLE_INPUT_STREAM (in->base), NULL);
        return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
        AtriumConnInput *in = ATRIUM_CONN_INPUT (stream);
        if (gone (in, error))
                return -1;
        GError *local = NULL;
        gssize n = g_pollable_input_stream_read_nonblocking (
            G_POLLABLE_INPUT_STREAM (in->base), buffer, count, NULL, &local);
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
        return g_io_stream_get_output_stream (G_IO_STREAM (ATRIUM_CONN (stream)->base));
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

static gboolean
conn_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
        AtriumConn *conn = ATRIUM_CONN (stream);
        gboolean ok = g_io_stream_close (G_IO_STREAM (conn->base), cancellable, error);
        mark_closed (conn);
        return ok;
}

static void
atrium_conn_dispose (GObject *object)
{
        AtriumConn *conn = ATRIUM_CONN (object);
        if (!conn->closed) {
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
        if (conn->remote) {
                g_object_set_qdata (G_OBJECT (conn->remote), address_quark (), NULL);
                g_object_unref (conn->remote);
        }
        g_clear_object (&conn->base);
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
}

AtriumConn *
atrium_conn_new (
    GSocket *socket, GSocketAddress *remote, AtriumConnClosedFunc closed, gpointer data)
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

AtriumConnTimer *
atrium_conn_timer (AtriumConn *conn)
{
        return &conn->timer;
}
