/* SPDX-License-Identifier: Apache-2.0 */
/* quota.c - how much a mailbox may hold: the school's cap on a mailbox, and the person's
 * home quota, which the files module counts for files and mail as one figure.
 *
 * A mailbox's size is mail.usage.bytes, kept by triggers on mail.messages
 * (schema/0004_counters.sql). Every delivery locks that row (mail_quota_charge) and checks:
 *
 *   1. the school's mailbox_quota_bytes, a cap on the mailbox alone (mail.settings);
 *   2. when the files plugin is loaded (its service table, version 2: atrium/files.h), the
 *      home quota: mail reports the mailbox's new size with set_mail_usage and the files
 *      module refuses it if files + mail would pass the person's home quota. It enforces
 *      that only when the school has the files module enabled; otherwise only 1. applies.
 *
 * The figure reported is absolute (the mailbox's bytes), not a change: the files module
 * overwrites what it had, so a figure missed while the files plugin was not loaded, or
 * written by an older host, is right again at the mailbox's next change. Mail reports after
 * every change of size: deliveries and appends (enforced), expunges and erasure (not).
 *
 * Locks, always in this order: mail.usage rows (several in sorted order: mail_usage_lock),
 * then the files module's usage row. The files module never takes mail's locks, so uploads
 * and deliveries to one person serialise without a cycle. */
#include "mail-private.h"

#include <atrium/files.h>

#define DEFAULT_MAILBOX_QUOTA "1073741824" /* mail.settings' default, without a settings row */

/* The files module's table if it has version 2 (loaded, and new enough), else NULL. */
static const AtriumFilesService *
files_service (void)
{
        const AtriumFilesService *files =
                mail_host->lookup_service (mail_self, ATRIUM_FILES_SERVICE, 2);
        if (!files || !ATRIUM_FILES_SERVICE_HAS (files, set_mail_usage) ||
            !ATRIUM_FILES_SERVICE_HAS (files, home_usage))
                return NULL;
        return files;
}

gboolean
mail_usage_lock (AtriumTx *tx, GPtrArray *user_ids, GError **error)
{
        GString *ids = g_string_new ("{");
        for (guint i = 0; i < user_ids->len; i++)
                g_string_append_printf (ids, "%s%s", i ? "," : "", (char *) user_ids->pdata[i]);
        g_string_append_c (ids, '}');
        /* Rows first (a first delivery has none), then the locks, sorted (LockRows runs
         * above the Sort, so rows are locked in that order). */
        gboolean ok =
                atrium_done (mail_host,
                             mail_tx_sql (tx, error,
                                          "INSERT INTO mail.usage (school_id, user_id) SELECT "
                                          "core.current_school(), u FROM (SELECT DISTINCT unnest("
                                          "$1::uuid[]) u) s ORDER BY u ON CONFLICT DO NOTHING",
                                          1, ids->str)) &&
                atrium_done (mail_host, mail_tx_sql (tx, error,
                                                     "SELECT 1 FROM mail.usage WHERE user_id = "
                                                     "ANY ($1::uuid[]) ORDER BY user_id FOR UPDATE",
                                                     1, ids->str));
        g_string_free (ids, TRUE);
        return ok;
}

/* The mailbox's bytes and cap, its row locked (made if missing). */
static gboolean
lock_usage (AtriumTx *tx, const char *user_id, gint64 *out_used, gint64 *out_cap,
            GError **error)
{
        for (int attempt = 0; attempt < 2; attempt++) {
                AtriumResult *res = mail_tx_sql (
                        tx, error,
                        "SELECT u.bytes, coalesce((SELECT mailbox_quota_bytes FROM "
                        "mail.settings), " DEFAULT_MAILBOX_QUOTA ") FROM mail.usage u WHERE "
                        "u.user_id = $1::uuid FOR UPDATE OF u",
                        1, user_id);
                if (!res)
                        return FALSE;
                gboolean found = mail_host->result_n_rows (res) > 0;
                if (found) {
                        *out_used = g_ascii_strtoll (mail_host->result_value (res, 0, 0), NULL, 10);
                        *out_cap = g_ascii_strtoll (mail_host->result_value (res, 0, 1), NULL, 10);
                }
                mail_host->result_free (res);
                if (found)
                        return TRUE;
                if (attempt == 0 &&
                    !atrium_done (mail_host,
                                  mail_tx_sql (tx, error,
                                               "INSERT INTO mail.usage (school_id, user_id) VALUES "
                                               "(core.current_school(), $1::uuid) ON CONFLICT DO "
                                               "NOTHING",
                                               1, user_id)))
                        return FALSE;
        }
        return mail_fail (error, ATRIUM_ERROR_INTERNAL, "no usage row for user %s", user_id);
}

gboolean
mail_quota_charge (AtriumTx *tx, const char *user_id, gint64 size, gboolean enforce,
                   GError **error)
{
        gint64 used = 0, cap = 0;
        if (!lock_usage (tx, user_id, &used, &cap, error))
                return FALSE;
        if (enforce && used + size > cap)
                return mail_fail (error, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                                  "the mailbox of user %s is full (%" G_GINT64_FORMAT " of %"
                                  G_GINT64_FORMAT " bytes used; this message has %"
                                  G_GINT64_FORMAT ")",
                                  user_id, used, cap, size);
        const AtriumFilesService *files = files_service ();
        if (files && !files->set_mail_usage (tx, user_id, used + size, enforce, error)) {
                if (error && *error)
                        g_prefix_error (error, "no room for a message of %" G_GINT64_FORMAT
                                        " bytes: ", size);
                return FALSE;
        }
        return TRUE;
}

gboolean
mail_quota_release (AtriumTx *tx, const char *user_id, GError **error)
{
        const AtriumFilesService *files = files_service ();
        if (!files)
                return TRUE;
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "SELECT bytes FROM mail.usage WHERE user_id = $1::uuid",
                                         1, user_id);
        if (!res)
                return FALSE;
        gint64 used = mail_host->result_n_rows (res)
                              ? g_ascii_strtoll (mail_host->result_value (res, 0, 0), NULL, 10)
                              : 0;
        mail_host->result_free (res);
        return files->set_mail_usage (tx, user_id, used, FALSE, error);
}

gboolean
mail_quota_forget (AtriumTx *tx, const char *user_id, GError **error)
{
        const AtriumFilesService *files = files_service ();
        return atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "DELETE FROM mail.usage WHERE user_id = $1::uuid", 1,
                                         user_id)) &&
               (!files || files->set_mail_usage (tx, user_id, 0, FALSE, error));
}

/* ---- GET /usage ---- */

static gboolean
handle_usage (AtriumRequest *req, gpointer data, GError **error)
{
        const char *me = mail_host->request_user_id (req);
        if (!me)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                  "operators have no mailbox; sign in as a user");
        AtriumTx *tx = mail_host->request_tx (req);
        AtriumResult *res = mail_tx_sql (
                tx, error,
                "SELECT coalesce((SELECT bytes FROM mail.usage WHERE user_id = $1::uuid), 0), "
                "coalesce((SELECT mailbox_quota_bytes FROM mail.settings), "
                DEFAULT_MAILBOX_QUOTA ")",
                1, me);
        if (!res)
                return FALSE;
        JsonObject *o = json_object_new ();
        g_autoptr (JsonNode) node = atrium_object_node (o);
        json_object_set_int_member (o, "used",
                                    g_ascii_strtoll (mail_host->result_value (res, 0, 0), NULL, 10));
        json_object_set_int_member (o, "limit",
                                    g_ascii_strtoll (mail_host->result_value (res, 0, 1), NULL, 10));
        mail_host->result_free (res);
        const AtriumFilesService *files = files_service ();
        gint64 used = 0, mail = 0, limit = 0;
        gboolean applies = FALSE;
        if (files && !files->home_usage (tx, me, &used, &mail, &limit, &applies, error))
                return FALSE;
        if (applies) {
                JsonObject *home = json_object_new ();
                json_object_set_int_member (home, "used", used);
                json_object_set_int_member (home, "mail", mail);
                json_object_set_int_member (home, "limit", limit);
                json_object_set_object_member (o, "home", home);
        }
        mail_host->respond_json (req, 200, g_steal_pointer (&node));
        return TRUE;
}

#define USAGE_SCHEMA                                                                            \
        "{\"type\":\"object\",\"required\":[\"used\",\"limit\"],\"properties\":{"               \
        "\"used\":{\"type\":\"integer\",\"description\":\"bytes of your mailbox, Trash "        \
        "included\"},\"limit\":{\"type\":\"integer\",\"description\":\"the school's cap on a " \
        "mailbox\"},\"home\":{\"type\":\"object\",\"description\":\"with the files module: "   \
        "your home quota, which counts your files and your mail together\",\"properties\":{"   \
        "\"used\":{\"type\":\"integer\"},\"mail\":{\"type\":\"integer\"},"                      \
        "\"limit\":{\"type\":\"integer\"}}}}}"

gboolean
mail_register_quota_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute route = {
                ATRIUM_ROUTE_INIT, .method = "GET", .path = "/usage", .permission = "mail.read",
                .summary = "Bytes your mailbox uses and may use ({used, limit}); with the files "
                           "module also your home quota, shared by files and mail ({home})",
                .response_schema = USAGE_SCHEMA, .handler = handle_usage};
        return atrium_add_routes (mail_host, self, &route, 1, error);
}
