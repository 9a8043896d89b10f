/* SPDX-License-Identifier: Apache-2.0 */
/* import.c - POST /calendars/{id}/import: an .ics file into a calendar.
 *
 * The rule, all or nothing: the file must be UTF-8 iCalendar, at most CAL_MAX_IMPORT_BYTES
 * (read as a stream, so the host's smaller max_body does not cut a 5,000-event file) and
 * CAL_MAX_IMPORT_EVENTS events, and every series in it must be valid (ical-io.c). If any
 * is not, the answer is 422 naming the first few bad ones, and nothing is imported; a client
 * that wants the rest fixes or drops those and sends the file again. A valid file is written in
 * one statement: series are matched by UID, so importing the same file twice changes nothing
 * ("unchanged"), and an edited file updates the series it still contains ("updated"). Series
 * that are in the calendar but not in the file are left alone: an import adds and updates, it
 * does not synchronise. Components other than VEVENT (VTODO, VJOURNAL, ...) are counted as
 * "ignored"; what was repaired (an event without UID gets one derived from its content) or
 * skipped (an unreadable line outside any event) is listed in "warnings". */
#include "calendar-private.h"

#include <string.h>

#define MAX_LISTED_ERRORS 5

gboolean
cal_read_ics_body (AtriumRequest *req, char **out, GError **error)
{
        const char *ct = cal_host->request_header (req, "Content-Type");
        if (ct) {
                g_autofree char *base = g_ascii_strdown (ct, strcspn (ct, ";"));
                g_strstrip (base);
                if (!g_str_equal (base, "text/calendar") && !g_str_equal (base, "text/plain") &&
                    !g_str_equal (base, "application/octet-stream"))
                        return cal_fail (error, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                                         "send the file as Content-Type: text/calendar");
        }
        const char *cl = cal_host->request_header (req, "Content-Length");
        if (cl && g_ascii_strtoull (cl, NULL, 10) > CAL_MAX_IMPORT_BYTES)
                return cal_fail (error, ATRIUM_ERROR_TOO_LARGE,
                                 "an import is at most %d bytes", CAL_MAX_IMPORT_BYTES);
        /* The first read ends the transaction of the checks so far (ABI 1.2 streaming). */
        GInputStream *in = cal_host->request_body_stream (req);
        g_autoptr (GByteArray) buf = g_byte_array_new ();
        guint8 chunk[16384];
        gssize n;
        while ((n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error)) > 0) {
                if (buf->len + (gsize) n > CAL_MAX_IMPORT_BYTES)
                        return cal_fail (error, ATRIUM_ERROR_TOO_LARGE,
                                         "an import is at most %d bytes", CAL_MAX_IMPORT_BYTES);
                g_byte_array_append (buf, chunk, (guint) n);
        }
        if (n < 0) {
                g_autoptr (GError) io = g_steal_pointer (error);
                return cal_fail (error, ATRIUM_ERROR_INVALID, "reading the file: %s",
                                 io->message);
        }
        gsize len = buf->len;
        const char *data = (const char *) buf->data;
        if (len == 0)
                return cal_fail (error, ATRIUM_ERROR_INVALID, "send the .ics file as the body");
        if (!g_utf8_validate_len (data, len, NULL))
                return cal_fail (error, ATRIUM_ERROR_INVALID,
                                 "the file is not UTF-8 (RFC 5545 calendars are UTF-8)");
        *out = g_strndup (data, len);
        return TRUE;
}

/* "2 of 30 events are invalid ...: UID a: why; UID b: why" */
static gboolean
refuse (GPtrArray *items, GError **error)
{
        g_autoptr (GString) msg = g_string_new (NULL);
        guint bad = 0;
        for (guint i = 0; i < items->len; i++) {
                CalImportItem *it = g_ptr_array_index (items, i);
                if (!it->error)
                        continue;
                if (bad++ < MAX_LISTED_ERRORS) {
                        g_string_append (msg, bad > 1 ? "; " : ": ");
                        if (it->uid)
                                g_string_append_printf (msg, "UID %.100s", it->uid);
                        else
                                g_string_append_printf (msg, "event %u", i + 1);
                        if (it->summary)
                                g_string_append_printf (msg, " (\"%.60s\")", it->summary);
                        g_string_append_printf (msg, ": %s", it->error);
                }
        }
        if (bad > MAX_LISTED_ERRORS)
                g_string_append_printf (msg, "; and %u more", bad - MAX_LISTED_ERRORS);
        return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                         "%u of %u events are invalid, nothing was imported%s", bad, items->len,
                         msg->str);
}

static gboolean
import_ics (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), TRUE, error);
        g_autofree char *text = NULL;
        if (!c || !cal_read_ics_body (req, &text, error))
                return FALSE;
        guint ignored = 0;
        g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GPtrArray) items = cal_import_parse (text, CAL_MAX_IMPORT_EVENTS, &ignored,
                                                        warnings, error);
        if (!items)
                return FALSE;
        g_clear_pointer (&text, g_free);
        for (guint i = 0; i < items->len; i++)
                if (((CalImportItem *) g_ptr_array_index (items, i))->error)
                        return refuse (items, error);

        /* One statement for the whole file: the series as a JSON recordset. What each series
         * stores in calendar.occurrences is built now, while the series are at hand, and
         * written for the rows the statement created or changed. */
        g_autoptr (GPtrArray) materials =
                g_ptr_array_new_with_free_func ((GDestroyNotify) cal_material_free);
        JsonArray *input = json_array_new ();
        for (guint i = 0; i < items->len; i++) {
                CalImportItem *it = g_ptr_array_index (items, i);
                JsonObject *o = json_object_new ();
                json_object_set_int_member (o, "ord", i);
                json_object_set_string_member (o, "uid", it->uid);
                g_autofree char *summary = cal_series_summary (it->series);
                json_object_set_string_member (o, "summary", summary);
                g_autofree char *ical = cal_series_serialize (it->series);
                json_object_set_string_member (o, "ical", ical);
                json_object_set_int_member (o, "range_start", it->start);
                if (it->has_end)
                        json_object_set_int_member (o, "range_end", it->end);
                else
                        json_object_set_null_member (o, "range_end");
                json_array_add_object_element (input, o);
                CalMaterial *m = cal_material_new (ical, it->start, it->end, it->has_end, error);
                if (!m) {
                        json_array_unref (input);
                        return FALSE;
                }
                g_ptr_array_add (materials, m);
        }
        JsonNode *input_node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (input_node, input);
        g_autofree char *input_text = json_to_string (input_node, FALSE);
        json_node_unref (input_node);
        g_ptr_array_set_size (items, 0); /* the series are no longer needed */

        AtriumResult *res = cal_sql (
                req, error,
                "WITH input AS (SELECT * FROM json_to_recordset($2::json) AS x(ord int, uid text, "
                "  summary text, ical text, range_start bigint, range_end bigint)), "
                "old AS (SELECT e.uid, e.id FROM calendar.events e JOIN input i ON i.uid = e.uid "
                "  WHERE e.calendar_id = $1::uuid), "
                "up AS (INSERT INTO calendar.events AS e (school_id, calendar_id, uid, summary, "
                "  ical, range_start, range_end, created_by, updated_by) "
                "  SELECT core.current_school(), $1::uuid, i.uid, i.summary, i.ical, "
                "  to_timestamp(i.range_start), to_timestamp(i.range_end), $3::uuid, $3::uuid "
                "  FROM input i ON CONFLICT (school_id, calendar_id, uid) DO UPDATE SET "
                "  summary = EXCLUDED.summary, ical = EXCLUDED.ical, "
                "  range_start = EXCLUDED.range_start, range_end = EXCLUDED.range_end, "
                "  updated_by = EXCLUDED.updated_by, updated_at = now() "
                "  WHERE e.ical IS DISTINCT FROM EXCLUDED.ical RETURNING e.id, e.uid) "
                "SELECT i.uid, coalesce(up.id, old.id) AS id, i.summary, "
                "CASE WHEN old.id IS NULL THEN 'created' WHEN up.id IS NULL THEN 'unchanged' "
                "ELSE 'updated' END AS result "
                "FROM input i LEFT JOIN up ON up.uid = i.uid LEFT JOIN old ON old.uid = i.uid "
                "ORDER BY i.ord",
                3, c->id, input_text, cal_host->request_user_id (req));
        if (!res)
                return FALSE;
        int rows = cal_host->result_n_rows (res);
        gint64 counts[3] = {0, 0, 0};
        static const char *const kinds[3] = {"created", "updated", "unchanged"};
        AtriumTx *tx = cal_host->request_tx (req);
        gboolean ok = TRUE;
        g_autoptr (JsonArray) stored = json_array_new ();
        for (int i = 0; ok && i < rows; i++) {
                const char *result = cal_host->result_value (res, i, 3);
                if (!g_str_equal (result, "unchanged") && (guint) i < materials->len)
                        cal_material_add_json (g_ptr_array_index (materials, i),
                                               cal_host->result_value (res, i, 1), TRUE, stored);
                for (int k = 0; k < 3; k++)
                        if (g_str_equal (result, kinds[k]))
                                counts[k]++;
                if (!g_str_equal (result, "unchanged"))
                        ok = cal_publish (tx,
                                          g_str_equal (result, "created")
                                                  ? "calendar.event_created"
                                                  : "calendar.event_updated",
                                          c->id, cal_host->result_value (res, i, 1),
                                          cal_host->result_value (res, i, 0), NULL, error);
        }
        JsonObject *out = json_object_new ();
        for (int k = 0; k < 3; k++)
                json_object_set_int_member (out, kinds[k], counts[k]);
        json_object_set_int_member (out, "ignored", ignored);
        JsonArray *w = json_array_new ();
        for (guint i = 0; i < warnings->len; i++)
                json_array_add_string_element (w, g_ptr_array_index (warnings, i));
        json_object_set_array_member (out, "warnings", w);
        json_object_set_member (out, "events", cal_host->result_rows_json (res));
        cal_host->result_free (res);
        ok = ok && cal_material_store (req, stored, TRUE, error);
        if (!ok) {
                json_object_unref (out);
                return FALSE;
        }
        cal_host->respond_json (req, 200, cal_object_node (out));
        return TRUE;
}

gboolean
cal_register_import_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute route = {
                ATRIUM_ROUTE_INIT,
                .method = "POST",
                .path = "/calendars/{id}/import",
                .flags = ATRIUM_ROUTE_RAW_BODY | ATRIUM_ROUTE_STREAM_BODY,
                .permission = "calendar.read",
                .summary = "Import an .ics file (raw text/calendar body): adds and updates "
                           "series by UID, all or nothing",
                .response_schema =
                        "{\"type\":\"object\",\"properties\":{\"created\":{\"type\":\"integer\"},"
                        "\"updated\":{\"type\":\"integer\"},\"unchanged\":{\"type\":\"integer\"},"
                        "\"ignored\":{\"type\":\"integer\",\"description\":\"components other "
                        "than events\"},\"warnings\":{\"type\":\"array\",\"items\":{\"type\":"
                        "\"string\"}},\"events\":{\"type\":\"array\",\"items\":{\"type\":"
                        "\"object\",\"properties\":{\"uid\":{\"type\":\"string\"},\"id\":"
                        "{\"type\":\"string\",\"format\":\"uuid\"},\"summary\":{\"type\":"
                        "[\"string\",\"null\"]},\"result\":{\"type\":\"string\",\"enum\":"
                        "[\"created\",\"updated\",\"unchanged\"]}}}}}}",
                .handler = import_ics,
        };
        return atrium_add_routes (cal_host, self, &route, 1, error);
}
