/* SPDX-License-Identifier: Apache-2.0 */
/* test-json-schema-validate.c - unit tests of validating values against a compiled JSON
 * Schema (core/pipeline/json-schema.c): each keyword of the supported subset (types, required,
 * unknown fields, enum and const, lengths, patterns, formats, numbers, arrays, nesting) and the
 * JSON Pointer the error message names. Helpers and ASSERT_ macros: json-schema-test.h. The fuzz
 * target tests/fuzz/fuzz-json-body.c covers what cases cannot. */
#include "json-schema-test.h"

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
                        "{\"k\": \"b\"}", "/k: value is not one of the allowed values (a)");
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
                "2024-09-01T08:30:00Z",      "2024-09-01T08:30:00+02:00",
                "2024-09-01T08:30:00-05:30", "2024-09-01T08:30:00.123Z",
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
                "",           "2023-02-29",  "2024-9-1",    "2024-09-01T00:00:00Z",
                "01.09.2024", "2024-13-01",  "2024-00-10",  "2024-01-32",
                "20240901",   "2024-09-01 ", " 2024-09-01", "today",
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

        ASSERT_MESSAGE (
                timetable,
                "{\"term\": \"2024-1\", \"days\": [{\"day\": \"sun\", "
                "\"lessons\": []}]}",
                "/days/0/day: value is not one of the allowed values (mon, tue, wed, thu, fri)");
        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-3\", \"days\": []}",
                        "/term: does not match ^[0-9]{4}-[12]$");
        ASSERT_MESSAGE (timetable,
                        "{\"term\": \"2024-1\", \"days\": [{\"day\": \"mon\", "
                        "\"lessons\": [{\"period\": 1}]}]}",
                        "/days/0/lessons/0: required field \"group\" is missing");
        ASSERT_MESSAGE (timetable, "{\"term\": \"2024-1\", \"days\": {}}",
                        "/days: expected array, got object");
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

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

        return g_test_run ();
}
