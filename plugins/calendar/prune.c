/* SPDX-License-Identifier: Apache-2.0 */
/* prune.c - the tombstones of deleted events are kept CAL_TOMBSTONE_DAYS days, then pruned
 * (schema/0005_tombstone_pruning.sql): a timer on the leader once an hour, and
 * `atriumd calendar prune` for an operator (atrium_add_pruning, helpers.h). A client whose
 * sync token is older than what was pruned gets 403 valid-sync-token and syncs afresh
 * (caldav-report.c). */
#include "calendar-private.h"

static AtriumPruning pruning = {
        .noun = "tombstones",
        .label = "CalDAV tombstones",
        .summary = "Prune the CalDAV tombstones of events deleted more than " G_STRINGIFY (
                CAL_TOMBSTONE_DAYS) " days ago",
        .schools_sql = "SELECT calendar.schools_with_old_tombstones($1)",
        .prune_sql = "SELECT calendar.prune_tombstones($1, $2)",
        .days = CAL_TOMBSTONE_DAYS,
        .batch = 10000, /* tombstones of one school per transaction */
        .interval_seconds = 3600,
};

gboolean
cal_register_prune (GError **error)
{
        return atrium_add_pruning (cal_host, cal_self, "calendar", &pruning, error);
}
