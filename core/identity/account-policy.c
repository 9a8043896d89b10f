/* SPDX-License-Identifier: Apache-2.0 */
/* account-policy.c - a school's sign-in policy: which roles must use a second factor (TOTP),
 * GET|PUT /api/v1/schools/{school}/account-policy (users.manage; docs/ACCOUNTS.md).
 *
 * The policy is judged at each sign-in (core.totp_policy_apply(), called by
 * atrium_auth_start_session()): a person it covers who has no second factor gets a session
 * that reaches only their account and the enrolment (403 second-factor-required elsewhere)
 * until they turn one on. A policy changed later reaches people at their next sign-in. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

static const char policy_schema[] =
        "{\"type\":\"object\",\"required\":[\"totp_roles\"],\"additionalProperties\":false,"
        "\"properties\":{\"totp_roles\":{\"type\":\"array\",\"uniqueItems\":true,\"maxItems\":5,"
        "\"description\":\"the roles that must use a second factor\",\"items\":{\"type\":\"string\","
        "\"enum\":[\"admin\",\"teacher\",\"student\",\"parent\",\"staff\"]}},"
        "\"remember_days\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":90,"
        "\"description\":\"days a device may skip the second factor after passing it with "
        "remember_device (0: never; kept when omitted)\"}}}";

static gboolean
respond_policy (AtriumRequest *req, guint status, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT coalesce((SELECT array_to_json(totp_roles)::text FROM core.account_policy), "
                "'[]'), coalesce((SELECT remember_days FROM core.account_policy), 0)",
                0);
        if (!res)
                return FALSE;
        JsonNode *roles = json_from_string (atrium_result_value (res, 0, 0), error);
        if (!roles)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_member (o, "totp_roles", roles);
        json_object_set_int_member (o, "remember_days",
                                    g_ascii_strtoll (atrium_result_value (res, 0, 1), NULL, 10));
        req->core->host->respond_json (req, status, atrium_json_object_node (o));
        return TRUE;
}

static gboolean
get_policy (AtriumRequest *req, gpointer data, GError **error)
{
        return respond_policy (req, 200, error);
}

static gboolean
put_policy (AtriumRequest *req, gpointer data, GError **error)
{
        JsonArray *roles =
                json_object_get_array_member (json_node_get_object (req->json), "totp_roles");
        GString *lit = g_string_new ("{");
        for (guint i = 0; i < json_array_get_length (roles); i++)
                g_string_append_printf (lit, "%s%s", i ? "," : "",
                                        json_array_get_string_element (roles, i));
        g_string_append_c (lit, '}');
        g_autofree char *roles_lit = g_string_free (lit, FALSE);
        JsonObject *in = json_node_get_object (req->json);
        g_autofree char *days =
                json_object_has_member (in, "remember_days")
                        ? g_strdup_printf ("%" G_GINT64_FORMAT,
                                           json_object_get_int_member (in, "remember_days"))
                        : NULL;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.account_policy (school_id, totp_roles, remember_days) "
                "VALUES (core.current_school(), $1::text[], coalesce($2::integer, 0)) "
                "ON CONFLICT (school_id) DO UPDATE SET totp_roles = $1::text[], "
                "remember_days = coalesce($2::integer, core.account_policy.remember_days), "
                "updated_at = now()",
                2, roles_lit, days);
        if (!res)
                return FALSE;
        JsonObject *d = json_object_new ();
        json_object_set_array_member (d, "totp_roles", json_array_ref (roles));
        if (days)
                json_object_set_string_member (d, "remember_days", days);
        atrium_audit (req, "school.account_policy_changed", NULL, atrium_json_object_node (d));
        return respond_policy (req, 200, error);
}

static const char policy_answer[] =
        "{\"type\":\"object\",\"properties\":{\"totp_roles\":{\"type\":\"array\",\"items\":"
        "{\"type\":\"string\"}},\"remember_days\":{\"type\":\"integer\",\"description\":\"days "
        "a device may skip the second factor (0: never)\"}}}";

void
atrium_account_policy_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/account-policy", .permission = "users.manage",
                 .summary = "The school's sign-in policy (the roles that must use a second "
                            "factor)",
                 .response_schema = policy_answer, .handler = get_policy},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/api/v1/schools/{school}/account-policy", .permission = "users.manage",
                 .summary = "Set the roles that must use a second factor (from their next "
                            "sign-in)",
                 .request_schema = policy_schema, .response_schema = policy_answer,
                 .handler = put_policy},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
