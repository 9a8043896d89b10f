/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - what the conference plugin's route files share: who may join or moderate a room
 * (conf_room_for_caller, used by every room route), the reaction to group.deleted and the
 * GDPR export. plugin.c wires them up. */
#include "conference-private.h"

/* ---- who may do what ---- */

/* The room row @o (CONF_ROOM_COLUMNS) as seen by the caller: whether they may join it and
 * whether they moderate it. */
static gboolean
caller_rights (AtriumRequest *req, JsonObject *o, gboolean *out_join, gboolean *out_moderate,
               GError **error)
{
        const char *me = conf_host->request_user_id (req);
        const char *group = json_object_get_string_member_with_default (o, "group_id", NULL);
        const char *creator = json_object_get_string_member_with_default (o, "created_by", NULL);
        *out_join = *out_moderate = FALSE;
        if (conf_host->request_is_operator (req) ||
            conf_host->request_has_permission (req, "conference.moderate") ||
            (me && g_strcmp0 (creator, me) == 0)) {
                *out_join = *out_moderate = TRUE;
                return TRUE;
        }
        if (!group) {
                *out_join = TRUE;
                return TRUE;
        }
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!conf_groups->is_member (conf_host->request_tx (req), group, me, &role, error))
                return FALSE;
        *out_join = role != ATRIUM_GROUP_ROLE_NONE;
        *out_moderate = role == ATRIUM_GROUP_ROLE_OWNER;
        return TRUE;
}

JsonObject *
conf_room_for_caller (AtriumRequest *req, const char *room_id, gboolean *out_moderator,
                      GError **error)
{
        if (!room_id || !g_uuid_string_is_valid (room_id)) {
                conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no room %s", room_id ? room_id : "");
                return NULL;
        }
        AtriumResult *res = conf_sql (req, error,
                                      "SELECT " CONF_ROOM_COLUMNS
                                      " FROM conference.rooms r WHERE r.id = $1::uuid",
                                      1, room_id);
        if (!res)
                return NULL;
        JsonNode *row = conf_host->result_n_rows (res) ? conf_host->result_row_json (res, 0) : NULL;
        conf_host->result_free (res);
        if (!row) {
                conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no room %s", room_id);
                return NULL;
        }
        JsonObject *o = json_object_ref (json_node_get_object (row));
        json_node_unref (row);
        gboolean join, moderate;
        if (!caller_rights (req, o, &join, &moderate, error) || !join) {
                json_object_unref (o);
                if (error && !*error)
                        conf_fail (error, ATRIUM_ERROR_NOT_FOUND, "no room %s", room_id);
                return NULL;
        }
        json_object_set_boolean_member (o, "moderator", moderate);
        *out_moderator = moderate;
        return o;
}

/* ---- reactions and GDPR ---- */

gboolean
conf_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                       GError **error)
{
        const char *group = atrium_payload_uuid (payload, "group_id");
        if (!group)
                return TRUE;
        /* A group's rooms are for its members only: without the group nobody may join them,
         * so they go (guest links with them); the visits stay for the figures. */
        AtriumResult *res = conf_tx_sql (
                tx, error, "DELETE FROM conference.rooms WHERE group_id = $1::uuid", 1, group);
        if (!res)
                return FALSE;
        conf_host->result_free (res);
        return TRUE;
}

gboolean
conf_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                  GError **error)
{
        return atrium_export_rows (
                       conf_host, tx, out, "attendance",
                       "SELECT a.room_id, r.name AS room_name, a.moderator, a.joined_at, a.left_at "
                       "FROM conference.attendance a LEFT JOIN conference.rooms r "
                       "ON r.school_id = a.school_id AND r.id = a.room_id "
                       "WHERE a.user_id = $1::uuid ORDER BY a.joined_at, a.id",
                       user_id, error) &&
               atrium_export_rows (conf_host, tx, out, "rooms_created",
                                   "SELECT id, name, group_id, created_at FROM conference.rooms "
                                   "WHERE created_by = $1::uuid ORDER BY created_at, id",
                                   user_id, error);
}
