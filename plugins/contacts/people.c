/* SPDX-License-Identifier: Apache-2.0 */
/* people.c - the read-only "people" address book: one vCard per person the caller may see,
 * made from core.users and the groups service at request time (nothing is cached, so a change
 * of a name, a role or a membership shows on the next request).
 *
 * Who is in it (plugins/contacts/README.md): the caller; the members and owners of every group
 * the caller belongs to (the groups plugin's rule: a member sees their groups' members); the
 * school's teachers and staff; a parent's own children (core.parent_links). Nobody else: a
 * pupil or a parent never finds a pupil outside their groups. Holding groups.read (seeing
 * every group) does not widen the book: it is the people one works with, not a directory.
 *
 * Each card: UID and the resource name from the person's id (stable across renames), FN the
 * display name, N split at the last space (family name last, as the names are written in the
 * school's lists), CATEGORIES their roles, and EMAIL their school address
 * (username@<domain>, as the mail plugin names mailboxes) where the school has the mail module
 * and a domain. The ETag is the MD5 of the card as 3.0; the book's getctag and sync token are
 * the MD5 over every name and ETag, so they change exactly when the content does. */
#include "contacts-private.h"

#include <string.h>

/* Every group the caller is in, and the members of each, as a JSON array of user ids. */
static char *
group_mates (AtriumRequest *req, GError **error)
{
        AtriumTx *tx = ct_host->request_tx (req);
        g_auto (GStrv) groups = ct_groups->groups_of (tx, ct_host->request_user_id (req), error);
        if (!groups)
                return NULL;
        g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr (JsonArray) arr = json_array_new ();
        for (char **g = groups; *g; g++) {
                g_auto (GStrv) members = ct_groups->members_of (tx, *g, error);
                if (!members)
                        return NULL;
                for (char **m = members; *m; m++)
                        if (g_hash_table_add (seen, g_strdup (*m)))
                                json_array_add_string_element (arr, *m);
        }
        g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), arr);
        return json_to_string (node, FALSE);
}

/* The school's mail domain where the mail module is enabled, else NULL (*@out stays NULL). The
 * mail plugin publishes no service for it; its settings table is read only when it exists. */
static gboolean
mail_domain (AtriumRequest *req, char **out, GError **error)
{
        g_autoptr (AtriumResult) has =
                ct_sql (req, error,
                        "SELECT to_regclass('mail.settings') IS NOT NULL AND EXISTS (SELECT 1 FROM "
                        "core.school_modules m WHERE m.school_id = core.current_school() "
                        "AND m.module = 'mail')",
                        0);
        if (!has)
                return FALSE;
        if (!g_str_equal (ct_host->result_value (has, 0, 0), "t"))
                return TRUE;
        g_autoptr (AtriumResult) res = ct_sql (
                req, error,
                "SELECT domain FROM mail.settings WHERE school_id = core.current_school()", 0);
        if (!res)
                return FALSE;
        if (ct_host->result_n_rows (res) == 1)
                *out = g_strdup (ct_host->result_value (res, 0, 0));
        return TRUE;
}

static char *
md5_hex (const char *text)
{
        return g_compute_checksum_for_string (G_CHECKSUM_MD5, text, -1);
}

/* One person's card, as vCard 3.0 (the people book's stored form). */
static CtCard *
person_card (const char *id, const char *username, const char *display, const char *roles,
             const char *domain)
{
        g_autoptr (ContactsVcard) v = contacts_vcard_new ("3.0", id, display);
        const char *space = strrchr (display, ' ');
        g_autofree char *given = space ? g_strndup (display, space - display) : g_strdup ("");
        g_autofree char *family_e = contacts_vcard_escape (space ? space + 1 : display);
        g_autofree char *given_e = contacts_vcard_escape (given);
        g_autofree char *n = g_strdup_printf ("%s;%s;;;", family_e, given_e);
        contacts_vcard_add_raw (v, "N", NULL, n);
        if (domain) {
                g_autofree char *mail = g_strdup_printf ("%s@%s", username, domain);
                contacts_vcard_add_text (v, "EMAIL", "TYPE=INTERNET,WORK", mail);
        }
        if (*roles)
                contacts_vcard_add_raw (v, "CATEGORIES", NULL, roles); /* [a-z,] only */
        /* No resource id: a read-only card keeps no dead properties (a PROPPATCH by one
         * caller would otherwise show to every other). */
        CtCard *c = g_new0 (CtCard, 1);
        c->name = g_strconcat (id, ".vcf", NULL);
        c->text = contacts_vcard_write (v, "3.0");
        g_autofree char *md5 = md5_hex (c->text);
        c->etag = g_strdup_printf ("\"%s\"", md5);
        c->length = strlen (c->text);
        c->uid = g_strdup (id);
        c->fn = g_strdup (display);
        g_ptr_array_add (v->emails, NULL);
        c->emails = g_strdupv ((char **) v->emails->pdata);
        return c;
}

GPtrArray *
ct_people (AtriumRequest *req, GError **error)
{
        g_autofree char *mates = group_mates (req, error);
        g_autofree char *domain = NULL;
        if (!mates || !mail_domain (req, &domain, error))
                return NULL;
        const char *me = ct_host->request_user_id (req);
        g_autoptr (AtriumResult) res =
                ct_sql (req, error,
                        "SELECT u.id, u.username, u.display_name, array_to_string(u.roles, ','), "
                        "extract(epoch FROM u.updated_at)::bigint, "
                        "extract(epoch FROM u.created_at)::bigint FROM core.users u "
                        "WHERE u.id = $2::uuid OR u.roles && ARRAY['teacher','staff']::text[] "
                        "OR u.id IN (SELECT json_array_elements_text($1::json)::uuid) "
                        "OR u.id IN (SELECT l.student_id FROM core.parent_links l "
                        "WHERE l.parent_id = $2::uuid) ORDER BY u.id",
                        2, mates, me);
        if (!res)
                return NULL;
        GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_card_free);
        for (int i = 0; i < ct_host->result_n_rows (res); i++) {
                CtCard *c = person_card (ct_host->result_value (res, i, 0),
                                         ct_host->result_value (res, i, 1),
                                         ct_host->result_value (res, i, 2),
                                         ct_host->result_value (res, i, 3), domain);
                c->modified = g_ascii_strtoll (ct_host->result_value (res, i, 4), NULL, 10);
                c->created = g_ascii_strtoll (ct_host->result_value (res, i, 5), NULL, 10);
                g_ptr_array_add (out, c);
        }
        return out;
}

char *
ct_people_tag (GPtrArray *cards)
{
        g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_MD5);
        for (guint i = 0; i < cards->len; i++) {
                const CtCard *c = cards->pdata[i];
                g_checksum_update (sum, (const guchar *) c->name, -1);
                g_checksum_update (sum, (const guchar *) c->etag, -1);
        }
        return g_strdup (g_checksum_get_string (sum));
}
