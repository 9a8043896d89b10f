/* SPDX-License-Identifier: Apache-2.0 */
/* test-lmtp-parse.c - unit tests of the I/O-free half of the mail plugin's LMTP listener
 * (plugins/mail/lmtp-parse.c): command lines as Postfix, smtplib and a hostile client send
 * them, each refusal with its reply, the DATA phase's dot-unstuffing in every chunking and
 * with pipelined commands after it, the size limit, and the listen address. Pure and
 * in-process; tests/fuzz/fuzz-lmtp.c throws random bytes at the same code. */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "lmtp-parse.h"

static void
parse_ok (const char *line, MailLmtpCommand *out)
{
        const char *reply = NULL;
        gboolean ok = mail_lmtp_parse_command (line, strlen (line), out, &reply);
        if (!ok)
                g_test_message ("line: \"%s\" -> %s", line, reply);
        g_assert_true (ok);
}

static void
parse_refused (const char *line, const char *reply_prefix)
{
        MailLmtpCommand cmd = {.verb = 99};
        const char *reply = NULL;
        gboolean ok = mail_lmtp_parse_command (line, strlen (line), &cmd, &reply);
        if (ok || !reply || !g_str_has_prefix (reply, reply_prefix))
                g_test_message ("line: \"%s\" -> %s", line, ok ? "accepted" : reply);
        g_assert_false (ok);
        g_assert_nonnull (reply);
        g_assert_true (g_str_has_prefix (reply, reply_prefix));
        g_assert_cmpint (cmd.verb, ==, 99); /* out untouched on failure */
}

static void
test_verbs (void)
{
        static const struct {
                const char *line;
                MailLmtpVerb verb;
        } cases[] = {
                {"LHLO mx.example.org", MAIL_LMTP_LHLO}, {"lhlo x", MAIL_LMTP_LHLO},
                {"HELO x", MAIL_LMTP_HELO},              {"ehlo x", MAIL_LMTP_HELO},
                {"DATA", MAIL_LMTP_DATA},                {"data ", MAIL_LMTP_DATA},
                {"RSET", MAIL_LMTP_RSET},                {"QUIT", MAIL_LMTP_QUIT},
                {"NOOP", MAIL_LMTP_NOOP},                {"NOOP anything at all", MAIL_LMTP_NOOP},
                {"VRFY someone", MAIL_LMTP_VRFY},        {"STARTTLS", MAIL_LMTP_UNKNOWN},
                {"", MAIL_LMTP_UNKNOWN},                 {"DATAX", MAIL_LMTP_UNKNOWN},
                {"MAILFROM:<a@b.c>", MAIL_LMTP_UNKNOWN}, {"AUTH PLAIN AGFiYwBjZGU=", MAIL_LMTP_UNKNOWN},
        };
        for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
                g_auto (MailLmtpCommand) cmd = {0};
                parse_ok (cases[i].line, &cmd);
                g_assert_cmpint (cmd.verb, ==, cases[i].verb);
        }
        g_auto (MailLmtpCommand) lhlo = {0};
        parse_ok ("LHLO   mx.example.org  ", &lhlo);
        g_assert_cmpstr (lhlo.arg, ==, "mx.example.org");
        g_auto (MailLmtpCommand) noop = {0};
        parse_ok ("NOOP", &noop);
        g_assert_null (noop.arg);

        parse_refused ("LHLO", "501 ");
        parse_refused ("LHLO   ", "501 ");
        parse_refused ("VRFY", "501 ");
        parse_refused ("DATA now", "501 ");
        parse_refused ("QUIT please", "501 ");
        parse_refused ("RSET x", "501 ");
}

static void
test_mail (void)
{
        g_auto (MailLmtpCommand) a = {0};
        parse_ok ("MAIL FROM:<alice@example.org>", &a);
        g_assert_cmpint (a.verb, ==, MAIL_LMTP_MAIL);
        g_assert_cmpstr (a.address, ==, "alice@example.org");
        g_assert_cmpint (a.size, ==, -1);
        g_assert_cmpint (a.body, ==, MAIL_LMTP_BODY_DEFAULT);

        /* The null sender (bounces), parameters in any case, a space after the colon. */
        g_auto (MailLmtpCommand) b = {0};
        parse_ok ("mail from: <> size=1234 Body=8bitmime", &b);
        g_assert_cmpstr (b.address, ==, "");
        g_assert_cmpint (b.size, ==, 1234);
        g_assert_cmpint (b.body, ==, MAIL_LMTP_BODY_8BITMIME);

        g_auto (MailLmtpCommand) c = {0};
        parse_ok ("MAIL FROM:<\"john smith\\\"x\"@[192.0.2.1]> BODY=7BIT SIZE=0", &c);
        g_assert_cmpstr (c.address, ==, "\"john smith\\\"x\"@[192.0.2.1]");
        g_assert_cmpint (c.size, ==, 0);
        g_assert_cmpint (c.body, ==, MAIL_LMTP_BODY_7BIT);

        /* A source route is accepted and dropped (RFC 5321 4.1.1.3). */
        g_auto (MailLmtpCommand) d = {0};
        parse_ok ("MAIL FROM:<@relay.example,@b.example:bob@example.net>", &d);
        g_assert_cmpstr (d.address, ==, "bob@example.net");

        g_auto (MailLmtpCommand) e = {0};
        parse_ok ("MAIL FROM:<a@b.c> SIZE=9223372036854775807", &e);
        g_assert_cmpint (e.size, ==, G_MAXINT64);

        parse_refused ("MAIL", "501 5.5.4");
        parse_refused ("MAIL TO:<a@b.c>", "501 5.5.4");
        parse_refused ("MAIL FROM:a@b.c", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@b.c", "501 5.1.7");
        parse_refused ("MAIL FROM:<a>", "501 5.1.7");
        parse_refused ("MAIL FROM:<@b.c>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a..b@c.d>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@-b.c>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@b-.c>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@b..c>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a b@c.d>", "501 5.1.7");
        parse_refused ("MAIL FROM:<\"open@c.d>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@[]>", "501 5.1.7");
        parse_refused ("MAIL FROM:<a@b.c>x", "501 5.5.4");
        parse_refused ("MAIL FROM:<a@b.c> SIZE=", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> SIZE", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> SIZE=-1", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> SIZE=9223372036854775808", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> SIZE=99999999999999999999999", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> SIZE=1 SIZE=2", "501 5.5.4 Bad SIZE");
        parse_refused ("MAIL FROM:<a@b.c> BODY=BINARYMIME", "501 5.5.4 Bad BODY");
        parse_refused ("MAIL FROM:<a@b.c> SMTPUTF8", "555 5.5.4");
        parse_refused ("MAIL FROM:<a@b.c> AUTH=<>", "555 5.5.4");

        /* Path length: 254 between the brackets is the limit. */
        g_autofree char *local = g_strnfill (64, 'l');
        g_autofree char *label = g_strnfill (60, 'd');
        g_autofree char *at_limit = g_strdup_printf ("MAIL FROM:<%s@%s.%s.%s.%s>", local, label,
                                                     label, label, "abcdef");
        g_assert_cmpuint (strlen (at_limit) - strlen ("MAIL FROM:<>"), ==, 254);
        g_auto (MailLmtpCommand) f = {0};
        parse_ok (at_limit, &f);
        g_autofree char *past = g_strdup_printf ("MAIL FROM:<%s@%s.%s.%s.%s>", local, label,
                                                 label, label, "abcdefg");
        parse_refused (past, "501 5.1.7");
}

static void
test_rcpt (void)
{
        g_auto (MailLmtpCommand) a = {0};
        parse_ok ("RCPT TO:<Anna.Schmidt@Schule.Example>", &a);
        g_assert_cmpint (a.verb, ==, MAIL_LMTP_RCPT);
        g_assert_cmpstr (a.address, ==, "Anna.Schmidt@Schule.Example"); /* as sent */
        g_auto (MailLmtpCommand) b = {0};
        parse_ok ("rcpt to: <7b@schule.example>  ", &b);
        g_assert_cmpstr (b.address, ==, "7b@schule.example");

        parse_refused ("RCPT TO:<>", "501 5.1.3");
        parse_refused ("RCPT TO:<postmaster>", "501 5.1.3");
        parse_refused ("RCPT FROM:<a@b.c>", "501 5.5.4");
        parse_refused ("RCPT TO:<a@b.c> NOTIFY=NEVER", "555 5.5.4");
        parse_refused ("RCPT TO:<a@b.c> ORCPT=rfc822;a@b.c", "555 5.5.4");
}

static void
test_bad_bytes (void)
{
        const char nul[] = "RCPT TO:<a\0@b.c>";
        MailLmtpCommand cmd = {0};
        const char *reply = NULL;
        g_assert_false (mail_lmtp_parse_command (nul, sizeof nul - 1, &cmd, &reply));
        g_assert_true (g_str_has_prefix (reply, "500 5.5.2"));
        parse_refused ("RCPT TO:<m\xc3\xbcller@b.c>", "500 5.5.2");
        parse_refused ("NOOP \r", "500 5.5.2");
        parse_refused ("NOOP \x7f", "500 5.5.2");
        g_auto (MailLmtpCommand) tab = {0};
        parse_ok ("NOOP\tx", &tab);

        /* Line length: MAIL_LMTP_LINE_MAX with CRLF, so 998 bytes without. */
        g_autofree char *max = g_strnfill (MAIL_LMTP_LINE_MAX - 2, 'x');
        memcpy (max, "NOOP ", 5);
        g_auto (MailLmtpCommand) ok = {0};
        parse_ok (max, &ok);
        g_autofree char *over = g_strnfill (MAIL_LMTP_LINE_MAX - 1, 'x');
        memcpy (over, "NOOP ", 5);
        parse_refused (over, "500 5.5.2 Line too long");

        /* Not NUL-terminated: only @len bytes are read. */
        char buf[8];
        memcpy (buf, "DATAxxxx", 8);
        g_auto (MailLmtpCommand) data = {0};
        g_assert_true (mail_lmtp_parse_command (buf, 4, &data, &reply));
        g_assert_cmpint (data.verb, ==, MAIL_LMTP_DATA);
}

/* ---- DATA ---- */

/* Feeds @wire in chunks of @chunk bytes (0: all at once); returns the message and writes
 * how many bytes of @wire were consumed. */
static GByteArray *
unstuff (const char *wire, gsize len, gsize chunk, guint64 max, MailLmtpData *d,
         gsize *out_consumed)
{
        GByteArray *out = g_byte_array_new ();
        mail_lmtp_data_init (d, max);
        gsize pos = 0;
        while (pos < len && !d->done) {
                gsize n = chunk ? MIN (chunk, len - pos) : len - pos;
                gsize used = mail_lmtp_data_feed (d, (const guint8 *) wire + pos, n, out);
                g_assert_cmpuint (used, <=, n);
                pos += used;
                if (used < n)
                        g_assert_true (d->done);
        }
        *out_consumed = pos;
        return out;
}

static void
check_unstuff (const char *wire, const char *want, const char *rest)
{
        gsize len = strlen (wire);
        for (gsize chunk = 0; chunk <= len; chunk++) {
                MailLmtpData d;
                gsize used = 0;
                g_autoptr (GByteArray) got = unstuff (wire, len, chunk, 0, &d, &used);
                if (got->len != strlen (want) ||
                    (got->len && memcmp (got->data, want, got->len) != 0))
                        g_test_message ("wire \"%s\" chunk %zu: got \"%.*s\"", wire, chunk,
                                        (int) got->len, got->data);
                g_assert_true (d.done);
                g_assert_false (d.too_big);
                g_assert_cmpmem (got->data, got->len, want, strlen (want));
                g_assert_cmpuint (d.total, ==, strlen (want));
                g_assert_cmpstr (wire + used, ==, rest);
        }
}

static void
test_data (void)
{
        check_unstuff (".\r\n", "", "");
        check_unstuff (".\n", "", "");
        check_unstuff ("a\r\n.\r\n", "a\r\n", "");
        check_unstuff ("a\n.\n", "a\n", "");
        check_unstuff ("a\n.\r\n", "a\n", "");
        check_unstuff ("a\r\n.\n", "a\r\n", "");
        /* dot-stuffing: a leading dot is dropped, wherever the chunks split */
        check_unstuff ("..\r\n.\r\n", ".\r\n", "");
        check_unstuff ("...x\r\n.\r\n", "..x\r\n", "");
        check_unstuff ("a\r\n..b\r\nc.d\r\n. \r\n.\r\n", "a\r\n.b\r\nc.d\r\n \r\n", "");
        /* ".\r" that does not end the line: the dot was stuffing, the CR is content */
        check_unstuff (".\rx\r\n.\r\n", "\rx\r\n", "");
        check_unstuff (".\r\r\n.\r\n", "\r\r\n", "");
        /* a "." inside a line, CR alone, NUL bytes: content */
        check_unstuff ("a.\r\n\r.\r\n.\r\n", "a.\r\n\r.\r\n", "");
        /* pipelined commands after the end are not consumed */
        check_unstuff ("x\r\n.\r\nQUIT\r\n", "x\r\n", "QUIT\r\n");
        check_unstuff (".\r\n.\r\n", "", ".\r\n");
        /* no line ending before the terminator: "x." is content, not the end */
        check_unstuff ("x.\r\n.\r\n", "x.\r\n", "");

        const char nul_wire[] = "a\0b\r\n.\r\n";
        MailLmtpData d;
        gsize used = 0;
        g_autoptr (GByteArray) got = unstuff (nul_wire, sizeof nul_wire - 1, 1, 0, &d, &used);
        g_assert_cmpmem (got->data, got->len, "a\0b\r\n", 5);

        /* Not yet done: everything consumed, nothing lost between calls. */
        mail_lmtp_data_init (&d, 0);
        g_autoptr (GByteArray) part = g_byte_array_new ();
        g_assert_cmpuint (mail_lmtp_data_feed (&d, (const guint8 *) "ab\r\n.", 5, part), ==, 5);
        g_assert_false (d.done);
        g_assert_cmpuint (mail_lmtp_data_feed (&d, (const guint8 *) "x\r\n", 3, part), ==, 3);
        g_assert_false (d.done);
        g_assert_cmpmem (part->data, part->len, "ab\r\nx\r\n", 7);
        /* once done, nothing more is consumed */
        g_assert_cmpuint (mail_lmtp_data_feed (&d, (const guint8 *) ".\r\nQ", 4, part), ==, 3);
        g_assert_true (d.done);
        g_assert_cmpuint (mail_lmtp_data_feed (&d, (const guint8 *) "QUIT", 4, part), ==, 0);
        g_assert_cmpuint (mail_lmtp_data_feed (&d, NULL, 0, part), ==, 0);
}

static void
test_data_limit (void)
{
        const char *wire = "0123456789\r\n..abc\r\n.\r\nNOOP\r\n";
        /* message: "0123456789\r\n.abc\r\n", 18 bytes */
        for (guint64 max = 1; max <= 20; max++) {
                for (gsize chunk = 0; chunk < 8; chunk++) {
                        MailLmtpData d;
                        gsize used = 0;
                        g_autoptr (GByteArray) got =
                                unstuff (wire, strlen (wire), chunk, max, &d, &used);
                        g_assert_true (d.done);
                        g_assert_cmpuint (d.total, ==, 18);
                        g_assert_cmpint (d.too_big, ==, max < 18);
                        g_assert_cmpuint (got->len, ==, MIN (max, 18));
                        g_assert_cmpmem (got->data, got->len, "0123456789\r\n.abc\r\n", got->len);
                        g_assert_cmpstr (wire + used, ==, "NOOP\r\n");
                }
        }
        /* No output array: only counted. */
        MailLmtpData d;
        mail_lmtp_data_init (&d, 4);
        g_assert_cmpuint (mail_lmtp_data_feed (&d, (const guint8 *) "abcdef\n.\n", 9, NULL), ==, 9);
        g_assert_true (d.done && d.too_big);
        g_assert_cmpuint (d.total, ==, 7);
}

/* ---- listen ---- */

static void
listen_ok (const char *spec, const char *host, guint port, const char *path)
{
        g_autofree char *h = NULL, *p = NULL;
        guint16 n = 7;
        g_autoptr (GError) error = NULL;
        g_assert_true (mail_lmtp_parse_listen (spec, &h, &n, &p, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (h, ==, host);
        g_assert_cmpuint (n, ==, port);
        g_assert_cmpstr (p, ==, path);
}

static void
listen_refused (const char *spec)
{
        char *h = (char *) "untouched", *p = (char *) "untouched";
        guint16 n = 7;
        g_autoptr (GError) error = NULL;
        if (mail_lmtp_parse_listen (spec, &h, &n, &p, &error))
                g_test_message ("accepted: %s", spec);
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull (strstr (error->message, spec));
        g_assert_cmpstr (h, ==, "untouched");
        g_assert_cmpstr (p, ==, "untouched");
        g_assert_cmpuint (n, ==, 7);
}

static void
test_listen (void)
{
        listen_ok ("127.0.0.1:24", "127.0.0.1", 24, NULL);
        listen_ok ("0.0.0.0:2424", "0.0.0.0", 2424, NULL);
        listen_ok ("localhost:65535", "localhost", 65535, NULL);
        listen_ok ("[::1]:24", "::1", 24, NULL);
        listen_ok ("[::]:1", "::", 1, NULL);
        listen_ok ("unix:/run/atrium/lmtp.sock", NULL, 0, "/run/atrium/lmtp.sock");

        listen_refused ("");
        listen_refused ("24");
        listen_refused (":24");
        listen_refused ("127.0.0.1");
        listen_refused ("127.0.0.1:");
        listen_refused ("127.0.0.1:0");
        listen_refused ("127.0.0.1:65536");
        listen_refused ("127.0.0.1:24x");
        listen_refused ("127.0.0.1:-24");
        listen_refused ("mail.example.org:24"); /* no name resolution at start-up */
        listen_refused ("::1:24");
        listen_refused ("[::1]24");
        listen_refused ("[127.0.0.1]:24");
        listen_refused ("unix:relative.sock");
        listen_refused ("unix:");
        g_autofree char *p107 = g_strnfill (107, 'p');
        g_autofree char *longp = g_strdup_printf ("unix:/%s", p107);
        listen_refused (longp);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/lmtp/verbs", test_verbs);
        g_test_add_func ("/lmtp/mail", test_mail);
        g_test_add_func ("/lmtp/rcpt", test_rcpt);
        g_test_add_func ("/lmtp/bad-bytes", test_bad_bytes);
        g_test_add_func ("/lmtp/data", test_data);
        g_test_add_func ("/lmtp/data-limit", test_data_limit);
        g_test_add_func ("/lmtp/listen", test_listen);
        return g_test_run ();
}
