/* SPDX-License-Identifier: Apache-2.0 */
/* bbb.c - the conference plugin's BigBlueButton API client: checksums, the derived meeting
 * passwords, create, the signed join URL and end. join.c calls it from worker threads while a
 * request waits; bbb-xml.c reads the answers.
 *
 * BigBlueButton's API is GET <api>/<call>?<query>&checksum=<hex>, the checksum being
 * SHA-256 (or SHA-1) of call name, query string and shared secret. The server recomputes it
 * over the raw query string it received, so whatever we hash is byte for byte what we send:
 * every value is percent-encoded here (everything but RFC 3986's unreserved characters, UTF-8,
 * a space as %20) and the checksum is the last parameter.
 *
 * One SoupSession serves every worker thread. libsoup 3.2 allows sending messages from any
 * thread as long as the session is configured once, in the thread that created it, before the
 * first request, and only the send API is used concurrently ("Client thread safety" in
 * libsoup's reference): conf_bbb_init runs in the plugin's init on the main thread, workers
 * only call soup_session_send(), and conf_bbb_fini runs after the workers stopped.
 *
 * Errors (the host maps them to statuses): no answer after the retries, or 5xx each time,
 * is ATRIUM_ERROR_UNAVAILABLE (503); an answer that is not a SUCCESS, not XML or not 2xx is
 * ATRIUM_ERROR_BAD_GATEWAY (502). Messages name BigBlueButton and the call, never the secret or
 * a signed URL; what the remote server says is clipped and stripped of control characters
 * before it reaches a message. */
#include <string.h>

#include <gcrypt.h>
#include <libsoup/soup.h>

#include "atrium/crypto.h"

#include "conference-private.h"

/* BigBlueButton's answers to create and end are well under 2 KiB (bbb-xml.c parses 64 KiB). */
#define BBB_BODY_MAX (64 * 1024)
/* Backoff before the 2nd, 3rd, ... attempt; the last value repeats. */
static const guint backoff_ms[] = {100, 300, 900};
/* Room names: BigBlueButton 2.4 wants 2 to 64 characters (Java's, i.e. UTF-16 units). */
#define BBB_NAME_MIN 2
#define BBB_NAME_MAX 64
/* How much of a remote message may go into an error. */
#define BBB_REMOTE_TEXT_MAX 200

static SoupSession *session;
static guint max_retries;
static guint timeout_s;

/* The breaker: after a call to a BigBlueButton gave up without an answer, further calls to it
 * fail at once for cooldown_s seconds instead of each holding a worker (and its database
 * connection) for the whole timeout-and-retry cycle; at 08:00 that is the difference between
 * one slow server and a host with every worker waiting. Keyed by the API URL, shared by the
 * worker threads. 0 disables it. */
static guint cooldown_s;
static GMutex breaker_lock;
static GHashTable *down_until; /* API URL -> gint64 monotonic microseconds */

static gint64
breaker_open_for (const char *url)
{
        g_mutex_lock (&breaker_lock);
        gint64 until = down_until ? GPOINTER_TO_SIZE (g_hash_table_lookup (down_until, url)) : 0;
        g_mutex_unlock (&breaker_lock);
        gint64 left = until - g_get_monotonic_time ();
        return left > 0 ? left : 0;
}

static void
breaker_record (const char *url, gboolean answered)
{
        if (!cooldown_s)
                return;
        g_mutex_lock (&breaker_lock);
        if (answered)
                g_hash_table_remove (down_until, url);
        else
                g_hash_table_insert (down_until, g_strdup (url),
                                     GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () +
                                                                cooldown_s * G_USEC_PER_SEC)));
        g_mutex_unlock (&breaker_lock);
}

void
conf_bbb_init (guint timeout_seconds, guint retries, guint cooldown_seconds)
{
        conf_bbb_fini ();
        timeout_s = timeout_seconds;
        max_retries = retries;
        cooldown_s = cooldown_seconds;
        down_until = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        /* libsoup's default of 2 connections per host would queue a burst of joins behind two
         * slow calls, and time spent queued counts against no timeout. */
        session = soup_session_new_with_options ("timeout", timeout_seconds, "idle-timeout",
                                                 timeout_seconds, "user-agent",
                                                 "atrium-conference", "max-conns", 64,
                                                 "max-conns-per-host", 16, NULL);
}

void
conf_bbb_fini (void)
{
        g_clear_pointer (&down_until, g_hash_table_unref);
        if (!session)
                return;
        soup_session_abort (session);
        g_clear_object (&session);
}

static void
log_warning (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
log_warning (const char *fmt, ...)
{
        if (!conf_host) /* the unit test links this file without a host */
                return;
        va_list ap;
        va_start (ap, fmt);
        g_autofree char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        conf_host->log (conf_self, G_LOG_LEVEL_WARNING, msg);
}

char *
conf_bbb_checksum (const ConfBackend *b, const char *call, const char *query)
{
        g_return_val_if_fail (b && b->secret && call && query, NULL);
        /* BigBlueButton's checksum is a plain digest of call + query + secret, not an HMAC. */
        int algo = b->sha1 ? GCRY_MD_SHA1 : GCRY_MD_SHA256;
        g_autofree char *data = g_strconcat (call, query, b->secret, NULL);
        char *out = atrium_digest_hex (algo, data, strlen (data));
        /* The hashed text holds the secret. */
        memset (data, 0, strlen (data));
        return out;
}

char *
conf_bbb_password (const ConfBackend *b, const char *meeting_id, gboolean moderator)
{
        g_return_val_if_fail (b && b->secret && *b->secret && meeting_id, NULL);
        g_autofree char *msg =
                g_strconcat (moderator ? "moderator:" : "attendee:", meeting_id, NULL);
        guchar mac[32];
        gboolean ok = atrium_hmac_sha256 (b->secret, strlen (b->secret), msg, strlen (msg), mac);
        /* Only a broken libgcrypt fails here (the algorithm is fixed). */
        g_assert (ok);
        return atrium_hex (mac, 16);
}

/* ---- query strings ---- */

static void
add_param (GString *q, const char *key, const char *value)
{
        g_autofree char *v = g_uri_escape_string (value, NULL, FALSE);
        if (q->len)
                g_string_append_c (q, '&');
        g_string_append_printf (q, "%s=%s", key, v);
}

/* "<api url>/<call>?<query>&checksum=<hex>" (transfer full) */
static char *
signed_url (const ConfBackend *b, const char *call, const char *query)
{
        g_autofree char *sum = conf_bbb_checksum (b, call, query);
        return g_strdup_printf ("%s/%s?%s&checksum=%s", b->url, call, query, sum);
}

/* @s without control characters (BigBlueButton refuses 0x00-0x1F in strings) and without
 * blanks at either end. (transfer full) */
static char *
clean_text (const char *s)
{
        char *out = g_utf8_make_valid (s, -1);
        for (char *p = out; *p; p++)
                if ((guchar) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        return g_strstrip (out);
}

/* The meeting's name as BigBlueButton takes it: cleaned, cut to BBB_NAME_MAX UTF-16 units at a
 * character boundary; a name shorter than BBB_NAME_MIN becomes the meeting id (the name only
 * shows in BigBlueButton's window title and recordings list). (transfer full) */
static char *
meeting_name (const char *name, const char *meeting_id)
{
        char *out = clean_text (name ? name : "");
        guint units = 0;
        for (char *p = out; *p; p = g_utf8_next_char (p)) {
                guint w = g_utf8_get_char (p) > 0xffff ? 2 : 1;
                if (units + w > BBB_NAME_MAX) {
                        *p = '\0';
                        break;
                }
                units += w;
        }
        g_strchomp (out);
        if (g_utf8_strlen (out, -1) < BBB_NAME_MIN) {
                g_free (out);
                out = g_strdup (meeting_id);
        }
        return out;
}

/* What a remote server said, fit for an error message: cleaned and clipped. (transfer full) */
static char *
remote_text (const char *s)
{
        if (!s)
                return g_strdup ("");
        g_autofree char *clean = clean_text (s);
        if (g_utf8_strlen (clean, -1) <= BBB_REMOTE_TEXT_MAX)
                return g_steal_pointer (&clean);
        g_autofree char *cut = g_utf8_substring (clean, 0, BBB_REMOTE_TEXT_MAX);
        return g_strconcat (cut, "…", NULL);
}

/* A transport error in words for the client (no host names, no URL). */
static const char *
transport_reason (const GError *e)
{
        if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                return "timed out";
        if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
                return "connection refused";
        if (e->domain == G_RESOLVER_ERROR)
                return "host name not found";
        if (e->domain == G_TLS_ERROR)
                return "TLS failure";
        if (e->domain == G_IO_ERROR)
                return "connection failed";
        return "transport error";
}

/* libsoup's own words for the log, unless they somehow carry the secret or a signed URL. */
static const char *
loggable (const ConfBackend *b, const char *text)
{
        if (strstr (text, "checksum=") || (b->secret[0] && strstr (text, b->secret)))
                return "(detail withheld: it held a signed URL)";
        return text;
}

/* ---- calls ---- */

typedef enum {
        ATTEMPT_ANSWER,    /* 2xx with a body: parse it */
        ATTEMPT_TRANSIENT, /* no answer, or 5xx: try again */
        ATTEMPT_FATAL,     /* an answer we will not retry (3xx, 4xx, too large) */
        ATTEMPT_BAD_URL,   /* the backend's URL is not an http(s) URL */
} AttemptResult;

static AttemptResult
attempt (const ConfBackend *b, const char *url, GBytes **out_body, guint *out_status,
         char **out_detail)
{
        g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
        if (!msg)
                return ATTEMPT_BAD_URL;
        /* BigBlueButton's API does not redirect; following one would hand the signed URL to
         * wherever it points. */
        soup_message_set_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
        g_autoptr (GError) error = NULL;
        g_autoptr (GInputStream) in = soup_session_send (session, msg, NULL, &error);
        if (!in) {
                *out_detail = g_strdup_printf ("%s: %s", transport_reason (error),
                                               loggable (b, error->message));
                return ATTEMPT_TRANSIENT;
        }
        guint status = soup_message_get_status (msg);
        *out_status = status;
        if (status >= 500) {
                *out_detail = g_strdup_printf ("HTTP %u", status);
                return ATTEMPT_TRANSIENT;
        }
        if (status < 200 || status >= 300) {
                *out_detail = g_strdup_printf ("HTTP %u", status);
                return ATTEMPT_FATAL;
        }
        guchar *buf = g_malloc (BBB_BODY_MAX + 1);
        gsize n = 0;
        gboolean read_ok = g_input_stream_read_all (in, buf, BBB_BODY_MAX + 1, &n, NULL, &error);
        g_input_stream_close (in, NULL, NULL);
        if (!read_ok) {
                g_free (buf);
                *out_detail = g_strdup_printf ("%s while reading the answer: %s",
                                               transport_reason (error),
                                               loggable (b, error->message));
                return ATTEMPT_TRANSIENT;
        }
        if (n > BBB_BODY_MAX) {
                g_free (buf);
                *out_detail = g_strdup_printf ("an answer larger than %d KiB", BBB_BODY_MAX / 1024);
                return ATTEMPT_FATAL;
        }
        *out_body = g_bytes_new_take (buf, n);
        return ATTEMPT_ANSWER;
}

/* Makes the call @call with @query, retrying as conf_bbb_init said, and parses the answer into
 * @out. FALSE with @error set when there is no usable answer: UNAVAILABLE when none came,
 * BAD_GATEWAY when one came that is not a BigBlueButton answer. A FAILED answer is TRUE here
 * (out->success FALSE): what it means depends on the call. */
static gboolean
call_api (const ConfBackend *b, const char *call, const char *query, ConfBbbAnswer *out,
          GError **error)
{
        if (!session)
                return conf_fail (error, ATRIUM_ERROR_INTERNAL,
                                  "the BigBlueButton client is not initialised");
        g_autoptr (GUri) base = g_uri_parse (b->url, G_URI_FLAGS_NONE, NULL);
        const char *scheme = base ? g_uri_get_scheme (base) : NULL;
        if (!scheme || (g_ascii_strcasecmp (scheme, "http") != 0 &&
                        g_ascii_strcasecmp (scheme, "https") != 0) ||
            !g_uri_get_host (base) || !*g_uri_get_host (base))
                return conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                                  "BigBlueButton is unavailable: the backend's API URL is not a "
                                  "valid http(s) URL");
        gint64 wait = breaker_open_for (b->url);
        if (wait)
                return conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                                  "BigBlueButton is unavailable: it did not answer a moment ago; "
                                  "the next attempt is made in %" G_GINT64_FORMAT " s",
                                  (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
        g_autofree char *url = signed_url (b, call, query);
        guint attempts = max_retries + 1;
        g_autofree char *detail = NULL;
        for (guint i = 0; i < attempts; i++) {
                if (i > 0) {
                        guint step = MIN (i - 1, G_N_ELEMENTS (backoff_ms) - 1);
                        g_usleep (1000 * (gulong) backoff_ms[step]);
                }
                g_clear_pointer (&detail, g_free);
                g_autoptr (GBytes) body = NULL;
                guint status = 0;
                AttemptResult r = attempt (b, url, &body, &status, &detail);
                if (r == ATTEMPT_BAD_URL) /* (not expected after the check above) */
                        return conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                                          "BigBlueButton is unavailable: libsoup cannot use the "
                                          "backend's API URL");
                if (r != ATTEMPT_TRANSIENT)
                        breaker_record (b->url, TRUE);
                if (r == ATTEMPT_FATAL)
                        return conf_fail (error, ATRIUM_ERROR_BAD_GATEWAY,
                                          "BigBlueButton %s: unexpected answer (%s)", call,
                                          detail);
                if (r == ATTEMPT_ANSWER) {
                        gsize len = 0;
                        const char *xml = g_bytes_get_data (body, &len);
                        if (!conf_bbb_parse_answer (xml, len, out))
                                return conf_fail (error, ATRIUM_ERROR_BAD_GATEWAY,
                                                  "BigBlueButton %s: the answer (HTTP %u) is "
                                                  "not a BigBlueButton API answer",
                                                  call, status);
                        return TRUE;
                }
                if (i + 1 < attempts)
                        log_warning ("BigBlueButton %s: attempt %u of %u failed (%s); retrying",
                                     call, i + 1, attempts, detail);
        }
        breaker_record (b->url, FALSE);
        log_warning ("BigBlueButton %s: giving up after %u attempt%s: %s", call, attempts,
                     attempts == 1 ? "" : "s", detail);
        /* The client hears the reason without libsoup's text (it names our upstream host). */
        const char *colon = strchr (detail, ':');
        g_autofree char *reason = colon ? g_strndup (detail, colon - detail) : g_strdup (detail);
        return conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                          "BigBlueButton is unavailable: %s did not succeed after %u attempt%s "
                          "(%s, %u s timeout each)",
                          call, attempts, attempts == 1 ? "" : "s", reason, timeout_s);
}

/* A FAILED answer as a BAD_GATEWAY error. */
static gboolean
refused (const char *call, const ConfBbbAnswer *a, GError **error)
{
        g_autofree char *key = remote_text (a->message_key ? a->message_key : "(no messageKey)");
        g_autofree char *msg = remote_text (a->message);
        const char *hint = "";
        if (g_strcmp0 (a->message_key, "checksumError") == 0)
                hint = "; check the backend's secret and checksum algorithm";
        else if (g_strcmp0 (a->message_key, "idNotUnique") == 0)
                hint = "; a meeting with this id runs with other passwords (was the secret "
                       "changed?)";
        return conf_fail (error, ATRIUM_ERROR_BAD_GATEWAY, "BigBlueButton refused %s: %s%s%s%s%s",
                          call, key, *msg ? " (" : "", msg, *msg ? ")" : "", hint);
}

gboolean
conf_bbb_create (const ConfBackend *b, const ConfBbbMeeting *m, GError **error)
{
        g_return_val_if_fail (b && b->url && b->secret && m && m->meeting_id, FALSE);
        g_autofree char *name = meeting_name (m->name, m->meeting_id);
        g_autofree char *attendee_pw = conf_bbb_password (b, m->meeting_id, FALSE);
        g_autofree char *moderator_pw = conf_bbb_password (b, m->meeting_id, TRUE);
        g_autoptr (GString) q = g_string_new (NULL);
        add_param (q, "name", name);
        add_param (q, "meetingID", m->meeting_id);
        add_param (q, "attendeePW", attendee_pw);
        add_param (q, "moderatorPW", moderator_pw);
        add_param (q, "record", "false");
        if (m->max_participants > 0) {
                char n[16];
                g_snprintf (n, sizeof n, "%u", m->max_participants);
                add_param (q, "maxParticipants", n);
        }
        add_param (q, "guestPolicy", m->lobby ? "ASK_MODERATOR" : "ALWAYS_ACCEPT");
        if (m->end_callback_url)
                add_param (q, "meta_endCallbackUrl", m->end_callback_url);

        ConfBbbAnswer a = {0};
        if (!call_api (b, "create", q->str, &a, error))
                return FALSE;
        /* SUCCESS, with messageKey duplicateWarning when the meeting was already running with
         * the same passwords: create is idempotent. FAILED idNotUnique is not success:
         * BigBlueButton answers it when a meeting with this id runs with *other* passwords
         * (ApiController.create; the meetingID parameter in the API reference), so our
         * derived passwords would not let anyone in. */
        gboolean ok = a.success || refused ("create", &a, error);
        conf_bbb_answer_clear (&a);
        return ok;
}

char *
conf_bbb_join_url (const ConfBackend *b, const char *meeting_id, const char *full_name,
                   const char *user_id, gboolean moderator, gboolean guest)
{
        g_return_val_if_fail (b && b->url && b->secret && meeting_id && full_name && user_id,
                              NULL);
        g_autofree char *name = clean_text (full_name);
        g_autofree char *password = conf_bbb_password (b, meeting_id, moderator);
        g_autoptr (GString) q = g_string_new (NULL);
        add_param (q, "fullName", name);
        add_param (q, "meetingID", meeting_id);
        /* role decides on BigBlueButton 2.4 and later; older servers go by the password. */
        add_param (q, "role", moderator ? "MODERATOR" : "VIEWER");
        add_param (q, "password", password);
        add_param (q, "userID", user_id);
        add_param (q, "redirect", "true");
        if (guest)
                add_param (q, "guest", "true");
        return signed_url (b, "join", q->str);
}

gboolean
conf_bbb_end (const ConfBackend *b, const char *meeting_id, GError **error)
{
        g_return_val_if_fail (b && b->url && b->secret && meeting_id, FALSE);
        g_autofree char *password = conf_bbb_password (b, meeting_id, TRUE);
        g_autoptr (GString) q = g_string_new (NULL);
        add_param (q, "meetingID", meeting_id);
        /* Deprecated (no longer required) in newer BigBlueButton, required by older ones. */
        add_param (q, "password", password);
        ConfBbbAnswer a = {0};
        if (!call_api (b, "end", q->str, &a, error))
                return FALSE;
        gboolean ok = a.success || g_strcmp0 (a.message_key, "notFound") == 0 ||
                      refused ("end", &a, error);
        conf_bbb_answer_clear (&a);
        return ok;
}
