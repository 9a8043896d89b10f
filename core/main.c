/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - atriumd's command line: serve (default), migrate, check-plugin, operator create.
 * Each subcommand builds the same AtriumCore; they differ only in how far they take it. */
#include "core-private.h"

#include <gcrypt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include "atrium-version.h"
#include "identity-private.h"

static char *opt_config = NULL;
static gboolean opt_strict = FALSE;
static gboolean opt_version = FALSE;

static const GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Key-file with settings", "FILE"},
        {"strict", 0, 0, G_OPTION_ARG_NONE, &opt_strict,
         "Refuse to start when any plugin is refused", NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static gboolean
init_gcrypt (void)
{
        if (!gcry_check_version ("1.10.0")) {
                g_printerr ("atriumd: libgcrypt 1.10 or newer is required (Argon2id)\n");
                return FALSE;
        }
        gcry_control (GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
        return TRUE;
}

/* Loads and initialises plugins; returns FALSE only when --strict turns a refusal fatal. */
static gboolean
load_plugins (AtriumCore *core, GError **error)
{
        if (!g_file_test (core->config->plugin_dir, G_FILE_TEST_IS_DIR)) {
                g_warning ("plugin directory %s does not exist; serving the core only",
                           core->config->plugin_dir);
                return !core->config->strict ||
                       (g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "--strict: no plugin directory %s", core->config->plugin_dir),
                        FALSE);
        }
        return atrium_plugins_load_dir (core, core->config->plugin_dir, error) &&
               atrium_plugins_init_all (core, error);
}

static int
cmd_serve (AtriumCore *core)
{
        g_autoptr (GError) error = NULL;
        atrium_core_register_builtin_routes (core);
        atrium_identity_register (core);
        if (!load_plugins (core, &error) || !atrium_migrate (core, TRUE, &error) ||
            !atrium_plugins_start_all (core, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                atrium_plugins_stop_all (core);
                return 1;
        }
        int rc = atrium_serve (core);
        atrium_plugins_stop_all (core);
        return rc;
}

static int
cmd_migrate (AtriumCore *core)
{
        g_autoptr (GError) error = NULL;
        if (!load_plugins (core, &error) || !atrium_migrate (core, TRUE, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                atrium_plugins_stop_all (core);
                return 1;
        }
        atrium_plugins_stop_all (core);
        return 0;
}

static void
print_descriptor (const AtriumPlugin *p)
{
        const AtriumPluginDescriptor *d = &p->desc;
        printf ("file:         %s\n", p->path);
        printf ("name:         %s\n", d->name);
        printf ("version:      %s\n", d->version);
        printf ("abi:          %u.%u (host %u.%u)\n", ATRIUM_ABI_MAJOR, p->desc_minor,
                ATRIUM_ABI_MAJOR, ATRIUM_ABI_MINOR);
        printf ("description:  %s\n", d->description ? d->description : "");
        printf ("license:      %s\n", d->license ? d->license : "");
        printf ("dependencies:");
        if (!d->dependencies || !d->dependencies->name)
                printf (" none");
        for (const AtriumDependency *dep = d->dependencies; dep && dep->name; dep++)
                printf (" %s%s%s", dep->name, dep->min_version ? ">=" : "",
                        dep->min_version ? dep->min_version : "");
        printf ("\npermissions:");
        if (!d->permissions || !d->permissions->name)
                printf (" none");
        for (const AtriumPermission *perm = d->permissions; perm && perm->name; perm++)
                printf ("\n  %s - %s", perm->name, perm->description ? perm->description : "");
        printf ("\n");
}

/* "atriumd <plugin> <command> [args]": a plugin's maintenance command (plugin-tasks.c), run
 * with the plugins initialised and the migrations applied, serving nothing. */
static int
cmd_plugin (AtriumCore *core, int argc, char **argv)
{
        g_autoptr (GError) error = NULL;
        if (!load_plugins (core, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                return 1;
        }
        if (!atrium_tasks_has_command (core, argc, argv)) {
                atrium_plugins_stop_all (core);
                return 2;
        }
        if (!atrium_migrate (core, TRUE, &error) || !atrium_plugins_start_all (core, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                atrium_plugins_stop_all (core);
                return 1;
        }
        int rc = atrium_tasks_run_command (core, argc, argv);
        atrium_plugins_stop_all (core);
        return rc;
}

static int
cmd_check_plugin (AtriumCore *core, const char *path)
{
        g_autoptr (GError) error = NULL;
        AtriumPlugin *p = atrium_plugin_open (core, path, &error);
        if (!p) {
                g_printerr ("atriumd: %s: unusable: %s\n", path, error->message);
                return 1;
        }
        print_descriptor (p);
        atrium_plugin_free (p);
        return 0;
}

int
main (int argc, char **argv)
{
        setlocale (LC_ALL, "");
        /* A peer that goes away mid-write (a client, a sendmail a plugin pipes into) is an
         * EPIPE error for that write, never the end of the process. */
        signal (SIGPIPE, SIG_IGN);
        atrium_log_setup ();
        g_autoptr (GOptionContext) ctx =
                g_option_context_new ("[serve | migrate | check-plugin FILE.so | operator create NAME | "
                                      "PLUGIN COMMAND ...]");
        g_option_context_set_summary (
                ctx, "The Atrium school platform host.\n\n"
                     "  serve                  migrate, then serve HTTP (the default)\n"
                     "  migrate                apply core and plugin migrations, then exit\n"
                     "  check-plugin FILE.so   load and validate one plugin, print its descriptor\n"
                     "  operator create NAME   create or reset an operator; password on stdin\n"
                     "  PLUGIN COMMAND ...     a plugin's maintenance command (\"files gc\"); an\n"
                     "                         unknown one lists them all");
        g_option_context_set_description (ctx, atrium_config_help ());
        g_option_context_add_main_entries (ctx, entries, NULL);
        g_autoptr (GError) error = NULL;
        if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
                g_printerr ("atriumd: %s\n", error->message);
                return 2;
        }
        if (opt_version) {
                printf ("atriumd %s (plugin ABI %d.%d)\n", ATRIUM_VERSION, ATRIUM_ABI_MAJOR,
                        ATRIUM_ABI_MINOR);
                return 0;
        }
        if (!init_gcrypt ())
                return 1;
        g_autoptr (AtriumConfig) config = atrium_config_load (opt_config, &error);
        if (!config) {
                g_printerr ("atriumd: %s\n", error->message);
                return 2;
        }
        if (opt_strict)
                config->strict = TRUE;
        g_autoptr (AtriumCore) core = atrium_core_new (config);

        const char *cmd = argc > 1 ? argv[1] : "serve";
        int rc;
        if (g_str_equal (cmd, "serve") && argc <= 2)
                rc = cmd_serve (core);
        else if (g_str_equal (cmd, "migrate") && argc == 2)
                rc = cmd_migrate (core);
        else if (g_str_equal (cmd, "check-plugin") && argc == 3)
                rc = cmd_check_plugin (core, argv[2]);
        else if (g_str_equal (cmd, "operator") && argc == 4 && g_str_equal (argv[2], "create"))
                rc = atrium_identity_operator_create (core, argv[3]);
        else if (argc >= 2 && g_regex_match_simple ("^[a-z][a-z0-9_]*\\z", cmd, 0, 0) &&
                 !g_str_equal (cmd, "serve") && !g_str_equal (cmd, "migrate") &&
                 !g_str_equal (cmd, "check-plugin") && !g_str_equal (cmd, "operator"))
                rc = cmd_plugin (core, argc - 1, argv + 1);
        else {
                g_printerr ("atriumd: unknown command; see atriumd --help\n");
                rc = 2;
        }
        g_clear_pointer (&core, atrium_core_free);
        return rc;
}
