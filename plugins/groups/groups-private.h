/* SPDX-License-Identifier: Apache-2.0 */
/* groups-private.h - shared by the groups plugin's files: plugin.c (descriptor, init: the
 * wiring), model.c (what the others call: events, visibility, the service table, GDPR),
 * group-routes.c (groups and their permissions), member-routes.c (membership). */
#pragma once

#include <atrium/atrium.h>
#include <atrium/groups.h>

extern const AtriumHost *groups_host;

/* Shorthands over the host table (atrium/helpers.h), within the request's transaction. */
#define groups_tx_sql(tx, error, ...) atrium_queryv (groups_host, (tx), (error), __VA_ARGS__)
#define groups_sql(...) atrium_request_queryv (groups_host, __VA_ARGS__)
#define groups_fail atrium_fail

/* The caller's role in @group_id (NONE if not a member or no such group). */
gboolean groups_caller_role (AtriumRequest *req, const char *group_id, AtriumGroupRole *out_role,
                             GError **error);
/* The group as the API shows it, or a NOT_FOUND error. Members of the group and holders of
 * groups.read may see it; anyone else gets NOT_FOUND too (a group's existence is not public). */
JsonNode *groups_fetch_visible (AtriumRequest *req, const char *group_id, GError **error);
/* TRUE if the caller may manage @group_id's membership: groups.manage or owner. */
gboolean groups_may_manage (AtriumRequest *req, const char *group_id, GError **error);

gboolean groups_publish (AtriumTx *tx, const char *event, const char *group_id,
                         const char *user_id, GError **error);

/* import.c: the service table's import_check and import_sync (atrium/groups.h), and the slug
 * rule: "Physik 11 (Grundkurs)" -> "physik-11-grundkurs" (transfer full; never empty). */
char *groups_slugify (const char *name);
gboolean groups_import_check (AtriumTx *tx, const char *type, const char *const *names,
                              char ***out_new, char ***out_conflicts, GError **error);
gboolean groups_import_sync (AtriumTx *tx, const char *type, JsonNode *plan, guint *out_created,
                             guint *out_added, guint *out_removed, GError **error);

/* model.c: the "groups" service table (atrium/groups.h) and the GDPR export hook. */
extern const AtriumGroupsService groups_service;
gboolean groups_user_export (AtriumPlugin *self, AtriumTx *tx, const char *user_id, JsonObject *out,
                             GError **error);

/* The route files' tables, registered by plugin.c. */
gboolean groups_register_group_routes (AtriumPlugin *self, GError **error);
gboolean groups_register_member_routes (AtriumPlugin *self, GError **error);

/* A group as GROUP_COLUMNS shows it (and a list adds the caller's role), for response_schema. */
#define GROUP_ANSWER                                                                               \
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"   \
        "\"name\":{\"type\":\"string\"},\"slug\":{\"type\":\"string\"},"                           \
        "\"type\":{\"type\":\"string\",\"enum\":[\"class\",\"course\",\"workgroup\",\"staff\","    \
        "\"custom\"]},\"description\":{\"type\":[\"string\",\"null\"]},"                           \
        "\"parent_id\":{\"type\":[\"string\",\"null\"]},"                                          \
        "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                           \
        "\"member_count\":{\"type\":\"integer\"},"                                                 \
        "\"my_role\":{\"type\":[\"string\",\"null\"],\"description\":\"lists: the caller's role "  \
        "in the group (owner, member), null when not a member\"}}}"
#define GROUP_COLUMNS                                                                           \
        "g.id, g.name, g.slug, g.type, g.description, g.parent_id, g.created_at, g.updated_at, " \
        "(SELECT count(*) FROM groups.members m WHERE m.group_id = g.id) AS member_count"
