/* SPDX-License-Identifier: Apache-2.0 */
/* dav.c - the DAV layer's entry: the trees plugins contribute (the add_dav_tree slot, ABI
 * 1.5), the /dav/ routes, and one request from method to answer.
 *
 * Every /dav/{school}/{mount}/{path*} request is a core route flagged ATRIUM_ROUTE_DAV: the
 * pipeline (pipeline/handle.c) authenticates it through dav-auth.c, runs the identity check
 * for the school and the tree owner's module, opens the transaction with row-level security
 * set, and then calls handle() below, which checks the path, reads the DAV headers (Depth,
 * Destination, Overwrite, X-OC-MTime) and calls the tree's callbacks. Errors of the callbacks
 * are ATRIUM_ERROR codes and become statuses as for REST. */
#include "dav-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <string.h>

#define DAV_ALLOW                                                                                  \
        "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
#define DAV_ALLOW_CALDAV ", REPORT, MKCALENDAR"

static void
mount_free (AtriumDavMount *m)
{
        g_free (m->mount);
        g_free (m);
}

void
atrium_dav_init (AtriumCore *core)
{
        core->dav_mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) mount_free);
        atrium_dav_principals_init (core);
}

void
atrium_dav_clear (AtriumCore *core)
{
        g_clear_pointer (&core->dav_mounts, g_ptr_array_unref);
}

void
atrium_dav_drop (AtriumCore *core, AtriumPlugin *owner)
{
        for (guint i = core->dav_mounts->len; i > 0; i--)
                if (((AtriumDavMount *) core->dav_mounts->pdata[i - 1])->owner == owner)
                        g_ptr_array_remove_index (core->dav_mounts, i - 1);
}

gboolean
atrium_dav_add_tree (AtriumPlugin *self, const AtriumDavTree *in, GError **error)
{
        if (!atrium_registry_registering (self, error))
                return FALSE;
        AtriumDavTree t;
        if (!atrium_registry_copy_struct (in ? &in->header : NULL,
                                          offsetof (AtriumDavTree, user_data) + sizeof (gpointer),
                                          &t, sizeof t, "DAV tree", "ATRIUM_DAV_TREE_INIT", error))
                return FALSE;
        if (!atrium_registry_name_ok (t.mount) || !t.stat || !t.list) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "DAV tree %s: needs a mount name [a-z][a-z0-9-]* and stat and list",
                             t.mount ? t.mount : "?");
                return FALSE;
        }
        AtriumCore *core = self->core;
        for (guint i = 0; i < core->dav_mounts->len; i++) {
                AtriumDavMount *m = core->dav_mounts->pdata[i];
                if (g_str_equal (m->mount, t.mount)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "DAV tree %s is already served by %s", t.mount,
                                     m->owner ? m->owner->desc.name : "the host");
                        return FALSE;
                }
        }
        AtriumDavMount *m = g_new0 (AtriumDavMount, 1);
        m->owner = self;
        m->mount = g_strdup (t.mount);
        m->tree = t;
        m->tree.mount = m->mount;
        g_ptr_array_add (core->dav_mounts, m);
        return TRUE;
}

const AtriumDavMount *
atrium_dav_mount_of (AtriumRequest *req)
{
        const char *name = g_hash_table_lookup (req->params, "mount");
        GPtrArray *mounts = req->core->dav_mounts;
        for (guint i = 0; name && mounts && i < mounts->len; i++) {
                AtriumDavMount *m = mounts->pdata[i];
                if (g_str_equal (m->mount, name) &&
                    (!m->owner || m->owner->state == ATRIUM_PLUGIN_RUNNING))
                        return m;
        }
        return NULL;
}

/* ---- paths ---- */

/* The decoded {path*} as the trees get it: no leading or trailing '/', NFC, every segment
 * non-empty, not "." or "..", at most ATRIUM_DAV_NAME_MAX bytes. *@out_slash: it ended in
 * '/' (or was empty). The router refused undecodable escapes and dot segments already; this
 * repeats the checks on what it decoded. */
static char *
tree_path (const char *raw, gboolean *out_slash, GError **error)
{
        if (!raw)
                raw = "";
        if (!g_utf8_validate (raw, -1, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "the path is not UTF-8");
                return NULL;
        }
        g_autofree char *nfc = g_utf8_normalize (raw, -1, G_NORMALIZE_NFC);
        gsize len = strlen (nfc);
        *out_slash = len == 0 || nfc[len - 1] == '/';
        g_auto (GStrv) segs = g_strsplit (nfc, "/", -1);
        g_autoptr (GString) out = g_string_new (NULL);
        guint n = g_strv_length (segs);
        for (guint i = 0; i < n; i++) {
                const char *s = segs[i];
                if (!*s && i + 1 == n)
                        break; /* the trailing slash */
                if (!*s || g_str_equal (s, ".") || g_str_equal (s, "..")) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "the path has an empty, '.' or '..' segment");
                        return NULL;
                }
                if (strlen (s) > ATRIUM_DAV_NAME_MAX) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "a name is longer than %d bytes", ATRIUM_DAV_NAME_MAX);
                        return NULL;
                }
                for (const char *c = s; *c; c++)
                        if ((guchar) *c < 0x20 || *c == 0x7f) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "a name has a control character");
                                return NULL;
                        }
                if (out->len)
                        g_string_append_c (out, '/');
                g_string_append (out, s);
        }
        return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
atrium_dav_href_of (const char *school, const char *mount, const char *path, gboolean collection)
{
        g_autofree char *s = g_uri_escape_string (school, NULL, FALSE);
        g_autoptr (GString) h = g_string_new (NULL);
        g_string_append_printf (h, "/dav/%s/%s/", s, mount);
        if (*path) {
                g_auto (GStrv) segs = g_strsplit (path, "/", -1);
                for (guint i = 0; segs[i]; i++) {
                        g_autofree char *e = g_uri_escape_string (segs[i], "!$&'()*+,;=:@", FALSE);
                        if (i)
                                g_string_append_c (h, '/');
                        g_string_append (h, e);
                }
                if (collection)
                        g_string_append_c (h, '/');
        }
        return g_string_free (g_steal_pointer (&h), FALSE);
}

/* A URL (the Destination of COPY and MOVE, a tagged list of If) as a path of the same tree.
 * Another host: 502 (we do not copy to other servers, RFC 4918 9.8.5); another school: 403;
 * another tree: 403. */
char *
atrium_dav_path_of_url (AtriumRequest *req, const AtriumDavMount *m, const char *dest,
                        GError **error)
{
        g_autoptr (GUri) uri = NULL;
        const char *path;
        if (dest[0] == '/') {
                path = dest;
        } else {
                uri = g_uri_parse (dest, G_URI_FLAGS_ENCODED, NULL);
                if (!uri || !g_uri_get_host (uri)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "Destination is not a URI");
                        return NULL;
                }
                const char *host = g_hash_table_lookup (req->headers, "host");
                g_autofree char *dest_host =
                        g_uri_get_port (uri) > 0 ? g_strdup_printf ("%s:%d", g_uri_get_host (uri),
                                                                    g_uri_get_port (uri))
                                                 : g_strdup (g_uri_get_host (uri));
                const char *scheme = g_uri_get_scheme (uri);
                int default_port = g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
                g_autofree char *dest_host_port =
                        g_strdup_printf ("%s:%d", g_uri_get_host (uri), default_port);
                if (!host || (g_ascii_strcasecmp (host, dest_host) != 0 &&
                              g_ascii_strcasecmp (host, dest_host_port) != 0 &&
                              !(g_uri_get_port (uri) == default_port &&
                                g_ascii_strcasecmp (host, g_uri_get_host (uri)) == 0))) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_BAD_GATEWAY,
                                     "Destination is on another server");
                        return NULL;
                }
                path = g_uri_get_path (uri);
        }
        /* /dav/<school>/<mount>/<rest> */
        if (!g_str_has_prefix (path, "/dav/")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "Destination is outside /dav/");
                return NULL;
        }
        g_auto (GStrv) parts = g_strsplit (path + 5, "/", 3);
        if (g_strv_length (parts) < 2) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "Destination names no tree");
                return NULL;
        }
        g_autofree char *school = g_uri_unescape_string (parts[0], NULL);
        if (g_strcmp0 (school, g_hash_table_lookup (req->params, "school")) != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "Destination is in another school");
                return NULL;
        }
        if (!g_str_equal (parts[1], m->mount)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "Destination is in another tree");
                return NULL;
        }
        g_autofree char *rest = parts[2] ? g_uri_unescape_string (parts[2], NULL) : g_strdup ("");
        if (!rest) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "Destination has an invalid escape");
                return NULL;
        }
        gboolean slash;
        return tree_path (rest, &slash, error);
}

static char *
destination (AtriumRequest *req, const AtriumDavMount *m, GError **error)
{
        const char *dest = g_hash_table_lookup (req->headers, "destination");
        if (!dest || !*dest) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "COPY and MOVE need a Destination header");
                return NULL;
        }
        return atrium_dav_path_of_url (req, m, dest, error);
}

/* ---- methods ---- */

static void
respond_empty (AtriumRequest *req, guint status)
{
        atrium_request_respond_bytes (req, status, NULL, NULL);
}

/* @status (403, 409, ...) with a precondition element in @ns (RFC 4918 16, RFC 4791 1.3),
 * e.g. DAV:propfind-finite-depth. */
void
atrium_dav_respond_condition (AtriumRequest *req, guint status, const char *ns,
                              const char *condition)
{
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin_root (&w, "error");
        atrium_dav_write_empty (&w, ns, condition);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, status, "application/xml; charset=utf-8", body);
}

static gboolean
unsupported (const AtriumDavMount *m, const char *what, GError **error)
{
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN, "the %s tree does not allow %s",
                     m->mount, what);
        return FALSE;
}

static AtriumDavEntry *
stat_one (AtriumRequest *req, const AtriumDavMount *m, const char *path, GError **error)
{
        g_autoptr (GPtrArray) got =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (!m->tree.stat (req, path, atrium_dav_collect, got, m->tree.user_data, error))
                return NULL;
        if (got->len != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "the %s tree's stat emitted %u resources", m->mount, got->len);
                return NULL;
        }
        return g_ptr_array_steal_index (got, 0);
}

/* GET of a collection: a plain HTML list, for a person who opens the URL in a browser. */
static gboolean
get_collection (AtriumRequest *req, const AtriumDavMount *m, const char *path, const char *href,
                GError **error)
{
        g_autoptr (GPtrArray) kids =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (!m->tree.list (req, path, atrium_dav_collect, kids, m->tree.user_data, error))
                return FALSE;
        g_autoptr (GString) h =
                g_string_new ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                              "<title>Atrium</title></head><body><ul>\n");
        for (guint i = 0; i < kids->len; i++) {
                const AtriumDavEntry *k = kids->pdata[i];
                if (!k->name)
                        continue;
                g_autofree char *kh = atrium_dav_child_href (href, k->name, k->collection);
                g_autofree char *ekh = g_markup_escape_text (kh, -1);
                g_autofree char *en = g_markup_escape_text (k->name, -1);
                g_string_append_printf (h, "<li><a href=\"%s\">%s%s</a></li>\n", ekh, en,
                                        k->collection ? "/" : "");
        }
        g_string_append (h, "</ul></body></html>\n");
        g_autoptr (GBytes) body = g_string_free_to_bytes (g_steal_pointer (&h));
        atrium_request_respond_bytes (req, 200, "text/html; charset=utf-8", body);
        return TRUE;
}

/* X-OC-MTime (rclone, the Nextcloud clients): unix seconds to keep as the modification time
 * of what was just written. */
static gboolean
apply_mtime (AtriumRequest *req, const AtriumDavMount *m, const char *path, GError **error)
{
        const char *v = g_hash_table_lookup (req->headers, "x-oc-mtime");
        if (!v || !m->tree.set_modified)
                return TRUE;
        char *end = NULL;
        gint64 t = g_ascii_strtoll (v, &end, 10);
        if (!end || *end || end == v || t <= 0 || t > G_GINT64_CONSTANT (253402300799)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "X-OC-MTime is unix seconds");
                return FALSE;
        }
        if (!m->tree.set_modified (req, path, t, m->tree.user_data, error))
                return FALSE;
        atrium_request_add_header (req, "X-OC-MTime", "accepted");
        return TRUE;
}

static gboolean
do_put (AtriumRequest *req, const AtriumDavMount *m, const char *path, gboolean slash,
        GError **error)
{
        if (!m->tree.put)
                return unsupported (m, "writing", error);
        if (slash || !*path) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED,
                             "PUT makes a file; a path ending in '/' is a collection");
                return FALSE;
        }
        /* A new member changes its collection: the parent's lock counts then. */
        gboolean answered = FALSE;
        if (!atrium_dav_locks_check (req, m, path, ATRIUM_DAV_CHECK_PARENT_IF_NEW, &answered,
                                     error))
                return FALSE;
        if (answered)
                return TRUE;
        const char *range = g_hash_table_lookup (req->headers, "content-range");
        if (range) { /* RFC 9110 14.4: a partial PUT we do not apply is refused */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "PUT with Content-Range is not supported");
                return FALSE;
        }
        gboolean created = FALSE;
        g_autoptr (GPtrArray) got =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (!m->tree.put (req, path, &created, atrium_dav_collect, got, m->tree.user_data, error))
                return FALSE;
        if (req->status) /* the tree answered itself: a refusal with a DAV precondition */
                return TRUE;
        if (!apply_mtime (req, m, path, error))
                return FALSE;
        if (got->len == 1 && ((AtriumDavEntry *) got->pdata[0])->etag)
                atrium_request_add_header (req, "ETag", ((AtriumDavEntry *) got->pdata[0])->etag);
        respond_empty (req, created ? 201 : 204);
        return TRUE;
}

static gboolean
do_transfer (AtriumRequest *req, const AtriumDavMount *m, const char *path, gboolean move,
             GError **error)
{
        if (!m->tree.transfer)
                return unsupported (m, move ? "MOVE" : "COPY", error);
        g_autofree char *to = destination (req, m, error);
        if (!to)
                return FALSE;
        if (!*path || !*to) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "the root of a tree cannot be copied, moved or replaced");
                return FALSE;
        }
        if (g_str_equal (path, to)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "source and destination are the same");
                return FALSE;
        }
        const char *ow = g_hash_table_lookup (req->headers, "overwrite");
        if (ow && g_ascii_strcasecmp (ow, "T") != 0 && g_ascii_strcasecmp (ow, "F") != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "Overwrite is T or F");
                return FALSE;
        }
        gboolean answered = FALSE;
        if (!atrium_dav_locks_check (req, m, to, ATRIUM_DAV_CHECK_PARENT | ATRIUM_DAV_CHECK_BELOW,
                                     &answered, error))
                return FALSE;
        if (!answered && move &&
            !atrium_dav_locks_check (req, m, path, ATRIUM_DAV_CHECK_PARENT | ATRIUM_DAV_CHECK_BELOW,
                                     &answered, error))
                return FALSE;
        if (answered)
                return TRUE;
        guint32 flags = (move ? ATRIUM_DAV_MOVE : 0) |
                        (ow && g_ascii_strcasecmp (ow, "F") == 0 ? 0 : ATRIUM_DAV_OVERWRITE);
        g_autoptr (AtriumDavEntry) src = move ? NULL : stat_one (req, m, path, error);
        if (!move && !src)
                return FALSE;
        gboolean replaced = FALSE;
        if (!m->tree.transfer (req, path, to, flags, &replaced, m->tree.user_data, error))
                return FALSE;
        if (move && !atrium_dav_locks_forget (req, m, path, error))
                return FALSE;
        if (!move && src->id) {
                /* A copy's dead properties come along (a move's keep their id). */
                g_autoptr (AtriumDavEntry) dst = stat_one (req, m, to, error);
                if (!dst || !atrium_dav_dead_copy (req, m->mount, src->id, dst->id, error))
                        return FALSE;
                if (src->collection && m->tree.list &&
                    !atrium_dav_dead_copy_members (req, m, path, to, error))
                        return FALSE;
        }
        respond_empty (req, replaced ? 204 : 201);
        return TRUE;
}

static gboolean
handle (AtriumRequest *req, gpointer data, GError **error)
{
        (void) data;
        const AtriumDavMount *m = atrium_dav_mount_of (req);
        if (!m) { /* handle.c refused already; kept for safety */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no such DAV tree");
                return FALSE;
        }
        const char *method = req->method;
        gboolean slash = FALSE;
        g_autofree char *path =
                tree_path (g_hash_table_lookup (req->params, "path"), &slash, error);
        if (!path)
                return FALSE;
        const char *school = g_hash_table_lookup (req->params, "school");
        g_autofree char *href = atrium_dav_href_of (school, m->mount, path, slash);

        if (g_str_equal (method, "OPTIONS")) {
                g_autofree char *classes =
                        m->tree.dav_classes ? g_strconcat ("1, 2, ", m->tree.dav_classes, NULL)
                                            : g_strdup ("1, 2");
                atrium_request_add_header (req, "DAV", classes);
                atrium_request_add_header (req, "MS-Author-Via", "DAV");
                atrium_request_add_header (req, "Allow",
                                           m->tree.report ? DAV_ALLOW DAV_ALLOW_CALDAV : DAV_ALLOW);
                respond_empty (req, 200);
                return TRUE;
        }
        if (g_str_equal (method, "PROPFIND")) {
                const char *depth = g_hash_table_lookup (req->headers, "depth");
                if (!depth || g_ascii_strcasecmp (depth, "infinity") == 0) {
                        atrium_dav_respond_condition (req, 403, ATRIUM_DAV_NS,
                                                      "propfind-finite-depth");
                        return TRUE;
                }
                if (!g_str_equal (depth, "0") && !g_str_equal (depth, "1")) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "Depth is 0 or 1");
                        return FALSE;
                }
                return atrium_dav_propfind (req, m, path, href, error);
        }
        gboolean answered = FALSE;
        if (g_str_equal (method, "REPORT"))
                return atrium_dav_report (req, m, path, href, error);
        static const char *const writes[] = {"PUT",  "DELETE", "MKCOL",      "PROPPATCH",
                                             "COPY", "MOVE",   "MKCALENDAR", NULL};
        if (g_strv_contains (writes, method)) {
                if (!atrium_dav_if_check (req, m, path, &answered, error))
                        return FALSE;
                if (answered)
                        return TRUE;
        }
        if (g_str_equal (method, "PROPPATCH")) {
                g_autoptr (AtriumDavEntry) e = stat_one (req, m, path, error);
                if (!e || !atrium_dav_locks_check (req, m, path, 0, &answered, error))
                        return FALSE;
                return answered || atrium_dav_proppatch (req, m, path, href, e, error);
        }
        if (g_str_equal (method, "MKCALENDAR"))
                return atrium_dav_mkcalendar (req, m, path, error);
        if (g_str_equal (method, "LOCK"))
                return atrium_dav_lock (req, m, path, href, error);
        if (g_str_equal (method, "UNLOCK"))
                return atrium_dav_unlock (req, m, path, error);
        if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD")) {
                /* The tree answers a file at once (no stat first: GET is the hot path); a
                 * collection it refuses with METHOD_NOT_ALLOWED, and gets the listing. */
                g_autoptr (GError) other = NULL;
                if (m->tree.get && m->tree.get (req, path, m->tree.user_data, &other))
                        return TRUE;
                if (other &&
                    !g_error_matches (other, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED)) {
                        g_propagate_error (error, g_steal_pointer (&other));
                        return FALSE;
                }
                g_autoptr (AtriumDavEntry) e = stat_one (req, m, path, error);
                if (!e)
                        return FALSE;
                if (!e->collection) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED,
                                     "the %s tree has no content to GET", m->mount);
                        return FALSE;
                }
                g_autofree char *dir = slash ? g_strdup (href) : g_strconcat (href, "/", NULL);
                return get_collection (req, m, path, dir, error);
        }
        if (g_str_equal (method, "PUT"))
                return do_put (req, m, path, slash, error);
        if (g_str_equal (method, "MKCOL")) {
                if (req->body && g_bytes_get_size (req->body) > 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                                     "MKCOL takes no body");
                        return FALSE;
                }
                if (!m->tree.mkcol)
                        return unsupported (m, "MKCOL", error);
                if (!*path) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED,
                                     "the tree's root exists");
                        return FALSE;
                }
                if (!atrium_dav_locks_check (req, m, path, ATRIUM_DAV_CHECK_PARENT, &answered,
                                             error))
                        return FALSE;
                if (answered)
                        return TRUE;
                if (!m->tree.mkcol (req, path, m->tree.user_data, error))
                        return FALSE;
                respond_empty (req, 201);
                return TRUE;
        }
        if (g_str_equal (method, "DELETE")) {
                if (!m->tree.remove)
                        return unsupported (m, "DELETE", error);
                if (!*path)
                        return unsupported (m, "deleting its root", error);
                if (!atrium_dav_locks_check (req, m, path,
                                             ATRIUM_DAV_CHECK_PARENT | ATRIUM_DAV_CHECK_BELOW,
                                             &answered, error))
                        return FALSE;
                if (answered)
                        return TRUE;
                if (!m->tree.remove (req, path, m->tree.user_data, error))
                        return FALSE;
                if (req->status) /* the tree answered itself (a DAV precondition) */
                        return TRUE;
                if (!atrium_dav_locks_forget (req, m, path, error))
                        return FALSE;
                respond_empty (req, 204);
                return TRUE;
        }
        if (g_str_equal (method, "COPY") || g_str_equal (method, "MOVE"))
                return do_transfer (req, m, path, g_str_equal (method, "MOVE"), error);
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "%s is not supported",
                     method);
        return FALSE;
}

void
atrium_dav_routes (AtriumCore *core)
{
        static const char *const methods[] = {"OPTIONS", "PROPFIND", "PROPPATCH", "GET",  "PUT",
                                              "MKCOL",   "DELETE",   "COPY",      "MOVE", "LOCK",
                                              "UNLOCK",  "REPORT",   "MKCALENDAR"};
        static const char *const templates[] = {"/dav/{school}/{mount}",
                                                "/dav/{school}/{mount}/{path*}"};
        for (guint t = 0; t < G_N_ELEMENTS (templates); t++) {
                for (guint i = 0; i < G_N_ELEMENTS (methods); i++) {
                        const char *mt = methods[i];
                        guint32 flags = ATRIUM_ROUTE_DAV | ATRIUM_ROUTE_RAW_BODY;
                        if (g_str_equal (mt, "PUT"))
                                flags |= ATRIUM_ROUTE_STREAM_BODY;
                        if (g_str_equal (mt, "OPTIONS"))
                                flags |= ATRIUM_ROUTE_PUBLIC;
                        /* The reads (handle.c makes them READ ONLY pipelines): the identity
                         * check travels with the tree's first query. Everything here and in
                         * the trees learns who asks through the accessors, which judge the
                         * check first when no query has taken it along. */
                        if (g_str_equal (mt, "GET") || g_str_equal (mt, "PROPFIND") ||
                            g_str_equal (mt, "REPORT"))
                                flags |= ATRIUM_ROUTE_EARLY_QUERY;
                        const AtriumRoute r = {ATRIUM_ROUTE_INIT,
                                               .method = mt,
                                               .path = templates[t],
                                               .flags = flags,
                                               .summary = "WebDAV (core/dav/README.md)",
                                               .handler = handle};
                        atrium_core_add_routes (core, &r, 1);
                }
        }
        atrium_dav_discovery_routes (core);
}
