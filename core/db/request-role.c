/* SPDX-License-Identifier: Apache-2.0 */
/* request-role.c - the least-privileged database role requests run as, and the permission
 * defaults core.begin_request() reads.
 *
 * Given one ATRIUM_DATABASE_URL whose role owns the database and may create roles (the dev and
 * test set-up), migrate creates the role "atrium_request" (NOLOGIN, no BYPASSRLS, owns
 * nothing), grants it what requests need, and makes the owner a member so the pool can
 * `SET ROLE` to it on connect. Production may instead give the host a separate login role with
 * ATRIUM_REQUEST_DATABASE_URL (docs/OPERATIONS.md); migrate still grants that role (name it
 * with [database] request_role / ATRIUM_REQUEST_ROLE).
 *
 * The request role cannot read password hashes (column grants), operators, throttling state
 * or other people's sessions; it reaches those only through the SECURITY DEFINER functions of
 * schema/0002_identity.sql. */
#include "identity-private.h"
#include "plugin-host-private.h"
#include "pipeline-private.h"

#include <string.h>

static gboolean
run (PGconn *conn, const char *sql, GError **error)
{
        g_autoptr (PGresult) res = PQexec (conn, sql);
        ExecStatusType st = PQresultStatus (res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s: %s", sql,
                             PQerrorMessage (conn));
                return FALSE;
        }
        return TRUE;
}

static gboolean
runf (PGconn *conn, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
runf (PGconn *conn, GError **error, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        g_autofree char *sql = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        return run (conn, sql, error);
}

/* What requests may touch, as one batch of GRANT statements for @role (quoted): one round
 * trip, not thirty. */
static char *
grants_batch (AtriumCore *core, PGconn *conn, const char *role)
{
        /* clang-format off */
        static const char *const plain[] = {
                /* table, privileges */
                "core.schools", "SELECT, INSERT, UPDATE, DELETE",
                "core.parent_links", "SELECT, INSERT, UPDATE, DELETE",
                "core.school_modules", "SELECT, INSERT, UPDATE, DELETE",
                "core.role_permission_sets", "SELECT, INSERT, UPDATE, DELETE",
                "core.role_permissions", "SELECT, INSERT, UPDATE, DELETE",
                "core.import_profiles", "SELECT, INSERT, UPDATE, DELETE",
                "core.dav_properties", "SELECT, INSERT, UPDATE, DELETE",
                "core.dav_locks", "SELECT, INSERT, UPDATE, DELETE",
                /* the OpenID provider (core/oidc/); never core.oidc_keys */
                "core.oidc_clients", "SELECT, INSERT, UPDATE, DELETE",
                "core.oidc_grants", "SELECT, INSERT, UPDATE, DELETE",
                "core.oidc_codes", "SELECT, INSERT, UPDATE, DELETE",
                "core.oidc_tokens", "SELECT, INSERT, UPDATE, DELETE",
                "core.oidc_consents", "SELECT, INSERT, UPDATE, DELETE",
                /* the sign-in lifecycle (core/identity/activation.c) */
                "core.activation_codes", "SELECT, INSERT, UPDATE, DELETE",
                "core.totp_recovery", "SELECT, INSERT, UPDATE, DELETE",
                "core.account_policy", "SELECT, INSERT, UPDATE, DELETE",
                "core.totp_devices", "SELECT, INSERT, UPDATE, DELETE",
                /* mailed reset links (reset-mail.c): the token's hash is found only through
                 * core.reset_link_find() */
                "core.reset_links",
                "SELECT (school_id, id, user_id, created_at, expires_at, used_at), INSERT, UPDATE, "
                "DELETE",
                "core.sessions", "SELECT, DELETE",
                "core.event_outbox", "SELECT, INSERT, UPDATE, DELETE",
                "core.audit_log", "SELECT",
                "core.permission_defaults", "SELECT",
                "core.permissions_known", "SELECT",
                "core.migrations", "SELECT",
                NULL,
        };
        /* clang-format on */
        g_autoptr (GString) batch = g_string_new (NULL);
        g_string_append_printf (batch, "GRANT USAGE ON SCHEMA core TO %s;\n", role);
        for (int i = 0; plain[i]; i += 2)
                g_string_append_printf (batch, "GRANT %s ON %s TO %s;\n", plain[i + 1], plain[i],
                                        role);
        /* Everything of a person but the password hash; writes may set it. */
        g_string_append_printf (
                batch,
                "GRANT SELECT (school_id, id, username, display_name, roles, external_id, "
                "created_at, updated_at, email, disabled_at, imported_at, import_class, "
                "import_courses, must_change_password, must_enrol_totp), INSERT, UPDATE, DELETE ON core.users TO %s;\n",
                role);
        /* A second factor's secret is read only through core.totp_secret(). */
        g_string_append_printf (batch,
                                "GRANT SELECT (school_id, user_id, enabled, last_step, "
                                "created_at), INSERT, UPDATE, DELETE ON core.totp TO %s;\n",
                                role);
        /* Plugins own their schemas; requests may read and write their tables. */
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state == ATRIUM_PLUGIN_FAILED || !p->migrations->len)
                        continue;
                char *s = PQescapeIdentifier (conn, p->desc.name, strlen (p->desc.name));
                g_string_append_printf (
                        batch,
                        "GRANT USAGE ON SCHEMA %s TO %s;\n"
                        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s;\n"
                        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %s TO %s;\n"
                        "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %s TO %s;\n",
                        s, role, s, role, s, role, s, role);
                PQfreemem (s);
        }
        return g_string_free (g_steal_pointer (&batch), FALSE);
}

gboolean
atrium_request_role_setup (AtriumCore *core, PGconn *conn, GError **error)
{
        const char *name = core->config->request_role;
        char *q = PQescapeIdentifier (conn, name, strlen (name));
        g_autofree char *role = g_strdup (q);
        PQfreemem (q);

        /* The owner must see across schools inside the SECURITY DEFINER functions, which
         * FORCEd row-level security allows only to superusers and BYPASSRLS roles. */
        g_autoptr (PGresult) who = PQexec (
                conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user");
        if (PQresultStatus (who) != PGRES_TUPLES_OK || PQntuples (who) != 1 ||
            PQgetvalue (who, 0, 0)[0] != 't') {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "the migration role (ATRIUM_DATABASE_URL) needs BYPASSRLS or "
                             "superuser; see docs/OPERATIONS.md");
                return FALSE;
        }

        const char *params[1] = {name};
        g_autoptr (PGresult) exists = PQexecParams (
                conn, "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = $1", 1, NULL,
                params, NULL, NULL, 0);
        if (PQresultStatus (exists) != PGRES_TUPLES_OK) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s",
                             PQerrorMessage (conn));
                return FALSE;
        }
        if (PQntuples (exists) == 0) {
                /* Roles are cluster-wide: another database's migration may create it at the
                 * same moment (our advisory lock is per database). */
                if (!runf (conn, error,
                           "DO $$ BEGIN CREATE ROLE %s NOLOGIN NOSUPERUSER NOBYPASSRLS "
                           "NOCREATEDB NOCREATEROLE; EXCEPTION WHEN duplicate_object OR "
                           "unique_violation THEN NULL; END $$",
                           role))
                        return FALSE;
        } else if (PQgetvalue (exists, 0, 0)[0] == 't') {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "request role %s is a superuser or has BYPASSRLS: row-level "
                             "security would not apply to requests",
                             name);
                return FALSE;
        }
        if (!core->config->request_database_url &&
            !runf (conn, error, "GRANT %s TO current_user", role))
                return FALSE;

        g_autofree char *batch = grants_batch (core, conn, role);
        return run (conn, batch, error);
}

/* The permissions the core and the running plugins declare, and their default roles, as JSON
 * arrays of rows. All rows go in one statement each (a round trip per row made this most of a
 * host's start-up). */
static void
permission_rows_json (AtriumCore *core, char **out_known, char **out_defaults)
{
        g_autoptr (JsonBuilder) known = json_builder_new ();
        g_autoptr (JsonBuilder) defaults = json_builder_new ();
        json_builder_begin_array (known);
        json_builder_begin_array (defaults);
        for (guint i = 0; i <= core->plugins->len; i++) {
                const AtriumPermission *perms;
                const char *owner;
                if (i == core->plugins->len) {
                        perms = atrium_core_permissions;
                        owner = "core";
                } else {
                        AtriumPlugin *p = core->plugins->pdata[i];
                        if (p->state == ATRIUM_PLUGIN_FAILED)
                                continue;
                        perms = p->desc.permissions;
                        owner = p->desc.name;
                }
                for (const AtriumPermission *perm = perms; perm && perm->name; perm++) {
                        json_builder_begin_array (known);
                        json_builder_add_string_value (known, perm->name);
                        json_builder_add_string_value (known, owner);
                        json_builder_add_string_value (known, perm->description ? perm->description
                                                                                 : "");
                        json_builder_end_array (known);
                        g_auto (GStrv) roles = g_strsplit (
                                perm->default_roles ? perm->default_roles : "", ",", -1);
                        for (char **r = roles; *r; r++) {
                                g_strstrip (*r);
                                if (!**r)
                                        continue;
                                json_builder_begin_array (defaults);
                                json_builder_add_string_value (defaults, perm->name);
                                json_builder_add_string_value (defaults, *r);
                                json_builder_end_array (defaults);
                        }
                }
        }
        json_builder_end_array (known);
        json_builder_end_array (defaults);
        g_autoptr (JsonNode) known_node = json_builder_get_root (known);
        g_autoptr (JsonNode) defaults_node = json_builder_get_root (defaults);
        *out_known = json_to_string (known_node, FALSE);
        *out_defaults = json_to_string (defaults_node, FALSE);
}

/* Replaces core.permission_defaults / permissions_known with what the core and the running
 * plugins declare now. Several hosts starting together write the same rows; the advisory lock
 * makes that orderly. */
gboolean
atrium_permission_defaults_sync (AtriumCore *core, PGconn *conn, GError **error)
{
        g_autofree char *known_json = NULL, *defaults_json = NULL;
        permission_rows_json (core, &known_json, &defaults_json);
        /* Several hosts starting together write the same rows; the lock makes that orderly. */
        static const char sql[] = "SELECT pg_advisory_xact_lock(727101); "
                                  "DELETE FROM core.permission_defaults; "
                                  "DELETE FROM core.permissions_known";
        static const char insert_known[] =
                "INSERT INTO core.permissions_known "
                "SELECT e->>0, e->>1, e->>2 FROM json_array_elements($1::json) e "
                "ON CONFLICT DO NOTHING";
        static const char insert_defaults[] =
                "INSERT INTO core.permission_defaults "
                "SELECT e->>0, e->>1 FROM json_array_elements($1::json) e "
                "ON CONFLICT DO NOTHING";
        const char *k[1] = {known_json};
        const char *d[1] = {defaults_json};
        if (!run (conn, "BEGIN", error))
                return FALSE;
        g_autoptr (PGresult) r1 = PQexec (conn, sql); /* three statements, one round trip */
        gboolean ok = PQresultStatus (r1) == PGRES_COMMAND_OK;
        if (ok) {
                g_autoptr (PGresult) r2 =
                        PQexecParams (conn, insert_known, 1, NULL, k, NULL, NULL, 0);
                ok = PQresultStatus (r2) == PGRES_COMMAND_OK;
        }
        if (ok) {
                g_autoptr (PGresult) r3 =
                        PQexecParams (conn, insert_defaults, 1, NULL, d, NULL, NULL, 0);
                ok = PQresultStatus (r3) == PGRES_COMMAND_OK;
        }
        if (ok)
                return run (conn, "COMMIT", error);
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "permission defaults: %s",
                     PQerrorMessage (conn));
        PQclear (PQexec (conn, "ROLLBACK"));
        return FALSE;
}

/* The body of core.plugin_grants(): every registered permission source, UNION ALL. */
static char *
plugin_grants_body (AtriumCore *core, PGconn *conn)
{
        g_autoptr (GString) body = g_string_new ("\n");
        for (guint i = 0; i < core->permission_sources->len; i++) {
                /* "schema.function": both plain identifiers (host_add_permission_source). */
                g_auto (GStrv) parts = g_strsplit (core->permission_sources->pdata[i], ".", 2);
                char *schema = PQescapeIdentifier (conn, parts[0], strlen (parts[0]));
                char *fn = PQescapeIdentifier (conn, parts[1], strlen (parts[1]));
                g_string_append_printf (body, "    %sSELECT g FROM %s.%s(p_school, p_user) g\n",
                                        i ? "UNION ALL " : "", schema, fn);
                PQfreemem (schema);
                PQfreemem (fn);
        }
        if (!core->permission_sources->len)
                g_string_append (body, "    SELECT NULL::text WHERE false\n");

        return g_string_free (g_steal_pointer (&body), FALSE);
}

/* core.plugin_grants(school, user): every registered permission source, called statically,
 * so core.begin_request() plans it once per connection instead of running EXECUTE for each
 * source on every request (schema/0003_static_permission_sources.sql). Rewritten only when the
 * set of sources changed, since a new body invalidates every connection's cached plans. All
 * hosts of one database are expected to run the same plugins. */
gboolean
atrium_plugin_grants_sync (AtriumCore *core, PGconn *conn, GError **error)
{
        g_autofree char *body = plugin_grants_body (core, conn);
        g_autoptr (PGresult) cur = PQexec (
                conn, "SELECT prosrc FROM pg_proc "
                      "WHERE oid = 'core.plugin_grants(uuid, uuid)'::regprocedure");
        if (PQresultStatus (cur) != PGRES_TUPLES_OK || PQntuples (cur) != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "core.plugin_grants() is missing: %s", PQerrorMessage (conn));
                return FALSE;
        }
        if (g_str_equal (PQgetvalue (cur, 0, 0), body))
                return TRUE;
        return runf (conn, error,
                     "CREATE OR REPLACE FUNCTION core.plugin_grants(p_school uuid, p_user uuid) "
                     "RETURNS SETOF text LANGUAGE sql STABLE AS $atrium$%s$atrium$",
                     body);
}

/* Hosts keep callers' permissions between requests (pipeline/perm-cache.c) only when every
 * registered permission source says, in core.permission_source_invalidation, that its plugin
 * takes a new permission epoch whenever what it grants changes
 * (schema/0004_permission_cache.sql). Otherwise each request computes them. */
gboolean
atrium_perm_cache_setup (AtriumCore *core, PGconn *conn, GError **error)
{
        GString *list = g_string_new ("{");
        for (guint i = 0; i < core->permission_sources->len; i++)
                g_string_append_printf (list, "%s\"%s\"", i ? "," : "",
                                        (const char *) core->permission_sources->pdata[i]);
        g_string_append_c (list, '}');
        g_autofree char *sources = g_string_free (list, FALSE);
        const char *params[1] = {sources};
        g_autoptr (PGresult) res = PQexecParams (
                conn,
                "SELECT coalesce(array_agg(s ORDER BY s), '{}') FROM unnest($1::text[]) s "
                "WHERE NOT EXISTS (SELECT 1 FROM core.permission_source_invalidation i "
                "WHERE i.source = s)",
                1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "permission sources: %s",
                             PQerrorMessage (conn));
                return FALSE;
        }
        g_clear_pointer (&core->perm_cache, atrium_perm_cache_free);
        const char *unlisted = PQgetvalue (res, 0, 0);
        if (g_str_equal (unlisted, "{}"))
                core->perm_cache = atrium_perm_cache_new (ATRIUM_PERM_CACHE_ENTRIES);
        else
                g_message ("permissions are computed on every request: the permission sources "
                           "%s do not take new epochs (core.permission_source_invalidation)",
                           unlisted);
        return TRUE;
}

void
atrium_grants_fingerprint (AtriumCore *core, PGconn *conn, GChecksum *fp)
{
        const char *name = core->config->request_role;
        char *q = PQescapeIdentifier (conn, name, strlen (name));
        g_autofree char *role = g_strdup (q);
        PQfreemem (q);
        g_autofree char *batch = grants_batch (core, conn, role);
        g_autofree char *known = NULL, *defaults = NULL;
        permission_rows_json (core, &known, &defaults);
        g_autofree char *body = plugin_grants_body (core, conn);
        const char *login = core->config->request_database_url ? "own login" : "member";
        const char *parts[] = {role, login, batch, known, defaults, body};
        for (guint i = 0; i < G_N_ELEMENTS (parts); i++) {
                g_checksum_update (fp, (const guchar *) parts[i], -1);
                g_checksum_update (fp, (const guchar *) "\n\x1e", 2);
        }
}
