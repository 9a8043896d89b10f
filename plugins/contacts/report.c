/* SPDX-License-Identifier: Apache-2.0 */
/* report.c - REPORT on an address book (RFC 6352 8.6, 8.7; RFC 6578): the host parsed the body
 * into an AtriumDavReport and writes the multistatus; this answers which cards it names, with
 * their address-data in the version asked for.
 *
 * addressbook-query takes one prop-filter with one text-match on FN, EMAIL or UID (the host
 * refuses more with 403 supported-filter), matched here on the indexed fields with Unicode case
 * folding (i;unicode-casemap, and i;ascii-casemap as its subset) and the four match-types.
 *
 * sync-collection: the personal book's token is "urn:atrium:contacts:personal:<n>", n the
 * book's change counter (schema/0001); the changes since n are the cards written with a higher
 * number and the tombstones of those deleted since. The people book is made at request time
 * and keeps no history: its token is "urn:atrium:contacts:people:<tag>", the MD5 over its
 * names and ETags. The same token means no change; any other is refused with 403
 * valid-sync-token, on which clients (RFC 6578 3.2) sync afresh: correct, never stale, at the
 * cost of a full listing after a change of the people one sees. */
#include "contacts-private.h"

#include <string.h>

#define TOKEN_PEOPLE "urn:atrium:contacts:people:"
#define TOKEN_PERSONAL "urn:atrium:contacts:personal:"

/* Whether @value matches @text as @type says, both case-folded. */
static gboolean
matches (const char *value, const char *text, const char *type)
{
        if (!value)
                return FALSE;
        g_autofree char *v = g_utf8_casefold (value, -1);
        g_autofree char *t = g_utf8_casefold (text, -1);
        if (!type || g_str_equal (type, "contains"))
                return strstr (v, t) != NULL;
        if (g_str_equal (type, "equals"))
                return g_str_equal (v, t);
        if (g_str_equal (type, "starts-with"))
                return g_str_has_prefix (v, t);
        return g_str_has_suffix (v, t);
}

static gboolean
card_matches (const CtCard *c, const char *prop, const char *text, const char *type)
{
        if (!prop)
                return TRUE;
        if (g_ascii_strcasecmp (prop, "FN") == 0)
                return matches (c->fn, text, type);
        if (g_ascii_strcasecmp (prop, "UID") == 0)
                return matches (c->uid, text, type);
        for (guint i = 0; c->emails && c->emails[i]; i++)
                if (matches (c->emails[i], text, type))
                        return TRUE;
        return FALSE;
}

/* The cards of the book: the people book's all (made with their text), the personal book's
 * those named in @names (NULL: all) changed in (@since, @upto]. */
static GPtrArray *
cards_of (AtriumRequest *req, const CtPlace *p, const char *const *names, gint64 since, gint64 upto,
          gboolean with_text, GError **error)
{
        if (!p->people)
                return ct_book_cards (req, names, since, upto, with_text, error);
        GPtrArray *all = ct_people (req, error);
        if (!all || !names)
                return all;
        GPtrArray *some = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_card_free);
        for (guint i = all->len; i > 0; i--) {
                CtCard *c = all->pdata[i - 1];
                if (g_strv_contains (names, c->name))
                        g_ptr_array_add (some, g_ptr_array_steal_index (all, i - 1));
        }
        g_ptr_array_unref (all);
        return some;
}

static gboolean
emit_cards (GPtrArray *cards, const char *prefix, const char *version, gboolean want_data,
            AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        for (guint i = 0; i < cards->len; i++) {
                const CtCard *c = cards->pdata[i];
                g_autofree char *data = want_data ? ct_card_text (c, version, error) : NULL;
                if (want_data && !data)
                        return FALSE;
                ct_emit_card (c, prefix, data, emit, emit_data);
        }
        return TRUE;
}

static gboolean
multiget (AtriumRequest *req, const CtPlace *p, const char *prefix, const AtriumDavReport *r,
          const char *version, AtriumDavEmitFunc emit, gpointer emit_data, GError **error)
{
        g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
        for (guint i = 0; r->paths && r->paths[i]; i++) {
                const char *path = r->paths[i];
                if (g_str_has_prefix (path, prefix) && !strchr (path + strlen (prefix), '/'))
                        g_strv_builder_add (b, path + strlen (prefix));
                else
                        ct_emit_gone (path, emit, emit_data);
        }
        g_auto (GStrv) wanted = g_strv_builder_end (b);
        g_autoptr (GPtrArray) cards =
                cards_of (req, p, (const char *const *) wanted, -1, -1, r->want_data, error);
        if (!cards || !emit_cards (cards, prefix, version, r->want_data, emit, emit_data, error))
                return FALSE;
        for (char **n = wanted; *n; n++) {
                gboolean found = FALSE;
                for (guint i = 0; !found && i < cards->len; i++)
                        found = g_str_equal (((CtCard *) cards->pdata[i])->name, *n);
                if (!found) {
                        g_autofree char *full = g_strconcat (prefix, *n, NULL);
                        ct_emit_gone (full, emit, emit_data);
                }
        }
        return TRUE;
}

static gboolean
sync_people (AtriumRequest *req, const CtPlace *p, const char *prefix, const AtriumDavReport *r,
             const char *version, AtriumDavEmitFunc emit, gpointer emit_data, char **out_token,
             GError **error)
{
        g_autoptr (GPtrArray) cards = ct_people (req, error);
        if (!cards)
                return FALSE;
        g_autofree char *tag = ct_people_tag (cards);
        g_autofree char *token = g_strconcat (TOKEN_PEOPLE, tag, NULL);
        if (r->sync_token && !g_str_equal (r->sync_token, token))
                return ct_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                "the people book changed since this token: sync afresh");
        if (!r->sync_token &&
            !emit_cards (cards, prefix, version, r->want_data, emit, emit_data, error))
                return FALSE;
        *out_token = g_steal_pointer (&token);
        return TRUE;
}

static gboolean
sync_personal (AtriumRequest *req, const CtPlace *p, const char *prefix, const AtriumDavReport *r,
               const char *version, AtriumDavEmitFunc emit, gpointer emit_data, char **out_token,
               GError **error)
{
        gint64 seq = 0, since = 0;
        if (!ct_book_seq (req, &seq, error))
                return FALSE;
        if (r->sync_token) {
                const char *n = r->sync_token + strlen (TOKEN_PERSONAL);
                char *end = NULL;
                if (!g_str_has_prefix (r->sync_token, TOKEN_PERSONAL) || !g_ascii_isdigit (*n) ||
                    (since = g_ascii_strtoll (n, &end, 10)) < 0 || *end || since > seq)
                        return ct_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                        "not a sync token of this address book");
                gint64 floor = 0;
                if (!ct_book_floor (req, &floor, error))
                        return FALSE;
                if (since < floor) /* it may have missed a pruned deletion */
                        return ct_fail (error, ATRIUM_ERROR_PRECONDITION_FAILED,
                                        "the sync token is older than the deletions kept (%d "
                                        "days): sync afresh",
                                        CT_TOMBSTONE_DAYS);
        }
        /* Changes up to the counter read above: one written since comes with the next sync. */
        g_autoptr (GPtrArray) cards = ct_book_cards (req, NULL, since, seq, r->want_data, error);
        if (!cards || !emit_cards (cards, prefix, version, r->want_data, emit, emit_data, error))
                return FALSE;
        if (r->sync_token) { /* an initial sync lists what exists, nothing gone */
                g_auto (GStrv) gone = ct_book_gone (req, since, seq, error);
                if (!gone)
                        return FALSE;
                for (char **g = gone; *g; g++) {
                        g_autofree char *full = g_strconcat (prefix, *g, NULL);
                        ct_emit_gone (full, emit, emit_data);
                }
        }
        *out_token = g_strdup_printf (TOKEN_PERSONAL "%" G_GINT64_FORMAT, seq);
        return TRUE;
}

gboolean
ct_report (AtriumRequest *req, const char *path, const AtriumDavReport *r, AtriumDavEmitFunc emit,
           gpointer emit_data, char **out_sync_token, gpointer user_data, GError **error)
{
        g_auto (CtPlace) p = {0};
        if (!ct_resolve (req, path, &p, error))
                return FALSE;
        if (p.depth != CT_BOOK)
                return ct_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                "REPORT is answered on an address book");
        /* The members appended to AtriumDavReport in 1.5 (a host of this build has them). */
        gboolean has_card_fields = r->header.struct_size >=
                                   G_STRUCT_OFFSET (AtriumDavReport, match_type) + sizeof (char *);
        GError *why = NULL;
        const char *version =
                has_card_fields ? ct_version_asked (r->data_content_type, r->data_version, &why)
                                : NULL;
        if (why) {
                g_propagate_error (error, why);
                return FALSE;
        }
        g_autofree char *prefix =
                g_strconcat (p.user, "/", p.people ? CT_PEOPLE : CT_PERSONAL, "/", NULL);
        switch ((int) r->kind) {
        case ATRIUM_DAV_REPORT_ADDRESSBOOK_QUERY: {
                const char *prop = r->text_match ? r->prop_name : NULL;
                if (prop && g_ascii_strcasecmp (prop, "FN") != 0 &&
                    g_ascii_strcasecmp (prop, "EMAIL") != 0 &&
                    g_ascii_strcasecmp (prop, "UID") != 0)
                        return ct_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                        "a prop-filter is answered for FN, EMAIL and UID only");
                g_autoptr (GPtrArray) cards = cards_of (req, &p, NULL, -1, -1, r->want_data, error);
                if (!cards)
                        return FALSE;
                for (guint i = cards->len; i > 0; i--)
                        if (!card_matches (cards->pdata[i - 1], prop, r->text_match,
                                           has_card_fields ? r->match_type : NULL))
                                g_ptr_array_remove_index (cards, i - 1);
                return emit_cards (cards, prefix, version, r->want_data, emit, emit_data, error);
        }
        case ATRIUM_DAV_REPORT_ADDRESSBOOK_MULTIGET:
                return multiget (req, &p, prefix, r, version, emit, emit_data, error);
        case ATRIUM_DAV_REPORT_SYNC_COLLECTION:
                return p.people ? sync_people (req, &p, prefix, r, version, emit, emit_data,
                                               out_sync_token, error)
                                : sync_personal (req, &p, prefix, r, version, emit, emit_data,
                                                 out_sync_token, error);
        default:
                return ct_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                "an address book answers the CardDAV reports and sync-collection");
        }
}
