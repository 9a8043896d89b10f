/* SPDX-License-Identifier: Apache-2.0 */
/* tx.c - one request (or event delivery) = one transaction, and the results plugins read.
 *
 * The transaction begins lazily with the first query: BEGIN, the row-level-security settings
 * (atrium.school_id, atrium.user_id, atrium.operator, transaction-local) or the request's
 * identity check (core.request_identity(), deferred by pipeline/handle.c), and that query
 * travel in one libpq pipeline, so neither costs a round trip of its own. A request that never
 * queries never takes a connection.
 *
 * A read (GET, HEAD) goes further: its pipeline is a whole READ ONLY transaction, BEGIN READ
 * ONLY, the check, the query and COMMIT, so the answer needs one round trip and one message
 * each way, and nothing is left to commit afterwards. A later query of the same read is a
 * transaction of its own with the same settings: under READ COMMITTED each statement sees a
 * snapshot of its own anyway, so a reader cannot tell. PostgreSQL refuses any write in such a
 * transaction (SQLSTATE 25006) before it changes anything; the host then runs the same
 * statements again in an ordinary transaction, and the rest of that request too.
 *
 * A read of a route flagged ATRIUM_ROUTE_REPLICA may run its pipelines on the streaming
 * replica's pool instead (atrium_tx_read_from, after the identity check on the primary). As a
 * read's pipeline is a whole transaction whose results reach nobody before it is over, a
 * pipeline the replica could not serve (no connection, a recovery conflict, the server going
 * away) is simply sent again to the primary; so is one that tried to write, which a hot
 * standby refuses with the same 25006. The request then stays on the primary. */
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
        g_free (ev->id);
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
atrium_tx_read_from (AtriumTx *tx, AtriumReplica *replica)
{
        g_return_if_fail (tx->read_only && !tx->begun && !tx->replica);
        if (!atrium_replica_usable (replica)) {
                atrium_replica_count (replica, FALSE);
                tx->replica_counted = TRUE;
                return;
        }
        release (tx); /* the primary's connection, which the identity check used */
        tx->primary = tx->pool;
        tx->pool = atrium_replica_pool (replica);
        tx->replica = replica;
}

/* Back to the primary for the rest of the request: the replica's connection goes back to its
 * pool (dropped there if broken or still in a transaction), and a replica that @failed is not
 * used again until its watcher says so. Counted as a fallback unless the replica served the
 * request's first pipeline. */
static void
leave_replica (AtriumTx *tx, gboolean failed)
{
        release (tx);
        if (failed)
                atrium_replica_mark_down (tx->replica);
        if (!tx->replica_counted)
                atrium_replica_count (tx->replica, FALSE);
        tx->replica_counted = TRUE;
        tx->pool = tx->primary;
        tx->replica = NULL;
}

/* The replica's own reasons to fail a statement, for which the primary is asked instead: a
 * conflict with recovery (it cancels queries that hold back replay), the server shutting down
 * or unreachable. */
static gboolean
replica_refused (const PGresult *r)
{
        const char *state = r ? PQresultErrorField (r, PG_DIAG_SQLSTATE) : NULL;
        return state && (g_str_equal (state, "40001") || g_str_has_prefix (state, "57P") ||
                         g_str_has_prefix (state, "08"));
}

static void gate_params_free (AtriumTx *tx);

void
atrium_tx_free (AtriumTx *tx)
{
        if (!tx)
                return;
        atrium_tx_rollback (tx);
        g_ptr_array_unref (tx->events);
        gate_params_free (tx);
        if (tx->gate_data_free)
                tx->gate_data_free (tx->gate_data);
        g_clear_error (&tx->gate_error);
        g_free (tx->school_id);
        g_free (tx->user_id);
        g_free (tx->operator_id);
        g_free (tx->carried_school);
        g_free (tx->carried_user);
        g_free (tx->carried_operator_id);
        g_free (tx);
}

GPtrArray *
atrium_tx_steal_events (AtriumTx *tx)
{
        GPtrArray *evs = tx->events;
        tx->events = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_queued_event_free);
        return evs;
}

/* A statement this pipeline prepares: the step whose result says whether it was. */
typedef struct {
        const char *sql;
        int step;
        gboolean done;
} Fresh;

/* Queues @sql as a prepared statement in the pipeline, preparing it first when this connection
 * has not seen it; behind a transaction pooler (@fresh NULL), as an unnamed statement with its
 * text. *io_steps counts the results that will come back. */
static gboolean
send_prepared (PGconn *c, const char *sql, int n, const char *const *params, int *io_steps,
               GArray *fresh)
{
        if (!fresh) {
                (*io_steps)++;
                return PQsendQueryParams (c, sql, n, NULL, params, NULL, NULL, 0) != 0;
        }
        gboolean is_new;
        g_autofree char *name = atrium_db_statement (c, sql, &is_new);
        if (is_new) {
                Fresh f = {sql, *io_steps, FALSE};
                g_array_append_val (fresh, f);
                if (!PQsendPrepare (c, name, sql, n, NULL))
                        return FALSE;
                (*io_steps)++;
        }
        (*io_steps)++;
        return PQsendQueryPrepared (c, name, n, params, NULL, NULL, 0) != 0;
}

/* Step @i's result of a pipeline (and the NULL after it), its status in *@st (FATAL_ERROR when
 * none came); the statement prepared in step @i, if any, is marked as prepared when it was. */
static PGresult *
pipeline_result (PGconn *c, int i, GArray *fresh, ExecStatusType *st)
{
        PGresult *r = PQgetResult (c), *extra;
        while ((extra = PQgetResult (c)) != NULL)
                PQclear (extra);
        *st = r ? PQresultStatus (r) : PGRES_FATAL_ERROR;
        for (guint f = 0; f < fresh->len; f++)
                if (g_array_index (fresh, Fresh, f).step == i)
                        g_array_index (fresh, Fresh, f).done = *st == PGRES_COMMAND_OK;
        return r;
}

/* Ends a pipeline whose results have been read: its sync (read when @sent; *io_ok stays TRUE
 * only if it came), pipeline mode off, and what a failed statement made PostgreSQL skip
 * forgotten as prepared, so it is prepared again next time. */
static void
pipeline_end (PGconn *c, gboolean sent, GArray *fresh, gboolean *io_ok)
{
        if (sent) {
                g_autoptr (PGresult) sync = PQgetResult (c);
                *io_ok = *io_ok && sync && PQresultStatus (sync) == PGRES_PIPELINE_SYNC;
        }
        if (PQpipelineStatus (c) != PQ_PIPELINE_OFF)
                PQexitPipelineMode (c);
        for (guint f = 0; f < fresh->len; f++)
                if (!g_array_index (fresh, Fresh, f).done)
                        atrium_db_statement_forget (c, g_array_index (fresh, Fresh, f).sql);
}

typedef struct {
        const char *sql;
        int n;
        const char *const *params;
} Statement;

/* A read's transaction ends with its pipeline, but what its statements set for "the rest of
 * the transaction" (core.enter_school() and the plugins' enter_* functions set
 * atrium.school_id) must hold for the read's later queries too: the settings as the pipeline
 * left them become the next transaction's. */
static const char carry_sql[] = "SELECT current_setting('atrium.school_id', true), "
                                "current_setting('atrium.user_id', true), "
                                "current_setting('atrium.operator', true), "
                                "current_setting('atrium.operator_id', true)";

static void
carry_one (char **field, const char *value)
{
        g_free (*field);
        *field = value && *value ? g_strdup (value) : NULL;
}

static void
carry_settings (AtriumTx *tx, const PGresult *r)
{
        if (PQntuples (r) != 1)
                return;
        tx->carried = TRUE;
        carry_one (&tx->carried_school, PQgetvalue (r, 0, 0));
        carry_one (&tx->carried_user, PQgetvalue (r, 0, 1));
        gboolean operator= g_strcmp0 (PQgetvalue (r, 0, 2), "true") == 0;
        carry_one (&tx->carried_operator_id, operator? PQgetvalue (r, 0, 3) : NULL);
}

static gboolean
refused_as_write (const PGresult *r)
{
        return r && PQresultStatus (r) == PGRES_FATAL_ERROR &&
               g_strcmp0 (PQresultErrorField (r, PG_DIAG_SQLSTATE), "25006") == 0;
}

/* Sends BEGIN, the settings and @stmts in one pipeline and stores each statement's result in
 * @out (each may be an error; the caller looks). A read's pipeline ends with COMMIT: the
 * transaction is over when this returns (tx->begun stays FALSE), unless a statement failed,
 * which leaves it open and aborted for the caller's rollback. On a connection that died while idle
 * in the pool nothing has run yet, so it is safe to reconnect and send once more; a read that tried
 * to write is sent once more as an ordinary transaction. */
static gboolean
begin_with (AtriumTx *tx, const Statement *stmts, int n_stmts, PGresult **out, GError **error)
{
        static const char set_sql[] = "SELECT set_config('atrium.school_id', $1, true), "
                                      "set_config('atrium.user_id', $2, true), "
                                      "set_config('atrium.operator', $3, true), "
                                      "set_config('atrium.operator_id', $4, true)";
        /* Behind a transaction pooler the session has none of atrium_db_connect's options:
         * each transaction sets them too. */
        static const char set_pooled_sql[] = "SELECT set_config('atrium.school_id', $1, true), "
                                             "set_config('atrium.user_id', $2, true), "
                                             "set_config('atrium.operator', $3, true), "
                                             "set_config('atrium.operator_id', $4, true), "
                                             "set_config('TimeZone', 'UTC', true), "
                                             "set_config('DateStyle', 'ISO', true), "
                                             "set_config('client_min_messages', 'warning', true), "
                                             "set_config('statement_timeout', $5, true)";
        gboolean reconnected = FALSE;

        for (;;) {
                const gboolean pooled = atrium_db_pool_pooled (tx->pool);
                const char *school = tx->carried ? tx->carried_school : tx->school_id;
                const char *user = tx->carried ? tx->carried_user : tx->user_id;
                const char *op = tx->carried ? tx->carried_operator_id : tx->operator_id;
                const char *set_params[5] = {school ? school : "", user ? user : "",
                                             op ? "true" : "", op ? op : "",
                                             atrium_db_pool_statement_timeout (tx->pool)};
                if (!tx->conn) {
                        GError *local = NULL;
                        tx->conn = atrium_db_pool_acquire (tx->pool, &local);
                        if (!tx->conn && tx->replica) {
                                g_debug ("replica read goes to the primary: %s", local->message);
                                g_clear_error (&local);
                                leave_replica (tx, TRUE);
                                reconnected = FALSE;
                                continue;
                        }
                        if (!tx->conn) {
                                g_propagate_error (error, local);
                                return FALSE;
                        }
                }
                PGconn *c = tx->conn;
                gboolean whole = tx->read_only;
                g_autoptr (GArray) fresh = g_array_new (FALSE, FALSE, sizeof (Fresh));
                GArray *prepare = pooled ? NULL : fresh; /* NULL: unnamed statements */
                int steps = 0, at[2] = {-1, -1};
                g_assert (n_stmts >= 1 && n_stmts <= (int) G_N_ELEMENTS (at));
                /* A request's transaction starts with nothing to set: the identity check sets
                 * the school and the caller itself. BEGIN and COMMIT are prepared statements
                 * too: PostgreSQL then skips parsing them on every request. */
                gboolean settings = school || user || op || pooled;
                gboolean sent =
                        PQenterPipelineMode (c) &&
                        send_prepared (c, whole ? "BEGIN READ ONLY" : "BEGIN", 0, NULL, &steps,
                                       prepare) &&
                        (!settings ||
                         send_prepared (c, pooled ? set_pooled_sql : set_sql, pooled ? 5 : 4,
                                        set_params, &steps, prepare)) &&
                        (!tx->unbounded ||
                         g_str_equal (atrium_db_pool_statement_timeout (tx->pool), "0") ||
                         send_prepared (c, "SELECT set_config('statement_timeout', '0', true)", 0,
                                        NULL, &steps, prepare));
                for (int i = 0; sent && i < n_stmts; i++) {
                        sent = send_prepared (c, stmts[i].sql, stmts[i].n, stmts[i].params, &steps,
                                              prepare);
                        at[i] = steps - 1;
                }
                int carry_at = -1;
                if (whole) {
                        sent = sent && send_prepared (c, carry_sql, 0, NULL, &steps, prepare);
                        carry_at = steps - 1;
                        sent = sent && send_prepared (c, "COMMIT", 0, NULL, &steps, prepare);
                }
                sent = sent && PQpipelineSync (c);
                /* Every step answers one result (then a NULL). Steps other than the statements
                 * must succeed, except a read's COMMIT after a statement failed (the caller
                 * reports that statement's error); the statements' own results go to the
                 * caller. */
                const PGresult *bad = NULL;
                g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) PQclear);
                gboolean ok = sent, stmt_failed = FALSE, wrote = FALSE, refused = FALSE;
                for (int i = 0; i < n_stmts; i++)
                        out[i] = NULL;
                if (sent) {
                        for (int i = 0, k = 0; i < steps; i++) {
                                ExecStatusType st;
                                PGresult *r = pipeline_result (c, i, fresh, &st);
                                if (k < n_stmts && i == at[k]) {
                                        out[k++] = r;
                                        stmt_failed = stmt_failed || st == PGRES_FATAL_ERROR;
                                        wrote = wrote || refused_as_write (r);
                                        refused = refused || replica_refused (r);
                                } else {
                                        if (i == carry_at && st == PGRES_TUPLES_OK)
                                                carry_settings (tx, r);
                                        if (r)
                                                g_ptr_array_add (keep, r);
                                        gboolean aborted_commit = whole && stmt_failed &&
                                                                  st == PGRES_PIPELINE_ABORTED;
                                        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
                                            !aborted_commit)
                                                ok = FALSE;
                                }
                                if (!bad && r && st == PGRES_FATAL_ERROR)
                                        bad = r;
                        }
                }
                pipeline_end (c, sent, fresh, &ok);
                for (int i = 0; i < n_stmts; i++)
                        ok = ok && out[i];
                /* The replica's own failure (judged now: @bad may be a statement's result,
                 * freed below). */
                const gboolean replica_fault = tx->replica && (refused || replica_refused (bad));
                g_autofree char *fault =
                        replica_fault && bad ? g_strdup (PQresultErrorMessage (bad)) : NULL;
                if (ok && wrote) {
                        /* A read that writes: nothing ran, run it as an ordinary transaction.
                         * The failed statement left the READ ONLY one open (a pipeline's end
                         * closes only implicit transactions). */
                        for (int i = 0; i < n_stmts; i++)
                                g_clear_pointer (&out[i], PQclear);
                        g_autoptr (PGresult) undo = PQexec (c, "ROLLBACK");
                        if (PQresultStatus (undo) != PGRES_COMMAND_OK) {
                                atrium_db_set_error (error, c, undo);
                                return FALSE;
                        }
                        if (tx->replica)
                                leave_replica (tx, FALSE);
                        tx->read_only = FALSE;
                        continue;
                }
                if (ok && replica_fault) {
                        for (int i = 0; i < n_stmts; i++)
                                g_clear_pointer (&out[i], PQclear);
                        if (PQstatus (c) == CONNECTION_OK)
                                PQclear (PQexec (c, "ROLLBACK"));
                        g_debug ("replica read goes to the primary: %s", fault ? fault : "?");
                        leave_replica (tx, PQstatus (c) != CONNECTION_OK);
                        continue;
                }
                if (ok) {
                        if (tx->replica && !tx->replica_counted) {
                                atrium_replica_count (tx->replica, TRUE);
                                tx->replica_counted = TRUE;
                        }
                        /* After a failed statement the transaction is still open, aborted: the
                         * caller's rollback ends it. */
                        tx->begun = !whole || stmt_failed;
                        return TRUE;
                }
                /* Judged before out[] is freed: @bad may be one of its results. */
                g_autoptr (GError) failure = NULL;
                atrium_db_set_error (&failure, c, bad);
                for (int i = 0; i < n_stmts; i++)
                        g_clear_pointer (&out[i], PQclear);
                gboolean conn_lost = PQstatus (c) != CONNECTION_OK;
                /* A connection that died while idle in the replica's pool (the replica
                 * restarted) is replaced once, as on the primary, before giving up on it. */
                if (tx->replica && (conn_lost ? reconnected : (bad == NULL || replica_fault))) {
                        leave_replica (tx, TRUE);
                        reconnected = FALSE; /* the primary's connection may need it too */
                        continue;
                }
                if (conn_lost && !reconnected) {
                        reconnected = TRUE;
                        atrium_db_pool_discard (tx->pool, g_steal_pointer (&tx->conn));
                        continue;
                }
                g_propagate_error (error, g_steal_pointer (&failure));
                tx->begun = !whole; /* whatever ran must be rolled back */
                return FALSE;
        }
}

/* The check's parameters may be NULL anywhere (no school, no module: a core DAV tree), so
 * they are freed by count, not as a NULL-terminated vector (which leaked those after a NULL). */
static void
gate_params_free (AtriumTx *tx)
{
        for (int i = 0; tx->gate_params && i < tx->gate_n; i++)
                g_free (tx->gate_params[i]);
        g_clear_pointer (&tx->gate_params, g_free);
}

void
atrium_tx_defer_gate (AtriumTx *tx, const char *sql, int n_params, const char *const *params,
                      AtriumTxGate gate, gpointer data, GDestroyNotify data_free)
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
        tx->gate_data_free = data_free;
}

/* The check's verdict: passed when @refusal is NULL, else failed with @refusal (transfer
 * full), which the client gets and every later query of the transaction returns. */
static gboolean
settle (AtriumTx *tx, GError *refusal, GError **error)
{
        gate_params_free (tx);
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

/* A query inside a begun transaction, as a prepared statement (behind a transaction pooler,
 * @pooled: unnamed, with its text). */
static PGresult *
exec_prepared (PGconn *c, gboolean pooled, const char *sql, int n, const char *const *params)
{
        if (pooled)
                return PQexecParams (c, sql, n, NULL, params, NULL, NULL, 0);
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
                res = exec_prepared (tx->conn, atrium_db_pool_pooled (tx->pool), sql, n_params,
                                     params);
        }
        ExecStatusType st = PQresultStatus (res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
                atrium_db_set_error (error, tx->conn, res);
                PQclear (res);
                tx->failed = TRUE;
                return NULL;
        }
        AtriumResult *r = g_new0 (AtriumResult, 1);
        r->res = res;
        return r;
}

gboolean
atrium_tx_commit (AtriumTx *tx, GError **error)
{
        gboolean ok = TRUE;
        if (tx->failed && !tx->begun) {
                /* A read's transaction, over already: its failed statement was rolled back. */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "transaction had failed");
                ok = FALSE;
        } else if (tx->begun && tx->conn) {
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

gboolean
atrium_tx_commit_midway (AtriumTx *tx, GError **error)
{
        /* What the transaction set for its rest (core.enter_school(), a plugin's enter_*)
         * holds for the next one too, as between a read's pipelines: read in the same round
         * trip as the COMMIT (this runs before a password hash or a call to another server,
         * on cores that may be busy: every round trip then waits for a core). */
        if (!tx->begun || !tx->conn || tx->failed)
                return atrium_tx_commit (tx, error);
        PGconn *c = tx->conn;
        g_autoptr (GArray) fresh = g_array_new (FALSE, FALSE, sizeof (Fresh));
        GArray *prepare = atrium_db_pool_pooled (tx->pool) ? NULL : fresh;
        int steps = 0;
        gboolean ok =
                PQenterPipelineMode (c) && send_prepared (c, carry_sql, 0, NULL, &steps, prepare);
        const int carry_at = steps - 1;
        ok = ok && send_prepared (c, "COMMIT", 0, NULL, &steps, prepare) && PQpipelineSync (c);
        g_autoptr (PGresult) carry = NULL;
        g_autoptr (PGresult) bad = NULL;
        /* Every result is read, whatever failed, so the connection leaves pipeline mode. */
        const gboolean sent = ok;
        for (int i = 0; sent && i < steps; i++) {
                ExecStatusType st;
                PGresult *r = pipeline_result (c, i, fresh, &st);
                if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                        ok = FALSE;
                        if (!bad && st == PGRES_FATAL_ERROR)
                                bad = g_steal_pointer (&r);
                } else if (i == carry_at) {
                        carry = g_steal_pointer (&r);
                }
                if (r)
                        PQclear (r);
        }
        pipeline_end (c, sent, fresh, &ok);
        if (!ok) {
                atrium_db_set_error (error, c, bad);
                tx->failed = TRUE;
                atrium_tx_rollback (tx);
                return FALSE;
        }
        carry_settings (tx, carry);
        tx->begun = FALSE;
        release (tx);
        return TRUE;
}

void
atrium_tx_set_whole (AtriumTx *tx, gboolean whole)
{
        g_return_if_fail (!tx->begun);
        tx->read_only = whole;
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
