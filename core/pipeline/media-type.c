/* SPDX-License-Identifier: Apache-2.0 */
/* media-type.c - a route's response_type: the media types of its success answers that are
 * not JSON (AtriumRoute, ABI 1.5), checked when the route is added, listed in the OpenAPI
 * document and, with [http] check_responses, held to the answers' Content-Type. */
#include "core-private.h"
#include "pipeline-private.h"

#include <string.h>

/* RFC 9110's token, or "*" alone. */
static gboolean
token_ok (const char *s, gsize len, gboolean star)
{
        if (len == 0)
                return FALSE;
        if (star && len == 1 && s[0] == '*')
                return TRUE;
        for (gsize i = 0; i < len; i++)
                if (!g_ascii_isalnum (s[i]) && !strchr ("!#$%&'*+-.^_`|~", s[i]))
                        return FALSE;
        return !memchr (s, '*', len);
}

/* "type/subtype" (parameters after ';' kept for the document): @type "*" only with a "*"
 * subtype. */
static gboolean
media_type_ok (const char *t)
{
        const char *slash = strchr (t, '/');
        if (!slash)
                return FALSE;
        const char *end = strchr (t, ';');
        gsize sub_len = (end ? (gsize) (end - slash) : strlen (slash)) - 1;
        while (sub_len > 0 && slash[sub_len] == ' ')
                sub_len--;
        if (!token_ok (t, slash - t, TRUE) || !token_ok (slash + 1, sub_len, TRUE))
                return FALSE;
        return !(t[0] == '*' && slash[1] != '*');
}

char **
atrium_media_types_parse (const char *text, GError **error)
{
        /* g_strsplit() makes no part of "": that is an empty part too */
        g_auto (GStrv) parts = g_strsplit (*text ? text : " ", ",", -1);
        GStrvBuilder *b = g_strv_builder_new ();
        for (char **p = parts; *p; p++) {
                g_autofree char *t = g_ascii_strdown (g_strstrip (*p), -1);
                if (!media_type_ok (t)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "response_type: \"%s\" is not a media type (type/subtype, "
                                     "a range such as image/* or */*, separated by commas)",
                                     *p);
                        g_strv_builder_unref (b);
                        return NULL;
                }
                g_strv_builder_add (b, t);
        }
        char **out = g_strv_builder_end (b);
        g_strv_builder_unref (b);
        return out;
}

/* Whether @content_type (a Content-Type header's value) is one of @types. */
gboolean
atrium_media_types_match (char *const *types, const char *content_type)
{
        const char *semi = strchr (content_type, ';');
        g_autofree char *got =
                g_ascii_strdown (content_type, semi ? (gssize) (semi - content_type) : -1);
        g_strstrip (got);
        const char *slash = strchr (got, '/');
        if (!slash)
                return FALSE;
        for (guint i = 0; types && types[i]; i++) {
                const char *t = types[i];
                const char *tslash = strchr (t, '/');
                const char *tsemi = strchr (t, ';');
                gsize tlen = tsemi ? (gsize) (tsemi - t) : strlen (t);
                while (tlen > 0 && t[tlen - 1] == ' ')
                        tlen--;
                if (tlen == 3 && g_str_has_prefix (t, "*/*"))
                        return TRUE;
                if (g_str_has_prefix (tslash, "/*") && tslash - t == slash - got &&
                    strncmp (t, got, slash - got) == 0)
                        return TRUE;
                if (strlen (got) == tlen && strncmp (t, got, tlen) == 0)
                        return TRUE;
        }
        return FALSE;
}
