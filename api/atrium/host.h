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
 * HOW EACH SLOT IS DOCUMENTED
 * Every slot has a comment in gi-docgen form: its parameters, what it does, "Called:" (when
 * and on which thread it may be called), "Errors:" (what it reports and how), "Returns:" and
 * "Since:" (the ABI minor that appended it; a plugin built for an older minor must not call
 * it). In short, for threads:
 *   - registration (add_route, add_migration, subscribe, provide_service,
 *     add_permission_source, add_command, add_timer): only from init, on the main thread;
 *     outside init they fail with ATRIUM_ERROR_INTERNAL. Each registration is tagged with
 *     @self; if init fails, all of them are dropped.
 *   - request slots (request_*, respond_*, response_header): from the handler of that
 *     request, on the worker thread running it, until the handler returns.
 *   - transaction slots (query, tx_*, publish): with a transaction the host handed over (a
 *     handler's request_tx, an event handler, a descriptor hook, run_tx), on the thread it was
 *     handed to, until that callback returns.
 *   - result slots: on any one thread at a time, until result_free, also after the
 *     transaction ended (a result is plain data).
 *   - log, config_get, lookup_service, data_dir, password_hash, password_verify: any thread,
 *     from init on.
 * A NULL where the comment does not say (nullable), or a call outside the stated context, is
 * a programming error: the host may log a critical and return FALSE/NULL, or crash.
 *
 * OWNERSHIP: one wording everywhere in api/atrium/, gi-docgen's annotations
 *   (transfer none) on a return: the host keeps it; do not free or modify it. It stays valid
 *       as long as the slot's comment says (the request, the result, the plugin).
 *   (transfer full) on a return: the caller owns it and frees it with the function named
 *       beside the annotation ("free with g_free()").
 *   (transfer none) on an argument: the caller keeps it; the host copies (or takes its own
 *       reference to) anything it keeps past the call. The default for arguments that carry
 *       no annotation.
 *   (transfer full) on an argument: the host takes over the caller's reference, also when
 *       the call fails; the caller must not use or free it afterwards.
 *   (nullable): NULL is allowed (argument) or may come back (return).
 *   (out): written by the slot, only on success.
 * Arguments the host keeps without copying (a service table, user_data) say how long they
 * must stay valid.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "abi.h"
#include "plugin.h"

G_BEGIN_DECLS

/* One error domain for everything a plugin reports to a client. The REST layer maps each code
 * to one HTTP status and one problem "type" (docs/REST.md); plugins never pick statuses. The
 * slots below report their own failures in this domain too. Codes are appended only (a new
 * code bumps the minor); the comment gives the status and problem type. */
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
        ATRIUM_ERROR_LOCKED = 17,                /* 1.5: 423 locked */
} AtriumErrorCode;

typedef struct _AtriumRequest AtriumRequest; /* opaque: one HTTP request, on a worker thread */
typedef struct _AtriumResult AtriumResult;   /* opaque: one query's result; result_free() */

/**
 * AtriumRouteScope:
 * @ATRIUM_SCOPE_SCHOOL: under /api/v1/schools/{school}/<plugin><path>. The host resolves
 *   {school} to a school the caller may act in that has the plugin's module enabled (else
 *   404), and sets the request's transaction to that school for row-level security. The
 *   default (0).
 * @ATRIUM_SCOPE_GLOBAL: under /api/v1/<plugin><path>; no school (request_school_id is NULL).
 *
 * Where a route lives (AtriumRoute.scope). Since: 1.0
 */
typedef enum {
        ATRIUM_SCOPE_SCHOOL = 0, /* /api/v1/schools/{school}/<plugin><path> */
        ATRIUM_SCOPE_GLOBAL = 1, /* /api/v1/<plugin><path> */
} AtriumRouteScope;

/**
 * AtriumRouteFlags:
 * @ATRIUM_ROUTE_PUBLIC: no sign-in needed; request_user_id is NULL for an anonymous caller.
 *   A token that is sent must still be valid (401), and a route permission still applies
 *   (an anonymous caller then gets 403). Since: 1.0
 * @ATRIUM_ROUTE_RAW_BODY: the body is not parsed as JSON: request_json is NULL, request_body
 *   holds the bytes (up to the host's max_body), request_schema is not applied. Since 1.5
 *   a route that also has a request_schema takes JSON or no body: a body that is there is
 *   refused unless it is JSON of that schema (415, 400), and request_json holds it parsed;
 *   without one request_json is NULL, and the document calls the body optional. Since: 1.0
 * @ATRIUM_ROUTE_SLOW: the handler is CPU-heavy (password hashing): it runs on a small
 *   separate pool ([http] slow_workers) so it cannot starve other requests. Since 1.5 the
 *   caller's identity check is a transaction of its own, so the handler starts with none
 *   open; one that queries before it hashes calls request_tx_commit() first, so that no
 *   transaction (its connection, snapshot and locks) waits on the hash. Since: 1.1
 * @ATRIUM_ROUTE_STREAM_BODY: the handler reads the body itself through request_body_stream
 *   (see there). Since: 1.2
 * @ATRIUM_ROUTE_OUTSIDE: the handler may wait on another server (a video-conference backend):
 *   it runs on a pool of its own ([http] outside_workers), so a slow server holds none of the
 *   workers other requests need. Pair it with request_tx_commit() before the call, so that
 *   no database connection is held either. A host older than 1.4 ignores it. Since: 1.4
 * @ATRIUM_ROUTE_REPLICA: a heavy read (usage figures, exports) that may read from the
 *   installation's streaming replica ([database] replica_url) when one is configured and
 *   current: the handler's queries run there with the same request role, school, caller and
 *   row-level security, and may show data up to [database] replica_max_lag seconds old. The
 *   identity check still runs on the primary. Honoured for GET and HEAD only; a statement that
 *   writes (an audit entry) moves the rest of the request to the primary by itself, as do a
 *   replica that is down, lags or fails. Without a replica, or on a host older than 1.4, the
 *   route reads from the primary as any other. Since: 1.4
 *
 * Bits for AtriumRoute.flags, or'ed together. Bits a host does not know are ignored, so a
 * new flag is appended with the minor that gives it a meaning.
 */
typedef enum {
        ATRIUM_ROUTE_PUBLIC = 1 << 0,      /* no sign-in needed (share links, subscriptions) */
        ATRIUM_ROUTE_RAW_BODY = 1 << 1,    /* body handed over as bytes, not parsed as JSON */
        ATRIUM_ROUTE_SLOW = 1 << 2,        /* 1.1: CPU-heavy (password hashing): runs on a small
                                            * separate pool so it cannot starve other requests */
        ATRIUM_ROUTE_STREAM_BODY = 1 << 3, /* 1.2: the handler may start as soon as the request
                                            * headers are in and reads the body itself through
                                            * request_body_stream(), in bounded memory; the
                                            * host's max_body does not apply, the handler
                                            * enforces its own limit (a quota) */
        ATRIUM_ROUTE_OUTSIDE = 1 << 4,     /* 1.4: may wait on another server: runs on a pool of its
                                            * own, so a slow server holds no ordinary worker */
        ATRIUM_ROUTE_REPLICA = 1 << 5,     /* 1.4: a heavy read that may read from the streaming
                                            * replica, up to replica_max_lag seconds behind */
        ATRIUM_ROUTE_PAGED = 1 << 6,       /* 1.5: a list that pages: takes ?limit= and
                                            * ?cursor= (request_page, atrium_page_begin) and
                                            * answers {"items": [...], "next_cursor"}
                                            * (respond_page); response_schema, if any,
                                            * describes one item */
} AtriumRouteFlags;

/* The JSON Schemas of ?limit= and ?cursor= as ATRIUM_ROUTE_PAGED gives them (request_page()'s
 * rules), for a route that declares them in its query_schema itself. */
#define ATRIUM_PAGE_LIMIT_QUERY                                                                    \
        "{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 500, \"default\": 50, "              \
        "\"description\": \"items per page\"}"
#define ATRIUM_PAGE_CURSOR_QUERY                                                                   \
        "{\"type\": \"string\", \"maxLength\": 1024, \"description\": \"the next_cursor of the "   \
        "page before; absent for the first page\"}"

/**
 * AtriumHandler:
 * @req: (transfer none): the request; valid until the handler returns
 * @user_data: the route's user_data
 * @error: set on failure
 *
 * Runs on a worker thread inside the request's transaction. Return %TRUE after calling one of
 * the respond slots: the host commits and sends the response. Return %FALSE with @error set:
 * the host rolls back and answers with the problem+json for the error's code (an error
 * outside ATRIUM_ERROR, or none, answers 500). %TRUE without a respond slot called is a 500
 * too.
 *
 * Since: 1.0
 */
typedef gboolean (*AtriumHandler) (AtriumRequest *req, gpointer user_data, GError **error);

/**
 * AtriumEventHandler:
 * @tx: (transfer none): a transaction of the handler's own, for the publisher's school and
 *   user; valid until the handler returns
 * @event: (transfer none): the event's name, "<plugin>.<what>"
 * @payload: (transfer none): what the publisher passed (a JSON null if it passed NULL); take
 *   a reference (json_node_ref) or copy to keep anything past the call
 * @user_data: subscribe()'s user_data
 * @error: set on failure
 *
 * Runs on a worker thread after the publishing transaction committed, in a transaction of its
 * own for the same school. Returning %FALSE rolls back that transaction and is logged; other
 * subscribers still run. Events it publishes are delivered in turn, up to a fixed depth.
 *
 * Delivery is at least once (hosts since 2026-12-05; docs/ARCHITECTURE.md, "Events"): an
 * event of a school's transaction is stored with it, and a delivery that failed, or whose host
 * died, comes again later, possibly on another host, until the handler succeeds or the
 * host's [events] max_attempts is reached. The end of the delivery commits with @tx, so work
 * done through @tx happens once; anything outside the database must be idempotent, keyed on
 * the event's id: current_setting('atrium.event_id') in @tx, the same on every attempt.
 *
 * Since: 1.0
 */
typedef gboolean (*AtriumEventHandler) (AtriumTx *tx, const char *event, JsonNode *payload,
                                        gpointer user_data, GError **error);

/**
 * AtriumRoute:
 * @header: ATRIUM_ROUTE_INIT fills it; the host reads the route up to header.struct_size
 * @method: "GET", "POST", "PUT", "PATCH", "DELETE" or "HEAD"
 * @path: template relative to the plugin's prefix: "/notices/{id}"; "" is the prefix itself.
 *   {name} matches one segment (request_param), {name*} as the last segment the rest.
 * @scope: school or global prefix (#AtriumRouteScope); 0 is ATRIUM_SCOPE_SCHOOL
 * @flags: #AtriumRouteFlags bits, or 0
 * @permission: (nullable): permission the caller needs; %NULL: any signed-in user
 * @summary: (nullable): one line for the OpenAPI document
 * @request_schema: (nullable): JSON Schema (as JSON text) of the request body; the host
 *   validates the body against it before the handler runs. %NULL: the route takes no body.
 * @response_schema: (nullable): JSON Schema of the success body, for OpenAPI only
 * @success_status: status of a successful answer (0 means 200), for OpenAPI only
 * @handler: runs the request (#AtriumHandler)
 * @user_data: (nullable): handed to @handler as is; must stay valid until fini
 * @query_schema: (nullable): the query parameters the route reads, as the JSON Schema of an
 *   object: each property one parameter, with a "type" of "string", "integer", "number" or
 *   "boolean" (the text of ?n=5 is read as that type) and any of the keywords a body schema
 *   takes (enum, format, minimum, pattern, ...; "description" is shown in OpenAPI);
 *   "required" names the parameters that must be given. The host checks the query against it
 *   before the handler runs (400 naming the parameter; parameters it does not declare are
 *   ignored) and lists the parameters in the OpenAPI document. ?limit= and ?cursor= come
 *   with ATRIUM_ROUTE_PAGED; a route that answers a page only sometimes (a path that is a
 *   folder or a file) declares them here instead of the flag. A route registered with this
 *   member (built against 1.5 headers or later) must declare every parameter it reads
 *   through request_query(): the host logs a warning the first time it reads one it did not
 *   declare, and request_page() on a route without ATRIUM_ROUTE_PAGED counts as reading
 *   ?limit= and ?cursor=. %NULL: the route reads no query parameter. Since: 1.5
 * @response_type: (nullable): the media types of a success answer that is not JSON, separated
 *   by commas: "text/calendar", "message/rfc822", "text/html", or a range: "image/\*", or
 *   "*\/\*" (without the backslashes this comment needs) for whatever the resource is, such
 *   as a stored file. With a response_schema (or ATRIUM_ROUTE_PAGED) as well, the answer
 *   may also be JSON (a folder's listing). Each type is listed under the answer's content in
 *   the OpenAPI document, and with [http] check_responses the host logs a success answer of
 *   a type the route did not name. %NULL: a success answer is JSON or has no body. Since: 1.5
 *
 * One route, handed to add_route(), which copies every string, so the struct and its strings
 * may live on init's stack. Start it with ATRIUM_ROUTE_INIT. Versioned like the descriptor:
 * fields appended in a later minor read as 0 when an older plugin registers the route.
 *
 * Since: 1.0
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
        /* ---- ABI 1.5 ---- */
        const char *query_schema;
        const char *response_type;
} AtriumRoute;

/* The first designated initialiser of every AtriumRoute: { ATRIUM_ROUTE_INIT, .method = ... } */
#define ATRIUM_ROUTE_INIT .header = ATRIUM_STRUCT_HEADER (AtriumRoute)

/**
 * AtriumCommandFunc:
 * @self: the plugin that registered the command
 * @argc: number of words in @argv
 * @argv: (array length=argc) (transfer none): the words after "atriumd <plugin> <command>"
 * @user_data: add_command()'s user_data
 *
 * A maintenance command run from the command line ("atriumd files gc"), in a process
 * that loaded and initialised the plugins and applied migrations but serves nothing. Runs on
 * the main thread; may use run_tx(). Return the exit status.
 *
 * Since: 1.2
 */
typedef int (*AtriumCommandFunc) (AtriumPlugin *self, int argc, char **argv, gpointer user_data);

/**
 * AtriumTimerFunc:
 * @self: the plugin that registered the timer
 * @user_data: add_timer()'s user_data
 *
 * Periodic work of a serving host (expiring a trash, sweeping orphans). Runs on a
 * worker thread, outside any request; never two runs of one timer at once. Hosts since
 * 2026-12-05 run timers on one host of the installation only, the leader (a PostgreSQL
 * advisory lock; another host takes over when it dies); older hosts ran them on every host,
 * and an operator's command may run meanwhile, so the work must still tolerate running
 * concurrently (advisory locks, idempotence). Use run_tx() for the database.
 *
 * Since: 1.2
 */
typedef void (*AtriumTimerFunc) (AtriumPlugin *self, gpointer user_data);

/**
 * AtriumTxFunc:
 * @tx: (transfer none): the transaction run_tx() opened; valid until the function returns
 * @user_data: run_tx()'s user_data
 * @error: set on failure
 *
 * Work inside a transaction opened by run_tx(), on run_tx()'s thread. Return %FALSE with
 * @error set to roll it back.
 *
 * Since: 1.2
 */
typedef gboolean (*AtriumTxFunc) (AtriumTx *tx, gpointer user_data, GError **error);

/* ---- ABI 1.5: WebDAV trees (core/dav/README.md) ----
 * The host owns /dav/{school}/{mount}/...: authentication (HTTP Basic or Bearer), the DAV
 * methods, XML in and out, PROPFIND/PROPPATCH, dead properties, locks and preconditions. A
 * plugin contributes one tree per mount through add_dav_tree() and answers only questions
 * about its own model, through the callbacks of #AtriumDavTree. */

/**
 * AtriumDavProp:
 * @ns: the property's namespace URI ("DAV:", "urn:ietf:params:xml:ns:caldav", ...)
 * @name: its local name
 * @text: (nullable): its value as text (escaped by the host)
 * @xml: (nullable): the whole element, well-formed, with the namespace declarations it
 *   needs; used instead of @text for a structured value (supported-calendar-component-set)
 *
 * One live property a tree adds to a resource (AtriumDavResource.props). Strings are
 * (transfer none), copied by the host before the emit function returns.
 *
 * Since: 1.5
 */
typedef struct {
        const char *ns;
        const char *name;
        const char *text;
        const char *xml;
} AtriumDavProp;

/**
 * AtriumDavResource:
 * @header: ATRIUM_DAV_RESOURCE_INIT fills it; the host reads up to header.struct_size
 * @id: stable id of the resource, unique in the tree (a UUID, or another string of at most
 *   200 bytes); it follows the resource through MOVE, and dead properties are keyed on it.
 *   %NULL for a resource that has none (a virtual folder such as "groups/"): such a
 *   resource keeps no dead properties.
 * @name: (nullable): the last path segment as a person sees it; %NULL for the mount's root
 * @collection: %TRUE for a folder
 * @length: bytes of a file's content (getcontentlength); ignored for a folder
 * @etag: (nullable): the strong entity tag, with its quotes, as the REST API sends it
 * @content_type: (nullable): a file's media type (getcontenttype)
 * @modified: last modification, unix seconds (getlastmodified); 0: unknown
 * @created: creation, unix seconds (creationdate); 0: unknown
 * @display_name: (nullable): what to show instead of @name (a group's name)
 * @quota_used: bytes used in the space the resource lives in (RFC 4331); -1: no quota
 * @quota_available: bytes still free there; -1: no quota
 * @props: (nullable) (array length=n_props): more live properties of the resource (CalDAV's
 *   calendar-color, getctag, ...); one named DAV: resourcetype replaces the host's. Since: 1.5
 *   (appended after the first 1.5 members; the host reads them only when struct_size has them)
 * @n_props: how many @props. Since: 1.5
 * @data: (nullable): the content a REPORT answers inline (CalDAV's calendar-data, CardDAV's
 *   address-data: the host names it after what the request asked for); only the report
 *   callback sets it. Since: 1.5
 * @gone: in a report: the resource named does not exist (a calendar-multiget href) or no
 *   longer does (a sync-collection change): the host answers 404 for it. Since: 1.5
 *
 * One resource as a tree callback describes it to the host: what the live properties are
 * made of. The strings are (transfer none): the host copies what it keeps before the emit
 * function returns, so the struct and its strings may live on the callback's stack.
 *
 * Since: 1.5
 */
typedef struct {
        AtriumStructHeader header;
        const char *id;
        const char *name;
        gboolean collection;
        gint64 length;
        const char *etag;
        const char *content_type;
        gint64 modified;
        gint64 created;
        const char *display_name;
        gint64 quota_used;
        gint64 quota_available;
        const AtriumDavProp *props;
        guint n_props;
        const char *data;
        gboolean gone;
} AtriumDavResource;

/* The first designated initialiser of every AtriumDavResource. */
#define ATRIUM_DAV_RESOURCE_INIT                                                                   \
        .header = ATRIUM_STRUCT_HEADER (AtriumDavResource), .quota_used = -1, .quota_available = -1

/**
 * AtriumDavEmitFunc:
 * @resource: (transfer none): one resource; copied before the call returns
 * @emit_data: what the host passed along with this function
 *
 * How a tree callback hands resources to the host: once for stat and put, once per child
 * for list. Runs on the callback's thread, inside the callback.
 *
 * Since: 1.5
 */
typedef void (*AtriumDavEmitFunc) (const AtriumDavResource *resource, gpointer emit_data);

/**
 * AtriumDavTransferFlags:
 * @ATRIUM_DAV_MOVE: move (the source goes away, its id stays with it); without it, copy
 * @ATRIUM_DAV_OVERWRITE: the client sent "Overwrite: T" (the default): an existing
 *   destination is replaced (moved to the trash, for the files tree); without it an existing
 *   destination fails with ATRIUM_ERROR_PRECONDITION_FAILED
 *
 * Bits for AtriumDavTree.transfer.
 *
 * Since: 1.5
 */
typedef enum {
        ATRIUM_DAV_MOVE = 1 << 0,
        ATRIUM_DAV_OVERWRITE = 1 << 1,
} AtriumDavTransferFlags;

/**
 * AtriumDavReportKind:
 * @ATRIUM_DAV_REPORT_CALENDAR_QUERY: CalDAV calendar-query (RFC 4791 7.8)
 * @ATRIUM_DAV_REPORT_CALENDAR_MULTIGET: CalDAV calendar-multiget (RFC 4791 7.9)
 * @ATRIUM_DAV_REPORT_SYNC_COLLECTION: sync-collection (RFC 6578)
 * @ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY: CardDAV addressbook-query (RFC 6352 8.6): one
 *   prop-filter with one text-match (AtriumDavReport.prop_name, text_match, match_type)
 * @ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET: CardDAV addressbook-multiget (RFC 6352 8.7)
 *
 * A tree answers the kinds it knows and fails with ATRIUM_ERROR_FORBIDDEN for others.
 *
 * Since: 1.5
 */
typedef enum {
        ATRIUM_DAV_REPORT_CALENDAR_QUERY = 1,
        ATRIUM_DAV_REPORT_CALENDAR_MULTIGET = 2,
        ATRIUM_DAV_REPORT_SYNC_COLLECTION = 3,
        ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY = 4,
        ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET = 5,
} AtriumDavReportKind;

/**
 * AtriumDavPropFilter:
 * @name: the component's property ("COMPLETED", "STATUS", ...)
 * @is_not_defined: the filter is CALDAV:is-not-defined: the property must be absent
 * @text_match: (nullable): otherwise the text-match, a case-insensitive substring; an absent
 *   property does not match (RFC 4791 9.7.5)
 * @negate: the text-match has negate-condition="yes"
 *
 * One prop-filter of a calendar-query's VTODO comp-filter (see AtriumDavReport).
 *
 * Since: 1.5
 */
typedef struct {
        const char *name;
        gboolean is_not_defined;
        const char *text_match;
        gboolean negate;
} AtriumDavPropFilter;

/**
 * AtriumDavReport:
 * @header: filled by the host; read up to header.struct_size
 * @kind: which report (#AtriumDavReportKind)
 * @component: (nullable): calendar-query: the component asked for ("VEVENT", "VTODO"), %NULL
 *   for every kind
 * @has_range: calendar-query: a time-range was given: [@start, @end), unix seconds (an open
 *   end is G_MAXINT64, an open start G_MININT64)
 * @start: see @has_range
 * @end: see @has_range
 * @expand: calendar-data asked for with expand (RFC 4791 9.6.5): recurring series as their
 *   instances in [@expand_start, @expand_end), in UTC
 * @expand_start: see @expand
 * @expand_end: see @expand
 * @want_data: the answer includes calendar-data: set AtriumDavResource.data
 * @paths: (nullable) (array zero-terminated=1): calendar-multiget: the tree paths of the hrefs
 * @sync_token: (nullable): sync-collection: the client's token, %NULL for an initial sync
 * @prop_name: (nullable): calendar-query: the component's property a prop-filter names
 *   ("UID", "SUMMARY"); the tree fails with ATRIUM_ERROR_FORBIDDEN for one it cannot match
 * @text_match: (nullable): with @prop_name: the text-match, a case-insensitive substring
 *   (RFC 4791 9.7.5, collation i;ascii-casemap)
 * @data_version: (nullable): the version attribute of a CardDAV address-data element asked
 *   for ("3.0", "4.0"), %NULL when none was given (the tree's default). Since: 1.5 (appended,
 *   as the two below; read them only when header.struct_size has them)
 * @data_content_type: (nullable): the content-type attribute of that address-data element
 *   ("text/vcard"); the tree refuses one it cannot give (ATRIUM_ERROR_UNSUPPORTED_MEDIA)
 * @match_type: (nullable): with @text_match: CardDAV's match-type ("equals", "contains",
 *   "starts-with", "ends-with"); %NULL means "contains" (RFC 6352 10.5.4)
 * @n_prop_filters: calendar-query on VTODO: how many prop-filters the comp-filter has (all
 *   must match), with is-not-defined and negated text-matches, as clients ask for pending
 *   to-dos (RFC 4791 7.8.9); a VEVENT comp-filter keeps to @prop_name as before. A tree that
 *   cannot evaluate one fails with ATRIUM_ERROR_FORBIDDEN (403 supported-filter). Since: 1.5
 *   (appended, as @prop_filters; read them only when header.struct_size has them)
 * @prop_filters: (array length=n_prop_filters): see @n_prop_filters
 *
 * A REPORT request body as the host parsed it (libxml2, hardened like every DAV body).
 *
 * Since: 1.5
 */
typedef struct {
        AtriumStructHeader header;
        AtriumDavReportKind kind;
        const char *component;
        gboolean has_range;
        gint64 start;
        gint64 end;
        gboolean expand;
        gint64 expand_start;
        gint64 expand_end;
        gboolean want_data;
        const char *const *paths;
        const char *sync_token;
        const char *prop_name;
        const char *text_match;
        const char *data_version;
        const char *data_content_type;
        const char *match_type;
        guint n_prop_filters;
        const AtriumDavPropFilter *prop_filters;
} AtriumDavReport;

/**
 * AtriumDavTree:
 * @header: ATRIUM_DAV_TREE_INIT fills it; the host reads up to header.struct_size, so
 *   callbacks appended in a later minor read as %NULL ("not supported": the host answers
 *   403 or 405 for what needs them)
 * @mount: the tree's segment under /dav/{school}/: [a-z][a-z0-9-]*, unique per host
 *   ("files"; "calendars", "contacts" and "principals" are kept for CalDAV/CardDAV)
 * @stat: describe the resource at @path ("" is the mount's root) through @emit, once.
 *   ATRIUM_ERROR_NOT_FOUND when there is none (or the caller may not know of it).
 * @list: emit every child of the collection at @path (not the collection itself), in any
 *   order. ATRIUM_ERROR_NOT_FOUND when there is no such collection.
 * @get: answer GET or HEAD of the non-collection at @path with the request's respond slots
 *   (ranges and conditional requests are the tree's). For a collection at @path, fail with
 *   ATRIUM_ERROR_METHOD_NOT_ALLOWED: the host then answers with a listing of it (list). It is
 *   called without a stat first. (nullable): no content (405).
 * @put: store the request body (request_body_stream(); the route is streamed) at @path and
 *   emit the resource written; *@out_created: it did not exist before. The tree enforces its
 *   quota (ATRIUM_ERROR_INSUFFICIENT_STORAGE, 507) and its If-Match / If-None-Match.
 *   ATRIUM_ERROR_CONFLICT (409) when the parent collection is missing. (nullable): read-only
 *   tree (403).
 * @mkcol: make the collection @path. ATRIUM_ERROR_CONFLICT when the parent is missing,
 *   ATRIUM_ERROR_METHOD_NOT_ALLOWED when something exists at @path. (nullable): 403.
 * @remove: delete the resource at @path (a collection with everything below it).
 *   (nullable): 403. A put or remove that answers the request itself (respond_bytes, e.g. a
 *   403 whose body names a DAV precondition) and returns %TRUE keeps its answer (since 1.5).
 * @transfer: copy or move @from to @to (#AtriumDavTransferFlags in @flags); *@out_replaced:
 *   an existing @to was replaced. ATRIUM_ERROR_PRECONDITION_FAILED when @to exists and
 *   ATRIUM_DAV_OVERWRITE is not set, ATRIUM_ERROR_CONFLICT when @to's parent is missing.
 *   (nullable): 403.
 * @set_modified: keep @modified (unix seconds) as the modification time of the resource at
 *   @path (X-OC-MTime, PROPPATCH of getlastmodified). (nullable): not kept.
 * @canonical: the path under which the resource at @path (which need not exist) is the same
 *   for every caller, as a new string (free with g_free()): locks are kept under it. The
 *   files tree answers "user:<id>/<path>" for "home/<path>", since every caller's home/ is
 *   another folder. ATRIUM_ERROR_FORBIDDEN for a path that cannot be locked (a fixed
 *   folder). (nullable): @path itself, for a tree that looks the same to everyone.
 * @user_data: (nullable): handed to every callback as is; must stay valid until fini
 * @dav_classes: (nullable): more compliance classes for the DAV header of OPTIONS
 *   ("calendar-access"). Since: 1.5 (appended, as the two below)
 * @report: answer REPORT on @path (#AtriumDavReport, parsed by the host): emit each resource
 *   the report names, with @name its path in the tree (not only the last segment) and @data
 *   its content where @report asks for it; emit gone resources with @gone. For
 *   sync-collection, *@out_sync_token is the new token (a new string); a token the tree does
 *   not know fails with ATRIUM_ERROR_PRECONDITION_FAILED (the host answers 403
 *   valid-sync-token). (nullable): REPORT is 403. Since: 1.5
 * @mkcalendar: make the calendar collection @path (MKCALENDAR, RFC 4791 5.3.1), with the
 *   displayname and Apple calendar-color the body set (both nullable). Errors as mkcol.
 *   (nullable): 403. Since: 1.5
 * @set_property: PROPPATCH of one of the tree's own live properties of the resource at
 *   @path (one it emits in AtriumDavResource.props, or DAV:displayname): @value is the
 *   element's text, NULL to remove it. ATRIUM_ERROR_FORBIDDEN for a property it does not let
 *   change or a caller who may not (403 for that property), ATRIUM_ERROR_INVALID for a
 *   value it refuses (409). The host makes the whole PROPPATCH atomic around it.
 *   (nullable): every live property is protected. Since: 1.5
 *
 * One tree of resources under /dav/{school}/@mount/, handed to add_dav_tree(), which copies
 * the struct and @mount. Paths handed to the callbacks are relative to the mount, without
 * leading or trailing '/', percent-decoded, in NFC, every segment checked by the host (no
 * "." or "..", no NUL or '/', at most 255 bytes). Every callback runs on the request's worker
 * thread, inside the request's transaction, after the host authenticated the caller and set
 * the school and user for row-level security; it sees the request through the usual request
 * slots (request_user_id, request_tx, request_header, ...). It reports failures with
 * ATRIUM_ERROR codes, which the host maps to statuses as for REST.
 *
 * Since: 1.5
 */
typedef struct {
        AtriumStructHeader header;
        const char *mount;
        gboolean (*stat) (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit,
                          gpointer emit_data, gpointer user_data, GError **error);
        gboolean (*list) (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit,
                          gpointer emit_data, gpointer user_data, GError **error);
        gboolean (*get) (AtriumRequest *req, const char *path, gpointer user_data, GError **error);
        gboolean (*put) (AtriumRequest *req, const char *path, gboolean *out_created,
                         AtriumDavEmitFunc emit, gpointer emit_data, gpointer user_data,
                         GError **error);
        gboolean (*mkcol) (AtriumRequest *req, const char *path, gpointer user_data,
                           GError **error);
        gboolean (*remove) (AtriumRequest *req, const char *path, gpointer user_data,
                            GError **error);
        gboolean (*transfer) (AtriumRequest *req, const char *from, const char *to, guint32 flags,
                              gboolean *out_replaced, gpointer user_data, GError **error);
        gboolean (*set_modified) (AtriumRequest *req, const char *path, gint64 modified,
                                  gpointer user_data, GError **error);
        char *(*canonical) (AtriumRequest *req, const char *path, gpointer user_data,
                            GError **error);
        gpointer user_data;
        const char *dav_classes;
        gboolean (*report) (AtriumRequest *req, const char *path, const AtriumDavReport *report,
                            AtriumDavEmitFunc emit, gpointer emit_data, char **out_sync_token,
                            gpointer user_data, GError **error);
        gboolean (*mkcalendar) (AtriumRequest *req, const char *path, const char *display_name,
                                const char *color, gpointer user_data, GError **error);
        gboolean (*set_property) (AtriumRequest *req, const char *path, const char *ns,
                                  const char *name, const char *value, gpointer user_data,
                                  GError **error);
} AtriumDavTree;

/* The first designated initialiser of every AtriumDavTree: { ATRIUM_DAV_TREE_INIT, ... } */
#define ATRIUM_DAV_TREE_INIT .header = ATRIUM_STRUCT_HEADER (AtriumDavTree)

/* ---- ABI 1.5: pages of the portal (core/portal/README.md, docs/PORTAL.md) ----
 * The host serves the browser portal at /. A plugin contributes a page: static assets (an ES
 * module and whatever it imports) from its GResource, and a navigation entry that callers see
 * only with the entry's permission, in schools that have the plugin's module enabled. */

/**
 * AtriumPortalPage:
 * @header: ATRIUM_PORTAL_PAGE_INIT fills it; the host reads up to header.struct_size
 * @resource: (transfer none): the plugin's compiled resource; the host copies the files it
 *   needs during the call
 * @folder: resource path of the folder holding the page's assets ("/org/example/x/portal");
 *   every file under it (recursively) is served, read-only, at a content-hashed URL
 * @module: the file under @folder the shell imports ("page.js"); it must export a function
 *   `render (root, ctx)` (docs/PORTAL.md, "How a plugin contributes a page")
 * @id: the page's name in the portal's address ("#/<id>"): [a-z][a-z0-9-]*, unique per host
 * @label: the navigation entry's label in English
 * @label_de: (nullable): the label in German; %NULL: @label
 * @permission: (nullable): permission a caller needs to see the entry; %NULL: any signed-in
 *   person of a school with the module enabled. The page's data still comes over REST, whose
 *   routes check their own permissions: hiding an entry is a convenience, not a wall.
 * @order: position in the navigation, smaller first (the core's start page is 0; files 100,
 *   calendar 200, ...)
 *
 * One page of the portal, handed to add_portal_page().
 *
 * Since: 1.5
 */
typedef struct {
        AtriumStructHeader header;
        GResource *resource;
        const char *folder;
        const char *module;
        const char *id;
        const char *label;
        const char *label_de;
        const char *permission;
        int order;
} AtriumPortalPage;

/* The first designated initialiser of every AtriumPortalPage. */
#define ATRIUM_PORTAL_PAGE_INIT .header = ATRIUM_STRUCT_HEADER (AtriumPortalPage)

/**
 * AtriumSendMailOutcome:
 * @ATRIUM_SEND_MAIL_SENT: the transfer agent took the message
 * @ATRIUM_SEND_MAIL_TEMPORARY: not sent; trying again later may work
 * @ATRIUM_SEND_MAIL_PERMANENT: not sent, and trying again will not help
 *
 * What AtriumHost.send_mail() made of a message.
 *
 * Since: 1.5
 */
typedef enum {
        ATRIUM_SEND_MAIL_SENT,
        ATRIUM_SEND_MAIL_TEMPORARY,
        ATRIUM_SEND_MAIL_PERMANENT,
} AtriumSendMailOutcome;

/**
 * AtriumHost:
 * @header: struct_size is the size of the host's table: test a slot newer than the minor the
 *   plugin requires with ATRIUM_HOST_HAS() before calling it
 *
 * The host-services table, handed to init as a const pointer that stays valid until fini
 * returns. Append-only: a slot is never moved, removed or retyped within a major. Each slot
 * is documented below; the conventions (threads, ownership annotations) are at the top of
 * this file.
 *
 * Since: 1.0 (slots: as marked)
 */
struct _AtriumHost {
        AtriumStructHeader header;

        /* ---- ABI 1.0: registration (from init only, main thread) ---- */

        /**
         * add_route:
         * @self: the plugin being initialised
         * @route: (transfer none): the route; copied, strings included (#AtriumRoute)
         * @error: set on failure
         *
         * Adds @route under the plugin's prefix, tagged with @self.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a route without a valid header
         *   (ATRIUM_ROUTE_INIT), an unknown method, a missing handler or path, a path not
         *   starting with '/' or a schema the host cannot compile; ATRIUM_ERROR_CONFLICT
         *   for a method + path that another route already has.
         * Returns: %TRUE, or %FALSE with @error set (returning it from init refuses the
         *   plugin).
         * Since: 1.0
         */
        gboolean (*add_route) (AtriumPlugin *self, const AtriumRoute *route, GError **error);
        /**
         * add_migration:
         * @self: the plugin being initialised
         * @name: (transfer none): file name; sorts the plugin's migrations ("0001_notices.sql")
         * @sql: (transfer none): the SQL; copied and checksummed
         * @error: set on failure
         *
         * Queues a migration. The host runs each one once, in name order, in the plugin's
         * own schema (search_path), each in one transaction, recorded with its checksum,
         * before start. A released migration must never change (docs/PLUGIN-GUIDE.md).
         * resources.h registers a whole GResource folder with it.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a NULL or empty @name, a NULL
         *   @sql, or a @name registered twice. A failing migration refuses the plugin later.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.0
         */
        gboolean (*add_migration) (AtriumPlugin *self, const char *name, const char *sql,
                                   GError **error);
        /**
         * subscribe:
         * @self: the plugin being initialised
         * @event: (transfer none): event name to receive, "<plugin>.<what>" ("user.deleted")
         * @handler: called for each such event (#AtriumEventHandler)
         * @user_data: (nullable): handed to @handler as is; must stay valid until fini
         * @error: set on failure
         *
         * Subscribes @handler to @event, delivered after the publishing transaction
         * committed.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.0
         */
        gboolean (*subscribe) (AtriumPlugin *self, const char *event, AtriumEventHandler handler,
                               gpointer user_data, GError **error);
        /**
         * provide_service:
         * @self: the plugin being initialised
         * @name: (transfer none): the service's name ("groups"); one provider per name
         * @version: the table's version; raise it when the table grows (append-only)
         * @table: (transfer none): a table of functions, not copied: must stay valid until
         *   fini (a static). It should start with an AtriumStructHeader.
         * @error: set on failure
         *
         * Publishes @table for other plugins (lookup_service()), the only way plugins call
         * each other.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init; ATRIUM_ERROR_CONFLICT when another
         *   plugin already provides @name.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.0
         */
        gboolean (*provide_service) (AtriumPlugin *self, const char *name, guint version,
                                     gconstpointer table, GError **error);
        /**
         * lookup_service:
         * @self: the calling plugin
         * @name: (transfer none): the service's name
         * @min_version: the lowest table version the caller can use
         *
         * Finds a table another plugin provided. In init it sees only plugins initialised
         * before this one: declare the provider as a dependency in the descriptor.
         *
         * Called: from init on, any thread.
         * Returns: (nullable) (transfer none): the table, valid until fini; %NULL when no
         *   running plugin provides @name at @min_version or later.
         * Since: 1.0
         */
        gconstpointer (*lookup_service) (AtriumPlugin *self, const char *name, guint min_version);

        /* ---- ABI 1.0: configuration and logging (any thread) ---- */

        /**
         * config_get:
         * @self: the calling plugin
         * @key: (transfer none): the key, as written in the config file
         *
         * Reads key @key of section [plugin.<name>] of the config (env
         * ATRIUM_PLUGIN_<NAME>_<KEY> overrides it); since 1.2, if unset, of [<name>] (env
         * ATRIUM_<NAME>_<KEY>) unless <name> is a section of the core's own.
         *
         * Called: from init on, any thread.
         * Returns: (nullable) (transfer full): the value, free with g_free(); %NULL if unset.
         * Since: 1.0
         */
        char *(*config_get) (AtriumPlugin *self, const char *key);
        /**
         * log:
         * @self: the calling plugin; the line carries its name
         * @level: a GLib level (G_LOG_LEVEL_WARNING, ...)
         * @message: (transfer none) (nullable): one line, no trailing newline
         *
         * Writes @message to the host's structured log.
         *
         * Called: from init on, any thread.
         * Since: 1.0
         */
        void (*log) (AtriumPlugin *self, GLogLevelFlags level, const char *message);

        /* ---- ABI 1.0: the request (from its handler, on its worker thread) ----
         * @req in every slot below is the request handed to the handler. What they return is
         * (transfer none) and lives as long as the request: until the handler returns. */

        /**
         * request_method:
         * Returns: (transfer none): "GET", "HEAD", "POST", "PUT", "PATCH" or "DELETE"
         * Since: 1.0
         */
        const char *(*request_method) (AtriumRequest *req);
        /**
         * request_param:
         * @name: (transfer none): a {name} of the route's path template
         * Returns: (nullable) (transfer none): that path segment, percent-decoded; %NULL if
         *   the template has no such parameter
         * Since: 1.0
         */
        const char *(*request_param) (AtriumRequest *req, const char *name);
        /**
         * request_query:
         * @name: (transfer none): a query-string parameter
         * Returns: (nullable) (transfer none): its value; %NULL if absent
         * Since: 1.0
         */
        const char *(*request_query) (AtriumRequest *req, const char *name);
        /**
         * request_header:
         * @name: (transfer none): a header name, any case
         * Returns: (nullable) (transfer none): its value; %NULL if absent
         * Since: 1.0
         */
        const char *(*request_header) (AtriumRequest *req, const char *name);
        /**
         * request_json:
         * Returns: (nullable) (transfer none): the parsed body, already validated against
         *   the route's request_schema (a route with a schema requires a body); %NULL when
         *   the route has no schema or is ATRIUM_ROUTE_STREAM_BODY, or is
         *   ATRIUM_ROUTE_RAW_BODY without a schema or without a body (since 1.5 a
         *   ATRIUM_ROUTE_RAW_BODY route with a schema gets the body it was sent parsed).
         *   Take a reference (json_node_ref) to keep it or to hand it to a (transfer full)
         *   slot.
         * Since: 1.0
         */
        JsonNode *(*request_json) (AtriumRequest *req);
        /**
         * request_body:
         * Returns: (nullable) (transfer none): the body as received (for an
         *   ATRIUM_ROUTE_RAW_BODY route its only form); %NULL without a body. Streamed
         *   routes read request_body_stream instead. g_bytes_ref() to keep it.
         * Since: 1.0
         */
        GBytes *(*request_body) (AtriumRequest *req);
        /**
         * request_school_id:
         * Returns: (nullable) (transfer none): the UUID of the school of an
         *   ATRIUM_SCOPE_SCHOOL route; %NULL on global routes
         * Since: 1.0
         */
        const char *(*request_school_id) (AtriumRequest *req);
        /**
         * request_school_slug:
         * Returns: (nullable) (transfer none): the {school} path segment as the client wrote
         *   it; %NULL on global routes
         * Since: 1.0
         */
        const char *(*request_school_slug) (AtriumRequest *req);
        /**
         * request_user_id:
         * Returns: (nullable) (transfer none): the UUID of the signed-in user; %NULL for an
         *   anonymous caller of an ATRIUM_ROUTE_PUBLIC route and for a platform operator
         *   (request_is_operator)
         * Since: 1.0
         */
        const char *(*request_user_id) (AtriumRequest *req);
        /**
         * request_has_permission:
         * @permission: (transfer none): "<plugin>.<verb>"
         *
         * For checks finer than the route's own permission (which the host checked already).
         *
         * Returns: %TRUE when the caller holds @permission in the request's school (by role
         *   or a permission source); always %TRUE for a platform operator
         * Since: 1.0
         */
        gboolean (*request_has_permission) (AtriumRequest *req, const char *permission);
        /**
         * request_tx:
         * Returns: (transfer none): the request's transaction, set to the request's school
         *   for row-level security; valid until the handler returns
         * Since: 1.0
         */
        AtriumTx *(*request_tx) (AtriumRequest *req);
        /**
         * request_page:
         * @out_limit: (out): the page size: ?limit=, 1 to 500, default 50
         * @out_after: (out) (nullable) (transfer full): the decoded ?cursor= (the key the
         *   previous page ended at), free with g_free(); %NULL for the first page
         * @error: set on failure
         *
         * Parses the paging parameters of a list route (keyset pagination; respond_page()
         * answers).
         *
         * Errors: ATRIUM_ERROR_INVALID for a limit out of range or a cursor the host did not
         *   hand out.
         * Returns: %TRUE, or %FALSE with @error set (the outs are then untouched).
         * Since: 1.0
         */
        gboolean (*request_page) (AtriumRequest *req, int *out_limit, char **out_after,
                                  GError **error);

        /* ---- ABI 1.0: the response (from the handler, on its worker thread) ----
         * Call one respond slot before returning %TRUE; a later call replaces an earlier
         * one. The host sends the answer after the transaction committed. */

        /**
         * respond_json:
         * @status: HTTP status (200, 201, 204, ...)
         * @body: (nullable) (transfer full): the body; %NULL for none (204)
         * Since: 1.0
         */
        void (*respond_json) (AtriumRequest *req, guint status, JsonNode *body);
        /**
         * respond_bytes:
         * @status: HTTP status
         * @content_type: (transfer none) (nullable): the Content-Type; copied
         * @body: (nullable) (transfer none): the body; the host takes its own reference
         * Since: 1.0
         */
        void (*respond_bytes) (AtriumRequest *req, guint status, const char *content_type,
                               GBytes *body);
        /**
         * respond_page:
         * @items: (nullable) (transfer full): a JSON array of this page's items; %NULL: []
         * @next_after: (nullable) (transfer none): the key this page ended at, if more
         *   follow; the host encodes it as the opaque next_cursor
         *
         * Answers 200 {"items": @items, "next_cursor": opaque(@next_after) or null}.
         *
         * Since: 1.0
         */
        void (*respond_page) (AtriumRequest *req, JsonNode *items, const char *next_after);
        /**
         * response_header:
         * @name: (transfer none): a header name; copied
         * @value: (transfer none): its value; copied
         *
         * Adds a header to the answer, whichever respond slot is used. A name or value with a
         * line break (header injection) is dropped with a critical log line.
         *
         * Since: 1.0
         */
        void (*response_header) (AtriumRequest *req, const char *name, const char *value);

        /* ---- ABI 1.0: the database (with a transaction the host handed over) ----
         * Parameters only, inside the transaction of the request or event. The school of the
         * transaction is set for row-level security before the first query. A failed query
         * fails the whole transaction. */

        /**
         * query:
         * @tx: the transaction
         * @sql: (transfer none): one statement, static text with $1..$n placeholders; never
         *   built from input
         * @n_params: number of @params
         * @params: (array length=n_params) (nullable) (transfer none): the parameters as
         *   text; an element may be %NULL (SQL NULL)
         * @error: set on failure
         *
         * Runs @sql as a prepared statement in @tx (beginning it on first use).
         *
         * Called: on the thread @tx was handed to, until that callback returns.
         * Errors: ATRIUM_ERROR_CONFLICT for a unique or foreign-key violation (naming the
         *   constraint), ATRIUM_ERROR_INVALID for a check, not-null or data-format violation,
         *   ATRIUM_ERROR_NOT_FOUND for SQLSTATE P0002, ATRIUM_ERROR_UNAVAILABLE for lost
         *   connections, serialisation failures and deadlocks, ATRIUM_ERROR_INTERNAL for
         *   anything else and for any query after a failed one in @tx.
         * Returns: (nullable) (transfer full): the result, free with result_free(); %NULL
         *   with @error set.
         * Since: 1.0
         */
        AtriumResult *(*query) (AtriumTx *tx, const char *sql, int n_params,
                                const char *const *params, GError **error);
        /**
         * result_n_rows:
         * @res: (nullable): a result of query()
         * Returns: the number of rows (0 for %NULL)
         * Since: 1.0
         */
        int (*result_n_rows) (const AtriumResult *res);
        /**
         * result_n_cols:
         * @res: (nullable): a result of query()
         * Returns: the number of columns (0 for %NULL)
         * Since: 1.0
         */
        int (*result_n_cols) (const AtriumResult *res);
        /**
         * result_col_name:
         * @res: (nullable): a result of query()
         * @col: column index from 0
         * Returns: (nullable) (transfer none): the column's name, valid until result_free();
         *   %NULL for %NULL @res or a column out of range
         * Since: 1.0
         */
        const char *(*result_col_name) (const AtriumResult *res, int col);
        /**
         * result_value:
         * @res: (nullable): a result of query()
         * @row: row index from 0
         * @col: column index from 0
         * Returns: (nullable) (transfer none): the value as PostgreSQL's text form, valid
         *   until result_free(); %NULL for SQL NULL and for a row or column out of range
         * Since: 1.0
         */
        const char *(*result_value) (const AtriumResult *res, int row, int col);
        /**
         * result_row_json:
         * @res: (nullable): a result of query()
         * @row: row index from 0
         *
         * The row as an object named by column; int, bool, float, json/jsonb columns keep
         * their JSON types, the rest are strings, SQL NULL is null.
         *
         * Returns: (transfer full): the object (a JSON null for a row out of range), free
         *   with json_node_unref() or hand it to a (transfer full) slot
         * Since: 1.0
         */
        JsonNode *(*result_row_json) (const AtriumResult *res, int row);
        /**
         * result_rows_json:
         * @res: (nullable): a result of query()
         * Returns: (transfer full): an array of result_row_json() objects, every row, free
         *   with json_node_unref() or hand it to a (transfer full) slot
         * Since: 1.0
         */
        JsonNode *(*result_rows_json) (const AtriumResult *res);
        /**
         * result_affected:
         * @res: (nullable): a result of query()
         * Returns: rows inserted, updated or deleted (0 for a SELECT or %NULL)
         * Since: 1.0
         */
        guint64 (*result_affected) (const AtriumResult *res);
        /**
         * result_free:
         * @res: (nullable) (transfer full): a result of query()
         * Since: 1.0
         */
        void (*result_free) (AtriumResult *res);
        /**
         * tx_school_id:
         * @tx: a transaction the host handed over
         * Returns: (nullable) (transfer none): the UUID of the school @tx is set to, valid as
         *   long as @tx; %NULL for a transaction of no school
         * Since: 1.0
         */
        const char *(*tx_school_id) (AtriumTx *tx);

        /* ---- ABI 1.0: events ---- */

        /**
         * publish:
         * @tx: the transaction the event belongs to
         * @event: (transfer none): "<plugin>.<what>" ("noticeboard.posted"); copied
         * @payload: (nullable) (transfer full): the event's data; %NULL sends a JSON null
         * @error: set on failure
         *
         * Queues an event in @tx: delivered to subscribers after it commits (before the HTTP
         * answer goes out), dropped if it rolls back. Since hosts of 2026-12-05, an event with
         * subscribers in a school's transaction is stored in that transaction and delivered at
         * least once (#AtriumEventHandler); an operator's, without a school, in-process only.
         *
         * Called: on the thread @tx was handed to, until that callback returns.
         * Errors: ATRIUM_ERROR_INTERNAL for a name without a '.' (@payload is still taken).
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.0
         */
        gboolean (*publish) (AtriumTx *tx, const char *event, JsonNode *payload, GError **error);

        /* ---- ABI 1.1 ---- */

        /**
         * request_is_operator:
         * @req: the request (from its handler)
         * Returns: %TRUE when the caller is a platform operator (request_user_id is then
         *   %NULL and request_has_permission always %TRUE)
         * Since: 1.1
         */
        gboolean (*request_is_operator) (AtriumRequest *req);
        /**
         * tx_user_id:
         * @tx: a transaction the host handed over
         * Returns: (nullable) (transfer none): the UUID of the user the transaction acts for
         *   (the caller of a request, the publisher's user for an event), valid as long as
         *   @tx; %NULL for anonymous callers, operators, commands and timers
         * Since: 1.1
         */
        const char *(*tx_user_id) (AtriumTx *tx);
        /**
         * add_permission_source:
         * @self: the plugin being initialised
         * @sql_function: (transfer none): "<plugin>.<function>", a SQL function in the
         *   plugin's own schema, (p_school uuid, p_user uuid) RETURNS SETOF text
         * @error: set on failure
         *
         * Lets the function grant further permissions to a user ("groups.member_permissions"
         * grants what a user's groups carry). The host consults it in the same round trip
         * that authenticates a request.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init or for a name that is not
         *   "<plugin>.<identifier>".
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.1
         */
        gboolean (*add_permission_source) (AtriumPlugin *self, const char *sql_function,
                                           GError **error);

        /* ---- ABI 1.2 ---- */

        /**
         * request_body_stream:
         * @req: the request (from its handler)
         *
         * The request body of an ATRIUM_ROUTE_STREAM_BODY route as a blocking stream. The
         * client sends (and, with "Expect: 100-continue", is asked for) the body only once
         * the handler first reads; a handler that answers without reading refuses it
         * unread. The first read commits what the handler did in the request's transaction
         * so far; later queries run in a new one. A client that stops sending makes a read
         * fail (G_IO_ERROR) after [http] body_timeout seconds without progress.
         * Request-Length is request_header("content-length").
         *
         * Called: from the handler, and read on the handler's thread only.
         * Returns: (nullable) (transfer none): the stream, valid until the handler returns;
         *   %NULL for other routes
         * Since: 1.2
         */
        GInputStream *(*request_body_stream) (AtriumRequest *req);
        /**
         * respond_stream:
         * @req: the request (from its handler)
         * @status: HTTP status, 200 to 599
         * @content_type: (nullable) (transfer none): copied; %NULL: application/octet-stream
         * @body: (transfer full): an open stream of exactly @length bytes; the host reads
         *   and closes it
         * @length: the body's length (Content-Length), >= 0
         *
         * Answers with @body, streamed to the client after the transaction committed, in
         * bounded memory. Open the stream in the handler (errors then still roll back).
         * HEAD sends the headers only.
         *
         * Since: 1.2
         */
        void (*respond_stream) (AtriumRequest *req, guint status, const char *content_type,
                                GInputStream *body, goffset length);
        /**
         * data_dir:
         * @self: the calling plugin
         *
         * A directory private to the plugin, "<[storage] data_dir>/<name>", created with
         * mode 0700 on first use.
         *
         * Called: from init on, any thread.
         * Returns: (nullable) (transfer none): its path, valid until fini; %NULL if it
         *   cannot be created (logged)
         * Since: 1.2
         */
        const char *(*data_dir) (AtriumPlugin *self);
        /**
         * add_command:
         * @self: the plugin being initialised
         * @name: (transfer none): the command, [a-z][a-z0-9-]*; copied
         * @summary: (nullable) (transfer none): one line for the list of commands; copied
         * @func: runs the command (#AtriumCommandFunc)
         * @user_data: (nullable): handed to @func as is
         * @error: set on failure
         *
         * Registers "atriumd <plugin> @name [args]".
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a bad name, a NULL @func or a
         *   name registered twice.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.2
         */
        gboolean (*add_command) (AtriumPlugin *self, const char *name, const char *summary,
                                 AtriumCommandFunc func, gpointer user_data, GError **error);
        /**
         * add_timer:
         * @self: the plugin being initialised
         * @interval_seconds: period, >= 1
         * @func: the work (#AtriumTimerFunc)
         * @user_data: (nullable): handed to @func as is; must stay valid until fini
         * @error: set on failure
         *
         * A serving host calls @func every @interval_seconds, first after one interval
         * (commands and check-plugin never do).
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a NULL @func or an interval of 0.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.2
         */
        gboolean (*add_timer) (AtriumPlugin *self, guint interval_seconds, AtriumTimerFunc func,
                               gpointer user_data, GError **error);
        /**
         * run_tx:
         * @self: the calling plugin
         * @school_id: (nullable) (transfer none): the school for row-level security; %NULL:
         *   no school (sees no school's rows)
         * @func: the work (#AtriumTxFunc), run on this thread before run_tx returns
         * @user_data: (nullable): handed to @func
         * @error: set on failure
         *
         * Runs @func in a new transaction, commits, then delivers the events it published.
         *
         * Called: from commands and timers (on their thread); not from handlers, event
         *   handlers or hooks, which have their transaction.
         * Errors: what @func set (it then rolled back), or the commit's error.
         * Returns: %TRUE once committed, or %FALSE with @error set.
         * Since: 1.2
         */
        gboolean (*run_tx) (AtriumPlugin *self, const char *school_id, AtriumTxFunc func,
                            gpointer user_data, GError **error);
        /**
         * password_hash:
         * @password: (transfer none): the secret
         *
         * Argon2id with the host's parameters, for secrets a plugin keeps, such as
         * share-link passwords. CPU-heavy (tens of milliseconds): call it from an
         * ATRIUM_ROUTE_SLOW route.
         *
         * Called: any thread.
         * Returns: (transfer full): a PHC string, free with g_free()
         * Since: 1.2
         */
        char *(*password_hash) (const char *password);
        /**
         * password_verify:
         * @phc: (nullable) (transfer none): a PHC string from password_hash()
         * @password: (nullable) (transfer none): the secret to check
         *
         * Constant-time check of @password against @phc. CPU-heavy like password_hash(); a
         * success is remembered for a minute (an HMAC of both, kept in memory; never the
         * secret), so the same pair again answers at once (hosts of 1.5 on).
         *
         * Called: any thread.
         * Returns: %TRUE when they match; %FALSE otherwise or if either is %NULL
         * Since: 1.2
         */
        gboolean (*password_verify) (const char *phc, const char *password);

        /* ---- ABI 1.3 ---- */

        /**
         * respond_result_page:
         * @req: the request
         * @res: (transfer none): the page's query result; it stays the caller's to free
         * @n_rows: how many of its rows are the page (a handler fetches limit + 1 to know
         *   whether another page follows, and passes limit)
         * @next_after: (nullable) (transfer none): as in respond_page: the raw sort key the
         *   next page starts after, which the host turns into next_cursor; %NULL on the last
         *   page
         *
         * Answers 200 with {"items": [the first @n_rows rows], "next_cursor": ...}: exactly
         * what respond_page() answers for those rows' result_row_json(), but written straight
         * from the result to JSON text, with no JsonNode per row. atrium_page_respond_rows()
         * (helpers.h) uses it when the host has it.
         *
         * Called: in a handler, on its thread.
         * Since: 1.3
         */
        void (*respond_result_page) (AtriumRequest *req, const AtriumResult *res, int n_rows,
                                     const char *next_after);

        /* ---- ABI 1.4 ---- */

        /**
         * request_tx_commit:
         * @req: the request
         * @error: set on failure
         *
         * Commits what the handler's transaction did so far and gives its database connection
         * back, before work outside the database that may take long (a call to another
         * server): meanwhile nothing of the request holds a connection. The handler's next
         * query begins a new transaction for the same caller, with the settings the committed
         * one left. Events published so far are stored with the committed part and delivered
         * after the handler returns, whatever it returns; if the handler fails later, only
         * what it did after this call is rolled back. Use it with ATRIUM_ROUTE_OUTSIDE.
         *
         * Called: in a handler, on its thread.
         * Errors: what a COMMIT fails with (ATRIUM_ERROR_UNAVAILABLE when the database is
         *   away, ...); the caller's identity check, if no query has run it yet.
         * Returns: %TRUE, or %FALSE with @error set: then nothing of the handler's work was
         *   committed, and the handler returns FALSE with @error.
         * Since: 1.4
         */
        gboolean (*request_tx_commit) (AtriumRequest *req, GError **error);

        /* ---- ABI 1.5 ---- */

        /**
         * add_dav_tree:
         * @self: the plugin being initialised
         * @tree: (transfer none): the tree (#AtriumDavTree); the host copies the struct (up to
         *   its header.struct_size) and the mount name; @tree->user_data must stay valid
         *   until fini
         * @error: set on failure
         *
         * Serves @tree under /dav/{school}/<mount>/ over WebDAV (core/dav/README.md), for
         * schools that have the plugin's module enabled. The host authenticates the caller
         * (HTTP Basic with a password or a personal access token, or Bearer), runs each
         * request in a transaction set to the school and the caller like a REST request, and
         * answers PROPFIND, PROPPATCH, OPTIONS, MKCOL, COPY, MOVE, DELETE, GET, HEAD, PUT, LOCK
         * and UNLOCK through the tree's callbacks; dead properties and locks are the host's.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a mount name that is not
         *   [a-z][a-z0-9-]* or is taken, a header that is not an AtriumDavTree's, or a tree
         *   without stat and list.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.5
         */
        gboolean (*add_dav_tree) (AtriumPlugin *self, const AtriumDavTree *tree, GError **error);

        /**
         * add_portal_page:
         * @self: the plugin being initialised
         * @page: (transfer none): the page (#AtriumPortalPage); the host copies the struct's
         *   strings and every file under @page->folder before it returns
         * @error: set on failure
         *
         * Adds a page to the browser portal: its assets are served under
         * /portal/assets/<content hash>/ (immutable, ETag) and its entry is listed by
         * GET /api/v1/schools/{school}/portal/nav for callers who have @page->permission in
         * a school with the plugin's module enabled.
         *
         * Called: from init only, on the main thread.
         * Errors: ATRIUM_ERROR_INTERNAL outside init, for a header that is not an
         *   AtriumPortalPage's, an id that is not [a-z][a-z0-9-]* or is taken, a missing
         *   label, or a @folder or @module that cannot be read from @resource.
         * Returns: %TRUE, or %FALSE with @error set.
         * Since: 1.5
         */
        gboolean (*add_portal_page) (AtriumPlugin *self, const AtriumPortalPage *page,
                                     GError **error);

        /**
         * send_mail:
         * @command: (nullable): a sendmail-compatible command (an absolute path); %NULL for the
         *   host's ([sendmail] command, default /usr/sbin/sendmail)
         * @timeout: seconds the command may take before it is killed; 0 for the host's
         *   ([sendmail] timeout, default 60)
         * @from: the envelope sender; "" for the null sender
         * @rcpts: the envelope recipients, %NULL-terminated, at least one
         * @message: (transfer none): the whole message (RFC 5322), CRLF or LF line ends
         * @out_reason: (out) (optional) (transfer full): why it was not sent: the command's
         *   exit status and the first line it wrote to stderr, or what stopped it; %NULL when
         *   sent
         *
         * Hands @message to the system's mail transfer agent as "<command> -i -f <from> --
         * <rcpts>...": never through a shell, in a process group of its own that a timeout
         * kills whole. An address that could be taken for an option or holds whitespace or
         * control characters is refused (ATRIUM_SEND_MAIL_PERMANENT) without running anything.
         * The core sends its own mail (a reset link) this way; the mail plugin's outbound
         * queue too, so one place knows how to talk to the MTA.
         *
         * Called: any thread but the main loop's (it blocks until the command exits).
         * Returns: %ATRIUM_SEND_MAIL_SENT when the command exited 0 having read all of
         *   @message; %ATRIUM_SEND_MAIL_PERMANENT for the exit codes 64-78 of sysexits.h but
         *   EX_TEMPFAIL (75) and for a refused address; otherwise (75, another code, a signal,
         *   the timeout, a command that cannot run) %ATRIUM_SEND_MAIL_TEMPORARY.
         * Since: 1.5
         */
        AtriumSendMailOutcome (*send_mail) (const char *command, guint timeout, const char *from,
                                            const char *const *rcpts, GBytes *message,
                                            char **out_reason);

        /**
         * request_username:
         * @req: the request
         *
         * The signed-in user's username where the identity check already named them: on the
         * requests of a WebDAV tree (add_dav_tree), whose answers need it (principal URLs,
         * home collections). Saves a tree a query per request.
         *
         * Called: in a handler or a DAV tree callback, on its thread.
         * Returns: (nullable) (transfer none): the username; %NULL on other requests, for
         *   operators and anonymous callers: ask the database then
         * Since: 1.5
         */
        const char *(*request_username) (AtriumRequest *req);
        /**
         * dav_lock_check:
         * @req: the request
         * @mount: the WebDAV tree (its AtriumDavTree.mount)
         * @canonical: what a REST route is about to change, named as the tree's canonical
         *   callback names it (the name its locks are kept under)
         * @how: ATRIUM_DAV_LOCK_PARENT when the change adds or removes a member of the parent
         *   folder (a new file, a deletion, a move), ATRIUM_DAV_LOCK_BELOW when it removes what
         *   lies below (a folder deleted or moved)
         * @error: set on failure
         *
         * For the REST routes of what a WebDAV tree also serves: whether a WebDAV lock held by
         * another person stands in the way (a lock on @canonical, a depth-infinity lock on a
         * folder above it, with @how the parent's lock and the locks below). A REST client
         * cannot submit a lock token, so the lock's owner may write; anyone else gets
         * ATRIUM_ERROR_LOCKED (423), as a WebDAV client without the token would. Expired
         * locks count for nothing.
         *
         * Called: in a handler, on its thread, before the change.
         * Returns: %TRUE when nothing stands in the way; else %FALSE with @error set
         * Since: 1.5
         */
        gboolean (*dav_lock_check) (AtriumRequest *req, const char *mount, const char *canonical,
                                    guint how, GError **error);
};

/* dav_lock_check()'s @how. Since: 1.5 */
#define ATRIUM_DAV_LOCK_PARENT (1u << 0)
#define ATRIUM_DAV_LOCK_BELOW (1u << 1)

/**
 * ATRIUM_HOST_HAS:
 * @host: the table handed to init
 * @member: a slot name
 *
 * The run-time check: %TRUE when the host's table has slot @member (its struct_size reaches
 * past it). A plugin calls it before using a slot appended after the minor it requires.
 * ATRIUM_ABI_AT_LEAST() (abi.h) is the compile-time one, for the headers.
 *
 * Since: 1.0
 */
#define ATRIUM_HOST_HAS(host, member)                                                           \
        ((host)->header.struct_size >= offsetof (AtriumHost, member) + sizeof ((host)->member))

G_END_DECLS
