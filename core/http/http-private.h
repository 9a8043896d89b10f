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
        /* By ATRIUM_POOL_*: WORKERS; SLOW for ATRIUM_ROUTE_SLOW (password hashing must not
         * starve the rest); STREAM for ATRIUM_ROUTE_STREAM_BODY handlers that wait for a
         * client; OUTSIDE for ATRIUM_ROUTE_OUTSIDE ones that wait on another server. */
        GThreadPool *pools[ATRIUM_POOLS];
        gint busy[ATRIUM_POOLS]; /* (atomic) jobs running on each */
        gint collecting;         /* (atomic) streamed bodies collected before a hand-off */
        gint in_flight;      /* (atomic) requests between request-read (or stream start) and
                              * finished, over all fronts */
        gint draining;       /* (atomic) */
        guint drain_timer;   /* main thread */
        /* start-up of fronts 1..n; and worked, under the same lock */
        GMutex lock;
        GCond cond;
        guint starting;
        GError *start_error;
        /* GThread* (a reference each): the threads of the kept pools (WORKERS, SLOW) that ran
         * a request. g_thread_pool_free() only tells them to stop; serve() joins them, so none
         * is still running thread-local destructors (libxml2's, a plugin's) when the plugins
         * stop and the process exits. */
        GPtrArray *worked;
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
        guint pool;           /* ATRIUM_POOL_* it was handed to */
        /* A streamed body (server-stream.c), front thread only: */
        gboolean dispatched;    /* handed to a pool (a small body is collected first) */
        gboolean collecting;    /* counted in Server.collecting */
        guint64 collected;      /* bytes collected before the hand-off */
        gboolean body_complete; /* the whole body was read off the socket */
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
/* Hands @job to one of the pools (ATRIUM_POOL_*). */
void atrium_server_push (Server *s, guint pool, Job *job);
/* Replaces the message's timer (a streamed body's idle check) with @src (transfer full). */
void atrium_server_set_timer (SoupServerMessage *msg, GSource *src);

/* Frees a job that will never reach finish() (server.c). */
void atrium_server_job_free (Job *job);

/* server-stream.c */
/* Starts the job of a streaming route as soon as the headers are in (early handler): a small
 * body is collected first, anything else goes to the stream pool at once. */
void atrium_server_stream_start (Front *f, SoupServerMessage *msg, Job *job);
/* The whole body is in (handler): a job still collecting goes to the worker pool. */
void atrium_server_stream_body_in (Front *f, SoupServerMessage *msg, Job *job);
/* The client left or stalled before @job was handed to a pool: logs a 499 and frees it. */
void atrium_server_stream_forget (Job *job);
/* got-headers of a streaming request: a timer that fires only when the body stalls. */
void atrium_server_stream_arm_idle_timer (Front *f, SoupServerMessage *msg, Job *job);
/* Sets up @msg's response body to come from @stream, @length bytes, read as it is written; a
 * client that reads nothing for @stall_seconds while a chunk waits is cut off. */
void atrium_server_respond_stream (SoupServerMessage *msg, GInputStream *stream, goffset length,
                                   guint stall_seconds);

/* serve.c */
/* The last request of a draining host finished (any front's thread). */
void atrium_server_maybe_drained (Server *s);
