/* SPDX-License-Identifier: Apache-2.0 */
/* lmtp-parse.c - LMTP command lines, DATA dot-unstuffing and the listen address, without I/O
 * (see lmtp-parse.h). Everything here reads bytes from the network or the config before any
 * check has run, so it is written to be fuzzed: explicit lengths, no NUL-termination assumed,
 * no recursion. */
#include "lmtp-parse.h"

#include <gio/gio.h>
#include <string.h>

void
mail_lmtp_command_clear (MailLmtpCommand *cmd)
{
        if (!cmd)
                return;
        g_clear_pointer (&cmd->arg, g_free);
        g_clear_pointer (&cmd->address, g_free);
        cmd->verb = MAIL_LMTP_UNKNOWN;
        cmd->size = -1;
        cmd->body = MAIL_LMTP_BODY_DEFAULT;
}

/* ---- command lines ---- */

typedef struct {
        const char *p;
        const char *end;
} Cursor;

static gboolean
at_end (const Cursor *c)
{
        return c->p >= c->end;
}

static gboolean
skip_spaces (Cursor *c)
{
        const char *start = c->p;
        while (!at_end (c) && (*c->p == ' ' || *c->p == '\t'))
                c->p++;
        return c->p > start;
}

/* Case-insensitive match of the ASCII @word at the cursor; advances past it on a match. */
static gboolean
take_word (Cursor *c, const char *word)
{
        gsize n = strlen (word);
        if ((gsize) (c->end - c->p) < n || g_ascii_strncasecmp (c->p, word, n) != 0)
                return FALSE;
        c->p += n;
        return TRUE;
}

static gboolean
is_atext (char ch)
{
        return g_ascii_isalnum (ch) || (ch && strchr ("!#$%&'*+-/=?^_`{|}~", ch));
}

/* dot-atom: atext+ ("." atext+)* */
static gboolean
take_dot_atom (Cursor *c)
{
        for (;;) {
                const char *start = c->p;
                while (!at_end (c) && is_atext (*c->p))
                        c->p++;
                if (c->p == start)
                        return FALSE;
                if (at_end (c) || *c->p != '.')
                        return TRUE;
                c->p++;
        }
}

/* quoted-string: DQUOTE (qtext / "\" any printable)* DQUOTE */
static gboolean
take_quoted (Cursor *c)
{
        if (at_end (c) || *c->p != '"')
                return FALSE;
        c->p++;
        while (!at_end (c)) {
                char ch = *c->p++;
                if (ch == '"')
                        return TRUE;
                if (ch == '\\') {
                        if (at_end (c))
                                return FALSE;
                        c->p++;
                }
        }
        return FALSE;
}

/* Domain = sub-domain ("." sub-domain)*, sub-domain = let-dig [ldh-str]; or an address
 * literal "[...]" (not interpreted: we only look domains up by name). */
static gboolean
take_domain (Cursor *c)
{
        if (!at_end (c) && *c->p == '[') {
                c->p++;
                const char *start = c->p;
                while (!at_end (c) && *c->p != ']' && *c->p != '[' && *c->p != '\\' &&
                       *c->p != ' ' && *c->p != '\t')
                        c->p++;
                if (at_end (c) || *c->p != ']' || c->p == start)
                        return FALSE;
                c->p++;
                return TRUE;
        }
        for (;;) {
                if (at_end (c) || !g_ascii_isalnum (*c->p))
                        return FALSE;
                const char *last = c->p;
                while (!at_end (c) && (g_ascii_isalnum (*c->p) || *c->p == '-'))
                        last = c->p++;
                if (*last == '-')
                        return FALSE;
                if (at_end (c) || *c->p != '.')
                        return TRUE;
                c->p++;
        }
}

/* Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" when @null_ok. Writes the mailbox (or "") to
 * @out_address on success. */
static gboolean
take_path (Cursor *c, gboolean null_ok, char **out_address)
{
        if (at_end (c) || *c->p != '<')
                return FALSE;
        const char *open = c->p++;
        if (!at_end (c) && *c->p == '>') {
                if (!null_ok)
                        return FALSE;
                c->p++;
                *out_address = g_strdup ("");
                return TRUE;
        }
        /* A-d-l: "@one,@two:" is a source route; RFC 5321 4.1.1.3 says to accept and ignore. */
        if (!at_end (c) && *c->p == '@') {
                for (;;) {
                        c->p++; /* '@' */
                        if (!take_domain (c))
                                return FALSE;
                        if (at_end (c))
                                return FALSE;
                        if (*c->p == ':') {
                                c->p++;
                                break;
                        }
                        if (*c->p != ',')
                                return FALSE;
                        c->p++;
                        if (at_end (c) || *c->p != '@')
                                return FALSE;
                }
        }
        const char *mailbox = c->p;
        if (!(at_end (c) ? FALSE : *c->p == '"' ? take_quoted (c) : take_dot_atom (c)))
                return FALSE;
        if (at_end (c) || *c->p != '@')
                return FALSE;
        c->p++;
        if (!take_domain (c))
                return FALSE;
        const char *mailbox_end = c->p;
        if (at_end (c) || *c->p != '>')
                return FALSE;
        c->p++;
        if ((gsize) (c->p - open) > MAIL_LMTP_PATH_MAX + 2)
                return FALSE;
        *out_address = g_strndup (mailbox, (gsize) (mailbox_end - mailbox));
        return TRUE;
}

/* SIZE=<1*20 DIGIT> (RFC 1870); values past G_MAXINT64 are refused, not wrapped. */
static gboolean
parse_size (const char *v, gsize n, gint64 *out)
{
        if (n == 0 || n > 20)
                return FALSE;
        guint64 x = 0;
        for (gsize i = 0; i < n; i++) {
                if (!g_ascii_isdigit (v[i]))
                        return FALSE;
                guint d = (guint) (v[i] - '0');
                if (x > ((guint64) G_MAXINT64 - d) / 10)
                        return FALSE;
                x = x * 10 + d;
        }
        *out = (gint64) x;
        return TRUE;
}

/* The ESMTP parameters after a MAIL path: "KEY[=VALUE]" separated by spaces. */
static gboolean
take_mail_params (Cursor *c, MailLmtpCommand *cmd, const char **out_reply)
{
        gboolean have_size = FALSE, have_body = FALSE;
        while (skip_spaces (c), !at_end (c)) {
                const char *key = c->p;
                while (!at_end (c) && *c->p != ' ' && *c->p != '\t')
                        c->p++;
                gsize n = (gsize) (c->p - key);
                const char *eq = memchr (key, '=', n);
                gsize klen = eq ? (gsize) (eq - key) : n;
                const char *val = eq ? eq + 1 : NULL;
                gsize vlen = eq ? n - klen - 1 : 0;
                if (klen == 4 && g_ascii_strncasecmp (key, "SIZE", 4) == 0) {
                        if (have_size || !val || !parse_size (val, vlen, &cmd->size)) {
                                *out_reply = "501 5.5.4 Bad SIZE parameter";
                                return FALSE;
                        }
                        have_size = TRUE;
                } else if (klen == 4 && g_ascii_strncasecmp (key, "BODY", 4) == 0) {
                        if (have_body || !val) {
                                *out_reply = "501 5.5.4 Bad BODY parameter";
                                return FALSE;
                        }
                        if (vlen == 4 && g_ascii_strncasecmp (val, "7BIT", 4) == 0) {
                                cmd->body = MAIL_LMTP_BODY_7BIT;
                        } else if (vlen == 8 && g_ascii_strncasecmp (val, "8BITMIME", 8) == 0) {
                                cmd->body = MAIL_LMTP_BODY_8BITMIME;
                        } else {
                                *out_reply = "501 5.5.4 Bad BODY parameter";
                                return FALSE;
                        }
                        have_body = TRUE;
                } else {
                        *out_reply = "555 5.5.4 Unsupported parameter";
                        return FALSE;
                }
        }
        return TRUE;
}

static char *
trimmed (const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        return p < end ? g_strndup (p, (gsize) (end - p)) : NULL;
}

static const struct {
        const char *word;
        MailLmtpVerb verb;
} verbs[] = {
        {"LHLO", MAIL_LMTP_LHLO}, {"HELO", MAIL_LMTP_HELO}, {"EHLO", MAIL_LMTP_HELO},
        {"MAIL", MAIL_LMTP_MAIL}, {"RCPT", MAIL_LMTP_RCPT}, {"DATA", MAIL_LMTP_DATA},
        {"RSET", MAIL_LMTP_RSET}, {"NOOP", MAIL_LMTP_NOOP}, {"QUIT", MAIL_LMTP_QUIT},
        {"VRFY", MAIL_LMTP_VRFY},
};

gboolean
mail_lmtp_parse_command (const char *line, gsize len, MailLmtpCommand *out,
                         const char **out_reply)
{
        g_return_val_if_fail (line != NULL || len == 0, FALSE);
        g_return_val_if_fail (out != NULL && out_reply != NULL, FALSE);

        if (len > MAIL_LMTP_LINE_MAX - 2) {
                *out_reply = "500 5.5.2 Line too long";
                return FALSE;
        }
        for (gsize i = 0; i < len; i++) {
                guchar ch = (guchar) line[i];
                if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
                        *out_reply = "500 5.5.2 Syntax error: bad characters";
                        return FALSE;
                }
        }

        Cursor c = {line, line + len};
        const char *word = c.p;
        while (!at_end (&c) && *c.p != ' ' && *c.p != '\t')
                c.p++;
        gsize wlen = (gsize) (c.p - word);
        MailLmtpCommand cmd = {.verb = MAIL_LMTP_UNKNOWN, .size = -1};
        for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
                if (wlen == 4 && g_ascii_strncasecmp (word, verbs[i].word, 4) == 0)
                        cmd.verb = verbs[i].verb;

        switch (cmd.verb) {
        case MAIL_LMTP_UNKNOWN:
        case MAIL_LMTP_HELO:
                break;
        case MAIL_LMTP_LHLO:
        case MAIL_LMTP_NOOP:
        case MAIL_LMTP_VRFY:
                cmd.arg = trimmed (c.p, c.end);
                if (!cmd.arg && cmd.verb != MAIL_LMTP_NOOP) {
                        *out_reply = cmd.verb == MAIL_LMTP_LHLO ? "501 5.5.4 Syntax: LHLO hostname"
                                                                : "501 5.5.4 Syntax: VRFY address";
                        return FALSE;
                }
                break;
        case MAIL_LMTP_DATA:
        case MAIL_LMTP_RSET:
        case MAIL_LMTP_QUIT:
                skip_spaces (&c);
                if (!at_end (&c)) {
                        *out_reply = "501 5.5.4 No parameters allowed";
                        return FALSE;
                }
                break;
        case MAIL_LMTP_MAIL:
        case MAIL_LMTP_RCPT: {
                gboolean mail = cmd.verb == MAIL_LMTP_MAIL;
                const char *syntax = mail ? "501 5.5.4 Syntax: MAIL FROM:<address>"
                                          : "501 5.5.4 Syntax: RCPT TO:<address>";
                if (!skip_spaces (&c) || !take_word (&c, mail ? "FROM:" : "TO:")) {
                        *out_reply = syntax;
                        return FALSE;
                }
                skip_spaces (&c);
                if (!take_path (&c, mail, &cmd.address)) {
                        *out_reply = mail ? "501 5.1.7 Bad sender address syntax"
                                          : "501 5.1.3 Bad recipient address syntax";
                        return FALSE;
                }
                if (!at_end (&c) && *c.p != ' ' && *c.p != '\t') {
                        mail_lmtp_command_clear (&cmd);
                        *out_reply = syntax;
                        return FALSE;
                }
                if (mail && !take_mail_params (&c, &cmd, out_reply)) {
                        mail_lmtp_command_clear (&cmd);
                        return FALSE;
                }
                skip_spaces (&c);
                if (!mail && !at_end (&c)) {
                        mail_lmtp_command_clear (&cmd);
                        *out_reply = "555 5.5.4 Unsupported parameter";
                        return FALSE;
                }
                break;
        }
        }
        *out = cmd;
        return TRUE;
}

/* ---- DATA ---- */

enum {
        D_LINE_START = 0, /* at the start of a line */
        D_MID,            /* inside a line */
        D_DOT,            /* a line began with '.', not yet sent on */
        D_DOT_CR,         /* ... followed by CR */
        D_DONE,
};

void
mail_lmtp_data_init (MailLmtpData *d, guint64 max)
{
        g_return_if_fail (d != NULL);
        *d = (MailLmtpData) {.state = D_LINE_START, .max = max};
}

static void
emit (MailLmtpData *d, GByteArray *out, const guint8 *bytes, gsize n)
{
        if (!n)
                return;
        if (d->max && d->total + n > d->max) {
                d->too_big = TRUE;
                /* keep what still fits: the message is refused anyway, but the counter and
                 * the buffer must agree for callers that look at both */
                gsize room = d->total < d->max ? (gsize) (d->max - d->total) : 0;
                if (out && room)
                        g_byte_array_append (out, bytes, (guint) room);
        } else if (out) {
                g_byte_array_append (out, bytes, (guint) n);
        }
        d->total += n;
}

gsize
mail_lmtp_data_feed (MailLmtpData *d, const guint8 *buf, gsize len, GByteArray *out)
{
        g_return_val_if_fail (d != NULL, 0);
        g_return_val_if_fail (buf != NULL || len == 0, 0);
        static const guint8 cr = '\r';
        gsize i = 0;
        while (i < len && d->state != D_DONE) {
                guint8 ch = buf[i];
                switch (d->state) {
                case D_LINE_START:
                case D_MID: {
                        if (d->state == D_LINE_START && ch == '.') {
                                d->state = D_DOT;
                                i++;
                                break;
                        }
                        /* the run of bytes up to and including the next LF, in one append */
                        const guint8 *lf = memchr (buf + i, '\n', len - i);
                        gsize n = lf ? (gsize) (lf - (buf + i)) + 1 : len - i;
                        emit (d, out, buf + i, n);
                        i += n;
                        d->state = lf ? D_LINE_START : D_MID;
                        break;
                }
                case D_DOT:
                        if (ch == '\r') {
                                d->state = D_DOT_CR;
                                i++;
                        } else if (ch == '\n') {
                                d->state = D_DONE;
                                i++;
                        } else {
                                /* a stuffed line: the leading dot goes, the rest is content */
                                d->state = D_MID;
                        }
                        break;
                case D_DOT_CR:
                        if (ch == '\n') {
                                d->state = D_DONE;
                                i++;
                        } else {
                                /* ".\r" not ending the line: the dot was stuffing, the CR is
                                 * content; the byte after it is looked at again in D_MID */
                                emit (d, out, &cr, 1);
                                d->state = D_MID;
                        }
                        break;
                default:
                        g_assert_not_reached ();
                }
        }
        d->done = d->state == D_DONE;
        return i;
}

/* ---- listen address ---- */

gboolean
mail_lmtp_parse_listen (const char *spec, char **out_host, guint16 *out_port, char **out_path,
                        GError **error)
{
        g_return_val_if_fail (spec != NULL, FALSE);
        if (g_str_has_prefix (spec, "unix:")) {
                const char *path = spec + 5;
                if (path[0] != '/' || strlen (path) > 107) {
                        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                     "lmtp_listen \"%s\": unix: needs an absolute path of at "
                                     "most 107 bytes",
                                     spec);
                        return FALSE;
                }
                *out_host = NULL;
                *out_port = 0;
                *out_path = g_strdup (path);
                return TRUE;
        }
        const char *colon = strrchr (spec, ':');
        g_autofree char *host = NULL;
        if (spec[0] == '[') {
                const char *close = strchr (spec, ']');
                if (!close || close[1] != ':')
                        goto bad;
                host = g_strndup (spec + 1, (gsize) (close - spec - 1));
                colon = close + 1;
                /* Brackets are for IPv6, once: GLib takes "::1%2[" (any zone after '%'). */
                if (!strchr (host, ':') || strchr (host, '['))
                        goto bad;
        } else {
                if (!colon)
                        goto bad;
                host = g_strndup (spec, (gsize) (colon - spec));
                if (strchr (host, ':'))
                        goto bad; /* an IPv6 literal needs brackets */
        }
        guint64 port = 0;
        if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
                goto bad;
        if (g_ascii_strcasecmp (host, "localhost") != 0 && !g_hostname_is_ip_address (host))
                goto bad;
        *out_host = g_steal_pointer (&host);
        *out_port = (guint16) port;
        *out_path = NULL;
        return TRUE;
bad:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "lmtp_listen \"%s\": expected host:port (an IP address or localhost, "
                     "[v6]:port) or unix:/path",
                     spec);
        return FALSE;
}
