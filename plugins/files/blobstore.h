/* SPDX-License-Identifier: Apache-2.0 */
/* blobstore.h - file contents on disk, content-addressed by SHA-256.
 *
 *   <root>/tmp/<random>.part         an upload being received (never visible to anyone)
 *   <root>/blobs/ab/cd/abcd...(64)   a stored content, immutable, shared by every row naming it
 *
 * An upload is written to a temporary file while its SHA-256 is computed (libgcrypt), then
 * fsync'ed, and only then linked into place and its directory fsync'ed: a crash leaves a
 * stale .part or an unreferenced blob, never a row naming a missing or partial blob (the
 * row is written after the link, in a transaction that commits after it). Orphans and
 * stale .part files are removed by the sweep (files_gc_run in gc.c). */
#pragma once

#include <gio/gio.h>
#include <glib.h>

typedef struct _FilesUpload FilesUpload;

#define FILES_SNIFF_BYTES 4096 /* bytes kept from the start of an upload for type guessing */

/* Creates <root>/blobs and <root>/tmp. */
gboolean files_blobs_init (const char *root, GError **error);
const char *files_blobs_root (void);

FilesUpload *files_upload_new (GError **error);
gboolean files_upload_write (FilesUpload *u, const void *data, gsize len, GError **error);
/* fsync and compute the hash; after this, sha256/size are valid. */
gboolean files_upload_finish (FilesUpload *u, GError **error);
const char *files_upload_sha256 (FilesUpload *u);
gint64 files_upload_size (FilesUpload *u);
/* The first FILES_SNIFF_BYTES bytes (or fewer), for content-type guessing. */
const guint8 *files_upload_head (FilesUpload *u, gsize *out_len);
/* Puts the finished upload into the store (a hard link, unless that content is already
 * there) and makes that durable: before the final transaction, so no pooled connection waits
 * for these fsyncs. A sweep may still remove the blob until a committed row names it, so: */
gboolean files_upload_place (FilesUpload *u, GError **error);
/* Call with the blob's advisory lock held (shared; the sweep takes it exclusively), before the
 * row is written: the blob is there, made again from the temporary file if a sweep removed it
 * after files_upload_place (rare: costs a directory fsync under the lock). */
gboolean files_upload_confirm (FilesUpload *u, GError **error);
/* Removes the temporary file if it is still there. */
void files_upload_free (FilesUpload *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FilesUpload, files_upload_free)

char *files_blob_path (const char *sha256);
/* Opens a stored blob positioned at @offset. */
GInputStream *files_blob_open (const char *sha256, goffset offset, GError **error);
