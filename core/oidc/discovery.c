/* SPDX-License-Identifier: Apache-2.0 */
/* discovery.c - OpenID Connect Discovery 1.0 for each school's issuer,
 * {public_url}/oidc/{school}/.well-known/openid-configuration, and the issuer's keys at
 * {issuer}/jwks (RFC 7517). The issuer printed here is the one every token carries, built
 * from the same [http] public_url, so the two always match exactly. */
#include "oidc-private.h"

#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

static void
add_strings (JsonObject *o, const char *member, const char *const *values)
{
        JsonArray *a = json_array_new ();
        for (guint i = 0; values[i]; i++)
                json_array_add_string_element (a, values[i]);
        json_object_set_array_member (o, member, a);
}

static void
set_url (JsonObject *o, const char *member, const char *issuer, const char *path)
{
        g_autofree char *url = g_strconcat (issuer, path, NULL);
        json_object_set_string_member (o, member, url);
}

static gboolean
discovery (AtriumRequest *req, gpointer data, GError **error)
{
        /* The identity check resolved {school} (404 for an unknown one) before this runs. */
        g_autofree char *issuer = atrium_oidc_issuer (req);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "issuer", issuer);
        set_url (o, "authorization_endpoint", issuer, "/authorize");
        set_url (o, "token_endpoint", issuer, "/token");
        set_url (o, "userinfo_endpoint", issuer, "/userinfo");
        set_url (o, "jwks_uri", issuer, "/jwks");
        set_url (o, "revocation_endpoint", issuer, "/revoke");
        set_url (o, "introspection_endpoint", issuer, "/introspect");
        set_url (o, "end_session_endpoint", issuer, "/end_session");
        add_strings (o, "scopes_supported", atrium_oidc_scopes);
        add_strings (o, "response_types_supported", (const char *const[]) {"code", NULL});
        add_strings (o, "response_modes_supported", (const char *const[]) {"query", NULL});
        add_strings (o, "grant_types_supported",
                     (const char *const[]) {"authorization_code", "refresh_token", NULL});
        add_strings (o, "subject_types_supported", (const char *const[]) {"public", NULL});
        add_strings (o, "id_token_signing_alg_values_supported",
                     (const char *const[]) {"RS256", "ES256", NULL});
        const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "none",
                                            NULL};
        add_strings (o, "token_endpoint_auth_methods_supported", auth_methods);
        add_strings (o, "revocation_endpoint_auth_methods_supported", auth_methods);
        add_strings (o, "introspection_endpoint_auth_methods_supported", auth_methods);
        add_strings (o, "code_challenge_methods_supported", (const char *const[]) {"S256", NULL});
        add_strings (o, "prompt_values_supported",
                     (const char *const[]) {"none", "login", "consent", NULL});
        add_strings (o, "claims_supported",
                     (const char *const[]) {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
                                            "azp", "name", "preferred_username", "email",
                                            "email_verified", "roles", "groups", "school", NULL});
        json_object_set_boolean_member (o, "claims_parameter_supported", FALSE);
        json_object_set_boolean_member (o, "request_parameter_supported", FALSE);
        json_object_set_boolean_member (o, "request_uri_parameter_supported", FALSE);
        json_object_set_boolean_member (o, "authorization_response_iss_parameter_supported", TRUE);
        atrium_request_add_header (req, "Cache-Control", "public, max-age=300");
        atrium_request_respond_json (req, 200, atrium_json_object_node (o));
        return TRUE;
}

static gboolean
jwks (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "SELECT core.oidc_jwks($1::interval)", 1, ATRIUM_OIDC_KEY_KEEP);
        if (!res)
                return FALSE;
        JsonArray *keys = json_array_new ();
        for (int i = 0; i < atrium_result_n_rows (res); i++) {
                JsonNode *k = json_from_string (atrium_result_value (res, i, 0), error);
                if (!k) {
                        json_array_unref (keys);
                        return FALSE;
                }
                json_array_add_element (keys, k);
        }
        JsonObject *o = json_object_new ();
        json_object_set_array_member (o, "keys", keys);
        /* Short: relying parties must see a new key soon after a host rotated it. */
        atrium_request_add_header (req, "Cache-Control", "public, max-age=300");
        atrium_request_respond_json (req, 200, atrium_json_object_node (o));
        return TRUE;
}

static const char discovery_schema[] =
        "{\"type\":\"object\",\"description\":\"OpenID Provider Metadata (OpenID Connect "
        "Discovery 1.0, section 3)\"}";
static const char jwks_schema[] =
        "{\"type\":\"object\",\"description\":\"JSON Web Key Set (RFC 7517)\","
        "\"properties\":{\"keys\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}";

void
atrium_oidc_discovery_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/oidc/{school}/.well-known/openid-configuration",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH,
                 .summary = "OpenID Provider metadata of the school's issuer",
                 .response_schema = discovery_schema, .handler = discovery},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/oidc/{school}/jwks",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH,
                 .summary = "The issuer's public signing keys (JWKS)",
                 .response_schema = jwks_schema, .handler = jwks},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
