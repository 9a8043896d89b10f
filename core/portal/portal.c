/* SPDX-License-Identifier: Apache-2.0 */
/* portal.c - the browser portal's routes and the pages plugins contribute.
 *
 * The shell (the page at /, its scripts and styles) is the core's, compiled into atriumd as
 * a GResource (portal.gresource.xml). Everything a page shows comes from the public REST API;
 * the only portal-specific route with data is the navigation, GET
 * /api/v1/schools/{school}/portal/nav, which lists the pages (add_portal_page, ABI 1.5) the
 * caller may see. The static routes need no database (ATRIUM_ROUTE_NO_DB: answered on the
 * front) and no sign-in: they hold nothing secret, and the sign-in page is one of them. */
#include "portal-private.h"

#include <string.h>

#include "atrium-portal-resources.h"
#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#define SHELL_FOLDER "/dev/atrium/portal/shell"
#define INDEX_PATH "/dev/atrium/portal/index.html"

typedef struct {
        AtriumPlugin *owner;
        char *id;
        char *label;
        char *label_de;
        char *permission; /* (nullable) */
        char *module;     /* file in the bundle */
        int order;
        AtriumPortalBundle *bundle;
} Page;

struct _AtriumPortal {
        AtriumPortalBundle *shell;
        GBytes *index; /* the shell page, with its bundle's prefix filled in */
        char *index_etag;
        GPtrArray *pages;    /* Page*, owned */
        GHashTable *by_hash; /* bundle hash -> AtriumPortalBundle (borrowed) */
};

static void
page_free (Page *p)
{
        g_free (p->id);
        g_free (p->label);
        g_free (p->label_de);
        g_free (p->permission);
        g_free (p->module);
        atrium_portal_bundle_free (p->bundle);
        g_free (p);
}

void
atrium_portal_init (AtriumCore *core)
{
        core->portal = g_new0 (AtriumPortal, 1);
        core->portal->pages = g_ptr_array_new_with_free_func ((GDestroyNotify) page_free);
        core->portal->by_hash = g_hash_table_new (g_str_hash, g_str_equal);
}

void
atrium_portal_clear (AtriumCore *core)
{
        AtriumPortal *portal = g_steal_pointer (&core->portal);
        if (!portal)
                return;
        g_hash_table_unref (portal->by_hash);
        g_ptr_array_unref (portal->pages);
        atrium_portal_bundle_free (portal->shell);
        g_clear_pointer (&portal->index, g_bytes_unref);
        g_free (portal->index_etag);
        g_free (portal);
}

static void
rebuild_index (AtriumPortal *portal)
{
        g_hash_table_remove_all (portal->by_hash);
        if (portal->shell)
                g_hash_table_insert (portal->by_hash,
                                     (gpointer) atrium_portal_bundle_hash (portal->shell),
                                     portal->shell);
        for (guint i = 0; i < portal->pages->len; i++) {
                Page *p = portal->pages->pdata[i];
                g_hash_table_insert (portal->by_hash,
                                     (gpointer) atrium_portal_bundle_hash (p->bundle), p->bundle);
        }
}

void
atrium_portal_drop (AtriumCore *core, AtriumPlugin *owner)
{
        AtriumPortal *portal = core->portal;
        for (guint i = portal->pages->len; i > 0; i--)
                if (((Page *) portal->pages->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (portal->pages, i - 1);
        rebuild_index (portal);
}

/* The core's own pages: admin and operator pages in the shell bundle (shell/admin-*.js,
 * shell/operator-*.js). They are listed like the plugins' pages, from the same table fields,
 * but are owned by no plugin: a school page may need a module enabled (the groups admin page
 * drives the groups plugin's routes), an installation page is for operators only. Orders
 * start at 1000, after every page a plugin of this tree contributes. */
typedef struct {
        const char *id, *file, *label, *label_de;
        const char *permission; /* (nullable): NULL on installation pages (operators only) */
        const char *module;     /* (nullable): the module the school must have enabled */
        gboolean installation;  /* listed by GET /api/v1/portal/nav, for operators */
        int order;
} CorePage;

static const CorePage core_pages[] = {
        {"people", "admin-people.js", "People", "Personen", "users.manage", NULL, FALSE, 1000},
        {"import", "admin-import.js", "Import", "Import", "users.manage", NULL, FALSE, 1010},
        {"access", "admin-access.js", "Access", "Zugang", "users.manage", NULL, FALSE, 1015},
        {"modules", "admin-modules.js", "Modules", "Module", "modules.manage", NULL, FALSE, 1020},
        {"admin-groups", "admin-groups.js", "Group administration", "Gruppenverwaltung",
         "groups.manage", "groups", FALSE, 1030},
        {"audit", "admin-audit.js", "Audit log", "Protokoll", "audit.read", NULL, FALSE, 1040},
        {"schools", "operator-schools.js", "Schools", "Schulen", NULL, NULL, TRUE, 1000},
        {"usage", "operator-usage.js", "Usage", "Nutzung", NULL, NULL, TRUE, 1010},
};

/* Whether @id is one of the core's pages (a plugin cannot take it): those listed above, and
 * the two the shell draws itself (start.js, account.js). */
static gboolean
core_page_id (const char *id)
{
        if (g_str_equal (id, "start") || g_str_equal (id, "account"))
                return TRUE;
        for (gsize i = 0; i < G_N_ELEMENTS (core_pages); i++)
                if (g_str_equal (core_pages[i].id, id))
                        return TRUE;
        return FALSE;
}

gboolean
atrium_portal_add_page (AtriumPlugin *self, const AtriumPortalPage *in, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        AtriumPortalPage pg;
        if (!atrium_registry_copy_struct (
                    in ? &in->header : NULL, offsetof (AtriumPortalPage, order) + sizeof (int), &pg,
                    sizeof pg, "portal page", "ATRIUM_PORTAL_PAGE_INIT", error))
                return FALSE;
        AtriumPortal *portal = self->core->portal;
        if (!atrium_registry_name_ok (pg.id) || !pg.label || !*pg.label || !pg.resource ||
            !pg.folder || !pg.module) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "portal page needs an id ([a-z][a-z0-9-]*), a label, a resource, "
                             "a folder and a module");
                return FALSE;
        }
        gboolean taken = core_page_id (pg.id);
        for (guint i = 0; !taken && i < portal->pages->len; i++)
                taken = g_str_equal (((Page *) portal->pages->pdata[i])->id, pg.id);
        if (taken) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "portal page \"%s\" is taken", pg.id);
                return FALSE;
        }
        g_autoptr (AtriumPortalBundle) bundle =
                atrium_portal_bundle_new (pg.resource, pg.folder, error);
        if (!bundle)
                return FALSE;
        if (!atrium_portal_bundle_has (bundle, pg.module)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "portal page \"%s\": no %s under %s", pg.id, pg.module, pg.folder);
                return FALSE;
        }
        Page *p = g_new0 (Page, 1);
        p->owner = self;
        p->id = g_strdup (pg.id);
        p->label = g_strdup (pg.label);
        p->label_de = g_strdup (pg.label_de ? pg.label_de : pg.label);
        p->permission = g_strdup (pg.permission);
        p->module = g_strdup (pg.module);
        p->order = pg.order;
        p->bundle = g_steal_pointer (&bundle);
        g_ptr_array_add (portal->pages, p);
        rebuild_index (portal);
        return TRUE;
}

/* ---- routes ---- */

static gboolean
shell_page (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        AtriumPortal *portal = core->portal;
        atrium_portal_security_headers (req);
        /* Revalidated on every visit: it names the bundle prefixes of this build. */
        atrium_request_add_header (req, "Cache-Control", "no-cache");
        atrium_request_add_header (req, "ETag", portal->index_etag);
        const char *inm = g_hash_table_lookup (req->headers, "if-none-match");
        if (inm && strstr (inm, portal->index_etag)) {
                atrium_request_respond_bytes (req, 304, NULL, NULL);
                return TRUE;
        }
        atrium_request_respond_bytes (req, 200, "text/html; charset=utf-8", portal->index);
        return TRUE;
}

static gboolean
asset (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *hash = g_hash_table_lookup (req->params, "hash");
        const char *path = g_hash_table_lookup (req->params, "path");
        const AtriumPortalBundle *b = g_hash_table_lookup (core->portal->by_hash, hash);
        if (!b || !path ||
            !atrium_portal_bundle_respond (b, req, path, "public, max-age=31536000, immutable")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no portal asset %s/%s",
                             hash, path ? path : "");
                return FALSE;
        }
        return TRUE;
}

/* One entry of a navigation answer; @bundle names the files' prefix. */
static void
add_entry (JsonArray *items, const char *id, const char *module_name, const char *label,
           const char *label_de, const AtriumPortalBundle *bundle, const char *file, int order)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", id);
        json_object_set_string_member (o, "module_name", module_name);
        JsonObject *l = json_object_new ();
        json_object_set_string_member (l, "en", label);
        json_object_set_string_member (l, "de", label_de);
        json_object_set_object_member (o, "label", l);
        g_autofree char *url =
                g_strdup_printf ("/portal/assets/%s/%s", atrium_portal_bundle_hash (bundle), file);
        json_object_set_string_member (o, "module", url);
        json_object_set_int_member (o, "order", order);
        json_array_add_object_element (items, o);
}

static int
compare_entries (gconstpointer a, gconstpointer b)
{
        JsonObject *x = json_node_get_object (*(JsonNode *const *) a);
        JsonObject *y = json_node_get_object (*(JsonNode *const *) b);
        gint64 ox = json_object_get_int_member (x, "order");
        gint64 oy = json_object_get_int_member (y, "order");
        return ox != oy ? (ox < oy ? -1 : 1)
                        : strcmp (json_object_get_string_member (x, "id"),
                                  json_object_get_string_member (y, "id"));
}

/* Answers {items} sorted by order, then id. */
static void
respond_nav (AtriumRequest *req, JsonArray *items)
{
        g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
        for (guint i = 0; i < json_array_get_length (items); i++)
                g_ptr_array_add (nodes, json_array_get_element (items, i));
        g_ptr_array_sort (nodes, compare_entries);
        JsonArray *sorted = json_array_new ();
        for (guint i = 0; i < nodes->len; i++)
                json_array_add_element (sorted, json_node_copy (nodes->pdata[i]));
        json_array_unref (items);
        JsonObject *out = json_object_new ();
        json_object_set_array_member (out, "items", sorted);
        req->core->host->respond_json (req, 200, atrium_json_object_node (out));
}

static gboolean
nav (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_autoptr (AtriumResult) mods =
                atrium_sql (req, error, "SELECT module FROM core.school_modules", 0);
        if (!mods)
                return FALSE;
        g_autoptr (GHashTable) enabled = g_hash_table_new (g_str_hash, g_str_equal);
        for (int r = 0; r < atrium_result_n_rows (mods); r++)
                g_hash_table_add (enabled, (gpointer) atrium_result_value (mods, r, 0));
        JsonArray *items = json_array_new ();
        for (guint i = 0; i < core->portal->pages->len; i++) {
                Page *p = core->portal->pages->pdata[i];
                if (p->owner->state != ATRIUM_PLUGIN_RUNNING ||
                    !g_hash_table_contains (enabled, p->owner->desc.name))
                        continue;
                if (p->permission && !req->operator_id &&
                    !atrium_perm_set_has (req->permissions, p->permission))
                        continue;
                add_entry (items, p->id, p->owner->desc.name, p->label, p->label_de, p->bundle,
                           p->module, p->order);
        }
        for (gsize i = 0; i < G_N_ELEMENTS (core_pages); i++) {
                const CorePage *c = &core_pages[i];
                if (c->installation || (c->module && !g_hash_table_contains (enabled, c->module)))
                        continue;
                if (!req->operator_id && !atrium_perm_set_has (req->permissions, c->permission))
                        continue;
                add_entry (items, c->id, "core", c->label, c->label_de, core->portal->shell,
                           c->file, c->order);
        }
        respond_nav (req, items);
        return TRUE;
}

/* The installation's pages: the operators' (schools, usage); nobody else has any. */
static gboolean
nav_installation (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        JsonArray *items = json_array_new ();
        for (gsize i = 0; req->operator_id && i < G_N_ELEMENTS (core_pages); i++)
                if (core_pages[i].installation)
                        add_entry (items, core_pages[i].id, "core", core_pages[i].label,
                                   core_pages[i].label_de, core->portal->shell, core_pages[i].file,
                                   core_pages[i].order);
        respond_nav (req, items);
        return TRUE;
}

static const char nav_response[] =
        "{\"type\":\"object\",\"required\":[\"items\"],\"properties\":{\"items\":{\"type\":"
        "\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\",\"module_name\",\"label\","
        "\"module\",\"order\"],\"properties\":{\"id\":{\"type\":\"string\"},"
        "\"module_name\":{\"type\":\"string\"},"
        "\"label\":{\"type\":\"object\",\"properties\":{\"en\":{\"type\":\"string\"},"
        "\"de\":{\"type\":\"string\"}}},"
        "\"module\":{\"type\":\"string\",\"description\":\"URL of the page's ES module\"},"
        "\"order\":{\"type\":\"integer\"}}}}}}";

void
atrium_portal_routes (AtriumCore *core)
{
        AtriumPortal *portal = core->portal;
        g_autoptr (GError) error = NULL;
        GResource *res = atrium_portal_get_resource ();
        portal->shell = atrium_portal_bundle_new (res, SHELL_FOLDER, &error);
        if (!portal->shell)
                g_error ("the portal's shell: %s", error->message);
        for (gsize i = 0; i < G_N_ELEMENTS (core_pages); i++)
                if (!atrium_portal_bundle_has (portal->shell, core_pages[i].file))
                        g_error ("the portal's shell has no %s", core_pages[i].file);
        g_autoptr (GBytes) tmpl = g_resource_lookup_data (res, INDEX_PATH, 0, &error);
        if (!tmpl)
                g_error ("the portal's page: %s", error->message);
        g_autofree char *text = g_strndup (g_bytes_get_data (tmpl, NULL), g_bytes_get_size (tmpl));
        g_autofree char *prefix =
                g_strconcat ("/portal/assets/", atrium_portal_bundle_hash (portal->shell), NULL);
        g_auto (GStrv) parts = g_strsplit (text, "@ASSETS@", -1);
        char *page = g_strjoinv (prefix, parts);
        portal->index = g_bytes_new_take (page, strlen (page));
        g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, page, strlen (page));
        portal->index_etag = g_strdup_printf ("\"%.32s\"", hex);
        rebuild_index (portal);

        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_NO_DB,
                 .summary = "The browser portal (HTML; docs/PORTAL.md)",
                 .response_type = "text/html", .handler = shell_page},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/portal/assets/{hash}/{path*}",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_NO_DB,
                 .summary = "The portal's static files, under content-hashed prefixes",
                 .response_type = "text/javascript, text/css, text/html, text/plain, "
                                  "application/json, image/svg+xml, image/png, image/x-icon, "
                                  "font/woff2, application/octet-stream",
                 .handler = asset},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}/portal/nav",
                 .summary = "The portal pages the caller may see in the school",
                 .response_schema = nav_response, .handler = nav},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/portal/nav",
                 .summary = "The installation's portal pages the caller may see (operators' "
                            "pages; empty for everyone else)",
                 .response_schema = nav_response, .handler = nav_installation},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
