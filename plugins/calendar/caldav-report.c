/* SPDX-License-Identifier: Apache-2.0 */
/* caldav-report.c - REPORT on the calendars tree (RFC 4791 7.8, 7.9; RFC 6578): the host
 * parsed the body into an AtriumDavReport and writes the multistatus; this answers which
 * events it names.
 *
 * calendar-query with a time-range reads no iCalendar: a series qualifies when one of its
 * stored occurrences (calendar.occurrences, written when the series was) overlaps the range
 * (RFC 4791 9.9), or, for a series whose stored occurrences do not cover the range (an
 * open-ended series far from now), when its bounds do: such a series is answered rather than
 * expanded here, so the answer may hold a series with no instance in the range, never lack
 * one that has. calendar-data is the stored text as it is; only expand (RFC 4791 9.6.5)
 * parses it, to write the instances (ical-io.c).
 *
 * sync-collection: the token is "urn:atrium:sync:<calendar id>:<n>", n the calendar's change
 * counter (schema/0004_caldav.sql); the changes since n are the events written with a higher
 * number and the tombstones of those deleted since. A token of another calendar or from the
 * future, or one older than the calendar's pruned tombstones (its sync_floor, prune.c), is
 * refused (403 valid-sync-token: the client then syncs afresh). */
#include "caldav.h"

#include <string.h>

/* Times outside what PostgreSQL's to_timestamp and the stored occurrences hold. */
#define MIN_TIME G_GINT64_CONSTANT (-2208988800) /* 1900-01-01 */
#define MAX_TIME G_GINT64_CONSTANT (16725225600) /* 2500-01-01 */

#define REPORT_COLUMNS                                                                             \
        CALDAV_NAME_SQL ", e.id, md5(e.ical), octet_length(e.ical), "                              \
                        "extract(epoch FROM e.updated_at)::bigint, "                               \
                        "extract(epoch FROM e.created_at)::bigint, e.ical"

static gint64
num (AtriumResult *res, int row, int col)
{
        return g_ascii_strtoll (cal_host->result_value (res, row, col), NULL, 10);
}

/* Emits the rows of a REPORT_COLUMNS result, under @prefix ("<user>/<calendar>/"). */
static gboolean
emit_rows (AtriumResult *res, const char *prefix, const AtriumDavReport *r, AtriumDavEmitFunc emit,
           gpointer emit_data, GError **error)
{
        for (int i = 0; i < cal_host->result_n_rows (res); i++) {
                const char *ical = cal_host->result_value (res, i, 6);
                g_autofree char *expanded = NULL;
                if (r->want_data && r->expand) {
                        expanded = cal_ics_expand (ical, MAX (r->expand_start, MIN_TIME),
                                                   MIN (r->expand_end, MAX_TIME), error);
                        if (!expanded)
                                return FALSE;
                }
                cal_dav_emit_object (prefix, cal_host->result_value (res, i, 0),
                                     cal_host->result_value (res, i, 1),
                                     cal_host->result_value (res, i, 2), num (res, i, 3),
                                     num (res, i, 4), num (res, i, 5),
                                     !r->want_data ? NULL
                                     : expanded    ? expanded
                                                   : ical,
                                     emit, emit_data);
        }
        return TRUE;
}

/* The to-dos of a calendar-query: a time-range as RFC 4791 9.9's table for VTODO says, from
 * the columns (DTSTART, DUE or DTSTART+DURATION, COMPLETED; the CREATED rows of the table are
 * read as if CREATED were absent, since it is not kept in a column). A recurring to-do is
 * matched by nothing but always answered: like an open-ended series, it may be in the answer
 * without an instance in the range, never missing with one. $2, $3 the range, $4 whether
 * there is one, $5/$6 the text-match as for events. */
/* A VTODO comp-filter's prop-filters (RFC 4791 9.7.1-9.7.5) as JSON for the statement below:
 * text-matches on UID, SUMMARY, DESCRIPTION and STATUS, is-not-defined on those and on
 * COMPLETED, DUE and DTSTART (what clients ask pending to-dos by). FORBIDDEN (403
 * supported-filter) for any other. */
static char *
todo_filters (const AtriumDavReport *r, GError **error)
{
        static const char *const texts[] = {"UID", "SUMMARY", "DESCRIPTION", "STATUS", NULL};
        static const char *const defined[] = {"SUMMARY", "DESCRIPTION", "STATUS", "COMPLETED",
                                              "DUE",     "DTSTART",     NULL};
        gboolean has = r->header.struct_size >=
                       G_STRUCT_OFFSET (AtriumDavReport, prop_filters) + sizeof (r->prop_filters);
        g_autoptr (JsonArray) arr = json_array_new ();
        for (guint i = 0; has && i < r->n_prop_filters; i++) {
                const AtriumDavPropFilter *f = &r->prop_filters[i];
                g_autofree char *name = g_ascii_strup (f->name, -1);
                if (!g_strv_contains (f->is_not_defined ? defined : texts, name) ||
                    (!f->is_not_defined && !f->text_match)) {
                        cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "a to-do's prop-filter on %s is not answered", f->name);
                        return NULL;
                }
                JsonObject *o = json_object_new ();
                json_object_set_string_member (o, "name", name);
                json_object_set_string_member (o, "txt", f->text_match);
                json_object_set_boolean_member (o, "negate", f->negate);
                json_object_set_boolean_member (o, "undef", f->is_not_defined);
                json_array_add_object_element (arr, o);
        }
        g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), arr);
        return json_to_string (node, FALSE);
}

static gboolean
query_todos (AtriumRequest *req, const CalDavPlace *p, const char *prefix, const AtriumDavReport *r,
             const char *from, const char *to, const char *match, const char *prop,
             AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        g_autofree char *filters = todo_filters (r, error);
        if (!filters)
                return FALSE;
        /* Every prop-filter must hold (the comp-filter's tests are ANDed, RFC 4791 9.7.1); a
         * text-match on an absent property does not hold, negated or not (9.7.5). */
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT " REPORT_COLUMNS " FROM calendar.todos e WHERE e.calendar_id = $1::uuid "
                "AND (NOT $4::boolean OR e.recurring OR CASE "
                "WHEN e.starts_at IS NOT NULL AND e.due_at IS NOT NULL THEN "
                "(to_timestamp($2::bigint) < e.due_at OR to_timestamp($2::bigint) <= e.starts_at) "
                "AND (to_timestamp($3::bigint) > e.starts_at "
                "OR to_timestamp($3::bigint) >= e.due_at) "
                "WHEN e.starts_at IS NOT NULL THEN to_timestamp($2::bigint) <= e.starts_at "
                "AND to_timestamp($3::bigint) > e.starts_at "
                "WHEN e.due_at IS NOT NULL THEN to_timestamp($2::bigint) < e.due_at "
                "AND to_timestamp($3::bigint) >= e.due_at "
                "WHEN e.completed_at IS NOT NULL THEN to_timestamp($2::bigint) <= e.completed_at "
                "AND to_timestamp($3::bigint) >= e.completed_at "
                "ELSE true END) "
                "AND ($5::text IS NULL OR strpos(lower(CASE WHEN upper($6) = 'UID' THEN e.uid "
                "ELSE e.summary END), lower($5)) > 0) "
                "AND NOT EXISTS (SELECT 1 FROM json_to_recordset($7::json) "
                "AS f(name text, txt text, negate boolean, undef boolean) WHERE NOT CASE "
                "WHEN f.undef THEN CASE f.name WHEN 'SUMMARY' THEN e.summary = '' "
                "WHEN 'DESCRIPTION' THEN e.description IS NULL "
                "WHEN 'STATUS' THEN e.status IS NULL "
                "WHEN 'COMPLETED' THEN e.completed_at IS NULL "
                "WHEN 'DUE' THEN e.due_at IS NULL OR e.due_is_duration WHEN 'DTSTART' THEN e.starts_at IS NULL "
                "ELSE false END "
                "ELSE coalesce((strpos(lower(CASE f.name WHEN 'UID' THEN e.uid "
                "WHEN 'SUMMARY' THEN nullif(e.summary, '') "
                "WHEN 'DESCRIPTION' THEN e.description "
                "WHEN 'STATUS' THEN upper(e.status) END), lower(f.txt)) > 0) <> f.negate, "
                "false) END) "
                "ORDER BY 1",
                7, p->cal->id, from, to, r->has_range ? "true" : "false", match, prop, filters);
        if (!res)
                return FALSE;
        /* expand (9.6.5) is for recurring components' instances: a to-do is answered as
         * stored. */
        AtriumDavReport plain = *r;
        plain.expand = FALSE;
        gboolean ok = emit_rows (res, prefix, &plain, emit, emit_data, error);
        cal_host->result_free (res);
        return ok;
}

static gboolean
calendar_query (AtriumRequest *req, const CalDavPlace *p, const char *prefix,
                const AtriumDavReport *r, AtriumDavEmitFunc emit, gpointer emit_data,
                GError **error)
{
        /* A prop-filter on UID or SUMMARY (the series' own; an override's is not searched) is
         * read from the columns: clients look events up by UID this way. */
        const char *match = r->header.struct_size >= G_STRUCT_OFFSET (AtriumDavReport, text_match) +
                                                             sizeof (char *)
                                    ? r->text_match
                                    : NULL;
        const char *prop = match ? r->prop_name : NULL;
        if (prop && g_ascii_strcasecmp (prop, "UID") != 0 &&
            g_ascii_strcasecmp (prop, "SUMMARY") != 0)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                 "a prop-filter is answered for UID and SUMMARY only");
        g_autofree char *from =
                g_strdup_printf ("%" G_GINT64_FORMAT,
                                 r->has_range ? CLAMP (r->start, MIN_TIME, MAX_TIME) : MIN_TIME);
        g_autofree char *to = g_strdup_printf (
                "%" G_GINT64_FORMAT, r->has_range ? CLAMP (r->end, MIN_TIME, MAX_TIME) : MAX_TIME);
        gboolean todos = !r->component || g_str_equal (r->component, "VTODO");
        gboolean events = !r->component || g_str_equal (r->component, "VEVENT");
        if (todos &&
            !query_todos (req, p, prefix, r, from, to, match, prop, emit, emit_data, error))
                return FALSE;
        if (!events)
                return TRUE;
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT " REPORT_COLUMNS " FROM calendar.events e WHERE e.calendar_id = $1::uuid "
                "AND (NOT $4::boolean OR (e.range_start < to_timestamp($3::bigint) "
                "AND (e.range_end IS NULL OR e.range_end >= to_timestamp($2::bigint)) "
                "AND ((e.occ_to IS NOT NULL AND NOT (e.occ_from <= $2::bigint "
                "AND e.occ_to >= $3::bigint)) "
                "OR EXISTS (SELECT 1 FROM calendar.occurrences o "
                "WHERE o.school_id = e.school_id AND o.event_id = e.id "
                "AND o.starts_at < $3::bigint AND (o.ends_at > $2::bigint "
                "OR (o.ends_at = o.starts_at AND o.starts_at >= $2::bigint)))))) "
                "AND ($5::text IS NULL OR strpos(lower(CASE WHEN upper($6) = 'UID' THEN e.uid "
                "ELSE e.summary END), lower($5)) > 0) "
                "ORDER BY 1",
                6, p->cal->id, from, to, r->has_range ? "true" : "false", match, prop);
        if (!res)
                return FALSE;
        gboolean ok = emit_rows (res, prefix, r, emit, emit_data, error);
        cal_host->result_free (res);
        return ok;
}

static gboolean
multiget (AtriumRequest *req, const CalDavPlace *p, const char *prefix, const AtriumDavReport *r,
          AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        /* The hrefs in this calendar, as a text[] of names; others are answered 404. */
        g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
        for (guint i = 0; r->paths && r->paths[i]; i++) {
                const char *path = r->paths[i];
                if (g_str_has_prefix (path, prefix) && !strchr (path + strlen (prefix), '/'))
                        g_strv_builder_add (names, path + strlen (prefix));
                else
                        cal_dav_emit_object (NULL, path, NULL, NULL, 0, 0, 0, NULL, emit,
                                             emit_data);
        }
        g_auto (GStrv) wanted = g_strv_builder_end (names);
        g_autoptr (JsonArray) arr = json_array_new ();
        for (char **n = wanted; *n; n++)
                json_array_add_string_element (arr, *n);
        g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), arr);
        g_autofree char *list = json_to_string (node, FALSE);
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " REPORT_COLUMNS " FROM calendar.dav_objects e "
                                     "WHERE e.calendar_id = $1::uuid AND " CALDAV_NAME_SQL
                                     " IN (SELECT json_array_elements_text($2::json))",
                                     2, p->cal->id, list);
        if (!res)
                return FALSE;
        g_autoptr (GHashTable) found =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (int i = 0; i < cal_host->result_n_rows (res); i++)
                g_hash_table_add (found, g_strdup (cal_host->result_value (res, i, 0)));
        gboolean ok = emit_rows (res, prefix, r, emit, emit_data, error);
        cal_host->result_free (res);
        for (char **n = wanted; ok && *n; n++)
                if (!g_hash_table_contains (found, *n))
                        cal_dav_emit_object (prefix, *n, NULL, NULL, 0, 0, 0, NULL, emit,
                                             emit_data);
        return ok;
}

static gboolean
sync_collection (AtriumRequest *req, const CalDavPlace *p, const char *prefix,
                 const AtriumDavReport *r, AtriumDavEmitFunc emit, gpointer emit_data,
                 char **out_token, GError **error)
{
        gint64 since = 0;
        if (r->sync_token) {
                g_autofree char *mine = g_strdup_printf ("urn:atrium:sync:%s:", p->cal->id);
                const char *n = r->sync_token + strlen (mine);
                char *end = NULL;
                if (!g_str_has_prefix (r->sync_token, mine) || !g_ascii_isdigit (*n) ||
                    (since = g_ascii_strtoll (n, &end, 10)) < 0 || *end || since > p->sync_seq)
                        return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                         "not a sync token of this calendar");
                if (since < p->sync_floor) /* it may have missed a pruned deletion */
                        return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                         "the sync token is older than the deletions kept (%d "
                                         "days): sync afresh",
                                         CAL_TOMBSTONE_DAYS);
        }
        /* Nothing changed since the token (what polling clients mostly find): the counter
         * says so, no query needed. */
        if (r->sync_token && since == p->sync_seq) {
                *out_token = cal_dav_sync_token (p->cal->id, p->sync_seq);
                return TRUE;
        }
        /* Changes up to the counter read when the calendar was resolved: one written since
         * has a higher number and comes with the next sync. */
        g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, since);
        g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, p->sync_seq);
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " REPORT_COLUMNS " FROM calendar.dav_objects e "
                                     "WHERE e.calendar_id = $1::uuid AND e.sync_seq > $2::bigint "
                                     "AND e.sync_seq <= $3::bigint ORDER BY e.sync_seq",
                                     3, p->cal->id, lo, hi);
        if (!res)
                return FALSE;
        gboolean ok = emit_rows (res, prefix, r, emit, emit_data, error);
        cal_host->result_free (res);
        if (!ok)
                return FALSE;
        if (r->sync_token) { /* an initial sync lists what exists, nothing gone */
                res = cal_sql (req, error,
                               "SELECT t.name FROM calendar.dav_tombstones t "
                               "WHERE t.calendar_id = $1::uuid AND t.sync_seq > $2::bigint "
                               "AND t.sync_seq <= $3::bigint ORDER BY t.sync_seq",
                               3, p->cal->id, lo, hi);
                if (!res)
                        return FALSE;
                for (int i = 0; i < cal_host->result_n_rows (res); i++)
                        cal_dav_emit_object (prefix, cal_host->result_value (res, i, 0), NULL, NULL,
                                             0, 0, 0, NULL, emit, emit_data);
                cal_host->result_free (res);
        }
        *out_token = cal_dav_sync_token (p->cal->id, p->sync_seq);
        return TRUE;
}

gboolean
cal_caldav_report (AtriumRequest *req, const char *path, const AtriumDavReport *r,
                   AtriumDavEmitFunc emit, gpointer emit_data, char **out_sync_token,
                   gpointer user_data, GError **error)
{
        g_auto (CalDavPlace) p = {0};
        if (!cal_dav_resolve (req, path, FALSE, &p, error))
                return FALSE;
        if (p.depth != CALDAV_CALENDAR)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                 "REPORT is answered on a calendar collection");
        g_autofree char *prefix = g_strconcat (p.user, "/", p.segment, "/", NULL);
        switch (r->kind) {
        case ATRIUM_DAV_REPORT_CALENDAR_QUERY:
                return calendar_query (req, &p, prefix, r, emit, emit_data, error);
        case ATRIUM_DAV_REPORT_CALENDAR_MULTIGET:
                return multiget (req, &p, prefix, r, emit, emit_data, error);
        case ATRIUM_DAV_REPORT_SYNC_COLLECTION:
                return sync_collection (req, &p, prefix, r, emit, emit_data, out_sync_token, error);
        case ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY:
        case ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET:
                break; /* CardDAV's: not a calendar's */
        }
        return cal_fail (error, ATRIUM_ERROR_FORBIDDEN, "an unknown report");
}
