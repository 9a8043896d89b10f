/* SPDX-License-Identifier: Apache-2.0 */
/* files.h - the service table the files plugin publishes for other plugins: read a file a
 * person may read (mail attaches files from folders with it). Installed with the plugin
 * headers. The files module is optional for its users: look the table up when it is needed
 * (lookup_service may be called from any thread) and do without it when it is absent:
 *
 *   const AtriumFilesService *files =
 *           host->lookup_service (self, ATRIUM_FILES_SERVICE, ATRIUM_FILES_SERVICE_VERSION);
 *
 * Calls run inside the caller's transaction (@tx: its school, row-level security). Versioning
 * as in abi.h: functions are only appended; check header.struct_size before a newer one. */
#pragma once

#include <atrium/atrium.h>

G_BEGIN_DECLS

#define ATRIUM_FILES_SERVICE "files"
#define ATRIUM_FILES_SERVICE_VERSION 1

typedef struct {
        AtriumStructHeader header;

        /* The bytes of the file at @path in @space ("home": @user_id's home; "groups/<id>": a
         * group's tree, if @user_id is a member), as @user_id may read it. NULL with @error:
         * NOT_FOUND (no such file, or not readable by @user_id: the two are not told apart),
         * TOO_LARGE (more than @max_bytes), INVALID (a bad path). On success
         * @out_name and @out_content_type (transfer full) are set. */
        GBytes *(*read_file) (AtriumTx *tx, const char *user_id, const char *space,
                              const char *path, gint64 max_bytes, char **out_name,
                              char **out_content_type, GError **error);
} AtriumFilesService;

G_END_DECLS
