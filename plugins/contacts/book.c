/* SPDX-License-Identifier: Apache-2.0 */
/* book.c - the personal address book (contacts.books, contacts.cards; schema/0001): the cards
 * of the caller, stored as the client sent them, with UID, FN and EMAIL kept beside for the
 * UID rule and addressbook-query.
 *
 * Every query names the owner: a personal book is its owner's alone (row-level security holds
 * the school; the owner is this file's rule). A PUT reads the body first (reading ends the
 * transaction of the checks before, ABI 1.2), parses it (vcard.c), then locks the book row so
 * concurrent writes of one book are serialised and take their change numbers in commit order.
 * The ETag is the MD5 of the stored text, which is the body as sent, so a PUT answers it. */
#include "contacts-private.h"

#include <string.h>

#define CARD_COLUMNS                                                                               \
        "c.name, c.id, md5(c.vcard), octet_length(c.vcard), "                                      \
        "extract(epoch FROM c.updated_at)::bigint, extract(epoch FROM c.created_at)::bigint, "     \
        "c.fn, array_to_json(c.emails), c.uid"

gboolean
ct_book_seq (AtriumRequest *req, gint64 *out_seq, GError **error)
{
        g_autoptr (AtriumResult) res =
                ct_sql (req, error, "SELECT sync_seq FROM contacts.books WHERE owner_id = $1::uuid",
                        1, ct_host->request_user_id (req));
        if (!res)
                return FALSE;
        *out_seq = ct_host->result_n_rows (res)
                           ? g_ascii_strtoll (ct_host->result_value (res, 0, 0), NULL, 10)
                           : 0;
        return TRUE;
}

gboolean
ct_book_floor (AtriumRequest *req, gint64 *out_floor, GError **error)
{
        g_autoptr (AtriumResult) res = ct_sql (
                req, error, "SELECT sync_floor FROM contacts.books WHERE owner_id = $1::uuid", 1,
                ct_host->request_user_id (req));
        if (!res)
                return FALSE;
        *out_floor = ct_host->result_n_rows (res)
                             ? g_ascii_strtoll (ct_host->result_value (res, 0, 0), NULL, 10)
                             : 0;
        return TRUE;
}

static GStrv
json_strv (const char *json)
{
        g_autoptr (JsonParser) p = json_parser_new ();
        g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
        if (json && json_parser_load_from_data (p, json, -1, NULL) &&
            JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p))) {
                JsonArray *a = json_node_get_array (json_parser_get_root (p));
                for (guint i = 0; i < json_array_get_length (a); i++)
                        g_strv_builder_add (b, json_array_get_string_element (a, i));
        }
        return g_strv_builder_end (b);
}

GPtrArray *
ct_book_cards (AtriumRequest *req, const char *const *names, gint64 since, gint64 upto,
               gboolean with_text, GError **error)
{
        g_autofree char *list = NULL;
        if (names) {
                g_autoptr (JsonArray) arr = json_array_new ();
                for (guint i = 0; names[i]; i++)
                        json_array_add_string_element (arr, names[i]);
                g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), arr);
                list = json_to_string (node, FALSE);
        }
        g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, since);
        g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, upto);
        g_autoptr (AtriumResult) res = ct_sql (
                req, error,
                "SELECT " CARD_COLUMNS ", CASE WHEN $5::boolean THEN c.vcard END "
                "FROM contacts.cards c WHERE c.owner_id = $1::uuid "
                "AND ($2::json IS NULL OR c.name IN (SELECT json_array_elements_text($2::json))) "
                "AND c.sync_seq > $3::bigint AND ($4::bigint < 0 OR c.sync_seq <= $4::bigint) "
                "ORDER BY c.sync_seq",
                5, ct_host->request_user_id (req), list, lo, hi, with_text ? "true" : "false");
        if (!res)
                return NULL;
        GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_card_free);
        for (int i = 0; i < ct_host->result_n_rows (res); i++) {
                CtCard *c = g_new0 (CtCard, 1);
                c->name = g_strdup (ct_host->result_value (res, i, 0));
                c->id = g_strdup (ct_host->result_value (res, i, 1));
                c->etag = g_strdup_printf ("\"%s\"", ct_host->result_value (res, i, 2));
                c->length = g_ascii_strtoll (ct_host->result_value (res, i, 3), NULL, 10);
                c->modified = g_ascii_strtoll (ct_host->result_value (res, i, 4), NULL, 10);
                c->created = g_ascii_strtoll (ct_host->result_value (res, i, 5), NULL, 10);
                c->fn = g_strdup (ct_host->result_value (res, i, 6));
                c->emails = json_strv (ct_host->result_value (res, i, 7));
                c->uid = g_strdup (ct_host->result_value (res, i, 8));
                if (with_text)
                        c->text = g_strdup (ct_host->result_value (res, i, 9));
                g_ptr_array_add (out, c);
        }
        return out;
}

GStrv
ct_book_gone (AtriumRequest *req, gint64 since, gint64 upto, GError **error)
{
        g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, since);
        g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, upto);
        g_autoptr (AtriumResult) res =
                ct_sql (req, error,
                        "SELECT t.name FROM contacts.tombstones t WHERE t.owner_id = $1::uuid "
                        "AND t.sync_seq > $2::bigint AND t.sync_seq <= $3::bigint "
                        "ORDER BY t.sync_seq",
                        3, ct_host->request_user_id (req), lo, hi);
        if (!res)
                return NULL;
        g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
        for (int i = 0; i < ct_host->result_n_rows (res); i++)
                g_strv_builder_add (b, ct_host->result_value (res, i, 0));
        return g_strv_builder_end (b);
}

/* If-Match and If-None-Match against the current ETag (NULL: no card). */
static gboolean
preconditions (AtriumRequest *req, const char *etag, GError **error)
{
        const char *im = ct_host->request_header (req, "If-Match");
        const char *inm = ct_host->request_header (req, "If-None-Match");
        if (im && (!etag || !ct_etag_listed (im, etag)))
                return ct_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                "If-Match: the card has changed or is gone (ETag now %s)",
                                etag ? etag : "none");
        if (inm && etag && ct_etag_listed (inm, etag))
                return ct_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                "If-None-Match: the card exists");
        return TRUE;
}

/* The body of a PUT, at most CONTACTS_VCARD_MAX_BYTES; *@out_refused: answered already (a
 * CardDAV precondition). */
static gboolean
read_body (AtriumRequest *req, char **out, gsize *out_len, gboolean *out_refused, GError **error)
{
        const char *ct = ct_host->request_header (req, "Content-Type");
        if (ct) {
                g_autofree char *base = g_ascii_strdown (ct, strcspn (ct, ";"));
                g_strstrip (base);
                static const char *const ok[] = {"text/vcard", "text/x-vcard", "text/directory",
                                                 "application/octet-stream", NULL};
                if (!g_strv_contains (ok, base)) {
                        /* RFC 6352 6.3.2.1 supported-address-data */
                        ct_respond_condition (req, 415, CARDDAV_NS, "supported-address-data");
                        *out_refused = TRUE;
                        return TRUE;
                }
        }
        const char *cl = ct_host->request_header (req, "Content-Length");
        if (cl && g_ascii_strtoull (cl, NULL, 10) > CONTACTS_VCARD_MAX_BYTES) {
                ct_respond_condition (req, 413, CARDDAV_NS, "max-resource-size");
                *out_refused = TRUE;
                return TRUE;
        }
        GInputStream *in = ct_host->request_body_stream (req);
        g_autoptr (GByteArray) buf = g_byte_array_new ();
        guint8 chunk[16384];
        gssize n;
        while ((n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error)) > 0) {
                if (buf->len + (gsize) n > CONTACTS_VCARD_MAX_BYTES) {
                        ct_respond_condition (req, 413, CARDDAV_NS, "max-resource-size");
                        *out_refused = TRUE;
                        return TRUE;
                }
                g_byte_array_append (buf, chunk, (guint) n);
        }
        if (n < 0) {
                g_autoptr (GError) io = g_steal_pointer (error);
                return ct_fail (error, ATRIUM_ERROR_INVALID, "reading the card: %s", io->message);
        }
        *out_len = buf->len;
        g_byte_array_append (buf, (const guint8 *) "", 1);
        *out = (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
        return TRUE;
}

gboolean
ct_book_put (AtriumRequest *req, const CtPlace *p, gboolean *out_created, char **out_etag,
             GError **error)
{
        g_autofree char *text = NULL;
        gsize len = 0;
        gboolean refused = FALSE;
        if (!read_body (req, &text, &len, &refused, error))
                return FALSE;
        if (refused)
                return TRUE;
        g_autoptr (GError) bad = NULL;
        g_autoptr (ContactsVcard) card = contacts_vcard_parse (text, len, &bad);
        if (!card) {
                /* RFC 6352 6.3.2.1 valid-address-data; the reason goes to the log of the
                 * request only through the status, so say it in a header too */
                ct_host->response_header (req, "X-Atrium-Reason", bad->message);
                ct_respond_condition (req, 400, CARDDAV_NS, "valid-address-data");
                return TRUE;
        }
        const char *me = ct_host->request_user_id (req);
        /* The book row is made on the first write and locked: one writer per book. */
        if (!atrium_done (ct_host,
                          ct_sql (req, error,
                                  "INSERT INTO contacts.books (school_id, owner_id) "
                                  "VALUES (core.current_school(), $1::uuid) ON CONFLICT DO NOTHING",
                                  1, me)) ||
            !atrium_done (ct_host, ct_sql (req, error,
                                           "SELECT 1 FROM contacts.books WHERE owner_id = "
                                           "$1::uuid FOR UPDATE",
                                           1, me)))
                return FALSE;
        g_autoptr (AtriumResult) res =
                ct_sql (req, error,
                        "SELECT c.id, c.uid, md5(c.vcard) FROM contacts.cards c "
                        "WHERE c.owner_id = $1::uuid AND c.name = $2",
                        2, me, p->card);
        if (!res)
                return FALSE;
        gboolean exists = ct_host->result_n_rows (res) == 1;
        g_autofree char *id = exists ? g_strdup (ct_host->result_value (res, 0, 0)) : NULL;
        g_autofree char *uid = exists ? g_strdup (ct_host->result_value (res, 0, 1)) : NULL;
        g_autofree char *etag =
                exists ? g_strdup_printf ("\"%s\"", ct_host->result_value (res, 0, 2)) : NULL;
        if (!preconditions (req, etag, error))
                return FALSE;
        if (exists && !g_str_equal (uid, card->uid)) {
                ct_respond_condition (req, 409, CARDDAV_NS, "no-uid-conflict");
                return TRUE;
        }
        g_ptr_array_add (card->emails, NULL);
        g_autoptr (JsonArray) arr = json_array_new ();
        for (guint i = 0; card->emails->pdata[i]; i++)
                json_array_add_string_element (arr, card->emails->pdata[i]);
        g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), arr);
        g_autofree char *emails = json_to_string (node, FALSE);
        g_autoptr (AtriumResult) w = NULL;
        if (exists)
                w = ct_sql (req, error,
                            "UPDATE contacts.cards SET fn = $2, vcard = $3, "
                            "emails = ARRAY(SELECT json_array_elements_text($4::json)), "
                            "updated_at = now() WHERE owner_id = $5::uuid AND id = $1::uuid "
                            "RETURNING id",
                            5, id, card->fn, text, emails, me);
        else
                w = ct_sql (req, error,
                            "INSERT INTO contacts.cards (school_id, owner_id, name, uid, fn, "
                            "emails, vcard) SELECT core.current_school(), $1::uuid, $2, $3, $4, "
                            "ARRAY(SELECT json_array_elements_text($5::json)), $6 "
                            "WHERE NOT EXISTS (SELECT 1 FROM contacts.cards x "
                            "WHERE x.owner_id = $1::uuid AND x.uid = $3) RETURNING id",
                            6, me, p->card, card->uid, card->fn, emails, text);
        if (!w)
                return FALSE;
        if (ct_host->result_n_rows (w) == 0) { /* another card of the book has this UID */
                ct_respond_condition (req, 409, CARDDAV_NS, "no-uid-conflict");
                return TRUE;
        }
        g_autofree char *md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, (guchar *) text, len);
        *out_created = !exists;
        *out_etag = g_strdup_printf ("\"%s\"", md5);
        return TRUE;
}

gboolean
ct_book_remove (AtriumRequest *req, const CtPlace *p, GError **error)
{
        const char *me = ct_host->request_user_id (req);
        g_autoptr (AtriumResult) res =
                ct_sql (req, error,
                        "SELECT c.id, md5(c.vcard) FROM contacts.cards c "
                        "WHERE c.owner_id = $1::uuid AND c.name = $2 FOR UPDATE",
                        2, me, p->card);
        if (!res)
                return FALSE;
        if (ct_host->result_n_rows (res) != 1)
                return ct_fail (error, ATRIUM_ERROR_NOT_FOUND, "no card %s", p->card);
        g_autofree char *etag = g_strdup_printf ("\"%s\"", ct_host->result_value (res, 0, 1));
        return preconditions (req, etag, error) &&
               atrium_done (ct_host, ct_sql (req, error,
                                             "DELETE FROM contacts.cards WHERE owner_id = "
                                             "$1::uuid AND id = $2::uuid",
                                             2, me, ct_host->result_value (res, 0, 0)));
}
