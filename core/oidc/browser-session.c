/* SPDX-License-Identifier: Apache-2.0 */
/* browser-session.c - the browser's sign-in for the provider's pages, and their CSRF tokens.
 *
 * The cookie is the portal's (identity/browser-session.c, which reads and sets it for both):
 * `atrium_session` holds the same opaque token POST /api/v1/auth/login returns as a bearer
 * token, a normal Atrium session (core.sessions, created by core.session_create()), with
 * `HttpOnly; SameSite=Lax; Path=/` and `Secure` when the request came over TLS. A browser
 * signed in to the portal is signed in to the provider, and the other way round.
 *
 * CSRF: a form shown to a signed-in browser carries the session's CSRF token, the same one the
 * portal's API calls send (atrium_browser_session_csrf), which only that browser can know; the
 * sign-in form (no session yet) uses a double-submit cookie, `atrium_csrf` (random, HttpOnly,
 * SameSite=Strict), whose value the form must repeat. */
#include "oidc-private.h"

#include <string.h>

#include "atrium/crypto.h"
#include "identity-private.h"
#include "pipeline-private.h"

#define SESSION_COOKIE "atrium_session"
#define CSRF_COOKIE "atrium_csrf"

gboolean
atrium_browser_session (AtriumRequest *req, char **out_session_id, char **out_user_id,
                        gint64 *out_auth_time, GError **error)
{
        g_autofree char *token = atrium_request_cookie (req, SESSION_COOKIE);
        if (!token || strlen (token) > 200)
                return TRUE;
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "SELECT b.session_id, b.user_id, "
                            "extract(epoch FROM b.auth_time)::bigint "
                            "FROM core.oidc_browser_session($1::bytea) b "
                            /* Someone who must change their password first is not signed
                             * in for the provider (docs/ACCOUNTS.md). */
                            "WHERE NOT EXISTS (SELECT 1 FROM core.users u "
                            "WHERE u.id = b.user_id AND u.must_change_password)",
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
        atrium_browser_cookie_set (req, SESSION_COOKIE, token, "Lax", FALSE);
        return TRUE;
}

gboolean
atrium_browser_session_end (AtriumRequest *req, GError **error)
{
        g_autofree char *token = atrium_request_cookie (req, SESSION_COOKIE);
        if (!token)
                return TRUE;
        if (strlen (token) <= 200) {
                g_autofree char *hash = atrium_token_hash_literal (token);
                g_autoptr (AtriumResult) res = atrium_sql (
                        req, error, "SELECT core.oidc_end_browser_session($1::bytea)", 1, hash);
                if (!res)
                        return FALSE;
        }
        atrium_browser_cookie_set (req, SESSION_COOKIE, "", "Lax", TRUE);
        return TRUE;
}

char *
atrium_csrf_token (AtriumRequest *req)
{
        g_autofree char *session = atrium_request_cookie (req, SESSION_COOKIE);
        if (session)
                return atrium_browser_session_csrf (session);
        char *token = atrium_request_cookie (req, CSRF_COOKIE);
        if (token && strlen (token) == 43)
                return token;
        g_free (token);
        token = atrium_random_token (32);
        atrium_browser_cookie_set (req, CSRF_COOKIE, token, "Strict", FALSE);
        return token;
}

gboolean
atrium_csrf_check (AtriumRequest *req, const char *token)
{
        if (!token)
                return FALSE;
        g_autofree char *session = atrium_request_cookie (req, SESSION_COOKIE);
        g_autofree char *expected = session ? atrium_browser_session_csrf (session) : NULL;
        if (expected && atrium_ct_streq (expected, token))
                return TRUE;
        g_autofree char *cookie = atrium_request_cookie (req, CSRF_COOKIE);
        return cookie && strlen (cookie) == 43 && atrium_ct_streq (cookie, token);
}
