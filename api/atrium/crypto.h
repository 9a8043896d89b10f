/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.h - the one home of the small pieces of cryptography the host and plugins share:
 * random tokens, HMAC-SHA256, digests as hex and constant-time comparison, all on libgcrypt.
 * Static inline like helpers.h (nothing added to the ABI), but kept out of atrium.h: a plugin
 * that includes this header links libgcrypt itself (meson: dependency('libgcrypt')). The host
 * initialises libgcrypt before it loads any plugin, so plugins never call gcry_check_version. */
#pragma once

#include <gcrypt.h>
#include <string.h>

#include "helpers.h"

/* Lower-case hex of @len bytes at @data. Returns: (transfer full) */
static inline char *
atrium_hex (const guchar *data, gsize len)
{
        static const char digits[] = "0123456789abcdef";
        char *out = g_malloc (len * 2 + 1);
        for (gsize i = 0; i < len; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
        }
        out[len * 2] = '\0';
        return out;
}

/**
 * atrium_random_token:
 * @n_bytes: how many random bytes (32 for every token Atrium hands out: 256 bits)
 *
 * A secret for a bearer token, share link, feed URL or guest link: @n_bytes from libgcrypt's
 * GCRY_STRONG_RANDOM as base64url without padding. Store only its digest
 * (atrium_digest_hex). Returns: (transfer full)
 */
static inline char *
atrium_random_token (gsize n_bytes)
{
        guchar raw[64];
        g_return_val_if_fail (n_bytes > 0 && n_bytes <= sizeof raw, NULL);
        gcry_randomize (raw, n_bytes, GCRY_STRONG_RANDOM);
        char *token = atrium_base64url_encode (raw, n_bytes);
        memset (raw, 0, sizeof raw);
        return token;
}

/**
 * atrium_hmac_sha256:
 * @out: (out caller-allocates) (array fixed-size=32): the MAC
 *
 * HMAC-SHA256 (RFC 2104) of @data under @key: JWT HS256 signatures, callback signatures,
 * BigBlueButton passwords. Returns FALSE (with @out zeroed) only if libgcrypt fails, which a
 * working libgcrypt does not for a fixed algorithm; callers that verify must still refuse then.
 */
static inline gboolean
atrium_hmac_sha256 (const void *key, gsize key_len, const void *data, gsize len, guchar out[32])
{
        gcry_buffer_t iov[2] = {
                {.data = (void *) key, .len = key_len}, /* with GCRY_MD_FLAG_HMAC the key first */
                {.data = (void *) data, .len = len},
        };
        if (gcry_md_hash_buffers (GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC, out, iov, 2) != 0) {
                memset (out, 0, 32);
                return FALSE;
        }
        return TRUE;
}

/**
 * atrium_digest_hex:
 * @algo: GCRY_MD_SHA256, or GCRY_MD_SHA1 where a peer demands it (BigBlueButton checksums)
 *
 * The lower-case hex digest of @len bytes at @data: stored token hashes (the same text GLib's
 * g_compute_checksum_for_string gives, so hashes stored before stay valid), checksums.
 * Returns: (transfer full)
 */
static inline char *
atrium_digest_hex (int algo, const void *data, gsize len)
{
        guchar digest[64];
        unsigned int n = gcry_md_get_algo_dlen (algo);
        g_return_val_if_fail (n > 0 && n <= sizeof digest, NULL);
        gcry_md_hash_buffer (algo, digest, data, len);
        return atrium_hex (digest, n);
}

/* TRUE when the @len bytes at @a and @b are equal, in time that depends only on @len (MACs,
 * password tags): no early exit an attacker could time. */
static inline gboolean
atrium_ct_equal (const void *a, const void *b, gsize len)
{
        const volatile guchar *x = a, *y = b;
        guchar diff = 0;
        for (gsize i = 0; i < len; i++)
                diff |= x[i] ^ y[i];
        return diff == 0;
}

/* atrium_ct_equal for strings (signatures as text): NULL equals nothing, and strings of
 * different lengths differ at once (the length of a signature is no secret). */
static inline gboolean
atrium_ct_streq (const char *a, const char *b)
{
        if (!a || !b)
                return FALSE;
        gsize n = strlen (a);
        return n == strlen (b) && atrium_ct_equal (a, b, n);
}
