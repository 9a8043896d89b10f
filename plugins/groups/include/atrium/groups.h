/* SPDX-License-Identifier: Apache-2.0 */
/* groups.h - the service table the groups plugin publishes for other plugins: "is this user a
 * member of that group?", and the lists behind it. Installed with the plugin headers; a plugin
 * that needs it declares a dependency on "groups" and looks the table up in init:
 *
 *   groups = host->lookup_service (self, ATRIUM_GROUPS_SERVICE, ATRIUM_GROUPS_SERVICE_VERSION);
 *
 * Every call runs inside the caller's transaction (@tx), so it sees the caller's school only
 * (row-level security) and its own uncommitted changes. Versioning follows abi.h: functions are
 * only ever appended (check header.struct_size before using a newer one); the version number
 * passed to lookup_service is bumped with each append. */
#pragma once

#include <atrium/atrium.h>

G_BEGIN_DECLS

#define ATRIUM_GROUPS_SERVICE "groups"
#define ATRIUM_GROUPS_SERVICE_VERSION 5

typedef enum {
        ATRIUM_GROUP_ROLE_NONE = 0,   /* not a member */
        ATRIUM_GROUP_ROLE_MEMBER = 1,
        ATRIUM_GROUP_ROLE_OWNER = 2,
} AtriumGroupRole;

typedef struct {
        AtriumStructHeader header;

        /* Membership of @user_id in @group_id: writes the role to @out_role (NONE when not a
         * member, or when the group does not exist). FALSE only on a database error. */
        gboolean (*is_member) (AtriumTx *tx, const char *group_id, const char *user_id,
                               AtriumGroupRole *out_role, GError **error);
        /* Returns: (transfer full) (nullable): NULL-terminated user ids of the group's members,
         * owners first; NULL with @error on failure. An unknown group has no members. */
        char **(*members_of) (AtriumTx *tx, const char *group_id, GError **error);
        /* Returns: (transfer full) (nullable): NULL-terminated ids of the user's groups. */
        char **(*groups_of) (AtriumTx *tx, const char *user_id, GError **error);
        /* Writes whether the group exists in the transaction's school to @out_exists. */
        gboolean (*group_exists) (AtriumTx *tx, const char *group_id, gboolean *out_exists,
                                  GError **error);

        /* ---- version 2 ---- */

        /* The id of the group with this slug in the transaction's school (transfer full),
         * or NULL in @out_id when there is none. FALSE only on a database error. */
        gboolean (*group_by_slug) (AtriumTx *tx, const char *slug, char **out_id,
                                   GError **error);

        /* ---- version 3: the core's people import (issue #21) ---- */

        /* Which of @names (NULL-terminated, compared case-insensitively) a group of @type would
         * have to be created for (@out_new), and which a group of another type holds, so that
         * @type cannot use them (@out_conflicts). Both (transfer full), NULL-terminated, in
         * @names' order. Writes nothing. FALSE only on a database error. */
        gboolean (*import_check) (AtriumTx *tx, const char *type, const char *const *names,
                                  char ***out_new, char ***out_conflicts, GError **error);
        /* Makes the `member` memberships of the people in @plan match it for groups of @type
         * ("class" or "course"). @plan (transfer none): a JSON array of
         * {"user_id": "<uuid>", "groups": ["<name>", ...]}. Creates the named groups that do
         * not exist and adopts those of @type that do (both marked as kept by the import),
         * adds each person to their groups (an owner stays owner), and removes them as members
         * from every other group of @type the import keeps. People not in @plan, owners, and
         * groups made by hand are never changed; names held by a group of another type are
         * skipped. Publishes group.created, group.member_added and group.member_removed.
         * Counts go to the (nullable) out parameters. FALSE only on a database error. */
        gboolean (*import_sync) (AtriumTx *tx, const char *type, JsonNode *plan, guint *out_created,
                                 guint *out_added, guint *out_removed, GError **error);

        /* ---- version 4: the files plugin's WebDAV tree (issue #18) ---- */

        /* The slug and the name of group @group_id in the transaction's school, both
         * (transfer full), or NULL in both when there is none. FALSE only on a database
         * error. */
        gboolean (*group_names) (AtriumTx *tx, const char *group_id, char **out_slug,
                                 char **out_name, GError **error);

        /* ---- version 5: resets by teachers (issue #20) ---- */

        /* The ids of the groups that @user_a and @user_b are both members of (any role), of
         * the types in @types (NULL-terminated: "class", "course", "workgroup", "staff",
         * "custom"; NULL for any type), in @out_ids (transfer full, NULL-terminated, empty
         * when they share none). FALSE only on a database error. */
        gboolean (*shared_groups) (AtriumTx *tx, const char *user_a, const char *user_b,
                                   const char *const *types, char ***out_ids, GError **error);
} AtriumGroupsService;

G_END_DECLS
