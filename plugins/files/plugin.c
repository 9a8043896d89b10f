/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the files plugin: every user's home and one folder tree per group, with streamed
 * uploads and downloads, a trash, quotas and share links.
 *
 * This file holds the descriptor and lifecycle. model.c holds the one place that decides who
 * may read and write which tree, node rows, quotas, events, the reactions to user.deleted and
 * group.deleted, and the GDPR export.
 *
 * Who may do what (README.md has the table):
 *   - a home ("/home/..."): only its owner, reading and writing (files.read);
 *   - a group's tree ("/groups/{id}/..."): members read; the group's owners, members holding
 *     files.write, and holders of files.manage write; holders of files.manage also read.
 *
 * This file is the wiring (descriptor, settings, init); what the other files share is in
 * model.c. */
#include "files-private.h"

#include <atrium/resources.h>
#include <string.h>

#include "files-resources.h"

const AtriumHost *files_host;
const AtriumGroupsService *files_groups;
AtriumPlugin *files_self;
FilesSettings files_settings;

/* ---- lifecycle ---- */

/* The files area of the browser portal (portal/page.js; docs/PORTAL.md), for everyone who
 * may use files. */
static gboolean
add_page (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (files_host, add_portal_page))
                return TRUE;
        const AtriumPortalPage page = {
                ATRIUM_PORTAL_PAGE_INIT,
                .resource = files_get_resource (),
                .folder = "/dev/atrium/files/portal",
                .module = "page.js",
                .id = "files",
                .label = "Files",
                .label_de = "Dateien",
                .permission = "files.read",
                .order = 100,
        };
        return files_host->add_portal_page (self, &page, error);
}

static gboolean
files_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        files_host = host;
        files_self = self;
        if (!ATRIUM_HOST_HAS (host, password_verify))
                return files_fail (error, ATRIUM_ERROR_INTERNAL,
                                   "the host is too old: files needs ABI 1.2 (streamed bodies)");
        files_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 1);
        if (!files_groups ||
            files_groups->header.struct_size < offsetof (AtriumGroupsService, group_exists) +
                                                       sizeof (files_groups->group_exists))
                return files_fail (error, ATRIUM_ERROR_INTERNAL,
                                   "files needs the groups service (version 1)");
        guint64 uq, gq, td, gci;
        if (!atrium_config_uint (host, self, "files", "user_quota", 1LL << 30, 0, G_MAXINT64, &uq,
                                 error) ||
            !atrium_config_uint (host, self, "files", "group_quota", 10LL << 30, 0, G_MAXINT64, &gq,
                                 error) ||
            !atrium_config_uint (host, self, "files", "trash_days", 30, 0, 3650, &td, error) ||
            !atrium_config_uint (host, self, "files", "gc_interval", 86400, 0, 30 * 86400, &gci,
                                 error))
                return FALSE;
        files_settings.user_quota = (gint64) uq;
        files_settings.group_quota = (gint64) gq;
        files_settings.trash_days = (guint) td;
        files_settings.gc_interval = (guint) gci;
        const char *dir = host->data_dir (self);
        if (!dir)
                return files_fail (error, ATRIUM_ERROR_INTERNAL,
                                   "files needs a writable [storage] data_dir");
        return files_blobs_init (dir, error) && files_register_transfer_routes (self, error) &&
               files_register_tree_routes (self, error) &&
               files_register_share_routes (self, error) &&
               files_register_quota_routes (self, error) && files_register_gc (self, error) &&
               files_register_service (self, error) && files_register_dav (self, error) &&
               host->subscribe (self, "user.deleted", files_on_user_deleted, NULL, error) &&
               host->subscribe (self, "group.deleted", files_on_group_deleted, NULL, error) &&
               atrium_add_migrations_from_resource (host, self, files_get_resource (),
                                                    "/dev/atrium/files/schema", error) &&
               add_page (self, error);
}

static const AtriumPermission permissions[] = {
        {"files.read", "Use files: your home folder, and read your groups' folders",
         "admin,teacher,student,parent,staff"},
        {"files.write", "Write in the folders of the groups you are a member of",
         "admin,teacher,staff"},
        {"files.share", "Create share links that let anyone with the link download a file",
         "admin,teacher,staff"},
        {"files.manage", "Set quotas; read and write every group's folder", "admin"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "files", .version = "1.0.0",
                      .description = "Home and group folders with streamed transfers, a trash, "
                                     "quotas and share links",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = files_init,
                      .user_export = files_user_export)
