/* SPDX-License-Identifier: Apache-2.0 */
/* test-config.c - unit tests of atriumd's configuration (core/ops/config.c): built-in defaults, a
 * key-file, ATRIUM_* environment variables overriding it, the listen address forms, refusal of
 * values out of range, and plugins' own [plugin.<name>] settings. The environment is process
 * state, so every test starts and ends with no ATRIUM_* variable set (whatever the CI runner
 * exported), and key-files go into a temporary directory of its own. (Not
 * G_TEST_OPTION_ISOLATE_DIRS: GLib 2.74 leaks the old directory strings on purpose, which
 * LeakSanitizer reports in the -Db_sanitize=address build.) Cases under /config/regression/
 * pin down defects these tests found, so they stay fixed (see tests/unit/meson.build). */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "atrium/host.h"
#include "config-private.h"

typedef struct {
        char *dir;
} Fixture;

static void
clear_env (void)
{
        g_auto (GStrv) names = g_listenv ();
        for (char **n = names; *n; n++)
                if (g_str_has_prefix (*n, "ATRIUM_"))
                        g_unsetenv (*n);
}

static void
setup (Fixture *f, gconstpointer data)
{
        g_autoptr (GError) error = NULL;
        clear_env ();
        f->dir = g_dir_make_tmp ("atrium-test-config-XXXXXX", &error);
        g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (GDir) d = g_dir_open (f->dir, 0, &error);
        g_assert_no_error (error);
        const char *name;
        while ((name = g_dir_read_name (d))) {
                g_autofree char *path = g_build_filename (f->dir, name, NULL);
                g_assert_cmpint (g_unlink (path), ==, 0);
        }
        g_assert_cmpint (g_rmdir (f->dir), ==, 0);
        g_free (f->dir);
        clear_env ();
}

static void
set_env (const char *name, const char *value)
{
        g_assert_true (g_setenv (name, value, TRUE));
}

/* Writes @text to a fresh key-file in the test's own directory. Returns: (transfer full) path */
static char *
write_config (Fixture *f, const char *text)
{
        static guint serial;
        g_autofree char *name = g_strdup_printf ("atrium-%u.conf", serial++);
        char *path = g_build_filename (f->dir, name, NULL);
        g_autoptr (GError) error = NULL;
        g_file_set_contents (path, text, -1, &error);
        g_assert_no_error (error);
        return path;
}

static AtriumConfig *
load_ok (const char *path)
{
        g_autoptr (GError) error = NULL;
        AtriumConfig *c = atrium_config_load (path, &error);
        g_assert_no_error (error);
        g_assert_nonnull (c);
        return c;
}

/* Loads, expecting ATRIUM_ERROR_INVALID. Returns: (transfer full) the message */
static char *
load_invalid (const char *path)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (AtriumConfig) c = atrium_config_load (path, &error);
        g_assert_null (c);
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        return g_strdup (error->message);
}

static void
test_defaults (Fixture *f, gconstpointer data)
{
        g_autoptr (AtriumConfig) c = load_ok (NULL);
        g_assert_cmpstr (c->database_url, ==, "dbname=atrium");
        g_assert_null (c->request_database_url);
        g_assert_cmpstr (c->request_role, ==, "atrium_request");
        g_assert_cmpstr (c->listen_host, ==, "127.0.0.1");
        g_assert_cmpuint (c->listen_port, ==, 8080);
        g_assert_nonnull (c->plugin_dir);
        g_assert_true (g_path_is_absolute (c->plugin_dir));
        g_assert_cmpstr (c->data_dir, ==, "/var/lib/atrium");
        g_assert_cmpuint (c->pool_size, ==, 2 * g_get_num_processors ());
        g_assert_cmpuint (c->max_body, ==, 1024 * 1024);
        g_assert_cmpuint (c->header_timeout, ==, 15);
        g_assert_cmpuint (c->body_timeout, ==, 60);
        g_assert_cmpuint (c->drain_timeout, ==, 30);
        g_assert_false (c->strict);
        g_assert_cmpuint (c->slow_workers, ==, MAX (2, g_get_num_processors ()));
        g_assert_cmpuint (c->session_lifetime, ==, 43200);
        g_assert_cmpuint (c->session_idle, ==, 7200);
        g_assert_false (c->trust_proxy);
        g_assert_true (c->access_log);
        g_assert_cmpuint (c->listeners, ==, 0); /* one per processor */
        g_assert_null (c->keyfile);

        /* An empty key-file changes nothing. */
        g_autofree char *path = write_config (f, "# nothing here\n");
        g_autoptr (AtriumConfig) e = load_ok (path);
        g_assert_cmpstr (e->database_url, ==, "dbname=atrium");
        g_assert_cmpuint (e->listen_port, ==, 8080);
        g_assert_cmpuint (e->pool_size, ==, 2 * g_get_num_processors ());
        g_assert_nonnull (e->keyfile);
        atrium_config_free (NULL); /* free functions accept NULL */
}

static const char full_config[] =
        "[database]\n"
        "url=postgresql://atrium@db.internal/atrium\n"
        "request_url=postgresql://atrium_request@db.internal/atrium\n"
        "request_role=school_request\n"
        "pool_size=16\n"
        "\n"
        "[http]\n"
        "listen=0.0.0.0:9000\n"
        "max_body=2097152\n"
        "header_timeout=20\n"
        "body_timeout=120\n"
        "drain_timeout=0\n"
        "slow_workers=4\n"
        "trust_proxy=1\n"
        "access_log=0\n"
        "listeners=3\n"
        "\n"
        "[auth]\n"
        "session_lifetime=3600\n"
        "session_idle=600\n"
        "\n"
        "[plugins]\n"
        "dir=/opt/atrium/plugins\n"
        "strict=1\n"
        "\n"
        "[storage]\n"
        "data_dir=/srv/atrium\n";

static void
test_keyfile (Fixture *f, gconstpointer data)
{
        g_autofree char *path = write_config (f, full_config);
        g_autoptr (AtriumConfig) c = load_ok (path);
        g_assert_cmpstr (c->database_url, ==, "postgresql://atrium@db.internal/atrium");
        g_assert_cmpstr (c->request_database_url, ==,
                         "postgresql://atrium_request@db.internal/atrium");
        g_assert_cmpstr (c->request_role, ==, "school_request");
        g_assert_cmpuint (c->pool_size, ==, 16);
        g_assert_cmpstr (c->listen_host, ==, "0.0.0.0");
        g_assert_cmpuint (c->listen_port, ==, 9000);
        g_assert_cmpuint (c->max_body, ==, 2097152);
        g_assert_cmpuint (c->header_timeout, ==, 20);
        g_assert_cmpuint (c->body_timeout, ==, 120);
        g_assert_cmpuint (c->drain_timeout, ==, 0);
        g_assert_cmpuint (c->slow_workers, ==, 4);
        g_assert_true (c->trust_proxy);
        g_assert_false (c->access_log);
        g_assert_cmpuint (c->listeners, ==, 3);
        g_assert_cmpuint (c->session_lifetime, ==, 3600);
        g_assert_cmpuint (c->session_idle, ==, 600);
        g_assert_cmpstr (c->plugin_dir, ==, "/opt/atrium/plugins");
        g_assert_true (c->strict);
        g_assert_cmpstr (c->data_dir, ==, "/srv/atrium");
        g_assert_nonnull (c->keyfile);
}

static void
test_env_overrides_keyfile (Fixture *f, gconstpointer data)
{
        g_autofree char *path = write_config (f, full_config);
        set_env ("ATRIUM_DATABASE_URL", "dbname=override");
        set_env ("ATRIUM_LISTEN", "127.0.0.1:9100");
        set_env ("ATRIUM_POOL_SIZE", "32");
        set_env ("ATRIUM_STRICT", "0"); /* "0" is a value, not "unset" */
        set_env ("ATRIUM_TRUST_PROXY", "0");
        set_env ("ATRIUM_ACCESS_LOG", "1");
        set_env ("ATRIUM_LISTENERS", "1");
        set_env ("ATRIUM_DRAIN_TIMEOUT", "45");
        set_env ("ATRIUM_DATA_DIR", "/tmp/atrium-data");
        set_env ("ATRIUM_REQUEST_ROLE", "other_role");
        set_env ("ATRIUM_SESSION_IDLE", "900");
        /* Set but empty: as if unset, the key-file decides. */
        set_env ("ATRIUM_PLUGIN_DIR", "");
        set_env ("ATRIUM_MAX_BODY", "");

        g_autoptr (AtriumConfig) c = load_ok (path);
        g_assert_cmpstr (c->database_url, ==, "dbname=override");
        g_assert_cmpstr (c->listen_host, ==, "127.0.0.1");
        g_assert_cmpuint (c->listen_port, ==, 9100);
        g_assert_cmpuint (c->pool_size, ==, 32);
        g_assert_false (c->strict);
        g_assert_false (c->trust_proxy);
        g_assert_true (c->access_log);
        g_assert_cmpuint (c->listeners, ==, 1);
        g_assert_cmpuint (c->drain_timeout, ==, 45);
        g_assert_cmpstr (c->data_dir, ==, "/tmp/atrium-data");
        g_assert_cmpstr (c->request_role, ==, "other_role");
        g_assert_cmpuint (c->session_idle, ==, 900);
        g_assert_cmpstr (c->plugin_dir, ==, "/opt/atrium/plugins");
        g_assert_cmpuint (c->max_body, ==, 2097152);

        /* What the environment does not mention still comes from the file. */
        g_assert_cmpstr (c->request_database_url, ==,
                         "postgresql://atrium_request@db.internal/atrium");
        g_assert_cmpuint (c->header_timeout, ==, 20);
        g_assert_cmpuint (c->body_timeout, ==, 120);
        g_assert_cmpuint (c->slow_workers, ==, 4);
        g_assert_cmpuint (c->session_lifetime, ==, 3600);
}

static void
test_env_without_file (Fixture *f, gconstpointer data)
{
        set_env ("ATRIUM_REQUEST_DATABASE_URL", "host=/run/postgresql dbname=atrium");
        set_env ("ATRIUM_MAX_BODY", "10");
        set_env ("ATRIUM_TRUST_PROXY", "1");
        set_env ("ATRIUM_STRICT", "1");
        set_env ("ATRIUM_SLOW_WORKERS", "64");
        set_env ("ATRIUM_HEADER_TIMEOUT", "3600");
        set_env ("ATRIUM_BODY_TIMEOUT", "1");
        set_env ("ATRIUM_SESSION_LIFETIME", "31536000");
        set_env ("ATRIUM_PLUGIN_DIR", "/usr/local/lib/atrium/plugins");

        g_autoptr (AtriumConfig) c = load_ok (NULL);
        g_assert_cmpstr (c->request_database_url, ==, "host=/run/postgresql dbname=atrium");
        g_assert_cmpuint (c->max_body, ==, 10);
        g_assert_true (c->trust_proxy);
        g_assert_true (c->strict);
        g_assert_cmpuint (c->slow_workers, ==, 64);
        g_assert_cmpuint (c->header_timeout, ==, 3600);
        g_assert_cmpuint (c->body_timeout, ==, 1);
        g_assert_cmpuint (c->session_lifetime, ==, 31536000);
        g_assert_cmpstr (c->plugin_dir, ==, "/usr/local/lib/atrium/plugins");
        g_assert_cmpstr (c->database_url, ==, "dbname=atrium");
        g_assert_null (c->keyfile);
}

static void
test_listen (Fixture *f, gconstpointer data)
{
        const struct {
                const char *value;
                const char *host;
                guint port;
        } cases[] = {
                {"[::1]:8080", "::1", 8080},
                {"[::]:80", "::", 80},
                {"[2001:db8::7]:443", "2001:db8::7", 443},
                {"[fe80::1%eth0]:8443", "fe80::1%eth0", 8443},
                {"0.0.0.0:9000", "0.0.0.0", 9000},
                {"localhost:65535", "localhost", 65535},
                {"atrium.internal:1", "atrium.internal", 1},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_test_message ("listen: %s", cases[i].value);
                set_env ("ATRIUM_LISTEN", cases[i].value);
                g_autoptr (AtriumConfig) c = load_ok (NULL);
                g_assert_cmpstr (c->listen_host, ==, cases[i].host);
                g_assert_cmpuint (c->listen_port, ==, cases[i].port);
        }

        /* The same forms from the key-file. */
        g_unsetenv ("ATRIUM_LISTEN");
        g_autofree char *path = write_config (f, "[http]\nlisten=[::1]:8081\n");
        g_autoptr (AtriumConfig) k = load_ok (path);
        g_assert_cmpstr (k->listen_host, ==, "::1");
        g_assert_cmpuint (k->listen_port, ==, 8081);
}

/* The external base URL (the OpenID issuers live under it): derived from the listen address
 * unless set; a trailing slash never doubles in an issuer; only http(s). */
static void
test_public_url (Fixture *f, gconstpointer data)
{
        set_env ("ATRIUM_LISTEN", "127.0.0.1:9100");
        g_autoptr (AtriumConfig) d = load_ok (NULL);
        g_assert_cmpstr (d->public_url, ==, "http://127.0.0.1:9100");
        set_env ("ATRIUM_LISTEN", "[::1]:9101");
        g_autoptr (AtriumConfig) v6 = load_ok (NULL);
        g_assert_cmpstr (v6->public_url, ==, "http://[::1]:9101");
        set_env ("ATRIUM_PUBLIC_URL", "https://schule.example/");
        g_autoptr (AtriumConfig) e = load_ok (NULL);
        g_assert_cmpstr (e->public_url, ==, "https://schule.example");
        g_unsetenv ("ATRIUM_PUBLIC_URL");
        g_autofree char *path = write_config (f, "[http]\npublic_url=https://a.example/x//\n");
        g_autoptr (AtriumConfig) k = load_ok (path);
        g_assert_cmpstr (k->public_url, ==, "https://a.example/x");
        set_env ("ATRIUM_PUBLIC_URL", "ftp://a.example");
        g_autofree char *m = load_invalid (NULL);
        g_assert_nonnull (strstr (m, "public_url"));
}

static void
test_invalid_listen (Fixture *f, gconstpointer data)
{
        const char *bad[] = {
                "8080",          "localhost",       "localhost:",
                ":8080",         "localhost:65536", "localhost:-1",
                "localhost:80x", "localhost:0x50",  "localhost:+80",
                "[::1]",         "[::1]:",          "localhost:99999999999999999999",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_test_message ("listen: %s", bad[i]);
                set_env ("ATRIUM_LISTEN", bad[i]);
                g_autofree char *m = load_invalid (NULL);
                g_assert_nonnull (strstr (m, bad[i]));
        }

        g_unsetenv ("ATRIUM_LISTEN");
        g_autofree char *path = write_config (f, "[http]\nlisten=everywhere\n");
        g_autofree char *m = load_invalid (path);
        g_assert_nonnull (strstr (m, "everywhere"));

        /* A bad file value does not matter when the environment overrides it. */
        set_env ("ATRIUM_LISTEN", "127.0.0.1:1234");
        g_autoptr (AtriumConfig) c = load_ok (path);
        g_assert_cmpuint (c->listen_port, ==, 1234);
}

static void
test_invalid_numbers (Fixture *f, gconstpointer data)
{
        const struct {
                const char *env;
                const char *value;
        } bad[] = {
                {"ATRIUM_POOL_SIZE", "0"},
                {"ATRIUM_POOL_SIZE", "1001"},
                {"ATRIUM_POOL_SIZE", "abc"},
                {"ATRIUM_POOL_SIZE", "8x"},
                {"ATRIUM_POOL_SIZE", "-1"},
                {"ATRIUM_POOL_SIZE", "+8"},
                {"ATRIUM_POOL_SIZE", "1e3"},
                {"ATRIUM_POOL_SIZE", "0x10"},
                {"ATRIUM_POOL_SIZE", "8.0"},
                {"ATRIUM_POOL_SIZE", "99999999999999999999999"},
                {"ATRIUM_MAX_BODY", "0"},
                {"ATRIUM_MAX_BODY", "9223372036854775808"},
                {"ATRIUM_MAX_BODY", "1MB"},
                {"ATRIUM_HEADER_TIMEOUT", "0"},
                {"ATRIUM_HEADER_TIMEOUT", "3601"},
                {"ATRIUM_BODY_TIMEOUT", "0"},
                {"ATRIUM_BODY_TIMEOUT", "86401"},
                {"ATRIUM_DRAIN_TIMEOUT", "3601"},
                {"ATRIUM_STRICT", "2"},
                {"ATRIUM_STRICT", "yes"},
                {"ATRIUM_STRICT", "true"},
                {"ATRIUM_TRUST_PROXY", "2"},
                {"ATRIUM_SLOW_WORKERS", "0"},
                {"ATRIUM_SLOW_WORKERS", "65"},
                {"ATRIUM_SESSION_LIFETIME", "59"},
                {"ATRIUM_SESSION_LIFETIME", "31536001"},
                {"ATRIUM_SESSION_IDLE", "59"},
                {"ATRIUM_SESSION_IDLE", "1h"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_test_message ("%s=%s", bad[i].env, bad[i].value);
                set_env (bad[i].env, bad[i].value);
                g_autofree char *m = load_invalid (NULL);
                /* The message says which setting and what was wrong with it. */
                g_assert_nonnull (strstr (m, bad[i].env));
                g_assert_nonnull (strstr (m, bad[i].value));
                g_unsetenv (bad[i].env);
        }

        /* From the key-file, the message names the group and key. */
        g_autofree char *path = write_config (f, "[database]\npool_size=many\n");
        g_autofree char *m = load_invalid (path);
        g_assert_nonnull (strstr (m, "[database] pool_size"));
        g_assert_nonnull (strstr (m, "many"));
        g_autofree char *path2 = write_config (f, "[auth]\nsession_idle=10\n");
        g_autofree char *m2 = load_invalid (path2);
        g_assert_nonnull (strstr (m2, "[auth] session_idle"));
}

static void
test_number_bounds (Fixture *f, gconstpointer data)
{
        set_env ("ATRIUM_POOL_SIZE", "1000");
        set_env ("ATRIUM_MAX_BODY", "9223372036854775807");
        set_env ("ATRIUM_DRAIN_TIMEOUT", "0");
        set_env ("ATRIUM_SESSION_IDLE", "60");
        set_env ("ATRIUM_SLOW_WORKERS", "1");
        g_autoptr (AtriumConfig) c = load_ok (NULL);
        g_assert_cmpuint (c->pool_size, ==, 1000);
        g_assert_cmpuint (c->max_body, ==, G_MAXINT64);
        g_assert_cmpuint (c->drain_timeout, ==, 0);
        g_assert_cmpuint (c->session_idle, ==, 60);
        g_assert_cmpuint (c->slow_workers, ==, 1);

        /* Surrounding blanks are forgiven (an .env file with "X = 8 "). */
        set_env ("ATRIUM_POOL_SIZE", " 1 ");
        g_autoptr (AtriumConfig) d = load_ok (NULL);
        g_assert_cmpuint (d->pool_size, ==, 1);
}

static void
test_bad_file (Fixture *f, gconstpointer data)
{
        g_autofree char *missing = g_build_filename (f->dir, "missing.conf", NULL);
        g_autoptr (GError) error = NULL;
        g_autoptr (AtriumConfig) c = atrium_config_load (missing, &error);
        g_assert_null (c);
        g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        g_assert_true (g_str_has_prefix (error->message, missing));
        g_clear_error (&error);

        g_autofree char *garbage = write_config (f, "this is not a key-file\n");
        g_autoptr (AtriumConfig) g = atrium_config_load (garbage, &error);
        g_assert_null (g);
        g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
        g_assert_true (g_str_has_prefix (error->message, garbage));
}

static void
test_plugin_values (Fixture *f, gconstpointer data)
{
        g_autofree char *path = write_config (f,
                                              "[plugin.noticeboard]\n"
                                              "max_posts=50\n"
                                              "greeting=Hello, world\n"
                                              "\n"
                                              "[plugin.x]\n"
                                              "key=from-file\n"
                                              "\n"
                                              "[plugin.lesson_plans]\n"
                                              "max=3\n");
        g_autoptr (AtriumConfig) c = load_ok (path);
        g_autofree char *posts = atrium_config_plugin_value (c, "noticeboard", "max_posts");
        g_assert_cmpstr (posts, ==, "50");
        g_autofree char *greeting = atrium_config_plugin_value (c, "noticeboard", "greeting");
        g_assert_cmpstr (greeting, ==, "Hello, world");
        g_autofree char *key = atrium_config_plugin_value (c, "x", "key");
        g_assert_cmpstr (key, ==, "from-file");
        g_autofree char *plans = atrium_config_plugin_value (c, "lesson_plans", "max");
        g_assert_cmpstr (plans, ==, "3");

        /* Missing keys, and one plugin never sees another's section. */
        g_autofree char *none = atrium_config_plugin_value (c, "noticeboard", "missing");
        g_assert_null (none);
        g_autofree char *other = atrium_config_plugin_value (c, "x", "max_posts");
        g_assert_null (other);
        g_autofree char *unknown = atrium_config_plugin_value (c, "gradebook", "key");
        g_assert_null (unknown);

        /* ATRIUM_PLUGIN_<NAME>_<KEY> overrides the file, read when asked. */
        set_env ("ATRIUM_PLUGIN_X_KEY", "from-env");
        set_env ("ATRIUM_PLUGIN_NOTICEBOARD_MAX_POSTS", "75");
        set_env ("ATRIUM_PLUGIN_LESSON_PLANS_MAX", "9");
        g_autofree char *key2 = atrium_config_plugin_value (c, "x", "key");
        g_assert_cmpstr (key2, ==, "from-env");
        g_autofree char *posts2 = atrium_config_plugin_value (c, "noticeboard", "max_posts");
        g_assert_cmpstr (posts2, ==, "75");
        g_autofree char *plans2 = atrium_config_plugin_value (c, "lesson_plans", "max");
        g_assert_cmpstr (plans2, ==, "9");
        /* Lower-case variables are not the same variable. */
        g_unsetenv ("ATRIUM_PLUGIN_X_KEY");
        set_env ("ATRIUM_PLUGIN_x_key", "lower");
        g_autofree char *key3 = atrium_config_plugin_value (c, "x", "key");
        g_assert_cmpstr (key3, ==, "from-file");
        g_unsetenv ("ATRIUM_PLUGIN_x_key");
        /* Empty means unset. */
        set_env ("ATRIUM_PLUGIN_X_KEY", "");
        g_autofree char *key4 = atrium_config_plugin_value (c, "x", "key");
        g_assert_cmpstr (key4, ==, "from-file");

        /* [NAME] KEY / ATRIUM_NAME_KEY is the spelling to write; it comes first, and the
         * environment still overrides the file. */
        g_autofree char *both = write_config (f, "[plugin.quiz]\n"
                                                 "level=old\n"
                                                 "only_old=1\n"
                                                 "\n"
                                                 "[quiz]\n"
                                                 "level=new\n");
        g_autoptr (AtriumConfig) q = load_ok (both);
        g_autofree char *level = atrium_config_plugin_value (q, "quiz", "level");
        g_assert_cmpstr (level, ==, "new");
        g_autofree char *only_old = atrium_config_plugin_value (q, "quiz", "only_old");
        g_assert_cmpstr (only_old, ==, "1");
        set_env ("ATRIUM_PLUGIN_QUIZ_LEVEL", "old-env");
        g_autofree char *level2 = atrium_config_plugin_value (q, "quiz", "level");
        g_assert_cmpstr (level2, ==, "old-env");
        set_env ("ATRIUM_QUIZ_LEVEL", "new-env");
        g_autofree char *level3 = atrium_config_plugin_value (q, "quiz", "level");
        g_assert_cmpstr (level3, ==, "new-env");
        g_unsetenv ("ATRIUM_QUIZ_LEVEL");
        g_unsetenv ("ATRIUM_PLUGIN_QUIZ_LEVEL");
        /* A core section is never a plugin's. */
        set_env ("ATRIUM_HTTP_LISTEN", "nope");
        g_autofree char *core_named = atrium_config_plugin_value (q, "http", "listen");
        g_assert_null (core_named);
        g_unsetenv ("ATRIUM_HTTP_LISTEN");

        /* Without a key-file only the environment counts. */
        g_autoptr (AtriumConfig) bare = load_ok (NULL);
        g_autofree char *env_only = atrium_config_plugin_value (bare, "noticeboard", "max_posts");
        g_assert_cmpstr (env_only, ==, "75");
        g_autofree char *nothing = atrium_config_plugin_value (bare, "x", "key");
        g_assert_null (nothing);
}

static void
test_help_lists_everything (Fixture *f, gconstpointer data)
{
        const char *names[] = {
                "ATRIUM_DATABASE_URL",
                "ATRIUM_REQUEST_DATABASE_URL",
                "ATRIUM_REQUEST_ROLE",
                "ATRIUM_POOL_SIZE",
                "ATRIUM_SLOW_WORKERS",
                "ATRIUM_TRUST_PROXY",
                "ATRIUM_SESSION_LIFETIME",
                "ATRIUM_SESSION_IDLE",
                "ATRIUM_LISTEN",
                "ATRIUM_PUBLIC_URL",
                "ATRIUM_MAX_BODY",
                "ATRIUM_HEADER_TIMEOUT",
                "ATRIUM_BODY_TIMEOUT",
                "ATRIUM_DRAIN_TIMEOUT",
                "ATRIUM_PLUGIN_DIR",
                "ATRIUM_STRICT",
                "ATRIUM_DATA_DIR",
                "ATRIUM_PLUGIN_NAME_KEY",
                "ATRIUM_DATABASE_REPLICA_URL",
                "ATRIUM_DATABASE_REPLICA_POOL_SIZE",
                "ATRIUM_DATABASE_REPLICA_MAX_LAG",
        };
        const char *help = atrium_config_help ();
        for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
                g_test_message ("variable: %s", names[i]);
                g_assert_nonnull (strstr (help, names[i]));
        }
}

/* The replica for heavy reads: none unless named; its pool and lag bound, from the key-file
 * or the environment, within their ranges. */
static void
test_replica (Fixture *f, gconstpointer data)
{
        g_autoptr (AtriumConfig) d = load_ok (NULL);
        g_assert_null (d->replica_url);
        g_assert_cmpuint (d->replica_pool_size, ==, 4);
        g_assert_cmpuint (d->replica_max_lag, ==, 30);

        g_autofree char *path = write_config (f, "[database]\n"
                                                 "replica_url=postgresql://r.internal/atrium\n"
                                                 "replica_pool_size=2\n"
                                                 "replica_max_lag=5\n");
        g_autoptr (AtriumConfig) c = load_ok (path);
        g_assert_cmpstr (c->replica_url, ==, "postgresql://r.internal/atrium");
        g_assert_cmpuint (c->replica_pool_size, ==, 2);
        g_assert_cmpuint (c->replica_max_lag, ==, 5);

        set_env ("ATRIUM_DATABASE_REPLICA_URL", "dbname=replica");
        set_env ("ATRIUM_DATABASE_REPLICA_MAX_LAG", "86400");
        g_autoptr (AtriumConfig) e = load_ok (path);
        g_assert_cmpstr (e->replica_url, ==, "dbname=replica");
        g_assert_cmpuint (e->replica_pool_size, ==, 2);
        g_assert_cmpuint (e->replica_max_lag, ==, 86400);

        const struct {
                const char *env;
                const char *value;
        } bad[] = {
                {"ATRIUM_DATABASE_REPLICA_POOL_SIZE", "0"},
                {"ATRIUM_DATABASE_REPLICA_POOL_SIZE", "1001"},
                {"ATRIUM_DATABASE_REPLICA_MAX_LAG", "0"},
                {"ATRIUM_DATABASE_REPLICA_MAX_LAG", "86401"},
                {"ATRIUM_DATABASE_REPLICA_MAX_LAG", "30s"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_test_message ("%s=%s", bad[i].env, bad[i].value);
                set_env (bad[i].env, bad[i].value);
                g_autofree char *m = load_invalid (NULL);
                g_assert_nonnull (strstr (m, bad[i].env));
                g_unsetenv (bad[i].env);
        }
}

/* Regression (core/ops/config.c, parse_listen; fixed in 4eb0244). Before the fix: brackets are only
 * stripped when they are balanced, and an unbalanced one is not refused: "[::1:8080" gives host
 * "[::1" and "::1]:8080" host "::1]", which only fail later, at bind time, with a less helpful
 * message. */
static void
test_regression_listen_brackets (Fixture *f, gconstpointer data)
{
        const char *bad[] = {"[::1:8080", "::1]:8080", "[localhost:80"};
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_test_message ("listen: %s", bad[i]);
                set_env ("ATRIUM_LISTEN", bad[i]);
                g_autofree char *m = load_invalid (NULL);
                g_assert_nonnull (m);
        }
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add ("/config/defaults", Fixture, NULL, setup, test_defaults, teardown);
        g_test_add ("/config/keyfile", Fixture, NULL, setup, test_keyfile, teardown);
        g_test_add ("/config/env-overrides-keyfile", Fixture, NULL, setup,
                    test_env_overrides_keyfile, teardown);
        g_test_add ("/config/env-without-file", Fixture, NULL, setup, test_env_without_file,
                    teardown);
        g_test_add ("/config/listen", Fixture, NULL, setup, test_listen, teardown);
        g_test_add ("/config/public-url", Fixture, NULL, setup, test_public_url, teardown);
        g_test_add ("/config/invalid-listen", Fixture, NULL, setup, test_invalid_listen,
                    teardown);
        g_test_add ("/config/invalid-numbers", Fixture, NULL, setup, test_invalid_numbers,
                    teardown);
        g_test_add ("/config/number-bounds", Fixture, NULL, setup, test_number_bounds, teardown);
        g_test_add ("/config/bad-file", Fixture, NULL, setup, test_bad_file, teardown);
        g_test_add ("/config/plugin-values", Fixture, NULL, setup, test_plugin_values, teardown);
        g_test_add ("/config/replica", Fixture, NULL, setup, test_replica, teardown);
        g_test_add ("/config/help-lists-everything", Fixture, NULL, setup,
                    test_help_lists_everything, teardown);

        g_test_add ("/config/regression/listen-brackets", Fixture, NULL, setup,
                    test_regression_listen_brackets, teardown);

        return g_test_run ();
}
