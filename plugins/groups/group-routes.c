/* SPDX-License-Identifier: Apache-2.0 */
/* group-routes.c - /api/v1/schools/{school}/groups: the groups themselves and the permissions a
 * group grants its members.
 *
 * Who sees what: holders of groups.read (admins, teachers, staff by default) see every group;
 * everyone else sees the groups they belong to, and a group they do not belong to answers 404.
 * Granting permissions to a group needs roles.manage, not groups.manage: a teacher managing a
 * course must not be able to hand its members rights the teacher's role does not control. */
#include "groups-private.h"

#include <string.h>

static const char group_schema[] = "{\"type\":\"object\",\"required\":[\"name\",\"type\"],"
        "\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"slug\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9._-]{0,62}$\"},"
        "\"type\":{\"type\":\"string\",\"enum\":[\"class\",\"course\",\"workgroup\",\"staff\",\"custom\"]},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000},"
        "\"parent_id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"}}}";

static const char group_patch_schema[] = "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"slug\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9._-]{0,62}$\"},"
        "\"type\":{\"type\":\"string\",\"enum\":[\"class\",\"course\",\"workgroup\",\"staff\",\"custom\"]},"
        "\"description\":{\"type\":\"string\",\"maxLength\":2000},"
        "\"parent_id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"}}}";

static const char permissions_schema[] = "{\"type\":\"object\",\"required\":[\"permissions\"],"
        "\"properties\":{\"permissions\":{\"type\":\"array\",\"uniqueItems\":true,"
        "\"maxItems\":200,\"items\":{\"type\":\"string\",\"maxLength\":63}}}}";

static gboolean
conflict_message (GError **error)
{
        if (error && *error && g_error_matches (*error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT)) {
                const char *m = (*error)->message;
                g_autofree char *old = g_strdup (m);
                g_clear_error (error);
                if (strstr (old, "groups_name_unique"))
                        return groups_fail (error, ATRIUM_ERROR_CONFLICT,
                                            "a group with this name exists");
                if (strstr (old, "groups_slug_unique"))
                        return groups_fail (error, ATRIUM_ERROR_CONFLICT,
                                            "a group with this slug exists");
                return groups_fail (error, ATRIUM_ERROR_CONFLICT, "%s", old);
        }
        return FALSE;
}

/* The parent must exist in this school, and must not be @self or one of its descendants. */
static gboolean
check_parent (AtriumRequest *req, const char *self, const char *parent, GError **error)
{
        if (!parent)
                return TRUE;
        /* Two re-parentings at once (A under B, B under A) would each pass the check against
         * the other's old state: parent changes are serialised per school. */
        AtriumResult *lock = groups_sql (
                req, error,
                "SELECT pg_advisory_xact_lock(hashtextextended('groups.parents:' || "
                "core.current_school()::text, 0))",
                0);
        if (!lock)
                return FALSE;
        groups_host->result_free (lock);
        AtriumResult *res = groups_sql (
                req, error,
                "WITH RECURSIVE up(id, depth) AS ("
                "  SELECT id, 0 FROM groups.groups WHERE id = $1::uuid"
                "  UNION ALL SELECT g.parent_id, up.depth + 1 FROM groups.groups g"
                "  JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL AND up.depth < 100)"
                "SELECT (SELECT count(*) FROM up) AS found,"
                "       EXISTS (SELECT 1 FROM up WHERE id = $2::uuid) AS cycle",
                2, parent, self);
        if (!res)
                return FALSE;
        gboolean found = g_strcmp0 (groups_host->result_value (res, 0, 0), "0") != 0;
        gboolean cycle = g_strcmp0 (groups_host->result_value (res, 0, 1), "t") == 0;
        groups_host->result_free (res);
        if (!found)
                return groups_fail (error, ATRIUM_ERROR_UNPROCESSABLE, "no parent group %s",
                                    parent);
        if (cycle)
                return groups_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "a group cannot be its own parent or ancestor");
        return TRUE;
}

static gboolean
create_group (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (groups_host->request_json (req));
        const char *name = json_object_get_string_member (in, "name");
        g_autofree char *slug = json_object_has_member (in, "slug")
                                        ? g_strdup (json_object_get_string_member (in, "slug"))
                                        : groups_slugify (name);
        const char *parent = json_object_get_string_member_with_default (in, "parent_id", NULL);
        if (!check_parent (req, NULL, parent, error))
                return FALSE;
        AtriumResult *res = groups_sql (
                req, error,
                "INSERT INTO groups.groups (school_id, name, slug, type, description, parent_id) "
                "VALUES (core.current_school(), $1, $2, $3, coalesce($4, ''), $5::uuid) "
                "RETURNING id",
                5, name, slug, json_object_get_string_member (in, "type"),
                json_object_get_string_member_with_default (in, "description", NULL), parent);
        if (!res)
                return conflict_message (error);
        g_autofree char *id = g_strdup (groups_host->result_value (res, 0, 0));
        groups_host->result_free (res);
        /* The creator owns the group (operators are not school members). */
        const char *me = groups_host->request_user_id (req);
        if (me) {
                AtriumResult *own = groups_sql (
                        req, error,
                        "INSERT INTO groups.members (school_id, group_id, user_id, role) "
                        "VALUES (core.current_school(), $1::uuid, $2::uuid, 'owner')",
                        2, id, me);
                if (!own)
                        return FALSE;
                groups_host->result_free (own);
        }
        AtriumTx *tx = groups_host->request_tx (req);
        if (!groups_publish (tx, "group.created", id, NULL, error) ||
            (me && !groups_publish (tx, "group.member_added", id, me, error)))
                return FALSE;
        JsonNode *g = groups_fetch_visible (req, id, error);
        if (!g)
                return FALSE;
        groups_host->respond_json (req, 201, g);
        return TRUE;
}

static gboolean
list_groups (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (groups_host, req, "su", &page, error))
                return FALSE;
        const char *type = groups_host->request_query (req, "type");
        const char *q = groups_host->request_query (req, "q");
        const char *member = groups_host->request_query (req, "member");
        const char *me = groups_host->request_user_id (req);
        gboolean may_read_all = groups_host->request_has_permission (req, "groups.read") ||
                                groups_host->request_has_permission (req, "groups.manage");
        if (member && g_str_equal (member, "me")) {
                if (!me)
                        return groups_fail (error, ATRIUM_ERROR_INVALID,
                                            "member=me needs a school user, not an operator");
                member = me;
        }
        if (member && !g_uuid_string_is_valid (member))
                return groups_fail (error, ATRIUM_ERROR_INVALID,
                                    "member must be \"me\" or a user id");
        if (member && !may_read_all && g_strcmp0 (member, me) != 0)
                return groups_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "listing another person's groups needs groups.read");
        if (!member && !may_read_all)
                member = me; /* without groups.read, "all groups" means "my groups" */
        AtriumResult *res = groups_sql (
                req, error,
                "SELECT " GROUP_COLUMNS ", lower(g.name) AS sort_key, "
                "(SELECT m.role FROM groups.members m WHERE m.group_id = g.id "
                " AND m.user_id = $6::uuid) AS my_role "
                "FROM groups.groups g "
                "WHERE ($1::text IS NULL OR g.type = $1) "
                "AND ($2::text IS NULL OR g.name ILIKE '%' || replace(replace(replace($2, '\\', "
                "'\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                "AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM groups.members m "
                "     WHERE m.group_id = g.id AND m.user_id = $3::uuid)) "
                "AND (lower(g.name), g.id) > ($4, $5::uuid) "
                "ORDER BY lower(g.name), g.id LIMIT (SELECT $7::int)",
                7, type, q, member, atrium_page_after (&page, 0, ""),
                atrium_page_after (&page, 1, ATRIUM_UUID_MIN), me, page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (groups_host, req, &page, res, "sort_key", 2, 9, 0);
        return TRUE;
}

static gboolean
get_group (AtriumRequest *req, gpointer data, GError **error)
{
        JsonNode *g = groups_fetch_visible (req, groups_host->request_param (req, "id"), error);
        if (!g)
                return FALSE;
        groups_host->respond_json (req, 200, g);
        return TRUE;
}

static gboolean
patch_group (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) current = groups_fetch_visible (req, id, error);
        if (!current || !groups_may_manage (req, id, error))
                return FALSE;
        JsonObject *in = json_node_get_object (groups_host->request_json (req));
        gboolean parent_given = json_object_has_member (in, "parent_id");
        const char *parent = json_object_get_string_member_with_default (in, "parent_id", NULL);
        if (parent_given && !check_parent (req, id, parent, error))
                return FALSE;
        AtriumResult *res = groups_sql (
                req, error,
                "UPDATE groups.groups SET name = coalesce($2, name), slug = coalesce($3, slug), "
                "type = coalesce($4, type), description = coalesce($5, description), "
                "parent_id = CASE WHEN $7::boolean THEN $6::uuid ELSE parent_id END, "
                "updated_at = now() WHERE id = $1::uuid",
                7, id, json_object_get_string_member_with_default (in, "name", NULL),
                json_object_get_string_member_with_default (in, "slug", NULL),
                json_object_get_string_member_with_default (in, "type", NULL),
                json_object_get_string_member_with_default (in, "description", NULL), parent,
                parent_given ? "true" : "false");
        if (!res)
                return conflict_message (error);
        groups_host->result_free (res);
        JsonNode *g = groups_fetch_visible (req, id, error);
        if (!g)
                return FALSE;
        groups_host->respond_json (req, 200, g);
        return TRUE;
}

static gboolean
delete_group (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) current = groups_fetch_visible (req, id, error);
        if (!current || !groups_may_manage (req, id, error))
                return FALSE;
        AtriumResult *res =
                groups_sql (req, error, "DELETE FROM groups.groups WHERE id = $1::uuid", 1, id);
        if (!res)
                return FALSE;
        groups_host->result_free (res);
        if (!groups_publish (groups_host->request_tx (req), "group.deleted", id, NULL, error))
                return FALSE;
        groups_host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
respond_permissions (AtriumRequest *req, const char *id, GError **error)
{
        AtriumResult *res = groups_sql (
                req, error,
                "SELECT coalesce(array_to_json(array(SELECT permission FROM "
                "groups.group_permissions WHERE group_id = $1::uuid ORDER BY permission)), "
                "'[]'::json) AS permissions",
                1, id);
        if (!res)
                return FALSE;
        JsonNode *n = groups_host->result_row_json (res, 0);
        groups_host->result_free (res);
        json_object_set_string_member (json_node_get_object (n), "group_id", id);
        groups_host->respond_json (req, 200, n);
        return TRUE;
}

static gboolean
get_permissions (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        return g && respond_permissions (req, id, error);
}

static gboolean
put_permissions (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g)
                return FALSE;
        if (!groups_host->request_has_permission (req, "roles.manage"))
                return groups_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "granting permissions to a group needs roles.manage");
        JsonArray *perms = json_object_get_array_member (
                json_node_get_object (groups_host->request_json (req)), "permissions");
        AtriumResult *clear = groups_sql (
                req, error, "DELETE FROM groups.group_permissions WHERE group_id = $1::uuid", 1, id);
        if (!clear)
                return FALSE;
        groups_host->result_free (clear);
        for (guint i = 0; i < json_array_get_length (perms); i++) {
                const char *p = json_array_get_string_element (perms, i);
                AtriumResult *known = groups_sql (
                        req, error, "SELECT 1 FROM core.permissions_known WHERE permission = $1", 1,
                        p);
                if (!known)
                        return FALSE;
                gboolean ok = groups_host->result_n_rows (known) == 1;
                groups_host->result_free (known);
                if (!ok)
                        return groups_fail (error, ATRIUM_ERROR_INVALID,
                                            "/permissions/%u: unknown permission %s", i, p);
                AtriumResult *ins = groups_sql (
                        req, error,
                        "INSERT INTO groups.group_permissions (school_id, group_id, permission) "
                        "VALUES (core.current_school(), $1::uuid, $2)",
                        2, id, p);
                if (!ins)
                        return FALSE;
                groups_host->result_free (ins);
        }
        return respond_permissions (req, id, error);
}

#define PERMISSIONS_ANSWER                                                                         \
        "{\"type\":\"object\",\"properties\":{\"group_id\":{\"type\":\"string\",\"format\":"       \
        "\"uuid\"},\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}"

gboolean
groups_register_group_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "", .permission = "groups.manage",
                 .summary = "Create a group (the creator becomes its owner)",
                 .request_schema = group_schema, .response_schema = GROUP_ANSWER,
                 .success_status = 201, .handler = create_group},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "",
                 .summary = "List groups (?type=, ?q=, ?member=me|{user_id}; paginated)",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .query_schema = "{\"type\": \"object\", \"properties\": {"
                                 "\"type\": {\"type\": \"string\", \"enum\": [\"class\", "
                                 "\"course\", \"workgroup\", \"staff\", \"custom\"], "
                                 "\"description\": \"only groups of this type\"}, "
                                 "\"q\": {\"type\": \"string\", \"maxLength\": 200, "
                                 "\"description\": \"search in the name\"}, "
                                 "\"member\": {\"type\": \"string\", \"maxLength\": 36, "
                                 "\"description\": \"only the groups of this person: me or a "
                                 "user id\"}}}",
                 .response_schema = GROUP_ANSWER, .handler = list_groups},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/{id}", .summary = "One group",
                 .response_schema = GROUP_ANSWER, .handler = get_group},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/{id}",
                 .summary = "Change a group (owners, groups.manage)",
                 .request_schema = group_patch_schema, .response_schema = GROUP_ANSWER,
                 .handler = patch_group},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/{id}",
                 .summary = "Delete a group (owners, groups.manage)", .success_status = 204,
                 .handler = delete_group},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/{id}/permissions",
                 .summary = "Permissions the group grants its members",
                 .response_schema = PERMISSIONS_ANSWER, .handler = get_permissions},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/{id}/permissions",
                 .summary = "Replace the permissions the group grants its members (roles.manage)",
                 .request_schema = permissions_schema, .response_schema = PERMISSIONS_ANSWER,
                 .handler = put_permissions},
        };
        return atrium_add_routes (groups_host, self, routes, G_N_ELEMENTS (routes), error);
}
