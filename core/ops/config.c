/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - loads atriumd's configuration from an optional key-file and the environment.
 * Precedence: environment > key-file > built-in default, so a systemd unit can ship one file
 * and an operator can still override a value for one run. */
#include "config-private.h"

#include <string.h>

#include "atrium/host.h"

static const char help_text[] =
        "Configuration (key-file given with --config FILE; environment variables override it):\n"
        "  [database] url             ATRIUM_DATABASE_URL      libpq conninfo or URI of a role that\n"
        "                                                      owns the database (migrations)\n"
        "  [database] request_url     ATRIUM_REQUEST_DATABASE_URL  role used for requests (no\n"
        "                                                      table ownership, no BYPASSRLS);\n"
        "                                                      default: derived from url\n"
        "  [database] request_role    ATRIUM_REQUEST_ROLE      name of that role (atrium_request)\n"
        "  [database] pooler          ATRIUM_DATABASE_POOLER   \"transaction\": request_url goes\n"
        "                                                      through a transaction pooler\n"
        "                                                      (PgBouncer); default \"none\"\n"
        "  [database] pool_size       ATRIUM_POOL_SIZE         connections = workers (default:\n"
        "                                                      2 per processor)\n"
        "  [database] replica_url     ATRIUM_DATABASE_REPLICA_URL  a streaming replica (hot\n"
        "                                                      standby) for heavy reads: usage\n"
        "                                                      figures, exports; the request\n"
        "                                                      role's login there under a\n"
        "                                                      pooler; default: none\n"
        "  [database] replica_pool_size  ATRIUM_DATABASE_REPLICA_POOL_SIZE  connections to it\n"
        "                                                      (4)\n"
        "  [database] replica_max_lag ATRIUM_DATABASE_REPLICA_MAX_LAG  seconds it may be\n"
        "                                                      behind; beyond, and while it is\n"
        "                                                      down, reads go to the primary (30)\n"
        "  [database] statement_timeout  ATRIUM_DATABASE_STATEMENT_TIMEOUT  seconds one\n"
        "                                                      statement of a request may run,\n"
        "                                                      lock waits included; not timers\n"
        "                                                      or commands (30; 0: no limit)\n"
        "  [http] slow_workers        ATRIUM_SLOW_WORKERS      threads for password hashing (one\n"
        "                                                      per processor, at least 2)\n"
        "  [http] stream_workers      ATRIUM_STREAM_WORKERS    threads reading large uploads (128)\n"
        "  [http] outside_workers     ATRIUM_OUTSIDE_WORKERS   threads for requests that wait on\n"
        "                                                      another server, such as a video-\n"
        "                                                      conference backend (16)\n"
        "  [http] trust_proxy         ATRIUM_TRUST_PROXY       1: client address from X-Real-IP\n"
        "  [auth] session_lifetime    ATRIUM_SESSION_LIFETIME  seconds a sign-in lasts (43200)\n"
        "  [auth] session_idle        ATRIUM_SESSION_IDLE      idle seconds that end it (7200)\n"
        "  [auth] reset_from          ATRIUM_RESET_FROM        sender of mailed reset links\n"
        "                                                      (default noreply@<public_url's\n"
        "                                                      host>)\n"
        "  [auth] reset_link_minutes  ATRIUM_RESET_LINK_MINUTES  how long a mailed reset link\n"
        "                                                      works (60)\n"
        "  [auth] oidc_key_refresh    ATRIUM_OIDC_KEY_REFRESH  seconds between a host's checks for\n"
        "                                                      a new OpenID signing key (3600)\n"
        "  [auth] argon2_memory_kib   ATRIUM_ARGON2_MEMORY_KIB  Argon2id memory per password hash\n"
        "                                                      in KiB (19456)\n"
        "  [auth] argon2_iterations   ATRIUM_ARGON2_ITERATIONS  Argon2id passes (2); together at\n"
        "                                                      least OWASP's minimum: memory\n"
        "                                                      7168 KiB or more and memory times\n"
        "                                                      passes 35840 or more; passwords\n"
        "                                                      hashed with less are re-hashed at\n"
        "                                                      their next sign-in\n"
        "  [auth] argon2_allow_weak   ATRIUM_ARGON2_ALLOW_WEAK  1: allow less (test suites only)\n"
        "  [sendmail] command         ATRIUM_SENDMAIL_COMMAND  the MTA's sendmail-compatible\n"
        "                                                      command (/usr/sbin/sendmail)\n"
        "  [sendmail] timeout         ATRIUM_SENDMAIL_TIMEOUT  seconds it may take (60)\n"
        "  [events] max_attempts      ATRIUM_EVENT_MAX_ATTEMPTS  deliveries of an event to a\n"
        "                                                      failing subscriber before it is\n"
        "                                                      given up (12, about half an hour)\n"
        "  [http] listen              ATRIUM_LISTEN            host:port (default 127.0.0.1:8080)\n"
        "  [http] public_url          ATRIUM_PUBLIC_URL        the external base URL clients use\n"
        "                                                      (https://school.example); the\n"
        "                                                      OpenID issuers live under it;\n"
        "                                                      default http://<listen>\n"
        "  [http] max_body            ATRIUM_MAX_BODY          request body limit in bytes\n"
        "                                                      (default 1048576; 413 beyond)\n"
        "  [http] header_timeout      ATRIUM_HEADER_TIMEOUT    seconds to send request headers,\n"
        "                                                      also the keep-alive idle limit (15)\n"
        "  [http] body_timeout        ATRIUM_BODY_TIMEOUT      seconds to send a body (60); for\n"
        "                                                      streamed uploads, and a download's\n"
        "                                                      reader: without progress\n"
        "  [http] drain_timeout       ATRIUM_DRAIN_TIMEOUT     seconds SIGTERM waits (30)\n"
        "  [http] listeners           ATRIUM_LISTENERS         listening threads, each with its\n"
        "                                                      own socket (0: one per core)\n"
        "  [http] access_log          ATRIUM_ACCESS_LOG        1: a log line per request (1),\n"
        "                                                      written in batches; 0: none\n"
        "  [http] check_responses     ATRIUM_CHECK_RESPONSES   1: check every JSON answer against\n"
        "                                                      its route's response_schema and log\n"
        "                                                      a mismatch (plugin development,\n"
        "                                                      the test suite); 0: not (0)\n"
        "  [plugins] dir              ATRIUM_PLUGIN_DIR        directory of plugin .so files\n"
        "  [plugins] strict           ATRIUM_STRICT            1: any plugin failure is fatal\n"
        "  [storage] data_dir         ATRIUM_DATA_DIR          data directory (files, blobs)\n"
        "  [NAME] KEY                 ATRIUM_NAME_KEY          a plugin's own settings (the\n"
        "  [plugin.NAME] KEY          ATRIUM_PLUGIN_NAME_KEY   older spelling still works)\n";

const char *
atrium_config_help (void)
{
        return help_text;
}

/* The value of @env if set and non-empty, else [group] key of @kf, else NULL. */
static char *
lookup (GKeyFile *kf, const char *env, const char *group, const char *key)
{
        const char *v = env ? g_getenv (env) : NULL;
        if (v && *v)
                return g_strdup (v);
        if (kf)
                return g_key_file_get_string (kf, group, key, NULL);
        return NULL;
}

static gboolean
lookup_uint (GKeyFile *kf, const char *env, const char *group, const char *key, guint64 min,
             guint64 max, guint64 *inout, GError **error)
{
        g_autofree char *v = lookup (kf, env, group, key);
        if (!v)
                return TRUE;
        guint64 n;
        if (!g_ascii_string_to_unsigned (g_strstrip (v), 10, min, max, &n, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "%s / [%s] %s: expected a number from %" G_GUINT64_FORMAT
                             " to %" G_GUINT64_FORMAT ", got \"%s\"",
                             env, group, key, min, max, v);
                return FALSE;
        }
        *inout = n;
        return TRUE;
}

static gboolean
parse_listen (AtriumConfig *c, const char *listen, GError **error)
{
        const char *colon = strrchr (listen, ':');
        guint64 port;
        if (!colon || colon == listen ||
            !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "ATRIUM_LISTEN: expected host:port, got \"%s\"", listen);
                return FALSE;
        }
        g_free (c->listen_host);
        c->listen_host = g_strndup (listen, colon - listen);
        /* "[::1]:8080": brackets come in pairs around the whole host, or not at all. */
        size_t n = strlen (c->listen_host);
        gboolean opens = c->listen_host[0] == '[', closes = n > 0 && c->listen_host[n - 1] == ']';
        if (opens != closes || (opens && n < 3) ||
            strchr (c->listen_host + opens, '[') ||
            (strchr (c->listen_host, ']') && !closes) ||
            (!opens && strchr (c->listen_host, ':'))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "ATRIUM_LISTEN: expected host:port or [ipv6]:port, got \"%s\"",
                             listen);
                return FALSE;
        }
        if (opens) {
                memmove (c->listen_host, c->listen_host + 1, n - 2);
                c->listen_host[n - 2] = '\0';
        }
        c->listen_port = (guint) port;
        return TRUE;
}

/* One line per use of the older spelling of plugin settings, at start-up. */
static void
note_old_spelling (GKeyFile *kf)
{
        gsize n = 0;
        g_auto (GStrv) groups = kf ? g_key_file_get_groups (kf, &n) : NULL;
        for (gsize i = 0; i < n; i++)
                if (g_str_has_prefix (groups[i], "plugin."))
                        g_message ("config: [%s] is the older spelling of [%s]; it still works, "
                                   "but write [%s]",
                                   groups[i], groups[i] + 7, groups[i] + 7);
        g_auto (GStrv) vars = g_listenv ();
        for (char **v = vars; *v; v++)
                if (g_str_has_prefix (*v, "ATRIUM_PLUGIN_") &&
                    !g_str_equal (*v, "ATRIUM_PLUGIN_DIR"))
                        g_message ("config: %s is the older spelling of ATRIUM_<NAME>_<KEY>; it "
                                   "still works, but drop the PLUGIN_",
                                   *v);
}

AtriumConfig *
atrium_config_load (const char *path, GError **error)
{
        g_autoptr (AtriumConfig) c = g_new0 (AtriumConfig, 1);
        if (path) {
                c->keyfile = g_key_file_new ();
                if (!g_key_file_load_from_file (c->keyfile, path, G_KEY_FILE_NONE, error)) {
                        g_prefix_error (error, "%s: ", path);
                        return NULL;
                }
        }
        GKeyFile *kf = c->keyfile;

        c->database_url = lookup (kf, "ATRIUM_DATABASE_URL", "database", "url");
        if (!c->database_url)
                c->database_url = g_strdup ("dbname=atrium");
        c->request_database_url =
                lookup (kf, "ATRIUM_REQUEST_DATABASE_URL", "database", "request_url");

        g_autofree char *pooler = lookup (kf, "ATRIUM_DATABASE_POOLER", "database", "pooler");
        if (pooler && !g_str_equal (pooler, "none") && !g_str_equal (pooler, "transaction")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "[database] pooler must be \"none\" or \"transaction\", not \"%s\"",
                             pooler);
                return NULL;
        }
        c->transaction_pooler = pooler && g_str_equal (pooler, "transaction");
        if (c->transaction_pooler && !c->request_database_url) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "[database] pooler = transaction needs [database] request_url, the "
                             "pooler's address, where the request role logs in itself: a SET "
                             "ROLE would not outlive a transaction");
                return NULL;
        }
        c->replica_url = lookup (kf, "ATRIUM_DATABASE_REPLICA_URL", "database", "replica_url");
        c->request_role = lookup (kf, "ATRIUM_REQUEST_ROLE", "database", "request_role");
        if (!c->request_role)
                c->request_role = g_strdup ("atrium_request");
        g_autofree char *listen = lookup (kf, "ATRIUM_LISTEN", "http", "listen");
        if (!parse_listen (c, listen ? listen : "127.0.0.1:8080", error))
                return NULL;

        c->public_url = lookup (kf, "ATRIUM_PUBLIC_URL", "http", "public_url");
        if (c->public_url) {
                gsize n = strlen (c->public_url);
                while (n > 0 && c->public_url[n - 1] == '/')
                        c->public_url[--n] = '\0';
                if (!g_str_has_prefix (c->public_url, "https://") &&
                    !g_str_has_prefix (c->public_url, "http://")) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "[http] public_url must start with https:// or http://");
                        return NULL;
                }
        } else {
                gboolean v6 = strchr (c->listen_host, ':') != NULL;
                c->public_url = g_strdup_printf ("http://%s%s%s:%u", v6 ? "[" : "", c->listen_host,
                                                 v6 ? "]" : "", c->listen_port);
        }

        c->plugin_dir = lookup (kf, "ATRIUM_PLUGIN_DIR", "plugins", "dir");
        if (!c->plugin_dir)
                c->plugin_dir = g_strdup (ATRIUM_DEFAULT_PLUGIN_DIR);
        c->data_dir = lookup (kf, "ATRIUM_DATA_DIR", "storage", "data_dir");
        if (!c->data_dir)
                c->data_dir = g_strdup ("/var/lib/atrium");
        c->sendmail = lookup (kf, "ATRIUM_SENDMAIL_COMMAND", "sendmail", "command");
        if (!c->sendmail)
                c->sendmail = g_strdup ("/usr/sbin/sendmail");
        c->reset_from = lookup (kf, "ATRIUM_RESET_FROM", "auth", "reset_from");

        /* Measured on 2 cores with PostgreSQL on the same box: 1-2 workers per core answered
         * /me and a list fastest (8 per core: -20 %); docs/OPERATIONS.md has the figures. */
        guint64 pool = 2 * (guint64) g_get_num_processors (), max_body = 1024 * 1024, hto = 15, bto = 60, dto = 30, strict = 0;
        /* Sign-ins at 08:00 are Argon2id-bound: a hashing thread per processor lets a storm
         * of them use the machine (the kernel still shares it with the workers); a fixed two
         * capped an 8-core host at a quarter of its sign-in rate. */
        guint64 slow = MAX (2, g_get_num_processors ()), stream = 128, life = 43200, idle = 7200,
                proxy = 0, access_log = 1, check_responses = 0;
        guint64 listeners = 0, event_attempts = 12, outside = 16, sendmail_timeout = 60;
        guint64 reset_minutes = 60, key_refresh = 3600;
        guint64 argon2_m = ATRIUM_ARGON2_DEFAULT_M_KIB, argon2_t = ATRIUM_ARGON2_DEFAULT_T;
        guint64 argon2_weak = 0;
        /* A few connections are enough for the heavy reads a replica takes (they queue for
         * them, rather than crowd the replica); half a minute behind is still "today's
         * figures" and rides out a replica's short hiccups without flapping. */
        guint64 replica_pool = 4, replica_lag = 30;
        /* A statement stuck behind a lock (a migration, someone's open transaction) would hold
         * its worker and its connection for as long as the lock: at the rush, a few such
         * requests leave nothing to serve the rest. No request of Atrium's runs this long;
         * timers and commands lift it (plugin-tasks.c). */
        guint64 statement_timeout = 30;
        if (!lookup_uint (kf, "ATRIUM_POOL_SIZE", "database", "pool_size", 1, 1000, &pool, error) ||
            !lookup_uint (kf, "ATRIUM_MAX_BODY", "http", "max_body", 1, G_MAXINT64, &max_body,
                          error) ||
            !lookup_uint (kf, "ATRIUM_HEADER_TIMEOUT", "http", "header_timeout", 1, 3600, &hto,
                          error) ||
            !lookup_uint (kf, "ATRIUM_BODY_TIMEOUT", "http", "body_timeout", 1, 86400, &bto,
                          error) ||
            !lookup_uint (kf, "ATRIUM_DRAIN_TIMEOUT", "http", "drain_timeout", 0, 3600, &dto,
                          error) ||
            !lookup_uint (kf, "ATRIUM_STRICT", "plugins", "strict", 0, 1, &strict, error) ||
            !lookup_uint (kf, "ATRIUM_SLOW_WORKERS", "http", "slow_workers", 1, 64, &slow, error) ||
            !lookup_uint (kf, "ATRIUM_STREAM_WORKERS", "http", "stream_workers", 1, 1024, &stream,
                          error) ||
            !lookup_uint (kf, "ATRIUM_OUTSIDE_WORKERS", "http", "outside_workers", 1, 1024,
                          &outside, error) ||
            !lookup_uint (kf, "ATRIUM_TRUST_PROXY", "http", "trust_proxy", 0, 1, &proxy, error) ||
            !lookup_uint (kf, "ATRIUM_ACCESS_LOG", "http", "access_log", 0, 1, &access_log,
                          error) ||
            !lookup_uint (kf, "ATRIUM_LISTENERS", "http", "listeners", 0, 64, &listeners, error) ||
            !lookup_uint (kf, "ATRIUM_CHECK_RESPONSES", "http", "check_responses", 0, 1,
                          &check_responses, error) ||
            !lookup_uint (kf, "ATRIUM_SESSION_LIFETIME", "auth", "session_lifetime", 60, 31536000,
                          &life, error) ||
            !lookup_uint (kf, "ATRIUM_SESSION_IDLE", "auth", "session_idle", 60, 31536000, &idle,
                          error) ||
            !lookup_uint (kf, "ATRIUM_EVENT_MAX_ATTEMPTS", "events", "max_attempts", 1, 100,
                          &event_attempts, error) ||
            !lookup_uint (kf, "ATRIUM_SENDMAIL_TIMEOUT", "sendmail", "timeout", 1, 3600,
                          &sendmail_timeout, error) ||
            !lookup_uint (kf, "ATRIUM_RESET_LINK_MINUTES", "auth", "reset_link_minutes", 5, 1440,
                          &reset_minutes, error) ||
            !lookup_uint (kf, "ATRIUM_OIDC_KEY_REFRESH", "auth", "oidc_key_refresh", 1, 86400,
                          &key_refresh, error) ||
            !lookup_uint (kf, "ATRIUM_DATABASE_REPLICA_POOL_SIZE", "database", "replica_pool_size",
                          1, 1000, &replica_pool, error) ||
            !lookup_uint (kf, "ATRIUM_DATABASE_REPLICA_MAX_LAG", "database", "replica_max_lag", 1,
                          86400, &replica_lag, error) ||
            !lookup_uint (kf, "ATRIUM_DATABASE_STATEMENT_TIMEOUT", "database", "statement_timeout",
                          0, 86400, &statement_timeout, error) ||
            !lookup_uint (kf, "ATRIUM_ARGON2_MEMORY_KIB", "auth", "argon2_memory_kib", 8, 4194304,
                          &argon2_m, error) ||
            !lookup_uint (kf, "ATRIUM_ARGON2_ITERATIONS", "auth", "argon2_iterations", 1, 64,
                          &argon2_t, error) ||
            !lookup_uint (kf, "ATRIUM_ARGON2_ALLOW_WEAK", "auth", "argon2_allow_weak", 0, 1,
                          &argon2_weak, error))
                return NULL;
        /* The cheapest of OWASP's equivalent settings is 7 MiB with 5 passes; anything below
         * makes a stolen hash cheaper to attack. A test suite may ask for less, explicitly. */
        if (!argon2_weak && (argon2_m < 7168 || argon2_m * argon2_t < 35840)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "[auth] argon2_memory_kib = %" G_GUINT64_FORMAT
                             " and argon2_iterations = %" G_GUINT64_FORMAT
                             " are below OWASP's minimum for Argon2id (at least 7168 KiB, and "
                             "memory times passes at least 35840)",
                             argon2_m, argon2_t);
                return NULL;
        }
        c->argon2_m_kib = (guint) argon2_m;
        c->argon2_t = (guint) argon2_t;
        c->argon2_weak = argon2_weak != 0;
        c->slow_workers = (guint) slow;
        c->stream_workers = (guint) stream;
        c->outside_workers = (guint) outside;
        c->trust_proxy = proxy != 0;
        c->access_log = access_log != 0;
        c->check_responses = check_responses != 0;
        c->listeners = (guint) listeners;
        c->session_lifetime = (guint) life;
        c->session_idle = (guint) idle;
        c->event_max_attempts = (guint) event_attempts;
        c->sendmail_timeout = (guint) sendmail_timeout;
        c->reset_link_minutes = (guint) reset_minutes;
        c->oidc_key_refresh = (guint) key_refresh;
        c->pool_size = (guint) pool;
        c->replica_pool_size = (guint) replica_pool;
        c->replica_max_lag = (guint) replica_lag;
        c->statement_timeout = (guint) statement_timeout;
        c->max_body = max_body;
        c->header_timeout = (guint) hto;
        c->body_timeout = (guint) bto;
        c->drain_timeout = (guint) dto;
        c->strict = strict != 0;
        note_old_spelling (kf);
        return g_steal_pointer (&c);
}

/* The core's own sections, never a plugin's [NAME]. */
static const char *const core_sections[] = {"database", "http",   "auth",     "plugins",
                                            "storage",  "plugin", "sendmail", NULL};

char *
atrium_config_plugin_value (const AtriumConfig *config, const char *plugin, const char *key)
{
        /* [NAME] KEY / ATRIUM_NAME_KEY ("[mail] lmtp_listen", ATRIUM_MAIL_LMTP_LISTEN), then
         * the older spelling [plugin.NAME] / ATRIUM_PLUGIN_NAME_KEY (atrium_config_load says
         * so once). The environment overrides the file in either spelling. */
        gboolean own = !g_strv_contains (core_sections, plugin);
        g_autofree char *raw = g_strdup_printf ("ATRIUM_%s_%s", plugin, key);
        g_autofree char *env = g_ascii_strup (raw, -1);
        g_autofree char *raw_old = g_strdup_printf ("ATRIUM_PLUGIN_%s_%s", plugin, key);
        g_autofree char *env_old = g_ascii_strup (raw_old, -1);
        g_autofree char *group_old = g_strdup_printf ("plugin.%s", plugin);
        char *v = own ? lookup (NULL, env, NULL, NULL) : NULL;
        if (!v)
                v = lookup (NULL, env_old, NULL, NULL);
        if (!v && own)
                v = lookup (config->keyfile, NULL, plugin, key);
        if (!v)
                v = lookup (config->keyfile, NULL, group_old, key);
        return v;
}

void
atrium_config_free (AtriumConfig *c)
{
        if (!c)
                return;
        g_free (c->database_url);
        g_free (c->request_database_url);
        g_free (c->replica_url);
        g_free (c->request_role);
        g_free (c->listen_host);
        g_free (c->public_url);
        g_free (c->plugin_dir);
        g_free (c->data_dir);
        g_free (c->sendmail);
        g_free (c->reset_from);
        if (c->keyfile)
                g_key_file_free (c->keyfile);
        g_free (c);
}
