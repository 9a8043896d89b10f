/* SPDX-License-Identifier: Apache-2.0 */
/* folder-routes.c - /folders: the caller's folders with counts, user folders (create, rename,
 * delete when empty) and a folder's messages, newest first. The four special folders (INBOX,
 * Sent, Drafts, Trash) exist for everyone from the first use and cannot be renamed or
 * deleted. Folders are addressed by name in the URL ("/folders/INBOX/messages"). */
#include "mail-private.h"

#include <string.h>

/* The caller's folder @name: its id and special role (either may be NULL). */
static gboolean
open_folder (AtriumRequest *req, const char *name, char **out_id, char **out_special,
             GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        g_autofree char *inbox = mail_special_folder (mail_host->request_tx (req), me, "inbox",
                                                      error);
        if (!inbox)
                return FALSE;
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT id, special FROM mail.folders WHERE user_id = "
                                      "$1::uuid AND name = $2",
                                      2, me, name);
        if (!res)
                return FALSE;
        gboolean found = mail_host->result_n_rows (res) == 1;
        if (found) {
                *out_id = g_strdup (mail_host->result_value (res, 0, 0));
                if (out_special)
                        *out_special = g_strdup (mail_host->result_value (res, 0, 1));
        }
        mail_host->result_free (res);
        return found || mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no folder %s", name);
}

/* The id of the caller's folder the path names, for a change (@verb: "renamed", "deleted")
 * that the special folders refuse (CONFLICT). */
static char *
open_user_folder (AtriumRequest *req, const char *verb, GError **error)
{
        const char *name = mail_host->request_param (req, "name");
        g_autofree char *id = NULL, *special = NULL;
        if (!open_folder (req, name, &id, &special, error))
                return NULL;
        if (special) {
                mail_fail (error, ATRIUM_ERROR_CONFLICT, "%s cannot be %s", name, verb);
                return NULL;
        }
        return g_steal_pointer (&id);
}

static gboolean
handle_list (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        g_autofree char *inbox = mail_special_folder (mail_host->request_tx (req), me, "inbox",
                                                      error);
        if (!inbox)
                return FALSE;
        /* total and unread are counters the triggers on mail.messages keep
         * (schema/0004_counters.sql): this reads four rows, however big the mailbox. */
        AtriumResult *res = mail_sql (
                req, error,
                "SELECT name, special, total, unread FROM mail.folders WHERE user_id = $1::uuid "
                "ORDER BY array_position(ARRAY['inbox','drafts','sent','trash'], special), name",
                1, me);
        if (!res)
                return FALSE;
        mail_host->respond_page (req, mail_host->result_rows_json (res), NULL);
        mail_host->result_free (res);
        return TRUE;
}

static gboolean
handle_create (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        const char *name = json_object_get_string_member (body, "name");
        g_autofree char *inbox = mail_special_folder (mail_host->request_tx (req), me, "inbox",
                                                      error);
        if (!inbox)
                return FALSE;
        AtriumResult *res = mail_sql (req, error,
                                      "INSERT INTO mail.folders (school_id, user_id, name) VALUES "
                                      "(core.current_school(), $1::uuid, $2) ON CONFLICT DO "
                                      "NOTHING RETURNING name, special",
                                      2, me, name);
        if (!res)
                return FALSE;
        int n = mail_host->result_n_rows (res);
        if (n)
                mail_host->respond_json (req, 201, mail_host->result_row_json (res, 0));
        mail_host->result_free (res);
        return n || mail_fail (error, ATRIUM_ERROR_CONFLICT, "folder %s exists", name);
}

static gboolean
handle_rename (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *id = open_user_folder (req, "renamed", error);
        if (!id)
                return FALSE;
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        return atrium_respond_row (
                mail_host, req, 200, "no such folder",
                mail_sql (req, error,
                          "UPDATE mail.folders SET name = $2 WHERE id = $1::uuid "
                          "RETURNING name, special",
                          2, id, json_object_get_string_member (body, "name")),
                error);
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *id = open_user_folder (req, "deleted", error);
        if (!id)
                return FALSE;
        AtriumResult *res = mail_sql (req, error,
                                      "DELETE FROM mail.folders f WHERE id = $1::uuid AND NOT "
                                      "EXISTS (SELECT 1 FROM mail.messages m WHERE m.school_id = "
                                      "f.school_id AND m.folder_id = f.id) RETURNING 1",
                                      1, id);
        if (!res)
                return FALSE;
        int n = mail_host->result_n_rows (res);
        mail_host->result_free (res);
        if (!n)
                return mail_fail (error, ATRIUM_ERROR_CONFLICT,
                                  "%s is not empty: move or delete its messages first",
                                  mail_host->request_param (req, "name"));
        mail_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

static gboolean
handle_messages (AtriumRequest *req, gpointer data, GError **error)
{
        const char *name = mail_host->request_param (req, "name");
        g_autofree char *id = NULL;
        if (!open_folder (req, name, &id, NULL, error))
                return FALSE;
        const char *params[1] = {id};
        return mail_respond_summary_page (req, "m.folder_id = $1::uuid", 1, params, error);
}

/* IMAP's APPEND: a message as it is (message/rfc822) into one of the caller's folders, e.g. when
 * moving from another system. Stored byte for byte; read best-effort like any other. */
static gboolean
handle_append (AtriumRequest *req, gpointer data, GError **error)
{
        const char *name = mail_host->request_param (req, "name");
        g_autofree char *id = NULL;
        if (!open_folder (req, name, &id, NULL, error))
                return FALSE;
        const char *ct = mail_host->request_header (req, "content-type");
        if (!ct || g_ascii_strncasecmp (ct, "message/rfc822", 14) != 0)
                return mail_fail (error, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                                  "send the message as Content-Type: message/rfc822");
        GBytes *raw = mail_host->request_body (req);
        if (!raw || g_bytes_get_size (raw) == 0)
                return mail_fail (error, ATRIUM_ERROR_INVALID, "the message is empty");
        AtriumTx *tx = mail_host->request_tx (req);
        g_autofree char *raw_id = mail_store_raw (tx, raw, error);
        if (!raw_id)
                return FALSE;
        g_autoptr (MailMeta) meta = mail_meta_from_raw (raw);
        const char *seen = mail_host->request_query (req, "seen");
        g_autofree char *msg = mail_deliver (tx, raw_id, (gint64) g_bytes_get_size (raw), meta,
                                             mail_host->request_user_id (req), id,
                                             g_strcmp0 (seen, "true") == 0 ? MAIL_DELIVER_SEEN
                                                                           : 0,
                                             error);
        if (!msg)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", msg);
        json_object_set_string_member (o, "folder", name);
        json_object_set_int_member (o, "size", (gint64) g_bytes_get_size (raw));
        mail_host->respond_json (req, 201, atrium_object_node (o));
        return TRUE;
}

#define FOLDER_BODY                                                                             \
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"          \
        "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"      \
        "\"pattern\":\"^[^/\\\\x00-\\\\x1f\\\\x7f]+$\"}}}"

#define FOLDER_PROPS                                                                               \
        "\"name\":{\"type\":\"string\"},\"special\":{\"type\":[\"string\",\"null\"],"              \
        "\"description\":\"inbox, drafts, sent or trash; null for one's own folders\"}"
#define FOLDER_ANSWER "{\"type\":\"object\",\"properties\":{" FOLDER_PROPS "}}"

gboolean
mail_register_folder_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/folders", .permission = "mail.read",
                 .summary = "Your folders with message and unread counts",
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":"
                         "\"array\",\"items\":{\"type\":\"object\",\"properties\":{" FOLDER_PROPS
                         ",\"total\":{\"type\":\"integer\"},\"unread\":"
                         "{\"type\":\"integer\"}}}},\"next_cursor\":{\"type\":"
                         "\"null\"}}}",
                 .handler = handle_list},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/folders", .permission = "mail.read",
                 .summary = "Create a folder ({\"name\"})", .request_schema = FOLDER_BODY,
                 .response_schema = FOLDER_ANSWER, .success_status = 201, .handler = handle_create},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/folders/{name}",
                 .permission = "mail.read", .summary = "Rename a folder ({\"name\"})",
                 .request_schema = FOLDER_BODY, .response_schema = FOLDER_ANSWER,
                 .handler = handle_rename},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/folders/{name}",
                 .permission = "mail.read", .summary = "Delete an empty folder",
                 .success_status = 204, .handler = handle_delete},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/folders/{name}/messages",
                 .permission = "mail.read",
                 .summary = "A folder's messages, newest first, paginated",
                 .flags = ATRIUM_ROUTE_PAGED, .response_schema = MAIL_SUMMARY_ANSWER,
                 .handler = handle_messages},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/folders/{name}/messages",
                 .flags = ATRIUM_ROUTE_RAW_BODY, .permission = "mail.read",
                 .summary = "Append a message as it is (message/rfc822, ?seen=true) to a "
                            "folder, like IMAP APPEND",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                                    "\"string\",\"format\":\"uuid\"},\"folder\":{\"type\":"
                                    "\"string\"},\"size\":{\"type\":\"integer\"}}}",
                 .query_schema = "{\"type\": \"object\", \"properties\": {\"seen\": "
                                 "{\"type\": \"boolean\", \"description\": \"store it as "
                                 "read\"}}}",
                 .success_status = 201, .handler = handle_append},
        };
        return atrium_add_routes (mail_host, self, routes, G_N_ELEMENTS (routes), error);
}
