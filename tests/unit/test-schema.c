/* SPDX-License-Identifier: Apache-2.0 */
/* test-schema.c - unit tests of request-body handling (core/schema.c): compiling a route's
 * JSON Schema (unsupported keywords refused, objects closed), validating values against it
 * (each keyword of the supported subset, and the JSON Pointer the error names), and parsing
 * raw bodies (UTF-8, the nesting limit, one value only). A body that reaches a handler has
 * passed all three, so these are the cases a client can hit with any bytes it likes; the fuzz
 * target tests/fuzz/fuzz-json-body.c covers the rest. Cases under /schema/regression/ pin down
 * defects these tests found, so they stay fixed (see tests/unit/meson.build). */
#include <string.h>

#include <json-glib/json-glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

static JsonNode *
compile (const char *text)
{
        g_autoptr (GError) error = NULL;
        JsonNode *schema = atrium_schema_compile (text, &error);
        g_assert_no_error (error);
        g_assert_nonnull (schema);
        return schema;
}

/* The message of the compile error for @text, or NULL if it compiled. */
static char *
compile_error (const char *text)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) schema = atrium_schema_compile (text, &error);
        if (schema) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_nonnull (error);
        return g_strdup (error->message);
}

static JsonNode *
parse (const char *body)
{
        g_autoptr (GError) error = NULL;
        JsonNode *node = atrium_json_parse_body (body, strlen (body), &error);
        g_assert_no_error (error);
        g_assert_nonnull (node);
        return node;
}

/* The message of the body error for @len bytes at @body, or NULL if it parsed. */
static char *
body_error (const char *body, gsize len)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) node = atrium_json_parse_body (body, len, &error);
        if (node) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        return g_strdup (error->message);
}

/* The validation error for @body (well-formed JSON) against @schema, or NULL if valid. */
static char *
problem (const char *schema_text, const char *body)
{
        g_autoptr (JsonNode) schema = compile (schema_text);
        g_autoptr (JsonNode) value = parse (body);
        g_autoptr (GError) error = NULL;
        if (atrium_schema_validate (schema, value, &error)) {
                g_assert_no_error (error);
                return NULL;
        }
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        return g_strdup (error->message);
}

#define ASSERT_VALID(schema, body)                                                              \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_autofree char *_m = problem ((schema), (body));                                \
                if (_m)                                                                          \
                        g_test_message ("body: %s", (body));                                     \
                g_assert_cmpstr (_m, ==, NULL);                                                  \
        }                                                                                        \
        G_STMT_END

/* Refused, and the message starts with the JSON Pointer @where and ": ". */
#define ASSERT_REFUSED(schema, body, where)                                                     \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_autofree char *_m = problem ((schema), (body));                                \
                g_autofree char *_p = g_strconcat ((where), ": ", NULL);                         \
                if (!_m)                                                                         \
                        g_test_message ("body: %s", (body));                                     \
                g_assert_nonnull (_m);                                                           \
                if (!g_str_has_prefix (_m, _p))                                                  \
                        g_assert_cmpstr (_m, ==, _p);                                            \
        }                                                                                        \
        G_STMT_END

/* Refused with exactly @message. */
#define ASSERT_MESSAGE(schema, body, message)                                                   \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_autofree char *_m = problem ((schema), (body));                                \
                g_assert_cmpstr (_m, ==, (message));                                             \
        }                                                                                        \
        G_STMT_END

#define ASSERT_COMPILE_REFUSED(text, needle)                                                    \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_autofree char *_m = compile_error (text);                                      \
                if (!_m)                                                                         \
                        g_test_message ("schema: %s", (text));                                   \
                g_assert_nonnull (_m);                                                           \
                if (!strstr (_m, (needle)))                                                      \
                        g_assert_cmpstr (_m, ==, (needle));                                      \
        }                                                                                        \
        G_STMT_END

#define ASSERT_BODY_REFUSED(body, needle)                                                       \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_autofree char *_m = body_error ((body), strlen (body));                        \
                if (!_m)                                                                         \
                        g_test_message ("body: %s", (body));                                     \
                g_assert_nonnull (_m);                                                           \
                if (!strstr (_m, (needle)))                                                      \
                        g_assert_cmpstr (_m, ==, (needle));                                      \
        }                                                                                        \
        G_STMT_END

/* @n nested arrays, around @inner (or nothing). */
static char *
nested (const char *open, const char *close, guint n, const char *inner)
{
        GString *s = g_string_new (NULL);
        for (guint i = 0; i < n; i++)
                g_string_append (s, open);
        g_string_append (s, inner ? inner : "");
        for (guint i = 0; i < n; i++)
                g_string_append (s, close);
        return g_string_free (s, FALSE);
}

/* ---- compiling ---- */

static void
test_compile_unknown_keyword (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"oneOf\": []}", "\"oneOf\"");
        ASSERT_COMPILE_REFUSED ("{\"$ref\": \"#/definitions/x\"}", "\"$ref\"");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"integer\", \"exclusiveMinimum\": 0}",
                                "\"exclusiveMinimum\"");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"patternProperties\": {}}",
                                "\"patternProperties\"");
        /* A typo is the common case: "require" instead of "required". */
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"properties\": {}, \"require\": []}",
                                "\"require\"");
        /* Deep inside, the error says where. */
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": "
                                "\"array\", \"items\": {\"type\": \"string\", \"allOf\": []}}}}",
                                "#/properties/a/items");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"additionalProperties\": "
                                "{\"anyOf\": []}}",
                                "#/additionalProperties");
}

static void
test_compile_unknown_type (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"float\"}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"String\"}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"type\": [\"string\", \"date\"]}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"type\": 5}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"type\": [\"string\", 5]}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"type\": null}", "unknown type");
        ASSERT_COMPILE_REFUSED ("{\"properties\": {\"a\": {\"type\": \"int\"}}}",
                                "#/properties/a");
}

static void
test_compile_invalid_pattern (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"pattern\": \"[a-\"}", "pattern");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"pattern\": \"(\"}", "pattern");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"pattern\": \"a{2,1}\"}", "pattern");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"pattern\": 5}", "pattern");
        ASSERT_COMPILE_REFUSED ("{\"items\": {\"pattern\": \"*\"}}", "#/items");
}

static void
test_compile_not_a_schema (void)
{
        ASSERT_COMPILE_REFUSED ("{", "");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\"", "");
        ASSERT_COMPILE_REFUSED ("[]", "not an object");
        ASSERT_COMPILE_REFUSED ("true", "not an object");
        ASSERT_COMPILE_REFUSED ("{\"properties\": []}", "properties");
        ASSERT_COMPILE_REFUSED ("{\"properties\": {\"a\": 5}}", "#/properties/a");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"items\": [{\"type\": \"string\"}]}",
                                "#/items");
}

static gboolean
member_is_false (JsonObject *o, const char *name)
{
        JsonNode *n = json_object_get_member (o, name);
        return n && JSON_NODE_HOLDS_VALUE (n) &&
               json_node_get_value_type (n) == G_TYPE_BOOLEAN && !json_node_get_boolean (n);
}

static void
test_compile_closes_objects (void)
{
        g_autoptr (JsonNode) s = compile (
                "{\"type\": \"object\", \"properties\": {"
                "  \"name\": {\"type\": \"string\"},"
                "  \"address\": {\"type\": \"object\", \"properties\": {"
                "    \"city\": {\"type\": \"string\"}}},"
                "  \"open\": {\"type\": \"object\", \"properties\": {},"
                "            \"additionalProperties\": true},"
                "  \"map\": {\"type\": \"object\", \"additionalProperties\": {"
                "    \"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\"}}}},"
                "  \"list\": {\"type\": \"array\", \"items\": {"
                "    \"type\": \"object\", \"properties\": {\"k\": {}}}}}}");
        JsonObject *root = json_node_get_object (s);
        JsonObject *props = json_object_get_object_member (root, "properties");
        g_assert_true (member_is_false (root, "additionalProperties"));

        JsonObject *address = json_object_get_object_member (props, "address");
        g_assert_true (member_is_false (address, "additionalProperties"));

        /* An explicit choice is kept. */
        JsonObject *open = json_object_get_object_member (props, "open");
        g_assert_true (json_object_get_boolean_member (open, "additionalProperties"));

        /* Schemas under additionalProperties and items are closed too. */
        JsonObject *map = json_object_get_object_member (props, "map");
        JsonObject *map_value = json_object_get_object_member (map, "additionalProperties");
        g_assert_true (member_is_false (map_value, "additionalProperties"));
        JsonObject *list = json_object_get_object_member (props, "list");
        JsonObject *item = json_object_get_object_member (list, "items");
        g_assert_true (member_is_false (item, "additionalProperties"));

        /* The normalised schema is what OpenAPI publishes: it must say so in the text. */
        g_autofree char *text = json_to_string (s, FALSE);
        g_assert_nonnull (strstr (text, "\"additionalProperties\":false"));
}

static void
test_compile_supported_keywords (void)
{
        /* Everything the header promises, in one schema. */
        g_autoptr (JsonNode) s = compile (
                "{\"type\": \"object\", \"title\": \"Notice\", \"description\": \"A notice\","
                " \"required\": [\"title\"], \"examples\": [{\"title\": \"Hi\"}],"
                " \"properties\": {"
                "  \"id\": {\"type\": \"string\", \"format\": \"uuid\", \"readOnly\": true},"
                "  \"title\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200,"
                "             \"pattern\": \"\\\\S\", \"default\": \"Untitled\"},"
                "  \"secret\": {\"type\": \"string\", \"writeOnly\": true},"
                "  \"kind\": {\"enum\": [\"a\", \"b\"]},"
                "  \"v\": {\"const\": 1},"
                "  \"n\": {\"type\": [\"number\", \"null\"], \"minimum\": 0, \"maximum\": 1},"
                "  \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},"
                "            \"minItems\": 0, \"maxItems\": 5, \"uniqueItems\": true},"
                "  \"extra\": {\"type\": \"object\", \"additionalProperties\": false},"
                "  \"any\": {}}}");
        g_assert_true (JSON_NODE_HOLDS_OBJECT (s));
}

/* ---- validating ---- */

static void
test_validate_types (void)
{
        const char *integer = "{\"type\": \"integer\"}";
        ASSERT_VALID (integer, "5");
        ASSERT_VALID (integer, "-3");
        ASSERT_VALID (integer, "0");
        ASSERT_MESSAGE (integer, "5.5", "/: expected integer, got number");
        ASSERT_MESSAGE (integer, "\"5\"", "/: expected integer, got string");
        ASSERT_MESSAGE (integer, "true", "/: expected integer, got boolean");
        ASSERT_MESSAGE (integer, "null", "/: expected integer, got null");
        ASSERT_MESSAGE (integer, "[5]", "/: expected integer, got array");
        ASSERT_MESSAGE (integer, "{}", "/: expected integer, got object");

        /* Every integer is a number; not the other way round. */
        const char *number = "{\"type\": \"number\"}";
        ASSERT_VALID (number, "5");
        ASSERT_VALID (number, "5.5");
        ASSERT_VALID (number, "-1e3");
        ASSERT_REFUSED (number, "\"5.5\"", "/");
        ASSERT_REFUSED (number, "false", "/");

        ASSERT_VALID ("{\"type\": \"string\"}", "\"\"");
        ASSERT_REFUSED ("{\"type\": \"string\"}", "1", "/");
        ASSERT_VALID ("{\"type\": \"boolean\"}", "false");
        ASSERT_REFUSED ("{\"type\": \"boolean\"}", "0", "/");
        ASSERT_VALID ("{\"type\": \"null\"}", "null");
        ASSERT_REFUSED ("{\"type\": \"null\"}", "\"\"", "/");
        ASSERT_VALID ("{\"type\": \"array\"}", "[1, \"a\", null]");
        ASSERT_REFUSED ("{\"type\": \"array\"}", "{}", "/");
        ASSERT_VALID ("{\"type\": \"object\"}", "{}");
        ASSERT_REFUSED ("{\"type\": \"object\"}", "[]", "/");

        /* A list of types: nullable fields. */
        const char *nullable = "{\"type\": [\"string\", \"null\"]}";
        ASSERT_VALID (nullable, "null");
        ASSERT_VALID (nullable, "\"x\"");
        ASSERT_MESSAGE (nullable, "5", "/: expected string or null, got integer");
        ASSERT_VALID ("{\"type\": [\"null\", \"number\"]}", "7");

        /* No type: anything. */
        ASSERT_VALID ("{}", "{\"a\": [1, {\"b\": null}]}");
        ASSERT_VALID ("{}", "\"x\"");
}

static const char object_schema[] =
        "{\"type\": \"object\", \"required\": [\"title\", \"audience\"], \"properties\": {"
        "  \"title\": {\"type\": \"string\"},"
        "  \"audience\": {\"type\": \"string\"},"
        "  \"body\": {\"type\": \"string\"},"
        "  \"author\": {\"type\": \"object\", \"required\": [\"id\"], \"properties\": {"
        "    \"id\": {\"type\": \"string\"}, \"name\": {\"type\": \"string\"}}},"
        "  \"attachments\": {\"type\": \"array\", \"items\": {"
        "    \"type\": \"object\", \"required\": [\"name\"], \"properties\": {"
        "      \"name\": {\"type\": \"string\"}, \"size\": {\"type\": \"integer\"}}}}}}";

static void
test_validate_required (void)
{
        ASSERT_VALID (object_schema, "{\"title\": \"t\", \"audience\": \"all\"}");
        ASSERT_MESSAGE (object_schema, "{\"title\": \"t\"}",
                        "/: required field \"audience\" is missing");
        ASSERT_MESSAGE (object_schema, "{}", "/: required field \"title\" is missing");
        /* null is a value: present, then refused by its type. */
        ASSERT_MESSAGE (object_schema, "{\"title\": null, \"audience\": \"all\"}",
                        "/title: expected string, got null");
        ASSERT_MESSAGE (object_schema, "{\"title\": \"t\", \"audience\": \"all\", \"author\": {}}",
                        "/author: required field \"id\" is missing");
        ASSERT_MESSAGE (object_schema,
                        "{\"title\": \"t\", \"audience\": \"all\", \"attachments\": "
                        "[{\"name\": \"a\"}, {\"size\": 1}]}",
                        "/attachments/1: required field \"name\" is missing");
}

static void
test_validate_unknown_fields (void)
{
        ASSERT_MESSAGE (object_schema, "{\"title\": \"t\", \"audience\": \"all\", \"x\": 1}",
                        "/x: unknown field");
        ASSERT_MESSAGE (object_schema,
                        "{\"title\": \"t\", \"audience\": \"all\", \"author\": "
                        "{\"id\": \"u1\", \"role\": \"admin\"}}",
                        "/author/role: unknown field");
        ASSERT_MESSAGE (object_schema,
                        "{\"title\": \"t\", \"audience\": \"all\", \"attachments\": "
                        "[{\"name\": \"a\"}, {\"name\": \"b\", \"path\": \"/etc/passwd\"}]}",
                        "/attachments/1/path: unknown field");
        /* Field names are case-sensitive. */
        ASSERT_MESSAGE (object_schema, "{\"title\": \"t\", \"audience\": \"all\", \"Body\": \"\"}",
                        "/Body: unknown field");

        /* Open objects and typed maps. */
        const char *open = "{\"type\": \"object\", \"properties\": {\"a\": {}},"
                           " \"additionalProperties\": true}";
        ASSERT_VALID (open, "{\"a\": 1, \"b\": 2}");
        const char *map = "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}},"
                          " \"additionalProperties\": {\"type\": \"integer\"}}";
        ASSERT_VALID (map, "{\"a\": \"s\", \"b\": 2, \"c\": 3}");
        ASSERT_MESSAGE (map, "{\"a\": \"s\", \"b\": \"2\"}", "/b: expected integer, got string");
        ASSERT_MESSAGE (map, "{\"a\": 1}", "/a: expected string, got integer");
        const char *closed = "{\"type\": \"object\", \"additionalProperties\": false}";
        ASSERT_VALID (closed, "{}");
        ASSERT_MESSAGE (closed, "{\"a\": 1}", "/a: unknown field");
        /* An empty properties list still closes the object. */
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {}}", "{\"z\": 0}",
                        "/z: unknown field");
}

static void
test_validate_enum_const (void)
{
        const char *audience = "{\"type\": \"string\", \"enum\": [\"school\", \"staff\", "
                               "\"parents\"]}";
        ASSERT_VALID (audience, "\"staff\"");
        ASSERT_REFUSED (audience, "\"Staff\"", "/");
        ASSERT_REFUSED (audience, "\"\"", "/");
        ASSERT_REFUSED (audience, "\"staff \"", "/");

        const char *mixed = "{\"enum\": [1, \"1\", null, true, {\"a\": [1]}]}";
        ASSERT_VALID (mixed, "1");
        ASSERT_VALID (mixed, "\"1\"");
        ASSERT_VALID (mixed, "null");
        ASSERT_VALID (mixed, "true");
        ASSERT_VALID (mixed, "{\"a\": [1]}");
        ASSERT_REFUSED (mixed, "2", "/");
        ASSERT_REFUSED (mixed, "false", "/");
        ASSERT_REFUSED (mixed, "{\"a\": [2]}", "/");
        ASSERT_REFUSED (mixed, "[1]", "/");

        ASSERT_VALID ("{\"const\": \"v1\"}", "\"v1\"");
        ASSERT_MESSAGE ("{\"const\": \"v1\"}", "\"v2\"", "/: value is not the expected constant");
        ASSERT_VALID ("{\"const\": {\"a\": 1, \"b\": [true]}}", "{\"b\": [true], \"a\": 1}");
        ASSERT_REFUSED ("{\"const\": {\"a\": 1}}", "{\"a\": 1, \"b\": 2}", "/");
        ASSERT_VALID ("{\"const\": null}", "null");
        ASSERT_REFUSED ("{\"const\": null}", "0", "/");

        /* Nested: the pointer leads to the field. */
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {\"k\": {\"enum\": [\"a\"]}}}",
                        "{\"k\": \"b\"}", "/k: value is not one of the allowed values");
}

static void
test_validate_length (void)
{
        const char *s = "{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 4}";
        ASSERT_VALID (s, "\"ab\"");
        ASSERT_VALID (s, "\"abcd\"");
        ASSERT_MESSAGE (s, "\"a\"", "/: shorter than 2 characters");
        ASSERT_MESSAGE (s, "\"abcde\"", "/: longer than 4 characters");
        ASSERT_MESSAGE (s, "\"\"", "/: shorter than 2 characters");

        /* Characters, not bytes: "é" is two bytes, "😀" four, "e\u0301" two characters. */
        ASSERT_REFUSED (s, "\"é\"", "/");
        ASSERT_VALID (s, "\"éé\"");
        ASSERT_VALID (s, "\"éééé\"");
        ASSERT_REFUSED (s, "\"ééééé\"", "/");
        ASSERT_VALID (s, "\"😀😀\"");
        ASSERT_VALID (s, "\"😀😀😀😀\"");
        ASSERT_REFUSED (s, "\"😀😀😀😀😀\"", "/");
        ASSERT_VALID (s, "\"e\\u0301\"");
        /* An escape is one character. */
        ASSERT_VALID (s, "\"\\u00e9\\u00e9\\u00e9\\u00e9\"");
        ASSERT_REFUSED (s, "\"\\n\\n\\n\\n\\n\"", "/");
        ASSERT_VALID (s, "\"\\ud83d\\ude00\\ud83d\\ude00\"");

        /* Length keywords only constrain strings. */
        ASSERT_VALID ("{\"minLength\": 3}", "1");
        ASSERT_VALID ("{\"maxLength\": 1}", "[1, 2, 3]");
}

static void
test_validate_pattern (void)
{
        const char *slug = "{\"type\": \"string\", \"pattern\": \"^[a-z][a-z0-9-]{1,30}$\"}";
        ASSERT_VALID (slug, "\"north-high\"");
        ASSERT_MESSAGE (slug, "\"North-high\"", "/: does not match ^[a-z][a-z0-9-]{1,30}$");
        ASSERT_REFUSED (slug, "\"a\"", "/");
        ASSERT_REFUSED (slug, "\"north high\"", "/");
        ASSERT_REFUSED (slug, "\"\"", "/");

        /* JSON Schema patterns are not anchored. */
        const char *digit = "{\"type\": \"string\", \"pattern\": \"[0-9]\"}";
        ASSERT_VALID (digit, "\"room 12b\"");
        ASSERT_REFUSED (digit, "\"room\"", "/");

        /* Patterns see characters too. */
        const char *three = "{\"type\": \"string\", \"pattern\": \"^.{3}$\"}";
        ASSERT_VALID (three, "\"héé\"");
        ASSERT_VALID (three, "\"😀a😀\"");
        ASSERT_REFUSED (three, "\"héééé\"", "/");

        /* Patterns only constrain strings. */
        ASSERT_VALID ("{\"pattern\": \"^x$\"}", "42");
}

static void
test_validate_formats (void)
{
        const char *dt = "{\"type\": \"string\", \"format\": \"date-time\"}";
        const char *dt_ok[] = {
                "2024-09-01T08:30:00Z",
                "2024-09-01T08:30:00+02:00",
                "2024-09-01T08:30:00-05:30",
                "2024-09-01T08:30:00.123Z",
                "2024-02-29T23:59:59Z",
        };
        const char *dt_bad[] = {
                "",
                "2024-09-01",
                "2024-09-01T08:30:00", /* no offset: which school's morning? */
                "2024-09-01T08:30Z",
                "yesterday",
                "2024-13-01T00:00:00Z",
                "2024-02-30T00:00:00Z",
                "2023-02-29T00:00:00Z",
                "2024-09-01T24:30:00Z",
                "2024-09-01T08:60:00Z",
                "1725179400",
                "2024-09-01T08:30:00Zjunk",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (dt_ok); i++) {
                g_autofree char *body = g_strdup_printf ("\"%s\"", dt_ok[i]);
                ASSERT_VALID (dt, body);
        }
        for (gsize i = 0; i < G_N_ELEMENTS (dt_bad); i++) {
                g_autofree char *body = g_strdup_printf ("\"%s\"", dt_bad[i]);
                ASSERT_REFUSED (dt, body, "/");
        }

        const char *date = "{\"type\": \"string\", \"format\": \"date\"}";
        const char *date_ok[] = {"2024-09-01", "2024-02-29", "1999-12-31", "2000-01-01"};
        const char *date_bad[] = {
                "", "2023-02-29", "2024-9-1", "2024-09-01T00:00:00Z", "01.09.2024", "2024-13-01",
                "2024-00-10", "2024-01-32", "20240901", "2024-09-01 ", " 2024-09-01", "today",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (date_ok); i++) {
                g_autofree char *body = g_strdup_printf ("\"%s\"", date_ok[i]);
                ASSERT_VALID (date, body);
        }
        for (gsize i = 0; i < G_N_ELEMENTS (date_bad); i++) {
                g_autofree char *body = g_strdup_printf ("\"%s\"", date_bad[i]);
                ASSERT_REFUSED (date, body, "/");
        }

        const char *uuid = "{\"type\": \"string\", \"format\": \"uuid\"}";
        ASSERT_VALID (uuid, "\"123e4567-e89b-12d3-a456-426614174000\"");
        ASSERT_VALID (uuid, "\"00000000-0000-0000-0000-000000000000\"");
        ASSERT_VALID (uuid, "\"123E4567-E89B-12D3-A456-426614174000\"");
        ASSERT_MESSAGE (uuid, "\"123e4567e89b12d3a456426614174000\"", "/: not a valid uuid");
        ASSERT_REFUSED (uuid, "\"123e4567-e89b-12d3-a456-42661417400\"", "/");
        ASSERT_REFUSED (uuid, "\"123e4567-e89b-12d3-a456-4266141740000\"", "/");
        ASSERT_REFUSED (uuid, "\"g23e4567-e89b-12d3-a456-426614174000\"", "/");
        ASSERT_REFUSED (uuid, "\"{123e4567-e89b-12d3-a456-426614174000}\"", "/");
        ASSERT_REFUSED (uuid, "\"\"", "/");

        const char *email = "{\"type\": \"string\", \"format\": \"email\"}";
        ASSERT_VALID (email, "\"anna@school.example\"");
        ASSERT_VALID (email, "\"a.b+c@x.y\"");
        ASSERT_MESSAGE (email, "\"anna\"", "/: not a valid email");
        ASSERT_REFUSED (email, "\"@school.example\"", "/");
        ASSERT_REFUSED (email, "\"anna@\"", "/");
        ASSERT_REFUSED (email, "\"a@b@c\"", "/");
        ASSERT_REFUSED (email, "\"anna @school.example\"", "/");
        ASSERT_REFUSED (email, "\"Anna <anna@school.example>\"", "/");
        ASSERT_REFUSED (email, "\"anna@school.example\\r\\n\"", "/");
        ASSERT_REFUSED (email, "\"\"", "/");

        /* Unknown formats are annotations; formats only constrain strings. */
        ASSERT_VALID ("{\"type\": \"string\", \"format\": \"hostname\"}", "\"not a host!\"");
        ASSERT_VALID ("{\"format\": \"date\"}", "20240901");
        ASSERT_VALID ("{\"format\": \"uuid\"}", "null");

        /* Nested, the pointer names the field. */
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {\"due\": {\"type\": \"string\","
                        " \"format\": \"date\"}}}",
                        "{\"due\": \"soon\"}", "/due: not a valid date");
}

static void
test_validate_numbers (void)
{
        const char *grade = "{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 6}";
        ASSERT_VALID (grade, "1");
        ASSERT_VALID (grade, "6");
        ASSERT_MESSAGE (grade, "0", "/: below the minimum 1");
        ASSERT_MESSAGE (grade, "7", "/: above the maximum 6");
        ASSERT_REFUSED (grade, "-1", "/");
        ASSERT_REFUSED (grade, "3.5", "/");

        const char *ratio = "{\"type\": \"number\", \"minimum\": -0.5, \"maximum\": 0.5}";
        ASSERT_VALID (ratio, "0");
        ASSERT_VALID (ratio, "-0.5");
        ASSERT_VALID (ratio, "0.5");
        ASSERT_VALID (ratio, "1e-3");
        ASSERT_REFUSED (ratio, "0.5000001", "/");
        ASSERT_REFUSED (ratio, "-0.51", "/");
        ASSERT_REFUSED (ratio, "1", "/");
        ASSERT_REFUSED (ratio, "-1e300", "/");

        /* Bounds only constrain numbers. */
        ASSERT_VALID ("{\"minimum\": 10}", "\"5\"");
        ASSERT_VALID ("{\"maximum\": 0}", "[1]");
}

static void
test_validate_arrays (void)
{
        const char *tags = "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3,"
                           " \"items\": {\"type\": \"string\", \"maxLength\": 5}}";
        ASSERT_VALID (tags, "[\"a\"]");
        ASSERT_VALID (tags, "[\"a\", \"b\", \"c\"]");
        ASSERT_MESSAGE (tags, "[]", "/: fewer than 1 items");
        ASSERT_MESSAGE (tags, "[\"a\", \"b\", \"c\", \"d\"]", "/: more than 3 items");
        ASSERT_MESSAGE (tags, "[\"a\", 2]", "/1: expected string, got integer");
        ASSERT_MESSAGE (tags, "[\"a\", \"b\", \"toolong\"]", "/2: longer than 5 characters");

        const char *unique = "{\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 100}";
        ASSERT_VALID (unique, "[]");
        ASSERT_VALID (unique, "[1, 2, \"1\", null, true, [1], {\"a\": 1}]");
        ASSERT_MESSAGE (unique, "[1, 2, 1]", "/2: duplicate item");
        ASSERT_MESSAGE (unique, "[\"x\", \"y\", \"y\"]", "/2: duplicate item");
        ASSERT_REFUSED (unique, "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]", "/1");
        ASSERT_REFUSED (unique, "[[1, 2], [1, 2]]", "/1");
        ASSERT_REFUSED (unique, "[null, null]", "/1");
        ASSERT_VALID (unique, "[[1, 2], [2, 1]]");
        ASSERT_VALID ("{\"type\": \"array\", \"uniqueItems\": false}", "[1, 1]");

        /* Item keywords only constrain arrays. */
        ASSERT_VALID ("{\"minItems\": 2}", "\"ab\"");
}

static void
test_validate_nested (void)
{
        /* A timetable import: arrays of objects holding arrays of objects. */
        const char *timetable =
                "{\"type\": \"object\", \"required\": [\"term\", \"days\"], \"properties\": {"
                "  \"term\": {\"type\": \"string\", \"pattern\": \"^[0-9]{4}-[12]$\"},"
                "  \"days\": {\"type\": \"array\", \"maxItems\": 7, \"items\": {"
                "    \"type\": \"object\", \"required\": [\"day\", \"lessons\"], \"properties\": {"
                "      \"day\": {\"enum\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]},"
                "      \"lessons\": {\"type\": \"array\", \"items\": {"
                "        \"type\": \"object\", \"required\": [\"period\", \"group\"],"
                "        \"properties\": {"
                "          \"period\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10},"
                "          \"group\": {\"type\": \"string\", \"format\": \"uuid\"},"
                "          \"room\": {\"type\": [\"string\", \"null\"], \"maxLength\": 8}}}}}}}}}";
        const char *g = "\"123e4567-e89b-12d3-a456-426614174000\"";
        g_autofree char *ok = g_strdup_printf (
                "{\"term\": \"2024-1\", \"days\": [{\"day\": \"mon\", \"lessons\": ["
                "{\"period\": 1, \"group\": %s, \"room\": \"B12\"},"
                "{\"period\": 2, \"group\": %s, \"room\": null}]},"
                "{\"day\": \"fri\", \"lessons\": []}]}",
                g, g);
        ASSERT_VALID (timetable, ok);

        g_autofree char *bad_room = g_strdup_printf (
                "{\"term\": \"2024-1\", \"days\": [{\"day\": \"mon\", \"lessons\": []},"
                "{\"day\": \"tue\", \"lessons\": [{\"period\": 1, \"group\": %s},"
                "{\"period\": 3, \"group\": %s, \"room\": \"Sports hall\"}]}]}",
                g, g);
        ASSERT_MESSAGE (timetable, bad_room, "/days/1/lessons/1/room: longer than 8 characters");

        g_autofree char *bad_period = g_strdup_printf (
                "{\"term\": \"2024-1\", \"days\": [{\"day\": \"wed\", \"lessons\": ["
                "{\"period\": 11, \"group\": %s}]}]}",
                g);
        ASSERT_MESSAGE (timetable, bad_period, "/days/0/lessons/0/period: above the maximum 10");

        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-1\", \"days\": [{\"day\": \"sun\", "
                                   "\"lessons\": []}]}",
                        "/days/0/day: value is not one of the allowed values");
        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-3\", \"days\": []}",
                        "/term: does not match ^[0-9]{4}-[12]$");
        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-1\", \"days\": [{\"day\": \"mon\", "
                                   "\"lessons\": [{\"period\": 1}]}]}",
                        "/days/0/lessons/0: required field \"group\" is missing");
        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-1\", \"days\": {}}",
                        "/days: expected array, got object");
}

/* ---- parsing bodies ---- */

static void
test_body_utf8 (void)
{
        g_autoptr (JsonNode) n = parse ("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
        g_assert_cmpstr (json_node_get_string (n), ==, "café 😀");

        ASSERT_BODY_REFUSED ("\"\xff\"", "UTF-8");
        ASSERT_BODY_REFUSED ("\"caf\xc3\"", "UTF-8");       /* truncated sequence */
        ASSERT_BODY_REFUSED ("\"\xc0\xaf\"", "UTF-8");      /* overlong "/" */
        ASSERT_BODY_REFUSED ("\"\xed\xa0\x80\"", "UTF-8");  /* encoded surrogate */
        ASSERT_BODY_REFUSED ("\"\xf4\x90\x80\x80\"", "UTF-8"); /* beyond U+10FFFF */
        ASSERT_BODY_REFUSED ("{\"a\": 1}\xfe", "UTF-8");     /* after the value, too */

        /* A NUL byte inside the body is not UTF-8 text either. */
        static const char with_nul[] = "{\"a\": \"x\0y\"}";
        g_autofree char *m = body_error (with_nul, sizeof with_nul - 1);
        g_assert_nonnull (m);
}

static void
test_body_depth (void)
{
        /* 64 levels are fine, 65 are not, whatever the brackets. */
        g_autofree char *a64 = nested ("[", "]", ATRIUM_JSON_MAX_DEPTH, NULL);
        g_autofree char *a65 = nested ("[", "]", ATRIUM_JSON_MAX_DEPTH + 1, NULL);
        g_autoptr (JsonNode) n64 = parse (a64);
        g_assert_true (JSON_NODE_HOLDS_ARRAY (n64));
        ASSERT_BODY_REFUSED (a65, "deeper than 64");

        g_autofree char *o64 = nested ("{\"a\":", "}", ATRIUM_JSON_MAX_DEPTH - 1, "{}");
        g_autofree char *o65 = nested ("{\"a\":", "}", ATRIUM_JSON_MAX_DEPTH, "{}");
        g_autoptr (JsonNode) on64 = parse (o64);
        g_assert_true (JSON_NODE_HOLDS_OBJECT (on64));
        ASSERT_BODY_REFUSED (o65, "deeper than 64");

        g_autofree char *m64 = nested ("[{\"k\":", "}]", ATRIUM_JSON_MAX_DEPTH / 2, "1");
        g_autofree char *m65 = nested ("[{\"k\":", "}]", ATRIUM_JSON_MAX_DEPTH / 2, "[]");
        g_autoptr (JsonNode) mn64 = parse (m64);
        g_assert_nonnull (mn64);
        ASSERT_BODY_REFUSED (m65, "deeper than 64");

        /* Depth is nesting, not the number of brackets: siblings do not add up. */
        GString *wide = g_string_new ("[");
        for (int i = 0; i < 1000; i++)
                g_string_append (wide, i ? ",[[]]" : "[[]]");
        g_string_append (wide, "]");
        g_autoptr (JsonNode) wn = parse (wide->str);
        g_assert_cmpuint (json_array_get_length (json_node_get_array (wn)), ==, 1000);
        g_string_free (wide, TRUE);

        /* Brackets inside strings are text. */
        g_autofree char *text = nested ("[", "]", 200, NULL);
        g_autofree char *in_string = g_strdup_printf ("{\"a\": \"%s\", \"b\": \"{{{{\"}", text);
        g_autoptr (JsonNode) sn = parse (in_string);
        g_assert_cmpstr (json_object_get_string_member (json_node_get_object (sn), "a"), ==,
                         text);
        g_autofree char *inner = g_strdup_printf ("\"%s\"", text);
        g_autofree char *deep_with_string = nested ("[", "]", ATRIUM_JSON_MAX_DEPTH, inner);
        g_autoptr (JsonNode) dn = parse (deep_with_string);
        g_assert_nonnull (dn);

        /* Escaped quotes do not end a string ... */
        g_autofree char *escaped = g_strdup_printf ("[\"\\\"%s\\\"\"]", text);
        g_autoptr (JsonNode) en = parse (escaped);
        g_assert_nonnull (en);
        /* ... but an escaped backslash before the quote does not hide the quote: what
         * follows the string is counted again. */
        g_autofree char *after = g_strdup_printf ("[\"\\\\\", %s]", a64);
        ASSERT_BODY_REFUSED (after, "deeper than 64");
        g_autofree char *a63 = nested ("[", "]", ATRIUM_JSON_MAX_DEPTH - 1, NULL);
        g_autofree char *after_ok = g_strdup_printf ("[\"\\\\\", %s]", a63);
        g_autoptr (JsonNode) an = parse (after_ok);
        g_assert_nonnull (an);

        /* The guard is cheap and comes first: a megabyte of '[' is refused, not parsed. */
        gsize big = 1024 * 1024;
        g_autofree char *brackets = g_malloc (big);
        memset (brackets, '[', big);
        g_autofree char *m = body_error (brackets, big);
        g_assert_nonnull (m);
        g_assert_nonnull (strstr (m, "deeper than 64"));
}

static void
test_body_empty (void)
{
        ASSERT_BODY_REFUSED ("", "empty");
        ASSERT_BODY_REFUSED ("   ", "empty");
        ASSERT_BODY_REFUSED ("\r\n\t ", "empty");
        g_autofree char *m = body_error ("{}", 0);
        g_assert_nonnull (m);
}

static void
test_body_garbage (void)
{
        ASSERT_BODY_REFUSED ("{} x", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1] 2", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": 1}}", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1]]", "not valid JSON");
        ASSERT_BODY_REFUSED ("1 2", "not valid JSON");
        ASSERT_BODY_REFUSED ("\"a\" \"b\"", "not valid JSON");
        ASSERT_BODY_REFUSED ("true false", "not valid JSON");
        ASSERT_BODY_REFUSED ("{},", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": }", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\" 1}", "not valid JSON");
        ASSERT_BODY_REFUSED ("[1,]", "not valid JSON");
        ASSERT_BODY_REFUSED ("{\"a\": 1,}", "not valid JSON");
        ASSERT_BODY_REFUSED ("{a: 1}", "not valid JSON");
        ASSERT_BODY_REFUSED ("nul", "not valid JSON");
        ASSERT_BODY_REFUSED ("[NaN]", "not valid JSON");
        ASSERT_BODY_REFUSED ("[Infinity]", "not valid JSON");
        ASSERT_BODY_REFUSED ("[+1]", "not valid JSON");
        ASSERT_BODY_REFUSED ("\"unterminated", "not valid JSON");
        ASSERT_BODY_REFUSED ("[", "not valid JSON");
        ASSERT_BODY_REFUSED ("}", "not valid JSON");
}

static void
test_body_scalars_and_length (void)
{
        /* One value of any type. */
        g_autoptr (JsonNode) i = parse ("42");
        g_assert_cmpint (json_node_get_int (i), ==, 42);
        g_autoptr (JsonNode) s = parse (" \"x\" \n");
        g_assert_cmpstr (json_node_get_string (s), ==, "x");
        g_autoptr (JsonNode) b = parse ("true");
        g_assert_true (json_node_get_boolean (b));
        g_autoptr (JsonNode) z = parse ("null");
        g_assert_true (JSON_NODE_HOLDS_NULL (z));

        /* The length is honoured: the body is not NUL-terminated. */
        static const char buf[] = "[1,2]XXXX";
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) a = atrium_json_parse_body (buf, 5, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (json_array_get_length (json_node_get_array (a)), ==, 2);
        g_autofree char *m = body_error (buf, 4);
        g_assert_nonnull (m);

        /* Big integers that fit stay exact. */
        g_autoptr (JsonNode) big = parse ("9223372036854775807");
        g_assert_cmpint (json_node_get_int (big), ==, G_MAXINT64);
        g_autoptr (JsonNode) small = parse ("-9223372036854775808");
        g_assert_cmpint (json_node_get_int (small), ==, G_MININT64);
}

/* Regression (core/schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the fix: the depth
 * guard counts brackets with its own idea of JSON, but json-glib 1.6 also accepts 'single-quoted'
 * strings and / * comments * /. A '"' inside either makes the guard believe the rest of the body
 * is one string, so no bracket after it is counted, and json-glib recurses once per bracket.
 * Measured: 100 000 levels (200 kB, under the default 1 MiB max_body) overflow an 8 MiB stack and
 * kill atriumd. Here only 65 levels, which must be refused. */
static void
test_regression_depth_bypass (void)
{
        g_autofree char *a65 = nested ("[", "]", ATRIUM_JSON_MAX_DEPTH + 1, NULL);
        g_autofree char *quote = g_strdup_printf ("['\"', %s]", a65);
        ASSERT_BODY_REFUSED (quote, "");
        g_autofree char *comment = g_strdup_printf ("[/* \" */ %s]", a65);
        ASSERT_BODY_REFUSED (comment, "");
}

/* Regression (core/schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the fix: json-glib
 * 1.6 stops after the first top-level array or object, so "{}{}" and '[1] [2]' are accepted as
 * their first value and the rest is silently dropped ("{} x" and "[1] 2" are refused). The header
 * promises one value. */
static void
test_regression_second_value (void)
{
        ASSERT_BODY_REFUSED ("{}{}", "");
        ASSERT_BODY_REFUSED ("[1][2]", "");
        ASSERT_BODY_REFUSED ("{\"title\": \"a\"} {\"title\": \"b\", \"admin\": true}", "");
}

/* Regression (core/schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the fix: json-glib
 * 1.6 wraps integers that do not fit in 64 bits: 9223372036854775808 parses as
 * -9223372036854775808, and 18446744073709551621 or 99999999999999999999999 as -1, so {"minimum":
 * -5, "maximum": 5} accepts them and the handler stores a number the client never sent. Refusing
 * the body (or keeping the value as a double) would both be honest. */
static void
test_regression_integer_overflow (void)
{
        const char *huge[] = {"9223372036854775808", "18446744073709551621",
                              "99999999999999999999999"};
        for (gsize i = 0; i < G_N_ELEMENTS (huge); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (JsonNode) n = atrium_json_parse_body (huge[i], strlen (huge[i]),
                                                                 &error);
                g_test_message ("body: %s", huge[i]);
                if (n)
                        g_assert_cmpfloat (json_node_get_double (n), >=, 9.2e18);
        }
}

/* Regression (core/schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the fix: "\u0000"
 * in a string silently truncates it: {"name": "ab\u0000cd"} reaches the handler as "ab". Neither
 * GLib strings nor PostgreSQL text can hold NUL, so the body should be refused. */
static void
test_regression_nul_escape (void)
{
        ASSERT_BODY_REFUSED ("{\"name\": \"ab\\u0000cd\"}", "");
}

/* Regression (core/schema.c, atrium_json_parse_body; fixed in 4eb0244). Before the fix: the UTF-8
 * check runs on the raw body, but json-glib decodes a lone surrogate escape ("\ud800x") into bytes
 * that are not UTF-8, so a handler can still receive invalid UTF-8. Such a body should be refused
 * (or the surrogate replaced by U+FFFD). */
static void
test_regression_lone_surrogate (void)
{
        const char *bodies[] = {"\"\\ud800x\"", "\"\\udc00\"", "\"a\\ud83d\""};
        for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++) {
                g_autoptr (GError) error = NULL;
                g_autoptr (JsonNode) n = atrium_json_parse_body (bodies[i], strlen (bodies[i]),
                                                                 &error);
                g_test_message ("body: %s", bodies[i]);
                if (n)
                        g_assert_true (g_utf8_validate (json_node_get_string (n), -1, NULL));
        }
}

/* Regression (core/schema.c, validate_object; fixed in 4eb0244). Before the fix: the error names a
 * JSON Pointer, but member names are not escaped (RFC 6901: '~' -> "~0", '/' -> "~1"), so a field
 * "a/b" is reported as "/a/b", which points at a different place. */
static void
test_regression_pointer_escaping (void)
{
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {}}", "{\"a/b\": 1}",
                        "/a~1b: unknown field");
        ASSERT_MESSAGE ("{\"type\": \"object\", \"properties\": {}}", "{\"m~n\": 1}",
                        "/m~0n: unknown field");
}

/* Regression (core/schema.c, format_ok; fixed in 4eb0244). Before the fix: "date" and "date-time"
 * should be RFC 3339, but g_date_time_new_from_iso8601 also takes ISO 8601 week and ordinal dates,
 * which PostgreSQL's date/timestamptz input then refuses (a 500 instead of a 400) or reads
 * differently. */
static void
test_regression_iso_week_dates (void)
{
        const char *date = "{\"type\": \"string\", \"format\": \"date\"}";
        ASSERT_REFUSED (date, "\"2024-W01-1\"", "/");
        const char *dt = "{\"type\": \"string\", \"format\": \"date-time\"}";
        ASSERT_REFUSED (dt, "\"2024-W01-1T00:00:00Z\"", "/");
        ASSERT_REFUSED (dt, "\"2024-001T00:00:00.0Z\"", "/");
}

/* Regression (core/schema.c, check_schema; fixed in 4eb0244). Before the fix: keyword values are
 * not type-checked when a schema is compiled, so a plugin's mistake is silently ignored instead of
 * refused at registration: "required": "title" (not a list) enforces nothing, "minLength": "3"
 * reads as 0, "enum": "a" is skipped, and "required": [{}] is a GLib critical
 * (json_array_get_string_element) on every request validated against it. The header says "nothing
 * is silently ignored". */
static void
test_regression_keyword_values (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"properties\": {\"title\": {}},"
                                " \"required\": \"title\"}",
                                "required");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"minLength\": \"3\"}", "minLength");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"string\", \"enum\": \"a\"}", "enum");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": \"yes\"}", "uniqueItems");
        /* This one is a GLib critical at validation time, on every request. */
        ASSERT_COMPILE_REFUSED ("{\"type\": \"object\", \"required\": [{}]}", "required");
}

/* Regression (core/schema.c, atrium_schema_compile; fixed in 4eb0244). Before the fix: an empty or
 * all-blank schema text (a plugin writing request_schema = "" for "no body") parses to no root at
 * all, and the NULL goes on into json_node_copy () and check_schema (): GLib criticals (fatal in
 * tests and under G_DEBUG=fatal-criticals) instead of a GError refusing the route. */
static void
test_regression_empty_schema_text (void)
{
        ASSERT_COMPILE_REFUSED ("", "");
        ASSERT_COMPILE_REFUSED ("  \n", "");
}

/* uniqueItems compares items pairwise (json_node_equal, O(n^2)): 20,000 items held a worker
 * for 21 s. A schema must bound such a list (maxItems <= 1000) or it is refused when the route
 * is registered, so no request can be that expensive. (No timing here: the bound is the fix.) */
static void
test_regression_unique_items_quadratic (void)
{
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": true,"
                                " \"items\": {\"type\": \"integer\"}}",
                                "maxItems");
        ASSERT_COMPILE_REFUSED ("{\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 5000}",
                                "maxItems");
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) ok = atrium_schema_compile (
                "{\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 1000}", &error);
        g_assert_no_error (error);
        g_assert_nonnull (ok);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add_func ("/schema/compile/unknown-keyword", test_compile_unknown_keyword);
        g_test_add_func ("/schema/compile/unknown-type", test_compile_unknown_type);
        g_test_add_func ("/schema/compile/invalid-pattern", test_compile_invalid_pattern);
        g_test_add_func ("/schema/compile/not-a-schema", test_compile_not_a_schema);
        g_test_add_func ("/schema/compile/closes-objects", test_compile_closes_objects);
        g_test_add_func ("/schema/compile/supported-keywords", test_compile_supported_keywords);

        g_test_add_func ("/schema/validate/types", test_validate_types);
        g_test_add_func ("/schema/validate/required", test_validate_required);
        g_test_add_func ("/schema/validate/unknown-fields", test_validate_unknown_fields);
        g_test_add_func ("/schema/validate/enum-const", test_validate_enum_const);
        g_test_add_func ("/schema/validate/length", test_validate_length);
        g_test_add_func ("/schema/validate/pattern", test_validate_pattern);
        g_test_add_func ("/schema/validate/formats", test_validate_formats);
        g_test_add_func ("/schema/validate/numbers", test_validate_numbers);
        g_test_add_func ("/schema/validate/arrays", test_validate_arrays);
        g_test_add_func ("/schema/validate/nested", test_validate_nested);

        g_test_add_func ("/schema/body/utf8", test_body_utf8);
        g_test_add_func ("/schema/body/depth", test_body_depth);
        g_test_add_func ("/schema/body/empty", test_body_empty);
        g_test_add_func ("/schema/body/garbage", test_body_garbage);
        g_test_add_func ("/schema/body/scalars-and-length", test_body_scalars_and_length);

        g_test_add_func ("/schema/regression/depth-bypass", test_regression_depth_bypass);
        g_test_add_func ("/schema/regression/second-value", test_regression_second_value);
        g_test_add_func ("/schema/regression/integer-overflow", test_regression_integer_overflow);
        g_test_add_func ("/schema/regression/nul-escape", test_regression_nul_escape);
        g_test_add_func ("/schema/regression/lone-surrogate", test_regression_lone_surrogate);
        g_test_add_func ("/schema/regression/pointer-escaping", test_regression_pointer_escaping);
        g_test_add_func ("/schema/regression/iso-week-dates", test_regression_iso_week_dates);
        g_test_add_func ("/schema/regression/keyword-values", test_regression_keyword_values);
        g_test_add_func ("/schema/regression/empty-schema-text", test_regression_empty_schema_text);
        g_test_add_func ("/schema/regression/unique-items-quadratic",
                         test_regression_unique_items_quadratic);

        return g_test_run ();
}
