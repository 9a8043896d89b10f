/* SPDX-License-Identifier: Apache-2.0 */
/* lmtp.c - the inbound LMTP listener (RFC 2033): a real MTA (Postfix `virtual_transport =
 * lmtp:inet:host:port` or `lmtp:unix:/path`) hands mail for the schools' domains to Atrium.
 *
 * Off unless [mail] lmtp_listen is set (env ATRIUM_MAIL_LMTP_LISTEN). One accept thread of
 * our own, blocking on the listening socket, and one thread per connection (at most
 * MAX_CONNECTIONS; the next is told 421 and closed).
 * Deliberately not the host's main loop: a command process ("atriumd mail flush") also runs
 * start() but never iterates a main context, and must not leave clients hanging.
 *
 * Every RCPT is checked when it arrives: the domain names the school (mail.enter_domain, in a
 * transaction for no school), then mail_resolve in a transaction for that school finds the
 * user, or the members of a group, or an alias; a group (or an alias of one) takes mail from
 * outside only as its setting says (group-routes.c: nobody, by default; its members' school
 * addresses as MAIL FROM; anyone), else 550 5.7.1. After the final "." there is one reply per
 * accepted RCPT, and each RCPT's delivery is its own transaction, so one failing mailbox does
 * not take the others with it. The bytes are stored exactly as received after dot-unstuffing
 * (no Received: header is added: the API promises the original bytes), once per school per
 * message. The parsing that needs no socket is in lmtp-parse.c, unit-tested and fuzzed. */
#include "mail-private.h"

#include "lmtp-parse.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAX_CONNECTIONS 16
#define MAX_RCPTS 1000
#define READ_CHUNK 65536
#define DEFAULT_MAX_BYTES (25 * 1024 * 1024)
#define DEFAULT_TIMEOUT 300
#define STOP_WAIT_SECONDS 30

static struct {
        AtriumPlugin *self;
        GSocketListener *listener;
        GCancellable *cancel;
        GThread *accept_thread;
        GMutex lock;
        GCond idle;
        guint connections;
        char *unix_path;
        char *hostname;
        guint64 max_bytes;
        guint timeout;
} lmtp;

static void
say (GLogLevelFlags level, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
say (GLogLevelFlags level, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        g_autofree char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        mail_host->log (lmtp.self, level, msg);
}

/* ---- one accepted RCPT ---- */

typedef struct {
        char *address;   /* as sent */
        char *school_id;
        GPtrArray *users; /* char*, may be empty (a group without members) */
} Rcpt;

static void
rcpt_free (Rcpt *r)
{
        g_free (r->address);
        g_free (r->school_id);
        g_clear_pointer (&r->users, g_ptr_array_unref);
        g_free (r);
}

typedef struct {
        GSocketConnection *conn;
        GInputStream *in;
        GOutputStream *out;
        GByteArray *buf;   /* read, not yet used */
        GString *replies;  /* written when we are about to wait for the client (PIPELINING) */
        gboolean lhlo;
        gboolean have_mail;
        char *sender;
        GPtrArray *rcpts;     /* Rcpt* */
        GHashTable *domains;  /* lower-case domain -> school id, "" when not ours */
} Session;

static void
reset_transaction (Session *s)
{
        s->have_mail = FALSE;
        g_clear_pointer (&s->sender, g_free);
        g_ptr_array_set_size (s->rcpts, 0);
        g_hash_table_remove_all (s->domains);
}

static void
reply (Session *s, const char *line)
{
        g_string_append (s->replies, line);
        g_string_append (s->replies, "\r\n");
}

static gboolean
flush (Session *s)
{
        if (!s->replies->len)
                return TRUE;
        gboolean ok = g_output_stream_write_all (s->out, s->replies->str, s->replies->len, NULL,
                                                 lmtp.cancel, NULL);
        g_string_truncate (s->replies, 0);
        return ok;
}

/* More bytes into s->buf. Replies queued so far go out first: the client may be waiting for
 * them before it sends more. FALSE at end of stream, on a timeout, an error or stop. */
static gboolean
fill (Session *s, gboolean *out_timed_out)
{
        if (!flush (s))
                return FALSE;
        guint old = s->buf->len;
        g_byte_array_set_size (s->buf, old + READ_CHUNK);
        g_autoptr (GError) error = NULL;
        gssize n = g_input_stream_read (s->in, s->buf->data + old, READ_CHUNK, lmtp.cancel, &error);
        g_byte_array_set_size (s->buf, old + (n > 0 ? (guint) n : 0));
        if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                *out_timed_out = TRUE;
        return n > 0;
}

/* The next line without its line ending, into @line. A line longer than MAIL_LMTP_LINE_MAX is
 * read to its end and thrown away, and reported through @out_too_long. */
static gboolean
read_line (Session *s, GByteArray *line, gboolean *out_too_long, gboolean *out_timed_out)
{
        *out_too_long = FALSE;
        g_byte_array_set_size (line, 0);
        for (;;) {
                guint8 *lf = s->buf->len ? memchr (s->buf->data, '\n', s->buf->len) : NULL;
                if (lf) {
                        guint n = (guint) (lf - s->buf->data);
                        if (!*out_too_long && n + 1 <= MAIL_LMTP_LINE_MAX) {
                                guint keep = n > 0 && s->buf->data[n - 1] == '\r' ? n - 1 : n;
                                g_byte_array_append (line, s->buf->data, keep);
                        } else {
                                *out_too_long = TRUE;
                        }
                        g_byte_array_remove_range (s->buf, 0, n + 1);
                        return TRUE;
                }
                if (s->buf->len > MAIL_LMTP_LINE_MAX) {
                        *out_too_long = TRUE;
                        g_byte_array_set_size (s->buf, 0);
                }
                if (!fill (s, out_timed_out))
                        return FALSE;
        }
}

/* ---- RCPT: which school, which mailboxes ---- */

typedef struct {
        const char *domain;
        const char *address;
        const char *sender;   /* MAIL FROM, "" for the null sender */
        char *school_id;
        MailRecipients found;
        const char *refusal;  /* set when a group written to does not take this sender */
} Lookup;

static gboolean
find_school (AtriumTx *tx, gpointer data, GError **error)
{
        Lookup *l = data;
        AtriumResult *res = mail_tx_sql (tx, error, "SELECT mail.enter_domain($1)", 1, l->domain);
        if (!res)
                return FALSE;
        const char *v = mail_host->result_value (res, 0, 0);
        l->school_id = g_strdup (v ? v : "");
        mail_host->result_free (res);
        return TRUE;
}

static gboolean
resolve (AtriumTx *tx, gpointer data, GError **error)
{
        Lookup *l = data;
        if (!mail_resolve (tx, l->domain, l->address, &l->found, error))
                return FALSE;
        for (guint i = 0; l->found.groups && i < l->found.groups->len && !l->refusal; i++)
                if (!mail_group_takes_external (tx, l->domain, l->found.groups->pdata[i],
                                                l->sender, &l->refusal, error))
                        return FALSE;
        return TRUE;
}

static void
do_rcpt (Session *s, const char *address)
{
        if (s->rcpts->len >= MAX_RCPTS) {
                reply (s, "452 4.5.3 Too many recipients");
                return;
        }
        g_autofree char *lower = g_ascii_strdown (address, -1);
        const char *domain = strrchr (lower, '@') + 1; /* the parser guarantees the '@' */
        const char *school = g_hash_table_lookup (s->domains, domain);
        g_autoptr (GError) error = NULL;
        if (!school) {
                Lookup l = {.domain = domain};
                if (!mail_host->run_tx (lmtp.self, NULL, find_school, &l, &error)) {
                        say (G_LOG_LEVEL_WARNING, "lmtp: looking up domain %s: %s", domain,
                             error->message);
                        reply (s, "451 4.3.0 Temporary lookup failure");
                        return;
                }
                school = l.school_id;
                g_hash_table_insert (s->domains, g_strdup (domain), l.school_id);
        }
        if (!school[0]) {
                reply (s, "550 5.1.2 Domain not handled here");
                return;
        }
        Lookup l = {.domain = domain, .address = lower, .sender = s->sender ? s->sender : ""};
        gboolean ok = mail_host->run_tx (lmtp.self, school, resolve, &l, &error);
        if (ok && l.refusal) {
                reply (s, l.refusal);
                mail_recipients_clear (&l.found);
                return;
        }
        if (!ok || (l.found.external && l.found.external->len)) {
                if (ok || g_error_matches (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND) ||
                    g_error_matches (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID)) {
                        reply (s, "550 5.1.1 No such user");
                } else {
                        say (G_LOG_LEVEL_WARNING, "lmtp: resolving %s: %s", lower,
                             error->message);
                        reply (s, "451 4.3.0 Temporary lookup failure");
                }
                mail_recipients_clear (&l.found);
                return;
        }
        Rcpt *r = g_new0 (Rcpt, 1);
        r->address = g_strdup (address);
        r->school_id = g_strdup (school);
        r->users = l.found.users ? g_steal_pointer (&l.found.users)
                                 : g_ptr_array_new_with_free_func (g_free);
        mail_recipients_clear (&l.found);
        g_ptr_array_add (s->rcpts, r);
        reply (s, "250 2.1.5 Recipient OK");
}

/* ---- DATA: deliver to each accepted RCPT ---- */

typedef struct {
        GBytes *raw;
        const MailMeta *meta;
        const char *sender;
        GPtrArray *users;   /* char*: this RCPT's mailboxes not yet given the message (>= 1) */
        char *raw_id;       /* in: the school's stored copy, or NULL; out: the one used */
} Delivery;

static gboolean
deliver_rcpt (AtriumTx *tx, gpointer data, GError **error)
{
        Delivery *d = data;
        gint64 size = (gint64) g_bytes_get_size (d->raw);
        /* The school's own limit (mail.settings) may be below the listener's. */
        AtriumResult *res = mail_tx_sql (tx, error,
                                         "SELECT max_message_bytes FROM mail.settings", 0);
        if (!res)
                return FALSE;
        gint64 max = mail_host->result_n_rows (res)
                             ? g_ascii_strtoll (mail_host->result_value (res, 0, 0), NULL, 10)
                             : 0;
        mail_host->result_free (res);
        if (max > 0 && size > max)
                return mail_fail (error, ATRIUM_ERROR_TOO_LARGE, "message of %" G_GINT64_FORMAT
                                  " bytes, the school takes %" G_GINT64_FORMAT, size, max);
        g_autofree char *raw_id = d->raw_id ? g_strdup (d->raw_id)
                                            : mail_store_raw (tx, d->raw, error);
        /* All of this RCPT's mailboxes (a group's members) locked at once, in one order:
         * two connections delivering to overlapping groups cannot deadlock (quota.c). */
        if (!raw_id || !mail_usage_lock (tx, d->users, error))
                return FALSE;
        JsonArray *users = json_array_new ();
        JsonObject *ev = json_object_new ();
        json_object_set_array_member (ev, "user_ids", users);
        for (guint i = 0; i < d->users->len; i++) {
                const char *user = d->users->pdata[i];
                g_autofree char *inbox = mail_special_folder (tx, user, "inbox", error);
                g_autofree char *id = inbox ? mail_deliver (tx, raw_id, size, d->meta, user,
                                                            inbox, 0, error)
                                            : NULL;
                if (!id) {
                        json_object_unref (ev);
                        return FALSE;
                }
                json_array_add_string_element (users, user);
        }
        /* The shape message-routes.c publishes for a send, plus where it came from. */
        if (d->meta->message_id)
                json_object_set_string_member (ev, "message_id", d->meta->message_id);
        else
                json_object_set_null_member (ev, "message_id");
        json_object_set_string_member (ev, "from", d->sender);
        json_object_set_string_member (ev, "via", "lmtp");
        if (!mail_host->publish (tx, "mail.delivered", atrium_object_node (ev), error))
                return FALSE;
        g_free (d->raw_id);
        d->raw_id = g_steal_pointer (&raw_id);
        return TRUE;
}

static void
deliver_all (Session *s, GBytes *raw)
{
        g_autoptr (MailMeta) meta = mail_meta_from_raw (raw);
        /* school id -> raw id, once that school's transaction that stored it has committed */
        g_autoptr (GHashTable) stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                                g_free);
        /* "school/user": given this message already by an earlier RCPT (a user who is also
         * in a group written to gets one copy) */
        g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                              NULL);
        for (guint i = 0; i < s->rcpts->len; i++) {
                Rcpt *r = s->rcpts->pdata[i];
                g_autoptr (GPtrArray) users = g_ptr_array_new ();
                for (guint u = 0; u < r->users->len; u++) {
                        g_autofree char *key = g_strconcat (r->school_id, "/",
                                                            (char *) r->users->pdata[u], NULL);
                        if (!g_hash_table_contains (done, key))
                                g_ptr_array_add (users, r->users->pdata[u]);
                }
                Delivery d = {.raw = raw, .meta = meta, .sender = s->sender, .users = users,
                              .raw_id = g_strdup (g_hash_table_lookup (stored, r->school_id))};
                g_autoptr (GError) error = NULL;
                if (!users->len) {
                        reply (s, "250 2.0.0 Delivered");
                } else if (mail_host->run_tx (lmtp.self, r->school_id, deliver_rcpt, &d, &error)) {
                        g_hash_table_insert (stored, g_strdup (r->school_id),
                                             g_strdup (d.raw_id));
                        for (guint u = 0; u < users->len; u++)
                                g_hash_table_add (done, g_strconcat (r->school_id, "/",
                                                                     (char *) users->pdata[u],
                                                                     NULL));
                        reply (s, "250 2.0.0 Delivered");
                } else if (g_error_matches (error, ATRIUM_ERROR,
                                            ATRIUM_ERROR_INSUFFICIENT_STORAGE)) {
                        /* A mailbox of this RCPT is over the school's mailbox cap or its
                         * owner's home quota (files and mail: quota.c). Temporary (RFC 3463
                         * 4.2.2): the MTA retries, and space may be freed meanwhile. */
                        say (G_LOG_LEVEL_INFO, "lmtp: %s: %s", r->address, error->message);
                        reply (s, "452 4.2.2 Mailbox full");
                } else if (g_error_matches (error, ATRIUM_ERROR, ATRIUM_ERROR_TOO_LARGE)) {
                        reply (s, "552 5.3.4 Message too big for this recipient");
                } else {
                        say (G_LOG_LEVEL_WARNING, "lmtp: delivering to %s: %s", r->address,
                             error ? error->message : "(no reason)");
                        reply (s, "451 4.3.0 Temporary failure, try again later");
                }
                g_free (d.raw_id);
        }
}

/* Reads the message after 354; FALSE when the connection ended first. */
static gboolean
do_data (Session *s, gboolean *out_timed_out)
{
        reply (s, "354 Start mail input; end with <CRLF>.<CRLF>");
        MailLmtpData d;
        mail_lmtp_data_init (&d, lmtp.max_bytes);
        g_autoptr (GByteArray) msg = g_byte_array_new ();
        for (;;) {
                gsize used = mail_lmtp_data_feed (&d, s->buf->data, s->buf->len, msg);
                g_byte_array_remove_range (s->buf, 0, (guint) used);
                if (d.done)
                        break;
                if (!fill (s, out_timed_out))
                        return FALSE;
        }
        if (d.too_big) {
                g_autofree char *line = g_strdup_printf (
                        "552 5.3.4 Message too big (at most %" G_GUINT64_FORMAT " bytes)",
                        lmtp.max_bytes);
                for (guint i = 0; i < s->rcpts->len; i++)
                        reply (s, line);
        } else {
                g_autoptr (GBytes) raw = g_byte_array_free_to_bytes (g_steal_pointer (&msg));
                deliver_all (s, raw);
        }
        reset_transaction (s);
        return TRUE;
}

/* ---- one connection ---- */

static void
serve (Session *s)
{
        g_autofree char *greeting = g_strdup_printf ("220 %s LMTP Atrium ready", lmtp.hostname);
        reply (s, greeting);
        g_autoptr (GByteArray) line = g_byte_array_new ();
        gboolean too_long = FALSE, timed_out = FALSE;
        while (read_line (s, line, &too_long, &timed_out)) {
                if (too_long) {
                        reply (s, "500 5.5.2 Line too long");
                        continue;
                }
                g_auto (MailLmtpCommand) cmd = {0};
                const char *refusal = NULL;
                if (!mail_lmtp_parse_command ((const char *) line->data, line->len, &cmd,
                                              &refusal)) {
                        reply (s, refusal);
                        continue;
                }
                switch (cmd.verb) {
                case MAIL_LMTP_UNKNOWN:
                        reply (s, "500 5.5.1 Unknown command");
                        break;
                case MAIL_LMTP_HELO:
                        reply (s, "500 5.5.1 This is LMTP: use LHLO");
                        break;
                case MAIL_LMTP_LHLO: {
                        reset_transaction (s);
                        s->lhlo = TRUE;
                        g_autofree char *ext = g_strdup_printf (
                                "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
                                "250-8BITMIME\r\n250 SIZE %" G_GUINT64_FORMAT,
                                lmtp.hostname, lmtp.max_bytes);
                        reply (s, ext);
                        break;
                }
                case MAIL_LMTP_MAIL:
                        if (!s->lhlo) {
                                reply (s, "503 5.5.1 Send LHLO first");
                        } else if (s->have_mail) {
                                reply (s, "503 5.5.1 Nested MAIL command");
                        } else if (cmd.size > 0 && (guint64) cmd.size > lmtp.max_bytes) {
                                reply (s, "552 5.3.4 Message too big for this system");
                        } else {
                                s->have_mail = TRUE;
                                s->sender = g_steal_pointer (&cmd.address);
                                reply (s, "250 2.1.0 Sender OK");
                        }
                        break;
                case MAIL_LMTP_RCPT:
                        if (!s->have_mail)
                                reply (s, "503 5.5.1 Need MAIL first");
                        else
                                do_rcpt (s, cmd.address);
                        break;
                case MAIL_LMTP_DATA:
                        if (!s->have_mail) {
                                reply (s, "503 5.5.1 Need MAIL first");
                        } else if (!s->rcpts->len) {
                                /* RFC 2033 4.2: no successful RCPT, so no DATA */
                                reply (s, "503 5.5.1 No valid recipients");
                        } else if (!do_data (s, &timed_out)) {
                                goto out;
                        }
                        break;
                case MAIL_LMTP_RSET:
                        reset_transaction (s);
                        reply (s, "250 2.0.0 OK");
                        break;
                case MAIL_LMTP_NOOP:
                        reply (s, "250 2.0.0 OK");
                        break;
                case MAIL_LMTP_VRFY:
                        reply (s, "252 2.5.0 Cannot VRFY user, but will accept message and "
                                  "attempt delivery");
                        break;
                case MAIL_LMTP_QUIT:
                        reply (s, "221 2.0.0 Bye");
                        flush (s);
                        return;
                }
        }
out:
        if (timed_out) {
                reply (s, "421 4.4.2 Timeout, closing connection");
                flush (s);
        }
}

static gpointer
connection_thread (gpointer data)
{
        GSocketConnection *conn = data;
        g_socket_set_timeout (g_socket_connection_get_socket (conn), lmtp.timeout);
        Session s = {
                .conn = conn,
                .in = g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                .out = g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                .buf = g_byte_array_new (),
                .replies = g_string_new (NULL),
                .rcpts = g_ptr_array_new_with_free_func ((GDestroyNotify) rcpt_free),
                .domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
        };
        serve (&s);
        reset_transaction (&s);
        g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
        g_object_unref (conn);
        g_byte_array_unref (s.buf);
        g_string_free (s.replies, TRUE);
        g_ptr_array_unref (s.rcpts);
        g_hash_table_unref (s.domains);

        g_mutex_lock (&lmtp.lock);
        lmtp.connections--;
        g_cond_broadcast (&lmtp.idle);
        g_mutex_unlock (&lmtp.lock);
        return NULL;
}

static void
refuse (GSocketConnection *conn, const char *line)
{
        GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
        g_socket_set_timeout (g_socket_connection_get_socket (conn), 5);
        g_output_stream_write_all (out, line, strlen (line), NULL, NULL, NULL);
        g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
}

static gpointer
accept_thread (gpointer data)
{
        for (;;) {
                g_autoptr (GError) error = NULL;
                g_autoptr (GSocketConnection) conn =
                        g_socket_listener_accept (lmtp.listener, NULL, lmtp.cancel, &error);
                if (!conn) {
                        if (g_cancellable_is_cancelled (lmtp.cancel))
                                return NULL;
                        say (G_LOG_LEVEL_WARNING, "lmtp: accept: %s", error->message);
                        g_usleep (G_USEC_PER_SEC / 10); /* EMFILE and friends: do not spin */
                        continue;
                }
                g_mutex_lock (&lmtp.lock);
                gboolean room = lmtp.connections < MAX_CONNECTIONS;
                if (room)
                        lmtp.connections++;
                g_mutex_unlock (&lmtp.lock);
                if (!room) {
                        refuse (conn, "421 4.3.2 Too many connections, try again later\r\n");
                        continue;
                }
                GThread *t = g_thread_try_new ("mail-lmtp", connection_thread,
                                               g_object_ref (conn), &error);
                if (t) {
                        g_thread_unref (t);
                        continue;
                }
                say (G_LOG_LEVEL_WARNING, "lmtp: no thread for a connection: %s", error->message);
                refuse (conn, "421 4.3.2 Service busy, try again later\r\n");
                g_object_unref (conn); /* the reference the thread would have had */
                g_mutex_lock (&lmtp.lock);
                lmtp.connections--;
                g_mutex_unlock (&lmtp.lock);
        }
}

/* ---- start and stop ---- */

/* A unix socket left behind by a host that died: remove it if nobody answers on it. */
static void
remove_stale_socket (const char *path)
{
        GStatBuf st;
        if (g_lstat (path, &st) != 0 || !S_ISSOCK (st.st_mode))
                return;
        g_autoptr (GSocketClient) client = g_socket_client_new ();
        g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
        g_autoptr (GSocketConnection) conn =
                g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, NULL);
        if (!conn)
                g_unlink (path);
}

static gboolean
bind_all (const char *host, guint16 port, const char *path, GError **error)
{
        if (path) {
                remove_stale_socket (path);
                g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
                if (!g_socket_listener_add_address (lmtp.listener, addr, G_SOCKET_TYPE_STREAM,
                                                    G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error))
                        return FALSE;
                lmtp.unix_path = g_strdup (path);
                return TRUE;
        }
        if (g_ascii_strcasecmp (host, "localhost") == 0) {
                /* Both loopbacks; IPv6 may be missing on the machine. */
                g_autoptr (GInetAddress) v4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
                g_autoptr (GInetAddress) v6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
                g_autoptr (GSocketAddress) a4 = g_inet_socket_address_new (v4, port);
                g_autoptr (GSocketAddress) a6 = g_inet_socket_address_new (v6, port);
                if (!g_socket_listener_add_address (lmtp.listener, a4, G_SOCKET_TYPE_STREAM,
                                                    G_SOCKET_PROTOCOL_TCP, NULL, NULL, error))
                        return FALSE;
                g_socket_listener_add_address (lmtp.listener, a6, G_SOCKET_TYPE_STREAM,
                                               G_SOCKET_PROTOCOL_TCP, NULL, NULL, NULL);
                return TRUE;
        }
        g_autoptr (GSocketAddress) addr = g_inet_socket_address_new_from_string (host, port);
        if (!addr)
                return mail_fail (error, ATRIUM_ERROR_INTERNAL, "lmtp_listen: bad address %s",
                                  host);
        return g_socket_listener_add_address (lmtp.listener, addr, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, NULL, NULL, error);
}

gboolean
mail_lmtp_start (AtriumPlugin *self, GError **error)
{
        g_return_val_if_fail (lmtp.listener == NULL, FALSE);
        g_autofree char *spec = mail_host->config_get (self, "lmtp_listen");
        if (!spec || !spec[0])
                return TRUE; /* off */
        g_autofree char *host = NULL, *path = NULL;
        guint16 port = 0;
        g_autoptr (GError) local = NULL;
        if (!mail_lmtp_parse_listen (spec, &host, &port, &path, &local))
                return mail_fail (error, ATRIUM_ERROR_INTERNAL, "%s", local->message);
        guint64 max_bytes, timeout;
        if (!atrium_config_uint (mail_host, self, "mail", "lmtp_max_bytes", DEFAULT_MAX_BYTES, 1,
                                 G_MAXINT32, &max_bytes, error) ||
            !atrium_config_uint (mail_host, self, "mail", "lmtp_timeout", DEFAULT_TIMEOUT, 1, 86400,
                                 &timeout, error))
                return FALSE;

        lmtp.self = self;
        lmtp.max_bytes = max_bytes;
        lmtp.timeout = (guint) timeout;
        lmtp.hostname = g_strdup (g_get_host_name ());
        lmtp.listener = g_socket_listener_new ();
        lmtp.cancel = g_cancellable_new ();
        if (!bind_all (host, port, path, &local)) {
                g_clear_object (&lmtp.listener);
                g_clear_object (&lmtp.cancel);
                g_clear_pointer (&lmtp.hostname, g_free);
                /* In use: most likely a serving host on this machine while this process runs
                 * "atriumd mail flush" (commands run start() too) - the flush must still work.
                 * A second serving host with the same address gets the warning and serves
                 * HTTP without LMTP. */
                if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
                        say (G_LOG_LEVEL_WARNING, "lmtp: not listening on %s: %s", spec,
                             local->message);
                        return TRUE;
                }
                return mail_fail (error, ATRIUM_ERROR_INTERNAL, "lmtp_listen %s: %s", spec,
                                  local->message);
        }
        lmtp.accept_thread = g_thread_new ("mail-lmtp-accept", accept_thread, NULL);
        say (G_LOG_LEVEL_MESSAGE, "lmtp: listening on %s", spec);
        return TRUE;
}

void
mail_lmtp_stop (void)
{
        if (!lmtp.listener)
                return;
        /* Wakes the accept and every blocked read or write; a connection in the middle of a
         * delivery finishes that transaction first. */
        g_cancellable_cancel (lmtp.cancel);
        g_thread_join (lmtp.accept_thread);
        lmtp.accept_thread = NULL;
        g_socket_listener_close (lmtp.listener);
        gint64 until = g_get_monotonic_time () + STOP_WAIT_SECONDS * G_TIME_SPAN_SECOND;
        g_mutex_lock (&lmtp.lock);
        while (lmtp.connections > 0)
                if (!g_cond_wait_until (&lmtp.idle, &lmtp.lock, until))
                        break;
        guint left = lmtp.connections;
        g_mutex_unlock (&lmtp.lock);
        if (left) {
                /* Their threads still hold lmtp.cancel and the host: leak rather than free
                 * under them. The process is on its way out. */
                say (G_LOG_LEVEL_WARNING, "lmtp: %u connections still busy at stop", left);
                return;
        }
        if (lmtp.unix_path)
                g_unlink (lmtp.unix_path);
        g_clear_pointer (&lmtp.unix_path, g_free);
        g_clear_object (&lmtp.listener);
        g_clear_object (&lmtp.cancel);
        g_clear_pointer (&lmtp.hostname, g_free);
}
