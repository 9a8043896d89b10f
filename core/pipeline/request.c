/* SPDX-License-Identifier: Apache-2.0 */
/* request.c - AtriumRequest, the opaque handle a handler gets: what was asked (method,
 * parameters, query, headers, body), who is asking (waiting for the identity check when it
 * travels with the first query, see handle.c), and the answer the handler sets (JSON, bytes,
 * a page, a stream, a problem), which the front sends once the transaction is over. The
 * AtriumHost table (plugin-host/host-services.c) hands these functions to plugins. */
#include "core-private.h"
#include "pipeline-private.h"

#include <string.h>

#include "identity-private.h"

void
atrium_request_free (AtriumRequest *req)
{
        if (!req)
                return;
        g_free (req->request_id);
        g_free (req->method);
        g_free (req->path);
        g_clear_pointer (&req->params, g_hash_table_unref);
        g_clear_pointer (&req->query, g_hash_table_unref);
        g_clear_pointer (&req->headers, g_hash_table_unref);
        g_clear_pointer (&req->body, g_bytes_unref);
        g_clear_object (&req->body_stream);
        g_clear_object (&req->response_stream);
        g_clear_pointer (&req->json, json_node_unref);
        g_free (req->school_id);
        g_free (req->school_slug);
        g_free (req->dav_username);
        g_free (req->user_id);
        g_free (req->operator_id);
        g_free (req->session_id);
        g_strfreev (req->roles);
        g_clear_pointer (&req->permissions, atrium_perm_set_unref);
        g_free (req->client);
        atrium_tx_free (req->tx);
        g_clear_pointer (&req->committed_events, g_ptr_array_unref);
        g_free (req->content_type);
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_ptr_array_unref (req->response_headers);
        g_free (req);
}

const char *
atrium_request_method (AtriumRequest *req)
{
        return req->method;
}

const char *
atrium_request_param (AtriumRequest *req, const char *name)
{
        return req->params ? g_hash_table_lookup (req->params, name) : NULL;
}

/* A route that reads a query parameter it does not declare (AtriumRoute.query_schema): the
 * OpenAPI document does not show it and the host does not check it. Said once per route and
 * name; the integration harness fails a run whose hosts said it (tests/harness/host.py). */
static void
undeclared_query (const AtriumRouteEntry *e, const char *name)
{
        static GMutex lock;
        static GHashTable *said;
        g_autofree char *key = g_strdup_printf ("%s %s?%s", e->method, e->template, name);
        g_mutex_lock (&lock);
        if (!said)
                said = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        gboolean first = g_hash_table_add (said, g_steal_pointer (&key));
        g_mutex_unlock (&lock);
        if (first)
                g_warning ("route %s %s reads the query parameter \"%s\" it does not declare "
                           "(query_schema, or ATRIUM_ROUTE_PAGED for limit and cursor)",
                           e->method, e->template, name);
}

const char *
atrium_request_query (AtriumRequest *req, const char *name)
{
        const AtriumRouteEntry *e = req->route;
        if (e && e->query_names && !g_strv_contains ((const char *const *) e->query_names, name))
                undeclared_query (e, name);
        return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

const char *
atrium_request_header (AtriumRequest *req, const char *name)
{
        g_autofree char *lower = g_ascii_strdown (name, -1);
        return g_hash_table_lookup (req->headers, lower);
}

JsonNode *
atrium_request_json (AtriumRequest *req)
{
        return req->json;
}

GBytes *
atrium_request_body (AtriumRequest *req)
{
        return req->body;
}

/* Who is asking, as the identity check decided: waits for a check deferred into the first
 * query's round trip (handle.c) when no query has taken it along yet. A refused check answers
 * as nobody; the host replaces the handler's answer with the refusal anyway. */
static gboolean
admitted (AtriumRequest *req)
{
        return atrium_tx_gate (req->tx, NULL);
}

const char *
atrium_request_school_id (AtriumRequest *req)
{
        return admitted (req) ? req->school_id : NULL;
}

const char *
atrium_request_school_slug (AtriumRequest *req)
{
        return admitted (req) ? req->school_slug : NULL;
}

const char *
atrium_request_user_id (AtriumRequest *req)
{
        return admitted (req) ? req->user_id : NULL;
}

gboolean
atrium_request_has_permission (AtriumRequest *req, const char *permission)
{
        g_return_val_if_fail (req != NULL && permission != NULL, FALSE);
        if (!admitted (req))
                return FALSE;
        if (req->operator_id)
                return TRUE;
        return atrium_perm_set_has (req->permissions, permission);
}

AtriumTx *
atrium_request_tx (AtriumRequest *req)
{
        return req->tx;
}

gboolean
atrium_request_page (AtriumRequest *req, int *out_limit, char **out_after, GError **error)
{
        const char *limit = atrium_request_query (req, "limit");
        const char *cursor = atrium_request_query (req, "cursor");
        guint64 n = 50;
        if (limit && !g_ascii_string_to_unsigned (limit, 10, 1, 500, &n, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "?limit: a whole number from 1 to 500");
                return FALSE;
        }
        char *after = NULL;
        if (cursor && *cursor) {
                /* Cursors are base64url of the key the last page ended at; opaque to clients. */
                gsize len = 0;
                guchar *raw = atrium_base64url_decode (cursor, strlen (cursor), &len);
                if (!raw || len == 0 || len > 512 || !g_utf8_validate ((char *) raw, len, NULL) ||
                    memchr (raw, 0, len)) {
                        g_free (raw);
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "?cursor: not one this server handed out");
                        return FALSE;
                }
                after = g_strndup ((char *) raw, len);
                g_free (raw);
        }
        *out_limit = (int) n;
        *out_after = after;
        return TRUE;
}

/* Every answer is set here: @status, @content_type (nullable), @body (nullable, transfer
 * full) in place of whatever was answered before, body or stream. */
static void
set_answer (AtriumRequest *req, guint status, const char *content_type, GBytes *body)
{
        req->status = status;
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_clear_object (&req->response_stream);
        g_free (req->content_type);
        req->content_type = g_strdup (content_type);
        req->response_body = body;
}

/* A page's next_cursor: the raw key the next page starts after, base64url (opaque). */
static char *
page_cursor (const char *next_after)
{
        return next_after
                       ? atrium_base64url_encode ((const guchar *) next_after, strlen (next_after))
                       : NULL;
}

void
atrium_request_set_json (AtriumRequest *req, guint status, JsonNode *body)
{
        if (!body) {
                set_answer (req, status, NULL, NULL);
                return;
        }
        char *text = json_to_string (body, FALSE);
        set_answer (req, status, "application/json", g_bytes_new_take (text, strlen (text)));
}

void
atrium_request_respond_json (AtriumRequest *req, guint status, JsonNode *body)
{
        atrium_request_set_json (req, status, body);
        if (body)
                json_node_unref (body);
}

void
atrium_request_respond_bytes (AtriumRequest *req, guint status, const char *content_type, GBytes *body)
{
        set_answer (req, status, content_type, body ? g_bytes_ref (body) : NULL);
}

void
atrium_request_respond_page (AtriumRequest *req, JsonNode *items, const char *next_after)
{
        JsonObject *o = json_object_new ();
        if (!items) {
                items = json_node_new (JSON_NODE_ARRAY);
                json_node_take_array (items, json_array_new ());
        }
        json_object_set_member (o, "items", items);
        g_autofree char *cursor = page_cursor (next_after);
        if (cursor)
                json_object_set_string_member (o, "next_cursor", cursor);
        else
                json_object_set_null_member (o, "next_cursor");
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        atrium_request_respond_json (req, 200, n);
}

void
atrium_request_respond_result_page (AtriumRequest *req, const AtriumResult *res, int n_rows, const char *next_after)
{
        g_return_if_fail (req != NULL && n_rows >= 0);
        g_autofree char *cursor = page_cursor (next_after);
        set_answer (req, 200, "application/json", atrium_result_page_body (res, n_rows, cursor));
}

void
atrium_request_add_header (AtriumRequest *req, const char *name, const char *value)
{
        g_return_if_fail (name != NULL && value != NULL);
        /* Header injection: a value with CR or LF is a plugin bug; drop it loudly. */
        if (strpbrk (name, "\r\n:") || strpbrk (value, "\r\n")) {
                g_critical ("refusing response header %s with a line break", name);
                return;
        }
        g_ptr_array_add (req->response_headers, g_strdup (name));
        g_ptr_array_add (req->response_headers, g_strdup (value));
}

void
atrium_request_set_problem (AtriumRequest *req, const GError *error)
{
        guint status = atrium_error_status (error);
        /* Internal failures keep their details in the log, not in the answer. */
        const char *detail = status >= 500 && status != 502 && status != 503 && status != 507
                                     ? "internal error; see the server log for request id"
                                     : error->message;
        set_answer (req, status, "application/problem+json",
                    atrium_problem_body (status, atrium_error_type (error), detail, req->path));
        /* 503 is always "try again soon" here (the database is away or restarting, a backend
         * is down): say when, unless the handler did. */
        gboolean has_retry = FALSE;
        for (guint i = 0; status == 503 && i + 1 < req->response_headers->len; i += 2)
                has_retry |=
                        g_ascii_strcasecmp (req->response_headers->pdata[i], "Retry-After") == 0;
        if (status == 503 && !has_retry)
                atrium_request_add_header (req, "Retry-After", ATRIUM_RETRY_AFTER_503);
}

gboolean
atrium_request_is_operator (AtriumRequest *req)
{
        return admitted (req) && req->operator_id != NULL;
}

GInputStream *
atrium_request_body_stream (AtriumRequest *req)
{
        return req->body_stream;
}

/* A small local file (a blob of the files module) is read here, on the worker, and answered as
 * bytes: reading it asynchronously from the front costs a hop to GIO's thread pool and back
 * for every chunk, a stall timer and two signal handlers, more than the read itself (a WebDAV
 * GET of 4 KiB: ~40 % of the host's CPU was thread hand-offs). A blocking read of a local
 * file belongs on a worker as much as a query does. Anything else, or a file that turns out
 * shorter than @length, is streamed as before. */
#define SMALL_FILE (64 * 1024)

static gboolean
small_file_bytes (AtriumRequest *req, GInputStream *body, goffset length, const char *content_type,
                  guint status)
{
        /* libsoup answers a Range itself when a 200 carries the whole body (multipart for
         * several): the handler has decided about ranges already, so such a request streams. */
        if (length <= 0 || length > SMALL_FILE || !G_IS_FILE_INPUT_STREAM (body) ||
            g_str_equal (req->method, "HEAD") ||
            (status == 200 && g_hash_table_contains (req->headers, "range")))
                return FALSE;
        goffset at = g_seekable_tell (G_SEEKABLE (body));
        g_autofree guint8 *buf = g_malloc ((gsize) length);
        gsize got = 0;
        if (!g_input_stream_read_all (body, buf, (gsize) length, &got, NULL, NULL) ||
            got != (gsize) length) {
                g_seekable_seek (G_SEEKABLE (body), at, G_SEEK_SET, NULL, NULL);
                return FALSE;
        }
        g_input_stream_close (body, NULL, NULL);
        g_object_unref (body);
        set_answer (req, status, content_type,
                    g_bytes_new_take (g_steal_pointer (&buf), (gsize) length));
        return TRUE;
}

void
atrium_request_respond_stream (AtriumRequest *req, guint status, const char *content_type, GInputStream *body,
             goffset length)
{
        g_return_if_fail (G_IS_INPUT_STREAM (body));
        if (length < 0 || status < 200 || status >= 600) {
                /* A programming error, but @body is (transfer full) even then. */
                g_critical ("respond_stream: status %u or length %" G_GOFFSET_FORMAT
                            " out of range",
                            status, length);
                g_object_unref (body);
                return;
        }
        content_type = content_type ? content_type : "application/octet-stream";
        if (small_file_bytes (req, body, length, content_type, status))
                return;
        set_answer (req, status, content_type, NULL);
        req->response_stream = body;
        req->response_length = length;
}

