/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - what the calendar plugin's route files share, and the reactions and GDPR export
 * plugin.c registers: lookups, permission checks, events. plugin.c is the wiring; no file here
 * calls it. */
#include "calendar-private.h"

gboolean
cal_publish (AtriumTx *tx, const char *event, const char *calendar_id, const char *event_id,
             const char *uid, const char *recurrence_id, GError **error)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "calendar_id", calendar_id);
        if (event_id)
                json_object_set_string_member (o, "event_id", event_id);
        if (uid)
                json_object_set_string_member (o, "uid", uid);
        if (recurrence_id)
                json_object_set_string_member (o, "recurrence_id", recurrence_id);
        return cal_host->publish (tx, event, cal_object_node (o), error);
}

gboolean
cal_request_window (AtriumRequest *req, gint64 *out_from, gint64 *out_to, GError **error)
{
        const char *names[2] = {"from", "to"};
        gint64 t[2];
        for (int i = 0; i < 2; i++) {
                const char *v = cal_host->request_query (req, names[i]);
                if (!v)
                        return cal_fail (error, ATRIUM_ERROR_INVALID,
                                         "?from= and ?to= are required (RFC 3339 date-times or "
                                         "dates): the window to expand recurring events in");
                gboolean ok = strlen (v) == 10 ? cal_parse_date (v, &t[i], error)
                                               : cal_parse_instant (v, &t[i], error);
                if (!ok) {
                        g_prefix_error (error, "%s: ", names[i]);
                        return FALSE;
                }
        }
        if (t[0] >= t[1])
                return cal_fail (error, ATRIUM_ERROR_INVALID, "from must be before to");
        *out_from = t[0];
        *out_to = t[1];
        return TRUE;
}

/* ---- who may see and change a calendar ---- */

void
cal_calendar_free (CalCalendar *c)
{
        if (!c)
                return;
        g_free (c->id);
        g_free (c->name);
        g_free (c->owner_type);
        g_free (c->owner_id);
        g_free (c->color);
        if (c->json)
                json_node_unref (c->json);
        g_free (c);
}

gboolean
cal_may_edit (AtriumRequest *req, const char *owner_type, const char *owner_id,
              AtriumGroupRole role)
{
        if (g_str_equal (owner_type, "user"))
                return owner_id && g_strcmp0 (owner_id, cal_host->request_user_id (req)) == 0;
        if (cal_host->request_has_permission (req, "calendar.manage"))
                return TRUE;
        if (g_str_equal (owner_type, "group"))
                return role == ATRIUM_GROUP_ROLE_OWNER ||
                       (role == ATRIUM_GROUP_ROLE_MEMBER &&
                        cal_host->request_has_permission (req, "calendar.write"));
        return FALSE;
}

/* @via_child: the group's calendar is seen as a parent of a member (read-only). */
static gboolean
may_see (AtriumRequest *req, const char *owner_type, const char *owner_id, AtriumGroupRole role,
         gboolean via_child)
{
        if (g_str_equal (owner_type, "school"))
                return TRUE;
        if (g_str_equal (owner_type, "user"))
                return owner_id && g_strcmp0 (owner_id, cal_host->request_user_id (req)) == 0;
        return role != ATRIUM_GROUP_ROLE_NONE || via_child ||
               cal_host->request_has_permission (req, "calendar.manage");
}

/* The caller's children: the students core.parent_links links them to as a parent (in the
 * request's school: the table's row-level security). */
static GStrv
my_children (AtriumRequest *req, GError **error)
{
        const char *me = cal_host->request_user_id (req);
        g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
        if (me) {
                AtriumResult *res = cal_sql (req, error,
                                             "SELECT student_id FROM core.parent_links "
                                             "WHERE parent_id = $1::uuid ORDER BY student_id",
                                             1, me);
                if (!res)
                        return NULL;
                for (int i = 0; i < cal_host->result_n_rows (res); i++)
                        g_strv_builder_add (b, cal_host->result_value (res, i, 0));
                cal_host->result_free (res);
        }
        return g_strv_builder_end (b);
}

/* Whether one of the caller's children belongs to @group_id (member or owner). */
static gboolean
child_in_group (AtriumRequest *req, const char *group_id, gboolean *out, GError **error)
{
        g_auto (GStrv) children = my_children (req, error);
        if (!children)
                return FALSE;
        gboolean found = FALSE;
        for (char **c = children; !found && *c; c++) {
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!cal_groups->is_member (cal_host->request_tx (req), group_id, *c, &role, error))
                        return FALSE;
                found = role != ATRIUM_GROUP_ROLE_NONE;
        }
        *out = found;
        return TRUE;
}

/* The API view of a calendar row ("c.id, c.name, c.color, c.owner_type, c.owner_id, ..."). */
static JsonNode *
calendar_json (AtriumResult *res, int row, gboolean can_edit)
{
        JsonNode *n = cal_host->result_row_json (res, row);
        JsonObject *o = json_node_get_object (n);
        JsonObject *owner = json_object_new ();
        json_object_set_string_member (owner, "type",
                                       json_object_get_string_member (o, "owner_type"));
        const char *owner_id = json_object_get_string_member_with_default (o, "owner_id", NULL);
        if (owner_id)
                json_object_set_string_member (owner, "id", owner_id);
        json_object_remove_member (o, "owner_type");
        json_object_remove_member (o, "owner_id");
        json_object_remove_member (o, "sort_key");
        json_object_remove_member (o, "sync_seq"); /* CalDAV's lookup (caldav-place.c) */
        json_object_remove_member (o, "sync_floor");
        json_object_set_object_member (o, "owner", owner);
        json_object_set_boolean_member (o, "can_edit", can_edit);
        return n;
}

static gboolean
caller_role (AtriumRequest *req, const char *group_id, AtriumGroupRole *out, GError **error)
{
        *out = ATRIUM_GROUP_ROLE_NONE;
        const char *me = cal_host->request_user_id (req);
        if (!me || !group_id)
                return TRUE;
        return cal_groups->is_member (cal_host->request_tx (req), group_id, me, out, error);
}

static CalCalendar *from_row (AtriumRequest *req, AtriumResult *res, int row, gboolean edit,
                              gboolean view, GError **error);

static CalCalendar *
calendar_open (AtriumRequest *req, const char *id, gboolean edit, gboolean view, GError **error)
{
        if (!id || !g_uuid_string_is_valid (id)) {
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no calendar %s", id ? id : "");
                return NULL;
        }
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT " CAL_CALENDAR_COLUMNS " FROM calendar.calendars c "
                                     "WHERE c.id = $1::uuid",
                                     1, id);
        if (!res)
                return NULL;
        CalCalendar *c = cal_host->result_n_rows (res) == 1
                                 ? from_row (req, res, 0, edit, view, error)
                                 : NULL;
        if (cal_host->result_n_rows (res) == 0)
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no calendar %s", id);
        cal_host->result_free (res);
        return c;
}

CalCalendar *
cal_calendar_open (AtriumRequest *req, const char *id, gboolean edit, GError **error)
{
        return calendar_open (req, id, edit, FALSE, error);
}

CalCalendar *
cal_calendar_view (AtriumRequest *req, const char *id, GError **error)
{
        return calendar_open (req, id, FALSE, TRUE, error);
}

CalCalendar *
cal_calendar_from_row (AtriumRequest *req, AtriumResult *res, int row, gboolean edit,
                       GError **error)
{
        return from_row (req, res, row, edit, FALSE, error);
}

/* The calendar of @res's @row if the caller may see it (and, with @edit, change it); with
 * @view its API view too (a JSON tree only the calendar routes answer with). */
static CalCalendar *
from_row (AtriumRequest *req, AtriumResult *res, int row, gboolean edit, gboolean view,
          GError **error)
{
        g_autoptr (CalCalendar) c = g_new0 (CalCalendar, 1);
        c->id = g_strdup (cal_host->result_value (res, row, 0));
        c->name = g_strdup (cal_host->result_value (res, row, 1));
        c->owner_type = g_strdup (cal_host->result_value (res, row, 3));
        c->owner_id = g_strdup (cal_host->result_value (res, row, 4));
        c->color = g_strdup (cal_host->result_value (res, row, 2));
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (g_str_equal (c->owner_type, "group") && !caller_role (req, c->owner_id, &role, error))
                return NULL;
        /* A parent sees the calendars of their children's groups, read-only: can_edit below
         * only counts the caller's own membership. */
        gboolean via_child = FALSE;
        if (g_str_equal (c->owner_type, "group") && role == ATRIUM_GROUP_ROLE_NONE &&
            !cal_host->request_has_permission (req, "calendar.manage") &&
            !child_in_group (req, c->owner_id, &via_child, error))
                return NULL;
        if (!may_see (req, c->owner_type, c->owner_id, role, via_child)) {
                cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no calendar %s", c->id);
                return NULL;
        }
        c->can_edit = cal_may_edit (req, c->owner_type, c->owner_id, role);
        if (view)
                c->json = calendar_json (res, row, c->can_edit);
        if (edit && !c->can_edit) {
                cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                          g_str_equal (c->owner_type, "school")
                                  ? "changing a school calendar needs calendar.manage"
                                  : "changing a group's calendar needs to own the group, or to "
                                    "be a member holding calendar.write");
                return NULL;
        }
        return g_steal_pointer (&c);
}

char *
cal_my_groups (AtriumRequest *req, GError **error)
{
        const char *me = cal_host->request_user_id (req);
        if (!me)
                return g_strdup ("{}");
        AtriumTx *tx = cal_host->request_tx (req);
        g_auto (GStrv) groups = cal_groups->groups_of (tx, me, error);
        g_auto (GStrv) children = groups ? my_children (req, error) : NULL;
        if (!children)
                return NULL;
        g_autoptr (GString) out = g_string_new ("{");
        g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
        for (char **g = groups; *g; g++)
                if (g_hash_table_add (seen, *g))
                        g_string_append_printf (out, "%s%s", out->len > 1 ? "," : "", *g);
        /* ... and, for a parent, their children's groups (seen read-only). */
        g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
        for (char **c = children; *c; c++) {
                GStrv theirs = cal_groups->groups_of (tx, *c, error);
                if (!theirs)
                        return NULL;
                g_ptr_array_add (keep, theirs);
                for (char **g = theirs; *g; g++)
                        if (g_hash_table_add (seen, *g))
                                g_string_append_printf (out, "%s%s", out->len > 1 ? "," : "", *g);
        }
        g_string_append_c (out, '}');
        return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
cal_visible_ids (AtriumRequest *req, GError **error)
{
        g_autofree char *groups = cal_my_groups (req, error);
        if (!groups)
                return NULL;
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT coalesce(array_agg(c.id), '{}')::text FROM calendar.calendars c WHERE " CAL_VISIBLE_SQL,
                3, cal_host->request_user_id (req),
                cal_host->request_has_permission (req, "calendar.manage") ? "true" : "false",
                groups);
        if (!res)
                return NULL;
        char *ids = g_strdup (cal_host->result_value (res, 0, 0));
        cal_host->result_free (res);
        return ids;
}

JsonNode *
cal_calendar_row_json (AtriumRequest *req, AtriumResult *res, int row, GHashTable *roles,
                       GError **error)
{
        const char *type = cal_host->result_value (res, row, 3);
        const char *owner = cal_host->result_value (res, row, 4);
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (g_str_equal (type, "group")) {
                gpointer cached;
                if (g_hash_table_lookup_extended (roles, owner, NULL, &cached)) {
                        role = GPOINTER_TO_INT (cached);
                } else {
                        if (!caller_role (req, owner, &role, error))
                                return NULL;
                        g_hash_table_insert (roles, g_strdup (owner), GINT_TO_POINTER (role));
                }
        }
        return calendar_json (res, row, cal_may_edit (req, type, owner, role));
}

/* ---- reactions to other modules ---- */

static gboolean
publish_deleted_calendars (AtriumTx *tx, AtriumResult *res, GError **error)
{
        gboolean ok = TRUE;
        for (int i = 0; ok && i < cal_host->result_n_rows (res); i++)
                ok = cal_publish (tx, "calendar.calendar_deleted",
                                  cal_host->result_value (res, i, 0), NULL, NULL, NULL, error);
        cal_host->result_free (res);
        return ok;
}

/* A person's personal calendars (with their events and feeds) go; what they did in other
 * calendars stays, without their name on it; their subscription URLs stop working. */
gboolean
cal_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                     GError **error)
{
        const char *user = atrium_payload_uuid (payload, "user_id");
        if (!user)
                return TRUE;
        AtriumResult *gone = cal_tx_sql (
                tx, error,
                "DELETE FROM calendar.calendars WHERE owner_type = 'user' AND owner_id = $1::uuid "
                "RETURNING id",
                1, user);
        return gone && publish_deleted_calendars (tx, gone, error) &&
               atrium_done (cal_host, cal_tx_sql (tx, error,
                                                  "DELETE FROM calendar.subscriptions "
                                                  "WHERE created_by = $1::uuid",
                                                  1, user)) &&
               atrium_done (cal_host,
                            cal_tx_sql (tx, error,
                                        "UPDATE calendar.events SET "
                                        "created_by = CASE WHEN created_by = $1::uuid THEN NULL "
                                        "ELSE created_by END, "
                                        "updated_by = CASE WHEN updated_by = $1::uuid THEN NULL "
                                        "ELSE updated_by END "
                                        "WHERE created_by = $1::uuid OR updated_by = $1::uuid",
                                        1, user)) &&
               atrium_done (cal_host,
                            cal_tx_sql (tx, error,
                                        "UPDATE calendar.todos SET "
                                        "created_by = CASE WHEN created_by = $1::uuid THEN NULL "
                                        "ELSE created_by END, "
                                        "updated_by = CASE WHEN updated_by = $1::uuid THEN NULL "
                                        "ELSE updated_by END "
                                        "WHERE created_by = $1::uuid OR updated_by = $1::uuid",
                                        1, user)) &&
               atrium_done (cal_host, cal_tx_sql (tx, error,
                                                  "UPDATE calendar.calendars SET created_by = NULL "
                                                  "WHERE created_by = $1::uuid",
                                                  1, user));
}

gboolean
cal_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                      GError **error)
{
        const char *group = atrium_payload_uuid (payload, "group_id");
        if (!group)
                return TRUE;
        AtriumResult *gone = cal_tx_sql (
                tx, error,
                "DELETE FROM calendar.calendars WHERE owner_type = 'group' AND owner_id = $1::uuid "
                "RETURNING id",
                1, group);
        return gone && publish_deleted_calendars (tx, gone, error);
}

/* ---- GDPR ---- */

gboolean
cal_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                 GError **error)
{
        return atrium_export_rows (
                       cal_host, tx, out, "calendars",
                       "SELECT c.id, c.name, c.color, c.created_at, c.updated_at, "
                       "coalesce((SELECT json_agg(json_build_object('id', e.id, 'uid', e.uid, "
                       "'summary', e.summary, 'created_at', e.created_at, 'updated_at', "
                       "e.updated_at, 'ical', e.ical) ORDER BY e.range_start, e.id) "
                       "FROM calendar.events e WHERE e.calendar_id = c.id), '[]'::json) "
                       "AS events, "
                       "coalesce((SELECT json_agg(json_build_object('id', t.id, 'uid', t.uid, "
                       "'summary', t.summary, 'created_at', t.created_at, 'updated_at', "
                       "t.updated_at, 'ical', t.ical) ORDER BY t.created_at, t.id) "
                       "FROM calendar.todos t WHERE t.calendar_id = c.id), '[]'::json) "
                       "AS todos FROM calendar.calendars c "
                       "WHERE c.owner_type = 'user' AND c.owner_id = $1::uuid ORDER BY c.name",
                       user_id, error) &&
               atrium_export_rows (
                       cal_host, tx, out, "events_written",
                       "SELECT e.id, e.calendar_id, e.uid, e.summary, "
                       "e.created_by = $1::uuid AS created, e.updated_by = $1::uuid AS "
                       "last_changed, e.created_at, e.updated_at FROM calendar.events e "
                       "JOIN calendar.calendars c ON c.school_id = e.school_id AND "
                       "c.id = e.calendar_id WHERE (e.created_by = $1::uuid OR "
                       "e.updated_by = $1::uuid) AND NOT (c.owner_type = 'user' AND "
                       "c.owner_id = $1::uuid) ORDER BY e.created_at, e.id",
                       user_id, error) &&
               atrium_export_rows (cal_host, tx, out, "todos_written",
                                   "SELECT t.id, t.calendar_id, t.uid, t.summary, "
                                   "t.created_by = $1::uuid AS created, t.updated_by = $1::uuid AS "
                                   "last_changed, t.created_at, t.updated_at FROM calendar.todos t "
                                   "JOIN calendar.calendars c ON c.school_id = t.school_id AND "
                                   "c.id = t.calendar_id WHERE (t.created_by = $1::uuid OR "
                                   "t.updated_by = $1::uuid) AND NOT (c.owner_type = 'user' AND "
                                   "c.owner_id = $1::uuid) ORDER BY t.created_at, t.id",
                                   user_id, error) &&
               atrium_export_rows (cal_host, tx, out, "subscriptions",
                                   "SELECT id, calendar_id, label, created_at, last_used_at FROM "
                                   "calendar.subscriptions WHERE created_by = $1::uuid "
                                   "ORDER BY created_at",
                                   user_id, error);
}
