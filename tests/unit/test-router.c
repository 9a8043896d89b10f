/* SPDX-License-Identifier: Apache-2.0 */
/* test-router.c - unit tests of the path-template router (core/pipeline/router.c): which template wins
 * when several match, what the parameters come out as, which paths are refused before any
 * handler could see them, what a 405 advertises, and which templates are refused when a plugin
 * registers them. Pure and in-process; tests/fuzz/fuzz-router.c throws random paths at the same
 * code. Cases under /router/regression/ pin down defects these tests found, so they stay fixed
 * (see tests/unit/meson.build). */
#include <string.h>

#include <glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

/* What one atrium_router_match () call produced; cleared with g_auto (Hit). */
typedef struct {
        AtriumMatchResult result;
        gintptr id; /* the route's data, registered as GINT_TO_POINTER (id) */
        GHashTable *params;
        const char *template;
        char *allow;
} Hit;

static void
hit_clear (Hit *h)
{
        g_clear_pointer (&h->params, g_hash_table_unref);
        g_clear_pointer (&h->allow, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Hit, hit_clear)

static void
add_ok (AtriumRouter *router, const char *method, const char *template, gintptr id)
{
        g_autoptr (GError) error = NULL;
        gboolean ok = atrium_router_add (router, method, template, GINT_TO_POINTER (id), &error);
        g_assert_no_error (error);
        g_assert_true (ok);
}

static void
lookup (AtriumRouter *router, const char *method, const char *path, Hit *h)
{
        gpointer data = NULL;
        hit_clear (h);
        h->template = NULL;
        h->result = atrium_router_match (router, method, path, &data, &h->params, &h->template,
                                         &h->allow);
        h->id = GPOINTER_TO_INT (data);
}

static const char *
param (const Hit *h, const char *name)
{
        g_assert_nonnull (h->params);
        return g_hash_table_lookup (h->params, name);
}

/* Asserts that @path matched route @id; the caller inspects the parameters. */
#define ASSERT_MATCH(router, method, path, want_id, h)                                          \
        G_STMT_START                                                                             \
        {                                                                                        \
                lookup ((router), (method), (path), (h));                                        \
                g_assert_cmpint ((h)->result, ==, ATRIUM_MATCH_OK);                              \
                g_assert_cmpint ((h)->id, ==, (want_id));                                        \
                g_assert_nonnull ((h)->params);                                                  \
                g_assert_nonnull ((h)->template);                                                \
                g_assert_null ((h)->allow);                                                      \
        }                                                                                        \
        G_STMT_END

#define ASSERT_RESULT(router, method, path, want)                                               \
        G_STMT_START                                                                             \
        {                                                                                        \
                g_auto (Hit) _h = {0};                                                           \
                lookup ((router), (method), (path), &_h);                                        \
                if (_h.result != (want))                                                         \
                        g_test_message ("path: \"%s\"", (path));                                 \
                g_assert_cmpint (_h.result, ==, (want));                                         \
                if ((want) != ATRIUM_MATCH_OK) {                                                 \
                        g_assert_null (_h.params);                                               \
                        g_assert_null (_h.template);                                             \
                        g_assert_cmpint (_h.id, ==, 0);                                          \
                }                                                                                \
        }                                                                                        \
        G_STMT_END

static void
test_literal_beats_param (void)
{
        /* Register in both orders: priority must not depend on registration order. */
        for (int order = 0; order < 2; order++) {
                g_autoptr (AtriumRouter) r = atrium_router_new ();
                if (order == 0) {
                        add_ok (r, "GET", "/api/v1/groups/{id}", 1);
                        add_ok (r, "GET", "/api/v1/groups/search", 2);
                } else {
                        add_ok (r, "GET", "/api/v1/groups/search", 2);
                        add_ok (r, "GET", "/api/v1/groups/{id}", 1);
                }
                add_ok (r, "GET", "/api/v1/groups/{id}/members", 3);

                g_auto (Hit) h = {0};
                ASSERT_MATCH (r, "GET", "/api/v1/groups/search", 2, &h);
                g_assert_cmpstr (h.template, ==, "/api/v1/groups/search");
                g_assert_cmpuint (g_hash_table_size (h.params), ==, 0);

                ASSERT_MATCH (r, "GET", "/api/v1/groups/42", 1, &h);
                g_assert_cmpstr (h.template, ==, "/api/v1/groups/{id}");
                g_assert_cmpstr (param (&h, "id"), ==, "42");
                g_assert_cmpuint (g_hash_table_size (h.params), ==, 1);

                /* "search" is only special as the last segment of its own template. */
                ASSERT_MATCH (r, "GET", "/api/v1/groups/search/members", 3, &h);
                g_assert_cmpstr (param (&h, "id"), ==, "search");

                ASSERT_RESULT (r, "GET", "/api/v1/groups", ATRIUM_MATCH_NOT_FOUND);
                ASSERT_RESULT (r, "GET", "/api/v1/groups/42/members/7", ATRIUM_MATCH_NOT_FOUND);
                ASSERT_RESULT (r, "GET", "/api/v1/Groups/42", ATRIUM_MATCH_NOT_FOUND);
        }
}

static void
test_first_difference_decides (void)
{
        /* At the first segment where two matching templates differ, the literal one wins,
         * whatever comes after it. */
        for (int order = 0; order < 2; order++) {
                g_autoptr (AtriumRouter) r = atrium_router_new ();
                if (order == 0) {
                        add_ok (r, "GET", "/a/{x}/{y}", 1);
                        add_ok (r, "GET", "/{z}/b/c", 2);
                } else {
                        add_ok (r, "GET", "/{z}/b/c", 2);
                        add_ok (r, "GET", "/a/{x}/{y}", 1);
                }
                g_auto (Hit) h = {0};
                ASSERT_MATCH (r, "GET", "/a/b/c", 1, &h);
                g_assert_cmpstr (param (&h, "x"), ==, "b");
                g_assert_cmpstr (param (&h, "y"), ==, "c");
                ASSERT_MATCH (r, "GET", "/q/b/c", 2, &h);
                g_assert_cmpstr (param (&h, "z"), ==, "q");
        }
}

static void
test_params (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/api/v1/schools/{school}/groups/{id}", 1);
        add_ok (r, "GET", "/", 2);
        add_ok (r, "GET", "/api/v1/schools/{school}/", 3);

        g_auto (Hit) h = {0};
        ASSERT_MATCH (r, "GET", "/api/v1/schools/north-high/groups/7b", 1, &h);
        g_assert_cmpstr (h.template, ==, "/api/v1/schools/{school}/groups/{id}");
        g_assert_cmpuint (g_hash_table_size (h.params), ==, 2);
        g_assert_cmpstr (param (&h, "school"), ==, "north-high");
        g_assert_cmpstr (param (&h, "id"), ==, "7b");

        ASSERT_MATCH (r, "GET", "/", 2, &h);
        g_assert_cmpuint (g_hash_table_size (h.params), ==, 0);

        /* A trailing slash is a segment of its own: "/x/" is not "/x". */
        ASSERT_MATCH (r, "GET", "/api/v1/schools/s1/", 3, &h);
        g_assert_cmpstr (param (&h, "school"), ==, "s1");
        ASSERT_RESULT (r, "GET", "/api/v1/schools/s1", ATRIUM_MATCH_NOT_FOUND);

        /* Parameters are never empty. */
        ASSERT_RESULT (r, "GET", "/api/v1/schools//groups/1", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/api/v1/schools/s1/groups/", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "//", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/api/v1/schools/s1/groups/1/", ATRIUM_MATCH_NOT_FOUND);

        /* "..." and ".hidden" are ordinary names, only "." and ".." are dot segments. */
        ASSERT_MATCH (r, "GET", "/api/v1/schools/.../groups/.hidden", 1, &h);
        g_assert_cmpstr (param (&h, "school"), ==, "...");
        g_assert_cmpstr (param (&h, "id"), ==, ".hidden");
}

static void
test_tail (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/files/{path*}", 1);
        add_ok (r, "GET", "/files/{id}/meta", 2);
        add_ok (r, "GET", "/{rest*}", 3);
        add_ok (r, "GET", "/schools/{school}/files/{path*}", 4);

        g_auto (Hit) h = {0};
        ASSERT_MATCH (r, "GET", "/files/a/b/c.txt", 1, &h);
        g_assert_cmpstr (h.template, ==, "/files/{path*}");
        g_assert_cmpuint (g_hash_table_size (h.params), ==, 1);
        g_assert_cmpstr (param (&h, "path"), ==, "a/b/c.txt");

        /* An empty tail, with or without the slash. */
        ASSERT_MATCH (r, "GET", "/files/", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "");
        ASSERT_MATCH (r, "GET", "/files", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "");

        /* Slashes are kept as they came, empty segments and trailing slash included. */
        ASSERT_MATCH (r, "GET", "/files/a//b/", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "a//b/");
        ASSERT_MATCH (r, "GET", "/files/x", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "x");

        /* Decoded per segment: the escapes are gone, the separators stay. */
        ASSERT_MATCH (r, "GET", "/files/caf%C3%A9/r%C3%A9sum%C3%A9%20v2.pdf", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "café/résumé v2.pdf");

        /* A literal segment after a parameter beats the tail at the same position. */
        ASSERT_MATCH (r, "GET", "/files/42/meta", 2, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "42");
        ASSERT_MATCH (r, "GET", "/files/42/meta/x", 1, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "42/meta/x");

        /* The root tail catches everything the others do not. */
        ASSERT_MATCH (r, "GET", "/", 3, &h);
        g_assert_cmpstr (param (&h, "rest"), ==, "");
        ASSERT_MATCH (r, "GET", "/index.html", 3, &h);
        g_assert_cmpstr (param (&h, "rest"), ==, "index.html");
        ASSERT_MATCH (r, "GET", "/assets/app.js", 3, &h);
        g_assert_cmpstr (param (&h, "rest"), ==, "assets/app.js");
        ASSERT_MATCH (r, "GET", "/filesx/y", 3, &h);

        ASSERT_MATCH (r, "GET", "/schools/s1/files/a/b", 4, &h);
        g_assert_cmpstr (param (&h, "school"), ==, "s1");
        g_assert_cmpstr (param (&h, "path"), ==, "a/b");
        g_assert_cmpuint (g_hash_table_size (h.params), ==, 2);
        ASSERT_MATCH (r, "GET", "/schools/s1/files", 4, &h);
        g_assert_cmpstr (param (&h, "path"), ==, "");
        /* The fixed part still needs its parameter. */
        ASSERT_MATCH (r, "GET", "/schools//files/a", 3, &h);

        /* No dot segments and no smuggled separators inside the tail either. */
        ASSERT_RESULT (r, "GET", "/files/a/../../etc/passwd", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/files/a/./b", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/files/..", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/files/a%2Fb", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/files/%2e%2e/x", ATRIUM_MATCH_BAD_PATH);
}

static void
test_percent_decoding (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/api/v1/groups/{id}", 1);
        add_ok (r, "GET", "/api/v1/groups/{id}/members/{user}", 2);

        g_auto (Hit) h = {0};
        ASSERT_MATCH (r, "GET", "/api/v1/groups/caf%C3%A9", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "café");
        ASSERT_MATCH (r, "GET", "/api/v1/groups/caf%c3%a9", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "café");
        ASSERT_MATCH (r, "GET", "/api/v1/groups/a%20b", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "a b");
        /* '+' is a space only in query strings, never in a path. */
        ASSERT_MATCH (r, "GET", "/api/v1/groups/a+b", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "a+b");
        /* Escapes decode once: "%2541" is "%41", not "A". */
        ASSERT_MATCH (r, "GET", "/api/v1/groups/%2541", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "%41");
        ASSERT_MATCH (r, "GET", "/api/v1/groups/%7Bid%7D/members/%3F%23%26", 2, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "{id}");
        g_assert_cmpstr (param (&h, "user"), ==, "?#&");
        /* Literal segments are compared after decoding too. */
        ASSERT_MATCH (r, "GET", "/api/v%31/groups/x", 1, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "x");

        /* Undecodable escapes. */
        ASSERT_RESULT (r, "GET", "/api/v1/groups/%", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/api/v1/groups/%4", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/api/v1/groups/%G1", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/api/v1/groups/ab%", ATRIUM_MATCH_BAD_PATH);
        /* Refused even on paths no template would match: nothing reads a bad path. */
        ASSERT_RESULT (r, "GET", "/nowhere/%zz", ATRIUM_MATCH_BAD_PATH);
}

static void
test_bad_path (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/api/v1/groups/{id}", 1);
        add_ok (r, "GET", "/api/v1/{rest*}", 2);

        const char *bad[] = {
                "/api/v1/groups/a%2Fb", /* a separator smuggled inside a segment */
                "/api/v1/groups/a%2fb",
                "/api/v1/groups/%2F",
                "/api/v1/groups/a%00b", /* NUL */
                "/api/v1/groups/%00",
                "/api/v1/groups/.",
                "/api/v1/groups/..",
                "/api/v1/groups/%2e",
                "/api/v1/groups/%2E%2E",
                "/api/v1/groups/.%2e",
                "/api/v1/../v1/groups/1",
                "/./api/v1/groups/1",
                "/..",
                "/.",
                "",            /* not absolute */
                "api/v1/groups/1",
                "*",
                "http://example.org/api/v1/groups/1",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
                ASSERT_RESULT (r, "GET", bad[i], ATRIUM_MATCH_BAD_PATH);

        /* Every method gets the same answer: a bad path is refused before method lookup. */
        ASSERT_RESULT (r, "DELETE", "/api/v1/groups/..", ATRIUM_MATCH_BAD_PATH);
        g_assert_cmpint (atrium_router_match (r, "GET", NULL, NULL, NULL, NULL, NULL), ==,
                         ATRIUM_MATCH_BAD_PATH);
}

static void
test_method_not_allowed (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/groups", 1);
        add_ok (r, "POST", "/groups", 2);
        add_ok (r, "POST", "/x/{id}", 3);
        add_ok (r, "POST", "/x/search", 4);
        add_ok (r, "PATCH", "/x/{id}", 5);
        add_ok (r, "DELETE", "/groups/{id}", 6);

        g_auto (Hit) h = {0};
        lookup (r, "PUT", "/groups", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "GET, POST");
        g_assert_cmpint (h.id, ==, 0);
        g_assert_null (h.params);
        g_assert_null (h.template);

        /* Every method of every matching template, each once, in registration order. */
        lookup (r, "GET", "/x/search", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "POST, PATCH");

        lookup (r, "GET", "/groups/7", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "DELETE");

        /* A matching method wins over the more specific template of another method. */
        ASSERT_MATCH (r, "PATCH", "/x/search", 5, &h);
        g_assert_cmpstr (param (&h, "id"), ==, "search");
        ASSERT_MATCH (r, "POST", "/x/search", 4, &h);

        /* No template matches: 404 and no Allow. */
        lookup (r, "PUT", "/nothing/here", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_NOT_FOUND);
        g_assert_null (h.allow);

        /* out_allow may be NULL. */
        g_assert_cmpint (atrium_router_match (r, "PUT", "/groups", NULL, NULL, NULL, NULL), ==,
                         ATRIUM_MATCH_METHOD_NOT_ALLOWED);
}

static void
test_head (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/a", 1);
        add_ok (r, "GET", "/b", 2);
        add_ok (r, "HEAD", "/b", 3);
        add_ok (r, "HEAD", "/c", 4);
        add_ok (r, "GET", "/c", 5);
        add_ok (r, "POST", "/d", 6);
        add_ok (r, "HEAD", "/e", 7);
        add_ok (r, "GET", "/f/{id}", 8);
        add_ok (r, "HEAD", "/f/special", 9);
        add_ok (r, "GET", "/g/special", 10);
        add_ok (r, "HEAD", "/g/{id}", 11);

        g_auto (Hit) h = {0};
        /* HEAD falls back to GET ... */
        ASSERT_MATCH (r, "HEAD", "/a", 1, &h);
        g_assert_cmpstr (h.template, ==, "/a");
        /* ... unless the template has an explicit HEAD route, registered before or after. */
        ASSERT_MATCH (r, "HEAD", "/b", 3, &h);
        ASSERT_MATCH (r, "HEAD", "/c", 4, &h);
        ASSERT_MATCH (r, "GET", "/b", 2, &h);
        ASSERT_MATCH (r, "GET", "/c", 5, &h);
        /* Specificity still decides between HEAD and GET-as-HEAD. */
        ASSERT_MATCH (r, "HEAD", "/f/special", 9, &h);
        ASSERT_MATCH (r, "HEAD", "/f/other", 8, &h);
        ASSERT_MATCH (r, "HEAD", "/g/special", 10, &h);
        ASSERT_MATCH (r, "HEAD", "/g/other", 11, &h);

        /* HEAD does not fall back to POST; GET does not fall back to HEAD. */
        lookup (r, "HEAD", "/d", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "POST");
        lookup (r, "GET", "/e", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "HEAD");
}

static void
collect_route (const char *method, const char *template, gpointer data, gpointer user_data)
{
        g_string_append_printf (user_data, "%s %s %d;", method, template, GPOINTER_TO_INT (data));
}

/* "METHOD template id;" for every route, in atrium_router_foreach () order. */
static char *
route_list (AtriumRouter *r)
{
        GString *seen = g_string_new (NULL);
        atrium_router_foreach (r, collect_route, seen);
        return g_string_free (seen, FALSE);
}

static void
test_duplicate (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        g_autoptr (GError) error = NULL;
        add_ok (r, "GET", "/groups/{id}", 1);
        g_assert_false (atrium_router_add (r, "GET", "/groups/{id}", GINT_TO_POINTER (2), &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT);
        g_assert_nonnull (strstr (error->message, "/groups/{id}"));

        /* The same template under another method is a different route. */
        add_ok (r, "DELETE", "/groups/{id}", 3);

        /* The first registration is untouched and there is no second copy. */
        g_autofree char *list = route_list (r);
        g_assert_cmpstr (list, ==, "GET /groups/{id} 1;DELETE /groups/{id} 3;");
        g_auto (Hit) h = {0};
        ASSERT_MATCH (r, "GET", "/groups/1", 1, &h);
        ASSERT_MATCH (r, "DELETE", "/groups/1", 3, &h);
}

static void
test_bad_templates (void)
{
        const char *bad[] = {
                "",
                "groups",          /* not absolute */
                "/groups/{",       /* unbalanced */
                "/groups/}",
                "/groups/{id",
                "/groups/id}",
                "/groups/{id}}",
                "/groups/{{id}",
                "/groups/{{id}}",
                "/groups/{}",      /* no name */
                "/groups/{*}",
                "/groups/x{id}",   /* a parameter is a whole segment */
                "/groups/{id}x",
                "/groups/{id}{x}",
                "/groups/{id}.",                /* a suffix is a file extension */
                "/groups/{id}.JSON",
                "/groups/{id}.j{s}",
                "/files/{path*}.json",          /* a tail takes no suffix */
                "/groups/{id}/members/{id}",  /* duplicate names */
                "/groups/{id}/{id*}",
                "/files/{path*}/meta",        /* tail not last */
                "/{path*}/",
                "/groups/{Id}",               /* bad names */
                "/groups/{ID}",
                "/groups/{1d}",
                "/groups/{i-d}",
                "/groups/{i d}",
                "/groups/{ id}",
                "/groups/{i.d}",
                "/groups/{é}",
                "/groups/{id**}",
                "/groups/{*id}",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_autoptr (AtriumRouter) r = atrium_router_new ();
                g_autoptr (GError) error = NULL;
                g_test_message ("template: \"%s\"", bad[i]);
                g_assert_false (atrium_router_add (r, "GET", bad[i], GINT_TO_POINTER (1), &error));
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
                g_autofree char *list = route_list (r);
                g_assert_cmpstr (list, ==, "");
        }

        /* A method is required. */
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        g_autoptr (GError) error = NULL;
        g_assert_false (atrium_router_add (r, "", "/groups", NULL, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        g_clear_error (&error);
        g_assert_false (atrium_router_add (r, NULL, "/groups", NULL, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);
        g_clear_error (&error);
        g_assert_false (atrium_router_add (r, "GET", NULL, NULL, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID);

        /* The edges of what is allowed. */
        const char *good[] = {
                "/",
                "/groups/{_id}",
                "/groups/{id2}",
                "/groups/{a_b_c}",
                "/groups/{_}",
                "/files/{rest*}",
                "/{rest*}",
                "/a/{x}/b/{y}/c/{z*}",
                "/groups/", /* a trailing slash is an empty literal segment */
        };
        for (gsize i = 0; i < G_N_ELEMENTS (good); i++) {
                g_test_message ("template: \"%s\"", good[i]);
                add_ok (r, "GET", good[i], (gintptr) i + 1);
        }
}

static gboolean
owned_by (gpointer key, gpointer value, gpointer user_data)
{
        const char *template = key;
        g_assert_nonnull (template);
        g_assert_true (template[0] == '/');
        return value == user_data;
}

static void
test_remove_if (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/core/health", 1);
        add_ok (r, "GET", "/notices", 2);
        add_ok (r, "POST", "/notices", 2);
        add_ok (r, "GET", "/groups/{id}", 3);
        add_ok (r, "GET", "/notices/{id}", 2);
        add_ok (r, "DELETE", "/groups/{id}", 3);

        /* A plugin whose init failed: all of its routes go, in one call, the rest stay in
         * their order. */
        atrium_router_remove_if (r, owned_by, GINT_TO_POINTER (2));
        g_autofree char *list = route_list (r);
        g_assert_cmpstr (list, ==, "GET /core/health 1;GET /groups/{id} 3;DELETE /groups/{id} 3;");

        ASSERT_RESULT (r, "GET", "/notices", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/notices/4", ATRIUM_MATCH_NOT_FOUND);
        g_auto (Hit) h = {0};
        ASSERT_MATCH (r, "GET", "/groups/9", 3, &h);

        /* A removed template can be registered again (by a plugin loaded later). */
        add_ok (r, "GET", "/notices", 4);
        ASSERT_MATCH (r, "GET", "/notices", 4, &h);

        /* Removing nothing and removing everything. */
        atrium_router_remove_if (r, owned_by, GINT_TO_POINTER (99));
        g_autofree char *same = route_list (r);
        g_assert_cmpstr (same, ==,
                         "GET /core/health 1;GET /groups/{id} 3;DELETE /groups/{id} 3;"
                         "GET /notices 4;");
        atrium_router_remove_if (r, owned_by, GINT_TO_POINTER (3));
        atrium_router_remove_if (r, owned_by, GINT_TO_POINTER (1));
        atrium_router_remove_if (r, owned_by, GINT_TO_POINTER (4));
        g_autofree char *none = route_list (r);
        g_assert_cmpstr (none, ==, "");
        ASSERT_RESULT (r, "GET", "/core/health", ATRIUM_MATCH_NOT_FOUND);
}

static void
test_foreach_order (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "POST", "/b", 1);
        add_ok (r, "GET", "/a", 2);
        add_ok (r, "GET", "/b", 3);
        g_autofree char *list = route_list (r);
        g_assert_cmpstr (list, ==, "POST /b 1;GET /a 2;GET /b 3;");
        atrium_router_free (NULL); /* free functions accept NULL */
}

/* Regression (core/pipeline/router.c, atrium_router_match; fixed in 4eb0244). Before the fix: a
 * percent-escape that decodes to bytes that are not UTF-8 ("%FF", a lone "%C3") is handed to the
 * handler as a parameter. Everything downstream (JSON, PostgreSQL text parameters, log lines)
 * assumes UTF-8, so such a path should be BAD_PATH like the other undecodable escapes. */
static void
test_regression_invalid_utf8_param (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/groups/{id}", 1);
        add_ok (r, "GET", "/files/{path*}", 2);
        ASSERT_RESULT (r, "GET", "/groups/%FF", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/groups/caf%C3", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/groups/%C0%AF", ATRIUM_MATCH_BAD_PATH);
        ASSERT_RESULT (r, "GET", "/files/ok/%ED%A0%80", ATRIUM_MATCH_BAD_PATH);
}

/* Regression (core/pipeline/router.c, atrium_router_match; fixed in 4eb0244). Before the fix: the Allow
 * list skips a method that is a substring of one already listed (strstr), so with "UNLOCK" and
 * "LOCK" routes on one template a 405 advertises only "UNLOCK". The router accepts any method
 * token. */
static void
test_regression_allow_substring (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "UNLOCK", "/doc", 1);
        add_ok (r, "LOCK", "/doc", 2);
        g_auto (Hit) h = {0};
        lookup (r, "GET", "/doc", &h);
        g_assert_cmpint (h.result, ==, ATRIUM_MATCH_METHOD_NOT_ALLOWED);
        g_assert_cmpstr (h.allow, ==, "UNLOCK, LOCK");
}

/* "{id}.ics": the parameter is what precedes the extension, and the suffixed template is more
 * specific than the plain one. */
static void
test_suffix (void)
{
        g_autoptr (AtriumRouter) r = atrium_router_new ();
        add_ok (r, "GET", "/calendars/{id}", 1);
        add_ok (r, "GET", "/calendars/{id}.ics", 2);
        add_ok (r, "GET", "/feeds/{token}.ics", 3);
        g_auto (Hit) a = {0};
        lookup (r, "GET", "/calendars/abc.ics", &a);
        g_assert_cmpint (a.result, ==, ATRIUM_MATCH_OK);
        g_assert_cmpint (a.id, ==, 2);
        g_assert_cmpstr (g_hash_table_lookup (a.params, "id"), ==, "abc");
        g_auto (Hit) b = {0};
        lookup (r, "GET", "/calendars/abc", &b);
        g_assert_cmpint (b.id, ==, 1);
        g_assert_cmpstr (g_hash_table_lookup (b.params, "id"), ==, "abc");
        g_auto (Hit) c = {0};
        lookup (r, "GET", "/feeds/t0k%2Den.ics", &c);
        g_assert_cmpint (c.result, ==, ATRIUM_MATCH_OK);
        g_assert_cmpstr (g_hash_table_lookup (c.params, "token"), ==, "t0k-en");
        ASSERT_RESULT (r, "GET", "/feeds/.ics", ATRIUM_MATCH_NOT_FOUND); /* never empty */
        /* nor a dot segment once the extension is cut off ("%2E%2E.ics" is "...ics") */
        ASSERT_RESULT (r, "GET", "/feeds/%2E%2E.ics", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/feeds/...ics", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/feeds/%2e.ics", ATRIUM_MATCH_NOT_FOUND);
        ASSERT_RESULT (r, "GET", "/feeds/abc.ical", ATRIUM_MATCH_NOT_FOUND);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add_func ("/router/literal-beats-param", test_literal_beats_param);
        g_test_add_func ("/router/first-difference-decides", test_first_difference_decides);
        g_test_add_func ("/router/params", test_params);
        g_test_add_func ("/router/tail", test_tail);
        g_test_add_func ("/router/percent-decoding", test_percent_decoding);
        g_test_add_func ("/router/bad-path", test_bad_path);
        g_test_add_func ("/router/method-not-allowed", test_method_not_allowed);
        g_test_add_func ("/router/head", test_head);
        g_test_add_func ("/router/duplicate", test_duplicate);
        g_test_add_func ("/router/bad-templates", test_bad_templates);
        g_test_add_func ("/router/suffix", test_suffix);
        g_test_add_func ("/router/remove-if", test_remove_if);
        g_test_add_func ("/router/foreach-order", test_foreach_order);

        g_test_add_func ("/router/regression/invalid-utf8-param",
                         test_regression_invalid_utf8_param);
        g_test_add_func ("/router/regression/allow-substring", test_regression_allow_substring);

        return g_test_run ();
}
