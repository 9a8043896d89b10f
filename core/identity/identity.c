/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c - wires the identity layer into the host (routes, permissions) and runs
 * `atriumd operator create`. The routes live by area: auth.c, schools.c, users.c,
 * user-import.c, roles.c, audit.c; what they share is in model.c, which calls none of them. */
#include "identity-private.h"
#include "pipeline-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const AtriumPermission atrium_core_permissions[] = {
        {"users.read", "List and search the school's people", "admin,teacher,staff"},
        {"users.manage", "Create, change, import and delete people", "admin"},
        {"users.reset_password",
         "Reset the password of a pupil of one's classes or courses (docs/ACCOUNTS.md)",
         "admin,teacher"},
        {"users.export", "Export what the platform holds about a person (GDPR)", "admin"},
        {"modules.manage", "Enable and disable modules for the school", "admin"},
        {"roles.manage", "Change which permissions each role has", "admin"},
        {"audit.read", "Read the school's audit log", "admin"},
        {"school.manage", "Rename the school", "admin"},
        {"oidc.manage", "Register the applications people sign in to with their school account",
         "admin"},
        {NULL, NULL, NULL},
};

void
atrium_identity_register (AtriumCore *core)
{
        atrium_auth_routes (core);
        atrium_browser_session_routes (core);
        atrium_school_routes (core);
        atrium_user_routes (core);
        atrium_import_routes (core);
        atrium_import_profile_routes (core);
        atrium_role_routes (core);
        atrium_audit_routes (core);
        atrium_password_routes (core);
        atrium_activation_routes (core);
        atrium_reset_mail_routes (core);
        atrium_reset_routes (core);
        atrium_totp_routes (core);
        atrium_account_policy_routes (core);
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
