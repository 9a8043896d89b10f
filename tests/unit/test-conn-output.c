/* SPDX-License-Identifier: Apache-2.0 */
/* test-conn-output.c - unit tests of a client connection's output (core/http/connection.c):
 * an answer's head held back by atrium_conn_cork_next() leaves with its body in one send, is
 * pushed out alone when no body follows, and, on a socket that takes only part of what is
 * sent (a client that reads slowly), every byte still arrives once and in order, wherever the
 * kernel cuts (inside the head as inside the body). Over real loopback TCP with small buffers;
 * the integration suite's AnswersLeaveWhole covers the same through libsoup. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "connection-private.h"

typedef struct {
        GSocket *client;
        AtriumConn *conn;
        GPollableOutputStream *out;
} Pair;

/* A connected loopback pair: the host's side wrapped as atriumd wraps an accepted socket. */
static void
pair_open (Pair *p, int sndbuf, int rcvbuf)
{
        g_autoptr (GError) error = NULL;
        g_autoptr (GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                                     G_SOCKET_PROTOCOL_TCP, &error);
        g_assert_no_error (error);
        g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
        g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
        g_assert_true (g_socket_bind (listener, any, TRUE, &error));
        g_assert_true (g_socket_listen (listener, &error));
        g_autoptr (GSocketAddress) bound = g_socket_get_local_address (listener, &error);
        g_assert_no_error (error);

        p->client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                  &error);
        g_assert_no_error (error);
        if (rcvbuf)
                g_assert_true (
                        g_socket_set_option (p->client, SOL_SOCKET, SO_RCVBUF, rcvbuf, &error));
        g_assert_true (g_socket_connect (p->client, bound, NULL, &error));
        g_socket_set_timeout (p->client, 10);
        GSocket *host = g_socket_accept (listener, NULL, &error); /* the connection's */
        g_assert_no_error (error);
        if (sndbuf)
                g_assert_true (g_socket_set_option (host, SOL_SOCKET, SO_SNDBUF, sndbuf, &error));
        g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (host, &error);
        g_assert_no_error (error);
        p->conn = atrium_conn_new (host, remote, NULL, NULL, NULL);
        p->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (G_IO_STREAM (p->conn)));
}

static void
pair_close (Pair *p)
{
        g_io_stream_close (G_IO_STREAM (p->conn), NULL, NULL);
        g_clear_object (&p->conn);
        g_clear_object (&p->client);
}

/* Reads exactly @len bytes on the client's side. */
static GBytes *
read_exactly (Pair *p, gsize len)
{
        guint8 *buf = g_malloc (len);
        gsize got = 0;
        while (got < len) {
                g_autoptr (GError) error = NULL;
                gssize n =
                        g_socket_receive (p->client, (char *) buf + got, len - got, NULL, &error);
                g_assert_no_error (error);
                g_assert_cmpint (n, >, 0);
                got += n;
        }
        return g_bytes_new_take (buf, len);
}

static gssize
write_nb (Pair *p, const void *data, gsize len, GError **error)
{
        return g_pollable_output_stream_write_nonblocking (p->out, data, len, NULL, error);
}

static void
test_head_and_body_in_one_send (void)
{
        Pair p = {0};
        pair_open (&p, 0, 0);
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n";
        static const char body[] = "{\"status\":\"ok\"}";
        atrium_conn_cork_next (p.conn);
        g_autoptr (GError) error = NULL;
        g_assert_cmpint (write_nb (&p, head, strlen (head), &error), ==, strlen (head));
        /* Held: nothing has reached the client yet. */
        char peek;
        g_assert_cmpint (recv (g_socket_get_fd (p.client), &peek, 1, MSG_DONTWAIT | MSG_PEEK), ==,
                         -1);
        g_assert_cmpint (errno, ==, EAGAIN);
        g_assert_cmpint (write_nb (&p, body, strlen (body), &error), ==, strlen (body));
        g_assert_no_error (error);
        /* Both arrive, the head first, as one segment: one read takes them both. */
        char buf[256];
        gssize n = g_socket_receive (p.client, buf, sizeof buf, NULL, &error);
        g_assert_no_error (error);
        g_autofree char *both = g_strconcat (head, body, NULL);
        g_assert_cmpmem (buf, n, both, strlen (both));
        pair_close (&p);
}

static void
test_held_head_pushed_when_the_answer_is_complete (void)
{
        Pair p = {0};
        pair_open (&p, 0, 0);
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        atrium_conn_cork_next (p.conn);
        g_autoptr (GError) error = NULL;
        g_assert_cmpint (write_nb (&p, head, strlen (head), &error), ==, strlen (head));
        atrium_conn_set_between_requests (p.conn, TRUE);
        g_autoptr (GBytes) got = read_exactly (&p, strlen (head));
        g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), head, strlen (head));
        pair_close (&p);
}

/* Answers written as libsoup writes them (the head with cork_next, then the body in pieces,
 * again when the socket is writable) to a client with small buffers that reads a few hundred
 * bytes whenever the host's send would block: the client must see exactly what was written. */
static void
test_partial_sends_lose_nothing (void)
{
        Pair p = {0};
        pair_open (&p, 4096, 4096);
        g_autoptr (GRand) rand = g_rand_new_with_seed (20261207);
        g_autoptr (GByteArray) sent = g_byte_array_new ();
        GByteArray *seen = g_byte_array_new ();
        guint would_block = 0, blocked_after_head = 0;

        for (guint answer = 0; answer < 400; answer++) {
                /* Heads as long as bodies, so that sends stop inside heads too. */
                g_autofree char *pad = g_strnfill (g_rand_int_range (rand, 0, 3000), 'p');
                g_autofree char *head = g_strdup_printf (
                        "HTTP/1.1 200 OK\r\nX-Answer: %u\r\nX-Pad: %s\r\nContent-Length: %u\r\n\r\n",
                        answer, pad, (guint) g_rand_int_range (rand, 1, 3000));
                guint len = (guint) g_ascii_strtoull (strstr (head, "Length: ") + 8, NULL, 10);
                g_autofree guint8 *body = g_malloc (len);
                for (guint i = 0; i < len; i++)
                        body[i] = (guint8) g_rand_int (rand);
                atrium_conn_cork_next (p.conn);
                g_autoptr (GError) error = NULL;
                g_assert_cmpint (write_nb (&p, head, strlen (head), &error), ==, strlen (head));
                g_byte_array_append (sent, (guint8 *) head, strlen (head));
                gsize off = 0;
                gboolean first = TRUE;
                while (off < len) {
                        g_clear_error (&error);
                        gssize n = write_nb (&p, body + off, len - off, &error);
                        if (n < 0) {
                                g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
                                would_block++;
                                blocked_after_head += first;
                                /* The client reads a little; the host tries again. */
                                guint8 buf[700];
                                gssize r = g_socket_receive (
                                        p.client, (char *) buf,
                                        (gsize) g_rand_int_range (rand, 100, sizeof buf), NULL,
                                        NULL);
                                g_assert_cmpint (r, >, 0);
                                g_byte_array_append (seen, buf, r);
                        } else {
                                g_assert_cmpint (n, >, 0);
                                off += n;
                        }
                        first = FALSE;
                }
                g_byte_array_append (sent, body, len);
        }
        atrium_conn_set_between_requests (p.conn, TRUE);
        g_autoptr (GBytes) rest = read_exactly (&p, sent->len - seen->len);
        g_byte_array_append (seen, g_bytes_get_data (rest, NULL), g_bytes_get_size (rest));
        g_assert_cmpmem (seen->data, seen->len, sent->data, sent->len);
        /* The small buffers did make sends stop, also right after a head was taken. */
        g_assert_cmpuint (would_block, >, 100);
        g_assert_cmpuint (blocked_after_head, >, 10);
        g_byte_array_unref (seen);
        pair_close (&p);
}

int
main (int argc, char **argv)
{
        g_test_init (&argc, &argv, NULL);
        g_test_add_func ("/conn-output/head-and-body-in-one-send", test_head_and_body_in_one_send);
        g_test_add_func ("/conn-output/held-head-pushed-when-complete",
                         test_held_head_pushed_when_the_answer_is_complete);
        g_test_add_func ("/conn-output/partial-sends-lose-nothing",
                         test_partial_sends_lose_nothing);
        return g_test_run ();
}
