/* SPDX-License-Identifier: Apache-2.0 */
/* carddav.c - the address books over CardDAV (RFC 6352; issue #19): the "contacts" tree of the
 * host's DAV layer (core/dav/README.md), which owns the protocol, the XML and the sign-in.
 * This file maps DAV paths (place.c) onto the two books: "people" (people.c, read-only, made
 * at request time) and "personal" (book.c, the caller's own cards).
 *
 * Writes to the people book answer 403 with DAV:need-privileges, and its
 * current-user-privilege-set says read only beforehand. GET serves a card as the version the
 * Accept header asks for (text/vcard; version=4.0), else as stored (personal: as the client
 * sent it; people: 3.0). REPORT is in report.c. */
#include "contacts-private.h"

#include <string.h>

#define PRIV_READ                                                                                  \
        "<D:current-user-privilege-set xmlns:D=\"DAV:\"><D:privilege><D:read/></D:privilege>"      \
        "</D:current-user-privilege-set>"
#define PRIV_WRITE                                                                                 \
        "<D:current-user-privilege-set xmlns:D=\"DAV:\"><D:privilege><D:read/></D:privilege>"      \
        "<D:privilege><D:write/></D:privilege><D:privilege><D:write-content/></D:privilege>"       \
        "<D:privilege><D:bind/></D:privilege><D:privilege><D:unbind/></D:privilege>"               \
        "</D:current-user-privilege-set>"

static void
emit_collection (const char *name, AtriumDavEmitFunc emit, gpointer emit_data)
{
        static const AtriumDavProp props[] = {
                {"DAV:", "current-user-privilege-set", NULL, PRIV_READ},
        };
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = name,
                               .collection = TRUE,       .display_name = name,
                               .props = props,           .n_props = G_N_ELEMENTS (props)};
        emit (&r, emit_data);
}

/* An address book collection: RFC 6352 6.1, 6.2 and what Apple and DAVx5 read besides. */
static gboolean
emit_book (AtriumRequest *req, const CtPlace *p, AtriumDavEmitFunc emit, gpointer emit_data,
           GError **error)
{
        g_autofree char *tag = NULL;
        if (p->people) {
                g_autoptr (GPtrArray) cards = ct_people (req, error);
                if (!cards)
                        return FALSE;
                tag = ct_people_tag (cards);
        } else {
                gint64 seq = 0;
                if (!ct_book_seq (req, &seq, error))
                        return FALSE;
                tag = g_strdup_printf ("%" G_GINT64_FORMAT, seq);
        }
        const char *book = p->people ? CT_PEOPLE : CT_PERSONAL;
        g_autofree char *token = g_strdup_printf ("urn:atrium:contacts:%s:%s", book, tag);
        /* Dead properties key on the id: the personal book's is its owner's; the people book
         * keeps none (it is read-only). */
        g_autofree char *id =
                p->people ? NULL : g_strconcat ("personal:", ct_host->request_user_id (req), NULL);
        const AtriumDavProp props[] = {
                {"DAV:", "resourcetype", NULL,
                 "<D:resourcetype xmlns:D=\"DAV:\"><D:collection/>"
                 "<CR:addressbook xmlns:CR=\"" CARDDAV_NS "\"/></D:resourcetype>"},
                {CARDDAV_NS, "supported-address-data", NULL,
                 "<CR:supported-address-data xmlns:CR=\"" CARDDAV_NS "\">"
                 "<CR:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>"
                 "<CR:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
                 "</CR:supported-address-data>"},
                {CARDDAV_NS, "max-resource-size", G_STRINGIFY (CONTACTS_VCARD_MAX_BYTES) "", NULL},
                {CARDDAV_NS, "addressbook-description",
                 p->people ? "The people of your school you may see (read-only)"
                           : "Your own contacts",
                 NULL},
                {CT_CS_NS, "getctag", tag, NULL},
                {"DAV:", "sync-token", token, NULL},
                {"DAV:", "current-user-privilege-set", NULL, p->people ? PRIV_READ : PRIV_WRITE},
        };
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT,
                               .id = id,
                               .name = book,
                               .collection = TRUE,
                               .display_name = p->people ? "People" : "Personal",
                               .props = props,
                               .n_props = G_N_ELEMENTS (props)};
        emit (&r, emit_data);
        return TRUE;
}

/* The card @p names, or NULL with NOT_FOUND. */
static CtCard *
find_card (AtriumRequest *req, const CtPlace *p, gboolean with_text, GError **error)
{
        g_autoptr (GPtrArray) cards = NULL;
        if (p->people) {
                cards = ct_people (req, error);
        } else {
                const char *names[] = {p->card, NULL};
                cards = ct_book_cards (req, names, -1, -1, with_text, error);
        }
        if (!cards)
                return NULL;
        for (guint i = 0; i < cards->len; i++)
                if (g_str_equal (((CtCard *) cards->pdata[i])->name, p->card))
                        return g_ptr_array_steal_index (cards, i);
        ct_fail (error, ATRIUM_ERROR_NOT_FOUND, "no card %s", p->card);
        return NULL;
}

static gboolean
dav_stat (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
          gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        switch (p.depth) {
        case CT_ROOT:
                emit_collection (NULL, emit, emit_data);
                return TRUE;
        case CT_HOME:
                emit_collection (p.user, emit, emit_data);
                return TRUE;
        case CT_BOOK:
                return emit_book (req, &p, emit, emit_data, error);
        case CT_CARD:
                break;
        }
        g_autoptr (CtCard) c = find_card (req, &p, FALSE, error);
        if (!c)
                return FALSE;
        ct_emit_card (c, NULL, NULL, emit, emit_data);
        return TRUE;
}

static gboolean
dav_list (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
          gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        switch (p.depth) {
        case CT_ROOT:
                emit_collection (p.user, emit, emit_data);
                return TRUE;
        case CT_HOME:
                p.people = TRUE;
                if (!emit_book (req, &p, emit, emit_data, error))
                        return FALSE;
                p.people = FALSE;
                return emit_book (req, &p, emit, emit_data, error);
        case CT_CARD:
                return ct_fail (error, ATRIUM_ERROR_NOT_FOUND, "a card has no members");
        case CT_BOOK:
                break;
        }
        g_autoptr (GPtrArray) cards =
                p.people ? ct_people (req, error) : ct_book_cards (req, NULL, -1, -1, FALSE, error);
        if (!cards)
                return FALSE;
        for (guint i = 0; i < cards->len; i++)
                ct_emit_card (cards->pdata[i], NULL, NULL, emit, emit_data);
        return TRUE;
}

static gboolean
dav_get (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        if (p.depth != CT_CARD)
                return ct_fail (error, ATRIUM_ERROR_METHOD_NOT_ALLOWED, "a collection");
        g_autoptr (CtCard) c = find_card (req, &p, TRUE, error);
        if (!c)
                return FALSE;
        const char *version = ct_version_accepted (ct_host->request_header (req, "Accept"));
        g_autofree char *text = ct_card_text (c, version, error);
        if (!text)
                return FALSE;
        /* The ETag names the stored card; another version of it is made from it alone. */
        ct_host->response_header (req, "ETag", c->etag);
        const char *inm = ct_host->request_header (req, "If-None-Match");
        if (inm && ct_etag_listed (inm, c->etag)) {
                ct_host->respond_bytes (req, 304, NULL, NULL);
                return TRUE;
        }
        g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));
        ct_host->respond_bytes (req, 200, CT_VCARD_TYPE, body);
        return TRUE;
}

/* 403 DAV:need-privileges: the people book is read-only (RFC 3744 7.1.1). */
static gboolean
refuse_read_only (AtriumRequest *req)
{
        ct_respond_condition (req, 403, "DAV:", "need-privileges");
        return TRUE;
}

static gboolean
dav_put (AtriumRequest *req, const char *path, gboolean *out_created, AtriumDavEmitFunc emit,
         gpointer emit_data, gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        if (p.depth >= CT_BOOK && p.people)
                return refuse_read_only (req);
        if (p.depth != CT_CARD)
                return ct_fail (error,
                                p.depth == CT_BOOK ? ATRIUM_ERROR_METHOD_NOT_ALLOWED
                                                   : ATRIUM_ERROR_CONFLICT,
                                "PUT a card into an address book: <book>/<name>.vcf");
        g_autofree char *etag = NULL;
        if (!ct_book_put (req, &p, out_created, &etag, error))
                return FALSE;
        if (etag) {
                AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = p.card, .etag = etag};
                emit (&r, emit_data);
        }
        return TRUE;
}

static gboolean
dav_remove (AtriumRequest *req, const char *path, gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        if (p.depth >= CT_BOOK && p.people)
                return refuse_read_only (req);
        if (p.depth != CT_CARD)
                return ct_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                "the address book home and its books stay");
        return ct_book_remove (req, &p, error);
}

gboolean
ct_register_tree (AtriumPlugin *self, GError **error)
{
        const AtriumDavTree tree = {
                ATRIUM_DAV_TREE_INIT, .mount = "contacts",
                .stat = dav_stat,     .list = dav_list,
                .get = dav_get,       .put = dav_put,
                .remove = dav_remove, .dav_classes = "addressbook",
                .report = ct_report,
        };
        return ct_host->add_dav_tree (self, &tree, error);
}
