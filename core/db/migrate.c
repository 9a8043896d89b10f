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

#define MIGRATION_LOCK_KEY "727100"

static const char bootstrap_sql[] =
        "CREATE SCHEMA IF NOT EXISTS core;"
        "CREATE TABLE IF NOT EXISTS core.migrations ("
        "  owner text NOT NULL, name text NOT NULL, checksum text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (owner, name))";

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

static void
migration_free (AtriumMigration *m)
{
        g_free (m->name);
        g_free (m->sql);
        g_free (m->checksum);
        g_free (m);
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

gboolean
atrium_migrate (AtriumCore *core, gboolean with_grants, GError **error)
{
        g_autoptr (PGconn) conn =
                atrium_db_connect (core->config->database_url, "migrate", NULL, error);
        if (!conn) {
                g_prefix_error (error, "migrations: ");
                return FALSE;
        }
        if (!exec_ok (conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", error) ||
            !exec_ok (conn, bootstrap_sql, error))
                return FALSE;

        guint applied = 0;
        g_autoptr (GPtrArray) mine = core_migrations (error);
        gboolean ok = mine != NULL;
        if (mine)
                g_ptr_array_set_free_func (mine, (GDestroyNotify) migration_free);
        ok = ok && apply (conn, "core", FALSE, mine, &applied, error);
        for (guint i = 0; ok && i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state == ATRIUM_PLUGIN_FAILED || !p->migrations->len)
                        continue;
                ok = apply (conn, p->desc.name, TRUE, p->migrations, &applied, error);
        }
        /* Grants and permission defaults under the same lock: hosts starting together would
         * otherwise race on CREATE ROLE and GRANT. Only a full host (plugins loaded) does this,
         * or it would drop the plugins' permission defaults. */
        if (ok && with_grants)
                ok = atrium_request_role_setup (core, conn, error) &&
                     atrium_permission_defaults_sync (core, conn, error) &&
                     atrium_plugin_grants_sync (core, conn, error);
        g_autoptr (GError) unlock_error = NULL;
        exec_ok (conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", &unlock_error);
        if (ok) {
                core->migrations_done = TRUE;
                g_message ("migrations: %u applied, database is current", applied);
        }
        return ok;
}
