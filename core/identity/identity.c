/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c - wires the identity layer into the host (routes, permissions, the request role)
 * and holds the small helpers the core's own route files share. The routes themselves live by
 * area: auth.c, schools.c, users.c, user-import.c, roles.c, audit.c. */
#include "identity-private.h"
#include "pipeline-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const AtriumPermission atrium_core_permissions[] = {
        {"users.read", "List and search the school's people", "admin,teacher,staff"},
        {"users.manage", "Create, change, import and delete people", "admin"},
        {"users.export", "Export what the platform holds about a person (GDPR)", "admin"},
        {"modules.manage", "Enable and disable modules for the school", "admin"},
        {"roles.manage", "Change which permissions each role has", "admin"},
        {"audit.read", "Read the school's audit log", "admin"},
        {"school.manage", "Rename the school", "admin"},
        {NULL, NULL, NULL},
};

void
atrium_identity_register (AtriumCore *core)
{
        atrium_auth_routes (core);
        atrium_school_routes (core);
        atrium_user_routes (core);
        atrium_import_routes (core);
        atrium_role_routes (core);
        atrium_audit_routes (core);
}

static char *
read_password (void)
{
        char buf[ATRIUM_PASSWORD_MAX + 2];
        if (isatty (STDIN_FILENO))
                g_printerr ("password: ");
        if (!fgets (buf, sizeof buf, stdin))
                return NULL;
        buf[strcspn (buf, "\r\n")] = '\0';
        char *out = g_strdup (buf);
        memset (buf, 0, sizeof buf);
        return out;
}

int
atrium_identity_operator_create (AtriumCore *core, const char *name)
{
        if (!g_regex_match_simple ("^[a-z0-9._-]{2,64}\\z", name, 0, 0)) {
                g_printerr ("atriumd: operator names are 2-64 of [a-z0-9._-]\n");
                return 2;
        }
        g_autofree char *password = read_password ();
        if (!password || g_utf8_strlen (password, -1) < ATRIUM_PASSWORD_MIN) {
                g_printerr ("atriumd: the password (one line on stdin) needs at least %d "
                            "characters\n",
                            ATRIUM_PASSWORD_MIN);
                return 2;
        }
        g_autoptr (GError) error = NULL;
        if (!atrium_migrate (core, FALSE, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                return 1;
        }
        g_autoptr (PGconn) conn = atrium_db_connect (core->config->database_url, "admin", NULL, &error);
        if (!conn) {
                g_printerr ("atriumd: %s\n", error->message);
                return 1;
        }
        g_autofree char *hash = atrium_password_hash (password);
        memset (password, 0, strlen (password));
        const char *params[2] = {name, hash};
        g_autoptr (PGresult) res = PQexecParams (
                conn,
                "INSERT INTO core.operators (username, password_hash) VALUES ($1, $2) "
                "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
                "updated_at = now() RETURNING id, (xmax = 0) AS created",
                2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
                g_printerr ("atriumd: %s", PQerrorMessage (conn));
                return 1;
        }
        gboolean created = PQgetvalue (res, 0, 1)[0] == 't';
        /* A reset password ends every session the operator had. */
        const char *id[1] = {PQgetvalue (res, 0, 0)};
        g_autoptr (PGresult) rev = PQexecParams (
                conn, "DELETE FROM core.sessions WHERE operator_id = $1::uuid", 1, NULL, id,
                NULL, NULL, 0);
        const char *audit[3] = {id[0], created ? "operator.created" : "operator.password_reset",
                                id[0]};
        g_autoptr (PGresult) au = PQexecParams (
                conn,
                "SELECT core.audit(NULL, $1::uuid, 'system', $2, $3::text, '{}'::jsonb, 'cli')", 3,
                NULL, audit, NULL, NULL, 0);
        if (PQresultStatus (rev) != PGRES_COMMAND_OK || PQresultStatus (au) != PGRES_TUPLES_OK) {
                g_printerr ("atriumd: %s", PQerrorMessage (conn));
                return 1;
        }
        printf ("operator %s %s\n", name, created ? "created" : "updated");
        return 0;
}

/* ---- helpers for the core's route files ---- */

AtriumResult *
atrium_sql (AtriumRequest *req, GError **error, const char *sql, int n, ...)
{
        const char *params[16];
        g_return_val_if_fail (n >= 0 && n <= (int) G_N_ELEMENTS (params), NULL);
        va_list ap;
        va_start (ap, n);
        for (int i = 0; i < n; i++)
                params[i] = va_arg (ap, const char *);
        va_end (ap);
        return atrium_tx_query (req->tx, sql, n, params, error);
}

void
atrium_audit (AtriumRequest *req, const char *action, const char *target, JsonNode *details)
{
        g_autofree char *json = details ? json_to_string (details, FALSE) : NULL;
        if (details)
                json_node_unref (details);
        const char *actor = req->user_id ? req->user_id : req->operator_id;
        const char *kind = req->user_id ? "user" : req->operator_id ? "operator" : "anonymous";
        g_autoptr (GError) error = NULL;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, &error,
                "SELECT core.audit($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7)", 7,
                req->school_id, actor, kind, action, target, json, req->client);
        /* A failed audit write fails the transaction, and with it the action: nothing
         * security-relevant happens unrecorded. */
        if (!res)
                g_warning ("audit %s: %s", action, error->message);
}

gboolean
atrium_require_operator (AtriumRequest *req, GError **error)
{
        if (req->operator_id)
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                     "only platform operators may do this");
        return FALSE;
}

gboolean
atrium_valid_uuid_or_404 (const char *id, const char *what, GError **error)
{
        if (id && g_uuid_string_is_valid (id))
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no %s %s", what, id ? id : "");
        return FALSE;
}

JsonNode *
atrium_json_object_node (JsonObject *o)
{
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

void
atrium_respond_problem_commit (AtriumRequest *req, AtriumErrorCode code, const char *msg)
{
        g_autoptr (GError) e = g_error_new_literal (ATRIUM_ERROR, code, msg);
        atrium_request_set_problem (req, e);
}
