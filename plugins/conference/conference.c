/* SPDX-License-Identifier: Apache-2.0 */
/* conference.c - the conference plugin: rooms, rights and joins for video lessons held on an
 * existing engine (Jitsi Meet or BigBlueButton), and the attendance the usage figures come
 * from.
 *
 * This file holds the descriptor and lifecycle, the installation's settings, who may join or
 * moderate a room (conf_room_for_caller, used by every room route), the reactions to
 * group.deleted, and the GDPR export. A deleted user's visits lose the person in the deleting
 * transaction itself (a foreign key with SET NULL), so no event is needed for that. */
#include "conference-private.h"

#include <atrium/resources.h>

#include "conference-resources.h"

const AtriumHost *conf_host;
const AtriumGroupsService *conf_groups;
AtriumPlugin *conf_self;
ConfSettings conf_settings;

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
        JsonNode *row = conf_host->result_n_rows (res) ? conf_host->result_row_json (res, 0)
                                                        : NULL;
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

static gboolean
on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                  GError **error)
{
        const char *group = atrium_payload_uuid (payload, "group_id");
        if (!group)
                return TRUE;
        /* A group's rooms are for its members only: without the group nobody may join them,
         * so they go (guest links with them); the visits stay for the figures. */
        AtriumResult *res = conf_tx_sql (tx, error,
                                         "DELETE FROM conference.rooms WHERE group_id = $1::uuid",
                                         1, group);
        if (!res)
                return FALSE;
        conf_host->result_free (res);
        return TRUE;
}

static gboolean
conf_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                  GError **error)
{
        AtriumResult *res = conf_tx_sql (
                tx, error,
                "SELECT a.room_id, r.name AS room_name, a.moderator, a.joined_at, a.left_at "
                "FROM conference.attendance a LEFT JOIN conference.rooms r "
                "ON r.school_id = a.school_id AND r.id = a.room_id "
                "WHERE a.user_id = $1::uuid ORDER BY a.joined_at, a.id",
                1, user_id);
        if (!res)
                return FALSE;
        json_object_set_member (out, "attendance", conf_host->result_rows_json (res));
        conf_host->result_free (res);
        res = conf_tx_sql (tx, error,
                           "SELECT id, name, group_id, created_at FROM conference.rooms "
                           "WHERE created_by = $1::uuid ORDER BY created_at, id",
                           1, user_id);
        if (!res)
                return FALSE;
        json_object_set_member (out, "rooms_created", conf_host->result_rows_json (res));
        conf_host->result_free (res);
        return TRUE;
}

/* ---- lifecycle ---- */

static void
conf_fini (AtriumPlugin *self)
{
        conf_bbb_fini ();
        conf_backend_fini ();
        g_clear_pointer (&conf_settings.public_url, g_free);
}

static gboolean
conf_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        conf_host = host;
        conf_self = self;
        if (!ATRIUM_HOST_HAS (host, password_verify))
                return conf_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "the host is too old: conference needs ABI 1.2");
        conf_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 2);
        if (!conf_groups)
                return conf_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "conference needs the groups service (version 2)");
        /* A join waits for BigBlueButton with a worker and a database connection: keep the
         * worst case (timeout x attempts) short, and stop calling a server that is down. */
        const struct {
                const char *key;
                guint fallback, min, max;
                guint *out;
        } uints[] = {
                {"join_ttl_seconds", 300, 30, 86400, &conf_settings.join_ttl},
                {"typical_minutes", 25, 1, 1440, &conf_settings.typical_minutes},
                {"early_minutes", 15, 0, 1440, &conf_settings.early_minutes},
                {"bbb_timeout_seconds", 3, 1, 120, &conf_settings.bbb_timeout},
                {"bbb_retries", 1, 0, 10, &conf_settings.bbb_retries},
                {"guest_keep_days", 30, 0, 3650, &conf_settings.guest_keep_days},
                {"bbb_cooldown_seconds", 10, 0, 3600, &conf_settings.bbb_cooldown},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (uints); i++) {
                guint64 v;
                if (!atrium_config_uint (host, self, "conference", uints[i].key, uints[i].fallback,
                                         uints[i].min, uints[i].max, &v, error))
                        return FALSE;
                *uints[i].out = (guint) v;
        }
        g_free (conf_settings.public_url);
        conf_settings.public_url = host->config_get (self, "public_url");
        if (conf_settings.public_url && g_str_has_suffix (conf_settings.public_url, "/"))
                conf_settings.public_url[strlen (conf_settings.public_url) - 1] = '\0';
        /* The loader calls fini only for plugins that started: what init made is undone here
         * when a later step fails. */
        if (!conf_backend_init (error))
                return FALSE;
        if (!conf_backend_register (error) || !conf_rooms_register (error) ||
            !conf_join_register (error) || !conf_stats_register (error) ||
            !conf_purge_register (error) ||
            !host->subscribe (self, "group.deleted", on_group_deleted, NULL, error) ||
            !atrium_add_migrations_from_resource (host, self, conference_get_resource (),
                                                  "/dev/atrium/conference/schema", error)) {
                conf_fini (self);
                return FALSE;
        }
        conf_bbb_init (conf_settings.bbb_timeout, conf_settings.bbb_retries,
                       conf_settings.bbb_cooldown);
        return TRUE;
}

static const AtriumPermission permissions[] = {
        {"conference.join", "Join the videoconference rooms one may join",
         "admin,teacher,student,parent,staff"},
        {"conference.create", "Create rooms (for a group: as its owner)", "admin,teacher,staff"},
        {"conference.moderate", "Moderate every room of the school", "admin"},
        {"conference.stats", "See the school's videoconference usage figures", "admin"},
        {"conference.manage", "Set the school's videoconference backend", "admin"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "conference", .version = "0.1.0",
                      .description = "Videoconference rooms with signed joins to Jitsi Meet or "
                                     "BigBlueButton, and usage figures",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = conf_init, .fini = conf_fini,
                      .user_export = conf_user_export)
