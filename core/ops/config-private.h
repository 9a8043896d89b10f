/* SPDX-License-Identifier: Apache-2.0 */
/* config-private.h - atriumd's configuration: a GKeyFile (--config) overridden by ATRIUM_*
 * environment variables. Read once at start-up, then immutable and shared by all threads. */
#pragma once

#include <glib.h>

typedef struct {
        char *database_url;         /* owner/migration role: [database] url, ATRIUM_DATABASE_URL */
        char *request_database_url; /* request role, NULL: derived by migrate (see docs) */
        char *request_role;         /* role requests run as ("atrium_request") */
        char *listen_host;
        char *public_url; /* [http] public_url: what clients reach (no trailing /) */
        guint listen_port;
        char *plugin_dir;
        char *data_dir;
        guint pool_size;           /* database connections = worker threads */
        guint64 max_body;          /* bytes; 413 beyond */
        guint header_timeout;      /* seconds from connection/keep-alive to complete headers */
        guint body_timeout;        /* seconds to receive a body once headers are in */
        guint drain_timeout;       /* seconds SIGTERM waits for in-flight requests */
        gboolean strict;           /* any plugin failure is fatal */
        guint slow_workers;        /* threads for ATRIUM_ROUTE_SLOW (password hashing) */
        gboolean transaction_pooler; /* request_url is a transaction pooler (PgBouncer) */
        char *replica_url;           /* (nullable) a streaming replica for heavy reads */
        guint replica_pool_size;     /* connections to it */
        guint replica_max_lag;       /* seconds behind beyond which reads go to the primary */
        guint statement_timeout;     /* seconds a request's statement may run; 0: no limit */
        guint outside_workers;       /* threads for ATRIUM_ROUTE_OUTSIDE (waiting on a backend) */
        guint stream_workers;      /* threads for ATRIUM_ROUTE_STREAM_BODY (uploads); they share
                                    * the connection pool, holding none while a body streams */
        guint session_lifetime;    /* seconds a sign-in session lasts at most */
        guint session_idle;        /* seconds of inactivity that end a session */
        guint event_max_attempts;  /* deliveries to a failing subscriber before giving up */
        gboolean trust_proxy;      /* take the client address from X-Real-IP (behind nginx) */
        gboolean access_log;       /* one log line per request (buffered; log.c) */
        gboolean check_responses;  /* JSON answers checked against response_schema (handle.c) */
        guint listeners;           /* listening fronts (threads); 0: one per processor */
        char *sendmail;            /* [sendmail] command: the MTA's sendmail-compatible command */
        guint sendmail_timeout;    /* [sendmail] timeout: seconds before it is killed */
        char *reset_from;          /* [auth] reset_from: the sender of reset links (nullable) */
        guint reset_link_minutes;  /* [auth] reset_link_minutes: how long a mailed link works */
        guint oidc_key_refresh;    /* [auth] oidc_key_refresh: seconds between key refreshes */
        guint argon2_m_kib;        /* [auth] argon2_memory_kib: Argon2id memory per hash */
        guint argon2_t;            /* [auth] argon2_iterations: Argon2id passes */
        gboolean argon2_weak;      /* [auth] argon2_allow_weak: below OWASP's minimum (tests) */
        GKeyFile *keyfile;         /* (nullable) the whole file, for [plugin.<name>] sections */
} AtriumConfig;

/* OWASP's Argon2id minimum (Password Storage Cheat Sheet): the default cost of a password
 * hash, [auth] argon2_memory_kib and argon2_iterations. */
#define ATRIUM_ARGON2_DEFAULT_M_KIB 19456u
#define ATRIUM_ARGON2_DEFAULT_T 2u

AtriumConfig *atrium_config_load (const char *path, GError **error);
void atrium_config_free (AtriumConfig *config);
char *atrium_config_plugin_value (const AtriumConfig *config, const char *plugin, const char *key);
const char *atrium_config_help (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumConfig, atrium_config_free)
