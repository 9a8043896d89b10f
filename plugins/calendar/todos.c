/* SPDX-License-Identifier: Apache-2.0 */
/* todos.c - to-dos (VTODO) in calendar.todos (schema/0006_todos.sql): what the CalDAV tree
 * (caldav.c) and the REST routes (todo-routes.c) share, so a to-do written one way is the
 * to-do the other shows, with the same ETag (the MD5 of the stored text) and rights (the
 * calendar's: cal_calendar_open). CalDAV's PUT and DELETE of a to-do resource are here too;
 * reading goes through the calendar.dav_objects view, which lists events and to-dos alike.
 *
 * A to-do is not an event: it has no occurrences, so the window views, the event routes and
 * the feeds (which read calendar.events) never see it. */
#include "caldav.h"

#include <string.h>

static char *
time_arg (gboolean has, gint64 t)
{
        return has ? g_strdup_printf ("%" G_GINT64_FORMAT, t) : NULL;
}

char *
cal_todo_store (AtriumRequest *req, const char *calendar_id, const char *id, const char *dav_name,
                const CalTodo *t, GError **error)
{
        g_autofree char *start = time_arg (t->has_start, t->start);
        g_autofree char *due = time_arg (t->has_due, t->due);
        g_autofree char *done = time_arg (t->has_completed, t->completed);
        g_autofree char *priority = g_strdup_printf ("%d", t->priority);
        g_autofree char *percent = t->percent >= 0 ? g_strdup_printf ("%d", t->percent) : NULL;
        const char *me = cal_host->request_user_id (req);
        AtriumResult *res;
        /* $1 the row (UPDATE) or calendar (INSERT); the columns $2..$13 as CalTodo has them. */
        if (id)
                res = cal_sql (req, error,
                               "UPDATE calendar.todos SET summary = $2, description = $3, "
                               "status = $4, priority = $5::smallint, "
                               "percent_complete = $6::smallint, "
                               "starts_at = to_timestamp($7::bigint), "
                               "due_at = to_timestamp($8::bigint), is_date = $9::boolean, "
                               "completed_at = to_timestamp($10::bigint), "
                               "recurring = $11::boolean, ical = $12, updated_by = $13::uuid, "
                               "due_is_duration = $14::boolean, "
                               "updated_at = now() WHERE id = $1::uuid RETURNING id",
                               14, id, t->summary, t->description, t->status, priority, percent,
                               start, due, t->is_date ? "true" : "false", done,
                               t->recurring ? "true" : "false", t->ical, me,
                               t->due_is_duration ? "true" : "false");
        else
                res = cal_sql (req, error,
                               "INSERT INTO calendar.todos (school_id, calendar_id, summary, "
                               "description, status, priority, percent_complete, starts_at, "
                               "due_at, is_date, completed_at, recurring, ical, created_by, "
                               "updated_by, uid, dav_name, due_is_duration) "
                               "SELECT core.current_school(), $1::uuid, $2, $3, $4, "
                               "$5::smallint, $6::smallint, to_timestamp($7::bigint), "
                               "to_timestamp($8::bigint), $9::boolean, "
                               "to_timestamp($10::bigint), $11::boolean, $12, $13::uuid, "
                               "$13::uuid, $14, $15, $16::boolean WHERE NOT EXISTS (SELECT 1 "
                               "FROM calendar.todos x WHERE x.calendar_id = $1::uuid "
                               "AND x.uid = $14) RETURNING id",
                               16, calendar_id, t->summary, t->description, t->status, priority,
                               percent, start, due, t->is_date ? "true" : "false", done,
                               t->recurring ? "true" : "false", t->ical, me, t->uid, dav_name,
                               t->due_is_duration ? "true" : "false");
        if (!res)
                return NULL;
        char *out = cal_host->result_n_rows (res) == 1
                            ? g_strdup (cal_host->result_value (res, 0, 0))
                            : NULL;
        cal_host->result_free (res);
        if (!out) /* RFC 4791 5.3.2.1 no-uid-conflict */
                cal_fail (error, ATRIUM_ERROR_CONFLICT,
                          "another resource of this calendar has UID %s", t->uid);
        return out;
}

gboolean
cal_todo_publish (AtriumRequest *req, const char *event, const char *calendar_id,
                  const char *todo_id, const char *uid, GError **error)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "calendar_id", calendar_id);
        json_object_set_string_member (o, "todo_id", todo_id);
        json_object_set_string_member (o, "uid", uid);
        return cal_host->publish (cal_host->request_tx (req), event, cal_object_node (o), error);
}

gboolean
cal_dav_preconditions (AtriumRequest *req, const char *etag, GError **error)
{
        const char *im = cal_host->request_header (req, "If-Match");
        const char *inm = cal_host->request_header (req, "If-None-Match");
        if (im && (!etag || !cal_etag_listed (im, etag)))
                return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                 "If-Match: the resource has changed or is gone (ETag now %s)",
                                 etag ? etag : "none");
        if (inm && etag && cal_etag_listed (inm, etag))
                return cal_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                 "If-None-Match: the resource exists");
        return TRUE;
}

/* The to-do at resource @name of the calendar, locked: its id, UID and ETag. */
static gboolean
lock_by_name (AtriumRequest *req, const char *calendar_id, const char *name, char **out_id,
              char **out_uid, char **out_etag, GError **error)
{
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT t.id, t.uid, md5(t.ical) FROM calendar.todos t "
                                     "WHERE t.calendar_id = $1::uuid "
                                     "AND coalesce(t.dav_name, t.id::text || '.ics') = $2 "
                                     "FOR UPDATE",
                                     2, calendar_id, name);
        if (!res)
                return FALSE;
        if (cal_host->result_n_rows (res) == 1) {
                *out_id = g_strdup (cal_host->result_value (res, 0, 0));
                *out_uid = g_strdup (cal_host->result_value (res, 0, 1));
                *out_etag = g_strdup_printf ("\"%s\"", cal_host->result_value (res, 0, 2));
        }
        cal_host->result_free (res);
        return TRUE;
}

gboolean
cal_dav_put_todo (AtriumRequest *req, const CalDavPlace *p, const CalTodo *t, gboolean *out_created,
                  AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        g_autofree char *id = NULL, *uid = NULL, *etag = NULL;
        if (!lock_by_name (req, p->cal->id, p->object, &id, &uid, &etag, error) ||
            !cal_dav_preconditions (req, etag, error))
                return FALSE;
        if (id && !g_str_equal (uid, t->uid))
                return cal_fail (error, ATRIUM_ERROR_CONFLICT,
                                 "the to-do at %s has UID %s; a resource keeps its UID", p->object,
                                 uid);
        gboolean exists = id != NULL;
        g_autofree char *stored = cal_todo_store (req, p->cal->id, id, p->object, t, error);
        if (!stored ||
            !cal_todo_publish (req, exists ? "calendar.todo_updated" : "calendar.todo_created",
                               p->cal->id, stored, t->uid, error))
                return FALSE;
        *out_created = !exists;
        /* No ETag: what is stored is libical's serialisation, not the bytes sent. */
        cal_dav_emit_object (NULL, p->object, stored, NULL, 0, 0, 0, NULL, emit, emit_data);
        return TRUE;
}

gboolean
cal_dav_remove_todo (AtriumRequest *req, const CalDavPlace *p, gboolean *out_found, GError **error)
{
        g_autofree char *id = NULL, *uid = NULL, *etag = NULL;
        if (!lock_by_name (req, p->cal->id, p->object, &id, &uid, &etag, error))
                return FALSE;
        *out_found = id != NULL;
        if (!id)
                return TRUE;
        return cal_dav_preconditions (req, etag, error) &&
               atrium_done (cal_host,
                            cal_sql (req, error, "DELETE FROM calendar.todos WHERE id = $1::uuid",
                                     1, id)) &&
               cal_todo_publish (req, "calendar.todo_deleted", p->cal->id, id, uid, error);
}
