/* SPDX-License-Identifier: Apache-2.0 */
/* roles.c - which permissions each role has in a school. Until a school edits a role it gets
 * the defaults the core and the plugins declare (core.permission_defaults); PUT stores the
 * school's own set, which from then on is the whole truth for that role (even when empty). */
#include "identity-private.h"
#include "plugin-host-private.h"

static const char *const roles[] = {"admin", "teacher", "student", "parent", "staff", NULL};

static const char perms_schema[] = "{\"type\":\"object\",\"required\":[\"permissions\"],"
        "\"properties\":{\"permissions\":{\"type\":\"array\",\"uniqueItems\":true,"
        "\"maxItems\":500,\"items\":{\"type\":\"string\",\"maxLength\":63}}}}";

static gboolean
role_param (AtriumRequest *req, const char **out, GError **error)
{
        const char *role = g_hash_table_lookup (req->params, "role");
        if (!g_strv_contains (roles, role)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "no role %s (roles: admin, teacher, student, parent, staff)", role);
                return FALSE;
        }
        *out = role;
        return TRUE;
}

static gboolean
respond_role (AtriumRequest *req, const char *role, GError **error)
{
        g_autofree char *arr = g_strdup_printf ("{%s}", role);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT coalesce(array_to_json(array(SELECT p FROM core.role_grants($1::uuid, "
                "$2::text[]) p ORDER BY p)), '[]'::json) AS permissions, "
                "EXISTS (SELECT 1 FROM core.role_permission_sets WHERE role = $3) AS customised",
                3, req->school_id, arr, role);
        if (!res)
                return FALSE;
        JsonNode *n = atrium_result_row_json (res, 0);
        json_object_set_string_member (json_node_get_object (n), "role", role);
        req->core->host->respond_json (req, 200, n);
        return TRUE;
}

static gboolean
get_role (AtriumRequest *req, gpointer data, GError **error)
{
        const char *role;
        return role_param (req, &role, error) && respond_role (req, role, error);
}

static gboolean
put_role (AtriumRequest *req, gpointer data, GError **error)
{
        const char *role;
        if (!role_param (req, &role, error))
                return FALSE;
        JsonArray *perms = json_object_get_array_member (json_node_get_object (req->json),
                                                         "permissions");
        g_autoptr (AtriumResult) set = atrium_sql (
                req, error,
                "INSERT INTO core.role_permission_sets (school_id, role) VALUES ($1::uuid, $2) "
                "ON CONFLICT (school_id, role) DO UPDATE SET updated_at = now()",
                2, req->school_id, role);
        g_autoptr (AtriumResult) clear =
                set ? atrium_sql (req, error, "DELETE FROM core.role_permissions WHERE role = $1",
                                  1, role)
                    : NULL;
        if (!clear)
                return FALSE;
        for (guint i = 0; i < json_array_get_length (perms); i++) {
                const char *p = json_array_get_string_element (perms, i);
                g_autoptr (AtriumResult) known = atrium_sql (
                        req, error, "SELECT 1 FROM core.permissions_known WHERE permission = $1", 1,
                        p);
                if (!known)
                        return FALSE;
                if (atrium_result_n_rows (known) == 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "/permissions/%u: unknown permission %s", i, p);
                        return FALSE;
                }
                g_autoptr (AtriumResult) ins = atrium_sql (
                        req, error,
                        "INSERT INTO core.role_permissions (school_id, role, permission) "
                        "VALUES ($1::uuid, $2, $3)",
                        3, req->school_id, role, p);
                if (!ins)
                        return FALSE;
        }
        atrium_audit (req, "role.permissions_changed", role,
                      json_node_ref (json_object_get_member (json_node_get_object (req->json),
                                                             "permissions")));
        return respond_role (req, role, error);
}

static gboolean
list_permissions (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT k.permission AS name, k.owner, k.description, coalesce(array_to_json("
                "array(SELECT d.role FROM core.permission_defaults d WHERE d.permission = "
                "k.permission ORDER BY d.role)), '[]'::json) AS default_roles "
                "FROM core.permissions_known k ORDER BY k.permission",
                0);
        if (!res)
                return FALSE;
        req->core->host->respond_page (req, atrium_result_rows_json (res), NULL);
        return TRUE;
}

static const char role_answer[] =
        "{\"type\":\"object\",\"properties\":{\"role\":{\"type\":\"string\"},"
        "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"customised\":{\"type\":\"boolean\",\"description\":\"the school set them; false: "
        "the defaults\"}}}";
static const char permissions_answer[] =
        "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{"
        "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
        "\"owner\":{\"type\":\"string\",\"description\":\"core or the plugin that defines "
        "it\"},\"description\":{\"type\":[\"string\",\"null\"]},"
        "\"default_roles\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
        "\"next_cursor\":{\"type\":\"null\"}}}";

void
atrium_role_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/roles/{role}/permissions",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "roles.manage",
                 .summary = "Permissions of a role in the school", .response_schema = role_answer,
                 .handler = get_role},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/api/v1/schools/{school}/roles/{role}/permissions",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "roles.manage",
                 .summary = "Replace the permissions of a role in the school",
                 .request_schema = perms_schema, .response_schema = role_answer,
                 .handler = put_role},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/permissions",
                 .summary = "Every permission the core and the loaded plugins define",
                 .response_schema = permissions_answer, .handler = list_permissions},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
