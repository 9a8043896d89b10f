/* SPDX-License-Identifier: Apache-2.0 */
/* outbox.c - the outbound worker: hands each queued message (mail.outbox, written by the
 * sending transaction in deliver.c) to the system's sendmail-compatible command, retries
 * temporary failures with backoff, and bounces permanent ones into the sender's INBOX.
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

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define BATCH 50
#define GIVE_UP_SECONDS "259200" /* 3 days */
#define REASON_MAX 200

/* Seconds until the next attempt after the n-th failure (n = 1, 2, ...); the last repeats. */
static const guint backoff[] = {60, 300, 1800, 7200, 21600};

static struct {
        char *sendmail;
        guint timeout;
        guint max_attempts;
} outbox;

typedef enum {
        SENT,
        TEMPORARY,
        PERMANENT,
} Outcome;

typedef struct {
        guint sent;
        guint deferred;
        guint failed;
        guint bounced;
        GPtrArray *lines; /* char*: one per message handled, for the command and the log */
} PassReport;

/* ---- running sendmail ---- */

typedef struct {
        gboolean done;
        gboolean timed_out;
        GBytes *err;
        GError *error;
} Run;

static void
communicated (GObject *source, GAsyncResult *result, gpointer data)
{
        Run *run = data;
        g_subprocess_communicate_finish (G_SUBPROCESS (source), result, NULL, &run->err,
                                         &run->error);
        run->done = TRUE;
}

static gboolean
timed_out (gpointer data)
{
        ((Run *) data)->timed_out = TRUE;
        return G_SOURCE_REMOVE;
}

/* In the child, before exec: a process group of its own, so that a timeout kills whatever
 * the command started too (a shell script's children would otherwise keep running). */
static void
own_group (gpointer data)
{
        setpgid (0, 0);
}

/* The first line of @err, cleaned for last_error; NULL if there is none. */
static char *
first_line (GBytes *err)
{
        if (!err || !g_bytes_get_size (err))
                return NULL;
        gsize len;
        const char *data = g_bytes_get_data (err, &len);
        const char *nl = memchr (data, '\n', len);
        g_autofree char *line = g_strndup (data, nl ? (gsize) (nl - data) : len);
        g_autofree char *valid = g_utf8_make_valid (g_strstrip (line), -1);
        for (char *c = valid; *c; c++)
                if ((guchar) *c < 0x20 || *c == 0x7f)
                        *c = ' ';
        if (!valid[0])
                return NULL;
        if (g_utf8_strlen (valid, -1) > REASON_MAX)
                return g_utf8_substring (valid, 0, REASON_MAX);
        return g_steal_pointer (&valid);
}

/* Runs "<sendmail> -i -f <from> -- <rcpt>..." with @message on stdin; never a shell. */
static Outcome
run_sendmail (const char *from, char **rcpts, GBytes *message, char **out_reason)
{
        g_autoptr (GPtrArray) argv = g_ptr_array_new ();
        g_ptr_array_add (argv, outbox.sendmail);
        g_ptr_array_add (argv, (char *) "-i");
        g_ptr_array_add (argv, (char *) "-f");
        g_ptr_array_add (argv, (char *) (from[0] ? from : "<>"));
        g_ptr_array_add (argv, (char *) "--");
        for (char **r = rcpts; *r; r++)
                g_ptr_array_add (argv, *r);
        g_ptr_array_add (argv, NULL);

        g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_set_child_setup (launcher, own_group, NULL, NULL);
        g_autoptr (GError) error = NULL;
        g_autoptr (GSubprocess) proc =
                g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
        if (!proc) {
                /* A missing or broken sendmail is the installation's problem, not the
                 * message's: retry rather than bounce. */
                *out_reason = g_strdup_printf ("cannot run %s: %s", outbox.sendmail,
                                               error->message);
                return TEMPORARY;
        }

        /* communicate() writes stdin and reads stderr together (a command that writes a lot
         * before reading would otherwise deadlock us); a private context for its callbacks
         * and the timeout, so this works on any thread, whatever the host's loop does. */
        g_autoptr (GMainContext) ctx = g_main_context_new ();
        g_main_context_push_thread_default (ctx);
        g_autoptr (GCancellable) cancel = g_cancellable_new ();
        Run run = {0};
        g_subprocess_communicate_async (proc, message, cancel, communicated, &run);
        GSource *timer = g_timeout_source_new_seconds (outbox.timeout);
        g_source_set_callback (timer, timed_out, &run, NULL);
        g_source_attach (timer, ctx);
        while (!run.done && !run.timed_out)
                g_main_context_iteration (ctx, TRUE);
        if (!run.done) {
                const char *id = g_subprocess_get_identifier (proc);
                if (id) {
                        pid_t pid = (pid_t) g_ascii_strtoll (id, NULL, 10);
                        if (pid > 0)
                                kill (-pid, SIGKILL);
                }
                g_subprocess_force_exit (proc);
                g_cancellable_cancel (cancel);
                while (!run.done)
                        g_main_context_iteration (ctx, TRUE);
        }
        g_source_destroy (timer);
        g_source_unref (timer);
        g_main_context_pop_thread_default (ctx);
        g_subprocess_wait (proc, NULL, NULL);

        g_autoptr (GBytes) err = run.err;
        g_autoptr (GError) comm_error = run.error;
        g_autofree char *said = first_line (err);
        if (run.timed_out && !g_subprocess_get_successful (proc)) {
                *out_reason = g_strdup_printf ("%s did not finish within %u s", outbox.sendmail,
                                               outbox.timeout);
                return TEMPORARY;
        }
        if (g_subprocess_get_if_signaled (proc)) {
                *out_reason = g_strdup_printf ("sendmail killed by signal %d",
                                               g_subprocess_get_term_sig (proc));
                return TEMPORARY;
        }
        int status = g_subprocess_get_exit_status (proc);
        if (status == 0 && !comm_error)
                return SENT;
        if (status == 0) {
                /* exited 0 but we could not hand it all of the message: not sent */
                *out_reason = g_strdup_printf ("writing to sendmail: %s", comm_error->message);
                return TEMPORARY;
        }
        *out_reason = said ? g_strdup_printf ("sendmail exit %d: %s", status, said)
                           : g_strdup_printf ("sendmail exit %d", status);
        /* sysexits.h: EX_USAGE 64 .. EX_CONFIG 78 are permanent except EX_TEMPFAIL 75 */
        return status >= 64 && status <= 78 && status != 75 ? PERMANENT : TEMPORARY;
}

/* ---- one queued message ---- */

typedef struct {
        PassReport *report;
        gboolean found; /* out: a row was due */
} Job;

/* A recipient or sender we would put on sendmail's command line: no option look-alikes, no
 * whitespace or control characters (argv is not a shell, but sendmail parses addresses). */
static gboolean
safe_arg (const char *a)
{
        if (!a || a[0] == '-')
                return FALSE;
        for (const char *c = a; *c; c++)
                if ((guchar) *c <= 0x20 || *c == 0x7f)
                        return FALSE;
        return TRUE;
}

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
        Outcome outcome;
        gboolean args_ok = rcpts && rcpts[0] && from && (!from[0] || safe_arg (from));
        for (char **r = rcpts; args_ok && *r; r++)
                args_ok = safe_arg (*r);
        if (!args_ok) {
                reason = g_strdup ("refused: a sender or recipient address sendmail would "
                                   "misread (empty, leading '-', spaces or control characters)");
                outcome = PERMANENT;
        } else {
                outcome = run_sendmail (from, rcpts, raw, &reason);
        }
        g_autofree char *list = rcpts ? g_strjoinv (", ", rcpts) : g_strdup ("(none)");

        if (outcome == SENT) {
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
        if (outcome == TEMPORARY && (attempts >= outbox.max_attempts || expired)) {
                g_autofree char *last = g_steal_pointer (&reason);
                reason = g_strdup_printf ("gave up after %u attempts%s: %s", attempts,
                                          expired ? " over 3 days" : "", last);
                outcome = PERMANENT;
        }
        g_autofree char *n = g_strdup_printf ("%u", attempts);
        if (outcome == TEMPORARY) {
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
        g_free (outbox.sendmail);
        outbox.sendmail = mail_host->config_get (self, "sendmail");
        if (!outbox.sendmail || !outbox.sendmail[0]) {
                g_free (outbox.sendmail);
                outbox.sendmail = g_strdup ("/usr/sbin/sendmail");
        }
        /* A sendmail that exits without reading all of its stdin cannot kill the host: atriumd
         * ignores SIGPIPE in every command (core/main.c). */
        return mail_host->add_command (self, "flush",
                                       "hand the queued outbound mail that is due to sendmail "
                                       "now and print what happened",
                                       flush_command, NULL, error) &&
               mail_host->add_timer (self, (guint) interval, outbox_timer, NULL, error);
}
