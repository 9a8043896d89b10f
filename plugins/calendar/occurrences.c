/* SPDX-License-Identifier: Apache-2.0 */
/* occurrences.c - calendar.occurrences, the materialised occurrences window queries read
 * (schema/0003_occurrences.sql): what a series contributes when it is written, and the
 * extension of a series a window reaches beyond what is stored.
 *
 * The occurrences are libical's: the same expansion the window view used to run per request
 * (cal_series_expand), run once when the series is written, from the text as stored (parsed
 * back, so the rows say exactly what a parse of the stored text says). A series that ends and
 * has at most CAL_MAX_STORED occurrences is stored whole ("complete"). An open-ended one (or
 * a longer one) is stored for a horizon around the time it was written, and a window that
 * reaches beyond that extends it (cal_occurrences_cover): the one place a read still calls
 * libical, once per series and stretch of time, under the row's lock so that two readers do
 * not both do it. A window an extension cannot serve (more than CAL_MAX_OCCURRENCES
 * occurrences, or beyond the step budget) fails as the per-request expansion used to. */
#include "calendar-private.h"

/* Occurrences one series may store in one go. */
#define CAL_MAX_STORED 20000
/* How far around "now" an open-ended series is stored, and how far beyond a window an
 * extension reaches, so that paging on through the following months does not extend again. */
#define HORIZON ((gint64) 2 * 366 * 86400)
/* 2501-01-01T00:00:00Z: nothing may start later (CAL_MAX_YEAR). */
#define LATEST G_GINT64_CONSTANT (16756761600)

struct _CalMaterial {
        gboolean complete;
        gint64 from; /* the range covered when not complete */
        gint64 to;
        GPtrArray *occs; /* CalOccurrence */
};

void
cal_material_free (CalMaterial *m)
{
        if (!m)
                return;
        g_ptr_array_unref (m->occs);
        g_free (m);
}

static CalMaterial *
material_new (void)
{
        CalMaterial *m = g_new0 (CalMaterial, 1);
        m->occs = g_ptr_array_new_with_free_func ((GDestroyNotify) cal_occurrence_free);
        return m;
}

/* The whole of a bounded series, if it is not too long. */
static gboolean
expand_whole (CalSeries *s, gint64 range_start, gint64 range_end, CalMaterial *m)
{
        guint budget = CAL_STEP_BUDGET;
        g_ptr_array_set_size (m->occs, 0);
        /* [range_start, range_end + 1) holds every occurrence: all start at or after
         * range_start and end at or before range_end. */
        if (!cal_series_expand (s, range_start, range_end + 1, m->occs, CAL_MAX_STORED, &budget,
                                NULL)) {
                g_ptr_array_set_size (m->occs, 0);
                return FALSE;
        }
        m->complete = TRUE;
        return TRUE;
}

CalMaterial *
cal_material_new (const char *text, gint64 range_start, gint64 range_end, gboolean has_end,
                  GError **error)
{
        g_autoptr (CalSeries) s = cal_series_parse (text, error);
        if (!s)
                return NULL;
        g_autoptr (CalMaterial) m = material_new ();
        if (has_end && expand_whole (s, range_start, range_end, m))
                return g_steal_pointer (&m);
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        m->from = MAX (range_start, now - HORIZON / 2);
        m->to = MAX (MIN (MAX (range_start, now) + HORIZON, LATEST), m->from);
        guint budget = CAL_STEP_BUDGET;
        if (!cal_series_expand (s, m->from, m->to, m->occs, CAL_MAX_STORED, &budget, NULL)) {
                /* Too dense, or a COUNT/HOURLY rule from long ago: store nothing; a window
                 * expands what it needs, and refuses as it always did if that is too much. */
                g_ptr_array_set_size (m->occs, 0);
                m->from = m->to = range_start;
        }
        return g_steal_pointer (&m);
}

/* The occurrences a coverage of [@cov_from, @cov_to) lacks to cover [@from, @to). */
static gboolean
expand_missing (CalSeries *s, gint64 cov_from, gint64 cov_to, gint64 from, gint64 to, guint max,
                CalMaterial *m, GError **error)
{
        guint budget = CAL_STEP_BUDGET;
        g_ptr_array_set_size (m->occs, 0);
        if (cov_from >= cov_to || from > cov_to || to < cov_from) {
                /* Nothing stored next to the window: start again there. What was stored
                 * stays (those occurrences are still right) but no longer counts as covered. */
                m->from = from;
                m->to = to;
                return cal_series_expand (s, from, to, m->occs, max, &budget, error);
        }
        m->from = MIN (from, cov_from);
        m->to = MAX (to, cov_to);
        /* The occurrences that overlap both a part and the stored range are found twice;
         * the primary key keeps one (ON CONFLICT DO NOTHING). */
        return (from >= cov_from ||
                cal_series_expand (s, from, cov_from, m->occs, max, &budget, error)) &&
               (to <= cov_to || cal_series_expand (s, cov_to, to, m->occs, max, &budget, error));
}

static CalMaterial *
cal_material_extend (const char *text, gint64 range_start, gint64 range_end, gboolean has_end,
                     gint64 cov_from, gint64 cov_to, gint64 from, gint64 to, GError **error)
{
        g_autoptr (CalSeries) s = cal_series_parse (text, error);
        if (!s)
                return NULL;
        g_autoptr (CalMaterial) m = material_new ();
        if (has_end && expand_whole (s, range_start, range_end, m))
                return g_steal_pointer (&m);
        gint64 ahead = MAX (MIN (to + HORIZON, LATEST), to);
        if (expand_missing (s, cov_from, cov_to, from, ahead, CAL_MAX_STORED, m, NULL))
                return g_steal_pointer (&m);
        /* The horizon is too much: the window alone, refused as a per-request expansion was. */
        if (!expand_missing (s, cov_from, cov_to, from, to, CAL_MAX_OCCURRENCES, m, error))
                return NULL;
        return g_steal_pointer (&m);
}

static void
set_text (JsonObject *o, const char *member, const char *value)
{
        if (value)
                json_object_set_string_member (o, member, value);
        else
                json_object_set_null_member (o, member);
}

void
cal_material_add_json (CalMaterial *m, const char *event_id, gboolean replace, JsonArray *batch)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", event_id);
        json_object_set_boolean_member (o, "replace", replace);
        if (m->complete) {
                json_object_set_null_member (o, "from");
                json_object_set_null_member (o, "to");
        } else {
                json_object_set_int_member (o, "from", m->from);
                json_object_set_int_member (o, "to", m->to);
        }
        JsonArray *occs = json_array_new ();
        for (guint i = 0; i < m->occs->len; i++) {
                const CalOccurrence *c = g_ptr_array_index (m->occs, i);
                JsonObject *j = json_object_new ();
                json_object_set_int_member (j, "st", c->start);
                json_object_set_int_member (j, "en", c->end);
                json_object_set_string_member (j, "rid", c->recurrence_id ? c->recurrence_id : "");
                json_object_set_boolean_member (j, "all_day", c->all_day);
                json_object_set_boolean_member (j, "modified", c->modified);
                json_object_set_string_member (j, "summary", c->summary ? c->summary : "");
                set_text (j, "description", c->description);
                set_text (j, "location", c->location);
                set_text (j, "status", c->status);
                set_text (j, "timezone", c->timezone);
                json_array_add_object_element (occs, j);
        }
        json_object_set_array_member (o, "occ", occs);
        json_array_add_object_element (batch, o);
}

gboolean
cal_material_store (AtriumRequest *req, JsonArray *batch, gboolean replace, GError **error)
{
        if (json_array_get_length (batch) == 0)
                return TRUE;
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_set_array (n, batch);
        g_autofree char *text = json_to_string (n, FALSE);
        json_node_unref (n);
        /* A series written anew drops what was stored for it first (a separate statement: a
         * DELETE and an INSERT of the same keys in one statement would conflict). */
        if (replace && !atrium_done (cal_host, cal_sql (req, error,
                                                        "DELETE FROM calendar.occurrences o "
                                                        "USING json_array_elements($1::json) x "
                                                        "WHERE (x->>'replace')::boolean "
                                                        "AND o.school_id = core.current_school() "
                                                        "AND o.event_id = (x->>'id')::uuid",
                                                        1, text)))
                return FALSE;
        return atrium_done (
                       cal_host,
                       cal_sql (req, error,
                                "INSERT INTO calendar.occurrences (school_id, calendar_id, "
                                "event_id, recurrence_id, starts_at, ends_at, all_day, modified, "
                                "summary, description, location, status, timezone) "
                                "SELECT e.school_id, e.calendar_id, e.id, y.rid, y.st, y.en, "
                                "y.all_day, y.modified, y.summary, y.description, y.location, "
                                "y.status, y.timezone FROM json_array_elements($1::json) x "
                                "JOIN calendar.events e ON e.school_id = core.current_school() "
                                "AND e.id = (x->>'id')::uuid, "
                                "json_to_recordset(x->'occ') AS y(st bigint, en bigint, "
                                "rid text, all_day boolean, modified boolean, summary text, "
                                "description text, location text, status text, timezone text) "
                                "ON CONFLICT DO NOTHING",
                                1, text)) &&
               atrium_done (cal_host, cal_sql (req, error,
                                               "UPDATE calendar.events e SET "
                                               "occ_from = (x->>'from')::bigint, "
                                               "occ_to = (x->>'to')::bigint "
                                               "FROM json_array_elements($1::json) x "
                                               "WHERE e.school_id = core.current_school() "
                                               "AND e.id = (x->>'id')::uuid",
                                               1, text));
}

gboolean
cal_occurrences_store (AtriumRequest *req, const char *event_id, const char *text,
                       gint64 range_start, gint64 range_end, gboolean has_end, GError **error)
{
        g_autoptr (CalMaterial) m = cal_material_new (text, range_start, range_end, has_end, error);
        if (!m)
                return FALSE;
        g_autoptr (JsonArray) batch = json_array_new ();
        /* Whole or not, what was stored for the old version of the series goes. */
        cal_material_add_json (m, event_id, TRUE, batch);
        return cal_material_store (req, batch, TRUE, error);
}

gboolean
cal_occurrences_cover (AtriumRequest *req, const char *calendar_ids, gint64 from, gint64 to,
                       GError **error)
{
        g_autofree char *from_s = g_strdup_printf ("%" G_GINT64_FORMAT, from);
        g_autofree char *to_s = g_strdup_printf ("%" G_GINT64_FORMAT, to);
        /* Only incomplete series can lack occurrences (a partial index finds them); locked in
         * id order, so that two windows extending the same series wait for one another, and
         * the second one, re-reading the row, finds it covered. */
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT e.id, e.ical, extract(epoch FROM e.range_start)::bigint, "
                "extract(epoch FROM e.range_end)::bigint, e.occ_from, e.occ_to "
                "FROM calendar.events e WHERE " CAL_STALE_WHERE " ORDER BY e.id FOR UPDATE",
                3, calendar_ids, from_s, to_s);
        if (!res)
                return FALSE;
        int rows = cal_host->result_n_rows (res);
        g_autoptr (JsonArray) batch = json_array_new ();
        gboolean ok = TRUE;
        for (int i = 0; ok && i < rows; i++) {
                const char *end = cal_host->result_value (res, i, 3);
                g_autoptr (CalMaterial) m = cal_material_extend (
                        cal_host->result_value (res, i, 1),
                        g_ascii_strtoll (cal_host->result_value (res, i, 2), NULL, 10),
                        end ? g_ascii_strtoll (end, NULL, 10) : 0, end != NULL,
                        g_ascii_strtoll (cal_host->result_value (res, i, 4), NULL, 10),
                        g_ascii_strtoll (cal_host->result_value (res, i, 5), NULL, 10), from, to,
                        error);
                /* A series now stored whole replaces what was there; an extension adds. */
                if (m)
                        cal_material_add_json (m, cal_host->result_value (res, i, 0), m->complete,
                                               batch);
                ok = m != NULL;
        }
        cal_host->result_free (res);
        return ok && cal_material_store (req, batch, TRUE, error);
}
