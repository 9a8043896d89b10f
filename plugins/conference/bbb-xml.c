/* SPDX-License-Identifier: Apache-2.0 */
/* bbb-xml.c - reads BigBlueButton's API answers ("<response><returncode>SUCCESS</returncode>
 * <messageKey>..</messageKey><message>..</message><meetingID>..</meetingID>...</response>")
 * with libxml2. The conference plugin's BigBlueButton client (bbb.c) hands every answer body
 * here; tests/fuzz/fuzz-bbb-xml.c throws random bytes at it. It includes GLib and libxml2 only,
 * so the fuzz target and the unit test link it alone.
 *
 * The body comes from a server we do not control (or from whatever sits between us and it), so
 * the parser is as narrow as the answers are: no network, no DTD loaded or accepted, no entity
 * substitution (only the five predefined entities and character references, which the XML
 * parser always decodes), at most CONF_BBB_XML_MAX bytes. A document with a DOCTYPE is refused
 * outright: BigBlueButton never sends one, and refusing it keeps user-defined entities, and
 * with them every expansion trick, out of the picture. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bbb-xml.h"

/* BigBlueButton's answers to create and end are well under 2 KiB; getMeetingInfo of a full
 * meeting lists its attendees and may reach tens of KiB. */
#define CONF_BBB_XML_MAX (64 * 1024)

/* The text directly inside @el (text and CDATA children; nested elements are ignored: none of
 * the fields we read has any), trimmed; NULL when that is empty. (transfer full) */
static char *
element_text (xmlNode *el)
{
        GString *s = g_string_new (NULL);
        for (xmlNode *c = el->children; c; c = c->next)
                if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
                        g_string_append (s, (const char *) c->content);
        char *text = g_string_free (s, FALSE);
        g_strstrip (text);
        if (!*text) {
                g_free (text);
                return NULL;
        }
        /* libxml2 hands out UTF-8; should a defect there ever break that, the text still must
         * not reach a log line or a problem+json answer as invalid UTF-8. */
        if (!g_utf8_validate (text, -1, NULL)) {
                char *valid = g_utf8_make_valid (text, -1);
                g_free (text);
                text = valid;
        }
        return text;
}

static gboolean
is_element (xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && n->ns == NULL &&
               g_strcmp0 ((const char *) n->name, name) == 0;
}

gboolean
conf_bbb_parse_answer (const char *xml, gsize len, ConfBbbAnswer *out)
{
        static gsize once = 0;
        if (g_once_init_enter (&once)) {
                xmlInitParser ();
                g_once_init_leave (&once, 1);
        }
        g_return_val_if_fail (out != NULL, FALSE);
        if (!xml || len == 0 || len > CONF_BBB_XML_MAX)
                return FALSE;

        /* Not XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
         * XML_PARSE_XINCLUDE or XML_PARSE_HUGE; NONET in case a later libxml2 default changes;
         * NOERROR and NOWARNING because a broken answer is reported by our caller, not on
         * stderr. */
        xmlDoc *doc = xmlReadMemory (xml, (int) len, NULL, NULL,
                                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return FALSE;
        gboolean ok = FALSE;
        ConfBbbAnswer a = {0};
        xmlNode *root = xmlDocGetRootElement (doc);
        if (doc->intSubset || doc->extSubset || !root || !is_element (root, "response"))
                goto out;

        /* The first of each element counts; BigBlueButton sends each once. */
        for (xmlNode *c = root->children; c; c = c->next) {
                char **field = NULL;
                if (is_element (c, "returncode"))
                        field = &a.return_code;
                else if (is_element (c, "messageKey"))
                        field = &a.message_key;
                else if (is_element (c, "message"))
                        field = &a.message;
                else if (is_element (c, "meetingID"))
                        field = &a.meeting_id;
                if (field && !*field)
                        *field = element_text (c);
        }
        if (!a.return_code)
                goto out;
        a.success = g_str_equal (a.return_code, "SUCCESS");
        *out = a;
        memset (&a, 0, sizeof a);
        ok = TRUE;
out:
        conf_bbb_answer_clear (&a);
        xmlFreeDoc (doc);
        return ok;
}

void
conf_bbb_answer_clear (ConfBbbAnswer *a)
{
        if (!a)
                return;
        g_clear_pointer (&a->return_code, g_free);
        g_clear_pointer (&a->message_key, g_free);
        g_clear_pointer (&a->message, g_free);
        g_clear_pointer (&a->meeting_id, g_free);
        a->success = FALSE;
}
