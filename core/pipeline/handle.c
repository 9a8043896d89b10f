/* SPDX-License-Identifier: Apache-2.0 */
/* handle.c - the request pipeline a worker runs for one request:
 *
 *   identity check (core.begin_request(); for a read it waits for the handler's first query)
 *   -> body checks (content type, JSON, schema) -> handler -> the check's verdict
 *   -> COMMIT | ROLLBACK -> events delivered -> answer handed back to the front
 *
 * The HTTP side (http/server.c) builds the AtriumRequest on its front and applies the answer
 * there; nothing in this file touches libsoup. */
#include "core-private.h"
#include "pipeline-private.h"

#include <string.h>

#include "identity-private.h"
#include "plugin-host-private.h"

static gboolean
is_json_type (const char *ct)
{
        if (!ct)
                return FALSE;
        g_autofree char *base = g_ascii_strdown (ct, strcspn (ct, ";"));
        g_strstrip (base);
        return g_str_equal (base, "application/json") || g_str_has_suffix (base, "+json");
}

static gboolean
prepare_body (AtriumRequest *req, GError **error)
{
        const AtriumRouteEntry *e = req->route;
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (e->flags & (ATRIUM_ROUTE_RAW_BODY | ATRIUM_ROUTE_STREAM_BODY))
                return TRUE;
        if (!e->request_schema) {
                if (len > 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "%s %s takes no request body", e->method, e->template);
                        return FALSE;
                }
                return TRUE;
        }
        if (len == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a JSON request body is required");
                return FALSE;
        }
        if (!is_json_type (g_hash_table_lookup (req->headers, "content-type"))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                             "send the body as Content-Type: application/json");
                return FALSE;
        }
        g_autoptr (JsonNode) json =
                atrium_json_parse_body (g_bytes_get_data (req->body, NULL), len, error);
        if (!json || !atrium_schema_validate (e->request_schema, json, error))
                return FALSE;
        req->json = g_steal_pointer (&json);
        return TRUE;
}

/* "Bearer <token>" -> token, or NULL. */
static const char *
bearer_token (AtriumRequest *req)
{
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
                return NULL;
        const char *t = auth + 7;
        while (*t == ' ')
                t++;
        return *t ? t : NULL;
}

static char **
parse_text_array (const char *v)
{
        /* PostgreSQL text[] output for our values (permission and role names, which never
         * need quoting): "{a,b.c}" */
        if (!v || strlen (v) < 2)
                return g_new0 (char *, 1);
        g_autofree char *inner = g_strndup (v + 1, strlen (v) - 2);
        if (!*inner)
                return g_new0 (char *, 1);
        return g_strsplit (inner, ",", -1);
}

/* core.begin_request() authenticates the token, resolves {school} and the module, computes
 * the caller's permissions and sets the row-level-security settings, in one statement that is
 * pipelined with BEGIN and, for reads, with the handler's first query (tx.c). */
static const char begin_request_sql[] =
        "SELECT school_id, school_found, module_enabled, session_id, user_id, "
        "operator_id, roles, permissions, token_valid "
        "FROM core.begin_request($1::bytea, $2, $3)";

/* Judges core.begin_request()'s row for @data, the request: fills in who is asking, or says
 * why they may not go on (an AtriumTxGate). */
static gboolean
admit (const AtriumResult *res, gpointer data, GError **error)
{
        AtriumRequest *req = data;
        const AtriumRouteEntry *e = req->route;
        const char *slug = e->scope == ATRIUM_SCOPE_SCHOOL
                                   ? g_hash_table_lookup (req->params, "school")
                                   : NULL;
        gboolean has_token = bearer_token (req) != NULL;
        gboolean token_valid = g_strcmp0 (atrium_result_value (res, 0, 8), "t") == 0;
        if (has_token && !token_valid) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "the token is unknown, expired or revoked");
                return FALSE;
        }
        if (!has_token && !(e->flags & ATRIUM_ROUTE_PUBLIC)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "sign in and send Authorization: Bearer <token>");
                return FALSE;
        }
        if (slug && g_strcmp0 (atrium_result_value (res, 0, 1), "t") != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no school \"%s\"", slug);
                return FALSE;
        }
        if (g_strcmp0 (atrium_result_value (res, 0, 2), "t") != 0) {
                /* A module the school has not enabled does not exist for it. */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "no module \"%s\" in this school", e->owner->desc.name);
                return FALSE;
        }
        req->school_id = g_strdup (atrium_result_value (res, 0, 0));
        req->school_slug = g_strdup (slug);
        req->session_id = g_strdup (atrium_result_value (res, 0, 3));
        req->user_id = g_strdup (atrium_result_value (res, 0, 4));
        req->operator_id = g_strdup (atrium_result_value (res, 0, 5));
        req->roles = parse_text_array (atrium_result_value (res, 0, 6));
        req->permissions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        g_auto (GStrv) perms = parse_text_array (atrium_result_value (res, 0, 7));
        for (char **p = perms; *p; p++)
                g_hash_table_add (req->permissions, g_strdup (*p));
        g_free (req->tx->school_id);
        req->tx->school_id = g_strdup (req->school_id);
        g_free (req->tx->user_id);
        req->tx->user_id = g_strdup (req->user_id);

        if (e->permission && !req->operator_id &&
            !g_hash_table_contains (req->permissions, e->permission)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "permission %s is required", e->permission);
                return FALSE;
        }
        return TRUE;
}

/* Queues the identity check in the request's transaction. A read (GET, HEAD) whose handler
 * learns who is asking only through the host table (every plugin route) or after its first
 * query (core routes flagged ATRIUM_ROUTE_EARLY_QUERY) sends its first query in the same
 * round trip; the check is judged before that query's result reaches the handler, and the
 * handler's answer is replaced if the check refuses (atrium_core_handle). Any other request
 * runs the check before its handler. */
static gboolean
begin_request (AtriumRequest *req, GError **error)
{
        const AtriumRouteEntry *e = req->route;
        const char *token = bearer_token (req);
        g_autofree char *hash = token ? atrium_token_hash_literal (token) : NULL;
        const char *slug = e->scope == ATRIUM_SCOPE_SCHOOL
                                   ? g_hash_table_lookup (req->params, "school")
                                   : NULL;
        const char *module = e->owner && e->scope == ATRIUM_SCOPE_SCHOOL ? e->owner->desc.name
                                                                         : NULL;
        const char *params[3] = {hash, slug, module};
        atrium_tx_defer_gate (req->tx, begin_request_sql, 3, params, admit, req);
        gboolean early = req->tx->read_only && (e->owner || (e->flags & ATRIUM_ROUTE_EARLY_QUERY));
        return early || atrium_tx_gate (req->tx, error);
}

void
atrium_core_handle (AtriumCore *core, AtriumRequest *req)
{
        const AtriumRouteEntry *e = req->route;
        g_autoptr (GError) error = NULL;

        req->tx = atrium_tx_new (core->pool, NULL, NULL);
        /* A GET or HEAD that writes nothing commits without waiting (tx.c). */
        req->tx->read_only = g_str_equal (req->method, "GET") || g_str_equal (req->method, "HEAD");
        /* Who is asking comes first (an anonymous caller learns nothing about bodies); liveness
         * and metrics must answer even with the database gone. */
        gboolean ok = (e->flags & ATRIUM_ROUTE_NO_DB) ? TRUE : begin_request (req, &error);
        ok = ok && prepare_body (req, &error);
        if (ok) {
                ok = e->handler (req, e->user_data, &error);
                if (ok && req->status == 0) {
                        ok = FALSE;
                        g_set_error (&error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "handler for %s %s gave no answer", e->method, e->template);
                } else if (!ok && !error) {
                        g_set_error (&error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "handler for %s %s failed without saying why", e->method,
                                     e->template);
                }
        }
        /* A deferred identity check that refused, or that no query took along, decides before
         * anything the handler answered. */
        g_autoptr (GError) refused = NULL;
        if (!atrium_tx_gate (req->tx, &refused)) {
                ok = FALSE;
                g_clear_error (&error);
                error = g_steal_pointer (&refused);
                if (req->response_headers)
                        g_ptr_array_set_size (req->response_headers, 0);
        }
        if (ok)
                ok = atrium_tx_commit (req->tx, &error);
        else
                atrium_tx_rollback (req->tx);

        if (!ok) {
                if (atrium_error_status (error) >= 500 &&
                    atrium_error_status (error) != 507) /* a full quota is not our failure */
                        g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "REQUEST_ID", req->request_id, "MESSAGE", "%s %s failed: %s [%s]",
                                          req->method, e->template, error->message,
                                          req->request_id);
                atrium_request_set_problem (req, error);
                return;
        }
        g_autoptr (GPtrArray) events = atrium_tx_steal_events (req->tx);
        if (events->len)
                atrium_events_deliver (core, req->school_id, req->user_id, events);
}
