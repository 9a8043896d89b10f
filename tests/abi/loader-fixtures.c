/* SPDX-License-Identifier: Apache-2.0 */
/* loader-fixtures.c - the loader (core/plugin-host/plugin-loader.c) over every fixture folder of
 * tests/fixtures, in-process and without a database: which plugins it refuses, with which
 * message, that it logs each refusal exactly once, that --strict turns any refusal fatal, that
 * a failed init leaves no route, subscription, service or migration behind, that a plugin
 * built against the frozen 1.0 headers reads as absent every descriptor field appended since,
 * and that plugins built against the frozen 1.1 to 1.4 headers keep what they set (the 1.1
 * hooks, and the 1.2 command registered through a slot appended in 1.2).
 *
 * tests/integration/test_loader.py checks the same cases through a real host over HTTP; this
 * one sees the internals the HTTP side cannot (the zero-extended descriptor copy, the
 * registration lists) and runs in milliseconds.
 *
 *   abi-loader-fixtures FIXTURES_DIR      (build/tests/fixtures) */
#include "core-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <stdio.h>
#include <string.h>

static int failures;
static GPtrArray *log_lines; /* every message logged while a case ran */

#define CHECK(cond, ...)                                                                        \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        failures++;                                                             \
                        printf ("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);               \
                        printf (__VA_ARGS__);                                                   \
                        printf ("\n");                                                          \
                }                                                                               \
        } while (0)

static GLogWriterOutput
capture (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        (void) level;
        (void) user_data;
        for (gsize i = 0; i < n_fields; i++)
                if (g_str_equal (fields[i].key, "MESSAGE"))
                        g_ptr_array_add (log_lines, g_strdup (fields[i].value));
        return G_LOG_WRITER_HANDLED;
}

typedef struct {
        AtriumConfig *config;
        AtriumCore *core;
        gboolean ok; /* what load_dir && init_all returned */
} Run;

static void
run_free (Run *r)
{
        atrium_core_free (r->core);
        atrium_config_free (r->config);
        g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

static Run *
run_case (const char *fixtures, const char *dir, gboolean strict)
{
        g_autoptr (GError) error = NULL;
        Run *r = g_new0 (Run, 1);
        r->config = atrium_config_load (NULL, &error);
        g_assert_no_error (error);
        r->config->strict = strict;
        r->core = atrium_core_new (r->config);
        g_ptr_array_set_size (log_lines, 0);
        g_autofree char *path = g_build_filename (fixtures, dir, NULL);
        r->ok = atrium_plugins_load_dir (r->core, path, &error) &&
                atrium_plugins_init_all (r->core, &error);
        return r;
}

static AtriumPlugin *
plugin_by_file (Run *r, const char *file)
{
        for (guint i = 0; i < r->core->plugins->len; i++) {
                AtriumPlugin *p = r->core->plugins->pdata[i];
                g_autofree char *base = g_path_get_basename (p->path);
                if (g_str_equal (base, file))
                        return p;
        }
        return NULL;
}

static guint
lines_containing (const char *needle)
{
        guint n = 0;
        for (guint i = 0; i < log_lines->len; i++)
                if (strstr (log_lines->pdata[i], needle))
                        n++;
        return n;
}

/* @file loaded and initialised. */
static void
expect_running (Run *r, const char *file)
{
        AtriumPlugin *p = plugin_by_file (r, file);
        CHECK (p != NULL, "%s not listed", file);
        if (!p)
                return;
        CHECK (p->state == ATRIUM_PLUGIN_RUNNING, "%s: state %d, failure \"%s\"", file, p->state,
               p->failure ? p->failure : "");
        CHECK (p->failure == NULL, "%s: failure \"%s\"", file, p->failure);
}

/* @file refused with a message containing @reason, logged exactly once, and none of its
 * registrations left. */
static void
expect_refused (Run *r, const char *file, const char *reason)
{
        AtriumPlugin *p = plugin_by_file (r, file);
        CHECK (p != NULL, "%s not listed", file);
        if (!p)
                return;
        CHECK (p->state == ATRIUM_PLUGIN_FAILED, "%s: state %d", file, p->state);
        CHECK (p->failure && strstr (p->failure, reason), "%s: failure \"%s\" lacks \"%s\"", file,
               p->failure ? p->failure : "(none)", reason);
        if (p->failure) {
                /* "plugin <name or path> refused: <failure>", once per plugin: a refusal
                 * logged twice reads as two problems to an operator. Two plugins may be
                 * refused for the same words ("dependency x was refused"), so count those. */
                guint same = 0;
                for (guint i = 0; i < r->core->plugins->len; i++) {
                        AtriumPlugin *q = r->core->plugins->pdata[i];
                        if (q->state == ATRIUM_PLUGIN_FAILED && q->failure &&
                            g_str_equal (q->failure, p->failure))
                                same++;
                }
                g_autofree char *line = g_strdup_printf ("refused: %s", p->failure);
                guint n = lines_containing (line);
                CHECK (n == same, "%s: refusal logged %u times, expected %u", file, n, same);
        }
        for (guint i = 0; i < r->core->routes->len; i++)
                CHECK (((AtriumRouteEntry *) r->core->routes->pdata[i])->owner != p,
                       "%s: a route of the refused plugin is still registered", file);
        for (guint i = 0; i < r->core->subscriptions->len; i++)
                CHECK (((AtriumSubscription *) r->core->subscriptions->pdata[i])->owner != p,
                       "%s: a subscription of the refused plugin is still registered", file);
        for (guint i = 0; i < r->core->services->len; i++)
                CHECK (((AtriumService *) r->core->services->pdata[i])->owner != p,
                       "%s: a service of the refused plugin is still registered", file);
        CHECK (p->migrations->len == 0, "%s: %u migrations still queued", file,
               p->migrations->len);
}

/* Every plugin of the case is accounted for: nothing refused that was not expected. */
static void
expect_count (Run *r, guint plugins, guint refused)
{
        guint failed = 0;
        for (guint i = 0; i < r->core->plugins->len; i++)
                if (((AtriumPlugin *) r->core->plugins->pdata[i])->state == ATRIUM_PLUGIN_FAILED)
                        failed++;
        CHECK (r->core->plugins->len == plugins, "%u plugins listed, expected %u",
               r->core->plugins->len, plugins);
        CHECK (failed == refused, "%u plugins refused, expected %u", failed, refused);
        CHECK (r->ok == TRUE, "without --strict the host must carry on");
        guint logged = lines_containing (" refused: ");
        CHECK (logged == refused, "%u refusals logged, expected %u", logged, refused);
}

/* The same folder under --strict: fatal exactly when something is refused. */
static void
expect_strict (const char *fixtures, const char *dir, gboolean fatal)
{
        g_autoptr (Run) r = run_case (fixtures, dir, TRUE);
        CHECK (r->ok == !fatal, "%s under --strict: %s", dir,
               fatal ? "a refusal must be fatal" : "nothing refused, must start");
}

typedef struct {
        const char *dir;
        const char *file;   /* NULL: several plugins, checked by a function below */
        const char *reason; /* NULL: must load */
} Single;

static void
case_single (const char *fixtures, const Single *c)
{
        printf ("%s\n", c->dir);
        g_autoptr (Run) r = run_case (fixtures, c->dir, FALSE);
        expect_count (r, 1, c->reason ? 1 : 0);
        if (c->reason)
                expect_refused (r, c->file, c->reason);
        else
                expect_running (r, c->file);
        expect_strict (fixtures, c->dir, c->reason != NULL);
}

static void
case_old_descriptor (const char *fixtures)
{
        printf ("old-descriptor: zero-extended copy\n");
        g_autoptr (Run) r = run_case (fixtures, "old-descriptor", FALSE);
        AtriumPlugin *p = plugin_by_file (r, "old_descriptor.so");
        CHECK (p != NULL && p->state == ATRIUM_PLUGIN_RUNNING, "old_descriptor must load");
        if (!p)
                return;
        CHECK (p->desc_minor == 0, "built for minor %u, expected 0", p->desc_minor);
        CHECK (p->desc.header.struct_size == ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0,
               "struct_size %u, expected the 1.0 size %zu", p->desc.header.struct_size,
               (size_t) ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0);
        /* The fixture puts non-zero words right after its 1.0 descriptor; every field the
         * host's descriptor has beyond 1.0 must still read as zero (absent). */
        const guint8 *bytes = (const guint8 *) &p->desc;
        for (size_t i = ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0; i < sizeof p->desc; i++)
                CHECK (bytes[i] == 0,
                       "descriptor byte %zu (beyond the 1.0 size) is 0x%02x: the loader read "
                       "past the plugin's struct_size",
                       i, bytes[i]);
        CHECK (p->desc.permissions && g_str_equal (p->desc.permissions[0].name,
                                                   "old_descriptor.read"),
               "1.0 fields must read as the plugin wrote them");
        guint routes = 0;
        for (guint i = 0; i < r->core->routes->len; i++)
                if (((AtriumRouteEntry *) r->core->routes->pdata[i])->owner == p)
                        routes++;
        CHECK (routes == 1, "old_descriptor registered %u routes through the 1.0 table", routes);
}

/* frozen-1.N: frozen-minor.c built against tests/abi/1.N. */
static void
case_frozen_minor (const char *fixtures, guint minor)
{
        g_autofree char *dir = g_strdup_printf ("frozen-1.%u", minor);
        g_autofree char *file = g_strdup_printf ("frozen_1_%u.so", minor);
        g_autofree char *name = g_strdup_printf ("frozen_1_%u", minor);
        printf ("%s: 1.1 hooks kept, 1.2 slot used only when built for 1.2\n", dir);
        g_autoptr (Run) r = run_case (fixtures, dir, FALSE);
        AtriumPlugin *p = plugin_by_file (r, file);
        CHECK (p != NULL && p->state == ATRIUM_PLUGIN_RUNNING, "%s must load", file);
        if (!p)
                return;
        CHECK (p->desc_minor == minor, "built for minor %u, expected %u", p->desc_minor, minor);
        /* No descriptor field came after 1.1, so 1.1 to 1.4 write the same size. */
        const size_t size_1_1 = offsetof (AtriumPluginDescriptor, user_export) + sizeof (void *);
        CHECK (p->desc.header.struct_size == size_1_1, "struct_size %u, expected the 1.1 size %zu",
               p->desc.header.struct_size, size_1_1);
        CHECK (p->desc.school_enable && p->desc.school_disable && p->desc.user_export,
               "the 1.1 hooks the plugin set must read as set");
        const guint8 *bytes = (const guint8 *) &p->desc;
        for (size_t i = p->desc.header.struct_size; i < sizeof p->desc; i++)
                CHECK (bytes[i] == 0,
                       "descriptor byte %zu (beyond the plugin's struct_size) is "
                       "0x%02x",
                       i, bytes[i]);
        CHECK (g_str_equal (p->desc.name, name), "name %s, expected %s", p->desc.name, name);
        guint routes = 0;
        for (guint i = 0; i < r->core->routes->len; i++)
                if (((AtriumRouteEntry *) r->core->routes->pdata[i])->owner == p)
                        routes++;
        CHECK (routes == 1, "%s registered %u routes", file, routes);
        /* The command exists exactly in the build whose headers have add_command (1.2). */
        CHECK (r->core->tasks->len == (minor >= 2 ? 1u : 0u), "%s registered %u commands", file,
               r->core->tasks->len);
        if (minor >= 2) {
                char *argv[] = {name, (char *) "abi", NULL};
                CHECK (atrium_tasks_run_command (r->core, 2, argv) == 0,
                       "\"atriumd %s abi\" failed", name);
        }
}

static void
case_old_dep (const char *fixtures)
{
        printf ("old-dep\n");
        g_autoptr (Run) r = run_case (fixtures, "old-dep", FALSE);
        expect_count (r, 2, 1);
        expect_running (r, "base.so");
        expect_refused (r, "needy.so", "needs base >= 2.0.0, found 1.0.0");
        expect_strict (fixtures, "old-dep", TRUE);
}

static void
case_cycle (const char *fixtures)
{
        printf ("cycle\n");
        g_autoptr (Run) r = run_case (fixtures, "cycle", FALSE);
        expect_count (r, 3, 2);
        expect_refused (r, "cycle_a.so", "cycle");
        expect_refused (r, "cycle_b.so", "cycle_a");
        expect_running (r, "ok.so");
        expect_strict (fixtures, "cycle", TRUE);

        printf ("cycle-twice\n");
        g_autoptr (Run) t = run_case (fixtures, "cycle-twice", FALSE);
        expect_count (t, 3, 3);
        expect_refused (t, "twice_a.so", "cycle");
        expect_refused (t, "twice_b.so", "twice_a");
        expect_refused (t, "twice_c.so", "twice_a");
        expect_strict (fixtures, "cycle-twice", TRUE);
}

static void
case_duplicate (const char *fixtures)
{
        printf ("duplicate\n");
        g_autoptr (Run) r = run_case (fixtures, "duplicate", FALSE);
        expect_count (r, 2, 1);
        expect_running (r, "twin_1.so");
        expect_refused (r, "twin_2.so", "duplicate plugin name twin");
        AtriumPlugin *p = plugin_by_file (r, "twin_2.so");
        CHECK (p && p->failure && strstr (p->failure, "twin_1.so"),
               "the refusal should name the file that won");
        AtriumPlugin *found = atrium_core_find_plugin (r->core, "twin");
        CHECK (found && g_str_equal (found->desc.version, "1.0.0"),
               "lookups by name must find the first twin");
        expect_strict (fixtures, "duplicate", TRUE);
}

static void
case_init_fails (const char *fixtures)
{
        printf ("init-fails\n");
        g_autoptr (Run) r = run_case (fixtures, "init-fails", FALSE);
        expect_count (r, 1, 1);
        expect_refused (r, "init_fails.so", "init failed: deliberate failure");
        CHECK (atrium_router_match (r->core->router, "GET", "/api/v1/init_fails/ping", NULL, NULL,
                                    NULL, NULL) == ATRIUM_MATCH_NOT_FOUND,
               "the failed plugin's route is still in the router");
        expect_strict (fixtures, "init-fails", TRUE);

        printf ("dependent-of-failed\n");
        g_autoptr (Run) d = run_case (fixtures, "dependent-of-failed", FALSE);
        expect_count (d, 2, 2);
        expect_refused (d, "init_fails.so", "init failed: deliberate failure");
        expect_refused (d, "dependent.so", "dependency init_fails was refused");
        expect_strict (fixtures, "dependent-of-failed", TRUE);
}

int
main (int argc, char **argv)
{
        if (argc != 2) {
                fprintf (stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
                return 2;
        }
        const char *fixtures = argv[1];
        log_lines = g_ptr_array_new_with_free_func (g_free);
        g_log_set_writer_func (capture, NULL, NULL);

        g_autofree char *abi_major = g_strdup_printf ("built for ABI %d.0, host is %d.%d",
                                                      ATRIUM_ABI_MAJOR + 1, ATRIUM_ABI_MAJOR,
                                                      ATRIUM_ABI_MINOR);
        g_autofree char *newer = g_strdup_printf ("built for ABI %d.%d, host is %d.%d",
                                                  ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR + 1,
                                                  ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        g_autofree char *small = g_strdup_printf (
                "descriptor is %zu bytes, smaller than any released ABI (%zu)",
                (size_t) ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0 - sizeof (void *),
                (size_t) ATRIUM_PLUGIN_DESCRIPTOR_SIZE_1_0);
        const Single singles[] = {
                {"healthy", "healthy.so", NULL},
                {"old-descriptor", "old_descriptor.so", NULL},
                {"frozen-1.1", "frozen_1_1.so", NULL},
                {"frozen-1.2", "frozen_1_2.so", NULL},
                {"frozen-1.3", "frozen_1_3.so", NULL},
                {"frozen-1.4", "frozen_1_4.so", NULL},
                {"wrong-magic", "wrong_magic.so", "wrong magic 0x0badc0de"},
                {"abi-major", "abi_major.so", abi_major},
                {"newer-minor", "newer_minor.so", newer},
                {"too-small", "too_small.so", small},
                {"no-symbol", "no_symbol.so", "no atrium_plugin_descriptor() exported"},
                {"missing-dep", "missing_dep.so", "missing dependency nonexistent"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (singles); i++)
                case_single (fixtures, &singles[i]);
        case_old_descriptor (fixtures);
        case_frozen_minor (fixtures, 1);
        case_frozen_minor (fixtures, 2);
        case_frozen_minor (fixtures, 3);
        case_frozen_minor (fixtures, 4);
        case_old_dep (fixtures);
        case_cycle (fixtures);
        case_duplicate (fixtures);
        case_init_fails (fixtures);

        g_ptr_array_unref (log_lines);
        if (failures) {
                printf ("%d check(s) failed\n", failures);
                return 1;
        }
        printf ("all loader fixture checks passed\n");
        return 0;
}
