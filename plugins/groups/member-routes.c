/* SPDX-License-Identifier: Apache-2.0 */
/* member-routes.c - /api/v1/schools/{school}/groups/{id}/members: who is in a group, as owner or
 * member. Owners and holders of groups.manage change membership; a change that would leave a
 * group that had owners without any is refused (409) and, like every failed request, changes
 * nothing. POST adds someone by username (for owners who may not list the school's people);
 * members:batch applies a whole class list in one transaction: all of it or none. */
#include "groups-private.h"

static const char member_schema[] = "{\"type\":\"object\",\"properties\":{"
        "\"role\":{\"type\":\"string\",\"enum\":[\"owner\",\"member\"]}}}";

static const char by_name_schema[] =
        "{\"type\":\"object\",\"required\":[\"username\"],\"additionalProperties\":false,"
        "\"properties\":{"
        "\"username\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
        "\"role\":{\"type\":\"string\",\"enum\":[\"owner\",\"member\"]}}}";

static const char batch_schema[] = "{\"type\":\"object\",\"properties\":{"
        "\"add\":{\"type\":\"array\",\"maxItems\":1000,\"items\":{\"type\":\"object\","
        "\"required\":[\"user_id\"],\"properties\":{"
        "\"user_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"role\":{\"type\":\"string\",\"enum\":[\"owner\",\"member\"]}}}},"
        "\"remove\":{\"type\":\"array\",\"maxItems\":1000,\"uniqueItems\":true,"
        "\"items\":{\"type\":\"string\",\"format\":\"uuid\"}}}}";

/* Serialises membership changes of one group (two owners stepping down at once must not both
 * see the other still there) and reads whether the group grants permissions. */
static gboolean
lock_group (AtriumRequest *req, const char *group_id, gboolean *out_grants, GError **error)
{
        AtriumResult *res = groups_sql (
                req, error,
                "SELECT EXISTS (SELECT 1 FROM groups.group_permissions p "
                "WHERE p.group_id = g.id) FROM groups.groups g WHERE g.id = $1::uuid FOR UPDATE",
                1, group_id);
        if (!res)
                return FALSE;
        gboolean found = groups_host->result_n_rows (res) == 1;
        *out_grants = found && g_strcmp0 (groups_host->result_value (res, 0, 0), "t") == 0;
        groups_host->result_free (res);
        if (!found)
                return groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
        return TRUE;
}

/* Joining a group that grants permissions hands those permissions out: only someone who may
 * decide about permissions (roles.manage) may add members to it. */
static gboolean
may_add_to (AtriumRequest *req, gboolean grants, GError **error)
{
        if (!grants || groups_host->request_has_permission (req, "roles.manage"))
                return TRUE;
        return groups_fail (error, ATRIUM_ERROR_FORBIDDEN,
                            "this group grants permissions to its members: adding members "
                            "needs roles.manage");
}

static gint64
owner_count (AtriumRequest *req, const char *group_id, GError **error)
{
        AtriumResult *res = groups_sql (
                req, error,
                "SELECT count(*) FROM groups.members WHERE group_id = $1::uuid AND role = 'owner'",
                1, group_id);
        if (!res)
                return -1;
        gint64 n = g_ascii_strtoll (groups_host->result_value (res, 0, 0), NULL, 10);
        groups_host->result_free (res);
        return n;
}

/* Adds or re-roles one member; *out_added is TRUE when the user was not a member before. */
static gboolean
put_one (AtriumRequest *req, const char *group_id, const char *user_id, const char *role,
         gboolean *out_added, GError **error)
{
        if (!g_uuid_string_is_valid (user_id))
                return groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no user %s in this school",
                                    user_id);
        /* core.users is school-isolated: a user of another school is simply not found. */
        AtriumResult *res = groups_sql (
                req, error,
                "WITH u AS (SELECT id FROM core.users WHERE id = $2::uuid), "
                "old AS (SELECT role FROM groups.members WHERE group_id = $1::uuid "
                "        AND user_id = $2::uuid), "
                "ins AS (INSERT INTO groups.members (school_id, group_id, user_id, role) "
                "        SELECT core.current_school(), $1::uuid, u.id, $3 FROM u "
                "        ON CONFLICT (school_id, group_id, user_id) DO UPDATE SET role = $3 "
                "        RETURNING 1) "
                "SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM old)",
                3, group_id, user_id, role);
        if (!res)
                return FALSE;
        gboolean user_found = g_strcmp0 (groups_host->result_value (res, 0, 0), "1") == 0;
        gboolean was_member = g_strcmp0 (groups_host->result_value (res, 0, 1), "1") == 0;
        groups_host->result_free (res);
        if (!user_found)
                return groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no user %s in this school",
                                    user_id);
        *out_added = !was_member;
        return TRUE;
}

static gboolean
remove_one (AtriumRequest *req, const char *group_id, const char *user_id, gboolean *out_removed,
            GError **error)
{
        *out_removed = FALSE;
        if (!g_uuid_string_is_valid (user_id))
                return TRUE;
        AtriumResult *res = groups_sql (
                req, error,
                "DELETE FROM groups.members WHERE group_id = $1::uuid AND user_id = $2::uuid", 2,
                group_id, user_id);
        if (!res)
                return FALSE;
        *out_removed = groups_host->result_affected (res) == 1;
        groups_host->result_free (res);
        return TRUE;
}

static gboolean
keeps_an_owner (AtriumRequest *req, const char *group_id, gint64 owners_before, GError **error)
{
        if (owners_before <= 0)
                return TRUE;
        gint64 after = owner_count (req, group_id, error);
        if (after < 0)
                return FALSE;
        if (after == 0)
                return groups_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "this would remove the group's last owner; make someone "
                                    "else owner first");
        return TRUE;
}

static gboolean
list_members (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g)
                return FALSE;
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (groups_host, req, "su", &page, error))
                return FALSE;
        AtriumResult *res = groups_sql (
                req, error,
                "SELECT u.id AS user_id, u.username, u.display_name, m.role, m.added_at, "
                "to_jsonb(u.roles) AS roles, lower(u.display_name) AS sort_key "
                "FROM groups.members m "
                "JOIN core.users u ON u.school_id = m.school_id AND u.id = m.user_id "
                "WHERE m.group_id = $1::uuid "
                "AND (lower(u.display_name), u.id) > ($2, $3::uuid) "
                "ORDER BY lower(u.display_name), u.id LIMIT (SELECT $4::int)",
                4, id, atrium_page_after (&page, 0, ""),
                atrium_page_after (&page, 1, ATRIUM_UUID_MIN), page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (groups_host, req, &page, res, "sort_key", 2, 6, 0);
        return TRUE;
}

/* Adds `user` to group `id` as `role`, or changes their role, and answers: PUT of a user id and
 * POST of a username end here. The caller's right to manage the group is checked already. */
static gboolean
put_and_answer (AtriumRequest *req, const char *id, const char *user, const char *role,
                GError **error)
{
        gboolean grants;
        if (!lock_group (req, id, &grants, error))
                return FALSE;
        gint64 owners = owner_count (req, id, error);
        gboolean added = FALSE;
        if (owners < 0 || !put_one (req, id, user, role, &added, error) ||
            (added && !may_add_to (req, grants, error)) ||
            !keeps_an_owner (req, id, owners, error))
                return FALSE;
        if (added && !groups_publish (groups_host->request_tx (req), "group.member_added", id,
                                      user, error))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "group_id", id);
        json_object_set_string_member (o, "user_id", user);
        json_object_set_string_member (o, "role", role);
        groups_host->respond_json (req, added ? 201 : 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
put_member (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        const char *user = groups_host->request_param (req, "user_id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g || !groups_may_manage (req, id, error))
                return FALSE;
        JsonNode *body = groups_host->request_json (req);
        const char *role = body ? json_object_get_string_member_with_default (
                                          json_node_get_object (body), "role", "member")
                                : "member";
        return put_and_answer (req, id, user, role, error);
}

/* POST /{id}/members {"username", "role"?}: the same as PUT, naming the person by username, so
 * a group's owners who may not list the school's people (users.read) can still add someone
 * they know. It tells them only whether that username exists in their school. */
static gboolean
add_member_by_name (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g || !groups_may_manage (req, id, error))
                return FALSE;
        JsonObject *in = json_node_get_object (groups_host->request_json (req));
        const char *name = json_object_get_string_member (in, "username");
        const char *role = json_object_get_string_member_with_default (in, "role", "member");
        /* core.users is school-isolated: a username of another school is simply not found. */
        AtriumResult *res = groups_sql (
                req, error, "SELECT id FROM core.users WHERE username = lower($1)", 1, name);
        if (!res)
                return FALSE;
        g_autofree char *user = groups_host->result_n_rows (res) == 1
                                        ? g_strdup (groups_host->result_value (res, 0, 0))
                                        : NULL;
        groups_host->result_free (res);
        if (!user)
                return groups_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                    "nobody has the username %s in this school", name);
        return put_and_answer (req, id, user, role, error);
}

static gboolean
delete_member (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        const char *user = groups_host->request_param (req, "user_id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g)
                return FALSE;
        /* Leaving a group yourself needs no management right. */
        if (g_strcmp0 (user, groups_host->request_user_id (req)) != 0 &&
            !groups_may_manage (req, id, error))
                return FALSE;
        gboolean grants;
        if (!lock_group (req, id, &grants, error))
                return FALSE;
        gint64 owners = owner_count (req, id, error);
        gboolean removed = FALSE;
        if (owners < 0 || !remove_one (req, id, user, &removed, error))
                return FALSE;
        if (!removed)
                return groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "%s is not a member", user);
        if (!keeps_an_owner (req, id, owners, error) ||
            !groups_publish (groups_host->request_tx (req), "group.member_removed", id, user,
                             error))
                return FALSE;
        groups_host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
batch_members (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = groups_host->request_param (req, "id");
        g_autoptr (JsonNode) g = groups_fetch_visible (req, id, error);
        if (!g || !groups_may_manage (req, id, error))
                return FALSE;
        JsonObject *in = json_node_get_object (groups_host->request_json (req));
        JsonArray *add = json_object_has_member (in, "add") ? json_object_get_array_member (in, "add")
                                                            : NULL;
        JsonArray *rm = json_object_has_member (in, "remove")
                                ? json_object_get_array_member (in, "remove")
                                : NULL;
        gboolean grants;
        if (!lock_group (req, id, &grants, error))
                return FALSE;
        gint64 owners = owner_count (req, id, error);
        if (owners < 0)
                return FALSE;
        AtriumTx *tx = groups_host->request_tx (req);
        guint added_n = 0, removed_n = 0;
        for (guint i = 0; rm && i < json_array_get_length (rm); i++) {
                const char *user = json_array_get_string_element (rm, i);
                gboolean removed;
                if (!remove_one (req, id, user, &removed, error))
                        return FALSE;
                if (removed) {
                        removed_n++;
                        if (!groups_publish (tx, "group.member_removed", id, user, error))
                                return FALSE;
                }
        }
        for (guint i = 0; add && i < json_array_get_length (add); i++) {
                JsonObject *a = json_array_get_object_element (add, i);
                const char *user = json_object_get_string_member (a, "user_id");
                gboolean added;
                if (!put_one (req, id, user,
                              json_object_get_string_member_with_default (a, "role", "member"),
                              &added, error)) {
                        g_prefix_error (error, "/add/%u: ", i);
                        return FALSE;
                }
                if (added) {
                        if (!may_add_to (req, grants, error))
                                return FALSE;
                        added_n++;
                        if (!groups_publish (tx, "group.member_added", id, user, error))
                                return FALSE;
                }
        }
        if (!keeps_an_owner (req, id, owners, error))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "group_id", id);
        json_object_set_int_member (o, "added", added_n);
        json_object_set_int_member (o, "removed", removed_n);
        groups_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

/* One member in the list; what adding or changing one answers; a batch's counts. */
static const char member_answer[] =
        "{\"type\":\"object\",\"properties\":{\"user_id\":{\"type\":\"string\",\"format\":"
        "\"uuid\"},\"username\":{\"type\":\"string\"},\"display_name\":{\"type\":\"string\"},"
        "\"role\":{\"type\":\"string\",\"enum\":[\"owner\",\"member\"]},"
        "\"added_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"the "
        "person's roles in the school\"}}}";
static const char membership_answer[] =
        "{\"type\":\"object\",\"properties\":{\"group_id\":{\"type\":\"string\",\"format\":"
        "\"uuid\"},\"user_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"role\":{\"type\":\"string\",\"enum\":[\"owner\",\"member\"]}}}";
static const char batch_answer[] =
        "{\"type\":\"object\",\"properties\":{\"group_id\":{\"type\":\"string\",\"format\":"
        "\"uuid\"},\"added\":{\"type\":\"integer\"},\"removed\":{\"type\":\"integer\"}}}";

gboolean
groups_register_member_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/{id}/members",
                 .summary = "Members of a group (paginated)", .flags = ATRIUM_ROUTE_PAGED,
                 .response_schema = member_answer, .handler = list_members},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/{id}/members",
                 .summary = "Add a member by username, or change their role (owners, "
                            "groups.manage)",
                 .request_schema = by_name_schema, .response_schema = membership_answer,
                 .handler = add_member_by_name},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/{id}/members/{user_id}",
                 .summary = "Add a member or change their role (owners, groups.manage)",
                 .request_schema = member_schema, .response_schema = membership_answer,
                 .handler = put_member},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/{id}/members/{user_id}",
                 .summary = "Remove a member (owners, groups.manage, or oneself)",
                 .success_status = 204, .handler = delete_member},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/{id}/members:batch",
                 .summary = "Add and remove many members in one transaction",
                 .request_schema = batch_schema, .response_schema = batch_answer,
                 .handler = batch_members},
        };
        return atrium_add_routes (groups_host, self, routes, G_N_ELEMENTS (routes), error);
}
