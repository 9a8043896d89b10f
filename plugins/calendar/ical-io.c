/* SPDX-License-Identifier: Apache-2.0 */
/* ical-io.c - .ics files in and out.
 *
 * Import: libical parses the file; its VEVENTs are grouped by UID into series (the master and
 * its RECURRENCE-ID overrides, with copies of the VTIMEZONEs they reference) and each series
 * is validated the way stored series are. A VEVENT without UID gets one derived from its
 * content, so that importing the same file twice stays idempotent. The only thing looked at
 * before libical is the nesting depth of BEGIN lines (and the number of VEVENTs): libical frees
 * components recursively, and a megabyte of nested BEGIN lines overflows a worker's stack
 * (measured: 50,000 levels with a 1 MiB stack).
 *
 * What a series keeps: libical's own serialisation of what was sent, so every property,
 * parameter, alarm and X- extension survives. libical drops a property whose value is empty
 * ("LOCATION:") with a diagnostic X-LIC-ERROR; those diagnostics are removed (they are not the
 * client's data), but a value libical could not read at all ("DTSTART:INVALID-DATE",
 * "RRULE:FREQ=INVALID") makes the series invalid instead of silently losing it.
 *
 * Export: one VCALENDAR with every series' VEVENTs and one VTIMEZONE per TZID used: the one
 * stored with an imported series if there is one, else the built-in zone's definition under
 * the TZID the events use, so other programs can read the file without our zone database. */
#include "ical-private.h"

#include <string.h>

void
cal_import_item_free (CalImportItem *item)
{
        if (!item)
                return;
        g_free (item->uid);
        g_free (item->summary);
        cal_series_free (item->series);
        g_free (item->error);
        g_free (item);
}

/* Nesting depth and VEVENT count from the BEGIN/END lines, before any parsing. */
static gboolean
precheck (const char *text, guint max_events, GError **error)
{
        int depth = 0;
        guint events = 0;
        for (const char *line = text; line && *line;) {
                const char *nl = strchr (line, '\n');
                if (g_ascii_strncasecmp (line, "BEGIN:", 6) == 0) {
                        if (++depth > CAL_MAX_NESTING)
                                return cal_set_error (error, ATRIUM_ERROR_INVALID,
                                                      "components nested deeper than %d levels",
                                                      CAL_MAX_NESTING);
                        if (g_ascii_strncasecmp (line + 6, "VEVENT", 6) == 0 &&
                            ++events > max_events)
                                return cal_set_error (error, ATRIUM_ERROR_TOO_LARGE,
                                                      "more than %u events in one import; split "
                                                      "the file",
                                                      max_events);
                } else if (g_ascii_strncasecmp (line, "END:", 4) == 0 && depth > 0) {
                        depth--;
                }
                line = nl ? nl + 1 : NULL;
        }
        return TRUE;
}

/* A value libical could not keep, anywhere in @c: "No value for X" (an empty property) is
 * harmless, anything else would be lost. Returns: (transfer none) (nullable) the diagnostic. */
const char *
cal_lost_value (icalcomponent *c)
{
        for (icalproperty *p = icalcomponent_get_first_property (c, ICAL_XLICERROR_PROPERTY); p;
             p = icalcomponent_get_next_property (c, ICAL_XLICERROR_PROPERTY)) {
                const char *msg = icalproperty_get_xlicerror (p);
                if (msg && !g_str_has_prefix (msg, "No value for "))
                        return msg;
        }
        for (icalcomponent *sub = icalcomponent_get_first_component (c, ICAL_ANY_COMPONENT); sub;
             sub = icalcomponent_get_next_component (c, ICAL_ANY_COMPONENT)) {
                const char *msg = cal_lost_value (sub);
                if (msg)
                        return msg;
        }
        return NULL;
}

const char *
cal_uid_unkeepable (const char *uid)
{
        /* libical 3.0 reads the escape "\b" (either case) in a text value as a backspace
         * (0x08) and leaves control characters out when it writes the value again: a UID
         * "a\Bb" would be stored as "ab" under a row keyed "a<BS>b", so the event could not be
         * found by its UID and re-importing the file would duplicate it. */
        for (const char *c = uid; *c; c++)
                if ((guchar) *c < 0x20 || *c == 0x7f)
                        return "the UID contains a control character";
        /* Likewise it reads an unknown escape such as "\a" as a space, and drops white space
         * at the end of a value it reads back: "Bb\a" would be stored under "Bb " and read
         * again as "Bb". (Leading white space it drops on both sides: no harm.) */
        if (g_str_has_suffix (uid, " "))
                return "the UID ends in white space (or in an escape such as \\a that reads as "
                       "one), which would not be kept";
        return NULL;
}

typedef struct {
        GHashTable *tzids; /* set of TZIDs referenced */
} TzidScan;

static void
collect_tzid (icalparameter *param, void *data)
{
        const char *tzid = icalparameter_get_tzid (param);
        if (tzid)
                g_hash_table_add (((TzidScan *) data)->tzids, g_strdup (tzid));
}

static GHashTable *
referenced_tzids (icalcomponent *c)
{
        TzidScan scan = {g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL)};
        icalcomponent_foreach_tzid (c, collect_tzid, &scan);
        return scan.tzids;
}

static icalcomponent *
find_vtimezone (icalcomponent *cal, const char *tzid)
{
        for (icalcomponent *tz = icalcomponent_get_first_component (cal, ICAL_VTIMEZONE_COMPONENT);
             tz; tz = icalcomponent_get_next_component (cal, ICAL_VTIMEZONE_COMPONENT)) {
                icalproperty *p = icalcomponent_get_first_property (tz, ICAL_TZID_PROPERTY);
                if (p && g_strcmp0 (icalproperty_get_tzid (p), tzid) == 0)
                        return tz;
        }
        return NULL;
}

typedef struct {
        CalImportItem *item;
        icalcomponent *root; /* the series' VCALENDAR until it is wrapped */
} Pending;

/* Runs under the lock: the series is freed with the _locked form, then the rest. */
static void
pending_free (Pending *p)
{
        if (p->root)
                icalcomponent_free (p->root);
        if (p->item) {
                cal_series_free_locked (g_steal_pointer (&p->item->series));
                cal_import_item_free (p->item);
        }
        g_free (p);
}

/* RFC 5545 requires a UID, but some producers (Exchange's CDO) leave it out. Such an event gets
 * one derived from its content without DTSTAMP (which producers rewrite on every export), so
 * importing the same file again finds the same event instead of duplicating it. */
static char *
derived_uid (icalcomponent *ev)
{
        icalcomponent *copy = icalcomponent_new_clone (ev);
        icalproperty *p;
        while ((p = icalcomponent_get_first_property (copy, ICAL_DTSTAMP_PROPERTY)) != NULL) {
                icalcomponent_remove_property (copy, p);
                icalproperty_free (p);
        }
        g_autofree char *text = cal_ical_strdup (icalcomponent_as_ical_string_r (copy));
        icalcomponent_free (copy);
        g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
        return g_strdup_printf ("%.40s@import.atrium.dev", sum);
}

/* Moves the VEVENTs of @cal into per-UID pending series (in @order / @by_uid). */
static void
split_calendar (icalcomponent *cal, GPtrArray *order, GHashTable *by_uid, guint *ignored,
                GPtrArray *warnings)
{
        for (icalproperty *p = icalcomponent_get_first_property (cal, ICAL_XLICERROR_PROPERTY); p;
             p = icalcomponent_get_next_property (cal, ICAL_XLICERROR_PROPERTY)) {
                const char *msg = icalproperty_get_xlicerror (p);
                if (msg && !g_str_has_prefix (msg, "No value for "))
                        g_ptr_array_add (warnings, g_strdup_printf ("ignored outside any event: "
                                                                    "%.200s", msg));
        }
        g_autoptr (GPtrArray) events = g_ptr_array_new ();
        for (icalcomponent *c = icalcomponent_get_first_component (cal, ICAL_ANY_COMPONENT); c;
             c = icalcomponent_get_next_component (cal, ICAL_ANY_COMPONENT)) {
                icalcomponent_kind kind = icalcomponent_isa (c);
                if (kind == ICAL_VEVENT_COMPONENT)
                        g_ptr_array_add (events, c);
                else if (kind != ICAL_VTIMEZONE_COMPONENT)
                        (*ignored)++; /* VTODO, VJOURNAL, VFREEBUSY, ... */
        }
        for (guint i = 0; i < events->len; i++) {
                icalcomponent *ev = g_ptr_array_index (events, i);
                const char *uid = icalcomponent_get_uid (ev);
                if (!uid || !*uid) {
                        g_autofree char *made = derived_uid (ev);
                        const char *summary = icalcomponent_get_summary (ev);
                        g_ptr_array_add (warnings,
                                         g_strdup_printf ("an event without UID (\"%.60s\") was "
                                                          "given UID %s",
                                                          summary ? summary : "", made));
                        icalcomponent_set_uid (ev, made);
                }
        }
        g_autoptr (GPtrArray) touched = g_ptr_array_new ();
        for (guint i = 0; i < events->len; i++) {
                icalcomponent *ev = g_ptr_array_index (events, i);
                icalcomponent_remove_component (cal, ev);
                const char *uid = icalcomponent_get_uid (ev);
                Pending *p = g_hash_table_lookup (by_uid, uid);
                if (!p) {
                        p = g_new0 (Pending, 1);
                        p->item = g_new0 (CalImportItem, 1);
                        p->item->uid = g_strdup (uid);
                        const char *summary = icalcomponent_get_summary (ev);
                        p->item->summary = g_strdup (summary);
                        p->root = icalcomponent_new_vcalendar ();
                        icalcomponent_add_property (p->root, icalproperty_new_version ("2.0"));
                        icalcomponent_add_property (
                                p->root, icalproperty_new_prodid ("-//Atrium//Calendar 1.0//EN"));
                        g_ptr_array_add (order, p);
                        g_hash_table_insert (by_uid, p->item->uid, p);
                }
                icalcomponent_add_component (p->root, ev);
                if (!g_ptr_array_find (touched, p, NULL))
                        g_ptr_array_add (touched, p);
        }
        /* The zones each series refers to, from this VCALENDAR (built-in ones need none). */
        for (guint i = 0; i < touched->len; i++) {
                Pending *p = g_ptr_array_index (touched, i);
                g_autoptr (GHashTable) tzids = referenced_tzids (p->root);
                GHashTableIter it;
                gpointer tzid;
                g_hash_table_iter_init (&it, tzids);
                while (g_hash_table_iter_next (&it, &tzid, NULL)) {
                        icalcomponent *tz = find_vtimezone (cal, tzid);
                        if (tz && !find_vtimezone (p->root, tzid))
                                icalcomponent_add_component (p->root, icalcomponent_new_clone (tz));
                }
        }
}

static void
finish_item (Pending *p)
{
        CalImportItem *item = p->item;
        if (item->error)
                return;
        const char *lost = cal_lost_value (p->root);
        if (lost) {
                item->error = g_strdup_printf ("libical could not read a value: %s", lost);
                return;
        }
        const char *unkeepable = cal_uid_unkeepable (item->uid);
        if (unkeepable) {
                item->error = g_strdup (unkeepable);
                return;
        }
        icalcomponent_strip_errors (p->root);
        g_autoptr (GError) error = NULL;
        CalSeries *s = cal_series_wrap (g_steal_pointer (&p->root), &error);
        if (!s || !cal_series_bounds_locked (s, &item->start, &item->end, &item->has_end,
                                             &error)) {
                cal_series_free_locked (s);
                item->error = g_strdup (error->message);
                return;
        }
        item->series = s;
}

GPtrArray *
cal_import_parse (const char *text, guint max_events, guint *out_ignored, GPtrArray *warnings,
                  GError **error)
{
        if (!precheck (text, max_events, error))
                return NULL;
        CAL_ICAL_LOCK ();
        icalcomponent *root = icalparser_parse_string (text);
        g_autoptr (GPtrArray) cals = g_ptr_array_new ();
        if (root && icalcomponent_isa (root) == ICAL_VCALENDAR_COMPONENT) {
                g_ptr_array_add (cals, root);
        } else if (root && icalcomponent_isa (root) == ICAL_XROOT_COMPONENT) {
                for (icalcomponent *c = icalcomponent_get_first_component (
                             root, ICAL_VCALENDAR_COMPONENT);
                     c; c = icalcomponent_get_next_component (root, ICAL_VCALENDAR_COMPONENT))
                        g_ptr_array_add (cals, c);
        }
        if (cals->len == 0) {
                if (root)
                        icalcomponent_free (root);
                cal_set_error (error, ATRIUM_ERROR_INVALID,
                               "not an iCalendar file (no BEGIN:VCALENDAR ... END:VCALENDAR)");
                return NULL;
        }
        g_autoptr (GPtrArray) order =
                g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
        g_autoptr (GHashTable) by_uid = g_hash_table_new (g_str_hash, g_str_equal);
        guint ignored = 0;
        for (guint i = 0; i < cals->len; i++)
                split_calendar (g_ptr_array_index (cals, i), order, by_uid, &ignored, warnings);
        icalcomponent_free (root);

        GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) cal_import_item_free);
        for (guint i = 0; i < order->len; i++) {
                Pending *p = g_ptr_array_index (order, i);
                finish_item (p);
                g_ptr_array_add (items, g_steal_pointer (&p->item));
        }
        *out_ignored = ignored;
        return items;
}

/* ---- export ---- */

struct _CalExport {
        icalcomponent *root;
        GPtrArray *events;   /* VEVENTs, added after the VTIMEZONEs */
        GHashTable *written; /* TZIDs with a VTIMEZONE in root */
        GHashTable *used;    /* TZIDs the events refer to -> gint64 * earliest DTSTART */
};

CalExport *
cal_export_new (const char *calendar_name)
{
        CAL_ICAL_LOCK ();
        CalExport *x = g_new0 (CalExport, 1);
        x->root = icalcomponent_new_vcalendar ();
        icalcomponent_add_property (x->root, icalproperty_new_version ("2.0"));
        icalcomponent_add_property (x->root,
                                    icalproperty_new_prodid ("-//Atrium//Calendar 1.0//EN"));
        icalcomponent_add_property (x->root, icalproperty_new_calscale ("GREGORIAN"));
        icalproperty *name = icalproperty_new_x (calendar_name);
        icalproperty_set_x_name (name, "X-WR-CALNAME");
        icalcomponent_add_property (x->root, name);
        x->events = g_ptr_array_new ();
        x->written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        x->used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        return x;
}

void
cal_export_free (CalExport *x)
{
        if (!x)
                return;
        CAL_ICAL_LOCK ();
        for (guint i = 0; i < x->events->len; i++)
                icalcomponent_free (g_ptr_array_index (x->events, i));
        g_ptr_array_unref (x->events);
        icalcomponent_free (x->root);
        g_hash_table_unref (x->written);
        g_hash_table_unref (x->used);
        g_free (x);
}

gboolean
cal_export_add (CalExport *x, const char *stored_text, GError **error)
{
        CAL_ICAL_LOCK ();
        icalcomponent *cal = icalparser_parse_string (stored_text);
        if (!cal || icalcomponent_isa (cal) != ICAL_VCALENDAR_COMPONENT) {
                if (cal)
                        icalcomponent_free (cal);
                return cal_set_error (error, ATRIUM_ERROR_INTERNAL,
                                      "a stored event does not parse");
        }
        g_autoptr (GPtrArray) children = g_ptr_array_new ();
        for (icalcomponent *c = icalcomponent_get_first_component (cal, ICAL_ANY_COMPONENT); c;
             c = icalcomponent_get_next_component (cal, ICAL_ANY_COMPONENT))
                g_ptr_array_add (children, c);
        for (guint i = 0; i < children->len; i++) {
                icalcomponent *c = g_ptr_array_index (children, i);
                if (icalcomponent_isa (c) == ICAL_VTIMEZONE_COMPONENT) {
                        icalproperty *p = icalcomponent_get_first_property (c, ICAL_TZID_PROPERTY);
                        const char *tzid = p ? icalproperty_get_tzid (p) : NULL;
                        if (!tzid || g_hash_table_contains (x->written, tzid))
                                continue;
                        g_hash_table_add (x->written, g_strdup (tzid));
                        icalcomponent_remove_component (cal, c);
                        icalcomponent_add_component (x->root, c);
                } else if (icalcomponent_isa (c) == ICAL_VEVENT_COMPONENT) {
                        icalcomponent_remove_component (cal, c);
                        /* Roughly when the event starts (its local time read as UTC): enough
                         * to cut the zone's history a year before it. */
                        icalproperty *dp = icalcomponent_get_first_property (c,
                                                                            ICAL_DTSTART_PROPERTY);
                        gint64 start = G_MININT64;
                        if (dp)
                                start = icaltime_as_timet (icalproperty_get_dtstart (dp));
                        g_autoptr (GHashTable) tzids = referenced_tzids (c);
                        GHashTableIter it;
                        gpointer tzid;
                        g_hash_table_iter_init (&it, tzids);
                        while (g_hash_table_iter_next (&it, &tzid, NULL)) {
                                gint64 *min = g_hash_table_lookup (x->used, tzid);
                                if (!min)
                                        g_hash_table_insert (x->used, g_strdup (tzid),
                                                             g_memdup2 (&start, sizeof start));
                                else if (start < *min)
                                        *min = start;
                        }
                        g_ptr_array_add (x->events, c);
                }
        }
        icalcomponent_free (cal);
        return TRUE;
}

GBytes *
cal_export_finish (CalExport *x)
{
        CAL_ICAL_LOCK ();
        GHashTableIter it;
        gpointer tzid, min;
        g_hash_table_iter_init (&it, x->used);
        while (g_hash_table_iter_next (&it, &tzid, &min)) {
                if (g_hash_table_contains (x->written, tzid))
                        continue;
                icaltimezone *z = cal_zone_resolve (NULL, tzid);
                icalcomponent *def = z ? icaltimezone_get_component (z) : NULL;
                if (!def)
                        continue; /* UTC, or a zone the file's reader must know (never stored) */
                icalcomponent *copy = icalcomponent_new_clone (def);
                icalproperty *p = icalcomponent_get_first_property (copy, ICAL_TZID_PROPERTY);
                if (p)
                        icalproperty_set_tzid (p, tzid);
                /* The built-in zones carry their history back to the 1890s; a reader needs it
                 * only from the first event on. */
                gint64 from = *(gint64 *) min;
                if (from > G_MININT64 + (gint64) 366 * 86400)
                        icaltimezone_truncate_vtimezone (
                                copy, cal_time_from_unix (from - (gint64) 366 * 86400,
                                                          icaltimezone_get_utc_timezone (), FALSE),
                                icaltime_null_time (), 0);
                icalcomponent_add_component (x->root, copy);
                g_hash_table_add (x->written, g_strdup (tzid));
        }
        for (guint i = 0; i < x->events->len; i++)
                icalcomponent_add_component (x->root, g_ptr_array_index (x->events, i));
        g_ptr_array_set_size (x->events, 0);
        char *text = cal_ical_strdup (icalcomponent_as_ical_string_r (x->root));
        return g_bytes_new_take (text, strlen (text));
}
