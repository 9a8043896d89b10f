/* SPDX-License-Identifier: Apache-2.0 */
/* window.c - the window views (GET /calendars/{id}/events and GET /events): one page of the
 * occurrences in ?from=&to=, read from calendar.occurrences (occurrences.c stores them).
 *
 * No iCalendar is parsed here: the series that have everything in the window stored (all of
 * them, normally) are read as rows, in one statement. The page is cut in SQL with a keyset cursor
 * on (start, event, recurrence id), the order the per-request expansion used; only the page's rows
 * are read with their texts, the count and the sort key come from the index. A window holding more
 * than CAL_MAX_OCCURRENCES occurrences is refused with 422 rather than cut, as before.
 *
 * An occurrence overlaps [from, to) when it starts before @to and ends after @from (one of no
 * length: starts at or after @from). By start alone that would read everything before the
 * window, so the rows are found in two parts: those starting at most a week before @from
 * (btree on the start), and the few lasting more than a week (a partial index), which are the
 * only ones starting earlier that can still overlap. */
#include "calendar-private.h"

#define LONG "604800"

/* clang-format off */
/* The window's occurrences, in two parts (see above), as rows of @cols. */
#define WINDOW_PARTS(cols)                                                                      \
        "SELECT " cols " FROM calendar.occurrences o "                                          \
        "WHERE o.school_id = core.current_school() AND o.calendar_id = ANY ($1::uuid[]) "       \
        "AND o.starts_at > $2::bigint - " LONG " AND o.starts_at < $3::bigint "                 \
        "AND (o.ends_at > $2::bigint "                                                          \
        "OR (o.ends_at = o.starts_at AND o.starts_at >= $2::bigint)) "                          \
        "UNION ALL SELECT " cols " FROM calendar.occurrences o "                                \
        "WHERE o.school_id = core.current_school() AND o.calendar_id = ANY ($1::uuid[]) "       \
        "AND o.ends_at - o.starts_at > " LONG " AND o.starts_at <= $2::bigint - " LONG " "      \
        "AND o.ends_at > $2::bigint"

/* One page of the window sorted by (start, event, recurrence id), after the cursor. */
#define WINDOW_PAGE                                                                             \
        "SELECT o.event_id, o.calendar_id, o.recurrence_id, o.starts_at, o.ends_at, "           \
        "o.all_day, o.summary, o.description, o.location, o.status, o.timezone, o.modified "    \
        "FROM (SELECT k.* FROM ("                                                               \
        WINDOW_PARTS ("o.starts_at, o.event_id, o.recurrence_id")                               \
        ") k WHERE $4::bigint IS NULL "                                                         \
        "OR (k.starts_at, k.event_id, k.recurrence_id) > "                                      \
        "($4::bigint, $5::uuid, $6::text COLLATE \"C\") "                                      \
        "ORDER BY k.starts_at, k.event_id, k.recurrence_id LIMIT $7::int) k "                   \
        "JOIN calendar.occurrences o ON o.school_id = core.current_school() "                   \
        "AND o.event_id = k.event_id AND o.recurrence_id = k.recurrence_id"

/* Everything in one round trip: how many occurrences the window holds (to refuse more than
 * CAL_MAX_OCCURRENCES), whether a series lacks some of them (then occurrences.c extends it and
 * the statement runs again), and the page; a window with no occurrence is one row of NULLs. */
static const char window_sql[] =
        "SELECT w.n, w.stale, p.* FROM (SELECT (SELECT count(*) FROM ("
        WINDOW_PARTS ("1")
        " LIMIT " G_STRINGIFY (CAL_MAX_OCCURRENCES) " + 1) c) AS n, "
        "EXISTS (SELECT 1 FROM calendar.events e WHERE " CAL_STALE_WHERE ") AS stale) w "
        "LEFT JOIN LATERAL (" WINDOW_PAGE ") p ON true "
        "ORDER BY p.starts_at, p.event_id, p.recurrence_id";
/* clang-format on */

enum {
        C_N,
        C_STALE,
        C_EVENT,
        C_CALENDAR,
        C_RID,
        C_START,
        C_END,
        C_ALL_DAY,
        C_SUMMARY,
        C_DESCRIPTION,
        C_LOCATION,
        C_STATUS,
        C_TIMEZONE,
        C_MODIFIED
};

static gboolean
bool_value (AtriumResult *res, int row, int col)
{
        return g_strcmp0 (cal_host->result_value (res, row, col), "t") == 0;
}

/* The API view of one occurrence row (the members in the order the API has always had). */
static JsonNode *
row_json (AtriumResult *res, int row)
{
        JsonObject *j = json_object_new ();
        const char *rid = cal_host->result_value (res, row, C_RID);
        gboolean all_day = bool_value (res, row, C_ALL_DAY);
        json_object_set_string_member (j, "event_id", cal_host->result_value (res, row, C_EVENT));
        json_object_set_string_member (j, "calendar_id",
                                       cal_host->result_value (res, row, C_CALENDAR));
        if (rid && *rid)
                json_object_set_string_member (j, "recurrence_id", rid);
        else
                json_object_set_null_member (j, "recurrence_id");
        for (int col = C_START; col <= C_END; col++) {
                g_autofree char *t = cal_time_format (
                        g_ascii_strtoll (cal_host->result_value (res, row, col), NULL, 10),
                        all_day);
                json_object_set_string_member (j, col == C_START ? "start" : "end", t);
        }
        json_object_set_boolean_member (j, "all_day", all_day);
        json_object_set_string_member (j, "summary", cal_host->result_value (res, row, C_SUMMARY));
        static const char *const texts[] = {"description", "location", "status", "timezone"};
        for (int k = 0; k < 4; k++) {
                const char *v = cal_host->result_value (res, row, C_DESCRIPTION + k);
                if (v)
                        json_object_set_string_member (j, texts[k], v);
                else
                        json_object_set_null_member (j, texts[k]);
        }
        json_object_set_boolean_member (j, "modified", bool_value (res, row, C_MODIFIED));
        return cal_object_node (j);
}

gboolean
cal_respond_window (AtriumRequest *req, const char *calendar_ids, GError **error)
{
        gint64 from, to;
        /* The cursor is the key of the last item handed out: (start, event, recurrence id). */
        g_auto (AtriumPage) page = {0};
        if (!cal_request_window (req, &from, &to, error) ||
            !atrium_page_begin (cal_host, req, "ius", &page, error))
                return FALSE;
        g_autofree char *from_s = g_strdup_printf ("%" G_GINT64_FORMAT, from);
        g_autofree char *to_s = g_strdup_printf ("%" G_GINT64_FORMAT, to);
        char **cur = page.key;
        AtriumResult *res = NULL;
        for (int round = 0; round < 2; round++) {
                res = cal_sql (req, error, window_sql, 7, calendar_ids, from_s, to_s,
                               cur ? cur[0] : NULL, cur ? cur[1] : NULL, cur ? cur[2] : NULL,
                               page.fetch);
                if (!res)
                        return FALSE;
                /* Normally nothing to extend; else once, and the second round reads what the
                 * extension stored (under the rows' locks, so it is complete). */
                if (round == 1 || !bool_value (res, 0, C_STALE))
                        break;
                cal_host->result_free (res);
                if (!cal_occurrences_cover (req, calendar_ids, from, to, error))
                        return FALSE;
        }
        gint64 n = g_ascii_strtoll (cal_host->result_value (res, 0, C_N), NULL, 10);
        if (n > CAL_MAX_OCCURRENCES) {
                cal_host->result_free (res);
                return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                 "more than %d occurrences in the window; ask for a shorter one",
                                 CAL_MAX_OCCURRENCES);
        }
        /* No occurrence at all: the one row has only the count. */
        int rows = cal_host->result_value (res, 0, C_EVENT) ? cal_host->result_n_rows (res) : 0;
        JsonArray *shown = json_array_new ();
        for (int i = 0; i < MIN (rows, page.limit); i++)
                json_array_add_element (shown, row_json (res, i));
        g_autofree char *next = NULL;
        if (rows > page.limit) {
                const char *key[] = {cal_host->result_value (res, page.limit - 1, C_START),
                                     cal_host->result_value (res, page.limit - 1, C_EVENT),
                                     cal_host->result_value (res, page.limit - 1, C_RID)};
                next = atrium_page_cursor (G_N_ELEMENTS (key), key);
        }
        cal_host->result_free (res);
        JsonNode *node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (node, shown);
        cal_host->respond_page (req, node, next);
        return TRUE;
}
