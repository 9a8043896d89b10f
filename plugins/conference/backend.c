/* SPDX-License-Identifier: Apache-2.0 */
/* backend.c - the engine a school's rooms run on: PUT/GET/DELETE /backend, and the effective
 * backend of a school (its own row, else the installation's [conference] section).
 *
 * A backend secret signs every join, so it is sealed before it reaches the database:
 * AES-256-GCM (libgcrypt) with the key [conference] secret_key (64 hex digits) and the
 * school's id as associated data, so a sealed secret copied to another school's row does not
 * open. Stored as 0x01 | 12-byte nonce | ciphertext | 16-byte tag. The secret is never
 * answered, never logged, and lives in memory only for the request that uses it. */
#include "conference-private.h"

#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN 12
#define TAG_LEN 16

static guchar seal_key[32];
static gboolean have_seal_key;
static ConfBackend *installation; /* [conference] type/url/...; NULL when not configured */

char *
conf_callback_sig (const ConfBackend *b, const char *what, const char *school_id, const char *id)
{
        g_autofree char *msg = g_strdup_printf ("%s:%s:%s", what, school_id, id ? id : "");
        guchar mac[32];
        /* NULL if libgcrypt fails: then no callback verifies (atrium_ct_streq). */
        if (!atrium_hmac_sha256 (b->secret, strlen (b->secret), msg, strlen (msg), mac))
                return NULL;
        return atrium_base64url_encode (mac, sizeof mac);
}

void
conf_backend_free (ConfBackend *b)
{
        if (!b)
                return;
        g_free (b->url);
        g_free (b->app_id);
        if (b->secret) {
                explicit_bzero (b->secret, strlen (b->secret));
                g_free (b->secret);
        }
        g_free (b);
}

static ConfBackend *
backend_copy (const ConfBackend *b)
{
        ConfBackend *c = g_new0 (ConfBackend, 1);
        c->type = b->type;
        c->url = g_strdup (b->url);
        c->app_id = g_strdup (b->app_id);
        c->secret = g_strdup (b->secret);
        c->sha1 = b->sha1;
        return c;
}

static const char *
type_name (ConfBackendType t)
{
        return t == CONF_BACKEND_JITSI ? "jitsi" : "bigbluebutton";
}

/* ---- sealing ---- */

static gboolean
gcm_open (gcry_cipher_hd_t *h, const guchar *nonce, const char *school_id, GError **error)
{
        gcry_error_t e = gcry_cipher_open (h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0);
        if (!e)
                e = gcry_cipher_setkey (*h, seal_key, sizeof seal_key);
        if (!e)
                e = gcry_cipher_setiv (*h, nonce, NONCE_LEN);
        if (!e)
                e = gcry_cipher_authenticate (*h, school_id, strlen (school_id));
        if (e)
                return conf_fail (error, ATRIUM_ERROR_INTERNAL, "AES-GCM: %s", gcry_strerror (e));
        return TRUE;
}

/* "\\x..." (bytea hex input) of the sealed @secret. */
static char *
seal (const char *school_id, const char *secret, GError **error)
{
        gsize n = strlen (secret);
        g_autofree guchar *buf = g_malloc (1 + NONCE_LEN + n + TAG_LEN);
        buf[0] = SEAL_VERSION;
        gcry_create_nonce (buf + 1, NONCE_LEN);
        gcry_cipher_hd_t h;
        if (!gcm_open (&h, buf + 1, school_id, error))
                return NULL;
        gcry_error_t e = gcry_cipher_encrypt (h, buf + 1 + NONCE_LEN, n, secret, n);
        if (!e)
                e = gcry_cipher_gettag (h, buf + 1 + NONCE_LEN + n, TAG_LEN);
        gcry_cipher_close (h);
        if (e) {
                conf_fail (error, ATRIUM_ERROR_INTERNAL, "AES-GCM: %s", gcry_strerror (e));
                return NULL;
        }
        GString *hex = g_string_new ("\\x");
        for (gsize i = 0; i < 1 + NONCE_LEN + n + TAG_LEN; i++)
                g_string_append_printf (hex, "%02x", buf[i]);
        return g_string_free (hex, FALSE);
}

static char *
unseal (const char *school_id, const char *bytea_hex, GError **error)
{
        gsize len = bytea_hex && g_str_has_prefix (bytea_hex, "\\x") ? strlen (bytea_hex + 2) / 2
                                                                     : 0;
        if (len < 1 + NONCE_LEN + 1 + TAG_LEN) {
                conf_fail (error, ATRIUM_ERROR_INTERNAL, "the stored backend secret is damaged");
                return NULL;
        }
        g_autofree guchar *buf = g_malloc (len);
        for (gsize i = 0; i < len; i++)
                buf[i] = (guchar) (g_ascii_xdigit_value (bytea_hex[2 + 2 * i]) << 4 |
                                   g_ascii_xdigit_value (bytea_hex[3 + 2 * i]));
        if (buf[0] != SEAL_VERSION) {
                conf_fail (error, ATRIUM_ERROR_INTERNAL, "the stored backend secret is damaged");
                return NULL;
        }
        gsize n = len - 1 - NONCE_LEN - TAG_LEN;
        char *out = g_malloc0 (n + 1);
        gcry_cipher_hd_t h;
        if (!gcm_open (&h, buf + 1, school_id, error)) {
                g_free (out);
                return NULL;
        }
        gcry_error_t e = gcry_cipher_decrypt (h, out, n, buf + 1 + NONCE_LEN, n);
        if (!e)
                e = gcry_cipher_checktag (h, buf + 1 + NONCE_LEN + n, TAG_LEN);
        gcry_cipher_close (h);
        if (e || memchr (out, '\0', n)) {
                explicit_bzero (out, n);
                g_free (out);
                /* The key changed, or the row was altered or moved: say so, not why. */
                conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                           "the school's conference backend secret cannot be opened with this "
                           "host's [conference] secret_key; set the backend again");
                return NULL;
        }
        return out;
}

/* ---- the effective backend ---- */

ConfBackend *
conf_backend_load (AtriumTx *tx, GError **error)
{
        gboolean none = FALSE;
        ConfBackend *b = conf_backend_find (tx, &none, error);
        if (none)
                conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                           "no videoconference backend is configured for this school");
        return b;
}

ConfBackend *
conf_backend_find (AtriumTx *tx, gboolean *out_none, GError **error)
{
        *out_none = FALSE;
        AtriumResult *res = conf_tx_sql (tx, error,
                                         "SELECT type, url, app_id, checksum, secret_sealed, "
                                         "school_id FROM conference.backends",
                                         0);
        if (!res)
                return NULL;
        if (conf_host->result_n_rows (res) == 0) {
                conf_host->result_free (res);
                if (installation)
                        return backend_copy (installation);
                *out_none = TRUE;
                return NULL;
        }
        g_autoptr (ConfBackend) b = g_new0 (ConfBackend, 1);
        b->type = g_str_equal (conf_host->result_value (res, 0, 0), "jitsi") ? CONF_BACKEND_JITSI
                                                                             : CONF_BACKEND_BBB;
        b->url = g_strdup (conf_host->result_value (res, 0, 1));
        b->app_id = g_strdup (conf_host->result_value (res, 0, 2));
        b->sha1 = g_strcmp0 (conf_host->result_value (res, 0, 3), "sha1") == 0;
        if (!have_seal_key) {
                conf_host->result_free (res);
                conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                           "[conference] secret_key is not set on this host, so the school's "
                           "backend secret cannot be opened");
                return NULL;
        }
        b->secret = unseal (conf_host->result_value (res, 0, 5),
                            conf_host->result_value (res, 0, 4), error);
        conf_host->result_free (res);
        return b->secret ? g_steal_pointer (&b) : NULL;
}

/* ---- routes ---- */

static void
describe (JsonObject *o, const ConfBackend *b)
{
        json_object_set_string_member (o, "type", type_name (b->type));
        json_object_set_string_member (o, "url", b->url);
        if (b->type == CONF_BACKEND_JITSI)
                json_object_set_string_member (o, "app_id", b->app_id);
        else
                json_object_set_string_member (o, "checksum", b->sha1 ? "sha1" : "sha256");
}

static gboolean
handle_get (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumResult *res = conf_sql (req, error,
                                      "SELECT type, url, app_id, checksum, updated_at "
                                      "FROM conference.backends",
                                      0);
        if (!res)
                return FALSE;
        JsonObject *o = json_object_new ();
        if (conf_host->result_n_rows (res) == 1) {
                JsonNode *row = conf_host->result_row_json (res, 0);
                JsonObject *r = json_node_get_object (row);
                json_object_set_string_member (o, "type",
                                               json_object_get_string_member (r, "type"));
                json_object_set_string_member (o, "url", json_object_get_string_member (r, "url"));
                if (g_str_equal (json_object_get_string_member (r, "type"), "jitsi"))
                        json_object_set_string_member (o, "app_id",
                                                       json_object_get_string_member (r, "app_id"));
                else
                        json_object_set_string_member (
                                o, "checksum", json_object_get_string_member (r, "checksum"));
                json_object_set_string_member (o, "source", "school");
                json_object_set_string_member (o, "updated_at",
                                               json_object_get_string_member (r, "updated_at"));
                json_node_unref (row);
        } else if (installation) {
                describe (o, installation);
                json_object_set_string_member (o, "source", "installation");
        } else {
                conf_host->result_free (res);
                json_object_unref (o);
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                  "no videoconference backend is configured for this school");
        }
        conf_host->result_free (res);
        /* Where Jitsi's event module posts (occupant left, room destroyed): a signed URL. */
        if (g_str_equal (json_object_get_string_member (o, "type"), "jitsi")) {
                g_autoptr (ConfBackend) b = conf_backend_load (conf_host->request_tx (req), NULL);
                g_autofree char *sig = b ? conf_callback_sig (b, "jitsi-events",
                                                              conf_host->request_school_id (req),
                                                              NULL)
                                         : NULL;
                g_autofree char *path =
                        sig ? g_strdup_printf ("/api/v1/schools/%s/conference/callbacks/jitsi/%s",
                                               conf_host->request_school_slug (req), sig)
                            : NULL;
                if (path)
                        json_object_set_string_member (o, "events_path", path);
        }
        conf_host->respond_json (req, 200, atrium_object_node (o));
        return TRUE;
}

static gboolean
handle_put (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *body = json_node_get_object (conf_host->request_json (req));
        const char *type = json_object_get_string_member (body, "type");
        gboolean jitsi = g_str_equal (type, "jitsi");
        const char *app_id = json_object_get_string_member_with_default (body, "app_id", NULL);
        const char *checksum = json_object_get_string_member_with_default (body, "checksum", NULL);
        g_autofree char *url = g_strdup (json_object_get_string_member (body, "url"));
        while (g_str_has_suffix (url, "/"))
                url[strlen (url) - 1] = '\0';
        if (jitsi && !app_id)
                return conf_fail (error, ATRIUM_ERROR_INVALID, "a jitsi backend needs app_id");
        if (jitsi && checksum)
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "checksum is for bigbluebutton backends only");
        if (!jitsi && app_id)
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "app_id is for jitsi backends only");
        g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
        if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri) || g_uri_get_query (uri) ||
            g_uri_get_fragment (uri) || g_uri_get_userinfo (uri) ||
            (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 &&
             g_strcmp0 (g_uri_get_scheme (uri), "http") != 0))
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "url must be an http(s) URL without credentials, query or "
                                  "fragment");
        if (!have_seal_key)
                return conf_fail (error, ATRIUM_ERROR_UNAVAILABLE,
                                  "[conference] secret_key is not set on this host: backend "
                                  "secrets are only stored sealed");
        const char *school = conf_host->request_school_id (req);
        g_autofree char *sealed =
                seal (school, json_object_get_string_member (body, "secret"), error);
        if (!sealed)
                return FALSE;
        AtriumResult *res = conf_sql (
                req, error,
                "INSERT INTO conference.backends (school_id, type, url, app_id, checksum, "
                "secret_sealed) VALUES (core.current_school(), $1, $2, $3, coalesce($4, "
                "'sha256'), $5::bytea) ON CONFLICT (school_id) DO UPDATE SET type = $1, url = $2, "
                "app_id = $3, checksum = coalesce($4, 'sha256'), secret_sealed = $5::bytea, "
                "updated_at = now()",
                5, type, url, app_id, checksum, sealed);
        explicit_bzero (sealed, strlen (sealed));
        if (!res)
                return FALSE;
        conf_host->result_free (res);
        return handle_get (req, data, error);
}

static gboolean
handle_delete (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumResult *res = conf_sql (req, error, "DELETE FROM conference.backends RETURNING 1", 0);
        if (!res)
                return FALSE;
        int n = conf_host->result_n_rows (res);
        conf_host->result_free (res);
        if (!n)
                return conf_fail (error, ATRIUM_ERROR_NOT_FOUND,
                                  "the school has no backend of its own");
        conf_host->respond_bytes (req, 204, NULL, NULL);
        return TRUE;
}

#define BACKEND_BODY                                                                            \
        "{\"type\":\"object\",\"additionalProperties\":false,"                                  \
        "\"required\":[\"type\",\"url\",\"secret\"],\"properties\":{"                           \
        "\"type\":{\"enum\":[\"jitsi\",\"bigbluebutton\"]},"                                    \
        "\"url\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":2000,"                      \
        "\"pattern\":\"^https?://\"},"                                                          \
        "\"app_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"                   \
        "\"secret\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":512,"                    \
        "\"writeOnly\":true},"                                                                  \
        "\"checksum\":{\"enum\":[\"sha256\",\"sha1\"]}}}"
#define BACKEND_ANSWER                                                                          \
        "{\"type\":\"object\",\"properties\":{\"type\":{\"type\":\"string\"},"                  \
        "\"url\":{\"type\":\"string\"},\"app_id\":{\"type\":\"string\"},"                       \
        "\"checksum\":{\"type\":\"string\"},\"source\":{\"enum\":[\"school\","                  \
        "\"installation\"]},\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"}," \
        "\"events_path\":{\"type\":\"string\"}}}"

gboolean
conf_backend_register (GError **error)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET", .path = "/backend",
                 .permission = "conference.manage",
                 .summary = "The school's videoconference backend (never its secret)",
                 .response_schema = BACKEND_ANSWER, .handler = handle_get},
                {ATRIUM_ROUTE_INIT, .method = "PUT", .path = "/backend",
                 .permission = "conference.manage",
                 .summary = "Set the school's backend: {\"type\":\"jitsi\",\"url\",\"app_id\","
                            "\"secret\"} or {\"type\":\"bigbluebutton\",\"url\",\"secret\","
                            "\"checksum\"?}",
                 .request_schema = BACKEND_BODY, .response_schema = BACKEND_ANSWER,
                 .handler = handle_put},
                {ATRIUM_ROUTE_INIT, .method = "DELETE", .path = "/backend",
                 .permission = "conference.manage",
                 .summary = "Remove the school's own backend (the installation's applies)",
                 .success_status = 204, .handler = handle_delete},
        };
        return atrium_add_routes (conf_host, conf_self, routes, G_N_ELEMENTS (routes), error);
}

/* ---- settings ---- */

gboolean
conf_backend_init (GError **error)
{
        g_autofree char *key = conf_host->config_get (conf_self, "secret_key");
        have_seal_key = FALSE;
        if (key) {
                g_strstrip (key);
                if (strlen (key) != 64)
                        return conf_fail (error, ATRIUM_ERROR_INVALID,
                                          "[conference] secret_key must be 64 hex digits "
                                          "(32 random bytes: openssl rand -hex 32)");
                for (int i = 0; i < 32; i++) {
                        int hi = g_ascii_xdigit_value (key[2 * i]);
                        int lo = g_ascii_xdigit_value (key[2 * i + 1]);
                        if (hi < 0 || lo < 0)
                                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                                  "[conference] secret_key must be 64 hex "
                                                  "digits");
                        seal_key[i] = (guchar) (hi << 4 | lo);
                }
                explicit_bzero (key, 64);
                have_seal_key = TRUE;
        }
        g_autofree char *type = conf_host->config_get (conf_self, "type");
        if (!type)
                return TRUE;
        g_autoptr (ConfBackend) b = g_new0 (ConfBackend, 1);
        if (g_str_equal (type, "jitsi"))
                b->type = CONF_BACKEND_JITSI;
        else if (g_str_equal (type, "bigbluebutton"))
                b->type = CONF_BACKEND_BBB;
        else
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "[conference] type must be jitsi or bigbluebutton");
        b->url = conf_host->config_get (conf_self, "url");
        b->secret = conf_host->config_get (conf_self, "secret");
        b->app_id = conf_host->config_get (conf_self, "app_id");
        g_autofree char *checksum = conf_host->config_get (conf_self, "checksum");
        b->sha1 = g_strcmp0 (checksum, "sha1") == 0;
        if (!b->url || !b->secret || (b->type == CONF_BACKEND_JITSI && !b->app_id) ||
            (checksum && !b->sha1 && !g_str_equal (checksum, "sha256")))
                return conf_fail (error, ATRIUM_ERROR_INVALID,
                                  "[conference] type = %s needs url and secret%s (checksum: "
                                  "sha256 or sha1)",
                                  type, b->type == CONF_BACKEND_JITSI ? " and app_id" : "");
        while (g_str_has_suffix (b->url, "/"))
                b->url[strlen (b->url) - 1] = '\0';
        installation = g_steal_pointer (&b);
        return TRUE;
}

void
conf_backend_fini (void)
{
        g_clear_pointer (&installation, conf_backend_free);
        explicit_bzero (seal_key, sizeof seal_key);
        have_seal_key = FALSE;
}
