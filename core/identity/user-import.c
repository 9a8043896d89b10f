/* SPDX-License-Identifier: Apache-2.0 */
/* user-import.c - POST /api/v1/schools/{school}/users/import: people from a CSV export of
 * school administration software.
 *
 * Columns are found by name in the header row (English and the German names common in
 * exports: "Vorname", "Nachname", "Rolle", ...). Rows are matched by external_id, so a
 * re-import updates instead of duplicating; rows without one are matched by username. The
 * whole file is validated in memory against the school's current people first (one query),
 * then only the rows that change are written: 5,000 rows take one round trip each at most.
 * ?dry_run=true reports the same outcome and writes nothing. Accounts are created without a
 * password (hashing thousands of passwords per request would take minutes); admins set them
 * with PATCH. */
#include "identity-private.h"
#include "plugin-host-private.h"

#include <string.h>

typedef enum { COL_USERNAME, COL_DISPLAY, COL_FIRST, COL_LAST, COL_ROLES, COL_EXTERNAL, N_COLS } Col;

static const char *const aliases[N_COLS][12] = {
        [COL_USERNAME] = {"username", "login", "loginname", "benutzername", "user", "account", NULL},
        [COL_DISPLAY] = {"displayname", "name", "anzeigename", "fullname", NULL},
        [COL_FIRST] = {"firstname", "givenname", "vorname", "rufname", NULL},
        [COL_LAST] = {"lastname", "surname", "familyname", "nachname", "familienname", NULL},
        [COL_ROLES] = {"roles", "role", "rolle", "rollen", "type", "typ", NULL},
        [COL_EXTERNAL] = {"externalid", "id", "uid", "guid", "personid", "schuelerid",
                          "schülerid", "lehrerid", "schild-id", "asvid", NULL},
};

/* "Schüler-ID " -> "schülerid": lower-case, without spaces, '_' and '-'. */
static char *
normalise_header (const char *h)
{
        g_autofree char *lower = g_utf8_strdown (h, -1);
        GString *s = g_string_new (NULL);
        for (const char *p = lower; *p; p++)
                if (*p != ' ' && *p != '_' && *p != '-' && *p != '.')
                        g_string_append_c (s, *p);
        return g_string_free (s, FALSE);
}

static const char *
map_role (const char *word)
{
        static const char *const table[][2] = {
                {"admin", "admin"},       {"administrator", "admin"}, {"teacher", "teacher"},
                {"lehrer", "teacher"},    {"lehrerin", "teacher"},    {"lehrkraft", "teacher"},
                {"student", "student"},   {"pupil", "student"},       {"schüler", "student"},
                {"schueler", "student"},  {"schülerin", "student"},   {"parent", "parent"},
                {"eltern", "parent"},     {"elternteil", "parent"},   {"staff", "staff"},
                {"mitarbeiter", "staff"}, {"personal", "staff"},      {"verwaltung", "staff"},
        };
        g_autofree char *w = g_utf8_strdown (word, -1);
        for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
                if (g_str_equal (w, table[i][0]))
                        return table[i][1];
        return NULL;
}

/* "Lehrer; Admin" -> "{teacher,admin}", or NULL with @bad set to the unknown word. */
static char *
roles_literal (const char *cell, const char *fallback, char **bad)
{
        g_auto (GStrv) words = g_regex_split_simple ("[,;| /]+", cell ? cell : "", 0, 0);
        g_autoptr (GPtrArray) roles = g_ptr_array_new ();
        for (char **w = words; *w; w++) {
                if (!**w)
                        continue;
                const char *r = map_role (*w);
                if (!r) {
                        *bad = g_strdup (*w);
                        return NULL;
                }
                if (!g_ptr_array_find_with_equal_func (roles, r, g_str_equal, NULL))
                        g_ptr_array_add (roles, (gpointer) r);
        }
        if (roles->len == 0 && fallback)
                g_ptr_array_add (roles, (gpointer) fallback);
        if (roles->len == 0)
                return NULL;
        GString *s = g_string_new ("{");
        for (guint i = 0; i < roles->len; i++)
                g_string_append_printf (s, "%s%s", i ? "," : "", (char *) roles->pdata[i]);
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

/* "Zoë Müller-Lüdenscheidt" + "Anna" -> "anna.muller-ludenscheidt" */
static char *
derive_username (const char *first, const char *last)
{
        g_autofree char *full = g_strdup_printf ("%s.%s", first, last);
        g_autofree char *ascii = g_str_to_ascii (full, "C");
        g_autofree char *lower = g_ascii_strdown (ascii, -1);
        GString *s = g_string_new (NULL);
        for (const char *p = lower; *p && s->len < 60; p++)
                if (g_ascii_isalnum (*p) || *p == '.' || *p == '-')
                        g_string_append_c (s, *p);
        return g_string_free (s, FALSE);
}

typedef struct {
        char *id, *username, *display_name, *roles, *external_id;
} Existing;

static void
existing_free (Existing *e)
{
        g_free (e->id);
        g_free (e->username);
        g_free (e->display_name);
        g_free (e->roles);
        g_free (e->external_id);
        g_free (e);
}

static JsonObject *
row_result (guint line, const char *status)
{
        JsonObject *o = json_object_new ();
        json_object_set_int_member (o, "line", line);
        json_object_set_string_member (o, "status", status);
        return o;
}

static gboolean
import_users (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        const char *dry = req->query ? g_hash_table_lookup (req->query, "dry_run") : NULL;
        gboolean dry_run = dry && (g_str_equal (dry, "true") || g_str_equal (dry, "1"));
        const char *fallback_role = req->query ? g_hash_table_lookup (req->query, "default_role")
                                               : NULL;
        if (fallback_role && !map_role (fallback_role)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "unknown default_role %s",
                             fallback_role);
                return FALSE;
        }
        if (fallback_role)
                fallback_role = map_role (fallback_role);
        if (!req->body) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "send the CSV as the request body");
                return FALSE;
        }
        g_autoptr (AtriumCsv) csv = atrium_csv_parse (g_bytes_get_data (req->body, NULL),
                                                      g_bytes_get_size (req->body), error);
        if (!csv)
                return FALSE;

        int col[N_COLS];
        for (int c = 0; c < N_COLS; c++)
                col[c] = -1;
        JsonArray *ignored = json_array_new ();
        for (guint i = 0; i < csv->header->len; i++) {
                g_autofree char *h = normalise_header (csv->header->pdata[i]);
                gboolean used = FALSE;
                for (int c = 0; c < N_COLS && !used; c++)
                        for (int a = 0; aliases[c][a] && !used; a++)
                                if (g_str_equal (h, aliases[c][a]) && col[c] < 0)
                                        col[c] = (int) i, used = TRUE;
                if (!used)
                        json_array_add_string_element (ignored, csv->header->pdata[i]);
        }
        g_autoptr (JsonNode) ignored_node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (ignored_node, ignored);
        if (col[COL_USERNAME] < 0 && (col[COL_FIRST] < 0 || col[COL_LAST] < 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header needs a username column, or first and last name "
                             "columns to derive it from");
                return FALSE;
        }
        if (col[COL_DISPLAY] < 0 && (col[COL_FIRST] < 0 || col[COL_LAST] < 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header needs a display_name column, or first and last name");
                return FALSE;
        }
        if (col[COL_ROLES] < 0 && !fallback_role) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header has no roles column; add one or pass ?default_role=");
                return FALSE;
        }

        /* Everyone the school has now, by username and by external_id. */
        g_autoptr (AtriumResult) all = atrium_sql (
                req, error,
                "SELECT id, username, display_name, roles::text, external_id FROM core.users", 0);
        if (!all)
                return FALSE;
        g_autoptr (GHashTable) by_name =
                g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) existing_free);
        g_autoptr (GHashTable) by_ext = g_hash_table_new (g_str_hash, g_str_equal);
        for (int i = 0; i < atrium_result_n_rows (all); i++) {
                Existing *e = g_new0 (Existing, 1);
                e->id = g_strdup (atrium_result_value (all, i, 0));
                e->username = g_strdup (atrium_result_value (all, i, 1));
                e->display_name = g_strdup (atrium_result_value (all, i, 2));
                e->roles = g_strdup (atrium_result_value (all, i, 3));
                e->external_id = g_strdup (atrium_result_value (all, i, 4));
                g_hash_table_insert (by_name, e->username, e);
                if (e->external_id)
                        g_hash_table_insert (by_ext, e->external_id, e);
        }

        JsonArray *results = json_array_new ();
        g_autoptr (JsonNode) results_node = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (results_node, results);
        guint created = 0, updated = 0, unchanged = 0, failed = 0;
        g_autoptr (GHashTable) seen_ext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr (GHashTable) seen_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

        for (guint r = 0; r < csv->rows->len; r++) {
                GPtrArray *row = csv->rows->pdata[r];
                guint line = g_array_index (csv->lines, guint, r);
#define CELL(c) (col[c] >= 0 && (guint) col[c] < row->len ? (const char *) row->pdata[col[c]] : "")
                const char *ext = *CELL (COL_EXTERNAL) ? CELL (COL_EXTERNAL) : NULL;
                g_autofree char *display = *CELL (COL_DISPLAY)
                                                   ? g_strdup (CELL (COL_DISPLAY))
                                                   : g_strstrip (g_strdup_printf ("%s %s", CELL (COL_FIRST),
                                                                                  CELL (COL_LAST)));
                Existing *match = ext ? g_hash_table_lookup (by_ext, ext) : NULL;
                g_autofree char *username = NULL;
                if (*CELL (COL_USERNAME))
                        username = g_utf8_strdown (CELL (COL_USERNAME), -1);
                else if (match)
                        username = g_strdup (match->username);
                else if (*CELL (COL_FIRST) && *CELL (COL_LAST))
                        username = derive_username (CELL (COL_FIRST), CELL (COL_LAST));
                g_autofree char *bad_role = NULL;
                g_autofree char *roles = roles_literal (CELL (COL_ROLES), fallback_role, &bad_role);
#undef CELL
                if (!match && !ext && username)
                        match = g_hash_table_lookup (by_name, username);

                const char *problem = NULL;
                g_autofree char *problem_buf = NULL;
                if (!username || !g_regex_match_simple ("^[a-z0-9._-]{2,64}\\z", username, 0, 0))
                        problem = "username must be 2-64 of a-z 0-9 . _ -";
                else if (!*display || g_utf8_strlen (display, -1) > 200)
                        problem = "display name is empty or longer than 200 characters";
                else if (!roles)
                        problem = problem_buf = bad_role ? g_strdup_printf ("unknown role \"%s\"", bad_role)
                                                         : g_strdup ("no role");
                else if (ext && strlen (ext) > 200)
                        problem = "external_id is longer than 200 characters";
                else if (ext && g_hash_table_contains (seen_ext, ext))
                        problem = "external_id appears twice in this file";
                else if (g_hash_table_contains (seen_name, username))
                        problem = "username appears twice in this file";
                else {
                        Existing *holder = g_hash_table_lookup (by_name, username);
                        if (holder && holder != match)
                                problem = "username belongs to another person";
                }
                if (problem) {
                        JsonObject *o = row_result (line, "error");
                        json_object_set_string_member (o, "error", problem);
                        json_array_add_object_element (results, o);
                        failed++;
                        continue;
                }
                if (ext)
                        g_hash_table_add (seen_ext, g_strdup (ext));
                g_hash_table_add (seen_name, g_strdup (username));

                const char *status;
                g_autofree char *id = match ? g_strdup (match->id) : NULL;
                if (match && g_str_equal (match->username, username) &&
                    g_str_equal (match->display_name, display) && g_str_equal (match->roles, roles) &&
                    g_strcmp0 (match->external_id, ext) == 0) {
                        status = "unchanged";
                        unchanged++;
                } else if (match) {
                        status = "updated";
                        updated++;
                        if (!dry_run) {
                                g_autoptr (AtriumResult) u = atrium_sql (
                                        req, error,
                                        "UPDATE core.users SET username = $2, display_name = $3, "
                                        "roles = $4::text[], external_id = coalesce($5, external_id), "
                                        "updated_at = now() WHERE id = $1::uuid",
                                        5, id, username, display, roles, ext);
                                if (!u)
                                        return FALSE;
                        }
                } else {
                        status = "created";
                        created++;
                        if (!dry_run) {
                                g_autoptr (AtriumResult) c = atrium_sql (
                                        req, error,
                                        "INSERT INTO core.users (school_id, username, display_name, "
                                        "roles, external_id) VALUES ($1::uuid, $2, $3, $4::text[], $5) "
                                        "RETURNING id",
                                        5, req->school_id, username, display, roles, ext);
                                if (!c)
                                        return FALSE;
                                id = g_strdup (atrium_result_value (c, 0, 0));
                        }
                }
                JsonObject *o = row_result (line, status);
                if (id)
                        json_object_set_string_member (o, "id", id);
                else
                        json_object_set_null_member (o, "id");
                json_object_set_string_member (o, "username", username);
                json_array_add_object_element (results, o);
        }

        JsonObject *out = json_object_new ();
        json_object_set_boolean_member (out, "dry_run", dry_run);
        json_object_set_int_member (out, "created", created);
        json_object_set_int_member (out, "updated", updated);
        json_object_set_int_member (out, "unchanged", unchanged);
        json_object_set_int_member (out, "errors", failed);
        json_object_set_member (out, "ignored_columns", g_steal_pointer (&ignored_node));
        json_object_set_member (out, "rows", g_steal_pointer (&results_node));
        if (!dry_run) {
                JsonObject *d = json_object_new ();
                json_object_set_int_member (d, "created", created);
                json_object_set_int_member (d, "updated", updated);
                json_object_set_int_member (d, "errors", failed);
                atrium_audit (req, "user.imported", NULL, atrium_json_object_node (d));
        }
        core->host->respond_json (req, 200, atrium_json_object_node (out));
        return TRUE;
}

void
atrium_import_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST",
                 .path = "/api/v1/schools/{school}/users/import", .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_RAW_BODY, .permission = "users.manage",
                 .summary = "Import people from CSV (text/csv; ?dry_run=true, ?default_role=)",
                 .handler = import_users},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
