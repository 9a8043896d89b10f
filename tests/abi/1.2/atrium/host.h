/* SPDX-License-Identifier: Apache-2.0 */
/* host.h - the host-services table: everything a plugin may ask of atriumd.
 *
 * A plugin never links against host symbols (it is linked with -Wl,-z,defs); it receives a
 * const AtriumHost * in init and calls through it. The table is append-only: new slots go at
 * the end and bump ATRIUM_ABI_MINOR (see abi.h). A plugin that needs a slot newer than the
 * minor it was built for checks ATRIUM_HOST_HAS (host, slot) first.
 *
 * Everything the host owns is an opaque handle (AtriumRequest, AtriumTx, AtriumResult) with
 * accessors, so the host can grow its structs without breaking plugins. No libsoup, libpq or
 * libgcrypt type crosses this line; GLib and json-glib types do (both keep stable ABIs).
 *
 * Threads: the registration slots (add_route ... provide_service) may only be called from
 * init. Request, transaction and result slots are called from the worker thread that runs the
 * handler and are valid only until the handler returns. log, config_get and lookup_service may
 * be called from any thread.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "abi.h"
#include "plugin.h"

G_BEGIN_DECLS

/* One error domain for everything a plugin reports to a client. The REST layer maps each code
 * to one HTTP status and one problem "type" (docs/REST.md); plugins never pick statuses. */
#define ATRIUM_ERROR (g_quark_from_static_string ("atrium-error-quark"))

typedef enum {
        ATRIUM_ERROR_INVALID = 1,                /* 400 invalid-request */
        ATRIUM_ERROR_UNAUTHENTICATED = 2,        /* 401 unauthenticated */
        ATRIUM_ERROR_FORBIDDEN = 3,              /* 403 forbidden */
        ATRIUM_ERROR_NOT_FOUND = 4,              /* 404 not-found */
        ATRIUM_ERROR_CONFLICT = 5,               /* 409 conflict */
        ATRIUM_ERROR_PRECONDITION_FAILED = 6,    /* 412 precondition-failed */
        ATRIUM_ERROR_TOO_LARGE = 7,              /* 413 payload-too-large */
        ATRIUM_ERROR_UNSUPPORTED_MEDIA = 8,      /* 415 unsupported-media-type */
        ATRIUM_ERROR_UNPROCESSABLE = 9,          /* 422 unprocessable */
        ATRIUM_ERROR_RATE_LIMITED = 10,          /* 429 rate-limited */
        ATRIUM_ERROR_INTERNAL = 11,              /* 500 internal */
        ATRIUM_ERROR_BAD_GATEWAY = 12,           /* 502 bad-gateway */
        ATRIUM_ERROR_UNAVAILABLE = 13,           /* 503 unavailable */
        ATRIUM_ERROR_INSUFFICIENT_STORAGE = 14,  /* 507 insufficient-storage */
        ATRIUM_ERROR_METHOD_NOT_ALLOWED = 15,    /* 405 method-not-allowed */
        ATRIUM_ERROR_RANGE_NOT_SATISFIABLE = 16, /* 1.2: 416 range-not-satisfiable */
} AtriumErrorCode;

typedef struct _AtriumRequest AtriumRequest; /* one HTTP request, on a worker thread */
typedef struct _AtriumResult AtriumResult;   /* one query's result */

typedef enum {
        ATRIUM_SCOPE_SCHOOL = 0, /* /api/v1/schools/{school}/<plugin><path> */
        ATRIUM_SCOPE_GLOBAL = 1, /* /api/v1/<plugin><path> */
} AtriumRouteScope;

typedef enum {
        ATRIUM_ROUTE_PUBLIC = 1 << 0,      /* no sign-in needed (share links, subscriptions) */
        ATRIUM_ROUTE_RAW_BODY = 1 << 1,    /* body handed over as bytes, not parsed as JSON */
        ATRIUM_ROUTE_SLOW = 1 << 2,        /* 1.1: CPU-heavy (password hashing): runs on a small
                                            * separate pool so it cannot starve other requests */
        ATRIUM_ROUTE_STREAM_BODY = 1 << 3, /* 1.2: the handler starts as soon as the request
                                            * headers are in and reads the body itself through
                                            * request_body_stream(), in bounded memory; the
                                            * host's max_body does not apply, the handler
                                            * enforces its own limit (a quota) */
} AtriumRouteFlags;

/**
 * AtriumHandler:
 * @req: (transfer none): the request; valid until the handler returns
 * @user_data: the route's user_data
 * @error: set on failure
 *
 * Runs on a worker thread inside the request's transaction. Return %TRUE after calling one of
 * the respond slots: the host commits and sends the response. Return %FALSE with @error set:
 * the host rolls back and answers with the problem+json for the error's code.
 */
typedef gboolean (*AtriumHandler) (AtriumRequest *req, gpointer user_data, GError **error);

/**
 * AtriumEventHandler:
 *
 * Runs on a worker thread after the publishing transaction committed, in a transaction of its
 * own for the same school. Returning %FALSE rolls back that transaction and is logged; other
 * subscribers still run.
 */
typedef gboolean (*AtriumEventHandler) (AtriumTx *tx, const char *event, JsonNode *payload,
                                        gpointer user_data, GError **error);

/**
 * AtriumRoute:
 * @method: "GET", "POST", "PUT", "PATCH", "DELETE" or "HEAD"
 * @path: template relative to the plugin's prefix: "/notices/{id}"; "" is the prefix itself
 * @permission: (nullable): permission the caller needs; %NULL: any signed-in user
 * @summary: one line for the OpenAPI document
 * @request_schema: (nullable): JSON Schema (as JSON text) of the request body; the host
 *   validates the body against it before the handler runs. %NULL: the route takes no body.
 * @response_schema: (nullable): JSON Schema of the success body, for OpenAPI only
 * @success_status: status of a successful answer (0 means 200), for OpenAPI only
 */
typedef struct {
        AtriumStructHeader header;
        const char *method;
        const char *path;
        AtriumRouteScope scope;
        guint32 flags;
        const char *permission;
        const char *summary;
        const char *request_schema;
        const char *response_schema;
        guint success_status;
        AtriumHandler handler;
        gpointer user_data;
} AtriumRoute;

#define ATRIUM_ROUTE_INIT .header = ATRIUM_STRUCT_HEADER (AtriumRoute)

/**
 * AtriumCommandFunc:
 * @argv: (array length=argc): the words after "atriumd <plugin> <command>"
 *
 * 1.2: a maintenance command run from the command line ("atriumd files gc"), in a process
 * that loaded and initialised the plugins and applied migrations but serves nothing. Return
 * the exit status.
 */
typedef int (*AtriumCommandFunc) (AtriumPlugin *self, int argc, char **argv, gpointer user_data);

/**
 * AtriumTimerFunc:
 *
 * 1.2: periodic work of a serving host (expiring a trash, sweeping orphans). Runs on a
 * worker thread; never two runs of one timer at once. Every host of an installation runs
 * it, so the work must tolerate running concurrently (advisory locks, idempotence).
 */
typedef void (*AtriumTimerFunc) (AtriumPlugin *self, gpointer user_data);

/**
 * AtriumTxFunc:
 *
 * 1.2: work inside a transaction opened by run_tx(). Return %FALSE with @error set to roll
 * it back.
 */
typedef gboolean (*AtriumTxFunc) (AtriumTx *tx, gpointer user_data, GError **error);

struct _AtriumHost {
        AtriumStructHeader header;

        /* Registration: from init only. Each registration is tagged with @self; if init
         * fails, all of them are dropped. */
        gboolean (*add_route) (AtriumPlugin *self, const AtriumRoute *route, GError **error);
        /* @name sorts the plugin's migrations ("0001_notices.sql"); run in the plugin's own
         * schema (search_path), each in one transaction, recorded with its checksum. */
        gboolean (*add_migration) (AtriumPlugin *self, const char *name, const char *sql,
                                   GError **error);
        gboolean (*subscribe) (AtriumPlugin *self, const char *event, AtriumEventHandler handler,
                               gpointer user_data, GError **error);
        /* @table must stay valid until fini; it should start with an AtriumStructHeader. */
        gboolean (*provide_service) (AtriumPlugin *self, const char *name, guint version,
                                     gconstpointer table, GError **error);
        /* Returns: (nullable) (transfer none): a table another plugin provided */
        gconstpointer (*lookup_service) (AtriumPlugin *self, const char *name, guint min_version);

        /* Returns: (nullable) (transfer full): key of section [plugin.<name>] of the config
         * (env ATRIUM_PLUGIN_<NAME>_<KEY>); since 1.2, if unset, of [<name>] (env
         * ATRIUM_<NAME>_<KEY>) unless <name> is a section of the core's own */
        char *(*config_get) (AtriumPlugin *self, const char *key);
        void (*log) (AtriumPlugin *self, GLogLevelFlags level, const char *message);

        /* Requests. Strings are (transfer none) and live as long as the request. */
        const char *(*request_method) (AtriumRequest *req);
        const char *(*request_param) (AtriumRequest *req, const char *name); /* path */
        const char *(*request_query) (AtriumRequest *req, const char *name); /* query */
        const char *(*request_header) (AtriumRequest *req, const char *name);
        JsonNode *(*request_json) (AtriumRequest *req);        /* (nullable): validated body */
        GBytes *(*request_body) (AtriumRequest *req);          /* (nullable): raw body */
        const char *(*request_school_id) (AtriumRequest *req); /* (nullable) global routes */
        const char *(*request_school_slug) (AtriumRequest *req);
        const char *(*request_user_id) (AtriumRequest *req); /* (nullable) public routes */
        gboolean (*request_has_permission) (AtriumRequest *req, const char *permission);
        AtriumTx *(*request_tx) (AtriumRequest *req);
        /* Parses ?limit= (default 50, 1..500) and ?cursor=; @out_after is the decoded cursor
         * (the key the previous page ended at) or NULL for the first page. */
        gboolean (*request_page) (AtriumRequest *req, int *out_limit, char **out_after,
                                  GError **error);

        void (*respond_json) (AtriumRequest *req, guint status, JsonNode *body /* full */);
        void (*respond_bytes) (AtriumRequest *req, guint status, const char *content_type,
                               GBytes *body /* none */);
        /* {"items": @items, "next_cursor": opaque(@next_after) or null} */
        void (*respond_page) (AtriumRequest *req, JsonNode *items /* full */,
                              const char *next_after);
        void (*response_header) (AtriumRequest *req, const char *name, const char *value);

        /* Database: parameters only, inside the transaction of the request or event. The
         * school of the transaction is set for row-level security before the first query.
         * A failed query fails the whole transaction. */
        AtriumResult *(*query) (AtriumTx *tx, const char *sql, int n_params,
                                const char *const *params, GError **error);
        int (*result_n_rows) (const AtriumResult *res);
        int (*result_n_cols) (const AtriumResult *res);
        const char *(*result_col_name) (const AtriumResult *res, int col);
        const char *(*result_value) (const AtriumResult *res, int row, int col); /* NULL=NULL */
        /* Row as an object; int, bool, float, json/jsonb columns keep their JSON types. */
        JsonNode *(*result_row_json) (const AtriumResult *res, int row); /* (transfer full) */
        JsonNode *(*result_rows_json) (const AtriumResult *res);         /* array, full */
        guint64 (*result_affected) (const AtriumResult *res);
        void (*result_free) (AtriumResult *res);
        const char *(*tx_school_id) (AtriumTx *tx); /* (nullable) */

        /* Events: queued in @tx, delivered to subscribers after it commits, dropped if it
         * rolls back. Names are "<plugin>.<what>" ("noticeboard.posted"). */
        gboolean (*publish) (AtriumTx *tx, const char *event, JsonNode *payload /* full */,
                             GError **error);

        /* ---- ABI 1.1 ---- */

        /* TRUE when the caller is a platform operator (request_user_id is then NULL). */
        gboolean (*request_is_operator) (AtriumRequest *req);
        /* (nullable): the user the transaction acts for (requests and events). */
        const char *(*tx_user_id) (AtriumTx *tx);
        /* From init: @sql_function ("groups.member_permissions") is a SQL function
         * (p_school uuid, p_user uuid) RETURNS SETOF text that grants further permissions to a
         * user; the host consults it in the same round trip that authenticates a request. */
        gboolean (*add_permission_source) (AtriumPlugin *self, const char *sql_function,
                                           GError **error);

        /* ---- ABI 1.2 ---- */

        /* (nullable) (transfer none): the request body of an ATRIUM_ROUTE_STREAM_BODY route as
         * a blocking stream, read on the handler's thread only; NULL for other routes. The
         * client sends (and, with "Expect: 100-continue", is asked for) the body only once the
         * handler first reads; a handler that answers without reading refuses it unread. A
         * client that stops sending makes a read fail (G_IO_ERROR) after [http] body_timeout
         * seconds without progress. Request-Length is request_header("content-length"). */
        GInputStream *(*request_body_stream) (AtriumRequest *req);
        /* Answers with @length bytes read from @body (transfer full), streamed to the client
         * after the transaction committed, in bounded memory. Open the stream in the handler
         * (errors then still roll back); the host closes it. HEAD sends the headers only. */
        void (*respond_stream) (AtriumRequest *req, guint status, const char *content_type,
                                GInputStream *body, goffset length);
        /* (transfer none): a directory private to the plugin, "<[storage] data_dir>/<name>",
         * created with mode 0700 on first use; NULL if it cannot be created (logged). */
        const char *(*data_dir) (AtriumPlugin *self);
        /* From init: "atriumd <plugin> @name [args]" runs @func (see AtriumCommandFunc). */
        gboolean (*add_command) (AtriumPlugin *self, const char *name, const char *summary,
                                 AtriumCommandFunc func, gpointer user_data, GError **error);
        /* From init: a serving host calls @func every @interval_seconds (>= 1), first after
         * one interval. */
        gboolean (*add_timer) (AtriumPlugin *self, guint interval_seconds, AtriumTimerFunc func,
                               gpointer user_data, GError **error);
        /* From commands and timers (not from handlers: they have their transaction): runs
         * @func in a new transaction for @school_id (row-level security), or for no school
         * (%NULL: sees no school's rows), commits, then delivers the events it published. */
        gboolean (*run_tx) (AtriumPlugin *self, const char *school_id, AtriumTxFunc func,
                            gpointer user_data, GError **error);
        /* Argon2id (the host's parameters) as a PHC string (transfer full), for secrets a
         * plugin keeps, such as share-link passwords. CPU-heavy: tens of milliseconds. */
        char *(*password_hash) (const char *password);
        /* Constant-time check of @password against a PHC string from password_hash(). */
        gboolean (*password_verify) (const char *phc, const char *password);
};

/* TRUE when @host has slot @member (a plugin built against newer headers calls this before
 * using a slot appended after the minor it requires). */
#define ATRIUM_HOST_HAS(host, member)                                                              \
        ((host)->header.struct_size >= offsetof (AtriumHost, member) + sizeof ((host)->member))

G_END_DECLS
