/* SPDX-License-Identifier: Apache-2.0 */
/* browser-session.c - the browser's sign-in for the provider's pages, and their CSRF tokens.
 *
 * The contract is the portal's (issue #17), so that the two merge into one: the cookie
 * `atrium_session` holds the same opaque token POST /api/v1/auth/login returns as a bearer
 * token, a normal Atrium session (core.sessions, created by core.session_create()), with
 * `HttpOnly; SameSite=Lax; Path=/` and `Secure` when the request came over TLS. Everything
 * that sets or reads the cookie is in this file.
 *
 * CSRF: a form shown to a signed-in browser carries HMAC-SHA256(session token, "csrf"), which
 * only that browser can know; the sign-in form (no session yet) uses a double-submit cookie,
 * `atrium_csrf` (random, HttpOnly, SameSite=Strict), whose value the form must repeat. */
#include "oidc-private.h"

#include <string.h>

#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"

#define SESSION_COOKIE "atrium_session"
#define CSRF_COOKIE "atrium_csrf"

char *
atrium_cookie (AtriumRequest *req, const char *name)
{
        const char *header = g_hash_table_lookup (req->headers, "cookie");
        if (!header)
                return NULL;
        g_auto (GStrv) parts = g_strsplit (header, ";", -1);
        gsize n = strlen (name);
        for (guint i = 0; parts[i]; i++) {
                const char *p = parts[i];
                while (*p == ' ')
                        p++;
                if (strncmp (p, name, n) == 0 && p[n] == '=' && p[n + 1])
                        return g_strdup (p + n + 1);
        }
        return NULL;
}

/* The request came over TLS: the public URL says so, or a trusted proxy does. */
static gboolean
over_tls (AtriumRequest *req)
{
        if (g_str_has_prefix (req->core->config->public_url, "https://"))
                return TRUE;
        const char *proto = g_hash_table_lookup (req->headers, "x-forwarded-proto");
        return req->core->config->trust_proxy && g_strcmp0 (proto, "https") == 0;
}

static void
set_cookie (AtriumRequest *req, const char *name, const char *value, const char *same_site,
            gboolean clear)
{
        g_autofree char *c =
                g_strdup_printf ("%s=%s; HttpOnly; SameSite=%s; Path=/%s%s", name, value, same_site,
                                 over_tls (req) ? "; Secure" : "", clear ? "; Max-Age=0" : "");
        atrium_request_add_header (req, "Set-Cookie", c);
}

gboolean
atrium_browser_session (AtriumRequest *req, char **out_session_id, char **out_user_id,
                        gint64 *out_auth_time, GError **error)
{
        g_autofree char *token = atrium_cookie (req, SESSION_COOKIE);
        if (!token || strlen (token) > 200)
                return TRUE;
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT session_id, user_id, extract(epoch FROM auth_time)::bigint "
                            "FROM core.oidc_browser_session($1::bytea)",
                            1, hash);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1)
                return TRUE;
        *out_session_id = g_strdup (atrium_result_value (res, 0, 0));
        *out_user_id = g_strdup (atrium_result_value (res, 0, 1));
        *out_auth_time = g_ascii_strtoll (atrium_result_value (res, 0, 2), NULL, 10);
        return TRUE;
}

gboolean
atrium_browser_session_start (AtriumRequest *req, const char *user_id, GError **error)
{
        AtriumCore *core = req->core;
        g_autofree char *token = atrium_token_new ();
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autofree char *life = g_strdup_printf ("%u seconds", core->config->session_lifetime);
        g_autofree char *idle = g_strdup_printf ("%u seconds", core->config->session_idle);
        g_autoptr (AtriumResult) sess = atrium_sql (
                req, error,
                "SELECT id FROM core.session_create($1::bytea, 'session', core.current_school(), "
                "$2::uuid, NULL, 'browser', NULL, $3, now() + $4::interval, $5::interval)",
                5, hash, user_id, req->client, life, idle);
        if (!sess)
                return FALSE;
        set_cookie (req, SESSION_COOKIE, token, "Lax", FALSE);
        return TRUE;
}

gboolean
atrium_browser_session_end (AtriumRequest *req, GError **error)
{
        g_autofree char *token = atrium_cookie (req, SESSION_COOKIE);
        if (!token)
                return TRUE;
        if (strlen (token) <= 200) {
                g_autofree char *hash = atrium_token_hash_literal (token);
                g_autoptr (AtriumResult) res = atrium_sql (
                        req, error, "SELECT core.oidc_end_browser_session($1::bytea)", 1, hash);
                if (!res)
                        return FALSE;
        }
        set_cookie (req, SESSION_COOKIE, "", "Lax", TRUE);
        return TRUE;
}

static char *
session_csrf (const char *session_token)
{
        guchar mac[32];
        atrium_hmac_sha256 (session_token, strlen (session_token), "csrf", 4, mac);
        return atrium_base64url_encode (mac, sizeof mac);
}

char *
atrium_csrf_token (AtriumRequest *req)
{
        g_autofree char *session = atrium_cookie (req, SESSION_COOKIE);
        if (session)
                return session_csrf (session);
        char *token = atrium_cookie (req, CSRF_COOKIE);
        if (token && strlen (token) == 43)
                return token;
        g_free (token);
        token = atrium_random_token (32);
        set_cookie (req, CSRF_COOKIE, token, "Strict", FALSE);
        return token;
}

gboolean
atrium_csrf_check (AtriumRequest *req, const char *token)
{
        if (!token)
                return FALSE;
        g_autofree char *session = atrium_cookie (req, SESSION_COOKIE);
        g_autofree char *expected = session ? session_csrf (session) : NULL;
        if (expected && atrium_ct_streq (expected, token))
                return TRUE;
        g_autofree char *cookie = atrium_cookie (req, CSRF_COOKIE);
        return cookie && strlen (cookie) == 43 && atrium_ct_streq (cookie, token);
}
