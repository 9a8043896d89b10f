/* SPDX-License-Identifier: Apache-2.0 */
/* dav-xml.c - XML in and out for the DAV layer, with libxml2.
 *
 * In: a request body is refused before parsing when it is larger than ATRIUM_DAV_XML_MAX or
 * holds a DOCTYPE (a DAV body never needs one, and without a DTD there is no entity to expand:
 * no billion laughs, no external entity). libxml2 then parses with XML_PARSE_NONET and never
 * XML_PARSE_NOENT, DTDLOAD or HUGE, and the tree is refused deeper than ATRIUM_DAV_XML_DEPTH.
 * tests/fuzz/fuzz-dav-xml.c fuzzes atrium_dav_parse_propfind().
 *
 * Out: multistatus bodies through xmlTextWriter, which escapes text and attribute values;
 * DAV: is written with the prefix D, other namespaces declared where they are used. */
#include "dav-private.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

static gsize
find_ci (const char *data, gsize len, const char *needle)
{
        gsize n = strlen (needle);
        for (gsize i = 0; i + n <= len; i++)
                if (g_ascii_strncasecmp (data + i, needle, n) == 0)
                        return i;
        return G_MAXSIZE;
}

static gboolean
too_deep (const xmlNode *node, int depth)
{
        if (depth > ATRIUM_DAV_XML_DEPTH)
                return TRUE;
        for (const xmlNode *c = node->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && too_deep (c, depth + 1))
                        return TRUE;
        return FALSE;
}

xmlDoc *
atrium_dav_xml_parse (const char *data, gsize len, GError **error)
{
        if (len > ATRIUM_DAV_XML_MAX) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_TOO_LARGE,
                             "an XML body of at most %d bytes", ATRIUM_DAV_XML_MAX);
                return NULL;
        }
        if (find_ci (data, len, "<!DOCTYPE") != G_MAXSIZE) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "XML bodies with a DOCTYPE are not accepted");
                return NULL;
        }
        static gsize init;
        if (g_once_init_enter (&init)) {
                xmlInitParser ();
                g_once_init_leave (&init, 1);
        }
        /* Not XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE (see the top). A parser
         * context of its own, to see namespace errors (xmlns:x="" is not well-formed under
         * XML Namespaces, but libxml2 only warns about it). */
        xmlParserCtxt *ctxt = xmlNewParserCtxt ();
        if (!ctxt) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL, "out of memory");
                return NULL;
        }
        xmlDoc *doc = xmlCtxtReadMemory (ctxt, data, (int) len, NULL, NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                                 XML_PARSE_NOCDATA);
        gboolean ns_ok = ctxt->nsWellFormed && ctxt->wellFormed;
        xmlFreeParserCtxt (ctxt);
        if (!doc || !ns_ok || !xmlDocGetRootElement (doc) || doc->intSubset) {
                if (doc)
                        xmlFreeDoc (doc);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the body is not well-formed XML");
                return NULL;
        }
        if (too_deep (xmlDocGetRootElement (doc), 1)) {
                xmlFreeDoc (doc);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the XML body is nested deeper than %d elements",
                             ATRIUM_DAV_XML_DEPTH);
                return NULL;
        }
        return doc;
}

gboolean
atrium_dav_xml_is (const xmlNode *node, const char *ns, const char *name)
{
        if (!node || node->type != XML_ELEMENT_NODE || !node->name)
                return FALSE;
        const char *node_ns = node->ns && node->ns->href ? (const char *) node->ns->href : "";
        return g_str_equal ((const char *) node->name, name) && g_str_equal (node_ns, ns);
}

xmlNode *
atrium_dav_xml_child (const xmlNode *node, const char *ns, const char *name)
{
        for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
                if (atrium_dav_xml_is (c, ns, name))
                        return c;
        return NULL;
}

/* The element alone, in a document of its own, so that it carries every namespace it uses
 * (libxml2 declares, on the copy, those that were declared on its ancestors). */
char *
atrium_dav_xml_serialise (xmlNode *node)
{
        xmlDoc *d = xmlNewDoc (BAD_CAST "1.0");
        xmlNode *copy = xmlDocCopyNode (node, d, 1);
        if (!copy) {
                xmlFreeDoc (d);
                return NULL;
        }
        xmlDocSetRootElement (d, copy);
        xmlReconciliateNs (d, copy);
        xmlBuffer *b = xmlBufferCreate ();
        xmlNodeDump (b, d, copy, 0, 0);
        char *out = g_strndup ((const char *) xmlBufferContent (b), (gsize) xmlBufferLength (b));
        xmlBufferFree (b);
        xmlFreeDoc (d);
        return out;
}

void
atrium_dav_prop_name_free (AtriumDavPropName *p)
{
        if (!p)
                return;
        g_free (p->ns);
        g_free (p->name);
        g_free (p);
}

void
atrium_dav_xml_prop_names (GPtrArray *out, const xmlNode *prop)
{
        for (const xmlNode *c = prop->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                AtriumDavPropName *p = g_new0 (AtriumDavPropName, 1);
                p->ns = g_strdup (c->ns && c->ns->href ? (const char *) c->ns->href : "");
                p->name = g_strdup ((const char *) c->name);
                g_ptr_array_add (out, p);
        }
}

gboolean
atrium_dav_parse_propfind (const char *data, gsize len, AtriumDavPropfindKind *out_kind,
                           GPtrArray **out_props, GError **error)
{
        g_autoptr (GPtrArray) props =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_prop_name_free);
        if (len == 0) { /* RFC 4918 9.1: no body is allprop */
                *out_kind = ATRIUM_DAV_PROPFIND_ALLPROP;
                *out_props = g_steal_pointer (&props);
                return TRUE;
        }
        xmlDoc *doc = atrium_dav_xml_parse (data, len, error);
        if (!doc)
                return FALSE;
        xmlNode *root = xmlDocGetRootElement (doc);
        AtriumDavPropfindKind kind;
        xmlNode *prop = NULL;
        gboolean ok = TRUE;
        if (!atrium_dav_xml_is (root, ATRIUM_DAV_NS, "propfind")) {
                ok = FALSE;
        } else if ((prop = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "prop"))) {
                kind = ATRIUM_DAV_PROPFIND_PROP;
                atrium_dav_xml_prop_names (props, prop);
        } else if (atrium_dav_xml_child (root, ATRIUM_DAV_NS, "propname")) {
                kind = ATRIUM_DAV_PROPFIND_PROPNAME;
        } else if (atrium_dav_xml_child (root, ATRIUM_DAV_NS, "allprop")) {
                kind = ATRIUM_DAV_PROPFIND_ALLPROP;
                xmlNode *inc = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "include");
                if (inc)
                        atrium_dav_xml_prop_names (props, inc);
        } else {
                ok = FALSE;
        }
        xmlFreeDoc (doc);
        if (!ok) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a PROPFIND body is <D:propfind> with <D:prop>, <D:propname/> or "
                             "<D:allprop/>");
                return FALSE;
        }
        *out_kind = kind;
        *out_props = g_steal_pointer (&props);
        return TRUE;
}

/* ---- out ---- */

void
atrium_dav_writer_begin_root (AtriumDavWriter *out, const char *root)
{
        out->buf = xmlBufferCreate ();
        out->w = xmlNewTextWriterMemory (out->buf, 0);
        xmlTextWriterStartDocument (out->w, "1.0", "utf-8", NULL);
        xmlTextWriterStartElementNS (out->w, BAD_CAST "D", BAD_CAST root, BAD_CAST ATRIUM_DAV_NS);
}

void
atrium_dav_writer_begin (AtriumDavWriter *out)
{
        atrium_dav_writer_begin_root (out, "multistatus");
}

GBytes *
atrium_dav_writer_end (AtriumDavWriter *w)
{
        xmlTextWriterEndDocument (w->w); /* closes every open element */
        xmlFreeTextWriter (w->w);
        w->w = NULL;
        GBytes *body = g_bytes_new (xmlBufferContent (w->buf), (gsize) xmlBufferLength (w->buf));
        xmlBufferFree (w->buf);
        w->buf = NULL;
        return body;
}

void
atrium_dav_writer_clear (AtriumDavWriter *w)
{
        if (w->w)
                xmlFreeTextWriter (w->w);
        if (w->buf)
                xmlBufferFree (w->buf);
        w->w = NULL;
        w->buf = NULL;
}

void
atrium_dav_write_start (AtriumDavWriter *w, const char *ns, const char *name)
{
        if (g_str_equal (ns, ATRIUM_DAV_NS))
                xmlTextWriterStartElementNS (w->w, BAD_CAST "D", BAD_CAST name, NULL);
        else if (!*ns) /* no namespace: undeclare the default one */
                xmlTextWriterStartElementNS (w->w, NULL, BAD_CAST name, BAD_CAST "");
        else
                xmlTextWriterStartElementNS (w->w, NULL, BAD_CAST name, BAD_CAST ns);
}

void
atrium_dav_write_raw (AtriumDavWriter *w, const char *xml)
{
        xmlTextWriterWriteRaw (w->w, BAD_CAST xml);
}

void
atrium_dav_write_endel (AtriumDavWriter *w)
{
        xmlTextWriterEndElement (w->w);
}

void
atrium_dav_write_empty (AtriumDavWriter *w, const char *ns, const char *name)
{
        atrium_dav_write_start (w, ns, name);
        atrium_dav_write_endel (w);
}

void
atrium_dav_write_text (AtriumDavWriter *w, const char *ns, const char *name, const char *text)
{
        atrium_dav_write_start (w, ns, name);
        xmlTextWriterWriteString (w->w, BAD_CAST text);
        atrium_dav_write_endel (w);
}

void
atrium_dav_write_href (AtriumDavWriter *w, const char *href)
{
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "href", href);
}

static const char *
reason (guint status)
{
        switch (status) {
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 204:
                return "No Content";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 409:
                return "Conflict";
        case 412:
                return "Precondition Failed";
        case 423:
                return "Locked";
        case 424:
                return "Failed Dependency";
        case 507:
                return "Insufficient Storage";
        default:
                return "Error";
        }
}

void
atrium_dav_write_status (AtriumDavWriter *w, guint status)
{
        g_autofree char *line = g_strdup_printf ("HTTP/1.1 %u %s", status, reason (status));
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "status", line);
}

/* ---- dates, in English whatever the locale ---- */

static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *
atrium_dav_http_date (gint64 unix_seconds)
{
        g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_seconds);
        if (!t)
                return g_strdup ("Thu, 01 Jan 1970 00:00:00 GMT");
        return g_strdup_printf (
                "%s, %02d %s %04d %02d:%02d:%02d GMT", days[g_date_time_get_day_of_week (t) - 1],
                g_date_time_get_day_of_month (t), months[g_date_time_get_month (t) - 1],
                g_date_time_get_year (t), g_date_time_get_hour (t), g_date_time_get_minute (t),
                g_date_time_get_second (t));
}

char *
atrium_dav_iso_date (gint64 unix_seconds)
{
        g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_seconds);
        if (!t)
                return g_strdup ("1970-01-01T00:00:00Z");
        return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean
atrium_dav_parse_http_date (const char *text, gint64 *out_unix)
{
        char day[4], mon[4];
        int d, y, hh, mm, ss;
        if (!text ||
            sscanf (text, "%3s, %d %3s %d %d:%d:%d GMT", day, &d, mon, &y, &hh, &mm, &ss) != 7)
                return FALSE;
        int m = -1;
        for (int i = 0; i < 12; i++)
                if (g_ascii_strcasecmp (mon, months[i]) == 0)
                        m = i + 1;
        if (m < 0)
                return FALSE;
        g_autoptr (GDateTime) t = g_date_time_new_utc (y, m, d, hh, mm, ss);
        if (!t)
                return FALSE;
        *out_unix = g_date_time_to_unix (t);
        return TRUE;
}
