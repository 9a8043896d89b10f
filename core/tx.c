/* SPDX-License-Identifier: Apache-2.0 */
/* tx.c - one request (or event delivery) = one transaction, and the results plugins read.
 *
 * The transaction begins lazily with the first query: BEGIN, the row-level-security settings
 * (atrium.school_id, atrium.user_id, transaction-local) and that query travel in one libpq
 * pipeline, so the tenant setting costs no extra round trip. A request that never queries
 * never takes a connection. */
#include "db-private.h"

#include <stdlib.h>
#include <string.h>

#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_TIMESTAMPTZ 1184
#define OID_JSONB 3802

AtriumTx *
atrium_tx_new (AtriumDbPool *pool, const char *school_id, const char *user_id)
{
        AtriumTx *tx = g_new0 (AtriumTx, 1);
        tx->pool = pool;
        tx->school_id = g_strdup (school_id);
        tx->user_id = g_strdup (user_id);
        tx->events = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_queued_event_free);
        return tx;
}

void
atrium_queued_event_free (AtriumQueuedEvent *ev)
{
        if (!ev)
                return;
        g_free (ev->name);
        if (ev->payload)
                json_node_unref (ev->payload);
        g_free (ev);
}

static void
release (AtriumTx *tx)
{
        if (tx->conn) {
                atrium_db_pool_release (tx->pool, tx->conn);
                tx->conn = NULL;
        }
}

void
atrium_tx_free (AtriumTx *tx)
{
        if (!tx)
                return;
        atrium_tx_rollback (tx);
        g_ptr_array_unref (tx->events);
        g_free (tx->school_id);
        g_free (tx->user_id);
        g_free (tx);
}

GPtrArray *
atrium_tx_steal_events (AtriumTx *tx)
{
        GPtrArray *evs = tx->events;
        tx->events = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_queued_event_free);
        return evs;
}

/* Queues @sql as a prepared statement in the pipeline, preparing it first when this connection
 * has not seen it. *io_steps counts the results that will come back. */
static gboolean
send_prepared (PGconn *c, const char *sql, int n, const char *const *params, int *io_steps,
               GPtrArray *fresh)
{
        gboolean is_new;
        g_autofree char *name = atrium_db_statement (c, sql, &is_new);
        if (is_new) {
                g_ptr_array_add (fresh, (gpointer) sql);
                if (!PQsendPrepare (c, name, sql, n, NULL))
                        return FALSE;
                (*io_steps)++;
        }
        (*io_steps)++;
        return PQsendQueryPrepared (c, name, n, params, NULL, NULL, 0) != 0;
}

/* Sends BEGIN + settings + the first query in one pipeline and returns the query's result.
 * On a connection that died while idle in the pool nothing has run yet, so it is safe to
 * reconnect and send once more. */
static PGresult *
begin_with (AtriumTx *tx, const char *sql, int n, const char *const *params, GError **error)
{
        static const char set_sql[] = "SELECT set_config('atrium.school_id', $1, true), "
                                      "set_config('atrium.user_id', $2, true)";
        const char *set_params[2] = {tx->school_id ? tx->school_id : "",
                                     tx->user_id ? tx->user_id : ""};

        for (int attempt = 0; attempt < 2; attempt++) {
                if (!tx->conn) {
                        tx->conn = atrium_db_pool_acquire (tx->pool, error);
                        if (!tx->conn)
                                return NULL;
                }
                PGconn *c = tx->conn;
                g_autoptr (GPtrArray) fresh = g_ptr_array_new ();
                int steps = 1;
                /* A request's transaction starts with nothing to set: core.begin_request()
                 * sets the school and the user itself. */
                gboolean settings = tx->school_id || tx->user_id;
                gboolean sent = PQenterPipelineMode (c) &&
                                PQsendQueryParams (c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
                                (!settings ||
                                 send_prepared (c, set_sql, 2, set_params, &steps, fresh)) &&
                                send_prepared (c, sql, n, params, &steps, fresh) &&
                                PQpipelineSync (c);
                /* Every step answers one result (then a NULL); the query's is the last. */
                PGresult *last = NULL;
                const PGresult *bad = NULL;
                g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) PQclear);
                gboolean ok = sent;
                if (sent) {
                        for (int i = 0; i < steps; i++) {
                                PGresult *r = PQgetResult (c);
                                PGresult *extra;
                                while ((extra = PQgetResult (c)) != NULL)
                                        PQclear (extra);
                                ExecStatusType st = r ? PQresultStatus (r) : PGRES_FATAL_ERROR;
                                if (i == steps - 1) {
                                        last = r;
                                } else {
                                        if (r)
                                                g_ptr_array_add (keep, r);
                                        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                                                ok = FALSE;
                                }
                                if (!bad && r && st == PGRES_FATAL_ERROR)
                                        bad = r;
                        }
                        g_autoptr (PGresult) sync = PQgetResult (c);
                        ok = ok && sync && PQresultStatus (sync) == PGRES_PIPELINE_SYNC;
                }
                if (PQpipelineStatus (c) != PQ_PIPELINE_OFF)
                        PQexitPipelineMode (c);
                if (ok && last) {
                        tx->begun = TRUE;
                        return last; /* may be an error; the caller looks */
                }
                /* Whatever was to be prepared in this attempt may not be: prepare it again. */
                for (guint i = 0; i < fresh->len; i++)
                        atrium_db_statement_forget (c, fresh->pdata[i]);
                gboolean conn_lost = PQstatus (c) != CONNECTION_OK;
                if (conn_lost && attempt == 0) {
                        PQclear (last);
                        atrium_db_close (tx->conn);
                        tx->conn = NULL;
                        /* The pool slot stays ours; release() below hands back NULL. */
                        atrium_db_pool_release (tx->pool, NULL);
                        continue;
                }
                atrium_db_set_error (error, c, bad);
                PQclear (last);
                tx->begun = TRUE; /* whatever ran must be rolled back */
                return NULL;
        }
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE, "database unavailable");
        return NULL;
}

/* A query inside a begun transaction, as a prepared statement. */
static PGresult *
exec_prepared (PGconn *c, const char *sql, int n, const char *const *params)
{
        gboolean is_new;
        g_autofree char *name = atrium_db_statement (c, sql, &is_new);
        if (is_new) {
                PGresult *prep = PQprepare (c, name, sql, n, NULL);
                if (PQresultStatus (prep) != PGRES_COMMAND_OK) {
                        atrium_db_statement_forget (c, sql);
                        return prep;
                }
                PQclear (prep);
        }
        return PQexecPrepared (c, name, n, params, NULL, NULL, 0);
}

AtriumResult *
atrium_tx_query (AtriumTx *tx, const char *sql, int n_params, const char *const *params,
                 GError **error)
{
        g_return_val_if_fail (tx != NULL && sql != NULL, NULL);
        if (tx->failed) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "query after a failed query in the same transaction");
                return NULL;
        }
        PGresult *res;
        if (!tx->begun) {
                res = begin_with (tx, sql, n_params, params, error);
                if (!res) {
                        tx->failed = TRUE;
                        return NULL;
                }
        } else {
                res = exec_prepared (tx->conn, sql, n_params, params);
        }
        ExecStatusType st = PQresultStatus (res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
                atrium_db_set_error (error, tx->conn, res);
                PQclear (res);
                tx->failed = TRUE;
                return NULL;
        }
        if (!g_str_has_prefix (PQcmdStatus (res), "SELECT "))
                tx->wrote = TRUE;
        AtriumResult *r = g_new0 (AtriumResult, 1);
        r->res = res;
        return r;
}

/* A transaction of a GET that wrote nothing (a statement other than SELECT) and queued no
 * event: its COMMIT cannot lose anything, so it is sent without waiting for the answer, which
 * the connection's next user reads. The request's answer goes out one round trip sooner. */
static gboolean
commit_without_waiting (AtriumTx *tx)
{
        if (!tx->read_only || tx->wrote || tx->failed || tx->events->len || !tx->begun ||
            !tx->conn)
                return FALSE;
        PGconn *c = tx->conn;
        if (!PQenterPipelineMode (c))
                return FALSE;
        if (!PQsendQueryParams (c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
            !PQpipelineSync (c)) {
                /* The connection is broken; release() will close it. */
                return FALSE;
        }
        tx->begun = FALSE;
        tx->conn = NULL;
        atrium_db_pool_release_committing (tx->pool, c);
        return TRUE;
}

gboolean
atrium_tx_commit (AtriumTx *tx, GError **error)
{
        gboolean ok = TRUE;
        if (commit_without_waiting (tx))
                return TRUE;
        if (tx->begun && tx->conn) {
                g_autoptr (PGresult) res = PQexec (tx->conn, tx->failed ? "ROLLBACK" : "COMMIT");
                if (tx->failed) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "transaction had failed");
                        ok = FALSE;
                } else if (PQresultStatus (res) != PGRES_COMMAND_OK) {
                        atrium_db_set_error (error, tx->conn, res);
                        ok = FALSE;
                }
        }
        tx->begun = FALSE;
        release (tx);
        if (!ok)
                g_ptr_array_set_size (tx->events, 0);
        return ok;
}

void
atrium_tx_rollback (AtriumTx *tx)
{
        if (tx->begun && tx->conn) {
                PQclear (PQexec (tx->conn, "ROLLBACK"));
        }
        tx->begun = FALSE;
        g_ptr_array_set_size (tx->events, 0);
        release (tx);
}

gboolean
atrium_tx_publish (AtriumTx *tx, const char *event, JsonNode *payload, GError **error)
{
        if (!event || !strchr (event, '.')) {
                if (payload)
                        json_node_unref (payload);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "event names are <plugin>.<what>, got \"%s\"", event ? event : "");
                return FALSE;
        }
        AtriumQueuedEvent *ev = g_new0 (AtriumQueuedEvent, 1);
        ev->name = g_strdup (event);
        ev->payload = payload ? payload : json_node_new (JSON_NODE_NULL);
        g_ptr_array_add (tx->events, ev);
        return TRUE;
}

int
atrium_result_n_rows (const AtriumResult *r)
{
        return r ? PQntuples (r->res) : 0;
}

int
atrium_result_n_cols (const AtriumResult *r)
{
        return r ? PQnfields (r->res) : 0;
}

const char *
atrium_result_col_name (const AtriumResult *r, int col)
{
        return r ? PQfname (r->res, col) : NULL;
}

const char *
atrium_result_value (const AtriumResult *r, int row, int col)
{
        if (!r || row < 0 || row >= PQntuples (r->res) || col < 0 || col >= PQnfields (r->res) ||
            PQgetisnull (r->res, row, col))
                return NULL;
        return PQgetvalue (r->res, row, col);
}

/* "2026-11-26 08:00:00.5+00" (ISO DateStyle, UTC session) -> "2026-11-26T08:00:00.5Z" */
static char *
timestamptz_to_rfc3339 (const char *v)
{
        GString *s = g_string_new (v);
        if (s->len > 10 && s->str[10] == ' ')
                s->str[10] = 'T';
        if (g_str_has_suffix (s->str, "+00"))
                g_string_truncate (s, s->len - 3), g_string_append_c (s, 'Z');
        return g_string_free (s, FALSE);
}

static JsonNode *
value_node (const PGresult *res, int row, int col)
{
        if (PQgetisnull (res, row, col))
                return json_node_new (JSON_NODE_NULL);
        const char *v = PQgetvalue (res, row, col);
        JsonNode *n = json_node_new (JSON_NODE_VALUE);
        switch (PQftype (res, col)) {
        case OID_BOOL:
                json_node_set_boolean (n, v[0] == 't');
                break;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
                json_node_set_int (n, g_ascii_strtoll (v, NULL, 10));
                break;
        case OID_FLOAT4:
        case OID_FLOAT8:
                json_node_set_double (n, g_ascii_strtod (v, NULL));
                break;
        case OID_JSON:
        case OID_JSONB: {
                json_node_unref (n);
                g_autoptr (JsonParser) p = json_parser_new_immutable ();
                if (json_parser_load_from_data (p, v, -1, NULL) && json_parser_get_root (p))
                        return json_node_copy (json_parser_get_root (p));
                return json_node_new (JSON_NODE_NULL);
        }
        case OID_TIMESTAMPTZ:
        {
                g_autofree char *ts = timestamptz_to_rfc3339 (v);
                json_node_set_string (n, ts);
                break;
        }
        default:
                json_node_set_string (n, v);
        }
        return n;
}

JsonNode *
atrium_result_row_json (const AtriumResult *r, int row)
{
        if (!r || row < 0 || row >= PQntuples (r->res))
                return json_node_new (JSON_NODE_NULL);
        JsonObject *o = json_object_new ();
        int cols = PQnfields (r->res);
        for (int c = 0; c < cols; c++)
                json_object_set_member (o, PQfname (r->res, c), value_node (r->res, row, c));
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

JsonNode *
atrium_result_rows_json (const AtriumResult *r)
{
        JsonArray *a = json_array_new ();
        int rows = r ? PQntuples (r->res) : 0;
        for (int i = 0; i < rows; i++)
                json_array_add_element (a, atrium_result_row_json (r, i));
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, a);
        return n;
}

guint64
atrium_result_affected (const AtriumResult *r)
{
        const char *t = r ? PQcmdTuples (r->res) : "";
        return *t ? g_ascii_strtoull (t, NULL, 10) : 0;
}

void
atrium_result_free (AtriumResult *r)
{
        if (!r)
                return;
        PQclear (r->res);
        g_free (r);
}
