/* SPDX-License-Identifier: Apache-2.0 */
/* dav-report.c - REPORT and MKCALENDAR: the CalDAV (RFC 4791), CardDAV (RFC 6352) and
 * collection-sync (RFC 6578) methods of the DAV layer.
 *
 * The host reads the request body (hardened libxml2, dav-xml.c) into an AtriumDavReport, asks
 * the tree's report callback for the resources it names, and writes the multistatus: each
 * resource with the properties asked for (calendar-data is the resource's data), a gone one
 * as 404, and for sync-collection the new token. The tree owns the meaning (which events
 * overlap a time-range, what a token counts); the host owns the XML. Filters beyond one
 * component with one time-range and one prop-filter with one text-match (in a VTODO
 * component: up to eight prop-filters with is-not-defined or a text-match, negated or not, for
 * pending to-dos), param-filters and nested filters are not supported: 403 supported-filter, so a
 * client knows rather than gets a wrong answer. CardDAV's addressbook-query likewise takes one
 * prop-filter with one text-match; the address-data asked for names the data property of the
 * answer (and its version and content-type go to the tree). */
#include "dav-private.h"

#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CARDDAV_NS "urn:ietf:params:xml:ns:carddav"
#define APPLE_NS "http://apple.com/ns/ical/"

/* "20260101T000000Z" (RFC 4791 9.9: UTC date-time) as unix seconds. */
static gboolean
utc_time (const xmlNode *node, const char *attr, gint64 *out, GError **error)
{
        g_autofree char *v = (char *) xmlGetProp (node, BAD_CAST attr);
        if (!v)
                return TRUE;
        int y, mo, d, h, mi, s;
        char z = 0, extra = 0;
        if (strlen (v) != 16 ||
            sscanf (v, "%4d%2d%2dT%2d%2d%2d%c%c", &y, &mo, &d, &h, &mi, &s, &z, &extra) != 7 ||
            z != 'Z') {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "time-range %s is a UTC date-time such as 20260101T000000Z", attr);
                return FALSE;
        }
        g_autoptr (GDateTime) t = g_date_time_new_utc (y, mo, d, h, mi, s);
        if (!t) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "time-range %s is not a valid time", attr);
                return FALSE;
        }
        *out = g_date_time_to_unix (t);
        return TRUE;
}

typedef struct {
        AtriumDavReport r;
        GPtrArray *props; /* AtriumDavPropName* asked */
        AtriumDavPropfindKind kind;
        GPtrArray *paths;  /* char*, NULL-terminated (multiget) */
        GHashTable *hrefs; /* tree path -> the client's href (multiget) */
        GPtrArray *bad;    /* hrefs outside the tree (multiget): 404 */
        char *component;
        char *token;
        char *prop_name;      /* a prop-filter's property */
        char *text;           /* its text-match */
        char *match_type;     /* CardDAV's match-type of the text-match */
        char *data_version;   /* address-data's version attribute */
        char *data_type;      /* address-data's content-type attribute */
        gboolean card;        /* the data asked for is CardDAV's address-data */
        gboolean unsupported; /* a filter we do not evaluate */
        GArray *filters;      /* AtriumDavPropFilter of a VTODO comp-filter */
        GPtrArray *owned;     /* the xmlChar strings they point to */
} Query;

static void
query_clear (Query *q)
{
        g_clear_pointer (&q->props, g_ptr_array_unref);
        g_clear_pointer (&q->paths, g_ptr_array_unref);
        g_clear_pointer (&q->hrefs, g_hash_table_unref);
        g_clear_pointer (&q->bad, g_ptr_array_unref);
        g_clear_pointer (&q->component, g_free);
        g_clear_pointer (&q->token, g_free);
        g_clear_pointer (&q->prop_name, xmlFree);
        g_clear_pointer (&q->text, xmlFree);
        g_clear_pointer (&q->match_type, xmlFree);
        g_clear_pointer (&q->data_version, xmlFree);
        g_clear_pointer (&q->data_type, xmlFree);
        g_clear_pointer (&q->filters, g_array_unref);
        g_clear_pointer (&q->owned, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Query, query_clear)

/* <D:prop>, <D:allprop/> or <D:propname/> of a report; calendar-data's <C:expand>. */
static gboolean
read_props (xmlNode *root, Query *q, GError **error)
{
        xmlNode *prop = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "prop");
        if (prop) {
                q->kind = ATRIUM_DAV_PROPFIND_PROP;
                atrium_dav_xml_prop_names (q->props, prop);
                xmlNode *data = atrium_dav_xml_child (prop, CALDAV_NS, "calendar-data");
                xmlNode *card = atrium_dav_xml_child (prop, CARDDAV_NS, "address-data");
                if (!data && card) {
                        /* RFC 6352 10.4: the version and media type the client wants */
                        q->card = TRUE;
                        q->data_version = (char *) xmlGetProp (card, BAD_CAST "version");
                        q->data_type = (char *) xmlGetProp (card, BAD_CAST "content-type");
                }
                q->r.want_data = data != NULL || card != NULL;
                xmlNode *expand = data ? atrium_dav_xml_child (data, CALDAV_NS, "expand") : NULL;
                if (expand) {
                        q->r.expand = TRUE;
                        q->r.expand_start = G_MININT64;
                        q->r.expand_end = G_MAXINT64;
                        if (!utc_time (expand, "start", &q->r.expand_start, error) ||
                            !utc_time (expand, "end", &q->r.expand_end, error))
                                return FALSE;
                        if (q->r.expand_start == G_MININT64 || q->r.expand_end == G_MAXINT64 ||
                            q->r.expand_start >= q->r.expand_end) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "expand needs a start before its end");
                                return FALSE;
                        }
                }
        } else if (atrium_dav_xml_child (root, ATRIUM_DAV_NS, "propname")) {
                q->kind = ATRIUM_DAV_PROPFIND_PROPNAME;
        } else {
                q->kind = ATRIUM_DAV_PROPFIND_ALLPROP;
        }
        return TRUE;
}

/* <C:prop-filter name="UID"><C:text-match>...</C:text-match></C:prop-filter>: one
 * text-match, not negated (what clients send to find an event by UID). */
static gboolean
read_prop_filter (xmlNode *pf, Query *q, const char *ns)
{
        q->prop_name = (char *) xmlGetProp (pf, BAD_CAST "name");
        xmlNode *tm = NULL;
        for (xmlNode *c = pf->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (tm || !atrium_dav_xml_is (c, ns, "text-match"))
                        return FALSE;
                tm = c;
        }
        if (!tm || !q->prop_name)
                return FALSE;
        g_autofree char *negate = (char *) xmlGetProp (tm, BAD_CAST "negate-condition");
        if (negate && !g_str_equal (negate, "no"))
                return FALSE;
        if (g_str_equal (ns, CARDDAV_NS)) {
                g_autofree char *coll = (char *) xmlGetProp (tm, BAD_CAST "collation");
                q->match_type = (char *) xmlGetProp (tm, BAD_CAST "match-type");
                static const char *const types[] = {"equals", "contains", "starts-with",
                                                    "ends-with", NULL};
                if ((q->match_type && !g_strv_contains (types, q->match_type)) ||
                    (coll && !g_str_equal (coll, "i;unicode-casemap") &&
                     !g_str_equal (coll, "i;ascii-casemap")))
                        return FALSE;
        }
        q->text = (char *) xmlNodeGetContent (tm);
        return q->text != NULL;
}

/* A VTODO comp-filter's prop-filter: <C:is-not-defined/> alone, or one <C:text-match>
 * (negate-condition allowed). FALSE for anything else (a param-filter, a time-range on the
 * property, two tests). At most 8 per query. */
static gboolean
read_todo_prop_filter (xmlNode *pf, Query *q)
{
        if (!q->filters) {
                q->filters = g_array_new (FALSE, TRUE, sizeof (AtriumDavPropFilter));
                q->owned = g_ptr_array_new_with_free_func (xmlFree);
        }
        xmlChar *name = xmlGetProp (pf, BAD_CAST "name");
        if (!name)
                return FALSE;
        g_ptr_array_add (q->owned, name);
        AtriumDavPropFilter f = {.name = (const char *) name};
        guint tests = 0;
        for (xmlNode *c = pf->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                tests++;
                if (atrium_dav_xml_is (c, CALDAV_NS, "is-not-defined")) {
                        f.is_not_defined = TRUE;
                } else if (atrium_dav_xml_is (c, CALDAV_NS, "text-match")) {
                        xmlChar *text = xmlNodeGetContent (c);
                        if (!text)
                                return FALSE;
                        g_ptr_array_add (q->owned, text);
                        f.text_match = (const char *) text;
                        g_autofree char *negate =
                                (char *) xmlGetProp (c, BAD_CAST "negate-condition");
                        f.negate = negate && g_str_equal (negate, "yes");
                } else {
                        return FALSE;
                }
        }
        if (tests != 1 || q->filters->len >= 8)
                return FALSE;
        g_array_append_val (q->filters, f);
        return TRUE;
}

/* <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range/>:
 * what we evaluate. Anything else in the filter sets q->unsupported. */
static gboolean
read_filter (xmlNode *root, Query *q, GError **error)
{
        xmlNode *filter = atrium_dav_xml_child (root, CALDAV_NS, "filter");
        xmlNode *cal = filter ? atrium_dav_xml_child (filter, CALDAV_NS, "comp-filter") : NULL;
        g_autofree char *cal_name = cal ? (char *) xmlGetProp (cal, BAD_CAST "name") : NULL;
        if (!cal || g_strcmp0 (cal_name, "VCALENDAR") != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a calendar-query has <C:filter><C:comp-filter name=\"VCALENDAR\">");
                return FALSE;
        }
        for (xmlNode *c = cal->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (!atrium_dav_xml_is (c, CALDAV_NS, "comp-filter") || q->component) {
                        q->unsupported = TRUE;
                        continue;
                }
                q->component = (char *) xmlGetProp (c, BAD_CAST "name");
                for (xmlNode *t = c->children; t; t = t->next) {
                        if (t->type != XML_ELEMENT_NODE)
                                continue;
                        /* VTODO: every prop-filter, as pending to-dos are asked for;
                         * VEVENT: one plain text-match, as before. */
                        if (atrium_dav_xml_is (t, CALDAV_NS, "prop-filter") &&
                            g_strcmp0 (q->component, "VTODO") == 0) {
                                if (!read_todo_prop_filter (t, q))
                                        q->unsupported = TRUE;
                                continue;
                        }
                        if (atrium_dav_xml_is (t, CALDAV_NS, "prop-filter") && !q->prop_name) {
                                if (!read_prop_filter (t, q, CALDAV_NS))
                                        q->unsupported = TRUE;
                                continue;
                        }
                        if (!atrium_dav_xml_is (t, CALDAV_NS, "time-range") || q->r.has_range) {
                                q->unsupported = TRUE;
                                continue;
                        }
                        q->r.has_range = TRUE;
                        q->r.start = G_MININT64;
                        q->r.end = G_MAXINT64;
                        if (!utc_time (t, "start", &q->r.start, error) ||
                            !utc_time (t, "end", &q->r.end, error))
                                return FALSE;
                        if (q->r.start >= q->r.end) {
                                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                             "time-range: start is not before end");
                                return FALSE;
                        }
                }
        }
        if (q->component && !g_str_equal (q->component, "VEVENT") &&
            !g_str_equal (q->component, "VTODO"))
                q->unsupported = TRUE;
        return TRUE;
}

/* <CR:filter test="anyof"><CR:prop-filter name="FN"><CR:text-match>: at most one
 * prop-filter with one text-match (RFC 6352 10.5); an empty filter matches every card.
 * Anything else sets q->unsupported. */
static void
read_card_filter (xmlNode *root, Query *q)
{
        xmlNode *filter = atrium_dav_xml_child (root, CARDDAV_NS, "filter");
        for (xmlNode *c = filter ? filter->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (!atrium_dav_xml_is (c, CARDDAV_NS, "prop-filter") || q->prop_name ||
                    !read_prop_filter (c, q, CARDDAV_NS))
                        q->unsupported = TRUE;
        }
}

/* The hrefs of a multiget: tree paths, and those outside the tree (answered 404). */
static void
read_hrefs (AtriumRequest *req, const AtriumDavMount *m, xmlNode *root, Query *q)
{
        q->paths = g_ptr_array_new_with_free_func (g_free);
        q->hrefs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        q->bad = g_ptr_array_new_with_free_func (g_free);
        for (xmlNode *c = root->children; c; c = c->next) {
                if (!atrium_dav_xml_is (c, ATRIUM_DAV_NS, "href"))
                        continue;
                g_autofree char *href = (char *) xmlNodeGetContent (c);
                g_strstrip (href);
                g_autoptr (GError) why = NULL;
                char *path = atrium_dav_path_of_url (req, m, href, &why);
                if (!path) {
                        g_ptr_array_add (q->bad, g_steal_pointer (&href));
                        continue;
                }
                g_hash_table_replace (q->hrefs, g_strdup (path), g_strdup (href));
                g_ptr_array_add (q->paths, path);
        }
        g_ptr_array_add (q->paths, NULL);
        q->r.paths = (const char *const *) q->paths->pdata;
}

static gboolean
read_query (AtriumRequest *req, const AtriumDavMount *m, Query *q, GError **error)
{
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (!len) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "REPORT needs a body");
                return FALSE;
        }
        xmlDoc *doc = atrium_dav_xml_parse (g_bytes_get_data (req->body, NULL), len, error);
        if (!doc)
                return FALSE;
        xmlNode *root = xmlDocGetRootElement (doc);
        gboolean ok = TRUE;
        q->props = g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_prop_name_free);
        q->r.header = (AtriumStructHeader) ATRIUM_STRUCT_HEADER (AtriumDavReport);
        if (atrium_dav_xml_is (root, CALDAV_NS, "calendar-query")) {
                q->r.kind = ATRIUM_DAV_REPORT_CALENDAR_QUERY;
                ok = read_props (root, q, error) && read_filter (root, q, error);
        } else if (atrium_dav_xml_is (root, CALDAV_NS, "calendar-multiget")) {
                q->r.kind = ATRIUM_DAV_REPORT_CALENDAR_MULTIGET;
                ok = read_props (root, q, error);
                if (ok)
                        read_hrefs (req, m, root, q);
        } else if (atrium_dav_xml_is (root, CARDDAV_NS, "addressbook-query")) {
                q->r.kind = ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY;
                ok = read_props (root, q, error);
                read_card_filter (root, q);
        } else if (atrium_dav_xml_is (root, CARDDAV_NS, "addressbook-multiget")) {
                q->r.kind = ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET;
                ok = read_props (root, q, error);
                if (ok)
                        read_hrefs (req, m, root, q);
        } else if (atrium_dav_xml_is (root, ATRIUM_DAV_NS, "sync-collection")) {
                q->r.kind = ATRIUM_DAV_REPORT_SYNC_COLLECTION;
                xmlNode *tok = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "sync-token");
                q->token = tok ? (char *) xmlNodeGetContent (tok) : NULL;
                if (q->token)
                        g_strstrip (q->token);
                if (q->token && !*q->token)
                        g_clear_pointer (&q->token, g_free);
                q->r.sync_token = q->token;
                xmlNode *level = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "sync-level");
                g_autofree char *lv = level ? (char *) xmlNodeGetContent (level) : NULL;
                if (lv && !g_str_equal (g_strstrip (lv), "1")) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                                     "sync-level is 1 (the members of the collection)");
                        ok = FALSE;
                }
                ok = ok && read_props (root, q, error);
        } else {
                q->unsupported = TRUE;
                q->r.kind = 0;
        }
        xmlFreeDoc (doc);
        q->r.component = q->component;
        q->r.prop_name = q->prop_name;
        q->r.n_prop_filters = q->filters ? q->filters->len : 0;
        q->r.prop_filters = q->filters ? &g_array_index (q->filters, AtriumDavPropFilter, 0) : NULL;
        q->r.text_match = q->text;
        q->r.match_type = q->match_type;
        q->r.data_version = q->data_version;
        q->r.data_content_type = q->data_type;
        return ok;
}

gboolean
atrium_dav_report (AtriumRequest *req, const AtriumDavMount *m, const char *path, const char *href,
                   GError **error)
{
        (void) href;
        g_auto (Query) q = {0};
        if (!read_query (req, m, &q, error))
                return FALSE;
        if (!q.r.kind || !m->tree.report) {
                atrium_dav_respond_condition (req, 403, ATRIUM_DAV_NS, "supported-report");
                return TRUE;
        }
        gboolean cards = q.r.kind == ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY ||
                         q.r.kind == ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET;
        if (q.unsupported) {
                atrium_dav_respond_condition (req, 403, cards ? CARDDAV_NS : CALDAV_NS,
                                              "supported-filter");
                return TRUE;
        }
        g_autoptr (GPtrArray) got =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        g_autofree char *token = NULL;
        g_autoptr (GError) failed = NULL;
        if (!m->tree.report (req, path, &q.r, atrium_dav_collect, got, &token, m->tree.user_data,
                             &failed)) {
                if (q.r.kind == ATRIUM_DAV_REPORT_SYNC_COLLECTION &&
                    g_error_matches (failed, ATRIUM_ERROR, ATRIUM_ERROR_PRECONDITION_FAILED)) {
                        atrium_dav_respond_condition (req, 403, ATRIUM_DAV_NS, "valid-sync-token");
                        return TRUE;
                }
                if (q.r.kind == ATRIUM_DAV_REPORT_CALENDAR_QUERY && q.r.n_prop_filters > 0 &&
                    g_error_matches (failed, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN)) {
                        /* a prop-filter the tree does not evaluate */
                        atrium_dav_respond_condition (req, 403, CALDAV_NS, "supported-filter");
                        return TRUE;
                }
                if (q.card &&
                    g_error_matches (failed, ATRIUM_ERROR, ATRIUM_ERROR_UNSUPPORTED_MEDIA)) {
                        /* RFC 6352 8.7: an address-data type or version we do not give */
                        atrium_dav_respond_condition (req, 403, CARDDAV_NS,
                                                      "supported-address-data");
                        return TRUE;
                }
                g_propagate_error (error, g_steal_pointer (&failed));
                return FALSE;
        }
        g_autofree char *principal = atrium_dav_principal_href (req, error);
        if (!principal)
                return FALSE;
        g_autoptr (GPtrArray) no_locks = g_ptr_array_new ();
        const char *school = g_hash_table_lookup (req->params, "school");
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        for (guint i = 0; q.bad && i < q.bad->len; i++) {
                atrium_dav_write_start (&w, ATRIUM_DAV_NS, "response");
                atrium_dav_write_href (&w, q.bad->pdata[i]);
                atrium_dav_write_status (&w, 404);
                atrium_dav_write_endel (&w);
        }
        for (guint i = 0; i < got->len; i++) {
                AtriumDavEntry *e = got->pdata[i];
                if (!e->name)
                        continue;
                const char *asked = q.hrefs ? g_hash_table_lookup (q.hrefs, e->name) : NULL;
                g_autofree char *own =
                        atrium_dav_href_of (school, m->mount, e->name, e->collection);
                const char *h = asked ? asked : own;
                if (e->gone) {
                        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "response");
                        atrium_dav_write_href (&w, h);
                        atrium_dav_write_status (&w, 404);
                        atrium_dav_write_endel (&w);
                        continue;
                }
                if (e->data) {
                        /* calendar-data (or address-data, as asked) is the content the tree
                         * gave, as a property */
                        if (!e->props)
                                e->props = g_ptr_array_new_with_free_func (
                                        (GDestroyNotify) atrium_dav_extra_free);
                        AtriumDavExtra *x = g_new0 (AtriumDavExtra, 1);
                        x->ns = g_strdup (q.card ? CARDDAV_NS : CALDAV_NS);
                        x->name = g_strdup (q.card ? "address-data" : "calendar-data");
                        x->text = g_strdup (e->data);
                        g_ptr_array_add (e->props, x);
                }
                atrium_dav_write_response (&w, e, h, q.kind, q.props, NULL, no_locks, NULL,
                                           principal);
        }
        if (q.r.kind == ATRIUM_DAV_REPORT_SYNC_COLLECTION)
                atrium_dav_write_text (&w, ATRIUM_DAV_NS, "sync-token", token ? token : "");
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, 207, "application/xml; charset=utf-8", body);
        return TRUE;
}

gboolean
atrium_dav_mkcalendar (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                       GError **error)
{
        if (!m->tree.mkcalendar) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "the %s tree does not allow MKCALENDAR", m->mount);
                return FALSE;
        }
        if (!*path) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_METHOD_NOT_ALLOWED,
                             "the tree's root exists");
                return FALSE;
        }
        g_autofree char *name = NULL, *color = NULL;
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (len) {
                xmlDoc *doc = atrium_dav_xml_parse (g_bytes_get_data (req->body, NULL), len, error);
                if (!doc)
                        return FALSE;
                xmlNode *root = xmlDocGetRootElement (doc);
                if (!atrium_dav_xml_is (root, CALDAV_NS, "mkcalendar")) {
                        xmlFreeDoc (doc);
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "a MKCALENDAR body is <C:mkcalendar>");
                        return FALSE;
                }
                xmlNode *set = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "set");
                xmlNode *prop = set ? atrium_dav_xml_child (set, ATRIUM_DAV_NS, "prop") : NULL;
                xmlNode *n =
                        prop ? atrium_dav_xml_child (prop, ATRIUM_DAV_NS, "displayname") : NULL;
                xmlNode *c = prop ? atrium_dav_xml_child (prop, APPLE_NS, "calendar-color") : NULL;
                if (n)
                        name = (char *) xmlNodeGetContent (n);
                if (c)
                        color = (char *) xmlNodeGetContent (c);
                xmlFreeDoc (doc);
        }
        gboolean answered = FALSE;
        if (!atrium_dav_locks_check (req, m, path, ATRIUM_DAV_CHECK_PARENT, &answered, error))
                return FALSE;
        if (answered)
                return TRUE;
        if (!m->tree.mkcalendar (req, path, name, color, m->tree.user_data, error))
                return FALSE;
        atrium_request_respond_bytes (req, 201, NULL, NULL);
        return TRUE;
}
