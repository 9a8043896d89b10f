/* SPDX-License-Identifier: Apache-2.0 */
/* window.c - the window views (GET /calendars/{id}/events and GET /events): one page of the
 * occurrences in ?from=&to=, read from calendar.occurrences (occurrences.c stores them).
 *
 * No iCalendar is parsed here: the series that have everything in the window stored (all of
 * them, normally) are read as rows, in one statement. The page is cut in SQL with a keyset cursor
 * on (start, event, recurrence id), the order the per-request expansion used, and each calendar's
 * rows are read in that order from the index that carries the whole key (calendar 0008), so a
 * page reads its own rows and stops: its cost does not grow with the window. How many
 * occurrences a window may hold is bounded where they are made: a series extended for a window
 * expands at most CAL_MAX_OCCURRENCES occurrences (occurrences.c); what is stored is read a page
 * at a time.
 *
 * An occurrence overlaps [from, to) when it starts before @to and ends after @from (one of no
 * length: starts at or after @from). By start alone that would read everything before the
 * window, so the rows are found in two parts: those starting at most a day before @from (by
 * key), and those lasting more than a day (a partial index by their end), which are the only
 * ones starting earlier that can still overlap. */
#include "calendar-private.h"

#define DAY_SECONDS 86400
#define DAY G_STRINGIFY (DAY_SECONDS)
#define ZERO_UUID "00000000-0000-0000-0000-000000000000"

/* clang-format off */
/* An occurrence row as the page reads it. */
#define ROW_COLUMNS                                                                             \
        "o.event_id, o.calendar_id, o.recurrence_id, o.starts_at, o.ends_at, o.all_day, "       \
        "o.summary, o.description, o.location, o.status, o.timezone, o.modified"

/* Calendar c.id's occurrences in the window after a cursor, in key order (start, event,
 * recurrence id), at most $7 of each part: those starting less than a day before @from ($2)
 * after the key ($4, $5, $6), read from the index in that order and stopping after the page;
 * and those lasting longer, by their end, after the key ($8, $9, $10). The keys are plain
 * parameters, never expressions: only then is a row comparison an index condition that the
 * scan starts at (cal_respond_window() computes them from the cursor). */
#define CALENDAR_PAGE                                                                           \
        "(SELECT " ROW_COLUMNS " FROM calendar.occurrences o "                                  \
        "WHERE o.school_id = core.current_school() AND o.calendar_id = c.id "                   \
        "AND (o.starts_at, o.event_id, o.recurrence_id) > "                                     \
        "($4::bigint, $5::uuid, $6::text COLLATE \"C\") "                                       \
        "AND o.starts_at > $2::bigint - " DAY " AND o.starts_at < $3::bigint "                  \
        "AND (o.ends_at > $2::bigint "                                                          \
        "OR (o.ends_at = o.starts_at AND o.starts_at >= $2::bigint)) "                          \
        "ORDER BY o.starts_at, o.event_id, o.recurrence_id LIMIT (SELECT $7::int)) "            \
        "UNION ALL "                                                                            \
        "(SELECT " ROW_COLUMNS " FROM calendar.occurrences o "                                  \
        "WHERE o.school_id = core.current_school() AND o.calendar_id = c.id "                   \
        "AND o.ends_at - o.starts_at > " DAY " AND o.ends_at > $2::bigint "                     \
        "AND o.starts_at <= $2::bigint - " DAY " AND (o.starts_at, o.event_id, o.recurrence_id) " \
        "> ($8::bigint, $9::uuid, $10::text COLLATE \"C\"))"

/* One page of the window over the calendars $1, sorted by (start, event, recurrence id). The
 * array and the page size are read through sub-selects so that the planner estimates the same
 * with and without their values: a plan made for the statement's parameters costs what one
 * made for its values does, so PostgreSQL keeps the prepared statement's one plan instead of
 * planning every request anew (~1 ms). */
#define WINDOW_PAGE                                                                             \
        "SELECT k.* FROM unnest ((SELECT $1::uuid[])) c (id) "                                  \
        "CROSS JOIN LATERAL (" CALENDAR_PAGE ") k "                                             \
        "ORDER BY k.starts_at, k.event_id, k.recurrence_id LIMIT (SELECT $7::int)"

/* An occurrence's start or end as the API writes it (cal_time_format): an RFC 3339 UTC time, or
 * the date of an all-day one. */
#define API_TIME(col)                                                                           \
        "to_char(to_timestamp(" col ") AT TIME ZONE 'UTC', CASE WHEN p.all_day "               \
        "THEN 'YYYY-MM-DD' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' END)"

/* Everything in one round trip: the page, its rows already in the API's members and order
 * (the host writes them to JSON text as they are: respond_result_page), and, after them, one
 * row of NULLs if a series lacks some of the window's occurrences (then occurrences.c extends
 * it and the statement runs again). */
static const char window_sql[] =
        "SELECT p.event_id, p.calendar_id, nullif(p.recurrence_id, '') AS recurrence_id, "
        API_TIME ("p.starts_at") " AS start, " API_TIME ("p.ends_at") " AS \"end\", "
        "p.all_day, p.summary, p.description, p.location, p.status, p.timezone, p.modified "
        "FROM (SELECT "
        "EXISTS (SELECT 1 FROM calendar.events e WHERE " CAL_STALE_WHERE ") AS stale) w "
        "CROSS JOIN LATERAL ((" WINDOW_PAGE ") UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE w.stale) p "
        "ORDER BY p.starts_at, p.event_id, p.recurrence_id";
/* clang-format on */

enum { C_EVENT, C_CALENDAR, C_RID, C_START };

/* The raw key (start, event, recurrence id) of an occurrence from its row: the start read back
 * from the text API_TIME wrote (exact: whole seconds, UTC), the recurrence id '' for NULL. */
static char *
row_cursor (AtriumResult *res, int row)
{
        const char *start = cal_host->result_value (res, row, C_START);
        const char *rid = cal_host->result_value (res, row, C_RID);
        gint64 t = 0;
        gboolean ok = strlen (start) == 10 ? cal_parse_date (start, &t, NULL)
                                           : cal_parse_instant (start, &t, NULL);
        g_return_val_if_fail (ok, NULL);
        g_autofree char *t_s = g_strdup_printf ("%" G_GINT64_FORMAT, t);
        const char *key[] = {t_s, cal_host->result_value (res, row, C_EVENT), rid ? rid : ""};
        return atrium_page_cursor (G_N_ELEMENTS (key), key);
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
        /* Every occurrence of the second part starts at or before @from - DAY and every one of
         * the first after it, so the second sorts before the first. After no cursor, or after
         * one in the second part, the first part starts at its lower bound; the second part
         * starts at the cursor, or at its beginning. */
        char **cur = page.key;
        g_autofree char *bound = g_strdup_printf ("%" G_GINT64_FORMAT, from - DAY_SECONDS);
        gboolean in_first = cur && g_ascii_strtoll (cur[0], NULL, 10) > from - DAY_SECONDS;
        const char *first[] = {in_first ? cur[0] : bound, in_first ? cur[1] : ZERO_UUID,
                               in_first ? cur[2] : ""};
        const char *second[] = {cur ? cur[0] : "-9223372036854775808", cur ? cur[1] : ZERO_UUID,
                                cur ? cur[2] : ""};
        AtriumResult *res = NULL;
        int rows = 0;
        for (int round = 0; round < 2; round++) {
                res = cal_sql (req, error, window_sql, 10, calendar_ids, from_s, to_s, first[0],
                               first[1], first[2], page.fetch, second[0], second[1], second[2]);
                if (!res)
                        return FALSE;
                /* The row of NULLs sorts last. Normally there is none; else the series are
                 * extended once, and the second round reads what the extension stored (under
                 * the rows' locks, so it is complete). */
                rows = cal_host->result_n_rows (res);
                gboolean stale = rows > 0 && !cal_host->result_value (res, rows - 1, C_EVENT);
                rows -= stale;
                if (round == 1 || !stale)
                        break;
                cal_host->result_free (res);
                if (!cal_occurrences_cover (req, calendar_ids, from, to, error))
                        return FALSE;
        }
        g_autofree char *next = rows > page.limit ? row_cursor (res, page.limit - 1) : NULL;
        cal_host->respond_result_page (req, res, MIN (rows, page.limit), next);
        cal_host->result_free (res);
        return TRUE;
}
