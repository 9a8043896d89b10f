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
 * Every write stores the series' occurrences (occurrences.c) in the same transaction; the
 * window views read those (window.c). */
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

/* The answer of the single-event routes, for the OpenAPI document (the main members). */
/* What one VEVENT says (cal_series_to_json): the series' first, and each override. */
#define EVENT_TEXTS                                                                                \
        "\"summary\":{\"type\":[\"string\",\"null\"]},"                                            \
        "\"description\":{\"type\":[\"string\",\"null\"]},"                                        \
        "\"location\":{\"type\":[\"string\",\"null\"]},"                                           \
        "\"status\":{\"type\":[\"string\",\"null\"],\"description\":\"confirmed, tentative or "    \
        "cancelled\"},"                                                                            \
        "\"start\":{\"type\":\"string\",\"description\":\"RFC 3339, or a date for an all-day "     \
        "event\"},"                                                                                \
        "\"end\":{\"type\":\"string\"},\"all_day\":{\"type\":\"boolean\"},"                        \
        "\"timezone\":{\"type\":[\"string\",\"null\"],\"description\":\"the IANA zone the times "  \
        "repeat in\"}"

static const char event_answer[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"calendar_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"uid\":{\"type\":\"string\"}," EVENT_TEXTS ","
        "\"rrule\":{\"type\":[\"string\",\"null\"]},"
        "\"exdates\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"rdates\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"overrides\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"recurrence_id\":{\"type\":\"string\",\"description\":\"the original start of the "
        "occurrence it changes\"}," EVENT_TEXTS "}}},"
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"etag\":{\"type\":\"string\",\"description\":\"The entity tag of the event as "
        "stored, also sent as the ETag header. Send it as If-Match with PATCH, DELETE and the "
        "occurrence routes: if the event changed in between, the answer is 412 and nothing is "
        "written.\"}}}";

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
        if (insert &&
            !atrium_done (
                    cal_host,
                    cal_sql (
                            req, error,
                            "INSERT INTO calendar.events (school_id, calendar_id, id, uid, summary, "
                            "ical, range_start, range_end, created_by, updated_by) VALUES "
                            "(core.current_school(), $1::uuid, $2::uuid, $3, $4, $5, "
                            "to_timestamp($6::bigint), to_timestamp($7::bigint), $8::uuid, $8::uuid)",
                            8, calendar_id, event_id, cal_series_uid (s), summary, text, start_s,
                            end_s, me)))
                return FALSE;
        if (!insert &&
            !atrium_done (
                    cal_host,
                    cal_sql (
                            req, error,
                            "UPDATE calendar.events SET summary = $3, ical = $4, "
                            "range_start = to_timestamp($5::bigint), range_end = to_timestamp($6::bigint), "
                            "updated_by = $7::uuid, updated_at = now() "
                            "WHERE id = $1::uuid AND calendar_id = $2::uuid",
                            7, event_id, calendar_id, summary, text, start_s, end_s, me)))
                return FALSE;
        return cal_occurrences_store (req, event_id, text, start, end, has_end, error);
}

typedef struct {
        char *id;
        char *calendar_id;
        char *created_at;
        char *updated_at;
        char *etag; /* "\"<md5 of the stored text>\"" */
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
        g_free (e->etag);
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
                                     lock ? "SELECT id, calendar_id, ical, created_at, updated_at, "
                                            "md5(ical) FROM calendar.events WHERE id = $1::uuid "
                                            "AND calendar_id = $2::uuid FOR UPDATE"
                                          : "SELECT id, calendar_id, ical, created_at, updated_at, "
                                            "md5(ical) FROM calendar.events WHERE id = $1::uuid "
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
        e->etag = g_strdup_printf ("\"%s\"", cal_host->result_value (res, 0, 5));
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
        json_object_set_string_member (o, "etag", e->etag);
        cal_host->response_header (req, "ETag", e->etag);
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

/* Whether an If-Match header value (a list of entity tags, or "*") names @etag. Weak tags
 * never match: If-Match compares strongly (RFC 9110 13.1.1). */
gboolean
cal_etag_listed (const char *header, const char *etag)
{
        g_auto (GStrv) tags = g_strsplit (header, ",", -1);
        for (char **t = tags; *t; t++) {
                const char *tag = g_strstrip (*t);
                if (g_str_equal (tag, "*") || g_str_equal (tag, etag))
                        return TRUE;
        }
        return FALSE;
}

/* 412 when the request has If-Match and the event's current ETag is not in it: another
 * client changed the event since this one read it. */
static gboolean
check_if_match (AtriumRequest *req, const StoredEvent *e, GError **error)
{
        const char *im = cal_host->request_header (req, "If-Match");
        if (im && !cal_etag_listed (im, e->etag))
                return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                 "If-Match: the event has changed (its ETag is now %s); read it "
                                 "again and retry",
                                 e->etag);
        return TRUE;
}

/* The calendar and the event a write names, If-Match checked; the event's row stays locked
 * (load_event), so nobody changes it between the check and the write. */
static StoredEvent *
open_event_for_edit (AtriumRequest *req, CalCalendar **calendar, GError **error)
{
        *calendar = cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        if (!*calendar)
                return NULL;
        g_autoptr (StoredEvent) e = load_event (
                req, (*calendar)->id, cal_host->request_param (req, "event_id"), TRUE, error);
        return e && check_if_match (req, e, error) ? g_steal_pointer (&e) : NULL;
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
        if (cal_host->request_header (req, "If-Match")) {
                g_autoptr (StoredEvent) e = load_event (req, c->id, event_id, TRUE, error);
                if (!e || !check_if_match (req, e, error))
                        return FALSE;
        }
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

/* ---- windows (window.c) ---- */

static gboolean
list_occurrences (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        if (!c)
                return FALSE;
        g_autofree char *ids = g_strdup_printf ("{%s}", c->id);
        return cal_respond_window (req, ids, error);
}

static gboolean
list_all_occurrences (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *ids = cal_visible_ids (req, error);
        return ids && cal_respond_window (req, ids, error);
}

gboolean
cal_register_event_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/calendars/{id}/events",
                 .permission = "calendar.read",
                 .summary = "Create an event or a recurring series (RFC 3339 times, optional "
                            "IANA timezone and RRULE); the answer carries its ETag",
                 .request_schema = event_schema, .response_schema = event_answer,
                 .success_status = 201, .handler = create_event},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/events",
                 .permission = "calendar.read",
                 .summary = "Occurrences in ?from=&to=, recurrences expanded, paginated (422 "
                            "when a series would need more than 5000 expanded for the window)",
                 .flags = ATRIUM_ROUTE_PAGED, .query_schema = CAL_WINDOW_QUERY,
                 .handler = list_occurrences},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/events/{event_id}",
                 .permission = "calendar.read",
                 .summary = "One event or series (with its ETag, also in the ETag header)",
                 .response_schema = event_answer, .handler = get_event},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/calendars/{id}/events/{event_id}",
                 .permission = "calendar.read",
                 .summary = "Change an event or a whole series (If-Match: its ETag, else 412)",
                 .request_schema = event_patch_schema, .response_schema = event_answer,
                 .handler = patch_event},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/calendars/{id}/events/{event_id}",
                 .permission = "calendar.read",
                 .summary = "Delete an event or a whole series (If-Match: its ETag, else 412)",
                 .success_status = 204, .handler = delete_event},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/calendars/{id}/events/{event_id}/occurrences/{recurrence_id}",
                 .permission = "calendar.read",
                 .summary = "Change one occurrence of a series ({recurrence_id}: its original "
                            "start, RFC 3339 or a date; If-Match: the series' ETag, else 412)",
                 .request_schema = occurrence_schema, .response_schema = event_answer,
                 .handler = put_occurrence},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/calendars/{id}/events/{event_id}/occurrences/{recurrence_id}",
                 .permission = "calendar.read",
                 .summary = "Cancel one occurrence of a series (an EXDATE; If-Match: the "
                            "series' ETag, else 412)",
                 .success_status = 204, .handler = cancel_occurrence},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/events",
                 .permission = "calendar.read",
                 .summary = "Occurrences in ?from=&to= of every calendar the caller sees "
                            "(paginated)",
                 .flags = ATRIUM_ROUTE_PAGED, .query_schema = CAL_WINDOW_QUERY,
                 .handler = list_all_occurrences},
        };
        return atrium_add_routes (cal_host, self, routes, G_N_ELEMENTS (routes), error);
}
