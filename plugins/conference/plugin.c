/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the conference plugin: rooms, rights and joins for video lessons held on an
 * existing engine (Jitsi Meet or BigBlueButton), and the attendance the usage figures come
 * from.
 *
 * This file is the wiring: the descriptor, the installation's settings, init (migrations,
 * route tables, the reaction to group.deleted, timers) and fini. What the route files share
 * is model.c. A deleted user's visits lose the person in the deleting transaction itself (a
 * foreign key with SET NULL), so no event is needed for that. */
#include "conference-private.h"

#include <atrium/resources.h>

#include "conference-resources.h"

const AtriumHost *conf_host;
const AtriumGroupsService *conf_groups;
AtriumPlugin *conf_self;
ConfSettings conf_settings;

/* ---- lifecycle ---- */

static void
conf_fini (AtriumPlugin *self)
{
        conf_bbb_fini ();
        conf_backend_fini ();
        g_clear_pointer (&conf_settings.public_url, g_free);
}

/* The conference area of the browser portal (portal/page.js; docs/PORTAL.md). */
static gboolean
add_page (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (conf_host, add_portal_page))
                return TRUE;
        const AtriumPortalPage page = {
                ATRIUM_PORTAL_PAGE_INIT,
                .resource = conference_get_resource (),
                .folder = "/dev/atrium/conference/portal",
                .module = "page.js",
                .id = "conference",
                .label = "Video rooms",
                .label_de = "Videoräume",
                .permission = "conference.join",
                .order = 500,
        };
        return conf_host->add_portal_page (self, &page, error);
}

static gboolean
conf_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        conf_host = host;
        conf_self = self;
        if (!ATRIUM_HOST_HAS (host, password_verify))
                return conf_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "the host is too old: conference needs ABI 1.2");
        conf_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 2);
        if (!conf_groups)
                return conf_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "conference needs the groups service (version 2)");
        /* A join waits for BigBlueButton with a worker and a database connection: keep the
         * worst case (timeout x attempts) short, and stop calling a server that is down. */
        const struct {
                const char *key;
                guint fallback, min, max;
                guint *out;
        } uints[] = {
                {"join_ttl_seconds", 300, 30, 86400, &conf_settings.join_ttl},
                {"typical_minutes", 25, 1, 1440, &conf_settings.typical_minutes},
                {"early_minutes", 15, 0, 1440, &conf_settings.early_minutes},
                {"bbb_timeout_seconds", 3, 1, 120, &conf_settings.bbb_timeout},
                {"bbb_retries", 1, 0, 10, &conf_settings.bbb_retries},
                {"guest_keep_days", 30, 0, 3650, &conf_settings.guest_keep_days},
                {"bbb_cooldown_seconds", 10, 0, 3600, &conf_settings.bbb_cooldown},
                {"rollup_batch_days", 500, 1, 100000, &conf_settings.rollup_batch_days},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (uints); i++) {
                guint64 v;
                if (!atrium_config_uint (host, self, "conference", uints[i].key, uints[i].fallback,
                                         uints[i].min, uints[i].max, &v, error))
                        return FALSE;
                *uints[i].out = (guint) v;
        }
        g_free (conf_settings.public_url);
        conf_settings.public_url = host->config_get (self, "public_url");
        if (conf_settings.public_url && g_str_has_suffix (conf_settings.public_url, "/"))
                conf_settings.public_url[strlen (conf_settings.public_url) - 1] = '\0';
        /* The loader calls fini only for plugins that started: what init made is undone here
         * when a later step fails. */
        if (!conf_backend_init (error))
                return FALSE;
        if (!conf_backend_register (error) || !conf_rooms_register (error) ||
            !conf_join_register (error) || !conf_stats_register (error) ||
            !conf_purge_register (error) || !conf_rollup_register (error) ||
            !host->subscribe (self, "group.deleted", conf_on_group_deleted, NULL, error) ||
            !atrium_add_migrations_from_resource (host, self, conference_get_resource (),
                                                  "/dev/atrium/conference/schema", error) ||
            !add_page (self, error)) {
                conf_fini (self);
                return FALSE;
        }
        conf_bbb_init (conf_settings.bbb_timeout, conf_settings.bbb_retries,
                       conf_settings.bbb_cooldown);
        return TRUE;
}

static const AtriumPermission permissions[] = {
        {"conference.join", "Join the videoconference rooms one may join",
         "admin,teacher,student,parent,staff"},
        {"conference.create", "Create rooms (for a group: as its owner)", "admin,teacher,staff"},
        {"conference.moderate", "Moderate every room of the school", "admin"},
        {"conference.stats", "See the school's videoconference usage figures", "admin"},
        {"conference.manage", "Set the school's videoconference backend", "admin"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "conference", .version = "0.1.0",
                      .description = "Videoconference rooms with signed joins to Jitsi Meet or "
                                     "BigBlueButton, and usage figures",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = conf_init, .fini = conf_fini,
                      .user_export = conf_user_export)
