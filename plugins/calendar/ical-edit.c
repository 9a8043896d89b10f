/* SPDX-License-Identifier: Apache-2.0 */
/* ical-edit.c - changes from the JSON API, made to the iCalendar components themselves, so the
 * stored text stays the one source of truth and whatever else a client put into an event
 * (alarms, attendees, X- properties) survives an edit untouched.
 *
 * The API speaks instants (RFC 3339 with an offset) plus an optional IANA time zone; the
 * components speak local times: DTSTART;TZID=Europe/Berlin:20260302T080000. A time zone
 * given through the API must be one of the built-in database; an imported event keeps the
 * zone it came with (possibly its own VTIMEZONE) when only other fields change.
 *
 * Occurrences: overriding one adds a copy of the master without its recurrence rules and
 * with RECURRENCE-ID set to the original start (RFC 5545 3.8.4.4); cancelling one removes
 * any override and adds an EXDATE. */
#include "ical-private.h"

#include <string.h>

static gboolean
has (JsonObject *in, const char *member)
{
        return json_object_has_member (in, member);
}

static gboolean
is_null (JsonObject *in, const char *member)
{
        return JSON_NODE_HOLDS_NULL (json_object_get_member (in, member));
}

static void
remove_all (icalcomponent *c, icalproperty_kind kind)
{
        icalproperty *p;
        while ((p = icalcomponent_get_first_property (c, kind)) != NULL) {
                icalcomponent_remove_property (c, p);
                icalproperty_free (p);
        }
}

/* A DTSTART/DTEND/EXDATE/RECURRENCE-ID of @t, written in @zone's local time with a TZID
 * parameter (libical would otherwise write a zoned time as UTC), as UTC, floating (@zone
 * NULL) or as a date. */
static icalproperty *
time_prop (icalproperty_kind kind, gint64 t, const icaltimezone *zone, const char *tzid,
           gboolean is_date)
{
        icaltimezone *utc = icaltimezone_get_utc_timezone ();
        struct icaltimetype v = cal_time_from_unix (t, zone, is_date);
        gboolean local = !is_date && zone && zone != utc;
        if (local)
                v.zone = NULL;
        icalproperty *p = icalproperty_new (kind);
        icalproperty_set_value (p, is_date ? icalvalue_new_date (v) : icalvalue_new_datetime (v));
        if (local && tzid)
                icalproperty_add_parameter (p, icalparameter_new_tzid (tzid));
        return p;
}

static void
stamp (icalcomponent *ev, gboolean bump)
{
        icaltimezone *utc = icaltimezone_get_utc_timezone ();
        struct icaltimetype now = icaltime_current_time_with_zone (utc);
        remove_all (ev, ICAL_DTSTAMP_PROPERTY);
        remove_all (ev, ICAL_LASTMODIFIED_PROPERTY);
        icalcomponent_add_property (ev, icalproperty_new_dtstamp (now));
        icalcomponent_add_property (ev, icalproperty_new_lastmodified (now));
        if (bump)
                icalcomponent_set_sequence (ev, icalcomponent_get_sequence (ev) + 1);
}

static void
set_text (icalcomponent *ev, JsonObject *in, const char *member, icalproperty_kind kind)
{
        if (!has (in, member))
                return;
        remove_all (ev, kind);
        const char *v = is_null (in, member) ? NULL : json_object_get_string_member (in, member);
        if (!v || !*v)
                return;
        icalproperty *p = icalproperty_new (kind);
        icalproperty_set_value (p, icalvalue_new_text (v));
        icalcomponent_add_property (ev, p);
}

static void
set_texts (icalcomponent *ev, JsonObject *in)
{
        set_text (ev, in, "summary", ICAL_SUMMARY_PROPERTY);
        set_text (ev, in, "description", ICAL_DESCRIPTION_PROPERTY);
        set_text (ev, in, "location", ICAL_LOCATION_PROPERTY);
        if (has (in, "status")) {
                remove_all (ev, ICAL_STATUS_PROPERTY);
                const char *st = is_null (in, "status")
                                         ? NULL
                                         : json_object_get_string_member (in, "status");
                icalproperty_status v = g_strcmp0 (st, "confirmed") == 0   ? ICAL_STATUS_CONFIRMED
                                        : g_strcmp0 (st, "tentative") == 0 ? ICAL_STATUS_TENTATIVE
                                        : g_strcmp0 (st, "cancelled") == 0 ? ICAL_STATUS_CANCELLED
                                                                           : ICAL_STATUS_NONE;
                if (v != ICAL_STATUS_NONE)
                        icalcomponent_add_property (ev, icalproperty_new_status (v));
        }
}

static gboolean
api_time (JsonObject *in, const char *member, gboolean all_day, gint64 *out, GError **error)
{
        const char *v = json_object_get_string_member (in, member);
        if (!(all_day ? cal_parse_date (v, out, error) : cal_parse_instant (v, out, error))) {
                g_prefix_error (error, "%s: ", member);
                return FALSE;
        }
        return TRUE;
}

static gboolean
api_zone (const char *tzid, const icaltimezone **out, GError **error)
{
        icaltimezone *z = icaltimezone_get_builtin_timezone (tzid);
        if (!z)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "timezone: unknown time zone \"%s\" (use an IANA name "
                                      "such as Europe/Berlin)",
                                      tzid);
        *out = z;
        return TRUE;
}

static gboolean
api_rrule (const char *text, gboolean all_day, struct icalrecurrencetype *out, GError **error)
{
        if (g_ascii_strncasecmp (text, "RRULE:", 6) == 0)
                text += 6;
        icalerror_clear_errno ();
        struct icalrecurrencetype r = icalrecurrencetype_from_string (text);
        gboolean bad = r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR;
        icalerror_clear_errno ();
        if (bad)
                return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                      "rrule: \"%s\" is not a valid RFC 5545 RRULE", text);
        /* RFC 5545 3.3.10: UNTIL has DTSTART's value type, and is UTC for a zoned start. */
        if (!icaltime_is_null_time (r.until)) {
                if (all_day && !r.until.is_date)
                        return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                              "rrule: UNTIL must be a date for an all-day event");
                if (!all_day && (r.until.is_date || !icaltime_is_utc (r.until)))
                        return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                              "rrule: UNTIL must be a UTC date-time "
                                              "(UNTIL=20260701T000000Z)");
        }
        *out = r;
        return TRUE;
}

/* How the API's instants are written into a component. */
typedef struct {
        gboolean all_day;
        const icaltimezone *zone; /* UTC, a zone, or NULL (floating; dates) */
        char *tzid;               /* TZID parameter for a local time, else NULL */
        gint64 start;
        gint64 end;
} Layout;

static gboolean
check_span (Layout *l, GError **error)
{
        if (l->end < l->start)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "end is before start");
        if (l->all_day && l->end == l->start)
                l->end = l->start + 86400; /* an all-day event lasts at least its day */
        return TRUE;
}

static void
write_span (icalcomponent *ev, const Layout *l)
{
        remove_all (ev, ICAL_DTSTART_PROPERTY);
        remove_all (ev, ICAL_DTEND_PROPERTY);
        remove_all (ev, ICAL_DURATION_PROPERTY);
        icalcomponent_add_property (ev, time_prop (ICAL_DTSTART_PROPERTY, l->start, l->zone,
                                                   l->tzid, l->all_day));
        icalcomponent_add_property (ev, time_prop (ICAL_DTEND_PROPERTY, l->end, l->zone, l->tzid,
                                                   l->all_day));
}

static gboolean
write_rrule (icalcomponent *ev, JsonObject *in, gboolean all_day, GError **error)
{
        if (!has (in, "rrule"))
                return TRUE;
        remove_all (ev, ICAL_RRULE_PROPERTY);
        if (is_null (in, "rrule"))
                return TRUE;
        struct icalrecurrencetype r;
        if (!api_rrule (json_object_get_string_member (in, "rrule"), all_day, &r, error))
                return FALSE;
        icalcomponent_add_property (ev, icalproperty_new_rrule (r));
        return TRUE;
}

static gboolean
write_exdates (icalcomponent *ev, JsonObject *in, const Layout *l, GError **error)
{
        if (!has (in, "exdates"))
                return TRUE;
        remove_all (ev, ICAL_EXDATE_PROPERTY);
        JsonArray *a = json_object_get_array_member (in, "exdates");
        for (guint i = 0; i < json_array_get_length (a); i++) {
                const char *v = json_array_get_string_element (a, i);
                gint64 t;
                if (!(l->all_day ? cal_parse_date (v, &t, error)
                                 : cal_parse_instant (v, &t, error))) {
                        g_prefix_error (error, "exdates/%u: ", i);
                        return FALSE;
                }
                icalcomponent_add_property (ev, time_prop (ICAL_EXDATE_PROPERTY, t, l->zone,
                                                           l->tzid, l->all_day));
        }
        return TRUE;
}

static icalcomponent *
new_vcalendar (void)
{
        icalcomponent *root = icalcomponent_new_vcalendar ();
        icalcomponent_add_property (root, icalproperty_new_version ("2.0"));
        icalcomponent_add_property (root, icalproperty_new_prodid ("-//Atrium//Calendar 1.0//EN"));
        return root;
}

CalSeries *
cal_series_new_from_json (const char *uid, JsonObject *in, GError **error)
{
        CAL_ICAL_LOCK ();
        Layout l = {.all_day = json_object_get_boolean_member_with_default (in, "all_day", FALSE)};
        const char *tz = has (in, "timezone") && !is_null (in, "timezone")
                                 ? json_object_get_string_member (in, "timezone")
                                 : NULL;
        /* A time zone means nothing to an all-day event (its days are the same everywhere);
         * clients that always send the user's zone are not refused for it. */
        l.zone = l.all_day ? NULL : icaltimezone_get_utc_timezone ();
        if (tz && !l.all_day) {
                if (!api_zone (tz, &l.zone, error))
                        return NULL;
                if (l.zone != icaltimezone_get_utc_timezone ())
                        l.tzid = (char *) tz;
        }
        if (!api_time (in, "start", l.all_day, &l.start, error) ||
            !api_time (in, "end", l.all_day, &l.end, error) || !check_span (&l, error))
                return NULL;

        icalcomponent *ev = icalcomponent_new_vevent ();
        icaltimezone *utc = icaltimezone_get_utc_timezone ();
        struct icaltimetype now = icaltime_current_time_with_zone (utc);
        icalcomponent_set_uid (ev, uid);
        icalcomponent_add_property (ev, icalproperty_new_created (now));
        icalcomponent_set_sequence (ev, 0);
        stamp (ev, FALSE);
        set_texts (ev, in);
        write_span (ev, &l);
        if (!write_rrule (ev, in, l.all_day, error) || !write_exdates (ev, in, &l, error)) {
                icalcomponent_free (ev);
                return NULL;
        }
        icalcomponent *root = new_vcalendar ();
        icalcomponent_add_component (root, ev);
        return cal_series_wrap (root, error);
}

static void
drop_overrides (CalSeries *s)
{
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                icalcomponent_remove_component (s->root, ov);
                icalcomponent_free (ov);
        }
        g_ptr_array_set_size (s->overrides, 0);
}

gboolean
cal_series_patch (CalSeries *s, JsonObject *in, GError **error)
{
        CAL_ICAL_LOCK ();
        icalcomponent *m = s->master;
        if (!m)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "this event is only a changed occurrence of a series kept "
                                      "elsewhere; change it through its occurrence");
        gboolean span = has (in, "start") || has (in, "end") || has (in, "all_day") ||
                        has (in, "timezone");
        gboolean timing = span || has (in, "rrule");
        set_texts (m, in);
        if (timing || has (in, "exdates")) {
                CalTiming tm;
                if (!cal_component_timing (s, m, &tm, error))
                        return FALSE;
                Layout l = {.all_day = json_object_get_boolean_member_with_default (
                                    in, "all_day", tm.all_day)};
                if (l.all_day != tm.all_day && !(has (in, "start") && has (in, "end")))
                        return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                              "changing all_day needs both start and end");
                g_autofree char *tzid = NULL;
                if (has (in, "timezone")) {
                        l.zone = icaltimezone_get_utc_timezone ();
                        if (!is_null (in, "timezone")) {
                                const char *tz = json_object_get_string_member (in, "timezone");
                                if (!api_zone (tz, &l.zone, error))
                                        return FALSE;
                                tzid = g_strdup (tz);
                        }
                } else {
                        l.zone = tm.zone;
                        tzid = g_strdup (cal_prop_tzid (
                                icalcomponent_get_first_property (m, ICAL_DTSTART_PROPERTY)));
                }
                if (l.all_day) {
                        l.zone = NULL;
                        g_clear_pointer (&tzid, g_free);
                }
                l.tzid = tzid;
                l.start = tm.start_unix;
                if (has (in, "start") && !api_time (in, "start", l.all_day, &l.start, error))
                        return FALSE;
                l.end = l.start + tm.duration;
                if (has (in, "end") && !api_time (in, "end", l.all_day, &l.end, error))
                        return FALSE;
                if (!check_span (&l, error))
                        return FALSE;
                if (span)
                        write_span (m, &l);
                if (!write_rrule (m, in, l.all_day, error))
                        return FALSE;
                if (timing) {
                        /* The changed occurrences and cancellations were tied to the old
                         * times; keeping them would leave orphans that match nothing. */
                        drop_overrides (s);
                        if (!has (in, "exdates"))
                                remove_all (m, ICAL_EXDATE_PROPERTY);
                }
                if (!write_exdates (m, in, &l, error))
                        return FALSE;
        }
        stamp (m, TRUE);
        return cal_series_reindex (s, error);
}

/* ---- single occurrences ---- */

static gboolean
parse_rid (const char *text, gint64 *out, GError **error)
{
        if (text && strlen (text) == 10)
                return cal_parse_date (text, out, error);
        return cal_parse_instant (text, out, error);
}

static icalcomponent *
find_override (CalSeries *s, gint64 rid)
{
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                struct icaltimetype t;
                if (cal_prop_time (s, icalcomponent_get_first_property (ov,
                                                                       ICAL_RECURRENCEID_PROPERTY),
                                   &t, NULL) &&
                    cal_time_to_unix (t) == rid)
                        return ov;
        }
        return NULL;
}

/* Whether the master has a (not cancelled) occurrence starting at @rid. */
static gboolean
is_occurrence (CalSeries *s, const CalTiming *tm, gint64 rid, gboolean *out_found,
               GError **error)
{
        g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (CalStart));
        guint budget = CAL_STEP_BUDGET;
        if (!cal_master_starts (s, tm, rid, rid + 1, CAL_MAX_OCCURRENCES, &budget, starts, error))
                return FALSE;
        *out_found = FALSE;
        for (guint i = 0; i < starts->len; i++)
                if (g_array_index (starts, CalStart, i).start == rid)
                        *out_found = TRUE;
        return TRUE;
}

static gboolean
no_occurrence (GError **error, const char *rid)
{
        return cal_set_error (error, ATRIUM_ERROR_NOT_FOUND, "no occurrence starts at %s", rid);
}

/* Occurrences are a series' business: a single event is changed or deleted as a whole. */
static gboolean
check_recurring (CalSeries *s, GError **error)
{
        if (s->master && !icalcomponent_get_first_property (s->master, ICAL_RRULE_PROPERTY) &&
            !icalcomponent_get_first_property (s->master, ICAL_RDATE_PROPERTY) &&
            s->overrides->len == 0)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "this event does not repeat: change or delete the event "
                                      "itself");
        return TRUE;
}

gboolean
cal_series_put_occurrence (CalSeries *s, const char *rid_text, JsonObject *in, GError **error)
{
        CAL_ICAL_LOCK ();
        gint64 rid;
        if (!parse_rid (rid_text, &rid, error) || !check_recurring (s, error))
                return FALSE;
        icalcomponent *ov = find_override (s, rid);
        if (!ov) {
                CalTiming tm;
                gboolean found = FALSE;
                if (!s->master)
                        return no_occurrence (error, rid_text);
                if (!cal_component_timing (s, s->master, &tm, error) ||
                    !is_occurrence (s, &tm, rid, &found, error))
                        return FALSE;
                if (!found)
                        return no_occurrence (error, rid_text);
                const char *tzid = cal_prop_tzid (
                        icalcomponent_get_first_property (s->master, ICAL_DTSTART_PROPERTY));
                ov = icalcomponent_new_clone (s->master);
                static const icalproperty_kind drop[] = {
                        ICAL_RRULE_PROPERTY,  ICAL_RDATE_PROPERTY,  ICAL_EXDATE_PROPERTY,
                        ICAL_EXRULE_PROPERTY, ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY,
                        ICAL_DURATION_PROPERTY,
                };
                for (gsize i = 0; i < G_N_ELEMENTS (drop); i++)
                        remove_all (ov, drop[i]);
                Layout l = {.all_day = tm.all_day, .zone = tm.zone, .tzid = (char *) tzid,
                            .start = rid, .end = rid + tm.duration};
                icalcomponent_add_property (ov, time_prop (ICAL_RECURRENCEID_PROPERTY, rid,
                                                           tm.zone, tzid, tm.all_day));
                write_span (ov, &l);
                icalcomponent_add_component (s->root, ov);
        }
        set_texts (ov, in);
        if (has (in, "start") || has (in, "end")) {
                CalTiming ot;
                if (!cal_component_timing (s, ov, &ot, error))
                        return FALSE;
                g_autofree char *tzid = g_strdup (cal_prop_tzid (
                        icalcomponent_get_first_property (ov, ICAL_DTSTART_PROPERTY)));
                Layout l = {.all_day = ot.all_day, .zone = ot.zone, .tzid = tzid,
                            .start = ot.start_unix};
                if (has (in, "start") && !api_time (in, "start", l.all_day, &l.start, error))
                        return FALSE;
                l.end = l.start + ot.duration;
                if (has (in, "end") && !api_time (in, "end", l.all_day, &l.end, error))
                        return FALSE;
                if (!check_span (&l, error))
                        return FALSE;
                write_span (ov, &l);
        }
        stamp (ov, TRUE);
        return cal_series_reindex (s, error);
}

gboolean
cal_series_cancel_occurrence (CalSeries *s, const char *rid_text, gboolean *out_empty,
                              GError **error)
{
        CAL_ICAL_LOCK ();
        gint64 rid;
        if (!parse_rid (rid_text, &rid, error) || !check_recurring (s, error))
                return FALSE;
        icalcomponent *ov = find_override (s, rid);
        if (s->master) {
                CalTiming tm;
                gboolean found = FALSE;
                if (!cal_component_timing (s, s->master, &tm, error) ||
                    !is_occurrence (s, &tm, rid, &found, error))
                        return FALSE;
                if (!found && !ov)
                        return no_occurrence (error, rid_text);
                if (found) {
                        icalproperty *dp = icalcomponent_get_first_property (
                                s->master, ICAL_DTSTART_PROPERTY);
                        const char *tzid = cal_prop_tzid (dp);
                        icalcomponent_add_property (s->master,
                                                    time_prop (ICAL_EXDATE_PROPERTY, rid, tm.zone,
                                                               tzid, tm.all_day));
                }
                stamp (s->master, TRUE);
        } else if (!ov) {
                return no_occurrence (error, rid_text);
        }
        if (ov) {
                icalcomponent_remove_component (s->root, ov);
                icalcomponent_free (ov);
                g_ptr_array_remove (s->overrides, ov);
        }
        *out_empty = !s->master && s->overrides->len == 0;
        return *out_empty || cal_series_reindex (s, error);
}
