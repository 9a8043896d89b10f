/* SPDX-License-Identifier: Apache-2.0 */
/* tx.c - one request (or event delivery) = one transaction, and the results plugins read.
 *
 * The transaction begins lazily with the first query: BEGIN, the row-level-security settings
 * (atrium.school_id, atrium.user_id, transaction-local) or the request's identity check
 * (core.begin_request(), deferred by pipeline/handle.c), and that query travel in one libpq pipeline, so
 * neither costs a round trip of its own. A request that never queries never takes a
 * connection. */
#include "db-private.h"

#include <stdlib.h>
#include <string.h>


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
        g_strfreev (tx->gate_params);
        g_clear_error (&tx->gate_error);
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

typedef struct {
        const char *sql;
        int n;
        const char *const *params;
} Statement;

/* Sends BEGIN, the settings and @stmts in one pipeline and stores each statement's result in
 * @out (each may be an error; the caller looks). On a connection that died while idle in the
 * pool nothing has run yet, so it is safe to reconnect and send once more. */
static gboolean
begin_with (AtriumTx *tx, const Statement *stmts, int n_stmts, PGresult **out, GError **error)
{
        static const char set_sql[] = "SELECT set_config('atrium.school_id', $1, true), "
                                      "set_config('atrium.user_id', $2, true)";
        const char *set_params[2] = {tx->school_id ? tx->school_id : "",
                                     tx->user_id ? tx->user_id : ""};

        for (int attempt = 0; attempt < 2; attempt++) {
                if (!tx->conn) {
                        tx->conn = atrium_db_pool_acquire (tx->pool, error);
                        if (!tx->conn)
                                return FALSE;
                }
                PGconn *c = tx->conn;
                g_autoptr (GPtrArray) fresh = g_ptr_array_new ();
                int steps = 1, at[2] = {-1, -1};
                g_assert (n_stmts >= 1 && n_stmts <= (int) G_N_ELEMENTS (at));
                /* A request's transaction starts with nothing to set: core.begin_request()
                 * sets the school and the user itself. */
                gboolean settings = tx->school_id || tx->user_id;
                gboolean sent = PQenterPipelineMode (c) &&
                                PQsendQueryParams (c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
                                (!settings ||
                                 send_prepared (c, set_sql, 2, set_params, &steps, fresh));
                for (int i = 0; sent && i < n_stmts; i++) {
                        sent = send_prepared (c, stmts[i].sql, stmts[i].n, stmts[i].params,
                                              &steps, fresh);
                        at[i] = steps - 1;
                }
                sent = sent && PQpipelineSync (c);
                /* Every step answers one result (then a NULL). Steps before the first
                 * statement must succeed; the statements' own results go to the caller. */
                const PGresult *bad = NULL;
                g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) PQclear);
                gboolean ok = sent;
                for (int i = 0; i < n_stmts; i++)
                        out[i] = NULL;
                if (sent) {
                        for (int i = 0, k = 0; i < steps; i++) {
                                PGresult *r = PQgetResult (c);
                                PGresult *extra;
                                while ((extra = PQgetResult (c)) != NULL)
                                        PQclear (extra);
                                ExecStatusType st = r ? PQresultStatus (r) : PGRES_FATAL_ERROR;
                                if (k < n_stmts && i == at[k]) {
                                        out[k++] = r;
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
                for (int i = 0; i < n_stmts; i++)
                        ok = ok && out[i];
                if (ok) {
                        tx->begun = TRUE;
                        return TRUE;
                }
                for (int i = 0; i < n_stmts; i++)
                        g_clear_pointer (&out[i], PQclear);
                /* Whatever was to be prepared in this attempt may not be: prepare it again. */
                for (guint i = 0; i < fresh->len; i++)
                        atrium_db_statement_forget (c, fresh->pdata[i]);
                gboolean conn_lost = PQstatus (c) != CONNECTION_OK;
                if (conn_lost && attempt == 0) {
                        atrium_db_close (tx->conn);
                        tx->conn = NULL;
                        /* The pool slot stays ours; release() below hands back NULL. */
                        atrium_db_pool_release (tx->pool, NULL);
                        continue;
                }
                atrium_db_set_error (error, c, bad);
                tx->begun = TRUE; /* whatever ran must be rolled back */
                return FALSE;
        }
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE, "database unavailable");
        return FALSE;
}

void
atrium_tx_defer_gate (AtriumTx *tx, const char *sql, int n_params, const char *const *params,
                      AtriumTxGate gate, gpointer data)
{
        g_return_if_fail (tx != NULL && !tx->begun && tx->gate_state == ATRIUM_GATE_NONE);
        tx->gate_state = ATRIUM_GATE_PENDING;
        tx->gate_sql = sql;
        tx->gate_n = n_params;
        tx->gate_params = g_new0 (char *, n_params + 1);
        for (int i = 0; i < n_params; i++)
                tx->gate_params[i] = g_strdup (params[i]);
        tx->gate = gate;
        tx->gate_data = data;
}

/* The check's verdict: passed when @refusal is NULL, else failed with @refusal (transfer
 * full), which the client gets and every later query of the transaction returns. */
static gboolean
settle (AtriumTx *tx, GError *refusal, GError **error)
{
        g_clear_pointer (&tx->gate_params, g_strfreev);
        if (!refusal) {
                tx->gate_state = ATRIUM_GATE_PASSED;
                return TRUE;
        }
        tx->gate_state = ATRIUM_GATE_FAILED;
        tx->gate_error = g_error_copy (refusal);
        tx->failed = TRUE;
        g_propagate_error (error, refusal);
        return FALSE;
}

/* Judges the check's result (@res, owned). */
static gboolean
judge (AtriumTx *tx, PGresult *res, GError **error)
{
        GError *refusal = NULL;
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
                atrium_db_set_error (&refusal, tx->conn, res);
        } else {
                AtriumResult r = {.res = res};
                tx->gate (&r, tx->gate_data, &refusal);
        }
        PQclear (res);
        return settle (tx, refusal, error);
}

gboolean
atrium_tx_gate (AtriumTx *tx, GError **error)
{
        if (!tx)
                return TRUE;
        switch (tx->gate_state) {
        case ATRIUM_GATE_NONE:
        case ATRIUM_GATE_PASSED:
                return TRUE;
        case ATRIUM_GATE_FAILED:
                if (error)
                        *error = g_error_copy (tx->gate_error);
                return FALSE;
        case ATRIUM_GATE_PENDING:
                break;
        }
        Statement check = {tx->gate_sql, tx->gate_n, (const char *const *) tx->gate_params};
        PGresult *res;
        GError *local = NULL;
        if (!begin_with (tx, &check, 1, &res, &local))
                return settle (tx, local, error); /* not even begun: that is the verdict too */
        return judge (tx, res, error);
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
        if (tx->gate_state == ATRIUM_GATE_FAILED) {
                g_propagate_error (error, g_error_copy (tx->gate_error));
                return NULL;
        }
        if (tx->failed) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "query after a failed query in the same transaction");
                return NULL;
        }
        PGresult *res;
        if (!tx->begun && tx->gate_state == ATRIUM_GATE_PENDING) {
                /* The identity check and this query in one round trip; the check is judged
                 * before anyone sees the query's result. */
                Statement both[2] = {{tx->gate_sql, tx->gate_n,
                                      (const char *const *) tx->gate_params},
                                     {sql, n_params, params}};
                PGresult *out[2];
                GError *local = NULL;
                if (!begin_with (tx, both, 2, out, &local)) {
                        settle (tx, local, error); /* not even begun: the verdict too */
                        return NULL;
                }
                if (!judge (tx, out[0], error)) {
                        PQclear (out[1]);
                        return NULL;
                }
                res = out[1];
        } else if (!tx->begun) {
                Statement one = {sql, n_params, params};
                if (!begin_with (tx, &one, 1, &res, error)) {
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
