/* SPDX-License-Identifier: Apache-2.0 */
/* plugin-loader.c - finding, checking and ordering plugins.
 *
 * The gate, in order (docs/ARCHITECTURE.md): the one exported function exists; magic; ABI
 * major equal; plugin minor <= host minor; struct_size >= the first released size. Only then
 * is the descriptor copied (zero-extended) and read. Then the set is ordered by dependencies:
 * missing or too-old dependencies and cycles are refused with one log line each, and so is
 * everything that depends on a refused plugin. A refused plugin stays listed (with its reason)
 * in /api/v1/modules; the rest keep serving unless --strict. Plugins are never dlclose()d: a
 * plugin may have started threads or registered GTypes that outlive any "unload". */
#include "core-private.h"
#include "plugin-host-private.h"

#include <dlfcn.h>
#include <string.h>

/* Semantic versioning 2.0.0 precedence: numeric major.minor.patch, then a version with a
 * pre-release tag sorts before the same version without one, tags compared field by field
 * (numeric fields numerically, and before alphanumeric ones). Build metadata is ignored. */
static int
compare_prerelease (const char *a, const char *b)
{
        if (!a || !b)
                return a ? -1 : b ? 1 : 0;
        g_auto (GStrv) fa = g_strsplit (a, ".", -1);
        g_auto (GStrv) fb = g_strsplit (b, ".", -1);
        for (guint i = 0;; i++) {
                if (!fa[i] || !fb[i])
                        return fa[i] ? 1 : fb[i] ? -1 : 0;
                guint64 x, y;
                gboolean nx = g_ascii_string_to_unsigned (fa[i], 10, 0, G_MAXUINT64, &x, NULL);
                gboolean ny = g_ascii_string_to_unsigned (fb[i], 10, 0, G_MAXUINT64, &y, NULL);
                int c = nx && ny ? (x < y ? -1 : x > y) : nx ? -1 : ny ? 1 : strcmp (fa[i], fb[i]);
                if (c)
                        return c < 0 ? -1 : 1;
        }
}

int
atrium_version_compare (const char *a, const char *b)
{
        g_autofree char *va = g_strndup (a, strcspn (a, "+"));
        g_autofree char *vb = g_strndup (b, strcspn (b, "+"));
        char *pa = strchr (va, '-'), *pb = strchr (vb, '-');
        if (pa)
                *pa++ = '\0';
        if (pb)
                *pb++ = '\0';
        g_auto (GStrv) na = g_strsplit (va, ".", 3);
        g_auto (GStrv) nb = g_strsplit (vb, ".", 3);
        for (int i = 0; i < 3; i++) {
                guint64 x = i < (int) g_strv_length (na) ? g_ascii_strtoull (na[i], NULL, 10) : 0;
                guint64 y = i < (int) g_strv_length (nb) ? g_ascii_strtoull (nb[i], NULL, 10) : 0;
                if (x != y)
                        return x < y ? -1 : 1;
        }
        return compare_prerelease (pa, pb);
}

gboolean
atrium_version_valid (const char *v)
{
        /* \z, not $: PCRE's $ also matches before a final newline. */
        return v && g_regex_match_simple (
                            "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)"
                            "(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?\\z",
                            v, 0, 0);
}

static gboolean
name_valid (const char *name)
{
        return name && g_regex_match_simple ("^[a-z][a-z0-9_]{1,30}\\z", name, 0, 0);
}

void
atrium_plugin_fail (AtriumPlugin *plugin, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        g_free (plugin->failure);
        plugin->failure = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        plugin->state = ATRIUM_PLUGIN_FAILED;
        g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "PLUGIN", plugin->desc.name ? plugin->desc.name : plugin->path, "MESSAGE",
                          "plugin %s refused: %s",
                          plugin->desc.name ? plugin->desc.name : plugin->path, plugin->failure);
}

static AtriumPlugin *
plugin_new (AtriumCore *core, const char *path)
{
        AtriumPlugin *p = g_new0 (AtriumPlugin, 1);
        p->core = core;
        p->path = g_strdup (path);
        p->migrations = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_migration_free);
        return p;
}

void
atrium_plugin_free (AtriumPlugin *p)
{
        if (!p)
                return;
        g_free (p->path);
        g_free (p->failure);
        g_free (p->data_dir);
        g_ptr_array_unref (p->migrations);
        g_free (p);
}

/* Checks the descriptor of the plugin at @path and copies it in. The returned plugin is
 * LOADED; on failure NULL and @error says why, naming both versions where they matter. */
AtriumPlugin *
atrium_plugin_open (AtriumCore *core, const char *path, GError **error)
{
        void *dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "cannot load: %s",
                             dlerror ());
                return NULL;
        }
        AtriumPluginDescriptorFunc fn;
        *(void **) &fn = dlsym (dl, ATRIUM_PLUGIN_SYMBOL);
        if (!fn) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "not an Atrium plugin: no %s() exported", ATRIUM_PLUGIN_SYMBOL);
                return NULL;
        }
        const AtriumPluginDescriptor *d = fn ();
        if (!d) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "%s() returned no descriptor", ATRIUM_PLUGIN_SYMBOL);
                return NULL;
        }
        const AtriumStructHeader *h = &d->header;
        if (h->magic != ATRIUM_MAGIC) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "wrong magic 0x%08x (expected 0x%08x): not built against "
                             "Atrium headers",
                             h->magic, ATRIUM_MAGIC);
                return NULL;
        }
        if (h->abi_major != ATRIUM_ABI_MAJOR) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "built for ABI %u.%u, host is %u.%u (major differs)", h->abi_major,
                             h->abi_minor, ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
                return NULL;
        }
        if (h->abi_minor > ATRIUM_ABI_MINOR) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "built for ABI %u.%u, host is %u.%u (plugin is newer)",
                             h->abi_major, h->abi_minor, ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
                return NULL;
        }
        if (h->struct_size < ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "descriptor is %u bytes, smaller than any released ABI (%zu)",
                             h->struct_size, (size_t) ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0);
                return NULL;
        }
        AtriumPlugin *p = plugin_new (core, path);
        p->dl_handle = dl;
        memcpy (&p->desc, d, MIN ((size_t) h->struct_size, sizeof p->desc));
        p->desc_minor = h->abi_minor;

        const char *why = NULL;
        if (!name_valid (p->desc.name))
                why = "name must match [a-z][a-z0-9_]{1,30}";
        else if (!atrium_version_valid (p->desc.version))
                why = "version is not a semantic version (1.2.3)";
        else if (!p->desc.init)
                why = "descriptor has no init callback";
        for (const AtriumPermission *perm = p->desc.permissions; !why && perm && perm->name;
             perm++) {
                g_autofree char *prefix = g_strconcat (p->desc.name, ".", NULL);
                if (!g_str_has_prefix (perm->name, prefix) || strlen (perm->name) > 63)
                        why = "every permission must be named <plugin>.<verb>";
        }
        for (const AtriumDependency *dep = p->desc.dependencies; !why && dep && dep->name; dep++)
                if (dep->min_version && !atrium_version_valid (dep->min_version))
                        why = "a dependency's min_version is not a semantic version";
        if (why) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "%s", why);
                atrium_plugin_free (p);
                return NULL;
        }
        return p;
}

AtriumPlugin *
atrium_core_find_plugin (AtriumCore *core, const char *name)
{
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->desc.name && g_str_equal (p->desc.name, name))
                        return p;
        }
        return NULL;
}

static int
by_string (gconstpointer a, gconstpointer b)
{
        return strcmp (*(char *const *) a, *(char *const *) b);
}

gboolean
atrium_plugins_load_dir (AtriumCore *core, const char *dir, GError **error)
{
        g_autoptr (GDir) d = g_dir_open (dir, 0, error);
        if (!d) {
                g_prefix_error (error, "plugin directory: ");
                return FALSE;
        }
        g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
        const char *n;
        while ((n = g_dir_read_name (d)))
                if (g_str_has_suffix (n, ".so"))
                        g_ptr_array_add (names, g_strdup (n));
        g_ptr_array_sort (names, by_string);

        gboolean all_ok = TRUE;
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
                g_autoptr (GError) local = NULL;
                AtriumPlugin *p = atrium_plugin_open (core, path, &local);
                if (!p) {
                        /* Keep a record so /api/v1/modules can say what was refused and why. */
                        p = plugin_new (core, path);
                        atrium_plugin_fail (p, "%s", local->message);
                        all_ok = FALSE;
                } else if (atrium_core_find_plugin (core, p->desc.name)) {
                        AtriumPlugin *first = atrium_core_find_plugin (core, p->desc.name);
                        atrium_plugin_fail (p, "duplicate plugin name %s (already loaded from %s)",
                                            p->desc.name, first->path);
                        p->desc.name = NULL; /* so lookups keep finding the first one */
                        all_ok = FALSE;
                }
                g_ptr_array_add (core->plugins, p);
        }
        if (!all_ok && core->config->strict) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "--strict: a plugin was refused (see log)");
                return FALSE;
        }
        return TRUE;
}

/* Depth-first topological sort. @mark: 0 unvisited, 1 on the stack, 2 done. */
static void
visit (AtriumCore *core, AtriumPlugin *p, GHashTable *mark, GPtrArray *order)
{
        int m = GPOINTER_TO_INT (g_hash_table_lookup (mark, p));
        if (m == 2)
                return;
        if (m == 1) {
                /* Met on the stack again: a cycle. A plugin on several cycles is refused once. */
                if (p->state != ATRIUM_PLUGIN_FAILED)
                        atrium_plugin_fail (p, "dependency cycle through %s", p->desc.name);
                return;
        }
        g_hash_table_insert (mark, p, GINT_TO_POINTER (1));
        for (const AtriumDependency *dep = p->desc.dependencies; dep && dep->name; dep++) {
                AtriumPlugin *q = atrium_core_find_plugin (core, dep->name);
                if (!q) {
                        if (p->state != ATRIUM_PLUGIN_FAILED)
                                atrium_plugin_fail (p, "missing dependency %s", dep->name);
                        continue;
                }
                if (dep->min_version &&
                    atrium_version_compare (q->desc.version, dep->min_version) < 0) {
                        if (p->state != ATRIUM_PLUGIN_FAILED)
                                atrium_plugin_fail (p, "needs %s >= %s, found %s", dep->name,
                                                    dep->min_version, q->desc.version);
                        continue;
                }
                visit (core, q, mark, order);
                if (q->state == ATRIUM_PLUGIN_FAILED && p->state != ATRIUM_PLUGIN_FAILED)
                        atrium_plugin_fail (p, "dependency %s was refused", dep->name);
        }
        g_hash_table_insert (mark, p, GINT_TO_POINTER (2));
        g_ptr_array_add (order, p);
}

gboolean
atrium_plugins_init_all (AtriumCore *core, GError **error)
{
        g_autoptr (GHashTable) mark = g_hash_table_new (NULL, NULL);
        g_autoptr (GPtrArray) order = g_ptr_array_new ();
        g_autoptr (GPtrArray) failed = g_ptr_array_new ();
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (g_hash_table_contains (mark, p))
                        continue;
                if (p->state == ATRIUM_PLUGIN_FAILED)
                        g_ptr_array_add (failed, p);
                else
                        visit (core, p, mark, order);
        }
        /* A cycle is only noticed at the plugin where it closes; the others on it are marked
         * through "dependency was refused" on the way back. */
        gboolean all_ok = failed->len == 0;
        for (guint i = 0; i < order->len; i++) {
                AtriumPlugin *p = order->pdata[i];
                for (const AtriumDependency *dep = p->desc.dependencies;
                     p->state != ATRIUM_PLUGIN_FAILED && dep && dep->name; dep++) {
                        AtriumPlugin *q = atrium_core_find_plugin (core, dep->name);
                        if (q && q->state == ATRIUM_PLUGIN_FAILED)
                                atrium_plugin_fail (p, "dependency %s was refused", dep->name);
                }
                if (p->state == ATRIUM_PLUGIN_FAILED) {
                        all_ok = FALSE;
                        continue;
                }
                g_autoptr (GError) local = NULL;
                p->in_init = TRUE;
                gboolean ok = p->desc.init (p, core->host, &local);
                p->in_init = FALSE;
                if (!ok) {
                        atrium_core_drop_registrations (core, p);
                        atrium_plugin_fail (p, "init failed: %s",
                                            local ? local->message : "(no reason given)");
                        all_ok = FALSE;
                        continue;
                }
                p->state = ATRIUM_PLUGIN_RUNNING;
        }
        /* Keep core->plugins in init order (failed ones last) so stop can walk it backwards. */
        g_ptr_array_set_free_func (core->plugins, NULL);
        g_ptr_array_set_size (core->plugins, 0);
        for (guint i = 0; i < order->len; i++)
                g_ptr_array_add (core->plugins, order->pdata[i]);
        for (guint i = 0; i < failed->len; i++)
                g_ptr_array_add (core->plugins, failed->pdata[i]);
        g_ptr_array_set_free_func (core->plugins, (GDestroyNotify) atrium_plugin_free);

        if (!all_ok && core->config->strict) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "--strict: a plugin was refused (see log)");
                return FALSE;
        }
        return TRUE;
}

gboolean
atrium_plugins_start_all (AtriumCore *core, GError **error)
{
        for (guint i = 0; i < core->plugins->len; i++) {
                AtriumPlugin *p = core->plugins->pdata[i];
                if (p->state != ATRIUM_PLUGIN_RUNNING || !p->desc.start)
                        continue;
                g_autoptr (GError) local = NULL;
                if (!p->desc.start (p, &local)) {
                        if (p->desc.stop)
                                p->desc.stop (p);
                        atrium_core_drop_registrations (core, p);
                        atrium_plugin_fail (p, "start failed: %s",
                                            local ? local->message : "(no reason given)");
                        if (core->config->strict) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                             "--strict: plugin %s failed to start",
                                             p->desc.name);
                                return FALSE;
                        }
                }
        }
        return TRUE;
}

void
atrium_plugins_stop_all (AtriumCore *core)
{
        for (guint i = core->plugins->len; i > 0; i--) {
                AtriumPlugin *p = core->plugins->pdata[i - 1];
                if (p->state != ATRIUM_PLUGIN_RUNNING)
                        continue;
                if (p->desc.stop)
                        p->desc.stop (p);
        }
        for (guint i = core->plugins->len; i > 0; i--) {
                AtriumPlugin *p = core->plugins->pdata[i - 1];
                if (p->state != ATRIUM_PLUGIN_RUNNING)
                        continue;
                if (p->desc.fini)
                        p->desc.fini (p);
                p->state = ATRIUM_PLUGIN_LOADED;
        }
}
