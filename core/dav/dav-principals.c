/* SPDX-License-Identifier: Apache-2.0 */
/* dav-principals.c - where a calendar or address book client finds its way in (RFC 6764,
 * RFC 5397, RFC 4791 6, RFC 6352 7).
 *
 * The chain real clients follow: /.well-known/caldav (or carddav) redirects to /dav/; a
 * PROPFIND there names the caller's principal, /dav/{school}/principals/{username}/; the
 * principal names the homes, calendar-home-set (/dav/{school}/calendars/{username}/, the
 * calendar plugin's tree) and addressbook-home-set (/dav/{school}/contacts/{username}/), and,
 * where the school has mail, calendar-user-address-set (mailto: the school address).
 *
 * /dav/ has no school in its path, so it cannot sign the caller in (a password is checked
 * against one school's account): it only reads the user name of the Basic header,
 * "username@school", and answers with the principal that name would have. It reveals nothing
 * the client did not send; the principal itself is behind the usual sign-in. Without a
 * "@school" user name it asks for credentials (401).
 *
 * The principals tree is the core's own (no plugin owns it, no module gates it): it shows the
 * caller their own principal only.
 *
 * /dav/{school}/ is where a person who types the school's address into a file manager lands:
 * signed in like every tree, it lists the trees the school has (files/, calendars/, ... of
 * the modules it enabled, and principals/), through the same PROPFIND as any tree (a tree of
 * its own, built per request, that has no resources but these). */
#include "dav-private.h"
#include "identity-private.h"
#include "plugin-host-private.h"

#include <string.h>

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"
#define CARDDAV_NS "urn:ietf:params:xml:ns:carddav"

static gboolean
mounted (AtriumRequest *req, const char *mount)
{
        GPtrArray *mounts = req->core->dav_mounts;
        for (guint i = 0; mounts && i < mounts->len; i++) {
                const AtriumDavMount *m = mounts->pdata[i];
                if (g_str_equal (m->mount, mount) &&
                    (!m->owner || m->owner->state == ATRIUM_PLUGIN_RUNNING))
                        return TRUE;
        }
        return FALSE;
}

/* The caller's user name and display name; NOT_FOUND for an operator. */
static gboolean
caller (AtriumRequest *req, char **out_name, char **out_display, GError **error)
{
        if (!atrium_request_user_id (req)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "only the people of a school have a principal");
                return FALSE;
        }
        const char *p[1] = {req->user_id};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx, "SELECT username, display_name FROM core.users WHERE id = $1::uuid", 1, p,
                error);
        if (!res)
                return FALSE;
        if (atrium_result_n_rows (res) != 1) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no such user");
                return FALSE;
        }
        *out_name = g_strdup (atrium_result_value (res, 0, 0));
        *out_display = g_strdup (atrium_result_value (res, 0, 1));
        return TRUE;
}

static char *
href_xml (const char *ns, const char *name, const char *href)
{
        return g_markup_printf_escaped ("<%s xmlns=\"%s\"><href xmlns=\"DAV:\">%s</href></%s>",
                                        name, ns, href, name);
}

static void
emit_principal (AtriumRequest *req, const char *user, const char *display, const char *mail,
                AtriumDavEmitFunc emit, gpointer emit_data)
{
        g_autofree char *school = g_uri_escape_string (req->school_slug, NULL, FALSE);
        g_autofree char *self = g_strdup_printf ("/dav/%s/principals/%s/", school, user);
        g_autofree char *cal = g_strdup_printf ("/dav/%s/calendars/%s/", school, user);
        g_autofree char *card = g_strdup_printf ("/dav/%s/contacts/%s/", school, user);
        g_autofree char *url = href_xml (ATRIUM_DAV_NS, "principal-URL", self);
        g_autofree char *cal_home = href_xml (CALDAV_NS, "calendar-home-set", cal);
        g_autofree char *card_home = href_xml (CARDDAV_NS, "addressbook-home-set", card);
        g_autofree char *mailto = mail ? g_strconcat ("mailto:", mail, NULL) : NULL;
        g_autofree char *addresses =
                mailto ? href_xml (CALDAV_NS, "calendar-user-address-set", mailto) : NULL;
        AtriumDavProp props[6] = {
                {ATRIUM_DAV_NS, "resourcetype", NULL,
                 "<D:resourcetype xmlns:D=\"DAV:\"><D:collection/><D:principal/>"
                 "</D:resourcetype>"},
                {ATRIUM_DAV_NS, "principal-URL", NULL, url},
        };
        guint n = 2;
        if (mounted (req, "calendars"))
                props[n++] = (AtriumDavProp) {CALDAV_NS, "calendar-home-set", NULL, cal_home};
        if (mounted (req, "contacts"))
                props[n++] = (AtriumDavProp) {CARDDAV_NS, "addressbook-home-set", NULL, card_home};
        if (addresses)
                props[n++] =
                        (AtriumDavProp) {CALDAV_NS, "calendar-user-address-set", NULL, addresses};
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = user,   .collection = TRUE,
                               .display_name = display,  .props = props, .n_props = n};
        emit (&r, emit_data);
}

static gboolean
p_stat (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
        gpointer user_data, GError **error)
{
        (void) user_data;
        g_autofree char *user = NULL, *display = NULL;
        if (!caller (req, &user, &display, error))
                return FALSE;
        if (!*path) {
                AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .collection = TRUE};
                emit (&r, emit_data);
                return TRUE;
        }
        if (!g_str_equal (path, user)) { /* others' principals are not listed */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no such principal");
                return FALSE;
        }
        g_autofree char *mail = NULL;
        if (!atrium_school_mail_address (req, user, &mail, error))
                return FALSE;
        emit_principal (req, user, display, mail, emit, emit_data);
        return TRUE;
}

static gboolean
p_list (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
        gpointer user_data, GError **error)
{
        (void) user_data;
        g_autofree char *user = NULL, *display = NULL;
        if (!caller (req, &user, &display, error))
                return FALSE;
        if (*path) {
                if (!g_str_equal (path, user)) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                     "no such principal");
                        return FALSE;
                }
                return TRUE; /* a principal has no members */
        }
        g_autofree char *mail = NULL;
        if (!atrium_school_mail_address (req, user, &mail, error))
                return FALSE;
        emit_principal (req, user, display, mail, emit, emit_data);
        return TRUE;
}

void
atrium_dav_principals_init (AtriumCore *core)
{
        AtriumDavMount *m = g_new0 (AtriumDavMount, 1);
        m->mount = g_strdup ("principals");
        m->tree = (AtriumDavTree) {ATRIUM_DAV_TREE_INIT, .mount = m->mount, .stat = p_stat,
                                   .list = p_list};
        g_ptr_array_add (core->dav_mounts, m);
}

/* ---- /dav/{school}/ ---- */

static gboolean
school_stat (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
             gpointer user_data, GError **error)
{
        (void) user_data;
        if (*path) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no such resource");
                return FALSE;
        }
        AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .collection = TRUE,
                               .display_name = req->school_slug};
        emit (&r, emit_data);
        return TRUE;
}

/* The trees that are running and whose module the school enabled; the core's own trees
 * (principals) always. */
static gboolean
school_list (AtriumRequest *req, const char *path, AtriumDavEmitFunc emit, gpointer emit_data,
             gpointer user_data, GError **error)
{
        (void) user_data;
        (void) path;
        g_autoptr (AtriumResult) res =
                atrium_tx_query (req->tx, "SELECT module FROM core.school_modules", 0, NULL, error);
        if (!res)
                return FALSE;
        g_autoptr (GHashTable) enabled = g_hash_table_new (g_str_hash, g_str_equal);
        for (int i = 0; i < atrium_result_n_rows (res); i++)
                g_hash_table_add (enabled, (gpointer) atrium_result_value (res, i, 0));
        GPtrArray *mounts = req->core->dav_mounts;
        for (guint i = 0; mounts && i < mounts->len; i++) {
                const AtriumDavMount *m = mounts->pdata[i];
                if (m->owner && (m->owner->state != ATRIUM_PLUGIN_RUNNING ||
                                 !g_hash_table_contains (enabled, m->owner->desc.name)))
                        continue;
                AtriumDavResource r = {ATRIUM_DAV_RESOURCE_INIT, .name = m->mount,
                                       .collection = TRUE, .display_name = m->mount};
                emit (&r, emit_data);
        }
        return TRUE;
}

static gboolean
school_root (AtriumRequest *req, gpointer data, GError **error)
{
        (void) data;
        if (g_str_equal (req->method, "OPTIONS")) {
                atrium_request_add_header (req, "DAV", "1, 2, calendar-access, addressbook");
                atrium_request_add_header (req, "MS-Author-Via", "DAV");
                atrium_request_add_header (req, "Allow", "OPTIONS, PROPFIND");
                atrium_request_respond_bytes (req, 200, NULL, NULL);
                return TRUE;
        }
        const char *depth = g_hash_table_lookup (req->headers, "depth");
        if (!depth || g_ascii_strcasecmp (depth, "infinity") == 0) {
                atrium_dav_respond_condition (req, 403, ATRIUM_DAV_NS, "propfind-finite-depth");
                return TRUE;
        }
        if (!g_str_equal (depth, "0") && !g_str_equal (depth, "1")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "Depth is 0 or 1");
                return FALSE;
        }
        const AtriumDavMount root = {
                .mount = (char *) "",
                .tree = {ATRIUM_DAV_TREE_INIT, .mount = "", .stat = school_stat,
                         .list = school_list},
        };
        g_autofree char *school = g_uri_escape_string (req->school_slug, NULL, FALSE);
        g_autofree char *href = g_strdup_printf ("/dav/%s/", school);
        return atrium_dav_propfind (req, &root, "", href, error);
}

/* ---- discovery ---- */

static gboolean
well_known (AtriumRequest *req, gpointer data, GError **error)
{
        (void) data;
        (void) error;
        atrium_request_add_header (req, "Location", "/dav/");
        atrium_request_respond_bytes (req, 301, NULL, NULL);
        return TRUE;
}

/* PROPFIND /dav/: current-user-principal from the Basic user name "username@school". */
static gboolean
root (AtriumRequest *req, gpointer data, GError **error)
{
        (void) data;
        if (g_str_equal (req->method, "OPTIONS")) {
                atrium_request_add_header (req, "DAV", "1, 2, calendar-access, addressbook");
                atrium_request_add_header (req, "Allow", "OPTIONS, PROPFIND");
                atrium_request_respond_bytes (req, 200, NULL, NULL);
                return TRUE;
        }
        g_autofree char *user = atrium_dav_basic_user (req);
        char *at = user ? strrchr (user, '@') : NULL;
        if (!at || at == user || !at[1]) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "sign in with HTTP Basic as username@school");
                return FALSE;
        }
        *at = 0;
        g_autofree char *school = g_uri_escape_string (at + 1, NULL, FALSE);
        g_autofree char *name = g_uri_escape_string (user, NULL, FALSE);
        g_autofree char *principal = g_strdup_printf ("/dav/%s/principals/%s/", school, name);
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin (&w);
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "response");
        atrium_dav_write_href (&w, "/dav/");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "propstat");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "prop");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "resourcetype");
        atrium_dav_write_empty (&w, ATRIUM_DAV_NS, "collection");
        atrium_dav_write_endel (&w);
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "current-user-principal");
        atrium_dav_write_href (&w, principal);
        atrium_dav_write_endel (&w);
        atrium_dav_write_endel (&w);
        atrium_dav_write_status (&w, 200);
        atrium_dav_write_endel (&w);
        atrium_dav_write_endel (&w);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, 207, "application/xml; charset=utf-8", body);
        return TRUE;
}

void
atrium_dav_discovery_routes (AtriumCore *core)
{
        static const char *const wk[] = {"/.well-known/caldav", "/.well-known/carddav"};
        static const char *const wk_methods[] = {"GET", "PROPFIND", "OPTIONS"};
        for (guint i = 0; i < G_N_ELEMENTS (wk); i++)
                for (guint j = 0; j < G_N_ELEMENTS (wk_methods); j++) {
                        const AtriumRoute r = {ATRIUM_ROUTE_INIT,
                                               .method = wk_methods[j],
                                               .path = wk[i],
                                               .flags = ATRIUM_ROUTE_DAV | ATRIUM_ROUTE_PUBLIC |
                                                        ATRIUM_ROUTE_RAW_BODY,
                                               .summary = "CalDAV/CardDAV discovery (RFC 6764)",
                                               .handler = well_known};
                        atrium_core_add_routes (core, &r, 1);
                }
        static const char *const roots[] = {"/dav", "/dav/"};
        static const char *const root_methods[] = {"PROPFIND", "OPTIONS"};
        for (guint i = 0; i < G_N_ELEMENTS (roots); i++)
                for (guint j = 0; j < G_N_ELEMENTS (root_methods); j++) {
                        const AtriumRoute r = {ATRIUM_ROUTE_INIT,
                                               .method = root_methods[j],
                                               .path = roots[i],
                                               .flags = ATRIUM_ROUTE_DAV | ATRIUM_ROUTE_PUBLIC |
                                                        ATRIUM_ROUTE_RAW_BODY,
                                               .summary = "DAV discovery: the caller's principal",
                                               .handler = root};
                        atrium_core_add_routes (core, &r, 1);
                }
        static const char *const schools[] = {"/dav/{school}", "/dav/{school}/"};
        for (guint i = 0; i < G_N_ELEMENTS (schools); i++)
                for (guint j = 0; j < G_N_ELEMENTS (root_methods); j++) {
                        gboolean options = g_str_equal (root_methods[j], "OPTIONS");
                        const AtriumRoute r = {
                                ATRIUM_ROUTE_INIT,
                                .method = root_methods[j],
                                .path = schools[i],
                                .flags = ATRIUM_ROUTE_DAV | ATRIUM_ROUTE_RAW_BODY |
                                         (options ? ATRIUM_ROUTE_PUBLIC : 0),
                                .summary = "DAV: the trees of a school (files, calendars, ...)",
                                .handler = school_root};
                        atrium_core_add_routes (core, &r, 1);
                }
}
