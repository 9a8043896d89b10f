/* SPDX-License-Identifier: Apache-2.0 */
/* core-private.h - the host's shared state (AtriumCore) and the internal shapes behind the
 * opaque handles plugins see (AtriumPlugin, AtriumRequest). Nothing here is visible to
 * plugins; they reach all of it through the AtriumHost table built in host-services.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "atrium/atrium.h"
#include "config-private.h"
#include "db-private.h"
#include "router-private.h"

typedef struct _AtriumCore AtriumCore;
typedef struct _AtriumMetrics AtriumMetrics;
typedef struct _AtriumTask AtriumTask; /* a plugin's command or timer (plugin-tasks.c) */

typedef enum {
        ATRIUM_PLUGIN_LOADED,  /* descriptor accepted, waiting for dependency order */
        ATRIUM_PLUGIN_RUNNING, /* init and start succeeded */
        ATRIUM_PLUGIN_FAILED,  /* refused; @failure says why */
} AtriumPluginState;

typedef struct {
        char *name;
        char *sql;
        char *checksum; /* SHA-256 hex of sql */
} AtriumMigration;

struct _AtriumPlugin {
        AtriumCore *core;
        char *path;
        void *dl_handle;
        AtriumPluginDescriptor desc; /* zero-extended copy of what the plugin exported */
        guint desc_minor;            /* minor the plugin was built for */
        AtriumPluginState state;
        char *failure;
        GPtrArray *migrations; /* AtriumMigration, sorted by name before running */
        gboolean in_init;      /* registration slots only work while TRUE */
        char *data_dir;        /* (nullable) created on first use (plugin-tasks.c) */
};

/* Host-internal route flag (never set by plugins; cleared if one tries): the route needs no
 * database and never blocks, so it answers even while PostgreSQL is away (liveness, metrics,
 * the OpenAPI document), and right on the main loop, without a worker hand-off. */
#define ATRIUM_ROUTE_NO_DB (1u << 30)
/* Host-internal route flag for the core's own GET routes: the handler reads who is asking
 * (req->user_id, ...) only after its first query, so core.begin_request() may travel in that
 * query's round trip (core.c). Plugin routes get this without the flag: they can only ask
 * through the host table, whose identity slots wait for the check. */
#define ATRIUM_ROUTE_EARLY_QUERY (1u << 29)

/* One registered route: the plugin's AtriumRoute with owned copies of its strings. */
typedef struct {
        AtriumPlugin *owner; /* NULL for the core's own routes */
        char *method;
        char *template; /* full path template */
        AtriumRouteScope scope;
        guint32 flags;
        char *permission;
        char *summary;
        JsonNode *request_schema;  /* (nullable) compiled */
        JsonNode *response_schema; /* (nullable) */
        guint success_status;
        AtriumHandler handler;
        gpointer user_data;
} AtriumRouteEntry;

typedef struct {
        AtriumPlugin *owner;
        char *event;
        AtriumEventHandler handler;
        gpointer user_data;
} AtriumSubscription;

typedef struct {
        AtriumPlugin *owner;
        char *name;
        guint version;
        gconstpointer table;
} AtriumService;

/* How far startup.c has taken the host. */
typedef enum {
        ATRIUM_STAGE_NONE,
        ATRIUM_STAGE_INITIALISED, /* core routes registered, plugins loaded and initialised */
        ATRIUM_STAGE_MIGRATED,    /* migrations, request role, grants, permission defaults */
        ATRIUM_STAGE_STARTED,     /* plugins started */
} AtriumStage;

struct _AtriumCore {
        AtriumStage stage;
        AtriumConfig *config;
        AtriumDbPool *pool;
        AtriumRouter *router;
        GPtrArray *plugins;       /* AtriumPlugin*, in load order, then init order */
        GPtrArray *routes;        /* AtriumRouteEntry*, owned */
        GPtrArray *subscriptions; /* AtriumSubscription*, owned */
        GPtrArray *services;      /* AtriumService*, owned */
        AtriumMetrics *metrics;
        const AtriumHost *host;   /* the services table handed to plugins */
        GPtrArray *permission_sources; /* char*: SQL functions granting permissions */
        gboolean migrations_done;
        GPtrArray *tasks;          /* AtriumTask*, owned: commands and timers */
        GThreadPool *task_pool;    /* (nullable) runs timers on a serving host */
};

/* The request behind the opaque handle: everything copied off the SoupServerMessage on the
 * main thread, so the worker never touches libsoup objects. */
struct _AtriumRequest {
        AtriumCore *core;
        const AtriumRouteEntry *route;
        char *request_id;
        char *method;
        char *path;
        GHashTable *params;  /* path parameters */
        GHashTable *query;   /* (nullable) */
        GHashTable *headers; /* lower-cased name -> value */
        GBytes *body;        /* (nullable) */
        GInputStream *body_stream; /* (nullable) ATRIUM_ROUTE_STREAM_BODY routes */
        JsonNode *json;      /* (nullable) parsed, validated body */
        char *school_id;
        char *school_slug;
        char *user_id;     /* NULL for operators and anonymous callers */
        char *operator_id; /* set for platform operators */
        char *session_id;
        char **roles;            /* the user's roles in the school */
        GHashTable *permissions; /* set of granted permission names */
        char *client;            /* peer address (or the proxy's X-Real-IP, if trusted) */
        AtriumTx *tx;

        /* the answer */
        guint status;
        char *content_type;
        GBytes *response_body;
        GInputStream *response_stream; /* (nullable) respond_stream(); length below */
        goffset response_length;
        GPtrArray *response_headers; /* name, value, name, value ... */
};

/* host-services.c */
const AtriumHost *atrium_host_table (void);
void atrium_request_set_problem (AtriumRequest *req, const GError *error);
void atrium_request_set_json (AtriumRequest *req, guint status, JsonNode *body);

/* problem.c */
guint atrium_error_status (const GError *error);
const char *atrium_error_type (const GError *error);
GBytes *atrium_problem_body (guint status, const char *type, const char *detail,
                             const char *instance);
char *atrium_problem_type_uri (const char *type);

/* plugin-loader.c */
AtriumPlugin *atrium_plugin_open (AtriumCore *core, const char *path, GError **error);
gboolean atrium_plugins_load_dir (AtriumCore *core, const char *dir, GError **error);
gboolean atrium_plugins_init_all (AtriumCore *core, GError **error);
gboolean atrium_plugins_start_all (AtriumCore *core, GError **error);
void atrium_plugins_stop_all (AtriumCore *core);
void atrium_plugin_fail (AtriumPlugin *plugin, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
void atrium_plugin_free (AtriumPlugin *plugin);
AtriumPlugin *atrium_core_find_plugin (AtriumCore *core, const char *name);
int atrium_version_compare (const char *a, const char *b);
gboolean atrium_version_valid (const char *v);

/* registry.c: every list of registrations but tasks; the AtriumHost registration slots. */
void atrium_registry_init (AtriumCore *core);
void atrium_registry_clear (AtriumCore *core);
gboolean atrium_core_add_route (AtriumCore *core, AtriumPlugin *owner, const AtriumRoute *route,
                                GError **error);
/* The core's own routes: user_data is set to @core; a bad table is a programming error. */
void atrium_core_add_routes (AtriumCore *core, const AtriumRoute *routes, gsize n);
void atrium_core_drop_registrations (AtriumCore *core, AtriumPlugin *owner);
gboolean atrium_registry_add_route (AtriumPlugin *self, const AtriumRoute *route, GError **error);
gboolean atrium_registry_add_migration (AtriumPlugin *self, const char *name, const char *sql,
                                        GError **error);
gboolean atrium_registry_subscribe (AtriumPlugin *self, const char *event,
                                    AtriumEventHandler handler, gpointer user_data,
                                    GError **error);
gboolean atrium_registry_provide_service (AtriumPlugin *self, const char *name, guint version,
                                          gconstpointer table, GError **error);
gconstpointer atrium_registry_lookup_service (AtriumPlugin *self, const char *name,
                                              guint min_version);
gboolean atrium_registry_add_permission_source (AtriumPlugin *self, const char *sql_function,
                                                GError **error);

/* startup.c: load -> init -> migrate (with grants) -> start, from wherever the host is up to
 * @until; atrium_shutdown() stops what was started. */
gboolean atrium_startup (AtriumCore *core, AtriumStage until, GError **error);
void atrium_shutdown (AtriumCore *core);

/* core.c */
AtriumCore *atrium_core_new (AtriumConfig *config);
void atrium_core_free (AtriumCore *core);
/* Runs the route's handler in a transaction and fills the answer into @req. */
void atrium_core_handle (AtriumCore *core, AtriumRequest *req);
void atrium_request_free (AtriumRequest *req);
void atrium_core_register_builtin_routes (AtriumCore *core);

/* plugin-tasks.c */
void atrium_task_free (AtriumTask *t);
void atrium_tasks_drop (AtriumCore *core, AtriumPlugin *owner);
gboolean atrium_host_add_command (AtriumPlugin *self, const char *name, const char *summary,
                                  AtriumCommandFunc func, gpointer user_data, GError **error);
gboolean atrium_host_add_timer (AtriumPlugin *self, guint interval_seconds,
                                AtriumTimerFunc func, gpointer user_data, GError **error);
gboolean atrium_host_run_tx (AtriumPlugin *self, const char *school_id, AtriumTxFunc func,
                             gpointer user_data, GError **error);
const char *atrium_host_data_dir (AtriumPlugin *self);
/* argv: plugin, command, args... has_command prints the known commands when it answers
 * FALSE. */
gboolean atrium_tasks_has_command (AtriumCore *core, int argc, char **argv);
int atrium_tasks_run_command (AtriumCore *core, int argc, char **argv);
void atrium_tasks_start_timers (AtriumCore *core, GMainContext *context);
void atrium_tasks_stop_timers (AtriumCore *core);

/* events.c */
void atrium_events_deliver (AtriumCore *core, const char *school_id, const char *user_id,
                            GPtrArray *events);

/* migrate.c */
/* Applies pending migrations; @with_grants also sets up the request role and the permission
 * defaults (needs the plugins loaded). */
gboolean atrium_migrate (AtriumCore *core, gboolean with_grants, GError **error);

/* openapi.c */
JsonNode *atrium_openapi_document (AtriumCore *core);

/* metrics.c */
AtriumMetrics *atrium_metrics_new (void);
void atrium_metrics_free (AtriumMetrics *m);
void atrium_metrics_observe (AtriumMetrics *m, const char *method, const char *route,
                             guint status, double seconds);
char *atrium_metrics_render (AtriumMetrics *m, AtriumCore *core);
/* Open client connections go up or down by @delta (any thread). */
void atrium_metrics_connections (AtriumMetrics *m, int delta);
/* An accept() failed for want of descriptors. */
void atrium_metrics_accept_failed (AtriumMetrics *m);

/* server.c */
int atrium_serve (AtriumCore *core);

/* log.c */
void atrium_log_setup (void);
/* Request log lines on (the default) or off ([http] access_log). */
void atrium_log_set_access (gboolean enabled);
/* Writes out this thread's buffered request log lines (before exit). */
void atrium_log_flush (void);
void atrium_log_request (const char *request_id, const char *method, const char *route,
                         guint status, double ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumCore, atrium_core_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumRequest, atrium_request_free)
