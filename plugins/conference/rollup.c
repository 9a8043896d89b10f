/* SPDX-License-Identifier: Apache-2.0 */
/* rollup.c - the daily roll-ups the usage figures of closed days come from
 * (schema/0006_rollup.sql), and those of the closed hours of the day not closed yet
 * (schema/0008_rollup_hours.sql): a timer rolls up [conference] rollup_batch_days school days
 * every ten minutes, oldest first, through conference.rollup(); `atriumd conference rollup` runs
 * batches until none is left (after a long downtime, or to re-roll days marked dirty by hand).
 * The function is idempotent and lets one run at a time proceed (an advisory lock), so a
 * command may run beside the leader's timer. */
#include "conference-private.h"

#define ROLLUP_INTERVAL_SECONDS 600

typedef struct {
        gint64 rolled;
} Rollup;

static gboolean
rollup_tx (AtriumTx *tx, gpointer data, GError **error)
{
        Rollup *r = data;
        g_autofree char *typical = g_strdup_printf ("%u minutes", conf_settings.typical_minutes);
        g_autofree char *batch = g_strdup_printf ("%u", conf_settings.rollup_batch_days);
        AtriumResult *res =
                conf_tx_sql (tx, error, "SELECT conference.rollup($1::interval, $2::integer)", 2,
                             typical, batch);
        if (!res)
                return FALSE;
        r->rolled = g_ascii_strtoll (conf_host->result_value (res, 0, 0), NULL, 10);
        conf_host->result_free (res);
        return TRUE;
}

/* One batch in its own transaction; *out_rolled: the school days rolled up (0: none left, or
 * another run holds the lock). */
static gboolean
rollup_batch (gint64 *out_rolled, GError **error)
{
        Rollup r = {0};
        if (!conf_host->run_tx (conf_self, NULL, rollup_tx, &r, error))
                return FALSE;
        *out_rolled = r.rolled;
        return TRUE;
}

static void
rollup_timer (AtriumPlugin *self, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (!rollup_batch (&n, &error)) {
                g_autofree char *msg = g_strdup_printf ("rolling up conference figures failed: %s",
                                                        error->message);
                conf_host->log (conf_self, G_LOG_LEVEL_WARNING, msg);
        } else if (n > 0) {
                g_autofree char *msg = g_strdup_printf (
                        "rolled up the figures of %" G_GINT64_FORMAT " school days", n);
                conf_host->log (conf_self, G_LOG_LEVEL_INFO, msg);
        }
}

static int
rollup_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 total = 0, n = 0;
        if (argc > 0) {
                g_printerr ("usage: atriumd conference rollup\n");
                return 2;
        }
        /* Batch after batch, each committed, until nothing is left: an interrupted catch-up
         * keeps what it did. */
        do {
                if (!rollup_batch (&n, &error)) {
                        g_printerr ("conference rollup: %s (after %" G_GINT64_FORMAT
                                    " school days)\n",
                                    error->message, total);
                        return 1;
                }
                total += n;
        } while (n > 0);
        g_print ("rolled up %" G_GINT64_FORMAT " school days\n", total);
        return 0;
}

gboolean
conf_rollup_register (GError **error)
{
        return conf_host->add_command (conf_self, "rollup",
                                       "Roll up the usage figures of every closed day not rolled "
                                       "up yet (or marked dirty)",
                                       rollup_command, NULL, error) &&
               conf_host->add_timer (conf_self, ROLLUP_INTERVAL_SECONDS, rollup_timer, NULL, error);
}
