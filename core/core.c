/* SPDX-License-Identifier: Apache-2.0 */
/* core.c - the host's shared state, AtriumCore: configuration, the database pool, the router
 * and the registries (plugin-host/registry.c), metrics and the plugins. Built once per
 * command by main.c and taken as far as the command needs by plugin-host/startup.c. */
#include "core-private.h"
#include "dav-private.h"
#include "identity-private.h"
#include "oidc-private.h"
#include "ops-private.h"
#include "portal-private.h"

#include "pipeline-private.h"
#include "plugin-host-private.h"

AtriumCore *
atrium_core_new (AtriumConfig *config)
{
        AtriumCore *core = g_new0 (AtriumCore, 1);
        core->config = config;
        core->school_cache = atrium_school_cache_new (ATRIUM_SCHOOL_CACHE_ENTRIES);
        atrium_sendmail_configure (config->sendmail, config->sendmail_timeout);
        atrium_password_cost_set (config->argon2_m_kib, config->argon2_t);
        if (config->argon2_weak)
                g_warning ("config: passwords are hashed with Argon2id at %u KiB and %u passes, "
                           "below OWASP's minimum ([auth] argon2_allow_weak): for test suites, "
                           "never for real accounts",
                           config->argon2_m_kib, config->argon2_t);
        /* One connection per worker, fast and slow. Without a separate request URL the owner's
         * connections switch to the request role (request-role.c). */
        core->pool = atrium_db_pool_new (config->request_database_url
                                                 ? config->request_database_url
                                                 : config->database_url,
                                         config->pool_size + config->slow_workers,
                                         config->request_database_url ? NULL
                                                                      : config->request_role);
        atrium_db_pool_set_transaction_pooler (core->pool, config->transaction_pooler);
        atrium_db_pool_set_statement_timeout (core->pool, config->statement_timeout);
        /* A physical replica has the primary's roles: its connections switch to the request
         * role as well (to itself, when replica_url logs in as it), except behind a pooler,
         * where the request role logs in itself as on request_url. */
        if (config->replica_url)
                core->replica = atrium_replica_new (
                        config->replica_url, config->replica_pool_size,
                        config->transaction_pooler ? NULL : config->request_role,
                        config->transaction_pooler, config->database_url, config->replica_max_lag);
        if (core->replica)
                atrium_db_pool_set_statement_timeout (atrium_replica_pool (core->replica),
                                                      config->statement_timeout);
        core->router = atrium_router_new ();
        core->plugins = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_plugin_free);
        atrium_registry_init (core);
        atrium_dav_init (core);
        atrium_portal_init (core);
        core->metrics = atrium_metrics_new ();
        core->tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_task_free);
        core->host = atrium_host_table ();
        return core;
}

void
atrium_core_free (AtriumCore *core)
{
        if (!core)
                return;
        atrium_leader_stop (core);
        atrium_tasks_stop_timers (core);
        if (core->migrate_conn) /* start-up failed before migrate took it */
                atrium_db_close (
                        atrium_db_open_finish (g_steal_pointer (&core->migrate_conn), NULL));
        atrium_router_free (core->router);
        atrium_registry_clear (core);
        atrium_dav_clear (core);
        atrium_portal_clear (core);
        g_ptr_array_unref (core->plugins);
        atrium_metrics_free (core->metrics);
        g_ptr_array_unref (core->tasks);
        atrium_db_pool_free (core->pool);
        atrium_replica_free (core->replica);
        atrium_perm_cache_free (core->perm_cache);
        atrium_school_cache_free (core->school_cache);
        atrium_oidc_keys_free (core->oidc_keys);
        g_free (core);
}

