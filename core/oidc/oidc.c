/* SPDX-License-Identifier: Apache-2.0 */
/* oidc.c - wires the OpenID provider into the host and holds what its endpoint files share:
 * the issuer's URL, form bodies, OAuth 2.0 error answers, client authentication, and the
 * claims of a person (ID token, userinfo, introspection). The provider is part of the core
 * (the platform's identity, not a module): its routes are core routes under /oidc/{school},
 * public for the identity check (which resolves {school} and sets the school for row-level
 * security) and flagged ATRIUM_ROUTE_OWN_AUTH, because an Authorization header here carries a
 * client's credentials or an OAuth access token, not an Atrium session. */
#include "oidc-private.h"

#include <libsoup/soup.h>
#include <string.h>

#include "atrium/crypto.h"
#include "atrium/groups.h"
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

const char *const atrium_oidc_scopes[] = {"openid", "profile", "email", "roles",
                                          "groups", "school",  NULL};

void
atrium_oidc_register (AtriumCore *core)
{
        atrium_oidc_discovery_routes (core);
        atrium_oidc_client_routes (core);
        atrium_oidc_authorize_routes (core);
        atrium_oidc_token_routes (core);
        atrium_oidc_endpoint_routes (core);
}

char *
atrium_oidc_issuer (AtriumRequest *req)
{
        return g_strdup_printf ("%s/oidc/%s", req->core->config->public_url,
                                (const char *) g_hash_table_lookup (req->params, "school"));
}

char *
atrium_oidc_hash (const char *secret)
{
        return atrium_token_hash_literal (secret);
}

JsonArray *
atrium_oidc_pg_array (const char *v)
{
        /* PostgreSQL's text[] output of values that never need quoting (scopes, role names,
         * uuids, URLs are read through array_to_json instead). */
        JsonArray *a = json_array_new ();
        if (!v || strlen (v) < 2)
                return a;
        g_autofree char *inner = g_strndup (v + 1, strlen (v) - 2);
        if (!*inner)
                return a;
        g_auto (GStrv) parts = g_strsplit (inner, ",", -1);
        for (guint i = 0; parts[i]; i++)
                json_array_add_string_element (a, parts[i]);
        return a;
}

GHashTable *
atrium_oidc_form (AtriumRequest *req, GError **error)
{
        const char *ct = g_hash_table_lookup (req->headers, "content-type");
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (len == 0)
                return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        if (!ct || g_ascii_strncasecmp (ct, "application/x-www-form-urlencoded", 33) != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                             "send the body as application/x-www-form-urlencoded");
                return NULL;
        }
        const char *data = g_bytes_get_data (req->body, NULL);
        if (memchr (data, '\0', len) || !g_utf8_validate (data, len, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the form is not UTF-8 text");
                return NULL;
        }
        g_autofree char *text = g_strndup (data, len);
        /* RFC 6749 3.1: a parameter must not be sent twice; soup_form_decode keeps the last,
         * so count the names first. */
        g_auto (GStrv) pairs = g_strsplit (text, "&", -1);
        g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; pairs[i]; i++) {
                if (!*pairs[i])
                        continue;
                char *eq = strchr (pairs[i], '=');
                g_autofree char *name =
                        g_strndup (pairs[i], eq ? (gsize) (eq - pairs[i]) : strlen (pairs[i]));
                if (!g_hash_table_add (seen, g_steal_pointer (&name))) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "a form parameter was sent twice");
                        return NULL;
                }
        }
        GHashTable *form = soup_form_decode (text);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init (&it, form);
        while (g_hash_table_iter_next (&it, &k, &v)) {
                if (!g_utf8_validate (v, -1, NULL) || !g_utf8_validate (k, -1, NULL)) {
                        g_hash_table_unref (form);
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "the form is not UTF-8 text");
                        return NULL;
                }
        }
        return form;
}

gboolean
atrium_oidc_error (AtriumRequest *req, guint status, const char *code, const char *description)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "error", code);
        if (description)
                json_object_set_string_member (o, "error_description", description);
        if (status == 401) {
                /* RFC 6749 5.2: a client that tried HTTP Basic is told the scheme. */
                atrium_request_add_header (req, "WWW-Authenticate", "Basic realm=\"atrium\"");
        }
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_respond_json (req, status, atrium_json_object_node (o));
        return TRUE;
}

static const char client_sql[] =
        "SELECT id, client_id, name, encode(secret_hash, 'hex') AS secret_hash, public, trusted, "
        "array_to_json(redirect_uris) AS redirect_uris, "
        "array_to_json(post_logout_redirect_uris) AS post_logout_redirect_uris, "
        "array_to_json(scopes) AS scopes, array_to_json(allowed_roles) AS allowed_roles, "
        "array_to_json(allowed_groups) AS allowed_groups, id_token_alg "
        "FROM core.oidc_clients WHERE client_id = $1";

JsonObject *
atrium_oidc_client_lookup (AtriumRequest *req, const char *client_id, GError **error)
{
        if (!client_id || strlen (client_id) > 64)
                return NULL;
        g_autoptr (AtriumResult) res = atrium_sql (req, error, client_sql, 1, client_id);
        if (!res || atrium_result_n_rows (res) != 1)
                return NULL;
        g_autoptr (JsonNode) row = atrium_result_row_json (res, 0);
        return json_object_ref (json_node_get_object (row));
}

/* client_secret_basic: "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 2.3.1). */
static gboolean
basic_credentials (AtriumRequest *req, char **out_id, char **out_secret)
{
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        if (!auth || g_ascii_strncasecmp (auth, "Basic ", 6) != 0)
                return FALSE;
        gsize n = 0;
        g_autofree guchar *raw = g_base64_decode (auth + 6, &n);
        if (!raw || n == 0 || memchr (raw, '\0', n))
                return FALSE;
        g_autofree char *text = g_strndup ((const char *) raw, n);
        char *colon = strchr (text, ':');
        if (!colon)
                return FALSE;
        *colon = '\0';
        *out_id = g_uri_unescape_string (text, NULL);
        *out_secret = g_uri_unescape_string (colon + 1, NULL);
        return *out_id && *out_secret;
}

JsonObject *
atrium_oidc_client_auth (AtriumRequest *req, GHashTable *form, gboolean *out_answered,
                         GError **error)
{
        *out_answered = FALSE;
        g_autofree char *id = NULL, *secret = NULL;
        gboolean basic = basic_credentials (req, &id, &secret);
        if (!basic) {
                g_clear_pointer (&id, g_free);
                g_clear_pointer (&secret, g_free);
                id = g_strdup (g_hash_table_lookup (form, "client_id"));
                secret = g_strdup (g_hash_table_lookup (form, "client_secret"));
        } else if (g_hash_table_lookup (form, "client_secret")) {
                *out_answered = atrium_oidc_error (req, 400, "invalid_request",
                                                   "use one way of client authentication");
                return NULL;
        }
        g_autoptr (GError) local = NULL;
        g_autoptr (JsonObject) client = atrium_oidc_client_lookup (req, id, &local);
        if (local) {
                g_propagate_error (error, g_steal_pointer (&local));
                return NULL;
        }
        gboolean ok = client != NULL;
        if (ok && json_object_get_boolean_member (client, "public")) {
                ok = secret == NULL; /* a public client has no secret to send */
        } else if (ok) {
                g_autofree char *hex =
                        secret ? atrium_digest_hex (GCRY_MD_SHA256, secret, strlen (secret)) : NULL;
                ok = atrium_ct_streq (hex, json_object_get_string_member (client, "secret_hash"));
        }
        if (!ok) {
                /* An unknown client, one of another school (row-level security hides it), a
                 * wrong secret: one answer. */
                *out_answered = atrium_oidc_error (req, 401, "invalid_client",
                                                   "client authentication failed");
                return NULL;
        }
        return g_steal_pointer (&client);
}

gboolean
atrium_oidc_has_scope (const char *scope, const char *name)
{
        if (!scope)
                return FALSE;
        g_auto (GStrv) parts = g_strsplit (scope, " ", -1);
        return g_strv_contains ((const char *const *) parts, name);
}

/* The groups service when the school has the groups module, else NULL. */
static const AtriumGroupsService *
groups_service (AtriumRequest *req, GError **error, gboolean *out_failed)
{
        *out_failed = FALSE;
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT EXISTS (SELECT 1 FROM core.school_modules "
                            "WHERE school_id = core.current_school() AND module = 'groups')",
                            0);
        if (!res) {
                *out_failed = TRUE;
                return NULL;
        }
        if (g_strcmp0 (atrium_result_value (res, 0, 0), "t") != 0)
                return NULL;
        return atrium_core_lookup_service (req->core, ATRIUM_GROUPS_SERVICE, 4);
}

gboolean
atrium_oidc_user_allowed (AtriumRequest *req, JsonObject *client, const char *user_id,
                          gboolean *out_allowed, GError **error)
{
        *out_allowed = FALSE;
        JsonNode *roles = json_object_get_member (client, "allowed_roles");
        JsonNode *groups = json_object_get_member (client, "allowed_groups");
        if (roles && !JSON_NODE_HOLDS_NULL (roles)) {
                g_autoptr (JsonNode) rn =
                        json_node_init_array (json_node_alloc (), json_node_get_array (roles));
                g_autofree char *text = json_to_string (rn, FALSE);
                g_autoptr (AtriumResult) res = atrium_sql (
                        req, error,
                        "SELECT roles && ARRAY(SELECT json_array_elements_text($2::json)) "
                        "FROM core.users WHERE id = $1::uuid AND disabled_at IS NULL",
                        2, user_id, text);
                if (!res)
                        return FALSE;
                if (atrium_result_n_rows (res) != 1 ||
                    g_strcmp0 (atrium_result_value (res, 0, 0), "t") != 0)
                        return TRUE;
        }
        if (groups && !JSON_NODE_HOLDS_NULL (groups)) {
                gboolean failed = FALSE;
                const AtriumGroupsService *gs = groups_service (req, error, &failed);
                if (failed)
                        return FALSE;
                if (!gs)
                        return TRUE; /* no groups module: nobody is in a group */
                g_auto (GStrv) mine = gs->groups_of (req->tx, user_id, error);
                if (!mine)
                        return FALSE;
                JsonArray *allowed = json_node_get_array (groups);
                gboolean in = FALSE;
                for (guint i = 0; !in && i < json_array_get_length (allowed); i++)
                        in = g_strv_contains ((const char *const *) mine,
                                              json_array_get_string_element (allowed, i));
                if (!in)
                        return TRUE;
        }
        *out_allowed = TRUE;
        return TRUE;
}

gboolean
atrium_oidc_claims (AtriumRequest *req, const char *user_id, const char *scopes, JsonObject *out,
                    GError **error)
{
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT u.username, u.display_name, u.roles, u.email, s.slug, s.name "
                            "FROM core.users u JOIN core.schools s ON s.id = u.school_id "
                            "WHERE u.id = $1::uuid AND u.disabled_at IS NULL",
                            1, user_id);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "no such person, or they are disabled");
                return FALSE;
        }
        json_object_set_string_member (out, "sub", user_id);
        if (atrium_oidc_has_scope (scopes, "profile")) {
                json_object_set_string_member (out, "name", atrium_result_value (res, 0, 1));
                json_object_set_string_member (out, "preferred_username",
                                               atrium_result_value (res, 0, 0));
        }
        if (atrium_oidc_has_scope (scopes, "email")) {
                /* The school mail address where the school has mail (the school runs that
                 * mailbox, so it is verified); else the address the school holds for the
                 * person, which nobody verified. */
                g_autofree char *school_mail = NULL;
                if (!atrium_school_mail_address (req, atrium_result_value (res, 0, 0), &school_mail,
                                                 error))
                        return FALSE;
                const char *email = school_mail ? school_mail : atrium_result_value (res, 0, 3);
                if (email) {
                        json_object_set_string_member (out, "email", email);
                        json_object_set_boolean_member (out, "email_verified", school_mail != NULL);
                }
        }
        if (atrium_oidc_has_scope (scopes, "roles"))
                json_object_set_array_member (
                        out, "roles", atrium_oidc_pg_array (atrium_result_value (res, 0, 2)));
        if (atrium_oidc_has_scope (scopes, "school")) {
                JsonObject *s = json_object_new ();
                json_object_set_string_member (s, "slug", atrium_result_value (res, 0, 4));
                json_object_set_string_member (s, "name", atrium_result_value (res, 0, 5));
                json_object_set_object_member (out, "school", s);
        }
        if (atrium_oidc_has_scope (scopes, "groups")) {
                JsonArray *list = json_array_new ();
                json_object_set_array_member (out, "groups", list);
                gboolean failed = FALSE;
                const AtriumGroupsService *gs = groups_service (req, error, &failed);
                if (failed)
                        return FALSE;
                g_auto (GStrv) mine = gs ? gs->groups_of (req->tx, user_id, error) : NULL;
                if (gs && !mine)
                        return FALSE;
                for (guint i = 0; mine && mine[i]; i++) {
                        g_autofree char *slug = NULL, *name = NULL;
                        if (!gs->group_names (req->tx, mine[i], &slug, &name, error))
                                return FALSE;
                        if (!name)
                                continue;
                        JsonObject *g = json_object_new ();
                        json_object_set_string_member (g, "id", mine[i]);
                        json_object_set_string_member (g, "name", name);
                        json_array_add_object_element (list, g);
                }
        }
        return TRUE;
}
