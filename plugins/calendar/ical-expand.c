/* SPDX-License-Identifier: Apache-2.0 */
/* ical-expand.c - recurrence: which occurrences of a series overlap a window.
 *
 * libical's icalrecur_iterator does the RRULE arithmetic, in the local time of DTSTART's zone,
 * so a weekly 08:00 Europe/Berlin lesson stays at 08:00 when the clocks change and only its UTC
 * instant moves. This file only decides where to start the iterator, when to stop, and how the
 * pieces of RFC 5545 combine: the occurrences are DTSTART (always the first one), the RRULEs'
 * and the RDATEs, minus the EXDATEs; an overridden occurrence (a VEVENT with RECURRENCE-ID)
 * replaces the one it names and may have moved anywhere, so overrides are checked against the
 * window on their own times.
 *
 * Work is bounded twice: by the caller's maximum number of occurrences, and by a budget of
 * iterator steps the caller shares across every series of one request (CAL_STEP_BUDGET). A
 * rule without COUNT starts iterating just before the window
 * (icalrecur_iterator_set_start), so an open-ended weekly series from 1990 costs the same as
 * one from last week; a COUNT rule must be walked from DTSTART, which the step limit bounds. */
#include "ical-private.h"

static gboolean
overlaps (gint64 start, gint64 end, gint64 from, gint64 to)
{
        return start < to && (end > from || (start == end && start >= from));
}

typedef struct {
        const CalTiming *tm;
        gint64 from;
        gint64 to;
        guint max;
        GHashTable *ex_instants; /* gint64 * */
        GHashTable *ex_dates;    /* YYYYMMDD, for DATE exdates of a timed series */
        GHashTable *seen;        /* gint64 * starts already added */
        GArray *out;
        guint *budget;           /* iterator steps left for the whole request */
} Walk;

static gint64 *
int64_dup (gint64 v)
{
        return g_memdup2 (&v, sizeof v);
}

static gboolean
add_start (Walk *w, struct icaltimetype local, gint64 start, gint64 end, GError **error)
{
        if (!overlaps (start, end, w->from, w->to) || g_hash_table_contains (w->seen, &start) ||
            g_hash_table_contains (w->ex_instants, &start))
                return TRUE;
        if (g_hash_table_size (w->ex_dates) &&
            g_hash_table_contains (w->ex_dates, GINT_TO_POINTER (local.year * 10000 +
                                                                 local.month * 100 + local.day)))
                return TRUE;
        g_hash_table_add (w->seen, int64_dup (start));
        CalStart c = {.start = start, .end = end, .local = local};
        g_array_append_val (w->out, c);
        if (w->out->len > w->max)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "more than %d occurrences in the window; ask for a "
                                      "shorter one",
                                      CAL_MAX_OCCURRENCES);
        return TRUE;
}

static gboolean
walk_rule (CalSeries *s, Walk *w, struct icalrecurrencetype *r, GError **error)
{
        const CalTiming *tm = w->tm;
        icalrecur_iterator *it = icalrecur_iterator_new (*r, tm->start);
        if (!it)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "the RRULE cannot be expanded");
        /* Two days of slack cover any zone offset and DST shift between the UTC window and
         * the local times the iterator works in. set_start refuses COUNT rules (the count
         * would be lost), and in libical 3.0.16 it puts HOURLY;INTERVAL=n rules on the new
         * start's hour instead of DTSTART's grid (checked against full iteration for daily to
         * yearly rules with BYDAY, BYSETPOS, BYWEEKNO, ...: those agree); both are walked from
         * DTSTART, bounded by the step budget. */
        gint64 lower = w->from - tm->duration - 2 * 86400;
        if (r->count == 0 && r->freq != ICAL_HOURLY_RECURRENCE && lower > tm->start_unix)
                icalrecur_iterator_set_start (it,
                                              cal_time_from_unix (lower, tm->zone, tm->all_day));
        gboolean ok = TRUE;
        while (ok) {
                struct icaltimetype n = icalrecur_iterator_next (it);
                if (icaltime_is_null_time (n))
                        break;
                if (*w->budget == 0) {
                        ok = cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                            "expanding the window takes more than %d recurrence "
                                            "steps (series %s repeats often from long before "
                                            "it); ask for a shorter or earlier window",
                                            CAL_STEP_BUDGET, icalcomponent_get_uid (s->master));
                        break;
                }
                (*w->budget)--;
                gint64 u = cal_time_to_unix (n);
                if (u >= w->to)
                        break;
                ok = add_start (w, n, u, u + tm->duration, error);
        }
        icalrecur_iterator_free (it);
        return ok;
}

static gint
cmp_start (gconstpointer a, gconstpointer b)
{
        gint64 x = ((const CalStart *) a)->start, y = ((const CalStart *) b)->start;
        return x < y ? -1 : x > y;
}

gboolean
cal_master_starts (CalSeries *s, const CalTiming *tm, gint64 from, gint64 to, guint max,
                   guint *budget, GArray *out, GError **error)
{
        icalcomponent *m = s->master;
        g_autoptr (GHashTable) ex_instants =
                g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
        g_autoptr (GHashTable) ex_dates = g_hash_table_new (g_direct_hash, g_direct_equal);
        g_autoptr (GHashTable) seen =
                g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
        for (icalproperty *p = icalcomponent_get_first_property (m, ICAL_EXDATE_PROPERTY); p;
             p = icalcomponent_get_next_property (m, ICAL_EXDATE_PROPERTY)) {
                struct icaltimetype t;
                if (!cal_prop_time (s, p, &t, error))
                        return FALSE;
                if (t.is_date && !tm->all_day)
                        g_hash_table_add (ex_dates,
                                          GINT_TO_POINTER (t.year * 10000 + t.month * 100 + t.day));
                else
                        g_hash_table_add (ex_instants, int64_dup (cal_time_to_unix (t)));
        }
        Walk w = {.tm = tm, .from = from, .to = to, .max = max, .ex_instants = ex_instants,
                  .ex_dates = ex_dates, .seen = seen, .out = out, .budget = budget};
        if (!add_start (&w, tm->start, tm->start_unix, tm->start_unix + tm->duration, error))
                return FALSE;
        for (icalproperty *p = icalcomponent_get_first_property (m, ICAL_RRULE_PROPERTY); p;
             p = icalcomponent_get_next_property (m, ICAL_RRULE_PROPERTY)) {
                struct icalrecurrencetype r = icalproperty_get_rrule (p);
                if (!cal_check_rrule (&r, tm, error) || !walk_rule (s, &w, &r, error))
                        return FALSE;
        }
        for (icalproperty *p = icalcomponent_get_first_property (m, ICAL_RDATE_PROPERTY); p;
             p = icalcomponent_get_next_property (m, ICAL_RDATE_PROPERTY)) {
                struct icaltimetype t;
                if (!cal_prop_time (s, p, &t, error))
                        return FALSE;
                gint64 u = cal_time_to_unix (t);
                if (!add_start (&w, t, u, cal_rdate_end (p, t, u + tm->duration), error))
                        return FALSE;
        }
        g_array_sort (out, cmp_start);
        return TRUE;
}

static CalOccurrence *
occurrence_new (icalcomponent *ev, gint64 start, gint64 end, gboolean all_day, const char *rid)
{
        CalOccurrence *o = g_new0 (CalOccurrence, 1);
        o->start = start;
        o->end = end;
        o->all_day = all_day;
        o->recurrence_id = g_strdup (rid);
        const char *summary = icalcomponent_get_summary (ev);
        o->summary = g_strdup (summary ? summary : "");
        o->description = g_strdup (icalcomponent_get_description (ev));
        o->location = g_strdup (icalcomponent_get_location (ev));
        o->status = g_strdup (cal_status_name (ev));
        icalproperty *p = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
        o->timezone = g_strdup (p && !all_day ? cal_prop_tzid (p) : NULL);
        return o;
}

/* An override with RECURRENCE-ID;RANGE=THISANDFUTURE (RFC 5545 3.8.4.4): it changes the
 * occurrence it names and every later one. Later occurrences take its texts and its length,
 * and move by as much as it moved its own start, counted in the master's local time (moved
 * from 08:00 to 10:00, a lesson stays at 10:00 across a DST change). */
typedef struct {
        gint64 rid; /* the original start it names */
        icalcomponent *ev;
        gint64 shift;    /* seconds, in local time */
        gint64 duration; /* its own length */
} Future;

static gint
cmp_future (gconstpointer a, gconstpointer b)
{
        gint64 x = ((const Future *) a)->rid, y = ((const Future *) b)->rid;
        return x < y ? -1 : x > y;
}

/* @t's wall-clock fields in the master's zone, as seconds (a date: its midnight). */
static gint64
local_seconds (struct icaltimetype t, const CalTiming *tm)
{
        if (!t.is_date && tm->zone && t.zone)
                t = icaltime_convert_to_zone (t, (icaltimezone *) tm->zone);
        t.zone = NULL;
        return cal_time_to_unix (t);
}

/* The THISANDFUTURE overrides of @s, sorted by the start they name; *out_slack is how far
 * they may move an occurrence (so the master is expanded that much around the window). */
static gboolean
futures_of (CalSeries *s, const CalTiming *mtm, GArray *out, gint64 *out_slack, GError **error)
{
        gint64 slack = 0;
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                if (!cal_is_this_and_future (ov))
                        continue;
                struct icaltimetype rid;
                CalTiming tm;
                if (!cal_prop_time (
                            s, icalcomponent_get_first_property (ov, ICAL_RECURRENCEID_PROPERTY),
                            &rid, error) ||
                    !cal_component_timing (s, ov, &tm, error))
                        return FALSE;
                Future f = {.rid = cal_time_to_unix (rid), .ev = ov, .duration = tm.duration};
                f.shift = local_seconds (tm.start, mtm) - local_seconds (rid, mtm);
                slack = MAX (slack, ABS (f.shift) + MAX (tm.duration, mtm->duration) + 86400);
                g_array_append_val (out, f);
        }
        g_array_sort (out, cmp_future);
        *out_slack = slack;
        return TRUE;
}

/* The THISANDFUTURE override in force at @start: the last one naming @start or earlier. */
static const Future *
future_at (GArray *futures, gint64 start)
{
        const Future *found = NULL;
        for (guint i = 0; i < futures->len; i++) {
                const Future *f = &g_array_index (futures, Future, i);
                if (f->rid > start)
                        break;
                found = f;
        }
        return found;
}

/* Moves occurrence @c as @f says: its local start shifted, then back to an instant. */
static gint64
shifted_start (const CalStart *c, const Future *f)
{
        struct icaltimetype t = c->local;
        icaltime_adjust (&t, (int) (f->shift / 86400), 0, 0, (int) (f->shift % 86400));
        return cal_time_to_unix (t);
}

gboolean
cal_series_expand (CalSeries *s, gint64 from, gint64 to, GPtrArray *out, guint max,
                   guint *budget, GError **error)
{
        CAL_ICAL_LOCK ();
        g_autoptr (GHashTable) moved =
                g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
        g_autoptr (GPtrArray) rids = g_ptr_array_new_with_free_func (g_free);
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                struct icaltimetype rid;
                if (!cal_prop_time (s, icalcomponent_get_first_property (ov,
                                                                        ICAL_RECURRENCEID_PROPERTY),
                                    &rid, error))
                        return FALSE;
                gint64 u = cal_time_to_unix (rid);
                g_hash_table_add (moved, int64_dup (u));
                g_ptr_array_add (rids, cal_time_format (u, rid.is_date));
        }
        guint room = max > out->len ? max - out->len : 0;
        if (s->master) {
                CalTiming tm;
                if (!cal_component_timing (s, s->master, &tm, error))
                        return FALSE;
                gboolean recurring =
                        icalcomponent_get_first_property (s->master, ICAL_RRULE_PROPERTY) ||
                        icalcomponent_get_first_property (s->master, ICAL_RDATE_PROPERTY);
                g_autoptr (GArray) futures = g_array_new (FALSE, FALSE, sizeof (Future));
                gint64 slack = 0;
                if (!futures_of (s, &tm, futures, &slack, error))
                        return FALSE;
                g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (CalStart));
                /* With THISANDFUTURE overrides, occurrences from around the window may move
                 * into it (and the extra ones found there count against a larger limit). */
                if (!cal_master_starts (s, &tm, from - slack, to + slack,
                                        slack ? room + CAL_MAX_OCCURRENCES : room, budget, starts,
                                        error))
                        return FALSE;
                for (guint i = 0; i < starts->len; i++) {
                        const CalStart *c = &g_array_index (starts, CalStart, i);
                        if (g_hash_table_contains (moved, &c->start))
                                continue;
                        const Future *f = futures->len ? future_at (futures, c->start) : NULL;
                        gint64 start = f ? shifted_start (c, f) : c->start;
                        gint64 end = f ? start + f->duration : c->end;
                        if (!overlaps (start, end, from, to))
                                continue;
                        g_autofree char *rid =
                                recurring ? cal_time_format (c->start, tm.all_day) : NULL;
                        CalOccurrence *o =
                                occurrence_new (f ? f->ev : s->master, start, end, tm.all_day, rid);
                        o->modified = f != NULL;
                        g_ptr_array_add (out, o);
                }
        }
        for (guint i = 0; i < s->overrides->len; i++) {
                icalcomponent *ov = g_ptr_array_index (s->overrides, i);
                CalTiming tm;
                if (!cal_component_timing (s, ov, &tm, error))
                        return FALSE;
                gint64 end = tm.start_unix + tm.duration;
                if (!overlaps (tm.start_unix, end, from, to))
                        continue;
                CalOccurrence *o = occurrence_new (ov, tm.start_unix, end, tm.all_day,
                                                   g_ptr_array_index (rids, i));
                o->modified = TRUE;
                g_ptr_array_add (out, o);
        }
        if (out->len > max)
                return cal_set_error (error, ATRIUM_ERROR_UNPROCESSABLE,
                                      "more than %d occurrences in the window; ask for a "
                                      "shorter one",
                                      CAL_MAX_OCCURRENCES);
        return TRUE;
}
