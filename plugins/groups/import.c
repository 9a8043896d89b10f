/* SPDX-License-Identifier: Apache-2.0 */
/* import.c - the groups side of the core's people import (issue #21), published in the
 * "groups" service table (atrium/groups.h, version 3): which class and course names are new or
 * taken by a group of another type, and making the imported people's memberships match the
 * file.
 *
 * The core owns the import (core/identity/user-import.c) and knows nothing of this plugin's
 * tables; it hands over one plan per group type, and this file applies it set-wise: one
 * statement each for new groups, adopted groups, removed and added memberships, whatever the
 * number of people. Only groups marked `imported` (schema/0003_imported.sql) are ever emptied
 * by an import, and only of members: class teachers (owners) and hand-made groups stay. */
#include "groups-private.h"

#include <string.h>

/* The slug rule lives here, not in model.c, because group-routes.c (a group made by hand) and
 * this file (a group made by an import) both use it, and model.c calls into this file through
 * the service table: files must not call each other in a circle (check-call-circles.py). */
/* "Physik 11 (Grundkurs)" -> "physik-11-grundkurs" */
char *
groups_slugify (const char *name)
{
        g_autofree char *ascii = g_str_to_ascii (name, "C");
        GString *s = g_string_new (NULL);
        for (const char *p = ascii; *p && s->len < 63; p++) {
                char c = g_ascii_tolower (*p);
                if (g_ascii_isalnum (c))
                        g_string_append_c (s, c);
                else if (s->len && s->str[s->len - 1] != '-')
                        g_string_append_c (s, '-');
        }
        while (s->len && s->str[s->len - 1] == '-')
                g_string_truncate (s, s->len - 1);
        if (!s->len)
                g_string_append (s, "group");
        return g_string_free (s, FALSE);
}

/* groups_publish's payload, built here for the same reason. */
static gboolean
publish (AtriumTx *tx, const char *event, const char *group_id, const char *user_id, GError **error)
{
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "group_id", group_id);
        if (user_id)
                json_object_set_string_member (o, "user_id", user_id);
        return groups_host->publish (tx, event, atrium_object_node (o), error);
}

typedef struct {
        char *id, *type, *slug;
        gboolean imported;
} Known;

static void
known_free (Known *k)
{
        g_free (k->id);
        g_free (k->type);
        g_free (k->slug);
        g_free (k);
}

/* Every group of the school by lower-case name, and every slug in use. */
static gboolean
load_groups (AtriumTx *tx, GHashTable *by_name, GHashTable *slugs, GError **error)
{
        AtriumResult *res = groups_tx_sql (
                tx, error, "SELECT id, lower(name), type, imported, slug FROM groups.groups", 0);
        if (!res)
                return FALSE;
        for (int i = 0; i < groups_host->result_n_rows (res); i++) {
                Known *k = g_new0 (Known, 1);
                k->id = g_strdup (groups_host->result_value (res, i, 0));
                k->type = g_strdup (groups_host->result_value (res, i, 2));
                k->imported = g_str_equal (groups_host->result_value (res, i, 3), "t");
                k->slug = g_strdup (groups_host->result_value (res, i, 4));
                g_hash_table_add (slugs, g_strdup (k->slug));
                g_hash_table_insert (by_name,
                                     g_utf8_strdown (groups_host->result_value (res, i, 1), -1), k);
        }
        groups_host->result_free (res);
        return TRUE;
}

static GHashTable *
names_table (void)
{
        return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_free);
}

gboolean
groups_import_check (AtriumTx *tx, const char *type, const char *const *names, char ***out_new,
                     char ***out_conflicts, GError **error)
{
        g_return_val_if_fail (type && names && out_new && out_conflicts, FALSE);
        g_autoptr (GHashTable) by_name = names_table ();
        g_autoptr (GHashTable) slugs =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        if (!load_groups (tx, by_name, slugs, error))
                return FALSE;
        g_autoptr (GPtrArray) fresh = g_ptr_array_new ();
        g_autoptr (GPtrArray) taken = g_ptr_array_new ();
        g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (const char *const *n = names; *n; n++) {
                char *key = g_utf8_strdown (*n, -1);
                if (!g_hash_table_add (seen, key))
                        continue;
                Known *k = g_hash_table_lookup (by_name, key);
                if (!k)
                        g_ptr_array_add (fresh, g_strdup (*n));
                else if (!g_str_equal (k->type, type))
                        g_ptr_array_add (taken, g_strdup (*n));
        }
        g_ptr_array_add (fresh, NULL);
        g_ptr_array_add (taken, NULL);
        *out_new = (char **) g_ptr_array_steal (fresh, NULL);
        *out_conflicts = (char **) g_ptr_array_steal (taken, NULL);
        return TRUE;
}

static char *
unique_slug (GHashTable *slugs, const char *name)
{
        g_autofree char *base = groups_slugify (name);
        if (strlen (base) > 56)
                base[56] = '\0';
        char *slug = g_strdup (base);
        for (guint n = 2; g_hash_table_contains (slugs, slug); n++) {
                g_free (slug);
                slug = g_strdup_printf ("%s-%u", base, n);
        }
        g_hash_table_add (slugs, g_strdup (slug));
        return slug;
}

static char *
json_text (JsonNode *node)
{
        g_autoptr (JsonGenerator) gen = json_generator_new ();
        json_generator_set_root (gen, node);
        return json_generator_to_data (gen, NULL);
}

/* Runs @sql with @json and @type, and publishes @event for each returned (group_id[, user_id])
 * row; the number of rows goes to @out_n. */
static gboolean
run_and_publish (AtriumTx *tx, const char *sql, const char *json, const char *type,
                 const char *event, guint *out_n, GError **error)
{
        AtriumResult *res = groups_tx_sql (tx, error, sql, 2, json, type);
        if (!res)
                return FALSE;
        int n = groups_host->result_n_rows (res);
        gboolean with_user = groups_host->result_n_cols (res) > 1;
        for (int i = 0; i < n; i++)
                if (!publish (tx, event, groups_host->result_value (res, i, 0),
                              with_user ? groups_host->result_value (res, i, 1) : NULL, error)) {
                        groups_host->result_free (res);
                        return FALSE;
                }
        groups_host->result_free (res);
        if (out_n)
                *out_n = (guint) n;
        return TRUE;
}

gboolean
groups_import_sync (AtriumTx *tx, const char *type, JsonNode *plan, guint *out_created,
                    guint *out_added, guint *out_removed, GError **error)
{
        g_return_val_if_fail (type && plan && JSON_NODE_HOLDS_ARRAY (plan), FALSE);
        if (!g_str_equal (type, "class") && !g_str_equal (type, "course"))
                return groups_fail (error, ATRIUM_ERROR_INTERNAL, "import_sync: type %s", type);
        g_autoptr (GHashTable) by_name = names_table ();
        g_autoptr (GHashTable) slugs =
                g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        if (!load_groups (tx, by_name, slugs, error))
                return FALSE;

        /* New groups (with a free slug each) and groups of this type to adopt. */
        JsonArray *fresh = json_array_new ();
        JsonArray *adopt = json_array_new ();
        g_autoptr (JsonNode) fresh_node = json_node_init_array (json_node_alloc (), fresh);
        g_autoptr (JsonNode) adopt_node = json_node_init_array (json_node_alloc (), adopt);
        json_array_unref (fresh);
        json_array_unref (adopt);
        g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        JsonArray *people = json_node_get_array (plan);
        for (guint i = 0; i < json_array_get_length (people); i++) {
                JsonObject *p = json_array_get_object_element (people, i);
                JsonArray *names = p ? json_object_get_array_member (p, "groups") : NULL;
                for (guint j = 0; names && j < json_array_get_length (names); j++) {
                        const char *name = json_array_get_string_element (names, j);
                        char *key = g_utf8_strdown (name, -1);
                        if (!g_hash_table_add (seen, key))
                                continue;
                        Known *k = g_hash_table_lookup (by_name, key);
                        if (!k) {
                                JsonObject *g = json_object_new ();
                                json_object_set_string_member (g, "name", name);
                                g_autofree char *slug = unique_slug (slugs, name);
                                json_object_set_string_member (g, "slug", slug);
                                json_array_add_object_element (fresh, g);
                        } else if (g_str_equal (k->type, type) && !k->imported) {
                                json_array_add_string_element (adopt, k->id);
                        }
                }
        }
        guint created = 0, added = 0, removed = 0;
        if (json_array_get_length (fresh)) {
                g_autofree char *json = json_text (fresh_node);
                if (!run_and_publish (tx,
                                      "INSERT INTO groups.groups (school_id, name, slug, type, "
                                      "imported) SELECT core.current_school(), x.name, x.slug, "
                                      "$2, true FROM jsonb_to_recordset($1::jsonb) "
                                      "AS x(name text, slug text) RETURNING id",
                                      json, type, "group.created", &created, error))
                        return FALSE;
        }
        if (json_array_get_length (adopt)) {
                g_autofree char *json = json_text (adopt_node);
                AtriumResult *res = groups_tx_sql (
                        tx, error,
                        "UPDATE groups.groups SET imported = true, updated_at = now() "
                        "WHERE type = $2 AND id IN "
                        "(SELECT x::uuid FROM jsonb_array_elements_text($1::jsonb) x)",
                        2, json, type);
                if (!atrium_done (groups_host, res))
                        return FALSE;
        }

        g_autofree char *plan_json = json_text (plan);
        /* Out of the import's other groups of this type (members only), then into the named
         * ones (ON CONFLICT: an owner, or a member already, stays as they are). */
        if (!run_and_publish (tx,
                              "DELETE FROM groups.members m USING groups.groups g, "
                              "jsonb_to_recordset($1::jsonb) AS p(user_id uuid, groups jsonb) "
                              "WHERE g.school_id = m.school_id AND g.id = m.group_id "
                              "AND g.type = $2 AND g.imported AND m.role = 'member' "
                              "AND m.user_id = p.user_id AND NOT EXISTS (SELECT 1 FROM "
                              "jsonb_array_elements_text(p.groups) n WHERE lower(n) = "
                              "lower(g.name)) RETURNING m.group_id, m.user_id",
                              plan_json, type, "group.member_removed", &removed, error) ||
            !run_and_publish (tx,
                              "INSERT INTO groups.members (school_id, group_id, user_id, role) "
                              "SELECT DISTINCT core.current_school(), g.id, p.user_id, 'member' "
                              "FROM jsonb_to_recordset($1::jsonb) AS p(user_id uuid, groups "
                              "jsonb) CROSS JOIN LATERAL jsonb_array_elements_text(p.groups) n "
                              "JOIN groups.groups g ON lower(g.name) = lower(n) AND g.type = $2 "
                              "ON CONFLICT DO NOTHING RETURNING group_id, user_id",
                              plan_json, type, "group.member_added", &added, error))
                return FALSE;
        if (out_created)
                *out_created = created;
        if (out_added)
                *out_added = added;
        if (out_removed)
                *out_removed = removed;
        return TRUE;
}
