/* SPDX-License-Identifier: Apache-2.0 */
/* lmtp-parse.h - the I/O-free half of the mail plugin's LMTP listener (RFC 2033, lmtp.c): one
 * command line into a struct (verb, path, the ESMTP parameters we support), the DATA phase's
 * dot-unstuffing over byte chunks, and the listen address from the config. Pure: no host
 * calls, no sockets; tests/unit/test-lmtp-parse.c and tests/fuzz/fuzz-lmtp.c compile it
 * directly. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest command line, CRLF included (RFC 5321 asks for 512; Postfix sends longer paths). */
#define MAIL_LMTP_LINE_MAX 1000
/* Longest path between < and > (RFC 5321 4.5.3.1.3: 256 octets, brackets included). */
#define MAIL_LMTP_PATH_MAX 254

typedef enum {
        MAIL_LMTP_UNKNOWN = 0,
        MAIL_LMTP_LHLO,
        MAIL_LMTP_HELO, /* HELO and EHLO: SMTP, refused in LMTP (RFC 2033 4.1) */
        MAIL_LMTP_MAIL,
        MAIL_LMTP_RCPT,
        MAIL_LMTP_DATA,
        MAIL_LMTP_RSET,
        MAIL_LMTP_NOOP,
        MAIL_LMTP_QUIT,
        MAIL_LMTP_VRFY,
} MailLmtpVerb;

typedef enum {
        MAIL_LMTP_BODY_DEFAULT = 0, /* no BODY= */
        MAIL_LMTP_BODY_7BIT,
        MAIL_LMTP_BODY_8BITMIME,
} MailLmtpBody;

typedef struct {
        MailLmtpVerb verb;
        /* LHLO, NOOP, VRFY: the rest of the line, spaces trimmed; NULL when there is none */
        char *arg;
        /* MAIL, RCPT: the mailbox of the path, as sent (any source route dropped); "" for
         * the null path "<>" (MAIL only) */
        char *address;
        gint64 size; /* MAIL SIZE=; -1 when absent */
        MailLmtpBody body;
} MailLmtpCommand;

void mail_lmtp_command_clear (MailLmtpCommand *cmd);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MailLmtpCommand, mail_lmtp_command_clear)

/**
 * mail_lmtp_parse_command:
 * @line: (array length=len): one command line without its line ending (CRLF or LF); need
 *   not be NUL-terminated
 * @out: (out caller-allocates): the command, filled on success only (clear it with
 *   mail_lmtp_command_clear)
 * @out_reply: (out): on failure, the complete reply to send, without CRLF
 *   ("501 5.5.4 Syntax: MAIL FROM:<address>"); static, never freed
 *
 * Verbs are case-insensitive. MAIL takes "FROM:<path>" and the parameters SIZE=<digits> and
 * BODY=7BIT|8BITMIME; RCPT takes "TO:<path>" and no parameters; a space after the colon is
 * tolerated. A path is "<>" (MAIL only) or "<[@route,...:]local@domain>" with a dot-atom or
 * quoted local part and a domain name or address literal. DATA, RSET and QUIT take no
 * argument; LHLO needs one. Bytes outside printable ASCII (tab allowed) are refused: we do
 * not announce SMTPUTF8. An unknown verb is parsed as MAIL_LMTP_UNKNOWN, not as a failure.
 *
 * Returns: TRUE with @out filled, or FALSE with @out_reply set.
 */
gboolean mail_lmtp_parse_command (const char *line, gsize len, MailLmtpCommand *out,
                                  const char **out_reply);

/* The DATA phase: what arrives after "354" up to and including the line ".". */
typedef struct {
        int state;       /* private */
        gboolean done;   /* the terminating "." line was consumed */
        guint64 max;     /* message bytes kept at most; 0: no limit */
        guint64 total;   /* message bytes seen (unstuffed), kept or not */
        gboolean too_big; /* total went past max: @out stopped growing */
} MailLmtpData;

/* Starts a DATA phase keeping at most @max bytes (0: no limit). */
void mail_lmtp_data_init (MailLmtpData *d, guint64 max);

/**
 * mail_lmtp_data_feed:
 * @buf: (array length=len): the next bytes from the client, in any chunking
 * @out: (nullable): where the message bytes go (dot-unstuffed, line endings as sent); bytes
 *   past @d->max are counted in @d->total but not appended
 *
 * Lines end in LF, with or without CR before it; the message ends at a line that is exactly
 * "." (".\r\n" or ".\n") at the start of a line, and the line ending before it belongs to the
 * message. A leading "." of any other line is removed (RFC 5321 4.5.2). An empty message is
 * "." at once.
 *
 * Returns: the bytes of @buf consumed: @len, or fewer when the end was reached (the rest is
 * the next command, pipelined). Once @d->done, consumes nothing.
 */
gsize mail_lmtp_data_feed (MailLmtpData *d, const guint8 *buf, gsize len, GByteArray *out);

/**
 * mail_lmtp_parse_listen:
 * @spec: "unix:/absolute/path", "host:port", "[ipv6]:port"; host is an IPv4 or IPv6 literal
 *   or "localhost"
 * @out_host: (out) (transfer full): the host ("::1" without brackets), NULL for unix
 * @out_port: (out): 1..65535, 0 for unix
 * @out_path: (out) (transfer full): the socket path, NULL for host:port
 *
 * Returns: TRUE with the out-parameters written, or FALSE with @error (G_IO_ERROR /
 * G_IO_ERROR_INVALID_ARGUMENT) naming what is wrong; nothing is written then.
 */
gboolean mail_lmtp_parse_listen (const char *spec, char **out_host, guint16 *out_port,
                                 char **out_path, GError **error);

G_END_DECLS
