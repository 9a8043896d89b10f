/* SPDX-License-Identifier: Apache-2.0 */
/* html.c - the HTML of a message, made safe to show inside a page (GET /messages/{id}).
 *
 * libxml2's HTML parser turns whatever the sender wrote into a tree the way a lenient browser
 * would; the tree is then walked and a fresh fragment is written from scratch, keeping only an
 * allowlist of elements and attributes. Nothing of the input reaches the output except text
 * (escaped here) and attribute values that passed a check (escaped here): the tree is never
 * serialised by libxml2, so no quirk of its serialiser can smuggle markup through.
 *
 *   kept:      p br div span b strong i em u s strike sub sup small big tt code pre h1-h6 ul ol
 *              li dl dt dd blockquote hr table caption thead tbody tfoot tr td th a
 *   attributes a href (http:, https:, mailto: only) with rel="noopener noreferrer nofollow"
 *              target="_blank" forced; td/th colspan and rowspan (1-4 digits); nothing else
 *   dropped with their content: script style iframe frame frameset object embed applet
 *              param svg math template noscript noembed noframes head title meta link base
 *              input button textarea select option optgroup datalist audio video source track
 *              canvas map area
 *   img        replaced by its alt text: remote images are tracking pixels, and cid: images
 *              would need URLs this fragment cannot know
 *   everything else (html, body, font, center, form, o:p, unknown tags): the tag goes, its
 *              children stay. Comments, processing instructions and CDATA go.
 *
 * The output is designed to be a fixed point: sanitising it again gives the same bytes
 * (tests/fuzz/fuzz-mail-html.c checks this). Two things make that hold. The input is parsed
 * after a "<body>" prefix, so the first parse and any re-parse start in the same context (no
 * implied <p> around leading text, no lost leading whitespace). And an element is written only
 * where libxml2 would leave it when reading the output back: the parser closes the open element
 * when certain tags start (a <div> closes a <p>, an <li> an <li>), which the original tree can
 * hide behind an element we unwrap (<p><font><div>); such an element is unwrapped too. Which
 * tag closes which is asked of libxml2 itself, once per pair, so it follows the installed
 * version's rules.
 *
 * Limits: input beyond HTML_MAX_INPUT bytes is cut (mime.c cuts text parts at 4 MiB), at
 * most HTML_MAX_DEPTH written elements are open at once (deeper ones are unwrapped), and opening
 * tags and text stop at HTML_MAX_OUTPUT bytes (the closing tags are always written). */
#include "mail-private.h"

#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

/* libxml2's tree costs up to ~70 bytes per input byte (measured: 4 MiB of "<p a=1 b=2 c=3>"
 * took 300 MB and 0.7 s), and a message is parsed on every view: 2 MiB bounds that at ~150 MB,
 * and is far more HTML than a real message carries once its images are attachments. */
#define HTML_MAX_INPUT (2 * 1024 * 1024)
#define HTML_MAX_OUTPUT (1024 * 1024)
#define HTML_MAX_DEPTH 256

/* Not HTML_PARSE_NOBLANKS: it drops the space in "<b>a</b> <i>b</i>". HTML_PARSE_IGNORE_ENC:
 * the text is UTF-8 already (GMime converted it), a <meta charset> must not re-decode it.
 * XML_PARSE_HUGE lifts libxml2's nesting limit of 256, which otherwise ends the parse and
 * silently loses everything after the deepest point (and would cut the re-parse of an output
 * holding HTML_MAX_DEPTH elements inside html and body); the walk below needs no stack, and
 * the input limit bounds the size. */
#define PARSE_OPTIONS                                                                              \
        (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET         \
            | HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT | XML_PARSE_HUGE)

enum { KEEP, VOID, IMAGE, DROP };

/* clang-format off */
static const char *const kept[] = {
        "p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup",
        "small", "big", "tt", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "hr",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th", "a",
};
/* clang-format on */
#define N_KEPT G_N_ELEMENTS (kept)

/* clang-format off */
static const char *const dropped[] = {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "param",
        "svg", "math", "template", "noscript", "noembed", "noframes",
        "head", "title", "meta", "link", "base",
        "input", "button", "textarea", "select", "option", "optgroup", "datalist",
        "audio", "video", "source", "track", "canvas", "map", "area",
};
/* clang-format on */

/* Index into kept[], or -1. */
static int
kept_index (const char *name)
{
        for (guint i = 0; i < N_KEPT; i++)
                if (g_str_equal (name, kept[i]))
                        return (int) i;
        return -1;
}

static int
kind_of (const char *name, int index)
{
        if (index >= 0)
                return g_str_equal (name, "br") || g_str_equal (name, "hr") ? VOID : KEEP;
        if (g_str_equal (name, "img"))
                return IMAGE;
        for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
                if (g_str_equal (name, dropped[i]))
                        return DROP;
        return -1; /* unwrapped */
}

static htmlDocPtr
parse (const char *html, gsize len)
{
        return htmlReadMemory (html, (int) len, NULL, "UTF-8", PARSE_OPTIONS);
}

/* closes[child][parent]: 0 not known yet, 1 libxml2 nests <child> in an open <parent>, 2 the
 * start of <child> closes <parent>. The last column is <body> (an element at the top). Filled
 * lazily from every thread; a race only computes the same answer twice. */
static int closes[N_KEPT][N_KEPT + 1];

static gboolean
nests (int child, int parent)
{
        int known = g_atomic_int_get (&closes[child][parent]);
        if (known)
                return known == 1;
        const char *pname = parent == (int) N_KEPT ? NULL : kept[parent];
        g_autofree char *probe = pname ? g_strdup_printf ("<body><%s><%s>x", pname, kept[child])
                                       : g_strdup_printf ("<body><%s>x", kept[child]);
        htmlDocPtr doc = parse (probe, strlen (probe));
        gboolean inside = FALSE;
        xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
        xmlNodePtr body = root ? xmlFirstElementChild (root) : NULL;
        if (body && xmlStrEqual (body->name, BAD_CAST "body")) {
                xmlNodePtr first = xmlFirstElementChild (body);
                if (!pname)
                        inside = first && xmlStrEqual (first->name, BAD_CAST kept[child]);
                else if (first && xmlStrEqual (first->name, BAD_CAST pname)) {
                        xmlNodePtr c = xmlFirstElementChild (first);
                        inside = c && xmlStrEqual (c->name, BAD_CAST kept[child]);
                }
        }
        if (doc)
                xmlFreeDoc (doc);
        g_atomic_int_set (&closes[child][parent], inside ? 1 : 2);
        return inside;
}

typedef struct {
        GString *out;
        gboolean full; /* HTML_MAX_OUTPUT reached: only closing tags from now on */
        GArray *stack; /* int per element descended into: its kept[] index, or -1 unwrapped */
        GArray *open;  /* int per written open element: its kept[] index */
} Writer;

/* Appends @s (@n bytes) if it fits in HTML_MAX_OUTPUT; otherwise stops all further output. */
static gboolean
put (Writer *w, const char *s, gsize n)
{
        if (w->full || w->out->len + n > HTML_MAX_OUTPUT) {
                w->full = TRUE;
                return FALSE;
        }
        g_string_append_len (w->out, s, (gssize) n);
        return TRUE;
}

/* The characters XML allows. libxml2 drops the others from text but not from attribute
 * values, so an alt text with a control character in it would read back different; and none of
 * them has any business in a page. */
static gboolean
is_xml_char (gunichar c)
{
        return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xd7ff) ||
               (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* Appends @text escaped, without the characters XML does not allow, one character at a time so
 * that a cut at HTML_MAX_OUTPUT falls on a character boundary. */
static void
put_escaped (Writer *w, const char *text)
{
        /* (libxml2 hands back UTF-8 it decoded itself; should that ever fail, g_utf8_next_char
         * must not step over the terminator) */
        g_autofree char *fixed = NULL;
        if (!g_utf8_validate (text, -1, NULL))
                text = fixed = g_utf8_make_valid (text, -1);
        for (const char *p = text; *p && !w->full;) {
                switch (*p) {
                case '&':
                        put (w, "&amp;", 5);
                        p++;
                        break;
                case '<':
                        put (w, "&lt;", 4);
                        p++;
                        break;
                case '>':
                        put (w, "&gt;", 4);
                        p++;
                        break;
                case '"':
                        put (w, "&quot;", 6);
                        p++;
                        break;
                default: {
                        const char *next = g_utf8_next_char (p);
                        if (is_xml_char (g_utf8_get_char (p)))
                                put (w, p, (gsize) (next - p));
                        p = next;
                }
                }
        }
}

/* The href of a link if it may be kept, as it is to be written (transfer full), else NULL.
 * Browsers ignore leading and trailing C0 controls and spaces and every tab, CR and LF inside
 * a URL ("jav&#x09;ascript:" is javascript:); those are removed before the scheme is read, and
 * the cleaned URL is what gets written, so what was checked is what the browser sees. Relative
 * URLs are dropped too: they would resolve against this application's own origin. The other
 * controls go with every character XML does not allow (see put_escaped). */
static char *
safe_href (const char *raw)
{
        g_autofree char *fixed = NULL;
        if (!g_utf8_validate (raw, -1, NULL))
                raw = fixed = g_utf8_make_valid (raw, -1);
        GString *url = g_string_new (NULL);
        for (const char *p = raw; *p; p = g_utf8_next_char (p)) {
                gunichar c = g_utf8_get_char (p);
                /* (what put_escaped would drop goes now, or "java\1script:" would be checked as
                 * one thing and written as another) */
                if (c != '\t' && c != '\n' && c != '\r' && is_xml_char (c))
                        g_string_append_len (url, p, g_utf8_next_char (p) - p);
        }
        gsize start = 0, end = url->len;
        while (start < end && (guchar) url->str[start] <= 0x20)
                start++;
        while (end > start && (guchar) url->str[end - 1] <= 0x20)
                end--;
        g_autofree char *trimmed = g_strndup (url->str + start, end - start);
        g_string_free (url, TRUE);
        static const char *const schemes[] = { "http:", "https:", "mailto:" };
        for (guint i = 0; i < G_N_ELEMENTS (schemes); i++) {
                gsize n = strlen (schemes[i]);
                if (g_ascii_strncasecmp (trimmed, schemes[i], n) == 0 && trimmed[n])
                        return g_steal_pointer (&trimmed);
        }
        return NULL;
}

/* A colspan or rowspan value worth keeping: 1 to 4 ASCII digits. */
static gboolean
is_span (const char *v)
{
        gsize n = strlen (v);
        if (n == 0 || n > 4)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isdigit (v[i]))
                        return FALSE;
        return TRUE;
}

static void
put_attr (Writer *w, const char *name, const char *value)
{
        put (w, " ", 1);
        put (w, name, strlen (name));
        put (w, "=\"", 2);
        put_escaped (w, value);
        put (w, "\"", 1);
}

/* Writes the start tag of @node (kept[@index]) if it fits; FALSE when it was not written. */
static gboolean
put_start (Writer *w, xmlNodePtr node, int index)
{
        const char *name = kept[index];
        g_autofree char *href = NULL;
        if (g_str_equal (name, "a")) {
                xmlChar *raw = xmlGetNoNsProp (node, BAD_CAST "href");
                href = raw ? safe_href ((const char *) raw) : NULL;
                xmlFree (raw);
                if (!href) /* an anchor without a usable link is just its text */
                        return FALSE;
        }
        /* Written only whole: a start tag cut at HTML_MAX_OUTPUT would swallow what follows. */
        GString *tag = g_string_new ("<");
        g_string_append (tag, name);
        Writer sub = { tag, FALSE, NULL, NULL };
        if (href) {
                put_attr (&sub, "href", href);
                put_attr (&sub, "rel", "noopener noreferrer nofollow");
                put_attr (&sub, "target", "_blank");
        } else if (g_str_equal (name, "td") || g_str_equal (name, "th")) {
                static const char *const spans[] = { "colspan", "rowspan" };
                for (guint i = 0; i < G_N_ELEMENTS (spans); i++) {
                        xmlChar *v = xmlGetNoNsProp (node, BAD_CAST spans[i]);
                        if (v && is_span ((const char *) v))
                                put_attr (&sub, spans[i], (const char *) v);
                        xmlFree (v);
                }
        }
        g_string_append_c (tag, '>');
        gboolean ok = put (w, tag->str, tag->len);
        g_string_free (tag, TRUE);
        return ok;
}

/* Decides what becomes of element @node on the way down; pushes onto the stack when its
 * children are to be walked and returns whether they are. */
static gboolean
enter (Writer *w, xmlNodePtr node)
{
        const char *name = (const char *) node->name;
        int index = name ? kept_index (name) : -1;
        int kind = name ? kind_of (name, index) : -1;
        if (kind == DROP)
                return FALSE;
        if (kind == IMAGE) {
                xmlChar *alt = xmlGetNoNsProp (node, BAD_CAST "alt");
                if (alt)
                        put_escaped (w, (const char *) alt);
                xmlFree (alt);
                return FALSE;
        }
        int parent = w->open->len ? g_array_index (w->open, int, w->open->len - 1) : (int) N_KEPT;
        gboolean written = index >= 0 && !w->full && w->open->len < HTML_MAX_DEPTH
            && nests (index, parent) && put_start (w, node, index);
        if (kind == VOID)
                return FALSE;
        if (!node->children) {
                if (written)
                        g_string_append_printf (w->out, "</%s>", name);
                return FALSE;
        }
        int entry = written ? index : -1;
        g_array_append_val (w->stack, entry);
        if (written)
                g_array_append_val (w->open, index);
        return TRUE;
}

/* On the way back up from an element entered above. */
static void
leave (Writer *w)
{
        int index = g_array_index (w->stack, int, w->stack->len - 1);
        g_array_set_size (w->stack, w->stack->len - 1);
        if (index < 0)
                return;
        g_array_set_size (w->open, w->open->len - 1);
        /* Always written, even past HTML_MAX_OUTPUT: the fragment stays balanced. */
        g_string_append_printf (w->out, "</%s>", kept[index]);
}

/* Walks the whole document without recursion (the nesting is the sender's to choose). */
static void
walk (Writer *w, htmlDocPtr doc)
{
        xmlNodePtr node = doc->children;
        while (node) {
                gboolean down = FALSE;
                if (node->type == XML_TEXT_NODE && node->content)
                        put_escaped (w, (const char *) node->content);
                else if (node->type == XML_ELEMENT_NODE)
                        down = enter (w, node);
                if (down) {
                        node = node->children;
                        continue;
                }
                while (!node->next && w->stack->len > 0) {
                        node = node->parent;
                        leave (w);
                }
                node = node->next;
        }
}

char *
mail_html_sanitize (const char *html)
{
        static gsize once = 0;
        if (g_once_init_enter (&once)) {
                xmlInitParser ();
                g_once_init_leave (&once, 1);
        }
        if (!html || !*html)
                return g_strdup ("");
        gsize len = strnlen (html, HTML_MAX_INPUT);
        /* "<body>" first: see the top of this file. */
        GString *input = g_string_sized_new (len + 6);
        g_string_append (input, "<body>");
        if (g_utf8_validate_len (html, len, NULL)) {
                g_string_append_len (input, html, (gssize) len);
        } else { /* (a character split by the cut at HTML_MAX_INPUT ends up as U+FFFD) */
                g_autofree char *valid = g_utf8_make_valid (html, (gssize) len);
                g_string_append (input, valid);
        }

        htmlDocPtr doc = parse (input->str, input->len);
        g_string_free (input, TRUE);
        Writer w = {
                .out = g_string_new (NULL),
                .stack = g_array_new (FALSE, FALSE, sizeof (int)),
                .open = g_array_new (FALSE, FALSE, sizeof (int)),
        };
        if (doc) {
                walk (&w, doc);
                xmlFreeDoc (doc);
        }
        g_array_unref (w.stack);
        g_array_unref (w.open);
        char *out = g_string_free (w.out, FALSE);
        /* libxml2 hands back what it decoded as UTF-8; a defect there must not reach the page
         * (or PostgreSQL) as broken text. */
        if (!g_utf8_validate (out, -1, NULL)) {
                char *valid = g_utf8_make_valid (out, -1);
                g_free (out);
                out = valid;
        }
        return out;
}
