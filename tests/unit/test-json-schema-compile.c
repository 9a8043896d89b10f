/* SPDX-License-Identifier: Apache-2.0 */
/* test-json-schema-compile.c - unit tests of compiling a route's JSON Schema
 * (core/pipeline/json-schema.c): keywords outside the supported subset, unknown types, bad patterns
 * and values that are not schemas are refused, and object schemas come out closed
 * (additionalProperties false). Helpers and ASSERT_ macros: json-schema-test.h. The fuzz target
 * tests/fuzz/fuzz-json-body.c covers what cases cannot. */
#include "json-schema-test.h"

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
        ASSERT_COMPILE_REFUSED ("{\"properties\": {\"a\": {\"type\": \"int\"}}}", "#/properties/a");
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
        return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN &&
               !json_node_get_boolean (n);
}

static void
test_compile_closes_objects (void)
{
        g_autoptr (JsonNode) s = jst_compile (
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
        g_autoptr (JsonNode) s = jst_compile (
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

        return g_test_run ();
}
