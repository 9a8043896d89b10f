/* SPDX-License-Identifier: Apache-2.0 */
/* connection-private.h - one accepted client connection: the GIOStream that atriumd hands to
 * SoupServer (soup_server_accept_iostream) instead of letting libsoup accept sockets itself.
 * It exists for one reason, explained in connection.c: libsoup 3.2 never notices that a
 * keep-alive client closed its end, and this stream makes it notice. Its front's thread only. */
#pragma once

#include "conn-watch-private.h"

#include <gio/gio.h>

#define ATRIUM_TYPE_CONN (atrium_conn_get_type ())
G_DECLARE_FINAL_TYPE (AtriumConn, atrium_conn, ATRIUM, CONN, GIOStream)

/* Called once, when the connection's socket is closed (by libsoup, or at finalisation). */
typedef void (*AtriumConnClosedFunc) (AtriumConn *conn, gpointer data);

/* Wraps @socket (transfer full: connected, non-blocking) whose peer is @remote (transfer
 * none; the connection keeps a reference and marks it, see atrium_conn_from_address()).
 * SoupServer's reads wait through @watch (nullable: then on a socket source each). */
AtriumConn *atrium_conn_new (GSocket *socket, GSocketAddress *remote, AtriumConnWatch *watch,
                             AtriumConnClosedFunc closed, gpointer data);

/* The connection whose peer address is @remote: SoupServer gives every message the address
 * the connection was accepted with, which is how a message finds its connection.
 * Returns: (transfer none) (nullable). */
AtriumConn *atrium_conn_from_address (GSocketAddress *remote);

GSocketAddress *atrium_conn_get_remote_address (AtriumConn *conn); /* (transfer none) */

/* A response is complete and nothing of the next request has arrived: from now until the
 * first byte of the next request, a client that closes (or a shutdown by the host) ends the
 * connection. Cleared by the first byte read. */
void atrium_conn_set_between_requests (AtriumConn *conn, gboolean between);

/* Cuts the connection (both directions). libsoup then reads end-of-stream and closes it. */
void atrium_conn_shutdown (AtriumConn *conn);

gboolean atrium_conn_is_closed (AtriumConn *conn);

/* The socket's descriptor (for a peek from a worker while the connection's message is
 * paused; nothing else may use it). */
int atrium_conn_get_fd (AtriumConn *conn);

/* The owner goes first: no closed callback after this. */
void atrium_conn_forget_owner (AtriumConn *conn);

/* Bytes read from the socket before SoupServer had it: reads return them first. */
void atrium_conn_set_prefix (AtriumConn *conn, GBytes *bytes);

/* Starts taking a connection that has read nothing since its last answer (or its accept) out
 * of SoupServer without closing it: SoupServer closes this stream soon after, and the closed
 * callback can then take the still open descriptor (atrium_conn_steal_park_fd). FALSE when
 * the connection is not idle, already leaving, or no descriptor is left. */
gboolean atrium_conn_park (AtriumConn *conn);

/* After the connection closed: the descriptor atrium_conn_park() kept open, or -1. The
 * caller owns it. */
int atrium_conn_steal_park_fd (AtriumConn *conn);

/* The next write is the head of an answer whose whole body libsoup writes right after it (a
 * body that is complete, not empty, not HEAD, not 204/304): the head is held and leaves with the
 * body in one sendmsg(), one system call and one segment. Never for an answer without a body:
 * the head would wait until the answer is complete (atrium_conn_set_between_requests). */
void atrium_conn_cork_next (AtriumConn *conn);

/* The connection's place in its owner's timer queues (listener.c); the owner's to use. */
typedef struct {
        GList link;      /* data: the connection */
        GQueue *queue;   /* (nullable) the queue the link is in */
        gint64 deadline; /* monotonic microseconds */
} AtriumConnTimer;

AtriumConnTimer *atrium_conn_timer (AtriumConn *conn);
