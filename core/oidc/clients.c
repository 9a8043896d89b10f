/* SPDX-License-Identifier: Apache-2.0 */
/* clients.c - the relying parties a school admits, managed by its admins over REST:
 *   POST|GET /api/v1/schools/{school}/oidc/clients, GET|PATCH|DELETE .../clients/{id}
 * A confidential client's secret is shown once, in the answer that creates (or rotates) it,
 * and stored only as its SHA-256. Redirect URIs are matched exactly at /authorize, so they
 * are checked here once: absolute, no fragment, https (plain http only for a loopback host,
 * RFC 8252 7.3). Row-level security keeps every client in its school. */
#include "oidc-private.h"

#include <string.h>

#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#define URI_LIST                                                                                   \
        "{\"type\":\"array\",\"minItems\":1,\"maxItems\":20,\"uniqueItems\":true,"                 \
        "\"items\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":2000}}"
#define LOGOUT_URI_LIST                                                                            \
        "{\"type\":\"array\",\"maxItems\":20,\"uniqueItems\":true,"                                \
        "\"items\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":2000}}"
#define SCOPE_LIST                                                                                 \
        "{\"type\":\"array\",\"maxItems\":6,\"uniqueItems\":true,\"items\":{\"enum\":"             \
        "[\"openid\",\"profile\",\"email\",\"roles\",\"groups\",\"school\"]}}"
#define ROLE_LIST                                                                                  \
        "{\"type\":[\"array\",\"null\"],\"minItems\":1,\"maxItems\":5,\"uniqueItems\":true,"       \
        "\"items\":{\"enum\":[\"admin\",\"teacher\",\"student\",\"parent\",\"staff\"]}}"
#define GROUP_LIST                                                                                 \
        "{\"type\":[\"array\",\"null\"],\"minItems\":1,\"maxItems\":100,\"uniqueItems\":true,"     \
        "\"items\":{\"type\":\"string\",\"format\":\"uuid\"}}"
#define ALG "{\"enum\":[\"RS256\",\"ES256\"]}"

static const char create_schema[] =
        "{\"type\":\"object\",\"required\":[\"name\",\"redirect_uris\",\"public\",\"trusted\","
        "\"scopes\"],\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"redirect_uris\":" URI_LIST ",\"post_logout_redirect_uris\":" LOGOUT_URI_LIST ","
        "\"public\":{\"type\":\"boolean\"},\"trusted\":{\"type\":\"boolean\"},"
        "\"scopes\":" SCOPE_LIST ",\"allowed_roles\":" ROLE_LIST ","
        "\"allowed_groups\":" GROUP_LIST ",\"id_token_signed_response_alg\":" ALG "}}";

static const char patch_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"redirect_uris\":" URI_LIST ",\"post_logout_redirect_uris\":" LOGOUT_URI_LIST ","
        "\"trusted\":{\"type\":\"boolean\"},\"scopes\":" SCOPE_LIST ","
        "\"allowed_roles\":" ROLE_LIST ",\"allowed_groups\":" GROUP_LIST ","
        "\"id_token_signed_response_alg\":" ALG ","
        "\"rotate_secret\":{\"type\":\"boolean\",\"description\":\"a new secret, shown once "
        "(confidential clients)\"}}}";

/* A client as CLIENT_COLUMNS shows it (and its secret, once). */
#define CLIENT_PROPS                                                                               \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"client_id\":{\"type\":\"string\"},"    \
        "\"client_secret\":{\"type\":\"string\",\"description\":\"confidential clients, once\"},"  \
        "\"name\":{\"type\":\"string\"},\"redirect_uris\":" URI_LIST ","                           \
        "\"public\":{\"type\":\"boolean\"},\"trusted\":{\"type\":\"boolean\"},"                    \
        "\"scopes\":" SCOPE_LIST ",\"allowed_roles\":" ROLE_LIST ","                               \
        "\"allowed_groups\":" GROUP_LIST ","                                                       \
        "\"post_logout_redirect_uris\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":"        \
        "\"string\"}},\"id_token_signed_response_alg\":" ALG ","                                   \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"}"
static const char client_schema[] = "{\"type\":\"object\",\"properties\":{" CLIENT_PROPS "}}";
static const char clients_answer[] =
        "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{"
        "\"type\":\"object\",\"properties\":{" CLIENT_PROPS "}}},\"next_cursor\":{\"type\":"
        "\"null\"}}}";

/* Every column a client shows (never the secret's hash). */
#define CLIENT_COLUMNS                                                                             \
        "id, client_id, name, public, trusted, array_to_json(redirect_uris) AS redirect_uris, "    \
        "array_to_json(post_logout_redirect_uris) AS post_logout_redirect_uris, "                  \
        "array_to_json(scopes) AS scopes, array_to_json(allowed_roles) AS allowed_roles, "         \
        "array_to_json(allowed_groups) AS allowed_groups, "                                        \
        "id_token_alg AS id_token_signed_response_alg, created_at, updated_at"

static gboolean
loopback (const char *host)
{
        return g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "localhost") == 0 ||
               g_strcmp0 (host, "::1") == 0 || g_strcmp0 (host, "[::1]") == 0;
}

static gboolean
check_uris (JsonObject *in, const char *member, GError **error)
{
        if (!json_object_has_member (in, member))
                return TRUE;
        JsonArray *a = json_object_get_array_member (in, member);
        for (guint i = 0; i < json_array_get_length (a); i++) {
                const char *s = json_array_get_string_element (a, i);
                g_autoptr (GUri) uri = g_uri_parse (s, G_URI_FLAGS_NONE, NULL);
                const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;
                gboolean ok =
                        uri && g_uri_get_host (uri) && *g_uri_get_host (uri) &&
                        !g_uri_get_fragment (uri) && !g_uri_get_userinfo (uri) &&
                        (g_strcmp0 (scheme, "https") == 0 ||
                         (g_strcmp0 (scheme, "http") == 0 && loopback (g_uri_get_host (uri))));
                if (!ok) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "/%s/%u: an absolute https URI without a fragment (http "
                                     "only for a loopback address)",
                                     member, i);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The JSON text of @member of @in, or NULL when it is absent. Returns: (transfer full) */
static char *
member_text (JsonObject *in, const char *member)
{
        JsonNode *n = json_object_get_member (in, member);
        return n ? json_to_string (n, FALSE) : NULL;
}

static gboolean
create_client (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        if (!check_uris (in, "redirect_uris", error) ||
            !check_uris (in, "post_logout_redirect_uris", error))
                return FALSE;
        gboolean is_public = json_object_get_boolean_member (in, "public");
        g_autofree char *client_id = atrium_random_token (18);
        g_autofree char *secret = is_public ? NULL : atrium_random_token (32);
        g_autofree char *hash = secret ? atrium_oidc_hash (secret) : NULL;
        g_autofree char *uris = member_text (in, "redirect_uris");
        g_autofree char *logout = member_text (in, "post_logout_redirect_uris");
        g_autofree char *scopes = member_text (in, "scopes");
        g_autofree char *roles = member_text (in, "allowed_roles");
        g_autofree char *groups = member_text (in, "allowed_groups");
        const char *alg = json_object_get_string_member_with_default (
                in, "id_token_signed_response_alg", "RS256");
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.oidc_clients (school_id, client_id, name, secret_hash, public, "
                "trusted, redirect_uris, post_logout_redirect_uris, scopes, allowed_roles, "
                "allowed_groups, id_token_alg) VALUES (core.current_school(), $1, $2, $3::bytea, "
                "$4::boolean, $5::boolean, ARRAY(SELECT json_array_elements_text($6::json)), "
                "ARRAY(SELECT json_array_elements_text(coalesce($7::json, '[]'))), "
                "ARRAY(SELECT json_array_elements_text($8::json)), "
                "CASE WHEN $9::json IS NULL OR json_typeof($9::json) = 'null' THEN NULL ELSE "
                "ARRAY(SELECT json_array_elements_text($9::json)) END, "
                "CASE WHEN $10::json IS NULL OR json_typeof($10::json) = 'null' THEN NULL ELSE "
                "ARRAY(SELECT json_array_elements_text($10::json))::uuid[] END, $11) "
                "RETURNING " CLIENT_COLUMNS,
                11, client_id, json_object_get_string_member (in, "name"), hash,
                is_public ? "true" : "false",
                json_object_get_boolean_member (in, "trusted") ? "true" : "false", uris, logout,
                scopes, roles, groups, alg);
        if (!res)
                return FALSE;
        JsonNode *row = atrium_result_row_json (res, 0);
        JsonObject *o = json_node_get_object (row);
        if (secret)
                json_object_set_string_member (o, "client_secret", secret);
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "name", json_object_get_string_member (in, "name"));
        json_object_set_string_member (d, "client_id", client_id);
        atrium_audit (req, "oidc.client_created", json_object_get_string_member (o, "id"),
                      atrium_json_object_node (d));
        atrium_request_respond_json (req, 201, row);
        return TRUE;
}

static gboolean
list_clients (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT " CLIENT_COLUMNS " FROM core.oidc_clients ORDER BY name, id LIMIT 1000", 0);
        if (!res)
                return FALSE;
        atrium_request_respond_page (req, atrium_result_rows_json (res), NULL);
        return TRUE;
}

static gboolean
get_client (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!atrium_valid_uuid_or_404 (id, "client", error))
                return FALSE;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "SELECT " CLIENT_COLUMNS " FROM core.oidc_clients WHERE id = $1::uuid",
                1, id);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return atrium_valid_uuid_or_404 (NULL, "client", error);
        atrium_request_respond_json (req, 200, atrium_result_row_json (res, 0));
        return TRUE;
}

static gboolean
patch_client (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!atrium_valid_uuid_or_404 (id, "client", error))
                return FALSE;
        JsonObject *in = json_node_get_object (req->json);
        if (!check_uris (in, "redirect_uris", error) ||
            !check_uris (in, "post_logout_redirect_uris", error))
                return FALSE;
        gboolean rotate = json_object_get_boolean_member_with_default (in, "rotate_secret", FALSE);
        g_autofree char *secret = rotate ? atrium_random_token (32) : NULL;
        g_autofree char *hash = secret ? atrium_oidc_hash (secret) : NULL;
        g_autofree char *uris = member_text (in, "redirect_uris");
        g_autofree char *logout = member_text (in, "post_logout_redirect_uris");
        g_autofree char *scopes = member_text (in, "scopes");
        g_autofree char *roles = member_text (in, "allowed_roles");
        g_autofree char *groups = member_text (in, "allowed_groups");
        const char *trusted =
                json_object_has_member (in, "trusted")
                        ? (json_object_get_boolean_member (in, "trusted") ? "true" : "false")
                        : NULL;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "UPDATE core.oidc_clients SET name = coalesce($2, name), "
                "trusted = coalesce($3::boolean, trusted), "
                "redirect_uris = CASE WHEN $4::json IS NULL THEN redirect_uris ELSE "
                "ARRAY(SELECT json_array_elements_text($4::json)) END, "
                "post_logout_redirect_uris = CASE WHEN $5::json IS NULL THEN "
                "post_logout_redirect_uris ELSE ARRAY(SELECT json_array_elements_text($5::json)) "
                "END, scopes = CASE WHEN $6::json IS NULL THEN scopes ELSE "
                "ARRAY(SELECT json_array_elements_text($6::json)) END, "
                "allowed_roles = CASE WHEN $7::json IS NULL THEN allowed_roles "
                "WHEN json_typeof($7::json) = 'null' THEN NULL "
                "ELSE ARRAY(SELECT json_array_elements_text($7::json)) END, "
                "allowed_groups = CASE WHEN $8::json IS NULL THEN allowed_groups "
                "WHEN json_typeof($8::json) = 'null' THEN NULL "
                "ELSE ARRAY(SELECT json_array_elements_text($8::json))::uuid[] END, "
                "id_token_alg = coalesce($9, id_token_alg), "
                "secret_hash = CASE WHEN public OR $10::bytea IS NULL THEN secret_hash "
                "ELSE $10::bytea END, updated_at = now() "
                "WHERE id = $1::uuid RETURNING " CLIENT_COLUMNS,
                10, id, json_object_get_string_member_with_default (in, "name", NULL), trusted,
                uris, logout, scopes, roles, groups,
                json_object_get_string_member_with_default (in, "id_token_signed_response_alg",
                                                            NULL),
                hash);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return atrium_valid_uuid_or_404 (NULL, "client", error);
        JsonNode *row = atrium_result_row_json (res, 0);
        JsonObject *o = json_node_get_object (row);
        if (rotate && json_object_get_boolean_member (o, "public")) {
                json_node_unref (row);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "/rotate_secret: a public client has no secret");
                return FALSE;
        }
        if (secret)
                json_object_set_string_member (o, "client_secret", secret);
        atrium_audit (req, rotate ? "oidc.client_secret_rotated" : "oidc.client_changed", id, NULL);
        atrium_request_respond_json (req, 200, row);
        return TRUE;
}

static gboolean
delete_client (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!atrium_valid_uuid_or_404 (id, "client", error))
                return FALSE;
        /* Its codes, grants, tokens and consents go with it (ON DELETE CASCADE). */
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error, "DELETE FROM core.oidc_clients WHERE id = $1::uuid", 1, id);
        if (!res)
                return FALSE;
        if (atrium_result_affected (res) != 1)
                return atrium_valid_uuid_or_404 (NULL, "client", error);
        atrium_audit (req, "oidc.client_deleted", id, NULL);
        atrium_request_respond_json (req, 204, NULL);
        return TRUE;
}

void
atrium_oidc_client_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST",
                 .path = "/api/v1/schools/{school}/oidc/clients", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "oidc.manage",
                 .summary = "Register an OpenID Connect client (its secret is shown once)",
                 .request_schema = create_schema, .response_schema = client_schema,
                 .success_status = 201, .handler = create_client},
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/oidc/clients", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "oidc.manage", .summary = "The school's OpenID Connect clients",
                 .response_schema = clients_answer, .handler = list_clients},
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/oidc/clients/{id}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "oidc.manage", .summary = "One OpenID Connect client",
                 .response_schema = client_schema, .handler = get_client},
                {ATRIUM_ROUTE_INIT, .method = "PATCH",
                 .path = "/api/v1/schools/{school}/oidc/clients/{id}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "oidc.manage",
                 .summary = "Change an OpenID Connect client, or rotate its secret",
                 .request_schema = patch_schema, .response_schema = client_schema,
                 .handler = patch_client},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/api/v1/schools/{school}/oidc/clients/{id}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "oidc.manage",
                 .summary = "Remove an OpenID Connect client and everything it was given",
                 .success_status = 204, .handler = delete_client},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
