/* SPDX-License-Identifier: Apache-2.0 */
/* schema.c - JSON request-body parsing and JSON Schema (subset) validation.
 *
 * json-glib's parser recurses per nesting level, so a body of a million '[' could exhaust the
 * worker's stack: the depth is counted in one linear pass before parsing. */
#include "pipeline-private.h"

#include <string.h>

#include "atrium/host.h"

static const char *const known_keywords[] = {
        "type",      "properties", "required", "additionalProperties", "items",
        "enum",      "const",      "minLength", "maxLength",           "pattern",
        "format",    "minimum",    "maximum",  "minItems",             "maxItems",
        "uniqueItems", "description", "title", "default",              "examples",
        "readOnly", "writeOnly", NULL};

static const char *const known_types[] = {"string", "integer", "number", "boolean",
                                          "object", "array",   "null",   NULL};

static gboolean
is_count (JsonNode *n)
{
        return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 &&
               json_node_get_int (n) >= 0;
}

static gboolean
is_number (JsonNode *n)
{
        GType t = n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
        return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
is_of (JsonNode *n, GType type)
{
        return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type;
}

/* Every keyword's value has the type JSON Schema gives it; a plugin's typo is refused at
 * registration instead of silently enforcing nothing. */
static gboolean
check_keyword_values (JsonObject *o, const char *where, GError **error)
{
        static const char *const counts[] = {"minLength", "maxLength", "minItems", "maxItems",
                                             NULL};
        const char *bad = NULL;
        for (const char *const *k = counts; *k && !bad; k++)
                if (json_object_has_member (o, *k) && !is_count (json_object_get_member (o, *k)))
                        bad = *k;
        if (!bad && json_object_has_member (o, "minimum") &&
            !is_number (json_object_get_member (o, "minimum")))
                bad = "minimum";
        if (!bad && json_object_has_member (o, "maximum") &&
            !is_number (json_object_get_member (o, "maximum")))
                bad = "maximum";
        if (!bad && json_object_has_member (o, "uniqueItems") &&
            !is_of (json_object_get_member (o, "uniqueItems"), G_TYPE_BOOLEAN))
                bad = "uniqueItems";
        if (!bad && json_object_has_member (o, "pattern") &&
            !is_of (json_object_get_member (o, "pattern"), G_TYPE_STRING))
                bad = "pattern";
        if (!bad && json_object_has_member (o, "format") &&
            !is_of (json_object_get_member (o, "format"), G_TYPE_STRING))
                bad = "format";
        if (!bad && json_object_has_member (o, "enum") &&
            !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "enum")))
                bad = "enum";
        JsonNode *ap = json_object_get_member (o, "additionalProperties");
        if (!bad && ap && !JSON_NODE_HOLDS_OBJECT (ap) && !is_of (ap, G_TYPE_BOOLEAN))
                bad = "additionalProperties";
        JsonNode *req = json_object_get_member (o, "required");
        if (!bad && req) {
                if (!JSON_NODE_HOLDS_ARRAY (req))
                        bad = "required";
                for (guint i = 0; !bad && i < json_array_get_length (json_node_get_array (req));
                     i++)
                        if (!is_of (json_array_get_element (json_node_get_array (req), i),
                                    G_TYPE_STRING))
                                bad = "required";
        }
        if (bad) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "schema at %s: the value of \"%s\" has the wrong type", where, bad);
                return FALSE;
        }
        /* uniqueItems compares items pairwise: bound the list so one request cannot hold a
         * worker for minutes. */
        if (json_object_get_boolean_member_with_default (o, "uniqueItems", FALSE) &&
            (!json_object_has_member (o, "maxItems") ||
             json_object_get_int_member (o, "maxItems") > 1000)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "schema at %s: uniqueItems needs maxItems of at most 1000", where);
                return FALSE;
        }
        return TRUE;
}

static gboolean
check_schema (JsonNode *node, const char *where, GError **error)
{
        if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "schema at %s is not an object", where);
                return FALSE;
        }
        JsonObject *o = json_node_get_object (node);
        g_autoptr (GList) members = json_object_get_members (o);
        for (GList *l = members; l; l = l->next) {
                if (!g_strv_contains (known_keywords, l->data)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "schema at %s uses unsupported keyword \"%s\"", where,
                                     (const char *) l->data);
                        return FALSE;
                }
        }
        if (!check_keyword_values (o, where, error))
                return FALSE;
        if (json_object_has_member (o, "type")) {
                JsonNode *t = json_object_get_member (o, "type");
                g_autoptr (GList) types = NULL;
                if (JSON_NODE_HOLDS_ARRAY (t))
                        types = json_array_get_elements (json_node_get_array (t));
                else
                        types = g_list_prepend (NULL, t);
                for (GList *l = types; l; l = l->next) {
                        const char *name = json_node_get_string (l->data);
                        if (!name || !g_strv_contains (known_types, name)) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                             "schema at %s has an unknown type", where);
                                return FALSE;
                        }
                }
        }
        if (json_object_has_member (o, "pattern")) {
                const char *p = json_object_get_string_member (o, "pattern");
                /* Only checked here (no G_REGEX_OPTIMIZE: JIT-compiling every route's
                 * patterns cost start-up ~0.6 ms for nothing). */
                g_autoptr (GRegex) re = p ? g_regex_new (p, 0, 0, NULL) : NULL;
                if (!re) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "schema at %s has an invalid pattern", where);
                        return FALSE;
                }
        }
        if (json_object_has_member (o, "properties")) {
                JsonNode *pn = json_object_get_member (o, "properties");
                if (!JSON_NODE_HOLDS_OBJECT (pn)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "schema at %s: properties is not an object", where);
                        return FALSE;
                }
                JsonObject *props = json_node_get_object (pn);
                g_autoptr (GList) names = json_object_get_members (props);
                for (GList *l = names; l; l = l->next) {
                        g_autofree char *sub = g_strdup_printf ("%s/properties/%s", where,
                                                                (const char *) l->data);
                        if (!check_schema (json_object_get_member (props, l->data), sub, error))
                                return FALSE;
                }
                if (!json_object_has_member (o, "additionalProperties"))
                        json_object_set_boolean_member (o, "additionalProperties", FALSE);
        }
        JsonNode *ap = json_object_get_member (o, "additionalProperties");
        if (ap && JSON_NODE_HOLDS_OBJECT (ap)) {
                g_autofree char *sub = g_strdup_printf ("%s/additionalProperties", where);
                if (!check_schema (ap, sub, error))
                        return FALSE;
        }
        JsonNode *items = json_object_get_member (o, "items");
        if (items) {
                g_autofree char *sub = g_strdup_printf ("%s/items", where);
                if (!check_schema (items, sub, error))
                        return FALSE;
        }
        return TRUE;
}

JsonNode *
atrium_schema_compile (const char *text, GError **error)
{
        g_autoptr (JsonParser) p = json_parser_new ();
        if (!json_parser_load_from_data (p, text, -1, error)) {
                g_prefix_error (error, "route schema is not JSON: ");
                return NULL;
        }
        JsonNode *parsed = json_parser_get_root (p);
        if (!parsed) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "route schema is empty (leave request_schema NULL for no body)");
                return NULL;
        }
        g_autoptr (JsonNode) root = json_node_copy (parsed);
        if (!check_schema (root, "#", error))
                return NULL;
        return g_steal_pointer (&root);
}

static gboolean
body_error (GError **error, const char *msg)
{
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "request body is not valid JSON: %s",
                     msg);
        return FALSE;
}

static int
hex4 (const char *p, gsize left)
{
        if (left < 4)
                return -1;
        int v = 0;
        for (int k = 0; k < 4; k++) {
                int d = g_ascii_xdigit_value (p[k]);
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

/* One strict pass over the bytes before json-glib sees them. json-glib 1.6 is more lenient
 * than RFC 8259 in ways that matter here: it recurses per nesting level (a deep body could
 * exhaust the worker's stack), accepts '...' strings and comments, stops after the first
 * top-level container ("{}{}" parses), wraps integers beyond 64 bits, and decodes "\u0000"
 * and lone surrogates into strings GLib and PostgreSQL cannot hold. All of that is refused. */
static gboolean
prescan (const char *data, gsize len, GError **error)
{
        int depth = 0;
        gboolean done = FALSE;
        for (gsize i = 0; i < len; i++) {
                char c = data[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        continue;
                if (done)
                        return body_error (error, "data after the value");
                if (c == '"') {
                        for (i++;; i++) {
                                if (i >= len)
                                        return TRUE; /* unterminated: the parser says so */
                                guchar d = (guchar) data[i];
                                if (d == '"')
                                        break;
                                if (d < 0x20)
                                        return body_error (error,
                                                           "a control character in a string");
                                if (d != '\\')
                                        continue;
                                if (++i >= len)
                                        return TRUE;
                                if (data[i] != 'u')
                                        continue;
                                int cp = hex4 (data + i + 1, len - i - 1);
                                if (cp < 0)
                                        continue; /* the parser refuses the bad escape */
                                i += 4;
                                if (cp == 0)
                                        return body_error (error, "\\u0000 in a string");
                                if (cp >= 0xDC00 && cp <= 0xDFFF)
                                        return body_error (error, "a lone surrogate escape");
                                if (cp >= 0xD800 && cp <= 0xDBFF) {
                                        int lo = i + 2 < len && data[i + 1] == '\\' &&
                                                                 data[i + 2] == 'u'
                                                         ? hex4 (data + i + 3, len - i - 3)
                                                         : -1;
                                        if (lo < 0xDC00 || lo > 0xDFFF)
                                                return body_error (error,
                                                                   "a lone surrogate escape");
                                        i += 6;
                                }
                        }
                        done = depth == 0;
                } else if (c == '[' || c == '{') {
                        if (++depth > ATRIUM_JSON_MAX_DEPTH) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "request body nests deeper than %d levels",
                                             ATRIUM_JSON_MAX_DEPTH);
                                return FALSE;
                        }
                } else if (c == ']' || c == '}') {
                        if (--depth < 0)
                                return TRUE; /* unbalanced: the parser says so */
                        done = depth == 0;
                } else if (c == '-' || g_ascii_isdigit (c)) {
                        gsize start = i;
                        gboolean integer = TRUE;
                        while (i + 1 < len && (g_ascii_isdigit (data[i + 1]) ||
                                               strchr ("+-.eE", data[i + 1]))) {
                                i++;
                                integer = integer && g_ascii_isdigit (data[i]);
                        }
                        if (integer) {
                                g_autofree char *tok = g_strndup (data + start, i - start + 1);
                                if (!g_ascii_string_to_signed (tok, 10, G_MININT64, G_MAXINT64,
                                                               NULL, NULL))
                                        return body_error (error,
                                                           "an integer outside 64 bits");
                        }
                        done = depth == 0;
                } else if (g_ascii_isalpha (c)) {
                        while (i + 1 < len && g_ascii_isalpha (data[i + 1]))
                                i++;
                        done = depth == 0;
                } else if (c != ',' && c != ':') {
                        return body_error (error, "not RFC 8259 JSON");
                }
        }
        return TRUE;
}

JsonNode *
atrium_json_parse_body (const char *data, gsize len, GError **error)
{
        if (!g_utf8_validate_len (data, len, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "request body is not valid UTF-8");
                return NULL;
        }
        if (!prescan (data, len, error))
                return NULL;
        g_autoptr (JsonParser) p = json_parser_new_immutable ();
        g_autoptr (GError) local = NULL;
        if (!json_parser_load_from_data (p, data, (gssize) len, &local)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "request body is not valid JSON: %s", local->message);
                return NULL;
        }
        JsonNode *root = json_parser_get_root (p);
        if (!root) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "request body is empty");
                return NULL;
        }
        return json_node_ref (root);
}

static const char *
node_type_name (JsonNode *v)
{
        switch (JSON_NODE_TYPE (v)) {
        case JSON_NODE_OBJECT:
                return "object";
        case JSON_NODE_ARRAY:
                return "array";
        case JSON_NODE_NULL:
                return "null";
        case JSON_NODE_VALUE:
                switch (json_node_get_value_type (v)) {
                case G_TYPE_STRING:
                        return "string";
                case G_TYPE_BOOLEAN:
                        return "boolean";
                case G_TYPE_INT64:
                        return "integer";
                default:
                        return "number";
                }
        }
        return "unknown";
}

static gboolean
type_matches (const char *want, const char *have)
{
        return g_str_equal (want, have) ||
               (g_str_equal (want, "number") && g_str_equal (have, "integer"));
}

static gboolean
fail (GError **error, const char *ptr, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, const char *ptr, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        g_autofree char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "%s: %s", *ptr ? ptr : "/", msg);
        return FALSE;
}

/* @pattern compiled once for the process and kept (matching is thread-safe): a route's schema
 * checks the same few patterns on every request, and g_regex_match_simple() compiles anew each
 * time. The patterns are the routes' (checked at registration) and the formats' below, all
 * read with `$` at the very end only, as JSON Schema's ECMA-262 patterns are. */
static gboolean
pattern_match (const char *pattern, const char *s)
{
        static GMutex lock;
        static GHashTable *compiled; /* pattern -> GRegex */
        g_mutex_lock (&lock);
        if (!compiled)
                compiled = g_hash_table_new (g_str_hash, g_str_equal);
        GRegex *re = g_hash_table_lookup (compiled, pattern);
        if (!re) {
                re = g_regex_new (pattern, G_REGEX_DOLLAR_ENDONLY, 0, NULL);
                if (re)
                        g_hash_table_insert (compiled, g_strdup (pattern), re);
        }
        g_mutex_unlock (&lock);
        return re && g_regex_match (re, s, 0, NULL);
}

static gboolean
format_ok (const char *format, const char *s)
{
        /* RFC 3339 only: GDateTime also takes ISO 8601 week and ordinal dates, which
         * PostgreSQL would then refuse or read differently. */
        if (g_str_equal (format, "date-time")) {
                if (!pattern_match ("^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:"
                                    "[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})\\z",
                                    s))
                        return FALSE;
                g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (s, NULL);
                return dt != NULL;
        }
        if (g_str_equal (format, "date")) {
                if (!pattern_match ("^[0-9]{4}-[0-9]{2}-[0-9]{2}\\z", s))
                        return FALSE;
                g_autofree char *full = g_strconcat (s, "T00:00:00Z", NULL);
                g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (full, NULL);
                return dt != NULL && strlen (s) == 10;
        }
        if (g_str_equal (format, "uuid"))
                return g_uuid_string_is_valid (s);
        if (g_str_equal (format, "email")) {
                const char *at = strchr (s, '@');
                return at && at != s && at[1] && !strchr (at + 1, '@') && !strpbrk (s, " <>\r\n");
        }
        return TRUE; /* unknown formats are annotations, as JSON Schema says */
}

/* An enum's refusal names the allowed values when they are a few words. */
static gboolean
enum_fail (GError **error, const char *ptr, JsonArray *allowed)
{
        guint n = json_array_get_length (allowed);
        g_autoptr (GString) words = g_string_new (NULL);
        for (guint i = 0; i < n && n <= 12; i++) {
                JsonNode *w = json_array_get_element (allowed, i);
                if (!JSON_NODE_HOLDS_VALUE (w) || json_node_get_value_type (w) != G_TYPE_STRING ||
                    strlen (json_node_get_string (w)) > 40)
                        return fail (error, ptr, "value is not one of the allowed values");
                g_string_append_printf (words, "%s%s", i ? ", " : "", json_node_get_string (w));
        }
        if (n == 0 || n > 12)
                return fail (error, ptr, "value is not one of the allowed values");
        return fail (error, ptr, "value is not one of the allowed values (%s)", words->str);
}

static gboolean validate (JsonObject *schema, JsonNode *v, const char *ptr, GError **error);

static gboolean
validate_object (JsonObject *schema, JsonObject *obj, const char *ptr, GError **error)
{
        JsonObject *props = json_object_has_member (schema, "properties")
                                    ? json_object_get_object_member (schema, "properties")
                                    : NULL;
        JsonNode *required = json_object_get_member (schema, "required");
        if (required && JSON_NODE_HOLDS_ARRAY (required)) {
                JsonArray *req = json_node_get_array (required);
                for (guint i = 0; i < json_array_get_length (req); i++) {
                        const char *name = json_array_get_string_element (req, i);
                        if (name && !json_object_has_member (obj, name))
                                return fail (error, ptr, "required field \"%s\" is missing",
                                             name);
                }
        }
        JsonNode *ap = json_object_get_member (schema, "additionalProperties");
        g_autoptr (GList) names = json_object_get_members (obj);
        for (GList *l = names; l; l = l->next) {
                const char *name = l->data;
                /* RFC 6901: "~" is written "~0" and "/" is written "~1" */
                GString *esc = g_string_new (NULL);
                for (const char *c = name; *c; c++) {
                        if (*c == '~')
                                g_string_append (esc, "~0");
                        else if (*c == '/')
                                g_string_append (esc, "~1");
                        else
                                g_string_append_c (esc, *c);
                }
                g_autofree char *escaped = g_string_free (esc, FALSE);
                g_autofree char *sub = g_strdup_printf ("%s/%s", ptr, escaped);
                JsonNode *member = json_object_get_member (obj, name);
                if (props && json_object_has_member (props, name)) {
                        if (!validate (json_object_get_object_member (props, name), member, sub,
                                       error))
                                return FALSE;
                } else if (ap && JSON_NODE_HOLDS_OBJECT (ap)) {
                        if (!validate (json_node_get_object (ap), member, sub, error))
                                return FALSE;
                } else if (ap && JSON_NODE_HOLDS_VALUE (ap) && !json_node_get_boolean (ap)) {
                        return fail (error, sub, "unknown field");
                }
        }
        return TRUE;
}

static gboolean
validate (JsonObject *schema, JsonNode *v, const char *ptr, GError **error)
{
        const char *have = node_type_name (v);
        JsonNode *t = json_object_get_member (schema, "type");
        if (t) {
                gboolean ok = FALSE;
                GString *want = g_string_new (NULL);
                if (JSON_NODE_HOLDS_ARRAY (t)) {
                        JsonArray *ta = json_node_get_array (t);
                        for (guint i = 0; i < json_array_get_length (ta); i++) {
                                const char *w = json_array_get_string_element (ta, i);
                                ok = ok || type_matches (w, have);
                                g_string_append_printf (want, "%s%s", i ? " or " : "", w);
                        }
                } else {
                        ok = type_matches (json_node_get_string (t), have);
                        g_string_append (want, json_node_get_string (t));
                }
                if (!ok) {
                        gboolean r = fail (error, ptr, "expected %s, got %s", want->str, have);
                        g_string_free (want, TRUE);
                        return r;
                }
                g_string_free (want, TRUE);
        }
        JsonNode *en = json_object_get_member (schema, "enum");
        if (en && JSON_NODE_HOLDS_ARRAY (en)) {
                JsonArray *ea = json_node_get_array (en);
                gboolean found = FALSE;
                for (guint i = 0; i < json_array_get_length (ea) && !found; i++)
                        found = json_node_equal (json_array_get_element (ea, i), v);
                if (!found)
                        return enum_fail (error, ptr, ea);
        }
        JsonNode *cn = json_object_get_member (schema, "const");
        if (cn && !json_node_equal (cn, v))
                return fail (error, ptr, "value is not the expected constant");

        if (g_str_equal (have, "string")) {
                const char *s = json_node_get_string (v);
                glong n = g_utf8_strlen (s, -1);
                if (json_object_has_member (schema, "minLength") &&
                    n < json_object_get_int_member (schema, "minLength"))
                        return fail (error, ptr, "shorter than %" G_GINT64_FORMAT " characters",
                                     json_object_get_int_member (schema, "minLength"));
                if (json_object_has_member (schema, "maxLength") &&
                    n > json_object_get_int_member (schema, "maxLength"))
                        return fail (error, ptr, "longer than %" G_GINT64_FORMAT " characters",
                                     json_object_get_int_member (schema, "maxLength"));
                if (json_object_has_member (schema, "pattern")) {
                        const char *p = json_object_get_string_member (schema, "pattern");
                        if (!pattern_match (p, s))
                                return fail (error, ptr, "does not match %s", p);
                }
                if (json_object_has_member (schema, "format") &&
                    !format_ok (json_object_get_string_member (schema, "format"), s))
                        return fail (error, ptr, "not a valid %s",
                                     json_object_get_string_member (schema, "format"));
        } else if (g_str_equal (have, "integer") || g_str_equal (have, "number")) {
                double d = json_node_get_double (v);
                if (json_object_has_member (schema, "minimum") &&
                    d < json_object_get_double_member (schema, "minimum"))
                        return fail (error, ptr, "below the minimum %g",
                                     json_object_get_double_member (schema, "minimum"));
                if (json_object_has_member (schema, "maximum") &&
                    d > json_object_get_double_member (schema, "maximum"))
                        return fail (error, ptr, "above the maximum %g",
                                     json_object_get_double_member (schema, "maximum"));
        } else if (g_str_equal (have, "array")) {
                JsonArray *a = json_node_get_array (v);
                guint n = json_array_get_length (a);
                if (json_object_has_member (schema, "minItems") &&
                    n < json_object_get_int_member (schema, "minItems"))
                        return fail (error, ptr, "fewer than %" G_GINT64_FORMAT " items",
                                     json_object_get_int_member (schema, "minItems"));
                if (json_object_has_member (schema, "maxItems") &&
                    n > json_object_get_int_member (schema, "maxItems"))
                        return fail (error, ptr, "more than %" G_GINT64_FORMAT " items",
                                     json_object_get_int_member (schema, "maxItems"));
                JsonNode *items = json_object_get_member (schema, "items");
                for (guint i = 0; i < n; i++) {
                        JsonNode *el = json_array_get_element (a, i);
                        g_autofree char *sub = g_strdup_printf ("%s/%u", ptr, i);
                        if (items && !validate (json_node_get_object (items), el, sub, error))
                                return FALSE;
                        if (json_object_get_boolean_member_with_default (schema, "uniqueItems",
                                                                         FALSE))
                                for (guint j = 0; j < i; j++)
                                        if (json_node_equal (json_array_get_element (a, j), el))
                                                return fail (error, sub, "duplicate item");
                }
        } else if (g_str_equal (have, "object")) {
                return validate_object (schema, json_node_get_object (v), ptr, error);
        }
        return TRUE;
}

gboolean
atrium_schema_validate (JsonNode *schema, JsonNode *value, GError **error)
{
        g_return_val_if_fail (JSON_NODE_HOLDS_OBJECT (schema), FALSE);
        return validate (json_node_get_object (schema), value, "", error);
}

gboolean
atrium_schema_validate_at (JsonObject *schema, JsonNode *value, const char *where, GError **error)
{
        g_return_val_if_fail (schema != NULL && where != NULL, FALSE);
        return validate (schema, value, where, error);
}
