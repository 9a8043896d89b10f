/* SPDX-License-Identifier: Apache-2.0 */
/* gc.c - what is left behind: expired trash, blobs no row names, stale temporary files.
 *
 * "atriumd files gc" runs all three and prints what it did; a serving host runs them every
 * [files] gc_interval seconds. Several hosts may sweep at once:
 *
 *   - trash: each school in transactions of TRASH_BATCH items, rows locked as they are purged;
 *   - blobs: in batches; for each batch one statement takes the blobs' advisory locks
 *     (pg_try_advisory_xact_lock, skipping any an upload holds), a second one (a fresh
 *     snapshot, taken after the locks) asks which no row names, and those files are unlinked
 *     before the transaction ends. An upload places its blob first (no transaction open),
 *     then takes the same lock (shared), makes sure the blob is still there (linking it again
 *     from its temporary file if a sweep removed it meanwhile) and holds the lock until its
 *     row has committed, so a row never names a removed blob;
 *   - .part files not written to for an hour (a host died mid-upload). */
#include "files-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define BATCH 500
#define TRASH_BATCH 1000 /* expired trash items of one school per transaction */
#define STALE_PART_SECONDS 3600

typedef struct {
        guint trash_items;
        guint blobs_removed;
        guint64 bytes_removed;
        guint blobs_kept;
        guint parts_removed;
} GcReport;

gboolean files_trash_purge (AtriumTx *tx, const char *id, GError **error);

/* ---- trash ---- */

typedef struct {
        const char *cutoff;
        GPtrArray *schools;
        GcReport *report;
        guint batch_items; /* purged by the last purge_school */
} TrashJob;

static gboolean
find_schools (AtriumTx *tx, gpointer data, GError **error)
{
        TrashJob *j = data;
        AtriumResult *res = files_tx_sql (tx, error,
                                          "SELECT files.schools_with_old_trash($1::timestamptz)",
                                          1, j->cutoff);
        if (!res)
                return FALSE;
        for (int i = 0; i < files_host->result_n_rows (res); i++)
                g_ptr_array_add (j->schools, g_strdup (files_host->result_value (res, i, 0)));
        files_host->result_free (res);
        return TRUE;
}

static gboolean
purge_school (AtriumTx *tx, gpointer data, GError **error)
{
        TrashJob *j = data;
        j->batch_items = 0;
        AtriumResult *res = files_tx_sql (tx, error,
                                          "SELECT id FROM files.trash WHERE deleted_at < "
                                          "$1::timestamptz ORDER BY deleted_at LIMIT " G_STRINGIFY (
                                                  TRASH_BATCH) " FOR UPDATE SKIP LOCKED",
                                          1, j->cutoff);
        if (!res)
                return FALSE;
        gboolean ok = TRUE;
        for (int i = 0; ok && i < files_host->result_n_rows (res); i++) {
                ok = files_trash_purge (tx, files_host->result_value (res, i, 0), error);
                if (ok)
                        j->batch_items++;
        }
        files_host->result_free (res);
        return ok;
}

static gboolean
expire_trash (GcReport *report, GError **error)
{
        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        g_autoptr (GDateTime) cut = g_date_time_add_days (now, -(gint) files_settings.trash_days);
        g_autofree char *cutoff = g_date_time_format_iso8601 (cut);
        g_autoptr (GPtrArray) schools = g_ptr_array_new_with_free_func (g_free);
        TrashJob j = {.cutoff = cutoff, .schools = schools, .report = report};
        if (!files_host->run_tx (files_self, NULL, find_schools, &j, error))
                return FALSE;
        /* Batch after batch, each committed, until a school's comes back short: a school
         * that empties more than a batch into the trash a day must not fall behind. */
        for (guint i = 0; i < schools->len; i++)
                do {
                        if (!files_host->run_tx (files_self, schools->pdata[i], purge_school, &j,
                                                 error))
                                return FALSE;
                        report->trash_items += j.batch_items;
                } while (j.batch_items == TRASH_BATCH);
        return TRUE;
}

/* ---- blobs ---- */

typedef struct {
        GPtrArray *hashes; /* char*, a batch */
        GcReport *report;
} BlobBatch;

static char *
array_literal (GPtrArray *items)
{
        GString *s = g_string_new ("{");
        for (guint i = 0; i < items->len; i++)
                g_string_append_printf (s, "%s%s", i ? "," : "", (char *) items->pdata[i]);
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

static gboolean
sweep_batch (AtriumTx *tx, gpointer data, GError **error)
{
        BlobBatch *b = data;
        g_autofree char *all = array_literal (b->hashes);
        AtriumResult *locked = files_tx_sql (
                tx, error,
                "SELECT h FROM unnest($1::text[]) h WHERE "
                "pg_try_advisory_xact_lock(1718185061, ('x' || substr(h, 1, 8))::bit(32)::int)",
                1, all);
        if (!locked)
                return FALSE;
        g_autoptr (GPtrArray) mine = g_ptr_array_new_with_free_func (g_free);
        for (int i = 0; i < files_host->result_n_rows (locked); i++)
                g_ptr_array_add (mine, g_strdup (files_host->result_value (locked, i, 0)));
        files_host->result_free (locked);
        b->report->blobs_kept += b->hashes->len - mine->len;
        if (!mine->len)
                return TRUE;
        g_autofree char *candidates = array_literal (mine);
        AtriumResult *unused = files_tx_sql (tx, error, "SELECT files.blobs_unused($1::text[])",
                                             1, candidates);
        if (!unused)
                return FALSE;
        int n = files_host->result_n_rows (unused);
        b->report->blobs_kept += mine->len - (guint) n;
        for (int i = 0; i < n; i++) {
                g_autofree char *path = files_blob_path (files_host->result_value (unused, i, 0));
                GStatBuf st;
                if (g_stat (path, &st) == 0 && g_unlink (path) == 0) {
                        b->report->blobs_removed++;
                        b->report->bytes_removed += (guint64) st.st_size;
                }
        }
        files_host->result_free (unused);
        return TRUE;
}

static gboolean
is_hash (const char *name)
{
        if (strlen (name) != 64)
                return FALSE;
        for (const char *c = name; *c; c++)
                if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
                        return FALSE;
        return TRUE;
}

static gboolean
flush (BlobBatch *b, GError **error)
{
        if (!b->hashes->len)
                return TRUE;
        gboolean ok = files_host->run_tx (files_self, NULL, sweep_batch, b, error);
        g_ptr_array_set_size (b->hashes, 0);
        return ok;
}

static gboolean
sweep_blobs (GcReport *report, GError **error)
{
        g_autofree char *top = g_build_filename (files_blobs_root (), "blobs", NULL);
        g_autoptr (GDir) d1 = g_dir_open (top, 0, error);
        if (!d1)
                return FALSE;
        BlobBatch b = {.hashes = g_ptr_array_new_with_free_func (g_free), .report = report};
        gboolean ok = TRUE;
        const char *a;
        while (ok && (a = g_dir_read_name (d1))) {
                g_autofree char *p1 = g_build_filename (top, a, NULL);
                g_autoptr (GDir) d2 = g_dir_open (p1, 0, NULL);
                const char *bn;
                while (ok && d2 && (bn = g_dir_read_name (d2))) {
                        g_autofree char *p2 = g_build_filename (p1, bn, NULL);
                        g_autoptr (GDir) d3 = g_dir_open (p2, 0, NULL);
                        const char *name;
                        while (ok && d3 && (name = g_dir_read_name (d3))) {
                                if (!is_hash (name))
                                        continue;
                                g_ptr_array_add (b.hashes, g_strdup (name));
                                if (b.hashes->len >= BATCH)
                                        ok = flush (&b, error);
                        }
                }
        }
        ok = ok && flush (&b, error);
        g_ptr_array_unref (b.hashes);
        return ok;
}

static void
sweep_parts (GcReport *report)
{
        g_autofree char *dir = g_build_filename (files_blobs_root (), "tmp", NULL);
        g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
        if (!d)
                return;
        gint64 now = g_get_real_time () / G_USEC_PER_SEC;
        const char *name;
        while ((name = g_dir_read_name (d))) {
                if (!g_str_has_suffix (name, ".part"))
                        continue;
                g_autofree char *path = g_build_filename (dir, name, NULL);
                GStatBuf st;
                if (g_stat (path, &st) == 0 && now - st.st_mtime > STALE_PART_SECONDS &&
                    g_unlink (path) == 0)
                        report->parts_removed++;
        }
}

static gboolean
gc_run (GcReport *report, GError **error)
{
        if (!expire_trash (report, error) || !sweep_blobs (report, error))
                return FALSE;
        sweep_parts (report);
        return TRUE;
}

static int
gc_command (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        if (argc != 0) {
                g_printerr ("usage: atriumd files gc\n");
                return 2;
        }
        GcReport r = {0};
        g_autoptr (GError) error = NULL;
        if (!gc_run (&r, &error)) {
                g_printerr ("atriumd files gc: %s\n", error->message);
                return 1;
        }
        g_print ("trash items expired: %u\nblobs removed: %u (%" G_GUINT64_FORMAT
                 " bytes)\nblobs kept: %u\ntemporary files removed: %u\n",
                 r.trash_items, r.blobs_removed, r.bytes_removed, r.blobs_kept, r.parts_removed);
        return 0;
}

static void
gc_timer (AtriumPlugin *self, gpointer data)
{
        GcReport r = {0};
        g_autoptr (GError) error = NULL;
        g_autofree char *msg = NULL;
        if (!gc_run (&r, &error))
                msg = g_strdup_printf ("sweep failed: %s", error->message);
        else if (r.trash_items || r.blobs_removed || r.parts_removed)
                msg = g_strdup_printf ("sweep: %u trash items expired, %u blobs (%" G_GUINT64_FORMAT
                                       " bytes) and %u temporary files removed",
                                       r.trash_items, r.blobs_removed, r.bytes_removed,
                                       r.parts_removed);
        if (msg)
                files_host->log (self, error ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_MESSAGE, msg);
}

gboolean
files_register_gc (AtriumPlugin *self, GError **error)
{
        if (!files_host->add_command (self, "gc",
                                      "expire the trash, remove unreferenced blobs and stale "
                                      "temporary files",
                                      gc_command, NULL, error))
                return FALSE;
        return files_settings.gc_interval == 0 ||
               files_host->add_timer (self, files_settings.gc_interval, gc_timer, NULL, error);
}
