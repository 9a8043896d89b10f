/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c - the provider's signing keys and JWS (RFC 7515) signing, on libgcrypt.
 *
 * One RSA-2048 key (RS256, RSASSA-PKCS1-v1_5 with SHA-256) and one P-256 key (ES256, ECDSA
 * with deterministic nonces, RFC 6979) sign at a time, for the whole installation. They live
 * in core.oidc_keys, which only the owner role can read: the host loads them at start-up over
 * the owner's connection (db/migrate.c) and signs in memory, so a request, whatever SQL it
 * could be tricked into, never reads a private key. A key older than
 * ATRIUM_OIDC_KEY_ROTATE_DAYS is replaced at a host's start, and by a serving host's hourly
 * refresh (atrium_oidc_keys_refresh, over a short owner connection of its own), which also
 * loads a key another host made: within an hour every host signs with the newest key. A retired
 * key stays published in the JWKS for ATRIUM_OIDC_KEY_KEEP (its tokens' lifetime and more),
 * then the refresh deletes it. The loaded keys are shared by reference: a refresh swaps them
 * while requests sign with the old ones. Base64url and SHA-256 come from GLib/libgcrypt
 * (atrium/crypto.h); nothing here is a hand-made primitive.
 * docs/OIDC.md says why libgcrypt and not libjwt or cjose. */
#include "oidc-private.h"

#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h"

typedef struct {
        char *kid;
        gcry_sexp_t key; /* the private-key S-expression */
        guint sig_len;   /* bytes of a signature: RSA modulus, 2 x 32 for P-256 */
} Key;

struct _AtriumOidcKeys {
        gint ref;
        Key rs256;
        Key es256;
};

/* Guards core->oidc_keys while a refresh swaps it. */
static GMutex keys_lock;

static void
key_clear (Key *k)
{
        g_clear_pointer (&k->kid, g_free);
        if (k->key)
                gcry_sexp_release (k->key);
        k->key = NULL;
}

void
atrium_oidc_keys_free (AtriumOidcKeys *keys)
{
        if (!keys || !g_atomic_int_dec_and_test (&keys->ref))
                return;
        key_clear (&keys->rs256);
        key_clear (&keys->es256);
        g_free (keys);
}

/* The bytes of the first atom after @name inside @sexp, unsigned big-endian with leading
 * zeros dropped, left-padded to @width when @width > 0. Returns: (transfer full) (nullable) */
static guchar *
sexp_bytes (gcry_sexp_t sexp, const char *name, gsize width, gsize *out_len)
{
        gcry_sexp_t tok = gcry_sexp_find_token (sexp, name, 0);
        if (!tok)
                return NULL;
        size_t n = 0;
        const char *d = gcry_sexp_nth_data (tok, 1, &n);
        guchar *out = NULL;
        if (d) {
                while (n > 1 && d[0] == 0 && (width == 0 || n > width)) {
                        d++;
                        n--;
                }
                gsize len = width && n < width ? width : n;
                out = g_malloc0 (len);
                memcpy (out + (len - n), d, n);
                *out_len = len;
        }
        gcry_sexp_release (tok);
        return out;
}

static char *
sexp_b64 (gcry_sexp_t sexp, const char *name, gsize width)
{
        gsize n = 0;
        g_autofree guchar *b = sexp_bytes (sexp, name, width, &n);
        return b ? atrium_base64url_encode (b, n) : NULL;
}

/* The public JWK of @key and its RFC 7638 thumbprint (the kid). */
static gboolean
public_jwk (gcry_sexp_t key, const char *alg, char **out_jwk, char **out_kid)
{
        gcry_sexp_t pub = gcry_sexp_find_token (key, "public-key", 0);
        if (!pub)
                pub = gcry_sexp_find_token (key, "private-key", 0);
        if (!pub)
                return FALSE;
        g_autofree char *canon = NULL;
        if (g_str_equal (alg, "RS256")) {
                g_autofree char *n = sexp_b64 (pub, "n", 0);
                g_autofree char *e = sexp_b64 (pub, "e", 0);
                if (n && e)
                        canon = g_strdup_printf ("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e,
                                                 n);
        } else {
                gsize qn = 0;
                g_autofree guchar *q = sexp_bytes (pub, "q", 0, &qn);
                /* An uncompressed point: 0x04 || X || Y */
                if (q && qn == 65 && q[0] == 4) {
                        g_autofree char *x = atrium_base64url_encode (q + 1, 32);
                        g_autofree char *y = atrium_base64url_encode (q + 33, 32);
                        canon = g_strdup_printf (
                                "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
                                y);
                }
        }
        gcry_sexp_release (pub);
        if (!canon)
                return FALSE;
        guchar digest[32];
        gcry_md_hash_buffer (GCRY_MD_SHA256, digest, canon, strlen (canon));
        char *kid = atrium_base64url_encode (digest, sizeof digest);
        /* The published JWK: the thumbprint's members plus use, alg and kid. */
        *out_jwk = g_strdup_printf ("%.*s,\"use\":\"sig\",\"alg\":\"%s\",\"kid\":\"%s\"}",
                                    (int) strlen (canon) - 1, canon, alg, kid);
        *out_kid = kid;
        return TRUE;
}

static gboolean
gcry_failed (gcry_error_t err, const char *what, GError **error)
{
        if (!err)
                return FALSE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "%s: %s", what,
                     gcry_strerror (err));
        return TRUE;
}

static gboolean
exec_ok (PGconn *conn, PGresult *res, GError **error)
{
        ExecStatusType st = PQresultStatus (res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                return TRUE;
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "signing keys: %s",
                     PQerrorMessage (conn));
        return FALSE;
}

/* A key pair as core.oidc_keys.private_key holds it: libgcrypt's canonical S-expression,
 * base64. Until 2026-12-07 it was the "advanced" text form, which prints a value whose bytes
 * all look printable to libgcrypt (0xa1-0xff count) as a quoted string of raw bytes: about
 * one P-256 key in 8,000 was not UTF-8, and PostgreSQL refused it (a host failed to start).
 * Keys stored that way (they begin with '(') still load. */
char *
atrium_oidc_key_text (gcry_sexp_t key)
{
        size_t len = gcry_sexp_sprint (key, GCRYSEXP_FMT_CANON, NULL, 0);
        guchar *canon = g_malloc (len);
        len = gcry_sexp_sprint (key, GCRYSEXP_FMT_CANON, canon, len);
        char *text = len ? g_base64_encode (canon, len) : NULL;
        memset (canon, 0, len);
        g_free (canon);
        return text;
}

gcry_error_t
atrium_oidc_key_parse (const char *text, gcry_sexp_t *out)
{
        if (text[0] == '(')
                return gcry_sexp_sscan (out, NULL, text, strlen (text));
        gsize len = 0;
        guchar *canon = g_base64_decode (text, &len);
        gcry_error_t err = len ? gcry_sexp_new (out, canon, len, 0) : gcry_error (GPG_ERR_INV_SEXP);
        memset (canon, 0, len);
        g_free (canon);
        return err;
}

/* A new key of @alg, stored; the keys of @alg it replaces are retired. */
static gboolean
create_key (PGconn *conn, const char *alg, GError **error)
{
        gcry_sexp_t params = NULL, key = NULL;
        const char *spec = g_str_equal (alg, "RS256") ? "(genkey (rsa (nbits 4:2048)))"
                                                      : "(genkey (ecc (curve \"NIST P-256\")))";
        if (gcry_failed (gcry_sexp_new (&params, spec, 0, 1), "key parameters", error))
                return FALSE;
        gcry_error_t err = gcry_pk_genkey (&key, params);
        gcry_sexp_release (params);
        if (gcry_failed (err, "key generation", error))
                return FALSE;
        g_autofree char *jwk = NULL, *kid = NULL;
        g_autofree char *text = atrium_oidc_key_text (key);
        gboolean ok = text && public_jwk (key, alg, &jwk, &kid);
        gcry_sexp_release (key);
        if (!ok) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "signing keys: no public half in the new %s key", alg);
                return FALSE;
        }
        const char *p[4] = {kid, alg, jwk, text};
        g_autoptr (PGresult) res =
                PQexecParams (conn,
                              "WITH retired AS (UPDATE core.oidc_keys SET retired_at = now() "
                              "WHERE alg = $2 AND retired_at IS NULL) "
                              "INSERT INTO core.oidc_keys (kid, alg, public_jwk, private_key) "
                              "VALUES ($1, $2, $3::jsonb, $4)",
                              4, NULL, p, NULL, NULL, 0);
        memset (text, 0, strlen (text));
        return exec_ok (conn, res, error);
}

static gboolean
load_key (PGconn *conn, const char *alg, Key *out, GError **error)
{
        const char *p[2] = {alg, G_STRINGIFY (ATRIUM_OIDC_KEY_ROTATE_DAYS) " days"};
        g_autoptr (PGresult) cur = PQexecParams (
                conn,
                "SELECT kid, private_key FROM core.oidc_keys WHERE alg = $1 AND retired_at IS NULL "
                "AND created_at > now() - $2::interval ORDER BY created_at DESC LIMIT 1",
                2, NULL, p, NULL, NULL, 0);
        if (!exec_ok (conn, cur, error))
                return FALSE;
        if (PQntuples (cur) == 0) {
                if (!create_key (conn, alg, error))
                        return FALSE;
                return load_key (conn, alg, out, error);
        }
        const char *text = PQgetvalue (cur, 0, 1);
        gcry_sexp_t key = NULL;
        if (gcry_failed (atrium_oidc_key_parse (text, &key), "key", error))
                return FALSE;
        out->key = gcry_sexp_find_token (key, "private-key", 0);
        gcry_sexp_release (key);
        if (!out->key) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "signing keys: key %s has no private half", PQgetvalue (cur, 0, 0));
                return FALSE;
        }
        out->kid = g_strdup (PQgetvalue (cur, 0, 0));
        out->sig_len = g_str_equal (alg, "RS256") ? gcry_pk_get_nbits (out->key) / 8 : 64;
        return TRUE;
}

gboolean
atrium_oidc_keys_setup (AtriumCore *core, PGconn *owner, GError **error)
{
        g_autoptr (AtriumOidcKeys) keys = g_new0 (AtriumOidcKeys, 1);
        keys->ref = 1;
        /* Hosts starting together must not each create a key: one transaction under a lock. */
        g_autoptr (PGresult) begin =
                PQexec (owner, "BEGIN; SELECT pg_advisory_xact_lock(hashtext('atrium.oidc_keys'))");
        if (!exec_ok (owner, begin, error))
                return FALSE;
        const char *keep[1] = {ATRIUM_OIDC_KEY_KEEP};
        g_autoptr (PGresult) gone = PQexecParams (
                owner, "DELETE FROM core.oidc_keys WHERE retired_at < now() - $1::interval", 1,
                NULL, keep, NULL, NULL, 0);
        gboolean ok = exec_ok (owner, gone, error) &&
                      load_key (owner, "RS256", &keys->rs256, error) &&
                      load_key (owner, "ES256", &keys->es256, error);
        g_autoptr (PGresult) end = PQexec (owner, ok ? "COMMIT" : "ROLLBACK");
        if (!ok || !exec_ok (owner, end, error))
                return FALSE;
        g_mutex_lock (&keys_lock);
        AtriumOidcKeys *old = core->oidc_keys;
        core->oidc_keys = g_steal_pointer (&keys);
        g_mutex_unlock (&keys_lock);
        atrium_oidc_keys_free (old);
        return TRUE;
}

gboolean
atrium_oidc_keys_refresh (AtriumCore *core, GError **error)
{
        PGconn *owner = PQconnectdb (core->config->database_url);
        gboolean ok = PQstatus (owner) == CONNECTION_OK;
        if (!ok)
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                             "signing keys: cannot connect as the owner: %s",
                             PQerrorMessage (owner));
        ok = ok && atrium_oidc_keys_setup (core, owner, error);
        PQfinish (owner);
        return ok;
}

static GThreadPool *refresh_pool;

static void
refresh_job (gpointer data, gpointer user_data)
{
        g_autoptr (GError) error = NULL;
        if (!atrium_oidc_keys_refresh (data, &error))
                g_warning ("%s", error->message); /* the keys loaded before still sign */
}

static gboolean
refresh_tick (gpointer data)
{
        /* One thread: a tick while the last refresh still runs waits for it. */
        if (g_thread_pool_unprocessed (refresh_pool) == 0)
                g_thread_pool_push (refresh_pool, data, NULL);
        return G_SOURCE_CONTINUE;
}

void
atrium_oidc_keys_start_refresh (AtriumCore *core, GMainContext *context)
{
        if (refresh_pool)
                return;
        refresh_pool = g_thread_pool_new (refresh_job, NULL, 1, FALSE, NULL);
        GSource *src = g_timeout_source_new_seconds (core->config->oidc_key_refresh);
        g_source_set_callback (src, refresh_tick, core, NULL);
        g_source_attach (src, context);
        g_source_unref (src);
}

/* Waits for a refresh that runs; the source dies with its context. */
void
atrium_oidc_keys_stop_refresh (void)
{
        if (refresh_pool) {
                g_thread_pool_free (refresh_pool, TRUE, TRUE);
                refresh_pool = NULL;
        }
}

/* The keys requests sign with now, held until atrium_oidc_keys_free(); NULL before any. */
static AtriumOidcKeys *
current_keys (AtriumCore *core)
{
        g_mutex_lock (&keys_lock);
        AtriumOidcKeys *k = core->oidc_keys;
        if (k)
                g_atomic_int_inc (&k->ref);
        g_mutex_unlock (&keys_lock);
        return k;
}

/* The raw signature of @input (r || s for ECDSA) with @k. Returns: (transfer full) */
static guchar *
sign_raw (const Key *k, gboolean rsa, const char *input, GError **error)
{
        guchar digest[32];
        gcry_md_hash_buffer (GCRY_MD_SHA256, digest, input, strlen (input));
        gcry_sexp_t data = NULL, sig = NULL;
        if (gcry_failed (gcry_sexp_build (&data, NULL,
                                          rsa ? "(data (flags pkcs1) (hash sha256 %b))"
                                              : "(data (flags rfc6979) (hash sha256 %b))",
                                          (int) sizeof digest, digest),
                         "signature input", error))
                return NULL;
        gcry_error_t err = gcry_pk_sign (&sig, data, k->key);
        gcry_sexp_release (data);
        if (gcry_failed (err, "signing", error))
                return NULL;
        guchar *out = NULL;
        gsize n = 0;
        if (rsa) {
                out = sexp_bytes (sig, "s", k->sig_len, &n);
        } else {
                gsize rn = 0, sn = 0;
                g_autofree guchar *r = sexp_bytes (sig, "r", 32, &rn);
                g_autofree guchar *s = sexp_bytes (sig, "s", 32, &sn);
                if (r && s && rn == 32 && sn == 32) {
                        out = g_malloc (64);
                        memcpy (out, r, 32);
                        memcpy (out + 32, s, 32);
                        n = 64;
                }
        }
        gcry_sexp_release (sig);
        if (!out || n != k->sig_len) {
                g_free (out);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "signing: unexpected signature shape");
                return NULL;
        }
        return out;
}

char *
atrium_oidc_sign (AtriumCore *core, const char *alg, JsonObject *claims, GError **error)
{
        gboolean rsa = !g_str_equal (alg, "ES256");
        g_autoptr (AtriumOidcKeys) keys = current_keys (core);
        const Key *k = keys ? (rsa ? &keys->rs256 : &keys->es256) : NULL;
        if (!k || !k->key) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAVAILABLE,
                             "the provider's signing keys are not loaded");
                return NULL;
        }
        JsonObject *h = json_object_new ();
        json_object_set_string_member (h, "alg", rsa ? "RS256" : "ES256");
        json_object_set_string_member (h, "typ", "JWT");
        json_object_set_string_member (h, "kid", k->kid);
        g_autoptr (JsonNode) hn = json_node_init_object (json_node_alloc (), h);
        json_object_unref (h);
        g_autoptr (JsonNode) cn = json_node_init_object (json_node_alloc (), claims);
        g_autofree char *htext = json_to_string (hn, FALSE);
        g_autofree char *ctext = json_to_string (cn, FALSE);
        g_autofree char *h64 = atrium_base64url_encode ((const guchar *) htext, strlen (htext));
        g_autofree char *c64 = atrium_base64url_encode ((const guchar *) ctext, strlen (ctext));
        g_autofree char *input = g_strconcat (h64, ".", c64, NULL);
        g_autofree guchar *sig = sign_raw (k, rsa, input, error);
        if (!sig)
                return NULL;
        g_autofree char *s64 = atrium_base64url_encode (sig, k->sig_len);
        return g_strconcat (input, ".", s64, NULL);
}
