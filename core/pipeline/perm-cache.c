/* SPDX-License-Identifier: Apache-2.0 */
/* perm-cache.c - the callers' permission lists a host keeps between requests.
 *
 * Computing what a caller may do (the roles' grants plus every permission source) was most of
 * PostgreSQL's work on an authenticated read. The host keeps the list per session (keyed by
 * the token's hash) together with the school's permission epoch it was computed at, and sends
 * that epoch with the identity check: core.request_identity() computes the list again only when
 * the school's epoch moved (schema/0004_permission_cache.sql). The epoch and the rights are read
 * in one snapshot, so nothing here can go stale: a withdrawn right fails the very next request
 * on every host. The session itself is checked on every request; only the list is kept.
 *
 * Entries are immutable and reference-counted: a request takes its snapshot when it sends the
 * check and uses it when the answer says the epoch still holds, whatever other threads store
 * meanwhile. Permission names are interned (a small vocabulary), so an entry is its key and an
 * array of pointers. When the table is full it is emptied: each session then pays for one
 * computation again. */
#include "pipeline-private.h"

struct _AtriumPermSet {
        gatomicrefcount ref;
        gint64 epoch;
        guint n;
        const char *perms[]; /* interned, sorted as the database sent them */
};

struct _AtriumPermCache {
        GMutex lock;
        GHashTable *sets; /* token hash -> AtriumPermSet */
        guint max;
        guint64 current, computed; /* identity checks: the kept list held, or was computed */
};

AtriumPermSet *
atrium_perm_set_ref (AtriumPermSet *set)
{
        g_atomic_ref_count_inc (&set->ref);
        return set;
}

void
atrium_perm_set_unref (AtriumPermSet *set)
{
        if (set && g_atomic_ref_count_dec (&set->ref))
                g_free (set);
}

gint64
atrium_perm_set_epoch (const AtriumPermSet *set)
{
        return set->epoch;
}

guint
atrium_perm_set_size (const AtriumPermSet *set)
{
        return set->n;
}

const char *
atrium_perm_set_get (const AtriumPermSet *set, guint i)
{
        return i < set->n ? set->perms[i] : NULL;
}

gboolean
atrium_perm_set_has (const AtriumPermSet *set, const char *permission)
{
        for (guint i = 0; set && i < set->n; i++)
                if (g_str_equal (set->perms[i], permission))
                        return TRUE;
        return FALSE;
}

AtriumPermSet *
atrium_perm_set_new (gint64 epoch, const char *const *perms)
{
        guint n = perms ? g_strv_length ((char **) perms) : 0;
        AtriumPermSet *set = g_malloc (sizeof *set + n * sizeof (const char *));
        g_atomic_ref_count_init (&set->ref);
        set->epoch = epoch;
        set->n = n;
        for (guint i = 0; i < n; i++)
                set->perms[i] = g_intern_string (perms[i]);
        return set;
}

AtriumPermCache *
atrium_perm_cache_new (guint max_entries)
{
        AtriumPermCache *c = g_new0 (AtriumPermCache, 1);
        g_mutex_init (&c->lock);
        c->sets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) atrium_perm_set_unref);
        c->max = MAX (max_entries, 1);
        return c;
}

void
atrium_perm_cache_free (AtriumPermCache *c)
{
        if (!c)
                return;
        g_hash_table_unref (c->sets);
        g_mutex_clear (&c->lock);
        g_free (c);
}

AtriumPermSet *
atrium_perm_cache_lookup (AtriumPermCache *c, const char *key)
{
        if (!c || !key)
                return NULL;
        g_mutex_lock (&c->lock);
        AtriumPermSet *set = g_hash_table_lookup (c->sets, key);
        if (set)
                atrium_perm_set_ref (set);
        g_mutex_unlock (&c->lock);
        return set;
}

void
atrium_perm_cache_store (AtriumPermCache *c, const char *key, AtriumPermSet *set)
{
        if (!c || !key)
                return;
        g_mutex_lock (&c->lock);
        AtriumPermSet *old = g_hash_table_lookup (c->sets, key);
        /* Another request of the same session may have stored a newer list meanwhile. */
        if (!old || old->epoch < set->epoch) {
                if (!old && g_hash_table_size (c->sets) >= c->max)
                        g_hash_table_remove_all (c->sets);
                g_hash_table_replace (c->sets, g_strdup (key), atrium_perm_set_ref (set));
        }
        g_mutex_unlock (&c->lock);
}

void
atrium_perm_cache_forget (AtriumPermCache *c, const char *key)
{
        if (!c || !key)
                return;
        g_mutex_lock (&c->lock);
        g_hash_table_remove (c->sets, key);
        g_mutex_unlock (&c->lock);
}

void
atrium_perm_cache_count (AtriumPermCache *c, gboolean current)
{
        if (!c)
                return;
        g_mutex_lock (&c->lock);
        if (current)
                c->current++;
        else
                c->computed++;
        g_mutex_unlock (&c->lock);
}

guint
atrium_perm_cache_stats (AtriumPermCache *c, guint64 *out_current, guint64 *out_computed)
{
        g_mutex_lock (&c->lock);
        guint n = g_hash_table_size (c->sets);
        *out_current = c->current;
        *out_computed = c->computed;
        g_mutex_unlock (&c->lock);
        return n;
}
