/* SPDX-License-Identifier: Apache-2.0 */
/* router-private.h - method + path-template routing ("/api/v1/schools/{school}/groups/{id}").
 *
 * Templates are split into segments once; a segment is a literal, a parameter "{name}", a
 * parameter with a literal suffix "{name}.ics" (the value is what precedes the suffix), or, as
 * the last segment only, a tail "{name*}" that takes the rest of the path (slashes included,
 * possibly empty). Literal segments beat parameters and suffixed parameters beat plain ones, so
 * "/groups/search" wins over "/groups/{id}", and "/c/{id}.ics" over "/c/{id}". Matching is pure and allocation-light, and has a fuzz target. */
#pragma once

#include <glib.h>

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
