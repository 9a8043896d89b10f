/* SPDX-License-Identifier: Apache-2.0 */
/* stats.c - the usage figures: GET /stats for a school (conference.stats) and
 * GET /api/v1/conference/stats across the installation (operators). Both read
 * conference.stats() (schema/0002_stats.sql), which does the counting; this file checks the
 * range, carries the count of open rooms through buckets in which nothing happened, and
 * shapes the answer. */
#include "conference-private.h"

#include <math.h>

#define MAX_BUCKETS 2000

static GDateTime *
parse_time (AtriumRequest *req, const char *name, GError **error)
{
        const char *v = conf_host->request_query (req, name);
        if (!v)
                return NULL;
        GDateTime *t = g_date_time_new_from_iso8601 (v, NULL);
        if (!t)
                conf_fail (error, ATRIUM_ERROR_INVALID,
                           "?%s= must be an RFC 3339 time with an offset (2026-09-01T08:00:00Z)",
                           name);
        return t;
}

static double
hours (const char *seconds)
{
        return seconds ? round (g_ascii_strtod (seconds, NULL) / 3.6) / 1000.0 : 0.0;
}

static gint64
count (const char *v)
{
        return v ? g_ascii_strtoll (v, NULL, 10) : 0;
}

static JsonObject *
figures (gint64 joins, gint64 users, const char *seconds, const char *estimated, gint64 peak)
{
        JsonObject *o = json_object_new ();
        json_object_set_int_member (o, "joins", joins);
        json_object_set_int_member (o, "distinct_users", users);
        json_object_set_double_member (o, "usage_hours", hours (seconds));
        json_object_set_double_member (o, "estimated_usage_hours", hours (estimated));
        json_object_set_int_member (o, "peak_concurrent_rooms", peak);
        return o;
}

static const char stats_query[] =
        "{\"type\": \"object\", \"properties\": {"
        "\"from\": {\"type\": \"string\", \"format\": \"date-time\", \"description\": \"the "
        "first bucket's start (default: 7 days before to)\"}, "
        "\"to\": {\"type\": \"string\", \"format\": \"date-time\", \"description\": \"the end "
        "(default: 7 days after from, or now)\"}, "
        "\"granularity\": {\"type\": \"string\", \"enum\": [\"day\", \"hour\"], "
        "\"description\": \"one bucket per day (default) or per hour\"}}}";

static gboolean
respond_stats (AtriumRequest *req, gboolean all, GError **error)
{
        g_autoptr (GError) parse_error = NULL;
        g_autoptr (GDateTime) from = parse_time (req, "from", &parse_error);
        g_autoptr (GDateTime) to = parse_error ? NULL : parse_time (req, "to", &parse_error);
        if (parse_error) {
                g_propagate_error (error, g_steal_pointer (&parse_error));
                return FALSE;
        }
        /* day or hour when given: stats_query, checked by the host. */
        const char *gran = conf_host->request_query (req, "granularity");
        if (!gran)
                gran = "day";
        GTimeSpan step = g_str_equal (gran, "day") ? G_TIME_SPAN_DAY : G_TIME_SPAN_HOUR;
        if (!to)
                to = from ? g_date_time_add (from, 7 * G_TIME_SPAN_DAY) : g_date_time_new_now_utc ();
        if (!from)
                from = g_date_time_add (to, -7 * G_TIME_SPAN_DAY);
        GTimeSpan span = g_date_time_difference (to, from);
        if (span <= 0)
                return conf_fail (error, ATRIUM_ERROR_INVALID, "?from= must be before ?to=");
        if (span / step > MAX_BUCKETS)
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "at most %d buckets per call: narrow the range or use a "
                                  "coarser granularity",
                                  MAX_BUCKETS);
        g_autofree char *f = g_date_time_format_iso8601 (from);
        g_autofree char *t = g_date_time_format_iso8601 (to);
        g_autofree char *typical = g_strdup_printf ("%u minutes", conf_settings.typical_minutes);
        AtriumResult *res = conf_sql (
                req, error,
                "SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), joins, distinct_users, usage_seconds, estimated_seconds, "
                "peak_rooms, last_rooms FROM conference.stats($1::boolean, $2::timestamptz, "
                "$3::timestamptz, $4::interval, $5::interval)",
                5, all ? "true" : "false", f, t, g_str_equal (gran, "day") ? "1 day" : "1 hour",
                typical);
        if (!res)
                return FALSE;
        int n = conf_host->result_n_rows (res);
        /* the last row is the whole range; its last_rooms is the count open at ?from= */
        gint64 open = count (conf_host->result_value (res, n - 1, 6));
        gint64 peak = 0;
        double seconds = 0, estimated = 0;
        JsonArray *buckets = json_array_new ();
        for (int i = 0; i < n - 1; i++) {
                const char *bucket_peak = conf_host->result_value (res, i, 5);
                gint64 p = bucket_peak ? count (bucket_peak) : open;
                if (bucket_peak)
                        open = count (conf_host->result_value (res, i, 6));
                peak = MAX (peak, p);
                seconds += g_ascii_strtod (conf_host->result_value (res, i, 3), NULL);
                estimated += g_ascii_strtod (conf_host->result_value (res, i, 4), NULL);
                JsonObject *b = figures (count (conf_host->result_value (res, i, 1)),
                                         count (conf_host->result_value (res, i, 2)),
                                         conf_host->result_value (res, i, 3),
                                         conf_host->result_value (res, i, 4), p);
                json_object_set_string_member (b, "start", conf_host->result_value (res, i, 0));
                json_array_add_object_element (buckets, b);
        }
        char sec[G_ASCII_DTOSTR_BUF_SIZE], est[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_dtostr (sec, sizeof sec, seconds);
        g_ascii_dtostr (est, sizeof est, estimated);
        JsonObject *totals = figures (count (conf_host->result_value (res, n - 1, 1)),
                                      count (conf_host->result_value (res, n - 1, 2)), sec, est,
                                      peak);
        conf_host->result_free (res);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "from", f);
        json_object_set_string_member (o, "to", t);
        json_object_set_string_member (o, "granularity", gran);
        json_object_set_int_member (o, "typical_minutes", conf_settings.typical_minutes);
        json_object_set_object_member (o, "totals", totals);
        json_object_set_array_member (o, "buckets", buckets);
        conf_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_school (AtriumRequest *req, gpointer data, GError **error)
{
        return respond_stats (req, FALSE, error);
}

static gboolean
handle_installation (AtriumRequest *req, gpointer data, GError **error)
{
        if (!conf_host->request_is_operator (req))
                return conf_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "the installation's figures are for operators");
        return respond_stats (req, TRUE, error);
}

#define FIGURES                                                                                 \
        "\"joins\":{\"type\":\"integer\"},\"distinct_users\":{\"type\":\"integer\"},"           \
        "\"usage_hours\":{\"type\":\"number\"},\"estimated_usage_hours\":{\"type\":\"number\"},"\
        "\"peak_concurrent_rooms\":{\"type\":\"integer\"}"
#define STATS_ANSWER                                                                               \
        "{\"type\":\"object\",\"properties\":{\"from\":{\"type\":\"string\"},"                     \
        "\"to\":{\"type\":\"string\"},\"granularity\":{\"enum\":[\"day\",\"hour\"]},"              \
        "\"typical_minutes\":{\"type\":\"integer\"},"                                              \
        "\"totals\":{\"type\":\"object\",\"properties\":{" FIGURES "}},"                           \
        "\"buckets\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"          \
        "\"start\":{\"type\":\"string\",\"format\":\"date-time\"}," FIGURES "}}}}}"

gboolean
conf_stats_register (GError **error)
{
        const AtriumRoute routes[] = {
                /* Counting a school's visits over months is the heaviest read the plugin
                 * has, and figures a few seconds old are as good: the replica may answer. */
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/stats",
                 .flags = ATRIUM_ROUTE_REPLICA, .permission = "conference.stats",
                 .summary = "Usage figures of the school (?from=&to=&granularity=day|hour)",
                 .response_schema = STATS_ANSWER, .query_schema = stats_query,
                 .handler = handle_school},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/stats", .scope = ATRIUM_SCOPE_GLOBAL,
                 .flags = ATRIUM_ROUTE_REPLICA,
                 .summary = "Usage figures across all schools (operators; ?from=&to="
                            "&granularity=day|hour)",
                 .response_schema = STATS_ANSWER, .query_schema = stats_query,
                 .handler = handle_installation},
        };
        return atrium_add_routes (conf_host, conf_self, routes, G_N_ELEMENTS (routes), error);
}
