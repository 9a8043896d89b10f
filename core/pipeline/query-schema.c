/* SPDX-License-Identifier: Apache-2.0 */
/* query-schema.c - a route's query parameters, declared as the JSON Schema of an object
 * (AtriumRoute.query_schema): checked before the handler runs, listed in OpenAPI.
 *
 * A query string is text; each declared parameter says which JSON type its text stands for
 * ("?limit=5" an integer, "?seen=true" a boolean), and is then validated with the same
 * keywords a body is (json-schema.c), so the document and the behaviour cannot part. */
#include "pipeline-private.h"

#include <math.h>
#include <string.h>

#include "atrium/host.h"

static const char *const scalar_types[] = {"string", "integer", "number", "boolean", NULL};

JsonNode *
atrium_query_schema_compile (const char *text, GError **error)
{
        g_autoptr (JsonNode) root = atrium_schema_compile (text, error);
        if (!root)
                return NULL;
        JsonObject *o = json_node_get_object (root);
        const char *type = json_object_get_string_member_with_default (o, "type", NULL);
        JsonNode *props = json_object_get_member (o, "properties");
        if (g_strcmp0 (type, "object") != 0 || !props || !JSON_NODE_HOLDS_OBJECT (props)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "query schema must be {\"type\": \"object\", \"properties\": ...}");
                return NULL;
        }
        g_autoptr (GList) names = json_object_get_members (json_node_get_object (props));
        for (GList *l = names; l; l = l->next) {
                JsonObject *p =
                        json_object_get_object_member (json_node_get_object (props), l->data);
                JsonNode *t = json_object_get_member (p, "type");
                if (!t || !JSON_NODE_HOLDS_VALUE (t) ||
                    json_node_get_value_type (t) != G_TYPE_STRING ||
                    !g_strv_contains (scalar_types, json_node_get_string (t))) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "query parameter \"%s\" needs one \"type\": string, "
                                     "integer, number or boolean",
                                     (const char *) l->data);
                        return NULL;
                }
        }
        JsonNode *req = json_object_get_member (o, "required");
        for (guint i = 0; req && i < json_array_get_length (json_node_get_array (req)); i++) {
                const char *name = json_array_get_string_element (json_node_get_array (req), i);
                if (!json_object_has_member (json_node_get_object (props), name)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "required query parameter \"%s\" is not declared", name);
                        return NULL;
                }
        }
        return g_steal_pointer (&root);
}

char **
atrium_query_schema_names (JsonNode *compiled)
{
        JsonObject *props =
                json_object_get_object_member (json_node_get_object (compiled), "properties");
        g_autoptr (GList) names = json_object_get_members (props);
        GStrvBuilder *b = g_strv_builder_new ();
        for (GList *l = names; l; l = l->next)
                g_strv_builder_add (b, l->data);
        char **out = g_strv_builder_end (b);
        g_strv_builder_unref (b);
        return out;
}

static gboolean
bad (GError **error, const char *where, const char *what)
{
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "%s: %s", where, what);
        return FALSE;
}

/* @text as a JSON value of @type, or NULL with @error set. */
static JsonNode *
typed (const char *type, const char *text, const char *where, GError **error)
{
        JsonNode *n = json_node_new (JSON_NODE_VALUE);
        if (g_str_equal (type, "integer")) {
                gint64 v = 0;
                if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL)) {
                        json_node_unref (n);
                        bad (error, where, "expected a whole number");
                        return NULL;
                }
                json_node_set_int (n, v);
        } else if (g_str_equal (type, "number")) {
                char *end = NULL;
                double v = *text ? g_ascii_strtod (text, &end) : NAN;
                if (!end || *end || !isfinite (v) || g_ascii_isspace (*text)) {
                        json_node_unref (n);
                        bad (error, where, "expected a number");
                        return NULL;
                }
                json_node_set_double (n, v);
        } else if (g_str_equal (type, "boolean")) {
                if (!g_str_equal (text, "true") && !g_str_equal (text, "false")) {
                        json_node_unref (n);
                        bad (error, where, "expected true or false");
                        return NULL;
                }
                json_node_set_boolean (n, g_str_equal (text, "true"));
        } else {
                json_node_set_string (n, text);
        }
        return n;
}

gboolean
atrium_query_schema_check (JsonNode *schema, GHashTable *query, GError **error)
{
        JsonObject *root = json_node_get_object (schema);
        JsonObject *props = json_object_get_object_member (root, "properties");
        JsonArray *required = json_object_has_member (root, "required")
                                      ? json_object_get_array_member (root, "required")
                                      : NULL;
        for (guint i = 0; required && i < json_array_get_length (required); i++) {
                const char *name = json_array_get_string_element (required, i);
                if (!query || !g_hash_table_contains (query, name)) {
                        JsonObject *p = json_object_get_object_member (props, name);
                        const char *about =
                                json_object_get_string_member_with_default (p, "description", NULL);
                        g_autofree char *where = g_strconcat ("?", name, NULL);
                        g_autofree char *what =
                                about ? g_strdup_printf ("this query parameter is required (%s)",
                                                         about)
                                      : g_strdup ("this query parameter is required");
                        return bad (error, where, what);
                }
        }
        if (!query)
                return TRUE;
        g_autoptr (GList) names = json_object_get_members (props);
        for (GList *l = names; l; l = l->next) {
                const char *text = g_hash_table_lookup (query, l->data);
                if (!text)
                        continue;
                JsonObject *p = json_object_get_object_member (props, l->data);
                g_autofree char *where = g_strconcat ("?", (const char *) l->data, NULL);
                g_autoptr (JsonNode) v =
                        typed (json_object_get_string_member (p, "type"), text, where, error);
                if (!v || !atrium_schema_validate_at (p, v, where, error))
                        return FALSE;
        }
        return TRUE;
}
