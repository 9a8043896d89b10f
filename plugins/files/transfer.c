/* SPDX-License-Identifier: Apache-2.0 */
/* transfer.c - one file in and out.
 *
 * PUT streams the body (ATRIUM_ROUTE_STREAM_BODY) into a temporary file while hashing it; the
 * quota is checked before the first byte is read when Content-Length tells the size, and the
 * upload is cut off with 507 the moment a chunked body passes what is left. Reading the body
 * ends the request's first transaction (the checks). The file is made durable and linked into
 * the store with no transaction open (blobstore.h), so the final one (confirm the blob under
 * its lock, write the row, count the bytes) waits for no fsync but its commit, and re-checks
 * everything the client's preconditions and the quota depend on, under the row locks. The
 * usage row is counted last, so its lock, which every upload into the space waits for, is
 * held only until the commit.
 * If-Match and If-None-Match (412) are checked against the current state (model.c).
 *
 * GET and HEAD of a file stream it back (download.c: ETag, Range, 304); of a folder (or a path
 * ending in '/'), list it (tree.c). PUT of a path ending in '/' makes the folder (tree.c). */
#include "files-private.h"

#include <string.h>

#include "files-range.h"

#define READ_CHUNK (64 * 1024)

/* ---- upload ---- */

typedef struct {
        gint64 allowed; /* bytes that fit in the quota, measured before the body */
        gint64 declared; /* Content-Length, or -1 */
} UploadBudget;

static gboolean
receive_body (AtriumRequest *req, FilesUpload *up, const UploadBudget *budget, GError **error)
{
        GInputStream *in = files_host->request_body_stream (req);
        g_autofree guint8 *buf = g_malloc (READ_CHUNK);
        for (;;) {
                gssize n = g_input_stream_read (in, buf, READ_CHUNK, NULL, error);
                if (n < 0) {
                        /* The client went away or stalled: nothing of it is kept. */
                        g_autoptr (GError) io = g_steal_pointer (error);
                        return files_fail (error, ATRIUM_ERROR_INVALID, "upload interrupted: %s",
                                           io->message);
                }
                if (n == 0)
                        return TRUE;
                if (files_upload_size (up) + n > budget->allowed)
                        return files_fail (error, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                                           "quota exceeded: only %" G_GINT64_FORMAT
                                           " bytes were left; the upload was stopped and "
                                           "discarded",
                                           budget->allowed);
                if (!files_upload_write (up, buf, (gsize) n, error))
                        return FALSE;
        }
}

/* The file at @path (locked FOR UPDATE when @lock) and, unless @parents lets the upload make
 * its folders, the folder it goes into (none at the space's top): both in one round trip. */
static gboolean
lookup_target (AtriumTx *tx, const FilesSpace *sp, const char *path, const char *parent,
               gboolean parents, gboolean lock, FilesNode **out_node, FilesNode **out_folder,
               GError **error)
{
        if (!parents && *parent)
                return files_node_lookup_with_parent (tx, sp, path, lock, out_node, out_folder,
                                                      error);
        *out_folder = NULL;
        *out_node = files_node_lookup (tx, sp, path, lock, error);
        return *out_node || !*error;
}

gboolean
files_upload (AtriumRequest *req, const FilesSpace *sp_, const char *path, gboolean parents,
              FilesNode **out_node, gboolean *out_created, GError **error)
{
        const FilesSpace sp = *sp_;
        const char *cl = files_host->request_header (req, "content-length");
        gint64 declared = cl ? g_ascii_strtoll (cl, NULL, 10) : -1;
        AtriumTx *tx = files_host->request_tx (req);
        g_autofree char *parent = NULL, *name = NULL;
        files_path_split (path, &parent, &name);

        /* Before the body: everything that can refuse it cheaply. Without ?parents the
         * folder must be there: looked up with the file (one round trip). */
        g_autoptr (FilesNode) old = NULL;
        g_autoptr (FilesNode) folder = NULL;
        if (!lookup_target (tx, &sp, path, parent, parents, FALSE, &old, &folder, error))
                return FALSE;
        if (old && g_str_equal (old->kind, "folder"))
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "%s is a folder", path);
        if (!files_check_write_preconditions (req, old, error))
                return FALSE;
        if (!parents && !files_folder_found (parent, folder, error))
                return FALSE;
        gint64 used, limit;
        if (!files_quota_get (tx, sp.type, sp.id, &used, NULL, &limit, error))
                return FALSE;
        UploadBudget budget = {.allowed = limit - used + (old ? old->size : 0),
                               .declared = declared};
        if (declared > budget.allowed)
                return files_fail (error, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                                   "quota exceeded: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                                   " bytes used; %" G_GINT64_FORMAT " bytes do not fit",
                                   used, limit, declared);

        /* The body: this ends the first transaction (no connection is held meanwhile, nor
         * while the file and its place in the store are made durable). */
        g_autoptr (FilesUpload) up = files_upload_new (error);
        if (!up || !receive_body (req, up, &budget, error) || !files_upload_finish (up, error) ||
            !files_upload_place (up, error))
                return FALSE;
        const char *sha = files_upload_sha256 (up);
        gint64 size = files_upload_size (up);

        /* The final transaction: under the blob's lock (the sweep takes it exclusively) the
         * blob is confirmed, then the row written; all checks again, since time has passed. */
        if (!atrium_done (files_host, files_sql (req, error,
                                                 "SELECT pg_advisory_xact_lock_shared(1718185061, "
                                                 "('x' || substr($1, 1, 8))::bit(32)::int)",
                                                 1, sha)) ||
            !files_upload_confirm (up, error))
                return FALSE;
        g_autoptr (FilesNode) cur = NULL;
        g_autoptr (FilesNode) cur_folder = NULL;
        if (!lookup_target (tx, &sp, path, parent, parents, TRUE, &cur, &cur_folder, error))
                return FALSE;
        if (cur && g_str_equal (cur->kind, "folder"))
                return files_fail (error, ATRIUM_ERROR_CONFLICT, "%s is a folder", path);
        if (!files_check_write_preconditions (req, cur, error) ||
            !(parents ? files_ensure_folder (req, &sp, parent, TRUE, error)
                      : files_folder_found (parent, cur_folder, error)))
                return FALSE;
        gsize head_len;
        const guint8 *head = files_upload_head (up, &head_len);
        g_autofree char *type = files_guess_type (name, head, head_len);
        g_autofree char *size_text = g_strdup_printf ("%" G_GINT64_FORMAT, size);
        const char *me = files_host->request_user_id (req);
        AtriumResult *res;
        if (cur)
                res = files_sql (req, error,
                                 "UPDATE files.nodes SET sha256 = $2, size = $3::bigint, "
                                 "content_type = $4, modified_by = $5::uuid, modified_at = now() "
                                 "WHERE id = $1::uuid RETURNING " FILES_NODE_COLUMNS,
                                 5, cur->id, sha, size_text, type, me);
        else
                res = files_sql (req, error,
                                 "INSERT INTO files.nodes (school_id, space_type, space_id, path, "
                                 "parent, name, kind, sha256, size, content_type, created_by, "
                                 "modified_by) VALUES (core.current_school(), $1, $2::uuid, $3, "
                                 "$4, $5, 'file', $6, $7::bigint, $8, $9::uuid, $9::uuid) "
                                 "ON CONFLICT DO NOTHING RETURNING " FILES_NODE_COLUMNS,
                                 9, sp.type, sp.id, path, parent, name, sha, size_text, type, me);
        if (!res)
                return FALSE;
        if (files_host->result_n_rows (res) == 0) {
                files_host->result_free (res);
                return files_fail (error, ATRIUM_ERROR_CONFLICT,
                                   "%s was created by another request meanwhile; try again",
                                   path);
        }
        g_autoptr (FilesNode) node = files_node_from_row (res, 0);
        files_host->result_free (res);
        JsonObject *extra = json_object_new ();
        json_object_set_int_member (extra, "size", size);
        json_object_set_string_member (extra, "sha256", sha);
        json_object_set_boolean_member (extra, "replaced", cur != NULL);
        /* The space's usage row last: its lock is held until commit and serialises every
         * upload into the space. */
        if (!files_publish (tx, "files.uploaded", &sp, path, node->id, extra, error) ||
            !files_usage_add (tx, sp.type, sp.id, size - (cur ? cur->size : 0), error))
                return FALSE;
        *out_created = cur == NULL;
        *out_node = g_steal_pointer (&node);
        return TRUE;
}

static gboolean
handle_put (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (FilesSpace) sp = {0};
        gboolean dir = FALSE;
        g_autofree char *path = NULL;
        if (!files_space_from_request (req, TRUE, &sp, error) ||
            !(path = files_request_path (req, &dir, error)) ||
            !files_rest_unlocked (req, &sp, path, dir ? ATRIUM_DAV_LOCK_PARENT : 0, error))
                return FALSE;
        if (dir) {
                /* PUT on "folder/" creates the folder (MKCOL). */
                const char *cl = files_host->request_header (req, "content-length");
                if (cl && g_ascii_strtoll (cl, NULL, 10) > 0)
                        return files_fail (error, ATRIUM_ERROR_INVALID,
                                           "PUT on a path ending in '/' creates a folder and "
                                           "takes no body");
                return files_make_folder (req, &sp, path, error);
        }
        gboolean parents = g_strcmp0 (files_host->request_query (req, "parents"), "true") == 0;
        g_autoptr (FilesNode) node = NULL;
        gboolean created = FALSE;
        if (!files_upload (req, &sp, path, parents, &node, &created, error))
                return FALSE;
        g_autofree char *etag = files_node_etag (node);
        files_host->response_header (req, "ETag", etag);
        files_host->respond_json (req, created ? 201 : 200, files_node_json (node));
        return TRUE;
}

/* ---- GET / HEAD ---- */

static gboolean
handle_get (AtriumRequest *req, gpointer data, GError **error)
{
        g_auto (FilesSpace) sp = {0};
        gboolean dir = FALSE;
        g_autofree char *path = NULL;
        if (!files_space_from_request (req, FALSE, &sp, error) ||
            !(path = files_request_path (req, &dir, error)))
                return FALSE;
        if (!*path)
                return files_list_folder (req, &sp, path, error);
        g_autoptr (FilesNode) node =
                files_node_lookup (files_host->request_tx (req), &sp, path, FALSE, error);
        if (!node)
                return *error ? FALSE
                              : files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file or folder %s",
                                            path);
        if (g_str_equal (node->kind, "folder"))
                return files_list_folder (req, &sp, path, error);
        if (dir)
                return files_fail (error, ATRIUM_ERROR_NOT_FOUND, "%s is a file, not a folder",
                                   path);
        return files_respond_download (req, node, error);
}

gboolean
files_register_transfer_routes (AtriumPlugin *self, GError **error)
{
        const char *const prefixes[] = {"/home/{path*}", "/groups/{group_id}/{path*}"};
        for (int i = 0; i < 2; i++) {
                const AtriumRoute routes[] = {
                        {ATRIUM_ROUTE_INIT, .method = "PUT", .path = prefixes[i],
                         .flags = ATRIUM_ROUTE_STREAM_BODY | ATRIUM_ROUTE_RAW_BODY,
                         .permission = "files.read",
                         .summary = "Upload a file (raw body, streamed; ?parents=true creates "
                                    "missing folders; If-Match / If-None-Match: *). A path "
                                    "ending in '/' creates a folder",
                         .response_schema = FILES_NODE_ANSWER, .success_status = 201,
                         .query_schema = "{\"type\": \"object\", \"properties\": "
                                         "{\"parents\": " FILES_PARENTS_QUERY "}}",
                         .handler = handle_put},
                        {ATRIUM_ROUTE_INIT, .method = "GET", .path = prefixes[i],
                         .permission = "files.read",
                         .summary = "Download a file (ETag, Range, conditional requests; HEAD "
                                    "too), or list a folder (a path ending in '/'; ?limit=, "
                                    "?cursor=)",
                         .query_schema = "{\"type\": \"object\", \"properties\": {"
                                         "\"limit\": " ATRIUM_PAGE_LIMIT_QUERY ", "
                                         "\"cursor\": " ATRIUM_PAGE_CURSOR_QUERY "}}",
                         /* a file as it is; a folder's listing as a page */
                         .response_type = "*/*", .response_schema = FILES_FOLDER_PAGE,
                         .handler = handle_get},
                };
                if (!atrium_add_routes (files_host, self, routes, G_N_ELEMENTS (routes), error))
                        return FALSE;
        }
        return TRUE;
}
