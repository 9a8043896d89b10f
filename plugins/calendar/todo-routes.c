/* SPDX-License-Identifier: Apache-2.0 */
/* todo-routes.c - to-dos over REST, for the portal (which speaks only REST):
 *
 *   /calendars/{id}/todos              POST a to-do; GET the calendar's to-dos (paginated,
 *                                      oldest first)
 *   /calendars/{id}/todos/{todo_id}    GET, PATCH, DELETE one
 *
 * A to-do is the CalDAV resource of the same row (todos.c): an edit here changes the stored
 * iCalendar text in place (ical-todo.c: unknown properties, alarms and recurrence survive), so
 * a phone sees it at its next sync, and the ETag is CalDAV's. PATCH and DELETE take If-Match
 * like the event routes (412 when the to-do changed in between). Rights are the calendar's:
 * those who may read it read its to-dos, those who may edit it edit them. */
#include "calendar-private.h"

#include <string.h>

#define TODO_PROPS                                                                                 \
        "\"description\":{\"type\":[\"string\",\"null\"],\"maxLength\":20000},"                    \
        "\"status\":{\"type\":[\"string\",\"null\"],"                                              \
        "\"enum\":[\"needs-action\",\"in-process\",\"completed\",\"cancelled\",null]},"            \
        "\"priority\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"                         \
        "\"percent_complete\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"maximum\":100},"    \
        "\"start\":{\"type\":[\"string\",\"null\"],\"maxLength\":40},"                             \
        "\"due\":{\"type\":[\"string\",\"null\"],\"maxLength\":40},"                               \
        "\"completed\":{\"type\":[\"string\",\"null\"],\"maxLength\":40}"

static const char todo_schema[] =
        "{\"type\":\"object\",\"required\":[\"summary\"],\"properties\":{"
        "\"summary\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000}," TODO_PROPS "}}";

static const char todo_patch_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"summary\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000}," TODO_PROPS "}}";

static const char todo_answer[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"calendar_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"uid\":{\"type\":\"string\"},\"summary\":{\"type\":\"string\"},"
        "\"description\":{\"type\":[\"string\",\"null\"]},"
        "\"status\":{\"type\":[\"string\",\"null\"]},\"priority\":{\"type\":\"integer\"},"
        "\"percent_complete\":{\"type\":[\"integer\",\"null\"]},"
        "\"start\":{\"type\":[\"string\",\"null\"]},\"due\":{\"type\":[\"string\",\"null\"]},"
        "\"completed\":{\"type\":[\"string\",\"null\"]},\"all_day\":{\"type\":\"boolean\"},"
        "\"recurring\":{\"type\":\"boolean\"},"
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"dav_name\":{\"type\":\"string\",\"description\":\"The resource name of the to-do "
        "in its CalDAV calendar\"},"
        "\"etag\":{\"type\":\"string\",\"description\":\"The entity tag of the to-do as stored "
        "(CalDAV's too), also sent as the ETag header. Send it as If-Match with PATCH and "
        "DELETE: if the to-do changed in between, the answer is 412 and nothing is "
        "written.\"}}}";

/* The API view of a calendar.todos row t, as result_row_json turns it into JSON. Times are
 * RFC 3339 in UTC, or dates for an all-day to-do. */
#define TODO_TIME(col)                                                                             \
        "CASE WHEN t.is_date THEN to_char(t." col " AT TIME ZONE 'UTC', 'YYYY-MM-DD') "            \
        "ELSE to_char(t." col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END"
#define TODO_VIEW_SQL                                                                              \
        "t.id, t.calendar_id, t.uid, t.summary, t.description, t.status, t.priority, "             \
        "t.percent_complete, " TODO_TIME ("starts_at") " AS start, " TODO_TIME (                   \
                "due_at") " AS due, "                                                              \
                          "to_char(t.completed_at AT TIME ZONE 'UTC', "                            \
                          "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS completed, "                       \
                          "t.is_date AS all_day, t.recurring, "                                    \
                          "coalesce(t.dav_name, t.id::text || '.ics') AS dav_name, "               \
                          "'\"' || md5(t.ical) || '\"' AS etag, t.created_at, t.updated_at"

/* The to-do @todo_id of calendar @calendar_id (NOT_FOUND otherwise) as the API shows it; with
 * @lock, its row stays locked until the request ends (a PATCH is a read-modify-write).
 * *@out_ical: its stored text, when asked. */
static JsonNode *
load_todo (AtriumRequest *req, const char *calendar_id, const char *todo_id, gboolean lock,
           char **out_ical, GError **error)
{
        if (!todo_id || !g_uuid_string_is_valid (todo_id)) {
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no to-do %s in this calendar",
                          todo_id ? todo_id : "");
                return NULL;
        }
        AtriumResult *res =
                cal_sql (req, error,
                         lock ? "SELECT " TODO_VIEW_SQL ", t.ical FROM calendar.todos t "
                                "WHERE t.id = $1::uuid AND t.calendar_id = $2::uuid FOR UPDATE"
                              : "SELECT " TODO_VIEW_SQL ", t.ical FROM calendar.todos t "
                                "WHERE t.id = $1::uuid AND t.calendar_id = $2::uuid",
                         2, todo_id, calendar_id);
        if (!res)
                return NULL;
        if (cal_host->result_n_rows (res) != 1) {
                cal_host->result_free (res);
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no to-do %s in this calendar", todo_id);
                return NULL;
        }
        JsonNode *n = cal_host->result_row_json (res, 0);
        json_object_remove_member (json_node_get_object (n), "ical");
        if (out_ical)
                *out_ical = g_strdup (cal_host->result_value (res, 0, 17));
        cal_host->result_free (res);
        return n;
}

static gboolean
respond_todo (AtriumRequest *req, guint status, const char *calendar_id, const char *todo_id,
              GError **error)
{
        JsonNode *n = load_todo (req, calendar_id, todo_id, FALSE, NULL, error);
        if (!n)
                return FALSE;
        cal_host->response_header (
                req, "ETag", json_object_get_string_member (json_node_get_object (n), "etag"));
        cal_host->respond_json (req, status, n);
        return TRUE;
}

static gboolean
create_todo (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!c)
                return FALSE;
        /* The UID is a fresh uuid; the row's id follows from the INSERT. */
        g_autofree char *uid = g_uuid_string_random ();
        g_autoptr (CalTodo) t = cal_todo_edit (
                NULL, uid, json_node_get_object (cal_host->request_json (req)), error);
        if (!t)
                return FALSE;
        g_autofree char *id = cal_todo_store (req, c->id, NULL, NULL, t, error);
        return id && cal_todo_publish (req, "calendar.todo_created", c->id, id, t->uid, error) &&
               respond_todo (req, 201, c->id, id, error);
}

static gboolean
get_todo (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        return c && respond_todo (req, 200, c->id, cal_host->request_param (req, "todo_id"), error);
}

/* 412 when If-Match is sent and does not name the to-do's ETag. */
static gboolean
check_if_match (AtriumRequest *req, JsonNode *todo, GError **error)
{
        const char *etag = json_object_get_string_member (json_node_get_object (todo), "etag");
        const char *im = cal_host->request_header (req, "If-Match");
        if (im && !cal_etag_listed (im, etag))
                return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                 "If-Match: the to-do has changed (its ETag is now %s); read it "
                                 "again and retry",
                                 etag);
        return TRUE;
}

static gboolean
patch_todo (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!c)
                return FALSE;
        g_autofree char *ical = NULL;
        g_autoptr (JsonNode) old = load_todo (req, c->id, cal_host->request_param (req, "todo_id"),
                                              TRUE, &ical, error);
        if (!old || !check_if_match (req, old, error))
                return FALSE;
        JsonObject *o = json_node_get_object (old);
        const char *id = json_object_get_string_member (o, "id");
        g_autoptr (CalTodo) t =
                cal_todo_edit (ical, json_object_get_string_member (o, "uid"),
                               json_node_get_object (cal_host->request_json (req)), error);
        g_autofree char *stored = t ? cal_todo_store (req, c->id, id, NULL, t, error) : NULL;
        return stored &&
               cal_todo_publish (req, "calendar.todo_updated", c->id, id, t->uid, error) &&
               respond_todo (req, 200, c->id, id, error);
}

static gboolean
delete_todo (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!c)
                return FALSE;
        g_autoptr (JsonNode) old =
                load_todo (req, c->id, cal_host->request_param (req, "todo_id"), TRUE, NULL, error);
        if (!old || !check_if_match (req, old, error))
                return FALSE;
        JsonObject *o = json_node_get_object (old);
        const char *id = json_object_get_string_member (o, "id");
        if (!atrium_done (cal_host,
                          cal_sql (req, error, "DELETE FROM calendar.todos WHERE id = $1::uuid", 1,
                                   id)) ||
            !cal_todo_publish (req, "calendar.todo_deleted", c->id, id,
                               json_object_get_string_member (o, "uid"), error))
                return FALSE;
        cal_host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
list_todos (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        g_auto (AtriumPage) page = {0};
        if (!c || !atrium_page_begin (cal_host, req, "tu", &page, error))
                return FALSE;
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " TODO_VIEW_SQL
                                     ", t.created_at::text AS sort_key FROM calendar.todos t "
                                     "WHERE t.calendar_id = $1::uuid "
                                     "AND (t.created_at, t.id) > ($2::timestamptz, $3::uuid) "
                                     "ORDER BY t.created_at, t.id LIMIT (SELECT $4::int)",
                                     4, c->id, atrium_page_after (&page, 0, "-infinity"),
                                     atrium_page_after (&page, 1, ATRIUM_UUID_MIN), page.fetch);
        if (!res)
                return FALSE;
        JsonArray *items = json_array_new ();
        for (int i = 0; i < cal_host->result_n_rows (res) && i < page.limit; i++) {
                JsonNode *n = cal_host->result_row_json (res, i);
                json_object_remove_member (json_node_get_object (n), "sort_key");
                json_array_add_element (items, n);
        }
        g_autofree char *next = atrium_page_next (cal_host, &page, res, 2, 17, 0);
        cal_host->result_free (res);
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, items);
        cal_host->respond_page (req, n, next);
        return TRUE;
}

gboolean
cal_register_todo_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/calendars/{id}/todos",
                 .permission = "calendar.read",
                 .summary = "Create a to-do (a VTODO, also served over CalDAV); the answer "
                            "carries its ETag",
                 .request_schema = todo_schema, .response_schema = todo_answer,
                 .success_status = 201, .handler = create_todo},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/todos",
                 .permission = "calendar.read",
                 .summary = "The calendar's to-dos, oldest first (paginated)",
                 .flags = ATRIUM_ROUTE_PAGED, .handler = list_todos},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/todos/{todo_id}",
                 .permission = "calendar.read",
                 .summary = "One to-do (with its ETag, also in the ETag header)",
                 .response_schema = todo_answer, .handler = get_todo},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/calendars/{id}/todos/{todo_id}",
                 .permission = "calendar.read",
                 .summary = "Change a to-do (If-Match: its ETag, else 412); status "
                            "\"completed\" without a time sets completed to now",
                 .request_schema = todo_patch_schema, .response_schema = todo_answer,
                 .handler = patch_todo},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/calendars/{id}/todos/{todo_id}",
                 .permission = "calendar.read",
                 .summary = "Delete a to-do (If-Match: its ETag, else 412)", .success_status = 204,
                 .handler = delete_todo},
        };
        return atrium_add_routes (cal_host, self, routes, G_N_ELEMENTS (routes), error);
}
