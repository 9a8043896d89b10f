/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - atriumd's command line: serve (default), migrate, check-plugin, operator create.
 * Each subcommand builds the same AtriumCore; they differ only in how far startup.c's one
 * sequence takes it. */
#include "core-private.h"
#include "ops-private.h"
#include "plugin-host-private.h"
#include "http-private.h"

#include <gcrypt.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>

#include "atrium-version.h"
#include "identity-private.h"

/* Blocks up to this size come from the heap, and as much free memory at a heap's top is kept:
 * the most glibc's own threshold would move to (after one sign-in it stands at the hash's
 * 19 MiB, its trimming at twice that). */
#define ATRIUM_MMAP_THRESHOLD (32 * 1024 * 1024)

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

/* GnuTLS initialises itself when it is loaded (ASN.1 trees, the random generator, the
 * system's priority file): ~0.7 MiB of an idle host's memory. atriumd loads it only because
 * libpq's LDAP library links it, and speaks TLS through it only as a client (libsoup's
 * backend, glib-networking), which calls gnutls_global_init() itself, as does the LDAP
 * library before it uses TLS. GnuTLS's header documents this function, defined in the
 * program (GNUTLS_SKIP_GLOBAL_INIT; glib-networking defines it too), as the way to turn that
 * start-up work off; the executable exports it (gmodule links with --export-dynamic). */
__attribute__ ((visibility ("default"))) int _gnutls_global_init_skip (void);
int
_gnutls_global_init_skip (void)
{
        return 1;
}

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

/* Takes the host through startup.c's sequence up to @until; on failure says why. */
static gboolean
start_up (AtriumCore *core, AtriumStage until)
{
        g_autoptr (GError) error = NULL;
        if (atrium_startup (core, until, &error))
                return TRUE;
        g_printerr ("atriumd: %s\n", error->message);
        atrium_shutdown (core);
        return FALSE;
}

static int
cmd_serve (AtriumCore *core)
{
        /* glibc gives freed memory at the top of a thread's heap back to the system at once
         * (past 128 KiB), and keeps it only after the first block larger than that threshold
         * has been freed: in a host, the first sign-in's 19 MiB Argon2id block. Until then
         * every answer of a few tens of KB cost page faults on its next allocation (a 22 KB
         * page of notices: ~2 per request, +50 % of atriumd's CPU on it, bench/RESULTS.md
         * 2026-12-08). Setting both thresholds is setting what the first sign-in would: the
         * hash's block from the heap, and kept. Start-up's own garbage is handed back by
         * malloc_trim() in serve.c. */
        mallopt (M_MMAP_THRESHOLD, ATRIUM_MMAP_THRESHOLD);
        mallopt (M_TRIM_THRESHOLD, ATRIUM_MMAP_THRESHOLD);
        if (!start_up (core, ATRIUM_STAGE_STARTED))
                return 1;
        int rc = atrium_serve (core);
        atrium_shutdown (core);
        return rc;
}

static int
cmd_migrate (AtriumCore *core)
{
        core->migrate_always = TRUE;
        if (!start_up (core, ATRIUM_STAGE_MIGRATED))
                return 1;
        atrium_shutdown (core);
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
        if (!start_up (core, ATRIUM_STAGE_INITIALISED))
                return 1;
        if (!atrium_tasks_has_command (core, argc, argv)) {
                atrium_shutdown (core);
                return 2;
        }
        if (!start_up (core, ATRIUM_STAGE_STARTED))
                return 1;
        int rc = atrium_tasks_run_command (core, argc, argv);
        atrium_shutdown (core);
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
