/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-lmtp.c - libFuzzer target for the I/O-free half of the mail plugin's LMTP listener
 * (plugins/mail/lmtp-parse.c). The input is what a client might send, any bytes:
 *
 *   - each line (split at LF, a CR before it dropped) and the whole input as one line go to
 *     mail_lmtp_parse_command: an accepted command keeps the promises of lmtp-parse.h (a
 *     known verb; MAIL and RCPT with a printable address of at most MAIL_LMTP_PATH_MAX bytes,
 *     RCPT's non-empty with an '@'; SIZE -1 or more; DATA, RSET and QUIT without argument)
 *     and a refusal is one complete "5yz x.y.z text" reply;
 *   - the input as a DATA stream goes to mail_lmtp_data_feed whole and in chunks whose sizes
 *     come from the input itself: both must agree on the bytes consumed, the message and the
 *     counters, and the chunked run never consumes more than it was given;
 *   - the input as a message is dot-stuffed the way a client does it, terminated and followed
 *     by a pipelined command, and must come back exactly, with the command left unconsumed,
 *     and cut at the right byte when a limit applies;
 *   - the input up to its first NUL goes to mail_lmtp_parse_listen.
 * GLib criticals and warnings are fatal. Built only with -Dfuzzing=true (clang); see
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "lmtp-parse.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Printable ASCII or tab: what lmtp-parse.h lets into an address or argument. */
static void
check_printable (const char *s)
{
        for (const char *c = s; *c; c++)
                if (((guchar) *c < 0x20 && *c != '\t') || (guchar) *c >= 0x7f)
                        abort ();
}

static void
fuzz_command (const char *line, gsize len)
{
        MailLmtpCommand cmd = {.verb = 1234};
        const char *reply = NULL;
        if (!mail_lmtp_parse_command (line, len, &cmd, &reply)) {
                if (!reply || cmd.verb != 1234)
                        abort ();
                gsize n = strlen (reply);
                if (n < 11 || reply[0] != '5' || !g_ascii_isdigit (reply[1]) ||
                    !g_ascii_isdigit (reply[2]) || reply[3] != ' ' || reply[4] != '5' ||
                    reply[5] != '.' || strchr (reply, '\r') || strchr (reply, '\n'))
                        abort ();
                return;
        }
        if (reply || cmd.verb < MAIL_LMTP_UNKNOWN || cmd.verb > MAIL_LMTP_VRFY || cmd.size < -1 ||
            len > MAIL_LMTP_LINE_MAX - 2 || memchr (line, '\0', len))
                abort ();
        switch (cmd.verb) {
        case MAIL_LMTP_MAIL:
        case MAIL_LMTP_RCPT:
                if (!cmd.address || strlen (cmd.address) > MAIL_LMTP_PATH_MAX || cmd.arg)
                        abort ();
                check_printable (cmd.address);
                if (cmd.verb == MAIL_LMTP_RCPT &&
                    (!strchr (cmd.address, '@') || cmd.size != -1 || cmd.body))
                        abort ();
                if (cmd.address[0] && (!strchr (cmd.address, '@') || cmd.address[0] == '@'))
                        abort ();
                break;
        case MAIL_LMTP_DATA:
        case MAIL_LMTP_RSET:
        case MAIL_LMTP_QUIT:
                if (cmd.arg || cmd.address)
                        abort ();
                break;
        case MAIL_LMTP_LHLO:
        case MAIL_LMTP_VRFY:
                if (!cmd.arg)
                        abort ();
                /* fall through */
        default:
                if (cmd.address)
                        abort ();
                if (cmd.arg) {
                        check_printable (cmd.arg);
                        gsize n = strlen (cmd.arg);
                        if (!n || cmd.arg[0] == ' ' || cmd.arg[n - 1] == ' ')
                                abort ();
                }
        }
        mail_lmtp_command_clear (&cmd);
        if (cmd.arg || cmd.address)
                abort ();
}

static void
fuzz_lines (const char *data, gsize size)
{
        gsize start = 0;
        for (gsize i = 0; i <= size; i++) {
                if (i < size && data[i] != '\n')
                        continue;
                gsize end = i;
                if (end > start && data[end - 1] == '\r')
                        end--;
                fuzz_command (data + start, end - start);
                start = i + 1;
        }
        fuzz_command (data, size);
}

/* Feeds @wire in chunks whose sizes the input picks; returns the bytes consumed. */
static gsize
feed_chunked (MailLmtpData *d, const guint8 *wire, gsize len, GByteArray *out,
              const guint8 *sizes, gsize n_sizes)
{
        gsize pos = 0;
        for (gsize k = 0; pos < len && !d->done; k++) {
                gsize want = n_sizes ? (gsize) sizes[k % n_sizes] % 17 + 1 : len;
                gsize n = MIN (want, len - pos);
                gsize used = mail_lmtp_data_feed (d, wire + pos, n, out);
                if (used > n || (used < n && !d->done))
                        abort ();
                pos += used;
        }
        if (d->done && mail_lmtp_data_feed (d, wire, len, out) != 0)
                abort ();
        return pos;
}

static void
fuzz_data (const guint8 *data, gsize size)
{
        guint64 max = size ? data[0] * 3 : 0;
        MailLmtpData whole, chunked;
        mail_lmtp_data_init (&whole, max);
        mail_lmtp_data_init (&chunked, max);
        g_autoptr (GByteArray) a = g_byte_array_new ();
        g_autoptr (GByteArray) b = g_byte_array_new ();
        gsize used_a = mail_lmtp_data_feed (&whole, data, size, a);
        gsize used_b = feed_chunked (&chunked, data, size, b, data, MIN (size, 8));
        if (used_a > size || used_a != used_b || whole.done != chunked.done ||
            whole.total != chunked.total || whole.too_big != chunked.too_big ||
            a->len != b->len || (a->len && memcmp (a->data, b->data, a->len) != 0))
                abort ();
        if (a->len > used_a || whole.total < a->len || (max && a->len > max) ||
            whole.too_big != (max && whole.total > max) || (!whole.too_big && a->len != whole.total))
                abort ();
        if (used_a < size && !whole.done)
                abort ();
}

/* The input as a message: stuffed as a client would, it must come back exactly. */
static void
fuzz_roundtrip (const guint8 *data, gsize size)
{
        g_autoptr (GByteArray) msg = g_byte_array_new ();
        g_byte_array_append (msg, data, (guint) size);
        if (size && data[size - 1] != '\n')
                g_byte_array_append (msg, (const guint8 *) "\r\n", 2);
        g_autoptr (GByteArray) wire = g_byte_array_new ();
        gboolean line_start = TRUE;
        for (guint i = 0; i < msg->len; i++) {
                if (line_start && msg->data[i] == '.')
                        g_byte_array_append (wire, (const guint8 *) ".", 1);
                g_byte_array_append (wire, &msg->data[i], 1);
                line_start = msg->data[i] == '\n';
        }
        gsize body = wire->len;
        g_byte_array_append (wire, (const guint8 *) ".\r\nQUIT\r\n", 9);

        for (int limited = 0; limited < 2; limited++) {
                guint64 max = limited ? msg->len / 2 + 1 : 0;
                MailLmtpData d;
                mail_lmtp_data_init (&d, max);
                g_autoptr (GByteArray) out = g_byte_array_new ();
                gsize used = feed_chunked (&d, wire->data, wire->len, out, data, MIN (size, 5));
                if (!d.done || used != body + 3 || d.total != msg->len)
                        abort ();
                gsize keep = max ? MIN (max, msg->len) : msg->len;
                if (out->len != keep || (keep && memcmp (out->data, msg->data, keep) != 0) ||
                    d.too_big != (max && msg->len > max))
                        abort ();
        }
}

static void
fuzz_listen (const char *spec)
{
        char *host = NULL, *path = NULL;
        guint16 port = 0;
        g_autoptr (GError) error = NULL;
        if (!mail_lmtp_parse_listen (spec, &host, &port, &path, &error)) {
                if (!error || error->domain != G_IO_ERROR || host || path)
                        abort ();
                return;
        }
        if (error || (!host == !path) || (host && (port == 0 || strchr (host, '[') ||
                                                   (strchr (host, ':') && spec[0] != '['))) ||
            (path && (port != 0 || path[0] != '/' || !g_str_has_prefix (spec, "unix:"))))
                abort ();
        g_free (host);
        g_free (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        fuzz_lines ((const char *) data, size);
        fuzz_data (data, size);
        fuzz_roundtrip (data, size);
        g_autofree char *cut = g_strndup ((const char *) data, size);
        fuzz_listen (cut);
        return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        /* A critical from GLib (a g_return_if_fail hit) is a bug the fuzzer should stop at. */
        g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
        return 0;
}
