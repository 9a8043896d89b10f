/* SPDX-License-Identifier: Apache-2.0 */
/* user-import.c - POST /api/v1/schools/{school}/users/import: a school year from a CSV export
 * of school administration software (SchILD-NRW, LUSD, ASV, Magellan, Untis, a spreadsheet).
 *
 * Columns are found by name (import-columns.c: built-in German and English names, a preset,
 * the school's saved mapping). Rows are matched by external id, so a re-import updates instead
 * of duplicating and a person keeps their username; rows without one are matched by username.
 * The whole file is judged in memory against the school's people first (one query), so a dry
 * run reports exactly what a real run would do; a real run then writes everything set-wise,
 * a handful of statements whatever the file's size.
 *
 * Classes and courses: each person's class is recorded on their row (what the last import
 * said, so moves and leavers are reported even without the groups module) and, where the
 * school has the groups module, made into membership of the class group of that name through
 * the groups service (atrium/groups.h, version 3): the core never links the plugin, it calls
 * the table the running plugin published.
 *
 * Leavers are never deleted. People who came from imports and are missing from the file are
 * reported; ?remove_missing=disable disables them (no sign-in, sessions revoked, data kept),
 * and refuses a file that leaves more than 10 % of them out (a partial export) unless
 * ?force=true. Accounts are created without a password (hashing thousands of passwords per
 * request would take minutes); admins set them with PATCH. */
#include "identity-private.h"
#include "pipeline-private.h"
#include "plugin-host-private.h"

#include <atrium/groups.h>
#include <string.h>

/* A file that leaves out more than this share of the imported people looks partial. */
#define PARTIAL_PERCENT 10
#define MAX_COURSES 50

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

/* "Lehrer; Admin" -> ["teacher", "admin"] (static strings), or NULL with @bad set to the
 * unknown word. */
static GPtrArray *
parse_roles (const char *cell, const char *fallback, char **bad)
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
        return roles->len ? g_steal_pointer (&roles) : NULL;
}

/* ["teacher", "admin"] -> "{teacher,admin}", the way PostgreSQL prints the roles column. */
static char *
roles_literal (GPtrArray *roles)
{
        GString *s = g_string_new ("{");
        for (guint i = 0; i < roles->len; i++)
                g_string_append_printf (s, "%s%s", i ? "," : "", (char *) roles->pdata[i]);
        g_string_append_c (s, '}');
        return g_string_free (s, FALSE);
}

/* "Mathe LK, Physik GK | Chor" -> names, without blanks and repeats (case-insensitively). */
static GPtrArray *
parse_courses (const char *cell)
{
        g_auto (GStrv) words = g_regex_split_simple ("[,;|]+", cell, 0, 0);
        GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
        g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (char **w = words; *w; w++) {
                char *name = g_strstrip (*w);
                if (*name && g_hash_table_add (seen, g_utf8_strdown (name, -1)))
                        g_ptr_array_add (out, g_strdup (name));
        }
        return out;
}

typedef struct {
        char *id, *username, *display_name, *roles, *external_id, *email, *klass;
        GPtrArray *courses; /* NULL: never imported with courses */
        gboolean disabled, imported, seen;
} Existing;

static void
existing_free (Existing *e)
{
        g_free (e->id);
        g_free (e->username);
        g_free (e->display_name);
        g_free (e->roles);
        g_free (e->external_id);
        g_free (e->email);
        g_free (e->klass);
        if (e->courses)
                g_ptr_array_unref (e->courses);
        g_free (e);
}

static gboolean
same_list (GPtrArray *a, GPtrArray *b)
{
        if (!a || !b)
                return a == b;
        if (a->len != b->len)
                return FALSE;
        for (guint i = 0; i < a->len; i++)
                if (!g_str_equal (a->pdata[i], b->pdata[i]))
                        return FALSE;
        return TRUE;
}

static JsonNode *
strv_node (GPtrArray *list)
{
        JsonArray *a = json_array_new ();
        for (guint i = 0; list && i < list->len; i++)
                json_array_add_string_element (a, list->pdata[i]);
        return json_node_init_array (json_node_alloc (), a);
}

static void
set_nullable (JsonObject *o, const char *member, const char *value)
{
        if (value)
                json_object_set_string_member (o, member, value);
        else
                json_object_set_null_member (o, member);
}

/* changes[field] = {"old": ..., "new": ...} */
static void
change (JsonObject *changes, const char *field, JsonNode *old_value, JsonNode *new_value)
{
        JsonObject *c = json_object_new ();
        json_object_set_member (c, "old", old_value);
        json_object_set_member (c, "new", new_value);
        json_object_set_object_member (changes, field, c);
}

static JsonNode *
str_node (const char *s)
{
        JsonNode *n = json_node_alloc ();
        return s ? json_node_init_string (n, s) : json_node_init_null (n);
}

static char *
json_text (JsonNode *node)
{
        g_autoptr (JsonGenerator) gen = json_generator_new ();
        json_generator_set_root (gen, node);
        return json_generator_to_data (gen, NULL);
}

static gboolean
parse_flag (AtriumRequest *req, const char *name, gboolean *out, GError **error)
{
        const char *v = atrium_request_query (req, name);
        *out = FALSE;
        if (!v)
                return TRUE;
        if (g_str_equal (v, "true") || g_str_equal (v, "1"))
                *out = TRUE;
        else if (!g_str_equal (v, "false") && !g_str_equal (v, "0")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "%s must be true or false, not \"%s\"", name, v);
                return FALSE;
        }
        return TRUE;
}

/* Everything one import works with, so the steps below stay small. */
typedef struct {
        AtriumRequest *req;
        gboolean dry_run, disable_missing, force;
        const char *fallback_role;
        int col[ATRIUM_IMPORT_N_FIELDS];
        const AtriumGroupsService *groups; /* NULL: no groups module for this school */
        GHashTable *by_name, *by_ext;      /* Existing*, owned by by_name */
        GHashTable *seen_ext, *seen_name;
        GHashTable *bad_class, *bad_course; /* lower-case names held by another group type */
        AtriumTranslit *translit;
        JsonArray *results, *creates, *updates, *enabled;
        JsonArray *class_plan, *course_plan; /* {"user_id" | "username", "groups"} */
        guint created, updated, moved, unchanged, failed;
} Import;

static void
import_clear (Import *im)
{
        g_clear_pointer (&im->by_ext, g_hash_table_unref);
        g_clear_pointer (&im->by_name, g_hash_table_unref);
        g_clear_pointer (&im->seen_ext, g_hash_table_unref);
        g_clear_pointer (&im->seen_name, g_hash_table_unref);
        g_clear_pointer (&im->bad_class, g_hash_table_unref);
        g_clear_pointer (&im->bad_course, g_hash_table_unref);
        g_clear_pointer (&im->translit, atrium_translit_free);
        g_clear_pointer (&im->creates, json_array_unref);
        g_clear_pointer (&im->updates, json_array_unref);
        g_clear_pointer (&im->enabled, json_array_unref);
        g_clear_pointer (&im->class_plan, json_array_unref);
        g_clear_pointer (&im->course_plan, json_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Import, import_clear)

static gboolean
load_people (Import *im, GError **error)
{
        g_autoptr (AtriumResult) all =
                atrium_sql (im->req, error,
                            "SELECT id, username, display_name, roles::text, external_id, email, "
                            "disabled_at IS NOT NULL, imported_at IS NOT NULL, import_class, "
                            "array_to_json(import_courses)::text FROM core.users",
                            0);
        if (!all)
                return FALSE;
        for (int i = 0; i < atrium_result_n_rows (all); i++) {
                Existing *e = g_new0 (Existing, 1);
                e->id = g_strdup (atrium_result_value (all, i, 0));
                e->username = g_strdup (atrium_result_value (all, i, 1));
                e->display_name = g_strdup (atrium_result_value (all, i, 2));
                e->roles = g_strdup (atrium_result_value (all, i, 3));
                e->external_id = g_strdup (atrium_result_value (all, i, 4));
                e->email = g_strdup (atrium_result_value (all, i, 5));
                e->disabled = g_str_equal (atrium_result_value (all, i, 6), "t");
                e->imported = g_str_equal (atrium_result_value (all, i, 7), "t");
                e->klass = g_strdup (atrium_result_value (all, i, 8));
                const char *courses = atrium_result_value (all, i, 9);
                if (courses) {
                        g_autoptr (JsonNode) n = json_from_string (courses, NULL);
                        e->courses = g_ptr_array_new_with_free_func (g_free);
                        JsonArray *a =
                                n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
                        for (guint j = 0; a && j < json_array_get_length (a); j++)
                                g_ptr_array_add (e->courses,
                                                 g_strdup (json_array_get_string_element (a, j)));
                }
                g_hash_table_insert (im->by_name, e->username, e);
                if (e->external_id)
                        g_hash_table_insert (im->by_ext, e->external_id, e);
        }
        return TRUE;
}

#define CELL(row, c)                                                                               \
        (im->col[c] >= 0 && (guint) im->col[c] < (row)->len                                        \
                 ? (const char *) (row)->pdata[im->col[c]]                                         \
                 : "")

/* Asks the groups service which class and course names of the file are new, and which belong
 * to a group of another type (those rows fail). Fills @groups_out for the answer. */
static gboolean
check_group_names (Import *im, AtriumCsv *csv, JsonObject *groups_out, GError **error)
{
        struct {
                int field;
                const char *type, *member;
                GHashTable **bad;
        } kinds[] = {
                {ATRIUM_IMPORT_CLASS, "class", "classes_created", &im->bad_class},
                {ATRIUM_IMPORT_COURSES, "course", "courses_created", &im->bad_course},
        };
        for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++) {
                *kinds[k].bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
                g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
                for (guint r = 0; im->col[kinds[k].field] >= 0 && r < csv->rows->len; r++) {
                        const char *cell = CELL ((GPtrArray *) csv->rows->pdata[r], kinds[k].field);
                        if (kinds[k].field == ATRIUM_IMPORT_CLASS) {
                                if (*cell && g_utf8_strlen (cell, -1) <= 200)
                                        g_ptr_array_add (names, g_strdup (cell));
                        } else {
                                g_autoptr (GPtrArray) list = parse_courses (cell);
                                for (guint i = 0; i < list->len; i++)
                                        g_ptr_array_add (names, g_strdup (list->pdata[i]));
                        }
                }
                g_ptr_array_add (names, NULL);
                g_auto (GStrv) fresh = NULL, taken = NULL;
                if (!im->groups->import_check (im->req->tx, kinds[k].type,
                                               (const char *const *) names->pdata, &fresh, &taken,
                                               error))
                        return FALSE;
                JsonArray *a = json_array_new ();
                for (char **n = fresh; *n; n++)
                        json_array_add_string_element (a, *n);
                json_object_set_array_member (groups_out, kinds[k].member, a);
                for (char **n = taken; *n; n++)
                        g_hash_table_add (*kinds[k].bad, g_utf8_strdown (*n, -1));
        }
        return TRUE;
}

/* The username of a row without one in the file: the matched person's, or one derived from
 * the name, numbered past the ones taken ("juergen.mueller2"). A row without an external id
 * is the person who holds the name already (when they have no external id themselves). */
static char *
pick_username (Import *im, const char *first, const char *last, const char *ext, Existing **match)
{
        if (*match)
                return g_strdup ((*match)->username);
        if (!*first || !*last)
                return NULL;
        g_autofree char *base = atrium_import_username (im->translit, first, last);
        if (strlen (base) < 2)
                return g_steal_pointer (&base);
        for (guint n = 1; n < 10000; n++) {
                char *candidate = n == 1 ? g_strdup (base) : g_strdup_printf ("%s%u", base, n);
                Existing *holder = g_hash_table_lookup (im->by_name, candidate);
                if (!g_hash_table_contains (im->seen_name, candidate)) {
                        if (!holder)
                                return candidate;
                        if (!ext && !holder->external_id && !holder->seen) {
                                *match = holder;
                                return candidate;
                        }
                }
                g_free (candidate);
        }
        return NULL;
}

static JsonObject *
row_result (guint line, const char *status)
{
        JsonObject *o = json_object_new ();
        json_object_set_int_member (o, "line", line);
        json_object_set_string_member (o, "status", status);
        return o;
}

static void
row_error (Import *im, guint line, const char *problem)
{
        JsonObject *o = row_result (line, "error");
        json_object_set_string_member (o, "error", problem);
        json_array_add_object_element (im->results, o);
        im->failed++;
}

static void
plan_groups (JsonArray *plan, const char *id, const char *username, GPtrArray *names)
{
        JsonObject *p = json_object_new ();
        if (id)
                json_object_set_string_member (p, "user_id", id);
        else
                json_object_set_string_member (p, "username", username);
        json_object_set_member (p, "groups", strv_node (names));
        json_array_add_object_element (plan, p);
}

/* One row: judged, reported in im->results and, when it changes something, planned. */
static void
judge_row (Import *im, GPtrArray *row, guint line)
{
        const char *ext =
                *CELL (row, ATRIUM_IMPORT_EXTERNAL) ? CELL (row, ATRIUM_IMPORT_EXTERNAL) : NULL;
        const char *first = CELL (row, ATRIUM_IMPORT_FIRST), *last = CELL (row, ATRIUM_IMPORT_LAST);
        g_autofree char *display = *CELL (row, ATRIUM_IMPORT_DISPLAY)
                                           ? g_strdup (CELL (row, ATRIUM_IMPORT_DISPLAY))
                                           : g_strstrip (g_strdup_printf ("%s %s", first, last));
        gboolean has_email = im->col[ATRIUM_IMPORT_EMAIL] >= 0;
        const char *email =
                *CELL (row, ATRIUM_IMPORT_EMAIL) ? CELL (row, ATRIUM_IMPORT_EMAIL) : NULL;
        const char *klass =
                *CELL (row, ATRIUM_IMPORT_CLASS) ? CELL (row, ATRIUM_IMPORT_CLASS) : NULL;
        g_autoptr (GPtrArray) courses = *CELL (row, ATRIUM_IMPORT_COURSES)
                                                ? parse_courses (CELL (row, ATRIUM_IMPORT_COURSES))
                                                : NULL;
        if (courses && !courses->len)
                g_clear_pointer (&courses, g_ptr_array_unref);

        Existing *match = ext ? g_hash_table_lookup (im->by_ext, ext) : NULL;
        gboolean ext_twice = match && match->seen;
        if (ext_twice)
                match = NULL;
        g_autofree char *username = NULL;
        if (*CELL (row, ATRIUM_IMPORT_USERNAME)) {
                username = g_utf8_strdown (CELL (row, ATRIUM_IMPORT_USERNAME), -1);
                if (!match && !ext) {
                        match = g_hash_table_lookup (im->by_name, username);
                        if (match && match->seen)
                                match = NULL;
                }
        } else {
                username = pick_username (im, first, last, ext, &match);
        }
        /* In the file: never a leaver, even when the row fails. */
        if (match)
                match->seen = TRUE;
        g_autofree char *bad_role = NULL;
        g_autoptr (GPtrArray) roles =
                parse_roles (CELL (row, ATRIUM_IMPORT_ROLES), im->fallback_role, &bad_role);

        g_autofree char *problem = NULL;
        g_autofree char *klass_key = klass ? g_utf8_strdown (klass, -1) : NULL;
        if (!username || !g_regex_match_simple ("^[a-z0-9._-]{2,64}\\z", username, 0, 0))
                problem = g_strdup ("username must be 2-64 of a-z 0-9 . _ -");
        else if (!*display || g_utf8_strlen (display, -1) > 200)
                problem = g_strdup ("display name is empty or longer than 200 characters");
        else if (!roles)
                problem = bad_role ? g_strdup_printf ("unknown role \"%s\"", bad_role)
                                   : g_strdup ("no role");
        else if (ext && strlen (ext) > 200)
                problem = g_strdup ("external_id is longer than 200 characters");
        else if (ext && (ext_twice || g_hash_table_contains (im->seen_ext, ext)))
                problem = g_strdup ("external_id appears twice in this file");
        else if (g_hash_table_contains (im->seen_name, username))
                problem = g_strdup ("username appears twice in this file");
        else if (email && (strlen (email) > 254 ||
                           !g_regex_match_simple ("^[^@\\s]+@[^@\\s]+\\z", email, 0, 0)))
                problem = g_strdup_printf ("\"%s\" is not an e-mail address", email);
        else if (klass && g_utf8_strlen (klass, -1) > 200)
                problem = g_strdup ("class is longer than 200 characters");
        else if (klass && im->bad_class && g_hash_table_contains (im->bad_class, klass_key))
                problem = g_strdup_printf ("class \"%s\": a group of another type has this name",
                                           klass);
        else if (courses && courses->len > MAX_COURSES)
                problem = g_strdup_printf ("more than %d courses", MAX_COURSES);
        for (guint i = 0; !problem && courses && i < courses->len; i++) {
                const char *c = courses->pdata[i];
                g_autofree char *key = g_utf8_strdown (c, -1);
                if (g_utf8_strlen (c, -1) > 200)
                        problem = g_strdup ("a course name is longer than 200 characters");
                else if (im->bad_course && g_hash_table_contains (im->bad_course, key))
                        problem = g_strdup_printf (
                                "course \"%s\": a group of another type has this name", c);
        }
        if (!problem) {
                Existing *holder = g_hash_table_lookup (im->by_name, username);
                if (holder && holder != match)
                        problem = g_strdup ("username belongs to another person");
        }
        if (problem) {
                row_error (im, line, problem);
                return;
        }
        if (ext)
                g_hash_table_add (im->seen_ext, g_strdup (ext));
        g_hash_table_add (im->seen_name, g_strdup (username));

        g_autofree char *roles_lit = roles_literal (roles);
        JsonObject *o;
        if (!match) {
                o = row_result (line, "created");
                im->created++;
                JsonObject *c = json_object_new ();
                json_object_set_string_member (c, "username", username);
                json_object_set_string_member (c, "display_name", display);
                json_object_set_member (c, "roles", strv_node (roles));
                set_nullable (c, "external_id", ext);
                set_nullable (c, "email", email);
                set_nullable (c, "class", klass);
                json_object_set_member (c, "courses",
                                        courses ? strv_node (courses)
                                                : json_node_new (JSON_NODE_NULL));
                json_array_add_object_element (im->creates, c);
                json_object_set_null_member (o, "id");
        } else {
                JsonObject *changes = json_object_new ();
                if (!g_str_equal (match->username, username))
                        change (changes, "username", str_node (match->username),
                                str_node (username));
                if (!g_str_equal (match->display_name, display))
                        change (changes, "display_name", str_node (match->display_name),
                                str_node (display));
                if (!g_str_equal (match->roles, roles_lit))
                        change (changes, "roles", str_node (match->roles), str_node (roles_lit));
                if (ext && g_strcmp0 (match->external_id, ext) != 0)
                        change (changes, "external_id", str_node (match->external_id),
                                str_node (ext));
                if (has_email && g_strcmp0 (match->email, email) != 0)
                        change (changes, "email", str_node (match->email), str_node (email));
                gboolean moved = klass && match->klass && g_strcmp0 (match->klass, klass) != 0;
                if (klass && g_strcmp0 (match->klass, klass) != 0)
                        change (changes, "class", str_node (match->klass), str_node (klass));
                if (courses && !same_list (match->courses, courses))
                        change (changes, "courses",
                                match->courses ? strv_node (match->courses)
                                               : json_node_new (JSON_NODE_NULL),
                                strv_node (courses));
                if (match->disabled) {
                        change (changes, "disabled",
                                json_node_init_boolean (json_node_alloc (), TRUE),
                                json_node_init_boolean (json_node_alloc (), FALSE));
                        json_array_add_string_element (im->enabled, match->id);
                }
                gboolean changed = json_object_get_size (changes) > 0;
                const char *status = moved ? "moved" : changed ? "updated" : "unchanged";
                o = row_result (line, status);
                if (moved) {
                        im->moved++;
                        JsonObject *k = json_object_new ();
                        json_object_set_string_member (k, "old", match->klass);
                        json_object_set_string_member (k, "new", klass);
                        json_object_set_object_member (o, "class", k);
                } else if (changed) {
                        im->updated++;
                } else {
                        im->unchanged++;
                }
                if (changed)
                        json_object_set_object_member (o, "changes", changes);
                else
                        json_object_unref (changes);
                if (changed || !match->imported) {
                        JsonObject *u = json_object_new ();
                        json_object_set_string_member (u, "id", match->id);
                        json_object_set_string_member (u, "username", username);
                        json_object_set_string_member (u, "display_name", display);
                        json_object_set_member (u, "roles", strv_node (roles));
                        set_nullable (u, "external_id", ext);
                        json_object_set_boolean_member (u, "set_email", has_email);
                        set_nullable (u, "email", email);
                        set_nullable (u, "class", klass);
                        json_object_set_member (u, "courses",
                                                courses ? strv_node (courses)
                                                        : json_node_new (JSON_NODE_NULL));
                        json_object_set_boolean_member (u, "changed", changed);
                        json_array_add_object_element (im->updates, u);
                }
                json_object_set_string_member (o, "id", match->id);
        }
        json_object_set_string_member (o, "username", username);
        json_array_add_object_element (im->results, o);
        if (klass) {
                g_autoptr (GPtrArray) one = g_ptr_array_new ();
                g_ptr_array_add (one, (gpointer) klass);
                plan_groups (im->class_plan, match ? match->id : NULL, username, one);
        }
        if (courses)
                plan_groups (im->course_plan, match ? match->id : NULL, username, courses);
}
#undef CELL

static int
by_username (gconstpointer a, gconstpointer b)
{
        return strcmp ((*(Existing *const *) a)->username, (*(Existing *const *) b)->username);
}

/* The people who came from imports, are not disabled and are not in the file. */
static JsonArray *
find_missing (Import *im, guint *out_active)
{
        g_autoptr (GPtrArray) list = g_ptr_array_new ();
        GHashTableIter it;
        gpointer value;
        guint active = 0;
        g_hash_table_iter_init (&it, im->by_name);
        while (g_hash_table_iter_next (&it, NULL, &value)) {
                Existing *e = value;
                if (!e->imported || e->disabled)
                        continue;
                active++;
                if (!e->seen)
                        g_ptr_array_add (list, e);
        }
        g_ptr_array_sort (list, by_username);
        JsonArray *out = json_array_new ();
        for (guint i = 0; i < list->len; i++) {
                Existing *e = list->pdata[i];
                JsonObject *o = json_object_new ();
                json_object_set_string_member (o, "id", e->id);
                json_object_set_string_member (o, "username", e->username);
                json_object_set_string_member (o, "display_name", e->display_name);
                set_nullable (o, "class", e->klass);
                json_array_add_object_element (out, o);
        }
        *out_active = active;
        return out;
}

/* Created people's ids into their result rows and the group plans (by username). */
static gboolean
write_creates (Import *im, GError **error)
{
        if (!json_array_get_length (im->creates))
                return TRUE;
        g_autoptr (JsonNode) n = json_node_init_array (json_node_alloc (), im->creates);
        g_autofree char *json = json_text (n);
        g_autoptr (AtriumResult) res = atrium_sql (
                im->req, error,
                "INSERT INTO core.users (school_id, username, display_name, roles, external_id, "
                "email, imported_at, import_class, import_courses) "
                "SELECT $1::uuid, x.username, x.display_name, x.roles, x.external_id, x.email, "
                "now(), x.class, x.courses FROM jsonb_to_recordset($2::jsonb) AS x(username text, "
                "display_name text, roles text[], external_id text, email text, class text, "
                "courses text[]) RETURNING username, id",
                2, im->req->school_id, json);
        if (!res)
                return FALSE;
        g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
        for (int i = 0; i < atrium_result_n_rows (res); i++)
                g_hash_table_insert (ids, (gpointer) atrium_result_value (res, i, 0),
                                     (gpointer) atrium_result_value (res, i, 1));
        for (guint i = 0; i < json_array_get_length (im->results); i++) {
                JsonObject *o = json_array_get_object_element (im->results, i);
                const char *u = json_object_get_string_member_with_default (o, "username", NULL);
                if (u && g_str_equal (json_object_get_string_member (o, "status"), "created"))
                        json_object_set_string_member (o, "id", g_hash_table_lookup (ids, u));
        }
        JsonArray *plans[] = {im->class_plan, im->course_plan};
        for (gsize p = 0; p < G_N_ELEMENTS (plans); p++)
                for (guint i = 0; i < json_array_get_length (plans[p]); i++) {
                        JsonObject *o = json_array_get_object_element (plans[p], i);
                        const char *u =
                                json_object_get_string_member_with_default (o, "username", NULL);
                        if (u) {
                                json_object_set_string_member (o, "user_id",
                                                               g_hash_table_lookup (ids, u));
                                json_object_remove_member (o, "username");
                        }
                }
        return TRUE;
}

static gboolean
write_updates (Import *im, GError **error)
{
        if (!json_array_get_length (im->updates))
                return TRUE;
        g_autoptr (JsonNode) n = json_node_init_array (json_node_alloc (), im->updates);
        g_autofree char *json = json_text (n);
        /* An empty class or courses cell leaves the recorded ones (teachers' rows have none). */
        g_autoptr (AtriumResult) res = atrium_sql (
                im->req, error,
                "UPDATE core.users u SET username = x.username, display_name = x.display_name, "
                "roles = x.roles, external_id = coalesce(x.external_id, u.external_id), "
                "email = CASE WHEN x.set_email THEN x.email ELSE u.email END, "
                "import_class = coalesce(x.class, u.import_class), "
                "import_courses = coalesce(x.courses, u.import_courses), "
                "imported_at = coalesce(u.imported_at, now()), disabled_at = NULL, "
                "updated_at = CASE WHEN x.changed THEN now() ELSE u.updated_at END "
                "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, username text, "
                "display_name text, roles text[], external_id text, set_email boolean, "
                "email text, class text, courses text[], changed boolean) WHERE u.id = x.id",
                1, json);
        if (!res)
                return FALSE;
        for (guint i = 0; i < json_array_get_length (im->enabled); i++)
                atrium_audit (im->req, "user.enabled",
                              json_array_get_string_element (im->enabled, i), NULL);
        return TRUE;
}

/* Leavers: disabled, their sessions and tokens revoked, one audit entry each. */
static gboolean
write_disables (Import *im, JsonArray *missing, GError **error)
{
        if (!json_array_get_length (missing))
                return TRUE;
        g_autoptr (JsonNode) n = json_node_init_array (json_node_alloc (), missing);
        g_autofree char *json = json_text (n);
        const char *actor = im->req->user_id ? im->req->user_id : im->req->operator_id;
        const char *kind = im->req->user_id ? "user" : "operator";
        g_autoptr (AtriumResult) res = atrium_sql (
                im->req, error,
                "WITH gone AS (UPDATE core.users u SET disabled_at = now(), updated_at = now() "
                "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid) WHERE u.id = x.id "
                "AND u.disabled_at IS NULL RETURNING u.id, u.username) "
                "SELECT core.revoke_user_sessions($2::uuid, gone.id), core.audit($2::uuid, "
                "$3::uuid, $4, 'user.disabled', gone.id::text, jsonb_build_object('username', "
                "gone.username, 'reason', 'missing from the import'), $5) FROM gone",
                5, json, im->req->school_id, actor, kind, im->req->client);
        return res != NULL;
}

static gboolean
sync_groups (Import *im, JsonObject *groups_out, GError **error)
{
        struct {
                const char *type;
                JsonArray *plan;
        } kinds[] = {{"class", im->class_plan}, {"course", im->course_plan}};
        guint added = 0, removed = 0;
        for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++) {
                if (!json_array_get_length (kinds[k].plan))
                        continue;
                g_autoptr (JsonNode) plan =
                        json_node_init_array (json_node_alloc (), kinds[k].plan);
                guint c = 0, a = 0, r = 0;
                if (!im->groups->import_sync (im->req->tx, kinds[k].type, plan, &c, &a, &r, error))
                        return FALSE;
                added += a;
                removed += r;
        }
        json_object_set_int_member (groups_out, "memberships_added", added);
        json_object_set_int_member (groups_out, "memberships_removed", removed);
        return TRUE;
}

static gboolean
load_settings (Import *im, AtriumCore *core, char **out_preset, JsonNode **out_columns,
               char **out_role, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                im->req, error,
                "SELECT p.preset, p.columns::text, p.default_role, EXISTS (SELECT 1 FROM "
                "core.school_modules m WHERE m.module = 'groups') FROM (SELECT 1) one "
                "LEFT JOIN core.import_profiles p ON true",
                0);
        if (!res)
                return FALSE;
        *out_preset = g_strdup (atrium_result_value (res, 0, 0));
        const char *cols = atrium_result_value (res, 0, 1);
        *out_columns = cols ? json_from_string (cols, NULL) : NULL;
        *out_role = g_strdup (atrium_result_value (res, 0, 2));
        if (g_str_equal (atrium_result_value (res, 0, 3), "t"))
                im->groups = atrium_core_lookup_service (core, ATRIUM_GROUPS_SERVICE, 3);
        return TRUE;
}

static gboolean
import_users (AtriumRequest *req, gpointer data, GError **error)
{
        AtriumCore *core = data;
        g_auto (Import) im = {.req = req};
        if (!parse_flag (req, "dry_run", &im.dry_run, error) ||
            !parse_flag (req, "force", &im.force, error))
                return FALSE;
        const char *remove = atrium_request_query (req, "remove_missing");
        if (remove && !g_str_equal (remove, "disable")) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "remove_missing takes one value, \"disable\" (people are never "
                             "deleted by an import)");
                return FALSE;
        }
        im.disable_missing = remove != NULL;
        const char *fallback_role = atrium_request_query (req, "default_role");
        if (fallback_role && !map_role (fallback_role)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID, "unknown default_role %s",
                             fallback_role);
                return FALSE;
        }
        if (!req->body) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "send the CSV as the request body");
                return FALSE;
        }
        g_autoptr (AtriumCsv) csv = atrium_csv_parse (g_bytes_get_data (req->body, NULL),
                                                      g_bytes_get_size (req->body), error);
        if (!csv)
                return FALSE;
        g_autofree char *preset = NULL, *profile_role = NULL;
        g_autoptr (JsonNode) custom = NULL;
        if (!load_settings (&im, core, &preset, &custom, &profile_role, error))
                return FALSE;
        im.fallback_role = fallback_role ? map_role (fallback_role) : profile_role;

        JsonArray *ignored = json_array_new ();
        g_autoptr (JsonNode) ignored_node = json_node_init_array (json_node_alloc (), ignored);
        json_array_unref (ignored);
        atrium_import_columns (
                csv->header, preset,
                custom && JSON_NODE_HOLDS_OBJECT (custom) ? json_node_get_object (custom) : NULL,
                im.col, ignored);
        const int *col = im.col;
        if (col[ATRIUM_IMPORT_USERNAME] < 0 &&
            (col[ATRIUM_IMPORT_FIRST] < 0 || col[ATRIUM_IMPORT_LAST] < 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header needs a username column, or first and last name "
                             "columns to derive it from");
                return FALSE;
        }
        if (col[ATRIUM_IMPORT_DISPLAY] < 0 &&
            (col[ATRIUM_IMPORT_FIRST] < 0 || col[ATRIUM_IMPORT_LAST] < 0)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header needs a display_name column, or first and last name");
                return FALSE;
        }
        if (col[ATRIUM_IMPORT_ROLES] < 0 && !im.fallback_role) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "the header has no roles column; add one or pass ?default_role=");
                return FALSE;
        }
        im.translit = atrium_translit_new (error);
        if (!im.translit)
                return FALSE;
        im.by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) existing_free);
        im.by_ext = g_hash_table_new (g_str_hash, g_str_equal);
        im.seen_ext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        im.seen_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        im.creates = json_array_new ();
        im.updates = json_array_new ();
        im.enabled = json_array_new ();
        im.class_plan = json_array_new ();
        im.course_plan = json_array_new ();
        JsonArray *results = json_array_new ();
        g_autoptr (JsonNode) results_node = json_node_init_array (json_node_alloc (), results);
        json_array_unref (results);
        im.results = results;
        if (!load_people (&im, error))
                return FALSE;

        JsonObject *groups_out = NULL;
        g_autoptr (JsonNode) groups_node = json_node_new (JSON_NODE_NULL);
        JsonArray *warnings = json_array_new ();
        g_autoptr (JsonNode) warnings_node = json_node_init_array (json_node_alloc (), warnings);
        json_array_unref (warnings);
        gboolean wants_groups = col[ATRIUM_IMPORT_CLASS] >= 0 || col[ATRIUM_IMPORT_COURSES] >= 0;
        if (im.groups && wants_groups) {
                groups_out = json_object_new ();
                json_node_unref (groups_node);
                groups_node = json_node_init_object (json_node_alloc (), groups_out);
                json_object_unref (groups_out);
                if (!check_group_names (&im, csv, groups_out, error))
                        return FALSE;
        } else if (wants_groups) {
                json_array_add_string_element (
                        warnings, "the groups module is not enabled for this school (or not "
                                  "running): classes and "
                                  "courses are recorded on each person and moves are reported, "
                                  "but no class or course groups are created or filled");
        }

        for (guint r = 0; r < csv->rows->len; r++)
                judge_row (&im, csv->rows->pdata[r], g_array_index (csv->lines, guint, r));

        guint active = 0;
        g_autoptr (JsonArray) missing = find_missing (&im, &active);
        guint n_missing = json_array_get_length (missing);
        gboolean partial = im.disable_missing &&
                           (guint64) n_missing * 100 > (guint64) active * PARTIAL_PERCENT;
        if (partial && !im.force && !im.dry_run) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_CONFLICT,
                             "%u of the school's %u imported people (%u %%) are missing from this "
                             "file, more than %d %%: it looks like a partial export, so nothing "
                             "was imported or disabled. Check the file, or repeat with "
                             "force=true if they really all left",
                             n_missing, active, active ? n_missing * 100 / active : 0,
                             PARTIAL_PERCENT);
                return FALSE;
        }
        guint disabled = im.disable_missing && (!partial || im.force) ? n_missing : 0;

        if (!im.dry_run) {
                if (!write_creates (&im, error) || !write_updates (&im, error) ||
                    (disabled && !write_disables (&im, missing, error)))
                        return FALSE;
                if (groups_out && !sync_groups (&im, groups_out, error))
                        return FALSE;
        } else if (groups_out) {
                json_object_set_null_member (groups_out, "memberships_added");
                json_object_set_null_member (groups_out, "memberships_removed");
        }

        JsonObject *out = json_object_new ();
        json_object_set_boolean_member (out, "dry_run", im.dry_run);
        json_object_set_int_member (out, "created", im.created);
        json_object_set_int_member (out, "updated", im.updated);
        json_object_set_int_member (out, "moved", im.moved);
        json_object_set_int_member (out, "unchanged", im.unchanged);
        json_object_set_int_member (out, "errors", im.failed);
        json_object_set_int_member (out, "disabled", disabled);
        json_object_set_boolean_member (out, "partial_file", partial);
        json_object_set_array_member (out, "missing", json_array_ref (missing));
        JsonObject *cols = json_object_new ();
        for (int f = 0; f < ATRIUM_IMPORT_N_FIELDS; f++)
                if (col[f] >= 0)
                        json_object_set_string_member (cols, atrium_import_field_names[f],
                                                       csv->header->pdata[col[f]]);
        json_object_set_object_member (out, "columns", cols);
        json_object_set_member (out, "ignored_columns", g_steal_pointer (&ignored_node));
        json_object_set_member (out, "groups", g_steal_pointer (&groups_node));
        json_object_set_member (out, "warnings", g_steal_pointer (&warnings_node));
        json_object_set_member (out, "rows", g_steal_pointer (&results_node));
        if (!im.dry_run) {
                JsonObject *d = json_object_new ();
                json_object_set_int_member (d, "created", im.created);
                json_object_set_int_member (d, "updated", im.updated);
                json_object_set_int_member (d, "moved", im.moved);
                json_object_set_int_member (d, "unchanged", im.unchanged);
                json_object_set_int_member (d, "errors", im.failed);
                json_object_set_int_member (d, "missing", n_missing);
                json_object_set_int_member (d, "disabled", disabled);
                json_object_set_boolean_member (d, "forced", partial && im.force);
                atrium_audit (req, "user.imported", NULL, atrium_json_object_node (d));
        }
        core->host->respond_json (req, 200, atrium_json_object_node (out));
        return TRUE;
}

#define NAMED_STRING "{\"type\":[\"string\",\"null\"]}"
static const char import_response[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"dry_run\":{\"type\":\"boolean\"},\"created\":{\"type\":\"integer\"},"
        "\"updated\":{\"type\":\"integer\"},\"moved\":{\"type\":\"integer\"},"
        "\"unchanged\":{\"type\":\"integer\"},\"errors\":{\"type\":\"integer\"},"
        "\"disabled\":{\"type\":\"integer\",\"description\":\"people disabled (remove_missing="
        "disable); 0 in a dry run unless it would disable them\"},"
        "\"partial_file\":{\"type\":\"boolean\",\"description\":\"more than 10 % of the imported "
        "people are missing: refused with 409 unless force=true\"},"
        "\"missing\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"id\":{\"type\":\"string\"},\"username\":{\"type\":\"string\"},"
        "\"display_name\":{\"type\":\"string\"},\"class\":" NAMED_STRING "}}},"
        "\"columns\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
        "\"ignored_columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"groups\":{\"type\":[\"object\",\"null\"],\"description\":\"null without the groups "
        "module\"},"
        "\"warnings\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"line\":{\"type\":\"integer\"},\"status\":{\"type\":\"string\",\"enum\":[\"created\","
        "\"updated\",\"moved\",\"unchanged\",\"error\"]},\"id\":" NAMED_STRING ","
        "\"username\":{\"type\":\"string\"},\"error\":{\"type\":\"string\"},"
        "\"changes\":{\"type\":\"object\"},\"class\":{\"type\":\"object\"}}}}}}";

/* The flags also take 1 and 0, as they always have. */
#define IMPORT_FLAG(what)                                                                          \
        "{\"type\": \"string\", \"enum\": [\"true\", \"false\", \"1\", \"0\"], "                   \
        "\"description\": \"" what "\"}"
static const char import_query[] =
        "{\"type\": \"object\", \"properties\": {"
        "\"dry_run\": " IMPORT_FLAG (
                "report what would change, change nothing") ", "
                                                            "\"force\": " IMPORT_FLAG (
                                                                    "with remove_missing: disable them even when so many are missing that the file looks partial (409 otherwise)") ", "
                                                                                                                                                                                   "\"remove_missing\": {\"type\": \"string\", \"enum\": [\"disable\"], \"description\": "
                                                                                                                                                                                   "\"disable the school's people the file does not list\"}, "
                                                                                                                                                                                   "\"default_role\": {\"type\": \"string\", \"maxLength\": 100, \"description\": \"the "
                                                                                                                                                                                   "role of a row without one\"}}}";

void
atrium_import_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "POST",
                 .path = "/api/v1/schools/{school}/users/import", .scope = ATRIUM_SCOPE_SCHOOL,
                 .flags = ATRIUM_ROUTE_RAW_BODY, .permission = "users.manage",
                 .summary = "Import people from CSV (text/csv; ?dry_run=true, ?default_role=, "
                            "?remove_missing=disable, ?force=true)",
                 .response_schema = import_response, .query_schema = import_query,
                 .handler = import_users},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
