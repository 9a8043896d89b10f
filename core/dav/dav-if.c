/* SPDX-License-Identifier: Apache-2.0 */
/* dav-if.c - the If header (RFC 4918 10.4): parsed here, evaluated by dav-locks.c.
 *
 *   If = ( 1*No-tag-list ) | ( 1*Tagged-list )
 *   Tagged-list = Resource-Tag 1*List      Resource-Tag = "<" Simple-ref ">"
 *   List = "(" 1*Condition ")"             Condition = ["Not"] (State-token | "[" entity-tag "]")
 *
 * The header is true when one of its lists is true; a list is true when all its conditions
 * are. Every state token that appears is also "submitted" for the lock checks (10.4.1: a
 * token in the header proves the client knows the lock, whatever the list's verdict). */
#include "dav-private.h"

#include <string.h>

void
atrium_dav_if_free (AtriumDavIf *h)
{
        if (!h)
                return;
        g_ptr_array_unref (h->lists);
        g_ptr_array_unref (h->tokens);
        g_free (h);
}

static void
list_free (AtriumDavIfList *l)
{
        g_free (l->resource);
        g_ptr_array_unref (l->conditions);
        g_free (l);
}

static void
condition_free (AtriumDavIfCondition *c)
{
        g_free (c->token);
        g_free (c->etag);
        g_free (c);
}

static const char *
skip_ws (const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* The text up to @close (exclusive), advancing *@p past it; NULL if it never comes. */
static char *
until (const char **p, char close)
{
        const char *end = strchr (*p, close);
        if (!end)
                return NULL;
        char *out = g_strndup (*p, (gsize) (end - *p));
        *p = end + 1;
        return out;
}

AtriumDavIf *
atrium_dav_if_parse (const char *text, GError **error)
{
        g_autoptr (AtriumDavIf) h = g_new0 (AtriumDavIf, 1);
        h->lists = g_ptr_array_new_with_free_func ((GDestroyNotify) list_free);
        h->tokens = g_ptr_array_new_with_free_func (g_free);
        const char *p = skip_ws (text);
        g_autofree char *resource = NULL;
        gboolean tagged = FALSE, untagged = FALSE;
        while (*p) {
                if (*p == '<') {
                        p++;
                        g_free (resource);
                        resource = until (&p, '>');
                        if (!resource || untagged)
                                goto bad;
                        tagged = TRUE;
                        p = skip_ws (p);
                        if (*p != '(')
                                goto bad;
                        continue;
                }
                if (*p != '(')
                        goto bad;
                if (!tagged)
                        untagged = TRUE;
                p++;
                AtriumDavIfList *l = g_new0 (AtriumDavIfList, 1);
                l->resource = g_strdup (resource);
                l->conditions = g_ptr_array_new_with_free_func ((GDestroyNotify) condition_free);
                g_ptr_array_add (h->lists, l);
                for (;;) {
                        p = skip_ws (p);
                        if (*p == ')') {
                                p++;
                                break;
                        }
                        AtriumDavIfCondition *c = g_new0 (AtriumDavIfCondition, 1);
                        g_ptr_array_add (l->conditions, c);
                        if (g_ascii_strncasecmp (p, "Not", 3) == 0) {
                                c->negate = TRUE;
                                p = skip_ws (p + 3);
                        }
                        if (*p == '<') {
                                p++;
                                c->token = until (&p, '>');
                                if (!c->token)
                                        goto bad;
                                g_ptr_array_add (h->tokens, g_strdup (c->token));
                        } else if (*p == '[') {
                                p++;
                                c->etag = until (&p, ']');
                                if (!c->etag)
                                        goto bad;
                        } else {
                                goto bad;
                        }
                }
                if (!l->conditions->len)
                        goto bad;
                p = skip_ws (p);
        }
        if (!h->lists->len)
                goto bad;
        return g_steal_pointer (&h);
bad:
        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                     "the If header is malformed near character %u", (guint) (p - text));
        return NULL;
}

gboolean
atrium_dav_if_has_token (const AtriumDavIf *h, const char *token)
{
        for (guint i = 0; h && i < h->tokens->len; i++)
                if (g_str_equal (h->tokens->pdata[i], token))
                        return TRUE;
        return FALSE;
}
