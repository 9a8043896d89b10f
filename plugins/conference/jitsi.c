/* SPDX-License-Identifier: Apache-2.0 */
/* jitsi.c - JSON Web Tokens (RFC 7519) for Jitsi Meet's token authentication: HS256 (HMAC
 * with SHA-256, libgcrypt) over base64url JSON, with the claims prosody's token module
 * checks: iss (the application id), aud, sub (the Jitsi domain), room, iat/nbf/exp, and
 * context.user (id, name). Jitsi's event callbacks are checked by their signed URL
 * (conf_callback_sig, backend.c), not by a token. */
#include "conference-private.h"

#include <string.h>

#include "atrium/crypto.h"

static gboolean
hs256 (const char *secret, const char *data, gsize len, guchar out[32])
{
        return atrium_hmac_sha256 (secret, strlen (secret), data, len, out);
}

static char *
json_b64 (JsonObject *o)
{
        g_autoptr (JsonNode) n = atrium_object_node (json_object_ref (o));
        g_autofree char *text = json_to_string (n, FALSE);
        return atrium_base64url_encode ((const guchar *) text, strlen (text));
}

char *
conf_jitsi_token (const ConfBackend *b, const ConfJitsiClaims *c)
{
        g_autoptr (JsonObject) header = json_object_new ();
        json_object_set_string_member (header, "alg", "HS256");
        json_object_set_string_member (header, "typ", "JWT");

        g_autoptr (GUri) uri = g_uri_parse (b->url, G_URI_FLAGS_NONE, NULL);
        g_autoptr (JsonObject) claims = json_object_new ();
        json_object_set_string_member (claims, "iss", b->app_id);
        json_object_set_string_member (claims, "aud", "jitsi");
        json_object_set_string_member (claims, "sub",
                                       uri && g_uri_get_host (uri) ? g_uri_get_host (uri) : "*");
        json_object_set_string_member (claims, "room", c->room);
        json_object_set_int_member (claims, "iat", c->now);
        json_object_set_int_member (claims, "nbf", c->now);
        json_object_set_int_member (claims, "exp", c->now + c->ttl);
        json_object_set_boolean_member (claims, "moderator", c->moderator);
        JsonObject *user = json_object_new ();
        json_object_set_string_member (user, "id", c->user_id);
        json_object_set_string_member (user, "name", c->name);
        if (c->email)
                json_object_set_string_member (user, "email", c->email);
        json_object_set_boolean_member (user, "moderator", c->moderator);
        JsonObject *context = json_object_new ();
        json_object_set_object_member (context, "user", user);
        json_object_set_object_member (claims, "context", context);

        g_autofree char *h64 = json_b64 (header);
        g_autofree char *p64 = json_b64 (claims);
        g_autofree char *signing = g_strconcat (h64, ".", p64, NULL);
        guchar mac[32];
        hs256 (b->secret, signing, strlen (signing), mac);
        g_autofree char *s64 = atrium_base64url_encode (mac, sizeof mac);
        return g_strconcat (signing, ".", s64, NULL);
}
