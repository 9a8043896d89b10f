/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the mail plugin: school mailboxes, group addresses, real MIME (GMime), the bridge
 * to a real mail server (sendmail out, LMTP in).
 *
 * This file holds the descriptor and lifecycle; settings-routes.c the school's mail settings
 * and aliases; model.c the reaction to user.deleted and the GDPR export. Who may do what:
 *   - everyone with mail.read has a mailbox and reads it (only their own);
 *   - mail.send sends inside the school; mail.send_external to other domains;
 *   - writing to a group's address needs mail.send_to_group, or owning that group; from
 *     outside (LMTP), the group's setting decides (group-routes.c);
 *   - mail.manage (admins; operators) sets the domain and aliases.
 *
 * This file is the wiring (descriptor, settings, init); what the other files share is in
 * model.c. */
#include "mail-private.h"

#include <atrium/resources.h>
#include <string.h>

#include "mail-resources.h"

const AtriumHost *mail_host;
const AtriumGroupsService *mail_groups;
AtriumPlugin *mail_self;

/* ---- lifecycle ---- */

/* The mail area of the browser portal (portal/page.js; docs/PORTAL.md). An older host has no
 * portal: the mailbox works over REST all the same. */
static gboolean
add_page (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (mail_host, add_portal_page))
                return TRUE;
        const AtriumPortalPage page = {
                ATRIUM_PORTAL_PAGE_INIT,
                .resource = mail_get_resource (),
                .folder = "/dev/atrium/mail/portal",
                .module = "page.js",
                .id = "mail",
                .label = "Mail",
                .label_de = "E-Mail",
                .permission = "mail.read",
                .order = 150,
        };
        return mail_host->add_portal_page (self, &page, error);
}

static gboolean
mail_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        mail_host = host;
        mail_self = self;
        if (!ATRIUM_HOST_HAS (host, send_mail))
                return mail_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "the host is too old: mail needs ABI 1.5 (send_mail)");
        mail_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 2);
        if (!mail_groups ||
            mail_groups->header.struct_size < offsetof (AtriumGroupsService, group_by_slug) +
                                                      sizeof (mail_groups->group_by_slug))
                return mail_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "mail needs the groups service (version 2)");
        mail_mime_init ();
        return mail_register_settings_routes (self, error) &&
               mail_register_message_routes (self, error) &&
               mail_register_folder_routes (self, error) &&
               mail_register_quota_routes (self, error) &&
               mail_register_group_routes (self, error) && mail_outbox_register (self, error) &&
               host->subscribe (self, "user.deleted", mail_on_user_deleted, NULL, error) &&
               host->subscribe (self, "group.deleted", mail_on_group_deleted, NULL, error) &&
               atrium_add_migrations_from_resource (host, self, mail_get_resource (),
                                                    "/dev/atrium/mail/schema", error) &&
               add_page (self, error);
}

static gboolean
mail_start (AtriumPlugin *self, GError **error)
{
        return mail_lmtp_start (self, error);
}

static void
mail_fini (AtriumPlugin *self)
{
        mail_lmtp_stop ();
}

static const AtriumPermission permissions[] = {
        {"mail.read", "Have a mailbox and read it", "admin,teacher,student,parent,staff"},
        {"mail.send", "Send mail inside the school", "admin,teacher,student,parent,staff"},
        {"mail.send_external", "Send mail to addresses outside the school", "admin,teacher,staff"},
        {"mail.send_to_group", "Write to any group's address (a group's owners always may)",
         "admin,teacher,staff"},
        {"mail.manage", "Set the school's mail domain and aliases", "admin"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "mail", .version = "0.1.0",
                      .description = "School mailboxes with group addresses, MIME via GMime, "
                                     "sendmail out and LMTP in",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = mail_init, .start = mail_start,
                      .fini = mail_fini, .user_export = mail_user_export)
