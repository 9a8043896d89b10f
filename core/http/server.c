/* SPDX-License-Identifier: Apache-2.0 */
/* server.c - one front's SoupServer handlers (serve.c runs one front per core), and the
 * hand-off to the worker pools.
 *
 *   front (its own thread and context)       worker pools (shared)
 *   ----------------------------------       ---------------------
 *   request-started: headers deadline
 *   early handler: body deadline, size
 *     check (413), body collected chunk by
 *     chunk up to max_body (streaming
 *     routes start here instead, see
 *     server-stream.c)                  --->  stream pool
 *   handler: route match (404/405 here),
 *     copy request into AtriumRequest;
 *     NO_DB routes answered right here;
 *     else pause message, push job     --->  client gone? 499; else atrium_core_handle():
 *                                             tx, handler, commit
 *   finish(): apply answer, log, metrics, <---  g_main_context_invoke(the message's front)
 *     unpause
 *
 * SoupServer has no timeouts of its own: a connection gets header_timeout seconds from the end
 * of an answer (or its accept) to complete headers, which is also the keep-alive idle limit,
 * and body_timeout seconds for its body; past either the connection is cut (listener.c keeps
 * the deadlines). Production still belongs behind nginx (deploy/). */
#include "http-private.h"
#include "ops-private.h"
#include "pipeline-private.h"

#include <errno.h>
#include <gcrypt.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>


/* ---- deadlines (listener.c keeps them, one sweep a second) ---- */

/* The streamed-body idle check is the one timer kept per message (server-stream.c). */
static void
destroy_source (gpointer source)
{
        g_source_destroy (source);
        g_source_unref (source);
}

static void
msg_state_free (gpointer data)
{
        MsgState *st = data;
        g_clear_pointer (&st->timer, destroy_source);
        if (st->body)
                g_byte_array_unref (st->body);
        if (st->params)
                g_hash_table_unref (st->params);
        if (st->writer && st->writer_free)
                st->writer_free (st->writer);
        g_free (st);
}

static GQuark
msg_state_quark (void)
{
        static GQuark q;
        if (G_UNLIKELY (!q))
                q = g_quark_from_static_string ("atrium-msg-state");
        return q;
}

MsgState *
atrium_msg_state (SoupServerMessage *msg)
{
        MsgState *st = g_object_get_qdata (G_OBJECT (msg), msg_state_quark ());
        if (!st) {
                st = g_new0 (MsgState, 1);
                g_object_set_qdata_full (G_OBJECT (msg), msg_state_quark (), st, msg_state_free);
        }
        return st;
}

void
atrium_server_set_timer (SoupServerMessage *msg, GSource *src)
{
        MsgState *st = atrium_msg_state (msg);
        g_clear_pointer (&st->timer, destroy_source);
        st->timer = src;
}

static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
        Front *f = data;
        (void) soup;
        (void) atrium_msg_state (msg);
        /* The body deadline starts in the early handler (headers are in), and ends in the
         * handler (the body is in); no signal handlers per message. */
        atrium_listener_arm (f->listener, msg, ATRIUM_DEADLINE_HEADERS);
}

static void
on_request_read (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
        Front *f = data;
        (void) soup;
        (void) msg;
        g_atomic_int_inc (&f->server->in_flight);
}

static void
on_request_done (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
        Front *f = data;
        (void) soup;
        MsgState *st = atrium_msg_state (msg);
        g_clear_pointer (&st->timer, destroy_source);
        atrium_listener_request_done (f->listener, msg);
        if (st->stream_job) {
                /* Still running: its reads fail, its answer goes nowhere. */
                Job *job = g_steal_pointer (&st->stream_job);
                job->msg_gone = TRUE;
                atrium_body_pipe_close (job->pipe, "the client went away");
                if (!job->dispatched) /* left (or stalled) while its body was collected */
                        atrium_server_stream_forget (job);
        }
        /* request-aborted may come for a message that never finished reading */
        if (st->counted) {
                st->counted = FALSE;
                if (g_atomic_int_dec_and_test (&f->server->in_flight))
                        atrium_server_maybe_drained (f->server);
        }
}

static void
on_request_read_count (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
        MsgState *st = atrium_msg_state (msg);
        if (st->counted)
                return; /* a stream, counted when it started */
        on_request_read (soup, msg, data);
        st->counted = TRUE;
}

/* ---- answers made on the main thread ---- */

static char *new_request_id (SoupMessageHeaders *hdrs);
static void keep_private (SoupServerMessage *msg, SoupMessageHeaders *rh);

static void
respond_problem (Front *f, SoupServerMessage *msg, guint status, const char *type,
                 const char *detail, const char *route)
{
        g_autoptr (GBytes) body =
                atrium_problem_body (status, type, detail, g_uri_get_path (soup_server_message_get_uri (msg)));
        soup_server_message_set_status (msg, status, NULL);
        soup_server_message_set_response (msg, "application/problem+json", SOUP_MEMORY_COPY,
                                          g_bytes_get_data (body, NULL), g_bytes_get_size (body));
        if (status == 503) /* shutting down: another host, or this one restarted, soon */
                soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                              "Retry-After", ATRIUM_RETRY_AFTER_503);
        atrium_metrics_observe (f->server->core->metrics, soup_server_message_get_method (msg),
                                route, status, 0);
        /* Answered on the main thread, but still one log line with its request id. */
        SoupMessageHeaders *rh = soup_server_message_get_response_headers (msg);
        keep_private (msg, rh);
        const char *rid = soup_message_headers_get_one (rh, "X-Request-Id");
        g_autofree char *fresh = NULL;
        if (!rid) {
                fresh = new_request_id (soup_server_message_get_request_headers (msg));
                soup_message_headers_replace (rh, "X-Request-Id", fresh);
                rid = fresh;
        }
        atrium_log_request (rid, soup_server_message_get_method (msg), route, status, 0);
}

/* The one 413: a Content-Length over max_body (early handler), or a chunked body that grew
 * past it (handler, after it was read and dropped). */
static void
respond_too_large (Front *f, SoupServerMessage *msg)
{
        g_autofree char *detail =
                g_strdup_printf ("request body larger than %" G_GUINT64_FORMAT " bytes",
                                 f->server->core->config->max_body);
        respond_problem (f, msg, 413, "payload-too-large", detail, "(body limit)");
}

static char *
new_request_id (SoupMessageHeaders *hdrs)
{
        /* Keep a proxy's id (nginx $request_id) when it looks like one, for correlation. */
        const char *given = soup_message_headers_get_one (hdrs, "X-Request-Id");
        if (given && strlen (given) >= 8 && strlen (given) <= 64 &&
            strspn (given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
                    strlen (given))
                return g_strdup (given);
        /* Unique, not secret: 64 random bits per thread, then a counter (no syscall, no lock
         * per request). */
        static GPrivate seed_key = G_PRIVATE_INIT (g_free);
        guint64 *seed = g_private_get (&seed_key);
        if (!seed) {
                seed = g_new (guint64, 2);
                gcry_create_nonce (seed, sizeof *seed);
                seed[1] = 0;
                g_private_set (&seed_key, seed);
        }
        static const char hex[] = "0123456789abcdef";
        char *id = g_malloc (25);
        guint64 hi = seed[0];
        guint32 lo = (guint32) seed[1]++;
        for (int i = 0; i < 16; i++)
                id[i] = hex[(hi >> (60 - 4 * i)) & 0xf];
        for (int i = 0; i < 8; i++)
                id[16 + i] = hex[(lo >> (28 - 4 * i)) & 0xf];
        id[24] = '\0';
        return id;
}

/* ---- early handler: body limit and collection ---- */

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
        Front *f = data;
        Server *s = f->server;
        MsgState *st = atrium_msg_state (msg);
        if (st->too_large)
                return;
        GByteArray *buf = st->body;
        if (buf->len + g_bytes_get_size (chunk) > s->core->config->max_body) {
                /* Keep reading (and dropping) so the client gets a clean 413 afterwards. */
                st->too_large = TRUE;
                g_byte_array_set_size (buf, 0);
                return;
        }
        g_byte_array_append (buf, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
}

static void
copy_header (const char *name, const char *value, gpointer table)
{
        g_autofree char *lower = g_ascii_strdown (name, -1);
        const char *prev = g_hash_table_lookup (table, lower);
        /* Repeated headers combine as the HTTP spec says a list does. */
        char *v = prev ? g_strconcat (prev, ", ", value, NULL) : g_strdup (value);
        g_hash_table_replace (table, g_steal_pointer (&lower), v);
}

/* Copies what the worker needs off the message (main thread); takes @params and @request_id. */
static Job *
new_job (Front *f, SoupServerMessage *msg, const char *path, GHashTable *query,
         const AtriumRouteEntry *route, GHashTable *params, char *request_id)
{
        Server *s = f->server;
        SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
        AtriumRequest *req = g_new0 (AtriumRequest, 1);
        req->core = s->core;
        req->route = route;
        req->request_id = request_id;
        req->method = g_strdup (soup_server_message_get_method (msg));
        req->path = g_strdup (path);
        req->params = params;
        if (query)
                req->query = g_hash_table_ref (query);
        req->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        soup_message_headers_foreach (hdrs, copy_header, req->headers);
        GByteArray *buf = atrium_msg_state (msg)->body;
        if (buf && buf->len)
                req->body = g_bytes_new (buf->data, buf->len);
        req->response_headers = g_ptr_array_new_with_free_func (g_free);
        const char *real_ip = soup_message_headers_get_one (hdrs, "X-Real-IP");
        req->client = g_strdup (s->core->config->trust_proxy && real_ip
                                        ? real_ip
                                        : soup_server_message_get_remote_host (msg));

        Job *job = g_new0 (Job, 1);
        job->server = s;
        job->front = f;
        job->msg = g_object_ref (msg);
        job->req = req;
        job->fd = -1; /* set for buffered requests only: a streamed one is still reading */
        job->started = g_get_monotonic_time ();
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "X-Request-Id", request_id);
        return job;
}

/* A streaming route starts now, before its body is read (server-stream.c). Uploads are PUT
 * or POST; other requests skip the extra route lookup. */
static gboolean
start_stream (Front *f, SoupServerMessage *msg, const char *path, GHashTable *query)
{
        Server *s = f->server;
        const char *method = soup_server_message_get_method (msg);
        if (method != SOUP_METHOD_PUT && method != SOUP_METHOD_POST)
                return FALSE;
        gpointer route = NULL;
        GHashTable *params = NULL;
        if (atrium_router_match (s->core->router, method, path, &route, &params, NULL, NULL) !=
            ATRIUM_MATCH_OK)
                return FALSE;
        const AtriumRouteEntry *entry = route;
        if (!(entry->flags & ATRIUM_ROUTE_STREAM_BODY)) {
                /* Keep the match for the handler, so a POST or PUT is routed once. */
                MsgState *st = atrium_msg_state (msg);
                st->route = entry;
                st->params = params;
                return FALSE;
        }
        if (g_atomic_int_get (&s->draining)) {
                g_hash_table_unref (params);
                soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                              "Connection", "close");
                respond_problem (f, msg, 503, "unavailable", "server is shutting down",
                                 entry->template);
                return TRUE;
        }
        char *request_id = new_request_id (soup_server_message_get_request_headers (msg));
        Job *job = new_job (f, msg, path, query, entry, params, request_id);
        atrium_server_stream_start (f, msg, job);
        return TRUE;
}

static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
        Front *f = data;
        Server *s = f->server;
        (void) soup;
        if (start_stream (f, msg, path, query)) {
                /* A streamed body may take long; its own idle check replaces the deadline. */
                Job *stream_job = atrium_msg_state (msg)->stream_job;
                atrium_listener_disarm (f->listener, msg);
                if (stream_job)
                        atrium_server_stream_arm_idle_timer (f, msg, stream_job);
                return;
        }
        atrium_listener_arm (f->listener, msg, ATRIUM_DEADLINE_BODY);
        SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
        if (soup_message_headers_get_encoding (hdrs) == SOUP_ENCODING_CONTENT_LENGTH &&
            (guint64) soup_message_headers_get_content_length (hdrs) > s->core->config->max_body) {
                /* Refused before reading: the body that follows is not worth reading. */
                soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                              "Connection", "close");
                respond_too_large (f, msg);
                return;
        }
        /* Most requests have no body: no handler to connect (and disconnect) for them. */
        SoupEncoding enc = soup_message_headers_get_encoding (hdrs);
        if (enc == SOUP_ENCODING_NONE || (enc == SOUP_ENCODING_CONTENT_LENGTH &&
                                          !soup_message_headers_get_content_length (hdrs)))
                return;
        soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
        atrium_msg_state (msg)->body = g_byte_array_new ();
        g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), f);
}

/* ---- dispatch ---- */

/* The answer's head and its body leave as one segment when libsoup writes the body right after
 * the head: a complete body that is not empty, and no rule of HTTP (HEAD, 204, 304) or of
 * libsoup (it answers a Range itself, maybe with no body) drops it. */
static void
cork_head (SoupServerMessage *msg, AtriumRequest *req)
{
        if (g_bytes_get_size (req->response_body) == 0 || req->status < 200 || req->status == 204 ||
            req->status == 304 || soup_server_message_get_method (msg) == SOUP_METHOD_HEAD)
                return;
        SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
        if (soup_message_headers_get_one (h, "Range"))
                return;
        AtriumConn *conn = atrium_listener_conn_of (msg);
        if (conn)
                atrium_conn_cork_next (conn);
}

/* libsoup 3.2 writes a 204's head without Content-Length (RFC 9110) and forgets, as it drops
 * the header, that the answer has no body: the head then reads as a body delimited by closing,
 * and libsoup closes the connection after it (a client that sent its next request meanwhile
 * meets a reset). Said again once the head is out, the connection stays. */
static void
keep_after_204 (SoupServerMessage *msg, gpointer data)
{
        (void) data;
        soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                           SOUP_ENCODING_NONE);
}

/* 204 and 304: no body, no Content-Length (a 304's would have to be the 200's, and libsoup
 * would write 0), and the connection stays open for the client's next request. */
static void
keep_without_body (SoupServerMessage *msg, SoupMessageHeaders *rh, guint status)
{
        soup_message_headers_set_encoding (rh, SOUP_ENCODING_NONE);
        if (status == 204)
                g_signal_connect (msg, "wrote-headers", G_CALLBACK (keep_after_204), NULL);
}

/* What an answer says about where its bytes may go, unless its route said it itself:
 * - no browser takes it for another type than the one it names (a JSON answer read as HTML);
 * - an answer to a request that carried credentials, or one that sets a cookie, holds
 *   someone's data, a child's as often as not: no cache on the way or on the device keeps it
 *   ("no-store"; a sign-in's token says so itself). Routes whose answers are meant to be
 *   revalidated say so (downloads: "private, no-cache"; subscribed calendars "private,
 *   max-age=300"), and DAV clients keep what they sync in their own store, by ETag. */
static void
keep_private (SoupServerMessage *msg, SoupMessageHeaders *rh)
{
        if (!soup_message_headers_get_one (rh, "X-Content-Type-Options"))
                soup_message_headers_replace (rh, "X-Content-Type-Options", "nosniff");
        SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
        if (!soup_message_headers_get_one (rh, "Cache-Control") &&
            (soup_message_headers_get_one (in, "Authorization") ||
             soup_message_headers_get_one (in, "Cookie") ||
             soup_message_headers_get_one (rh, "Set-Cookie")))
                soup_message_headers_replace (rh, "Cache-Control", "no-store");
}

static gboolean
finish (gpointer data)
{
        Job *job = data;
        Server *s = job->server;
        AtriumRequest *req = job->req;
        SoupServerMessage *msg = job->msg;

        double seconds = (g_get_monotonic_time () - job->started) / 1e6;
        atrium_log_request (req->request_id, req->method, req->route->template, req->status,
                            seconds * 1000.0);
        atrium_metrics_observe (s->core->metrics, req->method, req->route->template, req->status,
                                seconds);
        if (job->pipe) {
                gboolean unread = !atrium_body_pipe_started (job->pipe);
                atrium_body_pipe_close (job->pipe, "the request was answered");
                if (!job->msg_gone)
                        atrium_msg_state (msg)->stream_job = NULL;
                /* A body left unread (or half read) is drained by libsoup and dropped; the
                 * connection is not worth keeping after that. */
                if (!job->body_complete && (unread || req->status >= 400))
                        soup_message_headers_replace (
                                soup_server_message_get_response_headers (msg), "Connection",
                                "close");
        }
        if (job->msg_gone)
                goto out;
        if (job->abandoned) {
                /* Nothing to answer: cut the connection, and libsoup's write fails and frees
                 * it. */
                atrium_listener_cut (msg);
                soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
                soup_server_message_unpause (msg);
                goto out;
        }

        soup_server_message_set_status (msg, req->status, NULL);
        SoupMessageHeaders *rh = soup_server_message_get_response_headers (msg);
        for (guint i = 0; i + 1 < req->response_headers->len; i += 2)
                soup_message_headers_append (rh, req->response_headers->pdata[i],
                                             req->response_headers->pdata[i + 1]);
        soup_message_headers_replace (rh, "X-Request-Id", req->request_id);
        keep_private (msg, rh);
        if (req->response_stream) {
                if (req->content_type)
                        soup_message_headers_replace (rh, "Content-Type", req->content_type);
                atrium_server_respond_stream (msg, g_steal_pointer (&req->response_stream),
                                              req->response_length,
                                              s->core->config->body_timeout);
        } else if (req->response_body && req->content_type) {
                soup_server_message_set_response (msg, req->content_type, SOUP_MEMORY_COPY,
                                                  g_bytes_get_data (req->response_body, NULL),
                                                  g_bytes_get_size (req->response_body));
                cork_head (msg, req);
        } else if (req->status != 204 && req->status != 304) {
                soup_server_message_set_response (msg, NULL, SOUP_MEMORY_STATIC, NULL, 0);
        } else {
                keep_without_body (msg, rh, req->status);
        }
        if (!job->inline_)
                soup_server_message_unpause (msg);
out:
        atrium_server_job_free (job);
        return G_SOURCE_REMOVE;
}

void
atrium_server_job_free (Job *job)
{
        g_object_unref (job->msg);
        atrium_request_free (job->req);
        g_clear_pointer (&job->pipe, atrium_body_pipe_unref);
        g_free (job);
}

/* Worker thread: has the client gone while the request waited for a worker? The message is
 * paused, so nothing else reads the socket now; end-of-stream or a reset means the client
 * left (as nginx judges it, a client that only half-closes after its request looks gone too,
 * which HTTP clients do not do). In a rush, clients give up and retry: their first tries must
 * not take a worker and a transaction each for answers nobody reads. */
#define CLIENT_CHECK_AFTER_US (5 * 1000) /* waited this long for a worker: peek first */

static gboolean
client_left (int fd)
{
        if (fd < 0)
                return FALSE;
        char c;
        ssize_t n = recv (fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* A kept pool's thread, the first time it works: noted for serve() to join (Server.worked). */
static void
note_worker (Server *s, guint pool)
{
        static GPrivate noted = G_PRIVATE_INIT (NULL);
        if ((pool != ATRIUM_POOL_WORKERS && pool != ATRIUM_POOL_SLOW) || g_private_get (&noted))
                return;
        g_private_set (&noted, GINT_TO_POINTER (1));
        g_mutex_lock (&s->lock);
        g_ptr_array_add (s->worked, g_thread_ref (g_thread_self ()));
        g_mutex_unlock (&s->lock);
}

static void
work (gpointer data, gpointer user_data)
{
        Job *job = data;
        Server *s = user_data;
        note_worker (s, job->pool);
        g_atomic_int_inc (&s->busy[job->pool]);
        /* A request that found a worker at once is run without the peek (a system call):
         * its client had no time to give up. */
        if (g_get_monotonic_time () - job->started >= CLIENT_CHECK_AFTER_US &&
            client_left (job->fd)) {
                job->abandoned = TRUE;
                job->req->status = 499; /* nginx's "client closed request", for log and metrics */
        } else {
                atrium_core_handle (s->core, job->req);
        }
        g_atomic_int_add (&s->busy[job->pool], -1);
        g_main_context_invoke (job->front->context, finish, job);
}

void
atrium_server_push (Server *s, guint pool, Job *job)
{
        job->pool = pool;
        g_thread_pool_push (s->pools[pool], job, NULL);
}

static void
handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
        Front *f = data;
        Server *s = f->server;
        (void) soup;
        atrium_listener_disarm (f->listener, msg); /* the body is in */
        MsgState *st = atrium_msg_state (msg);
        if (st->stream_job) {
                atrium_server_stream_body_in (f, msg, st->stream_job);
                return;
        }
        SoupMessageHeaders *hdrs = soup_server_message_get_request_headers (msg);
        const char *method = soup_server_message_get_method (msg);
        g_autofree char *request_id = new_request_id (hdrs);
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "X-Request-Id", request_id);

        if (st->too_large) {
                respond_too_large (f, msg);
                return;
        }
        gpointer route = (gpointer) st->route;
        GHashTable *params = NULL;
        const char *template = NULL;
        g_autofree char *allow = NULL;
        AtriumMatchResult m = ATRIUM_MATCH_OK;
        if (route) /* matched already by the early handler (start_stream) */
                params = g_steal_pointer (&st->params);
        else
                m = atrium_router_match (s->core->router, method, path, &route, &params,
                                         &template, &allow);
        if (route)
                template = ((const AtriumRouteEntry *) route)->template;
        if (m == ATRIUM_MATCH_BAD_PATH) {
                respond_problem (f, msg, 400, "invalid-request",
                                 "path has an invalid escape or a '.' or '..' segment",
                                 "(unmatched)");
                return;
        }
        if (m == ATRIUM_MATCH_NOT_FOUND) {
                respond_problem (f, msg, 404, "not-found", "no such route", "(unmatched)");
                return;
        }
        if (m == ATRIUM_MATCH_METHOD_NOT_ALLOWED) {
                soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                              "Allow", allow);
                g_autofree char *detail = g_strdup_printf ("allowed: %s", allow);
                respond_problem (f, msg, 405, "method-not-allowed", detail, "(unmatched)");
                return;
        }
        if (g_atomic_int_get (&s->draining)) {
                g_hash_table_unref (params);
                respond_problem (f, msg, 503, "unavailable", "server is shutting down", template);
                return;
        }

        Job *job = new_job (f, msg, path, query, route, params, g_steal_pointer (&request_id));
        const AtriumRouteEntry *entry = route;
        if (entry->flags & ATRIUM_ROUTE_NO_DB) {
                /* Liveness, metrics, the OpenAPI document: no database, nothing that blocks,
                 * so no hand-off to a worker and back. */
                job->inline_ = TRUE;
                atrium_core_handle (s->core, job->req);
                finish (job);
                return;
        }
        AtriumConn *conn = atrium_listener_conn_of (msg);
        job->fd = conn ? atrium_conn_get_fd (conn) : -1;
        soup_server_message_pause (msg);
        atrium_server_push (s,
                            (entry->flags & ATRIUM_ROUTE_OUTSIDE) ? ATRIUM_POOL_OUTSIDE
                            : (entry->flags & ATRIUM_ROUTE_SLOW)  ? ATRIUM_POOL_SLOW
                                                                  : ATRIUM_POOL_WORKERS,
                            job);
}

/* Connects a front's SoupServer to the handlers above (front's thread). */
void
atrium_server_connect (Front *f)
{
        soup_server_add_early_handler (f->soup, NULL, early_handler, f, NULL);
        soup_server_add_handler (f->soup, NULL, handler, f, NULL);
        g_signal_connect (f->soup, "request-started", G_CALLBACK (on_request_started), f);
        g_signal_connect (f->soup, "request-read", G_CALLBACK (on_request_read_count), f);
        g_signal_connect (f->soup, "request-finished", G_CALLBACK (on_request_done), f);
        g_signal_connect (f->soup, "request-aborted", G_CALLBACK (on_request_done), f);
}

/* The function the worker pools run. */
void
atrium_server_work (gpointer data, gpointer user_data)
{
        work (data, user_data);
}
