/* SPDX-License-Identifier: Apache-2.0 */
/* rooms.c - /rooms: create, list (the rooms the caller may join), read, change and delete.
 *
 * A room belongs to the school, or to a group when group_id is set (then only the group's
 * members may join). Creating or moving a room into a group takes the group's ownership or
 * conference.moderate; changing or deleting a room takes moderating it (conference.c). */
#include "conference-private.h"

#include <string.h>

/* The caller may attach rooms to @group: it exists, and they own it or moderate all rooms. */
static gboolean
may_use_group (AtriumRequest *req, const char *group, GError **error)
{
        AtriumTx *tx = conf_host->request_tx (req);
        gboolean exists = FALSE;
        if (!conf_groups->group_exists (tx, group, &exists, error))
                return FALSE;
        if (!exists)
                return conf_fail (error, ATRIUM_ERROR_UNPROCESSABLE, "no group %s", group);
        if (conf_host->request_is_operator (req) ||
            conf_host->request_has_permission (req, "conference.moderate"))
                return TRUE;
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!conf_groups->is_member (tx, group, conf_host->request_user_id (req), &role, error))
                return FALSE;
        if (role != ATRIUM_GROUP_ROLE_OWNER)
                return conf_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "only the group's owners (or holders of conference.moderate) "
                                  "may hold rooms for it");
        return TRUE;
}

/* NULL, or the member's value as text ("true", "12", an RFC 3339 time as sent). */
static const char *
member_text (JsonObject *body, const char *name, char **buf)
{
        JsonNode *n = json_object_get_member (body, name);
        if (!n || JSON_NODE_HOLDS_NULL (n))
                return NULL;
        GType t = json_node_get_value_type (n);
        if (t == G_TYPE_BOOLEAN)
                return json_node_get_boolean (n) ? "true" : "false";
        if (t == G_TYPE_INT64)
                return *buf = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
        return json_node_get_string (n);
}

/* ends_at after starts_at, both as they will be after the change. */
static gboolean
check_schedule (const char *starts, const char *ends, GError **error)
{
        if (!starts || !ends)
                return TRUE;
        g_autoptr (GDateTime) s = g_date_time_new_from_iso8601 (starts, NULL);
        g_autoptr (GDateTime) e = g_date_time_new_from_iso8601 (ends, NULL);
        if (!s || !e)
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "starts_at and ends_at must be RFC 3339 times with an offset");
        if (g_date_time_compare (e, s) <= 0)
                return conf_fail (error, ATRIUM_ERROR_INVALID, "ends_at must be after starts_at");
        return TRUE;
}

static const char *const FIELDS[] = {"name",      "description",      "group_id", "starts_at",
                                     "ends_at",   "max_participants", "lobby",    "locked"};
static const char *const CASTS[] = {"text",        "text",    "uuid",    "timestamptz",
                                    "timestamptz", "integer", "boolean", "boolean"};

static gboolean
handle_create (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *body = json_node_get_object (conf_host->request_json (req));
        char *bufs[G_N_ELEMENTS (FIELDS)] = {0};
        const char *v[G_N_ELEMENTS (FIELDS) + 1];
        for (gsize i = 0; i < G_N_ELEMENTS (FIELDS); i++)
                v[i] = member_text (body, FIELDS[i], &bufs[i]);
        v[G_N_ELEMENTS (FIELDS)] = conf_host->request_user_id (req);
        gboolean ok = check_schedule (v[3], v[4], error) &&
                      (!v[2] || may_use_group (req, v[2], error));
        AtriumResult *res =
                ok ? conf_host->query (
                             conf_host->request_tx (req),
                             "INSERT INTO conference.rooms AS r (school_id, name, description, "
                             "group_id, starts_at, ends_at, max_participants, lobby, locked, "
                             "created_by) VALUES (core.current_school(), $1, coalesce($2, ''), "
                             "$3::uuid, $4::timestamptz, $5::timestamptz, $6::integer, "
                             "coalesce($7::boolean, false), coalesce($8::boolean, false), "
                             "$9::uuid) RETURNING " CONF_ROOM_COLUMNS,
                             9, v, error)
                   : NULL;
        for (gsize i = 0; i < G_N_ELEMENTS (FIELDS); i++)
                g_free (bufs[i]);
        if (!res)
                return FALSE;
        JsonNode *room = conf_host->result_row_json (res, 0);
        conf_host->result_free (res);
        JsonObject *o = json_node_get_object (room);
        json_object_set_boolean_member (o, "moderator", TRUE);
        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "room_id", json_object_get_string_member (o, "id"));
        json_object_set_member (ev, "group_id",
                                json_node_copy (json_object_get_member (o, "group_id")));
        if (!conf_host->publish (conf_host->request_tx (req), "conference.room_created",
                                 atrium_object_node (ev), error)) {
                json_node_unref (room);
                return FALSE;
        }
        conf_host->respond_json (req, 201, room);
        return TRUE;
}

static gboolean
handle_get (AtriumRequest *req, gpointer data, GError **error)
{
        gboolean moderator;
        JsonObject *o = conf_room_for_caller (req, conf_host->request_param (req, "id"),
                                              &moderator, error);
        if (!o)
                return FALSE;
        conf_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_list (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (conf_host, req, "tu", &page, error))
                return FALSE;
        /* A uuid when given: the route's query_schema, checked by the host. */
        const char *group = conf_host->request_query (req, "group_id");
        const char *me = conf_host->request_user_id (req);
        gboolean all = conf_host->request_is_operator (req) ||
                       conf_host->request_has_permission (req, "conference.moderate");
        g_autofree char *mine = NULL;
        if (!all) {
                g_auto (GStrv) groups =
                        conf_groups->groups_of (conf_host->request_tx (req), me, error);
                if (!groups)
                        return FALSE;
                g_autofree char *joined = g_strjoinv (",", groups);
                mine = g_strdup_printf ("{%s}", joined);
        }
        AtriumResult *res = conf_sql (
                req, error,
                "SELECT " CONF_ROOM_COLUMNS " FROM conference.rooms r WHERE "
                "($1::uuid[] IS NULL OR r.group_id IS NULL OR r.group_id = ANY ($1::uuid[]) OR "
                "r.created_by = $2::uuid) AND ($3::uuid IS NULL OR r.group_id = $3::uuid) AND "
                "(r.created_at, r.id) < ($4::timestamptz, $5::uuid) "
                "ORDER BY r.created_at DESC, r.id DESC LIMIT (SELECT $6::int)",
                6, mine, me, group, atrium_page_after (&page, 0, "infinity"),
                atrium_page_after (&page, 1, ATRIUM_UUID_MAX), page.fetch);
        if (!res)
                return FALSE;
        int n = conf_host->result_n_rows (res);
        JsonArray *items = json_array_new ();
        g_autoptr (GHashTable) owned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                              NULL);
        gboolean ok = TRUE;
        for (int i = 0; i < MIN (n, page.limit) && ok; i++) {
                JsonNode *row = conf_host->result_row_json (res, i);
                JsonObject *o = json_node_get_object (row);
                const char *g = json_object_get_string_member_with_default (o, "group_id", NULL);
                const char *by = json_object_get_string_member_with_default (o, "created_by",
                                                                             NULL);
                gboolean mod = all || (me && g_strcmp0 (by, me) == 0);
                if (!mod && g) {
                        gpointer known;
                        if (!g_hash_table_lookup_extended (owned, g, NULL, &known)) {
                                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                                ok = conf_groups->is_member (conf_host->request_tx (req), g, me,
                                                             &role, error);
                                known = GINT_TO_POINTER (role == ATRIUM_GROUP_ROLE_OWNER);
                                g_hash_table_insert (owned, g_strdup (g), known);
                        }
                        mod = GPOINTER_TO_INT (known);
                }
                json_object_set_boolean_member (o, "moderator", mod);
                json_array_add_element (items, row);
        }
        g_autofree char *next = ok ? atrium_page_next (conf_host, &page, res, 2, 10, 0) : NULL;
        conf_host->result_free (res);
        if (!ok) {
                json_array_unref (items);
                return FALSE;
        }
        conf_host->respond_page (req, atrium_array_node (items), next);
        return TRUE;
}

JsonObject *
conf_moderated_room (AtriumRequest *req, GError **error)
{
        gboolean moderator = FALSE;
        JsonObject *o = conf_room_for_caller (req, conf_host->request_param (req, "id"),
                                              &moderator, error);
        if (o && !moderator) {
                json_object_unref (o);
                conf_fail (error, ATRIUM_ERROR_FORBIDDEN, "only the room's moderators may do this");
                return NULL;
        }
        return o;
}

static gboolean
handle_patch (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (JsonObject) room = conf_moderated_room (req, error);
        if (!room)
                return FALSE;
        JsonObject *body = json_node_get_object (conf_host->request_json (req));
        /* The schedule as it will be, to check the pair. */
        const char *when[2];
        for (int i = 0; i < 2; i++) {
                const char *f = FIELDS[3 + i];
                JsonNode *n = json_object_get_member (body, f);
                when[i] = n ? (JSON_NODE_HOLDS_NULL (n) ? NULL : json_node_get_string (n))
                            : json_object_get_string_member_with_default (room, f, NULL);
        }
        if (!check_schedule (when[0], when[1], error))
                return FALSE;
        const char *group = json_object_has_member (body, "group_id")
                                    ? json_object_get_string_member_with_default (body, "group_id",
                                                                                  NULL)
                                    : NULL;
        if (group && !may_use_group (req, group, error))
                return FALSE;
        g_autoptr (GString) sql = g_string_new ("UPDATE conference.rooms AS r SET updated_at = now()");
        char *bufs[G_N_ELEMENTS (FIELDS)] = {0};
        const char *params[G_N_ELEMENTS (FIELDS) + 1];
        int n = 0;
        params[n++] = conf_host->request_param (req, "id");
        for (gsize i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
                if (!json_object_has_member (body, FIELDS[i]))
                        continue;
                params[n] = member_text (body, FIELDS[i], &bufs[i]);
                n++;
                /* null clears an optional field; name, description and flags have defaults */
                g_string_append_printf (sql, ", %s = coalesce($%d::%s, %s)", FIELDS[i], n,
                                        CASTS[i],
                                        i == 0   ? "r.name"
                                        : i == 1 ? "''"
                                        : i >= 6 ? "false"
                                                 : "NULL");
        }
        g_string_append (sql, " WHERE r.id = $1::uuid RETURNING " CONF_ROOM_COLUMNS);
        AtriumResult *res = conf_host->query (conf_host->request_tx (req), sql->str, n, params,
                                              error);
        for (gsize i = 0; i < G_N_ELEMENTS (FIELDS); i++)
                g_free (bufs[i]);
        if (!res)
                return FALSE;
        JsonNode *row = conf_host->result_row_json (res, 0);
        conf_host->result_free (res);
        json_object_set_boolean_member (json_node_get_object (row), "moderator", TRUE);
        conf_host->respond_json (req, 200, row);
        return TRUE;
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (JsonObject) room = conf_moderated_room (req, error);
        if (!room)
                return FALSE;
        AtriumResult *res = conf_sql (req, error,
                                      "DELETE FROM conference.rooms WHERE id = $1::uuid", 1,
                                      conf_host->request_param (req, "id"));
        if (!res)
                return FALSE;
        conf_host->result_free (res);
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define ROOM_PROPS                                                                              \
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"                     \
        "\"description\":{\"type\":[\"string\",\"null\"],\"maxLength\":2000},"                  \
        "\"group_id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"},"                    \
        "\"starts_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"              \
        "\"ends_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"                \
        "\"max_participants\":{\"type\":[\"integer\",\"null\"],\"minimum\":2,"                  \
        "\"maximum\":10000},"                                                                   \
        "\"lobby\":{\"type\":[\"boolean\",\"null\"]},\"locked\":{\"type\":[\"boolean\",\"null\"]}"
#define CREATE_BODY                                                                             \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"          \
        "\"properties\":{" ROOM_PROPS "}}"
#define PATCH_BODY                                                                              \
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" ROOM_PROPS "}}"
#define ROOM_ANSWER                                                                             \
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"}," \
        ROOM_PROPS ",\"created_by\":{\"type\":[\"string\",\"null\"]},"                         \
        "\"created_at\":{\"type\":\"string\"},\"updated_at\":{\"type\":\"string\"},"           \
        "\"moderator\":{\"type\":\"boolean\"}}}"

gboolean
conf_rooms_register (GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/rooms",
                 .permission = "conference.create", .summary = "Create a room",
                 .request_schema = CREATE_BODY, .response_schema = ROOM_ANSWER,
                 .success_status = 201, .handler = handle_create},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/rooms",
                 .permission = "conference.join",
                 .summary = "The rooms the caller may join, newest first (?group_id=, ?limit=, "
                            "?cursor=)",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .query_schema = "{\"type\": \"object\", \"properties\": {\"group_id\": "
                                 "{\"type\": \"string\", \"format\": \"uuid\", "
                                 "\"description\": \"only the rooms of this group\"}}}",
                 .response_schema = ROOM_ANSWER, .handler = handle_list},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/rooms/{id}",
                 .permission = "conference.join", .summary = "A room",
                 .response_schema = ROOM_ANSWER, .handler = handle_get},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/rooms/{id}",
                 .permission = "conference.join",
                 .summary = "Change a room (its moderators; null clears a field)",
                 .request_schema = PATCH_BODY, .response_schema = ROOM_ANSWER,
                 .handler = handle_patch},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/rooms/{id}",
                 .permission = "conference.join",
                 .summary = "Delete a room and its guest links (its moderators)",
                 .success_status = 204, .handler = handle_delete},
        };
        return atrium_add_routes (conf_host, conf_self, routes, G_N_ELEMENTS (routes), error);
}
