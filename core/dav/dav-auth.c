/* SPDX-License-Identifier: Apache-2.0 */
/* dav-auth.c - who is asking a /dav/ request.
 *
 * File managers and sync tools speak HTTP Basic only, so the DAV layer takes:
 *   - "Authorization: Bearer <token>", as the REST API does;
 *   - "Authorization: Basic" with the user name "username" (the school is the one in the
 *     path) or "username@school" (it must be that school), and as password either the
 *     person's password or one of their personal access tokens.
 * A token, Bearer or an app token given as the Basic password, is judged by the request's own
 * identity check, on every request (a revoked token fails at once), with no round trip of its
 * own: the check's row names the token's owner, who must be the Basic username. Only a
 * secret of a token's shape takes that way (a password of that shape would fail as a token).
 * A password costs an Argon2id verification (tens of milliseconds by design); a PROPFIND
 * storm must not pay that per request, so successful verifications are kept for a minute
 * (identity/verify-cache.c: an HMAC of the user's id, the stored hash and the secret; a
 * changed password misses at once). Failures are never cached: they go to the sign-in
 * throttle (core.throttle_*(), the same keys and limits as POST /auth/login), whose verdict
 * is read in the same round trip as the account.
 *
 * The identity check that follows is the normal one (pipeline/handle.c): a token through
 * core.request_identity(), a verified password through core.request_identity_user(); either
 * sets the request's school and user for row-level security like any REST request. */
#include "dav-private.h"
#include "identity-private.h"

#include <string.h>

#define THROTTLE_WINDOW "15 minutes"

void
atrium_dav_caller_clear (AtriumDavCaller *who)
{
        g_clear_pointer (&who->token_hash, g_free);
        g_clear_pointer (&who->user_id, g_free);
        g_clear_pointer (&who->claimed, g_free);
}

/* Whether @secret has the shape of the tokens Atrium hands out (atrium_token_new(): "atr_" and
 * 32 random bytes as base64url): 256 random bits, which no throttle needs to protect and no
 * person would choose as a password. */
static gboolean
token_shaped (const char *secret)
{
        return g_str_has_prefix (secret, "atr_") && strlen (secret) == 4 + 43 &&
               strspn (secret + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_") == 43;
}

static gboolean
refuse (GError **error, const char *why)
{
        g_set_error_literal (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED, why);
        return FALSE;
}

/* Splits "Basic base64(user:secret)"; FALSE if it is not one. */
static gboolean
parse_basic (const char *auth, char **out_user, char **out_secret)
{
        const char *b64 = auth + 6;
        while (*b64 == ' ')
                b64++;
        gsize n = strlen (b64);
        if (n == 0 || n > 4096 ||
            strspn (b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789+/=") != n)
                return FALSE;
        gsize len = 0;
        g_autofree guchar *raw = g_base64_decode (b64, &len);
        if (!raw || len == 0 || memchr (raw, '\0', len))
                return FALSE;
        g_autofree char *text = g_strndup ((const char *) raw, len);
        char *colon = strchr (text, ':');
        if (!colon || !g_utf8_validate (text, -1, NULL))
                return FALSE;
        *colon = '\0';
        *out_user = g_strdup (text);
        *out_secret = g_strdup (colon + 1);
        return TRUE;
}

enum { A_WAIT, A_SCHOOL, A_ACCOUNT, A_HASH, A_DISABLED, A_TOKEN };

static const char account_sql[] =
        "SELECT greatest(core.throttle_check($1, 5, $3::interval), "
        "core.throttle_check($2, 50, $3::interval)), a.school_id, a.account_id, a.password_hash, "
        "a.disabled, a.token_valid "
        "FROM (SELECT 1) one LEFT JOIN core.dav_account($4, $5, $6::bytea) a ON true";

static gboolean
count_failure (AtriumTx *tx, const char *account_key, const char *addr_key, GError **error)
{
        const char *p[3] = {account_key, addr_key, THROTTLE_WINDOW};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                tx,
                "SELECT core.throttle_fail($1, $3::interval), core.throttle_fail($2, $3::interval)",
                3, p, error);
        return res && atrium_tx_commit (tx, error);
}

gboolean
atrium_dav_authenticate (AtriumRequest *req, AtriumDavCaller *out, GError **error)
{
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        if (!auth)
                return refuse (error, "sign in: HTTP Basic with your username and password or "
                                      "an app token");
        if (g_ascii_strncasecmp (auth, "Bearer ", 7) == 0) {
                const char *t = auth + 7;
                while (*t == ' ')
                        t++;
                if (!*t)
                        return refuse (error, "an empty Bearer token");
                out->token_hash = atrium_token_hash_literal (t);
                return TRUE;
        }
        g_autofree char *user = NULL, *secret = NULL;
        if (g_ascii_strncasecmp (auth, "Basic ", 6) != 0 || !parse_basic (auth, &user, &secret))
                return refuse (error, "send Authorization: Basic or Bearer");
        const char *school = g_hash_table_lookup (req->params, "school");
        char *at = strrchr (user, '@');
        if (at) {
                /* "username@school": the school must be the path's. */
                if (g_strcmp0 (at + 1, school) != 0)
                        return refuse (error, "the user name names another school");
                *at = '\0';
        }
        if (!*user || strlen (user) > 64 || !*secret || strlen (secret) > ATRIUM_PASSWORD_MAX)
                return refuse (error, "wrong username or password");
        if (token_shaped (secret)) {
                /* An app token, as sync clients send on every request: judged by the request's
                 * own identity check like a Bearer token, which also says whose it is; the
                 * username must be that person's (core/pipeline/handle.c). */
                out->token_hash = atrium_token_hash_literal (secret);
                out->claimed = g_strdup (user);
                return TRUE;
        }

        g_autofree char *account_key = g_strdup_printf ("user:%s/%s", school, user);
        g_autofree char *addr_key = g_strdup_printf ("addr:%s", req->client ? req->client : "?");
        g_autofree char *token_hash = atrium_token_hash_literal (secret);
        g_autoptr (AtriumTx) tx = atrium_tx_new (req->core->pool, NULL, NULL);
        const char *p[6] = {account_key, addr_key, THROTTLE_WINDOW, school, user, token_hash};
        /* A whole READ ONLY transaction (one round trip, nothing left open for the hash, as
         * identity/auth.c's sign-in); what may follow it writes. */
        atrium_tx_set_whole (tx, TRUE);
        g_autoptr (AtriumResult) acc = atrium_tx_query (tx, account_sql, 6, p, error);
        if (!acc)
                return FALSE;
        atrium_tx_set_whole (tx, FALSE);
        int wait = (int) g_ascii_strtoll (atrium_result_value (acc, 0, A_WAIT), NULL, 10);
        if (wait > 0) {
                g_autofree char *retry = g_strdup_printf ("%d", wait);
                atrium_request_add_header (req, "Retry-After", retry);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_RATE_LIMITED,
                             "too many failed sign-ins; try again in %d s", wait);
                return FALSE;
        }
        const char *account = atrium_result_value (acc, 0, A_ACCOUNT);
        const char *stored = atrium_result_value (acc, 0, A_HASH);
        gboolean disabled = g_strcmp0 (atrium_result_value (acc, 0, A_DISABLED), "t") == 0;
        if (g_strcmp0 (atrium_result_value (acc, 0, A_TOKEN), "t") == 0) {
                out->token_hash = g_steal_pointer (&token_hash);
                return TRUE;
        }
        gboolean ok = FALSE, cached = FALSE;
        g_autofree char *key = NULL;
        if (account && stored) {
                key = atrium_verify_cache_key (account, stored, secret);
                cached = atrium_verify_cache_hit (key);
        }
        /* No connection is held while a hash runs: the read's is handed back. */
        if (!cached && !atrium_tx_commit (tx, error))
                return FALSE;
        if (account && stored) {
                gboolean rehash = FALSE;
                ok = cached || atrium_password_verify (secret, stored, &rehash);
        } else {
                atrium_password_burn (secret); /* the same work for an unknown name */
        }
        if (!ok) {
                if (!count_failure (tx, account_key, addr_key, error))
                        return FALSE;
                return refuse (error, "wrong username or password");
        }
        if (disabled)
                return refuse (error, "this account is disabled; ask the school's administrators");
        if (!cached) {
                const char *c[1] = {account_key};
                g_autoptr (AtriumResult) cl =
                        atrium_tx_query (tx, "SELECT core.throttle_clear($1)", 1, c, error);
                if (!cl || !atrium_tx_commit (tx, error))
                        return FALSE;
                atrium_verify_cache_store (g_steal_pointer (&key));
        }
        out->user_id = g_strdup (account);
        return TRUE;
}

char *
atrium_dav_basic_user (AtriumRequest *req)
{
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        g_autofree char *user = NULL, *secret = NULL;
        if (!auth || g_ascii_strncasecmp (auth, "Basic ", 6) != 0 ||
            !parse_basic (auth, &user, &secret))
                return NULL;
        return g_steal_pointer (&user);
}
