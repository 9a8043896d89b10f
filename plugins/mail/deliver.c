/* SPDX-License-Identifier: Apache-2.0 */
/* deliver.c - where a message goes and how it is put there.
 *
 * An address in the school's domain is a user (local part = username), a group (local part =
 * the group's slug: every member at this moment, each once) or an alias of either; anything
 * else in the domain does not exist. Addresses in other domains go to the outbox, a durable
 * queue the outbound worker (outbox.c) hands to sendmail.
 *
 * A message's bytes are stored once (mail.raws) and each mailbox gets a row pointing at them,
 * with what the API lists and searches extracted once by GMime (mime.c). Delivery to every
 * local recipient, the sender's copy and the outbox rows are written in the one transaction
 * of the send: all or nothing. */
#include "mail-private.h"

#include <string.h>

static const char *const specials[][2] = {
        {"inbox", "INBOX"},
        {"sent", "Sent"},
        {"drafts", "Drafts"},
        {"trash", "Trash"},
};

void
mail_recipients_clear (MailRecipients *r)
{
        g_clear_pointer (&r->users, g_ptr_array_unref);
        g_clear_pointer (&r->named, g_ptr_array_unref);
        g_clear_pointer (&r->external, g_ptr_array_unref);
        g_clear_pointer (&r->groups, g_ptr_array_unref);
}

static void
add_once (GPtrArray **arr, const char *value)
{
        if (!*arr)
                *arr = g_ptr_array_new_with_free_func (g_free);
        if (!g_ptr_array_find_with_equal_func (*arr, value, g_str_equal, NULL))
                g_ptr_array_add (*arr, g_strdup (value));
}

char *
mail_domain (AtriumTx *tx, GError **error)
{
        AtriumResult *res = mail_tx_sql (tx, error, "SELECT domain FROM mail.settings", 0);
        if (!res)
                return NULL;
        char *domain = mail_host->result_n_rows (res)
                               ? g_strdup (mail_host->result_value (res, 0, 0))
                               : NULL;
        mail_host->result_free (res);
        if (!domain)
                mail_fail (error, ATRIUM_ERROR_CONFLICT,
                           "the school has no mail domain yet (PUT /mail/settings)");
        return domain;
}

static gboolean
add_group (AtriumTx *tx, const char *group_id, MailRecipients *out, GError **error)
{
        g_auto (GStrv) members = mail_groups->members_of (tx, group_id, error);
        if (!members)
                return FALSE;
        for (char **m = members; *m; m++)
                add_once (&out->users, *m);
        add_once (&out->groups, group_id);
        return TRUE;
}

gboolean
mail_resolve (AtriumTx *tx, const char *domain, const char *addr, MailRecipients *out,
              GError **error)
{
        const char *at = strrchr (addr, '@');
        if (!at)
                return mail_fail (error, ATRIUM_ERROR_INVALID, "not an address: %s", addr);
        if (g_ascii_strcasecmp (at + 1, domain) != 0) {
                add_once (&out->external, addr);
                return TRUE;
        }
        g_autofree char *local = g_ascii_strdown (addr, at - addr);
        /* user, then group, then alias: usernames and group slugs share the namespace of
         * local parts, and a user wins (an alias cannot shadow either). */
        AtriumResult *res = mail_tx_sql (
                tx, error,
                "SELECT 'user', id::text FROM core.users WHERE username = $1 "
                "UNION ALL SELECT target_type, target_id::text FROM mail.aliases "
                "WHERE local_part = $1",
                1, local);
        if (!res)
                return FALSE;
        g_autofree char *type = NULL, *id = NULL;
        if (mail_host->result_n_rows (res) > 0) {
                type = g_strdup (mail_host->result_value (res, 0, 0));
                id = g_strdup (mail_host->result_value (res, 0, 1));
        }
        mail_host->result_free (res);
        if (!type) {
                if (!mail_groups->group_by_slug (tx, local, &id, error))
                        return FALSE;
                if (id)
                        type = g_strdup ("group");
        }
        if (!type)
                return mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no mailbox %s", addr);
        if (g_str_equal (type, "group"))
                return add_group (tx, id, out, error);
        add_once (&out->users, id);
        add_once (&out->named, id);
        return TRUE;
}

char *
mail_user_address (AtriumTx *tx, const char *user_id, const char *domain,
                   char **out_display_name, GError **error)
{
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "SELECT username, display_name FROM core.users "
                                         "WHERE id = $1::uuid",
                                         1, user_id);
        if (!res)
                return NULL;
        char *addr = NULL;
        if (mail_host->result_n_rows (res)) {
                addr = g_strdup_printf ("%s@%s", mail_host->result_value (res, 0, 0), domain);
                if (out_display_name)
                        *out_display_name = g_strdup (mail_host->result_value (res, 0, 1));
        }
        mail_host->result_free (res);
        if (!addr)
                mail_fail (error, ATRIUM_ERROR_NOT_FOUND, "no user %s", user_id);
        return addr;
}

char *
mail_store_raw (AtriumTx *tx, GBytes *raw, GError **error)
{
        gsize len;
        const guint8 *data = g_bytes_get_data (raw, &len);
        /* bytea in hex text form: the query interface passes text parameters. */
        GString *hex = g_string_sized_new (2 + 2 * len);
        g_string_append (hex, "\\x");
        static const char digits[] = "0123456789abcdef";
        for (gsize i = 0; i < len; i++) {
                g_string_append_c (hex, digits[data[i] >> 4]);
                g_string_append_c (hex, digits[data[i] & 15]);
        }
        g_autofree char *size = g_strdup_printf ("%" G_GSIZE_FORMAT, len);
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "INSERT INTO mail.raws (school_id, data, size) VALUES "
                                         "(core.current_school(), $1::bytea, $2::bigint) "
                                         "RETURNING id",
                                         2, hex->str, size);
        g_string_free (hex, TRUE);
        if (!res)
                return NULL;
        char *id = g_strdup (mail_host->result_value (res, 0, 0));
        mail_host->result_free (res);
        return id;
}

char *
mail_special_folder (AtriumTx *tx, const char *user_id, const char *special, GError **error)
{
        for (int attempt = 0; attempt < 2; attempt++) {
                AtriumResult *res = mail_tx_sql (tx, error,
                                                 "SELECT id FROM mail.folders WHERE "
                                                 "user_id = $1::uuid AND special = $2",
                                                 2, user_id, special);
                if (!res)
                        return NULL;
                char *id = mail_host->result_n_rows (res)
                                   ? g_strdup (mail_host->result_value (res, 0, 0))
                                   : NULL;
                mail_host->result_free (res);
                if (id || attempt)
                        return id ? id
                                  : (mail_fail (error, ATRIUM_ERROR_INTERNAL,
                                                "no %s folder", special),
                                     NULL);
                for (gsize i = 0; i < G_N_ELEMENTS (specials); i++)
                        if (!atrium_done (
                                    mail_host,
                                    mail_tx_sql (
                                            tx, error,
                                            "INSERT INTO mail.folders (school_id, user_id, name, special) "
                                            "VALUES (core.current_school(), $1::uuid, $2, $3) "
                                            "ON CONFLICT DO NOTHING",
                                            3, user_id, specials[i][1], specials[i][0])))
                                return NULL;
        }
        return NULL;
}

static char *
text_array (char **items)
{
        GString *s = g_string_new ("{");
        for (char **i = items; i && *i; i++) {
                g_string_append (s, i == items ? "\"" : ",\"");
                for (const char *c = *i; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                g_string_append_c (s, '\\');
                        g_string_append_c (s, *c);
                }
                g_string_append_c (s, '"');
        }
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

char *
mail_deliver (AtriumTx *tx, const char *raw_id, gint64 size, const MailMeta *meta,
              const char *user_id, const char *folder_id, MailDeliverFlags flags,
              GError **error)
{
        if (!mail_quota_charge (tx, user_id, size, !(flags & MAIL_DELIVER_NO_QUOTA), error))
                return NULL;
        gboolean seen = (flags & MAIL_DELIVER_SEEN) != 0;
        g_autofree char *sz = g_strdup_printf ("%" G_GINT64_FORMAT, size);
        g_autofree char *date = meta->date >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, meta->date)
                                                : NULL;
        g_autofree char *refs = text_array (meta->references);
        /* The thread: that of a message in this mailbox this one answers or refers to. */
        AtriumResult *res = mail_tx_sql (
                tx, error,
                "INSERT INTO mail.messages (school_id, user_id, folder_id, raw_id, size, subject, "
                "from_addr, to_addrs, cc_addrs, sent_at, message_id, in_reply_to, refs, "
                "thread_id, preview, has_attachments, seen, search) VALUES "
                "(core.current_school(), $1::uuid, $2::uuid, $3::uuid, $4::bigint, $5, $6, $7, "
                "$8, to_timestamp($9::double precision), $10, $11, $12::text[], "
                "coalesce((SELECT m.thread_id FROM mail.messages m WHERE m.user_id = $1::uuid "
                "AND m.message_id IS NOT NULL AND (m.message_id = $11 OR m.message_id = "
                "ANY ($12::text[])) ORDER BY m.received_at LIMIT 1), gen_random_uuid()), "
                "$13, $14::boolean, $15::boolean, "
                "setweight(to_tsvector('simple', $5), 'A') || setweight(to_tsvector('simple', "
                "$6 || ' ' || $7 || ' ' || $8), 'B') || to_tsvector('simple', $16)) "
                "RETURNING id",
                16, user_id, folder_id, raw_id, sz, meta->subject, meta->from, meta->to, meta->cc,
                date, meta->message_id, meta->in_reply_to, refs, meta->preview,
                meta->has_attachments ? "true" : "false", seen ? "true" : "false", meta->text);
        if (!res)
                return NULL;
        char *id = g_strdup (mail_host->result_value (res, 0, 0));
        mail_host->result_free (res);
        return id;
}

gboolean
mail_enqueue (AtriumTx *tx, const char *raw_id, const char *sender_id, const char *envelope_from,
              GPtrArray *recipients, GError **error)
{
        if (!recipients || !recipients->len)
                return TRUE;
        g_ptr_array_add (recipients, NULL);
        g_autofree char *list = text_array ((char **) recipients->pdata);
        g_ptr_array_remove_index (recipients, recipients->len - 1);
        return atrium_done (
                mail_host, mail_tx_sql (tx, error,
                                        "INSERT INTO mail.outbox (school_id, raw_id, sender_id, "
                                        "envelope_from, recipients) VALUES (core.current_school(), "
                                        "$1::uuid, $2::uuid, $3, $4::text[])",
                                        4, raw_id, sender_id, envelope_from, list));
}
