/* SPDX-License-Identifier: Apache-2.0 */
/* calendar-private.h - shared by the calendar plugin's files:
 *
 *   plugin.c           the wiring: descriptor, init (routes, subscriptions), fini
 *   model.c            who may see/edit a calendar, events, reactions, GDPR
 *   calendar-routes.c  /calendars: the calendars themselves
 *   event-routes.c     /calendars/{id}/events, occurrences, and the window views
 *   import.c           POST /calendars/{id}/import (.ics in)
 *   subscriptions.c    .ics export, secret subscription feeds
 *   todos.c            to-dos (VTODO): storage shared by CalDAV and todo-routes.c (REST)
 *   prune.c            the CalDAV tombstones of deleted events, pruned after 90 days
 *   ical.h / ical*.c   everything that touches libical (nothing else includes it)
 *
 * Handlers run on several worker threads at once; libical's shared state is guarded inside
 * ical*.c, so nothing here needs a lock. */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

#include "ical.h"

extern const AtriumHost *cal_host;
extern const AtriumGroupsService *cal_groups;
extern AtriumPlugin *cal_self;

/* Limits (documented in README.md). */
#define CAL_MAX_IMPORT_EVENTS 5000 /* VEVENT components in one .ics import */
#define CAL_MAX_IMPORT_BYTES (8 * 1024 * 1024) /* bytes of one .ics import (streamed in) */
#define CAL_TOMBSTONE_DAYS 90 /* days a deleted event's CalDAV tombstone is kept (prune.c) */

/* Shorthands over the host table (atrium/helpers.h), inside the request's (or event's)
 * transaction. */
#define cal_tx_sql(tx, error, ...) atrium_queryv (cal_host, (tx), (error), __VA_ARGS__)
#define cal_sql(...) atrium_request_queryv (cal_host, __VA_ARGS__)
#define cal_fail atrium_fail
#define cal_object_node atrium_object_node

/* One calendar as the caller sees it. */
typedef struct {
        char *id;
        char *name;
        char *owner_type; /* "user", "group" or "school" */
        char *owner_id;   /* (nullable): NULL for the school */
        char *color;      /* (nullable) */
        gboolean can_edit;
        JsonNode *json; /* the API view, with "can_edit": only from cal_calendar_view() */
} CalCalendar;

void cal_calendar_free (CalCalendar *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalCalendar, cal_calendar_free)

/* The calendar @id if the caller may see it, else NOT_FOUND (its existence is not public).
 * With @edit, a calendar the caller sees but may not change is FORBIDDEN. */
CalCalendar *cal_calendar_open (AtriumRequest *req, const char *id, gboolean edit,
                                GError **error);
/* cal_calendar_open (@id, not for editing) with the calendar's API view in ->json, which no
 * other caller builds. */
CalCalendar *cal_calendar_view (AtriumRequest *req, const char *id, GError **error);
/* The calendar of @res's @row, read with CAL_CALENDAR_COLUMNS first, as cal_calendar_open
 * judges it (NULL and @error: the caller may not see it, or not change it when @edit). */
CalCalendar *cal_calendar_from_row (AtriumRequest *req, AtriumResult *res, int row, gboolean edit,
                                    GError **error);
/* A calendar row as the API shows it: cal_calendar_row_json reads these columns. */
#define CAL_CALENDAR_COLUMNS                                                                    \
        "c.id, c.name, c.color, c.owner_type, c.owner_id, c.created_at, c.updated_at"
/* The calendars the caller sees, in SQL: $1 the caller's user id, $2 whether they hold
 * calendar.manage, $3 their groups (cal_my_groups). */
#define CAL_VISIBLE_SQL                                                                         \
        "(c.owner_type = 'school' OR (c.owner_type = 'user' AND c.owner_id = $1::uuid) OR "     \
        "(c.owner_type = 'group' AND ($2::boolean OR c.owner_id = ANY ($3::uuid[]))))"
/* The view of row @row of a CAL_CALENDAR_COLUMNS result; @roles caches the caller's role per
 * group (char * -> AtriumGroupRole). */
JsonNode *cal_calendar_row_json (AtriumRequest *req, AtriumResult *res, int row,
                                 GHashTable *roles, GError **error);

/* Whether the caller may change a calendar of this owner (role: their role in the group). */
gboolean cal_may_edit (AtriumRequest *req, const char *owner_type, const char *owner_id,
                       AtriumGroupRole role);
/* The ids of every calendar the caller may see, as a PostgreSQL uuid[] literal. */
char *cal_visible_ids (AtriumRequest *req, GError **error);
/* The groups whose calendars the caller sees as a uuid[] literal ("{}" for operators): their
 * own, and a parent's children's groups (core.parent_links), which they see read-only. */
char *cal_my_groups (AtriumRequest *req, GError **error);

/* calendar.event_created / _updated / _deleted and calendar.calendar_deleted. */
gboolean cal_publish (AtriumTx *tx, const char *event, const char *calendar_id,
                      const char *event_id, const char *uid, const char *recurrence_id,
                      GError **error);

/* The query schema of a window's routes (?from= and ?to=, both required). */
#define CAL_WINDOW_QUERY                                                                           \
        "{\"type\": \"object\", \"required\": [\"from\", \"to\"], \"properties\": {"               \
        "\"from\": {\"type\": \"string\", \"maxLength\": 64, \"description\": \"the window's "     \
        "start: an RFC 3339 date-time, or a date (its midnight, UTC)\"}, "                         \
        "\"to\": {\"type\": \"string\", \"maxLength\": 64, \"description\": \"the window's end, "  \
        "after from (not included)\"}}}"
/* A window from ?from= and ?to= (both required, from < to). */
gboolean cal_request_window (AtriumRequest *req, gint64 *out_from, gint64 *out_to,
                             GError **error);

/* Whether an If-Match header value (a list of entity tags, or "*") names @etag (strongly). */
gboolean cal_etag_listed (const char *header, const char *etag);
/* The request body as iCalendar text: text/calendar (or none), UTF-8, at most
 * CAL_MAX_IMPORT_BYTES, read as a stream (import.c). */
gboolean cal_read_ics_body (AtriumRequest *req, char **out, GError **error);

/* caldav.c: the "calendars" tree served over CalDAV (docs/CALDAV.md). */
gboolean cal_register_caldav (AtriumPlugin *self, GError **error);
/* caldav-report.c: REPORT on that tree (calendar-query, calendar-multiget, sync-collection). */
gboolean cal_caldav_report (AtriumRequest *req, const char *path, const AtriumDavReport *report,
                            AtriumDavEmitFunc emit, gpointer emit_data, char **out_sync_token,
                            gpointer user_data, GError **error);

/* Writes the .ics of one calendar as the response (signed-in export and public feed). */
gboolean cal_respond_ics (AtriumRequest *req, const char *calendar_id, const char *name,
                          GError **error);

gboolean cal_register_calendar_routes (AtriumPlugin *self, GError **error);
gboolean cal_register_event_routes (AtriumPlugin *self, GError **error);
gboolean cal_register_import_routes (AtriumPlugin *self, GError **error);
gboolean cal_register_subscription_routes (AtriumPlugin *self, GError **error);

/* model.c: what plugin.c registers (reactions, GDPR export, settings). */
gboolean cal_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                              GError **error);
gboolean cal_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                               GError **error);
gboolean cal_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                          GError **error);

/* ---- occurrences.c: calendar.occurrences, the materialised occurrences ---- */

/* What one series contributes to calendar.occurrences: all of it, or a covered range. */
typedef struct _CalMaterial CalMaterial;
void cal_material_free (CalMaterial *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalMaterial, cal_material_free)
/* When a series is written (@text as stored, its bounds as stored): the whole series when it
 * ends and is not too long, else a horizon around now (or nothing, when that is too much). */
CalMaterial *cal_material_new (const char *text, gint64 range_start, gint64 range_end,
                               gboolean has_end, GError **error);
/* Adds the series' row for calendar.occurrences to @batch; @replace drops what was stored. */
void cal_material_add_json (CalMaterial *m, const char *event_id, gboolean replace,
                            JsonArray *batch);
/* Stores @batch (deleting first where it says replace, when @replace). */
gboolean cal_material_store (AtriumRequest *req, JsonArray *batch, gboolean replace,
                             GError **error);
/* cal_material_new and cal_material_store for one series just written. */
gboolean cal_occurrences_store (AtriumRequest *req, const char *event_id, const char *text,
                                gint64 range_start, gint64 range_end, gboolean has_end,
                                GError **error);
/* The series of calendar.events e that lack stored occurrences in a window: in the calendars
 * $1 (uuid[]), overlapping [$2, $3) (Unix seconds), incomplete and not covering it. */
#define CAL_STALE_WHERE                                                                            \
        "e.school_id = core.current_school() AND e.calendar_id = ANY ($1::uuid[]) "                \
        "AND e.occ_to IS NOT NULL AND NOT (e.occ_from <= $2::bigint AND e.occ_to >= $3::bigint) "  \
        "AND e.range_start < to_timestamp($3::bigint) "                                            \
        "AND (e.range_end IS NULL OR e.range_end >= to_timestamp($2::bigint))"
/* Makes sure every series of @calendar_ids (a uuid[] literal) has its occurrences in
 * [@from, @to) stored, extending incomplete ones (UNPROCESSABLE as a window expansion). */
gboolean cal_occurrences_cover (AtriumRequest *req, const char *calendar_ids, gint64 from,
                                gint64 to, GError **error);

/* window.c: one page of the occurrences of @calendar_ids in the request's ?from=&to=. */
gboolean cal_respond_window (AtriumRequest *req, const char *calendar_ids, GError **error);

/* todos.c: calendar.todos. Writes @t as the row @id, or (NULL) a new one of @calendar_id
 * named @dav_name (NULL: "<id>.ics"); CONFLICT when the UID or name is taken. Returns: the id. */
char *cal_todo_store (AtriumRequest *req, const char *calendar_id, const char *id,
                      const char *dav_name, const CalTodo *t, GError **error);
/* calendar.todo_created / _updated / _deleted: {"calendar_id", "todo_id", "uid"}. */
gboolean cal_todo_publish (AtriumRequest *req, const char *event, const char *calendar_id,
                           const char *todo_id, const char *uid, GError **error);
/* todo-routes.c: /calendars/{id}/todos. */
gboolean cal_register_todo_routes (AtriumPlugin *self, GError **error);

/* prune.c: the `prune` command and the hourly timer. */
gboolean cal_register_prune (GError **error);
