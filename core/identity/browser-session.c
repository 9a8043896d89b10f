/* SPDX-License-Identifier: Apache-2.0 */
/* browser-session.c - the browser's session: a cookie, and the CSRF token bound to it.
 *
 * The contract (shared with the OpenID provider, docs/PORTAL.md "Security"): the cookie is
 * named atrium_session; its value is the same opaque session token POST /api/v1/auth/login
 * returns as a bearer token (a normal session in core.sessions, created and looked up by the
 * usual code); it is HttpOnly, SameSite=Lax, Path=/, and Secure when the request came over
 * TLS (behind a trusted proxy that says X-Forwarded-Proto: https). It has no Max-Age: it ends
 * with the browser, which suits the shared computers of a school; the session's own lifetime
 * and idle limit still apply.
 *
 * The pipeline (pipeline/handle.c) takes the cookie as the token when no Authorization header
 * came, on every route but public ones (sign-in, share links: a stale cookie must not stand
 * in their way) and WebDAV (Basic or Bearer only). A request that may change something (any
 * method but GET, HEAD and OPTIONS) authenticated by the cookie must carry X-CSRF-Token: the
 * SHA-256 of a fixed label and the session token, in hex. Only the server and a page that
 * asked this origin's API can know it (no other origin can read our answers, and the cookie
 * is HttpOnly), and deriving it keeps hosts stateless: nothing is stored. Bearer clients never
 * send the cookie and are not affected. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

#include "atrium/crypto.h"

#define COOKIE_NAME "atrium_session"
#define TOKEN_MAX 256

char *
atrium_request_cookie (AtriumRequest *req, const char *name)
{
        const char *header = g_hash_table_lookup (req->headers, "cookie");
        if (!header)
                return NULL;
        g_auto (GStrv) parts = g_strsplit (header, ";", -1);
        gsize n = strlen (name);
        for (char **p = parts; *p; p++) {
                const char *c = *p;
                while (*c == ' ' || *c == '\t')
                        c++;
                if (strncmp (c, name, n) != 0 || c[n] != '=')
                        continue;
                const char *v = c + n + 1;
                return g_strndup (v, strcspn (v, " \t"));
        }
        return NULL;
}

char *
atrium_browser_session_token (AtriumRequest *req)
{
        char *v = atrium_request_cookie (req, COOKIE_NAME);
        /* A token is "atr_" and base64url; anything else cannot be a session, and is left to
         * fail the lookup like an unknown token. */
        if (v && (!*v || strlen (v) > TOKEN_MAX)) {
                g_free (v);
                return g_strdup ("-");
        }
        return v;
}

char *
atrium_browser_session_csrf (const char *token)
{
        g_autofree char *input = g_strconcat ("atrium-csrf-v1:", token, NULL);
        return atrium_digest_hex (GCRY_MD_SHA256, input, strlen (input));
}

gboolean
atrium_browser_session_check (AtriumRequest *req, const char *token, GError **error)
{
        const char *m = req->method;
        if (g_str_equal (m, "GET") || g_str_equal (m, "HEAD") || g_str_equal (m, "OPTIONS"))
                return TRUE;
        const char *sent = g_hash_table_lookup (req->headers, "x-csrf-token");
        g_autofree char *want = atrium_browser_session_csrf (token);
        if (!sent || strlen (sent) != strlen (want) ||
            !atrium_ct_equal (sent, want, strlen (want))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             sent ? "the X-CSRF-Token header does not match this session"
                                  : "a request with the session cookie that changes something "
                                    "needs the X-CSRF-Token header");
                return FALSE;
        }
        return TRUE;
}

/* The request came over TLS: the public URL says so, or a trusted proxy does. */
static gboolean
over_tls (AtriumRequest *req)
{
        if (g_str_has_prefix (req->core->config->public_url, "https://"))
                return TRUE;
        const char *proto = g_hash_table_lookup (req->headers, "x-forwarded-proto");
        return req->core->config->trust_proxy && proto && g_ascii_strcasecmp (proto, "https") == 0;
}

void
atrium_browser_cookie_set (AtriumRequest *req, const char *name, const char *value,
                           const char *same_site, gboolean expire)
{
        g_autofree char *c =
                g_strdup_printf ("%s=%s; Path=/; HttpOnly; SameSite=%s%s%s", name, value, same_site,
                                 expire ? "; Max-Age=0" : "", over_tls (req) ? "; Secure" : "");
        atrium_request_add_header (req, "Set-Cookie", c);
}

void
atrium_browser_cookie_set_days (AtriumRequest *req, const char *name, const char *value, int days)
{
        g_autofree char *c =
                g_strdup_printf ("%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", name, value,
                                 days * 86400, over_tls (req) ? "; Secure" : "");
        atrium_request_add_header (req, "Set-Cookie", c);
}

static void
set_cookie (AtriumRequest *req, const char *value, gboolean expire)
{
        /* What a sign-in or sign-out answers is for this browser only: the host says
         * Cache-Control: no-store on every answer that sets a cookie (http/server.c). */
        atrium_browser_cookie_set (req, COOKIE_NAME, value, "Lax", expire);
}

gboolean
atrium_browser_session_hand_over (AtriumRequest *req, GError **error)
{
        if (req->status != 200 || !req->response_body)
                return TRUE; /* a refusal (401, 429): passed on as it is */
        g_autoptr (JsonNode) out =
                atrium_json_parse_body (g_bytes_get_data (req->response_body, NULL),
                                        g_bytes_get_size (req->response_body), error);
        if (!out)
                return FALSE;
        JsonObject *o = json_node_get_object (out);
        if (!json_object_has_member (o, "token"))
                return TRUE; /* a second factor is asked for: no session yet */
        g_autofree char *token = g_strdup (json_object_get_string_member (o, "token"));
        json_object_remove_member (o, "token");
        g_autofree char *csrf = atrium_browser_session_csrf (token);
        json_object_set_string_member (o, "csrf_token", csrf);
        set_cookie (req, token, FALSE);
        atrium_request_set_json (req, 200, out);
        return TRUE;
}

/* POST: sign in exactly as POST /api/v1/auth/login does, then hand the token to the browser
 * as the cookie instead of in the body, and answer the CSRF token for it. */
static gboolean
sign_in (AtriumRequest *req, gpointer data, GError **error)
{
        return atrium_auth_login (req, data, error) &&
               atrium_browser_session_hand_over (req, error);
}

/* GET: the CSRF token of the session this request is authenticated with (a page loaded again
 * asks for it; it never leaves memory). */
static gboolean
current (AtriumRequest *req, gpointer data, GError **error)
{
        /* With a bearer token the cookie did not authenticate this request (the bearer wins),
         * so its CSRF token would belong to another session than the one asking. */
        g_autofree char *token = g_hash_table_contains (req->headers, "authorization")
                                         ? NULL
                                         : atrium_browser_session_token (req);
        if (!token) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "there is no browser session (no %s cookie); bearer clients need "
                             "no CSRF token",
                             COOKIE_NAME);
                return FALSE;
        }
        JsonObject *o = json_object_new ();
        g_autofree char *csrf = atrium_browser_session_csrf (token);
        json_object_set_string_member (o, "csrf_token", csrf);
        json_object_set_string_member (o, "session_id", req->session_id);
        atrium_request_add_header (req, "Cache-Control", "no-store");
        req->core->host->respond_json (req, 200, atrium_json_object_node (o));
        return TRUE;
}

/* DELETE: sign out: the session ends and the cookie is dropped. */
static gboolean
sign_out (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "DELETE FROM core.sessions WHERE id = $1::uuid", 1, req->session_id);
        if (!res)
                return FALSE;
        atrium_audit (req, "auth.logout", NULL, NULL);
        set_cookie (req, "", TRUE);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

/* A sign-in's answer with the CSRF token in the bearer token's place; GET: the token and the
 * session. */
const char atrium_browser_session_answer[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"csrf_token\":{\"type\":\"string\",\"description\":\"send as X-CSRF-Token with every "
        "request that changes something\"},"
        "\"session_id\":{\"type\":\"string\",\"format\":\"uuid\"}," ATRIUM_SIGN_IN_PROPS "}}";

void
atrium_browser_session_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/browser-session",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_SLOW,
                 .summary = "Sign in a browser: sets the atrium_session cookie, returns the "
                            "CSRF token",
                 .request_schema = atrium_auth_login_schema,
                 .response_schema = atrium_browser_session_answer, .handler = sign_in},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/auth/browser-session",
                 .flags = ATRIUM_ROUTE_PASSWORD_CHANGE | ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "The CSRF token of the browser's session",
                 .response_schema = atrium_browser_session_answer, .handler = current},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/api/v1/auth/browser-session",
                 .flags = ATRIUM_ROUTE_PASSWORD_CHANGE | ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "Sign the browser out: ends the session, drops the cookie",
                 .success_status = 204, .handler = sign_out},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
