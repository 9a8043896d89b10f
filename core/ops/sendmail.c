/* SPDX-License-Identifier: Apache-2.0 */
/* sendmail.c - handing a message to the system's mail transfer agent (AtriumHost.send_mail):
 * "<command> -i -f <from> -- <rcpt>...", never a shell, the message on stdin, stderr read for
 * the reason of a failure, killed whole (its own process group) after a timeout.
 *
 * The core sends its own mail this way (a password reset link, core/identity/reset-mail.c),
 * and so does the mail plugin's outbound queue (plugins/mail/outbox.c), which adds retries
 * and bounces on top. [sendmail] command and timeout are the host's defaults; the mail
 * plugin's [mail] sendmail and sendmail_timeout override them for its queue.
 *
 * A sendmail that exits without reading all of its stdin cannot kill the host: atriumd ignores
 * SIGPIPE (core/main.c). */
#include "ops-private.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define REASON_MAX 200

static struct {
        char *command;
        guint timeout;
} defaults = {NULL, 60};

void
atrium_sendmail_configure (const char *command, guint timeout)
{
        g_free (defaults.command);
        defaults.command = g_strdup (command && command[0] ? command : "/usr/sbin/sendmail");
        defaults.timeout = timeout ? timeout : 60;
}

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

/* The first line of @err, cleaned for a log or last_error; NULL if there is none. */
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

/* An address we would put on the command line: no option look-alikes, no whitespace or
 * control characters (argv is not a shell, but sendmail parses addresses). */
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

/* Runs @proc's communication with @message, killing the process group after @timeout s.
 * Returns whether it timed out; @run holds what communicate() said. */
static gboolean
communicate (GSubprocess *proc, GBytes *message, guint timeout, Run *run)
{
        /* communicate() writes stdin and reads stderr together (a command that writes a lot
         * before reading would otherwise deadlock us); a private context for its callbacks
         * and the timeout, so this works on any thread, whatever the host's loop does. */
        g_autoptr (GMainContext) ctx = g_main_context_new ();
        g_main_context_push_thread_default (ctx);
        g_autoptr (GCancellable) cancel = g_cancellable_new ();
        g_subprocess_communicate_async (proc, message, cancel, communicated, run);
        GSource *timer = g_timeout_source_new_seconds (timeout);
        g_source_set_callback (timer, timed_out, run, NULL);
        g_source_attach (timer, ctx);
        while (!run->done && !run->timed_out)
                g_main_context_iteration (ctx, TRUE);
        if (!run->done) {
                const char *id = g_subprocess_get_identifier (proc);
                if (id) {
                        pid_t pid = (pid_t) g_ascii_strtoll (id, NULL, 10);
                        if (pid > 0)
                                kill (-pid, SIGKILL);
                }
                g_subprocess_force_exit (proc);
                g_cancellable_cancel (cancel);
                while (!run->done)
                        g_main_context_iteration (ctx, TRUE);
        }
        g_source_destroy (timer);
        g_source_unref (timer);
        g_main_context_pop_thread_default (ctx);
        g_subprocess_wait (proc, NULL, NULL);
        return run->timed_out;
}

static AtriumSendMailOutcome
refuse (char **out_reason, AtriumSendMailOutcome outcome, char *reason)
{
        if (out_reason)
                *out_reason = reason;
        else
                g_free (reason);
        return outcome;
}

AtriumSendMailOutcome
atrium_sendmail (const char *command, guint timeout, const char *from, const char *const *rcpts,
                 GBytes *message, char **out_reason)
{
        if (out_reason)
                *out_reason = NULL;
        command = command && command[0]
                          ? command
                          : (defaults.command ? defaults.command : "/usr/sbin/sendmail");
        timeout = timeout ? timeout : defaults.timeout;
        if (!from || (from[0] && !safe_arg (from)))
                return refuse (out_reason, ATRIUM_SEND_MAIL_PERMANENT,
                               g_strdup ("the sender address is not one sendmail can be given"));
        if (!rcpts || !rcpts[0])
                return refuse (out_reason, ATRIUM_SEND_MAIL_PERMANENT, g_strdup ("no recipient"));
        g_autoptr (GPtrArray) argv = g_ptr_array_new ();
        g_ptr_array_add (argv, (char *) command);
        g_ptr_array_add (argv, (char *) "-i");
        g_ptr_array_add (argv, (char *) "-f");
        g_ptr_array_add (argv, (char *) (from[0] ? from : "<>"));
        g_ptr_array_add (argv, (char *) "--");
        for (const char *const *r = rcpts; *r; r++) {
                if (!safe_arg (*r))
                        return refuse (out_reason, ATRIUM_SEND_MAIL_PERMANENT,
                                       g_strdup ("a recipient address is not one sendmail can "
                                                 "be given"));
                g_ptr_array_add (argv, (char *) *r);
        }
        g_ptr_array_add (argv, NULL);

        g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_set_child_setup (launcher, own_group, NULL, NULL);
        g_autoptr (GError) error = NULL;
        g_autoptr (GSubprocess) proc =
                g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
        if (!proc)
                /* A missing or broken sendmail is the installation's problem, not the
                 * message's: worth trying again. */
                return refuse (out_reason, ATRIUM_SEND_MAIL_TEMPORARY,
                               g_strdup_printf ("cannot run %s: %s", command, error->message));

        Run run = {0};
        gboolean late = communicate (proc, message, timeout, &run);
        g_autoptr (GBytes) err = run.err;
        g_autoptr (GError) comm_error = run.error;
        g_autofree char *said = first_line (err);
        if (late && !g_subprocess_get_successful (proc))
                return refuse (out_reason, ATRIUM_SEND_MAIL_TEMPORARY,
                               g_strdup_printf ("%s did not finish within %u s", command, timeout));
        if (g_subprocess_get_if_signaled (proc))
                return refuse (out_reason, ATRIUM_SEND_MAIL_TEMPORARY,
                               g_strdup_printf ("sendmail killed by signal %d",
                                                g_subprocess_get_term_sig (proc)));
        int status = g_subprocess_get_exit_status (proc);
        if (status == 0 && !comm_error)
                return ATRIUM_SEND_MAIL_SENT;
        if (status == 0)
                /* exited 0 but we could not hand it all of the message: not sent */
                return refuse (out_reason, ATRIUM_SEND_MAIL_TEMPORARY,
                               g_strdup_printf ("writing to sendmail: %s", comm_error->message));
        char *reason = said ? g_strdup_printf ("sendmail exit %d: %s", status, said)
                            : g_strdup_printf ("sendmail exit %d", status);
        /* sysexits.h: EX_USAGE 64 .. EX_CONFIG 78 are permanent except EX_TEMPFAIL 75 */
        return refuse (out_reason,
                       status >= 64 && status <= 78 && status != 75 ? ATRIUM_SEND_MAIL_PERMANENT
                                                                    : ATRIUM_SEND_MAIL_TEMPORARY,
                       reason);
}
