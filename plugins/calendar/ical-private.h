/* SPDX-License-Identifier: Apache-2.0 */
/* ical-private.h - shared by the files that use libical (ical.c: series, zones, validation,
 * JSON view; ical-expand.c: recurrence; ical-edit.c: edits from the JSON API; ical-io.c: import
 * and export). Everything declared here expects cal_ical_lock to be held: the public functions
 * of ical.h take it once on entry (CAL_ICAL_LOCK) and call only these helpers. */
#pragma once

#include <atrium/host.h>
#include <libical/ical.h>

#include "ical.h"

extern GMutex cal_ical_lock;

#define CAL_ICAL_LOCK()                                                                         \
        g_autoptr (GMutexLocker) cal_locker_ G_GNUC_UNUSED = g_mutex_locker_new (&cal_ical_lock)

/* Refuse nesting deeper than this before libical sees the text: libical frees and serialises
 * components recursively, and 50,000 nested BEGIN lines (1 MB) overflow a worker's stack. */
#define CAL_MAX_NESTING 8
/* A COUNT rule up to this long is walked to find its last occurrence (the series' bound);
 * a longer one is stored as open-ended, which is always safe for window queries. This keeps
 * validating a 5,000-event import to a few million iterator steps. */
#define CAL_MAX_COUNT_WALK 1000
/* Overridden occurrences one series may carry. */
#define CAL_MAX_OVERRIDES 1000
/* Years an event may start or end in: icaltime_as_timet() answers -1 before 1902 in libical
 * 3.0, and its zone tables stop at 2582. */
#define CAL_MIN_YEAR 1902
#define CAL_MAX_YEAR 2500

struct _CalSeries {
        icalcomponent *root;   /* VCALENDAR, owned */
        icalcomponent *master; /* (nullable) the VEVENT without RECURRENCE-ID, in root */
        GPtrArray *overrides;  /* VEVENTs with RECURRENCE-ID, in root (borrowed) */
        GHashTable *zones;     /* TZID -> icaltimezone * (borrowed), resolution cache */
};

/* Wraps @root (taken) and indexes it; fails on a UID mismatch or a second master. */
CalSeries *cal_series_wrap (icalcomponent *root, GError **error);
/* The lock-held forms of cal_series_free and cal_series_bounds (g_autoptr (CalSeries) must
 * not be used under the lock: GMutex does not nest). */
void cal_series_free_locked (CalSeries *s);
gboolean cal_series_bounds_locked (CalSeries *s, gint64 *out_start, gint64 *out_end,
                                   gboolean *out_has_end, GError **error);
/* Re-reads master and overrides after an edit. */
gboolean cal_series_reindex (CalSeries *s, GError **error);

/* The zone a TZID names: the built-in database by Olson name first (so "Europe/Berlin" means
 * the same everywhere, whatever VTIMEZONE a client sent), then libical's own prefixed TZIDs,
 * then a VTIMEZONE carried in the series. NULL: unknown. */
icaltimezone *cal_zone_resolve (CalSeries *s, const char *tzid);
/* The time of a DTSTART/DTEND/RECURRENCE-ID/EXDATE/RDATE property with its zone attached;
 * UNPROCESSABLE for an unknown TZID or an impossible value. */
gboolean cal_prop_time (CalSeries *s, icalproperty *p, struct icaltimetype *out, GError **error);
const char *cal_prop_tzid (icalproperty *p);

gint64 cal_time_to_unix (struct icaltimetype t);
/* When the occurrence an RDATE adds ends: its PERIOD's end or duration, else @fallback. */
gint64 cal_rdate_end (icalproperty *p, struct icaltimetype start, gint64 fallback);
/* @t in @zone (NULL: floating, read as UTC); a date when @is_date. */
struct icaltimetype cal_time_from_unix (gint64 t, const icaltimezone *zone, gboolean is_date);

/* How the master's occurrences are laid out. */
typedef struct {
        struct icaltimetype start; /* DTSTART with its zone */
        gint64 start_unix;
        gint64 duration; /* seconds; whole days for all-day events */
        gboolean all_day;
        const icaltimezone *zone; /* (nullable): NULL for UTC, floating and dates */
} CalTiming;

gboolean cal_component_timing (CalSeries *s, icalcomponent *ev, CalTiming *out, GError **error);

/* The master's occurrences that overlap [@from, @to), sorted, without duplicates: DTSTART,
 * RRULEs and RDATEs minus EXDATEs; overridden ones are included (the caller decides). Each
 * element is a CalStart. Fails on a rule libical cannot iterate, when *@budget iterator steps
 * run out, or on more than @max occurrences. */
typedef struct {
        gint64 start;
        gint64 end;
        struct icaltimetype local; /* the start in the master's zone */
} CalStart;

gboolean cal_master_starts (CalSeries *s, const CalTiming *tm, gint64 from, gint64 to,
                            guint max, guint *budget, GArray *out, GError **error);

/* Whether override @ov has RECURRENCE-ID;RANGE=THISANDFUTURE (it changes the later occurrences
 * too, ical-expand.c). */
gboolean cal_is_this_and_future (icalcomponent *ov);

/* "confirmed", "tentative", "cancelled" or NULL, from STATUS. */
const char *cal_status_name (icalcomponent *ev);

/* Checks one RRULE the way both the API and the import need it. */
gboolean cal_check_rrule (struct icalrecurrencetype *r, const CalTiming *tm, GError **error);

gboolean cal_set_error (GError **error, AtriumErrorCode code, const char *fmt, ...)
        G_GNUC_PRINTF (3, 4);

/* A value libical could not keep, anywhere in @c (ical-io.c): "No value for X" (an empty
 * property) is harmless, anything else would be lost. Returns: (transfer none) (nullable). */
const char *cal_lost_value (icalcomponent *c);
/* Why @uid, as libical read it, would not come back the same from the stored text, or NULL
 * when it would (ical-io.c): a row keyed by it must find its event again. */
const char *cal_uid_unkeepable (const char *uid);

/* libical's text functions return buffers the caller frees with icalmemory_free_buffer. */
char *cal_ical_strdup (char *ical_owned);
