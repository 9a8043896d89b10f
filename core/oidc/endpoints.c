/* SPDX-License-Identifier: Apache-2.0 */
/* endpoints.c - what relying parties and resource servers call besides /token:
 *   GET|POST /oidc/{school}/userinfo    the person behind an access token (Core 5.3)
 *   POST     /oidc/{school}/introspect  token state for resource servers (RFC 7662)
 *   POST     /oidc/{school}/revoke      token revocation (RFC 7009)
 *   GET      /oidc/{school}/end_session RP-initiated logout (OpenID Connect RP-Initiated
 *                                       Logout 1.0)
 * An access token counts only while it is unexpired, its grant exists and its person is not
 * disabled; all of it is one query, in the issuer's school (row-level security). */
#include "oidc-private.h"

#include <string.h>

#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

/* The live token @token (of @kind, or either when NULL): its grant's user, scopes, client
 * (client_id), expiry and kind; zero rows when it is not live. */
static AtriumResult *
live_token (AtriumRequest *req, const char *token, const char *kind, GError **error)
{
        g_autofree char *hash = atrium_oidc_hash (token);
        return atrium_sql (
                req, error,
                "SELECT g.user_id, array_to_string(g.scopes, ' '), c.client_id, "
                "extract(epoch FROM t.expires_at)::bigint, t.kind, "
                "extract(epoch FROM t.created_at)::bigint, u.username, g.id "
                "FROM core.oidc_tokens t JOIN core.oidc_grants g ON g.id = t.grant_id "
                "JOIN core.oidc_clients c ON c.id = g.client "
                "JOIN core.users u ON u.id = g.user_id AND u.disabled_at IS NULL "
                "WHERE t.token_hash = $1::bytea AND t.expires_at > now() AND t.used_at IS NULL "
                "AND ($2::text IS NULL OR t.kind = $2)",
                2, hash, kind);
}

static gboolean
bearer_error (AtriumRequest *req, guint status, const char *code, const char *description)
{
        g_autofree char *h = g_strdup_printf ("Bearer error=\"%s\", error_description=\"%s\"", code,
                                              description);
        atrium_request_add_header (req, "WWW-Authenticate", h);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "error", code);
        json_object_set_string_member (o, "error_description", description);
        atrium_request_respond_json (req, status, atrium_json_object_node (o));
        return TRUE;
}

static gboolean
userinfo (AtriumRequest *req, gpointer data, GError **error)
{
        /* RFC 6750: the header, or (POST only) a form field; never both. */
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        const char *token = NULL;
        g_autoptr (GHashTable) form = NULL;
        if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
                token = auth + 7;
        if (g_str_equal (req->method, "POST")) {
                g_autoptr (GError) bad = NULL;
                form = atrium_oidc_form (req, &bad);
                if (!form)
                        return bearer_error (req, 400, "invalid_request", bad->message);
                const char *in_body = g_hash_table_lookup (form, "access_token");
                if (in_body && token)
                        return bearer_error (req, 400, "invalid_request",
                                             "send the token one way only");
                if (in_body)
                        token = in_body;
        }
        if (!token || !*token || strlen (token) > 100) {
                atrium_request_add_header (req, "WWW-Authenticate", "Bearer");
                JsonObject *o = json_object_new ();
                json_object_set_string_member (o, "error", "invalid_token");
                atrium_request_respond_json (req, 401, atrium_json_object_node (o));
                return TRUE;
        }
        g_autoptr (AtriumResult) res = live_token (req, token, "access", error);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return bearer_error (req, 401, "invalid_token",
                                     "the access token is unknown, expired or revoked");
        const char *scopes = atrium_result_value (res, 0, 1);
        if (!atrium_oidc_has_scope (scopes, "openid"))
                return bearer_error (req, 403, "insufficient_scope",
                                     "userinfo needs the openid scope");
        JsonObject *claims = json_object_new ();
        if (!atrium_oidc_claims (req, atrium_result_value (res, 0, 0), scopes, claims, error)) {
                json_object_unref (claims);
                return FALSE;
        }
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_respond_json (req, 200, atrium_json_object_node (claims));
        return TRUE;
}

static gboolean
introspect (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GError) bad = NULL;
        g_autoptr (GHashTable) form = atrium_oidc_form (req, &bad);
        if (!form)
                return atrium_oidc_error (req, 400, "invalid_request", bad->message);
        gboolean answered = FALSE;
        g_autoptr (JsonObject) client = atrium_oidc_client_auth (req, form, &answered, error);
        if (!client)
                return answered;
        /* RFC 7662 4: resource servers authenticate; a public client (a browser or phone app)
         * is none. */
        if (json_object_get_boolean_member (client, "public"))
                return atrium_oidc_error (req, 401, "invalid_client",
                                          "introspection is for confidential clients");
        const char *token = g_hash_table_lookup (form, "token");
        if (!token)
                return atrium_oidc_error (req, 400, "invalid_request", "token is required");
        JsonObject *o = json_object_new ();
        g_autoptr (AtriumResult) res =
                strlen (token) <= 100 ? live_token (req, token, NULL, error) : NULL;
        if (!res && strlen (token) <= 100) {
                json_object_unref (o);
                return FALSE;
        }
        if (!res || atrium_result_n_rows (res) != 1) {
                json_object_set_boolean_member (o, "active", FALSE);
        } else {
                g_autofree char *iss = atrium_oidc_issuer (req);
                json_object_set_boolean_member (o, "active", TRUE);
                json_object_set_string_member (o, "scope", atrium_result_value (res, 0, 1));
                json_object_set_string_member (o, "client_id", atrium_result_value (res, 0, 2));
                json_object_set_string_member (o, "username", atrium_result_value (res, 0, 6));
                json_object_set_string_member (
                        o, "token_type",
                        g_str_equal (atrium_result_value (res, 0, 4), "access") ? "Bearer"
                                                                                : "refresh_token");
                json_object_set_int_member (
                        o, "exp", g_ascii_strtoll (atrium_result_value (res, 0, 3), NULL, 10));
                json_object_set_int_member (
                        o, "iat", g_ascii_strtoll (atrium_result_value (res, 0, 5), NULL, 10));
                json_object_set_string_member (o, "sub", atrium_result_value (res, 0, 0));
                json_object_set_string_member (o, "aud", atrium_result_value (res, 0, 2));
                json_object_set_string_member (o, "iss", iss);
        }
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_respond_json (req, 200, atrium_json_object_node (o));
        return TRUE;
}

static gboolean
revoke_token (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GError) bad = NULL;
        g_autoptr (GHashTable) form = atrium_oidc_form (req, &bad);
        if (!form)
                return atrium_oidc_error (req, 400, "invalid_request", bad->message);
        gboolean answered = FALSE;
        g_autoptr (JsonObject) client = atrium_oidc_client_auth (req, form, &answered, error);
        if (!client)
                return answered;
        const char *token = g_hash_table_lookup (form, "token");
        if (!token)
                return atrium_oidc_error (req, 400, "invalid_request", "token is required");
        if (strlen (token) <= 100) {
                /* A refresh token takes its whole grant along (RFC 7009 2.1); an access token
                 * goes alone. Only the client's own tokens: another's are left as they are,
                 * and the answer is the same 200 (RFC 7009 2.2). */
                g_autofree char *hash = atrium_oidc_hash (token);
                g_autoptr (AtriumResult) res = atrium_sql (
                        req, error,
                        "WITH t AS (SELECT t.grant_id, t.kind FROM core.oidc_tokens t "
                        "JOIN core.oidc_grants g ON g.id = t.grant_id "
                        "WHERE t.token_hash = $1::bytea AND g.client = $2::uuid), "
                        "a AS (DELETE FROM core.oidc_tokens WHERE token_hash = $1::bytea "
                        "AND EXISTS (SELECT 1 FROM t WHERE kind = 'access') RETURNING 1), "
                        "r AS (DELETE FROM core.oidc_grants WHERE id IN "
                        "(SELECT grant_id FROM t WHERE kind = 'refresh') RETURNING id) "
                        "SELECT (SELECT count(*) FROM a), (SELECT min(id::text) FROM r)",
                        2, hash, json_object_get_string_member (client, "id"));
                if (!res)
                        return FALSE;
                if (atrium_result_value (res, 0, 1))
                        atrium_audit (req, "oidc.grant_revoked", atrium_result_value (res, 0, 1),
                                      NULL);
        }
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_respond_bytes (req, 200, NULL, NULL);
        return TRUE;
}

/* The "aud" of an ID token, read without checking its signature: it only chooses which
 * client's registered logout URIs a redirect may go to, so a forged hint gains nothing a
 * client_id parameter would not. Returns: (transfer full) (nullable) */
static char *
hint_audience (const char *id_token)
{
        if (!id_token || strlen (id_token) > 8192)
                return NULL;
        g_auto (GStrv) parts = g_strsplit (id_token, ".", -1);
        if (g_strv_length (parts) != 3)
                return NULL;
        gsize n = 0;
        g_autofree guchar *raw = atrium_base64url_decode (parts[1], strlen (parts[1]), &n);
        if (!raw)
                return NULL;
        g_autofree char *text = g_strndup ((const char *) raw, n);
        g_autoptr (JsonNode) claims = json_from_string (text, NULL);
        if (!claims || !JSON_NODE_HOLDS_OBJECT (claims))
                return NULL;
        JsonNode *aud = json_object_get_member (json_node_get_object (claims), "aud");
        if (aud && JSON_NODE_HOLDS_VALUE (aud) && json_node_get_value_type (aud) == G_TYPE_STRING)
                return g_strdup (json_node_get_string (aud));
        return NULL;
}

static gboolean
end_session (AtriumRequest *req, gpointer data, GError **error)
{
        const char *hint = req->query ? g_hash_table_lookup (req->query, "id_token_hint") : NULL;
        const char *client_id = req->query ? g_hash_table_lookup (req->query, "client_id") : NULL;
        const char *target =
                req->query ? g_hash_table_lookup (req->query, "post_logout_redirect_uri") : NULL;
        const char *state = req->query ? g_hash_table_lookup (req->query, "state") : NULL;
        g_autofree char *aud = client_id ? g_strdup (client_id) : hint_audience (hint);
        if (!atrium_browser_session_end (req, error))
                return FALSE;
        if (target) {
                g_autoptr (GError) local = NULL;
                g_autoptr (JsonObject) client = atrium_oidc_client_lookup (req, aud, &local);
                if (local) {
                        g_propagate_error (error, g_steal_pointer (&local));
                        return FALSE;
                }
                JsonArray *uris =
                        client ? json_object_get_array_member (client, "post_logout_redirect_uris")
                               : NULL;
                for (guint i = 0; uris && i < json_array_get_length (uris); i++) {
                        if (!g_str_equal (json_array_get_string_element (uris, i), target))
                                continue;
                        g_autofree char *s =
                                state ? g_uri_escape_string (state, NULL, FALSE) : NULL;
                        g_autofree char *url =
                                s ? g_strdup_printf ("%s%cstate=%s", target,
                                                     strchr (target, '?') ? '&' : '?', s)
                                  : g_strdup (target);
                        atrium_request_add_header (req, "Location", url);
                        atrium_request_add_header (req, "Cache-Control", "no-store");
                        atrium_request_respond_bytes (req, 303, NULL, NULL);
                        return TRUE;
                }
        }
        static const char html[] =
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>Signed out</title></head><body><main><h1>Signed out</h1>"
                "<p>You are signed out of the school's platform.</p></main></body></html>\n";
        atrium_request_add_header (req, "Content-Security-Policy",
                                   "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        atrium_request_add_header (req, "Cache-Control", "no-store");
        g_autoptr (GBytes) body = g_bytes_new_static (html, sizeof html - 1);
        atrium_request_respond_bytes (req, 200, "text/html; charset=utf-8", body);
        return TRUE;
}

/* RP-initiated logout's parameters (OpenID Connect RP-Initiated Logout 1.0), for the
 * document; plain strings, as the authorization request's (authorize.c). */
static const char end_session_query[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"id_token_hint\":{\"type\":\"string\",\"description\":\"an ID token this "
        "issuer gave the client\"},"
        "\"client_id\":{\"type\":\"string\"},"
        "\"post_logout_redirect_uri\":{\"type\":\"string\",\"description\":\"one the "
        "client registered; else the page says the person is signed out\"},"
        "\"state\":{\"type\":\"string\",\"description\":\"returned with the "
        "redirect\"}}}";

/* What userinfo answers: the claims the access token's scopes allow (atrium_oidc_claims). */
static const char userinfo_answer[] =
        "{\"type\":\"object\",\"required\":[\"sub\"],\"properties\":{"
        "\"sub\":{\"type\":\"string\",\"description\":\"the person's id\"},"
        "\"name\":{\"type\":\"string\",\"description\":\"scope profile\"},"
        "\"preferred_username\":{\"type\":\"string\",\"description\":\"scope profile\"},"
        "\"email\":{\"type\":\"string\",\"description\":\"scope email: the school mail "
        "address, else the address the school holds\"},"
        "\"email_verified\":{\"type\":\"boolean\",\"description\":\"true for the school "
        "mail address\"},"
        "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
        "\"scope roles\"},"
        "\"school\":{\"type\":\"object\",\"description\":\"scope school\",\"properties\":{"
        "\"slug\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"}}},"
        "\"groups\":{\"type\":\"array\",\"description\":\"scope groups\",\"items\":{"
        "\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"name\":{"
        "\"type\":\"string\"}}}}}}";

/* RFC 7662: {"active": false} alone for a token that is not live. */
static const char introspect_answer[] =
        "{\"type\":\"object\",\"required\":[\"active\"],\"properties\":{"
        "\"active\":{\"type\":\"boolean\"},\"scope\":{\"type\":\"string\"},"
        "\"client_id\":{\"type\":\"string\"},\"username\":{\"type\":\"string\"},"
        "\"token_type\":{\"enum\":[\"Bearer\",\"refresh_token\"]},"
        "\"exp\":{\"type\":\"integer\"},\"iat\":{\"type\":\"integer\"},"
        "\"sub\":{\"type\":\"string\"},\"aud\":{\"type\":\"string\"},"
        "\"iss\":{\"type\":\"string\"}}}";

void
atrium_oidc_endpoint_routes (AtriumCore *core)
{
        const guint32 form = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH | ATRIUM_ROUTE_RAW_BODY;
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/oidc/{school}/userinfo",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = form,
                 .summary = "OpenID Connect userinfo (Authorization: Bearer <access token>)",
                 .response_schema = userinfo_answer, .handler = userinfo},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/userinfo",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = form,
                 .summary = "OpenID Connect userinfo (Bearer header or access_token form field)",
                 .response_schema = userinfo_answer, .handler = userinfo},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/introspect",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = form,
                 .summary = "OAuth 2.0 token introspection for resource servers (RFC 7662)",
                 .response_schema = introspect_answer, .handler = introspect},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/revoke",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = form,
                 .summary = "OAuth 2.0 token revocation (RFC 7009)", .handler = revoke_token},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/oidc/{school}/end_session",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = form,
                 .summary = "RP-initiated logout: ends the browser's session (a page, or "
                            "303 to the client's post_logout_redirect_uri)",
                 .query_schema = end_session_query, .response_type = "text/html",
                 .handler = end_session},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
