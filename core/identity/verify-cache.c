/* SPDX-License-Identifier: Apache-2.0 */
/* verify-cache.c - successful password verifications remembered for a minute.
 *
 * Some clients send a password with every request: file managers and sync tools over WebDAV
 * (HTTP Basic), and the browsers of a class downloading one password-protected share link. An
 * Argon2id verification costs tens of milliseconds by design, so a success is kept in memory
 * for ATRIUM_VERIFY_CACHE_TTL. The key is an HMAC, with a key drawn at random per process, over
 * a scope (whose secret it is: a user's id, a link), the stored hash and the secret given: the
 * secret itself is never kept, and a changed password (a new stored hash, a new salt) misses at
 * once. Failures are never kept: they go to the throttles. */
#include "identity-private.h"

#include <gcrypt.h>
#include <string.h>

static GMutex cache_lock;
static GHashTable *cache; /* HMAC hex -> gint64* expiry (monotonic) */
static guint8 cache_key[32];

char *
atrium_verify_cache_key (const char *scope, const char *stored_hash, const char *secret)
{
        static gsize init;
        if (g_once_init_enter (&init)) {
                gcry_randomize (cache_key, sizeof cache_key, GCRY_STRONG_RANDOM);
                g_once_init_leave (&init, 1);
        }
        g_autoptr (GHmac) mac = g_hmac_new (G_CHECKSUM_SHA256, cache_key, sizeof cache_key);
        /* Lengths first, so no two triples run together into the same bytes. */
        const char *parts[] = {scope, stored_hash, secret};
        for (int i = 0; i < 3; i++) {
                guint32 n = GUINT32_TO_BE ((guint32) strlen (parts[i]));
                g_hmac_update (mac, (const guchar *) &n, sizeof n);
                g_hmac_update (mac, (const guchar *) parts[i], strlen (parts[i]));
        }
        return g_strdup (g_hmac_get_string (mac));
}

gboolean
atrium_verify_cache_hit_at (const char *key, gint64 now)
{
        g_mutex_lock (&cache_lock);
        gint64 *until = cache ? g_hash_table_lookup (cache, key) : NULL;
        gboolean hit = until && *until > now;
        if (until && !hit)
                g_hash_table_remove (cache, key);
        g_mutex_unlock (&cache_lock);
        return hit;
}

gboolean
atrium_verify_cache_hit (const char *key)
{
        return atrium_verify_cache_hit_at (key, g_get_monotonic_time ());
}

static gboolean
expired (gpointer key, gpointer value, gpointer now)
{
        (void) key;
        return *(gint64 *) value <= *(gint64 *) now;
}

void
atrium_verify_cache_store_at (char *key, gint64 now)
{
        g_mutex_lock (&cache_lock);
        if (!cache)
                cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        if (g_hash_table_size (cache) >= ATRIUM_VERIFY_CACHE_MAX) {
                g_hash_table_foreach_remove (cache, expired, &now);
                if (g_hash_table_size (cache) >= ATRIUM_VERIFY_CACHE_MAX)
                        g_hash_table_remove_all (cache); /* costs only re-verifications */
        }
        gint64 *until = g_new (gint64, 1);
        *until = now + ATRIUM_VERIFY_CACHE_TTL;
        g_hash_table_replace (cache, key, until);
        g_mutex_unlock (&cache_lock);
}

void
atrium_verify_cache_store (char *key)
{
        atrium_verify_cache_store_at (key, g_get_monotonic_time ());
}

guint
atrium_verify_cache_size (void)
{
        g_mutex_lock (&cache_lock);
        guint n = cache ? g_hash_table_size (cache) : 0;
        g_mutex_unlock (&cache_lock);
        return n;
}

gboolean
atrium_password_verify_cached (const char *scope, const char *stored_hash, const char *secret)
{
        g_autofree char *key = atrium_verify_cache_key (scope, stored_hash, secret);
        if (atrium_verify_cache_hit (key))
                return TRUE;
        if (!atrium_password_verify (secret, stored_hash, NULL))
                return FALSE;
        atrium_verify_cache_store (g_steal_pointer (&key));
        return TRUE;
}
