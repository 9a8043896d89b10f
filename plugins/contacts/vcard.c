/* SPDX-License-Identifier: Apache-2.0 */
/* vcard.c - the vCard reader and writer of the contacts plugin (vcard.h says why it exists).
 *
 * Reading is strict where it matters to the store and lenient where clients differ: the body
 * must be valid UTF-8, one BEGIN:VCARD ... END:VCARD with VERSION 3.0 or 4.0, a UID and an
 * FN, content lines of the RFC 6350 3.3 shape and no nested card (vCard 2.1's AGENT); sizes
 * and the number of lines are bounded before anything is kept. Unknown properties and
 * parameters are kept as they were written, so a card comes back as the client sent it. */
#include "vcard.h"

#include <string.h>

GQuark
contacts_vcard_error_quark (void)
{
        return g_quark_from_static_string ("contacts-vcard-error-quark");
}

static void
prop_free (ContactsVcardProp *p)
{
        g_free (p->group);
        g_free (p->name);
        g_free (p->params);
        g_free (p->value);
        g_free (p);
}

void
contacts_vcard_free (ContactsVcard *card)
{
        if (!card)
                return;
        g_free (card->version);
        g_ptr_array_unref (card->props);
        g_ptr_array_unref (card->emails);
        g_free (card->uid);
        g_free (card->fn);
        g_free (card);
}

static ContactsVcard *
card_new (void)
{
        ContactsVcard *c = g_new0 (ContactsVcard, 1);
        c->props = g_ptr_array_new_with_free_func ((GDestroyNotify) prop_free);
        c->emails = g_ptr_array_new_with_free_func (g_free);
        return c;
}

static gboolean
invalid (GError **error, const char *why, guint line)
{
        g_set_error (error, CONTACTS_VCARD_ERROR, CONTACTS_VCARD_ERROR_INVALID,
                     "not a vCard: %s (line %u)", why, line);
        return FALSE;
}

/* The text of a value: \n \N \, \; \\ undone (RFC 6350 3.4). */
static char *
unescape (const char *v)
{
        GString *s = g_string_sized_new (strlen (v));
        for (const char *c = v; *c; c++) {
                if (*c == '\\' && c[1]) {
                        c++;
                        g_string_append_c (s, (*c == 'n' || *c == 'N') ? '\n' : *c);
                } else {
                        g_string_append_c (s, *c);
                }
        }
        return g_string_free (s, FALSE);
}

char *
contacts_vcard_escape (const char *text)
{
        GString *s = g_string_sized_new (strlen (text) + 8);
        for (const char *c = text; *c; c++) {
                if (*c == '\\' || *c == ',' || *c == ';')
                        g_string_append_c (s, '\\');
                if (*c == '\n')
                        g_string_append (s, "\\n");
                else if (*c != '\r')
                        g_string_append_c (s, *c);
        }
        return g_string_free (s, FALSE);
}

/* One unfolded content line into @out: [group.]name[;params]:value. */
static gboolean
split_line (const char *line, ContactsVcardProp *out)
{
        const char *c = line;
        const char *dot = NULL;
        while (g_ascii_isalnum (*c) || *c == '-' || (*c == '.' && !dot)) {
                if (*c == '.')
                        dot = c;
                c++;
        }
        const char *name = dot ? dot + 1 : line;
        if (c == name || (dot && dot == line))
                return FALSE;
        /* Parameters: up to the first ':' outside a quoted string. */
        const char *params = NULL;
        if (*c == ';') {
                params = c + 1;
                gboolean quoted = FALSE;
                for (c = params; *c && (quoted || *c != ':'); c++)
                        if (*c == '"')
                                quoted = !quoted;
        }
        if (*c != ':')
                return FALSE;
        out->group = dot ? g_strndup (line, dot - line) : NULL;
        g_autofree char *n = g_strndup (name, (params ? params - 1 : c) - name);
        out->name = g_ascii_strup (n, -1);
        out->params = params ? g_strndup (params, c - params) : NULL;
        out->value = g_strdup (c + 1);
        return TRUE;
}

ContactsVcard *
contacts_vcard_parse (const char *text, gsize len, GError **error)
{
        if (len > CONTACTS_VCARD_MAX_BYTES) {
                g_set_error (error, CONTACTS_VCARD_ERROR, CONTACTS_VCARD_ERROR_TOO_LARGE,
                             "a vCard is at most %d bytes", CONTACTS_VCARD_MAX_BYTES);
                return NULL;
        }
        /* A UTF-8 byte order mark, as some exporters write one, is not part of the card. */
        if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0) {
                text += 3;
                len -= 3;
        }
        if (!g_utf8_validate_len (text, len, NULL)) {
                invalid (error, "not UTF-8 (or holds a NUL)", 0);
                return NULL;
        }
        /* Unfold (RFC 6350 3.2): a line break followed by a space or a tab continues the
         * line. Bare LF line ends are accepted, a lone CR is not a line end. */
        g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GString) cur = NULL;
        gsize i = 0;
        while (i < len) {
                gsize end = i;
                while (end < len && text[end] != '\n')
                        end++;
                gsize stop = end > i && text[end - 1] == '\r' ? end - 1 : end;
                if ((text[i] == ' ' || text[i] == '\t') && cur) {
                        g_string_append_len (cur, text + i + 1, stop - i - 1);
                } else {
                        if (cur)
                                g_ptr_array_add (lines,
                                                 g_string_free (g_steal_pointer (&cur), FALSE));
                        if (lines->len > CONTACTS_VCARD_MAX_PROPS + 3) {
                                invalid (error, "too many lines", lines->len);
                                return NULL;
                        }
                        if (stop > i)
                                cur = g_string_new_len (text + i, stop - i);
                }
                i = end + 1;
        }
        if (cur)
                g_ptr_array_add (lines, g_string_free (g_steal_pointer (&cur), FALSE));
        g_autoptr (ContactsVcard) card = card_new ();
        guint n = lines->len;
        if (n < 2 || g_ascii_strcasecmp (lines->pdata[0], "BEGIN:VCARD") != 0) {
                invalid (error, "it does not begin with BEGIN:VCARD", 1);
                return NULL;
        }
        if (g_ascii_strcasecmp (lines->pdata[n - 1], "END:VCARD") != 0) {
                invalid (error, "it does not end with END:VCARD (one card per resource)", n);
                return NULL;
        }
        for (guint l = 1; l + 1 < n; l++) {
                const char *line = lines->pdata[l];
                ContactsVcardProp *p = g_new0 (ContactsVcardProp, 1);
                if (!split_line (line, p)) {
                        prop_free (p);
                        invalid (error, "a line is not NAME:value", l + 1);
                        return NULL;
                }
                if (g_str_equal (p->name, "BEGIN") || g_str_equal (p->name, "END")) {
                        prop_free (p);
                        invalid (error, "a second or nested card (one card per resource)", l + 1);
                        return NULL;
                }
                if (g_str_equal (p->name, "VERSION")) {
                        gboolean dup = card->version != NULL;
                        if (!dup)
                                card->version = g_strdup (p->value);
                        prop_free (p);
                        if (dup) {
                                invalid (error, "VERSION twice", l + 1);
                                return NULL;
                        }
                        continue;
                }
                if (g_str_equal (p->name, "UID") && !card->uid)
                        card->uid = unescape (p->value);
                else if (g_str_equal (p->name, "FN") && !card->fn)
                        card->fn = unescape (p->value);
                else if (g_str_equal (p->name, "EMAIL"))
                        g_ptr_array_add (card->emails, unescape (p->value));
                g_ptr_array_add (card->props, p);
        }
        if (!card->version ||
            (!g_str_equal (card->version, "3.0") && !g_str_equal (card->version, "4.0"))) {
                invalid (error, "VERSION is 3.0 or 4.0", 0);
                return NULL;
        }
        if (!card->uid || !*card->uid || strlen (card->uid) > 500) {
                invalid (error, "a card has a UID (RFC 6352 5.1) of at most 500 bytes", 0);
                return NULL;
        }
        if (!card->fn) {
                invalid (error, "a card has an FN", 0);
                return NULL;
        }
        return g_steal_pointer (&card);
}

ContactsVcard *
contacts_vcard_new (const char *version, const char *uid, const char *fn)
{
        ContactsVcard *c = card_new ();
        c->version = g_strdup (version);
        c->uid = g_strdup (uid);
        c->fn = g_strdup (fn);
        contacts_vcard_add_text (c, "UID", NULL, uid);
        contacts_vcard_add_text (c, "FN", NULL, fn);
        return c;
}

void
contacts_vcard_add_raw (ContactsVcard *card, const char *name, const char *params,
                        const char *value)
{
        ContactsVcardProp *p = g_new0 (ContactsVcardProp, 1);
        p->name = g_ascii_strup (name, -1);
        p->params = g_strdup (params);
        p->value = g_strdup (value);
        g_ptr_array_add (card->props, p);
}

void
contacts_vcard_add_text (ContactsVcard *card, const char *name, const char *params,
                         const char *value)
{
        g_autofree char *v = contacts_vcard_escape (value);
        contacts_vcard_add_raw (card, name, params, v);
        if (g_ascii_strcasecmp (name, "EMAIL") == 0)
                g_ptr_array_add (card->emails, g_strdup (value));
}

/* Appends @line folded at 75 octets, never inside a UTF-8 sequence (RFC 6350 3.2). */
static void
put_line (GString *out, const char *line)
{
        gsize len = strlen (line), at = 0, width = 75;
        while (len - at > width) {
                gsize cut = at + width;
                while (cut > at && ((guchar) line[cut] & 0xc0) == 0x80)
                        cut--;
                g_string_append_len (out, line + at, cut - at);
                g_string_append (out, "\r\n ");
                at = cut;
                width = 74; /* the leading space counts */
        }
        g_string_append (out, line + at);
        g_string_append (out, "\r\n");
}

/* @params split at each ';' outside a quoted string (a quoted value may hold ';' and ':'). */
static GStrv
split_params (const char *params)
{
        g_autoptr (GStrvBuilder) parts = g_strv_builder_new ();
        gboolean quoted = FALSE;
        const char *start = params;
        for (const char *c = params;; c++) {
                if (*c == '"')
                        quoted = !quoted;
                if (*c == '\0' || (*c == ';' && !quoted)) {
                        g_autofree char *part = g_strndup (start, c - start);
                        g_strv_builder_add (parts, part);
                        if (*c == '\0')
                                break;
                        start = c + 1;
                }
        }
        return g_strv_builder_end (parts);
}

/* @params without any TYPE value "pref" (3.0's way of saying preferred); *@out_pref: it had
 * one. Only the simple forms clients write are rewritten: TYPE=pref and TYPE=a,pref. */
static char *
params_without_pref (const char *params, gboolean *out_pref)
{
        *out_pref = FALSE;
        g_auto (GStrv) parts = split_params (params);
        g_autoptr (GStrvBuilder) keep = g_strv_builder_new ();
        for (char **p = parts; *p; p++) {
                if (g_ascii_strncasecmp (*p, "TYPE=", 5) != 0 || strchr (*p, '"')) {
                        g_strv_builder_add (keep, *p);
                        continue;
                }
                g_auto (GStrv) vals = g_strsplit (*p + 5, ",", -1);
                g_autoptr (GStrvBuilder) left = g_strv_builder_new ();
                for (char **v = vals; *v; v++) {
                        if (g_ascii_strcasecmp (*v, "pref") == 0)
                                *out_pref = TRUE;
                        else
                                g_strv_builder_add (left, *v);
                }
                g_auto (GStrv) l = g_strv_builder_end (left);
                if (l[0]) {
                        g_autofree char *j = g_strjoinv (",", l);
                        g_autofree char *t = g_strconcat ("TYPE=", j, NULL);
                        g_strv_builder_add (keep, t);
                }
        }
        g_auto (GStrv) k = g_strv_builder_end (keep);
        return k[0] ? g_strjoinv (";", k) : NULL;
}

/* A PREF=n parameter (4.0) dropped; *@out_pref: it was there. */
static char *
params_without_pref4 (const char *params, gboolean *out_pref)
{
        *out_pref = FALSE;
        g_auto (GStrv) parts = split_params (params);
        g_autoptr (GStrvBuilder) keep = g_strv_builder_new ();
        for (char **p = parts; *p; p++) {
                if (g_ascii_strncasecmp (*p, "PREF=", 5) == 0)
                        *out_pref = TRUE;
                else
                        g_strv_builder_add (keep, *p);
        }
        g_auto (GStrv) k = g_strv_builder_end (keep);
        return k[0] ? g_strjoinv (";", k) : NULL;
}

static gboolean
is_media (const char *name)
{
        return g_str_equal (name, "PHOTO") || g_str_equal (name, "LOGO") ||
               g_str_equal (name, "SOUND") || g_str_equal (name, "KEY");
}

/* @mt is type/subtype (or a bare subtype) of RFC 6838 restricted-name characters, so that it
 * can become a 3.0 TYPE parameter; anything else stays a data: URI. */
static gboolean
media_type_ok (const char *mt)
{
        if (!*mt)
                return FALSE;
        for (const char *c = mt; *c; c++)
                if (!g_ascii_isalnum (*c) && !strchr ("!#$&-^_.+/", *c))
                        return FALSE;
        return TRUE;
}

/* One property as @to wants it: (params, value) rewritten where the versions differ. */
static void
convert (const ContactsVcardProp *p, gboolean to4, char **out_params, char **out_value)
{
        *out_params = p->params ? g_strdup (p->params) : NULL;
        *out_value = g_strdup (p->value);
        if (!p->params && !(is_media (p->name) && !to4))
                return;
        gboolean pref = FALSE;
        if (to4 && p->params) {
                g_autofree char *rest = params_without_pref (p->params, &pref);
                /* 3.0 inline data: ENCODING=b;TYPE=JPEG -> data:image/jpeg;base64, */
                g_auto (GStrv) parts = rest ? split_params (rest) : g_new0 (char *, 1);
                gboolean b64 = FALSE;
                char *type = NULL;
                g_autoptr (GStrvBuilder) keep = g_strv_builder_new ();
                for (char **x = parts; *x; x++) {
                        if (is_media (p->name) && (g_ascii_strcasecmp (*x, "ENCODING=b") == 0 ||
                                                   g_ascii_strcasecmp (*x, "ENCODING=BASE64") == 0))
                                b64 = TRUE;
                        else if (is_media (p->name) && g_ascii_strncasecmp (*x, "TYPE=", 5) == 0 &&
                                 !type)
                                type = *x + 5;
                        else
                                g_strv_builder_add (keep, *x);
                }
                if (!b64) {
                        g_clear_pointer (out_params, g_free);
                        *out_params = g_steal_pointer (&rest);
                } else {
                        g_autofree char *mt = g_ascii_strdown (type ? type : "jpeg", -1);
                        g_free (*out_value);
                        *out_value =
                                g_strdup_printf ("data:%s%s;base64,%s",
                                                 strchr (mt, '/') ? "" : "image/", mt, p->value);
                        g_auto (GStrv) k = g_strv_builder_end (keep);
                        g_clear_pointer (out_params, g_free);
                        *out_params = k[0] ? g_strjoinv (";", k) : NULL;
                }
                if (pref) {
                        char *with = *out_params ? g_strconcat (*out_params, ";PREF=1", NULL)
                                                 : g_strdup ("PREF=1");
                        g_free (*out_params);
                        *out_params = with;
                }
                return;
        }
        if (!to4) {
                if (p->params) {
                        g_free (*out_params);
                        *out_params = params_without_pref4 (p->params, &pref);
                }
                if (is_media (p->name) && g_str_has_prefix (p->value, "data:")) {
                        /* data:image/png;base64,XXXX -> ENCODING=b;TYPE=PNG:XXXX */
                        const char *comma = strchr (p->value, ',');
                        const char *semi = strstr (p->value, ";base64,");
                        g_autofree char *mt =
                                comma && semi && semi + 7 == comma
                                        ? g_strndup (p->value + 5, semi - p->value - 5)
                                        : NULL;
                        if (mt && media_type_ok (mt)) {
                                const char *slash = strchr (mt, '/');
                                g_autofree char *up = g_ascii_strup (slash ? slash + 1 : mt, -1);
                                g_autofree char *enc = g_strdup_printf ("ENCODING=b;TYPE=%s", up);
                                char *np = *out_params ? g_strconcat (*out_params, ";", enc, NULL)
                                                       : g_strdup (enc);
                                g_free (*out_params);
                                *out_params = np;
                                g_free (*out_value);
                                *out_value = g_strdup (comma + 1);
                        }
                }
                if (pref) {
                        char *with = *out_params ? g_strconcat (*out_params, ";TYPE=pref", NULL)
                                                 : g_strdup ("TYPE=pref");
                        g_free (*out_params);
                        *out_params = with;
                }
        }
}

char *
contacts_vcard_write (const ContactsVcard *card, const char *version)
{
        gboolean same = g_str_equal (version, card->version);
        gboolean to4 = g_str_equal (version, "4.0");
        GString *out = g_string_new ("BEGIN:VCARD\r\n");
        g_autofree char *vline = g_strconcat ("VERSION:", version, NULL);
        put_line (out, vline);
        gboolean has_n = FALSE;
        for (guint i = 0; i < card->props->len; i++) {
                const ContactsVcardProp *p = card->props->pdata[i];
                has_n = has_n || g_str_equal (p->name, "N");
                g_autofree char *params = NULL, *value = NULL;
                if (same) {
                        params = g_strdup (p->params);
                        value = g_strdup (p->value);
                } else {
                        convert (p, to4, &params, &value);
                }
                g_autoptr (GString) line = g_string_new (NULL);
                if (p->group)
                        g_string_append_printf (line, "%s.", p->group);
                g_string_append (line, p->name);
                if (params)
                        g_string_append_printf (line, ";%s", params);
                g_string_append_c (line, ':');
                g_string_append (line, value);
                put_line (out, line->str);
        }
        if (!has_n && !to4) { /* RFC 2426 3.1.2: N is required in 3.0 */
                g_autofree char *fn = contacts_vcard_escape (card->fn ? card->fn : "");
                g_autofree char *n = g_strconcat ("N:", fn, ";;;;", NULL);
                put_line (out, n);
        }
        g_string_append (out, "END:VCARD\r\n");
        return g_string_free (out, FALSE);
}
