/* SPDX-License-Identifier: Apache-2.0 */
/* dav-private.h - the DAV layer (README.md here): what its files share and what the rest of
 * the core calls.
 *
 *   dav.c         the trees plugins contribute (add_dav_tree), the /dav/ routes, one request
 *                 from method to answer
 *   dav-auth.c    HTTP Basic (password or personal access token) and Bearer, the cache of
 *                 verified passwords
 *   dav-xml.c     request bodies in (hardened libxml2) and multistatus answers out
 *   dav-props.c   live properties of a resource, PROPFIND
 *   dav-dead.c    dead properties: PROPPATCH, and what PROPFIND and COPY need of them
 *   dav-locks.c   LOCK, UNLOCK, the lock checks before writes, lockdiscovery
 *   dav-if.c      the If header */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "core-private.h"
#include "pipeline-private.h"

/* Host-internal route flag of the /dav/ routes (never set by plugins): the caller is
 * authenticated by dav-auth.c (HTTP Basic or Bearer) before the identity check, and the
 * module checked is the one of the tree the path names. */
#define ATRIUM_ROUTE_DAV (1u << 28)

/* Bytes of an XML request body (PROPFIND, PROPPATCH, LOCK) read at most, and its deepest
 * element nesting. Real clients send a few hundred bytes a few levels deep. */
#define ATRIUM_DAV_XML_MAX (1024 * 1024)
#define ATRIUM_DAV_XML_DEPTH 32
/* The longest path segment (a file name) in bytes, as most file systems allow. */
#define ATRIUM_DAV_NAME_MAX 255

/* A tree a plugin contributes: its zero-extended copy of the AtriumDavTree. */
typedef struct {
        AtriumPlugin *owner;
        char *mount;
        AtriumDavTree tree;
} AtriumDavMount;

/* ---- dav.c ---- */
void atrium_dav_init (AtriumCore *core);
void atrium_dav_clear (AtriumCore *core);
void atrium_dav_routes (AtriumCore *core);
void atrium_dav_respond_condition (AtriumRequest *req, guint status, const char *ns,
                                   const char *condition);
/* The add_dav_tree host slot (ABI 1.5). */
gboolean atrium_dav_add_tree (AtriumPlugin *self, const AtriumDavTree *tree, GError **error);
/* Drops the trees of a plugin whose init failed. */
void atrium_dav_drop (AtriumCore *core, AtriumPlugin *owner);
/* The tree the request's {mount} names, or NULL. */
const AtriumDavMount *atrium_dav_mount_of (AtriumRequest *req);
/* The path in @m of a URL or absolute path (Destination, a tagged If list): another host is
 * ATRIUM_ERROR_BAD_GATEWAY, another school or tree ATRIUM_ERROR_FORBIDDEN. */
char *atrium_dav_path_of_url (AtriumRequest *req, const AtriumDavMount *m, const char *url,
                              GError **error);

/* ---- dav-auth.c ---- */
typedef struct {
        char *token_hash; /* a Bearer token, or a personal access token given as password */
        char *user_id;    /* else: the user whose password was verified */
        char *claimed;    /* the Basic username that came with a token: the check compares */
} AtriumDavCaller;

void atrium_dav_caller_clear (AtriumDavCaller *who);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AtriumDavCaller, atrium_dav_caller_clear)

/* Who is asking, from the Authorization header; ATRIUM_ERROR_UNAUTHENTICATED (the caller
 * adds WWW-Authenticate) or ATRIUM_ERROR_RATE_LIMITED past the sign-in throttle. A token (Bearer,
 * or Basic with an app token as password) costs nothing here: the request's identity check
 * judges it. A password is looked up and verified in a transaction of its own (failed attempts
 * are counted whatever the request does). */
gboolean atrium_dav_authenticate (AtriumRequest *req, AtriumDavCaller *out, GError **error);
/* The user name of a Basic Authorization header, unverified (discovery at /dav/ only names
 * where to go next), or NULL. */
char *atrium_dav_basic_user (AtriumRequest *req);

/* ---- dav-xml.c ---- */
#define ATRIUM_DAV_NS "DAV:"

/* Parses a request body: at most ATRIUM_DAV_XML_MAX bytes, no DOCTYPE (so no entities), no
 * network, nesting at most ATRIUM_DAV_XML_DEPTH. ATRIUM_ERROR_INVALID otherwise.
 * Returns: (transfer full): free with xmlFreeDoc(). */
xmlDoc *atrium_dav_xml_parse (const char *data, gsize len, GError **error);
/* @node is element @name in namespace @ns. */
gboolean atrium_dav_xml_is (const xmlNode *node, const char *ns, const char *name);
/* The first child element of @node named @ns @name, or NULL. */
xmlNode *atrium_dav_xml_child (const xmlNode *node, const char *ns, const char *name);

/* The element @node alone, serialised with every namespace declaration it needs (a dead
 * property, a lock's owner). Returns: (transfer full) (nullable) */
char *atrium_dav_xml_serialise (xmlNode *node);

typedef enum {
        ATRIUM_DAV_PROPFIND_ALLPROP,
        ATRIUM_DAV_PROPFIND_PROPNAME,
        ATRIUM_DAV_PROPFIND_PROP,
} AtriumDavPropfindKind;

/* A property's name: namespace URI ("" for none) and local name. */
typedef struct {
        char *ns;
        char *name;
} AtriumDavPropName;

void atrium_dav_prop_name_free (AtriumDavPropName *p);
/* Appends the names of the child elements of @prop (a <D:prop>) to @out. */
void atrium_dav_xml_prop_names (GPtrArray *out, const xmlNode *prop);

/* A PROPFIND body (empty: allprop). *@out_props: the AtriumDavPropName* asked for (prop), or
 * those an allprop's include names. */
gboolean atrium_dav_parse_propfind (const char *data, gsize len, AtriumDavPropfindKind *out_kind,
                                    GPtrArray **out_props, GError **error);

/* The multistatus answer being written, as text (dav-xml.c). */
typedef struct {
        GString *out;      /* (nullable) before begin and after end */
        GString *names;    /* the open elements' qualified names, each ended by a NUL */
        gboolean in_start; /* the last start tag is still open: "/>" if nothing follows */
} AtriumDavWriter;

void atrium_dav_writer_begin (AtriumDavWriter *out);
/* Another root element in DAV: (<D:prop> of a LOCK answer, <D:error>). */
void atrium_dav_writer_begin_root (AtriumDavWriter *out, const char *root);
/* Ends the document. Returns: (transfer full) the body. */
GBytes *atrium_dav_writer_end (AtriumDavWriter *w);
void atrium_dav_writer_clear (AtriumDavWriter *w);
/* <D:href>@href</D:href> */
void atrium_dav_write_href (AtriumDavWriter *w, const char *href);
/* <D:status>HTTP/1.1 @status reason</D:status> */
void atrium_dav_write_status (AtriumDavWriter *w, guint status);
/* An empty element of property @p (a name only: propname answers, 404 lists). */
void atrium_dav_write_empty (AtriumDavWriter *w, const char *ns, const char *name);
/* A property with text content. */
void atrium_dav_write_text (AtriumDavWriter *w, const char *ns, const char *name, const char *text);
void atrium_dav_write_start (AtriumDavWriter *w, const char *ns, const char *name);
/* @xml as it is: a stored dead property (well-formed, with its namespace declarations). */
void atrium_dav_write_raw (AtriumDavWriter *w, const char *xml);
void atrium_dav_write_endel (AtriumDavWriter *w);

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), whatever the locale. */
char *atrium_dav_http_date (gint64 unix_seconds);
/* "1994-11-06T08:49:37Z" (RFC 3339, for creationdate). */
char *atrium_dav_iso_date (gint64 unix_seconds);
/* Parses an IMF-fixdate (PROPPATCH of getlastmodified); FALSE if it is not one. */
gboolean atrium_dav_parse_http_date (const char *text, gint64 *out_unix);

/* ---- dav-props.c ---- */
/* A live property a tree added (AtriumDavProp), owned: text, or a whole element. */
typedef struct {
        char *ns;
        char *name;
        char *text;
        char *xml;
} AtriumDavExtra;

void atrium_dav_extra_free (AtriumDavExtra *x);

/* A resource as a tree described it, with owned copies of its strings. */
typedef struct {
        char *id;
        char *name;
        gboolean collection;
        gint64 length;
        char *etag;
        char *content_type;
        gint64 modified;
        gint64 created;
        char *display_name;
        gint64 quota_used;
        gint64 quota_available;
        GPtrArray *props; /* (nullable) AtriumDavExtra*: the tree's extra live properties */
        char *data;       /* (nullable) a report's calendar-data */
        gboolean gone;
} AtriumDavEntry;

void atrium_dav_entry_free (AtriumDavEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumDavEntry, atrium_dav_entry_free)
/* The AtriumDavEmitFunc that appends a copy to a GPtrArray of AtriumDavEntry. */
void atrium_dav_collect (const AtriumDavResource *res, gpointer array);

/* ---- dav-dead.c ---- */
/* One dead property: its name and the whole element as XML. */
typedef struct {
        char *ns;
        char *name;
        char *xml;
} AtriumDavDead;

void atrium_dav_dead_free (AtriumDavDead *d);
/* The dead properties of the resources @ids (char*) of @tree: id -> GPtrArray of
 * AtriumDavDead. Returns: (transfer full) (nullable): NULL with @error on failure. */
GHashTable *atrium_dav_dead_load (AtriumRequest *req, const char *tree, GPtrArray *ids,
                                  GError **error);
/* Copies the dead properties of resource @from to @to (COPY); NULL ids: nothing to do. */
gboolean atrium_dav_dead_copy (AtriumRequest *req, const char *tree, const char *from,
                               const char *to, GError **error);
/* After a COPY of the collection @from to @to: copies the dead properties of every member
 * below @from to the member at the same place below @to. */
gboolean atrium_dav_dead_copy_members (AtriumRequest *req, const AtriumDavMount *m,
                                       const char *from, const char *to, GError **error);
/* Answers PROPPATCH of @e (at @path, @href) with 207. */
gboolean atrium_dav_proppatch (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                               const char *href, const AtriumDavEntry *e, GError **error);

/* ---- dav-if.c ---- */
typedef struct {
        gboolean negate;
        char *token; /* a state token (coded URL without <>), or */
        char *etag;  /* an entity tag, with its quotes */
} AtriumDavIfCondition;

typedef struct {
        char *resource;        /* (nullable) the tag of a tagged list */
        GPtrArray *conditions; /* AtriumDavIfCondition* */
} AtriumDavIfList;

typedef struct {
        GPtrArray *lists;  /* AtriumDavIfList* */
        GPtrArray *tokens; /* char*: every state token named anywhere */
} AtriumDavIf;

AtriumDavIf *atrium_dav_if_parse (const char *text, GError **error);
void atrium_dav_if_free (AtriumDavIf *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtriumDavIf, atrium_dav_if_free)
/* @h (nullable) names @token. */
gboolean atrium_dav_if_has_token (const AtriumDavIf *h, const char *token);

/* ---- dav-locks.c ---- */
/* What a write changes besides the resource and its ancestors' deep locks. */
#define ATRIUM_DAV_CHECK_PARENT (1u << 0)        /* adds or removes a member of the parent */
#define ATRIUM_DAV_CHECK_BELOW (1u << 1)         /* removes what lies below (DELETE, MOVE) */
#define ATRIUM_DAV_CHECK_PARENT_IF_NEW (1u << 2) /* PUT: the parent counts if @path is new */
/* Before a write: the If header holds, its untagged lists for the Request-URI @path. Else
 * 412 is answered and *@out_answered set. */
/* The host's dav_lock_check (host.h): a WebDAV lock of another person on what a REST route
 * changes is ATRIUM_ERROR_LOCKED. */
gboolean atrium_dav_lock_check (AtriumRequest *req, const char *mount, const char *canonical,
                                guint how, GError **error);
gboolean atrium_dav_if_check (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                              gboolean *out_answered, GError **error);
/* Before a write of @path: every lock the write touches was submitted (If) by its owner.
 * Else 423 is answered and *@out_answered set. */
gboolean atrium_dav_locks_check (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                                 guint how, gboolean *out_answered, GError **error);
/* After a DELETE or MOVE of @path: its locks and those below go. */
gboolean atrium_dav_locks_forget (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                                  GError **error);
gboolean atrium_dav_lock (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                          const char *href, GError **error);
gboolean atrium_dav_unlock (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                            GError **error);
/* The locks on @path and below (for a PROPFIND listing); *@out_canon: @path's canonical path,
 * NULL when it cannot be locked. Returns: (transfer full) (nullable) */
GPtrArray *atrium_dav_locks_for_listing (AtriumRequest *req, const AtriumDavMount *m,
                                         const char *path, char **out_canon, GError **error);
void atrium_dav_write_lockdiscovery (AtriumDavWriter *w, GPtrArray *locks, const char *canon);

/* The href of the caller's principal, "/dav/<school>/principals/<username>/"; "" when the
 * caller is no user (an operator). Returns: (transfer full) (nullable): NULL on error. */
char *atrium_dav_principal_href (AtriumRequest *req, GError **error);
/* Writes one <D:response> for @e at @href: the properties @asked (kind PROP) or all of them;
 * @dead (nullable) its dead properties, @locks and @canon for lockdiscovery, @principal for
 * current-user-principal ("" for none). */
void atrium_dav_write_response (AtriumDavWriter *w, const AtriumDavEntry *e, const char *href,
                                AtriumDavPropfindKind kind, GPtrArray *asked, GPtrArray *dead,
                                GPtrArray *locks, const char *canon, const char *principal);

/* ---- dav-report.c ---- */
/* REPORT (calendar-query, calendar-multiget, sync-collection) on @path, answered with 207. */
gboolean atrium_dav_report (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                            const char *href, GError **error);
/* MKCALENDAR @path (RFC 4791 5.3.1), answered with 201. */
gboolean atrium_dav_mkcalendar (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                                GError **error);
/* "/dav/<school>/<mount>/<path>", each segment escaped; a collection's ends in '/'. */
char *atrium_dav_href_of (const char *school, const char *mount, const char *path,
                          gboolean collection);

/* ---- dav-principals.c ---- */
/* The core's own tree "principals" (RFC 5397, RFC 4791 6, RFC 6352 7): the caller's principal
 * with calendar-home-set and addressbook-home-set; and the routes /.well-known/caldav,
 * /.well-known/carddav and /dav/ (discovery, RFC 6764). */
void atrium_dav_principals_init (AtriumCore *core);
void atrium_dav_discovery_routes (AtriumCore *core);

/* Answers PROPFIND on @path (its resource @self_entry, its href @href) with 207. */
gboolean atrium_dav_propfind (AtriumRequest *req, const AtriumDavMount *m, const char *path,
                              const char *href, GError **error);
/* The href of a child @name of the collection at @href (which ends in '/'). */
char *atrium_dav_child_href (const char *href, const char *name, gboolean collection);
