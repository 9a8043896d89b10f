/* SPDX-License-Identifier: Apache-2.0 */
/* contacts-private.h - shared by the contacts plugin's files:
 *
 *   plugin.c    the wiring: descriptor, permissions, init, GDPR export
 *   place.c     a DAV path resolved for the caller (CtPlace), the version a client asks for
 *   people.c    the read-only "people" book: who the caller may see, as vCards
 *   book.c      the personal book: its cards in the database, PUT and DELETE
 *   carddav.c   the "contacts" DAV tree (stat, list, GET, PUT, DELETE)
 *   report.c    REPORT: addressbook-query, addressbook-multiget, sync-collection
 *   vcard.c     the vCard reader and writer (GLib only; the fuzz target links it alone)
 *
 * Every callback runs on a worker thread inside the request's transaction; nothing here keeps
 * state between requests. */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

#include "vcard.h"

extern const AtriumHost *ct_host;
extern AtriumPlugin *ct_self;

/* Days a deleted card's CardDAV tombstone is kept (prune.c). */
#define CT_TOMBSTONE_DAYS 90
extern const AtriumGroupsService *ct_groups;

#define ct_sql(...) atrium_request_queryv (ct_host, __VA_ARGS__)
#define ct_tx_sql(tx, error, ...) atrium_queryv (ct_host, (tx), (error), __VA_ARGS__)
#define ct_fail atrium_fail

#define CARDDAV_NS "urn:ietf:params:xml:ns:carddav"
#define CT_CS_NS "http://calendarserver.org/ns/"
#define CT_PEOPLE "people"
#define CT_PERSONAL "personal"
#define CT_VCARD_TYPE "text/vcard; charset=utf-8"

static inline void
ct_result_free (AtriumResult *res)
{
        if (res)
                ct_host->result_free (res);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumResult, ct_result_free)

/* Where a tree path points. */
typedef enum {
        CT_ROOT, /* "" */
        CT_HOME, /* "<username>" */
        CT_BOOK, /* "<username>/people" or "<username>/personal" */
        CT_CARD, /* "<username>/<book>/<name>.vcf" */
} CtDepth;

typedef struct {
        CtDepth depth;
        char *user;      /* the caller's username */
        gboolean people; /* the book is the read-only people book */
        char *card;      /* (nullable) the resource name in the book */
} CtPlace;

void ct_place_clear (CtPlace *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtPlace, ct_place_clear)

/* Resolves @path for the caller: NOT_FOUND for another person's home, an unknown book, or a
 * path deeper than a card. FORBIDDEN without contacts.read. */
gboolean ct_resolve (AtriumRequest *req, const char *path, CtPlace *out, GError **error);

/* One card as the tree serves it. */
typedef struct {
        char *name;   /* resource name, "<...>.vcf" */
        char *id;     /* stable id (dead properties key on it) */
        char *etag;   /* with quotes */
        char *text;   /* (nullable) the vCard as stored (personal) or made (people) */
        char *uid;    /* for addressbook-query */
        char *fn;     /* for addressbook-query */
        GStrv emails; /* for addressbook-query */
        gint64 length, modified, created;
} CtCard;

void ct_card_free (CtCard *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCard, ct_card_free)

/* The vCard version to answer with: "3.0" or "4.0"; NULL (and @error UNSUPPORTED_MEDIA) for a
 * media type or version we do not give. @content_type and @version are what the client named
 * (an address-data element's attributes), either nullable. */
const char *ct_version_asked (const char *content_type, const char *version, GError **error);
/* The same from a GET's Accept header (nullable: no preference, NULL returned). */
const char *ct_version_accepted (const char *accept);
/* @c's text as @version (NULL: as it is). Returns: (transfer full). */
char *ct_card_text (const CtCard *c, const char *version, GError **error);
/* Emits @c as a resource named @prefix + name, with @data as address-data (nullable). */
void ct_emit_card (const CtCard *c, const char *prefix, const char *data, AtriumDavEmitFunc emit,
                   gpointer emit_data);
/* Whether @etag (with quotes) or "*" is in @header, a list of entity tags (If-Match,
 * If-None-Match). */
gboolean ct_etag_listed (const char *header, const char *etag);
/* Emits a gone resource (404 in a REPORT). */
void ct_emit_gone (const char *path, AtriumDavEmitFunc emit, gpointer emit_data);

/* people.c: every person the caller may see, as CtCard* with text (vCard 3.0), by id. */
GPtrArray *ct_people (AtriumRequest *req, GError **error);
/* A tag that changes whenever the people book's content does: MD5 over names and ETags. */
char *ct_people_tag (GPtrArray *cards);

/* book.c: the caller's personal book. */
gboolean ct_book_seq (AtriumRequest *req, gint64 *out_seq, GError **error);
/* The book's sync_floor: tokens below it may have missed a pruned deletion (prune.c). */
gboolean ct_book_floor (AtriumRequest *req, gint64 *out_floor, GError **error);

/* prune.c: the `prune` command and the hourly timer. */
gboolean ct_register_prune (GError **error);
/* The cards named in @names (NULL: all), changed after @since (-1: any), with their text when
 * @with_text. Returns: (transfer full) CtCard*. */
GPtrArray *ct_book_cards (AtriumRequest *req, const char *const *names, gint64 since, gint64 upto,
                          gboolean with_text, GError **error);
/* Names of cards deleted in (@since, @upto]. Returns: (transfer full). */
GStrv ct_book_gone (AtriumRequest *req, gint64 since, gint64 upto, GError **error);
gboolean ct_book_put (AtriumRequest *req, const CtPlace *p, gboolean *out_created, char **out_etag,
                      GError **error);
gboolean ct_book_remove (AtriumRequest *req, const CtPlace *p, GError **error);

/* 403 (or @status) with a precondition element of @ns: the refusals CardDAV names. */
void ct_respond_condition (AtriumRequest *req, guint status, const char *ns, const char *condition);

gboolean ct_report (AtriumRequest *req, const char *path, const AtriumDavReport *r,
                    AtriumDavEmitFunc emit, gpointer emit_data, char **out_sync_token,
                    gpointer user_data, GError **error);
gboolean ct_register_tree (AtriumPlugin *self, GError **error);
