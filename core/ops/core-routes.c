/* SPDX-License-Identifier: Apache-2.0 */
/* core-routes.c - the host's own operational routes: liveness, readiness, metrics, the module
 * list and the OpenAPI document. They are ordinary routes with ordinary handlers, registered
 * through the same path as a plugin's, so they get the same logging, metrics and errors. */
#include "core-private.h"
#include "ops-private.h"
#include "plugin-host-private.h"

#include <string.h>

#include "atrium-version.h"

static gboolean
healthz (AtriumRequest *req, gpointer data, GError **error)
{
        (void) data;
        (void) error;
        /* Probed every few seconds by every balancer: the same bytes each time. */
        static const char body[] = "{\"status\":\"ok\"}";
        g_autoptr (GBytes) b = g_bytes_new_static (body, sizeof body - 1);
        req->core->host->respond_bytes (req, 200, "application/json", b);
        return TRUE;
}

static gboolean
readyz (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        if (!core->migrations_done) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                             "migrations have not been applied");
                return FALSE;
        }
        g_autoptr (AtriumResult) res = atrium_tx_query (req->tx, "SELECT 1", 0, NULL, error);
        if (!res)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "status", "ready");
        json_object_set_string_member (o, "database", "ok");
        json_object_set_string_member (o, "migrations", "applied");
        /* The replica only takes heavy reads, which go to the primary while it is away: the
         * host is degraded then, not down, and stays in the load balancer. */
        if (core->replica)
                json_object_set_string_member (
                        o, "replica", atrium_replica_usable (core->replica) ? "ok" : "degraded");
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        core->host->respond_json (req, 200, n);
        return TRUE;
}

static gboolean
metrics (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        (void) error;
        char *text = atrium_metrics_render (core->metrics, core);
        g_autoptr (GBytes) body = g_bytes_new_take (text, strlen (text));
        core->host->respond_bytes (req, 200, "text/plain; version=0.0.4; charset=utf-8", body);
        return TRUE;
}

static const char *
state_name (AtriumPluginState s)
{
        switch (s) {
        case ATRIUM_PLUGIN_RUNNING:
                return "loaded";
        case ATRIUM_PLUGIN_FAILED:
                return "failed";
        default:
                return "pending";
        }
}

static JsonNode *
module_json (const AtriumPlugin *p)
{
        JsonObject *o = json_object_new ();
        g_autofree char *base = g_path_get_basename (p->path);
        json_object_set_string_member (o, "name", p->desc.name ? p->desc.name : base);
        json_object_set_string_member (o, "file", base);
        if (p->desc.version) {
                g_autofree char *abi = g_strdup_printf ("%u.%u", ATRIUM_ABI_MAJOR, p->desc_minor);
                json_object_set_string_member (o, "version", p->desc.version);
                json_object_set_string_member (o, "abi_version", abi);
                json_object_set_string_member (o, "description",
                                               p->desc.description ? p->desc.description : "");
                json_object_set_string_member (o, "license",
                                               p->desc.license ? p->desc.license : "");
        }
        JsonArray *deps = json_array_new ();
        for (const AtriumDependency *d = p->desc.dependencies; d && d->name; d++) {
                JsonObject *dep = json_object_new ();
                json_object_set_string_member (dep, "name", d->name);
                if (d->min_version)
                        json_object_set_string_member (dep, "min_version", d->min_version);
                else
                        json_object_set_null_member (dep, "min_version");
                json_array_add_object_element (deps, dep);
        }
        json_object_set_array_member (o, "dependencies", deps);
        JsonArray *perms = json_array_new ();
        for (const AtriumPermission *perm = p->desc.permissions; perm && perm->name; perm++) {
                JsonObject *po = json_object_new ();
                json_object_set_string_member (po, "name", perm->name);
                json_object_set_string_member (po, "description",
                                               perm->description ? perm->description : "");
                json_array_add_object_element (perms, po);
        }
        json_object_set_array_member (o, "permissions", perms);
        json_object_set_string_member (o, "state", state_name (p->state));
        if (p->failure)
                json_object_set_string_member (o, "error", p->failure);
        else
                json_object_set_null_member (o, "error");
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

static gboolean
modules (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        (void) error;
        JsonArray *a = json_array_new ();
        for (guint i = 0; i < core->plugins->len; i++)
                json_array_add_element (a, module_json (core->plugins->pdata[i]));
        JsonObject *o = json_object_new ();
        json_object_set_array_member (o, "items", a);
        json_object_set_string_member (o, "host_version", ATRIUM_VERSION);
        g_autofree char *abi = g_strdup_printf ("%u.%u", ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        json_object_set_string_member (o, "abi_version", abi);
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        core->host->respond_json (req, 200, n);
        return TRUE;
}

static gboolean
openapi (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        (void) error;
        core->host->respond_json (req, 200, atrium_openapi_document (core));
        return TRUE;
}

/* module_json's fields, and the list around them. */
static const char modules_answer[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"host_version\":{\"type\":\"string\"},\"abi_version\":{\"type\":\"string\"},"
        "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\"},\"file\":{\"type\":\"string\"},"
        "\"version\":{\"type\":\"string\"},\"abi_version\":{\"type\":\"string\","
        "\"description\":\"the ABI the plugin was built against\"},"
        "\"description\":{\"type\":\"string\"},\"license\":{\"type\":\"string\"},"
        "\"dependencies\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\"},\"min_version\":{\"type\":[\"string\",\"null\"]}}}},"
        "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"}}}},"
        "\"state\":{\"type\":\"string\",\"enum\":[\"loaded\",\"failed\",\"pending\"]},"
        "\"error\":{\"type\":[\"string\",\"null\"]}}}}}}";

void
atrium_core_register_builtin_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/healthz",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_NO_DB,
                 .summary = "Liveness: the process answers",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":"
                                    "[\"ok\"]}}}",
                 .handler = healthz},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/readyz",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "Readiness: database reachable and migrations applied (a replica "
                            "that is down only degrades)",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":"
                                    "[\"ready\"]},\"database\":{\"enum\":[\"ok\"]},"
                                    "\"migrations\":{\"enum\":[\"applied\"]},\"replica\":{"
                                    "\"enum\":[\"ok\",\"degraded\"],\"description\":\"with "
                                    "[database] replica_url\"}}}",
                 .handler = readyz},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/metrics",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_NO_DB, .summary = "Prometheus metrics",
                 .response_type = "text/plain; version=0.0.4", .handler = metrics},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/modules",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "Loaded plugins with versions, dependencies, permissions, state",
                 .response_schema = modules_answer, .handler = modules},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/openapi.json",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_NO_DB,
                 .summary = "This OpenAPI 3.1 document, generated from the registered routes",
                 .response_schema = "{\"type\":\"object\",\"required\":[\"openapi\",\"info\","
                                    "\"paths\"],\"properties\":{\"openapi\":{\"type\":"
                                    "\"string\"},\"info\":{\"type\":\"object\"},\"paths\":{"
                                    "\"type\":\"object\"}},\"additionalProperties\":true}",
                 .handler = openapi},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
