/* SPDX-License-Identifier: Apache-2.0 */
/* startup.c - the one start-up sequence every command takes a host through, as far as it
 * needs:
 *
 *   INITIALISED  the core's routes registered, plugins loaded (ABI gate, dependency order)
 *                and initialised (their registrations, registry.c)
 *   MIGRATED     core and plugin migrations applied; request role, grants, permission
 *                defaults and core.plugin_grants() written, all under the migration lock
 *   STARTED      plugins started (their timers may run from here on)
 *
 * Before the first stage, migrate's connection and the pool's first two start opening on
 * threads of their own, so PostgreSQL starts those backends while the plugins load.
 *
 * `serve` goes to STARTED, `migrate` to MIGRATED, a plugin command to INITIALISED first (to
 * find the command) and then on to STARTED. atrium_shutdown() undoes what was started. */
#include "core-private.h"
#include "ops-private.h"
#include "plugin-host-private.h"
#include "dav-private.h"
#include "portal-private.h"

#include "identity-private.h"
#include "oidc-private.h"

/* Loads and initialises plugins; returns FALSE only when --strict turns a refusal fatal. */
static gboolean
load_plugins (AtriumCore *core, GError **error)
{
        if (!g_file_test (core->config->plugin_dir, G_FILE_TEST_IS_DIR)) {
                g_warning ("plugin directory %s does not exist; serving the core only",
                           core->config->plugin_dir);
                return !core->config->strict ||
                       (g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "--strict: no plugin directory %s", core->config->plugin_dir),
                        FALSE);
        }
        return atrium_plugins_load_dir (core, core->config->plugin_dir, error) &&
               atrium_plugins_init_all (core, error);
}

gboolean
atrium_startup (AtriumCore *core, AtriumStage until, GError **error)
{
        /* PostgreSQL starts the backends for migrate's check and the pool's first connections
         * while the plugins load: start-up waits for the slower of the two, not both. */
        if (core->stage < ATRIUM_STAGE_MIGRATED && until >= ATRIUM_STAGE_MIGRATED &&
            !core->migrate_conn)
                core->migrate_conn = atrium_db_open_begin (core->config->database_url, "migrate");
        if (core->stage < ATRIUM_STAGE_MIGRATED && until >= ATRIUM_STAGE_STARTED)
                atrium_db_pool_warm (core->pool, 2);
        if (core->stage < ATRIUM_STAGE_INITIALISED && until >= ATRIUM_STAGE_INITIALISED) {
                atrium_core_register_builtin_routes (core);
                atrium_identity_register (core);
                atrium_oidc_register (core);
                atrium_dav_routes (core);
                atrium_portal_routes (core);
                if (!load_plugins (core, error))
                        return FALSE;
                core->stage = ATRIUM_STAGE_INITIALISED;
        }
        if (core->stage < ATRIUM_STAGE_MIGRATED && until >= ATRIUM_STAGE_MIGRATED) {
                if (!atrium_migrate (core, TRUE, error))
                        return FALSE;
                atrium_registry_release_migration_sql (core);
                core->stage = ATRIUM_STAGE_MIGRATED;
        }
        if (core->stage < ATRIUM_STAGE_STARTED && until >= ATRIUM_STAGE_STARTED) {
                if (!atrium_plugins_start_all (core, error))
                        return FALSE;
                core->stage = ATRIUM_STAGE_STARTED;
        }
        return TRUE;
}

void
atrium_shutdown (AtriumCore *core)
{
        atrium_plugins_stop_all (core);
        core->stage = ATRIUM_STAGE_NONE;
}
