/* SPDX-License-Identifier: Apache-2.0 */
/* purge.c - guest links are personal data of people without an account: an hourly timer (and
 * `atriumd conference purge`) deletes the links that expired or were revoked more than
 * [conference] guest_keep_days (30) ago, in every school, through
 * conference.purge_guest_links() (schema/0003_purge.sql). Idempotent, so every host may run it. */
#include "conference-private.h"

typedef struct {
        guint keep_days;
        gint64 purged;
} Purge;

static gboolean
purge_tx (AtriumTx *tx, gpointer data, GError **error)
{
        Purge *p = data;
        g_autofree char *keep = g_strdup_printf ("%u days", p->keep_days);
        AtriumResult *res = conf_tx_sql (tx, error,
                                         "SELECT conference.purge_guest_links($1::interval)", 1,
                                         keep);
        if (!res)
                return FALSE;
        p->purged = g_ascii_strtoll (conf_host->result_value (res, 0, 0), NULL, 10);
        conf_host->result_free (res);
        return TRUE;
}

static gboolean
purge (gint64 *out_purged, GError **error)
{
        Purge p = {.keep_days = conf_settings.guest_keep_days};
        if (!conf_host->run_tx (conf_self, NULL, purge_tx, &p, error))
                return FALSE;
        *out_purged = p.purged;
        return TRUE;
}

static void
purge_timer (AtriumPlugin *self, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (!purge (&n, &error)) {
                g_autofree char *msg = g_strdup_printf ("purging old guest links failed: %s",
                                                        error->message);
                conf_host->log (conf_self, G_LOG_LEVEL_WARNING, msg);
        } else if (n > 0) {
                g_autofree char *msg = g_strdup_printf ("purged %" G_GINT64_FORMAT
                                                        " old guest links", n);
                conf_host->log (conf_self, G_LOG_LEVEL_INFO, msg);
        }
}

static int
purge_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        g_autoptr (GError) error = NULL;
        gint64 n = 0;
        if (argc > 0) {
                g_printerr ("usage: atriumd conference purge\n");
                return 2;
        }
        if (!purge (&n, &error)) {
                g_printerr ("conference purge: %s\n", error->message);
                return 1;
        }
        g_print ("purged %" G_GINT64_FORMAT " guest links that ended more than %u days ago\n", n,
                 conf_settings.guest_keep_days);
        return 0;
}

gboolean
conf_purge_register (GError **error)
{
        return conf_host->add_command (conf_self, "purge",
                                       "Delete guest links that expired or were revoked more "
                                       "than [conference] guest_keep_days ago",
                                       purge_command, NULL, error) &&
               conf_host->add_timer (conf_self, 3600, purge_timer, NULL, error);
}
