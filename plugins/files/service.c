/* SPDX-License-Identifier: Apache-2.0 */
/* service.c - the "files" service table (atrium/files.h): other plugins read a file a person
 * may read, without touching this plugin's tables or its store. */
#include "files-private.h"

#include <atrium/files.h>
#include <string.h>

static GBytes *
svc_read_file (AtriumTx *tx, const char *user_id, const char *space, const char *path,
               gint64 max_bytes, char **out_name, char **out_content_type, GError **error)
{
        FilesSpace sp = {0};
        g_autofree char *norm = NULL;
        if (!user_id || !g_uuid_string_is_valid (user_id) || !space || !path) {
                files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such file");
                return NULL;
        }
        if (!(norm = files_path_normalize (path, strlen (path), NULL, error)))
                return NULL;
        if (g_str_equal (space, "home")) {
                sp.type = "user";
                sp.id = g_strdup (user_id);
        } else if (g_str_has_prefix (space, "groups/") && g_uuid_string_is_valid (space + 7)) {
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!files_groups->is_member (tx, space + 7, user_id, &role, error))
                        return NULL;
                if (role == ATRIUM_GROUP_ROLE_NONE) {
                        files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file %s in %s", path,
                                    space);
                        return NULL;
                }
                sp.type = "group";
                sp.id = g_strdup (space + 7);
        } else {
                files_fail (error, ATRIUM_ERROR_INVALID,
                            "a space is \"home\" or \"groups/<group id>\", not \"%s\"", space);
                return NULL;
        }
        g_autoptr (FilesNode) node = files_node_lookup (tx, &sp, norm, FALSE, error);
        g_free (sp.id);
        if (!node || !g_str_equal (node->kind, "file")) {
                if (!error || !*error)
                        files_fail (error, ATRIUM_ERROR_NOT_FOUND, "no file %s in %s", path,
                                    space);
                return NULL;
        }
        if (node->size > max_bytes) {
                files_fail (error, ATRIUM_ERROR_TOO_LARGE,
                            "%s has %" G_GINT64_FORMAT " bytes, more than %" G_GINT64_FORMAT,
                            path, node->size, max_bytes);
                return NULL;
        }
        g_autoptr (GInputStream) in = files_blob_open (node->sha256, 0, error);
        if (!in)
                return NULL;
        gsize len = (gsize) node->size, got = 0;
        g_autofree guint8 *buf = g_malloc (len ? len : 1);
        if (!g_input_stream_read_all (in, buf, len, &got, NULL, error))
                return NULL;
        if (got != len) {
                files_fail (error, ATRIUM_ERROR_INTERNAL, "stored content of %s is short", path);
                return NULL;
        }
        g_autoptr (GBytes) data = g_bytes_new_take (g_steal_pointer (&buf), len);
        *out_name = g_strdup (node->name);
        *out_content_type = g_strdup (node->content_type ? node->content_type
                                                         : "application/octet-stream");
        return g_steal_pointer (&data);
}

static const AtriumFilesService service = {
        .header = ATRIUM_STRUCT_HEADER (AtriumFilesService),
        .read_file = svc_read_file,
};

gboolean
files_register_service (AtriumPlugin *self, GError **error)
{
        return files_host->provide_service (self, ATRIUM_FILES_SERVICE,
                                            ATRIUM_FILES_SERVICE_VERSION, &service, error);
}
