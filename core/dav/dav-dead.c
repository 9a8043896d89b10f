/* SPDX-License-Identifier: Apache-2.0 */
/* dav-dead.c - dead properties (RFC 4918 4.2, 9.2): PROPPATCH, and what PROPFIND and COPY
 * need of them.
 *
 * They live in core.dav_properties (schema/0008_dav.sql), per school, tree and resource id,
 * each as the whole property element serialised with the namespace declarations it needs:
 * what a client set is what it reads back, namespaces, xml:lang, mixed content and characters
 * outside the BMP included (the pitfalls peers' trackers show: owncloud/core#8441). A MOVE
 * keeps them (the id goes with the resource); a COPY copies those of the resource copied and,
 * of a collection, those of every member, matched by their path below it (the copies have new
 * ids). A tree's resources that go away for good take theirs along: the files plugin's schema
 * deletes them with the rows (plugins/files/schema/0008_dav_properties.sql).
 *
 * PROPPATCH is atomic (RFC 4918 9.2): every instruction is checked first; if one fails,
 * nothing is applied and the others answer 424. Live properties are protected except
 * getlastmodified, which a tree that keeps modification times (set_modified) accepts as an
 * IMF-fixdate: the way rclone and some clients set a file's time; and displayname and the
 * tree's own live properties where it has set_property (a calendar's name and colour), which
 * decides on each, inside a savepoint, before any dead property is written. */
#include "dav-private.h"

#include <string.h>

void
atrium_dav_dead_free (AtriumDavDead *d)
{
        if (!d)
                return;
        g_free (d->ns);
        g_free (d->name);
        g_free (d->xml);
        g_free (d);
}

/* A PostgreSQL text[] literal of @ids (uuids and "type:uuid" ids: quoted anyway). */
static char *
text_array (GPtrArray *ids)
{
        g_autoptr (GString) s = g_string_new ("{");
        for (guint i = 0; i < ids->len; i++) {
                if (i)
                        g_string_append_c (s, ',');
                g_string_append_c (s, '"');
                for (const char *c = ids->pdata[i]; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                g_string_append_c (s, '\\');
                        g_string_append_c (s, *c);
                }
                g_string_append_c (s, '"');
        }
        g_string_append_c (s, '}');
        return g_string_free (g_steal_pointer (&s), FALSE);
}

GHashTable *
atrium_dav_dead_load (AtriumRequest *req, const char *tree, GPtrArray *ids, GError **error)
{
        GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify) g_ptr_array_unref);
        if (!ids->len)
                return out;
        g_autofree char *arr = text_array (ids);
        const char *p[2] = {tree, arr};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx,
                "SELECT resource_id, ns, name, value FROM core.dav_properties WHERE tree = $1 "
                "AND resource_id = ANY ($2::text[]) ORDER BY resource_id, ns, name",
                2, p, error);
        if (!res) {
                g_hash_table_unref (out);
                return NULL;
        }
        for (int i = 0; i < atrium_result_n_rows (res); i++) {
                const char *id = atrium_result_value (res, i, 0);
                GPtrArray *list = g_hash_table_lookup (out, id);
                if (!list) {
                        list = g_ptr_array_new_with_free_func (
                                (GDestroyNotify) atrium_dav_dead_free);
                        g_hash_table_insert (out, g_strdup (id), list);
                }
                AtriumDavDead *d = g_new0 (AtriumDavDead, 1);
                d->ns = g_strdup (atrium_result_value (res, i, 1));
                d->name = g_strdup (atrium_result_value (res, i, 2));
                d->xml = g_strdup (atrium_result_value (res, i, 3));
                g_ptr_array_add (list, d);
        }
        return out;
}

gboolean
atrium_dav_dead_copy (AtriumRequest *req, const char *tree, const char *from, const char *to,
                      GError **error)
{
        if (!from || !to || g_str_equal (from, to))
                return TRUE;
        const char *p[3] = {tree, from, to};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx,
                "INSERT INTO core.dav_properties (school_id, tree, resource_id, ns, name, value) "
                "SELECT school_id, tree, $3, ns, name, value FROM core.dav_properties "
                "WHERE tree = $1 AND resource_id = $2 "
                "ON CONFLICT (school_id, tree, resource_id, ns, name) "
                "DO UPDATE SET value = excluded.value",
                3, p, error);
        return res != NULL;
}

/* Every member below the collection @path of @m, as path relative to it -> id, walked
 * through the tree's list; at most @limit of them. */
static gboolean
walk (AtriumRequest *req, const AtriumDavMount *m, const char *path, const char *rel,
      GHashTable *out, guint limit, GError **error)
{
        g_autoptr (GPtrArray) kids =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        if (!m->tree.list (req, path, atrium_dav_collect, kids, m->tree.user_data, error))
                return FALSE;
        for (guint i = 0; i < kids->len; i++) {
                const AtriumDavEntry *k = kids->pdata[i];
                if (!k->name || !*k->name)
                        continue;
                if (g_hash_table_size (out) >= limit) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INSUFFICIENT_STORAGE,
                                     "a copy of more than %u resources keeps no properties", limit);
                        return FALSE;
                }
                g_autofree char *kr =
                        *rel ? g_strconcat (rel, "/", k->name, NULL) : g_strdup (k->name);
                if (k->id)
                        g_hash_table_insert (out, g_strdup (kr), g_strdup (k->id));
                if (k->collection) {
                        g_autofree char *kp =
                                *path ? g_strconcat (path, "/", k->name, NULL) : g_strdup (k->name);
                        if (!walk (req, m, kp, kr, out, limit, error))
                                return FALSE;
                }
        }
        return TRUE;
}

gboolean
atrium_dav_dead_copy_members (AtriumRequest *req, const AtriumDavMount *m, const char *from,
                              const char *to, GError **error)
{
        /* Most trees have no dead properties at all: then there is nothing to walk. */
        const char *p[1] = {m->mount};
        g_autoptr (AtriumResult) any = atrium_tx_query (
                req->tx, "SELECT 1 FROM core.dav_properties WHERE tree = $1 LIMIT 1", 1, p, error);
        if (!any)
                return FALSE;
        if (atrium_result_n_rows (any) == 0)
                return TRUE;
        const guint limit = 100000;
        g_autoptr (GHashTable) src =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr (GHashTable) dst =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        if (!walk (req, m, from, "", src, limit, error) ||
            !walk (req, m, to, "", dst, limit, error))
                return FALSE;
        g_autoptr (GPtrArray) from_ids = g_ptr_array_new ();
        g_autoptr (GPtrArray) to_ids = g_ptr_array_new ();
        GHashTableIter it;
        gpointer rel, id;
        g_hash_table_iter_init (&it, dst);
        while (g_hash_table_iter_next (&it, &rel, &id)) {
                const char *was = g_hash_table_lookup (src, rel);
                if (was && !g_str_equal (was, id)) {
                        g_ptr_array_add (from_ids, (gpointer) was);
                        g_ptr_array_add (to_ids, id);
                }
        }
        if (!from_ids->len)
                return TRUE;
        g_autofree char *a = text_array (from_ids);
        g_autofree char *b = text_array (to_ids);
        const char *q[3] = {m->mount, a, b};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx,
                "INSERT INTO core.dav_properties (school_id, tree, resource_id, ns, name, value) "
                "SELECT p.school_id, p.tree, c.dst, p.ns, p.name, p.value "
                "FROM unnest ($2::text[], $3::text[]) AS c (src, dst) "
                "JOIN core.dav_properties p ON p.tree = $1 AND p.resource_id = c.src "
                "ON CONFLICT (school_id, tree, resource_id, ns, name) "
                "DO UPDATE SET value = excluded.value",
                3, q, error);
        return res != NULL;
}

/* ---- PROPPATCH ---- */

typedef struct {
        gboolean set;
        char *ns;
        char *name;
        char *xml;     /* set: the element serialised */
        char *text;    /* set: the element's text (for the tree's own properties) */
        gint64 mtime;  /* set of DAV:getlastmodified */
        gboolean tree; /* one of the tree's live properties, handed to set_property */
        guint status;  /* 200, or why it cannot be done */
} Op;

static void
op_free (Op *op)
{
        g_free (op->ns);
        g_free (op->name);
        g_free (op->xml);
        g_free (op->text);
        g_free (op);
}

static gboolean
is_live (const char *ns, const char *name)
{
        static const char *const live[] = {
                "resourcetype",          "getcontentlength", "getcontenttype", "getetag",
                "getlastmodified",       "creationdate",     "displayname",    "quota-used-bytes",
                "quota-available-bytes", "supportedlock",    "lockdiscovery",  NULL};
        return g_str_equal (ns, ATRIUM_DAV_NS) && g_strv_contains (live, name);
}

static gboolean
has_extra (const AtriumDavEntry *e, const char *ns, const char *name)
{
        for (guint i = 0; e->props && i < e->props->len; i++) {
                const AtriumDavExtra *x = e->props->pdata[i];
                if (g_str_equal (x->ns, ns) && g_str_equal (x->name, name))
                        return TRUE;
        }
        return FALSE;
}

static gboolean
parse_ops (AtriumRequest *req, GPtrArray *ops, GError **error)
{
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (!len) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "PROPPATCH needs a <D:propertyupdate> body");
                return FALSE;
        }
        xmlDoc *doc = atrium_dav_xml_parse (g_bytes_get_data (req->body, NULL), len, error);
        if (!doc)
                return FALSE;
        xmlNode *root = xmlDocGetRootElement (doc);
        gboolean ok = atrium_dav_xml_is (root, ATRIUM_DAV_NS, "propertyupdate");
        for (xmlNode *c = ok ? root->children : NULL; c && ok; c = c->next) {
                gboolean set = atrium_dav_xml_is (c, ATRIUM_DAV_NS, "set");
                if (!set && !atrium_dav_xml_is (c, ATRIUM_DAV_NS, "remove"))
                        continue; /* RFC 4918 17: unknown elements are ignored */
                xmlNode *prop = atrium_dav_xml_child (c, ATRIUM_DAV_NS, "prop");
                if (!prop) {
                        ok = FALSE;
                        break;
                }
                for (xmlNode *p = prop->children; p; p = p->next) {
                        if (p->type != XML_ELEMENT_NODE)
                                continue;
                        Op *op = g_new0 (Op, 1);
                        op->set = set;
                        op->ns = g_strdup (p->ns && p->ns->href ? (const char *) p->ns->href : "");
                        op->name = g_strdup ((const char *) p->name);
                        op->status = 200;
                        if (set && g_str_equal (op->ns, ATRIUM_DAV_NS) &&
                            g_str_equal (op->name, "getlastmodified")) {
                                xmlChar *t = xmlNodeGetContent (p);
                                g_autofree char *text = g_strstrip (g_strdup ((const char *) t));
                                xmlFree (t);
                                if (!atrium_dav_parse_http_date (text, &op->mtime))
                                        op->status = 409;
                        } else if (set) {
                                op->xml = atrium_dav_xml_serialise (p);
                                if (!op->xml)
                                        op->status = 500;
                                xmlChar *t = xmlNodeGetContent (p);
                                op->text = g_strstrip (g_strdup (t ? (const char *) t : ""));
                                xmlFree (t);
                        }
                        g_ptr_array_add (ops, op);
                }
        }
        xmlFreeDoc (doc);
        if (!ok) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a PROPPATCH body is <D:propertyupdate> with <D:set> and "
                             "<D:remove>, each holding one <D:prop>");
                return FALSE;
        }
        return TRUE;
}

static void
write_propstats (AtriumDavWriter *w, GPtrArray *ops, gboolean failed)
{
        static const guint statuses[] = {200, 403, 409, 424, 500};
        for (guint s = 0; s < G_N_ELEMENTS (statuses); s++) {
                gboolean any = FALSE;
                for (guint i = 0; i < ops->len; i++) {
                        Op *op = ops->pdata[i];
                        guint st = failed && op->status == 200 ? 424 : op->status;
                        if (st != statuses[s])
                                continue;
                        if (!any) {
                                atrium_dav_write_start (w, ATRIUM_DAV_NS, "propstat");
                                atrium_dav_write_start (w, ATRIUM_DAV_NS, "prop");
                                any = TRUE;
                        }
                        atrium_dav_write_empty (w, op->ns, op->name);
                }
                if (any) {
                        atrium_dav_write_endel (w);
                        atrium_dav_write_status (w, statuses[s]);
                        atrium_dav_write_endel (w);
                }
        }
}

static gboolean
savepoint (AtriumRequest *req, const char *sql, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_tx_query (req->tx, sql, 0, NULL, error);
        return res != NULL;
}

/* Hands the tree's own properties of @ops to its set_property; *@failed when it refused one
 * (then nothing it took is kept). */
static gboolean
tree_properties (AtriumRequest *req, const AtriumDavMount *m, const char *path, GPtrArray *ops,
                 gboolean *failed, GError **error)
{
        gboolean any = FALSE;
        for (guint i = 0; i < ops->len; i++)
                any |= ((Op *) ops->pdata[i])->tree;
        if (!any)
                return TRUE;
        if (!savepoint (req, "SAVEPOINT atrium_proppatch", error))
                return FALSE;
        for (guint i = 0; i < ops->len; i++) {
                Op *op = ops->pdata[i];
                if (!op->tree)
                        continue;
                g_autoptr (GError) refused = NULL;
                if (m->tree.set_property (req, path, op->ns, op->name, op->set ? op->text : NULL,
                                          m->tree.user_data, &refused))
                        continue;
                if (g_error_matches (refused, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN))
                        op->status = 403;
                else if (g_error_matches (refused, ATRIUM_ERROR, ATRIUM_ERROR_INVALID))
                        op->status = 409;
                else {
                        g_propagate_error (error, g_steal_pointer (&refused));
                        return FALSE;
                }
                *failed = TRUE;
                return savepoint (req, "ROLLBACK TO SAVEPOINT atrium_proppatch", error);
        }
        return savepoint (req, "RELEASE SAVEPOINT atrium_proppatch", error);
}

gboolean
atrium_dav_proppatch (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                      const char *href, const AtriumDavEntry *e, GError **error)
{
        g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) op_free);
        if (!parse_ops (req, ops, error))
                return FALSE;
        gboolean failed = FALSE;
        for (guint i = 0; i < ops->len; i++) {
                Op *op = ops->pdata[i];
                if (op->status != 200) {
                        failed = TRUE;
                } else if (m->tree.set_property && ((g_str_equal (op->ns, ATRIUM_DAV_NS) &&
                                                     g_str_equal (op->name, "displayname")) ||
                                                    has_extra (e, op->ns, op->name))) {
                        op->tree = TRUE; /* the tree decides, below */
                } else if (is_live (op->ns, op->name)) {
                        gboolean mtime = op->set && g_str_equal (op->name, "getlastmodified") &&
                                         m->tree.set_modified;
                        if (!mtime) {
                                op->status = 403; /* cannot-modify-protected-property */
                                failed = TRUE;
                        }
                } else if (!e->id || has_extra (e, op->ns, op->name)) {
                        /* a resource without an id keeps none; the tree's own live properties
                         * (calendar-color, getctag, ...) are protected too */
                        op->status = 403;
                        failed = TRUE;
                }
        }
        /* The tree's own properties first, inside a savepoint: a value it refuses undoes the
         * ones it took, and the request answers as for any failed instruction. */
        if (!failed && !tree_properties (req, m, path, ops, &failed, error))
                return FALSE;
        for (guint i = 0; !failed && i < ops->len; i++) {
                Op *op = ops->pdata[i];
                if (op->tree)
                        continue;
                if (is_live (op->ns, op->name)) {
                        if (!m->tree.set_modified (req, path, op->mtime, m->tree.user_data, error))
                                return FALSE;
                        continue;
                }
                g_autoptr (AtriumResult) res = NULL;
                if (op->set) {
                        const char *p[5] = {m->mount, e->id, op->ns, op->name, op->xml};
                        res = atrium_tx_query (
                                req->tx,
                                "INSERT INTO core.dav_properties (school_id, tree, resource_id, "
                                "ns, name, value) VALUES (core.current_school(), $1, $2, $3, $4, "
                                "$5) ON CONFLICT (school_id, tree, resource_id, ns, name) "
                                "DO UPDATE SET value = excluded.value",
                                5, p, error);
                } else {
                        const char *p[4] = {m->mount, e->id, op->ns, op->name};
                        res = atrium_tx_query (req->tx,
                                               "DELETE FROM core.dav_properties WHERE tree = $1 "
                                               "AND resource_id = $2 AND ns = $3 AND name = $4",
                                               4, p, error);
                }
                if (!res)
                        return FALSE;
        }
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "response");
        atrium_dav_write_href (&w, href);
        write_propstats (&w, ops, failed);
        atrium_dav_write_endel (&w);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, 207, "application/xml; charset=utf-8", body);
        return TRUE;
}
