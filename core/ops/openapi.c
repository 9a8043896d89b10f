/* SPDX-License-Identifier: Apache-2.0 */
/* openapi.c - builds the OpenAPI 3.1 document from the routes registered by the core and the
 * running plugins. Request-body schemas are the very schemas the host validates with, and
 * every operation lists the problem+json answers it can give, so the document cannot drift
 * from the behaviour. */
#include "core-private.h"
#include "ops-private.h"
#include "dav-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

#include "atrium-version.h"

static JsonNode *
ref_node (const char *ref)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "$ref", ref);
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

static JsonObject *
problem_schema (void)
{
        JsonObject *s = json_object_new ();
        json_object_set_string_member (s, "type", "object");
        json_object_set_string_member (s, "description", "RFC 9457 problem details");
        JsonObject *props = json_object_new ();
        const char *strs[] = {"type", "title", "detail", "instance", NULL};
        for (const char **p = strs; *p; p++) {
                JsonObject *t = json_object_new ();
                json_object_set_string_member (t, "type", "string");
                json_object_set_object_member (props, *p, t);
        }
        JsonObject *st = json_object_new ();
        json_object_set_string_member (st, "type", "integer");
        json_object_set_object_member (props, "status", st);
        json_object_set_object_member (s, "properties", props);
        JsonArray *req = json_array_new ();
        json_array_add_string_element (req, "type");
        json_array_add_string_element (req, "title");
        json_array_add_string_element (req, "status");
        json_object_set_array_member (s, "required", req);
        return s;
}

static void
add_problem_response (JsonObject *responses, guint status, const char *description)
{
        g_autofree char *code = g_strdup_printf ("%u", status);
        JsonObject *r = json_object_new ();
        json_object_set_string_member (r, "description", description);
        JsonObject *content = json_object_new ();
        JsonObject *media = json_object_new ();
        json_object_set_member (media, "schema", ref_node ("#/components/schemas/Problem"));
        json_object_set_object_member (content, "application/problem+json", media);
        json_object_set_object_member (r, "content", content);
        json_object_set_object_member (responses, code, r);
}

/* "/api/v1/schools/{school}/x/{path*}" -> "/api/v1/schools/{school}/x/{path}" */
static char *
openapi_path (const char *template)
{
        GString *s = g_string_new (template);
        char *star;
        while ((star = strstr (s->str, "*}")))
                g_string_erase (s, star - s->str, 1);
        return g_string_free (s, FALSE);
}

static void
add_query_parameter (JsonArray *params, const char *name, gboolean required, JsonNode *schema)
{
        JsonObject *prm = json_object_new ();
        json_object_set_string_member (prm, "name", name);
        json_object_set_string_member (prm, "in", "query");
        json_object_set_boolean_member (prm, "required", required);
        JsonObject *s = json_node_get_object (schema);
        if (json_object_has_member (s, "description"))
                json_object_set_string_member (prm, "description",
                                               json_object_get_string_member (s, "description"));
        json_object_set_member (prm, "schema", schema);
        json_array_add_object_element (params, prm);
}

/* The route's query_schema, one parameter per property; ?limit= and ?cursor= for a list that
 * pages (the host's request_page() rules). */
static void
add_query_parameters (JsonArray *params, const AtriumRouteEntry *e)
{
        JsonNode *schema = atrium_route_query_schema (e);
        if (schema) {
                JsonObject *root = json_node_get_object (schema);
                JsonObject *props = json_object_get_object_member (root, "properties");
                JsonArray *req = json_object_has_member (root, "required")
                                         ? json_object_get_array_member (root, "required")
                                         : NULL;
                g_autoptr (GList) names = json_object_get_members (props);
                for (GList *l = names; l; l = l->next) {
                        gboolean required = FALSE;
                        for (guint i = 0; req && i < json_array_get_length (req); i++)
                                required = required ||
                                           g_str_equal (json_array_get_string_element (req, i),
                                                        l->data);
                        add_query_parameter (
                                params, l->data, required,
                                json_node_copy (json_object_get_member (props, l->data)));
                }
        }
        if (e->flags & ATRIUM_ROUTE_PAGED) {
                add_query_parameter (params, "limit", FALSE,
                                     json_from_string (ATRIUM_PAGE_LIMIT_QUERY, NULL));
                add_query_parameter (params, "cursor", FALSE,
                                     json_from_string (ATRIUM_PAGE_CURSOR_QUERY, NULL));
        }
}

/* The Media Type Object of a response_type: text is a string, JSON without a response_schema
 * any JSON (a static file); anything else (a stored file, an image, a mail) is bytes, which
 * OpenAPI 3.1 describes by leaving the schema out. */
static JsonObject *
other_media (const char *type)
{
        JsonObject *media = json_object_new ();
        if (g_str_equal (type, "application/json")) {
                json_object_set_object_member (media, "schema", json_object_new ());
        } else if (g_str_has_prefix (type, "text/")) {
                JsonObject *schema = json_object_new ();
                json_object_set_string_member (schema, "type", "string");
                json_object_set_object_member (media, "schema", schema);
        }
        return media;
}

/* A page of a list (ATRIUM_ROUTE_PAGED): @item (nullable, transfer full) is one item. */
static JsonNode *
page_schema (JsonNode *item)
{
        g_autofree char *item_text = item ? json_to_string (item, FALSE) : g_strdup ("{}");
        if (item)
                json_node_unref (item);
        g_autofree char *text = g_strdup_printf (
                "{\"type\": \"object\", \"required\": [\"items\", \"next_cursor\"], "
                "\"properties\": {\"items\": {\"type\": \"array\", \"items\": %s}, "
                "\"next_cursor\": {\"type\": [\"string\", \"null\"], \"description\": \"pass "
                "as ?cursor= for the next page; null on the last\"}}}",
                item_text);
        return json_from_string (text, NULL);
}

static void
add_operation (const char *method, const char *template, gpointer data, gpointer user_data)
{
        JsonObject *paths = user_data;
        const AtriumRouteEntry *e = data;
        if (e->flags & ATRIUM_ROUTE_DAV) /* WebDAV is not REST: docs/WEBDAV.md */
                return;
        g_autofree char *path = openapi_path (template);
        if (!json_object_has_member (paths, path))
                json_object_set_object_member (paths, path, json_object_new ());
        JsonObject *item = json_object_get_object_member (paths, path);

        JsonObject *op = json_object_new ();
        g_autofree char *lower = g_ascii_strdown (method, -1);
        g_autofree char *op_id = NULL;
        {
                GString *id = g_string_new (lower);
                for (const char *p = template; *p; p++)
                        g_string_append_c (id, g_ascii_isalnum (*p) ? *p : '_');
                op_id = g_string_free (id, FALSE);
        }
        json_object_set_string_member (op, "operationId", op_id);
        json_object_set_string_member (op, "summary", e->summary ? e->summary : "");
        JsonArray *tags = json_array_new ();
        json_array_add_string_element (tags, e->owner ? e->owner->desc.name : "core");
        json_object_set_array_member (op, "tags", tags);
        if (e->permission)
                json_object_set_string_member (op, "x-atrium-permission", e->permission);
        if (e->flags & ATRIUM_ROUTE_PUBLIC)
                json_object_set_array_member (op, "security", json_array_new ());

        /* path parameters, in template order */
        JsonArray *params = json_array_new ();
        for (const char *p = strchr (template, '{'); p; p = strchr (p + 1, '{')) {
                const char *end = strchr (p, '}');
                if (!end)
                        break;
                g_autofree char *name = g_strndup (p + 1, end - p - 1);
                if (g_str_has_suffix (name, "*"))
                        name[strlen (name) - 1] = '\0';
                JsonObject *prm = json_object_new ();
                json_object_set_string_member (prm, "name", name);
                json_object_set_string_member (prm, "in", "path");
                json_object_set_boolean_member (prm, "required", TRUE);
                JsonObject *sch = json_object_new ();
                json_object_set_string_member (sch, "type", "string");
                json_object_set_object_member (prm, "schema", sch);
                json_array_add_object_element (params, prm);
        }
        add_query_parameters (params, e);
        json_object_set_array_member (op, "parameters", params);

        if (e->request_schema) {
                JsonObject *rb = json_object_new ();
                /* A route that reads its body itself may also take none (a folder made by
                 * POST ?action=mkdir). */
                json_object_set_boolean_member (rb, "required",
                                                !(e->flags & ATRIUM_ROUTE_RAW_BODY));
                JsonObject *content = json_object_new ();
                JsonObject *media = json_object_new ();
                json_object_set_member (media, "schema",
                                        json_from_string (e->request_schema, NULL));
                json_object_set_object_member (content, "application/json", media);
                json_object_set_object_member (rb, "content", content);
                json_object_set_object_member (op, "requestBody", rb);
        }

        JsonObject *responses = json_object_new ();
        JsonObject *ok = json_object_new ();
        json_object_set_string_member (ok, "description", "success");
        JsonObject *content = json_object_new ();
        if (e->response_schema || (e->flags & ATRIUM_ROUTE_PAGED)) {
                JsonObject *media = json_object_new ();
                JsonNode *body =
                        e->response_schema ? json_from_string (e->response_schema, NULL) : NULL;
                json_object_set_member (media, "schema",
                                        (e->flags & ATRIUM_ROUTE_PAGED) ? page_schema (body)
                                                                        : body);
                json_object_set_object_member (content, "application/json", media);
        }
        for (guint i = 0; e->response_types && e->response_types[i]; i++)
                if (!json_object_has_member (content, e->response_types[i]))
                        json_object_set_object_member (content, e->response_types[i],
                                                       other_media (e->response_types[i]));
        if (json_object_get_size (content))
                json_object_set_object_member (ok, "content", content);
        else
                json_object_unref (content);
        g_autofree char *code = g_strdup_printf ("%u", e->success_status);
        json_object_set_object_member (responses, code, ok);
        if (e->request_schema || e->query_schema ||
            (e->flags & (ATRIUM_ROUTE_RAW_BODY | ATRIUM_ROUTE_PAGED)))
                add_problem_response (responses, 400, "malformed or invalid request");
        if (!(e->flags & ATRIUM_ROUTE_PUBLIC))
                add_problem_response (responses, 401, "not signed in");
        if (e->permission)
                add_problem_response (responses, 403, "permission missing");
        if (strchr (template, '{'))
                add_problem_response (responses, 404, "not found");
        if (e->request_schema || (e->flags & ATRIUM_ROUTE_RAW_BODY))
                add_problem_response (responses, 413, "body too large");
        add_problem_response (responses, 503,
                              "database unavailable or host shutting down; try again after "
                              "Retry-After seconds");
        {
                /* Every 503 says when to try again (pipeline-private.h). */
                JsonObject *r503 = json_object_get_object_member (responses, "503");
                JsonObject *headers = json_object_new ();
                JsonObject *h = json_object_new ();
                JsonObject *schema = json_object_new ();
                json_object_set_string_member (h, "description", "seconds to wait");
                json_object_set_string_member (schema, "type", "integer");
                json_object_set_object_member (h, "schema", schema);
                json_object_set_object_member (headers, "Retry-After", h);
                json_object_set_object_member (r503, "headers", headers);
        }
        JsonObject *def = json_object_new ();
        json_object_set_string_member (def, "description", "any other problem");
        JsonObject *dcontent = json_object_new ();
        JsonObject *dmedia = json_object_new ();
        json_object_set_member (dmedia, "schema", ref_node ("#/components/schemas/Problem"));
        json_object_set_object_member (dcontent, "application/problem+json", dmedia);
        json_object_set_object_member (def, "content", dcontent);
        json_object_set_object_member (responses, "default", def);
        json_object_set_object_member (op, "responses", responses);

        json_object_set_object_member (item, lower, op);
}

JsonNode *
atrium_openapi_document (AtriumCore *core)
{
        JsonObject *doc = json_object_new ();
        json_object_set_string_member (doc, "openapi", "3.1.0");
        JsonObject *info = json_object_new ();
        json_object_set_string_member (info, "title", "Atrium API");
        json_object_set_string_member (info, "version", ATRIUM_VERSION);
        json_object_set_string_member (info, "description",
                                       "Unified REST API of the Atrium host and its plugins. "
                                       "Errors are RFC 9457 application/problem+json; lists "
                                       "page with limit and an opaque cursor (docs/REST.md).");
        JsonObject *lic = json_object_new ();
        json_object_set_string_member (lic, "name", "Apache-2.0");
        json_object_set_string_member (lic, "identifier", "Apache-2.0");
        json_object_set_object_member (info, "license", lic);
        json_object_set_object_member (doc, "info", info);

        JsonObject *paths = json_object_new ();
        atrium_router_foreach (core->router, add_operation, paths);
        json_object_set_object_member (doc, "paths", paths);

        JsonObject *components = json_object_new ();
        JsonObject *schemas = json_object_new ();
        json_object_set_object_member (schemas, "Problem", problem_schema ());
        json_object_set_object_member (components, "schemas", schemas);
        JsonObject *sec = json_object_new ();
        JsonObject *bearer = json_object_new ();
        json_object_set_string_member (bearer, "type", "http");
        json_object_set_string_member (bearer, "scheme", "bearer");
        json_object_set_object_member (sec, "bearer", bearer);
        json_object_set_object_member (components, "securitySchemes", sec);
        json_object_set_object_member (doc, "components", components);
        JsonArray *security = json_array_new ();
        JsonObject *req = json_object_new ();
        json_object_set_array_member (req, "bearer", json_array_new ());
        json_array_add_object_element (security, req);
        json_object_set_array_member (doc, "security", security);

        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, doc);
        return n;
}
