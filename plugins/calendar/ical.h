/* SPDX-License-Identifier: Apache-2.0 */
/* ical.h - the calendar plugin's only door to libical: parsing, validation, recurrence
 * expansion, editing and serialising iCalendar data. No libical type appears here, so the rest
 * of the plugin cannot touch libical's shared state by accident.
 *
 * Threads: libical 3.0 keeps process-wide state that is not safe to share between threads
 * (the built-in time zone table is filled lazily, each zone grows a cache of DST transitions
 * on demand, a few statics such as the minimum expansion year are written unguarded; libical
 * issues #319, #468, #1029). Every function below therefore runs under one mutex. The work
 * done under it is bounded (CAL_MAX_OCCURRENCES, the import limits, the host's body limit),
 * and no function here does I/O or calls back into the host, so the lock is never held while
 * waiting for the database.
 *
 * Time values are seconds since the epoch in UTC (gint64). An all-day (DATE) value counts as
 * midnight UTC of that day; a floating date-time (no zone) is read as UTC. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* At most this many occurrences are expanded for one request (a larger window is refused
 * with UNPROCESSABLE rather than truncated, so a client never mistakes a cut list for a
 * complete one). */
#define CAL_MAX_OCCURRENCES 5000
/* RRULE iterator steps one request may spend reaching and walking its window, over all the
 * series it expands (about a quarter of a second): beyond that the request is refused rather
 * than allowed to hold the libical lock. */
#define CAL_STEP_BUDGET 1000000

/* One stored series: the VEVENTs of one UID (the master and its overridden occurrences) and
 * the VTIMEZONEs they reference, in one VCALENDAR. */
typedef struct _CalSeries CalSeries;

/* One occurrence of a series in a window. */
typedef struct {
        gint64 start;
        gint64 end;
        gboolean all_day;
        char *recurrence_id; /* (nullable): RFC 3339 / date of the original start; NULL for a
                              * single event */
        char *summary;
        char *description; /* (nullable) */
        char *location;    /* (nullable) */
        char *status;      /* (nullable): "confirmed", "tentative", "cancelled" */
        char *timezone;    /* (nullable) */
        gboolean modified; /* an overridden occurrence */
} CalOccurrence;

void cal_occurrence_free (CalOccurrence *o);

/* One-time set-up (from the plugin's start, on the main thread) and tear-down (fini). */
gboolean cal_ical_init (GError **error);
void cal_ical_fini (void);

/* RFC 3339 in the API (plain GLib, no lock): instants need an offset; a date is midnight UTC;
 * years outside 1902..2500 are UNPROCESSABLE (icaltime_as_timet() fails before 1902, the
 * zone tables end in 2582). */
gboolean cal_parse_instant (const char *s, gint64 *out, GError **error);
gboolean cal_parse_date (const char *s, gint64 *out, GError **error);
/* "2026-03-02T07:00:00Z", or "2026-03-02" when @is_date. */
char *cal_time_format (gint64 t, gboolean is_date);

/* A series from its stored text. Stored text is ours, so a failure here is INTERNAL. */
CalSeries *cal_series_parse (const char *text, GError **error);
void cal_series_free (CalSeries *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalSeries, cal_series_free)

/* Returns: (transfer full): the text to store. */
char *cal_series_serialize (CalSeries *s);
const char *cal_series_uid (CalSeries *s);
/* Returns: (transfer full): the master's SUMMARY ("" if none). */
char *cal_series_summary (CalSeries *s);

/* Validates the series (times, zones, RRULEs, EXDATEs, overrides) and computes the bounds of
 * every occurrence: *out_has_end is FALSE when the series never ends. Bad client data is
 * INVALID or UNPROCESSABLE with a message naming the problem. */
gboolean cal_series_bounds (CalSeries *s, gint64 *out_start, gint64 *out_end,
                            gboolean *out_has_end, GError **error);

/* The API view of the series (summary, start, end, rrule, exdates, overrides, ...). */
JsonNode *cal_series_to_json (CalSeries *s);

/* Appends the occurrences overlapping [@from, @to) to @out (CalOccurrence, the caller frees).
 * Fails with UNPROCESSABLE once @out would hold more than @max (CAL_MAX_OCCURRENCES), or when
 * the iterator steps taken from *@budget (start it at CAL_STEP_BUDGET per request) run out. */
gboolean cal_series_expand (CalSeries *s, gint64 from, gint64 to, GPtrArray *out, guint max,
                            guint *budget, GError **error);

/* ---- CalDAV (ical-dav.c) ---- */

/* The stored series @stored_text as its instances overlapping [@from, @to), each a VEVENT in
 * UTC without recurrence rules (RFC 4791 9.6.5, calendar-data with expand); UNPROCESSABLE
 * past CAL_MAX_OCCURRENCES. Returns: (transfer full): a VCALENDAR. */
char *cal_ics_expand (const char *stored_text, gint64 from, gint64 to, GError **error);

/* ---- edits from the JSON API (ical-edit.c) ---- */

/* A new single event or series from a POST body (validated by the route's schema). */
CalSeries *cal_series_new_from_json (const char *uid, JsonObject *in, GError **error);
/* Applies a PATCH body. Changing when the series happens (start, end, all_day, timezone,
 * rrule) drops its overridden occurrences, and its exdates unless the body gives new ones. */
gboolean cal_series_patch (CalSeries *s, JsonObject *in, GError **error);
/* Overrides the occurrence that originally started at @rid (RFC 3339 or a date). */
gboolean cal_series_put_occurrence (CalSeries *s, const char *rid, JsonObject *in,
                                    GError **error);
/* Cancels that occurrence: drops its override and adds an EXDATE. *out_empty is TRUE when
 * nothing of the series is left (a lone override without master was removed). */
gboolean cal_series_cancel_occurrence (CalSeries *s, const char *rid, gboolean *out_empty,
                                       GError **error);

/* ---- import and export (ical-io.c) ---- */

typedef struct {
        char *uid;        /* (nullable) */
        char *summary;    /* (nullable) */
        CalSeries *series; /* NULL when the series is invalid */
        char *error;      /* (nullable): why it is invalid */
        gint64 start;
        gint64 end;
        gboolean has_end;
} CalImportItem;

void cal_import_item_free (CalImportItem *item);

/* Splits an .ics file into series by UID and validates each. Whole-file problems (not an
 * iCalendar object, nesting too deep, too many events) fail; a bad series is reported in its
 * item; what was ignored or repaired is added to @warnings (char *).
 * Returns: (transfer full) (element-type CalImportItem) */
GPtrArray *cal_import_parse (const char *text, guint max_events, guint *out_ignored,
                             GPtrArray *warnings, GError **error);

typedef struct _CalExport CalExport;

CalExport *cal_export_new (const char *calendar_name);
/* Adds one stored series; VTIMEZONEs are written once per TZID. */
gboolean cal_export_add (CalExport *x, const char *stored_text, GError **error);
/* Returns: (transfer full): the RFC 5545 text. */
GBytes *cal_export_finish (CalExport *x);
void cal_export_free (CalExport *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalExport, cal_export_free)

/* ---- to-dos (ical-todo.c) ---- */

/* One to-do (one UID) as calendar.todos keeps it: the master VTODO's properties and the text
 * to store. Times are unix seconds (UTC); a date is midnight UTC. */
typedef struct {
        char *uid;
        char *summary;      /* "" when none */
        char *description;  /* (nullable) */
        const char *status; /* (nullable) "needs-action", "in-process", "completed", "cancelled" */
        int priority;       /* 0 (undefined) .. 9 */
        int percent;        /* -1: none; else 0..100 */
        gboolean has_start, has_due, has_completed;
        gint64 start, due, completed;
        gboolean is_date;         /* DTSTART and DUE are dates */
        gboolean due_is_duration; /* @due is DTSTART + DURATION (no DUE in the text) */
        gboolean recurring;       /* RRULE or RDATE on the master */
        char *ical;               /* what to store: libical's serialisation */
} CalTodo;

void cal_todo_free (CalTodo *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CalTodo, cal_todo_free)

/* Looks at the BEGIN lines only (no libical, no lock): whether @text holds a VTODO, a VEVENT;
 * INVALID when components nest deeper than libical may recurse. */
gboolean cal_ics_scan (const char *text, gboolean *out_todo, gboolean *out_event, GError **error);
/* The to-do a CalDAV PUT body holds: one UID, VTODOs (a master and its overrides) and
 * VTIMEZONEs only. INVALID or UNPROCESSABLE with the reason. */
CalTodo *cal_todo_parse (const char *text, GError **error);
/* Applies a REST body (summary, description, status, priority, percent_complete, start, due,
 * completed; validated by the route's schema) to the stored text @stored, or to a new to-do
 * with @uid when @stored is NULL; unknown properties are kept. */
CalTodo *cal_todo_edit (const char *stored, const char *uid, JsonObject *in, GError **error);
