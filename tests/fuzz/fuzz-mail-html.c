/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-mail-html.c - libFuzzer target for the mail plugin's HTML sanitiser
 * (plugins/mail/html.c, mail_html_sanitize). The input is the HTML part of a message, any
 * bytes up to the first NUL: GMime hands over UTF-8, but the function must survive anything, so
 * invalid UTF-8 is fuzzed as well. Besides crashes and sanitizer reports it reads the output
 * with a small lexer of its own, which knows only the grammar html.c promises and its own copy
 * of the allowlist: text in which '<', '>' and '"' never appear raw and '&' only starts &amp;
 * &lt; &gt; &quot;; start tags of allowed elements only, with exactly the allowed attributes
 * (an <a> has an href whose scheme, after what browsers strip from a URL, is http, https or
 * mailto, then the forced rel and target; td and th at most colspan and rowspan of 1-4 digits);
 * balanced end tags, br and hr without; at most 256 elements open; valid UTF-8. On top of that,
 * sanitising the output again must give the same bytes (html.c is designed as a fixed point),
 * so libxml2 reading the output back sees the tree that was written.
 * Built only with -Dfuzzing=true (clang); see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mail-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_OPEN 256
#define MAX_OUTPUT (1024 * 1024)

static const char *const elements[] = {
        "p",  "br", "div", "span", "b", "strong", "i",  "em", "u",  "s",  "strike", "sub",
        "sup", "small", "big", "tt", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "hr", "table", "caption", "thead",
        "tbody", "tfoot", "tr", "td", "th", "a",
};

static void
fail (const char *why, const char *out, const char *at)
{
        fprintf (stderr, "fuzz-mail-html: %s at offset %zu of:\n%s\n", why, (size_t) (at - out),
                 out);
        abort ();
}

static gboolean
allowed (const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS (elements); i++)
                if (g_str_equal (name, elements[i]))
                        return TRUE;
        return FALSE;
}

/* Reads an escaped run up to (not including) @stop or the end, checking entities; returns the
 * decoded text (transfer full) and advances *@p. */
static char *
read_text (const char *out, const char **p, char stop)
{
        GString *text = g_string_new (NULL);
        static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;"};
        static const char decoded[] = {'&', '<', '>', '"'};
        while (**p && **p != stop) {
                char c = **p;
                if (c == '>' || c == '"' || (c == '<' && stop != '<'))
                        fail ("raw markup character in text", out, *p);
                if (c == '&') {
                        guint i;
                        for (i = 0; i < G_N_ELEMENTS (entities); i++)
                                if (g_str_has_prefix (*p, entities[i]))
                                        break;
                        if (i == G_N_ELEMENTS (entities))
                                fail ("'&' not starting one of the four entities", out, *p);
                        g_string_append_c (text, decoded[i]);
                        *p += strlen (entities[i]);
                        continue;
                }
                g_string_append_c (text, c);
                (*p)++;
        }
        return g_string_free (text, FALSE);
}

/* Reads ` name="value"` at *@p into @name and @value (transfer full), or returns FALSE at '>'. */
static gboolean
read_attr (const char *out, const char **p, char **name, char **value)
{
        if (**p == '>')
                return FALSE;
        if (**p != ' ')
                fail ("attribute not after one space", out, *p);
        (*p)++;
        const char *start = *p;
        while (g_ascii_islower (**p))
                (*p)++;
        if (*p == start || (*p)[0] != '=' || (*p)[1] != '"')
                fail ("attribute not name=\"value\"", out, start);
        *name = g_strndup (start, (gsize) (*p - start));
        *p += 2;
        *value = read_text (out, p, '"');
        if (**p != '"')
                fail ("unterminated attribute value", out, *p);
        (*p)++;
        return TRUE;
}

static void
check_href (const char *out, const char *at, const char *href)
{
        gsize n = strlen (href);
        if (n == 0 || (guchar) href[0] <= 0x20 || (guchar) href[n - 1] <= 0x20 ||
            strpbrk (href, "\t\n\r"))
                fail ("href with what browsers strip", out, at);
        const char *colon = strchr (href, ':');
        g_autofree char *scheme = colon ? g_ascii_strdown (href, colon - href) : NULL;
        if (!scheme || !colon[1] ||
            !(g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
              g_str_equal (scheme, "mailto")))
                fail ("href scheme not http, https or mailto", out, at);
}

static void
check_start_tag (const char *out, const char **p, const char *name)
{
        const char *at = *p;
        g_autofree char *n1 = NULL;
        g_autofree char *v1 = NULL;
        g_autofree char *n2 = NULL;
        g_autofree char *v2 = NULL;
        g_autofree char *n3 = NULL;
        g_autofree char *v3 = NULL;
        if (g_str_equal (name, "a")) {
                if (!read_attr (out, p, &n1, &v1) || !g_str_equal (n1, "href") ||
                    !read_attr (out, p, &n2, &v2) || !g_str_equal (n2, "rel") ||
                    !g_str_equal (v2, "noopener noreferrer nofollow") ||
                    !read_attr (out, p, &n3, &v3) || !g_str_equal (n3, "target") ||
                    !g_str_equal (v3, "_blank"))
                        fail ("<a> without exactly href, rel, target", out, at);
                check_href (out, at, v1);
        } else if (g_str_equal (name, "td") || g_str_equal (name, "th")) {
                const char *last = NULL;
                char *an, *av;
                while (read_attr (out, p, &an, &av)) {
                        gboolean ok = (g_str_equal (an, "colspan") && !last) ||
                                      (g_str_equal (an, "rowspan") &&
                                       (!last || g_str_equal (last, "colspan")));
                        gsize len = strlen (av);
                        ok = ok && len >= 1 && len <= 4 && strspn (av, "0123456789") == len;
                        last = g_str_equal (an, "colspan") ? "colspan" : "rowspan";
                        g_free (an);
                        g_free (av);
                        if (!ok)
                                fail ("td/th attribute other than colspan, rowspan", out, at);
                }
        }
        if (**p != '>')
                fail ("attribute on an element that takes none", out, *p);
        (*p)++;
}

/* The lexer over html.c's output grammar. */
static void
check_output (const char *out)
{
        if (!g_utf8_validate (out, -1, NULL))
                fail ("invalid UTF-8", out, out);
        GPtrArray *open = g_ptr_array_new_with_free_func (g_free);
        gsize closers = 0;
        const char *p = out;
        while (*p) {
                if (*p != '<') {
                        g_free (read_text (out, &p, '<'));
                        continue;
                }
                const char *at = p++;
                gboolean end = *p == '/';
                if (end)
                        p++;
                const char *start = p;
                while (g_ascii_isalnum (*p))
                        p++;
                g_autofree char *name = g_strndup (start, (gsize) (p - start));
                if (!allowed (name))
                        fail ("element not on the allowlist", out, at);
                gboolean is_void = g_str_equal (name, "br") || g_str_equal (name, "hr");
                if (end) {
                        if (*p != '>' || is_void || open->len == 0 ||
                            !g_str_equal (open->pdata[open->len - 1], name))
                                fail ("unbalanced end tag", out, at);
                        p++;
                        g_ptr_array_set_size (open, open->len - 1);
                        closers += strlen (name) + 3;
                        continue;
                }
                check_start_tag (out, &p, name);
                if (!is_void) {
                        g_ptr_array_add (open, g_steal_pointer (&name));
                        if (open->len > MAX_OPEN)
                                fail ("more than 256 elements open", out, at);
                }
        }
        if (open->len)
                fail ("unclosed element at the end", out, p);
        g_ptr_array_unref (open);
        if (strlen (out) - closers > MAX_OUTPUT)
                fail ("output over the limit", out, out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        g_autofree char *html = g_strndup ((const char *) data, size); /* up to the first NUL */
        g_autofree char *out = mail_html_sanitize (html);
        if (!out)
                abort ();
        check_output (out);
        g_autofree char *again = mail_html_sanitize (out);
        if (!g_str_equal (again, out)) {
                fprintf (stderr, "fuzz-mail-html: not a fixed point:\n  once:  %s\n  twice: %s\n",
                         out, again);
                abort ();
        }
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}
