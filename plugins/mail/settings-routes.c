/* SPDX-License-Identifier: Apache-2.0 */
/* settings-routes.c - /settings (the school's mail domain and limits) and /aliases (extra
 * addresses that deliver to a user or a group). Reading the settings needs mail.read; changing
 * them and the aliases needs mail.manage. */
#include "mail-private.h"

static gboolean
settings_json (AtriumRequest *req, guint status, GError **error)
{
        return atrium_respond_row (mail_host, req, status, "the school has no mail settings yet",
                                   mail_sql (req, error,
                                             "SELECT domain, max_message_bytes, "
                                             "mailbox_quota_bytes, updated_at FROM mail.settings",
                                             0),
                                   error);
}

static gboolean
handle_get_settings (AtriumRequest *req, gpointer data, GError **error)
{
        return settings_json (req, 200, error);
}

static gboolean
handle_put_settings (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        g_autofree char *domain =
                g_ascii_strdown (json_object_get_string_member (body, "domain"), -1);
        g_autofree char *max =
                json_object_has_member (body, "max_message_bytes")
                        ? g_strdup_printf ("%" G_GINT64_FORMAT,
                                           json_object_get_int_member (body, "max_message_bytes"))
                        : NULL;
        g_autofree char *quota =
                json_object_has_member (body, "mailbox_quota_bytes")
                        ? g_strdup_printf ("%" G_GINT64_FORMAT,
                                           json_object_get_int_member (body, "mailbox_quota_bytes"))
                        : NULL;
        /* Another school's domain: the (cross-school) unique index refuses it: 409. */
        if (!atrium_done (
                    mail_host,
                    mail_sql (
                            req, error,
                            "INSERT INTO mail.settings (school_id, domain, max_message_bytes, "
                            "mailbox_quota_bytes) VALUES (core.current_school(), $1, "
                            "coalesce($2::bigint, 26214400), coalesce($3::bigint, 1073741824)) "
                            "ON CONFLICT (school_id) DO UPDATE SET domain = EXCLUDED.domain, "
                            "max_message_bytes = coalesce($2::bigint, mail.settings.max_message_bytes), "
                            "mailbox_quota_bytes = coalesce($3::bigint, "
                            "mail.settings.mailbox_quota_bytes), updated_at = now()",
                            3, domain, max, quota)))
                return FALSE;
        return settings_json (req, 200, error);
}

static gboolean
handle_list_aliases (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT local_part, target_type, target_id, created_at "
                                      "FROM mail.aliases ORDER BY local_part",
                                      0);
        if (!res)
                return FALSE;
        mail_host->respond_page (req, mail_host->result_rows_json (res), NULL);
        mail_host->result_free (res);
        return TRUE;
}

static gboolean
handle_put_alias (AtriumRequest *req, gpointer data, GError **error)
{
        const char *local = mail_host->request_param (req, "local_part");
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        const char *type = json_object_get_string_member (body, "target_type");
        const char *id = json_object_get_string_member (body, "target_id");
        AtriumTx *tx = mail_host->request_tx (req);
        if (!g_regex_match_simple ("^[a-z0-9][a-z0-9._-]{0,63}\\z", local, 0, 0))
                return mail_fail (error, ATRIUM_ERROR_INVALID,
                                  "an alias is 1-64 of a-z 0-9 . _ - (lower case)");
        if (!g_uuid_string_is_valid (id))
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no %s %s", type, id);
        gboolean exists = FALSE;
        if (g_str_equal (type, "group")) {
                if (!mail_groups->group_exists (tx, id, &exists, error))
                        return FALSE;
        } else {
                AtriumResult *u = mail_sql (req, error,
                                            "SELECT 1 FROM core.users WHERE id = $1::uuid", 1, id);
                if (!u)
                        return FALSE;
                exists = mail_host->result_n_rows (u) == 1;
                mail_host->result_free (u);
        }
        if (!exists)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no %s %s", type, id);
        /* A username or group slug already owns that local part. */
        g_autofree char *slug_group = NULL;
        if (!mail_groups->group_by_slug (tx, local, &slug_group, error))
                return FALSE;
        AtriumResult *user =
                mail_sql (req, error, "SELECT 1 FROM core.users WHERE username = $1", 1, local);
        if (!user)
                return FALSE;
        gboolean taken = mail_host->result_n_rows (user) > 0 || slug_group;
        mail_host->result_free (user);
        if (taken)
                return mail_fail (error, ATRIUM_ERROR_CONFLICT,
                                  "%s is already a user's or a group's address", local);
        return atrium_respond_row (
                mail_host, req, 200, "no such alias",
                mail_sql (
                        req, error,
                        "INSERT INTO mail.aliases (school_id, local_part, target_type, target_id) VALUES "
                        "(core.current_school(), $1, $2, $3::uuid) ON CONFLICT (school_id, local_part) "
                        "DO UPDATE SET target_type = EXCLUDED.target_type, target_id = "
                        "EXCLUDED.target_id RETURNING local_part, target_type, target_id, created_at",
                        3, local, type, id),
                error);
}

static gboolean
handle_delete_alias (AtriumRequest *req, gpointer data, GError **error)
{
        const char *local = mail_host->request_param (req, "local_part");
        AtriumResult *res = mail_sql (
                req, error, "DELETE FROM mail.aliases WHERE local_part = $1 RETURNING 1", 1, local);
        if (!res)
                return FALSE;
        int n = mail_host->result_n_rows (res);
        mail_host->result_free (res);
        if (!n)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no alias %s", local);
        mail_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define SETTINGS_ANSWER                                                                            \
        "{\"type\":\"object\",\"properties\":{\"domain\":{\"type\":\"string\"},"                   \
        "\"max_message_bytes\":{\"type\":\"integer\"},\"mailbox_quota_bytes\":{\"type\":"          \
        "[\"integer\",\"null\"]},\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}"
#define ALIAS_PROPS                                                                                \
        "\"local_part\":{\"type\":\"string\"},\"target_type\":{\"type\":\"string\",\"enum\":"      \
        "[\"user\",\"group\"]},\"target_id\":{\"type\":\"string\",\"format\":\"uuid\"},"           \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"}"
#define SETTINGS_BODY                                                                              \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"domain\"],"           \
        "\"properties\":{\"domain\":{\"type\":\"string\",\"maxLength\":253,\"pattern\":"           \
        "\"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"       \
        "[A-Za-z0-9])?)+$\"},\"max_message_bytes\":{\"type\":\"integer\",\"minimum\":1024,"        \
        "\"maximum\":1073741824},\"mailbox_quota_bytes\":{\"type\":\"integer\","                   \
        "\"minimum\":1024,\"maximum\":1099511627776}}}"
#define ALIAS_BODY                                                                                 \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"target_type\","       \
        "\"target_id\"],\"properties\":{\"target_type\":{\"enum\":[\"user\",\"group\"]},"          \
        "\"target_id\":{\"type\":\"string\"}}}"

gboolean
mail_register_settings_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/settings", .permission = "mail.read",
                 .summary = "The school's mail domain and limits",
                 .response_schema = SETTINGS_ANSWER, .handler = handle_get_settings},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/settings",
                 .permission = "mail.manage",
                 .summary = "Set the school's mail domain ({\"domain\", \"max_message_bytes\"?, "
                            "\"mailbox_quota_bytes\"?})",
                 .request_schema = SETTINGS_BODY, .response_schema = SETTINGS_ANSWER,
                 .handler = handle_put_settings},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/aliases",
                 .permission = "mail.manage", .summary = "The school's address aliases",
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":"
                         "\"array\",\"items\":{\"type\":\"object\",\"properties\":{" ALIAS_PROPS
                         "}}},\"next_cursor\":{\"type\":\"null\"}}}",
                 .handler = handle_list_aliases},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/aliases/{local_part}",
                 .permission = "mail.manage",
                 .summary = "Make <local_part>@domain deliver to a user or a group",
                 .request_schema = ALIAS_BODY,
                 .response_schema = "{\"type\":\"object\",\"properties\":{" ALIAS_PROPS "}}",
                 .handler = handle_put_alias},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/aliases/{local_part}",
                 .permission = "mail.manage", .summary = "Remove an alias", .success_status = 204,
                 .handler = handle_delete_alias},
        };
        return atrium_add_routes (mail_host, self, routes, G_N_ELEMENTS (routes), error);
}
