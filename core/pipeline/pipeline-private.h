/* SPDX-License-Identifier: Apache-2.0 */
/* pipeline-private.h - what the request pipeline offers the rest of the core:
 *   router.c      method + path-template routing, below
 *   json-schema.c request bodies: safe JSON parsing and JSON Schema validation
 *   problem.c     errors -> HTTP status and problem+json
 *   request.c     AtriumRequest: what was asked, who asks, the answer
 *   handle.c      one request through identity check, body, handler, commit
 *   perm-cache.c  the callers' permission lists kept between requests
 *
 * Routing: method + path-template routing ("/api/v1/schools/{school}/groups/{id}").
 *
 * Templates are split into segments once; a segment is a literal, a parameter "{name}", a
 * parameter with a literal suffix "{name}.ics" (the value is what precedes the suffix), or, as
 * the last segment only, a tail "{name*}" that takes the rest of the path (slashes included,
 * possibly empty). Literal segments beat parameters and suffixed parameters beat plain ones, so
 * "/groups/search" wins over "/groups/{id}", and "/c/{id}.ics" over "/c/{id}". Matching is pure and
 * allocation-light, and has a fuzz target. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "core-private.h"

typedef struct _AtriumRouter AtriumRouter;

typedef enum {
        ATRIUM_MATCH_OK,
        ATRIUM_MATCH_NOT_FOUND,
        ATRIUM_MATCH_METHOD_NOT_ALLOWED,
        ATRIUM_MATCH_BAD_PATH, /* undecodable percent-escapes, NUL, "." or ".." segments */
} AtriumMatchResult;

AtriumRouter *atrium_router_new (void);
void atrium_router_free (AtriumRouter *router);

/* Validates @template (starts with '/', balanced braces, parameter names [a-z_][a-z0-9_]*,
 * no duplicate parameter names, tail only last) and refuses an identical method+template. */
gboolean atrium_router_add (AtriumRouter *router, const char *method, const char *template,
                            gpointer data, GError **error);
/* Drops every route whose data satisfies @pred (a plugin whose init failed). */
void atrium_router_remove_if (AtriumRouter *router, GHRFunc pred, gpointer pred_data);

/**
 * atrium_router_match:
 * @out_params: (out) (transfer full): name -> percent-decoded value, on success
 * @out_template: (out) (transfer none): the matched template, on success
 * @out_allow: (out) (transfer full): "GET, POST" for METHOD_NOT_ALLOWED
 */
AtriumMatchResult atrium_router_match (AtriumRouter *router, const char *method, const char *path,
                                       gpointer *out_data, GHashTable **out_params,
                                       const char **out_template, char **out_allow);

/* Calls @func for every route, in registration order (OpenAPI generation). */
typedef void (*AtriumRouteFunc) (const char *method, const char *template, gpointer data,
                                 gpointer user_data);
void atrium_router_foreach (AtriumRouter *router, AtriumRouteFunc func, gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumRouter, atrium_router_free)

/* ---- json-schema.c ----
 * Request bodies: safe JSON parsing and validation against the JSON Schema
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
#define ATRIUM_JSON_MAX_DEPTH 64

/* Parses and normalises a route's schema. Returns: (transfer full) */
JsonNode *atrium_schema_compile (const char *text, GError **error);

/* Parses a request body: valid UTF-8, nesting at most ATRIUM_JSON_MAX_DEPTH, one value.
 * Returns: (transfer full) */
JsonNode *atrium_json_parse_body (const char *data, gsize len, GError **error);

/* Validates @value; the error message names the JSON Pointer of the first problem. */
gboolean atrium_schema_validate (JsonNode *schema, JsonNode *value, GError **error);
/* The same for a part of a value: @where (a JSON Pointer, or another name such as "?from")
 * stands for @value in the message. */
gboolean atrium_schema_validate_at (JsonObject *schema, JsonNode *value, const char *where,
                                    GError **error);

/* query-schema.c: a route's query_schema (api/atrium/host.h). Compiles @text as
 * atrium_schema_compile() does and checks that it is an object schema whose every property is
 * a string, integer, number or boolean with one "type". Returns: (transfer full) */
JsonNode *atrium_query_schema_compile (const char *text, GError **error);
/* The declared parameters' names, in the schema's order. Returns: (transfer full) */
char **atrium_query_schema_names (JsonNode *compiled);
/* Checks @query (name -> value, nullable) against a compiled query schema: each declared
 * parameter's text read as its type, then its keywords; a missing required one is an error.
 * Errors name the parameter ("?from: not a valid date-time"); ATRIUM_ERROR_INVALID. */
gboolean atrium_query_schema_check (JsonNode *schema, GHashTable *query, GError **error);

/* media-type.c: a route's response_type (api/atrium/host.h). The comma-separated media types
 * of @text, each checked ("type/subtype", a range such as "image/\*" or "*\/\*", parameters
 * after ';'), lower-cased. Returns: (transfer full) */
char **atrium_media_types_parse (const char *text, GError **error);
/* Whether the media type of @content_type (a Content-Type value; its parameters ignored) is
 * one of @types, ranges included. */
gboolean atrium_media_types_match (char *const *types, const char *content_type);

/* problem.c */
/* Every 503 carries Retry-After (seconds): the database restarting, a host draining. */
#define ATRIUM_RETRY_AFTER_503 "1"
guint atrium_error_status (const GError *error);
const char *atrium_error_type (const GError *error);
GBytes *atrium_problem_body (guint status, const char *type, const char *detail,
                             const char *instance);
char *atrium_problem_type_uri (const char *type);

/* ---- perm-cache.c ----
 * A caller's permissions (an immutable, reference-counted list of interned names, with the
 * school's permission epoch it was computed at), kept per session between requests. */
AtriumPermSet *atrium_perm_set_new (gint64 epoch, const char *const *perms);
AtriumPermSet *atrium_perm_set_ref (AtriumPermSet *set);
void atrium_perm_set_unref (AtriumPermSet *set);
gint64 atrium_perm_set_epoch (const AtriumPermSet *set);
guint atrium_perm_set_size (const AtriumPermSet *set);
const char *atrium_perm_set_get (const AtriumPermSet *set, guint i);
gboolean atrium_perm_set_has (const AtriumPermSet *set, const char *permission);

AtriumPermCache *atrium_perm_cache_new (guint max_entries);
void atrium_perm_cache_free (AtriumPermCache *cache);
/* Returns: (transfer full) (nullable): the list kept for @key, a token hash */
AtriumPermSet *atrium_perm_cache_lookup (AtriumPermCache *cache, const char *key);
/* Keeps @set (a reference is taken) unless a list of a later epoch is kept already. */
void atrium_perm_cache_store (AtriumPermCache *cache, const char *key, AtriumPermSet *set);
void atrium_perm_cache_forget (AtriumPermCache *cache, const char *key);
/* Counts one identity check of a user: @current, the kept list held; else it was computed. */
void atrium_perm_cache_count (AtriumPermCache *cache, gboolean current);
/* Returns: the sessions kept; the counts above in @out_current and @out_computed */
guint atrium_perm_cache_stats (AtriumPermCache *cache, guint64 *out_current, guint64 *out_computed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumPermSet, atrium_perm_set_unref)

/* ---- school-cache.c ----
 * The school a {school} slug names, kept per (slug, module) with the school's epoch it was
 * resolved at, for schools found with the module on (schema/0017_school_cache.sql). */
/* Entries a host keeps at most: (slug, module) pairs, a few per school. */
#define ATRIUM_SCHOOL_CACHE_ENTRIES 65536
AtriumSchoolCache *atrium_school_cache_new (guint max_entries);
void atrium_school_cache_free (AtriumSchoolCache *cache);
/* TRUE with the school's id (36 characters and a NUL) and epoch when one is kept. */
gboolean atrium_school_cache_lookup (AtriumSchoolCache *cache, const char *slug, const char *module,
                                     char out_id[37], gint64 *out_epoch);
/* Keeps @school_id at @epoch unless a later epoch is kept already. */
void atrium_school_cache_store (AtriumSchoolCache *cache, const char *slug, const char *module,
                                const char *school_id, gint64 epoch);
void atrium_school_cache_forget (AtriumSchoolCache *cache, const char *slug, const char *module);
/* Counts one school route's identity check: @kept, the kept school held; else resolved. */
void atrium_school_cache_count (AtriumSchoolCache *cache, gboolean kept);
/* Returns: the entries kept; the counts above in @out_kept and @out_resolved */
guint atrium_school_cache_stats (AtriumSchoolCache *cache, guint64 *out_kept,
                                 guint64 *out_resolved);

/* request.c */
void atrium_request_set_problem (AtriumRequest *req, const GError *error);
/* ABI 1.4 request_tx_commit (handle.c) */
gboolean atrium_request_tx_commit (AtriumRequest *req, GError **error);
void atrium_request_set_json (AtriumRequest *req, guint status, JsonNode *body);
/* The AtriumHost request slots (plugin-host/host-services.c puts them in the table). The
 * identity ones wait for a deferred identity check (handle.c). */
const char *atrium_request_method (AtriumRequest *req);
const char *atrium_request_param (AtriumRequest *req, const char *name);
const char *atrium_request_query (AtriumRequest *req, const char *name);
const char *atrium_request_header (AtriumRequest *req, const char *name);
JsonNode *atrium_request_json (AtriumRequest *req);
GBytes *atrium_request_body (AtriumRequest *req);
const char *atrium_request_school_id (AtriumRequest *req);
const char *atrium_request_school_slug (AtriumRequest *req);
const char *atrium_request_user_id (AtriumRequest *req);
gboolean atrium_request_has_permission (AtriumRequest *req, const char *permission);
AtriumTx *atrium_request_tx (AtriumRequest *req);
gboolean atrium_request_page (AtriumRequest *req, int *out_limit, char **out_after, GError **error);
void atrium_request_respond_json (AtriumRequest *req, guint status, JsonNode *body);
void atrium_request_respond_bytes (AtriumRequest *req, guint status, const char *content_type, GBytes *body);
void atrium_request_respond_page (AtriumRequest *req, JsonNode *items, const char *next_after);
void atrium_request_respond_result_page (AtriumRequest *req, const AtriumResult *res, int n_rows, const char *next_after);
void atrium_request_add_header (AtriumRequest *req, const char *name, const char *value);
gboolean atrium_request_is_operator (AtriumRequest *req);
GInputStream *atrium_request_body_stream (AtriumRequest *req);
void atrium_request_respond_stream (AtriumRequest *req, guint status, const char *content_type, GInputStream *body, goffset length);

/* handle.c: runs the route's handler in a transaction and fills the answer into @req. */
void atrium_core_handle (AtriumCore *core, AtriumRequest *req);
