/* SPDX-License-Identifier: Apache-2.0 */
/* resources.h - a helper compiled into the plugin (static inline: no host symbol) that
 * registers every "*.sql" file under a GResource folder as a migration, in name order. Ship
 * the plugin's schema/ files inside the .so with glib-compile-resources (meson:
 * gnome.compile_resources), so the binary and its schema can never disagree. */
#pragma once

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static inline int
atrium_resources_cmp_ (const void *a, const void *b)
{
        return strcmp (*(char *const *) a, *(char *const *) b);
}

/**
 * atrium_add_migrations_from_resource:
 * @host: the table handed to init
 * @self: the plugin
 * @resource: (transfer none): the plugin's compiled resource
 * @folder: (transfer none): resource path of the folder holding the .sql files
 *   ("/org/example/x/schema")
 * @error: set on failure
 *
 * Calls host->add_migration() for every "*.sql" under @folder, in name order.
 *
 * Called: from init only (add_migration is a registration slot).
 * Errors: a G_RESOURCE_ERROR when @folder or a file cannot be read; add_migration's errors.
 * Returns: %TRUE, or %FALSE with @error set.
 * Since: 1.0
 */
static inline gboolean
atrium_add_migrations_from_resource (const AtriumHost *host, AtriumPlugin *self,
                                     GResource *resource, const char *folder, GError **error)
{
        char **names = g_resource_enumerate_children (resource, folder, 0, error);
        if (!names)
                return FALSE;
        qsort (names, g_strv_length (names), sizeof (char *), atrium_resources_cmp_);
        gboolean ok = TRUE;
        for (char **n = names; ok && *n; n++) {
                if (!g_str_has_suffix (*n, ".sql"))
                        continue;
                char *path = g_strconcat (folder, "/", *n, NULL);
                GBytes *b = g_resource_lookup_data (resource, path, 0, error);
                g_free (path);
                if (!b) {
                        ok = FALSE;
                        break;
                }
                char *sql = g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
                ok = host->add_migration (self, *n, sql, error);
                g_free (sql);
                g_bytes_unref (b);
        }
        g_strfreev (names);
        return ok;
}
