/* SPDX-License-Identifier: Apache-2.0 */
/* quota.c - how much a mailbox may hold: the school's cap on a mailbox.
 *
 * A mailbox's size is mail.usage.bytes, kept by triggers on mail.messages
 * (schema/0004_counters.sql). Every delivery locks that row (mail_quota_charge) and checks
 * it against the school's mailbox_quota_bytes (mail.settings). The row lock serialises the
 * deliveries to one mailbox, as an exact quota needs; several mailboxes are locked in sorted
 * order (mail_usage_lock). */
#include "mail-private.h"

#define DEFAULT_MAILBOX_QUOTA "1073741824" /* mail.settings' default, without a settings row */

gboolean
mail_usage_lock (AtriumTx *tx, GPtrArray *user_ids, GError **error)
{
        GString *ids = g_string_new ("{");
        for (guint i = 0; i < user_ids->len; i++)
                g_string_append_printf (ids, "%s%s", i ? "," : "", (char *) user_ids->pdata[i]);
        g_string_append_c (ids, '}');
        /* Rows first (a first delivery has none), then the locks, sorted (LockRows runs
         * above the Sort, so rows are locked in that order). */
        gboolean ok = mail_done (mail_tx_sql (
                              tx, error,
                              "INSERT INTO mail.usage (school_id, user_id) SELECT "
                              "core.current_school(), u FROM (SELECT DISTINCT unnest("
                              "$1::uuid[]) u) s ORDER BY u ON CONFLICT DO NOTHING",
                              1, ids->str)) &&
                      mail_done (mail_tx_sql (tx, error,
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
                    !mail_done (mail_tx_sql (tx, error,
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
        return TRUE;
}

gboolean
mail_quota_forget (AtriumTx *tx, const char *user_id, GError **error)
{
        return mail_done (mail_tx_sql (tx, error, "DELETE FROM mail.usage WHERE user_id = $1::uuid",
                                       1, user_id));
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
        mail_host->respond_json (req, 200, g_steal_pointer (&node));
        return TRUE;
}

#define USAGE_SCHEMA                                                                            \
        "{\"type\":\"object\",\"required\":[\"used\",\"limit\"],\"properties\":{"               \
        "\"used\":{\"type\":\"integer\",\"description\":\"bytes of your mailbox, Trash "        \
        "included\"},\"limit\":{\"type\":\"integer\",\"description\":\"the school's cap on a " \
        "mailbox\"}}}"

gboolean
mail_register_quota_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute route = {
                ATRIUM_ROUTE_INIT, .method = "GET", .path = "/usage", .permission = "mail.read",
                .summary = "Bytes your mailbox uses and may use ({used, limit})",
                .response_schema = USAGE_SCHEMA, .handler = handle_usage};
        return mail_host->add_route (self, &route, error);
}
