/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-router.c - libFuzzer target for the path-template router (core/pipeline/router.c). The first
 * byte picks the method (readable letters: G GET, H HEAD, P POST, U PUT, A PATCH, D DELETE,
 * O OPTIONS; any other byte by modulo), the rest is the request path, cut at the first NUL as
 * a C string would be. The path is matched against the kind of route table atriumd builds
 * (literals, parameters, "{id}.ics" suffixes, tails, an explicit HEAD), and every answer is
 * checked against what router-private.h promises, so the target finds wrong answers as well as
 * crashes. The same bytes are also offered as a template to a scratch router, to exercise
 * template validation.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
        const char *method;
        const char *template;
        guint n_params; /* parameters, the tail included */
        gboolean tail;
} Route;

static const Route routes[] = {
        {"GET", "/", 0, FALSE},
        {"GET", "/healthz", 0, FALSE},
        {"GET", "/api/v1/openapi.json", 0, FALSE},
        {"GET", "/api/v1/modules", 0, FALSE},
        {"GET", "/api/v1/schools", 0, FALSE},
        {"POST", "/api/v1/schools", 0, FALSE},
        {"GET", "/api/v1/schools/{school}", 1, FALSE},
        {"PATCH", "/api/v1/schools/{school}", 1, FALSE},
        {"GET", "/api/v1/schools/{school}/users", 1, FALSE},
        {"GET", "/api/v1/schools/{school}/users/me", 1, FALSE},
        {"GET", "/api/v1/schools/{school}/users/{id}", 2, FALSE},
        {"PATCH", "/api/v1/schools/{school}/users/{id}", 2, FALSE},
        {"GET", "/api/v1/schools/{school}/noticeboard/notices", 1, FALSE},
        {"POST", "/api/v1/schools/{school}/noticeboard/notices", 1, FALSE},
        {"GET", "/api/v1/schools/{school}/noticeboard/notices/{id}", 2, FALSE},
        {"HEAD", "/api/v1/schools/{school}/noticeboard/notices/{id}", 2, FALSE},
        {"DELETE", "/api/v1/schools/{school}/noticeboard/notices/{id}", 2, FALSE},
        {"GET", "/api/v1/schools/{school}/groups/search", 1, FALSE},
        {"PUT", "/api/v1/schools/{school}/groups/{id}/members/{user}", 3, FALSE},
        {"GET", "/api/v1/schools/{school}/files/{path*}", 2, TRUE},
        {"PUT", "/api/v1/schools/{school}/files/{path*}", 2, TRUE},
        {"GET", "/static/{path*}", 1, TRUE},
        {"GET", "/api/v1/schools/{school}/calendar/{id}", 2, FALSE},
        {"GET", "/api/v1/schools/{school}/calendar/{id}.ics", 2, FALSE},
        {"GET", "/api/v1/calendar/feeds/{token}.ics", 1, FALSE},
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS", "LOCK"};

static AtriumRouter *router;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        /* A critical from GLib or json-glib is a bug the fuzzer should stop at. */
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        router = atrium_router_new ();
        for (gsize i = 0; i < G_N_ELEMENTS (routes); i++) {
                g_autoptr (GError) error = NULL;
                if (!atrium_router_add (router, routes[i].method, routes[i].template,
                                        (gpointer) &routes[i], &error))
                        g_error ("route table: %s", error->message);
        }
        return 0;
}

static const char *
pick_method (guint8 b)
{
        switch (b) {
        case 'G':
                return "GET";
        case 'H':
                return "HEAD";
        case 'P':
                return "POST";
        case 'U':
                return "PUT";
        case 'A':
                return "PATCH";
        case 'D':
                return "DELETE";
        case 'O':
                return "OPTIONS";
        default:
                return methods[b % G_N_ELEMENTS (methods)];
        }
}

static gboolean
is_dot_segment (const char *s)
{
        return g_str_equal (s, ".") || g_str_equal (s, "..");
}

static gboolean
some_route_has_method (const char *method)
{
        for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
                if (g_str_equal (routes[i].method, method))
                        return TRUE;
        return FALSE;
}

static void
check_ok (const char *method, const Route *route, GHashTable *params, const char *template)
{
        /* data, template and method belong together. */
        g_assert_true (route >= routes && route < routes + G_N_ELEMENTS (routes));
        g_assert_cmpstr (template, ==, route->template);
        g_assert_true (g_str_equal (route->method, method) ||
                       (g_str_equal (method, "HEAD") && g_str_equal (route->method, "GET")));

        /* Exactly the template's parameters, decoded, never a separator or dot segment. */
        g_assert_nonnull (params);
        g_assert_cmpuint (g_hash_table_size (params), ==, route->n_params);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init (&it, params);
        while (g_hash_table_iter_next (&it, &k, &v)) {
                const char *name = k, *value = v;
                g_autofree char *whole = g_strdup_printf ("{%s}", name);
                g_autofree char *tail = g_strdup_printf ("{%s*}", name);
                g_assert_nonnull (value);
                if (strstr (route->template, whole)) {
                        g_assert_cmpstr (value, !=, "");
                        g_assert_null (strchr (value, '/'));
                        g_assert_false (is_dot_segment (value));
                } else {
                        g_assert_true (route->tail);
                        g_assert_nonnull (strstr (route->template, tail));
                        g_auto (GStrv) segs = g_strsplit (value, "/", -1);
                        for (char **s = segs; *s; s++)
                                g_assert_false (is_dot_segment (*s));
                }
        }
}

static void
check_allow (const char *method, const char *allow)
{
        /* Non-empty, made of registered methods, each once, never the one asked for. */
        g_assert_nonnull (allow);
        g_assert_cmpstr (allow, !=, "");
        g_auto (GStrv) list = g_strsplit (allow, ", ", -1);
        for (guint i = 0; list[i]; i++) {
                g_assert_true (some_route_has_method (list[i]));
                g_assert_cmpstr (list[i], !=, method);
                for (guint j = 0; j < i; j++)
                        g_assert_cmpstr (list[i], !=, list[j]);
        }
}

static void
fuzz_template (const char *text)
{
        g_autoptr (AtriumRouter) scratch = atrium_router_new ();
        g_autoptr (GError) error = NULL;
        if (!atrium_router_add (scratch, "GET", text, NULL, &error)) {
                g_assert_nonnull (error);
                return;
        }
        g_assert_no_error (error);
        g_assert_true (text[0] == '/');
        /* An accepted template is refused the second time, as a conflict. */
        g_assert_false (atrium_router_add (scratch, "GET", text, NULL, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT);
        /* And matching its own text as a path must not crash. */
        g_autoptr (GHashTable) params = NULL;
        atrium_router_match (scratch, "GET", text, NULL, &params, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const char *method = pick_method (data[0]);
        /* A NUL-terminated copy: the router gets C strings, as libsoup hands them over. */
        g_autofree char *path = g_malloc (size);
        memcpy (path, data + 1, size - 1);
        path[size - 1] = '\0';

        gpointer out_data = NULL;
        GHashTable *params = NULL;
        const char *template = NULL;
        char *allow = NULL;
        AtriumMatchResult r = atrium_router_match (router, method, path, &out_data, &params,
                                                   &template, &allow);
        switch (r) {
        case ATRIUM_MATCH_OK:
                check_ok (method, out_data, params, template);
                g_assert_null (allow);
                break;
        case ATRIUM_MATCH_METHOD_NOT_ALLOWED:
                check_allow (method, allow);
                g_assert_null (params);
                g_assert_null (template);
                break;
        case ATRIUM_MATCH_NOT_FOUND:
        case ATRIUM_MATCH_BAD_PATH:
                g_assert_null (allow);
                g_assert_null (params);
                g_assert_null (template);
                g_assert_null (out_data);
                break;
        default:
                g_assert_not_reached ();
        }
        /* Same question, same answer. */
        g_assert_cmpint (atrium_router_match (router, method, path, NULL, NULL, NULL, NULL), ==, r);
        if (params)
                g_hash_table_unref (params);
        g_free (allow);

        fuzz_template (path);
        return 0;
}
