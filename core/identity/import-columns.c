/* SPDX-License-Identifier: Apache-2.0 */
/* import-columns.c - what the people import (user-import.c) needs to read a school's export:
 * which column is which (built-in German and English names, the presets of the common school
 * administration programs, and the school's saved mapping, GET|PUT .../users/import/profile),
 * and usernames derived from names in any script.
 *
 * Header names compare case-, space- and accent-insensitively ("Schüler-ID", "schueler_id" and
 * "SCHULER ID" are one name). Usernames follow the German rule schools expect (ä -> ae, ß ->
 * ss: "juergen.mueller", not "jurgen.muller"); everything else goes through ICU's
 * "Any-Latin; Latin-ASCII" transliterator (translit.c) (Yıldız -> yildiz, Nguyễn -> nguyen, Łukasz
 * -> lukasz, محمد -> mhmd). GLib's g_str_to_ascii() was the first choice but leaves '?' for letters
 * without a decomposition (ı, Đ, Ł in some versions) and for other scripts. */
#include "identity-private.h"
#include "plugin-host-private.h"

#include <string.h>

const char *const atrium_import_field_names[ATRIUM_IMPORT_N_FIELDS + 1] = {
        [ATRIUM_IMPORT_USERNAME] = "username", [ATRIUM_IMPORT_DISPLAY] = "display_name",
        [ATRIUM_IMPORT_FIRST] = "first_name",  [ATRIUM_IMPORT_LAST] = "last_name",
        [ATRIUM_IMPORT_ROLES] = "role",        [ATRIUM_IMPORT_EXTERNAL] = "external_id",
        [ATRIUM_IMPORT_CLASS] = "class",       [ATRIUM_IMPORT_COURSES] = "courses",
        [ATRIUM_IMPORT_EMAIL] = "email",       [ATRIUM_IMPORT_N_FIELDS] = NULL,
};

/* Built-in names, normalised (normalise_header): lower-case ASCII without ' ', '_', '-', '.'.
 * Accents are dropped before comparing, so "schulerid" is "Schüler-ID"; the German spelling
 * without umlauts ("Schueler-ID") is listed as well. */
static const char *const aliases[ATRIUM_IMPORT_N_FIELDS][16] = {
        [ATRIUM_IMPORT_USERNAME] = {"username", "login", "loginname", "benutzername", "user",
                                    "account", NULL},
        [ATRIUM_IMPORT_DISPLAY] = {"displayname", "name", "anzeigename", "fullname", NULL},
        [ATRIUM_IMPORT_FIRST] = {"firstname", "givenname", "vorname", "rufname", NULL},
        [ATRIUM_IMPORT_LAST] = {"lastname", "surname", "familyname", "nachname", "familienname",
                                NULL},
        [ATRIUM_IMPORT_ROLES] = {"roles", "role", "rolle", "rollen", "type", "typ", NULL},
        [ATRIUM_IMPORT_EXTERNAL] = {"externalid", "externeid", "id", "schulerid", "schuelerid",
                                    "interneid", "interneidnummer", "importid", "uid", "guid",
                                    "personid", "lehrerid", "schildid", "asvid", NULL},
        [ATRIUM_IMPORT_CLASS] = {"class", "klasse", NULL},
        [ATRIUM_IMPORT_COURSES] = {"courses", "kurse", "kursnamen", NULL},
        [ATRIUM_IMPORT_EMAIL] = {"email", "mail", "emailadresse", "emailaddress", NULL},
};

/* Presets: header as the program exports it -> field. Which of these were checked against
 * public documentation, and which are assumptions, is written in docs/IMPORT.md. */
typedef struct {
        const char *name, *description;
        const char *columns[12][2];
} Preset;

static const Preset presets[] = {
        {"schild-nrw",
         "SchILD-NRW (Nordrhein-Westfalen), text export of pupils",
         {{"Interne ID-Nummer", "external_id"},
          {"Nachname", "last_name"},
          {"Vorname", "first_name"},
          {"Klasse", "class"},
          {"E-Mail (Schule)", "email"},
          {NULL, NULL}}},
        {"lusd",
         "LUSD (Hessen), pupil list export",
         {{"Schüler-ID", "external_id"},
          {"Nachname", "last_name"},
          {"Vorname", "first_name"},
          {"Klasse", "class"},
          {"Kurse", "courses"},
          {NULL, NULL}}},
        {"asv",
         "ASV (Bayern, Baden-Württemberg), pupil export",
         {{"Schüler-ID", "external_id"},
          {"Familienname", "last_name"},
          {"Rufname", "first_name"},
          {"Klasse", "class"},
          {NULL, NULL}}},
        {"magellan",
         "Magellan (Stüber Software), pupil export",
         {{"Schülernummer", "external_id"},
          {"Name", "last_name"},
          {"Vorname", "first_name"},
          {"Klasse", "class"},
          {NULL, NULL}}},
        {"untis",
         "Untis / WebUntis, student export (GPU010)",
         {{"Schlüssel (extern)", "external_id"},
          {"Langname", "last_name"},
          {"Vorname", "first_name"},
          {"Klasse", "class"},
          {"Name", "ignore"},
          {NULL, NULL}}},
        {"spreadsheet",
         "a spreadsheet with the built-in column names (external_id, first_name, last_name, "
         "class, courses, email, role)",
         {{NULL, NULL}}},
};

static const Preset *
find_preset (const char *name)
{
        for (gsize i = 0; name && i < G_N_ELEMENTS (presets); i++)
                if (g_str_equal (presets[i].name, name))
                        return &presets[i];
        return NULL;
}

/* "Schüler-ID " -> "schulerid": lower-case ASCII without accents, ' ', '_', '-' and '.'. */
static char *
normalise_header (const char *h)
{
        g_autofree char *nfc = g_utf8_normalize (h, -1, G_NORMALIZE_NFC);
        g_autofree char *ascii = g_str_to_ascii (nfc ? nfc : "", "C");
        GString *s = g_string_new (NULL);
        for (const char *p = ascii; *p; p++)
                if (*p != ' ' && *p != '_' && *p != '-' && *p != '.')
                        g_string_append_c (s, g_ascii_tolower (*p));
        return g_string_free (s, FALSE);
}

/* The field name of a mapping ("class", "ignore") as an index; -1 if unknown. */
int
atrium_import_field_from_name (const char *name)
{
        if (name && g_str_equal (name, "ignore"))
                return ATRIUM_IMPORT_IGNORE;
        for (int f = 0; name && f < ATRIUM_IMPORT_N_FIELDS; f++)
                if (g_str_equal (atrium_import_field_names[f], name))
                        return f;
        return -1;
}

static void
map_add (GHashTable *map, const char *header, const char *field)
{
        int f = atrium_import_field_from_name (field);
        if (f >= 0)
                g_hash_table_insert (map, normalise_header (header), GINT_TO_POINTER (f + 1));
}

void
atrium_import_columns (GPtrArray *header, const char *preset, JsonObject *custom,
                       int col[ATRIUM_IMPORT_N_FIELDS], JsonArray *ignored)
{
        /* The school's own mapping wins over its preset, which wins over the built-in names. */
        g_autoptr (GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        const Preset *p = find_preset (preset);
        for (int i = 0; p && p->columns[i][0]; i++)
                map_add (map, p->columns[i][0], p->columns[i][1]);
        if (custom) {
                g_autoptr (GList) names = json_object_get_members (custom);
                for (GList *l = names; l; l = l->next) {
                        JsonNode *v = json_object_get_member (custom, l->data);
                        if (JSON_NODE_HOLDS_VALUE (v) &&
                            json_node_get_value_type (v) == G_TYPE_STRING)
                                map_add (map, l->data, json_node_get_string (v));
                }
        }
        for (int c = 0; c < ATRIUM_IMPORT_N_FIELDS; c++)
                col[c] = -1;
        for (guint i = 0; i < header->len; i++) {
                g_autofree char *h = normalise_header (header->pdata[i]);
                int f = GPOINTER_TO_INT (g_hash_table_lookup (map, h)) - 1;
                if (f < 0)
                        for (int c = 0; c < ATRIUM_IMPORT_N_FIELDS && f < 0; c++)
                                for (int a = 0; aliases[c][a] && f < 0; a++)
                                        if (g_str_equal (h, aliases[c][a]))
                                                f = c;
                if (f >= 0 && f < ATRIUM_IMPORT_N_FIELDS && col[f] < 0)
                        col[f] = (int) i;
                else
                        json_array_add_string_element (ignored, header->pdata[i]);
        }
}

/* ---- usernames ---- */

/* The German rule, the one table kept by hand because it is a convention, not a script:
 * German schools write Müller as "mueller". NFC first, so a decomposed ü is caught too. */
static char *
german_rule (const char *s)
{
        static const char *const rule[][2] = {
                {"ä", "ae"}, {"ö", "oe"}, {"ü", "ue"}, {"Ä", "Ae"},
                {"Ö", "Oe"}, {"Ü", "Ue"}, {"ß", "ss"}, {"ẞ", "SS"},
        };
        g_autofree char *nfc = g_utf8_normalize (s, -1, G_NORMALIZE_NFC);
        GString *out = g_string_new (NULL);
        for (const char *p = nfc ? nfc : ""; *p;) {
                gboolean done = FALSE;
                for (gsize i = 0; i < G_N_ELEMENTS (rule) && !done; i++) {
                        gsize n = strlen (rule[i][0]);
                        if (strncmp (p, rule[i][0], n) == 0) {
                                g_string_append (out, rule[i][1]);
                                p += n;
                                done = TRUE;
                        }
                }
                if (!done)
                        g_string_append_c (out, *p++);
        }
        return g_string_free (out, FALSE);
}

/* "Jürgen" + "Müller-Lüdenscheidt" -> "juergen.mueller-luedenscheidt": at most 60 characters,
 * so that a number for a collision still fits the 64 of a username. */
char *
atrium_import_username (AtriumTranslit *t, const char *first, const char *last)
{
        g_autofree char *full = g_strdup_printf ("%s.%s", first, last);
        g_autofree char *german = german_rule (full);
        g_autofree char *ascii = atrium_translit_ascii (t, german);
        GString *s = g_string_new (NULL);
        for (const char *p = ascii ? ascii : ""; *p && s->len < 60; p++) {
                char c = g_ascii_tolower (*p);
                if (g_ascii_isalnum (c) || c == '.' || c == '-')
                        g_string_append_c (s, c);
        }
        return g_string_free (s, FALSE);
}

/* ---- the saved profile: GET|PUT /api/v1/schools/{school}/users/import/profile ---- */

static JsonNode *
presets_json (void)
{
        JsonObject *all = json_object_new ();
        for (gsize i = 0; i < G_N_ELEMENTS (presets); i++) {
                JsonObject *p = json_object_new ();
                json_object_set_string_member (p, "description", presets[i].description);
                JsonObject *cols = json_object_new ();
                for (int c = 0; presets[i].columns[c][0]; c++)
                        json_object_set_string_member (cols, presets[i].columns[c][0],
                                                       presets[i].columns[c][1]);
                json_object_set_object_member (p, "columns", cols);
                json_object_set_object_member (all, presets[i].name, p);
        }
        return atrium_json_object_node (all);
}

static gboolean
respond_profile (AtriumRequest *req, AtriumCore *core, GError **error)
{
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "SELECT preset, columns::text, default_role, updated_at FROM core.import_profiles",
                0);
        if (!res)
                return FALSE;
        gboolean found = atrium_result_n_rows (res) == 1;
        JsonObject *out = json_object_new ();
        const char *preset = found ? atrium_result_value (res, 0, 0) : NULL;
        const char *role = found ? atrium_result_value (res, 0, 2) : NULL;
        if (preset)
                json_object_set_string_member (out, "preset", preset);
        else
                json_object_set_null_member (out, "preset");
        g_autoptr (JsonNode) cols =
                found ? json_from_string (atrium_result_value (res, 0, 1), NULL) : NULL;
        if (cols && JSON_NODE_HOLDS_OBJECT (cols))
                json_object_set_member (out, "columns", json_node_copy (cols));
        else
                json_object_set_object_member (out, "columns", json_object_new ());
        if (role)
                json_object_set_string_member (out, "default_role", role);
        else
                json_object_set_null_member (out, "default_role");
        if (found) {
                g_autofree char *updated = atrium_result_time (res, 0, 3);
                json_object_set_string_member (out, "updated_at", updated);
        } else
                json_object_set_null_member (out, "updated_at");
        json_object_set_member (out, "presets", presets_json ());
        core->host->respond_json (req, 200, atrium_json_object_node (out));
        return TRUE;
}

static gboolean
get_profile (AtriumRequest *req, gpointer data, GError **error)
{
        return respond_profile (req, data, error);
}

static gboolean
put_profile (AtriumRequest *req, gpointer data, GError **error)
{
        JsonObject *in = json_node_get_object (req->json);
        const char *preset = json_object_get_string_member_with_default (in, "preset", NULL);
        const char *role = json_object_get_string_member_with_default (in, "default_role", NULL);
        if (preset && !find_preset (preset)) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "unknown preset \"%s\" (GET this route lists them)", preset);
                return FALSE;
        }
        JsonObject *cols =
                json_object_has_member (in, "columns") &&
                                JSON_NODE_HOLDS_OBJECT (json_object_get_member (in, "columns"))
                        ? json_object_get_object_member (in, "columns")
                        : NULL;
        if (cols && json_object_get_size (cols) > 200) {
                g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                             "columns: at most 200 headers");
                return FALSE;
        }
        g_autoptr (GList) names = cols ? json_object_get_members (cols) : NULL;
        for (GList *l = names; l; l = l->next) {
                const char *h = l->data;
                g_autofree char *norm = normalise_header (h);
                if (!*norm || strlen (h) > 200) {
                        g_set_error (error, ATRIUM_ERROR, ATRIUM_ERROR_INVALID,
                                     "columns: a header must have 1-200 characters, letters or "
                                     "digits among them");
                        return FALSE;
                }
        }
        g_autofree char *cols_json = NULL;
        if (cols) {
                JsonNode *n = json_object_get_member (in, "columns");
                cols_json = json_to_string (n, FALSE);
        }
        g_autoptr (AtriumResult) res = atrium_sql (
                req, error,
                "INSERT INTO core.import_profiles (school_id, preset, columns, default_role) "
                "VALUES ($1::uuid, $2, coalesce($3::jsonb, '{}'), $4) ON CONFLICT (school_id) DO "
                "UPDATE SET preset = EXCLUDED.preset, columns = EXCLUDED.columns, default_role = "
                "EXCLUDED.default_role, updated_at = now()",
                4, req->school_id, preset, cols_json, role);
        if (!res)
                return FALSE;
        JsonObject *d = json_object_new ();
        if (preset)
                json_object_set_string_member (d, "preset", preset);
        json_object_set_int_member (d, "columns", cols ? json_object_get_size (cols) : 0);
        atrium_audit (req, "user.import_profile_changed", NULL, atrium_json_object_node (d));
        return respond_profile (req, data, error);
}

#define FIELD_ENUM                                                                                 \
        "[\"username\",\"display_name\",\"first_name\",\"last_name\",\"role\",\"external_id\","    \
        "\"class\",\"courses\",\"email\",\"ignore\"]"
#define ROLE_ENUM "[\"admin\",\"teacher\",\"student\",\"parent\",\"staff\",null]"

static const char profile_schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"preset\":{\"type\":[\"string\",\"null\"],\"maxLength\":40,"
        "\"description\":\"a preset's name (GET lists them), or null\"},"
        "\"columns\":{\"type\":\"object\",\"description\":\"header as in the file -> field; "
        "wins over the preset and the built-in names\","
        "\"additionalProperties\":{\"type\":\"string\",\"enum\":" FIELD_ENUM "}},"
        "\"default_role\":{\"type\":[\"string\",\"null\"],\"enum\":" ROLE_ENUM "}}}";

static const char profile_response[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"preset\":{\"type\":[\"string\",\"null\"]},"
        "\"columns\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
        "\"default_role\":{\"type\":[\"string\",\"null\"]},"
        "\"updated_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
        "\"presets\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"object\","
        "\"properties\":{\"description\":{\"type\":\"string\"},\"columns\":{\"type\":\"object\","
        "\"additionalProperties\":{\"type\":\"string\"}}}}}}}";

void
atrium_import_profile_routes (AtriumCore *core)
{
        const AtriumRoute routes[] = {
                {ATRIUM_ROUTE_INIT, .method = "GET",
                 .path = "/api/v1/schools/{school}/users/import/profile",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "users.manage",
                 .summary = "The school's saved import column mapping, and the presets",
                 .response_schema = profile_response, .handler = get_profile},
                {ATRIUM_ROUTE_INIT, .method = "PUT",
                 .path = "/api/v1/schools/{school}/users/import/profile",
                 .scope = ATRIUM_SCOPE_SCHOOL, .permission = "users.manage",
                 .summary = "Save the school's import column mapping (a preset and/or header -> "
                            "field pairs)",
                 .request_schema = profile_schema, .response_schema = profile_response,
                 .handler = put_profile},
        };
        atrium_core_add_routes (core, routes, G_N_ELEMENTS (routes));
}
