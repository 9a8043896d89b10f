/* SPDX-License-Identifier: Apache-2.0 */
/* schools.c - schools (tenants) and the modules each one enables.
 *
 * Operators create, list and delete schools; a school's own people see their school, and its
 * admins rename it and choose its modules. Enabling checks the module's dependencies are
 * enabled (409 otherwise) and runs the plugin's school_enable hook in the same transaction;
 * disabling refuses while an enabled module depends on it. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

static const char school_schema[] = "{\"type\":\"object\",\"required\":[\"slug\",\"name\"],"
        "\"properties\":{"
        "\"slug\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9-]{2,63}$\"},"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200}}}";

static const char school_patch_schema[] = "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200}}}";

#define SCHOOL_COLUMNS "id, slug, name, created_at, updated_at"
static const char school_modules_answer[] =
        "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{"
        "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
        "\"version\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"
        "\"enabled\":{\"type\":\"boolean\"},"
        "\"dependencies\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
        "\"next_cursor\":{\"type\":\"null\"}}}";
static const char school_answer[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"slug\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}";

static gboolean
create_school (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        if (!atrium_require_operator (req, error))
                return FALSE;
        JsonObject *in = json_node_get_object (req->json);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.schools (slug, name) VALUES ($1, $2) RETURNING " SCHOOL_COLUMNS,
                2, json_object_get_string_member (in, "slug"),
                json_object_get_string_member (in, "name"));
        if (!res) {
                if (g_error_matches (*error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT))
                        g_prefix_error (error, "a school with this slug exists: ");
                return FALSE;
        }
        JsonNode *school = atrium_result_row_json (res, 0);
        const char *id = json_object_get_string_member (json_node_get_object (school), "id");
        g_free (req->school_id);
        req->school_id = g_strdup (id);
        atrium_audit (req, "school.created", id, NULL);
        core->host->respond_json (req, 201, school);
        return TRUE;
}

static gboolean
list_schools (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (core->host, req, "s", &page, error))
                return FALSE;
        /* RLS: operators see all schools, everyone else only their own. */
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT " SCHOOL_COLUMNS " FROM core.schools WHERE slug > $1 "
                            "ORDER BY slug LIMIT (SELECT $2::int)",
                            2, atrium_page_after (&page, 0, ""), page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (core->host, req, &page, g_steal_pointer (&res), NULL, 1, 1);
        return TRUE;
}

static gboolean
get_school (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "SELECT " SCHOOL_COLUMNS " FROM core.schools WHERE id = $1::uuid", 1,
                req->school_id);
        if (!res)
                return FALSE;
        core->host->respond_json (req, 200, atrium_result_row_json (res, 0));
        return TRUE;
}

static gboolean
patch_school (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        if (!req->operator_id && !atrium_perm_set_has (req->permissions, "school.manage")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "permission school.manage is required");
                return FALSE;
        }
        JsonObject *in = json_node_get_object (req->json);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "UPDATE core.schools SET name = coalesce($2, name), updated_at = now() "
                "WHERE id = $1::uuid RETURNING " SCHOOL_COLUMNS,
                2, req->school_id, json_object_get_string_member_with_default (in, "name", NULL));
        if (!res)
                return FALSE;
        atrium_audit (req, "school.updated", req->school_id, NULL);
        core->host->respond_json (req, 200, atrium_result_row_json (res, 0));
        return TRUE;
}

static gboolean
delete_school (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        if (!atrium_require_operator (req, error))
                return FALSE;
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error, "DELETE FROM core.schools WHERE id = $1::uuid", 1,
                            req->school_id);
        if (!res)
                return FALSE;
        /* The school's own audit rows went with it; record the deletion platform-wide. */
        g_autofree char *id = g_steal_pointer (&req->school_id);
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "slug", req->school_slug);
        atrium_audit (req, "school.deleted", id, atrium_json_object_node (d));
        core->host->respond_json (req, 204, NULL);
        return TRUE;
}

/* ---- modules ---- */

static GHashTable *
enabled_modules (AtriumRequest *req, GError **error)
{
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error, "SELECT module FROM core.school_modules", 0);
        if (!res)
                return NULL;
        GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (int i = 0; i < atrium_result_n_rows (res); i++)
                g_hash_table_add (set, g_strdup (atrium_result_value (res, i, 0)));
        return set;
}

static gboolean
list_modules (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_autoptr (GHashTable) on = enabled_modules (req, error);
        if (!on)
                return FALSE;
        JsonArray *a = json_array_new ();
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state != ATRIUM_PLUGIN_RUNNING)
                        continue;
                JsonObject *o = json_object_new ();
                json_object_set_string_member (o, "name", p->desc.name);
                json_object_set_string_member (o, "version", p->desc.version);
                json_object_set_string_member (o, "description",
                                               p->desc.description ? p->desc.description : "");
                json_object_set_boolean_member (o, "enabled",
                                                g_hash_table_contains (on, p->desc.name));
                JsonArray *deps = json_array_new ();
                for (const AtriumDependency *d = p->desc.dependencies; d && d->name; d++)
                        json_array_add_string_element (deps, d->name);
                json_object_set_array_member (o, "dependencies", deps);
                json_array_add_object_element (a, o);
        }
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, a);
        core->host->respond_page (req, n, NULL);
        return TRUE;
}

static AtriumPlugin *
running_plugin (AtriumCore *core, const char *name, GError **error)
{
        AtriumPlugin *p = atrium_core_find_plugin (core, name);
        if (!p || p->state != ATRIUM_PLUGIN_RUNNING) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no module %s", name);
                return NULL;
        }
        return p;
}

static gboolean
enable_module (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *name = g_hash_table_lookup (req->params, "module");
        AtriumPlugin *p = running_plugin (core, name, error);
        if (!p)
                return FALSE;
        g_autoptr (GHashTable) on = enabled_modules (req, error);
        if (!on)
                return FALSE;
        for (const AtriumDependency *d = p->desc.dependencies; d && d->name; d++) {
                if (!g_hash_table_contains (on, d->name)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                                     "module %s needs module %s: enable %s first", name, d->name,
                                     d->name);
                        return FALSE;
                }
        }
        gboolean already = g_hash_table_contains (on, name);
        if (!already) {
                /* A concurrent request may enable it first (an app's retry, a double click):
                 * then it was already enabled, as PUT promises, not a conflict. */
                g_autoptr (AtriumResult) res = atrium_sql (
                        req, error,
                        "INSERT INTO core.school_modules (school_id, module) VALUES ($1::uuid, $2) "
                        "ON CONFLICT DO NOTHING RETURNING module",
                        2, req->school_id, name);
                if (!res)
                        return FALSE;
                already = atrium_result_n_rows (res) == 0;
        }
        if (!already) {
                if (p->desc.school_enable && !p->desc.school_enable (p, req->tx, error)) {
                        if (error && *error)
                                g_prefix_error (error, "module %s refused: ", name);
                        return FALSE;
                }
                atrium_audit (req, "module.enabled", name, NULL);
        }
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "name", name);
        json_object_set_boolean_member (o, "enabled", TRUE);
        core->host->respond_json (req, already ? 200 : 201, atrium_json_object_node (o));
        return TRUE;
}

static gboolean
disable_module (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *name = g_hash_table_lookup (req->params, "module");
        g_autoptr (GHashTable) on = enabled_modules (req, error);
        if (!on)
                return FALSE;
        if (!g_hash_table_contains (on, name)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "module %s is not enabled", name);
                return FALSE;
        }
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *q = core->plugins->pdata[i];
                if (q->state != ATRIUM_PLUGIN_RUNNING || !g_hash_table_contains (on, q->desc.name))
                        continue;
                for (const AtriumDependency *d = q->desc.dependencies; d && d->name; d++)
                        if (g_str_equal (d->name, name)) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                                             "module %s depends on %s: disable it first",
                                             q->desc.name, name);
                                return FALSE;
                        }
        }
        /* The row first: of requests that disable it at once, the one whose DELETE takes the
         * row disables it (its hook runs, its audit entry is written); the others wait for that
         * one and find it gone, as a request after it would. The hook may still refuse: its
         * error undoes the DELETE with the rest of the transaction. */
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "DELETE FROM core.school_modules WHERE module = $1 RETURNING module", 1,
                name);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "module %s is not enabled", name);
                return FALSE;
        }
        AtriumPlugin *p = atrium_core_find_plugin (core, name);
        if (p && p->state == ATRIUM_PLUGIN_RUNNING && p->desc.school_disable &&
            !p->desc.school_disable (p, req->tx, error))
                return FALSE;
        atrium_audit (req, "module.disabled", name, NULL);
        core->host->respond_json (req, 204, NULL);
        return TRUE;
}

void
atrium_school_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/schools",
                 .summary = "Create a school (operators)", .request_schema = school_schema,
                 .response_schema = school_answer, .success_status = 201, .handler = create_school},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .summary = "Schools the caller may see (operators: all)",
                 .response_schema = school_answer, .handler = list_schools},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}",
                 .scope = ATRIUM_SCOPE_SCHOOL, .summary = "One school",
                 .response_schema = school_answer, .handler = get_school},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/api/v1/schools/{school}",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .summary = "Rename a school (operators, school admins)",
                 .request_schema = school_patch_schema, .response_schema = school_answer,
                 .handler = patch_school},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/api/v1/schools/{school}",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .summary = "Delete a school and everything in it (operators)",
                 .success_status = 204, .handler = delete_school},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}/modules",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .summary = "Modules available to the school and whether each is enabled",
                 .response_schema = school_modules_answer, .handler = list_modules},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/api/v1/schools/{school}/modules/{module}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "modules.manage", .summary = "Enable a module for the school",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
                                    "\"string\"},\"enabled\":{\"type\":\"boolean\"}}}",
                 .handler = enable_module},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/api/v1/schools/{school}/modules/{module}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "modules.manage", .summary = "Disable a module for the school",
                 .success_status = 204, .handler = disable_module},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
