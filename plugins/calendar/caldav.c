/* SPDX-License-Identifier: Apache-2.0 */
/* caldav.c - the calendars over CalDAV (RFC 4791; issue #19): the "calendars" tree of the
 * host's DAV layer (core/dav/README.md), which owns the protocol, the XML and the sign-in.
 * This file maps DAV paths onto the calendar's own model, so an event written over CalDAV
 * is the event REST shows, with the same ETag (the MD5 of the stored text), rights, events
 * (calendar.event_created, ...) and stored occurrences, and the reverse:
 *
 *   ""                                the root: the caller's home only
 *   "<username>"                      the caller's calendar home (another person's: 404)
 *   "<username>/<calendar>"           every calendar the caller sees (personal, groups',
 *                                     the school's, a parent's children's groups'); the
 *                                     segment is the calendar's id, or the name MKCALENDAR gave
 *   "<username>/<calendar>/<name>"    one event or to-do (one UID): the name the client PUT
 *                                     it as, or "<id>.ics" for one made over REST
 *
 * To-dos (VTODO) are in calendar.todos (todos.c); reads go through the view
 * calendar.dav_objects, which lists events and to-dos alike.
 *
 * A PUT is parsed and validated like an import (ical-io.c) and stored as libical serialised
 * it, so the stored text, and so the ETag, may differ from what was sent: the answer then
 * carries no ETag (RFC 4791 5.3.4) and the client reads the event back. Calendars the caller
 * may not edit answer 403 to writes; current-user-privilege-set says so beforehand.
 * REPORT is in caldav-report.c; what both read (paths, sync tokens, one event as a resource)
 * in caldav-place.c. */
#include "caldav.h"

#include <string.h>

/* ---- resources ---- */

static void
emit_collection (const char *name, const char *display, AtriumDavEmitFunc emit, gpointer emit_data)
{
        static const AtriumDavProp props[] = {
                {"DAV:", "current-user-privilege-set", NULL,
                 "<D:current-user-privilege-set xmlns:D=\"DAV:\"><D:privilege><D:read/>"
                 "</D:privilege></D:current-user-privilege-set>"},
        };
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = name,
                               .collection = TRUE,       .display_name = display,
                               .props = props,           .n_props = G_N_ELEMENTS (props)};
        emit (&r, emit_data);
}

/* One calendar collection: RFC 4791 5.2 and what Apple and DAVx5 read besides. */
static void
emit_calendar (const char *segment, const char *id, const char *name, const char *color, gint64 seq,
               gboolean can_edit, AtriumDavEmitFunc emit, gpointer emit_data)
{
        g_autofree char *ctag = g_strdup_printf ("%" G_GINT64_FORMAT, seq);
        g_autofree char *token = cal_dav_sync_token (id, seq);
        const char *privileges = can_edit ? "<D:current-user-privilege-set xmlns:D=\"DAV:\">"
                                            "<D:privilege><D:read/></D:privilege>"
                                            "<D:privilege><D:write/></D:privilege>"
                                            "<D:privilege><D:write-content/></D:privilege>"
                                            "<D:privilege><D:bind/></D:privilege>"
                                            "<D:privilege><D:unbind/></D:privilege>"
                                            "</D:current-user-privilege-set>"
                                          : "<D:current-user-privilege-set xmlns:D=\"DAV:\">"
                                            "<D:privilege><D:read/></D:privilege>"
                                            "</D:current-user-privilege-set>";
        AtriumDavProp props[7] = {
                {"DAV:", "resourcetype", NULL,
                 "<D:resourcetype xmlns:D=\"DAV:\"><D:collection/>"
                 "<C:calendar xmlns:C=\"" CALDAV_NS "\"/></D:resourcetype>"},
                {CALDAV_NS, "supported-calendar-component-set", NULL,
                 "<C:supported-calendar-component-set xmlns:C=\"" CALDAV_NS "\">"
                 "<C:comp name=\"VEVENT\"/><C:comp name=\"VTODO\"/>"
                 "</C:supported-calendar-component-set>"},
                {CALDAV_NS, "supported-calendar-data", NULL,
                 "<C:supported-calendar-data xmlns:C=\"" CALDAV_NS "\">"
                 "<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>"
                 "</C:supported-calendar-data>"},
                {CALDAV_CS_NS, "getctag", ctag, NULL},
                {"DAV:", "sync-token", token, NULL},
                {"DAV:", "current-user-privilege-set", NULL, privileges},
        };
        guint n = 6;
        if (color)
                props[n++] = (AtriumDavProp) {CALDAV_APPLE_NS, "calendar-color", color, NULL};
        AtriumDavResource r = {
                ATRIUM_DAV_RESOURCE_INIT, .id = id,       .name = segment, .collection = TRUE,
                .display_name = name,     .props = props, .n_props = n};
        emit (&r, emit_data);
}

#define OBJECT_COLUMNS                                                                             \
        CALDAV_NAME_SQL ", e.id, md5(e.ical), octet_length(e.ical), "                              \
                        "extract(epoch FROM e.updated_at)::bigint, "                               \
                        "extract(epoch FROM e.created_at)::bigint"

static gint64
num (AtriumResult *res, int row, int col)
{
        return g_ascii_strtoll (cal_host->result_value (res, row, col), NULL, 10);
}

/* Every calendar the caller sees, as the home's members. */
static gboolean
list_home (AtriumRequest *req, AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        g_autofree char *groups = cal_my_groups (req, error);
        if (!groups)
                return FALSE;
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT " CAL_CALENDAR_COLUMNS ", c.sync_seq, coalesce(c.dav_name, c.id::text) "
                "FROM calendar.calendars c WHERE " CAL_VISIBLE_SQL " ORDER BY c.id",
                3, cal_host->request_user_id (req),
                cal_host->request_has_permission (req, "calendar.manage") ? "true" : "false",
                groups);
        if (!res)
                return FALSE;
        g_autoptr (GHashTable) roles =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        gboolean ok = TRUE;
        for (int i = 0; ok && i < cal_host->result_n_rows (res); i++) {
                JsonNode *view = cal_calendar_row_json (req, res, i, roles, error);
                if (!view) {
                        ok = FALSE;
                        break;
                }
                gboolean can_edit =
                        json_object_get_boolean_member (json_node_get_object (view), "can_edit");
                json_node_unref (view);
                emit_calendar (
                        cal_host->result_value (res, i, 8), cal_host->result_value (res, i, 0),
                        cal_host->result_value (res, i, 1), cal_host->result_value (res, i, 2),
                        num (res, i, 7), can_edit, emit, emit_data);
        }
        cal_host->result_free (res);
        return ok;
}

static gboolean
emit_place (AtriumRequest *req, CalDavPlace *p, AtriumDavEmitFunc emit, gpointer emit_data,
            GError **error)
{
        if (p->depth == CALDAV_ROOT) {
                emit_collection (NULL, NULL, emit, emit_data);
                return TRUE;
        }
        if (p->depth == CALDAV_HOME) {
                emit_collection (p->user, p->user, emit, emit_data);
                return TRUE;
        }
        if (p->depth == CALDAV_CALENDAR) {
                emit_calendar (p->segment, p->cal->id, p->cal->name, p->cal->color, p->sync_seq,
                               p->cal->can_edit, emit, emit_data);
                return TRUE;
        }
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " OBJECT_COLUMNS " FROM calendar.dav_objects e "
                                     "WHERE e.calendar_id = $1::uuid AND " CALDAV_NAME_SQL " = $2",
                                     2, p->cal->id, p->object);
        if (!res)
                return FALSE;
        gboolean found = cal_host->result_n_rows (res) == 1;
        if (found)
                cal_dav_emit_object (NULL, p->object, cal_host->result_value (res, 0, 1),
                                     cal_host->result_value (res, 0, 2), num (res, 0, 3),
                                     num (res, 0, 4), num (res, 0, 5), NULL, emit, emit_data);
        cal_host->result_free (res);
        return found || cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no resource %s", p->object);
}

static gboolean
dav_stat (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
          gpointer user_data, GError **error)
{
        g_auto (CalDavPlace) p = {0};
        return cal_dav_resolve (req, path, FALSE, &p, error) &&
               emit_place (req, &p, emit, emit_data, error);
}

static gboolean
dav_list (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
          gpointer user_data, GError **error)
{
        g_auto (CalDavPlace) p = {0};
        if (!cal_dav_resolve (req, path, FALSE, &p, error))
                return FALSE;
        switch (p.depth) {
        case CALDAV_ROOT:
                emit_collection (p.user, p.user, emit, emit_data);
                return TRUE;
        case CALDAV_HOME:
                return list_home (req, emit, emit_data, error);
        case CALDAV_OBJECT:
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "an event has no members");
        case CALDAV_CALENDAR:
                break;
        }
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " OBJECT_COLUMNS " FROM calendar.dav_objects e "
                                     "WHERE e.calendar_id = $1::uuid",
                                     1, p.cal->id);
        if (!res)
                return FALSE;
        for (int i = 0; i < cal_host->result_n_rows (res); i++)
                cal_dav_emit_object (NULL, cal_host->result_value (res, i, 0),
                                     cal_host->result_value (res, i, 1),
                                     cal_host->result_value (res, i, 2), num (res, i, 3),
                                     num (res, i, 4), num (res, i, 5), NULL, emit, emit_data);
        cal_host->result_free (res);
        return TRUE;
}

static gboolean
dav_get (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (CalDavPlace) p = {0};
        if (!cal_dav_resolve (req, path, FALSE, &p, error))
                return FALSE;
        if (p.depth != CALDAV_OBJECT)
                return cal_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "a collection");
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT e.ical, md5(e.ical) FROM calendar.dav_objects e "
                                     "WHERE e.calendar_id = $1::uuid AND " CALDAV_NAME_SQL " = $2",
                                     2, p.cal->id, p.object);
        if (!res)
                return FALSE;
        if (cal_host->result_n_rows (res) != 1) {
                cal_host->result_free (res);
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s", p.object);
        }
        g_autofree char *etag = g_strdup_printf ("\"%s\"", cal_host->result_value (res, 0, 1));
        g_autoptr (GBytes) body = g_bytes_new (cal_host->result_value (res, 0, 0),
                                               strlen (cal_host->result_value (res, 0, 0)));
        cal_host->result_free (res);
        cal_host->response_header (req, "ETag", etag);
        const char *inm = cal_host->request_header (req, "If-None-Match");
        if (inm && cal_etag_listed (inm, etag)) {
                cal_host->respond_bytes (req, 304, NULL, NULL);
                return TRUE;
        }
        cal_host->respond_bytes (req, 200, "text/calendar; charset=utf-8", body);
        return TRUE;
}

/* ---- writing ---- */

/* The one series of a PUT body: one UID per resource (RFC 4791 4.1). */
static CalImportItem *
parse_put (const char *text, GError **error)
{
        guint ignored = 0;
        g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GPtrArray) items =
                cal_import_parse (text, CAL_MAX_IMPORT_EVENTS, &ignored, warnings, error);
        if (!items)
                return NULL;
        if (items->len == 0) {
                cal_fail (error, ignored ? ATRIUM_ERROR_FORBIDDEN : ATRIUM_ERROR_INVALID,
                          ignored ? "a calendar stores VEVENTs and VTODOs only "
                                    "(supported-calendar-component-set)"
                                  : "the body holds no VEVENT");
                return NULL;
        }
        if (items->len > 1) {
                cal_fail (error, ATRIUM_ERROR_INVALID,
                          "one resource holds one event (one UID); this holds %u", items->len);
                return NULL;
        }
        CalImportItem *it = g_ptr_array_steal_index (items, 0);
        if (it->error) {
                cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE, "the event is invalid: %s", it->error);
                cal_import_item_free (it);
                return NULL;
        }
        return it;
}

static gboolean
dav_put (AtriumRequest *req, const char *path, gboolean *out_created, AtriumDavEmitFunc emit,
         gpointer emit_data, gpointer user_data, GError **error)
{
        /* The body first: reading it ends the transaction of the checks before (ABI 1.2), so
         * the row lock below must come after. A body with a VTODO is a to-do (todos.c). */
        g_autofree char *text = NULL;
        gboolean is_todo = FALSE, is_event = FALSE;
        if (!cal_read_ics_body (req, &text, error) ||
            !cal_ics_scan (text, &is_todo, &is_event, error))
                return FALSE;
        g_autoptr (CalTodo) todo = is_todo ? cal_todo_parse (text, error) : NULL;
        g_autoptr (CalImportItem) it = is_todo ? NULL : parse_put (text, error);
        g_auto (CalDavPlace) p = {0};
        if ((!it && !todo) || !cal_dav_resolve (req, path, TRUE, &p, error))
                return FALSE;
        if (p.depth != CALDAV_OBJECT)
                return cal_fail (error,
                                 p.depth == CALDAV_CALENDAR ? ATRIUM_ERROR_METHOD_NOT_ALLOWED
                                                            : ATRIUM_ERROR_CONFLICT,
                                 "PUT an event or to-do into a calendar: <calendar>/<name>.ics");
        if (todo)
                return cal_dav_put_todo (req, &p, todo, out_created, emit, emit_data, error);
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT e.id, e.uid, md5(e.ical) FROM calendar.events e "
                                     "WHERE e.calendar_id = $1::uuid AND " CALDAV_NAME_SQL " = $2 "
                                     "FOR UPDATE",
                                     2, p.cal->id, p.object);
        if (!res)
                return FALSE;
        gboolean exists = cal_host->result_n_rows (res) == 1;
        g_autofree char *id = exists ? g_strdup (cal_host->result_value (res, 0, 0)) : NULL;
        g_autofree char *uid = exists ? g_strdup (cal_host->result_value (res, 0, 1)) : NULL;
        g_autofree char *etag =
                exists ? g_strdup_printf ("\"%s\"", cal_host->result_value (res, 0, 2)) : NULL;
        cal_host->result_free (res);
        if (!cal_dav_preconditions (req, etag, error))
                return FALSE;
        if (exists && !g_str_equal (uid, it->uid))
                return cal_fail (error, ATRIUM_ERROR_CONFLICT,
                                 "the event at %s has UID %s; a resource keeps its UID", p.object,
                                 uid);
        g_autofree char *summary = cal_series_summary (it->series);
        g_autofree char *ical = cal_series_serialize (it->series);
        g_autofree char *start = g_strdup_printf ("%" G_GINT64_FORMAT, it->start);
        g_autofree char *end = it->has_end ? g_strdup_printf ("%" G_GINT64_FORMAT, it->end) : NULL;
        const char *me = cal_host->request_user_id (req);
        if (exists) {
                res = cal_sql (req, error,
                               "UPDATE calendar.events SET summary = $2, ical = $3, "
                               "range_start = to_timestamp($4::bigint), "
                               "range_end = to_timestamp($5::bigint), updated_by = $6::uuid, "
                               "updated_at = now() WHERE id = $1::uuid",
                               6, id, summary, ical, start, end, me);
        } else {
                res = cal_sql (req, error,
                               "INSERT INTO calendar.events (school_id, calendar_id, uid, summary, "
                               "ical, range_start, range_end, created_by, updated_by, dav_name) "
                               "SELECT core.current_school(), $1::uuid, $2, $3, $4, "
                               "to_timestamp($5::bigint), to_timestamp($6::bigint), $7::uuid, "
                               "$7::uuid, $8 WHERE NOT EXISTS (SELECT 1 FROM calendar.events x "
                               "WHERE x.calendar_id = $1::uuid AND x.uid = $2) RETURNING id",
                               8, p.cal->id, it->uid, summary, ical, start, end, me, p.object);
                if (res && cal_host->result_n_rows (res) == 0) {
                        cal_host->result_free (res);
                        /* RFC 4791 5.3.2.1 no-uid-conflict */
                        return cal_fail (error, ATRIUM_ERROR_CONFLICT,
                                         "another resource of this calendar has UID %s", it->uid);
                }
                if (res)
                        id = g_strdup (cal_host->result_value (res, 0, 0));
        }
        if (!res)
                return FALSE;
        cal_host->result_free (res);
        if (!cal_occurrences_store (req, id, ical, it->start, it->end, it->has_end, error) ||
            !cal_publish (cal_host->request_tx (req),
                          exists ? "calendar.event_updated" : "calendar.event_created", p.cal->id,
                          id, it->uid, NULL, error))
                return FALSE;
        *out_created = !exists;
        /* No ETag: what is stored is libical's serialisation, not the bytes sent. */
        cal_dav_emit_object (NULL, p.object, id, NULL, 0, 0, 0, NULL, emit, emit_data);
        return TRUE;
}

static gboolean
dav_remove (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (CalDavPlace) p = {0};
        if (!cal_dav_resolve (req, path, TRUE, &p, error))
                return FALSE;
        if (p.depth == CALDAV_CALENDAR) {
                /* Only one's own personal calendars go this way; group and school calendars
                 * are deleted where they are managed (REST). */
                if (!g_str_equal (p.cal->owner_type, "user"))
                        return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                         "only personal calendars are deleted over CalDAV");
                return atrium_done (cal_host, cal_sql (req, error,
                                                       "DELETE FROM calendar.calendars "
                                                       "WHERE id = $1::uuid",
                                                       1, p.cal->id)) &&
                       cal_publish (cal_host->request_tx (req), "calendar.calendar_deleted",
                                    p.cal->id, NULL, NULL, NULL, error);
        }
        if (p.depth != CALDAV_OBJECT)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN, "the calendar home stays");
        gboolean todo = FALSE;
        if (!cal_dav_remove_todo (req, &p, &todo, error))
                return FALSE;
        if (todo)
                return TRUE;
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT e.id, e.uid, md5(e.ical) FROM calendar.events e "
                                     "WHERE e.calendar_id = $1::uuid AND " CALDAV_NAME_SQL " = $2 "
                                     "FOR UPDATE",
                                     2, p.cal->id, p.object);
        if (!res)
                return FALSE;
        if (cal_host->result_n_rows (res) != 1) {
                cal_host->result_free (res);
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no event %s", p.object);
        }
        g_autofree char *id = g_strdup (cal_host->result_value (res, 0, 0));
        g_autofree char *uid = g_strdup (cal_host->result_value (res, 0, 1));
        g_autofree char *etag = g_strdup_printf ("\"%s\"", cal_host->result_value (res, 0, 2));
        cal_host->result_free (res);
        return cal_dav_preconditions (req, etag, error) &&
               atrium_done (cal_host,
                            cal_sql (req, error, "DELETE FROM calendar.events WHERE id = $1::uuid",
                                     1, id)) &&
               cal_publish (cal_host->request_tx (req), "calendar.event_deleted", p.cal->id, id,
                            uid, NULL, error);
}

/* MKCALENDAR <username>/<name>: a personal calendar, named in the path as the client chose. */
/* Apple's calendar-color, "#RRGGBB" or "#RRGGBBAA", as the calendar keeps it ("#rrggbb");
 * NULL for anything else. */
static char *
calendar_color (const char *color)
{
        gsize n = color ? strlen (color) : 0;
        if ((n != 7 && n != 9) || color[0] != '#' ||
            strspn (color + 1, "0123456789abcdefABCDEF") != n - 1)
                return NULL;
        return g_ascii_strdown (color, 7);
}

static gboolean
dav_mkcalendar (AtriumRequest *req, const char *path, const char *display_name, const char *color,
                gpointer user_data, GError **error)
{
        g_autofree char *user = cal_dav_my_username (req, error);
        if (!user)
                return FALSE;
        g_auto (GStrv) segs = g_strsplit (path, "/", -1);
        if (g_strv_length (segs) != 2 || !g_str_equal (segs[0], user))
                return cal_fail (
                        error,
                        g_strv_length (segs) > 2 ? ATRIUM_ERROR_FORBIDDEN : ATRIUM_ERROR_CONFLICT,
                        "make calendars in your calendar home: /calendars/%s/<name>/", user);
        const char *seg = segs[1];
        gsize n = strlen (seg);
        gboolean ok = n >= 1 && n <= 200 && g_ascii_isalnum (seg[0]);
        for (const char *c = seg; ok && *c; c++)
                ok = g_ascii_isalnum (*c) || strchr ("._@+-", *c);
        if (!ok)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                 "a calendar's name is letters, digits and ._@+- (at most 200)");
        g_auto (CalDavPlace) existing = {0};
        g_autoptr (GError) none = NULL;
        if (cal_dav_resolve (req, path, FALSE, &existing, &none))
                return cal_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "%s exists", seg);
        if (!g_error_matches (none, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND)) {
                g_propagate_error (error, g_steal_pointer (&none));
                return FALSE;
        }
        /* Apple sends #RRGGBBAA; the calendar keeps #rrggbb. */
        g_autofree char *lower = calendar_color (color);
        g_autofree char *name = g_strndup (display_name && *display_name ? display_name : seg, 200);
        return atrium_done (cal_host,
                            cal_sql (req, error,
                                     "INSERT INTO calendar.calendars (school_id, name, color, "
                                     "owner_type, owner_id, created_by, dav_name) "
                                     "VALUES (core.current_school(), $1, $2, 'user', $3::uuid, "
                                     "$3::uuid, $4)",
                                     4, name, lower, cal_host->request_user_id (req), seg));
}

/* PROPPATCH of a calendar's displayname or Apple calendar-color: what REST's PATCH changes,
 * for those who may change the calendar. */
static gboolean
dav_set_property (AtriumRequest *req, const char *path, const char *ns, const char *name,
                  const char *value, gpointer user_data, GError **error)
{
        gboolean is_name = g_str_equal (ns, "DAV:") && g_str_equal (name, "displayname");
        gboolean is_color =
                g_str_equal (ns, CALDAV_APPLE_NS) && g_str_equal (name, "calendar-color");
        g_auto (CalDavPlace) p = {0};
        if (!is_name && !is_color)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN, "%s is protected", name);
        if (!cal_dav_resolve (req, path, TRUE, &p, error))
                return FALSE;
        if (p.depth != CALDAV_CALENDAR)
                return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                 "only a calendar's name and colour can be changed");
        g_autofree char *color = NULL;
        if (is_name && (!value || !*value || g_utf8_strlen (value, -1) > 200 ||
                        !g_utf8_validate (value, -1, NULL)))
                return cal_fail (error, ATRIUM_ERROR_INVALID,
                                 "a calendar's name is 1 to 200 characters");
        if (is_color && value && !(color = calendar_color (value)))
                return cal_fail (error, ATRIUM_ERROR_INVALID, "a colour is #RRGGBB or #RRGGBBAA");
        return atrium_done (cal_host,
                            is_name ? cal_sql (req, error,
                                               "UPDATE calendar.calendars SET name = $2, "
                                               "updated_at = now() WHERE id = $1::uuid",
                                               2, p.cal->id, value)
                                    : cal_sql (req, error,
                                               "UPDATE calendar.calendars SET color = $2, "
                                               "updated_at = now() WHERE id = $1::uuid",
                                               2, p.cal->id, color));
}

gboolean
cal_register_caldav (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (cal_host, add_dav_tree))
                return TRUE; /* an older host: no CalDAV, the rest works */
        const AtriumDavTree tree = {
                ATRIUM_DAV_TREE_INIT,
                .mount = "calendars",
                .stat = dav_stat,
                .list = dav_list,
                .get = dav_get,
                .put = dav_put,
                .remove = dav_remove,
                .dav_classes = "calendar-access",
                .report = cal_caldav_report,
                .mkcalendar = dav_mkcalendar,
                .set_property = dav_set_property,
        };
        return cal_host->add_dav_tree (self, &tree, error);
}
