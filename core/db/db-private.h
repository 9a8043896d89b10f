/* SPDX-License-Identifier: Apache-2.0 */
/* db-private.h - the PostgreSQL side of the host: a fixed-size connection pool that
 * reconnects by itself, and the per-request transaction (AtriumTx) plugins query through.
 *
 * A transaction starts lazily: BEGIN, the RLS settings or the identity check and the first
 * query go to the server in one libpq pipeline, and a read that wrote nothing sends COMMIT
 * without waiting for it, so a typical GET costs one round trip. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libpq-fe.h>

#include "atrium/host.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGconn, PQfinish)

typedef struct _AtriumDbPool AtriumDbPool;

/* The one way the host connects to PostgreSQL: @conninfo (URI or key=value), UTC, ISO dates,
 * no notices; application_name "atriumd-@purpose" (nullable: "atriumd"); then SET ROLE @role
 * (nullable: stay the login role, the owner, as migrations and admin commands do).
 * Returns: (transfer full); NULL with an ATRIUM_ERROR_UNAVAILABLE error */
PGconn *atrium_db_connect (const char *conninfo, const char *purpose, const char *role,
                           GError **error);

/* atrium_db_connect on a thread of its own, so start-up can load plugins while PostgreSQL
 * starts a backend (a new connection costs it several milliseconds). _finish waits for it and
 * frees @opening; Returns: (transfer full) (nullable), as atrium_db_connect. */
typedef struct _AtriumDbOpening AtriumDbOpening;
AtriumDbOpening *atrium_db_open_begin (const char *conninfo, const char *purpose);
PGconn *atrium_db_open_finish (AtriumDbOpening *opening, GError **error);

/* @role: (nullable): SET ROLE to it on every new connection (the request role). */
AtriumDbPool *atrium_db_pool_new (const char *conninfo, guint size, const char *role);
void atrium_db_pool_free (AtriumDbPool *pool);
/* Behind a transaction pooler (PgBouncer pool_mode = transaction, [database] pooler): every
 * transaction may meet another server session, so the pool keeps nothing in the session: no
 * `options` at connect (the settings go into each transaction), no statement prepared by
 * name (tx.c sends each with its text), no SET ROLE (the request role logs in itself). */
void atrium_db_pool_set_transaction_pooler (AtriumDbPool *pool, gboolean on);
/* [database] statement_timeout: how long one statement of a request may run, waiting for
 * locks included, before PostgreSQL cancels it; 0: no limit. For connections opened after the
 * call; a transaction marked unbounded (run_tx: timers, commands) lifts it for itself.
 * _statement_timeout: milliseconds, as text. */
void atrium_db_pool_set_statement_timeout (AtriumDbPool *pool, guint seconds);
const char *atrium_db_pool_statement_timeout (const AtriumDbPool *pool);
gboolean atrium_db_pool_pooled (const AtriumDbPool *pool);
/* Opens up to @n connections in a thread of its own, so the first requests (and /readyz) find
 * them open; quietly stops at the first that fails. */
void atrium_db_pool_warm (AtriumDbPool *pool, guint n);
/* Blocks up to a few seconds for a free connection; reconnects a broken one. On failure an
 * ATRIUM_ERROR_UNAVAILABLE error. */
PGconn *atrium_db_pool_acquire (AtriumDbPool *pool, GError **error);
/* Back into the pool: kept for the next acquire when it is idle and sound, else closed. */
void atrium_db_pool_release (AtriumDbPool *pool, PGconn *conn);
/* Back into the pool and closed: its slot reconnects on its next use. */
void atrium_db_pool_discard (AtriumDbPool *pool, PGconn *conn);
/* Asks PostgreSQL to cancel what each connection lent out is running (PQcancel; from any
 * thread): for a drain that ran out of time. Returns: how many requests were sent. */
guint atrium_db_pool_cancel_lent (AtriumDbPool *pool);
void atrium_db_pool_stats (AtriumDbPool *pool, guint *out_in_use, guint *out_idle);

/* The name @sql is (or is to be) prepared under on @conn; *out_fresh: not prepared yet.
 * Returns: (transfer full) */
char *atrium_db_statement (PGconn *conn, const char *sql, gboolean *out_fresh);
/* After a failed preparation: the next use prepares again. */
void atrium_db_statement_forget (PGconn *conn, const char *sql);
/* PQfinish, and forget the connection's prepared statements. */
void atrium_db_close (PGconn *conn);

/* replica.c: the streaming replica heavy reads may use ([database] replica_url): its own
 * pool (@role and @pooled as for the primary's) and a watcher thread that measures, once a
 * second, whether it is up, still a standby and at most @max_lag_seconds behind the primary
 * (@primary_conninfo, a direct connection: the owner's URL). */
typedef struct _AtriumReplica AtriumReplica;
AtriumReplica *atrium_replica_new (const char *conninfo, guint pool_size, const char *role,
                                   gboolean pooled, const char *primary_conninfo,
                                   guint max_lag_seconds);
/* Starts the watcher (a serving host only); until its first look the replica is not used. */
void atrium_replica_start (AtriumReplica *replica);
void atrium_replica_free (AtriumReplica *replica);
AtriumDbPool *atrium_replica_pool (AtriumReplica *replica);
/* One atomic read: may a read go there now? FALSE for a NULL @replica. */
gboolean atrium_replica_usable (AtriumReplica *replica);
/* After a failure in a request: not usable until the watcher's next look. */
void atrium_replica_mark_down (AtriumReplica *replica);
/* Counts one flagged request: read from the replica, or fell back to the primary. */
void atrium_replica_count (AtriumReplica *replica, gboolean on_replica);
/* For /metrics and /readyz; *@out_lag_ms: the last measured bound, -1 unknown. */
void atrium_replica_stats (AtriumReplica *replica, guint64 *out_reads, guint64 *out_fallbacks,
                           int *out_lag_ms, gboolean *out_usable);

/* Maps a failed PGresult / connection to an AtriumError (unique violation -> CONFLICT, ...). */
void atrium_db_set_error (GError **error, PGconn *conn, const PGresult *res);

struct _AtriumResult {
        PGresult *res;
};

/* What a transaction knows before its first query: the tenant and the caller. */
typedef struct {
        char *school_id; /* NULL: not school-scoped */
        char *user_id;
} AtriumTxContext;

typedef struct {
        char *name;
        JsonNode *payload;
        char *id; /* (nullable) its id in core.event_outbox, once written there */
} AtriumQueuedEvent;

/* The caller's identity as the first statement's result decides it (pipeline/handle.c): fills the request
 * and answers FALSE with the error the client gets (401, 403, 404) when it may not go on. */
typedef gboolean (*AtriumTxGate) (const AtriumResult *res, gpointer data, GError **error);

typedef enum {
        ATRIUM_GATE_NONE,    /* nothing to check, or checked before the transaction began */
        ATRIUM_GATE_PENDING, /* sent with the first query, or alone when asked for */
        ATRIUM_GATE_PASSED,
        ATRIUM_GATE_FAILED,
} AtriumGateState;

struct _AtriumTx {
        AtriumDbPool *pool;
        PGconn *conn;
        char *school_id;
        char *user_id;
        char *operator_id; /* (nullable) an operator's request: atrium.operator is set */
        /* The settings a read's last pipeline left (tx.c), which its next transaction starts
         * with; school_id and the rest above say whom the request is for. */
        gboolean carried;
        char *carried_school, *carried_user, *carried_operator_id;
        gboolean begun; /* a transaction is open on @conn (never between a read's queries) */
        gboolean failed;
        gboolean unbounded; /* background work (run_tx: timers, commands; event subscribers):
                             * not bound by [database] statement_timeout */
        gboolean read_only; /* a GET or HEAD (or a DAV PROPFIND, REPORT): each pipeline a whole
                             * READ ONLY transaction, until
                             * a statement turns out to write (tx.c) */
        GPtrArray *events; /* AtriumQueuedEvent, delivered after commit */
        /* A read on the replica (atrium_tx_read_from): @pool is the replica's until the
         * replica fails or a statement writes, then @primary again. */
        AtriumReplica *replica; /* (nullable) while reading there */
        AtriumDbPool *primary;
        gboolean replica_counted; /* the request was counted (atrium_replica_count) */

        /* The identity check deferred into the first query's pipeline (atrium_tx_defer_gate). */
        AtriumGateState gate_state;
        const char *gate_sql; /* static */
        int gate_n;
        char **gate_params; /* gate_n entries, each nullable */
        AtriumTxGate gate;
        gpointer gate_data;
        GDestroyNotify gate_data_free; /* (nullable) */
        GError *gate_error; /* ATRIUM_GATE_FAILED: what the client is told */
};

AtriumTx *atrium_tx_new (AtriumDbPool *pool, const char *school_id, const char *user_id);
/* Commits if anything ran; returns the connection to the pool either way. */
gboolean atrium_tx_commit (AtriumTx *tx, GError **error);
void atrium_tx_rollback (AtriumTx *tx);
/* Commits what ran so far and gives the connection back; the settings the transaction left
 * and its events stay with @tx, and the next query begins a new transaction. */
gboolean atrium_tx_commit_midway (AtriumTx *tx, GError **error);
/* From the next query on, each pipeline is a whole READ ONLY transaction (@whole), as a
 * read's are, or queries share one ordinary transaction again. Only with no transaction
 * open: reads before a password hash leave none open, at no round trip of their own. */
void atrium_tx_set_whole (AtriumTx *tx, gboolean whole);
void atrium_tx_free (AtriumTx *tx);
GPtrArray *atrium_tx_steal_events (AtriumTx *tx);
void atrium_queued_event_free (AtriumQueuedEvent *ev);
AtriumResult *atrium_tx_query (AtriumTx *tx, const char *sql, int n_params,
                               const char *const *params, GError **error);
/* Defers the identity check @sql (one row) until the transaction's first query, which then
 * travels in the same pipeline (BEGIN, @sql, the query: one round trip), or until
 * atrium_tx_gate() asks for it. @gate judges the row before the query's result is handed out;
 * when it refuses, the query fails with the gate's error and the transaction is rolled back.
 * @data_free (nullable) frees @data with the transaction.
 * The query runs before the check has been judged, so only requests that cannot change
 * anything before it are deferred: GET and HEAD (pipeline/handle.c). @params are copied. */
void atrium_tx_defer_gate (AtriumTx *tx, const char *sql, int n_params, const char *const *params,
                           AtriumTxGate gate, gpointer data, GDestroyNotify data_free);
/* Runs the deferred check now if it has not run. TRUE when there is none or it passed. */
gboolean atrium_tx_gate (AtriumTx *tx, GError **error);
gboolean atrium_tx_publish (AtriumTx *tx, const char *event, JsonNode *payload, GError **error);
/* The rest of a read (tx->read_only, no transaction open) reads from @replica when it is
 * usable; otherwise counts a fallback and stays. tx.c moves it back to the primary when the
 * replica fails (the pipeline is sent again there: nothing of it reached the caller) or a
 * statement writes. */
void atrium_tx_read_from (AtriumTx *tx, AtriumReplica *replica);

int atrium_result_n_rows (const AtriumResult *res);
int atrium_result_n_cols (const AtriumResult *res);
const char *atrium_result_col_name (const AtriumResult *res, int col);
const char *atrium_result_value (const AtriumResult *res, int row, int col);
/* result-json.c: the rows as JSON, as a tree or straight to text (same mapping). */
JsonNode *atrium_result_row_json (const AtriumResult *res, int row);
JsonNode *atrium_result_rows_json (const AtriumResult *res);
/* A timestamptz value as the API shows every time: RFC 3339 (as the JSON mappings write it),
 * not PostgreSQL's text. NULL for NULL. Returns: (transfer full) (nullable) */
char *atrium_result_time (const AtriumResult *res, int row, int col);
void atrium_json_append_string (GString *out, const char *s);
void atrium_result_append_row (GString *out, const AtriumResult *res, int row);
/* {"items": [the first @n_rows rows], "next_cursor": @next_cursor or null}
 * Returns: (transfer full) */
GBytes *atrium_result_page_body (const AtriumResult *res, int n_rows, const char *next_cursor);
guint64 atrium_result_affected (const AtriumResult *res);
void atrium_result_free (AtriumResult *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumTx, atrium_tx_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumResult, atrium_result_free)

/* migrate.c: applies pending migrations; @with_grants also sets up the request role and the
 * permission defaults (needs the plugins loaded). */
typedef struct _AtriumCore AtriumCore;
gboolean atrium_migrate (AtriumCore *core, gboolean with_grants, GError **error);
