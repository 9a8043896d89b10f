/* SPDX-License-Identifier: Apache-2.0 */
/* shares.c - read-only share links to one file.
 *
 * POST .../{path}?action=share makes one (files.share, and the caller must read the file);
 * GET /shares lists the caller's, DELETE /shares/{id} revokes one. The public download,
 * GET /api/v1/files/share/{token}, needs no account: the token (32 bytes from libgcrypt,
 * base64url) is shown once and only its SHA-256 is stored; files.enter_share() resolves it
 * and enters its school. A link with a password asks for it with HTTP Basic authentication
 * (any user name), so a browser prompts for it, checked with Argon2id by the host, which
 * remembers a success for a minute (a class downloading one protected worksheet costs a host
 * one hash, not one per pupil). Wrong passwords are counted per link with the sign-in
 * throttle (core.throttle_*(): SHARE_LIMIT in SHARE_WINDOW, then 429 with Retry-After), so a
 * forwarded link's password cannot be guessed at the hashing rate; no transaction is open
 * while the hash runs. A link ends when it expires, is revoked, its file goes to the trash or
 * its creator is deleted. */
#include "files-private.h"

#include <string.h>

#include "atrium/crypto.h"

#define TOKEN_BYTES 32
#define DEFAULT_EXPIRY (7 * 86400)
#define MAX_EXPIRY (365 * 86400)
#define SHARE_LIMIT "10"
#define SHARE_WINDOW "15 minutes"

static char *
token_hash (const char *token)
{
        return atrium_digest_hex (GCRY_MD_SHA256, token, strlen (token));
}

gboolean
files_share_create (AtriumRequest *req, const FilesSpace *sp, const FilesNode *node,
                    JsonObject *body, GError **error)
{
        if (!files_host->request_has_permission (req, "files.share"))
                return files_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                   "permission files.share is required");
        if (!g_str_equal (node->kind, "file"))
                return files_fail (error, ATRIUM_ERROR_INVALID, "only files can be shared");
        gint64 seconds = DEFAULT_EXPIRY;
        JsonNode *in = json_object_get_member (body, "expires_in");
        JsonNode *at = json_object_get_member (body, "expires_at");
        JsonNode *pw = json_object_get_member (body, "password");
        if (in && at)
                return files_fail (error, ATRIUM_ERROR_INVALID,
                                   "give expires_in or expires_at, not both");
        if (in) {
                if (!JSON_NODE_HOLDS_VALUE (in) || json_node_get_value_type (in) != G_TYPE_INT64)
                        return files_fail (error, ATRIUM_ERROR_INVALID,
                                           "expires_in must be a whole number of seconds");
                seconds = json_node_get_int (in);
        } else if (at) {
                g_autoptr (GDateTime) when =
                        JSON_NODE_HOLDS_VALUE (at) &&
                                        json_node_get_value_type (at) == G_TYPE_STRING
                                ? g_date_time_new_from_iso8601 (json_node_get_string (at), NULL)
                                : NULL;
                if (!when)
                        return files_fail (error, ATRIUM_ERROR_INVALID,
                                           "expires_at must be an RFC 3339 date-time with an "
                                           "offset");
                seconds = g_date_time_to_unix (when) - g_get_real_time () / G_USEC_PER_SEC;
        }
        if (seconds < 60 || seconds > MAX_EXPIRY)
                return files_fail (error, ATRIUM_ERROR_INVALID,
                                   "a link lasts from one minute to 365 days");
        g_autofree char *password_hash = NULL;
        if (pw) {
                const char *p = JSON_NODE_HOLDS_VALUE (pw) &&
                                                json_node_get_value_type (pw) == G_TYPE_STRING
                                        ? json_node_get_string (pw)
                                        : NULL;
                if (!p || strlen (p) < 4 || strlen (p) > 200)
                        return files_fail (error, ATRIUM_ERROR_INVALID,
                                           "password must be a string of 4 to 200 bytes");
                password_hash = files_host->password_hash (p);
                if (!password_hash)
                        return files_fail (error, ATRIUM_ERROR_INTERNAL, "hashing failed");
        }
        g_autofree char *token = atrium_random_token (TOKEN_BYTES);
        g_autofree char *hash = token_hash (token);
        g_autofree char *secs = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);
        AtriumResult *res = files_sql (
                req, error,
                "INSERT INTO files.shares (school_id, node_id, token_hash, password_hash, "
                "expires_at, created_by) VALUES (core.current_school(), $1::uuid, $2, $3, "
                "now() + $4::bigint * interval '1 second', $5::uuid) RETURNING id, "
                "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                5, node->id, hash, password_hash, secs, files_host->request_user_id (req));
        if (!res)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", files_host->result_value (res, 0, 0));
        json_object_set_string_member (o, "token", token);
        g_autofree char *url = g_strconcat ("/api/v1/files/share/", token, NULL);
        json_object_set_string_member (o, "url", url);
        json_object_set_string_member (o, "expires_at", files_host->result_value (res, 0, 1));
        json_object_set_boolean_member (o, "has_password", password_hash != NULL);
        json_object_set_string_member (o, "space", sp->label);
        json_object_set_string_member (o, "path", node->path);
        files_host->result_free (res);
        files_host->respond_json (req, 201, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_list (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (files_host, req, "u", &page, error))
                return FALSE;
        AtriumResult *res = files_sql (
                req, error,
                "SELECT s.id, CASE n.space_type WHEN 'user' THEN 'home' ELSE 'groups/' || "
                "n.space_id END AS space, n.path, n.trash_id IS NOT NULL AS in_trash, "
                "s.password_hash IS NOT NULL AS has_password, "
                "to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS "
                "expires_at, s.expires_at <= now() AS expired, "
                "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS "
                "created_at FROM files.shares s JOIN files.nodes n ON n.school_id = s.school_id "
                "AND n.id = s.node_id WHERE s.created_by = $1::uuid AND "
                "s.id > $2::uuid ORDER BY s.id LIMIT (SELECT $3::int)",
                3, files_host->request_user_id (req), atrium_page_after (&page, 0, ATRIUM_UUID_MIN),
                page.fetch);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (files_host, req, &page, res, NULL, 1, 0);
        return TRUE;
}

static gboolean
handle_revoke (AtriumRequest *req, gpointer data, GError **error)
{
        const char *id = files_host->request_param (req, "share_id");
        if (!g_uuid_string_is_valid (id))
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no share link %s", id);
        AtriumResult *res = files_sql (
                req, error,
                "DELETE FROM files.shares WHERE id = $1::uuid AND (created_by = $2::uuid OR "
                "$3::boolean) RETURNING id",
                3, id, files_host->request_user_id (req),
                files_host->request_has_permission (req, "files.manage") ? "true" : "false");
        if (!res)
                return FALSE;
        int n = files_host->result_n_rows (res);
        files_host->result_free (res);
        if (n == 0)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no share link %s", id);
        files_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

/* "Basic base64(user:password)" -> password (any user name), or NULL. */
static char *
basic_password (AtriumRequest *req)
{
        const char *auth = files_host->request_header (req, "authorization");
        if (!auth || g_ascii_strncasecmp (auth, "Basic ", 6) != 0)
                return NULL;
        gsize len = 0;
        g_autofree guchar *raw = g_base64_decode (auth + 6, &len);
        if (!raw || memchr (raw, '\0', len))
                return NULL;
        const char *colon = memchr (raw, ':', len);
        if (!colon)
                return NULL;
        return g_strndup (colon + 1, len - (gsize) ((const guchar *) colon + 1 - raw));
}

/* The link's password, given with HTTP Basic (any user name), against @phc; wrong ones count
 * against the link (@hash: its token's SHA-256). */
static gboolean
share_password_ok (AtriumRequest *req, const char *hash, const char *phc, GError **error)
{
        g_autofree char *key = g_strconcat ("share:", hash, NULL);
        AtriumResult *res = files_sql (
                req, error, "SELECT core.throttle_check($1, " SHARE_LIMIT ", $2::interval)", 2, key,
                SHARE_WINDOW);
        if (!res)
                return FALSE;
        gint64 wait = g_ascii_strtoll (files_host->result_value (res, 0, 0), NULL, 10);
        files_host->result_free (res);
        if (wait > 0) {
                g_autofree char *retry = g_strdup_printf ("%" G_GINT64_FORMAT, wait);
                files_host->response_header (req, "Retry-After", retry);
                return files_fail (error, ATRIUM_ERROR_RATE_LIMITED,
                                   "too many wrong passwords for this link; try again later");
        }
        g_autofree char *given = basic_password (req);
        /* Nothing waits on the hash (tens of milliseconds of CPU). */
        if (given && !files_host->request_tx_commit (req, error))
                return FALSE;
        if (given && files_host->password_verify (phc, given))
                return TRUE;
        files_host->response_header (req, "WWW-Authenticate",
                                     "Basic realm=\"Atrium share\", charset=\"UTF-8\"");
        if (given) {
                /* Counted even though the answer is an error: committed before it. */
                if (!atrium_done (files_host, files_sql (req, error,
                                                         "SELECT core.throttle_fail($1, "
                                                         "$2::interval)",
                                                         2, key, SHARE_WINDOW)) ||
                    !files_host->request_tx_commit (req, error))
                        return FALSE;
        }
        return files_fail (error, ATRIUM_ERROR_UNAUTHENTICATED,
                           "this link needs its password (HTTP Basic authentication, any user "
                           "name)");
}

static gboolean
handle_public (AtriumRequest *req, gpointer data, GError **error)
{
        const char *token = files_host->request_param (req, "token");
        if (!token || strlen (token) < 20 || strlen (token) > 100)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such share link");
        g_autofree char *hash = token_hash (token);
        AtriumResult *res = files_sql (
                req, error,
                "SELECT s.password_hash, " FILES_NODE_COLUMNS " FROM files.enter_share($1) s "
                "JOIN files.nodes n USING (school_id) WHERE n.id = s.node_id AND "
                "n.trash_id IS NULL",
                1, hash);
        if (!res)
                return FALSE;
        if (files_host->result_n_rows (res) == 0) {
                files_host->result_free (res);
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "no such share link (it may have expired or been revoked)");
        }
        g_autofree char *phc = g_strdup (files_host->result_value (res, 0, 0));
        /* files_node_from_row reads columns 0..8: shift by one. */
        FilesNode *node = g_new0 (FilesNode, 1);
        node->id = g_strdup (files_host->result_value (res, 0, 1));
        node->path = g_strdup (files_host->result_value (res, 0, 2));
        node->name = g_strdup (files_host->result_value (res, 0, 3));
        node->kind = g_strdup (files_host->result_value (res, 0, 4));
        node->sha256 = g_strdup (files_host->result_value (res, 0, 5));
        node->content_type = g_strdup (files_host->result_value (res, 0, 6));
        node->size = g_ascii_strtoll (files_host->result_value (res, 0, 7), NULL, 10);
        node->modified = g_ascii_strtoll (files_host->result_value (res, 0, 8), NULL, 10);
        node->modified_at = g_strdup (files_host->result_value (res, 0, 9));
        files_host->result_free (res);
        g_autoptr (FilesNode) owned = node;
        if (phc && *phc && !share_password_ok (req, hash, phc, error))
                return FALSE;
        g_autofree char *escaped = g_uri_escape_string (node->name, NULL, FALSE);
        g_autofree char *disposition = g_strdup_printf ("attachment; filename*=UTF-8''%s", escaped);
        files_host->response_header (req, "Content-Disposition", disposition);
        return files_respond_download (req, node, error);
}

gboolean
files_register_share_routes (AtriumPlugin *self, GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/shares", .permission = "files.read",
                 .summary = "Your share links (expired ones too, until revoked), paginated",
                 .flags = ATRIUM_ROUTE_PAGED,
                 .response_schema = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                                    "\"string\",\"format\":\"uuid\"},\"space\":{\"type\":"
                                    "\"string\"},\"path\":{\"type\":\"string\"},\"in_trash\":"
                                    "{\"type\":\"boolean\"},\"has_password\":{\"type\":"
                                    "\"boolean\"},\"expires_at\":{\"type\":\"string\"},"
                                    "\"expired\":{\"type\":\"boolean\"},\"created_at\":"
                                    "{\"type\":\"string\"}}}",
                 .handler = handle_list},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/shares/{share_id}",
                 .permission = "files.read",
                 .summary = "Revoke a share link (yours; any with files.manage)",
                 .success_status = 204, .handler = handle_revoke},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/share/{token}",
                 .scope = ATRIUM_SCOPE_GLOBAL, .flags = ATRIUM_ROUTE_PUBLIC,
                 .summary = "Download a shared file without an account (HTTP Basic for a "
                            "password, 429 after ten wrong ones in 15 minutes; Range and "
                            "conditional requests as for any download)",
                 .response_type = "*/*", .handler = handle_public},
        };
        return atrium_add_routes (files_host, self, routes, G_N_ELEMENTS (routes), error);
}
