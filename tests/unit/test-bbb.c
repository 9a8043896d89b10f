/* SPDX-License-Identifier: Apache-2.0 */
/* test-bbb.c - unit tests of the conference plugin's BigBlueButton client
 * (plugins/conference/bbb.c) and answer parser (bbb-xml.c):
 *
 *   - the parser on answers as BigBlueButton sends them (create, duplicateWarning,
 *     checksumError, end's notFound, getMeetingInfo) and on what it must refuse (not XML,
 *     another root, no returncode, any DOCTYPE: internal entities, external DTDs, the
 *     billion laughs; more than 64 KiB), with the out-parameter untouched on refusal;
 *   - checksums, derived passwords and signed join URLs against vectors computed
 *     independently (Python's hashlib, hmac and urllib.parse.quote; the commands are next to
 *     each vector), the SHA-1 one being the example of BigBlueButton's API reference;
 *   - create and end against a small BigBlueButton stand-in: a SoupServer on 127.0.0.1 in a
 *     thread of this process, which checks each checksum with GLib's own SHA-256 (not
 *     libgcrypt) over the raw query string, and answers as told: normally, FAILED with a given
 *     messageKey, garbage, HTTP 404 or 500, 503 a few times then normally, or not at all. The
 *     retry, timeout and 502/503 rules are checked there, and that no error message carries
 *     the secret or a signed URL. (Loopback only; the port is the kernel's choice.)
 *
 * bbb.c is compiled in (tests/unit/meson.build); it needs conf_host, conf_groups, conf_self and
 * conf_settings, which conference.c defines in the plugin and this file defines as empty (bbb.c
 * logs nothing without a host). tests/fuzz/fuzz-bbb-xml.c throws random bytes at the parser;
 * tests/integration/bbb_double.py is the stand-in the integration tests use. */
#include <string.h>

#include <gcrypt.h>
#include <libsoup/soup.h>

#include "conference-private.h"

const AtriumHost *conf_host;
const AtriumGroupsService *conf_groups;
AtriumPlugin *conf_self;
ConfSettings conf_settings;

/* The example secret of BigBlueButton's API reference ("API Security Model"). */
#define SECRET "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
#define MEETING "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define USER "7c9e6679-7425-40de-944b-e07fc1f90ae7"

static ConfBackend backend = {
        .type = CONF_BACKEND_BBB,
        .url = (char *) "https://bbb.example.org/bigbluebutton/api",
        .secret = (char *) SECRET,
};

/* ---- the parser ---- */

static gboolean
parse (const char *xml, ConfBbbAnswer *out)
{
        return conf_bbb_parse_answer (xml, strlen (xml), out);
}

static void
test_xml_answers (void)
{
        /* create, as in the API reference (trimmed), with a leading XML declaration. */
        ConfBbbAnswer a = {0};
        g_assert_true (parse ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"
                              "  <returncode>SUCCESS</returncode>\n"
                              "  <meetingID>Test</meetingID>\n"
                              "  <internalMeetingID>640ab2bae07bedc4c163f679a746f7ab7fb5d1fa-"
                              "1531155809613</internalMeetingID>\n"
                              "  <parentMeetingID>bbb-none</parentMeetingID>\n"
                              "  <attendeePW>ap</attendeePW>\n  <moderatorPW>mp</moderatorPW>\n"
                              "  <createTime>1531155809613</createTime>\n"
                              "  <voiceBridge>70757</voiceBridge>\n"
                              "  <hasUserJoined>false</hasUserJoined>\n"
                              "  <duration>0</duration>\n"
                              "  <hasBeenForciblyEnded>false</hasBeenForciblyEnded>\n"
                              "  <messageKey></messageKey>\n  <message></message>\n"
                              "</response>\n",
                              &a));
        g_assert_true (a.success);
        g_assert_cmpstr (a.return_code, ==, "SUCCESS");
        g_assert_cmpstr (a.meeting_id, ==, "Test");
        g_assert_null (a.message_key); /* empty elements read as absent */
        g_assert_null (a.message);
        conf_bbb_answer_clear (&a);

        g_assert_true (parse ("<response><returncode>SUCCESS</returncode>"
                              "<meetingID>" MEETING "</meetingID>"
                              "<messageKey>duplicateWarning</messageKey>"
                              "<message>This conference was already in existence and may "
                              "currently be in progress.</message></response>",
                              &a));
        g_assert_true (a.success);
        g_assert_cmpstr (a.message_key, ==, "duplicateWarning");
        g_assert_cmpstr (a.meeting_id, ==, MEETING);
        g_assert_true (g_str_has_prefix (a.message, "This conference was already"));
        conf_bbb_answer_clear (&a);

        /* FAILED, with the whitespace BigBlueButton's pretty-printer puts around values. */
        g_assert_true (parse ("<response>\n<returncode>\n  FAILED\n</returncode>\n"
                              "<messageKey> checksumError </messageKey>\n"
                              "<message>You did not pass the checksum security check</message>\n"
                              "</response>",
                              &a));
        g_assert_false (a.success);
        g_assert_cmpstr (a.return_code, ==, "FAILED");
        g_assert_cmpstr (a.message_key, ==, "checksumError");
        g_assert_cmpstr (a.message, ==, "You did not pass the checksum security check");
        g_assert_null (a.meeting_id);
        conf_bbb_answer_clear (&a);

        g_assert_true (parse ("<response><returncode>FAILED</returncode>"
                              "<messageKey>notFound</messageKey><message>We could not find a "
                              "meeting with that meeting ID - perhaps the meeting is not yet "
                              "running?</message></response>",
                              &a));
        g_assert_false (a.success);
        g_assert_cmpstr (a.message_key, ==, "notFound");
        conf_bbb_answer_clear (&a);

        /* getMeetingInfo: nested elements, metadata, attendees; only the top level counts. */
        g_assert_true (parse ("<response><returncode>SUCCESS</returncode>"
                              "<meetingName>Maths 7b</meetingName>"
                              "<meetingID>" MEETING "</meetingID>"
                              "<running>true</running><participantCount>2</participantCount>"
                              "<attendees><attendee><userID>" USER "</userID>"
                              "<fullName>Zoë</fullName><role>MODERATOR</role>"
                              "<meetingID>not this one</meetingID></attendee></attendees>"
                              "<metadata><endcallbackurl>https://atrium.example.org/cb"
                              "</endcallbackurl></metadata></response>",
                              &a));
        g_assert_true (a.success);
        g_assert_cmpstr (a.meeting_id, ==, MEETING);
        conf_bbb_answer_clear (&a);

        /* Predefined entities, character references, CDATA, another encoding: all decoded. */
        g_assert_true (parse ("<response><returncode><![CDATA[FAILED]]></returncode>"
                              "<messageKey>x&amp;y</messageKey>"
                              "<message>&lt;b&gt; &#233;t&#xE9;</message></response>",
                              &a));
        g_assert_cmpstr (a.return_code, ==, "FAILED");
        g_assert_cmpstr (a.message_key, ==, "x&y");
        g_assert_cmpstr (a.message, ==, "<b> été");
        conf_bbb_answer_clear (&a);
        g_assert_true (parse ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><response>"
                              "<returncode>SUCCESS</returncode><message>caf\xe9</message>"
                              "</response>",
                              &a));
        g_assert_cmpstr (a.message, ==, "café");
        conf_bbb_answer_clear (&a);

        /* Only "SUCCESS" is success. */
        g_assert_true (parse ("<response><returncode>success</returncode></response>", &a));
        g_assert_false (a.success);
        conf_bbb_answer_clear (&a);
        /* The first of a repeated element counts. */
        g_assert_true (parse ("<response><returncode>FAILED</returncode>"
                              "<returncode>SUCCESS</returncode></response>",
                              &a));
        g_assert_false (a.success);
        conf_bbb_answer_clear (&a);
}

static void
refuse (const char *xml, gsize len)
{
        ConfBbbAnswer a = {.success = 7, .return_code = (char *) "untouched"};
        if (conf_bbb_parse_answer (xml, len, &a))
                g_error ("accepted: %.200s", xml);
        g_assert_cmpint (a.success, ==, 7);
        g_assert_cmpstr (a.return_code, ==, "untouched");
}

static void
test_xml_refused (void)
{
        static const char *const cases[] = {
                "",
                "   ",
                "SUCCESS",
                "<html><body>502 Bad Gateway</body></html>",
                "<response>",
                "<response><returncode>SUCCESS</returncode>",
                "<response><returncode>SUCCESS</returncode></response><response/>",
                "<response></response>",
                "<response><messageKey>x</messageKey></response>",
                "<response><returncode>  </returncode></response>",
                "<response><returncode><x>SUCCESS</x></returncode></response>",
                "<answer><returncode>SUCCESS</returncode></answer>",
                "<bbb:response xmlns:bbb=\"urn:x\"><returncode>SUCCESS</returncode>"
                "</bbb:response>",
                "<response xmlns=\"urn:x\"><returncode>SUCCESS</returncode></response>",
                "{\"response\":{\"returncode\":\"SUCCESS\"}}",
                "<response><returncode>&nbsp;SUCCESS</returncode></response>",
                /* Any DOCTYPE: entities defined inside, external DTDs and entities. */
                "<!DOCTYPE response><response><returncode>SUCCESS</returncode></response>",
                "<!DOCTYPE response [<!ENTITY ok \"SUCCESS\">]>"
                "<response><returncode>&ok;</returncode></response>",
                "<!DOCTYPE response SYSTEM \"http://127.0.0.1:1/x.dtd\">"
                "<response><returncode>SUCCESS</returncode></response>",
                "<!DOCTYPE response [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                "<response><returncode>SUCCESS</returncode><message>&x;</message></response>",
                "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
                "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">"
                "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;\">]>"
                "<response><returncode>SUCCESS</returncode><message>&f;&f;&f;</message>"
                "</response>",
                "<response><returncode>SUCCESS</returncode><message>&undefined;</message>"
                "</response>",
                "<?xml version=\"1.0\" encoding=\"x-unknown\"?><response><returncode>SUCCESS"
                "</returncode></response>",
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
                refuse (cases[i], strlen (cases[i]));
        /* NULL and a NUL inside the answer. */
        refuse (NULL, 0);
        static const char nul[] = "<response><returncode>SUC\0CESS</returncode></response>";
        refuse (nul, sizeof nul - 1);

        /* Over 64 KiB, even when well-formed; exactly 64 KiB is read. */
        const char *head = "<response><returncode>SUCCESS</returncode><message>";
        const char *tail = "</message></response>";
        gsize limit = 64 * 1024;
        GString *big = g_string_new (head);
        while (big->len < limit - strlen (tail))
                g_string_append_c (big, 'x');
        g_string_append (big, tail);
        g_assert_cmpuint (big->len, ==, limit);
        ConfBbbAnswer a = {0};
        g_assert_true (conf_bbb_parse_answer (big->str, big->len, &a));
        conf_bbb_answer_clear (&a);
        g_string_insert_c (big, strlen (head), 'x');
        refuse (big->str, big->len);
        g_string_free (big, TRUE);
}

/* ---- checksums, passwords, join URLs ---- */

static void
test_checksum (void)
{
        /* The worked example of BigBlueButton's API reference ("API Security Model"):
         *   python3 -c 'import hashlib; print(hashlib.sha1(b"createname=Test+Meeting&meetingID=
         *   abc123&attendeePW=111222&moderatorPW=333444639259d4-9dd8-4b25-bf01-95f9567eaf4b")
         *   .hexdigest())'  (one line; and hashlib.sha256 for the second) */
        const char *query = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&"
                            "moderatorPW=333444";
        ConfBackend b = backend;
        b.sha1 = TRUE;
        g_autofree char *sha1 = conf_bbb_checksum (&b, "create", query);
        g_assert_cmpstr (sha1, ==, "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17");
        b.sha1 = FALSE;
        g_autofree char *sha256 = conf_bbb_checksum (&b, "create", query);
        g_assert_cmpstr (sha256, ==,
                         "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e");
        g_autofree char *other = conf_bbb_checksum (&b, "end", query);
        g_assert_cmpstr (other, !=, sha256);
}

static void
test_password (void)
{
        /* python3 -c 'import hmac,hashlib; print(hmac.new(b"<SECRET>", b"moderator:<MEETING>",
         *   hashlib.sha256).hexdigest()[:32])'   (and b"attendee:<MEETING>") */
        g_autofree char *mod = conf_bbb_password (&backend, MEETING, TRUE);
        g_autofree char *att = conf_bbb_password (&backend, MEETING, FALSE);
        g_assert_cmpstr (mod, ==, "9e4c367a776398ae1274f4dc30a743bf");
        g_assert_cmpstr (att, ==, "28f685b9900fd4d98190b6afe6ee8705");
        /* Another secret or another meeting: another password. */
        ConfBackend b = backend;
        b.secret = (char *) "another secret";
        g_autofree char *mod2 = conf_bbb_password (&b, MEETING, TRUE);
        g_autofree char *mod3 = conf_bbb_password (&backend, USER, TRUE);
        g_assert_cmpstr (mod2, !=, mod);
        g_assert_cmpstr (mod3, !=, mod);
}

static void
test_join_url (void)
{
        /* python3:
         *   from urllib.parse import quote; import hashlib
         *   q = "&".join(f"{k}={quote(v, safe='')}" for k, v in [("fullName", "Zoë O'Neil & Co"),
         *       ("meetingID", MEETING), ("role", "VIEWER"), ("password", <attendee password>),
         *       ("userID", USER), ("redirect", "true"), ("guest", "true")])
         *   hashlib.sha256(("join" + q + SECRET).encode()).hexdigest()   (and sha1) */
        const char *base = "https://bbb.example.org/bigbluebutton/api/join?"
                           "fullName=Zo%C3%AB%20O%27Neil%20%26%20Co&meetingID=" MEETING
                           "&role=VIEWER&password=28f685b9900fd4d98190b6afe6ee8705&userID=" USER
                           "&redirect=true&guest=true&checksum=";
        g_autofree char *url = conf_bbb_join_url (&backend, MEETING, "Zoë O'Neil & Co", USER,
                                                  FALSE, TRUE);
        g_autofree char *want = g_strconcat (
                base, "bf569349709f5f3791df6284dbd60c7bb5a4c9d2ffee0aebff71bfb4272ccd18", NULL);
        g_assert_cmpstr (url, ==, want);

        ConfBackend b = backend;
        b.sha1 = TRUE;
        g_autofree char *url1 = conf_bbb_join_url (&b, MEETING, "Zoë O'Neil & Co", USER, FALSE,
                                                   TRUE);
        g_autofree char *want1 =
                g_strconcat (base, "08456b0efe6c70bf47680c1b55031e68bca72adb", NULL);
        g_assert_cmpstr (url1, ==, want1);

        /* A moderator who is not a guest: the moderator password, no guest parameter; control
         * characters in the name become spaces, blanks at the ends go. */
        g_autofree char *m = conf_bbb_join_url (&backend, MEETING, " Ann\tLee\n", USER, TRUE,
                                                FALSE);
        g_assert_nonnull (strstr (m, "?fullName=Ann%20Lee&"));
        g_assert_nonnull (strstr (m, "&role=MODERATOR&password=9e4c367a776398ae1274f4dc30a743bf&"));
        g_assert_null (strstr (m, "guest="));
        /* The checksum covers exactly what precedes it. */
        const char *q = strchr (m, '?') + 1;
        const char *c = strstr (m, "&checksum=");
        g_autofree char *query = g_strndup (q, c - q);
        g_autofree char *sum = conf_bbb_checksum (&backend, "join", query);
        g_assert_cmpstr (c + strlen ("&checksum="), ==, sum);
}

/* ---- a BigBlueButton stand-in ---- */

typedef enum {
        FAKE_NORMAL,   /* keeps meetings: create twice is duplicateWarning, end unknown notFound */
        FAKE_FAILED,   /* FAILED with fake.key */
        FAKE_GARBAGE,  /* 200, not XML */
        FAKE_HTTP404,
        FAKE_HTTP500,
        FAKE_FLAKY,    /* 503 for the first fake.flaky calls, then normal */
        FAKE_SILENT,   /* never answers */
} FakeMode;

static struct {
        GMutex lock;
        GMainContext *context;
        GMainLoop *loop;
        SoupServer *server;
        guint port;
        GThread *thread;
        GCond ready;
        /* set by the tests, read by the handler */
        FakeMode mode;
        const char *key;
        guint flaky;
        /* written by the handler */
        guint hits;
        char *last_call;
        GHashTable *last_params; /* decoded */
        GHashTable *meetings;    /* meetingID -> moderatorPW */
        gboolean bad_checksum;
} fake;

static void
fake_answer (SoupServerMessage *msg, guint status, const char *body)
{
        soup_server_message_set_status (msg, status, NULL);
        soup_server_message_set_response (msg, "text/xml;charset=utf-8", SOUP_MEMORY_COPY, body,
                                          strlen (body));
}

static void
fake_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
        g_mutex_lock (&fake.lock);
        fake.hits++;
        const char *call = strrchr (path, '/') + 1;
        g_free (fake.last_call);
        fake.last_call = g_strdup (call);
        /* The raw query, as BigBlueButton's ApiController reads it (SoupServer keeps it
         * encoded). */
        const char *raw = g_uri_get_query (soup_server_message_get_uri (msg));
        raw = raw ? raw : "";
        g_clear_pointer (&fake.last_params, g_hash_table_unref);
        fake.last_params = g_uri_parse_params (raw, -1, "&", G_URI_PARAMS_NONE, NULL);
        const char *sum = strstr (raw, "&checksum=");
        g_autofree char *unsigned_query = sum ? g_strndup (raw, sum - raw) : g_strdup (raw);
        g_autofree char *data_to_sign = g_strconcat (call, unsigned_query, SECRET, NULL);
        g_autofree char *want = g_compute_checksum_for_string (G_CHECKSUM_SHA256, data_to_sign, -1);
        gboolean checksum_ok = sum && g_str_equal (sum + strlen ("&checksum="), want);
        fake.bad_checksum |= !checksum_ok;

        FakeMode mode = fake.mode;
        if (mode == FAKE_FLAKY && fake.flaky > 0) {
                fake.flaky--;
                g_mutex_unlock (&fake.lock);
                fake_answer (msg, 503, "<html>Service Unavailable</html>");
                return;
        }
        const char *meeting = fake.last_params ? g_hash_table_lookup (fake.last_params,
                                                                      "meetingID")
                                               : NULL;
        g_autofree char *body = NULL;
        guint status = 200;
        switch (mode) {
        case FAKE_NORMAL:
        case FAKE_FLAKY:
                if (!checksum_ok) {
                        body = g_strdup ("<response><returncode>FAILED</returncode><messageKey>"
                                         "checksumError</messageKey><message>You did not pass "
                                         "the checksum security check</message></response>");
                } else if (g_str_equal (call, "create") && meeting) {
                        gboolean known = g_hash_table_contains (fake.meetings, meeting);
                        if (!known)
                                g_hash_table_insert (
                                        fake.meetings, g_strdup (meeting),
                                        g_strdup (g_hash_table_lookup (fake.last_params,
                                                                       "moderatorPW")));
                        body = g_strdup_printf (
                                "<response>\n<returncode>SUCCESS</returncode>\n<meetingID>%s"
                                "</meetingID>\n%s</response>\n",
                                meeting,
                                known ? "<messageKey>duplicateWarning</messageKey><message>This "
                                        "conference was already in existence and may currently "
                                        "be in progress.</message>\n"
                                      : "");
                } else if (g_str_equal (call, "end") && meeting &&
                           g_hash_table_remove (fake.meetings, meeting)) {
                        body = g_strdup ("<response><returncode>SUCCESS</returncode><messageKey>"
                                         "sentEndMeetingRequest</messageKey></response>");
                } else {
                        body = g_strdup ("<response><returncode>FAILED</returncode><messageKey>"
                                         "notFound</messageKey><message>We could not find a "
                                         "meeting with that meeting ID</message></response>");
                }
                break;
        case FAKE_FAILED:
                body = g_strdup_printf ("<response><returncode>FAILED</returncode><messageKey>%s"
                                        "</messageKey><message>said\nthe\tserver</message>"
                                        "</response>",
                                        fake.key);
                break;
        case FAKE_GARBAGE:
                body = g_strdup ("{\"returncode\": \"SUCCESS\"}");
                break;
        case FAKE_HTTP404:
                status = 404;
                body = g_strdup ("<html>Not Found</html>");
                break;
        case FAKE_HTTP500:
                status = 500;
                body = g_strdup ("<html>Internal Server Error</html>");
                break;
        case FAKE_SILENT:
                /* Never unpaused: the client's timeout has to end it. */
                soup_server_message_pause (msg);
                g_mutex_unlock (&fake.lock);
                return;
        }
        g_mutex_unlock (&fake.lock);
        fake_answer (msg, status, body);
}

static gpointer
fake_thread (gpointer data)
{
        g_main_context_push_thread_default (fake.context);
        fake.server = soup_server_new (NULL, NULL);
        soup_server_add_handler (fake.server, "/bigbluebutton/api", fake_handler, NULL, NULL);
        g_autoptr (GError) error = NULL;
        g_assert_true (soup_server_listen_local (fake.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
                                                 &error));
        g_assert_no_error (error);
        GSList *uris = soup_server_get_uris (fake.server);
        g_mutex_lock (&fake.lock);
        fake.port = g_uri_get_port (uris->data);
        g_cond_signal (&fake.ready);
        g_mutex_unlock (&fake.lock);
        g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
        g_main_loop_run (fake.loop);
        soup_server_disconnect (fake.server);
        g_clear_object (&fake.server);
        g_main_context_pop_thread_default (fake.context);
        return NULL;
}

static void
fake_start (void)
{
        fake.context = g_main_context_new ();
        fake.loop = g_main_loop_new (fake.context, FALSE);
        fake.meetings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        g_mutex_lock (&fake.lock);
        fake.thread = g_thread_new ("fake-bbb", fake_thread, NULL);
        while (!fake.port)
                g_cond_wait (&fake.ready, &fake.lock);
        g_mutex_unlock (&fake.lock);
}

static gboolean
quit_loop (gpointer data)
{
        g_main_loop_quit (fake.loop);
        return G_SOURCE_REMOVE;
}

static void
fake_stop (void)
{
        g_main_context_invoke (fake.context, quit_loop, NULL);
        g_thread_join (fake.thread);
        g_main_loop_unref (fake.loop);
        g_main_context_unref (fake.context);
        g_clear_pointer (&fake.meetings, g_hash_table_unref);
        g_clear_pointer (&fake.last_params, g_hash_table_unref);
        g_clear_pointer (&fake.last_call, g_free);
}

/* Sets the stand-in's mode and clears its counters. */
static void
fake_set (FakeMode mode, const char *key, guint flaky)
{
        g_mutex_lock (&fake.lock);
        fake.mode = mode;
        fake.key = key;
        fake.flaky = flaky;
        fake.hits = 0;
        fake.bad_checksum = FALSE;
        g_mutex_unlock (&fake.lock);
}

static guint
fake_hits (void)
{
        g_mutex_lock (&fake.lock);
        guint n = fake.hits;
        g_mutex_unlock (&fake.lock);
        return n;
}

/* The decoded parameter @name of the last call (transfer full, nullable). */
static char *
fake_param (const char *name)
{
        g_mutex_lock (&fake.lock);
        char *v = fake.last_params ? g_strdup (g_hash_table_lookup (fake.last_params, name))
                                   : NULL;
        g_mutex_unlock (&fake.lock);
        return v;
}

static ConfBackend *
fake_backend (guint port)
{
        ConfBackend *b = g_new0 (ConfBackend, 1);
        b->type = CONF_BACKEND_BBB;
        b->url = g_strdup_printf ("http://127.0.0.1:%u/bigbluebutton/api", port);
        b->secret = g_strdup (SECRET);
        return b;
}

static void
free_backend (ConfBackend *b)
{
        g_free (b->url);
        g_free (b->secret);
        g_free (b);
}

/* An error of @code that names BigBlueButton and holds neither the secret nor a signed URL. */
static void
assert_clean_error (GError *error, AtriumErrorCode code, const char *needle)
{
        g_assert_error (error, ATRIUM_ERROR, (gint) code);
        g_test_message ("error: %s", error->message);
        g_assert_nonnull (strstr (error->message, "BigBlueButton"));
        g_assert_null (strstr (error->message, SECRET));
        g_assert_null (strstr (error->message, "checksum="));
        g_assert_null (strstr (error->message, "127.0.0.1"));
        if (needle)
                g_assert_nonnull (strstr (error->message, needle));
}

static void
test_client_create (void)
{
        ConfBackend *b = fake_backend (fake.port);
        conf_bbb_init (2, 2, 0);
        fake_set (FAKE_NORMAL, NULL, 0);
        /* A name with control characters and 70 characters, one of them outside the BMP (two
         * UTF-16 units): cut to 64 units at a character boundary. */
        GString *name = g_string_new ("\tMaths ");
        for (int i = 0; i < 60; i++)
                g_string_append_c (name, 'a');
        g_string_append (name, "\xf0\x9f\x98\x80xyz"); /* U+1F600 */
        ConfBbbMeeting m = {.meeting_id = MEETING, .name = name->str, .max_participants = 30,
                            .lobby = TRUE,
                            .end_callback_url = "https://atrium.example.org/api/v1/schools/north/"
                                                "conference/callbacks/bbb-end/x?sig=a+b/c"};
        g_autoptr (GError) error = NULL;
        g_assert_true (conf_bbb_create (b, &m, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake_hits (), ==, 1);
        g_assert_false (fake.bad_checksum);
        g_assert_cmpstr (fake.last_call, ==, "create");
        g_autofree char *sent_name = fake_param ("name");
        g_autofree char *want_name = g_strndup (name->str + 1, 6 + 58); /* "Maths " + 58 a */
        g_assert_cmpstr (sent_name, ==, want_name);
        g_autofree char *mid = fake_param ("meetingID");
        g_autofree char *apw = fake_param ("attendeePW");
        g_autofree char *mpw = fake_param ("moderatorPW");
        g_autofree char *rec = fake_param ("record");
        g_autofree char *max = fake_param ("maxParticipants");
        g_autofree char *policy = fake_param ("guestPolicy");
        g_autofree char *cb = fake_param ("meta_endCallbackUrl");
        g_assert_cmpstr (mid, ==, MEETING);
        g_assert_cmpstr (apw, ==, "28f685b9900fd4d98190b6afe6ee8705");
        g_assert_cmpstr (mpw, ==, "9e4c367a776398ae1274f4dc30a743bf");
        g_assert_cmpstr (rec, ==, "false");
        g_assert_cmpstr (max, ==, "30");
        g_assert_cmpstr (policy, ==, "ASK_MODERATOR");
        g_assert_cmpstr (cb, ==, m.end_callback_url);

        /* Again: duplicateWarning is success. Without limit, lobby or callback. */
        fake_set (FAKE_NORMAL, NULL, 0);
        ConfBbbMeeting m2 = {.meeting_id = MEETING, .name = "x"};
        g_assert_true (conf_bbb_create (b, &m2, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake_hits (), ==, 1);
        g_autofree char *name2 = fake_param ("name");
        g_autofree char *max2 = fake_param ("maxParticipants");
        g_autofree char *policy2 = fake_param ("guestPolicy");
        g_autofree char *cb2 = fake_param ("meta_endCallbackUrl");
        g_assert_cmpstr (name2, ==, MEETING); /* too short for BigBlueButton: the id */
        g_assert_null (max2);
        g_assert_cmpstr (policy2, ==, "ALWAYS_ACCEPT");
        g_assert_null (cb2);

        /* end, then end again: notFound counts as ended. */
        fake_set (FAKE_NORMAL, NULL, 0);
        g_assert_true (conf_bbb_end (b, MEETING, &error));
        g_assert_no_error (error);
        g_autofree char *end_pw = fake_param ("password");
        g_assert_cmpstr (end_pw, ==, "9e4c367a776398ae1274f4dc30a743bf");
        g_assert_true (conf_bbb_end (b, MEETING, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake_hits (), ==, 2);
        g_assert_false (fake.bad_checksum);

        /* The wrong secret: BigBlueButton's checksumError is a 502 with a hint. */
        fake_set (FAKE_NORMAL, NULL, 0);
        g_free (b->secret);
        b->secret = g_strdup ("not the secret");
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_BAD_GATEWAY, "checksumError");
        g_assert_cmpuint (fake_hits (), ==, 1); /* an answer is not retried */
        g_string_free (name, TRUE);
        free_backend (b);
        conf_bbb_fini ();
}

static void
test_client_refusals (void)
{
        ConfBackend *b = fake_backend (fake.port);
        conf_bbb_init (2, 2, 0);
        ConfBbbMeeting m = {.meeting_id = MEETING, .name = "Maths"};
        g_autoptr (GError) error = NULL;

        /* idNotUnique: the meeting runs with other passwords; ours would not work. */
        fake_set (FAKE_FAILED, "idNotUnique", 0);
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_BAD_GATEWAY, "idNotUnique");
        /* The remote message comes along without its control characters. */
        g_assert_nonnull (strstr (error->message, "(said the server)"));
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 1);

        fake_set (FAKE_FAILED, "invalidPassword", 0);
        g_assert_false (conf_bbb_end (b, MEETING, &error));
        assert_clean_error (error, ATRIUM_ERROR_BAD_GATEWAY, "invalidPassword");
        g_clear_error (&error);

        fake_set (FAKE_GARBAGE, NULL, 0);
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_BAD_GATEWAY, "not a BigBlueButton API answer");
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 1);

        fake_set (FAKE_HTTP404, NULL, 0);
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_BAD_GATEWAY, "HTTP 404");
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 1);

        /* A URL libsoup cannot use. */
        ConfBackend bad = *b;
        bad.url = (char *) "ftp://127.0.0.1/bigbluebutton/api";
        g_assert_false (conf_bbb_create (&bad, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "URL");
        g_clear_error (&error);
        free_backend (b);
        conf_bbb_fini ();
}

static void
test_client_retries (void)
{
        ConfBackend *b = fake_backend (fake.port);
        ConfBbbMeeting m = {.meeting_id = MEETING, .name = "Maths"};
        g_autoptr (GError) error = NULL;

        /* 5xx every time: 1 + 2 attempts, then 503. */
        conf_bbb_init (2, 2, 0);
        fake_set (FAKE_HTTP500, NULL, 0);
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "HTTP 500");
        g_assert_nonnull (strstr (error->message, "3 attempts"));
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 3);

        /* 503 twice, then an answer: success on the third attempt. */
        fake_set (FAKE_FLAKY, NULL, 2);
        g_assert_true (conf_bbb_create (b, &m, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake_hits (), ==, 3);
        g_assert_false (fake.bad_checksum);
        /* Three times, with only one retry allowed: 503. */
        conf_bbb_init (2, 1, 0);
        fake_set (FAKE_FLAKY, NULL, 3);
        g_assert_false (conf_bbb_end (b, MEETING, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "HTTP 503");
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 2);

        /* No answer within the timeout (1 s, no retry). */
        conf_bbb_init (1, 0, 0);
        fake_set (FAKE_SILENT, NULL, 0);
        gint64 t0 = g_get_monotonic_time ();
        g_assert_false (conf_bbb_create (b, &m, &error));
        gint64 took = g_get_monotonic_time () - t0;
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "timed out");
        g_assert_nonnull (strstr (error->message, "1 attempt "));
        g_clear_error (&error);
        g_assert_cmpint (took, <, 10 * G_USEC_PER_SEC); /* bounded, not a timing assertion */

        /* Nobody listening: connection refused, retried, 503. */
        conf_bbb_init (1, 2, 0);
        g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, NULL);
        g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
        g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
        g_assert_true (g_socket_bind (s, any, FALSE, NULL));
        g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, NULL);
        ConfBackend *down =
                fake_backend (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
        g_socket_close (s, NULL); /* bound, never listening: refused */
        g_assert_false (conf_bbb_end (down, MEETING, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "connection refused");
        g_assert_nonnull (strstr (error->message, "3 attempts"));
        g_clear_error (&error);
        free_backend (down);
        free_backend (b);
        conf_bbb_fini ();

        /* Not initialised: an internal error, not a crash. */
        ConfBackend *c = fake_backend (fake.port);
        g_assert_false (conf_bbb_create (c, &m, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL);
        free_backend (c);
}

/* The breaker: after a call gave up without an answer, calls to that server fail at once
 * (nothing is sent) until the cooldown passes; an answer closes it again. */
static void
test_client_breaker (void)
{
        g_autoptr (GError) error = NULL;
        ConfBackend *b = fake_backend (fake.port);
        ConfBbbMeeting m = {.meeting_id = MEETING, .name = "Physik 9c"};
        conf_bbb_init (2, 0, 60);
        fake_set (FAKE_FLAKY, NULL, 1);
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "HTTP 503");
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 1);
        /* The server would answer now, but the breaker is open: no call is made. */
        g_assert_false (conf_bbb_create (b, &m, &error));
        assert_clean_error (error, ATRIUM_ERROR_UNAVAILABLE, "a moment ago");
        g_clear_error (&error);
        g_assert_false (conf_bbb_end (b, MEETING, &error));
        g_assert_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE);
        g_clear_error (&error);
        g_assert_cmpuint (fake_hits (), ==, 1);
        /* Another server is not affected. */
        ConfBackend *other = fake_backend (fake.port);
        g_free (other->url);
        other->url = g_strdup_printf ("http://localhost:%u/bigbluebutton/api", fake.port);
        g_assert_true (conf_bbb_create (other, &m, &error));
        g_assert_no_error (error);
        free_backend (other);
        /* A new configuration starts closed; with 0 the breaker never opens. */
        conf_bbb_init (2, 0, 0);
        fake_set (FAKE_FLAKY, NULL, 1);
        g_assert_false (conf_bbb_create (b, &m, &error));
        g_clear_error (&error);
        g_assert_true (conf_bbb_create (b, &m, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (fake_hits (), ==, 2);
        free_backend (b);
        conf_bbb_fini ();
}

/* Worker threads share the one session (libsoup 3.2's rule: send from any thread). */
static gpointer
create_many (gpointer data)
{
        ConfBackend *b = data;
        for (int i = 0; i < 10; i++) {
                g_autofree char *id = g_uuid_string_random ();
                ConfBbbMeeting m = {.meeting_id = id, .name = "Parallel"};
                g_autoptr (GError) error = NULL;
                if (!conf_bbb_create (b, &m, &error) || !conf_bbb_create (b, &m, &error) ||
                    !conf_bbb_end (b, id, &error))
                        return g_strdup (error->message);
        }
        return NULL;
}

static void
test_client_threads (void)
{
        ConfBackend *b = fake_backend (fake.port);
        conf_bbb_init (5, 0, 0);
        fake_set (FAKE_NORMAL, NULL, 0);
        GThread *threads[8];
        for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
                threads[i] = g_thread_new ("worker", create_many, b);
        for (guint i = 0; i < G_N_ELEMENTS (threads); i++) {
                g_autofree char *failure = g_thread_join (threads[i]);
                g_assert_null (failure);
        }
        g_assert_cmpuint (fake_hits (), ==, G_N_ELEMENTS (threads) * 10 * 3);
        g_assert_false (fake.bad_checksum);
        free_backend (b);
        conf_bbb_fini ();
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        /* The stand-in is on 127.0.0.1: no proxy from the environment in between. */
        g_setenv ("no_proxy", "127.0.0.1,localhost", TRUE);
        g_setenv ("NO_PROXY", "127.0.0.1,localhost", TRUE);
        if (!gcry_check_version ("1.10.0"))
                g_error ("libgcrypt is too old");
        gcry_control (GCRYCTL_INITIALIZATION_FINISHED, 0);
        g_test_add_func ("/bbb/xml/answers", test_xml_answers);
        g_test_add_func ("/bbb/xml/refused", test_xml_refused);
        g_test_add_func ("/bbb/checksum", test_checksum);
        g_test_add_func ("/bbb/password", test_password);
        g_test_add_func ("/bbb/join-url", test_join_url);
        g_test_add_func ("/bbb/client/create-end", test_client_create);
        g_test_add_func ("/bbb/client/refusals", test_client_refusals);
        g_test_add_func ("/bbb/client/retries", test_client_retries);
        g_test_add_func ("/bbb/client/breaker", test_client_breaker);
        g_test_add_func ("/bbb/client/threads", test_client_threads);
        fake_start ();
        int status = g_test_run ();
        fake_stop ();
        return status;
}
