/* SPDX-License-Identifier: Apache-2.0 */
/* service.c - the "files" service table (atrium/files.h): other plugins read a file a person
 * may read, without touching this plugin's tables or its store; the mail module reports
 * what each mailbox holds, so that a home's quota counts files and mail as one figure
 * (files.usage.mail_bytes beside bytes; files_quota_get adds them up). */
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

/* Whether the transaction's school has this module (its quotas bind only then), as SQL. */
#define MODULE_ENABLED "EXISTS (SELECT 1 FROM core.school_modules WHERE module = 'files')"

static gboolean
svc_set_mail_usage (AtriumTx *tx, const char *user_id, gint64 mail_bytes, gboolean enforce,
                    GError **error)
{
        if (!user_id || !g_uuid_string_is_valid (user_id) || mail_bytes < 0)
                return files_fail (error, ATRIUM_ERROR_INVALID, "set_mail_usage: bad arguments");
        g_autofree char *mb = g_strdup_printf ("%" G_GINT64_FORMAT, mail_bytes);
        if (mail_bytes == 0)
                /* An emptied (or erased) mailbox makes no row, so the home of a deleted
                 * person, whose row files erased on user.deleted, does not come back. */
                return atrium_done (files_host,
                                    files_tx_sql (tx, error,
                                                  "UPDATE files.usage SET mail_bytes = 0 WHERE "
                                                  "space_type = 'user' AND space_id = $1::uuid",
                                                  1, user_id));
        /* One statement, one round trip per mail delivery: the figure is written unless it
         * grows past the quota with @enforce set and the module on. A row that exists is
         * checked under its lock (ON CONFLICT ... WHERE); a row made now has no files yet,
         * so only the figure itself can pass the quota. Uploads to the home wait for this
         * row lock from here on, as with files_usage_add. */
        g_autofree char *fallback = g_strdup_printf ("%" G_GINT64_FORMAT, files_settings.user_quota);
        AtriumResult *res = files_tx_sql (
                tx, error,
                "WITH q AS (SELECT coalesce((SELECT bytes FROM files.quotas WHERE space_type = "
                "'user' AND space_id = $1::uuid), (SELECT bytes FROM files.quotas WHERE "
                "space_type = 'user' AND space_id IS NULL), $4::bigint) AS quota, "
                "NOT $3::boolean OR NOT " MODULE_ENABLED " AS free) "
                "INSERT INTO files.usage AS u (school_id, space_type, space_id, mail_bytes) "
                "SELECT core.current_school(), 'user', $1::uuid, $2::bigint FROM q WHERE q.free "
                "OR $2::bigint <= q.quota OR EXISTS (SELECT 1 FROM files.usage e WHERE "
                "e.space_type = 'user' AND e.space_id = $1::uuid) "
                "ON CONFLICT (school_id, space_type, space_id) DO UPDATE SET mail_bytes = "
                "EXCLUDED.mail_bytes WHERE (SELECT free FROM q) OR EXCLUDED.mail_bytes <= "
                "u.mail_bytes OR u.bytes + EXCLUDED.mail_bytes <= (SELECT quota FROM q) "
                "RETURNING 1",
                4, user_id, mb, enforce ? "true" : "false", fallback);
        if (!res)
                return FALSE;
        gboolean written = files_host->result_n_rows (res) > 0;
        files_host->result_free (res);
        if (written)
                return TRUE;
        gint64 used, mail, limit;
        if (!files_quota_get (tx, "user", user_id, &used, &mail, &limit, error))
                return FALSE;
        return files_fail (error, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                           "the home quota of user %s is full: %" G_GINT64_FORMAT " bytes of "
                           "files and %" G_GINT64_FORMAT " of mail would pass the %"
                           G_GINT64_FORMAT " allowed",
                           user_id, used - mail, mail_bytes, limit);
}

static gboolean
svc_home_usage (AtriumTx *tx, const char *user_id, gint64 *out_used, gint64 *out_mail,
                gint64 *out_limit, gboolean *out_applies, GError **error)
{
        if (!user_id || !g_uuid_string_is_valid (user_id))
                return files_fail (error, ATRIUM_ERROR_INVALID, "home_usage: bad user id");
        gint64 used, mail, limit;
        if (!files_quota_get (tx, "user", user_id, &used, &mail, &limit, error))
                return FALSE;
        AtriumResult *res = files_tx_sql (tx, error, "SELECT " MODULE_ENABLED, 0);
        if (!res)
                return FALSE;
        *out_applies = g_strcmp0 (files_host->result_value (res, 0, 0), "t") == 0;
        files_host->result_free (res);
        *out_used = used;
        *out_mail = mail;
        *out_limit = limit;
        return TRUE;
}

static const AtriumFilesService service = {
        .header = ATRIUM_STRUCT_HEADER (AtriumFilesService),
        .read_file = svc_read_file,
        .set_mail_usage = svc_set_mail_usage,
        .home_usage = svc_home_usage,
};

gboolean
files_register_service (AtriumPlugin *self, GError **error)
{
        return files_host->provide_service (self, ATRIUM_FILES_SERVICE,
                                            ATRIUM_FILES_SERVICE_VERSION, &service, error);
}
