/* SPDX-License-Identifier: Apache-2.0 */
/* core-private.h - the host's shared state (AtriumCore) and the internal shapes behind the
 * opaque handles plugins see (AtriumPlugin, AtriumRequest), which every folder of core/ works
 * on. Nothing here is visible to plugins; they reach all of it through the AtriumHost table
 * (plugin-host/host-services.c). What each folder offers the others is in its own header:
 * http-private.h, pipeline-private.h, db-private.h, plugin-host-private.h,
 * identity-private.h, ops-private.h (and config-private.h). */
#pragma once

#include <glib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "atrium/atrium.h"
#include "config-private.h"
#include "db-private.h"

typedef struct _AtriumCore AtriumCore;
typedef struct _AtriumMetrics AtriumMetrics;
typedef struct _AtriumRouter AtriumRouter; /* pipeline/router.c */
typedef struct _AtriumTask AtriumTask; /* a plugin's command or timer (plugin-tasks.c) */
typedef struct _AtriumPermCache AtriumPermCache; /* pipeline/perm-cache.c */
typedef struct _AtriumSchoolCache AtriumSchoolCache; /* pipeline/school-cache.c */
typedef struct _AtriumPermSet AtriumPermSet;     /* pipeline/perm-cache.c */
typedef struct _AtriumOidcKeys AtriumOidcKeys;   /* oidc/keys.c */
typedef struct _AtriumPortal AtriumPortal;       /* portal/portal.c */

typedef enum {
        ATRIUM_PLUGIN_LOADED,  /* descriptor accepted, waiting for dependency order */
        ATRIUM_PLUGIN_RUNNING, /* init and start succeeded */
        ATRIUM_PLUGIN_FAILED,  /* refused; @failure says why */
} AtriumPluginState;

typedef struct {
        char *name;
        char *sql;      /* (nullable) released once the host's start-up applied it */
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
 * query's round trip (pipeline/handle.c). Plugin routes get this without the flag: they can only ask
 * through the host table, whose identity slots wait for the check. */
#define ATRIUM_ROUTE_EARLY_QUERY (1u << 29)
/* Host-internal route flag for the OpenID provider's endpoints (core/oidc/): the route reads
 * the Authorization header itself (an OAuth access token, a client's Basic credentials), so
 * the identity check ignores it and only resolves {school}; the caller is anonymous. */
#define ATRIUM_ROUTE_OWN_AUTH (1u << 27) /* dav-private.h has 28 */
/* Host-internal route flag for the few core routes a person who must change their password
 * may use meanwhile (their own account, sign-out, the change itself); every other route
 * answers 403 password-change-required (pipeline/handle.c, docs/ACCOUNTS.md). Honoured only
 * on the core's own routes. */
#define ATRIUM_ROUTE_PASSWORD_CHANGE (1u << 26)
/* Likewise for a person whose school wants a second factor they have not turned on yet:
 * their own account, sign-out and the enrolment (403 second-factor-required elsewhere). */
#define ATRIUM_ROUTE_TOTP_ENROL (1u << 25)

/* Core-only error code (outside the plugin ABI's AtriumErrorCode): 403 with the problem type
 * password-change-required (pipeline/problem.c). */
#define ATRIUM_ERROR_PASSWORD_CHANGE_REQUIRED 1001
/* Core-only: 403 second-factor-required (the OpenID provider's plain form asks for no code). */
#define ATRIUM_ERROR_SECOND_FACTOR_REQUIRED 1002

/* One registered route: the plugin's AtriumRoute with owned copies of its strings. */
typedef struct {
        AtriumPlugin *owner; /* NULL for the core's own routes */
        char *method;
        char *template; /* full path template */
        AtriumRouteScope scope;
        guint32 flags;
        char *permission;
        char *summary;
        /* Schemas are kept as compact JSON text (the compiled schema, checked when the route
         * was added): a tree costs ~14 times its text, and most routes never see a body on a
         * given host. The request schema's tree is made by the first body that needs it. */
        char *request_schema;    /* (nullable) */
        JsonNode *request_tree;  /* (nullable) atomic: atrium_route_request_schema() */
        char *response_schema;   /* (nullable) for OpenAPI, and [http] check_responses */
        JsonNode *response_tree; /* (nullable) atomic: atrium_route_response_schema() */
        char *query_schema;      /* (nullable) the declared query parameters */
        JsonNode *query_tree;    /* (nullable) atomic: atrium_route_query_schema() */
        /* The names request_query() may read: the declared ones, and limit and cursor when
         * ATRIUM_ROUTE_PAGED. %NULL for a route registered before query_schema existed
         * (ABI < 1.5): nothing is checked. */
        char **query_names;
        /* (nullable) response_type's media types, lower-case: a success answer that is not
         * JSON (media-type.c) */
        char **response_types;
        guint success_status;
        AtriumHandler handler;
        gpointer user_data;
} AtriumRouteEntry;

typedef struct _AtriumLeader AtriumLeader;

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
        AtriumReplica *replica; /* (nullable) [database] replica_url: heavy reads (replica.c) */
        AtriumRouter *router;
        GPtrArray *plugins;       /* AtriumPlugin*, in load order, then init order */
        GPtrArray *routes;        /* AtriumRouteEntry*, owned */
        GPtrArray *subscriptions; /* AtriumSubscription*, owned */
        GPtrArray *services;      /* AtriumService*, owned */
        GPtrArray *dav_mounts;    /* AtriumDavMount*, owned: trees served over WebDAV (dav/) */
        AtriumPortal *portal;     /* the browser portal: shell and plugin pages (portal/) */
        AtriumMetrics *metrics;
        const AtriumHost *host;   /* the services table handed to plugins */
        GPtrArray *permission_sources; /* char*: SQL functions granting permissions */
        AtriumPermCache *perm_cache;   /* (nullable) callers' permissions; NULL: not cacheable */
        AtriumSchoolCache *school_cache; /* the schools {school} named (pipeline/school-cache.c) */
        AtriumOidcKeys *oidc_keys;       /* (nullable) the OpenID provider's signing keys */
        gboolean migrations_done;
        gboolean migrate_always; /* `atriumd migrate`: a whole run even when nothing changed */
        AtriumDbOpening *migrate_conn; /* (nullable) migrate's connection, opening meanwhile */
        GPtrArray *tasks;          /* AtriumTask*, owned: commands and timers */
        GThreadPool *task_pool;    /* (nullable) runs timers on a serving host */
        gpointer server;           /* (nullable) serve.c's server while it serves */
        AtriumLeader *leader;      /* (nullable) the election and retry thread (leader.c) */
        gint is_leader;            /* atomic: this host holds the installation's leader lock */
        /* atomic counters of event deliveries (events.c), for /metrics */
        gsize event_deliveries, event_retries, event_failures, event_given_up;
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
        char *dav_username;      /* (nullable) a WebDAV caller's username, from the check */
        char **roles;            /* the user's roles in the school */
        AtriumPermSet *permissions; /* (nullable) what the caller may do (perm-cache.c) */
        gboolean touch_session;     /* the session's last use is to be recorded */
        char *client;            /* peer address (or the proxy's X-Real-IP, if trusted) */
        AtriumTx *tx;
        /* (nullable) events committed by request_tx_commit (ABI 1.4): delivered after the
         * handler, whatever it returned */
        GPtrArray *committed_events;

        /* the answer */
        guint status;
        char *content_type;
        GBytes *response_body;
        GInputStream *response_stream; /* (nullable) respond_stream(); length below */
        goffset response_length;
        GPtrArray *response_headers; /* name, value, name, value ... */
};

/* core.c */
AtriumCore *atrium_core_new (AtriumConfig *config);
void atrium_core_free (AtriumCore *core);
void atrium_request_free (AtriumRequest *req); /* pipeline/request.c */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumCore, atrium_core_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumRequest, atrium_request_free)

/* Writes @v in decimal, zero-padded to at least @width digits, and a NUL at @buf (room for 21
 * bytes); returns the end (the NUL). For the hot paths that format numbers per request or per
 * entry (the access log, DAV listings), where printf's parsing showed in profiles. */
static inline char *
atrium_format_uint (char *buf, guint64 v, int width)
{
        char tmp[20];
        int i = sizeof tmp;
        do {
                tmp[--i] = (char) ('0' + v % 10);
                v /= 10;
        } while (v || (int) sizeof tmp - i < width);
        memcpy (buf, tmp + i, sizeof tmp - i);
        buf += sizeof tmp - i;
        *buf = '\0';
        return buf;
}

/* The request pools of a serving host (http/serve.c), for /metrics. */
enum {
        ATRIUM_POOL_WORKERS,
        ATRIUM_POOL_SLOW,
        ATRIUM_POOL_STREAM,
        ATRIUM_POOL_OUTSIDE,
        ATRIUM_POOLS
};
typedef struct {
        const char *name;
        guint size;    /* threads it may run */
        guint busy;    /* requests running on it now */
        guint waiting; /* requests queued for a thread */
} AtriumPoolStats;
/* Fills @out (ATRIUM_POOLS entries) and the uploads whose bodies the fronts are collecting;
 * FALSE when the host is not serving (any thread). */
gboolean atrium_serve_pool_stats (AtriumCore *core, AtriumPoolStats *out, guint *collecting);
