/* SPDX-License-Identifier: Apache-2.0 */
/* db.c - the connection pool and the mapping of PostgreSQL failures to Atrium errors.
 *
 * The pool has exactly as many connections as the host has workers, so a worker normally
 * never waits. A connection that broke (server restart, network) is dropped on release and
 * re-established on the next acquire: while the database is away every request gets a 503,
 * and the host recovers by itself when it returns. */
#include "db-private.h"

#include <string.h>

typedef struct {
        PGconn *conn; /* idle here; NULL while lent out or not connected */
        gboolean in_use;
        PGconn *lent;     /* while in use: the connection lent out */
        PGcancel *cancel; /* (nullable) the slot's connection's, idle or lent */
} Slot;

struct _AtriumDbPool {
        char *conninfo;
        char *role;
        GMutex lock;
        GCond freed;
        guint waiting; /* threads in acquire() waiting for a slot: only then is freed signalled */
        guint size;
        Slot *slots;
        GThread *warmer; /* (nullable) atrium_db_pool_warm() */
        guint warm;      /* connections it is to open */
        gboolean pooled; /* behind a transaction pooler: no session state, nothing prepared */
        char statement_timeout[16]; /* milliseconds, as text ("0": none) */
};

static PGconn *pool_connect (AtriumDbPool *pool, GError **error);

/* Prepared statements, per connection: SQL text -> statement name. Plugins' SQL is static
 * text, so each connection prepares each statement once and PostgreSQL plans it once (a
 * list query measured 0.8 ms of planning against 0.1 ms of execution). */
static GMutex stmt_lock;
static GHashTable *stmt_tables; /* PGconn* -> GHashTable (sql -> name) */

char *
atrium_db_statement (PGconn *conn, const char *sql, gboolean *out_fresh)
{
        g_mutex_lock (&stmt_lock);
        if (!stmt_tables)
                stmt_tables = g_hash_table_new_full (NULL, NULL, NULL,
                                                     (GDestroyNotify) g_hash_table_unref);
        GHashTable *t = g_hash_table_lookup (stmt_tables, conn);
        if (!t) {
                t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
                g_hash_table_insert (stmt_tables, conn, t);
        }
        char *name = g_hash_table_lookup (t, sql);
        *out_fresh = name == NULL;
        if (!name) {
                name = g_strdup_printf ("atrium_%u", g_hash_table_size (t) + 1);
                g_hash_table_insert (t, g_strdup (sql), name);
        }
        char *out = g_strdup (name);
        g_mutex_unlock (&stmt_lock);
        return out;
}

void
atrium_db_statement_forget (PGconn *conn, const char *sql)
{
        g_mutex_lock (&stmt_lock);
        GHashTable *t = stmt_tables ? g_hash_table_lookup (stmt_tables, conn) : NULL;
        if (t)
                g_hash_table_remove (t, sql);
        g_mutex_unlock (&stmt_lock);
}

void
atrium_db_close (PGconn *conn)
{
        if (!conn)
                return;
        g_mutex_lock (&stmt_lock);
        if (stmt_tables)
                g_hash_table_remove (stmt_tables, conn);
        g_mutex_unlock (&stmt_lock);
        PQfinish (conn);
}

AtriumDbPool *
atrium_db_pool_new (const char *conninfo, guint size, const char *role)
{
        AtriumDbPool *pool = g_new0 (AtriumDbPool, 1);
        pool->conninfo = g_strdup (conninfo);
        pool->role = g_strdup (role);
        pool->size = size;
        pool->slots = g_new0 (Slot, size);
        g_strlcpy (pool->statement_timeout, "0", sizeof pool->statement_timeout);
        g_mutex_init (&pool->lock);
        g_cond_init (&pool->freed);
        return pool;
}

/* Opens connections into idle empty slots, one after the other, off the caller's thread. */
static gpointer
warm_up (gpointer data)
{
        AtriumDbPool *pool = data;
        for (guint n = 0; n < pool->warm; n++) {
                g_autoptr (GError) error = NULL;
                PGconn *conn = pool_connect (pool, &error);
                if (!conn) {
                        /* Not yet (a first start creates the request role in migrate): the
                         * first request connects as always. */
                        g_debug ("pool warm-up: %s", error->message);
                        return NULL;
                }
                gboolean placed = FALSE;
                g_mutex_lock (&pool->lock);
                for (guint i = 0; i < pool->size && !placed; i++) {
                        if (!pool->slots[i].in_use && !pool->slots[i].conn) {
                                pool->slots[i].conn = conn;
                                placed = TRUE;
                        }
                }
                g_mutex_unlock (&pool->lock);
                if (!placed) {
                        atrium_db_close (conn);
                        return NULL;
                }
        }
        return NULL;
}

void
atrium_db_pool_warm (AtriumDbPool *pool, guint n)
{
        g_return_if_fail (pool->warmer == NULL);
        pool->warm = MIN (n, pool->size);
        pool->warmer = g_thread_new ("atrium-pool-warm", warm_up, pool);
}

void
atrium_db_pool_free (AtriumDbPool *pool)
{
        if (!pool)
                return;
        if (pool->warmer)
                g_thread_join (pool->warmer);
        for (guint i = 0; i < pool->size; i++) {
                if (pool->slots[i].conn)
                        atrium_db_close (pool->slots[i].conn);
                if (pool->slots[i].cancel)
                        PQfreeCancel (pool->slots[i].cancel);
        }
        g_free (pool->slots);
        g_free (pool->conninfo);
        g_free (pool->role);
        g_mutex_clear (&pool->lock);
        g_cond_clear (&pool->freed);
        g_free (pool);
}

/* @session_options: the time zone, date style and notice level as the `options` startup
 * parameter (and @statement_timeout, milliseconds, nullable: the server's); a transaction
 * pooler refuses it, and the pool then sets them per transaction. */
static PGconn *
connect_with (const char *conninfo, const char *purpose, const char *role, gboolean session_options,
              const char *statement_timeout, GError **error)
{
        /* expand_dbname lets conninfo be a URI or key=value string. libpq keeps the last value
         * of a repeated keyword, so the keywords before dbname are defaults the operator's
         * URL (or PG* variables) may override, and the options after it are not: UTC + ISO make
         * timestamps easy to turn into RFC 3339; notices (CREATE ... IF NOT EXISTS and the
         * like) are not worth a log line.
         * GSSAPI encryption is off unless asked for (gssencmode in the URL, PGGSSENCMODE):
         * libpq's default ("prefer") looks for a Kerberos credential cache before every TCP
         * connection, which loads and initialises the Kerberos libraries: ~0.6 MiB of the idle
         * host's memory, and time per connection, for a feature a school's database does not
         * use (GSSAPI authentication, a pg_hba method, still works). */
        g_autofree char *app = g_strdup_printf ("atriumd%s%s", purpose ? "-" : "",
                                                purpose ? purpose : "");
        const char *gssenc = g_getenv ("PGGSSENCMODE");
        const char *const keys[] = {"connect_timeout",
                                    "application_name",
                                    "gssencmode",
                                    "dbname",
                                    session_options ? "options" : NULL,
                                    NULL};
        g_autofree char *options = g_strdup_printf (
                "-c timezone=UTC -c datestyle=ISO -c client_min_messages=warning%s%s",
                statement_timeout ? " -c statement_timeout=" : "",
                statement_timeout ? statement_timeout : "");
        /* A request waits on a pool connection; migrations and admin commands can wait longer. */
        const char *const vals[] = {
                purpose ? "10" : "5", app, gssenc ? gssenc : "disable", conninfo, options, NULL};
        g_autoptr (PGconn) conn = PQconnectdbParams (keys, vals, 1);
        if (PQstatus (conn) != CONNECTION_OK) {
                g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (conn)));
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                             "database unavailable: %s", msg);
                return NULL;
        }
        if (role) {
                char *ident = PQescapeIdentifier (conn, role, strlen (role));
                g_autofree char *sql = g_strdup_printf ("SET ROLE %s", ident);
                PQfreemem (ident);
                g_autoptr (PGresult) res = PQexec (conn, sql);
                if (PQresultStatus (res) != PGRES_COMMAND_OK) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                                     "cannot switch to the request role %s: %s", role,
                                     PQerrorMessage (conn));
                        return NULL;
                }
        }
        return g_steal_pointer (&conn);
}

PGconn *
atrium_db_connect (const char *conninfo, const char *purpose, const char *role, GError **error)
{
        return connect_with (conninfo, purpose, role, TRUE, NULL, error);
}

void
atrium_db_pool_set_transaction_pooler (AtriumDbPool *pool, gboolean on)
{
        pool->pooled = on;
}

gboolean
atrium_db_pool_pooled (const AtriumDbPool *pool)
{
        return pool->pooled;
}

void
atrium_db_pool_set_statement_timeout (AtriumDbPool *pool, guint seconds)
{
        g_snprintf (pool->statement_timeout, sizeof pool->statement_timeout, "%u", seconds * 1000);
}

const char *
atrium_db_pool_statement_timeout (const AtriumDbPool *pool)
{
        return pool->statement_timeout;
}

static PGconn *
pool_connect (AtriumDbPool *pool, GError **error)
{
        return connect_with (pool->conninfo, NULL, pool->role, !pool->pooled,
                             pool->statement_timeout, error);
}

struct _AtriumDbOpening {
        GThread *thread;
        char *conninfo;
        char *purpose;
        GError *error;
};

static gpointer
open_on_thread (gpointer data)
{
        AtriumDbOpening *o = data;
        return atrium_db_connect (o->conninfo, o->purpose, NULL, &o->error);
}

AtriumDbOpening *
atrium_db_open_begin (const char *conninfo, const char *purpose)
{
        AtriumDbOpening *o = g_new0 (AtriumDbOpening, 1);
        o->conninfo = g_strdup (conninfo);
        o->purpose = g_strdup (purpose);
        o->thread = g_thread_new ("atrium-db-open", open_on_thread, o);
        return o;
}

PGconn *
atrium_db_open_finish (AtriumDbOpening *opening, GError **error)
{
        PGconn *conn = g_thread_join (opening->thread);
        if (opening->error)
                g_propagate_error (error, opening->error);
        g_free (opening->conninfo);
        g_free (opening->purpose);
        g_free (opening);
        return conn;
}

/* Under the pool's lock. GLib's g_cond_signal() is a futex system call even when nobody waits:
 * one per request on every release, so it is made only for a thread that waits. */
static void
wake_a_waiter (AtriumDbPool *pool)
{
        if (pool->waiting > 0)
                g_cond_signal (&pool->freed);
}

PGconn *
atrium_db_pool_acquire (AtriumDbPool *pool, GError **error)
{
        gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
        Slot *slot = NULL;

        g_mutex_lock (&pool->lock);
        while (!slot) {
                for (guint i = 0; i < pool->size && !slot; i++)
                        if (!pool->slots[i].in_use)
                                slot = &pool->slots[i];
                if (!slot) {
                        pool->waiting++;
                        gboolean woken = g_cond_wait_until (&pool->freed, &pool->lock, deadline);
                        pool->waiting--;
                        if (woken)
                                continue;
                        g_mutex_unlock (&pool->lock);
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                                     "no database connection free");
                        return NULL;
                }
        }
        slot->in_use = TRUE;
        PGconn *conn = slot->conn;
        slot->conn = NULL;
        PGcancel *cancel = g_steal_pointer (&slot->cancel);
        g_mutex_unlock (&pool->lock);

        if (conn && PQstatus (conn) != CONNECTION_OK) {
                atrium_db_close (conn);
                conn = NULL;
        }
        if (!conn) {
                g_clear_pointer (&cancel, PQfreeCancel);
                conn = pool_connect (pool, error);
        }
        if (conn && !cancel)
                cancel = PQgetCancel (conn);
        g_mutex_lock (&pool->lock);
        if (conn) {
                slot->lent = conn;
                slot->cancel = cancel;
        } else {
                slot->in_use = FALSE;
                wake_a_waiter (pool);
        }
        g_mutex_unlock (&pool->lock);
        return conn;
}

/* Back into its slot, kept when @keep, else closed (the slot reconnects on its next use). */
static void
put_back (AtriumDbPool *pool, PGconn *conn, gboolean keep)
{
        PGcancel *drop = NULL;
        gboolean found = FALSE;
        g_mutex_lock (&pool->lock);
        for (guint i = 0; i < pool->size && !found; i++) {
                Slot *slot = &pool->slots[i];
                if (slot->in_use && slot->lent == conn) {
                        found = TRUE;
                        slot->lent = NULL;
                        slot->conn = keep ? conn : NULL;
                        if (!keep)
                                drop = g_steal_pointer (&slot->cancel);
                        slot->in_use = FALSE;
                }
        }
        wake_a_waiter (pool);
        g_mutex_unlock (&pool->lock);
        /* Not this pool's (a bug): closed rather than lost. */
        g_warn_if_fail (found);
        if (!keep || !found)
                atrium_db_close (conn);
        if (drop)
                PQfreeCancel (drop);
}

void
atrium_db_pool_release (AtriumDbPool *pool, PGconn *conn)
{
        g_return_if_fail (conn != NULL);
        /* A connection left inside a transaction or broken is not reused as is. */
        put_back (pool, conn,
                  PQstatus (conn) == CONNECTION_OK && PQtransactionStatus (conn) == PQTRANS_IDLE &&
                          PQpipelineStatus (conn) == PQ_PIPELINE_OFF);
}

void
atrium_db_pool_discard (AtriumDbPool *pool, PGconn *conn)
{
        g_return_if_fail (conn != NULL);
        put_back (pool, conn, FALSE);
}

guint
atrium_db_pool_cancel_lent (AtriumDbPool *pool)
{
        /* Taken out under the lock, sent after it: PQcancel connects to the server, which
         * with the database's network gone takes up to the TCP connect timeout, and every
         * lend and release would wait for the lock meanwhile. A slot whose cancel object was
         * taken makes a new one when it next lends its connection. */
        g_autoptr (GPtrArray) cancels =
                g_ptr_array_new_with_free_func ((GDestroyNotify) PQfreeCancel);
        g_mutex_lock (&pool->lock);
        for (guint i = 0; i < pool->size; i++) {
                Slot *slot = &pool->slots[i];
                if (slot->in_use && slot->lent && slot->cancel)
                        g_ptr_array_add (cancels, g_steal_pointer (&slot->cancel));
        }
        g_mutex_unlock (&pool->lock);
        guint n = 0;
        for (guint i = 0; i < cancels->len; i++) {
                char why[256];
                if (PQcancel (cancels->pdata[i], why, sizeof why))
                        n++;
        }
        return n;
}

void
atrium_db_pool_stats (AtriumDbPool *pool, guint *out_in_use, guint *out_idle)
{
        guint busy = 0, idle = 0;
        g_mutex_lock (&pool->lock);
        for (guint i = 0; i < pool->size; i++) {
                if (pool->slots[i].in_use)
                        busy++;
                else if (pool->slots[i].conn)
                        idle++;
        }
        g_mutex_unlock (&pool->lock);
        *out_in_use = busy;
        *out_idle = idle;
}

void
atrium_db_set_error (GError **error, PGconn *conn, const PGresult *res)
{
        if (!conn || PQstatus (conn) != CONNECTION_OK) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                             "database connection lost");
                return;
        }
        const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *constraint = res ? PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME) : NULL;
        if (!primary)
                primary = PQerrorMessage (conn);
        if (!state)
                state = "";

        /* Constraint violations are the client's business (a duplicate name, a missing
         * referenced row); name the constraint, never echo SQL. Everything else is ours. */
        AtriumErrorCode code;
        if (g_str_equal (state, "23505"))
                code = ATRIUM_ERROR_CONFLICT;
        else if (g_str_equal (state, "23503"))
                code = ATRIUM_ERROR_CONFLICT;
        else if (g_str_equal (state, "23514") || g_str_equal (state, "23502") ||
                 g_str_equal (state, "22P02") || g_str_equal (state, "22007") ||
                 g_str_equal (state, "22008") || g_str_equal (state, "22001") ||
                 g_str_equal (state, "22003") || g_str_equal (state, "22023"))
                code = ATRIUM_ERROR_INVALID;
        else if (g_str_equal (state, "P0002"))
                code = ATRIUM_ERROR_NOT_FOUND;
        else if (g_str_equal (state, "40001") || g_str_equal (state, "40P01") ||
                 g_str_has_prefix (state, "57") || g_str_has_prefix (state, "08") ||
                 g_str_equal (state, "53300"))
                code = ATRIUM_ERROR_UNAVAILABLE;
        else
                code = ATRIUM_ERROR_INTERNAL;

        if (code == ATRIUM_ERROR_INTERNAL)
                g_set_error (error, ATRIUM_ERROR, code, "database error %s: %s", state, primary);
        else if (constraint)
                g_set_error (error, ATRIUM_ERROR, code, "%s (%s)", primary, constraint);
        else
                g_set_error (error, ATRIUM_ERROR, code, "%s", primary);
}
