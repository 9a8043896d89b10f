/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - the reactions and GDPR export plugin.c registers (user.deleted, the user's
 * messages). plugin.c is the wiring; no file here calls it. */
#include "mail-private.h"

/* ---- reactions and GDPR ---- */

gboolean
mail_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                      GError **error)
{
        const char *user = atrium_payload_uuid (payload, "user_id");
        if (!user)
                return TRUE;
        /* The mailbox goes (and its share of the home quota); stored bytes no mailbox and
         * no queued mail names go with it. */
        return atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "DELETE FROM mail.folders WHERE user_id = $1::uuid", 1,
                                         user)) &&
               mail_quota_forget (tx, user, error) &&
               atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "UPDATE mail.group_settings SET updated_by = NULL "
                                         "WHERE updated_by = $1::uuid",
                                         1, user)) &&
               atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "DELETE FROM mail.aliases WHERE target_type = 'user' AND "
                                         "target_id = $1::uuid",
                                         1, user)) &&
               atrium_done (mail_host, mail_tx_sql (tx, error,
                                                    "UPDATE mail.outbox SET sender_id = NULL "
                                                    "WHERE sender_id = $1::uuid",
                                                    1, user)) &&
               atrium_done (mail_host,
                            mail_tx_sql (tx, error,
                                         "DELETE FROM mail.raws r WHERE NOT EXISTS (SELECT 1 FROM "
                                         "mail.messages m WHERE m.school_id = r.school_id AND "
                                         "m.raw_id = r.id) AND NOT EXISTS (SELECT 1 FROM "
                                         "mail.outbox o WHERE o.school_id = r.school_id AND "
                                         "o.raw_id = r.id)",
                                         0));
}

gboolean
mail_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                  GError **error)
{
        return atrium_export_rows (
                mail_host, tx, out, "messages",
                "SELECT m.id, f.name AS folder, m.subject, m.from_addr, m.to_addrs, m.cc_addrs, "
                "m.sent_at, m.received_at, m.size, m.seen, m.flagged, m.has_attachments FROM "
                "mail.messages m JOIN mail.folders f ON f.school_id = m.school_id AND "
                "f.id = m.folder_id WHERE m.user_id = $1::uuid ORDER BY m.received_at, m.id",
                user_id, error);
}
