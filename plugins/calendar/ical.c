/* SPDX-License-Identifier: Apache-2.0 */
/* ical.c - the libical side of the calendar plugin: the lock that guards libical's shared
 * state, time zones, reading times out of properties, stored series (parse, serialise,
 * validate, bound) and their JSON view. Recurrence lives in ical-expand.c, edits from the JSON
 * API in ical-edit.c, .ics import and export in ical-io.c.
 *
 * Time zones: a TZID is looked up in libical's built-in database (the system's tzdata on
 * Debian) by its Olson name first, so an imported VTIMEZONE for "Europe/Berlin" cannot make
 * Berlin's lessons drift; libical's own prefixed TZIDs are understood too; anything else is the
 * VTIMEZONE the series carries (Outlook's "W. Europe Standard Time", as the file defines it),
 * and failing that a Windows zone name as CLDR maps it (ICU's windowsZones data). */
#include "ical-private.h"

#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

GMutex cal_ical_lock;

gboolean
cal_set_error (GError **error, AtriumErrorCode code, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        g_autofree char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        g_set_error_literal (error, ATRIUM_ERROR, code, msg);
        return FALSE;
}

char *
cal_ical_strdup (char *ical_owned)
{
        char *s = g_strdup (ical_owned ? ical_owned : "");
        if (ical_owned)
                icalmemory_free_buffer (ical_owned);
        return s;
}

void
cal_occurrence_free (CalOccurrence *o)
{
        if (!o)
                return;
        g_free (o->recurrence_id);
        g_free (o->summary);
        g_free (o->description);
        g_free (o->location);
        g_free (o->status);
        g_free (o->timezone);
        g_free (o);
}

/* ---- set-up ---- */

gboolean
cal_ical_init (GError **error)
{
        CAL_ICAL_LOCK ();
        /* A libical built with ICAL_ERRORS_ARE_FATAL aborts on the first malformed input. */
        icalerror_set_errors_are_fatal (0);
        /* Load the zone table once here, on the main thread, before any worker can race on
         * its lazy initialisation (libical #1029); each zone is then read on first use. */
        icalarray *zones = icaltimezone_get_builtin_timezones ();
        if (!zones || zones->num_elements == 0 || !icaltimezone_get_builtin_timezone ("UTC"))
                return cal_set_error (error, ATRIUM_ERROR_INTERNAL,
                                      "libical has no time zone data (is tzdata installed?)");
        return TRUE;
}

void
cal_ical_fini (void)
{
        CAL_ICAL_LOCK ();
        icaltimezone_free_builtin_timezones ();
}

/* ---- times ---- */

/* A Windows zone name ("W. Europe Standard Time", as Outlook and Exchange write TZIDs) as the
 * built-in zone CLDR's windowsZones table maps it to for the world ("001" territory), through
 * ICU, which ships that table. NULL when the name is not a Windows zone. */
static icaltimezone *
windows_zone (const char *tzid)
{
        UChar win[128], id[128];
        int32_t n = 0;
        UErrorCode status = U_ZERO_ERROR;
        u_strFromUTF8 (win, G_N_ELEMENTS (win), &n, tzid, -1, &status);
        if (U_FAILURE (status) || n == 0)
                return NULL;
        int32_t len = ucal_getTimeZoneIDForWindowsID (win, n, NULL, id, G_N_ELEMENTS (id), &status);
        if (U_FAILURE (status) || len <= 0 || len >= (int32_t) G_N_ELEMENTS (id))
                return NULL;
        char olson[4 * G_N_ELEMENTS (id)];
        u_strToUTF8 (olson, sizeof olson, NULL, id, len, &status);
        if (U_FAILURE (status))
                return NULL;
        return icaltimezone_get_builtin_timezone (olson);
}

icaltimezone *
cal_zone_resolve (CalSeries *s, const char *tzid)
{
        if (!tzid || !*tzid)
                return NULL;
        icaltimezone *z = s ? g_hash_table_lookup (s->zones, tzid) : NULL;
        if (z)
                return z;
        z = icaltimezone_get_builtin_timezone (tzid);
        if (!z)
                z = icaltimezone_get_builtin_timezone_from_tzid (tzid);
        if (!z && s)
                z = icalcomponent_get_timezone (s->root, tzid);
        if (!z)
                z = windows_zone (tzid);
        if (z && s)
                g_hash_table_insert (s->zones, g_strdup (tzid), z);
        return z;
}

const char *
cal_prop_tzid (icalproperty *p)
{
        icalparameter *param = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
        return param ? icalparameter_get_tzid (param) : NULL;
}

gboolean
cal_prop_time (CalSeries *s, icalproperty *p, struct icaltimetype *out, GError **error)
{
        const char *name = icalproperty_get_property_name (p);
        icalvalue *v = icalproperty_get_value (p);
        struct icaltimetype t = icaltime_null_time ();
        switch (v ? icalvalue_isa (v) : ICAL_NO_VALUE) {
        case ICAL_DATE_VALUE:
                t = icalvalue_get_date (v);
                break;
        case ICAL_DATETIME_VALUE:
                t = icalvalue_get_datetime (v);
                break;
        case ICAL_DATETIMEPERIOD_VALUE: {
                struct icaldatetimeperiodtype dp = icalvalue_get_datetimeperiod (v);
                t = icaltime_is_null_time (dp.time) ? dp.period.start : dp.time;
                break;
        }
        case ICAL_PERIOD_VALUE:
                t = icalvalue_get_period (v).start;
                break;
        default:
                break;
        }
        if (icaltime_is_null_time (t) || !icaltime_is_valid_time (t))
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "%s is not a valid time",
                                      name ? name : "a time property");
        if (t.year < CAL_MIN_YEAR || t.year > CAL_MAX_YEAR)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "%s is outside the years %d to %d", name, CAL_MIN_YEAR,
                                      CAL_MAX_YEAR);
        if (t.is_date) {
                t.zone = NULL;
        } else if (!icaltime_is_utc (t)) {
                const char *tzid = cal_prop_tzid (p);
                t.zone = NULL; /* floating unless a TZID says otherwise */
                if (tzid) {
                        icaltimezone *z = cal_zone_resolve (s, tzid);
                        if (!z)
                                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                                      "unknown time zone \"%s\" in %s", tzid,
                                                      name);
                        t.zone = z;
                }
        }
        *out = t;
        return TRUE;
}

gint64
cal_time_to_unix (struct icaltimetype t)
{
        if (t.is_date) {
                t.hour = t.minute = t.second = 0;
                t.zone = NULL;
                return (gint64) icaltime_as_timet (t);
        }
        if (t.zone && t.zone != icaltimezone_get_utc_timezone ())
                return (gint64) icaltime_as_timet_with_zone (t, t.zone);
        return (gint64) icaltime_as_timet (t);
}

struct icaltimetype
cal_time_from_unix (gint64 t, const icaltimezone *zone, gboolean is_date)
{
        icaltimezone *utc = icaltimezone_get_utc_timezone ();
        struct icaltimetype r = icaltime_from_timet_with_zone (
                (time_t) t, 0, (icaltimezone *) (zone && !is_date ? zone : utc));
        if (is_date) {
                r.is_date = 1;
                r.hour = r.minute = r.second = 0;
                r.zone = NULL;
        } else if (!zone) {
                r.zone = NULL; /* floating: the UTC fields */
        }
        return r;
}

char *
cal_time_format (gint64 t, gboolean is_date)
{
        g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
        if (!dt)
                return g_strdup ("");
        return g_date_time_format (dt, is_date ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ");
}

gint64
cal_rdate_end (icalproperty *p, struct icaltimetype start, gint64 fallback)
{
        struct icaldatetimeperiodtype dp = icalproperty_get_rdate (p);
        if (!icaltime_is_null_time (dp.period.end)) {
                struct icaltimetype e = dp.period.end;
                if (!e.is_date && !icaltime_is_utc (e))
                        e.zone = start.zone; /* the TZID parameter covers both ends */
                return MAX (cal_time_to_unix (e), cal_time_to_unix (start));
        }
        if (!icaldurationtype_is_null_duration (dp.period.duration))
                return cal_time_to_unix (start) + icaldurationtype_as_int (dp.period.duration);
        return fallback;
}

/* ---- series ---- */

void
cal_series_free_locked (CalSeries *s)
{
        if (!s)
                return;
        if (s->root)
                icalcomponent_free (s->root);
        g_ptr_array_unref (s->overrides);
        g_hash_table_unref (s->zones);
        g_free (s);
}

void
cal_series_free (CalSeries *s)
{
        if (!s)
                return;
        CAL_ICAL_LOCK ();
        cal_series_free_locked (s);
}

gboolean
cal_series_reindex (CalSeries *s, GError **error)
{
        s->master = NULL;
        g_ptr_array_set_size (s->overrides, 0);
        g_hash_table_remove_all (s->zones);
        const char *uid = NULL;
        for (icalcomponent *ev = icalcomponent_get_first_component (s->root, ICAL_VEVENT_COMPONENT);
             ev; ev = icalcomponent_get_next_component (s->root, ICAL_VEVENT_COMPONENT)) {
                const char *u = icalcomponent_get_uid (ev);
                if (!u || !*u)
                        return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                              "an event without UID");
                if (uid && strcmp (uid, u) != 0)
                        return cal_set_error (error, ATRIUM_ERROR_INTERNAL,
                                              "one series with two UIDs");
                uid = u;
                if (icalcomponent_get_first_property (ev, ICAL_RECURRENCEID_PROPERTY)) {
                        g_ptr_array_add (s->overrides, ev);
                } else if (s->master) {
                        return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                              "two events with UID %s and no RECURRENCE-ID", u);
                } else {
                        s->master = ev;
                }
        }
        if (!s->master && s->overrides->len == 0)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE, "no event");
        if (s->overrides->len > CAL_MAX_OVERRIDES)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "more than %d changed occurrences in one series",
                                      CAL_MAX_OVERRIDES);
        return TRUE;
}

CalSeries *
cal_series_wrap (icalcomponent *root, GError **error)
{
        CalSeries *s = g_new0 (CalSeries, 1);
        s->root = root;
        s->overrides = g_ptr_array_new ();
        s->zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        if (!cal_series_reindex (s, error)) {
                cal_series_free_locked (s);
                return NULL;
        }
        return s;
}

CalSeries *
cal_series_parse (const char *text, GError **error)
{
        CAL_ICAL_LOCK ();
        icalcomponent *root = text ? icalparser_parse_string (text) : NULL;
        if (!root || icalcomponent_isa (root) != ICAL_VCALENDAR_COMPONENT) {
                if (root)
                        icalcomponent_free (root);
                cal_set_error (error, ATRIUM_ERROR_INTERNAL, "a stored event does not parse");
                return NULL;
        }
        return cal_series_wrap (root, error);
}

char *
cal_series_serialize (CalSeries *s)
{
        CAL_ICAL_LOCK ();
        return cal_ical_strdup (icalcomponent_as_ical_string_r (s->root));
}

static icalcomponent *
first_component (CalSeries *s)
{
        return s->master ? s->master : g_ptr_array_index (s->overrides, 0);
}

const char *
cal_series_uid (CalSeries *s)
{
        CAL_ICAL_LOCK ();
        return icalcomponent_get_uid (first_component (s));
}

char *
cal_series_summary (CalSeries *s)
{
        CAL_ICAL_LOCK ();
        const char *summary = icalcomponent_get_summary (first_component (s));
        return g_strdup (summary ? summary : "");
}

gboolean
cal_component_timing (CalSeries *s, icalcomponent *ev, CalTiming *out, GError **error)
{
        icalproperty *p = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
        if (!p) /* an override may leave DTSTART out: it starts when it would have */
                p = icalcomponent_get_first_property (ev, ICAL_RECURRENCEID_PROPERTY);
        if (!p)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "no valid DTSTART (the start is required)");
        CalTiming tm = {0};
        if (!cal_prop_time (s, p, &tm.start, error))
                return FALSE;
        tm.start_unix = cal_time_to_unix (tm.start);
        tm.all_day = tm.start.is_date;
        tm.zone = tm.start.zone;
        icalproperty *end = icalcomponent_get_first_property (ev, ICAL_DTEND_PROPERTY);
        icalproperty *dur = icalcomponent_get_first_property (ev, ICAL_DURATION_PROPERTY);
        if (end) {
                struct icaltimetype e;
                if (!cal_prop_time (s, end, &e, error))
                        return FALSE;
                tm.duration = cal_time_to_unix (e) - tm.start_unix;
        } else if (dur) {
                tm.duration = icaldurationtype_as_int (icalproperty_get_duration (dur));
        } else {
                tm.duration = tm.all_day ? 86400 : 0;
        }
        if (tm.duration < 0)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "the event ends before it starts");
        /* An all-day event that ends the day it starts is taken to last that day, as the
         * common clients do. */
        if (tm.all_day && tm.duration == 0)
                tm.duration = 86400;
        if (tm.duration > (gint64) 366 * 86400 * 10)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "one occurrence may last at most ten years");
        *out = tm;
        return TRUE;
}

gboolean
cal_check_rrule (struct icalrecurrencetype *r, const CalTiming *tm, GError **error)
{
        if (r->freq == ICAL_NO_RECURRENCE)
                return cal_set_error (error, ATRIUM_ERROR_INVALID, "not a valid RRULE");
        if (r->freq == ICAL_SECONDLY_RECURRENCE || r->freq == ICAL_MINUTELY_RECURRENCE)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "RRULE FREQ=%s is not supported (at most hourly)",
                                      icalrecur_freq_to_string (r->freq));
        if (r->interval < 1)
                return cal_set_error (error, ATRIUM_ERROR_INVALID, "RRULE INTERVAL must be >= 1");
        /* libical refuses to iterate a rule that can never match (BYMONTH=2;BYMONTHDAY=30). */
        icalrecur_iterator *it = icalrecur_iterator_new (*r, tm->start);
        if (!it)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "the RRULE cannot be expanded (it never matches a date)");
        icalrecur_iterator_free (it);
        return TRUE;
}

/* The last start of a COUNT-limited rule, or FALSE in *out_bounded for a long one. */
static gboolean
count_rule_last (const struct icalrecurrencetype *r, const CalTiming *tm, gint64 *out_last,
                 gboolean *out_bounded, GError **error)
{
        *out_bounded = FALSE;
        *out_last = tm->start_unix;
        if (r->count > CAL_MAX_COUNT_WALK)
                return TRUE;
        icalrecur_iterator *it = icalrecur_iterator_new (*r, tm->start);
        if (!it)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "the RRULE cannot be expanded");
        struct icaltimetype last = tm->start;
        for (int steps = 0; steps <= CAL_MAX_COUNT_WALK; steps++) {
                struct icaltimetype n = icalrecur_iterator_next (it);
                if (icaltime_is_null_time (n)) {
                        *out_bounded = TRUE;
                        break;
                }
                last = n;
        }
        icalrecur_iterator_free (it);
        *out_last = cal_time_to_unix (last);
        return TRUE;
}

gboolean
cal_series_bounds_locked (CalSeries *s, gint64 *out_start, gint64 *out_end,
                          gboolean *out_has_end, GError **error)
{
        gint64 lo = G_MAXINT64, hi = G_MININT64;
        gboolean has_end = TRUE;
        CalTiming tm = {0};
        if (s->master) {
                if (!cal_component_timing (s, s->master, &tm, error))
                        return FALSE;
                lo = tm.start_unix;
                hi = tm.start_unix + tm.duration;
                for (icalproperty *p = icalcomponent_get_first_property (s->master,
                                                                        ICAL_RRULE_PROPERTY);
                     p; p = icalcomponent_get_next_property (s->master, ICAL_RRULE_PROPERTY)) {
                        struct icalrecurrencetype r = icalproperty_get_rrule (p);
                        if (!cal_check_rrule (&r, &tm, error))
                                return FALSE;
                        if (!icaltime_is_null_time (r.until)) {
                                struct icaltimetype u = r.until;
                                if (!u.is_date && !icaltime_is_utc (u))
                                        u.zone = tm.zone;
                                gint64 until = cal_time_to_unix (u) + (u.is_date ? 86400 : 0);
                                hi = MAX (hi, until + tm.duration);
                        } else if (r.count > 0) {
                                gint64 last = tm.start_unix;
                                gboolean bounded = FALSE;
                                if (!count_rule_last (&r, &tm, &last, &bounded, error))
                                        return FALSE;
                                has_end = has_end && bounded;
                                hi = MAX (hi, last + tm.duration);
                        } else {
                                has_end = FALSE;
                        }
                }
                for (icalproperty *p = icalcomponent_get_first_property (s->master,
                                                                        ICAL_RDATE_PROPERTY);
                     p; p = icalcomponent_get_next_property (s->master, ICAL_RDATE_PROPERTY)) {
                        struct icaltimetype t;
                        if (!cal_prop_time (s, p, &t, error))
                                return FALSE;
                        gint64 u = cal_time_to_unix (t);
                        lo = MIN (lo, u);
                        hi = MAX (hi, u + tm.duration);
                        hi = MAX (hi, cal_rdate_end (p, t, u + tm.duration));
                }
                for (icalproperty *p = icalcomponent_get_first_property (s->master,
                                                                        ICAL_EXDATE_PROPERTY);
                     p; p = icalcomponent_get_next_property (s->master, ICAL_EXDATE_PROPERTY)) {
                        struct icaltimetype t;
                        if (!cal_prop_time (s, p, &t, error))
                                return FALSE;
                }
        }
        /* A THISANDFUTURE override moves the later occurrences as far as it moved its own
         * start and gives them its length: the bounds widen by that (and a day for a shift
         * counted in local time across a DST change). */
        gint64 earlier = 0, later = 0;
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                struct icaltimetype rid;
                CalTiming otm;
                if (!cal_prop_time (
                            s, icalcomponent_get_first_property (ov, ICAL_RECURRENCEID_PROPERTY),
                            &rid, error) ||
                    !cal_component_timing (s, ov, &otm, error))
                        return FALSE;
                lo = MIN (lo, otm.start_unix);
                hi = MAX (hi, otm.start_unix + otm.duration);
                if (s->master && cal_is_this_and_future (ov)) {
                        gint64 shift = otm.start_unix - cal_time_to_unix (rid);
                        earlier = MAX (earlier, -shift + 86400);
                        later = MAX (later, shift + MAX (otm.duration - tm.duration, 0) + 86400);
                }
        }
        lo -= earlier;
        hi += later;
        *out_start = lo;
        *out_end = hi;
        *out_has_end = has_end;
        return TRUE;
}

gboolean
cal_series_bounds (CalSeries *s, gint64 *out_start, gint64 *out_end, gboolean *out_has_end,
                   GError **error)
{
        CAL_ICAL_LOCK ();
        return cal_series_bounds_locked (s, out_start, out_end, out_has_end, error);
}

gboolean
cal_is_this_and_future (icalcomponent *ov)
{
        icalproperty *p = icalcomponent_get_first_property (ov, ICAL_RECURRENCEID_PROPERTY);
        icalparameter *r = p ? icalproperty_get_first_parameter (p, ICAL_RANGE_PARAMETER) : NULL;
        return r && icalparameter_get_range (r) == ICAL_RANGE_THISANDFUTURE;
}

/* ---- the JSON view ---- */

static void
set_text (JsonObject *o, const char *member, const char *value)
{
        if (value && *value)
                json_object_set_string_member (o, member, value);
        else
                json_object_set_null_member (o, member);
}

const char *
cal_status_name (icalcomponent *ev)
{
        switch (icalcomponent_get_status (ev)) {
        case ICAL_STATUS_CONFIRMED:
                return "confirmed";
        case ICAL_STATUS_TENTATIVE:
                return "tentative";
        case ICAL_STATUS_CANCELLED:
                return "cancelled";
        default:
                return NULL;
        }
}

/* Fills @o with what one VEVENT says: texts, start, end, time zone. */
static void
component_json (CalSeries *s, icalcomponent *ev, JsonObject *o)
{
        set_text (o, "summary", icalcomponent_get_summary (ev));
        set_text (o, "description", icalcomponent_get_description (ev));
        set_text (o, "location", icalcomponent_get_location (ev));
        set_text (o, "status", cal_status_name (ev));
        CalTiming tm;
        if (!cal_component_timing (s, ev, &tm, NULL))
                return; /* validated when stored; nothing sensible to show otherwise */
        g_autofree char *start = cal_time_format (tm.start_unix, tm.all_day);
        g_autofree char *end = cal_time_format (tm.start_unix + tm.duration, tm.all_day);
        json_object_set_string_member (o, "start", start);
        json_object_set_string_member (o, "end", end);
        json_object_set_boolean_member (o, "all_day", tm.all_day);
        icalproperty *p = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
        set_text (o, "timezone", p && !tm.all_day ? cal_prop_tzid (p) : NULL);
}

static JsonArray *
time_list (CalSeries *s, icalcomponent *ev, icalproperty_kind kind)
{
        JsonArray *a = json_array_new ();
        for (icalproperty *p = icalcomponent_get_first_property (ev, kind); p;
             p = icalcomponent_get_next_property (ev, kind)) {
                struct icaltimetype t;
                if (!cal_prop_time (s, p, &t, NULL))
                        continue;
                g_autofree char *v = cal_time_format (cal_time_to_unix (t), t.is_date);
                json_array_add_string_element (a, v);
        }
        return a;
}

JsonNode *
cal_series_to_json (CalSeries *s)
{
        CAL_ICAL_LOCK ();
        JsonObject *o = json_object_new ();
        icalcomponent *first = first_component (s);
        json_object_set_string_member (o, "uid", icalcomponent_get_uid (first));
        component_json (s, first, o);
        icalproperty *rrule =
                s->master ? icalcomponent_get_first_property (s->master, ICAL_RRULE_PROPERTY)
                          : NULL;
        if (rrule) {
                struct icalrecurrencetype r = icalproperty_get_rrule (rrule);
                g_autofree char *text = cal_ical_strdup (icalrecurrencetype_as_string_r (&r));
                json_object_set_string_member (o, "rrule", text);
        } else {
                json_object_set_null_member (o, "rrule");
        }
        json_object_set_array_member (o, "exdates",
                                      s->master ? time_list (s, s->master, ICAL_EXDATE_PROPERTY)
                                                : json_array_new ());
        json_object_set_array_member (o, "rdates",
                                      s->master ? time_list (s, s->master, ICAL_RDATE_PROPERTY)
                                                : json_array_new ());
        JsonArray *overrides = json_array_new ();
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                JsonObject *item = json_object_new ();
                struct icaltimetype rid;
                if (cal_prop_time (s, icalcomponent_get_first_property (
                                              ov, ICAL_RECURRENCEID_PROPERTY),
                                   &rid, NULL)) {
                        g_autofree char *r = cal_time_format (cal_time_to_unix (rid), rid.is_date);
                        json_object_set_string_member (item, "recurrence_id", r);
                }
                component_json (s, ov, item);
                json_array_add_object_element (overrides, item);
        }
        json_object_set_array_member (o, "overrides", overrides);
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

/* ---- RFC 3339 in the API (no libical, no lock) ---- */

static gboolean
looks_rfc3339 (const char *s)
{
        /* Compiled once for the process (g_regex_match_simple() compiles on every call: a
         * window request parses two or three times), and kept: matching is thread-safe. */
        static GRegex *re;
        if (g_once_init_enter (&re))
                g_once_init_leave (&re, g_regex_new ("^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:"
                                                     "[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?"
                                                     "([Zz]|[+-][0-9]{2}:[0-9]{2})$",
                                                     0, 0, NULL));
        return g_regex_match (re, s, 0, NULL);
}

gboolean
cal_parse_instant (const char *s, gint64 *out, GError **error)
{
        g_autoptr (GDateTime) dt = s && looks_rfc3339 (s) ? g_date_time_new_from_iso8601 (s, NULL)
                                                           : NULL;
        if (!dt)
                return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                      "\"%s\" is not an RFC 3339 date-time with an offset "
                                      "(2026-03-02T08:00:00+01:00)",
                                      s ? s : "");
        gint y = g_date_time_get_year (dt);
        if (y < CAL_MIN_YEAR || y > CAL_MAX_YEAR)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "%s is outside the years %d to %d", s, CAL_MIN_YEAR,
                                      CAL_MAX_YEAR);
        *out = g_date_time_to_unix (dt);
        return TRUE;
}

gboolean
cal_parse_date (const char *s, gint64 *out, GError **error)
{
        g_autofree char *full = s && strlen (s) == 10 ? g_strconcat (s, "T00:00:00Z", NULL) : NULL;
        if (!full || !looks_rfc3339 (full))
                return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                      "\"%s\" is not a date (2026-03-02)", s ? s : "");
        return cal_parse_instant (full, out, error);
}
