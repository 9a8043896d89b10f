/* SPDX-License-Identifier: Apache-2.0 */
/* assets.c - the portal's static files: bundles read from GResources, served under
 * content-hashed URLs.
 *
 * A bundle is every file under one GResource folder (the shell's, or one plugin page's), read
 * into memory once at registration. Its URL prefix is /portal/assets/<hash>/, the hash taken
 * over every name and content of the bundle: ES modules import each other by relative paths,
 * which stay inside one bundle, so a page's files move together to a new prefix whenever any
 * of them changes, and every URL under a prefix can be cached for a year (immutable). Each
 * file has its own strong ETag (its SHA-256) for the revalidations browsers still make. */
#include "portal-private.h"

#include <string.h>

#include "atrium/crypto.h"
#include "pipeline-private.h"

/* Bytes a bundle may hold: portal pages are small, and everything is kept in memory. */
#define BUNDLE_MAX (8 * 1024 * 1024)

typedef struct {
        GBytes *data;
        char *etag;
        const char *content_type; /* static */
} Asset;

struct _AtriumPortalBundle {
        char *hash;
        GHashTable *files; /* path under the folder -> Asset */
        gsize size;
};

static void
asset_free (Asset *a)
{
        g_bytes_unref (a->data);
        g_free (a->etag);
        g_free (a);
}

void
atrium_portal_bundle_free (AtriumPortalBundle *bundle)
{
        if (!bundle)
                return;
        g_free (bundle->hash);
        g_hash_table_unref (bundle->files);
        g_free (bundle);
}

static const char *
content_type_of (const char *path)
{
        static const struct {
                const char *ext, *type;
        } types[] = {
                {".js", "text/javascript; charset=utf-8"},
                {".mjs", "text/javascript; charset=utf-8"},
                {".css", "text/css; charset=utf-8"},
                {".html", "text/html; charset=utf-8"},
                {".json", "application/json"},
                {".svg", "image/svg+xml"},
                {".png", "image/png"},
                {".ico", "image/x-icon"},
                {".woff2", "font/woff2"},
                {".txt", "text/plain; charset=utf-8"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
                if (g_str_has_suffix (path, types[i].ext))
                        return types[i].type;
        return "application/octet-stream";
}

static gboolean
read_folder (AtriumPortalBundle *b, GResource *resource, const char *folder, const char *rel,
             GError **error)
{
        g_autofree char *dir = g_strconcat (folder, rel, NULL);
        g_auto (GStrv) names = g_resource_enumerate_children (resource, dir, 0, error);
        if (!names)
                return FALSE;
        for (char **n = names; *n; n++) {
                g_autofree char *sub = g_strconcat (rel, *n, NULL);
                if (g_str_has_suffix (*n, "/")) {
                        if (!read_folder (b, resource, folder, sub, error))
                                return FALSE;
                        continue;
                }
                g_autofree char *full = g_strconcat (folder, sub, NULL);
                GBytes *data = g_resource_lookup_data (resource, full, 0, error);
                if (!data)
                        return FALSE;
                gsize len = 0;
                const void *p = g_bytes_get_data (data, &len);
                b->size += len;
                if (b->size > BUNDLE_MAX) {
                        g_bytes_unref (data);
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "portal assets under %s exceed %d bytes", folder, BUNDLE_MAX);
                        return FALSE;
                }
                Asset *a = g_new0 (Asset, 1);
                a->data = data;
                g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, p ? p : "", len);
                a->etag = g_strdup_printf ("\"%.32s\"", hex);
                a->content_type = content_type_of (sub);
                g_hash_table_insert (b->files, g_steal_pointer (&sub), a);
        }
        return TRUE;
}

static int
compare_strs (gconstpointer a, gconstpointer b)
{
        return strcmp (*(const char *const *) a, *(const char *const *) b);
}

AtriumPortalBundle *
atrium_portal_bundle_new (GResource *resource, const char *folder, GError **error)
{
        g_return_val_if_fail (resource != NULL && folder != NULL, NULL);
        g_autofree char *base = g_str_has_suffix (folder, "/") ? g_strdup (folder)
                                                               : g_strconcat (folder, "/", NULL);
        g_autoptr (AtriumPortalBundle) b = g_new0 (AtriumPortalBundle, 1);
        b->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) asset_free);
        if (!read_folder (b, resource, base, "", error))
                return NULL;
        /* The prefix's hash: every name with its content's hash, in name order. */
        g_autofree gpointer *keys = g_hash_table_get_keys_as_array (b->files, NULL);
        guint n = g_hash_table_size (b->files);
        qsort (keys, n, sizeof *keys, compare_strs);
        g_autoptr (GString) all = g_string_new (NULL);
        for (guint i = 0; i < n; i++) {
                Asset *a = g_hash_table_lookup (b->files, keys[i]);
                g_string_append_printf (all, "%s\n%s\n", (const char *) keys[i], a->etag);
        }
        g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, all->str, all->len);
        b->hash = g_strndup (hex, 20);
        return g_steal_pointer (&b);
}

const char *
atrium_portal_bundle_hash (const AtriumPortalBundle *bundle)
{
        return bundle->hash;
}

gboolean
atrium_portal_bundle_has (const AtriumPortalBundle *bundle, const char *path)
{
        return g_hash_table_contains (bundle->files, path);
}

/* Does If-None-Match (a list of tags, or "*") name @etag? */
static gboolean
etag_matches (const char *if_none_match, const char *etag)
{
        if (!if_none_match)
                return FALSE;
        g_auto (GStrv) tags = g_strsplit (if_none_match, ",", -1);
        for (char **t = tags; *t; t++) {
                const char *s = g_strstrip (*t);
                if (g_str_has_prefix (s, "W/"))
                        s += 2;
                if (g_str_equal (s, "*") || g_str_equal (s, etag))
                        return TRUE;
        }
        return FALSE;
}

void
atrium_portal_security_headers (AtriumRequest *req)
{
        /* Everything from this origin, nothing inline, nothing from elsewhere; no framing
         * (clickjacking), no plugins, forms only back here. The portal's pages put their
         * styles in stylesheets and set element styles only through the CSSOM, which
         * style-src does not govern. */
        atrium_request_add_header (
                req, "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
        atrium_request_add_header (req, "X-Content-Type-Options", "nosniff");
        atrium_request_add_header (req, "Referrer-Policy", "same-origin");
        atrium_request_add_header (req, "X-Frame-Options", "DENY");
        atrium_request_add_header (req, "Cross-Origin-Opener-Policy", "same-origin");
}

gboolean
atrium_portal_bundle_respond (const AtriumPortalBundle *bundle, AtriumRequest *req,
                              const char *path, const char *cache_control)
{
        const Asset *a = g_hash_table_lookup (bundle->files, path);
        if (!a)
                return FALSE;
        atrium_portal_security_headers (req);
        atrium_request_add_header (req, "ETag", a->etag);
        atrium_request_add_header (req, "Cache-Control", cache_control);
        if (etag_matches (g_hash_table_lookup (req->headers, "if-none-match"), a->etag)) {
                atrium_request_respond_bytes (req, 304, NULL, NULL);
                return TRUE;
        }
        atrium_request_respond_bytes (req, 200, a->content_type, a->data);
        return TRUE;
}
