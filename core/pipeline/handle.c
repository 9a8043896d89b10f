/* SPDX-License-Identifier: Apache-2.0 */
/* handle.c - the request pipeline a worker runs for one request:
 *
 *   identity check (core.request_identity(); for a read it waits for the handler's first query)
 *   -> query checks (the route's query_schema) -> body checks (content type, JSON, schema)
 *   -> handler -> the check's verdict
 *   -> COMMIT | ROLLBACK -> events delivered -> answer handed back to the front
 *
 * The HTTP side (http/server.c) builds the AtriumRequest on its front and applies the answer
 * there; nothing in this file touches libsoup. */
#include "core-private.h"
#include "pipeline-private.h"

#include <string.h>

#include "dav-private.h"
#include "identity-private.h"
#include "plugin-host-private.h"

static gboolean
is_json_type (const char *ct)
{
        if (!ct)
                return FALSE;
        g_autofree char *base = g_ascii_strdown (ct, strcspn (ct, ";"));
        g_strstrip (base);
        return g_str_equal (base, "application/json") || g_str_has_suffix (base, "+json");
}

static gboolean
prepare_body (AtriumRequest *req, GError **error)
{
        const AtriumRouteEntry *e = req->route;
        gsize len = req->body ? g_bytes_get_size (req->body) : 0;
        if (e->flags & ATRIUM_ROUTE_STREAM_BODY)
                return TRUE;
        if (e->flags & ATRIUM_ROUTE_RAW_BODY) {
                /* A route that reads its body itself takes any body, or none; one that
                 * describes it with a request_schema takes JSON, parsed and validated here
                 * like any other when there is one (request_json), the bytes kept. */
                if (!e->request_schema || len == 0)
                        return TRUE;
        } else if (!e->request_schema) {
                if (len > 0) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "%s %s takes no request body", e->method, e->template);
                        return FALSE;
                }
                return TRUE;
        } else if (len == 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "a JSON request body is required");
                return FALSE;
        }
        if (!is_json_type (g_hash_table_lookup (req->headers, "content-type"))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNSUPPORTED_MEDIA,
                             "send the body as Content-Type: application/json");
                return FALSE;
        }
        g_autoptr (JsonNode) json =
                atrium_json_parse_body (g_bytes_get_data (req->body, NULL), len, error);
        if (!json || !atrium_schema_validate (atrium_route_request_schema (e), json, error))
                return FALSE;
        req->json = g_steal_pointer (&json);
        return TRUE;
}

/* The route's declared query parameters (AtriumRoute.query_schema), read as their types. */
static gboolean
prepare_query (AtriumRequest *req, GError **error)
{
        JsonNode *schema = atrium_route_query_schema (req->route);
        if (schema && !atrium_query_schema_check (schema, req->query, error))
                return FALSE;
        /* A paged route's ?limit and ?cursor too, before its handler looks anything up (a
         * calendar's events answered "no calendar" to ?limit=0); the handler reads them again
         * through request_page. */
        if (req->route->flags & ATRIUM_ROUTE_PAGED) {
                int limit = 0;
                g_autofree char *after = NULL;
                return atrium_request_page (req, &limit, &after, error);
        }
        return TRUE;
}

/* [http] check_responses: a success answer's media type checked against the route's
 * response_type (JSON unless it names others), and a JSON one against its response_schema
 * (for ATRIUM_ROUTE_PAGED, the page's shape and each item), a mismatch logged. For plugin
 * development and the test suite, whose harness fails a run that logged one. */
static void
check_response (AtriumRequest *req)
{
        const AtriumRouteEntry *e = req->route;
        /* WebDAV's answers are RFC 4918's, not the OpenAPI document's (docs/WEBDAV.md). */
        if (req->status < 200 || req->status > 299 || !req->content_type ||
            (e->flags & ATRIUM_ROUTE_DAV))
                return;
        /* The media type: JSON, or one the route's response_type names. */
        static char *const json_type[] = {"application/json", NULL};
        const gboolean json = atrium_media_types_match (json_type, req->content_type);
        const gboolean named = atrium_media_types_match (e->response_types, req->content_type) ||
                               (json && (!e->response_types || e->response_schema ||
                                         (e->flags & ATRIUM_ROUTE_PAGED)));
        if (!named) {
                g_autofree char *said =
                        e->response_types ? g_strjoinv (", ", e->response_types) : NULL;
                g_warning ("route %s %s answered %s, a type its response_type does not describe "
                           "(%s)",
                           e->method, e->template, req->content_type,
                           said ? said : "none: JSON only");
                return;
        }
        JsonNode *schema = atrium_route_response_schema (e);
        if (!schema || !json || !req->response_body)
                return;
        gsize len = 0;
        const char *text = g_bytes_get_data (req->response_body, &len);
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) body = atrium_json_parse_body (text, len, &error);
        gboolean ok = body != NULL;
        if (ok && (e->flags & ATRIUM_ROUTE_PAGED)) {
                JsonObject *page =
                        JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
                JsonNode *items = page ? json_object_get_member (page, "items") : NULL;
                JsonNode *next = page ? json_object_get_member (page, "next_cursor") : NULL;
                ok = items && JSON_NODE_HOLDS_ARRAY (items) && next &&
                     (JSON_NODE_HOLDS_NULL (next) ||
                      json_node_get_value_type (next) == G_TYPE_STRING) &&
                     json_object_get_size (page) == 2;
                if (!ok)
                        g_set_error (&error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "not a page ({\"items\": [...], \"next_cursor\"})");
                JsonArray *a = ok ? json_node_get_array (items) : NULL;
                for (guint i = 0; ok && i < json_array_get_length (a); i++) {
                        g_autofree char *where = g_strdup_printf ("/items/%u", i);
                        ok = atrium_schema_validate_at (json_node_get_object (schema),
                                                        json_array_get_element (a, i), where,
                                                        &error);
                }
        } else if (ok) {
                ok = atrium_schema_validate (schema, body, &error);
        }
        if (!ok)
                g_warning ("route %s %s answered a body its response_schema does not describe: %s",
                           e->method, e->template, error->message);
}

/* "Bearer <token>" -> token, or NULL. */
static const char *
bearer_token (AtriumRequest *req)
{
        const char *auth = g_hash_table_lookup (req->headers, "authorization");
        if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
                return NULL;
        const char *t = auth + 7;
        while (*t == ' ')
                t++;
        return *t ? t : NULL;
}

static char **
parse_text_array (const char *v)
{
        /* PostgreSQL text[] output for our values (permission and role names, which never
         * need quoting): "{a,b.c}" */
        if (!v || strlen (v) < 2)
                return g_new0 (char *, 1);
        g_autofree char *inner = g_strndup (v + 1, strlen (v) - 2);
        if (!*inner)
                return g_new0 (char *, 1);
        return g_strsplit (inner, ",", -1);
}

/* core.request_identity() authenticates the token and resolves {school}, the module, the
 * caller's roles and, unless the host's copy is current ($4, the epoch it was computed at), the
 * caller's permissions (perm-cache.c); this statement sets the row-level-security settings
 * from its row. It is pipelined with BEGIN and, for reads, with the handler's first query
 * (tx.c). */
#define IDENTITY_COLUMNS                                                                           \
        "SELECT i.school_id, i.school_found, i.module_enabled, i.session_id, i.user_id, "          \
        "i.operator_id, i.roles, i.permissions, i.token_valid, i.epoch, i.touch, i.must_change, "  \
        "i.must_enrol, "                                                                           \
        "set_config('atrium.school_id', coalesce(i.school_id::text, ''), true), "                  \
        "set_config('atrium.user_id', coalesce(i.user_id::text, ''), true), "                      \
        "set_config('atrium.operator', (i.operator_id IS NOT NULL)::text, true), "                 \
        "set_config('atrium.operator_id', coalesce(i.operator_id::text, ''), true)"
/* A WebDAV caller's check also names them (schema 0013): a Basic username that came with a
 * token must be its owner's, and DAV answers need the name. */
#define DAV_USERNAME ", i.username"
/* A token's check takes the school the host keeps for {school} and the module ($5, $6: its
 * id and epoch, school-cache.c) and says the school's epoch now (schema 0017). */
#define SCHOOL_EPOCH ", i.school_epoch"
#define BY_TOKEN                                                                                   \
        " FROM core.request_identity_at($1::bytea, $2, $3, $4::bigint, $5::uuid, $6::bigint) i"
/* The same row for a WebDAV caller whose password dav-auth.c verified (no token; schema
 * 0018). */
#define BY_USER                                                                                    \
        " FROM core.request_identity_user_at($1::uuid, $2, $3, $4::bigint, $5::uuid, $6::bigint) i"

static const char identity_sql[] = IDENTITY_COLUMNS SCHOOL_EPOCH BY_TOKEN;
static const char identity_dav_sql[] = IDENTITY_COLUMNS DAV_USERNAME SCHOOL_EPOCH BY_TOKEN;
static const char identity_dav_user_sql[] = IDENTITY_COLUMNS DAV_USERNAME SCHOOL_EPOCH BY_USER;

enum {
        COL_SCHOOL,
        COL_SCHOOL_FOUND,
        COL_MODULE_ENABLED,
        COL_SESSION,
        COL_USER,
        COL_OPERATOR,
        COL_ROLES,
        COL_PERMISSIONS,
        COL_TOKEN_VALID,
        COL_EPOCH,
        COL_TOUCH,
        COL_MUST_CHANGE,
        COL_MUST_ENROL,
        COL_AFTER_SETTINGS = COL_MUST_ENROL + 5, /* after the four set_config() */
};

/* What the identity check needs besides the request: the token's hash (the cache's key) and
 * the host's copy of the caller's permissions it sent the epoch of. */
typedef struct {
        AtriumRequest *req;
        char *token_hash;
        AtriumPermSet *kept; /* (nullable) */
        int col_username;    /* -1, or the row's column of the caller's username (DAV) */
        char *claimed;       /* (nullable) the Basic username that came with a token */
        const char *slug;    /* (nullable) {school}, owned by the request */
        const char *module;  /* (nullable) the route's module, checked in that school */
        gboolean school_sent; /* the host's kept school went with the check */
        gint64 school_epoch;  /* the epoch it was kept at */
} Identity;

static void
identity_free (gpointer data)
{
        Identity *id = data;
        g_free (id->token_hash);
        g_free (id->claimed);
        g_clear_pointer (&id->kept, atrium_perm_set_unref);
        g_free (id);
}

/* The caller's permissions from the check's row: the host's copy when the row says it is
 * current (NULL), else the row's list, which is then kept for the session's next request. */
static AtriumPermSet *
permissions_of (Identity *id, const AtriumResult *res, GError **error)
{
        AtriumCore *core = id->req->core;
        const char *listed = atrium_result_value (res, 0, COL_PERMISSIONS);
        const char *epoch = atrium_result_value (res, 0, COL_EPOCH);
        if (epoch) /* a user's check: operators' permissions are never looked up */
                atrium_perm_cache_count (core->perm_cache, !listed);
        if (!listed) {
                if (!id->kept) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "the identity check sent no permissions");
                        return NULL;
                }
                return atrium_perm_set_ref (id->kept);
        }
        g_auto (GStrv) names = parse_text_array (listed);
        AtriumPermSet *set = atrium_perm_set_new (epoch ? g_ascii_strtoll (epoch, NULL, 10) : -1,
                                                  (const char *const *) names);
        if (epoch && id->token_hash)
                atrium_perm_cache_store (core->perm_cache, id->token_hash, set);
        return set;
}

/* What the check's row says about the school the host keeps for {school} and the module:
 * the same epoch, the kept school held; another, the school was resolved anew and is kept
 * with it; none (no such school, the module off, the caller's school another), nothing is
 * kept. */
static void
keep_school (const Identity *id, const AtriumResult *res)
{
        if (!id->slug)
                return;
        AtriumSchoolCache *cache = id->req->core->school_cache;
        /* The school's epoch comes last: after the caller's username where there is one. */
        int col = id->col_username >= 0 ? id->col_username + 1 : COL_AFTER_SETTINGS;
        const char *epoch = atrium_result_value (res, 0, col);
        gint64 now = epoch ? g_ascii_strtoll (epoch, NULL, 10) : -1;
        gboolean held = id->school_sent && epoch && now == id->school_epoch;
        atrium_school_cache_count (cache, held);
        if (held)
                return;
        if (epoch)
                atrium_school_cache_store (cache, id->slug, id->module,
                                           atrium_result_value (res, 0, COL_SCHOOL), now);
        else if (id->school_sent)
                atrium_school_cache_forget (cache, id->slug, id->module);
}

/* Judges core.request_identity_at()'s row for @data, an Identity: fills in who is asking, or
 * says why they may not go on (an AtriumTxGate). */
static gboolean
admit (const AtriumResult *res, gpointer data, GError **error)
{
        Identity *id = data;
        AtriumRequest *req = id->req;
        const AtriumRouteEntry *e = req->route;
        const char *slug = e->scope == ATRIUM_SCOPE_SCHOOL
                                   ? g_hash_table_lookup (req->params, "school")
                                   : NULL;
        gboolean has_token = id->token_hash != NULL;
        gboolean token_valid = g_strcmp0 (atrium_result_value (res, 0, COL_TOKEN_VALID), "t") == 0;
        if (has_token && !token_valid) {
                atrium_perm_cache_forget (req->core->perm_cache, id->token_hash);
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "the token is unknown, expired or revoked");
                return FALSE;
        }
        if (id->claimed && token_valid &&
            g_strcmp0 (atrium_result_value (res, 0, id->col_username), id->claimed) != 0) {
                /* Basic with another person's app token (as core.dav_account() refused it). */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "wrong username or password");
                return FALSE;
        }
        if (!has_token && !(e->flags & ATRIUM_ROUTE_PUBLIC)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_UNAUTHENTICATED,
                             "sign in and send Authorization: Bearer <token> (or, from a "
                             "browser, the atrium_session cookie)");
                return FALSE;
        }
        keep_school (id, res);
        if (slug && g_strcmp0 (atrium_result_value (res, 0, COL_SCHOOL_FOUND), "t") != 0) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, "no school \"%s\"", slug);
                return FALSE;
        }
        if (g_strcmp0 (atrium_result_value (res, 0, COL_MODULE_ENABLED), "t") != 0) {
                /* A module the school has not enabled does not exist for it. */
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                             "no module \"%s\" in this school",
                             e->owner ? e->owner->desc.name
                                      : (const char *) g_hash_table_lookup (req->params, "mount"));
                return FALSE;
        }
        req->school_id = g_strdup (atrium_result_value (res, 0, COL_SCHOOL));
        req->school_slug = g_strdup (slug);
        req->session_id = g_strdup (atrium_result_value (res, 0, COL_SESSION));
        req->user_id = g_strdup (atrium_result_value (res, 0, COL_USER));
        if (id->col_username >= 0)
                req->dav_username = g_strdup (atrium_result_value (res, 0, id->col_username));
        req->operator_id = g_strdup (atrium_result_value (res, 0, COL_OPERATOR));
        req->roles = parse_text_array (atrium_result_value (res, 0, COL_ROLES));
        req->touch_session = g_strcmp0 (atrium_result_value (res, 0, COL_TOUCH), "t") == 0;
        if (token_valid) {
                req->permissions = permissions_of (id, res, error);
                if (!req->permissions)
                        return FALSE;
        }
        g_free (req->tx->school_id);
        req->tx->school_id = g_strdup (req->school_id);
        g_free (req->tx->user_id);
        req->tx->user_id = g_strdup (req->user_id);
        g_free (req->tx->operator_id);
        req->tx->operator_id = g_strdup (req->operator_id);

        /* Someone else set this person's password (a reset): until they change it, their
         * sessions reach only the change itself and their own account (docs/ACCOUNTS.md). */
        if (g_strcmp0 (atrium_result_value (res, 0, COL_MUST_CHANGE), "t") == 0 &&
            !(e->owner == NULL && (e->flags & ATRIUM_ROUTE_PASSWORD_CHANGE))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_PASSWORD_CHANGE_REQUIRED,
                             "change your password first (POST /api/v1/me/password)");
                return FALSE;
        }
        if (g_strcmp0 (atrium_result_value (res, 0, COL_MUST_ENROL), "t") == 0 &&
            !(e->owner == NULL && (e->flags & ATRIUM_ROUTE_TOTP_ENROL))) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_SECOND_FACTOR_REQUIRED,
                             "your school wants a second factor: turn it on first "
                             "(POST /api/v1/me/totp)");
                return FALSE;
        }
        if (e->permission && !req->operator_id &&
            !atrium_perm_set_has (req->permissions, e->permission)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_FORBIDDEN,
                             "permission %s is required", e->permission);
                return FALSE;
        }
        return TRUE;
}

/* Queues the identity check in the request's transaction. A read (GET, HEAD) whose handler
 * learns who is asking only through the host table (every plugin route) or after its first
 * query (core routes flagged ATRIUM_ROUTE_EARLY_QUERY) sends its first query in the same
 * round trip; the check is judged before that query's result reaches the handler, and the
 * handler's answer is replaced if the check refuses (atrium_core_handle). Any other request
 * runs the check before its handler. */
static gboolean
begin_request (AtriumRequest *req, GError **error)
{
        const AtriumRouteEntry *e = req->route;
        const gboolean own_auth = (e->flags & ATRIUM_ROUTE_OWN_AUTH) != 0;
        const char *token = own_auth ? NULL : bearer_token (req);
        g_autofree char *cookie = NULL;
        if (!token && !own_auth && !(e->flags & (ATRIUM_ROUTE_DAV | ATRIUM_ROUTE_PUBLIC))) {
                /* A browser: the atrium_session cookie stands for the bearer token, and what
                 * it asks to change needs the session's CSRF token (browser-session.c). The
                 * OpenID provider's routes (ATRIUM_ROUTE_OWN_AUTH) read it themselves. */
                cookie = atrium_browser_session_token (req);
                if (cookie && !atrium_browser_session_check (req, cookie, error))
                        return FALSE;
                token = cookie;
        }
        const char *sql = identity_sql;
        const char *module =
                e->owner && e->scope == ATRIUM_SCOPE_SCHOOL ? e->owner->desc.name : NULL;
        g_auto (AtriumDavCaller) who = {0};
        if (e->flags & ATRIUM_ROUTE_DAV) {
                /* WebDAV: the tree's module is the one checked; Basic or Bearer says who asks
                 * (dav-auth.c); then the same identity check as any request. */
                const AtriumDavMount *m = atrium_dav_mount_of (req);
                gboolean discovery = !g_hash_table_contains (req->params, "mount");
                if (!m && !discovery) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND,
                                     "no DAV tree \"%s\"",
                                     (const char *) g_hash_table_lookup (req->params, "mount"));
                        return FALSE;
                }
                /* The core's own trees (principals) and discovery belong to no module. */
                module = m && m->owner ? m->owner->desc.name : NULL;
                token = NULL;
                if (!(e->flags & ATRIUM_ROUTE_PUBLIC) &&
                    !atrium_dav_authenticate (req, &who, error))
                        return FALSE;
        }
        if (!token && !who.token_hash && !who.user_id && (e->flags & ATRIUM_ROUTE_PUBLIC) &&
            e->scope != ATRIUM_SCOPE_SCHOOL) {
                /* Nobody to check and no school to resolve (/readyz, the operator-wide public
                 * routes): the caller is anonymous without asking the database. */
                req->roles = g_new0 (char *, 1);
                return TRUE;
        }
        Identity *id = g_new0 (Identity, 1);
        id->req = req;
        id->token_hash =
                token ? atrium_token_hash_literal (token) : g_steal_pointer (&who.token_hash);
        id->col_username = -1;
        if (e->flags & ATRIUM_ROUTE_DAV) {
                id->col_username = COL_AFTER_SETTINGS;
                id->claimed = g_steal_pointer (&who.claimed);
                sql = identity_dav_sql;
        }
        if (who.user_id) {
                /* A verified password: the user's id is the check's key, and names the
                 * permission list the host keeps for them. */
                sql = identity_dav_user_sql;
                id->token_hash = g_strconcat ("dav-user:", who.user_id, NULL);
        }
        id->kept = atrium_perm_cache_lookup (req->core->perm_cache, id->token_hash);
        g_autofree char *epoch =
                id->kept ? g_strdup_printf ("%" G_GINT64_FORMAT, atrium_perm_set_epoch (id->kept))
                         : NULL;
        const char *slug = e->scope == ATRIUM_SCOPE_SCHOOL
                                   ? g_hash_table_lookup (req->params, "school")
                                   : NULL;
        id->slug = slug;
        id->module = module;
        char school[37] = "";
        g_autofree char *school_epoch = NULL;
        if (atrium_school_cache_lookup (req->core->school_cache, slug, module, school,
                                        &id->school_epoch)) {
                id->school_sent = TRUE;
                school_epoch = g_strdup_printf ("%" G_GINT64_FORMAT, id->school_epoch);
        }
        const char *params[6] = {who.user_id ? who.user_id : id->token_hash,
                                 slug,
                                 module,
                                 epoch,
                                 id->school_sent ? school : NULL,
                                 school_epoch};
        atrium_tx_defer_gate (req->tx, sql, 6, params, admit, id, identity_free);
        /* A heavy read that may use the replica asks the primary who is asking, in a round
         * trip of its own: a token revoked, a session begun or a permission changed a moment
         * ago counts at once, whatever the replica has replayed. Then the handler reads from
         * the replica with the settings the check left (tx.c carries them). */
        gboolean replica =
                req->tx->read_only && (e->flags & ATRIUM_ROUTE_REPLICA) && req->core->replica;
        if (replica && !atrium_replica_usable (req->core->replica)) {
                /* Read from the primary, as if unflagged: the check keeps its shared trip. */
                atrium_replica_count (req->core->replica, FALSE);
                replica = FALSE;
        }
        gboolean early = !replica && req->tx->read_only &&
                         (e->owner || (e->flags & ATRIUM_ROUTE_EARLY_QUERY));
        if (early)
                return TRUE;
        /* A CPU-heavy handler (ATRIUM_ROUTE_SLOW: password hashing) must not keep the check's
         * transaction open while it hashes (identity/auth.c): the check is a whole transaction,
         * as a read's is, and the handler's first query begins the next one with the settings
         * it left. */
        const gboolean slow = (e->flags & ATRIUM_ROUTE_SLOW) && !req->tx->read_only;
        req->tx->read_only = req->tx->read_only || slow;
        const gboolean gated = atrium_tx_gate (req->tx, error);
        req->tx->read_only = req->tx->read_only && !slow;
        if (!gated)
                return FALSE;
        if (replica)
                atrium_tx_read_from (req->tx, req->core->replica);
        return TRUE;
}

/* Records the session's use, at most once a minute (core.request_identity()'s `touch`): in a
 * transaction of its own after the answer is settled, so that the check itself only reads. A
 * failure costs nothing but the record. */
static void
touch_session (AtriumCore *core, const char *session_id)
{
        g_autoptr (AtriumTx) tx = atrium_tx_new (core->pool, NULL, NULL);
        g_autoptr (GError) error = NULL;
        const char *params[1] = {session_id};
        g_autoptr (AtriumResult) res =
                atrium_tx_query (tx, "SELECT core.session_touch($1::uuid)", 1, params, &error);
        if (!res || !atrium_tx_commit (tx, &error))
                g_message ("recording the use of session %s failed: %s", session_id,
                           error ? error->message : "?");
}

gboolean
atrium_request_tx_commit (AtriumRequest *req, GError **error)
{
        g_return_val_if_fail (req != NULL && req->tx != NULL, FALSE);
        AtriumTx *tx = req->tx;
        /* The identity check decides first, if no query has taken it along yet; then the
         * events so far go to the outbox in the part that commits. */
        if (!atrium_tx_gate (tx, error) || !atrium_events_persist (req->core, tx, 0, error) ||
            !atrium_tx_commit_midway (tx, error))
                return FALSE;
        g_autoptr (GPtrArray) events = atrium_tx_steal_events (tx);
        if (!req->committed_events)
                req->committed_events =
                        g_ptr_array_new_with_free_func ((GDestroyNotify) atrium_queued_event_free);
        g_ptr_array_extend_and_steal (req->committed_events, g_steal_pointer (&events));
        return TRUE;
}

/* A 401 says how to authenticate (RFC 9110 section 15.5.2), here for every route, unless the
 * handler asked for something else itself (OpenID's clients, a share link's password). DAV
 * routes ask for Basic, which makes a file manager ask for a name and a password, in the realm
 * of their school ("Atrium" above the schools); every other route takes a bearer token, and
 * one that was sent and refused is named as such (RFC 6750 section 3). */
static void
challenge (AtriumRequest *req)
{
        if (req->status != 401)
                return;
        for (guint i = 0; i + 1 < req->response_headers->len; i += 2)
                if (g_ascii_strcasecmp (req->response_headers->pdata[i], "WWW-Authenticate") == 0)
                        return;
        if (req->route->flags & ATRIUM_ROUTE_DAV) {
                const char *school =
                        req->params ? g_hash_table_lookup (req->params, "school") : NULL;
                g_autofree char *realm =
                        g_strdup_printf ("Basic realm=\"Atrium%s%s\", charset=\"UTF-8\"",
                                         school ? " " : "", school ? school : "");
                atrium_request_add_header (req, "WWW-Authenticate", realm);
                return;
        }
        const char *sent = g_hash_table_lookup (req->headers, "authorization");
        gboolean bearer = sent && g_ascii_strncasecmp (sent, "Bearer ", 7) == 0;
        atrium_request_add_header (req, "WWW-Authenticate",
                                   bearer ? "Bearer realm=\"atrium\", error=\"invalid_token\""
                                          : "Bearer realm=\"atrium\"");
}

void
atrium_core_handle (AtriumCore *core, AtriumRequest *req)
{
        const AtriumRouteEntry *e = req->route;
        g_autoptr (GError) error = NULL;

        req->tx = atrium_tx_new (core->pool, NULL, NULL);
        /* A GET or HEAD, or DAV's PROPFIND and REPORT (safe methods, RFC 4918 9.1 and RFC 3253
         * 3.6): each pipeline a whole READ ONLY transaction (tx.c); one that writes after all
         * is run again in an ordinary transaction. */
        req->tx->read_only =
                g_str_equal (req->method, "GET") || g_str_equal (req->method, "HEAD") ||
                ((e->flags & ATRIUM_ROUTE_DAV) &&
                 (g_str_equal (req->method, "PROPFIND") || g_str_equal (req->method, "REPORT")));
        /* Who is asking comes first (an anonymous caller learns nothing about bodies); liveness
         * and metrics must answer even with the database gone. */
        gboolean ok = (e->flags & ATRIUM_ROUTE_NO_DB) ? TRUE : begin_request (req, &error);
        ok = ok && prepare_query (req, &error) && prepare_body (req, &error);
        if (ok) {
                ok = e->handler (req, e->user_data, &error);
                if (ok && req->status == 0) {
                        ok = FALSE;
                        g_set_error (&error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "handler for %s %s gave no answer", e->method, e->template);
                } else if (!ok && !error) {
                        g_set_error (&error, ATRIUM_ERROR, ATRIUM_ERROR_INTERNAL,
                                     "handler for %s %s failed without saying why", e->method,
                                     e->template);
                }
        }
        /* A deferred identity check that refused, or that no query took along, decides before
         * anything the handler answered. */
        g_autoptr (GError) refused = NULL;
        if (!atrium_tx_gate (req->tx, &refused)) {
                ok = FALSE;
                g_clear_error (&error);
                error = g_steal_pointer (&refused);
                if (req->response_headers)
                        g_ptr_array_set_size (req->response_headers, 0);
        }
        if (ok) /* its events go to the outbox in the same transaction (events.c) */
                ok = atrium_events_persist (core, req->tx, 0, &error);
        if (ok)
                ok = atrium_tx_commit (req->tx, &error);
        else
                atrium_tx_rollback (req->tx);

        if (req->touch_session && req->session_id)
                touch_session (core, req->session_id);
        if (req->committed_events && req->committed_events->len)
                atrium_events_deliver (core, req->school_id, req->user_id, req->committed_events);
        if (!ok) {
                if (atrium_error_status (error) >= 500 &&
                    atrium_error_status (error) != 507) /* a full quota is not our failure */
                        g_log_structured ("atrium", G_LOG_LEVEL_WARNING, "REQUEST_ID", req->request_id, "MESSAGE", "%s %s failed: %s [%s]",
                                          req->method, e->template, error->message,
                                          req->request_id);
                atrium_request_set_problem (req, error);
                challenge (req);
                return;
        }
        g_autoptr (GPtrArray) events = atrium_tx_steal_events (req->tx);
        if (events->len)
                atrium_events_deliver (core, req->school_id, req->user_id, events);
        if (core->config->check_responses)
                check_response (req);
        challenge (req); /* a handler's own 401 (a wrong password) */
}
