/* SPDX-License-Identifier: Apache-2.0 */
/* prune.c - the tombstones of deleted cards of the personal books are kept CT_TOMBSTONE_DAYS
 * days, then pruned (schema/0002_tombstone_pruning.sql), as the calendar's are: a timer on
 * the leader once an hour, and `atriumd contacts prune` for an operator (atrium_add_pruning,
 * helpers.h). A client whose sync token is older than what was pruned gets 403
 * valid-sync-token and syncs afresh (report.c). */
#include "contacts-private.h"

static AtriumPruning pruning = {
        .noun = "tombstones",
        .label = "CardDAV tombstones",
        .summary = "Prune the CardDAV tombstones of cards deleted more than " G_STRINGIFY (
                CT_TOMBSTONE_DAYS) " days ago",
        .schools_sql = "SELECT contacts.schools_with_old_tombstones($1)",
        .prune_sql = "SELECT contacts.prune_tombstones($1, $2)",
        .days = CT_TOMBSTONE_DAYS,
        .batch = 10000, /* tombstones of one school per transaction */
        .interval_seconds = 3600,
};

gboolean
ct_register_prune (GError **error)
{
        return atrium_add_pruning (ct_host, ct_self, "contacts", &pruning, error);
}
