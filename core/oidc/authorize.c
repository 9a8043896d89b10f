/* SPDX-License-Identifier: Apache-2.0 */
/* authorize.c - the authorization endpoint (OpenID Connect Core 3.1.2, RFC 6749 4.1, RFC 7636)
 * and the two pages a browser sees on the provider: the sign-in form and the consent page.
 *
 *   GET  /oidc/{school}/authorize  checks the request, then signs in, asks, or answers a code
 *   POST /oidc/{school}/login      the sign-in form (Username, Password, "Sign in")
 *   POST /oidc/{school}/consent    the consent page's answer
 *
 * Both forms carry the original request's parameters in one hidden field and run it through
 * the same checks again (authorize()), so nothing a form posts is trusted more than the URL
 * was. Errors about the client or its redirect URI are shown on a page and never redirected
 * (RFC 6749 4.1.2.1); every other error goes back to the exact, registered redirect URI. The
 * pages are plain server-rendered HTML: no scripts, a strict Content-Security-Policy, CSRF
 * tokens (browser-session.c). */
#include "oidc-private.h"

#include <libsoup/soup.h>
#include <string.h>

#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#define THROTTLE_WINDOW "15 minutes"

/* What the browser has done on the way here. */
typedef struct {
        gboolean fresh;     /* signed in by this very request (prompt=login is satisfied) */
        gboolean consented; /* the consent page's "Allow" */
        gboolean denied;    /* its "Deny" */
        char *user_id;      /* (nullable) the signed-in person */
        gint64 auth_time;
        char *notice;       /* (nullable) a message for the sign-in form */
        guint status;       /* the sign-in form's status (200, or 401 after a failure) */
        gboolean to_portal; /* the notice ends with a link to the portal's sign-in */
} Step;

static void
step_clear (Step *s)
{
        g_free (s->user_id);
        g_free (s->notice);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Step, step_clear)

/* ---- pages ---- */

static void
page (AtriumRequest *req, guint status, const char *form_target, const char *title,
      const char *body)
{
        /* No script, style or image may load; forms post here, and the provider's redirect
         * after a post goes to the client (browsers apply form-action to it). */
        g_autofree char *csp =
                g_strdup_printf ("default-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                                 "form-action 'self'%s%s",
                                 form_target ? " " : "", form_target ? form_target : "");
        atrium_request_add_header (req, "Content-Security-Policy", csp);
        atrium_request_add_header (req, "X-Frame-Options", "DENY");
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_add_header (req, "Referrer-Policy", "no-referrer");
        g_autofree char *t = g_markup_escape_text (title, -1);
        g_autofree char *html = g_strdup_printf (
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title></head>"
                "<body><main><h1>%s</h1>\n%s</main></body></html>\n",
                t, t, body);
        gsize len = strlen (html);
        atrium_request_respond_bytes (req, status, "text/html; charset=utf-8",
                                      g_bytes_new_take (g_steal_pointer (&html), len));
}

static gboolean
error_page (AtriumRequest *req, guint status, const char *message)
{
        g_autofree char *m = g_markup_escape_text (message, -1);
        g_autofree char *body = g_strdup_printf ("<p>%s</p>", m);
        page (req, status, NULL, "Sign-in request refused", body);
        return TRUE;
}

/* The origin of @uri ("https://app.example:8443"), for the CSP's form-action. */
static char *
origin_of (const char *uri)
{
        g_autoptr (GUri) u = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
        if (!u)
                return NULL;
        int port = g_uri_get_port (u);
        return port > 0 ? g_strdup_printf ("%s://%s:%d", g_uri_get_scheme (u), g_uri_get_host (u),
                                           port)
                        : g_strdup_printf ("%s://%s", g_uri_get_scheme (u), g_uri_get_host (u));
}

static gboolean
login_page (AtriumRequest *req, const char *query, JsonObject *client, const char *redirect_uri,
            const char *login_hint, Step *step)
{
        g_autofree char *csrf = atrium_csrf_token (req);
        g_autofree char *q = g_markup_escape_text (query, -1);
        g_autofree char *name =
                g_markup_escape_text (json_object_get_string_member (client, "name"), -1);
        g_autofree char *school =
                g_markup_escape_text (req->school_slug ? req->school_slug : "", -1);
        g_autofree char *notice = step->notice ? g_markup_escape_text (step->notice, -1) : NULL;
        /* login_hint (Core 3.1.2.1) fills in the username, nothing more. */
        g_autofree char *hint = g_markup_escape_text (
                login_hint && strlen (login_hint) <= 64 ? login_hint : "", -1);
        g_autofree char *body = g_strdup_printf (
                "<p>Sign in to your account at %s to continue to <strong>%s</strong>.</p>\n"
                "%s%s%s%s"
                "<form method=\"post\" action=\"login\">\n"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
                "<input type=\"hidden\" name=\"request\" value=\"%s\">\n"
                "<p><label for=\"username\">Username</label><br>"
                "<input id=\"username\" name=\"username\" autocomplete=\"username\" required "
                "maxlength=\"64\" value=\"%s\" autofocus></p>\n"
                "<p><label for=\"password\">Password</label><br>"
                "<input id=\"password\" name=\"password\" type=\"password\" "
                "autocomplete=\"current-password\" required maxlength=\"1024\"></p>\n"
                "<p><button type=\"submit\">Sign in</button></p>\n</form>\n",
                school, name, notice ? "<p role=\"alert\">" : "", notice ? notice : "",
                notice ? "</p>\n" : "",
                step->to_portal ? "<p><a href=\"/\">Open the school portal / Zum Schulportal</a>"
                                  "</p>\n"
                                : "",
                csrf, q, hint);
        g_autofree char *origin = origin_of (redirect_uri);
        page (req, step->status ? step->status : 200, origin, "Sign in", body);
        return TRUE;
}

static gboolean
consent_page (AtriumRequest *req, const char *query, JsonObject *client, const char *redirect_uri,
              const char *scopes)
{
        g_autofree char *csrf = atrium_csrf_token (req);
        g_autofree char *q = g_markup_escape_text (query, -1);
        g_autofree char *name =
                g_markup_escape_text (json_object_get_string_member (client, "name"), -1);
        g_autoptr (GString) items = g_string_new (NULL);
        g_auto (GStrv) list = g_strsplit (scopes, " ", -1);
        for (guint i = 0; list[i]; i++) {
                static const char *const what[][2] = {
                        {"openid", "who you are (an identifier for your account)"},
                        {"profile", "your name and username"},
                        {"email", "your e-mail address"},
                        {"roles", "your roles at the school"},
                        {"groups", "your classes and groups"},
                        {"school", "your school"},
                };
                for (guint j = 0; j < G_N_ELEMENTS (what); j++)
                        if (g_str_equal (list[i], what[j][0]))
                                g_string_append_printf (items, "<li>%s</li>", what[j][1]);
        }
        g_autofree char *body = g_strdup_printf (
                "<p><strong>%s</strong> asks to see:</p><ul>%s</ul>\n"
                "<form method=\"post\" action=\"consent\">\n"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
                "<input type=\"hidden\" name=\"request\" value=\"%s\">\n"
                "<p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> "
                "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n"
                "</form>\n",
                name, items->str, csrf, q);
        g_autofree char *origin = origin_of (redirect_uri);
        page (req, 200, origin, "Allow access?", body);
        return TRUE;
}

/* ---- answers to the client ---- */

static gboolean
redirect (AtriumRequest *req, const char *redirect_uri, const char *const *pairs)
{
        g_autoptr (GString) url = g_string_new (redirect_uri);
        gboolean has_query = strchr (redirect_uri, '?') != NULL;
        for (guint i = 0; pairs[i]; i += 2) {
                if (!pairs[i + 1])
                        continue;
                g_autofree char *v = g_uri_escape_string (pairs[i + 1], NULL, FALSE);
                g_string_append_printf (url, "%c%s=%s", has_query ? '&' : '?', pairs[i], v);
                has_query = TRUE;
        }
        atrium_request_add_header (req, "Location", url->str);
        atrium_request_add_header (req, "Cache-Control", "no-store");
        atrium_request_respond_bytes (req, 303, NULL, NULL);
        return TRUE;
}

static gboolean
redirect_error (AtriumRequest *req, const char *redirect_uri, const char *state, const char *code,
                const char *description)
{
        g_autofree char *iss = atrium_oidc_issuer (req);
        const char *pairs[] = {
                "error", code, "error_description", description, "state", state, "iss", iss, NULL};
        return redirect (req, redirect_uri, pairs);
}

/* ---- the request's checks ---- */

static gboolean
uri_listed (JsonObject *client, const char *member, const char *uri)
{
        JsonArray *a = json_object_get_array_member (client, member);
        for (guint i = 0; uri && a && i < json_array_get_length (a); i++)
                if (g_str_equal (json_array_get_string_element (a, i), uri))
                        return TRUE;
        return FALSE;
}

static gboolean
challenge_ok (const char *c)
{
        /* RFC 7636 4.2: base64url of a SHA-256, 43 characters; allow its full range. */
        gsize n = strlen (c);
        if (n < 43 || n > 128)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isalnum (c[i]) && !strchr ("-._~", c[i]))
                        return FALSE;
        return TRUE;
}

/* The scopes to grant: those asked for that the client is registered for; NULL (after
 * answering) when it asks for a known scope it may not have. Returns: (transfer full) */
static char *
granted_scopes (JsonObject *client, const char *asked)
{
        JsonArray *mine = json_object_get_array_member (client, "scopes");
        g_auto (GStrv) parts = g_strsplit (asked ? asked : "", " ", -1);
        g_autoptr (GString) out = g_string_new (NULL);
        for (guint i = 0; parts[i]; i++) {
                if (!*parts[i] || !g_strv_contains (atrium_oidc_scopes, parts[i]))
                        continue; /* unknown scopes are ignored (RFC 6749 3.3) */
                gboolean allowed = FALSE;
                for (guint j = 0; !allowed && j < json_array_get_length (mine); j++)
                        allowed = g_str_equal (json_array_get_string_element (mine, j), parts[i]);
                if (!allowed)
                        return NULL;
                if (!atrium_oidc_has_scope (out->str, parts[i]))
                        g_string_append_printf (out, "%s%s", out->len ? " " : "", parts[i]);
        }
        return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
consent_on_file (AtriumRequest *req, const char *client_uuid, const char *user_id,
                 const char *scopes, gboolean *out_yes, GError **error)
{
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT scopes @> string_to_array($3, ' ') FROM core.oidc_consents "
                            "WHERE user_id = $1::uuid AND client = $2::uuid",
                            3, user_id, client_uuid, scopes);
        if (!res)
                return FALSE;
        *out_yes = atrium_result_n_rows (res) == 1 &&
                   g_strcmp0 (atrium_result_value (res, 0, 0), "t") == 0;
        return TRUE;
}

/* Runs the authorization request @query (the URL's query string) for the browser in @step,
 * to one of: an error page, an error redirect, the sign-in form, the consent page, a code. */
static gboolean
authorize (AtriumRequest *req, const char *query, Step *step, GError **error)
{
        g_autoptr (GHashTable) p = soup_form_decode (query);
        const char *client_id = g_hash_table_lookup (p, "client_id");
        const char *redirect_uri = g_hash_table_lookup (p, "redirect_uri");
        const char *state = g_hash_table_lookup (p, "state");
        g_autoptr (GError) local = NULL;
        g_autoptr (JsonObject) client = atrium_oidc_client_lookup (req, client_id, &local);
        if (local) {
                g_propagate_error (error, g_steal_pointer (&local));
                return FALSE;
        }
        if (!client)
                return error_page (req, 400, "This application is not registered at this school.");
        if (!uri_listed (client, "redirect_uris", redirect_uri))
                return error_page (req, 400,
                                   "The redirect_uri is not one registered for this application.");
        /* From here on, the client hears of errors at its redirect URI. */
        if (g_strcmp0 (g_hash_table_lookup (p, "response_type"), "code") != 0)
                return redirect_error (req, redirect_uri, state, "unsupported_response_type",
                                       "only response_type=code is supported");
        if (g_hash_table_lookup (p, "request") || g_hash_table_lookup (p, "request_uri"))
                return redirect_error (req, redirect_uri, state, "request_not_supported",
                                       "request objects are not supported");
        g_autofree char *scopes = granted_scopes (client, g_hash_table_lookup (p, "scope"));
        if (!scopes)
                return redirect_error (req, redirect_uri, state, "invalid_scope",
                                       "the client is not registered for a scope it asked for");
        const char *challenge = g_hash_table_lookup (p, "code_challenge");
        const char *method = g_hash_table_lookup (p, "code_challenge_method");
        if (challenge && (g_strcmp0 (method, "S256") != 0 || !challenge_ok (challenge)))
                return redirect_error (req, redirect_uri, state, "invalid_request",
                                       "code_challenge must be S256 (RFC 7636)");
        if (!challenge && json_object_get_boolean_member (client, "public"))
                return redirect_error (req, redirect_uri, state, "invalid_request",
                                       "a public client must use PKCE (code_challenge, S256)");
        const char *prompt = g_hash_table_lookup (p, "prompt");
        gboolean prompt_none = atrium_oidc_has_scope (prompt, "none");
        gboolean prompt_login = atrium_oidc_has_scope (prompt, "login");
        gboolean prompt_consent = atrium_oidc_has_scope (prompt, "consent");
        if (prompt_none && (prompt_login || prompt_consent))
                return redirect_error (req, redirect_uri, state, "invalid_request",
                                       "prompt=none cannot be combined");
        const char *max_age_s = g_hash_table_lookup (p, "max_age");
        gint64 max_age = -1;
        if (max_age_s && (!g_ascii_string_to_signed (max_age_s, 10, 0, G_MAXINT32, &max_age, NULL)))
                return redirect_error (req, redirect_uri, state, "invalid_request",
                                       "max_age must be a non-negative integer");
        if (state && strlen (state) > 2048)
                return redirect_error (req, redirect_uri, NULL, "invalid_request",
                                       "state is too long");
        /* A state that is fine goes back with the error (RFC 6749 4.1.2.1). */
        const char *nonce = g_hash_table_lookup (p, "nonce");
        if (nonce && strlen (nonce) > 512)
                return redirect_error (req, redirect_uri, state, "invalid_request",
                                       "nonce is too long");

        /* Who is signed in, and is that good enough for this request? */
        if (!step->user_id) {
                g_autofree char *sid = NULL;
                if (!atrium_browser_session (req, &sid, &step->user_id, &step->auth_time, error))
                        return FALSE;
        }
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        gboolean need_login =
                !step->user_id || (prompt_login && !step->fresh) ||
                (max_age >= 0 && !step->fresh && (max_age == 0 || now - step->auth_time > max_age));
        if (need_login) {
                if (prompt_none)
                        return redirect_error (req, redirect_uri, state, "login_required",
                                               "the person is not signed in");
                return login_page (req, query, client, redirect_uri,
                                   g_hash_table_lookup (p, "login_hint"), step);
        }
        gboolean allowed = FALSE;
        if (!atrium_oidc_user_allowed (req, client, step->user_id, &allowed, error))
                return FALSE;
        if (!allowed)
                return redirect_error (req, redirect_uri, state, "access_denied",
                                       "this application is not open to this person");
        const char *client_uuid = json_object_get_string_member (client, "id");
        if (step->denied)
                return redirect_error (req, redirect_uri, state, "access_denied",
                                       "the person did not allow access");
        if (step->consented) {
                g_autoptr (AtriumResult) c = atrium_sql (
                        req, error,
                        "INSERT INTO core.oidc_consents (school_id, user_id, client, scopes) "
                        "VALUES (core.current_school(), $1::uuid, $2::uuid, "
                        "string_to_array($3, ' ')) ON CONFLICT (school_id, user_id, client) DO "
                        "UPDATE SET scopes = ARRAY(SELECT DISTINCT unnest(core.oidc_consents.scopes "
                        "|| excluded.scopes)), granted_at = now()",
                        3, step->user_id, client_uuid, scopes);
                if (!c)
                        return FALSE;
                JsonObject *d = json_object_new ();
                json_object_set_string_member (d, "scopes", scopes);
                json_object_set_string_member (d, "user_id", step->user_id);
                atrium_audit (req, "oidc.consent_granted", client_uuid,
                              atrium_json_object_node (d));
        } else if (!json_object_get_boolean_member (client, "trusted")) {
                gboolean on_file = FALSE;
                if (!consent_on_file (req, client_uuid, step->user_id, scopes, &on_file, error))
                        return FALSE;
                if (!on_file || prompt_consent) {
                        if (prompt_none)
                                return redirect_error (req, redirect_uri, state, "consent_required",
                                                       "the person has not allowed this yet");
                        return consent_page (req, query, client, redirect_uri, scopes);
                }
        }

        /* Codes are kept past their use until they expire (a second use must be
         * recognised); each new one clears away a few that have long expired, so the table
         * stays small without a timer. */
        g_autoptr (AtriumResult) purge = atrium_sql (
                req, error,
                "DELETE FROM core.oidc_codes WHERE (school_id, code_hash) IN (SELECT school_id, "
                "code_hash FROM core.oidc_codes WHERE school_id = core.current_school() AND "
                "expires_at < now() - interval '1 hour' LIMIT 20)",
                0);
        if (!purge)
                return FALSE;
        g_autofree char *code = atrium_random_token (32);
        g_autofree char *hash = atrium_oidc_hash (code);
        g_autofree char *auth_time = g_strdup_printf ("%" G_GINT64_FORMAT, step->auth_time);
        g_autoptr (AtriumResult) ins = atrium_sql (
                req, error,
                "INSERT INTO core.oidc_codes (school_id, code_hash, client, user_id, redirect_uri, "
                "scopes, nonce, code_challenge, auth_time, expires_at) VALUES "
                "(core.current_school(), $1::bytea, $2::uuid, $3::uuid, $4, "
                "string_to_array($5, ' '), $6, $7, to_timestamp($8::bigint), now() + $9::interval)",
                9, hash, client_uuid, step->user_id, redirect_uri, scopes, nonce, challenge,
                auth_time, G_STRINGIFY (ATRIUM_OIDC_CODE_LIFE) " seconds");
        if (!ins)
                return FALSE;
        g_autofree char *iss = atrium_oidc_issuer (req);
        const char *pairs[] = {"code", code, "state", state, "iss", iss, NULL};
        return redirect (req, redirect_uri, pairs);
}

/* The query string of a GET, re-encoded (the host hands the parameters over decoded). */
static char *
query_string (AtriumRequest *req)
{
        if (!req->query)
                return g_strdup ("");
        return soup_form_encode_hash (req->query);
}

static gboolean
authorize_get (AtriumRequest *req, gpointer data, GError **error)
{
        g_autofree char *query = query_string (req);
        g_auto (Step) step = {0};
        return authorize (req, query, &step, error);
}

gboolean
atrium_oidc_check_password (AtriumRequest *req, const char *username, const char *password,
                            char **out_user_id, gboolean *out_throttled, GError **error)
{
        /* The same accounting as POST /api/v1/auth/login (identity/auth.c): the same keys, so
         * failures here and there add up. */
        *out_throttled = FALSE;
        g_autofree char *account_key = g_strdup_printf ("user:%s/%s", req->school_slug, username);
        g_autofree char *addr_key = g_strdup_printf ("addr:%s", req->client ? req->client : "?");
        g_autoptr (AtriumResult) wait =
                atrium_sql (req, error,
                            "SELECT greatest(core.throttle_check($1, 5, $3::interval), "
                            "core.throttle_check($2, 50, $3::interval))",
                            3, account_key, addr_key, THROTTLE_WINDOW);
        if (!wait)
                return FALSE;
        if (g_ascii_strtoll (atrium_result_value (wait, 0, 0), NULL, 10) > 0) {
                *out_throttled = TRUE;
                return TRUE;
        }
        g_autoptr (AtriumResult) acc = atrium_sql (
                req, error,
                "SELECT account_id, password_hash, disabled FROM core.login_account($1, $2)", 2,
                req->school_slug, username);
        if (!acc)
                return FALSE;
        const char *hash = atrium_result_n_rows (acc) == 1 ? atrium_result_value (acc, 0, 1) : NULL;
        gboolean rehash = FALSE, ok = FALSE;
        /* No connection is held while the hash runs (auth.c). */
        if (!atrium_request_tx_commit (req, error))
                return FALSE;
        if (hash)
                ok = atrium_password_verify (password, hash, &rehash);
        else
                atrium_password_burn (password);
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "username", username);
        json_object_set_string_member (d, "via", "oidc");
        if (!ok) {
                g_autoptr (AtriumResult) failed =
                        atrium_sql (req, error,
                                    "SELECT core.throttle_fail($1, $3::interval), "
                                    "core.throttle_fail($2, $3::interval)",
                                    3, account_key, addr_key, THROTTLE_WINDOW);
                if (!failed) {
                        json_object_unref (d);
                        return FALSE;
                }
                atrium_audit (req, "auth.login_failed", NULL, atrium_json_object_node (d));
                return TRUE;
        }
        const char *account = atrium_result_value (acc, 0, 0);
        /* A hash at a cost below today's is upgraded: made now, before the next query. */
        g_autofree char *fresh = rehash ? atrium_password_hash (password) : NULL;
        g_autoptr (AtriumResult) cl =
                atrium_sql (req, error, "SELECT core.throttle_clear($1)", 1, account_key);
        if (!cl) {
                json_object_unref (d);
                return FALSE;
        }
        if (g_strcmp0 (atrium_result_value (acc, 0, 2), "t") == 0) {
                atrium_audit (req, "auth.login_disabled", account, atrium_json_object_node (d));
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "This account is disabled; ask the school's administrators.");
                return FALSE;
        }
        if (fresh) {
                g_autoptr (AtriumResult) rh = atrium_sql (
                        req, error,
                        "SELECT core.set_account_hash(core.current_school(), $1::uuid, $2)", 2,
                        account, fresh);
                if (!rh) {
                        json_object_unref (d);
                        return FALSE;
                }
        }
        /* A password someone else set (a reset) is changed in the portal first: this plain
         * form has no place for it (docs/ACCOUNTS.md). */
        g_autoptr (AtriumResult) mc = atrium_sql (
                req, error, "SELECT must_change_password FROM core.users WHERE id = $1::uuid", 1,
                account);
        if (!mc) {
                json_object_unref (d);
                return FALSE;
        }
        if (atrium_result_n_rows (mc) == 1 && g_str_equal (atrium_result_value (mc, 0, 0), "t")) {
                atrium_audit (req, "auth.login_must_change", account, atrium_json_object_node (d));
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_PASSWORD_CHANGE_REQUIRED,
                             "Your password was reset: choose a new one in the school portal "
                             "first, then come back. / Dein Passwort wurde zurückgesetzt: Lege "
                             "zuerst im Schulportal ein neues fest.");
                return FALSE;
        }
        /* A second factor: this plain form asks for no code, so such a person signs in to the
         * portal (whose session the provider honours) and comes back (docs/ACCOUNTS.md). */
        gboolean totp = FALSE;
        if (!atrium_totp_enabled (req, req->school_id, account, &totp, error)) {
                json_object_unref (d);
                return FALSE;
        }
        if (totp) {
                json_object_unref (d);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_SECOND_FACTOR_REQUIRED,
                             "Your account has a second factor: sign in to the school portal "
                             "first, then come back. / Dein Konto hat einen zweiten Faktor: "
                             "Melde dich zuerst im Schulportal an.");
                return FALSE;
        }
        atrium_audit (req, "auth.login", account, atrium_json_object_node (d));
        *out_user_id = g_strdup (account);
        return TRUE;
}

/* The form of a POST to the login or consent page, its CSRF token checked. */
static GHashTable *
checked_form (AtriumRequest *req, GError **error)
{
        g_autoptr (GHashTable) form = atrium_oidc_form (req, error);
        if (!form)
                return NULL;
        if (!atrium_csrf_check (req, g_hash_table_lookup (form, "csrf"))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "the form's CSRF token does not match; reload the page");
                return NULL;
        }
        if (!g_hash_table_lookup (form, "request")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the form lacks the authorization request");
                return NULL;
        }
        return g_steal_pointer (&form);
}

static gboolean
login_post (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GHashTable) form = checked_form (req, error);
        if (!form)
                return FALSE;
        const char *query = g_hash_table_lookup (form, "request");
        const char *username = g_hash_table_lookup (form, "username");
        const char *password = g_hash_table_lookup (form, "password");
        g_auto (Step) step = {0};
        if (!username || !password || !*username || strlen (username) > 64 ||
            strlen (password) > ATRIUM_PASSWORD_MAX) {
                step.notice = g_strdup ("Enter your username and password.");
                step.status = 400;
                /* Shown by authorize(), which checks the request first. */
                return authorize (req, query, &step, error);
        }
        gboolean throttled = FALSE;
        g_autoptr (GError) refused = NULL;
        char *user_id = NULL;
        if (!atrium_oidc_check_password (req, username, password, &user_id, &throttled, &refused)) {
                step.to_portal = g_error_matches (refused, ATRIUM_ERROR,
                                                  ATRIUM_ERROR_PASSWORD_CHANGE_REQUIRED) ||
                                 g_error_matches (refused, ATRIUM_ERROR,
                                                  ATRIUM_ERROR_SECOND_FACTOR_REQUIRED);
                if (!step.to_portal &&
                    !g_error_matches (refused, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN)) {
                        g_propagate_error (error, g_steal_pointer (&refused));
                        return FALSE;
                }
                step.notice = g_strdup (refused->message);
                step.status = 403;
                return authorize (req, query, &step, error);
        }
        if (!user_id) {
                step.notice = g_strdup (throttled ? "Too many failed sign-ins; try again later."
                                                  : "Wrong username or password.");
                step.status = throttled ? 429 : 401;
                return authorize (req, query, &step, error);
        }
        step.user_id = user_id;
        step.fresh = TRUE;
        step.auth_time = g_get_real_time () / G_USEC_PER_SEC;
        if (!atrium_browser_session_start (req, user_id, error))
                return FALSE;
        return authorize (req, query, &step, error);
}

static gboolean
consent_post (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GHashTable) form = checked_form (req, error);
        if (!form)
                return FALSE;
        const char *decision = g_hash_table_lookup (form, "decision");
        g_auto (Step) step = {0};
        step.consented = g_strcmp0 (decision, "allow") == 0;
        step.denied = !step.consented;
        g_autofree char *sid = NULL;
        if (!atrium_browser_session (req, &sid, &step.user_id, &step.auth_time, error))
                return FALSE;
        /* Signed out meanwhile: authorize() shows the sign-in form again. */
        if (!step.user_id)
                step.consented = step.denied = FALSE;
        return authorize (req, g_hash_table_lookup (form, "request"), &step, error);
}

/* The authorization request's parameters (OpenID Connect Core 3.1.2.1, RFC 7636), for the
 * document. Each is declared a plain string on purpose: the protocol answers a bad one itself,
 * with an error page or an error redirect to the client (authorize()), never the host's 400. */
static const char authorize_query[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"response_type\":{\"type\":\"string\",\"description\":\"code (required)\"},"
        "\"client_id\":{\"type\":\"string\",\"description\":\"(required)\"},"
        "\"redirect_uri\":{\"type\":\"string\",\"description\":\"one the client "
        "registered (required)\"},"
        "\"scope\":{\"type\":\"string\",\"description\":\"space-separated; openid for an "
        "ID token\"},"
        "\"state\":{\"type\":\"string\",\"description\":\"returned to the client as given\"},"
        "\"nonce\":{\"type\":\"string\",\"description\":\"put into the ID token\"},"
        "\"code_challenge\":{\"type\":\"string\",\"description\":\"PKCE (required)\"},"
        "\"code_challenge_method\":{\"type\":\"string\",\"description\":\"S256 (required)\"},"
        "\"prompt\":{\"type\":\"string\",\"description\":\"none, login or consent\"},"
        "\"max_age\":{\"type\":\"string\",\"description\":\"seconds since the sign-in "
        "that are still recent enough\"},"
        "\"login_hint\":{\"type\":\"string\",\"description\":\"the user name to offer\"}}}";

void
atrium_oidc_authorize_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/oidc/{school}/authorize",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH,
                 .summary = "OpenID Connect authorization endpoint (code flow; HTML pages)",
                 .query_schema = authorize_query, .response_type = "text/html",
                 .handler = authorize_get},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/login",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH | ATRIUM_ROUTE_RAW_BODY |
                          ATRIUM_ROUTE_SLOW,
                 .summary = "The provider's sign-in form (application/x-www-form-urlencoded)",
                 .response_type = "text/html", .handler = login_post},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/oidc/{school}/consent",
                 .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OWN_AUTH | ATRIUM_ROUTE_RAW_BODY,
                 .summary = "The provider's consent page (application/x-www-form-urlencoded)",
                 .response_type = "text/html", .handler = consent_post},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
