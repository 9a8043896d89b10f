/* SPDX-License-Identifier: Apache-2.0 */
/* ical-dav.c - what CalDAV needs of libical beyond import and export: a stored series as
 * its instances in a range (calendar-data with expand, RFC 4791 9.6.5), for clients that let
 * the server expand recurrences.
 *
 * The instances are the window view's (cal_series_expand: RRULEs, RDATEs, EXDATEs, overrides,
 * THISANDFUTURE), each written as a VEVENT of its own: the override it comes from, or a copy
 * of the master, without RRULE, RDATE and EXDATE, with DTSTART, DTEND and RECURRENCE-ID in
 * UTC (dates for all-day events), as the RFC asks. */
#include "ical-private.h"

static void
drop_all (icalcomponent *c, icalproperty_kind kind)
{
        icalproperty *p;
        while ((p = icalcomponent_get_first_property (c, kind))) {
                icalcomponent_remove_property (c, p);
                icalproperty_free (p);
        }
}

static icaltimetype
utc_or_date (gint64 t, gboolean is_date)
{
        return cal_time_from_unix (t, is_date ? NULL : icaltimezone_get_utc_timezone (), is_date);
}

/* The override of @s whose RECURRENCE-ID is @rid (unix seconds), or NULL. */
static icalcomponent *
override_at (CalSeries *s, gint64 rid)
{
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                struct icaltimetype t;
                if (cal_prop_time (
                            s, icalcomponent_get_first_property (ov, ICAL_RECURRENCEID_PROPERTY),
                            &t, NULL) &&
                    cal_time_to_unix (t) == rid && !cal_is_this_and_future (ov))
                        return ov;
        }
        return NULL;
}

static void
set_text (icalcomponent *ev, icalproperty_kind kind, const char *text)
{
        drop_all (ev, kind);
        if (!text)
                return;
        icalproperty *p = icalproperty_new (kind);
        icalproperty_set_value (p, icalvalue_new_text (text));
        icalcomponent_add_property (ev, p);
}

char *
cal_ics_expand (const char *stored_text, gint64 from, gint64 to, GError **error)
{
        g_autoptr (CalSeries) s = cal_series_parse (stored_text, error);
        if (!s)
                return NULL;
        g_autoptr (GPtrArray) occs =
                g_ptr_array_new_with_free_func ((GDestroyNotify) cal_occurrence_free);
        guint budget = CAL_STEP_BUDGET;
        if (!cal_series_expand (s, from, to, occs, CAL_MAX_OCCURRENCES, &budget, error))
                return NULL;
        CAL_ICAL_LOCK ();
        icalcomponent *out = icalcomponent_new_vcalendar ();
        icalcomponent_add_property (out, icalproperty_new_version ("2.0"));
        icalcomponent_add_property (out, icalproperty_new_prodid ("-//Atrium//CalDAV//EN"));
        for (guint i = 0; i < occs->len; i++) {
                const CalOccurrence *o = g_ptr_array_index (occs, i);
                gint64 rid = 0;
                gboolean rid_is_date = FALSE;
                if (o->recurrence_id) {
                        rid_is_date = strlen (o->recurrence_id) == 10;
                        if (!(rid_is_date ? cal_parse_date (o->recurrence_id, &rid, NULL)
                                          : cal_parse_instant (o->recurrence_id, &rid, NULL)))
                                continue;
                }
                icalcomponent *src = o->recurrence_id ? override_at (s, rid) : NULL;
                gboolean own = src != NULL;
                if (!src)
                        src = s->master ? s->master : g_ptr_array_index (s->overrides, 0);
                icalcomponent *ev = icalcomponent_new_clone (src);
                static const icalproperty_kind drop[] = {
                        ICAL_RRULE_PROPERTY,        ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
                        ICAL_DTSTART_PROPERTY,      ICAL_DTEND_PROPERTY, ICAL_DURATION_PROPERTY,
                        ICAL_RECURRENCEID_PROPERTY,
                };
                for (guint k = 0; k < G_N_ELEMENTS (drop); k++)
                        drop_all (ev, drop[k]);
                if (o->modified && !own) { /* a THISANDFUTURE override's texts */
                        set_text (ev, ICAL_SUMMARY_PROPERTY, o->summary);
                        set_text (ev, ICAL_DESCRIPTION_PROPERTY, o->description);
                        set_text (ev, ICAL_LOCATION_PROPERTY, o->location);
                }
                icalcomponent_add_property (
                        ev, icalproperty_new_dtstart (utc_or_date (o->start, o->all_day)));
                icalcomponent_add_property (
                        ev, icalproperty_new_dtend (utc_or_date (o->end, o->all_day)));
                if (o->recurrence_id)
                        icalcomponent_add_property (
                                ev, icalproperty_new_recurrenceid (utc_or_date (rid, rid_is_date)));
                icalcomponent_add_component (out, ev);
        }
        char *text = cal_ical_strdup (icalcomponent_as_ical_string_r (out));
        icalcomponent_free (out);
        return text;
}
