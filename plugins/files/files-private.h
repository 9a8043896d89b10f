/* SPDX-License-Identifier: Apache-2.0 */
/* files-private.h - shared by the files plugin's sources:
 *
 *   plugin.c         the wiring: descriptor, settings, init (routes, subscriptions, timers)
 *   model.c          spaces (who may read/write which tree), node rows, quotas, events,
 *                    write preconditions, reactions, GDPR export
 *   transfer.c       PUT (streamed upload) and GET/HEAD of a path: a file's download, a
 *                    folder's listing
 *   download.c       one file out (ranges, conditional requests), for transfer.c and shares.c
 *   tree.c           folder listings, mkdir, move, copy, share (shares.c), DELETE into the
 *                    trash, the trash
 *   shares.c         share links: create, list, revoke; the public share download
 *   quotas.c         GET /usage and the quota settings
 *   gc.c             trash expiry and the orphan sweep ("atriumd files gc", timers)
 *   service.c        the "files" service table for other plugins (atrium/files.h)
 *   blobstore.c      contents on disk (content-addressed, crash-safe)
 *   files-path.c     user-supplied paths (NFC, traversal), files-range.c  Range / If-Range
 */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

#include "blobstore.h"
#include "files-path.h"

extern const AtriumHost *files_host;
extern const AtriumGroupsService *files_groups;
extern AtriumPlugin *files_self;

/* [files] settings (README.md). */
typedef struct {
        gint64 user_quota;  /* bytes of a home without an explicit quota */
        gint64 group_quota; /* bytes of a group's tree without an explicit quota */
        guint trash_days;   /* the trash keeps deleted files this long */
        guint gc_interval;  /* seconds between automatic sweeps (0: only "atriumd files gc") */
} FilesSettings;
extern FilesSettings files_settings;

#define files_tx_sql(tx, error, ...) atrium_queryv (files_host, (tx), (error), __VA_ARGS__)
#define files_sql(...) atrium_request_queryv (files_host, __VA_ARGS__)
#define files_fail atrium_fail

/* A file or folder as files_node_json shows it; the share link POST ?action=share makes. */
#define FILES_NODE_PROPS                                                                           \
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"name\":{\"type\":\"string\"},"         \
        "\"path\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\",\"enum\":[\"file\","         \
        "\"folder\"]},\"size\":{\"type\":\"integer\"},\"modified\":{\"type\":\"string\","          \
        "\"description\":\"RFC 3339, whole seconds\"},\"etag\":{\"type\":[\"string\",\"null\"]},"  \
        "\"content_type\":{\"type\":\"string\"}"
#define FILES_NODE_ANSWER "{\"type\":\"object\",\"properties\":{" FILES_NODE_PROPS "}}"
/* A folder's listing: a page of nodes (GET of a folder's path, which is not a paged route
 * since the same path may be a file). */
#define FILES_FOLDER_PAGE                                                                          \
        "{\"type\":\"object\",\"required\":[\"items\",\"next_cursor\"],\"properties\":{"           \
        "\"items\":{\"type\":\"array\",\"items\":" FILES_NODE_ANSWER "},"                          \
        "\"next_cursor\":{\"type\":[\"string\",\"null\"]}}}"
#define FILES_SHARE_PROPS                                                                          \
        "\"token\":{\"type\":\"string\",\"description\":\"shown only here\"},"                     \
        "\"url\":{\"type\":\"string\",\"description\":\"where the file is downloaded without an "  \
        "account\"},\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                \
        "\"has_password\":{\"type\":\"boolean\"},\"space\":{\"type\":\"string\"}"

/* ?parents=true of PUT and POST (move, copy): create the missing folders on the way. */
#define FILES_PARENTS_QUERY                                                                        \
        "{\"type\": \"boolean\", \"description\": \"create missing folders on the way\"}"

/* ---- spaces: a user's home or a group's tree ---- */

typedef struct {
        const char *type; /* "user" or "group" (static strings) */
        char *id;
        gboolean can_write;
        char *label; /* "home" or "groups/<id>", for messages and events */
} FilesSpace;

void files_space_clear (FilesSpace *sp);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FilesSpace, files_space_clear)

/* The space a route addresses: "/home/..." (the caller's own) or "/groups/{group_id}/...".
 * A group the caller may not read answers 404; with @write, one they read but may not
 * change answers 403. */
gboolean files_space_from_request (AtriumRequest *req, gboolean write, FilesSpace *out,
                                   GError **error);
/* A space named in a body ("home" or "groups/<uuid>"), same rules. */
gboolean files_space_from_name (AtriumRequest *req, const char *name, gboolean write,
                                FilesSpace *out, GError **error);
/* The same checks for a space known by type and id (trash items). */
gboolean files_space_open (AtriumRequest *req, const char *type, const char *id,
                           gboolean write, FilesSpace *out, GError **error);

/* The {path*} of the request, normalised; *out_dir: it ended in '/' (or was empty). */
char *files_request_path (AtriumRequest *req, gboolean *out_dir, GError **error);
/* The name WebDAV locks on @path of @sp are kept under: "user:<id>/<path>", "group:<id>/<path>"
 * (every caller's home/ is another folder, and a group's slug may change). (transfer full) */
char *files_lock_name (const FilesSpace *sp, const char *path);
/* For the REST routes: ATRIUM_ERROR_LOCKED (423) when a WebDAV lock of another person stands
 * in the way of changing @path of @sp (@how: ATRIUM_DAV_LOCK_PARENT, ATRIUM_DAV_LOCK_BELOW;
 * the host's dav_lock_check). The WebDAV routes check locks themselves, with the tokens. */
gboolean files_rest_unlocked (AtriumRequest *req, const FilesSpace *sp, const char *path, guint how,
                              GError **error);

/* ---- nodes ---- */

typedef struct {
        char *id;
        char *path;
        char *name;
        char *kind; /* "file" or "folder" */
        char *sha256;
        char *content_type;
        gint64 size;
        gint64 modified; /* unix seconds */
        char *modified_at; /* RFC 3339 */
} FilesNode;

void files_node_free (FilesNode *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FilesNode, files_node_free)

/* The columns files_node_from_row reads, for "SELECT " FILES_NODE_COLUMNS " FROM files.nodes". */
#define FILES_NODE_COLUMNS                                                                      \
        "id, path, name, kind, sha256, content_type, size, "                                    \
        "extract(epoch FROM date_trunc('second', modified_at))::bigint, "                       \
        "to_char(modified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
FilesNode *files_node_from_row (AtriumResult *res, int row);
/* A path's row in SQL (the parameters' numbers as text). It names the row's parent and name
 * as well as its path (the same row: a path is always its parent's path, '/', its name), so
 * that either index of the space (by path, or the listing's by parent and name) finds it in a
 * few pages. By path alone, on a table PostgreSQL had not analyzed yet (a school just
 * imported, the first minute after a burst of uploads), the planner took the listing's index
 * and read every row of the space for each lookup: 4 ms per lookup in a home of 3,000 files. */
#define FILES_NODE_BY_PATH(path, parent, name)                                                     \
        "path = " path " AND parent = " parent " AND name = " name " AND trash_id IS NULL"
/* The live (not trashed) node at @path of @sp, or NULL: with @error unset, there is none. */
FilesNode *files_node_lookup (AtriumTx *tx, const FilesSpace *sp, const char *path,
                              gboolean for_update, GError **error);
/* files_node_lookup of @path and of its folder in one statement: *@out_node and *@out_parent
 * (each NULL when there is none; the space's top has no row), the first locked FOR UPDATE
 * when @for_update. FALSE only with @error set. */
gboolean files_node_lookup_with_parent (AtriumTx *tx, const FilesSpace *sp, const char *path,
                                        gboolean for_update, FilesNode **out_node,
                                        FilesNode **out_parent, GError **error);
/* files_node_lookup in the caller's home, named by the identity check's settings rather than
 * by the caller's id: the first query of a read may travel with that check, before the host
 * knows who asks (WebDAV's GET). The caller still has to be judged before its answer is used. */
FilesNode *files_node_lookup_home (AtriumTx *tx, const char *path, GError **error);
/* {"name","path","kind","size","modified","etag","content_type"} */
JsonNode *files_node_json (const FilesNode *n);
/* Strong ETag: the content hash for files; folders have none (NULL). */
char *files_node_etag (const FilesNode *n);

/* Makes sure the folder @path exists in @sp (creating missing folders when @create, else
 * NOT_FOUND / CONFLICT when a file is in the way). "" always exists. */
/* Inserts folder @path, whose parent is there; *@out_node: the new row, or NULL when a folder
 * or file is at @path already (made by a concurrent request, say). */
gboolean files_folder_insert (AtriumRequest *req, const FilesSpace *sp, const char *path,
                              FilesNode **out_node, GError **error);
gboolean files_ensure_folder (AtriumRequest *req, const FilesSpace *sp, const char *path,
                              gboolean create, GError **error);
/* Judges @n, the row found at folder @path (NULL: none), as files_ensure_folder without
 * @create does: TRUE for a folder or the space's top (""), else CONFLICT or NOT_FOUND. */
gboolean files_folder_found (const char *path, const FilesNode *n, GError **error);

/* ---- quotas ---- */

/* Bytes used and the limit of @sp; of a home, "used" includes the mailbox, whose share is
 * also written to @out_mail (nullable). */
gboolean files_quota_get (AtriumTx *tx, const char *type, const char *id, gint64 *out_used,
                          gint64 *out_mail, gint64 *out_limit, GError **error);
/* Adds @delta bytes to @sp's usage, refusing (507) what would pass the limit when
 * @delta > 0. Serialised per space by the usage row's lock. */
gboolean files_usage_add (AtriumTx *tx, const char *type, const char *id, gint64 delta,
                          GError **error);

/* ---- events ---- */

gboolean files_publish (AtriumTx *tx, const char *event, const FilesSpace *sp,
                        const char *path, const char *node_id, JsonObject *extra,
                        GError **error);

/* Guesses the content type from the name and the first bytes (GIO). */
char *files_guess_type (const char *name, const guint8 *head, gsize len);

/* ---- route tables ---- */
gboolean files_register_transfer_routes (AtriumPlugin *self, GError **error);
gboolean files_register_tree_routes (AtriumPlugin *self, GError **error);
gboolean files_register_share_routes (AtriumPlugin *self, GError **error);
gboolean files_register_quota_routes (AtriumPlugin *self, GError **error);
gboolean files_register_gc (AtriumPlugin *self, GError **error);
gboolean files_register_service (AtriumPlugin *self, GError **error); /* service.c */

/* download.c: answers a download of @node (Range, conditional requests, HEAD). */
gboolean files_respond_download (AtriumRequest *req, const FilesNode *node, GError **error);
/* model.c: PUT, DELETE and the POST actions honour If-Match and If-None-Match against the
 * current state (@node may be NULL: nothing there). */
gboolean files_check_write_preconditions (AtriumRequest *req, const FilesNode *node,
                                          GError **error);
/* tree.c: a folder's listing (keyset pages), and mkdir (POST ?action=mkdir, PUT of "dir/"). */
gboolean files_list_folder (AtriumRequest *req, const FilesSpace *sp, const char *path,
                            GError **error);
gboolean files_make_folder (AtriumRequest *req, FilesSpace *sp, const char *path, GError **error);
/* transfer.c: the upload of @path in @sp (the body is request_body_stream()), with the
 * quota, preconditions and events of PUT; the node written in *@out_node. REST's PUT and the
 * WebDAV tree (dav.c) both use it. */
gboolean files_upload (AtriumRequest *req, const FilesSpace *sp, const char *path, gboolean parents,
                       FilesNode **out_node, gboolean *out_created, GError **error);
/* tree.c: move or copy @node of @src to @to in @dst (which must not exist); the result in
 * *@out_node. */
gboolean files_move_copy (AtriumRequest *req, const FilesSpace *src, const FilesNode *node,
                          const FilesSpace *dst, const char *to, gboolean copy, gboolean parents,
                          FilesNode **out_node, GError **error);
/* tree.c: moves @path of @sp (and everything below it) to the trash; *@out_item: the trash
 * item (transfer full). */
gboolean files_trash_path (AtriumRequest *req, const FilesSpace *sp, const char *path,
                           gboolean check_preconditions, JsonNode **out_item, GError **error);
/* dav.c: the "files" tree served over WebDAV (/dav/{school}/files/). */
gboolean files_register_dav (AtriumPlugin *self, GError **error);

/* shares.c: ?action=share on a file. */
gboolean files_share_create (AtriumRequest *req, const FilesSpace *sp, const FilesNode *node,
                             JsonObject *body, GError **error);

/* model.c: what plugin.c registers (reactions, GDPR export, settings). */
gboolean files_on_user_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                                GError **error);
gboolean files_on_group_deleted (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                                 GError **error);
gboolean files_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                            GError **error);
