/* SPDX-License-Identifier: Apache-2.0 */
/* audit.c - reading the audit log: a school's admins read their school's entries, operators
 * read everything (the RLS policy on core.audit_log draws that line). Entries are written
 * through core.audit() from atrium_audit() (identity.c). */
#include "identity-private.h"
#include "plugin-host-private.h"

static gboolean
list_audit (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        gboolean platform = req->school_slug == NULL;
        if (platform && !atrium_require_operator (req, error))
                return FALSE;
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (core->host, req, "i", &page, error))
                return FALSE;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT id, at, school_id, actor_id, actor_kind, action, target, details, client "
                "FROM core.audit_log WHERE id < $1::bigint "
                "AND ($2::uuid IS NULL OR school_id = $2::uuid) ORDER BY id DESC LIMIT (SELECT $3::int)",
                3, atrium_page_after (&page, 0, "9223372036854775807"),
                platform ? NULL : req->school_id, page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (core->host, req, &page, g_steal_pointer (&res), NULL, 1, 0);
        return TRUE;
}

void
atrium_audit_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}/audit",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_PAGED,
                 .permission = "audit.read",
                 .summary = "The school's audit log, newest first (paginated)",
                 .handler = list_audit},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/audit",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .summary = "The whole platform's audit log (operators)", .handler = list_audit},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
