/* SPDX-License-Identifier: Apache-2.0 */
/* event-routes.c - events and their occurrences:
 *
 *   /calendars/{id}/events                      POST a single event or a series; GET the
 *                                               occurrences in ?from=&to= (paginated)
 *   /calendars/{id}/events/{event_id}           GET, PATCH, DELETE the event or series
 *   /calendars/{id}/events/{event_id}/occurrences/{recurrence_id}
 *                                               PUT changes one occurrence, DELETE cancels it
 *   /events                                     GET the occurrences of every calendar the
 *                                               caller sees, merged
 *
 * A window query reads only the series whose [range_start, range_end] overlaps the window (a
 * GiST index, schema/0001_calendar.sql), expands each in its own time zone (ical-expand.c),
 * sorts the occurrences by start and pages through them with a keyset cursor (start, event,
 * recurrence id). More than CAL_MAX_OCCURRENCES occurrences in the window is refused with 422
 * rather than cut: a truncated list looks complete to a client. */
#include "calendar-private.h"

#include <string.h>

#define EVENT_TEXT_PROPS                                                                        \
        "\"description\":{\"type\":[\"string\",\"null\"],\"maxLength\":20000},"                \
        "\"location\":{\"type\":[\"string\",\"null\"],\"maxLength\":1000},"                     \
        "\"status\":{\"type\":[\"string\",\"null\"],"                                           \
        "\"enum\":[\"confirmed\",\"tentative\",\"cancelled\",null]},"                           \
        "\"start\":{\"type\":\"string\",\"maxLength\":40},"                                     \
        "\"end\":{\"type\":\"string\",\"maxLength\":40}"

#define EVENT_TIMING_PROPS                                                                      \
        "\"all_day\":{\"type\":\"boolean\"},"                                                   \
        "\"timezone\":{\"type\":[\"string\",\"null\"],\"maxLength\":100},"                      \
        "\"rrule\":{\"type\":[\"string\",\"null\"],\"maxLength\":1000},"                        \
        "\"exdates\":{\"type\":\"array\",\"maxItems\":1000,"                                    \
        "\"items\":{\"type\":\"string\",\"maxLength\":40}}"

static const char event_schema[] =
        "{\"type\":\"object\",\"required\":[\"summary\",\"start\",\"end\"],\"properties\":{"
        "\"summary\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000}," EVENT_TEXT_PROPS
        "," EVENT_TIMING_PROPS "}}";

static const char event_patch_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"summary\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000}," EVENT_TEXT_PROPS
        "," EVENT_TIMING_PROPS "}}";

static const char occurrence_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"summary\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000}," EVENT_TEXT_PROPS
        "}}";

static char *
unix_text (gint64 t)
{
        return g_strdup_printf ("%" G_GINT64_FORMAT, t);
}

/* Writes @s as event @event_id of @calendar_id (inserting it when @insert). */
static gboolean
store_series (AtriumRequest *req, const char *calendar_id, const char *event_id, CalSeries *s,
              gboolean insert, GError **error)
{
        gint64 start, end;
        gboolean has_end;
        if (!cal_series_bounds (s, &start, &end, &has_end, error))
                return FALSE;
        g_autofree char *text = cal_series_serialize (s);
        g_autofree char *summary = cal_series_summary (s);
        g_autofree char *start_s = unix_text (start);
        g_autofree char *end_s = has_end ? unix_text (end) : NULL;
        const char *me = cal_host->request_user_id (req);
        if (insert)
                return atrium_done (
                        cal_host,
                        cal_sql (
                                req, error,
                                "INSERT INTO calendar.events (school_id, calendar_id, id, uid, summary, "
                                "ical, range_start, range_end, created_by, updated_by) VALUES "
                                "(core.current_school(), $1::uuid, $2::uuid, $3, $4, $5, "
                                "to_timestamp($6::bigint), to_timestamp($7::bigint), $8::uuid, $8::uuid)",
                                8, calendar_id, event_id, cal_series_uid (s), summary, text,
                                start_s, end_s, me));
        return atrium_done (
                cal_host,
                cal_sql (
                        req, error,
                        "UPDATE calendar.events SET summary = $3, ical = $4, "
                        "range_start = to_timestamp($5::bigint), range_end = to_timestamp($6::bigint), "
                        "updated_by = $7::uuid, updated_at = now() "
                        "WHERE id = $1::uuid AND calendar_id = $2::uuid",
                        7, event_id, calendar_id, summary, text, start_s, end_s, me));
}

typedef struct {
        char *id;
        char *calendar_id;
        char *created_at;
        char *updated_at;
        CalSeries *series;
} StoredEvent;

static void
stored_event_free (StoredEvent *e)
{
        if (!e)
                return;
        g_free (e->id);
        g_free (e->calendar_id);
        g_free (e->created_at);
        g_free (e->updated_at);
        cal_series_free (e->series);
        g_free (e);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoredEvent, stored_event_free)

/* With @lock, the row stays locked until the request's transaction ends, so two concurrent
 * edits of one series (each a read-modify-write of its text) cannot lose one another. */
static StoredEvent *
load_event (AtriumRequest *req, const char *calendar_id, const char *event_id, gboolean lock,
            GError **error)
{
        if (!event_id || !g_uuid_string_is_valid (event_id)) {
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s in this calendar",
                          event_id ? event_id : "");
                return NULL;
        }
        AtriumResult *res = cal_sql (req, error,
                                     lock ? "SELECT id, calendar_id, ical, created_at, updated_at "
                                            "FROM calendar.events WHERE id = $1::uuid "
                                            "AND calendar_id = $2::uuid FOR UPDATE"
                                          : "SELECT id, calendar_id, ical, created_at, updated_at "
                                            "FROM calendar.events WHERE id = $1::uuid "
                                            "AND calendar_id = $2::uuid",
                                     2, event_id, calendar_id);
        if (!res)
                return NULL;
        if (cal_host->result_n_rows (res) == 0) {
                cal_host->result_free (res);
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s in this calendar", event_id);
                return NULL;
        }
        g_autoptr (StoredEvent) e = g_new0 (StoredEvent, 1);
        e->id = g_strdup (cal_host->result_value (res, 0, 0));
        e->calendar_id = g_strdup (cal_host->result_value (res, 0, 1));
        JsonNode *row = cal_host->result_row_json (res, 0); /* timestamps in API form */
        e->created_at = g_strdup (json_object_get_string_member (json_node_get_object (row),
                                                                 "created_at"));
        e->updated_at = g_strdup (json_object_get_string_member (json_node_get_object (row),
                                                                 "updated_at"));
        json_node_unref (row);
        e->series = cal_series_parse (cal_host->result_value (res, 0, 2), error);
        cal_host->result_free (res);
        return e->series ? g_steal_pointer (&e) : NULL;
}

static gboolean
respond_event (AtriumRequest *req, guint status, const char *calendar_id, const char *event_id,
               GError **error)
{
        g_autoptr (StoredEvent) e = load_event (req, calendar_id, event_id, FALSE, error);
        if (!e)
                return FALSE;
        JsonNode *n = cal_series_to_json (e->series);
        JsonObject *o = json_node_get_object (n);
        json_object_set_string_member (o, "id", e->id);
        json_object_set_string_member (o, "calendar_id", e->calendar_id);
        json_object_set_string_member (o, "created_at", e->created_at);
        json_object_set_string_member (o, "updated_at", e->updated_at);
        cal_host->respond_json (req, status, n);
        return TRUE;
}

static gboolean
create_event (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!c)
                return FALSE;
        g_autofree char *id = g_uuid_string_random ();
        g_autoptr (CalSeries) s = cal_series_new_from_json (
                id, json_node_get_object (cal_host->request_json (req)), error);
        return s && store_series (req, c->id, id, s, TRUE, error) &&
               cal_publish (cal_host->request_tx (req), "calendar.event_created", c->id, id, id,
                            NULL, error) &&
               respond_event (req, 201, c->id, id, error);
}

static gboolean
get_event (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        return c && respond_event (req, 200, c->id, cal_host->request_param (req, "event_id"),
                                   error);
}

/* The calendar and the event a write names; the event's row stays locked (load_event). */
static StoredEvent *
open_event_for_edit (AtriumRequest *req, CalCalendar **calendar, GError **error)
{
        *calendar = cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!*calendar)
                return NULL;
        return load_event (req, (*calendar)->id, cal_host->request_param (req, "event_id"), TRUE,
                           error);
}

/* Stores @e's edited series and tells subscribers which occurrence (@rid, or NULL for all). */
static gboolean
save_edit (AtriumRequest *req, const CalCalendar *c, const StoredEvent *e, const char *rid,
           GError **error)
{
        return store_series (req, c->id, e->id, e->series, FALSE, error) &&
               cal_publish (cal_host->request_tx (req), "calendar.event_updated", c->id, e->id,
                            cal_series_uid (e->series), rid, error);
}

static gboolean
patch_event (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c = NULL;
        g_autoptr (StoredEvent) e = open_event_for_edit (req, &c, error);
        return e &&
               cal_series_patch (e->series, json_node_get_object (cal_host->request_json (req)),
                                 error) &&
               save_edit (req, c, e, NULL, error) && respond_event (req, 200, c->id, e->id, error);
}

static gboolean
delete_event (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!c)
                return FALSE;
        const char *event_id = cal_host->request_param (req, "event_id");
        if (!g_uuid_string_is_valid (event_id))
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s in this calendar",
                                 event_id);
        AtriumResult *res = cal_sql (req, error,
                                     "DELETE FROM calendar.events WHERE id = $1::uuid "
                                     "AND calendar_id = $2::uuid RETURNING uid",
                                     2, event_id, c->id);
        if (!res)
                return FALSE;
        g_autofree char *uid = g_strdup (cal_host->result_value (res, 0, 0));
        cal_host->result_free (res);
        if (!uid)
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s in this calendar",
                                 event_id);
        if (!cal_publish (cal_host->request_tx (req), "calendar.event_deleted", c->id, event_id,
                          uid, NULL, error))
                return FALSE;
        cal_host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
put_occurrence (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c = NULL;
        g_autoptr (StoredEvent) e = open_event_for_edit (req, &c, error);
        const char *rid = cal_host->request_param (req, "recurrence_id");
        return e &&
               cal_series_put_occurrence (e->series, rid,
                                          json_node_get_object (cal_host->request_json (req)),
                                          error) &&
               save_edit (req, c, e, rid, error) && respond_event (req, 200, c->id, e->id, error);
}

static gboolean
cancel_occurrence (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c = NULL;
        g_autoptr (StoredEvent) e = open_event_for_edit (req, &c, error);
        const char *rid = cal_host->request_param (req, "recurrence_id");
        gboolean empty = FALSE;
        if (!e || !cal_series_cancel_occurrence (e->series, rid, &empty, error))
                return FALSE;
        if (empty) {
                /* The last piece of a series kept elsewhere: nothing of it remains here. */
                if (!atrium_done (cal_host,
                                  cal_sql (req, error,
                                           "DELETE FROM calendar.events WHERE id = $1::uuid", 1,
                                           e->id)) ||
                    !cal_publish (cal_host->request_tx (req), "calendar.event_deleted", c->id,
                                  e->id, cal_series_uid (e->series), NULL, error))
                        return FALSE;
        } else if (!save_edit (req, c, e, rid, error)) {
                return FALSE;
        }
        cal_host->respond_json (req, 204, NULL);
        return TRUE;
}

/* ---- windows ---- */

typedef struct {
        CalOccurrence *occ;
        const char *event_id;    /* borrowed from the Window's ids */
        const char *calendar_id; /* borrowed */
} Item;

static gint
cmp_item (gconstpointer a, gconstpointer b)
{
        const Item *x = a, *y = b;
        if (x->occ->start != y->occ->start)
                return x->occ->start < y->occ->start ? -1 : 1;
        int c = strcmp (x->event_id, y->event_id);
        if (c)
                return c;
        return g_strcmp0 (x->occ->recurrence_id, y->occ->recurrence_id);
}

static char *
item_key (const Item *it)
{
        g_autofree char *start = g_strdup_printf ("%" G_GINT64_FORMAT, it->occ->start);
        const char *key[] = {start, it->event_id,
                             it->occ->recurrence_id ? it->occ->recurrence_id : ""};
        return atrium_page_cursor (G_N_ELEMENTS (key), key);
}

static JsonNode *
item_json (const Item *it)
{
        const CalOccurrence *o = it->occ;
        JsonObject *j = json_object_new ();
        json_object_set_string_member (j, "event_id", it->event_id);
        json_object_set_string_member (j, "calendar_id", it->calendar_id);
        if (o->recurrence_id)
                json_object_set_string_member (j, "recurrence_id", o->recurrence_id);
        else
                json_object_set_null_member (j, "recurrence_id");
        g_autofree char *start = cal_time_format (o->start, o->all_day);
        g_autofree char *end = cal_time_format (o->end, o->all_day);
        json_object_set_string_member (j, "start", start);
        json_object_set_string_member (j, "end", end);
        json_object_set_boolean_member (j, "all_day", o->all_day);
        json_object_set_string_member (j, "summary", o->summary);
        const char *texts[][2] = {{"description", o->description},
                                  {"location", o->location},
                                  {"status", o->status},
                                  {"timezone", o->timezone}};
        for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
                if (texts[i][1])
                        json_object_set_string_member (j, texts[i][0], texts[i][1]);
                else
                        json_object_set_null_member (j, texts[i][0]);
        }
        json_object_set_boolean_member (j, "modified", o->modified);
        return cal_object_node (j);
}

/* Expands the series of @calendar_ids (a uuid[] literal) in the request's window and answers
 * one page of occurrences. */
static gboolean
respond_window (AtriumRequest *req, const char *calendar_ids, GError **error)
{
        gint64 from, to;
        /* The cursor is the key of the last item handed out: (start, event, recurrence id). */
        g_auto (AtriumPage) page = {0};
        if (!cal_request_window (req, &from, &to, error) ||
            !atrium_page_begin (cal_host, req, "ius", &page, error))
                return FALSE;
        g_autofree char *from_s = unix_text (from);
        g_autofree char *to_s = unix_text (to);
        AtriumResult *res = cal_sql (
                req, error,
                /* A definer function, so the range index is usable (schema/0002_window.sql). */
                "SELECT id, calendar_id, ical FROM calendar.events_in_window($1::uuid[], "
                "to_timestamp($2::bigint), to_timestamp($3::bigint))",
                3, calendar_ids, from_s, to_s);
        if (!res)
                return FALSE;
        int rows = cal_host->result_n_rows (res);
        g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GPtrArray) occs =
                g_ptr_array_new_with_free_func ((GDestroyNotify) cal_occurrence_free);
        g_autoptr (GArray) items = g_array_new (FALSE, FALSE, sizeof (Item));
        gboolean ok = TRUE;
        guint budget = CAL_STEP_BUDGET;
        for (int i = 0; ok && i < rows; i++) {
                g_autoptr (CalSeries) s = cal_series_parse (cal_host->result_value (res, i, 2),
                                                            error);
                guint before = occs->len;
                ok = s && cal_series_expand (s, from, to, occs, CAL_MAX_OCCURRENCES, &budget,
                                                error);
                char *event_id = g_strdup (cal_host->result_value (res, i, 0));
                char *calendar_id = g_strdup (cal_host->result_value (res, i, 1));
                g_ptr_array_add (ids, event_id);
                g_ptr_array_add (ids, calendar_id);
                for (guint k = before; ok && k < occs->len; k++) {
                        Item it = {g_ptr_array_index (occs, k), event_id, calendar_id};
                        g_array_append_val (items, it);
                }
        }
        cal_host->result_free (res);
        if (!ok)
                return FALSE;
        g_array_sort (items, cmp_item);
        char **cur = page.key;
        gint64 at = cur ? g_ascii_strtoll (cur[0], NULL, 10) : 0; /* checked: kind 'i' */
        JsonArray *shown = json_array_new ();
        g_autofree char *next = NULL;
        guint taken = 0;
        for (guint i = 0; i < items->len; i++) {
                const Item *it = &g_array_index (items, Item, i);
                if (cur) {
                        if (it->occ->start < at)
                                continue;
                        int c = it->occ->start > at ? 1 : strcmp (it->event_id, cur[1]);
                        if (c == 0)
                                c = strcmp (it->occ->recurrence_id ? it->occ->recurrence_id : "",
                                            cur[2]);
                        if (c <= 0)
                                continue;
                }
                if (taken == (guint) page.limit) {
                        next = item_key (&g_array_index (items, Item, i - 1));
                        break;
                }
                json_array_add_element (shown, item_json (it));
                taken++;
        }
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, shown);
        cal_host->respond_page (req, n, next);
        return TRUE;
}

static gboolean
list_occurrences (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        if (!c)
                return FALSE;
        g_autofree char *ids = g_strdup_printf ("{%s}", c->id);
        return respond_window (req, ids, error);
}

static gboolean
list_all_occurrences (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *ids = cal_visible_ids (req, error);
        return ids && respond_window (req, ids, error);
}

gboolean
cal_register_event_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/calendars/{id}/events",
                 .permission = "calendar.read",
                 .summary = "Create an event or a recurring series (RFC 3339 times, optional "
                            "IANA timezone and RRULE)",
                 .request_schema = event_schema, .success_status = 201,
                 .handler = create_event},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/events",
                 .permission = "calendar.read",
                 .summary = "Occurrences in ?from=&to=, recurrences expanded (at most 5000; "
                            "paginated)",
                 .handler = list_occurrences},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/events/{event_id}",
                 .permission = "calendar.read", .summary = "One event or series",
                 .handler = get_event},
                {ATRIUM_ROUTE_INIT, .method = "PATCH",
                 .path = "/calendars/{id}/events/{event_id}", .permission = "calendar.read",
                 .summary = "Change an event or a whole series",
                 .request_schema = event_patch_schema,
                 .handler = patch_event},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/calendars/{id}/events/{event_id}", .permission = "calendar.read",
                 .summary = "Delete an event or a whole series", .success_status = 204,
                 .handler = delete_event},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/calendars/{id}/events/{event_id}/occurrences/{recurrence_id}",
                 .permission = "calendar.read",
                 .summary = "Change one occurrence of a series ({recurrence_id}: its original "
                            "start, RFC 3339 or a date)",
                 .request_schema = occurrence_schema, .handler = put_occurrence},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/calendars/{id}/events/{event_id}/occurrences/{recurrence_id}",
                 .permission = "calendar.read",
                 .summary = "Cancel one occurrence of a series (an EXDATE)", .success_status = 204,
                 .handler = cancel_occurrence},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/events",
                 .permission = "calendar.read",
                 .summary = "Occurrences in ?from=&to= of every calendar the caller sees "
                            "(paginated)",
                 .handler = list_all_occurrences},
        };
        return atrium_add_routes (cal_host, self, routes, G_N_ELEMENTS (routes), error);
}
