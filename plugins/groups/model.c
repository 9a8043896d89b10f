/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - what the groups plugin's files share: the host table, events, who may see and
 * manage a group, the "groups" service table other plugins call (atrium/groups.h), and a
 * person's memberships for the GDPR export. plugin.c wires it up; the route files call it. */
#include "groups-private.h"

const AtriumHost *groups_host;

gboolean
groups_publish (AtriumTx *tx, const char *event, const char *group_id, const char *user_id,
                GError **error)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "group_id", group_id);
        if (user_id)
                json_object_set_string_member (o, "user_id", user_id);
        return groups_host->publish (tx, event, atrium_object_node (o), error);
}

/* ---- the service table ---- */

static gboolean
svc_is_member (AtriumTx *tx, const char *group_id, const char *user_id, AtriumGroupRole *out_role,
               GError **error)
{
        *out_role = ATRIUM_GROUP_ROLE_NONE;
        if (!group_id || !user_id || !g_uuid_string_is_valid (group_id) ||
            !g_uuid_string_is_valid (user_id))
                return TRUE;
        AtriumResult *res = groups_tx_sql (
                tx, error,
                "SELECT role FROM groups.members WHERE group_id = $1::uuid AND user_id = $2::uuid",
                2, group_id, user_id);
        if (!res)
                return FALSE;
        const char *role = groups_host->result_value (res, 0, 0);
        if (role)
                *out_role = g_str_equal (role, "owner") ? ATRIUM_GROUP_ROLE_OWNER
                                                        : ATRIUM_GROUP_ROLE_MEMBER;
        groups_host->result_free (res);
        return TRUE;
}

static char **
column_strv (AtriumResult *res)
{
        int n = groups_host->result_n_rows (res);
        char **out = g_new0 (char *, n + 1);
        for (int i = 0; i < n; i++)
                out[i] = g_strdup (groups_host->result_value (res, i, 0));
        groups_host->result_free (res);
        return out;
}

static char **
svc_members_of (AtriumTx *tx, const char *group_id, GError **error)
{
        if (!group_id || !g_uuid_string_is_valid (group_id))
                return g_new0 (char *, 1);
        AtriumResult *res =
                groups_tx_sql (tx, error,
                               "SELECT user_id FROM groups.members WHERE group_id = $1::uuid "
                               "ORDER BY role = 'owner' DESC, user_id",
                               1, group_id);
        return res ? column_strv (res) : NULL;
}

static char **
svc_groups_of (AtriumTx *tx, const char *user_id, GError **error)
{
        if (!user_id || !g_uuid_string_is_valid (user_id))
                return g_new0 (char *, 1);
        AtriumResult *res =
                groups_tx_sql (tx, error,
                               "SELECT group_id FROM groups.members WHERE user_id = $1::uuid "
                               "ORDER BY group_id",
                               1, user_id);
        return res ? column_strv (res) : NULL;
}

static gboolean
svc_group_exists (AtriumTx *tx, const char *group_id, gboolean *out_exists, GError **error)
{
        *out_exists = FALSE;
        if (!group_id || !g_uuid_string_is_valid (group_id))
                return TRUE;
        AtriumResult *res = groups_tx_sql (
                tx, error, "SELECT 1 FROM groups.groups WHERE id = $1::uuid", 1, group_id);
        if (!res)
                return FALSE;
        *out_exists = groups_host->result_n_rows (res) == 1;
        groups_host->result_free (res);
        return TRUE;
}

static gboolean
svc_group_by_slug (AtriumTx *tx, const char *slug, char **out_id, GError **error)
{
        *out_id = NULL;
        if (!slug)
                return TRUE;
        AtriumResult *res =
                groups_tx_sql (tx, error, "SELECT id FROM groups.groups WHERE slug = $1", 1, slug);
        if (!res)
                return FALSE;
        if (groups_host->result_n_rows (res) == 1)
                *out_id = g_strdup (groups_host->result_value (res, 0, 0));
        groups_host->result_free (res);
        return TRUE;
}

static gboolean
svc_group_names (AtriumTx *tx, const char *group_id, char **out_slug, char **out_name,
                 GError **error)
{
        *out_slug = *out_name = NULL;
        if (!group_id || !g_uuid_string_is_valid (group_id))
                return TRUE;
        AtriumResult *res = groups_tx_sql (
                tx, error, "SELECT slug, name FROM groups.groups WHERE id = $1::uuid", 1, group_id);
        if (!res)
                return FALSE;
        if (groups_host->result_n_rows (res) == 1) {
                *out_slug = g_strdup (groups_host->result_value (res, 0, 0));
                *out_name = g_strdup (groups_host->result_value (res, 0, 1));
        }
        groups_host->result_free (res);
        return TRUE;
}

static gboolean
svc_shared_groups (AtriumTx *tx, const char *user_a, const char *user_b, const char *const *types,
                   char ***out_ids, GError **error)
{
        *out_ids = NULL;
        if (!user_a || !g_uuid_string_is_valid (user_a) || !user_b ||
            !g_uuid_string_is_valid (user_b)) {
                *out_ids = g_new0 (char *, 1);
                return TRUE;
        }
        g_autofree char *wanted = types ? g_strjoinv (",", (char **) types) : NULL;
        AtriumResult *res = groups_tx_sql (
                tx, error,
                "SELECT a.group_id FROM groups.members a "
                "JOIN groups.members b ON b.school_id = a.school_id AND b.group_id = a.group_id "
                "JOIN groups.groups g ON g.school_id = a.school_id AND g.id = a.group_id "
                "WHERE a.user_id = $1::uuid AND b.user_id = $2::uuid "
                "AND ($3::text IS NULL OR g.type = ANY (string_to_array ($3, ','))) "
                "ORDER BY a.group_id",
                3, user_a, user_b, wanted);
        if (!res)
                return FALSE;
        *out_ids = column_strv (res);
        return TRUE;
}

const AtriumGroupsService groups_service = {
        .header = ATRIUM_STRUCT_HEADER (AtriumGroupsService),
        .is_member = svc_is_member,
        .members_of = svc_members_of,
        .groups_of = svc_groups_of,
        .group_exists = svc_group_exists,
        .group_by_slug = svc_group_by_slug,
        .import_check = groups_import_check,
        .import_sync = groups_import_sync,
        .group_names = svc_group_names,
        .shared_groups = svc_shared_groups,
};

/* ---- helpers shared by the route files ---- */

gboolean
groups_caller_role (AtriumRequest *req, const char *group_id, AtriumGroupRole *out_role,
                    GError **error)
{
        return svc_is_member (groups_host->request_tx (req), group_id,
                              groups_host->request_user_id (req), out_role, error);
}

JsonNode *
groups_fetch_visible (AtriumRequest *req, const char *group_id, GError **error)
{
        if (!group_id || !g_uuid_string_is_valid (group_id)) {
                groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s",
                             group_id ? group_id : "");
                return NULL;
        }
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!groups_host->request_has_permission (req, "groups.read") &&
            !groups_host->request_has_permission (req, "groups.manage")) {
                if (!groups_caller_role (req, group_id, &role, error))
                        return NULL;
                if (role == ATRIUM_GROUP_ROLE_NONE) {
                        groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
                        return NULL;
                }
        }
        AtriumResult *res = groups_sql (
                req, error, "SELECT " GROUP_COLUMNS " FROM groups.groups g WHERE g.id = $1::uuid",
                1, group_id);
        if (!res)
                return NULL;
        if (groups_host->result_n_rows (res) == 0) {
                groups_host->result_free (res);
                groups_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
                return NULL;
        }
        JsonNode *n = groups_host->result_row_json (res, 0);
        groups_host->result_free (res);
        return n;
}

gboolean
groups_may_manage (AtriumRequest *req, const char *group_id, GError **error)
{
        if (groups_host->request_has_permission (req, "groups.manage"))
                return TRUE;
        AtriumGroupRole role;
        if (!groups_caller_role (req, group_id, &role, error))
                return FALSE;
        if (role == ATRIUM_GROUP_ROLE_OWNER)
                return TRUE;
        return groups_fail (error, ATRIUM_ERROR_FORBIDDEN,
                            "only the group's owners or holders of groups.manage may do this");
}

/* ---- GDPR ---- */

gboolean
groups_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                    GError **error)
{
        return atrium_export_rows (
                groups_host, tx, out, "memberships",
                "SELECT g.id, g.name, g.type, m.role, m.added_at FROM groups.members m "
                "JOIN groups.groups g ON g.id = m.group_id AND g.school_id = m.school_id "
                "WHERE m.user_id = $1::uuid ORDER BY g.name",
                user_id, error);
}
