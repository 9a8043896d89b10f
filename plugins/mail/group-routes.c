/* SPDX-License-Identifier: Apache-2.0 */
/* group-routes.c - who may write to a group's address from outside the school, a right of
 * the group: GET|PUT /groups/{group_id} ({"external_senders": "nobody" | "members" |
 * "anyone"}), and the check the LMTP listener makes at each RCPT (lmtp.c).
 *
 * A group without a setting takes nothing from outside ("nobody"): a class address must not
 * become a way for anyone on the internet to reach thirty children. "members" takes mail
 * whose envelope sender (MAIL FROM) is one of the group's members' school addresses (their
 * username or an alias of theirs in the school's domain), "anyone" everything. The envelope
 * sender is what the MTA was told, not proven: the MTA in front must refuse mail from
 * outside that claims the school's own domain (SPF/DMARC, or Postfix's
 * smtpd_sender_restrictions), see docs/OPERATIONS.md. Senders inside the school
 * (POST /messages) are governed by mail.send_to_group and the group's owners, as before.
 *
 * Who may read the setting: the group's members and whoever may see every group
 * (groups.read); who may change it: the group's owners, holders of mail.send_to_group (who
 * may write to any group anyway) and mail.manage (school admins, operators). Anyone else
 * finds no such group (404), as in the groups module. */
#include "mail-private.h"

#include <string.h>

static const char *
setting_of (AtriumResult *res)
{
        return mail_host->result_n_rows (res) ? mail_host->result_value (res, 0, 0) : "nobody";
}

/* The user id whose school address @sender is (username or a user alias in @domain). */
static gboolean
sender_user (AtriumTx *tx, const char *domain, const char *sender, char **out_user,
             GError **error)
{
        *out_user = NULL;
        const char *at = strrchr (sender, '@');
        if (!at || at == sender || g_ascii_strcasecmp (at + 1, domain) != 0)
                return TRUE;
        g_autofree char *local = g_ascii_strdown (sender, at - sender);
        AtriumResult *res = mail_tx_sql (
                tx, error,
                "SELECT id::text FROM core.users WHERE username = $1 UNION ALL "
                "SELECT target_id::text FROM mail.aliases WHERE local_part = $1 AND "
                "target_type = 'user' LIMIT 1",
                1, local);
        if (!res)
                return FALSE;
        if (mail_host->result_n_rows (res))
                *out_user = g_strdup (mail_host->result_value (res, 0, 0));
        mail_host->result_free (res);
        return TRUE;
}

gboolean
mail_group_takes_external (AtriumTx *tx, const char *domain, const char *group_id,
                           const char *sender, const char **out_refusal, GError **error)
{
        *out_refusal = NULL;
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "SELECT external_senders FROM mail.group_settings "
                                         "WHERE group_id = $1::uuid",
                                         1, group_id);
        if (!res)
                return FALSE;
        g_autofree char *setting = g_strdup (setting_of (res));
        mail_host->result_free (res);
        if (g_str_equal (setting, "anyone"))
                return TRUE;
        if (g_str_equal (setting, "members")) {
                g_autofree char *user = NULL;
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!sender_user (tx, domain, sender, &user, error) ||
                    (user && !mail_groups->is_member (tx, group_id, user, &role, error)))
                        return FALSE;
                if (role == ATRIUM_GROUP_ROLE_NONE)
                        *out_refusal = "550 5.7.1 Only the group's members may write to this "
                                       "address";
                return TRUE;
        }
        *out_refusal = "550 5.7.1 This group address takes no mail from outside the school";
        return TRUE;
}

/* ---- the routes ---- */

/* The group @group_id, if the caller may see (@change: change) its setting. */
static gboolean
open_group (AtriumRequest *req, const char *group_id, gboolean change, GError **error)
{
        AtriumTx *tx = mail_host->request_tx (req);
        gboolean exists = FALSE;
        if (!g_uuid_string_is_valid (group_id))
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
        if (!mail_groups->group_exists (tx, group_id, &exists, error))
                return FALSE;
        if (!exists)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        const char *me = mail_host->request_user_id (req);
        if (me && !mail_groups->is_member (tx, group_id, me, &role, error))
                return FALSE;
        gboolean may_change = role == ATRIUM_GROUP_ROLE_OWNER ||
                              mail_host->request_has_permission (req, "mail.send_to_group") ||
                              mail_host->request_has_permission (req, "mail.manage");
        gboolean may_see = may_change || role != ATRIUM_GROUP_ROLE_NONE ||
                           mail_host->request_has_permission (req, "groups.read");
        if (!may_see)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", group_id);
        if (change && !may_change)
                return mail_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "who may write to a group's address is for its owners, "
                                  "mail.send_to_group or mail.manage to decide");
        return TRUE;
}

static gboolean
respond_setting (AtriumRequest *req, const char *group_id, GError **error)
{
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT external_senders, to_char(updated_at AT TIME ZONE "
                                      "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM "
                                      "mail.group_settings WHERE group_id = $1::uuid",
                                      1, group_id);
        if (!res)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "group_id", group_id);
        json_object_set_string_member (o, "external_senders", setting_of (res));
        if (mail_host->result_n_rows (res))
                json_object_set_string_member (o, "updated_at",
                                               mail_host->result_value (res, 0, 1));
        else
                json_object_set_null_member (o, "updated_at");
        mail_host->result_free (res);
        mail_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_get (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = mail_host->request_param (req, "group_id");
        return open_group (req, id, FALSE, error) && respond_setting (req, id, error);
}

static gboolean
handle_put (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = mail_host->request_param (req, "group_id");
        if (!open_group (req, id, TRUE, error))
                return FALSE;
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        return atrium_done (
                       mail_host,
                       mail_sql (
                               req, error,
                               "INSERT INTO mail.group_settings (school_id, group_id, external_senders, "
                               "updated_by) VALUES (core.current_school(), $1::uuid, $2, $3::uuid) "
                               "ON CONFLICT (school_id, group_id) DO UPDATE SET external_senders = "
                               "EXCLUDED.external_senders, updated_by = EXCLUDED.updated_by, "
                               "updated_at = now()",
                               3, id, json_object_get_string_member (body, "external_senders"),
                               mail_host->request_user_id (req))) &&
               respond_setting (req, id, error);
}

#define SETTING_BODY                                                                            \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":"                     \
        "[\"external_senders\"],\"properties\":{\"external_senders\":{\"enum\":[\"nobody\","    \
        "\"members\",\"anyone\"],\"description\":\"who may write to the group's address from " \
        "outside the school (LMTP): nobody (the default), the members' school addresses, "     \
        "anyone\"}}}"
#define SETTING_SCHEMA                                                                             \
        "{\"type\":\"object\",\"properties\":{\"group_id\":{\"type\":\"string\"},"                 \
        "\"external_senders\":{\"enum\":[\"nobody\",\"members\",\"anyone\"]},"                     \
        "\"updated_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}}}"

gboolean
mail_register_group_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/groups/{group_id}",
                 .permission = "mail.read",
                 .summary = "Who may write to the group's address from outside the school",
                 .response_schema = SETTING_SCHEMA, .handler = handle_get},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/groups/{group_id}",
                 .permission = "mail.read",
                 .summary = "Set who may write to the group's address from outside "
                            "({\"external_senders\": \"nobody\" | \"members\" | \"anyone\"}; "
                            "the group's owners, mail.send_to_group, mail.manage)",
                 .request_schema = SETTING_BODY, .response_schema = SETTING_SCHEMA,
                 .handler = handle_put},
        };
        return atrium_add_routes (mail_host, self, routes, G_N_ELEMENTS (routes), error);
}

/* group.deleted: its setting goes with it. */
gboolean
mail_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                       GError **error)
{
        const char *group = atrium_payload_uuid (payload, "group_id");
        return !group ||
               atrium_done (mail_host, mail_tx_sql (tx, error,
                                                    "DELETE FROM mail.group_settings WHERE "
                                                    "group_id = $1::uuid",
                                                    1, group));
}
