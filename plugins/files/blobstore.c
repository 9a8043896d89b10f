/* SPDX-License-Identifier: Apache-2.0 */
/* blobstore.c - file contents on disk (see blobstore.h for the layout and the crash rules). */
#include "blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <atrium/atrium.h>

static char *blobs_root;

struct _FilesUpload {
        char *tmp_path; /* NULL once stored */
        int fd;
        gcry_md_hd_t md;
        gint64 size;
        char sha256[65];
        guint8 head[FILES_SNIFF_BYTES];
        gsize head_len;
};

static gboolean
io_fail (GError **error, const char *what, const char *path)
{
        int e = errno;
        /* A full disk is the client's 507, anything else an internal error. */
        g_set_error (error, ATRIUM_ERROR,
                     e == ENOSPC || e == EDQUOT ? ATRIUM_ERROR_INSUFFICIENT_STORAGE
                                                : ATRIUM_ERROR_INTERNAL,
                     "%s %s: %s", what, path, g_strerror (e));
        return FALSE;
}

static gboolean
fsync_dir (const char *dir, GError **error)
{
        int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return io_fail (error, "open", dir);
        int rc = fsync (fd);
        close (fd);
        return rc == 0 || io_fail (error, "fsync", dir);
}

gboolean
files_blobs_init (const char *root, GError **error)
{
        g_autofree char *blobs = g_build_filename (root, "blobs", NULL);
        g_autofree char *tmp = g_build_filename (root, "tmp", NULL);
        if (g_mkdir_with_parents (blobs, 0700) != 0)
                return io_fail (error, "mkdir", blobs);
        if (g_mkdir_with_parents (tmp, 0700) != 0)
                return io_fail (error, "mkdir", tmp);
        g_free (blobs_root);
        blobs_root = g_strdup (root);
        return TRUE;
}

const char *
files_blobs_root (void)
{
        return blobs_root;
}

FilesUpload *
files_upload_new (GError **error)
{
        guint8 rnd[12];
        if (getrandom (rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd) {
                io_fail (error, "getrandom", "");
                return NULL;
        }
        GString *name = g_string_new (NULL);
        for (gsize i = 0; i < sizeof rnd; i++)
                g_string_append_printf (name, "%02x", rnd[i]);
        g_string_append (name, ".part");
        g_autoptr (FilesUpload) u = g_new0 (FilesUpload, 1);
        u->fd = -1;
        u->tmp_path = g_build_filename (blobs_root, "tmp", name->str, NULL);
        g_string_free (name, TRUE);
        u->fd = open (u->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (u->fd < 0) {
                io_fail (error, "create", u->tmp_path);
                g_clear_pointer (&u->tmp_path, g_free); /* nothing to remove */
                return NULL;
        }
        if (gcry_md_open (&u->md, GCRY_MD_SHA256, 0) != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "SHA-256 unavailable");
                return NULL;
        }
        return g_steal_pointer (&u);
}

gboolean
files_upload_write (FilesUpload *u, const void *data, gsize len, GError **error)
{
        if (u->head_len < sizeof u->head) {
                gsize n = MIN (len, sizeof u->head - u->head_len);
                memcpy (u->head + u->head_len, data, n);
                u->head_len += n;
        }
        gcry_md_write (u->md, data, len);
        const guint8 *p = data;
        while (len) {
                ssize_t n = write (u->fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return io_fail (error, "write", u->tmp_path);
                p += n;
                len -= (gsize) n;
                u->size += n;
        }
        return TRUE;
}

gboolean
files_upload_finish (FilesUpload *u, GError **error)
{
        if (fsync (u->fd) != 0)
                return io_fail (error, "fsync", u->tmp_path);
        const guint8 *digest = gcry_md_read (u->md, GCRY_MD_SHA256);
        for (int i = 0; i < 32; i++)
                g_snprintf (u->sha256 + 2 * i, 3, "%02x", digest[i]);
        return TRUE;
}

const char *
files_upload_sha256 (FilesUpload *u)
{
        return u->sha256;
}

gint64
files_upload_size (FilesUpload *u)
{
        return u->size;
}

const guint8 *
files_upload_head (FilesUpload *u, gsize *out_len)
{
        *out_len = u->head_len;
        return u->head;
}

char *
files_blob_path (const char *sha256)
{
        char a[3] = {sha256[0], sha256[1], 0}, b[3] = {sha256[2], sha256[3], 0};
        return g_build_filename (blobs_root, "blobs", a, b, sha256, NULL);
}

/* mkdir -p of the two fan-out levels, each new directory made durable in its parent. */
static gboolean
ensure_dir (const char *dir, GError **error)
{
        if (g_file_test (dir, G_FILE_TEST_IS_DIR))
                return TRUE;
        g_autofree char *parent = g_path_get_dirname (dir);
        if (!ensure_dir (parent, error))
                return FALSE;
        if (mkdir (dir, 0700) != 0 && errno != EEXIST)
                return io_fail (error, "mkdir", dir);
        return fsync_dir (parent, error);
}

/* Hard-links the finished upload to its blob path unless that content is already there, and
 * makes the name durable. The .part stays (files_upload_free removes it), so the blob can be
 * made again from it. */
static gboolean
link_blob (FilesUpload *u, const char *target, GError **error)
{
        g_autofree char *dir = g_path_get_dirname (target);
        if (!ensure_dir (dir, error))
                return FALSE;
        if (g_file_test (target, G_FILE_TEST_IS_REGULAR))
                return TRUE; /* the same content is already stored */
        if (link (u->tmp_path, target) != 0 && errno != EEXIST)
                return io_fail (error, "link into", target);
        return fsync_dir (dir, error);
}

gboolean
files_upload_place (FilesUpload *u, GError **error)
{
        g_autofree char *target = files_blob_path (u->sha256);
        return link_blob (u, target, error);
}

gboolean
files_upload_confirm (FilesUpload *u, GError **error)
{
        g_autofree char *target = files_blob_path (u->sha256);
        /* A sweep that ran between placing and the lock may have removed it (the content was
         * unreferenced then): make it again. */
        return link_blob (u, target, error);
}

void
files_upload_free (FilesUpload *u)
{
        if (!u)
                return;
        if (u->fd >= 0)
                close (u->fd);
        if (u->tmp_path) {
                g_unlink (u->tmp_path);
                g_free (u->tmp_path);
        }
        if (u->md)
                gcry_md_close (u->md);
        g_free (u);
}

GInputStream *
files_blob_open (const char *sha256, goffset offset, GError **error)
{
        g_autofree char *path = files_blob_path (sha256);
        g_autoptr (GFile) file = g_file_new_for_path (path);
        g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
        if (!in) {
                g_prefix_error (error, "stored content %s: ", sha256);
                return NULL;
        }
        if (offset > 0 &&
            !g_seekable_seek (G_SEEKABLE (in), offset, G_SEEK_SET, NULL, error))
                return NULL;
        return G_INPUT_STREAM (g_steal_pointer (&in));
}
