/* SPDX-License-Identifier: Apache-2.0 */
/* download.c - one file out, for GET/HEAD of a path (transfer.c) and the public share link
 * (shares.c): the blob streamed back (respond_stream) with ETag (the content hash),
 * Last-Modified, one byte range (206/416, If-Range) and the conditional requests If-Match
 * (412), If-None-Match and If-Modified-Since (an exact echo of our Last-Modified; 304).
 * Downloads carry "X-Content-Type-Options: nosniff" and a sandbox CSP so that an uploaded
 * HTML page cannot run script on the API's origin. */
#include "files-private.h"

#include "files-range.h"

static void
download_headers (AtriumRequest *req, const FilesNode *node, const char *etag,
                  const char *last_modified)
{
        files_host->response_header (req, "ETag", etag);
        if (last_modified)
                files_host->response_header (req, "Last-Modified", last_modified);
        files_host->response_header (req, "Accept-Ranges", "bytes");
        files_host->response_header (req, "Cache-Control", "private, no-cache");
        files_host->response_header (req, "X-Content-Type-Options", "nosniff");
        files_host->response_header (req, "Content-Security-Policy", "sandbox");
}

gboolean
files_respond_download (AtriumRequest *req, const FilesNode *node, GError **error)
{
        g_autofree char *etag = files_node_etag (node);
        g_autofree char *last_modified = files_http_date (node->modified);
        const char *im = files_host->request_header (req, "if-match");
        const char *inm = files_host->request_header (req, "if-none-match");
        const char *ims = files_host->request_header (req, "if-modified-since");
        if (im && !files_etag_list_matches (im, etag, FALSE))
                return files_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                   "If-Match: the file has changed (its ETag is %s)", etag);
        download_headers (req, node, etag, last_modified);
        if ((inm && files_etag_list_matches (inm, etag, TRUE)) ||
            (!inm && ims && last_modified && g_str_equal (ims, last_modified))) {
                files_host->respond_bytes (req, 304, NULL, NULL);
                return TRUE;
        }
        gint64 start = 0, end = node->size - 1;
        guint status = 200;
        const char *range = files_host->request_header (req, "range");
        if (range && files_if_range_matches (files_host->request_header (req, "if-range"), etag,
                                             node->modified)) {
                switch (files_range_parse (range, node->size, &start, &end)) {
                case FILES_RANGE_OK:
                        status = 206;
                        break;
                case FILES_RANGE_UNSATISFIABLE: {
                        g_autofree char *cr =
                                g_strdup_printf ("bytes */%" G_GINT64_FORMAT, node->size);
                        files_host->response_header (req, "Content-Range", cr);
                        return files_fail (error, ATRIUM_ERROR_RANGE_NOT_SATISFIABLE,
                                           "the file has %" G_GINT64_FORMAT
                                           " bytes; the range asks for none of them",
                                           node->size);
                }
                case FILES_RANGE_NONE:
                        start = 0;
                        end = node->size - 1;
                        break;
                }
        }
        if (status == 206) {
                g_autofree char *cr = g_strdup_printf ("bytes %" G_GINT64_FORMAT
                                                       "-%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                       start, end, node->size);
                files_host->response_header (req, "Content-Range", cr);
        }
        gint64 length = node->size ? end - start + 1 : 0;
        /* Opened now, inside the handler: a missing blob is an error we can still answer. */
        GInputStream *in = files_blob_open (node->sha256, start, error);
        if (!in)
                return FALSE;
        files_host->respond_stream (
                req, status, node->content_type ? node->content_type : "application/octet-stream",
                in, length);
        return TRUE;
}
