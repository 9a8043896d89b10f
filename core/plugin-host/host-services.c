/* SPDX-License-Identifier: Apache-2.0 */
/* host-services.c - the AtriumHost table: the only door between a plugin and the host.
 *
 * Each slot checks its preconditions with g_return_val_if_fail (a plugin bug, not a client
 * error) and never lets a host-internal type escape. The registration slots are registry.c's:
 * they refuse calls outside init, so every registration is tagged with a plugin that can
 * still be rolled back. */
#include "core-private.h"
#include "identity-private.h"

#include <string.h>

static char *
host_config_get (AtriumPlugin *self, const char *key)
{
        g_return_val_if_fail (self != NULL && key != NULL, NULL);
        return atrium_config_plugin_value (self->core->config, self->desc.name, key);
}

static void
host_log (AtriumPlugin *self, GLogLevelFlags level, const char *message)
{
        g_log_structured ("atrium", level, "PLUGIN", self ? self->desc.name : "?",
                          "MESSAGE", "%s: %s", self ? self->desc.name : "?",
                          message ? message : "");
}

/* ---- requests ---- */

static const char *
req_method (AtriumRequest *req)
{
        return req->method;
}

static const char *
req_param (AtriumRequest *req, const char *name)
{
        return req->params ? g_hash_table_lookup (req->params, name) : NULL;
}

static const char *
req_query (AtriumRequest *req, const char *name)
{
        return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

static const char *
req_header (AtriumRequest *req, const char *name)
{
        g_autofree char *lower = g_ascii_strdown (name, -1);
        return g_hash_table_lookup (req->headers, lower);
}

static JsonNode *
req_json (AtriumRequest *req)
{
        return req->json;
}

static GBytes *
req_body (AtriumRequest *req)
{
        return req->body;
}

/* Who is asking, as the identity check decided: waits for a check deferred into the first
 * query's round trip (core.c) when no query has taken it along yet. A refused check answers
 * as nobody; the host replaces the handler's answer with the refusal anyway. */
static gboolean
admitted (AtriumRequest *req)
{
        return atrium_tx_gate (req->tx, NULL);
}

static const char *
req_school_id (AtriumRequest *req)
{
        return admitted (req) ? req->school_id : NULL;
}

static const char *
req_school_slug (AtriumRequest *req)
{
        return admitted (req) ? req->school_slug : NULL;
}

static const char *
req_user_id (AtriumRequest *req)
{
        return admitted (req) ? req->user_id : NULL;
}

static gboolean
req_has_permission (AtriumRequest *req, const char *permission)
{
        g_return_val_if_fail (req != NULL && permission != NULL, FALSE);
        if (!admitted (req))
                return FALSE;
        if (req->operator_id)
                return TRUE;
        return req->permissions && g_hash_table_contains (req->permissions, permission);
}

static AtriumTx *
req_tx (AtriumRequest *req)
{
        return req->tx;
}

static gboolean
req_page (AtriumRequest *req, int *out_limit, char **out_after, GError **error)
{
        const char *limit = req_query (req, "limit");
        const char *cursor = req_query (req, "cursor");
        guint64 n = 50;
        if (limit && !g_ascii_string_to_unsigned (limit, 10, 1, 500, &n, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "limit must be a whole number from 1 to 500");
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
                                     "cursor is not one this server handed out");
                        return FALSE;
                }
                after = g_strndup ((char *) raw, len);
                g_free (raw);
        }
        *out_limit = (int) n;
        *out_after = after;
        return TRUE;
}

void
atrium_request_set_json (AtriumRequest *req, guint status, JsonNode *body)
{
        req->status = status;
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_clear_object (&req->response_stream);
        g_free (req->content_type);
        if (body) {
                char *text = json_to_string (body, FALSE);
                req->response_body = g_bytes_new_take (text, strlen (text));
                req->content_type = g_strdup ("application/json");
        } else {
                req->content_type = NULL;
        }
}

static void
resp_json (AtriumRequest *req, guint status, JsonNode *body)
{
        atrium_request_set_json (req, status, body);
        if (body)
                json_node_unref (body);
}

static void
resp_bytes (AtriumRequest *req, guint status, const char *content_type, GBytes *body)
{
        req->status = status;
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_clear_object (&req->response_stream);
        g_free (req->content_type);
        req->content_type = g_strdup (content_type);
        req->response_body = body ? g_bytes_ref (body) : NULL;
}

static void
resp_page (AtriumRequest *req, JsonNode *items, const char *next_after)
{
        JsonObject *o = json_object_new ();
        if (!items) {
                items = json_node_new (JSON_NODE_ARRAY);
                json_node_take_array (items, json_array_new ());
        }
        json_object_set_member (o, "items", items);
        if (next_after) {
                g_autofree char *b64 =
                        atrium_base64url_encode ((const guchar *) next_after, strlen (next_after));
                json_object_set_string_member (o, "next_cursor", b64);
        } else {
                json_object_set_null_member (o, "next_cursor");
        }
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        resp_json (req, 200, n);
}

static void
resp_result_page (AtriumRequest *req, const AtriumResult *res, int n_rows, const char *next_after)
{
        g_return_if_fail (req != NULL && n_rows >= 0);
        g_autofree char *cursor =
                next_after ? atrium_base64url_encode ((const guchar *) next_after,
                                                      strlen (next_after))
                           : NULL;
        req->status = 200;
        g_clear_object (&req->response_stream);
        g_clear_pointer (&req->response_body, g_bytes_unref);
        req->response_body = atrium_result_page_body (res, n_rows, cursor);
        g_free (req->content_type);
        req->content_type = g_strdup ("application/json");
}

static void
resp_header (AtriumRequest *req, const char *name, const char *value)
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
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_clear_object (&req->response_stream);
        req->response_body = atrium_problem_body (status, atrium_error_type (error), detail,
                                                  req->path);
        req->status = status;
        g_free (req->content_type);
        req->content_type = g_strdup ("application/problem+json");
}

/* ---- database ---- */

static AtriumResult *
db_query (AtriumTx *tx, const char *sql, int n_params, const char *const *params, GError **error)
{
        g_return_val_if_fail (tx != NULL && sql != NULL && n_params >= 0, NULL);
        return atrium_tx_query (tx, sql, n_params, params, error);
}

static const char *
tx_school (AtriumTx *tx)
{
        return atrium_tx_gate (tx, NULL) ? tx->school_id : NULL;
}

static gboolean
publish (AtriumTx *tx, const char *event, JsonNode *payload, GError **error)
{
        g_return_val_if_fail (tx != NULL, FALSE);
        return atrium_tx_publish (tx, event, payload, error);
}

static gboolean
req_is_operator (AtriumRequest *req)
{
        return admitted (req) && req->operator_id != NULL;
}

static const char *
tx_user (AtriumTx *tx)
{
        return atrium_tx_gate (tx, NULL) ? tx->user_id : NULL;
}

/* ---- ABI 1.2 ---- */

static GInputStream *
req_body_stream (AtriumRequest *req)
{
        return req->body_stream;
}

static void
resp_stream (AtriumRequest *req, guint status, const char *content_type, GInputStream *body,
             goffset length)
{
        g_return_if_fail (G_IS_INPUT_STREAM (body) && length >= 0 && status >= 200 &&
                          status < 600);
        req->status = status;
        g_free (req->content_type);
        req->content_type = g_strdup (content_type ? content_type : "application/octet-stream");
        g_clear_pointer (&req->response_body, g_bytes_unref);
        g_clear_object (&req->response_stream);
        req->response_stream = body;
        req->response_length = length;
}

static char *
host_password_hash (const char *password)
{
        g_return_val_if_fail (password != NULL, NULL);
        return atrium_password_hash (password);
}

static gboolean
host_password_verify (const char *phc, const char *password)
{
        if (!phc || !password)
                return FALSE;
        return atrium_password_verify (password, phc, NULL);
}

static const AtriumHost host_table = {
        .header = ATRIUM_STRUCT_HEADER (AtriumHost),
        .add_route = atrium_registry_add_route,
        .add_migration = atrium_registry_add_migration,
        .subscribe = atrium_registry_subscribe,
        .provide_service = atrium_registry_provide_service,
        .lookup_service = atrium_registry_lookup_service,
        .config_get = host_config_get,
        .log = host_log,
        .request_method = req_method,
        .request_param = req_param,
        .request_query = req_query,
        .request_header = req_header,
        .request_json = req_json,
        .request_body = req_body,
        .request_school_id = req_school_id,
        .request_school_slug = req_school_slug,
        .request_user_id = req_user_id,
        .request_has_permission = req_has_permission,
        .request_tx = req_tx,
        .request_page = req_page,
        .respond_json = resp_json,
        .respond_bytes = resp_bytes,
        .respond_page = resp_page,
        .response_header = resp_header,
        .query = db_query,
        .result_n_rows = atrium_result_n_rows,
        .result_n_cols = atrium_result_n_cols,
        .result_col_name = atrium_result_col_name,
        .result_value = atrium_result_value,
        .result_row_json = atrium_result_row_json,
        .result_rows_json = atrium_result_rows_json,
        .result_affected = atrium_result_affected,
        .result_free = atrium_result_free,
        .tx_school_id = tx_school,
        .publish = publish,
        .request_is_operator = req_is_operator,
        .tx_user_id = tx_user,
        .add_permission_source = atrium_registry_add_permission_source,
        .request_body_stream = req_body_stream,
        .respond_stream = resp_stream,
        .data_dir = atrium_host_data_dir,
        .add_command = atrium_host_add_command,
        .add_timer = atrium_host_add_timer,
        .run_tx = atrium_host_run_tx,
        .password_hash = host_password_hash,
        .password_verify = host_password_verify,
        .respond_result_page = resp_result_page,
};

const AtriumHost *
atrium_host_table (void)
{
        return &host_table;
}
