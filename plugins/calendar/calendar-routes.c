/* SPDX-License-Identifier: Apache-2.0 */
/* calendar-routes.c - /api/v1/schools/{school}/calendar/calendars: creating, listing, reading,
 * renaming and deleting calendars. Who may do what is decided in model.c; this file checks
 * the owner a new calendar names:
 *
 *   user    the caller (default), or another person of the school with calendar.manage
 *           (provisioning); the calendar is then that person's, private to them;
 *   group   an existing group the caller may edit calendars of (owner, or member with
 *           calendar.write, or calendar.manage); a group the caller is not in is reported as
 *           unknown, as the groups module does, so group ids cannot be probed;
 *   school  calendar.manage.
 *
 * The calendar's iCalendar export, GET /calendars/{id}.ics, is in subscriptions.c. */
#include "calendar-private.h"

#include <string.h>

static const char calendar_schema[] =
        "{\"type\":\"object\",\"required\":[\"name\",\"owner\"],\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"color\":{\"type\":[\"string\",\"null\"],\"pattern\":\"^#[0-9a-fA-F]{6}$\"},"
        "\"owner\":{\"type\":\"object\",\"required\":[\"type\"],\"properties\":{"
        "\"type\":{\"type\":\"string\",\"enum\":[\"user\",\"group\",\"school\"]},"
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"}}}}}";

static const char calendar_patch_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"color\":{\"type\":[\"string\",\"null\"],\"pattern\":\"^#[0-9a-fA-F]{6}$\"}}}";

static gboolean
respond_calendar (AtriumRequest *req, guint status, const char *id, GError **error)
{
        g_autoptr (CalCalendar) c = cal_calendar_view (req, id, error);
        if (!c)
                return FALSE;
        cal_host->respond_json (req, status, json_node_ref (c->json));
        return TRUE;
}

/* Checks the owner of a new calendar; *out_owner_id is NULL for the school. */
static gboolean
check_owner (AtriumRequest *req, JsonObject *owner, const char **out_owner_id, GError **error)
{
        const char *type = json_object_get_string_member (owner, "type");
        const char *id = json_object_get_string_member_with_default (owner, "id", NULL);
        const char *me = cal_host->request_user_id (req);
        gboolean manage = cal_host->request_has_permission (req, "calendar.manage");
        if (g_str_equal (type, "school")) {
                if (id)
                        return cal_fail (error, ATRIUM_ERROR_INVALID,
                                         "/owner/id: a school calendar has no owner id");
                if (!manage)
                        return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                         "creating a school calendar needs calendar.manage");
                *out_owner_id = NULL;
                return TRUE;
        }
        if (g_str_equal (type, "user")) {
                if (!id && !me)
                        return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                         "an operator has no personal calendar: give /owner/id");
                if (id && g_strcmp0 (id, me) != 0) {
                        if (!manage)
                                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                                 "creating a calendar for someone else needs "
                                                 "calendar.manage");
                        AtriumResult *res = cal_sql (
                                req, error, "SELECT 1 FROM core.users WHERE id = $1::uuid", 1, id);
                        if (!res)
                                return FALSE;
                        gboolean found = cal_host->result_n_rows (res) == 1;
                        cal_host->result_free (res);
                        if (!found)
                                return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                                 "/owner/id: no user %s in this school", id);
                }
                *out_owner_id = id ? id : me;
                return TRUE;
        }
        if (!id)
                return cal_fail (error, ATRIUM_ERROR_INVALID,
                                 "/owner/id: a group calendar needs the group's id");
        AtriumTx *tx = cal_host->request_tx (req);
        gboolean exists = FALSE;
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!cal_groups->group_exists (tx, id, &exists, error) ||
            (me && !cal_groups->is_member (tx, id, me, &role, error)))
                return FALSE;
        if (!exists || (role == ATRIUM_GROUP_ROLE_NONE && !manage))
                return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                 "/owner/id: no group %s that you belong to", id);
        if (!cal_may_edit (req, "group", id, role))
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                 "creating a group's calendar needs to own the group, or to be "
                                 "a member holding calendar.write");
        *out_owner_id = id;
        return TRUE;
}

static gboolean
create_calendar (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (cal_host->request_json (req));
        JsonObject *owner = json_object_get_object_member (in, "owner");
        const char *owner_id = NULL;
        if (!check_owner (req, owner, &owner_id, error))
                return FALSE;
        const char *color = json_object_get_string_member_with_default (in, "color", NULL);
        g_autofree char *lower = color ? g_ascii_strdown (color, -1) : NULL;
        AtriumResult *res = cal_sql (
                req, error,
                "INSERT INTO calendar.calendars AS c (school_id, name, color, owner_type, "
                "owner_id, created_by) "
                "VALUES (core.current_school(), $1, $2, $3, $4::uuid, $5::uuid) "
                "RETURNING " CAL_CALENDAR_COLUMNS,
                5, json_object_get_string_member (in, "name"), lower,
                json_object_get_string_member (owner, "type"), owner_id,
                cal_host->request_user_id (req));
        if (!res)
                return FALSE;
        /* Answered from the new row: a calendar made for someone else is not the caller's
         * to see afterwards. */
        g_autoptr (GHashTable) roles =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        JsonNode *n = cal_calendar_row_json (req, res, 0, roles, error);
        cal_host->result_free (res);
        if (!n)
                return FALSE;
        cal_host->respond_json (req, 201, n);
        return TRUE;
}

static gboolean
list_calendars (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (cal_host, req, "su", &page, error))
                return FALSE;
        /* user, group or school when given: the route's query_schema, checked by the host. */
        const char *type = cal_host->request_query (req, "owner_type");
        g_autofree char *groups = cal_my_groups (req, error);
        if (!groups)
                return FALSE;
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT " CAL_CALENDAR_COLUMNS ", lower(c.name) AS sort_key "
                "FROM calendar.calendars c WHERE " CAL_VISIBLE_SQL " "
                "AND ($4::text IS NULL OR c.owner_type = $4) "
                "AND (lower(c.name), c.id) > ($5, $6::uuid) "
                "ORDER BY lower(c.name), c.id LIMIT (SELECT $7::int)",
                7, cal_host->request_user_id (req),
                cal_host->request_has_permission (req, "calendar.manage") ? "true" : "false",
                groups, type, atrium_page_after (&page, 0, ""),
                atrium_page_after (&page, 1, ATRIUM_UUID_MIN), page.fetch);
        if (!res)
                return FALSE;
        int rows = cal_host->result_n_rows (res);
        g_autoptr (GHashTable) roles =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        JsonArray *items = json_array_new ();
        for (int i = 0; i < rows && i < page.limit; i++) {
                JsonNode *n = cal_calendar_row_json (req, res, i, roles, error);
                if (!n) {
                        json_array_unref (items);
                        cal_host->result_free (res);
                        return FALSE;
                }
                json_array_add_element (items, n);
        }
        g_autofree char *next = atrium_page_next (cal_host, &page, res, 2, 7, 0);
        cal_host->result_free (res);
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, items);
        cal_host->respond_page (req, n, next);
        return TRUE;
}

static gboolean
get_calendar (AtriumRequest *req, gpointer data, GError **error)
{
        return respond_calendar (req, 200, cal_host->request_param (req, "id"), error);
}

static gboolean
patch_calendar (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = cal_host->request_param (req, "id");
        g_autoptr (CalCalendar) c = cal_calendar_open (req, id, TRUE, error);
        if (!c)
                return FALSE;
        JsonObject *in = json_node_get_object (cal_host->request_json (req));
        const char *color = json_object_get_string_member_with_default (in, "color", NULL);
        g_autofree char *lower = color ? g_ascii_strdown (color, -1) : NULL;
        if (!atrium_done (
                    cal_host,
                    cal_sql (
                            req, error,
                            "UPDATE calendar.calendars SET name = coalesce($2, name), "
                            "color = CASE WHEN $4::boolean THEN $3 ELSE color END, updated_at = now() "
                            "WHERE id = $1::uuid",
                            4, c->id, json_object_get_string_member_with_default (in, "name", NULL),
                            lower, json_object_has_member (in, "color") ? "true" : "false")))
                return FALSE;
        return respond_calendar (req, 200, c->id, error);
}

static gboolean
delete_calendar (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = cal_host->request_param (req, "id");
        g_autoptr (CalCalendar) c = cal_calendar_open (req, id, TRUE, error);
        if (!c ||
            !atrium_done (cal_host,
                          cal_sql (req, error, "DELETE FROM calendar.calendars WHERE id = $1::uuid",
                                   1, c->id)) ||
            !cal_publish (cal_host->request_tx (req), "calendar.calendar_deleted", c->id, NULL,
                          NULL, NULL, error))
                return FALSE;
        cal_host->respond_json (req, 204, NULL);
        return TRUE;
}

/* A calendar as calendar_json (model.c) shows it. */
static const char calendar_answer[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"name\":{\"type\":\"string\"},\"color\":{\"type\":[\"string\",\"null\"]},"
        "\"owner\":{\"type\":\"object\",\"properties\":{\"type\":{\"type\":\"string\",\"enum\":"
        "[\"user\",\"group\",\"school\"]},\"id\":{\"type\":\"string\",\"format\":\"uuid\","
        "\"description\":\"the user or the group; none for the school's\"}}},"
        "\"can_edit\":{\"type\":\"boolean\",\"description\":\"the caller may change its "
        "events\"},"
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}";

gboolean
cal_register_calendar_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/calendars",
                 .permission = "calendar.read",
                 .summary = "Create a calendar of the caller, a group or the school",
                 .request_schema = calendar_schema, .response_schema = calendar_answer,
                 .success_status = 201, .handler = create_calendar},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars",
                 .permission = "calendar.read",
                 .summary = "The calendars the caller sees (?owner_type=; paginated)",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .query_schema = "{\"type\": \"object\", \"properties\": {\"owner_type\": "
                                 "{\"type\": \"string\", \"enum\": [\"user\", \"group\", "
                                 "\"school\"], \"description\": \"only calendars of this kind of "
                                 "owner\"}}}",
                 .response_schema = calendar_answer, .handler = list_calendars},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}",
                 .permission = "calendar.read", .summary = "One calendar",
                 .response_schema = calendar_answer, .handler = get_calendar},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/calendars/{id}",
                 .permission = "calendar.read", .summary = "Rename or recolour a calendar",
                 .request_schema = calendar_patch_schema, .response_schema = calendar_answer,
                 .handler = patch_calendar},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/calendars/{id}",
                 .permission = "calendar.read",
                 .summary = "Delete a calendar with its events and subscriptions",
                 .success_status = 204, .handler = delete_calendar},
        };
        return atrium_add_routes (cal_host, self, routes, G_N_ELEMENTS (routes), error);
}
