/* SPDX-License-Identifier: Apache-2.0 */
/* http-private.h - the HTTP side of the host: atrium_serve() (serve.c) for main.c, and what
 * serve.c, server.c and server-stream.c share: the server, one request's job and the
 * streaming halves (request bodies in, response bodies out). A message's front thread only,
 * except where a comment says otherwise. The accept loop and connections are
 * listener-private.h and connection-private.h, the bounded body pipe body-pipe-private.h. */
#pragma once

#include <libsoup/soup.h>

#include "body-pipe-private.h"
#include "core-private.h"
#include "listener-private.h"

/* serve.c: serves until SIGTERM/SIGINT and the drain; the exit status. */
int atrium_serve (AtriumCore *core);

typedef struct _Server Server;

/* One listening front: a thread with its own main context and SoupServer, accepting on the
 * shared listening socket (serve.c). Front 0 runs on the
 * main thread, which also handles signals and plugin timers. Everything of a connection
 * happens on its front's thread; workers hand answers back to it. */
typedef struct {
        Server *server;
        guint index;
        GThread *thread; /* NULL for front 0 */
        GMainContext *context;
        GMainLoop *loop;
        SoupServer *soup;
        AtriumListener *listener; /* accepts connections, keeps their deadlines */
} Front;

struct _Server {
        AtriumCore *core;
        GPtrArray *fronts;   /* Front*; [0] is the main thread's */
        GThreadPool *workers;
        GThreadPool *slow;   /* ATRIUM_ROUTE_SLOW: password hashing must not starve the rest */
        GThreadPool *stream; /* ATRIUM_ROUTE_STREAM_BODY: handlers that wait for a client */
        GThreadPool *outside; /* ATRIUM_ROUTE_OUTSIDE: handlers that wait on another server */
        gint in_flight;      /* (atomic) requests between request-read (or stream start) and
                              * finished, over all fronts */
        gint draining;       /* (atomic) */
        guint drain_timer;   /* main thread */
        /* start-up of fronts 1..n */
        GMutex lock;
        GCond cond;
        guint starting;
        GError *start_error;
};

typedef struct {
        Server *server;
        Front *front; /* the front whose thread answers */
        SoupServerMessage *msg;
        AtriumRequest *req;
        gint64 started;
        AtriumBodyPipe *pipe; /* (nullable) streamed request body */
        gboolean msg_gone;    /* the client went away before the answer */
        int fd;               /* the connection's socket, for a peek from the worker (-1) */
        gboolean abandoned;   /* the client left before a worker took the request */
        gboolean inline_;     /* answered on the main loop, never paused (NO_DB routes) */
} Job;

/* What the host keeps about one message from request-started to its end: one qdata entry
 * with a static quark, instead of a string-keyed entry per item (g_object_set_data interns
 * its key under GLib's global quark lock, on every front at once). */
typedef struct {
        Job *stream_job;   /* (nullable) a streaming route's running job */
        gboolean counted;  /* counted in Server.in_flight */
        GByteArray *body;  /* (nullable) the buffered body so far */
        gboolean too_large;
        const AtriumRouteEntry *route; /* (nullable) matched already (early handler) */
        GHashTable *params;            /* (nullable) (owned) its path parameters */
        GSource *timer;    /* (nullable) (owned) a streamed body's idle check */
        gpointer writer;   /* (nullable) respond_stream's writer (server-stream.c) */
        GDestroyNotify writer_free;
} MsgState;

/* @msg's state, made on first use. (transfer none) */
MsgState *atrium_msg_state (SoupServerMessage *msg);

/* server.c */
void atrium_server_connect (Front *f);
void atrium_server_work (gpointer job, gpointer server);
/* Replaces the message's timer (a streamed body's idle check) with @src (transfer full). */
void atrium_server_set_timer (SoupServerMessage *msg, GSource *src);

/* server-stream.c */
/* Starts the job of a streaming route as soon as the headers are in (early handler). */
void atrium_server_stream_start (Front *f, SoupServerMessage *msg, Job *job);
/* got-headers of a streaming request: a timer that fires only when the body stalls. */
void atrium_server_stream_arm_idle_timer (Front *f, SoupServerMessage *msg, Job *job);
/* Sets up @msg's response body to come from @stream, @length bytes, read as it is written; a
 * client that reads nothing for @stall_seconds while a chunk waits is cut off. */
void atrium_server_respond_stream (SoupServerMessage *msg, GInputStream *stream, goffset length,
                                   guint stall_seconds);

/* serve.c */
/* The last request of a draining host finished (any front's thread). */
void atrium_server_maybe_drained (Server *s);
