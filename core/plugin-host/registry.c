/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c - everything plugins (and the core) register: routes, migrations, event
 * subscriptions, services and permission sources. The only file that changes those lists: the
 * AtriumHost registration slots land here (refused outside init, so every entry belongs to a
 * plugin that can still be rolled back), and atrium_core_drop_registrations() takes a failed
 * plugin's entries out again. Commands and timers are plugin-tasks.c's own list. */
#include "core-private.h"
#include "plugin-host-private.h"
#include "pipeline-private.h"
#include "dav-private.h"
#include "portal-private.h"

#include <string.h>

/* A route's schema, compiled (checked and normalised), as compact JSON text. */
static char *
schema_text (const char *text, GError **error)
{
        g_autoptr (JsonNode) compiled = atrium_schema_compile (text, error);
        return compiled ? json_to_string (compiled, FALSE) : NULL;
}

/* @text's tree in @slot, made once (the text is a schema compiled at registration). */
static JsonNode *
kept_tree (JsonNode *const *cslot, const char *text)
{
        JsonNode **slot = (JsonNode **) cslot; /* the entry's mutable fields */
        JsonNode *tree = g_atomic_pointer_get (slot);
        if (tree || !text)
                return tree;
        JsonNode *made = json_from_string (text, NULL);
        g_assert (made != NULL);
        if (g_atomic_pointer_compare_and_exchange (slot, NULL, made))
                return made;
        json_node_unref (made); /* another thread's tree was first */
        return g_atomic_pointer_get (slot);
}

JsonNode *
atrium_route_request_schema (const AtriumRouteEntry *e)
{
        return kept_tree (&e->request_tree, e->request_schema);
}

JsonNode *
atrium_route_query_schema (const AtriumRouteEntry *e)
{
        return kept_tree (&e->query_tree, e->query_schema);
}

JsonNode *
atrium_route_response_schema (const AtriumRouteEntry *e)
{
        return kept_tree (&e->response_tree, e->response_schema);
}

/* What request_query() may read on the route (core-private.h), from its query schema. */
static char **
query_names (JsonNode *compiled, gboolean paged)
{
        GStrvBuilder *b = g_strv_builder_new ();
        if (compiled) {
                g_auto (GStrv) declared = atrium_query_schema_names (compiled);
                g_strv_builder_addv (b, (const char **) declared);
        }
        if (paged) {
                g_strv_builder_add (b, "limit");
                g_strv_builder_add (b, "cursor");
        }
        char **out = g_strv_builder_end (b);
        g_strv_builder_unref (b);
        return out;
}

static void
route_entry_free (AtriumRouteEntry *e)
{
        g_free (e->method);
        g_free (e->template);
        g_free (e->permission);
        g_free (e->summary);
        g_free (e->request_schema);
        if (e->request_tree)
                json_node_unref (e->request_tree);
        g_free (e->response_schema);
        if (e->response_tree)
                json_node_unref (e->response_tree);
        g_free (e->query_schema);
        if (e->query_tree)
                json_node_unref (e->query_tree);
        g_strfreev (e->query_names);
        g_strfreev (e->response_types);
        g_free (e);
}

static void
subscription_free (AtriumSubscription *s)
{
        g_free (s->event);
        g_free (s);
}

static void
service_free (AtriumService *s)
{
        g_free (s->name);
        g_free (s);
}

void
atrium_migration_free (AtriumMigration *m)
{
        g_free (m->name);
        g_free (m->sql);
        g_free (m->checksum);
        g_free (m);
}

void
atrium_registry_init (AtriumCore *core)
{
        core->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_entry_free);
        core->subscriptions =
                g_ptr_array_new_with_free_func ((GDestroyNotify) subscription_free);
        core->services = g_ptr_array_new_with_free_func ((GDestroyNotify) service_free);
        core->permission_sources = g_ptr_array_new_with_free_func (g_free);
}

void
atrium_registry_clear (AtriumCore *core)
{
        g_ptr_array_unref (core->routes);
        g_ptr_array_unref (core->subscriptions);
        g_ptr_array_unref (core->services);
        g_ptr_array_unref (core->permission_sources);
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL};
/* The core's own WebDAV routes (dav/) also take the DAV methods; plugins never do. */
static const char *const dav_methods[] = {"OPTIONS", "PROPFIND",   "PROPPATCH", "MKCOL",
                                          "COPY",    "MOVE",       "LOCK",      "UNLOCK",
                                          "REPORT",  "MKCALENDAR", NULL};

gboolean
atrium_core_add_route (AtriumCore *core, AtriumPlugin *owner, const AtriumRoute *in,
                       GError **error)
{
        AtriumRoute r;
        if (!atrium_registry_copy_struct (in ? &in->header : NULL,
                                          offsetof (AtriumRoute, user_data) + sizeof (gpointer), &r,
                                          sizeof r, "route", "ATRIUM_ROUTE_INIT", error))
                return FALSE;

        if (!r.method ||
            !(g_strv_contains (methods, r.method) || (!owner && (r.flags & ATRIUM_ROUTE_DAV) &&
                                                      g_strv_contains (dav_methods, r.method))) ||
            !r.path || !r.handler || (r.path[0] && r.path[0] != '/')) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "route %s %s: needs a method, a handler and a path that is empty "
                             "or starts with '/'",
                             r.method ? r.method : "?", r.path ? r.path : "?");
                return FALSE;
        }
        g_autofree char *full = NULL;
        if (!owner)
                full = g_strdup (r.path);
        else if (r.scope == ATRIUM_SCOPE_SCHOOL)
                full = g_strdup_printf ("/api/v1/schools/{school}/%s%s", owner->desc.name, r.path);
        else
                full = g_strdup_printf ("/api/v1/%s%s", owner->desc.name, r.path);

        g_autofree char *req_schema = NULL, *resp_schema = NULL;
        if (r.request_schema && !(req_schema = schema_text (r.request_schema, error))) {
                g_prefix_error (error, "route %s %s: ", r.method, full);
                return FALSE;
        }
        if (r.response_schema && !(resp_schema = schema_text (r.response_schema, error))) {
                g_prefix_error (error, "route %s %s: ", r.method, full);
                return FALSE;
        }
        g_autoptr (JsonNode) query = NULL;
        if (r.query_schema && !(query = atrium_query_schema_compile (r.query_schema, error))) {
                g_prefix_error (error, "route %s %s: ", r.method, full);
                return FALSE;
        }
        g_auto (GStrv) types = NULL;
        if (r.response_type && !(types = atrium_media_types_parse (r.response_type, error))) {
                g_prefix_error (error, "route %s %s: ", r.method, full);
                return FALSE;
        }
        /* A route built against headers that have query_schema declares what it reads. */
        const gboolean declares =
                !owner || in->header.struct_size >=
                                  offsetof (AtriumRoute, query_schema) + sizeof (const char *);
        AtriumRouteEntry *e = g_new0 (AtriumRouteEntry, 1);
        e->owner = owner;
        e->method = g_strdup (r.method);
        e->template = g_strdup (full);
        /* The core's routes spell out their full path: {school} in it makes them school
         * routes. A plugin's scope decides its prefix instead. */
        e->scope = owner ? r.scope
                         : strstr (full, "{school}") ? ATRIUM_SCOPE_SCHOOL : ATRIUM_SCOPE_GLOBAL;
        /* NO_DB routes are answered on the front (http/server.c): only the core's own may say so. */
        e->flags = owner ? r.flags & ~(ATRIUM_ROUTE_NO_DB | ATRIUM_ROUTE_EARLY_QUERY |
                                       ATRIUM_ROUTE_DAV)
                         : r.flags;
        e->permission = g_strdup (r.permission);
        e->summary = g_strdup (r.summary);
        e->request_schema = g_steal_pointer (&req_schema);
        e->response_schema = g_steal_pointer (&resp_schema);
        e->query_schema = query ? json_to_string (query, FALSE) : NULL;
        e->query_names = declares ? query_names (query, r.flags & ATRIUM_ROUTE_PAGED) : NULL;
        e->response_types = g_steal_pointer (&types);
        e->success_status = r.success_status ? r.success_status : 200;
        e->handler = r.handler;
        e->user_data = r.user_data;
        if (!atrium_router_add (core->router, e->method, e->template, e, error)) {
                route_entry_free (e);
                return FALSE;
        }
        g_ptr_array_add (core->routes, e);
        return TRUE;
}

void
atrium_core_add_routes (AtriumCore *core, const AtriumRoute *routes, gsize n)
{
        for (gsize i = 0; i < n; i++) {
                AtriumRoute r = routes[i];
                r.user_data = core;
                g_autoptr (GError) error = NULL;
                if (!atrium_core_add_route (core, NULL, &r, &error))
                        g_error ("core route %s %s: %s", r.method, r.path, error->message);
        }
}

static gboolean
route_owned_by (gpointer key, gpointer value, gpointer owner)
{
        (void) key;
        return ((AtriumRouteEntry *) value)->owner == owner;
}

void
atrium_core_drop_registrations (AtriumCore *core, AtriumPlugin *owner)
{
        atrium_router_remove_if (core->router, route_owned_by, owner);
        for (guint i = core->routes->len; i > 0; i--)
                if (((AtriumRouteEntry *) core->routes->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (core->routes, i - 1);
        for (guint i = core->subscriptions->len; i > 0; i--)
                if (((AtriumSubscription *) core->subscriptions->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (core->subscriptions, i - 1);
        for (guint i = core->services->len; i > 0; i--)
                if (((AtriumService *) core->services->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (core->services, i - 1);
        g_ptr_array_set_size (owner->migrations, 0);
        g_autofree char *prefix = g_strconcat (owner->desc.name, ".", NULL);
        for (guint i = core->permission_sources->len; i > 0; i--)
                if (g_str_has_prefix (core->permission_sources->pdata[i - 1], prefix))
                        g_ptr_array_remove_index (core->permission_sources, i - 1);
        atrium_tasks_drop (core, owner);
        atrium_dav_drop (core, owner);
        atrium_portal_drop (core, owner);
}

gboolean
atrium_registry_copy_struct (const AtriumStructHeader *in, gsize min_size, void *out,
                             gsize out_size, const char *what, const char *init, GError **error)
{
        /* Versioned like the descriptor: read only what the caller knew, zeros after. */
        if (!in || in->magic != ATRIUM_MAGIC || in->abi_major != ATRIUM_ABI_MAJOR ||
            in->struct_size < min_size) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "%s without a valid header (use %s)", what, init);
                return FALSE;
        }
        memset (out, 0, out_size);
        memcpy (out, in, MIN ((gsize) in->struct_size, out_size));
        return TRUE;
}

gboolean
atrium_registry_name_ok (const char *s)
{
        if (!s || !g_ascii_islower (s[0]) || strlen (s) > 32)
                return FALSE;
        for (const char *c = s; *c; c++)
                if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '-')
                        return FALSE;
        return TRUE;
}

gboolean
atrium_registry_registering (AtriumPlugin *self, GError **error)
{
        if (!self || !self->in_init) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "registration is only possible during init");
                return FALSE;
        }
        return TRUE;
}

gboolean
atrium_registry_add_route (AtriumPlugin *self, const AtriumRoute *route, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        return atrium_core_add_route (self->core, self, route, error);
}

gboolean
atrium_registry_add_migration (AtriumPlugin *self, const char *name, const char *sql, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        if (!name || !*name || !sql) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "a migration needs a name and SQL");
                return FALSE;
        }
        for (guint i = 0; i < self->migrations->len; i++) {
                AtriumMigration *m = self->migrations->pdata[i];
                if (g_str_equal (m->name, name)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "migration %s registered twice", name);
                        return FALSE;
                }
        }
        AtriumMigration *m = g_new0 (AtriumMigration, 1);
        m->name = g_strdup (name);
        m->sql = g_strdup (sql);
        m->checksum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, sql, -1);
        g_ptr_array_add (self->migrations, m);
        return TRUE;
}

void
atrium_registry_release_migration_sql (AtriumCore *core)
{
        for (guint i = 0; i < core->plugins->len; i++) {
                GPtrArray *list = ((AtriumPlugin *) core->plugins->pdata[i])->migrations;
                for (guint j = 0; j < list->len; j++)
                        g_clear_pointer (&((AtriumMigration *) list->pdata[j])->sql, g_free);
        }
}

gboolean
atrium_registry_subscribe (AtriumPlugin *self, const char *event, AtriumEventHandler handler,
                gpointer user_data, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        g_return_val_if_fail (event != NULL && handler != NULL, FALSE);
        AtriumSubscription *s = g_new0 (AtriumSubscription, 1);
        s->owner = self;
        s->event = g_strdup (event);
        s->handler = handler;
        s->user_data = user_data;
        g_ptr_array_add (self->core->subscriptions, s);
        return TRUE;
}

gboolean
atrium_registry_provide_service (AtriumPlugin *self, const char *name, guint version, gconstpointer table,
                      GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        g_return_val_if_fail (name != NULL && table != NULL, FALSE);
        for (guint i = 0; i < self->core->services->len; i++) {
                AtriumService *s = self->core->services->pdata[i];
                if (g_str_equal (s->name, name)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                                     "service %s is already provided by %s", name,
                                     s->owner->desc.name);
                        return FALSE;
                }
        }
        AtriumService *s = g_new0 (AtriumService, 1);
        s->owner = self;
        s->name = g_strdup (name);
        s->version = version;
        s->table = table;
        g_ptr_array_add (self->core->services, s);
        return TRUE;
}

gconstpointer
atrium_registry_lookup_service (AtriumPlugin *self, const char *name, guint min_version)
{
        g_return_val_if_fail (self != NULL && name != NULL, NULL);
        return atrium_core_lookup_service (self->core, name, min_version);
}

gconstpointer
atrium_core_lookup_service (AtriumCore *core, const char *name, guint min_version)
{
        g_return_val_if_fail (core != NULL && name != NULL, NULL);
        for (guint i = 0; i < core->services->len; i++) {
                AtriumService *s = core->services->pdata[i];
                if (g_str_equal (s->name, name) && s->version >= min_version &&
                    s->owner->state != ATRIUM_PLUGIN_FAILED)
                        return s->table;
        }
        return NULL;
}

gboolean
atrium_registry_add_permission_source (AtriumPlugin *self, const char *sql_function, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        /* "schema.function", both plain identifiers, and in the plugin's own schema. */
        g_autofree char *prefix = g_strconcat (self->desc.name, ".", NULL);
        if (!sql_function || !g_str_has_prefix (sql_function, prefix) ||
            !g_regex_match_simple ("^[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*\\z", sql_function, 0, 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "permission source must be \"%s.<function>\"", self->desc.name);
                return FALSE;
        }
        g_ptr_array_add (self->core->permission_sources, g_strdup (sql_function));
        return TRUE;
}

