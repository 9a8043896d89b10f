/* SPDX-License-Identifier: Apache-2.0 */
/* groupsprobe.c - a test-tree plugin that uses the groups plugin the way another module would:
 * it declares a dependency on "groups", looks the "groups" service table up in init
 * (atrium/groups.h) and exposes each service call as a small school route, so the integration
 * tests (tests/integration/test_groups_service.py) can check the answers over HTTP.
 *
 * It also subscribes to group.created, group.member_added, group.member_removed and
 * group.deleted and writes each delivery into its own table (groupsprobe.events, school_id +
 * FORCEd row-level security like any plugin table), together with what the subscriber's own
 * transaction saw of the group at that moment. Seeing a new member inside the subscriber
 * proves the event came after the publishing transaction committed; a failed request leaving
 * no row proves events of a rolled-back transaction are dropped. Each row also keeps the
 * delivery's event id (atrium.event_id), and the subscriber obeys the faults a test puts in
 * groupsprobe.faults (fail, or block until the fault is gone) to prove durable delivery
 * (tests/integration/test_events_durable.py).
 *
 * GET .../groupsprobe/bench is a BENCHMARK HELPER (bench/groups/run.sh): it calls is_member n
 * times in-process inside the request's transaction and reports the rate. It exists only in
 * this test tree; the plugin is never installed (install : false) and never belongs in a
 * production plugin directory.
 *
 * Routes, all under /api/v1/schools/{school}/groupsprobe and needing groupsprobe.use:
 *   GET /is_member?group=&user=   {"role": "none" | "member" | "owner"}
 *   GET /members_of?group=        {"members": [user ids, owners first]}
 *   GET /groups_of?user=          {"groups": [group ids]}
 *   GET /exists?group=            {"exists": true | false}
 *   GET /events                   {"items": [...], "next_cursor"} oldest first (paginated)
 *   GET /bench?group=&user=&n=    {"calls", "seconds", "per_second", "role"}, n <= 1,000,000 */
#include <atrium/atrium.h>
#include <atrium/groups.h>
#include <atrium/resources.h>

#include "groupsprobe-resources.h"

#define BENCH_MAX_CALLS 1000000

static const AtriumHost *host;
static const AtriumGroupsService *groups;

static const char *
role_name (AtriumGroupRole role)
{
        switch (role) {
        case ATRIUM_GROUP_ROLE_OWNER:
                return "owner";
        case ATRIUM_GROUP_ROLE_MEMBER:
                return "member";
        case ATRIUM_GROUP_ROLE_NONE:
        default:
                return "none";
        }
}

static JsonNode *
object_node (JsonObject *o)
{
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

static JsonArray *
strv_array (char **v)
{
        JsonArray *a = json_array_new ();
        for (char **p = v; p && *p; p++)
                json_array_add_string_element (a, *p);
        return a;
}

/* A required query parameter, passed to the service exactly as the client sent it: the
 * service's own handling of malformed ids is part of what the tests check. */
static const char *
required_query (AtriumRequest *req, const char *name, GError **error)
{
        const char *v = host->request_query (req, name);
        if (!v)
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "?%s= is required", name);
        return v;
}

/* Declared as plain text, not required: the service's own refusals are what is tested. */
#define GROUP_AND_USER                                                                             \
        "{\"type\": \"object\", \"properties\": {\"group\": {\"type\": \"string\"}, "              \
        "\"user\": {\"type\": \"string\"}}}"

static gboolean
probe_is_member (AtriumRequest *req, gpointer data, GError **error)
{
        const char *group = required_query (req, "group", error);
        const char *user = group ? required_query (req, "user", error) : NULL;
        if (!user)
                return FALSE;
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        if (!groups->is_member (host->request_tx (req), group, user, &role, error))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "role", role_name (role));
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

static gboolean
probe_members_of (AtriumRequest *req, gpointer data, GError **error)
{
        const char *group = required_query (req, "group", error);
        if (!group)
                return FALSE;
        g_auto (GStrv) members = groups->members_of (host->request_tx (req), group, error);
        if (!members)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_array_member (o, "members", strv_array (members));
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

static gboolean
probe_groups_of (AtriumRequest *req, gpointer data, GError **error)
{
        const char *user = required_query (req, "user", error);
        if (!user)
                return FALSE;
        g_auto (GStrv) ids = groups->groups_of (host->request_tx (req), user, error);
        if (!ids)
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_array_member (o, "groups", strv_array (ids));
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

static gboolean
probe_exists (AtriumRequest *req, gpointer data, GError **error)
{
        const char *group = required_query (req, "group", error);
        if (!group)
                return FALSE;
        gboolean exists = FALSE;
        if (!groups->group_exists (host->request_tx (req), group, &exists, error))
                return FALSE;
        JsonObject *o = json_object_new ();
        json_object_set_boolean_member (o, "exists", exists);
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

/* Test tree only: a route that breaks the 1.5 rule on purpose, reading ?x= it does not
 * declare and paging without ATRIUM_ROUTE_PAGED, so the tests see the host's warning
 * (test_groups_service.py; tests/harness/host.py exempts this one route). */
static gboolean
probe_undeclared (AtriumRequest *req, gpointer data, GError **error)
{
        int limit = 0;
        g_autofree char *after = NULL;
        if (!host->request_page (req, &limit, &after, error))
                return FALSE;
        JsonObject *o = json_object_new ();
        const char *x = host->request_query (req, "x");
        json_object_set_string_member (o, "x", x ? x : "");
        json_object_set_int_member (o, "limit", limit);
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

/* Test tree only: answers a field its response_schema does not have, so the tests see the
 * host's [http] check_responses warning (tests/harness/host.py exempts this route too). */
static gboolean
probe_misdescribed (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "said", "yes");
        json_object_set_int_member (o, "unsaid", 1);
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

/* Test tree only: answers text/plain without naming it in response_type (the host's
 * [http] check_responses warns; tests/harness/host.py exempts this route too). */
static gboolean
probe_mistyped (AtriumRequest *req, gpointer data, GError **error)
{
        g_autoptr (GBytes) body = g_bytes_new_static ("plain\n", 6);
        host->respond_bytes (req, 200, "text/plain; charset=utf-8", body);
        return TRUE;
}

static gboolean
probe_events (AtriumRequest *req, gpointer data, GError **error)
{
        static const char sql[] =
                "SELECT seq, event, group_id, user_id, role_seen, group_seen, received_at, "
                "event_id "
                "FROM groupsprobe.events WHERE ($1::bigint IS NULL OR seq > $1::bigint) "
                "ORDER BY seq LIMIT $2::int";
        g_auto (AtriumPage) page = {0};
        if (!atrium_page_begin (host, req, "i", &page, error))
                return FALSE;
        const char *params[2] = {atrium_page_key (&page, 0), page.fetch};
        AtriumResult *res = host->query (host->request_tx (req), sql, 2, params, error);
        if (!res)
                return FALSE;
        atrium_page_respond_rows (host, req, &page, res, NULL, 1, 0);
        return TRUE;
}

/* BENCHMARK HELPER (test tree only): n is_member calls, back to back, in this transaction. */
static gboolean
probe_bench (AtriumRequest *req, gpointer data, GError **error)
{
        const char *group = required_query (req, "group", error);
        const char *user = group ? required_query (req, "user", error) : NULL;
        const char *n_text = user ? required_query (req, "n", error) : NULL;
        if (!n_text)
                return FALSE;
        guint64 n;
        if (!g_ascii_string_to_unsigned (n_text, 10, 1, BENCH_MAX_CALLS, &n, NULL)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "n must be a whole number from 1 to %d", BENCH_MAX_CALLS);
                return FALSE;
        }
        AtriumTx *tx = host->request_tx (req);
        AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
        gint64 start = g_get_monotonic_time ();
        for (guint64 i = 0; i < n; i++)
                if (!groups->is_member (tx, group, user, &role, error))
                        return FALSE;
        double seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "benchmark_helper",
                                       "test tree only: groupsprobe is never installed");
        json_object_set_int_member (o, "calls", (gint64) n);
        json_object_set_double_member (o, "seconds", seconds);
        json_object_set_double_member (o, "per_second", seconds > 0 ? (double) n / seconds : 0);
        json_object_set_string_member (o, "role", role_name (role));
        host->respond_json (req, 200, object_node (o));
        return TRUE;
}

/* Every group event becomes one row. The look-ups run in this subscriber's own transaction,
 * which the host opens after the publishing one committed: a new member must already be
 * visible here, a deleted group must already be gone. */
/* The fault a test injected (schema/0002_delivery_faults.sql): FALSE for 'fail'; 'block'
 * waits while the fault is there, up to 60 s. */
static gboolean
injected_fault (AtriumTx *tx, GError **error)
{
        for (int waited = 0; waited < 600; waited++) {
                AtriumResult *res = host->query (tx,
                                                 "SELECT kind FROM groupsprobe.faults "
                                                 "ORDER BY kind DESC LIMIT 1",
                                                 0, NULL, error);
                if (!res)
                        return FALSE;
                const char *kind = host->result_value (res, 0, 0);
                gboolean fail = g_strcmp0 (kind, "fail") == 0;
                gboolean block = g_strcmp0 (kind, "block") == 0;
                host->result_free (res);
                if (fail) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "groupsprobe: injected failure");
                        return FALSE;
                }
                if (!block)
                        return TRUE;
                g_usleep (100 * 1000);
        }
        return TRUE;
}

static gboolean
on_group_event (AtriumTx *tx, const char *event, JsonNode *payload, gpointer data,
                GError **error)
{
        JsonObject *o = payload && JSON_NODE_HOLDS_OBJECT (payload)
                                ? json_node_get_object (payload)
                                : NULL;
        const char *group = o ? json_object_get_string_member_with_default (o, "group_id", NULL)
                              : NULL;
        const char *user = o ? json_object_get_string_member_with_default (o, "user_id", NULL)
                             : NULL;
        if (!injected_fault (tx, error))
                return FALSE;
        const char *role_seen = NULL;
        if (user) {
                AtriumGroupRole role = ATRIUM_GROUP_ROLE_NONE;
                if (!groups->is_member (tx, group, user, &role, error))
                        return FALSE;
                role_seen = role_name (role);
        }
        gboolean exists = FALSE;
        if (!groups->group_exists (tx, group, &exists, error))
                return FALSE;
        const char *params[5] = {event, group, user, role_seen, exists ? "true" : "false"};
        AtriumResult *res = host->query (
                tx,
                "INSERT INTO groupsprobe.events (school_id, event, group_id, user_id, role_seen, "
                "group_seen, event_id) VALUES (core.current_school(), $1, $2::uuid, $3::uuid, $4, "
                "$5::boolean, nullif(current_setting('atrium.event_id', true), '')::uuid)",
                5, params, error);
        if (!res)
                return FALSE;
        host->result_free (res);
        return TRUE;
}

static gboolean
probe_init (AtriumPlugin *self, const AtriumHost *h, GError **error)
{
        host = h;
        groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, ATRIUM_GROUPS_SERVICE_VERSION);
        if (!groups) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "service \"%s\" (version >= %d) not found: is the groups plugin "
                             "loaded?",
                             ATRIUM_GROUPS_SERVICE, ATRIUM_GROUPS_SERVICE_VERSION);
                return FALSE;
        }
        if (groups->header.magic != ATRIUM_MAGIC ||
            groups->header.struct_size <
                    offsetof (AtriumGroupsService, group_exists) + sizeof (groups->group_exists)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "service \"%s\" is older than this plugin's header",
                             ATRIUM_GROUPS_SERVICE);
                return FALSE;
        }
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/is_member",
                 .permission = "groupsprobe.use",
                 .summary = "groups service: is_member(?group=, ?user=)",
                 .query_schema = GROUP_AND_USER, .handler = probe_is_member},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/members_of",
                 .permission = "groupsprobe.use", .summary = "groups service: members_of(?group=)",
                 .query_schema = GROUP_AND_USER, .handler = probe_members_of},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/groups_of",
                 .permission = "groupsprobe.use", .summary = "groups service: groups_of(?user=)",
                 .query_schema = GROUP_AND_USER, .handler = probe_groups_of},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/exists",
                 .permission = "groupsprobe.use",
                 .summary = "groups service: group_exists(?group=)", .query_schema = GROUP_AND_USER,
                 .handler = probe_exists},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/events",
                 .permission = "groupsprobe.use",
                 .summary = "Group events received so far, oldest first (paginated)",
                 .flags = ATRIUM_ROUTE_PAGED, .handler = probe_events},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/bench",
                 .permission = "groupsprobe.use",
                 .summary = "Benchmark helper (test tree only): ?n= is_member calls in-process",
                 .query_schema = "{\"type\": \"object\", \"properties\": {"
                                 "\"group\": {\"type\": \"string\"}, \"user\": {\"type\": "
                                 "\"string\"}, \"n\": {\"type\": \"string\"}}}",
                 .handler = probe_bench},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/undeclared",
                 .permission = "groupsprobe.use",
                 .summary = "Test tree only: reads ?x=, ?limit= and ?cursor= undeclared",
                 .handler = probe_undeclared},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/misdescribed",
                 .permission = "groupsprobe.use",
                 .summary = "Test tree only: answers a field its response_schema lacks",
                 .response_schema = "{\"type\": \"object\", \"properties\": {\"said\": "
                                    "{\"type\": \"string\"}}}",
                 .handler = probe_misdescribed},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/mistyped",
                 .permission = "groupsprobe.use",
                 .summary = "Test tree only: answers text/plain, a type it does not name",
                 .handler = probe_mistyped},
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/typed",
                 .permission = "groupsprobe.use",
                 .summary = "Test tree only: answers text/plain, as its response_type says",
                 .response_type = "text/plain", .handler = probe_mistyped},
        };
        if (!atrium_add_routes (host, self, routes, G_N_ELEMENTS (routes), error))
                return FALSE;
        static const char *const events[] = {"group.created", "group.member_added",
                                             "group.member_removed", "group.deleted"};
        for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
                if (!host->subscribe (self, events[i], on_group_event, NULL, error))
                        return FALSE;
        return atrium_add_migrations_from_resource (host, self, groupsprobe_get_resource (),
                                                    "/dev/atrium/groupsprobe/schema", error);
}

static const AtriumDependency dependencies[] = {
        {"groups", "1.0.0"},
        {NULL, NULL},
};

static const AtriumPermission permissions[] = {
        {"groupsprobe.use", "Call the groups-service probe routes (test tree only)", "admin"},
        {NULL, NULL, NULL},
};

ATRIUM_PLUGIN_DEFINE (.name = "groupsprobe", .version = "1.0.0",
                      .description = "Test probe for the groups service table and events "
                                     "(test tree only, never installed)",
                      .license = "Apache-2.0",
                      .dependencies = dependencies,
                      .permissions = permissions, .init = probe_init)
