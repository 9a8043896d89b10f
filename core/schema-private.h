/* SPDX-License-Identifier: Apache-2.0 */
/* schema-private.h - request bodies: safe JSON parsing and validation against the JSON Schema
 * a route declared. The same schema goes into the OpenAPI document, so what is documented is
 * what is enforced.
 *
 * Supported keywords (the subset REST bodies need): type (one or a list), properties,
 * required, additionalProperties (boolean or schema), items, enum, const, minLength,
 * maxLength, pattern, format (date-time, date, uuid, email), minimum, maximum, minItems,
 * maxItems, uniqueItems, description, title, default, examples, nullable-by-type-list. A
 * schema using another keyword is refused at registration, so nothing is silently ignored.
 * Object schemas are closed: additionalProperties defaults to false (unknown fields are
 * errors, not silently dropped), and the normalised schema says so explicitly. */
#pragma once

#include <json-glib/json-glib.h>

#define ATRIUM_JSON_MAX_DEPTH 64

/* Parses and normalises a route's schema. Returns: (transfer full) */
JsonNode *atrium_schema_compile (const char *text, GError **error);

/* Parses a request body: valid UTF-8, nesting at most ATRIUM_JSON_MAX_DEPTH, one value.
 * Returns: (transfer full) */
JsonNode *atrium_json_parse_body (const char *data, gsize len, GError **error);

/* Validates @value; the error message names the JSON Pointer of the first problem. */
gboolean atrium_schema_validate (JsonNode *schema, JsonNode *value, GError **error);
