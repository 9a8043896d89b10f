/* SPDX-License-Identifier: Apache-2.0 */
/* quotas.c - how much is used and allowed.
 *
 * GET /usage: the caller's home (whose figure includes the mailbox, when the mail module
 * reports one: files.h, set_mail_usage) and every group they belong to. Limits (files.manage):
 * PUT|DELETE /quotas/defaults/{user|group} sets the school's default for homes or group
 * trees; PUT|DELETE /quotas/users/{id} and /quotas/groups/{id} override it for one space;
 * GET /quotas lists what is set. Without a row, [files] user_quota / group_quota
 * apply. Lowering a limit below what is used refuses further uploads; nothing is deleted. */
#include "files-private.h"

#include <string.h>

static JsonObject *
usage_object (AtriumTx *tx, const char *type, const char *id, GError **error)
{
        gint64 used, mail, limit;
        if (!files_quota_get (tx, type, id, &used, &mail, &limit, error))
                return NULL;
        JsonObject *o = json_object_new ();
        json_object_set_int_member (o, "used", used);
        json_object_set_int_member (o, "limit", limit);
        /* A home's quota counts the mailbox too (mail module): say how much of "used" it is. */
        if (g_str_equal (type, "user"))
                json_object_set_int_member (o, "mail", mail);
        return o;
}

static gboolean
handle_usage (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumTx *tx = files_host->request_tx (req);
        const char *me = files_host->request_user_id (req);
        JsonObject *out = json_object_new ();
        g_autoptr (JsonNode) node = atrium_object_node (out);
        if (me) {
                JsonObject *home = usage_object (tx, "user", me, error);
                if (!home)
                        return FALSE;
                json_object_set_object_member (out, "home", home);
        }
        JsonArray *groups = json_array_new ();
        json_object_set_array_member (out, "groups", groups);
        if (me) {
                g_auto (GStrv) ids = files_groups->groups_of (tx, me, error);
                if (!ids)
                        return FALSE;
                for (char **g = ids; *g; g++) {
                        JsonObject *o = usage_object (tx, "group", *g, error);
                        if (!o)
                                return FALSE;
                        json_object_set_string_member (o, "group_id", *g);
                        json_array_add_object_element (groups, o);
                }
        }
        files_host->respond_json (req, 200, g_steal_pointer (&node));
        return TRUE;
}

static gboolean
handle_list (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumResult *res = files_sql (
                req, error,
                "SELECT space_type, space_id, bytes FROM files.quotas "
                "ORDER BY space_type, space_id NULLS FIRST",
                0);
        if (!res)
                return FALSE;
        JsonObject *out = json_object_new ();
        JsonObject *defaults = json_object_new ();
        json_object_set_int_member (defaults, "user", files_settings.user_quota);
        json_object_set_int_member (defaults, "group", files_settings.group_quota);
        JsonArray *overrides = json_array_new ();
        for (int i = 0; i < files_host->result_n_rows (res); i++) {
                const char *type = files_host->result_value (res, i, 0);
                const char *id = files_host->result_value (res, i, 1);
                gint64 bytes = g_ascii_strtoll (files_host->result_value (res, i, 2), NULL, 10);
                if (!id) {
                        json_object_set_int_member (defaults, type, bytes);
                        continue;
                }
                JsonObject *o = json_object_new ();
                json_object_set_string_member (o, "space_type", type);
                json_object_set_string_member (o, "space_id", id);
                json_object_set_int_member (o, "bytes", bytes);
                json_array_add_object_element (overrides, o);
        }
        files_host->result_free (res);
        json_object_set_object_member (out, "defaults", defaults);
        json_object_set_array_member (out, "overrides", overrides);
        files_host->respond_json (req, 200, atrium_object_node (out));
        return TRUE;
}

/* Which quota row a route addresses: (type, id or NULL for the default). */
static gboolean
target (AtriumRequest *req, const char **out_type, const char **out_id, GError **error)
{
        const char *kind = files_host->request_param (req, "kind");
        const char *id = files_host->request_param (req, "id");
        if (g_strcmp0 (kind, "defaults") == 0) {
                if (g_strcmp0 (id, "user") != 0 && g_strcmp0 (id, "group") != 0)
                        return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                           "defaults exist for \"user\" and \"group\"");
                *out_type = g_str_equal (id, "user") ? "user" : "group";
                *out_id = NULL;
                return TRUE;
        }
        if (g_strcmp0 (kind, "users") != 0 && g_strcmp0 (kind, "groups") != 0)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "quotas are set under defaults/, users/ or groups/");
        if (!id || !g_uuid_string_is_valid (id))
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no %s %s",
                                   g_str_equal (kind, "users") ? "user" : "group", id ? id : "");
        *out_type = g_str_equal (kind, "users") ? "user" : "group";
        *out_id = id;
        if (g_str_equal (kind, "groups")) {
                gboolean exists = FALSE;
                if (!files_groups->group_exists (files_host->request_tx (req), id, &exists,
                                                 error))
                        return FALSE;
                if (!exists)
                        return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", id);
        } else {
                AtriumResult *res = files_sql (
                        req, error, "SELECT 1 FROM core.users WHERE id = $1::uuid", 1, id);
                if (!res)
                        return FALSE;
                int n = files_host->result_n_rows (res);
                files_host->result_free (res);
                if (n == 0)
                        return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no user %s", id);
        }
        return TRUE;
}

static gboolean
handle_put (AtriumRequest *req, gpointer data, GError **error)
{
        const char *type, *id;
        if (!target (req, &type, &id, error))
                return FALSE;
        JsonObject *body = json_node_get_object (files_host->request_json (req));
        gint64 bytes = json_object_get_int_member (body, "bytes");
        g_autofree char *b = g_strdup_printf ("%" G_GINT64_FORMAT, bytes);
        if (!atrium_done (
                    files_host,
                    files_sql (
                            req, error,
                            "INSERT INTO files.quotas (school_id, space_type, space_id, bytes) VALUES "
                            "(core.current_school(), $1, $2::uuid, $3::bigint) ON CONFLICT "
                            "(school_id, space_type, space_id) DO UPDATE SET bytes = EXCLUDED.bytes",
                            3, type, id, b)))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "space_type", type);
        if (id)
                json_object_set_string_member (o, "space_id", id);
        else
                json_object_set_null_member (o, "space_id");
        json_object_set_int_member (o, "bytes", bytes);
        files_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        const char *type, *id;
        if (!target (req, &type, &id, error))
                return FALSE;
        AtriumResult *res = files_sql (req, error,
                                       "DELETE FROM files.quotas WHERE space_type = $1 AND "
                                       "space_id IS NOT DISTINCT FROM $2::uuid RETURNING 1",
                                       2, type, id);
        if (!res)
                return FALSE;
        int n = files_host->result_n_rows (res);
        files_host->result_free (res);
        if (n == 0)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no quota set there");
        files_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define QUOTA_BODY                                                                              \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"bytes\"],"         \
        "\"properties\":{\"bytes\":{\"type\":\"integer\",\"minimum\":0,"                        \
        "\"maximum\":9007199254740991}}}"
#define USAGE_SCHEMA                                                                            \
        "{\"type\":\"object\",\"properties\":{\"home\":{\"type\":\"object\",\"properties\":{"  \
        "\"used\":{\"type\":\"integer\"},\"limit\":{\"type\":\"integer\"},"                     \
        "\"mail\":{\"type\":\"integer\",\"description\":\"the mailbox's share of used\"}}},"   \
        "\"groups\":{\"type\":\"array\"}}}"

/* One limit: a space's, or a default's (space_id null), in bytes. */
#define QUOTA_PROPS                                                                                \
        "\"space_type\":{\"type\":\"string\",\"enum\":[\"user\",\"group\"]},"                      \
        "\"space_id\":{\"type\":[\"string\",\"null\"]},\"bytes\":{\"type\":\"integer\"}"

gboolean
files_register_quota_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/usage", .permission = "files.read",
                 .summary = "Bytes used and allowed: your home and each of your groups",
                 .response_schema = USAGE_SCHEMA, .handler = handle_usage},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/quotas",
                 .permission = "files.manage",
                 .summary = "The school's default limits and the overrides set",
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"defaults\":{\"type\":\"object\","
                         "\"properties\":{\"user\":{\"type\":\"integer\"},\"group\":{\"type\":"
                         "\"integer\"}}},\"overrides\":{\"type\":\"array\",\"items\":{\"type\":"
                         "\"object\",\"properties\":{" QUOTA_PROPS "}}}}}",
                 .handler = handle_list},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/quotas/{kind}/{id}",
                 .permission = "files.manage",
                 .summary = "Set a limit in bytes: defaults/user, defaults/group, users/{id}, "
                            "groups/{id}",
                 .request_schema = QUOTA_BODY,
                 .response_schema = "{\"type\":\"object\",\"properties\":{" QUOTA_PROPS "}}",
                 .handler = handle_put},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/quotas/{kind}/{id}",
                 .permission = "files.manage",
                 .summary = "Remove a limit (the default, or the configured one, applies)",
                 .success_status = 204, .handler = handle_delete},
        };
        return atrium_add_routes (files_host, self, routes, G_N_ELEMENTS (routes), error);
}
