/* SPDX-License-Identifier: Apache-2.0 */
/* oidc-private.h - the OpenID Connect provider (core/oidc/README.md, docs/OIDC.md): one issuer
 * per school at {public_url}/oidc/{school}. What its files share:
 *   oidc.c             wiring (routes), the issuer, form bodies, OAuth errors, client
 *                      authentication, the claims of a person
 *   keys.c             signing keys (RS256, ES256) and JWS signing, on libgcrypt
 *   discovery.c        /.well-known/openid-configuration and /jwks
 *   clients.c          the clients REST routes for school admins
 *   browser-session.c  the atrium_session cookie and CSRF tokens (the portal's contract)
 *   authorize.c        /authorize, the sign-in form, the consent page
 *   token.c            /token: codes with PKCE, refresh rotation, the ID token
 *   endpoints.c        /userinfo, /introspect, /revoke, /end_session */
#pragma once

#include "core-private.h"

#include <gcrypt.h>
#include <json-glib/json-glib.h>

/* Lifetimes, in seconds. A code is redeemed by the client's back channel right away; an
 * access token is short so that revocation by expiry is quick; a refresh token rotates. */
#define ATRIUM_OIDC_CODE_LIFE 60
#define ATRIUM_OIDC_ACCESS_LIFE 900
#define ATRIUM_OIDC_ID_TOKEN_LIFE 900
#define ATRIUM_OIDC_REFRESH_LIFE 2592000 /* 30 days */
/* How long a key signs before a newer one replaces it at a host's start. A retired key stays
 * in the JWKS for as long again plus a day: other hosts of the installation keep signing with
 * it until they restart, and what they signed must verify. */
#define ATRIUM_OIDC_KEY_ROTATE_DAYS 90
#define ATRIUM_OIDC_KEY_KEEP "91 days"

/* The scopes a client may be registered for and ask for. */
extern const char *const atrium_oidc_scopes[];

/* ---- keys.c ---- */
/* Makes sure a current key of each algorithm exists (creating one under an advisory lock,
 * retiring what it replaces) and loads the signing keys into core->oidc_keys. Runs with the
 * owner's connection at start-up (db/migrate.c). */
gboolean atrium_oidc_keys_setup (AtriumCore *core, PGconn *owner, GError **error);
/* The same over a connection of its own as the owner ([database] url): rotates a key past its
 * age, loads one another host made, deletes keys retired longer than ATRIUM_OIDC_KEY_KEEP. */
gboolean atrium_oidc_keys_refresh (AtriumCore *core, GError **error);
/* A serving host refreshes every [auth] oidc_key_refresh seconds on a thread of its own. */
void atrium_oidc_keys_start_refresh (AtriumCore *core, GMainContext *context);
void atrium_oidc_keys_stop_refresh (void);
/* A key pair as stored (base64 of the canonical S-expression; transfer full) and back
 * (@text may also be the older advanced form). For tests. */
char *atrium_oidc_key_text (gcry_sexp_t key);
gcry_error_t atrium_oidc_key_parse (const char *text, gcry_sexp_t *out);
/* Drops a reference to @keys (the last one frees them). */
void atrium_oidc_keys_free (AtriumOidcKeys *keys);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumOidcKeys, atrium_oidc_keys_free)
/* A compact JWS of @claims signed with the current key of @alg ("RS256", "ES256").
 * Returns: (transfer full) */
char *atrium_oidc_sign (AtriumCore *core, const char *alg, JsonObject *claims, GError **error);

/* ---- oidc.c ---- */
void atrium_oidc_register (AtriumCore *core);
/* "{public_url}/oidc/{slug}". Returns: (transfer full) */
char *atrium_oidc_issuer (AtriumRequest *req);
/* The application/x-www-form-urlencoded body (or NULL with @error: another content type, bad
 * encoding, a parameter given twice). Returns: (transfer full) */
GHashTable *atrium_oidc_form (AtriumRequest *req, GError **error);
/* Answers an OAuth 2.0 error (RFC 6749 5.2) as JSON and returns TRUE: the transaction
 * commits (what the refusal revoked stays revoked). */
gboolean atrium_oidc_error (AtriumRequest *req, guint status, const char *code,
                            const char *description);
/* The client the request authenticates as (client_secret_basic, client_secret_post, or a
 * public client's client_id alone): its row as a JSON object, or NULL after answering
 * invalid_client. @out_answered is set when an answer was given. */
JsonObject *atrium_oidc_client_auth (AtriumRequest *req, GHashTable *form, gboolean *out_answered,
                                     GError **error);
/* The client @client_id of the request's school (RLS), or NULL. Returns: (transfer full) */
JsonObject *atrium_oidc_client_lookup (AtriumRequest *req, const char *client_id, GError **error);
/* TRUE when @scope (space-separated) lists @name. */
gboolean atrium_oidc_has_scope (const char *scope, const char *name);
/* The claims of person @user_id for the granted @scopes (space-separated) into @out: sub
 * always; name and preferred_username (profile), email, roles, groups, school. FALSE with
 * @error on a database error; a disabled or unknown person is ATRIUM_ERROR_NOT_FOUND. */
gboolean atrium_oidc_claims (AtriumRequest *req, const char *user_id, const char *scopes,
                             JsonObject *out, GError **error);
/* Whether person @user_id may use @client (its allowed roles and groups). */
gboolean atrium_oidc_user_allowed (AtriumRequest *req, JsonObject *client, const char *user_id,
                                   gboolean *out_allowed, GError **error);
/* SHA-256 of @secret as a bytea literal, as every secret here is stored. */
char *atrium_oidc_hash (const char *secret);
/* JSON array text ("{a,b}" from PostgreSQL) of text[] @v into a JsonArray. */
JsonArray *atrium_oidc_pg_array (const char *v);

/* ---- browser-session.c ---- */
/* The browser's signed-in person, from the atrium_session cookie: FALSE only on a database
 * error; without a valid session @out_user_id stays NULL. All out strings (transfer full). */
gboolean atrium_browser_session (AtriumRequest *req, char **out_session_id, char **out_user_id,
                                 gint64 *out_auth_time, GError **error);
/* Creates an Atrium sign-in session for @user_id (as POST /api/v1/auth/login does) and sets
 * the cookie on the answer. */
gboolean atrium_browser_session_start (AtriumRequest *req, const char *user_id, GError **error);
/* Ends the cookie's session (if any) and clears the cookie. */
gboolean atrium_browser_session_end (AtriumRequest *req, GError **error);
/* A CSRF token for a form: bound to the session cookie when there is one, else to a
 * double-submit cookie set here. Returns: (transfer full) */
char *atrium_csrf_token (AtriumRequest *req);
gboolean atrium_csrf_check (AtriumRequest *req, const char *token);

/* ---- authorize.c, token.c, endpoints.c, clients.c, discovery.c: their routes ---- */
void atrium_oidc_authorize_routes (AtriumCore *core);
void atrium_oidc_token_routes (AtriumCore *core);
void atrium_oidc_endpoint_routes (AtriumCore *core);
void atrium_oidc_client_routes (AtriumCore *core);
void atrium_oidc_discovery_routes (AtriumCore *core);
/* signin in authorize.c: the one place a password is checked for the provider (a second
 * factor goes here later). Sets @out_user_id on success; FALSE with @error for a refusal
 * the form shows (wrong password, throttled, disabled). */
gboolean atrium_oidc_check_password (AtriumRequest *req, const char *username, const char *password,
                                     char **out_user_id, gboolean *out_throttled, GError **error);
