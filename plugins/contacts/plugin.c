/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c - the contacts plugin: address books over CardDAV (RFC 6352; issue #19). Every
 * person has two: "people", read-only, the people of the school they may see (people.c), and
 * "personal", their own cards (book.c). Both are served as the "contacts" tree of the host's
 * DAV layer (carddav.c, report.c); the plugin has no REST routes.
 *
 * This file is the wiring: descriptor, permission, init and the GDPR export. Group membership
 * comes from the groups plugin's service table, never from its tables. */
#include "contacts-private.h"

#include <atrium/resources.h>

#include "contacts-resources.h"

const AtriumHost *ct_host;
AtriumPlugin *ct_self;
const AtriumGroupsService *ct_groups;

static gboolean
ct_init (AtriumPlugin *self, const AtriumHost *host, GError **error)
{
        ct_host = host;
        ct_self = self;
        if (!ATRIUM_HOST_HAS (host, add_dav_tree))
                return ct_fail (error, ATRIUM_ERROR_INTERNAL,
                                "the host is too old: contacts needs ABI 1.5 (DAV trees)");
        ct_groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, 1);
        if (!ct_groups ||
            ct_groups->header.struct_size <
                    offsetof (AtriumGroupsService, groups_of) + sizeof (ct_groups->groups_of))
                return ct_fail (error, ATRIUM_ERROR_INTERNAL,
                                "contacts needs the groups service (version 1)");
        return ct_register_tree (self, error) && ct_register_prune (error) &&
               atrium_add_migrations_from_resource (host, self, contacts_get_resource (),
                                                    "/dev/atrium/contacts/schema", error);
}

/* A person's own cards (the people book is everyone else's data, made from core.users). */
static gboolean
ct_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                GError **error)
{
        return atrium_export_rows (ct_host, tx, out, "cards",
                                   "SELECT c.name, c.uid, c.fn, c.created_at, c.updated_at, "
                                   "c.vcard FROM contacts.cards c WHERE c.owner_id = $1::uuid "
                                   "ORDER BY c.name",
                                   user_id, error);
}

static const AtriumPermission permissions[] = {
        {"contacts.read",
         "Use address books over CardDAV: the people you may see (read-only) and your own "
         "contacts",
         "admin,teacher,student,parent,staff"},
        {NULL, NULL, NULL},
};

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "contacts", .version = "1.0.0",
                      .description = "Address books over CardDAV: people and personal contacts",
                      .license = "Apache-2.0", .dependencies = dependencies,
                      .permissions = permissions, .init = ct_init, .user_export = ct_user_export)
