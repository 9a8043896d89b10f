/* SPDX-License-Identifier: Apache-2.0 */
/* migrate.c - applies numbered SQL migrations: the core's (schema/, compiled into atriumd as
 * a GResource) and each running plugin's (registered in init, run in the plugin's own SQL
 * schema). Several hosts may start at once: a PostgreSQL advisory lock serialises them, and
 * each migration runs in its own transaction together with its row in core.migrations. A
 * migration whose text changed after it was applied stops the host: the database no longer
 * matches what the code believes, and guessing would be worse than stopping. */
#include "core-private.h"
#include "plugin-host-private.h"
#include "pipeline-private.h"
#include "db-private.h"

#include <gio/gio.h>
#include <string.h>

#include "atrium-resources.h"
#include "identity-private.h"
#include "oidc-private.h"

#define MIGRATION_LOCK_KEY "727100"

static const char bootstrap_sql[] =
        "CREATE SCHEMA IF NOT EXISTS core;"
        "CREATE TABLE IF NOT EXISTS core.migrations ("
        "  owner text NOT NULL, name text NOT NULL, checksum text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (owner, name));"
        /* One row: the fingerprint of the last complete run (fingerprint() below) and the
         * digest of core.migrations it left. */
        "CREATE TABLE IF NOT EXISTS core.migration_state ("
        "  id boolean PRIMARY KEY DEFAULT true CHECK (id), fingerprint text NOT NULL,"
        "  migrations_digest text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())";

/* core.migrations as one value: a row edited by hand since the last run shows here. */
#define MIGRATIONS_DIGEST                                                                          \
        "(SELECT md5(coalesce(string_agg(owner || '/' || name || ' ' || checksum, E'\\n' "         \
        "ORDER BY owner, name), '')) FROM core.migrations)"

static gboolean
exec_ok (PGconn *conn, const char *sql, GError **error)
{
        g_autoptr (PGresult) res = PQexec (conn, sql);
        if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s",
                             g_strstrip (g_strdup (PQerrorMessage (conn))));
                return FALSE;
        }
        return TRUE;
}

/* The core's migrations, in name order, as AtriumMigration records. */
static GPtrArray *
core_migrations (GError **error)
{
        GResource *res = atrium_get_resource ();
        g_auto (GStrv) names =
                g_resource_enumerate_children (res, "/dev/atrium/schema", 0, error);
        if (!names)
                return NULL;
        qsort (names, g_strv_length (names), sizeof (char *),
               (int (*) (const void *, const void *)) g_strcmp0);
        GPtrArray *out = g_ptr_array_new ();
        for (char **n = names; *n; n++) {
                if (!g_str_has_suffix (*n, ".sql"))
                        continue;
                g_autofree char *path = g_strconcat ("/dev/atrium/schema/", *n, NULL);
                g_autoptr (GBytes) b = g_resource_lookup_data (res, path, 0, error);
                if (!b) {
                        g_ptr_array_unref (out);
                        return NULL;
                }
                AtriumMigration *m = g_new0 (AtriumMigration, 1);
                m->name = g_strdup (*n);
                m->sql = g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
                m->checksum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, m->sql, -1);
                g_ptr_array_add (out, m);
        }
        return out;
}

static int
by_name (gconstpointer a, gconstpointer b)
{
        const AtriumMigration *x = *(AtriumMigration *const *) a;
        const AtriumMigration *y = *(AtriumMigration *const *) b;
        return strcmp (x->name, y->name);
}

/* Applies @list for @owner ("core" or a plugin name). */
static gboolean
apply (PGconn *conn, const char *owner, gboolean own_schema, GPtrArray *list, guint *applied,
       GError **error)
{
        g_ptr_array_sort (list, by_name);
        for (guint i = 0; i < list->len; i++) {
                AtriumMigration *m = list->pdata[i];
                const char *params[2] = {owner, m->name};
                g_autoptr (PGresult) seen = PQexecParams (
                        conn, "SELECT checksum FROM core.migrations WHERE owner=$1 AND name=$2",
                        2, NULL, params, NULL, NULL, 0);
                if (PQresultStatus (seen) != PGRES_TUPLES_OK) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s",
                                     PQerrorMessage (conn));
                        return FALSE;
                }
                if (PQntuples (seen) == 1) {
                        if (!g_str_equal (PQgetvalue (seen, 0, 0), m->checksum)) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                             "migration %s/%s was changed after it was applied "
                                             "(recorded checksum %.12s, now %.12s); never edit "
                                             "an applied migration, add a new one",
                                             owner, m->name, PQgetvalue (seen, 0, 0),
                                             m->checksum);
                                return FALSE;
                        }
                        continue;
                }
                g_assert (m->sql != NULL); /* released only after the start-up's run */
                if (!exec_ok (conn, "BEGIN", error))
                        return FALSE;
                gboolean ok = TRUE;
                if (own_schema) {
                        /* Plugin names are [a-z][a-z0-9_]*, checked at load; quoting anyway. */
                        char *ident = PQescapeIdentifier (conn, owner, strlen (owner));
                        g_autofree char *set = g_strdup_printf (
                                "CREATE SCHEMA IF NOT EXISTS %s; SET LOCAL search_path = %s, "
                                "public",
                                ident, ident);
                        PQfreemem (ident);
                        ok = exec_ok (conn, set, error);
                }
                ok = ok && exec_ok (conn, m->sql, error);
                if (ok) {
                        const char *ins[3] = {owner, m->name, m->checksum};
                        g_autoptr (PGresult) r = PQexecParams (
                                conn,
                                "INSERT INTO core.migrations (owner, name, checksum) "
                                "VALUES ($1, $2, $3)",
                                3, NULL, ins, NULL, NULL, 0);
                        ok = PQresultStatus (r) == PGRES_COMMAND_OK;
                        if (!ok)
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s",
                                             PQerrorMessage (conn));
                }
                ok = ok && exec_ok (conn, "COMMIT", error);
                if (!ok) {
                        PQclear (PQexec (conn, "ROLLBACK"));
                        g_prefix_error (error, "migration %s/%s: ", owner, m->name);
                        return FALSE;
                }
                (*applied)++;
                g_message ("applied migration %s/%s", owner, m->name);
        }
        return TRUE;
}

/* SHA-256 over everything a complete run writes: every migration (owner, name, checksum) and
 * the grants, permission rows and permission function (atrium_grants_fingerprint). */
static char *
fingerprint (AtriumCore *core, PGconn *conn, GPtrArray *mine)
{
        g_autoptr (GChecksum) fp = g_checksum_new (G_CHECKSUM_SHA256);
        for (guint i = 0; i <= core->plugins->len; i++) {
                GPtrArray *list = mine;
                const char *owner = "core";
                if (i < core->plugins->len) {
                        AtriumPlugin *p = core->plugins->pdata[i];
                        if (p->state == ATRIUM_PLUGIN_FAILED)
                                continue;
                        list = p->migrations;
                        owner = p->desc.name;
                }
                g_ptr_array_sort (list, by_name);
                for (guint j = 0; j < list->len; j++) {
                        AtriumMigration *m = list->pdata[j];
                        g_autofree char *line =
                                g_strdup_printf ("%s/%s %s\n", owner, m->name, m->checksum);
                        g_checksum_update (fp, (const guchar *) line, -1);
                }
        }
        atrium_grants_fingerprint (core, conn, fp);
        return g_strdup (g_checksum_get_string (fp));
}

/* TRUE when the last complete run wrote @fp and core.migrations is as it left it: then there
 * is nothing to do, and no lock to take (that run wrote this row last, after everything
 * else). */
static gboolean
unchanged (PGconn *conn, const char *fp)
{
        const char *params[1] = {fp};
        g_autoptr (PGresult) res =
                PQexecParams (conn,
                              "SELECT 1 FROM core.migration_state "
                              "WHERE fingerprint = $1 AND migrations_digest = " MIGRATIONS_DIGEST,
                              1, NULL, params, NULL, NULL, 0);
        return PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1;
}

static gboolean
record (PGconn *conn, const char *fp, GError **error)
{
        const char *params[1] = {fp};
        g_autoptr (PGresult) res = PQexecParams (
                conn,
                "INSERT INTO core.migration_state (id, fingerprint, migrations_digest) "
                "VALUES (true, $1, " MIGRATIONS_DIGEST ") "
                "ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
                "migrations_digest = EXCLUDED.migrations_digest, written_at = now()",
                1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (res) == PGRES_COMMAND_OK)
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s", PQerrorMessage (conn));
        return FALSE;
}

gboolean
atrium_migrate (AtriumCore *core, gboolean with_grants, GError **error)
{
        /* Opened while the plugins loaded (startup.c), or now. */
        g_autoptr (PGconn) conn =
                core->migrate_conn
                        ? atrium_db_open_finish (g_steal_pointer (&core->migrate_conn), error)
                        : atrium_db_connect (core->config->database_url, "migrate", NULL, error);
        if (!conn) {
                g_prefix_error (error, "migrations: ");
                return FALSE;
        }
        g_autoptr (GPtrArray) mine = core_migrations (error);
        if (!mine)
                return FALSE;
        g_ptr_array_set_free_func (mine, (GDestroyNotify) atrium_migration_free);
        /* A host starting against a database that is already current (the usual start) reads
         * one row instead of taking the lock and re-granting everything. `atriumd migrate`
         * always does the whole run, which also repairs grants changed by hand. */
        g_autofree char *fp = with_grants ? fingerprint (core, conn, mine) : NULL;
        if (fp && !core->migrate_always && unchanged (conn, fp)) {
                core->migrations_done = TRUE;
                g_message ("migrations: database is current");
                return atrium_perm_cache_setup (core, conn, error) &&
                       atrium_oidc_keys_setup (core, conn, error);
        }
        if (!exec_ok (conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", error) ||
            !exec_ok (conn, bootstrap_sql, error))
                return FALSE;

        guint applied = 0;
        gboolean ok = apply (conn, "core", FALSE, mine, &applied, error);
        for (guint i = 0; ok && i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state == ATRIUM_PLUGIN_FAILED || !p->migrations->len)
                        continue;
                ok = apply (conn, p->desc.name, TRUE, p->migrations, &applied, error);
        }
        /* Grants and permission defaults under the same lock: hosts starting together would
         * otherwise race on CREATE ROLE and GRANT. Only a full host (plugins loaded) does this,
         * or it would drop the plugins' permission defaults. The fingerprint goes last. */
        if (ok && with_grants)
                ok = atrium_request_role_setup (core, conn, error) &&
                     atrium_permission_defaults_sync (core, conn, error) &&
                     atrium_plugin_grants_sync (core, conn, error) && record (conn, fp, error);
        g_autoptr (GError) unlock_error = NULL;
        exec_ok (conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", &unlock_error);
        if (ok) {
                core->migrations_done = TRUE;
                g_message ("migrations: %u applied, database is current", applied);
        }
        return ok && (!with_grants || (atrium_perm_cache_setup (core, conn, error) &&
                                       atrium_oidc_keys_setup (core, conn, error)));
}
