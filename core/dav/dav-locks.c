/* SPDX-License-Identifier: Apache-2.0 */
/* dav-locks.c - WebDAV class 2: LOCK, UNLOCK, the lock checks before every write, and the
 * lockdiscovery property (RFC 4918 6, 7, 9.10, 9.11, 10.4).
 *
 * Locks are rows of core.dav_locks, so they hold across every host of an installation. A lock
 * is on a tree's canonical path (AtriumDavTree.canonical), not on a resource: a path that
 * does not exist yet can be locked (davfs2 and Windows lock before they PUT; the LOCK answers
 * 201 and nothing is created), and a MOVE leaves the lock behind (RFC 4918 7.7: the moved
 * resource is unlocked at its new place; the old path's locks go).
 *
 * A write (PUT, DELETE, MKCOL, PROPPATCH, the destination of COPY and MOVE, the source of a
 * MOVE) needs, for every lock on what it changes, that lock's token in the If header, sent by
 * the lock's owner: else 423 Locked. "What it changes" is the path, its ancestors' locks of
 * depth infinity, its parent's lock when a member is added or removed, and, for DELETE and
 * MOVE, the locks below it. The If header itself must hold (else 412). Expired locks are
 * ignored everywhere and deleted when a LOCK passes by.
 *
 * LOCK serialises per school on an advisory lock, so two clients cannot both take an
 * exclusive lock on one path. A write checks the locks in its own transaction: a LOCK that
 * commits during a long upload does not stop that upload (as in mod_dav). */
#include "dav-private.h"

#include <gcrypt.h>
#include <string.h>

#define TIMEOUT_DEFAULT 600
#define TIMEOUT_MAX 86400

typedef struct {
        char *token;
        char *path;
        char *href;
        char *owner_xml;
        char *user_id;
        gboolean infinity;
        gboolean exclusive;
        gint64 remaining;
} Lock;

static void
lock_free (Lock *l)
{
        g_free (l->token);
        g_free (l->path);
        g_free (l->href);
        g_free (l->owner_xml);
        g_free (l->user_id);
        g_free (l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Lock, lock_free)

#define LOCK_COLUMNS                                                                               \
        "token, path, href, owner_xml, user_id, depth_infinity, exclusive, "                       \
        "greatest(1, ceil(extract(epoch FROM expires_at - now())))::bigint"

static GPtrArray *
locks_from (AtriumResult *res)
{
        GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lock_free);
        for (int i = 0; i < atrium_result_n_rows (res); i++) {
                Lock *l = g_new0 (Lock, 1);
                l->token = g_strdup (atrium_result_value (res, i, 0));
                l->path = g_strdup (atrium_result_value (res, i, 1));
                l->href = g_strdup (atrium_result_value (res, i, 2));
                l->owner_xml = g_strdup (atrium_result_value (res, i, 3));
                l->user_id = g_strdup (atrium_result_value (res, i, 4));
                l->infinity = g_strcmp0 (atrium_result_value (res, i, 5), "t") == 0;
                l->exclusive = g_strcmp0 (atrium_result_value (res, i, 6), "t") == 0;
                l->remaining = g_ascii_strtoll (atrium_result_value (res, i, 7), NULL, 10);
                g_ptr_array_add (out, l);
        }
        return out;
}

/* @a is a proper ancestor of @b ("user:x/a" of "user:x/a/b"). */
static gboolean
ancestor (const char *a, const char *b)
{
        gsize n = strlen (a);
        return strncmp (a, b, n) == 0 && b[n] == '/';
}

/* Does lock @l apply to the resource at canonical path @p? */
static gboolean
covers (const Lock *l, const char *p)
{
        return g_str_equal (l->path, p) || (l->infinity && ancestor (l->path, p));
}

/* The active locks on @p, on its ancestors (any depth: callers filter with covers()) and,
 * with @below, under it. */
static GPtrArray *
locks_near (AtriumRequest *req, const char *tree, const char *p, gboolean below, GError **error)
{
        /* The ancestors of p as a text[] literal: "user:x/a/b" -> {"user:x/a","user:x"}. */
        g_autoptr (GString) anc = g_string_new ("{");
        g_autofree char *walk = g_strdup (p);
        char *slash;
        while ((slash = strrchr (walk, '/'))) {
                *slash = '\0';
                if (anc->len > 1)
                        g_string_append_c (anc, ',');
                g_string_append_c (anc, '"');
                for (const char *c = walk; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                g_string_append_c (anc, '\\');
                        g_string_append_c (anc, *c);
                }
                g_string_append_c (anc, '"');
        }
        g_string_append_c (anc, '}');
        const char *params[4] = {tree, p, anc->str, below ? "t" : "f"};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx,
                "SELECT " LOCK_COLUMNS
                " FROM core.dav_locks WHERE tree = $1 AND expires_at > now() "
                "AND (path = $2 OR path = ANY ($3::text[]) OR "
                "($4::boolean AND left(path, length($2) + 1) = $2 || '/')) ORDER BY created_at",
                4, params, error);
        return res ? locks_from (res) : NULL;
}

static char *
canonical (AtriumRequest *req, const AtriumDavMount *m, const char *path, GError **error)
{
        if (!m->tree.canonical)
                return g_strdup (path);
        return m->tree.canonical (req, path, m->tree.user_data, error);
}

/* ---- answers ---- */

static void
respond_error (AtriumRequest *req, guint status, const char *condition, const char *href)
{
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin_root (&w, "error");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, condition);
        if (href)
                atrium_dav_write_href (&w, href);
        atrium_dav_write_endel (&w);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        atrium_request_respond_bytes (req, status, "application/xml; charset=utf-8", body);
}

static void
write_activelock (AtriumDavWriter *w, const Lock *l)
{
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "activelock");
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "locktype");
        atrium_dav_write_empty (w, ATRIUM_DAV_NS, "write");
        atrium_dav_write_endel (w);
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "lockscope");
        atrium_dav_write_empty (w, ATRIUM_DAV_NS, l->exclusive ? "exclusive" : "shared");
        atrium_dav_write_endel (w);
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "depth", l->infinity ? "infinity" : "0");
        if (l->owner_xml)
                atrium_dav_write_raw (w, l->owner_xml);
        g_autofree char *timeout = g_strdup_printf ("Second-%" G_GINT64_FORMAT, l->remaining);
        atrium_dav_write_text (w, ATRIUM_DAV_NS, "timeout", timeout);
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "locktoken");
        atrium_dav_write_href (w, l->token);
        atrium_dav_write_endel (w);
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "lockroot");
        atrium_dav_write_href (w, l->href);
        atrium_dav_write_endel (w);
        atrium_dav_write_endel (w);
}

static void
respond_lock (AtriumRequest *req, guint status, const Lock *l, gboolean token_header)
{
        AtriumDavWriter w = {0};
        atrium_dav_writer_begin_root (&w, "prop");
        atrium_dav_write_start (&w, ATRIUM_DAV_NS, "lockdiscovery");
        write_activelock (&w, l);
        atrium_dav_write_endel (&w);
        g_autoptr (GBytes) body = atrium_dav_writer_end (&w);
        if (token_header) {
                g_autofree char *hdr = g_strdup_printf ("<%s>", l->token);
                atrium_request_add_header (req, "Lock-Token", hdr);
        }
        atrium_request_respond_bytes (req, status, "application/xml; charset=utf-8", body);
}

/* ---- the If header ---- */

/* One list's verdict for the resource at @path (its canonical path @canon, which may be
 * NULL: nothing there can be locked). */
static gboolean
list_holds (AtriumRequest *req, const AtriumDavMount *m, const AtriumDavIfList *l, const char *path,
            GError **error)
{
        g_autoptr (GError) local = NULL;
        g_autofree char *canon = canonical (req, m, path, &local);
        g_autoptr (GPtrArray) locks =
                canon ? locks_near (req, m->mount, canon, FALSE, error) : NULL;
        if (canon && !locks)
                return FALSE;
        g_autofree char *etag = NULL;
        gboolean etag_known = FALSE;
        for (guint i = 0; i < l->conditions->len; i++) {
                const AtriumDavIfCondition *c = l->conditions->pdata[i];
                gboolean yes = FALSE;
                if (c->token) {
                        for (guint k = 0; locks && k < locks->len; k++) {
                                const Lock *lk = locks->pdata[k];
                                if (g_str_equal (lk->token, c->token) && covers (lk, canon))
                                        yes = TRUE;
                        }
                } else {
                        if (!etag_known) {
                                g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (
                                        (GDestroyNotify) atrium_dav_entry_free);
                                g_autoptr (GError) gone = NULL;
                                if (m->tree.stat (req, path, atrium_dav_collect, got,
                                                  m->tree.user_data, &gone) &&
                                    got->len == 1)
                                        etag = g_strdup (((AtriumDavEntry *) got->pdata[0])->etag);
                                etag_known = TRUE;
                        }
                        yes = etag && g_str_equal (etag, c->etag);
                }
                if (yes == c->negate)
                        return FALSE;
        }
        return TRUE;
}

/* ---- the check before a write ---- */

gboolean
atrium_dav_if_check (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                     gboolean *out_answered, GError **error)
{
        *out_answered = FALSE;
        const char *text = g_hash_table_lookup (req->headers, "if");
        g_autoptr (AtriumDavIf) cond = NULL;
        if (text) {
                if (!(cond = atrium_dav_if_parse (text, error)))
                        return FALSE;
                gboolean any = FALSE;
                for (guint i = 0; !any && i < cond->lists->len; i++) {
                        const AtriumDavIfList *l = cond->lists->pdata[i];
                        g_autofree char *other = NULL;
                        if (l->resource) {
                                g_autoptr (GError) bad = NULL;
                                other = atrium_dav_path_of_url (req, m, l->resource, &bad);
                                if (!other)
                                        continue; /* another server's resource: false */
                        }
                        g_autoptr (GError) failed = NULL;
                        any = list_holds (req, m, l, other ? other : path, &failed);
                        if (failed) {
                                g_propagate_error (error, g_steal_pointer (&failed));
                                return FALSE;
                        }
                }
                if (!any) {
                        *out_answered = TRUE;
                        atrium_request_respond_bytes (req, 412, NULL, NULL);
                        return TRUE;
                }
        }
        return TRUE;
}

gboolean
atrium_dav_locks_check (AtriumRequest *req, const AtriumDavMount *m, const char *path, guint how,
                        gboolean *out_answered, GError **error)
{
        *out_answered = FALSE;
        const char *text = g_hash_table_lookup (req->headers, "if");
        g_autoptr (AtriumDavIf) cond = text ? atrium_dav_if_parse (text, error) : NULL;
        if (text && !cond)
                return FALSE;
        g_autoptr (GError) unlockable = NULL;
        g_autofree char *canon = canonical (req, m, path, &unlockable);
        if (!canon)
                return TRUE; /* nothing there can be locked; the tree refuses the write */
        g_autoptr (GPtrArray) locks =
                locks_near (req, m->mount, canon, (how & ATRIUM_DAV_CHECK_BELOW) != 0, error);
        if (!locks)
                return FALSE;
        g_autofree char *parent = NULL;
        const char *slash = strrchr (canon, '/');
        if ((how & (ATRIUM_DAV_CHECK_PARENT | ATRIUM_DAV_CHECK_PARENT_IF_NEW)) && slash)
                parent = g_strndup (canon, (gsize) (slash - canon));
        int exists = -1; /* PARENT_IF_NEW: unknown until a parent's lock needs the answer */
        const char *me = atrium_request_user_id (req);
        for (guint i = 0; i < locks->len; i++) {
                const Lock *l = locks->pdata[i];
                gboolean by_parent = !covers (l, canon) && parent && g_str_equal (l->path, parent);
                gboolean applies = covers (l, canon) || by_parent ||
                                   ((how & ATRIUM_DAV_CHECK_BELOW) && ancestor (canon, l->path));
                if (by_parent && (how & ATRIUM_DAV_CHECK_PARENT_IF_NEW)) {
                        if (exists < 0) {
                                g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (
                                        (GDestroyNotify) atrium_dav_entry_free);
                                g_autoptr (GError) gone = NULL;
                                exists = m->tree.stat (req, path, atrium_dav_collect, got,
                                                       m->tree.user_data, &gone)
                                                 ? 1
                                                 : 0;
                        }
                        applies = exists == 0; /* replacing a member leaves the set as it is */
                }
                if (!applies)
                        continue;
                /* Submitted by its owner; a shared lock is satisfied by any lock of the same
                 * root the caller holds and submitted. */
                gboolean ok = FALSE;
                for (guint k = 0; !ok && k < locks->len; k++) {
                        const Lock *o = locks->pdata[k];
                        gboolean same = o == l || (!l->exclusive && !o->exclusive &&
                                                   g_str_equal (o->path, l->path));
                        ok = same && atrium_dav_if_has_token (cond, o->token) &&
                             g_strcmp0 (o->user_id, me) == 0;
                }
                if (!ok) {
                        *out_answered = TRUE;
                        respond_error (req, 423, "lock-token-submitted", l->href);
                        return TRUE;
                }
        }
        return TRUE;
}

gboolean
atrium_dav_lock_check (AtriumRequest *req, const char *mount, const char *canonical, guint how,
                       GError **error)
{
        g_return_val_if_fail (mount != NULL && canonical != NULL, FALSE);
        g_autoptr (GPtrArray) locks =
                locks_near (req, mount, canonical, (how & ATRIUM_DAV_LOCK_BELOW) != 0, error);
        if (!locks)
                return FALSE;
        const char *slash = strrchr (canonical, '/');
        g_autofree char *parent = (how & ATRIUM_DAV_LOCK_PARENT) && slash
                                          ? g_strndup (canonical, (gsize) (slash - canonical))
                                          : NULL;
        const char *me = atrium_request_user_id (req);
        for (guint i = 0; i < locks->len; i++) {
                const Lock *l = locks->pdata[i];
                gboolean applies = covers (l, canonical) ||
                                   (parent && g_str_equal (l->path, parent)) ||
                                   ((how & ATRIUM_DAV_LOCK_BELOW) && ancestor (canonical, l->path));
                if (applies && g_strcmp0 (l->user_id, me) != 0)
                        return atrium_fail (error, ATRIUM_ERROR_LOCKED,
                                            "locked over WebDAV by another person (%s) until "
                                            "the lock is released or expires",
                                            l->href);
        }
        return TRUE;
}

gboolean
atrium_dav_locks_forget (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                         GError **error)
{
        g_autoptr (GError) unlockable = NULL;
        g_autofree char *canon = canonical (req, m, path, &unlockable);
        if (!canon)
                return TRUE;
        const char *p[2] = {m->mount, canon};
        g_autoptr (AtriumResult) res =
                atrium_tx_query (req->tx,
                                 "DELETE FROM core.dav_locks WHERE tree = $1 AND (path = $2 OR "
                                 "left(path, length($2) + 1) = $2 || '/')",
                                 2, p, error);
        return res != NULL;
}

/* ---- LOCK ---- */

/* A lock token: a URI unique for all time (RFC 4918 6.5), "atrium:lock:" and 128 random bits
 * in base64url. Not a 45-character urn:uuid: clients put a token and two of our 66-character
 * ETags into one If header, and some format it into a fixed buffer (litmus: 200 bytes). */
static char *
new_token (void)
{
        guint8 raw[16];
        gcry_create_nonce (raw, sizeof raw);
        g_autofree char *b64 = g_base64_encode (raw, sizeof raw);
        GString *t = g_string_new ("atrium:lock:");
        for (const char *c = b64; *c && *c != '='; c++)
                g_string_append_c (t, *c == '+' ? '-' : *c == '/' ? '_' : *c);
        return g_string_free (t, FALSE);
}

static gint64
parse_timeout (const char *text)
{
        if (!text)
                return TIMEOUT_DEFAULT;
        g_auto (GStrv) parts = g_strsplit (text, ",", -1);
        for (guint i = 0; parts[i]; i++) {
                const char *t = g_strstrip (parts[i]);
                if (g_ascii_strcasecmp (t, "Infinite") == 0)
                        return TIMEOUT_MAX;
                if (g_ascii_strncasecmp (t, "Second-", 7) == 0) {
                        char *end = NULL;
                        gint64 s = g_ascii_strtoll (t + 7, &end, 10);
                        if (end && !*end && s > 0)
                                return MIN (s, TIMEOUT_MAX);
                }
        }
        return TIMEOUT_DEFAULT;
}

static gboolean
refresh (AtriumRequest *req, const AtriumDavMount *m, const char *canon, GError **error)
{
        const char *text = g_hash_table_lookup (req->headers, "if");
        g_autoptr (AtriumDavIf) cond = text ? atrium_dav_if_parse (text, error) : NULL;
        if (text && !cond)
                return FALSE;
        g_autoptr (GPtrArray) locks = locks_near (req, m->mount, canon, FALSE, error);
        if (!locks)
                return FALSE;
        const char *me = atrium_request_user_id (req);
        for (guint i = 0; i < locks->len; i++) {
                Lock *l = locks->pdata[i];
                if (!covers (l, canon) || !atrium_dav_if_has_token (cond, l->token) ||
                    g_strcmp0 (l->user_id, me) != 0)
                        continue;
                l->remaining = parse_timeout (g_hash_table_lookup (req->headers, "timeout"));
                g_autofree char *secs = g_strdup_printf ("%" G_GINT64_FORMAT, l->remaining);
                const char *p[3] = {l->token, secs, m->mount};
                g_autoptr (AtriumResult) res =
                        atrium_tx_query (req->tx,
                                         "UPDATE core.dav_locks SET timeout_seconds = $2::int, "
                                         "expires_at = now() + make_interval(secs => $2::int) "
                                         "WHERE token = $1 AND tree = $3",
                                         3, p, error);
                if (!res)
                        return FALSE;
                respond_lock (req, 200, l, FALSE);
                return TRUE;
        }
        /* RFC 4918 9.10.2: a refresh needs the token of a lock on the resource. */
        respond_error (req, 412, "lock-token-matches-request-uri", NULL);
        return TRUE;
}

gboolean
atrium_dav_lock (AtriumRequest *req, const AtriumDavMount *m, const char *path, const char *href,
                 GError **error)
{
        const char *me = atrium_request_user_id (req);
        if (!me) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN, "only people lock");
                return FALSE;
        }
        g_autofree char *canon = canonical (req, m, path, error);
        if (!canon)
                return FALSE;
        /* One LOCK at a time per school: the conflict check and the insert are one step. */
        g_autoptr (AtriumResult) serial = atrium_tx_query (
                req->tx,
                "WITH gone AS (DELETE FROM core.dav_locks WHERE expires_at < now() - "
                "interval '1 minute' RETURNING 1) "
                "SELECT pg_advisory_xact_lock(1684108907, hashtext(core.current_school()::text)), "
                "(SELECT count(*) FROM gone)",
                0, NULL, error);
        if (!serial)
                return FALSE;
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (!len)
                return refresh (req, m, canon, error);

        xmlDoc *doc = atrium_dav_xml_parse (g_bytes_get_data (req->body, NULL), len, error);
        if (!doc)
                return FALSE;
        xmlNode *root = xmlDocGetRootElement (doc);
        xmlNode *scope = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "lockscope");
        xmlNode *type = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "locktype");
        xmlNode *owner = atrium_dav_xml_child (root, ATRIUM_DAV_NS, "owner");
        gboolean exclusive = scope && atrium_dav_xml_child (scope, ATRIUM_DAV_NS, "exclusive");
        gboolean shared = scope && atrium_dav_xml_child (scope, ATRIUM_DAV_NS, "shared");
        gboolean write = type && atrium_dav_xml_child (type, ATRIUM_DAV_NS, "write");
        gboolean ok = atrium_dav_xml_is (root, ATRIUM_DAV_NS, "lockinfo") &&
                      (exclusive != shared) && write;
        g_autofree char *owner_xml = owner && ok ? atrium_dav_xml_serialise (owner) : NULL;
        xmlFreeDoc (doc);
        if (!ok) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a LOCK body is <D:lockinfo> with an exclusive or shared "
                             "<D:lockscope> and a write <D:locktype>");
                return FALSE;
        }
        const char *depth = g_hash_table_lookup (req->headers, "depth");
        if (depth && !g_str_equal (depth, "0") && g_ascii_strcasecmp (depth, "infinity") != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a LOCK's Depth is 0 or infinity");
                return FALSE;
        }
        gboolean infinity = !depth || g_ascii_strcasecmp (depth, "infinity") == 0;

        g_autoptr (GPtrArray) locks = locks_near (req, m->mount, canon, infinity, error);
        if (!locks)
                return FALSE;
        for (guint i = 0; i < locks->len; i++) {
                const Lock *l = locks->pdata[i];
                gboolean clash = covers (l, canon) || (infinity && ancestor (canon, l->path));
                if (clash && (exclusive || l->exclusive)) {
                        respond_error (req, 423, "no-conflicting-lock", l->href);
                        return TRUE;
                }
        }
        g_autoptr (GPtrArray) got =
                g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_dav_entry_free);
        g_autoptr (GError) missing = NULL;
        gboolean exists =
                m->tree.stat (req, path, atrium_dav_collect, got, m->tree.user_data, &missing);
        if (!exists && !g_error_matches (missing, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND)) {
                g_propagate_error (error, g_steal_pointer (&missing));
                return FALSE;
        }
        g_autoptr (Lock) l = g_new0 (Lock, 1);
        l->token = new_token ();
        l->path = g_strdup (canon);
        l->href = g_strdup (href);
        l->owner_xml = g_steal_pointer (&owner_xml);
        l->user_id = g_strdup (me);
        l->infinity = infinity;
        l->exclusive = exclusive;
        l->remaining = parse_timeout (g_hash_table_lookup (req->headers, "timeout"));
        g_autofree char *secs = g_strdup_printf ("%" G_GINT64_FORMAT, l->remaining);
        const char *p[9] = {l->token,
                            m->mount,
                            l->path,
                            l->href,
                            infinity ? "t" : "f",
                            exclusive ? "t" : "f",
                            l->owner_xml,
                            me,
                            secs};
        g_autoptr (AtriumResult) res = atrium_tx_query (
                req->tx,
                "INSERT INTO core.dav_locks (school_id, token, tree, path, href, depth_infinity, "
                "exclusive, owner_xml, user_id, timeout_seconds, expires_at) VALUES "
                "(core.current_school(), $1, $2, $3, $4, $5::boolean, $6::boolean, $7, $8::uuid, "
                "$9::int, now() + make_interval(secs => $9::int))",
                9, p, error);
        if (!res)
                return FALSE;
        /* An unmapped URL is locked without making anything (a lock-null path): 201. */
        respond_lock (req, exists ? 200 : 201, l, TRUE);
        return TRUE;
}

/* ---- UNLOCK ---- */

gboolean
atrium_dav_unlock (AtriumRequest *req, const AtriumDavMount *m, const char *path, GError **error)
{
        const char *hdr = g_hash_table_lookup (req->headers, "lock-token");
        g_autofree char *token = hdr ? g_strstrip (g_strdup (hdr)) : NULL;
        if (token && token[0] == '<' && g_str_has_suffix (token, ">")) {
                char *inner = g_strndup (token + 1, strlen (token) - 2);
                g_free (token);
                token = inner;
        }
        if (!token || !*token) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "UNLOCK needs a Lock-Token header");
                return FALSE;
        }
        g_autofree char *canon = canonical (req, m, path, error);
        if (!canon)
                return FALSE;
        g_autoptr (GPtrArray) locks = locks_near (req, m->mount, canon, FALSE, error);
        if (!locks)
                return FALSE;
        for (guint i = 0; i < locks->len; i++) {
                const Lock *l = locks->pdata[i];
                if (!g_str_equal (l->token, token) || !covers (l, canon))
                        continue;
                if (g_strcmp0 (l->user_id, atrium_request_user_id (req)) != 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                                     "the lock is another person's");
                        return FALSE;
                }
                const char *p[2] = {token, m->mount};
                g_autoptr (AtriumResult) res = atrium_tx_query (
                        req->tx, "DELETE FROM core.dav_locks WHERE token = $1 AND tree = $2", 2, p,
                        error);
                if (!res)
                        return FALSE;
                atrium_request_respond_bytes (req, 204, NULL, NULL);
                return TRUE;
        }
        respond_error (req, 409, "lock-token-matches-request-uri", NULL);
        return TRUE;
}

/* ---- lockdiscovery (PROPFIND) ---- */

GPtrArray *
atrium_dav_locks_for_listing (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                              char **out_canon, GError **error)
{
        g_autoptr (GError) unlockable = NULL;
        g_autofree char *canon = canonical (req, m, path, &unlockable);
        if (!canon) {
                *out_canon = NULL;
                return g_ptr_array_new ();
        }
        GPtrArray *locks = locks_near (req, m->mount, canon, TRUE, error);
        if (locks)
                *out_canon = g_steal_pointer (&canon);
        return locks;
}

void
atrium_dav_write_lockdiscovery (AtriumDavWriter *w, GPtrArray *locks, const char *canon)
{
        atrium_dav_write_start (w, ATRIUM_DAV_NS, "lockdiscovery");
        for (guint i = 0; canon && locks && i < locks->len; i++) {
                const Lock *l = locks->pdata[i];
                if (covers (l, canon))
                        write_activelock (w, l);
        }
        atrium_dav_write_endel (w);
}
