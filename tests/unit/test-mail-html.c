/* SPDX-License-Identifier: Apache-2.0 */
/* test-mail-html.c - unit tests of the mail plugin's HTML sanitiser (plugins/mail/html.c,
 * mail_html_sanitize): the usual cross-site scripting spellings, each with the exact fragment
 * that must come out, ordinary mail markup that must survive, text and entities decoding to
 * UTF-8, and the limits (nesting, size, bad input). Every case is also checked for what must
 * never appear in the output and for being a fixed point (sanitising the output again changes
 * nothing). tests/fuzz/fuzz-mail-html.c throws random input at the same function. */
#include <string.h>

#include <glib.h>

#include "mail-private.h"

#define REL " rel=\"noopener noreferrer nofollow\" target=\"_blank\""

typedef struct {
        const char *name;
        const char *html;
        const char *want;
} Case;

/* Hostile input: what comes out is exactly @want. */
static const Case attacks[] = {
        {"script", "<script>alert(1)</script>x", "x"},
        {"script-upper", "<SCRIPT>alert(1)</SCRIPT>x", "x"},
        {"script-mixed-slash", "<sCrIpT/x>alert(1)</sCrIpT>x", "x"},
        {"script-src", "<script src=//evil.example/x.js></script>x", "x"},
        {"script-unclosed", "a<script>alert(1)", "a"},
        {"script-split", "<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"},
        {"script-in-attr", "<p title=\"<script>alert(1)</script>\">t</p>", "<p>t</p>"},
        {"script-escaped-text", "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"img-onerror", "<img src=x onerror=alert(1)>", ""},
        {"img-alt-kept", "<img src=\"https://t.example/p.gif\" alt=\"Logo\">", "Logo"},
        {"img-alt-escaped", "<img alt='\"><script>alert(1)</script>'>",
            "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"img-alt-control", "<img alt=\"a\x10" "b\">", "ab"},
        {"img-cid", "<img src=\"cid:part1@x\">", ""},
        {"svg-onload", "<svg onload=alert(1)><circle r=1 /></svg>after", "after"},
        {"svg-script", "<svg><script>alert(1)</script></svg>", ""},
        {"math", "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>", ""},
        {"href-javascript", "<a href=\"javascript:alert(1)\">x</a>", "x"},
        {"href-javascript-case-space", "<a href=\"  JaVaScRiPt:alert(1)\">x</a>", "x"},
        {"href-javascript-tab-entity", "<a href=\"jav&#x09;ascript:alert(1)\">x</a>", "x"},
        {"href-javascript-newline", "<a href=\"java\nscript:alert(1)\">x</a>", "x"},
        {"href-javascript-cr-entity", "<a href=\"java&#13;script:alert(1)\">x</a>", "x"},
        {"href-javascript-decimal",
            "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;"
            "&#112;&#116;&#58;alert(1)\">x</a>",
            "x"},
        {"href-javascript-leading-control", "<a href=\"&#1;javascript:alert(1)\">x</a>", "x"},
        {"href-javascript-raw-controls", "<a href=\"\x01 java\x10script:alert(1)\">x</a>", "x"},
        {"href-data",
            "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">d</a>", "d"},
        {"href-vbscript", "<a href=\"vbscript:msgbox(1)\">v</a>", "v"},
        {"href-relative", "<a href=\"/api/v1/logout\">r</a>", "r"},
        {"href-scheme-only", "<a href=\"https:\">e</a>", "e"},
        {"href-quote-breakout",
            "<a href='https://x.example/?q=\"><script>alert(1)</script>'>q</a>",
            "<a href=\"https://x.example/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"" REL
            ">q</a>"},
        {"onclick", "<a href=\"https://x.example/\" onclick=\"alert(1)\">c</a>",
            "<a href=\"https://x.example/\"" REL ">c</a>"},
        {"on-attributes", "<p onmouseover=alert(1) ONCLICK=alert(2) class=c id=i>p</p>",
            "<p>p</p>"},
        {"style-expression", "<div style=\"width: expression(alert(1))\">s</div>",
            "<div>s</div>"},
        {"style-element", "<style>body{background:url(javascript:alert(1))}</style>s", "s"},
        {"base", "<base href=\"javascript:/\"><a href=\"x\">b</a>", "b"},
        {"meta-refresh", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">m",
            "m"},
        {"link", "<link rel=stylesheet href=\"https://evil.example/x.css\">l", "l"},
        {"iframe", "<iframe src=\"https://evil.example/\">fallback</iframe>i", "i"},
        {"iframe-srcdoc", "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", ""},
        {"object-embed", "<object data=x.swf><embed src=x.swf></object>o", "o"},
        {"form",
            "<form action=\"https://evil.example/\"><input name=p><button>go</button>"
            "<p>Text</p></form>",
            "<p>Text</p>"},
        {"textarea", "<textarea><script>alert(1)</script></textarea>t", "t"},
        {"template", "<template><script>alert(1)</script></template>t", "t"},
        {"noscript-breakout", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
            ""},
        {"comment", "<!-- <script>alert(1)</script> -->c", "c"},
        {"comment-conditional", "<!--[if gte mso 9]><script>alert(1)</script><![endif]-->c", "c"},
        {"cdata", "<![CDATA[<script>alert(1)</script>]]>", "&lt;![CDATA[]]&gt;"},
        {"processing-instruction", "<?php echo 1 ?>z", "z"},
        {"unclosed", "<b><i>unclosed", "<b><i>unclosed</i></b>"},
        {"unclosed-attr", "<a href=\"https://x.example/>x",
            "<a href=\"https://x.example/&gt;x\"" REL "></a>"},
        {"nested-anchors", "<a href=\"https://a.example/\">1<a href=\"javascript:x\">2</a></a>",
            "<a href=\"https://a.example/\"" REL ">1</a>2"},
        {"html-head-body",
            "<html><head><title>T</title><script>x</script></head>"
            "<body onload=\"alert(1)\"><p>b</p></body></html>",
            "<p>b</p>"},
        {"after-html", "a</html><script>alert(1)</script>b", "a<p>b</p>"},
        {"xmp", "<xmp><script>alert(1)</script></xmp>", ""},
};

/* Markup a message may really carry: what comes out is exactly @want. */
static const Case kept_cases[] = {
        {"link", "<a href=\"https://www.example.org/a?b=1&amp;c=2\">Link</a>",
            "<a href=\"https://www.example.org/a?b=1&amp;c=2\"" REL ">Link</a>"},
        {"link-trimmed", "<a href=\"  HTTP://Example.org/\n\">L</a>",
            "<a href=\"HTTP://Example.org/\"" REL ">L</a>"},
        {"mailto", "<a href=\"mailto:lehrer@schule.example\">mail</a>",
            "<a href=\"mailto:lehrer@schule.example\"" REL ">mail</a>"},
        {"bold-italic", "<p>Hallo <b>fett</b> <i>kursiv</i> <strong>s</strong> <em>e</em></p>",
            "<p>Hallo <b>fett</b> <i>kursiv</i> <strong>s</strong> <em>e</em></p>"},
        {"list", "<ul><li>eins</li><li>zwei<ol><li>a</li></ol></li></ul>",
            "<ul><li>eins</li><li>zwei<ol><li>a</li></ol></li></ul>"},
        {"list-implied-ends", "<ul><li>eins<li>zwei</ul>", "<ul><li>eins</li><li>zwei</li></ul>"},
        {"table",
            "<table border=1 style=\"x\"><caption>C</caption><thead><tr><th colspan=\"2\">"
            "H</th></tr></thead><tbody><tr><td rowspan=2>1</td><td colspan=\"x\">2</td>"
            "</tr></tbody></table>",
            "<table><caption>C</caption><thead><tr><th colspan=\"2\">H</th></tr></thead><tbody><tr>"
            "<td rowspan=\"2\">1</td><td>2</td></tr></tbody></table>"},
        {"headings-quote-pre",
            "<h1>T</h1><h6>t</h6><blockquote type=cite>q</blockquote>"
            "<pre>a  b</pre><code>c</code><hr><br>",
            "<h1>T</h1><h6>t</h6><blockquote>q</blockquote><pre>a  b</pre><code>c</code><hr><br>"},
        {"definition-list", "<dl><dt>a<dd>b</dl>", "<dl><dt>a</dt><dd>b</dd></dl>"},
        {"small-sub-sup", "x<sub>2</sub><sup>3</sup><small>s</small><u>u</u><s>s</s>",
            "x<sub>2</sub><sup>3</sup><small>s</small><u>u</u><s>s</s>"},
        {"font-center-unwrapped", "<center><font color=red face=Arial>Rot</font></center>",
            "Rot"},
        {"umlauts", "<p>Die Hasen und die Frösche: über mißliche Ärger</p>",
            "<p>Die Hasen und die Frösche: über mißliche Ärger</p>"},
        {"entities",
            "<p>&uuml;ber &Auml;rger &szlig; &euro; &nbsp;&amp; &lt;b&gt; &#x263A; "
            "&#246;</p>",
            "<p>über Ärger ß € \xc2\xa0&amp; &lt;b&gt; ☺ ö</p>"},
        {"quotes-in-text", "Er sagte \"hallo\" & 'tschüss'",
            "Er sagte &quot;hallo&quot; &amp; 'tschüss'"},
        {"outlook",
            "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head>"
            "<meta charset=\"iso-8859-1\"><style>p.MsoNormal{margin:0}</style></head>"
            "<body lang=DE><div class=WordSection1><p class=MsoNormal>Gr&uuml;&szlig;e"
            "</p></div></body></html>",
            "<div><p>Grüße</p></div>"},
        {"whitespace", "  <b>a</b> <i>b</i>\n", "  <b>a</b> <i>b</i>\n"},
        {"plain-text", "nur Text", "nur Text"},
};

/* Substrings that must never occur in any output (compared case-insensitively). */
static const char *const never[] = {
        "<script",
        "javascript:",
        "vbscript:",
        "data:",
        "onerror",
        "onload",
        "onclick",
        "onmouseover",
        "<iframe",
        "<style",
        "style=",
        "<svg",
        "<math",
        "<img",
        "<base",
        "<meta",
        "<form",
        "<input",
        "<object",
        "<embed",
        "expression(",
        "<textarea",
        "<!--",
        "<![cdata",
};

/* Checks @out against never[] and the fixed-point property. */
static void
check_safe (const char *input, const char *out)
{
        g_assert_true (g_utf8_validate (out, -1, NULL));
        g_autofree char *lower = g_ascii_strdown (out, -1);
        for (guint i = 0; i < G_N_ELEMENTS (never); i++) {
                if (strstr (lower, never[i]))
                        g_test_message ("input: %s\noutput: %s\nholds: %s", input, out, never[i]);
                g_assert_null (strstr (lower, never[i]));
        }
        g_autofree char *again = mail_html_sanitize (out);
        g_assert_cmpstr (again, ==, out);
}

static void
check_cases (const Case *cases, gsize n)
{
        for (gsize i = 0; i < n; i++) {
                g_autofree char *out = mail_html_sanitize (cases[i].html);
                if (g_strcmp0 (out, cases[i].want) != 0)
                        g_test_message ("case %s: %s", cases[i].name, cases[i].html);
                g_assert_cmpstr (out, ==, cases[i].want);
                check_safe (cases[i].html, out);
        }
}

static void
test_attacks (void)
{
        check_cases (attacks, G_N_ELEMENTS (attacks));
}

static void
test_kept (void)
{
        check_cases (kept_cases, G_N_ELEMENTS (kept_cases));
}

/* An element that libxml2 would close when reading the output back (a <div> inside a <p>,
 * reachable only through an unwrapped <font>) is unwrapped, so the output is stable. */
static void
test_restructuring (void)
{
        static const Case cases[] = {
                {"div-in-p", "<p><font><div>x</div></font></p>", "<p>x</p>"},
                {"li-in-li", "<ul><li>a<font><li>b</font></ul>", "<ul><li>ab</li></ul>"},
                {"p-in-p", "<p>a<font><p>b</p></font></p>", "<p>ab</p>"},
        };
        check_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_garbage (void)
{
        g_autofree char *null = mail_html_sanitize (NULL);
        g_assert_cmpstr (null, ==, "");
        g_autofree char *empty = mail_html_sanitize ("");
        g_assert_cmpstr (empty, ==, "");
        static const char *const junk[] = {
                "<",
                ">",
                "<<<<",
                "</p></p></div>",
                "<!",
                "<!--",
                "<?",
                "&",
                "&#",
                "&#x;",
                "&#xFFFFFFFF;",
                "&#0;",
                "<a href=",
                "<a href=\"",
                "<td colspan=99999>x",
                "<p\x01>x",
                "\x01\x02\x7f",
                "<!DOCTYPE html><html>",
                "<body><body><html>x",
        };
        for (guint i = 0; i < G_N_ELEMENTS (junk); i++) {
                g_autofree char *out = mail_html_sanitize (junk[i]);
                check_safe (junk[i], out);
        }
        /* Not UTF-8 (mime.c converts, but a lie in the charset is not ours to trust). */
        g_autofree char *latin1 = mail_html_sanitize ("<p>Fr\xf6sche \xff\xfe</p>");
        g_assert_cmpstr (latin1, ==, "<p>Fr\xef\xbf\xbdsche \xef\xbf\xbd\xef\xbf\xbd</p>");
        check_safe ("latin1", latin1);
}

/* 100,000 nested elements: no recursion overflows, at most 256 tags stay open, the text and
 * the balance survive. */
static void
test_depth (void)
{
        GString *in = g_string_new (NULL);
        for (int i = 0; i < 100000; i++)
                g_string_append (in, i % 2 ? "<div>" : "<span>");
        g_string_append (in, "deep");
        g_autofree char *out = mail_html_sanitize (in->str);
        g_string_free (in, TRUE);
        g_assert_nonnull (strstr (out, "deep"));
        int depth = 0, max = 0;
        for (const char *p = out; *p; p++) {
                if (p[0] == '<' && p[1] == '/')
                        depth--;
                else if (p[0] == '<')
                        depth++;
                max = MAX (max, depth);
        }
        g_assert_cmpint (depth, ==, 0);
        g_assert_cmpint (max, <=, 256);
        check_safe ("(deep)", out);
}

/* A huge body is cut (input at 2 MiB, output at about 1 MiB of markup and text), on a
 * character boundary, balanced. */
static void
test_size (void)
{
        GString *in = g_string_new ("<div><p>");
        while (in->len < 3 * 1024 * 1024)
                g_string_append (in, "Grüße <b>&amp;</b> ");
        g_autofree char *out = mail_html_sanitize (in->str);
        g_string_free (in, TRUE);
        gsize len = strlen (out);
        g_assert_cmpuint (len, <=, 1024 * 1024 + 64);
        g_assert_cmpuint (len, >, 1024 * 1024 - 64);
        g_assert_true (g_str_has_suffix (out, "</p></div>"));
        check_safe ("(huge)", out);
}

static gpointer
sanitize_in_thread (gpointer data)
{
        for (int i = 0; i < 50; i++) {
                for (guint c = 0; c < G_N_ELEMENTS (kept_cases); c++) {
                        g_autofree char *out = mail_html_sanitize (kept_cases[c].html);
                        if (g_strcmp0 (out, kept_cases[c].want) != 0)
                                return GINT_TO_POINTER (1);
                }
        }
        return NULL;
}

/* The parser is initialised once and the nesting table filled lazily from any thread. */
static void
test_threads (void)
{
        GThread *threads[8];
        for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
                threads[i] = g_thread_new ("sanitize", sanitize_in_thread, NULL);
        for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
                g_assert_null (g_thread_join (threads[i]));
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/mail-html/threads", test_threads); /* first: a cold table */
        g_test_add_func ("/mail-html/attacks", test_attacks);
        g_test_add_func ("/mail-html/kept", test_kept);
        g_test_add_func ("/mail-html/restructuring", test_restructuring);
        g_test_add_func ("/mail-html/garbage", test_garbage);
        g_test_add_func ("/mail-html/depth", test_depth);
        g_test_add_func ("/mail-html/size", test_size);
        return g_test_run ();
}
