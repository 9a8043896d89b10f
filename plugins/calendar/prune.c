/* SPDX-License-Identifier: Apache-2.0 */
/* prune.c - the tombstones of deleted events are kept CAL_TOMBSTONE_DAYS days, then pruned
 * (schema/0005_tombstone_pruning.sql): a timer on the leader once an hour, and
 * `atriumd calendar prune` for an operator. A client whose sync token is older than what was
 * pruned gets 403 valid-sync-token and syncs afresh (caldav-report.c). */
#include "calendar-private.h"

#define PRUNE_INTERVAL_SECONDS 3600
#define PRUNE_BATCH 10000 /* tombstones of one school per transaction */

/* Prunes every school's tombstones older than CAL_TOMBSTONE_DAYS; *out_pruned: how many. */
static gboolean
prune (gint64 *out_pruned, GError **error)
{
        return atrium_prune_by_school (cal_host, cal_self,
                                       "SELECT calendar.schools_with_old_tombstones($1)",
                                       "SELECT calendar.prune_tombstones($1, $2)",
                                       CAL_TOMBSTONE_DAYS, PRUNE_BATCH, out_pruned, error);
}

static void
prune_timer (AtriumPlugin *self, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (!prune (&n, &error)) {
                g_autofree char *msg =
                        g_strdup_printf ("pruning CalDAV tombstones failed: %s", error->message);
                cal_host->log (cal_self, G_LOG_LEVEL_WARNING, msg);
        } else if (n > 0) {
                g_autofree char *msg = g_strdup_printf ("pruned %" G_GINT64_FORMAT
                                                        " CalDAV tombstones older than %d days",
                                                        n, CAL_TOMBSTONE_DAYS);
                cal_host->log (cal_self, G_LOG_LEVEL_INFO, msg);
        }
}

static int
prune_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (argc > 0) {
                g_printerr ("usage: atriumd calendar prune\n");
                return 2;
        }
        if (!prune (&n, &error)) {
                g_printerr ("calendar prune: %s\n", error->message);
                return 1;
        }
        g_print ("pruned %" G_GINT64_FORMAT " tombstones\n", n);
        return 0;
}

gboolean
cal_register_prune (GError **error)
{
        return cal_host->add_command (
                       cal_self, "prune",
                       "Prune the CalDAV tombstones of events deleted more than " G_STRINGIFY (
                               CAL_TOMBSTONE_DAYS) " days ago",
                       prune_command, NULL, error) &&
               cal_host->add_timer (cal_self, PRUNE_INTERVAL_SECONDS, prune_timer, NULL, error);
}
