/* SPDX-License-Identifier: Apache-2.0 */
/* users.c - a school's people: create, list, read, change, link parents, export (GDPR access)
 * and delete (GDPR erasure).
 *
 * Deleting a person removes their row (sessions and parent links go by foreign key), strips
 * them from the audit log, and publishes user.deleted; every plugin erases its part in its
 * subscriber, which runs before the DELETE answers (events.c). */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

#define ROLES_SCHEMA                                                                            \
        "{\"type\":\"array\",\"uniqueItems\":true,\"maxItems\":5,\"items\":{\"type\":\"string\","  \
        "\"enum\":[\"admin\",\"teacher\",\"student\",\"parent\",\"staff\"]}}"

static const char user_schema[] =
        "{\"type\":\"object\","
        "\"required\":[\"username\",\"display_name\",\"roles\"],\"properties\":{"
        "\"username\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9._-]{2,64}$\"},"
        "\"display_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"password\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":1024},"
        "\"roles\":" ROLES_SCHEMA ","
        "\"email\":{\"type\":[\"string\",\"null\"],\"minLength\":3,\"maxLength\":254,"
        "\"pattern\":\"^[^@[:space:]]+@[^@[:space:]]+$\",\"description\":\"an address outside "
        "the school (a parent's, say) where a forgotten password's reset link is mailed "
        "(users.manage)\"},"
        "\"external_id\":{\"type\":[\"string\",\"null\"],\"minLength\":1,\"maxLength\":200}}}";

static const char user_patch_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"username\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9._-]{2,64}$\"},"
        "\"display_name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
        "\"password\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":1024},"
        "\"current_password\":{\"type\":\"string\",\"maxLength\":1024},"
        "\"roles\":" ROLES_SCHEMA ","
        "\"disabled\":{\"type\":\"boolean\",\"description\":\"true: cannot sign in, "
        "sessions and tokens revoked, everything kept (users.manage)\"},"
        "\"email\":{\"type\":[\"string\",\"null\"],\"minLength\":3,\"maxLength\":254,"
        "\"pattern\":\"^[^@[:space:]]+@[^@[:space:]]+$\",\"description\":\"an address outside "
        "the school (a parent's, say) where a forgotten password's reset link is mailed "
        "(users.manage)\"},"
        "\"external_id\":{\"type\":[\"string\",\"null\"],\"minLength\":1,\"maxLength\":200}}}";

const char atrium_user_answer[] = "{\"type\":\"object\",\"properties\":{" ATRIUM_USER_PROPS "}}";

#define USER_COLUMNS                                                                                \
        "u.id, u.username, u.display_name, u.roles, u.external_id, u.email, u.disabled_at, "        \
        "u.must_change_password, u.must_enrol_totp, "                                               \
        "EXISTS (SELECT 1 FROM core.totp t WHERE t.school_id = u.school_id AND t.user_id = u.id "   \
        "AND t.enabled) AS totp_enabled, "                                                          \
        "u.created_at, u.updated_at, "                                                              \
        "ARRAY(SELECT l.parent_id FROM core.parent_links l WHERE l.student_id = u.id) AS parents, " \
        "ARRAY(SELECT l.student_id FROM core.parent_links l WHERE l.parent_id = u.id) AS children"

/* text[] columns come back as "{a,b}"; the API shows JSON arrays. */
static void
fix_arrays (JsonObject *o)
{
        static const char *const cols[] = {"roles", "parents", "children", NULL};
        for (const char *const *c = cols; *c; c++) {
                const char *v = json_object_get_string_member_with_default (o, *c, NULL);
                if (!v)
                        continue;
                JsonArray *a = json_array_new ();
                if (strlen (v) > 2) {
                        g_autofree char *inner = g_strndup (v + 1, strlen (v) - 2);
                        g_auto (GStrv) parts = g_strsplit (inner, ",", -1);
                        for (char **p = parts; *p; p++)
                                json_array_add_string_element (a, *p);
                }
                json_object_set_array_member (o, *c, a);
        }
}

static JsonNode *
user_row (const AtriumResult *res, int row)
{
        JsonNode *n = atrium_result_row_json (res, row);
        fix_arrays (json_node_get_object (n));
        return n;
}

static char *
roles_literal (JsonArray *roles)
{
        GString *s = g_string_new ("{");
        for (guint i = 0; roles && i < json_array_get_length (roles); i++)
                g_string_append_printf (s, "%s%s", i ? "," : "",
                                        json_array_get_string_element (roles, i));
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

/* The signed-in user with their school ({slug, name}) in one statement: GET /api/v1/me, the
 * busiest read of all. It names the caller by core.current_user_id(), not by req->user_id, so
 * it can travel with the identity check (ATRIUM_ROUTE_EARLY_QUERY). Returns NULL with no
 * error when the caller is not a user (an operator). */
JsonNode *
atrium_me_json (AtriumRequest *req, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT " USER_COLUMNS ", s.slug AS school_slug, s.name AS school_name "
                "FROM core.users u JOIN core.schools s ON s.id = u.school_id "
                "WHERE u.id = core.current_user_id()",
                0);
        if (!res || atrium_result_n_rows (res) == 0)
                return NULL;
        JsonNode *n = user_row (res, 0);
        JsonObject *o = json_node_get_object (n);
        JsonObject *school = json_object_new ();
        json_object_set_string_member (school, "slug",
                                       json_object_get_string_member (o, "school_slug"));
        json_object_set_string_member (school, "name",
                                       json_object_get_string_member (o, "school_name"));
        json_object_remove_member (o, "school_slug");
        json_object_remove_member (o, "school_name");
        json_object_set_object_member (o, "school", school);
        return n;
}

JsonNode *
atrium_user_json (AtriumRequest *req, const char *id, GError **error)
{
        if (!atrium_valid_uuid_or_404 (id, "user", error))
                return NULL;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "SELECT " USER_COLUMNS " FROM core.users u WHERE u.id = $1::uuid", 1,
                id);
        if (!res)
                return NULL;
        if (atrium_result_n_rows (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no user %s", id);
                return NULL;
        }
        return user_row (res, 0);
}

static gboolean
create_user (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        JsonObject *in = json_node_get_object (req->json);
        const char *password = json_object_get_string_member_with_default (in, "password", NULL);
        g_autofree char *hash = password ? atrium_password_hash (password) : NULL;
        g_autofree char *roles = roles_literal (json_object_get_array_member (in, "roles"));
        g_autoptr (AtriumResult) ins = atrium_sql (
                req, error,
                "INSERT INTO core.users (school_id, username, display_name, password_hash, roles, "
                "external_id, email) VALUES ($1::uuid, $2, $3, $4, $5::text[], $6, $7) RETURNING id",
                7, req->school_id, json_object_get_string_member (in, "username"),
                json_object_get_string_member (in, "display_name"), hash, roles,
                json_object_get_string_member_with_default (in, "external_id", NULL),
                json_object_get_string_member_with_default (in, "email", NULL));
        if (!ins) {
                if (g_error_matches (*error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT))
                        g_prefix_error (error, "username or external_id already in use: ");
                return FALSE;
        }
        const char *id = atrium_result_value (ins, 0, 0);
        JsonNode *user = atrium_user_json (req, id, error);
        if (!user)
                return FALSE;
        atrium_audit (req, "user.created", id, NULL);
        core->host->respond_json (req, 201, user);
        return TRUE;
}

static gboolean
list_users (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (core->host, req, "su", &page, error))
                return FALSE;
        const char *role = atrium_request_query (req, "role");
        const char *q = atrium_request_query (req, "q");
        /* Both checked by the host against list_query (a known role, q of at most 200
         * characters). */
        /* Keyset on (lower(display_name), id), matching the users_by_name index. The search
         * escapes LIKE's wildcards so "%" finds a percent sign. */
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT " USER_COLUMNS ", lower(u.display_name) AS sort_key FROM core.users u "
                "WHERE ($1::text IS NULL OR $1 = ANY (u.roles)) "
                "AND ($2::text IS NULL OR u.display_name ILIKE '%' || "
                "replace(replace(replace($2, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' "
                "OR u.username ILIKE '%' || "
                "replace(replace(replace($2, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                "AND (lower(u.display_name), u.id) > ($3, $4::uuid) "
                "ORDER BY lower(u.display_name), u.id LIMIT (SELECT $5::int)",
                5, role, q, atrium_page_after (&page, 0, ""),
                atrium_page_after (&page, 1, ATRIUM_UUID_MIN), page.fetch);
        if (!res)
                return FALSE;
        int rows = atrium_result_n_rows (res);
        JsonArray *items = json_array_new ();
        for (int i = 0; i < rows && i < page.limit; i++) {
                JsonNode *u = user_row (res, i);
                json_object_remove_member (json_node_get_object (u), "sort_key");
                json_array_add_element (items, u);
        }
        /* The keyset: sort_key (the last column) and id (the first). */
        g_autofree char *next =
                atrium_page_next (core->host, &page, res, 2, atrium_result_n_cols (res) - 1, 0);
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, items);
        core->host->respond_page (req, n, next);
        return TRUE;
}

static gboolean
is_self (AtriumRequest *req, const char *id)
{
        return req->user_id && id && g_str_equal (req->user_id, id);
}

static gboolean
may (AtriumRequest *req, const char *permission)
{
        return req->operator_id || atrium_perm_set_has (req->permissions, permission);
}

/* Whether the caller is user @id or holds @permission; FORBIDDEN otherwise. */
static gboolean
self_or_may (AtriumRequest *req, const char *id, const char *permission, GError **error)
{
        if (is_self (req, id) || may (req, permission))
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN, "permission %s is required",
                     permission);
        return FALSE;
}

/* Answers @status with user @id as the API shows it. */
static gboolean
respond_user (AtriumRequest *req, guint status, const char *id, GError **error)
{
        JsonNode *u = atrium_user_json (req, id, error);
        if (!u)
                return FALSE;
        req->core->host->respond_json (req, status, u);
        return TRUE;
}

static gboolean
get_user (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        return self_or_may (req, id, "users.read", error) && respond_user (req, 200, id, error);
}

/* Disables or enables user @id as a leaver's import does (user-import.c): a disabled person
 * cannot sign in, their sessions and tokens end at once, and all of theirs stays. Audited
 * only when it changes something. */
static gboolean
set_disabled (AtriumRequest *req, const char *id, gboolean disable, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "UPDATE core.users SET disabled_at = CASE WHEN $2::boolean THEN now() END, "
                "updated_at = now() WHERE id = $1::uuid AND (disabled_at IS NULL) = $2::boolean "
                "RETURNING id",
                2, id, disable ? "true" : "false");
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 0)
                return TRUE;
        if (disable) {
                g_autoptr (AtriumResult) rev = atrium_sql (
                        req, error, "SELECT core.revoke_user_sessions($1::uuid, $2::uuid)", 2,
                        req->school_id, id);
                if (!rev)
                        return FALSE;
        }
        atrium_audit (req, disable ? "user.disabled" : "user.enabled", id, NULL);
        return TRUE;
}

static gboolean
patch_user (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = g_hash_table_lookup (req->params, "id");
        JsonObject *in = json_node_get_object (req->json);
        gboolean manager = may (req, "users.manage");
        if (!manager) {
                /* People may change their own display name and password (with the current
                 * one); everything else is the admins'. */
                gboolean own_fields = !json_object_has_member (in, "roles") &&
                                      !json_object_has_member (in, "username") &&
                                      !json_object_has_member (in, "disabled") &&
                                      !json_object_has_member (in, "external_id") &&
                                      !json_object_has_member (in, "email");
                if (!is_self (req, id) || !own_fields) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                                     "permission users.manage is required");
                        return FALSE;
                }
        }
        if (!atrium_valid_uuid_or_404 (id, "user", error))
                return FALSE;
        gboolean disable_given = json_object_has_member (in, "disabled");
        gboolean disable = disable_given && json_object_get_boolean_member (in, "disabled");
        if (disable && is_self (req, id)) {
                /* The one admin of a school would lock everyone out of its administration. */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                             "you cannot disable your own account");
                return FALSE;
        }
        const char *password = json_object_get_string_member_with_default (in, "password", NULL);
        if (password && !manager) {
                /* Oneself (checked above): as POST /me/password does, throttled, with no
                 * transaction open while it hashes. */
                int own = atrium_password_check_own (
                        req,
                        json_object_get_string_member_with_default (in, "current_password", NULL),
                        password, error);
                if (own <= 0)
                        return own == 0;
        }
        g_autofree char *hash = password ? atrium_password_hash (password) : NULL;
        JsonArray *roles_in = json_object_has_member (in, "roles")
                                      ? json_object_get_array_member (in, "roles")
                                      : NULL;
        g_autofree char *roles = roles_in ? roles_literal (roles_in) : NULL;
        gboolean ext_given = json_object_has_member (in, "external_id");
        gboolean email_given = json_object_has_member (in, "email");
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "UPDATE core.users SET username = coalesce($2, username), "
                "display_name = coalesce($3, display_name), roles = coalesce($4::text[], roles), "
                "external_id = CASE WHEN $6::boolean THEN $5 ELSE external_id END, "
                "email = CASE WHEN $8::boolean THEN $7 ELSE email END, "
                "updated_at = now() WHERE id = $1::uuid RETURNING id",
                8, id, json_object_get_string_member_with_default (in, "username", NULL),
                json_object_get_string_member_with_default (in, "display_name", NULL), roles,
                ext_given ? json_object_get_string_member_with_default (in, "external_id", NULL)
                          : NULL,
                ext_given ? "true" : "false",
                email_given ? json_object_get_string_member_with_default (in, "email", NULL) : NULL,
                email_given ? "true" : "false");
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no user %s", id);
                return FALSE;
        }
        if (hash) {
                /* The request role may write but never read hashes: set it through the
                 * definer function. A new password ends every session of that person, this one
                 * included. */
                g_autoptr (AtriumResult) set = atrium_sql (
                        req, error, "SELECT core.set_account_hash($1::uuid, $2::uuid, $3)", 3,
                        req->school_id, id, hash);
                if (!set)
                        return FALSE;
                /* A password someone else set is to be changed at the next sign-in
                 * (docs/ACCOUNTS.md); one's own is not. */
                g_autoptr (AtriumResult) mc =
                        atrium_sql (req, error,
                                    "UPDATE core.users SET must_change_password = NOT $2::boolean "
                                    "WHERE id = $1::uuid",
                                    2, id, is_self (req, id) ? "true" : "false");
                if (!mc)
                        return FALSE;
                g_autoptr (AtriumResult) rev = atrium_sql (
                        req, error, "SELECT core.revoke_user_sessions($1::uuid, $2::uuid)", 2,
                        req->school_id, id);
                if (!rev)
                        return FALSE;
                atrium_audit (req, "user.password_changed", id, NULL);
        }
        if (email_given)
                atrium_audit (req, "user.email_changed", id, NULL);
        if (roles)
                atrium_audit (req, "user.roles_changed", id, json_node_ref (json_object_get_member (in, "roles")));
        if (disable_given && !set_disabled (req, id, disable, error))
                return FALSE;
        return respond_user (req, 200, id, error);
}

static gboolean
delete_user (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!atrium_valid_uuid_or_404 (id, "user", error))
                return FALSE;
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error, "DELETE FROM core.users WHERE id = $1::uuid RETURNING username", 1, id);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no user %s", id);
                return FALSE;
        }
        /* The deletion is recorded, the person is not: the entry names no one, and forgetting
         * runs after it, so even deleting oneself leaves no id behind. */
        atrium_audit (req, "user.deleted", NULL, NULL);
        g_autoptr (AtriumResult) forget = atrium_sql (
                req, error, "SELECT core.audit_forget($1::uuid, $2::uuid, $3)", 3, req->school_id,
                id, atrium_result_value (res, 0, 0));
        if (!forget)
                return FALSE;
        JsonObject *ev = json_object_new ();
        json_object_set_string_member (ev, "user_id", id);
        json_object_set_string_member (ev, "school_id", req->school_id);
        if (!atrium_tx_publish (req->tx, "user.deleted", atrium_json_object_node (ev), error))
                return FALSE;
        core->host->respond_json (req, 204, NULL);
        return TRUE;
}

static gboolean
link_parent (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *student = g_hash_table_lookup (req->params, "id");
        const char *parent = g_hash_table_lookup (req->params, "parent_id");
        gboolean add = g_str_equal (req->method, "PUT");
        if (!atrium_valid_uuid_or_404 (student, "user", error) ||
            !atrium_valid_uuid_or_404 (parent, "user", error))
                return FALSE;
        if (add) {
                g_autoptr (AtriumResult) chk = atrium_sql (
                        req, error,
                        "SELECT (SELECT 'student' = ANY (roles) FROM core.users WHERE id = $1::uuid), "
                        "(SELECT 'parent' = ANY (roles) FROM core.users WHERE id = $2::uuid)",
                        2, student, parent);
                if (!chk)
                        return FALSE;
                const char *s = atrium_result_value (chk, 0, 0), *p = atrium_result_value (chk, 0, 1);
                if (!s || !p) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                     "no such student or parent in this school");
                        return FALSE;
                }
                if (s[0] != 't' || p[0] != 't') {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                                     "link a user with role parent to a user with role student");
                        return FALSE;
                }
        }
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                add ? "INSERT INTO core.parent_links (school_id, parent_id, student_id) "
                      "VALUES ($1::uuid, $2::uuid, $3::uuid) ON CONFLICT DO NOTHING"
                    : "DELETE FROM core.parent_links WHERE school_id = $1::uuid "
                      "AND parent_id = $2::uuid AND student_id = $3::uuid",
                3, req->school_id, parent, student);
        if (!res)
                return FALSE;
        if (!add && atrium_result_affected (res) == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no such link");
                return FALSE;
        }
        atrium_audit (req, add ? "user.parent_linked" : "user.parent_unlinked", student, NULL);
        if (!add) {
                core->host->respond_json (req, 204, NULL);
                return TRUE;
        }
        return respond_user (req, 200, student, error);
}

/* The export: the core's part, each module's under its name (its user_export, ABI), and when. */
static const char export_answer[] =
        "{\"type\":\"object\",\"required\":[\"core\",\"exported_at\"],\"properties\":{"
        "\"core\":{\"type\":\"object\",\"required\":[\"user\",\"sessions\",\"audit\"],"
        "\"properties\":{\"user\":{\"type\":\"object\",\"description\":\"as GET "
        "/users/{id} answers\"},\"sessions\":{\"type\":\"array\",\"items\":{\"type\":"
        "\"object\"}},\"audit\":{\"type\":\"array\",\"items\":{\"type\":\"object\"},"
        "\"description\":\"what the person did and what was done to their account, at most "
        "10,000 entries\"}}},\"exported_at\":{\"type\":\"string\",\"format\":"
        "\"date-time\"}},\"additionalProperties\":{\"type\":\"object\",\"description\":"
        "\"each module's part, under the module's name\"}}";

static gboolean
export_user (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *id = g_hash_table_lookup (req->params, "id");
        if (!self_or_may (req, id, "users.export", error))
                return FALSE;
        JsonNode *user = atrium_user_json (req, id, error);
        if (!user)
                return FALSE;
        JsonObject *out = json_object_new ();
        g_autoptr (JsonNode) out_node = atrium_json_object_node (out);
        JsonObject *core_part = json_object_new ();
        json_object_set_member (core_part, "user", user);
        g_autoptr (AtriumResult) sess = atrium_sql (
                req, error,
                "SELECT id, kind, name, client, created_at, last_used_at, expires_at "
                "FROM core.user_sessions($1::uuid)",
                1, id);
        if (!sess)
                return FALSE;
        json_object_set_member (core_part, "sessions", atrium_result_rows_json (sess));
        g_autoptr (AtriumResult) audit = atrium_sql (
                req, error,
                "SELECT at, action, target, client FROM core.audit_log "
                "WHERE actor_id = $1::uuid OR target = $1::text ORDER BY id LIMIT 10000",
                1, id);
        if (!audit)
                return FALSE;
        json_object_set_member (core_part, "audit", atrium_result_rows_json (audit));
        json_object_set_object_member (out, "core", core_part);

        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state != ATRIUM_PLUGIN_RUNNING || !p->desc.user_export)
                        continue;
                JsonObject *part = json_object_new ();
                if (!p->desc.user_export (p, req->tx, id, part, error)) {
                        json_object_unref (part);
                        if (error && *error)
                                g_prefix_error (error, "export from %s: ", p->desc.name);
                        return FALSE;
                }
                json_object_set_object_member (out, p->desc.name, part);
        }
        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        g_autofree char *ts = g_date_time_format_iso8601 (now);
        json_object_set_string_member (out, "exported_at", ts);
        /* On the replica (ATRIUM_ROUTE_REPLICA) this write is refused and goes to the
         * primary (tx.c): the export is recorded either way. */
        atrium_audit (req, "user.exported", id, NULL);
        core->host->respond_json (req, 200, g_steal_pointer (&out_node));
        return TRUE;
}

static const char list_query[] =
        "{\"type\": \"object\", \"properties\": {"
        "\"role\": {\"type\": \"string\", \"enum\": [\"admin\", \"teacher\", \"student\", "
        "\"parent\", \"staff\"], \"description\": \"only people with this role\"}, "
        "\"q\": {\"type\": \"string\", \"maxLength\": 200, \"description\": \"search in "
        "username and display name\"}}}";

void
atrium_user_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/api/v1/schools/{school}/users",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_SLOW,
                 .permission = "users.manage", .summary = "Create a person",
                 .request_schema = user_schema, .response_schema = atrium_user_answer,
                 .success_status = 201, .handler = create_user},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}/users",
                 .scope = ATRIUM_SCOPE_SCHOOL, .flags = ATRIUM_ROUTE_PAGED,
                 .permission = "users.read",
                 .summary = "List people (?role=, ?q= search, paginated)",
                 .query_schema = list_query, .response_schema = atrium_user_answer,
                 .handler = list_users},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/api/v1/schools/{school}/users/{id}",
                 .scope = ATRIUM_SCOPE_SCHOOL, .summary = "One person (users.read, or oneself)",
                 .response_schema = atrium_user_answer, .handler = get_user},
                {ATRIUM_ROUTE_INIT, .method = "PATCH",
                 .path = "/api/v1/schools/{school}/users/{id}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_SLOW,
                 .summary = "Change a person (users.manage; oneself: name and password)",
                 .request_schema = user_patch_schema, .response_schema = atrium_user_answer,
                 .handler = patch_user},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/api/v1/schools/{school}/users/{id}", .scope = ATRIUM_SCOPE_SCHOOL,
                 .permission = "users.manage",
                 .summary = "Erase a person and everything the platform holds about them",
                 .success_status = 204, .handler = delete_user},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/api/v1/schools/{school}/users/{id}/parents/{parent_id}",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "users.manage",
                 .summary = "Link a parent to a student (answers the student)",
                 .response_schema = atrium_user_answer, .handler = link_parent},
                {ATRIUM_ROUTE_INIT, .method = "DELETE",
                 .path = "/api/v1/schools/{school}/users/{id}/parents/{parent_id}",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "users.manage",
                 .summary = "Unlink a parent from a student", .success_status = 204,
                 .handler = link_parent},
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/users/{id}/export", .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_REPLICA,
                 .summary = "Everything the platform holds about a person (GDPR access)",
                 .response_schema = export_answer, .handler = export_user},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
