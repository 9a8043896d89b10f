/* SPDX-License-Identifier: Apache-2.0 */
/* tree.c - folders: listings, POST actions on a path (mkdir, move, copy, share), DELETE into
 * the trash, and the trash itself (list, restore, purge).
 *
 * A move or copy of a folder is one statement over its subtree (paths are materialised); a
 * copy shares the blobs of the files it copies, so it costs rows and quota, not disk. Moving
 * between spaces moves the bytes between their usages, refused (507) when they do not fit. */
#include "files-private.h"

#include <string.h>

/* The subtree of $3 in space ($1, $2): the node itself and everything below it. */
#define SUBTREE_SQL                                                                             \
        "space_type = $1 AND space_id = $2::uuid AND trash_id IS NULL AND "                     \
        "(path = $3 OR left(path, length($3) + 1) = $3 || '/')"

/* ---- listing ---- */

gboolean
files_list_folder (AtriumRequest *req, const FilesSpace *sp, const char *path, GError **error)
{
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (files_host, req, "s", &page, error))
                return FALSE;
        AtriumResult *res = files_sql (
                req, error,
                "SELECT " FILES_NODE_COLUMNS " FROM files.nodes WHERE space_type = $1 AND "
                "space_id = $2::uuid AND parent = $3 AND trash_id IS NULL AND "
                "name > $4 ORDER BY name LIMIT (SELECT $5::int)",
                5, sp->type, sp->id, path, atrium_page_after (&page, 0, ""), page.fetch);
        if (!res)
                return FALSE;
        JsonArray *items = json_array_new ();
        int n = files_host->result_n_rows (res);
        for (int i = 0; i < MIN (n, page.limit); i++) {
                g_autoptr (FilesNode) node = files_node_from_row (res, i);
                json_array_add_element (items, files_node_json (node));
        }
        g_autofree char *next = atrium_page_next (files_host, &page, res, 1, 2);
        files_host->result_free (res);
        files_host->respond_page (req, atrium_array_node (items), next);
        return TRUE;
}

/* ---- mkdir: POST ?action=mkdir, and PUT on a path ending in '/' (transfer.c) ---- */

gboolean
files_make_folder (AtriumRequest *req, FilesSpace *sp, const char *path, GError **error)
{
        if (!*path)
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "the top folder always exists");
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) old = files_node_lookup (tx, sp, path, FALSE, error);
        if (!old && *error)
                return FALSE;
        if (old)
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "%s already exists", path);
        gboolean parents = g_strcmp0 (files_host->request_query (req, "parents"), "true") == 0;
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        if (!files_ensure_folder (req, sp, parent, parents, error))
                return FALSE;
        /* Made here, or a concurrent request made it (or a file of that name) first: then it
         * already exists, as for a request after that one. */
        g_autoptr (FilesNode) node = NULL;
        if (!files_folder_insert (req, sp, path, &node, error))
                return FALSE;
        if (!node)
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "%s already exists", path);
        files_host->respond_json (req, 201, files_node_json (node));
        return TRUE;
}

/* ---- request bodies of the POST actions ---- */

/* The body as a JSON object whose members are all in @allowed (NULL-terminated). The host
 * parsed and checked it against the route's schema (ATRIUM_ROUTE_RAW_BODY with a
 * request_schema); an empty body is an empty object (POST ?action=mkdir takes none). */
static JsonObject *
body_object (AtriumRequest *req, const char *const *allowed, JsonNode **out_root, GError **error)
{
        JsonNode *json = files_host->request_json (req);
        *out_root = json ? json_node_ref (json)
                         : json_node_init_object (json_node_alloc (), json_object_new ());
        JsonObject *o = json_node_get_object (*out_root);
        g_autoptr (GList) members = json_object_get_members (o);
        for (GList *m = members; m; m = m->next)
                if (!g_strv_contains (allowed, m->data)) {
                        files_fail (error, ATRIUM_ERROR_INVALID, "unknown field \"%s\"",
                                    (char *) m->data);
                        return NULL;
                }
        return o;
}

static const char *
string_member (JsonObject *o, const char *name, gboolean required, GError **error)
{
        JsonNode *n = json_object_get_member (o, name);
        if (!n) {
                if (required)
                        files_fail (error, ATRIUM_ERROR_INVALID, "\"%s\" is required", name);
                return NULL;
        }
        if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING) {
                files_fail (error, ATRIUM_ERROR_INVALID, "\"%s\" must be a string", name);
                return NULL;
        }
        return json_node_get_string (n);
}

/* ---- move and copy ---- */

static gboolean
subtree_bytes (AtriumRequest *req, const FilesSpace *sp, const char *path, gint64 *out,
               GError **error)
{
        AtriumResult *res = files_sql (req, error,
                                       "SELECT coalesce(sum(size), 0) FROM files.nodes WHERE "
                                       SUBTREE_SQL,
                                       3, sp->type, sp->id, path);
        if (!res)
                return FALSE;
        *out = g_ascii_strtoll (files_host->result_value (res, 0, 0), NULL, 10);
        files_host->result_free (res);
        return TRUE;
}

gboolean
files_move_copy (AtriumRequest *req, const FilesSpace *src, const FilesNode *node,
                 const FilesSpace *dst_, const char *to, gboolean copy, gboolean parents,
                 FilesNode **out_node, GError **error)
{
        const FilesSpace dst = *dst_;
        if (!*to)
                return files_fail (error, ATRIUM_ERROR_INVALID, "\"to\" must name the new path");
        gboolean same_space = g_str_equal (src->type, dst.type) && g_str_equal (src->id, dst.id);
        if (same_space && (g_str_equal (to, node->path) ||
                           (g_str_has_prefix (to, node->path) && to[strlen (node->path)] == '/')))
                return files_fail (error, ATRIUM_ERROR_CONFLICT,
                                   "cannot %s %s onto itself or into itself",
                                   copy ? "copy" : "move", node->path);
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) existing = files_node_lookup (tx, &dst, to, FALSE, error);
        if (!existing && *error)
                return FALSE;
        if (existing)
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "%s already exists", to);
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (to, &parent, &name);
        gint64 bytes = 0;
        if (!files_ensure_folder (req, &dst, parent, parents, error) ||
            !subtree_bytes (req, src, node->path, &bytes, error))
                return FALSE;
        if (copy || !same_space) {
                if (!files_usage_add (tx, dst.type, dst.id, bytes, error))
                        return FALSE;
        }
        if (!copy && !same_space && !files_usage_add (tx, src->type, src->id, -bytes, error))
                return FALSE;
        const char *me = files_host->request_user_id (req);
        /* New path of a subtree row: the top gets @to, the rest keep what follows the old
         * top's path. $4..$8: destination type, id, path, parent, name. */
        AtriumResult *res;
        if (copy)
                res = files_sql (
                        req, error,
                        "INSERT INTO files.nodes (school_id, space_type, space_id, path, parent, "
                        "name, kind, sha256, size, content_type, created_by, modified_by) "
                        "SELECT school_id, $4, $5::uuid, "
                        "CASE WHEN path = $3 THEN $6 ELSE $6 || substr(path, length($3) + 1) END, "
                        "CASE WHEN path = $3 THEN $7 ELSE $6 || substr(parent, length($3) + 1) END, "
                        "CASE WHEN path = $3 THEN $8 ELSE name END, kind, sha256, size, "
                        "content_type, $9::uuid, $9::uuid FROM files.nodes WHERE " SUBTREE_SQL,
                        9, src->type, src->id, node->path, dst.type, dst.id, to, parent, name, me);
        else
                res = files_sql (
                        req, error,
                        "UPDATE files.nodes SET space_type = $4, space_id = $5::uuid, "
                        "path = CASE WHEN path = $3 THEN $6 ELSE $6 || substr(path, "
                        "length($3) + 1) END, "
                        "parent = CASE WHEN path = $3 THEN $7 ELSE $6 || substr(parent, "
                        "length($3) + 1) END, "
                        "name = CASE WHEN path = $3 THEN $8 ELSE name END, "
                        "modified_by = CASE WHEN path = $3 THEN $9::uuid ELSE modified_by END, "
                        "modified_at = CASE WHEN path = $3 THEN now() ELSE modified_at END "
                        "WHERE " SUBTREE_SQL,
                        9, src->type, src->id, node->path, dst.type, dst.id, to, parent, name, me);
        if (!atrium_done (files_host, res))
                return FALSE;
        g_autoptr (FilesNode) moved = files_node_lookup (tx, &dst, to, FALSE, error);
        if (!moved)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_INTERNAL, "%s vanished", to);
        if (!copy) {
                JsonObject *extra = json_object_new ();
                json_object_set_string_member (extra, "from_space_type", src->type);
                json_object_set_string_member (extra, "from_space_id", src->id);
                json_object_set_string_member (extra, "from_path", node->path);
                if (!files_publish (tx, "files.moved", &dst, to, moved->id, extra, error))
                        return FALSE;
        }
        *out_node = g_steal_pointer (&moved);
        return TRUE;
}

static gboolean
move_or_copy (AtriumRequest *req, FilesSpace *src, const FilesNode *node, JsonObject *body,
              gboolean copy, GError **error)
{
        const char *to_raw = string_member (body, "to", TRUE, error);
        if (!to_raw)
                return FALSE;
        const char *space_name = string_member (body, "space", FALSE, error);
        if (!space_name && *error)
                return FALSE;
        g_auto (FilesSpace) dst = {0};
        if (space_name ? !files_space_from_name (req, space_name, TRUE, &dst, error)
                       : !files_space_open (req, src->type, src->id, TRUE, &dst, error))
                return FALSE;
        g_autofree char *to = files_path_normalize (to_raw, strlen (to_raw), NULL, error);
        if (!to)
                return FALSE;
        gboolean parents = g_strcmp0 (files_host->request_query (req, "parents"), "true") == 0;
        /* A move takes the source and what is below it away from its folder; either way the
         * destination folder gets a member. */
        if ((!copy &&
             !files_rest_unlocked (req, src, node->path,
                                   ATRIUM_DAV_LOCK_PARENT | ATRIUM_DAV_LOCK_BELOW, error)) ||
            !files_rest_unlocked (req, &dst, to, ATRIUM_DAV_LOCK_PARENT, error))
                return FALSE;
        g_autoptr (FilesNode) moved = NULL;
        if (!files_move_copy (req, src, node, &dst, to, copy, parents, &moved, error))
                return FALSE;
        files_host->respond_json (req, copy ? 201 : 200, files_node_json (moved));
        return TRUE;
}

/* ---- POST on a path ---- */

static gboolean
files_handle_post (AtriumRequest *req, gpointer data, GError **error)
{
        const char *action = files_host->request_query (req, "action");
        static const char *const none[] = {NULL};
        static const char *const move_fields[] = {"to", "space", NULL};
        static const char *const share_fields[] = {"expires_in", "expires_at", "password", NULL};
        const char *const *allowed = NULL;
        if (g_strcmp0 (action, "mkdir") == 0)
                allowed = none;
        else if (g_strcmp0 (action, "move") == 0 || g_strcmp0 (action, "copy") == 0)
                allowed = move_fields;
        else if (g_strcmp0 (action, "share") == 0)
                allowed = share_fields;
        else
                return files_fail (error, ATRIUM_ERROR_INVALID,
                                   "?action= must be mkdir, move, copy or share");
        g_autoptr (JsonNode) root = NULL;
        JsonObject *body = body_object (req, allowed, &root, error);
        if (!body)
                return FALSE;
        gboolean share = g_str_equal (action, "share");
        g_auto (FilesSpace) sp = {0};
        gboolean dir = FALSE;
        g_autofree char *path = NULL;
        /* Sharing needs only to read the file; the other actions change the space. */
        if (!files_space_from_request (req, !share, &sp, error) ||
            !(path = files_request_path (req, &dir, error)))
                return FALSE;
        if (g_str_equal (action, "mkdir"))
                return files_rest_unlocked (req, &sp, path, ATRIUM_DAV_LOCK_PARENT, error) &&
                       files_make_folder (req, &sp, path, error);
        if (!*path)
                return files_fail (error, ATRIUM_ERROR_INVALID, "the top folder cannot be %s",
                                   share ? "shared" : "moved or copied");
        g_autoptr (FilesNode) node =
                files_node_lookup (files_host->request_tx (req), &sp, path, TRUE, error);
        if (!node)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s",
                                            path);
        if (share)
                return files_share_create (req, &sp, node, body, error);
        if (!files_check_write_preconditions (req, node, error))
                return FALSE;
        return move_or_copy (req, &sp, node, body, g_str_equal (action, "copy"), error);
}

/* ---- DELETE into the trash ---- */

static JsonNode *
trash_item_json (AtriumResult *res, int row)
{
        JsonNode *n = files_host->result_row_json (res, row);
        JsonObject *o = json_node_get_object (n);
        const char *type = json_object_get_string_member (o, "space_type");
        const char *id = json_object_get_string_member (o, "space_id");
        g_autofree char *space = g_str_equal (type, "user") ? g_strdup ("home")
                                                            : g_strconcat ("groups/", id, NULL);
        json_object_remove_member (o, "space_type");
        json_object_remove_member (o, "space_id");
        json_object_set_string_member (o, "space", space);
        return n;
}

#define TRASH_COLUMNS                                                                           \
        "id, space_type, space_id, path, kind, size, deleted_by, "                              \
        "to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS deleted_at"

gboolean
files_trash_path (AtriumRequest *req, const FilesSpace *sp_, const char *path,
                  gboolean check_preconditions, JsonNode **out_item, GError **error)
{
        const FilesSpace sp = *sp_;
        if (!*path)
                return files_fail (error, ATRIUM_ERROR_INVALID, "the top folder cannot be deleted");
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) node = files_node_lookup (tx, &sp, path, TRUE, error);
        if (!node)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s",
                                            path);
        gint64 bytes = 0;
        if ((check_preconditions && !files_check_write_preconditions (req, node, error)) ||
            !subtree_bytes (req, &sp, path, &bytes, error))
                return FALSE;
        g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, bytes);
        AtriumResult *res = files_sql (
                req, error,
                "WITH t AS (INSERT INTO files.trash (school_id, space_type, space_id, path, kind, "
                "size, deleted_by) VALUES (core.current_school(), $1, $2::uuid, $3, $4, "
                "$5::bigint, $6::uuid) RETURNING *), "
                "u AS (UPDATE files.nodes SET trash_id = (SELECT id FROM t) WHERE " SUBTREE_SQL
                " RETURNING 1) SELECT " TRASH_COLUMNS ", (SELECT count(*) FROM u) AS nodes FROM t",
                6, sp.type, sp.id, path, node->kind, size, files_host->request_user_id (req));
        if (!res)
                return FALSE;
        JsonNode *item = trash_item_json (res, 0);
        g_autofree char *trash_id = g_strdup (files_host->result_value (res, 0, 0));
        files_host->result_free (res);
        JsonObject *extra = json_object_new ();
        json_object_set_string_member (extra, "trash_id", trash_id);
        json_object_set_string_member (extra, "kind", node->kind);
        if (!files_publish (tx, "files.deleted", &sp, path, node->id, extra, error)) {
                json_node_unref (item);
                return FALSE;
        }
        *out_item = item;
        return TRUE;
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (FilesSpace) sp = {0};
        g_autofree char *path = NULL;
        if (!files_space_from_request (req, TRUE, &sp, error) ||
            !(path = files_request_path (req, NULL, error)) ||
            !files_rest_unlocked (req, &sp, path, ATRIUM_DAV_LOCK_PARENT | ATRIUM_DAV_LOCK_BELOW,
                                  error))
                return FALSE;
        JsonNode *item = NULL;
        if (!files_trash_path (req, &sp, path, TRUE, &item, error))
                return FALSE;
        files_host->respond_json (req, 200, item);
        return TRUE;
}

/* ---- the trash ---- */

static gboolean
handle_trash_list (AtriumRequest *req, gpointer data, GError **error)
{
        const char *space = files_host->request_query (req, "space");
        g_auto (FilesSpace) sp = {0};
        if (!files_space_from_name (req, space ? space : "home", FALSE, &sp, error))
                return FALSE;
        /* cursor: (deleted_at, id) of the last item */
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (files_host, req, "tu", &page, error))
                return FALSE;
        AtriumResult *res =
                files_sql (req, error,
                           "SELECT " TRASH_COLUMNS " FROM files.trash WHERE space_type = $1 AND "
                           "space_id = $2::uuid AND (deleted_at, id) < ($3::timestamptz, $4::uuid) "
                           "ORDER BY deleted_at DESC, id DESC LIMIT (SELECT $5::int)",
                           5, sp.type, sp.id, atrium_page_after (&page, 0, "infinity"),
                           atrium_page_after (&page, 1, ATRIUM_UUID_MAX), page.fetch);
        if (!res)
                return FALSE;
        JsonArray *items = json_array_new ();
        int n = files_host->result_n_rows (res);
        for (int i = 0; i < MIN (n, page.limit); i++)
                json_array_add_element (items, trash_item_json (res, i));
        g_autofree char *next = atrium_page_next (files_host, &page, res, 2, 7, 0);
        files_host->result_free (res);
        files_host->respond_page (req, atrium_array_node (items), next);
        return TRUE;
}

/* The trash item @id, if the caller may write its space. */
static AtriumResult *
open_trash_item (AtriumRequest *req, FilesSpace *sp, GError **error)
{
        const char *id = files_host->request_param (req, "trash_id");
        if (!id || !g_uuid_string_is_valid (id)) {
                files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no trash item %s", id ? id : "");
                return NULL;
        }
        AtriumResult *res = files_sql (req, error,
                                       "SELECT " TRASH_COLUMNS " FROM files.trash WHERE "
                                       "id = $1::uuid FOR UPDATE",
                                       1, id);
        if (!res)
                return NULL;
        if (files_host->result_n_rows (res) == 0) {
                files_host->result_free (res);
                files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no trash item %s", id);
                return NULL;
        }
        g_autoptr (GError) denied = NULL;
        if (!files_space_open (req, files_host->result_value (res, 0, 1),
                               files_host->result_value (res, 0, 2), TRUE, sp, &denied)) {
                files_host->result_free (res);
                /* Another's trash does not exist for the caller; a group they only read is
                 * theirs to see but not to change. */
                g_propagate_error (error, g_steal_pointer (&denied));
                return NULL;
        }
        return res;
}

static gboolean
handle_restore (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (FilesSpace) sp = {0};
        AtriumResult *item = open_trash_item (req, &sp, error);
        if (!item)
                return FALSE;
        g_autofree char *id = g_strdup (files_host->result_value (item, 0, 0));
        g_autofree char *path = g_strdup (files_host->result_value (item, 0, 3));
        files_host->result_free (item);
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) existing = files_node_lookup (tx, &sp, path, FALSE, error);
        if (!existing && *error)
                return FALSE;
        if (existing)
                return files_fail (error, ATRIUM_ERROR_CONFLICT,
                                   "%s exists again; move it away first", path);
        /* The folder gets a member back. */
        if (!files_rest_unlocked (req, &sp, path, ATRIUM_DAV_LOCK_PARENT, error))
                return FALSE;
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        if (!files_ensure_folder (req, &sp, parent, TRUE, error) ||
            !atrium_done (files_host, files_sql (req, error,
                                                 "UPDATE files.nodes SET trash_id = NULL WHERE "
                                                 "trash_id = $1::uuid",
                                                 1, id)) ||
            !atrium_done (
                    files_host,
                    files_sql (req, error, "DELETE FROM files.trash WHERE id = $1::uuid", 1, id)))
                return FALSE;
        g_autoptr (FilesNode) node = files_node_lookup (tx, &sp, path, FALSE, error);
        if (!node)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_INTERNAL, "%s vanished", path);
        files_host->respond_json (req, 200, files_node_json (node));
        return TRUE;
}

/* Removes trash item @id for good: its rows, its bytes from the usage. The blobs are left to
 * the sweep (another row may name them). Shared with the expiry in gc.c. */
gboolean files_trash_purge (AtriumTx *tx, const char *id, GError **error);

gboolean
files_trash_purge (AtriumTx *tx, const char *id, GError **error)
{
        AtriumResult *res = files_tx_sql (
                tx, error,
                "WITH gone AS (DELETE FROM files.nodes WHERE trash_id = $1::uuid RETURNING size), "
                "t AS (DELETE FROM files.trash WHERE id = $1::uuid RETURNING space_type, space_id) "
                "SELECT t.space_type, t.space_id, (SELECT coalesce(sum(size), 0) FROM gone) "
                "FROM t",
                1, id);
        if (!res)
                return FALSE;
        gboolean ok = TRUE;
        if (files_host->result_n_rows (res) == 1)
                ok = files_usage_add (tx, files_host->result_value (res, 0, 0),
                                      files_host->result_value (res, 0, 1),
                                      -g_ascii_strtoll (files_host->result_value (res, 0, 2),
                                                        NULL, 10),
                                      error);
        files_host->result_free (res);
        return ok;
}

static gboolean
handle_purge (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (FilesSpace) sp = {0};
        AtriumResult *item = open_trash_item (req, &sp, error);
        if (!item)
                return FALSE;
        g_autofree char *id = g_strdup (files_host->result_value (item, 0, 0));
        files_host->result_free (item);
        if (!files_trash_purge (files_host->request_tx (req), id, error))
                return FALSE;
        files_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define TRASH_ITEM_SCHEMA                                                                          \
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"   \
        "\"space\":{\"type\":\"string\",\"description\":\"home or groups/{group id}\"},"           \
        "\"path\":{\"type\":\"string\"},"                                                          \
        "\"kind\":{\"type\":\"string\",\"enum\":[\"file\",\"folder\"]},"                           \
        "\"size\":{\"type\":\"integer\",\"description\":\"bytes, a folder's with all below it\"}," \
        "\"deleted_by\":{\"type\":[\"string\",\"null\"]},"                                         \
        "\"deleted_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"nodes\":{\"type\":\"integer\",\"description\":\"DELETE: the files and folders it "      \
        "took to the trash\"}}}"
#define POST_SCHEMA                                                                             \
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"                  \
        "\"to\":{\"type\":\"string\",\"description\":\"move/copy: the new path\"},"             \
        "\"space\":{\"type\":\"string\",\"description\":\"move/copy: home or groups/<id> "      \
        "(default: the same space)\"},"                                                         \
        "\"expires_in\":{\"type\":\"integer\",\"description\":\"share: seconds (default 7 "     \
        "days)\"},\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"               \
        "\"password\":{\"type\":\"string\"}}}"

static const char post_query[] =
        "{\"type\": \"object\", \"required\": [\"action\"], \"properties\": {"
        "\"action\": {\"type\": \"string\", \"enum\": [\"mkdir\", \"move\", \"copy\", "
        "\"share\"], \"description\": \"what to do with the path\"}, "
        "\"parents\": " FILES_PARENTS_QUERY "}}";

gboolean
files_register_tree_routes (AtriumPlugin *self, GError **error)
{
        const char *const prefixes[] = {"/home/{path*}", "/groups/{group_id}/{path*}"};
        for (int i = 0; i < 2; i++) {
                const AtriumRoute routes[] = {
                        {ATRIUM_ROUTE_INIT, .method = "POST", .path = prefixes[i],
                         .flags = ATRIUM_ROUTE_RAW_BODY, .permission = "files.read",
                         .summary = "?action=mkdir (no body), move or copy ({\"to\", "
                                    "\"space\"?}; ?parents=true), share ({\"expires_in\"?, "
                                    "\"expires_at\"?, \"password\"?})",
                         .request_schema = POST_SCHEMA, .query_schema = post_query,
                         /* mkdir, move and copy answer the node; share its link. */
                         .response_schema = "{\"type\":\"object\",\"properties\":{" FILES_NODE_PROPS
                                            "," FILES_SHARE_PROPS "}}",
                         .handler = files_handle_post},
                        {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = prefixes[i],
                         .permission = "files.read",
                         .summary = "Move a file or folder to the trash (If-Match honoured)",
                         .response_schema = TRASH_ITEM_SCHEMA, .handler = handle_delete},
                };
                if (!atrium_add_routes (files_host, self, routes, G_N_ELEMENTS (routes), error))
                        return FALSE;
        }
        static const char trash_query[] =
                "{\"type\": \"object\", \"properties\": {\"space\": {\"type\": \"string\", "
                "\"maxLength\": 50, \"description\": \"home (the default) or groups/{group id}\"}}}";
        const AtriumRoute trash[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/trash", .permission = "files.read",
                 .summary = "The trash of ?space= (home, the default, or groups/<id>), newest "
                            "first, paginated",
                 .flags = ATRIUM_ROUTE_PAGED, .query_schema = trash_query,
                 .response_schema = TRASH_ITEM_SCHEMA, .handler = handle_trash_list},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/trash/", .permission = "files.read",
                 .summary = "The same as GET /trash", .flags = ATRIUM_ROUTE_PAGED,
                 .query_schema = trash_query, .response_schema = TRASH_ITEM_SCHEMA,
                 .handler = handle_trash_list},
                {ATRIUM_ROUTE_INIT, .method = "POST", .path = "/trash/{trash_id}/restore",
                 .permission = "files.read",
                 .summary = "Put a trash item back where it was (409 if that path is taken)",
                 .response_schema = FILES_NODE_ANSWER, .handler = handle_restore},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/trash/{trash_id}",
                 .permission = "files.read", .summary = "Delete a trash item for good",
                 .success_status = 204, .handler = handle_purge},
        };
        return atrium_add_routes (files_host, self, trash, G_N_ELEMENTS (trash), error);
}
