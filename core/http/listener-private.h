/* SPDX-License-Identifier: Apache-2.0 */
/* listener-private.h - atriumd's own accept loop in front of SoupServer: listening sockets,
 * the table of open client connections, their deadlines (one sweep a second instead of a
 * timer per request), and what happens when the process runs out of file descriptors.
 * One listener per front (serve.c); its front's thread only. */
#pragma once

#include <libsoup/soup.h>

#include "connection-private.h"
#include "core-private.h"

typedef struct _AtriumListener AtriumListener;

/* Deadlines a connection can be under; each has one fixed length (seconds). */
typedef enum {
        ATRIUM_DEADLINE_HEADERS, /* between requests and until a request's headers are in */
        ATRIUM_DEADLINE_BODY,    /* until a buffered request body is in */
        ATRIUM_N_DEADLINES,
} AtriumDeadline;

/* Accepted connections go to @soup (they are read on @context, the thread's default).
 * @seconds gives each deadline's length. */
AtriumListener *atrium_listener_new (SoupServer *soup, AtriumMetrics *metrics,
    const guint seconds[ATRIUM_N_DEADLINES], GError **error);

/* Binds and listens on @address (port 0 picks one); may be called more than once. */
gboolean atrium_listener_listen (AtriumListener *l, GSocketAddress *address, GError **error);

/* Accepts on @from's listening sockets too (another front, on its own thread: each waits for
 * connections on the same socket, and whichever thread is free takes the next one). */
gboolean atrium_listener_share (AtriumListener *l, AtriumListener *from, GError **error);

/* The address the first socket listens on (the port it got). (transfer none) (nullable) */
GSocketAddress *atrium_listener_address (AtriumListener *l);

/* The URIs listened on, for the start-up log. (transfer full) */
GStrv atrium_listener_uris (AtriumListener *l);

/* Closes the listening sockets (a draining host); open connections stay. */
void atrium_listener_stop_accepting (AtriumListener *l);

guint atrium_listener_n_connections (AtriumListener *l);

/* Frees what is left; call after soup_server_disconnect() closed the connections. */
void atrium_listener_free (AtriumListener *l);

/* The connection a message arrived on. (transfer none) (nullable) */
AtriumConn *atrium_listener_conn_of (SoupServerMessage *msg);

/* (Re)starts @deadline for @msg's connection; when it passes, the connection is cut. */
void atrium_listener_arm (AtriumListener *l, SoupServerMessage *msg, AtriumDeadline deadline);
/* No deadline for @msg's connection (a handler is working on it). */
void atrium_listener_disarm (AtriumListener *l, SoupServerMessage *msg);

/* @msg's response is complete: until the next request starts, its connection is idle under
 * the headers deadline, and a client that closes it ends it (connection.c). */
void atrium_listener_request_done (AtriumListener *l, SoupServerMessage *msg);

/* Cuts @msg's connection now (both directions). */
void atrium_listener_cut (SoupServerMessage *msg);
