/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-json-body.c - libFuzzer target for request bodies (core/pipeline/json-schema.c): the input is a raw
 * body, exactly as a client sends it (not NUL-terminated), through atrium_json_parse_body ()
 * and then atrium_schema_validate () against three schemas of the kind plugins register: a
 * notice (closed object, enums, formats, patterns, nested arrays of objects, a typed map), a
 * timetable import (arrays in objects in arrays) and a nullable scalar. Besides crashes and
 * sanitizer reports it checks the contract: a refusal is an ATRIUM_ERROR_INVALID whose
 * message starts with a JSON Pointer, and a parsed body is never nested deeper than the limit.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char notice_schema[] =
        "{\"type\": \"object\", \"required\": [\"title\", \"body\", \"audience\"],"
        " \"properties\": {"
        "  \"title\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200},"
        "  \"body\": {\"type\": \"string\", \"maxLength\": 20000},"
        "  \"audience\": {\"type\": \"string\", \"enum\": [\"school\", \"staff\", \"parents\","
        "               \"group\"]},"
        "  \"group_id\": {\"type\": [\"string\", \"null\"], \"format\": \"uuid\"},"
        "  \"publish_at\": {\"type\": \"string\", \"format\": \"date-time\"},"
        "  \"expires_on\": {\"type\": \"string\", \"format\": \"date\"},"
        "  \"contact\": {\"type\": \"string\", \"format\": \"email\"},"
        "  \"slug\": {\"type\": \"string\", \"pattern\": \"^[a-z0-9]+(-[a-z0-9]+)*$\"},"
        "  \"priority\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 3},"
        "  \"score\": {\"type\": \"number\", \"minimum\": -1.5, \"maximum\": 1e6},"
        "  \"pinned\": {\"type\": \"boolean\"},"
        "  \"version\": {\"const\": 1},"
        "  \"tags\": {\"type\": \"array\", \"maxItems\": 10, \"uniqueItems\": true,"
        "           \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 30}},"
        "  \"attachments\": {\"type\": \"array\", \"maxItems\": 5, \"items\": {"
        "    \"type\": \"object\", \"required\": [\"name\", \"size\"], \"properties\": {"
        "      \"name\": {\"type\": \"string\", \"pattern\": \"^[^/\\\\\\\\]+$\"},"
        "      \"size\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 104857600},"
        "      \"mime\": {\"type\": \"string\", \"pattern\": \"^[a-z]+/[a-z0-9.+-]+$\"}}}},"
        "  \"meta\": {\"type\": \"object\","
        "           \"additionalProperties\": {\"type\": [\"string\", \"number\", \"boolean\"],"
        "                                      \"maxLength\": 100}}}}";

static const char timetable_schema[] =
        "{\"type\": \"object\", \"required\": [\"term\", \"days\"], \"properties\": {"
        "  \"term\": {\"type\": \"string\", \"pattern\": \"^[0-9]{4}-[12]$\"},"
        "  \"days\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 7, \"items\": {"
        "    \"type\": \"object\", \"required\": [\"day\", \"lessons\"], \"properties\": {"
        "      \"day\": {\"enum\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]},"
        "      \"lessons\": {\"type\": \"array\", \"items\": {"
        "        \"type\": \"object\", \"required\": [\"period\", \"group\"], \"properties\": {"
        "          \"period\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10},"
        "          \"group\": {\"type\": \"string\", \"format\": \"uuid\"},"
        "          \"room\": {\"type\": [\"string\", \"null\"], \"maxLength\": 8},"
        "          \"weeks\": {\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 53,"
        "                     \"items\": {\"type\": \"integer\", \"minimum\": 1}}}}}}}}}}";

static const char scalar_schema[] =
        "{\"type\": [\"string\", \"null\"], \"minLength\": 2, \"maxLength\": 64,"
        " \"pattern\": \"\\\\S\"}";

static JsonNode *schemas[3];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        /* A critical from GLib or json-glib is a bug the fuzzer should stop at. */
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        const char *texts[] = {notice_schema, timetable_schema, scalar_schema};
        for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
                g_autoptr (GError) error = NULL;
                schemas[i] = atrium_schema_compile (texts[i], &error);
                if (!schemas[i])
                        g_error ("schema %" G_GSIZE_FORMAT ": %s", i, error->message);
        }
        return 0;
}

static guint
depth_of (JsonNode *node)
{
        guint deepest = 0;
        if (JSON_NODE_HOLDS_ARRAY (node)) {
                JsonArray *a = json_node_get_array (node);
                for (guint i = 0; i < json_array_get_length (a); i++) {
                        guint d = depth_of (json_array_get_element (a, i));
                        deepest = MAX (deepest, d); /* not MAX (deepest, depth_of ()): twice */
                }
                return deepest + 1;
        }
        if (JSON_NODE_HOLDS_OBJECT (node)) {
                JsonObject *o = json_node_get_object (node);
                JsonObjectIter it;
                JsonNode *member;
                json_object_iter_init (&it, o);
                while (json_object_iter_next (&it, NULL, &member)) {
                        guint d = depth_of (member);
                        deepest = MAX (deepest, d);
                }
                return deepest + 1;
        }
        return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) body = atrium_json_parse_body ((const char *) data, size, &error);
        if (!body) {
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
                return 0;
        }
        g_assert_no_error (error);
        /* Only meaningful for small inputs, where the walk is cheap; libFuzzer's default
         * max_len keeps them small. */
        g_assert_cmpuint (depth_of (body), <=, ATRIUM_JSON_MAX_DEPTH);

        for (gsize i = 0; i < G_N_ELEMENTS (schemas); i++) {
                g_autoptr (GError) invalid = NULL;
                gboolean ok = atrium_schema_validate (schemas[i], body, &invalid);
                if (ok) {
                        g_assert_no_error (invalid);
                } else {
                        g_assert_error (invalid, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
                        g_assert_true (invalid->message[0] == '/');
                }
        }
        return 0;
}
