/* SPDX-License-Identifier: Apache-2.0 */
/* school-cache.c - which school a {school} names and that a module is on there, kept.
 *
 * Resolving the slug and asking whether the route's module is enabled was a join and an
 * EXISTS in every school route's identity check, for an answer that changes a few times a
 * year. A host keeps it per (slug, module) with the school's epoch it was resolved at, and
 * sends both with the check; core.request_identity_at() trusts them only while that epoch is
 * still the school's, and resolves the school anew otherwise (schema/0017_school_cache.sql).
 * A change of a school's slug or modules takes a new epoch in its own transaction, so nothing
 * kept here outlives it by a request, on any host. Only schools found with their module on
 * are kept; anything else is asked of the database every time.
 *
 * Small and shared by every thread: one lock, emptied when full (each school is then resolved
 * once more). */
#include "pipeline-private.h"

#include <string.h>

typedef struct {
        char id[37]; /* the school's uuid */
        gint64 epoch;
} SchoolEntry;

struct _AtriumSchoolCache {
        GMutex lock;
        GHashTable *entries; /* "slug\x1fmodule" -> SchoolEntry */
        guint max;
        guint64 kept, resolved; /* school routes' identity checks, by how the school was known */
};

static char *
key_of (const char *slug, const char *module)
{
        return g_strconcat (slug, "\x1f", module ? module : "", NULL);
}

AtriumSchoolCache *
atrium_school_cache_new (guint max_entries)
{
        AtriumSchoolCache *c = g_new0 (AtriumSchoolCache, 1);
        g_mutex_init (&c->lock);
        c->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        c->max = MAX (max_entries, 1);
        return c;
}

void
atrium_school_cache_free (AtriumSchoolCache *c)
{
        if (!c)
                return;
        g_hash_table_unref (c->entries);
        g_mutex_clear (&c->lock);
        g_free (c);
}

gboolean
atrium_school_cache_lookup (AtriumSchoolCache *c, const char *slug, const char *module,
                            char out_id[37], gint64 *out_epoch)
{
        if (!c || !slug)
                return FALSE;
        g_autofree char *key = key_of (slug, module);
        g_mutex_lock (&c->lock);
        const SchoolEntry *e = g_hash_table_lookup (c->entries, key);
        if (e) {
                memcpy (out_id, e->id, sizeof e->id);
                *out_epoch = e->epoch;
        }
        g_mutex_unlock (&c->lock);
        return e != NULL;
}

void
atrium_school_cache_store (AtriumSchoolCache *c, const char *slug, const char *module,
                           const char *school_id, gint64 epoch)
{
        if (!c || !slug || !school_id || strlen (school_id) != 36)
                return;
        SchoolEntry *e = g_new (SchoolEntry, 1);
        memcpy (e->id, school_id, sizeof e->id);
        e->epoch = epoch;
        char *key = key_of (slug, module);
        g_mutex_lock (&c->lock);
        const SchoolEntry *old = g_hash_table_lookup (c->entries, key);
        /* Another request may have kept what a later epoch says meanwhile. */
        if (old && old->epoch > epoch) {
                g_free (key);
                g_free (e);
        } else {
                if (!old && g_hash_table_size (c->entries) >= c->max)
                        g_hash_table_remove_all (c->entries);
                g_hash_table_replace (c->entries, key, e);
        }
        g_mutex_unlock (&c->lock);
}

void
atrium_school_cache_forget (AtriumSchoolCache *c, const char *slug, const char *module)
{
        if (!c || !slug)
                return;
        g_autofree char *key = key_of (slug, module);
        g_mutex_lock (&c->lock);
        g_hash_table_remove (c->entries, key);
        g_mutex_unlock (&c->lock);
}

void
atrium_school_cache_count (AtriumSchoolCache *c, gboolean kept)
{
        if (!c)
                return;
        g_mutex_lock (&c->lock);
        if (kept)
                c->kept++;
        else
                c->resolved++;
        g_mutex_unlock (&c->lock);
}

guint
atrium_school_cache_stats (AtriumSchoolCache *c, guint64 *out_kept, guint64 *out_resolved)
{
        g_mutex_lock (&c->lock);
        guint n = g_hash_table_size (c->entries);
        *out_kept = c->kept;
        *out_resolved = c->resolved;
        g_mutex_unlock (&c->lock);
        return n;
}
