/* SPDX-License-Identifier: Apache-2.0 */
/* dav-xml.c - XML in and out for the DAV layer, with libxml2.
 *
 * In: a request body is refused before parsing when it is larger than ATRIUM_DAV_XML_MAX or
 * holds a DOCTYPE (a DAV body never needs one, and without a DTD there is no entity to expand:
 * no billion laughs, no external entity). libxml2 then parses with XML_PARSE_NONET and never
 * XML_PARSE_NOENT, DTDLOAD or HUGE, and the tree is refused deeper than ATRIUM_DAV_XML_DEPTH.
 * tests/fuzz/fuzz-dav-xml.c fuzzes atrium_dav_parse_propfind().
 *
 * Out: multistatus bodies written as text into a GString, text and attribute values escaped
 * as xmlTextWriter did; DAV: is written with the prefix D, other namespaces declared where
 * they are used. */
#include "dav-private.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* Written straight into a GString: xmlTextWriter allocated, copied and looked up namespaces
 * for every element, three quarters of a PROPFIND's CPU (a folder of 1,000 entries). The
 * escaping is the one xmlTextWriter applies (xmlEncodeSpecialChars for text, and for
 * attribute values also the whitespace a parser would normalise). */

static void
append_escaped (GString *s, const char *text, gboolean attribute)
{
        const char *special = attribute ? "&<>\"\r\n\t" : "&<>\"\r";
        for (;;) {
                size_t run = strcspn (text, special);
                g_string_append_len (s, text, (gssize) run);
                text += run;
                if (!*text)
                        return;
                switch (*text++) {
                case '&':
                        g_string_append (s, "&amp;");
                        break;
                case '<':
                        g_string_append (s, "&lt;");
                        break;
                case '>':
                        g_string_append (s, "&gt;");
                        break;
                case '"':
                        g_string_append (s, "&quot;");
                        break;
                case '\r':
                        g_string_append (s, "&#13;");
                        break;
                case '\n':
                        g_string_append (s, "&#10;");
                        break;
                default: /* '\t' */
                        g_string_append (s, "&#9;");
                        break;
                }
        }
}

/* Ends a start tag that is still open, before content or a child. */
static void
close_start (AtriumDavWriter *w)
{
        if (w->in_start) {
                g_string_append_c (w->out, '>');
                w->in_start = FALSE;
        }
}

/* Opens an element named @qname, with an xmlns attribute of @xmlns (unless NULL). */
static void
open_element (AtriumDavWriter *w, const char *qname, gboolean dav, const char *xmlns)
{
        close_start (w);
        g_string_append_c (w->out, '<');
        if (dav)
                g_string_append (w->out, "D:");
        g_string_append (w->out, qname);
        if (xmlns) {
                g_string_append (w->out, " xmlns=\"");
                append_escaped (w->out, xmlns, TRUE);
                g_string_append_c (w->out, '"');
        }
        if (dav)
                g_string_append (w->names, "D:");
        g_string_append (w->names, qname);
        g_string_append_c (w->names, '\0');
        w->in_start = TRUE;
}

void
atrium_dav_writer_begin_root (AtriumDavWriter *out, const char *root)
{
        out->out = g_string_sized_new (4096);
        out->names = g_string_sized_new (128);
        out->in_start = FALSE;
        g_string_append (out->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        open_element (out, root, TRUE, NULL);
        g_string_append (out->out, " xmlns:D=\"" ATRIUM_DAV_NS "\""); /* the tag is still open */
}

void
atrium_dav_writer_begin (AtriumDavWriter *out)
{
        atrium_dav_writer_begin_root (out, "multistatus");
}

GBytes *
atrium_dav_writer_end (AtriumDavWriter *w)
{
        while (w->names->len)
                atrium_dav_write_endel (w); /* closes every open element */
        g_string_append_c (w->out, '\n');
        g_string_free (g_steal_pointer (&w->names), TRUE);
        return g_string_free_to_bytes (g_steal_pointer (&w->out));
}

void
atrium_dav_writer_clear (AtriumDavWriter *w)
{
        if (w->out)
                g_string_free (g_steal_pointer (&w->out), TRUE);
        if (w->names)
                g_string_free (g_steal_pointer (&w->names), TRUE);
        w->in_start = FALSE;
}

void
atrium_dav_write_start (AtriumDavWriter *w, const char *ns, const char *name)
{
        if (g_str_equal (ns, ATRIUM_DAV_NS))
                open_element (w, name, TRUE, NULL);
        else /* another namespace, or none: the empty one undeclares the default */
                open_element (w, name, FALSE, ns);
}

void
atrium_dav_write_raw (AtriumDavWriter *w, const char *xml)
{
        close_start (w);
        g_string_append (w->out, xml);
}

void
atrium_dav_write_endel (AtriumDavWriter *w)
{
        g_return_if_fail (w->names->len > 0);
        /* The innermost name: after the last NUL but the one that ends it. */
        gsize end = w->names->len - 1, begin = end;
        while (begin > 0 && w->names->str[begin - 1] != '\0')
                begin--;
        if (w->in_start) {
                g_string_append (w->out, "/>");
                w->in_start = FALSE;
        } else {
                g_string_append (w->out, "</");
                g_string_append_len (w->out, w->names->str + begin, (gssize) (end - begin));
                g_string_append_c (w->out, '>');
        }
        g_string_truncate (w->names, begin);
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
        if (text) { /* no text: an empty element, as xmlTextWriter wrote it */
                close_start (w);
                append_escaped (w->out, text, FALSE);
        }
        atrium_dav_write_endel (w);
}

void
atrium_dav_write_href (AtriumDavWriter *w, const char *href)
{
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "href", href);
}

/* The status line of a propstat or response: written per entry, so spelled out. */
static const char *
status_line (guint status)
{
        switch (status) {
        case 200:
                return "HTTP/1.1 200 OK";
        case 201:
                return "HTTP/1.1 201 Created";
        case 204:
                return "HTTP/1.1 204 No Content";
        case 403:
                return "HTTP/1.1 403 Forbidden";
        case 404:
                return "HTTP/1.1 404 Not Found";
        case 409:
                return "HTTP/1.1 409 Conflict";
        case 412:
                return "HTTP/1.1 412 Precondition Failed";
        case 423:
                return "HTTP/1.1 423 Locked";
        case 424:
                return "HTTP/1.1 424 Failed Dependency";
        case 507:
                return "HTTP/1.1 507 Insufficient Storage";
        default:
                return NULL;
        }
}

void
atrium_dav_write_status (AtriumDavWriter *w, guint status)
{
        const char *line = status_line (status);
        g_autofree char *other = line ? NULL : g_strdup_printf ("HTTP/1.1 %u Error", status);
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "status", line ? line : other);
}

/* ---- dates, in English whatever the locale ---- */

static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* @unix_seconds broken down in UTC; FALSE outside the years 0-9999 (4 digits). A PROPFIND
 * formats two dates per entry: GDateTime and printf were a tenth of a folder's listing. */
static gboolean
utc_fields (gint64 unix_seconds, struct tm *tm)
{
        time_t t = (time_t) unix_seconds;
        return gmtime_r (&t, tm) && tm->tm_year >= -1900 && tm->tm_year <= 9999 - 1900;
}

char *
atrium_dav_http_date (gint64 unix_seconds)
{
        struct tm tm;
        if (!utc_fields (unix_seconds, &tm))
                return g_strdup ("Thu, 01 Jan 1970 00:00:00 GMT");
        char buf[32], *p = buf;
        memcpy (p, days[(tm.tm_wday + 6) % 7], 3); /* tm_wday counts from Sunday */
        p += 3;
        *p++ = ',';
        *p++ = ' ';
        p = atrium_format_uint (p, tm.tm_mday, 2);
        *p++ = ' ';
        memcpy (p, months[tm.tm_mon], 3);
        p += 3;
        *p++ = ' ';
        p = atrium_format_uint (p, tm.tm_year + 1900, 4);
        *p++ = ' ';
        p = atrium_format_uint (p, tm.tm_hour, 2);
        *p++ = ':';
        p = atrium_format_uint (p, tm.tm_min, 2);
        *p++ = ':';
        p = atrium_format_uint (p, tm.tm_sec, 2);
        memcpy (p, " GMT", 5);
        return g_strdup (buf);
}

char *
atrium_dav_iso_date (gint64 unix_seconds)
{
        struct tm tm;
        if (!utc_fields (unix_seconds, &tm))
                return g_strdup ("1970-01-01T00:00:00Z");
        char buf[24], *p = buf;
        p = atrium_format_uint (p, tm.tm_year + 1900, 4);
        *p++ = '-';
        p = atrium_format_uint (p, tm.tm_mon + 1, 2);
        *p++ = '-';
        p = atrium_format_uint (p, tm.tm_mday, 2);
        *p++ = 'T';
        p = atrium_format_uint (p, tm.tm_hour, 2);
        *p++ = ':';
        p = atrium_format_uint (p, tm.tm_min, 2);
        *p++ = ':';
        p = atrium_format_uint (p, tm.tm_sec, 2);
        memcpy (p, "Z", 2);
        return g_strdup (buf);
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
