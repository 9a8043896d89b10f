/* SPDX-License-Identifier: Apache-2.0 */
/* dav.c - the "files" tree served over WebDAV (issue #18; the DAV layer is the host's,
 * core/dav/README.md). It maps DAV paths onto the plugin's own model, so a file written over
 * WebDAV is the file REST lists, with the same ETag, quota, trash, events and permissions:
 *
 *   ""                        the root: "home" and "groups"
 *   "home/<path>"             the caller's home (files_space_open "user")
 *   "groups"                  the groups the caller is a member of, by slug
 *   "groups/<slug>/<path>"    that group's tree (files_space_open "group": 404 for a group
 *                             the caller may not read, 403 for writing without the right)
 *
 * Paths go through files_path_normalize like REST's, so the same names are refused (control
 * characters, backslashes, names ending in ' ' or '.', over-long names). Finder's "._*"
 * AppleDouble files and ".DS_Store" are stored like any file: refusing them makes Finder fail
 * whole copies, and they count against the quota like anything else (docs/WEBDAV.md).
 * DELETE moves into the trash, as REST's DELETE does; an overwriting COPY or MOVE puts the
 * replaced destination there too. */
#include "files-private.h"

#include <string.h>

typedef enum { AT_ROOT, AT_GROUPS, AT_SPACE } Place;

typedef struct {
        Place place;
        FilesSpace sp;
        char *path;  /* in the space */
        char *label; /* the space root's name: "home" or the group's slug */
        char *title; /* (nullable) the group's name */
} Where;

static void
where_clear (Where *w)
{
        files_space_clear (&w->sp);
        g_clear_pointer (&w->path, g_free);
        g_clear_pointer (&w->label, g_free);
        g_clear_pointer (&w->title, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Where, where_clear)

static gboolean
has_group_names (void)
{
        return files_groups->header.struct_size >=
               offsetof (AtriumGroupsService, group_names) + sizeof (gpointer);
}

static gboolean
resolve (AtriumRequest *req, const char *dav_path, gboolean write, Where *out, GError **error)
{
        g_autofree char *norm = files_path_normalize (dav_path, strlen (dav_path), NULL, error);
        if (!norm)
                return FALSE;
        if (!*norm) {
                out->place = AT_ROOT;
                return TRUE;
        }
        g_auto (GStrv) parts = g_strsplit (norm, "/", 2);
        if (g_str_equal (parts[0], "home")) {
                const char *me = files_host->request_user_id (req);
                if (!me)
                        return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "operators have no home");
                if (!files_space_open (req, "user", me, write, &out->sp, error))
                        return FALSE;
                out->place = AT_SPACE;
                out->label = g_strdup ("home");
                out->path = g_strdup (parts[1] ? parts[1] : "");
                return TRUE;
        }
        if (!g_str_equal (parts[0], "groups"))
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                   "no %s here; see home/ and groups/", parts[0]);
        if (!parts[1]) {
                out->place = AT_GROUPS;
                return TRUE;
        }
        g_auto (GStrv) g = g_strsplit (parts[1], "/", 2);
        g_autofree char *id = NULL;
        if (!files_groups->group_by_slug (files_host->request_tx (req), g[0], &id, error))
                return FALSE;
        if (!id)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no group %s", g[0]);
        if (!files_space_open (req, "group", id, write, &out->sp, error))
                return FALSE;
        if (has_group_names ()) {
                g_autofree char *slug = NULL;
                if (!files_groups->group_names (files_host->request_tx (req), id, &slug,
                                                &out->title, error))
                        return FALSE;
        }
        out->place = AT_SPACE;
        out->label = g_strdup (g[0]);
        out->path = g_strdup (g[1] ? g[1] : "");
        return TRUE;
}

/* The writable place a write names: a path inside a space, not a space's root. */
static gboolean
resolve_item (AtriumRequest *req, const char *dav_path, Where *out, GError **error)
{
        if (!resolve (req, dav_path, TRUE, out, error))
                return FALSE;
        if (out->place != AT_SPACE || !*out->path)
                return files_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                   "home/, groups/ and the group folders are fixed: write inside "
                                   "them");
        return TRUE;
}

static void
emit_folder (AtriumDavEmitFunc emit, gpointer data, const char *id, const char *name,
             const char *title, gint64 used, gint64 limit)
{
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .id = id, .name = name, .collection = TRUE,
                               .display_name = title};
        if (limit >= 0) {
                r.quota_used = used;
                r.quota_available = MAX (limit - used, 0);
        }
        emit (&r, data);
}

static void
emit_node (AtriumDavEmitFunc emit, gpointer data, const FilesNode *n, gint64 used, gint64 limit)
{
        g_autofree char *etag = files_node_etag (n);
        gboolean folder = g_str_equal (n->kind, "folder");
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT,
                               .id = n->id,
                               .name = n->name,
                               .collection = folder,
                               .length = folder ? 0 : n->size,
                               .etag = etag,
                               .content_type = folder ? NULL : n->content_type,
                               .modified = n->modified,
                               .created = n->modified};
        if (limit >= 0) {
                r.quota_used = used;
                r.quota_available = MAX (limit - used, 0);
        }
        emit (&r, data);
}

static gboolean
space_quota (AtriumRequest *req, const FilesSpace *sp, gint64 *used, gint64 *limit, GError **error)
{
        return files_quota_get (files_host->request_tx (req), sp->type, sp->id, used, NULL, limit,
                                error);
}

static gboolean
dav_stat (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer data,
          gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve (req, path, FALSE, &w, error))
                return FALSE;
        if (w.place == AT_ROOT) {
                emit_folder (emit, data, NULL, NULL, NULL, 0, -1);
                return TRUE;
        }
        if (w.place == AT_GROUPS) {
                emit_folder (emit, data, NULL, "groups", NULL, 0, -1);
                return TRUE;
        }
        gint64 used = 0, limit = -1;
        if (!space_quota (req, &w.sp, &used, &limit, error))
                return FALSE;
        if (!*w.path) {
                /* A space's top folder keeps dead properties under "user:<id>" or
                 * "group:<id>". */
                g_autofree char *id = g_strconcat (w.sp.type, ":", w.sp.id, NULL);
                emit_folder (emit, data, id, w.label, w.title, used, limit);
                return TRUE;
        }
        g_autoptr (FilesNode) n =
                files_node_lookup (files_host->request_tx (req), &w.sp, w.path, FALSE, error);
        if (!n)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s",
                                            w.path);
        emit_node (emit, data, n, used, limit);
        return TRUE;
}

static gboolean
list_groups (AtriumRequest *req, AtriumDavEmitFunc emit, gpointer data, GError **error)
{
        const char *me = files_host->request_user_id (req);
        if (!me || !has_group_names ())
                return TRUE;
        AtriumTx *tx = files_host->request_tx (req);
        g_auto (GStrv) ids = files_groups->groups_of (tx, me, error);
        if (!ids)
                return FALSE;
        for (guint i = 0; ids[i]; i++) {
                g_autofree char *slug = NULL, *name = NULL;
                if (!files_groups->group_names (tx, ids[i], &slug, &name, error))
                        return FALSE;
                g_autofree char *id = g_strconcat ("group:", ids[i], NULL);
                if (slug)
                        emit_folder (emit, data, id, slug, name, 0, -1);
        }
        return TRUE;
}

static gboolean
dav_list (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer data,
          gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve (req, path, FALSE, &w, error))
                return FALSE;
        if (w.place == AT_ROOT) {
                const char *me = files_host->request_user_id (req);
                g_autofree char *home = me ? g_strconcat ("user:", me, NULL) : NULL;
                emit_folder (emit, data, home, "home", NULL, 0, -1);
                emit_folder (emit, data, NULL, "groups", NULL, 0, -1);
                return TRUE;
        }
        if (w.place == AT_GROUPS)
                return list_groups (req, emit, data, error);
        gint64 used = 0, limit = -1;
        if (!space_quota (req, &w.sp, &used, &limit, error) ||
            !files_ensure_folder (req, &w.sp, w.path, FALSE, error))
                return FALSE;
        AtriumResult *res = files_sql (req, error,
                                       "SELECT " FILES_NODE_COLUMNS " FROM files.nodes WHERE "
                                       "space_type = $1 AND space_id = $2::uuid AND parent = $3 "
                                       "AND trash_id IS NULL ORDER BY name",
                                       3, w.sp.type, w.sp.id, w.path);
        if (!res)
                return FALSE;
        int n = files_host->result_n_rows (res);
        for (int i = 0; i < n; i++) {
                g_autoptr (FilesNode) node = files_node_from_row (res, i);
                emit_node (emit, data, node, used, limit);
        }
        files_host->result_free (res);
        return TRUE;
}

static gboolean
dav_get (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        /* GET's hot path, a file in the caller's home: its row is asked for first, so that
         * the identity check and the lookup travel in one round trip (the row is used only
         * once resolve() below has judged the caller). */
        g_autofree char *norm = files_path_normalize (path, strlen (path), NULL, NULL);
        g_autoptr (FilesNode) n = NULL;
        gboolean home = norm && g_str_has_prefix (norm, "home/");
        if (home && !(n = files_node_lookup_home (files_host->request_tx (req), norm + 5, error)) &&
            *error)
                return FALSE;
        g_auto (Where) w = {0};
        if (!resolve (req, path, FALSE, &w, error))
                return FALSE;
        if (w.place != AT_SPACE || !*w.path)
                return files_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "a folder");
        if (!home)
                n = files_node_lookup (files_host->request_tx (req), &w.sp, w.path, FALSE, error);
        if (!n)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file %s", w.path);
        if (g_str_equal (n->kind, "folder")) /* the host lists it */
                return files_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "a folder");
        return files_respond_download (req, n, error);
}

/* DAV wants 409 where a parent folder is missing; the files model says 404. */
static gboolean
parent_conflict (GError **error)
{
        if (error && *error && (*error)->domain == ATRIUM_ERROR &&
            (*error)->code == ATRIUM_ERROR_NOT_FOUND)
                (*error)->code = ATRIUM_ERROR_CONFLICT;
        return FALSE;
}

static gboolean
dav_put (AtriumRequest *req, const char *path, gboolean *out_created, AtriumDavEmitFunc emit,
         gpointer data, gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve_item (req, path, &w, error))
                return FALSE;
        g_autoptr (FilesNode) node = NULL;
        if (!files_upload (req, &w.sp, w.path, FALSE, &node, out_created, error))
                return parent_conflict (error);
        emit_node (emit, data, node, 0, -1);
        return TRUE;
}

static gboolean
dav_mkcol (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve (req, path, TRUE, &w, error))
                return FALSE;
        if (w.place != AT_SPACE || !*w.path)
                return files_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "%s exists", path);
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) old = files_node_lookup (tx, &w.sp, w.path, FALSE, error);
        if (!old && *error)
                return FALSE;
        if (old)
                return files_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "%s exists", path);
        g_autofree char *parent = NULL;
        files_path_split (w.path, &parent, NULL);
        if (!files_ensure_folder (req, &w.sp, parent, FALSE, error))
                return parent_conflict (error);
        return files_ensure_folder (req, &w.sp, w.path, TRUE, error);
}

static gboolean
dav_remove (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve_item (req, path, &w, error))
                return FALSE;
        g_autoptr (JsonNode) item = NULL;
        return files_trash_path (req, &w.sp, w.path, TRUE, &item, error);
}

static gboolean
dav_transfer (AtriumRequest *req, const char *from, const char *to, guint32 flags,
              gboolean *out_replaced, gpointer user_data, GError **error)
{
        g_auto (Where) src = {0};
        g_auto (Where) dst = {0};
        gboolean move = (flags & ATRIUM_DAV_MOVE) != 0;
        /* A copy only reads its source. */
        if (!(move ? resolve_item (req, from, &src, error)
                   : resolve (req, from, FALSE, &src, error)) ||
            !resolve_item (req, to, &dst, error))
                return FALSE;
        if (src.place != AT_SPACE || !*src.path)
                return files_fail (error, ATRIUM_ERROR_FORBIDDEN, "%s cannot be copied", from);
        AtriumTx *tx = files_host->request_tx (req);
        g_autoptr (FilesNode) node = files_node_lookup (tx, &src.sp, src.path, TRUE, error);
        if (!node)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s",
                                            from);
        if (move && !files_check_write_preconditions (req, node, error))
                return FALSE;
        gboolean same =
                g_str_equal (src.sp.type, dst.sp.type) && g_str_equal (src.sp.id, dst.sp.id);
        if (same && g_str_has_prefix (dst.path, src.path) && dst.path[strlen (src.path)] == '/')
                return files_fail (error, ATRIUM_ERROR_FORBIDDEN, "cannot %s %s into itself",
                                   move ? "move" : "copy", from);
        g_autoptr (FilesNode) existing = files_node_lookup (tx, &dst.sp, dst.path, TRUE, error);
        if (!existing && *error)
                return FALSE;
        *out_replaced = existing != NULL;
        if (existing) {
                if (!(flags & ATRIUM_DAV_OVERWRITE))
                        return files_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                           "%s exists and Overwrite is F", to);
                g_autoptr (JsonNode) item = NULL;
                if (!files_trash_path (req, &dst.sp, dst.path, FALSE, &item, error))
                        return FALSE;
        }
        g_autoptr (FilesNode) moved = NULL;
        if (!files_move_copy (req, &src.sp, node, &dst.sp, dst.path, !move, FALSE, &moved, error))
                return parent_conflict (error);
        return TRUE;
}

static gboolean
dav_set_modified (AtriumRequest *req, const char *path, gint64 modified, gpointer user_data,
                  GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve_item (req, path, &w, error))
                return FALSE;
        g_autofree char *t = g_strdup_printf ("%" G_GINT64_FORMAT, modified);
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (w.path, &parent, &name);
        AtriumResult *res =
                files_sql (req, error,
                           "UPDATE files.nodes SET modified_at = to_timestamp($4) "
                           "WHERE space_type = $1 AND space_id = $2::uuid AND " FILES_NODE_BY_PATH (
                                   "$3", "$5", "$6"),
                           6, w.sp.type, w.sp.id, w.path, t, parent, name);
        if (!res)
                return FALSE;
        guint64 n = files_host->result_affected (res);
        files_host->result_free (res);
        return n == 1 || files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s", path);
}

/* Locks are kept under files_lock_name(), which the REST routes' lock check uses too. */
static char *
dav_canonical (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (Where) w = {0};
        if (!resolve (req, path, FALSE, &w, error))
                return NULL;
        if (w.place != AT_SPACE) {
                files_fail (error, ATRIUM_ERROR_FORBIDDEN, "the fixed folders cannot be locked");
                return NULL;
        }
        return files_lock_name (&w.sp, w.path);
}

gboolean
files_register_dav (AtriumPlugin *self, GError **error)
{
        if (!ATRIUM_HOST_HAS (files_host, add_dav_tree))
                return TRUE; /* a host older than 1.5: no WebDAV, REST only */
        /* clang-format off */
        static const AtriumDavTree tree = {
                ATRIUM_DAV_TREE_INIT,
                .mount = "files",
                .stat = dav_stat,
                .list = dav_list,
                .get = dav_get,
                .put = dav_put,
                .mkcol = dav_mkcol,
                .remove = dav_remove,
                .transfer = dav_transfer,
                .set_modified = dav_set_modified,
                .canonical = dav_canonical,
        };
        /* clang-format on */
        return files_host->add_dav_tree (self, &tree, error);
}
