/* SPDX-License-Identifier: Apache-2.0 */
/* files.h - the service table the files plugin publishes for other plugins: read a file a
 * person may read (mail attaches files from folders with it), and (version 2) count a
 * person's mailbox against their home quota, so that files and mail share one limit.
 * Installed with the plugin headers. The files module is optional for its users: look the table up when it is needed
 * (lookup_service may be called from any thread) and do without it when it is absent:
 *
 *   const AtriumFilesService *files =
 *           host->lookup_service (self, ATRIUM_FILES_SERVICE, ATRIUM_FILES_SERVICE_VERSION);
 *
 * Calls run inside the caller's transaction (@tx: its school, row-level security). Versioning
 * as in abi.h: functions are only appended and each append bumps the version; a caller that
 * needs a newer function asks lookup_service for that version and checks header.struct_size
 * (ATRIUM_FILES_SERVICE_HAS) before calling it.
 *
 * VERSIONS
 *   1  read_file
 *   2  set_mail_usage, home_usage */
#pragma once

#include <atrium/atrium.h>

G_BEGIN_DECLS

#define ATRIUM_FILES_SERVICE "files"
#define ATRIUM_FILES_SERVICE_VERSION 2

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

        /* ---- version 2 ---- */

        /* Records that @user_id's mailbox now holds @mail_bytes bytes: the mail module's own
         * figure, absolute, not a change (so a figure that was missed, say while the files
         * plugin was not loaded, is right again at the next report). The home quota counts
         * the home's files plus this. With @enforce, a report that would take files + mail past
         * the home quota is refused with INSUFFICIENT_STORAGE and nothing is written; the
         * quota is only enforced when the school has the files module enabled (the figure is
         * kept either way). Locks @user_id's usage row until the end of @tx, so it serialises
         * with uploads to the home; callers that lock rows of their own take those first. */
        gboolean (*set_mail_usage) (AtriumTx *tx, const char *user_id, gint64 mail_bytes,
                                    gboolean enforce, GError **error);
        /* What @user_id's home quota counts: @out_used (files and mail), @out_mail (mail's
         * share of it), @out_limit. @out_applies is FALSE when the school does not have the
         * files module (no home quota is enforced then). FALSE only on a database error. */
        gboolean (*home_usage) (AtriumTx *tx, const char *user_id, gint64 *out_used,
                                gint64 *out_mail, gint64 *out_limit, gboolean *out_applies,
                                GError **error);
} AtriumFilesService;

/* TRUE when the table @svc (a const AtriumFilesService *) has the function @field. */
#define ATRIUM_FILES_SERVICE_HAS(svc, field)                                                    \
        ((svc)->header.struct_size >=                                                          \
         offsetof (AtriumFilesService, field) + sizeof (((AtriumFilesService *) 0)->field))

G_END_DECLS
