/* SPDX-License-Identifier: Apache-2.0 */
/* model.c - what the files plugin's route files share, and the reactions and GDPR export
 * plugin.c registers: lookups, permission checks, events. plugin.c is the wiring; no file here
 * calls it. */
#include "files-private.h"

#include "files-range.h"

/* ---- spaces ---- */

void
files_space_clear (FilesSpace *sp)
{
        g_clear_pointer (&sp->id, g_free);
        g_clear_pointer (&sp->label, g_free);
}

gboolean
files_space_open (AtriumRequest *req, const char *type, const char *id, gboolean write,
                  FilesSpace *out, GError **error)
{
        const char *me = files_host->request_user_id (req);
        gboolean manage = files_host->request_has_permission (req, "files.manage");
        if (g_strcmp0 (type, "user") == 0) {
                /* A home is private: even files.manage does not open another's. */
                if (!me || g_strcmp0 (id, me) != 0)
                        return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such folder");
                out->type = "user";
                out->id = g_strdup (me);
                out->can_write = TRUE;
                out->label = g_strdup ("home");
                return TRUE;
        }
        if (g_strcmp0 (type, "group") != 0 || !id || !g_uuid_string_is_valid (id))
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", id ? id : "");
        AtriumTx *tx = files_host->request_tx (req);
        gboolean exists = FALSE;
        if (!files_groups->group_exists (tx, id, &exists, error))
                return FALSE;
        if (!exists)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", id);
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (me && !files_groups->is_member (tx, id, me, &role, error))
                return FALSE;
        if (role == ATRIUM_GROUP_ROLE_NONE && !manage)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", id);
        out->type = "group";
        out->id = g_strdup (id);
        out->can_write = manage || role == ATRIUM_GROUP_ROLE_OWNER ||
                         (role == ATRIUM_GROUP_ROLE_MEMBER &&
                          files_host->request_has_permission (req, "files.write"));
        out->label = g_strconcat ("groups/", id, NULL);
        if (write && !out->can_write) {
                files_space_clear (out);
                return files_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                   "writing to a group's files needs to own the group, or to be "
                                   "a member holding files.write");
        }
        return TRUE;
}

gboolean
files_space_from_request (AtriumRequest *req, gboolean write, FilesSpace *out, GError **error)
{
        const char *group = files_host->request_param (req, "group_id");
        if (group)
                return files_space_open (req, "group", group, write, out, error);
        const char *me = files_host->request_user_id (req);
        if (!me)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "operators have no home folder; sign in as a user");
        return files_space_open (req, "user", me, write, out, error);
}

gboolean
files_space_from_name (AtriumRequest *req, const char *name, gboolean write, FilesSpace *out,
                       GError **error)
{
        if (g_strcmp0 (name, "home") == 0)
                return files_space_open (req, "user", files_host->request_user_id (req), write, out,
                                         error);
        if (name && g_str_has_prefix (name, "groups/"))
                return files_space_open (req, "group", name + 7, write, out, error);
        return files_fail (error, ATRIUM_ERROR_INVALID,
                           "a space is \"home\" or \"groups/<group id>\", not \"%s\"",
                           name ? name : "");
}

char *
files_request_path (AtriumRequest *req, gboolean *out_dir, GError **error)
{
        const char *raw = files_host->request_param (req, "path");
        if (!raw)
                raw = "";
        return files_path_normalize (raw, strlen (raw), out_dir, error);
}

char *
files_lock_name (const FilesSpace *sp, const char *path)
{
        return *path ? g_strconcat (sp->type, ":", sp->id, "/", path, NULL)
                     : g_strconcat (sp->type, ":", sp->id, NULL);
}

gboolean
files_rest_unlocked (AtriumRequest *req, const FilesSpace *sp, const char *path, guint how,
                     GError **error)
{
        if (!ATRIUM_HOST_HAS (files_host, dav_lock_check))
                return TRUE; /* a host older than 1.5 has no WebDAV, so no locks */
        g_autofree char *canon = files_lock_name (sp, path);
        return files_host->dav_lock_check (req, "files", canon, how, error);
}

/* ---- nodes ---- */

void
files_node_free (FilesNode *n)
{
        if (!n)
                return;
        g_free (n->id);
        g_free (n->path);
        g_free (n->name);
        g_free (n->kind);
        g_free (n->sha256);
        g_free (n->content_type);
        g_free (n->modified_at);
        g_free (n);
}

FilesNode *
files_node_from_row (AtriumResult *res, int row)
{
        FilesNode *n = g_new0 (FilesNode, 1);
        n->id = g_strdup (files_host->result_value (res, row, 0));
        n->path = g_strdup (files_host->result_value (res, row, 1));
        n->name = g_strdup (files_host->result_value (res, row, 2));
        n->kind = g_strdup (files_host->result_value (res, row, 3));
        n->sha256 = g_strdup (files_host->result_value (res, row, 4));
        n->content_type = g_strdup (files_host->result_value (res, row, 5));
        n->size = g_ascii_strtoll (files_host->result_value (res, row, 6), NULL, 10);
        n->modified = g_ascii_strtoll (files_host->result_value (res, row, 7), NULL, 10);
        n->modified_at = g_strdup (files_host->result_value (res, row, 8));
        return n;
}

/* A lookup's answer (NULL: failed, @error set by the query) as its row's node, or NULL. */
static FilesNode *
node_of (AtriumResult *res)
{
        if (!res)
                return NULL;
        FilesNode *n = files_host->result_n_rows (res) ? files_node_from_row (res, 0) : NULL;
        files_host->result_free (res);
        return n;
}

FilesNode *
files_node_lookup (AtriumTx *tx, const FilesSpace *sp, const char *path, gboolean for_update,
                   GError **error)
{
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        AtriumResult *res = files_tx_sql (
                tx, error,
                for_update ? "SELECT " FILES_NODE_COLUMNS " FROM files.nodes WHERE space_type = $1 "
                             "AND space_id = $2::uuid AND " FILES_NODE_BY_PATH ("$3", "$4",
                                                                                "$5") " FOR UPDATE"
                           : "SELECT " FILES_NODE_COLUMNS " FROM files.nodes WHERE space_type = $1 "
                             "AND space_id = $2::uuid AND " FILES_NODE_BY_PATH ("$3", "$4", "$5"),
                5, sp->type, sp->id, path, parent, name);
        return node_of (res);
}

/* files_node_lookup_with_parent's statement: the row's own lookup and its folder's, each by
 * FILES_NODE_BY_PATH's index-friendly condition, told apart by the last column; the space's
 * top ("") is not a row. */
/* clang-format off */
#define NODE_AND_PARENT_SQL(LOCK)                                                                  \
        "WITH f AS (SELECT " FILES_NODE_COLUMNS " FROM files.nodes "                               \
        "WHERE space_type = $1 AND space_id = $2::uuid AND "                                       \
        FILES_NODE_BY_PATH ("$3", "$4", "$5") LOCK "), "                                           \
        "d AS (SELECT " FILES_NODE_COLUMNS " FROM files.nodes "                                    \
        "WHERE $4 <> '' AND space_type = $1 AND space_id = $2::uuid AND "                          \
        FILES_NODE_BY_PATH ("$4", "$6", "$7") ") "                                                 \
        "SELECT f.*, false FROM f UNION ALL SELECT d.*, true FROM d"
/* clang-format on */
static const char node_and_parent_sql[] = NODE_AND_PARENT_SQL ("");
static const char node_and_parent_locked_sql[] = NODE_AND_PARENT_SQL (" FOR UPDATE");
#undef NODE_AND_PARENT_SQL

gboolean
files_node_lookup_with_parent (AtriumTx *tx, const FilesSpace *sp, const char *path,
                               gboolean for_update, FilesNode **out_node, FilesNode **out_parent,
                               GError **error)
{
        g_autofree char *parent = NULL, *name = NULL, *grand = NULL, *pname = NULL;
        files_path_split (path, &parent, &name);
        files_path_split (parent, &grand, &pname);
        AtriumResult *res = files_tx_sql (
                tx, error, for_update ? node_and_parent_locked_sql : node_and_parent_sql, 7,
                sp->type, sp->id, path, parent, name, grand, pname);
        if (!res)
                return FALSE;
        *out_node = *out_parent = NULL;
        for (int i = 0; i < files_host->result_n_rows (res); i++) {
                FilesNode **slot = g_strcmp0 (files_host->result_value (res, i, 9), "t") == 0
                                           ? out_parent
                                           : out_node;
                if (!*slot)
                        *slot = files_node_from_row (res, i);
        }
        files_host->result_free (res);
        return TRUE;
}

FilesNode *
files_node_lookup_home (AtriumTx *tx, const char *path, GError **error)
{
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        AtriumResult *res = files_tx_sql (
                tx, error,
                "SELECT " FILES_NODE_COLUMNS " FROM files.nodes WHERE space_type = 'user' AND "
                "space_id = nullif(current_setting('atrium.user_id', true), '')::uuid AND " FILES_NODE_BY_PATH (
                        "$1", "$2", "$3"),
                3, path, parent, name);
        return node_of (res);
}

char *
files_node_etag (const FilesNode *n)
{
        return n->sha256 ? g_strdup_printf ("\"%s\"", n->sha256) : NULL;
}

JsonNode *
files_node_json (const FilesNode *n)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "id", n->id);
        json_object_set_string_member (o, "name", n->name);
        json_object_set_string_member (o, "path", n->path);
        json_object_set_string_member (o, "kind", n->kind);
        json_object_set_int_member (o, "size", n->size);
        json_object_set_string_member (o, "modified", n->modified_at);
        g_autofree char *etag = files_node_etag (n);
        if (etag)
                json_object_set_string_member (o, "etag", etag);
        else
                json_object_set_null_member (o, "etag");
        if (n->content_type)
                json_object_set_string_member (o, "content_type", n->content_type);
        return atrium_object_node (o);
}

gboolean
files_folder_found (const char *path, const FilesNode *n, GError **error)
{
        if (!*path)
                return TRUE;
        if (n)
                return g_str_equal (n->kind, "folder") ||
                       files_fail (error, ATRIUM_ERROR_CONFLICT, "%s is a file, not a folder",
                                   path);
        return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                           "no folder %s (create it first, or add ?parents=true)", path);
}

gboolean
files_ensure_folder (AtriumRequest *req, const FilesSpace *sp, const char *path, gboolean create,
                     GError **error)
{
        if (!*path)
                return TRUE;
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) n = files_node_lookup (tx, sp, path, FALSE, error);
        if (!n && error && *error)
                return FALSE;
        if (n || !create)
                return files_folder_found (path, n, error);
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        if (!files_ensure_folder (req, sp, parent, TRUE, error))
                return FALSE;
        /* A concurrent request may create the same folder: fine here. */
        g_autoptr (FilesNode) made = NULL;
        return files_folder_insert (req, sp, path, &made, error);
}

gboolean
files_folder_insert (AtriumRequest *req, const FilesSpace *sp, const char *path,
                     FilesNode **out_node, GError **error)
{
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);
        AtriumResult *res = files_sql (
                req, error,
                "INSERT INTO files.nodes (school_id, space_type, space_id, path, parent, name, "
                "kind, created_by, modified_by) VALUES (core.current_school(), $1, $2::uuid, $3, "
                "$4, $5, 'folder', $6::uuid, $6::uuid) ON CONFLICT DO NOTHING RETURNING " FILES_NODE_COLUMNS,
                6, sp->type, sp->id, path, parent, name, files_host->request_user_id (req));
        if (!res)
                return FALSE;
        *out_node = files_host->result_n_rows (res) ? files_node_from_row (res, 0) : NULL;
        files_host->result_free (res);
        return TRUE;
}

/* ---- quotas ---- */

/* The limit of the space ($1 type, $2 id): its own row, else the school's default for that kind
 * of space, else the configured default ($3, configured_quota()). */
#define QUOTA_OF_SPACE                                                                              \
        "coalesce((SELECT bytes FROM files.quotas WHERE space_type = $1 AND space_id = $2::uuid), " \
        "(SELECT bytes FROM files.quotas WHERE space_type = $1 AND space_id IS NULL), $3::bigint)"

static char *
configured_quota (const char *type)
{
        return g_strdup_printf ("%" G_GINT64_FORMAT, g_str_equal (type, "user")
                                                             ? files_settings.user_quota
                                                             : files_settings.group_quota);
}

gboolean
files_quota_get (AtriumTx *tx, const char *type, const char *id, gint64 *out_used, gint64 *out_mail,
                 gint64 *out_limit, GError **error)
{
        g_autofree char *fallback = configured_quota (type);
        /* A home's figure includes the mailbox (mail_bytes, reported by the mail module). */
        AtriumResult *res = files_tx_sql (
                tx, error,
                "SELECT coalesce(u.bytes + u.mail_bytes, 0), coalesce(u.mail_bytes, 0), " QUOTA_OF_SPACE
                " FROM (SELECT) one LEFT JOIN files.usage u "
                "ON u.space_type = $1 AND u.space_id = $2::uuid",
                3, type, id, fallback);
        if (!res)
                return FALSE;
        *out_used = g_ascii_strtoll (files_host->result_value (res, 0, 0), NULL, 10);
        if (out_mail)
                *out_mail = g_ascii_strtoll (files_host->result_value (res, 0, 1), NULL, 10);
        *out_limit = g_ascii_strtoll (files_host->result_value (res, 0, 2), NULL, 10);
        files_host->result_free (res);
        return TRUE;
}

gboolean
files_usage_add (AtriumTx *tx, const char *type, const char *id, gint64 delta, GError **error)
{
        if (delta == 0)
                return TRUE;
        g_autofree char *d = g_strdup_printf ("%" G_GINT64_FORMAT, delta);
        g_autofree char *fallback = configured_quota (type);
        /* One statement, one round trip: the row is made or updated, and locked until commit
         * (which serialises every writer of this space), unless the addition would pass the
         * limit; then nothing is written and no row comes back. A home's figure includes
         * the mailbox (mail_bytes). */
        AtriumResult *res = files_tx_sql (
                tx, error,
                "WITH q AS (SELECT " QUOTA_OF_SPACE " AS quota) "
                "INSERT INTO files.usage AS u (school_id, space_type, space_id, bytes) "
                "SELECT core.current_school(), $1, $2::uuid, greatest($4::bigint, 0) FROM q "
                "WHERE $4::bigint <= q.quota "
                "ON CONFLICT (school_id, space_type, space_id) DO UPDATE "
                "SET bytes = greatest(u.bytes + $4::bigint, 0) WHERE $4::bigint <= 0 OR "
                "u.bytes + u.mail_bytes + $4::bigint <= (SELECT quota FROM q) RETURNING 1",
                4, type, id, fallback, d);
        if (!res)
                return FALSE;
        gboolean fits = files_host->result_n_rows (res) == 1;
        files_host->result_free (res);
        if (fits)
                return TRUE;
        gint64 used, limit;
        if (!files_quota_get (tx, type, id, &used, NULL, &limit, error))
                return FALSE;
        return files_fail (error, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                           "quota exceeded: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                           " bytes used, %" G_GINT64_FORMAT " more do not fit",
                           used, limit, delta);
}

/* ---- events ---- */

gboolean
files_publish (AtriumTx *tx, const char *event, const FilesSpace *sp, const char *path,
               const char *node_id, JsonObject *extra, GError **error)
{
        JsonObject *o = extra ? extra : json_object_new ();
        json_object_set_string_member (o, "space_type", sp->type);
        json_object_set_string_member (o, "space_id", sp->id);
        json_object_set_string_member (o, "path", path);
        if (node_id)
                json_object_set_string_member (o, "node_id", node_id);
        return files_host->publish (tx, event, atrium_object_node (o), error);
}

char *
files_guess_type (const char *name, const guint8 *head, gsize len)
{
        gboolean uncertain = FALSE;
        g_autofree char *type = g_content_type_guess (name, head, len, &uncertain);
        char *mime = type ? g_content_type_get_mime_type (type) : NULL;
        return mime ? mime : g_strdup ("application/octet-stream");
}

/* ---- reactions ---- */

/* A person's home is erased with them (rows now; the blobs become orphans for the sweep);
 * files they put elsewhere stay, without their name; their share links stop working. */
gboolean
files_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                       GError **error)
{
        const char *user = atrium_payload_uuid (payload, "user_id");
        if (!user)
                return TRUE;
        return atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.shares WHERE created_by = $1::uuid", 1,
                                          user)) &&
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.nodes WHERE space_type = 'user' AND "
                                          "space_id = $1::uuid",
                                          1, user)) &&
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.trash WHERE space_type = 'user' AND "
                                          "space_id = $1::uuid",
                                          1, user)) &&
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.usage WHERE space_type = 'user' AND "
                                          "space_id = $1::uuid",
                                          1, user)) &&
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.quotas WHERE space_type = 'user' AND "
                                          "space_id = $1::uuid",
                                          1, user)) &&
               /* The home's top folder keeps its dead properties under "user:<id>" (the
                * nodes' go by the trigger of schema/0003_dav_properties.sql). */
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM core.dav_properties WHERE tree = 'files' "
                                          "AND resource_id = 'user:' || $1",
                                          1, user)) &&
               atrium_done (
                       files_host,
                       files_tx_sql (
                               tx, error,
                               "UPDATE files.nodes SET created_by = CASE WHEN created_by = $1::uuid "
                               "THEN NULL ELSE created_by END, modified_by = CASE WHEN modified_by = "
                               "$1::uuid THEN NULL ELSE modified_by END WHERE created_by = $1::uuid OR "
                               "modified_by = $1::uuid",
                               1, user)) &&
               atrium_done (files_host, files_tx_sql (tx, error,
                                                      "UPDATE files.trash SET deleted_by = NULL "
                                                      "WHERE deleted_by = $1::uuid",
                                                      1, user));
}

/* A deleted group's tree goes to the trash as one item per top-level entry, so an admin
 * (files.manage) can still restore from it until it expires. */
gboolean
files_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                        GError **error)
{
        const char *group = atrium_payload_uuid (payload, "group_id");
        if (!group)
                return TRUE;
        AtriumResult *tops = files_tx_sql (
                tx, error,
                "WITH t AS (INSERT INTO files.trash (school_id, space_type, space_id, path, kind, "
                "size) SELECT school_id, space_type, space_id, path, kind, size FROM files.nodes "
                "WHERE space_type = 'group' AND space_id = $1::uuid AND parent = '' AND "
                "trash_id IS NULL RETURNING id, path) "
                "UPDATE files.nodes n SET trash_id = t.id FROM t WHERE n.space_type = 'group' AND "
                "n.space_id = $1::uuid AND n.trash_id IS NULL AND (n.path = t.path OR "
                "left(n.path, length(t.path) + 1) = t.path || '/') RETURNING n.id",
                1, group);
        return atrium_done (files_host, tops) &&
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM files.shares s USING files.nodes n WHERE "
                                          "n.school_id = s.school_id AND n.id = s.node_id AND "
                                          "n.space_type = 'group' AND n.space_id = $1::uuid",
                                          1, group)) &&
               /* The folder's top is gone with the group (its files are in the trash): so
                * are the dead properties it kept under "group:<id>". */
               atrium_done (files_host,
                            files_tx_sql (tx, error,
                                          "DELETE FROM core.dav_properties WHERE tree = 'files' "
                                          "AND resource_id = 'group:' || $1",
                                          1, group));
}

/* ---- conditional writes ---- */

gboolean
files_check_write_preconditions (AtriumRequest *req, const FilesNode *node, GError **error)
{
        g_autofree char *etag = node ? files_node_etag (node) : NULL;
        const char *im = files_host->request_header (req, "if-match");
        const char *inm = files_host->request_header (req, "if-none-match");
        if (im && !files_etag_list_matches (im, node ? (etag ? etag : "\"folder\"") : NULL, FALSE))
                return files_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                   node ? "If-Match: the file has changed (its ETag is %s)"
                                        : "If-Match: there is no such file%s",
                                   node && etag ? etag : "");
        if (inm && files_etag_list_matches (inm, node ? (etag ? etag : "\"folder\"") : NULL, TRUE))
                return files_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                   "If-None-Match: %s already exists", node->path);
        return TRUE;
}

/* ---- GDPR ---- */

gboolean
files_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                   GError **error)
{
        return atrium_export_rows (
                       files_host, tx, out, "home",
                       "SELECT path, kind, size, content_type, sha256, created_at, modified_at, "
                       "trash_id IS NOT NULL AS in_trash FROM files.nodes WHERE space_type = 'user' AND "
                       "space_id = $1::uuid ORDER BY path",
                       user_id, error) &&
               atrium_export_rows (
                       files_host, tx, out, "files_elsewhere",
                       "SELECT space_type, space_id, path, kind, size, created_by = $1::uuid AS created, "
                       "modified_by = $1::uuid AS last_changed, created_at, modified_at FROM files.nodes "
                       "WHERE (created_by = $1::uuid OR modified_by = $1::uuid) AND NOT "
                       "(space_type = 'user' AND space_id = $1::uuid) ORDER BY space_type, space_id, path",
                       user_id, error) &&
               atrium_export_rows (
                       files_host, tx, out, "shares",
                       "SELECT s.id, n.path, s.expires_at, s.created_at, "
                       "s.password_hash IS NOT NULL AS has_password FROM files.shares s JOIN files.nodes "
                       "n ON n.school_id = s.school_id AND n.id = s.node_id WHERE s.created_by = $1::uuid "
                       "ORDER BY s.created_at",
                       user_id, error);
}
