/* SPDX-License-Identifier: Apache-2.0 */
/* reset-mail.c - a forgotten password reset by a mailed link (docs/ACCOUNTS.md):
 *
 *   POST /api/v1/auth/password-reset          {"school", "login"}                    -> 202
 *   POST /api/v1/auth/password-reset/confirm  {"school", "token", "new_password"}    -> 204
 *
 * Both are public. The first looks the login up as a username or as an external address
 * (core.users.email: brothers and sisters may share their parents' address, so one address
 * may name several accounts, each gets its own link) and mails each account that is not
 * disabled a link to the portal, {public_url}/#/reset/{school}/{token}: the token is 256
 * random bits, only its SHA-256 is stored (schema 0011), in the URL's fragment so that it
 * reaches no server log and no Referer. The answer is 202 whatever was found, so the route
 * tells nobody who has an account or an address. Asking is throttled per login (3 in 15
 * minutes) and per client address (20), each request counting, so nobody can flood a mailbox.
 *
 * The mail goes to the MTA after the transaction committed (the link must work when it
 * arrives), on an outside worker holding no database connection (a slow MTA holds no
 * connection; AtriumHost.send_mail, core/ops/sendmail.c). Known limit: how long the answer
 * takes says whether a mail was handed over (a local MTA takes milliseconds).
 *
 * The second sets the password once per link: it is marked used in the same transaction,
 * under the row lock of its UPDATE, the person's other links go, and like every reset it ends
 * every session and token of the person and forgets remembered devices. It does not sign in:
 * a person with a second factor still needs it at the next sign-in. Wrong tokens count
 * against the client address like failed sign-ins. */
#include "identity-private.h"
#include "ops-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h"

#define ASK_WINDOW "15 minutes"
#define ASK_PER_LOGIN "3"
#define ASK_PER_ADDR "20"

static const char ask_schema[] =
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"school\",\"login\"],"
        "\"properties\":{"
        "\"school\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63},"
        "\"login\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":254,"
        "\"description\":\"a username, or the external mail address an account has\"}}}";

static const char confirm_schema[] =
        "{\"type\":\"object\",\"additionalProperties\":false,"
        "\"required\":[\"school\",\"token\",\"new_password\"],\"properties\":{"
        "\"school\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63},"
        "\"token\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
        "\"description\":\"from the mailed link\"},"
        "\"new_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024}}}";

typedef struct {
        char *to;
        GBytes *message;
} Letter;

static void
letter_free (gpointer data)
{
        Letter *l = data;
        g_free (l->to);
        g_bytes_unref (l->message);
        g_free (l);
}

/* The reset mails' sender: [auth] reset_from, else noreply@ the public URL's host. */
static char *
sender (AtriumCore *core)
{
        if (core->config->reset_from && core->config->reset_from[0])
                return g_strdup (core->config->reset_from);
        g_autoptr (GUri) uri = g_uri_parse (core->config->public_url, G_URI_FLAGS_NONE, NULL);
        const char *host = uri ? g_uri_get_host (uri) : NULL;
        return g_strdup_printf ("noreply@%s", host && host[0] ? host : "localhost");
}

/* An RFC 5322 date, in English whatever the locale. */
static char *
mail_date (GDateTime *t)
{
        static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        return g_strdup_printf (
                "%s, %02d %s %d %02d:%02d:%02d +0000", days[g_date_time_get_day_of_week (t) - 1],
                g_date_time_get_day_of_month (t), months[g_date_time_get_month (t) - 1],
                g_date_time_get_year (t), g_date_time_get_hour (t), g_date_time_get_minute (t),
                g_date_time_get_second (t));
}

/* The mail with @link for one account, in German and English (plain text, UTF-8). */
static GBytes *
compose (const char *from, const char *to, const char *school_name, const char *username,
         const char *display_name, const char *link, guint minutes)
{
        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        g_autofree char *date = mail_date (now);
        g_autofree char *id = atrium_random_token (18);
        const char *at = strchr (from, '@');
        GString *m = g_string_new (NULL);
        g_string_append_printf (m,
                                "From: %s\r\nTo: %s\r\nSubject: Passwort neu setzen - Password "
                                "reset\r\nDate: %s\r\nMessage-ID: <%s%s>\r\n"
                                "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                                "Content-Type: text/plain; charset=utf-8\r\n"
                                "Content-Transfer-Encoding: 8bit\r\n\r\n",
                                from, to, date, id, at ? at : "@localhost");
        g_string_append_printf (
                m,
                "Hallo %s,\r\n\r\nfür Ihr Konto \"%s\" bei \"%s\" wurde ein neues Passwort "
                "angefordert.\r\nMit diesem Link setzen Sie es neu. Er gilt %u Minuten und nur "
                "einmal:\r\n\r\n%s\r\n\r\nWenn Sie das nicht angefordert haben, müssen Sie nichts "
                "tun: Ihr Passwort bleibt,\r\nwie es ist.\r\n\r\n-- \r\n\r\n",
                display_name, username, school_name, minutes, link);
        g_string_append_printf (
                m,
                "Hello %s,\r\n\r\nsomeone asked for a new password for your account \"%s\" at "
                "\"%s\".\r\nThis link sets it. It works for %u minutes, and once:\r\n\r\n%s\r\n"
                "\r\nIf you did not ask for it, there is nothing to do: your password stays as it "
                "is.\r\n",
                display_name, username, school_name, minutes, link);
        return g_string_free_to_bytes (m);
}

/* Counts one request of @keys and says whether they are over their limits. */
static gboolean
ask_allowed (AtriumRequest *req, const char *login_key, const char *addr_key, gboolean *out,
             GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT greatest(core.throttle_check($1, " ASK_PER_LOGIN ", $3::interval), "
                "core.throttle_check($2, " ASK_PER_ADDR ", $3::interval)), "
                "core.throttle_fail($1, $3::interval), core.throttle_fail($2, $3::interval)",
                3, login_key, addr_key, ASK_WINDOW);
        if (!res)
                return FALSE;
        *out = g_ascii_strtoll (atrium_result_value (res, 0, 0), NULL, 10) == 0;
        return TRUE;
}

/* Makes a link for the account in row @i of @found and adds its mail to @letters. */
static gboolean
make_link (AtriumRequest *req, AtriumResult *found, int i, const char *slug, const char *from,
           GPtrArray *letters, GError **error)
{
        const char *user_id = atrium_result_value (found, i, 2);
        g_autofree char *token = atrium_random_token (32);
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autofree char *life =
                g_strdup_printf ("%u minutes", req->core->config->reset_link_minutes);
        g_autoptr (AtriumResult) ins = atrium_sql (
                req, error,
                "INSERT INTO core.reset_links (school_id, user_id, token_hash, expires_at) "
                "VALUES (core.current_school(), $1::uuid, $2::bytea, now() + $3::interval)",
                3, user_id, hash, life);
        if (!ins)
                return FALSE;
        g_autofree char *esc_slug = g_uri_escape_string (slug, NULL, FALSE);
        g_autofree char *link = g_strdup_printf ("%s/#/reset/%s/%s", req->core->config->public_url,
                                                 esc_slug, token);
        Letter *l = g_new0 (Letter, 1);
        l->to = g_strdup (atrium_result_value (found, i, 5));
        l->message = compose (from, l->to, atrium_result_value (found, i, 1),
                              atrium_result_value (found, i, 3), atrium_result_value (found, i, 4),
                              link, req->core->config->reset_link_minutes);
        g_ptr_array_add (letters, l);
        atrium_audit (req, "auth.reset_link_sent", user_id, NULL);
        return TRUE;
}

static gboolean
ask (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *school = json_object_get_string_member (in, "school");
        const char *login = json_object_get_string_member (in, "login");
        g_autofree char *lower = g_utf8_strdown (login, -1);
        g_autofree char *login_key = g_strdup_printf ("reset:%s/%s", school, lower);
        g_autofree char *addr_key =
                g_strdup_printf ("reset-addr:%s", req->client ? req->client : "?");
        gboolean allowed;
        if (!ask_allowed (req, login_key, addr_key, &allowed, error))
                return FALSE;
        if (!allowed) {
                req->core->host->response_header (req, "Retry-After", "900");
                atrium_respond_problem_commit (req, ATRIUM_ERROR_RATE_LIMITED,
                                               "too many reset requests; try again later");
                return TRUE;
        }

        g_autoptr (AtriumResult) found = atrium_sql (
                req, error,
                "SELECT school_id, school_name, user_id, username, display_name, email, disabled "
                "FROM core.reset_accounts($1, $2)",
                2, school, login);
        if (!found)
                return FALSE;
        g_autoptr (GPtrArray) letters = g_ptr_array_new_with_free_func (letter_free);
        g_autofree char *from = sender (req->core);
        if (atrium_result_n_rows (found)) {
                const char *school_id = atrium_result_value (found, 0, 0);
                g_free (req->school_id);
                req->school_id = g_strdup (school_id);
                g_autoptr (AtriumResult) set =
                        atrium_sql (req, error, "SELECT set_config('atrium.school_id', $1, true)",
                                    1, school_id);
                if (!set)
                        return FALSE;
                for (int i = 0; i < atrium_result_n_rows (found); i++) {
                        if (!atrium_result_value (found, i, 2) ||
                            g_strcmp0 (atrium_result_value (found, i, 6), "t") == 0)
                                continue;
                        if (!make_link (req, found, i, school, from, letters, error))
                                return FALSE;
                }
                if (!letters->len) {
                        JsonObject *d = json_object_new ();
                        json_object_set_string_member (d, "login", login);
                        atrium_audit (req, "auth.reset_link_refused", NULL,
                                      atrium_json_object_node (d));
                }
        }
        /* The links exist before anyone can follow them; the MTA is asked holding no
         * database connection. */
        if (!atrium_request_tx_commit (req, error))
                return FALSE;
        for (guint i = 0; i < letters->len; i++) {
                Letter *l = letters->pdata[i];
                const char *rcpts[] = {l->to, NULL};
                g_autofree char *reason = NULL;
                if (atrium_sendmail (NULL, 0, from, rcpts, l->message, &reason) !=
                    ATRIUM_SEND_MAIL_SENT)
                        g_warning ("a reset link for school %s was not sent: %s", school, reason);
        }
        req->core->host->response_header (req, "Cache-Control", "no-store");
        req->core->host->respond_json (req, 202, NULL);
        return TRUE;
}

static gboolean
confirm (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *school = json_object_get_string_member (in, "school");
        const char *password = json_object_get_string_member (in, "new_password");
        g_autofree char *addr_key =
                g_strdup_printf ("reset-addr:%s", req->client ? req->client : "?");
        g_autoptr (AtriumResult) wait = atrium_sql (
                req, error, "SELECT core.throttle_check($1, " ASK_PER_ADDR ", $2::interval)", 2,
                addr_key, ASK_WINDOW);
        if (!wait)
                return FALSE;
        int seconds = (int) g_ascii_strtoll (atrium_result_value (wait, 0, 0), NULL, 10);
        if (seconds > 0)
                return atrium_throttle_refuse (req, seconds);

        g_autofree char *hash =
                atrium_token_hash_literal (json_object_get_string_member (in, "token"));
        g_autoptr (AtriumResult) found =
                atrium_sql (req, error,
                            "SELECT school_id, link_id, user_id, username, disabled "
                            "FROM core.reset_link_find($1, $2::bytea)",
                            2, school, hash);
        if (!found)
                return FALSE;
        if (atrium_result_n_rows (found) != 1 ||
            g_strcmp0 (atrium_result_value (found, 0, 4), "t") == 0) {
                g_autoptr (AtriumResult) failed =
                        atrium_sql (req, error, "SELECT core.throttle_fail($1, $2::interval)", 2,
                                    addr_key, ASK_WINDOW);
                if (!failed)
                        return FALSE;
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "this reset link is not valid: it is wrong, "
                                               "expired or used, or the account is disabled; "
                                               "ask for a new one");
                return TRUE;
        }
        const char *school_id = atrium_result_value (found, 0, 0);
        const char *user_id = atrium_result_value (found, 0, 2);
        if (!atrium_password_policy (password, atrium_result_value (found, 0, 3), error))
                return FALSE;
        g_autoptr (AtriumResult) set =
                atrium_sql (req, error,
                            "SELECT set_config('atrium.school_id', $1, true), "
                            "set_config('atrium.user_id', $2, true)",
                            2, school_id, user_id);
        if (!set)
                return FALSE;
        g_free (req->school_id);
        req->school_id = g_strdup (school_id);
        /* The new password's hash, with no connection held meanwhile (auth.c); the link is
         * spent in the next transaction. */
        if (!atrium_request_tx_commit (req, error))
                return FALSE;
        g_autofree char *phc = atrium_password_hash (password);
        /* Once: of two confirmations at once, the second waits for the first's row lock and
         * then finds the link used. */
        g_autoptr (AtriumResult) used = atrium_sql (
                req, error,
                "UPDATE core.reset_links SET used_at = now() WHERE id = $1::uuid AND used_at IS NULL",
                1, atrium_result_value (found, 0, 1));
        if (!used)
                return FALSE;
        if (atrium_result_affected (used) != 1) {
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "this reset link was used; ask for a new one");
                return TRUE;
        }
        g_autoptr (AtriumResult) others = atrium_sql (
                req, error,
                "DELETE FROM core.reset_links WHERE user_id = $1::uuid AND used_at IS NULL", 1,
                user_id);
        if (!others || !atrium_password_store_hash (req, user_id, phc, FALSE, NULL, error))
                return FALSE;
        atrium_audit (req, "auth.password_reset_by_link", user_id, NULL);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

void
atrium_reset_mail_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/password-reset",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_OUTSIDE,
                 .summary = "Ask for a password reset link by mail (to an account's external "
                            "address; 202 whether or not there is one)",
                 .request_schema = ask_schema, .success_status = 202, .handler = ask},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/password-reset/confirm",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_SLOW,
                 .summary = "Set a new password with a mailed reset link's token (ends every "
                            "session of the person)",
                 .request_schema = confirm_schema, .success_status = 204, .handler = confirm},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
