/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the groups plugin: classes, courses, working groups and staff groups with members
 * and owners, and the single source of truth other modules ask about membership.
 *
 * It publishes the "groups" service table (atrium/groups.h) for other plugins, grants
 * permissions to group members through a permission source (groups.member_permissions), emits
 * group.created / group.deleted / group.member_added / group.member_removed, and contributes a
 * person's memberships to the GDPR export. Memberships of a deleted user go with the user row
 * (foreign key, ON DELETE CASCADE), inside the same transaction as the deletion. */
#include "groups-private.h"

#include <atrium/resources.h>

#include "groups-resources.h"

/* ---- lifecycle ---- */

/* The groups area of the browser portal (portal/page.js; docs/PORTAL.md): everyone sees
 * their own groups. */
static gboolean
add_page (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (groups_host, add_portal_page))
                return TRUE;
        const AtriumPortalPage page = {
                ATRIUM_PORTAL_PAGE_INIT,
                .resource = groups_get_resource (),
                .folder = "/dev/atrium/groups/portal",
                .module = "page.js",
                .id = "groups",
                .label = "Groups",
                .label_de = "Gruppen",
                .order = 300,
        };
        return groups_host->add_portal_page (self, &page, error);
}

static gboolean
groups_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        groups_host = host;
        if (!ATRIUM_HOST_HAS (host, add_permission_source))
                return groups_fail (error, ATRIUM_ERROR_INTERNAL,
                                    "the host is too old: groups needs ABI 1.1");
        return groups_register_group_routes (self, error) &&
               groups_register_member_routes (self, error) &&
               host->provide_service (self, ATRIUM_GROUPS_SERVICE, ATRIUM_GROUPS_SERVICE_VERSION,
                                      &groups_service, error) &&
               host->add_permission_source (self, "groups.member_permissions", error) &&
               atrium_add_migrations_from_resource (host, self, groups_get_resource (),
                                                    "/dev/atrium/groups/schema", error) &&
               add_page (self, error);
}

static const AtriumPermission permissions[] = {
        {"groups.read", "See every group of the school and its members", "admin,teacher,staff"},
        {"groups.manage", "Create, change and delete any group and its membership",
         "admin,teacher"},
        {NULL, NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "groups", .version = "1.0.0",
                      .description = "Classes, courses, working groups and their members",
                      .license = "Apache-2.0", .permissions = permissions, .init = groups_init,
                      .user_export = groups_user_export)
