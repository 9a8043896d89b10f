/* SPDX-License-Identifier: Apache-2.0 */
/* mime.c - everything that reads or writes MIME goes through GMime, here and nowhere else.
 *
 * Reading is best effort and never fails: a message with broken MIME, a wrong or unknown
 * charset, raw 8-bit headers or a missing boundary is still stored byte for byte, and what
 * GMime can make of it is shown (headers decoded with RFC 2047 and, for undeclared 8-bit
 * bytes, UTF-8 then windows-1252; bodies converted from their declared charset). Every string
 * handed to PostgreSQL is valid UTF-8 without NUL. */
#include "mail-private.h"

#include <gmime/gmime.h>
#include <string.h>

/* GMime 3.2 declares no autoptr cleanups; these are all plain GObjects. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

#define PREVIEW_CHARS 200
#define SEARCH_TEXT_BYTES (64 * 1024)

static GMimeParserOptions *parser_options;

void
mail_mime_init (void)
{
        static gsize once = 0;
        if (g_once_init_enter (&once)) {
                g_mime_init ();
                parser_options = g_mime_parser_options_new ();
                const char *fallback[] = {"utf-8", "windows-1252", NULL};
                g_mime_parser_options_set_fallback_charsets (parser_options, fallback);
                g_once_init_leave (&once, 1);
        }
}

/* Valid UTF-8, no NUL, at most @max bytes (cut on a character boundary). */
static char *
clean (const char *s, gsize max)
{
        if (!s)
                return g_strdup ("");
        g_autofree char *valid = g_utf8_make_valid (s, -1);
        GString *out = g_string_sized_new (strlen (valid));
        for (const char *p = valid; *p; p = g_utf8_next_char (p)) {
                gsize n = (gsize) (g_utf8_next_char (p) - p);
                if (out->len + n > max)
                        break;
                g_string_append_len (out, p, (gssize) n);
        }
        return g_string_free (out, FALSE);
}

static GMimeMessage *
parse (GBytes *raw)
{
        gsize len;
        const guint8 *data = g_bytes_get_data (raw, &len);
        if (!data)
                data = (const guint8 *) ""; /* an empty GBytes has no data pointer */
        g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
        g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
        /* A leading "From " line (mbox) is skipped by GMime only in mbox mode; plain mode
         * reads it as a broken header, which is still shown best-effort. */
        return g_mime_parser_construct_message (parser, parser_options);
}

static char *
addresses (InternetAddressList *list)
{
        if (!list || internet_address_list_length (list) == 0)
                return g_strdup ("");
        g_autofree char *s = internet_address_list_to_string (list, NULL, FALSE);
        return clean (s, 4096);
}

typedef struct {
        GMimeObject *text;
        GMimeObject *html;
        GPtrArray *attachments; /* GMimeObject*, borrowed */
} Parts;

static gboolean
is_attachment (GMimeObject *part)
{
        if (GMIME_IS_MESSAGE_PART (part))
                return TRUE;
        if (!GMIME_IS_PART (part))
                return FALSE;
        if (g_mime_part_is_attachment (GMIME_PART (part)) || g_mime_part_get_filename (GMIME_PART (part)))
                return TRUE;
        GMimeContentType *ct = g_mime_object_get_content_type (part);
        return !g_mime_content_type_is_type (ct, "text", "plain") &&
               !g_mime_content_type_is_type (ct, "text", "html");
}

static void
collect (GMimeObject *parent, GMimeObject *part, gpointer data)
{
        Parts *p = data;
        (void) parent;
        if (GMIME_IS_MULTIPART (part))
                return;
        if (is_attachment (part)) {
                g_ptr_array_add (p->attachments, part);
                return;
        }
        GMimeContentType *ct = g_mime_object_get_content_type (part);
        if (!p->text && g_mime_content_type_is_type (ct, "text", "plain"))
                p->text = part;
        else if (!p->html && g_mime_content_type_is_type (ct, "text", "html"))
                p->html = part;
}

static void
parts_of (GMimeMessage *msg, Parts *p)
{
        p->text = p->html = NULL;
        p->attachments = g_ptr_array_new ();
        GMimeObject *body = g_mime_message_get_mime_part (msg);
        if (!body)
                return;
        if (GMIME_IS_MULTIPART (body) || GMIME_IS_MESSAGE_PART (body))
                g_mime_message_foreach (msg, collect, p);
        else
                collect (NULL, body, p);
}

static char *
text_of (GMimeObject *part)
{
        if (!part || !GMIME_IS_TEXT_PART (part))
                return NULL;
        g_autofree char *text = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
        return text ? clean (text, 4 * 1024 * 1024) : NULL;
}

/* Whether a stored message uses CRLF line ends (then an embedded message is written back
 * with them too: GMime parses it into objects and writes LF by default). */
static gboolean
uses_crlf (GBytes *raw)
{
        gsize len;
        const char *data = g_bytes_get_data (raw, &len);
        return memchr (data, '\r', len) != NULL;
}

/* The decoded bytes of a leaf part, or the whole embedded message of a message/rfc822. */
static GBytes *
content_of (GMimeObject *part, gboolean crlf)
{
        g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
        if (GMIME_IS_MESSAGE_PART (part)) {
                GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
                GMimeFormatOptions *fmt = g_mime_format_options_clone (NULL);
                g_mime_format_options_set_newline_format (fmt, crlf ? GMIME_NEWLINE_FORMAT_DOS
                                                                    : GMIME_NEWLINE_FORMAT_UNIX);
                if (inner)
                        g_mime_object_write_to_stream (GMIME_OBJECT (inner), fmt, mem);
                g_mime_format_options_free (fmt);
        } else if (GMIME_IS_PART (part) && g_mime_part_get_content (GMIME_PART (part))) {
                g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)),
                                                     mem);
        }
        GByteArray *arr = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
        return g_bytes_new (arr->data, arr->len);
}

static char *
attachment_name (GMimeObject *part, guint index)
{
        const char *name = GMIME_IS_PART (part)
                                   ? g_mime_part_get_filename (GMIME_PART (part))
                                   : g_mime_object_get_content_disposition_parameter (part,
                                                                                      "filename");
        if (!name && !GMIME_IS_PART (part))
                name = g_mime_object_get_content_type_parameter (part, "name");
        if (name && *name)
                return clean (name, 255);
        return g_strdup_printf (GMIME_IS_MESSAGE_PART (part) ? "message-%u.eml" : "part-%u",
                                index + 1);
}

static char *
attachment_type (GMimeObject *part)
{
        GMimeContentType *ct = g_mime_object_get_content_type (part);
        g_autofree char *t = ct ? g_mime_content_type_get_mime_type (ct) : NULL;
        return clean (t ? t : "application/octet-stream", 255);
}

void
mail_meta_free (MailMeta *m)
{
        if (!m)
                return;
        g_free (m->subject);
        g_free (m->from);
        g_free (m->to);
        g_free (m->cc);
        g_free (m->message_id);
        g_free (m->in_reply_to);
        g_strfreev (m->references);
        g_free (m->preview);
        g_free (m->text);
        g_free (m);
}

MailMeta *
mail_meta_from_raw (GBytes *raw)
{
        mail_mime_init ();
        MailMeta *m = g_new0 (MailMeta, 1);
        m->date = -1;
        g_autoptr (GMimeMessage) msg = parse (raw);
        if (!msg) {
                m->subject = g_strdup ("");
                m->from = g_strdup ("");
                m->to = g_strdup ("");
                m->cc = g_strdup ("");
                m->preview = g_strdup ("");
                m->text = g_strdup ("");
                m->references = g_new0 (char *, 1);
                return m;
        }
        m->subject = clean (g_mime_message_get_subject (msg), 1000);
        m->from = addresses (g_mime_message_get_from (msg));
        m->to = addresses (g_mime_message_get_to (msg));
        m->cc = addresses (g_mime_message_get_cc (msg));
        GDateTime *date = g_mime_message_get_date (msg);
        if (date)
                m->date = g_date_time_to_unix (date);
        const char *mid = g_mime_message_get_message_id (msg);
        m->message_id = mid && *mid ? clean (mid, 998) : NULL;
        GMimeObject *obj = GMIME_OBJECT (msg);
        const char *irt = g_mime_object_get_header (obj, "In-Reply-To");
        if (irt) {
                GMimeReferences *r = g_mime_references_parse (parser_options, irt);
                if (r && g_mime_references_length (r) > 0)
                        m->in_reply_to = clean (g_mime_references_get_message_id (r, 0), 998);
                if (r)
                        g_mime_references_free (r);
        }
        GPtrArray *refs = g_ptr_array_new ();
        const char *refs_header = g_mime_object_get_header (obj, "References");
        if (refs_header) {
                GMimeReferences *r = g_mime_references_parse (parser_options, refs_header);
                for (int i = 0; r && i < g_mime_references_length (r) && i < 100; i++)
                        g_ptr_array_add (refs, clean (g_mime_references_get_message_id (r, i), 998));
                if (r)
                        g_mime_references_free (r);
        }
        g_ptr_array_add (refs, NULL);
        m->references = (char **) g_ptr_array_free (refs, FALSE);

        Parts p;
        parts_of (msg, &p);
        m->has_attachments = p.attachments->len > 0;
        g_autofree char *text = text_of (p.text);
        if (!text && p.html)
                text = text_of (p.html); /* markup and all: good enough to search and preview */
        g_ptr_array_unref (p.attachments);
        m->text = clean (text ? text : "", SEARCH_TEXT_BYTES);
        /* The preview: the first characters, whitespace collapsed. */
        GString *pv = g_string_new (NULL);
        gboolean space = FALSE;
        guint chars = 0;
        for (const char *c = m->text; *c && chars < PREVIEW_CHARS; c = g_utf8_next_char (c)) {
                gunichar u = g_utf8_get_char (c);
                if (g_unichar_isspace (u)) {
                        space = pv->len > 0;
                        continue;
                }
                if (space)
                        g_string_append_c (pv, ' ');
                space = FALSE;
                g_string_append_unichar (pv, u);
                chars++;
        }
        m->preview = g_string_free (pv, FALSE);
        return m;
}

JsonObject *
mail_mime_render (GBytes *raw)
{
        mail_mime_init ();
        JsonObject *o = json_object_new ();
        g_autoptr (GMimeMessage) msg = parse (raw);
        JsonArray *atts = json_array_new ();
        if (!msg) {
                json_object_set_null_member (o, "text");
                json_object_set_null_member (o, "html");
                json_object_set_array_member (o, "attachments", atts);
                return o;
        }
        Parts p;
        parts_of (msg, &p);
        gboolean crlf = uses_crlf (raw);
        g_autofree char *text = text_of (p.text);
        g_autofree char *html = text_of (p.html);
        if (text)
                json_object_set_string_member (o, "text", text);
        else
                json_object_set_null_member (o, "text");
        if (html) {
                g_autofree char *safe = mail_html_sanitize (html);
                json_object_set_string_member (o, "html", safe);
        } else {
                json_object_set_null_member (o, "html");
        }
        for (guint i = 0; i < p.attachments->len; i++) {
                GMimeObject *part = p.attachments->pdata[i];
                g_autoptr (GBytes) content = content_of (part, crlf);
                g_autofree char *name = attachment_name (part, i);
                g_autofree char *type = attachment_type (part);
                JsonObject *a = json_object_new ();
                json_object_set_int_member (a, "index", i);
                json_object_set_string_member (a, "filename", name);
                json_object_set_string_member (a, "content_type", type);
                json_object_set_int_member (a, "size", (gint64) g_bytes_get_size (content));
                json_array_add_object_element (atts, a);
        }
        g_ptr_array_unref (p.attachments);
        json_object_set_array_member (o, "attachments", atts);
        return o;
}

GBytes *
mail_mime_attachment (GBytes *raw, guint index, char **out_type, char **out_name)
{
        mail_mime_init ();
        g_autoptr (GMimeMessage) msg = parse (raw);
        if (!msg)
                return NULL;
        Parts p;
        parts_of (msg, &p);
        GBytes *content = NULL;
        if (index < p.attachments->len) {
                GMimeObject *part = p.attachments->pdata[index];
                content = content_of (part, uses_crlf (raw));
                *out_type = attachment_type (part);
                *out_name = attachment_name (part, index);
        }
        g_ptr_array_unref (p.attachments);
        return content;
}

/* ---- composing ---- */

static void
add_addresses (GMimeMessage *msg, GMimeAddressType type, char **list)
{
        for (char **a = list; a && *a; a++) {
                InternetAddressList *parsed = internet_address_list_parse (parser_options, *a);
                if (!parsed)
                        continue;
                internet_address_list_append (g_mime_message_get_addresses (msg, type), parsed);
                g_object_unref (parsed);
        }
}

static GMimeObject *
text_part (const char *subtype, const char *text)
{
        GMimeTextPart *t = g_mime_text_part_new_with_subtype (subtype);
        g_mime_text_part_set_text (t, text);
        return GMIME_OBJECT (t);
}

GBytes *
mail_mime_compose (const MailCompose *c)
{
        mail_mime_init ();
        g_autoptr (GMimeMessage) msg = g_mime_message_new (TRUE);
        g_mime_message_add_mailbox (msg, GMIME_ADDRESS_TYPE_FROM, c->from_name, c->from_addr);
        add_addresses (msg, GMIME_ADDRESS_TYPE_TO, c->to);
        add_addresses (msg, GMIME_ADDRESS_TYPE_CC, c->cc);
        g_mime_message_set_subject (msg, c->subject ? c->subject : "", "utf-8");
        g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
        g_mime_message_set_date (msg, now);
        g_mime_message_set_message_id (msg, c->message_id);
        if (c->in_reply_to) {
                g_autofree char *irt = g_strdup_printf ("<%s>", c->in_reply_to);
                g_mime_object_set_header (GMIME_OBJECT (msg), "In-Reply-To", irt, NULL);
        }
        if (c->references && c->references[0]) {
                GString *refs = g_string_new (NULL);
                for (char **r = c->references; *r; r++)
                        g_string_append_printf (refs, "%s<%s>", refs->len ? " " : "", *r);
                g_mime_object_set_header (GMIME_OBJECT (msg), "References", refs->str, NULL);
                g_string_free (refs, TRUE);
        }

        GMimeObject *body;
        if (c->text && c->html) {
                GMimeMultipart *alt = g_mime_multipart_new_with_subtype ("alternative");
                g_autoptr (GMimeObject) t = text_part ("plain", c->text);
                g_autoptr (GMimeObject) h = text_part ("html", c->html);
                g_mime_multipart_add (alt, t);
                g_mime_multipart_add (alt, h);
                body = GMIME_OBJECT (alt);
        } else {
                body = text_part (c->html ? "html" : "plain", c->html ? c->html : c->text ? c->text : "");
        }
        if (c->attachments && c->attachments->len) {
                GMimeMultipart *mixed = g_mime_multipart_new_with_subtype ("mixed");
                g_mime_multipart_add (mixed, body);
                g_object_unref (body);
                for (guint i = 0; i < c->attachments->len; i++) {
                        MailAttachment *a = c->attachments->pdata[i];
                        g_auto (GStrv) type = g_strsplit (a->content_type, "/", 2);
                        g_autoptr (GMimePart) part = g_mime_part_new_with_type (
                                type[0], type[1] ? type[1] : "octet-stream");
                        gsize len;
                        const char *data = g_bytes_get_data (a->data, &len);
                        g_autoptr (GMimeStream) s = g_mime_stream_mem_new_with_buffer (data, len);
                        g_autoptr (GMimeDataWrapper) w =
                                g_mime_data_wrapper_new_with_stream (s, GMIME_CONTENT_ENCODING_DEFAULT);
                        g_mime_part_set_content (part, w);
                        g_mime_part_set_filename (part, a->filename);
                        /* RFC 2046 5.2.1: a message/rfc822 body is never base64 or QP. */
                        g_mime_part_set_content_encoding (
                                part, g_ascii_strcasecmp (a->content_type, "message/rfc822") == 0
                                              ? GMIME_CONTENT_ENCODING_8BIT
                                              : GMIME_CONTENT_ENCODING_BASE64);
                        g_mime_multipart_add (mixed, GMIME_OBJECT (part));
                }
                body = GMIME_OBJECT (mixed);
        }
        g_mime_message_set_mime_part (msg, body);
        g_object_unref (body);
        g_autoptr (GMimeStream) out = g_mime_stream_mem_new ();
        GMimeFormatOptions *fmt = g_mime_format_options_clone (NULL);
        g_mime_format_options_set_newline_format (fmt, GMIME_NEWLINE_FORMAT_DOS);
        g_mime_object_write_to_stream (GMIME_OBJECT (msg), fmt, out);
        g_mime_format_options_free (fmt);
        GByteArray *arr = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
        return g_bytes_new (arr->data, arr->len);
}

/* Splits one address as a client wrote it ("Name <a@b>" or "a@b") into its addr-spec,
 * lower-cased; NULL if it is not exactly one mailbox. */
char *
mail_address_parse (const char *text)
{
        mail_mime_init ();
        if (!text || !*text || strlen (text) > 998)
                return NULL;
        g_autoptr (InternetAddressList) list = internet_address_list_parse (parser_options, text);
        if (!list || internet_address_list_length (list) != 1)
                return NULL;
        InternetAddress *a = internet_address_list_get_address (list, 0);
        if (!INTERNET_ADDRESS_IS_MAILBOX (a))
                return NULL;
        const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
        const char *at = addr ? strrchr (addr, '@') : NULL;
        if (!at || at == addr || !at[1] || strchr (addr, ' ') || !g_utf8_validate (addr, -1, NULL))
                return NULL;
        return g_ascii_strdown (addr, -1);
}
