/* SPDX-License-Identifier: Apache-2.0 */
/* reset.c - resetting someone else's password: POST
 * /api/v1/schools/{school}/users/{id}/password-reset (permission users.reset_password).
 *
 * Who may reset whom (docs/ACCOUNTS.md): holders of users.manage (admins) anyone in their
 * school but themselves; everyone else with users.reset_password (teachers, by default) only
 * pupils - people whose only role is student - who are in a class or course together with
 * them (the groups service: groups of type class or course, by the import or by hand). Without the
 * groups module a teacher has no pupils to reset. A reset sets a one-time password or issues
 * an activation code, marks the account must_change_password, ends every session and token
 * of the person, and is audited. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <atrium/groups.h>
#include <string.h>

static const char reset_schema[] =
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
        "\"method\":{\"type\":\"string\",\"enum\":[\"password\",\"activation_code\"],"
        "\"default\":\"password\",\"description\":\"a one-time password, or an activation "
        "code\"},"
        "\"valid_days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":90,\"default\":14,"
        "\"description\":\"for an activation code\"}}}";

/* Whether @caller and @target are members (of any role) of one class or course: the groups of
 * those types are what the import makes of the school's classes and courses, so a
 * whole-school workgroup a teacher is in does not make every pupil theirs. */
static gboolean
share_a_class (AtriumRequest *req, const char *caller, const char *target, gboolean *out,
               GError **error)
{
        static const char *const classes[] = {"class", "course", NULL};
        *out = FALSE;
        g_autoptr (AtriumResult) on = atrium_sql (
                req, error, "SELECT 1 FROM core.school_modules WHERE module = 'groups'", 0);
        if (!on)
                return FALSE;
        const AtriumGroupsService *groups =
                atrium_result_n_rows (on)
                        ? atrium_core_lookup_service (req->core, ATRIUM_GROUPS_SERVICE, 5)
                        : NULL;
        if (!groups)
                return TRUE;
        g_auto (GStrv) shared = NULL;
        if (!groups->shared_groups (req->tx, caller, target, classes, &shared, error))
                return FALSE;
        *out = shared[0] != NULL;
        return TRUE;
}

/* Refuses (403) a reset @req's caller may not make of @target (roles as "{a,b}"). */
static gboolean
may_reset (AtriumRequest *req, const char *target, const char *roles, GError **error)
{
        if (g_strcmp0 (req->user_id, target) == 0)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "change your own password with POST /api/v1/me/password");
        if (req->operator_id || atrium_perm_set_has (req->permissions, "users.manage"))
                return TRUE;
        if (g_strcmp0 (roles, "{student}") != 0)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "only pupils' passwords can be reset with "
                                    "users.reset_password; ask an admin");
        gboolean shared = FALSE;
        if (!share_a_class (req, req->user_id, target, &shared, error))
                return FALSE;
        if (!shared)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "this pupil is in none of your classes or courses");
        return TRUE;
}

/* A one-time password: 12 symbols of the codes' alphabet (60 bits) as XXXX-XXXX-XXXX. */
static char *
one_time_password (void)
{
        g_autofree char *code = atrium_activation_code_new ();
        return g_strndup (code, 14);
}

static gboolean
reset_password (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        JsonObject *in = req->json ? json_node_get_object (req->json) : NULL;
        const char *method =
                in ? json_object_get_string_member_with_default (in, "method", "password")
                   : "password";
        int days = in ? (int) json_object_get_int_member_with_default (in, "valid_days", 14) : 14;
        if (!atrium_valid_uuid_or_404 (id, "user", error))
                return FALSE;
        /* RLS: another school's id is not there, the same 404 as an unknown one. */
        g_autoptr (AtriumResult) who =
                atrium_sql (req, error,
                            "SELECT username, display_name, roles::text, disabled_at IS NOT NULL "
                            "FROM core.users WHERE id = $1::uuid",
                            1, id);
        if (!who)
                return FALSE;
        if (atrium_result_n_rows (who) == 0)
                return atrium_fail (error, ATRIUM_ERROR_NOT_FOUND, "no user %s", id);
        if (!may_reset (req, id, atrium_result_value (who, 0, 2), error))
                return FALSE;
        if (g_str_equal (atrium_result_value (who, 0, 3), "t"))
                return atrium_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "this account is disabled; an admin enables it first");

        JsonObject *out = json_object_new ();
        json_object_set_string_member (out, "user_id", id);
        json_object_set_string_member (out, "username", atrium_result_value (who, 0, 0));
        json_object_set_string_member (out, "display_name", atrium_result_value (who, 0, 1));
        json_object_set_string_member (out, "method", method);
        g_autoptr (JsonNode) node = atrium_json_object_node (out);
        if (g_str_equal (method, "password")) {
                g_autofree char *pw = one_time_password ();
                if (!atrium_password_store (req, id, pw, TRUE, NULL, error))
                        return FALSE;
                json_object_set_string_member (out, "password", pw);
                g_autoptr (AtriumResult) gone =
                        atrium_sql (req, error,
                                    "DELETE FROM core.activation_codes WHERE user_id = $1::uuid "
                                    "AND used_at IS NULL",
                                    1, id);
                if (!gone)
                        return FALSE;
        } else {
                g_autoptr (GPtrArray) ids = g_ptr_array_new ();
                g_ptr_array_add (ids, (gpointer) id);
                g_autoptr (GPtrArray) codes = NULL;
                g_autofree char *expires = NULL;
                if (!atrium_activation_issue (req, ids, days, &codes, &expires, error))
                        return FALSE;
                /* The old password, whoever knows it, now only leads to a forced change. */
                g_autoptr (AtriumResult) mc = atrium_sql (
                        req, error,
                        "UPDATE core.users SET must_change_password = true WHERE id = $1::uuid", 1,
                        id);
                g_autoptr (AtriumResult) rev =
                        mc ? atrium_sql (req, error,
                                         "SELECT core.revoke_user_sessions($1::uuid, $2::uuid)", 2,
                                         req->school_id, id)
                           : NULL;
                if (!rev)
                        return FALSE;
                json_object_set_string_member (out, "code", codes->pdata[0]);
                json_object_set_string_member (out, "expires_at", expires);
        }
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "method", method);
        atrium_audit (req, "user.password_reset", id, atrium_json_object_node (d));
        req->core->host->response_header (req, "Cache-Control", "no-store");
        req->core->host->respond_json (req, 200, g_steal_pointer (&node));
        return TRUE;
}

void
atrium_reset_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST",
                 .path = "/api/v1/schools/{school}/users/{id}/password-reset",
                 .flags = ATRIUM_ROUTE_SLOW, .permission = "users.reset_password",
                 .summary = "Reset a person's password: a one-time password or an activation "
                            "code (shown once); they must choose a new one at the next sign-in",
                 .request_schema = reset_schema,
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"user_id\":{\"type\":\"string\","
                         "\"format\":\"uuid\"},\"username\":{\"type\":\"string\"},"
                         "\"display_name\":{\"type\":\"string\"},\"method\":{\"type\":"
                         "\"string\",\"enum\":[\"password\",\"activation_code\"]},\"password\":{\"type\":"
                         "\"string\",\"description\":\"method password: the one-time password, "
                         "shown once\"},\"code\":{\"type\":\"string\",\"description\":\"method "
                         "activation_code: the code, shown once\"},\"expires_at\":{\"type\":"
                         "\"string\",\"format\":\"date-time\"}}}",
                 .handler = reset_password},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
