/* SPDX-License-Identifier: Apache-2.0 */
/* noticeboard.c - the example third-party plugin: a school notice board.
 *
 * It shows everything a plugin does, in one small file: a descriptor made with
 * ATRIUM_PLUGIN_DEFINE, one permission, a migration shipped inside the .so, school-scoped
 * routes with request schemas, paginated listing with an opaque cursor, and an event. It
 * reacts to user.deleted, contributes to the GDPR export and adds a page to the browser portal
 * (portal/page.js, through add_portal_page). It
 * talks to the host only through the AtriumHost table, so it builds out of the tree against
 * the installed headers (`pkg-config atrium-plugin`). Walkthrough: docs/PLUGIN-GUIDE.md. */
#include <atrium/atrium.h>
#include <atrium/resources.h>

#include "noticeboard-resources.h"

static const AtriumHost *host;
static AtriumPlugin *plugin;

static const char notice_schema[] = "{"
        "\"type\": \"object\","
        "\"required\": [\"title\", \"body\"],"
        "\"properties\": {"
        "  \"title\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200},"
        "  \"body\": {\"type\": \"string\", \"maxLength\": 20000},"
        "  \"pinned\": {\"type\": \"boolean\"}"
        "}}";

static const char notice_out_schema[] = "{"
        "\"type\": \"object\","
        "\"properties\": {"
        "  \"id\": {\"type\": \"string\", \"format\": \"uuid\"},"
        "  \"title\": {\"type\": \"string\"}, \"body\": {\"type\": \"string\"},"
        "  \"pinned\": {\"type\": \"boolean\"},"
        "  \"author_id\": {\"type\": [\"string\", \"null\"]},"
        "  \"created_at\": {\"type\": \"string\", \"format\": \"date-time\"}"
        "}}";

#define NOTICE_COLUMNS "id, title, body, pinned, author_id, created_at"

static gboolean
not_found (GError **error, const char *id)
{
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no notice %s", id);
        return FALSE;
}

static gboolean
list_notices (AtriumRequest *req, gpointer data, GError **error)
{
        /* Keyset pagination on (created_at, id), newest first; the cursor is the last row's
         * key (atrium_page_respond_rows), which the host turns into an opaque token. The raw
         * timestamp text keeps full precision for the comparison. The first page starts after
         * ("infinity", the largest UUID): one plain row comparison the index scan starts at,
         * and the page size through a sub-select, keep the statement on one plan for every
         * page (atrium_page_after). */
        static const char sql[] = "SELECT " NOTICE_COLUMNS " FROM noticeboard.notices "
                                  "WHERE (created_at, id) < ($1::timestamptz, $2::uuid) "
                                  "ORDER BY created_at DESC, id DESC LIMIT (SELECT $3::int)";
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (host, req, "tu", &page, error))
                return FALSE;
        const char *params[3] = {atrium_page_after (&page, 0, "infinity"),
                                 atrium_page_after (&page, 1, ATRIUM_UUID_MAX), page.fetch};
        AtriumResult *res = host->query (host->request_tx (req), sql, 3, params, error);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (host, req, &page, res, NULL, 2, 5, 0);
        return TRUE;
}

static gboolean
create_notice (AtriumRequest *req, gpointer data, GError **error)
{
        static const char sql[] =
                "INSERT INTO noticeboard.notices (school_id, title, body, pinned, author_id) "
                "VALUES (core.current_school(), $1, $2, coalesce($3::boolean, false), $4::uuid) "
                "RETURNING " NOTICE_COLUMNS;
        JsonObject *in = json_node_get_object (host->request_json (req));
        const char *pinned = NULL;
        if (json_object_has_member (in, "pinned"))
                pinned = json_object_get_boolean_member (in, "pinned") ? "true" : "false";
        const char *params[4] = {json_object_get_string_member (in, "title"),
                                 json_object_get_string_member (in, "body"), pinned,
                                 host->request_user_id (req)};
        AtriumTx *tx = host->request_tx (req);
        AtriumResult *res = host->query (tx, sql, 4, params, error);
        if (!res)
                return FALSE;
        JsonNode *notice = host->result_row_json (res, 0);
        host->result_free (res);
        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "id",
                                       json_object_get_string_member (json_node_get_object (notice),
                                                                      "id"));
        json_object_set_string_member (ev, "title", params[0]);
        JsonNode *payload = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (payload, ev);
        if (!host->publish (tx, "noticeboard.posted", payload, error)) {
                json_node_unref (notice);
                return FALSE;
        }
        host->respond_json (req, 201, notice);
        return TRUE;
}

static gboolean
get_notice (AtriumRequest *req, gpointer data, GError **error)
{
        static const char sql[] =
                "SELECT " NOTICE_COLUMNS " FROM noticeboard.notices WHERE id = $1::uuid";
        const char *id = host->request_param (req, "id");
        if (!g_uuid_string_is_valid (id))
                return not_found (error, id);
        const char *params[1] = {id};
        AtriumResult *res = host->query (host->request_tx (req), sql, 1, params, error);
        if (!res)
                return FALSE;
        if (host->result_n_rows (res) == 0) {
                host->result_free (res);
                return not_found (error, id);
        }
        host->respond_json (req, 200, host->result_row_json (res, 0));
        host->result_free (res);
        return TRUE;
}

static gboolean
delete_notice (AtriumRequest *req, gpointer data, GError **error)
{
        static const char sql[] = "DELETE FROM noticeboard.notices WHERE id = $1::uuid";
        const char *id = host->request_param (req, "id");
        if (!g_uuid_string_is_valid (id))
                return not_found (error, id);
        const char *params[1] = {id};
        AtriumResult *res = host->query (host->request_tx (req), sql, 1, params, error);
        if (!res)
                return FALSE;
        guint64 n = host->result_affected (res);
        host->result_free (res);
        if (n == 0)
                return not_found (error, id);
        host->respond_json (req, 204, NULL);
        return TRUE;
}

/* GDPR erasure: a notice stays on the board, its author does not. */
static gboolean
on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                 GError **error)
{
        const char *params[1] = {
                json_object_get_string_member (json_node_get_object (payload), "user_id")};
        AtriumResult *res = host->query (
                tx, "UPDATE noticeboard.notices SET author_id = NULL WHERE author_id = $1::uuid", 1,
                params, error);
        if (!res)
                return FALSE;
        host->result_free (res);
        return TRUE;
}

/* GDPR access: the notices a person wrote. */
static gboolean
nb_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                GError **error)
{
        const char *params[1] = {user_id};
        AtriumResult *res = host->query (tx,
                                         "SELECT " NOTICE_COLUMNS " FROM noticeboard.notices "
                                         "WHERE author_id = $1::uuid ORDER BY created_at",
                                         1, params, error);
        if (!res)
                return FALSE;
        json_object_set_member (out, "notices", host->result_rows_json (res));
        host->result_free (res);
        return TRUE;
}

static gboolean
nb_init (AtriumPlugin *self, const AtriumHost *h, GError **error)
{
        host = h;
        plugin = self;
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/notices",
                 .summary = "List the school's notices, newest first (paginated)",
                 .flags = ATRIUM_ROUTE_PAGED, .response_schema = notice_out_schema,
                 .handler = list_notices},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/notices",
                 .permission = "noticeboard.post", .summary = "Post a notice",
                 .request_schema = notice_schema, .response_schema = notice_out_schema,
                 .success_status = 201, .handler = create_notice},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/notices/{id}",
                 .summary = "One notice", .response_schema = notice_out_schema,
                 .handler = get_notice},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/notices/{id}",
                 .permission = "noticeboard.post", .summary = "Take a notice down",
                 .success_status = 204, .handler = delete_notice},
        };
        if (!atrium_add_routes (host, self, routes, G_N_ELEMENTS (routes), error))
                return FALSE;
        if (!host->subscribe (self, "user.deleted", on_user_deleted, NULL, error))
                return FALSE;
        if (!atrium_add_migrations_from_resource (host, self, noticeboard_get_resource (),
                                                  "/dev/atrium/noticeboard/schema", error))
                return FALSE;
#if ATRIUM_ABI_AT_LEAST(1, 5)
        /* A page in the browser portal (docs/PORTAL.md): the files under portal/ in the
         * plugin's resource, and an entry everyone in a school with the module sees. A host
         * older than 1.5 has no portal: the plugin still serves its REST routes there. */
        if (ATRIUM_HOST_HAS (host, add_portal_page)) {
                const AtriumPortalPage page = {
                        ATRIUM_PORTAL_PAGE_INIT,
                        .resource = noticeboard_get_resource (),
                        .folder = "/dev/atrium/noticeboard/portal",
                        .module = "page.js",
                        .id = "noticeboard",
                        .label = "Noticeboard",
                        .label_de = "Schwarzes Brett",
                        .order = 900,
                };
                if (!host->add_portal_page (self, &page, error))
                        return FALSE;
        }
#endif
        return TRUE;
}

static const AtriumPermission permissions[] = {
        {"noticeboard.post", "Post and remove notices", "admin,teacher"},
        {NULL, NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "noticeboard", .version = "1.0.0",
                      .description = "School notice board (example third-party plugin)",
                      .license = "Apache-2.0", .permissions = permissions, .init = nb_init,
                      .user_export = nb_user_export)
