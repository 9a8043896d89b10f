/* SPDX-License-Identifier: Apache-2.0 */
/* password.c - a person's own password: the policy every new password meets (here, at
 * activation and at a reset), storing one (hash, must_change_password, the end of the
 * person's sessions), and POST /api/v1/me/password.
 *
 * The change needs the current password, so a stolen session alone cannot take the account
 * over; a wrong one counts as a failed sign-in of that account (auth.c's throttling), or the
 * route would be a way around it. A change ends the person's other sessions and tokens: the
 * usual reason to change a password is that someone else may know it. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

static const char change_schema[] =
        "{\"type\":\"object\",\"required\":[\"current_password\",\"new_password\"],"
        "\"additionalProperties\":false,\"properties\":{"
        "\"current_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
        "\"new_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024,"
        "\"description\":\"at least 8 characters, not containing the username\"}}}";

gboolean
atrium_password_policy (const char *password, const char *username, GError **error)
{
        glong n = g_utf8_strlen (password, -1);
        if (n < ATRIUM_PASSWORD_MIN || strlen (password) > ATRIUM_PASSWORD_MAX) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE,
                             "/new_password: needs %d to %d characters", ATRIUM_PASSWORD_MIN,
                             ATRIUM_PASSWORD_MAX);
                return FALSE;
        }
        /* The username is the first thing a guesser tries, in any case and spelling around
         * it ("Anna.Schmidt2026"). */
        g_autofree char *folded = g_utf8_casefold (password, -1);
        if (username && *username && strstr (folded, username)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE,
                             "/new_password: must not contain the username");
                return FALSE;
        }
        return TRUE;
}

gboolean
atrium_password_store (AtriumRequest *req, const char *user_id, const char *password,
                       gboolean must_change, const char *keep_session, GError **error)
{
        g_autofree char *hash = atrium_password_hash (password);
        return atrium_password_store_hash (req, user_id, hash, must_change, keep_session, error);
}

gboolean
atrium_password_store_hash (AtriumRequest *req, const char *user_id, const char *hash,
                            gboolean must_change, const char *keep_session, GError **error)
{
        /* The request role may write but never read hashes: through the definer function. */
        g_autoptr (AtriumResult) set =
                atrium_sql (req, error, "SELECT core.set_account_hash($1::uuid, $2::uuid, $3)", 3,
                            req->school_id, user_id, hash);
        if (!set)
                return FALSE;
        g_autoptr (AtriumResult) mc = atrium_sql (
                req, error,
                "UPDATE core.users SET must_change_password = $2::boolean, updated_at = now() "
                "WHERE id = $1::uuid",
                2, user_id, must_change ? "true" : "false");
        if (!mc)
                return FALSE;
        g_autoptr (AtriumResult) rev = atrium_sql (
                req, error, "SELECT core.revoke_other_sessions($1::uuid, $2::uuid, $3::uuid)", 3,
                req->school_id, user_id, keep_session);
        if (!rev)
                return FALSE;
        /* Remembered devices skip the second factor: a new password forgets them. */
        g_autoptr (AtriumResult) dev = atrium_sql (
                req, error, "DELETE FROM core.totp_devices WHERE user_id = $1::uuid", 1, user_id);
        return dev != NULL;
}

int
atrium_password_check_own (AtriumRequest *req, const char *given, const char *fresh, GError **error)
{
        if (!req->user_id) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "operators set their password with `atriumd operator create`");
                return -1;
        }
        g_autoptr (AtriumResult) who =
                atrium_sql (req, error,
                            "SELECT s.slug, u.username, l.password_hash FROM core.users u "
                            "JOIN core.schools s ON s.id = u.school_id "
                            "CROSS JOIN LATERAL core.login_account(s.slug, u.username) l "
                            "WHERE u.id = $1::uuid",
                            1, req->user_id);
        if (!who)
                return -1;
        if (atrium_result_n_rows (who) != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no user %s",
                             req->user_id);
                return -1;
        }
        const char *username = atrium_result_value (who, 0, 1);
        const char *hash = atrium_result_value (who, 0, 2);
        if (!atrium_password_policy (fresh, username, error))
                return -1;

        g_autofree char *account_key =
                g_strdup_printf ("user:%s/%s", atrium_result_value (who, 0, 0), username);
        g_autofree char *addr_key = atrium_throttle_addr_key (req);
        int wait = atrium_throttle_wait (req, account_key, addr_key, error);
        if (wait < 0)
                return -1;
        if (wait > 0)
                return atrium_throttle_refuse (req, wait) ? 0 : -1;
        gboolean ok = FALSE;
        /* No connection is held while the hash runs (auth.c). */
        if (!atrium_request_tx_commit (req, error))
                return -1;
        if (hash && given)
                ok = atrium_password_verify (given, hash, NULL);
        else
                atrium_password_burn (given ? given : "");
        if (ok)
                return 1;
        if (!atrium_throttle_fail (req, account_key, addr_key, error))
                return -1;
        atrium_audit (req, "user.password_change_failed", req->user_id, NULL);
        atrium_respond_problem_commit (req, ATRIUM_ERROR_FORBIDDEN,
                                       "/current_password: wrong password");
        return 0;
}

static gboolean
change_own (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *fresh = json_object_get_string_member (in, "new_password");
        int own = atrium_password_check_own (
                req, json_object_get_string_member (in, "current_password"), fresh, error);
        if (own <= 0)
                return own == 0;
        if (!atrium_password_store (req, req->user_id, fresh, FALSE, req->session_id, error))
                return FALSE;
        atrium_audit (req, "user.password_changed", req->user_id, NULL);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

void
atrium_password_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/me/password",
                 .flags =
                         ATRIUM_ROUTE_SLOW | ATRIUM_ROUTE_PASSWORD_CHANGE | ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "Change one's own password (ends one's other sessions)",
                 .request_schema = change_schema, .success_status = 204, .handler = change_own},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
