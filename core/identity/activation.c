/* SPDX-License-Identifier: Apache-2.0 */
/* activation.c - activation codes: the first password of imported people (docs/ACCOUNTS.md).
 *
 * An admin asks for codes for a class (the import's class column), a group (through the groups
 * service) or a list of people, and gets them once: as JSON, as CSV (Accept: text/csv) or as
 * a printable page of letters (Accept: text/html), one per person. A code is 16 symbols of a
 * 32-symbol alphabet without look-alikes (no 0/O, 1/I), 80 random bits, printed in groups of
 * four. Only its SHA-256 is stored: with 80 bits of entropy nobody can find a code from its
 * hash by trying codes, so neither a salt nor a server-side key would add anything (they do
 * for passwords, which people choose). A new code for a person replaces their unused ones.
 *
 * POST /api/v1/auth/activate redeems one: public, throttled per account ("activate:" key,
 * five failures in 15 minutes) and per client address like sign-in, single use (the row is
 * marked used in the redeeming transaction, under the row lock of the UPDATE), and signs the
 * person in with the password they chose. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <atrium/groups.h>
#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h"

#define MAX_PEOPLE 2000

static const char create_schema[] =
        "{\"type\":\"object\",\"additionalProperties\":false,"
        "\"description\":\"exactly one of users, group, class\",\"properties\":{"
        "\"users\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":1000,\"uniqueItems\":true,"
        "\"items\":{\"type\":\"string\",\"format\":\"uuid\"}},"
        "\"group\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63,"
        "\"description\":\"a group's id or slug (groups module)\"},"
        "\"class\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"
        "\"description\":\"the import's class name\"},"
        "\"valid_days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":90,\"default\":14}}}";

static const char activate_schema[] =
        "{\"type\":\"object\",\"additionalProperties\":false,"
        "\"required\":[\"school\",\"username\",\"code\",\"new_password\"],\"properties\":{"
        "\"school\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63},"
        "\"username\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
        "\"code\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
        "\"new_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024}}}";

char *
atrium_activation_code_new (void)
{
        guchar raw[16];
        gcry_randomize (raw, sizeof raw, GCRY_STRONG_RANDOM);
        GString *s = g_string_sized_new (20);
        for (gsize i = 0; i < sizeof raw; i++) {
                if (i && i % 4 == 0)
                        g_string_append_c (s, '-');
                /* 256 is a multiple of 32: taking the low five bits keeps it uniform. */
                g_string_append_c (s, ATRIUM_CODE_ALPHABET[raw[i] & 31]);
        }
        memset (raw, 0, sizeof raw);
        return g_string_free (s, FALSE);
}

/* The hex SHA-256 of @code as typed: separators and spaces dropped, letters upper-cased. */
static char *
code_hash_hex (const char *code)
{
        GString *n = g_string_new (NULL);
        for (const char *p = code; *p; p++)
                if (*p != '-' && *p != ' ')
                        g_string_append_c (n, g_ascii_toupper (*p));
        char *hex = atrium_digest_hex (GCRY_MD_SHA256, n->str, n->len);
        g_string_free (n, TRUE);
        return hex;
}

gboolean
atrium_activation_issue (AtriumRequest *req, GPtrArray *user_ids, int days, GPtrArray **out_codes,
                         char **out_expires, GError **error)
{
        g_autoptr (GPtrArray) codes = g_ptr_array_new_with_free_func (g_free);
        GString *ids = g_string_new ("{");
        GString *hashes = g_string_new ("{");
        for (guint i = 0; i < user_ids->len; i++) {
                char *code = atrium_activation_code_new ();
                g_autofree char *hex = code_hash_hex (code);
                g_ptr_array_add (codes, code);
                g_string_append_printf (ids, "%s%s", i ? "," : "",
                                        (const char *) user_ids->pdata[i]);
                g_string_append_printf (hashes, "%s%s", i ? "," : "", hex);
        }
        g_string_append_c (ids, '}');
        g_string_append_c (hashes, '}');
        g_autofree char *ids_lit = g_string_free (ids, FALSE);
        g_autofree char *hashes_lit = g_string_free (hashes, FALSE);
        g_autofree char *life = g_strdup_printf ("%d days", days);
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "WITH gone AS (DELETE FROM core.activation_codes "
                "WHERE user_id = ANY ($1::uuid[]) AND used_at IS NULL) "
                "INSERT INTO core.activation_codes (school_id, user_id, code_hash, created_by, "
                "expires_at) SELECT core.current_school(), x.u, decode(x.h, 'hex'), $3::uuid, "
                "now() + $4::interval FROM unnest($1::uuid[], $2::text[]) AS x(u, h) "
                "RETURNING expires_at",
                4, ids_lit, hashes_lit, req->user_id, life);
        if (!res)
                return FALSE;
        *out_expires = atrium_result_time (res, 0, 0);
        *out_codes = g_steal_pointer (&codes);
        return TRUE;
}

#define PEOPLE_SQL                                                                                 \
        "SELECT u.id, u.username, u.display_name, u.import_class FROM core.users u "               \
        "WHERE u.disabled_at IS NULL AND "
#define PEOPLE_ORDER " ORDER BY lower(u.import_class) NULLS LAST, lower(u.display_name), u.id"

/* The people the body selects (rows id, username, display_name, import_class), or NULL with
 * @error: exactly one selector; unknown ids, groups and empty selections are errors. */
static AtriumResult *
select_people (AtriumRequest *req, JsonObject *in, GError **error)
{
        int n_sel = json_object_has_member (in, "users") + json_object_has_member (in, "group") +
                    json_object_has_member (in, "class");
        if (n_sel != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "give exactly one of users, group, class");
                return NULL;
        }
        g_autoptr (GString) ids = g_string_new ("{");
        guint wanted = 0;
        if (json_object_has_member (in, "class")) {
                const char *cls = json_object_get_string_member (in, "class");
                AtriumResult *res = atrium_sql (
                        req, error, PEOPLE_SQL "lower(u.import_class) = lower($1)" PEOPLE_ORDER, 1,
                        cls);
                if (res && atrium_result_n_rows (res) == 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                     "nobody is in class \"%s\"", cls);
                        g_clear_pointer (&res, atrium_result_free);
                }
                return res;
        }
        if (json_object_has_member (in, "group")) {
                const char *g = json_object_get_string_member (in, "group");
                g_autoptr (AtriumResult) on = atrium_sql (
                        req, error, "SELECT 1 FROM core.school_modules WHERE module = 'groups'", 0);
                if (!on)
                        return NULL;
                const AtriumGroupsService *groups =
                        atrium_result_n_rows (on)
                                ? atrium_core_lookup_service (req->core, ATRIUM_GROUPS_SERVICE, 2)
                                : NULL;
                if (!groups) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                     "no module \"groups\" in this school");
                        return NULL;
                }
                g_autofree char *gid = NULL;
                gboolean exists = FALSE;
                if (g_uuid_string_is_valid (g)) {
                        gid = g_strdup (g);
                        if (!groups->group_exists (req->tx, gid, &exists, error))
                                return NULL;
                } else {
                        if (!groups->group_by_slug (req->tx, g, &gid, error))
                                return NULL;
                        exists = gid != NULL;
                }
                if (!exists) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no group %s", g);
                        return NULL;
                }
                g_auto (GStrv) members = groups->members_of (req->tx, gid, error);
                if (!members)
                        return NULL;
                for (char **m = members; *m; m++)
                        g_string_append_printf (ids, "%s%s", m == members ? "" : ",", *m);
        } else {
                JsonArray *a = json_object_get_array_member (in, "users");
                wanted = json_array_get_length (a);
                for (guint i = 0; i < wanted; i++)
                        g_string_append_printf (ids, "%s%s", i ? "," : "",
                                                json_array_get_string_element (a, i));
        }
        g_string_append_c (ids, '}');
        AtriumResult *res = atrium_sql (
                req, error, PEOPLE_SQL "u.id = ANY ($1::uuid[])" PEOPLE_ORDER, 1, ids->str);
        if (!res)
                return NULL;
        guint got = atrium_result_n_rows (res);
        if (wanted && got != wanted) {
                /* Another school's person is not there for this one (RLS): the same 404. */
                JsonArray *a = json_object_get_array_member (in, "users");
                for (guint i = 0; i < wanted; i++) {
                        const char *id = json_array_get_string_element (a, i);
                        gboolean found = FALSE;
                        for (guint r = 0; r < got && !found; r++)
                                found = g_str_equal (atrium_result_value (res, r, 0), id);
                        if (!found) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                             "/users/%u: no user %s (or disabled)", i, id);
                                break;
                        }
                }
                atrium_result_free (res);
                return NULL;
        }
        if (got == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE,
                             "the group has no members who could sign in");
                atrium_result_free (res);
                return NULL;
        }
        return res;
}

static gboolean
create_codes (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        int days = (int) json_object_get_int_member_with_default (in, "valid_days", 14);
        g_autoptr (AtriumResult) people = select_people (req, in, error);
        if (!people)
                return FALSE;
        guint n = atrium_result_n_rows (people);
        if (n > MAX_PEOPLE) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNPROCESSABLE,
                             "%u people selected; at most %d per request", n, MAX_PEOPLE);
                return FALSE;
        }
        g_autoptr (GPtrArray) ids = g_ptr_array_new ();
        for (guint i = 0; i < n; i++)
                g_ptr_array_add (ids, (gpointer) atrium_result_value (people, i, 0));
        g_autoptr (GPtrArray) codes = NULL;
        g_autofree char *expires = NULL;
        if (!atrium_activation_issue (req, ids, days, &codes, &expires, error))
                return FALSE;
        g_autoptr (AtriumResult) school = atrium_sql (
                req, error, "SELECT slug, name FROM core.schools WHERE id = core.current_school()",
                0);
        if (!school)
                return FALSE;
        JsonObject *d = json_object_new ();
        json_object_set_int_member (d, "count", n);
        json_object_set_int_member (d, "valid_days", days);
        atrium_audit (req, "activation_codes.created", NULL, atrium_json_object_node (d));

        AtriumCodeLetters letters = {
                .school_slug = atrium_result_value (school, 0, 0),
                .school_name = atrium_result_value (school, 0, 1),
                .people = people,
                .codes = codes,
                .expires_at = expires,
                .portal_url = req->core->config->public_url,
        };
        const char *accept = req->core->host->request_header (req, "accept");
        if (accept && strstr (accept, "text/csv")) {
                g_autoptr (GBytes) csv = atrium_code_letters_csv (&letters);
                req->core->host->respond_bytes (req, 201, "text/csv; charset=utf-8", csv);
        } else if (accept && strstr (accept, "text/html")) {
                g_autoptr (GBytes) html = atrium_code_letters_html (&letters);
                req->core->host->respond_bytes (req, 201, "text/html; charset=utf-8", html);
        } else {
                req->core->host->respond_json (req, 201, atrium_code_letters_json (&letters));
        }
        req->core->host->response_header (req, "Cache-Control", "no-store");
        return TRUE;
}

static gboolean
activate (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *school = json_object_get_string_member (in, "school");
        const char *username = json_object_get_string_member (in, "username");
        const char *password = json_object_get_string_member (in, "new_password");
        if (!atrium_password_policy (password, username, error))
                return FALSE;
        g_autofree char *account_key = g_strdup_printf ("activate:%s/%s", school, username);
        g_autofree char *addr_key = atrium_throttle_addr_key (req);
        /* The two reads before the hash are each a whole READ ONLY transaction, as the
         * sign-in's (auth.c): nothing is left open across the hash and no COMMIT costs a round
         * trip of its own; what follows them writes. */
        atrium_tx_set_whole (req->tx, TRUE);
        int wait = atrium_throttle_wait (req, account_key, addr_key, error);
        if (wait < 0)
                return FALSE;
        if (wait > 0)
                return atrium_throttle_refuse (req, wait);

        g_autofree char *hex = code_hash_hex (json_object_get_string_member (in, "code"));
        g_autofree char *hash = g_strconcat ("\\x", hex, NULL);
        g_autoptr (AtriumResult) found = atrium_sql (
                req, error,
                "SELECT school_id, user_id, code_id, disabled FROM core.activation_find($1, $2, "
                "$3::bytea)",
                3, school, username, hash);
        if (!found)
                return FALSE;
        atrium_tx_set_whole (req->tx, FALSE);
        gboolean hit = atrium_result_n_rows (found) == 1 && atrium_result_value (found, 0, 2);
        const char *school_id =
                atrium_result_n_rows (found) ? atrium_result_value (found, 0, 0) : NULL;
        g_free (req->school_id);
        req->school_id = g_strdup (school_id);
        if (!hit || g_strcmp0 (atrium_result_value (found, 0, 3), "t") == 0) {
                if (!hit && !atrium_throttle_fail (req, account_key, addr_key, error))
                        return FALSE;
                JsonObject *d = json_object_new ();
                json_object_set_string_member (d, "username", username);
                atrium_audit (req, hit ? "auth.activation_disabled" : "auth.activation_failed",
                              NULL, atrium_json_object_node (d));
                atrium_respond_problem_commit (
                        req, ATRIUM_ERROR_UNAUTHENTICATED,
                        hit ? "this account is disabled; ask the school's administrators"
                            : "wrong school, username or activation code, or the code expired "
                              "or was used");
                return TRUE;
        }
        const char *user_id = atrium_result_value (found, 0, 1);
        /* The new password's hash, with no transaction open meanwhile: what follows is a new
         * transaction, which spends the code only if nobody did in between. */
        g_autofree char *phc = atrium_password_hash (password);
        g_autoptr (AtriumResult) set =
                atrium_sql (req, error,
                            "SELECT set_config('atrium.school_id', $1, true), "
                            "set_config('atrium.user_id', $2, true)",
                            2, school_id, user_id);
        if (!set)
                return FALSE;
        g_free (req->user_id);
        req->user_id = g_strdup (user_id);
        /* Single use: of two redemptions at once, the second waits for the first's row lock
         * and then finds the code used. */
        g_autoptr (AtriumResult) used =
                atrium_sql (req, error,
                            "UPDATE core.activation_codes SET used_at = now() WHERE id = $1::uuid "
                            "AND used_at IS NULL",
                            1, atrium_result_value (found, 0, 2));
        if (!used)
                return FALSE;
        if (atrium_result_affected (used) != 1) {
                atrium_respond_problem_commit (req, ATRIUM_ERROR_UNAUTHENTICATED,
                                               "this activation code was used");
                return TRUE;
        }
        g_autoptr (AtriumResult) cl =
                atrium_sql (req, error, "SELECT core.throttle_clear($1)", 1, account_key);
        if (!cl || !atrium_password_store_hash (req, user_id, phc, FALSE, NULL, error))
                return FALSE;
        atrium_audit (req, "auth.activated", user_id, NULL);
        return atrium_auth_start_session (req, school_id, user_id, username, NULL, NULL, error);
}

void
atrium_activation_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST",
                 .path = "/api/v1/schools/{school}/activation-codes", .permission = "users.manage",
                 .summary = "Issue activation codes for a class, a group or a list of people "
                            "(shown once: JSON, or CSV with Accept: text/csv, or printable "
                            "letters with Accept: text/html)",
                 .request_schema = create_schema,
                 .response_schema =
                         "{\"type\":\"object\",\"properties\":{\"school\":{\"type\":\"object\","
                         "\"properties\":{\"slug\":{\"type\":\"string\"},\"name\":{\"type\":"
                         "\"string\"}}},\"expires_at\":{\"type\":\"string\",\"format\":"
                         "\"date-time\"},\"items\":{\"type\":\"array\",\"items\":{\"type\":"
                         "\"object\",\"properties\":{\"user_id\":{\"type\":\"string\",\"format\":"
                         "\"uuid\"},\"username\":{\"type\":\"string\"},\"display_name\":{"
                         "\"type\":\"string\"},\"class\":{\"type\":[\"string\",\"null\"]},"
                         "\"code\":{\"type\":\"string\"}}}}}}",
                 .response_type = "text/csv, text/html", .success_status = 201,
                 .handler = create_codes},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/auth/activate",
                 .flags = ATRIUM_ROUTE_PUBLIC | ATRIUM_ROUTE_SLOW,
                 .summary = "Redeem an activation code: set the first password and sign in",
                 .request_schema = activate_schema, .response_schema = atrium_sign_in_answer,
                 .handler = activate},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
