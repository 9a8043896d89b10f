/* SPDX-License-Identifier: Apache-2.0 */
/* prune.c - the tombstones of deleted cards of the personal books are kept CT_TOMBSTONE_DAYS
 * days, then pruned (schema/0002_tombstone_pruning.sql), as the calendar's are
 * (plugins/calendar/prune.c): a timer on the leader once an hour, and `atriumd contacts prune`
 * for an operator. A client whose sync token is older than what was pruned gets 403
 * valid-sync-token and syncs afresh (report.c). */
#include "contacts-private.h"

#define PRUNE_INTERVAL_SECONDS 3600
#define PRUNE_BATCH 10000 /* tombstones of one school per transaction */

/* Prunes every school's tombstones older than CT_TOMBSTONE_DAYS; *out_pruned: how many. */
static gboolean
prune (gint64 *out_pruned, GError **error)
{
        return atrium_prune_by_school (ct_host, ct_self,
                                       "SELECT contacts.schools_with_old_tombstones($1)",
                                       "SELECT contacts.prune_tombstones($1, $2)",
                                       CT_TOMBSTONE_DAYS, PRUNE_BATCH, out_pruned, error);
}

static void
prune_timer (AtriumPlugin *self, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (!prune (&n, &error)) {
                g_autofree char *msg =
                        g_strdup_printf ("pruning CardDAV tombstones failed: %s", error->message);
                ct_host->log (ct_self, G_LOG_LEVEL_WARNING, msg);
        } else if (n > 0) {
                g_autofree char *msg = g_strdup_printf ("pruned %" G_GINT64_FORMAT
                                                        " CardDAV tombstones older than %d days",
                                                        n, CT_TOMBSTONE_DAYS);
                ct_host->log (ct_self, G_LOG_LEVEL_INFO, msg);
        }
}

static int
prune_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (argc > 0) {
                g_printerr ("usage: atriumd contacts prune\n");
                return 2;
        }
        if (!prune (&n, &error)) {
                g_printerr ("contacts prune: %s\n", error->message);
                return 1;
        }
        g_print ("pruned %" G_GINT64_FORMAT " tombstones\n", n);
        return 0;
}

gboolean
ct_register_prune (GError **error)
{
        return ct_host->add_command (
                       ct_self, "prune",
                       "Prune the CardDAV tombstones of cards deleted more than " G_STRINGIFY (
                               CT_TOMBSTONE_DAYS) " days ago",
                       prune_command, NULL, error) &&
               ct_host->add_timer (ct_self, PRUNE_INTERVAL_SECONDS, prune_timer, NULL, error);
}
