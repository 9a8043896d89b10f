/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-dav-xml.c - libFuzzer target for the DAV layer's XML reader (core/dav/dav-xml.c): the
 * input is a request body, any bytes, as PROPFIND sends it. Besides crashes and sanitizer
 * reports it checks the promises of dav-private.h:
 *
 *   - a refusal is an ATRIUM_ERROR (INVALID, or TOO_LARGE past ATRIUM_DAV_XML_MAX) and leaves
 *     the out-parameters untouched;
 *   - an accepted body gives a known kind and property names that are non-empty, valid UTF-8
 *     and have a namespace string (possibly empty);
 *   - a body holding a DOCTYPE is always refused (no entities, internal or external);
 *   - atrium_dav_xml_parse never hands out a tree deeper than ATRIUM_DAV_XML_DEPTH;
 *   - the same input reads the same twice;
 *   - the names, written back with the multistatus writer as a <D:prop> list, read back as
 *     the same names (the writer escapes and declares namespaces correctly).
 * The input is also tried as an HTTP date (atrium_dav_parse_http_date), whose answer must
 * format back to an IMF-fixdate that parses to the same instant.
 *
 * GLib criticals and warnings are fatal. Built only with -Dfuzzing=true (clang); see
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "dav-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fail (const char *why)
{
        fprintf (stderr, "fuzz-dav-xml: %s\n", why);
        abort ();
}

static int
depth_of (const xmlNode *n)
{
        int best = 0;
        for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        best = MAX (best, depth_of (c));
        return best + 1;
}

static GPtrArray *
parse (const char *text, gsize len, AtriumDavPropfindKind *kind)
{
        GPtrArray *props = (GPtrArray *) 0x1;
        AtriumDavPropfindKind k = (AtriumDavPropfindKind) 77;
        g_autoptr (GError) error = NULL;
        if (!atrium_dav_parse_propfind (text, len, &k, &props, &error)) {
                if (!error || error->domain != ATRIUM_ERROR ||
                    (error->code != ATRIUM_ERROR_INVALID && error->code != ATRIUM_ERROR_TOO_LARGE))
                        fail ("a refusal that is not ATRIUM_ERROR_INVALID or TOO_LARGE");
                if (props != (GPtrArray *) 0x1 || k != (AtriumDavPropfindKind) 77)
                        fail ("a refusal wrote its out-parameters");
                return NULL;
        }
        if (k > ATRIUM_DAV_PROPFIND_PROP || !props)
                fail ("accepted with an unknown kind or no list");
        for (guint i = 0; i < props->len; i++) {
                const AtriumDavPropName *p = props->pdata[i];
                if (!p->ns || !p->name || !*p->name || !g_utf8_validate (p->name, -1, NULL) ||
                    !g_utf8_validate (p->ns, -1, NULL))
                        fail ("a property name that is empty or not UTF-8");
        }
        *kind = k;
        return props;
}

/* The names written as <D:multistatus><D:prop>...</D:prop>, read back. */
static void
round_trip (GPtrArray *props)
{
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "prop");
        for (guint i = 0; i < props->len; i++) {
                const AtriumDavPropName *p = props->pdata[i];
                atrium_dav_write_empty (&w, p->ns, p->name);
        }
        g_autoptr (GBytes) out = atrium_dav_writer_end (&w);
        gsize len;
        const char *text = g_bytes_get_data (out, &len);
        xmlDoc *doc = xmlReadMemory (text, (int) len, NULL, NULL,
                                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                fail ("the writer's output is not well-formed");
        xmlNode *prop = atrium_dav_xml_child (xmlDocGetRootElement (doc), ATRIUM_DAV_NS, "prop");
        guint i = 0;
        for (xmlNode *c = prop ? prop->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (i >= props->len)
                        fail ("more names came back than were written");
                const AtriumDavPropName *p = props->pdata[i++];
                if (!atrium_dav_xml_is (c, p->ns, p->name))
                        fail ("a name did not come back as written");
        }
        if (i != props->len)
                fail ("fewer names came back than were written");
        xmlFreeDoc (doc);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        const char *text = (const char *) data;
        g_autoptr (GError) error = NULL;
        xmlDoc *doc = atrium_dav_xml_parse (text, size, &error);
        if (doc) {
                if (depth_of (xmlDocGetRootElement (doc)) > ATRIUM_DAV_XML_DEPTH)
                        fail ("a tree deeper than ATRIUM_DAV_XML_DEPTH was accepted");
                xmlFreeDoc (doc);
        }
        g_autofree char *lower = g_ascii_strdown (text, (gssize) size);
        gboolean doctype = size && memmem (lower, size, "<!doctype", 9) != NULL;

        AtriumDavPropfindKind k1 = 0, k2 = 0;
        g_autoptr (GPtrArray) a = parse (text, size, &k1);
        g_autoptr (GPtrArray) b = parse (text, size, &k2);
        if (!a != !b)
                fail ("the same input read differently twice");
        if (a) {
                if (doctype)
                        fail ("a body with a DOCTYPE was accepted");
                if (k1 != k2 || a->len != b->len)
                        fail ("the same input read differently twice");
                for (guint i = 0; i < a->len; i++) {
                        const AtriumDavPropName *x = a->pdata[i], *y = b->pdata[i];
                        if (!g_str_equal (x->ns, y->ns) || !g_str_equal (x->name, y->name))
                                fail ("the same input read differently twice");
                }
                round_trip (a);
        }

        g_autofree char *line = g_strndup (text, MIN (size, 64));
        gint64 t;
        if (atrium_dav_parse_http_date (line, &t)) {
                g_autofree char *back = atrium_dav_http_date (t);
                gint64 t2;
                if (!atrium_dav_parse_http_date (back, &t2) || t2 != t)
                        fail ("an HTTP date did not survive formatting");
        }
        return 0;
}
