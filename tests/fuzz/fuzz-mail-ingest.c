/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-mail-ingest.c - libFuzzer target for reading a stored message: GMime under the mail
 * plugin's wrapper (plugins/mail/mime.c, with html.c for the HTML part). The input is a raw
 * message as LMTP or a client might hand it over, any bytes. Every message is stored and shown
 * best effort, so nothing may crash, and mail-private.h's contract is checked on what comes
 * out of mail_meta_from_raw (every string valid UTF-8, the absent ones "" or NULL as
 * documented, references a NULL-terminated list, the preview at most 200 visible characters
 * with whitespace collapsed to single spaces, the text at most 64 KiB), of mail_mime_render
 * ("text" and "html" null or valid UTF-8, the HTML a fixed point of the sanitiser and free of
 * script, frames and images, attachments numbered from 0 with a name, a type and a size) and
 * of mail_mime_attachment (each listed attachment is there, with the listed size, name and
 * type; one past the end is NULL). The rendered object must also serialise as JSON, as the
 * route does. GLib criticals and warnings are fatal.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "mail-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fail (const char *what, const char *value)
{
        fprintf (stderr, "fuzz-mail-ingest: %s: \"%s\"\n", what, value ? value : "(null)");
        abort ();
}

/* @s is valid UTF-8 (a C string, so it has no NUL inside). */
static void
check_string (const char *what, const char *s, gboolean nullable)
{
        if (!s) {
                if (!nullable)
                        fail (what, "NULL where a string is promised");
                return;
        }
        if (!g_utf8_validate (s, -1, NULL))
                fail (what, "invalid UTF-8");
}

static void
check_meta (const MailMeta *m)
{
        check_string ("subject", m->subject, FALSE);
        check_string ("from", m->from, FALSE);
        check_string ("to", m->to, FALSE);
        check_string ("cc", m->cc, FALSE);
        check_string ("message_id", m->message_id, TRUE);
        check_string ("in_reply_to", m->in_reply_to, TRUE);
        check_string ("preview", m->preview, FALSE);
        check_string ("text", m->text, FALSE);
        /* (Not checked: "without <>". GMime reads "Message-ID: <<a@b>c@d>" as "<a@b", and a
         * garbled id has no right answer.) */
        if (m->message_id && !m->message_id[0])
                fail ("message_id empty instead of NULL", m->message_id);
        if (!m->references)
                fail ("references", "NULL list");
        for (char **r = m->references; *r; r++)
                check_string ("references[]", *r, FALSE);
        /* "~200 characters": mime.c counts the visible ones, whitespace collapsed to one space */
        guint visible = 0;
        for (const char *c = m->preview; *c; c = g_utf8_next_char (c)) {
                gunichar u = g_utf8_get_char (c);
                if (!g_unichar_isspace (u))
                        visible++;
                else if (u != ' ' || c == m->preview || c[1] == ' ' || !c[1])
                        fail ("preview whitespace not collapsed to single inner spaces", m->preview);
        }
        if (visible > 200)
                fail ("preview longer than 200 visible characters", m->preview);
        if (strlen (m->text) > 64 * 1024)
                fail ("text longer than 64 KiB", "");
}

/* What the page gets: the sanitiser's output, so sanitising it again changes nothing. */
static void
check_html (const char *html)
{
        check_string ("html", html, FALSE);
        g_autofree char *again = mail_html_sanitize (html);
        if (!g_str_equal (again, html))
                fail ("rendered html is not a fixed point of the sanitiser", html);
        g_autofree char *lower = g_ascii_strdown (html, -1);
        /* The grammar of the output is fuzz-mail-html's to check in full; here the obvious. */
        static const char *const never[] = {"<script", "<style", "<iframe", "<img", "<svg",
                                            "href=\"javascript:", "href=\"data:"};
        for (guint i = 0; i < G_N_ELEMENTS (never); i++)
                if (strstr (lower, never[i]))
                        fail (never[i], html);
}

static void
check_render (GBytes *raw, JsonObject *o)
{
        JsonNode *text = json_object_get_member (o, "text");
        JsonNode *html = json_object_get_member (o, "html");
        JsonNode *atts = json_object_get_member (o, "attachments");
        if (!text || !html || !atts || !JSON_NODE_HOLDS_ARRAY (atts))
                fail ("render", "member missing");
        if (!JSON_NODE_HOLDS_NULL (text))
                check_string ("render text", json_node_get_string (text), FALSE);
        if (!JSON_NODE_HOLDS_NULL (html))
                check_html (json_node_get_string (html));

        JsonArray *list = json_node_get_array (atts);
        guint n = json_array_get_length (list);
        for (guint i = 0; i < n; i++) {
                JsonObject *a = json_array_get_object_element (list, i);
                if (!a || json_object_get_int_member (a, "index") != i)
                        fail ("attachment", "index out of order");
                const char *name = json_object_get_string_member (a, "filename");
                const char *type = json_object_get_string_member (a, "content_type");
                check_string ("attachment filename", name, FALSE);
                check_string ("attachment content_type", type, FALSE);
                if (!name[0] || !type[0])
                        fail ("attachment", "empty filename or content_type");
                gint64 size = json_object_get_int_member (a, "size");
                g_autofree char *got_type = NULL;
                g_autofree char *got_name = NULL;
                g_autoptr (GBytes) content = mail_mime_attachment (raw, i, &got_type, &got_name);
                if (!content || (gint64) g_bytes_get_size (content) != size ||
                    g_strcmp0 (got_type, type) != 0 || g_strcmp0 (got_name, name) != 0)
                        fail ("attachment differs from its listing", name);
        }
        char *type = NULL;
        char *name = NULL;
        g_autoptr (GBytes) past = mail_mime_attachment (raw, n, &type, &name);
        if (past || type || name)
                fail ("attachment", "one past the end exists");

        g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), o);
        g_autofree char *json = json_to_string (node, FALSE);
        if (!json || !g_utf8_validate (json, -1, NULL))
                fail ("render", "does not serialise as JSON");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autoptr (GBytes) raw = g_bytes_new (data, size);
        g_autoptr (MailMeta) meta = mail_meta_from_raw (raw);
        if (!meta)
                abort ();
        check_meta (meta);
        g_autoptr (JsonObject) o = mail_mime_render (raw);
        if (!o)
                abort ();
        check_render (raw, o);
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        mail_mime_init ();
        return 0;
}
