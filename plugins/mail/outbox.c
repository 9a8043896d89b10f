/* SPDX-License-Identifier: Apache-2.0 */
/* outbox.c - the outbound worker: hands each queued message (mail.outbox, written by the
 * sending transaction in deliver.c) to the system's sendmail-compatible command through the
 * host (AtriumHost.send_mail, core/ops/sendmail.c: no shell, a timeout, the exit status read
 * as sysexits.h says), retries temporary failures with backoff, and bounces permanent ones
 * into the sender's INBOX.
 *
 * A serving host runs a pass every [mail] outbox_interval seconds (default 5);
 * "atriumd mail flush" runs one and prints what it did. A pass asks which schools have mail
 * due (mail.schools_with_due_mail(), no school), then takes up to BATCH rows of each school,
 * one transaction per row: the row is locked (FOR UPDATE SKIP LOCKED, so several hosts can
 * run passes at once and never hand one row over twice at the same time), sendmail runs while
 * the lock is held, and the outcome is written before COMMIT:
 *
 *   exit 0                   the row is deleted (and the raw, unless a mailbox or another
 *                            outbox row still uses it);
 *   75 (EX_TEMPFAIL), a signal, a timeout, any other code outside 64-78, or sendmail not
 *   runnable at all          attempts + 1, next_attempt_at = now() + backoff, last_error;
 *   64-78 except 75, or the  state = 'failed' and a bounce with the original attached in the
 *   last attempt / 3 days    sender's INBOX, in the same transaction.
 *
 * Nothing is deleted before sendmail exited 0, so a host that stops at any point loses
 * nothing: the transaction rolls back and the row is due again. The price is at-least-once:
 * a host that dies after sendmail accepted a message but before the COMMIT (or whose COMMIT
 * fails) leaves the row queued, and the next pass sends it again. That is the accepted trade
 * (a duplicate beats a loss, and sendmail itself gives no way to make the hand-over atomic).
 * One transaction per row keeps that window to one message, and the idle-in-transaction time
 * to one sendmail run (bounded by [mail] sendmail_timeout). */
#include "mail-private.h"

#include <string.h>

#define BATCH 50
#define GIVE_UP_SECONDS "259200" /* 3 days */

/* Seconds until the next attempt after the n-th failure (n = 1, 2, ...); the last repeats. */
static const guint backoff[] = {60, 300, 1800, 7200, 21600};

static struct {
        char *sendmail;
        guint timeout;
        guint max_attempts;
} outbox;

typedef struct {
        guint sent;
        guint deferred;
        guint failed;
        guint bounced;
        GPtrArray *lines; /* char*: one per message handled, for the command and the log */
} PassReport;

/* ---- one queued message ---- */

typedef struct {
        PassReport *report;
        gboolean found; /* out: a row was due */
} Job;

static GBytes *
hex_decode (const char *hex)
{
        gsize n = hex ? strlen (hex) : 0;
        if (n % 2)
                return NULL;
        guint8 *out = g_malloc (n / 2 + 1);
        for (gsize i = 0; i < n / 2; i++) {
                int hi = g_ascii_xdigit_value (hex[2 * i]);
                int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                        g_free (out);
                        return NULL;
                }
                out[i] = (guint8) (hi << 4 | lo);
        }
        return g_bytes_new_take (out, n / 2);
}

static char **
json_strv (const char *json)
{
        g_autoptr (JsonParser) p = json_parser_new ();
        if (!json || !json_parser_load_from_data (p, json, -1, NULL))
                return NULL;
        JsonNode *root = json_parser_get_root (p);
        if (!JSON_NODE_HOLDS_ARRAY (root))
                return NULL;
        JsonArray *a = json_node_get_array (root);
        GStrvBuilder *b = g_strv_builder_new ();
        for (guint i = 0; i < json_array_get_length (a); i++) {
                const char *s = json_node_get_string (json_array_get_element (a, i));
                if (s)
                        g_strv_builder_add (b, s);
        }
        char **v = g_strv_builder_end (b);
        g_strv_builder_unref (b);
        return v;
}

static gboolean
bounce (AtriumTx *tx, const char *sender_id, const char *envelope_from, char **rcpts,
        GBytes *raw, const char *reason, GError **error)
{
        /* The domain of the school, for the bounce's From and Message-ID; a school that has
         * since dropped its domain still gets its bounce. */
        g_autoptr (GError) no_domain = NULL;
        g_autofree char *domain = mail_domain (tx, &no_domain);
        if (!domain) {
                if (!g_error_matches (no_domain, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT)) {
                        g_propagate_error (error, g_steal_pointer (&no_domain));
                        return FALSE;
                }
                const char *at = strrchr (envelope_from, '@');
                domain = g_strdup (at && at[1] ? at + 1 : "localhost");
        }
        g_autoptr (MailMeta) original = mail_meta_from_raw (raw);
        GString *text = g_string_new (NULL);
        g_string_append_printf (text,
                                "This is the mail system at %s.\n\n"
                                "Your message could not be delivered to the following "
                                "recipients:\n\n",
                                domain);
        for (char **r = rcpts; *r; r++)
                g_string_append_printf (text, "    %s\n", *r);
        g_string_append_printf (text, "\nReason: %s\n", reason);
        if (original->subject && original->subject[0])
                g_string_append_printf (text, "\nSubject of your message: %s\n",
                                        original->subject);
        g_string_append (text, "\nYour original message is attached.\n");
        g_autofree char *body = g_string_free (text, FALSE);

        g_autofree char *from = g_strdup_printf ("MAILER-DAEMON@%s", domain);
        g_autofree char *uuid = g_uuid_string_random ();
        g_autofree char *message_id = g_strdup_printf ("%s@%s", uuid, domain);
        char *to[] = {(char *) envelope_from, NULL};
        MailAttachment attachment = {.filename = (char *) "original.eml",
                                     .content_type = (char *) "message/rfc822",
                                     .data = raw};
        g_autoptr (GPtrArray) attachments = g_ptr_array_new ();
        g_ptr_array_add (attachments, &attachment);
        MailCompose c = {
                .from_name = "Mail Delivery System",
                .from_addr = from,
                .to = to,
                .subject = "Undelivered Mail Returned to Sender",
                .text = body,
                .attachments = attachments,
                .message_id = message_id,
                .in_reply_to = original->message_id,
        };
        g_autoptr (GBytes) notice = mail_mime_compose (&c);
        g_autoptr (MailMeta) meta = mail_meta_from_raw (notice);
        g_autofree char *raw_id = mail_store_raw (tx, notice, error);
        g_autofree char *inbox = raw_id ? mail_special_folder (tx, sender_id, "inbox", error)
                                        : NULL;
        /* Counted but never refused for want of room: this transaction would roll back,
         * the row would stay queued and sendmail would get the failed message again on
         * every pass. A mailbox over its quota by one bounce is the lesser harm. */
        g_autofree char *id = inbox ? mail_deliver (tx, raw_id, (gint64) g_bytes_get_size (notice),
                                                    meta, sender_id, inbox,
                                                    MAIL_DELIVER_NO_QUOTA, error)
                                    : NULL;
        if (!id)
                return FALSE;
        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "message_id", message_id);
        json_object_set_string_member (ev, "from", from);
        JsonArray *users = json_array_new ();
        json_array_add_string_element (users, sender_id);
        json_object_set_array_member (ev, "user_ids", users);
        json_object_set_string_member (ev, "via", "bounce");
        return mail_host->publish (tx, "mail.delivered", atrium_object_node (ev), error);
}

static gboolean
send_one (AtriumTx *tx, gpointer data, GError **error)
{
        Job *job = data;
        AtriumResult *res = mail_tx_sql (
                tx, error,
                "SELECT id, raw_id, sender_id, envelope_from, array_to_json(recipients)::text, "
                "attempts, created_at <= now() - make_interval(secs => $1::double precision) "
                "FROM mail.outbox WHERE state = 'queued' AND next_attempt_at <= now() "
                "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                1, GIVE_UP_SECONDS);
        if (!res)
                return FALSE;
        job->found = mail_host->result_n_rows (res) > 0;
        if (!job->found) {
                mail_host->result_free (res);
                return TRUE;
        }
        g_autofree char *id = g_strdup (mail_host->result_value (res, 0, 0));
        g_autofree char *raw_id = g_strdup (mail_host->result_value (res, 0, 1));
        g_autofree char *sender_id = g_strdup (mail_host->result_value (res, 0, 2));
        g_autofree char *from = g_strdup (mail_host->result_value (res, 0, 3));
        g_auto (GStrv) rcpts = json_strv (mail_host->result_value (res, 0, 4));
        guint attempts = (guint) g_ascii_strtoull (mail_host->result_value (res, 0, 5), NULL, 10);
        gboolean expired = g_strcmp0 (mail_host->result_value (res, 0, 6), "t") == 0;
        mail_host->result_free (res);

        /* The message, read only now that the row is ours: a batch of 25 MiB messages is
         * never in memory at once. encode(, 'hex') whatever bytea_output says. */
        res = mail_tx_sql (tx, error, "SELECT encode(data, 'hex') FROM mail.raws WHERE id = $1::uuid",
                           1, raw_id);
        if (!res)
                return FALSE;
        g_autoptr (GBytes) raw = mail_host->result_n_rows (res)
                                         ? hex_decode (mail_host->result_value (res, 0, 0))
                                         : NULL;
        mail_host->result_free (res);
        if (!raw)
                return mail_fail (error, ATRIUM_ERROR_INTERNAL, "outbox %s: no message %s", id,
                                  raw_id);

        g_autofree char *reason = NULL;
        /* The host refuses (permanently) an address sendmail would misread: empty, a leading
         * '-', spaces or control characters. */
        AtriumSendMailOutcome outcome = mail_host->send_mail (
                outbox.sendmail, outbox.timeout, from, (const char *const *) rcpts, raw, &reason);
        g_autofree char *list = rcpts ? g_strjoinv (", ", rcpts) : g_strdup ("(none)");

        if (outcome == ATRIUM_SEND_MAIL_SENT) {
                if (!atrium_done (mail_host,
                                  mail_tx_sql (tx, error,
                                               "DELETE FROM mail.outbox WHERE id = $1::uuid", 1,
                                               id)) ||
                    !atrium_done (
                            mail_host,
                            mail_tx_sql (
                                    tx, error,
                                    "DELETE FROM mail.raws r WHERE r.id = $1::uuid AND NOT EXISTS "
                                    "(SELECT 1 FROM mail.messages m WHERE m.raw_id = r.id) AND NOT "
                                    "EXISTS (SELECT 1 FROM mail.outbox o WHERE o.raw_id = r.id)",
                                    1, raw_id)))
                        return FALSE;
                job->report->sent++;
                g_ptr_array_add (job->report->lines,
                                 g_strdup_printf ("sent %s from %s to %s", id, from, list));
                return TRUE;
        }

        attempts++;
        if (outcome == ATRIUM_SEND_MAIL_TEMPORARY && (attempts >= outbox.max_attempts || expired)) {
                g_autofree char *last = g_steal_pointer (&reason);
                reason = g_strdup_printf ("gave up after %u attempts%s: %s", attempts,
                                          expired ? " over 3 days" : "", last);
                outcome = ATRIUM_SEND_MAIL_PERMANENT;
        }
        g_autofree char *n = g_strdup_printf ("%u", attempts);
        if (outcome == ATRIUM_SEND_MAIL_TEMPORARY) {
                guint wait = backoff[MIN (attempts, G_N_ELEMENTS (backoff)) - 1];
                g_autofree char *secs = g_strdup_printf ("%u", wait);
                if (!atrium_done (
                            mail_host,
                            mail_tx_sql (
                                    tx, error,
                                    "UPDATE mail.outbox SET attempts = $2::int, last_error = $3, "
                                    "next_attempt_at = now() + make_interval(secs => $4::double precision) "
                                    "WHERE id = $1::uuid",
                                    4, id, n, reason, secs)))
                        return FALSE;
                job->report->deferred++;
                g_ptr_array_add (job->report->lines,
                                 g_strdup_printf ("deferred %s to %s (attempt %u, next in %u s): %s",
                                                  id, list, attempts, wait, reason));
                return TRUE;
        }

        if (!atrium_done (mail_host,
                          mail_tx_sql (tx, error,
                                       "UPDATE mail.outbox SET state = 'failed', attempts = "
                                       "$2::int, last_error = $3 WHERE id = $1::uuid",
                                       3, id, n, reason)))
                return FALSE;
        job->report->failed++;
        /* A message queued without a sender (none of the API's paths does that) has nobody
         * to bounce to: the failed row and the log are all there is. */
        if (sender_id) {
                if (!bounce (tx, sender_id, from, rcpts ? rcpts : (char *[]) {NULL}, raw, reason,
                             error))
                        return FALSE;
                job->report->bounced++;
        }
        g_ptr_array_add (job->report->lines,
                         g_strdup_printf ("failed %s to %s: %s%s", id, list, reason,
                                          sender_id ? " (bounced to the sender)" : ""));
        return TRUE;
}

/* ---- a pass ---- */

static gboolean
due_schools (AtriumTx *tx, gpointer data, GError **error)
{
        GPtrArray *schools = data;
        AtriumResult *res = mail_tx_sql (tx, error, "SELECT mail.schools_with_due_mail()", 0);
        if (!res)
                return FALSE;
        for (int i = 0; i < mail_host->result_n_rows (res); i++)
                g_ptr_array_add (schools, g_strdup (mail_host->result_value (res, i, 0)));
        mail_host->result_free (res);
        return TRUE;
}

/* One pass over every school with mail due. A school whose transaction fails is reported
 * (the first error) and the others still get their turn. */
static gboolean
outbox_pass (AtriumPlugin *self, PassReport *report, GError **error)
{
        g_autoptr (GPtrArray) schools = g_ptr_array_new_with_free_func (g_free);
        if (!mail_host->run_tx (self, NULL, due_schools, schools, error))
                return FALSE;
        gboolean ok = TRUE;
        for (guint i = 0; i < schools->len; i++) {
                for (guint n = 0; n < BATCH; n++) {
                        Job job = {.report = report};
                        g_autoptr (GError) local = NULL;
                        if (!mail_host->run_tx (self, schools->pdata[i], send_one, &job,
                                                &local)) {
                                g_ptr_array_add (report->lines,
                                                 g_strdup_printf ("school %s: %s",
                                                                  (char *) schools->pdata[i],
                                                                  local->message));
                                if (ok)
                                        g_propagate_error (error, g_steal_pointer (&local));
                                ok = FALSE;
                                break;
                        }
                        if (!job.found)
                                break;
                }
        }
        return ok;
}

static int
flush_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        if (argc != 0) {
                g_printerr ("usage: atriumd mail flush\n");
                return 2;
        }
        PassReport r = {.lines = g_ptr_array_new_with_free_func (g_free)};
        g_autoptr (GError) error = NULL;
        gboolean ok = outbox_pass (self, &r, &error);
        for (guint i = 0; i < r.lines->len; i++)
                g_print ("%s\n", (char *) r.lines->pdata[i]);
        g_print ("sent: %u\ndeferred: %u\nfailed: %u (bounced: %u)\n", r.sent, r.deferred,
                 r.failed, r.bounced);
        g_ptr_array_unref (r.lines);
        if (!ok) {
                g_printerr ("atriumd mail flush: %s\n", error->message);
                return 1;
        }
        return 0;
}

static void
outbox_timer (AtriumPlugin *self, gpointer data)
{
        PassReport r = {.lines = g_ptr_array_new_with_free_func (g_free)};
        g_autoptr (GError) error = NULL;
        outbox_pass (self, &r, &error);
        for (guint i = 0; i < r.lines->len; i++) {
                const char *line = r.lines->pdata[i];
                g_autofree char *msg = g_strdup_printf ("outbox: %s", line);
                mail_host->log (self,
                                g_str_has_prefix (line, "sent ") ? G_LOG_LEVEL_INFO
                                                                 : G_LOG_LEVEL_WARNING,
                                msg);
        }
        g_ptr_array_unref (r.lines);
}

gboolean
mail_outbox_register (AtriumPlugin *self, GError **error)
{
        guint64 interval, timeout, attempts;
        if (!atrium_config_uint (mail_host, self, "mail", "outbox_interval", 5, 1, 86400, &interval,
                                 error) ||
            !atrium_config_uint (mail_host, self, "mail", "sendmail_timeout", 60, 1, 3600, &timeout,
                                 error) ||
            !atrium_config_uint (mail_host, self, "mail", "max_attempts", 10, 1, 1000, &attempts,
                                 error))
                return FALSE;
        outbox.timeout = (guint) timeout;
        outbox.max_attempts = (guint) attempts;
        /* [mail] sendmail overrides the host's [sendmail] command for this queue; NULL: the
         * host's. */
        g_free (outbox.sendmail);
        outbox.sendmail = mail_host->config_get (self, "sendmail");
        if (outbox.sendmail && !outbox.sendmail[0])
                g_clear_pointer (&outbox.sendmail, g_free);
        return mail_host->add_command (self, "flush",
                                       "hand the queued outbound mail that is due to sendmail "
                                       "now and print what happened",
                                       flush_command, NULL, error) &&
               mail_host->add_timer (self, (guint) interval, outbox_timer, NULL, error);
}
