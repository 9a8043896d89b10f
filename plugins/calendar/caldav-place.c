/* SPDX-License-Identifier: Apache-2.0 */
/* caldav-place.c - what the CalDAV tree (caldav.c) and its REPORTs (caldav-report.c) share: a
 * DAV path resolved to the caller's calendar home, a calendar or an event (CalDavPlace), the
 * sync token of a calendar, and one event emitted as a DAV resource. */
#include "caldav.h"

#include <string.h>

void
cal_dav_place_clear (CalDavPlace *p)
{
        g_clear_pointer (&p->user, g_free);
        g_clear_pointer (&p->segment, g_free);
        g_clear_pointer (&p->cal, cal_calendar_free);
        g_clear_pointer (&p->object, g_free);
}

char *
cal_dav_my_username (AtriumRequest *req, GError **error)
{
        const char *me = cal_host->request_user_id (req);
        if (!me || !cal_host->request_has_permission (req, "calendar.read")) {
                cal_fail (error, ATRIUM_ERROR_FORBIDDEN, "calendars need the calendar.read right");
                return NULL;
        }
        /* On DAV requests the host's identity check named the caller already (ABI 1.5). */
        const char *known = ATRIUM_HOST_HAS (cal_host, request_username)
                                    ? cal_host->request_username (req)
                                    : NULL;
        if (known)
                return g_strdup (known);
        AtriumResult *res =
                cal_sql (req, error, "SELECT username FROM core.users WHERE id = $1::uuid", 1, me);
        if (!res)
                return NULL;
        char *name = cal_host->result_n_rows (res) == 1
                             ? g_strdup (cal_host->result_value (res, 0, 0))
                             : NULL;
        cal_host->result_free (res);
        if (!name)
                cal_fail (error, ATRIUM_ERROR_FORBIDDEN, "no such user");
        return name;
}

gboolean
cal_dav_resolve (AtriumRequest *req, const char *path, gboolean edit, CalDavPlace *out,
                 GError **error)
{
        g_auto (GStrv) segs = *path ? g_strsplit (path, "/", -1) : g_new0 (char *, 1);
        guint n = g_strv_length (segs);
        out->depth = (CalDavDepth) MIN (n, 3);
        /* The calendar is asked for before the caller is (the identity check's settings name
         * them in SQL): on a read both travel in one round trip, and nothing of the row is
         * used unless the checks below pass. A MKCALENDAR name is looked for among the
         * caller's own calendars only; any other calendar is named by its id. */
        AtriumResult *res = NULL;
        if (n >= 2 && n <= 3) {
                /* The id as a uuid parameter, NULL when the name is none: `c.id::text = $1`
                 * could use no index, and the OR then read every calendar of the school
                 * (3-4 ms a request with 5,000 of them, analyzed or not). */
                const char *as_id = g_uuid_string_is_valid (segs[1]) ? segs[1] : NULL;
                res = cal_sql (req, error,
                               "SELECT " CAL_CALENDAR_COLUMNS ", c.sync_seq, c.sync_floor "
                               "FROM calendar.calendars c "
                               "WHERE (c.dav_name = $1 AND c.owner_type = 'user' AND c.owner_id = "
                               "nullif(current_setting('atrium.user_id', true), '')::uuid) "
                               "OR (c.dav_name IS NULL AND c.id = $2::uuid)",
                               2, segs[1], as_id);
                if (!res)
                        return FALSE;
        }
        out->user = cal_dav_my_username (req, error);
        gboolean ok = out->user != NULL;
        if (ok && (n > 3 || (n >= 1 && !g_str_equal (segs[0], out->user)))) {
                ok = cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such calendar home");
        } else if (ok && res && cal_host->result_n_rows (res) == 1) {
                out->sync_seq = g_ascii_strtoll (cal_host->result_value (res, 0, 7), NULL, 10);
                out->sync_floor = g_ascii_strtoll (cal_host->result_value (res, 0, 8), NULL, 10);
                out->cal = cal_calendar_from_row (req, res, 0, edit, error);
                ok = out->cal != NULL;
        } else if (ok && res) {
                ok = cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no calendar %s", segs[1]);
        }
        if (res)
                cal_host->result_free (res);
        if (!ok)
                return FALSE;
        if (n < 2)
                return TRUE;
        out->segment = g_strdup (segs[1]);
        if (n == 3)
                out->object = g_strdup (segs[2]);
        return TRUE;
}

char *
cal_dav_sync_token (const char *calendar_id, gint64 seq)
{
        return g_strdup_printf ("urn:atrium:sync:%s:%" G_GINT64_FORMAT, calendar_id, seq);
}

void
cal_dav_emit_object (const char *path_prefix, const char *name, const char *id,
                     const char *etag_md5, gint64 length, gint64 modified, gint64 created,
                     const char *data, AtriumDavEmitFunc emit, gpointer emit_data)
{
        g_autofree char *etag = etag_md5 ? g_strdup_printf ("\"%s\"", etag_md5) : NULL;
        g_autofree char *full = path_prefix ? g_strconcat (path_prefix, name, NULL) : NULL;
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT,
                               .id = id,
                               .name = full ? full : name,
                               .length = length,
                               .etag = etag,
                               .content_type = "text/calendar; charset=utf-8",
                               .modified = modified,
                               .created = created,
                               .data = data,
                               .gone = etag_md5 == NULL};
        emit (&r, emit_data);
}
