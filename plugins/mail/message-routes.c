/* SPDX-License-Identifier: Apache-2.0 */
/* message-routes.c - /messages, /drafts, /search and /threads: sending, reading, flags,
 * moving, deleting. Everything here acts on the caller's own mailbox only: a message id of
 * someone else's mailbox (or another school's) is simply not found. */
#include "mail-private.h"

#include <atrium/files.h>

#include <string.h>

#define SUMMARY_COLUMNS                                                                         \
        "m.id, f.name AS folder, m.subject, m.from_addr AS \"from\", m.to_addrs AS \"to\", "    \
        "m.cc_addrs AS cc, to_char(m.sent_at AT TIME ZONE 'UTC', "                             \
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS date, to_char(m.received_at AT TIME ZONE 'UTC', " \
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS received_at, m.seen, m.flagged, m.answered, "  \
        "m.has_attachments, m.preview, m.size, m.thread_id"
#define SUMMARY_FROM                                                                            \
        " FROM mail.messages m JOIN mail.folders f ON f.school_id = m.school_id AND "           \
        "f.id = m.folder_id "

const char *
mail_me (AtriumRequest *req, GError **error)
{
        const char *me = mail_host->request_user_id (req);
        if (!me)
                mail_fail (error, ATRIUM_ERROR_NOT_FOUND,
                           "operators have no mailbox; sign in as a user");
        return me;
}

/* Answers a page of message summaries, newest first. @where uses $1..$n; the cursor and the
 * limit become the next parameters. */
gboolean
mail_respond_summary_page (AtriumRequest *req, const char *where, int n_params,
                           const char *const *params, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (mail_host, req, "tu", &page, error))
                return FALSE;
        g_autofree char *sql =
                g_strdup_printf ("SELECT " SUMMARY_COLUMNS SUMMARY_FROM "WHERE %s AND "
                                 "(m.received_at, m.id) < ($%d::timestamptz, $%d::uuid) "
                                 "ORDER BY m.received_at DESC, m.id DESC LIMIT (SELECT $%d::int)",
                                 where, n_params + 1, n_params + 2, n_params + 3);
        const char *all[16];
        g_return_val_if_fail (n_params <= 13, FALSE);
        for (int i = 0; i < n_params; i++)
                all[i] = params[i];
        all[n_params] = atrium_page_after (&page, 0, "infinity");
        all[n_params + 1] = atrium_page_after (&page, 1, ATRIUM_UUID_MAX);
        all[n_params + 2] = page.fetch;
        AtriumResult *res = mail_host->query (mail_host->request_tx (req), sql, n_params + 3,
                                              all, error);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (mail_host, req, &page, res, NULL, 2, 7, 0);
        return TRUE;
}

/* The raw id of the caller's message @message_id (NOT_FOUND otherwise). */
static char *
mail_raw_id_of (AtriumRequest *req, const char *message_id, char **out_folder_special,
                GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return NULL;
        if (!message_id || !g_uuid_string_is_valid (message_id)) {
                mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no message %s", message_id ? message_id : "");
                return NULL;
        }
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT m.raw_id, f.special FROM mail.messages m JOIN "
                                      "mail.folders f ON f.school_id = m.school_id AND "
                                      "f.id = m.folder_id WHERE m.id = $1::uuid AND "
                                      "m.user_id = $2::uuid",
                                      2, message_id, me);
        if (!res)
                return NULL;
        char *raw = NULL;
        if (mail_host->result_n_rows (res)) {
                raw = g_strdup (mail_host->result_value (res, 0, 0));
                if (out_folder_special)
                        *out_folder_special = g_strdup (mail_host->result_value (res, 0, 1));
        }
        mail_host->result_free (res);
        if (!raw)
                mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no message %s", message_id);
        return raw;
}

static GBytes *
raw_bytes (AtriumTx *tx, const char *raw_id, GError **error)
{
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "SELECT encode(data, 'base64') FROM mail.raws "
                                         "WHERE id = $1::uuid",
                                         1, raw_id);
        if (!res)
                return NULL;
        GBytes *out = NULL;
        if (mail_host->result_n_rows (res)) {
                gsize len = 0;
                guchar *data = g_base64_decode (mail_host->result_value (res, 0, 0), &len);
                out = g_bytes_new_take (data, len);
        }
        mail_host->result_free (res);
        if (!out)
                mail_fail (error, ATRIUM_ERROR_INTERNAL, "stored message %s is missing", raw_id);
        return out;
}

static gboolean
mail_raw_release (AtriumTx *tx, const char *raw_id, GError **error)
{
        return atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "DELETE FROM mail.raws r WHERE r.id = $1::uuid AND NOT "
                                         "EXISTS (SELECT 1 FROM mail.messages m WHERE m.school_id "
                                         "= r.school_id AND m.raw_id = r.id) AND NOT EXISTS "
                                         "(SELECT 1 FROM mail.outbox o WHERE o.school_id = "
                                         "r.school_id AND o.raw_id = r.id)",
                                         1, raw_id));
}

/* ---- composing from a request body ---- */

static char **
string_list (JsonObject *body, const char *member)
{
        GPtrArray *out = g_ptr_array_new ();
        JsonArray *arr = json_object_has_member (body, member)
                                 ? json_object_get_array_member (body, member)
                                 : NULL;
        for (guint i = 0; arr && i < json_array_get_length (arr); i++)
                g_ptr_array_add (out, g_strdup (json_array_get_string_element (arr, i)));
        g_ptr_array_add (out, NULL);
        return (char **) g_ptr_array_free (out, FALSE);
}

static void
attachment_free (MailAttachment *a)
{
        g_free (a->filename);
        g_free (a->content_type);
        g_bytes_unref (a->data);
        g_free (a);
}

#define MAX_FILE_ATTACHMENT (64 * 1024 * 1024)

/* {"file": "home/<path>" or "groups/<id>/<path>"}: the bytes through the files module's
 * service table, as the sender may read them; without the module, a clear 422. */
static MailAttachment *
file_attachment (AtriumRequest *req, const char *file, const char *filename, GError **error)
{
        const AtriumFilesService *files =
                mail_host->lookup_service (mail_self, ATRIUM_FILES_SERVICE, 1);
        if (!files) {
                mail_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                           "attachments from folders need the files module");
                return NULL;
        }
        g_autofree char *space = NULL;
        const char *path = NULL;
        if (g_str_has_prefix (file, "home/")) {
                space = g_strdup ("home");
                path = file + 5;
        } else if (g_str_has_prefix (file, "groups/") && strchr (file + 7, '/')) {
                const char *slash = strchr (file + 7, '/');
                space = g_strndup (file, (gsize) (slash - file));
                path = slash + 1;
        } else {
                mail_fail (error, ATRIUM_ERROR_INVALID,
                           "\"file\" is home/<path> or groups/<group id>/<path>");
                return NULL;
        }
        char *name = NULL, *type = NULL;
        GBytes *data = files->read_file (mail_host->request_tx (req),
                                         mail_host->request_user_id (req), space, path,
                                         MAX_FILE_ATTACHMENT, &name, &type, error);
        if (!data)
                return NULL;
        MailAttachment *m = g_new0 (MailAttachment, 1);
        m->filename = filename ? g_strdup (filename) : name;
        if (filename)
                g_free (name);
        m->content_type = type;
        m->data = data;
        return m;
}

static GPtrArray *
attachments (AtriumRequest *req, JsonObject *body, GError **error)
{
        g_autoptr (GPtrArray) out =
                g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
        JsonArray *arr = json_object_has_member (body, "attachments")
                                 ? json_object_get_array_member (body, "attachments")
                                 : NULL;
        for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
                JsonObject *a = json_array_get_object_element (arr, i);
                const char *b64 = json_object_get_string_member_with_default (a, "content_base64",
                                                                              NULL);
                const char *file = json_object_get_string_member_with_default (a, "file", NULL);
                const char *filename = json_object_get_string_member_with_default (a, "filename",
                                                                                   NULL);
                if (!b64 == !file || (b64 && !filename)) {
                        mail_fail (error, ATRIUM_ERROR_INVALID,
                                   "attachment %u: give \"content_base64\" with a \"filename\", "
                                   "or \"file\" (a path in your folders)",
                                   i);
                        return NULL;
                }
                if (file) {
                        MailAttachment *m = file_attachment (req, file, filename, error);
                        if (!m) {
                                g_prefix_error (error, "attachment %u: ", i);
                                return NULL;
                        }
                        g_ptr_array_add (out, m);
                        continue;
                }
                const char *type = json_object_get_string_member_with_default (
                        a, "content_type", "application/octet-stream");
                if (!g_regex_match_simple ("^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*\\z", type,
                                           G_REGEX_CASELESS, 0) ||
                    !g_regex_match_simple ("^[A-Za-z0-9+/\\r\\n]*={0,2}[\\r\\n]*\\z", b64, 0, 0)) {
                        mail_fail (error, ATRIUM_ERROR_INVALID,
                                   "attachment %u: content_type must be type/subtype and "
                                   "content_base64 base64",
                                   i);
                        return NULL;
                }
                MailAttachment *m = g_new0 (MailAttachment, 1);
                m->filename = g_strdup (filename);
                m->content_type = g_ascii_strdown (type, -1);
                gsize len;
                guchar *data = g_base64_decode (b64, &len);
                m->data = g_bytes_new_take (data, len);
                g_ptr_array_add (out, m);
        }
        return g_steal_pointer (&out);
}

/* Builds the MIME of a body ({to, cc, subject, text, html, attachments, in_reply_to}). */
static GBytes *
compose (AtriumRequest *req, JsonObject *body, const char *from_addr, const char *from_name,
         const char *domain, char **out_answered_id, GError **error)
{
        g_auto (GStrv) to = string_list (body, "to");
        g_auto (GStrv) cc = string_list (body, "cc");
        g_autoptr (GPtrArray) atts = attachments (req, body, error);
        if (!atts)
                return NULL;
        g_autofree char *uuid = g_uuid_string_random ();
        g_autofree char *message_id = g_strdup_printf ("%s@%s", uuid, domain);
        g_autofree char *in_reply_to = NULL;
        g_auto (GStrv) refs = NULL;
        const char *answered = json_object_get_string_member_with_default (body, "in_reply_to",
                                                                           NULL);
        if (answered) {
                const char *me = mail_host->request_user_id (req);
                if (!g_uuid_string_is_valid (answered)) {
                        mail_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "in_reply_to: no message %s in your mailbox", answered);
                        return NULL;
                }
                /* References: the parent's, then the parent itself (RFC 5322 3.6.4). */
                AtriumResult *res = mail_sql (req, error,
                                              "SELECT message_id, array_to_json(CASE WHEN "
                                              "message_id IS NULL THEN refs ELSE refs || "
                                              "message_id END)::text FROM mail.messages WHERE "
                                              "id = $1::uuid AND user_id = $2::uuid",
                                              2, answered, me);
                if (!res)
                        return NULL;
                if (mail_host->result_n_rows (res) == 0) {
                        mail_host->result_free (res);
                        mail_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "in_reply_to: no message %s in your mailbox", answered);
                        return NULL;
                }
                in_reply_to = g_strdup (mail_host->result_value (res, 0, 0));
                g_autoptr (JsonNode) list = json_from_string (mail_host->result_value (res, 0, 1),
                                                              NULL);
                mail_host->result_free (res);
                GPtrArray *r = g_ptr_array_new ();
                JsonArray *arr = list && JSON_NODE_HOLDS_ARRAY (list) ? json_node_get_array (list)
                                                                      : NULL;
                for (guint i = 0; arr && i < json_array_get_length (arr); i++)
                        g_ptr_array_add (r, g_strdup (json_array_get_string_element (arr, i)));
                g_ptr_array_add (r, NULL);
                refs = (char **) g_ptr_array_free (r, FALSE);
                *out_answered_id = g_strdup (answered);
        }
        MailCompose c = {
                .from_name = from_name,
                .from_addr = from_addr,
                .to = to,
                .cc = cc,
                .subject = json_object_get_string_member_with_default (body, "subject", ""),
                .text = json_object_get_string_member_with_default (body, "text", NULL),
                .html = json_object_get_string_member_with_default (body, "html", NULL),
                .attachments = atts,
                .message_id = message_id,
                .in_reply_to = in_reply_to,
                .references = refs,
        };
        return mail_mime_compose (&c);
}

static gboolean
check_size (AtriumRequest *req, GBytes *raw, GError **error)
{
        AtriumResult *res = mail_sql (req, error, "SELECT max_message_bytes FROM mail.settings", 0);
        if (!res)
                return FALSE;
        gint64 max = mail_host->result_n_rows (res)
                             ? g_ascii_strtoll (mail_host->result_value (res, 0, 0), NULL, 10)
                             : 26214400;
        mail_host->result_free (res);
        if ((gint64) g_bytes_get_size (raw) > max)
                return mail_fail (error, ATRIUM_ERROR_TOO_LARGE,
                                  "the message has %" G_GSIZE_FORMAT
                                  " bytes; the school allows %" G_GINT64_FORMAT,
                                  g_bytes_get_size (raw), max);
        return TRUE;
}

/* ---- POST /messages ---- */

static gboolean
resolve_all (AtriumRequest *req, JsonObject *body, const char *domain, MailRecipients *rcpt,
             GError **error)
{
        AtriumTx *tx = mail_host->request_tx (req);
        const char *const lists[] = {"to", "cc", "bcc"};
        guint n = 0;
        for (gsize l = 0; l < G_N_ELEMENTS (lists); l++) {
                g_auto (GStrv) items = string_list (body, lists[l]);
                for (char **a = items; *a; a++, n++) {
                        g_autofree char *addr = mail_address_parse (*a);
                        if (!addr)
                                return mail_fail (error, ATRIUM_ERROR_INVALID,
                                                  "%s: not one mail address: \"%s\"", lists[l],
                                                  *a);
                        if (!mail_resolve (tx, domain, addr, rcpt, error))
                                return FALSE;
                }
        }
        if (n == 0)
                return mail_fail (error, ATRIUM_ERROR_INVALID,
                                  "a message needs at least one recipient (to, cc or bcc)");
        if (rcpt->external && rcpt->external->len &&
            !mail_host->request_has_permission (req, "mail.send_external"))
                return mail_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                  "sending outside the school needs mail.send_external");
        const char *me = mail_host->request_user_id (req);
        for (guint i = 0; rcpt->groups && i < rcpt->groups->len; i++) {
                if (mail_host->request_has_permission (req, "mail.send_to_group"))
                        break;
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!mail_groups->is_member (tx, rcpt->groups->pdata[i], me, &role, error))
                        return FALSE;
                if (role != ATRIUM_GROUP_ROLE_OWNER)
                        return mail_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                          "writing to a group's address needs "
                                          "mail.send_to_group or owning the group");
        }
        return TRUE;
}

static gboolean
handle_send (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        AtriumTx *tx = mail_host->request_tx (req);
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        g_autofree char *domain = mail_domain (tx, error);
        if (!domain)
                return FALSE;
        g_auto (MailRecipients) rcpt = {0};
        g_autofree char *name = NULL;
        g_autofree char *from = mail_user_address (tx, me, domain, &name, error);
        g_autofree char *answered = NULL;
        if (!from || !resolve_all (req, body, domain, &rcpt, error))
                return FALSE;
        /* Your own mail to a group you are in: your copy is the one in Sent, as everywhere
         * else in the platform your own actions do not notify you. Addressed to yourself
         * (your address or an alias of yours), it comes to your INBOX as well. */
        if (rcpt.users && !(rcpt.named && g_ptr_array_find_with_equal_func (rcpt.named, me,
                                                                           g_str_equal, NULL))) {
                guint at;
                if (g_ptr_array_find_with_equal_func (rcpt.users, me, g_str_equal, &at))
                        g_ptr_array_remove_index (rcpt.users, at);
        }
        g_autoptr (GBytes) raw = compose (req, body, from, name, domain, &answered, error);
        if (!raw || !check_size (req, raw, error))
                return FALSE;
        /* Every mailbox this send writes to (the recipients' INBOX and the sender's Sent),
         * locked now in one sorted order, before the first delivery (quota.c). */
        g_autoptr (GPtrArray) mailboxes = g_ptr_array_new ();
        g_ptr_array_add (mailboxes, (gpointer) me);
        for (guint i = 0; rcpt.users && i < rcpt.users->len; i++)
                g_ptr_array_add (mailboxes, rcpt.users->pdata[i]);
        if (!mail_usage_lock (tx, mailboxes, error))
                return FALSE;
        g_autofree char *raw_id = mail_store_raw (tx, raw, error);
        if (!raw_id)
                return FALSE;
        g_autoptr (MailMeta) meta = mail_meta_from_raw (raw);
        gint64 size = (gint64) g_bytes_get_size (raw);
        JsonArray *delivered = json_array_new ();
        g_autoptr (JsonNode) delivered_node = atrium_array_node (delivered);
        /* A full mailbox does not stop the others' mail (a class of 30 still gets it when one
         * pupil's mailbox is full): it is skipped and named in the answer. Only when nobody
         * got the message does the send fail with 507. The quota check changes nothing when
         * it refuses, so the transaction goes on. */
        JsonArray *full = json_array_new ();
        g_autoptr (JsonNode) full_node = atrium_array_node (full);
        g_autoptr (GError) first_full = NULL;
        for (guint i = 0; rcpt.users && i < rcpt.users->len; i++) {
                const char *user = rcpt.users->pdata[i];
                g_autofree char *inbox = mail_special_folder (tx, user, "inbox", error);
                if (!inbox)
                        return FALSE;
                g_autoptr (GError) why = NULL;
                g_autofree char *id = mail_deliver (tx, raw_id, size, meta, user, inbox, 0, &why);
                if (!id && !g_error_matches (why, ATRIUM_ERROR,
                                             ATRIUM_ERROR_INSUFFICIENT_STORAGE)) {
                        g_propagate_error (error, g_steal_pointer (&why));
                        return FALSE;
                }
                if (!id) {
                        json_array_add_string_element (full, user);
                        if (!first_full)
                                first_full = g_steal_pointer (&why);
                        continue;
                }
                json_array_add_string_element (delivered, user);
        }
        if (first_full && json_array_get_length (delivered) == 0 &&
            (!rcpt.external || rcpt.external->len == 0)) {
                g_propagate_error (error, g_steal_pointer (&first_full));
                return FALSE;
        }
        g_autofree char *sent = mail_special_folder (tx, me, "sent", error);
        g_autofree char *sent_id = sent ? mail_deliver (tx, raw_id, size, meta, me, sent,
                                                        MAIL_DELIVER_SEEN, error)
                                        : NULL;
        if (!sent_id || !mail_enqueue (tx, raw_id, me, from, rcpt.external, error))
                return FALSE;
        if (answered &&
            !atrium_done (mail_host, mail_sql (req, error,
                                               "UPDATE mail.messages SET answered = true WHERE "
                                               "id = $1::uuid AND user_id = $2::uuid",
                                               2, answered, me)))
                return FALSE;
        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "message_id", meta->message_id);
        json_object_set_string_member (ev, "from", from);
        json_object_set_member (ev, "user_ids", json_node_copy (delivered_node));
        if (!mail_host->publish (tx, "mail.delivered", atrium_object_node (ev), error))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", sent_id);
        json_object_set_string_member (o, "message_id", meta->message_id);
        json_object_set_int_member (o, "delivered", json_array_get_length (delivered));
        /* the people whose mailbox was full (user ids): they did not get it */
        json_object_set_member (o, "not_delivered", json_node_copy (full_node));
        json_object_set_int_member (o, "queued", rcpt.external ? rcpt.external->len : 0);
        mail_host->respond_json (req, 201, atrium_object_node (o));
        return TRUE;
}

/* ---- drafts ---- */

static gboolean
store_draft (AtriumRequest *req, const char *replace_id, GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        AtriumTx *tx = mail_host->request_tx (req);
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        g_autofree char *domain = mail_domain (tx, error);
        g_autofree char *name = NULL, *answered = NULL;
        g_autofree char *from = domain ? mail_user_address (tx, me, domain, &name, error) : NULL;
        if (!from)
                return FALSE;
        /* Recipients of a draft are only checked to be addresses; sending resolves them. */
        const char *const lists[] = {"to", "cc", "bcc"};
        for (gsize l = 0; l < G_N_ELEMENTS (lists); l++) {
                g_auto (GStrv) items = string_list (body, lists[l]);
                for (char **a = items; *a; a++) {
                        g_autofree char *addr = mail_address_parse (*a);
                        if (!addr)
                                return mail_fail (error, ATRIUM_ERROR_INVALID,
                                                  "%s: not one mail address: \"%s\"", lists[l],
                                                  *a);
                }
        }
        if (replace_id) {
                g_autofree char *special = NULL;
                g_autofree char *old_raw = mail_raw_id_of (req, replace_id, &special, error);
                if (!old_raw)
                        return FALSE;
                if (g_strcmp0 (special, "drafts") != 0)
                        return mail_fail (error, ATRIUM_ERROR_CONFLICT,
                                          "message %s is not a draft", replace_id);
                if (!atrium_done (mail_host,
                                  mail_sql (req, error,
                                            "DELETE FROM mail.messages WHERE id = $1::uuid", 1,
                                            replace_id)) ||
                    !mail_raw_release (tx, old_raw, error))
                        return FALSE;
        }
        g_autoptr (GBytes) raw = compose (req, body, from, name, domain, &answered, error);
        if (!raw || !check_size (req, raw, error))
                return FALSE;
        g_autofree char *raw_id = mail_store_raw (tx, raw, error);
        g_autofree char *folder = raw_id ? mail_special_folder (tx, me, "drafts", error) : NULL;
        if (!folder)
                return FALSE;
        g_autoptr (MailMeta) meta = mail_meta_from_raw (raw);
        g_autofree char *id = mail_deliver (tx, raw_id, (gint64) g_bytes_get_size (raw), meta, me,
                                            folder, MAIL_DELIVER_SEEN, error);
        if (!id)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", id);
        json_object_set_string_member (o, "folder", "Drafts");
        mail_host->respond_json (req, replace_id ? 200 : 201, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_draft_create (AtriumRequest *req, gpointer data, GError **error)
{
        return store_draft (req, NULL, error);
}

static gboolean
handle_draft_replace (AtriumRequest *req, gpointer data, GError **error)
{
        return store_draft (req, mail_host->request_param (req, "id"), error);
}

/* ---- reading ---- */

static gboolean
handle_get (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = mail_host->request_param (req, "id");
        g_autofree char *raw_id = mail_raw_id_of (req, id, NULL, error);
        if (!raw_id)
                return FALSE;
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT " SUMMARY_COLUMNS ", m.message_id, m.in_reply_to, "
                                      "array_to_json(m.refs) AS references" SUMMARY_FROM
                                      "WHERE m.id = $1::uuid",
                                      1, id);
        if (!res)
                return FALSE;
        JsonNode *node = mail_host->result_row_json (res, 0);
        mail_host->result_free (res);
        g_autoptr (GBytes) raw = raw_bytes (mail_host->request_tx (req), raw_id, error);
        if (!raw) {
                json_node_unref (node);
                return FALSE;
        }
        JsonObject *o = json_node_get_object (node);
        JsonObject *parts = mail_mime_render (raw);
        g_autoptr (GList) members = json_object_get_members (parts);
        for (GList *m = members; m; m = m->next)
                json_object_set_member (o, m->data,
                                        json_node_copy (json_object_get_member (parts, m->data)));
        json_object_unref (parts);
        mail_host->respond_json (req, 200, node);
        return TRUE;
}

static gboolean
handle_raw (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *raw_id = mail_raw_id_of (req, mail_host->request_param (req, "id"), NULL,
                                                  error);
        g_autoptr (GBytes) raw = raw_id ? raw_bytes (mail_host->request_tx (req), raw_id, error)
                                        : NULL;
        if (!raw)
                return FALSE;
        mail_host->response_header (req, "X-Content-Type-Options", "nosniff");
        mail_host->respond_bytes (req, 200, "message/rfc822", raw);
        return TRUE;
}

static gboolean
handle_attachment (AtriumRequest *req, gpointer data, GError **error)
{
        const char *n = mail_host->request_param (req, "n");
        g_autofree char *raw_id = mail_raw_id_of (req, mail_host->request_param (req, "id"), NULL,
                                                  error);
        g_autoptr (GBytes) raw = raw_id ? raw_bytes (mail_host->request_tx (req), raw_id, error)
                                        : NULL;
        if (!raw)
                return FALSE;
        char *end = NULL;
        guint64 index = g_ascii_strtoull (n, &end, 10);
        g_autofree char *type = NULL, *name = NULL;
        g_autoptr (GBytes) content =
                (*n && !*end && index < 10000)
                        ? mail_mime_attachment (raw, (guint) index, &type, &name)
                        : NULL;
        if (!content)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no attachment %s", n);
        g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
        g_autofree char *disposition = g_strdup_printf ("attachment; filename*=UTF-8''%s", escaped);
        mail_host->response_header (req, "Content-Disposition", disposition);
        mail_host->response_header (req, "X-Content-Type-Options", "nosniff");
        mail_host->response_header (req, "Content-Security-Policy", "sandbox");
        mail_host->respond_bytes (req, 200, type, content);
        return TRUE;
}

/* ---- changing ---- */

/* Answers the summary of the caller's message @id, as it is now. */
static gboolean
respond_summary (AtriumRequest *req, const char *id, GError **error)
{
        return atrium_respond_row (
                mail_host, req, 200, "no such message",
                mail_sql (req, error,
                          "SELECT " SUMMARY_COLUMNS SUMMARY_FROM "WHERE m.id = $1::uuid", 1, id),
                error);
}

static gboolean
handle_patch (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = mail_host->request_param (req, "id");
        g_autofree char *raw_id = mail_raw_id_of (req, id, NULL, error);
        if (!raw_id)
                return FALSE;
        JsonObject *body = json_node_get_object (mail_host->request_json (req));
        const char *me = mail_host->request_user_id (req);
        const char *flags[] = {"seen", "flagged", "answered"};
        const char *values[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++)
                if (json_object_has_member (body, flags[i]))
                        values[i] = json_object_get_boolean_member (body, flags[i]) ? "true"
                                                                                    : "false";
        const char *folder = json_object_get_string_member_with_default (body, "folder", NULL);
        g_autofree char *folder_id = NULL;
        if (folder) {
                AtriumResult *f = mail_sql (req, error,
                                            "SELECT id FROM mail.folders WHERE user_id = "
                                            "$1::uuid AND name = $2",
                                            2, me, folder);
                if (!f)
                        return FALSE;
                if (mail_host->result_n_rows (f))
                        folder_id = g_strdup (mail_host->result_value (f, 0, 0));
                mail_host->result_free (f);
                if (!folder_id)
                        return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no folder %s", folder);
        }
        if (!atrium_done (mail_host,
                          mail_sql (req, error,
                                    "UPDATE mail.messages SET seen = coalesce($2::boolean, seen), "
                                    "flagged = coalesce($3::boolean, flagged), answered = "
                                    "coalesce($4::boolean, answered), folder_id = "
                                    "coalesce($5::uuid, folder_id) WHERE id = $1::uuid",
                                    5, id, values[0], values[1], values[2], folder_id)))
                return FALSE;
        return respond_summary (req, id, error);
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = mail_host->request_param (req, "id");
        g_autofree char *special = NULL;
        g_autofree char *raw_id = mail_raw_id_of (req, id, &special, error);
        if (!raw_id)
                return FALSE;
        AtriumTx *tx = mail_host->request_tx (req);
        if (g_strcmp0 (special, "trash") == 0) {
                /* Deleting from the Trash expunges (and frees quota). */
                if (!atrium_done (mail_host,
                                  mail_sql (req, error,
                                            "DELETE FROM mail.messages WHERE id = $1::uuid", 1,
                                            id)) ||
                    !mail_raw_release (tx, raw_id, error) ||
                    !mail_quota_release (tx, mail_host->request_user_id (req), error))
                        return FALSE;
                mail_host->respond_bytes (req, 204, NULL, NULL);
                return TRUE;
        }
        g_autofree char *trash = mail_special_folder (tx, mail_host->request_user_id (req),
                                                      "trash", error);
        if (!trash ||
            !atrium_done (mail_host, mail_sql (req, error,
                                               "UPDATE mail.messages SET folder_id = $2::uuid "
                                               "WHERE id = $1::uuid",
                                               2, id, trash)))
                return FALSE;
        return respond_summary (req, id, error);
}

/* ---- search and threads ---- */

static gboolean
handle_search (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_me (req, error);
        if (!me)
                return FALSE;
        const char *q = mail_host->request_query (req, "q");
        if (!q || !*q || strlen (q) > 500)
                return mail_fail (error, ATRIUM_ERROR_INVALID, "?q= (1-500 bytes) is required");
        const char *params[2] = {me, q};
        /* $3..$5 are the page's cursor and limit (mail_respond_summary_page); the ids come
         * from a definer function so the GIN index is usable (schema/0003_search.sql), each
         * call planned for its words (0005). As an array, they drive this statement's plan
         * (primary-key lookups) even in the generic plan a pooled connection's prepared
         * statement switches to: with "IN (SELECT ...)" that plan read the whole mailbox
         * and hashed it against the ids (12 ms of 17 for 10,000 messages). */
        return mail_respond_summary_page (
                req,
                "m.user_id = $1::uuid AND m.id = ANY (ARRAY(SELECT mail.search_ids($1::uuid, "
                "$2, $3::timestamptz, $4::uuid, $5::int)))",
                2, params, error);
}

static gboolean
handle_thread (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_me (req, error);
        const char *id = mail_host->request_param (req, "id");
        if (!me)
                return FALSE;
        if (!g_uuid_string_is_valid (id))
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no thread %s", id);
        AtriumResult *res = mail_sql (req, error,
                                      "SELECT " SUMMARY_COLUMNS SUMMARY_FROM
                                      "WHERE m.user_id = $1::uuid AND m.thread_id = $2::uuid "
                                      "ORDER BY m.received_at, m.id LIMIT 500",
                                      2, me, id);
        if (!res)
                return FALSE;
        if (mail_host->result_n_rows (res) == 0) {
                mail_host->result_free (res);
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no thread %s", id);
        }
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", id);
        json_object_set_member (o, "messages", mail_host->result_rows_json (res));
        mail_host->result_free (res);
        mail_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

#define ADDRESS_LIST "{\"type\":\"array\",\"maxItems\":500,\"items\":{\"type\":\"string\",\"maxLength\":998}}"
#define COMPOSE_BODY                                                                            \
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"                  \
        "\"to\":" ADDRESS_LIST ",\"cc\":" ADDRESS_LIST ",\"bcc\":" ADDRESS_LIST ","             \
        "\"subject\":{\"type\":\"string\",\"maxLength\":998},"                                  \
        "\"text\":{\"type\":\"string\"},\"html\":{\"type\":\"string\"},"                        \
        "\"in_reply_to\":{\"type\":\"string\"},"                                                \
        "\"attachments\":{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":\"object\","  \
        "\"additionalProperties\":false,"                                                     \
        "\"properties\":{\"filename\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255}," \
        "\"content_type\":{\"type\":\"string\",\"maxLength\":255},"                             \
        "\"content_base64\":{\"type\":\"string\"},"                                              \
        "\"file\":{\"type\":\"string\",\"maxLength\":4200,\"description\":\"home/<path> or "  \
        "groups/<group id>/<path>: a file from your folders (files module)\"}}}}}}"
#define PATCH_BODY                                                                              \
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"                  \
        "\"seen\":{\"type\":\"boolean\"},\"flagged\":{\"type\":\"boolean\"},"                   \
        "\"answered\":{\"type\":\"boolean\"},\"folder\":{\"type\":\"string\"}}}"

/* One message (handle_get): the summary, its threading headers and mail_mime_render's. */
static const char message_answer[] =
        "{\"type\":\"object\",\"properties\":{" MAIL_SUMMARY_PROPS ","
        "\"message_id\":{\"type\":[\"string\",\"null\"]},\"in_reply_to\":{\"type\":[\"string\","
        "\"null\"]},\"references\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":"
        "\"string\"}},\"text\":{\"type\":[\"string\",\"null\"]},\"html\":{\"type\":[\"string\","
        "\"null\"],\"description\":\"sanitised: no scripts, no remote content\"},"
        "\"attachments\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"index\":{\"type\":\"integer\",\"description\":\"{n} of .../attachments/{n}\"},"
        "\"filename\":{\"type\":\"string\"},\"content_type\":{\"type\":\"string\"},"
        "\"size\":{\"type\":\"integer\"}}}}}}";
static const char sent_answer[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\","
        "\"description\":\"your copy in Sent\"},\"message_id\":{\"type\":\"string\"},"
        "\"delivered\":{\"type\":\"integer\",\"description\":\"local mailboxes that got it\"},"
        "\"not_delivered\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
        "\"description\":\"the people (user ids) whose mailbox was full\"},"
        "\"queued\":{\"type\":\"integer\",\"description\":\"recipients at other domains\"}}}";
static const char draft_answer[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"folder\":{\"type\":\"string\"}}}";

gboolean
mail_register_message_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/messages",
                 .permission = "mail.send",
                 .summary = "Send: local recipients (users, groups, aliases) get it now, other "
                            "domains through the outbound queue; your copy goes to Sent",
                 .request_schema = COMPOSE_BODY, .response_schema = sent_answer,
                 .success_status = 201, .handler = handle_send},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/messages/{id}",
                 .permission = "mail.read",
                 .summary = "One message: headers, text, sanitised HTML, attachment list",
                 .response_schema = message_answer, .handler = handle_get},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/messages/{id}/raw",
                 .permission = "mail.read",
                 .summary = "The message exactly as stored (message/rfc822)",
                 .response_type = "message/rfc822", .handler = handle_raw},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/messages/{id}/attachments/{n}",
                 .permission = "mail.read", .summary = "One attachment, decoded",
                 .response_type = "*/*", .handler = handle_attachment},
                {ATRIUM_ROUTE_INIT, .method = "PATCH", .path = "/messages/{id}",
                 .permission = "mail.read",
                 .summary = "Flags (seen, flagged, answered) and moving to another folder",
                 .request_schema = PATCH_BODY, .response_schema = MAIL_SUMMARY_ANSWER,
                 .handler = handle_patch},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/messages/{id}",
                 .permission = "mail.read",
                 .summary = "Move to Trash; from the Trash, delete for good (204)",
                 .response_schema = MAIL_SUMMARY_ANSWER, .handler = handle_delete},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/drafts", .permission = "mail.send",
                 .summary = "Save a draft (same body as sending)", .request_schema = COMPOSE_BODY,
                 .response_schema = draft_answer, .success_status = 201,
                 .handler = handle_draft_create},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/drafts/{id}",
                 .permission = "mail.send", .summary = "Replace a draft (it gets a new id)",
                 .request_schema = COMPOSE_BODY, .response_schema = draft_answer,
                 .handler = handle_draft_replace},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/search", .permission = "mail.read",
                 .summary = "Full-text search over subject, addresses and text (?q=, "
                            "websearch syntax), newest first",
                 .flags = ATRIUM_ROUTE_PAGED, .response_schema = MAIL_SUMMARY_ANSWER,
                 .query_schema = "{\"type\": \"object\", \"required\": [\"q\"], "
                                 "\"properties\": {\"q\": {\"type\": \"string\", "
                                 "\"minLength\": 1, \"maxLength\": 500, \"description\": "
                                 "\"what to look for, in PostgreSQL's websearch syntax (\\\"two "
                                 "words\\\", or, -not); at most 500 bytes\"}}}",
                 .handler = handle_search},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/threads/{id}",
                 .permission = "mail.read", .summary = "The messages of a thread, oldest first",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                                    "\"string\",\"format\":\"uuid\"},\"messages\":{\"type\":"
                                    "\"array\",\"items\":" MAIL_SUMMARY_ANSWER "}}}",
                 .handler = handle_thread},
        };
        return atrium_add_routes (mail_host, self, routes, G_N_ELEMENTS (routes), error);
}
