/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.c - passwords and tokens, all through libgcrypt.
 *
 * Passwords: Argon2id, by default with OWASP's current minimum (m = 19 MiB, t = 2, p = 1),
 * which an operator may raise ([auth] argon2_memory_kib, argon2_iterations); stored as a PHC
 * string so the parameters travel with the hash: a successful sign-in with a hash cheaper than
 * the configured cost is re-hashed. Tokens: 256 bits from GCRY_STRONG_RANDOM,
 * handed to the client once; only their SHA-256 is stored. */
#include "identity-private.h"

#include <gcrypt.h>
#include <string.h>

#include "atrium/crypto.h" /* tokens, digests, constant-time compare: shared with plugins */

#define SALT_LEN 16
#define TAG_LEN 32

/* Set once at start-up (atrium_core_new), before any thread reads them. */
static guint cost_m_kib = ATRIUM_ARGON2_DEFAULT_M_KIB;
static guint cost_t = ATRIUM_ARGON2_DEFAULT_T;

void
atrium_password_cost_set (guint m_kib, guint t)
{
        cost_m_kib = m_kib;
        cost_t = t;
}

/* PHC strings use standard base64 without padding. */
static char *
b64_nopad (const guchar *data, gsize len)
{
        char *s = g_base64_encode (data, len);
        char *eq = strchr (s, '=');
        if (eq)
                *eq = '\0';
        return s;
}

static guchar *
b64_decode_nopad (const char *s, gsize *out_len)
{
        GString *padded = g_string_new (s);
        while (padded->len % 4)
                g_string_append_c (padded, '=');
        guchar *out = g_base64_decode (padded->str, out_len);
        g_string_free (padded, TRUE);
        return out;
}

static gboolean
argon2id (const char *password, const guchar *salt, gsize salt_len, gulong m, gulong t, gulong p,
          guchar *out, gsize out_len)
{
        unsigned long param[4] = {out_len, t, m, p};
        gcry_kdf_hd_t hd;
        if (gcry_kdf_open (&hd, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, param, 4, password,
                           strlen (password), salt, salt_len, NULL, 0, NULL, 0))
                return FALSE;
        gboolean ok = gcry_kdf_compute (hd, NULL) == 0 && gcry_kdf_final (hd, out_len, out) == 0;
        gcry_kdf_close (hd);
        return ok;
}

char *
atrium_password_hash (const char *password)
{
        guchar salt[SALT_LEN], tag[TAG_LEN];
        gcry_randomize (salt, sizeof salt, GCRY_STRONG_RANDOM);
        if (!argon2id (password, salt, sizeof salt, cost_m_kib, cost_t, ATRIUM_ARGON2_P, tag,
                       sizeof tag))
                return NULL;
        g_autofree char *s = b64_nopad (salt, sizeof salt);
        g_autofree char *h = b64_nopad (tag, sizeof tag);
        return g_strdup_printf ("$argon2id$v=19$m=%u,t=%u,p=%u$%s$%s", cost_m_kib, cost_t,
                                ATRIUM_ARGON2_P, s, h);
}

gboolean
atrium_password_verify (const char *password, const char *phc, gboolean *out_needs_rehash)
{
        if (!password || !phc)
                return FALSE;
        g_auto (GStrv) parts = g_strsplit (phc, "$", -1);
        /* "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash */
        if (g_strv_length (parts) != 6 || !g_str_equal (parts[1], "argon2id") ||
            !g_str_equal (parts[2], "v=19"))
                return FALSE;
        guint m = 0, t = 0, p = 0;
        if (sscanf (parts[3], "m=%u,t=%u,p=%u", &m, &t, &p) != 3 || m < 8 || m > 4194304 ||
            t < 1 || t > 64 || p < 1 || p > 64)
                return FALSE;
        gsize salt_len = 0, tag_len = 0;
        g_autofree guchar *salt = b64_decode_nopad (parts[4], &salt_len);
        g_autofree guchar *tag = b64_decode_nopad (parts[5], &tag_len);
        if (salt_len < 8 || tag_len < 16 || tag_len > 64)
                return FALSE;
        guchar computed[64];
        if (!argon2id (password, salt, salt_len, m, t, p, computed, tag_len))
                return FALSE;
        gboolean ok = atrium_ct_equal (computed, tag, tag_len);
        if (ok && out_needs_rehash)
                *out_needs_rehash =
                        m < cost_m_kib || t < cost_t || p < ATRIUM_ARGON2_P || tag_len != TAG_LEN;
        return ok;
}

void
atrium_password_burn (const char *password)
{
        /* Same work as a real verification, for unknown accounts: the answer's timing must not
         * tell whether a user exists. */
        static const guchar salt[SALT_LEN] = "atrium-no-user!";
        guchar tag[TAG_LEN];
        argon2id (password ? password : "", salt, sizeof salt, cost_m_kib, cost_t, ATRIUM_ARGON2_P,
                  tag, sizeof tag);
}

char *
atrium_token_hash_literal (const char *token)
{
        g_autofree char *hex = atrium_digest_hex (GCRY_MD_SHA256, token, strlen (token));
        return g_strconcat ("\\x", hex, NULL); /* a bytea literal */
}

char *
atrium_token_new (void)
{
        g_autofree char *secret = atrium_random_token (32);
        return g_strconcat ("atr_", secret, NULL);
}
