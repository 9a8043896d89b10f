/* SPDX-License-Identifier: Apache-2.0 */
/* token.c - the token endpoint, POST /oidc/{school}/token (RFC 6749 4.1.3 and 6, RFC 7636,
 * OpenID Connect Core 3.1.3): codes for tokens, refresh tokens for new ones.
 *
 * A code is single-use: its row is locked, checked (client, exact redirect URI, expiry, PKCE)
 * and marked used in the same transaction that creates the grant. A second use finds it marked
 * and revokes the grant it produced, with every token of it (RFC 6749 4.1.2: "SHOULD revoke");
 * the refusal commits, so the revocation stands. Refresh tokens rotate the same way: using one
 * marks it and issues a new pair; using a marked one revokes the grant. Every answer carries
 * Cache-Control: no-store (RFC 6749 5.1). */
#include "oidc-private.h"

#include <string.h>

#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

/* PKCE S256: BASE64URL(SHA256(verifier)) == challenge, compared in constant time. */
static gboolean
pkce_ok (const char *verifier, const char *challenge)
{
        if (!verifier)
                return FALSE;
        gsize n = strlen (verifier);
        if (n < 43 || n > 128)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isalnum (verifier[i]) && !strchr ("-._~", verifier[i]))
                        return FALSE;
        guchar digest[32];
        gcry_md_hash_buffer (GCRY_MD_SHA256, digest, verifier, n);
        g_autofree char *computed = atrium_base64url_encode (digest, sizeof digest);
        return atrium_ct_streq (computed, challenge);
}

/* Ends a grant and every token of it. */
static gboolean
revoke_grant (AtriumRequest *req, const char *grant_id, const char *why, GError **error)
{
        if (!grant_id)
                return TRUE;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "DELETE FROM core.oidc_grants WHERE id = $1::uuid", 1, grant_id);
        if (!res)
                return FALSE;
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "reason", why);
        atrium_audit (req, "oidc.grant_revoked", grant_id, atrium_json_object_node (d));
        return TRUE;
}

/* Issues an access token (and a refresh token) in @grant_id and answers with them, plus an ID
 * token when the grant has the openid scope. */
static gboolean
issue (AtriumRequest *req, JsonObject *client, const char *grant_id, const char *user_id,
       const char *scopes, const char *nonce, gint64 auth_time, GError **error)
{
        /* Expired tokens go a few at a time with each new pair, as codes do (authorize.c). */
        g_autoptr (AtriumResult) purge = atrium_sql (
                req, error,
                "DELETE FROM core.oidc_tokens WHERE (school_id, token_hash) IN (SELECT school_id, "
                "token_hash FROM core.oidc_tokens WHERE school_id = core.current_school() AND "
                "expires_at < now() - interval '1 hour' LIMIT 20)",
                0);
        if (!purge)
                return FALSE;
        g_autofree char *access = atrium_random_token (32);
        g_autofree char *refresh = atrium_random_token (32);
        g_autofree char *ah = atrium_oidc_hash (access);
        g_autofree char *rh = atrium_oidc_hash (refresh);
        g_autoptr (AtriumResult) ins = atrium_sql (
                req, error,
                "INSERT INTO core.oidc_tokens (school_id, token_hash, grant_id, kind, expires_at) "
                "VALUES (core.current_school(), $1::bytea, $3::uuid, 'access', "
                "now() + $4::interval), (core.current_school(), $2::bytea, $3::uuid, 'refresh', "
                "now() + $5::interval)",
                5, ah, rh, grant_id, G_STRINGIFY (ATRIUM_OIDC_ACCESS_LIFE) " seconds",
                G_STRINGIFY (ATRIUM_OIDC_REFRESH_LIFE) " seconds");
        if (!ins)
                return FALSE;
        JsonObject *out = json_object_new ();
        json_object_set_string_member (out, "access_token", access);
        json_object_set_string_member (out, "token_type", "Bearer");
        json_object_set_int_member (out, "expires_in", ATRIUM_OIDC_ACCESS_LIFE);
        json_object_set_string_member (out, "refresh_token", refresh);
        json_object_set_string_member (out, "scope", scopes);
        if (atrium_oidc_has_scope (scopes, "openid")) {
                g_autoptr (JsonObject) claims = json_object_new ();
                g_autofree char *iss = atrium_oidc_issuer (req);
                gint64 now = g_get_real_time () / G_USEC_PER_SEC;
                json_object_set_string_member (claims, "iss", iss);
                const char *client_id = json_object_get_string_member (client, "client_id");
                json_object_set_string_member (claims, "aud", client_id);
                json_object_set_string_member (claims, "azp", client_id);
                json_object_set_int_member (claims, "iat", now);
                json_object_set_int_member (claims, "exp", now + ATRIUM_OIDC_ID_TOKEN_LIFE);
                json_object_set_int_member (claims, "auth_time", auth_time);
                if (nonce)
                        json_object_set_string_member (claims, "nonce", nonce);
                if (!atrium_oidc_claims (req, user_id, scopes, claims, error)) {
                        json_object_unref (out);
                        return FALSE;
                }
                char *jwt = atrium_oidc_sign (
                        req->core, json_object_get_string_member (client, "id_token_alg"), claims,
                        error);
                if (!jwt) {
                        json_object_unref (out);
                        return FALSE;
                }
                json_object_set_string_member (out, "id_token", jwt);
                g_free (jwt);
        }
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_add_header (req, "Pragma", "no-cache");
        atrium_request_respond_json (req, 200, atrium_json_object_node (out));
        return TRUE;
}

static gboolean
code_grant (AtriumRequest *req, JsonObject *client, GHashTable *form, GError **error)
{
        const char *code = g_hash_table_lookup (form, "code");
        if (!code || strlen (code) > 100)
                return atrium_oidc_error (req, 400, "invalid_grant", "unknown code");
        g_autofree char *hash = atrium_oidc_hash (code);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT c.client, c.user_id, c.redirect_uri, array_to_string(c.scopes, ' '), "
                "c.nonce, c.code_challenge, extract(epoch FROM c.auth_time)::bigint, "
                "c.expires_at <= now(), c.used_at IS NOT NULL, c.grant_id, "
                "u.disabled_at IS NOT NULL "
                "FROM core.oidc_codes c JOIN core.users u ON u.id = c.user_id "
                "WHERE c.code_hash = $1::bytea FOR UPDATE OF c",
                1, hash);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return atrium_oidc_error (req, 400, "invalid_grant", "unknown code");
        if (g_strcmp0 (atrium_result_value (res, 0, 8), "t") == 0) {
                if (!revoke_grant (req, atrium_result_value (res, 0, 9), "code reused", error))
                        return FALSE;
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "the code was used already; what it gave is revoked");
        }
        if (!g_str_equal (atrium_result_value (res, 0, 0),
                          json_object_get_string_member (client, "id")))
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "the code was issued to another client");
        if (g_strcmp0 (atrium_result_value (res, 0, 7), "t") == 0)
                return atrium_oidc_error (req, 400, "invalid_grant", "the code has expired");
        if (g_strcmp0 (g_hash_table_lookup (form, "redirect_uri"),
                       atrium_result_value (res, 0, 2)) != 0)
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "redirect_uri differs from the authorization request's");
        const char *challenge = atrium_result_value (res, 0, 5);
        const char *verifier = g_hash_table_lookup (form, "code_verifier");
        if (challenge ? !pkce_ok (verifier, challenge) : verifier != NULL)
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "the PKCE code_verifier does not match");
        if (g_strcmp0 (atrium_result_value (res, 0, 10), "t") == 0)
                return atrium_oidc_error (req, 400, "invalid_grant", "the person is disabled");
        const char *user_id = atrium_result_value (res, 0, 1);
        const char *scopes = atrium_result_value (res, 0, 3);
        const char *auth_time = atrium_result_value (res, 0, 6);
        g_autoptr (AtriumResult) grant = atrium_sql (
                req, error,
                "WITH g AS (INSERT INTO core.oidc_grants (school_id, client, user_id, scopes, "
                "auth_time) VALUES (core.current_school(), $2::uuid, $3::uuid, "
                "string_to_array($4, ' '), to_timestamp($5::bigint)) RETURNING id) "
                "UPDATE core.oidc_codes SET used_at = now(), grant_id = (SELECT id FROM g) "
                "WHERE code_hash = $1::bytea RETURNING grant_id",
                5, hash, atrium_result_value (res, 0, 0), user_id, scopes, auth_time);
        if (!grant)
                return FALSE;
        return issue (req, client, atrium_result_value (grant, 0, 0), user_id, scopes,
                      atrium_result_value (res, 0, 4), g_ascii_strtoll (auth_time, NULL, 10),
                      error);
}

static gboolean
refresh_grant (AtriumRequest *req, JsonObject *client, GHashTable *form, GError **error)
{
        const char *token = g_hash_table_lookup (form, "refresh_token");
        if (!token || strlen (token) > 100)
                return atrium_oidc_error (req, 400, "invalid_grant", "unknown refresh token");
        g_autofree char *hash = atrium_oidc_hash (token);
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT g.id, g.client, g.user_id, array_to_string(g.scopes, ' '), "
                            "extract(epoch FROM g.auth_time)::bigint, t.used_at IS NOT NULL, "
                            "t.expires_at <= now(), u.disabled_at IS NOT NULL "
                            "FROM core.oidc_tokens t JOIN core.oidc_grants g ON g.id = t.grant_id "
                            "JOIN core.users u ON u.id = g.user_id "
                            "WHERE t.token_hash = $1::bytea AND t.kind = 'refresh' FOR UPDATE OF t",
                            1, hash);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return atrium_oidc_error (req, 400, "invalid_grant", "unknown refresh token");
        const char *grant_id = atrium_result_value (res, 0, 0);
        if (!g_str_equal (atrium_result_value (res, 0, 1),
                          json_object_get_string_member (client, "id")))
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "the refresh token was issued to another client");
        if (g_strcmp0 (atrium_result_value (res, 0, 5), "t") == 0) {
                /* A rotated token used again: stolen, or a client that lost track. */
                if (!revoke_grant (req, grant_id, "refresh token reused", error))
                        return FALSE;
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "the refresh token was used already; the grant is "
                                          "revoked");
        }
        if (g_strcmp0 (atrium_result_value (res, 0, 6), "t") == 0)
                return atrium_oidc_error (req, 400, "invalid_grant", "the refresh token expired");
        if (g_strcmp0 (atrium_result_value (res, 0, 7), "t") == 0)
                return atrium_oidc_error (req, 400, "invalid_grant", "the person is disabled");
        gboolean allowed = FALSE;
        const char *user_id = atrium_result_value (res, 0, 2);
        if (!atrium_oidc_user_allowed (req, client, user_id, &allowed, error))
                return FALSE;
        if (!allowed)
                return atrium_oidc_error (req, 400, "invalid_grant",
                                          "this application is no longer open to the person");
        /* A narrower scope may be asked for (RFC 6749 6), never a wider one. */
        const char *scopes = atrium_result_value (res, 0, 3);
        const char *asked = g_hash_table_lookup (form, "scope");
        if (asked) {
                g_auto (GStrv) parts = g_strsplit (asked, " ", -1);
                for (guint i = 0; parts[i]; i++)
                        if (*parts[i] && !atrium_oidc_has_scope (scopes, parts[i]))
                                return atrium_oidc_error (req, 400, "invalid_scope",
                                                          "a refresh cannot widen the scope");
                scopes = asked;
        }
        g_autoptr (AtriumResult) used = atrium_sql (
                req, error,
                "UPDATE core.oidc_tokens SET used_at = now() WHERE token_hash = $1::bytea", 1,
                hash);
        if (!used)
                return FALSE;
        /* The ID token of a refresh carries no nonce (Core 12.2). */
        return issue (req, client, grant_id, user_id, scopes, NULL,
                      g_ascii_strtoll (atrium_result_value (res, 0, 4), NULL, 10), error);
}

static gboolean
token (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GError) bad = NULL;
        g_autoptr (GHashTable) form = atrium_oidc_form (req, &bad);
        if (!form)
                return atrium_oidc_error (req, 400, "invalid_request", bad->message);
        gboolean answered = FALSE;
        g_autoptr (JsonObject) client = atrium_oidc_client_auth (req, form, &answered, error);
        if (!client)
                return answered;
        const char *grant_type = g_hash_table_lookup (form, "grant_type");
        if (g_strcmp0 (grant_type, "authorization_code") == 0)
                return code_grant (req, client, form, error);
        if (g_strcmp0 (grant_type, "refresh_token") == 0)
                return refresh_grant (req, client, form, error);
        return atrium_oidc_error (req, 400,
                                  grant_type ? "unsupported_grant_type" : "invalid_request",
                                  "grant_type must be authorization_code or refresh_token");
}

/* RFC 6749 5.1, with OpenID Connect's id_token when the scope has openid. */
static const char token_answer[] =
        "{\"type\":\"object\",\"required\":[\"access_token\",\"token_type\",\"expires_in\","
        "\"refresh_token\",\"scope\"],\"properties\":{"
        "\"access_token\":{\"type\":\"string\"},\"token_type\":{\"enum\":[\"Bearer\"]},"
        "\"expires_in\":{\"type\":\"integer\",\"description\":\"seconds\"},"
        "\"refresh_token\":{\"type\":\"string\"},\"scope\":{\"type\":\"string\"},"
        "\"id_token\":{\"type\":\"string\",\"description\":\"a signed JWT (the client's alg), when "
        "the scope has openid\"}}}";

void
atrium_oidc_token_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/token",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH | ATRIUM_ROUTE_RAW_BODY,
                 .summary = "OAuth 2.0 token endpoint (authorization_code with PKCE, "
                            "refresh_token; form body)",
                 .response_schema = token_answer, .handler = token},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
