/* SPDX-License-Identifier: Apache-2.0 */
/* test-misc.c - unit tests of the small rules the rest of the host leans on: semantic-version
 * comparison and validity for plugin descriptors and dependencies
 * (core/plugin-host/plugin-loader.c), and the one table that maps an error to an HTTP status and
 * problem type, with the problem+json body built from it (core/pipeline/problem.c), and a route's
 * request schema made into a tree once, by whichever request needs it first
 * (core/plugin-host/registry.c). Cases under /misc/regression/ pin down defects these tests found,
 * so they stay fixed (see tests/unit/meson.build). */
#include <string.h>

#include <json-glib/json-glib.h>

#include "core-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"
#include "dav-private.h"
#include "identity-private.h"
#include "oidc-private.h"

static int
sign (int v)
{
        return (v > 0) - (v < 0);
}

static void
test_version_compare (void)
{
        const struct {
                const char *a;
                const char *b;
                int want;
        } cases[] = {
                {"1.0.0", "1.0.0", 0},
                {"1.0.0", "1.0.1", -1},
                {"1.0.9", "1.1.0", -1},
                {"1.9.9", "2.0.0", -1},
                {"1.2.0", "1.10.0", -1}, /* numeric, not lexical */
                {"1.10.0", "1.9.99", 1},
                {"10.0.0", "9.0.0", 1},
                {"0.1.0", "0.0.9", 1},
                {"0.0.0", "0.0.1", -1},
                {"1.2", "1.2.0", 0}, /* missing parts are 0 */
                {"1", "1.0.0", 0},
                {"1", "1.0.1", -1},
                {"1.2.3+build.5", "1.2.3", 0}, /* build metadata has no precedence */
                {"1.2.3+a", "1.2.3+b", 0},
                {"4294967296.0.0", "4294967295.0.0", 1}, /* beyond 32 bits */
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_test_message ("%s <=> %s", cases[i].a, cases[i].b);
                g_assert_cmpint (sign (atrium_version_compare (cases[i].a, cases[i].b)), ==,
                                 cases[i].want);
                g_assert_cmpint (sign (atrium_version_compare (cases[i].b, cases[i].a)), ==,
                                 -cases[i].want);
        }
}

static void
test_version_valid (void)
{
        const char *good[] = {
                "0.0.0", "1.2.3", "10.20.30", "1.2.3-rc.1", "1.2.3-alpha", "1.2.3+build.7",
                "1.2.3-beta+exp.sha.5114f85", "2024.9.1",
        };
        const char *bad[] = {
                "", "1", "1.2", "1.2.3.4", "v1.2.3", "1.2.3-", "1.2.3+", "1.2.x", " 1.2.3",
                "1.2.3 ", "1..3", "-1.2.3", "1.2.3-rc 1", "1.2.3-é", "a.b.c", ".1.2.3",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (good); i++) {
                g_test_message ("version: \"%s\"", good[i]);
                g_assert_true (atrium_version_valid (good[i]));
        }
        for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
                g_test_message ("version: \"%s\"", bad[i]);
                g_assert_false (atrium_version_valid (bad[i]));
        }
        g_assert_false (atrium_version_valid (NULL));
}

static const struct {
        AtriumErrorCode code;
        guint status;
        const char *type;
} error_table[] = {
        {ATRIUM_ERROR_INVALID, 400, "invalid-request"},
        {ATRIUM_ERROR_UNAUTHENTICATED, 401, "unauthenticated"},
        {ATRIUM_ERROR_FORBIDDEN, 403, "forbidden"},
        {ATRIUM_ERROR_NOT_FOUND, 404, "not-found"},
        {ATRIUM_ERROR_CONFLICT, 409, "conflict"},
        {ATRIUM_ERROR_PRECONDITION_FAILED, 412, "precondition-failed"},
        {ATRIUM_ERROR_TOO_LARGE, 413, "payload-too-large"},
        {ATRIUM_ERROR_UNSUPPORTED_MEDIA, 415, "unsupported-media-type"},
        {ATRIUM_ERROR_UNPROCESSABLE, 422, "unprocessable"},
        {ATRIUM_ERROR_RATE_LIMITED, 429, "rate-limited"},
        {ATRIUM_ERROR_INTERNAL, 500, "internal"},
        {ATRIUM_ERROR_BAD_GATEWAY, 502, "bad-gateway"},
        {ATRIUM_ERROR_UNAVAILABLE, 503, "unavailable"},
        {ATRIUM_ERROR_INSUFFICIENT_STORAGE, 507, "insufficient-storage"},
        {ATRIUM_ERROR_METHOD_NOT_ALLOWED, 405, "method-not-allowed"},
        {ATRIUM_ERROR_RANGE_NOT_SATISFIABLE, 416, "range-not-satisfiable"},
        {ATRIUM_ERROR_LOCKED, 423, "locked"},
};

static void
test_error_status (void)
{
        /* The table above is the documented one (host.h, docs/REST.md); it must cover every
         * code, 1 .. the last, so a new code cannot be added without a row here. */
        g_assert_cmpuint (G_N_ELEMENTS (error_table), ==, ATRIUM_ERROR_LOCKED);
        for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++) {
                g_autoptr (GError) e = g_error_new (ATRIUM_ERROR, error_table[i].code, "x");
                g_test_message ("code %d", error_table[i].code);
                g_assert_cmpuint (atrium_error_status (e), ==, error_table[i].status);
                g_assert_cmpstr (atrium_error_type (e), ==, error_table[i].type);
                for (gsize j = 0; j < i; j++)
                        g_assert_cmpuint (error_table[j].code, !=, error_table[i].code);
        }
}

static void
test_error_foreign (void)
{
        /* Anything the table does not know is a 500, never a made-up 4xx: a libpq, GIO or
         * json-glib error reaching the REST layer is the host's fault. */
        g_autoptr (GError) io = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
        g_assert_cmpuint (atrium_error_status (io), ==, 500);
        g_assert_cmpstr (atrium_error_type (io), ==, "internal");

        g_autoptr (GError) json = g_error_new (JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "x");
        g_assert_cmpuint (atrium_error_status (json), ==, 500);
        g_assert_cmpstr (atrium_error_type (json), ==, "internal");

        /* Same code numbers, other domain. */
        g_autoptr (GError) other = g_error_new (g_quark_from_static_string ("plugin-quark"),
                                                ATRIUM_ERROR_NOT_FOUND, "x");
        g_assert_cmpuint (atrium_error_status (other), ==, 500);
        g_assert_cmpstr (atrium_error_type (other), ==, "internal");

        /* Codes outside the enum. */
        const int odd[] = {0, -1, ATRIUM_ERROR_LOCKED + 1, 999};
        for (gsize i = 0; i < G_N_ELEMENTS (odd); i++) {
                g_autoptr (GError) e = g_error_new (ATRIUM_ERROR, odd[i], "x");
                g_assert_cmpuint (atrium_error_status (e), ==, 500);
                g_assert_cmpstr (atrium_error_type (e), ==, "internal");
        }

        /* The newest code (ABI 1.2) has its status. */
        g_autoptr (GError) range = g_error_new (ATRIUM_ERROR, ATRIUM_ERROR_RANGE_NOT_SATISFIABLE,
                                                "x");
        g_assert_cmpuint (atrium_error_status (range), ==, 416);
        g_assert_cmpstr (atrium_error_type (range), ==, "range-not-satisfiable");

        g_assert_cmpuint (atrium_error_status (NULL), ==, 500);
        g_assert_cmpstr (atrium_error_type (NULL), ==, "internal");
}

static JsonObject *
parse_problem (GBytes *body, JsonParser *parser)
{
        gsize len;
        const char *data = g_bytes_get_data (body, &len);
        g_assert_true (g_utf8_validate_len (data, len, NULL));
        g_autoptr (GError) error = NULL;
        g_assert_true (json_parser_load_from_data (parser, data, (gssize) len, &error));
        g_assert_no_error (error);
        JsonNode *root = json_parser_get_root (parser);
        g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
        return json_node_get_object (root);
}

static void
test_problem_body (void)
{
        g_autoptr (GBytes) body = atrium_problem_body (404, "not-found", "no such group",
                                                       "/api/v1/schools/s1/groups/7");
        g_autoptr (JsonParser) p = json_parser_new ();
        JsonObject *o = parse_problem (body, p);
        g_assert_cmpstr (json_object_get_string_member (o, "type"), ==,
                         "https://atrium.dev/problems/not-found");
        g_assert_cmpstr (json_object_get_string_member (o, "title"), ==, "Not Found");
        g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 404);
        g_assert_cmpstr (json_object_get_string_member (o, "detail"), ==, "no such group");
        g_assert_cmpstr (json_object_get_string_member (o, "instance"), ==,
                         "/api/v1/schools/s1/groups/7");
        g_assert_cmpuint (json_object_get_size (o), ==, 5);

        /* detail and instance are optional and then absent, not null. */
        g_autoptr (GBytes) bare = atrium_problem_body (500, "internal", NULL, NULL);
        g_autoptr (JsonParser) p2 = json_parser_new ();
        JsonObject *b = parse_problem (bare, p2);
        g_assert_cmpuint (json_object_get_size (b), ==, 3);
        g_assert_false (json_object_has_member (b, "detail"));
        g_assert_false (json_object_has_member (b, "instance"));
        g_assert_cmpstr (json_object_get_string_member (b, "title"), ==, "Internal Server Error");
        g_assert_cmpint (json_object_get_int_member (b, "status"), ==, 500);

        /* A detail carrying client input is escaped, not spliced. */
        const char *nasty = "\"}, \"status\": 200, \"x\": \"\n\\ caf\xc3\xa9 <script>";
        g_autoptr (GBytes) esc = atrium_problem_body (400, "invalid-request", nasty, NULL);
        g_autoptr (JsonParser) p3 = json_parser_new ();
        JsonObject *e = parse_problem (esc, p3);
        g_assert_cmpstr (json_object_get_string_member (e, "detail"), ==, nasty);
        g_assert_cmpint (json_object_get_int_member (e, "status"), ==, 400);
        g_assert_cmpuint (json_object_get_size (e), ==, 4);
}

static void
test_problem_body_per_code (void)
{
        /* Every row of the table produces a well-formed body with a real reason phrase. */
        for (gsize i = 0; i < G_N_ELEMENTS (error_table); i++) {
                g_autoptr (GError) err = g_error_new (ATRIUM_ERROR, error_table[i].code, "d");
                g_autoptr (GBytes) body = atrium_problem_body (atrium_error_status (err),
                                                               atrium_error_type (err),
                                                               err->message, NULL);
                g_autoptr (JsonParser) p = json_parser_new ();
                JsonObject *o = parse_problem (body, p);
                g_autofree char *uri = g_strconcat ("https://atrium.dev/problems/",
                                                    error_table[i].type, NULL);
                g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, uri);
                g_assert_cmpint (json_object_get_int_member (o, "status"), ==,
                                 error_table[i].status);
                const char *title = json_object_get_string_member (o, "title");
                g_test_message ("status %u: %s", error_table[i].status, title);
                g_assert_nonnull (title);
                g_assert_cmpstr (title, !=, "");
                g_assert_cmpstr (title, !=, "Unknown Error");
                g_assert_cmpstr (json_object_get_string_member (o, "detail"), ==, "d");
        }
}

static void
test_problem_type_uri (void)
{
        g_autofree char *uri = atrium_problem_type_uri ("conflict");
        g_assert_cmpstr (uri, ==, "https://atrium.dev/problems/conflict");
}

/* Regression (core/plugin-host/plugin-loader.c, atrium_version_compare; fixed in 4eb0244). Before the fix:
 * pre-release tags are ignored, so "1.2.3-rc.1" compares equal to "1.2.3" (SemVer 2.0.0 section
 * 11: a pre-release is lower), and a plugin needing >= 1.2.3 is satisfied by a release candidate
 * of it. */
static void
test_regression_version_prerelease (void)
{
        g_assert_cmpint (sign (atrium_version_compare ("1.2.3-rc.1", "1.2.3")), ==, -1);
        g_assert_cmpint (sign (atrium_version_compare ("1.2.3", "1.2.3-rc.1")), ==, 1);
        g_assert_cmpint (sign (atrium_version_compare ("1.0.0-alpha", "1.0.0-beta")), ==, -1);
}

/* Regression (core/plugin-host/plugin-loader.c, atrium_version_valid and name_valid; fixed in 4eb0244). Before
 * the fix: PCRE's '$' also matches before a final newline, so "1.2.3\n" is a valid version. The
 * same pattern shape in name_valid () lets a plugin be called "notices\n", and that name becomes a
 * route prefix, an environment variable and a database schema name. Use "\\z" or
 * G_REGEX_DOLLAR_ENDONLY. */
static void
test_regression_version_newline (void)
{
        g_assert_false (atrium_version_valid ("1.2.3\n"));
        g_assert_false (atrium_version_valid ("1.2.3-rc.1\n"));
}

/* libsoup 3.2 has no reason phrase for 429: the title must not come from it alone (it used to
 * say "Unknown Error" on every rate-limited answer). */
static void
test_problem_rate_limited_title (void)
{
        g_autoptr (GError) err = g_error_new (ATRIUM_ERROR, ATRIUM_ERROR_RATE_LIMITED, "slow down");
        g_autoptr (GBytes) body = atrium_problem_body (atrium_error_status (err),
                                                       atrium_error_type (err), err->message,
                                                       NULL);
        g_autoptr (JsonParser) p = json_parser_new ();
        JsonObject *o = parse_problem (body, p);
        g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 429);
        g_assert_cmpstr (json_object_get_string_member (o, "title"), ==, "Too Many Requests");
}

/* helpers.h: base64url as tokens, cursors and JWT parts use it (RFC 4648 section 5 vectors). */
static void
test_base64url (void)
{
        static const struct {
                const char *raw, *encoded;
        } vectors[] = {
                {"", ""},         {"f", "Zg"},         {"fo", "Zm8"},           {"foo", "Zm9v"},
                {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
                {"\xfb\xff\xbf", "-_-_"}, /* the two characters base64url changes */
        };
        for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++) {
                gsize n = strlen (vectors[i].raw);
                g_autofree char *e = atrium_base64url_encode ((const guchar *) vectors[i].raw, n);
                g_assert_cmpstr (e, ==, vectors[i].encoded);
                gsize len = 99;
                g_autofree guchar *d = atrium_base64url_decode (e, strlen (e), &len);
                g_assert_nonnull (d);
                g_assert_cmpmem (d, len, vectors[i].raw, n);
        }
        gsize len;
        /* Padding is accepted, standard base64's characters and stray bytes are not, and a
         * length no encoding produces is refused. */
        g_autofree guchar *padded = atrium_base64url_decode ("Zm8=", 4, &len);
        g_assert_cmpmem (padded, len, "fo", 2);
        g_assert_null (atrium_base64url_decode ("+/+/", 4, &len));
        g_assert_null (atrium_base64url_decode ("Zm9v\n", 5, &len));
        g_assert_null (atrium_base64url_decode ("Zm9vY", 5, &len));
        g_assert_null (atrium_base64url_decode ("Zm 9", 4, &len));
}

/* A route keeps its request schema as text; the first body that needs it makes the tree
 * (core/plugin-host/registry.c). Threads racing for it all get the one tree that won, which
 * validates as the schema says; a route without a schema has none. */
#define RACERS 8

static gpointer
race_for_tree (gpointer data)
{
        return atrium_route_request_schema (data);
}

static void
test_route_request_schema_once (void)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) compiled = atrium_schema_compile (
                "{\"type\": \"object\", \"properties\": {\"title\": {\"type\": \"string\", "
                "\"maxLength\": 5}}, \"required\": [\"title\"]}",
                &error);
        g_assert_no_error (error);
        AtriumRouteEntry e = {.request_schema = json_to_string (compiled, FALSE)};
        /* The text is the compiled schema: closed to unknown fields. */
        g_assert_nonnull (strstr (e.request_schema, "\"additionalProperties\":false"));
        GThread *threads[RACERS];
        for (int i = 0; i < RACERS; i++)
                threads[i] = g_thread_new ("racer", race_for_tree, &e);
        JsonNode *first = g_thread_join (threads[0]);
        g_assert_nonnull (first);
        for (int i = 1; i < RACERS; i++)
                g_assert_true (g_thread_join (threads[i]) == first);
        g_assert_true (atrium_route_request_schema (&e) == first);

        g_autoptr (JsonNode) ok = json_from_string ("{\"title\": \"Maths\"}", NULL);
        g_autoptr (JsonNode) too_long = json_from_string ("{\"title\": \"History\"}", NULL);
        g_autoptr (JsonNode) unknown = json_from_string ("{\"title\": \"Art\", \"x\": 1}", NULL);
        g_assert_true (atrium_schema_validate (first, ok, &error));
        g_assert_no_error (error);
        g_assert_false (atrium_schema_validate (first, too_long, &error));
        g_clear_error (&error);
        g_assert_false (atrium_schema_validate (first, unknown, &error));
        g_clear_error (&error);

        AtriumRouteEntry none = {0};
        g_assert_null (atrium_route_request_schema (&none));
        json_node_unref (e.request_tree);
        g_free (e.request_schema);
}

/* core/dav/dav-xml.c writes multistatus bodies as text: elements in DAV: with the prefix D,
 * others with their namespace declared on them (an empty one undeclares the default), empty
 * elements closed at once, text and namespace names escaped, stored XML as it is, and every
 * element still open closed at the end. */
static void
test_dav_writer (void)
{
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "response");
        atrium_dav_write_href (&w, "/dav/a%20b/");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "prop");
        atrium_dav_write_empty (&w, ATRIUM_DAV_NS, "resourcetype");
        atrium_dav_write_text (&w, "urn:x&\"y", "note", "a & b <c> \"q\"\r\n\tz");
        atrium_dav_write_text (&w, "", "bare", "");
        atrium_dav_write_text (&w, ATRIUM_DAV_NS, "none", NULL);
        atrium_dav_write_raw (&w, "<Z:dead xmlns:Z=\"urn:z\">kept</Z:dead>");
        atrium_dav_write_endel (&w);
        atrium_dav_write_status (&w, 404);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
        g_assert_cmpstr (
                text, ==,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/dav/a%20b/</D:href>"
                "<D:prop><D:resourcetype/>"
                "<note xmlns=\"urn:x&amp;&quot;y\">a &amp; b &lt;c&gt; &quot;q&quot;&#13;\n\tz</note>"
                "<bare xmlns=\"\"></bare><D:none/><Z:dead xmlns:Z=\"urn:z\">kept</Z:dead></D:prop>"
                "<D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>\n");
        /* Given up half-way: nothing left behind (ASan). */
        AtriumDavWriter half = {0};
        atrium_dav_writer_begin_root (&half, "error");
        atrium_dav_write_start (&half, ATRIUM_DAV_NS, "lock-token-submitted");
        atrium_dav_writer_clear (&half);
        atrium_dav_writer_clear (&half);
}

/* DAV dates in English and UTC whatever the locale, for any time the four-digit year holds. */
static void
test_dav_dates (void)
{
        static const struct {
                gint64 t;
                const char *http, *iso;
        } cases[] = {
                {784111777, "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
                {0, "Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
                {951782400, "Tue, 29 Feb 2000 00:00:00 GMT", "2000-02-29T00:00:00Z"},
                {1796601599, "Sun, 06 Dec 2026 23:59:59 GMT", "2026-12-06T23:59:59Z"},
                {1796601600, "Mon, 07 Dec 2026 00:00:00 GMT", "2026-12-07T00:00:00Z"},
                {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z"},
                {-1, "Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z"},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_autofree char *http = atrium_dav_http_date (cases[i].t);
                g_autofree char *iso = atrium_dav_iso_date (cases[i].t);
                g_assert_cmpstr (http, ==, cases[i].http);
                g_assert_cmpstr (iso, ==, cases[i].iso);
                gint64 back = 0;
                g_assert_true (atrium_dav_parse_http_date (http, &back));
                g_assert_cmpint (back, ==, cases[i].t);
        }
        /* Past the year 9999: the epoch, not five digits. */
        g_autofree char *far = atrium_dav_http_date (253402300800);
        g_assert_cmpstr (far, ==, "Thu, 01 Jan 1970 00:00:00 GMT");
        g_autofree char *far_iso = atrium_dav_iso_date (G_MAXINT64 / 2);
        g_assert_cmpstr (far_iso, ==, "1970-01-01T00:00:00Z");
}

/* identity/verify-cache.c: a success is remembered under its scope, stored hash and secret;
 * a failure never is, and another scope, hash or secret misses. */
static void
test_verify_cache (void)
{
        atrium_password_cost_set (64, 1); /* a token cost: this tests the cache, not Argon2id */
        g_autofree char *phc = atrium_password_hash ("correct horse");
        g_autofree char *other = atrium_password_hash ("correct horse"); /* another salt */
        g_autofree char *right = atrium_verify_cache_key ("link-1", phc, "correct horse");
        g_autofree char *wrong = atrium_verify_cache_key ("link-1", phc, "wrong horse");
        g_assert_false (atrium_verify_cache_hit (right));

        g_assert_false (atrium_password_verify_cached ("link-1", phc, "wrong horse"));
        g_assert_false (atrium_verify_cache_hit (wrong));
        g_assert_true (atrium_password_verify_cached ("link-1", phc, "correct horse"));
        g_assert_true (atrium_verify_cache_hit (right));
        g_assert_true (atrium_password_verify_cached ("link-1", phc, "correct horse"));

        g_autofree char *scope = atrium_verify_cache_key ("link-2", phc, "correct horse");
        g_autofree char *rehashed = atrium_verify_cache_key ("link-1", other, "correct horse");
        g_assert_false (atrium_verify_cache_hit (scope));
        g_assert_false (atrium_verify_cache_hit (rehashed));
        g_assert_cmpstr (right, !=, wrong);
        /* The lengths go into the HMAC: parts that run together differently differ. */
        g_autofree char *a = atrium_verify_cache_key ("ab", "c", "d");
        g_autofree char *b = atrium_verify_cache_key ("a", "bc", "d");
        g_assert_cmpstr (a, !=, b);
}

/* identity/verify-cache.c: a success is forgotten ATRIUM_VERIFY_CACHE_TTL after it was
 * stored (a revoked app token or a changed password is then verified again at the latest),
 * and the cache never holds more than ATRIUM_VERIFY_CACHE_MAX entries: expired ones go
 * first, and when none has expired, all. */
static void
test_verify_cache_expiry_and_bound (void)
{
        gint64 t = g_get_monotonic_time () + G_USEC_PER_SEC;
        char *key = atrium_verify_cache_key ("user-1", "$argon2id$stored", "app token");
        g_autofree char *probe = g_strdup (key);
        atrium_verify_cache_store_at (key, t);
        g_assert_true (atrium_verify_cache_hit_at (probe, t));
        g_assert_true (atrium_verify_cache_hit_at (probe, t + ATRIUM_VERIFY_CACHE_TTL - 1));
        g_assert_false (atrium_verify_cache_hit_at (probe, t + ATRIUM_VERIFY_CACHE_TTL));
        /* An expired entry that was looked up is gone, also for an earlier clock. */
        g_assert_false (atrium_verify_cache_hit_at (probe, t));

        /* Full, with entries that have all expired by the next store: they make room. */
        for (guint i = atrium_verify_cache_size (); i < ATRIUM_VERIFY_CACHE_MAX; i++)
                atrium_verify_cache_store_at (g_strdup_printf ("old-%u", i), t);
        g_assert_cmpuint (atrium_verify_cache_size (), ==, ATRIUM_VERIFY_CACHE_MAX);
        gint64 later = t + ATRIUM_VERIFY_CACHE_TTL;
        atrium_verify_cache_store_at (g_strdup ("fresh"), later);
        g_assert_cmpuint (atrium_verify_cache_size (), ==, 1);
        g_assert_true (atrium_verify_cache_hit_at ("fresh", later + 1));

        /* Full of entries still valid: all go, the new one stays. */
        for (guint i = atrium_verify_cache_size (); i < ATRIUM_VERIFY_CACHE_MAX; i++)
                atrium_verify_cache_store_at (g_strdup_printf ("live-%u", i), later);
        g_assert_cmpuint (atrium_verify_cache_size (), ==, ATRIUM_VERIFY_CACHE_MAX);
        atrium_verify_cache_store_at (g_strdup ("newest"), later);
        g_assert_cmpuint (atrium_verify_cache_size (), ==, 1);
        g_assert_true (atrium_verify_cache_hit_at ("newest", later));
        g_assert_false (atrium_verify_cache_hit_at ("fresh", later));
}

static char *
canon_of (gcry_sexp_t s, size_t *out_len)
{
        size_t len = gcry_sexp_sprint (s, GCRYSEXP_FMT_CANON, NULL, 0);
        char *buf = g_malloc (len);
        *out_len = gcry_sexp_sprint (s, GCRYSEXP_FMT_CANON, buf, len);
        return buf;
}

static gboolean
all_ascii (const char *text)
{
        for (const guchar *p = (const guchar *) text; *p; p++)
                if (*p >= 0x80)
                        return FALSE;
        return TRUE;
}

/* oidc/keys.c: a key pair is stored as text PostgreSQL takes (UTF-8) whatever its bytes.
 * libgcrypt's advanced form printed a value of bytes it deems printable (0xa1-0xff among
 * them) as a quoted string of raw bytes: a P-256 `d` like that now and then made the host's
 * start fail on CI ("invalid byte sequence for encoding UTF8: 0xb3"). */
static void
test_oidc_key_text (void)
{
        static const char d[] = "A\xb3\xc4\xd5\xe6\xf7\xa1\xff\xb3Q";
        gcry_sexp_t key = NULL;
        g_assert_cmpint (gcry_sexp_build (&key, NULL,
                                          "(private-key (ecc (curve \"NIST P-256\") (d %b)))",
                                          (int) strlen (d), d),
                         ==, 0);
        /* The old form really is not ASCII for this key. */
        size_t alen = gcry_sexp_sprint (key, GCRYSEXP_FMT_ADVANCED, NULL, 0);
        g_autofree char *advanced = g_malloc0 (alen + 1);
        gcry_sexp_sprint (key, GCRYSEXP_FMT_ADVANCED, advanced, alen);
        g_assert_false (all_ascii (advanced));

        g_autofree char *text = atrium_oidc_key_text (key);
        g_assert_nonnull (text);
        g_assert_true (all_ascii (text));
        g_assert_true (g_utf8_validate (text, -1, NULL));
        gcry_sexp_t back = NULL;
        g_assert_cmpint (atrium_oidc_key_parse (text, &back), ==, 0);
        size_t n1, n2;
        g_autofree char *c1 = canon_of (key, &n1);
        g_autofree char *c2 = canon_of (back, &n2);
        g_assert_cmpmem (c1, n1, c2, n2);
        gcry_sexp_release (back);

        /* Keys stored in the advanced form before still load (one of hex values here). */
        gcry_sexp_t old = NULL;
        g_assert_cmpint (atrium_oidc_key_parse (
                                 "(private-key (ecc (curve \"NIST P-256\") (d #0102#)))", &old),
                         ==, 0);
        gcry_sexp_t old_d = gcry_sexp_find_token (old, "d", 0);
        g_assert_nonnull (old_d);
        gcry_sexp_release (old_d);
        gcry_sexp_release (old);
        gcry_sexp_t bad = NULL;
        g_assert_cmpint (atrium_oidc_key_parse ("not base64 at all!", &bad), !=, 0);
        g_assert_null (bad);
        gcry_sexp_release (key);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);

        g_test_add_func ("/misc/version/compare", test_version_compare);
        g_test_add_func ("/misc/base64url", test_base64url);
        g_test_add_func ("/misc/route/request-schema-once", test_route_request_schema_once);
        g_test_add_func ("/misc/dav/writer", test_dav_writer);
        g_test_add_func ("/misc/dav/dates", test_dav_dates);
        g_test_add_func ("/misc/verify-cache", test_verify_cache);
        g_test_add_func ("/misc/verify-cache/expiry-and-bound", test_verify_cache_expiry_and_bound);
        g_test_add_func ("/misc/oidc/key-text", test_oidc_key_text);
        g_test_add_func ("/misc/version/valid", test_version_valid);
        g_test_add_func ("/misc/error/status", test_error_status);
        g_test_add_func ("/misc/error/foreign", test_error_foreign);
        g_test_add_func ("/misc/problem/body", test_problem_body);
        g_test_add_func ("/misc/problem/body-per-code", test_problem_body_per_code);
        g_test_add_func ("/misc/problem/type-uri", test_problem_type_uri);
        g_test_add_func ("/misc/problem/rate-limited-title", test_problem_rate_limited_title);

        g_test_add_func ("/misc/regression/version-prerelease", test_regression_version_prerelease);
        g_test_add_func ("/misc/regression/version-newline", test_regression_version_newline);

        return g_test_run ();
}
