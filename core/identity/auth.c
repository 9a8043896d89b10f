/* SPDX-License-Identifier: Apache-2.0 */
/* auth.c - sign-in, sign-out, the caller's own sessions and personal access tokens.
 *
 * Sign-in runs on the slow pool (Argon2id costs tens of milliseconds by design). A wrong
 * password and an unknown user get the same answer after the same amount of hashing work.
 * Failures are counted per account and per client address in the database (so every host of
 * an installation sees them) and answered with 429 + Retry-After past the limit; the counting
 * and the audit entry commit even though the answer is an error. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <stdlib.h>
#include <string.h>

#define THROTTLE_WINDOW "15 minutes"
/* Seconds until both the account ($1, 5 failures allowed in the window) and the client
 * address ($2, 50) may try again. */
#define THROTTLE_CHECK_SQL                                                                         \
        "SELECT greatest(core.throttle_check($1, 5, $3::interval), "                               \
        "core.throttle_check($2, 50, $3::interval))"

const char atrium_auth_login_schema[] =
        "{\"type\":\"object\",\"required\":[\"username\",\"password\"],"
        "\"properties\":{"
        "\"school\":{\"type\":\"string\",\"description\":\"school slug; omit for operators\","
        "\"maxLength\":63},"
        "\"username\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
        "\"password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
        "\"device_token\":{\"type\":\"string\",\"maxLength\":200,\"description\":\"a "
        "remembered device's token: skips the second factor while the school allows it\"}}}";

static const char token_schema[] = "{\"type\":\"object\",\"required\":[\"name\"],"
        "\"properties\":{"
        "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
        "\"scopes\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":63},"
        "\"maxItems\":100,\"uniqueItems\":true},"
        "\"expires_in_days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":366}}}";

static JsonNode *
caller_json (AtriumRequest *req, const char *school_id, const char *user_id,
             const char *operator_id, const char *username, GError **error)
{
        if (user_id) {
                JsonNode *u = atrium_user_json (req, user_id, error);
                if (u)
                        json_object_set_string_member (json_node_get_object (u), "kind", "user");
                return u;
        }
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", operator_id);
        json_object_set_string_member (o, "kind", "operator");
        if (username)
                json_object_set_string_member (o, "username", username);
        return atrium_json_object_node (o);
}

int
atrium_throttle_wait (AtriumRequest *req, const char *account_key, const char *addr_key,
                      GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (req, error, THROTTLE_CHECK_SQL, 3, account_key,
                                                   addr_key, THROTTLE_WINDOW);
        if (!res)
                return -1;
        return (int) g_ascii_strtoll (atrium_result_value (res, 0, 0), NULL, 10);
}

char *
atrium_throttle_addr_key (AtriumRequest *req)
{
        return g_strdup_printf ("addr:%s", req->client ? req->client : "?");
}

gboolean
atrium_throttle_refuse (AtriumRequest *req, int wait)
{
        g_autofree char *retry = g_strdup_printf ("%d", wait);
        req->core->host->response_header (req, "Retry-After", retry);
        atrium_respond_problem_commit (req, ATRIUM_ERROR_RATE_LIMITED,
                                       "too many failed attempts; try again later");
        return TRUE;
}

gboolean
atrium_throttle_fail (AtriumRequest *req, const char *account_key, const char *addr_key,
                      GError **error)
{
        g_autoptr (AtriumResult) failed =
                atrium_sql (req, error,
                            "SELECT core.throttle_fail($1, $3::interval), "
                            "core.throttle_fail($2, $3::interval)",
                            3, account_key, addr_key, THROTTLE_WINDOW);
        return failed != NULL;
}

/* Signs @account (a user of @school_id, or an operator when @school_id is NULL) in: a new
 * session, the request acting as it from here on (RLS, audit actor), audited as auth.login,
 * answered 200 {"token", "expires_at", "user"} (the sign-in's answer; also activation.c's). */
gboolean
atrium_auth_start_session (AtriumRequest *req, const char *school_id, const char *account,
                           const char *username, const char *clear_key, gboolean *out_totp,
                           GError **error)
{
        AtriumCore *core = req->core;
        g_autofree char *token = atrium_token_new ();
        g_autofree char *token_hash = atrium_token_hash_literal (token);
        g_autofree char *life = g_strdup_printf ("%u seconds", core->config->session_lifetime);
        g_autofree char *idle = g_strdup_printf ("%u seconds", core->config->session_idle);
        const char *user_id = school_id ? account : NULL;
        const char *operator_id = school_id ? NULL : account;
        /* One round trip: the throttle cleared, the session made, the transaction acting as
         * it (RLS, audit actor), the school's second-factor policy judged (the answer's user
         * object then says must_enrol_totp, docs/ACCOUNTS.md) and the audit entry written. A
         * hashing thread waits for every round trip on cores two hashes keep busy. */
        g_autoptr (AtriumResult) sess = atrium_sql (
                req, error,
                "SELECT id, expires_at, totp_needed FROM core.session_start($1::bytea, $2::uuid, "
                "$3::uuid, $4::uuid, $5, now() + $6::interval, $7::interval, $8, $9::boolean)",
                9, token_hash, school_id, user_id, operator_id, req->client, life, idle, clear_key,
                out_totp ? "true" : "false");
        if (!sess)
                return FALSE;
        if (out_totp) {
                *out_totp = g_strcmp0 (atrium_result_value (sess, 0, 2), "t") == 0;
                if (*out_totp)
                        return TRUE;
        }
        g_free (req->school_id);
        req->school_id = g_strdup (school_id);
        g_free (req->user_id);
        req->user_id = g_strdup (user_id);
        g_free (req->operator_id);
        req->operator_id = g_strdup (operator_id);

        JsonNode *who = caller_json (req, school_id, user_id, operator_id, username, error);
        if (!who)
                return FALSE;
        JsonObject *out = json_object_new ();
        json_object_set_string_member (out, "token", token);
        g_autoptr (JsonNode) srow = atrium_result_row_json (sess, 0);
        json_object_set_string_member (
                out, "expires_at",
                json_object_get_string_member (json_node_get_object (srow), "expires_at"));
        json_object_set_member (out, "user", who);
        /* A token: kept by no cache, as RFC 6749 section 5.1 has it for OAuth's. */
        atrium_request_add_header (req, "Cache-Control", "no-store");
        core->host->respond_json (req, 200, atrium_json_object_node (out));
        return TRUE;
}

gboolean
atrium_auth_login (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *school = json_object_get_string_member_with_default (in, "school", NULL);
        const char *username = json_object_get_string_member (in, "username");
        const char *password = json_object_get_string_member (in, "password");
        g_autofree char *account_key =
                g_strdup_printf ("user:%s/%s", school ? school : "-operator-", username);
        g_autofree char *addr_key = atrium_throttle_addr_key (req);

        /* Nothing waits on the hash (tens of milliseconds of CPU): a transaction left open
         * across it would hold its connection idle (behind PgBouncer, a server connection
         * every host shares), its snapshot and its locks for that long. The read before it
         * is a whole READ ONLY transaction, which costs no round trip of its own (a COMMIT
         * before the hash cost 6 % of the sign-in rate on two busy cores, where every round
         * trip waits for a core); what follows the hash is an ordinary transaction. */
        atrium_tx_set_whole (req->tx, TRUE);
        /* The throttle and the account in one statement (one round trip): the account's row
         * is read even when the throttle refuses, and then not used. */
        g_autoptr (AtriumResult) acc = atrium_sql (
                req, error,
                "SELECT w.wait, a.school_id, a.account_id, a.password_hash, a.disabled FROM (" THROTTLE_CHECK_SQL
                " AS wait) w LEFT JOIN core.login_account($4, $5) a ON true",
                5, account_key, addr_key, THROTTLE_WINDOW, school, username);
        if (!acc)
                return FALSE;
        atrium_tx_set_whole (req->tx, FALSE);
        int wait = (int) g_ascii_strtoll (atrium_result_value (acc, 0, 0), NULL, 10);
        if (wait > 0)
                return atrium_throttle_refuse (req, wait);
        gboolean found = atrium_result_value (acc, 0, 2) != NULL;
        const char *hash = found ? atrium_result_value (acc, 0, 3) : NULL;
        gboolean rehash = FALSE;
        gboolean ok = FALSE;
        if (hash)
                ok = atrium_password_verify (password, hash, &rehash);
        else
                atrium_password_burn (password);

        const char *school_id = atrium_result_value (acc, 0, 1);
        const char *account = found ? atrium_result_value (acc, 0, 2) : NULL;
        if (!ok) {
                if (!atrium_throttle_fail (req, account_key, addr_key, error))
                        return FALSE;
                g_free (req->school_id);
                req->school_id = g_strdup (school_id);
                JsonObject *d = json_object_new ();
                json_object_set_string_member (d, "username", username);
                atrium_audit (req, "auth.login_failed", NULL, atrium_json_object_node (d));
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "wrong username or password");
                return TRUE;
        }

        /* A hash at a cost below today's is upgraded: made now, before the next query. */
        g_autofree char *fresh = rehash ? atrium_password_hash (password) : NULL;
        /* A disabled person (a leaver, user-import.c) keeps their data but cannot sign in.
         * Said only to someone who knew the password: it tells nothing to a guesser. */
        if (g_strcmp0 (atrium_result_value (acc, 0, 4), "t") == 0) {
                g_autoptr (AtriumResult) cl =
                        atrium_sql (req, error, "SELECT core.throttle_clear($1)", 1, account_key);
                if (!cl)
                        return FALSE;
                g_free (req->school_id);
                req->school_id = g_strdup (school_id);
                JsonObject *d = json_object_new ();
                json_object_set_string_member (d, "username", username);
                atrium_audit (req, "auth.login_disabled", account, atrium_json_object_node (d));
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "this account is disabled; ask the school's "
                                               "administrators");
                return TRUE;
        }
        if (fresh) {
                g_autoptr (AtriumResult) rh = atrium_sql (
                        req, error, "SELECT core.set_account_hash($1::uuid, $2::uuid, $3)", 3,
                        school_id, account, fresh);
                if (!rh)
                        return FALSE;
        }
        /* The throttle cleared and the session made in one round trip, unless the person has
         * a second factor: then the password alone opens only the pending state. */
        gboolean totp = FALSE;
        if (!atrium_auth_start_session (req, school_id, account, username, account_key,
                                        school_id ? &totp : NULL, error))
                return FALSE;
        if (!totp)
                return TRUE;
        gboolean asked = FALSE;
        if (!atrium_totp_challenge (req, school_id, account, &asked, error))
                return FALSE;
        if (asked)
                return TRUE;
        return atrium_auth_start_session (req, school_id, account, username, NULL, NULL, error);
}

/* Deletes session @id (RLS: the caller's own only), audits @action and answers 204. With
 * @must_exist, a session that is not there is a 404. */
static gboolean
end_session (AtriumRequest *req, const char *id, const char *action, gboolean must_exist,
             GError **error)
{
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error, "DELETE FROM core.sessions WHERE id = $1::uuid", 1, id);
        if (!res)
                return FALSE;
        if (must_exist && atrium_result_affected (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no session %s", id);
                return FALSE;
        }
        atrium_audit (req, action, must_exist ? id : NULL, NULL);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
logout (AtriumRequest *req, gpointer data, GError **error)
{
        return end_session (req, req->session_id, "auth.logout", FALSE, error);
}

static int
compare_names (const void *a, const void *b)
{
        return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
me (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        /* The user's row is the first query, in the identity check's round trip (the route is
         * ATRIUM_ROUTE_EARLY_QUERY): req->user_id is known only once it has returned. */
        g_autoptr (GError) local = NULL;
        JsonNode *who = atrium_me_json (req, &local);
        if (!who && !local)
                who = req->operator_id
                              ? caller_json (req, NULL, NULL, req->operator_id, NULL, &local)
                              : NULL;
        if (!who && !local)
                g_set_error (&local, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no user %s",
                             req->user_id);
        if (!who) {
                g_propagate_error (error, g_steal_pointer (&local));
                return FALSE;
        }
        JsonObject *o = json_node_get_object (who);
        if (req->user_id)
                json_object_set_string_member (o, "kind", "user");
        JsonArray *perms = json_array_new ();
        guint n = req->permissions ? atrium_perm_set_size (req->permissions) : 0;
        g_autofree const char **names = g_new (const char *, n + 1);
        for (guint i = 0; i < n; i++)
                names[i] = atrium_perm_set_get (req->permissions, i);
        /* Byte order, whatever the database's collation sorted them in. */
        qsort (names, n, sizeof *names, compare_names);
        for (guint i = 0; i < n; i++)
                json_array_add_string_element (perms, names[i]);
        json_object_set_array_member (o, "permissions", perms);
        core->host->respond_json (req, 200, who);
        return TRUE;
}

static gboolean
list_sessions (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        /* RLS (own_sessions) limits this to the caller's own sessions. */
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                /* scopes as a JSON array, as POST /auth/tokens answers them (a text[] would
                 * come out as PostgreSQL's "{a,b}"). */
                "SELECT id, kind, name, array_to_json(scopes) AS scopes, client, created_at, "
                "last_used_at, expires_at, "
                "id = $1::uuid AS current FROM core.sessions ORDER BY created_at DESC, id LIMIT 500",
                1, req->session_id);
        if (!res)
                return FALSE;
        core->host->respond_page (req, atrium_result_rows_json (res), NULL);
        return TRUE;
}

static gboolean
delete_session (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        return atrium_valid_uuid_or_404 (id, "session", error) &&
               end_session (req, id, "auth.session_revoked", TRUE, error);
}

static gboolean
create_token (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        JsonObject *in = json_node_get_object (req->json);
        gint64 days = json_object_get_int_member_with_default (in, "expires_in_days", 90);
        g_autofree char *scopes = NULL;
        JsonArray *sc = json_object_has_member (in, "scopes")
                                ? json_object_get_array_member (in, "scopes")
                                : NULL;
        if (req->operator_id && sc) {
                /* Operator rights are not permission names a scope could narrow. */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "operator tokens carry the operator's rights; scopes are for "
                             "school users");
                return FALSE;
        }
        /* A token made with a scoped token is scoped at least as narrowly. */
        g_autoptr (AtriumResult) mine = atrium_sql (
                req, error, "SELECT scopes::text FROM core.sessions WHERE id = $1::uuid", 1,
                req->session_id);
        if (!mine)
                return FALSE;
        const char *own_scopes = atrium_result_value (mine, 0, 0);
        if (own_scopes && !sc)
                scopes = g_strdup (own_scopes);
        if (sc) {
                /* A token can only narrow what its owner may do, never widen it. */
                GString *s = g_string_new ("{");
                for (guint i = 0; i < json_array_get_length (sc); i++) {
                        const char *p = json_array_get_string_element (sc, i);
                        if (!req->operator_id && !atrium_perm_set_has (req->permissions, p)) {
                                g_string_free (s, TRUE);
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                                             "you do not have permission %s to delegate", p);
                                return FALSE;
                        }
                        if (!g_regex_match_simple ("^[a-z_]+\\.[a-z_.]+\\z", p, 0, 0)) {
                                g_string_free (s, TRUE);
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "/scopes/%u: not a permission name", i);
                                return FALSE;
                        }
                        g_string_append_printf (s, "%s%s", i ? "," : "", p);
                }
                g_string_append_c (s, '}');
                scopes = g_string_free (s, FALSE);
        }
        g_autofree char *token = atrium_token_new ();
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autofree char *life = g_strdup_printf ("%" G_GINT64_FORMAT " days", days);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT id, expires_at FROM core.session_create($1::bytea, 'token', $2::uuid, "
                "$3::uuid, $4::uuid, $5, $6::text[], $7, now() + $8::interval, NULL)",
                8, hash, req->user_id ? req->school_id : NULL, req->user_id, req->operator_id,
                json_object_get_string_member (in, "name"), scopes, req->client, life);
        if (!res)
                return FALSE;
        JsonNode *row = atrium_result_row_json (res, 0);
        JsonObject *o = json_node_get_object (row);
        json_object_set_string_member (o, "token", token);
        json_object_set_string_member (o, "name", json_object_get_string_member (in, "name"));
        if (sc)
                json_object_set_array_member (o, "scopes", json_array_ref (sc));
        else
                json_object_set_null_member (o, "scopes");
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "name", json_object_get_string_member (in, "name"));
        atrium_audit (req, "auth.token_created", json_object_get_string_member (o, "id"),
                      atrium_json_object_node (d));
        core->host->respond_json (req, 201, row);
        return TRUE;
}

/* A session or personal access token as the sessions list shows it (and, in part, as
 * POST /auth/tokens answers it). */
#define SESSION_PROPS                                                                              \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"                                        \
        "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"name\":{\"type\":[\"string\",\"null\"]},"                                               \
        "\"scopes\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\"},"               \
        "\"description\":\"the permissions a token is narrowed to; null: all of its owner's\"}"
static const char sessions_answer[] =
        "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":{"
        "\"type\":\"object\",\"properties\":{" SESSION_PROPS ","
        "\"kind\":{\"type\":\"string\",\"description\":\"how it began: a sign-in, a personal "
        "access token, ...\"},\"client\":{\"type\":[\"string\",\"null\"]},"
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"last_used_at\":{\"type\":[\"string\",\"null\"]},"
        "\"current\":{\"type\":\"boolean\",\"description\":\"the session of this "
        "request\"}}}},\"next_cursor\":{\"type\":\"null\"}}}";
static const char token_answer[] =
        "{\"type\":\"object\",\"properties\":{" SESSION_PROPS ",\"token\":{\"type\":"
        "\"string\",\"description\":\"the token (shown only here)\"}}}";

const char atrium_sign_in_answer[] =
        "{\"type\":\"object\",\"properties\":{\"token\":{\"type\":\"string\",\"description\":"
        "\"the bearer token (shown only here)\"}," ATRIUM_SIGN_IN_PROPS "}}";

static const char me_answer[] =
        "{\"type\":\"object\",\"properties\":{" ATRIUM_CALLER_PROPS ","
        "\"school\":{\"type\":\"object\",\"properties\":{\"slug\":{\"type\":\"string\"},"
        "\"name\":{\"type\":\"string\"}}},"
        "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

void
atrium_auth_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/login",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_SLOW,
                 .summary = "Sign in; returns a bearer token",
                 .request_schema = atrium_auth_login_schema,
                 .response_schema = atrium_sign_in_answer, .handler = atrium_auth_login},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/logout",
                 .flags = ATRIUM_ROUTE_PASSWORD_CHANGE | ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "Revoke the token this request was made with", .success_status = 204,
                 .handler = logout},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/me",
                 .flags = ATRIUM_ROUTE_EARLY_QUERY | ATRIUM_ROUTE_PASSWORD_CHANGE |
                          ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "The signed-in person, their school and permissions",
                 .response_schema = me_answer, .handler = me},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/auth/sessions",
                 .summary = "The caller's sessions and tokens", .response_schema = sessions_answer,
                 .handler = list_sessions},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/api/v1/auth/sessions/{id}",
                 .summary = "Revoke one of the caller's sessions or tokens", .success_status = 204,
                 .handler = delete_session},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/tokens",
                 .summary = "Create a personal access token (shown once)",
                 .request_schema = token_schema, .response_schema = token_answer,
                 .success_status = 201, .handler = create_token},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
