/* SPDX-License-Identifier: Apache-2.0 */
/* ical-todo.c - to-dos (VTODO, RFC 5545 3.6.2) in and out of iCalendar text: a CalDAV PUT's
 * body read into the columns calendar.todos keeps (schema/0006_todos.sql), and the REST API's
 * JSON edits applied to a stored to-do (or a new one).
 *
 * Like an event, a to-do is one UID: the master VTODO, any overridden occurrences of a
 * recurring one (RECURRENCE-ID) and the VTIMEZONEs they use, stored as libical serialised them,
 * so whatever a client sent (alarms, categories, X- properties, RRULE) survives. The columns
 * are the master's: a recurring to-do is listed and matched by its first occurrence only
 * (docs/CALDAV.md). Times resolve as an event's do (ical.c: built-in zones, then the text's
 * VTIMEZONE, then Windows names); DUE may be given as DTSTART plus DURATION.
 *
 * Everything here runs under the libical lock (ical-private.h). */
#include "ical-private.h"

#include <string.h>

void
cal_todo_free (CalTodo *t)
{
        if (!t)
                return;
        g_free (t->uid);
        g_free (t->summary);
        g_free (t->description);
        g_free (t->ical);
        g_free (t);
}

/* BEGIN lines, before libical sees the text: the nesting depth (libical recurses) and which
 * components are there. */
gboolean
cal_ics_scan (const char *text, gboolean *out_todo, gboolean *out_event, GError **error)
{
        int depth = 0;
        gboolean todo = FALSE, event = FALSE;
        for (const char *line = text; line && *line;) {
                const char *nl = strchr (line, '\n');
                if (g_ascii_strncasecmp (line, "BEGIN:", 6) == 0) {
                        if (++depth > CAL_MAX_NESTING)
                                return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                                      "components nested deeper than %d levels",
                                                      CAL_MAX_NESTING);
                        todo |= g_ascii_strncasecmp (line + 6, "VTODO", 5) == 0;
                        event |= g_ascii_strncasecmp (line + 6, "VEVENT", 6) == 0;
                } else if (g_ascii_strncasecmp (line, "END:", 4) == 0 && depth > 0) {
                        depth--;
                }
                line = nl ? nl + 1 : NULL;
        }
        *out_todo = todo;
        *out_event = event;
        return TRUE;
}

static const char *
status_name (icalproperty_status s)
{
        switch (s) {
        case ICAL_STATUS_NEEDSACTION:
                return "needs-action";
        case ICAL_STATUS_INPROCESS:
                return "in-process";
        case ICAL_STATUS_COMPLETED:
                return "completed";
        case ICAL_STATUS_CANCELLED:
                return "cancelled";
        default:
                return NULL;
        }
}

/* One time property of @c into *@out (unix seconds), with whether it is a date. */
static gboolean
prop_time (CalSeries *s, icalcomponent *c, icalproperty_kind kind, gboolean *out_has, gint64 *out,
           gboolean *out_is_date, GError **error)
{
        icalproperty *p = icalcomponent_get_first_property (c, kind);
        *out_has = p != NULL;
        if (!p)
                return TRUE;
        struct icaltimetype t;
        if (!cal_prop_time (s, p, &t, error))
                return FALSE;
        *out = cal_time_to_unix (t);
        if (out_is_date)
                *out_is_date = t.is_date;
        return TRUE;
}

/* The columns of the master @c. */
static gboolean
read_master (CalSeries *s, icalcomponent *c, CalTodo *t, GError **error)
{
        const char *summary = icalcomponent_get_summary (c);
        const char *description = icalcomponent_get_description (c);
        t->summary = g_strdup (summary ? summary : "");
        t->description = description && *description ? g_strdup (description) : NULL;
        icalproperty *p = icalcomponent_get_first_property (c, ICAL_STATUS_PROPERTY);
        t->status = p ? status_name (icalproperty_get_status (p)) : NULL;
        if (p && !t->status)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "a to-do's STATUS is NEEDS-ACTION, IN-PROCESS, COMPLETED "
                                      "or CANCELLED");
        p = icalcomponent_get_first_property (c, ICAL_PRIORITY_PROPERTY);
        t->priority = p ? icalproperty_get_priority (p) : 0;
        if (t->priority < 0 || t->priority > 9)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "PRIORITY is 0 to 9");
        p = icalcomponent_get_first_property (c, ICAL_PERCENTCOMPLETE_PROPERTY);
        t->percent = p ? icalproperty_get_percentcomplete (p) : -1;
        if (p && (t->percent < 0 || t->percent > 100))
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "PERCENT-COMPLETE is 0 to 100");
        gboolean start_date = FALSE, due_date = FALSE;
        if (!prop_time (s, c, ICAL_DTSTART_PROPERTY, &t->has_start, &t->start, &start_date,
                        error) ||
            !prop_time (s, c, ICAL_DUE_PROPERTY, &t->has_due, &t->due, &due_date, error) ||
            !prop_time (s, c, ICAL_COMPLETED_PROPERTY, &t->has_completed, &t->completed, NULL,
                        error))
                return FALSE;
        p = icalcomponent_get_first_property (c, ICAL_DURATION_PROPERTY);
        if (p && t->has_due)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "a to-do has DUE or DURATION, not both");
        if (p && !t->has_start)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "DURATION needs a DTSTART");
        if (p) {
                t->has_due = TRUE;
                t->due_is_duration = TRUE;
                t->due = t->start + icaldurationtype_as_int (icalproperty_get_duration (p));
                due_date = start_date;
        }
        if (t->has_start && t->has_due && start_date != due_date)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "DTSTART and DUE are both dates or both date-times");
        if (t->has_start && t->has_due && t->due < t->start)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "DUE is before DTSTART");
        t->is_date = t->has_due ? due_date : start_date;
        t->recurring = icalcomponent_get_first_property (c, ICAL_RRULE_PROPERTY) ||
                       icalcomponent_get_first_property (c, ICAL_RDATE_PROPERTY);
        return TRUE;
}

/* Checks the VTODOs of @root (taken) and fills @t from the master. */
static CalTodo *
todo_from_root (icalcomponent *root, GError **error)
{
        g_autoptr (CalTodo) t = g_new0 (CalTodo, 1);
        icalcomponent *master = NULL;
        const char *uid = NULL;
        for (icalcomponent *c = icalcomponent_get_first_component (root, ICAL_ANY_COMPONENT); c;
             c = icalcomponent_get_next_component (root, ICAL_ANY_COMPONENT)) {
                icalcomponent_kind kind = icalcomponent_isa (c);
                if (kind == ICAL_VTIMEZONE_COMPONENT)
                        continue;
                if (kind != ICAL_VTODO_COMPONENT) {
                        cal_set_error (error, ATRIUM_ERROR_INVALID,
                                       "a resource holds to-dos or events, not both "
                                       "(RFC 4791 4.1)");
                        goto fail;
                }
                const char *u = icalcomponent_get_uid (c);
                if (!u || !*u || (uid && strcmp (u, uid) != 0)) {
                        cal_set_error (error, ATRIUM_ERROR_INVALID,
                                       "a to-do resource holds one UID (RFC 4791 4.1)");
                        goto fail;
                }
                uid = u;
                if (icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY))
                        continue;
                if (master) {
                        cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                       "two to-dos with UID %s and no RECURRENCE-ID", u);
                        goto fail;
                }
                master = c;
        }
        if (!master) {
                cal_set_error (error, uid ? ATRIUM_ERROR_UNPROCESSABLE : ATRIUM_ERROR_INVALID,
                               uid ? "the to-do's master (without RECURRENCE-ID) is missing"
                                   : "the body holds no VTODO");
                goto fail;
        }
        const char *unkeepable = cal_uid_unkeepable (uid);
        if (unkeepable) {
                cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "%s", unkeepable);
                goto fail;
        }
        const char *lost = cal_lost_value (root);
        if (lost) {
                cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                               "libical could not read a value: %s", lost);
                goto fail;
        }
        icalcomponent_strip_errors (root);
        t->uid = g_strdup (uid);
        /* A series without VEVENTs, only for zone look-ups (cal_prop_time); cal_series_wrap
         * would refuse it. */
        CalSeries *s = g_new0 (CalSeries, 1);
        s->root = root;
        s->overrides = g_ptr_array_new ();
        s->zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        gboolean ok = read_master (s, master, t, error);
        if (ok)
                t->ical = cal_ical_strdup (icalcomponent_as_ical_string_r (root));
        cal_series_free_locked (s);
        return ok ? g_steal_pointer (&t) : NULL;
fail:
        icalcomponent_free (root);
        return NULL;
}

CalTodo *
cal_todo_parse (const char *text, GError **error)
{
        gboolean todo, event;
        if (!cal_ics_scan (text, &todo, &event, error))
                return NULL;
        CAL_ICAL_LOCK ();
        icalcomponent *root = icalparser_parse_string (text);
        if (!root || icalcomponent_isa (root) != ICAL_VCALENDAR_COMPONENT) {
                if (root)
                        icalcomponent_free (root);
                cal_set_error (error, ATRIUM_ERROR_INVALID, "not an iCalendar object (VCALENDAR)");
                return NULL;
        }
        return todo_from_root (root, error);
}

/* ---- REST edits ---- */

static void
set_text (icalcomponent *c, icalproperty_kind kind, JsonObject *in, const char *member)
{
        if (!json_object_has_member (in, member))
                return;
        icalproperty *p;
        while ((p = icalcomponent_get_first_property (c, kind))) {
                icalcomponent_remove_property (c, p);
                icalproperty_free (p);
        }
        JsonNode *v = json_object_get_member (in, member);
        if (JSON_NODE_HOLDS_NULL (v))
                return;
        const char *s = json_node_get_string (v);
        if (!s || !*s)
                return; /* libical would write an empty property it cannot read back */
        p = icalproperty_new (kind);
        icalproperty_set_value (p, icalvalue_new_text (s));
        icalcomponent_add_property (c, p);
}

static void
drop (icalcomponent *c, icalproperty_kind kind)
{
        icalproperty *p;
        while ((p = icalcomponent_get_first_property (c, kind))) {
                icalcomponent_remove_property (c, p);
                icalproperty_free (p);
        }
}

/* "start", "due": an RFC 3339 instant (stored in UTC) or a date; "completed": an instant. */
static gboolean
set_time (icalcomponent *c, icalproperty_kind kind, JsonObject *in, const char *member,
          gboolean allow_date, GError **error)
{
        if (!json_object_has_member (in, member))
                return TRUE;
        drop (c, kind);
        if (kind == ICAL_DUE_PROPERTY)
                drop (c, ICAL_DURATION_PROPERTY);
        JsonNode *v = json_object_get_member (in, member);
        if (JSON_NODE_HOLDS_NULL (v))
                return TRUE;
        const char *s = json_node_get_string (v);
        gint64 t;
        gboolean is_date = allow_date && s && strlen (s) == 10;
        if (!(is_date ? cal_parse_date (s, &t, error) : cal_parse_instant (s, &t, error)))
                return FALSE;
        struct icaltimetype it = cal_time_from_unix (t, icaltimezone_get_utc_timezone (), is_date);
        icalproperty *p = icalproperty_new (kind);
        icalproperty_set_value (p, is_date ? icalvalue_new_date (it) : icalvalue_new_datetime (it));
        icalcomponent_add_property (c, p);
        return TRUE;
}

static icalproperty_status
status_of (const char *name)
{
        if (g_strcmp0 (name, "in-process") == 0)
                return ICAL_STATUS_INPROCESS;
        if (g_strcmp0 (name, "completed") == 0)
                return ICAL_STATUS_COMPLETED;
        if (g_strcmp0 (name, "cancelled") == 0)
                return ICAL_STATUS_CANCELLED;
        return ICAL_STATUS_NEEDSACTION;
}

static gboolean
apply_json (icalcomponent *c, JsonObject *in, GError **error)
{
        set_text (c, ICAL_SUMMARY_PROPERTY, in, "summary");
        set_text (c, ICAL_DESCRIPTION_PROPERTY, in, "description");
        if (!set_time (c, ICAL_DTSTART_PROPERTY, in, "start", TRUE, error) ||
            !set_time (c, ICAL_DUE_PROPERTY, in, "due", TRUE, error) ||
            !set_time (c, ICAL_COMPLETED_PROPERTY, in, "completed", FALSE, error))
                return FALSE;
        if (json_object_has_member (in, "priority")) {
                drop (c, ICAL_PRIORITY_PROPERTY);
                gint64 v = json_object_get_int_member (in, "priority");
                if (v > 0)
                        icalcomponent_add_property (c, icalproperty_new_priority ((int) v));
        }
        if (json_object_has_member (in, "percent_complete")) {
                drop (c, ICAL_PERCENTCOMPLETE_PROPERTY);
                if (!json_object_get_null_member (in, "percent_complete"))
                        icalcomponent_add_property (c, icalproperty_new_percentcomplete (
                                                               (int) json_object_get_int_member (
                                                                       in, "percent_complete")));
        }
        if (json_object_has_member (in, "status")) {
                drop (c, ICAL_STATUS_PROPERTY);
                const char *st = json_object_get_null_member (in, "status")
                                         ? NULL
                                         : json_object_get_string_member (in, "status");
                if (st)
                        icalcomponent_add_property (c, icalproperty_new_status (status_of (st)));
                /* Completing without saying when: now, as the phone apps do. */
                if (g_strcmp0 (st, "completed") == 0 &&
                    !icalcomponent_get_first_property (c, ICAL_COMPLETED_PROPERTY))
                        icalcomponent_add_property (
                                c, icalproperty_new_completed (icaltime_current_time_with_zone (
                                           icaltimezone_get_utc_timezone ())));
        }
        drop (c, ICAL_DTSTAMP_PROPERTY);
        icalcomponent_add_property (c, icalproperty_new_dtstamp (icaltime_current_time_with_zone (
                                               icaltimezone_get_utc_timezone ())));
        return TRUE;
}

CalTodo *
cal_todo_edit (const char *stored, const char *uid, JsonObject *in, GError **error)
{
        CAL_ICAL_LOCK ();
        icalcomponent *root = stored ? icalparser_parse_string (stored) : NULL;
        if (stored && (!root || icalcomponent_isa (root) != ICAL_VCALENDAR_COMPONENT)) {
                if (root)
                        icalcomponent_free (root);
                cal_set_error (error, ATRIUM_ERROR_INTERNAL, "a stored to-do does not parse");
                return NULL;
        }
        icalcomponent *master = NULL;
        if (!root) {
                root = icalcomponent_new_vcalendar ();
                icalcomponent_add_property (root, icalproperty_new_version ("2.0"));
                icalcomponent_add_property (
                        root, icalproperty_new_prodid ("-//Atrium//Calendar 1.0//EN"));
                master = icalcomponent_new_vtodo ();
                icalcomponent_set_uid (master, uid);
                icalcomponent_add_component (root, master);
        } else {
                for (icalcomponent *c =
                             icalcomponent_get_first_component (root, ICAL_VTODO_COMPONENT);
                     c && !master;
                     c = icalcomponent_get_next_component (root, ICAL_VTODO_COMPONENT))
                        if (!icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY))
                                master = c;
        }
        if (!master || !apply_json (master, in, error)) {
                if (!master)
                        cal_set_error (error, ATRIUM_ERROR_INTERNAL,
                                       "a stored to-do lacks its "
                                       "master");
                icalcomponent_free (root);
                return NULL;
        }
        /* Read back as a PUT is, so the columns say what the text says. */
        return todo_from_root (root, error);
}
