/* SPDX-License-Identifier: Apache-2.0 */
/* helpers.h - small conveniences every plugin would otherwise write again, compiled into the
 * plugin (static inline: they use only the AtriumHost table, never a host symbol, so they add
 * nothing to the ABI). */
#pragma once

#include <stdarg.h>
#include <string.h>

#include "host.h"

/**
 * atrium_queryv:
 * @n: number of parameters that follow (at most 16), each a `const char *` or NULL for SQL NULL
 *
 * host->query with the parameters as arguments: `atrium_queryv (host, tx, error, "SELECT ...
 * WHERE id = $1::uuid", 1, id)`. Returns: (transfer full) (nullable)
 */
static inline AtriumResult *
atrium_queryv (const AtriumHost *host, AtriumTx *tx, GError **error, const char *sql, int n, ...)
{
        const char *params[16];
        g_return_val_if_fail (n >= 0 && n <= 16, NULL);
        va_list ap;
        va_start (ap, n);
        for (int i = 0; i < n; i++)
                params[i] = va_arg (ap, const char *);
        va_end (ap);
        return host->query (tx, sql, n, params, error);
}

/* atrium_queryv in the request's transaction: `atrium_request_queryv (host, req, error,
 * "SELECT ... WHERE id = $1::uuid", 1, id)`. A plugin binds its host once in its private
 * header: `#define files_sql(...) atrium_request_queryv (files_host, __VA_ARGS__)`. */
#define atrium_request_queryv(host, req, error, ...)                                               \
        atrium_queryv ((host), (host)->request_tx (req), (error), __VA_ARGS__)

/* For a statement run for its effect: frees @res and returns TRUE when it is non-NULL (the
 * query succeeded), FALSE when it is NULL (the query failed and set the error):
 * `return atrium_done (host, atrium_queryv (host, tx, error, "DELETE ...", 1, id));` */
static inline gboolean
atrium_done (const AtriumHost *host, AtriumResult *res)
{
        if (!res)
                return FALSE;
        host->result_free (res);
        return TRUE;
}

/* For a statement that returns the row to answer with: answers @status with the first row of
 * @res as a JSON object and frees @res. Returns FALSE when @res is NULL (the query failed and
 * set the error) or has no row (@error set to ATRIUM_ERROR_NOT_FOUND with the detail
 * @missing): `return atrium_respond_row (host, req, 200, "no such folder",
 * atrium_request_queryv (...), error);` */
static inline gboolean
atrium_respond_row (const AtriumHost *host, AtriumRequest *req, guint status, const char *missing,
                    AtriumResult *res, GError **error)
{
        if (!res)
                return FALSE;
        JsonNode *row = host->result_n_rows (res) ? host->result_row_json (res, 0) : NULL;
        host->result_free (res);
        if (!row) {
                g_set_error_literal (error, ATRIUM_ERROR, ATRIUM_ERROR_NOT_FOUND, missing);
                return FALSE;
        }
        host->respond_json (req, status, row);
        return TRUE;
}

/* For a GDPR export (the descriptor's user_export): runs @sql in @tx with $1 = @user_id and
 * sets @member of @out to its rows, a JSON array:
 * `return atrium_export_rows (host, tx, out, "memberships", "SELECT ... WHERE user_id =
 * $1::uuid ORDER BY ...", user_id, error) && atrium_export_rows (...);` */
static inline gboolean
atrium_export_rows (const AtriumHost *host, AtriumTx *tx, JsonObject *out, const char *member,
                    const char *sql, const char *user_id, GError **error)
{
        const char *params[1] = {user_id};
        AtriumResult *res = host->query (tx, sql, 1, params, error);
        if (!res)
                return FALSE;
        json_object_set_member (out, member, host->result_rows_json (res));
        host->result_free (res);
        return TRUE;
}

/* Registers the @n routes at @routes, from init, stopping at the first the host refuses:
 * `return atrium_add_routes (host, self, routes, G_N_ELEMENTS (routes), error);` */
static inline gboolean
atrium_add_routes (const AtriumHost *host, AtriumPlugin *self, const AtriumRoute *routes, gsize n,
                   GError **error)
{
        for (gsize i = 0; i < n; i++)
                if (!host->add_route (self, &routes[i], error))
                        return FALSE;
        return TRUE;
}

/* Sets an ATRIUM_ERROR with a formatted message and returns FALSE: `return atrium_fail (error,
 * ATRIUM_ERROR_NOT_FOUND, "no group %s", id);` */
static inline gboolean atrium_fail (GError **error, AtriumErrorCode code, const char *fmt, ...)
        G_GNUC_PRINTF (3, 4);

static inline gboolean
atrium_fail (GError **error, AtriumErrorCode code, const char *fmt, ...)
{
        va_list ap;
        va_start (ap, fmt);
        char *msg = g_strdup_vprintf (fmt, ap);
        va_end (ap);
        g_set_error_literal (error, ATRIUM_ERROR, code, msg);
        g_free (msg);
        return FALSE;
}

/**
 * atrium_config_uint:
 * @section: the plugin's config section, as the message names it ("files": [files])
 * @fallback: the value when @key is not set
 * @out: (out): the value, written only on success
 *
 * Reads the whole-number setting @key (host->config_get) in @min..@max. Anything else fails
 * with ATRIUM_ERROR_INTERNAL naming the section, key, value and range, so init fails and the
 * operator learns of the typo at start: `[files] trash_days = "3O": expected a whole number
 * from 0 to 3650`. Call it from init.
 */
static inline gboolean
atrium_config_uint (const AtriumHost *host, AtriumPlugin *self, const char *section,
                    const char *key, guint64 fallback, guint64 min, guint64 max, guint64 *out,
                    GError **error)
{
        char *v = host->config_get (self, key);
        guint64 n = fallback;
        if (v && !g_ascii_string_to_unsigned (v, 10, min, max, &n, NULL)) {
                atrium_fail (error, ATRIUM_ERROR_INTERNAL,
                             "[%s] %s = \"%s\": expected a whole number from %" G_GUINT64_FORMAT
                             " to %" G_GUINT64_FORMAT,
                             section, key, v, min, max);
                g_free (v);
                return FALSE;
        }
        g_free (v);
        *out = n;
        return TRUE;
}

/* Wraps @o (taken) in a JsonNode for respond_json and publish. Returns: (transfer full) */
static inline JsonNode *
atrium_object_node (JsonObject *o)
{
        JsonNode *n = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (n, o);
        return n;
}

/* Wraps @a (taken) in a JsonNode. Returns: (transfer full) */
static inline JsonNode *
atrium_array_node (JsonArray *a)
{
        JsonNode *n = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (n, a);
        return n;
}

/* The uuid string member @member of an event payload ({"user_id": ...} of user.deleted), or
 * NULL when the payload is not an object or the member is absent or not a uuid. */
static inline const char *
atrium_payload_uuid (JsonNode *payload, const char *member)
{
        const char *id = payload && JSON_NODE_HOLDS_OBJECT (payload)
                                 ? json_object_get_string_member_with_default (
                                           json_node_get_object (payload), member, NULL)
                                 : NULL;
        return id && g_uuid_string_is_valid (id) ? id : NULL;
}

/* base64url (RFC 4648 section 5) of @data, without padding: tokens, cursors, JWT parts.
 * Returns: (transfer full) */
static inline char *
atrium_base64url_encode (const guchar *data, gsize len)
{
        char *s = g_base64_encode (data, len);
        for (char *c = s; *c; c++) {
                if (*c == '+') {
                        *c = '-';
                } else if (*c == '/') {
                        *c = '_';
                } else if (*c == '=') {
                        *c = '\0';
                        break;
                }
        }
        return s;
}

/* Decodes the @n bytes at @s as base64url, with or without padding. Returns: (transfer full)
 * (nullable): NULL when they are not base64url (any other character, an impossible length). */
static inline guchar *
atrium_base64url_decode (const char *s, gsize n, gsize *out_len)
{
        while (n > 0 && s[n - 1] == '=')
                n--;
        if (n % 4 == 1)
                return NULL;
        GString *b = g_string_sized_new (n + 3);
        for (gsize i = 0; i < n; i++) {
                char c = s[i];
                if (c == '-') {
                        c = '+';
                } else if (c == '_') {
                        c = '/';
                } else if (!g_ascii_isalnum (c)) {
                        g_string_free (b, TRUE);
                        return NULL;
                }
                g_string_append_c (b, c);
        }
        while (b->len % 4)
                g_string_append_c (b, '=');
        guchar *out = g_base64_decode (b->str, out_len);
        g_string_free (b, TRUE);
        return out;
}

/* ---- keyset pagination ----
 *
 * Every list in Atrium pages by keyset: ORDER BY the sort key, fetch one row more than the
 * limit (that row says another page follows), and hand out the key of the last item shown as
 * the cursor. The host owns the outer cursor (request_page decodes ?cursor= from base64url,
 * respond_page encodes next_cursor); these helpers own the text inside, which is the same
 * for every list: a JSON array of strings, the sort key of the last item handed out,
 * ["2026-05-04 08:00:00.123+00","<uuid>"]. JSON rather than a separator, because a key may
 * be a name holding any character ("|", line breaks). Clients must treat it as opaque. */

/**
 * AtriumPage:
 * @limit: items per page, 1..500 (?limit=, default 50)
 * @fetch: @limit + 1 as text: the LIMIT parameter to query with
 * @key: (nullable) (array zero-terminated=1): the sort key the previous page ended at, one
 *   string per letter of the @kinds given to atrium_page_begin(); %NULL on the first page
 *
 * Declare it `g_auto (AtriumPage) page = {0};`.
 */
typedef struct {
        int limit;
        char fetch[16];
        char **key;
} AtriumPage;

static inline void
atrium_page_clear (AtriumPage *page)
{
        g_clear_pointer (&page->key, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AtriumPage, atrium_page_clear)

/* TRUE when @s is a valid field of kind @kind (see atrium_page_begin). */
static inline gboolean
atrium_page_field_ok (char kind, const char *s)
{
        switch (kind) {
        case 's':
                return TRUE;
        case 'u':
                return g_uuid_string_is_valid (s);
        case 'i':
                return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, NULL, NULL);
        case 't': {
                /* PostgreSQL's timestamptz text ("2026-05-04 08:00:00.123+00") */
                GDateTime *t = g_date_time_new_from_iso8601 (s, NULL);
                if (t)
                        g_date_time_unref (t);
                return t != NULL;
        }
        default:
                g_return_val_if_reached (FALSE);
        }
}

/**
 * atrium_page_begin:
 * @kinds: one letter per field of the sort key, in order: 's' any text, 'u' a uuid, 'i' a
 *   64-bit integer, 't' a timestamp as PostgreSQL prints a timestamptz
 * @out_page: (out caller-allocates): filled on success
 *
 * Reads ?limit= and ?cursor= (through host->request_page) and splits the cursor into its
 * fields. A cursor this server did not hand out for this list (not a JSON array of strings,
 * the wrong number of fields, a field not of its kind) is ATRIUM_ERROR_INVALID (400), like a
 * bad limit. Then query with `atrium_page_after (&page, i, first)` as the key parameters and
 * `page.fetch` as the LIMIT, and answer with atrium_page_next().
 */
static inline gboolean
atrium_page_begin (const AtriumHost *host, AtriumRequest *req, const char *kinds,
                   AtriumPage *out_page, GError **error)
{
        g_return_val_if_fail (kinds != NULL && *kinds, FALSE);
        int limit = 0;
        char *after = NULL;
        if (!host->request_page (req, &limit, &after, error))
                return FALSE;
        char **key = NULL;
        if (after) {
                gsize n = strlen (kinds);
                JsonNode *node = json_from_string (after, NULL);
                JsonArray *a =
                        node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
                gboolean ok = a && json_array_get_length (a) == n;
                key = g_new0 (char *, n + 1);
                for (gsize i = 0; ok && i < n; i++) {
                        JsonNode *f = json_array_get_element (a, (guint) i);
                        ok = JSON_NODE_HOLDS_VALUE (f) &&
                             json_node_get_value_type (f) == G_TYPE_STRING &&
                             atrium_page_field_ok (kinds[i], json_node_get_string (f));
                        if (ok)
                                key[i] = g_strdup (json_node_get_string (f));
                }
                if (node)
                        json_node_unref (node);
                g_free (after);
                if (!ok) {
                        g_strfreev (key);
                        return atrium_fail (error, ATRIUM_ERROR_INVALID,
                                            "?cursor: not one this server handed out");
                }
        }
        out_page->limit = limit;
        g_snprintf (out_page->fetch, sizeof out_page->fetch, "%d", limit + 1);
        out_page->key = key;
        return TRUE;
}

/* Field @i of the cursor, or NULL on the first page. (transfer none) */
static inline const char *
atrium_page_key (const AtriumPage *page, guint i)
{
        return page->key ? page->key[i] : NULL;
}

/* The smallest and the largest UUID, first keys for atrium_page_after(). */
#define ATRIUM_UUID_MIN "00000000-0000-0000-0000-000000000000"
#define ATRIUM_UUID_MAX "ffffffff-ffff-ffff-ffff-ffffffffffff"

/**
 * atrium_page_after:
 * @page: the page
 * @i: the field
 * @first: the field on the first page: a value that sorts before every row's (after every
 *   row's, for a descending key), such as "-infinity" ("infinity"), "" or ATRIUM_UUID_MIN
 *   (ATRIUM_UUID_MAX)
 *
 * Field @i of the cursor, or @first on the first page. With it the keyset condition is one
 * plain row comparison, `(created_at, id) < ($1::timestamptz, $2::uuid)`: an index condition
 * the scan starts at, on every page. Written as `$1 IS NULL OR (...)` it is a filter in the
 * prepared statement's generic plan, which then costs more than a plan for the values, so
 * PostgreSQL plans the statement anew on every request. Read the page size as
 * `LIMIT (SELECT $n::int)` for the same reason: a plan for a known LIMIT looks cheaper than
 * the generic one. Returns: (transfer none)
 */
static inline const char *
atrium_page_after (const AtriumPage *page, guint i, const char *first)
{
        return page->key ? page->key[i] : first;
}

/**
 * atrium_page_cursor:
 * @n: number of fields
 * @fields: (array length=n): the sort key of the last item handed out
 *
 * The cursor text for respond_page: for keys that are not columns of a result (see
 * atrium_page_next for those). Returns: (transfer full)
 */
static inline char *
atrium_page_cursor (guint n, const char *const *fields)
{
        JsonArray *a = json_array_sized_new (n);
        for (guint i = 0; i < n; i++)
                json_array_add_string_element (a, fields[i] ? fields[i] : "");
        JsonNode *node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (node, a);
        char *text = json_to_string (node, FALSE);
        json_node_unref (node);
        return text;
}

/* atrium_page_next with the column indexes in @ap. */
static inline char *
atrium_page_next_valist (const AtriumHost *host, const AtriumPage *page, const AtriumResult *res,
                         guint n_cols, va_list ap)
{
        g_return_val_if_fail (n_cols >= 1 && n_cols <= 8, NULL);
        if (host->result_n_rows (res) <= page->limit)
                return NULL;
        const char *fields[8];
        for (guint i = 0; i < n_cols; i++)
                fields[i] = host->result_value (res, page->limit - 1, va_arg (ap, int));
        return atrium_page_cursor (n_cols, fields);
}

/**
 * atrium_page_next:
 * @res: the page's query, run with LIMIT page->fetch
 * @n_cols: number of column indexes that follow (at most 8), the sort key's columns in the
 *   order atrium_page_begin's @kinds names them
 *
 * The cursor for next_cursor: the key of the page's last row when @res holds a row more than
 * the page, else NULL (the last page). Returns: (transfer full) (nullable)
 */
static inline char *
atrium_page_next (const AtriumHost *host, const AtriumPage *page, const AtriumResult *res,
                  guint n_cols, ...)
{
        va_list ap;
        va_start (ap, n_cols);
        char *next = atrium_page_next_valist (host, page, res, n_cols, ap);
        va_end (ap);
        return next;
}

/**
 * atrium_page_respond_rows:
 * @res: (transfer full): the page's query, run with LIMIT page->fetch; freed here
 * @drop: (nullable): a column to leave out of the items (a sort key that is no field)
 * @n_cols: the sort key's columns, as for atrium_page_next
 *
 * Answers the page when its items are the rows as they are (result_row_json): the first
 * page->limit rows of @res, and next_cursor from the last of them when another page follows.
 */
static inline void
atrium_page_respond_rows (const AtriumHost *host, AtriumRequest *req, const AtriumPage *page,
                          AtriumResult *res, const char *drop, guint n_cols, ...)
{
        va_list ap;
        va_start (ap, n_cols);
        char *next = atrium_page_next_valist (host, page, res, n_cols, ap);
        va_end (ap);
        if (!drop && ATRIUM_HOST_HAS (host, respond_result_page)) {
                /* ABI 1.3: the rows straight to JSON text, no JsonNode per row. */
                host->respond_result_page (req, res, page->limit, next);
        } else {
                JsonArray *items = json_array_new ();
                int rows = host->result_n_rows (res);
                for (int i = 0; i < rows && i < page->limit; i++) {
                        JsonNode *row = host->result_row_json (res, i);
                        if (drop)
                                json_object_remove_member (json_node_get_object (row), drop);
                        json_array_add_element (items, row);
                }
                host->respond_page (req, atrium_array_node (items), next);
        }
        host->result_free (res);
        g_free (next);
}

/* ---- retention: pruning what is older than a cut-off, school by school, in batches ---- */

typedef struct {
        const AtriumHost *host;
        const char *sql; /* the schools' query, then the batch's */
        const char *before;
        const char *batch;
        GPtrArray *schools;
        gint64 pruned;
} AtriumPruneJob;

static inline gboolean
atrium_prune_find_schools_ (AtriumTx *tx, gpointer data, GError **error)
{
        AtriumPruneJob *j = (AtriumPruneJob *) data;
        AtriumResult *res = atrium_queryv (j->host, tx, error, j->sql, 1, j->before);
        if (!res)
                return FALSE;
        for (int i = 0; i < j->host->result_n_rows (res); i++)
                g_ptr_array_add (j->schools, g_strdup (j->host->result_value (res, i, 0)));
        j->host->result_free (res);
        return TRUE;
}

static inline gboolean
atrium_prune_batch_ (AtriumTx *tx, gpointer data, GError **error)
{
        AtriumPruneJob *j = (AtriumPruneJob *) data;
        AtriumResult *res = atrium_queryv (j->host, tx, error, j->sql, 2, j->before, j->batch);
        if (!res)
                return FALSE;
        j->pruned += g_ascii_strtoll (j->host->result_value (res, 0, 0), NULL, 10);
        j->host->result_free (res);
        return TRUE;
}

/**
 * atrium_prune_by_school:
 * @schools_sql: answers the ids of the schools with something older than $1 (a timestamptz),
 *   run outside any school (its function is SECURITY DEFINER, or the table has no RLS)
 * @prune_sql: deletes at most $2 rows older than $1 in the transaction's school and answers
 *   how many it deleted (one row, one column)
 * @days: the retention: rows older than this many days go
 * @batch: rows per transaction
 * @out_pruned: (out): how many went in all
 *
 * For a timer (add_timer, on the leader) or a command (add_command) that drops what a plugin
 * keeps only for a while, such as the tombstones of a sync protocol: one transaction per
 * batch, so no transaction holds a large school's rows for long, and batch after batch until
 * a school's comes back short. `return atrium_prune_by_school (host, self, "SELECT
 * cal.schools_with_old($1)", "SELECT cal.prune($1, $2)", 90, 10000, &n, error);`
 */
static inline gboolean
atrium_prune_by_school (const AtriumHost *host, AtriumPlugin *self, const char *schools_sql,
                        const char *prune_sql, int days, int batch, gint64 *out_pruned,
                        GError **error)
{
        GDateTime *now = g_date_time_new_now_utc ();
        GDateTime *cut = g_date_time_add_days (now, -days);
        char *before = g_date_time_format_iso8601 (cut);
        char *limit = g_strdup_printf ("%d", batch);
        AtriumPruneJob j = {
                host, schools_sql, before, limit, g_ptr_array_new_with_free_func (g_free), 0};
        gboolean ok = host->run_tx (self, NULL, atrium_prune_find_schools_, &j, error);
        j.sql = prune_sql;
        for (guint i = 0; ok && i < j.schools->len; i++) {
                gint64 was;
                do { /* batch after batch, each committed */
                        was = j.pruned;
                        ok = host->run_tx (self, (const char *) j.schools->pdata[i],
                                           atrium_prune_batch_, &j, error);
                } while (ok && j.pruned - was == batch);
        }
        *out_pruned = j.pruned;
        g_ptr_array_unref (j.schools);
        g_free (limit);
        g_free (before);
        g_date_time_unref (cut);
        g_date_time_unref (now);
        return ok;
}

/**
 * AtriumPruning:
 * @noun: what is pruned, for the command's answer ("tombstones": "pruned 3 tombstones")
 * @label: the same for the host's log ("CalDAV tombstones")
 * @summary: the command's line in `atriumd --help`
 * @schools_sql, @prune_sql, @days, @batch: as for atrium_prune_by_school()
 * @interval_seconds: how often the timer runs
 *
 * What atrium_add_pruning() registers; keep it static (the timer and the command keep its
 * address). The fields after @interval_seconds are the helper's.
 */
typedef struct {
        const char *noun;
        const char *label;
        const char *summary;
        const char *schools_sql;
        const char *prune_sql;
        int days;
        int batch;
        guint interval_seconds;
        /*< private >*/
        const AtriumHost *host_;
        const char *plugin_;
} AtriumPruning;

static inline void
atrium_pruning_timer_ (AtriumPlugin *self, gpointer data)
{
        AtriumPruning *p = (AtriumPruning *) data;
        GError *error = NULL;
        gint64 n = 0;
        char *msg = NULL;
        if (!atrium_prune_by_school (p->host_, self, p->schools_sql, p->prune_sql, p->days,
                                     p->batch, &n, &error))
                msg = g_strdup_printf ("pruning %s failed: %s", p->label, error->message);
        else if (n > 0)
                msg = g_strdup_printf ("pruned %" G_GINT64_FORMAT " %s older than %d days", n,
                                       p->label, p->days);
        if (msg)
                p->host_->log (self, error ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO, msg);
        g_free (msg);
        g_clear_error (&error);
}

static inline int
atrium_pruning_command_ (AtriumPlugin *self, int argc, char **argv, gpointer data)
{
        AtriumPruning *p = (AtriumPruning *) data;
        (void) argv;
        if (argc > 0) {
                g_printerr ("usage: atriumd %s prune\n", p->plugin_);
                return 2;
        }
        GError *error = NULL;
        gint64 n = 0;
        if (!atrium_prune_by_school (p->host_, self, p->schools_sql, p->prune_sql, p->days,
                                     p->batch, &n, &error)) {
                g_printerr ("%s prune: %s\n", p->plugin_, error->message);
                g_error_free (error);
                return 1;
        }
        g_print ("pruned %" G_GINT64_FORMAT " %s\n", n, p->noun);
        return 0;
}

/**
 * atrium_add_pruning:
 * @plugin: the plugin's name, as in `atriumd <plugin> prune`
 * @p: (transfer none): static; filled in
 *
 * From init: the command `atriumd <plugin> prune` and a timer every @p->interval_seconds
 * (on the leader), both running atrium_prune_by_school() with @p's queries. The command
 * prints "pruned N <noun>"; the timer logs what it pruned, and a failure as a warning. */
static inline gboolean
atrium_add_pruning (const AtriumHost *host, AtriumPlugin *self, const char *plugin,
                    AtriumPruning *p, GError **error)
{
        p->host_ = host;
        p->plugin_ = plugin;
        return host->add_command (self, "prune", p->summary, atrium_pruning_command_, p, error) &&
               host->add_timer (self, p->interval_seconds, atrium_pruning_timer_, p, error);
}
