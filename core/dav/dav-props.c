/* SPDX-License-Identifier: Apache-2.0 */
/* dav-props.c - the live properties of a resource, and PROPFIND (RFC 4918 9.1).
 *
 * A tree describes a resource (AtriumDavResource); this file turns the description into the
 * DAV: properties clients read: resourcetype, getcontentlength, getcontenttype, getetag,
 * getlastmodified, creationdate, displayname, and the quota properties of RFC 4331. Depth 0
 * and 1 only: `Depth: infinity` is refused with 403 and <D:propfind-finite-depth/> by dav.c
 * (a whole tree in one answer is a denial of service waiting to happen). */
#include "dav-private.h"

#include <string.h>

void
atrium_dav_entry_free (AtriumDavEntry *e)
{
        if (!e)
                return;
        g_free (e->id);
        g_free (e->name);
        g_free (e->etag);
        g_free (e->content_type);
        g_free (e->display_name);
        g_clear_pointer (&e->props, g_ptr_array_unref);
        g_free (e->data);
        g_free (e);
}

void
atrium_dav_extra_free (AtriumDavExtra *x)
{
        if (!x)
                return;
        g_free (x->ns);
        g_free (x->name);
        g_free (x->text);
        g_free (x->xml);
        g_free (x);
}

void
atrium_dav_collect (const AtriumDavResource *in, gpointer array)
{
        /* A resource is versioned like a route: read what the plugin's headers knew. */
        AtriumDavResource r = {0};
        r.quota_used = r.quota_available = -1;
        if (!in || in->header.magic != ATRIUM_MAGIC || in->header.abi_major != ATRIUM_ABI_MAJOR ||
            in->header.struct_size <
                    offsetof (AtriumDavResource, quota_available) + sizeof (gint64)) {
                g_critical ("a DAV tree emitted a resource without a valid header "
                            "(use ATRIUM_DAV_RESOURCE_INIT)");
                return;
        }
        memcpy (&r, in, MIN ((size_t) in->header.struct_size, sizeof r));
        AtriumDavEntry *e = g_new0 (AtriumDavEntry, 1);
        e->id = g_strdup (r.id);
        e->name = g_strdup (r.name);
        e->collection = r.collection;
        e->length = r.length;
        e->etag = g_strdup (r.etag);
        e->content_type = g_strdup (r.content_type);
        e->modified = r.modified;
        e->created = r.created;
        e->display_name = g_strdup (r.display_name);
        e->quota_used = r.quota_used;
        e->quota_available = r.quota_available;
        e->data = g_strdup (r.data);
        e->gone = r.gone;
        for (guint i = 0; r.props && i < r.n_props; i++) {
                const AtriumDavProp *p = &r.props[i];
                if (!p->ns || !p->name || (!p->text && !p->xml))
                        continue;
                if (!e->props)
                        e->props = g_ptr_array_new_with_free_func (
                                (GDestroyNotify) atrium_dav_extra_free);
                AtriumDavExtra *x = g_new0 (AtriumDavExtra, 1);
                x->ns = g_strdup (p->ns);
                x->name = g_strdup (p->name);
                x->text = g_strdup (p->text);
                x->xml = g_strdup (p->xml);
                g_ptr_array_add (e->props, x);
        }
        g_ptr_array_add (array, e);
}

char *
atrium_dav_child_href (const char *href, const char *name, gboolean collection)
{
        /* Unreserved characters and sub-delims stay; everything else (spaces, '%', '#', '?',
         * non-ASCII) is escaped, so the href is one valid URI path. */
        g_autofree char *seg = g_uri_escape_string (name, "!$&'()*+,;=:@", FALSE);
        return g_strconcat (href, seg, collection ? "/" : "", NULL);
}

/* ---- the live properties ---- */

typedef enum {
        P_RESOURCETYPE,
        P_LENGTH,
        P_TYPE,
        P_ETAG,
        P_MODIFIED,
        P_CREATED,
        P_DISPLAYNAME,
        P_QUOTA_USED,
        P_QUOTA_AVAILABLE,
        P_SUPPORTEDLOCK,
        P_LOCKDISCOVERY,
        N_LIVE
} Live;

static const char *const live_names[N_LIVE] = {
        "resourcetype",          "getcontentlength", "getcontenttype", "getetag",
        "getlastmodified",       "creationdate",     "displayname",    "quota-used-bytes",
        "quota-available-bytes", "supportedlock",    "lockdiscovery",
};

/* Does @e have property @p? (An allprop lists what exists; a prop request answers 404 for
 * what does not.) The quota properties are not part of allprop (RFC 4331 3). */
static gboolean
has_live (const AtriumDavEntry *e, Live p)
{
        switch (p) {
        case P_LENGTH:
        case P_TYPE:
                return !e->collection && (p != P_TYPE || e->content_type);
        case P_ETAG:
                return e->etag != NULL;
        case P_MODIFIED:
                return e->modified > 0;
        case P_CREATED:
                return e->created > 0;
        case P_QUOTA_USED:
        case P_QUOTA_AVAILABLE:
                return e->quota_used >= 0 && e->quota_available >= 0;
        default:
                return TRUE;
        }
}

/* Where lockdiscovery looks: the locks near the listing and the entry's canonical path. */
typedef struct {
        GPtrArray *locks;
        const char *canon; /* (nullable) */
} LockView;

/* @v in decimal in @buf (24 bytes); returns @buf. A listing writes three numbers per entry. */
static const char *
int_text (char *buf, gint64 v)
{
        char *p = buf;
        if (v < 0)
                *p++ = '-';
        atrium_format_uint (p, v < 0 ? -(guint64) v : (guint64) v, 1);
        return buf;
}

static void
write_live (AtriumDavWriter *w, const AtriumDavEntry *e, Live p, const LockView *lv)
{
        g_autofree char *owned = NULL;
        const char *text = NULL;
        char num[24];
        switch (p) {
        case P_LOCKDISCOVERY:
                atrium_dav_write_lockdiscovery (w, lv->locks, lv->canon);
                return;
        case P_RESOURCETYPE:
                atrium_dav_write_start (w, ATRIUM_DAV_NS, "resourcetype");
                if (e->collection)
                        atrium_dav_write_empty (w, ATRIUM_DAV_NS, "collection");
                atrium_dav_write_endel (w);
                return;
        case P_SUPPORTEDLOCK:
                atrium_dav_write_start (w, ATRIUM_DAV_NS, "supportedlock");
                for (int i = 0; i < 2; i++) {
                        atrium_dav_write_start (w, ATRIUM_DAV_NS, "lockentry");
                        atrium_dav_write_start (w, ATRIUM_DAV_NS, "lockscope");
                        atrium_dav_write_empty (w, ATRIUM_DAV_NS, i ? "shared" : "exclusive");
                        atrium_dav_write_endel (w);
                        atrium_dav_write_start (w, ATRIUM_DAV_NS, "locktype");
                        atrium_dav_write_empty (w, ATRIUM_DAV_NS, "write");
                        atrium_dav_write_endel (w);
                        atrium_dav_write_endel (w);
                }
                atrium_dav_write_endel (w);
                return;
        case P_LENGTH:
                text = int_text (num, e->length);
                break;
        case P_TYPE:
                text = e->content_type;
                break;
        case P_ETAG:
                text = e->etag;
                break;
        case P_MODIFIED:
                text = owned = atrium_dav_http_date (e->modified);
                break;
        case P_CREATED:
                text = owned = atrium_dav_iso_date (e->created);
                break;
        case P_DISPLAYNAME:
                text = e->display_name ? e->display_name : e->name ? e->name : "";
                break;
        case P_QUOTA_USED:
                text = int_text (num, e->quota_used);
                break;
        case P_QUOTA_AVAILABLE:
                text = int_text (num, MAX (e->quota_available, 0));
                break;
        default:
                g_assert_not_reached ();
        }
        atrium_dav_write_text (w, ATRIUM_DAV_NS, live_names[p], text);
}

static int
live_of (const AtriumDavPropName *n)
{
        if (!g_str_equal (n->ns, ATRIUM_DAV_NS))
                return -1;
        for (int i = 0; i < N_LIVE; i++)
                if (g_str_equal (n->name, live_names[i]))
                        return i;
        return -1;
}

static const AtriumDavDead *
dead_named (GPtrArray *dead, const AtriumDavPropName *n)
{
        for (guint i = 0; dead && i < dead->len; i++) {
                const AtriumDavDead *d = dead->pdata[i];
                if (g_str_equal (d->ns, n->ns) && g_str_equal (d->name, n->name))
                        return d;
        }
        return NULL;
}

static const AtriumDavExtra *
extra_named (const AtriumDavEntry *e, const char *ns, const char *name)
{
        for (guint i = 0; e->props && i < e->props->len; i++) {
                const AtriumDavExtra *x = e->props->pdata[i];
                if (g_str_equal (x->ns, ns) && g_str_equal (x->name, name))
                        return x;
        }
        return NULL;
}

static void
write_extra (AtriumDavWriter *w, const AtriumDavExtra *x)
{
        if (x->xml)
                atrium_dav_write_raw (w, x->xml);
        else
                atrium_dav_write_text (w, x->ns, x->name, x->text);
}

/* The properties the host answers for every resource from who is asking (RFC 5397, RFC
 * 3744 5.8): where a client finds the caller's principal. Not part of allprop. */
static gboolean
write_principal_prop (AtriumDavWriter *w, const AtriumDavPropName *n, const char *principal)
{
        if (!principal || !*principal || !g_str_equal (n->ns, ATRIUM_DAV_NS))
                return FALSE;
        gboolean set = g_str_equal (n->name, "principal-collection-set");
        if (!set && !g_str_equal (n->name, "current-user-principal"))
                return FALSE;
        /* the set: "/dav/<school>/principals/<user>/" without its last segment */
        g_autofree char *href = g_strdup (principal);
        if (set && strlen (href) > 1) {
                href[strlen (href) - 1] = 0;
                char *cut = strrchr (href, '/');
                if (cut)
                        cut[1] = 0;
        }
        atrium_dav_write_start (w, ATRIUM_DAV_NS, n->name);
        atrium_dav_write_href (w, href);
        atrium_dav_write_endel (w);
        return TRUE;
}

void
atrium_dav_write_response (AtriumDavWriter *w, const AtriumDavEntry *e, const char *href,
                           AtriumDavPropfindKind kind, GPtrArray *asked, GPtrArray *dead,
                           GPtrArray *locks, const char *canon, const char *principal)
{
        const LockView view = {locks, canon}, *lv = &view;
        gboolean own_type = extra_named (e, ATRIUM_DAV_NS, "resourcetype") != NULL;
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "response");
        atrium_dav_write_href (w, href);
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "propstat");
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "prop");
        g_autoptr (GPtrArray) missing = g_ptr_array_new ();
        if (kind == ATRIUM_DAV_PROPFIND_PROP) {
                for (guint i = 0; i < asked->len; i++) {
                        const AtriumDavPropName *n = asked->pdata[i];
                        const AtriumDavExtra *x = extra_named (e, n->ns, n->name);
                        int p = live_of (n);
                        const AtriumDavDead *d = p < 0 ? dead_named (dead, n) : NULL;
                        if (x)
                                write_extra (w, x);
                        else if (p >= 0 && has_live (e, p))
                                write_live (w, e, p, lv);
                        else if (write_principal_prop (w, n, principal))
                                continue;
                        else if (d)
                                atrium_dav_write_raw (w, d->xml);
                        else
                                g_ptr_array_add (missing, (gpointer) n);
                }
        } else {
                for (int p = 0; p < N_LIVE; p++) {
                        gboolean quota = p == P_QUOTA_USED || p == P_QUOTA_AVAILABLE;
                        if (!has_live (e, p) || (p == P_RESOURCETYPE && own_type))
                                continue;
                        if (kind == ATRIUM_DAV_PROPFIND_PROPNAME)
                                atrium_dav_write_empty (w, ATRIUM_DAV_NS, live_names[p]);
                        else if (!quota)
                                write_live (w, e, p, lv);
                }
                for (guint i = 0; e->props && i < e->props->len; i++) {
                        const AtriumDavExtra *x = e->props->pdata[i];
                        if (kind == ATRIUM_DAV_PROPFIND_PROPNAME)
                                atrium_dav_write_empty (w, x->ns, x->name);
                        else
                                write_extra (w, x);
                }
                for (guint i = 0; dead && i < dead->len; i++) {
                        const AtriumDavDead *d = dead->pdata[i];
                        if (extra_named (e, d->ns, d->name))
                                continue;
                        if (kind == ATRIUM_DAV_PROPFIND_PROPNAME)
                                atrium_dav_write_empty (w, d->ns, d->name);
                        else
                                atrium_dav_write_raw (w, d->xml);
                }
                /* allprop's <D:include>: the quota properties on request. */
                for (guint i = 0; kind == ATRIUM_DAV_PROPFIND_ALLPROP && i < asked->len; i++) {
                        int p = live_of (asked->pdata[i]);
                        if ((p == P_QUOTA_USED || p == P_QUOTA_AVAILABLE) && has_live (e, p))
                                write_live (w, e, p, lv);
                }
        }
        atrium_dav_write_endel (w); /* prop */
        atrium_dav_write_status (w, 200);
        atrium_dav_write_endel (w); /* propstat */
        if (missing->len) {
                atrium_dav_write_start (w, ATRIUM_DAV_NS, "propstat");
                atrium_dav_write_start (w, ATRIUM_DAV_NS, "prop");
                for (guint i = 0; i < missing->len; i++) {
                        const AtriumDavPropName *n = missing->pdata[i];
                        atrium_dav_write_empty (w, n->ns, n->name);
                }
                atrium_dav_write_endel (w);
                atrium_dav_write_status (w, 404);
                atrium_dav_write_endel (w);
        }
        atrium_dav_write_endel (w); /* response */
}

char *
atrium_dav_principal_href (AtriumRequest *req, GError **error)
{
        /* A DAV read may not have judged who asks yet (its check travels with the first
         * query): the accessor judges it. */
        if (!atrium_request_user_id (req))
                return g_strdup ("");
        g_autofree char *school = g_uri_escape_string (req->school_slug, NULL, FALSE);
        if (req->dav_username) /* the identity check named the caller */
                return g_strdup_printf ("/dav/%s/principals/%s/", school, req->dav_username);
        const char *p[1] = {req->user_id};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx, "SELECT username FROM core.users WHERE id = $1::uuid", 1, p, error);
        if (!res)
                return NULL;
        if (atrium_result_n_rows (res) != 1)
                return g_strdup ("");
        return g_strdup_printf ("/dav/%s/principals/%s/", school, atrium_result_value (res, 0, 0));
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
        const AtriumDavEntry *x = *(AtriumDavEntry *const *) a, *y = *(AtriumDavEntry *const *) b;
        return g_strcmp0 (x->name, y->name);
}

gboolean
atrium_dav_propfind (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                     const char *href, GError **error)
{
        const AtriumDavTree *t = &m->tree;
        const char *depth = g_hash_table_lookup (req->headers, "depth");
        gboolean one = depth && g_str_equal (depth, "1");
        AtriumDavPropfindKind kind;
        g_autoptr (GPtrArray) asked = NULL;
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        const char *data = req->body ? g_bytes_get_data (req->body, NULL) : "";
        if (!atrium_dav_parse_propfind (data, len, &kind, &asked, error))
                return FALSE;

        g_autoptr (GPtrArray) self =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (!t->stat (req, path, atrium_dav_collect, self, t->user_data, error))
                return FALSE;
        if (self->len != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                             "the %s tree's stat emitted %u resources", m->mount, self->len);
                return FALSE;
        }
        const AtriumDavEntry *e = self->pdata[0];
        g_autofree char *self_href = e->collection && !g_str_has_suffix (href, "/")
                                             ? g_strconcat (href, "/", NULL)
                                             : g_strdup (href);
        g_autoptr (GPtrArray) kids =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (one && e->collection) {
                if (!t->list (req, path, atrium_dav_collect, kids, t->user_data, error))
                        return FALSE;
                g_ptr_array_sort (kids, by_name);
        }
        /* The dead properties of all of them in one round trip. */
        g_autoptr (GPtrArray) ids = g_ptr_array_new ();
        if (e->id)
                g_ptr_array_add (ids, e->id);
        for (guint i = 0; i < kids->len; i++)
                if (((AtriumDavEntry *) kids->pdata[i])->id)
                        g_ptr_array_add (ids, ((AtriumDavEntry *) kids->pdata[i])->id);
        g_autoptr (GHashTable) dead = atrium_dav_dead_load (req, m->mount, ids, error);
        if (!dead)
                return FALSE;
        g_autofree char *canon = NULL;
        g_autoptr (GPtrArray) locks = atrium_dav_locks_for_listing (req, m, path, &canon, error);
        if (!locks)
                return FALSE;
        g_autofree char *principal = atrium_dav_principal_href (req, error);
        if (!principal)
                return FALSE;
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        atrium_dav_write_response (&w, e, self_href, kind, asked,
                                   e->id ? g_hash_table_lookup (dead, e->id) : NULL, locks, canon,
                                   principal);
        for (guint i = 0; i < kids->len; i++) {
                const AtriumDavEntry *k = kids->pdata[i];
                if (!k->name || !*k->name)
                        continue;
                g_autofree char *kh = atrium_dav_child_href (self_href, k->name, k->collection);
                g_autofree char *kc = canon ? g_strconcat (canon, "/", k->name, NULL) : NULL;
                atrium_dav_write_response (&w, k, kh, kind, asked,
                                           k->id ? g_hash_table_lookup (dead, k->id) : NULL, locks,
                                           kc, principal);
        }
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, 207, "application/xml; charset=utf-8", body);
        return TRUE;
}
