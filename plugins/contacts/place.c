/* SPDX-License-Identifier: Apache-2.0 */
/* place.c - what the contacts tree (carddav.c) and its REPORTs (report.c) share: a DAV path
 * resolved for the caller (CtPlace), the vCard version a client asks for, one card as a
 * resource, and refusals that name a CardDAV precondition.
 *
 *   ""                             the root: the caller's home only
 *   "<username>"                   the caller's address book home (another person's: 404)
 *   "<username>/people"            the read-only book of the people the caller may see
 *   "<username>/personal"          the caller's own read-write book
 *   "<username>/<book>/<name>"     one card */
#include "contacts-private.h"

#include <string.h>

void
ct_place_clear (CtPlace *p)
{
        g_clear_pointer (&p->user, g_free);
        g_clear_pointer (&p->card, g_free);
}

void
ct_card_free (CtCard *c)
{
        if (!c)
                return;
        g_free (c->name);
        g_free (c->id);
        g_free (c->etag);
        g_free (c->text);
        g_free (c->uid);
        g_free (c->fn);
        g_strfreev (c->emails);
        g_free (c);
}

gboolean
ct_resolve (AtriumRequest *req, const char *path, CtPlace *out, GError **error)
{
        const char *me = ct_host->request_user_id (req);
        if (!me || !ct_host->request_has_permission (req, "contacts.read"))
                return ct_fail (error, ATRIUM_ERROR_FORBIDDEN,
                                "address books need the contacts.read right");
        g_autoptr (AtriumResult) res =
                ct_sql (req, error, "SELECT username FROM core.users WHERE id = $1::uuid", 1, me);
        if (!res)
                return FALSE;
        if (ct_host->result_n_rows (res) != 1)
                return ct_fail (error, ATRIUM_ERROR_FORBIDDEN, "no such user");
        out->user = g_strdup (ct_host->result_value (res, 0, 0));
        g_auto (GStrv) segs = *path ? g_strsplit (path, "/", -1) : g_new0 (char *, 1);
        guint n = g_strv_length (segs);
        out->depth = (CtDepth) MIN (n, 3);
        if (n > 3 || (n >= 1 && !g_str_equal (segs[0], out->user)))
                return ct_fail (error, ATRIUM_ERROR_NOT_FOUND, "no such address book home");
        if (n >= 2) {
                if (!g_str_equal (segs[1], CT_PEOPLE) && !g_str_equal (segs[1], CT_PERSONAL))
                        return ct_fail (error, ATRIUM_ERROR_NOT_FOUND, "no address book %s",
                                        segs[1]);
                out->people = g_str_equal (segs[1], CT_PEOPLE);
        }
        if (n == 3)
                out->card = g_strdup (segs[2]);
        return TRUE;
}

const char *
ct_version_asked (const char *content_type, const char *version, GError **error)
{
        if (content_type && g_ascii_strcasecmp (content_type, "text/vcard") != 0) {
                ct_fail (error, ATRIUM_ERROR_UNSUPPORTED_MEDIA, "address-data is text/vcard");
                return NULL;
        }
        if (!version)
                return NULL;
        if (g_str_equal (version, "3.0") || g_str_equal (version, "4.0"))
                return g_str_equal (version, "3.0") ? "3.0" : "4.0";
        ct_fail (error, ATRIUM_ERROR_UNSUPPORTED_MEDIA, "vCard 3.0 or 4.0, not %s", version);
        return NULL;
}

const char *
ct_version_accepted (const char *accept)
{
        if (!accept)
                return NULL;
        /* The first text/vcard range that names a version decides (RFC 6350 10.1). */
        g_auto (GStrv) ranges = g_strsplit (accept, ",", -1);
        for (char **r = ranges; *r; r++) {
                g_auto (GStrv) parts = g_strsplit (*r, ";", -1);
                if (g_ascii_strcasecmp (g_strstrip (parts[0]), "text/vcard") != 0)
                        continue;
                for (char **p = parts + 1; *p; p++) {
                        const char *v = g_strstrip (*p);
                        if (g_ascii_strcasecmp (v, "version=4.0") == 0 ||
                            g_ascii_strcasecmp (v, "version=\"4.0\"") == 0)
                                return "4.0";
                        if (g_ascii_strcasecmp (v, "version=3.0") == 0 ||
                            g_ascii_strcasecmp (v, "version=\"3.0\"") == 0)
                                return "3.0";
                }
        }
        return NULL;
}

char *
ct_card_text (const CtCard *c, const char *version, GError **error)
{
        g_autoptr (GError) bad = NULL;
        g_autoptr (ContactsVcard) card = contacts_vcard_parse (c->text, strlen (c->text), &bad);
        if (!card) { /* stored cards were parsed when written */
                ct_fail (error, ATRIUM_ERROR_INTERNAL, "stored card %s: %s", c->name, bad->message);
                return NULL;
        }
        if (!version || g_str_equal (version, card->version))
                return g_strdup (c->text);
        return contacts_vcard_write (card, version);
}

void
ct_emit_card (const CtCard *c, const char *prefix, const char *data, AtriumDavEmitFunc emit,
              gpointer emit_data)
{
        g_autofree char *full = prefix ? g_strconcat (prefix, c->name, NULL) : NULL;
        AtriumDavResource r = {
                ATRIUM_DAV_RESOURCE_INIT, .id = c->id,           .name = full ? full : c->name,
                .length = c->length,      .etag = c->etag,       .content_type = CT_VCARD_TYPE,
                .modified = c->modified,  .created = c->created, .data = data};
        emit (&r, emit_data);
}

void
ct_emit_gone (const char *path, AtriumDavEmitFunc emit, gpointer emit_data)
{
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = path, .gone = TRUE};
        emit (&r, emit_data);
}

void
ct_respond_condition (AtriumRequest *req, guint status, const char *ns, const char *condition)
{
        g_autofree char *x = g_markup_printf_escaped (
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\" "
                "xmlns:CR=\"%s\"><%s:%s/></D:error>\n",
                CARDDAV_NS, g_str_equal (ns, "DAV:") ? "D" : "CR", condition);
        g_autoptr (GBytes) body = g_bytes_new (x, strlen (x));
        ct_host->respond_bytes (req, status, "application/xml; charset=utf-8", body);
}

gboolean
ct_etag_listed (const char *header, const char *etag)
{
        g_auto (GStrv) tags = g_strsplit (header, ",", -1);
        for (char **t = tags; *t; t++) {
                const char *v = g_strstrip (*t);
                if (g_str_equal (v, "*") || g_str_equal (v, etag))
                        return TRUE;
        }
        return FALSE;
}
