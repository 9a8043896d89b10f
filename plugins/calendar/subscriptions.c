/* SPDX-License-Identifier: Apache-2.0 */
/* subscriptions.c - calendars out as .ics: the signed-in export and the secret feed URLs that
 * phone and desktop calendar apps poll without signing in.
 *
 *   GET    /calendars/{id}/export.ics                   the calendar as text/calendar
 *   POST   /calendars/{id}/subscriptions                a new feed URL (token shown once)
 *   GET    /calendars/{id}/subscriptions                the caller's feeds (editors: all)
 *   DELETE /calendars/{id}/subscriptions/{sub_id}       revoke one
 *   GET    /api/v1/calendar/ical/{token}.ics            the feed itself (public)
 *
 * A token is 32 bytes from libgcrypt, base64url; only its SHA-256 is stored, so a database
 * leak reveals no working URL. The feed route has no school and no user, so row-level security
 * shows it nothing until calendar.enter_feed() (SECURITY DEFINER, schema/0001_calendar.sql)
 * has resolved the token's hash and entered its school. A feed lives only as long as its
 * creator may still see the calendar as a member would: a person who leaves the group, or is
 * deleted, stops receiving it (checked on every fetch, so no event has to be caught). */
#include "calendar-private.h"

#include <string.h>

#include "atrium/crypto.h"

#define TOKEN_BYTES 32
#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

gboolean
cal_respond_ics (AtriumRequest *req, const char *calendar_id, const char *name, GError **error)
{
        AtriumResult *res = cal_sql (req, error,
                                     "SELECT ical FROM calendar.events "
                                     "WHERE calendar_id = $1::uuid ORDER BY range_start, id",
                                     1, calendar_id);
        if (!res)
                return FALSE;
        g_autoptr (CalExport) x = cal_export_new (name);
        gboolean ok = TRUE;
        for (int i = 0; ok && i < cal_host->result_n_rows (res); i++)
                ok = cal_export_add (x, cal_host->result_value (res, i, 0), error);
        cal_host->result_free (res);
        if (!ok)
                return FALSE;
        g_autoptr (GBytes) body = cal_export_finish (x);
        cal_host->respond_bytes (req, 200, "text/calendar; charset=utf-8", body);
        return TRUE;
}

static gboolean
export_calendar (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        return c && cal_respond_ics (req, c->id, c->name, error);
}

static char *
token_hash (const char *token)
{
        return atrium_digest_hex (GCRY_MD_SHA256, token, strlen (token));
}

static gboolean
host_ok (const char *host)
{
        return host && *host && strlen (host) < 256 &&
               strspn (host, ALNUM ".-:[]") == strlen (host);
}

/* The feed's full URL: [calendar] public_url if configured, else from the request's
 * Host (and X-Forwarded-Proto, as nginx sets it), else just the path. */
static char *
feed_url (AtriumRequest *req, const char *token)
{
        g_autofree char *path = g_strdup_printf ("/api/v1/calendar/ical/%s.ics", token);
        g_autofree char *base = cal_host->config_get (cal_self, "public_url");
        if (base && *base) {
                while (g_str_has_suffix (base, "/"))
                        base[strlen (base) - 1] = '\0';
                return g_strconcat (base, path, NULL);
        }
        const char *host = cal_host->request_header (req, "Host");
        const char *proto = cal_host->request_header (req, "X-Forwarded-Proto");
        if (!host_ok (host))
                return g_steal_pointer (&path);
        return g_strconcat (g_strcmp0 (proto, "https") == 0 ? "https" : "http", "://", host, path,
                            NULL);
}

static const char subscription_schema[] = "{\"type\":\"object\",\"properties\":{"
                                          "\"label\":{\"type\":\"string\",\"maxLength\":200}}}";

#define SUBSCRIPTION_COLUMNS                                                                    \
        "s.id, s.calendar_id, s.label, s.created_by, s.created_at, s.last_used_at"
#define SUBSCRIPTION_PROPS                                                                            \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"                                           \
        "\"calendar_id\":{\"type\":\"string\",\"format\":\"uuid\"},"                                  \
        "\"label\":{\"type\":[\"string\",\"null\"]},\"created_by\":{\"type\":[\"string\",\"null\"]}," \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                              \
        "\"last_used_at\":{\"type\":[\"string\",\"null\"]}"

static gboolean
create_subscription (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        if (!c)
                return FALSE;
        const char *me = cal_host->request_user_id (req);
        if (!me)
                return cal_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                 "subscriptions belong to a person; operators have none");
        if (g_str_equal (c->owner_type, "group")) {
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!cal_groups->is_member (cal_host->request_tx (req), c->owner_id, me, &role,
                                            error))
                        return FALSE;
                if (role == ATRIUM_GROUP_ROLE_NONE)
                        return cal_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                         "only the group's members may subscribe to its calendar");
        }
        JsonNode *body = cal_host->request_json (req);
        const char *label = body ? json_object_get_string_member_with_default (
                                           json_node_get_object (body), "label", "")
                                 : "";
        g_autofree char *token = atrium_random_token (TOKEN_BYTES);
        g_autofree char *hash = token_hash (token);
        AtriumResult *res = cal_sql (
                req, error,
                "INSERT INTO calendar.subscriptions AS s (school_id, calendar_id, token_hash, "
                "label, created_by) VALUES (core.current_school(), $1::uuid, $2, $3, $4::uuid) "
                "RETURNING " SUBSCRIPTION_COLUMNS,
                4, c->id, hash, label, me);
        if (!res)
                return FALSE;
        JsonNode *n = cal_host->result_row_json (res, 0);
        cal_host->result_free (res);
        g_autofree char *url = feed_url (req, token);
        json_object_set_string_member (json_node_get_object (n), "token", token);
        json_object_set_string_member (json_node_get_object (n), "url", url);
        cal_host->respond_json (req, 201, n);
        return TRUE;
}

static gboolean
list_subscriptions (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        g_auto (AtriumPage) page = {0};
        if (!c || !atrium_page_begin (cal_host, req, "u", &page, error))
                return FALSE;
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT " SUBSCRIPTION_COLUMNS " FROM calendar.subscriptions s "
                "WHERE s.calendar_id = $1::uuid AND ($2::boolean OR s.created_by = $3::uuid) "
                "AND s.id > $4::uuid ORDER BY s.id LIMIT (SELECT $5::int)",
                5, c->id, c->can_edit ? "true" : "false", cal_host->request_user_id (req),
                atrium_page_after (&page, 0, ATRIUM_UUID_MIN), page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (cal_host, req, &page, res, NULL, 1, 0);
        return TRUE;
}

static gboolean
delete_subscription (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (CalCalendar) c =
                cal_calendar_open (req, cal_host->request_param (req, "id"), FALSE, error);
        if (!c)
                return FALSE;
        const char *sub = cal_host->request_param (req, "sub_id");
        if (!g_uuid_string_is_valid (sub))
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no subscription %s", sub);
        AtriumResult *res = cal_sql (
                req, error,
                "DELETE FROM calendar.subscriptions WHERE id = $1::uuid AND calendar_id = $2::uuid "
                "AND ($3::boolean OR created_by = $4::uuid)",
                4, sub, c->id, c->can_edit ? "true" : "false", cal_host->request_user_id (req));
        if (!res)
                return FALSE;
        guint64 n = cal_host->result_affected (res);
        cal_host->result_free (res);
        if (n == 0)
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no subscription %s of yours", sub);
        cal_host->respond_json (req, 204, NULL);
        return TRUE;
}

/* Whether the feed's creator would still see the calendar as a member. */
static gboolean
creator_sees (AtriumRequest *req, const char *owner_type, const char *owner_id,
              const char *creator, gboolean *out, GError **error)
{
        *out = FALSE;
        if (g_str_equal (owner_type, "school")) {
                AtriumResult *res = cal_sql (req, error,
                                             "SELECT 1 FROM core.users WHERE id = $1::uuid", 1,
                                             creator);
                if (!res)
                        return FALSE;
                *out = cal_host->result_n_rows (res) == 1;
                cal_host->result_free (res);
                return TRUE;
        }
        if (g_str_equal (owner_type, "user")) {
                *out = g_strcmp0 (owner_id, creator) == 0;
                return TRUE;
        }
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!cal_groups->is_member (cal_host->request_tx (req), owner_id, creator, &role, error))
                return FALSE;
        *out = role != ATRIUM_GROUP_ROLE_NONE;
        return TRUE;
}

static gboolean
feed (AtriumRequest *req, gpointer data, GError **error)
{
        const char *token = cal_host->request_param (req, "token");
        if (strlen (token) != 43 ||
            strspn (token, ALNUM "-_") != 43)
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such calendar feed");
        g_autofree char *hash = token_hash (token);
        AtriumResult *res = cal_sql (
                req, error,
                "SELECT f.calendar_id, f.created_by, c.name, c.owner_type, c.owner_id "
                "FROM calendar.enter_feed($1) f "
                "JOIN calendar.calendars c ON c.school_id = f.school_id AND c.id = f.calendar_id",
                1, hash);
        if (!res)
                return FALSE;
        if (cal_host->result_n_rows (res) == 0) {
                cal_host->result_free (res);
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such calendar feed");
        }
        g_autofree char *calendar_id = g_strdup (cal_host->result_value (res, 0, 0));
        g_autofree char *creator = g_strdup (cal_host->result_value (res, 0, 1));
        g_autofree char *name = g_strdup (cal_host->result_value (res, 0, 2));
        g_autofree char *owner_type = g_strdup (cal_host->result_value (res, 0, 3));
        g_autofree char *owner_id = g_strdup (cal_host->result_value (res, 0, 4));
        cal_host->result_free (res);
        gboolean sees = FALSE;
        if (!creator_sees (req, owner_type, owner_id, creator, &sees, error))
                return FALSE;
        if (!sees)
                return cal_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such calendar feed");
        cal_host->response_header (req, "Cache-Control", "private, max-age=300");
        return cal_respond_ics (req, calendar_id, name, error);
}

gboolean
cal_register_subscription_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}.ics",
                 .permission = "calendar.read",
                 .summary = "The calendar as an RFC 5545 .ics file (text/calendar)",
                 .response_type = "text/calendar", .handler = export_calendar},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/export.ics",
                 .permission = "calendar.read",
                 .summary = "The same export under a path without a suffix parameter",
                 .response_type = "text/calendar", .handler = export_calendar},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/calendars/{id}/subscriptions",
                 .permission = "calendar.read",
                 .summary = "A secret feed URL for calendar apps (the token is shown only here)",
                 .request_schema = subscription_schema,
                 .response_schema = "{\"type\":\"object\",\"properties\":{" SUBSCRIPTION_PROPS
                                    ",\"token\":{\"type\":\"string\"},\"url\":{\"type\":"
                                    "\"string\",\"description\":\"the feed, for the calendar "
                                    "app; shown only here\"}}}",
                 .success_status = 201, .handler = create_subscription},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/calendars/{id}/subscriptions",
                 .permission = "calendar.read",
                 .summary = "Feeds of this calendar: the caller's own, or all for its editors "
                            "(paginated)",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .response_schema = "{\"type\":\"object\",\"properties\":{" SUBSCRIPTION_PROPS "}}",
                 .handler = list_subscriptions},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/calendars/{id}/subscriptions/{sub_id}", .permission = "calendar.read",
                 .summary = "Revoke a feed URL (its creator or the calendar's editors)",
                 .success_status = 204, .handler = delete_subscription},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/ical/{token}.ics",
                 .scope = ATRIUM_SCOPE_GLOBAL, .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "A calendar feed for phone calendar apps, no sign-in",
                 .response_type = "text/calendar", .handler = feed},
        };
        return atrium_add_routes (cal_host, self, routes, G_N_ELEMENTS (routes), error);
}
