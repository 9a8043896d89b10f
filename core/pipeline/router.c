/* SPDX-License-Identifier: Apache-2.0 */
/* router.c - matching request paths against registered path templates.
 *
 * A linear scan over pre-split templates: Atrium has a few hundred routes at most, and a scan
 * that compares segment counts first is cheaper than it sounds and easy to prove right (there
 * is a fuzz target for it). Ties are broken by specificity: at the first segment where two
 * matching templates differ, the literal one wins. */
#include "pipeline-private.h"

#include <string.h>

#include "atrium/host.h"

typedef struct {
        char *method;
        char *template;
        char **segs;     /* template segments, without the leading "" */
        guint n_segs;
        gboolean tail;   /* last segment is {name*} */
        guint64 literal_mask; /* bit i set: segment i is literal (first 64 segments) */
        guint64 suffix_mask;  /* bit i set: segment i is a parameter with a literal suffix */
        gpointer data;
} Route;

struct _AtriumRouter {
        GPtrArray *routes;
};

static void
route_free (Route *r)
{
        g_free (r->method);
        g_free (r->template);
        g_strfreev (r->segs);
        g_free (r);
}

AtriumRouter *
atrium_router_new (void)
{
        AtriumRouter *router = g_new0 (AtriumRouter, 1);
        router->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
        return router;
}

void
atrium_router_free (AtriumRouter *router)
{
        if (!router)
                return;
        g_ptr_array_unref (router->routes);
        g_free (router);
}

/* Segments: "literal", "{name}", "{name}.suffix" (a parameter followed by literal text, as in
 * "{id}.ics") or, last only, the tail "{name*}". */
static gboolean
is_param (const char *seg)
{
        return seg[0] == '{' && strchr (seg, '}') != NULL;
}

static const char *
param_suffix (const char *seg)
{
        return strchr (seg, '}') + 1;
}

static gboolean
is_tail (const char *seg)
{
        size_t n = strlen (seg);
        return n >= 4 && seg[0] == '{' && seg[n - 2] == '*' && seg[n - 1] == '}';
}

/* "{name}" / "{name*}" / "{name}.ics" -> "name" */
static char *
param_name (const char *seg)
{
        const char *close = strchr (seg, '}');
        size_t n = (size_t) (close - seg - 1);
        if (n > 0 && seg[n] == '*')
                n--;
        return g_strndup (seg + 1, n);
}

/* A suffix is empty or a file extension: ".ics", ".tar.gz". */
static gboolean
suffix_valid (const char *suffix)
{
        if (!*suffix)
                return TRUE;
        if (suffix[0] != '.' || !suffix[1])
                return FALSE;
        for (const char *p = suffix; *p; p++)
                if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '.'))
                        return FALSE;
        return TRUE;
}

/* The value a parameter segment takes from @path_seg, or NULL if it does not match. */
static char *
param_value (const char *seg, const char *path_seg)
{
        const char *suffix = param_suffix (seg);
        size_t n = strlen (path_seg), k = strlen (suffix);
        if (n <= k || !g_str_has_suffix (path_seg, suffix))
                return NULL; /* parameters are never empty */
        /* nor dot segments: "%2E%2E.ics" decodes to "...ics", whose value before ".ics" is ".."
         * (the fuzzer found it; whole segments are refused in atrium_router_match) */
        if ((n - k == 1 && path_seg[0] == '.') ||
            (n - k == 2 && path_seg[0] == '.' && path_seg[1] == '.'))
                return NULL;
        return g_strndup (path_seg, n - k);
}

static gboolean
valid_name (const char *name)
{
        if (!name[0] || !(g_ascii_islower (name[0]) || name[0] == '_'))
                return FALSE;
        for (const char *p = name; *p; p++)
                if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_'))
                        return FALSE;
        return TRUE;
}

gboolean
atrium_router_add (AtriumRouter *router, const char *method, const char *template, gpointer data,
                   GError **error)
{
        if (!method || !*method || !template || template[0] != '/') {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "route template must start with '/': \"%s\"",
                             template ? template : "(null)");
                return FALSE;
        }
        g_auto (GStrv) segs = g_strsplit (template + 1, "/", -1);
        guint n = g_strv_length (segs);
        g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        guint64 mask = 0, smask = 0;
        gboolean tail = FALSE;
        for (guint i = 0; i < n; i++) {
                const char *s = segs[i];
                if (strchr (s, '{') || strchr (s, '}')) {
                        g_autofree char *name = NULL;
                        if (!is_param (s) || (is_tail (s) && i != n - 1) ||
                            !suffix_valid (param_suffix (s)) ||
                            (!is_tail (s) && strchr (s, '}')[-1] == '*') ||
                            (is_tail (s) && *param_suffix (s)) ||
                            !valid_name (name = param_name (s)) ||
                            g_hash_table_contains (names, name)) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "bad parameter segment \"%s\" in route \"%s\"", s,
                                             template);
                                return FALSE;
                        }
                        tail = is_tail (s);
                        if (*param_suffix (s) && i < 64)
                                smask |= G_GUINT64_CONSTANT (1) << i;
                        g_hash_table_add (names, g_steal_pointer (&name));
                } else if (i < 64) {
                        mask |= G_GUINT64_CONSTANT (1) << i;
                }
        }
        for (guint i = 0; i < router->routes->len; i++) {
                Route *r = router->routes->pdata[i];
                if (g_str_equal (r->method, method) && g_str_equal (r->template, template)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                                     "route %s %s is already registered", method, template);
                        return FALSE;
                }
        }
        Route *r = g_new0 (Route, 1);
        r->method = g_strdup (method);
        r->template = g_strdup (template);
        r->segs = g_steal_pointer (&segs);
        r->n_segs = n;
        r->tail = tail;
        r->literal_mask = mask;
        r->suffix_mask = smask;
        r->data = data;
        g_ptr_array_add (router->routes, r);
        return TRUE;
}

void
atrium_router_remove_if (AtriumRouter *router, GHRFunc pred, gpointer pred_data)
{
        for (guint i = router->routes->len; i > 0; i--) {
                Route *r = router->routes->pdata[i - 1];
                if (pred (r->template, r->data, pred_data))
                        g_ptr_array_remove_index (router->routes, i - 1);
        }
}

/* TRUE when @a is more specific than @b: the first differing segment is literal in @a.
 * Bit order matters: bit 0 is the first segment, so compare from the lowest bit up. */
static gboolean
more_specific (const Route *a, const Route *b)
{
        guint64 diff = a->literal_mask ^ b->literal_mask;
        if (diff)
                return (a->literal_mask & (diff & -diff)) != 0;
        /* "{id}.ics" is more specific than "{id}" */
        diff = a->suffix_mask ^ b->suffix_mask;
        if (diff)
                return (a->suffix_mask & (diff & -diff)) != 0;
        if (a->tail != b->tail)
                return !a->tail;
        return FALSE;
}

static gboolean
segments_match (const Route *r, char **path_segs, guint n)
{
        if (r->tail ? n + 1 < r->n_segs : n != r->n_segs)
                return FALSE;
        guint fixed = r->tail ? r->n_segs - 1 : r->n_segs;
        for (guint i = 0; i < fixed; i++) {
                const char *t = r->segs[i];
                if (is_param (t)) {
                        g_autofree char *v = param_value (t, path_segs[i]);
                        if (!v)
                                return FALSE;
                } else if (!g_str_equal (t, path_segs[i])) {
                        return FALSE;
                }
        }
        return TRUE;
}

static GHashTable *
collect_params (const Route *r, char **raw, char **decoded, guint n)
{
        GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        guint fixed = r->tail ? r->n_segs - 1 : r->n_segs;
        for (guint i = 0; i < fixed; i++)
                if (is_param (r->segs[i]))
                        g_hash_table_insert (params, param_name (r->segs[i]),
                                             param_value (r->segs[i], decoded[i]));
        if (r->tail) {
                /* The tail keeps its slashes: decode segment by segment and re-join. */
                GString *rest = g_string_new (NULL);
                for (guint i = fixed; i < n; i++) {
                        if (i > fixed)
                                g_string_append_c (rest, '/');
                        g_string_append (rest, decoded[i]);
                }
                g_hash_table_insert (params, param_name (r->segs[r->n_segs - 1]),
                                     g_string_free (rest, FALSE));
        }
        (void) raw;
        return params;
}

AtriumMatchResult
atrium_router_match (AtriumRouter *router, const char *method, const char *path,
                     gpointer *out_data, GHashTable **out_params, const char **out_template,
                     char **out_allow)
{
        if (!path || path[0] != '/')
                return ATRIUM_MATCH_BAD_PATH;

        g_auto (GStrv) raw = g_strsplit (path + 1, "/", -1);
        guint n = g_strv_length (raw);
        g_auto (GStrv) decoded = g_new0 (char *, n + 1);
        for (guint i = 0; i < n; i++) {
                /* "%2F" inside a segment would smuggle a separator past the template: refuse it,
                 * like NUL (g_uri_unescape_string always refuses %00). */
                decoded[i] = g_uri_unescape_string (raw[i], "/");
                if (!decoded[i] || !g_utf8_validate (decoded[i], -1, NULL) ||
                    g_str_equal (decoded[i], ".") || g_str_equal (decoded[i], ".."))
                        return ATRIUM_MATCH_BAD_PATH;
        }

        const Route *best = NULL;
        g_autoptr (GPtrArray) allow = NULL; /* method names, borrowed from the routes */
        gboolean head = g_str_equal (method, "HEAD");
        for (guint i = 0; i < router->routes->len; i++) {
                const Route *r = router->routes->pdata[i];
                if (!segments_match (r, decoded, n))
                        continue;
                gboolean method_ok = g_str_equal (r->method, method) ||
                                     (head && g_str_equal (r->method, "GET"));
                if (!method_ok) {
                        if (!allow)
                                allow = g_ptr_array_new ();
                        if (!g_ptr_array_find_with_equal_func (allow, r->method, g_str_equal, NULL))
                                g_ptr_array_add (allow, r->method);
                        continue;
                }
                /* An explicit HEAD route beats GET-as-HEAD for the same template. */
                if (!best || more_specific (r, best) ||
                    (head && g_str_equal (r->method, "HEAD") && !more_specific (best, r)))
                        best = r;
        }
        if (!best) {
                if (allow && out_allow) {
                        g_ptr_array_add (allow, NULL);
                        *out_allow = g_strjoinv (", ", (char **) allow->pdata);
                }
                return allow ? ATRIUM_MATCH_METHOD_NOT_ALLOWED : ATRIUM_MATCH_NOT_FOUND;
        }
        if (out_data)
                *out_data = best->data;
        if (out_template)
                *out_template = best->template;
        if (out_params)
                *out_params = collect_params (best, raw, decoded, n);
        return ATRIUM_MATCH_OK;
}

void
atrium_router_foreach (AtriumRouter *router, AtriumRouteFunc func, gpointer user_data)
{
        for (guint i = 0; i < router->routes->len; i++) {
                Route *r = router->routes->pdata[i];
                func (r->method, r->template, r->data, user_data);
        }
}
