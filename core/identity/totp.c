/* SPDX-License-Identifier: Apache-2.0 */
/* totp.c - the second factor: TOTP (RFC 6238: HOTP of RFC 4226 over 30-second steps, HMAC-SHA1,
 * six digits) with recovery codes (docs/ACCOUNTS.md).
 *
 * Enrolment: POST /api/v1/me/totp hands out a new secret (and its otpauth:// URI for an
 * authenticator app); it is off until POST /api/v1/me/totp/confirm brings a first code, which
 * turns it on and answers ten recovery codes, once (stored as SHA-256: 80 random bits each, as
 * activation codes). Sign-in: a person with TOTP on gets, for the right password, only a
 * pending state (core.login_pending, five minutes, its token stored hashed), which POST
 * /api/v1/auth/login/totp (or .../browser-session/totp for the cookie) turns into a session with
 * a code or a recovery code. A code is accepted for the step before, the current and the next
 * (clock drift), and only for a step later than the last one accepted (core.totp.last_step,
 * advanced atomically): a replayed code is refused. Failures are throttled like sign-in
 * ("totp:<school>/<username>": five in 15 minutes; the client address: 50). A device that
 * passed with remember_device skips the code for the school's remember_days (a random token,
 * stored hashed: the bearer client's device_token or the atrium_device cookie). */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h"

#define SECRET_LEN 20
#define STEP_SECONDS 30
#define PENDING_LIFE "5 minutes"
#define N_RECOVERY 10
#define DEVICE_COOKIE "atrium_device"

static const char code_schema[] =
        "{\"type\":\"object\",\"required\":[\"code\"],\"additionalProperties\":false,"
        "\"properties\":{\"code\":{\"type\":\"string\",\"minLength\":6,\"maxLength\":6,"
        "\"pattern\":\"^[0-9]{6}$\"}}}";

static const char second_step_schema[] =
        "{\"type\":\"object\",\"required\":[\"pending_token\",\"code\"],"
        "\"additionalProperties\":false,\"properties\":{"
        "\"pending_token\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"code\":{\"type\":\"string\",\"minLength\":6,\"maxLength\":64,"
        "\"description\":\"six digits from the app, or a recovery code\"},"
        "\"remember_device\":{\"type\":\"boolean\",\"description\":\"skip the second factor "
        "on this device for the days the school allows (a device_token, or the atrium_device "
        "cookie)\"}}}";

/* RFC 4648 base32 without padding (what authenticator apps take). */
static char *
base32 (const guchar *data, gsize len)
{
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        GString *s = g_string_new (NULL);
        guint buf = 0, bits = 0;
        for (gsize i = 0; i < len; i++) {
                buf = (buf << 8) | data[i];
                bits += 8;
                while (bits >= 5) {
                        g_string_append_c (s, alphabet[(buf >> (bits - 5)) & 31]);
                        bits -= 5;
                }
        }
        if (bits)
                g_string_append_c (s, alphabet[(buf << (5 - bits)) & 31]);
        return g_string_free (s, FALSE);
}

/* HOTP (RFC 4226 5.3) of @counter: six digits. */
static void
hotp (const guchar *key, gsize key_len, guint64 counter, char out[7])
{
        guchar msg[8];
        for (int i = 7; i >= 0; i--, counter >>= 8)
                msg[i] = counter & 0xff;
        gcry_md_hd_t h = NULL;
        guint32 v = 0;
        if (gcry_md_open (&h, GCRY_MD_SHA1, GCRY_MD_FLAG_HMAC) == 0 &&
            gcry_md_setkey (h, key, key_len) == 0) {
                gcry_md_write (h, msg, sizeof msg);
                const guchar *mac = gcry_md_read (h, GCRY_MD_SHA1);
                int off = mac[19] & 0x0f;
                v = ((guint32) (mac[off] & 0x7f) << 24) | ((guint32) mac[off + 1] << 16) |
                    ((guint32) mac[off + 2] << 8) | mac[off + 3];
        }
        gcry_md_close (h);
        g_snprintf (out, 7, "%06u", v % 1000000u);
}

/* The step (t-1, t or t+1) whose code @code is, or -1. Every candidate is compared, in
 * constant time, so the answer's timing says nothing about which one matched. */
static gint64
match_step (const guchar *key, gsize key_len, const char *code)
{
        gint64 now = g_get_real_time () / G_USEC_PER_SEC / STEP_SECONDS;
        gint64 found = -1;
        for (gint64 s = now - 1; s <= now + 1; s++) {
                char want[7];
                hotp (key, key_len, (guint64) s, want);
                if (atrium_ct_streq (want, code))
                        found = s;
        }
        return found;
}

/* The caller's secret (raw bytes, transfer full) or NULL (none, or an error in @error). */
static GBytes *
own_secret (AtriumRequest *req, const char *user_id, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "SELECT encode(core.totp_secret($1::uuid), 'hex')", 1, user_id);
        if (!res)
                return NULL;
        const char *hex = atrium_result_value (res, 0, 0);
        if (!hex)
                return NULL;
        gsize n = strlen (hex) / 2;
        guchar *raw = g_malloc (n);
        for (gsize i = 0; i < n; i++)
                raw[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) |
                         g_ascii_xdigit_value (hex[2 * i + 1]);
        return g_bytes_new_take (raw, n);
}

/* Accepts six-digit @code for @user_id if it matches a step after the last accepted one, and
 * records that step (atomically: of two requests with one code, one wins). */
static gboolean
accept_code (AtriumRequest *req, const char *user_id, const char *code, gboolean *out_ok,
             GError **error)
{
        *out_ok = FALSE;
        g_autoptr (GBytes) secret = own_secret (req, user_id, error);
        if (!secret)
                return error == NULL || *error == NULL;
        gsize n;
        const guchar *key = g_bytes_get_data (secret, &n);
        gint64 step = match_step (key, n, code);
        if (step < 0)
                return TRUE;
        g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, step);
        g_autoptr (AtriumResult) res =
                atrium_sql (req, error,
                            "UPDATE core.totp SET last_step = $2::bigint WHERE user_id = $1::uuid "
                            "AND last_step < $2::bigint",
                            2, user_id, s);
        if (!res)
                return FALSE;
        *out_ok = atrium_result_affected (res) == 1;
        return TRUE;
}

gboolean
atrium_totp_enabled (AtriumRequest *req, const char *school_id, const char *account,
                     gboolean *out_enabled, GError **error)
{
        g_autoptr (AtriumResult) on = atrium_sql (
                req, error, "SELECT core.totp_enabled($1::uuid, $2::uuid)", 2, school_id, account);
        if (!on)
                return FALSE;
        *out_enabled = g_str_equal (atrium_result_value (on, 0, 0), "t");
        return TRUE;
}

gboolean
atrium_totp_challenge (AtriumRequest *req, const char *school_id, const char *account,
                       gboolean *out_asked, GError **error)
{
        *out_asked = FALSE;
        /* A remembered device (a bearer client's device_token, or the browser's cookie). */
        JsonObject *in = req->json ? json_node_get_object (req->json) : NULL;
        const char *given =
                in ? json_object_get_string_member_with_default (in, "device_token", NULL) : NULL;
        g_autofree char *cookie = given ? NULL : atrium_request_cookie (req, DEVICE_COOKIE);
        const char *device = given ? given : cookie;
        if (device && strlen (device) <= 200) {
                g_autofree char *dh = atrium_token_hash_literal (device);
                g_autoptr (AtriumResult) ok = atrium_sql (
                        req, error, "SELECT core.totp_device_valid($1::uuid, $2::uuid, $3::bytea)",
                        3, school_id, account, dh);
                if (!ok)
                        return FALSE;
                if (g_str_equal (atrium_result_value (ok, 0, 0), "t")) {
                        g_free (req->school_id);
                        req->school_id = g_strdup (school_id);
                        atrium_audit (req, "auth.totp_remembered", account, NULL);
                        return TRUE;
                }
        }
        g_autofree char *token = atrium_token_new ();
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT core.login_pending_create($1::bytea, $2::uuid, $3::uuid, $4::interval)", 4,
                hash, school_id, account, PENDING_LIFE);
        if (!res)
                return FALSE;
        g_autofree char *expires = atrium_result_time (res, 0, 0);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "second_factor", "totp");
        json_object_set_string_member (o, "pending_token", token);
        json_object_set_string_member (o, "expires_at", expires);
        g_free (req->school_id);
        req->school_id = g_strdup (school_id);
        atrium_audit (req, "auth.login_second_factor", account, NULL);
        atrium_request_add_header (req, "Cache-Control", "no-store"); /* a token */
        req->core->host->respond_json (req, 200, atrium_json_object_node (o));
        *out_asked = TRUE;
        return TRUE;
}

/* "Remember this device": a new device token (transfer full) valid for the school's
 * remember_days, or none (NULL) when the school does not allow it. */
static gboolean
remember (AtriumRequest *req, const char *user_id, char **out_token, int *out_days, GError **error)
{
        g_autoptr (AtriumResult) pol = atrium_sql (
                req, error, "SELECT coalesce((SELECT remember_days FROM core.account_policy), 0)",
                0);
        if (!pol)
                return FALSE;
        int days = (int) g_ascii_strtoll (atrium_result_value (pol, 0, 0), NULL, 10);
        if (days <= 0)
                return TRUE;
        g_autofree char *token = atrium_token_new ();
        g_autofree char *hash = atrium_token_hash_literal (token);
        g_autofree char *life = g_strdup_printf ("%d days", days);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.totp_devices (school_id, token_hash, user_id, expires_at) "
                "VALUES (core.current_school(), $1::bytea, $2::uuid, now() + $3::interval)",
                3, hash, user_id, life);
        if (!res)
                return FALSE;
        *out_token = g_steal_pointer (&token);
        *out_days = days;
        return TRUE;
}

/* POST /api/v1/auth/login/totp and /api/v1/auth/browser-session/totp. */
static gboolean
second_step (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *code = json_object_get_string_member (in, "code");
        g_autofree char *hash =
                atrium_token_hash_literal (json_object_get_string_member (in, "pending_token"));
        g_autoptr (AtriumResult) p = atrium_sql (
                req, error,
                "SELECT school_id, slug, user_id, username FROM core.login_pending_find($1::bytea, "
                "false)",
                1, hash);
        if (!p)
                return FALSE;
        if (atrium_result_n_rows (p) != 1)
                return atrium_fail (error, ATRIUM_ERROR_UNAUTHENTICATED,
                                    "the sign-in expired; sign in again");
        const char *school_id = atrium_result_value (p, 0, 0);
        const char *user_id = atrium_result_value (p, 0, 2);
        const char *username = atrium_result_value (p, 0, 3);
        g_autofree char *account_key =
                g_strdup_printf ("totp:%s/%s", atrium_result_value (p, 0, 1), username);
        g_autofree char *addr_key = atrium_throttle_addr_key (req);
        int wait = atrium_throttle_wait (req, account_key, addr_key, error);
        if (wait < 0)
                return FALSE;
        if (wait > 0)
                return atrium_throttle_refuse (req, wait);
        g_autoptr (AtriumResult) set =
                atrium_sql (req, error,
                            "SELECT set_config('atrium.school_id', $1, true), "
                            "set_config('atrium.user_id', $2, true)",
                            2, school_id, user_id);
        if (!set)
                return FALSE;
        g_free (req->school_id);
        req->school_id = g_strdup (school_id);
        g_free (req->user_id);
        req->user_id = g_strdup (user_id);

        gboolean ok = FALSE;
        const char *how = "totp";
        if (g_regex_match_simple ("^[0-9]{6}\\z", code, 0, 0)) {
                if (!accept_code (req, user_id, code, &ok, error))
                        return FALSE;
        } else {
                /* A recovery code, typed as the activation codes are. */
                how = "recovery_code";
                GString *n = g_string_new (NULL);
                for (const char *c = code; *c; c++)
                        if (*c != '-' && *c != ' ')
                                g_string_append_c (n, g_ascii_toupper (*c));
                g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, n->str, n->len);
                g_string_free (n, TRUE);
                g_autofree char *lit = g_strconcat ("\\x", hex, NULL);
                g_autoptr (AtriumResult) used = atrium_sql (
                        req, error,
                        "UPDATE core.totp_recovery SET used_at = now() WHERE user_id = $1::uuid "
                        "AND code_hash = $2::bytea AND used_at IS NULL",
                        2, user_id, lit);
                if (!used)
                        return FALSE;
                ok = atrium_result_affected (used) == 1;
        }
        if (!ok) {
                if (!atrium_throttle_fail (req, account_key, addr_key, error))
                        return FALSE;
                atrium_audit (req, "auth.totp_failed", user_id, NULL);
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "wrong or already used code");
                return TRUE;
        }
        g_autoptr (AtriumResult) done = atrium_sql (
                req, error,
                "SELECT (SELECT count(*) FROM core.login_pending_find($1::bytea, true)), "
                "core.throttle_clear($2)",
                2, hash, account_key);
        if (!done)
                return FALSE;
        JsonObject *d = json_object_new ();
        json_object_set_string_member (d, "with", how);
        atrium_audit (req, "auth.totp_passed", user_id, atrium_json_object_node (d));
        g_autofree char *device = NULL;
        int days = 0;
        if (json_object_get_boolean_member_with_default (in, "remember_device", FALSE) &&
            !remember (req, user_id, &device, &days, error))
                return FALSE;
        if (!atrium_auth_start_session (req, school_id, user_id, username, NULL, NULL, error))
                return FALSE;
        gboolean browser = g_str_has_prefix (req->route->template, "/api/v1/auth/browser-session");
        if (browser) {
                if (device)
                        atrium_browser_cookie_set_days (req, DEVICE_COOKIE, device, days);
                return atrium_browser_session_hand_over (req, error);
        }
        if (!device)
                return TRUE;
        /* The bearer client keeps the device's token and sends it with its next sign-in. */
        g_autoptr (JsonNode) out =
                atrium_json_parse_body (g_bytes_get_data (req->response_body, NULL),
                                        g_bytes_get_size (req->response_body), error);
        if (!out)
                return FALSE;
        json_object_set_string_member (json_node_get_object (out), "device_token", device);
        atrium_request_set_json (req, 200, out);
        return TRUE;
}

/* POST /api/v1/me/totp: a new secret, off until confirmed. */
static gboolean
enrol (AtriumRequest *req, gpointer data, GError **error)
{
        if (!req->user_id)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "a second factor is for the school's people");
        g_autoptr (AtriumResult) who = atrium_sql (
                req, error,
                "SELECT u.username, s.name, coalesce(t.enabled, false) FROM core.users u "
                "JOIN core.schools s ON s.id = u.school_id "
                "LEFT JOIN core.totp t ON t.user_id = u.id WHERE u.id = $1::uuid",
                1, req->user_id);
        if (!who)
                return FALSE;
        if (g_str_equal (atrium_result_value (who, 0, 2), "t"))
                return atrium_fail (error, ATRIUM_ERROR_CONFLICT, "a second factor is already on");
        guchar secret[SECRET_LEN];
        gcry_randomize (secret, sizeof secret, GCRY_STRONG_RANDOM);
        g_autofree char *hex = atrium_hex (secret, sizeof secret);
        g_autofree char *b32 = base32 (secret, sizeof secret);
        memset (secret, 0, sizeof secret);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.totp (school_id, user_id, secret) "
                "VALUES (core.current_school(), $1::uuid, decode($2, 'hex')) "
                "ON CONFLICT (school_id, user_id) DO UPDATE SET secret = decode($2, 'hex'), "
                "enabled = false, last_step = 0, created_at = now()",
                2, req->user_id, hex);
        if (!res)
                return FALSE;
        g_autofree char *issuer =
                g_uri_escape_string (atrium_result_value (who, 0, 1), NULL, FALSE);
        g_autofree char *account =
                g_uri_escape_string (atrium_result_value (who, 0, 0), NULL, FALSE);
        g_autofree char *uri = g_strdup_printf (
                "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=%d",
                issuer, account, b32, issuer, STEP_SECONDS);
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "secret", b32);
        json_object_set_string_member (o, "otpauth_uri", uri);
        atrium_audit (req, "user.totp_enrolling", req->user_id, NULL);
        req->core->host->response_header (req, "Cache-Control", "no-store");
        req->core->host->respond_json (req, 201, atrium_json_object_node (o));
        return TRUE;
}

/* POST /api/v1/me/totp/confirm: the first code turns it on; recovery codes, once. */
static gboolean
confirm (AtriumRequest *req, gpointer data, GError **error)
{
        if (!req->user_id)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "a second factor is for the school's people");
        g_autoptr (AtriumResult) st =
                atrium_sql (req, error, "SELECT enabled FROM core.totp WHERE user_id = $1::uuid", 1,
                            req->user_id);
        if (!st)
                return FALSE;
        if (atrium_result_n_rows (st) == 0)
                return atrium_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "no second factor to confirm: POST /api/v1/me/totp first");
        if (g_str_equal (atrium_result_value (st, 0, 0), "t"))
                return atrium_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "the second factor is on already");
        gboolean ok = FALSE;
        const char *code = json_object_get_string_member (json_node_get_object (req->json), "code");
        if (!accept_code (req, req->user_id, code, &ok, error))
                return FALSE;
        if (!ok)
                return atrium_fail (error, ATRIUM_ERROR_UNPROCESSABLE,
                                    "/code: not the app's current code; check the device's clock");
        JsonArray *codes = json_array_new ();
        GString *hashes = g_string_new ("{");
        for (int i = 0; i < N_RECOVERY; i++) {
                g_autofree char *c = atrium_activation_code_new ();
                GString *n = g_string_new (NULL);
                for (const char *p = c; *p; p++)
                        if (*p != '-')
                                g_string_append_c (n, *p);
                g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, n->str, n->len);
                g_string_free (n, TRUE);
                g_string_append_printf (hashes, "%s%s", i ? "," : "", hex);
                json_array_add_string_element (codes, c);
        }
        g_string_append_c (hashes, '}');
        g_autofree char *lit = g_string_free (hashes, FALSE);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "WITH gone AS (DELETE FROM core.totp_recovery WHERE user_id = $1::uuid), "
                "ins AS (INSERT INTO core.totp_recovery (school_id, user_id, code_hash) "
                "SELECT core.current_school(), $1::uuid, decode(h, 'hex') "
                "FROM unnest($2::text[]) h), "
                "u AS (UPDATE core.users SET must_enrol_totp = false WHERE id = $1::uuid) "
                "UPDATE core.totp SET enabled = true WHERE user_id = $1::uuid",
                2, req->user_id, lit);
        if (!res) {
                json_array_unref (codes);
                return FALSE;
        }
        atrium_audit (req, "user.totp_enabled", req->user_id, NULL);
        JsonObject *o = json_object_new ();
        json_object_set_array_member (o, "recovery_codes", codes);
        req->core->host->response_header (req, "Cache-Control", "no-store");
        req->core->host->respond_json (req, 200, atrium_json_object_node (o));
        return TRUE;
}

/* Removes @user_id's second factor with their recovery codes and remembered devices; one row
 * per factor removed (none: there was none). */
static AtriumResult *
forget_factor (AtriumRequest *req, const char *user_id, GError **error)
{
        return atrium_sql (req, error,
                           "WITH r AS (DELETE FROM core.totp_recovery WHERE user_id = $1::uuid), "
                           "d AS (DELETE FROM core.totp_devices WHERE user_id = $1::uuid) "
                           "DELETE FROM core.totp WHERE user_id = $1::uuid RETURNING 1",
                           1, user_id);
}

/* DELETE /api/v1/schools/{school}/users/{id}/totp (users.manage): a lost phone. The person
 * signs in with the password alone again (or must enrol anew, if the school's policy says so);
 * their recovery codes and remembered devices go too. */
static gboolean
remove_totp (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!atrium_valid_uuid_or_404 (id, "user", error))
                return FALSE;
        g_autoptr (AtriumResult) res = forget_factor (req, id, error);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 0)
                return atrium_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                    "no user %s with a second factor", id);
        atrium_audit (req, "user.totp_removed", id, NULL);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

/* DELETE /api/v1/me/totp {"code"}: one turns one's own second factor off, with a current
 * code (a stolen session alone cannot), unless the school's policy wants one for one's roles
 * (409). Wrong codes are throttled like the second step of a sign-in. */
static gboolean
turn_off (AtriumRequest *req, gpointer data, GError **error)
{
        if (!req->user_id)
                return atrium_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                    "a second factor is for the school's people");
        g_autoptr (AtriumResult) st = atrium_sql (
                req, error,
                "SELECT t.enabled, u.username, EXISTS (SELECT 1 FROM core.account_policy p "
                "WHERE p.school_id = u.school_id AND p.totp_roles && u.roles) "
                "FROM core.users u LEFT JOIN core.totp t ON t.user_id = u.id "
                "WHERE u.id = $1::uuid",
                1, req->user_id);
        if (!st)
                return FALSE;
        if (atrium_result_n_rows (st) != 1 || g_strcmp0 (atrium_result_value (st, 0, 0), "t") != 0)
                return atrium_fail (error, ATRIUM_ERROR_NOT_FOUND, "no second factor is on");
        if (g_str_equal (atrium_result_value (st, 0, 2), "t"))
                return atrium_fail (error, ATRIUM_ERROR_CONFLICT,
                                    "the school requires a second factor for your role; ask an "
                                    "administrator to remove a lost one");
        g_autofree char *account_key =
                g_strdup_printf ("totp:%s/%s", req->school_slug, atrium_result_value (st, 0, 1));
        g_autofree char *addr_key = atrium_throttle_addr_key (req);
        int wait = atrium_throttle_wait (req, account_key, addr_key, error);
        if (wait < 0)
                return FALSE;
        if (wait > 0)
                return atrium_throttle_refuse (req, wait);
        gboolean ok = FALSE;
        const char *code = json_object_get_string_member (json_node_get_object (req->json), "code");
        if (!accept_code (req, req->user_id, code, &ok, error))
                return FALSE;
        if (!ok) {
                if (!atrium_throttle_fail (req, account_key, addr_key, error))
                        return FALSE;
                atrium_audit (req, "auth.totp_failed", req->user_id, NULL);
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNPROCESSABLE,
                                               "/code: wrong or already used code");
                return TRUE;
        }
        g_autoptr (AtriumResult) res = forget_factor (req, req->user_id, error);
        if (!res)
                return FALSE;
        atrium_audit (req, "user.totp_disabled", req->user_id, NULL);
        req->core->host->respond_json (req, 204, NULL);
        return TRUE;
}

void
atrium_totp_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/me/totp",
                 .flags = ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "Begin a second factor (TOTP): a new secret and its otpauth:// URI; "
                            "off until confirmed",
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"secret\":{\"type\":"
                                    "\"string\",\"description\":\"base32, for typing in\"},"
                                    "\"otpauth_uri\":{\"type\":\"string\",\"description\":"
                                    "\"for a QR code\"}}}",
                 .success_status = 201, .handler = enrol},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/me/totp/confirm",
                 .flags = ATRIUM_ROUTE_TOTP_ENROL,
                 .summary = "Turn the second factor on with a first code; answers the recovery "
                            "codes, once",
                 .request_schema = code_schema,
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"recovery_codes\":"
                                    "{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
                                    "\"description\":\"each works once in place of a code; "
                                    "shown only here\"}}}",
                 .handler = confirm},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/api/v1/me/totp",
                 .summary = "Turn one's own second factor off with a current code (not where "
                            "the school's policy requires one: 409)",
                 .request_schema = code_schema, .success_status = 204, .handler = turn_off},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/login/totp",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "The second step of a sign-in: a TOTP or recovery code for the "
                            "pending_token the password gave; returns a bearer token",
                 .request_schema = second_step_schema, .response_schema = atrium_sign_in_answer,
                 .handler = second_step},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/browser-session/totp",
                 .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "The second step of a browser's sign-in: sets the atrium_session "
                            "cookie, returns the CSRF token",
                 .request_schema = second_step_schema,
                 .response_schema = atrium_browser_session_answer, .handler = second_step},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/api/v1/schools/{school}/users/{id}/totp", .permission = "users.manage",
                 .summary = "Remove a person's second factor (a lost device), with their "
                            "recovery codes and remembered devices",
                 .success_status = 204, .handler = remove_totp},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
